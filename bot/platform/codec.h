/* codec.h - the JSON and UTF-8 toolkit every platform's codec reads and writes with.
 *
 * A codec (slack_codec.c, mattermost_codec.c...) turns the bytes of one frame into a struct of
 * capped fields and a reply into bytes, with no I/O. These are the parts they share: parsing one
 * JSON object with its nesting capped, typed getters that copy into capped fields and say what
 * is wrong and where, UTF-8 repair, JSON string output, and a splitter that never cuts a
 * character. Every function that can fail returns 0 or a negative ERR_* code (err.h) and, where
 * it takes err, writes why into it. */
#ifndef PLANBOT_CODEC_H
#define PLANBOT_CODEC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Deeper than any chat platform's frame (Slack's rich_text blocks reach about 10), far below
 * cJSON's own limit. */
enum { JSON_DEPTH_MAX = 64 };

/* Writes the formatted message to err (when there is room for one) and returns rc. */
int codec_fail(char *err, size_t errlen, int rc, const char *fmt, ...) BUF_PRINTF(4, 5);

/* Parses the n bytes at s (need not be NUL-terminated), which must hold exactly one JSON object
 * (white space around it allowed) nesting at most JSON_DEPTH_MAX levels. Returns the tree
 * (caller frees with cJSON_Delete), or NULL with why in err ("not valid JSON at byte N",
 * "nested deeper than 64 levels at byte N", "more after the JSON value...", "not a JSON
 * object"). */
cJSON *codec_parse_object(const char *s, size_t n, char *err, size_t errlen);

/* The same for any one JSON value (an array, say), with the same caps and messages. */
cJSON *codec_parse_value(const char *s, size_t n, char *err, size_t errlen);

/* The member key of obj, or NULL when obj is NULL, the member is missing or it is JSON null. */
const cJSON *codec_member(const cJSON *obj, const char *key);

/* Copies the string member key of obj (named path in messages) into dst of size cap: "" when
 * it is missing. ERR_INVAL when it is not a string, does not fit, or holds a byte outside
 * printable ASCII (ids, timestamps and type names never do; this keeps them safe to log and
 * to use as keys). dst is only written on success. */
int codec_get_token(const cJSON *obj, const char *key, const char *path, char *dst, size_t cap,
                    char *err, size_t errlen);

/* Reads the number member key of obj into *out: 0 when missing. ERR_INVAL when it is not a
 * whole number from 0 to INT_MAX. */
int codec_get_count(const cJSON *obj, const char *key, const char *path, int *out, char *err,
                    size_t errlen);

/* Reads the boolean member key of obj into *out: 0 when missing. ERR_INVAL when not a boolean. */
int codec_get_bool(const cJSON *obj, const char *key, const char *path, int *out, char *err,
                   size_t errlen);

/* Sets *out to the object member key of obj: NULL when missing. ERR_INVAL when not an object. */
int codec_get_object(const cJSON *obj, const char *key, const char *path, const cJSON **out,
                     char *err, size_t errlen);

/* Copies the string member key of obj (named path; "" when missing) into *out, a new
 * NUL-terminated string with every invalid UTF-8 sequence replaced (caller frees), and its
 * length into *len: a message's text as every codec reads it. ERR_INVAL when it is not a string,
 * ERR_TOOBIG when it is over cap bytes once repaired, ERR_NOMEM; then *out is NULL. */
int codec_get_text(const cJSON *obj, const char *key, const char *path, size_t cap, char **out,
                   size_t *len, char *err, size_t errlen);

/* Appends n bytes of s with every invalid UTF-8 sequence replaced by one U+FFFD (per maximal
 * subpart). 0, or ERR_TOOBIG when out's cap is reached, ERR_NOMEM. */
int codec_append_utf8(struct buf *out, const char *s, size_t n);

/* Appends n bytes of s as a quoted JSON string: quotes, backslashes and control characters
 * escaped, invalid UTF-8 replaced by U+FFFD, any other character passed through as UTF-8. */
int codec_append_json_string(struct buf *out, const char *s, size_t n);

/* Puts out back to len bytes, undoing a failed series of appends. */
void codec_buf_cut(struct buf *out, size_t len);

/* The length of the first part of text when it is split into posts of at most max bytes: the
 * whole text when it fits, else the end of the last line (or, failing that, the last space, or
 * failing that the last UTF-8 character boundary) that fits. *next gets the offset where the
 * next part starts: after the newline or space it broke at, else at the returned length (len when
 * everything fits). Pure; never splits a UTF-8 character; returns > 0 for len > 0, so when max is
 * smaller than the first character that character alone is the part. */
size_t codec_split(const char *text, size_t len, size_t max, size_t *next);

/* Takes the emoji shortcodes (":flag-ua:", ":+1:", ":smile::skin-tone-2:") out of the len bytes
 * of text, in place, each replaced by a space: a colon, then up to 62 letters, digits, '_', '-'
 * or '+' with at least one letter (or a leading sign: ":+1:"), then a colon, not right after a
 * letter or digit (so "10:30" and "a:b:c" stay). Slack, Mattermost and Discord all write emoji so.
 * Returns the new length (never more than len); text stays NUL-terminated when it was. Pure. */
size_t codec_strip_shortcodes(char *text, size_t len);

/* A platform's mention, as its codec finds it at text[i] (codec_take_mentions()). */
struct codec_mention {
    size_t len;       /* its bytes; 0: no mention starts at i */
    int self;         /* it names planbot */
    const char *keep; /* what it becomes when it stays (someone else's, later in the text): */
    size_t keep_len;  /* keep_len bytes at keep, inside the mention, never more than len */
};

/* Finds the mention at text[i] (0 <= i < len): fills m, m->len 0 when there is none. */
typedef void (*codec_mention_fn)(const char *text, size_t len, size_t i, void *arg,
                                 struct codec_mention *m);

/* Takes the addressing out of a message, in place, with find telling mentions: the mentions that
 * start it (anyone's: they address it) come out with the white space, ',' and ':' after them;
 * planbot's own comes out anywhere; another's later in the text becomes its keep; white space at
 * both ends goes. *named says whether planbot's was among them. Returns the new length (never
 * more than len); text stays NUL-terminated when it was. Pure. */
size_t codec_take_mentions(char *text, size_t len, codec_mention_fn find, void *arg, int *named);

#endif
