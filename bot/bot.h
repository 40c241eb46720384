/* bot.h - the daemon: one platform adapter serving the dispatcher until asked to stop. */
#ifndef PLANBOT_BOT_H
#define PLANBOT_BOT_H

#include <signal.h>

#include "config.h"
#include "kb.h"
#include "match.h"

/* Runs the adapter named in cfg->platform until its input ends or SIGINT/SIGTERM arrives.
 * Returns 0, or an error after printing what went wrong. */
int bot_run(const struct config *cfg, struct kb *kb, struct match *match);

#endif
