/* vocab.c - vocabulary tables and the symmetric-delete typo index. */
#include "vocab.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { MAX_WORD = 48, MIN_LONG = 8 /* words this long may have two typos */ };

struct word {
    char *text;  /* owned */
    uint32_t df; /* entries containing it */
};

/* A typo-index key: the top 32 bits of the hash of the word or of one of its one- or two-byte
 * deletions, then the word's index. Packed in 64 bits, sorted in place: the index of a large
 * knowledge base holds millions of them. A shared 32-bit hash is only a candidate: every
 * candidate is checked by computing its edit distance. */
typedef uint64_t tkey;

struct stem {
    uint64_t hash;
    uint32_t df;
};

struct vocab {
    struct word *words;
    size_t nwords, capwords;
    tkey *keys; /* built by the first vocab_correct() */
    size_t nkeys;
    struct stem *stems;
    size_t nstems, capstems;
};

#define NONE SIZE_MAX

/* FNV-1a of s[0..n) without the bytes at skip1 and skip2 (NONE: keep every byte). */
static uint64_t hash_bytes(const char *s, size_t n, size_t skip1, size_t skip2)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        if (i == skip1 || i == skip2)
            continue;
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

struct vocab *vocab_new(void)
{
    return calloc(1, sizeof(struct vocab));
}

void vocab_free(struct vocab *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nwords; i++)
        free(v->words[i].text);
    free(v->words);
    free(v->keys);
    free(v->stems);
    free(v);
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, c * size);
    if (!q)
        return ERR_NOMEM;
    *p = q;
    *cap = c;
    return 0;
}

int vocab_add_word(struct vocab *v, const char *word, uint32_t df)
{
    size_t n = strlen(word);
    if (n == 0 || n > MAX_WORD)
        return 0;
    if (grow((void **)&v->words, &v->capwords, v->nwords, sizeof *v->words))
        return ERR_NOMEM;
    char *copy = malloc(n + 1);
    if (!copy)
        return ERR_NOMEM;
    memcpy(copy, word, n + 1);
    v->words[v->nwords].text = copy;
    v->words[v->nwords].df = df;
    v->nwords++;
    return 0;
}

int vocab_add_stem(struct vocab *v, const char *stem, uint32_t df)
{
    if (grow((void **)&v->stems, &v->capstems, v->nstems, sizeof *v->stems))
        return ERR_NOMEM;
    v->stems[v->nstems].hash = hash_bytes(stem, strlen(stem), NONE, NONE);
    v->stems[v->nstems].df = df;
    v->nstems++;
    return 0;
}

static int cmp_word(const void *a, const void *b)
{
    return strcmp(((const struct word *)a)->text, ((const struct word *)b)->text);
}

/* Sorts keys in place: quicksort on the smaller side, insertion sort for short runs. */
static void sort_keys(tkey *a, size_t n)
{
    while (n > 16) {
        tkey x = a[0], y = a[n / 2], z = a[n - 1];
        tkey pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        size_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            tkey t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        size_t left = j + 1;
        if (left < n - left) {
            sort_keys(a, left);
            a += left;
            n -= left;
        } else {
            sort_keys(a + left, n - left);
            n = left;
        }
    }
    for (size_t i = 1; i < n; i++) {
        tkey t = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > t; j--)
            a[j] = a[j - 1];
        a[j] = t;
    }
}

static int cmp_stem(const void *a, const void *b)
{
    uint64_t x = ((const struct stem *)a)->hash, y = ((const struct stem *)b)->hash;
    return x < y ? -1 : x > y;
}

int vocab_finish(struct vocab *v)
{
    /* Merge duplicate words and stems, adding their counts. (qsort() of no array is undefined.) */
    if (v->nwords)
        qsort(v->words, v->nwords, sizeof *v->words, cmp_word);
    size_t w = 0;
    for (size_t i = 0; i < v->nwords; i++) {
        if (w && strcmp(v->words[w - 1].text, v->words[i].text) == 0) {
            v->words[w - 1].df += v->words[i].df;
            free(v->words[i].text);
        } else {
            v->words[w++] = v->words[i];
        }
    }
    v->nwords = w;
    if (v->nstems)
        qsort(v->stems, v->nstems, sizeof *v->stems, cmp_stem);
    size_t s = 0;
    for (size_t i = 0; i < v->nstems; i++) {
        if (s && v->stems[s - 1].hash == v->stems[i].hash)
            v->stems[s - 1].df += v->stems[i].df;
        else
            v->stems[s++] = v->stems[i];
    }
    v->nstems = s;

    return 0;
}

#define KEY(h, w) ((tkey)((h) >> 32) << 32 | (uint32_t)(w))

/* Files each word under itself and its one-byte deletions; words that can be within two edits of
 * a long word (MIN_LONG - 2 bytes or more) also under their two-byte deletions, so that two words
 * within two edits always share a key. */
static int build_keys(struct vocab *v)
{
    size_t nkeys = 0;
    for (size_t i = 0; i < v->nwords; i++) {
        size_t n = strlen(v->words[i].text);
        nkeys += 1 + n + (n >= MIN_LONG - 2 ? n * (n - 1) / 2 : 0);
    }
    v->keys = malloc((nkeys ? nkeys : 1) * sizeof *v->keys);
    if (!v->keys)
        return ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < v->nwords; i++) {
        const char *t = v->words[i].text;
        size_t n = strlen(t);
        v->keys[k++] = KEY(hash_bytes(t, n, NONE, NONE), i);
        for (size_t d = 0; d < n; d++) {
            v->keys[k++] = KEY(hash_bytes(t, n, d, NONE), i);
            for (size_t e = d + 1; n >= MIN_LONG - 2 && e < n; e++)
                v->keys[k++] = KEY(hash_bytes(t, n, d, e), i);
        }
    }
    v->nkeys = k;
    sort_keys(v->keys, v->nkeys);
    return 0;
}

uint32_t vocab_word_df(const struct vocab *v, const char *word)
{
    struct word probe = { (char *)word, 0 };
    const struct word *hit =
        v->nwords ? bsearch(&probe, v->words, v->nwords, sizeof *v->words, cmp_word) : NULL;
    return hit ? hit->df : 0;
}

uint32_t vocab_stem_df(const struct vocab *v, const char *stem)
{
    struct stem probe = { hash_bytes(stem, strlen(stem), NONE, NONE), 0 };
    const struct stem *hit =
        v->nstems ? bsearch(&probe, v->stems, v->nstems, sizeof *v->stems, cmp_stem) : NULL;
    return hit ? hit->df : 0;
}

size_t vocab_size(const struct vocab *v)
{
    return v->nwords;
}

int vocab_distance(const char *a, size_t alen, const char *b, size_t blen, int max)
{
    if (alen > MAX_WORD || blen > MAX_WORD)
        return max + 1;
    size_t diff = alen > blen ? alen - blen : blen - alen;
    if (diff > (size_t)max)
        return max + 1;
    int d[MAX_WORD + 1][MAX_WORD + 1];
    for (size_t i = 0; i <= alen; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= blen; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        int rowmin = d[i][0];
        for (size_t j = 1; j <= blen; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
            if (best < rowmin)
                rowmin = best;
        }
        if (rowmin > max)
            return max + 1;
    }
    return d[alen][blen] <= max ? d[alen][blen] : max + 1;
}

/* Considers every word filed under hash h as a correction of word. */
static void consider(const struct vocab *v, uint64_t h, const char *word, size_t n, int max,
                     int *best_d, const struct word **best)
{
    tkey lo_key = KEY(h, 0);
    size_t lo = 0, hi = v->nkeys;
    while (lo < hi) { /* the first key of this hash */
        size_t mid = lo + (hi - lo) / 2;
        if (v->keys[mid] < lo_key)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t at = lo; at < v->nkeys && v->keys[at] >> 32 == h >> 32; at++) {
        const struct word *c = &v->words[(uint32_t)v->keys[at]];
        size_t cn = strlen(c->text);
        if (cn < 3 || (cn == n && memcmp(c->text, word, n) == 0))
            continue;
        int d = vocab_distance(word, n, c->text, cn, max);
        if (d > max)
            continue;
        if (!*best || d < *best_d || (d == *best_d && c->df > (*best)->df) ||
            (d == *best_d && c->df == (*best)->df && strcmp(c->text, (*best)->text) < 0)) {
            *best = c;
            *best_d = d;
        }
    }
}

int vocab_correct(struct vocab *v, const char *word, const char **out)
{
    size_t n = strlen(word);
    *out = NULL;
    if (n < 4 || n > MAX_WORD || !v->nwords)
        return 0;
    if (!v->keys && build_keys(v))
        return 0;
    int max = n >= MIN_LONG ? 2 : 1, best_d = max + 1;
    const struct word *best = NULL;
    consider(v, hash_bytes(word, n, NONE, NONE), word, n, max, &best_d, &best);
    for (size_t d = 0; d < n; d++) {
        consider(v, hash_bytes(word, n, d, NONE), word, n, max, &best_d, &best);
        for (size_t e = d + 1; max == 2 && e < n; e++)
            consider(v, hash_bytes(word, n, d, e), word, n, max, &best_d, &best);
    }
    if (!best)
        return 0;
    *out = best->text;
    return best_d;
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t n = 0;
    while (a[n] && a[n] == b[n])
        n++;
    return n;
}

/* Endings that make another form of one word, sorted: "compar" + "ed" and "compar" + "ison"
 * are one word's forms; "refer" + "endum" and "refer" + "ence" are two words. */
static const char *const endings[] = {
    "",    "able", "al",    "ally", "ance",  "ant", "ate",     "ated", "ation", "ations", "e",
    "ed",  "ence", "ent",   "er",   "ers",   "es",  "ibility", "ible", "ing",   "ion",    "ions",
    "ise", "ised", "ism",   "ison", "isons", "ist", "ists",    "ity",  "ive",   "ize",    "ized",
    "ly",  "ment", "ments", "ness", "or",    "ors", "ous",     "s",    "y",
};

static int cmp_ending(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_ending(const char *s)
{
    return bsearch(&s, endings, sizeof endings / sizeof *endings, sizeof *endings, cmp_ending) !=
           NULL;
}

/* Whether a and b, sharing their first shared bytes, are forms of one word: some stem of at least
 * need bytes of that prefix leaves each an ending of the list. */
static int one_word(const char *a, const char *b, size_t shared, size_t need)
{
    for (size_t p = shared; p >= need; p--)
        if (is_ending(a + p) && is_ending(b + p))
            return 1;
    return 0;
}

int vocab_neighbour(const struct vocab *v, const char *word, const char **out)
{
    size_t n = strlen(word);
    *out = NULL;
    if (n < 5 || !v->nwords)
        return 0;
    /* Every neighbour starts with word's first five bytes: scan that range of the sorted words. */
    size_t lo = 0, hi = v->nwords;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strncmp(v->words[mid].text, word, 5) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct word *best = NULL;
    for (size_t i = lo; i < v->nwords && strncmp(v->words[i].text, word, 5) == 0; i++) {
        const struct word *c = &v->words[i];
        size_t cn = strlen(c->text), shared = common_prefix(word, c->text);
        size_t need = n <= 6 || cn <= 6 ? 5 : 6;
        if (shared < need || strcmp(c->text, word) == 0 || !one_word(word, c->text, shared, need))
            continue;
        if (!best || c->df > best->df)
            best = c;
    }
    if (!best)
        return 0;
    *out = best->text;
    return 1;
}
