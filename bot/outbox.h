/* outbox.h - the replies an adapter has yet to post, delivered as a chat platform wants them.
 *
 * Every platform needs the same delivery, whatever its protocol: each channel's replies in the
 * order they were queued, one at a time and paced; a few in flight at once across channels;
 * after a rate limit, nothing posted until the platform's wait is over; a failed post retried
 * with backoff, ahead of the channel's later replies; the question's record settled exactly once,
 * when its reply's last part is posted or can never be; and, when the adapter stops, a report of
 * every reply left unposted. The adapter splits a reply into parts, starts each post the outbox
 * hands it and reports how that post went; the clock and the timer come from the adapter too, so
 * a test drives the outbox with a fake clock.
 *
 * Everything runs on the adapter's thread. */
#ifndef PLANBOT_OUTBOX_H
#define PLANBOT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct outbox;
struct markup;

enum { OUTBOX_ID_MAX = 128 }; /* bytes for a channel, thread or user id, with its NUL */

/* One part of a reply, as the outbox hands it to start(). Read-only for the adapter, and
 * valid until the adapter reports it with outbox_done(). */
struct outbox_item {
    char channel[OUTBOX_ID_MAX];
    char thread[OUTBOX_ID_MAX]; /* "": none */
    char user[OUTBOX_ID_MAX];   /* who asked, for the log */
    const char *text;           /* this part, NUL-terminated */
    size_t len;
    int part;       /* its place in its reply: 0, 1, ... */
    int last;       /* the last part of its reply */
    int attempts;   /* tries that failed so far */
    int64_t record; /* the last part: the host's record of the question (0: none) */
    int64_t queued; /* when the question came (the clock's ms), for the log */
    void *arg;      /* the ctx given to outbox_new(), for the adapter's callbacks */
};

/* What the adapter gives the outbox. */
struct outbox_ops {
    /* Starts posting it; the adapter reports the outcome later with outbox_done(it, ...).
     * Returns 0, or an error: the post was not started, and is tried again in a second. */
    int (*start)(void *ctx, struct outbox_item *it);
    /* The reply whose last part carried record was posted (answered) or never can be. */
    void (*settle)(void *ctx, int64_t record, int answered);
    /* The clock, in milliseconds (monotonic). NULL with outbox_new_on(). */
    int64_t (*now)(void *ctx);
    /* Calls outbox_kick() in delay_ms milliseconds (replacing an earlier request). NULL with
     * outbox_new_on(). */
    void (*arm)(void *ctx, int64_t delay_ms);
};

struct outbox_config {
    const char *name;  /* the platform, for the log ("slack") */
    int pace_ms;       /* least time between two posts to one channel */
    int inflight_max;  /* posts in flight at once, across channels */
    size_t queued_max; /* parts waiting; a reply that would go over is refused whole */
    int64_t backoff_cap_ms;
    int per_second; /* posts started in any one second, across channels (Discord's global
                       limit), at most OUTBOX_PER_SECOND_MAX; 0: no such cap */
};

enum { OUTBOX_PER_SECOND_MAX = 10000 };

/* How a post went (outbox_done()). */
enum outbox_outcome {
    OUTBOX_POSTED,  /* posted: the channel is paced, the record settled when it is the last part */
    OUTBOX_RETRY,   /* failed, worth another try: after wait_ms for everyone (a rate limit), or
                       with backoff for this channel when wait_ms is 0 */
    OUTBOX_LIMITED, /* rate limited on this channel's own limit (a Discord bucket): tried again
                       after wait_ms, while the other channels go on */
    OUTBOX_DROPPED, /* can never be posted (the channel is gone, the bot is not in it): dropped,
                       its record settled as not answered */
    OUTBOX_HALTED   /* nothing can be posted at all (credentials refused): this part goes back
                       to the outbox and nothing more is started */
};

/* A new outbox. Returns it (caller frees with outbox_free()), or NULL when out of memory. The
 * config and ops are copied. */
struct outbox *outbox_new(const struct outbox_config *cfg, const struct outbox_ops *ops, void *ctx);

/* A new outbox on the event loop, as adapters use it: its clock is loop_now_ms() and its timer
 * one of loop's (ops->now and ops->arm are not used). NULL when out of memory. */
struct loop;
struct outbox *outbox_new_on(struct loop *loop, const struct outbox_config *cfg,
                             const struct outbox_ops *ops, void *ctx);

/* Frees the outbox and every part in it. Accepts NULL. Parts in flight must not be reported
 * afterwards. */
void outbox_free(struct outbox *ob);

/* Queues the reply text, cut into posts as the platform's markup allows (markup_split()), for
 * channel (and thread)
 * on behalf of user; record is the host's record of the question (0: none) and queued when it
 * came. Starts what may go now. Returns 0, ERR_TOOBIG (the outbox is full, or an id is too long:
 * nothing queued) or ERR_NOMEM (nothing queued). */
int outbox_send(struct outbox *ob, const char *channel, const char *thread, const char *user,
                const char *text, size_t len, const struct markup *markup, int64_t record,
                int64_t queued);

/* Reports how the post of it went; it belongs to the outbox again. why says what failed, for
 * the log (OUTBOX_RETRY, OUTBOX_DROPPED). Starts what may go next. */
void outbox_done(struct outbox *ob, struct outbox_item *it, enum outbox_outcome outcome,
                 int64_t wait_ms, const char *why);

/* Holds channel's next post for wait_ms from now (or longer, when it is held longer already):
 * its limit is used up until then (Discord's X-RateLimit-Remaining: 0). */
void outbox_hold(struct outbox *ob, const char *channel, int64_t wait_ms);

/* Starts what may go now, and asks for the timer for what must wait. */
void outbox_kick(struct outbox *ob);

/* Parts waiting and in flight. */
size_t outbox_waiting(const struct outbox *ob);

/* Whether nothing is in flight and nothing waits that could still be posted. */
int outbox_idle(const struct outbox *ob);

/* Logs, as errors, each reply whose last part was never posted (waiting or in flight), and
 * returns how many. For the end of a run. */
size_t outbox_report_unposted(const struct outbox *ob);

#endif
