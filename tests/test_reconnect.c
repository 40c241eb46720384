/* test_reconnect.c - when an adapter connects again: backoff that grows with failures in a row up
 * to its cap, a connection that served a while starting the count again, a platform's asked wait
 * and a floor never undercut, and an asked delay taken as it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>

#include "reconnect.h"

/* reconnect_backoff_ms: 0-250 ms for no failure, then 1, 2, 4 ... s with 30% jitter, capped. */
static void in_backoff(const struct reconnect *r, int64_t lo, int64_t hi)
{
    for (int i = 0; i < 50; i++) {
        int64_t d = reconnect_delay(r, -1);
        if (d < lo || d > hi)
            fail_msg("attempt %u: %lld ms, not in [%lld, %lld]", r->attempt, (long long)d,
                     (long long)lo, (long long)hi);
    }
}

static void reconnect_backs_off_and_starts_again_after_a_stable_connection(void **state)
{
    (void)state;
    struct reconnect r;
    reconnect_init(&r, 8000, 10000);
    in_backoff(&r, 0, 250);
    reconnect_failed(&r, 0);
    in_backoff(&r, 700, 1300);
    reconnect_failed(&r, 0);
    reconnect_failed(&r, 0);
    in_backoff(&r, 2800, 5200); /* 4 s */
    for (int i = 0; i < 10; i++)
        reconnect_failed(&r, 0);
    in_backoff(&r, 5600, 10400); /* capped at 8 s */
    reconnect_closed(&r, 9999);  /* died before it was stable: one more failure */
    assert_int_equal(r.attempt, 14);
    reconnect_closed(&r, 10000);
    assert_int_equal(r.attempt, 0);
    in_backoff(&r, 0, 250);
    reconnect_failed(&r, 0);
    reconnect_succeeded(&r);
    assert_int_equal(r.attempt, 0);
}

static void reconnect_never_undercuts_an_asked_wait_or_the_floor(void **state)
{
    (void)state;
    static const struct {
        int64_t wait, floor, asked, least;
    } rows[] = {
        { 30000, 0, 0, 30000 },  /* a 429's wait over an immediate retry */
        { 30000, 0, -1, 30000 }, /* and over the backoff */
        { 0, 60000, 0, 60000 },  /* link_disabled's floor */
        { 5000, 60000, 7000, 60000 }, { 0, 0, 7000, 7000 }, /* an asked delay as it is */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct reconnect r;
        reconnect_init(&r, 60000, 10000);
        reconnect_failed(&r, rows[i].wait);
        reconnect_floor(&r, rows[i].floor);
        int64_t d = reconnect_delay(&r, rows[i].asked);
        if (d < rows[i].least || (rows[i].asked >= 0 && d != rows[i].least))
            fail_msg("row %zu: %lld ms", i, (long long)d);
    }
    struct reconnect r;
    reconnect_init(&r, 60000, 10000);
    reconnect_failed(&r, 30000);
    reconnect_failed(&r, 1000); /* a shorter wait does not shorten the longer one */
    assert_int_equal(reconnect_delay(&r, 0), 30000);
    reconnect_answered(&r);
    assert_int_equal(reconnect_delay(&r, 0), 0);
    assert_int_equal(r.attempt, 2); /* the count goes on */
    reconnect_floor(&r, 60000);
    reconnect_closed(&r, 20000); /* a stable connection lifts the floor */
    assert_int_equal(reconnect_delay(&r, 0), 0);
}

/* ---- reconnect_backoff_ms ---- */

static void backoff_first_attempt_is_within_250_ms(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++) {
        int64_t d = reconnect_backoff_ms(0, 60000);
        if (d < 0 || d > 250)
            fail_msg("attempt 0 gave %lld ms", (long long)d);
    }
}

static void backoff_doubles_from_one_second_up_to_the_cap_with_30_percent_jitter(void **state)
{
    (void)state;
    static const struct {
        unsigned attempt;
        int64_t cap;
    } rows[] = {
        { 1, 60000 },  { 2, 60000 },        { 3, 60000 },     { 4, 60000 },
        { 5, 60000 },  { 6, 60000 },        { 7, 60000 },     { 8, 60000 },
        { 20, 60000 }, { 21, 60000 },       { 30, 60000 },    { 50, 60000 },
        { 1, 500 },    { 2, 1500 },         { 12, 10000000 }, { 20, INT64_C(1) << 40 },
        { 50, 30000 }, { UINT_MAX, 30000 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        unsigned a = rows[i].attempt;
        int64_t lo = a > 40 ? rows[i].cap : (int64_t)1000 << (a - 1);
        if (lo > rows[i].cap)
            lo = rows[i].cap;
        int64_t hi = lo * 13 / 10;
        for (int k = 0; k < 200; k++) {
            int64_t d = reconnect_backoff_ms(a, rows[i].cap);
            if (d < lo || d > hi)
                fail_msg("attempt %u cap %lld: %lld ms, not in [%lld, %lld]", a,
                         (long long)rows[i].cap, (long long)d, (long long)lo, (long long)hi);
        }
    }
}

static void backoff_jitter_varies(void **state)
{
    (void)state;
    for (unsigned a = 0; a < 8; a++) {
        int64_t first = reconnect_backoff_ms(a, 60000);
        int differs = 0;
        for (int k = 0; k < 100 && !differs; k++)
            differs = reconnect_backoff_ms(a, 60000) != first;
        if (!differs)
            fail_msg("attempt %u: 100 draws all gave %lld ms", a, (long long)first);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_first_attempt_is_within_250_ms),
        cmocka_unit_test(backoff_doubles_from_one_second_up_to_the_cap_with_30_percent_jitter),
        cmocka_unit_test(backoff_jitter_varies),
        cmocka_unit_test(reconnect_backs_off_and_starts_again_after_a_stable_connection),
        cmocka_unit_test(reconnect_never_undercuts_an_asked_wait_or_the_floor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
