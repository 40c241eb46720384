/* test_kb_inbox.c - the inbox: questions acknowledged to a chat platform are recorded before the
 * acknowledgement, found open after a crash, recognised when delivered again, and settled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "kb.h"
#include "testdir.h"

struct fx {
    char dir[64];
    char path[128];
    struct kb *kb;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-test-inbox-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    char err[512];
    if (kb_open(&f->kb, f->path, 0, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    kb_close(f->kb);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

static struct kb_question question(const char *event, const char *text)
{
    struct kb_question q = {
        0, "slack", event, (int64_t)time(NULL), "U1", "C1", "1.2", 0, text, 0
    };
    return q;
}

struct seen {
    int n;
    char events[8][32];
    char texts[8][64];
    int64_t ids[8];
};

static void collect(void *arg, const struct kb_question *q)
{
    struct seen *s = arg;
    if (s->n < 8) {
        snprintf(s->events[s->n], sizeof s->events[0], "%s", q->event);
        snprintf(s->texts[s->n], sizeof s->texts[0], "%s", q->text);
        s->ids[s->n] = q->n;
    }
    s->n++;
}

static struct seen open_ones(struct kb *kb, const char *platform)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(kb_inbox_open(kb, platform, collect, &s), 0);
    return s;
}

static void recorded_questions_stay_open_until_settled(void **state)
{
    struct fx *f = *state;
    struct kb_question a = question("Ev1", "Who drafted the plan?");
    struct kb_question b = question("Ev2", "What about NATO?");
    assert_int_equal(kb_inbox_add(f->kb, &a), 0);
    assert_int_equal(kb_inbox_add(f->kb, &b), 0);
    assert_true(a.n > 0 && b.n > a.n);
    struct seen s = open_ones(f->kb, "slack");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.events[0], "Ev1"); /* oldest first */
    assert_string_equal(s.texts[1], "What about NATO?");
    assert_int_equal(open_ones(f->kb, "discord").n, 0);
    assert_int_equal(kb_inbox_settle(f->kb, a.n, 1), 0);
    s = open_ones(f->kb, "slack");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], b.n);
    assert_int_equal(kb_inbox_settle(f->kb, b.n, 0), 0);
    assert_int_equal(open_ones(f->kb, "slack").n, 0);
    /* settling twice is harmless */
    assert_int_equal(kb_inbox_settle(f->kb, b.n, 1), 0);
}

static void a_redelivery_is_recognised_also_after_it_was_answered(void **state)
{
    struct fx *f = *state;
    struct kb_question a = question("EvSame", "Who pays?");
    assert_int_equal(kb_inbox_add(f->kb, &a), 0);
    struct kb_question again = question("EvSame", "Who pays?");
    assert_int_equal(kb_inbox_add(f->kb, &again), ERR_EXISTS);
    assert_int_equal(again.n, 0);
    assert_int_equal(kb_inbox_settle(f->kb, a.n, 1), 0);
    assert_int_equal(kb_inbox_add(f->kb, &again), ERR_EXISTS);
    /* the same id on another platform is another question */
    struct kb_question other = question("EvSame", "Who pays?");
    other.platform = "mattermost";
    assert_int_equal(kb_inbox_add(f->kb, &other), 0);
}

static void settled_records_are_forgotten_after_a_day(void **state)
{
    struct fx *f = *state;
    struct kb_question old = question("EvOld", "old");
    assert_int_equal(kb_inbox_add(f->kb, &old), 0);
    assert_int_equal(kb_inbox_settle(f->kb, old.n, 1), 0);
    /* pretend it was settled two days ago */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "UPDATE inbox SET settled = settled - 2 * 86400", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    struct kb_question now = question("EvNow", "now");
    assert_int_equal(kb_inbox_add(f->kb, &now), 0);
    assert_int_equal(kb_inbox_settle(f->kb, now.n, 1), 0); /* prunes */
    struct kb_question again = question("EvOld", "old");
    assert_int_equal(kb_inbox_add(f->kb, &again), 0); /* forgotten: a new question */
    struct kb_question recent = question("EvNow", "now");
    assert_int_equal(kb_inbox_add(f->kb, &recent), ERR_EXISTS);
}

static void a_locked_database_fails_fast_and_records_nothing(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct kb_question q = question("EvLocked", "Who drafted the plan?");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(kb_inbox_add(f->kb, &q), ERR_BUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* a bound, not a benchmark: the acknowledgement must not wait the usual 5 s */
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 2.0);
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(open_ones(f->kb, "slack").n, 0);
    assert_int_equal(kb_inbox_add(f->kb, &q), 0); /* the redelivery is recorded */
}

struct attempts {
    int64_t n;
    int attempts;
};

static void find_attempts(void *arg, const struct kb_question *q)
{
    struct attempts *a = arg;
    if (q->n == a->n)
        a->attempts = q->attempts;
}

static void attempts_are_counted_for_the_replay(void **state)
{
    struct fx *f = *state;
    struct kb_question q = question("EvTry", "help kb");
    assert_int_equal(kb_inbox_add(f->kb, &q), 0);
    struct attempts a = { q.n, -1 };
    assert_int_equal(kb_inbox_open(f->kb, "slack", find_attempts, &a), 0);
    assert_int_equal(a.attempts, 0);
    assert_int_equal(kb_inbox_attempt(f->kb, q.n), 0);
    assert_int_equal(kb_inbox_attempt(f->kb, q.n), 0);
    assert_int_equal(kb_inbox_open(f->kb, "slack", find_attempts, &a), 0);
    assert_int_equal(a.attempts, 2);
}

static void a_readonly_database_records_nothing(void **state)
{
    struct fx *f = *state;
    struct kb *ro;
    char err[512];
    assert_int_equal(kb_open(&ro, f->path, KB_OPEN_READONLY, err, sizeof err), 0);
    assert_false(kb_writable(ro));
    assert_true(kb_writable(f->kb));
    struct kb_question q = question("EvRo", "x");
    assert_int_equal(kb_inbox_add(ro, &q), ERR_READONLY);
    kb_close(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recorded_questions_stay_open_until_settled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_redelivery_is_recognised_also_after_it_was_answered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(settled_records_are_forgotten_after_a_day, setup, teardown),
        cmocka_unit_test_setup_teardown(a_locked_database_fails_fast_and_records_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(attempts_are_counted_for_the_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(a_readonly_database_records_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
