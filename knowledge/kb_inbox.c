/* kb_inbox.c - questions acknowledged to a chat platform, until their reply is delivered (see
 * kb.h). Like the unanswered list, this is bookkeeping beside the knowledge: its writes leave
 * kb_stamp() alone, so the matcher never reloads its caches for them. */
#include "kb_int.h"

#include <string.h>

#include "err.h"

enum { KEEP_SETTLED_S = 86400 /* settled records are kept this long, to spot redeliveries */ };

struct stmt1 {
    const char *sql, *what;
    int (*bind)(sqlite3_stmt *, const void *);
    const void *arg;
};

static int run1(struct kb *kb, const void *arg)
{
    const struct stmt1 *s = arg;
    sqlite3_stmt *st;
    int rc = kb_stmt(kb, s->sql, &st);
    if (rc)
        return rc;
    rc = s->bind(st, s->arg);
    int step = rc ? SQLITE_OK : sqlite3_step(st);
    if (!rc && (step & 0xff) == SQLITE_CONSTRAINT)
        rc = kb_fail(kb, ERR_EXISTS, "%s: recorded already", s->what);
    else if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, s->what);
    kb_stmt_done(st);
    return rc;
}

/* Runs one statement in a quick write transaction: an acknowledgement waits for it. */
static int write1(struct kb *kb, const char *sql, int (*bind)(sqlite3_stmt *, const void *),
                  const void *arg, const char *what)
{
    struct stmt1 s = { sql, what, bind, arg };
    return kb_quick_write(kb, run1, &s);
}

static int bind_add(sqlite3_stmt *st, const void *arg)
{
    const struct kb_question *q = arg;
    sqlite3_bind_text(st, 1, q->platform, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->event, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, q->received);
    sqlite3_bind_text(st, 4, q->user, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, q->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, q->thread ? q->thread : "", -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 7, q->direct);
    sqlite3_bind_text(st, 8, q->text, -1, SQLITE_STATIC);
    return 0;
}

int kb_inbox_add(struct kb *kb, struct kb_question *q)
{
    q->n = 0;
    int rc = write1(kb,
                    "INSERT INTO inbox (platform, event, received, user, channel, thread, direct,"
                    " text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    bind_add, q, "recording the question");
    if (!rc)
        q->n = sqlite3_last_insert_rowid(kb->db);
    return rc;
}

struct settle {
    int64_t n;
    int answered;
    int64_t now;
};

static int bind_settle(sqlite3_stmt *st, const void *arg)
{
    const struct settle *s = arg;
    sqlite3_bind_text(st, 1, s->answered ? "answered" : "expired", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->now);
    sqlite3_bind_int64(st, 3, s->n);
    return 0;
}

static int bind_prune(sqlite3_stmt *st, const void *arg)
{
    const struct settle *s = arg;
    sqlite3_bind_int64(st, 1, s->now - KEEP_SETTLED_S);
    return 0;
}

static int bind_n(sqlite3_stmt *st, const void *arg)
{
    sqlite3_bind_int64(st, 1, *(const int64_t *)arg);
    return 0;
}

int kb_inbox_attempt(struct kb *kb, int64_t n)
{
    return write1(kb, "UPDATE inbox SET attempts = attempts + 1 WHERE n = ?", bind_n, &n,
                  "noting an attempt to answer");
}

int kb_inbox_settle(struct kb *kb, int64_t n, int answered)
{
    struct settle s = { n, answered, (int64_t)time(NULL) };
    int rc = write1(kb, "UPDATE inbox SET state = ?, settled = ? WHERE n = ? AND state = 'open'",
                    bind_settle, &s, "settling the question");
    if (!rc)
        rc = write1(kb, "DELETE FROM inbox WHERE state <> 'open' AND settled < ?", bind_prune, &s,
                    "forgetting old questions");
    return rc;
}

/* One open record as JSON, so that the statement is finished before fn() writes. */
static cJSON *open_row(sqlite3_stmt *st, const void *arg)
{
    (void)arg;
    cJSON *o = cJSON_CreateObject();
    static const char *const text[] = { NULL,      "platform", "event", NULL,  "user",
                                        "channel", "thread",   NULL,    "text" };
    int ok = o && cJSON_AddNumberToObject(o, "n", (double)sqlite3_column_int64(st, 0)) &&
             cJSON_AddNumberToObject(o, "received", (double)sqlite3_column_int64(st, 3)) &&
             cJSON_AddNumberToObject(o, "direct", sqlite3_column_int(st, 7)) &&
             cJSON_AddNumberToObject(o, "attempts", sqlite3_column_int(st, 9));
    for (int i = 0; ok && i < 9; i++)
        if (text[i])
            ok = cJSON_AddStringToObject(o, text[i], kb_col(st, i)) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static const char *field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

int kb_inbox_open(struct kb *kb, const char *platform,
                  void (*fn)(void *arg, const struct kb_question *q), void *arg)
{
    sqlite3_stmt *st;
    int rc = kb_prepare(kb,
                        "SELECT n, platform, event, received, user, channel, thread, direct, text,"
                        " attempts FROM inbox WHERE state = 'open' AND platform = ? ORDER BY n",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, platform, -1, SQLITE_STATIC);
    cJSON *rows;
    if ((rc = kb_rows(kb, st, open_row, NULL, "reading the open questions", &rows)))
        return rc;
    const cJSON *o;
    cJSON_ArrayForEach(o, rows)
    {
        struct kb_question q = { number(o, "n"),     field(o, "platform"),
                                 field(o, "event"),  number(o, "received"),
                                 field(o, "user"),   field(o, "channel"),
                                 field(o, "thread"), (int)number(o, "direct"),
                                 field(o, "text"),   (int)number(o, "attempts") };
        fn(arg, &q);
    }
    cJSON_Delete(rows);
    return 0;
}
