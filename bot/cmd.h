/* cmd.h - the commands people run: `help`, `sources` and `kb ...`, the same from the terminal
 * (planbot kb ...) and from any chat platform.
 *
 * One table holds every command: its words, its handler, how many arguments it takes, its
 * options, whether only moderators may run it, whether it needs the terminal (files), and its
 * help. cmd_run() checks all of that in one place before a handler runs. */
#ifndef PLANBOT_CMD_H
#define PLANBOT_CMD_H

#include "buf.h"
#include "kb.h"

struct match;

struct cmd_ctx {
    struct kb *kb;         /* borrowed */
    struct kb_actor actor; /* who runs the command; recorded with every change */
    int moderator;         /* may change the knowledge base */
    int terminal;          /* at the command line: may read and write files */
    struct buf *out;       /* receives the output, or the error message */
    int direct;            /* in a direct message or at the terminal, not before a channel */
    struct match *match;   /* borrowed; NULL: the commands that need one open their own */
};

/* Runs the command in argv[0..argc) ("kb", "show", "army-cap"). Writes the output, or a message
 * saying what went wrong, to ctx->out. Returns 0 or an enum err: ERR_USAGE for a wrong command
 * or arguments, ERR_PERM when the user may not run it, or the failure of the operation. */
int cmd_run(struct cmd_ctx *ctx, int argc, char *const *argv);

/* Whether a word starts a command ("help", "sources", "kb"), not a question. */
int cmd_is_command(const char *word);

/* Whether the command in argv takes record fields (kb add, kb edit, kb source add/edit), so that
 * a chat message may give them as "field: value" lines. */
int cmd_takes_fields(int argc, char *const *argv);

#endif
