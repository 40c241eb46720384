/* test_bot.c - the daemon (bot.c) and the dispatcher driven through an in-memory adapter, with no
 * network: questions answered with their citation, moderators from the configuration and
 * everyone else refused, the flood limit, a question recorded but never answered (a crash)
 * answered at the next start, a redelivered key answered once, and two adapters served on one
 * loop with one knowledge base.
 *
 * The adapter is a loop adapter like Slack's: start() arms a timer that delivers its script,
 * recording each message with the host first when it has PLAT_CAP_RECORDS; send() keeps the
 * replies; stopped() says so once every message is handled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "config.h"
#include "err.h"
#include "kb.h"
#include "log.h"
#include "match.h"
#include "plat.h"
#include "testdir.h"
#include "ws.h"

enum { STEPS_MAX = 32, REPLIES_MAX = 64 };

struct step {
    const char *user, *channel, *text, *key; /* key: the platform's id of the event */
    int direct;
    int crash; /* recorded, then the adapter stops before handing it to the host */
};

/* What one adapter is to do and what it got: the test's, found by the adapter's name. */
struct script {
    const char *name;
    struct step steps[STEPS_MAX];
    size_t nsteps;
    int replay; /* call the host's replay() at start */
    char *replies[REPLIES_MAX];
    char reply_channel[REPLIES_MAX][32];
    size_t nreplies;
    int recorded_exists; /* record() reported ERR_EXISTS this many times */
};

static struct script scripts[2];

struct pending {
    struct plat *p;
    struct step step;
};

struct plat {
    struct plat_host host;
    struct script *s;
    struct loop_timer *timer;
    volatile sig_atomic_t *stop;
    size_t waiting; /* records not reported yet */
    int delivered, crashed;
};

static struct script *script_of(const char *name)
{
    for (size_t i = 0; i < 2; i++)
        if (scripts[i].name && strcmp(scripts[i].name, name) == 0)
            return &scripts[i];
    return NULL;
}

static struct plat_message message_of(const struct step *st, int64_t record)
{
    struct plat_message m = { st->user,   st->channel, "",     st->text, strlen(st->text),
                              st->direct, 0,           record, 0,        NULL };
    return m;
}

static void recorded(void *arg, int rc, int64_t record)
{
    struct pending *e = arg;
    struct plat *p = e->p;
    p->waiting--;
    if (rc == ERR_EXISTS)
        p->s->recorded_exists++;
    else if (rc == 0 && !e->step.crash) {
        struct plat_message m = message_of(&e->step, record);
        p->host.on_message(p->host.ctx, p, &m);
    }
    free(e);
}

static void deliver(void *arg)
{
    struct plat *p = arg;
    for (size_t i = 0; i < p->s->nsteps; i++) {
        const struct step *st = &p->s->steps[i];
        struct pending *e = calloc(1, sizeof *e);
        assert_non_null(e);
        e->p = p;
        e->step = *st;
        struct plat_message m = message_of(st, 0);
        assert_int_equal(p->host.record(p->host.ctx, p->s->name, st->key, &m, recorded, e), 0);
        p->waiting++;
        if (st->crash)
            p->crashed = 1;
    }
    p->delivered = 1;
}

static int mem_open(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    struct plat *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->host = *host;
    p->timer = loop_timer_new(host->loop, deliver, p);
    assert_non_null(p->timer);
    *out = p;
    return 0;
}

static int mem_start(struct plat *p, volatile sig_atomic_t *stop)
{
    p->stop = stop;
    if (p->s->replay && p->host.replay)
        p->host.replay(p->host.ctx, p);
    loop_timer_set(p->timer, 0);
    return 0;
}

static int mem_stopped(struct plat *p)
{
    return p->delivered && p->waiting == 0;
}

static int mem_finish(struct plat *p)
{
    (void)p;
    return 0;
}

static int mem_send(struct plat *p, const struct plat_message *msg, const char *text, size_t len)
{
    struct script *s = p->s;
    assert_true(s->nreplies < REPLIES_MAX);
    s->replies[s->nreplies] = strndup(text, len);
    snprintf(s->reply_channel[s->nreplies], sizeof s->reply_channel[0], "%s", msg->channel);
    s->nreplies++;
    if (p->host.settle && msg->record)
        p->host.settle(p->host.ctx, msg->record, 1);
    return 0;
}

static void mem_close(struct plat *p)
{
    if (!p)
        return;
    loop_timer_free(p->timer);
    free(p);
}

static int mem_open_a(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    int rc = mem_open(out, host, err, errlen);
    (*out)->s = script_of("mem");
    return rc;
}

static int mem_open_b(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    int rc = mem_open(out, host, err, errlen);
    (*out)->s = script_of("mem2");
    return rc;
}

static const struct plat_ops mem = {
    .name = "mem",
    .description = "in memory, for tests",
    .markup = &markup_plain,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_RECORDS,
    .open = mem_open_a,
    .start = mem_start,
    .stopped = mem_stopped,
    .finish = mem_finish,
    .send = mem_send,
    .close = mem_close,
};

static const struct plat_ops mem2 = {
    .name = "mem2",
    .description = "in memory, a second one",
    .markup = &markup_plain,
    .caps = PLAT_CAP_LOOP | PLAT_CAP_RECORDS,
    .open = mem_open_b,
    .start = mem_start,
    .stopped = mem_stopped,
    .finish = mem_finish,
    .send = mem_send,
    .close = mem_close,
};

static int fail_start(struct plat *p, volatile sig_atomic_t *stop)
{
    (void)p;
    (void)stop;
    return ERR_IO;
}

/* An adapter that cannot start (its start() fails, as on a bad setting found late). */
static const struct plat_ops broken = {
    .name = "mem2",
    .description = "in memory, failing to start",
    .markup = &markup_plain,
    .caps = PLAT_CAP_LOOP,
    .open = mem_open_b,
    .start = fail_start,
    .stopped = mem_stopped,
    .finish = mem_finish,
    .send = mem_send,
    .close = mem_close,
};

struct fx {
    char dir[64], path[128];
    struct config cfg;
};

static void reset_scripts(void)
{
    for (size_t i = 0; i < 2; i++) {
        for (size_t k = 0; k < scripts[i].nreplies; k++)
            free(scripts[i].replies[k]);
        memset(&scripts[i], 0, sizeof scripts[i]);
    }
    scripts[0].name = "mem";
    scripts[1].name = "mem2";
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-test-bot-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    if (config_defaults(&f->cfg))
        return -1;
    char err[256];
    const char cfg[] = "{\"moderators\": {\"mem\": [\"UMOD\"]}, "
                       "\"flood_limit\": {\"messages\": 3, \"seconds\": 60}}";
    if (config_load_text(&f->cfg, cfg, sizeof cfg - 1, "test", err, sizeof err))
        return -1;
    reset_scripts();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    reset_scripts();
    config_free(&f->cfg);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* Runs the adapters over the knowledge base at f->path, opened afresh. */
static void serve(struct fx *f, const struct plat_ops *const *ops, size_t n)
{
    struct kb *kb;
    struct match *m;
    char err[256];
    assert_int_equal(kb_open(&kb, f->path, 0, err, sizeof err), 0);
    assert_int_equal(match_open(&m, kb), 0);
    assert_int_equal(bot_serve(&f->cfg, kb, m, ops, n), 0);
    match_close(m);
    kb_close(kb);
}

static void add(struct script *s, const char *user, const char *text, const char *key)
{
    s->steps[s->nsteps++] = (struct step){ user, "C1", text, key, 0, 0 };
}

static void bot_answers_and_keeps_moderator_rights_to_the_configuration(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *user, *text, *reply_has;
    } rows[] = {
        { "U2", "How big can Ukraine's army be?", "600,000" },
        { "U2", "kb remove army-cap", "moderator" },
        { "UMOD", "kb teach \"how many soldiers may Kyiv keep\" army-cap", "army-cap" },
        { "U3", "how many soldiers may Kyiv keep", "600,000" },
        { "U3", "what is the weather on Mars?", "" },
    };
    static const char *const keys[] = { "k0", "k1", "k2", "k3", "k4" };
    struct script *s = script_of("mem");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        add(s, rows[i].user, rows[i].text, keys[i]);
    const struct plat_ops *ops[] = { &mem };
    serve(f, ops, 1);
    assert_int_equal(s->nreplies, sizeof rows / sizeof rows[0]);
    for (size_t i = 0; i < s->nreplies; i++)
        if (!strstr(s->replies[i], rows[i].reply_has))
            fail_msg("row %zu (%s): %s", i, rows[i].text, s->replies[i]);
    assert_null(strstr(s->replies[4], "600,000")); /* off topic: declined */
}

static void bot_holds_each_user_to_the_flood_limit(void **state)
{
    struct fx *f = *state;
    struct script *s = script_of("mem");
    const char *keys[] = { "f0", "f1", "f2", "f3", "f4", "f5", "f6" };
    for (size_t i = 0; i < 6; i++)
        add(s, "U9", "How big can Ukraine's army be?", keys[i]);
    add(s, "U8", "How big can Ukraine's army be?", keys[6]);
    const struct plat_ops *ops[] = { &mem };
    serve(f, ops, 1);
    /* 3 answers and 1 notice for U9, then nothing; U8 still answered */
    assert_int_equal(s->nreplies, 5);
    size_t answers = 0, notices = 0;
    for (size_t i = 0; i < s->nreplies; i++) {
        answers += strstr(s->replies[i], "600,000") != NULL;
        notices += strstr(s->replies[i], "600,000") == NULL;
    }
    assert_int_equal(answers, 4);
    assert_int_equal(notices, 1);
}

static void bot_answers_after_a_crash_what_it_had_recorded(void **state)
{
    struct fx *f = *state;
    struct script *s = script_of("mem");
    s->steps[s->nsteps++] = (struct step){ "U2", "C7", "What did Rubio say?", "r1", 0, 1 };
    const struct plat_ops *ops[] = { &mem };
    serve(f, ops, 1);
    assert_int_equal(s->nreplies, 0); /* recorded, never answered */
    reset_scripts();
    s = script_of("mem");
    s->replay = 1;
    s->steps[s->nsteps++] = (struct step){ "U2", "C7", "What did Rubio say?", "r1", 0, 0 };
    serve(f, ops, 1);
    assert_int_equal(s->nreplies, 1); /* the replay; the redelivery of r1 is known */
    assert_string_equal(s->reply_channel[0], "C7");
    assert_non_null(strstr(s->replies[0], "Rubio"));
    assert_int_equal(s->recorded_exists, 1);
}

static void bot_serves_two_adapters_on_one_loop(void **state)
{
    struct fx *f = *state;
    add(script_of("mem"), "U2", "How big can Ukraine's army be?", "a1");
    add(script_of("mem2"), "U2", "What did Rubio say?", "a1"); /* same key, other platform */
    const struct plat_ops *ops[] = { &mem, &mem2 };
    serve(f, ops, 2);
    assert_int_equal(script_of("mem")->nreplies, 1);
    assert_int_equal(script_of("mem2")->nreplies, 1);
    assert_non_null(strstr(script_of("mem")->replies[0], "600,000"));
    assert_non_null(strstr(script_of("mem2")->replies[0], "Rubio"));
}

static void bot_stops_when_an_adapter_cannot_start(void **state)
{
    struct fx *f = *state;
    add(script_of("mem"), "U2", "How big can Ukraine's army be?", "s1");
    const struct plat_ops *ops[] = { &broken, &mem }; /* mem is never started, nor asked */
    struct kb *kb;
    struct match *m;
    char err[256];
    assert_int_equal(kb_open(&kb, f->path, 0, err, sizeof err), 0);
    assert_int_equal(match_open(&m, kb), 0);
    assert_int_equal(bot_serve(&f->cfg, kb, m, ops, 2), ERR_IO);
    match_close(m);
    kb_close(kb);
    assert_int_equal(script_of("mem")->nreplies, 0);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bot_answers_and_keeps_moderator_rights_to_the_configuration,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(bot_holds_each_user_to_the_flood_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(bot_answers_after_a_crash_what_it_had_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bot_serves_two_adapters_on_one_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(bot_stops_when_an_adapter_cannot_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
