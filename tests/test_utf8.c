/* test_utf8.c - UTF-8 validation and decoding: a table of valid and invalid sequences. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "utf8.h"

/* One byte sequence: whether utf8_valid() accepts it (and where the first bad byte is), and what
 * utf8_decode() makes of its first character. */
struct utf8_case {
    const char *name;
    const char *bytes;
    size_t len;  /* bytes to look at (a sequence may hold a NUL) */
    int valid;   /* utf8_valid() */
    size_t bad;  /* offset of the first bad byte when not valid */
    size_t dlen; /* utf8_decode() of the first character: length, 0 when invalid */
    uint32_t cp; /* and its code point (U+FFFD when invalid) */
};

#define S(s) s, sizeof s - 1

static const struct utf8_case cases[] = {
    /* Valid. */
    { "ASCII", S("hello"), 1, 0, 1, 'h' },
    { "empty", S(""), 1, 0, 0, 0xFFFD },
    { "two bytes (e acute)", S("\xC3\xA9"), 1, 0, 2, 0xE9 },
    { "smallest two-byte", S("\xC2\x80"), 1, 0, 2, 0x80 },
    { "largest two-byte", S("\xDF\xBF"), 1, 0, 2, 0x7FF },
    { "three bytes (euro)", S("\xE2\x82\xAC"), 1, 0, 3, 0x20AC },
    { "smallest three-byte", S("\xE0\xA0\x80"), 1, 0, 3, 0x800 },
    { "just below surrogates", S("\xED\x9F\xBF"), 1, 0, 3, 0xD7FF },
    { "just above surrogates", S("\xEE\x80\x80"), 1, 0, 3, 0xE000 },
    { "U+FFFD itself", S("\xEF\xBF\xBD"), 1, 0, 3, 0xFFFD },
    { "largest three-byte", S("\xEF\xBF\xBF"), 1, 0, 3, 0xFFFF },
    { "four bytes (emoji)", S("\xF0\x9F\x98\x80"), 1, 0, 4, 0x1F600 },
    { "smallest four-byte", S("\xF0\x90\x80\x80"), 1, 0, 4, 0x10000 },
    { "U+10FFFF", S("\xF4\x8F\xBF\xBF"), 1, 0, 4, 0x10FFFF },
    { "mixed text",
      S("Zelensky \xE2\x80\x9C"
        "ok\xE2\x80\x9D \xF0\x9F\x87\xBA\xF0\x9F\x87\xA6"),
      1, 0, 1, 'Z' },
    { "Cyrillic", S("\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2"), 1, 0, 2, 0x41A },
    { "DEL is plain ASCII", S("\x7F"), 1, 0, 1, 0x7F },

    /* NUL. */
    { "NUL alone", "\0", 1, 0, 0, 1, 0 },
    { "NUL inside text", "ab\0cd", 5, 0, 2, 1, 'a' },

    /* Overlong forms. */
    { "overlong NUL (C0 80)", S("\xC0\x80"), 0, 0, 0, 0xFFFD },
    { "overlong slash (C0 AF)", S("\xC0\xAF"), 0, 0, 0, 0xFFFD },
    { "overlong two-byte (C1 BF)", S("\xC1\xBF"), 0, 0, 0, 0xFFFD },
    { "overlong three-byte (E0 80 80)", S("\xE0\x80\x80"), 0, 0, 0, 0xFFFD },
    { "overlong three-byte (E0 9F BF)", S("\xE0\x9F\xBF"), 0, 0, 0, 0xFFFD },
    { "overlong four-byte (F0 80 80 80)", S("\xF0\x80\x80\x80"), 0, 0, 0, 0xFFFD },
    { "overlong four-byte (F0 8F BF BF)", S("\xF0\x8F\xBF\xBF"), 0, 0, 0, 0xFFFD },
    { "overlong after text", S("ab\xC0\x80"), 0, 2, 1, 'a' },

    /* UTF-16 surrogates. */
    { "high surrogate D800", S("\xED\xA0\x80"), 0, 0, 0, 0xFFFD },
    { "high surrogate DBFF", S("\xED\xAF\xBF"), 0, 0, 0, 0xFFFD },
    { "low surrogate DC00", S("\xED\xB0\x80"), 0, 0, 0, 0xFFFD },
    { "low surrogate DFFF", S("\xED\xBF\xBF"), 0, 0, 0, 0xFFFD },
    { "surrogate pair (CESU-8)", S("\xED\xA0\xBD\xED\xB8\x80"), 0, 0, 0, 0xFFFD },

    /* Beyond U+10FFFF. */
    { "U+110000", S("\xF4\x90\x80\x80"), 0, 0, 0, 0xFFFD },
    { "F5 lead byte", S("\xF5\x80\x80\x80"), 0, 0, 0, 0xFFFD },
    { "F7 BF BF BF", S("\xF7\xBF\xBF\xBF"), 0, 0, 0, 0xFFFD },
    { "five-byte form", S("\xF8\x88\x80\x80\x80"), 0, 0, 0, 0xFFFD },
    { "six-byte form", S("\xFC\x84\x80\x80\x80\x80"), 0, 0, 0, 0xFFFD },
    { "FE", S("\xFE"), 0, 0, 0, 0xFFFD },
    { "FF", S("\xFF"), 0, 0, 0, 0xFFFD },

    /* Truncated and broken sequences. */
    { "two-byte lead alone", S("\xC3"), 0, 0, 0, 0xFFFD },
    { "two-byte lead at end", S("abc\xC3"), 0, 3, 1, 'a' },
    { "three-byte missing one", S("\xE2\x82"), 0, 0, 0, 0xFFFD },
    { "three-byte missing two", S("\xE2"), 0, 0, 0, 0xFFFD },
    { "four-byte missing one", S("\xF0\x9F\x98"), 0, 0, 0, 0xFFFD },
    { "lead followed by ASCII",
      S("\xC3"
        "a"),
      0, 0, 0, 0xFFFD },
    { "three-byte with ASCII inside",
      S("\xE2"
        "a\xAC"),
      0, 0, 0, 0xFFFD },
    { "lone continuation byte", S("\x80"), 0, 0, 0, 0xFFFD },
    { "continuation after text", S("ok\xBF"), 0, 2, 1, 'o' },
    { "two continuation bytes", S("\x80\x80"), 0, 0, 0, 0xFFFD },
    { "Latin-1 e acute", S("caf\xE9"), 0, 3, 1, 'c' },
    { "valid then truncated four-byte", S("\xC3\xA9\xF0\x9F"), 0, 2, 2, 0xE9 },
};

static void utf8_valid_accepts_and_rejects_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct utf8_case *c = &cases[i];
        size_t bad = (size_t)-1;
        int valid = utf8_valid(c->bytes, c->len, &bad);
        if (valid != c->valid || (!valid && bad != c->bad))
            print_error("case \"%s\": valid %d, bad %zu\n", c->name, valid, bad);
        assert_int_equal(valid, c->valid);
        if (!valid)
            assert_int_equal(bad, c->bad);
        else
            assert_int_equal(bad, (size_t)-1); /* untouched when valid */
        /* bad may be NULL. */
        assert_int_equal(utf8_valid(c->bytes, c->len, NULL), c->valid);
    }
}

static void utf8_decode_reads_first_character_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct utf8_case *c = &cases[i];
        uint32_t cp = 12345;
        size_t n = utf8_decode(c->bytes, c->len, &cp);
        if (n != c->dlen || cp != c->cp)
            print_error("case \"%s\": length %zu, code point U+%04X\n", c->name, n, (unsigned)cp);
        assert_int_equal(n, c->dlen);
        assert_int_equal(cp, c->cp);
    }
}

static void utf8_decode_never_reads_past_n(void **state)
{
    (void)state;
    /* The bytes after n would complete the sequence, but they are not available. */
    const char *s = "\xE2\x82\xAC";
    uint32_t cp;
    assert_int_equal(utf8_decode(s, 2, &cp), 0);
    assert_int_equal(cp, 0xFFFD);
    assert_int_equal(utf8_decode(s, 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(utf8_valid(s, 2, NULL), 0);
    assert_int_equal(utf8_valid(s, 0, NULL), 1);
}

static void utf8_decode_walks_a_string(void **state)
{
    (void)state;
    static const char s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
    static const uint32_t want[] = { 'a', 0xE9, 0x20AC, 0x1F600, 'z' };
    size_t i = 0, k = 0;
    while (i < sizeof s - 1) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, sizeof s - 1 - i, &cp);
        assert_true(n > 0);
        assert_true(k < sizeof want / sizeof want[0]);
        assert_int_equal(cp, want[k++]);
        i += n;
    }
    assert_int_equal(k, sizeof want / sizeof want[0]);
}

static void utf8_valid_accepts_every_scalar_value(void **state)
{
    (void)state;
    /* Encode every Unicode scalar value and check that it decodes back to itself. */
    for (uint32_t c = 1; c <= 0x10FFFF; c++) {
        if (c >= 0xD800 && c <= 0xDFFF)
            continue;
        char s[4];
        size_t n;
        if (c < 0x80) {
            s[0] = (char)c, n = 1;
        } else if (c < 0x800) {
            s[0] = (char)(0xC0 | c >> 6), s[1] = (char)(0x80 | (c & 0x3F)), n = 2;
        } else if (c < 0x10000) {
            s[0] = (char)(0xE0 | c >> 12), s[1] = (char)(0x80 | (c >> 6 & 0x3F));
            s[2] = (char)(0x80 | (c & 0x3F)), n = 3;
        } else {
            s[0] = (char)(0xF0 | c >> 18), s[1] = (char)(0x80 | (c >> 12 & 0x3F));
            s[2] = (char)(0x80 | (c >> 6 & 0x3F)), s[3] = (char)(0x80 | (c & 0x3F)), n = 4;
        }
        uint32_t cp;
        if (utf8_decode(s, n, &cp) != n || cp != c || !utf8_valid(s, n, NULL)) {
            print_error("U+%04X not decoded\n", (unsigned)c);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_valid_accepts_and_rejects_table),
        cmocka_unit_test(utf8_decode_reads_first_character_table),
        cmocka_unit_test(utf8_decode_never_reads_past_n),
        cmocka_unit_test(utf8_decode_walks_a_string),
        cmocka_unit_test(utf8_valid_accepts_every_scalar_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
