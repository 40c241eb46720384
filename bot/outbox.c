/* outbox.c - the replies an adapter has yet to post (see outbox.h).
 *
 * Parts wait in one list, oldest first; a channel's state (busy with a post in flight, not
 * before a time) holds its later parts behind its first, so each channel keeps its order while
 * the others go on. A part that failed goes back to the head of the list, ahead of its channel's
 * later parts. The channel table forgets channels that are neither busy nor paced whenever a new
 * one comes, so it stays as small as the channels active in the last few seconds. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "markup.h"
#include "seen.h"
#include "loop.h"
#include "reconnect.h"

struct part {
    struct outbox_item it; /* first: outbox_done() gets the part back from its item */
    struct part *next;
    uint64_t channel_key; /* seen_key() of the channel, compared first */
    char *text;           /* owned; it.text */
};

struct chan {
    char id[OUTBOX_ID_MAX];
    uint64_t key;
    int64_t next_ms; /* not before this (pacing, retry backoff) */
    int busy;        /* a post is in flight */
};

struct outbox {
    struct outbox_config cfg;
    struct outbox_ops ops;
    void *ctx;
    struct part *head, *tail; /* waiting, oldest first */
    struct part *flying;      /* in flight, owned here until reported */
    size_t queued;
    int inflight;
    int halted;           /* nothing can be posted: start nothing more */
    int64_t paused_until; /* a rate limit: nothing is started before */
    struct chan *chans;
    size_t nchans, capchans;  /* capchans: room kept, so a channel coming back allocates nothing */
    struct loop_timer *timer; /* owned, with outbox_new_on(): the clock is the loop's */
    int64_t *starts;          /* owned, with per_second: when the last per_second posts began */
    size_t next_start;        /* the oldest of them, overwritten by the next */
};

static int64_t now_ms(const struct outbox *ob)
{
    return ob->timer ? loop_now_ms() : ob->ops.now(ob->ctx);
}

static void arm(struct outbox *ob, int64_t delay_ms)
{
    if (ob->timer)
        loop_timer_set(ob->timer, delay_ms);
    else
        ob->ops.arm(ob->ctx, delay_ms);
}

static void part_free(struct part *q)
{
    if (q) {
        free(q->text);
        free(q);
    }
}

struct outbox *outbox_new(const struct outbox_config *cfg, const struct outbox_ops *ops, void *ctx)
{
    struct outbox *ob = calloc(1, sizeof *ob);
    if (!ob)
        return NULL;
    ob->cfg = *cfg;
    ob->ops = *ops;
    ob->ctx = ctx;
    if (ob->cfg.inflight_max < 1)
        ob->cfg.inflight_max = 1;
    if (ob->cfg.per_second > OUTBOX_PER_SECOND_MAX)
        ob->cfg.per_second = OUTBOX_PER_SECOND_MAX;
    if (ob->cfg.per_second > 0) {
        if (!(ob->starts = malloc((size_t)ob->cfg.per_second * sizeof *ob->starts))) {
            free(ob);
            return NULL;
        }
        for (int i = 0; i < ob->cfg.per_second; i++)
            ob->starts[i] = INT64_MIN / 2; /* long ago */
    }
    return ob;
}

static void kick_timer(void *arg)
{
    outbox_kick(arg);
}

struct outbox *outbox_new_on(struct loop *loop, const struct outbox_config *cfg,
                             const struct outbox_ops *ops, void *ctx)
{
    struct outbox *ob = outbox_new(cfg, ops, ctx);
    if (ob && !(ob->timer = loop_timer_new(loop, kick_timer, ob))) {
        outbox_free(ob);
        return NULL;
    }
    return ob;
}

void outbox_free(struct outbox *ob)
{
    if (!ob)
        return;
    loop_timer_free(ob->timer);
    for (struct part **list = &ob->head; list; list = list == &ob->head ? &ob->flying : NULL)
        while (*list) {
            struct part *q = *list;
            *list = q->next;
            part_free(q);
        }
    free(ob->chans);
    free(ob->starts);
    free(ob);
}

/* The state of channel id (key: its seen_key()), made when new. */
static struct chan *chan_get(struct outbox *ob, const char *id, uint64_t key)
{
    for (size_t i = 0; i < ob->nchans; i++)
        if (ob->chans[i].key == key && strcmp(ob->chans[i].id, id) == 0)
            return &ob->chans[i];
    int64_t now = now_ms(ob);
    size_t kept = 0;
    for (size_t i = 0; i < ob->nchans; i++)
        if (ob->chans[i].busy || ob->chans[i].next_ms > now)
            ob->chans[kept++] = ob->chans[i];
    ob->nchans = kept;
    if (ob->nchans == ob->capchans) {
        size_t cap = ob->capchans ? 2 * ob->capchans : 16;
        struct chan *grown = realloc(ob->chans, cap * sizeof *grown);
        if (!grown)
            return NULL;
        ob->chans = grown;
        ob->capchans = cap;
    }
    struct chan *c = &ob->chans[ob->nchans++];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    c->key = key;
    return c;
}

static int copy_id(char *dst, const char *src)
{
    size_t n = strlen(src ? src : "");
    if (n >= OUTBOX_ID_MAX)
        return ERR_TOOBIG;
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

int outbox_send(struct outbox *ob, const char *channel, const char *thread, const char *user,
                const char *text, size_t len, const struct markup *markup, int64_t record,
                int64_t queued)
{
    if (strlen(channel) >= OUTBOX_ID_MAX || strlen(thread ? thread : "") >= OUTBOX_ID_MAX ||
        strlen(user ? user : "") >= OUTBOX_ID_MAX)
        return ERR_TOOBIG;
    size_t parts = 0;
    for (size_t at = 0, next; at < len; at += next, parts++)
        markup_split(markup, text + at, len - at, &next);
    if (ob->queued + parts > ob->cfg.queued_max)
        return ERR_TOOBIG; /* all of the reply or nothing */
    struct part *first = NULL, **end = &first, *last = NULL;
    int index = 0;
    for (size_t at = 0, next; at < len; at = next) {
        size_t n = markup_split(markup, text + at, len - at, &next);
        next += at;
        struct part *q = calloc(1, sizeof *q);
        if (!q || !(q->text = malloc(n + 1))) {
            free(q);
            while (first) {
                struct part *x = first;
                first = x->next;
                part_free(x);
            }
            return ERR_NOMEM;
        }
        memcpy(q->text, text + at, n);
        q->text[n] = '\0';
        q->it.text = q->text;
        q->it.len = n;
        q->it.queued = queued;
        q->it.arg = ob->ctx;
        q->it.part = index++;
        q->it.last = next >= len;
        q->it.record = q->it.last ? record : 0;
        copy_id(q->it.channel, channel);
        copy_id(q->it.thread, thread);
        copy_id(q->it.user, user);
        q->channel_key = seen_key("channel", channel);
        *end = q;
        end = &q->next;
        last = q;
    }
    if (!first)
        return 0;
    if (ob->tail)
        ob->tail->next = first;
    else
        ob->head = first;
    ob->tail = last;
    ob->queued += parts;
    log_msg(LOG_DEBUG, "%s: queued a reply to %s in %s (%zu part%s)", ob->cfg.name,
            user && *user ? user : "?", channel, parts, parts == 1 ? "" : "s");
    outbox_kick(ob);
    return 0;
}

/* Takes q out of the flying list. */
static void unfly(struct outbox *ob, struct part *q)
{
    for (struct part **pp = &ob->flying; *pp; pp = &(*pp)->next)
        if (*pp == q) {
            *pp = q->next;
            break;
        }
}

/* Puts q back at the head of the waiting list. */
static void requeue(struct outbox *ob, struct part *q)
{
    q->next = ob->head;
    ob->head = q;
    if (!ob->tail)
        ob->tail = q;
    ob->queued++;
}

void outbox_done(struct outbox *ob, struct outbox_item *it, enum outbox_outcome outcome,
                 int64_t wait_ms, const char *why)
{
    struct part *q = (struct part *)it;
    const char *name = ob->cfg.name;
    unfly(ob, q);
    ob->inflight--;
    int64_t now = now_ms(ob);
    struct chan *ch = chan_get(ob, it->channel, q->channel_key);
    if (ch)
        ch->busy = 0;
    switch (outcome) {
    case OUTBOX_POSTED:
        if (ch && now + ob->cfg.pace_ms > ch->next_ms) /* a hold lasts */
            ch->next_ms = now + ob->cfg.pace_ms;
        if (it->last)
            log_msg(LOG_INFO, "%s: answered %s in %s (%lld ms)", name, it->user, it->channel,
                    (long long)(now - it->queued));
        if (it->record && ob->ops.settle)
            ob->ops.settle(ob->ctx, it->record, 1);
        part_free(q);
        break;
    case OUTBOX_DROPPED:
        log_msg(LOG_ERROR, "%s: cannot post to %s: %s; this reply to %s is dropped", name,
                it->channel, why ? why : "refused", it->user);
        if (it->record && ob->ops.settle)
            ob->ops.settle(ob->ctx, it->record, 0);
        part_free(q);
        break;
    case OUTBOX_HALTED:
        ob->halted = 1;
        requeue(ob, q);
        break;
    case OUTBOX_LIMITED:
        q->it.attempts++;
        if (ch && now + wait_ms > ch->next_ms)
            ch->next_ms = now + wait_ms;
        log_msg(LOG_WARN, "%s: rate limited in %s; posting there again in %.1f s", name,
                it->channel, (double)wait_ms / 1000);
        requeue(ob, q);
        break;
    case OUTBOX_RETRY:
        q->it.attempts++;
        if (wait_ms > 0) {
            ob->paused_until = now + wait_ms;
            log_msg(LOG_WARN, "%s: rate limited; posting again in %lld s", name,
                    (long long)((wait_ms + 999) / 1000));
        } else if (ch && !ob->halted) {
            int64_t delay = reconnect_backoff_ms((unsigned)q->it.attempts, ob->cfg.backoff_cap_ms);
            ch->next_ms = now + delay;
            log_msg(LOG_WARN, "%s: posting to %s failed (%s); trying again in %.1f s", name,
                    it->channel, why ? why : "an error", (double)delay / 1000);
        }
        requeue(ob, q);
        break;
    }
    outbox_kick(ob);
}

void outbox_hold(struct outbox *ob, const char *channel, int64_t wait_ms)
{
    struct chan *ch = chan_get(ob, channel, seen_key("channel", channel));
    int64_t until = now_ms(ob) + wait_ms;
    if (ch && until > ch->next_ms)
        ch->next_ms = until;
    outbox_kick(ob);
}

void outbox_kick(struct outbox *ob)
{
    if (ob->halted)
        return;
    int64_t now = now_ms(ob), wake = INT64_MAX;
    if (now < ob->paused_until) {
        arm(ob, ob->paused_until - now);
        return;
    }
    struct part **pp = &ob->head, *prev = NULL;
    while (*pp && ob->inflight < ob->cfg.inflight_max && !ob->halted) {
        struct part *q = *pp;
        /* per_second posts began in the last second: the next waits until the oldest of them is
         * a second old */
        if (ob->starts && ob->starts[ob->next_start] + 1000 > now) {
            if (ob->starts[ob->next_start] + 1000 < wake)
                wake = ob->starts[ob->next_start] + 1000;
            break;
        }
        struct chan *ch = chan_get(ob, q->it.channel, q->channel_key);
        /* a channel's later parts wait behind its first: once that is sent, the channel is
         * busy; while it waits, the same pacing or backoff holds them too */
        if (!ch || ch->busy || ch->next_ms > now) {
            if (ch && !ch->busy && ch->next_ms > now && ch->next_ms < wake)
                wake = ch->next_ms;
            prev = q;
            pp = &q->next;
            continue;
        }
        *pp = q->next;
        if (ob->tail == q)
            ob->tail = prev;
        ob->queued--;
        ch->busy = 1;
        ob->inflight++;
        q->next = ob->flying;
        ob->flying = q;
        if (ob->starts) {
            ob->starts[ob->next_start] = now;
            ob->next_start = (ob->next_start + 1) % (size_t)ob->cfg.per_second;
        }
        if (ob->ops.start(ob->ctx, &q->it)) {
            ob->flying = q->next;
            ch->busy = 0;
            ob->inflight--;
            q->next = *pp;
            *pp = q;
            if (!q->next)
                ob->tail = q;
            ob->queued++;
            if (now + 1000 < wake)
                wake = now + 1000;
            break;
        }
    }
    if (wake != INT64_MAX)
        arm(ob, wake - now);
}

size_t outbox_waiting(const struct outbox *ob)
{
    return ob->queued + (size_t)ob->inflight;
}

int outbox_idle(const struct outbox *ob)
{
    return (!ob->head || ob->halted) && ob->inflight == 0;
}

/* Logs the replies of list whose last part was never posted; returns how many. */
static size_t report(const struct outbox *ob, const struct part *q)
{
    size_t n = 0;
    for (; q; q = q->next)
        if (q->it.last) {
            log_msg(LOG_ERROR, "%s: the reply to %s in %s (thread %s) was not posted%s",
                    ob->cfg.name, q->it.user, q->it.channel,
                    q->it.thread[0] ? q->it.thread : "none",
                    q->it.record ? "; the next start answers it" : "");
            n++;
        }
    return n;
}

size_t outbox_report_unposted(const struct outbox *ob)
{
    size_t left = report(ob, ob->flying) + report(ob, ob->head);
    if (left)
        log_msg(LOG_ERROR, "%s: stopped with %zu repl%s not posted", ob->cfg.name, left,
                left == 1 ? "y" : "ies");
    return left;
}
