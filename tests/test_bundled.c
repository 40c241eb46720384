/* test_bundled.c - the knowledge base compiled into planbot: every entry quotes its source byte for
 * byte, ids follow the slug rule, quotes have speakers, synonyms have words, the stored article is
 * the shared source document, and a fresh database exports exactly knowledge/bundled.json. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testdir.h"

#include "buf.h"
#include "err.h"
#include "kb.h"

struct fx {
    char dir[64];
    char path[128];
    struct kb *kb;  /* a fresh database holding the bundled knowledge base */
    cJSON *sources; /* kb_list of each type, in full */
    cJSON *entries;
    cJSON *synonyms;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-test-bundled-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    char err[1024];
    if (kb_open(&f->kb, f->path, 0, err, sizeof err)) {
        print_error("kb_open: %s\n", err);
        return -1;
    }
    if (kb_list(f->kb, KB_SOURCE, NULL, 0, &f->sources) ||
        kb_list(f->kb, KB_ENTRY, NULL, 0, &f->entries) ||
        kb_list(f->kb, KB_SYNONYM, NULL, 0, &f->synonyms)) {
        print_error("kb_list: %s\n", kb_errmsg(f->kb));
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    cJSON_Delete(f->sources);
    cJSON_Delete(f->entries);
    cJSON_Delete(f->synonyms);
    kb_close(f->kb);
    if (f->dir[0])
        testdir_remove(f->dir);
    free(f);
    return 0;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    struct buf b;
    buf_init(&b, 64 * 1024 * 1024);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        rc = buf_append(&b, chunk, n);
    int bad = rc || ferror(fp);
    fclose(fp);
    if (bad) {
        buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return buf_take(&b);
}

/* The path of a file under the folder an environment variable names, or 0 when it is unset. */
static int env_path(char *out, size_t len, const char *var, const char *rel)
{
    const char *root = getenv(var);
    if (!root || !*root)
        return 0;
    int n = snprintf(out, len, "%s/%s", root, rel);
    assert_true(n > 0 && (size_t)n < len);
    return 1;
}

static void bundled_has_entries_sources_and_synonyms(void **state)
{
    struct fx *f = *state;
    assert_true(cJSON_GetArraySize(f->sources) >= 1);
    assert_true(cJSON_GetArraySize(f->entries) > 50);
    assert_true(cJSON_GetArraySize(f->synonyms) >= 1);
    assert_int_equal(kb_count_entries(f->kb), cJSON_GetArraySize(f->entries));
}

static void bundled_entry_text_is_verbatim_in_its_source(void **state)
{
    struct fx *f = *state;
    int bad = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, f->entries)
    {
        const char *id = str_field(e, "id"), *text = str_field(e, "text");
        const char *src_id = str_field(e, "source");
        assert_non_null(id);
        assert_non_null(text);
        assert_non_null(src_id);
        cJSON *src = NULL;
        if (kb_get(f->kb, KB_SOURCE, src_id, &src)) {
            print_error("entry %s: no source \"%s\"\n", id, src_id);
            bad++;
            continue;
        }
        const char *src_text = str_field(src, "text");
        if (!src_text) {
            print_error("entry %s: source \"%s\" stores no text to check against\n", id, src_id);
            bad++;
        } else if (!*text || !strstr(src_text, text)) {
            print_error("entry %s: text is not byte for byte in source \"%s\": \"%s\"\n", id,
                        src_id, text);
            bad++;
        }
        cJSON_Delete(src);
    }
    assert_int_equal(bad, 0);
}

/* The slug rule of ids: 1 to 64 lowercase ASCII letters, digits and '-', starting with a letter
 * or digit. */
static int is_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Checks that the key of every record in arr is unique (and a slug when slug is set); returns the
 * number of problems, each printed. */
static int check_keys(const cJSON *arr, const char *what, const char *key, int slug)
{
    int n = cJSON_GetArraySize(arr), k = 0, bad = 0;
    const char **ids = calloc((size_t)n + 1, sizeof *ids);
    assert_non_null(ids);
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        const char *id = str_field(r, key);
        if (!id) {
            print_error("%s %d has no %s\n", what, k, key);
            bad++;
            continue;
        }
        if (slug && !is_slug(id)) {
            print_error("%s id \"%s\" is not a slug (a-z, 0-9, '-', at most 64)\n", what, id);
            bad++;
        }
        ids[k++] = id;
    }
    qsort(ids, (size_t)k, sizeof *ids, cmp_str);
    for (int i = 1; i < k; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) {
            print_error("%s \"%s\" appears more than once\n", what, ids[i]);
            bad++;
        }
    free(ids);
    return bad;
}

static void bundled_ids_are_unique_slugs(void **state)
{
    struct fx *f = *state;
    int bad = check_keys(f->entries, "entry", "id", 1) + check_keys(f->sources, "source", "id", 1) +
              check_keys(f->synonyms, "synonym", "term", 0);
    assert_int_equal(bad, 0);
}

static void bundled_file_ids_are_unique(void **state)
{
    (void)state;
    /* The database would merge duplicates silently (a later record replaces an earlier one), so
     * check the file itself too. */
    char path[4096];
    if (!env_path(path, sizeof path, "PLANBOT_SOURCE", "knowledge/bundled.json")) {
        print_message("PLANBOT_SOURCE is not set (ctest sets it): skipping\n");
        skip();
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        print_error("cannot read %s\n", path);
    assert_non_null(text);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(doc);
    int bad = check_keys(cJSON_GetObjectItem(doc, "entries"), "entry", "id", 1) +
              check_keys(cJSON_GetObjectItem(doc, "sources"), "source", "id", 1) +
              check_keys(cJSON_GetObjectItem(doc, "synonyms"), "synonym", "term", 0);
    cJSON_Delete(doc);
    assert_int_equal(bad, 0);
}

static void bundled_quotes_have_speakers(void **state)
{
    struct fx *f = *state;
    int quotes = 0, bad = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, f->entries)
    {
        const char *kind = str_field(e, "kind"), *speaker = str_field(e, "speaker");
        assert_non_null(kind);
        if (strcmp(kind, "quote") != 0)
            continue;
        quotes++;
        if (!speaker || !*speaker) {
            print_error("quote %s has no speaker\n", str_field(e, "id"));
            bad++;
        }
    }
    assert_true(quotes > 0);
    assert_int_equal(bad, 0);
}

static void bundled_synonym_words_are_not_empty(void **state)
{
    struct fx *f = *state;
    int bad = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, f->synonyms)
    {
        const char *term = str_field(s, "term");
        const cJSON *words = cJSON_GetObjectItemCaseSensitive(s, "words");
        if (!term || !*term) {
            print_error("a synonym has an empty term\n");
            bad++;
            continue;
        }
        if (!cJSON_IsArray(words) || cJSON_GetArraySize(words) == 0) {
            print_error("synonym \"%s\" has no words\n", term);
            bad++;
            continue;
        }
        const cJSON *w;
        cJSON_ArrayForEach(w, words)
        {
            const char *p = cJSON_IsString(w) ? w->valuestring : NULL;
            while (p && (*p == ' ' || *p == '\t'))
                p++;
            if (!p || !*p) {
                print_error("synonym \"%s\" has an empty word\n", term);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* The source the entries cite most: the article the bundled knowledge base was built from. */
static const cJSON *main_source(struct fx *f)
{
    const cJSON *best = NULL;
    int best_n = -1;
    const cJSON *s;
    cJSON_ArrayForEach(s, f->sources)
    {
        int n = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, f->entries)
        {
            n += strcmp(str_field(e, "source"), str_field(s, "id")) == 0;
        }
        if (n > best_n) {
            best = s;
            best_n = n;
        }
    }
    return best;
}

static void bundled_source_text_is_the_shared_article(void **state)
{
    struct fx *f = *state;
    char path[4096];
    if (!env_path(path, sizeof path, "PLANBOT_SHARED", "source/plan-article.txt") ||
        access(path, F_OK) != 0) {
        print_message("the shared article (PLANBOT_SHARED/source/plan-article.txt) is not here: "
                      "skipping the comparison with the stored source text\n");
        skip();
    }
    size_t len;
    char *article = read_file(path, &len);
    if (!article)
        print_error("cannot read %s\n", path);
    assert_non_null(article);
    const cJSON *src = main_source(f);
    assert_non_null(src);
    const char *text = str_field(src, "text");
    assert_non_null(text);
    size_t tlen = strlen(text);
    if (tlen != len || memcmp(text, article, len) != 0) {
        size_t i = 0;
        while (i < len && i < tlen && text[i] == article[i])
            i++;
        print_error("source \"%s\" differs from %s at byte %zu (lengths %zu and %zu)\n",
                    str_field(src, "id"), path, i, tlen, len);
    }
    assert_int_equal(tlen, len);
    assert_memory_equal(text, article, len);
    free(article);
}

static void bundled_export_equals_bundled_json(void **state)
{
    struct fx *f = *state;
    char path[4096];
    if (!env_path(path, sizeof path, "PLANBOT_SOURCE", "knowledge/bundled.json")) {
        print_message("PLANBOT_SOURCE is not set (ctest sets it): skipping\n");
        skip();
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        print_error("cannot read %s\n", path);
    assert_non_null(text);
    cJSON *want = cJSON_ParseWithLength(text, len);
    free(text);
    assert_non_null(want);
    cJSON *got = NULL;
    assert_int_equal(kb_export(f->kb, &got), 0);
    int same = cJSON_Compare(want, got, 1);
    if (!same) {
        /* Name the first record that differs. */
        static const char *const sections[] = { "sources", "synonyms", "entries" };
        for (size_t s = 0; s < 3; s++) {
            const cJSON *a = cJSON_GetObjectItem(want, sections[s]);
            const cJSON *b = cJSON_GetObjectItem(got, sections[s]);
            int n = cJSON_GetArraySize(a), m = cJSON_GetArraySize(b);
            if (n != m)
                print_error("%s: %d in the file, %d exported\n", sections[s], n, m);
            for (int i = 0; i < n && i < m; i++)
                if (!cJSON_Compare(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i), 1)) {
                    char *x = cJSON_PrintUnformatted(cJSON_GetArrayItem(a, i));
                    char *y = cJSON_PrintUnformatted(cJSON_GetArrayItem(b, i));
                    print_error("%s[%d] differs:\nfile     %.600s\nexported %.600s\n", sections[s],
                                i, x, y);
                    cJSON_free(x);
                    cJSON_free(y);
                    break;
                }
        }
    }
    assert_true(same);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bundled_has_entries_sources_and_synonyms),
        cmocka_unit_test(bundled_entry_text_is_verbatim_in_its_source),
        cmocka_unit_test(bundled_ids_are_unique_slugs),
        cmocka_unit_test(bundled_file_ids_are_unique),
        cmocka_unit_test(bundled_quotes_have_speakers),
        cmocka_unit_test(bundled_synonym_words_are_not_empty),
        cmocka_unit_test(bundled_source_text_is_the_shared_article),
        cmocka_unit_test(bundled_export_equals_bundled_json),
    };
    /* One database for the whole group: the tests only read it. */
    return cmocka_run_group_tests(tests, setup, teardown);
}
