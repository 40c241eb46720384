/* inbox.h - the questions acknowledged to a chat platform, until their reply is delivered.
 *
 * A chat adapter records a question before it acknowledges it, and settles the record once the
 * reply is posted; at start, the records still open are the questions a stop or a crash left
 * unanswered. Settled records are kept a day, so that a redelivery after a restart is still
 * recognised, and then pruned in bounded batches (inbox_prune) away from the answering path.
 *
 * The inbox is a SQLite file of its own beside the knowledge base (inbox_file()): it is the only
 * thing the daemon writes for every question, and in a file of its own no moderator's change to
 * the knowledge base (a long `kb import` at the terminal) can hold its write lock. Every write
 * takes a batch: the daemon writes all the records one turn of its event loop received in one
 * transaction, and all the settles in another (group commit). Nothing on the path of a question
 * scans a table: each statement finds its rows through an index (tests/test_inbox.c checks the
 * query plans). */
#ifndef PLANBOT_INBOX_H
#define PLANBOT_INBOX_H

#include <stddef.h>
#include <stdint.h>

struct inbox;

enum {
    INBOX_KEEP_SETTLED_S = 86400, /* settled records are kept this long, to spot redeliveries */
    INBOX_SCHEMA = 2,             /* PRAGMA user_version of an inbox file */
    INBOX_SCHEMA_OLDEST = 1       /* the oldest version inbox_open() upgrades */
};

/* The inbox file of the knowledge base at kb_path: kb_path + ".inbox", into out (len bytes).
 * Returns 0, or ERR_TOOBIG when it does not fit. */
int inbox_file(const char *kb_path, char *out, size_t len);

/* Opens the inbox of the knowledge base at kb_path for writing, creating the file (mode 0600: it
 * holds what people asked) when it does not exist. Returns 0 and *out, or an error with a
 * message in err: ERR_READONLY when the file or its folder cannot be written, ERR_SCHEMA for a
 * file that is not an inbox or is from a newer planbot, ERR_IO. The caller closes *out. */
int inbox_open(struct inbox **out, const char *kb_path, char *err, size_t errlen);

/* Closes the inbox. Accepts NULL. */
void inbox_close(struct inbox *ib);

/* The detail of the last failure: "" when there is none. Borrowed. */
const char *inbox_errmsg(const struct inbox *ib);

/* The inbox's file name. Borrowed. */
const char *inbox_path(const struct inbox *ib);

/* How long a write waits for another process's lock: 250 ms after inbox_open (an acknowledgement
 * waits for the records). */
void inbox_set_busy_ms(struct inbox *ib, int ms);

struct inbox_question {
    int64_t n;            /* the record's number (inbox_add sets it) */
    const char *platform; /* "slack" */
    const char *event;    /* the platform's key for the event: a redelivery has the same */
    int64_t received;     /* Unix time */
    const char *user, *channel, *thread;
    int direct;
    const char *text; /* len bytes, not necessarily NUL-terminated (NUL-terminated when read) */
    size_t len;
    int attempts; /* how often planbot began to answer it */
};

/* Records the n questions in one transaction. For each: rc[i] = 0 and q[i].n set, or
 * rc[i] = ERR_EXISTS when (platform, event) was recorded before, also earlier in q (a redelivery:
 * acknowledge it, answer nothing). Returns 0 once the transaction is committed (durable: it
 * survives planbot being killed); otherwise a write error (ERR_BUSY, ERR_FULL, ERR_READONLY,
 * ERR_IO, ERR_NOMEM), with nothing recorded: acknowledge none of them, and the platform delivers
 * them again. */
int inbox_add(struct inbox *ib, struct inbox_question *q, size_t n, int *rc);

/* Notes that planbot begins to answer record n again (the replay at start), so that a question
 * that crashes planbot is not answered again at every start. */
int inbox_attempt(struct inbox *ib, int64_t n);

/* A record's outcome: its reply posted (answered), or never to be (not answered). */
struct inbox_settle {
    int64_t n;
    int answered;
};

/* Settles the n records in one transaction, at Unix time now. A record settled already stays as
 * it was. Returns 0 or a write error (nothing settled). */
int inbox_settle(struct inbox *ib, const struct inbox_settle *s, size_t n, int64_t now);

/* inbox_add() and inbox_settle() in one transaction: the daemon writes each turn of its loop
 * with one commit. Either list may be empty. Returns 0, or an error with nothing written. */
int inbox_write(struct inbox *ib, struct inbox_question *q, size_t nq, int *rc,
                const struct inbox_settle *s, size_t ns, int64_t now);

/* Deletes at most max of the records settled more than INBOX_KEEP_SETTLED_S before now, oldest
 * first, in one transaction, through an index: the cost is that of the rows deleted, whatever
 * the inbox holds. *pruned (may be NULL) says how many; fewer than max means none is left.
 * Returns 0 or a write error. */
int inbox_prune(struct inbox *ib, int64_t now, int max, int *pruned);

/* The open records of platform, oldest first: calls fn(arg, q) for each (q borrowed for the
 * call; fn may write to the inbox). Returns 0 or an error. */
int inbox_each_open(struct inbox *ib, const char *platform,
                    void (*fn)(void *arg, const struct inbox_question *q), void *arg);

/* What the inbox holds: open and settled records (a scan: not for the path of a question).
 * Returns 0 or an error. */
int inbox_count(struct inbox *ib, int64_t *open, int64_t *settled);

/* Takes over the records of the inbox table that knowledge bases of schema version 3 kept
 * (kb_open calls it before the migration that drops that table): the open ones, and those
 * settled within a day, kept as they were; records the inbox has already are left alone, so a
 * second run after a crash changes nothing. *moved says how many were copied. Returns 0 or an
 * error. */
int inbox_adopt(struct inbox *ib, const char *kb_path, int64_t now, int *moved);

/* Every statement on the path of a question (recording, attempting, settling, pruning, the
 * replay), NULL-terminated: all that the functions above but inbox_count() and inbox_adopt()
 * run, each prepared once at open. For the test that checks each one's query plan. */
extern const char *const inbox_statements[];

#endif
