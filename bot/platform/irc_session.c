/* irc_session.c - one IRC client session as a state machine, with no I/O (see irc_session.h). */
#include "irc_session.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

enum {
    CHANNELS_MAX = 64,
    ACCOUNTS_MAX = 4096, /* nicks whose account planbot remembers (without account-tag) */
    HELD_MAX = 32,       /* questions held until planbot's WHOX queries are answered */
    CHAN_NAME_MAX = 200
};

/* Marks the replies to planbot's own WHOX queries. */
static const char whox_token[] = "152";

/* The capabilities planbot asks for, where offered. */
enum cap {
    CAP_SASL = 1 << 0,
    CAP_MESSAGE_TAGS = 1 << 1,
    CAP_ACCOUNT_TAG = 1 << 2,
    CAP_SERVER_TIME = 1 << 3,
    CAP_ECHO = 1 << 4,
    CAP_ACCOUNT_NOTIFY = 1 << 5,
    CAP_EXTENDED_JOIN = 1 << 6
};

static const struct {
    const char *name;
    unsigned bit;
} caps[] = {
    { "sasl", CAP_SASL },
    { "message-tags", CAP_MESSAGE_TAGS },
    { "account-tag", CAP_ACCOUNT_TAG },
    { "server-time", CAP_SERVER_TIME },
    { "echo-message", CAP_ECHO },
    { "account-notify", CAP_ACCOUNT_NOTIFY },
    { "extended-join", CAP_EXTENDED_JOIN },
};

struct chan {
    char name[CHAN_NAME_MAX];
    int joined;
    int who_pending; /* planbot's WHOX of it is not answered yet (no 315) */
};

/* A question from someone whose account was not known yet while a WHOX was under way: it waits
 * for the answer, which may say that they are a moderator. */
struct held {
    char nick[IRC_NAME_MAX];
    char reply_to[CHAN_NAME_MAX]; /* a channel, or the asker's nick */
    int direct;
    char text[IRC_LINE_MAX];
    size_t len;
};

struct account {
    char nick[IRC_NAME_MAX];
    char account[IRC_NAME_MAX];
};

struct irc_session {
    char want_nick[IRC_NAME_MAX], user[IRC_NAME_MAX], realname[128], prefix[32];
    char *password, *sasl_account, *sasl_password; /* owned; wiped when freed */
    struct chan chans[CHANNELS_MAX];
    size_t nchans;
    /* the connection's state */
    char nick[IRC_NAME_MAX];
    unsigned offered, enabled; /* enum cap */
    int cap_done;              /* CAP END sent (or the server has no CAP) */
    int sasl_retry;            /* asked for sasl alone after a NAK */
    int registered;
    int tries; /* nicks tried while registering */
    int whox;  /* the server does WHOX */
    size_t user_host_len;
    struct account *accounts; /* owned, without account-tag: nick -> account */
    size_t naccounts;
    struct held *held;               /* owned, HELD_MAX: questions waiting for a WHOX */
    size_t nheld, held_next;         /* held[held_next..nheld) wait */
    char held_account[IRC_NAME_MAX]; /* the account of the question last released */
};

static char *dup_or_null(const char *s, int *bad)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *bad = 1;
    return d;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void irc_session_free(struct irc_session *s)
{
    if (!s)
        return;
    wipe_free(s->password);
    wipe_free(s->sasl_account);
    wipe_free(s->sasl_password);
    free(s->accounts);
    if (s->held)
        memset(s->held, 0, HELD_MAX * sizeof *s->held); /* people's words */
    free(s->held);
    free(s);
}

struct irc_session *irc_session_new(const struct irc_session_config *c)
{
    struct irc_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    const char *user = c->user ? c->user : c->nick;
    const char *real = c->realname ? c->realname : "planbot";
    const char *prefix = c->prefix ? c->prefix : "";
    int bad = !c->nick || strlen(c->nick) >= sizeof s->want_nick ||
              strlen(user) >= sizeof s->user || strlen(real) >= sizeof s->realname ||
              strlen(prefix) >= sizeof s->prefix;
    if (!bad) {
        snprintf(s->want_nick, sizeof s->want_nick, "%s", c->nick);
        snprintf(s->user, sizeof s->user, "%s", user);
        snprintf(s->realname, sizeof s->realname, "%s", real);
        snprintf(s->prefix, sizeof s->prefix, "%s", prefix);
        s->password = dup_or_null(c->password, &bad);
        s->sasl_account = dup_or_null(c->sasl_account, &bad);
        s->sasl_password = dup_or_null(c->sasl_password ? c->sasl_password : "", &bad);
    }
    for (const char *p = c->channels; !bad && p && *p;) {
        size_t n = strcspn(p, ",");
        if (n) {
            if (s->nchans == CHANNELS_MAX || n >= sizeof s->chans[0].name)
                bad = 1;
            else
                snprintf(s->chans[s->nchans++].name, sizeof s->chans[0].name, "%.*s", (int)n, p);
        }
        p += n + (p[n] == ',');
    }
    if (bad) {
        irc_session_free(s);
        return NULL;
    }
    return s;
}

int irc_session_registered(const struct irc_session *s)
{
    return s->registered;
}

const char *irc_session_nick(const struct irc_session *s)
{
    return s->nick;
}

size_t irc_session_user_host_len(const struct irc_session *s)
{
    return s->user_host_len;
}

int irc_session_knows_accounts(const struct irc_session *s)
{
    return (s->enabled & CAP_ACCOUNT_TAG) ||
           ((s->enabled & CAP_ACCOUNT_NOTIFY) && (s->enabled & CAP_EXTENDED_JOIN));
}

static int line1(struct buf *out, const char *cmd, const char *a)
{
    const char *p[] = { a };
    return irc_line(out, cmd, a ? 1 : 0, p);
}

static int line2(struct buf *out, const char *cmd, const char *a, const char *b)
{
    const char *p[] = { a, b };
    return irc_line(out, cmd, 2, p);
}

int irc_session_begin(struct irc_session *s, struct buf *out)
{
    snprintf(s->nick, sizeof s->nick, "%s", s->want_nick);
    s->offered = s->enabled = 0;
    s->cap_done = s->sasl_retry = s->registered = s->tries = s->whox = 0;
    s->user_host_len = 0;
    s->naccounts = 0;
    for (size_t i = 0; i < s->nchans; i++)
        s->chans[i].joined = s->chans[i].who_pending = 0;
    const char *user[] = { s->user, "0", "*", s->realname };
    int rc = irc_line(out, "CAP", 2, (const char *[]){ "LS", "302" });
    if (!rc && s->password)
        rc = line1(out, "PASS", s->password);
    if (!rc)
        rc = line1(out, "NICK", s->nick);
    if (!rc)
        rc = irc_line(out, "USER", 4, user);
    return rc;
}

/* ---- accounts, without account-tag ---- */

static struct account *account_find(struct irc_session *s, const char *nick)
{
    for (size_t i = 0; i < s->naccounts; i++)
        if (irc_name_eq(s->accounts[i].nick, nick))
            return &s->accounts[i];
    return NULL;
}

static void account_forget(struct irc_session *s, const char *nick)
{
    struct account *a = account_find(s, nick);
    if (a)
        *a = s->accounts[--s->naccounts];
}

/* Notes nick's account ("*" or "0" or "": none). */
static void account_note(struct irc_session *s, const char *nick, const char *account)
{
    if (!*account || strcmp(account, "*") == 0 || strcmp(account, "0") == 0) {
        account_forget(s, nick);
        return;
    }
    struct account *a = account_find(s, nick);
    if (!a) {
        if (!s->accounts && !(s->accounts = calloc(ACCOUNTS_MAX, sizeof *s->accounts)))
            return;
        if (s->naccounts == ACCOUNTS_MAX)
            return; /* not remembered: that user is no moderator until then */
        a = &s->accounts[s->naccounts++];
    }
    snprintf(a->nick, sizeof a->nick, "%s", nick);
    snprintf(a->account, sizeof a->account, "%s", account);
}

static void account_rename(struct irc_session *s, const char *from, const char *to)
{
    if (!account_find(s, from))
        return;
    if (!irc_name_eq(from, to))
        account_forget(s, to);                 /* a stale entry under the new nick */
    struct account *a = account_find(s, from); /* forgetting may have moved it */
    snprintf(a->nick, sizeof a->nick, "%s", to);
}

/* ---- capabilities ---- */

static unsigned cap_bit(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (strlen(caps[i].name) == n && memcmp(caps[i].name, name, n) == 0)
            return caps[i].bit;
    return 0;
}

/* The capabilities a space-separated list names ("sasl=PLAIN,EXTERNAL" counts as sasl when it
 * lists PLAIN, or lists nothing). */
static unsigned cap_list(const char *list)
{
    unsigned bits = 0;
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        const char *eq = memchr(p, '=', n);
        size_t name = eq ? (size_t)(eq - p) : n;
        if (*p == '-') { /* a capability taken back (ACK of -cap) */
            p += n;
            continue;
        }
        unsigned bit = cap_bit(p, name);
        if (bit == CAP_SASL && eq) {
            size_t vlen = n - name - 1;
            char v[128];
            snprintf(v, sizeof v, ",%.*s,", (int)(vlen < 120 ? vlen : 120), eq + 1);
            if (!strstr(v, ",PLAIN,"))
                bit = 0;
        }
        bits |= bit;
        p += n;
    }
    return bits;
}

static int fatal(struct irc_event *ev, const char *fmt, ...) BUF_PRINTF(2, 3);

static int fatal(struct irc_event *ev, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ev->kind = IRC_EV_FATAL;
    vsnprintf(ev->why, sizeof ev->why, fmt, ap);
    va_end(ap);
    return 0;
}

static int cap_end(struct irc_session *s, struct buf *out)
{
    s->cap_done = 1;
    return line1(out, "CAP", "END");
}

/* Asks for what is offered and wanted, or ends the negotiation. */
static int cap_request(struct irc_session *s, struct buf *out, struct irc_event *ev)
{
    unsigned want = s->offered & ~(unsigned)CAP_SASL;
    if (s->sasl_account) {
        if (!(s->offered & CAP_SASL))
            return fatal(ev,
                         "the server offers no SASL PLAIN, so planbot cannot log in to the "
                         "account %s (irc.account)",
                         s->sasl_account);
        want |= CAP_SASL;
    }
    if (!want)
        return cap_end(s, out);
    char list[256] = "";
    size_t at = 0;
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        if (want & caps[i].bit)
            at +=
                (size_t)snprintf(list + at, sizeof list - at, "%s%s", at ? " " : "", caps[i].name);
    return line2(out, "CAP", "REQ", list);
}

static int on_cap(struct irc_session *s, struct irc_msg *m, struct buf *out, struct irc_event *ev)
{
    if (m->nparams < 3)
        return 0;
    const char *sub = m->params[1];
    int more = m->nparams >= 4 && strcmp(m->params[2], "*") == 0;
    const char *list = m->params[m->nparams - 1];
    if (strcmp(sub, "LS") == 0 && !s->cap_done && !s->registered) {
        s->offered |= cap_list(list);
        return more ? 0 : cap_request(s, out, ev);
    }
    if (strcmp(sub, "ACK") == 0) {
        s->enabled |= cap_list(list);
        if (more || s->cap_done)
            return 0;
        if (s->sasl_account && (s->enabled & CAP_SASL))
            return line1(out, "AUTHENTICATE", "PLAIN");
        return cap_end(s, out);
    }
    if (strcmp(sub, "NAK") == 0 && !s->cap_done) {
        if (s->sasl_account && !s->sasl_retry) { /* one refused: ask for the one that matters */
            s->sasl_retry = 1;
            return line2(out, "CAP", "REQ", "sasl");
        }
        if (s->sasl_account)
            return fatal(ev, "the server refused SASL, so planbot cannot log in to the account %s",
                         s->sasl_account);
        return cap_end(s, out);
    }
    return 0;
}

/* ---- channels ---- */

static struct chan *chan_find(struct irc_session *s, const char *name)
{
    for (size_t i = 0; i < s->nchans; i++)
        if (irc_name_eq(s->chans[i].name, name))
            return &s->chans[i];
    return NULL;
}

int irc_session_rejoin(struct irc_session *s, struct buf *out)
{
    if (!s->registered)
        return 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < s->nchans; i++)
        if (!s->chans[i].joined)
            rc = line1(out, "JOIN", s->chans[i].name);
    if (!rc && !irc_name_eq(s->nick, s->want_nick))
        rc = line1(out, "NICK", s->want_nick);
    return rc;
}

/* The next nick to try while the wanted one is taken: nick_, nick__, then nick and digits. */
static int next_nick(struct irc_session *s, struct buf *out)
{
    s->tries++;
    size_t base = strlen(s->want_nick);
    if (base > 20)
        base = 20;
    if (s->tries <= 2)
        snprintf(s->nick, sizeof s->nick, "%.*s%s", (int)base, s->want_nick,
                 s->tries == 1 ? "_" : "__");
    else
        snprintf(s->nick, sizeof s->nick, "%.*s%d", (int)base, s->want_nick,
                 (s->tries * 7919) % 1000);
    return line1(out, "NICK", s->nick);
}

/* ---- messages ---- */

static int is_self(const struct irc_session *s, const struct irc_msg *m)
{
    return irc_name_eq(m->nick, s->nick);
}

/* Whether planbot's WHOX of channel is under way (NULL: of any channel). */
static int who_pending(const struct irc_session *s, const char *channel)
{
    for (size_t i = 0; i < s->nchans; i++)
        if (s->chans[i].who_pending && (!channel || irc_name_eq(s->chans[i].name, channel)))
            return 1;
    return 0;
}

/* Holds a question until the WHOX queries are answered; 0 when it cannot (the queue is full,
 * or out of memory): it is then asked at once, as from someone with no account. */
static int hold(struct irc_session *s, const char *nick, const char *reply_to, int direct,
                const char *text, size_t len)
{
    if (s->held_next == s->nheld)
        s->held_next = s->nheld = 0;
    if (s->nheld == HELD_MAX || len >= sizeof s->held->text || strlen(reply_to) >= CHAN_NAME_MAX)
        return 0;
    if (!s->held && !(s->held = calloc(HELD_MAX, sizeof *s->held)))
        return 0;
    struct held *h = &s->held[s->nheld++];
    snprintf(h->nick, sizeof h->nick, "%s", nick);
    snprintf(h->reply_to, sizeof h->reply_to, "%s", reply_to);
    h->direct = direct;
    memcpy(h->text, text, len);
    h->text[len] = '\0';
    h->len = len;
    return 1;
}

int irc_session_held(struct irc_session *s, int now, struct irc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    if (s->held_next == s->nheld || (!now && who_pending(s, NULL)))
        return 0;
    const struct held *h = &s->held[s->held_next++];
    const struct account *a = account_find(s, h->nick);
    snprintf(s->held_account, sizeof s->held_account, "%s", a ? a->account : "");
    ev->kind = IRC_EV_QUESTION;
    ev->nick = h->nick;
    ev->account = s->held_account;
    ev->reply_to = h->reply_to;
    ev->direct = h->direct;
    ev->text = h->text;
    ev->len = h->len;
    return 1;
}

size_t irc_session_holding(const struct irc_session *s)
{
    return s->nheld - s->held_next;
}

static void on_privmsg(struct irc_session *s, struct irc_msg *m, struct irc_event *ev)
{
    if (m->nparams < 2 || !strchr(m->source, '!') || !m->nick[0] || is_self(s, m))
        return; /* from a server, from no nick to answer (":!u@h"), or planbot's own */
    const char *target = m->params[0];
    char *text = (char *)m->params[1]; /* into m's own copy */
    size_t len = strlen(text);
    if (irc_is_ctcp(text, len))
        return; /* ACTION, VERSION, DCC: not questions, and never answered */
    len = irc_strip_format(text, len);
    int direct = irc_name_eq(target, s->nick);
    size_t start = 0;
    if (!direct && !irc_addressed(text, len, s->nick, s->prefix, &start))
        return;
    while (start < len && text[start] == ' ')
        start++;
    if (start == len)
        return;
    const char *account = "";
    if (s->enabled & CAP_ACCOUNT_TAG) {
        account = m->account;
    } else if (irc_session_knows_accounts(s)) {
        const struct account *a = account_find(s, m->nick);
        account = a ? a->account : "";
        /* not known yet, perhaps only because the WHOX that would say is under way */
        if (!a && who_pending(s, direct ? NULL : target) &&
            hold(s, m->nick, direct ? m->nick : target, direct, text + start, len - start))
            return;
    }
    ev->kind = IRC_EV_QUESTION;
    ev->nick = m->nick;
    ev->account = account;
    ev->reply_to = direct ? m->nick : target;
    ev->direct = direct;
    ev->text = text + start;
    ev->len = len - start;
}

/* Reads RPL_ISUPPORT for WHOX. */
static void on_isupport(struct irc_session *s, const struct irc_msg *m)
{
    for (int i = 1; i < m->nparams - 1; i++)
        if (strcmp(m->params[i], "WHOX") == 0)
            s->whox = 1;
}

static int on_join(struct irc_session *s, struct irc_msg *m, struct buf *out, struct irc_event *ev)
{
    if (m->nparams < 1)
        return 0;
    const char *name = m->params[0];
    if (!is_self(s, m)) {
        if ((s->enabled & CAP_EXTENDED_JOIN) && m->nparams >= 2)
            account_note(s, m->nick, m->params[1]);
        return 0;
    }
    const char *at = strchr(m->source, '!');
    if (at)
        s->user_host_len = strlen(at + 1);
    struct chan *c = chan_find(s, name);
    if (c)
        c->joined = 1;
    ev->kind = IRC_EV_JOINED;
    ev->channel = name;
    /* who is in it, and their accounts, when no tag will say */
    if (!(s->enabled & CAP_ACCOUNT_TAG) && irc_session_knows_accounts(s) && s->whox) {
        char fields[32];
        snprintf(fields, sizeof fields, "%%tna,%s", whox_token);
        int rc = line2(out, "WHO", name, fields);
        if (!rc && c)
            c->who_pending = 1;
        return rc;
    }
    return 0;
}

static void left(struct irc_session *s, const char *name, struct irc_event *ev, const char *how,
                 const char *by)
{
    struct chan *c = chan_find(s, name);
    if (!c)
        return;
    c->joined = c->who_pending = 0;
    ev->kind = IRC_EV_LEFT;
    ev->channel = c->name;
    snprintf(ev->why, sizeof ev->why, "%s %s", how, by);
}

int irc_session_take(struct irc_session *s, struct irc_msg *m, struct buf *out,
                     struct irc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    const char *cmd = m->command;
    const char *p0 = m->nparams > 0 ? m->params[0] : "";
    const char *last = m->nparams > 0 ? m->params[m->nparams - 1] : "";
    if (strcmp(cmd, "PING") == 0)
        return line1(out, "PONG", m->nparams ? p0 : NULL);
    if (strcmp(cmd, "PRIVMSG") == 0) {
        on_privmsg(s, m, ev);
        return 0;
    }
    if (strcmp(cmd, "CAP") == 0)
        return on_cap(s, m, out, ev);
    if (strcmp(cmd, "AUTHENTICATE") == 0 && strcmp(p0, "+") == 0 && s->sasl_account)
        return irc_sasl_plain(out, s->sasl_account, s->sasl_password);
    if (strcmp(cmd, "903") == 0 || strcmp(cmd, "907") == 0) /* logged in (or already) */
        return s->cap_done ? 0 : cap_end(s, out);
    if (strcmp(cmd, "904") == 0 || strcmp(cmd, "905") == 0 || strcmp(cmd, "906") == 0)
        return fatal(ev,
                     "services refused to log planbot in to the account %s: check the account "
                     "and its password (IRC_SASL_PASSWORD)",
                     s->sasl_account ? s->sasl_account : "");
    if (strcmp(cmd, "908") == 0)
        return fatal(ev, "the server does not take SASL PLAIN (it offers %s)", p0);
    if (strcmp(cmd, "001") == 0) {
        if (s->sasl_account && !(s->enabled & CAP_SASL))
            return fatal(ev,
                         "the server registered planbot without SASL, so it is not logged in "
                         "to the account %s",
                         s->sasl_account);
        s->registered = 1;
        s->cap_done = 1;
        if (*p0)
            snprintf(s->nick, sizeof s->nick, "%s", p0);
        ev->kind = IRC_EV_WELCOME;
        return irc_session_rejoin(s, out);
    }
    if (strcmp(cmd, "005") == 0) {
        on_isupport(s, m);
        return 0;
    }
    if (strcmp(cmd, "396") == 0 && m->nparams >= 2) { /* the host others see */
        s->user_host_len = strlen(s->user) + 2 + strlen(m->params[1]);
        return 0;
    }
    if (strcmp(cmd, "433") == 0 || strcmp(cmd, "437") == 0) { /* nick in use */
        if (!s->registered)
            return s->tries < 8 ? next_nick(s, out)
                                : fatal(ev, "every nick planbot tried is in use (irc.nick %s)",
                                        s->want_nick);
        return 0; /* asking for the wanted nick back: it is still taken */
    }
    if (strcmp(cmd, "432") == 0 && !s->registered)
        return fatal(ev, "the server does not accept the nick %s (irc.nick)", s->nick);
    if (strcmp(cmd, "464") == 0)
        return fatal(ev, "%s", "the server refused the password (IRC_PASSWORD)");
    if (strcmp(cmd, "465") == 0)
        return fatal(ev, "the server has banned planbot: %s", last);
    if (strcmp(cmd, "JOIN") == 0)
        return on_join(s, m, out, ev);
    if (strcmp(cmd, "PART") == 0 && is_self(s, m)) {
        left(s, p0, ev, "made to leave by", "the server");
        return 0;
    }
    if (strcmp(cmd, "KICK") == 0 && m->nparams >= 2 && irc_name_eq(m->params[1], s->nick)) {
        char by[IRC_NAME_MAX + 140];
        snprintf(by, sizeof by, "%s (%.128s)", m->nick, m->nparams >= 3 ? m->params[2] : "");
        left(s, p0, ev, "kicked by", by);
        return 0;
    }
    if (strcmp(cmd, "NICK") == 0 && m->nparams >= 1) {
        if (is_self(s, m))
            snprintf(s->nick, sizeof s->nick, "%s", p0);
        else
            account_rename(s, m->nick, p0);
        return 0;
    }
    if (strcmp(cmd, "QUIT") == 0) {
        account_forget(s, m->nick);
        return 0;
    }
    if (strcmp(cmd, "ACCOUNT") == 0 && m->nparams >= 1) {
        account_note(s, m->nick, p0);
        return 0;
    }
    if (strcmp(cmd, "354") == 0 && m->nparams >= 4 && strcmp(m->params[1], whox_token) == 0) {
        account_note(s, m->params[2], m->params[3]);
        return 0;
    }
    if (strcmp(cmd, "315") == 0 && m->nparams >= 2) { /* the end of a WHO's replies */
        struct chan *c = chan_find(s, m->params[1]);
        if (c)
            c->who_pending = 0;
        return 0;
    }
    if (strcmp(cmd, "471") == 0 || strcmp(cmd, "473") == 0 || strcmp(cmd, "474") == 0 ||
        strcmp(cmd, "475") == 0 || strcmp(cmd, "477") == 0 || strcmp(cmd, "403") == 0 ||
        strcmp(cmd, "405") == 0 || strcmp(cmd, "489") == 0) {
        if (m->nparams >= 2) {
            ev->kind = IRC_EV_JOIN_FAILED;
            ev->channel = m->params[1];
            snprintf(ev->why, sizeof ev->why, "%s", last);
        }
        return 0;
    }
    if (strcmp(cmd, "ERROR") == 0) {
        ev->kind = IRC_EV_CLOSING;
        snprintf(ev->why, sizeof ev->why, "%s", last);
    }
    return 0;
}
