/* test_codec.c - the codecs' shared JSON and UTF-8 toolkit, on its own: one JSON object with its
 * nesting capped, typed getters that say what is wrong and where, UTF-8 repair, JSON string
 * output that cJSON reads back, and a splitter that never cuts a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "err.h"

static void codec_parses_one_object_or_says_why_not(void **state)
{
    (void)state;
    static const struct {
        const char *json, *says; /* says NULL: parses */
    } rows[] = {
        { "{\"a\":1}", NULL },
        { "  {\"a\":[1,{\"b\":null}]}\r\n", NULL },
        { "", "empty, not JSON" },
        { "[1]", "not a JSON object" },
        { "\"s\"", "not a JSON object" },
        { "{\"a\":1} {}", "more after the JSON value at byte 8" },
        { "{\"a\":}", "not valid JSON at byte" },
        { "{\"a\":\"unterminated}", "not valid JSON at byte" },
        { "\xEF\xBB", "not valid JSON at byte 0" },
        { "{\"s\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}", NULL },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[128] = "";
        cJSON *v = codec_parse_object(rows[i].json, strlen(rows[i].json), err, sizeof err);
        if (!rows[i].says) {
            if (!v)
                fail_msg("row %zu: %s", i, err);
        } else if (v || !strstr(err, rows[i].says)) {
            fail_msg("row %zu: \"%s\", not \"%s\"", i, err, rows[i].says);
        }
        cJSON_Delete(v);
    }
    /* 65 levels: one too many, and where */
    char deep[200] = "{\"a\":";
    memset(deep + 5, '[', 64); /* with the object: 65 levels, the last at byte 68 */
    deep[5 + 64] = '\0';
    char err[128] = "";
    assert_null(codec_parse_object(deep, strlen(deep), err, sizeof err));
    assert_non_null(strstr(err, "nested deeper than 64 levels at byte 68"));
}

static void codec_getters_type_check_and_cap(void **state)
{
    (void)state;
    const char json[] = "{\"id\":\"U123\",\"n\":3,\"neg\":-1,\"half\":1.5,\"b\":true,\"o\":{},"
                        "\"sp\":\"a b\",\"num\":7,\"long\":\"0123456789\",\"nul\":null}";
    char err[128];
    cJSON *v = codec_parse_object(json, sizeof json - 1, err, sizeof err);
    assert_non_null(v);
    static const struct {
        const char *key;
        size_t cap;
        int rc;
        const char *value_or_says;
    } tokens[] = {
        { "id", 16, 0, "U123" },
        { "missing", 16, 0, "" },
        { "nul", 16, 0, "" },
        { "sp", 16, ERR_INVAL, "x.sp holds byte 0x20 at 1" },
        { "num", 16, ERR_INVAL, "x.num must be a string" },
        { "long", 10, ERR_INVAL, "x.long is 10 bytes, longer than 9" },
        { "long", 11, 0, "0123456789" },
    };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        char dst[32] = "untouched", path[32];
        snprintf(path, sizeof path, "x.%s", tokens[i].key);
        err[0] = '\0';
        int rc = codec_get_token(v, tokens[i].key, path, dst, tokens[i].cap, err, sizeof err);
        assert_int_equal(rc, tokens[i].rc);
        assert_string_equal(rc ? err : dst, tokens[i].value_or_says);
        if (rc)
            assert_string_equal(dst, "untouched");
    }
    int n;
    assert_int_equal(codec_get_count(v, "n", "n", &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(codec_get_count(v, "neg", "neg", &n, err, sizeof err), ERR_INVAL);
    assert_int_equal(codec_get_count(v, "half", "half", &n, err, sizeof err), ERR_INVAL);
    assert_int_equal(codec_get_count(v, "id", "id", &n, err, sizeof err), ERR_INVAL);
    assert_int_equal(codec_get_count(v, "missing", "m", &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    int b;
    assert_int_equal(codec_get_bool(v, "b", "b", &b, err, sizeof err), 0);
    assert_int_equal(b, 1);
    assert_int_equal(codec_get_bool(v, "n", "n", &b, err, sizeof err), ERR_INVAL);
    const cJSON *o;
    assert_int_equal(codec_get_object(v, "o", "o", &o, err, sizeof err), 0);
    assert_non_null(o);
    assert_int_equal(codec_get_object(v, "id", "id", &o, err, sizeof err), ERR_INVAL);
    assert_int_equal(codec_get_object(v, "missing", "m", &o, err, sizeof err), 0);
    assert_null(o);
    assert_null(codec_member(NULL, "id"));
    cJSON_Delete(v);
}

/* A message's text: "" when missing, repaired, capped, and only a string */
static void codec_reads_text_repaired_and_capped(void **state)
{
    (void)state;
    static const struct {
        const char *json, *text, *why;
        int rc;
    } rows[] = {
        { "{}", "", NULL, 0 },
        { "{\"t\":\"caf\xC3\xA9 \xFF!\"}", "caf\xC3\xA9 \xEF\xBF\xBD!", NULL, 0 },
        { "{\"t\":\"\"}", "", NULL, 0 },
        { "{\"t\":5}", NULL, "e.t must be a string", ERR_INVAL },
        { "{\"t\":null}", "", NULL, 0 },
        { "{\"t\":\"0123456789abc\"}", NULL, "e.t is over 12 bytes", ERR_TOOBIG },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cJSON *o = cJSON_Parse(rows[i].json);
        assert_non_null(o);
        char *text, err[128] = "";
        size_t len;
        int rc = codec_get_text(o, "t", "e.t", 12, &text, &len, err, sizeof err);
        cJSON_Delete(o);
        if (rc != rows[i].rc || (rows[i].why && !strstr(err, rows[i].why)) ||
            (rows[i].text && (!text || strcmp(text, rows[i].text) != 0 || len != strlen(text))))
            fail_msg("%s: got %d \"%s\" (%s)", rows[i].json, rc, text ? text : "(null)", err);
        if (rc)
            assert_null(text);
        free(text);
    }
}

static void codec_writes_json_strings_cjson_reads_back(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *json, *back;
    } rows[] = {
        { "plain", 5, "\"plain\"", "plain" },
        { "q\"b\\n\n\t\x01", 8, "\"q\\\"b\\\\n\\n\\t\\u0001\"", "q\"b\\n\n\t\x01" },
        { "caf\xC3\xA9", 5, "\"caf\xC3\xA9\"", "caf\xC3\xA9" },
        { "bad\xFF!", 5, "\"bad\xEF\xBF\xBD!\"", "bad\xEF\xBF\xBD!" },
        { "cut\xE2\x82", 5, "\"cut\xEF\xBF\xBD\"", "cut\xEF\xBF\xBD" },
        { "nul\0in", 6, "\"nul\\u0000in\"", "nul" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct buf b;
        buf_init(&b, 1024);
        assert_int_equal(codec_append_json_string(&b, rows[i].in, rows[i].len), 0);
        assert_string_equal(buf_str(&b), rows[i].json);
        cJSON *v = cJSON_Parse(buf_str(&b));
        assert_non_null(v);
        assert_string_equal(v->valuestring, rows[i].back);
        cJSON_Delete(v);
        buf_free(&b);
    }
    struct buf b;
    buf_init(&b, 1024);
    assert_int_equal(codec_append_utf8(&b, "ok\xC0\xAFok", 6), 0);
    assert_string_equal(buf_str(&b), "ok\xEF\xBF\xBD\xEF\xBF\xBDok"); /* overlong: two */
    size_t keep = b.len;
    assert_int_equal(buf_puts(&b, "more"), 0);
    codec_buf_cut(&b, keep);
    assert_int_equal(b.len, keep);
    buf_free(&b);
}

static void codec_splits_on_lines_spaces_then_characters(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t max, part, next;
    } rows[] = {
        { "short", 10, 5, 5 },
        { "one two three", 9, 7, 8 },       /* the last space within 9 */
        { "line one\nline two", 12, 8, 9 }, /* a newline before a space */
        { "abcdefghij", 4, 4, 4 },          /* no break: cut at max */
        { "ab\xC3\xA9"
          "cd",
          3, 2, 2 },                        /* never inside é */
        { "\xF0\x9F\x98\x80xyz", 2, 4, 4 }, /* one character longer than max: alone */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t next;
        size_t part = codec_split(rows[i].text, strlen(rows[i].text), rows[i].max, &next);
        if (part != rows[i].part || next != rows[i].next)
            fail_msg("row %zu: part %zu next %zu", i, part, next);
    }
}

static void codec_strips_shortcodes_and_only_them(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { ":flag-ua: Ukraine", "  Ukraine" },
        { "good :thumbsup: plan", "good   plan" },
        { "ok :100: :smile_cat: :+1: :-1:", "ok :100:      " },
        { ":smile::skin-tone-2:", "  " },
        { "at 10:30 today, 10:30:15", "at 10:30 today, 10:30:15" },
        { "ratio 1:2:3, a:b:c", "ratio 1:2:3, a:b:c" },
        { "question: what :) ok", "question: what :) ok" },
        { ":: :a b: :+:", ":: :a b: :+:" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "%s", rows[i].in);
        size_t n = codec_strip_shortcodes(text, strlen(text));
        if (n != strlen(rows[i].out) || strcmp(text, rows[i].out) != 0)
            fail_msg("row %zu: \"%s\" gave \"%s\", expected \"%s\"", i, rows[i].in, text,
                     rows[i].out);
    }
}

/* A platform whose mentions are "{name}", planbot being {bot}; one that stays becomes "name". */
static void braces(const char *text, size_t len, size_t i, void *arg, struct codec_mention *m)
{
    (void)arg;
    const char *close = text[i] == '{' ? memchr(text + i, '}', len - i) : NULL;
    if (!close || close == text + i + 1)
        return;
    m->len = (size_t)(close - (text + i)) + 1;
    m->self = m->len == 5 && memcmp(text + i, "{bot}", 5) == 0;
    m->keep = text + i + 1;
    m->keep_len = m->len - 2;
}

static void codec_takes_the_addressing_out(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
        int named;
    } rows[] = {
        { "{bot} kb list", "kb list", 1 },
        { "  {ann}, {bot}: help  ", "help", 1 },
        { "{ann} hello", "hello", 0 },
        { "ask {ann} about {bot} now", "ask ann about  now", 1 },
        { "{} stays", "{} stays", 0 },
        { "{bot}", "", 1 },
        { "", "", 0 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[64];
        snprintf(text, sizeof text, "%s", rows[i].in);
        int named = -1;
        size_t n = codec_take_mentions(text, strlen(text), braces, NULL, &named);
        if (n != strlen(rows[i].out) || strcmp(text, rows[i].out) != 0 || named != rows[i].named)
            fail_msg("row %zu: \"%s\" gave \"%s\" (named %d)", i, rows[i].in, text, named);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codec_parses_one_object_or_says_why_not),
        cmocka_unit_test(codec_getters_type_check_and_cap),
        cmocka_unit_test(codec_reads_text_repaired_and_capped),
        cmocka_unit_test(codec_writes_json_strings_cjson_reads_back),
        cmocka_unit_test(codec_splits_on_lines_spaces_then_characters),
        cmocka_unit_test(codec_strips_shortcodes_and_only_them),
        cmocka_unit_test(codec_takes_the_addressing_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
