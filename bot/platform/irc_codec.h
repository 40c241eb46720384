/* irc_codec.h - IRC lines in and out, with no I/O (RFC 1459 / 2812 framing, IRCv3 message tags).
 *
 * The reader takes the bytes a connection received, in any pieces, and hands back whole lines
 * (hiredis's reader, for IRC): each line is capped, so a peer that never ends one costs a fixed
 * buffer, and the rest of that line is skipped. irc_parse() splits a line into its tags (only
 * those planbot uses), source, command and parameters. The helpers below read what a person
 * wrote (formatting codes stripped, CTCP recognised, "planbot: question" found) and write what
 * planbot sends, each line under the server's limit and never cutting a UTF-8 character. */
#ifndef PLANBOT_IRC_CODEC_H
#define PLANBOT_IRC_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "markup.h"

enum {
    IRC_LINE_MAX = 512,  /* a line without tags, CR LF included (RFC 1459) */
    IRC_TAGS_MAX = 8191, /* the tags of a line, '@' and the space included (IRCv3) */
    IRC_READ_MAX = IRC_LINE_MAX + IRC_TAGS_MAX + 1, /* a whole line as the reader keeps it */
    IRC_PARAMS_MAX = 15,
    IRC_NAME_MAX = 64,    /* a nick, an account name */
    IRC_SOURCE_MAX = 256, /* nick!user@host */
    IRC_COMMAND_MAX = 32
};

/* ---- reading lines ---- */

struct irc_reader; /* a capped buffer of bytes received */

/* A new reader. NULL when out of memory. Caller frees with irc_reader_free(). */
struct irc_reader *irc_reader_new(void);
void irc_reader_free(struct irc_reader *r);

/* Gets one whole line (without its CR LF or LF; never empty), borrowed for the call. Returns 0
 * to go on, nonzero to stop reading (the connection is being dropped). */
typedef int (*irc_line_fn)(void *ctx, const char *line, size_t len);

/* Takes n received bytes, handing each line they complete to fn; a line over IRC_READ_MAX bytes
 * is skipped up to its end and counted in *skipped (NULL: not counted). Returns 0, or 1 when fn
 * stopped it (the rest of data is not read). */
int irc_reader_feed(struct irc_reader *r, const char *data, size_t n, irc_line_fn fn, void *ctx,
                    size_t *skipped);

/* Forgets a partial line (a new connection). */
void irc_reader_reset(struct irc_reader *r);

/* ---- parsing a line ---- */

struct irc_msg {
    char account[IRC_NAME_MAX];    /* the account-tag ("": none, or the user is not logged in) */
    char source[IRC_SOURCE_MAX];   /* the whole source ("": none) */
    char nick[IRC_NAME_MAX];       /* the source's nick (or server name) */
    char command[IRC_COMMAND_MAX]; /* upper-cased; a numeric stays "001" */
    int nparams;
    const char *params[IRC_PARAMS_MAX]; /* into the message's own copy; the last may hold
                                           spaces (the trailing parameter) */
    char line[IRC_READ_MAX];            /* the copy the parameters point into */
};

/* Parses one line (without CR LF). Returns 0, or ERR_INVAL with why in err: no command, a
 * source or command too long, a NUL byte. Pure. */
int irc_parse(const char *line, size_t len, struct irc_msg *out, char *err, size_t errlen);

/* ---- what a person wrote ---- */

/* Removes mIRC formatting (bold, italics, underline, strike, monospace, reverse, reset, and
 * colours with their "fg,bg" numbers or hex codes) in place; returns the new length. */
size_t irc_strip_format(char *text, size_t len);

/* Whether text is a CTCP request ("\x01VERSION\x01", "\x01ACTION waves\x01"). */
int irc_is_ctcp(const char *text, size_t len);

/* Whether a channel message is addressed to nick ("nick: q", "nick, q", "nick:q"; nick compared
 * as IRC compares nicks, case-insensitively) or starts with prefix ("!ask q"; NULL or "": no
 * prefix), with something after it: then returns 1 and *start, where the question begins (spaces
 * skipped). Pure. */
int irc_addressed(const char *text, size_t len, const char *nick, const char *prefix,
                  size_t *start);

/* Whether two nicks (or channel names) are the same under the rfc1459 case mapping. */
int irc_name_eq(const char *a, const char *b);

/* Whether s can be a nick planbot uses: 1 to IRC_NAME_MAX-1 bytes, a letter or one of
 * "[]\`_^{|}" first, then those, digits or '-'. */
int irc_valid_nick(const char *s);

/* Whether s can be a channel name: '#' or '&' first, no space, comma, BEL or control byte. */
int irc_valid_channel(const char *s);

/* ---- writing lines ---- */

/* Appends "COMMAND params..." and CR LF: each of params but the last must be a non-empty word
 * (no space, no CR or LF, no leading ':'); the last goes after " :" and may hold spaces. A CR or
 * LF in the last is written as a space. Returns 0, ERR_INVAL for a bad middle parameter, ERR_TOOBIG
 * when the line would pass IRC_LINE_MAX bytes, ERR_NOMEM. */
int irc_line(struct buf *out, const char *command, int nparams, const char *const *params);

/* The bytes of text that a PRIVMSG to target may carry when the server relays it with planbot's
 * source nick!user@host (those not known yet: at their longest), so that the relayed line stays
 * under IRC_LINE_MAX. */
size_t irc_text_room(const char *target, const char *nick, size_t user_host_len);

/* How replies are written on IRC: no escaping (IRC has no markup to escape), no mentions, posts
 * cut at IRC_LINE_MAX bytes; the adapter cuts them shorter for each target. */
extern const struct markup irc_markup;

/* The same, with the citation of an answer in bold (irc.bold_citations): ^B before its line and
 * after it, so that a client shows "Source: ..." bold and nothing else changes. */
extern const struct markup irc_markup_bold;

/* Appends the SASL PLAIN response for account and password, base64-encoded, as AUTHENTICATE
 * lines: chunks of 400 characters, with "AUTHENTICATE +" after a last chunk of exactly 400.
 * Returns 0, ERR_TOOBIG or ERR_NOMEM. */
int irc_sasl_plain(struct buf *out, const char *account, const char *password);

#endif
