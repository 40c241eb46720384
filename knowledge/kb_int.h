/* kb_int.h - what the kb_*.c files and the matcher share about a knowledge base handle.
 * Nothing outside knowledge/ includes this. */
#ifndef PLANBOT_KB_INT_H
#define PLANBOT_KB_INT_H

#include <sqlite3.h>
#include <stddef.h>
#include <time.h>

#include "kb.h"

#if defined(__GNUC__)
#define KB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KB_PRINTF(f, a)
#endif

enum {
    KB_CARD_SLOTS = 256, /* cards kept (kb_card.c), direct-mapped by id */
    KB_STMT_CACHE = 16,
    KB_BUSY_MS = 5000 /* how long a statement waits for another process's lock, by default */
};

struct kb {
    sqlite3 *db; /* owned connection */
    struct {
        char *sql;          /* owned */
        sqlite3_stmt *st;   /* owned */
    } stmts[KB_STMT_CACHE]; /* prepared statements kept for reuse (kb_stmt) */
    int next_stmt;          /* the cache slot to replace next */
    char *path;             /* owned copy of the path */
    int readonly;           /* opened read-only: every write fails with ERR_READONLY */
    int version;            /* the schema version of the file (older only when read-only) */
    uint64_t own_writes;    /* commits made through this handle, for kb_stamp() */
    int reading;            /* inside kb_read_begin(): one snapshot, so one stamp */
    int held;               /* the read transaction is kb_read_hold()'s */
    int stamp_known;        /* reading, and stamp is that snapshot's */
    uint64_t stamp;
    int busy_ms;                /* the wait for another process's lock (kb_set_busy_ms) */
    sqlite3_stmt *data_version; /* PRAGMA data_version, prepared once */
    sqlite3_stmt *read_begin;   /* BEGIN and COMMIT of kb_read_begin(), prepared once: a */
    sqlite3_stmt *read_commit;  /* question's transaction, not a parse of each per question */
    sqlite3_stmt *card;         /* kb_card()'s statement, prepared on first use */
    struct kb_card_slot *cards; /* owned: kb_card()'s cache, KB_CARD_SLOTS of them, or NULL */
    double fts_avglen[8];       /* average tokens per column of entries_fts, for BM25 (match.c) */
    char errmsg[1024];          /* detail of the last failure */
};

/* The most words of a word or phrase a question is matched against (a synonym, a speaker's other
 * name, a party's word). */
enum { KB_MAX_PHRASE_WORDS = 6 };

/* The schema version that added the parties: a read-only database before it has none. */
enum { KB_SCHEMA_PARTIES = 6 };

/* Size caps of record fields and files. */
enum {
    KB_MAX_ID = 64,
    KB_MAX_TITLE = 300,
    KB_MAX_TEXT = 8000,
    KB_MAX_NAME = 200,
    KB_MAX_LIST = 64,
    KB_MAX_ITEM = 120,
    KB_MAX_SOURCE_TEXT = 8 * 1024 * 1024,
    KB_MAX_FILE = 64 * 1024 * 1024,
    KB_MAX_QUESTION = 500,    /* bytes of a declined question kept (kb_unanswered.c) */
    KB_MAX_UNANSWERED = 10000 /* declined questions kept; the least asked go first */
};

/* Sets the handle's message and returns err. */
int kb_fail(struct kb *kb, int err, const char *fmt, ...) KB_PRINTF(3, 4);

/* Maps a SQLite result code to an enum err, sets a message naming what failed, returns the err. */
int kb_dbfail(struct kb *kb, int rc, const char *what);

/* Runs sql (several statements allowed); on failure sets a message naming what and returns the
 * err. */
int kb_exec(struct kb *kb, const char *sql, const char *what);

/* Transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. kb_commit() counts the write for kb_stamp().
 * kb_commit_quiet() does not: for writes to what the matcher never reads (the unanswered
 * questions), so that they do not make it reload its caches. Both roll back when COMMIT fails. */
int kb_begin(struct kb *kb);
int kb_commit(struct kb *kb);
int kb_commit_quiet(struct kb *kb);
void kb_rollback(struct kb *kb);

/* Runs fn(kb, arg) in a write transaction that waits at most busy_ms for another process's
 * lock, committed quietly when fn returns 0, else rolled back; returns fn's result or the
 * transaction's failure. For the bookkeeping beside the knowledge (the unanswered questions),
 * which the daemon writes on its one thread: it must not wait as long as a moderator's change
 * may. */
int kb_quick_write(struct kb *kb, int busy_ms, int (*fn)(struct kb *, const void *),
                   const void *arg);

/* Opens the SQLite file at path read-only, also a WAL file in a folder planbot cannot write
 * (then as immutable). Returns SQLITE_OK and *db (the caller closes it), or a SQLite result code.
 */
int kb_open_file_ro(const char *path, sqlite3 **db);

/* Prepares a statement, setting the message on failure. The caller finalizes it. */
int kb_prepare(struct kb *kb, const char *sql, sqlite3_stmt **st);

/* A prepared statement for sql from the handle's cache (prepared on a miss), reset and with no
 * bindings. Borrowed: hand it back with kb_stmt_done() when its last row is read, never finalize
 * it; do not ask for the same sql again while it is in use. */
int kb_stmt(struct kb *kb, const char *sql, sqlite3_stmt **st);
void kb_stmt_done(sqlite3_stmt *st);

/* Steps st to its end, turning each row into a JSON object with row(st, arg) (NULL: out of
 * memory), and finalizes st. Returns 0 and the array in *out (caller frees), or an error with
 * what naming the operation in the message. */
int kb_rows(struct kb *kb, sqlite3_stmt *st, cJSON *(*row)(sqlite3_stmt *st, const void *arg),
            const void *arg, const char *what, cJSON **out);

/* The current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes); kb_time() the
 * same for time t. Such times sort as strings. */
void kb_now(char *out, size_t len);
void kb_time(time_t t, char *out, size_t len);

/* A column of the current row as a string; "" for NULL. Borrowed until the next step. */
const char *kb_col(sqlite3_stmt *st, int i);

/* Frees kb_card()'s cache (kb_card.c). */
void kb_card_cache_free(struct kb *kb);

/* The record layer (kb_record.c), used inside a transaction the caller holds. */
int kb_record_put(struct kb *kb, enum kb_type t, const cJSON *rec, enum kb_put_mode mode,
                  const struct kb_actor *who, const char *note, int64_t undoes, int64_t *change);
int kb_record_remove(struct kb *kb, enum kb_type t, const char *id, const struct kb_actor *who,
                     const char *note, int64_t undoes, int64_t *change);
/* Reads a record without its metadata, for comparisons and the audit log; ERR_NOTFOUND if none. */
int kb_record_get(struct kb *kb, enum kb_type t, const char *id, int meta, cJSON **out);
/* The key as the database stores it: a synonym's term trimmed and lowercase, copied into out
 * (len bytes); any other key is returned as it is. */
const char *kb_record_stored_key(enum kb_type t, const char *id, char *out, size_t len);
/* The key field of a record type ("id" or "term"). */
const char *kb_record_key(enum kb_type t);

/* Applies an export document inside the caller's transaction (kb_io.c; kb_open.c seeds a new
 * database with it). The layers, each calling only those before it: kb.c (the handle's
 * primitives), kb_record.c (one record and its audit), kb_io.c (documents of records), kb_open.c
 * (the schema). */
int kb_io_apply(struct kb *kb, const char *text, size_t len, const char *note,
                const struct kb_import_opts *opts, const struct kb_actor *who,
                struct kb_import_report *report);

/* The bundled knowledge base, compiled in (generated from knowledge/bundled.json). */
extern const char kb_bundled_json[];
extern const size_t kb_bundled_len;

#endif
