/* bot.c - the daemon's main loop: signals, the event loop, the adapter, the dispatcher (see
 * bot.h). */
#include "bot.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"
#include "err.h"
#include "flood.h"
#include "log.h"
#include "plat.h"
#include "ws.h"

enum {
    MAX_REPLY = 1024 * 1024,
    /* One thread answers everyone and acknowledges every event (Slack allows 3 s): a change from
     * the chat waits this long for a lock the terminal holds, then the moderator is told to try
     * again. */
    BUSY_MS = 1000
};

/* The only mutable global besides the log sink: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

struct bot {
    const struct config *cfg;
    const struct plat_ops *ops;
    struct dispatch d;
    struct buf reply;
    struct flood *flood; /* owned: messages per user, against floods */
};

/* Appends the one notice a user gets when over the flood limit, escaped for the platform. */
static int notice_reply(struct bot *b, struct buf *out)
{
    struct buf text;
    buf_init(&text, 1024);
    int rc = flood_notice(b->flood, &text);
    if (!rc)
        rc = reply_escape(b->ops->style, text.data, text.len, out);
    buf_free(&text);
    return rc;
}

static void settle(void *ctx, int64_t n, int answered)
{
    struct bot *b = ctx;
    if (n && kb_inbox_settle(b->d.kb, n, answered))
        log_msg(LOG_WARN, "%s: %s", b->ops->name, kb_errmsg(b->d.kb));
}

/* Works out the reply to msg and hands it to the adapter; limit: apply the flood limit (not to
 * questions replayed after a stop, which were counted when they came). */
static int handle(struct bot *b, struct plat *p, const struct plat_message *msg, int limit)
{
    const char *platform = b->ops->name;
    struct plat_message m = *msg;
    /* rights come from the configuration's list of platform user ids, or from an adapter that
     * vouches for its user (the console) */
    m.moderator = msg->moderator || config_is_moderator(b->cfg, platform, msg->user);
    /* every message counts, commands and help included, so nobody can flood a channel through
     * planbot; moderators too, with the same limit; the adapter's own user (the console) never */
    enum flood_verdict v = msg->moderator || !limit
                               ? FLOOD_OK
                               : flood_check(b->flood, platform, msg->user, ws_now_ms());
    buf_reset(&b->reply);
    int rc = 0;
    if (v == FLOOD_DROP) { /* no reply at all: its record, if any, is settled below */
        log_msg(LOG_DEBUG, "%s: dropped a message from %s: over the flood limit", platform,
                msg->user);
    } else if (v == FLOOD_NOTICE) {
        log_msg(LOG_INFO,
                "%s: %s sent more than %d messages in %d s; sent one notice, and their messages "
                "go unanswered until the limit allows again",
                platform, msg->user, b->cfg->flood_messages, b->cfg->flood_seconds);
        rc = notice_reply(b, &b->reply);
    } else {
        /* counted first: a question that crashes planbot must not crash every start after */
        if (msg->record && kb_inbox_attempt(b->d.kb, msg->record))
            log_msg(LOG_WARN, "%s: %s", platform, kb_errmsg(b->d.kb));
        rc = dispatch_message(&b->d, platform, &m, &b->reply);
        if (rc && rc != ERR_USAGE && rc != ERR_PERM && rc != ERR_INVAL && rc != ERR_NOTFOUND)
            log_msg(LOG_WARN, "%s: a message from %s failed: %s", platform, msg->user, err_str(rc));
        if (rc == ERR_PERM)
            log_msg(LOG_INFO, "%s: refused a moderator command from %s", platform, msg->user);
    }
    if (b->reply.len) {
        int src = b->ops->send(p, msg, b->reply.data, b->reply.len);
        if (src) {
            log_msg(LOG_ERROR, "%s: cannot queue the reply to %s: %s", platform, msg->user,
                    err_str(src));
            return src; /* its record stays open: the next start answers it */
        }
    } else {
        settle(b, msg->record, 1); /* nothing to post: the question is handled */
    }
    return rc;
}

static int on_message(void *ctx, struct plat *p, const struct plat_message *msg)
{
    return handle(ctx, p, msg, 1);
}

static int record(void *ctx, const char *platform, const char *key, struct plat_message *msg)
{
    struct bot *b = ctx;
    msg->record = 0;
    if (!kb_writable(b->d.kb))
        return 0; /* a read-only knowledge base: answer without a record (see bot_run) */
    char *text = strndup(msg->text, msg->len); /* msg->text need not end in a NUL */
    if (!text)
        return ERR_NOMEM;
    struct kb_question q = {
        0,           platform, key, (int64_t)time(NULL), msg->user, msg->channel, msg->thread,
        msg->direct, text,     0
    };
    int rc = kb_inbox_add(b->d.kb, &q);
    free(text);
    if (rc == 0)
        msg->record = q.n;
    else if (rc != ERR_EXISTS)
        log_msg(LOG_ERROR, "%s: cannot record the question from %s: %s", platform, msg->user,
                kb_errmsg(b->d.kb));
    return rc;
}

struct replay {
    struct bot *b;
    struct plat *p;
    int answered, expired;
};

static void replay_one(void *arg, const struct kb_question *q)
{
    struct replay *r = arg;
    int64_t age = (int64_t)time(NULL) - q->received;
    if (q->attempts >= 2) {
        log_msg(LOG_ERROR,
                "%s: the question from %s in %s was begun twice and never answered (did it stop "
                "planbot?); it is not tried again",
                q->platform, q->user, q->channel);
        settle(r->b, q->n, 0);
        r->expired++;
        return;
    }
    if (age > r->b->cfg->replay_max_age) {
        log_msg(LOG_WARN,
                "%s: the question from %s in %s (%lld s ago) was never answered and is too old "
                "to answer now",
                q->platform, q->user, q->channel, (long long)age);
        settle(r->b, q->n, 0);
        r->expired++;
        return;
    }
    struct plat_message m = { q->user,         q->channel, q->thread, q->text,
                              strlen(q->text), q->direct,  0,         q->n };
    handle(r->b, r->p, &m, 0);
    r->answered++;
}

static void replay(void *ctx, struct plat *p)
{
    struct bot *b = ctx;
    struct replay r = { b, p, 0, 0 };
    if (!kb_writable(b->d.kb))
        return;
    if (kb_inbox_open(b->d.kb, b->ops->name, replay_one, &r))
        log_msg(LOG_ERROR, "%s: cannot read the questions left open: %s", b->ops->name,
                kb_errmsg(b->d.kb));
    if (r.answered || r.expired)
        log_msg(LOG_INFO, "%s: %d question%s left open by the last stop answered now, %d too old",
                b->ops->name, r.answered, r.answered == 1 ? "" : "s", r.expired);
}

int bot_run(const struct config *cfg, struct kb *kb, struct match *match)
{
    const struct plat_ops *ops = plat_find(cfg->platform);
    if (!ops) {
        fprintf(stderr, "planbot: unknown platform \"%s\"; known platforms:", cfg->platform);
        for (size_t i = 0; plat_all[i]; i++)
            fprintf(stderr, " %s", plat_all[i]->name);
        fputc('\n', stderr);
        return ERR_USAGE;
    }
    struct flood *flood = flood_new(cfg->flood_messages, cfg->flood_seconds);
    if (!flood) {
        fprintf(stderr, "planbot: out of memory\n");
        return ERR_NOMEM;
    }
    kb_set_busy_ms(kb, BUSY_MS);
    struct bot b = { cfg, ops, { kb, match, ops->style, cfg->unanswered_days }, { 0 }, flood };
    buf_init(&b.reply, MAX_REPLY);
    char err[512];
    struct ws_loop *loop = NULL;
    int rc = ws_loop_new(&loop, cfg->tls_ca_file, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s\n", err);
        flood_free(b.flood);
        return rc;
    }
    struct plat_host host = { &b, cfg, loop, on_message, record, settle, replay };
    if (!kb_writable(kb) && strcmp(ops->name, "console") != 0)
        log_msg(LOG_WARN,
                "%s: the knowledge base is read-only: questions are answered without a record, "
                "so a crash between acknowledging and answering one loses it",
                ops->name);
    struct plat *p;
    rc = ops->open(&p, &host, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s: %s\n", ops->name, err);
        ws_loop_free(loop);
        flood_free(b.flood);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns so the loop sees it */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_msg(LOG_DEBUG, "%s: started with %s", ops->name, kb_path(kb));
    rc = ops->run(p, &stopping);
    ops->close(p);
    ws_loop_free(loop);
    buf_free(&b.reply);
    flood_free(b.flood);
    log_msg(LOG_DEBUG, "%s: stopped", ops->name);
    return rc;
}
