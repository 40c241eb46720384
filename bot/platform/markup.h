/* markup.h - how a platform writes a reply: what it escapes so that nothing a question, an entry
 * or a command's output says turns into markup or notifies anyone, how it mentions a user, and
 * how long one post may be, in the unit the platform counts.
 *
 * Each adapter's codec defines its platform's table and names it in plat_ops.markup; the reply
 * formatter, the dispatcher and the outbox only ever see the table. markup_plain is the
 * terminal's. Everything here is pure. */
#ifndef PLANBOT_MARKUP_H
#define PLANBOT_MARKUP_H

#include <stddef.h>

#include "buf.h"

/* What a platform's post limit counts. */
enum markup_unit {
    MARKUP_BYTES, /* bytes of UTF-8 (IRC lines; Slack, kept to in bytes) */
    MARKUP_CHARS  /* Unicode code points (Mattermost's runes, Discord's characters) */
};

/* What a platform's escape puts for text[i]: a string that replaces that byte, or NULL to keep
 * it. quotes: a "> " that starts a line is the reply's own quote marker and stays one. */
typedef const char *(*markup_with_fn)(const char *text, size_t len, size_t i, int quotes);

struct markup {
    const char *name; /* for logs and tests: "slack", "mattermost", "plain" */
    /* How text is written so that it reads literally on the platform (markup_escape()): what
     * each byte becomes. NULL: text is copied as it is. */
    markup_with_fn with;
    const char *special; /* the only bytes with() may replace ("&<>"): the others are
                            copied without asking it. NULL: it is asked of every byte */
    /* Written as they are around the citation line of an answer ("Source: ..."): IRC's bold.
     * Only in a table with no escape (with NULL), where nothing could change them. NULL: none. */
    const char *cite_open, *cite_close;
    const char *mention_open;  /* a mention of a user is mention_open, the user's id, */
    const char *mention_close; /* then mention_close: "<@" and ">" on Slack. NULL: none */
    size_t post_max;           /* the longest post planbot sends, in unit; 0: no limit */
    enum markup_unit unit;
};

/* Appends text with each byte that with() names replaced, the runs between copied in one piece:
 * the loop every platform's escape is. with() is asked only of the bytes in special (a
 * NUL-terminated set; NULL: of every byte). Returns 0, or ERR_TOOBIG / ERR_NOMEM with out
 * unchanged. */
int markup_replace(const char *text, size_t len, int quotes, const char *special,
                   markup_with_fn with, struct buf *out);

/* Plain text: nothing escaped, no mentions, no limit. */
extern const struct markup markup_plain;

/* Appends text as m writes it (struct markup.with), quotes as there. Returns 0, or ERR_TOOBIG /
 * ERR_NOMEM with out unchanged. */
int markup_escape(const struct markup *m, const char *text, size_t len, int quotes,
                  struct buf *out);

/* Appends a mention of user. Returns 0, ERR_INVAL when the platform has no mentions, or
 * ERR_TOOBIG / ERR_NOMEM with out unchanged. */
int markup_mention(const struct markup *m, const char *user, struct buf *out);

/* How many of m's units the len bytes of UTF-8 at text are (a byte that starts no character
 * counts as one). */
size_t markup_length(const struct markup *m, const char *text, size_t len);

/* Splits a reply into posts of at most m->post_max units: the length in bytes of the first
 * part, with *next where the next part starts, cut as codec_split() cuts (at a line end, else a
 * space, else a character boundary). The outbox's splitter. */
size_t markup_split(const struct markup *m, const char *text, size_t len, size_t *next);

#endif
