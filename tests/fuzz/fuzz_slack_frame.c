/* fuzz_slack_frame.c - libFuzzer target for the Slack codec (slack_codec.h): each input is read
 * as a Socket Mode frame, as a Web API response body and as message text, which is all the
 * outside input the Slack adapter hands to it.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a documented promise breaks: a
 * parsed event's text is NUL-terminated, valid UTF-8 and no longer than the cap; ids hold only
 * printable ASCII; a failed parse leaves nothing to free; slack_text_plain and slack_text_question
 * never lengthen their
 * input; slack_split always makes progress within its bounds. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "slack_codec.h"
#include "utf8.h"
#include "fuzz.h"

/* Whether s is a NUL-terminated string of printable ASCII within cap bytes. */
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

/* Splits text into posts of at most max bytes as the adapter does, checking each step. */
static void split_all(const char *text, size_t len, size_t max)
{
    int valid = utf8_valid(text, len, NULL);
    size_t at = 0;
    while (at < len) {
        size_t next = 0;
        size_t n = slack_split(text + at, len - at, max, &next);
        CHECK(n > 0 && n <= len - at);
        CHECK(n <= max || n <= 4); /* over max only for one character longer than max */
        CHECK(next >= n && next <= len - at);
        if (valid && at + n < len) /* never inside a character */
            CHECK(((unsigned char)text[at + n] & 0xC0) != 0x80);
        at += next;
    }
}

static void check_event(struct slack_frame *f)
{
    CHECK(f->text != NULL);
    CHECK(f->text[f->text_len] == '\0');
    CHECK(f->text_len < SLACK_TEXT_MAX);
    size_t plain = strlen(f->text); /* invalid UTF-8 was repaired: what reads as text is valid */
    CHECK(plain <= f->text_len);
    CHECK(plain == 0 || utf8_valid(f->text, plain, NULL));
    const char *ids[] = { f->event_id, f->user, f->bot_id, f->channel, f->ts, f->thread_ts };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        CHECK(printable_id(ids[i], SLACK_ID_MAX));

    int direct = -1;
    enum slack_verdict v = slack_verdict(f, "UBOT", "BBOT", &direct);
    CHECK(direct == 0 || direct == 1);
    CHECK(slack_verdict_str(v) != NULL);
    (void)slack_verdict(f, NULL, "", NULL);
    (void)slack_verdict(f, f->user, f->bot_id, NULL);

    /* the reply the adapter would post: always valid JSON */
    struct buf body;
    buf_init(&body, f->text_len * 6 + 4096);
    if (slack_post_body(f->channel, f->thread_ts, f->text, f->text_len, &body) == 0) {
        cJSON *doc = cJSON_ParseWithLength(body.data, body.len);
        CHECK(doc != NULL);
        cJSON_Delete(doc);
    }
    buf_free(&body);
    split_all(f->text, f->text_len, SLACK_POST_MAX);
}

static void frame(const char *data, size_t size)
{
    struct slack_frame f;
    char err[160];
    if (slack_frame_parse(data, size, &f, err, sizeof err)) {
        CHECK(f.text == NULL);
        CHECK(strnlen(err, sizeof err) < sizeof err);
        slack_frame_free(&f);
        return;
    }
    CHECK(printable_id(f.envelope_id, SLACK_ID_MAX));
    if (f.envelope_id[0]) {
        struct buf ack;
        buf_init(&ack, 512);
        CHECK(slack_ack(f.envelope_id, &ack) == 0);
        buf_free(&ack);
    }
    if (f.type == SLACK_FRAME_EVENT)
        check_event(&f);
    slack_frame_free(&f);
}

static void api(const char *data, size_t size)
{
    struct slack_api a;
    char err[160];
    if (slack_api_parse(data, size, &a, err, sizeof err))
        return;
    CHECK(a.ok == 0 || a.ok == 1);
    CHECK(printable_id(a.error, sizeof a.error));
    CHECK(printable_id(a.url, sizeof a.url));
    (void)slack_error_fatal(a.error);
    (void)slack_error_permanent(a.error);
}

static void text(const char *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        return;
    memcpy(t, data, size);
    t[size] = '\0';
    size_t n = slack_text_plain(t, size);
    CHECK(n <= size);
    CHECK(t[n] == '\0');
    size_t q = slack_text_question(t, n, "UBOT");
    CHECK(q <= n);
    CHECK(t[q] == '\0');
    CHECK(q == 0 || !isspace((unsigned char)t[0]));
    free(t);
    /* small posts exercise every branch of the splitter; the first byte picks the size */
    split_all(data, size, size ? (unsigned char)data[0] % 16 : 1);
    split_all(data, size, SLACK_POST_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    frame(s, size);
    api(s, size);
    text(s, size);
    return 0;
}
