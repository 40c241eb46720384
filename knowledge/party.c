/* party.c - which party owns a word of a text (see party.h). */
#include "party.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { PARTY_MAX_WORDS = 6, PARTY_SET_MAX = 4096 };

struct party_word {
    uint64_t h[PARTY_MAX_WORDS];
    int n;
    int party;
};

struct party_set {
    struct party_glue glue;
    struct party_word *words;
    int n, cap;
};

int party_set_new(struct party_set **out, const struct party_glue *glue)
{
    struct party_set *ps = calloc(1, sizeof *ps);
    if (!ps)
        return ERR_NOMEM;
    ps->glue = *glue;
    *out = ps;
    return 0;
}

void party_set_free(struct party_set *ps)
{
    if (!ps)
        return;
    free(ps->words);
    free(ps);
}

int party_set_add(struct party_set *ps, int party, const uint64_t *words, int n)
{
    if (n < 1 || n > PARTY_MAX_WORDS || party < 0)
        return ERR_INVAL;
    if (ps->n == ps->cap) {
        if (ps->cap >= PARTY_SET_MAX)
            return ERR_FULL;
        int cap = ps->cap ? 2 * ps->cap : 32;
        struct party_word *w = realloc(ps->words, (size_t)cap * sizeof *w);
        if (!w)
            return ERR_NOMEM;
        ps->words = w;
        ps->cap = cap;
    }
    struct party_word *w = &ps->words[ps->n++];
    memcpy(w->h, words, (size_t)n * sizeof *words);
    w->n = n;
    w->party = party;
    return 0;
}

int party_set_words(const struct party_set *ps)
{
    return ps ? ps->n : 0;
}

int party_at(const struct party_set *ps, const uint64_t *h, int n, int at, int *len)
{
    int best = -1, blen = 0;
    for (int i = 0; ps && at >= 0 && i < ps->n; i++) {
        const struct party_word *w = &ps->words[i];
        if (w->n > blen && at + w->n <= n && memcmp(h + at, w->h, (size_t)w->n * sizeof *h) == 0)
            best = w->party, blen = w->n;
    }
    if (len)
        *len = blen;
    return best;
}

/* The party whose word ends at h[end], -1 when none; *len gets the word's length. */
static int party_ending(const struct party_set *ps, const uint64_t *h, int end, int *len)
{
    int best = -1, blen = 0;
    for (int i = 0; end >= 0 && i < ps->n; i++) {
        const struct party_word *w = &ps->words[i];
        if (w->n > blen && w->n <= end + 1 &&
            memcmp(h + end - w->n + 1, w->h, (size_t)w->n * sizeof *h) == 0)
            best = w->party, blen = w->n;
    }
    *len = blen;
    return best;
}

static int is_aux(const struct party_set *ps, uint64_t h)
{
    for (int i = 0; i < ps->glue.naux && i < PARTY_AUX_MAX; i++)
        if (ps->glue.aux[i] == h)
            return 1;
    return 0;
}

int party_owner(const struct party_set *ps, const uint64_t *h, int n, int first, int last)
{
    if (!ps || !ps->n || first < 0 || last >= n || first > last)
        return -1;
    int len, p, at = first - 1;
    if (party_at(ps, h, n, first, &len) >= 0 && len >= last - first + 1)
        return -1;                               /* "Russia" itself, or "Russian" */
    if (at >= 1 && h[at] == ps->glue.possessive) /* "Russia's army" */
        return party_ending(ps, h, at - 1, &len);
    if ((p = party_ending(ps, h, at, &len)) >= 0) {
        /* "the Ukrainian armed forces", "Russian forces"; but "the Trump Ukraine plan" and "the
         * US-Russia working group" are no one party's */
        int q = party_ending(ps, h, at - len, &len);
        return q >= 0 && q != p ? -1 : p;
    }
    if (at >= 2 && h[at - 1] == ps->glue.possessive) /* "Poland's foreign minister" */
        return party_ending(ps, h, at - 2, &len);
    /* after: "the army of Russia" */
    at = last + 1;
    if (at < n && h[at] == ps->glue.of) {
        at++;
        if (at < n && h[at] == ps->glue.article)
            at++;
        return party_at(ps, h, n, at, NULL);
    }
    /* the subject after an auxiliary, with a verb after it: "troops does Russia have" */
    if (at < n && is_aux(ps, h[at])) {
        at++;
        if (at < n && h[at] == ps->glue.article)
            at++;
        p = party_at(ps, h, n, at, &len);
        return p >= 0 && at + len < n ? p : -1;
    }
    return -1;
}
