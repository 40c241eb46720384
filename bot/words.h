/* words.h - splitting a command line typed in a chat or a terminal into words.
 *
 * Quotes group words as a shell does: "a b" and 'a b' are one word and a backslash escapes the
 * next character. Curly quotes count too, because phones type them. Pure function, no I/O. */
#ifndef PLANBOT_WORDS_H
#define PLANBOT_WORDS_H

#include <stddef.h>

struct words {
    char **v; /* NULL-terminated, n words; point into store */
    int n;
    char *store; /* owned */
};

/* Splits text[0..len) into at most max words. Returns 0, ERR_INVAL for an unclosed quote (the
 * message in err), ERR_TOOBIG for more than max words, or ERR_NOMEM. Free with words_free(). */
int words_split(const char *text, size_t len, int max, struct words *out, char *err, size_t errlen);

/* Frees the words. Accepts a zeroed struct. */
void words_free(struct words *w);

#endif
