/* test_verbatim.c - finding a typed passage in a source text: a table of {hay, needle, span}. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "verbatim.h"

#define LDQ   "\xE2\x80\x9C" /* left double quotation mark */
#define RDQ   "\xE2\x80\x9D" /* right double quotation mark */
#define LSQ   "\xE2\x80\x98" /* left single quotation mark */
#define RSQ   "\xE2\x80\x99" /* right single quotation mark, the typographic apostrophe */
#define NDASH "\xE2\x80\x93"
#define MDASH "\xE2\x80\x94"
#define NBSP  "\xC2\xA0"

struct verbatim_case {
    const char *name;
    const char *hay;
    const char *needle;
    const char *span; /* the hay's own bytes that match, or NULL for no match */
    size_t off;       /* where they start in hay */
};

static const struct verbatim_case cases[] = {
    /* Identical text. */
    { "exact", "the plan was agreed", "plan was", "plan was", 4 },
    { "whole hay", "plan", "plan", "plan", 0 },
    { "at the end", "the plan", "plan", "plan", 4 },
    { "first of two", "plan and plan", "plan", "plan", 0 },
    { "after a false start", "plaplan", "plan", "plan", 3 },
    { "multibyte text", "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2 is the capital",
      "\xD0\xB8\xD1\x97\xD0\xB2 is", "\xD0\xB8\xD1\x97\xD0\xB2 is", 2 },

    /* Curly and straight quotes. */
    { "straight needle, curly hay", "remained " LDQ "in flux." RDQ " today",
      "remained \"in flux.\"", "remained " LDQ "in flux." RDQ, 0 },
    { "curly needle, straight hay", "remained \"in flux.\" today", "remained " LDQ "in flux." RDQ,
      "remained \"in flux.\"", 0 },
    { "straight apostrophe, curly hay", "Ukraine" RSQ "s military", "Ukraine's military",
      "Ukraine" RSQ "s military", 0 },
    { "curly apostrophe, straight hay", "Ukraine's military", "Ukraine" RSQ "s military",
      "Ukraine's military", 0 },
    { "single curly quotes", "a " LSQ "deal" RSQ " b", "'deal'", LSQ "deal" RSQ, 2 },
    { "left and right curly match each other", "x " LDQ "y" LDQ, RDQ "y" RDQ, LDQ "y" LDQ, 2 },
    { "a double quote is not a single one", "say \"yes\"", "say 'yes'", NULL, 0 },

    /* En and em dashes and hyphens. */
    { "hyphen needle, en dash hay", "points " NDASH " including", "points - including",
      "points " NDASH " including", 0 },
    { "hyphen needle, em dash hay", "(CNN) " MDASH " A new", "(CNN) - A new",
      "(CNN) " MDASH " A new", 0 },
    { "en dash needle, hyphen hay", "a 28-point plan", "28" NDASH "point", "28-point", 2 },
    { "em dash needle, en dash hay", "now " NDASH " later", "now " MDASH " later",
      "now " NDASH " later", 0 },
    { "a dash is not a space", "points " NDASH " including", "points including", NULL, 0 },

    /* White space. */
    { "run of spaces in hay", "a  b", "a b", "a  b", 0 },
    { "run of spaces in needle", "a b", "a    b", "a b", 0 },
    { "newlines in hay", "peace\n\nplan", "peace plan", "peace\n\nplan", 0 },
    { "newline in needle", "peace plan", "peace\nplan", "peace plan", 0 },
    { "tabs and CR LF", "x\t\r\n y", "x y", "x\t\r\n y", 0 },
    { "no-break space in hay", "28" NBSP "points", "28 points", "28" NBSP "points", 0 },
    { "space needs a space", "peaceplan", "peace plan", NULL, 0 },
    { "space where there is none", "peace plan", "peaceplan", NULL, 0 },
    { "leading spaces in needle", "the plan was", "   plan was", "plan was", 4 },
    { "trailing spaces in needle", "the plan was", "the plan  ", "the plan", 0 },
    { "both ends, with newlines", "the plan was", "\n\t plan \r\n", "plan", 4 },
    { "span leaves out the hay's spaces after it", "plan   next", "plan ", "plan", 0 },
    { "span starts after the hay's spaces before it", "   plan", " plan", "plan", 3 },

    /* Everything at once, as an article and a moderator would write it. */
    { "article sentence",
      "The White House press secretary said the plan remained " LDQ "in flux." RDQ
      "\nAfter meeting " MDASH " Kyiv" RSQ "s view",
      "the plan remained \"in flux.\" After meeting - Kyiv's view",
      "the plan remained " LDQ "in flux." RDQ "\nAfter meeting " MDASH " Kyiv" RSQ "s view", 37 },

    /* No match. */
    { "different word", "the plan was agreed", "plan is", NULL, 0 },
    { "case differs", "the Plan", "plan", NULL, 0 },
    { "needle runs past the end", "the plan", "plan was", NULL, 0 },
    { "needle longer than hay", "ab", "abc", NULL, 0 },
    { "empty hay", "", "plan", NULL, 0 },
    { "empty needle", "the plan", "", NULL, 0 },
    { "white-space needle", "the plan", " \t\n ", NULL, 0 },
    { "empty needle, empty hay", "", "", NULL, 0 },

    /* Bytes that are not UTF-8 match only themselves. */
    { "stray byte matches itself", "a\xFF b", "\xFF b", "\xFF b", 1 },
    { "stray byte is not a space", "a\xFF b", "a b", NULL, 0 },
    { "stray byte in needle only", "a b", "a\xFF b", NULL, 0 },
    { "truncated sequence in hay", "x\xE2\x80 y", "\xE2\x80 y", "\xE2\x80 y", 1 },
};

static void verbatim_find_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct verbatim_case *c = &cases[i];
        size_t hay_len = strlen(c->hay), needle_len = strlen(c->needle);
        /* Exact-size heap copies, so that reading past either end is caught by sanitizers. */
        char *hay = malloc(hay_len ? hay_len : 1);
        char *needle = malloc(needle_len ? needle_len : 1);
        assert_non_null(hay);
        assert_non_null(needle);
        memcpy(hay, c->hay, hay_len);
        memcpy(needle, c->needle, needle_len);
        size_t off = 12345, len = 12345;
        int found = verbatim_find(hay, hay_len, needle, needle_len, &off, &len);
        int ok = c->span ? found == 1 && off == c->off && len == strlen(c->span) &&
                               memcmp(hay + off, c->span, len) == 0
                         : found == 0;
        if (!ok)
            print_error("case \"%s\": found %d, offset %zu, length %zu\n", c->name, found, off,
                        len);
        if (c->span) {
            assert_int_equal(found, 1);
            assert_int_equal(off, c->off);
            assert_int_equal(len, strlen(c->span));
            assert_true(off + len <= hay_len);
            /* The span is the hay's own bytes, not the needle's. */
            assert_memory_equal(hay + off, c->span, len);
        } else {
            assert_int_equal(found, 0);
        }
        free(hay);
        free(needle);
    }
}

static void verbatim_find_reads_only_needle_len_bytes(void **state)
{
    (void)state;
    const char *hay = "the plan was";
    const char *needle = "plan is the thing";
    size_t off, len;
    assert_int_equal(verbatim_find(hay, strlen(hay), needle, 4, &off, &len), 1);
    assert_int_equal(off, 4);
    assert_int_equal(len, 4);
    assert_int_equal(verbatim_find(hay, strlen(hay), needle, 7, &off, &len), 0);
}

static void verbatim_find_reads_only_hay_len_bytes(void **state)
{
    (void)state;
    const char *hay = "the plan was";
    size_t off, len;
    assert_int_equal(verbatim_find(hay, 7, "plan", 4, &off, &len), 0);
    assert_int_equal(verbatim_find(hay, 8, "plan", 4, &off, &len), 1);
}

static void verbatim_find_span_ends_on_a_whole_character(void **state)
{
    (void)state;
    /* The needle ends with a straight quote, the hay with a three-byte curly one: the span must
     * cover all three bytes. */
    const char *hay = "said " LDQ "no" RDQ "!";
    const char *needle = "\"no\"";
    size_t off, len;
    assert_int_equal(verbatim_find(hay, strlen(hay), needle, strlen(needle), &off, &len), 1);
    assert_int_equal(off, 5);
    assert_int_equal(len, 3 + 2 + 3);
    assert_int_equal(hay[off + len], '!');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verbatim_find_table),
        cmocka_unit_test(verbatim_find_reads_only_needle_len_bytes),
        cmocka_unit_test(verbatim_find_reads_only_hay_len_bytes),
        cmocka_unit_test(verbatim_find_span_ends_on_a_whole_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
