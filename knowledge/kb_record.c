/* kb_record.c - sources, entries and synonyms as records: one field table per type drives
 * validation, SQL and JSON, so the three types share every code path (get, put, remove, list),
 * and every write appends its before/after to the audit log in the caller's transaction. */
#include "kb_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "utf8.h"
#include "verbatim.h"

enum ftype {
    FT_SLUG,      /* an id: lowercase letters, digits and '-' */
    FT_TERM,      /* a synonym term: one line, stored lowercase */
    FT_LINE,      /* one line of text */
    FT_TEXT,      /* text that may span lines */
    FT_BODY,      /* text that may span lines, or null */
    FT_KIND,      /* provision, quote or context */
    FT_DATE,      /* YYYY-MM-DD or "" */
    FT_URL,       /* http(s) URL or "" */
    FT_LIST,      /* array of one-line strings, each at most KB_MAX_ITEM bytes */
    FT_QUESTIONS, /* array of distinct one-line questions, each at most KB_MAX_QUESTION bytes */
    FT_SOURCE     /* the id of an existing source */
};

enum {
    FF_REQUIRED = 1 << 0, /* must be present and not empty */
    FF_LONG = 1 << 1,     /* left out of brief listings */
    FF_PHRASE = 1 << 2    /* words a question is matched against: at most KB_MAX_PHRASE_WORDS */
};

struct field {
    const char *name; /* JSON key and SQL column */
    enum ftype type;
    unsigned flags;
    size_t max; /* bytes for text, items for lists */
};

/* Whether a field holds a JSON list (stored as its JSON text). */
static int is_list(const struct field *f)
{
    return f->type == FT_LIST || f->type == FT_QUESTIONS;
}

struct table {
    const char *sql;   /* table name */
    const char *order; /* ORDER BY for listings: insertion order */
    const struct field *fields;
    size_t nfields;
};

static const struct field source_fields[] = {
    { "id", FT_SLUG, FF_REQUIRED, KB_MAX_ID },
    { "title", FT_LINE, FF_REQUIRED, KB_MAX_TITLE },
    { "publisher", FT_LINE, 0, KB_MAX_NAME },
    { "authors", FT_LIST, 0, KB_MAX_LIST },
    { "date", FT_DATE, 0, 10 },
    { "url", FT_URL, 0, 2000 },
    { "text", FT_BODY, FF_LONG, KB_MAX_SOURCE_TEXT },
    { "contributors", FT_LIST, 0, KB_MAX_LIST },
    { "updated", FT_DATE, 0, 10 },
};

static const struct field entry_fields[] = {
    { "id", FT_SLUG, FF_REQUIRED, KB_MAX_ID },
    { "kind", FT_KIND, FF_REQUIRED, 16 },
    { "title", FT_LINE, FF_REQUIRED, KB_MAX_TITLE },
    { "text", FT_TEXT, FF_REQUIRED | FF_LONG, KB_MAX_TEXT },
    { "speaker", FT_LINE, 0, KB_MAX_NAME },
    { "role", FT_LINE, 0, KB_MAX_NAME },
    { "source", FT_SOURCE, FF_REQUIRED, KB_MAX_ID },
    { "keywords", FT_LIST, FF_LONG, KB_MAX_LIST },
    { "examples", FT_QUESTIONS, FF_LONG, KB_MAX_LIST },
};

static const struct field speaker_fields[] = {
    { "name", FT_LINE, FF_REQUIRED | FF_PHRASE, KB_MAX_NAME },
    { "role", FT_LINE, 0, KB_MAX_NAME },
    { "aliases", FT_LIST, FF_PHRASE, KB_MAX_LIST },
};

static const struct field party_fields[] = {
    { "name", FT_LINE, FF_REQUIRED | FF_PHRASE, KB_MAX_NAME },
    { "words", FT_LIST, FF_PHRASE, KB_MAX_LIST },
};

static const struct field synonym_fields[] = {
    { "term", FT_TERM, FF_REQUIRED | FF_PHRASE, KB_MAX_ITEM },
    { "words", FT_LIST, FF_REQUIRED | FF_PHRASE, KB_MAX_LIST },
};

#define TABLE(sql, order, f)                                                                       \
    {                                                                                              \
        sql, order, f, sizeof f / sizeof f[0]                                                      \
    }
static const struct table tables[] = {
    [KB_SOURCE] = TABLE("sources", "rowid", source_fields),
    [KB_ENTRY] = TABLE("entries", "n", entry_fields),
    [KB_SYNONYM] = TABLE("synonyms", "rowid", synonym_fields),
    [KB_SPEAKER] = TABLE("speakers", "rowid", speaker_fields),
    [KB_PARTY] = TABLE("parties", "rowid", party_fields),
};

/* Metadata every record carries: shown by kb_get, ignored when given as input. */
static const char *const meta_fields[] = { "created_at", "created_by", "updated_at", "updated_by" };
enum { NMETA = sizeof meta_fields / sizeof meta_fields[0] };

static const char *const kinds[] = { "provision", "quote", "context" };

const char *kb_record_key(enum kb_type t)
{
    return tables[t].fields[0].name;
}

static const struct field *find_field(const struct table *tb, const char *name)
{
    for (size_t i = 0; i < tb->nfields; i++)
        if (strcmp(tb->fields[i].name, name) == 0)
            return &tb->fields[i];
    return NULL;
}

static int is_meta(const char *name)
{
    for (size_t i = 0; i < NMETA; i++)
        if (strcmp(meta_fields[i], name) == 0)
            return 1;
    return 0;
}

/* SELECT <fields>[, <meta>] FROM <table> */
static int select_sql(struct buf *sql, const struct table *tb, int meta)
{
    int rc = buf_puts(sql, "SELECT ");
    for (size_t i = 0; i < tb->nfields && !rc; i++)
        rc = buf_printf(sql, "%s%s", i ? ", " : "", tb->fields[i].name);
    for (size_t i = 0; meta && i < NMETA && !rc; i++)
        rc = buf_printf(sql, ", %s", meta_fields[i]);
    if (!rc)
        rc = buf_printf(sql, " FROM %s", tb->sql);
    return rc;
}

/* Builds the JSON object of the current row of a statement made by select_sql(). */
static cJSON *row_to_json(sqlite3_stmt *st, const struct table *tb, int meta, int brief)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (size_t i = 0; i < tb->nfields; i++) {
        const struct field *f = &tb->fields[i];
        if (brief && (f->flags & FF_LONG))
            continue;
        cJSON *v;
        if (is_list(f)) {
            v = cJSON_Parse(kb_col(st, (int)i));
            if (!v || !cJSON_IsArray(v)) {
                cJSON_Delete(v);
                v = cJSON_CreateArray();
            }
        } else if (sqlite3_column_type(st, (int)i) == SQLITE_NULL) {
            v = cJSON_CreateNull();
        } else {
            v = cJSON_CreateString(kb_col(st, (int)i));
        }
        if (!v || !cJSON_AddItemToObject(o, f->name, v)) {
            cJSON_Delete(v);
            goto err;
        }
    }
    for (size_t i = 0; meta && i < NMETA; i++)
        if (!cJSON_AddStringToObject(o, meta_fields[i], kb_col(st, (int)(tb->nfields + i))))
            goto err;
    return o;
err:
    cJSON_Delete(o);
    return NULL;
}

const char *kb_record_stored_key(enum kb_type t, const char *id, char *out, size_t len)
{
    if (t != KB_SYNONYM)
        return id;
    while (isspace((unsigned char)*id))
        id++;
    size_t n = strlen(id);
    while (n && isspace((unsigned char)id[n - 1]))
        n--;
    if (n >= len)
        n = len - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)id[i]);
    out[n] = '\0';
    return out;
}

int kb_record_get(struct kb *kb, enum kb_type t, const char *id, int meta, cJSON **out)
{
    const struct table *tb = &tables[t];
    char key[KB_MAX_ITEM + 1];
    id = kb_record_stored_key(t, id, key, sizeof key);
    struct buf sql;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    buf_init(&sql, 4096);
    int rc = select_sql(&sql, tb, meta);
    if (!rc)
        rc = buf_printf(&sql, " WHERE %s = ?", tb->fields[0].name);
    if (!rc)
        rc = kb_stmt(kb, buf_str(&sql), &st);
    buf_free(&sql);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *out = row_to_json(st, tb, meta, 0);
        rc = *out ? 0 : ERR_NOMEM;
    } else if (step == SQLITE_DONE) {
        rc = kb_fail(kb, ERR_NOTFOUND, "no %s \"%s\"", kb_type_name(t), id);
    } else {
        rc = kb_dbfail(kb, step, "reading a record");
    }
    kb_stmt_done(st);
    return rc;
}

int kb_get(struct kb *kb, enum kb_type t, const char *id, cJSON **out)
{
    return kb_record_get(kb, t, id, 1, out);
}

/* ---- validation ---- */

static int bad(struct kb *kb, const struct field *f, const char *why)
{
    return kb_fail(kb, ERR_INVAL, "field \"%s\": %s", f->name, why);
}

static int check_text(struct kb *kb, const struct field *f, const char *s, int multiline)
{
    size_t n = strlen(s), at;
    if (n > f->max) {
        char why[96];
        snprintf(why, sizeof why, "too long (%zu bytes; at most %zu)", n, f->max);
        return bad(kb, f, why);
    }
    if (!utf8_valid(s, n, &at))
        return bad(kb, f, "not valid UTF-8 text");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\n' && multiline)
            continue;
        if (*p < 0x20 && *p != '\t')
            return bad(kb, f,
                       multiline ? "contains a control character"
                                 : "must be one line (no line breaks or control "
                                   "characters)");
    }
    return 0;
}

static int check_date(const char *s)
{
    if (!*s)
        return 1;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (month < 1 || month > 12 || day < 1)
        return 0;
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return day <= days[month - 1] + (month == 2 && leap);
}

static int check_slug(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
            return 0;
    return 1;
}

/* Trims white space at both ends of a string item, in place in the cJSON node. */
static int trim_item(cJSON *item, int lower)
{
    const char *s = item->valuestring;
    size_t b = 0, e = strlen(s);
    while (b < e && isspace((unsigned char)s[b]))
        b++;
    while (e > b && isspace((unsigned char)s[e - 1]))
        e--;
    char *t = malloc(e - b + 1);
    if (!t)
        return ERR_NOMEM;
    memcpy(t, s + b, e - b);
    t[e - b] = '\0';
    for (char *p = t; lower && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char *old = item->valuestring;
    item->valuestring = t;
    free(old);
    return 0;
}

/* Whether a list holds an item equal to e before it, ignoring ASCII case. */
static int repeated(const cJSON *list, const cJSON *e)
{
    for (const cJSON *x = list->child; x && x != e; x = x->next)
        if (strcasecmp(x->valuestring, e->valuestring) == 0)
            return 1;
    return 0;
}

/* The words of s as the search index splits them: runs of letters and digits (any byte of a
 * multibyte character counts as a letter). */
static int count_words(const char *s)
{
    int n = 0, in = 0;
    for (; *s; s++) {
        int letter = isalnum((unsigned char)*s) || (unsigned char)*s >= 0x80;
        n += letter && !in;
        in = letter;
    }
    return n;
}

/* A word or phrase a question is matched against has at most KB_MAX_PHRASE_WORDS words: a longer
 * one would never match, so it is refused rather than kept and ignored. */
static int check_phrase(struct kb *kb, const struct field *f, const char *s)
{
    int n = count_words(s);
    if (!(f->flags & FF_PHRASE) || n <= KB_MAX_PHRASE_WORDS)
        return 0;
    char why[KB_MAX_NAME + 96];
    snprintf(why, sizeof why, "\"%.*s\" has %d words; a word or phrase to match has at most %d",
             KB_MAX_NAME, s, n, KB_MAX_PHRASE_WORDS);
    return bad(kb, f, why);
}

static int check_field(struct kb *kb, const struct field *f, cJSON *v)
{
    if (is_list(f)) {
        if (!cJSON_IsArray(v))
            return bad(kb, f, "must be a list of strings");
        int n = cJSON_GetArraySize(v);
        if ((size_t)n > f->max) {
            char why[64];
            snprintf(why, sizeof why, "too many items (%d; at most %zu)", n, f->max);
            return bad(kb, f, why);
        }
        if ((f->flags & FF_REQUIRED) && n == 0)
            return bad(kb, f, "must have at least one item");
        int questions = f->type == FT_QUESTIONS;
        struct field item = { f->name, FT_LINE, 0, questions ? KB_MAX_QUESTION : KB_MAX_ITEM };
        cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsString(e))
                return bad(kb, f, "every item must be a string");
            int rc = trim_item(e, 0);
            if (rc)
                return rc;
            if (!*e->valuestring)
                return bad(kb, f, "items must not be empty");
            if ((rc = check_text(kb, &item, e->valuestring, 0)) ||
                (rc = check_phrase(kb, f, e->valuestring)))
                return rc;
            if (questions && repeated(v, e)) {
                char why[KB_MAX_QUESTION + 64];
                snprintf(why, sizeof why, "lists \"%s\" twice", e->valuestring);
                return bad(kb, f, why);
            }
        }
        return 0;
    }
    if (f->type == FT_BODY && cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v))
        return bad(kb, f, f->type == FT_BODY ? "must be a string or null" : "must be a string");
    int rc = f->type == FT_TEXT || f->type == FT_BODY ? 0 : trim_item(v, f->type == FT_TERM);
    if (rc)
        return rc;
    const char *s = v->valuestring;
    if ((f->flags & FF_REQUIRED) && !s[strspn(s, " \t\r\n")])
        return bad(kb, f, "must not be empty");
    if ((rc = check_phrase(kb, f, s)))
        return rc;
    switch (f->type) {
    case FT_SLUG:
    case FT_SOURCE:
        if (!check_slug(s, f->max))
            return bad(kb, f,
                       "must be 1 to 64 lowercase letters, digits and '-', starting with a "
                       "letter or digit");
        return 0;
    case FT_KIND:
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(s, kinds[i]) == 0)
                return 0;
        return bad(kb, f, "must be one of provision, quote, context");
    case FT_DATE: return check_date(s) ? 0 : bad(kb, f, "must be a date as YYYY-MM-DD, or empty");
    case FT_URL:
        if (*s && strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
            return bad(kb, f, "must start with https:// or http://, or be empty");
        if (strpbrk(s, " \t\n"))
            return bad(kb, f, "must not contain white space");
        return check_text(kb, f, s, 0);
    case FT_TEXT:
    case FT_BODY: return check_text(kb, f, s, 1);
    default: return check_text(kb, f, s, 0);
    }
}

/* The default value of an absent field. */
static cJSON *default_value(const struct field *f)
{
    if (is_list(f))
        return cJSON_CreateArray();
    if (f->type == FT_BODY)
        return cJSON_CreateNull();
    return cJSON_CreateString("");
}

/* Reads a source's stored text; *text NULL when it has none. Caller frees *text. */
static int source_text(struct kb *kb, const char *id, char **text, int *exists)
{
    sqlite3_stmt *st;
    *text = NULL;
    *exists = 0;
    int rc = kb_stmt(kb, "SELECT text FROM sources WHERE id = ?", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *exists = 1;
        if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
            *text = strdup(kb_col(st, 0));
            if (!*text)
                rc = ERR_NOMEM;
        }
    } else if (step != SQLITE_DONE) {
        rc = kb_dbfail(kb, step, "reading a source");
    }
    kb_stmt_done(st);
    return rc;
}

/* Replaces an entry's text by the source's own span when the source stores its text. */
static int check_verbatim(struct kb *kb, cJSON *text, const char *src, const char *src_id)
{
    size_t off, len;
    const char *t = text->valuestring;
    if (!verbatim_find(src, strlen(src), t, strlen(t), &off, &len))
        return kb_fail(kb, ERR_INVAL,
                       "field \"text\": not found word for word in the text of source \"%s\" "
                       "(entries quote their source exactly)",
                       src_id);
    if (len != strlen(t) || memcmp(src + off, t, len) != 0) {
        char *canon = malloc(len + 1);
        if (!canon)
            return ERR_NOMEM;
        memcpy(canon, src + off, len);
        canon[len] = '\0';
        free(text->valuestring);
        text->valuestring = canon;
    }
    return 0;
}

static int check_entry(struct kb *kb, cJSON *rec)
{
    const char *kind = cJSON_GetObjectItem(rec, "kind")->valuestring;
    const char *speaker = cJSON_GetObjectItem(rec, "speaker")->valuestring;
    const char *role = cJSON_GetObjectItem(rec, "role")->valuestring;
    const char *src = cJSON_GetObjectItem(rec, "source")->valuestring;
    if (strcmp(kind, "quote") == 0 && !*speaker)
        return kb_fail(kb, ERR_INVAL, "field \"speaker\": a quote needs the name of who said it");
    if (strcmp(kind, "quote") != 0 && (*speaker || *role))
        return kb_fail(kb, ERR_INVAL,
                       "field \"speaker\": only quotes have a speaker and role (this is a %s)",
                       kind);
    char *text;
    int exists;
    int rc = source_text(kb, src, &text, &exists);
    if (rc)
        return rc;
    if (!exists)
        rc = kb_fail(kb, ERR_INVAL,
                     "field \"source\": there is no source \"%s\" (add it first: kb source add)",
                     src);
    else if (text)
        rc = check_verbatim(kb, cJSON_GetObjectItem(rec, "text"), text, src);
    free(text);
    return rc;
}

/* A source whose text changes must still hold every entry that cites it. */
static int check_source(struct kb *kb, cJSON *rec)
{
    cJSON *text = cJSON_GetObjectItem(rec, "text");
    if (!cJSON_IsString(text))
        return 0;
    sqlite3_stmt *st;
    int rc = kb_prepare(kb, "SELECT id, text FROM entries WHERE source = ? ORDER BY n", &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, cJSON_GetObjectItem(rec, "id")->valuestring, -1, SQLITE_STATIC);
    size_t hay = strlen(text->valuestring), off, len;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = kb_col(st, 1);
        if (!verbatim_find(text->valuestring, hay, t, strlen(t), &off, &len)) {
            rc = kb_fail(kb, ERR_INVAL,
                         "field \"text\": entry \"%s\" cites this source but its text is not in "
                         "the new source text",
                         kb_col(st, 0));
            break;
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "checking the entries of a source");
    sqlite3_finalize(st);
    return rc;
}

/* Builds the full record to write from the input and the existing record (EDIT keeps fields). */
static int merge(struct kb *kb, const struct table *tb, const cJSON *rec, const cJSON *old,
                 cJSON **out)
{
    *out = NULL;
    cJSON *item;
    cJSON_ArrayForEach(item, rec)
    {
        if (!item->string)
            return kb_fail(kb, ERR_INVAL, "a record must be a JSON object");
        if (!find_field(tb, item->string) && !is_meta(item->string))
            return kb_fail(kb, ERR_INVAL, "unknown field \"%s\"", item->string);
    }
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return ERR_NOMEM;
    for (size_t i = 0; i < tb->nfields; i++) {
        const struct field *f = &tb->fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, f->name);
        if (!v && old)
            v = cJSON_GetObjectItemCaseSensitive(old, f->name);
        cJSON *copy = v ? cJSON_Duplicate(v, 1) : default_value(f);
        if (!copy || !cJSON_AddItemToObject(m, f->name, copy)) {
            cJSON_Delete(copy);
            cJSON_Delete(m);
            return ERR_NOMEM;
        }
        if (!v && (f->flags & FF_REQUIRED)) {
            cJSON_Delete(m);
            return kb_fail(kb, ERR_INVAL, "field \"%s\": required", f->name);
        }
        int rc = check_field(kb, f, copy);
        if (rc) {
            cJSON_Delete(m);
            return rc;
        }
    }
    *out = m;
    return 0;
}

static int bind_field(sqlite3_stmt *st, int col, const struct field *f, const cJSON *v,
                      char **owned)
{
    *owned = NULL;
    if (is_list(f)) {
        *owned = cJSON_PrintUnformatted(v);
        if (!*owned)
            return ERR_NOMEM;
        sqlite3_bind_text(st, col, *owned, -1, SQLITE_STATIC);
    } else if (cJSON_IsNull(v)) {
        sqlite3_bind_null(st, col);
    } else {
        sqlite3_bind_text(st, col, v->valuestring, -1, SQLITE_STATIC);
    }
    return 0;
}

/* INSERT (old == NULL) or UPDATE of the record m. */
static int write_row(struct kb *kb, const struct table *tb, const cJSON *m, int insert,
                     const struct kb_actor *who)
{
    struct buf sql;
    buf_init(&sql, 4096);
    int rc;
    if (insert) {
        rc = buf_printf(&sql, "INSERT INTO %s (", tb->sql);
        for (size_t i = 0; i < tb->nfields && !rc; i++)
            rc = buf_printf(&sql, "%s, ", tb->fields[i].name);
        if (!rc)
            rc = buf_puts(&sql, "created_at, created_by, updated_at, updated_by) VALUES (");
        for (size_t i = 0; i < tb->nfields && !rc; i++)
            rc = buf_puts(&sql, "?, ");
        if (!rc)
            rc = buf_puts(&sql, "?, ?, ?, ?)");
    } else {
        rc = buf_printf(&sql, "UPDATE %s SET ", tb->sql);
        for (size_t i = 1; i < tb->nfields && !rc; i++)
            rc = buf_printf(&sql, "%s = ?, ", tb->fields[i].name);
        if (!rc)
            rc =
                buf_printf(&sql, "updated_at = ?, updated_by = ? WHERE %s = ?", tb->fields[0].name);
    }
    sqlite3_stmt *st = NULL;
    if (!rc)
        rc = kb_stmt(kb, buf_str(&sql), &st);
    buf_free(&sql);
    if (rc)
        return rc;

    char now[32], *owned[16] = { 0 };
    kb_now(now, sizeof now);
    int col = 1;
    for (size_t i = insert ? 0 : 1; i < tb->nfields && !rc; i++)
        rc = bind_field(st, col++, &tb->fields[i],
                        cJSON_GetObjectItemCaseSensitive(m, tb->fields[i].name), &owned[i]);
    if (insert) {
        sqlite3_bind_text(st, col++, now, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, col++, who->who, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(st, col++, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, col++, who->who, -1, SQLITE_STATIC);
    if (!insert)
        sqlite3_bind_text(st, col++,
                          cJSON_GetObjectItemCaseSensitive(m, tb->fields[0].name)->valuestring, -1,
                          SQLITE_STATIC);
    if (!rc) {
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            rc = kb_dbfail(kb, step, "writing a record");
    }
    kb_stmt_done(st);
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        cJSON_free(owned[i]);
    return rc;
}

/* Appends one change to the audit log. */
static int log_change(struct kb *kb, enum kb_type t, const char *id, const cJSON *before,
                      const cJSON *after, const struct kb_actor *who, const char *note,
                      int64_t undoes, int64_t *change)
{
    const char *action = undoes ? "undo" : !before ? "add" : !after ? "remove" : "edit";
    char *b = before ? cJSON_PrintUnformatted(before) : NULL;
    char *a = after ? cJSON_PrintUnformatted(after) : NULL;
    sqlite3_stmt *st = NULL;
    int rc = (before && !b) || (after && !a) ? ERR_NOMEM : 0;
    if (!rc)
        rc = kb_stmt(kb,
                     "INSERT INTO changes (at, who, via, action, type, id, before, after, "
                     "undoes, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     &st);
    if (!rc) {
        char now[32];
        kb_now(now, sizeof now);
        sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, who->who, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, who->via, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, kb_type_name(t), -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, id, -1, SQLITE_STATIC);
        if (b)
            sqlite3_bind_text(st, 7, b, -1, SQLITE_STATIC);
        if (a)
            sqlite3_bind_text(st, 8, a, -1, SQLITE_STATIC);
        if (undoes)
            sqlite3_bind_int64(st, 9, undoes);
        sqlite3_bind_text(st, 10, note ? note : "", -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            rc = kb_dbfail(kb, step, "recording the change");
        else if (change)
            *change = sqlite3_last_insert_rowid(kb->db);
    }
    kb_stmt_done(st);
    cJSON_free(b);
    cJSON_free(a);
    return rc;
}

/* After a source's text changed: each entry citing it whose passage check_source() found only
 * modulo typography takes the new text's own bytes, so entries stay byte for byte in their
 * source. Each such entry is an edit of its own in the audit log. */
static int follow_source(struct kb *kb, const cJSON *src, const struct kb_actor *who)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(src, "text");
    if (!cJSON_IsString(text))
        return 0;
    const char *id = cJSON_GetObjectItemCaseSensitive(src, "id")->valuestring;
    cJSON *stale = cJSON_CreateArray();
    sqlite3_stmt *st = NULL;
    int rc = stale ? kb_prepare(kb, "SELECT id, text FROM entries WHERE source = ? ORDER BY n", &st)
                   : ERR_NOMEM;
    if (rc) {
        cJSON_Delete(stale);
        return rc;
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (strstr(text->valuestring, kb_col(st, 1)))
            continue;
        cJSON *rec = cJSON_CreateObject();
        if (!rec || !cJSON_AddStringToObject(rec, "id", kb_col(st, 0)) ||
            !cJSON_AddStringToObject(rec, "text", kb_col(st, 1)) ||
            !cJSON_AddItemToArray(stale, rec)) {
            cJSON_Delete(rec);
            rc = ERR_NOMEM;
            break;
        }
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "reading the entries of a source");
    sqlite3_finalize(st);
    char note[128];
    snprintf(note, sizeof note, "follows the new text of source \"%.64s\"", id);
    const cJSON *rec;
    cJSON_ArrayForEach(rec, stale)
    {
        if (!rc)
            rc = kb_record_put(kb, KB_ENTRY, rec, KB_PUT_EDIT, who, note, 0, NULL);
    }
    cJSON_Delete(stale);
    return rc;
}

static int check_actor(struct kb *kb, const struct kb_actor *who)
{
    if (!who || !who->who || !*who->who || !who->via || !*who->via)
        return kb_fail(kb, ERR_INVAL, "every change needs who makes it");
    if (strlen(who->who) > KB_MAX_NAME || !utf8_valid(who->who, strlen(who->who), NULL))
        return kb_fail(kb, ERR_INVAL, "the name of who makes the change is not valid");
    return 0;
}

int kb_record_put(struct kb *kb, enum kb_type t, const cJSON *rec, enum kb_put_mode mode,
                  const struct kb_actor *who, const char *note, int64_t undoes, int64_t *change)
{
    const struct table *tb = &tables[t];
    const char *keyname = tb->fields[0].name;
    cJSON *old = NULL, *m = NULL;
    if (change)
        *change = 0;
    int rc = check_actor(kb, who);
    if (rc)
        return rc;
    if (!cJSON_IsObject(rec))
        return kb_fail(kb, ERR_INVAL, "each %s must be a JSON object", kb_type_name(t));
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(rec, keyname);
    if (!cJSON_IsString(key) || !*key->valuestring)
        return kb_fail(kb, ERR_INVAL, "field \"%s\": required", keyname);
    /* Normalise the key first (a term is stored lowercase) so the lookup finds the record. */
    cJSON *keycopy = cJSON_Duplicate(key, 1);
    if (!keycopy)
        return ERR_NOMEM;
    if ((rc = check_field(kb, &tb->fields[0], keycopy))) {
        cJSON_Delete(keycopy);
        return rc;
    }
    rc = kb_record_get(kb, t, keycopy->valuestring, 0, &old);
    if (rc == ERR_NOTFOUND) {
        old = NULL;
        rc = 0;
        if (mode == KB_PUT_EDIT)
            rc = kb_fail(kb, ERR_NOTFOUND, "no %s \"%s\"", kb_type_name(t), keycopy->valuestring);
    } else if (!rc && mode == KB_PUT_ADD) {
        rc = kb_fail(kb, ERR_EXISTS, "%s \"%s\" already exists (use edit to change it)",
                     kb_type_name(t), keycopy->valuestring);
    }
    cJSON_Delete(keycopy);
    if (rc)
        goto out;
    if ((rc = merge(kb, tb, rec, mode == KB_PUT_EDIT ? old : NULL, &m)))
        goto out;
    if (t == KB_ENTRY)
        rc = check_entry(kb, m);
    else if (t == KB_SOURCE)
        rc = check_source(kb, m);
    if (rc)
        goto out;
    if (old && cJSON_Compare(old, m, 1))
        goto out; /* nothing changes, nothing is recorded */
    const char *id = cJSON_GetObjectItemCaseSensitive(m, keyname)->valuestring;
    if (!(rc = write_row(kb, tb, m, old == NULL, who)))
        rc = log_change(kb, t, id, old, m, who, note, undoes, change);
    if (!rc && t == KB_SOURCE && old)
        rc = follow_source(kb, m, who);
out:
    cJSON_Delete(old);
    cJSON_Delete(m);
    return rc;
}

int kb_record_remove(struct kb *kb, enum kb_type t, const char *id, const struct kb_actor *who,
                     const char *note, int64_t undoes, int64_t *change)
{
    const struct table *tb = &tables[t];
    cJSON *old = NULL;
    if (change)
        *change = 0;
    int rc = check_actor(kb, who);
    if (rc || (rc = kb_record_get(kb, t, id, 0, &old)))
        return rc;
    id = cJSON_GetObjectItemCaseSensitive(old, tb->fields[0].name)->valuestring; /* as stored */
    sqlite3_stmt *st = NULL;
    if (t == KB_SOURCE) {
        rc = kb_prepare(kb, "SELECT count(*), min(id) FROM entries WHERE source = ?", &st);
        if (rc)
            goto out;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0)
            rc = kb_fail(kb, ERR_REFERENCED,
                         "source \"%s\" is cited by %d entries (for example \"%s\"): remove "
                         "them or move them to another source first",
                         id, sqlite3_column_int(st, 0), kb_col(st, 1));
        sqlite3_finalize(st);
        st = NULL;
        if (rc)
            goto out;
    }
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?", tb->sql, tb->fields[0].name);
    if ((rc = kb_prepare(kb, sql, &st)))
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int step = sqlite3_step(st);
    if (step != SQLITE_DONE)
        rc = kb_dbfail(kb, step, "removing a record");
    else
        rc = log_change(kb, t, id, old, NULL, who, note, undoes, change);
out:
    sqlite3_finalize(st);
    cJSON_Delete(old);
    return rc;
}

/* Prefixes the handle's message with the record it is about. */
static int about(struct kb *kb, int rc, enum kb_type t, const cJSON *rec)
{
    if (!rc || rc == ERR_EXISTS || rc == ERR_NOTFOUND || rc == ERR_REFERENCED)
        return rc;
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(rec, kb_record_key(t));
    if (cJSON_IsString(key) && strstr(kb->errmsg, "field \"") == kb->errmsg) {
        char detail[sizeof kb->errmsg];
        snprintf(detail, sizeof detail, "%s", kb->errmsg);
        kb_fail(kb, rc, "%s \"%.64s\": %s", kb_type_name(t), key->valuestring, detail);
    }
    return rc;
}

int kb_put(struct kb *kb, enum kb_type t, const cJSON *rec, enum kb_put_mode mode,
           const struct kb_actor *who, int64_t *change)
{
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    rc = kb_record_put(kb, t, rec, mode, who, NULL, 0, change);
    if (rc) {
        kb_rollback(kb);
        return about(kb, rc, t, rec);
    }
    return kb_commit(kb);
}

int kb_remove(struct kb *kb, enum kb_type t, const char *id, const struct kb_actor *who,
              int64_t *change)
{
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    rc = kb_record_remove(kb, t, id, who, NULL, 0, change);
    if (rc) {
        kb_rollback(kb);
        return rc;
    }
    return kb_commit(kb);
}

struct list_row {
    const struct table *tb;
    int brief;
};

static cJSON *list_row(sqlite3_stmt *st, const void *arg)
{
    const struct list_row *how = arg;
    return row_to_json(st, how->tb, 1, how->brief);
}

int kb_list(struct kb *kb, enum kb_type t, const struct kb_filter *filter, int brief, cJSON **out)
{
    const struct table *tb = &tables[t];
    struct buf sql;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (t == KB_PARTY && kb->version < KB_SCHEMA_PARTIES) /* read-only, from before them */
        return (*out = cJSON_CreateArray()) ? 0 : ERR_NOMEM;
    buf_init(&sql, 4096);
    int rc = select_sql(&sql, tb, 1);
    int filtered = t == KB_ENTRY && filter;
    if (!rc && filtered)
        rc = buf_puts(&sql, " WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR source = ?2)");
    if (!rc)
        rc = buf_printf(&sql, " ORDER BY %s", tb->order);
    if (!rc)
        rc = kb_prepare(kb, buf_str(&sql), &st);
    buf_free(&sql);
    if (rc)
        return rc;
    if (filtered) {
        if (filter->kind)
            sqlite3_bind_text(st, 1, filter->kind, -1, SQLITE_STATIC);
        if (filter->source)
            sqlite3_bind_text(st, 2, filter->source, -1, SQLITE_STATIC);
    }
    struct list_row how = { tb, brief };
    return kb_rows(kb, st, list_row, &how, "listing records", out);
}
