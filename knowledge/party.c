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
    int *by_first; /* the words' indexes ordered by their first hash, then as added */
    int *by_last;  /* and by their last hash: lookups search these instead of every word */
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
    free(ps->by_first);
    free(ps->by_last);
    free(ps);
}

static uint64_t first_hash(const struct party_set *ps, int i)
{
    return ps->words[i].h[0];
}

static uint64_t last_hash(const struct party_set *ps, int i)
{
    return ps->words[i].h[ps->words[i].n - 1];
}

/* The first place in order (the ps->n word indexes sorted by key()) whose key is over h, or at
 * least h when equal_too. */
static int bound(const struct party_set *ps, const int *order, int n,
                 uint64_t (*key)(const struct party_set *, int), uint64_t h, int equal_too)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        uint64_t k = key(ps, order[mid]);
        if (k < h || (!equal_too && k == h))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts word i into order after the words of the same key: equal keys stay in the order added. */
static void insert_ordered(const struct party_set *ps, int *order, int i,
                           uint64_t (*key)(const struct party_set *, int))
{
    int at = bound(ps, order, i, key, key(ps, i), 0);
    memmove(order + at + 1, order + at, (size_t)(i - at) * sizeof *order);
    order[at] = i;
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
        int *f = realloc(ps->by_first, (size_t)cap * sizeof *f);
        if (!f)
            return ERR_NOMEM;
        ps->by_first = f;
        int *l = realloc(ps->by_last, (size_t)cap * sizeof *l);
        if (!l)
            return ERR_NOMEM;
        ps->by_last = l;
        ps->cap = cap;
    }
    struct party_word *w = &ps->words[ps->n];
    memcpy(w->h, words, (size_t)n * sizeof *words);
    w->n = n;
    w->party = party;
    insert_ordered(ps, ps->by_first, ps->n, first_hash);
    insert_ordered(ps, ps->by_last, ps->n, last_hash);
    ps->n++;
    return 0;
}

int party_set_words(const struct party_set *ps)
{
    return ps ? ps->n : 0;
}

int party_at(const struct party_set *ps, const uint64_t *h, int n, int at, int *len)
{
    int best = -1, blen = 0;
    if (ps && at >= 0 && at < n)
        for (int k = bound(ps, ps->by_first, ps->n, first_hash, h[at], 1);
             k < ps->n && first_hash(ps, ps->by_first[k]) == h[at]; k++) {
            const struct party_word *w = &ps->words[ps->by_first[k]];
            if (w->n > blen && at + w->n <= n &&
                memcmp(h + at, w->h, (size_t)w->n * sizeof *h) == 0)
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
    if (end >= 0)
        for (int k = bound(ps, ps->by_last, ps->n, last_hash, h[end], 1);
             k < ps->n && last_hash(ps, ps->by_last[k]) == h[end]; k++) {
            const struct party_word *w = &ps->words[ps->by_last[k]];
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
    if (at >= 3 && h[at - 2] == ps->glue.possessive) /* "Russia's next presidential election" */
        return party_ending(ps, h, at - 3, &len);
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
