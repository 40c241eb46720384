/* convo.c - the last turn of each conversation, in a direct-mapped table (see convo.h).
 *
 * A conversation's key (platform, channel, thread) hashes to one slot; the slot keeps the whole
 * key, so another conversation that hashes there replaces it rather than being taken for it. */
#include "convo.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

struct slot {
    char key[CONVO_MAX_KEY + 1]; /* "platform\x1f" "channel\x1f" "thread"; "" when empty */
    int64_t at;                  /* when its last turn was noted */
    struct convo_turn turn;
};

struct convo {
    struct slot *slots;
    size_t n;
    int64_t ttl_ms;
};

int convo_new(struct convo **out, size_t slots, int64_t ttl_ms)
{
    *out = NULL;
    struct convo *c = calloc(1, sizeof *c);
    if (!c || !(c->slots = calloc(slots ? slots : 1, sizeof *c->slots))) {
        free(c);
        return ERR_NOMEM;
    }
    c->n = slots ? slots : 1;
    c->ttl_ms = ttl_ms;
    *out = c;
    return 0;
}

void convo_free(struct convo *c)
{
    if (!c)
        return;
    free(c->slots);
    free(c);
}

/* The key of a conversation into key (CONVO_MAX_KEY + 1 bytes); 0, or -1 when it does not fit. */
static int make_key(char *key, const char *platform, const char *channel, const char *thread)
{
    size_t a = strlen(platform), b = strlen(channel), t = strlen(thread);
    if (a + b + t + 2 > CONVO_MAX_KEY)
        return -1;
    memcpy(key, platform, a);
    key[a] = '\x1f';
    memcpy(key + a + 1, channel, b);
    key[a + 1 + b] = '\x1f';
    memcpy(key + a + b + 2, thread, t + 1);
    return 0;
}

/* FNV-1a of the key. */
static size_t slot_of(const struct convo *c, const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % c->n);
}

const struct convo_turn *convo_last(struct convo *c, const char *platform, const char *channel,
                                    const char *thread, int64_t now_ms)
{
    char key[CONVO_MAX_KEY + 1];
    if (!c || make_key(key, platform, channel, thread))
        return NULL;
    const struct slot *s = &c->slots[slot_of(c, key)];
    if (strcmp(s->key, key) != 0 || now_ms - s->at > c->ttl_ms || now_ms < s->at)
        return NULL;
    return &s->turn;
}

void convo_note(struct convo *c, const char *platform, const char *channel, const char *thread,
                int64_t now_ms, const char *question, size_t len, const struct match_result *res)
{
    char key[CONVO_MAX_KEY + 1];
    if (!c || make_key(key, platform, channel, thread))
        return;
    struct slot *s = &c->slots[slot_of(c, key)];
    memcpy(s->key, key, sizeof key);
    s->at = now_ms;
    if (len > CONVO_MAX_QUESTION) { /* cut between characters: not inside one */
        len = CONVO_MAX_QUESTION;
        while (len > 0 && ((unsigned char)question[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(s->turn.question, question, len);
    s->turn.question[len] = '\0';
    s->turn.nsuggest = 0;
    for (int i = 0; res && res->n == 0 && i < res->nsuggest; i++)
        memcpy(s->turn.suggest[s->turn.nsuggest++], res->suggestions[i].id, MATCH_MAX_ID + 1);
}
