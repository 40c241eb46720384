/* dispatch.c - one message in, one reply out (see dispatch.h). */
#include "dispatch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd.h"
#include "err.h"
#include "log.h"
#include "words.h"

enum {
    MAX_WORDS = 256,
    NOTE_BUSY_MS = 250 /* a declined question noted at once waits this long for a lock */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The suggestion a reply such as "2", "#2" or "2." picks among n: 1 to n, or 0 when the message
 * is not such a number. */
static int suggestion_pick(const char *text, size_t len, int n)
{
    size_t i = 0;
    while (len > 0 && (isspace((unsigned char)text[len - 1]) || strchr(".)?!", text[len - 1])))
        len--;
    while (i < len && isspace((unsigned char)text[i]))
        i++;
    if (i < len && text[i] == '#')
        i++;
    if (i + 1 != len || text[i] < '1' || text[i] > '9')
        return 0;
    int k = text[i] - '0';
    return k <= n ? k : 0;
}

/* Whether a question reads as a follow-up of the one before it: it starts with "and", "also",
 * "what about", "how about" or "same for", or has at most three words. */
static int is_follow_up(const char *text, size_t len)
{
    static const char *const starts[] = { "and ",       "also ",     "what about ",
                                          "how about ", "same for ", "and what about " };
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        if (len > strlen(starts[i]) && strncasecmp(text, starts[i], strlen(starts[i])) == 0)
            return 1;
    int words = 0;
    for (size_t i = 0; i < len; i++)
        words +=
            !isspace((unsigned char)text[i]) && (i == 0 || isspace((unsigned char)text[i - 1]));
    return words <= 3;
}

/* Whether the first line is a command rather than a question that starts with "help". */
static int is_command(const struct words *w)
{
    if (w->n == 0)
        return 0;
    if (strcasecmp(w->v[0], "kb") == 0)
        return 1;
    if (strcasecmp(w->v[0], "sources") == 0)
        return w->n == 1 || (w->n == 2 && strcmp(w->v[1], "--json") == 0);
    if (strcasecmp(w->v[0], "help") == 0)
        return w->n == 1 || cmd_is_command(w->v[1]);
    return 0;
}

/* Turns "field: value" lines after a command's first line into --field=value words. */
static int field_lines(const char *text, size_t len, struct buf *args, struct buf *reply)
{
    int line = 1;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        const char *s = text + i;
        size_t n = end - i;
        i = end + 1;
        while (n && isspace((unsigned char)*s))
            s++, n--;
        while (n && isspace((unsigned char)s[n - 1]))
            n--;
        if (!n)
            continue;
        const char *colon = memchr(s, ':', n);
        size_t klen = colon ? (size_t)(colon - s) : 0;
        int ok = klen > 0 && klen < 20;
        for (size_t k = 0; ok && k < klen; k++)
            ok = islower((unsigned char)s[k]) || s[k] == '-' || s[k] == '_';
        if (!ok) {
            buf_printf(reply, "Line %d is not \"field: value\": %.*s", line, (int)(n > 60 ? 60 : n),
                       s);
            return ERR_USAGE;
        }
        const char *v = colon + 1;
        size_t vlen = n - klen - 1;
        while (vlen && isspace((unsigned char)*v))
            v++, vlen--;
        /* each argument is NUL-terminated in args; the caller splits them */
        if (buf_printf(args, "--%.*s=%.*s", (int)klen, s, (int)vlen, v) || buf_putc(args, '\0'))
            return ERR_TOOBIG;
    }
    return 0;
}

/* Runs the command whose first line is w; more holds the lines after it (NULL: none). */
static int run_command(struct dispatch *d, const char *platform, const struct plat_message *msg,
                       const struct words *w, const char *more, size_t more_len, struct buf *reply)
{
    /* arguments from "field: value" lines, NUL-separated */
    struct buf extra;
    buf_init(&extra, 256 * 1024);
    char *argv[MAX_WORDS * 2 + 1];
    int argc = 0, rc = 0;
    for (int i = 0; i < w->n; i++)
        argv[argc++] = w->v[i];
    static char *const names[] = { "kb", "help", "sources" }; /* "Help" is "help" */
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(argv[0], names[i]) == 0)
            argv[0] = names[i];
    if (more) {
        if (!cmd_takes_fields(argc, argv)) {
            rc = ERR_USAGE;
            buf_puts(reply, "Only kb add, kb edit and kb source add/edit take more lines.");
        } else if ((rc = field_lines(more, more_len, &extra, reply)) == 0) {
            for (size_t at = 0; at < extra.len && argc < MAX_WORDS * 2;
                 at += strlen(extra.data + at) + 1)
                argv[argc++] = extra.data + at;
        }
    }
    argv[argc] = NULL;
    if (!rc) {
        /* the chat never touches files, even in the console */
        struct buf out;
        buf_init(&out, reply->max);
        struct cmd_ctx ctx = {
            d->kb, { msg->user, platform }, msg->moderator, 0, &out, msg->direct, d->match
        };
        rc = cmd_run(&ctx, argc, argv);
        /* the output is plain text: written in the platform's markup, so it reads literally */
        int frc = markup_escape(d->markup, out.data ? out.data : "", out.len, 0, reply);
        if (frc && !rc)
            rc = frc;
        buf_free(&out);
    }
    buf_free(&extra);
    return rc;
}

int dispatch_message(struct dispatch *d, const char *platform, const struct plat_message *msg,
                     struct buf *reply)
{
    size_t skip = 0; /* the adapter took its platform's mentions out */
    while (skip < msg->len && isspace((unsigned char)msg->text[skip]))
        skip++;
    const char *text = msg->text + skip;
    size_t len = msg->len - skip;
    size_t blank = 0;
    while (blank < len && isspace((unsigned char)text[blank]))
        blank++;
    if (blank == len) { /* a bare mention */
        char hint[] = "Ask me about the draft 28-point peace plan for Ukraine, such as \"How big "
                      "can Ukraine's army be?\"; `help` lists the commands.";
        return markup_escape(d->markup, hint, sizeof hint - 1, 0, reply);
    }
    if (memchr(text, '\0', len)) {
        buf_puts(reply, "That message contains a NUL byte; I can't read it.");
        return ERR_INVAL;
    }
    const char *nl = memchr(text, '\n', len);
    size_t first = nl ? (size_t)(nl - text) : len;
    struct words w;
    char err[128];
    if (words_split(text, first, MAX_WORDS, &w, err, sizeof err)) {
        /* an unbalanced quote: an error if it starts like a command, else a question */
        if (len >= 3 && strncasecmp(text, "kb ", 3) == 0) {
            buf_printf(reply, "I could not read that command: %s.", err);
            return ERR_USAGE;
        }
    } else if (is_command(&w)) {
        int rc =
            run_command(d, platform, msg, &w, nl ? nl + 1 : NULL, nl ? len - first - 1 : 0, reply);
        words_free(&w);
        return rc;
    } else {
        words_free(&w);
    }

    /* the conversation so far: a number picks a suggestion; a follow-up reads with the question
     * before it */
    int64_t now = now_ms();
    const char *thread = msg->convo ? msg->convo : msg->thread;
    const struct convo_turn *last = convo_last(d->convo, platform, msg->channel, thread, now);
    struct match_result res;
    int pick = last ? suggestion_pick(text, len, last->nsuggest) : 0;
    if (pick) {
        memset(&res, 0, sizeof res);
        res.n = 1;
        memcpy(res.answers[0].id, last->suggest[pick - 1], sizeof res.answers[0].id);
        size_t before = reply->len;
        int rc = reply_answer(d->kb, &res, d->markup, reply);
        if (!rc && reply->len == before) { /* removed since it was suggested */
            static const char gone[] = "That topic is no longer in the knowledge base.";
            rc = markup_escape(d->markup, gone, sizeof gone - 1, 0, reply);
        }
        char topic[CONVO_MAX_QUESTION + 1]; /* the question stays the conversation's topic */
        snprintf(topic, sizeof topic, "%s", last->question);
        convo_note(d->convo, platform, msg->channel, thread, now, topic, strlen(topic), &res);
        return rc;
    }
    char joined[2 * CONVO_MAX_QUESTION + 2];
    const char *asked = text;
    size_t asked_len = len;
    int n;

    /* one snapshot and one lock for all the reads of an answer, not one per statement */
    int began = kb_read_begin(d->kb) == 0;
    int rc = match_ask(d->match, text, len, 3, &res, NULL);
    if (!rc && res.n == 0 && !res.has_instead && last && len <= CONVO_MAX_QUESTION &&
        is_follow_up(text, len)) {
        /* "and Kherson?": the question before it gives the topic (the answer must still hold a
         * word of this one); the two together are the topic of what follows */
        struct match_result with;
        if (!match_ask_after(d->match, text, len, last->question, strlen(last->question), 3, &with,
                             NULL) &&
            with.n > 0 &&
            (n = snprintf(joined, sizeof joined, "%.*s %s", (int)len, text, last->question)) > 0) {
            res = with;
            asked = joined;
            asked_len = (size_t)n < sizeof joined ? (size_t)n : sizeof joined - 1;
        }
    }
    int replied = rc ? 0 : reply_answer(d->kb, &res, d->markup, reply);
    if (began)
        kb_read_end(d->kb);
    if (rc == ERR_INVAL || rc == ERR_TOOBIG) { /* the question itself: say what is wrong */
        buf_printf(reply, "Sorry, I could not answer that: %s.", match_errmsg(d->match));
        return rc;
    }
    if (rc) { /* the knowledge base: the detail, which names files, is for the log */
        log_msg(LOG_ERROR, "%s: a question could not be looked up: %s", platform,
                match_errmsg(d->match));
        buf_printf(reply, "Sorry, I could not look that up just now; please ask again in a "
                          "moment.");
        return rc;
    }
    convo_note(d->convo, platform, msg->channel, thread, now, asked, asked_len, &res);
    static const char pick_hint[] = "\nReply with the number of a topic to read it.";
    if (res.n == 0 && res.nsuggest > 0 && d->convo && !replied)
        replied = markup_escape(d->markup, pick_hint, sizeof pick_hint - 1, 0, reply);
    if (res.n == 0 && d->declined) {
        d->declined(d->ctx, platform, text, len);
    } else if (res.n == 0) {
        struct kb_declined q = { text, len, platform };
        if (kb_unanswered_note(d->kb, &q, 1, NOTE_BUSY_MS))
            log_msg(LOG_DEBUG, "%s: the declined question was not recorded: %s", platform,
                    kb_errmsg(d->kb));
    }
    return replied;
}
