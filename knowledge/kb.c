/* kb.c - the knowledge base handle's primitives: errors, the statement cache, transactions, times
 * and rows. The bottom layer of knowledge/: it calls nothing above it (kb_record.c, kb_io.c,
 * kb_open.c build on it). */
#include "kb_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "sqlfail.h"

int kb_fail(struct kb *kb, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(kb->errmsg, sizeof kb->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

int kb_dbfail(struct kb *kb, int rc, const char *what)
{
    return sqlfail_msg(kb->errmsg, sizeof kb->errmsg, rc, kb->db, kb->path, what);
}

const char *kb_errmsg(const struct kb *kb)
{
    return kb ? kb->errmsg : "";
}

void kb_set_busy_ms(struct kb *kb, int ms)
{
    kb->busy_ms = ms;
    sqlite3_busy_timeout(kb->db, ms);
}

const char *kb_path(const struct kb *kb)
{
    return kb->path;
}

int kb_writable(const struct kb *kb)
{
    return !kb->readonly;
}

int kb_prepare(struct kb *kb, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v2(kb->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK)
        return kb_dbfail(kb, rc, "preparing a query");
    return 0;
}

int kb_stmt(struct kb *kb, const char *sql, sqlite3_stmt **st)
{
    for (int i = 0; i < KB_STMT_CACHE; i++) {
        if (kb->stmts[i].sql && strcmp(kb->stmts[i].sql, sql) == 0) {
            *st = kb->stmts[i].st;
            return 0;
        }
    }
    int rc = kb_prepare(kb, sql, st);
    if (rc)
        return rc;
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(*st);
        return ERR_NOMEM;
    }
    int slot = kb->next_stmt;
    kb->next_stmt = (slot + 1) % KB_STMT_CACHE;
    sqlite3_finalize(kb->stmts[slot].st);
    free(kb->stmts[slot].sql);
    kb->stmts[slot].sql = copy;
    kb->stmts[slot].st = *st;
    return 0;
}

void kb_stmt_done(sqlite3_stmt *st)
{
    if (!st)
        return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int kb_exec(struct kb *kb, const char *sql, const char *what)
{
    int rc = sqlite3_exec(kb->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : kb_dbfail(kb, rc, what);
}

int kb_begin(struct kb *kb)
{
    kb_read_release(kb);
    if (kb->readonly)
        return kb_fail(kb, ERR_READONLY, "the database %s is read-only", kb->path);
    return kb_exec(kb, "BEGIN IMMEDIATE", "starting a change");
}

int kb_commit_quiet(struct kb *kb)
{
    int rc = kb_exec(kb, "COMMIT", "saving the change");
    if (rc)
        kb_rollback(kb);
    return rc;
}

int kb_quick_write(struct kb *kb, int busy_ms, int (*fn)(struct kb *, const void *),
                   const void *arg)
{
    sqlite3_busy_timeout(kb->db, busy_ms);
    int rc = kb_begin(kb);
    if (!rc) {
        rc = fn(kb, arg);
        if (rc)
            kb_rollback(kb);
        else
            rc = kb_commit_quiet(kb);
    }
    sqlite3_busy_timeout(kb->db, kb->busy_ms);
    return rc;
}

int kb_read_begin(struct kb *kb)
{
    if (kb->held)
        return 0;
    int step = sqlite3_step(kb->read_begin);
    sqlite3_reset(kb->read_begin);
    int rc = step == SQLITE_DONE ? 0 : kb_dbfail(kb, step, "reading the knowledge base");
    kb->reading = !rc;
    kb->stamp_known = 0;
    return rc;
}

void kb_read_end(struct kb *kb)
{
    if (kb->held)
        return;
    kb->reading = kb->stamp_known = 0;
    if (!sqlite3_get_autocommit(kb->db)) {
        sqlite3_step(kb->read_commit);
        sqlite3_reset(kb->read_commit);
    }
}

int kb_read_hold(struct kb *kb)
{
    if (kb->held || !sqlite3_get_autocommit(kb->db))
        return 0; /* held already, or inside another transaction, which reads as well */
    int rc = kb_read_begin(kb);
    kb->held = !rc;
    return rc;
}

void kb_read_release(struct kb *kb)
{
    if (!kb->held)
        return;
    kb->held = 0;
    kb_read_end(kb);
}

int kb_commit(struct kb *kb)
{
    int rc = kb_commit_quiet(kb);
    if (!rc)
        kb->own_writes++;
    return rc;
}

void kb_rollback(struct kb *kb)
{
    if (!sqlite3_get_autocommit(kb->db))
        sqlite3_exec(kb->db, "ROLLBACK", NULL, NULL, NULL);
}

void kb_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void kb_now(char *out, size_t len)
{
    kb_time(time(NULL), out, len);
}

int kb_rows(struct kb *kb, sqlite3_stmt *st, cJSON *(*row)(sqlite3_stmt *st, const void *arg),
            const void *arg, const char *what, cJSON **out)
{
    *out = NULL;
    int rc = 0, step = SQLITE_DONE;
    cJSON *arr = cJSON_CreateArray();
    while (arr && (step = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = row(st, arg);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = ERR_NOMEM;
            break;
        }
    }
    if (!arr)
        rc = ERR_NOMEM;
    else if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, what);
    sqlite3_finalize(st);
    if (rc)
        cJSON_Delete(arr);
    else
        *out = arr;
    return rc;
}

const char *kb_col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

uint64_t kb_stamp(struct kb *kb)
{
    if (kb->reading && kb->stamp_known) /* one snapshot: what it reads cannot change */
        return kb->stamp;
    uint64_t v = 0;
    if (sqlite3_step(kb->data_version) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(kb->data_version, 0);
    sqlite3_reset(kb->data_version);
    v = v << 32 ^ kb->own_writes;
    if (kb->reading) {
        kb->stamp = v;
        kb->stamp_known = 1;
    }
    return v;
}

int64_t kb_count_entries(struct kb *kb)
{
    sqlite3_stmt *st;
    if (kb_prepare(kb, "SELECT count(*) FROM entries", &st))
        return 0;
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

const char *kb_type_name(enum kb_type t)
{
    switch (t) {
    case KB_SOURCE: return "source";
    case KB_ENTRY: return "entry";
    case KB_SYNONYM: return "synonym";
    case KB_SPEAKER: return "speaker";
    case KB_PARTY: return "party";
    }
    return "?";
}

int kb_type_parse(const char *name)
{
    static const enum kb_type all[] = { KB_SOURCE, KB_ENTRY, KB_SYNONYM, KB_SPEAKER, KB_PARTY };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(name, kb_type_name(all[i])) == 0)
            return (int)all[i];
    return -1;
}
