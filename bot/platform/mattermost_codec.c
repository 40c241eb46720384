/* mattermost_codec.c - Mattermost's wire format without I/O (see mattermost_codec.h and
 * protocols.md §2).
 *
 * A posted event carries its post, and the list of users it mentions, as JSON inside a JSON
 * string, so those are parsed a second time with the same caps as the frame. */
#include "mattermost_codec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "codec.h"
#include "err.h"

/* "@" and U+200B ZERO WIDTH SPACE: an @ that can start no mention */
static const char AT_ZWSP[] = "@\xE2\x80\x8B";

void mm_post_free(struct mm_post *p)
{
    free(p->text);
    memset(p, 0, sizeof *p);
}

void mm_frame_free(struct mm_frame *f)
{
    mm_post_free(&f->post);
    memset(f, 0, sizeof *f);
}

void mm_posts_free(struct mm_post *posts, size_t n)
{
    for (size_t i = 0; posts && i < n; i++)
        mm_post_free(&posts[i]);
    free(posts);
}

/* A whole number member (seq, create_at): -1 when missing; ERR_INVAL when not a whole number
 * from 0 to 2^53. */
static int get_int64(const cJSON *obj, const char *key, const char *path, int64_t *out, char *err,
                     size_t errlen)
{
    const cJSON *v = codec_member(obj, key);
    *out = -1;
    if (!v)
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return codec_fail(err, errlen, ERR_INVAL, "%s must be a whole number from 0 up", path);
    *out = (int64_t)d;
    return 0;
}

/* Whether the string member key of props says "true" (or is the boolean true). */
static int prop_true(const cJSON *props, const char *key)
{
    const cJSON *v = codec_member(props, key);
    return cJSON_IsTrue(v) ||
           (cJSON_IsString(v) && v->valuestring && strcmp(v->valuestring, "true") == 0);
}

/* Reads the post object o into p. */
static int read_post(const cJSON *o, const char *path, struct mm_post *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    const struct {
        const char *key;
        char *dst;
        size_t cap;
    } tokens[] = {
        { "id", p->id, sizeof p->id },
        { "user_id", p->user_id, sizeof p->user_id },
        { "channel_id", p->channel_id, sizeof p->channel_id },
        { "root_id", p->root_id, sizeof p->root_id },
        { "type", p->type, sizeof p->type },
    };
    int rc = 0;
    char where[96];
    for (size_t i = 0; !rc && i < sizeof tokens / sizeof tokens[0]; i++) {
        snprintf(where, sizeof where, "%s.%s", path, tokens[i].key);
        rc = codec_get_token(o, tokens[i].key, where, tokens[i].dst, tokens[i].cap, err, errlen);
    }
    if (!rc) {
        snprintf(where, sizeof where, "%s.create_at", path);
        rc = get_int64(o, "create_at", where, &p->create_at, err, errlen);
    }
    if (!rc && (!p->id[0] || !p->channel_id[0]))
        rc = codec_fail(err, errlen, ERR_INVAL, "%s has no id or channel_id", path);
    const cJSON *props = NULL;
    if (!rc) {
        snprintf(where, sizeof where, "%s.props", path);
        rc = codec_get_object(o, "props", where, &props, err, errlen);
    }
    if (!rc) {
        p->from_bot = prop_true(props, "from_bot");
        p->from_webhook = prop_true(props, "from_webhook");
    }
    if (rc)
        return rc;
    snprintf(where, sizeof where, "%s.message", path);
    return codec_get_text(o, "message", where, MM_TEXT_MAX, &p->text, &p->text_len, err, errlen);
}

/* Parses the JSON text inside the string member key of data (named path). */
static cJSON *inner_json(const cJSON *data, const char *key, const char *path, int required,
                         char *err, size_t errlen)
{
    const cJSON *v = codec_member(data, key);
    if (!v) {
        if (required)
            codec_fail(err, errlen, ERR_INVAL, "%s is missing", path);
        return NULL;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        codec_fail(err, errlen, ERR_INVAL, "%s must be a string holding JSON", path);
        return NULL;
    }
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (n && s[0] == '[') { /* mentions: a flat array of ids; nothing nests in it */
        cJSON *a = strpbrk(s + 1, "[{") ? NULL : cJSON_ParseWithLength(s, n);
        if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) > 10000) {
            cJSON_Delete(a);
            codec_fail(err, errlen, ERR_INVAL, "%s is not a JSON array", path);
            return NULL;
        }
        return a;
    }
    char why[160];
    cJSON *o = codec_parse_object(s, n, why, sizeof why);
    if (!o)
        codec_fail(err, errlen, ERR_INVAL, "%s: %s", path, why);
    return o;
}

static int read_posted(const cJSON *data, const char *self_id, struct mm_frame *f, char *err,
                       size_t errlen)
{
    if (!data)
        return codec_fail(err, errlen, ERR_INVAL, "data is missing");
    cJSON *post = inner_json(data, "post", "data.post", 1, err, errlen);
    if (!post)
        return ERR_INVAL;
    int rc = read_post(post, "data.post", &f->post, err, errlen);
    cJSON_Delete(post);
    if (!rc)
        rc = codec_get_token(data, "channel_type", "data.channel_type", f->post.channel_type,
                             sizeof f->post.channel_type, err, errlen);
    if (!rc && codec_member(data, "mentions") && self_id && self_id[0]) {
        cJSON *m = inner_json(data, "mentions", "data.mentions", 0, err, errlen);
        if (!m)
            rc = ERR_INVAL;
        const cJSON *x;
        cJSON_ArrayForEach(x, m)
        {
            if (cJSON_IsString(x) && x->valuestring && strcmp(x->valuestring, self_id) == 0)
                f->post.mentioned = 1;
        }
        cJSON_Delete(m);
    }
    if (rc)
        mm_post_free(&f->post);
    return rc;
}

int mm_frame_parse(const char *json, size_t len, const char *self_id, struct mm_frame *f, char *err,
                   size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->seq = -1;
    if (err && errlen)
        err[0] = '\0';
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = 0;
    if (codec_member(root, "seq_reply")) {
        f->type = MM_FRAME_REPLY;
        char status[16];
        rc = get_int64(root, "seq_reply", "seq_reply", &f->seq, err, errlen);
        if (!rc)
            rc = codec_get_token(root, "status", "status", status, sizeof status, err, errlen);
        if (!rc)
            f->ok = strcmp(status, "OK") == 0;
    } else {
        rc = codec_get_token(root, "event", "event", f->event, sizeof f->event, err, errlen);
        if (!rc && !f->event[0])
            rc = codec_fail(err, errlen, ERR_INVAL, "neither an event nor a reply");
        if (!rc)
            rc = get_int64(root, "seq", "seq", &f->seq, err, errlen);
        const cJSON *data = NULL;
        if (!rc)
            rc = codec_get_object(root, "data", "data", &data, err, errlen);
        f->type = MM_FRAME_OTHER;
        if (!rc && strcmp(f->event, "hello") == 0) {
            f->type = MM_FRAME_HELLO;
            rc = codec_get_token(data, "connection_id", "data.connection_id", f->connection_id,
                                 sizeof f->connection_id, err, errlen);
        } else if (!rc && strcmp(f->event, "posted") == 0) {
            f->type = MM_FRAME_POSTED;
            rc = read_posted(data, self_id, f, err, errlen);
        }
    }
    cJSON_Delete(root);
    if (rc)
        mm_frame_free(f);
    return rc;
}

int mm_me_parse(const char *json, size_t len, char id[MM_ID_MAX], char username[MM_NAME_MAX],
                char *err, size_t errlen)
{
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = codec_get_token(root, "id", "id", id, MM_ID_MAX, err, errlen);
    if (!rc)
        rc = codec_get_token(root, "username", "username", username, MM_NAME_MAX, err, errlen);
    if (!rc && (!id[0] || !username[0]))
        rc = codec_fail(err, errlen, ERR_INVAL, "the user has no id or username");
    cJSON_Delete(root);
    return rc;
}

static int by_time(const void *a, const void *b)
{
    const struct mm_post *x = a, *y = b;
    return (x->create_at > y->create_at) - (x->create_at < y->create_at);
}

int mm_posts_parse(const char *json, size_t len, struct mm_post **out, size_t *n, char *err,
                   size_t errlen)
{
    *out = NULL;
    *n = 0;
    cJSON *root = codec_parse_object(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    const cJSON *posts = NULL;
    int rc = codec_get_object(root, "posts", "posts", &posts, err, errlen);
    int count = posts ? cJSON_GetArraySize(posts) : 0;
    if (!rc && count > MM_POSTS_MAX)
        rc = codec_fail(err, errlen, ERR_TOOBIG, "more than %d posts in one page", MM_POSTS_MAX);
    struct mm_post *list = NULL;
    if (!rc && count > 0 && !(list = calloc((size_t)count, sizeof *list)))
        rc = codec_fail(err, errlen, ERR_NOMEM, "out of memory");
    size_t got = 0;
    const cJSON *p;
    const cJSON *each = rc ? NULL : posts;
    cJSON_ArrayForEach(p, each)
    {
        if (!cJSON_IsObject(p)) {
            rc = codec_fail(err, errlen, ERR_INVAL, "posts.%s must be an object", p->string);
            break;
        }
        rc = read_post(p, "posts[]", &list[got], err, errlen);
        if (rc)
            break;
        got++;
    }
    cJSON_Delete(root);
    if (rc) {
        mm_posts_free(list, got);
        return rc;
    }
    if (got > 1)
        qsort(list, got, sizeof *list, by_time);
    *out = list;
    *n = got;
    return 0;
}

int mm_channels_parse(const char *json, size_t len, struct mm_channel **out, size_t *n, char *err,
                      size_t errlen)
{
    *out = NULL;
    *n = 0;
    cJSON *root = codec_parse_value(json, len, err, errlen);
    if (!root)
        return ERR_INVAL;
    int rc = 0, count = cJSON_IsArray(root) ? cJSON_GetArraySize(root) : -1;
    if (count < 0)
        rc = codec_fail(err, errlen, ERR_INVAL, "not a JSON array of channels");
    else if (count > MM_CHANNELS_MAX)
        rc = codec_fail(err, errlen, ERR_TOOBIG, "more than %d channels", MM_CHANNELS_MAX);
    struct mm_channel *list = NULL;
    if (!rc && count > 0 && !(list = calloc((size_t)count, sizeof *list)))
        rc = codec_fail(err, errlen, ERR_NOMEM, "out of memory");
    size_t got = 0;
    const cJSON *c;
    const cJSON *each = rc ? NULL : root;
    cJSON_ArrayForEach(c, each)
    {
        if (!cJSON_IsObject(c)) {
            rc = codec_fail(err, errlen, ERR_INVAL, "channels[%zu] must be an object", got);
            break;
        }
        rc = codec_get_token(c, "id", "channels[].id", list[got].id, sizeof list[got].id, err,
                             errlen);
        if (!rc)
            rc = codec_get_token(c, "type", "channels[].type", list[got].type,
                                 sizeof list[got].type, err, errlen);
        if (!rc && !list[got].id[0])
            rc = codec_fail(err, errlen, ERR_INVAL, "channels[%zu] has no id", got);
        if (rc)
            break;
        got++;
    }
    cJSON_Delete(root);
    if (rc) {
        free(list);
        return rc;
    }
    *out = list;
    *n = got;
    return 0;
}

int mm_auth_frame(int64_t seq, const char *token, struct buf *out)
{
    size_t start = out->len;
    int rc = buf_printf(out,
                        "{\"action\":\"authentication_challenge\",\"seq\":%lld,"
                        "\"data\":{\"token\":",
                        (long long)seq);
    if (!rc)
        rc = codec_append_json_string(out, token, strlen(token));
    if (!rc)
        rc = buf_puts(out, "}}");
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

int mm_post_body(const char *channel_id, const char *root_id, const char *text, size_t len,
                 struct buf *out)
{
    if (!channel_id || (!text && len))
        return ERR_INVAL;
    size_t start = out->len;
    int rc = buf_puts(out, "{\"channel_id\":");
    if (!rc)
        rc = codec_append_json_string(out, channel_id, strlen(channel_id));
    if (!rc)
        rc = buf_puts(out, ",\"message\":");
    if (!rc)
        rc = codec_append_json_string(out, text ? text : "", len);
    if (!rc && root_id && root_id[0]) {
        rc = buf_puts(out, ",\"root_id\":");
        if (!rc)
            rc = codec_append_json_string(out, root_id, strlen(root_id));
    }
    if (!rc)
        rc = buf_putc(out, '}');
    if (rc)
        codec_buf_cut(out, start);
    return rc;
}

/* Whether c can be part of a Mattermost username (letters, digits, '.', '-', '_'). */
static int name_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* The length of the username of a mention at text[i] ('@'), without a '.' that ends a sentence;
 * 0 when it starts none (an address such as "me@example.org", a lone '@'). */
static size_t mention_name(const char *text, size_t len, size_t i)
{
    if (i > 0 && name_char((unsigned char)text[i - 1]))
        return 0;
    size_t e = i + 1;
    while (e < len && name_char((unsigned char)text[e]))
        e++;
    while (e > i + 1 && text[e - 1] == '.')
        e--;
    return e - (i + 1);
}

/* Mattermost's mention at text[i]: "@name", planbot's when name is its username (any case). */
static void mm_mention(const char *text, size_t len, size_t i, void *arg, struct codec_mention *m)
{
    const char *username = arg;
    size_t n = text[i] == '@' ? mention_name(text, len, i) : 0, ulen = strlen(username);
    if (!n)
        return;
    m->len = 1 + n;
    m->self = n == ulen && strncasecmp(text + i + 1, username, ulen) == 0;
    m->keep = text + i;
    m->keep_len = m->len;
}

size_t mm_text_plain(char *text, size_t len, const char *username, int *named)
{
    len = codec_strip_shortcodes(text, len);
    return codec_take_mentions(text, len, mm_mention, (void *)(username ? username : ""), named);
}

/* An '@' that could start a mention (@channel, @all, @here, @someone) gets a zero-width space
 * after it; a "> " quote marker is not a mention: nothing to keep for quotes. */
static const char *mm_with(const char *text, size_t len, size_t i, int quotes)
{
    (void)quotes;
    return text[i] == '@' && i + 1 < len && name_char((unsigned char)text[i + 1]) ? AT_ZWSP : NULL;
}

const struct markup mm_markup = { .name = "mattermost",
                                  .with = mm_with,
                                  .special = "@",
                                  .mention_open = "@",
                                  .mention_close = "",
                                  .post_max = MM_POST_MAX,
                                  .unit = MARKUP_CHARS };
