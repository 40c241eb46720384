/* utf8.h - the little UTF-8 that planbot needs: validation and decoding one code point. */
#ifndef PLANBOT_UTF8_H
#define PLANBOT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the code point at s (n bytes available). Returns its length in bytes (1 to 4) and the
 * code point in *cp, or 0 when the bytes there are not valid UTF-8 (overlong forms, surrogates and
 * values above U+10FFFF included), with *cp set to U+FFFD. */
size_t utf8_decode(const char *s, size_t n, uint32_t *cp);

/* Returns 1 when the n bytes at s are valid UTF-8 without NUL bytes, 0 otherwise; on 0 the
 * offset of the first bad byte goes to *bad when bad is not NULL. */
int utf8_valid(const char *s, size_t n, size_t *bad);

#endif
