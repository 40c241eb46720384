/* flood.h - the per-user flood limit: how many messages one person may send the bot in a while.
 *
 * Each (platform, user id) pair has a token bucket that holds `messages` tokens and refills at
 * `messages` per `seconds`: a burst of `messages` is answered at once, then one message per
 * seconds/messages. The first message over the limit gets one polite notice, the rest are dropped
 * without a reply; at most one notice goes to a user per `seconds`, so a user who keeps sending
 * cannot turn the notices themselves into a flood. Time is passed in, so the module is pure. */
#ifndef PLANBOT_FLOOD_H
#define PLANBOT_FLOOD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct flood;

enum {
    FLOOD_MAX_USERS = 10000, /* users tracked at once; past it the longest idle is forgotten */
    FLOOD_MAX_KEY = 128      /* bytes of "platform\0user" kept; longer ids are told apart by a
                                hash of the whole id */
};

enum flood_verdict {
    FLOOD_OK,     /* within the limit: answer */
    FLOOD_NOTICE, /* over the limit, the first time in this flood: answer with flood_notice() */
    FLOOD_DROP    /* over the limit, notice already given: no reply at all */
};

/* A limit of messages per seconds for each user. messages 0 means no limit (every check is
 * FLOOD_OK and nothing is stored); seconds below 1 counts as 1. Returns the handle, or NULL when
 * out of memory. Caller frees with flood_free(). */
struct flood *flood_new(int messages, int seconds);

/* Frees f. Accepts NULL. */
void flood_free(struct flood *f);

/* Counts one message from user (the platform's immutable id) on platform at now_ms (a monotonic
 * clock in milliseconds; a time before the user's last message counts as that time) and says
 * what to do with it. Both strings are borrowed for the call. Never fails: when the table is
 * full, the user idle the longest is forgotten to make room. */
enum flood_verdict flood_check(struct flood *f, const char *platform, const char *user,
                               int64_t now_ms);

/* How many users f remembers now: at most FLOOD_MAX_USERS. */
size_t flood_users(const struct flood *f);

/* Appends the notice for a user over the limit, as plain text (the caller escapes it for its
 * platform): "You're sending messages faster than I can answer (more than 20 a minute); I'll
 * answer again in a moment." Returns 0, or ERR_TOOBIG / ERR_NOMEM from out. */
int flood_notice(const struct flood *f, struct buf *out);

/* The verdict's name, for logs and tests: never NULL. */
const char *flood_verdict_str(enum flood_verdict v);

#endif
