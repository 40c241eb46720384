/* slack_codec.c - Slack's wire format without I/O (see slack_codec.h and protocols.md §1).
 *
 * Everything here reads bytes that came off the network, so it trusts nothing: the nesting
 * depth is checked before cJSON recurses, every string field is type-checked and copied into a
 * capped field, and text is repaired to valid UTF-8 before the rest of planbot sees it. */
#include "slack_codec.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "err.h"

/* ---- frames ---- */

/* Copies event.text into f->text: repaired to valid UTF-8, capped, then made plain. */
static int read_text(const cJSON *event, struct slack_frame *f, char *err, size_t errlen)
{
    size_t len;
    int rc = codec_get_text(event, "text", "payload.event.text", SLACK_TEXT_MAX, &f->text, &len,
                            err, errlen);
    if (!rc)
        f->text_len = slack_text_plain(f->text, len);
    return rc;
}

/* Reads the event of an event_callback payload. */
static int read_event(const cJSON *payload, const cJSON *event, struct slack_frame *f, char *err,
                      size_t errlen)
{
    int rc = codec_get_token(payload, "event_id", "payload.event_id", f->event_id,
                             sizeof f->event_id, err, errlen);
    if (!rc)
        rc = codec_get_token(event, "type", "payload.event.type", f->event_type,
                             sizeof f->event_type, err, errlen);
    if (rc)
        return rc;
    if (strcmp(f->event_type, "app_mention") != 0 && strcmp(f->event_type, "message") != 0) {
        f->text = calloc(1, 1);
        return f->text ? 0 : codec_fail(err, errlen, ERR_NOMEM, "out of memory");
    }
    const struct {
        const char *key, *path;
        char *dst;
        size_t cap;
    } tokens[] = {
        { "subtype", "payload.event.subtype", f->subtype, sizeof f->subtype },
        { "channel_type", "payload.event.channel_type", f->channel_type, sizeof f->channel_type },
        { "user", "payload.event.user", f->user, sizeof f->user },
        { "bot_id", "payload.event.bot_id", f->bot_id, sizeof f->bot_id },
        { "channel", "payload.event.channel", f->channel, sizeof f->channel },
        { "ts", "payload.event.ts", f->ts, sizeof f->ts },
        { "thread_ts", "payload.event.thread_ts", f->thread_ts, sizeof f->thread_ts },
    };
    for (size_t i = 0; !rc && i < sizeof tokens / sizeof tokens[0]; i++)
        rc = codec_get_token(event, tokens[i].key, tokens[i].path, tokens[i].dst, tokens[i].cap,
                             err, errlen);
    if (!rc)
        rc = codec_get_bool(event, "hidden", "payload.event.hidden", &f->hidden, err, errlen);
    if (!rc && !f->event_id[0] && f->channel[0] && f->ts[0]) {
        int n = snprintf(f->event_id, sizeof f->event_id, "%s:%s", f->channel, f->ts);
        if (n < 0 || (size_t)n >= sizeof f->event_id)
            rc = codec_fail(err, errlen, ERR_INVAL,
                            "no payload.event_id, and \"<channel>:<ts>\" is longer than %zu bytes",
                            sizeof f->event_id - 1);
    }
    if (!rc)
        rc = read_text(event, f, err, errlen);
    return rc;
}

/* Fills f from a parsed frame; on error f may be half filled (the caller clears it). */
static int read_frame(const cJSON *root, struct slack_frame *f, char *err, size_t errlen)
{
    char type[64];
    int rc = codec_get_token(root, "envelope_id", "envelope_id", f->envelope_id,
                             sizeof f->envelope_id, err, errlen);
    if (!rc && cJSON_IsString(codec_member(root, "envelope_id")) && !f->envelope_id[0])
        rc = codec_fail(err, errlen, ERR_INVAL, "envelope_id is empty");
    if (!rc)
        rc = codec_get_token(root, "type", "type", type, sizeof type, err, errlen);
    if (rc)
        return rc;

    if (strcmp(type, "hello") == 0) {
        const cJSON *debug;
        f->type = SLACK_FRAME_HELLO;
        rc = codec_get_count(root, "num_connections", "num_connections", &f->num_connections, err,
                             errlen);
        if (!rc)
            rc = codec_get_object(root, "debug_info", "debug_info", &debug, err, errlen);
        if (!rc)
            rc = codec_get_count(debug, "approximate_connection_time",
                                 "debug_info.approximate_connection_time", &f->connection_time, err,
                                 errlen);
        return rc;
    }
    if (strcmp(type, "disconnect") == 0) {
        f->type = SLACK_FRAME_DISCONNECT;
        return codec_get_token(root, "reason", "reason", f->reason, sizeof f->reason, err, errlen);
    }
    if (!f->envelope_id[0]) {
        f->type = SLACK_FRAME_OTHER;
        return 0;
    }

    const cJSON *payload, *event = NULL;
    char payload_type[64] = "";
    f->type = SLACK_FRAME_ENVELOPE;
    rc = codec_get_count(root, "retry_attempt", "retry_attempt", &f->retry_attempt, err, errlen);
    if (!rc)
        rc = codec_get_object(root, "payload", "payload", &payload, err, errlen);
    if (rc || strcmp(type, "events_api") != 0)
        return rc;
    rc = codec_get_token(payload, "type", "payload.type", payload_type, sizeof payload_type, err,
                         errlen);
    if (!rc && strcmp(payload_type, "event_callback") == 0)
        rc = codec_get_object(payload, "event", "payload.event", &event, err, errlen);
    if (rc || !event)
        return rc;
    f->type = SLACK_FRAME_EVENT;
    return read_event(payload, event, f, err, errlen);
}

int slack_frame_parse(const char *json, size_t len, struct slack_frame *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    if (err && errlen)
        err[0] = '\0';
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = read_frame(root, f, err, errlen);
    cJSON_Delete(root);
    if (rc) {
        char envelope_id[sizeof f->envelope_id];
        memcpy(envelope_id, f->envelope_id, sizeof envelope_id);
        slack_frame_free(f);
        memcpy(f->envelope_id, envelope_id, sizeof envelope_id);
    }
    return rc;
}

void slack_frame_free(struct slack_frame *f)
{
    if (!f)
        return;
    free(f->text);
    memset(f, 0, sizeof *f);
}

int slack_ack(const char *envelope_id, struct buf *out)
{
    if (!envelope_id)
        return ERR_INVAL;
    size_t start = out->len;
    int rc = buf_puts(out, "{\"envelope_id\":");
    if (!rc)
        rc = codec_append_json_string(out, envelope_id, strlen(envelope_id));
    if (!rc)
        rc = buf_putc(out, '}');
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

/* ---- what to answer ---- */

enum slack_verdict slack_verdict(const struct slack_frame *f, const char *self_user,
                                 const char *self_bot, int *direct)
{
    enum slack_verdict v;
    if (direct)
        *direct = 0;
    if (f->type != SLACK_FRAME_EVENT ||
        (strcmp(f->event_type, "app_mention") != 0 && strcmp(f->event_type, "message") != 0))
        v = SLACK_IGNORE_KIND;
    else if ((f->user[0] && self_user && strcmp(f->user, self_user) == 0) ||
             (f->bot_id[0] && self_bot && strcmp(f->bot_id, self_bot) == 0))
        v = SLACK_IGNORE_SELF;
    else if (f->bot_id[0] || strcmp(f->subtype, "bot_message") == 0)
        v = SLACK_IGNORE_BOT;
    else if (f->subtype[0] || f->hidden)
        v = SLACK_IGNORE_SUBTYPE;
    else if (!f->user[0])
        v = SLACK_IGNORE_KIND;
    else if (strcmp(f->event_type, "message") == 0 && strcmp(f->channel_type, "im") != 0)
        v = SLACK_IGNORE_CHANNEL;
    else
        v = SLACK_ANSWER;
    if (direct && v == SLACK_ANSWER)
        *direct = strcmp(f->channel_type, "im") == 0;
    return v;
}

const char *slack_verdict_str(enum slack_verdict v)
{
    switch (v) {
    case SLACK_ANSWER: return "answer";
    case SLACK_IGNORE_SELF: return "own message";
    case SLACK_IGNORE_BOT: return "bot message";
    case SLACK_IGNORE_SUBTYPE: return "message subtype or hidden";
    case SLACK_IGNORE_CHANNEL: return "channel message without a mention";
    case SLACK_IGNORE_KIND: return "not a message from a person";
    }
    return "unknown verdict";
}

/* ---- message text ---- */

/* The length of a URI scheme followed by ':' at s (n bytes), or 0: RFC 3986's
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":". */
static size_t scheme_len(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (c == ':')
            return i + 1;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return 0;
}

/* Writes what the token <body> (n bytes at body, which lies at or after *w) becomes at text + *w.
 * Returns 0 when the token is not one Slack sends, leaving it to be copied as is. */
static int plain_token(char *text, size_t *w, const char *body, size_t n)
{
    const char *bar = memchr(body, '|', n);
    size_t id_len = bar ? (size_t)(bar - body) : n;
    const char *label = bar ? bar + 1 : NULL;
    size_t label_len = bar ? n - id_len - 1 : 0;
    char *out = text + *w;
    if (n >= 2 && body[0] == '@') { /* <@U1> or <@U1|name>: <@U1> */
        memmove(out, "<", 1);
        memmove(out + 1, body, id_len);
        out[1 + id_len] = '>';
        *w += id_len + 2;
        return 1;
    }
    if (n >= 2 && body[0] == '#') { /* <#C1|general>: #general */
        out[0] = '#';
        if (label_len)
            memmove(out + 1, label, label_len);
        else
            memmove(out + 1, body + 1, id_len - 1);
        *w += 1 + (label_len ? label_len : id_len - 1);
        return 1;
    }
    if (n >= 2 && body[0] == '!') {
        static const char *const everyone[] = { "here", "channel", "everyone" };
        for (size_t i = 0; i < sizeof everyone / sizeof everyone[0]; i++) {
            size_t k = strlen(everyone[i]);
            if (id_len == k + 1 && memcmp(body + 1, everyone[i], k) == 0) {
                out[0] = '@';
                memmove(out + 1, body + 1, k);
                *w += k + 1;
                return 1;
            }
        }
        if (label_len) { /* <!subteam^S1|@team>, <!date^...|Feb 18>: the label */
            memmove(out, label, label_len);
            *w += label_len;
            return 1;
        }
        if (id_len > 9 && memcmp(body, "!subteam^", 9) == 0) { /* <!subteam^S1>: @S1 */
            out[0] = '@';
            memmove(out + 1, body + 9, id_len - 9);
            *w += id_len - 8;
            return 1;
        }
        return 0;
    }
    size_t scheme = scheme_len(body, id_len);
    if (!scheme || scheme == id_len)
        return 0;
    /* A link: the label, unless it is the URL without its "scheme://" (Slack's own text). */
    size_t strip = id_len - scheme >= 2 && memcmp(body + scheme, "//", 2) == 0 ? scheme + 2 : 0;
    int use_url = !label_len || (strip && label_len == id_len - strip &&
                                 memcmp(label, body + strip, label_len) == 0);
    if (use_url) {
        memmove(out, body, id_len);
        *w += id_len;
    } else {
        memmove(out, label, label_len);
        *w += label_len;
    }
    return 1;
}

size_t slack_text_plain(char *text, size_t len)
{
    /* Pass 1: the <...> tokens. Each output is no longer than its token, so w <= r throughout. */
    size_t size = len, r = 0, w = 0;
    while (r < len) {
        if (text[r] == '<') {
            size_t e = r + 1;
            while (e < len && text[e] != '>' && text[e] != '<')
                e++;
            if (e < len && text[e] == '>' && plain_token(text, &w, text + r + 1, e - r - 1)) {
                r = e + 1;
                continue;
            }
        }
        text[w++] = text[r++];
    }
    /* Pass 2: the three entities Slack encodes, decoded once. */
    static const struct {
        const char *entity;
        size_t len;
        char c;
    } entities[] = { { "&amp;", 5, '&' }, { "&lt;", 4, '<' }, { "&gt;", 4, '>' } };
    len = w;
    r = w = 0;
    while (r < len) {
        char c = text[r];
        size_t step = 1;
        if (c == '&') {
            for (size_t i = 0; i < sizeof entities / sizeof entities[0]; i++) {
                if (len - r >= entities[i].len &&
                    memcmp(text + r, entities[i].entity, entities[i].len) == 0) {
                    c = entities[i].c;
                    step = entities[i].len;
                    break;
                }
            }
        }
        text[w++] = c;
        r += step;
    }
    if (w < size)
        text[w] = '\0';
    return w;
}

/* ---- posting ---- */

int slack_post_body(const char *channel, const char *thread_ts, const char *text, size_t len,
                    struct buf *out)
{
    if (!channel || (!text && len))
        return ERR_INVAL;
    size_t start = out->len;
    int rc = buf_puts(out, "{\"channel\":");
    if (!rc)
        rc = codec_append_json_string(out, channel, strlen(channel));
    if (!rc)
        rc = buf_puts(out, ",\"text\":");
    if (!rc)
        rc = codec_append_json_string(out, text ? text : "", len);
    if (!rc && thread_ts && thread_ts[0]) {
        rc = buf_puts(out, ",\"thread_ts\":");
        if (!rc)
            rc = codec_append_json_string(out, thread_ts, strlen(thread_ts));
    }
    if (!rc)
        rc = buf_puts(out, ",\"unfurl_links\":false,\"unfurl_media\":false}");
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

size_t slack_split(const char *text, size_t len, size_t max, size_t *next)
{
    return codec_split(text, len, max, next);
}

/* ---- Web API answers ---- */

int slack_api_parse(const char *json, size_t len, struct slack_api *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (err && errlen)
        err[0] = '\0';
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = 0;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    if (!cJSON_IsBool(ok))
        rc = codec_fail(err, errlen, ERR_INVAL, "\"ok\" must be true or false");
    else
        a->ok = cJSON_IsTrue(ok);
    if (!rc)
        rc = codec_get_token(root, "error", "error", a->error, sizeof a->error, err, errlen);
    if (!rc)
        rc = codec_get_token(root, "url", "url", a->url, sizeof a->url, err, errlen);
    if (!rc)
        rc =
            codec_get_token(root, "user_id", "user_id", a->user_id, sizeof a->user_id, err, errlen);
    if (!rc)
        rc = codec_get_token(root, "bot_id", "bot_id", a->bot_id, sizeof a->bot_id, err, errlen);
    if (!rc)
        rc = codec_get_token(root, "ts", "ts", a->ts, sizeof a->ts, err, errlen);
    cJSON_Delete(root);
    if (rc)
        memset(a, 0, sizeof *a);
    return rc;
}

/* Whether error is one of the NULL-terminated names. */
static int is_one_of(const char *error, const char *const *names)
{
    if (!error)
        return 0;
    for (; *names; names++)
        if (strcmp(error, *names) == 0)
            return 1;
    return 0;
}

int slack_error_fatal(const char *error)
{
    static const char *const fatal[] = {
        "not_authed",       "invalid_auth",
        "account_inactive", "user_removed_from_team",
        "team_disabled",    "not_allowed_token_type",
        "token_revoked",    "token_expired",
        "missing_scope",    NULL,
    };
    return is_one_of(error, fatal);
}

int slack_error_permanent(const char *error)
{
    static const char *const permanent[] = {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "too_many_attachments",
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "invalid_json",
        "json_not_object",
        "cannot_reply_to_message",
        "duplicate_channel_not_found",
        "messages_tab_disabled",
        "ekm_access_denied",
        "team_access_not_granted",
        "as_user_not_supported",
        NULL,
    };
    if (!error)
        return 0;
    /* restricted_action_read_only_channel, _thread_only_channel, _thread_locked... */
    if (strncmp(error, "restricted_action_", 18) == 0)
        return 1;
    return is_one_of(error, permanent) || slack_error_fatal(error);
}

/* The length of the user mention "<@ID>" at s (s[0] == '<'), or 0; *id and *id_len get the id. */
static size_t user_mention(const char *s, size_t n, const char **id, size_t *id_len)
{
    if (n < 4 || s[1] != '@')
        return 0;
    size_t i = 2;
    while (i < n && isalnum((unsigned char)s[i]))
        i++;
    if (i == 2 || i >= n || s[i] != '>')
        return 0;
    *id = s + 2;
    *id_len = i - 2;
    return i + 1;
}

/* Slack's mention at text[i]: "<@ID>", planbot's when ID is self_user; "@ID" when it stays. */
static void slack_mention(const char *text, size_t len, size_t i, void *arg,
                          struct codec_mention *m)
{
    const char *self_user = arg, *id;
    size_t id_len;
    if (text[i] != '<' || !(m->len = user_mention(text + i, len - i, &id, &id_len)))
        return;
    m->self = self_user && strlen(self_user) == id_len && memcmp(id, self_user, id_len) == 0;
    m->keep = id - 1; /* "@ID" */
    m->keep_len = id_len + 1;
}

size_t slack_text_question(char *text, size_t len, const char *self_user)
{
    int named;
    len = codec_strip_shortcodes(text, len);
    return codec_take_mentions(text, len, slack_mention, (void *)self_user, &named);
}

/* mrkdwn: & < > escaped (Slack reads <...> as links and mentions, &...; as entities), except the
 * '>' of a "> " that starts a line when quotes are kept. */
static const char *slack_with(const char *text, size_t len, size_t i, int quotes)
{
    if (text[i] == '&')
        return "&amp;";
    if (text[i] == '<')
        return "&lt;";
    if (text[i] == '>' &&
        !(quotes && (i == 0 || text[i - 1] == '\n') && i + 1 < len && text[i + 1] == ' '))
        return "&gt;";
    return NULL;
}

const struct markup slack_markup = { .name = "slack",
                                     .with = slack_with,
                                     .special = "&<>",
                                     .mention_open = "<@",
                                     .mention_close = ">",
                                     .post_max = SLACK_POST_MAX,
                                     .unit = MARKUP_BYTES };
