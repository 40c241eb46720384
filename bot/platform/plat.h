/* plat.h - the one interface every chat platform adapter implements.
 *
 * Each adapter file exports exactly one const struct plat_ops; plat.c lists them in a
 * NULL-terminated table. The dispatcher and the knowledge code never include an adapter's header.
 *
 * The life of an adapter: open() reads its settings and secrets; then it serves until its input
 * ends, a fatal error, or the stop flag. An adapter on the shared event loop (PLAT_CAP_LOOP) is
 * driven in three steps, so that several serve on one loop in one process: start() begins
 * connecting, the host runs the loop until every adapter's stopped() says so, and finish()
 * reports. Any other adapter (the console) has run(), which serves until the end itself. Each
 * message an adapter receives goes to the host's on_message(), which works out the reply and
 * hands it back through the adapter's send(). send() only queues: an adapter delivers replies in
 * its own time (paced, retried after rate limits). When the stop flag is set, an adapter stops
 * reading and delivers the replies it has queued (within a few seconds).
 *
 * Nothing acknowledged is lost: an adapter whose platform redelivers what it does not
 * acknowledge (PLAT_CAP_RECORDS) records each question with the host's record() and
 * acknowledges it once record() reports it durable, and settle()s it once the reply is posted;
 * replay() answers at the next start what a crash left open. The host writes the records of one
 * turn of the event loop together, in one transaction (bot/batch.h). */
#ifndef PLANBOT_PLAT_H
#define PLANBOT_PLAT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "markup.h"

struct plat; /* an adapter's own state */
struct loop; /* the event loop every adapter with PLAT_CAP_LOOP shares (net/loop.h) */

/* One message from a person, borrowed for the duration of on_message() and send(). */
struct plat_message {
    const char *user;    /* the platform's immutable user id: never a display name */
    const char *channel; /* where it was said and where the reply goes */
    const char *thread;  /* the adapter's key for the reply's thread ("": none); opaque here */
    const char *text;    /* as plain text: the adapter has decoded its platform's markup */
    size_t len;
    int direct;        /* a direct message rather than a channel */
    int moderator;     /* the adapter vouches that user may change the knowledge base (console) */
    int64_t record;    /* the host's durable record of the question (0: none), for settle() */
    int by_role;       /* the platform says user holds the configured moderators' role (Discord):
                          a moderator's rights, but counted against the flood limit as others */
    const char *convo; /* the conversation a follow-up continues, where it is not the thread
                          (Discord, whose replies thread nothing: the asker's in a channel);
                          NULL: the thread's */
};

/* What an adapter is (plat_ops.caps): what the host must do for it. */
enum plat_caps {
    PLAT_CAP_LOOP = 1 << 0,      /* it serves on the shared event loop (plat_host.loop) */
    PLAT_CAP_RECORDS = 1 << 1,   /* its platform redelivers what is not acknowledged: it records
                                    each question before acknowledging it, so the host keeps an
                                    inbox */
    PLAT_CAP_MODERATORS = 1 << 2 /* its users are the platform's, named by immutable ids that the
                                    configuration's "moderators" lists; without it the adapter
                                    vouches for its one user itself (the console's is the person
                                    at the terminal) */
};

/* How record() reports: rc 0 and the host's record of the question (acknowledge it, then
 * answer it with msg.record set to record); ERR_EXISTS (recorded before: a redelivery;
 * acknowledge it, answer nothing); or another error (nothing recorded: do not acknowledge, and
 * the platform delivers it again). */
typedef void (*plat_recorded_fn)(void *arg, int rc, int64_t record);

/* What the bot gives an adapter. */
struct plat_host {
    void *ctx;
    const struct config *cfg; /* borrowed: settings, moderators */
    struct loop *loop;        /* borrowed: the event loop, for adapters with PLAT_CAP_LOOP */
    /* Handles one message: works out the reply and passes it to the adapter's send(). Returns 0,
     * or an error already logged (the user was told what went wrong). */
    int (*on_message)(void *ctx, struct plat *p, const struct plat_message *msg);
    /* Records msg (copied) durably under key, the platform's id for the event: with the other
     * records of this turn of the loop, in one transaction, after which done(arg, ...) runs on
     * the loop's thread, exactly once. Returns 0, or an error (too many waiting, out of memory:
     * then done never runs; do not acknowledge). */
    int (*record)(void *ctx, const char *platform, const char *key, const struct plat_message *msg,
                  plat_recorded_fn done, void *arg);
    /* The reply to record has been posted (answered), or can never be (!answered); written with
     * the other settles of this turn of the loop. */
    void (*settle)(void *ctx, int64_t record, int answered);
    /* Hands the questions a stop or a crash left open to on_message() again, or closes those
     * older than replay_max_age; run() calls it once it can post. */
    void (*replay)(void *ctx, struct plat *p);
};

struct plat_ops {
    const char *name;            /* as in config "platform" and --platform */
    const char *description;     /* one line for --help */
    const struct markup *markup; /* how replies are written for this platform (markup.h) */
    /* The markup of one instance, when its settings choose among several (IRC's bold
     * citations). NULL: markup, always. */
    const struct markup *(*markup_of)(const struct plat *p);
    unsigned caps; /* enum plat_caps */
    /* The adapter's section of the configuration ("slack": {...}): its keys, defaults and
     * checks, read with config_string() / config_int(). NULL: it has none. */
    const struct config_section *settings;
    /* Creates the adapter. Returns 0 and *out, or an error with a message in err (a missing
     * token, a bad setting). */
    int (*open)(struct plat **out, const struct plat_host *host, char *err, size_t errlen);
    /* Without PLAT_CAP_LOOP: serves messages until the input ends, a fatal error, or *stop is
     * set; then delivers what send() queued and returns. Returns 0, or an error it has logged. */
    int (*run)(struct plat *p, volatile sig_atomic_t *stop);
    /* With PLAT_CAP_LOOP: begins connecting on the loop; serves until *stop is set or a fatal
     * error. Returns 0, or an error it has logged. */
    int (*start)(struct plat *p, volatile sig_atomic_t *stop);
    /* With PLAT_CAP_LOOP, checked each turn of the loop: nonzero once the adapter has stopped
     * (after *stop or a fatal error) and posted what it could in its grace time. */
    int (*stopped)(struct plat *p);
    /* With PLAT_CAP_LOOP, after the loop: reports the replies never posted. Returns 0, or the
     * error that stopped the adapter (ERR_AUTH for refused credentials). */
    int (*finish)(struct plat *p);
    /* Queues text (written in the adapter's markup) as the reply to msg. Never blocks. Returns 0,
     * or ERR_NOMEM / ERR_TOOBIG when the reply cannot be queued. */
    int (*send)(struct plat *p, const struct plat_message *msg, const char *text, size_t len);
    /* Frees the adapter. Accepts NULL. */
    void (*close)(struct plat *p);
};

/* Every adapter, NULL-terminated. */
extern const struct plat_ops *const plat_all[];

/* The adapter named name, or NULL. */
const struct plat_ops *plat_find(const char *name);

/* How instance p of ops writes its replies: ops->markup_of(p), else ops->markup. */
const struct markup *plat_markup(const struct plat_ops *ops, const struct plat *p);

/* Adds every adapter's section to cfg (config_add_section()), so that the file can set them.
 * Returns 0 or the first error. */
int plat_add_settings(struct config *cfg);

#endif
