/* test_outbox.c - delivery with a fake clock: each channel's parts in order and paced, the
 * in-flight cap, a rate limit pausing everyone or holding one channel, a cap on posts a second, a
 * failed part retried ahead of its channel's later ones, records settled exactly once, a refused
 * part dropped, a halt, a full outbox refusing a reply whole, and the report of what was never
 * posted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "markup.h"
#include "outbox.h"

enum { STARTED_MAX = 64, SETTLED_MAX = 64 };

/* The fake platform: a clock, the timer asked for, the posts started and the records settled. */
struct fake {
    int64_t now;
    int64_t armed; /* the last delay asked for, or -1 */
    struct outbox_item *started[STARTED_MAX];
    int nstarted, refuse_start;
    int64_t settled[SETTLED_MAX];
    int answered[SETTLED_MAX];
    int nsettled;
};

static int start(void *ctx, struct outbox_item *it)
{
    struct fake *f = ctx;
    if (f->refuse_start)
        return ERR_NOMEM;
    assert_true(f->nstarted < STARTED_MAX);
    f->started[f->nstarted++] = it;
    return 0;
}

static void settle(void *ctx, int64_t record, int answered)
{
    struct fake *f = ctx;
    assert_true(f->nsettled < SETTLED_MAX);
    f->settled[f->nsettled] = record;
    f->answered[f->nsettled++] = answered;
}

static int64_t now(void *ctx)
{
    return ((struct fake *)ctx)->now;
}

static void arm(void *ctx, int64_t delay_ms)
{
    ((struct fake *)ctx)->armed = delay_ms;
}

static const struct outbox_ops ops = { start, settle, now, arm };

/* Posts of at most four bytes: enough to make parts. */
static const struct markup tiny = { .name = "tiny", .post_max = 4, .unit = MARKUP_BYTES };

static struct outbox *make(struct fake *f, int pace_ms, int inflight_max, size_t queued_max)
{
    memset(f, 0, sizeof *f);
    f->now = 1000000;
    f->armed = -1;
    struct outbox_config cfg = { "test", pace_ms, inflight_max, queued_max, 60000, 0 };
    struct outbox *ob = outbox_new(&cfg, &ops, f);
    assert_non_null(ob);
    return ob;
}

/* Takes the started post i out of the list, reporting outcome. */
static void finish(struct outbox *ob, struct fake *f, int i, enum outbox_outcome outcome,
                   int64_t wait_ms)
{
    assert_true(i < f->nstarted);
    struct outbox_item *it = f->started[i];
    memmove(&f->started[i], &f->started[i + 1],
            (size_t)(f->nstarted - i - 1) * sizeof f->started[0]);
    f->nstarted--;
    outbox_done(ob, it, outcome, wait_ms, "because");
}

static void send(struct outbox *ob, const char *channel, const char *text, int64_t record)
{
    assert_int_equal(outbox_send(ob, channel, "", "U1", text, strlen(text), &tiny, record, 1000000),
                     0);
}

static void outbox_keeps_each_channels_order_and_pace(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 1000, 8, 100);
    send(ob, "C1", "aaaabbbb", 7); /* two parts */
    send(ob, "C2", "cccc", 8);
    assert_int_equal(f.nstarted, 2); /* C1's first part, C2's only one */
    assert_string_equal(f.started[0]->text, "aaaa");
    assert_string_equal(f.started[1]->text, "cccc");
    assert_int_equal(outbox_waiting(ob), 3);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nstarted, 1); /* C1 is paced: its second part waits a second */
    assert_int_equal(f.armed, 1000);
    assert_int_equal(f.nsettled, 0); /* not the last part */
    f.now += 999;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1);
    f.now += 1;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 2);
    assert_string_equal(f.started[1]->text, "bbbb");
    assert_true(f.started[1]->last);
    finish(ob, &f, 1, OUTBOX_POSTED, 0);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nsettled, 2);
    assert_int_equal(f.settled[0], 7);
    assert_int_equal(f.settled[1], 8);
    assert_true(f.answered[0] && f.answered[1]);
    assert_true(outbox_idle(ob));
    assert_int_equal(outbox_report_unposted(ob), 0);
    outbox_free(ob);
}

static void outbox_caps_posts_in_flight(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 2, 100);
    char ch[8];
    for (int i = 0; i < 5; i++) {
        snprintf(ch, sizeof ch, "C%d", i);
        send(ob, ch, "x", i + 1);
    }
    assert_int_equal(f.nstarted, 2);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nstarted, 2);
    assert_string_equal(f.started[1]->channel, "C2");
    outbox_free(ob); /* with posts in flight and waiting: nothing leaks */
}

static void outbox_pauses_everyone_after_a_rate_limit(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 1, 100);
    send(ob, "C1", "one", 1);
    send(ob, "C2", "two", 2);
    finish(ob, &f, 0, OUTBOX_RETRY, 3000);
    assert_int_equal(f.nstarted, 0);
    assert_int_equal(f.armed, 3000);
    f.now += 2999;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 0);
    f.now += 1;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->text, "one"); /* the retried part goes first */
    assert_int_equal(f.started[0]->attempts, 1);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nsettled, 2);
    assert_int_equal(f.settled[0], 1);
    assert_int_equal(f.settled[1], 2);
    outbox_free(ob);
}

/* Discord's buckets: a 429 on one channel's limit holds that channel only, and a used-up limit
 * (X-RateLimit-Remaining: 0) holds its next post until the reset */
static void outbox_holds_one_channel_for_its_own_limit(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 8, 100);
    send(ob, "C1", "aaaa", 1);
    send(ob, "C1", "bbbb", 2);
    assert_int_equal(f.nstarted, 1);
    finish(ob, &f, 0, OUTBOX_LIMITED, 2500);
    send(ob, "C2", "cccc", 3); /* another channel goes at once */
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->text, "cccc");
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.armed, 2500);
    f.now += 2499;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 0);
    f.now += 1;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->text, "aaaa"); /* retried first, before C1's next */
    assert_int_equal(f.started[0]->attempts, 1);
    /* the answer said the limit is used up for 0.8 s: held, then reported */
    outbox_hold(ob, "C1", 800);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nstarted, 0);
    outbox_hold(ob, "C1", 300); /* a shorter hold never shortens a longer one */
    f.now += 799;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 0);
    f.now += 1;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->text, "bbbb");
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nsettled, 3);
    outbox_free(ob);
}

/* Discord's global limit: no more than per_second posts begin in any one second */
static void outbox_starts_at_most_per_second_posts_a_second(void **state)
{
    (void)state;
    struct fake f;
    memset(&f, 0, sizeof f);
    f.now = 1000000;
    f.armed = -1;
    struct outbox_config cfg = { "test", 0, 8, 100, 60000, 3 };
    struct outbox *ob = outbox_new(&cfg, &ops, &f);
    assert_non_null(ob);
    const char *chans[] = { "C1", "C2", "C3", "C4", "C5" };
    for (int i = 0; i < 5; i++)
        send(ob, chans[i], "aaaa", i + 1);
    assert_int_equal(f.nstarted, 3);
    assert_int_equal(f.armed, 1000);
    for (int i = 0; i < 3; i++)
        finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nstarted, 0); /* answered at once, but the second is not over */
    f.now += 400;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 0);
    assert_int_equal(f.armed, 600);
    f.now += 600;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 2);
    assert_string_equal(f.started[0]->channel, "C4");
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_int_equal(f.nsettled, 5);
    outbox_free(ob);
}

static void outbox_retries_a_failed_part_before_its_channels_next(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 8, 100);
    send(ob, "C1", "aaaabbbb", 1);
    send(ob, "C2", "cc", 2);
    finish(ob, &f, 0, OUTBOX_RETRY, 0); /* C1's first part: backoff for C1 only */
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->channel, "C2");
    assert_true(f.armed > 0);
    f.now += 120000; /* past any backoff */
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 2);
    assert_string_equal(f.started[1]->text, "aaaa");
    finish(ob, &f, 1, OUTBOX_POSTED, 0);
    outbox_kick(ob);
    assert_string_equal(f.started[1]->text, "bbbb");
    outbox_free(ob);
}

static void outbox_settles_a_dropped_reply_as_unanswered(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 8, 100);
    send(ob, "C1", "gone", 5);
    finish(ob, &f, 0, OUTBOX_DROPPED, 0);
    assert_int_equal(f.nsettled, 1);
    assert_int_equal(f.settled[0], 5);
    assert_int_equal(f.answered[0], 0);
    assert_true(outbox_idle(ob));
    outbox_free(ob);
}

static void outbox_halts_and_reports_what_was_never_posted(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 8, 100);
    send(ob, "C1", "one", 1);
    send(ob, "C2", "two", 2);
    finish(ob, &f, 0, OUTBOX_HALTED, 0);
    f.now += 100000;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1); /* C2's was in flight already; nothing new starts */
    send(ob, "C3", "three", 3);
    assert_int_equal(f.nstarted, 1);
    finish(ob, &f, 0, OUTBOX_POSTED, 0);
    assert_true(outbox_idle(ob)); /* what waits can never go */
    assert_int_equal(outbox_report_unposted(ob), 2);
    assert_int_equal(f.nsettled, 1); /* only C2's */
    outbox_free(ob);
}

static void outbox_refuses_a_reply_that_does_not_fit_whole(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 1, 2);
    send(ob, "C1", "aaaabbbb", 1); /* two parts, one in flight */
    assert_int_equal(outbox_send(ob, "C1", "", "U1", "ccccdddd", 8, &tiny, 2, 0), ERR_TOOBIG);
    char id[OUTBOX_ID_MAX + 1];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    assert_int_equal(outbox_send(ob, id, "", "U1", "e", 1, &tiny, 3, 0), ERR_TOOBIG);
    assert_int_equal(outbox_send(ob, "C1", id, "U1", "e", 1, &tiny, 3, 0), ERR_TOOBIG);
    assert_int_equal(outbox_waiting(ob), 2);
    assert_int_equal(outbox_send(ob, "C2", "", "U1", "e", 1, &tiny, 4, 0), 0);
    assert_int_equal(outbox_waiting(ob), 3);
    assert_int_equal(outbox_send(ob, "C2", "", "U1", "", 0, &tiny, 5, 0), 0); /* nothing */
    assert_int_equal(outbox_waiting(ob), 3);
    outbox_free(ob);
}

static void outbox_tries_again_a_post_it_could_not_start(void **state)
{
    (void)state;
    struct fake f;
    struct outbox *ob = make(&f, 0, 8, 100);
    f.refuse_start = 1;
    send(ob, "C1", "one", 1);
    assert_int_equal(f.nstarted, 0);
    assert_int_equal(f.armed, 1000);
    assert_int_equal(outbox_waiting(ob), 1);
    f.refuse_start = 0;
    f.now += 1000;
    outbox_kick(ob);
    assert_int_equal(f.nstarted, 1);
    assert_string_equal(f.started[0]->text, "one");
    outbox_free(ob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outbox_keeps_each_channels_order_and_pace),
        cmocka_unit_test(outbox_caps_posts_in_flight),
        cmocka_unit_test(outbox_pauses_everyone_after_a_rate_limit),
        cmocka_unit_test(outbox_holds_one_channel_for_its_own_limit),
        cmocka_unit_test(outbox_starts_at_most_per_second_posts_a_second),
        cmocka_unit_test(outbox_retries_a_failed_part_before_its_channels_next),
        cmocka_unit_test(outbox_settles_a_dropped_reply_as_unanswered),
        cmocka_unit_test(outbox_halts_and_reports_what_was_never_posted),
        cmocka_unit_test(outbox_refuses_a_reply_that_does_not_fit_whole),
        cmocka_unit_test(outbox_tries_again_a_post_it_could_not_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
