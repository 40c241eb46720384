/* test_json_arena.c - cJSON trees read inside a pair come from the arena's block and read the same
 * as with malloc; what does not fit spills to malloc and is freed by cJSON_Delete; a tree kept
 * past its pair is reported; pairs do not nest, and another thread goes on using malloc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_arena.h"

static const char envelope[] =
    "{\"envelope_id\":\"e-1\",\"type\":\"events_api\",\"accepts_response_payload\":false,"
    "\"payload\":{\"event_id\":\"Ev1\",\"event\":{\"type\":\"app_mention\",\"user\":\"U1\","
    "\"text\":\"<@UBOT> How big can Ukraine\\u2019s army be?\",\"channel\":\"C1\",\"ts\":\"1.2\","
    "\"blocks\":[{\"type\":\"rich_text\",\"elements\":[1,2.5,true,null,\"x\",[],{}]}]}}}";

/* The text cJSON prints for json, parsed and printed with malloc: the reference. */
static char *printed_with_malloc(const char *json)
{
    cJSON *v = cJSON_Parse(json);
    assert_non_null(v);
    char *s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    assert_non_null(s);
    return s;
}

/* One row: an arena of size bytes reads json; whether some of it must spill to malloc. */
struct row {
    const char *name;
    size_t size;
    const char *json;
    int spills;
};

static const struct row rows[] = {
    { "a frame that fits", 64 * 1024, envelope, 0 },
    { "a frame larger than the block", 256, envelope, 1 },
    { "a block too small for anything", 1, envelope, 1 },
    { "a scalar", 1024, "\"just a string\"", 0 },
    { "a block that holds only the node", 64, "\"just a string\"", 1 },
    { "deep arrays", 4096, "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]", 0 },
};

static void arena_reads_as_malloc_does(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        char *want = printed_with_malloc(r->json);
        struct json_arena *a = json_arena_new(r->size);
        assert_non_null(a);
        for (int round = 0; round < 3; round++) { /* the block is reused */
            int token = json_arena_begin(a);
            assert_int_equal(token, 1);
            cJSON *v = cJSON_Parse(r->json);
            assert_non_null(v);
            char *got = cJSON_PrintUnformatted(v);
            assert_non_null(got);
            if (strcmp(got, want) != 0)
                fail_msg("%s: printed %s, not %s", r->name, got, want);
            cJSON_free(got);
            cJSON_Delete(v);
            assert_true(json_arena_used(a) > 0 || r->size < 16);
            if ((json_arena_spilled(a) > 0) != r->spills)
                fail_msg("%s: %zu allocations spilled, %zu bytes used", r->name,
                         json_arena_spilled(a), json_arena_used(a));
            if (json_arena_end(a, token) != 0)
                fail_msg("%s: the pair reports a tree kept past it", r->name);
        }
        json_arena_free(a);
        free(want);
    }
}

static void arena_reports_a_tree_kept_past_its_pair(void **state)
{
    (void)state;
    struct json_arena *a = json_arena_new(4096);
    assert_non_null(a);
    int token = json_arena_begin(a);
    cJSON *v = cJSON_Parse("{\"a\":[1,2,3]}");
    assert_non_null(v);
    /* not deleted: the block is reclaimed with the arena, and the pair says so */
    assert_true(json_arena_end(a, token) > 0);
    json_arena_free(a);
}

static void arena_pairs_do_not_nest(void **state)
{
    (void)state;
    struct json_arena *a = json_arena_new(4096), *b = json_arena_new(4096);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(json_arena_begin(NULL), 0);
    int outer = json_arena_begin(a);
    assert_int_equal(outer, 1);
    int inner = json_arena_begin(b); /* refused: a goes on */
    assert_int_equal(inner, 0);
    cJSON *v = cJSON_Parse("[1]");
    assert_non_null(v);
    assert_true(json_arena_used(a) > 0);
    assert_int_equal(json_arena_used(b), 0);
    assert_int_equal(json_arena_end(b, inner), 0);
    cJSON_Delete(v);
    assert_int_equal(json_arena_end(a, outer), 0);
    assert_int_equal(json_arena_end(a, outer), 0); /* already ended: nothing */
    json_arena_free(a);
    json_arena_free(b);
}

static void *parse_elsewhere(void *arg)
{
    (void)arg;
    cJSON *v = cJSON_Parse(envelope);
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    cJSON_Delete(v);
    return s;
}

static void arena_leaves_other_threads_on_malloc(void **state)
{
    (void)state;
    struct json_arena *a = json_arena_new(64 * 1024);
    assert_non_null(a);
    int token = json_arena_begin(a);
    cJSON *mine = cJSON_Parse("{\"mine\":true}");
    size_t used = json_arena_used(a);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, parse_elsewhere, NULL), 0);
    void *theirs = NULL;
    assert_int_equal(pthread_join(t, &theirs), 0);
    assert_non_null(theirs);
    assert_int_equal(json_arena_used(a), used); /* the other thread took nothing from a */
    cJSON_free(theirs);                         /* malloc'd there, freed here, outside a */
    cJSON_Delete(mine);
    assert_int_equal(json_arena_end(a, token), 0);
    json_arena_free(a);
}

static void arena_frees_outside_a_pair_with_free(void **state)
{
    (void)state;
    cJSON *before = cJSON_Parse("{\"made\":\"before the pair\"}");
    assert_non_null(before);
    struct json_arena *a = json_arena_new(4096);
    int token = json_arena_begin(a);
    cJSON_Delete(before); /* malloc'd: goes back to free() even inside a pair */
    assert_int_equal(json_arena_end(a, token), 0);
    cJSON *after = cJSON_Parse("{\"made\":\"after\"}");
    assert_non_null(after);
    cJSON_Delete(after);
    json_arena_free(a);
    json_arena_free(NULL);
}

int main(void)
{
    json_arena_install();
    json_arena_install(); /* idempotent */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_reads_as_malloc_does),
        cmocka_unit_test(arena_reports_a_tree_kept_past_its_pair),
        cmocka_unit_test(arena_pairs_do_not_nest),
        cmocka_unit_test(arena_leaves_other_threads_on_malloc),
        cmocka_unit_test(arena_frees_outside_a_pair_with_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
