/* test_inbox.c - the inbox: questions acknowledged to a chat platform are recorded (in batches)
 * before the acknowledgement, found open after a crash, recognised when delivered again,
 * settled, and pruned a day later in bounded batches; in a file of its own, whose every statement
 * on a question's path finds its rows through an index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "inbox.h"
#include "kb.h"
#include "oldschema.h"
#include "testdir.h"

struct fx {
    char dir[64];
    char path[128];  /* the knowledge base */
    char ipath[160]; /* its inbox */
    struct inbox *ib;
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
    snprintf(f->ipath, sizeof f->ipath, "%s/kb.db.inbox", f->dir);
    char err[512];
    if (inbox_open(&f->ib, f->path, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    inbox_close(f->ib);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

static struct inbox_question question(const char *event, const char *text)
{
    struct inbox_question q = { 0,     "slack", event, (int64_t)time(NULL), "U1", "C1",
                                "1.2", 0,       text,  strlen(text),        1 };
    return q;
}

/* Records one question; returns its rc (the batch's when that failed). */
static int add1(struct inbox *ib, struct inbox_question *q)
{
    int one = -100;
    int rc = inbox_add(ib, q, 1, &one);
    return rc ? rc : one;
}

static int settle1(struct inbox *ib, int64_t n, int answered, int64_t now)
{
    struct inbox_settle s = { n, answered };
    return inbox_settle(ib, &s, 1, now);
}

struct seen {
    int n;
    char events[8][32];
    char texts[8][64];
    int64_t ids[8];
    int attempts[8];
};

static void collect(void *arg, const struct inbox_question *q)
{
    struct seen *s = arg;
    if (s->n < 8) {
        snprintf(s->events[s->n], sizeof s->events[0], "%s", q->event);
        snprintf(s->texts[s->n], sizeof s->texts[0], "%s", q->text);
        assert_int_equal(strlen(q->text), q->len);
        s->ids[s->n] = q->n;
        s->attempts[s->n] = q->attempts;
    }
    s->n++;
}

static struct seen open_ones(struct inbox *ib, const char *platform)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    assert_int_equal(inbox_each_open(ib, platform, collect, &s), 0);
    return s;
}

static void recorded_questions_stay_open_until_settled(void **state)
{
    struct fx *f = *state;
    struct inbox_question q[2] = { question("Ev1", "Who drafted the plan?"),
                                   question("Ev2", "What about NATO?") };
    int rc[2] = { -1, -1 };
    assert_int_equal(inbox_add(f->ib, q, 2, rc), 0); /* one transaction for both */
    assert_int_equal(rc[0], 0);
    assert_int_equal(rc[1], 0);
    assert_true(q[0].n > 0 && q[1].n > q[0].n);
    struct seen s = open_ones(f->ib, "slack");
    assert_int_equal(s.n, 2);
    assert_string_equal(s.events[0], "Ev1"); /* oldest first */
    assert_string_equal(s.texts[1], "What about NATO?");
    assert_int_equal(open_ones(f->ib, "discord").n, 0);
    int64_t now = (int64_t)time(NULL);
    assert_int_equal(settle1(f->ib, q[0].n, 1, now), 0);
    s = open_ones(f->ib, "slack");
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], q[1].n);
    struct inbox_settle both[2] = { { q[1].n, 0 }, { q[0].n, 0 } }; /* settling twice: harmless */
    assert_int_equal(inbox_settle(f->ib, both, 2, now), 0);
    assert_int_equal(open_ones(f->ib, "slack").n, 0);
    int64_t open = -1, settled = -1;
    assert_int_equal(inbox_count(f->ib, &open, &settled), 0);
    assert_int_equal(open, 0);
    assert_int_equal(settled, 2);
}

static void a_question_text_may_hold_any_bytes_but_is_kept_whole(void **state)
{
    struct fx *f = *state;
    static const char text[] = "not NUL-terminated: this part is not the question";
    struct inbox_question q = question("EvLen", text);
    q.len = 18; /* "not NUL-terminated" */
    assert_int_equal(add1(f->ib, &q), 0);
    struct seen s = open_ones(f->ib, "slack");
    assert_string_equal(s.texts[0], "not NUL-terminated");
}

static void a_redelivery_is_recognised_also_after_it_was_answered(void **state)
{
    struct fx *f = *state;
    /* twice in one batch: the first is recorded, the second is a redelivery */
    struct inbox_question q[3] = { question("EvSame", "Who pays?"), question("EvSame", "Who pays?"),
                                   question("EvOther", "Who signs?") };
    int rc[3];
    assert_int_equal(inbox_add(f->ib, q, 3, rc), 0);
    assert_int_equal(rc[0], 0);
    assert_int_equal(rc[1], ERR_EXISTS);
    assert_int_equal(q[1].n, 0);
    assert_int_equal(rc[2], 0);
    assert_int_equal(open_ones(f->ib, "slack").n, 2);
    struct inbox_question again = question("EvSame", "Who pays?");
    assert_int_equal(add1(f->ib, &again), ERR_EXISTS);
    assert_int_equal(settle1(f->ib, q[0].n, 1, (int64_t)time(NULL)), 0);
    assert_int_equal(add1(f->ib, &again), ERR_EXISTS);
    /* the same id on another platform is another question */
    struct inbox_question other = question("EvSame", "Who pays?");
    other.platform = "mattermost";
    assert_int_equal(add1(f->ib, &other), 0);
}

static void settled_records_are_pruned_after_a_day_in_bounded_batches(void **state)
{
    struct fx *f = *state;
    int64_t now = (int64_t)time(NULL), two_days_ago = now - 2 * 86400;
    int64_t ids[5];
    for (int i = 0; i < 5; i++) {
        char event[16];
        snprintf(event, sizeof event, "EvOld%d", i);
        struct inbox_question q = question(event, "old");
        assert_int_equal(add1(f->ib, &q), 0);
        ids[i] = q.n;
    }
    struct inbox_question open = question("EvOpen", "still open");
    assert_int_equal(add1(f->ib, &open), 0);
    struct inbox_question recent = question("EvRecent", "settled an hour ago");
    assert_int_equal(add1(f->ib, &recent), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(settle1(f->ib, ids[i], 1, two_days_ago), 0);
    assert_int_equal(settle1(f->ib, recent.n, 1, now - 3600), 0);
    /* settling prunes nothing: that is the timer's work, a batch at a time */
    struct inbox_question again = question("EvOld0", "old");
    assert_int_equal(add1(f->ib, &again), ERR_EXISTS);
    int pruned = -1;
    assert_int_equal(inbox_prune(f->ib, now, 2, &pruned), 0);
    assert_int_equal(pruned, 2);
    assert_int_equal(inbox_prune(f->ib, now, 2, &pruned), 0);
    assert_int_equal(pruned, 2);
    assert_int_equal(inbox_prune(f->ib, now, 2, &pruned), 0);
    assert_int_equal(pruned, 1); /* fewer than asked: none is left */
    assert_int_equal(inbox_prune(f->ib, now, 2, &pruned), 0);
    assert_int_equal(pruned, 0);
    assert_int_equal(add1(f->ib, &again), 0); /* forgotten: a new question */
    struct inbox_question recent_again = question("EvRecent", "settled an hour ago");
    assert_int_equal(add1(f->ib, &recent_again), ERR_EXISTS);
    assert_int_equal(open_ones(f->ib, "slack").n, 2); /* EvOpen, and EvOld0 again */
}

static void a_locked_inbox_fails_fast_and_records_nothing(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->ipath, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct inbox_question q[2] = { question("EvLocked1", "Who drafted the plan?"),
                                   question("EvLocked2", "Who signs?") };
    int rc[2];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(inbox_add(f->ib, q, 2, rc), ERR_BUSY);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* a bound, not a benchmark: the acknowledgement must not wait the usual 5 s */
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 2.0);
    assert_non_null(strstr(inbox_errmsg(f->ib), "locked"));
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(open_ones(f->ib, "slack").n, 0);
    assert_int_equal(inbox_add(f->ib, q, 2, rc), 0); /* the redelivery is recorded */
    assert_int_equal(open_ones(f->ib, "slack").n, 2);
}

static void a_lock_on_the_knowledge_base_never_delays_the_inbox(void **state)
{
    struct fx *f = *state;
    struct kb *kb;
    char err[512];
    assert_int_equal(kb_open(&kb, f->path, 0, err, sizeof err), 0);
    sqlite3 *db; /* a long `kb import` at the terminal */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; DELETE FROM synonyms", NULL, NULL, NULL),
                     SQLITE_OK);
    inbox_set_busy_ms(f->ib, 0); /* not a moment's wait allowed */
    struct inbox_question q = question("EvDuringImport", "Who pays?");
    assert_int_equal(add1(f->ib, &q), 0);
    assert_int_equal(settle1(f->ib, q.n, 1, (int64_t)time(NULL)), 0);
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    kb_close(kb);
    struct stat sb;
    assert_int_equal(stat(f->ipath, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600); /* it holds what people asked */
}

static void attempts_are_counted_for_the_replay(void **state)
{
    struct fx *f = *state;
    struct inbox_question q = question("EvTry", "help kb");
    assert_int_equal(add1(f->ib, &q), 0);
    struct seen s = open_ones(f->ib, "slack");
    assert_int_equal(s.attempts[0], 1); /* the daemon answers a new record at once */
    assert_int_equal(inbox_attempt(f->ib, q.n), 0);
    s = open_ones(f->ib, "slack");
    assert_int_equal(s.attempts[0], 2);
}

static void a_read_only_inbox_is_refused_with_a_clear_message(void **state)
{
    struct fx *f = *state;
    inbox_close(f->ib);
    f->ib = NULL;
    assert_int_equal(chmod(f->ipath, 0444), 0);
    char err[512];
    assert_int_equal(inbox_open(&f->ib, f->path, err, sizeof err), ERR_READONLY);
    assert_null(f->ib);
    assert_non_null(strstr(err, "read-only"));
    assert_non_null(strstr(err, f->ipath));
    assert_int_equal(chmod(f->ipath, 0600), 0);
    assert_int_equal(inbox_open(&f->ib, f->path, err, sizeof err), 0);
}

static void a_file_that_is_not_an_inbox_is_refused(void **state)
{
    struct fx *f = *state;
    char other[160], err[512];
    snprintf(other, sizeof other, "%s/other.db", f->dir);
    char other_inbox[200];
    snprintf(other_inbox, sizeof other_inbox, "%s.inbox", other);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(other_inbox, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE invoices (n)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct inbox *ib = NULL;
    assert_int_equal(inbox_open(&ib, other, err, sizeof err), ERR_SCHEMA);
    assert_non_null(strstr(err, "not a planbot inbox"));
    assert_int_equal(sqlite3_open(other_inbox, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "DROP TABLE invoices; PRAGMA user_version = 99", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(inbox_open(&ib, other, err, sizeof err), ERR_SCHEMA);
    assert_non_null(strstr(err, "newer than this planbot"));
}

/* An inbox as planbot wrote it before version 2: the state's CHECK an IN list. */
static const char inbox_v1_schema[] =
    "CREATE TABLE inbox (n INTEGER PRIMARY KEY, platform TEXT NOT NULL, event TEXT NOT NULL,"
    " received INTEGER NOT NULL, user TEXT NOT NULL, channel TEXT NOT NULL, thread TEXT NOT NULL,"
    " direct INTEGER NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open' CHECK"
    " (state IN ('open', 'answered', 'expired')), settled INTEGER, attempts INTEGER NOT NULL"
    " DEFAULT 0, UNIQUE (platform, event));"
    "CREATE INDEX inbox_open ON inbox(platform, n) WHERE state = 'open';"
    "CREATE INDEX inbox_settled ON inbox(settled) WHERE state <> 'open';"
    "INSERT INTO inbox VALUES (7, 'slack', 'EvOpen', 1, 'U1', 'C1', '1.2', 0, 'Who wrote it?',"
    " 'open', NULL, 2);"
    "INSERT INTO inbox VALUES (9, 'slack', 'EvDone', 1, 'U1', 'C1', '1.3', 0, 'And NATO?',"
    " 'answered', strftime('%s', 'now'), 1);"
    "PRAGMA user_version = 1;";

static int64_t one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void an_inbox_of_version_1_is_upgraded_keeping_every_record(void **state)
{
    struct fx *f = *state;
    char old[160], old_inbox[200], err[512];
    snprintf(old, sizeof old, "%s/old.db", f->dir);
    snprintf(old_inbox, sizeof old_inbox, "%s.inbox", old);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(old_inbox, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, inbox_v1_schema, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct inbox *ib = NULL;
    assert_int_equal(inbox_open(&ib, old, err, sizeof err), 0);
    struct seen s = open_ones(ib, "slack"); /* the open one, with its number and attempts */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], 7);
    assert_int_equal(s.attempts[0], 2);
    assert_string_equal(s.texts[0], "Who wrote it?");
    struct inbox_question again = question("EvDone", "And NATO?");
    assert_int_equal(add1(ib, &again), ERR_EXISTS); /* the settled one still spots redelivery */
    struct inbox_question fresh = question("EvNew", "And Crimea?");
    assert_int_equal(add1(ib, &fresh), 0);
    assert_true(fresh.n > 9);
    assert_int_equal(settle1(ib, 7, 1, (int64_t)time(NULL)), 0);
    inbox_close(ib);

    assert_int_equal(sqlite3_open(old_inbox, &db), SQLITE_OK);
    assert_int_equal(one_int(db, "PRAGMA user_version"), INBOX_SCHEMA);
    assert_int_equal(one_int(db, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '% IN (%'"), 0);
    assert_int_equal(one_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index'"), 3);
    assert_int_equal(one_int(db, "SELECT count(*) FROM inbox"), 3);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO inbox (platform, event, received, user, channel,"
                                  " thread, direct, text, state) VALUES ('slack', 'EvBad', 1,"
                                  " 'U', 'C', '', 0, 'x', 'lost')",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT); /* the CHECK still holds */
    sqlite3_close(db);
    assert_int_equal(inbox_open(&ib, old, err, sizeof err), 0); /* opened again: nothing to do */
    inbox_close(ib);
}

/* A knowledge base as planbot 0.1 with schema version 3 left it: the inbox a table in it. */
static void make_v3_database(const char *path, int64_t now)
{
    struct kb *kb;
    char err[512];
    assert_int_equal(kb_open(&kb, path, 0, err, sizeof err), 0);
    kb_close(kb);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, oldschema_4, NULL, NULL, NULL), SQLITE_OK);
    char sql[2048];
    snprintf(sql, sizeof sql,
             "CREATE TABLE inbox (n INTEGER PRIMARY KEY, platform TEXT NOT NULL, event TEXT NOT"
             " NULL, received INTEGER NOT NULL, user TEXT NOT NULL, channel TEXT NOT NULL, thread"
             " TEXT NOT NULL, direct INTEGER NOT NULL, text TEXT NOT NULL, state TEXT NOT NULL"
             " DEFAULT 'open', settled INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
             " UNIQUE (platform, event));"
             "INSERT INTO inbox (platform, event, received, user, channel, thread, direct, text,"
             " state, settled, attempts) VALUES"
             " ('slack', 'EvOpenBeforeUpgrade', %lld, 'U1', 'C1', '1.2', 0, 'Who pays?', 'open',"
             " NULL, 1),"
             " ('slack', 'EvAnsweredYesterday', %lld, 'U1', 'C1', '', 1, 'Who signs?',"
             " 'answered', %lld, 1),"
             " ('slack', 'EvAnsweredLastWeek', %lld, 'U1', 'C1', '', 1, 'Who?', 'answered', %lld,"
             " 1);"
             "PRAGMA user_version = 3;",
             (long long)now, (long long)(now - 3600), (long long)(now - 3600),
             (long long)(now - 7 * 86400), (long long)(now - 7 * 86400));
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void an_older_knowledge_base_hands_its_open_questions_over(void **state)
{
    struct fx *f = *state;
    char old[160], err[512];
    snprintf(old, sizeof old, "%s/old.db", f->dir);
    make_v3_database(old, (int64_t)time(NULL));
    struct kb *kb;
    assert_int_equal(kb_open(&kb, old, 0, err, sizeof err), 0); /* migrates to version 4 */
    kb_close(kb);
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(old, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*) FROM sqlite_schema WHERE name = 'inbox'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0); /* the table is gone from the knowledge base */
    sqlite3_finalize(st);
    sqlite3_close(db);
    struct inbox *ib;
    assert_int_equal(inbox_open(&ib, old, err, sizeof err), 0);
    struct seen s = open_ones(ib, "slack");
    assert_int_equal(s.n, 1);
    assert_string_equal(s.events[0], "EvOpenBeforeUpgrade");
    assert_string_equal(s.texts[0], "Who pays?");
    struct inbox_question q = question("EvAnsweredYesterday", "Who signs?");
    assert_int_equal(add1(ib, &q), ERR_EXISTS); /* still recognised as a redelivery */
    q = question("EvAnsweredLastWeek", "Who?");
    assert_int_equal(add1(ib, &q), 0); /* older than a day: not kept */
    inbox_close(ib);
}

/* The statements that read or write whole tables, in EXPLAIN QUERY PLAN's words. */
static int scans_a_table(const char *detail)
{
    return strncmp(detail, "SCAN ", 5) == 0 || strstr(detail, "USE TEMP B-TREE") != NULL;
}

static void every_statement_on_a_question_path_searches_an_index(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->ipath, &db), SQLITE_OK);
    int checked = 0;
    for (size_t i = 0; inbox_statements[i]; i++) {
        char sql[1024];
        snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", inbox_statements[i]);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *detail = (const char *)sqlite3_column_text(st, 3);
            if (scans_a_table(detail))
                fail_msg("\"%s\" reads the whole inbox: %s", inbox_statements[i], detail);
            checked++;
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    assert_true(checked >= 4); /* the settle, the prune (two), the replay */
}

/* The statements that write a question's record and its settle, which run for every question:
 * none may build a temporary table or index (an IN list of three or more values, a sort), which
 * SQLite builds anew in every run. The prune, off the path on a timer, may. */
static void no_statement_on_a_question_path_builds_a_temporary_table(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->ipath, &db), SQLITE_OK);
    int checked = 0;
    for (size_t i = 0; inbox_statements[i]; i++) {
        const char *sql = inbox_statements[i];
        if (strncmp(sql, "INSERT", 6) != 0 && strncmp(sql, "UPDATE", 6) != 0)
            continue;
        char explain[1024];
        snprintf(explain, sizeof explain, "EXPLAIN %s", sql);
        sqlite3_stmt *st;
        assert_int_equal(sqlite3_prepare_v2(db, explain, -1, &st, NULL), SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *op = (const char *)sqlite3_column_text(st, 1);
            if (strcmp(op, "OpenEphemeral") == 0 || strcmp(op, "OpenAutoindex") == 0 ||
                strcmp(op, "SorterOpen") == 0)
                fail_msg("\"%s\" builds a temporary table (%s) every time it runs", sql, op);
        }
        sqlite3_finalize(st);
        checked++;
    }
    sqlite3_close(db);
    assert_true(checked >= 3); /* the record, the attempt, the settle */
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(recorded_questions_stay_open_until_settled),
        T(a_question_text_may_hold_any_bytes_but_is_kept_whole),
        T(a_redelivery_is_recognised_also_after_it_was_answered),
        T(settled_records_are_pruned_after_a_day_in_bounded_batches),
        T(a_locked_inbox_fails_fast_and_records_nothing),
        T(a_lock_on_the_knowledge_base_never_delays_the_inbox),
        T(attempts_are_counted_for_the_replay),
        T(a_read_only_inbox_is_refused_with_a_clear_message),
        T(a_file_that_is_not_an_inbox_is_refused),
        T(an_older_knowledge_base_hands_its_open_questions_over),
        T(an_inbox_of_version_1_is_upgraded_keeping_every_record),
        T(every_statement_on_a_question_path_searches_an_index),
        T(no_statement_on_a_question_path_builds_a_temporary_table),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
