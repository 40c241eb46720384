/* flood.c - the per-user flood limit: token buckets in a bounded table (see flood.h).
 *
 * Tokens are counted in milliseconds of window so that the arithmetic stays in integers: a
 * message costs window_ms, the bucket holds messages * window_ms, and every millisecond adds
 * `messages`. Users live in a slot array that grows up to FLOOD_MAX_USERS, found through a
 * chained hash table and kept in a list from the most to the least recently seen; when the array
 * is full, the least recently seen user's slot is reused, so memory never exceeds the cap. Links
 * are slot indices rather than pointers, so growing the array moves nothing that points into it.
 */
#include "flood.h"

#include <stdlib.h>
#include <string.h>

enum {
    NBUCKETS = 16384, /* a power of two, well above FLOOD_MAX_USERS */
    FIRST_SLOTS = 64, /* slots allocated at the first message */
    MAX_MESSAGES = 1000000,
    MAX_SECONDS = 7 * 86400 /* with MAX_MESSAGES, a full bucket stays far below INT64_MAX */
};

struct user {
    uint64_t hash;           /* of the whole "platform\0user" key */
    size_t len;              /* the whole key's length */
    int64_t level;           /* tokens, in milliseconds of window: a message costs window_ms */
    int64_t seen_ms;         /* the last message: when the bucket was last refilled */
    int64_t notice_ms;       /* the last notice, when noticed */
    int noticed;             /* a notice was given at notice_ms */
    int32_t chain;           /* next slot in the same hash bucket, or -1 */
    int32_t newer, older;    /* neighbours in the recency list, or -1 */
    char key[FLOOD_MAX_KEY]; /* the key's first bytes (not NUL-terminated) */
};

struct flood {
    int messages;      /* tokens a full bucket holds; 0: no limit */
    int seconds;       /* the window, as configured */
    int64_t window_ms; /* the cost of one message, in refill milliseconds */
    int64_t full;      /* messages * window_ms */
    struct user *slot; /* owned; nslots in use, cap allocated */
    size_t nslots, cap;
    int32_t *bucket;        /* owned; NBUCKETS heads of slot chains, -1 when empty */
    int32_t newest, oldest; /* the ends of the recency list, or -1 */
};

struct flood *flood_new(int messages, int seconds)
{
    struct flood *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->messages = messages < 0 ? 0 : messages > MAX_MESSAGES ? MAX_MESSAGES : messages;
    f->seconds = seconds < 1 ? 1 : seconds > MAX_SECONDS ? MAX_SECONDS : seconds;
    f->window_ms = (int64_t)f->seconds * 1000;
    f->full = f->window_ms * f->messages;
    f->newest = f->oldest = -1;
    if (f->messages == 0)
        return f; /* no limit: nothing to remember */
    f->bucket = malloc(NBUCKETS * sizeof *f->bucket);
    if (!f->bucket)
        goto err;
    for (size_t i = 0; i < NBUCKETS; i++)
        f->bucket[i] = -1;
    return f;
err:
    flood_free(f);
    return NULL;
}

void flood_free(struct flood *f)
{
    if (!f)
        return;
    free(f->slot);
    free(f->bucket);
    free(f);
}

/* FNV-1a over the key "platform\0user", which also fills prefix with its first bytes. */
static uint64_t key_of(const char *platform, const char *user, char *prefix, size_t *len)
{
    uint64_t h = 14695981039346656037ULL;
    size_t n = 0;
    const char *parts[2] = { platform, user };
    for (int p = 0; p < 2; p++) {
        const char *s = parts[p];
        for (size_t i = 0;; i++) {
            unsigned char c = (unsigned char)s[i];
            if (p == 1 && c == '\0')
                break;
            if (n < FLOOD_MAX_KEY)
                prefix[n] = (char)c;
            n++;
            h = (h ^ c) * 1099511628211ULL;
            if (c == '\0')
                break;
        }
    }
    *len = n;
    return h;
}

static size_t kept(size_t len)
{
    return len < FLOOD_MAX_KEY ? len : FLOOD_MAX_KEY;
}

static int32_t find(const struct flood *f, uint64_t h, const char *prefix, size_t len)
{
    for (int32_t i = f->bucket[h & (NBUCKETS - 1)]; i >= 0; i = f->slot[i].chain) {
        const struct user *u = &f->slot[i];
        if (u->hash == h && u->len == len && memcmp(u->key, prefix, kept(len)) == 0)
            return i;
    }
    return -1;
}

static void list_unlink(struct flood *f, int32_t i)
{
    struct user *u = &f->slot[i];
    if (u->newer >= 0)
        f->slot[u->newer].older = u->older;
    else
        f->newest = u->older;
    if (u->older >= 0)
        f->slot[u->older].newer = u->newer;
    else
        f->oldest = u->newer;
    u->newer = u->older = -1;
}

static void list_push_newest(struct flood *f, int32_t i)
{
    struct user *u = &f->slot[i];
    u->newer = -1;
    u->older = f->newest;
    if (f->newest >= 0)
        f->slot[f->newest].newer = i;
    f->newest = i;
    if (f->oldest < 0)
        f->oldest = i;
}

static void chain_unlink(struct flood *f, int32_t i)
{
    int32_t *at = &f->bucket[f->slot[i].hash & (NBUCKETS - 1)];
    while (*at != i)
        at = &f->slot[*at].chain;
    *at = f->slot[i].chain;
}

/* A slot for a new user: a fresh one while the array can grow, else the least recently seen
 * user's, forgotten. -1 only when out of memory with nobody to forget. */
static int32_t take_slot(struct flood *f)
{
    if (f->nslots == f->cap && f->cap < FLOOD_MAX_USERS) {
        size_t cap = f->cap ? f->cap * 2 : FIRST_SLOTS;
        if (cap > FLOOD_MAX_USERS)
            cap = FLOOD_MAX_USERS;
        struct user *grown = realloc(f->slot, cap * sizeof *grown);
        if (grown) {
            f->slot = grown;
            f->cap = cap;
        }
    }
    if (f->nslots < f->cap)
        return (int32_t)f->nslots++;
    int32_t i = f->oldest;
    if (i >= 0) {
        list_unlink(f, i);
        chain_unlink(f, i);
    }
    return i;
}

enum flood_verdict flood_check(struct flood *f, const char *platform, const char *user,
                               int64_t now_ms)
{
    if (f->messages == 0)
        return FLOOD_OK;
    char prefix[FLOOD_MAX_KEY];
    size_t len;
    uint64_t h = key_of(platform, user, prefix, &len);
    int32_t i = find(f, h, prefix, len);
    struct user *u;
    if (i < 0) {
        i = take_slot(f);
        if (i < 0)
            return FLOOD_OK; /* out of memory: let the message through rather than lose it */
        u = &f->slot[i];
        *u = (struct user){ .hash = h, .len = len, .level = f->full, .seen_ms = now_ms };
        memcpy(u->key, prefix, kept(len));
        u->chain = f->bucket[h & (NBUCKETS - 1)];
        f->bucket[h & (NBUCKETS - 1)] = i;
    } else {
        list_unlink(f, i);
        u = &f->slot[i];
    }
    list_push_newest(f, i);

    if (now_ms > u->seen_ms) {
        int64_t dt = now_ms - u->seen_ms;
        if (dt > f->window_ms)
            dt = f->window_ms; /* a whole window refills the bucket; this keeps dt * messages small
                                */
        u->level += dt * f->messages;
        if (u->level > f->full)
            u->level = f->full;
        u->seen_ms = now_ms;
    }
    if (u->level >= f->window_ms) {
        u->level -= f->window_ms;
        return FLOOD_OK;
    }
    if (u->noticed && now_ms - u->notice_ms < f->window_ms)
        return FLOOD_DROP;
    u->noticed = 1;
    u->notice_ms = now_ms;
    return FLOOD_NOTICE;
}

size_t flood_users(const struct flood *f)
{
    return f->nslots;
}

int flood_notice(const struct flood *f, struct buf *out)
{
    static const struct {
        int seconds;
        const char *one, *many; /* "a minute", "minutes" */
    } units[] = { { 86400, "a day", "days" },
                  { 3600, "an hour", "hours" },
                  { 60, "a minute", "minutes" },
                  { 1, "a second", "seconds" } };
    int rc = buf_printf(out, "You're sending messages faster than I can answer (more than %d ",
                        f->messages);
    for (size_t i = 0; !rc && i < sizeof units / sizeof units[0]; i++) {
        if (f->seconds % units[i].seconds)
            continue;
        int n = f->seconds / units[i].seconds;
        rc = n == 1 ? buf_puts(out, units[i].one) : buf_printf(out, "in %d %s", n, units[i].many);
        break;
    }
    return rc ? rc : buf_puts(out, "); I'll answer again in a moment.");
}

const char *flood_verdict_str(enum flood_verdict v)
{
    switch (v) {
    case FLOOD_OK: return "ok";
    case FLOOD_NOTICE: return "notice";
    case FLOOD_DROP: return "drop";
    }
    return "unknown";
}
