/* batch.h - group commit: what the daemon writes for each question, gathered over one turn of
 * its event loop and written in one transaction each.
 *
 * For every question a chat platform delivers, the daemon writes its record in the inbox before
 * it acknowledges it, settles the record once the reply is posted, and notes a declined question
 * for `kb unanswered`. One transaction each would cost a lock, a commit and WAL frames per
 * question; here the records of every event one turn of the loop received go in one
 * transaction, and so do the settles, and the declined questions. Nothing is acknowledged
 * before its record is committed: the adapter acknowledges in the callback batch_flush() makes
 * after the commit. bot.c calls batch_flush() before the loop waits (loop_before_wait), and
 * after each message of an adapter that has no loop (the console). */
#ifndef PLANBOT_BATCH_H
#define PLANBOT_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "inbox.h"
#include "kb.h"

struct batch;

enum {
    BATCH_MAX_RECORDS = 10000,  /* records waiting for a flush; past this, batch_record refuses */
    BATCH_MAX_DECLINED = 10000, /* declined questions waiting (a held lock); past this, dropped */
    BATCH_SETTLE_WAIT_MS = 20,  /* settles with no record to go with wait this long at most... */
    BATCH_SETTLE_GROUP = 256    /* ...or until this many wait */
};

/* The outcome of a record: rc 0 and the record's number, ERR_EXISTS (recorded before: a
 * redelivery), or the error that kept the transaction from committing (nothing recorded). */
typedef void (*batch_recorded_fn)(void *arg, int rc, int64_t record);

/* Creates a batch writing to kb (declined questions) and inbox (records and settles; NULL: the
 * knowledge base keeps no inbox, and records complete at once with rc 0 and record 0), both
 * borrowed. Returns 0 and *out, or ERR_NOMEM. */
int batch_new(struct batch **out, struct kb *kb, struct inbox *inbox);

/* Frees the batch, dropping what is queued: the records not written never get their callback
 * (so they are never acknowledged, and the platform delivers them again). Flush first to keep
 * the settles. Accepts NULL. */
void batch_free(struct batch *b);

/* Queues the record of q (copied; q->n and q->attempts are ignored: a record starts with one
 * attempt, as the daemon answers it right after). done(arg, rc, record) runs in the next
 * batch_flush(), on the same thread, exactly once, unless this returns an error: ERR_TOOBIG
 * (BATCH_MAX_RECORDS wait already) or ERR_NOMEM. */
int batch_record(struct batch *b, const struct inbox_question *q, batch_recorded_fn done,
                 void *arg);

/* Queues the settle of record n (0: nothing). It is written in the next batch_flush(); a settle
 * that fails (a lock held too long) is kept and written in a later one. */
void batch_settle(struct batch *b, int64_t n, int answered);

/* Queues a declined question (copied) for `kb unanswered`. Best effort: the next batch_flush()
 * writes it unless another process holds the knowledge base's lock, then a later one; past
 * BATCH_MAX_DECLINED waiting, new ones are dropped. */
void batch_declined(struct batch *b, const char *question, size_t len, const char *via);

/* Writes what is queued: the records in one transaction with the settles waiting (waiting at most
 * 250 ms for another process's lock), then reports each through its done(); settles with no
 * record to go with in one transaction of their own, once the oldest has waited
 * BATCH_SETTLE_WAIT_MS or BATCH_SETTLE_GROUP wait (the replies of a burst come back in turns of
 * their own: one commit for many, not one per turn); the declined questions in one. Settles and
 * declined questions never wait for a lock (they are kept for a later flush). Returns nonzero
 * when it reported records: their callbacks may have queued more to write. */
int batch_flush(struct batch *b);

/* batch_flush() at the time now_ms (on the monotonic clock, in ms), for tests. */
int batch_flush_at(struct batch *b, int64_t now_ms);

/* Writes everything queued, the settles however young: for the end of a run. */
void batch_drain(struct batch *b);

/* Whether anything waits to be written. */
int batch_pending(const struct batch *b);

/* How many questions this run recorded (the write committed) that are not settled yet: those
 * being answered now. A question an earlier run left open is not counted, nor does its settle
 * count against the others. */
size_t batch_open(const struct batch *b);

#endif
