/* irc_codec.c - IRC lines in and out, with no I/O (see irc_codec.h). */
#include "irc_codec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* ---- reading lines ---- */

struct irc_reader {
    char buf[IRC_READ_MAX]; /* the start of a line whose end has not come yet */
    size_t len;
    int skipping; /* the line under way is over the cap: skip to its end */
};

struct irc_reader *irc_reader_new(void)
{
    return calloc(1, sizeof(struct irc_reader));
}

void irc_reader_free(struct irc_reader *r)
{
    free(r);
}

void irc_reader_reset(struct irc_reader *r)
{
    r->len = 0;
    r->skipping = 0;
}

/* Hands a whole line to fn, its CR dropped; empty lines are not lines. */
static int hand(const char *line, size_t n, irc_line_fn fn, void *ctx)
{
    if (n && line[n - 1] == '\r')
        n--;
    return n ? fn(ctx, line, n) : 0;
}

int irc_reader_feed(struct irc_reader *r, const char *data, size_t n, irc_line_fn fn, void *ctx,
                    size_t *skipped)
{
    while (n) {
        const char *nl = memchr(data, '\n', n);
        size_t piece = nl ? (size_t)(nl - data) : n;
        if (r->skipping) {
            r->skipping = nl == NULL;
        } else if (r->len + piece >= IRC_READ_MAX) { /* over the cap: skip to its end */
            r->len = 0;
            r->skipping = nl == NULL;
            if (skipped)
                (*skipped)++;
        } else if (!nl) {
            memcpy(r->buf + r->len, data, piece);
            r->len += piece;
        } else if (r->len == 0) { /* a whole line in data: no copy */
            if (hand(data, piece, fn, ctx))
                return 1;
        } else {
            memcpy(r->buf + r->len, data, piece);
            size_t whole = r->len + piece;
            r->len = 0;
            if (hand(r->buf, whole, fn, ctx))
                return 1;
        }
        if (!nl)
            break;
        n -= piece + 1;
        data = nl + 1;
    }
    return 0;
}

/* ---- parsing a line ---- */

/* Unescapes an IRCv3 tag value (\: ; \s space, \\ \, \r, \n) into dst of cap bytes. Returns 0,
 * or ERR_TOOBIG. */
static int tag_value(const char *v, size_t n, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < n) {
            char e = v[++i];
            c = e == ':' ? ';' : e == 's' ? ' ' : e == 'r' ? '\r' : e == 'n' ? '\n' : e;
        } else if (c == '\\') {
            continue; /* a lone backslash at the end is dropped */
        }
        if (o + 1 >= cap)
            return ERR_TOOBIG;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

/* Reads the tags planbot uses from "k=v;k2;..." (n bytes). */
static int read_tags(const char *t, size_t n, struct irc_msg *out, char *err, size_t errlen)
{
    while (n) {
        const char *semi = memchr(t, ';', n);
        size_t one = semi ? (size_t)(semi - t) : n;
        const char *eq = memchr(t, '=', one);
        size_t klen = eq ? (size_t)(eq - t) : one;
        if (klen == 7 && memcmp(t, "account", 7) == 0 && eq &&
            tag_value(eq + 1, one - klen - 1, out->account, sizeof out->account)) {
            snprintf(err, errlen, "an account tag over %d bytes", IRC_NAME_MAX - 1);
            return ERR_INVAL;
        }
        t += one + (semi != NULL);
        n -= one + (semi != NULL);
    }
    return 0;
}

int irc_parse(const char *line, size_t len, struct irc_msg *out, char *err, size_t errlen)
{
    out->account[0] = out->source[0] = out->nick[0] = out->command[0] = '\0';
    out->nparams = 0;
    if (len >= sizeof out->line) {
        snprintf(err, errlen, "a line over %d bytes", IRC_READ_MAX - 1);
        return ERR_INVAL;
    }
    if (memchr(line, '\0', len)) {
        snprintf(err, errlen, "a NUL byte in the line");
        return ERR_INVAL;
    }
    memcpy(out->line, line, len);
    out->line[len] = '\0';
    char *p = out->line, *end = out->line + len;
    if (*p == '@') { /* tags */
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp) {
            snprintf(err, errlen, "tags and no command");
            return ERR_INVAL;
        }
        if (read_tags(p + 1, (size_t)(sp - p - 1), out, err, errlen))
            return ERR_INVAL;
        p = sp;
    }
    while (*p == ' ')
        p++;
    if (*p == ':') { /* source */
        char *sp = memchr(p, ' ', (size_t)(end - p));
        size_t n = sp ? (size_t)(sp - p - 1) : (size_t)(end - p - 1);
        if (n >= sizeof out->source) {
            snprintf(err, errlen, "a source over %d bytes", IRC_SOURCE_MAX - 1);
            return ERR_INVAL;
        }
        memcpy(out->source, p + 1, n);
        out->source[n] = '\0';
        size_t nick = strcspn(out->source, "!@");
        if (nick >= sizeof out->nick)
            nick = sizeof out->nick - 1;
        memcpy(out->nick, out->source, nick);
        out->nick[nick] = '\0';
        p = sp ? sp : end;
        while (*p == ' ')
            p++;
    }
    size_t clen = strcspn(p, " ");
    if (clen == 0) {
        snprintf(err, errlen, "no command");
        return ERR_INVAL;
    }
    if (clen >= sizeof out->command) {
        snprintf(err, errlen, "a command over %d bytes", IRC_COMMAND_MAX - 1);
        return ERR_INVAL;
    }
    for (size_t i = 0; i < clen; i++)
        out->command[i] = (char)toupper((unsigned char)p[i]);
    out->command[clen] = '\0';
    p += clen;
    while (p < end) {
        while (*p == ' ')
            p++;
        if (p >= end)
            break;
        if (*p == ':' || out->nparams == IRC_PARAMS_MAX - 1) { /* the trailing parameter */
            out->params[out->nparams++] = p + (*p == ':');
            break;
        }
        char *sp = strchr(p, ' ');
        out->params[out->nparams++] = p;
        if (!sp)
            break;
        *sp = '\0';
        p = sp + 1;
    }
    return 0;
}

/* ---- what a person wrote ---- */

size_t irc_strip_format(char *text, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == 0x03) { /* colour: up to two digits, optionally ",", up to two digits */
            size_t j = i + 1, d = 0;
            while (j < len && d < 2 && isdigit((unsigned char)text[j]))
                j++, d++;
            if (d && j + 1 < len && text[j] == ',' && isdigit((unsigned char)text[j + 1])) {
                j++;
                for (d = 0; j < len && d < 2 && isdigit((unsigned char)text[j]); d++)
                    j++;
            }
            i = j - 1;
        } else if (c == 0x04) { /* hex colour: six hex digits, optionally ",", six more */
            size_t j = i + 1, d = 0;
            while (j < len && d < 6 && isxdigit((unsigned char)text[j]))
                j++, d++;
            if (d == 6 && j + 1 < len && text[j] == ',' && isxdigit((unsigned char)text[j + 1])) {
                j++;
                for (d = 0; j < len && d < 6 && isxdigit((unsigned char)text[j]); d++)
                    j++;
            }
            i = j - 1;
        } else if (c == 0x02 || c == 0x1d || c == 0x1f || c == 0x1e || c == 0x11 || c == 0x16 ||
                   c == 0x0f) {
            continue;
        } else {
            text[o++] = (char)c;
        }
    }
    return o;
}

int irc_is_ctcp(const char *text, size_t len)
{
    return len >= 2 && text[0] == '\x01';
}

/* rfc1459 case mapping: []\~ are the upper case of {}|^. */
static int fold(int c)
{
    c = tolower(c);
    return c == '[' ? '{' : c == ']' ? '}' : c == '\\' ? '|' : c == '~' ? '^' : c;
}

static int name_eq_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
            return 0;
    return 1;
}

int irc_name_eq(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && name_eq_n(a, b, n);
}

int irc_addressed(const char *text, size_t len, const char *nick, const char *prefix, size_t *start)
{
    size_t i = 0;
    while (i < len && text[i] == ' ')
        i++;
    size_t n = strlen(nick), at;
    size_t plen = prefix ? strlen(prefix) : 0;
    if (n && len - i > n && name_eq_n(text + i, nick, n) &&
        (text[i + n] == ':' || text[i + n] == ',')) {
        at = i + n + 1;
    } else if (plen && len - i >= plen && memcmp(text + i, prefix, plen) == 0 &&
               (len - i == plen || text[i + plen] == ' ')) {
        at = i + plen;
    } else {
        return 0;
    }
    while (at < len && text[at] == ' ')
        at++;
    if (at == len)
        return 0; /* nothing asked */
    *start = at;
    return 1;
}

static int nick_char(int c, int first)
{
    return isalpha(c) || strchr("[]\\`_^{|}", c) || (!first && (isdigit(c) || c == '-'));
}

int irc_valid_nick(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IRC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!nick_char((unsigned char)s[i], i == 0))
            return 0;
    return 1;
}

int irc_valid_channel(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n >= 200 || (s[0] != '#' && s[0] != '&'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ',' || s[i] == 0x7f)
            return 0;
    return 1;
}

/* ---- writing lines ---- */

int irc_line(struct buf *out, const char *command, int nparams, const char *const *params)
{
    size_t mark = out->len, n = strlen(command);
    int rc = buf_append(out, command, n);
    for (int i = 0; !rc && i < nparams; i++) {
        const char *p = params[i];
        int last = i == nparams - 1;
        if (!last && (!*p || *p == ':' || strpbrk(p, " \r\n"))) {
            rc = ERR_INVAL;
            break;
        }
        rc = buf_append(out, last ? " :" : " ", last ? 2 : 1);
        size_t start = out->len;
        if (!rc)
            rc = buf_puts(out, p);
        for (size_t j = start; !rc && j < out->len; j++)
            if (out->data[j] == '\r' || out->data[j] == '\n' || out->data[j] == '\0')
                out->data[j] = ' ';
    }
    if (!rc)
        rc = buf_append(out, "\r\n", 2);
    if (!rc && out->len - mark > IRC_LINE_MAX)
        rc = ERR_TOOBIG;
    if (rc) {
        out->len = mark;
        if (out->data)
            out->data[mark] = '\0';
    }
    return rc;
}

size_t irc_text_room(const char *target, const char *nick, size_t user_host_len)
{
    /* ":" nick "!" user@host " PRIVMSG " target " :" text "\r\n" */
    size_t over = 1 + strlen(nick) + 1 + user_host_len + 9 + strlen(target) + 2 + 2;
    return over < IRC_LINE_MAX ? IRC_LINE_MAX - over : 0;
}

const struct markup irc_markup = { .name = "irc",
                                   .with = NULL,
                                   .mention_open = NULL,
                                   .mention_close = NULL,
                                   .post_max = IRC_LINE_MAX,
                                   .unit = MARKUP_BYTES };

const struct markup irc_markup_bold = { .name = "irc-bold",
                                        .with = NULL,
                                        .cite_open = "\x02",
                                        .cite_close = "\x02",
                                        .post_max = IRC_LINE_MAX,
                                        .unit = MARKUP_BYTES };

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int irc_sasl_plain(struct buf *out, const char *account, const char *password)
{
    /* authzid NUL authcid NUL password: the authorisation identity is the account itself */
    size_t a = strlen(account), p = strlen(password), n = a + 1 + a + 1 + p;
    if (n > 600)
        return ERR_TOOBIG;
    unsigned char raw[604];
    memcpy(raw, account, a);
    raw[a] = 0;
    memcpy(raw + a + 1, account, a);
    raw[2 * a + 1] = 0;
    memcpy(raw + 2 * a + 2, password, p);
    char enc[820];
    size_t e = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)raw[i] << 16 | (i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0) |
                     (i + 2 < n ? raw[i + 2] : 0);
        enc[e++] = b64[v >> 18 & 63];
        enc[e++] = b64[v >> 12 & 63];
        enc[e++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        enc[e++] = i + 2 < n ? b64[v & 63] : '=';
    }
    size_t mark = out->len;
    int rc = 0;
    for (size_t at = 0; !rc && at < e; at += 400) {
        size_t chunk = e - at < 400 ? e - at : 400;
        rc = buf_printf(out, "AUTHENTICATE %.*s\r\n", (int)chunk, enc + at);
    }
    if (!rc && e % 400 == 0)
        rc = buf_puts(out, "AUTHENTICATE +\r\n");
    memset(raw, 0, sizeof raw); /* the password */
    memset(enc, 0, sizeof enc);
    if (rc)
        out->len = mark;
    return rc;
}
