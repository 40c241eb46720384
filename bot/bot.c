/* bot.c - the daemon's main loop: signals, the event loop, the adapter, the dispatcher (see
 * bot.h). */
#include "bot.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "err.h"
#include "log.h"
#include "plat.h"
#include "ws.h"

enum { MAX_REPLY = 1024 * 1024 };

/* The only mutable global besides the log sink: set by SIGINT/SIGTERM. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

struct bot {
    const struct config *cfg;
    const struct plat_ops *ops;
    struct dispatch d;
    struct buf reply;
};

static int on_message(void *ctx, struct plat *p, const struct plat_message *msg)
{
    struct bot *b = ctx;
    const char *platform = b->ops->name;
    struct plat_message m = *msg;
    /* rights come from the configuration's list of platform user ids, or from an adapter that
     * vouches for its user (the console) */
    m.moderator = msg->moderator || config_is_moderator(b->cfg, platform, msg->user);
    buf_reset(&b->reply);
    int rc = dispatch_message(&b->d, platform, &m, &b->reply);
    if (rc && rc != ERR_USAGE && rc != ERR_PERM && rc != ERR_INVAL && rc != ERR_NOTFOUND)
        log_msg(LOG_WARN, "%s: a message from %s failed: %s", platform, msg->user, err_str(rc));
    if (rc == ERR_PERM)
        log_msg(LOG_INFO, "%s: refused a moderator command from %s", platform, msg->user);
    if (b->reply.len) {
        int src = b->ops->send(p, msg, b->reply.data, b->reply.len);
        if (src) {
            log_msg(LOG_ERROR, "%s: cannot queue the reply to %s: %s", platform, msg->user,
                    err_str(src));
            return src;
        }
    }
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
    struct bot b = { cfg, ops, { kb, match, ops->style, cfg->unanswered_days }, { 0 } };
    buf_init(&b.reply, MAX_REPLY);
    char err[512];
    struct ws_loop *loop = NULL;
    int rc = ws_loop_new(&loop, cfg->tls_ca_file, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s\n", err);
        return rc;
    }
    struct plat_host host = { &b, cfg, loop, on_message };
    struct plat *p;
    rc = ops->open(&p, &host, err, sizeof err);
    if (rc) {
        fprintf(stderr, "planbot: %s: %s\n", ops->name, err);
        ws_loop_free(loop);
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
    ws_loop_free(loop);
    buf_free(&b.reply);
    log_msg(LOG_DEBUG, "%s: stopped", ops->name);
    return rc;
}
