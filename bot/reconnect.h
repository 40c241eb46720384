/* reconnect.h - when an adapter tries to connect again: after failures in a row, exponential
 * backoff with jitter up to a cap (reconnect_backoff_ms()); a connection that served a
 * while starts the count again, so one that dies right after it opens cannot make planbot reconnect
 * in a tight loop; never sooner than the platform asked (a 429's Retry-After), nor than a floor set
 * until a connection serves a while (Slack's link_disabled). A value the adapter keeps: no I/O, no
 * timer; the adapter arms its own timer with reconnect_delay(). */
#ifndef PLANBOT_RECONNECT_H
#define PLANBOT_RECONNECT_H

#include <stdint.h>

struct reconnect {
    unsigned attempt;  /* failures in a row */
    int64_t wait_ms;   /* the least delay the platform asked for, until a success */
    int64_t floor_ms;  /* the least delay until a connection serves stable_ms */
    int64_t cap_ms;    /* the backoff's cap */
    int64_t stable_ms; /* a connection that served this long resets the count */
};

/* The delay before attempt n (0, 1, 2...): 0-250 ms for the first, then 1 s, 2 s, 4 s ... capped
 * at cap_ms, each plus up to 30% random jitter so that many bots do not reconnect in step. The
 * outbox retries a failed post with it too. */
int64_t reconnect_backoff_ms(unsigned attempt, int64_t cap_ms);

/* A policy with no failure yet. */
void reconnect_init(struct reconnect *r, int64_t cap_ms, int64_t stable_ms);

/* An attempt failed; wait_ms > 0: the platform asked for at least that long. */
void reconnect_failed(struct reconnect *r, int64_t wait_ms);

/* An attempt succeeded (signed in, connected): the count and the asked wait start again. */
void reconnect_succeeded(struct reconnect *r);

/* The platform answered an attempt: the wait it asked for is over (the count goes on). */
void reconnect_answered(struct reconnect *r);

/* A connection closed after serving served_ms: a failure unless it served stable_ms, which
 * also lifts the floor. */
void reconnect_closed(struct reconnect *r, int64_t served_ms);

/* Sets the floor (0 lifts it). */
void reconnect_floor(struct reconnect *r, int64_t floor_ms);

/* The delay before the next attempt: asked_ms when >= 0, else the backoff for the failures so
 * far; in both cases at least the asked wait and the floor. */
int64_t reconnect_delay(const struct reconnect *r, int64_t asked_ms);

#endif
