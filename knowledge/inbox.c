/* inbox.c - the questions acknowledged to a chat platform, in a SQLite file of their own (see
 * inbox.h).
 *
 * Every statement is prepared once, at open, from one table (inbox_statements[]): no statement
 * runs that the query-plan test does not see. The indexes are partial, so each serves exactly
 * one question the code asks: inbox_open finds the open records of a platform for the replay,
 * inbox_settled the oldest settled records for the prune. Settling a record moves it from the
 * first to the second. */
#include "inbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "err.h"
#include "sqlfail.h"

enum {
    PATH_MAX_LEN = 4200,
    BUSY_MS = 250,   /* an acknowledgement waits for the records: never long */
    CACHE_KIB = 4096 /* SQLite's page cache for the inbox: the interior pages of its dedup index
                        and the leaves lately touched stay, whatever the history */
};

/* The schema of INBOX_SCHEMA. The state's CHECK is spelt with OR: SQLite evaluates an IN list
 * of three or more values through a temporary index that it builds anew in every INSERT and
 * UPDATE, which made a record and its settle take half as long again (version 1 had IN;
 * measured in batches of 50, 19-20 against 13 us a question). */
#define INBOX_TABLE                                                                                \
    "CREATE TABLE inbox ("                                                                         \
    "  n INTEGER PRIMARY KEY,"                                                                     \
    "  platform TEXT NOT NULL,"                                                                    \
    "  event TEXT NOT NULL,"                                                                       \
    "  received INTEGER NOT NULL,"                                                                 \
    "  user TEXT NOT NULL,"                                                                        \
    "  channel TEXT NOT NULL,"                                                                     \
    "  thread TEXT NOT NULL,"                                                                      \
    "  direct INTEGER NOT NULL,"                                                                   \
    "  text TEXT NOT NULL,"                                                                        \
    "  state TEXT NOT NULL DEFAULT 'open'"                                                         \
    "    CHECK (state = 'open' OR state = 'answered' OR state = 'expired'),"                       \
    "  settled INTEGER,"                                                                           \
    "  attempts INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  UNIQUE (platform, event));"
#define INBOX_INDEXES                                                                              \
    "CREATE INDEX inbox_open ON inbox(platform, n) WHERE state = 'open';"                          \
    "CREATE INDEX inbox_settled ON inbox(settled) WHERE state <> 'open';"

static const char schema[] = INBOX_TABLE INBOX_INDEXES;

/* From version 1: the table again with the new CHECK, its rows copied (n kept, so the numbers
 * the daemon holds stay valid), in the transaction of setup_schema(). */
static const char upgrade_from_1[] =
    "DROP INDEX inbox_open;"
    "DROP INDEX inbox_settled;"
    "ALTER TABLE inbox RENAME TO inbox_v1;" INBOX_TABLE "INSERT INTO inbox SELECT * FROM inbox_v1;"
    "DROP TABLE inbox_v1;" INBOX_INDEXES;

/* Every statement on a question's path, in inbox_statements[] order. */
enum stmt { S_BEGIN, S_COMMIT, S_ROLLBACK, S_ADD, S_ATTEMPT, S_SETTLE, S_PRUNE, S_OPEN, NSTMT };

const char *const inbox_statements[] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_ADD] = "INSERT INTO inbox (platform, event, received, user, channel, thread, direct, text,"
              " attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_ATTEMPT] = "UPDATE inbox SET attempts = attempts + 1 WHERE n = ?",
    [S_SETTLE] = "UPDATE inbox SET state = ?, settled = ? WHERE n = ? AND state = 'open'",
    [S_PRUNE] = "DELETE FROM inbox WHERE n IN (SELECT n FROM inbox WHERE state <> 'open'"
                " AND settled < ? ORDER BY settled LIMIT ?)",
    [S_OPEN] = "SELECT n, platform, event, received, user, channel, thread, direct, text, attempts"
               " FROM inbox WHERE state = 'open' AND platform = ? ORDER BY n",
    [NSTMT] = NULL,
};

struct inbox {
    sqlite3 *db;             /* owned connection */
    sqlite3_stmt *st[NSTMT]; /* owned: inbox_statements, prepared at open */
    char path[PATH_MAX_LEN]; /* the file */
    char errmsg[1024];       /* detail of the last failure */
};

static int fail(struct inbox *ib, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct inbox *ib, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ib->errmsg, sizeof ib->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

static int dbfail(struct inbox *ib, int rc, const char *what)
{
    return sqlfail_msg(ib->errmsg, sizeof ib->errmsg, rc, ib->db, ib->path, what);
}

int inbox_file(const char *kb_path, char *out, size_t len)
{
    int n = snprintf(out, len, "%s.inbox", kb_path);
    return n < 0 || (size_t)n >= len ? ERR_TOOBIG : 0;
}

const char *inbox_errmsg(const struct inbox *ib)
{
    return ib ? ib->errmsg : "";
}

const char *inbox_path(const struct inbox *ib)
{
    return ib->path;
}

void inbox_set_busy_ms(struct inbox *ib, int ms)
{
    sqlite3_busy_timeout(ib->db, ms);
}

/* Steps st to its end and resets it; returns the last result code (SQLITE_DONE when well). */
static int run(sqlite3_stmt *st)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    return rc;
}

static int begin(struct inbox *ib, const char *what)
{
    int rc = run(ib->st[S_BEGIN]);
    return rc == SQLITE_DONE ? 0 : dbfail(ib, rc, what);
}

static void rollback(struct inbox *ib)
{
    if (!sqlite3_get_autocommit(ib->db))
        run(ib->st[S_ROLLBACK]);
}

/* Commits, or rolls back and says why. */
static int commit(struct inbox *ib, const char *what)
{
    int rc = run(ib->st[S_COMMIT]);
    if (rc == SQLITE_DONE)
        return 0;
    int err = dbfail(ib, rc, what);
    rollback(ib);
    return err;
}

static int exec(struct inbox *ib, const char *sql, const char *what)
{
    int rc = sqlite3_exec(ib->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : dbfail(ib, rc, what);
}

/* One integer of a one-row query. */
static int query_int(struct inbox *ib, const char *sql, int64_t *out, const char *what)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(ib->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? 0 : dbfail(ib, rc, what);
}

/* Creates the schema in a new file, or checks that an existing one is an inbox planbot reads,
 * under the write lock, so that two processes creating the file at once make it once. */
static int setup_schema(struct inbox *ib)
{
    int rc = exec(ib, "BEGIN IMMEDIATE", "opening the inbox");
    int64_t version = 0, tables = 0;
    if (!rc)
        rc = query_int(ib, "PRAGMA user_version", &version, "reading the inbox's version");
    if (!rc)
        rc = query_int(ib, "SELECT count(*) FROM sqlite_schema", &tables, "reading the inbox");
    if (!rc && version > INBOX_SCHEMA)
        rc = fail(ib, ERR_SCHEMA,
                  "%s has inbox schema version %lld, newer than this planbot knows (%d): upgrade "
                  "planbot",
                  ib->path, (long long)version, INBOX_SCHEMA);
    else if (!rc && version == 0 && tables > 0)
        rc = fail(ib, ERR_SCHEMA, "%s is not a planbot inbox: it has tables but no inbox version",
                  ib->path);
    else if (!rc && version == 0)
        rc = exec(ib, schema, "creating the inbox");
    else if (!rc && version == 1)
        rc = exec(ib, upgrade_from_1, "upgrading the inbox from version 1");
    if (!rc && version < INBOX_SCHEMA) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", INBOX_SCHEMA);
        rc = exec(ib, pragma, "creating the inbox");
    }
    if (!rc)
        return exec(ib, "COMMIT", "creating the inbox");
    sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Creates the file, readable by its owner only, when it does not exist. */
static int create_file(struct inbox *ib)
{
    int fd = open(ib->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    if (errno == EACCES || errno == EPERM || errno == EROFS)
        return fail(ib, ERR_READONLY, "cannot create the inbox %s: its folder is read-only (%s)",
                    ib->path, strerror(errno));
    return fail(ib, errno == ENOSPC ? ERR_FULL : ERR_IO, "cannot create the inbox %s: %s", ib->path,
                strerror(errno));
}

static int setup(struct inbox *ib)
{
    int rc = create_file(ib);
    if (rc)
        return rc;
    struct stat sb;
    /* a file without write permission is read-only even for root, who could write it anyway */
    if (access(ib->path, W_OK) != 0 || (stat(ib->path, &sb) == 0 && (sb.st_mode & 0222) == 0))
        return fail(ib, ERR_READONLY, "the inbox %s is read-only", ib->path);
    rc = sqlite3_open_v2(ib->path, &ib->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
    if (rc != SQLITE_OK)
        return dbfail(ib, rc, "opening the inbox");
    sqlite3_extended_result_codes(ib->db, 1);
    sqlite3_busy_timeout(ib->db, BUSY_MS);
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -%d;",
             CACHE_KIB);
    if ((rc = exec(ib, pragmas, "opening the inbox")) || (rc = setup_schema(ib)))
        return rc;
    for (int i = 0; i < NSTMT; i++) {
        int prc = sqlite3_prepare_v3(ib->db, inbox_statements[i], -1, SQLITE_PREPARE_PERSISTENT,
                                     &ib->st[i], NULL);
        if (prc != SQLITE_OK)
            return dbfail(ib, prc, "preparing the inbox's statements");
    }
    return 0;
}

int inbox_open(struct inbox **out, const char *kb_path, char *err, size_t errlen)
{
    *out = NULL;
    struct inbox *ib = calloc(1, sizeof *ib);
    if (!ib) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    int rc = inbox_file(kb_path, ib->path, sizeof ib->path);
    if (rc)
        fail(ib, rc, "the knowledge base's path is too long for its inbox");
    else
        rc = setup(ib);
    if (rc) {
        snprintf(err, errlen, "%s", ib->errmsg);
        inbox_close(ib);
        return rc;
    }
    *out = ib;
    return 0;
}

void inbox_close(struct inbox *ib)
{
    if (!ib)
        return;
    for (int i = 0; i < NSTMT; i++)
        sqlite3_finalize(ib->st[i]);
    sqlite3_close(ib->db);
    free(ib);
}

/* Inserts the n questions: rcs[i] 0 or ERR_EXISTS; returns 0 or the error that stops the
 * transaction. */
static int insert(struct inbox *ib, struct inbox_question *q, size_t n, int *rcs)
{
    sqlite3_stmt *st = ib->st[S_ADD];
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_text(st, 1, q[i].platform, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, q[i].event, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, q[i].received);
        sqlite3_bind_text(st, 4, q[i].user, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, q[i].channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, q[i].thread ? q[i].thread : "", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 7, q[i].direct);
        sqlite3_bind_text(st, 8, q[i].text, (int)q[i].len, SQLITE_STATIC);
        sqlite3_bind_int(st, 9, q[i].attempts);
        int step = sqlite3_step(st);
        sqlite3_reset(st);
        q[i].n = 0;
        rcs[i] = 0;
        if (step == SQLITE_DONE)
            q[i].n = sqlite3_last_insert_rowid(ib->db);
        else if ((step & 0xff) == SQLITE_CONSTRAINT) /* this statement only: the rest goes on */
            rcs[i] = ERR_EXISTS;
        else
            rc = dbfail(ib, step, "recording the questions");
    }
    sqlite3_clear_bindings(st);
    return rc;
}

static int update(struct inbox *ib, const struct inbox_settle *s, size_t n, int64_t now)
{
    sqlite3_stmt *st = ib->st[S_SETTLE];
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_bind_text(st, 1, s[i].answered ? "answered" : "expired", -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, s[i].n);
        int step = run(st);
        if (step != SQLITE_DONE)
            rc = dbfail(ib, step, "settling the questions");
    }
    return rc;
}

int inbox_write(struct inbox *ib, struct inbox_question *q, size_t nq, int *rcs,
                const struct inbox_settle *s, size_t ns, int64_t now)
{
    if (nq == 0 && ns == 0)
        return 0;
    const char *what = nq ? "recording the questions" : "settling the questions";
    int rc = begin(ib, what);
    if (!rc)
        rc = insert(ib, q, nq, rcs);
    if (!rc)
        rc = update(ib, s, ns, now);
    if (rc) {
        rollback(ib);
        return rc;
    }
    return commit(ib, what);
}

int inbox_add(struct inbox *ib, struct inbox_question *q, size_t n, int *rcs)
{
    return inbox_write(ib, q, n, rcs, NULL, 0, 0);
}

int inbox_attempt(struct inbox *ib, int64_t n)
{
    int rc = begin(ib, "noting an attempt to answer");
    if (rc)
        return rc;
    sqlite3_stmt *st = ib->st[S_ATTEMPT];
    sqlite3_bind_int64(st, 1, n);
    int step = run(st);
    if (step != SQLITE_DONE) {
        rc = dbfail(ib, step, "noting an attempt to answer");
        rollback(ib);
        return rc;
    }
    return commit(ib, "noting an attempt to answer");
}

int inbox_settle(struct inbox *ib, const struct inbox_settle *s, size_t n, int64_t now)
{
    return inbox_write(ib, NULL, 0, NULL, s, n, now);
}

int inbox_prune(struct inbox *ib, int64_t now, int max, int *pruned)
{
    if (pruned)
        *pruned = 0;
    int rc = begin(ib, "forgetting old questions");
    if (rc)
        return rc;
    sqlite3_stmt *st = ib->st[S_PRUNE];
    sqlite3_bind_int64(st, 1, now - INBOX_KEEP_SETTLED_S);
    sqlite3_bind_int(st, 2, max);
    int step = run(st);
    if (step != SQLITE_DONE) {
        rc = dbfail(ib, step, "forgetting old questions");
        rollback(ib);
        return rc;
    }
    int deleted = sqlite3_changes(ib->db);
    if ((rc = commit(ib, "forgetting old questions")))
        return rc;
    if (pruned)
        *pruned = deleted;
    return 0;
}

/* One open record, copied so that the statement is finished before fn() runs (fn may write). */
struct row {
    struct inbox_question q;
    char *strings; /* owned: every string of q, one after another */
};

static int copy_row(sqlite3_stmt *st, struct row *r)
{
    static const int cols[] = { 1, 2, 4, 5, 6, 8 }; /* platform event user channel thread text */
    size_t need = 0, len[6];
    for (int i = 0; i < 6; i++) {
        len[i] = (size_t)sqlite3_column_bytes(st, cols[i]);
        need += len[i] + 1;
    }
    char *s = malloc(need);
    if (!s)
        return ERR_NOMEM;
    r->strings = s;
    const char **dest[6] = { &r->q.platform, &r->q.event,  &r->q.user,
                             &r->q.channel,  &r->q.thread, &r->q.text };
    for (int i = 0; i < 6; i++) {
        const unsigned char *v = sqlite3_column_text(st, cols[i]);
        memcpy(s, v ? (const char *)v : "", len[i]);
        s[len[i]] = '\0';
        *dest[i] = s;
        s += len[i] + 1;
    }
    r->q.n = sqlite3_column_int64(st, 0);
    r->q.received = sqlite3_column_int64(st, 3);
    r->q.direct = sqlite3_column_int(st, 7);
    r->q.len = len[5];
    r->q.attempts = sqlite3_column_int(st, 9);
    return 0;
}

int inbox_each_open(struct inbox *ib, const char *platform,
                    void (*fn)(void *arg, const struct inbox_question *q), void *arg)
{
    sqlite3_stmt *st = ib->st[S_OPEN];
    sqlite3_bind_text(st, 1, platform, -1, SQLITE_TRANSIENT);
    struct row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t grown_cap = cap ? 2 * cap : 16;
            struct row *grown = realloc(rows, grown_cap * sizeof *grown);
            if (!grown) {
                rc = fail(ib, ERR_NOMEM, "out of memory");
                break;
            }
            rows = grown;
            cap = grown_cap;
        }
        if ((rc = copy_row(st, &rows[n]))) {
            fail(ib, rc, "out of memory");
            break;
        }
        n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = dbfail(ib, step, "reading the open questions");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            fn(arg, &rows[i].q);
        free(rows[i].strings);
    }
    free(rows);
    return rc;
}

int inbox_count(struct inbox *ib, int64_t *open, int64_t *settled)
{
    /* not on a question's path (kb check, tests): a whole scan is fine here */
    int rc = query_int(ib, "SELECT count(*) FROM inbox WHERE state = 'open'", open,
                       "counting the questions");
    return rc ? rc
              : query_int(ib, "SELECT count(*) FROM inbox WHERE state <> 'open'", settled,
                          "counting the questions");
}

int inbox_adopt(struct inbox *ib, const char *kb_path, int64_t now, int *moved)
{
    *moved = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(ib->db, "ATTACH DATABASE ? AS old", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, kb_path, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(ib->db);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return dbfail(ib, rc, "moving the inbox out of the knowledge base");
    int err = exec(ib, "BEGIN IMMEDIATE", "moving the inbox out of the knowledge base");
    if (!err) {
        rc = sqlite3_prepare_v2(
            ib->db,
            "INSERT OR IGNORE INTO main.inbox (platform, event, received, user, channel, thread,"
            " direct, text, state, settled, attempts) SELECT platform, event, received, user,"
            " channel, thread, direct, text, state, settled, attempts FROM old.inbox"
            " WHERE state = 'open' OR settled >= ? ORDER BY n",
            -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, now - INBOX_KEEP_SETTLED_S);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(ib->db);
        }
        sqlite3_finalize(st);
        if (rc == SQLITE_OK)
            *moved = sqlite3_changes(ib->db);
        err = rc == SQLITE_OK ? exec(ib, "COMMIT", "moving the inbox out of the knowledge base")
                              : dbfail(ib, rc, "moving the inbox out of the knowledge base");
        if (err)
            sqlite3_exec(ib->db, "ROLLBACK", NULL, NULL, NULL);
    }
    sqlite3_exec(ib->db, "DETACH DATABASE old", NULL, NULL, NULL);
    return err;
}
