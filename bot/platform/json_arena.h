/* json_arena.h - cJSON trees that live only while one frame is read.
 *
 * A codec parses a frame, copies out what it needs and deletes the tree, thousands of times a
 * second; with malloc that is one allocation per node and per string, and as many frees. Inside
 * a json_arena_begin()/json_arena_end() pair, the calling thread's cJSON allocations come instead
 * from the arena's block, which the next pair reuses: a parse costs no malloc and its
 * cJSON_Delete no free. What does not fit in the block goes to malloc, as does every cJSON
 * allocation outside a pair and every one made by another thread meanwhile.
 *
 * The rules: json_arena_install() runs once in main, before any thread starts (cJSON's hooks are
 * process-wide); every tree allocated inside a pair is deleted with cJSON_Delete before the pair
 * ends (the delete frees what overflowed to malloc, and nothing else); nothing cJSON allocated
 * inside a pair (a tree, a string, a printed text) is used after it. Without
 * json_arena_install(), pairs still work and cJSON simply goes on using malloc. */
#ifndef PLANBOT_JSON_ARENA_H
#define PLANBOT_JSON_ARENA_H

#include <stddef.h>

struct json_arena;

/* Points cJSON's allocator at this module. Idempotent; call it before any thread starts. */
void json_arena_install(void);

/* An arena whose block holds size bytes. Returns it (caller frees with json_arena_free()), or
 * NULL when out of memory. */
struct json_arena *json_arena_new(size_t size);

/* Frees the arena. Accepts NULL. Must not be called inside one of its pairs. */
void json_arena_free(struct json_arena *a);

/* Starts a pair on the calling thread. Returns 1 when this thread now allocates from a, or 0 when
 * the thread is already inside a pair (which then goes on) or a is NULL. Pass the result to
 * json_arena_end(). */
int json_arena_begin(struct json_arena *a);

/* Ends the pair json_arena_begin() returned token for, and makes the block reusable. Returns how
 * many of the pair's allocations from the block were never freed: 0 unless a tree outlived its
 * pair, which is a bug in the caller. A token of 0 does nothing and returns 0. */
size_t json_arena_end(struct json_arena *a, int token);

/* What the last pair on a took: bytes from the block, and allocations that went to malloc
 * because the block was full. For tests and benchmarks. */
size_t json_arena_used(const struct json_arena *a);
size_t json_arena_spilled(const struct json_arena *a);

#endif
