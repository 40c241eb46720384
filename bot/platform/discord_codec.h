/* discord_codec.h - Discord's wire format (Gateway v10, JSON encoding; REST v10), with no I/O:
 * Gateway frames in (Hello, Ready, MESSAGE_CREATE, Invalid Session...), Identify, Resume and
 * Heartbeat out, the REST answers planbot reads (GET /gateway/bot, a channel's messages, an
 * error) and the reply it posts; which close codes end the bot and which let it resume; and how
 * replies are written (Discord Markdown, escaped, with nothing that can ping anyone). The Discord
 * adapter (discord.c) only moves bytes and calls these; tests drive them with captured frames.
 * See ../shared/docs/protocols.md §3. */
#ifndef PLANBOT_DISCORD_CODEC_H
#define PLANBOT_DISCORD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "markup.h"

enum {
    DC_ID_MAX = 24,          /* a snowflake: up to 20 decimal digits, with NUL */
    DC_NAME_MAX = 128,       /* a username, with NUL */
    DC_SESSION_MAX = 128,    /* a session id, with NUL */
    DC_URL_MAX = 512,        /* a Gateway URL, with NUL */
    DC_TEXT_MAX = 64 * 1024, /* a message's content in bytes, after repair (Discord: 4,000
                                characters at most) */
    DC_POST_MAX = 2000,      /* the longest content planbot posts, in characters */
    DC_MESSAGES_MAX = 100,   /* messages read from one page of a channel's history */
    DC_RETRY_MAX_S = 3600    /* a retry_after beyond this is read as this */
};

/* Gateway opcodes (protocols.md §3.1). */
enum dc_op {
    DC_OP_DISPATCH = 0,
    DC_OP_HEARTBEAT = 1,
    DC_OP_IDENTIFY = 2,
    DC_OP_RESUME = 6,
    DC_OP_RECONNECT = 7,
    DC_OP_INVALID_SESSION = 9,
    DC_OP_HELLO = 10,
    DC_OP_HEARTBEAT_ACK = 11
};

/* The dispatches planbot reads; every other is DC_EV_OTHER (its seq still counts). */
enum dc_event { DC_EV_NONE, DC_EV_READY, DC_EV_RESUMED, DC_EV_MESSAGE_CREATE, DC_EV_OTHER };

/* Intents (Identify's bit set): planbot asks for guild and direct messages, and, unless told
 * not to, the privileged message content (which it does not strictly need: Discord leaves the
 * content of messages that mention the bot, and of direct messages, in place without it). */
enum {
    DC_INTENT_GUILDS = 1 << 0,
    DC_INTENT_GUILD_MESSAGES = 1 << 9,
    DC_INTENT_DIRECT_MESSAGES = 1 << 12,
    DC_INTENT_MESSAGE_CONTENT = 1 << 15
};

/* One message, from MESSAGE_CREATE or a channel's history. */
struct dc_message {
    char id[DC_ID_MAX];
    char channel_id[DC_ID_MAX];
    char guild_id[DC_ID_MAX]; /* "" in a direct message */
    char author_id[DC_ID_MAX];
    int author_bot;    /* author.bot */
    int webhook;       /* webhook_id is there */
    int type;          /* 0 default, 19 reply; the others are system messages */
    int mentions_self; /* the bot's id is in mentions[] */
    int has_role;      /* member.roles holds the role asked about */
    char *text;        /* content: UTF-8 repaired, NUL-terminated, never NULL; owned */
    size_t text_len;
};

/* What to look for while parsing a message: the bot's own id (for mentions) and a role id
 * (for moderators); either may be NULL or "". */
struct dc_lookfor {
    const char *self_id;
    const char *role_id;
};

struct dc_frame {
    int op;              /* enum dc_op, or another number (ignored) */
    int64_t seq;         /* s of a dispatch; -1 when absent */
    enum dc_event event; /* dispatches */
    char name[64];       /* t: the dispatch's name, for the log */
    int heartbeat_ms;    /* Hello */
    int resumable;       /* Invalid Session: d */
    /* Ready */
    char self_id[DC_ID_MAX], self_name[DC_NAME_MAX];
    char session_id[DC_SESSION_MAX], resume_url[DC_URL_MAX];
    struct dc_message msg; /* MESSAGE_CREATE */
};

/* Parses one Gateway text frame of len bytes. Returns 0 and fills f (free with dc_frame_free),
 * or an error with why in err: ERR_INVAL for not JSON, nesting over 64 levels, no op, a field
 * of the wrong type, an id that is not a snowflake, a Hello without a sane interval, a Ready
 * without user.id or session_id; ERR_TOOBIG for content over DC_TEXT_MAX; ERR_NOMEM. On error f
 * needs no freeing. */
int dc_frame_parse(const char *json, size_t len, const struct dc_lookfor *look, struct dc_frame *f,
                   char *err, size_t errlen);

/* Frees what a parse allocated in f, and zeroes it. Accepts a zeroed frame. */
void dc_frame_free(struct dc_frame *f);

/* Frees what a message holds, and zeroes it. */
void dc_message_free(struct dc_message *m);

/* Frees n messages from dc_messages_parse. Accepts NULL. */
void dc_messages_free(struct dc_message *list, size_t n);

/* GET /gateway/bot. */
struct dc_gateway {
    char url[DC_URL_MAX];   /* wss://gateway.discord.gg (ws:// for tests) */
    int remaining;          /* session starts left (-1: not said) */
    int64_t reset_after_ms; /* until they are given back */
};

/* Reads GET /gateway/bot. 0, or ERR_INVAL with why in err (no url, or not ws:// or wss://). */
int dc_gateway_parse(const char *json, size_t len, struct dc_gateway *g, char *err, size_t errlen);

/* Reads GET /channels/{id}/messages: the messages in *out (oldest first, whatever order they
 * came in; free with dc_messages_free), at most DC_MESSAGES_MAX. 0, or ERR_INVAL / ERR_TOOBIG /
 * ERR_NOMEM with why in err. */
int dc_messages_parse(const char *json, size_t len, const struct dc_lookfor *look,
                      struct dc_message **out, size_t *n, char *err, size_t errlen);

/* A REST error or rate-limit answer: {"code", "message", "retry_after", "global"}. */
struct dc_error {
    int code;           /* Discord's JSON error code (50035...); 0 when absent */
    char message[160];  /* printable ASCII only, for the log; "" when absent */
    double retry_after; /* seconds, capped at DC_RETRY_MAX_S; -1 when absent */
    int global;         /* the global rate limit */
};

/* Reads an error answer; never fails: what cannot be read stays absent. */
void dc_error_parse(const char *json, size_t len, struct dc_error *e);

/* Appends Identify: the token, the intents, the properties of a Linux bot named planbot. The
 * token is in it: never log the frame. 0, or ERR_TOOBIG / ERR_NOMEM with out unchanged. */
int dc_identify_frame(const char *token, unsigned intents, struct buf *out);

/* Appends Resume: token, session_id and the last seq seen. Never log it. */
int dc_resume_frame(const char *token, const char *session_id, int64_t seq, struct buf *out);

/* Appends a Heartbeat carrying the last seq seen (seq < 0: null). */
int dc_heartbeat_frame(int64_t seq, struct buf *out);

/* Appends the body of POST /channels/{id}/messages: content, a message_reference to the
 * question reply_to ("" or NULL: none) that does not fail when the question is gone, and
 * allowed_mentions that let nothing in it ping anyone, not even the person it answers. With a
 * question, part (its place in the reply, 0 to 999; -1: none) makes the nonce "REPLY_TO-PART" with
 * enforce_nonce, so that a post tried again after Discord made it (an answer lost) returns
 * the message made instead of a second one. Invalid UTF-8 becomes U+FFFD. 0, ERR_INVAL for a
 * part over 999, or ERR_TOOBIG / ERR_NOMEM with out unchanged. */
int dc_reply_body(const char *text, size_t len, const char *reply_to, int part, struct buf *out);

/* The URL to open for a Gateway base (GET /gateway/bot's url, or READY's
 * resume_gateway_url): base with "/" for a path when it has none and the query v=10 and
 * encoding=json added to any it has. 0, ERR_INVAL (not ws:// or wss://, a fragment), or
 * ERR_TOOBIG when cap is too small. Pure. */
int dc_socket_url(const char *base, char *out, size_t cap);

/* What a Gateway close code means (protocols.md §3.2). */
enum dc_close_verdict {
    DC_CLOSE_RESUME,   /* reconnect and resume the session */
    DC_CLOSE_IDENTIFY, /* reconnect with a new session (the server's 1000, 4003, 4005, 4007-4009) */
    DC_CLOSE_FATAL     /* never reconnect: *why says what to fix */
};

/* The verdict on close code (0: the connection was lost without one), with, for a fatal one,
 * what it means and what to do. */
enum dc_close_verdict dc_close_verdict(int code, const char **why);

/* Turns a message's content into the question, in place: the mentions that start it (anyone's:
 * they address it) come out with the ',' or ':' and white space after them; the bot's own
 * (<@id> or the older <@!id>) comes out anywhere, as do custom emoji (<:name:id>, <a:name:id>)
 * and emoji shortcodes; another user's, a role's or a channel's mention later in the text goes.
 * *named says whether the bot's was among them. Returns the new length; text stays
 * NUL-terminated when it was. Pure. */
size_t dc_text_plain(char *text, size_t len, const char *self_id, int *named);

/* Whether s is a snowflake: 1 to 20 decimal digits. */
int dc_is_snowflake(const char *s);

/* Compares two snowflakes as the numbers they are: <0, 0, >0. */
int dc_snowflake_cmp(const char *a, const char *b);

/* How replies are written for Discord (markup.h): its Markdown with every character that could
 * start formatting, a link, a mention, a heading, a list or a quote escaped with a backslash
 * ('@' gets a zero-width space after it, so that @everyone and @here stay text even where a
 * backslash would not hold); mentions are <@id>; posts of at most DC_POST_MAX characters. */
extern const struct markup dc_markup;

#endif
