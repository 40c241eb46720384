/* test_cmd.c - the chat side of planbot without any platform: messages go through
 * dispatch_message() exactly as an adapter hands them over, with moderator rights decided by the
 * adapter; plus the pure helpers (word splitting, mention skipping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "dispatch.h"
#include "slack_codec.h"
#include "err.h"
#include "irc_codec.h"
#include "reply.h"
#include "testdir.h"
#include "words.h"

struct fixture {
    char dir[64];
    struct kb *kb;
    struct match *m;
    struct dispatch d;
    struct buf reply;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-cmd-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    char path[128], err[512];
    snprintf(path, sizeof path, "%s/kb.db", f->dir);
    assert_int_equal(kb_open(&f->kb, path, 0, err, sizeof err), 0);
    assert_int_equal(match_open(&f->m, f->kb), 0);
    f->d = (struct dispatch){ f->kb, f->m, &markup_plain, NULL, NULL, NULL };
    buf_init(&f->reply, 1 << 20);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    buf_free(&f->reply);
    match_close(f->m);
    kb_close(f->kb);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* Sends text as user in a direct message, or in channel C1; returns the result and leaves the
 * reply in f->reply. */
static int say_in(struct fixture *f, int direct, const char *user, int moderator, const char *text)
{
    buf_reset(&f->reply);
    struct plat_message msg = { .user = user,
                                .channel = direct ? "D1" : "C1",
                                .thread = "",
                                .text = text,
                                .len = strlen(text),
                                .direct = direct,
                                .moderator = moderator };
    return dispatch_message(&f->d, "test", &msg, &f->reply);
}

static int say(struct fixture *f, const char *user, int moderator, const char *text)
{
    return say_in(f, 1, user, moderator, text);
}

static const char *reply(struct fixture *f)
{
    return buf_str(&f->reply);
}

static int has_entry(struct fixture *f, const char *id)
{
    cJSON *e = NULL;
    int rc = kb_get(f->kb, KB_ENTRY, id, &e);
    cJSON_Delete(e);
    return rc == 0;
}

static void question_is_answered_with_quote_and_citation(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "<@UBOT> How big can Ukraine's army be?"), 0);
    assert_non_null(strstr(reply(f), "600,000 personnel"));
    assert_non_null(strstr(reply(f), "Source: CNN"));
    assert_non_null(strstr(reply(f), "[army-cap]"));
}

/* "What did Trump say?" when no quote is Trump's: planbot says so, and offers what it holds on
 * him, never someone else's words as his. */
static void a_question_for_someone_never_quoted_is_told_so(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "what did trump say about the plan?"), 0);
    const char *r = reply(f);
    if (!strstr(r, "does not say what that person said") || !strstr(r, "[trump-reviewed-supports]"))
        fail_msg("want what is held on Trump, offered instead; got:\n%s", r);
    assert_null(strstr(r, "Leavitt"));
}

/* "What did Driscoll do before he became army secretary?": the knowledge base tells no one's
 * past; planbot says so, and offers what it holds on him. */
static void a_question_about_a_persons_past_is_told_so(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "what did driscoll do before he became army secretary?"), 0);
    const char *r = reply(f);
    if (!strstr(r, "does not say what that person did or was before") ||
        !strstr(r, "[driscoll-delivered-plan]"))
        fail_msg("want what is held on Driscoll, offered instead; got:\n%s", r);
}

/* A markup with citation marks (IRC's bold) puts them around the citation line, and nowhere
 * else: not in the quote, not in a source's own answer's other lines; without them, none. */
static void citation_marks_wrap_the_source_line_only(void **state)
{
    struct fixture *f = *state;
    f->d.markup = &irc_markup_bold;
    static const char *const questions[] = { "How big can Ukraine's army be?",
                                             "Who wrote the article?" };
    for (size_t i = 0; i < sizeof questions / sizeof *questions; i++) {
        assert_int_equal(say(f, "U1", 0, questions[i]), 0);
        const char *r = reply(f), *open = strstr(r, "\n\x02Source: ");
        if (!open)
            fail_msg("\"%s\": no bold citation line in:\n%s", questions[i], r);
        const char *end = strchr(open + 1, '\n');
        size_t line = end ? (size_t)(end - open - 1) : strlen(open + 1);
        assert_int_equal(open[line], '\x02'); /* the line ends the bold */
        size_t marks = 0;
        for (const char *c = r; *c; c++)
            marks += *c == '\x02';
        assert_int_equal(marks, 2);
    }
    f->d.markup = &irc_markup;
    assert_int_equal(say(f, "U1", 0, questions[0]), 0);
    assert_null(strchr(reply(f), '\x02'));
    assert_non_null(strstr(reply(f), "\nSource: CNN"));
    f->d.markup = &markup_plain;
}

static void off_topic_question_is_declined_politely(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "How do I make coffee?"), 0);
    assert_non_null(strstr(reply(f), "I don't know"));
    assert_null(strstr(reply(f), "Source:"));
}

static void a_question_starting_with_help_is_a_question(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "help me understand the amnesty"), 0);
    assert_non_null(strstr(reply(f), "amnesty-all-parties"));
}

static void help_shows_moderator_commands_only_to_moderators(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "help"), 0);
    assert_non_null(strstr(reply(f), "kb show"));
    assert_null(strstr(reply(f), "kb remove"));
    assert_null(strstr(reply(f), "kb export")); /* files: never in a chat */
    assert_int_equal(say(f, "U2", 1, "help"), 0);
    assert_non_null(strstr(reply(f), "kb remove"));
    assert_null(strstr(reply(f), "kb import"));
    assert_int_equal(say(f, "U2", 1, "Help"), 0);
    assert_non_null(strstr(reply(f), "kb remove"));
    assert_int_equal(say(f, "U2", 1, "KB list"), 0);
    assert_non_null(strstr(reply(f), "army-cap"));
    assert_int_equal(say(f, "U2", 1, "help kb undo"), 0);
    assert_non_null(strstr(reply(f), "kb undo N"));
}

static void sources_lists_the_article(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "sources"), 0);
    assert_non_null(strstr(reply(f), "CNN"));
    assert_non_null(strstr(reply(f), "Jennifer Hansler"));
}

static void non_moderator_cannot_change_anything(void **state)
{
    struct fixture *f = *state;
    static const char *const writes[] = {
        "kb remove army-cap",
        "kb edit army-cap --title Nothing",
        "kb add --id x --kind context --title T --text T --source cnn-2025-11-20",
        "kb undo 1",
        "kb synonym add foo bar",
        "kb synonym remove army",
        "kb source remove cnn-2025-11-20",
    };
    cJSON *before, *after;
    assert_int_equal(kb_export(f->kb, &before), 0);
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        assert_int_equal(say(f, "U1", 0, writes[i]), ERR_PERM);
        assert_non_null(strstr(reply(f), "only moderators"));
        assert_non_null(strstr(reply(f), "nothing was changed"));
    }
    assert_int_equal(kb_export(f->kb, &after), 0);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void moderator_removes_and_undoes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "UMOD", 1, "kb remove army-cap"), 0);
    assert_non_null(strstr(reply(f), "Removed entry \"army-cap\""));
    assert_false(has_entry(f, "army-cap"));
    long long change = 0;
    const char *p = strstr(reply(f), "kb undo ");
    assert_non_null(p);
    change = strtoll(p + 8, NULL, 10);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kb undo %lld", change);
    assert_int_equal(say(f, "UMOD", 1, cmd), 0);
    assert_true(has_entry(f, "army-cap"));
    /* the audit log names the platform and the user id */
    assert_int_equal(say(f, "U1", 0, "kb history army-cap"), 0);
    assert_non_null(strstr(reply(f), "UMOD (test)"));
    assert_non_null(strstr(reply(f), "undo"));
}

static void moderator_adds_an_entry_with_field_lines(void **state)
{
    struct fixture *f = *state;
    const char *msg =
        "kb add\n"
        "id: kallas-quote-test\n"
        "kind: quote\n"
        "title: Kallas wants Europeans on board of the zorblax\n"
        "text: \"for any plan to work, it needs Ukrainians and Europeans on board.\"\n"
        "speaker: Kaja Kallas\n"
        "role: EU foreign policy chief\n"
        "source: cnn-2025-11-20\n"
        "keywords: zorblax, frobnitz\n";
    assert_int_equal(say(f, "UMOD", 1, msg), 0);
    assert_non_null(strstr(reply(f), "Added entry \"kallas-quote-test\""));
    /* typed with straight quotes, stored as the article's own words */
    cJSON *e;
    assert_int_equal(kb_get(f->kb, KB_ENTRY, "kallas-quote-test", &e), 0);
    assert_non_null(strstr(cJSON_GetObjectItem(e, "text")->valuestring, "\xe2\x80\x9c"));
    cJSON_Delete(e);
    assert_int_equal(say(f, "U1", 0, "what about the zorblax?"), 0);
    assert_non_null(strstr(reply(f), "Source: CNN"));
    assert_non_null(strstr(reply(f), "[kallas-quote-test]"));
    assert_int_equal(say(f, "UMOD", 1, "kb edit kallas-quote-test\ntitle: Kallas on Europe"), 0);
    assert_non_null(strstr(reply(f), "Changed entry \"kallas-quote-test\""));
    assert_non_null(strstr(reply(f), ": title."));
    assert_int_equal(say(f, "UMOD", 1, "kb remove kallas-quote-test"), 0);
}

static void bad_input_is_explained_and_changes_nothing(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *text;
        int rc;
        const char *says;
    } rows[] = {
        { "kb frobnicate", ERR_USAGE, "unknown command \"kb frobnicate\"" },
        { "kb show", ERR_USAGE, "usage: kb show ID" },
        { "kb show no-such-entry", ERR_NOTFOUND, "no entry \"no-such-entry\"" },
        { "kb show army-cap extra", ERR_USAGE, "too many arguments" },
        { "kb list --frob", ERR_USAGE, "unknown option --frob" },
        { "kb add\nthis is not a field line", ERR_USAGE, "Line 2 is not \"field: value\"" },
        { "kb add\nid: bad id!\nkind: context\ntitle: t\ntext: t\nsource: cnn-2025-11-20",
          ERR_INVAL, "field \"id\"" },
        { "kb add\nid: new-entry\nkind: context\ntitle: t\ntext: words not in the article\n"
          "source: cnn-2025-11-20",
          ERR_INVAL, "word for word" },
        { "kb add\nid: new-entry\nkind: rumour\ntitle: t\ntext: t\nsource: cnn-2025-11-20",
          ERR_INVAL, "provision, quote, context" },
        { "kb add\nid: new-entry\nkind: context\ntitle: t\ntext: t\nsource: nowhere", ERR_INVAL,
          "no source \"nowhere\"" },
        { "kb edit army-cap", ERR_USAGE, "nothing to change" },
        { "kb undo abc", ERR_USAGE, "a change is a number" },
        { "kb undo 999999", ERR_NOTFOUND, "no change 999999" },
        { "kb import /etc/passwd", ERR_PERM, "only at the command line" },
        { "kb export", ERR_PERM, "only at the command line" },
        { "kb add --file /etc/passwd", ERR_PERM, "only at the command line" },
        { "kb show \"army-cap", ERR_USAGE, "not closed" },
        { "kb list\nid: x", ERR_USAGE, "take more lines" },
    };
    cJSON *before, *after;
    assert_int_equal(kb_export(f->kb, &before), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = say(f, "UMOD", 1, rows[i].text);
        if (rc != rows[i].rc || !strstr(reply(f), rows[i].says))
            fail_msg("row %zu (%s): got %d \"%s\"", i, rows[i].text, rc, reply(f));
    }
    assert_int_equal(kb_export(f->kb, &after), 0);
    assert_true(cJSON_Compare(before, after, 1));
    cJSON_Delete(before);
    cJSON_Delete(after);
}

static void synonyms_are_edited_from_the_chat(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "what about the frobozz?"), 0);
    assert_non_null(strstr(reply(f), "I don't know"));
    assert_int_equal(say(f, "UMOD", 1, "kb synonym add frobozz amnesty"), 0);
    assert_non_null(strstr(reply(f), "Added synonym \"frobozz\""));
    assert_int_equal(say(f, "U1", 0, "what about the frobozz?"), 0);
    assert_non_null(strstr(reply(f), "Source: CNN"));
    assert_non_null(strstr(reply(f), "[amnesty-all-parties]"));
    assert_int_equal(say(f, "UMOD", 1, "kb synonym add frobozz \"full amnesty\""), 0);
    assert_non_null(strstr(reply(f), "Changed synonym"));
    assert_int_equal(say(f, "UMOD", 1, "kb synonym remove frobozz nothing"), ERR_NOTFOUND);
    assert_int_equal(say(f, "UMOD", 1, "kb synonym remove frobozz"), 0);
    assert_int_equal(say(f, "U1", 0, "kb synonym list"), 0);
    assert_null(strstr(reply(f), "frobozz"));
}

static int history_len(struct fixture *f)
{
    cJSON *h = NULL;
    assert_int_equal(kb_history(f->kb, KB_ENTRY, NULL, 0, &h), 0);
    int n = cJSON_GetArraySize(h);
    cJSON_Delete(h);
    return n;
}

static void unanswered_questions_are_for_moderators_only(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "U1", 0, "What is the best sourdough recipe?"), 0);
    static const char *const refused[] = {
        "kb unanswered",
        "kb unanswered --json",
        "kb unanswered clear",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(say(f, "U1", 0, refused[i]), ERR_PERM);
        assert_non_null(strstr(reply(f), "only moderators"));
        assert_null(strstr(reply(f), "sourdough"));
    }
    assert_int_equal(say(f, "U1", 0, "help"), 0);
    assert_null(strstr(reply(f), "kb unanswered"));
    assert_int_equal(say(f, "U2", 1, "help"), 0);
    assert_non_null(strstr(reply(f), "kb unanswered [--limit N] [--json]"));
    assert_non_null(strstr(reply(f), "kb unanswered clear"));
    assert_int_equal(say(f, "U2", 1, "kb unanswered"), 0);
    assert_non_null(strstr(reply(f), "sourdough"));
}

/* Found by fuzz_match: a topic longer than help's buffer overran it. */
static void help_with_an_over_long_topic_is_refused_cleanly(void **state)
{
    struct fixture *f = *state;
    char text[600] = "help kb ";
    memset(text + 8, 'A', 250);
    text[258] = ' ';
    memset(text + 259, 'B', 250);
    text[509] = '\0';
    assert_int_equal(say(f, "U1", 0, text), ERR_USAGE);
    assert_non_null(strstr(reply(f), "no command"));
}

static void unanswered_questions_stay_out_of_channels(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say_in(f, 0, "U1", 0, "How do I bake sourdough bread?"), 0);
    assert_int_equal(say_in(f, 0, "UMOD", 1, "kb unanswered"), ERR_PERM);
    assert_non_null(strstr(reply(f), "direct message"));
    assert_null(strstr(reply(f), "sourdough"));
    assert_int_equal(say_in(f, 1, "UMOD", 1, "kb unanswered"), 0);
    assert_non_null(strstr(reply(f), "sourdough"));
    /* clearing shows nothing, so a channel will do */
    assert_int_equal(say_in(f, 0, "UMOD", 1, "kb unanswered clear"), 0);
}

static void mrkdwn_replies_escape_command_output_and_a_bare_mention_gets_a_hint(void **state)
{
    struct fixture *f = *state;
    f->d.markup = &slack_markup;
    assert_int_equal(say(f, "U1", 0, "kb show <b>&"), ERR_NOTFOUND);
    assert_non_null(strstr(reply(f), "&lt;b&gt;&amp;"));
    assert_null(strstr(reply(f), "<b>"));
    assert_int_equal(say(f, "U1", 0, "How big can Ukraine's army be?"), 0);
    assert_true(strncmp(reply(f), "> It limits", 11) == 0);
    assert_int_equal(say(f, "U1", 0, "   "), 0); /* a bare mention, once the codec took it out */
    assert_non_null(strstr(reply(f), "Ask me about the draft 28-point peace plan"));
    f->d.markup = &markup_plain;
    assert_int_equal(say(f, "U1", 0, "kb show <b>&"), ERR_NOTFOUND);
    assert_non_null(strstr(reply(f), "<b>&"));
}

static void moderators_see_the_declined_questions_most_asked_first(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered"), 0);
    assert_string_equal(reply(f), "No unanswered questions.\n");
    static const char *const asked[] = {
        "What is the airspeed of a swallow?",
        "How do I bake bread?",
        "@planbot how do i bake  bread",
        "How big can Ukraine's army be?", /* answered: not listed */
        "kb frobnicate",                  /* a command: not a question */
    };
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++)
        say(f, "U1", 0, asked[i]);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered"), 0);
    const char *bread = strstr(reply(f), "\n  2×  how do i bake bread  (last asked ");
    const char *swallow = strstr(reply(f), "\n  1×  What is the airspeed of a swallow?  (");
    if (!bread || !swallow || bread > swallow)
        fail_msg("unexpected list:\n%s", reply(f));
    assert_non_null(strstr(bread, " UTC, test)\n"));
    assert_null(strstr(reply(f), "army"));
    assert_null(strstr(reply(f), "frobnicate"));
    assert_null(strstr(reply(f), "U1")); /* who asked is never shown */
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered --limit 1"), 0);
    assert_non_null(strstr(reply(f), "bake bread"));
    assert_null(strstr(reply(f), "swallow"));
    assert_non_null(strstr(reply(f), "--limit N shows more"));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered --limit 0"), ERR_USAGE);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered everything"), ERR_USAGE);
}

/* A declined question, taught by a moderator in one step from kb unanswered: answered after, the
 * change in kb history and undoable like any other; refused to anyone else. */
static void a_moderator_teaches_a_declined_question(void **state)
{
    struct fixture *f = *state;
    const char *q = "Who picks up the tab for protecting Kyiv?";
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "I don't know"));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered"), 0);
    assert_non_null(strstr(reply(f), "      closest: "));
    assert_non_null(strstr(reply(f), "Teach one with: kb teach \"QUESTION\" ID\n"));

    char teach[256];
    snprintf(teach, sizeof teach, "kb teach \"%s\" security-guarantees-compensation", q);
    assert_int_equal(say(f, "U1", 0, teach), ERR_PERM);
    assert_int_equal(say(f, "UMOD", 1, teach), 0);
    assert_non_null(strstr(reply(f), "Changed entry \"security-guarantees-compensation\""));
    assert_non_null(strstr(reply(f), "): examples."));
    assert_non_null(
        strstr(reply(f), "Asked now, it is answered by security-guarantees-compensation."));
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "compensation for its guarantee"));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered"), 0);
    assert_non_null(strstr(reply(f), "now answered by security-guarantees-compensation"));

    assert_int_equal(say(f, "UMOD", 1, teach), 0); /* the same question again */
    assert_non_null(strstr(reply(f), "No change: "));
    assert_int_equal(say(f, "UMOD", 1, "kb teach \"x\" no-such-entry"), ERR_NOTFOUND);
    assert_int_equal(say(f, "UMOD", 1, "kb teach security-guarantees-compensation"), ERR_USAGE);
    assert_int_equal(say(f, "UMOD", 1, "kb teach \"?!\" security-guarantees-compensation"),
                     ERR_USAGE);
    assert_non_null(strstr(reply(f), "the question has no words"));
    /* a wording of common words only, taught, is answered word for word */
    assert_int_equal(say(f, "UMOD", 1, "kb teach \"why now?\" new-window-of-opportunity"), 0);
    assert_non_null(strstr(reply(f), "Asked now, it is answered by new-window-of-opportunity."));
    say(f, "U1", 0, "Why now");
    assert_non_null(strstr(reply(f), "new window of opportunity"));
    /* the same wording taught to another entry: the matcher chooses, and says so */
    assert_int_equal(say(f, "UMOD", 1, "kb teach \"why now?\" witkoff-leads-plan"), 0);
    assert_non_null(strstr(reply(f), "another entry has the same example question"));
    assert_non_null(strstr(reply(f), "Asked now, it is "));

    assert_int_equal(say(f, "UMOD", 1, "kb history security-guarantees-compensation"), 0);
    const char *line = strstr(reply(f), "edit    entry security-guarantees-compensation  by UMOD");
    assert_non_null(line);
    long long change = strtoll(reply(f), NULL, 10);
    char undo[64];
    snprintf(undo, sizeof undo, "kb undo %lld", change);
    assert_int_equal(say(f, "UMOD", 1, undo), 0);
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "I don't know"));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
}

static void unanswered_json_has_one_object_per_question(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered --json"), 0);
    cJSON *list = cJSON_Parse(reply(f));
    assert_true(cJSON_IsArray(list));
    assert_int_equal(cJSON_GetArraySize(list), 2);
    static const char *const keys[] = { "question",   "count", "first_asked",
                                        "last_asked", "via",   "closest" };
    const cJSON *q;
    cJSON_ArrayForEach(q, list)
    {
        /* declined, and declined still: the closest entries are listed for teaching */
        assert_int_equal(cJSON_GetArraySize(q), 6);
        assert_true(cJSON_IsArray(cJSON_GetObjectItem(q, "closest")));
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            assert_non_null(cJSON_GetObjectItemCaseSensitive(q, keys[k]));
        assert_string_equal(cJSON_GetObjectItem(q, "via")->valuestring, "test");
    }
    q = cJSON_GetArrayItem(list, 0);
    assert_string_equal(cJSON_GetObjectItem(q, "question")->valuestring, "how do i bake bread");
    assert_int_equal(cJSON_GetObjectItem(q, "count")->valueint, 2);
    cJSON_Delete(list);
}

static void clearing_the_unanswered_questions_is_not_a_knowledge_change(void **state)
{
    struct fixture *f = *state;
    int changes = history_len(f);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
    assert_string_equal(reply(f), "Cleared 2 unanswered questions.\n");
    assert_int_equal(history_len(f), changes);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered"), 0);
    assert_string_equal(reply(f), "No unanswered questions.\n");
    assert_int_equal(say(f, "U1", 0, "How do I bake bread?"), 0);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
    assert_string_equal(reply(f), "Cleared 1 unanswered question.\n");
}

static void a_readonly_database_declines_as_usual_and_keeps_no_list(void **state)
{
    struct fixture *f = *state;
    struct kb *ro;
    struct match *m;
    char err[512];
    assert_int_equal(kb_open(&ro, kb_path(f->kb), KB_OPEN_READONLY, err, sizeof err), 0);
    assert_int_equal(match_open(&m, ro), 0);
    struct dispatch d = { ro, m, &markup_plain, NULL, NULL, NULL };
    struct buf out;
    buf_init(&out, 1 << 20);
    const char *text = "How do I bake bread?";
    struct plat_message msg = { .user = "U1", .channel = "C1", .text = text, .len = strlen(text) };
    assert_int_equal(dispatch_message(&d, "test", &msg, &out), 0);
    assert_non_null(strstr(buf_str(&out), "I don't know"));
    buf_reset(&out);
    struct plat_message list = { .user = "UMOD",
                                 .channel = "D1",
                                 .text = "kb unanswered",
                                 .len = 13,
                                 .direct = 1,
                                 .moderator = 1 };
    assert_int_equal(dispatch_message(&d, "test", &list, &out), 0);
    assert_string_equal(buf_str(&out), "No unanswered questions.\n");
    buf_free(&out);
    match_close(m);
    kb_close(ro);
}

/* Another process (the terminal) holds the write lock: questions are answered from the data as it
 * is, a moderator's change from the chat fails fast in plain words, without the file's path or
 * SQLite's wording, and works once the lock is gone. */
static void a_change_from_the_chat_while_the_terminal_writes_says_try_again(void **state)
{
    struct fixture *f = *state;
    sqlite3 *other;
    assert_int_equal(sqlite3_open(kb_path(f->kb), &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    kb_set_busy_ms(f->kb, 50);
    assert_int_equal(say_in(f, 0, "U1", 0, "How big can Ukraine's army be?"), 0);
    assert_non_null(strstr(reply(f), "600,000"));
    assert_int_equal(say(f, "UMOD", 1, "kb remove army-cap"), ERR_BUSY);
    assert_non_null(strstr(reply(f), "busy with another change"));
    assert_non_null(strstr(reply(f), "nothing was changed"));
    assert_null(strstr(reply(f), "locked"));
    assert_null(strstr(reply(f), f->dir));
    assert_true(has_entry(f, "army-cap"));
    assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(say(f, "UMOD", 1, "kb remove army-cap"), 0);
    assert_false(has_entry(f, "army-cap"));
    const char *undo = strstr(reply(f), "kb undo ");
    assert_non_null(undo);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "kb undo %lld", strtoll(undo + 8, NULL, 10));
    assert_int_equal(say(f, "UMOD", 1, cmd), 0);
    assert_true(has_entry(f, "army-cap"));
}

static void words_split_like_a_shell(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int n;
        const char *w[4];
    } rows[] = {
        { "kb show army-cap", 3, { "kb", "show", "army-cap" } },
        { "  kb   list  ", 2, { "kb", "list" } },
        { "kb search \"armed forces\"", 3, { "kb", "search", "armed forces" } },
        { "kb search 'armed forces'", 3, { "kb", "search", "armed forces" } },
        { "kb search \xe2\x80\x9c"
          "armed forces\xe2\x80\x9d",
          3,
          { "kb", "search", "armed forces" } },
        { "don't split", 2, { "don't", "split" } },
        { "a\\ b c", 2, { "a b", "c" } },
        { "--title=\"Two words\"", 1, { "--title=Two words" } },
        { "", 0, { NULL } },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct words w;
        char err[64];
        assert_int_equal(words_split(rows[i].text, strlen(rows[i].text), 16, &w, err, sizeof err),
                         0);
        assert_int_equal(w.n, rows[i].n);
        for (int k = 0; k < w.n; k++)
            assert_string_equal(w.v[k], rows[i].w[k]);
        words_free(&w);
    }
    struct words w;
    char err[64];
    assert_int_equal(words_split("a \"b", 4, 16, &w, err, sizeof err), ERR_INVAL);
    assert_int_equal(words_split("a b c", 5, 2, &w, err, sizeof err), ERR_TOOBIG);
}

/* Speakers: a moderator adds another name for one, and a question by that name finds their
 * quotes; removing it is a change like any other; anyone else is refused. */
static void a_moderator_gives_a_speaker_another_name(void **state)
{
    struct fixture *f = *state;
    const char *q = "what did the grumpy walrus say";
    say(f, "U1", 0, q);
    assert_null(strstr(reply(f), "Peskov"));
    assert_int_equal(say(f, "U1", 0, "kb speaker add \"Dmitry Peskov\" \"grumpy walrus\""),
                     ERR_PERM);
    assert_int_equal(say(f, "UMOD", 1, "kb speaker add \"Dmitry Peskov\" \"grumpy walrus\""), 0);
    assert_non_null(strstr(reply(f), "Changed speaker \"Dmitry Peskov\""));
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "— Dmitry Peskov, Kremlin spokesperson"));
    assert_int_equal(say(f, "U1", 0, "kb speaker list"), 0);
    assert_non_null(strstr(reply(f), "\"grumpy walrus\"]"));
    assert_int_equal(say(f, "UMOD", 1, "kb speaker remove \"Dmitry Peskov\" \"no such name\""),
                     ERR_NOTFOUND);
    assert_non_null(
        strstr(reply(f), "speaker \"Dmitry Peskov\" has no other name \"no such name\""));
    assert_int_equal(say(f, "UMOD", 1, "kb speaker remove \"Dmitry Peskov\" \"grumpy walrus\""), 0);
    say(f, "U1", 0, q);
    assert_null(strstr(reply(f), "Peskov"));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
}

/* Parties: "Russia's army" is not answered with Ukraine's army cap, which is offered instead with
 * what was asked; the words that name a party are the moderators' to change ("Russian forces" are
 * Russia's only while "Russian" names Russia); anyone else is refused; the list shows them. */
static void a_moderator_changes_the_words_that_name_a_party(void **state)
{
    struct fixture *f = *state;
    say(f, "U1", 0, "how big is russia's army");
    assert_non_null(strstr(reply(f), "The knowledge base does not say that about Russia."));
    assert_non_null(strstr(reply(f), "600,000"));
    const char *q = "do russian forces have to withdraw from donetsk";
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "The knowledge base does not say that about Russia."));
    /* words count by their stems: "Russians" names Russia as "Russian" does */
    assert_int_equal(say(f, "U1", 0, "kb party remove Russia Russian Russians"), ERR_PERM);
    assert_int_equal(say(f, "UMOD", 1, "kb party remove Russia Russian Russians"), 0);
    assert_non_null(strstr(reply(f), "Changed party \"Russia\""));
    say(f, "U1", 0, q);
    assert_null(strstr(reply(f), "does not say"));
    assert_non_null(strstr(reply(f), "Ukrainian forces to withdraw"));
    assert_int_equal(say(f, "UMOD", 1, "kb party add Russia Russians"), 0);
    say(f, "U1", 0, q);
    assert_non_null(strstr(reply(f), "The knowledge base does not say that about Russia."));
    assert_int_equal(say(f, "U1", 0, "kb party list"), 0);
    assert_non_null(strstr(reply(f), "\"Russians\"]"));
    assert_non_null(strstr(reply(f), "parties"));
    assert_int_equal(say(f, "UMOD", 1, "kb party remove Russia Belarusian"), ERR_NOTFOUND);
    assert_non_null(strstr(reply(f), "party \"Russia\" has no word \"Belarusian\""));
    assert_int_equal(say(f, "UMOD", 1, "kb party add Belarus Belarusian Minsk"), 0);
    assert_non_null(strstr(reply(f), "Added party \"Belarus\""));
    assert_int_equal(say(f, "UMOD", 1, "kb party remove Belarus"), 0);
    assert_non_null(strstr(reply(f), "Removed party \"Belarus\""));
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
}

/* A message in a thread, through a dispatcher that remembers conversations. */
static const char *say_thread(struct dispatch *d, struct buf *out, const char *thread,
                              const char *text)
{
    buf_reset(out);
    struct plat_message msg = {
        .user = "U1", .channel = "C1", .thread = thread, .text = text, .len = strlen(text)
    };
    dispatch_message(d, "test", &msg, out);
    return buf_str(out);
}

/* In a thread, "and Kherson?" or "what about the elections" is read with the question before
 * it when it cannot be answered alone; in another thread, or with nothing before it, it is not.
 * After "I don't know", a number reads that suggestion. */
static void a_conversation_carries_its_topic_to_the_next_message(void **state)
{
    struct fixture *f = *state;
    struct convo *c;
    assert_int_equal(convo_new(&c, 64, 60000), 0);
    struct dispatch d = { f->kb, f->m, &markup_plain, NULL, NULL, c };
    struct buf out;
    buf_init(&out, 1 << 20);

    /* "and the russians?" alone is nothing; after a question about Donetsk it is about what
     * Russia gets there */
    assert_non_null(strstr(say_thread(&d, &out, "T0", "and the russians?"), "I don't know"));
    assert_non_null(strstr(say_thread(&d, &out, "T1", "what happens to donetsk?"), "Donetsk"));
    assert_non_null(strstr(say_thread(&d, &out, "T1", "and the russians?"), "de facto Russian"));
    /* another thread knows nothing of it */
    assert_non_null(strstr(say_thread(&d, &out, "T2", "and the russians?"), "I don't know"));

    /* a number after "I don't know" reads that topic, in the same thread only */
    const char *declined = say_thread(&d, &out, "T3", "how do people feel about frozen zones");
    assert_non_null(strstr(declined, "I don't know"));
    assert_non_null(strstr(declined, "Closest topics: 1. "));
    assert_non_null(strstr(declined, "Reply with the number of a topic to read it."));
    const char *id = strstr(declined, "1. ");
    char first[80] = "";
    const char *open = id ? strchr(id, '[') : NULL, *close = open ? strchr(open, ']') : NULL;
    assert_non_null(close);
    snprintf(first, sizeof first, "[%.*s]", (int)(close - open - 1), open + 1);
    const char *picked = say_thread(&d, &out, "T3", "1");
    assert_non_null(strstr(picked, "> "));
    assert_non_null(strstr(picked, first));
    assert_non_null(strstr(say_thread(&d, &out, "T4", "1"), "I don't know"));
    assert_non_null(strstr(say_thread(&d, &out, "T3", "7"), "I don't know")); /* none is 7 */
    /* a topic removed after it was suggested */
    say_thread(&d, &out, "T5", "how do people feel about frozen zones");
    assert_int_equal(say(f, "UMOD", 1, "kb remove quote-diplomat-annoyance-confusion"), 0);
    const char *change = strstr(reply(f), "(change ");
    assert_non_null(change);
    char undo[64];
    snprintf(undo, sizeof undo, "kb undo %lld", strtoll(change + 8, NULL, 10));
    assert_non_null(strstr(say_thread(&d, &out, "T5", "1"), "no longer in the knowledge base"));
    assert_int_equal(say(f, "UMOD", 1, undo), 0); /* back, for the tests after this one */

    buf_free(&out);
    convo_free(c);
    assert_int_equal(say(f, "UMOD", 1, "kb unanswered clear"), 0);
}

/* How a stored date reads in a citation: "20 November 2025"; anything but YYYY-MM-DD as it is. */
static void reply_date_reads_iso_dates(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        { "2025-11-20", "20 November 2025" },
        { "2026-01-05", "5 January 2026" },
        { "1999-12-31", "31 December 1999" },
        { "2025-13-01", "2025-13-01" },
        { "2025-00-10", "2025-00-10" },
        { "2025-11-20T10:00", "2025-11-20T10:00" },
        { "2025-11-2", "2025-11-2" },
        { "2025-1-20", "2025-1-20" },
        { "20 Nov", "20 Nov" },
        { "", "" },
        { "2025", "2025" },
        { "+025-11-20", "+025-11-20" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[64];
        reply_date(rows[i][0], out, sizeof out);
        if (strcmp(out, rows[i][1]) != 0)
            fail_msg("\"%s\" reads \"%s\", expected \"%s\"", rows[i][0], out, rows[i][1]);
    }
    char tiny[8];
    reply_date("2025-11-20", tiny, sizeof tiny); /* cut, never overrun */
    assert_string_equal(tiny, "20 Nove");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reply_date_reads_iso_dates),
        cmocka_unit_test(question_is_answered_with_quote_and_citation),
        cmocka_unit_test(a_question_for_someone_never_quoted_is_told_so),
        cmocka_unit_test(a_question_about_a_persons_past_is_told_so),
        cmocka_unit_test(citation_marks_wrap_the_source_line_only),
        cmocka_unit_test(off_topic_question_is_declined_politely),
        cmocka_unit_test(a_question_starting_with_help_is_a_question),
        cmocka_unit_test(help_shows_moderator_commands_only_to_moderators),
        cmocka_unit_test(sources_lists_the_article),
        cmocka_unit_test(non_moderator_cannot_change_anything),
        cmocka_unit_test(moderator_removes_and_undoes),
        cmocka_unit_test(moderator_adds_an_entry_with_field_lines),
        cmocka_unit_test(bad_input_is_explained_and_changes_nothing),
        cmocka_unit_test(synonyms_are_edited_from_the_chat),
        cmocka_unit_test(unanswered_questions_are_for_moderators_only),
        cmocka_unit_test(help_with_an_over_long_topic_is_refused_cleanly),
        cmocka_unit_test(unanswered_questions_stay_out_of_channels),
        cmocka_unit_test(mrkdwn_replies_escape_command_output_and_a_bare_mention_gets_a_hint),
        cmocka_unit_test(moderators_see_the_declined_questions_most_asked_first),
        cmocka_unit_test(unanswered_json_has_one_object_per_question),
        cmocka_unit_test(clearing_the_unanswered_questions_is_not_a_knowledge_change),
        cmocka_unit_test(a_moderator_teaches_a_declined_question),
        cmocka_unit_test(a_moderator_gives_a_speaker_another_name),
        cmocka_unit_test(a_moderator_changes_the_words_that_name_a_party),
        cmocka_unit_test(a_conversation_carries_its_topic_to_the_next_message),
        cmocka_unit_test(a_readonly_database_declines_as_usual_and_keeps_no_list),
        cmocka_unit_test(a_change_from_the_chat_while_the_terminal_writes_says_try_again),
        cmocka_unit_test(words_split_like_a_shell),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
