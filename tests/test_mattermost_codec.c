/* test_mattermost_codec.c - Mattermost's wire format: captured frames (hello, posted in a
 * channel, a thread and a DM, replies, other events) read into their fields; malformed and
 * hostile ones refused with where and why; users/me and a channel's history; the challenge and
 * post bodies cJSON reads back; the bot's own mention taken out of a question; and replies that
 * can never notify anyone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "mattermost_codec.h"

#define SELF "botuserid00000000000000000"

/* A posted event in channel_type ct with the post JSON p (already escaped for a JSON string). */
#define POSTED(ct, p, mentions)                                                                    \
    "{\"event\":\"posted\",\"seq\":4,\"broadcast\":{\"channel_id\":\"chan1\"},\"data\":{"          \
    "\"channel_display_name\":\"Town Square\",\"channel_type\":\"" ct "\",\"post\":\"" p "\","     \
    "\"sender_name\":\"@alice\",\"team_id\":\"team1\"" mentions "}}"

static const struct {
    const char *name, *json;
    enum mm_frame_type type;
    int64_t seq;
    const char *id, *user, *channel, *root, *ptype, *ctype, *text;
    int mentioned, from_bot;
} frames[] = {
    { "hello",
      "{\"event\":\"hello\",\"data\":{\"server_version\":\"9.11.0\",\"connection_id\":\"conn1\"},"
      "\"broadcast\":{\"omit_users\":null,\"user_id\":\"\"},\"seq\":0}",
      MM_FRAME_HELLO, 0, "", "", "", "", "", "", NULL, 0, 0 },
    { "a mention in a channel",
      POSTED("O",
             "{\\\"id\\\":\\\"p1\\\",\\\"user_id\\\":\\\"u2\\\",\\\"channel_id\\\":\\\"chan1\\\","
             "\\\"root_id\\\":\\\"\\\",\\\"message\\\":\\\"@planbot How big can Ukraine\\u2019s "
             "army be?\\\","
             "\\\"type\\\":\\\"\\\",\\\"create_at\\\":1700000000123,\\\"props\\\":{}}",
             ",\"mentions\":\"[\\\"" SELF "\\\"]\""),
      MM_FRAME_POSTED, 4, "p1", "u2", "chan1", "", "", "O",
      "@planbot How big can Ukraine\xE2\x80\x99s army be?", 1, 0 },
    { "a reply in a thread, from a bot",
      POSTED(
          "P",
          "{\\\"id\\\":\\\"p2\\\",\\\"user_id\\\":\\\"u3\\\",\\\"channel_id\\\":\\\"chan2\\\","
          "\\\"root_id\\\":\\\"p1\\\",\\\"message\\\":\\\"and Kherson?\\\",\\\"type\\\":\\\"\\\","
          "\\\"props\\\":{\\\"from_bot\\\":\\\"true\\\"}}",
          ""),
      MM_FRAME_POSTED, 4, "p2", "u3", "chan2", "p1", "", "P", "and Kherson?", 0, 1 },
    { "a direct message with invalid UTF-8",
      POSTED("D",
             "{\\\"id\\\":\\\"p3\\\",\\\"user_id\\\":\\\"u2\\\",\\\"channel_id\\\":\\\"dm1\\\","
             "\\\"message\\\":\\\"caf\xFF\\\"}",
             ",\"mentions\":\"[\\\"someoneelse\\\"]\""),
      MM_FRAME_POSTED, 4, "p3", "u2", "dm1", "", "", "D", "caf\xEF\xBF\xBD", 0, 0 },
    { "a system post",
      POSTED("O",
             "{\\\"id\\\":\\\"p4\\\",\\\"user_id\\\":\\\"u2\\\",\\\"channel_id\\\":\\\"chan1\\\","
             "\\\"type\\\":\\\"system_join_channel\\\",\\\"message\\\":\\\"alice joined\\\"}",
             ""),
      MM_FRAME_POSTED, 4, "p4", "u2", "chan1", "", "system_join_channel", "O", "alice joined", 0,
      0 },
    { "a reply to a request", "{\"status\":\"OK\",\"seq_reply\":1}", MM_FRAME_REPLY, 1, "", "", "",
      "", "", "", NULL, 0, 0 },
    { "another event",
      "{\"event\":\"typing\",\"data\":{\"parent_id\":\"\",\"user_id\":\"u2\"},\"seq\":7}",
      MM_FRAME_OTHER, 7, "", "", "", "", "", "", NULL, 0, 0 },
};

static void mm_reads_captured_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        struct mm_frame f;
        char err[256];
        int rc = mm_frame_parse(frames[i].json, strlen(frames[i].json), SELF, &f, err, sizeof err);
        if (rc)
            fail_msg("%s: %s", frames[i].name, err);
        assert_int_equal(f.type, frames[i].type);
        assert_int_equal(f.seq, frames[i].seq);
        if (f.type == MM_FRAME_HELLO)
            assert_string_equal(f.connection_id, "conn1");
        if (f.type == MM_FRAME_REPLY)
            assert_true(f.ok);
        if (f.type == MM_FRAME_POSTED) {
            assert_string_equal(f.post.id, frames[i].id);
            assert_string_equal(f.post.user_id, frames[i].user);
            assert_string_equal(f.post.channel_id, frames[i].channel);
            assert_string_equal(f.post.root_id, frames[i].root);
            assert_string_equal(f.post.type, frames[i].ptype);
            assert_string_equal(f.post.channel_type, frames[i].ctype);
            assert_string_equal(f.post.text, frames[i].text);
            assert_int_equal(f.post.text_len, strlen(frames[i].text));
            assert_int_equal(f.post.mentioned, frames[i].mentioned);
            assert_int_equal(f.post.from_bot, frames[i].from_bot);
        }
        mm_frame_free(&f);
    }
}

static void mm_refuses_malformed_frames_saying_why(void **state)
{
    (void)state;
    static const struct {
        const char *json, *says;
    } rows[] = {
        { "not json", "not valid JSON" },
        { "[]", "not a JSON object" },
        { "{}", "neither an event nor a reply" },
        { "{\"event\":\"posted\",\"seq\":1}", "data is missing" },
        { "{\"event\":\"posted\",\"seq\":-1,\"data\":{}}", "seq must be a whole number" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":{}}}",
          "data.post must be a string holding JSON" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":\"nope\"}}", "data.post: not valid" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":\"{}\"}}",
          "data.post has no id or channel_id" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":\"{\\\"id\\\":\\\"a b\\\"}\"}}",
          "data.post.id holds byte 0x20" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":\"{\\\"id\\\":\\\"a\\\","
          "\\\"channel_id\\\":\\\"c\\\",\\\"message\\\":5}\"}}",
          "data.post.message must be a string" },
        { "{\"event\":\"posted\",\"seq\":1,\"data\":{\"post\":\"{\\\"id\\\":\\\"a\\\","
          "\\\"channel_id\\\":\\\"c\\\"}\",\"mentions\":\"[[[[1]]]]\"}}",
          "data.mentions is not a JSON array" },
        { "{\"status\":\"OK\",\"seq_reply\":\"one\"}", "seq_reply must be a whole number" },
        { "{\"event\":\"hello\",\"seq\":0,\"data\":[]}", "data must be an object" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct mm_frame f;
        char err[256] = "";
        int rc = mm_frame_parse(rows[i].json, strlen(rows[i].json), SELF, &f, err, sizeof err);
        if (rc == 0 || !strstr(err, rows[i].says))
            fail_msg("row %zu: rc %d, \"%s\", not \"%s\"", i, rc, err, rows[i].says);
        assert_null(f.post.text);
    }
}

static void mm_reads_users_me_and_a_channels_history(void **state)
{
    (void)state;
    char id[MM_ID_MAX], name[MM_NAME_MAX], err[256];
    const char me[] = "{\"id\":\"" SELF "\",\"username\":\"planbot\",\"is_bot\":true}";
    assert_int_equal(mm_me_parse(me, sizeof me - 1, id, name, err, sizeof err), 0);
    assert_string_equal(id, SELF);
    assert_string_equal(name, "planbot");
    const char nobody[] = "{\"id\":\"x\"}";
    assert_int_equal(mm_me_parse(nobody, sizeof nobody - 1, id, name, err, sizeof err), ERR_INVAL);
    const char page[] =
        "{\"order\":[\"b\",\"a\"],\"posts\":{"
        "\"b\":{\"id\":\"b\",\"channel_id\":\"c\",\"user_id\":\"u\",\"message\":\"second\","
        "\"create_at\":20},"
        "\"a\":{\"id\":\"a\",\"channel_id\":\"c\",\"user_id\":\"u\",\"message\":\"first\","
        "\"create_at\":10}},\"next_post_id\":\"\",\"prev_post_id\":\"\"}";
    struct mm_post *posts;
    size_t n;
    assert_int_equal(mm_posts_parse(page, sizeof page - 1, &posts, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(posts[0].text, "first"); /* oldest first */
    assert_string_equal(posts[1].text, "second");
    mm_posts_free(posts, n);
    const char empty[] = "{\"order\":[],\"posts\":{}}";
    assert_int_equal(mm_posts_parse(empty, sizeof empty - 1, &posts, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    mm_posts_free(posts, n);
    const char bad[] = "{\"posts\":{\"a\":5}}";
    assert_int_equal(mm_posts_parse(bad, sizeof bad - 1, &posts, &n, err, sizeof err), ERR_INVAL);
    static const struct {
        const char *json;
        int rc;
        size_t n;
        const char *says;
    } lists[] = {
        { "[{\"id\":\"c1\",\"type\":\"O\",\"name\":\"town\"},{\"id\":\"d1\",\"type\":\"D\"}]", 0, 2,
          "" },
        { "[]", 0, 0, "" },
        { "{}", ERR_INVAL, 0, "not a JSON array of channels" },
        { "[5]", ERR_INVAL, 0, "channels[0] must be an object" },
        { "[{\"type\":\"O\"}]", ERR_INVAL, 0, "channels[0] has no id" },
        { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]"
          "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
          ERR_INVAL, 0, "nested deeper than 64 levels" },
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        struct mm_channel *chans;
        err[0] = '\0';
        int rc =
            mm_channels_parse(lists[i].json, strlen(lists[i].json), &chans, &n, err, sizeof err);
        if (rc != lists[i].rc || n != lists[i].n || !strstr(err, lists[i].says))
            fail_msg("list %zu: rc %d, n %zu, \"%s\"", i, rc, n, err);
        if (!rc && n == 2) {
            assert_string_equal(chans[0].id, "c1");
            assert_string_equal(chans[1].type, "D");
        }
        free(chans);
    }
}

static void mm_writes_bodies_cjson_reads_back(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(mm_auth_frame(1, "tok\"en", &b), 0);
    cJSON *v = cJSON_Parse(buf_str(&b));
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItem(v, "action")->valuestring, "authentication_challenge");
    assert_int_equal(cJSON_GetObjectItem(v, "seq")->valueint, 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(v, "data"), "token")->valuestring,
                        "tok\"en");
    cJSON_Delete(v);
    buf_free(&b);
    buf_init(&b, 4096);
    assert_int_equal(mm_post_body("chan1", "p1", "a \"quote\"\n\xFF", 12, &b), 0);
    v = cJSON_Parse(buf_str(&b));
    assert_non_null(v);
    assert_string_equal(cJSON_GetObjectItem(v, "channel_id")->valuestring, "chan1");
    assert_string_equal(cJSON_GetObjectItem(v, "root_id")->valuestring, "p1");
    assert_string_equal(cJSON_GetObjectItem(v, "message")->valuestring,
                        "a \"quote\"\n\xEF\xBF\xBD");
    cJSON_Delete(v);
    buf_free(&b);
    buf_init(&b, 4096);
    assert_int_equal(mm_post_body("chan1", "", "x", 1, &b), 0);
    assert_null(strstr(buf_str(&b), "root_id"));
    assert_int_equal(mm_post_body(NULL, "", "x", 1, &b), ERR_INVAL);
    buf_free(&b);
}

static void mm_takes_the_bots_mention_out_of_a_question(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int named;
    } rows[] = {
        { "@planbot How big can the army be?", "How big can the army be?", 1 },
        { "@PlanBot, what did Rubio say?", "what did Rubio say?", 1 },
        { "  @planbot:  hello", "hello", 1 },
        { "what do you think @planbot", "what do you think", 1 },
        { "@alice @planbot kb list", "kb list", 1 },
        { "@planbot2 is someone else", "is someone else", 0 },
        { "@planbot.bot is someone else", "is someone else", 0 },
        { "ask @alice, not @planbot2", "ask @alice, not @planbot2", 0 },
        { "mail me@planbot.org", "mail me@planbot.org", 0 },
        { "thanks @planbot.", "thanks .", 1 },
        { "@planbot :wave: what about Crimea? :flag-ua:", "what about Crimea?", 1 },
        { "at 10:30 :+1:", "at 10:30", 0 },
        { "@planbot", "", 1 },
        { "@ planbot", "@ planbot", 0 },
        { "no mention", "no mention", 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s", rows[i].in);
        int named = -1;
        size_t n = mm_text_plain(text, strlen(text), "planbot", &named);
        if (strcmp(text, rows[i].out) != 0 || n != strlen(rows[i].out) || named != rows[i].named)
            fail_msg("row %zu: \"%s\" (%zu, named %d), not \"%s\" (named %d)", i, text, n, named,
                     rows[i].out, rows[i].named);
    }
}

static void mm_markup_never_notifies_anyone(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "@channel look", "@\xE2\x80\x8B"
                           "channel look" },
        { "hi @all and @here", "hi @\xE2\x80\x8B"
                               "all and @\xE2\x80\x8B"
                               "here" },
        { "ask @alice.b", "ask @\xE2\x80\x8B"
                          "alice.b" },
        { "a@b.c", "a@\xE2\x80\x8B"
                   "b.c" },
        { "a lone @ sign and @", "a lone @ sign and @" },
        { "> quoted \"text\" kept", "> quoted \"text\" kept" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct buf b;
        buf_init(&b, 1024);
        assert_int_equal(markup_escape(&mm_markup, rows[i].in, strlen(rows[i].in), 0, &b), 0);
        assert_string_equal(buf_str(&b), rows[i].out);
        buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mm_reads_captured_frames),
        cmocka_unit_test(mm_refuses_malformed_frames_saying_why),
        cmocka_unit_test(mm_reads_users_me_and_a_channels_history),
        cmocka_unit_test(mm_writes_bodies_cjson_reads_back),
        cmocka_unit_test(mm_takes_the_bots_mention_out_of_a_question),
        cmocka_unit_test(mm_markup_never_notifies_anyone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
