/* kb.h - the knowledge base: sources, entries, synonyms and the audit log of every change, in
 * SQLite.
 *
 * Records travel as cJSON objects in the same shape as the export file (see README, "Knowledge base
 * file format"), so the command line, the chat, import/export and the audit log share one codec.
 * Every change goes through one transaction that validates the record, writes it, keeps the FTS5
 * index in sync (triggers) and appends to the audit log; on any failure the database is unchanged.
 */
#ifndef PLANBOT_KB_H
#define PLANBOT_KB_H

#include <stdint.h>

#include <cjson/cJSON.h>

struct kb;

/* The kinds of record the knowledge base holds. A speaker is the person or body quotes are by
 * (an entry's "speaker"), with the other names people call them by. A party is a side of the
 * conflict or a body in it (Russia, Ukraine, NATO) with the words that name it ("Russian",
 * "Moscow"): whose army, whose troops a question asks about. */
enum kb_type { KB_SOURCE, KB_ENTRY, KB_SYNONYM, KB_SPEAKER, KB_PARTY };

/* Who makes a change and through what: recorded in the audit log. */
struct kb_actor {
    const char *who; /* a login name or a platform user id */
    const char *via; /* "cli", "console", "slack", ... */
};

enum kb_open_flags {
    KB_OPEN_READONLY = 1 << 0, /* never write; fails if the database does not exist yet */
    KB_OPEN_EMPTY = 1 << 1     /* when creating a new database, do not load the bundled data */
};

/* Opens the database at path, creating it (and its directory) with the bundled knowledge base when
 * it does not exist, and migrating an older schema. Returns 0 and *out, or an error with a message
 * in errbuf (never NULL on failure). The caller closes *out with kb_close(). */
int kb_open(struct kb **out, const char *path, unsigned flags, char *errbuf, size_t errlen);

/* Closes the database. Accepts NULL. */
void kb_close(struct kb *kb);

/* The detail of the last failure on this handle: "" when there is none. Borrowed. */
const char *kb_errmsg(const struct kb *kb);

/* How long a statement waits for another process's write lock before it fails with ERR_BUSY:
 * 5 s after kb_open, which suits the command line; a daemon answering on one thread waits less. */
void kb_set_busy_ms(struct kb *kb, int ms);

/* The database path the handle was opened with. Borrowed. */
const char *kb_path(const struct kb *kb);

/* Whether the database was opened for writing (not read-only, nor an immutable fallback). */
int kb_writable(const struct kb *kb);

/* Holds one read transaction over the reads that follow, until kb_read_end(): one snapshot, and
 * one lock taken and released instead of one per statement. Nothing may write through the handle
 * meanwhile. Returns 0 or a database error (then kb_read_end() is harmless). */
int kb_read_begin(struct kb *kb);
void kb_read_end(struct kb *kb);

/* The same, held over many answers until kb_read_release(): a daemon holds one for all the
 * questions of a turn of its loop, instead of a transaction (its BEGIN, COMMIT and locks) per
 * question. kb_read_begin() and kb_read_end() do nothing meanwhile; a write through the handle
 * (kb_begin(), a check, an export, an import) releases it first, and the reads after it read the
 * new data. Returns 0 or a database error. */
int kb_read_hold(struct kb *kb);
void kb_read_release(struct kb *kb);

/* A number that changes whenever the data changes, by this handle or another process: caches
 * keyed by it stay right. Noting an unanswered question through this handle does not change it. */
uint64_t kb_stamp(struct kb *kb);

/* The name of a record type ("source", "entry", "synonym", "speaker", "party") and its parse; -1
 * when unknown. */
const char *kb_type_name(enum kb_type t);
int kb_type_parse(const char *name);

/* Reads one record by id (a synonym's id is its term, a speaker's or a party's its name). Returns 0
 * and *out (caller frees with cJSON_Delete), or ERR_NOTFOUND. Entries carry their metadata
 * (created/updated at/by). */
int kb_get(struct kb *kb, enum kb_type t, const char *id, cJSON **out);

/* How kb_put treats an existing record. */
enum kb_put_mode {
    KB_PUT_ADD,   /* the id must be new: ERR_EXISTS otherwise */
    KB_PUT_EDIT,  /* the id must exist; fields absent from rec keep their value */
    KB_PUT_UPSERT /* add or replace whole */
};

/* Validates rec and writes it, recording the change. An edit that changes nothing records nothing
 * and sets *change to 0. Returns 0 and the change number in *change (may be NULL), or ERR_INVAL
 * (the message names the field), ERR_EXISTS, ERR_NOTFOUND, ERR_BUSY, ERR_READONLY, ERR_FULL,
 * ERR_DB. */
int kb_put(struct kb *kb, enum kb_type t, const cJSON *rec, enum kb_put_mode mode,
           const struct kb_actor *who, int64_t *change);

/* Removes a record, recording the change. ERR_NOTFOUND when there is none; ERR_REFERENCED for a
 * source that entries still cite. */
int kb_remove(struct kb *kb, enum kb_type t, const char *id, const struct kb_actor *who,
              int64_t *change);

/* What an answer shows of an entry and of the source it cites. */
struct kb_card {
    const char *id, *kind, *title, *text, *speaker, *role;
    const char *source, *source_title, *publisher, *date, *url;
    const char *authors; /* the source's authors as a JSON list, as stored */
};

/* Reads the card of entry id: one statement, prepared once, and one copy of its strings, which
 * are borrowed from the handle until the next kb_card() on it. For the path of a question, where
 * kb_get()'s JSON records (with the source's whole text) cost more than the answer. Returns 0,
 * ERR_NOTFOUND, or a database error. */
int kb_card(struct kb *kb, const char *id, struct kb_card *out);

/* Filters for kb_list; NULL fields do not filter. */
struct kb_filter {
    const char *kind;   /* entries of this kind */
    const char *source; /* entries citing this source */
};

/* Lists the records of a type in insertion order (the export keeps it) as a cJSON array (caller
 * frees). Entries and sources are listed without their long text fields when brief is set. */
int kb_list(struct kb *kb, enum kb_type t, const struct kb_filter *filter, int brief, cJSON **out);

/* Full-text search of entries for moderators: every word must occur (prefix match on the last).
 * Returns an array of {"id","kind","title","snippet"} best first, at most limit. */
int kb_search(struct kb *kb, const char *text, int limit, cJSON **out);

/* Number of entries. */
int64_t kb_count_entries(struct kb *kb);

/* The audit log, newest first: every change, or those of one record when id is not NULL (t is then
 * the record's type; an id alone is looked up as an entry). Array of {"change","at","who","via",
 * "action","type","id","undoes"} (caller frees). */
int kb_history(struct kb *kb, enum kb_type t, const char *id, int limit, cJSON **out);

/* One change in full, with "before" and "after" records (null when absent). */
int kb_change(struct kb *kb, int64_t change, cJSON **out);

/* Undoes a change: puts back the record as it was before. Refuses with ERR_CONFLICT when the record
 * changed since, unless force. Records the undo as a new change (*undo may be NULL). */
int kb_undo(struct kb *kb, int64_t change, int force, const struct kb_actor *who, int64_t *undo);

/* Options and report of kb_import. */
struct kb_import_opts {
    int replace; /* also remove entries and synonyms that the file does not hold */
    int dry_run; /* validate and count, change nothing */
};
struct kb_import_report {
    int added, updated, removed, unchanged; /* records, all types together */
    int64_t first_change, last_change;      /* the changes made; 0 when none */
};

/* Imports a knowledge base file (the export format). Everything is validated first; nothing is
 * written unless all of it is valid, and then all of it is written in one transaction. On ERR_INVAL
 * the message names the line and the field. */
int kb_import(struct kb *kb, const char *text, size_t len, const struct kb_import_opts *opts,
              const struct kb_actor *who, struct kb_import_report *report);

/* Imports the knowledge base compiled into planbot. */
int kb_import_bundled(struct kb *kb, const struct kb_import_opts *opts, const struct kb_actor *who,
                      struct kb_import_report *report);

/* The whole knowledge base as an export document (caller frees). */
int kb_export(struct kb *kb, cJSON **out);

/* The questions planbot declined, kept for moderators to see what to add (kb_unanswered.c). They
 * are not knowledge: neither the export nor the audit log holds them. */

/* A question planbot declined: as typed (len bytes), and on which platform via ("console",
 * "slack", ...). */
struct kb_declined {
    const char *question;
    size_t len;
    const char *via;
};

/* Records that planbot declined the n questions, in one transaction. Wordings that differ only in
 * ASCII case, white space and trailing "?", "!" or "." count as one question, which keeps its
 * latest wording as the matcher read it (mentions, emoji and other chat markup removed), on one
 * line, at most 500 bytes, cut between characters; a question with nothing left is skipped. Who
 * asked is never stored. Each question costs one search of the list's primary key, however long
 * the list is; kb_unanswered_tidy() keeps it in bounds. Waits at most busy_ms for another
 * process's lock, and leaves kb_stamp() as it is. Returns 0, or ERR_READONLY, ERR_BUSY, ERR_FULL,
 * ERR_DB with nothing recorded: the caller answers all the same. */
int kb_unanswered_note(struct kb *kb, const struct kb_declined *q, size_t n, int busy_ms);

/* Keeps the list of declined questions in bounds, in one transaction that deletes at most max of
 * them (each through an index): first those last asked more than keep_days days ago (when
 * keep_days > 0; 0 keeps them until cleared), then, while more than 10,000 are kept, the least
 * asked, then the longest unasked. *dropped (may be NULL) says how many went; max of them means
 * there may be more to drop. The count for the cap reads the whole list: this is for a timer,
 * not for the path of a question. Waits at most busy_ms for another process's lock. Returns 0
 * (also on a read-only database, which is left alone) or a database error. */
int kb_unanswered_tidy(struct kb *kb, int keep_days, int max, int busy_ms, int *dropped);

/* The declined questions, most asked first, then the most recently asked: an array of at most
 * limit (0: all) {"question", "count", "first_asked", "last_asked", "via"}, the times in UTC as
 * "YYYY-MM-DDTHH:MM:SSZ". Returns 0 and *out (caller frees), or a database error. Works on a
 * read-only database, also one too old to hold the list (it is then empty). */
int kb_unanswered_list(struct kb *kb, int limit, cJSON **out);

/* Forgets every declined question; *cleared (may be NULL) says how many there were. This is not
 * a change to the knowledge: the audit log does not record it and it cannot be undone. Returns 0,
 * ERR_READONLY, ERR_BUSY or another database error. */
int kb_unanswered_clear(struct kb *kb, int64_t *cleared);

/* The sentences of the sources' stored texts that no entry citing the source holds, so that
 * moderators see what the knowledge base cannot answer from yet (kb_coverage.c): an array of at
 * most max {"source", "sentence"} in the sources' order, and in *total how many there are in all.
 * Headings, bylines, the title and other lines that do not end as a sentence does, copyright
 * notices, and the credit line naming every contributor or author are not counted. Returns 0
 * and *out (caller frees), or a database error. */
int kb_uncovered(struct kb *kb, int max, int64_t *total, cJSON **out);

/* ---- backup and check (kb_check.c) ---- */

/* What a knowledge base holds; and its inbox (inbox.h), the questions acknowledged to a chat
 * platform: -1 each when the knowledge base has no inbox file. */
struct kb_counts {
    int64_t entries, sources, synonyms, changes;
    int64_t inbox_open, inbox_settled;
};

/* What kb_backup wrote. */
struct kb_backup_stats {
    struct kb_counts counts; /* the records in the copy */
    int64_t bytes;           /* the size of the copy */
    int64_t inbox_bytes;     /* the size of the inbox's copy (inbox_file() of the path); 0: none */
};

/* Writes a consistent copy of the whole database (the audit log and every other table included)
 * to path with SQLite's online backup API: one snapshot, taken while other processes go on
 * writing. The copy goes to a temporary file beside path (mode 0600: it holds what people asked),
 * is made a self-contained rollback-journal database, opened again as a planbot database and
 * checked (the same schema version, SQLite's quick_check), synced, then renamed over path, and the
 * folder synced. Returns 0 and fills *st (may be NULL); or ERR_INVAL when path is the database
 * itself (by any name) or its -wal, -shm or -journal file, a folder, or not a regular file (a
 * device such as /dev/full, a pipe); ERR_READONLY when the folder cannot be written; ERR_FULL when
 * the disk is full; ERR_IO; ERR_BUSY when another process held a lock for the busy time; ERR_SCHEMA
 * when the database is damaged. The message names the file. On failure path is as it was and no
 * temporary file is left. */
int kb_backup(struct kb *kb, const char *path, struct kb_backup_stats *st);

/* What kb_check found. */
struct kb_check_report {
    struct kb_counts counts; /* the records checked; -1 each when damage stops the count */
    int64_t problems;        /* the problems found: 0 when consistent; may exceed those listed */
};

/* Checks the database: SQLite's integrity_check; the triggers that keep the search indexes in
 * step, and FTS5's integrity-check of both indexes against the entries; that every entry's source
 * exists and, when the source stores its text, that the entry's text is in it byte for byte (what
 * the writes store); that a quote has a speaker and nothing else has one; that keywords, authors
 * and synonyms' words are JSON lists and a synonym's term is stored as questions look it up; that
 * every change's records parse and fit its action, and an undo undoes a change that exists. Only
 * reads. FTS5's check needs the write lock: on a read-only database, or when another process holds
 * the lock for 250 ms, it runs on a copy in memory (as large as the database). Returns 0, *rep,
 * and in *problems (caller frees) an array of at most max (at least 1) {"check", "problem"} in the
 * order found, "check" one of integrity, fts, entry, source, verbatim, synonym, speaker, party,
 * change; or ERR_BUSY, ERR_NOMEM, ERR_DB when the check could not run. Damage that stops a check is
 * a problem, not an error. */
int kb_check(struct kb *kb, int max, struct kb_check_report *rep, cJSON **problems);

#endif
