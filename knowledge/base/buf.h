/* buf.h - a growable byte buffer with a hard cap fixed when it is made.
 *
 * Everything that grows from outside input (questions, files, replies) is built in a buf, so
 * exceeding a limit is an ERR_TOOBIG error instead of unbounded growth or silent truncation.
 * The contents are always NUL-terminated. */
#ifndef PLANBOT_BUF_H
#define PLANBOT_BUF_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__)
#define BUF_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BUF_PRINTF(f, a)
#endif

struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used, not counting the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the most len may ever be */
};

/* Starts an empty buffer that may hold up to max bytes. No allocation happens yet. */
void buf_init(struct buf *b, size_t max);

/* Frees the contents and leaves b empty and reusable with the same cap. Accepts NULL. */
void buf_free(struct buf *b);

/* Empties b but keeps its memory. */
void buf_reset(struct buf *b);

/* Appends n bytes. Returns 0, ERR_TOOBIG past the cap (b unchanged) or ERR_NOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. Same returns as buf_append(). */
int buf_puts(struct buf *b, const char *s);

/* Appends one byte. Same returns as buf_append(). */
int buf_putc(struct buf *b, char c);

/* Appends formatted text. Same returns as buf_append(). */
int buf_printf(struct buf *b, const char *fmt, ...) BUF_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) BUF_PRINTF(2, 0);

/* The contents as a C string: "" when empty; borrowed, valid until the next change to b. */
const char *buf_str(const struct buf *b);

/* Hands the contents to the caller, who frees them with free(); b is left empty. NULL on ERR_NOMEM.
 */
char *buf_take(struct buf *b);

#endif
