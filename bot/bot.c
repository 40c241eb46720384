/* bot.c - the daemon's main loop: signals, the event loop, the adapters, the dispatcher (see
 * bot.h).
 *
 * Several adapters can serve at once, all on the one event loop, sharing the knowledge base, the
 * inbox, the flood limit and the conversations; each host callback gets the adapter it came from
 * (struct adapter), which names the platform for moderators, the inbox and the log. */
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
    TIDY_ROWS = 2000,
    ADAPTERS_MAX = 16,
    /* Questions being answered at once from which the loop may linger when behind (linger_us) */
    LINGER_OPEN = 2
};

/* The only mutable global besides the log sink: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

struct bot;

/* One adapter serving, and the bot it serves: the host's ctx for its callbacks. */
struct adapter {
    struct bot *b;
    const struct plat_ops *ops;
    struct plat *p; /* owned through ops->close */
};

struct bot {
    const struct config *cfg;
    struct adapter ads[ADAPTERS_MAX];
    size_t nads;
    size_t nstarted; /* the loop adapters whose start() succeeded: only they are asked */
    struct dispatch d;
    struct buf reply;
    struct flood *flood;     /* owned: messages per user, against floods */
    struct inbox *inbox;     /* owned: the questions acknowledged; NULL when none are recorded */
    struct batch *batch;     /* owned: what a turn of the loop writes, written together */
    struct loop_timer *tidy; /* owned: the next tidy (adapters on the loop) */
    struct loop *loop;       /* borrowed: the adapters' loop, when they serve on one */
};

/* Appends the one notice a user gets when over the flood limit, escaped for the platform. */
static int notice_reply(struct bot *b, const struct markup *markup, struct buf *out)
{
    struct buf text;
    buf_init(&text, 1024);
    int rc = flood_notice(b->flood, &text);
    if (!rc)
        rc = markup_escape(markup, text.data, text.len, 0, out);
    buf_free(&text);
    return rc;
}

static void settle(void *ctx, int64_t n, int answered)
{
    struct adapter *a = ctx;
    batch_settle(a->b->batch, n, answered);
}

static void declined(void *ctx, const char *platform, const char *text, size_t len)
{
    struct bot *b = ctx; /* the dispatcher's ctx: the bot */
    batch_declined(b->batch, text, len, platform);
}

/* Works out the reply to msg and hands it to the adapter; replayed: a question a stop left open
 * (not counted against the flood limit, which counted it when it came). */
static int handle(struct adapter *a, struct plat *p, const struct plat_message *msg, int replayed)
{
    struct bot *b = a->b;
    const char *platform = a->ops->name;
    b->d.markup = plat_markup(a->ops, p);
    struct plat_message m = *msg;
    /* rights come from the configuration's list of platform user ids, from a role the platform
     * says the user holds (Discord), or from an adapter that vouches for its user (the console) */
    m.moderator =
        msg->moderator || msg->by_role || config_is_moderator(b->cfg, platform, msg->user);
    /* every message counts, commands and help included, so nobody can flood a channel through
     * planbot; moderators too, with the same limit; the adapter's own user (the console) never */
    enum flood_verdict v = msg->moderator || replayed
                               ? FLOOD_OK
                               : flood_check(b->flood, platform, msg->user, loop_now_ms());
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
        rc = notice_reply(b, plat_markup(a->ops, p), &b->reply);
    } else {
        /* counted first: a question that crashes planbot must not crash every start after (a
         * new record counts its first attempt already) */
        if (replayed && msg->record && inbox_attempt(b->inbox, msg->record))
            log_msg(LOG_WARN, "%s: %s", platform, inbox_errmsg(b->inbox));
        /* on the loop, the questions of a turn share one read transaction, which flush() ends
         * before the loop waits (a moderator's change ends it sooner) */
        if (a->ops->caps & PLAT_CAP_LOOP)
            kb_read_hold(b->d.kb);
        rc = dispatch_message(&b->d, platform, &m, &b->reply);
        if (rc && rc != ERR_USAGE && rc != ERR_PERM && rc != ERR_INVAL && rc != ERR_NOTFOUND)
            log_msg(LOG_WARN, "%s: a message from %s failed: %s", platform, msg->user, err_str(rc));
        if (rc == ERR_PERM)
            log_msg(LOG_INFO, "%s: refused a moderator command from %s", platform, msg->user);
    }
    if (b->reply.len) {
        int src = a->ops->send(p, msg, b->reply.data, b->reply.len);
        if (src) {
            log_msg(LOG_ERROR, "%s: cannot queue the reply to %s: %s", platform, msg->user,
                    err_str(src));
            return src; /* its record stays open: the next start answers it */
        }
    } else {
        settle(a, msg->record, 1); /* nothing to post: the question is handled */
    }
    return rc;
}

static int on_message(void *ctx, struct plat *p, const struct plat_message *msg)
{
    struct adapter *a = ctx;
    int rc = handle(a, p, msg, 0);
    if (!(a->ops->caps & PLAT_CAP_LOOP)) /* no loop to flush before it waits: now */
        batch_drain(a->b->batch);
    return rc;
}

static int record(void *ctx, const char *platform, const char *key, const struct plat_message *msg,
                  plat_recorded_fn done, void *arg)
{
    struct bot *b = ((struct adapter *)ctx)->b;
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
    struct adapter *a;
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
        settle(r->a, q->n, 0);
        r->expired++;
        return;
    }
    if (age > r->a->b->cfg->replay_max_age) {
        log_msg(LOG_WARN,
                "%s: the question from %s in %s (%lld s ago) was never answered and is too old "
                "to answer now",
                q->platform, q->user, q->channel, (long long)age);
        settle(r->a, q->n, 0);
        r->expired++;
        return;
    }
    struct plat_message m = { q->user,   q->channel, q->thread, q->text, q->len,
                              q->direct, 0,          q->n,      0,       NULL };
    handle(r->a, r->p, &m, 1);
    r->answered++;
}

static void replay(void *ctx, struct plat *p)
{
    struct adapter *a = ctx;
    struct bot *b = a->b;
    struct replay r = { a, p, 0, 0 };
    if (!b->inbox)
        return;
    if (inbox_each_open(b->inbox, a->ops->name, replay_one, &r))
        log_msg(LOG_ERROR, "%s: cannot read the questions left open: %s", a->ops->name,
                inbox_errmsg(b->inbox));
    if (r.answered || r.expired)
        log_msg(LOG_INFO, "%s: %d question%s left open by the last stop answered now, %d too old",
                a->ops->name, r.answered, r.answered == 1 ? "" : "s", r.expired);
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
    loop_timer_set(b->tidy, tidy_once(b) ? TIDY_AGAIN_MS : TIDY_MS);
}

static int flush(void *arg)
{
    struct bot *b = arg;
    kb_read_release(b->d.kb); /* the turn's snapshot: the next turn reads what changed */
    int more = batch_flush(b->batch);
    /* the loop lingers when behind only while questions are answered side by side: one at a
     * time, each stage of a question (its event, its post's answer, the next event) can find its
     * input waiting, and a linger would only delay it */
    loop_set_linger(b->loop, batch_open(b->batch) >= LINGER_OPEN ? b->cfg->linger_us : 0);
    return more;
}

/* Opens the inbox for an adapter that records its questions; without one (a read-only folder),
 * planbot answers without records and says what that costs. */
static void open_inbox(struct bot *b, const struct kb *kb, unsigned caps)
{
    if (!(caps & PLAT_CAP_RECORDS))
        return;
    char err[1024];
    if (inbox_open(&b->inbox, kb_path(kb), err, sizeof err))
        log_msg(LOG_WARN,
                "%s: questions are answered without a record, so a crash between "
                "acknowledging and answering one loses it",
                err);
}

/* Whether every adapter on the loop has stopped. */
static int all_stopped(void *arg)
{
    struct bot *b = arg;
    int all = 1;
    for (size_t i = 0; i < b->nstarted; i++)
        if (!b->ads[i].ops->stopped(b->ads[i].p))
            all = 0; /* each is asked every turn: that is how a stop reaches it */
    return all;
}

static void bot_free(struct bot *b)
{
    loop_timer_free(b->tidy);
    batch_free(b->batch);
    inbox_close(b->inbox);
    buf_free(&b->reply);
    flood_free(b->flood);
    convo_free(b->d.convo);
}

int bot_run(const struct config *cfg, struct kb *kb, struct match *match)
{
    const char *single[1] = { cfg->platform };
    const char *const *names = cfg->nplatforms ? (const char *const *)cfg->platforms : single;
    size_t n = cfg->nplatforms ? cfg->nplatforms : 1;
    const struct plat_ops *ops[ADAPTERS_MAX];
    if (n > ADAPTERS_MAX) {
        fprintf(stderr, "planbot: at most %d platforms at once\n", ADAPTERS_MAX);
        return ERR_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(ops[i] = plat_find(names[i]))) {
            fprintf(stderr, "planbot: unknown platform \"%s\"; known platforms:", names[i]);
            for (size_t k = 0; plat_all[k]; k++)
                fprintf(stderr, " %s", plat_all[k]->name);
            fputc('\n', stderr);
            return ERR_USAGE;
        }
    }
    return bot_serve(cfg, kb, match, ops, n);
}

int bot_serve(const struct config *cfg, struct kb *kb, struct match *match,
              const struct plat_ops *const *ops, size_t n)
{
    unsigned caps = 0;
    if (n < 1 || n > ADAPTERS_MAX) {
        fprintf(stderr, "planbot: 1 to %d platforms at once\n", ADAPTERS_MAX);
        return ERR_USAGE;
    }
    for (size_t i = 0; i < n; i++) {
        if (n > 1 && !(ops[i]->caps & PLAT_CAP_LOOP)) {
            fprintf(stderr, "planbot: %s cannot serve beside other platforms; run it on its own\n",
                    ops[i]->name);
            return ERR_USAGE;
        }
        caps |= ops[i]->caps;
    }
    kb_set_busy_ms(kb, BUSY_MS);
    struct bot b = { .cfg = cfg, .d = { kb, match, ops[0]->markup, declined, NULL, NULL } };
    b.d.ctx = &b;
    buf_init(&b.reply, MAX_REPLY);
    open_inbox(&b, kb, caps);
    if (convo_new(&b.d.convo, CONVO_SLOTS, CONVO_TTL_MS) ||
        !(b.flood = flood_new(cfg->flood_messages, cfg->flood_seconds)) ||
        batch_new(&b.batch, kb, b.inbox)) {
        fprintf(stderr, "planbot: out of memory\n");
        bot_free(&b);
        return ERR_NOMEM;
    }
    char err[512];
    struct loop *loop = NULL;
    int rc = loop_new(&loop, cfg->tls_ca_file, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s\n", err);
        bot_free(&b);
        return rc;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        struct adapter *a = &b.ads[i];
        a->b = &b;
        a->ops = ops[i];
        struct plat_host host = { a, cfg, loop, on_message, record, settle, replay };
        rc = ops[i]->open(&a->p, &host, err, sizeof err);
        if (rc)
            fprintf(stderr, "planbot: %s: %s\n", ops[i]->name, err);
        else
            b.nads++;
    }
    if (rc) {
        for (size_t i = 0; i < b.nads; i++)
            b.ads[i].ops->close(b.ads[i].p);
        loop_free(loop);
        bot_free(&b);
        return rc;
    }
    if (caps & PLAT_CAP_LOOP) {
        b.loop = loop;
        loop_before_wait(loop, flush, &b);
        if ((b.tidy = loop_timer_new(loop, tidy, &b)))
            loop_timer_set(b.tidy, TIDY_FIRST_MS);
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
    for (size_t i = 0; i < b.nads; i++)
        log_msg(LOG_DEBUG, "%s: started with %s", b.ads[i].ops->name, kb_path(kb));
    if (caps & PLAT_CAP_LOOP) {
        for (size_t i = 0; i < b.nads && !rc; i++)
            if (!(rc = b.ads[i].ops->start(b.ads[i].p, &stopping)))
                b.nstarted++;
        if (rc)
            stopping = 1; /* those started stop too, posting what they can */
        loop_run(loop, all_stopped, &b);
        for (size_t i = 0; i < b.nstarted; i++) {
            int frc = b.ads[i].ops->finish(b.ads[i].p);
            if (!rc)
                rc = frc;
        }
    } else {
        rc = b.ads[0].ops->run(b.ads[0].p, &stopping);
    }
    /* the last turn's settles and records (their events were not acknowledged: the adapter,
     * stopping, leaves them to the next start) */
    kb_read_release(b.d.kb);
    batch_drain(b.batch);
    for (size_t i = 0; i < b.nads; i++) {
        b.ads[i].ops->close(b.ads[i].p);
        log_msg(LOG_DEBUG, "%s: stopped", b.ads[i].ops->name);
    }
    loop_timer_free(b.tidy);
    b.tidy = NULL;
    loop_free(loop);
    bot_free(&b);
    return rc;
}
