/* http.h - HTTP requests that never block the event loop.
 *
 * libcurl's multi interface, driven by the loop on its own thread: curl's sockets are watched
 * with the loop's others, and its transfers advance as they become ready. So a slow Web API
 * call (chat.postMessage taking longer than Slack's 3-second acknowledgement deadline) never
 * delays an acknowledgement or a pong. Connections to a host are kept open and reused. */
#ifndef PLANBOT_HTTP_H
#define PLANBOT_HTTP_H

#include <stddef.h>

#include "loop.h"

struct http;

struct http_request {
    const char *method;       /* "GET", "POST", "PUT", "DELETE", ...; NULL: POST when there is
                                 a body, GET when not */
    const char *url;          /* http:// or https:// only */
    const char *bearer;       /* the token for "Authorization: Bearer"; never logged */
    const char *auth_scheme;  /* the scheme before it: NULL for "Bearer"; Discord's "Bot" */
    const char *content_type; /* of body; NULL: no body */
    const char *body;
    size_t body_len;
    const char *const *headers; /* more request headers, "Name: value", NULL-terminated; or NULL */
    long timeout_ms;            /* the whole request; 0: 30 s */
    int want_ratelimit;         /* read the X-RateLimit-* headers into the response's rate */
};

/* What a platform's rate-limit headers said; each field -1 (bucket "") when absent. */
struct http_ratelimit {
    long limit;         /* X-RateLimit-Limit: requests in the window */
    long remaining;     /* X-RateLimit-Remaining: requests left in it */
    double reset;       /* X-RateLimit-Reset, in seconds: as the platform means it (Mattermost:
                           until the reset; Discord: the reset's Unix time) */
    double reset_after; /* X-RateLimit-Reset-After: seconds until the reset (Discord) */
    int global;         /* X-RateLimit-Global: the limit hit is the global one (0 or 1) */
    char bucket[64];    /* X-RateLimit-Bucket (Discord) */
};

struct http_response {
    long status;     /* the HTTP status, or 0 when no answer came */
    int retry_after; /* the Retry-After header in seconds (read on 429 and 5xx only), or -1 */
    struct http_ratelimit rate; /* when the request wanted it; else all absent */
    const char *body;           /* borrowed for the callback; NUL-terminated */
    size_t len;
    int err;            /* 0, or ERR_IO (no answer: see errmsg) or ERR_TOOBIG (body over 1 MiB) */
    const char *errmsg; /* what failed, for logs; "" when err is 0 */
};

/* Called on the loop's thread with the answer, which is borrowed for the call. */
typedef void (*http_done_fn)(void *ctx, const struct http_response *r);

/* Makes the client on loop. ca_file as for loop_new(). Returns 0 and *out, or an error with a
 * message in err. Free it with http_free() before the loop. */
int http_new(struct http **out, struct loop *loop, const char *ca_file, char *err, size_t errlen);

/* Frees everything; requests still pending are abandoned and their callbacks never run. May be
 * called from a request's callback. Accepts NULL. */
void http_free(struct http *h);

/* Sends a request; everything in req is copied. done(ctx, response) runs later on the loop's
 * thread (never within this call), exactly once, unless this returns an error (ERR_NOMEM;
 * ERR_INVAL for a header line with a line break in it, or a method that is not a token) or
 * http_free() comes first. */
int http_call(struct http *h, const struct http_request *req, http_done_fn done, void *ctx);

/* How many requests have not had their callback yet. */
size_t http_pending(const struct http *h);

#endif
