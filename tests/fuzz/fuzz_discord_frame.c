/* fuzz_discord_frame.c - libFuzzer target for the Discord codec (discord_codec.h): each input is
 * read as a Gateway frame, as GET /gateway/bot, as a channel's history and as an error answer,
 * and as message content for the question reader and the escaper, which is all the outside
 * input the Discord adapter hands to it.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a documented promise breaks: a
 * message's text is NUL-terminated, valid UTF-8 and under the cap; ids are snowflakes; a failed
 * parse leaves nothing to free; history comes oldest first; dc_text_plain never lengthens its
 * input; an escaped text holds no '@' followed by a name character and no unescaped '<'; the
 * reply body is always valid JSON with allowed_mentions that parse nothing. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "discord_codec.h"
#include "utf8.h"
#include "fuzz.h"

static const struct dc_lookfor look = { "1000000000000000001", "5000000000000000001" };

static int id_ok(const char *s, int required)
{
    return s[0] ? dc_is_snowflake(s) : !required;
}

static void check_message(const struct dc_message *m)
{
    CHECK(m->text != NULL);
    CHECK(m->text[m->text_len] == '\0');
    CHECK(m->text_len < DC_TEXT_MAX);
    size_t plain = strlen(m->text);
    CHECK(plain == 0 || utf8_valid(m->text, plain, NULL));
    CHECK(id_ok(m->id, 1) && id_ok(m->channel_id, 1));
    CHECK(id_ok(m->guild_id, 0) && id_ok(m->author_id, 0));
    struct buf body;
    buf_init(&body, m->text_len * 6 + 4096);
    if (dc_reply_body(m->text, m->text_len, m->id, 0, &body) == 0) {
        cJSON *doc = cJSON_ParseWithLength(body.data, body.len);
        CHECK(doc != NULL);
        const cJSON *parse = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "allowed_mentions"), "parse");
        CHECK(cJSON_IsArray(parse) && cJSON_GetArraySize(parse) == 0);
        cJSON_Delete(doc);
    }
    buf_free(&body);
}

static void frame(const char *data, size_t size)
{
    struct dc_frame f;
    char err[256];
    if (dc_frame_parse(data, size, &look, &f, err, sizeof err)) {
        CHECK(f.msg.text == NULL);
        CHECK(strnlen(err, sizeof err) < sizeof err);
        return;
    }
    if (f.event == DC_EV_MESSAGE_CREATE)
        check_message(&f.msg);
    if (f.event == DC_EV_READY)
        CHECK(dc_is_snowflake(f.self_id) && f.session_id[0]);
    if (f.op == DC_OP_HELLO)
        CHECK(f.heartbeat_ms > 0);
    dc_frame_free(&f);
}

static void rest(const char *data, size_t size)
{
    char err[256];
    struct dc_gateway g;
    if (dc_gateway_parse(data, size, &g, err, sizeof err) == 0)
        CHECK(strncmp(g.url, "ws", 2) == 0);
    struct dc_message *list;
    size_t n;
    if (dc_messages_parse(data, size, &look, &list, &n, err, sizeof err) == 0) {
        CHECK(n <= DC_MESSAGES_MAX);
        for (size_t i = 0; i < n; i++) {
            check_message(&list[i]);
            CHECK(i == 0 || dc_snowflake_cmp(list[i - 1].id, list[i].id) <= 0);
        }
        dc_messages_free(list, n);
    } else {
        CHECK(list == NULL && n == 0);
    }
    struct dc_error e;
    dc_error_parse(data, size, &e);
    CHECK(e.retry_after <= DC_RETRY_MAX_S);
    CHECK(strnlen(e.message, sizeof e.message) < sizeof e.message);
}

static void text(const char *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        return;
    memcpy(t, data, size);
    t[size] = '\0';
    int named;
    size_t n = dc_text_plain(t, size, look.self_id, &named);
    CHECK(n <= size);
    CHECK(t[n] == '\0' || n == size);
    free(t);
    struct buf out;
    buf_init(&out, size * 4 + 64);
    CHECK(markup_escape(&dc_markup, data, size, 1, &out) == 0);
    for (size_t i = 0; i + 1 < out.len; i++)
        if (out.data[i] == '@') {
            unsigned char c = (unsigned char)out.data[i + 1];
            CHECK(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')));
        }
    buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    frame(s, size);
    rest(s, size);
    text(s, size);
    return 0;
}
