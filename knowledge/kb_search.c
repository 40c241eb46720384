/* kb_search.c - full-text search of entries for moderators ("kb search"): every word must occur,
 * the last one as a prefix, best matches first. The user's words reach FTS5 only as quoted
 * strings, so no FTS5 syntax in them has any effect. */
#include "kb_int.h"

#include <ctype.h>
#include <string.h>

#include "buf.h"
#include "err.h"

/* Appends text as FTS5 quoted strings, one per white-space separated word. */
static int quote_words(struct buf *q, const char *text)
{
    int rc = 0, words = 0;
    const char *p = text;
    while (*p && !rc) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        rc = buf_puts(q, words++ ? " \"" : "\"");
        for (const char *c = start; c < p && !rc; c++)
            rc = *c == '"' ? buf_puts(q, "\"\"") : buf_putc(q, *c);
        if (!rc)
            rc = buf_putc(q, '"');
    }
    if (!rc && words)
        rc = buf_putc(q, '*');
    return rc ? rc : words ? 0 : ERR_INVAL;
}

/* One search hit: {"id", "kind", "title", "snippet"}. */
static cJSON *hit(sqlite3_stmt *st, const void *arg)
{
    (void)arg;
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "id", kb_col(st, 0)) ||
        !cJSON_AddStringToObject(o, "kind", kb_col(st, 1)) ||
        !cJSON_AddStringToObject(o, "title", kb_col(st, 2)) ||
        !cJSON_AddStringToObject(o, "snippet", kb_col(st, 3))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int kb_search(struct kb *kb, const char *text, int limit, cJSON **out)
{
    struct buf q;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    buf_init(&q, 16384);
    int rc = quote_words(&q, text);
    if (rc == ERR_INVAL)
        rc = kb_fail(kb, ERR_INVAL, "nothing to search for");
    else if (rc == ERR_TOOBIG)
        rc = kb_fail(kb, ERR_TOOBIG, "the search text is too long");
    if (!rc)
        rc = kb_prepare(kb,
                        "SELECT e.id, e.kind, e.title,"
                        " snippet(entries_fts, -1, '[', ']', '...', 12)"
                        " FROM entries_fts JOIN entries e ON e.n = entries_fts.rowid"
                        " WHERE entries_fts MATCH ?"
                        " ORDER BY bm25(entries_fts, 4.0, 1.0, 3.0, 2.0, 3.0) LIMIT ?",
                        &st);
    if (rc) {
        buf_free(&q);
        return rc;
    }
    sqlite3_bind_text(st, 1, buf_str(&q), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : 20);
    rc = kb_rows(kb, st, hit, NULL, "searching", out);
    buf_free(&q);
    return rc;
}
