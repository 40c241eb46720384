/* test_flood.c - the per-user flood limit: scripted message sequences with the time passed in,
 * so nothing sleeps; the table's memory bound; long user ids; the notice's wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "flood.h"

#define OK     FLOOD_OK
#define NOTICE FLOOD_NOTICE
#define DROP   FLOOD_DROP

enum { MAX_STEPS = 24 };

struct step {
    const char *platform; /* NULL ends the script */
    const char *user;
    int64_t t; /* ms */
    enum flood_verdict want;
};

/* Runs a script of messages against a fresh limit of messages per seconds. */
static void run_script(const char *name, int messages, int seconds, const struct step *steps)
{
    struct flood *f = flood_new(messages, seconds);
    assert_non_null(f);
    for (int i = 0; i < MAX_STEPS && steps[i].platform; i++) {
        const struct step *s = &steps[i];
        enum flood_verdict got = flood_check(f, s->platform, s->user, s->t);
        if (got != s->want)
            fail_msg("%s, step %d (%s %s at %lld ms): %s, expected %s", name, i + 1, s->platform,
                     s->user, (long long)s->t, flood_verdict_str(got), flood_verdict_str(s->want));
    }
    flood_free(f);
}

static void scripted_sequences_get_the_right_verdicts(void **state)
{
    (void)state;
    /* 3 messages a minute: one token every 20 s */
    static const struct {
        const char *name;
        int messages, seconds;
        struct step steps[MAX_STEPS];
    } rows[] = {
        { "the limit is reached exactly",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 1, OK },
            { "slack", "U1", 2, OK },
            { "slack", "U1", 3, NOTICE } } },
        { "one notice, then drops",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, NOTICE },
            { "slack", "U1", 0, DROP },
            { "slack", "U1", 100, DROP },
            { "slack", "U1", 19999, DROP } } },
        { "a token comes back every seconds/messages; one notice per window; a later flood gets "
          "a new one",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, NOTICE },
            { "slack", "U1", 19999, DROP },
            { "slack", "U1", 20000, OK },
            { "slack", "U1", 20001, DROP },
            { "slack", "U1", 40001, OK },
            { "slack", "U1", 59999, DROP },
            /* a whole window after the last message the bucket is full again */
            { "slack", "U1", 119999, OK },
            { "slack", "U1", 119999, OK },
            { "slack", "U1", 119999, OK },
            { "slack", "U1", 119999, NOTICE },
            { "slack", "U1", 120000, DROP } } },
        { "a steady sender over the limit gets one notice per window, not one per token",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 10000, NOTICE },
            { "slack", "U1", 20000, OK },
            { "slack", "U1", 30000, DROP },
            { "slack", "U1", 40000, OK },
            { "slack", "U1", 50000, DROP },
            { "slack", "U1", 60000, OK },
            { "slack", "U1", 70000, NOTICE },
            { "slack", "U1", 75000, DROP } } },
        { "different users are independent",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, NOTICE },
            { "slack", "U2", 0, OK },
            { "slack", "U2", 0, OK },
            { "slack", "U2", 0, OK },
            { "slack", "U2", 0, NOTICE },
            { "slack", "U1", 1, DROP },
            { "slack", "U3", 1, OK } } },
        { "the same id on different platforms is a different user",
          3,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, NOTICE },
            { "irc", "U1", 0, OK },
            { "mattermost", "U1", 0, OK },
            /* the key keeps the boundary between platform and user */
            { "slackU", "1", 0, OK },
            { "slack", "U1", 0, DROP } } },
        { "one a second",
          1,
          1,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 500, NOTICE },
            { "slack", "U1", 1000, OK },
            { "slack", "U1", 1000, DROP },
            { "slack", "U1", 2000, OK },
            { "slack", "U1", 2000, NOTICE } } },
        { "a clock that steps back refills nothing",
          2,
          60,
          { { "slack", "U1", 100000, OK },
            { "slack", "U1", 100000, OK },
            { "slack", "U1", 0, NOTICE },
            { "slack", "U1", 50000, DROP },
            { "slack", "U1", 130000, OK } } },
        { "0 messages is no limit",
          0,
          60,
          { { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 0, OK },
            { "slack", "U1", 1, OK } } },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        run_script(rows[i].name, rows[i].messages, rows[i].seconds, rows[i].steps);
}

static void no_limit_remembers_nobody(void **state)
{
    (void)state;
    struct flood *f = flood_new(0, 60);
    assert_non_null(f);
    char user[32];
    for (int i = 0; i < 3 * FLOOD_MAX_USERS; i++) {
        snprintf(user, sizeof user, "U%d", i % 7);
        assert_int_equal(flood_check(f, "slack", user, 0), FLOOD_OK);
    }
    assert_int_equal(flood_users(f), 0);
    flood_free(f);
}

static enum flood_verdict check_nth(struct flood *f, int n, int64_t t)
{
    char user[32];
    snprintf(user, sizeof user, "U%d", n);
    return flood_check(f, "slack", user, t);
}

static void a_full_table_forgets_the_longest_idle_user(void **state)
{
    (void)state;
    /* one message a minute: a remembered user who sent one is over the limit for a minute */
    struct flood *f = flood_new(1, 60);
    assert_non_null(f);
    int64_t t = 0;
    for (int i = 0; i < FLOOD_MAX_USERS; i++)
        assert_int_equal(check_nth(f, i, t++), FLOOD_OK);
    assert_int_equal(flood_users(f), FLOOD_MAX_USERS);
    /* U0 speaks again: it is remembered (over the limit) and now the most recent */
    assert_int_equal(check_nth(f, 0, t++), FLOOD_NOTICE);
    /* a new user takes the slot of the longest idle one, U1 */
    assert_int_equal(flood_check(f, "slack", "UNEW", t++), FLOOD_OK);
    assert_int_equal(flood_users(f), FLOOD_MAX_USERS);
    /* U1 was forgotten: it starts again with a full bucket (and pushes out U2) */
    assert_int_equal(check_nth(f, 1, t++), FLOOD_OK);
    /* U0 and U3 are still remembered */
    assert_int_equal(check_nth(f, 0, t++), FLOOD_DROP);
    assert_int_equal(check_nth(f, 3, t++), FLOOD_NOTICE);
    assert_int_equal(flood_check(f, "slack", "UNEW", t++), FLOOD_NOTICE);
    /* many more new users: memory stays at the cap */
    for (int i = FLOOD_MAX_USERS; i < 4 * FLOOD_MAX_USERS; i++) {
        assert_int_equal(check_nth(f, i, t++), FLOOD_OK);
        assert_true(flood_users(f) <= FLOOD_MAX_USERS);
    }
    assert_int_equal(flood_users(f), FLOOD_MAX_USERS);
    /* the last FLOOD_MAX_USERS users are the ones remembered */
    assert_int_equal(check_nth(f, 4 * FLOOD_MAX_USERS - 1, t++), FLOOD_NOTICE);
    assert_int_equal(check_nth(f, 3 * FLOOD_MAX_USERS + 1, t++), FLOOD_NOTICE);
    assert_int_equal(check_nth(f, 0, t++), FLOOD_OK);
    flood_free(f);
}

/* A string of n copies of c followed by tail; caller frees. */
static char *id_of(size_t n, char c, const char *tail)
{
    size_t tl = strlen(tail);
    char *s = malloc(n + tl + 1);
    assert_non_null(s);
    memset(s, c, n);
    memcpy(s + n, tail, tl + 1);
    return s;
}

static void long_user_ids_are_told_apart(void **state)
{
    (void)state;
    /* "slack\0" takes 6 bytes of the key: an id of FLOOD_MAX_KEY - 6 bytes fits exactly */
    static const struct {
        size_t na;
        const char *tail_a;
        size_t nb;
        const char *tail_b;
        int same;
    } rows[] = {
        { 100000, "", 100000, "", 1 },
        { 100000, "a", 100000, "b", 0 },
        { 100000, "", 100001, "", 0 },
        { 5000, "a", 5000, "a", 1 },
        { FLOOD_MAX_KEY - 6, "", FLOOD_MAX_KEY - 6, "", 1 },
        { FLOOD_MAX_KEY - 6, "", FLOOD_MAX_KEY - 6, "y", 0 },
        { FLOOD_MAX_KEY - 7, "a", FLOOD_MAX_KEY - 7, "b", 0 },
        { FLOOD_MAX_KEY, "a", FLOOD_MAX_KEY, "b", 0 },
        { 0, "", 0, "", 1 },
        { 0, "", 1, "", 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct flood *f = flood_new(1, 60);
        assert_non_null(f);
        char *a = id_of(rows[i].na, 'x', rows[i].tail_a);
        char *b = id_of(rows[i].nb, 'x', rows[i].tail_b);
        assert_int_equal(flood_check(f, "slack", a, 0), FLOOD_OK);
        enum flood_verdict want = rows[i].same ? FLOOD_NOTICE : FLOOD_OK;
        if (flood_check(f, "slack", b, 0) != want)
            fail_msg("row %zu: ids of %zu and %zu bytes should %s", i, strlen(a), strlen(b),
                     rows[i].same ? "be one user" : "be two users");
        assert_int_equal(flood_users(f), rows[i].same ? 1 : 2);
        free(a);
        free(b);
        flood_free(f);
    }
}

static void the_notice_names_the_limit(void **state)
{
    (void)state;
    static const struct {
        int messages, seconds;
        const char *says;
    } rows[] = {
        { 20, 60,
          "You're sending messages faster than I can answer (more than 20 a minute); I'll answer "
          "again in a moment." },
        { 3, 60, "(more than 3 a minute);" },
        { 5, 1, "(more than 5 a second);" },
        { 100, 3600, "(more than 100 an hour);" },
        { 1000, 86400, "(more than 1000 a day);" },
        { 10, 90, "(more than 10 in 90 seconds);" },
        { 10, 120, "(more than 10 in 2 minutes);" },
        { 40, 7200, "(more than 40 in 2 hours);" },
        { 2, 0, "(more than 2 a second);" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct flood *f = flood_new(rows[i].messages, rows[i].seconds);
        assert_non_null(f);
        struct buf out;
        buf_init(&out, 1024);
        assert_int_equal(flood_notice(f, &out), 0);
        if (!strstr(buf_str(&out), rows[i].says))
            fail_msg("%d per %d s: \"%s\" does not say \"%s\"", rows[i].messages, rows[i].seconds,
                     buf_str(&out), rows[i].says);
        buf_free(&out);
        flood_free(f);
    }
    /* a buffer too small for the notice is an error, not a cut notice */
    struct flood *f = flood_new(20, 60);
    struct buf small;
    buf_init(&small, 16);
    assert_int_equal(flood_notice(f, &small), ERR_TOOBIG);
    buf_free(&small);
    flood_free(f);
}

static void verdicts_have_names_and_free_accepts_null(void **state)
{
    (void)state;
    assert_string_equal(flood_verdict_str(FLOOD_OK), "ok");
    assert_string_equal(flood_verdict_str(FLOOD_NOTICE), "notice");
    assert_string_equal(flood_verdict_str(FLOOD_DROP), "drop");
    assert_string_equal(flood_verdict_str((enum flood_verdict)42), "unknown");
    flood_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scripted_sequences_get_the_right_verdicts),
        cmocka_unit_test(no_limit_remembers_nobody),
        cmocka_unit_test(a_full_table_forgets_the_longest_idle_user),
        cmocka_unit_test(long_user_ids_are_told_apart),
        cmocka_unit_test(the_notice_names_the_limit),
        cmocka_unit_test(verdicts_have_names_and_free_accepts_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
