/* test_loop.c - the event loop (bot/net/loop.c): calls posted from other threads run on the
 * loop's thread in order, and can be taken back; timers fire once, can be cancelled and moved, and
 * one due within a millisecond does not make the loop spin;
 * freeing the loop drops what is pending; a watched descriptor calls back while it is readable,
 * never after its watch is freed, and is closed by the loop; a loop that is behind lingers before
 * its next turn, one that keeps up never does. Every wait has a deadline, so a broken
 * loop fails a test instead of hanging. (Connections on the loop: test_ws.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"
#include "loop.h"

enum { WAIT_MS = 3000 };

struct fx {
    struct loop *loop;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    char err[256];
    if (!f || loop_new(&f->loop, NULL, err, sizeof err)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    loop_free(f->loop);
    free(f);
    return 0;
}

static int until(void *arg)
{
    return loop_now_ms() >= *(int64_t *)arg;
}

/* Runs the loop for ms milliseconds. */
static void run_for(struct fx *f, int ms)
{
    int64_t deadline = loop_now_ms() + ms;
    loop_run(f->loop, until, &deadline);
}

/* ---- posted calls ---- */

enum { NPOST = 100 };

struct posts;

struct slot {
    struct posts *p;
    int i;
};

struct posts {
    struct loop *loop;
    pthread_t loop_thread;
    int order[NPOST + 8]; /* slot numbers in the order their calls ran */
    int n;
    int wrong_thread; /* calls that ran on another thread than the loop's */
    struct slot slot[NPOST + 8];
};

static void record_post(void *arg)
{
    struct slot *s = arg;
    struct posts *p = s->p;
    if (!pthread_equal(pthread_self(), p->loop_thread))
        p->wrong_thread++;
    if (p->n < NPOST + 8)
        p->order[p->n++] = s->i;
}

static void *post_all(void *arg)
{
    struct posts *p = arg;
    for (int i = 0; i < NPOST; i++) {
        if (loop_post(p->loop, record_post, &p->slot[i]))
            return NULL;
        if (i % 10 == 0)
            sched_yield();
    }
    return NULL;
}

static struct posts *posts_new(struct loop *l)
{
    struct posts *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->loop = l;
    p->loop_thread = pthread_self();
    for (int i = 0; i < NPOST + 8; i++)
        p->slot[i] = (struct slot){ p, i };
    return p;
}

struct posts_wait {
    struct posts *p;
    int want;
    int64_t deadline;
};

static int posts_done(void *arg)
{
    struct posts_wait *w = arg;
    return w->p->n >= w->want || loop_now_ms() >= w->deadline;
}

static void posts_run_on_the_loop_thread_in_order(void **state)
{
    struct fx *f = *state;
    struct posts *p = posts_new(f->loop);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, post_all, p), 0);
    struct posts_wait w = { p, NPOST, loop_now_ms() + WAIT_MS };
    loop_run(f->loop, posts_done, &w);
    pthread_join(t, NULL);
    int n = p->n, wrong = p->wrong_thread;
    int order_ok = 1;
    for (int i = 0; i < n; i++)
        order_ok &= p->order[i] == i;
    free(p);
    assert_int_equal(n, NPOST);
    assert_int_equal(wrong, 0);
    assert_true(order_ok);
}

static void unpost_drops_pending_calls(void **state)
{
    struct fx *f = *state;
    struct posts *p = posts_new(f->loop);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[1]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[2]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[1]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[3]), 0);
    loop_unpost(f->loop, &p->slot[1]);
    loop_unpost(f->loop, &p->slot[7]);                                 /* nothing posted with it */
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[4]), 0); /* the last one */
    struct posts_wait w = { p, 3, loop_now_ms() + WAIT_MS };
    loop_run(f->loop, posts_done, &w);
    run_for(f, 20);
    int n = p->n, o0 = p->order[0], o1 = p->order[1], o2 = p->order[2];
    free(p);
    assert_int_equal(n, 3);
    assert_int_equal(o0, 2);
    assert_int_equal(o1, 3);
    assert_int_equal(o2, 4);
}

/* A posted call that tears something down and unposts the calls still pending for it. */
static void unpost_slot_5(void *arg)
{
    struct slot *s = arg;
    loop_unpost(s->p->loop, &s->p->slot[5]);
    record_post(arg);
}

static void unpost_inside_a_posted_call_drops_later_ones(void **state)
{
    struct fx *f = *state;
    struct posts *p = posts_new(f->loop);
    assert_int_equal(loop_post(f->loop, unpost_slot_5, &p->slot[1]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[5]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[2]), 0);
    struct posts_wait w = { p, 2, loop_now_ms() + WAIT_MS };
    loop_run(f->loop, posts_done, &w);
    run_for(f, 20);
    int n = p->n, o0 = p->order[0], o1 = p->order[1];
    free(p);
    if (n != 2 || o0 != 1 || o1 != 2)
        fail_msg("after the first call unposted slot 5, the calls ran as %d then %d (%d calls);"
                 " expected 1 then 2",
                 o0, o1, n);
}

static void loop_free_drops_pending_posts(void **state)
{
    struct fx *f = *state;
    struct posts *p = posts_new(f->loop);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[0]), 0);
    assert_int_equal(loop_post(f->loop, record_post, &p->slot[1]), 0);
    loop_free(f->loop);
    f->loop = NULL;
    int n = p->n;
    free(p);
    assert_int_equal(n, 0);
}

/* ---- timers ---- */

struct tick {
    int fired;
    int64_t at;
    struct loop_timer *t;
    int rearm; /* times to re-arm from inside the callback */
};

static void tick_fn(void *arg)
{
    struct tick *k = arg;
    k->fired++;
    k->at = loop_now_ms();
    if (k->rearm > 0) {
        k->rearm--;
        loop_timer_set(k->t, 10);
    }
}

struct tick_wait {
    struct tick *k;
    int want;
    int64_t deadline;
};

static int tick_done(void *arg)
{
    struct tick_wait *w = arg;
    return w->k->fired >= w->want || loop_now_ms() >= w->deadline;
}

static void timer_fires_once_after_its_delay(void **state)
{
    struct fx *f = *state;
    struct tick k = { 0 };
    k.t = loop_timer_new(f->loop, tick_fn, &k);
    assert_non_null(k.t);
    assert_int_equal(loop_timer_armed(k.t), 0);
    int64_t t0 = loop_now_ms();
    loop_timer_set(k.t, 50);
    assert_int_equal(loop_timer_armed(k.t), 1);
    struct tick_wait w = { &k, 1, t0 + WAIT_MS };
    loop_run(f->loop, tick_done, &w);
    int armed_after = loop_timer_armed(k.t);
    run_for(f, 120);
    loop_timer_free(k.t);
    assert_int_equal(k.fired, 1);
    if (k.at - t0 < 50)
        fail_msg("fired after %lld ms, before the 50 ms asked", (long long)(k.at - t0));
    assert_true(k.at - t0 < 1000);
    assert_int_equal(armed_after, 0);
}

static void timer_cancel_prevents_firing(void **state)
{
    struct fx *f = *state;
    struct tick k = { 0 }, k2 = { 0 };
    k.t = loop_timer_new(f->loop, tick_fn, &k);
    k2.t = loop_timer_new(f->loop, tick_fn, &k2);
    assert_non_null(k.t);
    assert_non_null(k2.t);
    loop_timer_set(k.t, 30);
    loop_timer_set(k2.t, 30);
    loop_timer_cancel(k.t);
    assert_int_equal(loop_timer_armed(k.t), 0);
    loop_timer_cancel(k.t); /* twice is harmless */
    loop_timer_free(k2.t);  /* freeing an armed timer disarms it */
    run_for(f, 150);
    assert_int_equal(k.fired, 0);
    assert_int_equal(k2.fired, 0);
    /* a cancelled timer can be armed again */
    loop_timer_set(k.t, 10);
    struct tick_wait w = { &k, 1, loop_now_ms() + WAIT_MS };
    loop_run(f->loop, tick_done, &w);
    loop_timer_free(k.t);
    assert_int_equal(k.fired, 1);
}

static void timer_set_again_moves_the_deadline(void **state)
{
    struct fx *f = *state;
    struct tick k = { 0 };
    k.t = loop_timer_new(f->loop, tick_fn, &k);
    assert_non_null(k.t);
    int64_t t0 = loop_now_ms();
    loop_timer_set(k.t, 2000);
    loop_timer_set(k.t, 20); /* replaces, not adds */
    k.rearm = 2;             /* and it re-arms itself twice from its callback */
    struct tick_wait w = { &k, 3, t0 + WAIT_MS };
    loop_run(f->loop, tick_done, &w);
    run_for(f, 60);
    int armed = loop_timer_armed(k.t);
    loop_timer_free(k.t);
    assert_int_equal(k.fired, 3);
    assert_int_equal(armed, 0);
    assert_true(k.at - t0 >= 40);
    assert_true(k.at - t0 < 1500);
}

/* A timer due within the millisecond must not make the loop turn without waiting until it is due
 * (lws 4.1 cuts its wait to whole milliseconds, so it used to poll with a timeout of 0, again and
 * again, through the last millisecond of every timer). */
static void timer_due_soon_does_not_spin_the_loop(void **state)
{
    struct fx *f = *state;
    struct tick k = { 0 };
    k.t = loop_timer_new(f->loop, tick_fn, &k);
    assert_non_null(k.t);
    uint64_t turns0 = loop_turns(f->loop);
    int64_t t0 = loop_now_ms();
    while (k.fired < 20 && loop_now_ms() - t0 < WAIT_MS) {
        int fired = k.fired;
        loop_timer_set(k.t, 2);
        struct tick_wait w = { &k, fired + 1, loop_now_ms() + WAIT_MS };
        loop_run(f->loop, tick_done, &w);
    }
    uint64_t turns = loop_turns(f->loop) - turns0;
    loop_timer_free(k.t);
    assert_true(k.fired >= 20);
    /* a turn or two a firing, and some for the loop's own tick; not hundreds */
    if (turns > 4 * (uint64_t)k.fired + 20)
        fail_msg("%llu turns of the loop for %d timers of 2 ms", (unsigned long long)turns,
                 k.fired);
}

/* ---- the hook before each wait ---- */

struct hook {
    int calls;
    int busy; /* rounds to report more work */
};

static int before_wait(void *arg)
{
    struct hook *h = arg;
    h->calls++;
    return h->busy-- > 0;
}

static void before_wait_runs_each_turn_and_again_while_busy(void **state)
{
    struct fx *f = *state;
    struct hook h = { 0, 10 };
    loop_before_wait(f->loop, before_wait, &h);
    int64_t deadline = loop_now_ms(); /* done at once: no turn at all */
    loop_run(f->loop, until, &deadline);
    assert_int_equal(h.calls, 0); /* done before the first turn: the hook never ran */
    deadline = loop_now_ms() + 150;
    loop_run(f->loop, until, &deadline);
    /* a busy hook runs again at once, four times in a row at most, then the loop waits */
    assert_true(h.calls >= 4);
    int before = h.calls;
    loop_before_wait(f->loop, NULL, NULL);
    run_for(f, 120);
    assert_int_equal(h.calls, before);
}

/* ---- watched descriptors ---- */

struct watched {
    int fd;    /* the pipe's read end, which the loop owns */
    int calls; /* fn's calls */
    int drain; /* read what is there in fn, so the pipe is no longer readable */
    char got[8];
    int ngot;
};

static void on_readable(void *arg)
{
    struct watched *w = arg;
    w->calls++;
    if (w->drain && w->ngot < (int)sizeof w->got) {
        ssize_t n = read(w->fd, w->got + w->ngot, sizeof w->got - (size_t)w->ngot);
        if (n > 0)
            w->ngot += (int)n;
    }
}

static int watched_called(void *arg)
{
    struct watched *w = arg;
    return w->calls > 0;
}

static void watch_calls_while_readable_and_never_after_free(void **state)
{
    struct fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct watched w = { .fd = p[0], .drain = 1 };
    struct loop_watch *lw = loop_watch_new(f->loop, p[0], on_readable, &w);
    assert_non_null(lw);
    run_for(f, 30);
    assert_int_equal(w.calls, 0); /* nothing to read: never called */
    assert_int_equal(write(p[1], "ab", 2), 2);
    int64_t deadline = loop_now_ms() + WAIT_MS;
    while (w.ngot < 2 && loop_now_ms() < deadline)
        run_for(f, 10);
    assert_int_equal(w.ngot, 2);
    assert_memory_equal(w.got, "ab", 2);
    int calls = w.calls;
    run_for(f, 30); /* drained: no more calls */
    assert_int_equal(w.calls, calls);
    /* not drained: called at every turn while readable, until freed */
    w.drain = 0;
    assert_int_equal(write(p[1], "c", 1), 1);
    loop_run(f->loop, watched_called, &w);
    deadline = loop_now_ms() + WAIT_MS;
    while (w.calls < calls + 3 && loop_now_ms() < deadline)
        run_for(f, 1);
    assert_true(w.calls >= calls + 3);
    loop_watch_free(lw);
    calls = w.calls;
    run_for(f, 50);
    assert_int_equal(w.calls, calls);
    /* the loop closed the read end: the write end now has no reader */
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(write(p[1], "d", 1), -1);
    close(p[1]);
}

static void watch_is_closed_by_loop_free(void **state)
{
    struct fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct watched w = { .fd = p[0] };
    assert_non_null(loop_watch_new(f->loop, p[0], on_readable, &w));
    loop_free(f->loop); /* frees the watch, and closes p[0] */
    f->loop = NULL;
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(write(p[1], "x", 1), -1);
    assert_int_equal(w.calls, 0);
    close(p[1]);
}

/* ---- lingering when behind ---- */

enum { LINGER_MS = 80 }; /* under loop_set_linger's cap of 100 ms */

/* A watched pipe whose callback writes to the pipe again (so that the next turn finds input
 * waiting too), then arms a timer due in 1 ms (one due at once would fire in the same turn); the
 * time from the last callback to the timer is how long the loop waited before its next turn. */
struct lingered {
    struct loop *loop;
    int fd, wfd;
    int again; /* bytes the callback still writes back, one a turn */
    struct loop_timer *next;
    int64_t read_at, next_at; /* loop_now_ms() of the callback and of the timer; 0: not yet */
};

static void lingered_read(void *arg)
{
    struct lingered *g = arg;
    char c[8];
    (void)!read(g->fd, c, sizeof c);
    if (g->again > 0) {
        g->again--;
        (void)!write(g->wfd, "y", 1);
        return;
    }
    g->read_at = loop_now_ms();
    loop_timer_set(g->next, 1);
}

static void lingered_next(void *arg)
{
    struct lingered *g = arg;
    g->next_at = loop_now_ms();
}

static int lingered_done(void *arg)
{
    struct lingered *g = arg;
    return g->next_at != 0;
}

struct late_write {
    int fd;
    int after_ms;
};

static void *write_late(void *arg)
{
    struct late_write *w = arg;
    struct timespec ts = { w->after_ms / 1000, (long)(w->after_ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
    (void)!write(w->fd, "x", 1);
    return NULL;
}

/* Runs the loop until the timer after the pipe's last callback fires, the callback having
 * written again the given times first; the ms between the last callback and the timer. */
static int64_t gap(struct fx *f, struct lingered *g, int again)
{
    g->again = again;
    g->read_at = g->next_at = 0;
    int64_t deadline = loop_now_ms() + WAIT_MS;
    while (!g->next_at && loop_now_ms() < deadline)
        loop_run(f->loop, lingered_done, g);
    assert_true(g->next_at != 0);
    return g->next_at - g->read_at;
}

static void linger_only_when_input_was_already_waiting(void **state)
{
    struct fx *f = *state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct lingered g = { f->loop, p[0], p[1], 0, NULL, 0, 0 };
    assert_non_null(g.next = loop_timer_new(f->loop, lingered_next, &g));
    struct loop_watch *lw = loop_watch_new(f->loop, p[0], lingered_read, &g);
    assert_non_null(lw);
    run_for(f, 20);

    /* without a linger, the next turn comes at once */
    assert_int_equal(write(p[1], "a", 1), 1);
    assert_true(gap(f, &g, 1) < LINGER_MS / 2);

    /* input already waiting as two turns in a row began: the loop is behind, and waits before
     * the next */
    loop_set_linger(f->loop, LINGER_MS * 1000);
    assert_int_equal(write(p[1], "b", 1), 1);
    assert_true(gap(f, &g, 1) >= LINGER_MS - 1);

    /* one such turn alone (a reply's echo right after the reply) is not being behind */
    assert_int_equal(write(p[1], "c", 1), 1);
    assert_true(gap(f, &g, 0) < LINGER_MS / 2);

    /* input that comes while the loop waits for it, then input waiting for the next turn: the
     * loop kept up in the first and never lingers. A turn of the loop's own (its 100 ms tick)
     * could by chance begin just before the write; of three tries, one must not linger (each
     * lingers only by that chance) */
    int kept_up = 0;
    for (int i = 0; i < 3 && !kept_up; i++) {
        struct late_write w = { p[1], 50 };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, write_late, &w), 0);
        int64_t took = gap(f, &g, 1);
        pthread_join(t, NULL);
        kept_up = took < LINGER_MS / 2;
    }
    assert_true(kept_up);

    /* 0 turns it off again */
    loop_set_linger(f->loop, 0);
    assert_int_equal(write(p[1], "d", 1), 1);
    assert_true(gap(f, &g, 1) < LINGER_MS / 2);
    loop_watch_free(lw);
    loop_timer_free(g.next);
    close(p[1]);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    lws_set_log_level(LLL_ERR, NULL);
#define LOOP(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        LOOP(posts_run_on_the_loop_thread_in_order),
        LOOP(unpost_drops_pending_calls),
        LOOP(unpost_inside_a_posted_call_drops_later_ones),
        LOOP(loop_free_drops_pending_posts),
        LOOP(timer_fires_once_after_its_delay),
        LOOP(timer_cancel_prevents_firing),
        LOOP(timer_set_again_moves_the_deadline),
        LOOP(timer_due_soon_does_not_spin_the_loop),
        LOOP(before_wait_runs_each_turn_and_again_while_busy),
        LOOP(watch_calls_while_readable_and_never_after_free),
        LOOP(watch_is_closed_by_loop_free),
        LOOP(linger_only_when_input_was_already_waiting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
