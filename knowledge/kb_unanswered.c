/* kb_unanswered.c - the questions planbot declined, counted for moderators ("kb unanswered").
 *
 * A question is keyed by a normal form, so that "Who pays?" and "who  pays" count as one. The
 * list is bookkeeping beside the knowledge, not knowledge: it is not exported, its changes are
 * not in the audit log, and its writes leave kb_stamp() alone so that the matcher does not reload
 * its caches after every declined question. Nothing about who asked is stored, and the list is
 * capped, so a flood of distinct questions cannot grow the database without bound. */
#include "kb_int.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "norm.h"
#include "utf8.h"

enum {
    MAX_KEEP_DAYS = 365000, /* keep_days beyond this keep questions forever */
    SCHEMA_UNANSWERED = 2   /* the schema version that added the table */
};

/* Whether code point cp is kept as a space: ASCII white space and controls, C1 controls, the
 * Unicode spaces chat clients insert (no-break, thin, ideographic, zero-width, BOM), and the
 * bidirectional overrides that would make a listed question display as something else. */
static int is_space(uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0) || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) || cp == 0x205F ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x3000 || cp == 0xFEFF;
}

/* The question as it is kept: as the matcher read it, without the chat markup that norm_clean()
 * removes (mentions of people, <!channel>, which must not ping anyone when a moderator lists the
 * questions, emoji; a link keeps its label), then on one line with single spaces and no control
 * characters, at most KB_MAX_QUESTION bytes cut between characters. out holds KB_MAX_QUESTION + 1
 * bytes. */
static int clean_question(const char *q, size_t len, char *out)
{
    struct buf plain;
    buf_init(&plain, 2 * len + 64); /* past the cap, the start is kept: enough for the cut */
    int rc = norm_clean(q, len, &plain);
    if (rc == ERR_NOMEM) {
        buf_free(&plain);
        return rc;
    }
    const char *s = buf_str(&plain);
    size_t slen = plain.len, n = 0;
    int space = 0;
    for (size_t i = 0; i < slen;) {
        uint32_t cp;
        size_t clen = utf8_decode(s + i, slen - i, &cp);
        if (clen == 0 || is_space(cp)) {
            i += clen ? clen : 1;
            space = n > 0;
            continue;
        }
        if (n + (size_t)space + clen > KB_MAX_QUESTION)
            break;
        if (space)
            out[n++] = ' ';
        space = 0;
        memcpy(out + n, s + i, clen);
        n += clen;
        i += clen;
    }
    out[n] = '\0';
    buf_free(&plain);
    return 0;
}

/* The key that variants of a question share: the cleaned question in lower-case ASCII, without
 * trailing "?", "!", "." and spaces. out holds KB_MAX_QUESTION + 1 bytes; "" when nothing is left.
 */
static void question_key(const char *clean, char *out)
{
    size_t n = 0;
    for (const char *p = clean; *p; p++)
        out[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    while (n && strchr("?!. ", out[n - 1]))
        n--;
    out[n] = '\0';
}

/* Adds one to the question's count (a new question starts at 1). The key is the table's primary
 * key: one search of its index, whatever the list holds. */
static int upsert(struct kb *kb, const char *key, const char *question, const char *now,
                  const char *via)
{
    sqlite3_stmt *st;
    int rc = kb_stmt(kb,
                     "INSERT INTO unanswered (key, question, count, first_asked, last_asked, via)"
                     " VALUES (?1, ?2, 1, ?3, ?3, ?4)"
                     " ON CONFLICT (key) DO UPDATE SET question = excluded.question,"
                     " count = count + 1, last_asked = excluded.last_asked, via = excluded.via",
                     &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, via ? via : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "recording an unanswered question");
    kb_stmt_done(st);
    return rc;
}

struct notes {
    const struct kb_declined *q;
    size_t n;
};

static int note_in_txn(struct kb *kb, const void *arg)
{
    const struct notes *ns = arg;
    char now[32];
    kb_now(now, sizeof now);
    int rc = 0;
    for (size_t i = 0; !rc && i < ns->n; i++) {
        char clean[KB_MAX_QUESTION + 1], key[KB_MAX_QUESTION + 1];
        if (clean_question(ns->q[i].question, ns->q[i].len, clean))
            return kb_fail(kb, ERR_NOMEM, "out of memory");
        question_key(clean, key);
        if (*key) /* nothing in it: nothing to list */
            rc = upsert(kb, key, clean, now, ns->q[i].via);
    }
    return rc;
}

int kb_unanswered_note(struct kb *kb, const struct kb_declined *q, size_t n, int busy_ms)
{
    struct notes ns = { q, n };
    return n ? kb_quick_write(kb, busy_ms, note_in_txn, &ns) : 0;
}

/* Runs a DELETE that takes ?1 (a bound value) and ?2 (the most rows), adding what it deleted to
 * *dropped. */
static int delete_some(struct kb *kb, const char *sql, const char *value, int64_t limit,
                       const char *what, int *dropped)
{
    if (limit <= 0)
        return 0;
    sqlite3_stmt *st;
    int rc = kb_stmt(kb, sql, &st);
    if (rc)
        return rc;
    if (value)
        sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, limit);
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, what);
    else
        *dropped += sqlite3_changes(kb->db);
    kb_stmt_done(st);
    return rc;
}

struct tidy {
    int keep_days, max;
    int *dropped;
};

static int tidy_in_txn(struct kb *kb, const void *arg)
{
    const struct tidy *t = arg;
    int rc = 0;
    if (t->keep_days > 0 && t->keep_days <= MAX_KEEP_DAYS) {
        char before[32];
        kb_time(time(NULL) - (time_t)t->keep_days * 86400, before, sizeof before);
        rc = delete_some(kb,
                         "DELETE FROM unanswered WHERE key IN (SELECT key FROM unanswered"
                         " WHERE last_asked < ?1 ORDER BY last_asked LIMIT ?2)",
                         before, t->max, "dropping old unanswered questions", t->dropped);
    }
    int64_t count = 0;
    sqlite3_stmt *st;
    if (!rc && !(rc = kb_stmt(kb, "SELECT count(*) FROM unanswered", &st))) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            count = sqlite3_column_int64(st, 0);
        else
            rc = kb_dbfail(kb, step, "counting the unanswered questions");
        kb_stmt_done(st);
    }
    int64_t excess = count - KB_MAX_UNANSWERED, room = t->max - *t->dropped;
    if (!rc)
        rc = delete_some(kb,
                         "DELETE FROM unanswered WHERE key IN (SELECT key FROM unanswered"
                         " ORDER BY count, last_asked LIMIT ?2)",
                         NULL, excess < room ? excess : room,
                         "dropping the least asked unanswered questions", t->dropped);
    return rc;
}

int kb_unanswered_tidy(struct kb *kb, int keep_days, int max, int busy_ms, int *dropped)
{
    int none;
    if (!dropped)
        dropped = &none;
    *dropped = 0;
    if (kb->readonly || kb->version < SCHEMA_UNANSWERED)
        return 0;
    struct tidy t = { keep_days, max > 0 ? max : 1, dropped };
    int rc = kb_quick_write(kb, busy_ms, tidy_in_txn, &t);
    if (rc)
        *dropped = 0;
    return rc;
}

/* One question: {"question", "count", "first_asked", "last_asked", "via"}. */
static cJSON *question_row(sqlite3_stmt *st, const void *arg)
{
    (void)arg;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "question", kb_col(st, 0)) ||
        !cJSON_AddNumberToObject(o, "count", (double)sqlite3_column_int64(st, 1)) ||
        !cJSON_AddStringToObject(o, "first_asked", kb_col(st, 2)) ||
        !cJSON_AddStringToObject(o, "last_asked", kb_col(st, 3)) ||
        !cJSON_AddStringToObject(o, "via", kb_col(st, 4))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int kb_unanswered_list(struct kb *kb, int limit, cJSON **out)
{
    *out = NULL;
    if (kb->version < SCHEMA_UNANSWERED) {
        /* a read-only database from before the list: nothing was recorded */
        *out = cJSON_CreateArray();
        return *out ? 0 : ERR_NOMEM;
    }
    sqlite3_stmt *st;
    int rc = kb_prepare(kb,
                        "SELECT question, count, first_asked, last_asked, via FROM unanswered"
                        " ORDER BY count DESC, last_asked DESC LIMIT ?",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    return kb_rows(kb, st, question_row, NULL, "reading the unanswered questions", out);
}

int kb_unanswered_clear(struct kb *kb, int64_t *cleared)
{
    if (cleared)
        *cleared = 0;
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    sqlite3_stmt *st;
    if ((rc = kb_prepare(kb, "DELETE FROM unanswered", &st))) {
        kb_rollback(kb);
        return rc;
    }
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "clearing the unanswered questions");
    sqlite3_finalize(st);
    if (rc) {
        kb_rollback(kb);
        return rc;
    }
    int64_t n = sqlite3_changes64(kb->db);
    if ((rc = kb_commit_quiet(kb)))
        return rc;
    if (cleared)
        *cleared = n;
    return 0;
}
