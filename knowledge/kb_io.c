/* kb_io.c - the knowledge base file: import (validate everything, then all or nothing) and export.
 *
 * An import runs every record through the same kb_record_put() as a single edit, inside a
 * savepoint. Errors do not stop the walk, so one run reports every bad record (up to a limit) with
 * its line; any error, or a dry run, rolls the savepoint back and the database is as it was. */
#include "kb_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "jsonpos.h"

#define FORMAT_NAME    "planbot-kb"
#define FORMAT_VERSION 1

enum { MAX_REPORTED = 20 };

/* The top-level arrays of the file, in the order they are applied. */
static const struct {
    const char *key;
    enum kb_type type;
} sections[] = { { "sources", KB_SOURCE },
                 { "synonyms", KB_SYNONYM },
                 { "speakers", KB_SPEAKER },
                 { "parties", KB_PARTY },
                 { "entries", KB_ENTRY } };
enum { NSECTIONS = sizeof sections / sizeof sections[0] };

struct import {
    struct kb *kb;
    const char *text; /* the file, for line numbers */
    size_t len;
    struct buf errors; /* one line per error */
    int nerrors;
};

/* Records one error about sections[s] item i (field may be NULL), with its line. */
static void import_error(struct import *im, int s, int i, const char *field, const char *msg)
{
    im->nerrors++;
    if (im->nerrors > MAX_REPORTED)
        return;
    struct jsonpos_step path[3] = { { sections[s].key, 0 }, { NULL, i }, { field, 0 } };
    size_t off = jsonpos_offset(im->text, im->len, path, field ? 3 : 2);
    int line, col;
    jsonpos_line_col(im->text, im->len, off, &line, &col);
    buf_printf(&im->errors, "%sline %d: %s[%d]: %s", im->errors.len ? "\n" : "", line,
               sections[s].key, i, msg);
}

/* The field a validation message names ("field \"kind\": ..."), copied into out. */
static const char *named_field(const char *msg, char *out, size_t len)
{
    const char *p = strstr(msg, "field \"");
    if (!p)
        return NULL;
    p += 7;
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= len)
        return NULL;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return out;
}

/* Whether a change created its record rather than edited it: the record's key as stored may be
 * spelt otherwise than in the file ("ARMY" is the synonym "army"). */
static int change_added(struct kb *kb, int64_t change)
{
    sqlite3_stmt *st;
    if (kb_prepare(kb, "SELECT before IS NULL FROM changes WHERE n = ?", &st))
        return 0;
    sqlite3_bind_int64(st, 1, change);
    int added = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return added;
}

struct keyed {
    char key[KB_MAX_ID + KB_MAX_ITEM + 2]; /* as stored: a synonym's term lowercase */
    int index;                             /* in the file's list */
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->index - y->index;
}

/* Reports records whose keys, as the database would store them, occur twice in one section. */
static int check_duplicates(struct import *im, int s, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    if (n < 2)
        return 0;
    struct keyed *keys = calloc((size_t)n, sizeof *keys);
    if (!keys)
        return ERR_NOMEM;
    enum kb_type t = sections[s].type;
    int k = 0, index = 0;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, arr)
    {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(rec, kb_record_key(t));
        if (cJSON_IsString(key)) {
            const char *stored =
                kb_record_stored_key(t, key->valuestring, keys[k].key, sizeof keys[k].key);
            if (stored != keys[k].key)
                snprintf(keys[k].key, sizeof keys[k].key, "%s", stored);
            keys[k++].index = index;
        }
        index++;
    }
    qsort(keys, (size_t)k, sizeof *keys, cmp_keyed);
    for (int i = 1; i < k; i++) {
        if (strcmp(keys[i].key, keys[i - 1].key) != 0)
            continue;
        char msg[160];
        snprintf(msg, sizeof msg, "\"%.64s\" appears more than once in the file (also at %s[%d])",
                 keys[i].key, sections[s].key, keys[i - 1].index);
        import_error(im, s, keys[i].index, kb_record_key(t), msg);
    }
    free(keys);
    return 0;
}

/* Sets the handle's message to the error lines and the count. The message has a fixed size:
 * only the lines that fit are shown, so that "nothing was imported" always survives. */
static int report_errors(struct import *im)
{
    char tail[96];
    snprintf(tail, sizeof tail, "%d error%s: nothing was imported", im->nerrors,
             im->nerrors == 1 ? "" : "s");
    const char *lines = buf_str(&im->errors);
    size_t room = sizeof im->kb->errmsg - strlen(tail) - 40; /* "\n... and N more\n" */
    size_t keep = 0;
    int shown = 0;
    for (const char *p = lines; *p;) {
        const char *nl = strchr(p, '\n');
        size_t end = nl ? (size_t)(nl - lines) : strlen(lines);
        if (end > room)
            break;
        keep = end;
        shown++;
        if (!nl)
            break;
        p = nl + 1;
    }
    if (!shown && *lines) { /* one line longer than the message: its start */
        keep = room;
        shown = 1;
    }
    if (shown < im->nerrors)
        return kb_fail(im->kb, ERR_INVAL, "%.*s\n... and %d more\n%s", (int)keep, lines,
                       im->nerrors - shown, tail);
    return kb_fail(im->kb, ERR_INVAL, "%s\n%s", lines, tail);
}

/* Removes the records of a type that the file does not hold (--replace). */
static int remove_missing(struct import *im, enum kb_type t, const cJSON *arr, const char *note,
                          const struct kb_actor *who, struct kb_import_report *rep)
{
    int n = cJSON_GetArraySize(arr), k = 0;
    struct keyed *keep = calloc((size_t)(n ? n : 1), sizeof *keep);
    if (!keep)
        return ERR_NOMEM;
    const cJSON *rec;
    cJSON_ArrayForEach(rec, arr)
    {
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(rec, kb_record_key(t));
        if (!cJSON_IsString(key))
            continue;
        const char *stored =
            kb_record_stored_key(t, key->valuestring, keep[k].key, sizeof keep[k].key);
        if (stored != keep[k].key)
            snprintf(keep[k].key, sizeof keep[k].key, "%s", stored);
        k++;
    }
    qsort(keep, (size_t)k, sizeof *keep, cmp_keyed);
    cJSON *all = NULL;
    int rc = kb_list(im->kb, t, NULL, 1, &all);
    const cJSON *have;
    cJSON_ArrayForEach(have, all)
    {
        if (rc)
            break;
        struct keyed probe;
        snprintf(probe.key, sizeof probe.key, "%s",
                 cJSON_GetObjectItemCaseSensitive(have, kb_record_key(t))->valuestring);
        probe.index = -1;
        size_t lo = 0, hi = (size_t)k;
        while (lo < hi) { /* the first key >= probe */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(keep[mid].key, probe.key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < (size_t)k && strcmp(keep[lo].key, probe.key) == 0)
            continue;
        int64_t change = 0;
        int prc = kb_record_remove(im->kb, t, probe.key, who, note, 0, &change);
        if (prc == ERR_REFERENCED || prc == ERR_NOTFOUND) {
            im->nerrors++;
            buf_printf(&im->errors, "%scannot remove %s \"%s\": %s", im->errors.len ? "\n" : "",
                       kb_type_name(t), probe.key, kb_errmsg(im->kb));
        } else if (prc) {
            rc = prc;
        } else {
            rep->removed++;
            if (!rep->first_change)
                rep->first_change = change;
            rep->last_change = change;
        }
    }
    cJSON_Delete(all);
    free(keep);
    return rc;
}

static int check_header(struct kb *kb, const cJSON *doc)
{
    if (!cJSON_IsObject(doc))
        return kb_fail(kb, ERR_INVAL, "line 1: the file must hold one JSON object");
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        int known = strcmp(item->string, "format") == 0 || strcmp(item->string, "version") == 0;
        for (int s = 0; s < NSECTIONS && !known; s++)
            known = strcmp(item->string, sections[s].key) == 0;
        if (!known)
            return kb_fail(kb, ERR_INVAL,
                           "unknown top-level field \"%s\" (expected format, "
                           "version, sources, synonyms, entries)",
                           item->string);
    }
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(doc, "format");
    if (!cJSON_IsString(format) || strcmp(format->valuestring, FORMAT_NAME) != 0)
        return kb_fail(kb, ERR_INVAL,
                       "not a planbot knowledge base file: field \"format\" must be \"%s\"",
                       FORMAT_NAME);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(doc, "version");
    if (!cJSON_IsNumber(version) || version->valueint < 1)
        return kb_fail(kb, ERR_INVAL, "field \"version\" must be %d", FORMAT_VERSION);
    if (version->valueint > FORMAT_VERSION)
        return kb_fail(kb, ERR_INVAL,
                       "the file has format version %d, newer than this planbot reads (%d)",
                       version->valueint, FORMAT_VERSION);
    for (int s = 0; s < NSECTIONS; s++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, sections[s].key);
        if (arr && !cJSON_IsArray(arr))
            return kb_fail(kb, ERR_INVAL, "field \"%s\" must be a list", sections[s].key);
    }
    return 0;
}

static int parse(struct kb *kb, const char *text, size_t len, cJSON **doc)
{
    if (len > KB_MAX_FILE)
        return kb_fail(kb, ERR_TOOBIG, "the file is too large (%zu bytes; at most %d)", len,
                       KB_MAX_FILE);
    if (memchr(text, '\0', len))
        return kb_fail(kb, ERR_INVAL, "the file contains a NUL byte: it is not JSON text");
    const char *end = NULL;
    *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t stop = end ? (size_t)(end - text) : len;
    if (*doc) {
        while (stop < len && strchr(" \t\r\n", text[stop]))
            stop++;
        if (stop == len)
            return 0;
        cJSON_Delete(*doc);
        *doc = NULL;
    } else if (!end) {
        const char *e = cJSON_GetErrorPtr();
        stop = e && e >= text && e <= text + len ? (size_t)(e - text) : 0;
    }
    int line, col;
    jsonpos_line_col(text, len, stop, &line, &col);
    return kb_fail(kb, ERR_INVAL, "line %d, column %d: not valid JSON here", line, col);
}

int kb_io_apply(struct kb *kb, const char *text, size_t len, const char *note,
                const struct kb_import_opts *opts, const struct kb_actor *who,
                struct kb_import_report *rep)
{
    memset(rep, 0, sizeof *rep);
    cJSON *doc = NULL;
    int rc = parse(kb, text, len, &doc);
    if (rc || (rc = check_header(kb, doc))) {
        cJSON_Delete(doc);
        return rc;
    }
    struct import im = { kb, text, len, { 0 }, 0 };
    buf_init(&im.errors, 64 * 1024);
    kb_read_release(kb);
    rc = sqlite3_exec(kb->db, "SAVEPOINT import", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = kb_dbfail(kb, rc, "starting the import");
        goto out;
    }
    for (int s = 0; s < NSECTIONS && !rc; s++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, sections[s].key);
        if ((rc = check_duplicates(&im, s, arr)))
            break;
        int i = 0;
        const cJSON *rec;
        cJSON_ArrayForEach(rec, arr)
        {
            int64_t change = 0;
            int prc =
                kb_record_put(kb, sections[s].type, rec, KB_PUT_UPSERT, who, note, 0, &change);
            if (prc == ERR_NOMEM || prc == ERR_BUSY || prc == ERR_FULL || prc == ERR_READONLY ||
                prc == ERR_DB || prc == ERR_IO) {
                rc = prc;
                break;
            }
            if (prc) {
                char field[64];
                import_error(&im, s, i, named_field(kb->errmsg, field, sizeof field), kb->errmsg);
            } else if (!change) {
                rep->unchanged++;
            } else {
                change_added(kb, change) ? rep->added++ : rep->updated++;
                if (!rep->first_change)
                    rep->first_change = change;
                rep->last_change = change;
            }
            i++;
        }
    }
    if (!rc && opts->replace) {
        /* Entries first, then synonyms, then the sources nothing cites any more. */
        for (int s = NSECTIONS - 1; s >= 0 && !rc; s--)
            rc = remove_missing(&im, sections[s].type,
                                cJSON_GetObjectItemCaseSensitive(doc, sections[s].key), note, who,
                                rep);
    }
    if (!rc && im.nerrors)
        rc = report_errors(&im);
    if (rc || opts->dry_run)
        sqlite3_exec(kb->db, "ROLLBACK TO import", NULL, NULL, NULL);
    sqlite3_exec(kb->db, "RELEASE import", NULL, NULL, NULL);
    if (opts->dry_run)
        rep->first_change = rep->last_change = 0;
out:
    buf_free(&im.errors);
    cJSON_Delete(doc);
    return rc;
}

int kb_import(struct kb *kb, const char *text, size_t len, const struct kb_import_opts *opts,
              const struct kb_actor *who, struct kb_import_report *report)
{
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    rc = kb_io_apply(kb, text, len, "import", opts, who, report);
    if (rc || opts->dry_run) {
        kb_rollback(kb);
        return rc;
    }
    return kb_commit(kb);
}

int kb_import_bundled(struct kb *kb, const struct kb_import_opts *opts, const struct kb_actor *who,
                      struct kb_import_report *report)
{
    int rc = kb_begin(kb);
    if (rc)
        return rc;
    rc = kb_io_apply(kb, kb_bundled_json, kb_bundled_len, "import of the bundled knowledge base",
                     opts, who, report);
    if (rc || opts->dry_run) {
        kb_rollback(kb);
        return rc;
    }
    return kb_commit(kb);
}

/* Lists a type without metadata, for the export. */
static int export_section(struct kb *kb, enum kb_type t, cJSON *doc, const char *key)
{
    cJSON *arr = NULL;
    int rc = kb_list(kb, t, NULL, 0, &arr);
    if (rc)
        return rc;
    static const char *const meta[] = { "created_at", "created_by", "updated_at", "updated_by" };
    cJSON *rec;
    cJSON_ArrayForEach(rec, arr)
    {
        for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
            cJSON_DeleteItemFromObjectCaseSensitive(rec, meta[i]);
    }
    if (!cJSON_AddItemToObject(doc, key, arr)) {
        cJSON_Delete(arr);
        return ERR_NOMEM;
    }
    return 0;
}

int kb_export(struct kb *kb, cJSON **out)
{
    *out = NULL;
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddStringToObject(doc, "format", FORMAT_NAME) ||
        !cJSON_AddNumberToObject(doc, "version", FORMAT_VERSION)) {
        cJSON_Delete(doc);
        return ERR_NOMEM;
    }
    /* A consistent snapshot even while someone else writes. */
    kb_read_release(kb);
    int rc = sqlite3_exec(kb->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        cJSON_Delete(doc);
        return kb_dbfail(kb, rc, "starting the export");
    }
    rc = 0;
    for (int s = 0; s < NSECTIONS && !rc; s++)
        rc = export_section(kb, sections[s].type, doc, sections[s].key);
    sqlite3_exec(kb->db, "COMMIT", NULL, NULL, NULL);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return 0;
}
