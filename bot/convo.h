/* convo.h - what planbot remembers of each conversation, for the message that follows: the last
 * question asked in a thread (or a direct conversation) and, when planbot declined it, the
 * topics it suggested. A bounded table in memory: conversations are forgotten after a while, or
 * when the table needs their slot; a restart forgets them all. Nothing here is durable or
 * shared between processes, and who asked is not kept. */
#ifndef PLANBOT_CONVO_H
#define PLANBOT_CONVO_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"

struct convo;

enum {
    CONVO_MAX_QUESTION = 500, /* bytes of a question kept */
    CONVO_MAX_KEY = 400       /* bytes of platform, channel and thread together */
};

/* The last turn of a conversation. */
struct convo_turn {
    char question[CONVO_MAX_QUESTION + 1]; /* as asked, cut between characters */
    int nsuggest;                          /* the topics suggested when declining, in order */
    char suggest[MATCH_MAX_SUGGESTIONS][MATCH_MAX_ID + 1];
};

/* A table of slots conversations, each forgotten ttl_ms after its last turn. Returns 0 and *out,
 * or ERR_NOMEM. */
int convo_new(struct convo **out, size_t slots, int64_t ttl_ms);
void convo_free(struct convo *c);

/* The last turn of the conversation in thread of channel on platform ("" for no thread), if it
 * is younger than the table's ttl at now_ms; NULL otherwise. Borrowed until the next call. */
const struct convo_turn *convo_last(struct convo *c, const char *platform, const char *channel,
                                    const char *thread, int64_t now_ms);

/* Remembers question (len bytes) and what planbot answered (res: its suggestions, when it
 * declined) as the conversation's last turn at now_ms. A key too long to keep is not kept. */
void convo_note(struct convo *c, const char *platform, const char *channel, const char *thread,
                int64_t now_ms, const char *question, size_t len, const struct match_result *res);

#endif
