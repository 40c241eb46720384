/* test_markup.c - each platform's markup table: what it escapes, how it mentions, and how its
 * post limit cuts a reply in the unit the platform counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "discord_codec.h"
#include "err.h"
#include "irc_codec.h"
#include "markup.h"
#include "mattermost_codec.h"
#include "slack_codec.h"

#define ZWSP "\xE2\x80\x8B"

static void escape_table(void **state)
{
    (void)state;
    static const struct {
        const struct markup *m;
        int quotes;
        const char *in, *out;
    } rows[] = {
        { &markup_plain, 1, "<@U1> & @here > x", "<@U1> & @here > x" },
        { &slack_markup, 0, "a & b < c > d", "a &amp; b &lt; c &gt; d" },
        { &slack_markup, 0, "<!channel> <@U1>", "&lt;!channel&gt; &lt;@U1&gt;" },
        { &slack_markup, 0, "> not kept", "&gt; not kept" },
        { &slack_markup, 1, "> kept\n> too\nx > y\n>no", "> kept\n> too\nx &gt; y\n&gt;no" },
        { &slack_markup, 1, "", "" },
        { &mm_markup, 0, "@channel @all @here @alice",
          "@" ZWSP "channel @" ZWSP "all @" ZWSP "here @" ZWSP "alice" },
        { &mm_markup, 1, "> quote by a@b.example", "> quote by a@" ZWSP "b.example" },
        { &mm_markup, 0, "a @ b, trailing @", "a @ b, trailing @" },
        { &mm_markup, 0, "<b>&amp;</b>", "<b>&amp;</b>" },
        { &dc_markup, 0, "@everyone <@1> **x**", "@" ZWSP "everyone \\<@" ZWSP "1> \\*\\*x\\*\\*" },
        { &dc_markup, 1, "> kept\n> too", "> kept\n> too" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct buf b;
        buf_init(&b, 4096);
        assert_int_equal(buf_puts(&b, "["), 0);
        assert_int_equal(
            markup_escape(rows[i].m, rows[i].in, strlen(rows[i].in), rows[i].quotes, &b), 0);
        if (strcmp(buf_str(&b) + 1, rows[i].out) != 0)
            fail_msg("row %zu (%s): \"%s\" gave \"%s\", expected \"%s\"", i, rows[i].m->name,
                     rows[i].in, buf_str(&b) + 1, rows[i].out);
        buf_free(&b);
    }
}

static void escape_leaves_output_unchanged_when_full(void **state)
{
    (void)state;
    const struct markup *const all[] = { &slack_markup, &mm_markup, &dc_markup };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        struct buf b;
        buf_init(&b, 8);
        assert_int_equal(buf_puts(&b, "ok"), 0);
        assert_int_equal(markup_escape(all[i], "<@U1> @here", 11, 0, &b), ERR_TOOBIG);
        assert_string_equal(buf_str(&b), "ok");
        buf_free(&b);
    }
}

/* A platform of its own: digits become '#', and '!' becomes "!!" unless quotes are kept. */
static const char *demo_with(const char *text, size_t len, size_t i, int quotes)
{
    (void)len;
    if (text[i] >= '0' && text[i] <= '9')
        return "#";
    return text[i] == '!' && !quotes ? "!!" : NULL;
}

static void replace_copies_the_runs_between(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(markup_replace("a1b22!c", 7, 0, NULL, demo_with, &b), 0);
    assert_string_equal(buf_str(&b), "a#b##!!c");
    buf_reset(&b);
    assert_int_equal(markup_replace("x!", 2, 1, NULL, demo_with, &b), 0);
    assert_string_equal(buf_str(&b), "x!");
    buf_free(&b);
    buf_init(&b, 4);
    assert_int_equal(buf_puts(&b, "ok"), 0);
    assert_int_equal(markup_replace("1234", 4, 0, NULL, demo_with, &b), ERR_TOOBIG);
    assert_string_equal(buf_str(&b), "ok");
    buf_free(&b);
    /* only the special bytes are asked about: here the digits are not, so they stay */
    buf_init(&b, 64);
    assert_int_equal(markup_replace("a1b22!c", 7, 0, "!", demo_with, &b), 0);
    assert_string_equal(buf_str(&b), "a1b22!!c");
    buf_free(&b);
}

/* A platform's table names the bytes its with() may replace: it must replace no other, in any
 * context (the escape skips them without asking); and a table that escapes has no citation
 * marks, which only IRC's table, with nothing to escape, has. */
static void special_names_every_byte_with_replaces(void **state)
{
    (void)state;
    const struct markup *tables[] = { &slack_markup, &mm_markup, &dc_markup };
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        const struct markup *m = tables[t];
        assert_non_null(m->with);
        assert_non_null(m->special);
        /* an escape would change citation marks: a table with one has none */
        assert_null(m->cite_open);
        assert_null(m->cite_close);
        for (int c = 1; c < 256; c++) {
            if (strchr(m->special, c))
                continue;
            /* the byte first, last, alone, after a line end, before a space and a name */
            char text[8] = { '\n', (char)c, ' ', 'a', 'b', '\0' };
            for (size_t i = 0; i < 5; i++)
                for (int quotes = 0; quotes < 2; quotes++)
                    if (text[i] == (char)c && m->with(text, 5, i, quotes))
                        fail_msg("%s: byte 0x%02x is replaced but not in special \"%s\"", m->name,
                                 c, m->special);
            char alone[1] = { (char)c };
            if (m->with(alone, 1, 0, 0) || m->with(alone, 1, 0, 1))
                fail_msg("%s: byte 0x%02x alone is replaced but not in special", m->name, c);
        }
    }
    assert_null(irc_markup_bold.with);
    assert_non_null(irc_markup_bold.cite_open);
}

static void mention_table(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 64);
    assert_int_equal(markup_mention(&slack_markup, "U123", &b), 0);
    assert_string_equal(buf_str(&b), "<@U123>");
    buf_reset(&b);
    assert_int_equal(markup_mention(&mm_markup, "alice", &b), 0);
    assert_string_equal(buf_str(&b), "@alice");
    buf_reset(&b);
    assert_int_equal(markup_mention(&markup_plain, "alice", &b), ERR_INVAL);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    buf_init(&b, 6);
    assert_int_equal(markup_mention(&slack_markup, "U123", &b), ERR_TOOBIG);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* Cuts text into parts with m and checks each against the limit in m's unit. */
static size_t parts(const struct markup *m, const char *text, char out[][64], size_t max)
{
    size_t len = strlen(text), n = 0;
    for (size_t at = 0, next; at < len && n < max; at += next, n++) {
        size_t part = markup_split(m, text + at, len - at, &next);
        assert_true(part > 0 && part <= next && next <= len - at);
        assert_true(markup_length(m, text + at, part) <= m->post_max);
        snprintf(out[n], 64, "%.*s", (int)part, text + at);
    }
    return n;
}

static void split_counts_the_platforms_unit(void **state)
{
    (void)state;
    /* "ÄÖÜ ÄÖÜ": 7 characters, 13 bytes */
    static const char text[] = "\xC3\x84\xC3\x96\xC3\x9C \xC3\x84\xC3\x96\xC3\x9C";
    const struct markup chars = { .name = "chars", .post_max = 7, .unit = MARKUP_CHARS },
                        bytes = { .name = "bytes", .post_max = 7, .unit = MARKUP_BYTES },
                        tight = { .name = "tight", .post_max = 2, .unit = MARKUP_CHARS };
    char out[8][64];
    assert_int_equal(markup_length(&chars, text, strlen(text)), 7);
    assert_int_equal(markup_length(&bytes, text, strlen(text)), 13);
    assert_int_equal(parts(&chars, text, out, 8), 1); /* fits in characters */
    assert_int_equal(parts(&bytes, text, out, 8), 2); /* not in bytes: cut at the space */
    assert_string_equal(out[0], "\xC3\x84\xC3\x96\xC3\x9C");
    assert_string_equal(out[1], "\xC3\x84\xC3\x96\xC3\x9C");
    assert_int_equal(parts(&tight, text, out, 8), 4); /* no space in reach: whole characters */
    assert_string_equal(out[0], "\xC3\x84\xC3\x96");
    assert_string_equal(out[1], "\xC3\x9C");
    size_t next;
    assert_int_equal(markup_split(&markup_plain, text, strlen(text), &next), strlen(text));
    assert_int_equal(next, strlen(text));
}

static void split_keeps_the_real_limits(void **state)
{
    (void)state;
    /* a reply of 20,000 two-byte characters: Mattermost counts characters, Slack bytes */
    static char text[40001];
    for (size_t i = 0; i < 40000; i += 2)
        memcpy(text + i, "\xC3\xA9", 2);
    text[40000] = '\0';
    size_t next;
    size_t mm = markup_split(&mm_markup, text, 40000, &next);
    assert_int_equal(markup_length(&mm_markup, text, mm), MM_POST_MAX);
    size_t sl = markup_split(&slack_markup, text, 40000, &next);
    assert_true(sl <= SLACK_POST_MAX && sl >= SLACK_POST_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_table),
        cmocka_unit_test(escape_leaves_output_unchanged_when_full),
        cmocka_unit_test(replace_copies_the_runs_between),
        cmocka_unit_test(special_names_every_byte_with_replaces),
        cmocka_unit_test(mention_table),
        cmocka_unit_test(split_counts_the_platforms_unit),
        cmocka_unit_test(split_keeps_the_real_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
