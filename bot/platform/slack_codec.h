/* slack_codec.h - Slack's wire format, with no I/O: Socket Mode frames in, acknowledgements and
 * Web API bodies out, and the answers of the Web API methods planbot calls. The Slack adapter
 * (slack.c) only moves bytes and calls these; tests drive them with captured frames.
 * See ../shared/docs/protocols.md §1. */
#ifndef PLANBOT_SLACK_CODEC_H
#define PLANBOT_SLACK_CODEC_H

#include <stddef.h>

#include "buf.h"
#include "markup.h"

enum slack_frame_type {
    SLACK_FRAME_HELLO,      /* the first frame on a new socket */
    SLACK_FRAME_DISCONNECT, /* reason in .reason */
    SLACK_FRAME_EVENT,      /* an events_api envelope with an event_callback payload */
    SLACK_FRAME_ENVELOPE,   /* another envelope (slash_commands, interactive...): ack only */
    SLACK_FRAME_OTHER       /* valid JSON planbot has no use for (no envelope_id) */
};

/* Capped sizes (including the terminating NUL) of the identifiers; longer ones make the frame
 * invalid (ERR_INVAL). */
enum {
    SLACK_ID_MAX = 128,          /* envelope, event, user, bot, channel ids; ts values */
    SLACK_TEXT_MAX = 256 * 1024, /* a message's text in bytes, after JSON decoding and U+FFFD
                                    repair, before slack_text_plain */
};

/* One frame from the Socket Mode WebSocket. */
struct slack_frame {
    enum slack_frame_type type;
    char envelope_id[SLACK_ID_MAX]; /* "" when the frame has none; when not "", ack the frame */
    char reason[64];                /* disconnect: warning, refresh_requested, link_disabled... */
    int num_connections;            /* hello */
    int connection_time;            /* hello: approximate_connection_time in seconds, or 0 */
    int retry_attempt;              /* envelopes: 0 on first delivery */
    /* SLACK_FRAME_EVENT only: */
    char event_id[SLACK_ID_MAX];  /* payload.event_id, or "<channel>:<ts>": dedup key */
    char event_type[64];          /* event.type: app_mention, message, ... */
    char subtype[64];             /* event.subtype, "" when none */
    char channel_type[16];        /* event.channel_type: channel, group, im, mpim, app_home */
    char user[SLACK_ID_MAX];      /* event.user */
    char bot_id[SLACK_ID_MAX];    /* event.bot_id, "" when a person wrote it */
    char channel[SLACK_ID_MAX];   /* event.channel */
    char ts[SLACK_ID_MAX];        /* event.ts */
    char thread_ts[SLACK_ID_MAX]; /* event.thread_ts, "" outside threads */
    int hidden;                   /* event.hidden */
    char *text;                   /* event.text as plain text (slack_text_plain), NUL-terminated,
                                     never NULL for SLACK_FRAME_EVENT; owned */
    size_t text_len;              /* bytes in text */
};

/* Parses one text frame of len bytes (json need not be NUL-terminated). Returns 0 and fills f
 * (free with slack_frame_free), or an error with what is wrong in err (when err is not NULL):
 * ERR_INVAL for not JSON, not an object, nesting deeper than 64 levels, a field of the wrong type,
 * an id over its cap or with bytes outside printable ASCII; ERR_TOOBIG for a text over
 * SLACK_TEXT_MAX; ERR_NOMEM. On error f needs no freeing and is zeroed, except that envelope_id
 * still holds the frame's envelope id when that one was valid, so the adapter can ack a bad
 * envelope and Slack does not redeliver it three times.
 *
 * hello and disconnect are told by "type"; any other frame with an envelope_id is an envelope,
 * SLACK_FRAME_EVENT when it is "events_api" with payload.type "event_callback" and an object
 * payload.event. A missing field, or JSON null, reads as "" (or 0). The message fields (subtype to
 * text) are read only for app_mention and message events: other events (team_join,
 * channel_created...) have objects where messages have strings, and keep just event_id and
 * event_type. An event without payload.event_id gets "<channel>:<ts>" instead, so deduplication
 * still works. Invalid UTF-8 in the text becomes U+FFFD. */
int slack_frame_parse(const char *json, size_t len, struct slack_frame *f, char *err,
                      size_t errlen);

/* Frees what slack_frame_parse allocated and zeroes f. Accepts a zeroed frame. */
void slack_frame_free(struct slack_frame *f);

/* Appends the acknowledgement of an envelope: {"envelope_id":"..."}. Returns 0, ERR_INVAL for a
 * NULL id, or ERR_TOOBIG / ERR_NOMEM with out unchanged. */
int slack_ack(const char *envelope_id, struct buf *out);

/* What planbot does with an event. */
enum slack_verdict {
    SLACK_ANSWER,         /* a person asked planbot: answer it */
    SLACK_IGNORE_SELF,    /* planbot's own message */
    SLACK_IGNORE_BOT,     /* another bot's message (bot_id, or subtype bot_message) */
    SLACK_IGNORE_SUBTYPE, /* an edit, a join, a deletion...: any subtype, or hidden */
    SLACK_IGNORE_CHANNEL, /* a plain message in a channel: only mentions are answered there */
    SLACK_IGNORE_KIND     /* another event type */
};

/* Decides what to do with an event frame, given planbot's own user id and bot id (from
 * auth.test; NULL or "" match nothing). app_mention is answered anywhere; message only in a
 * direct message (channel_type "im"). Checks, first match wins: not an app_mention or message
 * event (IGNORE_KIND); own user or bot id (SELF); another bot (BOT); any subtype or hidden
 * (SUBTYPE); no user id (KIND: nobody to answer, rate-limit or check a role for); a message
 * outside an im (CHANNEL). Sets *direct (when not NULL) to 1 for an answer in channel_type "im",
 * else 0; a group DM (mpim) is not direct, since other people read the answer. Pure. */
enum slack_verdict slack_verdict(const struct slack_frame *f, const char *self_user,
                                 const char *self_bot, int *direct);

/* Names a verdict for logs ("own message", "bot message"...). */
const char *slack_verdict_str(enum slack_verdict v);

/* Turns Slack message text into plain text in place: <@U1> and <@U1|name> stay "<@U1>" (the
 * dispatcher strips leading mentions), <#C1|general> becomes "#general" (<#C1> "#C1"), <!here>
 * <!channel> <!everyone> "@here"..., <!subteam^S1|@team> "@team" (<!subteam^S1> "@S1"), another
 * <!x|label> the label, <URL|label> the URL when the label is the URL without its "scheme://"
 * (how Slack links a typed "example.com") and the label otherwise (so <mailto:a@b.c|a@b.c> is
 * "a@b.c"), <URL> the URL; a '<' that starts none of these, or has no '>', is kept as is. Then
 * &amp; &lt; &gt; are decoded (only those three, once). The result is never longer than the
 * input and is NUL-terminated when text[len] was. Returns the new length. */
size_t slack_text_plain(char *text, size_t len);

/* Turns the plain text of a message to planbot (after slack_text_plain) into the question, in
 * place: the mentions that start it (<@U1>, any user's: they address it) come out with the ','
 * or ':' and white space after them; planbot's own mention (self_user; NULL or "": none) comes
 * out anywhere; another user's later in the text becomes "@U1"; emoji shortcodes come out
 * (codec_strip_shortcodes()). So the dispatcher and the matcher see no Slack syntax. Returns the
 * new length (never more than len); text stays NUL-terminated when it was. Pure. */
size_t slack_text_question(char *text, size_t len, const char *self_user);

/* Appends the JSON body of chat.postMessage: channel, text, thread_ts (omitted when NULL or ""),
 * with link and media unfurling off. text (len bytes) is sent as given: mrkdwn escaping of & < >
 * is the caller's; invalid UTF-8 becomes U+FFFD so the body is always valid JSON. Returns 0,
 * ERR_INVAL when channel is NULL, or ERR_TOOBIG / ERR_NOMEM with out unchanged. */
int slack_post_body(const char *channel, const char *thread_ts, const char *text, size_t len,
                    struct buf *out);

/* Slack's limit for one message that planbot keeps to (Slack itself truncates at 40,000). */
enum { SLACK_POST_MAX = 3900 };

/* How replies are written for Slack (markup.h): mrkdwn, with & < > escaped so that no question
 * or entry can make a link, a mention (<@U1>, <!channel>) or an entity; "> " quote markers
 * kept; posts of at most SLACK_POST_MAX bytes (Slack counts characters: bytes are never more). */
extern const struct markup slack_markup;

/* Splits a reply into Slack posts of at most max bytes, as codec_split() does (codec.h). */
size_t slack_split(const char *text, size_t len, size_t max, size_t *next);

/* What a Web API method answered (apps.connections.open, auth.test, chat.postMessage). */
struct slack_api {
    int ok;                     /* the "ok" field */
    char error[64];             /* "error" when !ok */
    char url[2048];             /* apps.connections.open: the WebSocket URL */
    char user_id[SLACK_ID_MAX]; /* auth.test */
    char bot_id[SLACK_ID_MAX];  /* auth.test */
    char ts[SLACK_ID_MAX];      /* chat.postMessage: the posted message's ts */
};

/* Parses a Web API response body of len bytes (need not be NUL-terminated). Returns 0 (then see
 * a->ok; missing fields are ""), or ERR_INVAL with a message in err when the body is not a JSON
 * object with a boolean "ok" (a proxy's HTML error page, say), or a field has the wrong type, is
 * too long or holds bytes outside printable ASCII. */
int slack_api_parse(const char *json, size_t len, struct slack_api *a, char *err, size_t errlen);

/* Whether an error from apps.connections.open or auth.test means the token can never work
 * (not_authed, invalid_auth, account_inactive, user_removed_from_team, team_disabled,
 * not_allowed_token_type, token_revoked, token_expired, missing_scope): stop, do not retry. */
int slack_error_fatal(const char *error);

/* Whether a chat.postMessage error means this reply can never be delivered (channel_not_found,
 * not_in_channel, is_archived, msg_too_long, no_text, restricted_action..., and every error
 * slack_error_fatal names): drop it with a log line rather than retry. Other errors
 * (internal_error, fatal_error, service_unavailable, ratelimited, unknown ones...) are worth a
 * retry. NULL is not permanent. */
int slack_error_permanent(const char *error);

#endif
