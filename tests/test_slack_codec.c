/* test_slack_codec.c - the Slack wire codec: the captured frames and Web API answers in
 * tests/slack/frames, then every function of slack_codec.h on its edge cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "slack_codec.h"
#include "utf8.h"

#define SELF_USER "UBOT"
#define SELF_BOT  "BBOT"
#define FFFD      "\xEF\xBF\xBD"

/* An events_api envelope around an event object, and a direct message around extra members. */
#define ENV_HEAD                                                                                   \
    "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":\"event_callback\"," \
    "\"event_id\":\"Ev1\",\"event\":"
#define ENV_TAIL "}}"
#define DM_MEMBERS                                                                                 \
    "\"type\":\"message\",\"channel_type\":\"im\",\"user\":\"U1\",\"channel\":\"D1\",\"ts\":\"1."  \
    "2\""
#define DM_EVENT(extra) "{" DM_MEMBERS extra "}"

/* Reads tests/slack/frames/name into a buffer of exactly its size with no NUL after it, so that
 * valgrind reports any read past len. Skips the test when PLANBOT_SOURCE is not set. */
static char *read_fixture(const char *name, size_t *len)
{
    const char *root = getenv("PLANBOT_SOURCE");
    if (!root) {
        print_message("PLANBOT_SOURCE is not set (ctest sets it): skipping\n");
        skip();
    }
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/tests/slack/frames/%s", root, name);
    assert_true(n > 0 && (size_t)n < sizeof path);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("cannot open %s", path);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    assert_true(size >= 0);
    rewind(fp);
    char *data = malloc(size ? (size_t)size : 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    *len = (size_t)size;
    return data;
}

/* Parses a NUL-terminated frame from a copy without the NUL. */
static int parse(const char *json, struct slack_frame *f, char *err, size_t errlen)
{
    size_t len = strlen(json);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, json, len);
    int rc = slack_frame_parse(copy, len, f, err, errlen);
    free(copy);
    return rc;
}

/* ---- the captured frames ---- */

struct frame_row {
    const char *file;
    int rc;
    const char *says; /* in err when rc != 0 */
    enum slack_frame_type type;
    const char *envelope_id; /* NULL: "" (also after an error) */
    int retry_attempt;
    const char *reason;
    int num_connections, connection_time;
    const char *event_id, *event_type, *subtype, *channel_type, *user, *bot_id, *channel, *ts,
        *thread_ts; /* NULL: "" */
    int hidden;
    const char *text; /* events: NULL means "" */
    enum slack_verdict verdict;
    int direct;
};

static const struct frame_row frame_rows[] = {
    { .file = "hello.json",
      .type = SLACK_FRAME_HELLO,
      .num_connections = 1,
      .connection_time = 18060,
      .verdict = SLACK_IGNORE_KIND },
    { .file = "disconnect_warning.json",
      .type = SLACK_FRAME_DISCONNECT,
      .reason = "warning",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "disconnect_refresh_requested.json",
      .type = SLACK_FRAME_DISCONNECT,
      .reason = "refresh_requested",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "disconnect_link_disabled.json",
      .type = SLACK_FRAME_DISCONNECT,
      .reason = "link_disabled",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "disconnect_too_many_websockets.json",
      .type = SLACK_FRAME_DISCONNECT,
      .reason = "too_many_websockets",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "event_app_mention.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "4f1d2b7e-9c3a-4e55-8a61-0b2f7d9e3c11",
      .event_id = "Ev06PLN0MENT",
      .event_type = "app_mention",
      .user = "U0ALICE01",
      .channel = "C0CHAN001",
      .ts = "1712059200.000300",
      .text = "<@UBOT> when is the sprint planning? Agenda: the agenda & notes in #planning "
              "<draft>",
      .verdict = SLACK_ANSWER },
    { .file = "event_dm_message.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "a7c3e1f0-2b4d-4f68-9e1a-3c5b7d9f0e22",
      .event_id = "Ev06PLN0DM01",
      .event_type = "message",
      .channel_type = "im",
      .user = "U0ALICE01",
      .channel = "D0DM00001",
      .ts = "1712059300.000500",
      .text = "how do I book a room for Thursday?",
      .verdict = SLACK_ANSWER,
      .direct = 1 },
    { .file = "event_redelivery.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "e90b2d4c-6a1f-4c37-b5d8-7f0e2a4c6b33",
      .retry_attempt = 2,
      .event_id = "Ev06PLN0DM01",
      .event_type = "message",
      .channel_type = "im",
      .user = "U0ALICE01",
      .channel = "D0DM00001",
      .ts = "1712059300.000500",
      .text = "how do I book a room for Thursday?",
      .verdict = SLACK_ANSWER,
      .direct = 1 },
    { .file = "event_thread_reply.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "1b3d5f7a-9c0e-4a2b-8d6f-1e3a5c7b9d44",
      .event_id = "Ev06PLN0THR1",
      .event_type = "app_mention",
      .user = "U0BOB0002",
      .channel = "C0CHAN001",
      .ts = "1712059400.000700",
      .thread_ts = "1712059200.000300",
      .text = "<@UBOT> and for the Berlin office?",
      .verdict = SLACK_ANSWER },
    { .file = "event_channel_message.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "2c4e6a8b-0d1f-4b3c-9e5a-2f4b6d8c0e55",
      .event_id = "Ev06PLN0CHN1",
      .event_type = "message",
      .channel_type = "channel",
      .user = "U0ALICE01",
      .channel = "C0CHAN001",
      .ts = "1712059500.000900",
      .text = "@here standup moved to 10:30, see http://example.com",
      .verdict = SLACK_IGNORE_CHANNEL },
    { .file = "event_message_changed.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "3d5f7b9c-1e2a-4c4d-8f6b-3a5c7e9d1f66",
      .event_id = "Ev06PLN0CHG1",
      .event_type = "message",
      .subtype = "message_changed",
      .channel_type = "im",
      .channel = "D0DM00001",
      .ts = "1712059310.000600",
      .hidden = 1,
      .verdict = SLACK_IGNORE_SUBTYPE },
    { .file = "event_bot_message.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "4e6a8c0d-2f3b-4d5e-9a7c-4b6d8f0e2a77",
      .event_id = "Ev06PLN0BOT1",
      .event_type = "message",
      .subtype = "bot_message",
      .channel_type = "channel",
      .bot_id = "B0DEPLOY1",
      .channel = "C0CHAN001",
      .ts = "1712059600.001100",
      .text = "Deploy of planner-web 2024.04.02 finished",
      .verdict = SLACK_IGNORE_BOT },
    { .file = "event_own_message.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "5f7b9d1e-3a4c-4e6f-8b8d-5c7e9a1f3b88",
      .event_id = "Ev06PLN0OWN1",
      .event_type = "message",
      .channel_type = "im",
      .user = "UBOT",
      .bot_id = "BBOT",
      .channel = "D0DM00001",
      .ts = "1712059310.000800",
      .thread_ts = "1712059300.000500",
      .text = "Rooms are booked in the Rooms app: https://rooms.example.com",
      .verdict = SLACK_IGNORE_SELF },
    { .file = "event_no_event_id.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "6a8c0e2f-4b5d-4f70-9c9e-6d8f0b2a4c99",
      .event_id = "C0CHAN001:1712059700.001300",
      .event_type = "app_mention",
      .user = "U0ALICE01",
      .channel = "C0CHAN001",
      .ts = "1712059700.001300",
      .text = "<@UBOT> who approves travel?",
      .verdict = SLACK_ANSWER },
    { .file = "event_team_join.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "7b9d1f3a-5c6e-4a81-8dab-7e9a1c3b5daa",
      .event_id = "Ev06PLN0JOIN",
      .event_type = "team_join",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "event_invalid_utf8.json",
      .type = SLACK_FRAME_EVENT,
      .envelope_id = "8c0e2a4b-6d7f-4b92-9ebc-8f0b2d4c6ebb",
      .event_id = "Ev06PLN0UTF8",
      .event_type = "message",
      .channel_type = "im",
      .user = "U0ALICE01",
      .channel = "D0DM00001",
      .ts = "1712059900.001700",
      .text = "caf" FFFD " room " FFFD " ok " FFFD "x " FFFD FFFD FFFD,
      .verdict = SLACK_ANSWER,
      .direct = 1 },
    { .file = "events_app_rate_limited.json",
      .type = SLACK_FRAME_ENVELOPE,
      .envelope_id = "9d1f3b5c-7e8a-4ca3-8fcd-9a1c3e5d7fcc",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "slash_command.json",
      .type = SLACK_FRAME_ENVELOPE,
      .envelope_id = "0e2a4c6d-8f9b-4db4-9ade-0b2d4f6e8add",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "interactive_block_actions.json",
      .type = SLACK_FRAME_ENVELOPE,
      .envelope_id = "1f3b5d7e-9a0c-4ec5-8bef-1c3e5a7f9bee",
      .verdict = SLACK_IGNORE_KIND },
    { .file = "bad_empty.json", .rc = ERR_INVAL, .says = "empty" },
    { .file = "bad_invalid_json.json", .rc = ERR_INVAL, .says = "not valid JSON at byte" },
    { .file = "bad_array.json", .rc = ERR_INVAL, .says = "not a JSON object" },
    { .file = "bad_trailing_garbage.json",
      .rc = ERR_INVAL,
      .says = "more after the JSON value at byte 40" },
    { .file = "bad_envelope_id_number.json",
      .rc = ERR_INVAL,
      .says = "envelope_id must be a string" },
    { .file = "bad_envelope_id_300.json",
      .rc = ERR_INVAL,
      .says = "envelope_id is 300 bytes, longer than 127" },
    { .file = "bad_text_number.json",
      .rc = ERR_INVAL,
      .says = "payload.event.text must be a string",
      .envelope_id = "4c6e8a0b-2d3f-4b18-9e12-4f6b8d0c2e11" },
    { .file = "bad_user_id_300.json",
      .rc = ERR_INVAL,
      .says = "payload.event.user is 300 bytes, longer than 127",
      .envelope_id = "5d7f9b1c-3e4a-4c29-8f23-5a7c9e1d3f22" },
    { .file = "bad_event_not_object.json",
      .rc = ERR_INVAL,
      .says = "payload.event must be an object",
      .envelope_id = "6e8a0c2d-4f5b-4d3a-9a34-6b8d0f2e4a33" },
    { .file = "bad_retry_attempt_string.json",
      .rc = ERR_INVAL,
      .says = "retry_attempt must be a number",
      .envelope_id = "7f9b1d3e-5a6c-4e4b-8b45-7c9e1a3f5b44" },
    { .file = "bad_deep_nesting.json", .rc = ERR_INVAL, .says = "nested deeper than 64 levels" },
};

static void expect_str(size_t row, const char *file, const char *field, const char *got,
                       const char *want)
{
    if (!want)
        want = "";
    if (strcmp(got, want) != 0)
        fail_msg("row %zu (%s): %s is \"%s\", expected \"%s\"", row, file, field, got, want);
}

static void frames_parse_as_captured(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof frame_rows / sizeof frame_rows[0]; i++) {
        const struct frame_row *r = &frame_rows[i];
        size_t len;
        char *json = read_fixture(r->file, &len);
        struct slack_frame f;
        char err[256] = "";
        int rc = slack_frame_parse(json, len, &f, err, sizeof err);
        free(json);
        if (rc != r->rc)
            fail_msg("row %zu (%s): rc %d, expected %d (%s)", i, r->file, rc, r->rc, err);
        if (r->says && !strstr(err, r->says))
            fail_msg("row %zu (%s): err \"%s\" does not say \"%s\"", i, r->file, err, r->says);
        expect_str(i, r->file, "envelope_id", f.envelope_id, r->envelope_id);
        if (rc) {
            /* A failed parse leaves nothing but the envelope id to ack. */
            assert_null(f.text);
            assert_int_equal(f.type, 0);
            expect_str(i, r->file, "event_id", f.event_id, "");
            expect_str(i, r->file, "user", f.user, "");
            slack_frame_free(&f);
            continue;
        }
        assert_string_equal(err, "");
        if (f.type != r->type)
            fail_msg("row %zu (%s): type %d, expected %d", i, r->file, f.type, r->type);
        assert_int_equal(f.retry_attempt, r->retry_attempt);
        assert_int_equal(f.num_connections, r->num_connections);
        assert_int_equal(f.connection_time, r->connection_time);
        assert_int_equal(f.hidden, r->hidden);
        expect_str(i, r->file, "reason", f.reason, r->reason);
        expect_str(i, r->file, "event_id", f.event_id, r->event_id);
        expect_str(i, r->file, "event_type", f.event_type, r->event_type);
        expect_str(i, r->file, "subtype", f.subtype, r->subtype);
        expect_str(i, r->file, "channel_type", f.channel_type, r->channel_type);
        expect_str(i, r->file, "user", f.user, r->user);
        expect_str(i, r->file, "bot_id", f.bot_id, r->bot_id);
        expect_str(i, r->file, "channel", f.channel, r->channel);
        expect_str(i, r->file, "ts", f.ts, r->ts);
        expect_str(i, r->file, "thread_ts", f.thread_ts, r->thread_ts);
        if (f.type == SLACK_FRAME_EVENT) {
            assert_non_null(f.text);
            expect_str(i, r->file, "text", f.text, r->text);
            assert_int_equal(f.text_len, strlen(f.text));
            assert_true(utf8_valid(f.text, f.text_len, NULL));
        } else {
            assert_null(f.text);
        }
        int direct = -1;
        enum slack_verdict v = slack_verdict(&f, SELF_USER, SELF_BOT, &direct);
        if (v != r->verdict || direct != r->direct)
            fail_msg("row %zu (%s): verdict %s direct %d, expected %s direct %d", i, r->file,
                     slack_verdict_str(v), direct, slack_verdict_str(r->verdict), r->direct);
        if (f.envelope_id[0]) {
            struct buf b;
            char want[256];
            buf_init(&b, 1024);
            assert_int_equal(slack_ack(f.envelope_id, &b), 0);
            snprintf(want, sizeof want, "{\"envelope_id\":\"%s\"}", f.envelope_id);
            assert_string_equal(buf_str(&b), want);
            buf_free(&b);
        }
        slack_frame_free(&f);
        assert_null(f.text);
    }
}

static void redelivery_keeps_the_event_id_of_the_first_delivery(void **state)
{
    (void)state;
    struct slack_frame first, again;
    size_t len;
    char *json = read_fixture("event_dm_message.json", &len);
    assert_int_equal(slack_frame_parse(json, len, &first, NULL, 0), 0);
    free(json);
    json = read_fixture("event_redelivery.json", &len);
    assert_int_equal(slack_frame_parse(json, len, &again, NULL, 0), 0);
    free(json);
    assert_int_equal(first.retry_attempt, 0);
    assert_int_equal(again.retry_attempt, 2);
    assert_string_not_equal(first.envelope_id, again.envelope_id);
    assert_string_equal(first.event_id, again.event_id);
    slack_frame_free(&first);
    slack_frame_free(&again);
}

/* ---- the Web API answers ---- */

struct api_row {
    const char *file;
    int rc;
    const char *says;
    int ok;
    const char *error, *url, *user_id, *bot_id, *ts; /* NULL: "" */
    int fatal, permanent;
};

static const struct api_row api_rows[] = {
    { .file = "api_connections_open_ok.json",
      .ok = 1,
      .url = "wss://wss-primary.slack.com/link/?ticket=0f6a2c9e-4b1d-4e7a-9c3f-2a8d6b0e4f11&app_"
             "id=A0PLANBOT" },
    { .file = "api_connections_open_invalid_auth.json",
      .error = "invalid_auth",
      .fatal = 1,
      .permanent = 1 },
    { .file = "api_connections_open_not_allowed_token_type.json",
      .error = "not_allowed_token_type",
      .fatal = 1,
      .permanent = 1 },
    { .file = "api_auth_test_ok.json",
      .ok = 1,
      .url = "https://acme-planning.slack.com/",
      .user_id = "UBOT",
      .bot_id = "BBOT" },
    /* The posted message's bot_id is inside "message"; only top-level fields are read. */
    { .file = "api_post_message_ok.json", .ok = 1, .ts = "1712059260.000400" },
    { .file = "api_post_message_ratelimited.json", .error = "ratelimited" },
    { .file = "api_post_message_channel_not_found.json",
      .error = "channel_not_found",
      .permanent = 1 },
    { .file = "api_post_message_missing_scope.json",
      .error = "missing_scope",
      .fatal = 1,
      .permanent = 1 },
    { .file = "api_bad_html.json", .rc = ERR_INVAL, .says = "not valid JSON at byte 0" },
    { .file = "api_bad_ok_string.json", .rc = ERR_INVAL, .says = "\"ok\" must be true or false" },
    { .file = "api_bad_missing_ok.json", .rc = ERR_INVAL, .says = "\"ok\" must be true or false" },
    { .file = "api_bad_url_number.json", .rc = ERR_INVAL, .says = "url must be a string" },
    { .file = "api_bad_truncated.json", .rc = ERR_INVAL, .says = "not valid JSON" },
    { .file = "api_bad_error_too_long.json",
      .rc = ERR_INVAL,
      .says = "error is 100 bytes, longer than 63" },
};

static void api_answers_parse_as_captured(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof api_rows / sizeof api_rows[0]; i++) {
        const struct api_row *r = &api_rows[i];
        size_t len;
        char *json = read_fixture(r->file, &len);
        struct slack_api a;
        char err[256] = "";
        int rc = slack_api_parse(json, len, &a, err, sizeof err);
        free(json);
        if (rc != r->rc)
            fail_msg("row %zu (%s): rc %d, expected %d (%s)", i, r->file, rc, r->rc, err);
        if (r->says && !strstr(err, r->says))
            fail_msg("row %zu (%s): err \"%s\" does not say \"%s\"", i, r->file, err, r->says);
        assert_int_equal(a.ok, r->ok);
        expect_str(i, r->file, "error", a.error, r->error);
        expect_str(i, r->file, "url", a.url, r->url);
        expect_str(i, r->file, "user_id", a.user_id, r->user_id);
        expect_str(i, r->file, "bot_id", a.bot_id, r->bot_id);
        expect_str(i, r->file, "ts", a.ts, r->ts);
        if (slack_error_fatal(a.error) != r->fatal ||
            slack_error_permanent(a.error) != r->permanent)
            fail_msg("row %zu (%s): \"%s\" fatal %d permanent %d", i, r->file, a.error,
                     slack_error_fatal(a.error), slack_error_permanent(a.error));
    }
}

static void every_fixture_file_has_a_row(void **state)
{
    (void)state;
    const char *root = getenv("PLANBOT_SOURCE");
    if (!root)
        skip();
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/slack/frames", root);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    size_t files = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        int found = 0;
        for (size_t i = 0; i < sizeof frame_rows / sizeof frame_rows[0]; i++)
            found |= strcmp(frame_rows[i].file, e->d_name) == 0;
        for (size_t i = 0; i < sizeof api_rows / sizeof api_rows[0]; i++)
            found |= strcmp(api_rows[i].file, e->d_name) == 0;
        if (!found)
            fail_msg("%s/%s has no row in this test", path, e->d_name);
        files++;
    }
    closedir(d);
    assert_int_equal(files, sizeof frame_rows / sizeof frame_rows[0] +
                                sizeof api_rows / sizeof api_rows[0]);
}

/* ---- slack_frame_parse on made-up frames ---- */

static void parse_rejects_wrong_types_naming_the_field(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *says;
        const char *envelope_id; /* kept for the ack */
    } rows[] = {
        { "{\"type\":7}", "type must be a string", "" },
        { "{\"type\":\"hello\",\"num_connections\":\"1\"}", "num_connections must be a number",
          "" },
        { "{\"type\":\"hello\",\"debug_info\":[]}", "debug_info must be an object", "" },
        { "{\"type\":\"hello\",\"debug_info\":{\"approximate_connection_time\":-5}}",
          "debug_info.approximate_connection_time must be a whole number", "" },
        { "{\"type\":\"disconnect\",\"reason\":false}", "reason must be a string", "" },
        { "{\"envelope_id\":\"\",\"type\":\"events_api\"}", "envelope_id is empty", "" },
        { "{\"envelope_id\":\"env 1\",\"type\":\"events_api\"}", "envelope_id holds byte 0x20",
          "" },
        { "{\"envelope_id\":[\"env-1\"],\"type\":\"events_api\"}", "envelope_id must be a string",
          "" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"retry_attempt\":1.5}",
          "retry_attempt must be a whole number", "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"retry_attempt\":1e300}",
          "retry_attempt must be a whole number", "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"slash_commands\",\"payload\":\"text=help\"}",
          "payload must be an object", "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":1}}",
          "payload.type must be a string", "env-1" },
        { ENV_HEAD "[]" ENV_TAIL, "payload.event must be an object", "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":"
          "\"event_callback\",\"event_id\":5,\"event\":{}}}",
          "payload.event_id must be a string", "env-1" },
        { ENV_HEAD "{\"type\":[\"message\"]}" ENV_TAIL, "payload.event.type must be a string",
          "env-1" },
        { ENV_HEAD "{\"type\":\"message\",\"user\":7}" ENV_TAIL,
          "payload.event.user must be a string", "env-1" },
        { ENV_HEAD "{\"type\":\"message\",\"channel\":{\"id\":\"C1\"}}" ENV_TAIL,
          "payload.event.channel must be a string", "env-1" },
        { ENV_HEAD "{\"type\":\"message\",\"thread_ts\":1712059200.0003}" ENV_TAIL,
          "payload.event.thread_ts must be a string", "env-1" },
        { ENV_HEAD "{\"type\":\"app_mention\",\"subtype\":true}" ENV_TAIL,
          "payload.event.subtype must be a string", "env-1" },
        { ENV_HEAD DM_EVENT(",\"hidden\":\"yes\"") ENV_TAIL,
          "payload.event.hidden must be true or false", "env-1" },
        { ENV_HEAD DM_EVENT(",\"bot_id\":\"B\\nforged log line\"") ENV_TAIL,
          "payload.event.bot_id holds byte 0x0a at 1", "env-1" },
        { ENV_HEAD DM_EVENT(",\"text\":[\"hi\"]") ENV_TAIL, "payload.event.text must be a string",
          "env-1" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct slack_frame f;
        char err[256] = "";
        int rc = parse(rows[i].json, &f, err, sizeof err);
        if (rc != ERR_INVAL || !strstr(err, rows[i].says))
            fail_msg("row %zu: got %d \"%s\", expected \"%s\"", i, rc, err, rows[i].says);
        assert_string_equal(f.envelope_id, rows[i].envelope_id);
        assert_null(f.text);
        slack_frame_free(&f);
    }
}

static void parse_classifies_frames_by_type_and_envelope(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        enum slack_frame_type type;
        const char *envelope_id;
    } rows[] = {
        { "{}", SLACK_FRAME_OTHER, "" },
        { "{\"type\":\"goodbye\"}", SLACK_FRAME_OTHER, "" },
        { "{\"type\":\"events_api\",\"payload\":{}}", SLACK_FRAME_OTHER, "" },
        { "{\"envelope_id\":null,\"type\":\"events_api\"}", SLACK_FRAME_OTHER, "" },
        { "{\"envelope_id\":\"env-1\"}", SLACK_FRAME_ENVELOPE, "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"some_future_kind\",\"payload\":{\"x\":[1]}}",
          SLACK_FRAME_ENVELOPE, "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\"}", SLACK_FRAME_ENVELOPE, "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":"
          "\"event_callback\"}}",
          SLACK_FRAME_ENVELOPE, "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":"
          "\"url_verification\",\"event\":{\"type\":\"message\"}}}",
          SLACK_FRAME_ENVELOPE, "env-1" },
        { "{\"envelope_id\":\"env-1\",\"type\":\"interactive\",\"payload\":{\"type\":"
          "\"event_callback\",\"event\":{\"type\":\"message\"}}}",
          SLACK_FRAME_ENVELOPE, "env-1" },
        { ENV_HEAD "{}" ENV_TAIL, SLACK_FRAME_EVENT, "env-1" },
        /* the longest event type name Slack has (32 bytes) */
        { ENV_HEAD "{\"type\":\"assistant_thread_context_changed\",\"assistant_thread\":{"
                   "\"user_id\":\"U1\",\"channel_id\":\"D1\"}}" ENV_TAIL,
          SLACK_FRAME_EVENT, "env-1" },
        { "{\"type\":\"hello\",\"envelope_id\":\"env-1\"}", SLACK_FRAME_HELLO, "env-1" },
        { " \r\n\t{\"type\":\"disconnect\"} \n", SLACK_FRAME_DISCONNECT, "" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct slack_frame f;
        char err[256] = "";
        int rc = parse(rows[i].json, &f, err, sizeof err);
        if (rc != 0 || f.type != rows[i].type)
            fail_msg("row %zu: rc %d type %d (%s), expected type %d", i, rc, f.type, err,
                     rows[i].type);
        assert_string_equal(f.envelope_id, rows[i].envelope_id);
        assert_int_equal(f.type == SLACK_FRAME_EVENT, f.text != NULL);
        slack_frame_free(&f);
    }
}

static void parse_reads_null_as_missing(void **state)
{
    (void)state;
    struct slack_frame f;
    char err[256] = "";
    const char *json = "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"retry_attempt\":null,"
                       "\"payload\":{\"type\":\"event_callback\",\"event_id\":\"Ev1\",\"event\":"
                       "{\"type\":\"message\",\"channel_type\":\"im\",\"user\":\"U1\",\"channel\":"
                       "\"D1\",\"ts\":\"1.2\",\"subtype\":null,\"bot_id\":null,\"thread_ts\":null,"
                       "\"hidden\":null,\"text\":null}}}";
    assert_int_equal(parse(json, &f, err, sizeof err), 0);
    assert_string_equal(f.subtype, "");
    assert_string_equal(f.bot_id, "");
    assert_string_equal(f.thread_ts, "");
    assert_int_equal(f.hidden, 0);
    assert_string_equal(f.text, "");
    assert_int_equal(slack_verdict(&f, SELF_USER, SELF_BOT, NULL), SLACK_ANSWER);
    slack_frame_free(&f);
}

static void parse_caps_ids_at_127_bytes(void **state)
{
    (void)state;
    char id[SLACK_ID_MAX + 1], json[1024];
    struct slack_frame f;
    char err[256] = "";
    for (size_t n = SLACK_ID_MAX - 1; n <= SLACK_ID_MAX; n++) {
        memset(id, 'U', n);
        id[n] = '\0';
        snprintf(json, sizeof json, ENV_HEAD "{\"type\":\"message\",\"user\":\"%s\"}" ENV_TAIL, id);
        int rc = parse(json, &f, err, sizeof err);
        if (n < SLACK_ID_MAX) {
            assert_int_equal(rc, 0);
            assert_string_equal(f.user, id);
        } else {
            assert_int_equal(rc, ERR_INVAL);
            assert_non_null(strstr(err, "payload.event.user is 128 bytes"));
        }
        slack_frame_free(&f);
        snprintf(json, sizeof json, "{\"envelope_id\":\"%s\"}", id);
        rc = parse(json, &f, err, sizeof err);
        if (n < SLACK_ID_MAX) {
            assert_int_equal(rc, 0);
            assert_string_equal(f.envelope_id, id);
        } else {
            assert_int_equal(rc, ERR_INVAL);
            assert_string_equal(f.envelope_id, "");
        }
        slack_frame_free(&f);
    }
    /* The short fields have their own caps. */
    assert_int_equal(parse("{\"type\":\"disconnect\",\"reason\":\"" /* 64 bytes */
                           "0123456789012345678901234567890123456789012345678901234567890123\"}",
                           &f, err, sizeof err),
                     ERR_INVAL);
    assert_non_null(strstr(err, "reason is 64 bytes, longer than 63"));
    assert_int_equal(parse(ENV_HEAD
                           "{\"type\":\"message\",\"channel_type\":\"a_very_long_type\"}" ENV_TAIL,
                           &f, err, sizeof err),
                     ERR_INVAL);
    assert_non_null(strstr(err, "payload.event.channel_type is 16 bytes"));
}

static void parse_falls_back_to_channel_and_ts_for_the_event_id(void **state)
{
    (void)state;
    struct slack_frame f;
    char err[256] = "", json[1024], id[100];
    const char *head = "{\"envelope_id\":\"env-1\",\"type\":\"events_api\",\"payload\":{\"type\":"
                       "\"event_callback\",\"event\":";
    snprintf(json, sizeof json, "%s%s}}", head,
             "{\"type\":\"message\",\"channel\":\"D1\",\"ts\":\"1.2\",\"user\":\"U1\"}");
    assert_int_equal(parse(json, &f, err, sizeof err), 0);
    assert_string_equal(f.event_id, "D1:1.2");
    slack_frame_free(&f);
    /* Nothing to build it from: "" rather than a made-up key. */
    snprintf(json, sizeof json, "%s%s}}", head, "{\"type\":\"message\",\"ts\":\"1.2\"}");
    assert_int_equal(parse(json, &f, err, sizeof err), 0);
    assert_string_equal(f.event_id, "");
    slack_frame_free(&f);
    /* Two ids that fit alone but not together. */
    memset(id, 'C', 80);
    id[80] = '\0';
    snprintf(json, sizeof json, "%s{\"type\":\"message\",\"channel\":\"%s\",\"ts\":\"%s\"}}}", head,
             id, id);
    assert_int_equal(parse(json, &f, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "no payload.event_id"));
    assert_string_equal(f.envelope_id, "env-1");
}

/* Builds a direct message frame whose text is the JSON value text_json. Caller frees. */
static char *dm_with_text(const char *text_json, size_t *len)
{
    struct buf b;
    buf_init(&b, 16u << 20);
    assert_int_equal(buf_printf(&b, ENV_HEAD DM_EVENT(",\"text\":%s") ENV_TAIL, text_json), 0);
    *len = b.len;
    return buf_take(&b);
}

static void parse_repairs_invalid_utf8_in_text(void **state)
{
    (void)state;
    static const struct {
        const char *text_json, *text;
    } rows[] = {
        { "\"caf\xC3\xA9 \xD0\x9F\xD1\x80\xD0\xB8 \xF0\x9F\x98\x80\"",
          "caf\xC3\xA9 \xD0\x9F\xD1\x80\xD0\xB8 \xF0\x9F\x98\x80" },
        { "\"caf\xC3\"", "caf" FFFD },
        { "\"\xFF\xFE\"", FFFD FFFD },
        { "\"\xE2\x82x\"", FFFD "x" },                               /* truncated: one U+FFFD */
        { "\"\xF0\x9F\x98\"", FFFD },                                /* truncated at the end */
        { "\"\xC0\xAF\"", FFFD FFFD },                               /* overlong '/' */
        { "\"\xED\xA0\x80\"", FFFD FFFD FFFD },                      /* a surrogate */
        { "\"\xF4\x90\x80\x80\"", FFFD FFFD FFFD FFFD },             /* above U+10FFFF */
        { "\"\x80 \xBF\"", FFFD " " FFFD },                          /* lone continuation bytes */
        { "\"\\u00e9\\ud83d\\ude00\"", "\xC3\xA9\xF0\x9F\x98\x80" }, /* escapes */
        { "\"<@U1|\xC3> &amp;\xE2\"", "<@U1> &" FFFD },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len;
        char *json = dm_with_text(rows[i].text_json, &len);
        struct slack_frame f;
        char err[256] = "";
        int rc = slack_frame_parse(json, len, &f, err, sizeof err);
        free(json);
        if (rc)
            fail_msg("row %zu: %d %s", i, rc, err);
        if (strcmp(f.text, rows[i].text) != 0)
            fail_msg("row %zu: text \"%s\", expected \"%s\"", i, f.text, rows[i].text);
        assert_int_equal(f.text_len, strlen(rows[i].text));
        assert_true(utf8_valid(f.text, f.text_len, NULL));
        slack_frame_free(&f);
    }
}

static void parse_never_lets_a_nul_into_text(void **state)
{
    (void)state;
    size_t len;
    char *json = dm_with_text("\"a\\u0000b\"", &len);
    struct slack_frame f;
    char err[256];
    int rc = slack_frame_parse(json, len, &f, err, sizeof err);
    free(json);
    if (rc == 0) {
        assert_int_equal(f.text_len, strlen(f.text));
        assert_true(utf8_valid(f.text, f.text_len, NULL));
    } else {
        assert_int_equal(rc, ERR_INVAL);
    }
    slack_frame_free(&f);
}

static void parse_caps_text_at_slack_text_max(void **state)
{
    (void)state;
    struct buf text;
    buf_init(&text, SLACK_TEXT_MAX + 16);
    struct slack_frame f;
    char err[256] = "";
    /* Exactly the cap, then one byte over. */
    for (size_t n = SLACK_TEXT_MAX; n <= SLACK_TEXT_MAX + 1; n++) {
        buf_reset(&text);
        assert_int_equal(buf_putc(&text, '"'), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(buf_putc(&text, i % 64 == 63 ? ' ' : 'a'), 0);
        assert_int_equal(buf_putc(&text, '"'), 0);
        size_t len;
        char *json = dm_with_text(buf_str(&text), &len);
        int rc = slack_frame_parse(json, len, &f, err, sizeof err);
        free(json);
        if (n == SLACK_TEXT_MAX) {
            assert_int_equal(rc, 0);
            assert_int_equal(f.text_len, SLACK_TEXT_MAX);
        } else {
            assert_int_equal(rc, ERR_TOOBIG);
            assert_non_null(strstr(err, "payload.event.text is over"));
            assert_string_equal(f.envelope_id, "env-1");
            assert_null(f.text);
        }
        slack_frame_free(&f);
    }
    /* Under the cap as received, over it once each bad byte became three. */
    buf_reset(&text);
    assert_int_equal(buf_putc(&text, '"'), 0);
    for (size_t i = 0; i < SLACK_TEXT_MAX / 3 + 1; i++)
        assert_int_equal(buf_putc(&text, (char)0xFF), 0);
    assert_int_equal(buf_putc(&text, '"'), 0);
    size_t len;
    char *json = dm_with_text(buf_str(&text), &len);
    assert_int_equal(slack_frame_parse(json, len, &f, err, sizeof err), ERR_TOOBIG);
    free(json);
    buf_free(&text);
}

/* A frame with blocks depth levels deep, as [[[...]]] or {"k…":{"k…":...1}} (20 bytes a
 * level), behind a real envelope. */
static char *deep_frame(size_t depth, int objects, size_t *len)
{
    struct buf b;
    buf_init(&b, 16u << 20);
    assert_int_equal(buf_puts(&b, ENV_HEAD "{" DM_MEMBERS ",\"blocks\":"), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_puts(&b, objects ? "{\"k0123456789abcd\":" : "["), 0);
    assert_int_equal(buf_putc(&b, '1'), 0);
    for (size_t i = 0; i < depth; i++)
        assert_int_equal(buf_putc(&b, objects ? '}' : ']'), 0);
    assert_int_equal(buf_puts(&b, "}" ENV_TAIL), 0);
    *len = b.len;
    return buf_take(&b);
}

static void parse_survives_a_2mb_frame_nested_100000_deep(void **state)
{
    (void)state;
    for (int objects = 0; objects <= 1; objects++) {
        size_t len;
        char *json = deep_frame(100000, objects, &len);
        struct slack_frame f;
        char err[256] = "";
        assert_true(len >= (objects ? 2000000u : 200000u));
        assert_int_equal(slack_frame_parse(json, len, &f, err, sizeof err), ERR_INVAL);
        assert_non_null(strstr(err, "nested deeper than 64 levels"));
        assert_null(f.text);
        free(json);
    }
    /* 2 MB of brackets and nothing else. */
    size_t n = 1000000;
    char *json = malloc(2 * n);
    assert_non_null(json);
    memset(json, '[', n);
    memset(json + n, ']', n);
    struct slack_frame f;
    struct slack_api a;
    char err[256] = "";
    assert_int_equal(slack_frame_parse(json, 2 * n, &f, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "nested deeper"));
    assert_int_equal(slack_api_parse(json, 2 * n, &a, err, sizeof err), ERR_INVAL);
    free(json);
}

static void parse_allows_64_levels_of_nesting(void **state)
{
    (void)state;
    struct slack_frame f;
    char err[256] = "";
    /* The envelope, payload and event are 3 levels and the blocks value 1 more per bracket. */
    for (size_t depth = 59; depth <= 62; depth++) {
        size_t len;
        char *json = deep_frame(depth, 0, &len);
        int rc = slack_frame_parse(json, len, &f, err, sizeof err);
        free(json);
        if (depth + 3 <= 64)
            assert_int_equal(rc, 0);
        else
            assert_int_equal(rc, ERR_INVAL);
        slack_frame_free(&f);
    }
}

static void parse_ignores_brackets_inside_strings(void **state)
{
    (void)state;
    struct buf text;
    buf_init(&text, 1u << 20);
    assert_int_equal(buf_puts(&text, "\"\\\""), 0); /* "\" then brackets then \\ */
    for (int i = 0; i < 100000; i++)
        assert_int_equal(buf_puts(&text, "[{"), 0);
    assert_int_equal(buf_puts(&text, "\\\\\""), 0);
    size_t len;
    char *json = dm_with_text(buf_str(&text), &len);
    buf_free(&text);
    struct slack_frame f;
    char err[256] = "";
    assert_int_equal(slack_frame_parse(json, len, &f, err, sizeof err), 0);
    free(json);
    assert_int_equal(f.text_len, 1 + 200000 + 1);
    assert_int_equal(f.text[0], '"');
    assert_int_equal(f.text[f.text_len - 1], '\\');
    slack_frame_free(&f);
}

/* Runs of backslashes before a quote, inside a text full of brackets: a quote ends the string
 * only after an even run, so none of these brackets counts as nesting. */
static void parse_counts_backslash_runs_before_quotes(void **state)
{
    (void)state;
    static const struct {
        const char *before, *after; /* JSON string content around 100 brackets */
        size_t plain_len;           /* the text's length once read */
    } rows[] = {
        { "\\\\\\\"", "", 2 + 100 },                  /* \\ \" then brackets */
        { "\\\\\\\\\\\"", "\\\\", 3 + 100 + 1 },      /* \\ \\ \" ... \\ */
        { "x\\\"\\\"", "\\\"\\\\\\\"", 3 + 100 + 3 }, /* x\"\" ... \"\\\" */
        { "", "\\\\\\\\\\\\", 100 + 3 },              /* ... \\\\\\ */
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct buf text;
        buf_init(&text, 4096);
        assert_int_equal(buf_putc(&text, '"'), 0);
        assert_int_equal(buf_puts(&text, rows[r].before), 0);
        for (int i = 0; i < 100; i++)
            assert_int_equal(buf_putc(&text, i % 2 ? '{' : '['), 0);
        assert_int_equal(buf_puts(&text, rows[r].after), 0);
        assert_int_equal(buf_putc(&text, '"'), 0);
        size_t len;
        char *json = dm_with_text(buf_str(&text), &len);
        buf_free(&text);
        struct slack_frame f;
        char err[256] = "";
        if (slack_frame_parse(json, len, &f, err, sizeof err) != 0)
            fail_msg("row %zu: %s", r, err);
        free(json);
        assert_int_equal(f.text_len, rows[r].plain_len);
        slack_frame_free(&f);
    }
}

static void parse_reads_only_len_bytes(void **state)
{
    (void)state;
    const char text[] = "{\"type\":\"hello\",\"num_connections\":3}{\"type\":\"disconnect\"}";
    size_t first = strlen("{\"type\":\"hello\",\"num_connections\":3}");
    char *json = malloc(first);
    assert_non_null(json);
    memcpy(json, text, first);
    struct slack_frame f;
    char err[256] = "";
    assert_int_equal(slack_frame_parse(json, first, &f, err, sizeof err), 0);
    assert_int_equal(f.type, SLACK_FRAME_HELLO);
    assert_int_equal(f.num_connections, 3);
    /* One byte short is not JSON. */
    assert_int_equal(slack_frame_parse(json, first - 1, &f, err, sizeof err), ERR_INVAL);
    free(json);
    /* The whole text is two values. */
    assert_int_equal(parse(text, &f, err, sizeof err), ERR_INVAL);
    assert_non_null(strstr(err, "more after the JSON value"));
    /* A NUL inside len is not the end of the frame. */
    assert_int_equal(slack_frame_parse("{}\0{}", 5, &f, err, sizeof err), ERR_INVAL);
}

static void parse_rejects_degenerate_input(void **state)
{
    (void)state;
    static const char *const rows[] = {
        NULL,
        "",
        "   ",
        "\xEF",
        "\xEF\xBB",
        "\xEF\xBB\xBF",
        "null",
        "\"hello\"",
        "42",
        "{",
        "{\"type\":\"hello\",}",
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct slack_frame f;
        struct slack_api a;
        char *copy = NULL;
        size_t len = rows[i] ? strlen(rows[i]) : 0;
        if (rows[i]) {
            copy = malloc(len ? len : 1);
            assert_non_null(copy);
            memcpy(copy, rows[i], len);
        }
        char err[64] = "";
        if (slack_frame_parse(copy, len, &f, err, sizeof err) != ERR_INVAL || !err[0])
            fail_msg("row %zu: accepted as a frame (%s)", i, err);
        /* No room for a message is fine too. */
        assert_int_equal(slack_frame_parse(copy, len, &f, NULL, 0), ERR_INVAL);
        assert_int_equal(slack_api_parse(copy, len, &a, err, 1), ERR_INVAL);
        assert_string_equal(err, "");
        free(copy);
    }
}

static void frame_free_accepts_a_zeroed_frame(void **state)
{
    (void)state;
    struct slack_frame f;
    memset(&f, 0, sizeof f);
    slack_frame_free(&f);
    slack_frame_free(NULL);
    assert_null(f.text);
}

/* ---- slack_ack ---- */

static void ack_escapes_and_leaves_the_buffer_alone_on_error(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 40);
    assert_int_equal(slack_ack("57d12c34-abc", &b), 0);
    assert_string_equal(buf_str(&b), "{\"envelope_id\":\"57d12c34-abc\"}");
    buf_reset(&b);
    assert_int_equal(slack_ack("a\"b\\c", &b), 0);
    assert_string_equal(buf_str(&b), "{\"envelope_id\":\"a\\\"b\\\\c\"}");
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "xy"), 0);
    assert_int_equal(slack_ack("0123456789012345678901234567890123456789", &b), ERR_TOOBIG);
    assert_string_equal(buf_str(&b), "xy");
    assert_int_equal(b.len, 2);
    assert_int_equal(slack_ack(NULL, &b), ERR_INVAL);
    buf_free(&b);
}

/* ---- slack_verdict ---- */

static void verdict_follows_the_order_of_checks(void **state)
{
    (void)state;
    static const struct {
        enum slack_frame_type type;
        const char *event_type, *subtype, *channel_type, *user, *bot_id;
        int hidden;
        enum slack_verdict verdict;
        int direct;
    } rows[] = {
        { SLACK_FRAME_EVENT, "app_mention", "", "", "U1", "", 0, SLACK_ANSWER, 0 },
        { SLACK_FRAME_EVENT, "app_mention", "", "channel", "U1", "", 0, SLACK_ANSWER, 0 },
        { SLACK_FRAME_EVENT, "app_mention", "", "im", "U1", "", 0, SLACK_ANSWER, 1 },
        { SLACK_FRAME_EVENT, "app_mention", "", "mpim", "U1", "", 0, SLACK_ANSWER, 0 },
        { SLACK_FRAME_EVENT, "message", "", "im", "U1", "", 0, SLACK_ANSWER, 1 },
        { SLACK_FRAME_EVENT, "message", "", "channel", "U1", "", 0, SLACK_IGNORE_CHANNEL, 0 },
        { SLACK_FRAME_EVENT, "message", "", "group", "U1", "", 0, SLACK_IGNORE_CHANNEL, 0 },
        { SLACK_FRAME_EVENT, "message", "", "mpim", "U1", "", 0, SLACK_IGNORE_CHANNEL, 0 },
        { SLACK_FRAME_EVENT, "message", "", "app_home", "U1", "", 0, SLACK_IGNORE_CHANNEL, 0 },
        { SLACK_FRAME_EVENT, "message", "", "", "U1", "", 0, SLACK_IGNORE_CHANNEL, 0 },
        /* own messages, by user id or bot id, before any other reason */
        { SLACK_FRAME_EVENT, "message", "", "im", "UBOT", "", 0, SLACK_IGNORE_SELF, 0 },
        { SLACK_FRAME_EVENT, "message", "", "im", "", "BBOT", 0, SLACK_IGNORE_SELF, 0 },
        { SLACK_FRAME_EVENT, "message", "bot_message", "channel", "", "BBOT", 0, SLACK_IGNORE_SELF,
          0 },
        { SLACK_FRAME_EVENT, "app_mention", "", "", "UBOT", "BBOT", 0, SLACK_IGNORE_SELF, 0 },
        /* other bots, before subtypes and channels */
        { SLACK_FRAME_EVENT, "message", "", "im", "U2", "B2", 0, SLACK_IGNORE_BOT, 0 },
        { SLACK_FRAME_EVENT, "message", "bot_message", "im", "", "", 0, SLACK_IGNORE_BOT, 0 },
        { SLACK_FRAME_EVENT, "app_mention", "", "", "U2", "B2", 0, SLACK_IGNORE_BOT, 0 },
        { SLACK_FRAME_EVENT, "message", "", "channel", "", "B2", 0, SLACK_IGNORE_BOT, 0 },
        /* subtypes and hidden, before channels */
        { SLACK_FRAME_EVENT, "message", "message_changed", "im", "", "", 1, SLACK_IGNORE_SUBTYPE,
          0 },
        { SLACK_FRAME_EVENT, "message", "", "im", "U1", "", 1, SLACK_IGNORE_SUBTYPE, 0 },
        { SLACK_FRAME_EVENT, "message", "file_share", "im", "U1", "", 0, SLACK_IGNORE_SUBTYPE, 0 },
        { SLACK_FRAME_EVENT, "message", "channel_join", "channel", "U1", "", 0,
          SLACK_IGNORE_SUBTYPE, 0 },
        /* no user id: nobody to answer */
        { SLACK_FRAME_EVENT, "message", "", "im", "", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_EVENT, "app_mention", "", "", "", "", 0, SLACK_IGNORE_KIND, 0 },
        /* not a message */
        { SLACK_FRAME_EVENT, "reaction_added", "", "im", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_EVENT, "", "", "im", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_EVENT, "messages", "", "im", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_ENVELOPE, "message", "", "im", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_HELLO, "message", "", "im", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
        { SLACK_FRAME_OTHER, "app_mention", "", "", "U1", "", 0, SLACK_IGNORE_KIND, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct slack_frame f;
        memset(&f, 0, sizeof f);
        f.type = rows[i].type;
        snprintf(f.event_type, sizeof f.event_type, "%s", rows[i].event_type);
        snprintf(f.subtype, sizeof f.subtype, "%s", rows[i].subtype);
        snprintf(f.channel_type, sizeof f.channel_type, "%s", rows[i].channel_type);
        snprintf(f.user, sizeof f.user, "%s", rows[i].user);
        snprintf(f.bot_id, sizeof f.bot_id, "%s", rows[i].bot_id);
        f.hidden = rows[i].hidden;
        int direct = -1;
        enum slack_verdict v = slack_verdict(&f, SELF_USER, SELF_BOT, &direct);
        if (v != rows[i].verdict || direct != rows[i].direct)
            fail_msg("row %zu: %s direct %d, expected %s direct %d", i, slack_verdict_str(v),
                     direct, slack_verdict_str(rows[i].verdict), rows[i].direct);
        assert_int_equal(slack_verdict(&f, SELF_USER, SELF_BOT, NULL), rows[i].verdict);
    }
}

static void verdict_with_unknown_self_ids_matches_nobody(void **state)
{
    (void)state;
    struct slack_frame f;
    memset(&f, 0, sizeof f);
    f.type = SLACK_FRAME_EVENT;
    snprintf(f.event_type, sizeof f.event_type, "message");
    snprintf(f.channel_type, sizeof f.channel_type, "im");
    /* No user, no bot id: not "own" just because both sides are empty. */
    assert_int_equal(slack_verdict(&f, "", "", NULL), SLACK_IGNORE_KIND);
    assert_int_equal(slack_verdict(&f, NULL, NULL, NULL), SLACK_IGNORE_KIND);
    snprintf(f.user, sizeof f.user, "U1");
    assert_int_equal(slack_verdict(&f, NULL, NULL, NULL), SLACK_ANSWER);
    assert_int_equal(slack_verdict(&f, "", "", NULL), SLACK_ANSWER);
    snprintf(f.bot_id, sizeof f.bot_id, "B1");
    assert_int_equal(slack_verdict(&f, NULL, NULL, NULL), SLACK_IGNORE_BOT);
    assert_int_equal(slack_verdict(&f, "U9", "B1", NULL), SLACK_IGNORE_SELF);
}

static void verdict_str_names_every_verdict(void **state)
{
    (void)state;
    static const enum slack_verdict all[] = { SLACK_ANSWER,         SLACK_IGNORE_SELF,
                                              SLACK_IGNORE_BOT,     SLACK_IGNORE_SUBTYPE,
                                              SLACK_IGNORE_CHANNEL, SLACK_IGNORE_KIND };
    size_t n = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = slack_verdict_str(all[i]);
        assert_non_null(s);
        assert_true(s[0] != '\0');
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, slack_verdict_str(all[j]));
    }
    assert_string_equal(slack_verdict_str(SLACK_IGNORE_SELF), "own message");
    assert_string_equal(slack_verdict_str(SLACK_IGNORE_BOT), "bot message");
    assert_non_null(slack_verdict_str((enum slack_verdict)99));
}

/* ---- slack_text_plain ---- */

static void text_plain_rewrites_slack_markup(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "", "" },
        { "no markup at all", "no markup at all" },
        { "<@U1> hi", "<@U1> hi" },
        { "<@U1|alice> hi <@W2|bob>", "<@U1> hi <@W2>" },
        { "<#C1|general>", "#general" },
        { "<#C1>", "#C1" },
        { "<#C1|>", "#C1" },
        { "<!here> <!channel> <!everyone>", "@here @channel @everyone" },
        { "<!here|@here>", "@here" },
        { "<!subteam^S1|@team>", "@team" },
        { "<!subteam^S1>", "@S1" },
        { "<!date^1392734382^{date_short}|Feb 18, 2014>", "Feb 18, 2014" },
        { "<!foo>", "<!foo>" },
        { "<http://example.com|example.com>", "http://example.com" },
        { "<https://example.com/a/b|example.com/a/b>", "https://example.com/a/b" },
        { "<http://a.example|a.example.org>", "a.example.org" },
        { "<https://example.com/a|the docs>", "the docs" },
        { "<https://example.com/a>", "https://example.com/a" },
        { "<https://x.example|>", "https://x.example" },
        { "<mailto:a@b.example|a@b.example>", "a@b.example" },
        { "<tel:+4930123|+49 30 123>", "+49 30 123" },
        { "<https://x.example/?a=1&amp;b=2>", "https://x.example/?a=1&b=2" },
        { "a &lt;b&gt; &amp;lt; &amp;amp;", "a <b> &lt; &amp;" },
        { "&lt;#C1|x&gt; &lt;@U1|y&gt;", "<#C1|x> <@U1|y>" }, /* decoded text is not markup */
        { "&amp &gt & &;", "&amp &gt & &;" },
        { "a < b", "a < b" },
        { "1 < 2 > 0", "1 < 2 > 0" },
        { "<<@U1|a>", "<<@U1>" },
        { "<@U1|a", "<@U1|a" },
        { "<>", "<>" },
        { "<@>", "<@>" },
        { "<foo|bar>", "<foo|bar>" },
        { "<http:>", "<http:>" },
        { "<1http://x|y>", "<1http://x|y>" },
        { "trailing <", "trailing <" },
        { "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 <@U1|\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD> "
          "\xF0\x9F\x98\x80 <https://xn--e1afmkfd.xn--p1ai|\xD1\x81\xD1\x81\xD1\x8B\xD0\xBB\xD0\xBA"
          "\xD0\xB0>",
          "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 <@U1> \xF0\x9F\x98\x80 "
          "\xD1\x81\xD1\x81\xD1\x8B\xD0\xBB\xD0\xBA\xD0\xB0" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = strlen(rows[i].in);
        char *text = malloc(len + 1);
        assert_non_null(text);
        memcpy(text, rows[i].in, len + 1);
        size_t n = slack_text_plain(text, len);
        if (n != strlen(rows[i].out) || strcmp(text, rows[i].out) != 0)
            fail_msg("row %zu: \"%s\" gave \"%.*s\" (%zu), expected \"%s\"", i, rows[i].in, (int)n,
                     text, n, rows[i].out);
        free(text);
    }
}

static void text_plain_touches_only_len_bytes(void **state)
{
    (void)state;
    char text[] = "<@U1|a>XYZ";
    assert_int_equal(slack_text_plain(text, 7), 5);
    assert_string_equal(text, "<@U1>");
    assert_memory_equal(text + 7, "XYZ", 4);
    char same[] = "abc";
    assert_int_equal(slack_text_plain(same, 2), 2);
    assert_string_equal(same, "abc"); /* nothing shrank: nothing written */
}

static void text_plain_never_grows_on_random_markup(void **state)
{
    (void)state;
    static const char alphabet[] = "<>|@#!&;:/^ampltgxhU1C\xD0\x9F";
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        char text[40];
        seed = seed * 1103515245u + 12345u;
        size_t len = (seed >> 16) % (sizeof text - 1);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            text[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        text[len] = '\0';
        char copy[40];
        memcpy(copy, text, len + 1);
        size_t n = slack_text_plain(text, len);
        if (n > len || strlen(text) != n)
            fail_msg("\"%s\" gave %zu bytes", copy, n);
    }
}

/* ---- slack_text_question ---- */

static void text_question_takes_the_addressing_out(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "<@UBOT> kb list", "kb list" },
        { "<@UBOT>: help", "help" },
        { "  <@U2> <@UBOT>, sources", "sources" },
        { "what does <@UBOT> know about Crimea", "what does  know about Crimea" },
        { "ask <@U2> about it", "ask @U2 about it" },
        { "<@UBOT> :wave: what about Crimea? :flag-ua:", "what about Crimea?" },
        { "<@UBOT> at 10:30 :+1:", "at 10:30" },
        { "<@UBOT>", "" },
        { "<@UBOT", "<@UBOT" },
        { "<@> x", "<@> x" },
        { "<@U-1> x", "<@U-1> x" },
        { "help <@UBOT>", "help" },
        { "no mention", "no mention" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s", rows[i].in);
        size_t n = slack_text_question(text, strlen(text), "UBOT");
        if (n != strlen(rows[i].out) || strcmp(text, rows[i].out) != 0)
            fail_msg("row %zu: \"%s\" gave \"%s\" (%zu), expected \"%s\"", i, rows[i].in, text, n,
                     rows[i].out);
    }
    char text[] = "<@U1> x";
    assert_int_equal(slack_text_question(text, strlen(text), NULL), 1); /* leading: anyone's */
    assert_string_equal(text, "x");
}

/* ---- slack_post_body ---- */

static void post_body_is_the_exact_json(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    const char text[] = "say \"hi\" \\ now\n\tend\r\x01\x1f\x7f caf\xC3\xA9 \xF0\x9F\x98\x80 &lt;";
    assert_int_equal(slack_post_body("C1", "1712059200.000300", text, strlen(text), &b), 0);
    assert_string_equal(buf_str(&b),
                        "{\"channel\":\"C1\",\"text\":\"say \\\"hi\\\" \\\\ now\\n\\tend\\r"
                        "\\u0001\\u001f\x7f caf\xC3\xA9 \xF0\x9F\x98\x80 &lt;\","
                        "\"thread_ts\":\"1712059200.000300\",\"unfurl_links\":false,"
                        "\"unfurl_media\":false}");
    buf_reset(&b);
    assert_int_equal(slack_post_body("D1", NULL, "hi", 2, &b), 0);
    assert_string_equal(buf_str(&b), "{\"channel\":\"D1\",\"text\":\"hi\",\"unfurl_links\":false,"
                                     "\"unfurl_media\":false}");
    buf_reset(&b);
    assert_int_equal(slack_post_body("D1", "", "hi", 2, &b), 0);
    assert_null(strstr(buf_str(&b), "thread_ts"));
    buf_reset(&b);
    /* len, not the NUL, ends the text; a NUL inside is escaped. */
    assert_int_equal(slack_post_body("D1", NULL, "a\0b\bc\f", 6, &b), 0);
    assert_non_null(strstr(buf_str(&b), "\"text\":\"a\\u0000b\\bc\\f\""));
    buf_reset(&b);
    assert_int_equal(slack_post_body("D1", NULL, "hi there", 2, &b), 0);
    assert_non_null(strstr(buf_str(&b), "\"text\":\"hi\""));
    buf_reset(&b);
    assert_int_equal(slack_post_body("D1", NULL, NULL, 0, &b), 0);
    assert_non_null(strstr(buf_str(&b), "\"text\":\"\""));
    buf_free(&b);
}

/* Parses a body back with cJSON and checks its fields. */
static void check_body(const char *body, const char *channel, const char *thread_ts,
                       const char *text)
{
    assert_true(utf8_valid(body, strlen(body), NULL));
    cJSON *root = cJSON_Parse(body);
    if (!root)
        fail_msg("not JSON: %s", body);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "channel")),
                        channel);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "text")), text);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "thread_ts");
    if (thread_ts)
        assert_string_equal(cJSON_GetStringValue(ts), thread_ts);
    else
        assert_null(ts);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "unfurl_links")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(root, "unfurl_media")));
    assert_int_equal(cJSON_GetArraySize(root), thread_ts ? 5 : 4);
    cJSON_Delete(root);
}

static void post_body_round_trips_through_a_json_parser(void **state)
{
    (void)state;
    static const struct {
        const char *text, *decoded;
    } rows[] = {
        { "plain", "plain" },
        { "every ASCII: \x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"
          "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`"
          "az{|}~\x7f",
          NULL },
        { "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82, \xE4\xB8\x96\xE7\x95\x8C "
          "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xE2\x80\xA8",
          NULL },
        { "bad \xFF utf8 \xE2\x82", "bad " FFFD " utf8 " FFFD },
        { "*bold* _it_ <https://example.com|link> > quote", NULL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct buf b;
        buf_init(&b, 4096);
        assert_int_equal(slack_post_body("C0CHAN001", i % 2 ? "1.2" : NULL, rows[i].text,
                                         strlen(rows[i].text), &b),
                         0);
        check_body(buf_str(&b), "C0CHAN001", i % 2 ? "1.2" : NULL,
                   rows[i].decoded ? rows[i].decoded : rows[i].text);
        buf_free(&b);
    }
}

static void post_body_appends_and_leaves_the_buffer_alone_on_error(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "xy"), 0);
    assert_int_equal(slack_post_body("C1", NULL, "hi", 2, &b), 0);
    assert_memory_equal(buf_str(&b), "xy{\"channel\"", 12);
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "xy"), 0);
    char text[100];
    memset(text, 'a', sizeof text);
    assert_int_equal(slack_post_body("C1", NULL, text, sizeof text, &b), ERR_TOOBIG);
    assert_string_equal(buf_str(&b), "xy");
    assert_int_equal(b.len, 2);
    /* Just too long: the last appends fail, not the first. */
    buf_reset(&b);
    assert_int_equal(slack_post_body("C1", "1.2", text, 40, &b), ERR_TOOBIG);
    assert_int_equal(b.len, 0);
    assert_int_equal(slack_post_body(NULL, NULL, "hi", 2, &b), ERR_INVAL);
    assert_int_equal(slack_post_body("C1", NULL, NULL, 2, &b), ERR_INVAL);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* ---- slack_split ---- */

static void split_breaks_at_lines_then_spaces_then_characters(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t max, part, next;
    } rows[] = {
        { "", 10, 0, 0 },
        { "hello", 5, 5, 5 }, /* exactly max */
        { "hello", 100, 5, 5 },
        { "hello world", 8, 5, 6 },          /* last space */
        { "hello world", 5, 5, 6 },          /* a space right at max */
        { "hello world again", 13, 11, 12 }, /* the last space, not the first */
        { "line one\nline two", 12, 8, 9 },  /* a newline */
        { "a b\ncd ef", 8, 3, 4 },           /* a newline beats a later space */
        { "ab\ncdefgh", 2, 2, 3 },           /* a newline right at max */
        { "abcdefghij", 4, 4, 4 },           /* one long word */
        { " abcdef", 3, 3, 3 },              /* a space at 0 would make an empty part */
        { "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80", 15, 12,
          13 },                                                          /* привет мир */
        { "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", 5, 4, 4 }, /* not half a letter */
        { "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82", 6, 6, 6 },
        { "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 6, 4, 4 }, /* not half an emoji */
        { "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 7, 4, 4 },
        { "\xF0\x9F\x98\x80\xF0\x9F\x98\x80", 8, 8, 8 },
        { "\xF0\x9F\x98\x80x", 2, 4, 4 }, /* max below the first character */
        { "\xF0\x9F\x98\x80x", 0, 4, 4 },
        { "abc", 0, 1, 1 },
        { "\x80\x80\x80\x80\x80\x80", 5, 5, 5 }, /* not UTF-8: cut at max */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t len = strlen(rows[i].text), next = 12345;
        size_t part = slack_split(rows[i].text, len, rows[i].max, &next);
        if (part != rows[i].part || next != rows[i].next)
            fail_msg("row %zu: part %zu next %zu, expected %zu %zu", i, part, next, rows[i].part,
                     rows[i].next);
    }
}

/* Splits text into parts of at most max bytes and checks that they add back up to it. */
static size_t split_all(const char *text, size_t len, size_t max)
{
    struct buf joined;
    buf_init(&joined, len + 1);
    size_t at = 0, parts = 0;
    while (at < len) {
        size_t next;
        size_t part = slack_split(text + at, len - at, max, &next);
        assert_true(part > 0);
        assert_true(part <= max || max < 4);
        assert_true(utf8_valid(text + at, part, NULL));
        assert_true(next == part ||
                    (next == part + 1 && (text[at + part] == '\n' || text[at + part] == ' ')));
        assert_true(next <= len - at);
        assert_int_equal(buf_append(&joined, text + at, next), 0);
        at += next;
        parts++;
    }
    assert_int_equal(joined.len, len);
    assert_memory_equal(buf_str(&joined), text, len);
    buf_free(&joined);
    return parts;
}

static void split_parts_add_up_to_the_text(void **state)
{
    (void)state;
    struct buf t;
    buf_init(&t, 1u << 20);
    static const char *const pieces[] = {
        "Sprint planning is on Mondays at 10:00 in room 4.12. ",
        "\xD0\x9F\xD0\xBB\xD0\xB0\xD0\xBD\xD0\xB8\xD1\x80\xD0\xBE\xD0\xB2\xD0\xB0\xD0\xBD\xD0\xB8"
        "\xD0\xB5 \xD0\xB2 \xD0\xBF\xD0\xBE\xD0\xBD\xD0\xB5\xD0\xB4\xD0\xB5\xD0\xBB\xD1\x8C\xD0\xBD"
        "\xD0\xB8\xD0\xBA. ",
        "\xF0\x9F\x93\x85\xF0\x9F\x9A\x80\xF0\x9F\x91\x8D",
        "\n",
        "\xE4\xBC\x9A\xE8\xAE\xAE\xE5\xAE\xA4",
    };
    for (int i = 0; i < 2000; i++)
        assert_int_equal(buf_puts(&t, pieces[(i * 7 + i / 3) % 5]), 0);
    static const size_t maxes[] = { 1, 2, 3, 4, 5, 7, 16, 100, 1000, SLACK_POST_MAX };
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++)
        split_all(buf_str(&t), t.len, maxes[m]);
    /* One long word of Cyrillic letters and emoji, no space or newline at all. */
    buf_reset(&t);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(buf_puts(&t, i % 5 ? "\xD0\xB6" : "\xF0\x9F\x98\x80"), 0);
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++)
        split_all(buf_str(&t), t.len, maxes[m]);
    /* Exactly SLACK_POST_MAX bytes is one post; one more is two. */
    buf_reset(&t);
    for (size_t i = 0; i < SLACK_POST_MAX; i++)
        assert_int_equal(buf_putc(&t, i % 10 == 9 ? ' ' : 'x'), 0);
    assert_int_equal(split_all(buf_str(&t), t.len, SLACK_POST_MAX), 1);
    assert_int_equal(buf_putc(&t, 'x'), 0);
    assert_int_equal(split_all(buf_str(&t), t.len, SLACK_POST_MAX), 2);
    buf_free(&t);
}

/* ---- slack_api_parse and the error names ---- */

static void api_parse_edge_cases(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        int rc, ok;
        const char *says;
    } rows[] = {
        { "{\"ok\":true,\"error\":null,\"url\":null,\"ts\":null}", 0, 1, "" },
        { " {\"ok\":false} \n", 0, 0, "" },
        { "{\"ok\":null,\"error\":\"invalid_auth\"}", ERR_INVAL, 0, "\"ok\" must be" },
        { "{\"ok\":1}", ERR_INVAL, 0, "\"ok\" must be" },
        { "{\"ok\":false,\"error\":{\"code\":1}}", ERR_INVAL, 0, "error must be a string" },
        { "{\"ok\":true,\"user_id\":\"U 1\"}", ERR_INVAL, 0, "user_id holds byte 0x20" },
        { "{\"ok\":true,\"bot_id\":42}", ERR_INVAL, 0, "bot_id must be a string" },
        { "{\"ok\":true,\"ts\":1712059260.0004}", ERR_INVAL, 0, "ts must be a string" },
        { "[true]", ERR_INVAL, 0, "not a JSON object" },
        { "limit exceeded", ERR_INVAL, 0, "not valid JSON" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct slack_api a;
        char err[256] = "";
        size_t len = strlen(rows[i].json);
        char *copy = malloc(len);
        assert_non_null(copy);
        memcpy(copy, rows[i].json, len);
        int rc = slack_api_parse(copy, len, &a, err, sizeof err);
        free(copy);
        if (rc != rows[i].rc || a.ok != rows[i].ok || !strstr(err, rows[i].says))
            fail_msg("row %zu: rc %d ok %d \"%s\"", i, rc, a.ok, err);
        assert_string_equal(a.error, "");
        assert_string_equal(a.url, "");
    }
    /* The url cap: 2047 bytes fit, 2048 do not. */
    struct buf b;
    buf_init(&b, 8192);
    for (size_t n = 2047; n <= 2048; n++) {
        buf_reset(&b);
        assert_int_equal(buf_puts(&b, "{\"ok\":true,\"url\":\"wss://x/"), 0);
        for (size_t i = strlen("wss://x/"); i < n; i++)
            assert_int_equal(buf_putc(&b, 'a'), 0);
        assert_int_equal(buf_puts(&b, "\"}"), 0);
        struct slack_api a;
        char err[256] = "";
        int rc = slack_api_parse(buf_str(&b), b.len, &a, err, sizeof err);
        if (n == 2047) {
            assert_int_equal(rc, 0);
            assert_int_equal(strlen(a.url), 2047);
        } else {
            assert_int_equal(rc, ERR_INVAL);
            assert_non_null(strstr(err, "url is 2048 bytes"));
            assert_int_equal(a.ok, 0);
        }
    }
    buf_free(&b);
}

static void error_fatal_names_only_token_errors(void **state)
{
    (void)state;
    static const struct {
        const char *error;
        int fatal;
    } rows[] = {
        { "not_authed", 1 },
        { "invalid_auth", 1 },
        { "account_inactive", 1 },
        { "user_removed_from_team", 1 },
        { "team_disabled", 1 },
        { "not_allowed_token_type", 1 },
        { "token_revoked", 1 },
        { "token_expired", 1 },
        { "missing_scope", 1 },
        { "ratelimited", 0 },
        { "internal_error", 0 },
        { "channel_not_found", 0 },
        { "invalid_auth_x", 0 },
        { "INVALID_AUTH", 0 },
        { "invalid", 0 },
        { "", 0 },
        { NULL, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (slack_error_fatal(rows[i].error) != rows[i].fatal)
            fail_msg("row %zu: \"%s\" should%s be fatal", i,
                     rows[i].error ? rows[i].error : "(null)", rows[i].fatal ? "" : " not");
}

static void error_permanent_drops_undeliverable_replies_only(void **state)
{
    (void)state;
    static const struct {
        const char *error;
        int permanent;
    } rows[] = {
        { "channel_not_found", 1 },
        { "not_in_channel", 1 },
        { "is_archived", 1 },
        { "msg_too_long", 1 },
        { "no_text", 1 },
        { "restricted_action", 1 },
        { "restricted_action_read_only_channel", 1 },
        { "restricted_action_thread_locked", 1 },
        { "invalid_blocks", 1 },
        { "too_many_attachments", 1 },
        { "messages_tab_disabled", 1 },
        { "invalid_auth", 1 }, /* fatal errors are permanent too */
        { "missing_scope", 1 },
        { "internal_error", 0 },
        { "fatal_error", 0 },
        { "service_unavailable", 0 },
        { "ratelimited", 0 },
        { "request_timeout", 0 },
        { "some_new_error", 0 },
        { "restricted", 0 },
        { "", 0 },
        { NULL, 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (slack_error_permanent(rows[i].error) != rows[i].permanent)
            fail_msg("row %zu: \"%s\" should%s be permanent", i,
                     rows[i].error ? rows[i].error : "(null)", rows[i].permanent ? "" : " not");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_parse_as_captured),
        cmocka_unit_test(redelivery_keeps_the_event_id_of_the_first_delivery),
        cmocka_unit_test(api_answers_parse_as_captured),
        cmocka_unit_test(every_fixture_file_has_a_row),
        cmocka_unit_test(parse_rejects_wrong_types_naming_the_field),
        cmocka_unit_test(parse_classifies_frames_by_type_and_envelope),
        cmocka_unit_test(parse_reads_null_as_missing),
        cmocka_unit_test(parse_caps_ids_at_127_bytes),
        cmocka_unit_test(parse_falls_back_to_channel_and_ts_for_the_event_id),
        cmocka_unit_test(parse_repairs_invalid_utf8_in_text),
        cmocka_unit_test(parse_never_lets_a_nul_into_text),
        cmocka_unit_test(parse_caps_text_at_slack_text_max),
        cmocka_unit_test(parse_survives_a_2mb_frame_nested_100000_deep),
        cmocka_unit_test(parse_allows_64_levels_of_nesting),
        cmocka_unit_test(parse_counts_backslash_runs_before_quotes),
        cmocka_unit_test(parse_ignores_brackets_inside_strings),
        cmocka_unit_test(parse_reads_only_len_bytes),
        cmocka_unit_test(parse_rejects_degenerate_input),
        cmocka_unit_test(frame_free_accepts_a_zeroed_frame),
        cmocka_unit_test(ack_escapes_and_leaves_the_buffer_alone_on_error),
        cmocka_unit_test(verdict_follows_the_order_of_checks),
        cmocka_unit_test(verdict_with_unknown_self_ids_matches_nobody),
        cmocka_unit_test(verdict_str_names_every_verdict),
        cmocka_unit_test(text_plain_rewrites_slack_markup),
        cmocka_unit_test(text_plain_touches_only_len_bytes),
        cmocka_unit_test(text_plain_never_grows_on_random_markup),
        cmocka_unit_test(text_question_takes_the_addressing_out),
        cmocka_unit_test(post_body_is_the_exact_json),
        cmocka_unit_test(post_body_round_trips_through_a_json_parser),
        cmocka_unit_test(post_body_appends_and_leaves_the_buffer_alone_on_error),
        cmocka_unit_test(split_breaks_at_lines_then_spaces_then_characters),
        cmocka_unit_test(split_parts_add_up_to_the_text),
        cmocka_unit_test(api_parse_edge_cases),
        cmocka_unit_test(error_fatal_names_only_token_errors),
        cmocka_unit_test(error_permanent_drops_undeliverable_replies_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
