/* mattermost_codec.h - Mattermost's wire format (API v4), with no I/O: WebSocket frames in
 * (events and replies to planbot's requests), the authentication challenge and reply posts out,
 * and the REST answers planbot reads (users/me, a channel's posts since a time). The Mattermost
 * adapter (mattermost.c) only moves bytes and calls these; tests drive them with captured
 * frames. See ../shared/docs/protocols.md §2. */
#ifndef PLANBOT_MATTERMOST_CODEC_H
#define PLANBOT_MATTERMOST_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "markup.h"

enum {
    MM_ID_MAX = 64,           /* ids (26 characters), connection ids, post types, with NUL */
    MM_NAME_MAX = 128,        /* a username, with NUL */
    MM_TEXT_MAX = 256 * 1024, /* a post's message in bytes, after decoding and repair */
    MM_POST_MAX = 16383,      /* a post's limit in characters (runes) */
    MM_POSTS_MAX = 1000,      /* posts read from one page of a channel's history */
    MM_CHANNELS_MAX = 4096    /* channels read from the list of planbot's own */
};

enum mm_frame_type {
    MM_FRAME_REPLY,  /* the answer to one of planbot's requests: seq_reply, status */
    MM_FRAME_HELLO,  /* the first event on a socket: connection_id */
    MM_FRAME_POSTED, /* a new post: the post fields */
    MM_FRAME_OTHER   /* any other event (typing, status_change...): seq only */
};

/* One post, from a posted event or a channel's history. */
struct mm_post {
    char id[MM_ID_MAX];
    char user_id[MM_ID_MAX];
    char channel_id[MM_ID_MAX];
    char root_id[MM_ID_MAX];    /* "" outside threads */
    char type[MM_ID_MAX];       /* "" for a person's post; system_join_channel... */
    char channel_type[4];       /* posted events only: O public, P private, D direct, G group */
    int from_bot, from_webhook; /* props.from_bot / props.from_webhook said "true" */
    int mentioned;              /* planbot's id is in the event's mentions (posted events only) */
    int64_t create_at;          /* ms since the epoch */
    char *text;                 /* message: UTF-8 repaired, NUL-terminated, never NULL; owned */
    size_t text_len;
};

struct mm_frame {
    enum mm_frame_type type;
    int64_t seq;                   /* events: seq (-1 when absent); replies: seq_reply */
    int ok;                        /* replies: status "OK" */
    char event[64];                /* events: the name */
    char connection_id[MM_ID_MAX]; /* hello */
    struct mm_post post;           /* posted */
};

/* Parses one text frame of len bytes. self_id (planbot's user id, or NULL) is looked for in a
 * posted event's mentions. Returns 0 and fills f (free with mm_frame_free), or an error with why
 * in err: ERR_INVAL for not JSON, nesting over 64 levels, a field of the wrong type, an id over
 * its cap or outside printable ASCII, data.post that is not a JSON object in a string;
 * ERR_TOOBIG for a message over MM_TEXT_MAX; ERR_NOMEM. On error f needs no freeing. */
int mm_frame_parse(const char *json, size_t len, const char *self_id, struct mm_frame *f, char *err,
                   size_t errlen);

/* Frees what a parse allocated in f, and zeroes it. Accepts a zeroed frame. */
void mm_frame_free(struct mm_frame *f);

/* Reads GET /api/v4/users/me: the bot's id and username (both required). 0, or ERR_INVAL with
 * why in err. */
int mm_me_parse(const char *json, size_t len, char id[MM_ID_MAX], char username[MM_NAME_MAX],
                char *err, size_t errlen);

/* Reads GET /api/v4/channels/{id}/posts?since=...: the posts in *out (an array of *n, oldest
 * first; free with mm_posts_free), at most MM_POSTS_MAX of them. 0, or ERR_INVAL / ERR_TOOBIG /
 * ERR_NOMEM with why in err. */
int mm_posts_parse(const char *json, size_t len, struct mm_post **out, size_t *n, char *err,
                   size_t errlen);

/* One channel planbot is a member of. */
struct mm_channel {
    char id[MM_ID_MAX];
    char type[4]; /* O, P, D, G */
};

/* Reads GET /api/v4/users/me/channels: the channels in *out (an array of *n; caller frees), at
 * most MM_CHANNELS_MAX. 0, or ERR_INVAL / ERR_TOOBIG / ERR_NOMEM with why in err. */
int mm_channels_parse(const char *json, size_t len, struct mm_channel **out, size_t *n, char *err,
                      size_t errlen);

/* Frees n posts from mm_posts_parse. Accepts NULL. */
void mm_posts_free(struct mm_post *posts, size_t n);

/* Frees what a post holds, and zeroes it. */
void mm_post_free(struct mm_post *p);

/* Appends the authentication challenge with sequence number seq. 0, or ERR_TOOBIG / ERR_NOMEM
 * with out unchanged. The token is in it: never log the frame. */
int mm_auth_frame(int64_t seq, const char *token, struct buf *out);

/* Appends the body of POST /api/v4/posts: channel_id, message and root_id (omitted when "").
 * Invalid UTF-8 becomes U+FFFD. 0, ERR_INVAL for a NULL channel, ERR_TOOBIG / ERR_NOMEM with out
 * unchanged. */
int mm_post_body(const char *channel_id, const char *root_id, const char *text, size_t len,
                 struct buf *out);

/* Turns a post's message into the question, in place: the mentions that start it (any user's:
 * they address it) come out with the ',' or ':' and white space after them; planbot's own
 * (username, case-insensitively, not inside a longer name or an address) comes out anywhere;
 * emoji shortcodes come out (codec_strip_shortcodes()). *named says whether planbot's was among
 * them. Returns the new length; text stays NUL-terminated when it was. Pure. */
size_t mm_text_plain(char *text, size_t len, const char *username, int *named);

/* How replies are written for Mattermost (markup.h): its Markdown, with every '@' that could
 * start a mention (@channel, @all, @here, @someone) followed by a zero-width space so that no
 * question or entry can notify anyone ('<' is left as it is: Mattermost shows it as text);
 * mentions are "@username"; posts of at most MM_POST_MAX characters (runes, as Mattermost
 * counts them). */
extern const struct markup mm_markup;

#endif
