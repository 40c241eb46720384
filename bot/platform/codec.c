/* codec.c - the JSON and UTF-8 toolkit every platform's codec reads and writes with (see codec.h).
 *
 * Everything here handles bytes that came off the network, so it trusts nothing: the nesting
 * depth is checked before cJSON recurses, every string field is type-checked and copied into a
 * capped field, and text is repaired to valid UTF-8 before the rest of planbot sees it. */
#include "codec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD in UTF-8 */

/* Writes a message to err (when there is room for one) and returns rc. */
int codec_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- UTF-8 repair and JSON strings ---- */

/* The length of the invalid sequence at p, where utf8_decode found no character: the longest
 * prefix of a well-formed sequence, at least 1 byte, so that one U+FFFD replaces it (Unicode's
 * "maximal subpart" practice: a truncated "\xE2\x82" is one U+FFFD, not two). */
static size_t utf8_bad_len(const unsigned char *p, size_t n)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need;
    if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        need = 1;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        need = 2;
        if (p[0] == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (p[0] == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        need = 3;
        if (p[0] == 0xF0)
            lo = 0x90;
        else if (p[0] == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 1;
    }
    size_t i = 1;
    while (i <= need && i < n && p[i] >= lo && p[i] <= hi) {
        i++;
        lo = 0x80;
        hi = 0xBF;
    }
    return i;
}

/* Appends n bytes of s with every invalid UTF-8 sequence replaced by U+FFFD. */
int codec_append_utf8(struct buf *out, const char *s, size_t n)
{
    size_t i = 0, run = 0;
    int rc = 0;
    while (!rc && i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len) {
            i += len;
            continue;
        }
        rc = buf_append(out, s + run, i - run);
        if (!rc)
            rc = buf_puts(out, REPLACEMENT);
        i += utf8_bad_len((const unsigned char *)s + i, n - i);
        run = i;
    }
    if (!rc)
        rc = buf_append(out, s + run, i - run);
    return rc;
}

/* The bytes a JSON string holds as they are: printable ASCII but the quote and the backslash
 * (1), and those that start or continue a UTF-8 character, checked whole (2). */
static const unsigned char json_plain[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5B] = 1, /* '\\' is 0x5C */
    [0x5D ... 0x7F] = 1,
    [0x80 ... 0xFF] = 2,
};

/* Appends n bytes of s as a quoted JSON string: quotes, backslashes and control characters
 * escaped, invalid UTF-8 replaced by U+FFFD, any other character passed through as UTF-8. */

int codec_append_json_string(struct buf *out, const char *s, size_t n)
{
    int rc = buf_putc(out, '"');
    size_t i = 0, run = 0;
    while (!rc && i < n) {
        unsigned char c = (unsigned char)s[i];
        if (json_plain[c] == 1) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = c >= 0x80 ? utf8_decode(s + i, n - i, &cp) : 0;
        if (len) {
            i += len;
            continue;
        }
        rc = buf_append(out, s + run, i - run);
        if (rc)
            break;
        switch (c) {
        case '"': rc = buf_puts(out, "\\\""); break;
        case '\\': rc = buf_puts(out, "\\\\"); break;
        case '\n': rc = buf_puts(out, "\\n"); break;
        case '\r': rc = buf_puts(out, "\\r"); break;
        case '\t': rc = buf_puts(out, "\\t"); break;
        case '\b': rc = buf_puts(out, "\\b"); break;
        case '\f': rc = buf_puts(out, "\\f"); break;
        default:
            if (c < 0x20)
                rc = buf_printf(out, "\\u%04x", (unsigned)c);
            else
                rc = buf_puts(out, REPLACEMENT);
        }
        i += c >= 0x80 ? utf8_bad_len((const unsigned char *)s + i, n - i) : 1;
        run = i;
    }
    if (!rc)
        rc = buf_append(out, s + run, i - run);
    if (!rc)
        rc = buf_putc(out, '"');
    return rc;
}

/* Puts out back to len bytes, undoing a failed series of appends. */
void codec_buf_cut(struct buf *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

/* ---- reading JSON ---- */

/* Whether no array or object in the n bytes at s nests deeper than JSON_DEPTH_MAX; on 0 the
 * offset where it does goes to *at. Strings are skipped, the rest of the syntax is left to
 * cJSON: this only makes sure that cJSON never recurses deeply, whatever nesting limit the
 * installed library was built with. Most of a frame is string, so a string is skipped with
 * memchr() to its next quote, which ends it unless an odd run of backslashes comes before. */
static int depth_ok(const char *s, size_t n, size_t *at)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            for (;;) {
                const char *q = memchr(s + i + 1, '"', n - i - 1);
                if (!q)
                    return 1; /* an unterminated string: cJSON says where */
                i = (size_t)(q - s);
                size_t slashes = 0;
                while (q - slashes > s && q[-(ptrdiff_t)slashes - 1] == '\\')
                    slashes++;
                if (slashes % 2 == 0)
                    break;
            }
        } else if (c == '[' || c == '{') {
            if (++depth > JSON_DEPTH_MAX) {
                *at = i;
                return 0;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

/* Parses the n bytes at s, which must hold exactly one JSON object (white space around it
 * allowed). Returns the tree (caller frees with cJSON_Delete) or NULL with a message in err. */
cJSON *codec_parse_value(const char *s, size_t n, char *err, size_t errlen)
{
    size_t at = 0;
    if (!s || n == 0) {
        codec_fail(err, errlen, ERR_INVAL, "empty, not JSON");
        return NULL;
    }
    /* cJSON compares the first three bytes with a UTF-8 byte order mark even when fewer are
     * there; no JSON text that short starts with 0xEF. */
    if (n < 3 && (unsigned char)s[0] == 0xEF) {
        codec_fail(err, errlen, ERR_INVAL, "not valid JSON at byte 0");
        return NULL;
    }
    if (!depth_ok(s, n, &at)) {
        codec_fail(err, errlen, ERR_INVAL, "JSON nested deeper than %d levels at byte %zu",
                   JSON_DEPTH_MAX, at);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(s, n, &end, 0);
    if (!root) {
        at = end && end >= s ? (size_t)(end - s) : 0;
        codec_fail(err, errlen, ERR_INVAL, "not valid JSON at byte %zu", at);
        return NULL;
    }
    at = (size_t)(end - s);
    while (at < n && (s[at] == ' ' || s[at] == '\t' || s[at] == '\n' || s[at] == '\r'))
        at++;
    if (at < n) {
        cJSON_Delete(root);
        codec_fail(err, errlen, ERR_INVAL, "more after the JSON value at byte %zu", at);
        return NULL;
    }
    return root;
}

cJSON *codec_parse_object(const char *s, size_t n, char *err, size_t errlen)
{
    cJSON *root = codec_parse_value(s, n, err, errlen);
    if (root && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        codec_fail(err, errlen, ERR_INVAL, "not a JSON object");
        return NULL;
    }
    return root;
}

/* The member key of obj, or NULL when obj is NULL, the member is missing or it is JSON null. */
const cJSON *codec_member(const cJSON *obj, const char *key)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

/* Copies the string member key of obj (named path in messages) into dst of size cap: "" when
 * it is missing. ERR_INVAL when it is not a string, does not fit, or holds a byte outside
 * printable ASCII (Slack's ids, ts values and type names never do; this keeps them safe to log
 * and to use as keys). dst is only written on success. */
int codec_get_token(const cJSON *obj, const char *key, const char *path, char *dst, size_t cap,
                    char *err, size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    if (!v) {
        dst[0] = '\0';
        return 0;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a string", path);
    size_t len = strlen(v->valuestring);
    if (len >= cap)
        return codec_fail(err, errlen, ERR_INVAL, "%s is %zu bytes, longer than %zu", path, len,
                          cap - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];
        if (c <= 0x20 || c >= 0x7F)
            return codec_fail(err, errlen, ERR_INVAL, "%s holds byte 0x%02x at %zu", path, c, i);
    }
    memcpy(dst, v->valuestring, len + 1);
    return 0;
}

/* Reads the number member key of obj into *out: 0 when missing. ERR_INVAL when it is not a
 * whole number from 0 to INT_MAX. */
int codec_get_count(const cJSON *obj, const char *key, const char *path, int *out, char *err,
                    size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v))
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a number", path);
    double d = v->valuedouble;
    if (!(d >= 0 && d <= 2147483647.0) || d != (double)(int)d)
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a whole number from 0 up", path);
    *out = (int)d;
    return 0;
}

/* Reads the boolean member key of obj into *out: 0 when missing. ERR_INVAL when not a boolean. */
int codec_get_bool(const cJSON *obj, const char *key, const char *path, int *out, char *err,
                   size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsBool(v))
        return codec_fail(err, errlen, ERR_INVAL, "%s must be true or false", path);
    *out = cJSON_IsTrue(v);
    return 0;
}

/* Sets *out to the object member key of obj: NULL when missing. ERR_INVAL when not an object. */
int codec_get_object(const cJSON *obj, const char *key, const char *path, const cJSON **out,
                     char *err, size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return codec_fail(err, errlen, ERR_INVAL, "%s must be an object", path);
    *out = v;
    return 0;
}

int codec_get_text(const cJSON *obj, const char *key, const char *path, size_t cap, char **out,
                   size_t *len, char *err, size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    *out = NULL;
    *len = 0;
    if (v && (!cJSON_IsString(v) || !v->valuestring))
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a string", path);
    const char *s = v ? v->valuestring : "";
    struct buf b;
    buf_init(&b, cap);
    int rc = codec_append_utf8(&b, s, strlen(s));
    if (rc) {
        buf_free(&b);
        return rc == ERR_TOOBIG ? codec_fail(err, errlen, rc, "%s is over %zu bytes", path, cap)
                                : codec_fail(err, errlen, rc, "out of memory for %s", path);
    }
    *len = b.len;
    *out = buf_take(&b); /* "" when there was nothing */
    return *out ? 0 : codec_fail(err, errlen, ERR_NOMEM, "out of memory for %s", path);
}

/* ---- splitting ---- */

size_t codec_split(const char *text, size_t len, size_t max, size_t *next)
{
    if (len <= max) {
        *next = len;
        return len;
    }
    /* A newline or space at index i (1 <= i <= max) ends a part of i bytes. */
    static const char breaks[] = { '\n', ' ' };
    for (size_t b = 0; b < sizeof breaks; b++) {
        for (size_t i = max; i >= 1; i--) {
            if (text[i] == breaks[b]) {
                *next = i + 1;
                return i;
            }
        }
    }
    /* No break: cut before the character that starts at or before max. */
    size_t cut = max;
    for (int k = 0; cut > 0 && k < 3 && ((unsigned char)text[cut] & 0xC0) == 0x80; k++)
        cut--;
    if (((unsigned char)text[cut] & 0xC0) == 0x80)
        cut = max;  /* not UTF-8 here anyway */
    if (cut == 0) { /* max is smaller than the first character: take that character */
        cut = 1;
        while (cut < len && cut < 4 && ((unsigned char)text[cut] & 0xC0) == 0x80)
            cut++;
    }
    *next = cut;
    return cut;
}

/* The length of the shortcode ":name:" at s (s[0] == ':'), or 0 when there is none. */
static size_t shortcode(const char *s, size_t n)
{
    int letter = 0;
    size_t i = 1;
    for (; i < n && i < 64; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ':')
            break;
        if (isalpha(c))
            letter = 1;
        else if (!(isdigit(c) || c == '_' || c == '-' || c == '+'))
            return 0;
    }
    int sign = i > 2 && (s[1] == '+' || s[1] == '-'); /* :+1: :-1: */
    return i < n && s[i] == ':' && i > 1 && (letter || sign) ? i + 1 : 0;
}

size_t codec_strip_shortcodes(char *text, size_t len)
{
    size_t w = 0;
    for (size_t r = 0; r < len;) {
        size_t n;
        if (text[r] == ':' && (r == 0 || !isalnum((unsigned char)text[r - 1])) &&
            (n = shortcode(text + r, len - r)) > 0) {
            text[w++] = ' ';
            r += n;
            continue;
        }
        text[w++] = text[r++];
    }
    if (w < len)
        text[w] = '\0';
    return w;
}

size_t codec_take_mentions(char *text, size_t len, codec_mention_fn find, void *arg, int *named)
{
    size_t w = 0, r = 0;
    int leading = 1; /* nothing but mentions and what follows them so far */
    *named = 0;
    while (r < len) {
        struct codec_mention m = { 0, 0, NULL, 0 };
        find(text, len, r, arg, &m);
        if (m.len && (leading || m.self)) {
            *named |= m.self;
            r += m.len;
            while (leading && r < len &&
                   (isspace((unsigned char)text[r]) || text[r] == ',' || text[r] == ':'))
                r++;
            continue;
        }
        if (m.len) { /* someone else's, staying: its keep, never longer, moved into place */
            memmove(text + w, m.keep, m.keep_len);
            w += m.keep_len;
            r += m.len;
            continue;
        }
        if (leading && isspace((unsigned char)text[r])) {
            r++;
            continue;
        }
        leading = 0;
        text[w++] = text[r++];
    }
    while (w > 0 && isspace((unsigned char)text[w - 1]))
        w--;
    if (w < len)
        text[w] = '\0';
    return w;
}
