/* test_resolver.c - host name lookups off the loop (bot/net/resolver.c): an answer comes back on
 * the loop's thread, IPv4 first; a name that cannot be looked up says so; lookups are answered
 * in the order asked; freeing the resolver abandons lookups not yet handed back, whose callbacks
 * then never run. Only names that need no name server: numeric ones, "localhost", and "". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"

enum { WAIT_MS = 5000 };

struct answer {
    int done, err, order, wrong_thread;
    char addr[64], why[200];
    pthread_t loop_thread;
    int *counter; /* answers seen so far, shared */
};

static void on_answer(void *ctx, int err, const char *addr, const char *why)
{
    struct answer *a = ctx;
    a->done = 1;
    a->err = err;
    a->order = (*a->counter)++;
    a->wrong_thread = !pthread_equal(pthread_self(), a->loop_thread);
    snprintf(a->addr, sizeof a->addr, "%s", addr ? addr : "");
    snprintf(a->why, sizeof a->why, "%s", why ? why : "");
}

struct until {
    int *counter, want;
    int64_t deadline;
};

static int answered(void *arg)
{
    struct until *u = arg;
    return *u->counter >= u->want || loop_now_ms() >= u->deadline;
}

static const struct row {
    const char *host;
    int err;
    const char *addr; /* expected on success */
    const char *why;  /* part of the message on failure */
} rows[] = {
    { "127.0.0.1", 0, "127.0.0.1", NULL },
    { "localhost", 0, "127.0.0.1", NULL }, /* IPv4 before ::1 */
    { "::1", 0, "::1", NULL },
    { "", ERR_IO, NULL, "cannot look up : " },
};

enum { NROWS = sizeof rows / sizeof rows[0] };

/* Asks r for host(i) of each i < n, each answer into a[i], all counted in *counter. */
static void look_up_all(struct resolver *r, int n, const char *(*host)(int i), struct answer *a,
                        int *counter)
{
    memset(a, 0, (size_t)n * sizeof *a);
    for (int i = 0; i < n; i++) {
        a[i].loop_thread = pthread_self();
        a[i].counter = counter;
        assert_int_equal(resolver_lookup(r, host(i), on_answer, &a[i]), 0);
    }
}

static const char *row_host(int i)
{
    return rows[i].host;
}

static const char *loopback(int i)
{
    (void)i;
    return "127.0.0.1";
}

static void resolver_answers_in_order_on_the_loop_thread(void **state)
{
    (void)state;
    char err[256];
    struct loop *loop;
    struct resolver *r;
    assert_int_equal(loop_new(&loop, NULL, err, sizeof err), 0);
    assert_int_equal(resolver_new(&r, loop), 0);
    int counter = 0;
    struct answer a[NROWS];
    look_up_all(r, NROWS, row_host, a, &counter);
    struct until u = { &counter, NROWS, loop_now_ms() + WAIT_MS };
    loop_run(loop, answered, &u);
    resolver_free(r);
    loop_free(loop);
    for (int i = 0; i < NROWS; i++) {
        const struct row *w = &rows[i];
        if (!a[i].done)
            fail_msg("\"%s\": no answer", w->host);
        if (a[i].order != i || a[i].wrong_thread)
            fail_msg("\"%s\": answered %d-th, %s", w->host, a[i].order,
                     a[i].wrong_thread ? "on another thread" : "on the loop's thread");
        if (a[i].err != w->err)
            fail_msg("\"%s\": err %d (%s), expected %d", w->host, a[i].err, a[i].why, w->err);
        if (w->addr && strcmp(a[i].addr, w->addr) != 0)
            fail_msg("\"%s\": %s, expected %s", w->host, a[i].addr, w->addr);
        if (w->why && !strstr(a[i].why, w->why))
            fail_msg("\"%s\": \"%s\" does not say \"%s\"", w->host, a[i].why, w->why);
    }
}

static void resolver_free_abandons_pending_lookups(void **state)
{
    (void)state;
    char err[256];
    struct loop *loop;
    struct resolver *r;
    assert_int_equal(loop_new(&loop, NULL, err, sizeof err), 0);
    assert_int_equal(resolver_new(&r, loop), 0);
    int counter = 0;
    struct answer a[3];
    look_up_all(r, 3, loopback, a, &counter);
    resolver_free(r); /* before the loop ever ran: nothing was handed back */
    int64_t deadline = loop_now_ms() + 100;
    struct until u = { &counter, 1, deadline };
    loop_run(loop, answered, &u);
    loop_free(loop);
    assert_int_equal(counter, 0);
    /* and a resolver that never looked anything up frees cleanly */
    assert_int_equal(loop_new(&loop, NULL, err, sizeof err), 0);
    assert_int_equal(resolver_new(&r, loop), 0);
    resolver_free(r);
    resolver_free(NULL);
    loop_free(loop);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolver_answers_in_order_on_the_loop_thread),
        cmocka_unit_test(resolver_free_abandons_pending_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
