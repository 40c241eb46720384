/* bot.c - the daemon's main loop: signals, the event loop, the adapter, the dispatcher (see
 * bot.h). */
#include "bot.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "dispatch.h"
#include "err.h"
#include "convo.h"
#include "flood.h"
#include "inbox.h"
#include "log.h"
#include "plat.h"
#include "ws.h"

enum {
    MAX_REPLY = 1024 * 1024,
    /* The conversations remembered for follow-ups and suggestion numbers (bot/convo.h): about
     * 1 KiB each, each for ten minutes after its last message. */
    CONVO_SLOTS = 1024,
    CONVO_TTL_MS = 10 * 60 * 1000,
    /* One thread answers everyone and acknowledges every event (Slack allows 3 s): a change from
     * the chat waits this long for a lock the terminal holds, then the moderator is told to try
     * again. */
    BUSY_MS = 250,
    /* Tidying, on a timer, never on the path of a question: the inbox's settled records older
     * than a day and the declined questions past their time or the cap go in batches of at most
     * TIDY_ROWS rows, every TIDY_MS, or every TIDY_AGAIN_MS while a batch comes back full. */
    TIDY_MS = 10000,
    TIDY_FIRST_MS = 1000,
    TIDY_AGAIN_MS = 200,
    TIDY_ROWS = 2000
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
    struct flood *flood;   /* owned: messages per user, against floods */
    struct inbox *inbox;   /* owned: the questions acknowledged; NULL when none are recorded */
    struct batch *batch;   /* owned: what a turn of the loop writes, written together */
    struct ws_timer *tidy; /* owned: the next tidy (adapters on the loop) */
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
    batch_settle(b->batch, n, answered);
}

static void declined(void *ctx, const char *platform, const char *text, size_t len)
{
    struct bot *b = ctx;
    batch_declined(b->batch, text, len, platform);
}

/* Works out the reply to msg and hands it to the adapter; replayed: a question a stop left open
 * (not counted against the flood limit, which counted it when it came). */
static int handle(struct bot *b, struct plat *p, const struct plat_message *msg, int replayed)
{
    const char *platform = b->ops->name;
    struct plat_message m = *msg;
    /* rights come from the configuration's list of platform user ids, or from an adapter that
     * vouches for its user (the console) */
    m.moderator = msg->moderator || config_is_moderator(b->cfg, platform, msg->user);
    /* every message counts, commands and help included, so nobody can flood a channel through
     * planbot; moderators too, with the same limit; the adapter's own user (the console) never */
    enum flood_verdict v = msg->moderator || replayed
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
        /* counted first: a question that crashes planbot must not crash every start after (a
         * new record counts its first attempt already) */
        if (replayed && msg->record && inbox_attempt(b->inbox, msg->record))
            log_msg(LOG_WARN, "%s: %s", platform, inbox_errmsg(b->inbox));
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
    struct bot *b = ctx;
    int rc = handle(b, p, msg, 0);
    if (!(b->ops->caps & PLAT_CAP_LOOP)) /* no loop to flush before it waits: now */
        batch_flush(b->batch);
    return rc;
}

static int record(void *ctx, const char *platform, const char *key, const struct plat_message *msg,
                  plat_recorded_fn done, void *arg)
{
    struct bot *b = ctx;
    /* without an inbox (see bot_run) the batch reports record 0: answered without a record */
    struct inbox_question q = { 0,
                                platform,
                                key,
                                (int64_t)time(NULL),
                                msg->user,
                                msg->channel,
                                msg->thread,
                                msg->direct,
                                msg->text,
                                msg->len,
                                1 };
    int rc = batch_record(b->batch, &q, done, arg);
    if (rc)
        log_msg(LOG_ERROR, "%s: cannot record the question from %s: %s", platform, msg->user,
                err_str(rc));
    return rc;
}

struct replay {
    struct bot *b;
    struct plat *p;
    int answered, expired;
};

static void replay_one(void *arg, const struct inbox_question *q)
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
    struct plat_message m = { q->user, q->channel, q->thread, q->text, q->len, q->direct, 0, q->n };
    handle(r->b, r->p, &m, 1);
    r->answered++;
}

static void replay(void *ctx, struct plat *p)
{
    struct bot *b = ctx;
    struct replay r = { b, p, 0, 0 };
    if (!b->inbox)
        return;
    if (inbox_each_open(b->inbox, b->ops->name, replay_one, &r))
        log_msg(LOG_ERROR, "%s: cannot read the questions left open: %s", b->ops->name,
                inbox_errmsg(b->inbox));
    if (r.answered || r.expired)
        log_msg(LOG_INFO, "%s: %d question%s left open by the last stop answered now, %d too old",
                b->ops->name, r.answered, r.answered == 1 ? "" : "s", r.expired);
}

/* One batch of tidying; returns whether a batch came back full (there is more to do). */
static int tidy_once(struct bot *b)
{
    int pruned = 0, dropped = 0;
    if (b->inbox && inbox_prune(b->inbox, (int64_t)time(NULL), TIDY_ROWS, &pruned))
        log_msg(LOG_DEBUG, "cannot forget old questions yet: %s", inbox_errmsg(b->inbox));
    /* never waits: the terminal holds the lock only for a moment, and the next tidy comes */
    if (kb_unanswered_tidy(b->d.kb, b->cfg->unanswered_days, TIDY_ROWS, 0, &dropped))
        log_msg(LOG_DEBUG, "cannot tidy the unanswered questions yet: %s", kb_errmsg(b->d.kb));
    return pruned == TIDY_ROWS || dropped == TIDY_ROWS;
}

static void tidy(void *arg)
{
    struct bot *b = arg;
    ws_timer_set(b->tidy, tidy_once(b) ? TIDY_AGAIN_MS : TIDY_MS);
}

static int flush(void *arg)
{
    struct bot *b = arg;
    return batch_flush(b->batch);
}

/* Opens the inbox for an adapter that records its questions; without one (a read-only folder),
 * planbot answers without records and says what that costs. */
static void open_inbox(struct bot *b, const struct kb *kb)
{
    if (!(b->ops->caps & PLAT_CAP_RECORDS))
        return;
    char err[1024];
    if (inbox_open(&b->inbox, kb_path(kb), err, sizeof err))
        log_msg(LOG_WARN,
                "%s: %s: questions are answered without a record, so a crash between "
                "acknowledging and answering one loses it",
                b->ops->name, err);
}

static void bot_free(struct bot *b)
{
    ws_timer_free(b->tidy);
    batch_free(b->batch);
    inbox_close(b->inbox);
    buf_free(&b->reply);
    flood_free(b->flood);
    convo_free(b->d.convo);
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
    kb_set_busy_ms(kb, BUSY_MS);
    struct bot b = { cfg,  ops, { kb, match, ops->style, declined, NULL, NULL }, { 0 }, NULL, NULL,
                     NULL, NULL };
    b.d.ctx = &b;
    buf_init(&b.reply, MAX_REPLY);
    open_inbox(&b, kb);
    if (convo_new(&b.d.convo, CONVO_SLOTS, CONVO_TTL_MS) ||
        !(b.flood = flood_new(cfg->flood_messages, cfg->flood_seconds)) ||
        batch_new(&b.batch, kb, b.inbox)) {
        fprintf(stderr, "planbot: out of memory\n");
        bot_free(&b);
        return ERR_NOMEM;
    }
    char err[512];
    struct ws_loop *loop = NULL;
    int rc = ws_loop_new(&loop, cfg->tls_ca_file, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s\n", err);
        bot_free(&b);
        return rc;
    }
    struct plat_host host = { &b, cfg, loop, on_message, record, settle, replay };
    struct plat *p;
    rc = ops->open(&p, &host, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s: %s\n", ops->name, err);
        ws_loop_free(loop);
        bot_free(&b);
        return rc;
    }
    if (ops->caps & PLAT_CAP_LOOP) {
        ws_loop_before_wait(loop, flush, &b);
        if ((b.tidy = ws_timer_new(loop, tidy, &b)))
            ws_timer_set(b.tidy, TIDY_FIRST_MS);
    } else {
        while (tidy_once(&b)) /* once, at start: a chat in the terminal adds little */
            ;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns so the loop sees it */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_msg(LOG_DEBUG, "%s: started with %s", ops->name, kb_path(kb));
    rc = ops->run(p, &stopping);
    /* the last turn's settles and records (their events were not acknowledged: the adapter,
     * stopping, leaves them to the next start) */
    while (batch_flush(b.batch))
        ;
    ops->close(p);
    ws_timer_free(b.tidy);
    b.tidy = NULL;
    ws_loop_free(loop);
    bot_free(&b);
    log_msg(LOG_DEBUG, "%s: stopped", ops->name);
    return rc;
}
