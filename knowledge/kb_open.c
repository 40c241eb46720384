/* kb_open.c - opening and closing the knowledge base: the schema and its migrations.
 *
 * The schema version lives in PRAGMA user_version; migrations[i] takes a database from version i
 * to i + 1 and runs in the same IMMEDIATE transaction that checks the version, so two processes
 * opening a new database at once cannot both create it. A database created here is filled with
 * the bundled knowledge base in that same transaction (kb_io.c): it is either complete or absent.
 * The top layer of the handle: kb.c and the record layers below it never call back up here. */
#include "kb_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "inbox.h"

/* The FTS5 indexes are external-content tables over entries, kept in sync by triggers:
 * entries_fts (porter stems) serves matching, entries_words (unstemmed words) only its vocabulary,
 * which the matcher uses for typo tolerance. */
/* The FTS5 indexes over entries, their vocabularies and the triggers that keep them in step, for
 * a list of the entries' columns they index (COLS; NEW and OLD: the same with "new." and "old."
 * before each), filled from the entries. Version 1 indexed five columns; version 5 adds the
 * example questions. */
#define ENTRY_INDEXES(COLS, NEW, OLD)                                                              \
    "CREATE VIRTUAL TABLE entries_fts USING fts5(" COLS ","                                        \
    "  content='entries', content_rowid='n',"                                                      \
    "  tokenize='porter unicode61 remove_diacritics 2');"                                          \
    "CREATE VIRTUAL TABLE entries_words USING fts5(" COLS ","                                      \
    "  content='entries', content_rowid='n', detail=none, columnsize=0,"                           \
    "  tokenize='unicode61 remove_diacritics 2');"                                                 \
    "CREATE VIRTUAL TABLE entries_fts_terms USING fts5vocab(entries_fts, row);"                    \
    "CREATE VIRTUAL TABLE entries_words_terms USING fts5vocab(entries_words, row);"                \
    "CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN"                                      \
    "  INSERT INTO entries_fts(rowid, " COLS ") VALUES (new.n, " NEW ");"                          \
    "  INSERT INTO entries_words(rowid, " COLS ") VALUES (new.n, " NEW ");"                        \
    "END;"                                                                                         \
    "CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN"                                      \
    "  INSERT INTO entries_fts(entries_fts, rowid, " COLS ") VALUES ('delete', old.n, " OLD ");"   \
    "  INSERT INTO entries_words(entries_words, rowid, " COLS ") VALUES ('delete', old.n, " OLD    \
    ");"                                                                                           \
    "END;"                                                                                         \
    "CREATE TRIGGER entries_au AFTER UPDATE ON entries BEGIN"                                      \
    "  INSERT INTO entries_fts(entries_fts, rowid, " COLS ") VALUES ('delete', old.n, " OLD ");"   \
    "  INSERT INTO entries_words(entries_words, rowid, " COLS ") VALUES ('delete', old.n, " OLD    \
    ");"                                                                                           \
    "  INSERT INTO entries_fts(rowid, " COLS ") VALUES (new.n, " NEW ");"                          \
    "  INSERT INTO entries_words(rowid, " COLS ") VALUES (new.n, " NEW ");"                        \
    "END;"                                                                                         \
    "INSERT INTO entries_fts(entries_fts) VALUES ('rebuild');"                                     \
    "INSERT INTO entries_words(entries_words) VALUES ('rebuild');"

static const char *const migrations[] = {
    /* version 1 */
    "CREATE TABLE sources ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT NOT NULL,"
    "  publisher TEXT NOT NULL DEFAULT '',"
    "  authors TEXT NOT NULL DEFAULT '[]',"
    "  date TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  text TEXT,"
    "  created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE TABLE entries ("
    "  n INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('provision', 'quote', 'context')),"
    "  title TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  speaker TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL DEFAULT '',"
    "  source TEXT NOT NULL REFERENCES sources(id),"
    "  keywords TEXT NOT NULL DEFAULT '[]',"
    "  created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE INDEX entries_by_source ON entries(source);"
    "CREATE TABLE synonyms ("
    "  term TEXT PRIMARY KEY NOT NULL,"
    "  words TEXT NOT NULL,"
    "  created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE TABLE changes ("
    "  n INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  via TEXT NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('add', 'edit', 'remove', 'undo')),"
    "  type TEXT NOT NULL CHECK (type IN ('source', 'entry', 'synonym')),"
    "  id TEXT NOT NULL,"
    "  before TEXT,"
    "  after TEXT,"
    "  undoes INTEGER REFERENCES changes(n),"
    "  note TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX changes_by_record ON changes(type, id);" ENTRY_INDEXES(
        "title, text, speaker, role, keywords",
        "new.title, new.text, new.speaker, new.role, new.keywords",
        "old.title, old.text, old.speaker, old.role, old.keywords"),
    /* version 2: the questions planbot declined (kb_unanswered.c). Who asked is not kept. */
    "CREATE TABLE unanswered ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  question TEXT NOT NULL,"
    "  count INTEGER NOT NULL DEFAULT 1,"
    "  first_asked TEXT NOT NULL,"
    "  last_asked TEXT NOT NULL,"
    "  via TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX unanswered_by_count ON unanswered(count, last_asked);"
    "CREATE INDEX unanswered_by_age ON unanswered(last_asked);",
    /* version 3: the questions acknowledged to a chat platform, until their reply is delivered
     * (then kb_inbox.c; inbox.c since version 4), so that a crash between the two loses none. */
    "CREATE TABLE inbox ("
    "  n INTEGER PRIMARY KEY,"
    "  platform TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  received INTEGER NOT NULL,"
    "  user TEXT NOT NULL,"
    "  channel TEXT NOT NULL,"
    "  thread TEXT NOT NULL,"
    "  direct INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'expired')),"
    "  settled INTEGER,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (platform, event));"
    "CREATE INDEX inbox_open ON inbox(state, platform, n);",
    /* version 4: the inbox moves to a file of its own (inbox.c), so that no change to the
     * knowledge can delay an acknowledgement; migrate() copies its records there first. */
    "DROP TABLE inbox;",
    /* version 5: example questions on entries (matched as a field of their own), a source's
     * contributors and the date it was last updated, and the speakers with their other names. The
     * audit log is copied into a table whose type may be a speaker; the indexes are built again
     * with the new column and filled from the entries. */
    "ALTER TABLE entries ADD COLUMN examples TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE sources ADD COLUMN contributors TEXT NOT NULL DEFAULT '[]';"
    "ALTER TABLE sources ADD COLUMN updated TEXT NOT NULL DEFAULT '';"
    "CREATE TABLE speakers ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  role TEXT NOT NULL DEFAULT '',"
    "  aliases TEXT NOT NULL DEFAULT '[]',"
    "  created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE TABLE changes_v5 ("
    "  n INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  via TEXT NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('add', 'edit', 'remove', 'undo')),"
    "  type TEXT NOT NULL"
    "    CHECK (type = 'source' OR type = 'entry' OR type = 'synonym' OR type = 'speaker'),"
    "  id TEXT NOT NULL,"
    "  before TEXT,"
    "  after TEXT,"
    "  undoes INTEGER REFERENCES changes(n),"
    "  note TEXT NOT NULL DEFAULT '');"
    "INSERT INTO changes_v5 SELECT n, at, who, via, action, type, id, before, after, undoes, note"
    "  FROM changes;"
    "DROP TABLE changes;"
    "ALTER TABLE changes_v5 RENAME TO changes;"
    "CREATE INDEX changes_by_record ON changes(type, id);"
    "DROP TRIGGER entries_ai; DROP TRIGGER entries_ad; DROP TRIGGER entries_au;"
    "DROP TABLE entries_fts_terms; DROP TABLE entries_words_terms;"
    "DROP TABLE entries_fts; DROP TABLE entries_words;" ENTRY_INDEXES(
        "title, text, speaker, role, keywords, examples",
        "new.title, new.text, new.speaker, new.role, new.keywords, new.examples",
        "old.title, old.text, old.speaker, old.role, old.keywords, old.examples"),
    /* version 6: the parties, with the words that name them (match.c: whose army a question asks
     * about); the audit log is copied into a table whose type may be a party. */
    "CREATE TABLE parties ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  words TEXT NOT NULL DEFAULT '[]',"
    "  created_at TEXT NOT NULL, created_by TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL, updated_by TEXT NOT NULL);"
    "CREATE TABLE changes_v6 ("
    "  n INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  who TEXT NOT NULL,"
    "  via TEXT NOT NULL,"
    "  action TEXT NOT NULL CHECK (action IN ('add', 'edit', 'remove', 'undo')),"
    "  type TEXT NOT NULL CHECK (type IN ('source', 'entry', 'synonym', 'speaker', 'party')),"
    "  id TEXT NOT NULL,"
    "  before TEXT,"
    "  after TEXT,"
    "  undoes INTEGER REFERENCES changes(n),"
    "  note TEXT NOT NULL DEFAULT '');"
    "INSERT INTO changes_v6 SELECT n, at, who, via, action, type, id, before, after, undoes, note"
    "  FROM changes;"
    "DROP TABLE changes;"
    "ALTER TABLE changes_v6 RENAME TO changes;"
    "CREATE INDEX changes_by_record ON changes(type, id);",
};

enum { SCHEMA_OWN_INBOX = 4 /* the version from which the inbox is a file of its own */ };

/* SCHEMA_VERSION is what a database is migrated to. A read-only handle cannot migrate, and reads
 * a database from SCHEMA_READABLE on as it is: the later versions do not touch the entries or
 * their indexes (version 6 adds the parties, which such a handle reads as none). Before it, version
 * 5 added columns that every read of an entry or a source names, so an older read-only database
 * must be opened once to write first. */
enum { SCHEMA_VERSION = sizeof migrations / sizeof migrations[0], SCHEMA_READABLE = 5 };

/* Finalizes every statement of the handle and closes the connection. */
static void close_db(struct kb *kb)
{
    sqlite3_finalize(kb->data_version);
    kb->data_version = NULL;
    sqlite3_finalize(kb->read_begin);
    kb->read_begin = NULL;
    sqlite3_finalize(kb->read_commit);
    kb->read_commit = NULL;
    sqlite3_finalize(kb->card);
    kb->card = NULL;
    kb_card_cache_free(kb);
    for (int i = 0; i < KB_STMT_CACHE; i++) {
        sqlite3_finalize(kb->stmts[i].st);
        free(kb->stmts[i].sql);
        kb->stmts[i].st = NULL;
        kb->stmts[i].sql = NULL;
    }
    sqlite3_close(kb->db);
    kb->db = NULL;
}

/* Creates the directories above path, like mkdir -p of its dirname. */
static int make_parent_dirs(const char *path)
{
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s", path);
    if (n < 0 || (size_t)n >= sizeof dir)
        return ERR_TOOBIG;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST)
            return ERR_IO;
        *p = '/';
    }
    if (mkdir(dir, 0755) && errno != EEXIST)
        return ERR_IO;
    return 0;
}

/* Removes a database that failed to initialise, with its WAL and shared-memory files. */
static void remove_database_files(const char *path)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[4200];
        int n = snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof name)
            unlink(name);
    }
}

static int user_version(struct kb *kb, int *version)
{
    sqlite3_stmt *st;
    int rc = kb_prepare(kb, "PRAGMA user_version", &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : kb_dbfail(kb, rc, "reading the schema version");
}

static int table_count(struct kb *kb, int *count)
{
    sqlite3_stmt *st;
    int rc = kb_prepare(kb, "SELECT count(*) FROM sqlite_schema", &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    *count = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : kb_dbfail(kb, rc, "reading the schema");
}

/* Copies the records of the inbox table of a database from before SCHEMA_OWN_INBOX into the inbox
 * file, before the migration drops the table: open questions must survive the upgrade. A copy
 * that a crash interrupts is simply made again. */
static int move_inbox(struct kb *kb)
{
    sqlite3_stmt *st;
    int64_t rows = 0;
    if (sqlite3_prepare_v2(kb->db,
                           "SELECT count(*) FROM sqlite_schema WHERE name = 'inbox' AND"
                           " type = 'table'",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1) {
        sqlite3_finalize(st);
        int rc = kb_prepare(kb, "SELECT count(*) FROM inbox", &st);
        if (rc)
            return rc;
        if (sqlite3_step(st) == SQLITE_ROW)
            rows = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rows == 0)
        return 0;
    struct inbox *ib;
    char err[1024];
    int moved = 0;
    int rc = inbox_open(&ib, kb->path, err, sizeof err);
    if (!rc) {
        rc = inbox_adopt(ib, kb->path, (int64_t)time(NULL), &moved);
        if (rc)
            snprintf(err, sizeof err, "%s", inbox_errmsg(ib));
        inbox_close(ib);
    }
    if (rc)
        return kb_fail(kb, rc, "moving the questions waiting for an answer out of %s: %s", kb->path,
                       err);
    return 0;
}

/* Brings the schema to SCHEMA_VERSION; a new database also receives the bundled data. */
static int migrate(struct kb *kb, unsigned flags)
{
    int version, tables, rc;
    if ((rc = user_version(kb, &version)))
        return rc;
    if (version > SCHEMA_VERSION)
        return kb_fail(kb, ERR_SCHEMA,
                       "%s has schema version %d, newer than this planbot knows (%d): "
                       "upgrade planbot",
                       kb->path, version, SCHEMA_VERSION);
    kb->version = version;
    if (version == SCHEMA_VERSION || (kb->readonly && version >= SCHEMA_READABLE))
        return 0;
    if (kb->readonly)
        return kb_fail(kb, ERR_READONLY,
                       "%s needs its schema upgraded from version %d to %d but is read-only",
                       kb->path, version, SCHEMA_VERSION);
    if (version > 0 && version < SCHEMA_OWN_INBOX && (rc = move_inbox(kb)))
        return rc;
    if ((rc = kb_begin(kb)))
        return rc;
    /* Read again under the write lock: another process may have migrated meanwhile. */
    if ((rc = user_version(kb, &version)) || (rc = table_count(kb, &tables)))
        goto fail;
    if (version == 0 && tables > 0) {
        rc = kb_fail(kb, ERR_SCHEMA,
                     "%s is not a planbot database: it has tables but no planbot schema version",
                     kb->path);
        goto fail;
    }
    int fresh = version == 0;
    for (int v = version; v < SCHEMA_VERSION; v++) {
        char what[64], pragma[64];
        snprintf(what, sizeof what, "migrating the schema to version %d", v + 1);
        if ((rc = kb_exec(kb, migrations[v], what)))
            goto fail;
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if ((rc = kb_exec(kb, pragma, what)))
            goto fail;
    }
    if (fresh && !(flags & KB_OPEN_EMPTY)) {
        static const struct kb_actor planbot = { "planbot", "bundled" };
        struct kb_import_opts opts = { 0 };
        struct kb_import_report report;
        rc = kb_io_apply(kb, kb_bundled_json, kb_bundled_len, "bundled knowledge base", &opts,
                         &planbot, &report);
        if (rc) {
            char detail[sizeof kb->errmsg];
            snprintf(detail, sizeof detail, "%s", kb->errmsg);
            kb_fail(kb, rc, "loading the bundled knowledge base: %s", detail);
            goto fail;
        }
    }
    if ((rc = kb_commit(kb)))
        return rc;
    kb->version = SCHEMA_VERSION;
    return 0;
fail:
    kb_rollback(kb);
    return rc;
}

static int configure(struct kb *kb)
{
    int rc = kb_exec(kb, "PRAGMA foreign_keys = ON;", "configuring");
    if (rc)
        return rc;
    if (!kb->readonly) {
        rc = kb_exec(kb, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                     "switching to WAL mode");
        if (rc)
            return rc;
    }
    if ((rc = kb_prepare(kb, "BEGIN", &kb->read_begin)) ||
        (rc = kb_prepare(kb, "COMMIT", &kb->read_commit)))
        return rc;
    return kb_prepare(kb, "PRAGMA data_version", &kb->data_version);
}

static int setup(struct kb *kb, unsigned flags)
{
    sqlite3_extended_result_codes(kb->db, 1);
    kb_set_busy_ms(kb, KB_BUSY_MS);
    int rc = configure(kb);
    return rc ? rc : migrate(kb, flags);
}

/* "file:" URI of path with its own query, %-escaping what URIs reserve. */
static int uri_of(const char *path, const char *query, char *out, size_t len)
{
    size_t at = 0;
    int n = snprintf(out, len, "file:");
    at = (size_t)n;
    for (const char *p = path; *p; p++) {
        if (at + 4 >= len)
            return ERR_TOOBIG;
        if (*p == '?' || *p == '#' || *p == '%')
            at += (size_t)snprintf(out + at, len - at, "%%%02X", (unsigned char)*p);
        else
            out[at++] = *p;
    }
    n = snprintf(out + at, len - at, "?%s", query);
    return n < 0 || (size_t)n >= len - at ? ERR_TOOBIG : 0;
}

int kb_open_file_ro(const char *path, sqlite3 **db)
{
    static const char *const queries[] = { "mode=ro", "mode=ro&immutable=1" };
    int rc = SQLITE_CANTOPEN;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char uri[8400];
        if (uri_of(path, queries[i], uri, sizeof uri))
            return SQLITE_TOOBIG;
        *db = NULL;
        rc = sqlite3_open_v2(uri, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        if (rc == SQLITE_OK) { /* a WAL file is read at the first statement */
            sqlite3_extended_result_codes(*db, 1);
            rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL);
        }
        if (rc == SQLITE_OK)
            return rc;
        sqlite3_close(*db);
        *db = NULL;
    }
    return rc;
}

/* Opens read-only. A WAL database whose directory we cannot write (no -shm can be made) is
 * readable only as immutable: planbot then reads it as it is, and says nothing is writable. */
static int open_readonly(struct kb *kb, unsigned flags)
{
    static const char *const queries[] = { "mode=ro", "mode=ro&immutable=1" };
    int rc = 0;
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        char uri[8400];
        if (uri_of(kb->path, queries[i], uri, sizeof uri))
            return kb_fail(kb, ERR_TOOBIG, "the database path is too long");
        close_db(kb);
        rc = sqlite3_open_v2(uri, &kb->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        rc = rc == SQLITE_OK ? setup(kb, flags) : kb_dbfail(kb, rc, "opening the database");
        if (rc != ERR_READONLY && rc != ERR_IO)
            break;
    }
    return rc;
}

int kb_open(struct kb **out, const char *path, unsigned flags, char *errbuf, size_t errlen)
{
    *out = NULL;
    struct kb *kb = calloc(1, sizeof *kb);
    if (!kb) {
        snprintf(errbuf, errlen, "out of memory");
        return ERR_NOMEM;
    }
    int rc = ERR_NOMEM;
    kb->path = strdup(path);
    if (!kb->path)
        goto err;

    struct stat sb;
    int exists = stat(path, &sb) == 0;
    /* A file without write permission is read-only even for root, who could write it anyway. */
    kb->readonly = (flags & KB_OPEN_READONLY) ||
                   (exists && (access(path, W_OK) != 0 || (sb.st_mode & 0222) == 0));
    if (!exists && (flags & KB_OPEN_READONLY)) {
        rc = kb_fail(kb, ERR_NOTFOUND, "the database %s does not exist", path);
        goto err;
    }
    if (exists && S_ISDIR(sb.st_mode)) {
        rc = kb_fail(kb, ERR_IO, "%s is a directory, not a database file", path);
        goto err;
    }
    if (!exists && make_parent_dirs(path)) {
        rc = kb_fail(kb, ERR_IO, "cannot create the directory for %s: %s", path, strerror(errno));
        goto err;
    }
    if (kb->readonly) {
        rc = open_readonly(kb, flags);
    } else {
        rc = sqlite3_open_v2(
            path, &kb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, NULL);
        rc = rc == SQLITE_OK ? setup(kb, flags) : kb_dbfail(kb, rc, "opening the database");
    }
    if (rc) {
        if (!exists) {
            close_db(kb);
            remove_database_files(path);
        }
        goto err;
    }
    *out = kb;
    return 0;
err:
    snprintf(errbuf, errlen, "%s", kb->errmsg[0] ? kb->errmsg : err_str(rc));
    kb_close(kb);
    return rc;
}

void kb_close(struct kb *kb)
{
    if (!kb)
        return;
    close_db(kb);
    free(kb->path);
    free(kb);
}
