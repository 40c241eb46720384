/* seen.c - a bounded set of recent keys (see seen.h).
 *
 * A ring holds the keys in the order they came; an open-addressing table (linear probing, at
 * most half full) maps each key to its place in the ring. Adding to a full ring overwrites the
 * oldest key, which leaves the table by backward-shift deletion, so the table never fills with
 * tombstones and a lookup stays a probe or two. */
#include "seen.h"

#include <stdlib.h>

struct seen {
    uint64_t *ring;  /* owned; n slots, 0 when empty */
    uint32_t *table; /* owned; mask + 1 slots: a ring index + 1, or 0 when empty */
    size_t n, next;  /* the ring's size; where the next key goes */
    size_t mask;     /* the table's size - 1 (a power of two, at least 2n) */
};

struct seen *seen_new(size_t n)
{
    if (n < 1)
        n = 1;
    if (n > UINT32_MAX / 4)
        return NULL;
    size_t size = 4;
    while (size < 2 * n)
        size *= 2;
    struct seen *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ring = calloc(n, sizeof *s->ring);
    s->table = calloc(size, sizeof *s->table);
    if (!s->ring || !s->table) {
        seen_free(s);
        return NULL;
    }
    s->n = n;
    s->mask = size - 1;
    return s;
}

void seen_free(struct seen *s)
{
    if (!s)
        return;
    free(s->ring);
    free(s->table);
    free(s);
}

uint64_t seen_key(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = a; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull; /* a byte no UTF-8 text holds */
    for (const char *p = b; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h ? h : 1;
}

/* The table slot holding key, or the empty slot where it would go. */
static size_t slot_of(const struct seen *s, uint64_t key)
{
    size_t i = (size_t)(key ^ (key >> 29)) & s->mask;
    while (s->table[i] && s->ring[s->table[i] - 1] != key)
        i = (i + 1) & s->mask;
    return i;
}

int seen_has(const struct seen *s, uint64_t key)
{
    return key && s->table[slot_of(s, key)] != 0;
}

/* Empties table slot i, moving later keys of the same probe run back so none is cut off. */
static void remove_slot(struct seen *s, size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & s->mask;
        if (!s->table[j])
            break;
        uint64_t k = s->ring[s->table[j] - 1];
        size_t home = (size_t)(k ^ (k >> 29)) & s->mask;
        /* k may move to i when its home is not in the cyclic range (i, j] */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->table[i] = s->table[j];
            i = j;
        }
    }
    s->table[i] = 0;
}

void seen_add(struct seen *s, uint64_t key)
{
    if (!key)
        return;
    if (s->table[slot_of(s, key)])
        return; /* known: it keeps its place (a hole left in the ring would forget one early) */
    uint64_t oldest = s->ring[s->next];
    if (oldest)
        remove_slot(s, slot_of(s, oldest));
    s->ring[s->next] = key;
    s->table[slot_of(s, key)] = (uint32_t)(s->next + 1);
    s->next = (s->next + 1) % s->n;
}
