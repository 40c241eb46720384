/* discord_codec.c - Discord's wire format without I/O (see discord_codec.h and protocols.md §3).
 *
 * Ids are snowflakes, decimal strings of up to 20 digits: they are checked as such, so that one
 * is always safe to log, to use as a key and to put in a URL path. */
#include "discord_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "err.h"

enum { HEARTBEAT_MAX_MS = 10 * 60 * 1000 };

/* "@" and U+200B ZERO WIDTH SPACE: an @ that can start no mention */
static const char AT_ZWSP[] = "@\xE2\x80\x8B";

int dc_is_snowflake(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9')
            return 0;
    return n >= 1 && n <= 20;
}

int dc_snowflake_cmp(const char *a, const char *b)
{
    while (*a == '0' && a[1]) /* no leading zeros in the comparison */
        a++;
    while (*b == '0' && b[1])
        b++;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

void dc_message_free(struct dc_message *m)
{
    free(m->text);
    memset(m, 0, sizeof *m);
}

void dc_frame_free(struct dc_frame *f)
{
    dc_message_free(&f->msg);
    memset(f, 0, sizeof *f);
}

void dc_messages_free(struct dc_message *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        dc_message_free(&list[i]);
    free(list);
}

/* Copies the snowflake member key of o (named path) into dst: "" when missing; ERR_INVAL when it
 * is not a snowflake. */
static int get_snowflake(const cJSON *o, const char *key, const char *path, char dst[DC_ID_MAX],
                         char *err, size_t errlen)
{
    char id[DC_ID_MAX];
    int rc = codec_get_token(o, key, path, id, sizeof id, err, errlen);
    if (!rc && id[0] && !dc_is_snowflake(id))
        rc = codec_fail(err, errlen, ERR_INVAL, "%s must be a snowflake (decimal digits)", path);
    if (!rc)
        memcpy(dst, id, sizeof id);
    return rc;
}

/* A whole number member from min to max into *out (def when missing). */
static int get_int(const cJSON *o, const char *key, const char *path, int64_t min, int64_t max,
                   int64_t def, int64_t *out, char *err, size_t errlen)
{
    const cJSON *v = codec_member(o, key);
    *out = def;
    if (!v)
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : (double)min - 1;
    if (!(d >= (double)min && d <= (double)max) || d != (double)(int64_t)d)
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a whole number from %lld to %lld",
                          path, (long long)min, (long long)max);
    *out = (int64_t)d;
    return 0;
}

/* Whether the array member key of o holds a string (ids: NULL) or an object whose "id" (ids:
 * "id") equals want; ERR_INVAL when it is not an array. */
static int array_has(const cJSON *o, const char *key, const char *path, const char *ids,
                     const char *want, int *out, char *err, size_t errlen)
{
    const cJSON *a = codec_member(o, key);
    *out = 0;
    if (!a)
        return 0;
    if (!cJSON_IsArray(a))
        return codec_fail(err, errlen, ERR_INVAL, "%s must be an array", path);
    if (!want || !want[0])
        return 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a)
    {
        const cJSON *v = ids ? codec_member(x, ids) : x;
        if (cJSON_IsString(v) && v->valuestring && strcmp(v->valuestring, want) == 0)
            *out = 1;
    }
    return 0;
}

/* Reads the message object o (named path) into m. */
static int read_message(const cJSON *o, const char *path, const struct dc_lookfor *look,
                        struct dc_message *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    char where[96], hook[DC_ID_MAX] = "";
    const struct {
        const char *key;
        char *dst;
    } ids[] = { { "id", m->id },
                { "channel_id", m->channel_id },
                { "guild_id", m->guild_id },
                { "webhook_id", hook } };
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof ids / sizeof ids[0]; i++) {
        snprintf(where, sizeof where, "%s.%s", path, ids[i].key);
        rc = get_snowflake(o, ids[i].key, where, ids[i].dst, err, errlen);
    }
    if (!rc && (!m->id[0] || !m->channel_id[0]))
        rc = codec_fail(err, errlen, ERR_INVAL, "%s has no id or channel_id", path);
    m->webhook = hook[0] != '\0';
    const cJSON *author = NULL, *member = NULL;
    if (!rc) {
        snprintf(where, sizeof where, "%s.author", path);
        rc = codec_get_object(o, "author", where, &author, err, errlen);
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.author.id", path);
        rc = get_snowflake(author, "id", where, m->author_id, err, errlen);
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.author.bot", path);
        rc = codec_get_bool(author, "bot", where, &m->author_bot, err, errlen);
    }
    int64_t type = 0;
    if (!rc) {
        snprintf(where, sizeof where, "%s.type", path);
        rc = get_int(o, "type", where, 0, 1000, 0, &type, err, errlen);
        m->type = (int)type;
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.mentions", path);
        rc = array_has(o, "mentions", where, "id", look ? look->self_id : NULL, &m->mentions_self,
                       err, errlen);
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.member", path);
        rc = codec_get_object(o, "member", where, &member, err, errlen);
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.member.roles", path);
        rc = array_has(member, "roles", where, NULL, look ? look->role_id : NULL, &m->has_role, err,
                       errlen);
    }
    if (rc)
        return rc;
    snprintf(where, sizeof where, "%s.content", path);
    return codec_get_text(o, "content", where, DC_TEXT_MAX, &m->text, &m->text_len, err, errlen);
}

/* A name as the log shows it: v's string, control characters as '?', cut on a character
 * boundary to fit cap; "?" when v is not a string. Names are for people: an old-style bot
 * username may hold spaces and any letter. */
static void name_for_log(const cJSON *v, char *dst, size_t cap)
{
    const char *s = cJSON_IsString(v) && v->valuestring && v->valuestring[0] ? v->valuestring : "?";
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++)
        dst[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    if (s[n]) /* cut: not inside a character */
        while (n > 0 && ((unsigned char)dst[n] & 0xC0) == 0x80)
            n--;
    dst[n] = '\0';
}

static int read_ready(const cJSON *d, struct dc_frame *f, char *err, size_t errlen)
{
    const cJSON *user = NULL;
    int rc = codec_get_object(d, "user", "d.user", &user, err, errlen);
    if (!rc)
        rc = get_snowflake(user, "id", "d.user.id", f->self_id, err, errlen);
    if (!rc)
        name_for_log(codec_member(user, "username"), f->self_name, sizeof f->self_name);
    if (!rc)
        rc = codec_get_token(d, "session_id", "d.session_id", f->session_id, sizeof f->session_id,
                             err, errlen);
    if (!rc)
        rc = codec_get_token(d, "resume_gateway_url", "d.resume_gateway_url", f->resume_url,
                             sizeof f->resume_url, err, errlen);
    if (!rc && (!f->self_id[0] || !f->session_id[0]))
        rc = codec_fail(err, errlen, ERR_INVAL, "READY has no user.id or session_id");
    if (!rc && f->resume_url[0] && strncmp(f->resume_url, "wss://", 6) != 0 &&
        strncmp(f->resume_url, "ws://", 5) != 0)
        rc = codec_fail(err, errlen, ERR_INVAL, "d.resume_gateway_url is not a ws(s):// URL");
    return rc;
}

static int read_dispatch(const cJSON *root, const struct dc_lookfor *look, struct dc_frame *f,
                         char *err, size_t errlen)
{
    int rc = codec_get_token(root, "t", "t", f->name, sizeof f->name, err, errlen);
    const cJSON *d = NULL;
    if (!rc)
        rc = codec_get_object(root, "d", "d", &d, err, errlen);
    if (rc)
        return rc;
    f->event = DC_EV_OTHER;
    if (strcmp(f->name, "READY") == 0) {
        f->event = DC_EV_READY;
        return d ? read_ready(d, f, err, errlen) : codec_fail(err, errlen, ERR_INVAL, "no d");
    }
    if (strcmp(f->name, "RESUMED") == 0) {
        f->event = DC_EV_RESUMED;
    } else if (strcmp(f->name, "MESSAGE_CREATE") == 0) {
        f->event = DC_EV_MESSAGE_CREATE;
        if (!d)
            return codec_fail(err, errlen, ERR_INVAL, "MESSAGE_CREATE has no d");
        return read_message(d, "d", look, &f->msg, err, errlen);
    }
    return 0;
}

int dc_frame_parse(const char *json, size_t len, const struct dc_lookfor *look, struct dc_frame *f,
                   char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->seq = -1;
    if (err && errlen)
        err[0] = '\0';
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int64_t op = -1;
    int rc = get_int(root, "op", "op", 0, 1000, -1, &op, err, errlen);
    if (!rc && op < 0)
        rc = codec_fail(err, errlen, ERR_INVAL, "no op");
    f->op = (int)op;
    if (!rc)
        rc = get_int(root, "s", "s", 0, INT64_C(9007199254740992), -1, &f->seq, err, errlen);
    if (!rc && op == DC_OP_DISPATCH) {
        rc = read_dispatch(root, look, f, err, errlen);
    } else if (!rc && op == DC_OP_HELLO) {
        const cJSON *d = NULL;
        int64_t ms = 0;
        rc = codec_get_object(root, "d", "d", &d, err, errlen);
        if (!rc)
            rc = get_int(d, "heartbeat_interval", "d.heartbeat_interval", 1, HEARTBEAT_MAX_MS, 0,
                         &ms, err, errlen);
        if (!rc && ms == 0)
            rc = codec_fail(err, errlen, ERR_INVAL, "Hello has no d.heartbeat_interval");
        f->heartbeat_ms = (int)ms;
    } else if (!rc && op == DC_OP_INVALID_SESSION) {
        const cJSON *d = codec_member(root, "d");
        if (d && !cJSON_IsBool(d))
            rc = codec_fail(err, errlen, ERR_INVAL, "d of Invalid Session must be a boolean");
        f->resumable = cJSON_IsTrue(d);
    }
    cJSON_Delete(root);
    if (rc)
        dc_frame_free(f);
    return rc;
}

int dc_gateway_parse(const char *json, size_t len, struct dc_gateway *g, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->remaining = -1;
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    const cJSON *limit = NULL;
    int64_t remaining = -1, reset = 0;
    int rc = codec_get_token(root, "url", "url", g->url, sizeof g->url, err, errlen);
    if (!rc && strncmp(g->url, "wss://", 6) != 0 && strncmp(g->url, "ws://", 5) != 0)
        rc = codec_fail(err, errlen, ERR_INVAL, "url is not a ws:// or wss:// URL");
    if (!rc)
        rc = codec_get_object(root, "session_start_limit", "session_start_limit", &limit, err,
                              errlen);
    if (!rc)
        rc = get_int(limit, "remaining", "session_start_limit.remaining", 0, 1000000, -1,
                     &remaining, err, errlen);
    if (!rc)
        rc = get_int(limit, "reset_after", "session_start_limit.reset_after", 0,
                     INT64_C(7) * 24 * 3600 * 1000, 0, &reset, err, errlen);
    g->remaining = (int)remaining;
    g->reset_after_ms = reset;
    cJSON_Delete(root);
    return rc;
}

static int by_id(const void *a, const void *b)
{
    const struct dc_message *x = a, *y = b;
    return dc_snowflake_cmp(x->id, y->id);
}

int dc_messages_parse(const char *json, size_t len, const struct dc_lookfor *look,
                      struct dc_message **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    cJSON *root = codec_parse_value(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = 0, count = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1;
    if (count < 0)
        rc = codec_fail(err, errlen, ERR_INVAL, "not a JSON array of messages");
    else if (count > DC_MESSAGES_MAX)
        rc = codec_fail(err, errlen, ERR_TOOBIG, "more than %d messages in one page",
                        DC_MESSAGES_MAX);
    struct dc_message *list = NULL;
    if (!rc && count > 0 && !(list = calloc((size_t)count, sizeof *list)))
        rc = codec_fail(err, errlen, ERR_NOMEM, "out of memory");
    size_t got = 0;
    const cJSON *m;
    const cJSON *each = rc ? NULL : root;
    cJSON_ArrayForEach(m, each)
    {
        if (!cJSON_IsObject(m)) {
            rc = codec_fail(err, errlen, ERR_INVAL, "messages[%zu] must be an object", got);
            break;
        }
        if ((rc = read_message(m, "messages[]", look, &list[got], err, errlen)) != 0)
            break;
        got++;
    }
    cJSON_Delete(root);
    if (rc) {
        dc_messages_free(list, got);
        return rc;
    }
    if (got > 1)
        qsort(list, got, sizeof *list, by_id);
    *out = list;
    *n = got;
    return 0;
}

void dc_error_parse(const char *json, size_t len, struct dc_error *e)
{
    memset(e, 0, sizeof *e);
    e->retry_after = -1;
    char why[64];
    cJSON *root = json && len ? codec_parse_object(json, len, why, sizeof why) : NULL;
    const cJSON *v = codec_member(root, "code");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e9)
        e->code = (int)v->valuedouble;
    v = codec_member(root, "message");
    if (cJSON_IsString(v) && v->valuestring) {
        size_t k = 0;
        for (const char *s = v->valuestring; *s && k + 1 < sizeof e->message; s++)
            e->message[k++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
        e->message[k] = '\0';
    }
    v = codec_member(root, "retry_after");
    if (cJSON_IsNumber(v) && v->valuedouble >= 0)
        e->retry_after = v->valuedouble > DC_RETRY_MAX_S ? DC_RETRY_MAX_S : v->valuedouble;
    e->global = cJSON_IsTrue(codec_member(root, "global"));
    cJSON_Delete(root);
}

int dc_identify_frame(const char *token, unsigned intents, struct buf *out)
{
    size_t start = out->len;
    int rc = buf_puts(out, "{\"op\":2,\"d\":{\"token\":");
    if (!rc)
        rc = codec_append_json_string(out, token, strlen(token));
    if (!rc)
        rc = buf_printf(out,
                        ",\"intents\":%u,\"properties\":{\"os\":\"linux\",\"browser\":\"planbot\","
                        "\"device\":\"planbot\"}}}",
                        intents);
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

int dc_resume_frame(const char *token, const char *session_id, int64_t seq, struct buf *out)
{
    size_t start = out->len;
    int rc = buf_puts(out, "{\"op\":6,\"d\":{\"token\":");
    if (!rc)
        rc = codec_append_json_string(out, token, strlen(token));
    if (!rc)
        rc = buf_puts(out, ",\"session_id\":");
    if (!rc)
        rc = codec_append_json_string(out, session_id, strlen(session_id));
    if (!rc)
        rc = seq >= 0 ? buf_printf(out, ",\"seq\":%lld}}", (long long)seq)
                      : buf_puts(out, ",\"seq\":null}}");
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

int dc_heartbeat_frame(int64_t seq, struct buf *out)
{
    return seq >= 0 ? buf_printf(out, "{\"op\":1,\"d\":%lld}", (long long)seq)
                    : buf_puts(out, "{\"op\":1,\"d\":null}");
}

int dc_reply_body(const char *text, size_t len, const char *reply_to, int part, struct buf *out)
{
    if ((!text && len) || part > 999)
        return ERR_INVAL;
    size_t start = out->len;
    int rc = buf_puts(out, "{\"content\":");
    if (!rc)
        rc = codec_append_json_string(out, text ? text : "", len);
    if (!rc && reply_to && reply_to[0]) {
        rc = buf_puts(out, ",\"message_reference\":{\"message_id\":");
        if (!rc)
            rc = codec_append_json_string(out, reply_to, strlen(reply_to));
        if (!rc)
            rc = buf_puts(out, ",\"fail_if_not_exists\":false}");
        /* a nonce is at most 25 characters: a snowflake (20), '-', the part (3) */
        if (!rc && part >= 0 && dc_is_snowflake(reply_to))
            rc = buf_printf(out, ",\"nonce\":\"%s-%d\",\"enforce_nonce\":true", reply_to, part);
    }
    /* nothing in a reply pings anyone; its links (the citation) show no preview (flags:
     * SUPPRESS_EMBEDS) */
    if (!rc)
        rc = buf_puts(out, ",\"allowed_mentions\":{\"parse\":[],\"replied_user\":false},"
                           "\"flags\":4}");
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

enum dc_close_verdict dc_close_verdict(int code, const char **why)
{
    static const struct {
        int code;
        const char *why;
    } fatal[] = {
        { 4004, "Discord refused the bot token (close 4004, authentication failed): check "
                "DISCORD_TOKEN" },
        { 4010, "Discord refused the shard planbot asked for (close 4010, invalid shard)" },
        { 4011, "the bot is in too many servers for one connection (close 4011, sharding "
                "required); planbot connects as a single shard" },
        { 4012, "Discord refused the Gateway version (close 4012, invalid API version)" },
        { 4013, "Discord refused the intents planbot asks for (close 4013, invalid intents)" },
        { 4014, "the application may not use the Message Content intent (close 4014, "
                "disallowed intents): enable it in the Developer Portal (your application, Bot, "
                "Privileged Gateway Intents, Message Content Intent), or set "
                "discord.message_content to false" },
    };
    *why = NULL;
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        if (fatal[i].code == code) {
            *why = fatal[i].why;
            return DC_CLOSE_FATAL;
        }
    switch (code) {
    case 1000: /* the session is over (a client's 1000 or 1001 ends it too; a server's 1001,
                  "going away", is a restart: resumable) */
    case 4003: /* not authenticated */
    case 4005: /* already authenticated */
    case 4007: /* invalid seq */
    case 4008: /* rate limited */
    case 4009: /* session timed out */ return DC_CLOSE_IDENTIFY;
    default: /* lost (0, 1006), 4000 unknown error, 4001, 4002, or planbot's own 4000 */
        return DC_CLOSE_RESUME;
    }
}

int dc_socket_url(const char *base, char *out, size_t cap)
{
    const char *host = strstr(base, "://");
    if (!host || (strncmp(base, "ws://", 5) != 0 && strncmp(base, "wss://", 6) != 0))
        return ERR_INVAL;
    host += 3;
    size_t authority = strcspn(host, "/?#");
    const char *rest = host + authority;
    if (*rest == '#' || strchr(rest, '#'))
        return ERR_INVAL; /* a fragment has no place in a Gateway URL */
    /* the path ("/" when none), then the query with v and encoding added */
    int n = snprintf(out, cap, "%.*s%s%s%sv=10&encoding=json", (int)(rest - base), base,
                     *rest == '/' ? "" : "/", rest, strchr(rest, '?') ? "&" : "?");
    return n < 0 || (size_t)n >= cap ? ERR_TOOBIG : 0;
}

/* ---- the text of a question ---- */

/* The length of the run of digits at s (at most n bytes). */
static size_t digits(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && s[k] >= '0' && s[k] <= '9')
        k++;
    return k;
}

/* Discord's markup at text[i] that is no part of a question: <@id>, <@!id> (a user, the bot's
 * own when id is self), <@&id> (a role), <#id> (a channel), <:name:id> and <a:name:id> (custom
 * emoji); none of them stays. */
static void dc_mention(const char *text, size_t len, size_t i, void *arg, struct codec_mention *m)
{
    const char *self = arg;
    if (text[i] != '<')
        return;
    size_t j = i + 1, end = 0;
    int user = 0;
    if (j < len && text[j] == '@') {
        j++;
        user = !(j < len && text[j] == '&');
        if (j < len && (text[j] == '!' || text[j] == '&'))
            j++;
    } else if (j < len && text[j] == '#') {
        j++;
    } else if (j + 1 < len && (text[j] == ':' || (text[j] == 'a' && text[j + 1] == ':'))) {
        j += text[j] == 'a' ? 2 : 1;
        size_t name = j;
        while (j < len && j - name < 64 &&
               ((text[j] >= 'a' && text[j] <= 'z') || (text[j] >= 'A' && text[j] <= 'Z') ||
                (text[j] >= '0' && text[j] <= '9') || text[j] == '_'))
            j++;
        if (j == name || j >= len || text[j] != ':')
            return;
        j++;
    } else {
        return;
    }
    size_t id = j, k = digits(text + j, len - j);
    if (k == 0 || k > 20 || id + k >= len || text[id + k] != '>')
        return;
    end = id + k + 1;
    m->len = end - i;
    m->self = user && self[0] && strlen(self) == k && memcmp(text + id, self, k) == 0;
    m->keep = text + i;
    m->keep_len = 0;
}

size_t dc_text_plain(char *text, size_t len, const char *self_id, int *named)
{
    len = codec_take_mentions(text, len, dc_mention, (void *)(self_id ? self_id : ""), named);
    return codec_strip_shortcodes(text, len);
}

/* ---- replies ---- */

/* Whether text[i] (of len bytes) is inside a link (a run without white space that starts with
 * http:// or https://): Discord reads a backslash there as part of the address. */
static int in_link(const char *text, size_t len, size_t i)
{
    size_t s = i;
    while (s > 0 && text[s - 1] != ' ' && text[s - 1] != '\n' && text[s - 1] != '\t' &&
           text[s - 1] != '(')
        s--;
    /* text is len bytes, not a string: compare no further */
    return (len - s >= 7 && memcmp(text + s, "http://", 7) == 0) ||
           (len - s >= 8 && memcmp(text + s, "https://", 8) == 0);
}

/* What Discord's Markdown could read as formatting, a masked link, a mention, a spoiler, code,
 * a heading, a list or a quote gets a backslash; '@' before a name gets a zero-width space. */
static const char *dc_with(const char *text, size_t len, size_t i, int quotes)
{
    static const char *const escaped[128] = {
        ['\\'] = "\\\\", ['*'] = "\\*", ['_'] = "\\_", ['~'] = "\\~", ['`'] = "\\`", ['|'] = "\\|",
        ['['] = "\\[",   ['<'] = "\\<", ['>'] = "\\>", ['#'] = "\\#", ['-'] = "\\-",
    };
    unsigned char c = (unsigned char)text[i];
    int line_start = i == 0 || text[i - 1] == '\n';
    if (c == '@')
        return i + 1 < len && text[i + 1] != ' ' && text[i + 1] != '\n' ? AT_ZWSP : NULL;
    if (c == '>') { /* a quote only at the start of a line; the reply's own stays one */
        if (!line_start || (quotes && i + 1 < len && text[i + 1] == ' '))
            return NULL;
        return escaped[c];
    }
    if (c == '#' || c == '-') /* headings, "-#" subtext and lists start a line */
        return line_start ? escaped[c] : NULL;
    if (c >= 128 || !escaped[c] || in_link(text, len, i))
        return NULL;
    return escaped[c];
}

const struct markup dc_markup = { .name = "discord",
                                  .with = dc_with,
                                  .special = "\\*_~`|[<>#-@",
                                  .mention_open = "<@",
                                  .mention_close = ">",
                                  .post_max = DC_POST_MAX,
                                  .unit = MARKUP_CHARS };
