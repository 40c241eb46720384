/* batch.c - group commit of the daemon's writes (see batch.h).
 *
 * Three queues, each an array that grows by doubling and keeps its memory between flushes, so a
 * busy daemon allocates nothing per question but one block for a record's strings. A flush
 * swaps each queue out before it reports, so that what the callbacks queue waits for the next
 * flush instead of being lost or written twice. */
#include "batch.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"

enum {
    SETTLES_MAX = 1000000, /* settles kept while the inbox cannot be written */
    RECORD_BUSY_MS = 250   /* the acknowledgements wait for the records: never long */
};

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct record {
    struct inbox_question q; /* its strings point into text */
    char *text;              /* owned: the question's strings, one after another */
    batch_recorded_fn done;
    void *arg;
};

struct declined {
    char *question; /* owned */
    size_t len;
    const char *via; /* a platform name: static */
};

/* A growable array of n items of size bytes, with room for cap. */
struct queue {
    void *items;
    size_t n, cap;
};

struct batch {
    struct kb *kb;       /* borrowed */
    struct inbox *inbox; /* borrowed; NULL: no records kept */
    struct queue records, settles, declined;
    struct queue flushing;     /* records being reported: swapped with records during a flush */
    int *rcs;                  /* inbox_add's results, nresults of them */
    struct inbox_question *qs; /* inbox_add's input, nresults of them */
    size_t nresults;
    size_t open;          /* questions recorded by this run and not settled yet (batch_open) */
    int warned_settle;    /* a failed settle was logged; reset when one works */
    int64_t settles_from; /* when the oldest settle waiting was queued (monotonic ms) */
};

/* Makes room for one more item; returns it, or NULL when out of memory. */
static void *push(struct queue *q, size_t size)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        void *grown = realloc(q->items, cap * size);
        if (!grown)
            return NULL;
        q->items = grown;
        q->cap = cap;
    }
    return (char *)q->items + q->n++ * size;
}

int batch_new(struct batch **out, struct kb *kb, struct inbox *inbox)
{
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return ERR_NOMEM;
    b->kb = kb;
    b->inbox = inbox;
    *out = b;
    return 0;
}

static void free_records(struct queue *q)
{
    struct record *r = q->items;
    for (size_t i = 0; i < q->n; i++)
        free(r[i].text);
    q->n = 0;
}

static void free_declined(struct queue *q)
{
    struct declined *d = q->items;
    for (size_t i = 0; i < q->n; i++)
        free(d[i].question);
    q->n = 0;
}

void batch_free(struct batch *b)
{
    if (!b)
        return;
    free_records(&b->records);
    free_records(&b->flushing);
    free_declined(&b->declined);
    free(b->records.items);
    free(b->flushing.items);
    free(b->settles.items);
    free(b->declined.items);
    free(b->rcs);
    free(b->qs);
    free(b);
}

/* Copies s (len bytes) to *at and returns it NUL-terminated; *at moves past it. */
static const char *copy(char **at, const char *s, size_t len)
{
    char *d = *at;
    memcpy(d, s, len);
    d[len] = '\0';
    *at += len + 1;
    return d;
}

int batch_record(struct batch *b, const struct inbox_question *q, batch_recorded_fn done, void *arg)
{
    if (b->records.n >= BATCH_MAX_RECORDS)
        return ERR_TOOBIG;
    const char *thread = q->thread ? q->thread : "";
    size_t lens[5] = { strlen(q->platform), strlen(q->event), strlen(q->user), strlen(q->channel),
                       strlen(thread) };
    size_t need = q->len + 1;
    for (int i = 0; i < 5; i++)
        need += lens[i] + 1;
    char *text = malloc(need);
    struct record *r = text ? push(&b->records, sizeof *r) : NULL;
    if (!r) {
        free(text);
        return ERR_NOMEM;
    }
    char *at = text;
    r->text = text;
    r->q = *q;
    r->q.n = 0;
    r->q.attempts = 1; /* answered right after it is acknowledged: see inbox_attempt() */
    r->q.platform = copy(&at, q->platform, lens[0]);
    r->q.event = copy(&at, q->event, lens[1]);
    r->q.user = copy(&at, q->user, lens[2]);
    r->q.channel = copy(&at, q->channel, lens[3]);
    r->q.thread = copy(&at, thread, lens[4]);
    r->q.text = copy(&at, q->text, q->len);
    r->done = done;
    r->arg = arg;
    return 0;
}

void batch_settle(struct batch *b, int64_t n, int answered)
{
    if (!n || !b->inbox)
        return;
    if (b->open > 0) /* a question a stop left open was never counted */
        b->open--;
    if (b->settles.n == 0)
        b->settles_from = monotonic_ms();
    struct inbox_settle *s = b->settles.n < SETTLES_MAX ? push(&b->settles, sizeof *s) : NULL;
    if (s) {
        s->n = n;
        s->answered = answered;
        return;
    }
    /* no room to wait: write it alone, now */
    struct inbox_settle one = { n, answered };
    if (inbox_settle(b->inbox, &one, 1, (int64_t)time(NULL)))
        log_msg(LOG_WARN, "cannot settle a question: %s; the next start answers it again",
                inbox_errmsg(b->inbox));
}

void batch_declined(struct batch *b, const char *question, size_t len, const char *via)
{
    if (b->declined.n >= BATCH_MAX_DECLINED) {
        log_msg(LOG_DEBUG, "a declined question was not listed: %d wait already",
                BATCH_MAX_DECLINED);
        return;
    }
    char *copy_of = malloc(len + 1);
    struct declined *d = copy_of ? push(&b->declined, sizeof *d) : NULL;
    if (!d) {
        free(copy_of);
        return;
    }
    memcpy(copy_of, question, len);
    copy_of[len] = '\0';
    d->question = copy_of;
    d->len = len;
    d->via = via;
}

/* Makes inbox_add's arrays hold n. */
static int reserve(struct batch *b, size_t n)
{
    if (n <= b->nresults)
        return 0;
    int *rcs = realloc(b->rcs, n * sizeof *rcs);
    if (rcs)
        b->rcs = rcs;
    struct inbox_question *qs = rcs ? realloc(b->qs, n * sizeof *qs) : NULL;
    if (!qs)
        return ERR_NOMEM;
    b->qs = qs;
    b->nresults = n;
    return 0;
}

/* Writes the records in one transaction and reports each; returns how many it reported. */
static size_t flush_records(struct batch *b)
{
    struct queue q = b->records; /* what the callbacks record waits for the next flush */
    b->records = b->flushing;
    b->flushing = q;
    struct record *r = q.items;
    size_t n = q.n;
    int rc = 0;
    if (b->inbox && !(rc = reserve(b, n))) {
        for (size_t i = 0; i < n; i++)
            b->qs[i] = r[i].q;
        /* the settles waiting go in the same transaction: one commit for the turn */
        inbox_set_busy_ms(b->inbox, RECORD_BUSY_MS);
        rc = inbox_write(b->inbox, b->qs, n, b->rcs, b->settles.items, b->settles.n,
                         (int64_t)time(NULL));
        if (!rc)
            b->settles.n = 0;
    }
    if (rc)
        log_msg(LOG_ERROR, "cannot record %zu question%s: %s", n, n == 1 ? "" : "s",
                rc == ERR_NOMEM ? "out of memory" : inbox_errmsg(b->inbox));
    for (size_t i = 0; i < n; i++) {
        int one = rc ? rc : b->inbox ? b->rcs[i] : 0;
        if (!one && b->inbox)
            b->open++;
        r[i].done(r[i].arg, one, one || !b->inbox ? 0 : b->qs[i].n);
        free(r[i].text);
    }
    b->flushing.n = 0;
    return n;
}

/* Writes the settles in one transaction; kept for the next flush when that fails. */
static void flush_settles(struct batch *b)
{
    inbox_set_busy_ms(b->inbox, 0); /* a held lock: try again next time, never wait */
    int rc = inbox_settle(b->inbox, b->settles.items, b->settles.n, (int64_t)time(NULL));
    if (!rc) {
        b->settles.n = 0;
        b->warned_settle = 0;
    } else if (!b->warned_settle) {
        log_msg(LOG_WARN, "cannot settle %zu question%s yet: %s", b->settles.n,
                b->settles.n == 1 ? "" : "s", inbox_errmsg(b->inbox));
        b->warned_settle = 1;
    }
}

static void flush_declined(struct batch *b)
{
    struct declined *d = b->declined.items;
    struct kb_declined *notes = malloc(b->declined.n * sizeof *notes);
    if (!notes)
        return; /* kept for the next flush */
    for (size_t i = 0; i < b->declined.n; i++)
        notes[i] = (struct kb_declined){ d[i].question, d[i].len, d[i].via };
    /* never waits: a moderator's change at the terminal holds the lock only for a moment */
    int rc = kb_unanswered_note(b->kb, notes, b->declined.n, 0);
    free(notes);
    if (rc == ERR_BUSY)
        return; /* kept for a later flush */
    if (rc)
        log_msg(LOG_DEBUG, "%zu declined question%s not listed: %s", b->declined.n,
                b->declined.n == 1 ? " was" : "s were", kb_errmsg(b->kb));
    free_declined(&b->declined);
}

int batch_flush_at(struct batch *b, int64_t now_ms)
{
    size_t reported = b->records.n ? flush_records(b) : 0; /* the settles waiting go along */
    if (b->settles.n &&
        (b->settles.n >= BATCH_SETTLE_GROUP || now_ms - b->settles_from >= BATCH_SETTLE_WAIT_MS))
        flush_settles(b);
    if (b->declined.n)
        flush_declined(b);
    return reported > 0;
}

int batch_flush(struct batch *b)
{
    return batch_flush_at(b, monotonic_ms());
}

void batch_drain(struct batch *b)
{
    while (batch_flush(b))
        ;
    if (b->settles.n)
        flush_settles(b);
}

int batch_pending(const struct batch *b)
{
    return b->records.n || b->settles.n || b->declined.n;
}

size_t batch_open(const struct batch *b)
{
    return b->open;
}
