/* test_jsonpos.c - locating values in JSON text by path: a table of {text, path, line}. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"

/* An import file shaped like the real ones; the second entry's strings hold quotes, brackets,
 * braces and the names of keys, which must not confuse the scanner. */
static const char doc[] = "{\n"                                        /* 1 */
                          "  \"format\": \"planbot-kb\",\n"            /* 2 */
                          "  \"version\": 1,\n"                        /* 3 */
                          "  \"sources\": [],\n"                       /* 4 */
                          "  \"entries\": [\n"                         /* 5 */
                          "    {\n"                                    /* 6 */
                          "      \"id\": \"first\",\n"                 /* 7 */
                          "      \"kind\": \"quote\",\n"               /* 8 */
                          "      \"keywords\": [\"a\", \"b\"]\n"       /* 9 */
                          "    },\n"                                   /* 10 */
                          "    {\n"                                    /* 11 */
                          "      \"id\": \"say \\\"]}\\\" {[\",\n"     /* 12 */
                          "      \"title\": \"\\\"kind\\\": \\\\\",\n" /* 13 */
                          "      \"kin\": 0,\n"                        /* 14 */
                          "      \"text\": \"line\\nbreak } ]\",\n"    /* 15 */
                          "      \"kind\": \"bad\",\n"                 /* 16 */
                          "      \"keywords\": [\n"                    /* 17 */
                          "        \"x\",\n"                           /* 18 */
                          "        [\"[\", {\"}\": \"]\"}],\n"         /* 19 */
                          "        \"z\"\n"                            /* 20 */
                          "      ]\n"                                  /* 21 */
                          "    },\n"                                   /* 22 */
                          "    {\"id\": \"third\", \"kind\": true}\n"  /* 23 */
                          "  ],\n"                                     /* 24 */
                          "  \"synonyms\": [{\"term\": \"t\",\n"       /* 25 */
                          "    \"words\": [null, 1.5e3, false]}]\n"    /* 26 */
                          "}\n";

/* Nested arrays and objects, all on separate lines. */
static const char nested[] = "[\n"                 /* 1 */
                             "  [1, 2],\n"         /* 2 */
                             "  [\n"               /* 3 */
                             "    3,\n"            /* 4 */
                             "    [\n"             /* 5 */
                             "      4,\n"          /* 6 */
                             "      {\"a\":\n"     /* 7 */
                             "        {\"b\":\n"   /* 8 */
                             "          [\n"       /* 9 */
                             "            \"c\"\n" /* 10 */
                             "          ]}}\n"     /* 11 */
                             "    ]\n"             /* 12 */
                             "  ]\n"               /* 13 */
                             "]\n";

/* Compact, with white space of every kind between tokens. */
static const char spaced[] = "\r\n\t {\t\"a\"\r\n:\n\n[ 10 ,\r\n\t20\n, \"x\\\\\" ]\r\n}";

#define STEP_KEY(k)                                                                                \
    {                                                                                              \
        k, 0                                                                                       \
    }
#define STEP_IDX(i)                                                                                \
    {                                                                                              \
        NULL, i                                                                                    \
    }
#define MAX_DEPTH 6

struct pos_case {
    const char *name;
    const char *text;
    struct jsonpos_step path[MAX_DEPTH];
    size_t depth;
    int line;
    int col;        /* 0: not checked */
    const char *at; /* the text expected at the offset (a prefix), or NULL */
};

static const struct pos_case cases[] = {
    /* Plain paths. */
    { "root", doc, { { NULL, 0 } }, 0, 1, 1, "{" },
    { "top-level key", doc, { STEP_KEY("version") }, 1, 3, 14, "1," },
    { "top-level string", doc, { STEP_KEY("format") }, 1, 2, 13, "\"planbot-kb\"" },
    { "empty array", doc, { STEP_KEY("sources") }, 1, 4, 14, "[]" },
    { "array", doc, { STEP_KEY("entries") }, 1, 5, 14, "[" },
    { "first element", doc, { STEP_KEY("entries"), STEP_IDX(0) }, 2, 6, 5, "{" },
    { "field of first element",
      doc,
      { STEP_KEY("entries"), STEP_IDX(0), STEP_KEY("kind") },
      3,
      8,
      15,
      "\"quote\"" },
    { "list in first element",
      doc,
      { STEP_KEY("entries"), STEP_IDX(0), STEP_KEY("keywords"), STEP_IDX(1) },
      4,
      9,
      25,
      "\"b\"" },
    { "second element", doc, { STEP_KEY("entries"), STEP_IDX(1) }, 2, 11, 5, "{" },

    /* Strings with escaped quotes, brackets and braces, and keys named inside strings. */
    { "after a string with escaped quotes and brackets",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("title") },
      3,
      13,
      16,
      "\"\\\"kind" },
    { "key named inside an earlier string",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("kind") },
      3,
      16,
      15,
      "\"bad\"" },
    { "key that is a prefix of another is not it",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("kin") },
      3,
      14,
      14,
      "0," },
    { "after escaped newline and brackets",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("keywords") },
      3,
      17,
      19,
      "[" },
    { "element after nested brackets in strings",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("keywords"), STEP_IDX(2) },
      4,
      20,
      9,
      "\"z\"" },
    { "inside nested array of strings with brackets",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("keywords"), STEP_IDX(1), STEP_IDX(1),
        STEP_KEY("}") },
      6,
      19,
      21,
      "\"]\"" },
    { "third element on one line",
      doc,
      { STEP_KEY("entries"), STEP_IDX(2), STEP_KEY("kind") },
      3,
      23,
      29,
      "true" },
    { "key after the entries array",
      doc,
      { STEP_KEY("synonyms"), STEP_IDX(0), STEP_KEY("words") },
      3,
      26,
      14,
      "[null" },
    { "number in a list",
      doc,
      { STEP_KEY("synonyms"), STEP_IDX(0), STEP_KEY("words"), STEP_IDX(1) },
      4,
      26,
      21,
      "1.5e3" },
    { "literal in a list",
      doc,
      { STEP_KEY("synonyms"), STEP_IDX(0), STEP_KEY("words"), STEP_IDX(2) },
      4,
      26,
      28,
      "false" },

    /* Missing parts: the deepest part of the path that exists. */
    { "missing top-level key", doc, { STEP_KEY("nosuch") }, 1, 1, 1, "{" },
    { "index past the end", doc, { STEP_KEY("entries"), STEP_IDX(9) }, 2, 5, 14, "[" },
    { "negative index", doc, { STEP_KEY("entries"), STEP_IDX(-1) }, 2, 5, 14, "[" },
    { "missing field",
      doc,
      { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("speaker") },
      3,
      11,
      5,
      "{" },
    { "missing field, deeper path",
      doc,
      { STEP_KEY("entries"), STEP_IDX(0), STEP_KEY("speaker"), STEP_IDX(0) },
      4,
      6,
      5,
      "{" },
    { "index into an object",
      doc,
      { STEP_KEY("entries"), STEP_IDX(0), STEP_IDX(0) },
      3,
      6,
      5,
      "{" },
    { "key into an array", doc, { STEP_KEY("entries"), STEP_KEY("id") }, 2, 5, 14, "[" },
    { "key into a string", doc, { STEP_KEY("format"), STEP_KEY("x") }, 2, 2, 13, "\"planbot" },
    { "index into an empty array", doc, { STEP_KEY("sources"), STEP_IDX(0) }, 2, 4, 14, "[]" },
    { "key into a number", doc, { STEP_KEY("version"), STEP_IDX(0) }, 2, 3, 14, "1" },

    /* Nested arrays and objects. */
    { "nested: first inner array", nested, { STEP_IDX(0) }, 1, 2, 3, "[1, 2]" },
    { "nested: second item of first array", nested, { STEP_IDX(0), STEP_IDX(1) }, 2, 2, 7, "2]" },
    { "nested: second inner array", nested, { STEP_IDX(1) }, 1, 3, 3, "[" },
    { "nested: three deep", nested, { STEP_IDX(1), STEP_IDX(1), STEP_IDX(0) }, 3, 6, 7, "4," },
    { "nested: objects in arrays",
      nested,
      { STEP_IDX(1), STEP_IDX(1), STEP_IDX(1), STEP_KEY("a"), STEP_KEY("b"), STEP_IDX(0) },
      6,
      10,
      13,
      "\"c\"" },
    { "nested: missing deep key",
      nested,
      { STEP_IDX(1), STEP_IDX(1), STEP_IDX(1), STEP_KEY("a"), STEP_KEY("zz"), STEP_IDX(0) },
      6,
      8,
      9,
      "{\"b\"" },
    { "nested: past the end of outer array", nested, { STEP_IDX(2), STEP_IDX(0) }, 2, 1, 1, "[" },

    /* White space of every kind, and a string ending in an escaped backslash. */
    { "spaced: leading white space", spaced, { { NULL, 0 } }, 0, 2, 3, "{" },
    { "spaced: value after CR LF and newlines", spaced, { STEP_KEY("a") }, 1, 5, 1, "[" },
    { "spaced: second element", spaced, { STEP_KEY("a"), STEP_IDX(1) }, 2, 6, 2, "20" },
    { "spaced: after escaped backslash",
      spaced,
      { STEP_KEY("a"), STEP_IDX(2) },
      2,
      7,
      3,
      "\"x\\\\\"" },
};

static void jsonpos_finds_line_of_path_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct pos_case *c = &cases[i];
        size_t len = strlen(c->text);
        size_t off = jsonpos_offset(c->text, len, c->path, c->depth);
        int line = 0, col = 0;
        jsonpos_line_col(c->text, len, off, &line, &col);
        int ok = off <= len && line == c->line && (!c->col || col == c->col) &&
                 (!c->at || strncmp(c->text + off, c->at, strlen(c->at)) == 0);
        if (!ok)
            print_error("case \"%s\": offset %zu, line %d, column %d, text there \"%.12s\"\n",
                        c->name, off, line, col, off <= len ? c->text + off : "");
        assert_true(off <= len);
        assert_int_equal(line, c->line);
        if (c->col)
            assert_int_equal(col, c->col);
        if (c->at)
            assert_memory_equal(c->text + off, c->at, strlen(c->at));
    }
}

struct line_col_case {
    const char *text;
    size_t offset;
    int line, col;
};

static const struct line_col_case line_col_cases[] = {
    { "", 0, 1, 1 },
    { "abc", 0, 1, 1 },
    { "abc", 2, 1, 3 },
    { "abc", 3, 1, 4 },
    { "abc", 100, 1, 4 }, /* past the end: the end */
    { "a\nb", 1, 1, 2 },
    { "a\nb", 2, 2, 1 },
    { "a\n\n\nb", 4, 4, 1 },
    { "a\r\nb", 3, 2, 1 },
    /* Columns count characters, not bytes. */
    { "\xC3\xA9t\xC3\xA9 x", 6, 1, 5 },
    { "\xE2\x80\x9Cq\xE2\x80\x9D:", 7, 1, 4 },
    { "\xF0\x9F\x98\x80!", 4, 1, 2 },
};

static void jsonpos_line_col_counts_lines_and_characters(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof line_col_cases / sizeof line_col_cases[0]; i++) {
        const struct line_col_case *c = &line_col_cases[i];
        int line = 0, col = 0;
        jsonpos_line_col(c->text, strlen(c->text), c->offset, &line, &col);
        if (line != c->line || col != c->col)
            print_error("case %zu (\"%s\" at %zu): line %d, column %d\n", i, c->text, c->offset,
                        line, col);
        assert_int_equal(line, c->line);
        assert_int_equal(col, c->col);
    }
}

static void jsonpos_respects_length_not_nul(void **state)
{
    (void)state;
    /* Only the first len bytes are text: a key after them is not found. */
    const char text[] = "{\"a\": 1,\n \"b\": 2}";
    struct jsonpos_step path[] = { STEP_KEY("b") };
    size_t cut = strlen("{\"a\": 1,\n");
    assert_int_equal(jsonpos_offset(text, cut, path, 1), 0);
    size_t off = jsonpos_offset(text, strlen(text), path, 1);
    assert_int_equal(text[off], '2');
}

/* Texts that are not JSON, or are cut short: the scanner must stay inside them. */
static const char *const invalid_texts[] = {
    "",
    " ",
    "\n\n\n",
    "{",
    "[",
    "}",
    "]",
    "\"",
    "\\",
    "\"\\",
    "{\"",
    "{\"entries",
    "{\"entries\"",
    "{\"entries\":",
    "{\"entries\": ",
    "{\"entries\": [",
    "{\"entries\": [{",
    "{\"entries\": [{\"kind\"",
    "{\"entries\": [{\"kind\":",
    "{\"entries\": [{\"kind\": \"quo",
    "{\"entries\": [{\"kind\": \"quote\\",
    "{\"entries\": [{},",
    "{\"entries\": [{}, {\"kind\": 1},",
    "{\"entries\": [1 2 3]}",
    "{\"entries\" [1]}",
    "{\"entries\": [1]]]]]]}}}}}",
    "{entries: [1]}",
    "{'entries': [1]}",
    "{\"entries\": [1], \"entries\": [{\"kind\": 2}]}",
    "{\"x\": \"\\\"\", \"entries\": [{\"kind\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "]]]]}}}}",
    "{\"entries\": [{\"kind\": [[[{{{\"",
    "{\"entries\": \"\\u12",
    "\xFF\xFE{\"entries\": [{\"kind\": 1}]}",
    "{\"entries\": [{\"kind\": \x80\xC3}]}",
    "null",
    "42",
    "\"entries\"",
    ",,,,:::::",
};

static void jsonpos_survives_invalid_json(void **state)
{
    (void)state;
    static const struct jsonpos_step paths[][3] = {
        { STEP_KEY("entries"), STEP_IDX(1), STEP_KEY("kind") },
        { STEP_KEY("entries"), STEP_IDX(0), STEP_KEY("kind") },
        { STEP_IDX(0), STEP_IDX(0), STEP_IDX(0) },
        { STEP_KEY("x"), STEP_KEY("entries"), STEP_IDX(3) },
    };
    for (size_t i = 0; i < sizeof invalid_texts / sizeof invalid_texts[0]; i++) {
        const char *t = invalid_texts[i];
        size_t len = strlen(t);
        /* A heap copy of exactly len bytes, so that a read past the end is caught by sanitizers
         * and valgrind. */
        char *copy = malloc(len ? len : 1);
        assert_non_null(copy);
        memcpy(copy, t, len);
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            for (size_t depth = 0; depth <= 3; depth++) {
                size_t off = jsonpos_offset(copy, len, paths[p], depth);
                if (off > len)
                    print_error("text %zu, path %zu, depth %zu: offset %zu past %zu\n", i, p, depth,
                                off, len);
                assert_true(off <= len);
                int line = 0, col = 0;
                jsonpos_line_col(copy, len, off, &line, &col);
                assert_true(line >= 1);
                assert_true(col >= 1);
            }
        }
        free(copy);
    }
}

static void jsonpos_finds_key_in_cut_text(void **state)
{
    (void)state;
    /* The value exists even though the document is never closed. */
    const char *t = "{\"entries\": [\n  {\"id\": \"x\",\n   \"kind\": \"bad\"";
    struct jsonpos_step path[] = { STEP_KEY("entries"), STEP_IDX(0), STEP_KEY("kind") };
    size_t off = jsonpos_offset(t, strlen(t), path, 3);
    int line, col;
    jsonpos_line_col(t, strlen(t), off, &line, &col);
    assert_int_equal(line, 3);
    assert_memory_equal(t + off, "\"bad\"", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(jsonpos_finds_line_of_path_table),
        cmocka_unit_test(jsonpos_line_col_counts_lines_and_characters),
        cmocka_unit_test(jsonpos_respects_length_not_nul),
        cmocka_unit_test(jsonpos_survives_invalid_json),
        cmocka_unit_test(jsonpos_finds_key_in_cut_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
