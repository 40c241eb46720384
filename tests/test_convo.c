/* test_convo.c - the conversations planbot remembers: a table of steps with the time passed in
 * (what is remembered, for how long, where), the bound on a question, keys too long to keep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "convo.h"

/* One step: note a question (with the suggestions of a decline) or look a conversation up. */
struct step {
    const char *thread; /* in channel C1 on "test"; NULL ends the table */
    int64_t t;          /* ms */
    const char *note;   /* a question to note; NULL: look up */
    int suggest;        /* noted: how many suggestions it declined with (0: answered) */
    const char *want;   /* looked up: the question remembered, or NULL for none */
};

static const struct step steps[] = {
    { "T1", 0, "what happens to donetsk?", 0, NULL },
    { "T1", 1000, NULL, 0, "what happens to donetsk?" },
    { "T2", 1000, NULL, 0, NULL },                        /* another thread */
    { "", 1000, NULL, 0, NULL },                          /* the channel itself */
    { "T1", 60000, NULL, 0, "what happens to donetsk?" }, /* at the ttl: still */
    { "T1", 60001, NULL, 0, NULL },                       /* after it: forgotten */
    { "T1", 70000, "and kherson?", 2, NULL },
    { "T1", 70001, NULL, 0, "and kherson?" },
    { "T1", 69999, NULL, 0, NULL }, /* a clock that went back knows nothing */
    { NULL, 0, NULL, 0, NULL },
};

static void remembers_each_conversation_for_a_while(void **state)
{
    (void)state;
    struct convo *c;
    assert_int_equal(convo_new(&c, 16, 60000), 0);
    for (const struct step *s = steps; s->thread; s++) {
        if (s->note) {
            struct match_result r;
            memset(&r, 0, sizeof r);
            r.nsuggest = s->suggest;
            for (int i = 0; i < s->suggest; i++)
                snprintf(r.suggestions[i].id, sizeof r.suggestions[i].id, "topic-%d", i + 1);
            convo_note(c, "test", "C1", s->thread, s->t, s->note, strlen(s->note), &r);
            continue;
        }
        const struct convo_turn *turn = convo_last(c, "test", "C1", s->thread, s->t);
        if (!s->want != !turn || (turn && strcmp(turn->question, s->want) != 0))
            fail_msg("step at %lld in %s: want %s, got %s", (long long)s->t, s->thread,
                     s->want ? s->want : "nothing", turn ? turn->question : "nothing");
    }
    const struct convo_turn *turn = convo_last(c, "test", "C1", "T1", 70001);
    assert_int_equal(turn->nsuggest, 2);
    assert_string_equal(turn->suggest[1], "topic-2");
    /* an answered question remembers no suggestions */
    struct match_result answered;
    memset(&answered, 0, sizeof answered);
    answered.n = 1;
    answered.nsuggest = 1;
    convo_note(c, "test", "C1", "T1", 70002, "how big?", 8, &answered);
    assert_int_equal(convo_last(c, "test", "C1", "T1", 70002)->nsuggest, 0);
    convo_free(c);
}

/* A long question is kept cut between characters; a key too long to keep is not kept; a table
 * of one slot keeps the last conversation only. */
static void keeps_within_its_bounds(void **state)
{
    (void)state;
    struct convo *c;
    assert_int_equal(convo_new(&c, 1, 60000), 0);
    char q[CONVO_MAX_QUESTION + 40];
    memset(q, 'a', CONVO_MAX_QUESTION - 1);
    strcpy(q + CONVO_MAX_QUESTION - 1, "\xC3\xA9\xC3\xA9 more"); /* é straddles the bound */
    convo_note(c, "test", "C1", "T1", 0, q, strlen(q), NULL);
    const struct convo_turn *turn = convo_last(c, "test", "C1", "T1", 0);
    assert_int_equal(strlen(turn->question), CONVO_MAX_QUESTION - 1);

    char thread[CONVO_MAX_KEY + 8];
    memset(thread, 't', sizeof thread - 1);
    thread[sizeof thread - 1] = '\0';
    convo_note(c, "test", "C1", thread, 0, "x", 1, NULL);
    assert_null(convo_last(c, "test", "C1", thread, 0));
    assert_non_null(convo_last(c, "test", "C1", "T1", 0)); /* still there */

    convo_note(c, "test", "C2", "T9", 0, "y", 1, NULL);
    assert_null(convo_last(c, "test", "C1", "T1", 0)); /* its slot was taken */
    assert_string_equal(convo_last(c, "test", "C2", "T9", 0)->question, "y");
    assert_null(convo_last(NULL, "test", "C2", "T9", 0));
    convo_note(NULL, "test", "C2", "T9", 0, "y", 1, NULL); /* no table: nothing */
    convo_free(c);
    convo_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(remembers_each_conversation_for_a_while),
        cmocka_unit_test(keeps_within_its_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
