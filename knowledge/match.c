/* match.c - the question matcher: words to weighted groups, FTS5 retrieval, scoring, decision.
 *
 * Weights are inverse document frequencies over the knowledge base, so they adapt to whatever
 * the moderators store: a word found in one entry weighs much more than one found in half.
 * Retrieval asks FTS5 only for the rarest groups that could still make an answer (a candidate
 * missing all of them cannot cover enough of the question), which keeps it fast on a large
 * knowledge base. Candidates are scored from a cache of their fields as porter stems.
 *
 * A knowledge base of up to MATCH_RESIDENT_MAX entries (the bundled one has 70) is held in memory
 * whole, its fields as stems with postings of every stem: retrieval then computes, in C, exactly
 * what the FTS5 query and planbot_rank() would (the same rows, the same scores, ties in rowid
 * order), without preparing, parsing or running any SQL, which was most of a question's cost.
 * test_match.c checks that both ways answer every question of its table alike. */
#include "match.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "english.h"
#include "err.h"
#include "kb_int.h"
#include "memo.h"
#include "norm.h"
#include "party.h"
#include "vocab.h"

enum {
    MAX_TOKENS = 256,                       /* words of one question considered */
    MAX_TOKEN = 64,                         /* bytes of one word; longer words are ignored */
    MAX_GROUPS = 24,                        /* question words that count */
    MAX_PHRASES = 8,                        /* phrases per group: the word and its synonyms */
    MAX_PHRASE_WORDS = KB_MAX_PHRASE_WORDS, /* words per phrase */
    NFIELDS = 6,                            /* title, text, speaker, role, keywords, examples */
    SIG_WORDS = 4,             /* 64-bit words of a field's signature: 256 bits, a power of 2 */
    TF_MIN = 24,               /* fields of this many stems or more get counts to look up */
    CACHE_SLOTS = 2048,        /* cached entries (direct-mapped by rowid) */
    CANDIDATES = 32,           /* entries scored per question */
    STEMS_MEMO_MAX = 1 << 16,  /* surface words whose stems are remembered (~3 MiB at most) */
    FULL_OR_POSTINGS = 500,    /* below this many postings, retrieve with every group */
    MATCH_RESIDENT_MAX = 4096, /* knowledge bases up to this many entries are held in memory */
    MATCH_MAX_EXAMPLES = KB_MAX_LIST, /* example questions of an entry read */
    MAX_OWNED = 4,                    /* words of one question a party owns ("Russia's army") */
    FACTS_MAX = 32 /* numbers and times of an entry's title and text located (fact_near) */
};

/* What a token of an entry states, for a question that asks how many or when: a time may be a
 * point ("Thursday", "in August", "2022", "yesterday") that says when something happened, or
 * only a span ("within 100 days", "for a month") that says how long or by when. */
enum fact {
    FACT_NUMBER = 1,
    FACT_TIME = 2,
    FACT_POINT = 4,
    FACT_SPAN = 8,
    FACT_NOW = 16,
    FACT_DAY = 32,      /* a day: a weekday, "yesterday", a day of a month ("20 November") */
    FACT_MONTHDAY = 64, /* a number that may be a day of a month (1 to 31), until it is one */
    FACT_MONTH = 128    /* a month's name */
};

struct phrase;

/* What the ranking function needs to know of each phrase of the FTS5 query, in query order. */
struct rank_phrase {
    int group;              /* the question word it stands for */
    double weight;          /* what a hit through it is worth */
    const struct phrase *p; /* the phrase (resident retrieval; unused by planbot_rank) */
};

enum field { F_TITLE, F_TEXT, F_SPEAKER, F_ROLE, F_KEYWORDS, F_EXAMPLES };
#define FIELD_BIT(fi) (1u << (fi))
static const char *const field_names[NFIELDS] = { "title", "text",     "speaker",
                                                  "role",  "keywords", "examples" };

/* The tuning, chosen on our own question sets (see README, "Answer quality"), never on the
 * shared evaluation file. Macros so that a tuning build can override them with -D. */
#ifndef MATCH_FIELD_WEIGHTS /* title, text, speaker, role, keywords, examples */
#define MATCH_FIELD_WEIGHTS 1.0, 0.7, 1.0, 0.9, 0.9, 0.9
#endif
#ifndef MATCH_BM25_FIELD_WEIGHTS /* BM25F weights of title, text, speaker, role, keywords,         \
                                    examples */
#define MATCH_BM25_FIELD_WEIGHTS 3.0, 1.0, 2.5, 2.0, 2.5, 2.0
#endif
#ifndef MATCH_BM25_K1
#define MATCH_BM25_K1 1.2
#endif
#ifndef MATCH_BM25_B
#define MATCH_BM25_B 0.75
#endif
#ifndef MATCH_TEXT_COVERAGE /* a word found only in the body text covers this much of itself */
#define MATCH_TEXT_COVERAGE 0.8
#endif
#ifndef MATCH_WEAK /* weight of a common word (big, soon, happen) */
#define MATCH_WEAK 0.3
#endif
#ifndef MATCH_CORRECTED /* weight of a typo-corrected word */
#define MATCH_CORRECTED 0.7
#endif
#ifndef MATCH_SYNONYM /* a hit through a synonym instead of the word itself */
#define MATCH_SYNONYM 0.85
#endif
#ifndef MATCH_UNKNOWN_DF /* a word the knowledge base lacks weighs as if in this many entries */
#define MATCH_UNKNOWN_DF 0.0
#endif
#ifndef MATCH_UNKNOWN_NAME /* a capitalised name the knowledge base lacks weighs this much more */
#define MATCH_UNKNOWN_NAME 1.5
#endif
#ifndef MATCH_NEAR_COVERAGE /* under the bar, the best may still answer with this much coverage */
#define MATCH_NEAR_COVERAGE 0.50
#endif
#ifndef MATCH_NEAR_MARGIN /* ... when its score is at least this many times the next one's */
#define MATCH_NEAR_MARGIN 2.0
#endif
#ifndef MATCH_EXAMPLE_MARGIN /* ... or at this many times, when one of its example questions       \
                                 holds every topical word of the question */
#define MATCH_EXAMPLE_MARGIN 1.15
#endif
#ifndef MATCH_LONG_WORDS /* a question of this many words or more carries its asker's context */
#define MATCH_LONG_WORDS 25
#endif
#ifndef MATCH_LONG_COVERAGE /* ... so under the bar, one may answer with this much */
#define MATCH_LONG_COVERAGE 0.40
#endif
#ifndef MATCH_LONG_MARGIN /* ... when its score is at least this many times the next one's */
#define MATCH_LONG_MARGIN 1.3
#endif
#ifndef MATCH_CONTEXT /* a word of the question before a follow-up weighs this share of its own */
#define MATCH_CONTEXT 0.5
#endif
#ifndef MATCH_EXAMPLE_COVERAGE /* how much of a word found only in an example that is not close    \
                                  to the question counts for coverage */
#define MATCH_EXAMPLE_COVERAGE 0.5
#endif
#ifndef MATCH_CONTEXT_LACKED /* the share of a context sentence's words an entry lacks that        \
                                 coverage leaves out ("I read X. Does the plan say Y?") */
#define MATCH_CONTEXT_LACKED 0.5
#endif
#ifndef MATCH_ANSWER_COVERAGE /* an answer covers more than this share of the question */
#define MATCH_ANSWER_COVERAGE 0.65
#endif
#ifndef MATCH_SPECIFIC_SHARE /* an answer holds a word found in at most this share of entries */
#define MATCH_SPECIFIC_SHARE 0.2
#endif
#ifndef MATCH_RELATED_SHARE /* related entries score at least this share of the best */
#define MATCH_RELATED_SHARE 0.5
#endif
#ifndef MATCH_RELATED_COVERAGE /* related entries cover this share of what the answer covers */
#define MATCH_RELATED_COVERAGE 0.8
#endif
#ifndef MATCH_SAY_QUOTE /* "what did X say": quotes first */
#define MATCH_SAY_QUOTE 1.3
#endif
#ifndef MATCH_SAY_OTHER
#define MATCH_SAY_OTHER 0.9
#endif
#ifndef MATCH_SPEAKER_BONUS /* the question names who said it */
#define MATCH_SPEAKER_BONUS 1.1
#endif
#ifndef MATCH_PHRASE_BONUS /* two neighbouring words found together: share of the lighter one */
#define MATCH_PHRASE_BONUS 0.5
#endif
#ifndef MATCH_QUANTITY_BONUS /* "how many": entries that state a number */
#define MATCH_QUANTITY_BONUS 1.15
#endif
/* "how many", "when": the number or time within this many words of a word of the question */
#ifndef MATCH_FACT_NEAR
#define MATCH_FACT_NEAR 8
#endif

/* How much a hit in each field counts: titles, speakers and keywords say what an entry is about;
 * a word somewhere in the body says less. field_weight decides which field a word counts in for
 * coverage; the BM25F score weighs term frequencies with bm25_field_weight. */
static const double field_weight[NFIELDS] = { MATCH_FIELD_WEIGHTS };
static const double bm25_field_weight[NFIELDS] = { MATCH_BM25_FIELD_WEIGHTS };
static const double bm25_k1 = MATCH_BM25_K1;
static const double bm25_b = MATCH_BM25_B;
static const double text_coverage = MATCH_TEXT_COVERAGE;
static const double weak_factor = MATCH_WEAK;
static const double corrected_factor = MATCH_CORRECTED;
static const double synonym_factor = MATCH_SYNONYM;
static const double unknown_df = MATCH_UNKNOWN_DF;
static const double answer_coverage = MATCH_ANSWER_COVERAGE;
static const double context_lacked = MATCH_CONTEXT_LACKED;
static const double example_coverage = MATCH_EXAMPLE_COVERAGE;
static const double near_coverage = MATCH_NEAR_COVERAGE;
static const double near_margin = MATCH_NEAR_MARGIN;
static const double example_margin = MATCH_EXAMPLE_MARGIN;
static const int long_words = MATCH_LONG_WORDS;
static const double long_coverage = MATCH_LONG_COVERAGE;
static const double long_margin = MATCH_LONG_MARGIN;
static const double context_factor = MATCH_CONTEXT;
static const double unknown_name_factor = MATCH_UNKNOWN_NAME;
static const double specific_share = MATCH_SPECIFIC_SHARE;
static const double related_share = MATCH_RELATED_SHARE;
static const double related_coverage = MATCH_RELATED_COVERAGE;
static const double say_quote = MATCH_SAY_QUOTE;
static const double say_other = MATCH_SAY_OTHER;
static const double speaker_bonus = MATCH_SPEAKER_BONUS;
static const double quantity_bonus = MATCH_QUANTITY_BONUS;
static const double phrase_bonus = MATCH_PHRASE_BONUS;

struct token {
    char text[MAX_TOKEN]; /* "" when the word was too long */
    int start, end;       /* byte offsets in the tokenized text: the word is [start, end) */
};

struct tokens {
    struct token t[MAX_TOKENS];
    int n;
};

struct phrase {
    char text[MAX_TOKEN * MAX_PHRASE_WORDS]; /* folded words, for the FTS5 query */
    uint64_t stems[MAX_PHRASE_WORDS];        /* hashes of the porter stems */
    int nstems;
    int synonym;   /* came from the synonyms table */
    uint32_t df;   /* entries holding all its stems, at most */
    double weight; /* what a hit through this phrase is worth (set per question) */
};

struct group {
    char label[MAX_TOKEN * MAX_PHRASE_WORDS]; /* the question's word(s), for --explain */
    struct phrase phrases[MAX_PHRASES];
    int nphrases;
    enum norm_class cls;
    int corrected;   /* the word was a typo or another form of a known word */
    int proper;      /* a name the knowledge base does not know */
    int first, last; /* positions of its words in the question */
    int context;     /* from the question before, not this one (match_ask_after) */
    uint32_t df;
    int specific; /* the question's own word (else its rarest synonym) is in few entries */
    int aside;    /* a word of a clause that asks nothing (struct qword): 1, or 2 when the clause
                     speaks of the asker ("my boss keeps asking", "we're doing a lunch and learn"),
                     3 in a sentence of context before the question */
    double weight;
};

struct rule { /* one synonym */
    uint64_t term[MAX_PHRASE_WORDS];
    int nterm;
    uint32_t term_df;     /* entries holding the term (its words together) */
    struct phrase *words; /* owned */
    int nwords;
};

struct fwd {       /* a cached entry: its fields as stem hashes */
    int64_t rowid; /* 0: empty slot */
    char id[MATCH_MAX_ID + 1];
    int quote;
    int number;             /* its title or text states a number */
    int time;               /* its title or text states a time: a day, a date, a year, days */
    int now;                /* ... or how things stand now: "currently", "still", "remains" */
    int become;             /* ... or that someone became something: "became", "appointed" */
    int conditional;        /* ... or what follows if something happens: "if", "or else" */
    int fact_at[FACTS_MAX]; /* where (index in block) its title and text state them */
    unsigned char fact_kind[FACTS_MAX]; /* enum fact, each */
    int nfacts;
    int role_posting; /* where in its role a posting begins ("Ambassador *to* the United States"):
                         the words from there say where the speaker serves, not who they are; the
                         role's length when none */
    uint64_t *stems[NFIELDS]; /* point into block */
    int n[NFIELDS];
    uint64_t sig[NFIELDS][SIG_WORDS]; /* a bit per stem hash (its low 8 bits): a field without a
                                         stem's bit cannot hold it, and needs no scan */
    uint64_t sig_any[SIG_WORDS];      /* the fields' signatures together: no field holds a stem
                                         without its bit (most of a question's words, in most
                                         candidates) */
    const uint64_t *tf[NFIELDS];      /* a long field's distinct stems with their counts, as pairs
                                         (stem, count) sorted by stem; NULL for a short field */
    int ntf[NFIELDS];
    int nexamples;               /* the example questions: example k starts at stem example_at[k] */
    const uint64_t *example_at;  /* of stems[F_EXAMPLES]; points into block */
    const uint64_t *example_key; /* example k's wording_key(); points into block */
    uint64_t *block;             /* owned */
};

struct tokenizer {
    fts5_tokenizer api;
    Fts5Tokenizer *inst;
};

struct candidate {
    struct fwd *f;
    double score, coverage, matched;
    int beyond_keywords; /* a question word is in its title, text, speaker or role */
    int topical;         /* it holds a question word that is not a common one */
    int mismatch;        /* it does not state what the question asks for (a time, a number) */
    int own;             /* it holds a topical word of the question itself, not only of the
                            question before it (always set when there is none) */
    int speaker;         /* a quote whose speaker (or their role, or another name) was named */
    int speaker_at;      /* where in the question first (INT_MAX: not named) */
    int speaker_who;     /* ... by the word that names who said it ("what did his *office* say") */
    int off_about;       /* a quote of the one named that holds nothing of what they were asked
                            about ("what did Kallas say about sanctions") */
    int specific;        /* it holds a question word found in few entries (see answers()) */
    int close;           /* one of its example questions is close to the question */
    int other_party;     /* the question asks about one party's thing ("Russia's army") and it
                            holds only another's ("the Ukrainian armed forces"): that party's
                            index in owned[], else -1 */
};

/* A word of the question that a party owns: "army" in "how big is Russia's army". */
struct owned {
    int group;
    int party;
};

/* An entry retrieved, with its planbot_rank() score. */
struct ranked {
    double score;
    int entry;
};

/* One stem of one resident entry (or the wording_key() of one of its example questions): the
 * postings, sorted by stem then entry. */
struct posting {
    uint64_t stem;
    int entry; /* index in resident.e */
};

/* The whole knowledge base in memory (see the top of this file); e NULL when not resident. */
struct resident {
    struct fwd *e; /* owned: every entry, in rowid order, its block owned */
    int n;
    struct posting *post; /* owned */
    size_t npost;
    double *acc, *gbest; /* owned, n each: scratch of one question, zero between questions */
    int *touched, *gtouched;
    struct ranked *ranked;    /* owned, n: the entries retrieved, to sort */
    struct posting *wordings; /* owned: every example question's wording_key() and its entry,
                                 sorted as the postings are */
    size_t nwordings;
};

struct stems { /* the porter stems of a short list of words, as hashes */
    uint64_t h[16];
    int n;
};

struct match {
    struct kb *kb;    /* borrowed */
    int resident_max; /* hold knowledge bases up to this many entries in memory */
    struct resident res;
    struct tokenizer porter, plain;
    struct memo *stems_memo; /* a surface word's stem hash and what it states (collect_surface()) */
    sqlite3_stmt *retrieve, *load_entry, *cited;
    sqlite3_stmt *phrase_count; /* how many entries hold a phrase of several words */
    struct buf wording;         /* scratch of wording_key() */
    struct fwd source; /* the source most entries cite, its record's words; rowid 0: none */
    uint64_t stamp;
    int loaded;
    double nentries;
    struct vocab *vocab;         /* porter stems and their entry counts */
    struct vocab *words_vocab;   /* surface words, loaded on first need (surface_words) */
    struct vocab *speaker_words; /* speakers' name words, loaded on first need (speaker_words) */
    struct rule *rules;
    int nrules;
    struct party_set *parties; /* the parties' words (load_parties) */
    char (*party_names)[KB_MAX_NAME + 1];
    int nparties;
    int *rule_order; /* owned: the rules' indexes by their first stem, then by index */
    struct fwd cache[CACHE_SLOTS];
    uint64_t time_stems[48];      /* the stems of words that state a time (time_points, spans) */
    uint64_t fact_sig[SIG_WORDS]; /* a bit per stem of time_stems and the stems sets below: a stem
                                     without its bit is none of them (see sig_bit()) */
    unsigned char time_kind[48];  /* ... each what it states (enum fact) */
    int ntime;
    struct stems now_stems;    /* of words that state how things stand now (now_words) */
    struct stems become_stems; /* ... that someone became something (become_words) */
    struct stems if_stems;     /* ... a condition (if_words) */
    /* scratch for one question, kept from one to the next (never a large malloc per question: an
     * 80 KiB block freed made malloc consolidate its heap every time) */
    struct qword *qw; /* owned, made at the first question: 2 * MAX_TOKENS: the question's words,
                         then the one before */
    struct buf clean; /* the question cleaned */
    struct buf query; /* the FTS5 retrieval query */
    struct tokens words, stems;
    struct group groups[MAX_GROUPS];
    struct owned owned[MAX_OWNED];
    int nowned;
    struct candidate cand[CANDIDATES];
    struct rank_phrase rank[MAX_GROUPS * MAX_PHRASES];
    char errmsg[512];
};

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Copies src into dst (cap bytes), cut to fit, NUL-terminated: what snprintf("%s") does, without
 * parsing a format, on the path of every question word. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Appends " " (unless at is 0) and src to dst at offset at, cut to fit; returns the new offset. */
static size_t append_word(char *dst, size_t cap, size_t at, const char *src)
{
    if (at && at + 1 < cap)
        dst[at++] = ' ';
    copy_str(dst + at, cap - at, src);
    return at + strlen(dst + at);
}

static int fail(struct match *m, int err, const char *msg)
{
    snprintf(m->errmsg, sizeof m->errmsg, "%s", msg);
    return err;
}

const char *match_errmsg(const struct match *m)
{
    return m ? m->errmsg : "";
}

/* ---- tokenizing with FTS5's own tokenizers ---- */

static int collect(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    struct tokens *ts = ctx;
    if ((flags & FTS5_TOKEN_COLOCATED) || ts->n >= MAX_TOKENS)
        return SQLITE_OK;
    struct token *t = &ts->t[ts->n++];
    t->start = start;
    t->end = end;
    if (n <= 0 || n >= MAX_TOKEN) {
        t->text[0] = '\0';
    } else {
        memcpy(t->text, tok, (size_t)n);
        t->text[n] = '\0';
    }
    return SQLITE_OK;
}

static int tokenize(struct tokenizer *tk, const char *text, size_t len, struct tokens *out)
{
    out->n = 0;
    if (len > 0x7fffffff)
        return ERR_TOOBIG;
    int rc = tk->api.xTokenize(tk->inst, out, FTS5_TOKENIZE_DOCUMENT, text, (int)len, collect);
    return rc == SQLITE_OK ? 0 : ERR_DB;
}

/* Like collect(), for stem_word(): only the first two tokens matter. */
static int collect_first(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    struct tokens *ts = ctx;
    if (ts->n >= 2)
        return SQLITE_OK;
    return collect(ctx, flags, tok, n, start, end);
}

/* Whether a (stemmed) token spells a number: "five regions", "a hundred days". */
static int number_word(const char *tok, int n)
{
    static const char *const words[] = { "two",   "three",    "four",    "five",    "six",
                                         "seven", "eight",    "nine",    "ten",     "dozen",
                                         "hundr", "thousand", "million", "billion", "half" };
    if (n < 3 || n > 8) /* the lengths of the words: most tokens are no number, told cheaply */
        return 0;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (words[i][0] == tok[0] && (size_t)n == strlen(words[i]) &&
            memcmp(tok, words[i], (size_t)n) == 0)
            return 1;
    return 0;
}

struct hashes {
    uint64_t *h;
    int n, cap;
    int digits; /* a token was all digits */
    int year;   /* a token was a year: four digits from 1900 to 2099 */
    /* where the tokens that state a number or a year are (index in h), the first FACTS_MAX */
    int fact_at[FACTS_MAX];
    unsigned char fact_kind[FACTS_MAX];
    int nfacts;
    /* the items of a JSON list, when set: where each starts in the text, and (filled in) the
     * index in h of its first token */
    const int *item_at;
    int *item_first;
    int nitems, item;
};

/* What a stemmed token states (enum fact bits), 0 for nothing: a number, a day of a month, a
 * year. */
static unsigned char token_fact(const char *tok, int n)
{
    int digits = n > 0;
    for (int i = 0; i < n && digits; i++)
        digits = tok[i] >= '0' && tok[i] <= '9';
    int number = digits || number_word(tok, n);
    int year = digits && n == 4 && (tok[0] == '1' ? tok[1] == '9' : tok[0] == '2' && tok[1] == '0');
    if (!number && !year)
        return 0;
    int value = digits && n <= 2 ? (n == 2 ? 10 * (tok[0] - '0') : 0) + tok[n - 1] - '0' : 0;
    int monthday = value >= 1 && value <= 31; /* (tok is not NUL-terminated) */
    return (unsigned char)(year       ? FACT_TIME | FACT_POINT
                           : monthday ? FACT_NUMBER | FACT_MONTHDAY
                                      : FACT_NUMBER); /* a year counts nothing */
}

/* Appends a stem (its hash, and what its token states) of the text at byte start. Returns
 * SQLITE_OK or SQLITE_NOMEM. */
static int add_stem(struct hashes *hs, uint64_t stem, unsigned char fact, int start)
{
    if (hs->n == hs->cap) {
        int cap = hs->cap ? hs->cap * 2 : 64;
        uint64_t *p = realloc(hs->h, (size_t)cap * sizeof *p);
        if (!p)
            return SQLITE_NOMEM;
        hs->h = p;
        hs->cap = cap;
    }
    while (hs->item_at && hs->item < hs->nitems && start >= hs->item_at[hs->item])
        hs->item_first[hs->item++] = hs->n;
    hs->h[hs->n++] = stem;
    hs->digits |= fact != 0; /* a number, or a year */
    hs->year |= (fact & FACT_TIME) != 0;
    if (fact && hs->nfacts < FACTS_MAX) {
        hs->fact_at[hs->nfacts] = hs->n - 1;
        hs->fact_kind[hs->nfacts++] = fact;
    }
    return SQLITE_OK;
}

static int collect_hash(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    (void)end;
    if (flags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    return add_stem(ctx, hash(tok, (size_t)(n > 0 ? n : 0)), token_fact(tok, n), start);
}

/* The porter stem of one token, for collect_surface(). */
struct one_stem {
    uint64_t stem;
    unsigned char fact;
    int n; /* tokens seen: 1 */
};

static int collect_one(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    (void)start;
    (void)end;
    struct one_stem *o = ctx;
    if (flags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    if (o->n++ == 0) {
        o->stem = hash(tok, (size_t)(n > 0 ? n : 0));
        o->fact = token_fact(tok, n);
    }
    return SQLITE_OK;
}

struct surface {
    struct match *m;
    struct hashes *hs;
};

/* Like collect_hash(), for the plain tokenizer's tokens: each one's stem from m->stems_memo, or
 * from the porter tokenizer (then remembered). The porter tokenizer is the plain one with a
 * stemmer on each token, so the stems are the same; an entry's words mostly recur, and stemming
 * them was half of loading an entry. SQLITE_MISMATCH when a token does not stem to one token
 * (never seen; the caller stems the whole field instead). */
static int collect_surface(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    (void)end;
    struct surface *sf = ctx;
    if (flags & FTS5_TOKEN_COLOCATED)
        return SQLITE_OK;
    uint64_t key = hash(tok, (size_t)(n > 0 ? n : 0)), stem;
    unsigned char fact;
    if (!memo_get(sf->m->stems_memo, key, &stem, &fact)) {
        struct one_stem o = { 0, 0, 0 };
        int rc = sf->m->porter.api.xTokenize(sf->m->porter.inst, &o, FTS5_TOKENIZE_DOCUMENT, tok, n,
                                             collect_one);
        if (rc != SQLITE_OK)
            return rc;
        if (o.n != 1)
            return SQLITE_MISMATCH;
        stem = o.stem;
        fact = o.fact;
        (void)memo_put(sf->m->stems_memo, key, stem, fact); /* out of memory: not remembered */
    }
    return add_stem(sf->hs, stem, fact, start);
}

static int open_tokenizer(fts5_api *api, const char *name, struct tokenizer *tk)
{
    const char *args[] = { "unicode61", "remove_diacritics", "2" };
    const char *plain_args[] = { "remove_diacritics", "2" };
    void *ud = NULL;
    if (api->xFindTokenizer(api, name, &ud, &tk->api) != SQLITE_OK)
        return ERR_DB;
    int porter = strcmp(name, "porter") == 0;
    if (tk->api.xCreate(ud, porter ? args : plain_args, porter ? 3 : 2, &tk->inst) != SQLITE_OK)
        return ERR_DB;
    return 0;
}

static int fts5_api_of(sqlite3 *db, fts5_api **api)
{
    sqlite3_stmt *st;
    *api = NULL;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) != SQLITE_OK)
        return ERR_DB;
    sqlite3_bind_pointer(st, 1, (void *)api, "fts5_api_ptr", NULL);
    sqlite3_step(st);
    sqlite3_finalize(st);
    return *api ? 0 : ERR_DB;
}

/* ---- the cached view of the knowledge base: vocabulary, synonyms, entries ---- */

static void resident_free(struct resident *r);
static int resident_load(struct match *m, struct resident *r);

static void clear_cache(struct match *m)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(m->cache[i].block);
        memset(&m->cache[i], 0, sizeof m->cache[i]);
    }
}

static void free_rules(struct match *m)
{
    for (int i = 0; i < m->nrules; i++)
        free(m->rules[i].words);
    free(m->rules);
    free(m->rule_order);
    m->rules = NULL;
    m->rule_order = NULL;
    m->nrules = 0;
}

/* Fills a phrase from text: folded words for FTS5, stem hashes for scoring. */
static int make_phrase(struct match *m, const char *text, size_t len, struct phrase *p)
{
    struct tokens *w = &m->words, *s = &m->stems;
    int rc = tokenize(&m->plain, text, len, w);
    if (!rc)
        rc = tokenize(&m->porter, text, len, s);
    if (rc)
        return rc;
    memset(p, 0, sizeof *p);
    if (w->n == 0 || w->n > MAX_PHRASE_WORDS || w->n != s->n)
        return ERR_INVAL;
    size_t at = 0;
    p->df = UINT32_MAX;
    for (int i = 0; i < w->n; i++) {
        if (!w->t[i].text[0])
            return ERR_INVAL;
        at +=
            (size_t)snprintf(p->text + at, sizeof p->text - at, "%s%s", i ? " " : "", w->t[i].text);
        p->stems[i] = hash(s->t[i].text, strlen(s->t[i].text));
        uint32_t df = m->vocab ? vocab_stem_df(m->vocab, s->t[i].text) : 0;
        if (df < p->df)
            p->df = df;
    }
    p->nstems = w->n;
    /* several words: the entries that hold them together, not merely the rarest of them
     * ("defence guarantees" is in no entry, though "defence" is in one) */
    if (p->nstems > 1 && p->df > 0 && m->phrase_count) {
        char q[sizeof p->text + 2];
        snprintf(q, sizeof q, "\"%s\"", p->text);
        sqlite3_bind_text(m->phrase_count, 1, q, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(m->phrase_count) == SQLITE_ROW)
            p->df = (uint32_t)sqlite3_column_int64(m->phrase_count, 0);
        sqlite3_reset(m->phrase_count);
    }
    return 0;
}

/* What the rows of a vocabulary's queries hold: (stem, entries), (word, entries), or a text whose
 * words each count once. */
enum vocab_rows { ROWS_STEMS, ROWS_WORDS, ROWS_TEXT };

/* Fills a new vocabulary from the rows of queries. Returns 0 and *out, or an error. */
static int load_vocab(struct match *m, const char *const *sql, int nsql, enum vocab_rows rows,
                      struct vocab **out)
{
    struct vocab *v = vocab_new();
    /* not m->words: a question may be reading it (surface_words(), speaker_words()) */
    struct tokens *words = rows == ROWS_TEXT ? malloc(sizeof *words) : NULL;
    if (!v || (rows == ROWS_TEXT && !words)) {
        vocab_free(v);
        free(words);
        return ERR_NOMEM;
    }
    int rc = 0;
    for (int q = 0; q < nsql && !rc; q++) {
        sqlite3_stmt *st;
        if ((rc = kb_prepare(m->kb, sql[q], &st)))
            break;
        int step;
        while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *t = kb_col(st, 0);
            uint32_t df = sqlite3_column_count(st) > 1 ? (uint32_t)sqlite3_column_int(st, 1) : 1;
            if (rows == ROWS_STEMS)
                rc = vocab_add_stem(v, t, df);
            else if (rows == ROWS_WORDS && !strchr(t, ' '))
                rc = vocab_add_word(v, t, df);
            else if (rows == ROWS_TEXT && !tokenize(&m->plain, t, strlen(t), words))
                for (int i = 0; i < words->n && !rc; i++)
                    if (words->t[i].text[0])
                        rc = vocab_add_word(v, words->t[i].text, 1);
        }
        if (!rc && step != SQLITE_DONE)
            rc = kb_dbfail(m->kb, step, "reading the vocabulary");
        sqlite3_finalize(st);
    }
    free(words);
    if (!rc)
        rc = vocab_finish(v);
    if (rc) {
        vocab_free(v);
        return rc;
    }
    *out = v;
    return 0;
}

/* The surface words, for typo correction: loaded when a question first needs them, as most
 * questions do not and a large knowledge base has many. Synonym terms are typo targets too. */
static struct vocab *surface_words(struct match *m)
{
    static const char *const sql[] = { "SELECT term, doc FROM entries_words_terms",
                                       "SELECT term FROM synonyms" };
    if (!m->words_vocab && load_vocab(m, sql, 2, ROWS_WORDS, &m->words_vocab))
        return NULL;
    return m->words_vocab;
}

/* A rule's first stem and its place, for rule_order. */
struct rule_key {
    uint64_t stem;
    int index;
};

static int by_rule_key(const void *a, const void *b)
{
    const struct rule_key *x = a, *y = b;
    if (x->stem != y->stem)
        return x->stem < y->stem ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Fills m->rule_order, so that rule_at() looks at the rules that start with a word only. */
static int order_rules(struct match *m)
{
    size_t n = m->nrules ? (size_t)m->nrules : 1;
    struct rule_key *keys = malloc(n * sizeof *keys);
    m->rule_order = malloc(n * sizeof *m->rule_order);
    if (!keys || !m->rule_order) {
        free(keys);
        return ERR_NOMEM;
    }
    for (int i = 0; i < m->nrules; i++)
        keys[i] = (struct rule_key){ m->rules[i].term[0], i };
    qsort(keys, (size_t)m->nrules, sizeof *keys, by_rule_key);
    for (int i = 0; i < m->nrules; i++)
        m->rule_order[i] = keys[i].index;
    free(keys);
    return 0;
}

/* Adds the rule term (tp) -> words (a JSON array of phrases). Returns 0 or ERR_NOMEM. */
static int add_rule(struct match *m, const struct phrase *tp, const cJSON *words, int *cap)
{
    if (m->nrules == *cap) {
        int grown = *cap ? *cap * 2 : 64;
        struct rule *r = realloc(m->rules, (size_t)grown * sizeof *r);
        if (!r)
            return ERR_NOMEM;
        m->rules = r;
        *cap = grown;
    }
    struct rule *r = &m->rules[m->nrules];
    memset(r, 0, sizeof *r);
    memcpy(r->term, tp->stems, sizeof tp->stems);
    r->nterm = tp->nstems;
    r->term_df = tp->df;
    r->words = calloc((size_t)cJSON_GetArraySize(words) + 1, sizeof *r->words);
    if (!r->words)
        return ERR_NOMEM;
    const cJSON *w;
    cJSON_ArrayForEach(w, words)
    {
        if (cJSON_IsString(w) &&
            !make_phrase(m, w->valuestring, strlen(w->valuestring), &r->words[r->nwords])) {
            r->words[r->nwords].synonym = 1;
            r->nwords++;
        }
    }
    m->nrules++;
    return 0;
}

static int load_rules(struct match *m)
{
    sqlite3_stmt *st;
    free_rules(m);
    /* a speaker's other names work as synonyms of the name ("the WH press secretary" finds
     * Karoline Leavitt's quotes); a name of several words is one word of the question, not two
     * ("who is Kaja Kallas married to" asks about one thing the knowledge base knows, not two;
     * the parties' names were measured too, and lost "what's the White House line on it") */
    int rc = kb_prepare(m->kb,
                        "SELECT term, words FROM synonyms UNION ALL"
                        " SELECT lower(a.value), json_array(s.name)"
                        " FROM speakers s, json_each(s.aliases) a UNION ALL"
                        " SELECT lower(name), json_array(name) FROM speakers WHERE name LIKE '% %'"
                        " ORDER BY 1",
                        &st);
    if (rc)
        return rc;
    /* a question's "US" is "USA" (norm_clean()), its "us" is "us": a term with either has a
     * twin with the other ("top US diplomat", "top us diplomat") */
    const uint64_t us = hash("us", 2), usa = hash("usa", 3);
    int step, cap = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *term = kb_col(st, 0);
        cJSON *words = cJSON_Parse(kb_col(st, 1));
        struct phrase tp;
        if (!cJSON_IsArray(words) || make_phrase(m, term, strlen(term), &tp)) {
            cJSON_Delete(words);
            continue; /* a term that is no words at all (punctuation) matches nothing */
        }
        rc = add_rule(m, &tp, words, &cap);
        int twin = 0;
        for (int k = 0; k < tp.nstems && tp.nstems > 1; k++)
            if (tp.stems[k] == us || tp.stems[k] == usa) {
                tp.stems[k] = tp.stems[k] == us ? usa : us;
                twin = 1;
            }
        if (!rc && twin)
            rc = add_rule(m, &tp, words, &cap);
        cJSON_Delete(words);
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(m->kb, step, "reading the synonyms");
    sqlite3_finalize(st);
    return rc ? rc : order_rules(m);
}

/* The words of every speaker's name, role and other names (folded, as the question's are):
 * what a word that names who said something may be corrected into. Loaded when a question first
 * needs them, as surface_words() is. NULL when they cannot be read. */
static struct vocab *speaker_words(struct match *m)
{
    static const char *const sql[] = {
        "SELECT name || ' ' || role || ' ' || aliases FROM speakers",
        "SELECT speaker || ' ' || role FROM entries WHERE kind = 'quote'"
    };
    if (!m->speaker_words && load_vocab(m, sql, 2, ROWS_TEXT, &m->speaker_words))
        return NULL;
    return m->speaker_words;
}

static int stem_word(struct match *m, const char *word, char *out, size_t len);
static void stems_of(struct match *m, const char *const *words, size_t n, struct stems *set);

/* The parties and the words that name them, their names first: what owns a word of a question
 * or an entry (party.h). A read-only database from before the parties has none. */
static int load_parties(struct match *m)
{
    party_set_free(m->parties);
    m->parties = NULL;
    free(m->party_names);
    m->party_names = NULL;
    m->nparties = 0;
    static const char *const aux[] = { "do",    "does", "did",   "can",  "could",  "will",
                                       "would", "may",  "might", "must", "should", "shall" };
    struct party_glue glue = { hash("s", 1), hash("the", 3), hash("of", 2), { 0 }, 0 };
    for (size_t i = 0; i < sizeof aux / sizeof *aux && glue.naux < PARTY_AUX_MAX; i++) {
        char stem[MAX_TOKEN];
        if (!stem_word(m, aux[i], stem, sizeof stem))
            glue.aux[glue.naux++] = hash(stem, strlen(stem));
    }
    int rc = party_set_new(&m->parties, &glue);
    sqlite3_stmt *st = NULL;
    if (rc || m->kb->version < KB_SCHEMA_PARTIES ||
        (rc = kb_prepare(m->kb, "SELECT name, words FROM parties ORDER BY rowid", &st)))
        return rc;
    int step, cap = 0;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (m->nparties == cap) {
            cap = cap ? 2 * cap : 16;
            void *grown = realloc(m->party_names, (size_t)cap * sizeof *m->party_names);
            if (!grown) {
                rc = ERR_NOMEM;
                break;
            }
            m->party_names = grown;
        }
        const char *name = kb_col(st, 0);
        copy_str(m->party_names[m->nparties], sizeof m->party_names[0], name);
        cJSON *words = cJSON_Parse(kb_col(st, 1));
        struct phrase p;
        if (!make_phrase(m, name, strlen(name), &p))
            rc = party_set_add(m->parties, m->nparties, p.stems, p.nstems);
        const cJSON *w;
        cJSON_ArrayForEach(w, words)
        {
            if (!rc && cJSON_IsString(w) &&
                !make_phrase(m, w->valuestring, strlen(w->valuestring), &p))
                rc = party_set_add(m->parties, m->nparties, p.stems, p.nstems);
        }
        cJSON_Delete(words);
        m->nparties++;
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(m->kb, step, "reading the parties");
    sqlite3_finalize(st);
    return rc == ERR_FULL ? 0 : rc; /* more words than a set holds: the first ones count */
}

/* Reloads what depends on the data when it has changed since the last question. */
static int load_fwd(struct match *m, sqlite3_stmt *st, struct fwd *f);

static int refresh(struct match *m)
{
    uint64_t stamp = kb_stamp(m->kb);
    if (m->loaded && stamp == m->stamp)
        return 0;
    static const char *const stems_sql[] = { "SELECT term, doc FROM entries_fts_terms" };
    clear_cache(m);
    vocab_free(m->words_vocab);
    m->words_vocab = NULL;
    vocab_free(m->speaker_words);
    m->speaker_words = NULL;
    struct vocab *stems = NULL;
    int rc = load_vocab(m, stems_sql, 1, ROWS_STEMS, &stems);
    if (!rc) {
        vocab_free(m->vocab);
        m->vocab = stems;
        rc = load_rules(m);
    }
    if (!rc)
        rc = load_parties(m);
    if (rc)
        return fail(m, rc, kb_errmsg(m->kb));
    m->nentries = (double)kb_count_entries(m->kb);
    free(m->source.block);
    memset(&m->source, 0, sizeof m->source);
    int step = sqlite3_step(m->cited);
    if (step == SQLITE_ROW && !load_fwd(m, m->cited, &m->source))
        m->source.rowid = 1;
    sqlite3_reset(m->cited);
    resident_free(&m->res);
    if (m->nentries <= m->resident_max && resident_load(m, &m->res))
        resident_free(&m->res); /* out of memory: FTS5 retrieves instead */
    m->stamp = stamp;
    m->loaded = 1;
    return 0;
}

void match_set_resident_max(struct match *m, int entries)
{
    m->resident_max = entries;
    m->loaded = 0;
}

static uint64_t sig_bit(uint64_t stem)
{
    return (uint64_t)1 << (stem & 63);
}

static int sig_word(uint64_t stem)
{
    return (int)((stem >> 6) & (SIG_WORDS - 1));
}

/* Whether field fi of f may hold stem (see struct fwd). */
static int may_hold(const struct fwd *f, int fi, uint64_t stem)
{
    return (f->sig[fi][sig_word(stem)] & sig_bit(stem)) != 0;
}

/* Where each string of a JSON list of strings starts in its text (after its opening quote):
 * at most max of them. Returns how many. */
static int list_items(const char *t, int n, int *at, int max)
{
    int k = 0, in = 0, esc = 0;
    for (int i = 0; i < n && k < max; i++) {
        if (esc)
            esc = 0;
        else if (in && t[i] == '\\')
            esc = 1;
        else if (t[i] == '"' && !in)
            at[k++] = i + 1, in = 1;
        else if (t[i] == '"')
            in = 0;
    }
    return k;
}

/* The end of the JSON string item that starts at from in t (its closing quote, or n). */
static int item_end(const char *t, int n, int from)
{
    for (int i = from; i < n; i++) {
        if (t[i] == '\\')
            i++;
        else if (t[i] == '"')
            return i;
    }
    return n;
}

/* Adds a stem to a wording's key. A word too long to keep counts as "", as tokenize() keeps it. */
static uint64_t fold_stem(uint64_t key, const char *tok, int n)
{
    if (n <= 0 || n >= MAX_TOKEN)
        n = 0;
    if (n == 3 && memcmp(tok, "usa", 3) == 0)
        tok = "us", n = 2; /* what norm_clean() made of "US", whose case does not matter here */
    return (key ^ hash(tok, (size_t)n)) * 0x100000001b3ULL + 1;
}

static int fold_wording(void *ctx, int flags, const char *tok, int n, int start, int end)
{
    (void)start, (void)end;
    uint64_t *key = ctx;
    if (!(flags & FTS5_TOKEN_COLOCATED))
        *key = fold_stem(*key, tok, n);
    return SQLITE_OK;
}

/* The key of a wording: its words, cleaned as a question is and stemmed, in order, so that a
 * question and an example question that differ only in case, punctuation, markup or a word's
 * ending ("why now?", "Why now") have the same key. 0 for a wording without words, or on error. */
static uint64_t wording_key(struct match *m, const char *text, size_t len)
{
    uint64_t key = 0;
    buf_reset(&m->wording);
    if (len > MATCH_MAX_QUESTION || norm_clean(text, len, &m->wording) ||
        m->porter.api.xTokenize(m->porter.inst, &key, FTS5_TOKENIZE_DOCUMENT, buf_str(&m->wording),
                                (int)m->wording.len, fold_wording) != SQLITE_OK)
        return 0;
    return key;
}

/* Words that state a time, besides years (an entry that holds none cannot say when): a point in
 * time (with "since" and "until", which name one: "since the Anchorage summit"), or a span. */
static const char *const time_days[] = { "monday",  "tuesday",   "wednesday", "thursday",
                                         "friday",  "saturday",  "sunday",    "today",
                                         "tonight", "yesterday", "tomorrow" };
static const char *const time_months[] = {
    "january", "february",  "april",   "june",     "july",
    "august",  "september", "october", "november", "december"
}; /* not "march", "may" */
static const char *const time_points[] = { "ago",   "morning", "afternoon", "evening",
                                           "night", "date",    "since",     "until" };
static const char *const time_spans[] = { "day",    "days", "week",  "weeks",    "month",
                                          "months", "year", "years", "deadline", "timeline" };

/* Words that state how things stand at the time of writing: an entry that holds none cannot say
 * what is so "right now" ("the plan is still in the framework stage", "territory Russia does not
 * currently control", "its points haven't been finalized", "work is continuing"). */
static const char *const now_words[] = { "continues", "continuing", "currently", "hasn",
                                         "haven",     "now",        "ongoing",   "presently",
                                         "remain",    "still",      "yet" };

/* Words that state that someone became something (a post, a role): a question about a person's
 * past ("what did he do before he became army secretary") needs an entry that holds one. */
static const char *const become_words[] = { "appointed", "became", "become", "becomes",
                                            "becoming" };      /* sorted */
static const char *const pronouns[] = { "he", "she", "they" }; /* sorted */
/* Verbs of taking a stand on something ("did Kallas endorse it", "does Sikorski back the plan"):
 * after one who is quoted, they ask what that person said. Sorted. */
static const char *const stance_verbs[] = {
    "approve",   "approved",   "approves",   "back",      "backed",     "backing",    "backs",
    "criticise", "criticised", "criticises", "criticize", "criticized", "criticizes", "endorse",
    "endorsed",  "endorses",   "endorsing",  "oppose",    "opposed",    "opposes",    "praise",
    "praised",   "praises",    "reject",     "rejected",  "rejects",    "slam",       "slammed",
    "slams",     "support",    "supported",  "supports",  "welcome",    "welcomed",   "welcomes",
};
static const char *const if_asides[] = { "any", "anything", "ever", "not", "possible", "so" };
static const char *const claim_makers[] = {
    "any", "bring", "bringing", "file", "filing", "lodge", "make", "no", "pursue", "raise"
}; /* sorted */
static const char *const day_askers[] = { "exact",    "particular", "precise",
                                          "specific", "what",       "which" }; /* sorted */
static const char *const career_words[] = { "career", "did",  "do",   "doing",
                                            "job",    "role", "work", "worked" }; /* sorted */

/* Words that state what follows if something happens ("if Russia invades", "or else the
 * guarantees would not apply", "sanctions for violations"): a question about what happens if
 * something happens needs an entry that holds one. */
static const char *const if_words[] = { "else",   "if",        "otherwise",
                                        "unless", "violation", "violations" };

static int in_stems(const struct stems *set, uint64_t stem)
{
    for (int i = 0; i < set->n; i++)
        if (set->h[i] == stem)
            return 1;
    return 0;
}

/* What the stem states: FACT_TIME with FACT_POINT (a point in time, FACT_DAY a day, FACT_MONTH a
 * month) or FACT_SPAN, FACT_NOW, or 0. */
static int time_stem(const struct match *m, uint64_t stem)
{
    for (int i = 0; i < m->ntime; i++)
        if (m->time_stems[i] == stem)
            return m->time_kind[i];
    return in_stems(&m->now_stems, stem) ? FACT_NOW : 0;
}

/* Sorts n values in place: a Shell sort with Ciura's gaps. A field holds tens to hundreds of
 * stems, and loading an entry sorts each long field: qsort() paid a call of its comparison per
 * step, a quarter of a load's time at 100,000 entries. */
static void sort_values(uint64_t *a, int n)
{
    static const int gaps[] = { 701, 301, 132, 57, 23, 10, 4, 1 };
    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
        int gap = gaps[g];
        for (int i = gap; i < n; i++) {
            uint64_t v = a[i];
            int j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap)
                a[j] = a[j - gap];
            a[j] = v;
        }
    }
}

/* Writes the n stems' distinct values with how often each occurs, as pairs (stem, count) sorted
 * by stem, into out (room for 2n words; the first n are sorted in place as scratch). Returns
 * how many pairs. */
static int count_stems(const uint64_t *stems, int n, uint64_t *out)
{
    memcpy(out + n, stems, (size_t)n * sizeof *stems); /* sorted in the second half, then */
    sort_values(out + n, n);                           /* written into the first, behind */
    int pairs = 0;
    for (int i = 0; i < n;) {
        uint64_t stem = out[n + i];
        int j = i;
        while (j < n && out[n + j] == stem)
            j++;
        out[2 * pairs] = stem;
        out[2 * pairs + 1] = (uint64_t)(j - i);
        pairs++;
        i = j;
    }
    return pairs;
}

/* Fills f (empty) from the current row of st: id, kind, then the NFIELDS fields, from column
 * 0; f->rowid is left to the caller. Returns 0 or an error. */
static int load_fwd(struct match *m, sqlite3_stmt *st, struct fwd *f)
{
    struct hashes hs = { 0 };
    int start[NFIELDS], item_at[MATCH_MAX_EXAMPLES], item_first[MATCH_MAX_EXAMPLES];
    for (int i = 0; i < NFIELDS; i++) {
        start[i] = hs.n;
        const char *t = (const char *)sqlite3_column_text(st, 2 + i);
        int n = sqlite3_column_bytes(st, 2 + i);
        if (i == F_EXAMPLES && t) {
            hs.nitems = list_items(t, n, item_at, MATCH_MAX_EXAMPLES);
            hs.item_at = item_at;
            hs.item_first = item_first;
        }
        if (t && n > 0) {
            struct hashes before = hs;
            struct surface sf = { m, &hs };
            int rc = m->plain.api.xTokenize(m->plain.inst, &sf, FTS5_TOKENIZE_DOCUMENT, t, n,
                                            collect_surface);
            if (rc == SQLITE_MISMATCH) { /* the field again, stemmed whole */
                hs.n = before.n;
                hs.nfacts = before.nfacts;
                hs.item = before.item;
                hs.digits = before.digits;
                hs.year = before.year;
                rc = m->porter.api.xTokenize(m->porter.inst, &hs, FTS5_TOKENIZE_DOCUMENT, t, n,
                                             collect_hash);
            }
            if (rc != SQLITE_OK) {
                free(hs.h);
                return ERR_NOMEM;
            }
        }
        f->n[i] = hs.n - start[i];
        if (i == F_TEXT && hs.digits)
            f->number = 1;
        if (i == F_TEXT && hs.year)
            f->time = 1;
    }
    const uint64_t to = hash("to", 2);
    f->role_posting = f->n[F_ROLE];
    for (int k = 1; k < f->n[F_ROLE] && f->role_posting == f->n[F_ROLE]; k++)
        if (hs.h[start[F_ROLE] + k] == to)
            f->role_posting = k;
    /* where the title and the text state a number or a time, for fact_near() */
    int end = start[F_TEXT] + f->n[F_TEXT];
    for (int k = 0; k < hs.nfacts; k++)
        if (hs.fact_at[k] >= start[F_TITLE] && hs.fact_at[k] < end && f->nfacts < FACTS_MAX) {
            f->fact_at[f->nfacts] = hs.fact_at[k];
            f->fact_kind[f->nfacts++] = hs.fact_kind[k];
        }
    for (int k = start[F_TITLE]; k < end; k++) {
        if (!(m->fact_sig[sig_word(hs.h[k])] & sig_bit(hs.h[k])))
            continue; /* most words state none of these: a bit tells, without the scans */
        f->become |= in_stems(&m->become_stems, hs.h[k]);
        f->conditional |= in_stems(&m->if_stems, hs.h[k]);
        int kind = time_stem(m, hs.h[k]);
        if (kind) {
            f->time |= (kind & FACT_TIME) != 0;
            f->now |= (kind & FACT_NOW) != 0;
            if (f->nfacts < FACTS_MAX) {
                f->fact_at[f->nfacts] = k;
                f->fact_kind[f->nfacts++] = (unsigned char)kind;
            }
        }
    }
    /* a number from 1 to 31 beside a month's name is a day of it: "20 November", "August 4" */
    for (int x = 0; x < f->nfacts; x++) {
        int at = f->fact_at[x];
        if (!(f->fact_kind[x] & FACT_MONTHDAY))
            continue;
        if ((at > start[F_TITLE] && (time_stem(m, hs.h[at - 1]) & FACT_MONTH)) ||
            (at + 1 < end && (time_stem(m, hs.h[at + 1]) & FACT_MONTH))) {
            f->fact_kind[x] |= FACT_TIME | FACT_POINT | FACT_DAY;
            f->time = 1;
        }
    }
    /* the examples' wordings, whole */
    uint64_t keys[MATCH_MAX_EXAMPLES];
    const char *ex = (const char *)sqlite3_column_text(st, 2 + F_EXAMPLES);
    int exn = sqlite3_column_bytes(st, 2 + F_EXAMPLES);
    for (int k = 0; k < hs.item; k++)
        keys[k] =
            wording_key(m, ex + item_at[k], (size_t)(item_end(ex, exn, item_at[k]) - item_at[k]));
    /* the examples' first stems, after the stems (an example without words has none) */
    int nex = hs.item, total = hs.n;
    if (nex > 0) {
        uint64_t *grown = realloc(hs.h, (size_t)(total + nex) * sizeof *grown);
        if (!grown) {
            free(hs.h);
            return ERR_NOMEM;
        }
        hs.h = grown;
        for (int k = 0; k < nex; k++)
            hs.h[total + k] = (uint64_t)(item_first[k] - start[F_EXAMPLES]);
    }
    /* the counts of the long fields' stems, after them: at most two words a stem */
    int ntf = 0;
    for (int i = 0; i < NFIELDS; i++)
        ntf += f->n[i] >= TF_MIN ? 2 * f->n[i] : 0;
    /* and the examples' keys, last */
    if (ntf + nex > 0) {
        uint64_t *grown = realloc(hs.h, (size_t)(total + nex + ntf + nex) * sizeof *grown);
        if (!grown) {
            free(hs.h);
            return ERR_NOMEM;
        }
        hs.h = grown;
        memcpy(hs.h + total + nex + ntf, keys, (size_t)nex * sizeof *keys);
    }
    snprintf(f->id, sizeof f->id, "%s", kb_col(st, 0));
    f->quote = strcmp(kb_col(st, 1), "quote") == 0;
    f->block = hs.h ? hs.h : malloc(sizeof(uint64_t));
    if (!f->block)
        return ERR_NOMEM;
    f->nexamples = nex;
    f->example_at = f->block + total;
    f->example_key = f->block + total + nex + ntf;
    uint64_t *tf = f->block + total + nex;
    for (int i = 0; i < NFIELDS; i++) {
        f->stems[i] = f->block + start[i];
        for (int k = 0; k < f->n[i]; k++)
            f->sig[i][sig_word(f->stems[i][k])] |= sig_bit(f->stems[i][k]);
        for (int w = 0; w < SIG_WORDS; w++)
            f->sig_any[w] |= f->sig[i][w];
        if (f->n[i] >= TF_MIN) {
            f->tf[i] = tf;
            f->ntf[i] = count_stems(f->stems[i], f->n[i], tf);
            tf += 2 * f->ntf[i];
        }
    }
    return 0;
}

/* The cached stems of entry rowid, loading them on a miss; NULL if it is gone. */
static struct fwd *entry_stems(struct match *m, int64_t rowid)
{
    struct fwd *f = &m->cache[(uint64_t)rowid % CACHE_SLOTS];
    if (f->rowid == rowid)
        return f;
    free(f->block);
    memset(f, 0, sizeof *f);
    sqlite3_stmt *st = m->load_entry;
    sqlite3_bind_int64(st, 1, rowid);
    int rc = sqlite3_step(st) == SQLITE_ROW ? load_fwd(m, st, f) : ERR_NOTFOUND;
    sqlite3_reset(st);
    if (rc) {
        free(f->block);
        memset(f, 0, sizeof *f);
        return NULL;
    }
    f->rowid = rowid;
    return f;
}

/* ---- the resident knowledge base ---- */

static int contains(const uint64_t *hay, int n, const uint64_t *needle, int k);
static int stem_count(const uint64_t *tf, int n, uint64_t stem);

static void resident_free(struct resident *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->e[i].block);
    free(r->e);
    free(r->post);
    free(r->acc);
    free(r->gbest);
    free(r->touched);
    free(r->gtouched);
    free(r->ranked);
    free(r->wordings);
    memset(r, 0, sizeof *r);
}

static int by_stem(const void *a, const void *b)
{
    const struct posting *x = a, *y = b;
    if (x->stem != y->stem)
        return x->stem < y->stem ? -1 : 1;
    return (x->entry > y->entry) - (x->entry < y->entry);
}

/* The first of the n sorted postings p whose stem is not below stem (n: none). */
static size_t first_at(const struct posting *p, size_t n, uint64_t stem)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].stem < stem)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Reads every entry into r, its postings, and the fields' average lengths into the handle (what
 * planbot_rank() reads from FTS5 for BM25). */
static int resident_load(struct match *m, struct resident *r)
{
    sqlite3_stmt *st;
    int rc =
        kb_prepare(m->kb,
                   "SELECT id, kind, title, text, speaker, role, keywords, examples, n FROM entries"
                   " ORDER BY n",
                   &st);
    if (rc)
        return rc;
    int cap = 0, step;
    size_t pcap = 0;
    double total[NFIELDS] = { 0 };
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        if (r->n == cap) {
            cap = cap ? 2 * cap : 128;
            struct fwd *grown = realloc(r->e, (size_t)cap * sizeof *grown);
            if (!grown) {
                rc = ERR_NOMEM;
                break;
            }
            r->e = grown;
        }
        struct fwd *f = &r->e[r->n];
        memset(f, 0, sizeof *f);
        if ((rc = load_fwd(m, st, f)))
            break;
        f->rowid = sqlite3_column_int64(st, 2 + NFIELDS);
        int idx = r->n++;
        size_t ntok = 0;
        for (int i = 0; i < NFIELDS; i++) {
            ntok += (size_t)f->n[i];
            total[i] += f->n[i];
        }
        if (r->npost + ntok > pcap) {
            pcap = (r->npost + ntok) * 2;
            struct posting *grown = realloc(r->post, pcap * sizeof *grown);
            if (!grown) {
                rc = ERR_NOMEM;
                break;
            }
            r->post = grown;
        }
        for (int i = 0; i < NFIELDS; i++)
            for (int k = 0; k < f->n[i]; k++)
                r->post[r->npost++] = (struct posting){ f->stems[i][k], idx };
    }
    if (!rc && step != SQLITE_DONE)
        rc = kb_dbfail(m->kb, step, "reading the entries");
    sqlite3_finalize(st);
    if (rc)
        return rc;
    /* one posting per stem and entry */
    qsort(r->post, r->npost, sizeof *r->post, by_stem);
    size_t kept = 0;
    for (size_t i = 0; i < r->npost; i++)
        if (!kept || r->post[i].stem != r->post[kept - 1].stem ||
            r->post[i].entry != r->post[kept - 1].entry)
            r->post[kept++] = r->post[i];
    r->npost = kept;
    size_t n = r->n ? (size_t)r->n : 1;
    r->acc = calloc(n, sizeof *r->acc);
    r->gbest = calloc(n, sizeof *r->gbest);
    r->touched = malloc(n * sizeof *r->touched);
    r->gtouched = malloc(n * sizeof *r->gtouched);
    r->ranked = malloc(n * sizeof *r->ranked);
    if (!r->acc || !r->gbest || !r->touched || !r->gtouched || !r->ranked)
        return ERR_NOMEM;
    for (int i = 0; i < NFIELDS; i++)
        m->kb->fts_avglen[i] = r->n && total[i] > 0 ? total[i] / r->n : 1.0;
    /* the example questions' wordings, to find one a question repeats */
    size_t nw = 0;
    for (int i = 0; i < r->n; i++)
        nw += (size_t)r->e[i].nexamples;
    if (nw && !(r->wordings = malloc(nw * sizeof *r->wordings)))
        return ERR_NOMEM;
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < r->e[i].nexamples; k++)
            if (r->e[i].example_key[k])
                r->wordings[r->nwordings++] = (struct posting){ r->e[i].example_key[k], i };
    qsort(r->wordings, r->nwordings, sizeof *r->wordings, by_stem);
    return 0;
}

/* Whether one of f's example questions has the wording key. */
static int has_wording(const struct fwd *f, uint64_t key)
{
    for (int k = 0; k < f->nexamples; k++)
        if (f->example_key[k] == key)
            return 1;
    return 0;
}

/* The entry one of whose example questions has the question's wording key, word for word: a
 * wording a moderator taught it, or one it was written with. NULL when there is none, or when the
 * wording is an example of several entries (*several set: the matcher decides). Resident, every
 * entry is looked up; otherwise only the nc candidates retrieved (found), whose stems are loaded
 * anyway: an FTS5 phrase query over every entry's examples took 100 to 500 µs a question at
 * 100,000 entries, so there a taught wording whose entry is not retrieved is matched as any. */
static const struct fwd *taught(const struct match *m, uint64_t key, struct fwd *const *found,
                                int nc, int *several)
{
    *several = 0;
    if (!key)
        return NULL;
    const struct resident *r = &m->res;
    if (r->e) {
        size_t lo = first_at(r->wordings, r->nwordings, key);
        if (lo == r->nwordings || r->wordings[lo].stem != key)
            return NULL;
        for (size_t i = lo + 1; i < r->nwordings && r->wordings[i].stem == key; i++)
            if (r->wordings[i].entry != r->wordings[lo].entry)
                *several = 1;
        return *several ? NULL : &r->e[r->wordings[lo].entry];
    }
    const struct fwd *t = NULL;
    for (int i = 0; i < nc && !*several; i++)
        if (has_wording(found[i], key)) {
            *several = t != NULL;
            t = found[i];
        }
    return *several ? NULL : t;
}

/* The postings of stem: *n of them from the returned one. */
static const struct posting *postings(const struct resident *r, uint64_t stem, size_t *n)
{
    size_t lo = first_at(r->post, r->npost, stem);
    size_t end = lo;
    while (end < r->npost && r->post[end].stem == stem)
        end++;
    *n = end - lo;
    return r->post + lo;
}

/* Candidates ranked by planbot_rank (see rank_fn) descending, ties in rowid order. */
static int by_rank(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->entry > y->entry) - (x->entry < y->entry); /* entries are in rowid order */
}

/* Whether field fi of f holds phrase p: a one-word phrase is looked up in a long field's counts,
 * not scanned for. */
static int field_holds(const struct fwd *f, int fi, const struct phrase *p)
{
    if (!may_hold(f, fi, p->stems[0]))
        return 0;
    if (p->nstems == 1 && f->tf[fi])
        return stem_count(f->tf[fi], f->ntf[fi], p->stems[0]) > 0;
    return contains(f->stems[fi], f->n[fi], p->stems, p->nstems);
}

/* What the FTS5 retrieval query of the nrp phrases rp would return, computed from the resident
 * entries: every entry holding one of the phrases in a field, scored as planbot_rank() scores it
 * (per group the best weight times field weight, summed in group order), the best CANDIDATES.
 * Fills out and returns how many. */
static int resident_retrieve(struct match *m, const struct rank_phrase *rp, int nrp,
                             struct fwd **out)
{
    struct resident *r = &m->res;
    int nt = 0;
    for (int g = 0; g < MAX_GROUPS; g++) { /* in group order, as planbot_rank() adds them up */
        int ngt = 0;
        for (int i = 0; i < nrp; i++) {
            if (rp[i].group != g)
                continue;
            const struct phrase *p = rp[i].p;
            size_t n;
            const struct posting *post = postings(r, p->stems[0], &n);
            for (size_t j = 0; j < n; j++) {
                int e = post[j].entry;
                const struct fwd *f = &r->e[e];
                double best = 0;
                for (int fi = 0; fi < NFIELDS; fi++) {
                    double v = rp[i].weight * field_weight[fi];
                    if (v > best && field_holds(f, fi, p))
                        best = v;
                }
                if (best <= 0) /* its first stem, not the whole phrase */
                    continue;
                if (r->gbest[e] == 0)
                    r->gtouched[ngt++] = e;
                if (best > r->gbest[e])
                    r->gbest[e] = best;
            }
        }
        for (int k = 0; k < ngt; k++) {
            int e = r->gtouched[k];
            if (r->acc[e] == 0)
                r->touched[nt++] = e;
            r->acc[e] += r->gbest[e];
            r->gbest[e] = 0;
        }
    }
    /* the best CANDIDATES, in order: each entry goes into its place among them, if it has one */
    int kept = 0;
    for (int k = 0; k < nt; k++) {
        struct ranked x = { r->acc[r->touched[k]], r->touched[k] };
        r->acc[r->touched[k]] = 0;
        if (kept == CANDIDATES && by_rank(&x, &r->ranked[kept - 1]) >= 0)
            continue;
        int at = kept < CANDIDATES ? kept++ : kept - 1;
        for (; at > 0 && by_rank(&x, &r->ranked[at - 1]) < 0; at--)
            r->ranked[at] = r->ranked[at - 1];
        r->ranked[at] = x;
    }
    for (int k = 0; k < kept; k++)
        out[k] = &r->e[r->ranked[k].entry];
    return kept;
}

/* planbot_rank(entries_fts, phrases): the FTS5 ranking function of retrieval. It scores a row the
 * way score() does, from which fields each question word occurs in, so retrieval and scoring
 * agree; unlike bm25() it reads no per-row column sizes, which made ranking thousands of rows of
 * a large knowledge base the slowest step. */
static void rank_fn(const Fts5ExtensionApi *api, Fts5Context *fts, sqlite3_context *ctx, int nval,
                    sqlite3_value **val)
{
    if (nval != 1 || sqlite3_value_type(val[0]) != SQLITE_BLOB) {
        sqlite3_result_error(ctx, "planbot_rank: wrong arguments", -1);
        return;
    }
    const struct rank_phrase *rp = sqlite3_value_blob(val[0]);
    int n = sqlite3_value_bytes(val[0]) / (int)sizeof *rp;
    int np = api->xPhraseCount(fts);
    struct kb *kb = api->xUserData(fts);
    if (kb->fts_avglen[0] <= 0) {
        /* the columns' average lengths, for BM25 in score(): cheap, one record for all rows */
        sqlite3_int64 rows = 0, total = 0;
        api->xRowCount(fts, &rows);
        for (int col = 0; col < NFIELDS && rows > 0; col++)
            if (api->xColumnTotalSize(fts, col, &total) == SQLITE_OK)
                kb->fts_avglen[col] = total > 0 ? (double)total / (double)rows : 1.0;
    }
    double best[MAX_GROUPS] = { 0 };
    for (int i = 0; i < np && i < n; i++) {
        if (rp[i].group < 0 || rp[i].group >= MAX_GROUPS)
            continue;
        Fts5PhraseIter it;
        int col;
        for (api->xPhraseFirstColumn(fts, i, &it, &col); col >= 0;
             api->xPhraseNextColumn(fts, &it, &col)) {
            double v = col < NFIELDS ? rp[i].weight * field_weight[col] : 0;
            if (v > best[rp[i].group])
                best[rp[i].group] = v;
        }
    }
    double score = 0;
    for (int g = 0; g < MAX_GROUPS; g++)
        score += best[g];
    sqlite3_result_double(ctx, score);
}

int match_open(struct match **out, struct kb *kb)
{
    *out = NULL;
    struct match *m = calloc(1, sizeof *m);
    if (!m)
        return ERR_NOMEM;
    m->kb = kb;
    m->resident_max = MATCH_RESIDENT_MAX;
    buf_init(&m->clean, 2 * MATCH_MAX_QUESTION + 64);
    buf_init(&m->query, 64 * 1024);
    buf_init(&m->wording, 2 * MATCH_MAX_QUESTION + 64);
    fts5_api *api;
    int rc;
    if ((rc = fts5_api_of(kb->db, &api))) {
        kb_fail(kb, rc, "SQLite was built without FTS5");
        goto err;
    }
    if ((rc = open_tokenizer(api, "porter", &m->porter)) ||
        (rc = open_tokenizer(api, "unicode61", &m->plain))) {
        kb_fail(kb, rc, "cannot create the FTS5 tokenizers");
        goto err;
    }
    if ((rc = memo_new(&m->stems_memo, STEMS_MEMO_MAX))) {
        kb_fail(kb, rc, "out of memory");
        goto err;
    }
    static const struct {
        const char *const *words;
        size_t n;
        unsigned char kind;
    } times[] = {
        { time_days, sizeof time_days / sizeof *time_days, FACT_TIME | FACT_POINT | FACT_DAY },
        { time_months, sizeof time_months / sizeof *time_months,
          FACT_TIME | FACT_POINT | FACT_MONTH },
        { time_points, sizeof time_points / sizeof *time_points, FACT_TIME | FACT_POINT },
        { time_spans, sizeof time_spans / sizeof *time_spans, FACT_TIME | FACT_SPAN },
    };
    for (size_t t = 0; t < sizeof times / sizeof *times; t++)
        for (size_t i = 0; i < times[t].n; i++) {
            char stem[MAX_TOKEN];
            if (m->ntime < (int)(sizeof m->time_stems / sizeof *m->time_stems) &&
                !stem_word(m, times[t].words[i], stem, sizeof stem)) {
                m->time_kind[m->ntime] = times[t].kind;
                m->time_stems[m->ntime++] = hash(stem, strlen(stem));
            }
        }
    stems_of(m, now_words, sizeof now_words / sizeof *now_words, &m->now_stems);
    stems_of(m, if_words, sizeof if_words / sizeof *if_words, &m->if_stems);
    stems_of(m, become_words, sizeof become_words / sizeof *become_words, &m->become_stems);
    const struct stems *sets[] = { &m->now_stems, &m->if_stems, &m->become_stems };
    for (int i = 0; i < m->ntime; i++)
        m->fact_sig[sig_word(m->time_stems[i])] |= sig_bit(m->time_stems[i]);
    for (size_t k = 0; k < sizeof sets / sizeof *sets; k++)
        for (int i = 0; i < sets[k]->n; i++)
            m->fact_sig[sig_word(sets[k]->h[i])] |= sig_bit(sets[k]->h[i]);
    if (api->xCreateFunction(api, "planbot_rank", kb, rank_fn, NULL) != SQLITE_OK) {
        rc = kb_fail(kb, ERR_DB, "cannot register the ranking function");
        goto err;
    }
    if ((rc = kb_prepare(kb,
                         "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?1"
                         " ORDER BY planbot_rank(entries_fts, ?2) DESC LIMIT ?3",
                         &m->retrieve)) ||
        (rc = kb_prepare(kb,
                         "SELECT id, kind, title, text, speaker, role, keywords, examples"
                         " FROM entries WHERE n = ?",
                         &m->load_entry)) ||
        (rc = kb_prepare(kb,
                         "SELECT id, 'source', title, '', authors, publisher, '', contributors"
                         " FROM sources ORDER BY"
                         " (SELECT count(*) FROM entries WHERE source = sources.id) DESC, rowid"
                         " LIMIT 1",
                         &m->cited)) ||
        (rc = kb_prepare(kb, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?",
                         &m->phrase_count)))
        goto err;
    *out = m;
    return 0;
err:
    match_close(m);
    return rc;
}

void match_close(struct match *m)
{
    if (!m)
        return;
    clear_cache(m);
    resident_free(&m->res);
    free_rules(m);
    party_set_free(m->parties);
    free(m->party_names);
    vocab_free(m->vocab);
    vocab_free(m->words_vocab);
    vocab_free(m->speaker_words);
    sqlite3_finalize(m->retrieve);
    sqlite3_finalize(m->load_entry);
    sqlite3_finalize(m->cited);
    sqlite3_finalize(m->phrase_count);
    free(m->source.block);
    free(m->qw);
    buf_free(&m->clean);
    buf_free(&m->query);
    buf_free(&m->wording);
    if (m->porter.inst)
        m->porter.api.xDelete(m->porter.inst);
    if (m->plain.inst)
        m->plain.api.xDelete(m->plain.inst);
    memo_free(m->stems_memo);
    free(m);
}

/* ---- from question to groups ---- */

static double idf(double n, double df)
{
    return log(1.0 + (n - df + 0.5) / (df + 0.5));
}

static int all_digits(const char *s)
{
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* The longest synonym rule whose term starts at stem i of the question, or NULL. */
static const struct rule *rule_at(const struct match *m, const uint64_t *stems, int n, int i)
{
    if (!m->rule_order)
        return NULL;
    /* the rules whose term starts with stems[i], in their order (the first longest wins) */
    int lo = 0, hi = m->nrules;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (m->rules[m->rule_order[mid]].term[0] < stems[i])
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct rule *best = NULL;
    for (int r = lo; r < m->nrules && m->rules[m->rule_order[r]].term[0] == stems[i]; r++) {
        const struct rule *ru = &m->rules[m->rule_order[r]];
        if (ru->nterm > n - i || (best && ru->nterm <= best->nterm))
            continue;
        if (memcmp(ru->term, stems + i, (size_t)ru->nterm * sizeof *stems) == 0)
            best = ru;
    }
    return best;
}

static void add_phrase(struct group *g, const struct phrase *p)
{
    for (int i = 0; i < g->nphrases; i++)
        if (g->phrases[i].nstems == p->nstems &&
            memcmp(g->phrases[i].stems, p->stems, (size_t)p->nstems * sizeof *p->stems) == 0)
            return;
    if (g->nphrases < MAX_PHRASES)
        g->phrases[g->nphrases++] = *p;
}

/* What kind of answer the question asks for, beyond its topic. */
struct intent {
    int say;      /* what someone said: quotes first */
    int quantity; /* how many, how big, how soon: entries that state a number first */
    int count;    /* how many: an entry that states no number cannot answer */
    int when;     /* when, what year, how long: an entry that states no time cannot answer */
    int past;     /* when did, when was: ... nor one that states only a span ("within 100 days") */
    int span;     /* how long, when will, the next: ... nor one that states only a point ("in
                     August"): a duration or a deadline answers */
    int now;      /* right now, currently, "is it still": an entry that states nothing of how
                     things stand ("still", "currently", "remains") cannot answer */
    int source;   /* who wrote it, who published it: the source's record may answer */
    int conditional; /* "what happens if", "what if": what follows if something happens; an
                        entry that states no condition ("if", "or else") cannot answer */
    int day;         /* what day, which date, the exact date: ... nor one that states no day (a
                        weekday, a day of a month) */
    int become;      /* a person's past, "before he became", "when did she become": an entry that
                        states no one became anything cannot answer */
    int who_at;      /* "what did X say", "X's take": where X is in the question (-1: nowhere) */
    int who_said;    /* "who said ...": asks who, so no speaker the question names is the one */
    int about_at;    /* "what did X say about Y": where "about" is (-1: nowhere); Y must be held */
    int checks;      /* checks a claim ("is it true that...", "..., accurate?", "heard X, legit?"):
                        its details may be wrong, and the entry that corrects them answers */
};

/* Words that ask whether a claim holds ("accurate?", "legit or just spin?", "heard that..."), or
 * "fact check", "sanity check". Sorted. */
static const char *const check_words[] = { "accurate", "correct", "exaggerated", "heard",
                                           "hype",     "legit",   "overblown",   "rumor",
                                           "rumors",   "rumour",  "rumours",     "spin",
                                           "true",     "untrue" };

/* Words that ask about the source itself: its authors, publisher, publication. Sorted. */
static const char *const source_cues[] = {
    "author",       "authors",      "byline",      "bylines",      "contribute", "contributed",
    "contributes",  "contributing", "contributor", "contributors", "headline",   "journalist",
    "journalists",  "media",        "medium",      "network",      "newspaper",  "org",
    "organisation", "organization", "outlet",      "outlets",      "paper",      "penned",
    "pub",          "publication",  "publish",     "published",    "publisher",  "publishes",
    "publishing",   "reported",     "reporter",    "reporters",    "reporting",  "website",
    "write",        "writer",       "writers",     "written",      "wrote"
};

/* Nouns that name the source document itself ("the CNN piece", "this story"). Sorted. */
static const char *const document_nouns[] = { "article", "articles", "coverage", "piece",  "report",
                                              "scoop",   "stories",  "story",    "writeup" };

/* Words that, after a document noun, say that it was published ("when did the story come
 * out", "the day the piece ran"). Sorted. */
static const char *const published_words[] = { "appeared", "dropped",  "out",
                                               "ran",      "released", "run" };

/* Words of helping to write it ("did other reporters help out with the article", "the
 * reporters behind this piece"): they ask about the source's writers and contributors when a
 * cue asks about the source. Sorted. */
static const char *const helped_words[] = { "behind", "help", "helped", "helping", "worked" };

/* Whether w is in list, a sorted array of n strings. A binary search that compares first bytes
 * before calling strcmp(): most words of a question are in none of the lists, and bsearch() paid a
 * call of its comparison and of strcmp() at every step (a question asks ~30 lists of each word). */
static int in_sorted(const char *const *list, size_t n, const char *w)
{
    const unsigned char first = (unsigned char)w[0];
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = (int)(unsigned char)list[mid][0] - (int)first;
        if (c == 0)
            c = strcmp(list[mid], w);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

#define IN_SORTED(list, w) in_sorted(list, sizeof list / sizeof *list, w)

/* Where the document noun nearest before word i is, within a few words ("this CNN story on
 * the peace plan came out"); -1 when there is none. */
static int document_at(const struct tokens *words, int i)
{
    for (int j = i - 1; j >= 0 && j >= i - 7; j--)
        if (IN_SORTED(document_nouns, words->t[j].text))
            return j;
    return -1;
}

/* Whether this document follows word i ("ran this article", "published the piece"; not "ran
 * that report", another one). */
static int document_follows(const struct tokens *words, int i)
{
    int j = i + 1;
    if (j < words->n &&
        (strcmp(words->t[j].text, "this") == 0 || strcmp(words->t[j].text, "the") == 0))
        j++;
    return j < words->n && IN_SORTED(document_nouns, words->t[j].text);
}

static int is_source_cue(const char *w)
{
    return IN_SORTED(source_cues, w);
}

/* Auxiliary verbs after "when" that ask when something happened, or will. Sorted. */
static const char *const past_aux[] = { "did", "had", "has", "was", "were" };
static const char *const future_aux[] = { "shall", "will", "would" };

/* Whether words[i] asks how things stand now: "currently", "right now", "as of now", "at the
 * moment" ("rn", "atm"), "these days", "anymore", "today"; "still" and "yet" only after a verb in
 * the present ("is the ceasefire still holding", "does Ukraine still hold", "has he signed it
 * yet"). None of them after "why" (a reason for the timing), a modal or a condition ("would
 * Ukraine still get guarantees", "how big can the army be right now", "if Russia still attacks",
 * "Ukraine has to leave what it still holds"), where they say "even so" or "as things would be".
 * A quote by the one the question names answers it as it stands: what they said then is the
 * latest the knowledge base holds. */
static int asks_now(const struct tokens *words, int i)
{
    static const char *const triggers[] = { "anymore", "atm",   "currently", "days",
                                            "moment",  "now",   "nowadays",  "presently",
                                            "rn",      "still", "today",     "yet" }; /* sorted */
    /* as the tokenizer splits them: "aren't" is "aren" and "t" */
    static const char *const present[] = { "am",  "are", "aren", "do", "does", "doesn",
                                           "don", "has", "have", "is", "isn" };
    static const char *const modal[] = { "after", "can",  "could", "gonna", "if",
                                         "might", "must", "once",  "shall", "should",
                                         "when",  "will", "would" };
    static const char *const before_to[] = {
        "got", "had", "has", "have", "need", "needs", "ought"
    }; /* "has to": a modal too */
    const char *w = words->t[i].text;
    const char *prev = i > 0 ? words->t[i - 1].text : "",
               *prev2 = i > 1 ? words->t[i - 2].text : "";
    if (!IN_SORTED(triggers, w))
        return 0;
    int tense = 0;
    for (int k = 0; k < i; k++) {
        const char *x = words->t[k].text;
        if (strcmp(x, "why") == 0 || IN_SORTED(modal, x) ||
            (IN_SORTED(before_to, x) && strcmp(words->t[k + 1].text, "to") == 0))
            return 0; /* "why now" asks a reason; "how big can the army be right now" */
        tense |= IN_SORTED(present, x);
    }
    if (strcmp(w, "currently") == 0 || strcmp(w, "rn") == 0 || strcmp(w, "atm") == 0 ||
        strcmp(w, "presently") == 0 || strcmp(w, "nowadays") == 0 || strcmp(w, "anymore") == 0)
        return 1;
    if (strcmp(w, "now") == 0)
        return strcmp(prev, "right") == 0 || (strcmp(prev, "of") == 0 && strcmp(prev2, "as") == 0);
    if (strcmp(w, "moment") == 0)
        return strcmp(prev, "the") == 0 && strcmp(prev2, "at") == 0;
    if (strcmp(w, "days") == 0)
        return strcmp(prev, "these") == 0;
    if (strcmp(w, "today") == 0)
        return strcmp(prev, "said") != 0 &&
               strcmp(prev, "say") != 0; /* not "what did he say today" */
    return (strcmp(w, "still") == 0 || strcmp(w, "yet") == 0) && tense;
}

/* Whether "when" at words[i] opens a clause before the question ("when Zelensky met the
 * general, did he agree to work on it"): a subject follows it, not an auxiliary, and a question
 * starts later with one. "When does it start" and "when Zelensky met Driscoll?" ask when. */
static int when_clause(const struct tokens *words, int i)
{
    static const char *const aux[] = { "are",    "can", "could", "did",  "do",   "does",
                                       "had",    "has", "have",  "is",   "must", "shall",
                                       "should", "was", "were",  "will", "would" }; /* sorted */
    if (i + 1 >= words->n || in_sorted(aux, sizeof aux / sizeof *aux, words->t[i + 1].text))
        return 0;
    for (int k = i + 3; k < words->n; k++)
        if (in_sorted(aux, sizeof aux / sizeof *aux, words->t[k].text) && k + 1 < words->n &&
            !in_sorted(aux, sizeof aux / sizeof *aux, words->t[k - 1].text))
            return 1;
    return 0;
}

/* Whether a word (after prev) asks when: "when", "what year", "which day", "how long". */
/* Words that name a time to keep ("what's the timeline"): they ask for a time by themselves.
 * Sorted. */
static const char *const time_names[] = { "deadline", "schedule", "timeframe", "timeline",
                                          "timetable" };

static int is_when(const char *w, const char *prev)
{
    static const char *const after_what[] = { "date", "day", "month", "time", "week", "year" };
    if (strcmp(w, "when") == 0 || IN_SORTED(time_names, w))
        return 1;
    if (strcmp(prev, "how") == 0)
        return strcmp(w, "long") == 0 || strcmp(w, "soon") == 0;
    for (size_t i = 0; (strcmp(prev, "what") == 0 || strcmp(prev, "which") == 0) &&
                       i < sizeof after_what / sizeof *after_what;
         i++)
        if (strcmp(w, after_what[i]) == 0)
            return 1;
    return 0;
}

/* One question word after folding, stemming and typo correction. */
struct qword {
    int pos; /* position in the question, counting every word */
    char word[MAX_TOKEN];
    char stem[MAX_TOKEN];
    uint64_t hash;
    enum norm_class cls;
    int corrected;
    int proper;  /* capitalised inside a sentence that is not all capitals: a name */
    int context; /* a word of the question before (match_ask_after) */
    int aside; /* in a clause beside the one that asks ("prepping a brief for the team, ..."): 1, or
                  2 when the clause speaks of the asker ("my", "I", "we"), or 3 in a sentence
                  before the one that asks (the asker's context) */
    int stance; /* a verb of taking a stand, asking what the one quoted said (stance_verbs) */
};

/* Words that ask for news of what follows them, before one of news_after ("any update on the
 * Donbas", "the latest on Crimea", "the situation in Kherson"): no topic of their own. Sorted. */
static const char *const news_words[] = { "latest",    "lowdown", "rundown", "scoop",
                                          "situation", "status",  "update",  "updates" };
static const char *const news_after[] = { "about", "from", "in", "on", "re", "regarding", "with" };

/* Whether the words before word i open a question with "what's" ("what's the deal with",
 * "whats up with"): then the idiom's words name no topic. */
static int idiom_opens(const struct tokens *w, int i)
{
    int k = i - 1;
    if (k >= 0 && strcmp(w->t[k].text, "the") == 0)
        k--;
    if (k >= 1 && strcmp(w->t[k].text, "s") == 0 && strcmp(w->t[k - 1].text, "what") == 0)
        return 1;
    return k >= 0 && strcmp(w->t[k].text, "whats") == 0;
}

/* Whether w is an English adverb made of an English adjective by "-ly" ("entirely", "totally",
 * "basically", "happily"): it says how, not what about. Nouns in "-ly" ("family", "assembly",
 * "supply") have no such adjective before it. */
static int derived_adverb(const char *w)
{
    size_t n = strlen(w);
    if (n < 6 || n >= MAX_TOKEN || strcmp(w + n - 2, "ly") != 0 || !english_is_word(w))
        return 0;
    char base[MAX_TOKEN];
    size_t cut[] = { 2, 4, 3 }; /* entire-ly, basic-ally, happ-ily (+ "y") */
    for (size_t i = 0; i < sizeof cut / sizeof *cut; i++) {
        size_t len = n - cut[i];
        if (len < 4 || (cut[i] == 4 && strcmp(w + len, "ally") != 0) ||
            (cut[i] == 3 && strcmp(w + len, "ily") != 0))
            continue;
        memcpy(base, w, len);
        if (cut[i] == 3)
            base[len++] = 'y';
        base[len] = '\0';
        if (english_is_word(base))
            return 1;
    }
    return 0;
}

/* Whether word w (not English) is one edit (a letter left out, added, changed, or two swapped)
 * from a word that names no topic: a stop or common word ("teh", "waht", "abotu") or an adverb
 * in -ly ("physicaly"). Returns the class of that word (NORM_STOP, NORM_WEAK), else
 * NORM_CONTENT. */
static enum norm_class typo_of_filler(const char *w)
{
    enum { LONGEST = 12 }; /* the longest filler words, and the adverbs in -ly people misspell */
    size_t n = strlen(w);
    if (n < 3 || n > LONGEST)
        return NORM_CONTENT;
    char c[LONGEST + 2];
    enum norm_class best = NORM_CONTENT;
    /* op 0: delete at i; 1: swap i and i+1; 2: change i; 3: insert before i */
    for (int op = 0; op < 4; op++)
        for (size_t i = 0; i <= n; i++)
            for (char ch = 'a'; ch <= (op >= 2 ? 'z' : 'a'); ch++) {
                size_t len = 0;
                if ((op < 3 && i == n) || (op == 1 && i + 1 == n) || (op == 2 && w[i] == ch))
                    continue;
                for (size_t k = 0; k < n; k++) {
                    if (k == i && op == 3)
                        c[len++] = ch;
                    if (k == i && op == 0)
                        continue;
                    c[len++] = k == i && op == 2       ? ch
                               : k == i && op == 1     ? w[i + 1]
                               : k == i + 1 && op == 1 ? w[i]
                                                       : w[k];
                }
                if (op == 3 && i == n)
                    c[len++] = ch;
                c[len] = '\0';
                if (len < 3)
                    continue;
                enum norm_class cls = norm_class(c);
                if (cls == NORM_STOP)
                    return NORM_STOP;
                if (cls == NORM_WEAK || derived_adverb(c))
                    best = NORM_WEAK;
            }
    return best;
}

/* Whether a word (after prev) asks for a quantity: "how many", "how soon", "maximum". */
static int is_quantity(const char *w, const char *prev)
{
    static const char *const after_how[] = { "big",   "broad", "close", "deep", "far",  "heavy",
                                             "high",  "large", "long",  "many", "much", "old",
                                             "small", "soon",  "tall",  "wide" };
    static const char *const alone[] = { "amount", "max",     "maximum", "minimum",
                                         "number", "numbers", "size",    "total" };
    for (size_t i = 0; strcmp(prev, "how") == 0 && i < sizeof after_how / sizeof *after_how; i++)
        if (strcmp(w, after_how[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof alone / sizeof *alone; i++)
        if (strcmp(w, alone[i]) == 0)
            return 1;
    return 0;
}

/* Whether the question's word w is a number, in digits ("500", "500k", "1m") or in words
 * ("million", "six"). */
static int question_number(const char *w)
{
    static const char *const words[] = {
        "billion",  "dozen",     "eight", "eighty",  "eleven",   "fifteen", "fifty",    "five",
        "forty",    "four",      "half",  "hundred", "hundreds", "million", "millions", "nine",
        "ninety",   "one",       "seven", "seventy", "six",      "sixty",   "ten",      "thirty",
        "thousand", "thousands", "three", "twelve",  "twenty",   "two"
    }; /* sorted */
    size_t digits = strspn(w, "0123456789");
    if (digits && (!w[digits] || ((w[digits] == 'k' || w[digits] == 'm') && !w[digits + 1])))
        return 1;
    return in_sorted(words, sizeof words / sizeof *words, w);
}

/* Marks the words of a comparison with a number the asker offers ("more or less than a million",
 * "longer than six months", "over 500k"): they say what the answer is measured against, not
 * what it is about, and ask for a number. Returns whether there was one. */
static int mark_comparisons(const struct tokens *words, int n, unsigned char *compared)
{
    static const char *const comparatives[] = {
        "above",  "bigger", "below", "fewer", "greater", "higher",  "larger", "less",
        "longer", "lower",  "more",  "over",  "shorter", "smaller", "under"
    }; /* sorted */
    static const char *const about[] = { "a",      "about", "an",     "approximately",
                                         "around", "like",  "roughly" }; /* sorted */
#define CMP_IS(list, i) ((i) < n && in_sorted(list, sizeof list / sizeof *list, words->t[i].text))
    int any = 0;
    memset(compared, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        if (!CMP_IS(comparatives, i))
            continue;
        int j = i + 1;
        if (j + 1 < n && strcmp(words->t[j].text, "or") == 0 && CMP_IS(comparatives, j + 1))
            j += 2; /* "more or less than", "longer or shorter than" */
        int than = j < n && strcmp(words->t[j].text, "than") == 0;
        if (than)
            j++;
        while (CMP_IS(about, j))
            j++;
        int k = j;
        while (k < n && question_number(words->t[k].text))
            k++;
        /* "over 500k", "under six months"; but "than" is needed after a word that is not only a
         * comparative ("more ... than"), and a number must follow */
        if (k == j ||
            (!than && strcmp(words->t[i].text, "over") != 0 &&
             strcmp(words->t[i].text, "under") != 0 && strcmp(words->t[i].text, "above") != 0 &&
             strcmp(words->t[i].text, "below") != 0))
            continue;
        for (int x = i; x < k; x++)
            compared[x] = 1;
        any = 1;
        i = k - 1;
    }
#undef CMP_IS
    return any;
}

/* The porter stem of one word into out; 0 or an error. */
static int stem_word(struct match *m, const char *word, char *out, size_t len)
{
    struct tokens one; /* only the first entries are touched */
    one.n = 0;
    int rc = m->porter.api.xTokenize(m->porter.inst, &one, FTS5_TOKENIZE_DOCUMENT, word,
                                     (int)strlen(word), collect_first);
    if (rc != SQLITE_OK || one.n != 1 || !one.t[0].text[0])
        return ERR_INVAL;
    snprintf(out, len, "%s", one.t[0].text);
    return 0;
}

/* The stems of n words into set (at most its room; a word that does not stem is left out). */
static void stems_of(struct match *m, const char *const *words, size_t n, struct stems *set)
{
    set->n = 0;
    for (size_t i = 0; i < n && set->n < (int)(sizeof set->h / sizeof *set->h); i++) {
        char stem[MAX_TOKEN];
        if (!stem_word(m, words[i], stem, sizeof stem))
            set->h[set->n++] = hash(stem, strlen(stem));
    }
}

/* Verbs of saying, sorted: "Putin said", "did Rubio comment". A noun of saying names who said it
 * only after a possessive ("Leavitt's take"); before it, a word is the topic ("the Groundhog
 * Day comment"). */
static const char *const say_verbs[] = {
    "argue",        "argued",        "argues",       "arguing",       "believe",    "believes",
    "characterise", "characterised", "characterize", "characterized", "chime",      "chimed",
    "claim",        "claimed",       "claiming",     "commented",     "commenting", "describe",
    "described",    "describing",    "feel",         "feels",         "posted",     "react",
    "reacted",      "reacting",      "reacts",       "respond",       "responded",  "responding",
    "responds",     "said",          "say",          "saying",        "says",       "speak",
    "speaking",     "speaks",        "spoke",        "tell",          "tells",      "think",
    "thinks",       "thought",       "told",         "tweet",         "tweeted",    "tweeting",
    "warn",         "warned",        "weigh",        "weighed",       "wrote",
};

/* Nouns that are of saying only after a possessive, sorted: "Rubio's line", "Kallas's verdict"
 * ask what they said; elsewhere they are topics ("the line of contact"). */
static const char *const say_after_possessive[] = { "angle",   "assessment", "line",
                                                    "message", "spin",       "verdict" };

/* Whether word i is a noun of saying after "X's" (a topical word, then the possessive). */
static int say_noun_after_possessive(const struct tokens *w, int i)
{
    return i >= 2 && IN_SORTED(say_after_possessive, w->t[i].text) &&
           strcmp(w->t[i - 1].text, "s") == 0 && norm_class(w->t[i - 2].text) == NORM_CONTENT;
}

/* Forms of "to be", the other auxiliaries, and participles of saying, sorted: "was Moscow
 * told", "was anyone in Europe warned" are passive, about who was told; "is Zelensky saying"
 * and "what has Rubio said" are not. */
static const char *const be_forms[] = { "am", "are", "be", "been", "being", "is", "was", "were" };
static const char *const auxiliaries[] = { "did", "do", "does", "had", "has", "have" };
static const char *const say_participles[] = { "described", "informed", "quoted",
                                               "said",      "told",     "warned" };

/* Words for a text, sorted: "what does the draft say" asks what it states, not who said it. */
static const char *const text_words[] = {
    "accord",   "agreement", "article",    "clause", "clauses", "deal",  "document",
    "draft",    "framework", "memo",       "paper",  "plan",    "point", "points",
    "proposal", "provision", "provisions", "report", "section", "text",  "treaty",
};

/* Whether the participle of saying at i is passive: a form of "to be" comes before it, and no
 * other auxiliary does. */
static int passive_at(const struct tokens *w, int i)
{
    if (i >= w->n || !IN_SORTED(say_participles, w->t[i].text))
        return 0;
    int be = 0;
    for (int j = 0; j < i; j++) {
        if (IN_SORTED(auxiliaries, w->t[j].text))
            return 0;
        be |= IN_SORTED(be_forms, w->t[j].text);
    }
    return be;
}

/* Whether word i is "speak" (or a form) before "with" or "to": "will Zelensky speak with Trump"
 * asks about a meeting, not what he said. */
static int speaks_with(const struct tokens *w, int i)
{
    const char *v = w->t[i].text, *next = i + 1 < w->n ? w->t[i + 1].text : "";
    return (strncmp(v, "speak", 5) == 0 || strcmp(v, "spoke") == 0 || strcmp(v, "spoken") == 0) &&
           (strcmp(next, "with") == 0 || strcmp(next, "to") == 0);
}

/* Whether word i of the question comes right before a word of saying that makes it the one who
 * said it ("what did Putin say", "Leavitt's take"). */
static int names_who(const struct tokens *w, int i)
{
    static const char *const selves[] = { "herself", "himself", "themselves" }; /* sorted */
    int k = i + 1; /* "what did Putin himself say": Putin, whose own words are asked for */
    if (k + 1 < w->n && IN_SORTED(selves, w->t[k].text))
        k++;
    if (k >= w->n)
        return 0;
    const char *next = w->t[k].text;
    int before_say = strcmp(next, "s") == 0 /* the possessive */
                         ? k + 1 < w->n && (norm_class(w->t[k + 1].text) == NORM_SAY ||
                                            say_noun_after_possessive(w, k + 1))
                         : IN_SORTED(say_verbs, next) && !passive_at(w, k) && /* "was X told" */
                               !speaks_with(w, k);
    return before_say && norm_class(w->t[i].text) == NORM_CONTENT &&
           !IN_SORTED(text_words, w->t[i].text);
}

/* Words after a word of saying that introduce what it was about. Sorted. */
static const char *const about_words[] = { "about", "on", "over", "regarding" };

/* After "how", the words that ask for a number, sorted: a size, an age, a distance. */
static const char *const how_count[] = { "big",   "broad", "close", "deep", "far",
                                         "heavy", "high",  "large", "many", "much",
                                         "old",   "small", "tall",  "wide" };

/* Short words a full stop follows inside a sentence ("Mr. Witkoff", "St. Petersburg"). Sorted. */
static const char *const abbreviations[] = { "co",  "col", "dr",  "gen", "gov", "inc", "jr",
                                             "lt",  "ltd", "mr",  "mrs", "ms",  "mt",  "rep",
                                             "rev", "sen", "sgt", "sr",  "st",  "vs" };

/* Whether a full stop after word (folded; before: its length as typed) ends a sentence: not
 * after a single letter ("U.S.", "p.m.") or an abbreviation, but after "out" or "war". */
static int full_stop_ends(const char *word, size_t before)
{
    return before >= 4 || (before >= 2 && !IN_SORTED(abbreviations, word));
}

/* Whether the bytes between two words end a sentence: a question or exclamation mark, or a
 * full stop after a word that is no abbreviation (word: the one the bytes follow). */
static int sentence_end(const char *s, size_t n, const char *word, size_t before)
{
    int stop = full_stop_ends(word, before);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '?' || s[i] == '!' || (s[i] == '.' && stop))
            return 1;
    return 0;
}

/* Whether the bytes between two words end a clause: a comma, colon, semicolon, a dash between
 * spaces or a long dash, a bracket, or the end of a sentence. */
static int clause_break(const char *s, size_t n, const char *word, size_t before)
{
    int stop = full_stop_ends(word, before);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((strchr(",;:?!()", c) && c) || (c == '.' && stop))
            return 1;
        if (c == '-' && i > 0 && s[i - 1] == ' ' && i + 1 < n && s[i + 1] == ' ')
            return 1;
        if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] == 0x93 || (unsigned char)s[i + 2] == 0x94))
            return 1; /* an en or em dash */
    }
    return 0;
}

/* Marks the words of clauses that ask nothing when another clause asks (asks: its first word
 * past fillers opens a question, or a question mark ends it): "prepping a brief for the team
 * and i need the bit about donetsk — do ukrainian forces have to pull out". Their words the
 * knowledge base lacks are the asker's own business, not what is asked (aside 1). When the
 * clause speaks of the asker ("my", "I", "we": aside 2), an entry is not measured by its words
 * either: score() leaves those an entry lacks out of its coverage. A clause that reports
 * someone else's claim ("he says the plan lets Ukraine keep nuclear weapons") keeps them: it is
 * what is asked about, unless it is a sentence of its own before the question: then it is the
 * asker's context (aside 3: an entry loses only part of its words it lacks). */
static void mark_asides(const struct tokens *words, const char *text, size_t len, int n, int *aside,
                        int *sentence_of, int *clause_of)
{
    static const char *const opens[] = {
        "am",  "any",  "are",   "aren",  "can",   "could", "couldn", "did",    "didn",
        "do",  "does", "doesn", "don",   "had",   "has",   "hasn",   "have",   "haven",
        "how", "is",   "isn",   "may",   "might", "must",  "shall",  "should", "shouldn",
        "was", "wasn", "were",  "weren", "what",  "whats", "when",   "where",  "which",
        "who", "whom", "whose", "why",   "will",  "won",   "would",  "wouldn"
    }; /* sorted */
    static const char *const fillers[] = { "also", "and",  "but", "hey",  "like", "ok",  "okay",
                                           "so",   "then", "um",  "wait", "well", "yeah" };
    static const char *const mine[] = { "i",  "id",     "im",  "ive",  "lemme", "me",
                                        "my", "myself", "our", "ours", "us",    "we" }; /* sorted */
    int sentence[MAX_TOKENS], ns = 0;
    int clause[MAX_TOKENS], asks[MAX_TOKENS] = { 0 }, own[MAX_TOKENS] = { 0 }, nc = 0, first = 1,
                            any = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0) {
            /* the bytes between the words as typed (a word's text is folded: "é" is "e") */
            size_t from = (size_t)words->t[i - 1].end, to = (size_t)words->t[i].start;
            size_t before = (size_t)(words->t[i - 1].end - words->t[i - 1].start);
            const char *prev = words->t[i - 1].text;
            if (from < to && to <= len && clause_break(text + from, to - from, prev, before)) {
                nc++, first = 1;
                ns += sentence_end(text + from, to - from, prev, before);
            }
        }
        clause[i] = nc;
        sentence[i] = ns;
        const char *w = words->t[i].text;
        if (in_sorted(mine, sizeof mine / sizeof *mine, w))
            own[nc] = 1;
        if (first && !in_sorted(fillers, sizeof fillers / sizeof *fillers, w)) {
            first = 0;
            asks[nc] |= in_sorted(opens, sizeof opens / sizeof *opens, w);
        }
        for (size_t b = (size_t)words->t[i].end;
             b < len && (i + 1 >= n || b < (size_t)words->t[i + 1].start); b++)
            if (text[b] == '?')
                asks[nc] = 1;
    }
    for (int c = 0; c <= nc; c++)
        any |= asks[c];
    int sentence_asks[MAX_TOKENS] = { 0 };
    for (int i = 0; i < n; i++) {
        aside[i] = any && nc > 0 && !asks[clause[i]] ? 1 + own[clause[i]] : 0;
        sentence_of[i] = sentence[i];
        clause_of[i] = clause[i];
        sentence_asks[sentence[i]] |= asks[clause[i]];
    }
    /* the sentences before the first that asks are the asker's context ("Every article makes it
       sound like only Ukraine gives stuff up. Did US officials say Russia would also have to
       make concessions?"): measured as their own asides are when they speak of the asker, else
       an entry lacking their words loses only part of them (aside 3) */
    int asking = 0;
    while (asking < ns && !sentence_asks[asking])
        asking++;
    for (int i = 0; i < n && any; i++)
        if (sentence[i] < asking)
            aside[i] = own[clause[i]] ? 2 : 3;
}

/* Whether word (folded) is a word of a quoted speaker's name, role or other names. */
static int names_speaker(struct match *m, const char *word)
{
    struct vocab *names = speaker_words(m);
    return names && norm_class(word) == NORM_CONTENT && vocab_word_df(names, word) > 0;
}

/* Marks the words of an alternative the asker offers after what they ask ("do we know what the
 * guarantees look like, or is it hand-wavy", "is that in the reporting or just twitter takes"):
 * the asker's own guess, measured as their asides are (aside 2: an entry's coverage leaves out
 * what it lacks of them). The alternative starts at "or" before a verb or a hedge, after at least
 * two words of its sentence, and runs to the sentence's end; so does a sentence of hearsay after
 * a question ("someone said the UN", "heard it was X"). */
static void mark_alternatives(const struct tokens *words, const char *text, size_t len, int n,
                              const int *sentence_of, int *aside)
{
    static const char *const opens[] = {
        "are",  "can",  "could", "did",  "do",    "does",   "had",  "has",    "have",
        "is",   "it",   "its",   "just", "maybe", "merely", "only", "rather", "simply",
        "some", "that", "this",  "was",  "were",  "will",   "would"
    };                                                                            /* sorted */
    static const char *const hearsay[] = { "apparently", "heard", "supposedly" }; /* sorted */
    static const char *const sayers[] = { "i",      "people",   "ppl",     "rumor",
                                          "rumour", "somebody", "someone", "they" }; /* sorted */
    static const char *const said[] = { "heard", "read",   "said", "saw",
                                        "say",   "saying", "says", "told" }; /* sorted */
    for (int i = 1; i < n; i++) {
        /* "who's supposed to monitor the deal? someone said the UN", "who's behind it? heard it
           was kushner": after a question, what the asker heard is their guess at its answer */
        const char *w = words->t[i].text, *next = i + 1 < n ? words->t[i + 1].text : "";
        size_t from = (size_t)words->t[i - 1].end, to = (size_t)words->t[i].start;
        if (sentence_of[i] == sentence_of[i - 1] || from >= to || to > len ||
            !memchr(text + from, '?', to - from) ||
            !(in_sorted(hearsay, sizeof hearsay / sizeof *hearsay, w) ||
              (in_sorted(sayers, sizeof sayers / sizeof *sayers, w) &&
               in_sorted(said, sizeof said / sizeof *said, next))))
            continue;
        for (int j = i; j < n && sentence_of[j] == sentence_of[i]; j++)
            aside[j] = 2; /* (a clause that asks nothing was 1: one that keeps its words) */
    }
    for (int i = 2; i + 1 < n; i++) {
        if (strcmp(words->t[i].text, "or") != 0 || sentence_of[i - 2] != sentence_of[i] ||
            !in_sorted(opens, sizeof opens / sizeof *opens, words->t[i + 1].text))
            continue;
        for (int j = i + 1; j < n && sentence_of[j] == sentence_of[i]; j++)
            aside[j] = 2;
    }
}

/* Whether word i of n (stem: its stem) is a question tag: the last word, after a comma and
 * before the question mark that ends the question ("Crimea would be recognised as Russian,
 * right?", "..., oder?", "..., né?"), a word of agreement or one the knowledge base lacks. It asks
 * whether what came before is so, and says nothing of a topic. */
static int question_tag(const struct match *m, const struct tokens *words, const char *text,
                        size_t len, int i, int n, const char *stem)
{
    static const char *const tags[] = { "eh",   "huh", "innit", "no",   "ok",
                                        "okay", "or",  "right", "yeah", "yes" }; /* sorted */
    if (i != n - 1 || i == 0 || words->t[i].end - words->t[i].start > 5)
        return 0;
    size_t from = (size_t)words->t[i - 1].end, to = (size_t)words->t[i].start;
    if (from >= to || to > len || !memchr(text + from, ',', to - from))
        return 0;
    int asked = 0;
    for (size_t b = (size_t)words->t[i].end; b < len; b++) {
        if (text[b] == '?')
            asked = 1;
        else if (!strchr(" .!", text[b]))
            return 0;
    }
    return asked && (IN_SORTED(tags, words->t[i].text) || !vocab_stem_df(m->vocab, stem));
}

/* Whether "did" comes before word i in its sentence ("did Zelensky end up signing it"). */
static int did_before(const struct tokens *words, const int *sentence_of, int i)
{
    for (int k = i - 1; k >= 0 && sentence_of[k] == sentence_of[i]; k--)
        if (strcmp(words->t[k].text, "did") == 0)
            return 1;
    return 0;
}

/* Splits the cleaned question into words and corrects the unknown ones. Returns the count. */
static int question_words(struct match *m, const char *text, size_t len, struct qword *qw,
                          struct intent *intent)
{
    if (tokenize(&m->plain, text, len, &m->words) || tokenize(&m->porter, text, len, &m->stems))
        return 0;
    int n = m->words.n < m->stems.n ? m->words.n : m->stems.n;
    int lower = 0, upper = 0;
    for (size_t i = 0; i < len; i++) {
        lower += text[i] >= 'a' && text[i] <= 'z';
        upper += text[i] >= 'A' && text[i] <= 'Z';
    }
    int shouting = upper > lower;
    int aside[MAX_TOKENS];
    int sentence_of[MAX_TOKENS], clause_of[MAX_TOKENS];
    mark_asides(&m->words, text, len, n, aside, sentence_of, clause_of);
    mark_alternatives(&m->words, text, len, n, sentence_of, aside);
    unsigned char compared[MAX_TOKENS];
    if (mark_comparisons(&m->words, n, compared))
        intent->count = 1; /* "is the cap more or less than a million": a number answers */
    int k = 0, opened = 0; /* opened: a word that is not a stop word came before */
    enum norm_class last = NORM_STOP;
    for (int i = 0; i < n; i++) {
        if (i > 0 && sentence_of[i] != sentence_of[i - 1])
            opened = 0, last = NORM_STOP; /* "I'm writing a backgrounder. When did the ICC ...":
                                             a sentence of its own opens with "when" */
        opened |= last != NORM_STOP;
        last = NORM_STOP;
        const char *w = m->words.t[i].text, *s = m->stems.t[i].text;
        if (!*w || !*s)
            continue;
        struct qword *q = &qw[k++];
        memset(q, 0, sizeof *q);
        q->pos = i;
        q->aside = aside[i];
        copy_str(q->word, sizeof q->word, w);
        copy_str(q->stem, sizeof q->stem, s);
        q->cls = last = compared[i] ? NORM_STOP : norm_class(w);
        if (question_tag(m, &m->words, text, len, i, n, s)) {
            q->cls = last = NORM_STOP;
            intent->checks = 1; /* "..., right?": a claim checked */
        }
        /* "what did Witkoff tell reporters": "tell" after a name is a word of saying (a stop word
         * elsewhere: "tell me about Crimea") */
        if (q->cls == NORM_STOP && IN_SORTED(say_verbs, w) && i > 0 && names_who(&m->words, i - 1))
            q->cls = NORM_SAY;
        if (say_noun_after_possessive(&m->words, i))
            q->cls = NORM_SAY;
        if (q->cls != NORM_STOP && i > 0 && IN_SORTED(stance_verbs, w) &&
            (intent->say ? IN_SORTED(pronouns, m->words.t[i - 1].text)
                         : names_speaker(m, m->words.t[i - 1].text)))
            q->cls = NORM_SAY, q->stance = 1; /* "did Kallas endorse it", "Kallas's take: did
                                                 she back it": no topic, nor its synonyms */
        if (q->cls == NORM_SAY && (strcmp(w, "position") == 0 || strcmp(w, "stance") == 0) &&
            i + 1 < n && IN_SORTED(about_words, m->words.t[i + 1].text))
            q->stance = 1; /* "Poland's position on the plan": a stand, not where jets are */
        if (q->cls == NORM_SAY && speaks_with(&m->words, i))
            q->cls = NORM_CONTENT;
        if (q->cls == NORM_SAY && i > 0 && IN_SORTED(claim_makers, m->words.t[i - 1].text) &&
            (strcmp(w, "claim") == 0 || strcmp(w, "claims") == 0))
            q->cls = NORM_CONTENT; /* "bring claims over wartime actions": a legal claim */
        if (q->cls == NORM_SAY && i + 1 < n && strcmp(m->words.t[i + 1].text, "yes") == 0)
            q->cls = NORM_STOP; /* "why would saying yes be political suicide": accepting, not
                                   anyone's words (its synonyms still apply) */
        const char *prev = i > 0 ? m->words.t[i - 1].text : "";
        /* "was Moscow told" asks who was told; "what does the plan say" (or "it") what it states */
        if (q->cls == NORM_SAY && !passive_at(&m->words, i) && !IN_SORTED(text_words, prev) &&
            strcmp(prev, "it") != 0 && !q->aside)
            intent->say = 1; /* not in a clause that asks nothing: "someone in our channel said
                                the plan is a rehash, is there anything to that" */
        if (q->cls == NORM_SAY && strcmp(prev, "who") == 0)
            intent->who_said = 1; /* "who said Europe has more at stake": no one is named */
        if (intent->say && intent->about_at < 0 && IN_SORTED(about_words, w))
            intent->about_at = i;
        if (is_quantity(w, prev))
            intent->quantity = 1;
        const char *next = i + 1 < n ? m->words.t[i + 1].text : "";
        const char *next2 = i + 2 < n ? m->words.t[i + 2].text : "";
        int article =
            strcmp(next, "a") == 0 || strcmp(next, "an") == 0 ||
            (strcmp(next, "of") == 0 && (strcmp(next2, "a") == 0 || strcmp(next2, "an") == 0));
        if (strcmp(prev, "how") == 0 && IN_SORTED(how_count, w) && !article && !q->aside &&
            !(strcmp(w, "far") == 0 && strcmp(next, "along") == 0)) /* progress, not distance */
            intent->count = 1; /* "how old": an age is a number; "how big": a size (but "how big
                                  a shift", "how big of a deal" ask how much it matters) */
        if (strcmp(w, "time") == 0 && strcmp(prev, "much") == 0 && i >= 2 &&
            strcmp(m->words.t[i - 2].text, "how") == 0) {
            intent->when = intent->span = 1; /* "in how much time": how long, a span */
            q->cls = NORM_STOP;
        }
        /* "when" after the question's first words that are not stop words joins a clause ("did
         * they get guidance when they called"); it asks when only before them ("so when is it") */
        if (is_when(w, prev) && !q->aside &&
            !(strcmp(w, "when") == 0 && (opened || when_clause(&m->words, i)))) {
            intent->when = 1;
            /* "when did it leak", "what day was it": a point in the past ("how long has it
             * been" asks for a span; "what timeline did they agree on", a timeline) */
            if (strcmp(prev, "how") != 0 && IN_SORTED(past_aux, next) && !IN_SORTED(time_names, w))
                intent->past = 1;
            if ((strcmp(w, "when") == 0 && IN_SORTED(future_aux, next)) ||
                (strcmp(w, "long") == 0 && strcmp(prev, "how") == 0))
                intent->span = 1;
            /* "what day", "which year": the kind of answer, not its topic ("Groundhog Day") */
            if (strcmp(prev, "what") == 0 || strcmp(prev, "which") == 0)
                q->cls = NORM_STOP;
        }
        /* "what day", "which date", "the exact date": a day, not only a month ("in August") */
        if ((strcmp(w, "day") == 0 || strcmp(w, "date") == 0) && IN_SORTED(day_askers, prev))
            intent->when = intent->day = 1;
        /* "what if Putin attacks again", "what happens if", "what kicks in if", "If Ukraine
         * fires a missile, what then": what follows an event, not what becomes of a thing
         * ("what happens to Kherson") */
        if (strcmp(w, "if") == 0 && !q->aside && !IN_SORTED(if_asides, next) &&
            (strcmp(prev, "what") == 0 || strcmp(prev, "in") == 0 ||
             strncmp(prev, "happen", 6) == 0 || i == 0 || clause_of[i] != clause_of[i - 1]))
            intent->conditional = 1; /* (not "if anything", "if so") */
        /* "what did Driscoll do before he became army secretary", "before he was", "when did
         * Kallas become the EU's top diplomat": a person's past */
        if (!q->aside && (IN_SORTED(become_words, w) ||
                          (strcmp(w, "before") == 0 && IN_SORTED(career_words, prev) &&
                           IN_SORTED(pronouns, next) &&
                           (strcmp(next2, "was") == 0 || strcmp(next2, "were") == 0))))
            intent->become = 1; /* ("since before he was president" asks nothing of his past) */
        if (strcmp(w, "next") == 0 || strcmp(w, "upcoming") == 0)
            intent->span = 1; /* "when is the next meeting": not the one reported */
        if (strcmp(w, "end") == 0 && strcmp(next, "up") == 0 && !q->aside &&
            did_before(&m->words, sentence_of, i)) {
            intent->now = 1; /* "did Zelensky end up signing it": what came of it since */
            q->cls = NORM_STOP;
        }
        if (asks_now(&m->words, i)) {
            intent->now = 1; /* "how many troops does Ukraine have right now" */
            q->cls = NORM_STOP;
            if (q > qw && q[-1].pos == i - 1 && strcmp(prev, "right") == 0)
                q[-1].cls = NORM_STOP; /* "right" of "right now" names nothing either */
        }
        /* "what's the deal with Kherson", "what's up with Rubio", "any update on the Donbas",
         * "the latest on Crimea": asks about what follows */
        if ((strcmp(next, "with") == 0 && (strcmp(w, "deal") == 0 || strcmp(w, "up") == 0) &&
             (strcmp(prev, "the") == 0 || strcmp(w, "up") == 0) && idiom_opens(&m->words, i)) ||
            (IN_SORTED(news_words, w) && IN_SORTED(news_after, next)) ||
            (IN_SORTED(news_words, w) && !*next && norm_class(prev) == NORM_CONTENT))
            q->cls = NORM_STOP; /* ... and "the Umerov update", "the Kherson situation" */
        if (IN_SORTED(check_words, w) ||
            (strcmp(w, "check") == 0 && (strcmp(prev, "fact") == 0 || strcmp(prev, "sanity") == 0)))
            intent->checks = 1; /* "fact check pls: ...", "..., accurate?" */
        if (is_source_cue(w)) {
            intent->source = 1;
            if (q->cls == NORM_CONTENT && !vocab_stem_df(m->vocab, s))
                q->cls = NORM_WEAK; /* "which outlet obtained the draft": the source, not a topic
                                       the knowledge base lacks */
        }
        /* "when did this CNN story on the plan come out": a document noun a few words before a
         * word of publishing asks about the source ("come out", not "pull out") */
        if (IN_SORTED(published_words, w) && document_at(&m->words, i) >= 0 &&
            (strcmp(w, "out") != 0 || strcmp(prev, "come") == 0 || strcmp(prev, "came") == 0 ||
             strcmp(prev, "comes") == 0))
            intent->source = 1;
        if (IN_SORTED(published_words, w) && strcmp(w, "out") != 0 &&
            document_follows(&m->words, i)) {
            intent->source = 1; /* "which outlet ran this article" */
            if (q->cls == NORM_CONTENT && !vocab_stem_df(m->vocab, s))
                q->cls = NORM_WEAK;
        }
        int who = names_who(&m->words, i);
        if (who)
            intent->who_at = i;
        q->hash = hash(s, strlen(s));
        int at = m->words.t[i].start;
        q->proper =
            !shouting && i > 0 && at >= 0 && (size_t)at < len && text[at] >= 'A' && text[at] <= 'Z';
        if (q->cls != NORM_CONTENT || all_digits(w) || is_source_cue(w) ||
            vocab_stem_df(m->vocab, s) || rule_at(m, &q->hash, 1, 0))
            continue;
        /* Unknown: a typo of a known word (unless it is an English word), or else a form of a
         * known word that the stemmer does not join ("compared", "comparison"). */
        const char *fix = NULL;
        char stem[MAX_TOKEN], num[MAX_TOKEN];
        struct vocab *known = surface_words(m);
        /* a number run together with a unit ("28pt", "100days"): the number, if known */
        size_t digits = strspn(w, "0123456789"), rest = strlen(w) - digits;
        if (digits && rest && rest <= 4 &&
            strspn(w + digits, "abcdefghijklmnopqrstuvwxyz") == rest) {
            memcpy(num, w, digits);
            num[digits] = '\0';
            if (vocab_stem_df(m->vocab, num))
                fix = num;
        }
        if (!fix && known && !english_is_word(w))
            vocab_correct(known, w, &fix);
        /* the one who said it, one letter off a speaker's name, is that speaker even when the
         * misspelling is an English word or a name of its own ("Levitt" for Leavitt) */
        if (!fix && who && english_is_word(w)) {
            struct vocab *names = speaker_words(m);
            if (names)
                vocab_correct(names, w, &fix);
        }
        if (known && !fix)
            vocab_neighbour(known, w, &fix);
        /* the one who said it is corrected only into a speaker's name: "Starmer" is not the
         * "starter" of a quote, but "Zelenksy" is Zelensky */
        if (fix && who) {
            struct vocab *names = speaker_words(m);
            if (!names || !vocab_word_df(names, fix))
                fix = NULL;
        }
        if (!fix || stem_word(m, fix, stem, sizeof stem)) {
            q->proper |= who; /* a name the knowledge base does not know */
            if (!q->proper && derived_adverb(w))
                q->cls = NORM_WEAK; /* "gives up Donetsk entirely": about Donetsk */
            else if (!q->proper && !english_is_word(w))
                q->cls = typo_of_filler(w); /* "teh", "physicaly" */
            continue;
        }
        copy_str(q->word, sizeof q->word, fix);
        copy_str(q->stem, sizeof q->stem, stem);
        q->hash = hash(stem, strlen(stem));
        q->corrected = 1;
        q->cls = norm_class(fix);
    }
    return k;
}

/* A phrasal verb's rule ("give back", "pull out") whose particle comes a few words after its verb
 * at qw[i] ("give any land back", "pull the troops out"): the rule, with *at the particle's index;
 * NULL when none. */
static const struct rule *rule_apart(const struct match *m, const struct qword *qw,
                                     const uint64_t *stems, int n, int i, int *at)
{
    static const char *const particles[] = { "away", "back", "down", "in",
                                             "off",  "out",  "over", "up" }; /* sorted */
    if (!m->rule_order)
        return NULL;
    for (int j = i + 2; j < n && j <= i + 4 && qw[j].context == qw[i].context; j++) {
        if (!in_sorted(particles, sizeof particles / sizeof *particles, qw[j].word))
            continue;
        uint64_t pair[2] = { stems[i], stems[j] };
        const struct rule *r = rule_at(m, pair, 2, 0);
        if (r && r->nterm == 2) {
            *at = j;
            return r;
        }
        return NULL; /* the first particle after the verb is its own, if any */
    }
    return NULL;
}

/* Turns the question's words into weighted groups: synonym rules first (longest term wins),
 * then every content or weak word on its own. Returns the number of groups. */
static int build_groups(struct match *m, const struct qword *qw, int n)
{
    uint64_t stems[2 * MAX_TOKENS]; /* a question and the one before it */
    for (int i = 0; i < n; i++)
        stems[i] = qw[i].hash;
    int ng = 0;
    unsigned char taken[2 * MAX_TOKENS] = { 0 }; /* a particle that went with its verb */
    for (int i = 0; i < n && ng < MAX_GROUPS;) {
        if (taken[i]) {
            i++;
            continue;
        }
        const struct rule *r = rule_at(m, stems, n, i);
        int apart = -1; /* the particle of a verb with words between them, if any */
        if (!r)
            r = rule_apart(m, qw, stems, n, i, &apart);
        enum norm_class cls = qw[i].cls;
        if ((!r && (cls == NORM_STOP || cls == NORM_SAY)) || qw[i].stance) {
            i++;
            continue;
        }
        int span = r ? r->nterm : 1, word[MAX_PHRASE_WORDS]; /* the indexes of the term's words */
        for (int k = 0; k < span; k++)
            word[k] = apart >= 0 && k == 1 ? apart : i + k;
        struct group *g = &m->groups[ng];
        memset(g, 0, sizeof *g);
        g->cls = r ? NORM_CONTENT : cls;
        struct phrase self = { 0 };
        size_t at = 0;
        for (int k = 0; k < span; k++) {
            at = append_word(self.text, sizeof self.text, at, qw[word[k]].word);
            self.stems[k] = qw[word[k]].hash;
            g->corrected |= qw[word[k]].corrected;
        }
        self.nstems = span;
        self.df = UINT32_MAX;
        for (int k = 0; k < span; k++) {
            uint32_t df = vocab_stem_df(m->vocab, qw[word[k]].stem);
            if (df < self.df)
                self.df = df;
        }
        if (r && span > 1)
            self.df = r->term_df; /* the words together, counted when the synonyms were read */
        copy_str(g->label, sizeof g->label, self.text);
        g->context = qw[i].context;
        g->aside = qw[i].aside;
        g->first = qw[i].pos;
        g->last = qw[word[span - 1]].pos;
        add_phrase(g, &self);
        for (int k = 0; r && k < r->nwords; k++)
            add_phrase(g, &r->words[k]);
        int from = i;
        if (apart >= 0)
            taken[apart] = 1; /* the words between are groups of their own */
        i += apart >= 0 ? 1 : span;
        /* The same word twice counts once. */
        int dup = 0;
        for (int k = 0; k < ng && !dup; k++)
            dup = m->groups[k].phrases[0].nstems == self.nstems &&
                  memcmp(m->groups[k].phrases[0].stems, self.stems,
                         (size_t)self.nstems * sizeof *self.stems) == 0;
        if (dup || (g->context && g->phrases[0].df == 0))
            continue; /* a word of the question before that no entry has says nothing here */
        /* The group weighs what the person's own word weighs (when the knowledge base has it;
         * else its rarest synonym); a hit through a more common synonym is worth that synonym's
         * weight, so "army" is not devalued by "military" being everywhere. */
        uint32_t df = g->phrases[0].df;
        for (int k = 1; g->phrases[0].df == 0 && k < g->nphrases; k++)
            if (g->phrases[k].df && (df == 0 || g->phrases[k].df < df))
                df = g->phrases[k].df;
        g->df = df;
        if (df == 0 && qw[from].aside)
            continue; /* the asker's own business ("my boss keeps asking"), not what is asked */
        /* idf() falls as df grows: a word in at most that share of the entries is specific */
        g->specific = df > 0 && df <= ceil(m->nentries * specific_share);
        for (int k = 0; k < g->nphrases; k++)
            if (g->phrases[k].df > g->df)
                g->df = g->phrases[k].df; /* for retrieval costs: the most common phrase */
        g->weight = idf(m->nentries, df > 0 ? df : unknown_df);
        g->proper = df == 0 && span == 1 && qw[from].proper;
        if (g->proper)
            g->weight *= unknown_name_factor; /* "Paris", "Hungary": not what we know about */
        for (int k = 0; k < g->nphrases; k++) {
            double w = g->phrases[k].df ? idf(m->nentries, g->phrases[k].df) : 0;
            g->phrases[k].weight =
                (w < g->weight ? w : g->weight) * (g->phrases[k].synonym ? synonym_factor : 1.0);
        }
        double factor = (g->cls == NORM_WEAK ? weak_factor : 1.0) *
                        (g->corrected ? corrected_factor : 1.0) *
                        (g->context ? context_factor : 1.0);
        g->weight *= factor;
        for (int k = 0; k < g->nphrases; k++)
            g->phrases[k].weight *= factor;
        ng++;
    }
    return ng;
}

/* Appends the phrases of group g to an FTS5 query as quoted strings joined by OR, and what the
 * ranking function needs of each to rp (*nrp of them so far). */
static int query_add_group(struct buf *q, const struct group *g, int gi, struct rank_phrase *rp,
                           int *nrp)
{
    int rc = 0;
    for (int k = 0; k < g->nphrases && !rc; k++) {
        if (!g->phrases[k].df)
            continue; /* no entry has it: it cannot retrieve anything */
        if (*nrp >= MAX_GROUPS * MAX_PHRASES)
            break;
        rp[*nrp].group = gi;
        rp[*nrp].weight = g->phrases[k].weight;
        rp[*nrp].p = &g->phrases[k];
        ++*nrp;
        rc = buf_puts(q, q->len ? " OR \"" : "\"");
        for (const char *c = g->phrases[k].text; *c && !rc; c++)
            rc = *c == '"' ? buf_puts(q, "\"\"") : buf_putc(q, *c);
        if (!rc)
            rc = buf_putc(q, '"');
    }
    return rc;
}

/* The FTS5 query that retrieves candidates. With few postings, every group; otherwise only the
 * rarest groups whose absence would leave a candidate below the answer threshold (MaxScore). */
static int retrieval_query(const struct match *m, int ng, double total, struct buf *q,
                           struct rank_phrase *rp, int *nrp)
{
    int order[MAX_GROUPS], n = 0;
    double postings = 0;
    for (int i = 0; i < ng; i++) {
        if (!m->groups[i].df)
            continue;
        order[n++] = i;
        postings += m->groups[i].df;
    }
    /* heaviest (rarest) first */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && m->groups[order[j]].weight > m->groups[order[j - 1]].weight; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    int use = n;
    if (postings > FULL_OR_POSTINGS) {
        double rest = 0;
        for (int i = 0; i < n; i++)
            rest += m->groups[order[i]].weight;
        for (use = 0; use < n && rest >= answer_coverage * total; use++)
            rest -= m->groups[order[use]].weight;
    }
    int rc = 0;
    *nrp = 0;
    for (int i = 0; i < use && !rc; i++)
        rc = query_add_group(q, &m->groups[order[i]], order[i], rp, nrp);
    return rc;
}

/* Whether the k stems of needle follow the first at hay + i (hay[i] == needle[0] known). */
static int rest_matches(const uint64_t *hay, int i, const uint64_t *needle, int k)
{
    for (int j = 1; j < k; j++)
        if (hay[i + j] != needle[j])
            return 0;
    return 1;
}

/* The scans below compare stems inline: most phrases are one or two words, for which a call of
 * memcmp() cost more than the comparison. */
static int contains(const uint64_t *hay, int n, const uint64_t *needle, int k)
{
    const uint64_t first = needle[0];
    for (int i = 0; i + k <= n; i++)
        if (hay[i] == first && rest_matches(hay, i, needle, k))
            return 1;
    return 0;
}

/* How many times stem occurs in a field, from its counts (pairs sorted by stem). */
static int stem_count(const uint64_t *tf, int n, uint64_t stem)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (tf[2 * mid] < stem)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && tf[2 * lo] == stem ? (int)tf[2 * lo + 1] : 0;
}

/* How many times needle occurs in hay. */
static int occurrences(const uint64_t *hay, int n, const uint64_t *needle, int k)
{
    const uint64_t first = needle[0];
    int count = 0;
    for (int i = 0; i + k <= n; i++)
        if (hay[i] == first && rest_matches(hay, i, needle, k))
            count++;
    return count;
}

/* Whether x is followed by y in hay, directly or with one word between ("prisoners of war"). */
static int near(const uint64_t *hay, int n, uint64_t x, uint64_t y)
{
    for (int i = 0; i + 1 < n; i++)
        if (hay[i] == x && (hay[i + 1] == y || (i + 2 < n && hay[i + 2] == y)))
            return 1;
    return 0;
}

/* Whether any phrase of g occurs in field fi of f, between stems from and to. */
static int in_span(const struct fwd *f, int fi, int from, int to, const struct group *g)
{
    for (int k = 0; k < g->nphrases; k++)
        if (may_hold(f, fi, g->phrases[k].stems[0]) &&
            contains(f->stems[fi] + from, to - from, g->phrases[k].stems, g->phrases[k].nstems))
            return 1;
    return 0;
}

/* Where f's example question k is in its examples field: stems [*from, *to). */
static void example_span(const struct fwd *f, int k, int *from, int *to)
{
    *from = (int)f->example_at[k];
    *to = k + 1 < f->nexamples ? (int)f->example_at[k + 1] : f->n[F_EXAMPLES];
}

/* Whether a question word found only in f's example questions may carry an answer: when one
 * example holds at least two of the question's topical words (or the only one it has). A word
 * shared with one example ("capital" in "...strike on Russia's capital") supports an answer as
 * a keyword does, and never makes one. */
static int examples_close(const struct match *m, int ng, const struct fwd *f,
                          const unsigned *fields_of)
{
    int topical = 0, held[MAX_GROUPS], nheld = 0;
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        topical += g->cls != NORM_WEAK;
        if (g->cls != NORM_WEAK && (fields_of[i] & FIELD_BIT(F_EXAMPLES)))
            held[nheld++] = i; /* only these can meet in one example */
    }
    int need = topical < 2 ? 1 : 2;
    if (nheld < need)
        return 0;
    if (need == 1)
        return 1;
    for (int k = 0; k < f->nexamples; k++) {
        int from, to;
        example_span(f, k, &from, &to);
        int in = 0;
        for (int i = 0; i < nheld && in < need; i++)
            in += in_span(f, F_EXAMPLES, from, to, &m->groups[held[i]]);
        if (in >= need)
            return 1;
    }
    return 0;
}

/* Whether one example question of f holds every topical word of the question ("why is the us
 * pushing this now" for "why are the americans pushing this now"): the question is one the entry
 * was written to answer. */
static int example_holds_all(const struct match *m, int ng, const struct fwd *f)
{
    for (int k = 0; k < f->nexamples; k++) {
        int from, to;
        example_span(f, k, &from, &to);
        int all = 0;
        for (int i = 0; i < ng; i++) {
            const struct group *g = &m->groups[i];
            if (g->cls == NORM_WEAK || g->context)
                continue;
            all = in_span(f, F_EXAMPLES, from, to, g);
            if (!all)
                break;
        }
        if (all)
            return 1;
    }
    return 0;
}

/* Whether a group found in fields (FIELD_BIT()s) is in one that can carry an answer: the title,
 * text, speaker or role, or the examples when close. */
static int in_carrying_fields(unsigned fields, int close)
{
    return (fields & ~(FIELD_BIT(F_KEYWORDS) | (close ? 0u : FIELD_BIT(F_EXAMPLES)))) != 0;
}

/* Whether f's title and text hold the question's word o only as another party's: an occurrence
 * owned by another party, and none by the one the question names ("the Ukrainian armed forces"
 * for "Russia's army"). An occurrence that no party owns says nothing either way. */
static int owned_elsewhere(const struct match *m, const struct fwd *f, const struct owned *o)
{
    static const int fields[] = { F_TITLE, F_TEXT };
    const struct group *g = &m->groups[o->group];
    int other = 0;
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++) {
        const uint64_t *h = f->stems[fields[k]];
        int n = f->n[fields[k]];
        for (int p = 0; p < g->nphrases; p++) {
            const struct phrase *ph = &g->phrases[p];
            if (!may_hold(f, fields[k], ph->stems[0]))
                continue;
            for (int i = 0; i + ph->nstems <= n; i++) {
                if (h[i] != ph->stems[0] || !rest_matches(h, i, ph->stems, ph->nstems))
                    continue;
                int owner = party_owner(m->parties, h, n, i, i + ph->nstems - 1);
                if (owner == o->party)
                    return 0;
                other |= owner >= 0;
            }
        }
    }
    return other;
}

/* The question's words that a party owns ("Russia's army"): m->owned. */
static void find_owned(struct match *m, const struct qword *qw, int nw, int ng)
{
    uint64_t h[MAX_TOKENS] = { 0 };
    int n = 0;
    m->nowned = 0;
    if (!party_set_words(m->parties))
        return;
    for (int i = 0; i < nw; i++)
        if (!qw[i].context && qw[i].pos < MAX_TOKENS) {
            h[qw[i].pos] = qw[i].hash;
            if (qw[i].pos >= n)
                n = qw[i].pos + 1;
        }
    for (int i = 0; i < ng && m->nowned < MAX_OWNED; i++) {
        const struct group *g = &m->groups[i];
        if (g->context || g->cls != NORM_CONTENT)
            continue;
        int party = party_owner(m->parties, h, n, g->first, g->last);
        if (party >= 0)
            m->owned[m->nowned++] = (struct owned){ i, party };
    }
}

/* Whether f states a fact of kind (a number, a time) near a word of the question in its title or
 * text: "how many troops does Russia have" is not answered by "the two countries would commit not
 * to change the arrangements by force", whose number is of something else. When no word of the
 * question is in the title or text (a quote found by its speaker), any fact there will do. */
static int fact_near(const struct match *m, int ng, const struct fwd *f, int kind)
{
    static const int fields[] = { F_TITLE, F_TEXT };
    int held = 0;
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        if (g->context || g->cls == NORM_WEAK)
            continue;
        for (int p = 0; p < g->nphrases; p++) {
            const struct phrase *ph = &g->phrases[p];
            for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
                int fi = fields[k], n = f->n[fi];
                int at = (int)(f->stems[fi] - f->block);
                const uint64_t *h = f->stems[fi];
                if (!may_hold(f, fi, ph->stems[0]))
                    continue;
                for (int j = 0; j + ph->nstems <= n; j++) {
                    if (h[j] != ph->stems[0] || !rest_matches(h, j, ph->stems, ph->nstems))
                        continue;
                    held = 1;
                    for (int x = 0; x < f->nfacts; x++) {
                        int pos = f->fact_at[x] - at;
                        if ((f->fact_kind[x] & kind) && pos >= 0 && pos < n &&
                            pos >= j - MATCH_FACT_NEAR &&
                            pos <= j + ph->nstems - 1 + MATCH_FACT_NEAR)
                            return 1;
                    }
                }
            }
        }
    }
    return !held;
}

/* Scores one candidate: for each group, the best field any of its phrases occurs in. */
static void score(const struct match *m, int ng, double total, const struct intent *in,
                  struct candidate *c)
{
    const struct fwd *f = c->f;
    double s = 0, matched = 0;
    int speaker_hit = 0, beyond = 0, topical = 0, own = 1, about = 0, holds_about = 0;
    c->speaker_at = INT_MAX;
    c->speaker_who = 0;
    c->specific = 0;
    for (int i = 0; i < ng; i++)
        own &= !m->groups[i].context; /* with context, a word of the question must be held */
    /* Each phrase's occurrences in each field, counted once: the score and every question below
     * of whether a word is in a field read these. */
    int count[MAX_GROUPS][MAX_PHRASES][NFIELDS];
    unsigned fields_of[MAX_GROUPS]; /* FIELD_BIT(fi): a phrase of the group is in field fi */
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        fields_of[i] = 0;
        for (int k = 0; k < g->nphrases; k++) {
            const struct phrase *p = &g->phrases[k];
            if (!(f->sig_any[sig_word(p->stems[0])] & sig_bit(p->stems[0]))) {
                memset(count[i][k], 0, sizeof count[i][k]);
                continue;
            }
            for (int fi = 0; fi < NFIELDS; fi++) {
                int n = !may_hold(f, fi, p->stems[0]) ? 0
                        : p->nstems == 1 && f->tf[fi]
                            ? stem_count(f->tf[fi], f->ntf[fi], p->stems[0])
                            : occurrences(f->stems[fi], f->n[fi], p->stems, p->nstems);
                count[i][k][fi] = n;
                if (n)
                    fields_of[i] |= FIELD_BIT(fi);
            }
        }
    }
    int close = f->nexamples > 0 && examples_close(m, ng, f, fields_of);
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        double best = 0, best_cover = 0;
        int asked_about =
            in->about_at >= 0 && g->first > in->about_at && g->cls != NORM_WEAK && !g->context;
        about |= asked_about;
        for (int k = 0; fields_of[i] && k < g->nphrases; k++) {
            const struct phrase *p = &g->phrases[k];
            /* BM25F: the phrase's occurrences in each field, weighted by field and normalised by
             * the field's length against its average, then saturated. */
            double tf = 0;
            for (int fi = 0; fi < NFIELDS; fi++) {
                int n = count[i][k][fi];
                if (!n)
                    continue;
                double avg = m->kb->fts_avglen[fi] > 0 ? m->kb->fts_avglen[fi] : f->n[fi];
                tf += bm25_field_weight[fi] * n /
                      (1.0 - bm25_b + bm25_b * (avg > 0 ? f->n[fi] / avg : 1.0));
                double cover = p->weight * (fi == F_TEXT                 ? text_coverage
                                            : fi == F_EXAMPLES && !close ? example_coverage
                                                                         : 1.0);
                if (cover > best_cover)
                    best_cover = cover;
            }
            double v = tf > 0 ? p->weight * tf * (bm25_k1 + 1.0) / (tf + bm25_k1) : 0;
            if (v > best)
                best = v;
        }
        if (best > 0) {
            matched += best_cover;
            s += best;
            holds_about |= asked_about;
            if (g->cls != NORM_WEAK)
                topical = 1;
            if (g->cls != NORM_WEAK && !g->context)
                own = 1;
            int carried = in_carrying_fields(fields_of[i], close);
            beyond |= carried;
            /* a word of the question itself found in few entries, however little it weighs
             * here (a typo fixed, a name found through a synonym), in a field that carries */
            if (g->cls != NORM_WEAK && !g->context && g->specific && carried)
                c->specific = 1;
            int who = in->who_at >= 0 && g->first <= in->who_at && in->who_at <= g->last;
            /* the quote's speaker named, by any of their names or their role (not by where the
               role posts them: "the US side" is not Ukraine's ambassador to the United States) */
            int names =
                (fields_of[i] & FIELD_BIT(F_SPEAKER)) ||
                ((fields_of[i] & FIELD_BIT(F_ROLE)) &&
                 (f->role_posting == f->n[F_ROLE] || in_span(f, F_ROLE, 0, f->role_posting, g)));
            if ((!speaker_hit || who) && f->quote && names) {
                if (!speaker_hit)
                    c->speaker_at = g->first;
                speaker_hit = 1; /* the quote's speaker named, by any of their names */
                c->speaker_who |= who;
            }
        }
    }
    /* Words next to each other in the question and in the entry ("state department") are a
     * phrase: worth more than the two words apart. */
    for (int i = 0; i + 1 < ng; i++) {
        const struct group *a = &m->groups[i], *b = &m->groups[i + 1];
        if (a->cls == NORM_WEAK || b->cls == NORM_WEAK || b->first - a->last > 2)
            continue;
        const struct phrase *pa = &a->phrases[0], *pb = &b->phrases[0];
        for (int fi = 0; fi < NFIELDS; fi++) {
            if (may_hold(f, fi, pb->stems[0]) &&
                near(f->stems[fi], f->n[fi], pa->stems[pa->nstems - 1], pb->stems[0])) {
                s += phrase_bonus * (a->weight < b->weight ? a->weight : b->weight);
                break;
            }
        }
    }
    if (in->say)
        s *= f->quote ? say_quote : say_other;
    if (in->quantity && f->number)
        s *= quantity_bonus;
    c->mismatch =
        (in->now && !(f->quote && speaker_hit) && (!f->now || !fact_near(m, ng, f, FACT_NOW))) ||
        (in->become && !f->become) || (in->conditional && !f->conditional) ||
        (in->day && !fact_near(m, ng, f, FACT_DAY)) ||
        (in->count && (!f->number || !fact_near(m, ng, f, FACT_NUMBER))) ||
        (in->when && (!f->time || (!(in->say && f->quote && speaker_hit) &&
                                   !fact_near(m, ng, f,
                                              in->past   ? FACT_POINT
                                              : in->span ? FACT_SPAN
                                                         : FACT_TIME))));
    c->other_party = -1;
    for (int o = 0; o < m->nowned && c->other_party < 0; o++)
        if (owned_elsewhere(m, f, &m->owned[o]))
            c->other_party = o;
    if (speaker_hit && f->quote)
        s *= speaker_bonus;
    c->score = s;
    c->beyond_keywords = beyond;
    c->topical = topical;
    c->own = own;
    c->speaker = speaker_hit && f->quote;
    c->off_about = c->speaker && about && !holds_about;
    c->close = close;
    c->matched = matched;
    double unheld = 0; /* the words of the asker's own asides that this entry lacks */
    for (int i = 0; i < ng; i++)
        if (m->groups[i].aside >= 2 && !fields_of[i])
            unheld += m->groups[i].weight * (m->groups[i].aside == 3 ? context_lacked : 1.0);
    c->coverage = total - unheld > 0 ? matched / (total - unheld) : 0;
}

/* Whether the question's words at positions a and b (a first) name two speakers joined by "and"
 * or "or" ("do EU and Ukrainian officials think", "Rubio or Witkoff"): either one is the one named
 * first. */
static int joined(const struct match *m, int ng, int a, int b)
{
    if (a < 0 || b < 0 || a == INT_MAX || b == INT_MAX)
        return 0; /* no one named, or a quote whose speaker the question does not name */
    if (b < a) {
        int t = a;
        a = b;
        b = t;
    }
    int end = a;
    for (int i = 0; i < ng; i++)
        if (m->groups[i].first == a && m->groups[i].last > end)
            end = m->groups[i].last;
    if (b <= end + 1)
        return 0;
    for (int k = end + 1; k < b && k < m->words.n; k++)
        if (strcmp(m->words.t[k].text, "and") != 0 && strcmp(m->words.t[k].text, "or") != 0 &&
            strcmp(m->words.t[k].text, "&") != 0)
            return 0;
    return 1;
}

/* Whether the title or text of f holds the question's word at position at (a group's first). */
static int mentions(const struct match *m, int ng, const struct fwd *f, int at)
{
    for (int i = 0; i < ng; i++)
        if (m->groups[i].first == at)
            return in_span(f, F_TITLE, 0, f->n[F_TITLE], &m->groups[i]) ||
                   in_span(f, F_TEXT, 0, f->n[F_TEXT], &m->groups[i]);
    return 0;
}

/* Whether a word that counts, of the question itself, is at position at ("what did X say"). */
static int names_group(const struct match *m, int ng, int at)
{
    for (int i = 0; at >= 0 && i < ng; i++) {
        const struct group *g = &m->groups[i];
        if (!g->context && g->cls != NORM_WEAK && g->first <= at && at <= g->last)
            return 1;
    }
    return 0;
}

static int by_score(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    /* Exact ties go to the knowledge base's own order: editors list the main statement first. */
    return x->f->rowid < y->f->rowid ? -1 : x->f->rowid > y->f->rowid;
}

static void explain_groups(const struct match *m, int ng, double total, const struct intent *in,
                           struct buf *out)
{
    buf_printf(out, "entries: %.0f; question weight: %.2f%s%s%s%s%s%s%s%s\n", m->nentries, total,
               in->say ? "; asks what someone said: quotes preferred" : "",
               in->quantity ? "; asks for a quantity: numbers preferred" : "",
               in->when ? "; asks when: only an entry that states a time answers" : "",
               in->day ? "; asks for a day: only an entry that states one (not only a month)" : "",
               in->count ? "; asks how many: only an entry that states a number answers" : "",
               in->now ? "; asks how things stand now: only an entry that says so answers" : "",
               in->become ? "; asks a person's past: only an entry that says someone became "
                            "something answers"
                          : "",
               in->conditional ? "; asks what follows if something happens: only an entry that "
                                 "states a condition answers"
                               : "");
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        buf_printf(out, "  %-18s weight %5.2f  in %u entries%s%s%s:", g->label, g->weight, g->df,
                   g->cls == NORM_WEAK ? ", common word" : "",
                   g->corrected ? ", typo or form fixed" : "",
                   g->proper ? ", unknown name"
                   : g->df   ? ""
                             : ", unknown");
        for (int k = 0; k < g->nphrases; k++)
            buf_printf(out, " \"%s\"%s", g->phrases[k].text, g->phrases[k].synonym ? "(syn)" : "");
        for (int o = 0; o < m->nowned; o++)
            if (m->owned[o].group == i)
                buf_printf(out, "; %s's", m->party_names[m->owned[o].party]);
        buf_putc(out, '\n');
    }
}

static void explain_candidate(const struct match *m, int ng, const struct candidate *c,
                              struct buf *out)
{
    buf_printf(out, "  %-36s score %6.2f  coverage %3.0f%%%s%s%s%s%s  has:", c->f->id, c->score,
               c->coverage * 100,
               c->mismatch ? "  (states no time or number asked for near its words)" : "",
               c->other_party >= 0 ? "  (another party's, not the one asked about)" : "",
               c->speaker ? "  (the speaker named)" : "",
               c->close ? "  (an example question is close)" : "",
               c->own ? "" : "  (holds only words of the question before)");
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        for (int fi = 0; fi < NFIELDS; fi++) {
            int hit = 0;
            for (int k = 0; k < g->nphrases && !hit; k++)
                hit = contains(c->f->stems[fi], c->f->n[fi], g->phrases[k].stems,
                               g->phrases[k].nstems);
            if (hit) {
                buf_printf(out, " %s(%s)", g->label, field_names[fi]);
                break;
            }
        }
    }
    buf_putc(out, '\n');
}

/* The bar an entry must pass to answer: it covers enough of the question, holds a specific word,
 * and holds a question word outside its keywords (aliases support an answer, never carry it). */
static int answers(const struct candidate *c, double specific)
{
    return c->coverage > answer_coverage && (c->matched >= specific || c->specific) &&
           c->beyond_keywords && c->own;
}

/* The lead over the next candidate that an entry under the bar needs to answer all the same. */
static double near_lead(int lenient, int example)
{
    return lenient ? long_margin : example ? example_margin : near_margin;
}

/* Whether the best candidate, under the bar, is close enough to it and clearly ahead of the next
 * one (whose score is next, 0 when there is none) to answer all the same; a specific word of the
 * question must be in a field that carries an answer, not only in its keywords or an example
 * question that is not close (the sum of many words' weights does not do here). lenient: the
 * question carries words no entry is expected to hold (lenient_for()); example: an example
 * question of the candidate holds every topical word of the question. */
static int nearly_answers(const struct candidate *c, double next, int lenient, int example)
{
    return c->coverage > (lenient ? long_coverage : near_coverage) && c->specific &&
           c->beyond_keywords && c->own && c->score >= near_lead(lenient, example) * next;
}

/* Whether a question's words that no entry holds are expected: a long question ("I'm putting
 * together notes for a client call and want to get this right: ...") has its asker's context,
 * and the more it has the smaller the share any entry covers; a claim checked ("is it true the
 * US gets paid for a guarantee? sounds wild") has the asker's version of it. There a clear lead
 * counts for more. Returns the reason, for --explain, or NULL. */
static const char *lenient_for(const struct intent *in, int nwords)
{
    return nwords >= long_words ? " (a long question)" : in->checks ? " (a claim checked)" : NULL;
}

/* Whether group g is in the noun phrase of a document noun: before it ("the 28-point
 * article", "this CNN story") or after it and "about", "on" ("the piece about the plan"). */
static int names_document(const struct match *m, const struct group *g)
{
    static const char *const about[] = {
        "about", "covering", "of", "on", "over", "re", "regarding"
    };
    const struct tokens *w = &m->words;
    for (int d = g->last + 1; d < w->n && d <= g->last + 3; d++) {
        if (IN_SORTED(document_nouns, w->t[d].text))
            return 1;
        if (norm_class(w->t[d].text) == NORM_STOP)
            break;
    }
    int d = document_at(w, g->first);
    return d >= 0 && g->first - d <= 6 && d + 1 < g->first &&
           in_sorted(about, sizeof about / sizeof *about, w->t[d + 1].text);
}

/* Whether the question asks about the source itself (who wrote it, who published it, when) and
 * names nothing else: every word that counts is such a cue ("wrote", "publisher"), a common word
 * ("article", "this"), or a word of the source's record (an author's name). */
static int asks_source(const struct match *m, int ng, const struct intent *in)
{
    if (!in->source || !m->source.rowid)
        return 0;
    for (int i = 0; i < ng; i++) {
        const struct group *g = &m->groups[i];
        if (g->cls == NORM_WEAK || is_source_cue(g->label) || g->context ||
            IN_SORTED(helped_words, g->label) || IN_SORTED(published_words, g->label) ||
            (g->df > 0 && names_document(m, g)))
            continue; /* the question before, or what the document is about */
        int b = g->first - 1;
        if (b >= 0 &&
            (strcmp(m->words.t[b].text, "the") == 0 || strcmp(m->words.t[b].text, "this") == 0))
            b--;
        const char *before = b >= 0 ? m->words.t[b].text : "";
        if (g->df * 2 >= m->nentries && (strcmp(before, "on") == 0 || strcmp(before, "about") == 0))
            continue; /* what it is about: the knowledge base's own subject ("the CNN article on
                         the plan"; but "who wrote the plan" asks about the plan) */
        int held = 0;
        for (int fi = 0; fi < NFIELDS && !held; fi++)
            held = in_span(&m->source, fi, 0, m->source.n[fi], g);
        if (!held)
            return 0;
    }
    return 1;
}

/* Answers with the record of the source most entries cite. Returns 0. */
static int answer_source(struct match *m, struct match_result *res, struct buf *explain)
{
    res->n = 1;
    res->answers[0].source = 1;
    copy_str(res->answers[0].id, sizeof res->answers[0].id, m->source.id);
    if (explain)
        buf_printf(explain, "answer: the source %s, whose record says who wrote and published it\n",
                   m->source.id);
    return 0;
}

static void hit_of(const struct candidate *c, struct match_hit *h)
{
    copy_str(h->id, sizeof h->id, c->f->id);
    h->score = c->score;
    h->coverage = c->coverage;
}

/* The candidates FTS5 retrieves for query (ranked by planbot_rank with the nrp phrases in
 * m->rank), their stems from the cache: *n of them in out. Returns 0 or an error. */
static int fts_retrieve(struct match *m, const struct buf *query, int nrp, struct fwd **out, int *n)
{
    sqlite3_stmt *st = m->retrieve;
    m->kb->fts_avglen[0] = 0; /* planbot_rank() reads the current averages */
    sqlite3_bind_text(st, 1, buf_str(query), (int)query->len, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, m->rank, nrp * (int)sizeof *m->rank, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, CANDIDATES);
    int nc = 0, step;
    int64_t rowids[CANDIDATES];
    while ((step = sqlite3_step(st)) == SQLITE_ROW && nc < CANDIDATES)
        rowids[nc++] = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (step != SQLITE_DONE && step != SQLITE_ROW) {
        kb_dbfail(m->kb, step, "searching the knowledge base");
        return fail(m, ERR_DB, kb_errmsg(m->kb));
    }
    *n = 0;
    for (int i = 0; i < nc; i++) {
        struct fwd *f = entry_stems(m, rowids[i]);
        if (f)
            out[(*n)++] = f;
    }
    return 0;
}

/* Answers with the entry one of whose example questions the question is, word for word (see
 * taught()). Returns 0 when it did, 1 when there is none. */
static int answer_taught(const struct match *m, uint64_t key, struct fwd *const *found, int nc,
                         const struct intent *in, struct match_result *res, struct buf *explain)
{
    int several;
    const struct fwd *t = taught(m, key, found, nc, &several);
    if (explain && several)
        buf_puts(explain, "an example question of several entries, word for word: matched as "
                          "any question\n");
    if (!t)
        return 1;
    res->asks = in->when ? MATCH_ASKS_WHEN : in->count ? MATCH_ASKS_COUNT : MATCH_ASKS_TOPIC;
    res->n = 1;
    copy_str(res->answers[0].id, sizeof res->answers[0].id, t->id);
    res->answers[0].score = 1.0;
    res->answers[0].coverage = 1.0;
    if (explain)
        buf_printf(explain,
                   "answer: %s, one of whose example questions is this one, word for word\n",
                   t->id);
    return 0;
}

int match_ask(struct match *m, const char *q, size_t len, int limit, struct match_result *res,
              struct buf *explain)
{
    return match_ask_after(m, q, len, NULL, 0, limit, res, explain);
}

int match_ask_after(struct match *m, const char *q, size_t len, const char *before, size_t blen,
                    int limit, struct match_result *res, struct buf *explain)
{
    memset(res, 0, sizeof *res);
    m->errmsg[0] = '\0';
    if (len > MATCH_MAX_QUESTION) {
        snprintf(m->errmsg, sizeof m->errmsg,
                 "the question is too long (%zu bytes; at most %d): ask a shorter one", len,
                 MATCH_MAX_QUESTION);
        return ERR_TOOBIG;
    }
    if (memchr(q, '\0', len))
        return fail(m, ERR_INVAL, "the question contains a NUL byte");
    if (limit < 1)
        limit = 1;
    if (limit > MATCH_MAX_ANSWERS)
        limit = MATCH_MAX_ANSWERS;
    int rc = refresh(m);
    if (rc)
        return rc;

    if (!m->qw && !(m->qw = malloc(2 * MAX_TOKENS * sizeof *m->qw)))
        return fail(m, ERR_NOMEM, "out of memory");
    struct buf *clean = &m->clean;
    struct qword *qw = m->qw;
    buf_reset(clean);
    if ((rc = norm_clean(q, len, clean)))
        return fail(m, rc, "the question is too long once cleaned");
    struct intent intent = { .who_at = -1, .about_at = -1 };
    int nw = question_words(m, buf_str(clean), clean->len, qw, &intent);
    int nwords = m->words.n; /* its words, and those of the question before it: all of them
                                dilute what an entry covers (long_words) */
    /* the key of its wording, to find an example question it repeats word for word: from the
     * stems question_words() made of the cleaned question, as wording_key() would make it */
    uint64_t key = 0;
    for (int i = 0; i < m->stems.n; i++)
        key = fold_stem(key, m->stems.t[i].text, (int)strlen(m->stems.t[i].text));
    if (before && blen <= MATCH_MAX_QUESTION) {
        /* the question before: its words after this one's, apart (never one phrase with them),
         * and what it asked for does not change what this one asks */
        struct intent ignored = { .who_at = -1, .about_at = -1 };
        buf_reset(clean);
        int nb = norm_clean(before, blen, clean)
                     ? 0
                     : question_words(m, buf_str(clean), clean->len, qw + nw, &ignored);
        for (int i = nw; i < nw + nb; i++) {
            qw[i].context = 1;
            qw[i].pos += MAX_TOKENS;
        }
        nw += nb;
        nwords += m->words.n;
        /* m->words again holds this question's words, which the rest reads by position (the
         * source's cues, speakers joined by "and") */
        buf_reset(clean);
        if ((rc = norm_clean(q, len, clean)) ||
            (rc = tokenize(&m->plain, buf_str(clean), clean->len, &m->words)) ||
            (rc = tokenize(&m->porter, buf_str(clean), clean->len, &m->stems)))
            return fail(m, rc, "cannot split the question into words");
    }
    int ng = build_groups(m, qw, nw);
    find_owned(m, qw, nw, ng);

    double total = 0;
    int known = 0;
    for (int i = 0; i < ng; i++) {
        total += m->groups[i].weight;
        known |= m->groups[i].df > 0;
    }
    if (explain)
        explain_groups(m, ng, total, &intent, explain);
    if (m->res.e && (rc = answer_taught(m, key, NULL, 0, &intent, res, explain)) != 1)
        return rc;
    /* nothing but who wrote it, who published it, when: the source's record answers */
    if (asks_source(m, ng, &intent))
        return answer_source(m, res, explain);
    if (!known || !ng) {
        if (explain)
            buf_puts(explain, "decline: no word of the question is in the knowledge base\n");
        return 0;
    }

    struct buf *query = &m->query;
    buf_reset(query);
    int nrp = 0;
    if ((rc = retrieval_query(m, ng, total, query, m->rank, &nrp)) || !query->len)
        return rc ? fail(m, rc, "the question has too many words") : 0;
    struct fwd *found[CANDIDATES];
    int nc = m->res.e ? resident_retrieve(m, m->rank, nrp, found) : 0;
    if (!m->res.e && (rc = fts_retrieve(m, query, nrp, found, &nc)))
        return rc;
    if (!m->res.e && (rc = answer_taught(m, key, found, nc, &intent, res, explain)) != 1)
        return rc;
    /* The answer: the best candidate that covers enough of the question and holds at least one
     * specific word; related entries must pass the same bar with at least half its score. */
    double specific = idf(m->nentries, ceil(m->nentries * specific_share));
    int kept = 0;
    for (int i = 0; i < nc; i++) {
        struct candidate *c = &m->cand[kept++];
        c->f = found[i];
        score(m, ng, total, &intent, c);
    }
    /* at most CANDIDATES, nearly in order already (retrieval's): insertion sort */
    for (int i = 1; i < kept; i++) {
        struct candidate x = m->cand[i];
        int at = i;
        for (; at > 0 && by_score(&x, &m->cand[at - 1]) < 0; at--)
            m->cand[at] = m->cand[at - 1];
        m->cand[at] = x;
    }
    int best = -1;
    /* An entry that holds the topic but not what the question asks for (a time, a number) does
     * not answer; one below it may. If none does, it is what planbot knows instead. */
    res->asks = intent.when     ? MATCH_ASKS_WHEN
                : intent.now    ? MATCH_ASKS_NOW
                : intent.count  ? MATCH_ASKS_COUNT
                : intent.become ? MATCH_ASKS_PAST
                                : MATCH_ASKS_TOPIC;
    /* "what did X say (about Y)": only the words of X, the speaker named first, answer */
    int instead = -1, named = INT_MAX, by_who = 0;
    for (int i = 0; i < kept && intent.say && !intent.who_said; i++) {
        if (m->cand[i].speaker && m->cand[i].speaker_at < named)
            named = m->cand[i].speaker_at;
        by_who |= m->cand[i].speaker_who && answers(&m->cand[i], specific);
    }
    /* "what did Trump say" when no quote is his: no one else's words answer, and what else the
     * knowledge base holds on it is offered instead */
    int unquoted = intent.say && named == INT_MAX && names_group(m, ng, intent.who_at);
    if (unquoted) {
        named = -1;
        res->asks = MATCH_ASKS_SAID;
        if (explain)
            buf_puts(explain, "no quote is by the one named: no entry answers; another may be "
                              "offered instead\n");
    }
    /* the one a verb of saying names, when a quote of theirs answers ("is Zelensky expected to
     * speak to Trump? what did his office say": the office's words, not Zelensky's), else the
     * one named first */
#define SOMEONE_ELSES(c)                                                                           \
    (named != INT_MAX && (c)->f->quote &&                                                          \
     (by_who ? !(c)->speaker_who                                                                   \
             : (c)->speaker_at != named && !joined(m, ng, named, (c)->speaker_at)))
    /* holds the topic but not what is asked of it: a time, a number, the one named, the party */
    /* "what did Sikorski say about the jets": not an entry that is no quote and names him
     * nowhere (the jets' provision), which is not what he said */
#define NOT_THEIRS(c)                                                                              \
    (named >= 0 && named != INT_MAX && !(c)->f->quote && !mentions(m, ng, (c)->f, named))
#define BLOCKED(c)                                                                                 \
    ((c)->mismatch || (c)->other_party >= 0 || (c)->off_about || unquoted || NOT_THEIRS(c))
    for (int i = 0; i < kept && best < 0; i++) {
        if (!answers(&m->cand[i], specific) || SOMEONE_ELSES(&m->cand[i]))
            continue;
        if (!BLOCKED(&m->cand[i]))
            best = i;
        else if (instead < 0)
            instead = i;
    }
    int near = 0, example = 0;
    const char *lenient = lenient_for(&intent, nwords);
    if (best < 0 && instead < 0 && kept > 0 && !SOMEONE_ELSES(&m->cand[0])) {
        example = example_holds_all(m, ng, m->cand[0].f);
        if (nearly_answers(&m->cand[0], kept > 1 ? m->cand[1].score : 0, lenient != NULL,
                           example)) {
            if (!BLOCKED(&m->cand[0]))
                best = 0, near = 1;
            else
                instead = 0;
        }
    }
    if (explain) {
        buf_puts(explain, "candidates:\n");
        for (int i = 0; i < kept && i < 8; i++)
            explain_candidate(m, ng, &m->cand[i], explain);
    }
    if (best >= 0) {
        hit_of(&m->cand[best], &res->answers[res->n++]);
        for (int i = 0; i < kept && res->n < limit; i++) {
            const struct candidate *c = &m->cand[i];
            if (i != best && answers(c, specific) &&
                c->score >= related_share * m->cand[best].score &&
                c->coverage >= related_coverage * m->cand[best].coverage)
                hit_of(c, &res->answers[res->n++]);
        }
        if (explain && near)
            buf_printf(explain,
                       "answer: %s, under the bar (%.0f%%) but over %.0f%% and %gx the next "
                       "candidate's score%s\n",
                       res->answers[0].id, answer_coverage * 100,
                       (lenient ? long_coverage : near_coverage) * 100,
                       near_lead(lenient != NULL, example),
                       lenient   ? lenient
                       : example ? " (an example question holds every word of it)"
                                 : "");
        else if (explain)
            buf_printf(explain, "answer: %s\n", res->answers[0].id);
        return 0;
    }
    if (instead >= 0) {
        const struct candidate *c = &m->cand[instead];
        res->has_instead = 1;
        hit_of(c, &res->instead);
        if (!c->mismatch && !unquoted && c->other_party >= 0) {
            res->asks = MATCH_ASKS_PARTY;
            copy_str(res->party, sizeof res->party, m->party_names[m->owned[c->other_party].party]);
        } else if (!c->mismatch && NOT_THEIRS(c)) {
            res->asks = MATCH_ASKS_SAID;
        }
        if (explain)
            buf_printf(explain, "decline: %s holds the topic but %s%s; offered instead\n",
                       res->instead.id,
                       res->asks == MATCH_ASKS_WHEN    ? "states no time"
                       : res->asks == MATCH_ASKS_COUNT ? "states no number"
                       : res->asks == MATCH_ASKS_NOW   ? "says nothing of how things stand now"
                       : res->asks == MATCH_ASKS_SAID  ? "is no quote of the one named"
                       : res->asks == MATCH_ASKS_PARTY ? "only another party's, not "
                                                       : "is not about what they were asked about",
                       res->asks == MATCH_ASKS_PARTY ? res->party : "");
        return 0;
    }
    for (int i = 0; i < kept && res->nsuggest < MATCH_MAX_SUGGESTIONS; i++)
        if (m->cand[i].topical)
            hit_of(&m->cand[i], &res->suggestions[res->nsuggest++]);
    if (explain)
        buf_printf(explain,
                   "decline: no entry covers more than %.0f%% of the question with a specific "
                   "word outside its keywords\n",
                   answer_coverage * 100);
    return 0;
}
