/* fuzz_irc_line.c - libFuzzer target for the IRC codec and session (irc_codec.h,
 * irc_session.h): each input is the bytes a server sends, fed to the reader in two pieces (cut
 * where the first byte says), every line parsed and handed to a session that logs in with SASL,
 * which is all the outside input the IRC adapter hands to them.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a documented promise breaks: a
 * line handed out is never empty and holds no LF; a parsed message has a command and at most
 * IRC_PARAMS_MAX parameters; every line the session writes ends in CR LF, holds no other CR or
 * LF, and fits IRC_LINE_MAX; a question's text is inside the line, not empty, and free of
 * formatting codes; stripping never lengthens. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "irc_codec.h"
#include "irc_session.h"
#include "fuzz.h"

static struct irc_session *session;
static struct irc_msg msg;
static struct buf out;

static void check_out(void)
{
    const char *p = out.data, *end = out.data + out.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL && nl > p && nl[-1] == '\r');
        CHECK((size_t)(nl + 1 - p) <= IRC_LINE_MAX);
        CHECK(memchr(p, '\r', (size_t)(nl - 1 - p)) == NULL);
        p = nl + 1;
    }
}

static int on_line(void *ctx, const char *line, size_t len)
{
    (void)ctx;
    CHECK(len > 0 && memchr(line, '\n', len) == NULL);
    char err[128];
    if (irc_parse(line, len, &msg, err, sizeof err))
        return 0;
    CHECK(msg.command[0] != '\0');
    CHECK(msg.nparams <= IRC_PARAMS_MAX);
    struct irc_event ev;
    buf_reset(&out);
    irc_session_take(session, &msg, &out, &ev);
    check_out();
    if (ev.kind == IRC_EV_QUESTION) {
        CHECK(ev.len > 0);
        CHECK(ev.text >= msg.line && ev.text + ev.len <= msg.line + sizeof msg.line);
        for (size_t i = 0; i < ev.len; i++)
            CHECK(ev.text[i] != 0x02 && ev.text[i] != 0x03 && ev.text[i] != 0x0f);
    }
    /* the questions held for a WHOX, as the adapter asks them (at its deadline: now) */
    CHECK(irc_session_holding(session) <= 32);
    while (irc_session_held(session, msg.line[0] == 'X', &ev)) {
        CHECK(ev.kind == IRC_EV_QUESTION && ev.len > 0 && ev.len < IRC_LINE_MAX);
        CHECK(strlen(ev.text) == ev.len && ev.account && ev.reply_to[0]);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!session) {
        static const struct irc_session_config c = { "planbot", NULL, NULL,    "pass",
                                                     "botacct", "pw", "#a,#b", "!ask" };
        session = irc_session_new(&c);
        buf_init(&out, 64 * 1024);
    }
    buf_reset(&out);
    irc_session_begin(session, &out);
    check_out();
    size_t cut = size ? data[0] % (size + 1) : 0;
    struct irc_reader *r = irc_reader_new();
    irc_reader_feed(r, (const char *)data, cut, on_line, NULL, NULL);
    irc_reader_feed(r, (const char *)data + cut, size - cut, on_line, NULL, NULL);
    irc_reader_free(r);
    /* the text helpers on the raw input */
    char copy[2048];
    size_t n = size < sizeof copy ? size : sizeof copy;
    memcpy(copy, data, n);
    size_t stripped = irc_strip_format(copy, n);
    CHECK(stripped <= n);
    size_t start;
    if (irc_addressed(copy, stripped, "planbot", "!ask", &start))
        CHECK(start < stripped);
    return 0;
}
