/* test_memo.c - the bounded memo: stores and finds, replaces, grows, starts over when full. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "err.h"
#include "memo.h"

/* Keys that share their low bits, and keys next to each other: probing must tell them apart. */
static const struct {
    uint64_t key, value;
    unsigned char tag;
} rows[] = {
    { 1, 10, 0 },
    { 2, 20, 1 },
    { 1024 + 1, 30, 2 },
    { (uint64_t)1 << 40, 40, 3 },
    { ((uint64_t)1 << 40) + 1024, 50, 4 },
    { UINT64_MAX, 60, 255 },
    { 0x9e3779b97f4a7c15ull, 70, 7 },
};
enum { NROWS = sizeof rows / sizeof rows[0] };

static void memo_finds_what_it_stores(void **state)
{
    (void)state;
    struct memo *mm;
    assert_int_equal(memo_new(&mm, 100), 0);
    for (size_t i = 0; i < NROWS; i++)
        assert_int_equal(memo_put(mm, rows[i].key, rows[i].value, rows[i].tag), 0);
    assert_int_equal(memo_count(mm), NROWS);
    for (size_t i = 0; i < NROWS; i++) {
        uint64_t v = 0;
        unsigned char t = 0;
        assert_int_equal(memo_get(mm, rows[i].key, &v, &t), 1);
        assert_int_equal(v, rows[i].value);
        assert_int_equal(t, rows[i].tag);
        assert_int_equal(memo_get(mm, rows[i].key, NULL, NULL), 1);
    }
    assert_int_equal(memo_get(mm, 3, NULL, NULL), 0);
    assert_int_equal(memo_get(mm, 1025 + 1024, NULL, NULL), 0);
    memo_free(mm);
}

static void memo_replaces_a_key_and_refuses_zero(void **state)
{
    (void)state;
    struct memo *mm;
    assert_int_equal(memo_new(&mm, 100), 0);
    assert_int_equal(memo_put(mm, 5, 1, 1), 0);
    assert_int_equal(memo_put(mm, 5, 2, 9), 0);
    uint64_t v;
    unsigned char t;
    assert_int_equal(memo_get(mm, 5, &v, &t), 1);
    assert_int_equal(v, 2);
    assert_int_equal(t, 9);
    assert_int_equal(memo_count(mm), 1);
    assert_int_equal(memo_put(mm, 0, 1, 1), ERR_INVAL);
    assert_int_equal(memo_get(mm, 0, &v, &t), 0);
    assert_int_equal(memo_count(mm), 1);
    memo_free(mm);
}

/* Past its first slots it grows and keeps every key; at its maximum it starts over, and holds
 * the key that did not fit. */
static void memo_grows_then_starts_over_at_its_maximum(void **state)
{
    (void)state;
    static const struct {
        size_t max, puts, held; /* keys stored at most, keys put (1..puts), held after */
    } cases[] = {
        { 5000, 3000, 3000 }, /* grown from 1,024 slots, none lost */
        { 5000, 5000, 5000 }, /* exactly full */
        { 5000, 5001, 1 },    /* one more: started over with it */
        { 5000, 7500, 2500 }, /* started over once, then 2,500 more */
        { 3, 40, 8 },         /* a maximum under 16 is 16: 40 = 16 + 16 + 8 */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct memo *mm;
        assert_int_equal(memo_new(&mm, cases[c].max), 0);
        for (uint64_t k = 1; k <= cases[c].puts; k++)
            assert_int_equal(memo_put(mm, k * 0x100000001ull, k, (unsigned char)k), 0);
        assert_int_equal(memo_count(mm), cases[c].held);
        /* the last keys put are the ones held */
        for (uint64_t k = cases[c].puts - cases[c].held + 1; k <= cases[c].puts; k++) {
            uint64_t v;
            assert_int_equal(memo_get(mm, k * 0x100000001ull, &v, NULL), 1);
            assert_int_equal(v, k);
        }
        if (cases[c].held < cases[c].puts)
            assert_int_equal(
                memo_get(mm, (cases[c].puts - cases[c].held) * 0x100000001ull, NULL, NULL), 0);
        memo_free(mm);
    }
}

static void memo_free_accepts_null(void **state)
{
    (void)state;
    memo_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memo_finds_what_it_stores),
        cmocka_unit_test(memo_replaces_a_key_and_refuses_zero),
        cmocka_unit_test(memo_grows_then_starts_over_at_its_maximum),
        cmocka_unit_test(memo_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
