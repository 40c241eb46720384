/* bot.h - the daemon: one platform adapter serving the dispatcher until asked to stop. */
#ifndef PLANBOT_BOT_H
#define PLANBOT_BOT_H

#include <signal.h>

#include "config.h"
#include "kb.h"
#include "match.h"

struct plat_ops;

/* Runs the adapters named in cfg->platforms (or cfg->platform) until their input ends or
 * SIGINT/SIGTERM arrives. Returns 0, or an error after printing what went wrong. */
int bot_run(const struct config *cfg, struct kb *kb, struct match *match);

/* The same with the n adapters given (the tests' in-memory adapter, for one): several only when
 * each has PLAT_CAP_LOOP. Returns 0, or an error after printing what went wrong. */
int bot_serve(const struct config *cfg, struct kb *kb, struct match *match,
              const struct plat_ops *const *ops, size_t n);

#endif
