/* test_irc_codec.c - IRC lines: the reader's framing and caps, the parser's tags, source and
 * parameters, what a person wrote (formatting, CTCP, addressing), and the lines planbot writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "irc_codec.h"

/* Collects the lines a reader hands out, joined by '|'. */
struct lines {
    char all[4096];
    int n;
    int stop_after; /* 0: never stop */
};

static int collect(void *ctx, const char *line, size_t len)
{
    struct lines *l = ctx;
    size_t at = strlen(l->all);
    snprintf(l->all + at, sizeof l->all - at, "%s%.*s", l->n ? "|" : "", (int)len, line);
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static void reader_frames_lines_in_any_pieces(void **state)
{
    (void)state;
    static const struct {
        const char *pieces[4];
        const char *lines;
    } rows[] = {
        { { "PING :a\r\n", NULL }, "PING :a" },
        { { "PI", "NG :a\r", "\nPONG b\n", NULL }, "PING :a|PONG b" },
        { { "A\r\nB\r\nC", NULL }, "A|B" },
        { { "A\r\n\r\n\nB\n", NULL }, "A|B" }, /* empty lines are not lines */
        { { "x", "y", "z\n", NULL }, "xyz" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct irc_reader *r = irc_reader_new();
        struct lines l = { "", 0, 0 };
        for (int k = 0; rows[i].pieces[k]; k++)
            assert_int_equal(
                irc_reader_feed(r, rows[i].pieces[k], strlen(rows[i].pieces[k]), collect, &l, NULL),
                0);
        if (strcmp(l.all, rows[i].lines) != 0)
            fail_msg("row %zu: got \"%s\", expected \"%s\"", i, l.all, rows[i].lines);
        irc_reader_free(r);
    }
}

static void reader_skips_an_overlong_line_and_goes_on(void **state)
{
    (void)state;
    struct irc_reader *r = irc_reader_new();
    struct lines l = { "", 0, 0 };
    size_t skipped = 0;
    char *big = malloc(30000);
    memset(big, 'x', 30000);
    assert_int_equal(irc_reader_feed(r, "OK 1\n", 5, collect, &l, &skipped), 0);
    for (int k = 0; k < 3; k++) /* one line of 90,000 bytes, in three pieces */
        assert_int_equal(irc_reader_feed(r, big, 30000, collect, &l, &skipped), 0);
    assert_int_equal(irc_reader_feed(r, "\nOK 2\n", 6, collect, &l, &skipped), 0);
    assert_string_equal(l.all, "OK 1|OK 2");
    assert_int_equal(skipped, 1);
    /* the longest line kept is IRC_READ_MAX - 1 bytes */
    struct lines m = { "", 0, 0 };
    memset(big, 'y', IRC_READ_MAX - 1);
    big[IRC_READ_MAX - 1] = '\n';
    skipped = 0;
    irc_reader_feed(r, big, IRC_READ_MAX, collect, &m, &skipped);
    assert_int_equal(skipped, 0);
    assert_int_equal(m.n, 1);
    free(big);
    irc_reader_free(r);
}

static void reader_stops_when_the_handler_says(void **state)
{
    (void)state;
    struct irc_reader *r = irc_reader_new();
    struct lines l = { "", 0, 1 };
    assert_int_equal(irc_reader_feed(r, "A\nB\nC\n", 6, collect, &l, NULL), 1);
    assert_string_equal(l.all, "A");
    irc_reader_free(r);
}

static void parse_table(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        const char *account, *nick, *command;
        int nparams;
        const char *p0, *plast;
    } rows[] = {
        { "PING :irc.test", "", "", "PING", 1, "irc.test", "irc.test" },
        { ":a!b@c PRIVMSG #x :hello there", "", "a", "PRIVMSG", 2, "#x", "hello there" },
        { "@account=mod;time=2025-11-20T10:00:00.000Z :mod!u@h PRIVMSG planbot :hi", "mod", "mod",
          "PRIVMSG", 2, "planbot", "hi" },
        { "@time=x;account=a\\sb\\:c :n!u@h PRIVMSG #c :t", "a b;c", "n", "PRIVMSG", 2, "#c", "t" },
        { "@account :n!u@h PRIVMSG #c :t", "", "n", "PRIVMSG", 2, "#c", "t" },
        { ":irc.test 001 planbot :Welcome", "", "irc.test", "001", 2, "planbot", "Welcome" },
        { ":srv CAP * LS * :sasl account-tag", "", "srv", "CAP", 4, "*", "sasl account-tag" },
        { "privmsg #c ::colon", "", "", "PRIVMSG", 2, "#c", ":colon" },
        { ":n!u@h   JOIN   #c  ", "", "n", "JOIN", 1, "#c", "#c" },
        { "CMD a b c d e f g h i j k l m n o p q", "", "", "CMD", 15, "a", "o p q" },
        { "PRIVMSG #c :", "", "", "PRIVMSG", 2, "#c", "" },
    };
    static struct irc_msg m;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[128] = "";
        int rc = irc_parse(rows[i].line, strlen(rows[i].line), &m, err, sizeof err);
        if (rc)
            fail_msg("row %zu: %s", i, err);
        assert_string_equal(m.account, rows[i].account);
        assert_string_equal(m.nick, rows[i].nick);
        assert_string_equal(m.command, rows[i].command);
        if (m.nparams != rows[i].nparams)
            fail_msg("row %zu: %d params, expected %d", i, m.nparams, rows[i].nparams);
        assert_string_equal(m.params[0], rows[i].p0);
        assert_string_equal(m.params[m.nparams - 1], rows[i].plast);
    }
}

static void parse_refuses_what_is_no_line(void **state)
{
    (void)state;
    static struct irc_msg m;
    char big[400];
    memset(big, 'n', sizeof big);
    memcpy(big, ":", 1);
    memcpy(big + 300, " PRIVMSG #c :x", 14);
    const struct {
        const char *line;
        size_t len;
        const char *why;
    } rows[] = {
        { "", 0, "no command" },
        { ":only.a.source", 14, "no command" },
        { "@tags-only", 10, "tags and no command" },
        { "PRIVMSG #c :a\0b", 15, "NUL" },
        { big, 314, "source over" },
        { "@account=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa X", 0,
          "account tag over" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ x", 0, "command over" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[128] = "";
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].line); /* 0: the string's */
        assert_int_equal(irc_parse(rows[i].line, len, &m, err, sizeof err), ERR_INVAL);
        if (!strstr(err, rows[i].why))
            fail_msg("row %zu: \"%s\" does not say \"%s\"", i, err, rows[i].why);
    }
}

static void strip_format_table(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } rows[] = {
        { "\x02"
          "bold\x02 plain",
          "bold plain" },
        { "\x03"
          "4red\x03 \x03"
          "04,12both\x0f",
          "red both" },
        { "\x03"
          "12,5x \x03,y",
          "x ,y" },
        { "a\x1d"
          "b\x1f"
          "c\x1e"
          "d\x11"
          "e\x16"
          "f",
          "abcdef" },
        { "\x04"
          "FF0000red \x04"
          "00ff00,0000FFx",
          "red x" },
        { "\x03"
          "123",
          "3" }, /* two digits at most */
        { "caf\xc3\xa9 \x03", "caf\xc3\xa9 " },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char t[128];
        snprintf(t, sizeof t, "%s", rows[i].in);
        size_t n = irc_strip_format(t, strlen(t));
        t[n] = '\0';
        if (strcmp(t, rows[i].out) != 0)
            fail_msg("row %zu: got \"%s\", expected \"%s\"", i, t, rows[i].out);
    }
}

static void addressed_table(void **state)
{
    (void)state;
    static const struct {
        const char *text, *prefix;
        int addressed;
        const char *question;
    } rows[] = {
        { "planbot: what about Crimea?", "!ask", 1, "what about Crimea?" },
        { "planbot, what about Crimea?", "!ask", 1, "what about Crimea?" },
        { "PlanBot:what about Crimea?", "!ask", 1, "what about Crimea?" },
        { "  planbot:   spaced", "!ask", 1, "spaced" },
        { "!ask how big is the army", "!ask", 1, "how big is the army" },
        { "!asking nothing", "!ask", 0, NULL },
        { "planbotx: no", "!ask", 0, NULL },
        { "planbot is a bot", "!ask", 0, NULL },
        { "hello planbot: hi", "!ask", 0, NULL },
        { "!ask q", NULL, 0, NULL },
        { "planbot:", NULL, 0, NULL }, /* nothing after the colon: nothing to ask */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        size_t start = 0, len = strlen(rows[i].text);
        int a = irc_addressed(rows[i].text, len, "planbot", rows[i].prefix, &start);
        if (a != rows[i].addressed)
            fail_msg("row %zu: addressed %d, expected %d", i, a, rows[i].addressed);
        if (a)
            assert_string_equal(rows[i].text + start, rows[i].question);
    }
}

static void names_compare_as_irc_does(void **state)
{
    (void)state;
    assert_true(irc_name_eq("Plan[Bot]", "plan{bot}"));
    assert_true(irc_name_eq("a\\b~", "A|B^"));
    assert_false(irc_name_eq("planbot", "planbot_"));
    assert_true(irc_valid_nick("planbot"));
    assert_true(irc_valid_nick("[x]-1"));
    assert_false(irc_valid_nick("1abc"));
    assert_false(irc_valid_nick("a b"));
    assert_false(irc_valid_nick(""));
    assert_true(irc_valid_channel("#ukraine-plan"));
    assert_false(irc_valid_channel("ukraine"));
    assert_false(irc_valid_channel("#a,b"));
    assert_false(irc_valid_channel("#a b"));
    assert_false(irc_valid_channel("#\x07"));
    assert_true(irc_is_ctcp("\x01VERSION\x01", 9));
    assert_false(irc_is_ctcp("VERSION", 7));
}

static void line_table(void **state)
{
    (void)state;
    static const struct {
        const char *cmd;
        int n;
        const char *p[3];
        int rc;
        const char *line;
    } rows[] = {
        { "NICK", 1, { "planbot" }, 0, "NICK :planbot\r\n" },
        { "PRIVMSG", 2, { "#c", "two words" }, 0, "PRIVMSG #c :two words\r\n" },
        { "PRIVMSG", 2, { "#c", "a\r\nQUIT" }, 0, "PRIVMSG #c :a  QUIT\r\n" },
        { "PRIVMSG", 2, { "#c d", "x" }, ERR_INVAL, "" },
        { "PRIVMSG", 2, { ":c", "x" }, ERR_INVAL, "" },
        { "PRIVMSG", 2, { "", "x" }, ERR_INVAL, "" },
        { "CAP", 0, { NULL }, 0, "CAP\r\n" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct buf b;
        buf_init(&b, 4096);
        assert_int_equal(irc_line(&b, rows[i].cmd, rows[i].n, rows[i].p), rows[i].rc);
        assert_string_equal(buf_str(&b), rows[i].line);
        buf_free(&b);
    }
    /* a line over 512 bytes is refused whole */
    char text[600];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    const char *p[] = { "#c", text };
    struct buf b;
    buf_init(&b, 4096);
    assert_int_equal(irc_line(&b, "PRIVMSG", 2, p), ERR_TOOBIG);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

static void text_room_keeps_the_relayed_line_under_512(void **state)
{
    (void)state;
    size_t room = irc_text_room("#ukraine", "planbot", 20);
    /* ":planbot!" + 20 + " PRIVMSG #ukraine :" + text + "\r\n" */
    assert_int_equal(1 + 7 + 1 + 20 + 9 + 8 + 2 + room + 2, IRC_LINE_MAX);
    assert_int_equal(irc_markup.unit, MARKUP_BYTES);
}

static void sasl_plain_is_base64_in_chunks(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8192);
    assert_int_equal(irc_sasl_plain(&b, "mod", "pw"), 0);
    /* base64("mod\0mod\0pw") */
    assert_string_equal(buf_str(&b), "AUTHENTICATE bW9kAG1vZABwdw==\r\n");
    buf_reset(&b);
    /* 298 bytes encode to exactly 400 characters: a "+" follows */
    char pw[300];
    memset(pw, 'p', 290);
    pw[290] = '\0';
    assert_int_equal(irc_sasl_plain(&b, "abc", pw), 0);
    const char *second = strstr(buf_str(&b), "\r\n") + 2;
    assert_int_equal(second - buf_str(&b), 13 + 400 + 2);
    assert_string_equal(second, "AUTHENTICATE +\r\n");
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_frames_lines_in_any_pieces),
        cmocka_unit_test(reader_skips_an_overlong_line_and_goes_on),
        cmocka_unit_test(reader_stops_when_the_handler_says),
        cmocka_unit_test(parse_table),
        cmocka_unit_test(parse_refuses_what_is_no_line),
        cmocka_unit_test(strip_format_table),
        cmocka_unit_test(addressed_table),
        cmocka_unit_test(names_compare_as_irc_does),
        cmocka_unit_test(line_table),
        cmocka_unit_test(text_room_keeps_the_relayed_line_under_512),
        cmocka_unit_test(sasl_plain_is_base64_in_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
