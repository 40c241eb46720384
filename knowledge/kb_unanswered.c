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

/* Adds one to the question's count (a new question starts at 1); *fresh says it is new. */
static int upsert(struct kb *kb, const char *key, const char *question, const char *now,
                  const char *via, int *fresh)
{
    sqlite3_stmt *st;
    int rc = kb_stmt(kb,
                     "INSERT INTO unanswered (key, question, count, first_asked, last_asked, via)"
                     " VALUES (?1, ?2, 1, ?3, ?3, ?4)"
                     " ON CONFLICT (key) DO UPDATE SET question = excluded.question,"
                     " count = count + 1, last_asked = excluded.last_asked, via = excluded.via"
                     " RETURNING count",
                     &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, via ? via : "", -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *fresh = sqlite3_column_int64(st, 0) == 1;
        step = sqlite3_step(st);
    }
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "recording an unanswered question");
    kb_stmt_done(st);
    return rc;
}

/* Drops the questions last asked before the time cutoff. */
static int prune(struct kb *kb, const char *cutoff)
{
    sqlite3_stmt *st;
    int rc = kb_stmt(kb, "DELETE FROM unanswered WHERE last_asked < ?", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "dropping old unanswered questions");
    kb_stmt_done(st);
    return rc;
}

/* Keeps at most KB_MAX_UNANSWERED questions: the least asked, then the longest unasked, go. */
static int evict(struct kb *kb)
{
    sqlite3_stmt *st;
    int rc = kb_prepare(kb,
                        "DELETE FROM unanswered WHERE key IN (SELECT key FROM unanswered"
                        " ORDER BY count, last_asked"
                        " LIMIT max(0, (SELECT count(*) FROM unanswered) - ?))",
                        &st);
    if (rc)
        return rc;
    sqlite3_bind_int(st, 1, KB_MAX_UNANSWERED);
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "dropping the least asked unanswered questions");
    sqlite3_finalize(st);
    return rc;
}

struct note {
    const char *key, *question, *via;
    int keep_days;
};

static int note_in_txn(struct kb *kb, const void *arg)
{
    const struct note *n = arg;
    time_t t = time(NULL);
    char now[32], before[32];
    kb_time(t, now, sizeof now);
    int fresh = 0;
    int rc = upsert(kb, n->key, n->question, now, n->via, &fresh);
    if (!rc && n->keep_days > 0 && n->keep_days <= MAX_KEEP_DAYS) {
        kb_time(t - (time_t)n->keep_days * 86400, before, sizeof before);
        rc = prune(kb, before);
    }
    if (!rc && fresh)
        rc = evict(kb);
    return rc;
}

int kb_unanswered_note(struct kb *kb, const char *question, size_t len, const char *via,
                       int keep_days)
{
    char clean[KB_MAX_QUESTION + 1], key[KB_MAX_QUESTION + 1];
    if (clean_question(question, len, clean))
        return kb_fail(kb, ERR_NOMEM, "out of memory");
    question_key(clean, key);
    if (!*key)
        return kb_fail(kb, ERR_INVAL, "the question has nothing in it to record");
    struct note n = { key, clean, via, keep_days };
    return kb_quick_write(kb, note_in_txn, &n); /* the reply waits for this */
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
