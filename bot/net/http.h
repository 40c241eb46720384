/* http.h - HTTP requests, and host name lookups, that never block the event loop.
 *
 * libcurl's multi interface runs on one worker thread; requests are handed to it through a
 * locked queue and its answers come back to the loop's thread through ws_loop_post(). So a slow
 * Web API call (chat.postMessage taking longer than Slack's 3-second acknowledgement deadline)
 * never delays an acknowledgement or a pong. Connections to a host are reused. */
#ifndef PLANBOT_HTTP_H
#define PLANBOT_HTTP_H

#include <stddef.h>

#include "ws.h"

struct http;

struct http_request {
    const char *url;          /* http:// or https:// only */
    const char *bearer;       /* the token for "Authorization: Bearer"; never logged */
    const char *content_type; /* of body; NULL: no body */
    const char *body;
    size_t body_len;
    long timeout_ms; /* the whole request; 0: 30 s */
};

struct http_response {
    long status;      /* the HTTP status, or 0 when no answer came */
    int retry_after;  /* the Retry-After header in seconds, or -1 */
    const char *body; /* borrowed for the callback; NUL-terminated */
    size_t len;
    int err;            /* 0, or ERR_IO (no answer: see errmsg) or ERR_TOOBIG (body over 1 MiB) */
    const char *errmsg; /* what failed, for logs; "" when err is 0 */
};

/* Called on the loop's thread with the answer, which is borrowed for the call. */
typedef void (*http_done_fn)(void *ctx, const struct http_response *r);

/* Starts the worker. ca_file as for ws_loop_new(). Returns 0 and *out, or an error with a
 * message in err. */
int http_new(struct http **out, struct ws_loop *loop, const char *ca_file, char *err,
             size_t errlen);

/* Stops the worker and frees everything; requests still pending are abandoned and their
 * callbacks never run. Accepts NULL. */
void http_free(struct http *h);

/* Sends a POST request; everything in req is copied. done(ctx, response) runs later on the loop's
 * thread, exactly once, unless this returns an error (ERR_NOMEM) or http_free() comes first. */
int http_post(struct http *h, const struct http_request *req, http_done_fn done, void *ctx);

/* Called on the loop's thread with a numeric address for a host name, or err (ERR_IO) and why. */
typedef void (*http_resolved_fn)(void *ctx, int err, const char *addr, const char *why);

/* Looks host up on the worker thread, since getaddrinfo() blocks and libwebsockets 4.1 as Debian
 * builds it would call it on the loop's thread. done runs later on the loop's thread, exactly
 * once, unless this returns ERR_NOMEM or http_free() comes first. */
int http_resolve(struct http *h, const char *host, http_resolved_fn done, void *ctx);

/* How many requests have not had their callback yet. */
size_t http_pending(const struct http *h);

#endif
