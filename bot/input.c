/* input.c - capped line reading (see input.h). */
#include "input.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

void input_init(struct input *in, int fd, volatile sig_atomic_t *stop)
{
    memset(in, 0, sizeof *in);
    in->fd = fd;
    in->stop = stop;
}

/* Refills the buffer; returns bytes read, 0 at end, -1 on error. */
static ssize_t fill(struct input *in)
{
    for (;;) {
        ssize_t n = read(in->fd, in->data, sizeof in->data);
        if (n >= 0) {
            in->start = 0;
            in->end = (size_t)n;
            return n;
        }
        if (errno != EINTR)
            return -1;
        if (in->stop && *in->stop)
            return 0;
    }
}

int input_line(struct input *in, struct buf *line)
{
    buf_reset(line);
    int too_long = 0, any = 0;
    for (;;) {
        if (in->start == in->end) {
            if (in->eof)
                break;
            ssize_t n = fill(in);
            if (n < 0)
                return ERR_IO;
            if (n == 0) {
                in->eof = 1;
                break;
            }
        }
        any = 1;
        char *p = in->data + in->start;
        size_t avail = in->end - in->start;
        char *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (!too_long && buf_append(line, p, take) == ERR_TOOBIG)
            too_long = 1;
        in->start += take + (nl != NULL);
        if (nl)
            break;
    }
    if (!any)
        return 0;
    if (line->len && line->data[line->len - 1] == '\r')
        line->data[--line->len] = '\0';
    return too_long ? ERR_TOOBIG : 1;
}
