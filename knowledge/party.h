/* party.h - whose a thing is: the parties of the conflict (countries, blocs, bodies), each named by
 * several words ("Russia", "Russian", "Moscow", "the Kremlin"), and which party owns a word of a
 * text: "Russia's army", "the Ukrainian armed forces", "Poland's foreign minister", "the army of
 * Russia". So that "how big is Russia's army" is not answered with Ukraine's army cap.
 *
 * Texts are arrays of word hashes (the matcher's porter stems); a party's words are added as such
 * arrays too. Parsing apart from storage: the set never reads the database. */
#ifndef PLANBOT_PARTY_H
#define PLANBOT_PARTY_H

#include <stdint.h>

struct party_set;

enum { PARTY_AUX_MAX = 16 };

/* The hashes of the words that join an owner to what it owns: the possessive "s" of "Russia's",
 * the article ("the Ukrainian forces"), "of" ("the army of Russia"), and the auxiliary verbs
 * before a subject that has the thing ("how many troops does Russia have"). */
struct party_glue {
    uint64_t possessive, article, of;
    uint64_t aux[PARTY_AUX_MAX];
    int naux;
};

/* An empty set. Returns 0 and *out, or ERR_NOMEM. Free with party_set_free(). */
int party_set_new(struct party_set **out, const struct party_glue *glue);

/* Frees the set. Accepts NULL. */
void party_set_free(struct party_set *ps);

/* Adds a word (n hashes: a name may be several words, "white house") naming party number party
 * (0 or more; the caller's numbering). Returns 0, ERR_INVAL for no word or too many, or
 * ERR_NOMEM. */
int party_set_add(struct party_set *ps, int party, const uint64_t *words, int n);

/* How many words the set holds. */
int party_set_words(const struct party_set *ps);

/* The party a word of h starting at position at names, -1 when none; *len (may be NULL) gets its
 * length in words. The longest word wins ("white house" over "white"). */
int party_at(const struct party_set *ps, const uint64_t *h, int n, int at, int *len);

/* The party that owns the words h[first..last]: one named right before them ("the Ukrainian armed
 * forces", "Russia's army"; "Poland's foreign minister", "Russia's next presidential election"
 * past one or two words after a possessive), right
 * after them past "of" ("the army of Russia"), or the subject of a question about having them,
 * after an auxiliary verb and before another verb ("how many troops does Russia have", "what
 * army can Ukraine keep"). -1 when none does, when two parties come before them ("the US-Russia
 * working group"), or when the words name a party themselves. */
int party_owner(const struct party_set *ps, const uint64_t *h, int n, int first, int last);

#endif
