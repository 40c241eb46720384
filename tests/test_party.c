/* test_party.c - which party owns a word of a text: a table of texts, the words asked about, and
 * the party that owns them (or none), over a set of three parties. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"
#include "party.h"

enum { MAX_WORDS = 32 };

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The words of text (split at spaces) as hashes; returns how many. */
static int words(const char *text, uint64_t *h)
{
    int n = 0;
    while (*text && n < MAX_WORDS) {
        size_t len = strcspn(text, " ");
        h[n++] = hash(text, len);
        text += len;
        text += strspn(text, " ");
    }
    return n;
}

static const char *const party_names[] = { "Russia", "Ukraine", "United States" };
static const char *const party_words[][6] = {
    { "russia", "russian", "moscow", "kremlin", NULL },
    { "ukraine", "ukrainian", "kyiv", NULL },
    { "us", "united states", "white house", "trump", NULL },
};

static int setup(void **state)
{
    const struct party_glue glue = {
        hash("s", 1), hash("the", 3), hash("of", 2), { hash("does", 4), hash("can", 3) }, 2
    };
    struct party_set *ps;
    assert_int_equal(party_set_new(&ps, &glue), 0);
    for (int p = 0; p < 3; p++)
        for (int i = 0; party_words[p][i]; i++) {
            uint64_t h[MAX_WORDS];
            assert_int_equal(party_set_add(ps, p, h, words(party_words[p][i], h)), 0);
        }
    *state = ps;
    return 0;
}

static int teardown(void **state)
{
    party_set_free(*state);
    return 0;
}

struct owner_case {
    const char *text; /* words split at spaces, the possessive "s" a word of its own */
    int first, last;  /* the words asked about */
    const char *want; /* the party's name, NULL for none */
};

static const struct owner_case owner_cases[] = {
    /* a possessive, an adjective, a name before the word */
    { "how big is russia s army", 5, 5, "Russia" },
    { "the ukrainian armed forces", 2, 3, "Ukraine" },
    { "russian forces will not enter", 1, 1, "Russia" },
    { "the white house s plan", 4, 4, "United States" },
    /* one or two words between, after a possessive only */
    { "ukraine s defence minister", 3, 3, "Ukraine" },
    { "when is russia s next presidential election", 6, 6, "Russia" },
    { "russia s long range missile", 4, 4, "Russia" },
    { "russia s very long range missile", 5, 5, NULL },
    { "european fighter jets", 2, 2, NULL },
    { "does russia get jets", 3, 3, NULL },
    /* the subject after an auxiliary, a verb after it */
    { "how many troops does russia have", 2, 2, "Russia" },
    { "what army can the ukrainian side keep", 1, 1, "Ukraine" },
    { "how many troops does russia", 2, 2, NULL },
    { "troops does the plan allow", 0, 0, NULL },
    { "troops and russia have", 0, 0, NULL },
    /* "of" after the word */
    { "the army of russia", 1, 1, "Russia" },
    { "the army of the kremlin", 1, 1, "Russia" },
    { "the army and russia", 1, 1, NULL },
    /* two parties before the word: about both, no one's */
    { "the trump ukraine plan", 3, 3, NULL },
    { "a joint us russia working group", 4, 5, NULL },
    { "russia russian forces", 2, 2, "Russia" },
    /* the article is not between an owner and what it owns */
    { "who handed kyiv the plan", 4, 4, NULL },
    /* a party's own name is owned by no one */
    { "the russian side", 1, 1, NULL },
    { "the united states", 1, 2, NULL },
    /* nothing before, at the start, or out of range */
    { "army", 0, 0, NULL },
    { "s army", 1, 1, NULL },
    { "russia army", 1, 0, NULL },
    { "russia army", 1, 5, NULL },
};

static void owners_are_found_as_the_table_says(void **state)
{
    const struct party_set *ps = *state;
    for (size_t i = 0; i < sizeof owner_cases / sizeof owner_cases[0]; i++) {
        const struct owner_case *c = &owner_cases[i];
        uint64_t h[MAX_WORDS];
        int n = words(c->text, h);
        int got = party_owner(ps, h, n, c->first, c->last);
        const char *name = got >= 0 ? party_names[got] : NULL;
        if (!name != !c->want || (name && strcmp(name, c->want) != 0))
            fail_msg("\"%s\" words %d-%d: want %s, got %s", c->text, c->first, c->last,
                     c->want ? c->want : "none", name ? name : "none");
    }
}

static void the_longest_name_wins(void **state)
{
    const struct party_set *ps = *state;
    uint64_t h[MAX_WORDS];
    int n = words("the united states army", h), len = 0;
    assert_int_equal(party_at(ps, h, n, 1, &len), 2);
    assert_int_equal(len, 2);
    assert_int_equal(party_at(ps, h, n, 0, &len), -1);
    assert_int_equal(len, 0);
    assert_int_equal(party_set_words(ps), 11);
}

static void bad_words_are_refused(void **state)
{
    struct party_set *ps = *state;
    uint64_t h[8] = { 0 };
    assert_int_equal(party_set_add(ps, 0, h, 0), ERR_INVAL);
    assert_int_equal(party_set_add(ps, 0, h, 7), ERR_INVAL);
    assert_int_equal(party_set_add(ps, -1, h, 1), ERR_INVAL);
    assert_int_equal(party_owner(NULL, h, 1, 0, 0), -1);
    assert_int_equal(party_set_words(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(owners_are_found_as_the_table_says, setup, teardown),
        cmocka_unit_test_setup_teardown(the_longest_name_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_words_are_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
