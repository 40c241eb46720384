/* irc.c - the IRC adapter: one connection to an IRC server over TCP, TLS or WebSocket, through
 * the event loop.
 *
 * The URL's scheme picks the transport: irc:// (TCP), ircs:// (TLS), ws:// and wss:// (IRCv3
 * WebSocket, one line per text frame, with the text.ircv3.net and text.inspircd.org subprotocols
 * offered). The protocol is irc_session.c's, fed the lines irc_codec.c reads; this file only moves
 * bytes, keeps time and posts replies. Replies go through the shared outbox one part at a time,
 * each line a PRIVMSG under the server's 512-byte limit, released by a token bucket (a burst,
 * then one line every line_ms) so that planbot never trips the server's flood limit. A quiet
 * server is pinged, and dropped when it stays silent; a lost connection is made again with
 * backoff. IRC does not redeliver what a client missed, so there is nothing to record: a
 * question is answered as it comes.
 *
 * A user's id (plat_message.user) is their services account when the server says they are
 * logged in to one, and "nick:NICK" when not: the configuration's moderators are accounts, and
 * an id with a colon can never be listed (config.c refuses it), so a nick never has rights. */
#include "plat.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "irc_codec.h"
#include "irc_session.h"
#include "log.h"
#include "outbox.h"
#include "reconnect.h"
#include "resolver.h"
#include "stream.h"
#include "ws.h"

enum {
    OUTBOX_MAX = 100000, /* parts waiting; more is ERR_TOOBIG */
    STOP_GRACE_MS = 5000,
    BACKOFF_CAP_MS = 120000,
    STABLE_MS = 30000,           /* a connection that served this long resets the backoff */
    REGISTER_TIMEOUT_MS = 60000, /* a server that does not welcome planbot in this long: dropped */
    TICK_MS = 1000,              /* the keepalive's and the line bucket's clock */
    REJOIN_EVERY_MS = 60000,     /* channels planbot should be in but is not: joined this often */
    HOLD_MAX_MS = 10000,         /* a question held for a WHOX's answer waits at most this long */
    USER_HOST_MAX = 74,          /* user@host at its longest, while the server has not shown it */
    ROOM_MIN = 64                /* bytes a line must leave for text */
};

enum transport { T_TCP, T_TLS, T_WS, T_WSS };

struct plat {
    struct plat_host host;
    struct loop *loop;
    struct resolver *resolver; /* owned: looks the server's name up off the loop */
    enum transport transport;
    char host_name[256];
    int port;
    char ws_url[1024];
    int line_ms, burst, ping_secs, timeout_secs, rejoin_secs;
    int bold_citations;          /* irc.bold_citations: answers' citations in bold */
    struct irc_session *session; /* owned */
    struct irc_reader *reader;   /* owned */
    struct stream *stream;       /* the connection over TCP or TLS, or NULL */
    struct ws *ws;               /* the connection over WebSocket, or NULL */
    int opening;                 /* a look-up or a connection under way */
    int64_t connected_at, welcomed_at, last_rx, pinged_at;
    struct reconnect rc;
    struct loop_timer *retry; /* the next connection */
    struct loop_timer *tick;  /* keepalive, bucket, rejoin */
    int64_t next_rejoin;
    int64_t held_since; /* when the session began holding questions (0: it holds none) */
    volatile sig_atomic_t *stop;
    int stopping, fatal, quit_sent;
    int64_t stop_deadline;
    struct outbox *outbox; /* owned */
    /* the part being posted: its lines, released by the bucket */
    struct outbox_item *item;
    struct buf lines;   /* the part's PRIVMSG lines, CR LF after each */
    size_t lines_at;    /* bytes of lines already released */
    double tokens;      /* lines that may go now */
    int64_t tokens_at;  /* when tokens was last refilled */
    struct buf out;     /* scratch: what the session writes */
    struct irc_msg msg; /* scratch: the line being read (large) */
};

static void want_connection(struct plat *p, int64_t delay);
static void stop_serving(struct plat *p);
static void release(struct plat *p);

static void fail(struct plat *p, const char *why)
{
    log_msg(LOG_ERROR, "irc: %s; stopping", why);
    p->fatal = 1;
    stop_serving(p);
}

/* ---- the connection ---- */

static int link_open(const struct plat *p)
{
    return p->stream ? stream_is_open(p->stream) : p->ws ? ws_is_open(p->ws) : 0;
}

static void link_abort(struct plat *p)
{
    if (p->stream)
        stream_abort(p->stream);
    else if (p->ws)
        ws_abort(p->ws);
}

/* Sends lines (each ending CR LF): as they are over TCP, one frame each over WebSocket. */
static int link_send(struct plat *p, const char *data, size_t len)
{
    if (p->stream)
        return stream_send(p->stream, data, len);
    if (!p->ws)
        return ERR_IO;
    while (len) {
        const char *nl = memchr(data, '\n', len);
        size_t n = nl ? (size_t)(nl - data) + 1 : len, body = n;
        while (body && (data[body - 1] == '\n' || data[body - 1] == '\r'))
            body--;
        int rc = body ? ws_send(p->ws, data, body) : 0;
        if (rc)
            return rc;
        data += n;
        len -= n;
    }
    return 0;
}

/* Sends what the session wrote into p->out. */
static void flush_out(struct plat *p)
{
    if (!p->out.len)
        return;
    int rc = link_send(p, p->out.data, p->out.len);
    buf_reset(&p->out);
    if (rc) {
        log_msg(LOG_WARN, "irc: cannot send to the server (%s); reconnecting", err_str(rc));
        link_abort(p);
    }
}

static void on_question(struct plat *p, const struct irc_event *ev)
{
    char user[OUTBOX_ID_MAX];
    if (ev->account[0])
        snprintf(user, sizeof user, "%s", ev->account);
    else
        snprintf(user, sizeof user, "nick:%s", ev->nick);
    /* in a channel the reply is addressed to the asker: the thread is the asker's nick */
    struct plat_message m = {
        user, ev->reply_to, ev->direct ? "" : ev->nick, ev->text, ev->len, ev->direct, 0, 0, 0, NULL
    };
    p->host.on_message(p->host.ctx, p, &m);
}

static void on_event(struct plat *p, const struct irc_event *ev)
{
    switch (ev->kind) {
    case IRC_EV_NONE: break;
    case IRC_EV_WELCOME:
        p->welcomed_at = loop_now_ms();
        p->next_rejoin = p->welcomed_at + REJOIN_EVERY_MS;
        log_msg(LOG_INFO, "irc: connected to %s as %s", p->host_name, irc_session_nick(p->session));
        if (!irc_session_knows_accounts(p->session))
            log_msg(LOG_WARN,
                    "irc: the server tells planbot no services accounts (no account-tag, nor "
                    "account-notify with extended-join): nobody can be a moderator here");
        outbox_kick(p->outbox);
        break;
    case IRC_EV_JOINED: log_msg(LOG_INFO, "irc: joined %s", ev->channel); break;
    case IRC_EV_LEFT:
        log_msg(LOG_WARN, "irc: %s from %s; joining again in %d s", ev->why, ev->channel,
                p->rejoin_secs);
        p->next_rejoin = loop_now_ms() + (int64_t)p->rejoin_secs * 1000;
        break;
    case IRC_EV_JOIN_FAILED:
        log_msg(LOG_WARN, "irc: cannot join %s: %s; trying again in %d s", ev->channel, ev->why,
                REJOIN_EVERY_MS / 1000);
        break;
    case IRC_EV_QUESTION:
        if (!p->stopping)
            on_question(p, ev);
        break;
    case IRC_EV_CLOSING: log_msg(LOG_INFO, "irc: the server closes the link: %s", ev->why); break;
    case IRC_EV_FATAL: fail(p, ev->why); break;
    }
}

/* Asks the questions the session held for its WHOX queries, once they are answered (or now). */
static void asked_held(struct plat *p, int now)
{
    struct irc_event ev;
    while (irc_session_held(p->session, now, &ev))
        on_event(p, &ev);
    if (!irc_session_holding(p->session))
        p->held_since = 0;
    else if (!p->held_since)
        p->held_since = loop_now_ms();
}

static int on_line(void *ctx, const char *line, size_t len)
{
    struct plat *p = ctx;
    struct irc_msg *m = &p->msg;
    char err[128];
    if (irc_parse(line, len, m, err, sizeof err)) {
        log_msg(LOG_WARN, "irc: ignored a line planbot cannot read (%zu bytes): %s", len, err);
        return 0;
    }
    struct irc_event ev;
    int rc = irc_session_take(p->session, m, &p->out, &ev);
    if (rc)
        log_msg(LOG_WARN, "irc: cannot answer the server's %s: %s", m->command, err_str(rc));
    flush_out(p);
    on_event(p, &ev);
    asked_held(p, 0);
    return p->fatal || !link_open(p);
}

static void received(struct plat *p, const char *data, size_t len, int frame)
{
    p->last_rx = loop_now_ms();
    p->pinged_at = 0;
    size_t skipped = 0;
    int stopped = irc_reader_feed(p->reader, data, len, on_line, p, &skipped);
    if (!stopped && frame) /* a WebSocket frame is one whole line */
        irc_reader_feed(p->reader, "\n", 1, on_line, p, &skipped);
    if (skipped)
        log_msg(LOG_WARN, "irc: skipped %zu line%s over %d bytes", skipped, skipped == 1 ? "" : "s",
                IRC_READ_MAX - 1);
}

static void opened(struct plat *p)
{
    p->last_rx = loop_now_ms();
    p->pinged_at = 0;
    irc_reader_reset(p->reader);
    buf_reset(&p->out);
    int rc = irc_session_begin(p->session, &p->out);
    if (rc) {
        fail(p, "the registration does not fit in IRC lines (irc.nick, irc.username)");
        return;
    }
    flush_out(p);
}

static void closed(struct plat *p, const char *why)
{
    int served = p->welcomed_at != 0;
    reconnect_closed(&p->rc, served ? loop_now_ms() - p->welcomed_at : 0);
    p->welcomed_at = p->connected_at = 0;
    if (p->item) { /* its lines did not all go: posted again on the next connection */
        struct outbox_item *it = p->item;
        p->item = NULL;
        outbox_done(p->outbox, it, OUTBOX_RETRY, 0, "the connection was lost");
    }
    if (p->stopping || p->fatal)
        return;
    log_msg(LOG_INFO, "irc: disconnected (%s)", why);
    want_connection(p, -1);
}

static void s_open(void *ctx, struct stream *s)
{
    (void)s;
    opened(ctx);
}

static void s_data(void *ctx, struct stream *s, const char *data, size_t len)
{
    struct plat *p = ctx;
    if (s == p->stream)
        received(p, data, len, 0);
}

static void s_close(void *ctx, struct stream *s, const char *why)
{
    struct plat *p = ctx;
    if (s != p->stream)
        return;
    p->stream = NULL;
    closed(p, why);
}

static const struct stream_handler stream_handler = { s_open, s_data, s_close };

static void w_open(void *ctx, struct ws *ws)
{
    (void)ws;
    opened(ctx);
}

static void w_text(void *ctx, struct ws *ws, const char *data, size_t len)
{
    struct plat *p = ctx;
    if (ws == p->ws)
        received(p, data, len, 1);
}

static void w_close(void *ctx, struct ws *ws, int code, const char *why)
{
    struct plat *p = ctx;
    if (ws != p->ws)
        return;
    p->ws = NULL;
    char text[200];
    if (code)
        snprintf(text, sizeof text, "%s, status %d", why, code);
    else
        snprintf(text, sizeof text, "%s", why);
    closed(p, text);
}

static const struct ws_handler ws_handler = { w_open, w_text, w_close, NULL };

static void connect_to(struct plat *p, const char *addr)
{
    char err[256];
    int rc;
    p->connected_at = loop_now_ms(); /* the registration deadline counts from here */
    if (p->transport == T_TCP || p->transport == T_TLS) {
        struct stream_options o = { p->host_name, addr, p->port, p->transport == T_TLS, 0, "irc" };
        rc = stream_connect(p->loop, &o, &stream_handler, p, &p->stream, err, sizeof err);
    } else {
        /* IRC's own PING keeps the line alive: WebSocket pings only far apart (inspircd closes a
         * socket pinged more often than every 10 s) */
        struct ws_options o = { IRC_READ_MAX + 16,
                                0,
                                p->ping_secs * 2,
                                p->timeout_secs * 2,
                                "irc",
                                addr,
                                "text.ircv3.net,text.inspircd.org" };
        rc = ws_connect(p->loop, p->ws_url, &o, &ws_handler, p, &p->ws, err, sizeof err);
    }
    if (rc) {
        log_msg(LOG_WARN, "irc: %s", err);
        p->stream = NULL;
        p->ws = NULL;
        reconnect_failed(&p->rc, 0);
        want_connection(p, -1);
    }
}

static void looked_up(void *ctx, int err, const char *addr, const char *why)
{
    struct plat *p = ctx;
    p->opening = 0;
    if (p->stopping || p->fatal)
        return;
    if (err) {
        log_msg(LOG_WARN, "irc: %s", why);
        reconnect_failed(&p->rc, 0);
        want_connection(p, -1);
        return;
    }
    connect_to(p, addr);
}

static void connect_now(void *arg)
{
    struct plat *p = arg;
    if (p->stopping || p->fatal || p->opening || p->stream || p->ws)
        return;
    unsigned char bin[16];
    if (inet_pton(AF_INET, p->host_name, bin) == 1 || inet_pton(AF_INET6, p->host_name, bin) == 1) {
        connect_to(p, NULL);
        return;
    }
    p->opening = 1;
    if (resolver_lookup(p->resolver, p->host_name, looked_up, p)) {
        p->opening = 0;
        reconnect_failed(&p->rc, 0);
        want_connection(p, -1);
    }
}

static void want_connection(struct plat *p, int64_t delay)
{
    if (p->stopping || p->fatal || p->opening || p->stream || p->ws || loop_timer_armed(p->retry))
        return;
    delay = reconnect_delay(&p->rc, delay);
    if (delay >= 1000)
        log_msg(LOG_INFO, "irc: connecting again in %.1f s", (double)delay / 1000);
    loop_timer_set(p->retry, delay);
}

/* Every second: the keepalive, the registration deadline, the line bucket, the rejoin. */
static void tick(void *arg)
{
    struct plat *p = arg;
    int64_t now = loop_now_ms();
    if ((p->stream || p->ws) && !p->welcomed_at && now - p->connected_at > REGISTER_TIMEOUT_MS) {
        /* from the connection's start: a TLS handshake that never ends too */
        log_msg(LOG_WARN, "irc: the server did not welcome planbot within %d s; reconnecting",
                REGISTER_TIMEOUT_MS / 1000);
        link_abort(p);
    } else if (link_open(p)) {
        if (now - p->last_rx > (int64_t)p->timeout_secs * 1000) {
            log_msg(LOG_WARN, "irc: the server said nothing for %d s; reconnecting",
                    p->timeout_secs);
            link_abort(p);
        } else if (now - p->last_rx > (int64_t)p->ping_secs * 1000 && !p->pinged_at) {
            p->pinged_at = now;
            const char *param[] = { "planbot" };
            if (!irc_line(&p->out, "PING", 1, param))
                flush_out(p);
        }
        if (p->held_since && now - p->held_since > HOLD_MAX_MS) {
            log_msg(LOG_WARN,
                    "irc: the server did not answer planbot's WHO within %d s: the questions held "
                    "for it are asked now, with the accounts planbot knows",
                    HOLD_MAX_MS / 1000);
            asked_held(p, 1);
        }
        if (p->welcomed_at && now >= p->next_rejoin && !p->stopping) {
            p->next_rejoin = now + REJOIN_EVERY_MS;
            if (!irc_session_rejoin(p->session, &p->out))
                flush_out(p);
        }
    }
    loop_timer_set(p->tick, TICK_MS);
    release(p); /* which may want the timer sooner */
}

/* ---- replies ---- */

/* Releases the waiting part's lines as the bucket allows; reports the part posted when the
 * last has gone. */
static void release(struct plat *p)
{
    if (!p->item || !link_open(p))
        return;
    int64_t now = loop_now_ms();
    p->tokens += (double)(now - p->tokens_at) / p->line_ms;
    if (p->tokens > p->burst)
        p->tokens = p->burst;
    p->tokens_at = now;
    size_t from = p->lines_at;
    while (p->lines_at < p->lines.len && p->tokens >= 1) {
        const char *nl = memchr(p->lines.data + p->lines_at, '\n', p->lines.len - p->lines_at);
        p->lines_at = (size_t)(nl - p->lines.data) + 1;
        p->tokens -= 1;
    }
    if (p->lines_at > from && link_send(p, p->lines.data + from, p->lines_at - from)) {
        link_abort(p); /* the part goes again on the next connection */
        return;
    }
    if (p->lines_at == p->lines.len) {
        struct outbox_item *it = p->item;
        p->item = NULL;
        outbox_done(p->outbox, it, OUTBOX_POSTED, 0, NULL);
    } else { /* the bucket is empty: wake when the next line may go */
        int64_t wait = (int64_t)((1 - p->tokens) * p->line_ms) + 1;
        loop_timer_set(p->tick, wait < TICK_MS ? wait : TICK_MS);
    }
}

/* The bytes of text each line to target may carry, after "nick: " for a channel. */
static size_t room_for(const struct plat *p, const char *target, const char *asker)
{
    size_t uh = irc_session_user_host_len(p->session);
    size_t room = irc_text_room(target, irc_session_nick(p->session), uh ? uh : USER_HOST_MAX);
    size_t prefix = *asker ? strlen(asker) + 2 : 0;
    return room > prefix + ROOM_MIN ? room - prefix : ROOM_MIN;
}

static int start_post(void *ctx, struct outbox_item *it)
{
    struct plat *p = ctx;
    if (!irc_session_registered(p->session) || !link_open(p) || p->item)
        return ERR_IO; /* tried again in a second */
    buf_reset(&p->lines);
    int rc = 0;
    for (const char *t = it->text, *end = it->text + it->len; !rc && t < end;) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        size_t n = nl ? (size_t)(nl - t) : (size_t)(end - t);
        if (n) {
            struct buf text;
            buf_init(&text, IRC_LINE_MAX);
            rc = it->thread[0] ? buf_printf(&text, "%s: %.*s", it->thread, (int)n, t)
                               : buf_append(&text, t, n);
            const char *param[] = { it->channel, buf_str(&text) };
            if (!rc)
                rc = irc_line(&p->lines, "PRIVMSG", 2, param);
            buf_free(&text);
        }
        t += n + 1;
    }
    if (rc) {
        outbox_done(p->outbox, it, OUTBOX_DROPPED, 0, "a line does not fit IRC's limit");
        return 0;
    }
    p->item = it;
    p->lines_at = 0;
    release(p);
    return 0;
}

static void settle_post(void *ctx, int64_t record, int answered)
{
    struct plat *p = ctx;
    if (p->host.settle)
        p->host.settle(p->host.ctx, record, answered);
}

static const struct outbox_ops outbox_ops = { start_post, settle_post, NULL, NULL };

static int irc_send(struct plat *p, const struct plat_message *msg, const char *text, size_t len)
{
    struct markup m = irc_markup;
    m.post_max = room_for(p, msg->channel, msg->thread);
    return outbox_send(p->outbox, msg->channel, msg->thread, msg->user, text, len, &m, msg->record,
                       loop_now_ms());
}

/* ---- life ---- */

static void irc_close(struct plat *p);

/* Reads irc://host[:port], ircs://host[:port], ws(s)://host[:port]/path into p. */
static int parse_url(struct plat *p, const char *url, char *err, size_t errlen)
{
    static const struct {
        const char *scheme;
        enum transport t;
        int port;
    } schemes[] = { { "irc://", T_TCP, 6667 },
                    { "ircs://", T_TLS, 6697 },
                    { "ws://", T_WS, 80 },
                    { "wss://", T_WSS, 443 } };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].scheme);
        if (strncasecmp(url, schemes[i].scheme, n) != 0)
            continue;
        p->transport = schemes[i].t;
        if (p->transport == T_WS || p->transport == T_WSS) {
            struct ws_url u;
            if (ws_url_parse(url, &u) || strlen(url) >= sizeof p->ws_url)
                break;
            snprintf(p->ws_url, sizeof p->ws_url, "%s", url);
            snprintf(p->host_name, sizeof p->host_name, "%s", u.host);
            p->port = u.port;
            return 0;
        }
        /* irc[s]://host[:port][/] : the same shape as a WebSocket URL's authority */
        char as_ws[600];
        if (strlen(url) > 500)
            break;
        snprintf(as_ws, sizeof as_ws, "ws://%s", url + n);
        struct ws_url u;
        if (ws_url_parse(as_ws, &u) || strcmp(u.path, "/") != 0)
            break;
        snprintf(p->host_name, sizeof p->host_name, "%s", u.host);
        p->port = strchr(url + n, ':') ? u.port : schemes[i].port;
        return 0;
    }
    snprintf(err, errlen,
             "the server (IRC_URL, irc.url) must be irc://host[:port], ircs://host[:port], or "
             "ws:// or wss:// with a path (got \"%s\")",
             url);
    return ERR_USAGE;
}

static int irc_open(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    const struct config *cfg = host->cfg;
    struct plat *p = calloc(1, sizeof *p);
    char *password = NULL, *sasl_password = NULL;
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    p->host = *host;
    p->loop = host->loop;
    p->line_ms = config_int(cfg, "irc", "line_ms");
    p->bold_citations = config_int(cfg, "irc", "bold_citations");
    p->burst = config_int(cfg, "irc", "burst");
    p->ping_secs = config_int(cfg, "irc", "ping_secs");
    p->timeout_secs = config_int(cfg, "irc", "timeout_secs");
    p->rejoin_secs = config_int(cfg, "irc", "rejoin_secs");
    p->tokens = p->burst;
    p->tokens_at = loop_now_ms();
    buf_init(&p->lines, 256 * 1024);
    buf_init(&p->out, 64 * 1024);
    reconnect_init(&p->rc, BACKOFF_CAP_MS, STABLE_MS);
    const char *url = config_string(cfg, "irc", "url");
    const char *nick = config_string(cfg, "irc", "nick");
    const char *channels = config_string(cfg, "irc", "channels");
    const char *account = config_string(cfg, "irc", "account");
    int rc = 0;
    if (!url) {
        snprintf(err, errlen,
                 "the server is not set: set IRC_URL (ircs://irc.example.org), or irc.url in the "
                 "configuration");
        rc = ERR_USAGE;
    }
    if (!rc)
        rc = parse_url(p, url, err, errlen);
    if (!rc && !irc_valid_nick(nick)) {
        snprintf(err, errlen, "irc.nick \"%s\" is not a nick IRC allows", nick);
        rc = ERR_USAGE;
    }
    for (const char *c = channels; !rc && c && *c;) {
        size_t n = strcspn(c, ",");
        char one[256];
        snprintf(one, sizeof one, "%.*s", (int)(n < 255 ? n : 255), c);
        if (!irc_valid_channel(one)) {
            snprintf(err, errlen, "irc.channels: \"%s\" is not a channel name (#name)", one);
            rc = ERR_USAGE;
        }
        c += n + (c[n] == ',');
    }
    if (!rc)
        rc = config_secret("IRC_PASSWORD", config_string(cfg, "irc", "password_file"), &password,
                           err, errlen);
    if (!rc && account)
        rc = config_secret("IRC_SASL_PASSWORD", config_string(cfg, "irc", "sasl_password_file"),
                           &sasl_password, err, errlen);
    if (!rc && account && !sasl_password) {
        snprintf(err, errlen,
                 "irc.account is set but not its password: set IRC_SASL_PASSWORD, or name a file "
                 "holding it in irc.sasl_password_file");
        rc = ERR_USAGE;
    }
    if (!rc) {
        struct irc_session_config sc = { nick,
                                         config_string(cfg, "irc", "username"),
                                         config_string(cfg, "irc", "realname"),
                                         password,
                                         account,
                                         sasl_password,
                                         channels,
                                         config_string(cfg, "irc", "prefix") };
        if (!(p->session = irc_session_new(&sc))) {
            snprintf(err, errlen,
                     "irc: a setting is too long (nick, username, realname, prefix), "
                     "or more than 64 channels");
            rc = ERR_USAGE;
        }
    }
    for (char *s = password; s && *s; s++)
        *s = 0;
    for (char *s = sasl_password; s && *s; s++)
        *s = 0;
    free(password);
    free(sasl_password);
    if (!rc)
        rc = resolver_new(&p->resolver, p->loop);
    if (!rc &&
        (!(p->reader = irc_reader_new()) || !(p->retry = loop_timer_new(p->loop, connect_now, p)) ||
         !(p->tick = loop_timer_new(p->loop, tick, p))))
        rc = ERR_NOMEM;
    struct outbox_config oc = { "irc", 0, 1, OUTBOX_MAX, BACKOFF_CAP_MS, 0 };
    if (!rc && !(p->outbox = outbox_new_on(p->loop, &oc, &outbox_ops, p)))
        rc = ERR_NOMEM;
    if (rc) {
        if (rc == ERR_NOMEM)
            snprintf(err, errlen, "out of memory");
        irc_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void stop_serving(struct plat *p)
{
    if (p->stopping)
        return;
    p->stopping = 1;
    p->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
    loop_timer_cancel(p->retry);
    size_t left = outbox_waiting(p->outbox);
    log_msg(LOG_INFO, "irc: stopping; %zu repl%s to post", left, left == 1 ? "y" : "ies");
    if (p->fatal)
        link_abort(p);
}

static void quit(struct plat *p)
{
    p->quit_sent = 1;
    const char *param[] = { "planbot is stopping" };
    if (link_open(p) && !irc_line(&p->out, "QUIT", 1, param))
        flush_out(p);
    if (p->stream)
        stream_close(p->stream);
    else if (p->ws)
        ws_close(p->ws);
}

static int irc_stopped(struct plat *p)
{
    if (*p->stop)
        stop_serving(p);
    if (!p->stopping)
        return 0;
    int idle = outbox_idle(p->outbox) && !p->item;
    if ((idle || loop_now_ms() > p->stop_deadline) && !p->quit_sent)
        quit(p);
    if (!p->stream && !p->ws)
        return 1;
    return loop_now_ms() > p->stop_deadline + 1000;
}

static int irc_start(struct plat *p, volatile sig_atomic_t *stop)
{
    p->stop = stop;
    log_msg(LOG_INFO, "irc: connecting to %s port %d (%s)", p->host_name, p->port,
            p->transport == T_TCP   ? "TCP"
            : p->transport == T_TLS ? "TLS"
                                    : "WebSocket");
    loop_timer_set(p->tick, TICK_MS);
    want_connection(p, 0);
    return 0;
}

static int irc_finish(struct plat *p)
{
    outbox_report_unposted(p->outbox);
    log_msg(LOG_INFO, "irc: stopped");
    return p->fatal ? ERR_AUTH : 0;
}

static void irc_close(struct plat *p)
{
    if (!p)
        return;
    resolver_free(p->resolver); /* first: no callback may run after this */
    loop_timer_free(p->retry);
    loop_timer_free(p->tick);
    outbox_free(p->outbox);
    irc_session_free(p->session);
    irc_reader_free(p->reader);
    buf_free(&p->lines);
    buf_free(&p->out);
    free(p);
}

/* ---- settings ---- */

static int irc_check(const struct config *cfg, const char *origin, char *err, size_t errlen)
{
    return config_check_less(cfg, "irc", "ping_secs", "timeout_secs",
                             "or a quiet server is dropped before it is pinged", origin, err,
                             errlen);
}

static const struct config_key irc_keys[] = {
    { "url", CONFIG_STRING, 0, 0, 0, NULL, "IRC_URL" },
    { "nick", CONFIG_STRING, 0, 0, 0, "planbot", "IRC_NICK" },
    { "username", CONFIG_STRING, 0, 0, 0, NULL, NULL },
    { "realname", CONFIG_STRING, 0, 0, 0, NULL, NULL },
    { "channels", CONFIG_LIST, 0, 0, 0, NULL, "IRC_CHANNELS" },
    { "prefix", CONFIG_STRING, 0, 0, 0, "!ask", NULL },
    { "account", CONFIG_STRING, 0, 0, 0, NULL, "IRC_ACCOUNT" },
    { "sasl_password_file", CONFIG_TOKEN_FILE, 0, 0, 0, NULL, NULL },
    { "password_file", CONFIG_TOKEN_FILE, 0, 0, 0, NULL, NULL },
    { "line_ms", CONFIG_INT, 50, 60000, 1000, NULL, NULL },
    { "burst", CONFIG_INT, 1, 20, 4, NULL, NULL },
    { "ping_secs", CONFIG_INT, 5, 3600, 90, NULL, NULL },
    { "timeout_secs", CONFIG_INT, 10, 7200, 240, NULL, NULL },
    { "rejoin_secs", CONFIG_INT, 1, 3600, 10, NULL, NULL },
    { "bold_citations", CONFIG_BOOL, 0, 0, 0, NULL, NULL },
    { "sasl_password", CONFIG_SECRET, 0, 0, 0, NULL, "IRC_SASL_PASSWORD" },
    { "password", CONFIG_SECRET, 0, 0, 0, NULL, "IRC_PASSWORD" },
    { NULL, CONFIG_INT, 0, 0, 0, NULL, NULL },
};

static const struct config_section irc_settings = { "irc", irc_keys, irc_check };

static const struct markup *irc_markup_of(const struct plat *p)
{
    return p->bold_citations ? &irc_markup_bold : &irc_markup;
}

const struct plat_ops plat_irc = {
    .name = "irc",
    .description = "IRC over TCP, TLS or WebSocket (IRC_URL, IRC_CHANNELS; SASL: IRC_ACCOUNT, "
                   "IRC_SASL_PASSWORD)",
    .markup = &irc_markup,
    .markup_of = irc_markup_of,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_MODERATORS,
    .settings = &irc_settings,
    .open = irc_open,
    .start = irc_start,
    .stopped = irc_stopped,
    .finish = irc_finish,
    .send = irc_send,
    .close = irc_close,
};
