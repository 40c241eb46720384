/* memo.h - a bounded memo: 64-bit keys (hashes) to a 64-bit value and a byte, for results that
 * cost more to compute than to look up, and never change (a word's porter stem: see match.c).
 *
 * Open addressing with linear probing, grown by doubling while it is at most half full; once it
 * holds its maximum it starts over empty, so memory stays bounded however many keys pass.
 * Key 0 is never stored. Pure data structure: no I/O. */
#ifndef PLANBOT_MEMO_H
#define PLANBOT_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct memo;

/* An empty memo that holds at most max keys (at least 16). Returns 0 and *out, or ERR_NOMEM.
 * Free with memo_free(). */
int memo_new(struct memo **out, size_t max);
void memo_free(struct memo *mm);

/* The value and byte stored for key: 1 and *value, *tag (either may be NULL), or 0 when there
 * is none. */
int memo_get(const struct memo *mm, uint64_t key, uint64_t *value, unsigned char *tag);

/* Stores value and tag for key (replacing what it had). Returns 0, ERR_INVAL for key 0, or
 * ERR_NOMEM (the memo is then as it was). */
int memo_put(struct memo *mm, uint64_t key, uint64_t value, unsigned char tag);

/* How many keys it holds. */
size_t memo_count(const struct memo *mm);

#endif
