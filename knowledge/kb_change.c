/* kb_change.c - the audit log: history, one change in full, and undo.
 *
 * Every change stores the record before and after as JSON, so undo is generic: put back the
 * "before" (or remove the record when there was none). Undo refuses when the record no longer
 * looks like the change's "after", because that would silently revert a later change too. */
#include "kb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static cJSON *json_col(sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return cJSON_CreateNull();
    cJSON *v = cJSON_Parse(kb_col(st, i));
    return v ? v : cJSON_CreateNull();
}

/* The summary fields of a change row: n, at, who, via, action, type, id, undoes, note. */
static cJSON *change_summary(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = cJSON_AddNumberToObject(o, "change", (double)sqlite3_column_int64(st, 0)) &&
             cJSON_AddStringToObject(o, "at", kb_col(st, 1)) &&
             cJSON_AddStringToObject(o, "who", kb_col(st, 2)) &&
             cJSON_AddStringToObject(o, "via", kb_col(st, 3)) &&
             cJSON_AddStringToObject(o, "action", kb_col(st, 4)) &&
             cJSON_AddStringToObject(o, "type", kb_col(st, 5)) &&
             cJSON_AddStringToObject(o, "id", kb_col(st, 6));
    if (ok && sqlite3_column_type(st, 7) != SQLITE_NULL)
        ok = cJSON_AddNumberToObject(o, "undoes", (double)sqlite3_column_int64(st, 7)) != NULL;
    if (ok)
        ok = cJSON_AddStringToObject(o, "note", kb_col(st, 8)) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *summary_row(sqlite3_stmt *st, const void *arg)
{
    (void)arg;
    return change_summary(st);
}

#define CHANGE_COLUMNS "n, at, who, via, action, type, id, undoes, note, before, after"

int kb_history(struct kb *kb, enum kb_type t, const char *id, int limit, cJSON **out)
{
    sqlite3_stmt *st;
    *out = NULL;
    int rc = kb_prepare(kb,
                        "SELECT " CHANGE_COLUMNS " FROM changes"
                        " WHERE ?1 IS NULL OR (type = ?2 AND id = ?1) ORDER BY n DESC LIMIT ?3",
                        &st);
    if (rc)
        return rc;
    if (id)
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kb_type_name(t), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
    return kb_rows(kb, st, summary_row, NULL, "reading the history", out);
}

int kb_change(struct kb *kb, int64_t change, cJSON **out)
{
    sqlite3_stmt *st;
    *out = NULL;
    int rc = kb_prepare(kb, "SELECT " CHANGE_COLUMNS " FROM changes WHERE n = ?", &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, change);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        cJSON *o = change_summary(st);
        if (o && cJSON_AddItemToObject(o, "before", json_col(st, 9)) &&
            cJSON_AddItemToObject(o, "after", json_col(st, 10)))
            *out = o;
        else {
            cJSON_Delete(o);
            rc = ERR_NOMEM;
        }
    } else if (step == SQLITE_DONE) {
        rc = kb_fail(kb, ERR_NOTFOUND, "no change %lld", (long long)change);
    } else {
        rc = kb_dbfail(kb, step, "reading a change");
    }
    sqlite3_finalize(st);
    return rc;
}

/* The newest change of the record, and the newest undo of `change`, if any. */
static int later_changes(struct kb *kb, const char *type, const char *id, int64_t change,
                         int64_t *latest, int64_t *undone_by)
{
    sqlite3_stmt *st;
    int rc = kb_prepare(kb,
                        "SELECT (SELECT max(n) FROM changes WHERE type = ?1 AND id = ?2),"
                        " (SELECT max(n) FROM changes WHERE undoes = ?3)",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, change);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *latest = sqlite3_column_int64(st, 0);
        *undone_by = sqlite3_column_int64(st, 1);
    } else {
        rc = kb_dbfail(kb, step, "reading the history");
    }
    sqlite3_finalize(st);
    return rc;
}

static int undo_in_txn(struct kb *kb, int64_t change, int force, const struct kb_actor *who,
                       int64_t *undo)
{
    cJSON *c = NULL, *now = NULL;
    int rc = kb_change(kb, change, &c);
    if (rc)
        return rc;
    const char *type = cJSON_GetObjectItem(c, "type")->valuestring;
    const char *id = cJSON_GetObjectItem(c, "id")->valuestring;
    const cJSON *before = cJSON_GetObjectItem(c, "before");
    const cJSON *after = cJSON_GetObjectItem(c, "after");
    enum kb_type t = (enum kb_type)kb_type_parse(type);
    int64_t latest = 0, undone_by = 0;
    if ((rc = later_changes(kb, type, id, change, &latest, &undone_by)))
        goto out;
    if (undone_by && !force) {
        rc = kb_fail(kb, ERR_CONFLICT,
                     "change %lld was already undone by change %lld (undo that one to redo it)",
                     (long long)change, (long long)undone_by);
        goto out;
    }
    rc = kb_record_get(kb, t, id, 0, &now);
    if (rc && rc != ERR_NOTFOUND)
        goto out;
    rc = 0;
    int same = cJSON_IsNull(after) ? now == NULL : now && cJSON_Compare(now, after, 1);
    if (!same && !force) {
        rc = kb_fail(kb, ERR_CONFLICT,
                     "%s \"%s\" has changed since change %lld (latest change %lld): undoing it "
                     "would also revert that; look with history, or use --force",
                     type, id, (long long)change, (long long)latest);
        goto out;
    }
    char note[64];
    snprintf(note, sizeof note, "undo of change %lld", (long long)change);
    if (cJSON_IsNull(before)) {
        if (now)
            rc = kb_record_remove(kb, t, id, who, note, change, undo);
        else
            rc = kb_fail(kb, ERR_CONFLICT, "%s \"%s\" is already gone", type, id);
    } else {
        rc = kb_record_put(kb, t, before, KB_PUT_UPSERT, who, note, change, undo);
        if (!rc && undo && *undo == 0)
            rc = kb_fail(kb, ERR_CONFLICT, "%s \"%s\" is already as it was before change %lld",
                         type, id, (long long)change);
    }
out:
    cJSON_Delete(c);
    cJSON_Delete(now);
    return rc;
}

int kb_undo(struct kb *kb, int64_t change, int force, const struct kb_actor *who, int64_t *undo)
{
    int64_t made = 0;
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    rc = undo_in_txn(kb, change, force, who, &made);
    if (rc) {
        kb_rollback(kb);
        return rc;
    }
    if (undo)
        *undo = made;
    return kb_commit(kb);
}
