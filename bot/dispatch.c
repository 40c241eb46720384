/* dispatch.c - one message in, one reply out (see dispatch.h). */
#include "dispatch.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "err.h"
#include "log.h"
#include "words.h"

enum {
    MAX_WORDS = 256,
    NOTE_BUSY_MS = 250 /* a declined question noted at once waits this long for a lock */
};

size_t dispatch_skip_mentions(const char *text, size_t len)
{
    size_t i = 0;
    for (;;) {
        while (i < len && isspace((unsigned char)text[i]))
            i++;
        if (i + 1 < len && text[i] == '<' && text[i + 1] == '@') {
            const char *close = memchr(text + i, '>', len - i);
            if (!close)
                return i;
            i = (size_t)(close - text) + 1;
        } else if (i < len && text[i] == '@') {
            while (i < len && !isspace((unsigned char)text[i]))
                i++;
        } else {
            return i;
        }
        while (i < len && (text[i] == ':' || text[i] == ','))
            i++;
    }
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
        /* the output is plain text: written in the platform's style (escaped for Slack) */
        int frc = reply_escape(d->style, out.data ? out.data : "", out.len, reply);
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
    size_t skip = dispatch_skip_mentions(msg->text, msg->len);
    const char *text = msg->text + skip;
    size_t len = msg->len - skip;
    size_t blank = 0;
    while (blank < len && isspace((unsigned char)text[blank]))
        blank++;
    if (blank == len) { /* a bare mention */
        char hint[] = "Ask me about the draft 28-point peace plan for Ukraine, such as \"How big "
                      "can Ukraine's army be?\"; `help` lists the commands.";
        return reply_escape(d->style, hint, sizeof hint - 1, reply);
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

    /* one snapshot and one lock for all the reads of an answer, not one per statement */
    struct match_result res;
    int began = kb_read_begin(d->kb) == 0;
    int rc = match_ask(d->match, text, len, 3, &res, NULL);
    int replied = rc ? 0 : reply_answer(d->kb, &res, d->style, reply);
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
