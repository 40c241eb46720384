/* plat.h - the one interface every chat platform adapter implements.
 *
 * Each adapter file exports exactly one const struct plat_ops; plat.c lists them in a
 * NULL-terminated table. The dispatcher and the knowledge code never include an adapter's header:
 * an adapter receives messages from its platform and hands each to the host's on_message(), which
 * returns the reply text to send back. */
#ifndef PLANBOT_PLAT_H
#define PLANBOT_PLAT_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"
#include "config.h"

struct plat; /* an adapter's own state */

/* One message from a person, borrowed for the duration of on_message(). */
struct plat_message {
    const char *user;    /* the platform's immutable user id: never a display name */
    const char *channel; /* where it was said and where the reply goes */
    const char *text;    /* as the platform delivered it (markup included) */
    size_t len;
    int direct;    /* a direct message rather than a channel */
    int moderator; /* the adapter vouches that user may change the knowledge base */
};

/* What the bot gives an adapter. */
struct plat_host {
    void *ctx;
    /* Handles one message; appends the reply to reply (empty: say nothing). Returns 0, or an
     * error the adapter logs (the reply then holds a message for the user). */
    int (*on_message)(void *ctx, const char *platform, const struct plat_message *msg,
                      struct buf *reply);
};

struct plat_ops {
    const char *name;        /* as in config "platform" and --platform */
    const char *description; /* one line for --help */
    /* Creates the adapter. Returns 0 and *out, or an error with a message in err. */
    int (*open)(struct plat **out, const struct config *cfg, const struct plat_host *host,
                char *err, size_t errlen);
    /* Serves messages until the input ends or *stop is set. Returns 0 or an error. */
    int (*run)(struct plat *p, volatile sig_atomic_t *stop);
    /* Frees the adapter. Accepts NULL. */
    void (*close)(struct plat *p);
};

/* Every adapter, NULL-terminated. */
extern const struct plat_ops *const plat_all[];

/* The adapter named name, or NULL. */
const struct plat_ops *plat_find(const char *name);

#endif
