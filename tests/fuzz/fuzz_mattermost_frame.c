/* fuzz_mattermost_frame.c - libFuzzer target for the Mattermost codec (mattermost_codec.h): each
 * input is read as a WebSocket frame, as users/me and as a channel's history, and as message
 * text for the mention stripper and the escaper, which is all the outside input the Mattermost
 * adapter hands to it.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a documented promise breaks: a
 * post's text is NUL-terminated, valid UTF-8 and under the cap; ids hold only printable ASCII; a
 * failed parse leaves nothing to free; history comes oldest first; mm_text_plain never
 * lengthens its input; an escaped text holds no '@' followed by a name character; the reply body
 * is always valid JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "mattermost_codec.h"
#include "utf8.h"
#include "fuzz.h"

static int printable_id(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static void check_post(const struct mm_post *p)
{
    CHECK(p->text != NULL);
    CHECK(p->text[p->text_len] == '\0');
    CHECK(p->text_len < MM_TEXT_MAX);
    size_t plain = strlen(p->text);
    CHECK(plain == 0 || utf8_valid(p->text, plain, NULL));
    const char *ids[] = { p->id, p->user_id, p->channel_id, p->root_id, p->type };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        CHECK(printable_id(ids[i], MM_ID_MAX));
    CHECK(p->id[0] && p->channel_id[0]);
    struct buf body;
    buf_init(&body, p->text_len * 6 + 4096);
    if (mm_post_body(p->channel_id, p->root_id, p->text, p->text_len, &body) == 0) {
        cJSON *doc = cJSON_ParseWithLength(body.data, body.len);
        CHECK(doc != NULL);
        cJSON_Delete(doc);
    }
    buf_free(&body);
}

static void frame(const char *data, size_t size)
{
    struct mm_frame f;
    char err[256];
    if (mm_frame_parse(data, size, "botuserid00000000000000000", &f, err, sizeof err)) {
        CHECK(f.post.text == NULL);
        CHECK(strnlen(err, sizeof err) < sizeof err);
        return;
    }
    CHECK(printable_id(f.event, sizeof f.event));
    CHECK(printable_id(f.connection_id, sizeof f.connection_id));
    if (f.type == MM_FRAME_POSTED)
        check_post(&f.post);
    mm_frame_free(&f);
}

static void rest(const char *data, size_t size)
{
    char id[MM_ID_MAX], name[MM_NAME_MAX], err[256];
    if (mm_me_parse(data, size, id, name, err, sizeof err) == 0)
        CHECK(printable_id(id, sizeof id) && printable_id(name, sizeof name) && id[0] && name[0]);
    struct mm_post *posts;
    size_t n;
    if (mm_posts_parse(data, size, &posts, &n, err, sizeof err) == 0) {
        CHECK(n <= MM_POSTS_MAX);
        for (size_t i = 0; i < n; i++) {
            check_post(&posts[i]);
            CHECK(i == 0 || posts[i - 1].create_at <= posts[i].create_at);
        }
        mm_posts_free(posts, n);
    } else {
        CHECK(posts == NULL && n == 0);
    }
    struct mm_channel *chans;
    if (mm_channels_parse(data, size, &chans, &n, err, sizeof err) == 0) {
        CHECK(n <= MM_CHANNELS_MAX);
        for (size_t i = 0; i < n; i++)
            CHECK(chans[i].id[0] && printable_id(chans[i].id, MM_ID_MAX) &&
                  printable_id(chans[i].type, sizeof chans[i].type));
        free(chans);
    } else {
        CHECK(chans == NULL && n == 0);
    }
}

static void text(const char *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        return;
    memcpy(t, data, size);
    t[size] = '\0';
    int named;
    size_t n = mm_text_plain(t, size, "planbot", &named);
    CHECK(n <= size);
    CHECK(t[n] == '\0' || n == size);
    free(t);
    struct buf out;
    buf_init(&out, size * 4 + 64);
    CHECK(markup_escape(&mm_markup, data, size, 0, &out) == 0);
    for (size_t i = 0; i + 1 < out.len; i++)
        if (out.data[i] == '@') {
            unsigned char c = (unsigned char)out.data[i + 1];
            CHECK(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_'));
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
