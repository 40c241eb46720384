/* input.h - reading lines from a file descriptor with a cap, for the console and `planbot ask`.
 * A line longer than the cap is skipped (and reported) rather than growing memory without bound;
 * NUL bytes are kept so that callers can refuse them with a clear message. */
#ifndef PLANBOT_INPUT_H
#define PLANBOT_INPUT_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"

struct input {
    int fd;
    volatile sig_atomic_t *stop; /* when set and a read is interrupted, input ends */
    char data[65536];
    size_t start, end;
    int eof;
};

void input_init(struct input *in, int fd, volatile sig_atomic_t *stop);

/* Reads the next line into line (without its end-of-line). Returns 1 for a line, 0 at the end of
 * input, ERR_TOOBIG when the line was longer than line's cap (it is skipped; line holds its
 * start), or ERR_IO. */
int input_line(struct input *in, struct buf *line);

#endif
