/* test_kb.c - the knowledge base API against temporary databases: opening and creating, records and
 * their validation, the verbatim rule, the audit log and undo, import and export, search, the
 * questions planbot declined, and the failures a real deployment meets (read-only files, locks,
 * files that are not ours).
 *
 * Every test gets a fresh folder from mkdtemp() under /tmp, removed afterwards. */
#define _GNU_SOURCE /* setresuid(): the read-only test drops root, which ignores file modes */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "oldschema.h"
#include "testdir.h"

#include "buf.h"
#include "err.h"
#include "inbox.h"
#include "kb.h"
#include "kb_int.h"
#include "utf8.h"

/* ---- the test source and its records ---- */

#define SRC_ID "test-src"
#define LDQ    "\xE2\x80\x9C"
#define RDQ    "\xE2\x80\x9D"
#define RSQ    "\xE2\x80\x99"
#define NDASH  "\xE2\x80\x93"

/* A little article with the typography of a real one: curly quotes, dashes, a blank line. */
static const char src_text[] =
    "The draft says " LDQ "Ukraine" RSQ "s army will be limited to 600,000 personnel." RDQ "\n"
    "Russia " NDASH " according to the draft " NDASH " would keep Crimea.\n"
    "\n"
    "Zelensky said:  " LDQ "We will work on it." RDQ "\n";

/* How the army entry is typed (straight apostrophe) and how the source has it (curly). */
#define ARMY_TYPED  "Ukraine's army will be limited to 600,000 personnel."
#define ARMY_STORED "Ukraine" RSQ "s army will be limited to 600,000 personnel."

static const struct kb_actor setup_actor = { "setup", "test" };
static const struct kb_actor alice = { "alice", "cli" };
static const struct kb_actor bob = { "U0BOB", "slack" };

/* ---- helpers ---- */

/* A copy of s with every ' turned into ", so that JSON reads well in C. Caller frees. */
static char *sq_text(const char *s)
{
    char *t = strdup(s);
    assert_non_null(t);
    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    return t;
}

/* Parses JSON written with ' for ". Caller frees with cJSON_Delete. */
static cJSON *sq(const char *s)
{
    char *t = sq_text(s);
    cJSON *j = cJSON_Parse(t);
    if (!j)
        print_error("test JSON does not parse: %s\n", t);
    free(t);
    assert_non_null(j);
    return j;
}

/* kb_put of a record written with ' for ". */
static int put(struct kb *kb, enum kb_type t, const char *rec, enum kb_put_mode mode,
               const struct kb_actor *who, int64_t *change)
{
    cJSON *j = sq(rec);
    int rc = kb_put(kb, t, j, mode, who, change);
    cJSON_Delete(j);
    return rc;
}

static cJSON *make_source(const char *id, const char *text)
{
    cJSON *s = cJSON_CreateObject();
    assert_non_null(s);
    assert_non_null(cJSON_AddStringToObject(s, "id", id));
    assert_non_null(cJSON_AddStringToObject(s, "title", "A test article"));
    assert_non_null(cJSON_AddStringToObject(s, "publisher", "Test News"));
    assert_non_null(cJSON_AddItemToObject(s, "authors", cJSON_CreateArray()));
    assert_non_null(cJSON_AddStringToObject(s, "date", "2025-11-20"));
    assert_non_null(cJSON_AddStringToObject(s, "url", "https://example.com/article"));
    if (text)
        assert_non_null(cJSON_AddStringToObject(s, "text", text));
    else
        assert_non_null(cJSON_AddNullToObject(s, "text"));
    return s;
}

static cJSON *make_entry(const char *id, const char *kind, const char *text, const char *speaker,
                         const char *source)
{
    cJSON *e = cJSON_CreateObject();
    assert_non_null(e);
    assert_non_null(cJSON_AddStringToObject(e, "id", id));
    assert_non_null(cJSON_AddStringToObject(e, "kind", kind));
    assert_non_null(cJSON_AddStringToObject(e, "title", "A title"));
    assert_non_null(cJSON_AddStringToObject(e, "text", text));
    if (speaker)
        assert_non_null(cJSON_AddStringToObject(e, "speaker", speaker));
    assert_non_null(cJSON_AddStringToObject(e, "source", source));
    return e;
}

static int put_json(struct kb *kb, enum kb_type t, cJSON *rec, enum kb_put_mode mode,
                    const struct kb_actor *who, int64_t *change)
{
    int rc = kb_put(kb, t, rec, mode, who, change);
    cJSON_Delete(rec);
    return rc;
}

static cJSON *export_doc(struct kb *kb)
{
    cJSON *doc = NULL;
    int rc = kb_export(kb, &doc);
    if (rc)
        print_error("kb_export: %s\n", kb_errmsg(kb));
    assert_int_equal(rc, 0);
    assert_non_null(doc);
    return doc;
}

static int history_len(struct kb *kb)
{
    cJSON *h = NULL;
    assert_int_equal(kb_history(kb, KB_ENTRY, NULL, 0, &h), 0);
    int n = cJSON_GetArraySize(h);
    cJSON_Delete(h);
    return n;
}

static void assert_errmsg_has(struct kb *kb, const char *want)
{
    if (!strstr(kb_errmsg(kb), want))
        print_error("message \"%s\" does not contain \"%s\"\n", kb_errmsg(kb), want);
    assert_non_null(strstr(kb_errmsg(kb), want));
}

/* The string field of a record, asserting it is there. */
static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsString(v))
        print_error("field \"%s\" is not a string\n", name);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static int64_t num_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    assert_true(cJSON_IsNumber(v));
    return (int64_t)v->valuedouble;
}

/* The state a failed call must leave behind: the export and the length of the audit log. */
struct snapshot {
    cJSON *doc;
    int changes;
};

static struct snapshot snap(struct kb *kb)
{
    struct snapshot s = { export_doc(kb), history_len(kb) };
    return s;
}

static void assert_unchanged(struct kb *kb, struct snapshot *before)
{
    cJSON *now = export_doc(kb);
    int same = cJSON_Compare(before->doc, now, 1);
    if (!same) {
        char *a = cJSON_Print(before->doc), *b = cJSON_Print(now);
        print_error("the database changed:\nbefore %s\nafter %s\n", a, b);
        cJSON_free(a);
        cJSON_free(b);
    }
    assert_true(same);
    assert_int_equal(history_len(kb), before->changes);
    cJSON_Delete(now);
    cJSON_Delete(before->doc);
    before->doc = NULL;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* ---- fixtures ---- */

struct fx {
    char dir[64];    /* the temporary folder */
    char path[128];  /* dir/kb.db */
    struct kb *kb;   /* open on path, or NULL */
    int dropped_uid; /* the read-only test runs as another user */
};

static void fx_path(struct fx *f, char *out, size_t len, const char *name)
{
    int n = snprintf(out, len, "%s/%s", f->dir, name);
    assert_true(n > 0 && (size_t)n < len);
}

static struct kb *open_kb(const char *path, unsigned flags)
{
    struct kb *kb = NULL;
    char err[1024] = "";
    int rc = kb_open(&kb, path, flags, err, sizeof err);
    if (rc)
        print_error("kb_open(%s): %s\n", path, err);
    assert_int_equal(rc, 0);
    assert_non_null(kb);
    return kb;
}

/* A folder of its own, nothing opened. */
static int fx_dir(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-test-kb-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    *state = f;
    return 0;
}

/* An empty database holding the test source, two entries and a synonym. */
static int fx_small(void **state)
{
    if (fx_dir(state))
        return -1;
    struct fx *f = *state;
    char err[1024];
    if (kb_open(&f->kb, f->path, KB_OPEN_EMPTY, err, sizeof err)) {
        print_error("kb_open: %s\n", err);
        return -1;
    }
    cJSON *src = make_source(SRC_ID, src_text);
    cJSON *army = make_entry("army-cap", "provision", ARMY_TYPED, NULL, SRC_ID);
    cJSON *quote =
        make_entry("zelensky-work", "quote", "We will work on it.", "Volodymyr Zelensky", SRC_ID);
    cJSON_AddStringToObject(quote, "role", "President of Ukraine");
    cJSON *syn = cJSON_Parse("{\"term\": \"army\", \"words\": [\"military\", \"armed forces\"]}");
    int rc = kb_put(f->kb, KB_SOURCE, src, KB_PUT_ADD, &setup_actor, NULL) ||
             kb_put(f->kb, KB_ENTRY, army, KB_PUT_ADD, &setup_actor, NULL) ||
             kb_put(f->kb, KB_ENTRY, quote, KB_PUT_ADD, &setup_actor, NULL) ||
             kb_put(f->kb, KB_SYNONYM, syn, KB_PUT_ADD, &setup_actor, NULL);
    if (rc)
        print_error("setup: %s\n", kb_errmsg(f->kb));
    cJSON_Delete(src);
    cJSON_Delete(army);
    cJSON_Delete(quote);
    cJSON_Delete(syn);
    return rc ? -1 : 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    if (f->dropped_uid && setresuid(0, 0, 0) == 0)
        setresgid(0, 0, 0);
    kb_close(f->kb);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* ---- opening ---- */

static void kb_open_new_path_creates_database_with_bundled_data(void **state)
{
    struct fx *f = *state;
    char path[256];
    fx_path(f, path, sizeof path, "a/b/c/kb.db"); /* the folders do not exist yet */
    struct kb *kb = open_kb(path, 0);
    assert_true(file_exists(path));
    assert_string_equal(kb_path(kb), path);
    int64_t n = kb_count_entries(kb);
    assert_true(n > 50);
    cJSON *sources = NULL;
    assert_int_equal(kb_list(kb, KB_SOURCE, NULL, 1, &sources), 0);
    assert_true(cJSON_GetArraySize(sources) >= 1);
    cJSON_Delete(sources);
    /* The bundled records are attributed to planbot in the audit log. */
    cJSON *h = NULL;
    assert_int_equal(kb_history(kb, KB_ENTRY, NULL, 1, &h), 0);
    assert_int_equal(cJSON_GetArraySize(h), 1);
    assert_string_equal(str_field(cJSON_GetArrayItem(h, 0), "who"), "planbot");
    cJSON_Delete(h);
    kb_close(kb);
}

static void kb_open_empty_flag_creates_empty_database(void **state)
{
    struct fx *f = *state;
    struct kb *kb = open_kb(f->path, KB_OPEN_EMPTY);
    assert_int_equal(kb_count_entries(kb), 0);
    assert_int_equal(history_len(kb), 0);
    cJSON *doc = export_doc(kb);
    cJSON *want = sq("{'format': 'planbot-kb', 'version': 1, 'sources': [], 'synonyms': [], "
                     "'speakers': [], 'parties': [], 'entries': []}");
    assert_true(cJSON_Compare(doc, want, 1));
    cJSON_Delete(doc);
    cJSON_Delete(want);
    /* The schema is there: records can be added. */
    assert_int_equal(
        put_json(kb, KB_SOURCE, make_source(SRC_ID, src_text), KB_PUT_ADD, &alice, NULL), 0);
    kb_close(kb);
}

static void kb_open_reopen_keeps_data(void **state)
{
    struct fx *f = *state;
    struct kb *kb = open_kb(f->path, 0);
    int64_t bundled = kb_count_entries(kb);
    assert_int_equal(
        put_json(kb, KB_SOURCE, make_source(SRC_ID, src_text), KB_PUT_ADD, &alice, NULL), 0);
    assert_int_equal(put_json(kb, KB_ENTRY,
                              make_entry("test-army-cap", "provision", ARMY_TYPED, NULL, SRC_ID),
                              KB_PUT_ADD, &alice, NULL),
                     0);
    cJSON *before = export_doc(kb);
    int changes = history_len(kb);
    kb_close(kb);

    kb = open_kb(f->path, 0); /* the bundled data is not loaded again */
    assert_int_equal(kb_count_entries(kb), bundled + 1);
    cJSON *after = export_doc(kb);
    assert_true(cJSON_Compare(before, after, 1));
    assert_int_equal(history_len(kb), changes);
    cJSON *e = NULL;
    assert_int_equal(kb_get(kb, KB_ENTRY, "test-army-cap", &e), 0);
    cJSON_Delete(e);
    cJSON_Delete(before);
    cJSON_Delete(after);
    kb_close(kb);
}

static void kb_open_readonly_flag_needs_existing_database(void **state)
{
    struct fx *f = *state;
    struct kb *kb = (struct kb *)1;
    char err[1024] = "";
    assert_int_equal(kb_open(&kb, f->path, KB_OPEN_READONLY, err, sizeof err), ERR_NOTFOUND);
    assert_null(kb);
    assert_non_null(strstr(err, "does not exist"));
    assert_false(file_exists(f->path));

    kb = open_kb(f->path, KB_OPEN_EMPTY);
    kb_close(kb);
    kb = open_kb(f->path, KB_OPEN_READONLY);
    assert_int_equal(kb_count_entries(kb), 0);
    cJSON *src = make_source(SRC_ID, src_text);
    assert_int_equal(kb_put(kb, KB_SOURCE, src, KB_PUT_ADD, &alice, NULL), ERR_READONLY);
    assert_errmsg_has(kb, "read-only");
    cJSON_Delete(src);
    kb_close(kb);
}

static void kb_open_directory_is_refused(void **state)
{
    struct fx *f = *state;
    struct kb *kb = NULL;
    char err[1024] = "";
    assert_int_equal(kb_open(&kb, f->dir, 0, err, sizeof err), ERR_IO);
    assert_null(kb);
    assert_non_null(strstr(err, "directory"));
}

/* kb_open of path must fail with ERR_SCHEMA and leave the file as it was. */
static void assert_open_schema_error(const char *path, const char *want)
{
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    struct kb *kb = NULL;
    char err[1024] = "";
    int rc = kb_open(&kb, path, 0, err, sizeof err);
    if (rc != ERR_SCHEMA || !strstr(err, want))
        print_error("kb_open: %d, \"%s\"\n", rc, err);
    assert_int_equal(rc, ERR_SCHEMA);
    assert_null(kb);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, path));
    assert_int_equal(stat(path, &after), 0); /* never removed or truncated */
    assert_int_equal(after.st_size, before.st_size);
}

static void kb_open_not_a_database_is_schema_error(void **state)
{
    struct fx *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("These are someone's notes, not a database.\n", fp);
    fclose(fp);
    assert_open_schema_error(f->path, "not a usable database");
}

static void kb_open_foreign_tables_is_schema_error(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE invoices (n INTEGER, amount REAL);"
                                  "INSERT INTO invoices VALUES (1, 9.5);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_open_schema_error(f->path, "not a planbot database");
    /* The other program's data is intact. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM invoices", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void kb_open_newer_schema_version_is_schema_error(void **state)
{
    struct fx *f = *state;
    kb_close(open_kb(f->path, KB_OPEN_EMPTY));
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_open_schema_error(f->path, "newer");
    /* Read-only opening refuses it too. */
    struct kb *kb = NULL;
    char err[1024] = "";
    assert_int_equal(kb_open(&kb, f->path, KB_OPEN_READONLY, err, sizeof err), ERR_SCHEMA);
    assert_null(kb);
}

/* ---- kb_put ---- */

static void kb_put_add_refuses_existing_id(void **state)
{
    struct fx *f = *state;
    int64_t change = -1;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                         " 'text': 'would keep Crimea.', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, &change),
                     0);
    assert_true(change > 0);
    struct snapshot s = snap(f->kb);
    change = -1;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Other',"
                         " 'text': 'Russia', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, &change),
                     ERR_EXISTS);
    assert_int_equal(change, 0);
    assert_errmsg_has(f->kb, "already exists");
    assert_unchanged(f->kb, &s);
    /* The same for sources and synonyms. */
    assert_int_equal(
        put_json(f->kb, KB_SOURCE, make_source(SRC_ID, NULL), KB_PUT_ADD, &alice, NULL),
        ERR_EXISTS);
    assert_int_equal(
        put(f->kb, KB_SYNONYM, "{'term': 'army', 'words': ['troops']}", KB_PUT_ADD, &alice, NULL),
        ERR_EXISTS);
}

static void kb_put_edit_keeps_absent_fields(void **state)
{
    struct fx *f = *state;
    int64_t change = 0;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'zelensky-work', 'title': 'Zelensky will work on the plan'}",
                         KB_PUT_EDIT, &bob, &change),
                     0);
    assert_true(change > 0);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "zelensky-work", &e), 0);
    assert_string_equal(str_field(e, "title"), "Zelensky will work on the plan");
    assert_string_equal(str_field(e, "text"), "We will work on it.");
    assert_string_equal(str_field(e, "speaker"), "Volodymyr Zelensky");
    assert_string_equal(str_field(e, "role"), "President of Ukraine");
    assert_string_equal(str_field(e, "kind"), "quote");
    cJSON_Delete(e);
}

static void kb_put_edit_of_missing_record_is_notfound(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'nosuch', 'title': 'x'}", KB_PUT_EDIT, &alice, NULL),
        ERR_NOTFOUND);
    assert_errmsg_has(f->kb, "nosuch");
    assert_int_equal(
        put(f->kb, KB_SOURCE, "{'id': 'nosuch', 'title': 'x'}", KB_PUT_EDIT, &alice, NULL),
        ERR_NOTFOUND);
    assert_int_equal(
        put(f->kb, KB_SYNONYM, "{'term': 'nosuch', 'words': ['x']}", KB_PUT_EDIT, &alice, NULL),
        ERR_NOTFOUND);
    assert_unchanged(f->kb, &s);
}

static void kb_put_edit_without_change_records_nothing(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    int64_t change = -1;
    assert_int_equal(
        put(f->kb, KB_ENTRY,
            "{'id': 'zelensky-work', 'kind': 'quote', 'speaker': 'Volodymyr Zelensky'}",
            KB_PUT_EDIT, &alice, &change),
        0);
    assert_int_equal(change, 0);
    /* Typing the text again with straight quotes is no change either: it is the same passage. */
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddStringToObject(rec, "id", "army-cap");
    cJSON_AddStringToObject(rec, "text", ARMY_TYPED);
    assert_int_equal(put_json(f->kb, KB_ENTRY, rec, KB_PUT_EDIT, &alice, &change), 0);
    assert_int_equal(change, 0);
    assert_unchanged(f->kb, &s);
}

static void kb_put_upsert_adds_then_replaces_whole(void **state)
{
    struct fx *f = *state;
    int64_t c1 = 0, c2 = 0;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                         " 'text': 'would keep Crimea.', 'source': 'test-src',"
                         " 'keywords': ['peninsula']}",
                         KB_PUT_UPSERT, &alice, &c1),
                     0);
    assert_true(c1 > 0);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "crimea", &e), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "keywords")), 1);
    cJSON_Delete(e);
    /* A second upsert replaces the whole record: keywords it leaves out are gone. */
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'context', 'title': 'Crimea stays',"
                         " 'text': 'Russia', 'source': 'test-src'}",
                         KB_PUT_UPSERT, &bob, &c2),
                     0);
    assert_true(c2 > c1);
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "crimea", &e), 0);
    assert_string_equal(str_field(e, "kind"), "context");
    assert_string_equal(str_field(e, "title"), "Crimea stays");
    assert_string_equal(str_field(e, "text"), "Russia");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "keywords")), 0);
    assert_string_equal(str_field(e, "created_by"), "alice");
    assert_string_equal(str_field(e, "updated_by"), "U0BOB");
    cJSON_Delete(e);
    /* Upsert of a record missing a required field is refused, not merged. */
    struct snapshot s = snap(f->kb);
    assert_int_equal(put(f->kb, KB_ENTRY, "{'id': 'crimea', 'title': 'only a title'}",
                         KB_PUT_UPSERT, &bob, NULL),
                     ERR_INVAL);
    assert_unchanged(f->kb, &s);
}

static void kb_put_synonym_term_is_lowercase_and_trimmed(void **state)
{
    struct fx *f = *state;
    assert_int_equal(put(f->kb, KB_SYNONYM, "{'term': '  Crimea ', 'words': [' peninsula ']}",
                         KB_PUT_ADD, &alice, NULL),
                     0);
    cJSON *s = NULL;
    assert_int_equal(kb_get(f->kb, KB_SYNONYM, "crimea", &s), 0);
    assert_string_equal(str_field(s, "term"), "crimea");
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(s, "words"), 0)->valuestring,
                        "peninsula");
    cJSON_Delete(s);
    /* The same term in other case is the same synonym. */
    assert_int_equal(
        put(f->kb, KB_SYNONYM, "{'term': 'CRIMEA', 'words': ['x']}", KB_PUT_ADD, &alice, NULL),
        ERR_EXISTS);
    assert_int_equal(
        put(f->kb, KB_SYNONYM, "{'term': 'CRIMEA', 'words': ['x']}", KB_PUT_EDIT, &alice, NULL), 0);
}

/* One invalid record: it is refused with ERR_INVAL, the message contains want, and nothing
 * changes. A long field is set to long_len bytes of 'a' after parsing. */
struct invalid_case {
    const char *name;
    enum kb_type type;
    enum kb_put_mode mode;
    const char *rec; /* JSON with ' for " */
    const char *long_field;
    size_t long_len;
    const char *want;
};

#define ENTRY_OK "'kind': 'provision', 'title': 'T', 'text': 'Russia', 'source': 'test-src'"

static const struct invalid_case invalid_cases[] = {
    /* Ids. */
    { "id with space and capitals", KB_ENTRY, KB_PUT_ADD, "{'id': 'Bad Id', " ENTRY_OK "}", NULL, 0,
      "field \"id\"" },
    { "id with underscore", KB_ENTRY, KB_PUT_ADD, "{'id': 'bad_id', " ENTRY_OK "}", NULL, 0,
      "field \"id\"" },
    { "id starting with a dash", KB_ENTRY, KB_PUT_ADD, "{'id': '-bad', " ENTRY_OK "}", NULL, 0,
      "field \"id\"" },
    { "id with non-ASCII letter", KB_ENTRY, KB_PUT_ADD, "{'id': 'caf\xC3\xA9', " ENTRY_OK "}", NULL,
      0, "field \"id\"" },
    { "id too long", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', " ENTRY_OK "}", "id", 65, "field \"id\"" },
    { "id missing", KB_ENTRY, KB_PUT_ADD, "{" ENTRY_OK "}", NULL, 0, "field \"id\"" },
    { "id empty", KB_ENTRY, KB_PUT_ADD, "{'id': '', " ENTRY_OK "}", NULL, 0, "field \"id\"" },
    { "id a number", KB_ENTRY, KB_PUT_ADD, "{'id': 7, " ENTRY_OK "}", NULL, 0, "field \"id\"" },
    { "source id bad", KB_SOURCE, KB_PUT_ADD, "{'id': 'New Source', 'title': 'T'}", NULL, 0,
      "field \"id\"" },

    /* Kinds, speakers and roles. */
    { "unknown kind", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'rule', 'title': 'T', 'text': 'Russia', 'source': 'test-src'}", NULL, 0,
      "field \"kind\"" },
    { "kind a number", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 1, 'title': 'T', 'text': 'Russia', 'source': 'test-src'}", NULL, 0,
      "field \"kind\"" },
    { "kind in capitals", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'Quote', 'speaker': 'A', 'title': 'T', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"kind\"" },
    { "quote without speaker", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'quote', 'title': 'T', 'text': 'Russia', 'source': 'test-src'}", NULL, 0,
      "field \"speaker\"" },
    { "quote with blank speaker", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'quote', 'speaker': '  ', 'title': 'T', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"speaker\"" },
    { "speaker on a provision", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'speaker': 'Someone', " ENTRY_OK "}", NULL, 0, "field \"speaker\"" },
    { "role on a context entry", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'context', 'role': 'Minister', 'title': 'T', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "role" },
    { "quote edited into a provision keeps its speaker", KB_ENTRY, KB_PUT_EDIT,
      "{'id': 'zelensky-work', 'kind': 'provision'}", NULL, 0, "field \"speaker\"" },
    { "speaker too long", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'quote', 'speaker': 'x', 'title': 'T', 'text': 'Russia',"
      " 'source': 'test-src'}",
      "speaker", KB_MAX_NAME + 1, "field \"speaker\"" },

    /* Unknown fields. */
    { "unknown entry field", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', 'colour': 'red', " ENTRY_OK "}",
      NULL, 0, "unknown field \"colour\"" },
    { "misspelt field", KB_ENTRY, KB_PUT_EDIT, "{'id': 'army-cap', 'titel': 'T'}", NULL, 0,
      "unknown field \"titel\"" },
    { "unknown source field", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'isbn': 1}",
      NULL, 0, "unknown field \"isbn\"" },
    { "unknown synonym field", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': ['y'], 'weight': 2}",
      NULL, 0, "unknown field \"weight\"" },
    { "entry field on a source", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'speaker': 'A'}", NULL, 0, "unknown field \"speaker\"" },

    /* Wrong types. */
    { "title a number", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 5, 'text': 'Russia', 'source': 'test-src'}", NULL,
      0, "field \"title\"" },
    { "title null", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': null, 'text': 'Russia', 'source': 'test-src'}",
      NULL, 0, "field \"title\"" },
    { "text a list", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': ['Russia'], 'source': 'test-src'}",
      NULL, 0, "field \"text\"" },
    { "keywords a string", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', 'keywords': 'a, b', " ENTRY_OK "}",
      NULL, 0, "field \"keywords\"" },
    { "keyword a number", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', 'keywords': ['a', 2], " ENTRY_OK "}",
      NULL, 0, "field \"keywords\"" },
    { "keyword empty", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', 'keywords': ['a', ' '], " ENTRY_OK "}",
      NULL, 0, "field \"keywords\"" },
    { "examples a string", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'examples': 'who pays?', " ENTRY_OK "}", NULL, 0, "field \"examples\"" },
    { "example twice", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'examples': ['Who pays?', 'who  pays?', 'WHO PAYS?'], " ENTRY_OK "}", NULL, 0,
      "field \"examples\": lists \"WHO PAYS?\" twice" },
    { "example on two lines", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'examples': ['who\\npays?'], " ENTRY_OK "}", NULL, 0, "field \"examples\"" },
    { "contributors a string", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'contributors': 'A, B'}", NULL, 0,
      "field \"contributors\"" },
    { "updated not a date", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'updated': 'Friday'}", NULL, 0, "field \"updated\"" },
    { "source null", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': 'Russia', 'source': null}", NULL, 0,
      "field \"source\"" },
    { "authors an object", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'authors': {'name': 'A'}}", NULL, 0, "field \"authors\"" },
    { "source text a number", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'text': 1}",
      NULL, 0, "field \"text\"" },
    { "synonym words a string", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': 'y'}", NULL, 0,
      "field \"words\"" },
    { "record a list", KB_ENTRY, KB_PUT_ADD, "['id', 'x']", NULL, 0, "JSON object" },
    { "record a string", KB_SYNONYM, KB_PUT_ADD, "'army'", NULL, 0, "JSON object" },

    /* Required fields. */
    { "title missing", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'text': 'Russia', 'source': 'test-src'}", NULL, 0,
      "field \"title\"" },
    { "title blank", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': '   ', 'text': 'Russia', 'source': 'test-src'}",
      NULL, 0, "field \"title\"" },
    { "text missing", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'source': 'test-src'}", NULL, 0,
      "field \"text\"" },
    { "kind missing", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'title': 'T', 'text': 'Russia', 'source': 'test-src'}", NULL, 0,
      "field \"kind\"" },
    { "source title missing", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src'}", NULL, 0,
      "field \"title\"" },
    { "synonym without words", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': []}", NULL, 0,
      "field \"words\"" },
    { "synonym with an empty word", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': ['y', '']}",
      NULL, 0, "field \"words\"" },
    { "synonym without term", KB_SYNONYM, KB_PUT_ADD, "{'words': ['y']}", NULL, 0,
      "field \"term\"" },

    /* Words a question is matched against: at most 6 words, else they would never match. */
    { "synonym word of seven words", KB_SYNONYM, KB_PUT_ADD,
      "{'term': 'x', 'words': ['one two three four five six', 'a b c d e f g']}", NULL, 0,
      "field \"words\": \"a b c d e f g\" has 7 words; a word or phrase to match has at most 6" },
    { "synonym term of seven words", KB_SYNONYM, KB_PUT_ADD,
      "{'term': 'The army of the Russian Federation today', 'words': ['y']}", NULL, 0,
      "field \"term\": \"the army of the russian federation today\" has 7 words" },
    { "speaker's other name of seven words", KB_SPEAKER, KB_PUT_ADD,
      "{'name': 'Dmitry Peskov', 'aliases': ['the man who speaks for the Kremlin']}", NULL, 0,
      "field \"aliases\": \"the man who speaks for the Kremlin\" has 7 words" },
    { "party word of seven words", KB_PARTY, KB_PUT_ADD,
      "{'name': 'Russia', 'words': ['Russian', 'the armed forces of the Russian Federation']}",
      NULL, 0, "field \"words\": \"the armed forces of the Russian Federation\" has 7 words" },
    { "party without a name", KB_PARTY, KB_PUT_ADD, "{'words': ['Russian']}", NULL, 0,
      "field \"name\"" },

    /* Sizes. */
    { "title too long", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', " ENTRY_OK "}", "title",
      KB_MAX_TITLE + 1, "field \"title\": too long" },
    { "text too long", KB_ENTRY, KB_PUT_ADD, "{'id': 'x', " ENTRY_OK "}", "text", KB_MAX_TEXT + 1,
      "field \"text\": too long" },
    { "source title too long", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T'}", "title",
      KB_MAX_TITLE + 1, "field \"title\": too long" },
    { "term too long", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': ['y']}", "term",
      KB_MAX_ITEM + 1, "field \"term\"" },

    /* Control characters and text that is not UTF-8. */
    { "line break in title", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'a\\nb', 'text': 'Russia', 'source': 'test-src'}",
      NULL, 0, "field \"title\"" },
    { "escape character in title", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'a\\u001bb', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"title\"" },
    { "control character in text", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': 'Russia\\u0007',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"text\"" },
    { "line break in speaker", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'quote', 'speaker': 'A\\nB', 'title': 'T', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"speaker\"" },
    { "line break in keyword", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'keywords': ['a\\nb'], " ENTRY_OK "}", NULL, 0, "field \"keywords\"" },
    { "control character in source text", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'text': 'a\\u0001b'}", NULL, 0, "field \"text\"" },
    { "invalid UTF-8 in title", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'caf\xE9', 'text': 'Russia',"
      " 'source': 'test-src'}",
      NULL, 0, "field \"title\"" },
    { "line break in synonym word", KB_SYNONYM, KB_PUT_ADD, "{'term': 'x', 'words': ['a\\rb']}",
      NULL, 0, "field \"words\"" },

    /* Dates and URLs. */
    { "month 13", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '2025-13-01'}",
      NULL, 0, "field \"date\"" },
    { "February 30", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '2025-02-30'}",
      NULL, 0, "field \"date\"" },
    { "February 29 of a common year", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'date': '2025-02-29'}", NULL, 0, "field \"date\"" },
    { "April 31", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '2025-04-31'}",
      NULL, 0, "field \"date\"" },
    { "day 0", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '2025-11-00'}", NULL,
      0, "field \"date\"" },
    { "day 32", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '2025-11-32'}",
      NULL, 0, "field \"date\"" },
    { "slashes in date", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'date': '2025/11/20'}", NULL, 0, "field \"date\"" },
    { "day first", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'date': '20-11-2025'}",
      NULL, 0, "field \"date\"" },
    { "date with time", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'date': '2025-11-20T10:00'}", NULL, 0, "field \"date\"" },
    { "date in words", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'date': 'yesterday'}", NULL, 0, "field \"date\"" },
    { "ftp URL", KB_SOURCE, KB_PUT_ADD, "{'id': 'new-src', 'title': 'T', 'url': 'ftp://x.y/a'}",
      NULL, 0, "field \"url\"" },
    { "URL without scheme", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'url': 'cnn.com/x'}", NULL, 0, "field \"url\"" },
    { "URL with a space", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'url': 'https://x.y/a b'}", NULL, 0, "field \"url\"" },
    { "javascript URL", KB_SOURCE, KB_PUT_ADD,
      "{'id': 'new-src', 'title': 'T', 'url': 'javascript:alert(1)'}", NULL, 0, "field \"url\"" },

    /* Sources. */
    { "missing source", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': 'Russia', 'source': 'nope'}", NULL, 0,
      "field \"source\"" },
    { "no source given", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': 'Russia'}", NULL, 0,
      "field \"source\"" },
    { "source id not a slug", KB_ENTRY, KB_PUT_ADD,
      "{'id': 'x', 'kind': 'provision', 'title': 'T', 'text': 'Russia', 'source': 'Test Src'}",
      NULL, 0, "field \"source\"" },
    { "edit to a missing source", KB_ENTRY, KB_PUT_EDIT, "{'id': 'army-cap', 'source': 'gone'}",
      NULL, 0, "field \"source\"" },
};

static void kb_put_rejects_invalid_records_and_names_the_field(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof invalid_cases / sizeof invalid_cases[0]; i++) {
        const struct invalid_case *c = &invalid_cases[i];
        cJSON *rec = sq(c->rec);
        if (c->long_field) {
            char *s = malloc(c->long_len + 1);
            assert_non_null(s);
            memset(s, 'a', c->long_len);
            s[c->long_len] = '\0';
            assert_true(
                cJSON_ReplaceItemInObjectCaseSensitive(rec, c->long_field, cJSON_CreateString(s)));
            free(s);
        }
        struct snapshot s = snap(f->kb);
        int64_t change = -1;
        int rc = kb_put(f->kb, c->type, rec, c->mode, &alice, &change);
        if (rc != ERR_INVAL || !strstr(kb_errmsg(f->kb), c->want))
            print_error("case \"%s\": rc %d (%s), message \"%s\", want \"%s\"\n", c->name, rc,
                        err_str(rc), kb_errmsg(f->kb), c->want);
        assert_int_equal(rc, ERR_INVAL);
        assert_non_null(strstr(kb_errmsg(f->kb), c->want));
        assert_true(change <= 0);
        assert_unchanged(f->kb, &s);
        cJSON_Delete(rec);
    }
}

static void kb_put_rejects_oversized_lists(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    /* One more keyword than allowed. */
    cJSON *e = make_entry("x", "provision", "Russia", NULL, SRC_ID);
    cJSON *kw = cJSON_AddArrayToObject(e, "keywords");
    for (int i = 0; i <= KB_MAX_LIST; i++)
        cJSON_AddItemToArray(kw, cJSON_CreateString("k"));
    assert_int_equal(put_json(f->kb, KB_ENTRY, e, KB_PUT_ADD, &alice, NULL), ERR_INVAL);
    assert_errmsg_has(f->kb, "field \"keywords\": too many");
    /* A keyword longer than allowed. */
    char item[KB_MAX_ITEM + 2];
    memset(item, 'k', KB_MAX_ITEM + 1);
    item[KB_MAX_ITEM + 1] = '\0';
    e = make_entry("x", "provision", "Russia", NULL, SRC_ID);
    kw = cJSON_AddArrayToObject(e, "keywords");
    cJSON_AddItemToArray(kw, cJSON_CreateString(item));
    assert_int_equal(put_json(f->kb, KB_ENTRY, e, KB_PUT_ADD, &alice, NULL), ERR_INVAL);
    assert_errmsg_has(f->kb, "field \"keywords\": too long");
    assert_unchanged(f->kb, &s);
    /* Exactly at the caps is fine. */
    e = make_entry("x", "provision", "Russia", NULL, SRC_ID);
    kw = cJSON_AddArrayToObject(e, "keywords");
    item[KB_MAX_ITEM] = '\0';
    for (int i = 0; i < KB_MAX_LIST; i++)
        cJSON_AddItemToArray(kw, cJSON_CreateString(item));
    assert_int_equal(put_json(f->kb, KB_ENTRY, e, KB_PUT_ADD, &alice, NULL), 0);
}

static void kb_put_requires_an_actor(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    static const struct kb_actor nobody = { "", "cli" }, nowhere = { "alice", NULL };
    const struct kb_actor *bad[] = { NULL, &nobody, &nowhere };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(put_json(f->kb, KB_ENTRY,
                                  make_entry("x", "provision", "Russia", NULL, SRC_ID), KB_PUT_ADD,
                                  bad[i], NULL),
                         ERR_INVAL);
        assert_int_equal(kb_remove(f->kb, KB_ENTRY, "army-cap", bad[i], NULL), ERR_INVAL);
    }
    assert_unchanged(f->kb, &s);
}

/* ---- the verbatim rule ---- */

static void kb_put_stores_the_source_bytes_of_typed_text(void **state)
{
    struct fx *f = *state;
    cJSON *e = NULL;
    /* The fixture typed the army entry with a straight apostrophe. */
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "text"), ARMY_STORED);
    assert_non_null(strstr(src_text, str_field(e, "text")));
    cJSON_Delete(e);
    /* Straight quotes for curly ones, a hyphen for an en dash, one space for a line break and a
     * blank line, spaces around: the source's own bytes are stored. */
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'keep', 'kind': 'context', 'title': 'T',"
                         " 'text': '  Russia - according to the draft - would keep Crimea. "
                         "Zelensky said: \\'We will work on it.\\'  ', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, NULL),
                     0);
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "keep", &e), 0);
    assert_string_equal(str_field(e, "text"),
                        "Russia " NDASH " according to the draft " NDASH " would keep Crimea.\n"
                        "\n"
                        "Zelensky said:  " LDQ "We will work on it." RDQ);
    assert_non_null(strstr(src_text, str_field(e, "text")));
    cJSON_Delete(e);
}

static void kb_put_refuses_text_not_in_the_source(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    static const char *const texts[] = {
        "Ukraine's army will be limited to 800,000 personnel.",                /* changed number */
        "Ukraine's army will be limited to 600,000 personnel. Russia agrees.", /* added words */
        "ukraine's army will be limited to 600,000 personnel.",                /* changed case */
        "Russia would keep Crimea.",                                           /* words left out */
        "Zelensky said: We will work on it.",                                  /* quotes left out */
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cJSON *e = make_entry("new-one", "provision", texts[i], NULL, SRC_ID);
        int rc = put_json(f->kb, KB_ENTRY, e, KB_PUT_ADD, &alice, NULL);
        if (rc != ERR_INVAL)
            print_error("text %zu accepted: %s\n", i, texts[i]);
        assert_int_equal(rc, ERR_INVAL);
        assert_errmsg_has(f->kb, "field \"text\"");
        assert_errmsg_has(f->kb, "test-src");
    }
    /* Nor may an edit move an entry's text away from its source. */
    assert_int_equal(put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'text': 'Ukraine will win.'}",
                         KB_PUT_EDIT, &alice, NULL),
                     ERR_INVAL);
    assert_errmsg_has(f->kb, "field \"text\"");
    assert_unchanged(f->kb, &s);
}

static void kb_put_source_without_text_accepts_any_entry_text(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        put_json(f->kb, KB_SOURCE, make_source("no-text", NULL), KB_PUT_ADD, &alice, NULL), 0);
    assert_int_equal(put_json(f->kb, KB_ENTRY,
                              make_entry("free", "provision", "Anything at all.", NULL, "no-text"),
                              KB_PUT_ADD, &alice, NULL),
                     0);
    cJSON *s = NULL;
    assert_int_equal(kb_get(f->kb, KB_SOURCE, "no-text", &s), 0);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "text")));
    cJSON_Delete(s);
}

static void kb_put_refuses_source_text_that_drops_an_entry(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    /* The new text no longer holds the army passage. */
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "id", SRC_ID);
    cJSON_AddStringToObject(src, "text", "Zelensky said: " LDQ "We will work on it." RDQ);
    assert_int_equal(put_json(f->kb, KB_SOURCE, src, KB_PUT_EDIT, &alice, NULL), ERR_INVAL);
    assert_errmsg_has(f->kb, "army-cap");
    assert_errmsg_has(f->kb, "field \"text\"");
    /* Upsert is no way around it. */
    src = make_source(SRC_ID, "Something else entirely.");
    assert_int_equal(put_json(f->kb, KB_SOURCE, src, KB_PUT_UPSERT, &alice, NULL), ERR_INVAL);
    assert_unchanged(f->kb, &s);
}

static void kb_put_accepts_source_text_that_keeps_its_entries(void **state)
{
    struct fx *f = *state;
    /* A correction elsewhere in the text, with straight quotes now: the entries still match. */
    cJSON *src = cJSON_CreateObject();
    cJSON_AddStringToObject(src, "id", SRC_ID);
    cJSON_AddStringToObject(src, "text",
                            "The draft says \"Ukraine's army will be limited to 600,000 "
                            "personnel.\"\nZelensky said: \"We will work on it.\"\n");
    int64_t change = 0;
    assert_int_equal(put_json(f->kb, KB_SOURCE, src, KB_PUT_EDIT, &alice, &change), 0);
    assert_true(change > 0);
    /* The entries now hold the new text's own bytes: every entry stays word for word, byte for
     * byte, in its source. */
    cJSON *s = NULL, *list = NULL, *e;
    assert_int_equal(kb_get(f->kb, KB_SOURCE, SRC_ID, &s), 0);
    const char *text = str_field(s, "text");
    assert_int_equal(kb_list(f->kb, KB_ENTRY, NULL, 0, &list), 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    cJSON_ArrayForEach(e, list)
    {
        if (!strstr(text, str_field(e, "text")))
            print_error("entry %s: \"%s\" is not in the source text\n", str_field(e, "id"),
                        str_field(e, "text"));
        assert_non_null(strstr(text, str_field(e, "text")));
    }
    cJSON_Delete(list);
    cJSON_Delete(s);
    /* Undoing the source change puts the source and its entries back as they were. */
    cJSON *before = export_doc(f->kb);
    assert_int_equal(
        put_json(f->kb, KB_SOURCE, make_source(SRC_ID, src_text), KB_PUT_UPSERT, &alice, &change),
        0);
    assert_int_equal(kb_undo(f->kb, change, 0, &alice, NULL), 0);
    cJSON *after = export_doc(f->kb);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void kb_put_accepts_real_dates(void **state)
{
    struct fx *f = *state;
    static const char *const dates[] = { "2024-02-29", "2025-01-31", "2025-12-31",
                                         "1999-04-30", "2000-02-29", "" };
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        cJSON *src = make_source("dated", NULL);
        cJSON_ReplaceItemInObject(src, "date", cJSON_CreateString(dates[i]));
        int rc = put_json(f->kb, KB_SOURCE, src, KB_PUT_UPSERT, &alice, NULL);
        if (rc)
            print_error("date \"%s\": %s\n", dates[i], kb_errmsg(f->kb));
        assert_int_equal(rc, 0);
    }
}

static void kb_remove_refuses_a_cited_source(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    int64_t change = -1;
    assert_int_equal(kb_remove(f->kb, KB_SOURCE, SRC_ID, &alice, &change), ERR_REFERENCED);
    assert_int_equal(change, 0);
    assert_errmsg_has(f->kb, "cited by 2 entries");
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "nosuch", &alice, NULL), ERR_NOTFOUND);
    assert_int_equal(kb_remove(f->kb, KB_SOURCE, "nosuch", &alice, NULL), ERR_NOTFOUND);
    assert_int_equal(kb_remove(f->kb, KB_SYNONYM, "nosuch", &alice, NULL), ERR_NOTFOUND);
    assert_unchanged(f->kb, &s);
    /* Once no entry cites it, it can go. */
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "army-cap", &alice, NULL), 0);
    assert_int_equal(kb_remove(f->kb, KB_SOURCE, SRC_ID, &alice, NULL), ERR_REFERENCED);
    assert_errmsg_has(f->kb, "cited by 1 entries");
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "zelensky-work", &alice, NULL), 0);
    assert_int_equal(kb_remove(f->kb, KB_SOURCE, SRC_ID, &alice, &change), 0);
    assert_true(change > 0);
    cJSON *src = NULL;
    assert_int_equal(kb_get(f->kb, KB_SOURCE, SRC_ID, &src), ERR_NOTFOUND);
    assert_null(src);
}

/* ---- the audit log ---- */

static void kb_history_records_every_change_with_who_and_via(void **state)
{
    struct fx *f = *state;
    int before = history_len(f->kb);
    assert_int_equal(before, 4); /* the fixture's source, two entries and synonym */
    int64_t c1, c2, c3, c4;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                         " 'text': 'would keep Crimea.', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, &c1),
                     0);
    assert_int_equal(put(f->kb, KB_ENTRY, "{'id': 'crimea', 'title': 'Crimea stays Russian'}",
                         KB_PUT_EDIT, &bob, &c2),
                     0);
    assert_int_equal(
        put(f->kb, KB_SYNONYM, "{'term': 'army', 'words': ['troops']}", KB_PUT_EDIT, &bob, &c3), 0);
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "crimea", &alice, &c4), 0);
    assert_true(c1 < c2 && c2 < c3 && c3 < c4);

    static const struct {
        const char *who, *via, *action, *type, *id;
    } want[] = {
        { "alice", "cli", "remove", "entry", "crimea" },
        { "U0BOB", "slack", "edit", "synonym", "army" },
        { "U0BOB", "slack", "edit", "entry", "crimea" },
        { "alice", "cli", "add", "entry", "crimea" },
        { "setup", "test", "add", "synonym", "army" },
    };
    cJSON *h = NULL;
    assert_int_equal(kb_history(f->kb, KB_ENTRY, NULL, 5, &h), 0);
    assert_int_equal(cJSON_GetArraySize(h), 5);
    int64_t expect_change[] = { c4, c3, c2, c1 };
    for (int i = 0; i < 5; i++) {
        const cJSON *c = cJSON_GetArrayItem(h, i);
        assert_string_equal(str_field(c, "who"), want[i].who);
        assert_string_equal(str_field(c, "via"), want[i].via);
        assert_string_equal(str_field(c, "action"), want[i].action);
        assert_string_equal(str_field(c, "type"), want[i].type);
        assert_string_equal(str_field(c, "id"), want[i].id);
        assert_int_equal(strlen(str_field(c, "at")), 20); /* YYYY-MM-DDTHH:MM:SSZ */
        if (i < 4)
            assert_int_equal(num_field(c, "change"), expect_change[i]);
        assert_null(cJSON_GetObjectItem(c, "undoes"));
    }
    cJSON_Delete(h);
    assert_int_equal(history_len(f->kb), before + 4);

    /* The history of one record. */
    assert_int_equal(kb_history(f->kb, KB_ENTRY, "crimea", 0, &h), 0);
    assert_int_equal(cJSON_GetArraySize(h), 3);
    cJSON_Delete(h);
    assert_int_equal(kb_history(f->kb, KB_SYNONYM, "army", 0, &h), 0);
    assert_int_equal(cJSON_GetArraySize(h), 2);
    cJSON_Delete(h);
    assert_int_equal(kb_history(f->kb, KB_SOURCE, "crimea", 0, &h), 0);
    assert_int_equal(cJSON_GetArraySize(h), 0);
    cJSON_Delete(h);
}

static void kb_get_shows_who_created_and_updated(void **state)
{
    struct fx *f = *state;
    assert_int_equal(put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'Army of 600,000'}",
                         KB_PUT_EDIT, &bob, NULL),
                     0);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "created_by"), "setup");
    assert_string_equal(str_field(e, "updated_by"), "U0BOB");
    assert_int_equal(strlen(str_field(e, "created_at")), 20);
    assert_int_equal(strlen(str_field(e, "updated_at")), 20);
    cJSON_Delete(e);
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "nosuch", &e), ERR_NOTFOUND);
    assert_null(e);
}

static void kb_change_shows_before_and_after(void **state)
{
    struct fx *f = *state;
    int64_t add, edit, rm;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                         " 'text': 'would keep Crimea.', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, &add),
                     0);
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'crimea', 'title': 'Crimea stays'}", KB_PUT_EDIT, &bob, &edit),
        0);
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "crimea", &alice, &rm), 0);

    cJSON *c = NULL;
    assert_int_equal(kb_change(f->kb, add, &c), 0);
    assert_int_equal(num_field(c, "change"), add);
    assert_string_equal(str_field(c, "action"), "add");
    assert_string_equal(str_field(c, "who"), "alice");
    assert_string_equal(str_field(c, "via"), "cli");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "before")));
    cJSON *want = sq("{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                     " 'text': 'would keep Crimea.', 'speaker': '', 'role': '',"
                     " 'source': 'test-src', 'keywords': [], 'examples': []}");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(c, "after"), want, 1));
    cJSON_Delete(c);

    assert_int_equal(kb_change(f->kb, edit, &c), 0);
    assert_string_equal(str_field(c, "action"), "edit");
    assert_string_equal(str_field(c, "who"), "U0BOB");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(c, "before"), want, 1));
    cJSON_ReplaceItemInObject(want, "title", cJSON_CreateString("Crimea stays"));
    assert_true(cJSON_Compare(cJSON_GetObjectItem(c, "after"), want, 1));
    cJSON_Delete(c);

    assert_int_equal(kb_change(f->kb, rm, &c), 0);
    assert_string_equal(str_field(c, "action"), "remove");
    assert_true(cJSON_Compare(cJSON_GetObjectItem(c, "before"), want, 1));
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "after")));
    cJSON_Delete(c);
    cJSON_Delete(want);

    assert_int_equal(kb_change(f->kb, rm + 100, &c), ERR_NOTFOUND);
    assert_null(c);
}

/* ---- undo ---- */

static void kb_undo_of_add_removes_the_record(void **state)
{
    struct fx *f = *state;
    cJSON *before = export_doc(f->kb);
    int64_t add, undo = 0;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                         " 'text': 'would keep Crimea.', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, &add),
                     0);
    assert_int_equal(kb_undo(f->kb, add, 0, &bob, &undo), 0);
    assert_true(undo > add);
    cJSON *after = export_doc(f->kb);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON *c = NULL;
    assert_int_equal(kb_change(f->kb, undo, &c), 0);
    assert_string_equal(str_field(c, "action"), "undo");
    assert_string_equal(str_field(c, "who"), "U0BOB");
    assert_int_equal(num_field(c, "undoes"), add);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(c, "after")));
    cJSON_Delete(c);
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void kb_undo_of_edit_restores_the_earlier_record(void **state)
{
    struct fx *f = *state;
    cJSON *before = export_doc(f->kb);
    int64_t edit, undo = 0;
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'zelensky-work', 'title': 'New title', 'keywords': ['k'],"
                         " 'role': ''}",
                         KB_PUT_EDIT, &bob, &edit),
                     0);
    assert_int_equal(kb_undo(f->kb, edit, 0, &alice, &undo), 0);
    assert_true(undo > edit);
    cJSON *after = export_doc(f->kb);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void kb_undo_of_remove_restores_the_record(void **state)
{
    struct fx *f = *state;
    cJSON *before = export_doc(f->kb);
    int64_t rm1, rm2, undo = 0;
    assert_int_equal(kb_remove(f->kb, KB_SYNONYM, "army", &alice, &rm1), 0);
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "army-cap", &alice, &rm2), 0);
    assert_int_equal(kb_undo(f->kb, rm1, 0, &alice, &undo), 0);
    assert_int_equal(kb_undo(f->kb, rm2, 0, &alice, &undo), 0);
    /* The same records, in the same state; the entry's text is still the source's. */
    cJSON *after = export_doc(f->kb);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "text"), ARMY_STORED);
    cJSON_Delete(e);
    cJSON *a = cJSON_GetObjectItem(before, "entries"), *b = cJSON_GetObjectItem(after, "entries");
    assert_int_equal(cJSON_GetArraySize(a), cJSON_GetArraySize(b));
    cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        /* The restored entry comes back at the end of the list; compare by id. */
        const char *id = str_field(x, "id");
        cJSON *y;
        int found = 0;
        cJSON_ArrayForEach(y, b)
        {
            found += strcmp(str_field(y, "id"), id) == 0 && cJSON_Compare(x, y, 1);
        }
        assert_int_equal(found, 1);
    }
    assert_true(cJSON_Compare(cJSON_GetObjectItem(before, "synonyms"),
                              cJSON_GetObjectItem(after, "synonyms"), 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void kb_undo_refuses_after_a_later_change_unless_forced(void **state)
{
    struct fx *f = *state;
    int64_t e1, e2, undo = -1;
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'First'}", KB_PUT_EDIT, &alice, &e1), 0);
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'Second'}", KB_PUT_EDIT, &bob, &e2), 0);
    struct snapshot s = snap(f->kb);
    assert_int_equal(kb_undo(f->kb, e1, 0, &alice, &undo), ERR_CONFLICT);
    assert_int_equal(undo, -1);
    assert_errmsg_has(f->kb, "army-cap");
    assert_errmsg_has(f->kb, "changed since");
    assert_unchanged(f->kb, &s);

    assert_int_equal(kb_undo(f->kb, e1, 1, &alice, &undo), 0);
    assert_true(undo > e2);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "title"), "A title"); /* as before change e1 */
    cJSON_Delete(e);
}

static void kb_undo_twice_is_refused(void **state)
{
    struct fx *f = *state;
    int64_t edit, undo;
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'First'}", KB_PUT_EDIT, &alice, &edit),
        0);
    assert_int_equal(kb_undo(f->kb, edit, 0, &alice, &undo), 0);
    struct snapshot s = snap(f->kb);
    assert_int_equal(kb_undo(f->kb, edit, 0, &alice, &undo), ERR_CONFLICT);
    assert_errmsg_has(f->kb, "already undone");
    assert_unchanged(f->kb, &s);

    /* An add undone twice: the record is gone already. */
    int64_t add;
    assert_int_equal(put(f->kb, KB_SYNONYM, "{'term': 'crimea', 'words': ['peninsula']}",
                         KB_PUT_ADD, &alice, &add),
                     0);
    assert_int_equal(kb_undo(f->kb, add, 0, &alice, &undo), 0);
    s = snap(f->kb);
    assert_int_equal(kb_undo(f->kb, add, 0, &alice, &undo), ERR_CONFLICT);
    assert_int_equal(kb_undo(f->kb, add, 1, &alice, &undo), ERR_CONFLICT); /* nothing to do */
    assert_unchanged(f->kb, &s);
}

static void kb_undo_of_an_undo_redoes(void **state)
{
    struct fx *f = *state;
    int64_t edit, undo, redo;
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'First'}", KB_PUT_EDIT, &alice, &edit),
        0);
    cJSON *edited = export_doc(f->kb);
    assert_int_equal(kb_undo(f->kb, edit, 0, &alice, &undo), 0);
    assert_int_equal(kb_undo(f->kb, undo, 0, &alice, &redo), 0);
    cJSON *now = export_doc(f->kb);
    assert_true(cJSON_Compare(edited, now, 1));
    cJSON_Delete(edited);
    cJSON_Delete(now);
}

static void kb_undo_of_unknown_change_is_notfound(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    assert_int_equal(kb_undo(f->kb, 9999, 0, &alice, NULL), ERR_NOTFOUND);
    assert_int_equal(kb_undo(f->kb, 0, 1, &alice, NULL), ERR_NOTFOUND);
    assert_int_equal(kb_undo(f->kb, -1, 1, &alice, NULL), ERR_NOTFOUND);
    assert_unchanged(f->kb, &s);
}

/* ---- import and export ---- */

static int import_text(struct kb *kb, const char *text, int replace, int dry_run,
                       struct kb_import_report *rep)
{
    struct kb_import_opts opts = { replace, dry_run };
    return kb_import(kb, text, strlen(text), &opts, &alice, rep);
}

static int import_doc(struct kb *kb, const cJSON *doc, int replace, int dry_run,
                      struct kb_import_report *rep)
{
    char *text = cJSON_Print(doc);
    assert_non_null(text);
    int rc = import_text(kb, text, replace, dry_run, rep);
    if (rc)
        print_error("kb_import: %s\n", kb_errmsg(kb));
    cJSON_free(text);
    return rc;
}

static cJSON *find_by(cJSON *arr, const char *key, const char *value)
{
    cJSON *x;
    cJSON_ArrayForEach(x, arr)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(x, key);
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
            return x;
    }
    return NULL;
}

/* The fixture's export with army-cap retitled, an entry and a synonym added. */
static cJSON *modified_export(struct kb *kb)
{
    cJSON *doc = export_doc(kb);
    cJSON *entries = cJSON_GetObjectItem(doc, "entries");
    cJSON *army = find_by(entries, "id", "army-cap");
    assert_non_null(army);
    cJSON_ReplaceItemInObject(army, "title", cJSON_CreateString("Imported title"));
    cJSON_AddItemToArray(entries, sq("{'id': 'crimea', 'kind': 'provision', 'title': 'Crimea',"
                                     " 'text': 'would keep Crimea.', 'speaker': '', 'role': '',"
                                     " 'source': 'test-src', 'keywords': ['peninsula'],"
                                     " 'examples': ['does russia keep crimea?']}"));
    cJSON_AddItemToArray(cJSON_GetObjectItem(doc, "synonyms"),
                         sq("{'term': 'crimea', 'words': ['peninsula']}"));
    return doc;
}

static void kb_import_counts_added_updated_unchanged(void **state)
{
    struct fx *f = *state;
    cJSON *doc = modified_export(f->kb);
    int before = history_len(f->kb);
    struct kb_import_report rep;
    assert_int_equal(import_doc(f->kb, doc, 0, 0, &rep), 0);
    assert_int_equal(rep.added, 2);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 3); /* the source, the quote, the army synonym */
    assert_int_equal(rep.removed, 0);
    assert_true(rep.first_change > 0);
    assert_int_equal(rep.last_change - rep.first_change, 2);
    assert_int_equal(history_len(f->kb), before + 3);
    cJSON *now = export_doc(f->kb);
    assert_true(cJSON_Compare(doc, now, 1));
    cJSON_Delete(now);
    /* The changes are recorded as the importer's. */
    cJSON *c = NULL;
    assert_int_equal(kb_change(f->kb, rep.last_change, &c), 0);
    assert_string_equal(str_field(c, "who"), "alice");
    cJSON_Delete(c);
    /* Importing the same file again changes nothing. */
    assert_int_equal(import_doc(f->kb, doc, 0, 0, &rep), 0);
    assert_int_equal(rep.added + rep.updated + rep.removed, 0);
    assert_int_equal(rep.unchanged, 6);
    assert_int_equal(rep.first_change, 0);
    assert_int_equal(rep.last_change, 0);
    cJSON_Delete(doc);
}

static void kb_import_counts_records_named_in_other_spelling_as_updated(void **state)
{
    struct fx *f = *state;
    /* Keys are normalised as kb_put does (terms lowercase, white space trimmed): these records
     * are the fixture's, updated. */
    char *text = sq_text("{'format': 'planbot-kb', 'version': 1,"
                         " 'synonyms': [{'term': 'ARMY', 'words': ['troops']}],"
                         " 'entries': [{'id': ' zelensky-work ', 'kind': 'quote',"
                         "  'speaker': 'Volodymyr Zelensky', 'title': 'New title',"
                         "  'text': 'We will work on it.', 'source': 'test-src'}]}");
    struct kb_import_report rep;
    int before = history_len(f->kb);
    assert_int_equal(import_text(f->kb, text, 0, 0, &rep), 0);
    assert_int_equal(rep.added, 0);
    assert_int_equal(rep.updated, 2);
    assert_int_equal(history_len(f->kb), before + 2);
    cJSON *syn = NULL;
    assert_int_equal(kb_get(f->kb, KB_SYNONYM, "army", &syn), 0);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(syn, "words"), 0)->valuestring,
                        "troops");
    cJSON_Delete(syn);
    free(text);
}

static void kb_import_dry_run_changes_nothing(void **state)
{
    struct fx *f = *state;
    cJSON *doc = modified_export(f->kb);
    struct snapshot s = snap(f->kb);
    struct kb_import_report rep;
    assert_int_equal(import_doc(f->kb, doc, 0, 1, &rep), 0);
    assert_int_equal(rep.added, 2);
    assert_int_equal(rep.updated, 1);
    assert_int_equal(rep.unchanged, 3);
    assert_int_equal(rep.first_change, 0);
    assert_int_equal(rep.last_change, 0);
    assert_unchanged(f->kb, &s);
    /* With replace too. */
    s = snap(f->kb);
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "entries"), 0);
    assert_int_equal(import_doc(f->kb, doc, 1, 1, &rep), 0);
    assert_int_equal(rep.removed, 1);
    assert_unchanged(f->kb, &s);
    cJSON_Delete(doc);
}

static void kb_import_replace_removes_what_the_file_lacks(void **state)
{
    struct fx *f = *state;
    cJSON *doc = export_doc(f->kb);
    cJSON *entries = cJSON_GetObjectItem(doc, "entries");
    cJSON_DeleteItemFromArray(entries, 1); /* zelensky-work */
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(doc, "synonyms"), 0);
    struct kb_import_report rep;
    /* Without replace, nothing is removed. */
    assert_int_equal(import_doc(f->kb, doc, 0, 0, &rep), 0);
    assert_int_equal(rep.removed, 0);
    assert_int_equal(kb_count_entries(f->kb), 2);
    /* With it, the database becomes the file. */
    assert_int_equal(import_doc(f->kb, doc, 1, 0, &rep), 0);
    assert_int_equal(rep.removed, 2);
    assert_int_equal(rep.unchanged, 2);
    assert_int_equal(kb_count_entries(f->kb), 1);
    cJSON *now = export_doc(f->kb);
    assert_true(cJSON_Compare(doc, now, 1));
    cJSON_Delete(now);
    cJSON *c = NULL;
    assert_int_equal(kb_change(f->kb, rep.last_change, &c), 0);
    assert_string_equal(str_field(c, "action"), "remove");
    cJSON_Delete(c);
    cJSON_Delete(doc);
}

struct syntax_case {
    const char *name;
    const char *text; /* with ' for " */
    const char *want;
};

static const struct syntax_case syntax_cases[] = {
    { "trailing comma in a record",
      "{\n"
      "  'format': 'planbot-kb',\n"
      "  'version': 1,\n"
      "  'entries': [\n"
      "    {'id': 'x', 'kind': 'provision',}\n"
      "  ]\n"
      "}\n",
      "line 5, column 3" }, /* cJSON points at the brace or just after it */
    { "missing comma",
      "{\n"
      "  'format': 'planbot-kb',\n"
      "  'version': 1\n"
      "  'entries': []\n"
      "}\n",
      "line 4, column 3" },
    { "unclosed string",
      "{\n"
      "  'format': 'planbot-kb,\n"
      "  'version': 1\n"
      "}\n",
      "line " },
    { "cut short",
      "{\n"
      "  'format': 'planbot-kb',\n"
      "  'entries': [\n",
      "line 3, column 15" }, /* the end: cJSON names the last byte */
    { "empty file", "", "line 1, column 1" },
    { "text after the object", "{'format': 'planbot-kb', 'version': 1}\n\nmore\n",
      "line 3, column 1" },
    { "two objects", "{'format': 'planbot-kb', 'version': 1}\n{}", "line 2, column 1" },
    { "backslash outside a string", "{\"format\": \\\"planbot-kb\\\"}",
      "line 1, column 1" }, /* 11 or 12 */
};

static void kb_import_syntax_error_names_line_and_column(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof syntax_cases / sizeof syntax_cases[0]; i++) {
        const struct syntax_case *c = &syntax_cases[i];
        char *text = sq_text(c->text);
        struct snapshot s = snap(f->kb);
        struct kb_import_report rep;
        int rc = import_text(f->kb, text, 0, 0, &rep);
        if (rc != ERR_INVAL || !strstr(kb_errmsg(f->kb), c->want))
            print_error("case \"%s\": rc %d, message \"%s\", want \"%s\"\n", c->name, rc,
                        kb_errmsg(f->kb), c->want);
        assert_int_equal(rc, ERR_INVAL);
        assert_non_null(strstr(kb_errmsg(f->kb), c->want));
        assert_unchanged(f->kb, &s);
        free(text);
    }
}

static void kb_import_invalid_record_names_its_line_and_imports_nothing(void **state)
{
    struct fx *f = *state;
    const char *file = "{\n"                                                             /* 1 */
                       "  'format': 'planbot-kb',\n"                                     /* 2 */
                       "  'version': 1,\n"                                               /* 3 */
                       "  'synonyms': [{'term': 'crimea', 'words': ['peninsula']}],\n"   /* 4 */
                       "  'entries': [\n"                                                /* 5 */
                       "    {'id': 'good-one', 'kind': 'provision', 'title': 'T',\n"     /* 6 */
                       "     'text': 'Russia', 'source': 'test-src'},\n"                 /* 7 */
                       "    {'id': 'bad-one',\n"                                         /* 8 */
                       "     'title': 'T',\n"                                            /* 9 */
                       "     'kind': 'rule',\n"                                          /* 10 */
                       "     'text': 'Russia', 'source': 'test-src'},\n"                 /* 11 */
                       "    {'id': 'no-title', 'kind': 'provision',\n"                   /* 12 */
                       "     'text': 'Russia', 'source': 'test-src'},\n"                 /* 13 */
                       "    {'id': 'not-verbatim', 'kind': 'provision', 'title': 'T',\n" /* 14 */
                       "     'text': 'Kyiv keeps Crimea', 'source': 'test-src'}\n"       /* 15 */
                       "  ]\n"                                                           /* 16 */
                       "}\n";
    char *text = sq_text(file);
    struct snapshot s = snap(f->kb);
    struct kb_import_report rep;
    assert_int_equal(import_text(f->kb, text, 0, 0, &rep), ERR_INVAL);
    const char *msg = kb_errmsg(f->kb);
    /* The bad field's own line, the record's line for a missing field, and a summary. */
    assert_errmsg_has(f->kb, "line 10: entries[1]");
    assert_errmsg_has(f->kb, "field \"kind\"");
    assert_errmsg_has(f->kb, "line 12: entries[2]");
    assert_errmsg_has(f->kb, "field \"title\"");
    assert_errmsg_has(f->kb, "line 15: entries[3]");
    assert_errmsg_has(f->kb, "3 errors");
    assert_errmsg_has(f->kb, "nothing was imported");
    assert_null(strstr(msg, "entries[0]"));
    /* Neither the valid entry nor the synonym was imported. */
    assert_unchanged(f->kb, &s);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "good-one", &e), ERR_NOTFOUND);
    free(text);
}

static void kb_import_with_many_errors_keeps_the_summary(void **state)
{
    struct fx *f = *state;
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_puts(&b, "{\"format\": \"planbot-kb\", \"version\": 1, \"entries\": [\n"),
                     0);
    for (int i = 0; i < 25; i++)
        assert_int_equal(buf_printf(&b,
                                    "%s{\"id\": \"e%d\", \"kind\": \"bad\", \"title\": \"T\","
                                    " \"text\": \"Russia\", \"source\": \"test-src\"}\n",
                                    i ? "," : "", i),
                         0);
    assert_int_equal(buf_puts(&b, "]}\n"), 0);
    struct snapshot s = snap(f->kb);
    struct kb_import_report rep;
    assert_int_equal(import_text(f->kb, buf_str(&b), 0, 0, &rep), ERR_INVAL);
    /* The first errors with their lines, as many as the message holds, then the count. */
    const char *msg = kb_errmsg(f->kb);
    assert_errmsg_has(f->kb, "line 2: entries[0]: field \"kind\"");
    assert_errmsg_has(f->kb, "line 3: entries[1]: field \"kind\"");
    assert_null(strstr(msg, "entries[20]"));
    assert_errmsg_has(f->kb, " more\n25 errors: nothing was imported");
    const char *tail = "25 errors: nothing was imported";
    assert_string_equal(msg + strlen(msg) - strlen(tail), tail);
    assert_unchanged(f->kb, &s);
    buf_free(&b);
}

static void kb_import_reports_duplicate_ids(void **state)
{
    struct fx *f = *state;
    const char *file = "{\n"                                                      /* 1 */
                       "  'format': 'planbot-kb',\n"                              /* 2 */
                       "  'version': 1,\n"                                        /* 3 */
                       "  'entries': [\n"                                         /* 4 */
                       "    {'id': 'twice', 'kind': 'provision', 'title': 'T',\n" /* 5 */
                       "     'text': 'Russia', 'source': 'test-src'},\n"          /* 6 */
                       "    {'id': 'once', 'kind': 'provision', 'title': 'T',\n"  /* 7 */
                       "     'text': 'Russia', 'source': 'test-src'},\n"          /* 8 */
                       "    {'kind': 'provision', 'title': 'U',\n"                /* 9 */
                       "     'id': 'twice',\n"                                    /* 10 */
                       "     'text': 'Crimea', 'source': 'test-src'}\n"           /* 11 */
                       "  ],\n"                                                   /* 12 */
                       "  'synonyms': [{'term': 'a', 'words': ['b']},\n"          /* 13 */
                       "               {'term': 'a', 'words': ['c']}]\n"          /* 14 */
                       "}\n";
    char *text = sq_text(file);
    struct snapshot s = snap(f->kb);
    struct kb_import_report rep;
    assert_int_equal(import_text(f->kb, text, 0, 0, &rep), ERR_INVAL);
    assert_errmsg_has(f->kb, "line 10: entries[2]");
    assert_errmsg_has(f->kb, "\"twice\" appears more than once");
    assert_errmsg_has(f->kb, "line 14: synonyms[1]");
    assert_errmsg_has(f->kb, "\"a\" appears more than once");
    assert_unchanged(f->kb, &s);
    free(text);
}

struct header_case {
    const char *name;
    const char *text; /* with ' for " */
    const char *want;
};

static const struct header_case header_cases[] = {
    { "no format", "{'version': 1, 'entries': []}", "format" },
    { "other format", "{'format': 'other-kb', 'version': 1}", "not a planbot knowledge base" },
    { "format not a string", "{'format': 1, 'version': 1}", "format" },
    { "no version", "{'format': 'planbot-kb'}", "version" },
    { "version zero", "{'format': 'planbot-kb', 'version': 0}", "version" },
    { "version a string", "{'format': 'planbot-kb', 'version': '1'}", "version" },
    { "newer version", "{'format': 'planbot-kb', 'version': 2}", "newer" },
    { "unknown top-level field", "{'format': 'planbot-kb', 'version': 1, 'entrys': []}",
      "unknown top-level field \"entrys\"" },
    { "entries not a list", "{'format': 'planbot-kb', 'version': 1, 'entries': {}}",
      "\"entries\" must be a list" },
    { "sources not a list", "{'format': 'planbot-kb', 'version': 1, 'sources': 'x'}",
      "\"sources\" must be a list" },
    { "a list at the top", "[{'format': 'planbot-kb', 'version': 1}]", "one JSON object" },
    { "a string at the top", "'planbot-kb'", "one JSON object" },
    { "a record not an object", "{'format': 'planbot-kb', 'version': 1, 'entries': [1]}",
      "entries[0]" },
};

static void kb_import_checks_format_and_version(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof header_cases / sizeof header_cases[0]; i++) {
        const struct header_case *c = &header_cases[i];
        char *text = sq_text(c->text);
        struct snapshot s = snap(f->kb);
        struct kb_import_report rep;
        int rc = import_text(f->kb, text, 0, 0, &rep);
        if (rc != ERR_INVAL || !strstr(kb_errmsg(f->kb), c->want))
            print_error("case \"%s\": rc %d, message \"%s\", want \"%s\"\n", c->name, rc,
                        kb_errmsg(f->kb), c->want);
        assert_int_equal(rc, ERR_INVAL);
        assert_non_null(strstr(kb_errmsg(f->kb), c->want));
        assert_unchanged(f->kb, &s);
        free(text);
    }
    /* A NUL byte inside the text. */
    const char nul[] = "{\"format\": \"planbot-kb\",\0 \"version\": 1}";
    struct kb_import_opts opts = { 0, 0 };
    struct kb_import_report rep;
    assert_int_equal(kb_import(f->kb, nul, sizeof nul - 1, &opts, &alice, &rep), ERR_INVAL);
    assert_errmsg_has(f->kb, "NUL");
    /* The smallest valid file imports nothing. */
    assert_int_equal(import_text(f->kb, "{\"format\": \"planbot-kb\", \"version\": 1}", 0, 0, &rep),
                     0);
    assert_int_equal(rep.added + rep.updated + rep.removed + rep.unchanged, 0);
}

static void kb_export_import_round_trips(void **state)
{
    struct fx *f = *state;
    /* The bundled knowledge base, with changes of every kind on top. */
    struct kb *a = open_kb(f->path, 0);
    assert_int_equal(
        put_json(a, KB_SOURCE, make_source(SRC_ID, src_text), KB_PUT_ADD, &alice, NULL), 0);
    assert_int_equal(put_json(a, KB_ENTRY,
                              make_entry("test-army-cap", "provision", ARMY_TYPED, NULL, SRC_ID),
                              KB_PUT_ADD, &alice, NULL),
                     0);
    assert_int_equal(put(a, KB_SYNONYM, "{'term': 'kyiv', 'words': ['kiev', 'ukrainian capital']}",
                         KB_PUT_UPSERT, &alice, NULL),
                     0);
    assert_int_equal(put_json(a, KB_SOURCE, make_source("no-text", NULL), KB_PUT_ADD, &alice, NULL),
                     0);
    cJSON *first = NULL;
    assert_int_equal(kb_list(a, KB_ENTRY, NULL, 1, &first), 0);
    const char *first_id = str_field(cJSON_GetArrayItem(first, 0), "id");
    assert_int_equal(kb_remove(a, KB_ENTRY, first_id, &alice, NULL), 0);
    cJSON_Delete(first);
    cJSON *doc_a = export_doc(a);

    char path_b[256];
    fx_path(f, path_b, sizeof path_b, "copy.db");
    struct kb *b = open_kb(path_b, KB_OPEN_EMPTY);
    struct kb_import_report rep;
    assert_int_equal(import_doc(b, doc_a, 0, 0, &rep), 0);
    assert_int_equal(rep.added, cJSON_GetArraySize(cJSON_GetObjectItem(doc_a, "sources")) +
                                    cJSON_GetArraySize(cJSON_GetObjectItem(doc_a, "synonyms")) +
                                    cJSON_GetArraySize(cJSON_GetObjectItem(doc_a, "speakers")) +
                                    cJSON_GetArraySize(cJSON_GetObjectItem(doc_a, "parties")) +
                                    cJSON_GetArraySize(cJSON_GetObjectItem(doc_a, "entries")));
    cJSON *doc_b = export_doc(b);
    assert_true(cJSON_Compare(doc_a, doc_b, 1));
    assert_int_equal(kb_count_entries(a), kb_count_entries(b));
    cJSON_Delete(doc_a);
    cJSON_Delete(doc_b);
    kb_close(a);
    kb_close(b);
}

/* ---- search ---- */

static int search_has(cJSON *results, const char *id)
{
    return find_by(results, "id", id) != NULL;
}

static void kb_search_finds_entries(void **state)
{
    struct fx *f = *state;
    cJSON *r = NULL;
    assert_int_equal(kb_search(f->kb, "army", 10, &r), 0);
    assert_int_equal(cJSON_GetArraySize(r), 1);
    cJSON *hit = cJSON_GetArrayItem(r, 0);
    assert_string_equal(str_field(hit, "id"), "army-cap");
    assert_string_equal(str_field(hit, "kind"), "provision");
    assert_string_equal(str_field(hit, "title"), "A title");
    assert_non_null(strstr(str_field(hit, "snippet"), "[army]"));
    cJSON_Delete(r);

    static const struct {
        const char *text, *id;
    } finds[] = {
        { "ARMY personnel", "army-cap" },  /* any case */
        { "limited 600,000", "army-cap" }, /* punctuation */
        { "zelens", "zelensky-work" },     /* the last word is a prefix: the speaker */
        { "president", "zelensky-work" },  /* the role */
        { "  work  ", "zelensky-work" },   { "armies", "army-cap" }, /* stems */
    };
    for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
        assert_int_equal(kb_search(f->kb, finds[i].text, 10, &r), 0);
        if (!search_has(r, finds[i].id))
            print_error("search \"%s\" does not find %s\n", finds[i].text, finds[i].id);
        assert_true(search_has(r, finds[i].id));
        cJSON_Delete(r);
    }
    /* Every word must occur. */
    assert_int_equal(kb_search(f->kb, "army zelensky", 10, &r), 0);
    assert_int_equal(cJSON_GetArraySize(r), 0);
    cJSON_Delete(r);
    /* The limit. */
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'army-two', 'kind': 'context', 'title': 'Army again',"
                         " 'text': 'army', 'source': 'test-src'}",
                         KB_PUT_ADD, &alice, NULL),
                     0);
    assert_int_equal(kb_search(f->kb, "army", 1, &r), 0);
    assert_int_equal(cJSON_GetArraySize(r), 1);
    cJSON_Delete(r);
    assert_int_equal(kb_search(f->kb, "army", 0, &r), 0);
    assert_int_equal(cJSON_GetArraySize(r), 2);
    cJSON_Delete(r);
}

static void kb_search_treats_fts5_syntax_as_plain_text(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *text;
        int finds_army; /* 1: army-cap found, 0: not, -1: either */
    } cases[] = {
        { "\"", 0 },
        { "\"army", 1 },
        { "army\"", 1 },
        { "\"army\"", 1 },
        { "\"\"", 0 },
        { "*", 0 },
        { "army*", 1 },
        { "*army", 1 },
        { "NEAR(", 0 },
        { "NEAR(army personnel)", 0 },
        { "NEAR(army personnel, 5)", 0 },
        { "army OR zelensky", 0 }, /* OR is a word: the text has no "or" */
        { "army AND personnel", 0 },
        { "army NOT zelensky", 0 },
        { "NOT", 0 },
        { "OR", 0 },
        { "AND", 0 },
        { "title:", -1 }, /* the word "title" */
        { "title:army", 0 },
        { "text:army", 0 },
        { "{title text}: army", 0 },
        { "- army", 1 },
        { "-army", 1 },
        { "^army", 1 },
        { "+army", 1 },
        { "(army)", 1 },
        { "(", 0 },
        { ")", 0 },
        { ":", 0 },
        { "'; DROP TABLE entries; --", 0 },
        { "army'); DROP TABLE entries; --", -1 },
        { "\\", 0 },
        { "army\\", 1 },
        { "\xE2\x80\x9C"
          "army"
          "\xE2\x80\x9D",
          1 },
        { "%", 0 },
        { "army %", -1 },
    };
    int64_t n = kb_count_entries(f->kb);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *r = NULL;
        int rc = kb_search(f->kb, cases[i].text, 10, &r);
        if (rc)
            print_error("search \"%s\": %d, %s\n", cases[i].text, rc, kb_errmsg(f->kb));
        assert_int_equal(rc, 0);
        assert_true(cJSON_IsArray(r));
        if (cases[i].finds_army >= 0 && search_has(r, "army-cap") != cases[i].finds_army)
            print_error("search \"%s\": army-cap %sfound\n", cases[i].text,
                        cases[i].finds_army ? "not " : "");
        if (cases[i].finds_army >= 0)
            assert_int_equal(search_has(r, "army-cap"), cases[i].finds_army);
        cJSON_Delete(r);
    }
    assert_int_equal(kb_count_entries(f->kb), n);
}

static void kb_search_without_words_is_invalid(void **state)
{
    struct fx *f = *state;
    cJSON *r = (cJSON *)1;
    assert_int_equal(kb_search(f->kb, "", 10, &r), ERR_INVAL);
    assert_null(r);
    assert_int_equal(kb_search(f->kb, " \t\n", 10, &r), ERR_INVAL);
    assert_errmsg_has(f->kb, "nothing to search for");
}

/* ---- read-only files and locks ---- */

static void kb_readonly_file_opens_but_refuses_writes(void **state)
{
    struct fx *f = *state;
    kb_close(f->kb);
    f->kb = NULL;
    assert_int_equal(chmod(f->path, 0444), 0);
    if (geteuid() == 0) {
        /* Root writes any file whatever its mode: be an ordinary user who owns the folder and the
         * file, as planbot's own account would. The teardown becomes root again. */
        const uid_t nobody = 65534;
        assert_int_equal(chown(f->dir, nobody, nobody), 0);
        assert_int_equal(chown(f->path, nobody, nobody), 0);
        assert_int_equal(setresgid(nobody, nobody, 0), 0);
        f->dropped_uid = 1;
        assert_int_equal(setresuid(nobody, nobody, 0), 0);
        assert_int_equal(access(f->path, W_OK), -1);
    }
    f->kb = open_kb(f->path, 0);
    /* Reading works. */
    assert_int_equal(kb_count_entries(f->kb), 2);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    cJSON_Delete(e);
    cJSON *r = NULL;
    assert_int_equal(kb_search(f->kb, "army", 10, &r), 0);
    assert_int_equal(cJSON_GetArraySize(r), 1);
    cJSON_Delete(r);
    struct snapshot s = snap(f->kb);

    /* Every kind of write is refused, saying why and which file. */
    int64_t change = -1;
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'x'}", KB_PUT_EDIT, &alice, &change),
        ERR_READONLY);
    assert_errmsg_has(f->kb, "read-only");
    assert_errmsg_has(f->kb, f->path);
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "army-cap", &alice, NULL), ERR_READONLY);
    assert_int_equal(kb_undo(f->kb, 1, 1, &alice, NULL), ERR_READONLY);
    struct kb_import_report rep;
    assert_int_equal(import_text(f->kb, "{\"format\": \"planbot-kb\", \"version\": 1}", 0, 0, &rep),
                     ERR_READONLY);
    assert_unchanged(f->kb, &s);
}

static void kb_locked_database_makes_put_busy(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_busy_timeout(f->kb->db, 200); /* planbot waits 5 s; a test need not */

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t change = -1;
    int rc = put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'x'}", KB_PUT_EDIT, &alice, &change);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(rc, ERR_BUSY);
    assert_errmsg_has(f->kb, "locked");
    assert_true(waited >= 0.15); /* it did wait for the lock */
    assert_int_equal(kb_remove(f->kb, KB_ENTRY, "army-cap", &alice, NULL), ERR_BUSY);
    assert_int_equal(kb_undo(f->kb, 1, 1, &alice, NULL), ERR_BUSY);
    struct kb_import_report rep;
    assert_int_equal(import_text(f->kb, "{\"format\": \"planbot-kb\", \"version\": 1}", 0, 0, &rep),
                     ERR_BUSY);
    /* Reading still works while another process writes. */
    assert_int_equal(kb_count_entries(f->kb), 2);

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_unchanged(f->kb, &s);
    /* And once the lock is gone, the same change goes through. */
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'x'}", KB_PUT_EDIT, &alice, &change), 0);
    assert_true(change > 0);
}

static void kb_stamp_changes_with_every_write(void **state)
{
    struct fx *f = *state;
    uint64_t s0 = kb_stamp(f->kb);
    assert_int_equal(kb_stamp(f->kb), s0); /* reading does not change it */
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'x'}", KB_PUT_EDIT, &alice, NULL), 0);
    uint64_t s1 = kb_stamp(f->kb);
    assert_true(s1 != s0);
    /* A write by another handle, as by another process. */
    struct kb *other = open_kb(f->path, 0);
    assert_int_equal(
        put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 'y'}", KB_PUT_EDIT, &bob, NULL), 0);
    kb_close(other);
    uint64_t s2 = kb_stamp(f->kb);
    assert_true(s2 != s1 && s2 != s0);
    /* inside one read transaction, one snapshot: one stamp, whatever others commit meanwhile;
     * after it, their change shows */
    assert_int_equal(kb_read_begin(f->kb), 0);
    uint64_t s3 = kb_stamp(f->kb);
    other = open_kb(f->path, 0);
    assert_int_equal(
        put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 'z'}", KB_PUT_EDIT, &bob, NULL), 0);
    kb_close(other);
    assert_true(kb_stamp(f->kb) == s3);
    struct kb_card c;
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "y"); /* the snapshot's */
    kb_read_end(f->kb);
    assert_true(kb_stamp(f->kb) != s3);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "z");
}

/* A held read transaction (a daemon's, over a turn of its loop): one snapshot over many answers,
 * kb_read_begin()/kb_read_end() inside it doing nothing; released, the new data shows; a write
 * through the handle releases it first and goes through. */
static void kb_read_hold_keeps_one_snapshot_until_released_or_a_write(void **state)
{
    struct fx *f = *state;
    assert_int_equal(kb_read_hold(f->kb), 0);
    assert_int_equal(kb_read_hold(f->kb), 0); /* twice is once */
    struct kb_card c;
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    char before[sizeof c.title];
    snprintf(before, sizeof before, "%s", c.title);
    uint64_t s0 = kb_stamp(f->kb);
    struct kb *other = open_kb(f->path, 0);
    assert_int_equal(
        put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 'p'}", KB_PUT_EDIT, &bob, NULL), 0);
    /* an answer's own begin and end, inside the hold: still the held snapshot */
    assert_int_equal(kb_read_begin(f->kb), 0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    kb_read_end(f->kb);
    assert_string_equal(c.title, before);
    assert_true(kb_stamp(f->kb) == s0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, before);
    kb_read_release(f->kb);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "p");
    kb_read_release(f->kb); /* twice is harmless */
    /* a write through the handle while held: released first, then made, then read */
    assert_int_equal(kb_read_hold(f->kb), 0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_int_equal(
        put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 'q'}", KB_PUT_EDIT, &bob, NULL), 0);
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'r'}", KB_PUT_EDIT, &alice, NULL), 0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "r");
    /* and the other handle can write again: nothing of ours is still open */
    assert_int_equal(
        put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 's'}", KB_PUT_EDIT, &bob, NULL), 0);
    kb_close(other);
    assert_int_equal(kb_read_hold(f->kb), 0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "s");
    kb_read_release(f->kb);
}

/* kb_card's cache: a card read again comes from it until the data changes, by this handle or
 * another process; inside a write transaction it is read fresh and not kept. */
static void kb_card_is_cached_until_the_data_changes(void **state)
{
    struct fx *f = *state;
    struct kb_card c;
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    char title[256];
    snprintf(title, sizeof title, "%s", c.title);
    assert_int_equal(kb_card(f->kb, "zelensky-work", &c), 0);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, title);
    assert_string_equal(c.id, "army-cap");
    struct kb *other = open_kb(f->path, 0); /* as another process */
    assert_int_equal(put(other, KB_ENTRY, "{'id': 'army-cap', 'title': 'changed elsewhere'}",
                         KB_PUT_EDIT, &bob, NULL),
                     0);
    kb_close(other);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "changed elsewhere");
    assert_int_equal(kb_begin(f->kb), 0);
    assert_int_equal(sqlite3_exec(f->kb->db,
                                  "UPDATE entries SET title = 'not yet' WHERE id = 'army-cap'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "not yet");
    kb_rollback(f->kb);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0);
    assert_string_equal(c.title, "changed elsewhere");
    assert_int_equal(kb_card(f->kb, "no-such-entry", &c), ERR_NOTFOUND);
    assert_int_equal(kb_card(f->kb, "army-cap", &c), 0); /* a miss spoils nothing */
    assert_string_equal(c.title, "changed elsewhere");
}

static void kb_list_filters_and_brief(void **state)
{
    struct fx *f = *state;
    cJSON *l = NULL;
    struct kb_filter quotes = { "quote", NULL }, by_src = { NULL, SRC_ID }, none = { NULL, "x" };
    assert_int_equal(kb_list(f->kb, KB_ENTRY, &quotes, 0, &l), 0);
    assert_int_equal(cJSON_GetArraySize(l), 1);
    assert_string_equal(str_field(cJSON_GetArrayItem(l, 0), "id"), "zelensky-work");
    cJSON_Delete(l);
    assert_int_equal(kb_list(f->kb, KB_ENTRY, &by_src, 1, &l), 0);
    assert_int_equal(cJSON_GetArraySize(l), 2);
    /* Brief listings leave out the long fields. */
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "text"));
    assert_non_null(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "title"));
    cJSON_Delete(l);
    assert_int_equal(kb_list(f->kb, KB_ENTRY, &none, 0, &l), 0);
    assert_int_equal(cJSON_GetArraySize(l), 0);
    cJSON_Delete(l);
    assert_int_equal(kb_list(f->kb, KB_SOURCE, NULL, 1, &l), 0);
    assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "text"));
    cJSON_Delete(l);
}

static void kb_type_names_round_trip(void **state)
{
    (void)state;
    static const enum kb_type all[] = { KB_SOURCE, KB_ENTRY, KB_SYNONYM };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(kb_type_parse(kb_type_name(all[i])), (int)all[i]);
    assert_int_equal(kb_type_parse("entries"), -1);
    assert_int_equal(kb_type_parse(""), -1);
    assert_string_equal(kb_errmsg(NULL), "");
    kb_close(NULL);
}

/* ---- the questions planbot declined ---- */

/* kb_unanswered_note() of one question, from a string or len bytes. */
static int note_len(struct kb *kb, const char *question, size_t len, const char *via)
{
    struct kb_declined q = { question, len, via };
    return kb_unanswered_note(kb, &q, 1, 250);
}

static int note(struct kb *kb, const char *question, const char *via)
{
    return note_len(kb, question, strlen(question), via);
}

/* kb_unanswered_tidy() until nothing is left to drop; returns how many went. */
static int tidy(struct kb *kb, int keep_days, int max)
{
    int total = 0, dropped;
    do {
        assert_int_equal(kb_unanswered_tidy(kb, keep_days, max, 250, &dropped), 0);
        assert_true(dropped <= max);
        total += dropped;
    } while (dropped == max);
    return total;
}

static cJSON *unanswered(struct kb *kb, int limit)
{
    cJSON *list = NULL;
    int rc = kb_unanswered_list(kb, limit, &list);
    if (rc)
        print_error("kb_unanswered_list: %s\n", kb_errmsg(kb));
    assert_int_equal(rc, 0);
    assert_true(cJSON_IsArray(list));
    return list;
}

static int unanswered_len(struct kb *kb)
{
    cJSON *list = unanswered(kb, 0);
    int n = cJSON_GetArraySize(list);
    cJSON_Delete(list);
    return n;
}

/* Sets when a question (by its stored wording) was last asked: days ago. */
static void set_last_asked(struct kb *kb, const char *question, int days)
{
    char at[32];
    kb_time(time(NULL) - (time_t)days * 86400, at, sizeof at);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(kb->db,
                                        "UPDATE unanswered SET last_asked = ? WHERE question = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, question, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    assert_int_equal(sqlite3_changes(kb->db), 1);
    sqlite3_finalize(st);
}

static void kb_unanswered_counts_variants_of_a_question_as_one(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *first, *second;
        int same;
    } rows[] = {
        { "Who pays?", "who pays", 1 },
        { "  Who   pays ?! ", "WHO PAYS.", 1 },
        { "who\tpays\r\n", "who pays...", 1 },
        { "@alice who pays", "who pays", 1 },           /* handles are not part of the question */
        { "who pays \xF0\x9F\x99\x82", "who pays", 1 }, /* nor emoji */
        { "who\xC2\xA0pays", "who pays", 1 },           /* a no-break space */
        { "Who pays?", "Who paid?", 0 },
        { "who pays?", "why pays?", 0 },
        { "\xC3\x89lections?", "\xC3\xA9lections", 0 }, /* only ASCII letters are folded */
        { "the U.N.", "the U.N", 1 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(kb_unanswered_clear(f->kb, NULL), 0);
        assert_int_equal(note(f->kb, rows[i].first, "slack"), 0);
        assert_int_equal(note(f->kb, rows[i].second, "console"), 0);
        cJSON *list = unanswered(f->kb, 0);
        int n = cJSON_GetArraySize(list);
        if (n != (rows[i].same ? 1 : 2))
            fail_msg("row %zu (\"%s\", \"%s\"): %d questions", i, rows[i].first, rows[i].second, n);
        if (rows[i].same) {
            const cJSON *q = cJSON_GetArrayItem(list, 0);
            assert_int_equal(num_field(q, "count"), 2);
            assert_string_equal(str_field(q, "via"), "console"); /* the latest */
        }
        cJSON_Delete(list);
    }
    /* The latest wording is kept, on one line with single spaces. */
    assert_int_equal(kb_unanswered_clear(f->kb, NULL), 0);
    assert_int_equal(note(f->kb, "Who pays?", "slack"), 0);
    assert_int_equal(note(f->kb, "  who\n  PAYS  ", "slack"), 0);
    cJSON *list = unanswered(f->kb, 0);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 0), "question"), "who PAYS");
    cJSON_Delete(list);
}

static void kb_unanswered_lists_the_most_asked_first(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *question;
        int times;
    } asked[] = {
        { "Who pays for the rebuilding?", 1 },
        { "How long do the elections take?", 3 },
        { "What about Belarus?", 2 },
        { "Is Moldova in the plan?", 1 },
    };
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++)
        for (int k = 0; k < asked[i].times; k++)
            assert_int_equal(note(f->kb, asked[i].question, "slack"), 0);
    /* between two questions asked as often, the more recent comes first */
    set_last_asked(f->kb, "Who pays for the rebuilding?", 2);
    set_last_asked(f->kb, "Is Moldova in the plan?", 1);
    static const char *const order[] = {
        "How long do the elections take?",
        "What about Belarus?",
        "Is Moldova in the plan?",
        "Who pays for the rebuilding?",
    };
    static const int counts[] = { 3, 2, 1, 1 };
    cJSON *list = unanswered(f->kb, 0);
    assert_int_equal(cJSON_GetArraySize(list), 4);
    for (int i = 0; i < 4; i++) {
        const cJSON *q = cJSON_GetArrayItem(list, i);
        assert_string_equal(str_field(q, "question"), order[i]);
        assert_int_equal(num_field(q, "count"), counts[i]);
        assert_string_equal(str_field(q, "via"), "slack");
        /* UTC times as the audit log writes them */
        const char *first = str_field(q, "first_asked"), *last = str_field(q, "last_asked");
        assert_int_equal(strlen(first), 20);
        assert_int_equal(first[10], 'T');
        assert_int_equal(first[19], 'Z');
        assert_int_equal(strlen(last), 20);
        assert_null(cJSON_GetObjectItem(q, "who")); /* who asked is never kept */
        assert_int_equal(cJSON_GetArraySize(q), 5);
    }
    cJSON_Delete(list);
    list = unanswered(f->kb, 2);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 1), "question"), order[1]);
    cJSON_Delete(list);
}

static void kb_unanswered_drops_questions_older_than_keep_days(void **state)
{
    struct fx *f = *state;
    assert_int_equal(note(f->kb, "Question forty days old", "slack"), 0);
    assert_int_equal(note(f->kb, "Question ten days old", "slack"), 0);
    assert_int_equal(note(f->kb, "Question a year old", "slack"), 0);
    set_last_asked(f->kb, "Question forty days old", 40);
    set_last_asked(f->kb, "Question ten days old", 10);
    set_last_asked(f->kb, "Question a year old", 365);
    /* noting never drops anything; a tidy with 0 keeps every question */
    assert_int_equal(note(f->kb, "New question", "slack"), 0);
    assert_int_equal(tidy(f->kb, 0, 1000), 0);
    assert_int_equal(unanswered_len(f->kb), 4);
    /* 30 days, in batches of one: the ten days old and the new one stay */
    assert_int_equal(tidy(f->kb, 30, 1), 2);
    cJSON *list = unanswered(f->kb, 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 0), "question"), "New question");
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 1), "question"),
                        "Question ten days old");
    cJSON_Delete(list);
    /* asking an old question again keeps it: it counts from the last time */
    set_last_asked(f->kb, "Question ten days old", 9);
    assert_int_equal(note(f->kb, "question ten days old?", "slack"), 0);
    assert_int_equal(tidy(f->kb, 5, 1000), 0);
    list = unanswered(f->kb, 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_int_equal(num_field(cJSON_GetArrayItem(list, 0), "count"), 2);
    cJSON_Delete(list);
}

static void kb_unanswered_clear_forgets_all_and_is_not_a_knowledge_change(void **state)
{
    struct fx *f = *state;
    assert_int_equal(note(f->kb, "one", "slack"), 0);
    assert_int_equal(note(f->kb, "two", "slack"), 0);
    assert_int_equal(note(f->kb, "two", "slack"), 0);
    assert_int_equal(note(f->kb, "three", "console"), 0);
    struct snapshot s = snap(f->kb);
    int64_t cleared = -1;
    assert_int_equal(kb_unanswered_clear(f->kb, &cleared), 0);
    assert_int_equal(cleared, 3);
    assert_int_equal(unanswered_len(f->kb), 0);
    assert_unchanged(f->kb, &s); /* neither the knowledge nor the audit log */
    assert_int_equal(kb_unanswered_clear(f->kb, &cleared), 0);
    assert_int_equal(cleared, 0);
}

static void kb_unanswered_keeps_500_bytes_cut_between_characters(void **state)
{
    struct fx *f = *state;
    static const struct {
        size_t prefix;  /* bytes of 'a' before the character */
        const char *ch; /* then this character, then more 'b' */
        size_t kept;    /* bytes kept */
    } rows[] = {
        { 10, "x", 500 },                 /* ASCII: cut at 500 */
        { 498, "\xC3\xA9", 500 },         /* é ends at 500: kept */
        { 499, "\xC3\xA9", 499 },         /* é would end at 501: cut before it */
        { 498, "\xE2\x82\xAC", 498 },     /* € would end at 501 */
        { 497, "\xF0\x9D\x90\x80", 497 }, /* mathematical bold A would end at 501 */
        { 496, "\xF0\x90\x8D\x88", 500 }, /* 𐍈 ends at 500 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char q[2000];
        memset(q, 'a', rows[i].prefix);
        size_t n = rows[i].prefix, clen = strlen(rows[i].ch);
        memcpy(q + n, rows[i].ch, clen);
        n += clen;
        memset(q + n, 'b', 600);
        n += 600;
        assert_int_equal(kb_unanswered_clear(f->kb, NULL), 0);
        assert_int_equal(note_len(f->kb, q, n, "slack"), 0);
        cJSON *list = unanswered(f->kb, 0);
        const char *kept = str_field(cJSON_GetArrayItem(list, 0), "question");
        if (strlen(kept) != rows[i].kept || !utf8_valid(kept, strlen(kept), NULL))
            fail_msg("row %zu: kept %zu bytes, want %zu", i, strlen(kept), rows[i].kept);
        cJSON_Delete(list);
    }
    /* control characters (a terminal's escape sequences) are kept as spaces */
    assert_int_equal(kb_unanswered_clear(f->kb, NULL), 0);
    assert_int_equal(note(f->kb, "who\x1b[2J pays\x07?", "slack"), 0);
    cJSON *list = unanswered(f->kb, 0);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 0), "question"), "who [2J pays ?");
    cJSON_Delete(list);
}

static void kb_unanswered_skips_questions_with_nothing_in_them(void **state)
{
    struct fx *f = *state;
    static const char *const empty[] = { "", "   ", "?!.", " ? ", "@planbot", "\t\r\n" };
    struct kb_declined batch[7];
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        assert_int_equal(note(f->kb, empty[i], "slack"), 0);
        batch[i] = (struct kb_declined){ empty[i], strlen(empty[i]), "slack" };
    }
    assert_int_equal(unanswered_len(f->kb), 0);
    /* in a batch, the empty ones are skipped and the others recorded */
    batch[6] = (struct kb_declined){ "Who pays?", 9, "slack" };
    assert_int_equal(kb_unanswered_note(f->kb, batch, 7, 250), 0);
    assert_int_equal(unanswered_len(f->kb), 1);
}

static void kb_unanswered_notes_a_batch_in_one_transaction(void **state)
{
    struct fx *f = *state;
    struct kb_declined batch[] = {
        { "Who pays?", 9, "slack" },
        { "who pays", 8, "console" }, /* the same question: counted twice */
        { "What about Moldova?", 19, "slack" },
    };
    assert_int_equal(kb_unanswered_note(f->kb, batch, 3, 250), 0);
    cJSON *list = unanswered(f->kb, 0);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_int_equal(num_field(cJSON_GetArrayItem(list, 0), "count"), 2);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, 0), "via"), "console");
    cJSON_Delete(list);
    /* a lock held elsewhere: nothing of the batch is recorded, and with busy 0 it fails at once */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(kb_unanswered_note(f->kb, batch, 3, 0), ERR_BUSY);
    assert_int_equal(kb_unanswered_tidy(f->kb, 1, 10, 0, NULL), ERR_BUSY);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    list = unanswered(f->kb, 0);
    assert_int_equal(num_field(cJSON_GetArrayItem(list, 0), "count"), 2);
    cJSON_Delete(list);
}

static void kb_unanswered_keeps_at_most_10000_questions(void **state)
{
    struct fx *f = *state;
    /* 10,000 questions asked twice, but one asked once long ago */
    assert_int_equal(sqlite3_exec(f->kb->db,
                                  "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
                                  " WHERE i < 9999)"
                                  " INSERT INTO unanswered SELECT 'q' || i, 'q' || i,"
                                  " CASE i WHEN 0 THEN 1 ELSE 2 END, '2025-11-20T00:00:00Z',"
                                  " CASE i WHEN 0 THEN '2025-11-20T00:00:00Z'"
                                  " ELSE '2025-11-21T00:00:00Z' END, 'slack' FROM n",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(unanswered_len(f->kb), 10000);
    assert_int_equal(note(f->kb, "A new question", "slack"), 0);
    /* noting is one search of the key: the cap is kept by the tidy (a timer in the daemon) */
    assert_int_equal(unanswered_len(f->kb), 10001);
    assert_int_equal(tidy(f->kb, 0, 1), 1);
    cJSON *list = unanswered(f->kb, 0);
    assert_int_equal(cJSON_GetArraySize(list), 10000);
    int has_new = 0, has_q0 = 0;
    const cJSON *q;
    cJSON_ArrayForEach(q, list)
    {
        has_new |= strcmp(str_field(q, "question"), "A new question") == 0;
        has_q0 |= strcmp(str_field(q, "question"), "q0") == 0;
    }
    assert_true(has_new);
    assert_false(has_q0); /* the least asked, longest unasked went */
    cJSON_Delete(list);
    /* asking a known question again drops nothing */
    assert_int_equal(note(f->kb, "q5", "slack"), 0);
    assert_int_equal(tidy(f->kb, 0, 1000), 0);
    assert_int_equal(unanswered_len(f->kb), 10000);
}

static void kb_unanswered_is_not_a_change_to_the_knowledge(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    uint64_t stamp = kb_stamp(f->kb);
    assert_int_equal(note(f->kb, "Who pays?", "slack"), 0);
    /* the matcher's caches stay valid; export and audit log are as they were */
    assert_int_equal(kb_stamp(f->kb), stamp);
    assert_unchanged(f->kb, &s);
    cJSON *doc = export_doc(f->kb);
    assert_null(cJSON_GetObjectItem(doc, "unanswered"));
    cJSON_Delete(doc);
}

static void kb_unanswered_on_a_readonly_database_lists_but_records_nothing(void **state)
{
    struct fx *f = *state;
    assert_int_equal(note(f->kb, "Who pays?", "slack"), 0);
    struct kb *ro = open_kb(f->path, KB_OPEN_READONLY);
    assert_int_equal(note(ro, "Who pays?", "slack"), ERR_READONLY);
    assert_errmsg_has(ro, "read-only");
    assert_int_equal(kb_unanswered_tidy(ro, 1, 10, 0, NULL), 0); /* nothing to do there */
    int64_t cleared = -1;
    assert_int_equal(kb_unanswered_clear(ro, &cleared), ERR_READONLY);
    assert_int_equal(cleared, 0);
    cJSON *list = unanswered(ro, 0);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_int_equal(num_field(cJSON_GetArrayItem(list, 0), "count"), 1);
    cJSON_Delete(list);
    kb_close(ro);
}

static int user_version_of(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A database of version 5 (no parties): read-only, it answers as it is, with no parties; opened
 * to write, it gains the table, and the audit log takes the parties' changes. */
static void kb_open_migrates_a_version_5_database_to_the_parties(void **state)
{
    struct fx *f = *state;
    kb_close(f->kb);
    f->kb = NULL;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, oldschema_5, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 5;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct kb *ro = open_kb(f->path, KB_OPEN_READONLY);
    cJSON *list = NULL;
    assert_int_equal(kb_list(ro, KB_PARTY, NULL, 1, &list), 0);
    assert_int_equal(cJSON_GetArraySize(list), 0);
    cJSON_Delete(list);
    cJSON *doc = export_doc(ro);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "parties")), 0);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "entries")) > 0);
    cJSON_Delete(doc);
    struct kb_check_report rep;
    cJSON *problems = NULL;
    assert_int_equal(kb_check(ro, 10, &rep, &problems), 0);
    assert_int_equal(rep.problems, 0);
    cJSON_Delete(problems);
    kb_close(ro);
    assert_int_equal(user_version_of(f->path), 5);

    f->kb = open_kb(f->path, 0);
    assert_int_equal(user_version_of(f->path), 6);
    int before = history_len(f->kb);
    int64_t change = 0;
    assert_int_equal(put(f->kb, KB_PARTY, "{'name': 'Russia', 'words': ['Russian', 'Moscow']}",
                         KB_PUT_ADD, &bob, &change),
                     0);
    assert_int_equal(history_len(f->kb), before + 1);
    assert_int_equal(kb_undo(f->kb, change, 0, &alice, NULL), 0);
    cJSON *p = NULL;
    assert_int_equal(kb_get(f->kb, KB_PARTY, "Russia", &p), ERR_NOTFOUND);
    assert_int_equal(kb_check(f->kb, 10, &rep, &problems), 0);
    assert_int_equal(rep.problems, 0);
    cJSON_Delete(problems);
}

static void kb_open_migrates_a_version_1_database_and_keeps_its_data(void **state)
{
    struct fx *f = *state;
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'Army cap'}", KB_PUT_EDIT, &bob, NULL),
        0);
    struct snapshot s = snap(f->kb);
    kb_close(f->kb);
    f->kb = NULL;
    /* what planbot's version 1 made: version 4's layout without the unanswered table */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, oldschema_4, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "DROP TABLE unanswered;"
                                  "PRAGMA user_version = 1;"
                                  "PRAGMA journal_mode = DELETE;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(user_version_of(f->path), 1);

    /* read-only, it cannot be read before version 5's columns are there: a clear error */
    struct kb *ro = NULL;
    char err[512];
    assert_int_equal(kb_open(&ro, f->path, KB_OPEN_READONLY, err, sizeof err), ERR_READONLY);
    assert_non_null(strstr(err, "needs its schema upgraded from version 1 to 6 but is read-only"));
    assert_int_equal(user_version_of(f->path), 1);

    /* opened to write, it is migrated and keeps everything; the entries' new fields are empty */
    f->kb = open_kb(f->path, 0);
    assert_int_equal(user_version_of(f->path), 6);
    assert_unchanged(f->kb, &s);
    cJSON *e = NULL;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "title"), "Army cap");
    assert_string_equal(str_field(e, "updated_by"), "U0BOB");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "examples")), 0);
    cJSON_Delete(e);
    /* the indexes were built again with the new column: the search and the check agree */
    cJSON *found = NULL;
    assert_int_equal(kb_search(f->kb, "army", 10, &found), 0);
    assert_true(cJSON_GetArraySize(found) >= 1);
    cJSON_Delete(found);
    struct kb_check_report rep;
    cJSON *problems = NULL;
    assert_int_equal(kb_check(f->kb, 10, &rep, &problems), 0);
    assert_int_equal(rep.problems, 0);
    cJSON_Delete(problems);
    assert_int_equal(note(f->kb, "Who pays?", "slack"), 0);
    assert_int_equal(unanswered_len(f->kb), 1);
    /* the audit log, copied into version 5's table, takes the speakers' changes too */
    int before = history_len(f->kb);
    assert_int_equal(put(f->kb, KB_SPEAKER,
                         "{'name': 'Marco Rubio', 'role': 'Secretary of State',"
                         " 'aliases': ['the top US diplomat']}",
                         KB_PUT_ADD, &bob, NULL),
                     0);
    assert_int_equal(history_len(f->kb), before + 1);
    cJSON *sp = NULL;
    assert_int_equal(kb_get(f->kb, KB_SPEAKER, "Marco Rubio", &sp), 0);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(sp, "aliases"), 0)->valuestring,
                        "the top US diplomat");
    cJSON_Delete(sp);
}

/* ---- backup and check ---- */

/* Runs sql on the database at path through a connection of its own, as another process would. */
static void exec_other(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("%s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

/* How many names in dir contain part. */
static int files_named(const char *dir, const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

/* A database at path holding the test source, two entries and a synonym, as fx_small makes. */
static struct kb *small_kb(const char *path)
{
    struct kb *kb = open_kb(path, KB_OPEN_EMPTY);
    cJSON *quote =
        make_entry("zelensky-work", "quote", "We will work on it.", "Volodymyr Zelensky", SRC_ID);
    assert_non_null(cJSON_AddStringToObject(quote, "role", "President of Ukraine"));
    assert_int_equal(
        put_json(kb, KB_SOURCE, make_source(SRC_ID, src_text), KB_PUT_ADD, &setup_actor, NULL), 0);
    assert_int_equal(put_json(kb, KB_ENTRY,
                              make_entry("army-cap", "provision", ARMY_TYPED, NULL, SRC_ID),
                              KB_PUT_ADD, &setup_actor, NULL),
                     0);
    assert_int_equal(put_json(kb, KB_ENTRY, quote, KB_PUT_ADD, &setup_actor, NULL), 0);
    assert_int_equal(put(kb, KB_SYNONYM, "{'term': 'army', 'words': ['military']}", KB_PUT_ADD,
                         &setup_actor, NULL),
                     0);
    return kb;
}

/* kb_check, asserting that it ran; the caller frees *problems. */
static struct kb_check_report check_kb(struct kb *kb, int max, cJSON **problems)
{
    struct kb_check_report rep;
    int rc = kb_check(kb, max, &rep, problems);
    if (rc)
        print_error("kb_check: %s\n", kb_errmsg(kb));
    assert_int_equal(rc, 0);
    assert_true(cJSON_IsArray(*problems));
    return rep;
}

/* Whether problems hold one of check whose text contains part. */
static int has_problem(const cJSON *problems, const char *check, const char *part)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, problems)
    {
        if (strcmp(str_field(p, "check"), check) == 0 && strstr(str_field(p, "problem"), part))
            return 1;
    }
    char *all = cJSON_Print(problems);
    print_error("no %s problem saying \"%s\" in %s\n", check, part, all);
    cJSON_free(all);
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void kb_backup_copies_everything_into_a_planbot_database(void **state)
{
    struct fx *f = *state;
    assert_int_equal(note(f->kb, "Who pays?", "slack"), 0);
    char copy[256];
    fx_path(f, copy, sizeof copy, "backup.db");
    struct kb_backup_stats st;
    int rc = kb_backup(f->kb, copy, &st);
    if (rc)
        print_error("kb_backup: %s\n", kb_errmsg(f->kb));
    assert_int_equal(rc, 0);
    assert_int_equal(st.counts.entries, 2);
    assert_int_equal(st.counts.sources, 1);
    assert_int_equal(st.counts.synonyms, 1);
    assert_int_equal(st.counts.changes, history_len(f->kb));
    struct stat sb;
    assert_int_equal(stat(copy, &sb), 0);
    assert_int_equal(st.bytes, sb.st_size);
    assert_int_equal(sb.st_mode & 0777, 0600); /* it holds what people asked */
    /* One self-contained file, out of WAL mode (header bytes 18 and 19 are 1), no temporary. */
    unsigned char header[20];
    FILE *in = fopen(copy, "rb");
    assert_non_null(in);
    assert_int_equal(fread(header, 1, sizeof header, in), sizeof header);
    fclose(in);
    assert_int_equal(header[18], 1);
    assert_int_equal(header[19], 1);
    assert_int_equal(files_named(f->dir, "backup.db"), 1);

    /* It opens as a planbot database and holds all of it, the declined questions too. */
    struct snapshot s = snap(f->kb);
    struct kb *b = open_kb(copy, KB_OPEN_READONLY);
    assert_unchanged(b, &s);
    assert_int_equal(unanswered_len(b), 1);
    cJSON *problems;
    assert_int_equal(check_kb(b, 10, &problems).problems, 0);
    cJSON_Delete(problems);
    kb_close(b);
    assert_int_equal(files_named(f->dir, "backup.db"), 1);
    /* A second backup replaces the first. */
    assert_int_equal(
        put(f->kb, KB_ENTRY, "{'id': 'army-cap', 'title': 'Later'}", KB_PUT_EDIT, &alice, NULL), 0);
    assert_int_equal(kb_backup(f->kb, copy, NULL), 0);
    b = open_kb(copy, KB_OPEN_READONLY);
    cJSON *e = NULL;
    assert_int_equal(kb_get(b, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "title"), "Later");
    cJSON_Delete(e);
    kb_close(b);
}

/* The inbox of f's knowledge base with two questions, one of them answered. */
static void fill_inbox(struct fx *f)
{
    struct inbox *ib;
    char err[512];
    assert_int_equal(inbox_open(&ib, f->path, err, sizeof err), 0);
    struct inbox_question q[2] = {
        { 0, "slack", "EvOpen", 1764000000, "U1", "C1", "", 0, "Who pays?", 9, 1 },
        { 0, "slack", "EvDone", 1764000000, "U1", "C1", "", 0, "Who signs?", 10, 1 },
    };
    int rc[2];
    assert_int_equal(inbox_add(ib, q, 2, rc), 0);
    struct inbox_settle done = { q[1].n, 1 };
    assert_int_equal(inbox_settle(ib, &done, 1, (int64_t)time(NULL)), 0);
    inbox_close(ib);
}

static void kb_backup_and_kb_check_cover_the_inbox(void **state)
{
    struct fx *f = *state;
    /* without an inbox (the command line alone): nothing of it, and nothing beside the copy */
    cJSON *problems;
    struct kb_check_report rep = check_kb(f->kb, 10, &problems);
    cJSON_Delete(problems);
    assert_int_equal(rep.counts.inbox_open, -1);
    char copy[256], copy_inbox[300];
    fx_path(f, copy, sizeof copy, "with-inbox.db");
    snprintf(copy_inbox, sizeof copy_inbox, "%s.inbox", copy);
    struct kb_backup_stats st;
    assert_int_equal(kb_backup(f->kb, copy, &st), 0);
    assert_int_equal(st.inbox_bytes, 0);
    assert_false(file_exists(copy_inbox));

    fill_inbox(f);
    rep = check_kb(f->kb, 10, &problems);
    assert_int_equal(rep.problems, 0);
    cJSON_Delete(problems);
    assert_int_equal(rep.counts.inbox_open, 1);
    assert_int_equal(rep.counts.inbox_settled, 1);
    /* the backup holds the inbox beside the knowledge base, as planbot opens them */
    int rc = kb_backup(f->kb, copy, &st);
    if (rc)
        print_error("kb_backup: %s\n", kb_errmsg(f->kb));
    assert_int_equal(rc, 0);
    assert_true(st.inbox_bytes > 0);
    assert_int_equal(st.counts.inbox_open, 1);
    assert_int_equal(st.counts.inbox_settled, 1);
    struct stat sb;
    assert_int_equal(stat(copy_inbox, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(files_named(f->dir, ".tmp."), 0);
    struct inbox *ib;
    char err[512];
    assert_int_equal(inbox_open(&ib, copy, err, sizeof err), 0);
    int64_t open = 0, settled = 0;
    assert_int_equal(inbox_count(ib, &open, &settled), 0);
    assert_int_equal(open, 1);
    assert_int_equal(settled, 1);
    inbox_close(ib);
    /* the live inbox and its files are never a target */
    char live_inbox[300];
    snprintf(live_inbox, sizeof live_inbox, "%s.inbox", f->path);
    assert_int_equal(kb_backup(f->kb, live_inbox, NULL), ERR_INVAL);
    char live_wal[320];
    snprintf(live_wal, sizeof live_wal, "%s-wal", live_inbox);
    assert_int_equal(kb_backup(f->kb, live_wal, NULL), ERR_INVAL);
    /* damage to the inbox is a problem kb check names */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(live_inbox, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE inbox SET settled = NULL WHERE event = 'EvDone'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    rep = check_kb(f->kb, 10, &problems);
    assert_int_equal(rep.problems, 1);
    const cJSON *p = cJSON_GetArrayItem(problems, 0);
    assert_string_equal(str_field(p, "check"), "inbox");
    assert_non_null(
        strstr(str_field(p, "problem"), "is settled but open, or closed but never settled"));
    cJSON_Delete(problems);
}

static void kb_backup_takes_one_snapshot_while_another_process_writes(void **state)
{
    struct fx *f = *state;
    sqlite3 *other;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE; UPDATE entries SET title = 'Not yet'"
                                  " WHERE id = 'army-cap'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    char copy[256];
    fx_path(f, copy, sizeof copy, "during.db");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = kb_backup(f->kb, copy, NULL);
    double took = seconds_since(&t0);
    if (rc)
        print_error("kb_backup: %s\n", kb_errmsg(f->kb));
    assert_int_equal(rc, 0);
    assert_true(took < KB_BUSY_MS / 2000.0); /* it did not wait for the writer */
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);

    /* The copy holds what was committed when it was taken; the database the later write. */
    struct kb *b = open_kb(copy, KB_OPEN_READONLY);
    cJSON *e = NULL;
    assert_int_equal(kb_get(b, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "title"), "A title");
    cJSON_Delete(e);
    kb_close(b);
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "army-cap", &e), 0);
    assert_string_equal(str_field(e, "title"), "Not yet");
    cJSON_Delete(e);
}

enum { MAKE_NOTHING, MAKE_HARD_LINK, MAKE_SYMLINK, MAKE_FOLDER };

static const struct {
    const char *target; /* in the test's folder, or absolute */
    int make;           /* what to make there first */
    int err;
    const char *says; /* in the message */
} backup_refusals[] = {
    { "kb.db", MAKE_NOTHING, ERR_INVAL, "is the knowledge base itself" },
    { "kb.db-wal", MAKE_NOTHING, ERR_INVAL, "is the knowledge base itself" },
    { "kb.db-shm", MAKE_NOTHING, ERR_INVAL, "is the knowledge base itself" },
    { "kb.db-journal", MAKE_NOTHING, ERR_INVAL, "is the knowledge base itself" }, /* not there */
    { "linked.db", MAKE_HARD_LINK, ERR_INVAL, "is the knowledge base itself" },
    { "symlinked.db", MAKE_SYMLINK, ERR_INVAL, "is the knowledge base itself" },
    { "folder", MAKE_FOLDER, ERR_INVAL, "is a folder" },
    { "/dev/null", MAKE_NOTHING, ERR_INVAL, "is not a regular file" },
    { "/dev/full", MAKE_NOTHING, ERR_INVAL, "is not a regular file" },
    { "", MAKE_NOTHING, ERR_INVAL, "needs a file name" },
    { "no/such/folder/x.db", MAKE_NOTHING, ERR_IO, "No such file or directory" },
};

static void kb_backup_refuses_targets_that_would_lose_data(void **state)
{
    struct fx *f = *state;
    struct snapshot s = snap(f->kb);
    for (size_t i = 0; i < sizeof backup_refusals / sizeof backup_refusals[0]; i++) {
        char target[256];
        if (backup_refusals[i].target[0] == '/' || !backup_refusals[i].target[0])
            snprintf(target, sizeof target, "%s", backup_refusals[i].target);
        else
            fx_path(f, target, sizeof target, backup_refusals[i].target);
        switch (backup_refusals[i].make) {
        case MAKE_HARD_LINK: assert_int_equal(link(f->path, target), 0); break;
        case MAKE_SYMLINK: assert_int_equal(symlink(f->path, target), 0); break;
        case MAKE_FOLDER: assert_int_equal(mkdir(target, 0755), 0); break;
        }
        int rc = kb_backup(f->kb, target, NULL);
        if (rc != backup_refusals[i].err || !strstr(kb_errmsg(f->kb), backup_refusals[i].says))
            fail_msg("row %zu (%s): %d \"%s\"", i, target, rc, kb_errmsg(f->kb));
        if (*target)
            assert_non_null(strstr(kb_errmsg(f->kb), target)); /* the message names the file */
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", target, (long)getpid());
        assert_false(file_exists(tmp));
    }
    assert_int_equal(files_named(f->dir, ".tmp."), 0);
    assert_unchanged(f->kb, &s);
    kb_close(f->kb);
    f->kb = open_kb(f->path, 0); /* the database is whole */
    assert_int_equal(kb_count_entries(f->kb), 2);
}

static void kb_backup_that_cannot_be_written_leaves_the_target_as_it_was(void **state)
{
    struct fx *f = *state;
    char target[256];
    fx_path(f, target, sizeof target, "old.db");
    FILE *out = fopen(target, "w");
    assert_non_null(out);
    fputs("the previous backup\n", out);
    fclose(out);
    /* Files may grow to two pages only: writing the copy fails with EFBIG. */
    struct rlimit was, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &was), 0);
    small = was;
    small.rlim_cur = 8192;
    void (*handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = kb_backup(f->kb, target, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &was), 0);
    signal(SIGXFSZ, handler);
    assert_int_equal(rc, ERR_IO);
    assert_errmsg_has(f->kb, "cannot write the backup");
    assert_errmsg_has(f->kb, target);
    char text[64] = "";
    FILE *in = fopen(target, "r");
    assert_non_null(in);
    assert_non_null(fgets(text, sizeof text, in));
    fclose(in);
    assert_string_equal(text, "the previous backup\n");
    assert_int_equal(files_named(f->dir, ".tmp."), 0);
}

static void kb_backup_into_a_read_only_folder_is_a_readonly_error(void **state)
{
    struct fx *f = *state;
    char ro[256], target[300];
    fx_path(f, ro, sizeof ro, "ro");
    assert_int_equal(mkdir(ro, 0555), 0);
    assert_int_equal(chmod(f->dir, 0755), 0);
    snprintf(target, sizeof target, "%s/copy.db", ro);
    if (geteuid() == 0) { /* root writes any folder: be an ordinary user, as in the test above */
        const uid_t nobody = 65534;
        assert_int_equal(setresgid(nobody, nobody, 0), 0);
        f->dropped_uid = 1;
        assert_int_equal(setresuid(nobody, nobody, 0), 0);
    }
    assert_int_equal(kb_backup(f->kb, target, NULL), ERR_READONLY);
    assert_errmsg_has(f->kb, "read-only");
    assert_errmsg_has(f->kb, target);
    assert_int_equal(files_named(ro, "copy.db"), 0);
}

static void kb_check_finds_a_new_database_consistent(void **state)
{
    struct fx *f = *state;
    f->kb = open_kb(f->path, 0); /* the bundled knowledge base */
    cJSON *problems;
    struct kb_check_report rep = check_kb(f->kb, 10, &problems);
    assert_int_equal(rep.problems, 0);
    assert_int_equal(cJSON_GetArraySize(problems), 0);
    cJSON_Delete(problems);
    assert_int_equal(rep.counts.entries, kb_count_entries(f->kb));
    assert_true(rep.counts.entries > 0);
    assert_int_equal(rep.counts.sources, 1);
    assert_true(rep.counts.synonyms > 0);
    assert_int_equal(rep.counts.changes, history_len(f->kb));
}

/* Damage done behind planbot's back, and what kb_check says about it. */
static const struct {
    const char *sql;
    const char *check; /* the problem's check */
    const char *says;  /* in its text */
} damage_cases[] = {
    { "INSERT INTO entries_fts(entries_fts, rowid, title, text, speaker, role, keywords)"
      " SELECT 'delete', n, title, text, speaker, role, keywords FROM entries WHERE id = "
      "'army-cap'",
      "fts", "the search index entries_fts does not match the entries" },
    { "INSERT INTO entries_words(entries_words, rowid, title, text, speaker, role, keywords)"
      " SELECT 'delete', n, title, text, speaker, role, keywords FROM entries WHERE id = "
      "'army-cap'",
      "fts", "the search index entries_words does not match the entries" },
    { "DROP TRIGGER entries_au; UPDATE entries SET text = 'Invented words.' WHERE id = 'army-cap'",
      "verbatim", "entry \"army-cap\": its text is not in the text of source \"" SRC_ID "\"" },
    { "DROP TRIGGER entries_au; UPDATE entries SET text = 'Invented words.' WHERE id = 'army-cap'",
      "fts", "the search index entries_fts does not match the entries" },
    { "DROP TRIGGER entries_ai", "fts", "the trigger entries_ai" },
    { "UPDATE entries SET text = 'Ukraine''s army will be limited to 600,000 personnel.'"
      " WHERE id = 'army-cap'",
      "verbatim", "entry \"army-cap\": its text differs from source \"" SRC_ID "\" in quotes" },
    { "UPDATE entries SET source = 'gone' WHERE id = 'army-cap'", "source",
      "entry \"army-cap\" cites source \"gone\", which does not exist" },
    { "UPDATE entries SET speaker = '' WHERE id = 'zelensky-work'", "entry",
      "entry \"zelensky-work\" is a quote without a speaker" },
    { "UPDATE entries SET speaker = 'Someone' WHERE id = 'army-cap'", "entry",
      "entry \"army-cap\" has a speaker or role but is not a quote" },
    { "PRAGMA ignore_check_constraints = ON; UPDATE entries SET kind = 'rumour'"
      " WHERE id = 'army-cap'",
      "entry", "kind \"rumour\" is not provision, quote or context" },
    { "UPDATE entries SET keywords = 'cap, army' WHERE id = 'army-cap'", "entry",
      "entry \"army-cap\": its keywords are not a JSON list" },
    { "UPDATE sources SET authors = '{}'", "source", "its authors are not a JSON list" },
    { "UPDATE synonyms SET words = 'military'", "synonym",
      "synonym \"army\": its words are not a JSON list" },
    { "UPDATE synonyms SET words = '[]'", "synonym", "its words are not a JSON list" },
    { "UPDATE synonyms SET term = 'Army '", "synonym", "so no question finds it" },
    { "INSERT INTO speakers VALUES ('Dmitry Peskov', '', 'Peskov', 'now', 't', 'now', 't')",
      "speaker", "speaker \"Dmitry Peskov\": their other names are not a JSON list" },
    { "INSERT INTO parties VALUES ('Russia', 'Russian, Moscow', 'now', 't', 'now', 't')", "party",
      "party \"Russia\": the words that name it are not a JSON list" },
    { "UPDATE changes SET after = '{broken' WHERE n = 2", "change",
      "change 2: its record after is not a JSON object" },
    { "UPDATE changes SET before = after WHERE n = 2", "change",
      "change 2: its records before and after do not fit an \"add\"" },
    { "UPDATE changes SET action = 'undo' WHERE n = 2", "change",
      "change 2: an undo that does not say what it undoes" },
    { "UPDATE changes SET action = 'undo', undoes = 99 WHERE n = 2", "change",
      "change 2 undoes change 99, which does not exist" },
};

static void kb_check_names_each_kind_of_damage(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof damage_cases / sizeof damage_cases[0]; i++) {
        char path[256], name[32];
        snprintf(name, sizeof name, "case-%zu.db", i);
        fx_path(f, path, sizeof path, name);
        struct kb *kb = small_kb(path);
        cJSON *problems;
        assert_int_equal(check_kb(kb, 100, &problems).problems, 0);
        cJSON_Delete(problems);
        exec_other(path, damage_cases[i].sql);
        struct kb_check_report rep = check_kb(kb, 100, &problems);
        if (rep.problems < 1 || !has_problem(problems, damage_cases[i].check, damage_cases[i].says))
            fail_msg("row %zu: %s", i, damage_cases[i].sql);
        assert_int_equal(rep.problems, cJSON_GetArraySize(problems));
        cJSON_Delete(problems);
        kb_close(kb);
    }
}

/* Closes the fixture's database and scribbles over a page of it: the index of entries by source. */
static void damage_a_page(struct fx *f)
{
    kb_close(f->kb); /* the last connection: the WAL is checkpointed into the file */
    f->kb = NULL;
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rootpage, (SELECT page_size FROM pragma_page_size)"
                                        " FROM sqlite_schema WHERE name = 'entries_by_source'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long page = sqlite3_column_int(st, 0), size = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    FILE *out = fopen(f->path, "r+b");
    assert_non_null(out);
    assert_int_equal(fseek(out, (page - 1) * size, SEEK_SET), 0);
    for (long i = 0; i < size; i++)
        fputc(0x5a, out);
    fclose(out);
}

static void kb_check_reports_damaged_pages_and_goes_on(void **state)
{
    struct fx *f = *state;
    damage_a_page(f);
    f->kb = open_kb(f->path, 0);
    cJSON *problems;
    struct kb_check_report rep = check_kb(f->kb, 100, &problems);
    assert_true(rep.problems >= 1);
    assert_true(has_problem(problems, "integrity", ""));
    cJSON_Delete(problems);
}

static void kb_backup_of_a_damaged_database_is_refused(void **state)
{
    struct fx *f = *state;
    damage_a_page(f);
    f->kb = open_kb(f->path, 0);
    char copy[256];
    fx_path(f, copy, sizeof copy, "copy.db");
    assert_int_equal(kb_backup(f->kb, copy, NULL), ERR_SCHEMA);
    assert_errmsg_has(f->kb, "quick_check");
    assert_errmsg_has(f->kb, "kb check");
    assert_false(file_exists(copy));
    assert_int_equal(files_named(f->dir, "copy.db"), 0);
}

static void kb_check_on_a_read_only_database_checks_the_search_index_on_a_copy(void **state)
{
    struct fx *f = *state;
    exec_other(f->path, damage_cases[0].sql);
    struct kb *ro = open_kb(f->path, KB_OPEN_READONLY);
    cJSON *problems;
    struct kb_check_report rep = check_kb(ro, 100, &problems);
    assert_int_equal(rep.problems, 1);
    assert_true(has_problem(problems, "fts", "entries_fts does not match"));
    cJSON_Delete(problems);
    kb_close(ro);
}

static void kb_check_does_not_wait_for_a_writer(void **state)
{
    struct fx *f = *state;
    exec_other(f->path, damage_cases[0].sql);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other,
                                  "BEGIN IMMEDIATE; UPDATE synonyms SET words = '[\"troops\"]'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *problems;
    struct kb_check_report rep = check_kb(f->kb, 100, &problems);
    double took = seconds_since(&t0);
    assert_true(took < KB_BUSY_MS / 2000.0); /* FTS5's check ran on a copy */
    assert_int_equal(rep.problems, 1);
    assert_true(has_problem(problems, "fts", "entries_fts does not match"));
    cJSON_Delete(problems);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
}

static void kb_check_lists_at_most_max_problems_and_counts_them_all(void **state)
{
    struct fx *f = *state;
    exec_other(f->path, "UPDATE entries SET keywords = 'x'; UPDATE synonyms SET words = 'x';"
                        "UPDATE sources SET authors = 'x'");
    cJSON *problems;
    struct kb_check_report rep = check_kb(f->kb, 2, &problems);
    assert_int_equal(rep.problems, 4);
    assert_int_equal(cJSON_GetArraySize(problems), 2);
    cJSON_Delete(problems);
}

#define DIR_TEST(fn)   cmocka_unit_test_setup_teardown(fn, fx_dir, fx_teardown)
#define SMALL_TEST(fn) cmocka_unit_test_setup_teardown(fn, fx_small, fx_teardown)

/* kb_uncovered lists the sentences of a stored source that no entry holds, in order, and leaves
 * out headings, the credit line and the copyright notice. */
static void kb_uncovered_lists_the_sentences_no_entry_holds(void **state)
{
    struct fx *f = *state;
    int64_t base = -1, total = -1;
    cJSON *list = NULL;
    assert_int_equal(kb_uncovered(f->kb, 100, &base, &list), 0); /* the fixture's source */
    cJSON_Delete(list);
    assert_int_equal(
        put(f->kb, KB_SOURCE,
            "{'id': 'memo', 'title': 'A memo', 'authors': ['Ann Lee'],"
            " 'contributors': ['Bo Chan', 'Cy Diaz'],"
            " 'text': 'A Heading\\nFirst fact. Second fact here! Third \\u201cquoted\\u201d"
            " fact.\\nBo Chan and Cy Diaz contributed to this memo.\\n\\u00a9 2025 X Inc."
            " All rights reserved.\\n'}",
            KB_PUT_ADD, &alice, NULL),
        0);
    static const char *const want[] = { "First fact.", "Second fact here!",
                                        "Third \u201cquoted\u201d fact." };
    assert_int_equal(kb_uncovered(f->kb, 100, &total, &list), 0);
    assert_int_equal(total, base + 3);
    assert_int_equal(cJSON_GetArraySize(list), total);
    for (int k = 0; k < 3; k++) {
        const cJSON *item = cJSON_GetArrayItem(list, (int)base + k);
        assert_string_equal(str_field(item, "source"), "memo");
        assert_string_equal(str_field(item, "sentence"), want[k]);
    }
    cJSON_Delete(list);

    /* an entry holding two of them: one is left; the cap limits the list, not the count */
    assert_int_equal(put(f->kb, KB_ENTRY,
                         "{'id': 'memo-facts', 'kind': 'context', 'title': 'Facts',"
                         " 'text': 'First fact. Second fact here!', 'source': 'memo'}",
                         KB_PUT_ADD, &alice, NULL),
                     0);
    assert_int_equal(kb_uncovered(f->kb, 100, &total, &list), 0);
    assert_int_equal(total, base + 1);
    assert_string_equal(str_field(cJSON_GetArrayItem(list, (int)base), "sentence"), want[2]);
    cJSON_Delete(list);
    assert_int_equal(kb_uncovered(f->kb, 0, &total, &list), 0);
    assert_int_equal(total, base + 1);
    assert_int_equal(cJSON_GetArraySize(list), 1); /* at least one */
    cJSON_Delete(list);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        DIR_TEST(kb_open_new_path_creates_database_with_bundled_data),
        DIR_TEST(kb_open_empty_flag_creates_empty_database),
        DIR_TEST(kb_open_reopen_keeps_data),
        DIR_TEST(kb_open_readonly_flag_needs_existing_database),
        DIR_TEST(kb_open_directory_is_refused),
        DIR_TEST(kb_open_not_a_database_is_schema_error),
        DIR_TEST(kb_open_foreign_tables_is_schema_error),
        DIR_TEST(kb_open_newer_schema_version_is_schema_error),
        SMALL_TEST(kb_put_add_refuses_existing_id),
        SMALL_TEST(kb_put_edit_keeps_absent_fields),
        SMALL_TEST(kb_put_edit_of_missing_record_is_notfound),
        SMALL_TEST(kb_put_edit_without_change_records_nothing),
        SMALL_TEST(kb_put_upsert_adds_then_replaces_whole),
        SMALL_TEST(kb_put_synonym_term_is_lowercase_and_trimmed),
        SMALL_TEST(kb_put_rejects_invalid_records_and_names_the_field),
        SMALL_TEST(kb_put_rejects_oversized_lists),
        SMALL_TEST(kb_put_requires_an_actor),
        SMALL_TEST(kb_put_stores_the_source_bytes_of_typed_text),
        SMALL_TEST(kb_put_refuses_text_not_in_the_source),
        SMALL_TEST(kb_put_source_without_text_accepts_any_entry_text),
        SMALL_TEST(kb_put_refuses_source_text_that_drops_an_entry),
        SMALL_TEST(kb_put_accepts_source_text_that_keeps_its_entries),
        SMALL_TEST(kb_put_accepts_real_dates),
        SMALL_TEST(kb_remove_refuses_a_cited_source),
        SMALL_TEST(kb_history_records_every_change_with_who_and_via),
        SMALL_TEST(kb_get_shows_who_created_and_updated),
        SMALL_TEST(kb_change_shows_before_and_after),
        SMALL_TEST(kb_undo_of_add_removes_the_record),
        SMALL_TEST(kb_undo_of_edit_restores_the_earlier_record),
        SMALL_TEST(kb_undo_of_remove_restores_the_record),
        SMALL_TEST(kb_undo_refuses_after_a_later_change_unless_forced),
        SMALL_TEST(kb_undo_twice_is_refused),
        SMALL_TEST(kb_undo_of_an_undo_redoes),
        SMALL_TEST(kb_undo_of_unknown_change_is_notfound),
        SMALL_TEST(kb_import_counts_added_updated_unchanged),
        SMALL_TEST(kb_import_counts_records_named_in_other_spelling_as_updated),
        SMALL_TEST(kb_import_dry_run_changes_nothing),
        SMALL_TEST(kb_import_replace_removes_what_the_file_lacks),
        SMALL_TEST(kb_import_syntax_error_names_line_and_column),
        SMALL_TEST(kb_import_invalid_record_names_its_line_and_imports_nothing),
        SMALL_TEST(kb_import_with_many_errors_keeps_the_summary),
        SMALL_TEST(kb_import_reports_duplicate_ids),
        SMALL_TEST(kb_import_checks_format_and_version),
        DIR_TEST(kb_export_import_round_trips),
        SMALL_TEST(kb_search_finds_entries),
        SMALL_TEST(kb_search_treats_fts5_syntax_as_plain_text),
        SMALL_TEST(kb_search_without_words_is_invalid),
        SMALL_TEST(kb_readonly_file_opens_but_refuses_writes),
        SMALL_TEST(kb_locked_database_makes_put_busy),
        SMALL_TEST(kb_stamp_changes_with_every_write),
        SMALL_TEST(kb_read_hold_keeps_one_snapshot_until_released_or_a_write),
        SMALL_TEST(kb_card_is_cached_until_the_data_changes),
        SMALL_TEST(kb_list_filters_and_brief),
        SMALL_TEST(kb_unanswered_counts_variants_of_a_question_as_one),
        SMALL_TEST(kb_unanswered_lists_the_most_asked_first),
        SMALL_TEST(kb_unanswered_drops_questions_older_than_keep_days),
        SMALL_TEST(kb_unanswered_clear_forgets_all_and_is_not_a_knowledge_change),
        SMALL_TEST(kb_unanswered_keeps_500_bytes_cut_between_characters),
        SMALL_TEST(kb_unanswered_skips_questions_with_nothing_in_them),
        SMALL_TEST(kb_unanswered_notes_a_batch_in_one_transaction),
        SMALL_TEST(kb_unanswered_keeps_at_most_10000_questions),
        SMALL_TEST(kb_unanswered_is_not_a_change_to_the_knowledge),
        SMALL_TEST(kb_unanswered_on_a_readonly_database_lists_but_records_nothing),
        SMALL_TEST(kb_open_migrates_a_version_1_database_and_keeps_its_data),
        SMALL_TEST(kb_open_migrates_a_version_5_database_to_the_parties),
        SMALL_TEST(kb_uncovered_lists_the_sentences_no_entry_holds),
        cmocka_unit_test(kb_type_names_round_trip),
        SMALL_TEST(kb_backup_copies_everything_into_a_planbot_database),
        SMALL_TEST(kb_backup_and_kb_check_cover_the_inbox),
        SMALL_TEST(kb_backup_takes_one_snapshot_while_another_process_writes),
        SMALL_TEST(kb_backup_refuses_targets_that_would_lose_data),
        SMALL_TEST(kb_backup_that_cannot_be_written_leaves_the_target_as_it_was),
        SMALL_TEST(kb_backup_into_a_read_only_folder_is_a_readonly_error),
        DIR_TEST(kb_check_finds_a_new_database_consistent),
        DIR_TEST(kb_check_names_each_kind_of_damage),
        SMALL_TEST(kb_check_reports_damaged_pages_and_goes_on),
        SMALL_TEST(kb_backup_of_a_damaged_database_is_refused),
        SMALL_TEST(kb_check_on_a_read_only_database_checks_the_search_index_on_a_copy),
        SMALL_TEST(kb_check_does_not_wait_for_a_writer),
        SMALL_TEST(kb_check_lists_at_most_max_problems_and_counts_them_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
