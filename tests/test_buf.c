/* test_buf.c - the capped growable buffer: appending, formatting, the cap, take, reset, free. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

/* Checks that b holds exactly the bytes of want, NUL-terminated. */
static void assert_buf(const struct buf *b, const char *want)
{
    assert_int_equal(b->len, strlen(want));
    assert_string_equal(buf_str(b), want);
    if (b->data)
        assert_int_equal(b->data[b->len], '\0');
}

static void buf_starts_empty_without_allocating(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.max, 100);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void buf_append_puts_putc_concatenate(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1000);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(buf_puts(&b, "def"), 0);
    assert_int_equal(buf_putc(&b, 'g'), 0);
    assert_int_equal(buf_append(&b, "xyz", 0), 0);
    assert_int_equal(buf_puts(&b, ""), 0);
    assert_buf(&b, "abcdefg");
    buf_free(&b);
}

static void buf_append_keeps_embedded_nul_bytes(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b", 4);
    buf_free(&b);
}

static void buf_grows_past_its_first_allocation(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100000);
    for (int i = 0; i < 10000; i++)
        assert_int_equal(buf_puts(&b, "0123456789"), 0);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap > b.len);
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], '0' + (int)(i % 10));
    assert_int_equal(b.data[b.len], '\0');
    /* Exactly full: one more byte is too many. */
    assert_int_equal(buf_putc(&b, 'x'), ERR_TOOBIG);
    assert_int_equal(b.len, 100000);
    buf_free(&b);
}

static void buf_printf_formats_and_appends(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 1000);
    assert_int_equal(buf_puts(&b, "n="), 0);
    assert_int_equal(buf_printf(&b, "%d, s=%s, x=%04x", -42, "hi", 0xbeef), 0);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(buf_printf(&b, "; %.3s|%5s|%-3d|", "abcdef", "r", 7), 0);
    assert_buf(&b, "n=-42, s=hi, x=beef; abc|    r|7  |");
    buf_free(&b);
}

static void buf_printf_output_longer_than_first_allocation(void **state)
{
    (void)state;
    struct buf b;
    char big[500];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_init(&b, 1000);
    assert_int_equal(buf_puts(&b, "<"), 0);
    assert_int_equal(buf_printf(&b, "%s>", big), 0);
    assert_int_equal(b.len, 501);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[499], 'q');
    assert_int_equal(b.data[500], '>');
    assert_int_equal(b.data[501], '\0');
    buf_free(&b);
}

/* One append against the cap: the buffer holds `before`, `add` is appended with buf_puts() or
 * buf_printf(); the result is rc and the contents `after`. */
struct cap_case {
    const char *name;
    size_t max;
    const char *before;
    const char *add;
    int use_printf;
    int rc;
    const char *after;
};

static const struct cap_case cap_cases[] = {
    { "fits exactly", 6, "abc", "def", 0, 0, "abcdef" },
    { "fits exactly (printf)", 6, "abc", "def", 1, 0, "abcdef" },
    { "one byte over", 6, "abc", "defg", 0, ERR_TOOBIG, "abc" },
    { "one byte over (printf)", 6, "abc", "defg", 1, ERR_TOOBIG, "abc" },
    { "far over", 6, "abc", "0123456789012345678901234567890123456789", 0, ERR_TOOBIG, "abc" },
    { "far over (printf)", 6, "abc", "0123456789012345678901234567890123456789", 1, ERR_TOOBIG,
      "abc" },
    { "over on an empty buffer", 3, "", "abcd", 0, ERR_TOOBIG, "" },
    { "over on an empty buffer (printf)", 3, "", "abcd", 1, ERR_TOOBIG, "" },
    { "nothing added to a full buffer", 3, "abc", "", 0, 0, "abc" },
    { "nothing added to a full buffer (printf)", 3, "abc", "", 1, 0, "abc" },
    { "cap zero refuses a byte", 0, "", "a", 0, ERR_TOOBIG, "" },
    { "cap zero accepts nothing", 0, "", "", 1, 0, "" },
    { "full buffer refuses a byte", 3, "abc", "d", 0, ERR_TOOBIG, "abc" },
    { "full buffer refuses a byte (printf)", 3, "abc", "d", 1, ERR_TOOBIG, "abc" },
    { "large cap", 1 << 20, "abc", "def", 0, 0, "abcdef" },
};

static void buf_cap_is_enforced_and_leaves_buffer_unchanged(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cap_cases / sizeof cap_cases[0]; i++) {
        const struct cap_case *c = &cap_cases[i];
        struct buf b;
        buf_init(&b, c->max);
        assert_int_equal(buf_puts(&b, c->before), 0);
        char *data_before = b.data;
        size_t cap_before = b.cap;
        int rc = c->use_printf ? buf_printf(&b, "%s", c->add) : buf_puts(&b, c->add);
        if (rc != c->rc || strcmp(buf_str(&b), c->after) != 0)
            print_error("case \"%s\": rc %d, contents \"%s\"\n", c->name, rc, buf_str(&b));
        assert_int_equal(rc, c->rc);
        assert_buf(&b, c->after);
        if (rc) {
            /* A refused append neither reallocates nor touches the contents. */
            assert_ptr_equal(b.data, data_before);
            assert_int_equal(b.cap, cap_before);
            /* The buffer is still usable. */
            buf_reset(&b);
            assert_int_equal(buf_puts(&b, ""), 0);
            assert_buf(&b, "");
        }
        buf_free(&b);
    }
}

static void buf_take_hands_over_contents_and_empties(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "hello"), 0);
    char *s = buf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 100);
    assert_string_equal(buf_str(&b), "");
    /* Reusable afterwards, and independent of the taken string. */
    assert_int_equal(buf_puts(&b, "again"), 0);
    assert_buf(&b, "again");
    assert_string_equal(s, "hello");
    free(s);
    buf_free(&b);
}

static void buf_take_of_empty_buffer_gives_empty_string(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    char *s = buf_take(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    buf_free(&b);
}

static void buf_reset_empties_but_keeps_memory(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_puts(&b, "some text"), 0);
    char *data = b.data;
    size_t cap = b.cap;
    buf_reset(&b);
    assert_buf(&b, "");
    assert_ptr_equal(b.data, data);
    assert_int_equal(b.cap, cap);
    assert_int_equal(buf_puts(&b, "new"), 0);
    assert_buf(&b, "new");
    buf_free(&b);
}

static void buf_reset_of_unused_buffer_is_harmless(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    buf_reset(&b);
    assert_null(b.data);
    assert_buf(&b, "");
}

static void buf_reset_restores_room_up_to_the_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 4);
    assert_int_equal(buf_puts(&b, "abcd"), 0);
    assert_int_equal(buf_putc(&b, 'e'), ERR_TOOBIG);
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "wxyz"), 0);
    assert_buf(&b, "wxyz");
    buf_free(&b);
}

static void buf_free_accepts_null(void **state)
{
    (void)state;
    buf_free(NULL);
}

static void buf_free_leaves_buffer_reusable_with_same_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 5);
    assert_int_equal(buf_puts(&b, "abc"), 0);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    assert_int_equal(b.max, 5);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b); /* twice is fine */
    assert_int_equal(buf_puts(&b, "abcde"), 0);
    assert_int_equal(buf_putc(&b, 'f'), ERR_TOOBIG);
    assert_buf(&b, "abcde");
    buf_free(&b);
}

/* Every error code has a name of its own, and only a usage error exits 2. */
static void err_names_every_code(void **state)
{
    (void)state;
    for (int e = ERR_PROTO; e <= ERR_OK; e++) {
        const char *name = err_str(e);
        assert_non_null(name);
        if (strcmp(name, "unknown error") == 0)
            fail_msg("error %d has no name", e);
        for (int k = ERR_PROTO; k < e; k++)
            assert_string_not_equal(err_str(k), name);
        assert_int_equal(err_exit_status(e), e == ERR_OK ? 0 : e == ERR_USAGE ? 2 : 1);
    }
    assert_string_equal(err_str(ERR_PROTO - 1), "unknown error");
    assert_string_equal(err_str(ERR_RATELIMIT), "rate limited");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err_names_every_code),
        cmocka_unit_test(buf_starts_empty_without_allocating),
        cmocka_unit_test(buf_append_puts_putc_concatenate),
        cmocka_unit_test(buf_append_keeps_embedded_nul_bytes),
        cmocka_unit_test(buf_grows_past_its_first_allocation),
        cmocka_unit_test(buf_printf_formats_and_appends),
        cmocka_unit_test(buf_printf_output_longer_than_first_allocation),
        cmocka_unit_test(buf_cap_is_enforced_and_leaves_buffer_unchanged),
        cmocka_unit_test(buf_take_hands_over_contents_and_empties),
        cmocka_unit_test(buf_take_of_empty_buffer_gives_empty_string),
        cmocka_unit_test(buf_reset_empties_but_keeps_memory),
        cmocka_unit_test(buf_reset_of_unused_buffer_is_harmless),
        cmocka_unit_test(buf_reset_restores_room_up_to_the_cap),
        cmocka_unit_test(buf_free_accepts_null),
        cmocka_unit_test(buf_free_leaves_buffer_reusable_with_same_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
