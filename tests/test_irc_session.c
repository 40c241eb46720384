/* test_irc_session.c - the IRC session as the server sees it: each test is a script of lines
 * the server sends, with the lines planbot must send back and the event each one raises. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "irc_codec.h"
#include "irc_session.h"

/* One step: the server says line; planbot answers sent (its lines joined, CR LF each; "" none)
 * and raises kind; for a question, text, account and reply_to; for others, channel or a piece
 * of why; and then asks the questions it held (released: "text|account|reply_to;" each, NULL
 * for none). */
struct step {
    const char *line;
    const char *sent;
    enum irc_event_kind kind;
    const char *a, *b, *c; /* QUESTION: text, account, reply_to; else: channel, why */
    const char *released;
};

/* The questions the session releases now, as "text|account|reply_to;" each. */
static void released(struct irc_session *s, int now, char *into, size_t size)
{
    struct irc_event ev;
    size_t n = 0;
    into[0] = '\0';
    while (irc_session_held(s, now, &ev)) {
        assert_int_equal(ev.kind, IRC_EV_QUESTION);
        n += (size_t)snprintf(into + n, size - n, "%.*s|%s|%s;", (int)ev.len, ev.text, ev.account,
                              ev.reply_to);
        assert_true(n < size);
    }
}

static const struct irc_session_config plain = { "planbot",        NULL,  NULL, NULL, NULL, NULL,
                                                 "#ukraine,#news", "!ask" };
static const struct irc_session_config with_sasl = { "planbot", "bot", "Plan Bot", "srvpw",
                                                     "botacct", "pw",  "#ukraine", "!ask" };

static void run(const struct irc_session_config *c, const char *begin, const struct step *steps,
                size_t n)
{
    struct irc_session *s = irc_session_new(c);
    assert_non_null(s);
    struct buf out;
    buf_init(&out, 64 * 1024);
    assert_int_equal(irc_session_begin(s, &out), 0);
    assert_string_equal(buf_str(&out), begin);
    static struct irc_msg m;
    for (size_t i = 0; i < n; i++) {
        const struct step *st = &steps[i];
        char err[128];
        buf_reset(&out);
        if (irc_parse(st->line, strlen(st->line), &m, err, sizeof err))
            fail_msg("step %zu: %s", i, err);
        struct irc_event ev;
        assert_int_equal(irc_session_take(s, &m, &out, &ev), 0);
        if (strcmp(buf_str(&out), st->sent) != 0)
            fail_msg("step %zu (%s): sent \"%s\", expected \"%s\"", i, st->line, buf_str(&out),
                     st->sent);
        if (ev.kind != st->kind)
            fail_msg("step %zu (%s): event %d, expected %d", i, st->line, ev.kind, st->kind);
        if (ev.kind == IRC_EV_QUESTION) {
            char q[512];
            snprintf(q, sizeof q, "%.*s", (int)ev.len, ev.text);
            assert_string_equal(q, st->a);
            assert_string_equal(ev.account, st->b);
            assert_string_equal(ev.reply_to, st->c);
        } else if (st->a) {
            assert_string_equal(ev.channel, st->a);
        }
        if (ev.kind != IRC_EV_QUESTION && st->b && !strstr(ev.why, st->b))
            fail_msg("step %zu: why \"%s\" does not say \"%s\"", i, ev.why, st->b);
        char got[1024];
        released(s, 0, got, sizeof got);
        if (strcmp(got, st->released ? st->released : "") != 0)
            fail_msg("step %zu (%s): released \"%s\", expected \"%s\"", i, st->line, got,
                     st->released ? st->released : "");
    }
    buf_free(&out);
    irc_session_free(s);
}

#define PLAIN_BEGIN "CAP LS :302\r\nNICK :planbot\r\nUSER planbot 0 * :planbot\r\n"

static void registers_with_caps_and_joins(void **state)
{
    (void)state;
    static const struct step steps[] = {
        { ":irc.test CAP * LS * :multi-prefix message-tags", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":irc.test CAP * LS :account-tag server-time echo-message sts",
          "CAP REQ :message-tags account-tag server-time echo-message\r\n", IRC_EV_NONE, 0, 0, 0,
          0 },
        { ":irc.test CAP * ACK :message-tags account-tag server-time echo-message", "CAP :END\r\n",
          IRC_EV_NONE, 0, 0, 0, 0 },
        { ":irc.test 001 planbot :Welcome", "JOIN :#ukraine\r\nJOIN :#news\r\n", IRC_EV_WELCOME, 0,
          0, 0, 0 },
        { ":irc.test 005 planbot WHOX CHANTYPES=# :are supported", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":planbot!planbot@10.0.0.1 JOIN #ukraine", "", IRC_EV_JOINED, "#ukraine", 0, 0, 0 },
        { "PING :irc.test", "PONG :irc.test\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { "ERROR :Closing link (planbot) [Ping timeout]", "", IRC_EV_CLOSING, 0, "Ping timeout", 0,
          0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

static void a_server_without_cap_registers_all_the_same(void **state)
{
    (void)state;
    static const struct step steps[] = {
        { ":old.server 421 * CAP :Unknown command", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":old.server 001 planbot :Welcome", "JOIN :#ukraine\r\nJOIN :#news\r\n", IRC_EV_WELCOME,
          0, 0, 0, 0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

static void logs_in_with_sasl_plain(void **state)
{
    (void)state;
    static const struct step steps[] = {
        { ":s CAP * LS :sasl=PLAIN,EXTERNAL account-tag", "CAP REQ :sasl account-tag\r\n",
          IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s CAP planbot ACK :sasl account-tag", "AUTHENTICATE :PLAIN\r\n", IRC_EV_NONE, 0, 0, 0,
          0 },
        { "AUTHENTICATE +", "AUTHENTICATE Ym90YWNjdABib3RhY2N0AHB3\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s 900 planbot planbot!bot@h botacct :You are now logged in", "", IRC_EV_NONE, 0, 0, 0,
          0 },
        { ":s 903 planbot :SASL authentication successful", "CAP :END\r\n", IRC_EV_NONE, 0, 0, 0,
          0 },
        { ":s 001 planbot :Welcome", "JOIN :#ukraine\r\n", IRC_EV_WELCOME, 0, 0, 0, 0 },
    };
    run(&with_sasl, "CAP LS :302\r\nPASS :srvpw\r\nNICK :planbot\r\nUSER bot 0 * :Plan Bot\r\n",
        steps, sizeof steps / sizeof steps[0]);
}

static void a_refused_account_is_fatal(void **state)
{
    (void)state;
    static const struct step refused[] = {
        { ":s CAP * LS :sasl", "CAP REQ :sasl\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s CAP * ACK :sasl", "AUTHENTICATE :PLAIN\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { "AUTHENTICATE +", "AUTHENTICATE Ym90YWNjdABib3RhY2N0AHB3\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s 904 planbot :SASL authentication failed", "", IRC_EV_FATAL, 0, "botacct", 0, 0 },
    };
    const char *begin = "CAP LS :302\r\nPASS :srvpw\r\nNICK :planbot\r\nUSER bot 0 * :Plan Bot\r\n";
    run(&with_sasl, begin, refused, sizeof refused / sizeof refused[0]);
    static const struct step no_sasl[] = {
        { ":s CAP * LS :account-tag", "", IRC_EV_FATAL, 0, "offers no SASL", 0, 0 },
    };
    run(&with_sasl, begin, no_sasl, 1);
    static const struct step no_plain[] = {
        { ":s CAP * LS :sasl=EXTERNAL", "", IRC_EV_FATAL, 0, "offers no SASL", 0, 0 },
    };
    run(&with_sasl, begin, no_plain, 1);
    static const struct step nak_twice[] = {
        { ":s CAP * LS :sasl account-tag", "CAP REQ :sasl account-tag\r\n", IRC_EV_NONE, 0, 0, 0,
          0 },
        { ":s CAP * NAK :sasl account-tag", "CAP REQ :sasl\r\n", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s CAP * NAK :sasl", "", IRC_EV_FATAL, 0, "refused SASL", 0, 0 },
    };
    run(&with_sasl, begin, nak_twice, sizeof nak_twice / sizeof nak_twice[0]);
    static const struct step no_cap[] = {
        { ":s 001 planbot :Welcome", "", IRC_EV_FATAL, 0, "without SASL", 0, 0 },
    };
    run(&with_sasl, begin, no_cap, 1);
    static const struct step bad_pass[] = {
        { ":s 464 * :Password incorrect", "", IRC_EV_FATAL, 0, "IRC_PASSWORD", 0, 0 },
    };
    run(&with_sasl, begin, bad_pass, 1);
}

static void takes_another_nick_and_asks_for_its_own_back(void **state)
{
    (void)state;
    static const struct step steps[] = {
        { ":s 433 * planbot :Nickname is already in use", "NICK :planbot_\r\n", IRC_EV_NONE, 0, 0,
          0, 0 },
        { ":s 433 * planbot_ :Nickname is already in use", "NICK :planbot__\r\n", IRC_EV_NONE, 0, 0,
          0, 0 },
        { ":s 001 planbot__ :Welcome", "JOIN :#ukraine\r\nJOIN :#news\r\nNICK :planbot\r\n",
          IRC_EV_WELCOME, 0, 0, 0, 0 },
        /* addressed by the nick it has now */
        { ":a!u@h PRIVMSG #ukraine :planbot__: hi", "", IRC_EV_QUESTION, "hi", "", "#ukraine", 0 },
        { ":planbot__!u@h NICK :planbot", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":a!u@h PRIVMSG #ukraine :planbot: hi again", "", IRC_EV_QUESTION, "hi again", "",
          "#ukraine", 0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

static void every_nick_taken_is_fatal(void **state)
{
    (void)state;
    struct irc_session *s = irc_session_new(&plain);
    struct buf out;
    buf_init(&out, 8192);
    irc_session_begin(s, &out);
    static struct irc_msg m;
    struct irc_event ev = { 0 };
    char err[64];
    for (int i = 0; i < 9 && ev.kind != IRC_EV_FATAL; i++) {
        const char *line = ":s 433 * x :in use";
        irc_parse(line, strlen(line), &m, err, sizeof err);
        irc_session_take(s, &m, &out, &ev);
    }
    assert_int_equal(ev.kind, IRC_EV_FATAL);
    assert_non_null(strstr(ev.why, "in use"));
    buf_free(&out);
    irc_session_free(s);
}

#define WELCOMED                                                                                        \
    { ":s CAP * LS :account-tag echo-message",                                                          \
      "CAP REQ :account-tag echo-message\r\n",                                                          \
      IRC_EV_NONE,                                                                                      \
      0,                                                                                                \
      0,                                                                                                \
      0,                                                                                                \
      0 },                                                                                              \
        { ":s CAP * ACK :account-tag echo-message", "CAP :END\r\n", IRC_EV_NONE, 0, 0, 0, 0 },          \
        { ":s 001 planbot :Welcome", "JOIN :#ukraine\r\nJOIN :#news\r\n", IRC_EV_WELCOME, 0, 0, 0, 0 }, \
    {                                                                                                   \
        ":planbot!planbot@h JOIN :#ukraine", "", IRC_EV_JOINED, "#ukraine", 0, 0, 0                     \
    }

static void questions_are_what_is_addressed_to_planbot(void **state)
{
    (void)state;
    static const struct step steps[] = {
        WELCOMED,
        { "@account=mod :mod!u@h PRIVMSG #ukraine :planbot: what about Crimea?", "",
          IRC_EV_QUESTION, "what about Crimea?", "mod", "#ukraine", 0 },
        { ":anon!u@h PRIVMSG #ukraine :!ask army size", "", IRC_EV_QUESTION, "army size", "",
          "#ukraine", 0 },
        { ":anon!u@h PRIVMSG planbot :Who wrote the plan?", "", IRC_EV_QUESTION,
          "Who wrote the plan?", "", "anon", 0 },
        { ":anon!u@h PRIVMSG #ukraine :\x02planbot\x02: \x03"
          "4colour\x03 question",
          "", IRC_EV_QUESTION, "colour question", "", "#ukraine", 0 },
        /* not questions */
        { ":anon!u@h PRIVMSG #ukraine :just chatting", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":anon!u@h NOTICE planbot :planbot: notices are never answered", "", IRC_EV_NONE, 0, 0, 0,
          0 },
        { ":anon!u@h PRIVMSG planbot :\x01VERSION\x01", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":anon!u@h PRIVMSG #ukraine :\x01"
          "ACTION planbot: waves\x01",
          "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":planbot!planbot@h PRIVMSG #ukraine :planbot: an echo of its own", "", IRC_EV_NONE, 0, 0,
          0, 0 },
        { ":irc.test PRIVMSG planbot :from a server", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":!u@h PRIVMSG planbot :from no nick to answer", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":@!u@h PRIVMSG planbot :nor from this one", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":anon!u@h PRIVMSG planbot :   ", "", IRC_EV_NONE, 0, 0, 0, 0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

static void a_kick_is_reported_and_rejoin_joins_again(void **state)
{
    (void)state;
    struct irc_session *s = irc_session_new(&plain);
    struct buf out;
    buf_init(&out, 8192);
    irc_session_begin(s, &out);
    static struct irc_msg m;
    struct irc_event ev;
    char err[64];
    static const char *const lines[] = { ":s 001 planbot :Welcome", ":planbot!p@h JOIN #ukraine",
                                         ":planbot!p@h JOIN #news",
                                         ":op!u@h KICK #ukraine planbot :spam" };
    for (size_t i = 0; i < 4; i++) {
        irc_parse(lines[i], strlen(lines[i]), &m, err, sizeof err);
        assert_int_equal(irc_session_take(s, &m, &out, &ev), 0);
    }
    assert_int_equal(ev.kind, IRC_EV_LEFT);
    assert_string_equal(ev.channel, "#ukraine");
    assert_non_null(strstr(ev.why, "op (spam)"));
    buf_reset(&out);
    assert_int_equal(irc_session_rejoin(s, &out), 0);
    assert_string_equal(buf_str(&out), "JOIN :#ukraine\r\n"); /* not #news: it is in it */
    /* someone else kicked: nothing to do */
    const char *other = ":op!u@h KICK #news someone :bye";
    irc_parse(other, strlen(other), &m, err, sizeof err);
    irc_session_take(s, &m, &out, &ev);
    assert_int_equal(ev.kind, IRC_EV_NONE);
    /* a refused join says why */
    const char *banned = ":s 474 planbot #ukraine :Cannot join channel (+b)";
    irc_parse(banned, strlen(banned), &m, err, sizeof err);
    irc_session_take(s, &m, &out, &ev);
    assert_int_equal(ev.kind, IRC_EV_JOIN_FAILED);
    assert_string_equal(ev.channel, "#ukraine");
    buf_free(&out);
    irc_session_free(s);
}

/* Registered with account-notify and extended-join but no account-tag, on a server that does
 * WHOX, and joined to #ukraine: planbot asks who is in it. */
#define NOTIFY_JOINED                                                                                   \
    { ":s CAP * LS :account-notify extended-join",                                                      \
      "CAP REQ :account-notify extended-join\r\n",                                                      \
      IRC_EV_NONE,                                                                                      \
      0,                                                                                                \
      0,                                                                                                \
      0,                                                                                                \
      0 },                                                                                              \
        { ":s CAP * ACK :account-notify extended-join", "CAP :END\r\n", IRC_EV_NONE, 0, 0, 0, 0 },      \
        { ":s 001 planbot :Welcome", "JOIN :#ukraine\r\nJOIN :#news\r\n", IRC_EV_WELCOME, 0, 0, 0, 0 }, \
        { ":s 005 planbot WHOX :are supported", "", IRC_EV_NONE, 0, 0, 0, 0 },                          \
    {                                                                                                   \
        ":planbot!p@h JOIN #ukraine * :planbot", "WHO #ukraine :%tna,152\r\n", IRC_EV_JOINED,           \
            "#ukraine", 0, 0, 0                                                                         \
    }

static void without_account_tag_accounts_come_from_notify_and_whox(void **state)
{
    (void)state;
    static const struct step steps[] = {
        NOTIFY_JOINED,
        { ":s 354 planbot 152 Mod mod", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s 354 planbot 152 anon 0", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s 315 planbot #ukraine :End of /WHO list.", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":mod!u@h PRIVMSG #ukraine :planbot: q1", "", IRC_EV_QUESTION, "q1", "mod", "#ukraine",
          0 },
        { ":anon!u@h PRIVMSG #ukraine :planbot: q2", "", IRC_EV_QUESTION, "q2", "", "#ukraine", 0 },
        /* the account follows the nick, and a log-out takes it away */
        { ":mod!u@h NICK mod2", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":mod2!u@h PRIVMSG planbot :q3", "", IRC_EV_QUESTION, "q3", "mod", "mod2", 0 },
        { ":mod!u@h PRIVMSG planbot :q4 under the old nick", "", IRC_EV_QUESTION,
          "q4 under the old nick", "", "mod", 0 },
        { ":mod2!u@h NICK MOD2", "", IRC_EV_NONE, 0, 0, 0, 0 }, /* the same nick, other case */
        { ":MOD2!u@h PRIVMSG planbot :q3b", "", IRC_EV_QUESTION, "q3b", "mod", "MOD2", 0 },
        { ":mod2!u@h ACCOUNT *", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":mod2!u@h PRIVMSG planbot :q5", "", IRC_EV_QUESTION, "q5", "", "mod2", 0 },
        { ":new!u@h JOIN #ukraine newacct :New", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":new!u@h PRIVMSG planbot :q6", "", IRC_EV_QUESTION, "q6", "newacct", "new", 0 },
        { ":new!u@h QUIT :bye", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":new!u@h PRIVMSG planbot :q7", "", IRC_EV_QUESTION, "q7", "", "new", 0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

/* Without account-tag, a question from someone whose account is not known yet waits for the
 * WHOX planbot sent on joining: the moderator who speaks first is not refused. */
static void questions_wait_for_the_whox_that_says_who_is_logged_in(void **state)
{
    (void)state;
    static const struct step steps[] = {
        NOTIFY_JOINED,
        /* before the answer: held, in the channel and in private */
        { ":mod!u@h PRIVMSG #ukraine :planbot: kb teach early", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":anon!u@h PRIVMSG planbot :a private one", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":planbot!p@h JOIN #news * :planbot", "WHO #news :%tna,152\r\n", IRC_EV_JOINED, "#news",
          0, 0, 0 },
        { ":s 354 planbot 152 mod modacct", "", IRC_EV_NONE, 0, 0, 0, 0 },
        { ":s 354 planbot 152 anon 0", "", IRC_EV_NONE, 0, 0, 0, 0 },
        /* #ukraine's answer is complete (its name in another case), #news's is not: a
         * question in private still waits, as the one who asked may be in #news */
        { ":s 315 planbot #UKRAINE :End of /WHO list.", "", IRC_EV_NONE, 0, 0, 0, 0 },
        /* known: asked at once, before those held */
        { ":mod!u@h PRIVMSG #ukraine :planbot: known now", "", IRC_EV_QUESTION, "known now",
          "modacct", "#ukraine", 0 },
        { ":s 315 planbot #news :End of /WHO list.", "", IRC_EV_NONE, 0, 0, 0,
          "kb teach early|modacct|#ukraine;a private one||anon;" },
        /* no WHOX under way: nobody waits */
        { ":anon!u@h PRIVMSG #ukraine :planbot: later", "", IRC_EV_QUESTION, "later", "",
          "#ukraine", 0 },
    };
    run(&plain, PLAIN_BEGIN, steps, sizeof steps / sizeof steps[0]);
}

/* At most 32 wait; the next is asked at once, as from no account. A kick ends the wait for that
 * channel's WHOX, and the adapter's deadline releases the rest whatever the server says. */
static void held_questions_are_capped_and_released_at_the_deadline(void **state)
{
    (void)state;
    struct irc_session *s = irc_session_new(&plain);
    assert_non_null(s);
    struct buf out;
    buf_init(&out, 8192);
    irc_session_begin(s, &out);
    static struct irc_msg m;
    struct irc_event ev;
    char err[64], line[128], got[4096];
    static const char *const setup[] = { ":s CAP * LS :account-notify extended-join",
                                         ":s CAP * ACK :account-notify extended-join",
                                         ":s 001 planbot :Welcome",
                                         ":s 005 planbot WHOX :are supported",
                                         ":planbot!p@h JOIN #ukraine * :planbot",
                                         ":planbot!p@h JOIN #news * :planbot" };
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) {
        assert_int_equal(irc_parse(setup[i], strlen(setup[i]), &m, err, sizeof err), 0);
        assert_int_equal(irc_session_take(s, &m, &out, &ev), 0);
    }
    for (int i = 0; i < 33; i++) {
        snprintf(line, sizeof line, ":n%d!u@h PRIVMSG #news :planbot: q%d", i, i);
        assert_int_equal(irc_parse(line, strlen(line), &m, err, sizeof err), 0);
        assert_int_equal(irc_session_take(s, &m, &out, &ev), 0);
        assert_int_equal(ev.kind, i < 32 ? IRC_EV_NONE : IRC_EV_QUESTION);
    }
    assert_string_equal(ev.account, "");
    assert_int_equal(irc_session_holding(s), 32);
    /* kicked from #ukraine: its WHOX no longer counts, #news's still does */
    static const char kick[] = ":op!u@h KICK #ukraine planbot :out";
    irc_parse(kick, strlen(kick), &m, err, sizeof err);
    irc_session_take(s, &m, &out, &ev);
    released(s, 0, got, sizeof got);
    assert_string_equal(got, "");
    released(s, 1, got, sizeof got);
    assert_true(strncmp(got, "q0||#news;q1||#news;", 20) == 0);
    assert_non_null(strstr(got, "q31||#news;"));
    assert_int_equal(irc_session_holding(s), 0);
    buf_free(&out);
    irc_session_free(s);
}

static void without_any_account_source_nobody_has_one(void **state)
{
    (void)state;
    struct irc_session *s = irc_session_new(&plain);
    struct buf out;
    buf_init(&out, 8192);
    irc_session_begin(s, &out);
    static struct irc_msg m;
    struct irc_event ev;
    char err[64];
    /* a tag the server was never asked for is not believed */
    static const char *const lines[] = { ":s 001 planbot :Welcome",
                                         "@account=mod :mod!u@h PRIVMSG planbot :q" };
    for (size_t i = 0; i < 2; i++) {
        irc_parse(lines[i], strlen(lines[i]), &m, err, sizeof err);
        irc_session_take(s, &m, &out, &ev);
    }
    assert_false(irc_session_knows_accounts(s));
    assert_int_equal(ev.kind, IRC_EV_QUESTION);
    assert_string_equal(ev.account, "");
    buf_free(&out);
    irc_session_free(s);
}

static void settings_that_cannot_be_lines_are_refused(void **state)
{
    (void)state;
    char longnick[100];
    memset(longnick, 'n', 99);
    longnick[99] = '\0';
    struct irc_session_config c = plain;
    c.nick = longnick;
    assert_null(irc_session_new(&c));
    c = plain;
    c.nick = NULL;
    assert_null(irc_session_new(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registers_with_caps_and_joins),
        cmocka_unit_test(a_server_without_cap_registers_all_the_same),
        cmocka_unit_test(logs_in_with_sasl_plain),
        cmocka_unit_test(a_refused_account_is_fatal),
        cmocka_unit_test(takes_another_nick_and_asks_for_its_own_back),
        cmocka_unit_test(every_nick_taken_is_fatal),
        cmocka_unit_test(questions_are_what_is_addressed_to_planbot),
        cmocka_unit_test(a_kick_is_reported_and_rejoin_joins_again),
        cmocka_unit_test(without_account_tag_accounts_come_from_notify_and_whox),
        cmocka_unit_test(questions_wait_for_the_whox_that_says_who_is_logged_in),
        cmocka_unit_test(held_questions_are_capped_and_released_at_the_deadline),
        cmocka_unit_test(without_any_account_source_nobody_has_one),
        cmocka_unit_test(settings_that_cannot_be_lines_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
