/* kb_check.c - a consistent copy of the knowledge base (kb_backup) and its checks (kb_check).
 *
 * The backup is SQLite's online backup API in a single step: it reads one snapshot, so it is
 * consistent while the bot writes (in WAL mode a reader never waits for a writer), and it copies
 * every page, so the audit log and the declined questions come along. The copy is written to a
 * temporary file beside the target, switched out of WAL mode so that it is one self-contained file,
 * opened again the way planbot opens a database and checked, synced, and only then renamed over the
 * target: a failure at any step leaves the target as it was.
 *
 * The knowledge base's inbox (inbox.h), a file of its own, goes along: backed up beside the copy
 * the same way, and checked with it.
 *
 * The checks are SQLite's (integrity_check; FTS5's integrity-check, which compares each search
 * index with the entries) and the rules the writes enforce (kb_record.c): they find a database
 * damaged on disk or changed behind planbot's back. FTS5's check is an INSERT and needs the write
 * lock; on a read-only database, or while another process holds the lock, it runs on a copy in
 * memory. */
#include "kb_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "inbox.h"
#include "verbatim.h"

enum {
    PATH_BUF = 4200,     /* a path with a suffix */
    RETRY_MS = 50,       /* how long a busy backup step waits before it tries again */
    PROBLEM_TEXT = 600,  /* bytes of one problem's text */
    CHECK_NAME_MAX = 80, /* bytes of an id or term quoted in a problem */
    FTS_LOCK_MS = 250,   /* how long FTS5's check waits for the write lock before using a copy */
};

/* The files SQLite keeps beside a database. */
static const char *const db_suffixes[] = { "", "-wal", "-shm", "-journal" };
enum { NSUFFIXES = sizeof db_suffixes / sizeof db_suffixes[0] };

/* ---- shared ---- */

/* Turns control characters (line breaks in SQLite's reports) into spaces, in place. */
static char *one_line(char *s)
{
    for (char *t = s; *t; t++)
        if ((unsigned char)*t < 0x20)
            *t = ' ';
    return s;
}

/* Copies the whole of src's main database into dest's in one step, waiting up to busy_ms for
 * a lock another process holds. Returns a SQLite result code: SQLITE_OK when done. */
static int copy_database(sqlite3 *dest, sqlite3 *src, int busy_ms)
{
    sqlite3_backup *b = sqlite3_backup_init(dest, "main", src, "main");
    if (!b)
        return sqlite3_extended_errcode(dest);
    int rc, waited = 0;
    while (((rc = sqlite3_backup_step(b, -1)) & 0xff) == SQLITE_BUSY ||
           (rc & 0xff) == SQLITE_LOCKED) {
        if (waited >= busy_ms)
            break;
        sqlite3_sleep(RETRY_MS);
        waited += RETRY_MS;
    }
    int finish = sqlite3_backup_finish(b);
    return rc == SQLITE_DONE ? finish : rc;
}

/* How many records of each kind the database of kb holds (not its inbox: -1 there). */
static int count_records(struct kb *kb, struct kb_counts *n)
{
    memset(n, 0, sizeof *n);
    n->inbox_open = n->inbox_settled = -1;
    sqlite3_stmt *st;
    int rc = kb_prepare(kb,
                        "SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM sources),"
                        " (SELECT count(*) FROM synonyms), (SELECT count(*) FROM changes)",
                        &st);
    if (rc)
        return rc;
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        n->entries = sqlite3_column_int64(st, 0);
        n->sources = sqlite3_column_int64(st, 1);
        n->synonyms = sqlite3_column_int64(st, 2);
        n->changes = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return step == SQLITE_ROW ? 0 : kb_dbfail(kb, step, "counting the records");
}

/* ---- backup ---- */

/* The folder of path into dir (len bytes) and its last component. */
static const char *split_path(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(dir, len, ".");
        return path;
    }
    snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash + 1;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* Whether path is the live database (by any name), or its WAL, shared-memory or journal file
 * (existing or not): replacing one of those would destroy what the backup is meant to keep. */
static int names_file_of(const char *live, const char *path)
{
    if (same_file(path, live))
        return 1;
    char dir[PATH_BUF], live_dir[PATH_BUF];
    const char *base = split_path(path, dir, sizeof dir);
    const char *live_base = split_path(live, live_dir, sizeof live_dir);
    size_t n = strlen(live_base);
    if (strncmp(base, live_base, n) != 0 || !same_file(dir, live_dir))
        return 0;
    for (size_t i = 0; i < NSUFFIXES; i++)
        if (strcmp(base + n, db_suffixes[i]) == 0)
            return 1;
    return 0;
}

/* The same for the live database and its inbox, and for the inbox the backup would write. */
static int names_live_file(const struct kb *kb, const char *path)
{
    char live_inbox[PATH_BUF], path_inbox[PATH_BUF];
    if (names_file_of(kb->path, path))
        return 1;
    if (inbox_file(kb->path, live_inbox, sizeof live_inbox) ||
        inbox_file(path, path_inbox, sizeof path_inbox))
        return 1; /* too long to tell: refuse */
    return names_file_of(live_inbox, path) || names_file_of(live_inbox, path_inbox);
}

/* Sets the message for a failed system call on the backup file and returns its enum err. */
static int file_fail(struct kb *kb, int errnum, const char *path)
{
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        return kb_fail(kb, ERR_FULL, "cannot write the backup %s: the disk is full (%s)", path,
                       strerror(errnum));
    case EACCES:
    case EPERM:
    case EROFS:
        return kb_fail(kb, ERR_READONLY, "cannot write the backup %s: its folder is read-only (%s)",
                       path, strerror(errnum));
    }
    return kb_fail(kb, ERR_IO, "cannot write the backup %s: %s", path, strerror(errnum));
}

/* Sets the message for a failure of the copy (SQLite's result code rc on dest). */
static int copy_fail(struct kb *kb, int rc, sqlite3 *dest, const char *path)
{
    int errnum = dest ? sqlite3_system_errno(dest) : 0;
    const char *detail = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return kb_dbfail(kb, rc, "backing up");
    case SQLITE_NOMEM: return kb_fail(kb, ERR_NOMEM, "backing up: out of memory");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return kb_fail(kb, ERR_SCHEMA, "cannot back up %s: it is damaged (%s); kb check says where",
                       kb->path, detail);
    case SQLITE_FULL: return file_fail(kb, ENOSPC, path);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        if (errnum)
            return file_fail(kb, errnum, path);
        return kb_fail(kb, (rc & 0xff) == SQLITE_IOERR ? ERR_IO : ERR_READONLY,
                       "cannot write the backup %s: %s", path, detail);
    }
    return kb_fail(kb, ERR_DB, "cannot write the backup %s: %s", path, detail);
}

/* Removes the temporary copy and the files SQLite may have left beside it. */
static void remove_copy(const char *tmp)
{
    for (size_t i = 0; i < NSUFFIXES; i++) {
        char name[PATH_BUF + 16];
        int n = snprintf(name, sizeof name, "%s%s", tmp, db_suffixes[i]);
        if (n > 0 && (size_t)n < sizeof name)
            unlink(name);
    }
}

/* Creates the temporary file, readable by its owner only: the copy holds what people asked. */
static int create_copy(struct kb *kb, const char *path, const char *tmp)
{
    remove_copy(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return file_fail(kb, errno, path);
    close(fd); /* before SQLite opens it: closing any descriptor drops the process's locks */
    return 0;
}

/* Copies the database src into the empty file tmp and makes it a rollback-journal database, one
 * file with nothing in a WAL beside it. */
static int write_copy(struct kb *kb, sqlite3 *src, const char *path, const char *tmp)
{
    sqlite3 *dest = NULL;
    int rc = sqlite3_open_v2(tmp, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_extended_result_codes(dest, 1);
        rc = copy_database(dest, src, kb->busy_ms);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
    int err = rc == SQLITE_OK ? 0 : copy_fail(kb, rc, dest, path);
    sqlite3_close(dest);
    return err;
}

/* Opens the copy as planbot opens a database, and checks that it has the database's schema version
 * and passes SQLite's quick_check; counts what it holds into *n. */
static int verify_copy(struct kb *kb, const char *path, const char *tmp, struct kb_counts *n)
{
    struct kb *copy = NULL;
    char err[512];
    if (kb_open(&copy, tmp, KB_OPEN_READONLY, err, sizeof err))
        return kb_fail(kb, ERR_IO, "the backup %s does not open as a planbot database: %s", path,
                       err);
    int rc = 0;
    sqlite3_stmt *st = NULL;
    if (copy->version != kb->version) {
        rc = kb_fail(kb, ERR_IO, "the backup %s has schema version %d, not %d like the database",
                     path, copy->version, kb->version);
    } else if (kb_prepare(copy, "PRAGMA quick_check", &st) || sqlite3_step(st) != SQLITE_ROW) {
        rc = kb_fail(kb, ERR_IO, "the backup %s cannot be checked: %s", path,
                     sqlite3_errmsg(copy->db));
    } else if (strcmp(kb_col(st, 0), "ok") != 0) {
        char why[200];
        snprintf(why, sizeof why, "%s", kb_col(st, 0));
        rc = kb_fail(kb, ERR_SCHEMA,
                     "the backup %s fails SQLite's quick_check (%s): the database is damaged; kb "
                     "check says where",
                     path, one_line(why));
    } else if (count_records(copy, n)) {
        rc = kb_fail(kb, ERR_IO, "the backup %s cannot be read: %s", path, kb_errmsg(copy));
    }
    sqlite3_finalize(st);
    kb_close(copy);
    return rc;
}

/* fsync() of a file or, with O_DIRECTORY, a folder. */
static int sync_path(const char *name, int flags)
{
    int fd = open(name, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : errno; /* EINVAL: nothing to sync there */
    close(fd);
    return rc;
}

/* Opens the copy of an inbox read-only and checks that it is an inbox of this planbot's version
 * that passes SQLite's quick_check; counts what it holds into *n. */
static int verify_inbox_copy(struct kb *kb, const char *path, const char *tmp, struct kb_counts *n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = kb_open_file_ro(tmp, &db);
    const char *sql = "SELECT (SELECT user_version FROM pragma_user_version),"
                      " (SELECT quick_check FROM pragma_quick_check),"
                      " (SELECT count(*) FROM inbox WHERE state = 'open'),"
                      " (SELECT count(*) FROM inbox WHERE state <> 'open')";
    if (rc == SQLITE_OK && (rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
    int err = 0;
    if (rc != SQLITE_OK)
        err = kb_fail(kb, ERR_IO, "the backup %s cannot be read as an inbox: %s", path,
                      db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    else if (sqlite3_column_int(st, 0) < INBOX_SCHEMA_OLDEST ||
             sqlite3_column_int(st, 0) > INBOX_SCHEMA)
        err = kb_fail(kb, ERR_IO, "the backup %s has inbox version %d; planbot reads %d to %d",
                      path, sqlite3_column_int(st, 0), INBOX_SCHEMA_OLDEST, INBOX_SCHEMA);
    else if (strcmp(kb_col(st, 1), "ok") != 0)
        err = kb_fail(kb, ERR_SCHEMA,
                      "the backup %s fails SQLite's quick_check: the inbox is damaged; kb check "
                      "says where",
                      path);
    if (!err) {
        n->inbox_open = sqlite3_column_int64(st, 2);
        n->inbox_settled = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return err;
}

/* One file of the backup: src copied to tmp, checked by verify, synced. */
static int stage_copy(struct kb *kb, sqlite3 *src, const char *path, const char *tmp,
                      struct kb_counts *n,
                      int (*verify)(struct kb *, const char *, const char *, struct kb_counts *))
{
    int rc = create_copy(kb, path, tmp);
    if (!rc)
        rc = write_copy(kb, src, path, tmp);
    if (!rc)
        rc = verify(kb, path, tmp, n);
    int errnum = rc ? 0 : sync_path(tmp, 0);
    if (errnum)
        rc = file_fail(kb, errnum, path);
    if (rc)
        remove_copy(tmp);
    return rc;
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

int kb_backup(struct kb *kb, const char *path, struct kb_backup_stats *st)
{
    struct kb_backup_stats none;
    if (!st)
        st = &none;
    memset(st, 0, sizeof *st);
    if (!path || !*path)
        return kb_fail(kb, ERR_INVAL, "the backup needs a file name");
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (exists && S_ISDIR(sb.st_mode))
        return kb_fail(kb, ERR_INVAL, "%s is a folder: name the backup file in it", path);
    if (names_live_file(kb, path))
        return kb_fail(kb, ERR_INVAL,
                       "%s is the knowledge base itself or one of its files: back up to another "
                       "file",
                       path);
    if (exists && !S_ISREG(sb.st_mode))
        return kb_fail(kb, ERR_INVAL, "%s is not a regular file: a backup is a database file",
                       path);
    char tmp[PATH_BUF], dir[PATH_BUF], live_inbox[PATH_BUF], inbox_path[PATH_BUF],
        inbox_tmp[PATH_BUF + 32];
    int len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof tmp ||
        inbox_file(kb->path, live_inbox, sizeof live_inbox) ||
        inbox_file(path, inbox_path, sizeof inbox_path))
        return kb_fail(kb, ERR_INVAL, "the backup's file name is too long");
    snprintf(inbox_tmp, sizeof inbox_tmp, "%s.tmp.%ld", inbox_path, (long)getpid());
    int rc = stage_copy(kb, kb->db, path, tmp, &st->counts, verify_copy);
    /* the inbox, when there is one: its snapshot is a moment later than the knowledge base's */
    sqlite3 *inbox = NULL;
    int has_inbox = !rc && stat(live_inbox, &sb) == 0;
    if (has_inbox) {
        int orc = kb_open_file_ro(live_inbox, &inbox);
        rc = orc == SQLITE_OK
                 ? stage_copy(kb, inbox, inbox_path, inbox_tmp, &st->counts, verify_inbox_copy)
                 : kb_fail(kb, ERR_IO, "cannot read the inbox %s: %s", live_inbox,
                           sqlite3_errstr(orc));
        sqlite3_close(inbox);
        if (rc)
            remove_copy(tmp);
    }
    if (rc)
        return rc;
    /* both copies are whole and synced: only now do they replace what was there */
    int errnum = has_inbox && rename(inbox_tmp, inbox_path) != 0 ? errno : 0;
    if (!errnum && rename(tmp, path) != 0)
        errnum = errno;
    if (errnum) {
        remove_copy(tmp);
        remove_copy(inbox_tmp);
        return file_fail(kb, errnum, path);
    }
    split_path(path, dir, sizeof dir);
    if ((errnum = sync_path(dir, O_DIRECTORY)))
        return file_fail(kb, errnum, path);
    st->bytes = file_size(path);
    st->inbox_bytes = has_inbox ? file_size(inbox_path) : 0;
    return 0;
}

/* ---- check ---- */

struct check {
    struct kb *kb;
    cJSON *list;   /* the problems listed */
    int max;       /* at most this many listed */
    int64_t found; /* every problem found */
    int err;       /* ERR_NOMEM when a problem could not be listed */
};

/* Records one problem: what check found it, and what is wrong. */
static void problem(struct check *c, const char *check, const char *fmt, ...) KB_PRINTF(3, 4);
static void problem(struct check *c, const char *check, const char *fmt, ...)
{
    c->found++;
    if (cJSON_GetArraySize(c->list) >= c->max)
        return;
    char text[PROBLEM_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    one_line(text);
    cJSON *p = cJSON_CreateObject();
    if (!p || !cJSON_AddStringToObject(p, "check", check) ||
        !cJSON_AddStringToObject(p, "problem", text) || !cJSON_AddItemToArray(c->list, p)) {
        cJSON_Delete(p);
        c->err = ERR_NOMEM;
    }
}

/* A statement that stopped at rc: damage is a problem of the database, anything else (a lock, no
 * memory) a failure of the check. */
static int stopped(struct check *c, int rc, const char *check, const char *what)
{
    int code = rc & 0xff;
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) {
        problem(c, check, "%s cannot be read: %s", what, sqlite3_errmsg(c->kb->db));
        return 0;
    }
    return kb_dbfail(c->kb, rc, what);
}

/* Prepares sql for a check; a schema too damaged to prepare it is a problem (*st NULL). */
static int prepare(struct check *c, const char *sql, const char *check, const char *what,
                   sqlite3_stmt **st)
{
    *st = NULL;
    int rc = sqlite3_prepare_v2(c->kb->db, sql, -1, st, NULL);
    if (rc == SQLITE_OK)
        return 0;
    if ((rc & 0xff) == SQLITE_ERROR) { /* no such table or column */
        problem(c, check, "%s cannot be read: %s", what, sqlite3_errmsg(c->kb->db));
        return 0;
    }
    return stopped(c, rc, check, what);
}

/* 1. SQLite's own check of every page, index and constraint. */
static int check_integrity(struct check *c)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "PRAGMA integrity_check", "integrity", "the database", &st);
    if (rc || !st)
        return rc;
    int step, rows = 0;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (strcmp(kb_col(st, 0), "ok") != 0) {
            rows++;
            problem(c, "integrity", "%s", kb_col(st, 0));
        }
    }
    /* The check may stop at the damage it has just reported. */
    if (step == SQLITE_DONE || (rows && (step & 0xff) == SQLITE_CORRUPT))
        rc = 0;
    else
        rc = stopped(c, step, "integrity", "the database");
    sqlite3_finalize(st);
    return rc;
}

/* The search indexes: external-content FTS5 tables over entries, kept in sync by triggers. */
static const char *const fts_tables[] = { "entries_fts", "entries_words" };
enum { NFTS = sizeof fts_tables / sizeof fts_tables[0] };

/* FTS5's integrity-check of one index, with rank 1: also against the entries it indexes.
 * Returns SQLite's result code; msg receives its message. */
static int fts_check(sqlite3 *db, const char *table, char *msg, size_t len)
{
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO %s(%s, rank) VALUES ('integrity-check', 1)", table,
             table);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    snprintf(msg, len, "%s", sqlite3_errmsg(db));
    return rc;
}

/* The triggers that keep the search indexes in step with the entries (kb.c). */
static const char *const fts_triggers[] = { "entries_ai", "entries_ad", "entries_au" };
enum { NTRIGGERS = sizeof fts_triggers / sizeof fts_triggers[0] };

/* 2. The search indexes hold exactly the entries, and will go on doing so. */
static int check_fts(struct check *c)
{
    sqlite3_stmt *st;
    int rc = prepare(c, "SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?", "fts",
                     "the schema", &st);
    for (size_t i = 0; i < NTRIGGERS && !rc && st; i++) {
        sqlite3_bind_text(st, 1, fts_triggers[i], -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            problem(c, "fts",
                    "the trigger %s, which keeps the search indexes in step with the entries, is "
                    "missing",
                    fts_triggers[i]);
        else if (step != SQLITE_ROW)
            rc = stopped(c, step, "fts", "the schema");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    sqlite3 *copy = NULL; /* the database in memory, when it cannot be checked in place */
    for (size_t i = 0; i < NFTS && !rc; i++) {
        char msg[256] = "";
        int res = SQLITE_READONLY;
        if (!c->kb->readonly && !copy) {
            /* a writer holding the lock (the bot) is not kept waiting: check a copy instead */
            sqlite3_busy_timeout(c->kb->db, FTS_LOCK_MS);
            res = fts_check(c->kb->db, fts_tables[i], msg, sizeof msg);
            sqlite3_busy_timeout(c->kb->db, c->kb->busy_ms);
        }
        if (!copy && ((res & 0xff) == SQLITE_READONLY || (res & 0xff) == SQLITE_BUSY)) {
            int crc = sqlite3_open(":memory:", &copy);
            if (crc == SQLITE_OK)
                crc = copy_database(copy, c->kb->db, c->kb->busy_ms);
            if (crc != SQLITE_OK) {
                rc = stopped(c, crc, "fts", "the database");
                break;
            }
        }
        if (copy)
            res = fts_check(copy, fts_tables[i], msg, sizeof msg);
        switch (res & 0xff) {
        case SQLITE_OK: break;
        case SQLITE_CORRUPT:
            problem(c, "fts",
                    "the search index %s does not match the entries (FTS5's integrity-check)",
                    fts_tables[i]);
            break;
        case SQLITE_ERROR:
            problem(c, "fts", "the search index %s cannot be checked: %s", fts_tables[i], msg);
            break;
        default:
            rc = kb_fail(c->kb, ERR_DB, "checking the search index %s: %s", fts_tables[i], msg);
        }
    }
    sqlite3_close(copy);
    return rc;
}

/* Whether text is a JSON array of non-empty strings (of at least one when nonempty). */
static int is_word_list(const char *text, int nonempty)
{
    cJSON *v = cJSON_Parse(text);
    int ok = cJSON_IsArray(v) && (!nonempty || cJSON_GetArraySize(v) > 0);
    const cJSON *item;
    cJSON_ArrayForEach(item, v) ok = ok && cJSON_IsString(item) && *item->valuestring;
    cJSON_Delete(v);
    return ok;
}

/* A source's stored text, read once for all the entries citing it. */
struct source {
    char id[KB_MAX_ID * 4 + 1]; /* "" before the first */
    int exists;
    char *text; /* owned; NULL when the source stores no text */
};

static int load_source(struct check *c, struct source *s, const char *id)
{
    if (*s->id && strcmp(s->id, id) == 0)
        return 0;
    snprintf(s->id, sizeof s->id, "%s", id);
    free(s->text);
    s->text = NULL;
    s->exists = 0;
    sqlite3_stmt *st;
    int rc = prepare(c, "SELECT text FROM sources WHERE id = ?", "source", "the sources", &st);
    if (rc || !st)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        s->exists = 1;
        if (sqlite3_column_type(st, 0) != SQLITE_NULL && !(s->text = strdup(kb_col(st, 0))))
            rc = ERR_NOMEM;
    } else if (step != SQLITE_DONE) {
        rc = stopped(c, step, "source", "the sources");
    }
    sqlite3_finalize(st);
    return rc;
}

/* 3-5. Each entry: a known kind, a speaker exactly when a quote, keywords that parse, a source
 * that exists, and a text that is the source's own words (byte for byte, as the writes store it;
 * a text verbatim_find() finds only modulo typography was changed behind planbot's back). */
static void check_entry(struct check *c, sqlite3_stmt *st, const struct source *src)
{
    const char *id = kb_col(st, 0), *kind = kb_col(st, 1), *speaker = kb_col(st, 2);
    const char *role = kb_col(st, 3), *source = kb_col(st, 4), *text = kb_col(st, 5);
    int quote = strcmp(kind, "quote") == 0;
    if (!quote && strcmp(kind, "provision") != 0 && strcmp(kind, "context") != 0)
        problem(c, "entry", "entry \"%.*s\": kind \"%.*s\" is not provision, quote or context",
                CHECK_NAME_MAX, id, CHECK_NAME_MAX, kind);
    if (quote && !*speaker)
        problem(c, "entry", "entry \"%.*s\" is a quote without a speaker", CHECK_NAME_MAX, id);
    if (!quote && (*speaker || *role))
        problem(c, "entry", "entry \"%.*s\" has a speaker or role but is not a quote",
                CHECK_NAME_MAX, id);
    if (!is_word_list(kb_col(st, 6), 0))
        problem(c, "entry", "entry \"%.*s\": its keywords are not a JSON list of words",
                CHECK_NAME_MAX, id);
    size_t off, len;
    if (!src->exists)
        problem(c, "source", "entry \"%.*s\" cites source \"%.*s\", which does not exist",
                CHECK_NAME_MAX, id, CHECK_NAME_MAX, source);
    else if (src->text && !strstr(src->text, text)) {
        if (verbatim_find(src->text, strlen(src->text), text, strlen(text), &off, &len))
            problem(c, "verbatim",
                    "entry \"%.*s\": its text differs from source \"%.*s\" in quotes, dashes or "
                    "spaces; the source's own bytes are stored on a write",
                    CHECK_NAME_MAX, id, CHECK_NAME_MAX, source);
        else
            problem(c, "verbatim", "entry \"%.*s\": its text is not in the text of source \"%.*s\"",
                    CHECK_NAME_MAX, id, CHECK_NAME_MAX, source);
    }
}

static int check_entries(struct check *c)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT id, kind, speaker, role, source, text, keywords FROM entries"
                     " ORDER BY source, n",
                     "entry", "the entries", &st);
    if (rc || !st)
        return rc;
    struct source src = { "", 0, NULL };
    int step = SQLITE_DONE;
    while (!rc && !c->err && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (!(rc = load_source(c, &src, kb_col(st, 4))))
            check_entry(c, st, &src);
    if (!rc && !c->err && step != SQLITE_DONE)
        rc = stopped(c, step, "entry", "the entries");
    free(src.text);
    sqlite3_finalize(st);
    return rc;
}

/* The records of one type that sql reads as (name, a list of names): a list that does not parse
 * is a problem, "<type> "<name>": <list> are not a JSON list". */
static int check_name_lists(struct check *c, const char *sql, const char *type, const char *all,
                            const char *list)
{
    sqlite3_stmt *st;
    int rc = prepare(c, sql, type, all, &st);
    int step = SQLITE_DONE;
    while (!rc && st && (step = sqlite3_step(st)) == SQLITE_ROW)
        if (!is_word_list(kb_col(st, 1), 0))
            problem(c, type, "%s \"%.*s\": %s are not a JSON list", type, CHECK_NAME_MAX,
                    kb_col(st, 0), list);
    if (!rc && step != SQLITE_DONE)
        rc = stopped(c, step, type, all);
    sqlite3_finalize(st);
    return rc;
}

/* Sources' author lists; synonyms: a term stored as questions look it up, words that parse;
 * speakers' other names and parties' words that parse. */
static int check_lists(struct check *c)
{
    int rc = check_name_lists(c, "SELECT id, authors FROM sources ORDER BY rowid", "source",
                              "the sources", "its authors");
    sqlite3_stmt *st;
    if (rc || (rc = prepare(c, "SELECT term, words FROM synonyms ORDER BY rowid", "synonym",
                            "the synonyms", &st)))
        return rc;
    int step = SQLITE_DONE;
    while (st && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *term = kb_col(st, 0);
        char key[KB_MAX_ITEM + 1];
        if (strcmp(kb_record_stored_key(KB_SYNONYM, term, key, sizeof key), term) != 0)
            problem(c, "synonym",
                    "synonym \"%.*s\": its term is not in lowercase without surrounding spaces, "
                    "so no question finds it",
                    CHECK_NAME_MAX, term);
        if (!is_word_list(kb_col(st, 1), 1))
            problem(c, "synonym", "synonym \"%.*s\": its words are not a JSON list of words",
                    CHECK_NAME_MAX, term);
    }
    if (step != SQLITE_DONE)
        rc = stopped(c, step, "synonym", "the synonyms");
    sqlite3_finalize(st);
    if (!rc)
        rc = check_name_lists(c, "SELECT name, aliases FROM speakers ORDER BY rowid", "speaker",
                              "the speakers", "their other names");
    if (!rc && c->kb->version >= KB_SCHEMA_PARTIES)
        rc = check_name_lists(c, "SELECT name, words FROM parties ORDER BY rowid", "party",
                              "the parties", "the words that name it");
    return rc;
}

/* Whether text is NULL or a JSON object: 1 for an object, 0 for NULL, -1 for anything else. */
static int record_json(sqlite3_stmt *st, int col)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    cJSON *v = cJSON_Parse(kb_col(st, col));
    int ok = cJSON_IsObject(v);
    cJSON_Delete(v);
    return ok ? 1 : -1;
}

/* The audit log: records that parse, what each action implies about them, undos of changes that
 * exist. */
static int check_changes(struct check *c)
{
    sqlite3_stmt *st;
    int rc = prepare(c,
                     "SELECT c.n, c.action, c.type, c.before, c.after, c.undoes,"
                     " c.undoes IS NOT NULL AND u.n IS NULL"
                     " FROM changes c LEFT JOIN changes u ON u.n = c.undoes ORDER BY c.n",
                     "change", "the changes", &st);
    if (rc || !st)
        return rc;
    int step = SQLITE_DONE;
    while (!c->err && (step = sqlite3_step(st)) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(st, 0);
        const char *action = kb_col(st, 1);
        int before = record_json(st, 3), after = record_json(st, 4);
        if (kb_type_parse(kb_col(st, 2)) < 0)
            problem(c, "change", "change %lld: \"%.*s\" is not a type of record", n, CHECK_NAME_MAX,
                    kb_col(st, 2));
        if (before < 0 || after < 0)
            problem(c, "change", "change %lld: its record %s is not a JSON object", n,
                    before < 0 ? "before" : "after");
        else if ((strcmp(action, "add") == 0 && (before || !after)) ||
                 (strcmp(action, "remove") == 0 && (!before || after)) ||
                 (strcmp(action, "edit") == 0 && (!before || !after)) ||
                 (strcmp(action, "undo") == 0 && (!before && !after)))
            problem(c, "change", "change %lld: its records before and after do not fit an \"%.*s\"",
                    n, CHECK_NAME_MAX, action);
        if (strcmp(action, "undo") == 0 && sqlite3_column_type(st, 5) == SQLITE_NULL)
            problem(c, "change", "change %lld: an undo that does not say what it undoes", n);
        if (sqlite3_column_int(st, 6))
            problem(c, "change", "change %lld undoes change %lld, which does not exist", n,
                    (long long)sqlite3_column_int64(st, 5));
    }
    if (!c->err && step != SQLITE_DONE)
        rc = stopped(c, step, "change", "the changes");
    sqlite3_finalize(st);
    return rc;
}

/* The inbox, when the knowledge base has one: SQLite's integrity_check, its version, and the rules
 * its writes keep (a record is settled exactly when it is not open; it names its platform and
 * event; its attempts count up from 0). Counts what it holds into *n. Damage, or a file that
 * cannot be read, is a problem. */
static int check_inbox(struct check *c, struct kb_counts *n)
{
    char path[PATH_BUF];
    struct stat sb;
    if (inbox_file(c->kb->path, path, sizeof path) || stat(path, &sb) != 0)
        return 0; /* no inbox: nothing recorded, nothing to check */
    sqlite3 *db = NULL;
    int rc = kb_open_file_ro(path, &db);
    if (rc != SQLITE_OK) {
        problem(c, "inbox", "the inbox %s cannot be read: %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return 0;
    }
    /* each row of each query is one problem, in words; ?1 is the version this planbot writes */
    static const char *const checks[] = {
        "SELECT integrity_check FROM pragma_integrity_check WHERE integrity_check <> 'ok'",
        "SELECT 'its version is ' || user_version || '; planbot reads ' || ?2 || ' to ' || ?1"
        " FROM pragma_user_version WHERE user_version NOT BETWEEN ?2 AND ?1",
        "SELECT 'record ' || n || ' is settled but open, or closed but never settled'"
        " FROM inbox WHERE (state = 'open') <> (settled IS NULL)",
        "SELECT 'record ' || n || ' has no platform or event, or a negative count of attempts'"
        " FROM inbox WHERE platform = '' OR event = '' OR attempts < 0",
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0] && !c->err; i++) {
        sqlite3_stmt *st;
        int step = sqlite3_prepare_v2(db, checks[i], -1, &st, NULL);
        if (step == SQLITE_OK) {
            sqlite3_bind_int(st, 1, INBOX_SCHEMA);
            sqlite3_bind_int(st, 2, INBOX_SCHEMA_OLDEST);
            while ((step = sqlite3_step(st)) == SQLITE_ROW && !c->err)
                problem(c, "inbox", "the inbox %s: %s", path, kb_col(st, 0));
        }
        if (step != SQLITE_DONE && step != SQLITE_ROW)
            problem(c, "inbox", "the inbox %s cannot be checked: %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT count(*) FROM inbox WHERE state = 'open'),"
                           " (SELECT count(*) FROM inbox WHERE state <> 'open')",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        n->inbox_open = sqlite3_column_int64(st, 0);
        n->inbox_settled = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

int kb_check(struct kb *kb, int max, struct kb_check_report *rep, cJSON **problems)
{
    kb_read_release(kb); /* its own snapshot, after the FTS checks (which write) */
    memset(rep, 0, sizeof *rep);
    *problems = NULL;
    struct check c = { kb, cJSON_CreateArray(), max > 0 ? max : 1, 0, 0 };
    if (!c.list)
        return ERR_NOMEM;
    int rc = check_integrity(&c);
    if (!rc && !c.err)
        rc = check_fts(&c);
    /* The records in one snapshot, while others may write. */
    int began = 0;
    if (!rc && !c.err) {
        int brc = sqlite3_exec(kb->db, "BEGIN", NULL, NULL, NULL);
        if (brc != SQLITE_OK)
            rc = kb_dbfail(kb, brc, "checking the knowledge base");
        began = !rc;
    }
    if (!rc && !c.err) {
        int counted = count_records(kb, &rep->counts);
        if (counted == ERR_SCHEMA) { /* damage: a problem, and the other checks go on */
            problem(&c, "integrity", "%s", kb_errmsg(kb));
            rep->counts.entries = rep->counts.sources = rep->counts.synonyms = -1;
            rep->counts.changes = -1;
            rep->counts.inbox_open = rep->counts.inbox_settled = -1;
        } else {
            rc = counted;
        }
    }
    if (!rc && !c.err)
        rc = check_entries(&c);
    if (!rc && !c.err)
        rc = check_lists(&c);
    if (!rc && !c.err)
        rc = check_changes(&c);
    if (!rc && !c.err)
        rc = check_inbox(&c, &rep->counts);
    if (began)
        sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL);
    if (!rc)
        rc = c.err;
    if (rc) {
        cJSON_Delete(c.list);
        return rc;
    }
    rep->problems = c.found;
    *problems = c.list;
    return 0;
}
