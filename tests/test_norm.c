/* test_norm.c - chat markup removal (a table of messages and their words), the word classes, and
 * a check that the word lists in knowledge/norm.c are sorted, since norm_class() bsearches them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "norm.h"
#include "utf8.h"

/* The text with runs of spaces made one and the ends trimmed: where markup leaves a space is not
 * the behaviour under test. */
static char *squeeze(const char *s)
{
    size_t n = strlen(s), k = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' && (k == 0 || out[k - 1] == ' '))
            continue;
        out[k++] = s[i];
    }
    while (k && out[k - 1] == ' ')
        k--;
    out[k] = '\0';
    return out;
}

struct clean_case {
    const char *name;
    const char *in;
    size_t len;       /* 0: strlen(in) */
    const char *want; /* after squeeze() */
};

static const struct clean_case clean_cases[] = {
    /* Handles: an @name is nobody's word, whatever platform it came from. */
    { "bot name", "@planbot what about Crimea", 0, "what about Crimea" },
    { "bot name in the middle", "hey @planbot, what about Crimea", 0, "hey , what about Crimea" },
    { "any at-name", "@someone.else: hello", 0, ": hello" },
    { "at inside a word stays", "mail a@b.com", 0, "mail a@b.com" },
    { "lone at sign stays", "a @ b", 0, "a @ b" },
    { "channel", "see #general now", 0, "see now" },
    { "number stays", "point #5 and #", 0, "point #5 and #" },
    { "hash inside a word stays", "C# and F#", 0, "C# and F#" },

    /* Bare URLs. */
    { "bare https URL", "see https://cnn.com/x?y=1 for more", 0, "see for more" },
    { "bare http URL", "http://example.com/plan", 0, "" },
    { "bare URL in capitals", "go HTTPS://X.COM/A now", 0, "go now" },
    { "URL-like word stays", "httpd is a server", 0, "httpd is a server" },

    /* A platform's markup is decoded by its codec (bot/platform/): here it is just text, left
     * to the tokenizer, which reads no word in it that the writer did not type. */
    { "angle brackets stay", "a < b and c > d", 0, "a < b and c > d" },
    { "tags stay", "<b>bold</b>", 0, "<b>bold</b>" },
    { "entities stay", "Crimea &amp; Donbas", 0, "Crimea &amp; Donbas" },
    { "colons stay", "at 10:30 today, ratio 1:2:3, question: what, fine :) ok", 0,
      "at 10:30 today, ratio 1:2:3, question: what, fine :) ok" },

    /* The country. */
    { "a percent sign is a word", "what % of donetsk, 20%?", 0,
      "what percent of donetsk, 20 percent ?" },
    { "US", "what does the US get", 0, "what does the USA get" },
    { "U.S.", "what does the U.S. get", 0, "what does the USA get" },
    { "US at the start", "US troops", 0, "USA troops" },
    { "US at the end", "troops from the US", 0, "troops from the USA" },
    { "US before punctuation", "the US? (US) US, US.", 0, "the USA? (USA) USA, USA." },

    /* "won't" is "will not", and "won" the past of "win" (the index holds won't's "won"). */
    { "won't", "what won't Ukraine get", 0, "what will not Ukraine get" },
    { "won't, curly", "Russia won\xE2\x80\x99t agree", 0, "Russia will not agree" },
    { "WON'T in capitals", "THEY WON'T", 0, "THEY will not" },
    { "won", "who won the war", 0, "who win the war" },
    { "won at the end", "who has won", 0, "who has win" },
    { "words that start with won stay", "wonder wonky wont", 0, "wonder wonky wont" },
    { "won inside a word stays", "nowon", 0, "nowon" },
    { "pronoun us unchanged", "tell us about it", 0, "tell us about it" },
    { "Us unchanged", "Us and them", 0, "Us and them" },
    { "USB unchanged", "a USB stick", 0, "a USB stick" },
    { "USA unchanged", "the USA", 0, "the USA" },
    { "inside a word unchanged", "AUS and BUS", 0, "AUS and BUS" },
    { "US_ unchanged", "US_x", 0, "US_x" },

    /* Text that is not markup is left to the tokenizer. */
    { "plain text unchanged", "What is the 28-point plan?", 0, "What is the 28-point plan?" },
    { "Cyrillic unchanged", "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2?", 0,
      "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2?" },
    { "emoji characters removed",
      "ok \xF0\x9F\x87\xBA\xF0\x9F\x87\xA6 peace\xE2\x9C\x8C\xEF\xB8\x8F", 0, "ok peace" },
    { "curly quotes unchanged", "\xE2\x80\x9Cin flux\xE2\x80\x9D", 0,
      "\xE2\x80\x9Cin flux\xE2\x80\x9D" },
    { "empty", "", 0, "" },

    /* Bytes that are not UTF-8 become spaces. */
    { "stray byte",
      "a\xFF"
      "b",
      0, "a b" },
    { "Latin-1", "caf\xE9 ok", 0, "caf ok" },
    { "truncated at the end", "plan\xC3", 0, "plan" },
    { "overlong",
      "a\xC0\xAF"
      "b",
      0, "a b" },
    { "surrogate",
      "a\xED\xA0\x80"
      "b",
      0, "a b" },
    { "NUL byte", "a\0b", 3, "a b" },

    /* Several at once, as a real message. */
    { "everything",
      "@planbot \xF0\x9F\x87\xBA\xF0\x9F\x87\xA6 what did the U.S. say & why? "
      "https://t.co/x at 10:30",
      0, "what did the USA say & why? at 10:30" },
};

static void norm_clean_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof clean_cases / sizeof clean_cases[0]; i++) {
        const struct clean_case *c = &clean_cases[i];
        size_t len = c->len ? c->len : strlen(c->in);
        char *in = malloc(len ? len : 1); /* exact size, for sanitizers */
        assert_non_null(in);
        memcpy(in, c->in, len);
        struct buf out;
        buf_init(&out, 4096);
        int rc = norm_clean(in, len, &out);
        char *got = squeeze(buf_str(&out));
        assert_non_null(got);
        if (rc || strcmp(got, c->want) != 0)
            print_error("case \"%s\": rc %d, got \"%s\", want \"%s\"\n", c->name, rc, got, c->want);
        assert_int_equal(rc, 0);
        assert_string_equal(got, c->want);
        /* Whatever came in, what goes out is valid UTF-8 without NUL bytes. */
        assert_true(utf8_valid(out.data ? out.data : "", out.len, NULL));
        free(got);
        free(in);
        buf_free(&out);
    }
}

static void norm_clean_reports_full_output(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 8);
    const char *in = "what is in the plan";
    assert_int_equal(norm_clean(in, strlen(in), &out), ERR_TOOBIG);
    assert_true(out.len <= 8);
    buf_free(&out);
}

static void norm_clean_appends_to_output(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out, 100);
    assert_int_equal(buf_puts(&out, "["), 0);
    assert_int_equal(norm_clean("plan", 4, &out), 0);
    assert_string_equal(buf_str(&out), "[plan");
    buf_free(&out);
}

struct class_case {
    const char *word;
    enum norm_class cls;
};

static const struct class_case class_cases[] = {
    { "the", NORM_STOP },         { "what", NORM_STOP },          { "is", NORM_STOP },
    { "planbot", NORM_STOP },     { "please", NORM_STOP },        { "us", NORM_STOP },
    { "big", NORM_WEAK },         { "soon", NORM_WEAK },          { "happen", NORM_WEAK },
    { "new", NORM_WEAK },         { "really", NORM_WEAK },        { "say", NORM_SAY },
    { "beforehand", NORM_WEAK },  { "later", NORM_WEAK },         { "officially", NORM_WEAK },
    { "think", NORM_SAY },        { "reaction", NORM_SAY },       { "said", NORM_SAY },
    { "opinion", NORM_SAY },      { "crimea", NORM_CONTENT },     { "nato", NORM_CONTENT },
    { "army", NORM_CONTENT },     { "sanctions", NORM_CONTENT },  { "usa", NORM_CONTENT },
    { "zelensky", NORM_CONTENT }, { "referendum", NORM_CONTENT }, { "aaa", NORM_CONTENT },
    { "zzzz", NORM_CONTENT },     { "The", NORM_CONTENT }, /* callers fold case first */
};

static const char *class_name(enum norm_class c)
{
    switch (c) {
    case NORM_CONTENT: return "content";
    case NORM_STOP: return "stop";
    case NORM_WEAK: return "weak";
    case NORM_SAY: return "say";
    }
    return "?";
}

static void norm_class_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
        const struct class_case *c = &class_cases[i];
        enum norm_class got = norm_class(c->word);
        if (got != c->cls)
            print_error("\"%s\": %s, want %s\n", c->word, class_name(got), class_name(c->cls));
        assert_int_equal(got, c->cls);
    }
}

/* ---- the word lists of norm.c, read from the source ---- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b, 4 * 1024 * 1024);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(&b, chunk, n)) {
            buf_free(&b);
            fclose(f);
            return NULL;
        }
    fclose(f);
    return buf_take(&b);
}

/* The class a list of norm.c stands for, from its name; -1 for an unknown list. */
static int list_class(const char *name, size_t len)
{
    static const struct {
        const char *name;
        enum norm_class cls;
    } lists[] = { { "stop_words", NORM_STOP },
                  { "weak_words", NORM_WEAK },
                  { "say_words", NORM_SAY } };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (strlen(lists[i].name) == len && memcmp(lists[i].name, name, len) == 0)
            return (int)lists[i].cls;
    return -1;
}

static void norm_word_lists_are_sorted(void **state)
{
    (void)state;
    const char *root = getenv("PLANBOT_SOURCE");
    if (!root || !*root) {
        print_message("PLANBOT_SOURCE is not set (ctest sets it): skipping the word list check\n");
        skip();
    }
    char path[4096];
    int pn = snprintf(path, sizeof path, "%s/knowledge/norm.c", root);
    assert_true(pn > 0 && (size_t)pn < sizeof path);
    char *src = read_file(path);
    if (!src)
        print_error("cannot read %s\n", path);
    assert_non_null(src);

    /* Every "static const char *const <name>_words[] = { "...", ... };" */
    int lists = 0, words = 0, bad = 0;
    for (const char *p = strstr(src, "_words[] = {"); p; p = strstr(p + 1, "_words[] = {")) {
        const char *end = p + strlen("_words");
        const char *name = p;
        while (name > src && (name[-1] == '_' || (name[-1] >= 'a' && name[-1] <= 'z')))
            name--;
        int cls = list_class(name, (size_t)(end - name));
        if (cls < 0)
            print_error("%s: list %.*s has no class in this test: add it\n", path,
                        (int)(end - name), name);
        assert_true(cls >= 0);
        lists++;
        const char *q = strchr(p, '{') + 1, *close = strstr(q, "};");
        assert_non_null(close);
        char prev[128] = "";
        while ((q = memchr(q, '"', (size_t)(close - q))) != NULL) {
            const char *e = memchr(q + 1, '"', (size_t)(close - q - 1));
            assert_non_null(e);
            char w[128];
            size_t wn = (size_t)(e - q - 1);
            assert_true(wn < sizeof w);
            memcpy(w, q + 1, wn);
            w[wn] = '\0';
            if (*prev && strcmp(prev, w) >= 0) {
                print_error("%.*s: \"%s\" comes after \"%s\": the list must be sorted (strcmp) "
                            "and without repeats\n",
                            (int)(end - name), name, w, prev);
                bad++;
            }
            enum norm_class got = norm_class(w);
            if ((int)got != cls) {
                print_error("%.*s: norm_class(\"%s\") is %s, not %s\n", (int)(end - name), name, w,
                            class_name(got), class_name((enum norm_class)cls));
                bad++;
            }
            memcpy(prev, w, wn + 1);
            words++;
            q = e + 1;
        }
    }
    free(src);
    print_message("checked %d words in %d lists\n", words, lists);
    assert_true(lists >= 3);
    assert_true(words > 100);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(norm_clean_table),
        cmocka_unit_test(norm_clean_reports_full_output),
        cmocka_unit_test(norm_clean_appends_to_output),
        cmocka_unit_test(norm_class_table),
        cmocka_unit_test(norm_word_lists_are_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
