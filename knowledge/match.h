/* match.h - finding the entry that answers a question, or declining.
 *
 * A question is cleaned (norm.h), split into words with the same FTS5 tokenizers as the index,
 * stripped of stop words, corrected against the knowledge base's vocabulary (vocab.h) and
 * expanded with the synonyms table. Each remaining word becomes a group of phrases weighted by
 * how rare it is in the knowledge base. FTS5 retrieves candidate entries; each candidate is then
 * scored by which groups it contains and in which field (title and keywords count more than body
 * text). The best candidate answers only when it covers enough of the question's weight: a wrong
 * answer is worse than none. */
#ifndef PLANBOT_MATCH_H
#define PLANBOT_MATCH_H

#include <stddef.h>

#include "buf.h"
#include "kb.h"

struct match;

enum {
    MATCH_MAX_QUESTION = 4096, /* bytes; longer questions are refused with ERR_TOOBIG */
    MATCH_MAX_ANSWERS = 10,
    MATCH_MAX_SUGGESTIONS = 3,
    MATCH_MAX_ID = 64,
    MATCH_MAX_PARTY = 200 /* bytes of a party's name */
};

struct match_hit {
    char id[MATCH_MAX_ID + 1]; /* entry id, or source id when source is set */
    int source;                /* the answer is a source's record: who wrote it, when, where */
    double score;              /* relevance, higher is better; comparable within one question */
    double coverage;           /* share of the question's weight the entry holds, 0 to 1 */
};

/* What a question asks for that an entry must state to answer it. */
enum match_asks {
    MATCH_ASKS_TOPIC, /* anything about its topic */
    MATCH_ASKS_WHEN,  /* a time: "when", "what year", "how long", "how soon" */
    MATCH_ASKS_COUNT, /* a number: "how many", "how much" */
    MATCH_ASKS_SAID,  /* what someone named said, and no quote is theirs: "what did Trump say" */
    MATCH_ASKS_NOW,   /* how things stand now: "right now", "currently", "is it still" */
    MATCH_ASKS_PARTY, /* about one party's thing ("Russia's army"), and the entry that holds the
                         topic is about another's (Ukraine's army cap) */
    MATCH_ASKS_PAST   /* a person's past: "what did X do before he became Y", "when did X become
                         Y" (a time then, too) */
};

struct match_result {
    int n; /* answers, best first; 0 when declining */
    struct match_hit answers[MATCH_MAX_ANSWERS];
    int nsuggest; /* closest topics when declining */
    struct match_hit suggestions[MATCH_MAX_SUGGESTIONS];
    enum match_asks asks;
    /* Declining because the entry that holds the topic does not state what the question asks
     * for (it says when nothing happened, gives no number, or is no quote of the one named):
     * that entry, which a reply may offer as what the knowledge base knows instead. */
    int has_instead;
    struct match_hit instead;
    char party[MATCH_MAX_PARTY + 1]; /* MATCH_ASKS_PARTY: the party asked about ("Russia") */
};

/* A matcher over kb (borrowed: it must outlive the matcher). Returns 0 and *out, or an error with
 * the detail in kb_errmsg(kb). Free with match_close(). */
int match_open(struct match **out, struct kb *kb);

/* Frees the matcher. Accepts NULL. */
void match_close(struct match *m);

/* Answers question q of len bytes with at most limit answers (the best plus related entries).
 * When explain is not NULL, appends a human-readable account of the reasoning to it.
 * Returns 0 (res->n == 0 means "declined"), ERR_TOOBIG for a question over MATCH_MAX_QUESTION,
 * ERR_INVAL for one containing a NUL byte, or a database error; messages in match_errmsg(). */
int match_ask(struct match *m, const char *q, size_t len, int limit, struct match_result *res,
              struct buf *explain);

/* As match_ask, for a follow-up in a conversation ("and Kherson?"): the question before it
 * (before, blen bytes; NULL: none) gives the topic. Its words weigh half as much, and only an
 * entry that holds a topical word of q itself may answer. */
int match_ask_after(struct match *m, const char *q, size_t len, const char *before, size_t blen,
                    int limit, struct match_result *res, struct buf *explain);

/* Knowledge bases of at most entries entries (4,096 unless set) are held in memory whole, and
 * retrieval computes in C what FTS5 would return; larger ones are searched through FTS5. Both
 * give the same answers; 0 makes every knowledge base go through FTS5 (the tests compare the
 * two). Takes effect at the next question. */
void match_set_resident_max(struct match *m, int entries);

/* The detail of the last failure: "" when none. Borrowed. */
const char *match_errmsg(const struct match *m);

#endif
