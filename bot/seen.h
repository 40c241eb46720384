/* seen.h - the keys of the events an adapter has taken, so that a redelivery is answered once:
 * the last N keys, oldest forgotten first, each found in constant time (a hash table over a
 * ring). Keys are 64-bit hashes (seen_key()); a collision costs at worst one redelivery taken
 * for an event already answered, at odds of about N / 2^64. */
#ifndef PLANBOT_SEEN_H
#define PLANBOT_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct seen;

/* A set remembering the last n keys (at least 1). NULL when out of memory. */
struct seen *seen_new(size_t n);

/* Frees the set. Accepts NULL. */
void seen_free(struct seen *s);

/* The key of the pair of strings (a, b): FNV-1a over both, with a separator; never 0. */
uint64_t seen_key(const char *a, const char *b);

/* Whether key is among the last n added. */
int seen_has(const struct seen *s, uint64_t key);

/* Adds key, forgetting the oldest when n are kept; a key already there keeps its place. */
void seen_add(struct seen *s, uint64_t key);

#endif
