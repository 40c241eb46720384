/* test_vocab.c - the vocabulary: document frequencies, merging, typo correction, edit distance. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "vocab.h"

/* The vocabulary most tests correct against: words with their document frequencies. */
struct wdf {
    const char *word;
    uint32_t df;
};

static const struct wdf words[] = {
    { "peace", 10 },     { "piece", 3 },     { "place", 2 },        { "crimea", 7 },
    { "ukraine", 20 },   { "territory", 8 }, { "sanctions", 6 },    { "military", 9 },
    { "security", 5 },   { "guarantee", 1 }, { "guarantees", 4 },   { "nato", 12 },
    { "army", 3 },       { "plan", 15 },     { "card", 2 },         { "cart", 2 },
    { "referendum", 2 }, { "elections", 3 }, { "zaporizhzhia", 2 }, { "donbas", 4 },
    { "amnesty", 2 },    { "to", 30 },       { "the", 40 },         { "sea", 1 },
};
enum { NWORDS = sizeof words / sizeof words[0] };

static int setup(void **state)
{
    struct vocab *v = vocab_new();
    if (!v)
        return -1;
    for (size_t i = 0; i < NWORDS; i++)
        if (vocab_add_word(v, words[i].word, words[i].df))
            return -1;
    if (vocab_add_stem(v, "peac", 11) || vocab_add_stem(v, "territori", 8) || vocab_finish(v))
        return -1;
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    vocab_free(*state);
    return 0;
}

static void vocab_word_df_is_exact(void **state)
{
    struct vocab *v = *state;
    for (size_t i = 0; i < NWORDS; i++)
        assert_int_equal(vocab_word_df(v, words[i].word), words[i].df);
    assert_int_equal(vocab_size(v), NWORDS);
    /* No prefix, case or typo matching. */
    static const char *const unknown[] = {
        "pea", "peaces", "Peace", "peac", "", "xyz", "territori"
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_int_equal(vocab_word_df(v, unknown[i]), 0);
}

static void vocab_stem_df_is_separate_from_words(void **state)
{
    struct vocab *v = *state;
    assert_int_equal(vocab_stem_df(v, "peac"), 11);
    assert_int_equal(vocab_stem_df(v, "territori"), 8);
    assert_int_equal(vocab_stem_df(v, "peace"), 0); /* a word, not a stem */
    assert_int_equal(vocab_stem_df(v, "pea"), 0);
    assert_int_equal(vocab_stem_df(v, ""), 0);
}

static void vocab_duplicates_are_merged_and_counts_add(void **state)
{
    (void)state;
    struct vocab *v = vocab_new();
    assert_non_null(v);
    assert_int_equal(vocab_add_word(v, "plan", 2), 0);
    assert_int_equal(vocab_add_word(v, "peace", 1), 0);
    assert_int_equal(vocab_add_word(v, "plan", 3), 0);
    assert_int_equal(vocab_add_word(v, "plan", 5), 0);
    assert_int_equal(vocab_add_word(v, "army", 4), 0);
    assert_int_equal(vocab_add_stem(v, "plan", 7), 0);
    assert_int_equal(vocab_add_stem(v, "plan", 1), 0);
    assert_int_equal(vocab_add_stem(v, "armi", 2), 0);
    assert_int_equal(vocab_finish(v), 0);
    assert_int_equal(vocab_size(v), 3);
    assert_int_equal(vocab_word_df(v, "plan"), 10);
    assert_int_equal(vocab_word_df(v, "peace"), 1);
    assert_int_equal(vocab_word_df(v, "army"), 4);
    assert_int_equal(vocab_stem_df(v, "plan"), 8);
    assert_int_equal(vocab_stem_df(v, "armi"), 2);
    /* A merged word is offered once, with its summed count, as a correction. */
    const char *fix = NULL;
    assert_int_equal(vocab_correct(v, "plann", &fix), 1);
    assert_string_equal(fix, "plan");
    vocab_free(v);
}

static void vocab_many_words(void **state)
{
    (void)state;
    struct vocab *v = vocab_new();
    assert_non_null(v);
    char w[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(w, sizeof w, "word%05d", i);
        assert_int_equal(vocab_add_word(v, w, (uint32_t)i + 1), 0);
        assert_int_equal(vocab_add_stem(v, w, (uint32_t)i + 1), 0);
    }
    assert_int_equal(vocab_finish(v), 0);
    assert_int_equal(vocab_size(v), 5000);
    for (int i = 0; i < 5000; i += 499) {
        snprintf(w, sizeof w, "word%05d", i);
        assert_int_equal(vocab_word_df(v, w), (uint32_t)i + 1);
        assert_int_equal(vocab_stem_df(v, w), (uint32_t)i + 1);
    }
    /* One typo away from a single word: "wrod01234" swaps two letters of word01234. */
    const char *fix = NULL;
    assert_int_equal(vocab_correct(v, "wrod01234", &fix), 1);
    assert_string_equal(fix, "word01234");
    vocab_free(v);
}

static void vocab_empty_knows_nothing(void **state)
{
    (void)state;
    struct vocab *v = vocab_new();
    assert_non_null(v);
    const char *fix = "unchanged";
    assert_int_equal(vocab_correct(v, "peace", &fix), 0);
    assert_null(fix);
    assert_int_equal(vocab_finish(v), 0);
    assert_int_equal(vocab_size(v), 0);
    assert_int_equal(vocab_word_df(v, "peace"), 0);
    assert_int_equal(vocab_stem_df(v, "peace"), 0);
    assert_int_equal(vocab_correct(v, "peace", &fix), 0);
    assert_null(fix);
    vocab_free(v);
}

static void vocab_free_accepts_null(void **state)
{
    (void)state;
    vocab_free(NULL);
}

/* One unknown word: the correction expected (NULL for none) and its distance. */
struct correct_case {
    const char *name;
    const char *word;
    const char *fix;
    int distance;
};

static const struct correct_case correct_cases[] = {
    /* One edit, words of 4 to 7 bytes. */
    { "insert (letter missing)", "ukrane", "ukraine", 1 },
    { "delete (letter extra)", "peacce", "peace", 1 },
    { "substitute", "peaxe", "peace", 1 },
    { "transpose", "peaec", "peace", 1 },
    { "transpose at the start", "epace", "peace", 1 },
    { "insert at the end", "crime", "crimea", 1 },
    { "delete at the start", "xplan", "plan", 1 },
    { "four bytes, substitute", "natp", "nato", 1 },
    { "four bytes, transpose", "anto", "nato", 1 },
    { "seven bytes, substitute", "amnestu", "amnesty", 1 },

    /* Two edits are too many under 8 bytes. */
    { "two substitutions, 5 bytes", "paaxe", NULL, 0 },
    { "two edits, 6 bytes", "krimae", NULL, 0 },
    { "two edits, 7 bytes", "amnsetu", NULL, 0 },
    { "transpose and delete, 8 bytes typed", "ukrianne", "ukraine", 2 },

    /* Words of 8 bytes or more: one edit. */
    { "long, insert", "teritory", "territory", 1 },
    { "long, delete", "territorry", "territory", 1 },
    { "long, substitute", "militery", "military", 1 },
    { "long, transpose", "sanctinos", "sanctions", 1 },

    /* Words of 8 bytes or more: two edits of every combination. */
    { "long, two substitutions", "milatery", "military", 2 },
    { "two inserts, 7 bytes typed", "teritoy", NULL, 0 },
    { "long, two inserts, 8 bytes typed", "refrendm", "referendum", 2 },
    { "long, two deletes (two letters extra)", "territtorry", "territory", 2 },
    { "long, insert and delete", "teritorry", "territory", 2 },
    { "substitute and insert, 7 bytes typed", "sekuriy", NULL, 0 },
    { "long, two deletes at both ends", "sseccurity", "security", 2 },
    { "long, substitute and delete", "sexurityy", "security", 2 },
    { "long, substitute and transpose", "elcetioms", "elections", 2 },
    { "long, two transpositions", "sacntoins", "sanctions", 2 },
    { "long, transpose inside a repeated pattern", "zaporihzzhia", "zaporizhzhia", 1 },
    { "long, two substitutions far apart", "xaporizhzhiz", "zaporizhzhia", 2 },
    { "long, three edits", "sanktshuns", NULL, 0 },
    { "long, three substitutions", "xilatery", NULL, 0 },

    /* Nothing under 4 bytes, even one edit from a known word. */
    { "three bytes", "nto", NULL, 0 },
    { "three bytes, substitute", "thx", NULL, 0 },
    { "two bytes", "tp", NULL, 0 },
    { "one byte", "t", NULL, 0 },
    { "empty", "", NULL, 0 },

    /* The most frequent of the closest wins; closer beats more frequent. */
    { "most frequent among equals (peace 10 vs piece 3)", "pece", "peace", 1 },
    { "most frequent among equals (peace 10 vs place 2)", "pleace", "peace", 1 },
    { "closer beats more frequent", "guarante", "guarantee", 1 },
    { "one edit from guarantees, two from guarantee", "guaranteess", "guarantees", 1 },

    /* Far from everything. */
    { "unrelated", "zzzzzz", NULL, 0 },
    { "unrelated long", "qwertyuiop", NULL, 0 },
};

static void vocab_correct_table(void **state)
{
    struct vocab *v = *state;
    for (size_t i = 0; i < sizeof correct_cases / sizeof correct_cases[0]; i++) {
        const struct correct_case *c = &correct_cases[i];
        const char *fix = "unchanged";
        int d = vocab_correct(v, c->word, &fix);
        int ok =
            c->fix ? d == c->distance && fix && strcmp(fix, c->fix) == 0 : d == 0 && fix == NULL;
        if (!ok)
            print_error("case \"%s\" (%s): distance %d, correction %s\n", c->name, c->word, d,
                        fix ? fix : "(none)");
        if (c->fix) {
            assert_int_equal(d, c->distance);
            assert_non_null(fix);
            assert_string_equal(fix, c->fix);
        } else {
            assert_int_equal(d, 0);
            assert_null(fix);
        }
    }
}

static void vocab_correct_ties_do_not_depend_on_insertion_order(void **state)
{
    (void)state;
    /* "carx" is one edit from both "card" and "cart", which are equally frequent. */
    const char *first = NULL;
    for (int order = 0; order < 2; order++) {
        struct vocab *v = vocab_new();
        assert_non_null(v);
        assert_int_equal(vocab_add_word(v, order ? "cart" : "card", 2), 0);
        assert_int_equal(vocab_add_word(v, order ? "card" : "cart", 2), 0);
        assert_int_equal(vocab_finish(v), 0);
        const char *fix = NULL;
        assert_int_equal(vocab_correct(v, "carx", &fix), 1);
        assert_non_null(fix);
        assert_true(strcmp(fix, "card") == 0 || strcmp(fix, "cart") == 0);
        if (!order) {
            first = strcmp(fix, "card") == 0 ? "card" : "cart";
        } else {
            assert_string_equal(fix, first);
        }
        vocab_free(v);
    }
}

static void vocab_correct_frequency_order_follows_merged_counts(void **state)
{
    (void)state;
    /* "piece" is less frequent than "peace" per add, but more in total. */
    struct vocab *v = vocab_new();
    assert_non_null(v);
    assert_int_equal(vocab_add_word(v, "peace", 5), 0);
    assert_int_equal(vocab_add_word(v, "piece", 3), 0);
    assert_int_equal(vocab_add_word(v, "piece", 3), 0);
    assert_int_equal(vocab_finish(v), 0);
    const char *fix = NULL;
    assert_int_equal(vocab_correct(v, "pece", &fix), 1);
    assert_string_equal(fix, "piece");
    vocab_free(v);
}

/* One distance: a, b, the limit, and the result (limit + 1 when over it). */
struct distance_case {
    const char *a, *b;
    int max, want;
};

static const struct distance_case distance_cases[] = {
    { "", "", 2, 0 },
    { "abc", "abc", 2, 0 },
    { "abc", "abd", 2, 1 },
    { "abc", "xbc", 2, 1 },
    { "abc", "ab", 2, 1 },
    { "ab", "abc", 2, 1 },
    { "abc", "bc", 2, 1 },
    { "abcd", "abdc", 2, 1 }, /* transposition */
    { "ab", "ba", 1, 1 },
    { "abcdef", "badcfe", 3, 3 }, /* three transpositions */
    { "ca", "abc", 3, 3 },        /* OSA: no edit of a transposed pair */
    { "kitten", "sitting", 3, 3 },
    { "kitten", "sitting", 2, 3 }, /* over the limit: max + 1 */
    { "kitten", "sitting", 1, 2 },
    { "", "abc", 5, 3 },
    { "abc", "", 5, 3 },
    { "a", "abcd", 1, 2 }, /* lengths differ by more than max */
    { "abcdef", "ghijkl", 2, 3 },
    { "abcdef", "ghijkl", 6, 6 },
    { "military", "milatery", 2, 2 },
    { "territory", "teritorry", 2, 2 },
    { "peace", "pecae", 2, 1 },
    { "sanctions", "sacntoins", 2, 2 },
    { "abc", "abc", 0, 0 },
    { "abc", "abd", 0, 1 },
};

static void vocab_distance_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof distance_cases / sizeof distance_cases[0]; i++) {
        const struct distance_case *c = &distance_cases[i];
        int d = vocab_distance(c->a, strlen(c->a), c->b, strlen(c->b), c->max);
        if (d != c->want)
            print_error("distance(\"%s\", \"%s\", max %d) = %d, want %d\n", c->a, c->b, c->max, d,
                        c->want);
        assert_int_equal(d, c->want);
        /* Symmetric. */
        assert_int_equal(vocab_distance(c->b, strlen(c->b), c->a, strlen(c->a), c->max), d);
    }
}

static void vocab_distance_uses_lengths_not_nul(void **state)
{
    (void)state;
    assert_int_equal(vocab_distance("peace-x", 5, "peace-y", 5, 2), 0);
    assert_int_equal(vocab_distance("peace", 3, "pea", 3, 2), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(vocab_word_df_is_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(vocab_stem_df_is_separate_from_words, setup, teardown),
        cmocka_unit_test(vocab_duplicates_are_merged_and_counts_add),
        cmocka_unit_test(vocab_many_words),
        cmocka_unit_test(vocab_empty_knows_nothing),
        cmocka_unit_test(vocab_free_accepts_null),
        cmocka_unit_test_setup_teardown(vocab_correct_table, setup, teardown),
        cmocka_unit_test(vocab_correct_ties_do_not_depend_on_insertion_order),
        cmocka_unit_test(vocab_correct_frequency_order_follows_merged_counts),
        cmocka_unit_test(vocab_distance_table),
        cmocka_unit_test(vocab_distance_uses_lengths_not_nul),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
