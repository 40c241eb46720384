/* bench_seed.c - gives a knowledge base a busy workspace's history, for the benchmark: N settled
 * questions in its inbox, answered over the last day (as a bot answering all day keeps them, to
 * recognise redeliveries), and M questions in its list of declined ones.
 *
 *   bench_seed --db PATH --inbox N --unanswered M
 *
 * The database and its inbox file are created (with the bundled knowledge base) when they do not
 * exist. The rows go in through SQL in one transaction each, which takes seconds for a million. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "inbox.h"
#include "kb.h"

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 100000000)
        return -1;
    *out = v;
    return 0;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    fprintf(stderr, "bench_seed: %s: %s\n", sql, msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
}

/* Runs sql for i = 0 .. n-1 with ?1 = i, ?2 = now and ?3 = n, in one transaction. */
static int fill(const char *path, const char *sql, long n, int64_t now)
{
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_seed: cannot open %s: %s\n", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    sqlite3_stmt *st = NULL;
    int rc = exec(db, "BEGIN");
    if (!rc && sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_seed: %s: %s\n", sql, sqlite3_errmsg(db));
        rc = -1;
    }
    for (long i = 0; !rc && i < n; i++) {
        sqlite3_bind_int64(st, 1, i);
        sqlite3_bind_int64(st, 2, now);
        sqlite3_bind_int64(st, 3, n);
        if (sqlite3_step(st) != SQLITE_DONE) {
            fprintf(stderr, "bench_seed: row %ld: %s\n", i, sqlite3_errmsg(db));
            rc = -1;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (!rc)
        rc = exec(db, "COMMIT");
    sqlite3_close(db);
    return rc;
}

int main(int argc, char **argv)
{
    const char *db = NULL;
    long inbox = 0, unanswered = 0;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = !v;
        if (!bad && strcmp(a, "--db") == 0)
            db = v;
        else if (!bad && strcmp(a, "--inbox") == 0)
            bad = parse_count(v, &inbox);
        else if (!bad && strcmp(a, "--unanswered") == 0)
            bad = parse_count(v, &unanswered);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "usage: bench_seed --db PATH --inbox N --unanswered M\n");
            return 2;
        }
    }
    if (!db) {
        fprintf(stderr, "usage: bench_seed --db PATH --inbox N --unanswered M\n");
        return 2;
    }
    struct kb *kb;
    struct inbox *ib;
    char err[1024], inbox_path[4200];
    if (kb_open(&kb, db, 0, err, sizeof err) || inbox_open(&ib, db, err, sizeof err) ||
        inbox_file(db, inbox_path, sizeof inbox_path)) {
        fprintf(stderr, "bench_seed: %s\n", err);
        return 1;
    }
    inbox_close(ib);
    kb_close(kb);
    int64_t now = (int64_t)time(NULL);
    /* settled over the last day, newest last, as the bot leaves them */
    int rc = fill(inbox_path,
                  "INSERT INTO inbox (platform, event, received, user, channel, thread, direct,"
                  " text, state, settled, attempts) VALUES ('slack', printf('Ev%08d', ?1),"
                  " ?2 - 86000 + ?1 * 86000 / ?3,"
                  " printf('U%04d', ?1 % 5000), printf('C%03d', ?1 % 300), '', 0,"
                  " 'What does the plan say about Donetsk?', 'answered', ?2 - 86000 + ?1 * 86000 / "
                  "?3 + 1, 1)",
                  inbox, now);
    if (!rc)
        rc =
            fill(db,
                 "INSERT INTO unanswered (key, question, count, first_asked, last_asked, via)"
                 " VALUES (printf('declined question %d', ?1), printf('Declined question %d?', ?1),"
                 " 1 + ?1 % 7, strftime('%Y-%m-%dT%H:%M:%SZ', ?2 - ?1 % 86400, 'unixepoch'),"
                 " strftime('%Y-%m-%dT%H:%M:%SZ', ?2 - ?1 % 3600, 'unixepoch'), 'slack')",
                 unanswered, now);
    if (rc)
        return 1;
    printf("inbox %ld\nunanswered %ld\n", inbox, unanswered);
    return 0;
}
