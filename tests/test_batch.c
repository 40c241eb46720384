/* test_batch.c - group commit: the records of one turn of the loop are written in one transaction
 * and reported only once committed; settles and declined questions likewise, kept for later while
 * a lock is held, never waiting for it; the questions recorded and not yet settled are counted
 * (the loop lingers when behind only while several are answered at once). And the whole path of a
 * question (record, answer or decline, settle) runs no statement that reads a whole table that
 * grows with traffic: each statement's query plan is checked. */
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

#include "batch.h"
#include "dispatch.h"
#include "slack_codec.h"
#include "err.h"
#include "inbox.h"
#include "kb_int.h"
#include "testdir.h"

struct fx {
    char dir[64];
    char path[128];  /* the knowledge base */
    char ipath[160]; /* its inbox */
    struct kb *kb;
    struct inbox *ib;
    struct batch *b;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-test-batch-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    snprintf(f->ipath, sizeof f->ipath, "%s/kb.db.inbox", f->dir);
    char err[512];
    if (kb_open(&f->kb, f->path, 0, err, sizeof err) ||
        inbox_open(&f->ib, f->path, err, sizeof err) || batch_new(&f->b, f->kb, f->ib)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    batch_free(f->b);
    inbox_close(f->ib);
    kb_close(f->kb);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* What the callbacks were told. */
struct outcome {
    int called, rc;
    int64_t record;
};

static void done(void *arg, int rc, int64_t record)
{
    struct outcome *o = arg;
    o->called++;
    o->rc = rc;
    o->record = record;
}

static int record(struct fx *f, const char *event, struct outcome *o)
{
    struct inbox_question q = { 0,    "slack", event, (int64_t)time(NULL), "U1", "C1", "", 0,
                                "Q?", 2,       0 };
    return batch_record(f->b, &q, done, o);
}

static void count_open(void *arg, const struct inbox_question *q)
{
    (void)q;
    ++*(int *)arg;
}

static int open_records(struct fx *f)
{
    int n = 0;
    assert_int_equal(inbox_each_open(f->ib, "slack", count_open, &n), 0);
    return n;
}

/* Another process's write lock on the file at path, until unlock(). */
static sqlite3 *lock(const char *path)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return db;
}

static void unlock(sqlite3 *db)
{
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void records_are_reported_only_once_committed(void **state)
{
    struct fx *f = *state;
    struct outcome o[3] = { { 0 } };
    assert_int_equal(record(f, "Ev1", &o[0]), 0);
    assert_int_equal(record(f, "Ev2", &o[1]), 0);
    assert_int_equal(record(f, "Ev1", &o[2]), 0); /* redelivered in the same turn */
    assert_true(batch_pending(f->b));
    assert_int_equal(o[0].called + o[1].called + o[2].called, 0); /* nothing acknowledged yet */
    assert_int_equal(open_records(f), 0);
    assert_true(batch_flush(f->b));
    assert_false(batch_pending(f->b));
    assert_int_equal(o[0].called, 1);
    assert_int_equal(o[0].rc, 0);
    assert_int_equal(o[1].rc, 0);
    assert_true(o[0].record > 0 && o[1].record > o[0].record);
    assert_int_equal(o[2].rc, ERR_EXISTS);
    assert_int_equal(o[2].record, 0);
    assert_int_equal(open_records(f), 2);
    assert_false(batch_flush(f->b)); /* nothing left */
}

/* batch_open(): the questions being answered side by side, for the loop's linger. */
static void open_counts_questions_recorded_and_not_yet_settled(void **state)
{
    struct fx *f = *state;
    struct outcome o[3] = { { 0 } };
    assert_int_equal(batch_open(f->b), 0);
    assert_int_equal(record(f, "EvO1", &o[0]), 0);
    assert_int_equal(record(f, "EvO2", &o[1]), 0);
    assert_int_equal(record(f, "EvO1", &o[2]), 0); /* a redelivery: not another question */
    assert_int_equal(batch_open(f->b), 0);         /* not before the records are committed */
    batch_flush(f->b);
    assert_int_equal(batch_open(f->b), 2);
    batch_settle(f->b, o[0].record, 1);
    assert_int_equal(batch_open(f->b), 1);
    batch_settle(f->b, 0, 1); /* no record: nothing */
    assert_int_equal(batch_open(f->b), 1);
    batch_settle(f->b, o[1].record, 0);
    batch_settle(f->b, 12345, 1); /* one an earlier run left open: never counted */
    assert_int_equal(batch_open(f->b), 0);
    /* a turn whose records could not be written adds nothing */
    sqlite3 *db = lock(f->ipath);
    assert_int_equal(record(f, "EvO3", &o[2]), 0);
    batch_flush(f->b);
    unlock(db);
    assert_int_equal(o[2].rc, ERR_BUSY);
    assert_int_equal(batch_open(f->b), 0);
}

static void a_locked_inbox_fails_the_whole_turn_and_records_nothing(void **state)
{
    struct fx *f = *state;
    struct outcome o[2] = { { 0 } };
    assert_int_equal(record(f, "EvA", &o[0]), 0);
    assert_int_equal(record(f, "EvB", &o[1]), 0);
    sqlite3 *db = lock(f->ipath);
    batch_flush(f->b);
    unlock(db);
    assert_int_equal(o[0].called, 1);
    assert_int_equal(o[0].rc, ERR_BUSY); /* not acknowledged: the platform delivers it again */
    assert_int_equal(o[1].rc, ERR_BUSY);
    assert_int_equal(open_records(f), 0);
    struct outcome again = { 0 };
    assert_int_equal(record(f, "EvA", &again), 0);
    batch_flush(f->b);
    assert_int_equal(again.rc, 0);
}

/* A callback that records one more question, as an adapter answering at once might. */
struct chain {
    struct fx *f;
    struct outcome first, second;
};

static void record_another(void *arg, int rc, int64_t n)
{
    struct chain *c = arg;
    done(&c->first, rc, n);
    assert_int_equal(record(c->f, "EvSecond", &c->second), 0);
}

static void what_a_callback_queues_waits_for_the_next_flush(void **state)
{
    struct fx *f = *state;
    struct chain c = { f, { 0 }, { 0 } };
    struct inbox_question q = { 0,    "slack", "EvFirst", (int64_t)time(NULL), "U1", "C1", "", 0,
                                "Q?", 2,       0 };
    assert_int_equal(batch_record(f->b, &q, record_another, &c), 0);
    assert_true(batch_flush(f->b)); /* reported: the loop flushes again */
    assert_int_equal(c.first.rc, 0);
    assert_int_equal(c.second.called, 0);
    assert_true(batch_pending(f->b));
    assert_true(batch_flush(f->b));
    assert_int_equal(c.second.called, 1);
    assert_int_equal(c.second.rc, 0);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void settles_are_kept_while_the_inbox_is_locked(void **state)
{
    struct fx *f = *state;
    struct outcome o[2] = { { 0 } };
    record(f, "EvS1", &o[0]);
    record(f, "EvS2", &o[1]);
    batch_flush(f->b);
    batch_settle(f->b, o[0].record, 1);
    batch_settle(f->b, o[1].record, 0);
    batch_settle(f->b, 0, 1); /* no record: nothing */
    sqlite3 *db = lock(f->ipath);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int64_t due = now_ms() + BATCH_SETTLE_WAIT_MS; /* the settles have waited long enough */
    assert_false(batch_flush_at(f->b, due));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    unlock(db);
    /* a bound, not a benchmark: a settle never waits for the lock */
    assert_true((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 < 0.2);
    assert_true(batch_pending(f->b));
    assert_int_equal(open_records(f), 2);
    batch_flush_at(f->b, due);
    assert_false(batch_pending(f->b));
    assert_int_equal(open_records(f), 0);
}

/* Settles with no record to go with wait for company: the next turn's records, the group size,
 * the wait, or the end of the run. */
static void settles_alone_wait_for_company(void **state)
{
    struct fx *f = *state;
    struct outcome o[BATCH_SETTLE_GROUP + 2];
    memset(o, 0, sizeof o);
    char event[32];
    for (int i = 0; i < 3; i++) {
        snprintf(event, sizeof event, "EvC%d", i);
        record(f, event, &o[i]);
    }
    batch_flush(f->b);
    batch_settle(f->b, o[0].record, 1);
    int64_t queued = now_ms();
    batch_flush_at(f->b, queued); /* young, alone: it waits */
    assert_int_equal(open_records(f), 3);
    batch_flush_at(f->b, queued + BATCH_SETTLE_WAIT_MS + 1); /* waited long enough */
    assert_int_equal(open_records(f), 2);
    batch_settle(f->b, o[1].record, 1);
    record(f, "EvC-next", &o[3]); /* a record: the settle waiting goes with it */
    batch_flush_at(f->b, now_ms());
    assert_int_equal(open_records(f), 2); /* EvC2 and EvC-next */
    batch_settle(f->b, o[2].record, 1);
    batch_settle(f->b, o[3].record, 1);
    batch_drain(f->b); /* the end of a run: young or not */
    assert_int_equal(open_records(f), 0);
    assert_false(batch_pending(f->b));
    /* a group's worth is written at once */
    for (int i = 0; i < BATCH_SETTLE_GROUP; i++) {
        snprintf(event, sizeof event, "EvG%d", i);
        record(f, event, &o[i]);
    }
    batch_flush(f->b);
    assert_int_equal(open_records(f), BATCH_SETTLE_GROUP);
    for (int i = 0; i < BATCH_SETTLE_GROUP; i++)
        batch_settle(f->b, o[i].record, 1);
    batch_flush_at(f->b, now_ms());
    assert_int_equal(open_records(f), 0);
}

static void declined_questions_wait_while_the_knowledge_base_is_locked(void **state)
{
    struct fx *f = *state;
    batch_declined(f->b, "What about Moldova?", 19, "slack");
    batch_declined(f->b, "what about moldova", 18, "slack");
    sqlite3 *db = lock(f->path); /* a `kb import` at the terminal */
    batch_flush(f->b);
    assert_true(batch_pending(f->b));
    unlock(db);
    batch_flush(f->b);
    assert_false(batch_pending(f->b));
    cJSON *list;
    assert_int_equal(kb_unanswered_list(f->kb, 0, &list), 0);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "count")->valueint, 2);
    cJSON_Delete(list);
}

static void without_an_inbox_records_complete_without_a_record(void **state)
{
    struct fx *f = *state;
    struct batch *b;
    assert_int_equal(batch_new(&b, f->kb, NULL), 0);
    struct outcome o = { 0 };
    struct inbox_question q = { 0, "slack", "EvRo", 0, "U1", "C1", "", 0, "Q?", 2, 0 };
    assert_int_equal(batch_record(b, &q, done, &o), 0);
    batch_settle(b, 42, 1); /* nothing to settle */
    assert_true(batch_flush(b));
    assert_int_equal(o.rc, 0);
    assert_int_equal(o.record, 0);
    assert_false(batch_pending(b));
    assert_int_equal(batch_open(b), 0); /* nothing recorded, nothing counted */
    batch_free(b);
}

static void too_many_records_waiting_are_refused(void **state)
{
    struct fx *f = *state;
    static struct outcome o[BATCH_MAX_RECORDS + 1];
    char event[32];
    for (int i = 0; i < BATCH_MAX_RECORDS; i++) {
        snprintf(event, sizeof event, "EvMany%d", i);
        assert_int_equal(record(f, event, &o[i]), 0);
    }
    assert_int_equal(record(f, "EvOneTooMany", &o[BATCH_MAX_RECORDS]), ERR_TOOBIG);
    batch_flush(f->b);
    assert_int_equal(o[BATCH_MAX_RECORDS - 1].rc, 0);
    assert_int_equal(o[BATCH_MAX_RECORDS].called, 0); /* refused: never reported */
    assert_int_equal(open_records(f), BATCH_MAX_RECORDS);
}

/* ---- the path of a question, statement by statement ---- */

struct traced {
    char *sql[64];
    int n;
};

static int trace(unsigned type, void *ctx, void *p, void *x)
{
    (void)type;
    (void)x;
    struct traced *t = ctx;
    const char *sql = sqlite3_sql(p);
    if (!sql || strncmp(sql, "--", 2) == 0) /* a trigger's own statements come as comments */
        return 0;
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->sql[i], sql) == 0)
            return 0;
    if (t->n < 64)
        t->sql[t->n++] = strdup(sql);
    return 0;
}

static void declined(void *ctx, const char *platform, const char *text, size_t len)
{
    batch_declined(ctx, text, len, platform);
}

/* The tables that grow with traffic: a scan of one would make a question's cost grow with
 * history. (The flood limit's table is in memory, a hash table: flood.c.) */
static const char *const growing[] = { "inbox", "unanswered", "changes" };

static void no_statement_on_a_question_path_scans_a_table_that_grows(void **state)
{
    struct fx *f = *state;
    struct match *m;
    assert_int_equal(match_open(&m, f->kb), 0);
    struct dispatch d = { f->kb, m, &slack_markup, declined, f->b, NULL };
    struct traced t = { { 0 }, 0 };
    sqlite3_trace_v2(f->kb->db, SQLITE_TRACE_STMT, trace, &t);
    static const char *const questions[] = {
        "How big can Ukraine's army be?",       "What did Rubio say?", "who drafted the plan",
        "What is the best pizza in Naples?", /* declined: noted for kb unanswered */
        "Would Ukraine have to leave Donetsk?", "Wht abot NATO",       "help",
    };
    struct buf reply;
    buf_init(&reply, 1 << 20);
    for (int round = 0; round < 2; round++) { /* the second with the matcher's caches warm */
        for (size_t i = 0; i < sizeof questions / sizeof questions[0]; i++) {
            struct outcome o = { 0 };
            char event[32];
            snprintf(event, sizeof event, "EvPath%d-%zu", round, i);
            assert_int_equal(record(f, event, &o), 0);
            batch_flush(f->b);
            struct plat_message msg = { "U1", "C1",     "", questions[i], strlen(questions[i]), 0,
                                        0,    o.record, 0,  NULL };
            buf_reset(&reply);
            dispatch_message(&d, "slack", &msg, &reply);
            batch_settle(f->b, o.record, 1);
            batch_flush(f->b);
        }
    }
    sqlite3_trace_v2(f->kb->db, 0, NULL, NULL);
    buf_free(&reply);
    match_close(m);
    assert_true(t.n >= 3);
    int declined_noted = 0;
    for (int i = 0; i < t.n; i++) {
        declined_noted |= strstr(t.sql[i], "INSERT INTO unanswered") != NULL;
        char sql[4096];
        snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", t.sql[i]);
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(f->kb->db, sql, -1, &st, NULL) != SQLITE_OK)
            continue; /* BEGIN, COMMIT, PRAGMA: no plan */
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);
            for (size_t g = 0; g < sizeof growing / sizeof growing[0]; g++) {
                char scan[64];
                snprintf(scan, sizeof scan, "SCAN %s", growing[g]);
                size_t n = strlen(scan);
                if (strncmp(detail, scan, n) == 0 && (detail[n] == '\0' || detail[n] == ' '))
                    fail_msg("\"%s\" reads the whole %s table: %s", t.sql[i], growing[g], detail);
            }
        }
        sqlite3_finalize(st);
        free(t.sql[i]);
    }
    assert_true(declined_noted);
    /* the inbox's own statements are checked in test_inbox.c */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(records_are_reported_only_once_committed),
        T(open_counts_questions_recorded_and_not_yet_settled),
        T(a_locked_inbox_fails_the_whole_turn_and_records_nothing),
        T(what_a_callback_queues_waits_for_the_next_flush),
        T(settles_are_kept_while_the_inbox_is_locked),
        T(settles_alone_wait_for_company),
        T(declined_questions_wait_while_the_knowledge_base_is_locked),
        T(without_an_inbox_records_complete_without_a_record),
        T(too_many_records_waiting_are_refused),
        T(no_statement_on_a_question_path_scans_a_table_that_grows),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
