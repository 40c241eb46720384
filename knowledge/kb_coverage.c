/* kb_coverage.c - which sentences of the sources' stored texts no entry holds (see kb.h).
 *
 * An entry's text is its source's own bytes (kb_record.c), so a sentence is held when it occurs
 * byte for byte in the text of an entry citing that source. What is not a sentence stating a
 * fact is left out: a line that does not end as a sentence does (a heading, a byline, the
 * title), a copyright notice, and a sentence that names every contributor or every author (the
 * credit line, which the source's record holds). */
#define _GNU_SOURCE /* memmem */
#include "kb_int.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

/* The texts of the entries citing one source. */
struct held {
    char **text;
    size_t n, cap;
};

static void held_free(struct held *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->text[i]);
    free(h->text);
    memset(h, 0, sizeof *h);
}

static int held_load(struct kb *kb, const char *source, struct held *h)
{
    sqlite3_stmt *st;
    int rc = kb_stmt(kb, "SELECT text FROM entries WHERE source = ?", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    int step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (h->n == h->cap) {
            size_t cap = h->cap ? 2 * h->cap : 64;
            char **grown = realloc(h->text, cap * sizeof *grown);
            if (!grown) {
                rc = ERR_NOMEM;
                break;
            }
            h->text = grown;
            h->cap = cap;
        }
        if (!(h->text[h->n] = strdup(kb_col(st, 0))))
            rc = ERR_NOMEM;
        else
            h->n++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "reading the entries of a source");
    kb_stmt_done(st);
    return rc;
}

static int is_held(const struct held *h, const char *s, size_t n)
{
    for (size_t i = 0; i < h->n; i++)
        if (memmem(h->text[i], strlen(h->text[i]), s, n))
            return 1;
    return 0;
}

/* Whether s[0..n) names every string of the JSON list names (at least one). */
static int names_all(const char *s, size_t n, const char *names)
{
    cJSON *list = cJSON_Parse(names), *x;
    int all = cJSON_GetArraySize(list) > 0;
    cJSON_ArrayForEach(x, list)
    {
        size_t k = cJSON_IsString(x) ? strlen(x->valuestring) : 0;
        int found = 0;
        for (size_t i = 0; k && i + k <= n && !found; i++)
            found = memcmp(s + i, x->valuestring, k) == 0;
        all &= found;
    }
    cJSON_Delete(list);
    return all;
}

/* The closing quotes and brackets that may follow a sentence's final stop. */
static size_t closer(const char *p)
{
    if (*p == '"' || *p == '\'' || *p == ')')
        return 1;
    if ((unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x80 &&
        ((unsigned char)p[2] == 0x9D || (unsigned char)p[2] == 0x99)) /* ” ’ */
        return 3;
    return 0;
}

/* Where the sentence that starts at s (in a line of n bytes) ends: after its stop and closers,
 * before the space that precedes the next sentence; n when it runs to the end of the line. */
static size_t sentence_end(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '.' && s[i] != '!' && s[i] != '?')
            continue;
        size_t e = i + 1, c;
        while (e < n && (c = closer(s + e)) != 0)
            e += c;
        if (e < n && s[e] == ' ' && e + 1 < n &&
            ((s[e + 1] >= 'A' && s[e + 1] <= 'Z') || (s[e + 1] >= '0' && s[e + 1] <= '9') ||
             s[e + 1] == '"' || s[e + 1] == '(' || (unsigned char)s[e + 1] == 0xE2))
            return e;
    }
    return n;
}

/* Whether a line ends as a sentence does: a stop, then only closers. */
static int ends_as_sentence(const char *s, size_t n)
{
    while (n > 0) {
        if (s[n - 1] == '.' || s[n - 1] == '!' || s[n - 1] == '?')
            return 1;
        if (s[n - 1] == '"' || s[n - 1] == '\'' || s[n - 1] == ')')
            n--;
        else if (n >= 3 && closer(s + n - 3) == 3)
            n -= 3;
        else
            return 0;
    }
    return 0;
}

struct report {
    cJSON *out;
    int max;
    int64_t total;
};

static int note(struct report *r, const char *source, const char *s, size_t n)
{
    r->total++;
    if (cJSON_GetArraySize(r->out) >= r->max)
        return 0;
    char *copy = strndup(s, n);
    cJSON *o = cJSON_CreateObject();
    int ok = copy && o && cJSON_AddStringToObject(o, "source", source) &&
             cJSON_AddStringToObject(o, "sentence", copy) && cJSON_AddItemToArray(r->out, o);
    free(copy);
    if (!ok) {
        cJSON_Delete(o);
        return ERR_NOMEM;
    }
    return 0;
}

/* Reports the sentences of one source's text that no entry holds. */
static int source_gaps(const char *id, const char *text, const char *authors,
                       const char *contributors, const struct held *h, struct report *r)
{
    int rc = 0;
    for (const char *line = text; *line && !rc;) {
        size_t n = strcspn(line, "\n");
        if (ends_as_sentence(line, n) && !memmem(line, n, "\xC2\xA9", 2)) { /* © */
            for (size_t at = 0; at < n && !rc;) {
                while (at < n && line[at] == ' ')
                    at++;
                size_t len = sentence_end(line + at, n - at);
                const char *s = line + at;
                if (len && !is_held(h, s, len) && !names_all(s, len, contributors) &&
                    !names_all(s, len, authors))
                    rc = note(r, id, s, len);
                at += len;
            }
        }
        line += n + (line[n] == '\n');
    }
    return rc;
}

int kb_uncovered(struct kb *kb, int max, int64_t *total, cJSON **out)
{
    *out = NULL;
    *total = 0;
    struct report r = { cJSON_CreateArray(), max < 1 ? 1 : max, 0 };
    if (!r.out)
        return ERR_NOMEM;
    sqlite3_stmt *st = NULL;
    int rc = kb_prepare(kb,
                        "SELECT id, text, authors, contributors FROM sources"
                        " WHERE text IS NOT NULL ORDER BY rowid",
                        &st);
    int step = SQLITE_DONE;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        struct held h = { 0 };
        char *id = strdup(kb_col(st, 0));
        if (!id) {
            rc = ERR_NOMEM;
            break;
        }
        if (!(rc = held_load(kb, id, &h)))
            rc = source_gaps(id, kb_col(st, 1), kb_col(st, 2), kb_col(st, 3), &h, &r);
        held_free(&h);
        free(id);
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "reading the sources");
    sqlite3_finalize(st);
    if (rc) {
        cJSON_Delete(r.out);
        return rc;
    }
    *out = r.out;
    *total = r.total;
    return 0;
}
