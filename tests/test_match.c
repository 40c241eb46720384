/* test_match.c - the matcher: a table of behaviours every row of which must hold, quality floors
 * on the team's question set, bad and hostile input, and answers that follow the data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "testdir.h"
#include "kb.h"
#include "match.h"
#include "match_questions.h"

struct fixture {
    char dir[64];
    char path[128];
    struct kb *kb;
    struct match *m;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/planbot-match-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/kb.db", f->dir);
    char err[512];
    assert_int_equal(kb_open(&f->kb, f->path, 0, err, sizeof err), 0);
    assert_int_equal(match_open(&f->m, f->kb), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    match_close(f->m);
    kb_close(f->kb);
    testdir_remove(f->dir);
    free(f);
    return 0;
}

/* Whether id is one of the |-separated ids in expect. */
static int expected(const char *expect, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = expect; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, id, n) == 0)
            return 1;
        p = bar ? bar + 1 : p + len;
    }
    return 0;
}

static const char *ask(struct fixture *f, const char *q, struct match_result *r)
{
    int rc = match_ask(f->m, q, strlen(q), 3, r, NULL);
    if (rc)
        fail_msg("match_ask(%s) failed: %s", q, match_errmsg(f->m));
    return r->n ? r->answers[0].id : NULL;
}

/* The id of the answer, or "(declined)": never NULL, for assert_string_equal. */
static const char *answer(struct fixture *f, const char *q)
{
    struct match_result r;
    const char *id = ask(f, q, &r);
    static char last[MATCH_MAX_ID + 1];
    snprintf(last, sizeof last, "%s", id ? id : "(declined)");
    return last;
}

/* Behaviours: each row names one thing the matcher must do. */
static const struct question_row behaviours[] = {
    /* "how many" and "when" want the number or the time near a word of the question: "the two
     * countries" is no count of troops, and "in the coming days" is about a call, not the war's end
     */
    { "how many troops does russia have in ukraine", NULL },
    { "when will the war end", NULL },
    { "how many days until the elections", "elections-100-days" },
    { "when did driscoll deliver the plan", "driscoll-delivered-plan" },
    /* "what's the deal with X" asks about X; a deal with someone is still a deal */
    { "whats the deal with zaporizhia", "kherson-zaporizhzhia-frozen|zaporizhzhia-nuclear-plant" },
    { "what's up with rubio", "quote-rubio-potential-ideas|quote-rubio-x-post-concessions" },
    { "any update on the donbas", "donbas-partially-held|crimea-donbas-de-facto-russian" },
    { "what's the umerov update", "quote-umerov-technical-level" },
    { "the kherson situation?", "kherson-zaporizhzhia-frozen" },
    { "was the story updated", "story-updated" },
    { "what's the situation with kherson", "kherson-zaporizhzhia-frozen" },
    { "has the story been updated", "story-updated" },
    /* a phrase weighs by the entries that hold it whole: "defence guarantees" is in none, so it
     * weighs what its synonym "security guarantees" does */
    { "defence guarantees for ukraine?", "security-guarantees-compensation" },
    /* a speaker's other names, held on the speaker, find their quotes */
    { "what did the WH press secretary say",
      "quote-leavitt-frustrated|quote-leavitt-steadfast|quote-leavitt-in-flux|"
      "quote-leavitt-talked-equally|quote-leavitt-good-plan" },
    { "what was poland's FM's take", "quote-sikorski-involve-europe|quote-sikorski-bigger-stake" },
    { "whats rubio's line", "quote-rubio-potential-ideas|quote-rubio-x-post-concessions" },
    { "did zelensky speak to trump", "quote-ukraine-office-just-end" }, /* a meeting, not words */
    { "is zelensky expected to speak to trump soon? what did his office say",
      "quote-ukraine-office-just-end" },
    { "who said europe has a much bigger stake than the us", "quote-sikorski-bigger-stake" },
    { "who said the national security team is steadfast", "quote-leavitt-steadfast" },
    /* another name with "US" in it, typed "US" (the country) or "us" */
    { "How did the top US diplomat characterize the document?", "quote-rubio-potential-ideas" },
    { "how did the top us diplomat characterize the document", "quote-rubio-potential-ideas" },
    { "gist of the 28pt plan?", "plan-overview" }, /* a number run together with its unit */
    /* a typo of a word that names no topic names none either */
    { "who physicaly handed zelensky the plan", "driscoll-delivered-plan" },
    { "waht is teh army cap", "army-cap" },
    /* an adverb made of an adjective names no topic; a noun in "-ly" does */
    { "so ukraine gives up donetsk entirely", "donetsk-withdrawal-buffer-zone" },
    { "what does the plan say about the national assembly", NULL },
    { "kallas's verdict?", "quote-kallas-on-board" },
    { "where is the line of contact", "kherson-zaporizhzhia-frozen" },
    { "what did putin's spokesman say", "quote-peskov-not-informed|quote-peskov-anchorage" },
    { "what did zelenskyy say about the plan",
      "quote-zelensky-constructive-work|quote-ukraine-office-received-draft|"
      "quote-ukraine-office-just-end|zelensky-agrees-to-work" },
    /* the article's own words and plain paraphrases */
    { "How big can Ukraine's army be?", "army-cap" },
    { "army cap", "army-cap" },
    { "Is there an amnesty?", "amnesty-all-parties" },
    { "Can Ukraine join NATO?", "nato-membership" },
    { "Will Russia get back into the G8?", "russia-return-g8" },
    { "what about the nuclear power plant", "zaporizhzhia-nuclear-plant" },
    { "who is steve witkoff", "witkoff-leads-plan" },
    /* case, punctuation, emoji, diacritics */
    { "HOW BIG CAN UKRAINE'S ARMY BE???", "army-cap" },
    { "army size? \xF0\x9F\xA4\x94\xF0\x9F\x87\xBA\xF0\x9F\x87\xA6", "army-cap" },
    { "Zaporizhzhia nuclear plant IAEA", "zaporizhzhia-nuclear-plant" },
    { "Zélensky reaction", "quote-zelensky-constructive-work|zelensky-agrees-to-work|"
                           "quote-ukraine-office-received-draft|quote-ukraine-office-just-end" },
    /* what chat leaves in a question once the platform's codec has decoded its markup */
    { "@planbot how big can the army be?", "army-cap" },
    { "@planbot is there an amnesty?", "amnesty-all-parties" },
    { "#general amnesty?", "amnesty-all-parties" }, /* a channel, decoded */
    { "amnesty (https://example.com/amnesty) in the plan?", "amnesty-all-parties" },
    { "\xF0\x9F\xA4\x94 amnesty?", "amnesty-all-parties" },
    { "<b>amnesty</b> & pardons?", "amnesty-all-parties" },
    /* typos against the knowledge base's own vocabulary */
    { "ukrane army cap", "army-cap" },
    { "how big can the ukranian army be", "army-cap" },
    { "is there an amnesy", "amnesty-all-parties" },
    { "what did rubbio say", "quote-rubio-potential-ideas|quote-rubio-x-post-concessions" },
    /* synonyms */
    { "How many soldiers can Ukraine have?", "army-cap" },
    { "Would Kiev have to leave Donetsk?", "donetsk-withdrawal-buffer-zone" },
    { "what happens to POWs", "return-detainees-pows" },
    { "Zaporozhye nuke plant", "zaporizhzhia-nuclear-plant" },
    { "when is the vote", "elections-100-days" },
    { "what did Zelenskyy say", "quote-zelensky-constructive-work" },
    /* the one who said it: a typo is fixed only into a speaker's name; someone the knowledge
     * base quotes nowhere gets no one else's words; "was X told" asks who was told */
    { "zelenksy response", "quote-zelensky-constructive-work|zelensky-agrees-to-work" },
    { "what did starmer say about it", NULL },
    { "what did Starmer say about it", NULL },
    /* ... even when the misspelling is an English word or a name of its own */
    { "what did levitt say about the plan being in flux", "quote-leavitt-in-flux" },
    /* "saying yes" is accepting, not anyone's words: no speaker the question names is asked */
    { "why would saying yes be political suicide for ukraine", "quote-diplomat-political-suicide" },
    { "Was Moscow told that Zelensky is ready?", "quote-peskov-not-informed" },
    /* a verb of taking a stand after one the knowledge base quotes asks what they said ("did
     * Kallas endorse it"), not for a word "endorse" in an entry */
    { "did kallas endorse it", "quote-kallas-on-board" },
    /* checking a claim: "accurate", "legit", "spin" frame it and name no topic; an alternative
     * the asker offers after "or" ("or just twitter takes"), and what they heard after their
     * question ("someone said the UN"), are their own guess: an entry lacking its words still
     * answers, as it does for the asker's asides */
    { "amnesty for everyone involved in the war, accurate?", "amnesty-all-parties" },
    { "sikorski wants europe involved, true or just spin?",
      "quote-sikorski-involve-europe|quote-sikorski-bigger-stake" },
    { "is that comparison to gaza actually in the reporting or just twitter takes?",
      "gaza-ceasefire-comparison|peace-council-monitoring" },
    { "who's supposed to monitor the deal? someone said the UN",
      "peace-council-monitoring|gaza-ceasefire-comparison" },
    { "who would monitor the deal? heard it was the UN",
      "peace-council-monitoring|gaza-ceasefire-comparison" },
    /* a claim checked carries the asker's version of it: the entry that corrects it answers
     * from 40% coverage when clearly ahead, as for a long question */
    { "fact check: kherson and zaporizhzhia get handed over to russia entirely?",
      "kherson-zaporizhzhia-frozen" },
    { "is it true the icc wants putin for war crimes in general?", "icc-putin-warrant" },
    /* ... but a clause of the question itself, even with "or", still counts */
    { "what does the plan say about the UN or the EU", NULL },
    /* paraphrases: "pullout" is a withdrawal, "no clue" not knowing, a "done deal" final, the
     * "staff level" the technical one, a "referee" who oversees */
    { "is this a done deal or still just a draft?", "plan-framework-stage|plan-status-evolving" },
    { "are the teams still working it at staff level or has it stalled",
      "quote-umerov-technical-level" },
    { "who's the referee on compliance once this thing is signed?",
      "us-russia-working-group|peace-council-monitoring" },
    { "donetsk pullout ukr troops", "donetsk-withdrawal-buffer-zone" },
    { "per the diplomat, who in DC had no clue about the plan until the leak",
      "quote-diplomat-nobody-knew|congress-state-dept-not-told" },
    /* a question type in the asker's aside is not asked ("not sure how deep he's in", "a
     * deadline on friday") */
    { "Witkoff's name keeps coming up and I'm not sure how deep he's in. How long has he been "
      "working on this, and did both Kyiv and Moscow give input?",
      "witkoff-leads-plan" },
    { "we have a deadline on friday for our brief, what does the plan say about crimea",
      "crimea-donbas-de-facto-russian|us-policy-reversal-crimea" },
    /* under the bar, an entry one of whose example questions holds every topical word of the
     * question answers with a small lead (1.15 times the next candidate, not 2) */
    { "why are the americans pushing this now", "new-window-of-opportunity" },
    /* "did X end up ..." asks what came of it since: how things stand now, which the article
     * cannot say ("does the US end up calling Crimea Russian" asks what the plan says) */
    { "did zelensky end up signing the framework in the end", NULL },
    { "did Trump and Zelensky actually end up talking on the phone?", NULL },
    { "does washington actually end up calling crimea russian under this thing",
      "crimea-donbas-de-facto-russian|us-policy-reversal-crimea" },
    /* "in how much time" asks how long: a span, which a number of days answers */
    { "elections in Ukraine - in how much time they must be done according to plan?",
      "elections-100-days" },
    /* "X's position on" asks for X's stand, not where anything is positioned */
    { "what's Poland's position on the plan",
      "quote-sikorski-involve-europe|quote-sikorski-bigger-stake" },
    /* a speaker's other names are data: "Kyiv's envoy" is Ukraine's ambassador */
    { "does kyiv's envoy to washington think this is a serious process",
      "quote-stefanishyna-serious" },
    /* a description of a speaker's job ("the Kremlin's mouthpiece") reaches their role */
    { "what did the kremlin's mouthpiece say about anchorage", "quote-peskov-anchorage" },
    /* a sentence ends at a full stop after a short word too ("rolled out."), so the clause
     * before the question is an aside; not after an abbreviation ("Mr. Witkoff") */
    { "Mood check, since I read there's some frustration in diplomatic circles about how this got "
      "rolled out. How did the diplomat describe the general feeling?",
      "quote-diplomat-annoyance-confusion" },
    { "what did Mr. Witkoff say about the plan", NULL },
    /* the sentences before the first that asks are the asker's context: an entry lacking their
     * words loses only half of them (all, when they speak of the asker), but the question's
     * still count */
    { "Predictably the land stuff is gonna be the sticking point, as always. Does the article "
      "expect pushback from Ukraine's supporters over the territorial giveaways?",
      "land-concessions-criticism" },
    { "There's lots of noise about the Kyiv meeting but few details. According to the defense "
      "official, what did Driscoll and Zelensky actually discuss?",
      "quote-defense-official-timeline" },
    { "I remember the Istanbul talks in 2022 basically fell apart. What exactly did both sides "
      "agree to back then and why did it collapse?",
      NULL },
    /* a question tag ("..., right?", "..., oder?", "..., né?") asks whether what came before is
     * so; it names no topic. A word the knowledge base lacks after the comma is the asker's
     * guess only when it is longer than a tag ("next round of talks where, geneva?") */
    { "Crimea will be recognised from US side as russian, oder?",
      "crimea-donbas-de-facto-russian|us-policy-reversal-crimea" },
    { "Russia can come back in G8 with this deal, né?", "russia-return-g8" },
    { "next round of talks where, geneva?", NULL },
    /* "X himself" counts for little, and X is still the one whose words are asked for: Putin is
     * quoted nowhere, and his spokesman's words are not his */
    { "what did putin himself say about the plan", NULL },
    { "did zelensky himself sign anything", "framework-not-final-deal" },
    /* chat shorthand: "smth", "mil"; "mad about" is the criticism an entry reports */
    { "rubio said smth about concessions on x", "quote-rubio-x-post-concessions" },
    { "what's the cap on the ukr mil", "army-cap" },
    { "would ukraine's backers be mad about giving up land", "land-concessions-criticism" },
    /* a word of the question that is found in few entries makes an answer, even through a
     * typo; chat's filler words ("instead", "btw") weigh nothing */
    { "zelenksy?", "quote-zelensky-constructive-work|zelensky-agrees-to-work|"
                   "quote-peskov-not-informed|driscoll-delivered-plan" },
    { "why did an army guy deliver it instead of diplomats", "why-army-delivered" },
    { "btw how big can ukraine's army be rn", "army-cap" },
    { "how did rubio weigh in", "quote-rubio-potential-ideas|quote-rubio-x-post-concessions" },
    /* a word is another form of a known one only with a form's ending: "referendum" is not
     * "reference"; and what a text says is no one's quote */
    { "does the plan say anything about a referendum", NULL },
    { "what does the draft say about the nuclear plant", "zaporizhzhia-nuclear-plant" },
    /* a near miss answers only with a specific word where it counts: "shot" found only in an
     * example question that is not close does not make one */
    { "what would happen if ukraine shot at moscow", "missile-moscow-guarantee-void" },
    /* requests and chat spellings of function words weigh nothing */
    { "can you explain the security guarantee part", "security-guarantees-compensation" },
    { "wat did rubio say", "quote-rubio-potential-ideas|quote-rubio-x-post-concessions" },
    /* "what day" asks for a time and is not a topic ("Groundhog Day": "obtained Thursday by
     * CNN" answers); digits are their words */
    { "what day did cnn get the draft", "plan-overview" },
    { "what happens to occupied territories outside the 5 regions",
      "russia-relinquishes-territories" },
    /* quotes when asking what someone said, provisions otherwise */
    { "What did the Kremlin spokesman say?", "quote-peskov-anchorage|quote-peskov-not-informed" },
    { "What did Kaja Kallas say?", "quote-kallas-on-board" },
    { "What did Sikorski say about the US?", "quote-sikorski-bigger-stake" },
    /* a phrasal verb with its object between ("give any land back"), as its synonyms say */
    { "ok does the kremlin give any land back at all", "russia-relinquishes-territories" },
    { "would ukraine have to pull its troops out of donetsk", "donetsk-withdrawal-buffer-zone" },
    /* a chat opener asks nothing: "when" after it still asks when */
    { "quick q: when did russia annex crimea", NULL },
    /* a speaker's full name is one word of the question: what is asked of them still counts */
    { "who is kaja kallas married to", NULL },
    { "how old is dmitry peskov", NULL },
    { "what did the US defense official say about the army being trusted",
      "quote-defense-official-trusted-ally" },
    /* a word about the source that the knowledge base lacks is no topic it lacks */
    { "which outlet obtained the draft", "plan-overview" },
    /* "any update from X": news of X, no topic of its own */
    { "any update from umerov on the talks", "quote-umerov-technical-level" },
    /* chat abbreviations: "ukr", "rus", "wh", "press sec" */
    { "can rus troops go into the demilitarized zone", "dmz-no-russian-forces" },
    { "nato troops in ukr?", "nato-no-troops-in-ukraine" },
    { "what did the wh press sec say about the plan being in flux", "quote-leavitt-in-flux" },
    /* "does the plan cover X", "does it address X": what the document holds, no topic */
    { "are deported ukrainian children addressed anywhere in the draft",
      "return-deported-children" },
    /* a share is asked for, which no entry states */
    { "what % of donetsk does ukraine still control", NULL },
    /* "why now" asks a reason, not how things stand */
    { "why are they pushing this right now", "new-window-of-opportunity" },
    /* a clause beside the one that asks is the asker's own business: its words the knowledge
     * base lacks weigh nothing; the words of the clause that asks still do */
    { "prepping slides for my manager on the plan: do ukrainian forces have to leave donetsk?",
      "donetsk-withdrawal-buffer-zone" },
    { "my manager asked me this morning, what's the population of donetsk?", NULL },
    { "prépping slides for my équipe: do ukrainian forces have to leave donetsk?",
      "donetsk-withdrawal-buffer-zone" },
    { "hotel recommendations in St. Petersburg?", NULL },
    /* ... and when that clause speaks of the asker, an entry is not measured by its words; a
     * clause reporting someone's claim is what is asked about, and keeps its words */
    { "we're putting together a training deck for our whole office and my manager wants this one "
      "point, does the plan cap the size of ukraine's army?",
      "army-cap" },
    { "been arguing with my brother all morning, he says the plan lets ukraine keep nuclear "
      "weapons, is that in there?",
      NULL },
    /* a long question carries its asker's context, which no entry holds: a clear lead answers
     * under the bar; a short one with the same words missing does not */
    { "Our legal folks are going through the human rights angle this week and keep asking me the "
      "same thing — does the draft pardon wartime conduct by all sides and rule out later claims?",
      "amnesty-all-parties" },
    { "Sorry for the wall of text but the procurement people want a straight yes or no before "
      "Friday: is there some clause that voids the guarantee if Kyiv hits a big Russian city with "
      "a missile?",
      "missile-moscow-guarantee-void" },
    { "does the draft pardon wartime conduct by all sides and rule out later claims from the war "
      "crimes people?",
      NULL },
    { "the sales team in Warsaw keeps pinging me about this every single day and I honestly have "
      "no clue what to tell them, so: how many square kilometres of Donetsk does Kyiv hold right "
      "now?",
      NULL },
    { "Asking for the quarterly risk memo that our compliance folks circulate to every regional "
      "office: what did Dmitry Peskov have for breakfast on the day the draft leaked?",
      NULL },
    /* a legal claim is no one's words; "how far along" asks how finished, not how far; idioms
     * as synonyms ("down the line", "nailed down", "flak") */
    { "would ukraine be able to bring claims over wartime actions down the line?",
      "amnesty-all-parties" },
    { "how far along is the plan, have the points been nailed down?", "plan-framework-stage" },
    { "does cnn expect the land concessions to draw flak?", "land-concessions-criticism" },
    /* what follows an event ("what happens if", "what if") needs an entry that states a
     * condition; what becomes of a thing ("what happens to") does not */
    { "what happens if ukraine goes over the 600,000 cap?", NULL },
    { "what if ukraine fires a missile at moscow", "missile-moscow-guarantee-void" },
    { "what happens if someone breaks the agreement",
      "sanctions-for-violations|russia-invades-again" },
    { "what happens to kherson under the plan", "kherson-zaporizhzhia-frozen" },
    { "why did the talks speed up this week, if anything changed in moscow",
      "witkoff-leads-plan|new-window-of-opportunity" },
    /* a word for a part of the document ("clause", "section") names no topic */
    { "is there an amnesty clause in there?", "amnesty-all-parties" },
    { "which section covers russia invading again", "russia-invades-again" },
    /* off topic: decline */
    { "How do I make coffee?", NULL },
    { "What's on the lunch menu today?", NULL },
    { "Can you book a meeting room for me?", NULL },
    { "What is the capital of Poland?", NULL },
    { "How do I renew my passport?", NULL },
    { "lol", NULL },
    { "thanks!", NULL },
    { "\xF0\x9F\x91\x8D", NULL },
    { "", NULL },
    { "   ", NULL },
    { "@planbot", NULL },
    /* FTS5 syntax in a question is just punctuation */
    { "\"army cap", "army-cap" },
    { "army* cap*", "army-cap" },
    { "- army -cap ^ ' \"\" ()", "army-cap" },
    { "'; DROP TABLE entries; --", NULL },
};

static void matcher_follows_behaviour_table(void **state)
{
    struct fixture *f = *state;
    int failed = 0;
    for (size_t i = 0; i < sizeof behaviours / sizeof behaviours[0]; i++) {
        struct match_result r;
        const char *got = ask(f, behaviours[i].question, &r);
        int ok = behaviours[i].expect ? got && expected(behaviours[i].expect, got) : got == NULL;
        if (!ok) {
            print_message("row %zu: %s\n    want %s, got %s\n", i, behaviours[i].question,
                          behaviours[i].expect ? behaviours[i].expect : "(decline)",
                          got ? got : "(decline)");
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* The team's question set: the matcher must stay at or above these rates, in percent (the
 * README reports the current ones). A change that lowers them needs a reason: 89 became 87 when
 * the sixth round added seven batches, harder than the set before them (87.6% right of them all,
 * 90.2% of the set before, which had been at 89.7%); 87 and 93 became 86 and 91 when the eighth
 * round added six batches (the set before them at 88.2% and 93.4%, all of it at 86.5% and
 * 91.7%). */
enum { ANSWER_FLOOR = 86, DECLINE_FLOOR = 91 };

static void matcher_meets_quality_floors_on_question_set(void **state)
{
    struct fixture *f = *state;
    int on = 0, on_ok = 0, on_declined = 0, off = 0, off_ok = 0;
    for (size_t i = 0; i < sizeof question_rows / sizeof question_rows[0]; i++) {
        struct match_result r;
        const char *got = ask(f, question_rows[i].question, &r);
        int ok;
        if (question_rows[i].expect) {
            on++;
            on_ok += ok = got && expected(question_rows[i].expect, got);
            on_declined += got == NULL;
        } else {
            off++;
            off_ok += ok = got == NULL;
        }
        if (!ok)
            print_message("miss: %s\n    want %s, got %s\n", question_rows[i].question,
                          question_rows[i].expect ? question_rows[i].expect : "(decline)",
                          got ? got : "(decline)");
    }
    print_message("answered %d/%d (%d wrongly, %d declined), declined %d/%d (%d answered)\n", on_ok,
                  on, on - on_ok - on_declined, on_declined, off_ok, off, off - off_ok);
    assert_true(on >= 100);
    assert_true(on_ok * 100 >= on * ANSWER_FLOOR);
    assert_true(off_ok * 100 >= off * DECLINE_FLOOR);
}

/* Asks q of m and describes the result in one line: answers and suggestions with their scores. */
static void describe(struct match *m, const char *q, char *out, size_t len)
{
    struct match_result r;
    struct buf explain;
    buf_init(&explain, 1 << 20);
    if (match_ask(m, q, strlen(q), 3, &r, &explain))
        fail_msg("match_ask(%s) failed: %s", q, match_errmsg(m));
    size_t at = 0;
    for (int i = 0; i < r.n && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, "%s %.9f %.9f; ", r.answers[i].id,
                               r.answers[i].score, r.answers[i].coverage);
    for (int i = 0; i < r.nsuggest && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, "(%s %.9f) ", r.suggestions[i].id,
                               r.suggestions[i].score);
    if (at < len) /* the candidates too: the same retrieval, not just the same winner */
        snprintf(out + at, len - at, "%s", buf_str(&explain));
    buf_free(&explain);
}

/* The knowledge base held in memory (the bundled one is) and FTS5 retrieve the same candidates
 * with the same scores, so every question is answered alike. */
static void resident_and_fts5_retrieval_answer_alike(void **state)
{
    struct fixture *f = *state;
    struct match *fts;
    assert_int_equal(match_open(&fts, f->kb), 0);
    match_set_resident_max(fts, 0);
    const struct question_row *sets[] = { behaviours, question_rows };
    size_t sizes[] = { sizeof behaviours / sizeof behaviours[0],
                       sizeof question_rows / sizeof question_rows[0] };
    int compared = 0;
    for (int set = 0; set < 2; set++) {
        for (size_t i = 0; i < sizes[set]; i++) {
            static char a[1 << 16], b[1 << 16];
            describe(f->m, sets[set][i].question, a, sizeof a);
            describe(fts, sets[set][i].question, b, sizeof b);
            if (strcmp(a, b) != 0)
                fail_msg("%s\n  in memory: %s\n  FTS5: %s", sets[set][i].question, a, b);
            compared++;
        }
    }
    match_close(fts);
    assert_true(compared > 200);
}

/* Whatever FTS5 or SQL syntax a question holds, it is never an error and never runs. */
static void hostile_questions_are_only_words(void **state)
{
    struct fixture *f = *state;
    static const char *const qs[] = {
        "\"",
        "\"\"\"",
        "*",
        "NEAR(army cap, 2)",
        "army NEAR/2 cap",
        "title:army OR text:cap",
        "{title text}: army",
        "^army",
        "army AND OR NOT cap",
        "(((army",
        "army))) OR (",
        "'; DROP TABLE entries; --",
        "\\x00",
        "entries_fts MATCH 'a'",
        "- - - -",
        "+army",
        "army:*",
        "\xe2\x80\x8f\xe2\x80\xae army",
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        struct match_result r;
        if (match_ask(f->m, qs[i], strlen(qs[i]), 3, &r, NULL))
            fail_msg("%s: %s", qs[i], match_errmsg(f->m));
    }
    assert_true(kb_count_entries(f->kb) > 50);
}

static void long_question_is_refused_and_nul_is_refused(void **state)
{
    struct fixture *f = *state;
    struct match_result r;
    char *q = malloc(100 * 1024 + 1);
    memset(q, 'a', 100 * 1024);
    q[100 * 1024] = '\0';
    assert_int_equal(match_ask(f->m, q, 100 * 1024, 3, &r, NULL), ERR_TOOBIG);
    assert_non_null(strstr(match_errmsg(f->m), "too long"));
    assert_int_equal(match_ask(f->m, q, MATCH_MAX_QUESTION + 1, 3, &r, NULL), ERR_TOOBIG);
    /* at the cap: answered (or declined), not refused */
    memset(q, ' ', MATCH_MAX_QUESTION);
    memcpy(q, "army cap", 8);
    assert_int_equal(match_ask(f->m, q, MATCH_MAX_QUESTION, 3, &r, NULL), 0);
    assert_int_equal(r.n > 0, 1);
    assert_int_equal(match_ask(f->m, "army\0cap", 8, 3, &r, NULL), ERR_INVAL);
    assert_non_null(strstr(match_errmsg(f->m), "NUL"));
    free(q);
}

static void invalid_utf8_and_control_bytes_are_harmless(void **state)
{
    struct fixture *f = *state;
    static const char *const qs[] = { "army\xff\xfe cap", "\xc0\xaf amnesty", "\x01\x02\x1b[31m",
                                      "\xe2\x80\x8f amnesty \xe2\x80\x8e", "\xed\xa0\x80 army" };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        struct match_result r;
        assert_int_equal(match_ask(f->m, qs[i], strlen(qs[i]), 3, &r, NULL), 0);
    }
}

static void limit_bounds_related_answers(void **state)
{
    struct fixture *f = *state;
    struct match_result r;
    const char *q = "What did Leavitt say?";
    assert_int_equal(match_ask(f->m, q, strlen(q), 1, &r, NULL), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(match_ask(f->m, q, strlen(q), 3, &r, NULL), 0);
    assert_true(r.n >= 2 && r.n <= 3);
    for (int i = 1; i < r.n; i++)
        assert_true(r.answers[i].score <= r.answers[0].score);
}

static void decline_suggests_closest_topics(void **state)
{
    struct fixture *f = *state;
    struct match_result r;
    const char *q = "What is the population of Crimea?";
    assert_int_equal(match_ask(f->m, q, strlen(q), 3, &r, NULL), 0);
    assert_int_equal(r.n, 0);
    assert_true(r.nsuggest >= 1 && r.nsuggest <= MATCH_MAX_SUGGESTIONS);
    assert_non_null(strstr(r.suggestions[0].id, "crimea"));
}

static void explain_describes_the_decision(void **state)
{
    struct fixture *f = *state;
    struct match_result r;
    struct buf ex;
    buf_init(&ex, 1 << 20);
    assert_int_equal(match_ask(f->m, "ukrane army cap", 15, 3, &r, &ex), 0);
    assert_non_null(strstr(buf_str(&ex), "ukraine"));
    assert_non_null(strstr(buf_str(&ex), "typo"));
    assert_non_null(strstr(buf_str(&ex), "answer: army-cap"));
    /* a word of saying in a clause that asks nothing asks for no quote; in the clause that asks,
     * it does */
    static const struct {
        const char *question;
        int says;
    } said[] = {
        { "someone in our channel said the plan is a rehash of istanbul, any truth to that?", 0 },
        { "someone in our channel asked me, what did rubio say about the plan?", 1 },
    };
    for (size_t i = 0; i < sizeof said / sizeof *said; i++) {
        buf_reset(&ex);
        assert_int_equal(match_ask(f->m, said[i].question, strlen(said[i].question), 3, &r, &ex),
                         0);
        assert_int_equal(strstr(buf_str(&ex), "asks what someone said") != NULL, said[i].says);
    }
    /* a country where a role posts its holder does not name them: "the US side" is not Ukraine's
     * ambassador to the United States, though her role is named by "Ukraine's ambassador" */
    static const struct {
        const char *question;
        int named;
    } posted[] = {
        { "who's been leading the effort on the US side?", 0 },
        { "what did ukraine's ambassador say about trump's leadership", 1 },
    };
    for (size_t i = 0; i < sizeof posted / sizeof *posted; i++) {
        buf_reset(&ex);
        const char *q = posted[i].question;
        assert_int_equal(match_ask(f->m, q, strlen(q), 3, &r, &ex), 0);
        const char *line = strstr(buf_str(&ex), "  quote-stefanishyna-serious ");
        assert_non_null(line);
        char row[512];
        snprintf(row, sizeof row, "%.*s", (int)strcspn(line, "\n"), line);
        int named = strstr(row, "(the speaker named)") != NULL;
        if (named != posted[i].named)
            fail_msg("%s: the speaker named %d, want %d:\n%s", q, named, posted[i].named,
                     buf_str(&ex));
    }
    /* each question type is named, and a long question's decision says why it answered */
    static const struct {
        const char *question, *says;
    } types[] = {
        { "what day did cnn get hold of the draft", "asks for a day" },
        { "what did driscoll do before he became army secretary", "asks a person's past" },
        { "what if ukraine fires a missile at moscow", "asks what follows if something happens" },
        { "how many soldiers does ukraine have right now", "asks how things stand now" },
        { "is the cap on ukraine's army more or less than a million", "asks how many" },
        { "fact check: kherson and zaporizhzhia get handed over to russia entirely?",
          "(a claim checked)" },
        { "why are the americans pushing this now",
          "(an example question holds every word of it)" },
        { "Sorry for the wall of text but the procurement people want a straight yes or no before "
          "Friday: is there some clause that voids the guarantee if Kyiv hits a big Russian city "
          "with a missile?",
          "(a long question)" },
    };
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        buf_reset(&ex);
        assert_int_equal(match_ask(f->m, types[i].question, strlen(types[i].question), 3, &r, &ex),
                         0);
        if (!strstr(buf_str(&ex), types[i].says))
            fail_msg("%s: want \"%s\" in:\n%s", types[i].question, types[i].says, buf_str(&ex));
    }
    buf_free(&ex);
}

static void answers_follow_changes_to_the_knowledge_base(void **state)
{
    struct fixture *f = *state;
    struct kb_actor who = { "tester", "test" };
    const char *q = "What about the zorblax treaty?";
    assert_string_equal(answer(f, q), "(declined)");

    cJSON *src = cJSON_Parse("{\"id\":\"memo\",\"title\":\"A memo\",\"text\":null}");
    assert_int_equal(kb_put(f->kb, KB_SOURCE, src, KB_PUT_ADD, &who, NULL), 0);
    cJSON *e = cJSON_Parse("{\"id\":\"zorblax-treaty\",\"kind\":\"context\",\"title\":\"The "
                           "zorblax treaty\",\"text\":\"The zorblax treaty is a test entry.\","
                           "\"source\":\"memo\",\"keywords\":[\"quux\"]}");
    int64_t change;
    assert_int_equal(kb_put(f->kb, KB_ENTRY, e, KB_PUT_ADD, &who, &change), 0);
    assert_string_equal(answer(f, q), "zorblax-treaty");

    /* a keyword supports an answer but cannot carry it alone */
    assert_string_equal(answer(f, "quux?"), "(declined)");

    /* a synonym added now applies to the next question */
    assert_string_equal(answer(f, "frobnicate?"), "(declined)");
    cJSON *syn = cJSON_Parse("{\"term\":\"frobnicate\",\"words\":[\"zorblax\"]}");
    assert_int_equal(kb_put(f->kb, KB_SYNONYM, syn, KB_PUT_ADD, &who, NULL), 0);
    assert_string_equal(answer(f, "frobnicate?"), "zorblax-treaty");

    assert_int_equal(kb_undo(f->kb, change, 0, &who, NULL), 0);
    assert_string_equal(answer(f, q), "(declined)");
    cJSON_Delete(src);
    cJSON_Delete(e);
    cJSON_Delete(syn);
}

/* Asks each question of rows through memory and through FTS5 alike; each must get its answer. */
static void ask_both_ways(struct fixture *f, const struct question_row *rows, size_t n)
{
    for (int resident = 1; resident >= 0; resident--) {
        match_set_resident_max(f->m, resident ? 4096 : 0);
        for (size_t i = 0; i < n; i++) {
            const char *want = rows[i].expect ? rows[i].expect : "(declined)";
            const char *got = answer(f, rows[i].question);
            if (strcmp(got, want) != 0)
                fail_msg("%s (%s): want %s, got %s", rows[i].question,
                         resident ? "in memory" : "FTS5", want, got);
        }
    }
    match_set_resident_max(f->m, 4096);
}

/* Adds the test entry zorblax-treaty, citing the source "memo" (added too if missing), with
 * the example questions in examples (a JSON array). Returns the change that undoes it. */
static int64_t put_zorblax(struct fixture *f, const char *examples)
{
    struct kb_actor who = { "tester", "test" };
    cJSON *src = cJSON_Parse("{\"id\":\"memo\",\"title\":\"A memo\",\"text\":null}");
    assert_int_equal(kb_put(f->kb, KB_SOURCE, src, KB_PUT_UPSERT, &who, NULL), 0);
    char json[1024];
    snprintf(json, sizeof json,
             "{\"id\":\"zorblax-treaty\",\"kind\":\"context\",\"title\":\"The zorblax "
             "treaty\",\"text\":\"The zorblax treaty is a test entry.\",\"source\":\"memo\","
             "\"examples\":%s}",
             examples);
    cJSON *e = cJSON_Parse(json);
    assert_non_null(e);
    int64_t change;
    assert_int_equal(kb_put(f->kb, KB_ENTRY, e, KB_PUT_ADD, &who, &change), 0);
    cJSON_Delete(src);
    cJSON_Delete(e);
    return change;
}

/* Example questions teach an entry wordings its text lacks: a question close to one example is
 * answered, through memory and through FTS5 alike; words shared with different examples, one
 * each, do not make an answer. */
static void example_questions_answer_wordings_the_text_lacks(void **state)
{
    struct fixture *f = *state;
    struct kb_actor who = { "tester", "test" };
    int64_t change =
        put_zorblax(f, "[\"who pays for the gizmo warranty?\",\"does the flurb get a refund\"]");
    static const struct question_row rows[] = {
        { "who pays for the gizmo warranty", "zorblax-treaty" },
        { "Gizmo warranty: who pays?", "zorblax-treaty" },
        { "is there a refund for the flurb", "zorblax-treaty" },
        { "the warranty of a flurb?", NULL }, /* one word of each example */
    };
    ask_both_ways(f, rows, sizeof rows / sizeof rows[0]);
    assert_int_equal(kb_undo(f->kb, change, 0, &who, NULL), 0);
    assert_string_equal(answer(f, "who pays for the gizmo warranty"), "(declined)");
}

/* A question that is an example question of an entry word for word (case, punctuation, markup
 * and word endings aside) is answered by that entry, even when its words count for little ("why
 * now?"): what a moderator teaches is answered. In memory, whatever its words; through FTS5, when
 * the entry is among those retrieved. A wording that is an example of two entries is matched as
 * any question. */
static void a_taught_wording_is_answered_word_for_word(void **state)
{
    struct fixture *f = *state;
    struct kb_actor who = { "tester", "test" };
    int64_t second, change = put_zorblax(f, "[\"why now?\",\"what\u2019s the US in it for\"]");
    static const struct question_row rows[] = {
        { "why now?", "zorblax-treaty" },
        { "Why NOW!!", "zorblax-treaty" },
        { "@planbot why now \xF0\x9F\xA4\x94", "zorblax-treaty" },
        { "why not now?", NULL },
        { "now why", NULL },
        { "why", NULL },
    };
    ask_both_ways(f, rows, sizeof rows / sizeof rows[0]);
    /* no word counts here, so FTS5 retrieves nothing to look among: only in memory */
    assert_string_equal(answer(f, "what's the us in it for"), "zorblax-treaty");
    /* the same wording taught to a second entry: neither answers it for it */
    cJSON *e2 = cJSON_Parse("{\"id\":\"gizmo-memo\",\"kind\":\"context\",\"title\":\"The gizmo "
                            "memo\",\"text\":\"The gizmo memo is a test entry.\",\"source\":"
                            "\"memo\",\"examples\":[\"Why now\"]}");
    assert_int_equal(kb_put(f->kb, KB_ENTRY, e2, KB_PUT_ADD, &who, &second), 0);
    for (int resident = 1; resident >= 0; resident--) {
        match_set_resident_max(f->m, resident ? 4096 : 0);
        assert_string_equal(answer(f, "why now?"), "(declined)");
    }
    match_set_resident_max(f->m, 4096);
    struct buf ex;
    buf_init(&ex, 1 << 20);
    struct match_result r;
    assert_int_equal(match_ask(f->m, "why now", 7, 3, &r, &ex), 0);
    assert_non_null(strstr(buf_str(&ex), "an example question of several entries"));
    assert_int_equal(kb_undo(f->kb, second, 0, &who, NULL), 0);
    buf_reset(&ex);
    assert_int_equal(match_ask(f->m, "why now", 7, 3, &r, &ex), 0);
    assert_non_null(strstr(buf_str(&ex), "answer: zorblax-treaty, one of whose example questions "
                                         "is this one, word for word"));
    buf_free(&ex);
    assert_int_equal(kb_undo(f->kb, change, 0, &who, NULL), 0);
    assert_string_equal(answer(f, "why now?"), "(declined)");
    cJSON_Delete(e2);
}

/* Questions that ask for a time or a number are answered only by an entry that states one (one
 * that asks when something happened, by a point in time); the entry on their topic that states
 * none is offered instead, and the question counts as declined. */
static void a_question_for_a_time_or_number_needs_an_entry_that_states_it(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *question;
        enum match_asks asks;
        const char *answer, *instead; /* one of them */
    } rows[] = {
        { "when did russia annex crimea?", MATCH_ASKS_WHEN, NULL,
          "crimea-donbas-de-facto-russian" },
        { "when will russia return to the G8", MATCH_ASKS_WHEN, NULL, "russia-return-g8" },
        { "when must ukraine hold elections", MATCH_ASKS_WHEN, "elections-100-days", NULL },
        { "when did driscoll meet zelensky?", MATCH_ASKS_WHEN, "driscoll-delivered-plan", NULL },
        /* when something happened: a point in time, not a span ("within 100 days") */
        { "when was zelensky elected", MATCH_ASKS_WHEN, NULL, "elections-100-days" },
        { "when was the draft obtained", MATCH_ASKS_WHEN, "plan-overview", NULL },
        /* how long something lasted, when it will happen, or the next one: a span (a duration, a
         * deadline), not a past point */
        { "how long has dan driscoll been army secretary", MATCH_ASKS_WHEN, NULL,
          "driscoll-delivered-plan" },
        { "when is the next trump putin meeting", MATCH_ASKS_WHEN, NULL, "quote-peskov-anchorage" },
        /* what day, the exact date: a day (a weekday, a day of a month), not only a month */
        { "what exact date did trump and putin meet in alaska", MATCH_ASKS_WHEN, NULL,
          "quote-peskov-anchorage" },
        { "which day did cnn get hold of the draft", MATCH_ASKS_WHEN, "plan-overview", NULL },
        /* "how wide", "how deep", "how close": a measure, a number */
        { "how wide is the buffer zone in donetsk", MATCH_ASKS_COUNT, NULL,
          "donetsk-withdrawal-buffer-zone" },
        /* a person's past: no entry says what anyone did or was before, or when they became
         * it; "since before he took office" asks nothing of the kind */
        { "what did driscoll do before he became army secretary", MATCH_ASKS_PAST, NULL,
          "driscoll-delivered-plan" },
        { "what did witkoff do before he was special envoy", MATCH_ASKS_PAST, NULL,
          "witkoff-leads-plan" },
        { "when did rubio become secretary of state", MATCH_ASKS_WHEN, NULL,
          "quote-rubio-potential-ideas" },
        { "did leavitt say trump wanted this war over since before he was president, on the "
          "campaign",
          MATCH_ASKS_TOPIC, "quote-leavitt-frustrated", NULL },
        /* "when" that joins a clause asks no time; at the start it does */
        { "did european foreign ministries get guidance from washington when they called",
          MATCH_ASKS_TOPIC, "europe-ministries-in-dark", NULL },
        { "so when is the election", MATCH_ASKS_WHEN, "elections-100-days", NULL },
        { "when will zelensky speak with trump", MATCH_ASKS_WHEN, "quote-ukraine-office-just-end",
          NULL },
        { "when was the anchorage summit", MATCH_ASKS_WHEN, "quote-peskov-anchorage", NULL },
        { "how long was witkoff working on this", MATCH_ASKS_WHEN, "witkoff-leads-plan", NULL },
        { "what year did the istanbul talks happen", MATCH_ASKS_WHEN, "istanbul-2022-precedent",
          NULL },
        /* ... and at the start of a sentence of its own, after others */
        { "I'm writing a backgrounder on the kids issue. When did the ICC issue its warrant for "
          "Putin?",
          MATCH_ASKS_WHEN, NULL, "icc-putin-warrant" },
        { "why are us officials pushing this now, when kyiv has rejected land concessions before?",
          MATCH_ASKS_TOPIC, "new-window-of-opportunity", NULL },
        /* "what timeline did they agree on" asks for the timeline, not a point in the past */
        { "what timeline did driscoll and zelensky agree on for signing", MATCH_ASKS_WHEN,
          "quote-defense-official-timeline", NULL },
        /* when someone said it: the quote's own time, wherever it is in the entry */
        { "when did leavitt say the plan was in flux", MATCH_ASKS_WHEN, "quote-leavitt-in-flux",
          NULL },
        /* "when" that opens a clause before the question asks no time */
        { "when the draft leaked, did the kremlin deny working on it", MATCH_ASKS_TOPIC,
          "kremlin-denial", NULL },
        { "how many fighter jets go to poland", MATCH_ASKS_COUNT, NULL, "european-jets-poland" },
        /* a year is no count */
        { "how many talks were held in istanbul", MATCH_ASKS_COUNT, NULL,
          "istanbul-2022-precedent" },
        { "how many troops can ukraine keep", MATCH_ASKS_COUNT, "army-cap", NULL },
        /* a number the asker compares with is no word of the topic, and asks for a number */
        { "would the army cap be over 500k troops", MATCH_ASKS_COUNT, "army-cap", NULL },
        { "is ukraine's military limit smaller than a million?", MATCH_ASKS_COUNT, "army-cap",
          NULL },
        { "are more than 50 jets going to poland", MATCH_ASKS_COUNT, NULL, "european-jets-poland" },
        { "how big can ukraine's army be", MATCH_ASKS_COUNT, "army-cap", NULL },
        { "how big a shift in US policy would recognising Crimea be", MATCH_ASKS_TOPIC,
          "us-policy-reversal-crimea", NULL },
        { "how big of a shift in us policy is recognising crimea", MATCH_ASKS_TOPIC,
          "us-policy-reversal-crimea", NULL },
        /* how things stand now: only an entry that says so ("still", "currently") answers; a
         * quote answers as it stands; "still" after a modal or "has to" says "even so" */
        { "how many troops does ukraine have right now", MATCH_ASKS_NOW, NULL, "army-cap" },
        { "is the gaza ceasefire still holding?", MATCH_ASKS_NOW, NULL,
          "gaza-ceasefire-comparison" },
        { "who runs the iaea these days", MATCH_ASKS_NOW, NULL, "zaporizhzhia-nuclear-plant" },
        { "are us officials still working on the plan?", MATCH_ASKS_NOW, "plan-status-evolving",
          NULL },
        { "does ukraine still hold part of the donbas", MATCH_ASKS_NOW, "donbas-partially-held",
          NULL },
        { "are the ukrainian teams still talking at a technical level?", MATCH_ASKS_NOW,
          "quote-umerov-technical-level", NULL },
        { "how many soldiers does ukraine have today", MATCH_ASKS_NOW, NULL, "army-cap" },
        { "how many soldiers does ukraine have rn", MATCH_ASKS_NOW, NULL, "army-cap" },
        { "has zelensky signed the framework yet", MATCH_ASKS_NOW, NULL,
          "framework-not-final-deal" },
        { "are the 28 points finalized yet", MATCH_ASKS_NOW, "plan-framework-stage", NULL },
        { "would ukraine still get security guarantees", MATCH_ASKS_TOPIC,
          "security-guarantees-compensation", NULL },
        { "ukraine has to pull out of the parts of donetsk it still holds?", MATCH_ASKS_TOPIC,
          "donetsk-withdrawal-buffer-zone", NULL },
        /* what someone said, when no quote is theirs: no one else's quote, and what the
         * knowledge base holds on them offered instead */
        { "what did trump say about it", MATCH_ASKS_SAID, NULL, "trump-reviewed-supports" },
        { "what did witkoff tell reporters about the plan", MATCH_ASKS_SAID, NULL,
          "witkoff-leads-plan" },
        /* ... nor, when they have quotes, an entry that is none and names them nowhere; one
         * that reports their words answers */
        { "what did sikorski say about the fighter jets going to poland", MATCH_ASKS_SAID, NULL,
          "european-jets-poland" },
        { "did stefanishyna comment on the 600,000 troop limit", MATCH_ASKS_SAID, NULL,
          "army-cap" },
        { "what did us officials say about the plan being worked on", MATCH_ASKS_TOPIC,
          "plan-status-evolving", NULL },
        /* what the one named said about something their quotes do not hold */
        { "what did kallas say about the war", MATCH_ASKS_TOPIC, NULL, "quote-kallas-on-board" },
        { "what did Putin say about the plan?", MATCH_ASKS_SAID, NULL, "icc-putin-warrant" },
        { "what did putin say", MATCH_ASKS_SAID, NULL, "icc-putin-warrant" },
        { "what does the draft say about kherson", MATCH_ASKS_TOPIC, "kherson-zaporizhzhia-frozen",
          NULL },
        { "what did the kremlin say", MATCH_ASKS_TOPIC, "quote-peskov-not-informed", NULL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct match_result r;
        const char *got = ask(f, rows[i].question, &r);
        const char *instead = r.has_instead ? r.instead.id : NULL;
        if (r.asks != rows[i].asks || !got != !rows[i].answer ||
            (got && strcmp(got, rows[i].answer) != 0) || !instead != !rows[i].instead ||
            (instead && strcmp(instead, rows[i].instead) != 0))
            fail_msg("%s: want asks %d, answer %s, instead %s; got %d, %s, %s", rows[i].question,
                     rows[i].asks, rows[i].answer ? rows[i].answer : "-",
                     rows[i].instead ? rows[i].instead : "-", r.asks, got ? got : "-",
                     instead ? instead : "-");
    }
}

/* "Who wrote this?", "when did the story come out?": a question about the source itself, naming
 * nothing else the knowledge base holds but what the document is about ("the piece about the
 * plan"), is answered with the record of the source the entries cite; one that names a topic is
 * not ("who wrote the plan" is about the plan). */
static void a_question_about_the_source_is_answered_from_its_record(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *question;
        int source;
    } rows[] = {
        { "who wrote this article", 1 },
        { "who are the authors?", 1 },
        { "did natasha bertrand write this?", 1 },
        { "when was this published", 1 },
        { "which outlet published it", 1 },
        { "who contributed to the report", 1 },
        { "who reported this story", 1 },
        { "who wrote the plan", 0 },
        { "who wrote the cnn article on the plan", 1 },
        { "which news org published this", 1 },
        { "who else contributed reporting", 1 },
        { "what's the reporting on kherson", 0 },
        { "who wrote the post on X", 0 },
        { "who wrote the zorblax memo", 0 },
        { "who wrote the CNN piece about the 28-point plan?", 1 },
        { "what date did cnn publish the 28 point article", 1 },
        { "when did this CNN story on the peace plan come out?", 1 },
        { "did any other CNN reporters help out with that article?", 1 },
        { "Am I right that Nick Paton Walsh contributed, or was it a different outlet?", 1 },
        { "when did the plan come out", 0 },
        { "who pulled out of the story's talks", 0 },
        { "when did the story about Kherson come out and what does it say about the front", 0 },
        { "which outlet ran this article", 1 },
        { "what date did this article run", 1 },
        { "who are the reporters behind this CNN piece", 1 },
        { "which state outlet ran that report about peskov", 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct match_result r;
        ask(f, rows[i].question, &r);
        int source = r.n == 1 && r.answers[0].source;
        if (source != rows[i].source)
            fail_msg("%s: want %s, got %s", rows[i].question,
                     rows[i].source ? "the source" : "no source",
                     source ? "the source"
                     : r.n  ? r.answers[0].id
                            : "(declined)");
        if (source)
            assert_string_equal(r.answers[0].id, "cnn-2025-11-20");
    }
}

/* "What did X say about Y?": never someone else's words. The answer is X's quote, an entry that
 * is not a quote, or none; X is the speaker named first, by any of their names. */
static void a_quote_is_never_given_for_someone_else(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *question, *speaker;
    } rows[] = {
        { "what did peskov say about zelensky", "Dmitry Peskov" },
        { "what did zelensky say about the kremlin", "Volodymyr Zelensky" },
        { "what did leavitt say about rubio", "Karoline Leavitt" },
        { "what did rubio say about leavitt", "Marco Rubio" },
        { "what did the WH press secretary say about the kremlin", "Karoline Leavitt" },
        { "what did sikorski think of kallas", "Radoslaw Sikorski" },
        { "what was kallas's view of sikorski", "Kaja Kallas" },
        { "what did zelenskyy say about the pentagon", "Volodymyr Zelensky" },
        /* the one the verb of saying names, not the one named first */
        { "is zelensky expected to speak to trump soon? what did his office say",
          "Ukrainian presidential office" },
        { "zelensky and trump: what did peskov say", "Dmitry Peskov" },
        /* "who said ...": the words of whoever said it, though the US names the ambassador's role
         * and "national security" Umerov's */
        { "who said europe has a much bigger stake than the us", "Radoslaw Sikorski" },
        { "who said the national security team is steadfast", "Karoline Leavitt" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct match_result r;
        const char *got = ask(f, rows[i].question, &r);
        for (int k = 0; got && k < r.n; k++) {
            cJSON *e = NULL;
            assert_int_equal(kb_get(f->kb, KB_ENTRY, r.answers[k].id, &e), 0);
            const char *kind = cJSON_GetObjectItem(e, "kind")->valuestring;
            const char *speaker = cJSON_GetObjectItem(e, "speaker")->valuestring;
            if (k == 0 && strcmp(kind, "quote") == 0 && strcmp(speaker, rows[i].speaker) != 0)
                fail_msg("%s: answered with %s's words (%s)", rows[i].question, speaker,
                         r.answers[k].id);
            cJSON_Delete(e);
        }
    }
}

/* A question about one party's thing ("Russia's army") is not answered with another's ("the
 * Ukrainian armed forces"): that is offered instead, with the party asked about. The parties are
 * data: a party added or removed applies to the next question. */
static void a_question_about_one_party_is_not_answered_with_another(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *question;
        enum match_asks asks;
        const char *answer, *instead, *party;
    } rows[] = {
        { "how big is russia's army", MATCH_ASKS_PARTY, NULL, "army-cap", "Russia" },
        { "does the plan cap the army of Russia?", MATCH_ASKS_PARTY, NULL, "army-cap", "Russia" },
        { "do Russian forces have to withdraw from donetsk", MATCH_ASKS_PARTY, NULL,
          "donetsk-withdrawal-buffer-zone", "Russia" },
        { "who is ukraine's defence minister", MATCH_ASKS_PARTY, NULL,
          "quote-sikorski-involve-europe", "Ukraine" },
        /* the subject after an auxiliary verb owns what is asked about */
        { "how many troops does russia have", MATCH_ASKS_PARTY, NULL, "army-cap", "Russia" },
        { "how many soldiers may ukraine keep", MATCH_ASKS_COUNT, "army-cap", NULL, NULL },
        /* the party the entry names, by another of its words, or no party at all */
        { "how big can kyiv's army be", MATCH_ASKS_COUNT, "army-cap", NULL, NULL },
        { "can russian forces enter the buffer zone", MATCH_ASKS_TOPIC, "dmz-no-russian-forces",
          NULL, NULL },
        { "do ukrainian forces have to leave donetsk", MATCH_ASKS_TOPIC,
          "donetsk-withdrawal-buffer-zone", NULL, NULL },
        /* two parties before a word: about both, no one's */
        { "what does the us-russia working group do", MATCH_ASKS_TOPIC, "us-russia-working-group",
          NULL, NULL },
        { "what does the trump ukraine plan say about elections", MATCH_ASKS_TOPIC,
          "elections-100-days", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct match_result r;
        const char *got = ask(f, rows[i].question, &r);
        const char *instead = r.has_instead ? r.instead.id : NULL;
        const char *party = r.asks == MATCH_ASKS_PARTY ? r.party : NULL;
        if (r.asks != rows[i].asks || !got != !rows[i].answer ||
            (got && strcmp(got, rows[i].answer) != 0) || !instead != !rows[i].instead ||
            (instead && strcmp(instead, rows[i].instead) != 0) || !party != !rows[i].party ||
            (party && strcmp(party, rows[i].party) != 0))
            fail_msg("%s: want asks %d, answer %s, instead %s, party %s; got %d, %s, %s, %s",
                     rows[i].question, rows[i].asks, rows[i].answer ? rows[i].answer : "-",
                     rows[i].instead ? rows[i].instead : "-", rows[i].party ? rows[i].party : "-",
                     r.asks, got ? got : "-", instead ? instead : "-", party ? party : "-");
    }
    /* without the party, "Russia's army" is an army again; with it back, it is not */
    struct kb_actor who = { "tester", "test" };
    int64_t change;
    assert_int_equal(kb_remove(f->kb, KB_PARTY, "Russia", &who, &change), 0);
    assert_string_equal(answer(f, "how big is russia's army"), "army-cap");
    assert_int_equal(kb_undo(f->kb, change, 0, &who, NULL), 0);
    assert_string_equal(answer(f, "how big is russia's army"), "(declined)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matcher_follows_behaviour_table),
        cmocka_unit_test(matcher_meets_quality_floors_on_question_set),
        cmocka_unit_test(resident_and_fts5_retrieval_answer_alike),
        cmocka_unit_test(hostile_questions_are_only_words),
        cmocka_unit_test(long_question_is_refused_and_nul_is_refused),
        cmocka_unit_test(invalid_utf8_and_control_bytes_are_harmless),
        cmocka_unit_test(limit_bounds_related_answers),
        cmocka_unit_test(decline_suggests_closest_topics),
        cmocka_unit_test(explain_describes_the_decision),
        cmocka_unit_test(answers_follow_changes_to_the_knowledge_base),
        cmocka_unit_test(example_questions_answer_wordings_the_text_lacks),
        cmocka_unit_test(a_taught_wording_is_answered_word_for_word),
        cmocka_unit_test(a_question_for_a_time_or_number_needs_an_entry_that_states_it),
        cmocka_unit_test(a_question_about_the_source_is_answered_from_its_record),
        cmocka_unit_test(a_quote_is_never_given_for_someone_else),
        cmocka_unit_test(a_question_about_one_party_is_not_answered_with_another),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
