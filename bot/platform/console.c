/* console.c - the console adapter: a chat in the terminal, so anyone can try planbot without a
 * chat platform. The person at the terminal is a moderator, as they own the database file anyway.
 * A line ending in a backslash continues on the next line (for kb add with "field: value" lines).
 */
#include "plat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "input.h"

enum { MAX_MESSAGE = 64 * 1024 };

struct plat {
    struct plat_host host;
    int tty;       /* stdin is a terminal: show a banner and prompts */
    char user[64]; /* the login name */
};

static int console_open(struct plat **out, const struct plat_host *host, char *err, size_t errlen)
{
    struct plat *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return ERR_NOMEM;
    }
    p->host = *host;
    p->tty = isatty(STDIN_FILENO);
    const char *user = getenv("USER");
    snprintf(p->user, sizeof p->user, "%s", user && *user ? user : "console");
    *out = p;
    return 0;
}

/* Reads one message: a line, joined with the next while it ends in a backslash. */
static int read_message(struct plat *p, struct input *in, struct buf *msg, struct buf *line)
{
    buf_reset(msg);
    for (int first = 1;; first = 0) {
        if (p->tty) {
            fputs(first ? "you> " : "...> ", stdout);
            fflush(stdout);
        }
        int rc = input_line(in, line);
        if (rc <= 0)
            return rc == 0 && !first ? 1 : rc;
        int more = line->len && line->data[line->len - 1] == '\\';
        if (buf_append(msg, line->data, line->len - (size_t)more) || (more && buf_putc(msg, '\n')))
            return ERR_TOOBIG;
        if (!more)
            return 1;
    }
}

static int console_run(struct plat *p, volatile sig_atomic_t *stop)
{
    struct input *in = malloc(sizeof *in);
    struct buf msg, line;
    if (!in)
        return ERR_NOMEM;
    input_init(in, STDIN_FILENO, stop);
    buf_init(&msg, MAX_MESSAGE);
    buf_init(&line, MAX_MESSAGE);
    if (p->tty)
        printf("planbot: ask me about the draft 28-point peace plan for Ukraine.\n"
               "Type a question, \"help\" for the commands, Ctrl-D to leave.\n");
    int rc;
    while (!*stop) {
        rc = read_message(p, in, &msg, &line);
        if (rc == 0 || *stop)
            break;
        if (rc == ERR_TOOBIG) {
            printf("That message is too long (at most %d bytes); nothing was done.\n\n",
                   MAX_MESSAGE);
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "planbot: reading the terminal failed\n");
            break;
        }
        struct plat_message m = {
            p->user, "console", "", buf_str(&msg), msg.len, 1, 1, 0, 0, NULL
        };
        p->host.on_message(p->host.ctx, p, &m);
    }
    if (p->tty)
        putchar('\n');
    buf_free(&msg);
    buf_free(&line);
    free(in);
    return 0;
}

/* Replies are printed at once: the terminal needs no queue. */
static int console_send(struct plat *p, const struct plat_message *msg, const char *text,
                        size_t len)
{
    (void)p;
    (void)msg;
    while (len && text[len - 1] == '\n')
        len--; /* one blank line after each reply */
    if (len) {
        fwrite(text, 1, len, stdout);
        fputs("\n\n", stdout);
    }
    fflush(stdout);
    return 0;
}

static void console_close(struct plat *p)
{
    free(p);
}

const struct plat_ops plat_console = {
    .name = "console",
    .description = "a chat in this terminal (the default)",
    .markup = &markup_plain,
    .open = console_open,
    .run = console_run,
    .send = console_send,
    .close = console_close,
};
