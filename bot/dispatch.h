/* dispatch.h - what planbot does with one chat message, whatever the platform: a command (help,
 * sources, kb ...) goes to the command table, anything else is a question for the matcher.
 * Moderator rights come from the adapter's message (platform user ids), never from display names.
 */
#ifndef PLANBOT_DISPATCH_H
#define PLANBOT_DISPATCH_H

#include "buf.h"
#include "convo.h"
#include "kb.h"
#include "match.h"
#include "plat.h"
#include "reply.h"

struct dispatch {
    struct kb *kb;               /* borrowed */
    struct match *match;         /* borrowed */
    const struct markup *markup; /* how the platform writes replies */
    /* Takes a question planbot declined, for "kb unanswered" (the daemon writes them in batches:
     * bot/batch.h); NULL: it is noted in kb at once. */
    void (*declined)(void *ctx, const char *platform, const char *text, size_t len);
    void *ctx;
    /* The last turn of each conversation (borrowed; NULL: every message stands alone): a
     * follow-up ("and Kherson?") is read with the question before it in the same thread, and a
     * number after "I don't know" reads that suggestion. */
    struct convo *convo;
};

/* Handles msg from platform; appends the reply to reply. A question planbot declines is recorded
 * for "kb unanswered" (without who asked); when that fails, as on a read-only database, the reply
 * is the same. Returns 0, or the error of a failed command or question (the reply then says what
 * went wrong). */
int dispatch_message(struct dispatch *d, const char *platform, const struct plat_message *msg,
                     struct buf *reply);

#endif
