/* memo.c - a bounded memo of 64-bit keys (see memo.h). */
#include "memo.h"

#include <stdlib.h>

#include "err.h"

enum { MEMO_FIRST = 1024 }; /* slots of a new memo: a power of 2 */

struct slot {
    uint64_t key; /* 0: empty */
    uint64_t value;
    unsigned char tag;
};

struct memo {
    struct slot *slots; /* owned; cap of them */
    size_t cap;         /* a power of 2 */
    size_t n;           /* keys held */
    size_t max;         /* keys held at most */
};

/* Spreads a key over the slots: keys are hashes already, but their low bits may be weak. */
static size_t slot_of(uint64_t key, size_t cap)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    return (size_t)key & (cap - 1);
}

int memo_new(struct memo **out, size_t max)
{
    struct memo *mm = calloc(1, sizeof *mm);
    size_t cap = MEMO_FIRST;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (!mm || !slots) {
        free(mm);
        free(slots);
        return ERR_NOMEM;
    }
    mm->slots = slots;
    mm->cap = cap;
    mm->max = max < 16 ? 16 : max;
    *out = mm;
    return 0;
}

void memo_free(struct memo *mm)
{
    if (!mm)
        return;
    free(mm->slots);
    free(mm);
}

static struct slot *find(const struct memo *mm, uint64_t key)
{
    size_t i = slot_of(key, mm->cap);
    while (mm->slots[i].key && mm->slots[i].key != key)
        i = (i + 1) & (mm->cap - 1);
    return &mm->slots[i];
}

int memo_get(const struct memo *mm, uint64_t key, uint64_t *value, unsigned char *tag)
{
    if (!key)
        return 0;
    const struct slot *s = find(mm, key);
    if (!s->key)
        return 0;
    if (value)
        *value = s->value;
    if (tag)
        *tag = s->tag;
    return 1;
}

/* Doubles the slots, keeping every key. Returns 0 or ERR_NOMEM (nothing changed). */
static int grow(struct memo *mm)
{
    struct memo bigger = *mm;
    bigger.cap = mm->cap * 2;
    bigger.slots = calloc(bigger.cap, sizeof *bigger.slots);
    if (!bigger.slots)
        return ERR_NOMEM;
    for (size_t i = 0; i < mm->cap; i++)
        if (mm->slots[i].key)
            *find(&bigger, mm->slots[i].key) = mm->slots[i];
    free(mm->slots);
    *mm = bigger;
    return 0;
}

int memo_put(struct memo *mm, uint64_t key, uint64_t value, unsigned char tag)
{
    if (!key)
        return ERR_INVAL;
    struct slot *s = find(mm, key);
    if (!s->key) {
        if (mm->n >= mm->max) { /* full: start over, in the slots it has */
            for (size_t i = 0; i < mm->cap; i++)
                mm->slots[i].key = 0;
            mm->n = 0;
            s = find(mm, key);
        } else if (2 * (mm->n + 1) > mm->cap) {
            int rc = grow(mm);
            if (rc)
                return rc;
            s = find(mm, key);
        }
        mm->n++;
    }
    s->key = key;
    s->value = value;
    s->tag = tag;
    return 0;
}

size_t memo_count(const struct memo *mm)
{
    return mm->n;
}
