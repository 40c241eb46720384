/* words.c - shell-like splitting of a command line (see words.h). */
#include "words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* Length of an opening or closing quote at s, and which kind ('"' or '\''), or 0. */
static size_t quote_at(const char *s, size_t n, char *kind)
{
    if (s[0] == '"' || s[0] == '\'') {
        *kind = s[0];
        return 1;
    }
    /* U+201C/U+201D and U+2018/U+2019 are E2 80 9C/9D and E2 80 98/99 */
    if (n >= 3 && (unsigned char)s[0] == 0xE2 && (unsigned char)s[1] == 0x80) {
        unsigned char c = (unsigned char)s[2];
        if (c == 0x9C || c == 0x9D) {
            *kind = '"';
            return 3;
        }
        if (c == 0x98 || c == 0x99) {
            *kind = '\'';
            return 3;
        }
    }
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int words_split(const char *text, size_t len, int max, struct words *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->store = malloc(len + 1);
    out->v = calloc((size_t)max + 1, sizeof *out->v);
    if (!out->store || !out->v) {
        words_free(out);
        return ERR_NOMEM;
    }
    char *w = out->store;
    size_t i = 0;
    for (;;) {
        while (i < len && is_space(text[i]))
            i++;
        if (i >= len)
            break;
        if (out->n == max) {
            snprintf(err, errlen, "too many words (at most %d)", max);
            words_free(out);
            return ERR_TOOBIG;
        }
        out->v[out->n++] = w;
        char open = 0, kind;
        while (i < len && (open || !is_space(text[i]))) {
            size_t q = quote_at(text + i, len - i, &kind);
            if (q && (!open || kind == open)) {
                /* an apostrophe inside a word (don't) is not a quote */
                int inside_word = !open && kind == '\'' && i > 0 && !is_space(text[i - 1]) &&
                                  i + q < len && !is_space(text[i + q]);
                if (!inside_word) {
                    open = open ? 0 : kind;
                    i += q;
                    continue;
                }
            }
            if (text[i] == '\\' && i + 1 < len && open != '\'') {
                i++;
            }
            *w++ = text[i++];
        }
        if (open) {
            snprintf(err, errlen, "a quote (%c) is not closed", open);
            words_free(out);
            return ERR_INVAL;
        }
        *w++ = '\0';
    }
    return 0;
}

void words_free(struct words *w)
{
    free(w->store);
    free(w->v);
    memset(w, 0, sizeof *w);
}
