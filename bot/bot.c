/* bot.c - the daemon's main loop: signals, the adapter, the dispatcher (see bot.h). */
#include "bot.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "plat.h"

/* The only mutable global besides the log sink: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int on_message(void *ctx, const char *platform, const struct plat_message *msg,
                      struct buf *reply)
{
    int rc = dispatch_message(ctx, platform, msg, reply);
    if (rc && rc != ERR_USAGE && rc != ERR_PERM && rc != ERR_INVAL && rc != ERR_NOTFOUND)
        log_msg(LOG_WARN, "%s: a message from %s failed: %s", platform, msg->user, err_str(rc));
    return rc;
}

int bot_run(const struct config *cfg, struct kb *kb, struct match *match)
{
    const struct plat_ops *ops = plat_find(cfg->platform);
    if (!ops) {
        fprintf(stderr, "planbot: unknown platform \"%s\"; known platforms:", cfg->platform);
        for (size_t i = 0; plat_all[i]; i++)
            fprintf(stderr, " %s", plat_all[i]->name);
        fputc('\n', stderr);
        return ERR_USAGE;
    }
    struct dispatch d = { kb, match, REPLY_TEXT };
    struct plat_host host = { &d, on_message };
    struct plat *p;
    char err[512];
    int rc = ops->open(&p, cfg, &host, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s: %s\n", ops->name, err);
        return rc;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocked read returns so the loop sees it */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_msg(LOG_DEBUG, "%s: started with %s", ops->name, kb_path(kb));
    rc = ops->run(p, &stopping);
    ops->close(p);
    log_msg(LOG_DEBUG, "%s: stopped", ops->name);
    return rc;
}
