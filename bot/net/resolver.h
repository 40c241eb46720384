/* resolver.h - host name lookups that never block the event loop.
 *
 * getaddrinfo() blocks, and libwebsockets 4.1 as Debian builds it would call it on the loop's
 * thread when a connection starts. So the adapters look a host up here first, on a thread of the
 * resolver's own (started at the first lookup, asleep between lookups), and connect to the
 * numeric address; the answer comes back on the loop's thread through loop_post(). libcurl looks
 * up its hosts itself, on threads of its own. */
#ifndef PLANBOT_RESOLVER_H
#define PLANBOT_RESOLVER_H

#include "loop.h"

struct resolver;

/* Makes a resolver on loop; no thread runs until the first lookup. Returns 0 and *out, or
 * ERR_NOMEM. Free it with resolver_free() before the loop. */
int resolver_new(struct resolver **out, struct loop *loop);

/* Stops the thread (after the lookup it may be in the middle of) and frees everything; lookups
 * still pending are abandoned and their callbacks never run. Accepts NULL. */
void resolver_free(struct resolver *r);

/* Called on the loop's thread with a numeric address for the host (IPv4 when it has one), or
 * with err (ERR_IO) and why, "cannot look up HOST: ..." . */
typedef void (*resolver_done_fn)(void *ctx, int err, const char *addr, const char *why);

/* Looks host up. done runs later on the loop's thread, exactly once, unless this returns an error
 * (ERR_NOMEM: out of memory, or no thread could be started) or resolver_free() comes first. */
int resolver_lookup(struct resolver *r, const char *host, resolver_done_fn done, void *ctx);

#endif
