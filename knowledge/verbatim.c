/* verbatim.c - tolerant substring search that reports spans of the original text. */
#include "verbatim.h"

#include <stdint.h>

#include "utf8.h"

static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0 || c == 0x202F;
}

/* Reads the folded character at s[*i] and advances *i past it (a run of spaces is one). */
static uint32_t fold_next(const char *s, size_t n, size_t *i)
{
    uint32_t c;
    size_t len = utf8_decode(s + *i, n - *i, &c);
    if (len == 0) {
        c = (unsigned char)s[*i] | 0x80000000u; /* a stray byte matches only itself */
        len = 1;
    }
    *i += len;
    if (is_space(c)) {
        while (*i < n) {
            uint32_t d;
            size_t l = utf8_decode(s + *i, n - *i, &d);
            if (!l || !is_space(d))
                break;
            *i += l;
        }
        return ' ';
    }
    switch (c) {
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x2032: return '\'';
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x2033: return '"';
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014: return '-';
    }
    return c;
}

int verbatim_find(const char *hay, size_t hay_len, const char *needle, size_t needle_len,
                  size_t *off, size_t *len)
{
    size_t nb = 0, ne = needle_len;
    while (nb < ne &&
           (needle[nb] == ' ' || needle[nb] == '\t' || needle[nb] == '\n' || needle[nb] == '\r'))
        nb++;
    while (ne > nb && (needle[ne - 1] == ' ' || needle[ne - 1] == '\t' || needle[ne - 1] == '\n' ||
                       needle[ne - 1] == '\r'))
        ne--;
    if (nb == ne)
        return 0;
    size_t first_i = nb;
    uint32_t first = fold_next(needle, ne, &first_i);
    for (size_t start = 0; start < hay_len;) {
        size_t h = start;
        uint32_t c = fold_next(hay, hay_len, &h);
        size_t next = h;
        if (c == first) {
            size_t k = first_i;
            while (k < ne && h < hay_len) {
                size_t h2 = h, k2 = k;
                if (fold_next(hay, hay_len, &h2) != fold_next(needle, ne, &k2))
                    break;
                h = h2;
                k = k2;
            }
            if (k == ne) {
                *off = start;
                *len = h - start;
                return 1;
            }
        }
        start = next;
    }
    return 0;
}
