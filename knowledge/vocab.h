/* vocab.h - the knowledge base's own vocabulary, for typo tolerance and term weights.
 *
 * Two tables: surface words (lowercase, without diacritics, as people type them) and porter
 * stems, each with the number of entries containing it. Typo correction proposes the surface
 * word within one edit (two for long words) of an unknown word, found through a symmetric-delete
 * index: every word and its one-character deletions (two-character ones too for words of 6 bytes
 * or more) are hashed, so a lookup costs a few binary searches however large the vocabulary. Pure
 * data structure: the matcher fills it from SQLite. */
#ifndef PLANBOT_VOCAB_H
#define PLANBOT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

struct vocab;

/* An empty vocabulary; NULL when out of memory. Free with vocab_free(). */
struct vocab *vocab_new(void);
void vocab_free(struct vocab *v);

/* Adds a surface word or a stem with its document frequency; words may repeat (the counts add).
 * Call vocab_finish() once after the last add. Returns 0 or ERR_NOMEM. */
int vocab_add_word(struct vocab *v, const char *word, uint32_t df);
int vocab_add_stem(struct vocab *v, const char *stem, uint32_t df);
int vocab_finish(struct vocab *v);

/* Document frequency of a surface word / a stem; 0 when unknown. */
uint32_t vocab_word_df(const struct vocab *v, const char *word);
uint32_t vocab_stem_df(const struct vocab *v, const char *stem);

/* The known word closest to an unknown one: within one edit (insert, delete, substitute or swap
 * two neighbours), or two for words of 8 bytes or more; the most frequent among the closest.
 * Returns the edit distance (1 or 2) and the word in out (borrowed, valid until vocab_free), or 0
 * when there is no such word or the input is shorter than 4 bytes. The first call builds the
 * index, so a vocabulary that never corrects a typo never pays for it. */
int vocab_correct(struct vocab *v, const char *word, const char **out);

/* The most frequent known word that shares a long prefix with word (a morphological neighbour
 * the stemmer does not join: "compared" and "comparison"): at least 6 bytes in common, or 5 when
 * either word has at most 6, after which each has only an ending of a word's forms ("ed",
 * "ison", "ation"...): "referendum" is no form of "reference". Returns 1 and the word in out
 * (borrowed), or 0. */
int vocab_neighbour(const struct vocab *v, const char *word, const char **out);

/* Number of distinct surface words. */
size_t vocab_size(const struct vocab *v);

/* Optimal string alignment distance between a and b, or max + 1 when it exceeds max. */
int vocab_distance(const char *a, size_t alen, const char *b, size_t blen, int max);

#endif
