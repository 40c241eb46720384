/* markup.c - what every platform's markup table shares (see markup.h). */
#include "markup.h"

#include <string.h>

#include "codec.h"
#include "err.h"

const struct markup markup_plain = { .name = "plain", .unit = MARKUP_BYTES };

int markup_escape(const struct markup *m, const char *text, size_t len, int quotes, struct buf *out)
{
    if (m->with)
        return markup_replace(text, len, quotes, m->special, m->with, out);
    return buf_append(out, text, len);
}

int markup_replace(const char *text, size_t len, int quotes, const char *special,
                   markup_with_fn with, struct buf *out)
{
    unsigned char ask[256]; /* the bytes to ask with() about */
    memset(ask, special ? 0 : 1, sizeof ask);
    for (const char *c = special; c && *c; c++)
        ask[(unsigned char)*c] = 1;
    size_t start = out->len, run = 0; /* text[run..i) is kept: appended in one piece */
    int rc = 0;
    for (size_t i = 0; i < len && !rc; i++) {
        if (!ask[(unsigned char)text[i]])
            continue;
        const char *put = with(text, len, i, quotes);
        if (!put)
            continue;
        rc = buf_append(out, text + run, i - run);
        if (!rc)
            rc = buf_puts(out, put);
        run = i + 1;
    }
    if (!rc)
        rc = buf_append(out, text + run, len - run);
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

int markup_mention(const struct markup *m, const char *user, struct buf *out)
{
    if (!m->mention_open || !m->mention_close)
        return ERR_INVAL;
    size_t start = out->len;
    int rc = buf_puts(out, m->mention_open);
    if (!rc)
        rc = buf_puts(out, user);
    if (!rc)
        rc = buf_puts(out, m->mention_close);
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

size_t markup_length(const struct markup *m, const char *text, size_t len)
{
    if (m->unit == MARKUP_BYTES)
        return len;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)text[i] & 0xC0) != 0x80;
    return n;
}

/* The bytes at text that hold at most max of m's units. */
static size_t budget(const struct markup *m, const char *text, size_t len, size_t max)
{
    if (m->unit == MARKUP_BYTES)
        return max;
    size_t units = 0, i = 0;
    for (; i < len; i++) {
        if (((unsigned char)text[i] & 0xC0) != 0x80 && units++ == max)
            break;
    }
    return i;
}

size_t markup_split(const struct markup *m, const char *text, size_t len, size_t *next)
{
    if (m->post_max == 0) {
        *next = len;
        return len;
    }
    return codec_split(text, len, budget(m, text, len, m->post_max), next);
}
