/* json_arena.c - cJSON trees that live only while one frame is read (see json_arena.h).
 *
 * cJSON's hooks take no context, so the arena a thread is using is found through one
 * thread-local pointer, the only state here that is not on the arena itself. A block allocation
 * is a bump of an offset, rounded up to max_align_t; freeing one only counts it, so that
 * json_arena_end() can tell a tree that outlived its pair; the block is reused whole when the
 * pair ends. A pointer outside the current block was allocated by malloc (before the pair, after
 * it, or as a spill) and goes back to free(). */
#include "json_arena.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

struct json_arena {
    unsigned char *block; /* owned; size bytes */
    size_t size, used;    /* the block's size; bytes handed out in this pair */
    size_t live;          /* block allocations of this pair not freed yet */
    size_t spilled;       /* allocations of this pair that went to malloc */
};

static _Thread_local struct json_arena *current; /* the calling thread's pair's arena, or NULL */

static void *arena_malloc(size_t n)
{
    struct json_arena *a = current;
    if (a && n > 0) {
        size_t align = alignof(max_align_t);
        size_t at = (a->used + align - 1) & ~(align - 1);
        if (at <= a->size && n <= a->size - at) {
            a->used = at + n;
            a->live++;
            return a->block + at;
        }
        a->spilled++;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    struct json_arena *a = current;
    if (a && p && (uintptr_t)p >= (uintptr_t)a->block &&
        (uintptr_t)p < (uintptr_t)a->block + a->size) {
        a->live--;
        return;
    }
    free(p);
}

void json_arena_install(void)
{
    cJSON_Hooks hooks = { .malloc_fn = arena_malloc, .free_fn = arena_free };
    cJSON_InitHooks(&hooks);
}

struct json_arena *json_arena_new(size_t size)
{
    struct json_arena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->block = malloc(size ? size : 1);
    if (!a->block) {
        free(a);
        return NULL;
    }
    a->size = size;
    return a;
}

void json_arena_free(struct json_arena *a)
{
    if (!a)
        return;
    free(a->block);
    free(a);
}

int json_arena_begin(struct json_arena *a)
{
    if (!a || current)
        return 0;
    a->used = a->live = a->spilled = 0;
    current = a;
    return 1;
}

size_t json_arena_end(struct json_arena *a, int token)
{
    if (!token || !a || current != a)
        return 0;
    current = NULL;
    return a->live;
}

size_t json_arena_used(const struct json_arena *a)
{
    return a ? a->used : 0;
}

size_t json_arena_spilled(const struct json_arena *a)
{
    return a ? a->spilled : 0;
}
