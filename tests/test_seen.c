/* test_seen.c - the redelivery ring (bot/seen.c): the last n keys, each found in constant time,
 * checked against a plain model (a list of the last n distinct keys, oldest forgotten first) over
 * random operations (a key added again keeps its place: n distinct keys are always remembered),
 * keys chosen to collide in the table, and the keys of pairs of strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "seen.h"

static void key_of_two_strings_is_stable_and_never_zero(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
    } rows[] = { { "event", "Ev1" },
                 { "event", "Ev2" },
                 { "eventE", "v1" },
                 { "", "" },
                 { "C1", "1700000000.000100" },
                 { "post", "abc" } };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t k = seen_key(rows[i].a, rows[i].b);
        assert_true(k != 0);
        assert_true(k == seen_key(rows[i].a, rows[i].b));
        for (size_t j = 0; j < i; j++) /* the separator keeps "eventE"+"v1" from "event"+"Ev1" */
            assert_true(k != seen_key(rows[j].a, rows[j].b));
    }
}

/* The model: the last n distinct keys, newest last; a key added again keeps its place. */
struct model {
    uint64_t keys[64];
    size_t n, cap;
};

static int model_has(const struct model *m, uint64_t k)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->keys[i] == k)
            return 1;
    return 0;
}

static void model_add(struct model *m, uint64_t k)
{
    if (model_has(m, k))
        return;
    if (m->n == m->cap) {
        memmove(&m->keys[0], &m->keys[1], (m->n - 1) * sizeof *m->keys);
        m->n--;
    }
    m->keys[m->n++] = k;
}

static void agrees_with_the_model_over_random_operations(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1, 2, 3, 7, 16, 50 };
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si];
        struct seen *s = seen_new(n);
        assert_non_null(s);
        struct model m = { .cap = n };
        uint32_t x = 2463534242u;
        for (int op = 0; op < 20000; op++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            /* few distinct keys, many of them sharing their low bits: collisions and refreshes */
            uint64_t k = ((uint64_t)(x % (3 * n + 5)) << 32) | 1;
            if (x & 0x10000) {
                seen_add(s, k);
                model_add(&m, k);
            }
            for (uint64_t probe = 0; probe < 3 * n + 5; probe++) {
                uint64_t q = (probe << 32) | 1;
                if (seen_has(s, q) != model_has(&m, q))
                    fail_msg("size %zu, operation %d: key %llu is %s", n, op,
                             (unsigned long long)probe, model_has(&m, q) ? "lost" : "kept");
            }
        }
        seen_free(s);
    }
}

static void zero_is_never_a_key(void **state)
{
    (void)state;
    struct seen *s = seen_new(4);
    assert_non_null(s);
    seen_add(s, 0);
    assert_false(seen_has(s, 0));
    seen_add(s, 5);
    assert_true(seen_has(s, 5));
    assert_false(seen_has(s, 0));
    seen_free(s);
    seen_free(NULL);
    s = seen_new(0); /* at least one */
    assert_non_null(s);
    seen_add(s, 9);
    assert_true(seen_has(s, 9));
    seen_add(s, 10);
    assert_false(seen_has(s, 9));
    seen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_of_two_strings_is_stable_and_never_zero),
        cmocka_unit_test(agrees_with_the_model_over_random_operations),
        cmocka_unit_test(zero_is_never_a_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
