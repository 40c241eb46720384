/* bench_ask.c - the ask benchmark: how long planbot takes to answer, question by question.
 *
 * Ask mode times what `planbot ask --json` does for each line of its input: match_ask(), then
 * the JSON reply (reply_answer_json() and cJSON_PrintUnformatted()), with CLOCK_MONOTONIC. One
 * knowledge base handle and one matcher answer the whole question file: once cold (filling the
 * matcher's caches), then as many rounds as it takes to ask at least --min questions, which give
 * the percentiles. Results are "name value" lines, read by run.sh and by people.
 *
 * Synthesize mode builds a large knowledge base to measure against: a new database holding the
 * bundled data, plus N generated entries imported in one kb_import(). Their words follow Zipf's
 * law (s = 1) over a vocabulary that mixes the bundled knowledge base's own words, spread over
 * the ranks in the order of their frequency there, with generated pseudo-words, so common words
 * are in many entries, rare ones in a few, and the plan's own words in some but not in all.
 * The seed is fixed: the same N gives the same database. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "kb.h"
#include "match.h"
#include "reply.h"

enum {
    ASK_LIMIT = 3,             /* answers per question, as `planbot ask` (the best + 2 related) */
    DEFAULT_MIN_ASKED = 20000, /* questions timed at least, over all rounds */
    SLOWEST_SHOWN = 5,         /* questions listed by their mean time */
    PSEUDO_WORDS = 30000,      /* generated words beside the bundled ones */
    SPEAKERS = 2000,           /* people quoted in the synthetic entries */
    MAX_WORD = 32,             /* bytes of one vocabulary word */
    DOC_MAX = 64 * 1024 * 1024 /* the largest file kb_import() accepts */
};

static const uint64_t default_seed = 20251120;
static const double zipf_s = 1.0;
static const char synthetic_source[] = "synthetic";

static const char usage[] =
    "usage: bench_ask --db PATH --questions FILE [--min N] [--rounds R]\n"
    "       bench_ask --synthesize N --db PATH [--seed S]\n"
    "\n"
    "  --questions FILE  one question per line, or a TSV whose first column is the question;\n"
    "                    empty lines and lines starting with # are skipped\n"
    "  --min N           time at least N questions over all rounds (default 20000)\n"
    "  --rounds R        answer the file exactly R times instead\n"
    "  --synthesize N    create PATH (it must not exist): the bundled knowledge base plus N\n"
    "                    generated entries\n"
    "  --seed S          random seed of the generated entries (default 20251120)\n";

/* ---- small tools ---- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Parses a whole decimal number in [min, max]; 0 or -1. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The nearest-rank percentile p (0 to 1) of n sorted values. */
static double percentile(const double *sorted, size_t n, double p)
{
    size_t rank = (size_t)ceil(p * (double)n);
    return sorted[rank ? rank - 1 : 0];
}

/* splitmix64: small, fast and the same everywhere, unlike rand(). */
struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi]. */
static int rng_range(struct rng *r, int lo, int hi)
{
    return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- ask mode ---- */

struct question {
    char *text; /* owned */
    size_t len;
    double total_us; /* time spent on it over the timed rounds */
};

static void free_questions(struct question *qs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(qs[i].text);
    free(qs);
}

/* Reads the question file: the first tab-separated column of each line that is neither empty
 * nor a comment. Returns 0 and the array (caller frees with free_questions()), or -1. */
static int read_questions(const char *path, struct question **out, size_t *nout)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        fprintf(stderr, "bench_ask: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct question *qs = NULL;
    size_t n = 0, cap = 0, size = 0;
    char *line = NULL;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &size, fp)) >= 0) {
        size_t len = strcspn(line, "\t\r\n");
        if (len == 0 || line[0] == '#')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            struct question *p = realloc(qs, cap * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            qs = p;
        }
        qs[n].text = malloc(len + 1);
        if (!qs[n].text) {
            rc = -1;
            break;
        }
        memcpy(qs[n].text, line, len);
        qs[n].text[len] = '\0';
        qs[n].len = len;
        qs[n].total_us = 0;
        n++;
    }
    if (ferror(fp))
        rc = -1;
    free(line);
    fclose(fp);
    if (!rc && n == 0) {
        fprintf(stderr, "bench_ask: %s holds no questions\n", path);
        rc = -1;
    } else if (rc) {
        fprintf(stderr, "bench_ask: reading %s failed\n", path);
    }
    if (rc) {
        free_questions(qs, n);
        return -1;
    }
    *out = qs;
    *nout = n;
    return 0;
}

struct asker {
    struct kb *kb;       /* owned */
    struct match *match; /* owned */
    long answered, errors;
    double match_us, reply_us; /* time in match_ask and in the reply, summed */
};

/* Answers one question as `planbot ask --json` does, without printing the reply: in one read
 * transaction, as the daemon and `ask` read (kb_read_begin()), its BEGIN and COMMIT timed with
 * the match. Returns the microseconds it took; a failure is counted and its first few reported
 * on stderr. */
static double ask_timed(struct asker *a, const struct question *q)
{
    struct match_result res;
    double t0 = now_us();
    int began = kb_read_begin(a->kb) == 0;
    int rc = match_ask(a->match, q->text, q->len, ASK_LIMIT, &res, NULL);
    double t1 = now_us();
    cJSON *o = rc ? NULL : reply_answer_json(a->kb, q->text, &res);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_free(s);
    cJSON_Delete(o);
    if (began)
        kb_read_end(a->kb);
    double t2 = now_us();
    a->match_us += t1 - t0;
    a->reply_us += t2 - t1;
    if (rc || !s) {
        if (a->errors++ < 10)
            fprintf(stderr, "bench_ask: \"%.80s\": %s\n", q->text,
                    rc ? match_errmsg(a->match) : "out of memory");
    }
    if (!rc && s && res.n > 0)
        a->answered++;
    return t2 - t0;
}

static void print_stats(const char *prefix, double *us, size_t n)
{
    qsort(us, n, sizeof *us, cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += us[i];
    printf("%sp50_us %.1f\n", prefix, percentile(us, n, 0.50));
    printf("%sp90_us %.1f\n", prefix, percentile(us, n, 0.90));
    printf("%sp99_us %.1f\n", prefix, percentile(us, n, 0.99));
    printf("%smax_us %.1f\n", prefix, us[n - 1]);
    printf("%smean_us %.1f\n", prefix, sum / (double)n);
}

static int by_total_desc(const void *a, const void *b)
{
    const struct question *x = a, *y = b;
    return x->total_us < y->total_us ? 1 : x->total_us > y->total_us ? -1 : 0;
}

static int run_ask(const char *db, const char *path, long min_asked, long rounds)
{
    struct question *qs;
    size_t nq;
    if (read_questions(path, &qs, &nq))
        return 1;
    struct asker a = { 0 };
    char err[1024];
    int status = 1;
    double *us = NULL;
    struct stat sb;
    if (stat(db, &sb) != 0) {
        fprintf(stderr, "bench_ask: %s: %s\n", db, strerror(errno));
        goto out;
    }
    double t0 = now_us();
    if (kb_open(&a.kb, db, 0, err, sizeof err)) {
        fprintf(stderr, "bench_ask: %s\n", err);
        goto out;
    }
    if (match_open(&a.match, a.kb)) {
        fprintf(stderr, "bench_ask: %s\n", kb_errmsg(a.kb));
        goto out;
    }
    double t_open = now_us() - t0;
    /* The first question loads the vocabulary and the synonyms: a cost of starting up. */
    char word[] = "planbot";
    struct question first = { word, sizeof word - 1, 0 };
    double t_load = ask_timed(&a, &first);
    a.answered = a.errors = 0;

    if (rounds == 0)
        rounds = (min_asked + (long)nq - 1) / (long)nq;
    size_t total = (size_t)rounds * nq;
    us = malloc((total > nq ? total : nq) * sizeof *us);
    if (!us) {
        fprintf(stderr, "bench_ask: out of memory\n");
        goto out;
    }

    printf("db %s\n", db);
    printf("entries %lld\n", (long long)kb_count_entries(a.kb));
    printf("questions %zu\n", nq);
    printf("open_ms %.2f\n", t_open / 1e3);
    printf("load_ms %.2f\n", t_load / 1e3);

    /* Cold: every question once, with the entry cache filling up. */
    for (size_t i = 0; i < nq; i++)
        us[i] = ask_timed(&a, &qs[i]);
    print_stats("cold_", us, nq);
    long cold_answered = a.answered;
    a.answered = a.errors = 0;
    a.match_us = a.reply_us = 0;

    double w0 = now_us();
    size_t k = 0;
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < nq; i++) {
            us[k] = ask_timed(&a, &qs[i]);
            qs[i].total_us += us[k++];
        }
    }
    double wall = now_us() - w0;
    printf("rounds %ld\n", rounds);
    printf("asked %zu\n", total);
    print_stats("", us, total);
    printf("qps %.0f\n", (double)total / (wall / 1e6));
    printf("match_mean_us %.1f\n", a.match_us / (double)total);
    printf("reply_mean_us %.1f\n", a.reply_us / (double)total);
    printf("answered %ld of %zu\n", cold_answered, nq);
    printf("errors %ld\n", a.errors);
    qsort(qs, nq, sizeof *qs, by_total_desc);
    for (size_t i = 0; i < nq && i < SLOWEST_SHOWN; i++)
        printf("slowest_us %.1f %.200s\n", qs[i].total_us / (double)rounds, qs[i].text);
    status = a.errors ? 1 : 0;
out:
    free(us);
    match_close(a.match);
    kb_close(a.kb);
    free_questions(qs, nq);
    return status;
}

/* ---- synthesize mode ---- */

/* A set of words with counts: open addressing, grown at half full. */
struct wordset {
    char **word; /* owned strings; NULL slots are empty */
    unsigned *count;
    size_t cap, n;
};

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static size_t wordset_slot(const struct wordset *s, const char *w, size_t len)
{
    size_t i = (size_t)hash_str(w, len) & (s->cap - 1);
    while (s->word[i] && (strlen(s->word[i]) != len || memcmp(s->word[i], w, len) != 0))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static int wordset_has(const struct wordset *s, const char *w)
{
    return s->cap && s->word[wordset_slot(s, w, strlen(w))] != NULL;
}

static void wordset_free(struct wordset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->word[i]);
    free(s->word);
    free(s->count);
    memset(s, 0, sizeof *s);
}

static int wordset_grow(struct wordset *s)
{
    struct wordset big = { 0 };
    big.cap = s->cap ? s->cap * 2 : 1024;
    big.word = calloc(big.cap, sizeof *big.word);
    big.count = calloc(big.cap, sizeof *big.count);
    if (!big.word || !big.count) {
        free(big.word);
        free(big.count);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->word[i])
            continue;
        size_t j = wordset_slot(&big, s->word[i], strlen(s->word[i]));
        big.word[j] = s->word[i];
        big.count[j] = s->count[i];
    }
    big.n = s->n;
    free(s->word);
    free(s->count);
    *s = big;
    return 0;
}

/* Adds count to word w of len bytes, adding the word when it is new; *kept (may be NULL) is the
 * set's copy, valid until wordset_free(). 0 or ERR_NOMEM. */
static int wordset_add(struct wordset *s, const char *w, size_t len, unsigned count,
                       const char **kept)
{
    if ((s->n + 1) * 2 > s->cap && wordset_grow(s))
        return ERR_NOMEM;
    size_t i = wordset_slot(s, w, len);
    if (!s->word[i]) {
        if (!(s->word[i] = malloc(len + 1)))
            return ERR_NOMEM;
        memcpy(s->word[i], w, len);
        s->word[i][len] = '\0';
        s->n++;
    }
    s->count[i] += count;
    if (kept)
        *kept = s->word[i];
    return 0;
}

/* Adds the words of text: runs of ASCII letters and digits, lowercased; other bytes (spaces,
 * punctuation, the UTF-8 of curly quotes and diacritics) separate them. */
static int add_words(struct wordset *s, const char *text)
{
    char w[MAX_WORD];
    size_t n = 0;
    for (const char *p = text;; p++) {
        char c = *p;
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (alnum) {
            if (n < sizeof w)
                w[n] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
            n++;
            continue;
        }
        if (n >= 2 && n <= sizeof w && wordset_add(s, w, n, 1, NULL))
            return ERR_NOMEM;
        n = 0;
        if (!c)
            return 0;
    }
}

/* The words of the bundled entries with their counts, from the new database. */
static int bundled_words(struct kb *kb, struct wordset *s)
{
    static const char *const fields[] = { "title", "text", "speaker", "role" };
    cJSON *entries = NULL;
    int rc = kb_list(kb, KB_ENTRY, NULL, 0, &entries);
    if (rc)
        return rc;
    const cJSON *e;
    cJSON_ArrayForEach(e, entries)
    {
        for (size_t i = 0; i < sizeof fields / sizeof *fields && !rc; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, fields[i]);
            if (cJSON_IsString(v))
                rc = add_words(s, v->valuestring);
        }
        const cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(e, "keywords"))
        {
            if (!rc && cJSON_IsString(k))
                rc = add_words(s, k->valuestring);
        }
    }
    cJSON_Delete(entries);
    return rc;
}

/* A pronounceable pseudo-word of 1 to 4 syllables into out (at least MAX_WORD bytes). */
static void pseudo_word(struct rng *r, char *out)
{
    static const char *const onset[] = { "b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",
                                         "n",  "p",  "r",  "s",  "t",  "v",  "w",  "z",  "br", "cr",
                                         "dr", "fr", "gr", "pr", "tr", "st", "sl", "sh", "ch", "th",
                                         "pl", "cl", "bl", "gl", "sk", "sp", "qu", "",   "",   "" };
    static const char *const nucleus[] = { "a", "e", "i",  "o",  "u",  "a",  "e",  "o",
                                           "i", "y", "ai", "ea", "ou", "io", "ee", "oa" };
    static const char *const coda[] = { "",  "",  "",   "",   "n",  "r", "s",  "l",
                                        "m", "t", "nd", "st", "rk", "x", "ck", "ng" };
    static const int syllables[] = { 1, 2, 2, 2, 3, 3, 3, 4 };
    int ns = syllables[rng_next(r) % (sizeof syllables / sizeof *syllables)];
    size_t at = 0;
    out[0] = '\0';
    for (int i = 0; i < ns; i++) {
        const char *o = onset[rng_next(r) % (sizeof onset / sizeof *onset)];
        const char *v = nucleus[rng_next(r) % (sizeof nucleus / sizeof *nucleus)];
        const char *c = coda[rng_next(r) % (sizeof coda / sizeof *coda)];
        int n = snprintf(out + at, MAX_WORD - at, "%s%s%s", o, v, c);
        if (n < 0 || (size_t)n >= MAX_WORD - at)
            break;
        at += (size_t)n;
    }
}

/* A vocabulary word with the key it is ranked by. */
struct ranked {
    const char *word; /* borrowed from a wordset */
    size_t key;       /* bundled words: their count; pseudo-words: their length */
    size_t order;     /* pseudo-words: when they were made */
};

static int cmp_count_desc(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    return strcmp(x->word, y->word);
}

static int cmp_length(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

struct synth {
    struct rng rng;
    struct wordset bundled, pseudo;
    const char **vocab; /* by Zipf rank; borrowed from the sets */
    size_t nvocab;
    double *cdf; /* cumulative Zipf weight of ranks 0..i */
    char (*speaker)[2 * MAX_WORD + 2];
    double *speaker_cdf;
    struct buf doc;   /* the export document */
    struct buf field; /* the field being made */
    int rc;           /* the first error of the appends to doc and field */
};

static void synth_free(struct synth *s)
{
    wordset_free(&s->bundled);
    wordset_free(&s->pseudo);
    free(s->vocab);
    free(s->cdf);
    free(s->speaker);
    free(s->speaker_cdf);
    buf_free(&s->doc);
    buf_free(&s->field);
}

static double *zipf_cdf(size_t n)
{
    double *cdf = malloc(n * sizeof *cdf), sum = 0;
    for (size_t i = 0; cdf && i < n; i++)
        cdf[i] = sum += 1.0 / pow((double)(i + 1), zipf_s);
    return cdf;
}

/* A rank drawn from the Zipf distribution whose cumulative weights are cdf[0..n). */
static size_t zipf_pick(struct rng *r, const double *cdf, size_t n)
{
    double u = rng_unit(r) * cdf[n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cdf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Builds the ranked vocabulary: the bundled words in the order of their frequency, each at a
 * random rank within its share of the ranks, and the pseudo-words, shortest first (as in real
 * text, common words are short), in between. Then the speakers. 0 or ERR_NOMEM. */
static int make_vocab(struct synth *s)
{
    size_t nb = s->bundled.n, np = 0;
    struct ranked *b = calloc(nb + 1, sizeof *b);
    struct ranked *p = calloc(PSEUDO_WORDS, sizeof *p);
    if (!b || !p)
        goto nomem;
    for (size_t i = 0, k = 0; i < s->bundled.cap; i++)
        if (s->bundled.word[i])
            b[k++] = (struct ranked){ s->bundled.word[i], s->bundled.count[i], 0 };
    qsort(b, nb, sizeof *b, cmp_count_desc);

    char w[MAX_WORD];
    while (np < PSEUDO_WORDS) {
        pseudo_word(&s->rng, w);
        size_t len = strlen(w);
        if (len < 3 || wordset_has(&s->bundled, w) || wordset_has(&s->pseudo, w))
            continue;
        const char *kept;
        if (wordset_add(&s->pseudo, w, len, 1, &kept))
            goto nomem;
        p[np] = (struct ranked){ kept, len, np };
        np++;
    }
    qsort(p, np, sizeof *p, cmp_length);

    s->nvocab = nb + np;
    s->vocab = calloc(s->nvocab, sizeof *s->vocab);
    s->cdf = zipf_cdf(s->nvocab);
    if (!s->vocab || !s->cdf)
        goto nomem;
    double share = (double)s->nvocab / (double)nb;
    for (size_t i = 0; i < nb; i++) {
        /* rounding may put the last at nvocab itself: keep it in, and on a free slot */
        size_t at = (size_t)(((double)i + rng_unit(&s->rng)) * share);
        for (at = at < s->nvocab ? at : s->nvocab - 1; s->vocab[at]; at = (at + 1) % s->nvocab)
            ;
        s->vocab[at] = b[i].word;
    }
    for (size_t i = 0, j = 0; i < s->nvocab; i++)
        if (!s->vocab[i])
            s->vocab[i] = p[j++].word;

    /* Speakers: two pseudo-words each, capitalised; some are quoted far more than others. */
    s->speaker = calloc(SPEAKERS, sizeof *s->speaker);
    s->speaker_cdf = zipf_cdf(SPEAKERS);
    if (!s->speaker || !s->speaker_cdf)
        goto nomem;
    for (int i = 0; i < SPEAKERS; i++) {
        const char *first = p[rng_next(&s->rng) % np].word;
        const char *last = p[rng_next(&s->rng) % np].word;
        snprintf(s->speaker[i], sizeof s->speaker[i], "%c%s %c%s", first[0] - 'a' + 'A', first + 1,
                 last[0] - 'a' + 'A', last + 1);
    }
    free(b);
    free(p);
    return 0;
nomem:
    free(b);
    free(p);
    return ERR_NOMEM;
}

/* Appends to b unless an append failed before. */
static void put_str(struct synth *s, struct buf *b, const char *str)
{
    if (!s->rc)
        s->rc = buf_puts(b, str);
}

static void put_char(struct synth *s, struct buf *b, char c)
{
    if (!s->rc)
        s->rc = buf_putc(b, c);
}

/* How put_words() shapes its words. */
enum shape {
    PLAIN,    /* lowercase words: keywords, roles */
    TITLE,    /* the first word capitalised */
    SENTENCES /* sentences of 5 to 15 words, capitalised, each ending with a full stop */
};

/* Appends n Zipf words to the field. */
static void put_words(struct synth *s, int n, enum shape shape)
{
    int left = 0; /* words until the sentence ends */
    for (int i = 0; i < n; i++) {
        const char *w = s->vocab[zipf_pick(&s->rng, s->cdf, s->nvocab)];
        int start = i == 0 || (shape == SENTENCES && left == 0);
        if (shape == SENTENCES && left == 0)
            left = rng_range(&s->rng, 5, 15);
        if (i > 0)
            put_str(s, &s->field, shape == SENTENCES && start ? ". " : " ");
        if (start && shape != PLAIN && w[0] >= 'a' && w[0] <= 'z') {
            put_char(s, &s->field, (char)(w[0] - 'a' + 'A'));
            w++;
        }
        put_str(s, &s->field, w);
        left--;
    }
    if (shape == SENTENCES)
        put_char(s, &s->field, '.');
}

/* Appends ,"key":"value" to the document (without the comma when first), value escaped. */
static void put_json(struct synth *s, const char *key, const char *value, int first)
{
    put_str(s, &s->doc, first ? "\"" : ",\"");
    put_str(s, &s->doc, key);
    put_str(s, &s->doc, "\":\"");
    for (const char *p = value; *p && !s->rc; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20) {
            s->rc = buf_printf(&s->doc, "\\u%04x", c);
            continue;
        }
        if (c == '"' || c == '\\')
            put_char(s, &s->doc, '\\');
        put_char(s, &s->doc, (char)c);
    }
    put_char(s, &s->doc, '"');
}

/* Appends the field being made as ,"key":"..." and empties it. */
static void put_field(struct synth *s, const char *key)
{
    put_json(s, key, buf_str(&s->field), 0);
    buf_reset(&s->field);
}

/* Appends generated entry number n (from 1) to the document. */
static void put_entry(struct synth *s, long n)
{
    char id[32];
    snprintf(id, sizeof id, "synthetic-%06ld", n);
    int quote = rng_unit(&s->rng) < 0.25;
    const char *kind = quote ? "quote" : rng_unit(&s->rng) < 0.5 ? "provision" : "context";
    put_str(s, &s->doc, n > 1 ? ",{" : "{");
    put_json(s, "id", id, 1);
    put_json(s, "kind", kind, 0);
    put_words(s, rng_range(&s->rng, 5, 10), TITLE);
    put_field(s, "title");
    if (quote)
        put_str(s, &s->field, "\xe2\x80\x9c"); /* “ */
    put_words(s, rng_range(&s->rng, 20, 60), SENTENCES);
    if (quote)
        put_str(s, &s->field, "\xe2\x80\x9d"); /* ” */
    put_field(s, "text");
    if (quote) {
        put_json(s, "speaker", s->speaker[zipf_pick(&s->rng, s->speaker_cdf, SPEAKERS)], 0);
        put_words(s, rng_range(&s->rng, 2, 4), PLAIN);
        put_field(s, "role");
    }
    put_json(s, "source", synthetic_source, 0);
    put_str(s, &s->doc, ",\"keywords\":[");
    int nk = rng_range(&s->rng, 3, 8);
    for (int k = 0; k < nk; k++) {
        put_words(s, rng_range(&s->rng, 1, 2), PLAIN);
        put_str(s, &s->doc, k ? ",\"" : "\"");
        put_str(s, &s->doc, buf_str(&s->field));
        put_char(s, &s->doc, '"');
        buf_reset(&s->field);
    }
    put_str(s, &s->doc, "]}");
}

/* The export document: one source without text (so entries need not quote it), n entries.
 * Returns 0, ERR_TOOBIG past kb_import's file limit, or ERR_NOMEM. */
static int make_document(struct synth *s, long n)
{
    put_str(s, &s->doc, "{\"format\":\"planbot-kb\",\"version\":1,\"sources\":[{");
    put_json(s, "id", synthetic_source, 1);
    put_json(s, "title", "Synthetic entries for the benchmark", 0);
    put_json(s, "publisher", "planbot bench", 0);
    put_str(s, &s->doc, ",\"authors\":[]}],\"entries\":[");
    for (long i = 1; i <= n && !s->rc; i++)
        put_entry(s, i);
    put_str(s, &s->doc, "]}\n");
    return s->rc;
}

static int run_synthesize(const char *db, long n, uint64_t seed)
{
    struct stat sb;
    if (stat(db, &sb) == 0) {
        fprintf(stderr, "bench_ask: %s already exists; --synthesize makes a new database\n", db);
        return 1;
    }
    struct synth s = { .rng = { seed } };
    buf_init(&s.doc, DOC_MAX);
    buf_init(&s.field, 64 * 1024);
    struct kb *kb = NULL;
    char err[1024];
    int status = 1;
    double t0 = now_us();
    if (kb_open(&kb, db, 0, err, sizeof err)) {
        fprintf(stderr, "bench_ask: %s\n", err);
        goto out;
    }
    double t1 = now_us();
    int rc = bundled_words(kb, &s.bundled);
    if (!rc)
        rc = make_vocab(&s);
    if (!rc)
        rc = make_document(&s, n);
    if (rc == ERR_TOOBIG) {
        fprintf(stderr, "bench_ask: %ld entries make a file over kb_import's %d MiB limit\n", n,
                DOC_MAX >> 20);
        goto out;
    } else if (rc) {
        fprintf(stderr, "bench_ask: generating the entries: %s\n", err_str(rc));
        goto out;
    }
    static const struct kb_actor who = { "bench", "bench" };
    struct kb_import_opts opts = { 0, 0 };
    struct kb_import_report rep;
    double t2 = now_us();
    if ((rc = kb_import(kb, s.doc.data, s.doc.len, &opts, &who, &rep))) {
        fprintf(stderr, "bench_ask: importing the synthetic entries: %s\n", kb_errmsg(kb));
        goto out;
    }
    double t3 = now_us();
    printf("db %s\n", db);
    printf("bundled_words %zu\n", s.bundled.n);
    printf("vocabulary %zu\n", s.nvocab);
    printf("document_mb %.1f\n", (double)s.doc.len / (1024.0 * 1024.0));
    printf("added %d\n", rep.added);
    printf("entries %lld\n", (long long)kb_count_entries(kb));
    printf("create_s %.2f\n", (t1 - t0) / 1e6);
    printf("generate_s %.2f\n", (t2 - t1) / 1e6);
    printf("import_s %.2f\n", (t3 - t2) / 1e6);
    status = 0;
out:
    kb_close(kb);
    synth_free(&s);
    if (status)
        remove(db); /* a half-made database must not be taken for a finished one */
    return status;
}

int main(int argc, char **argv)
{
    const char *db = NULL, *questions = NULL;
    long synthesize = -1, min_asked = DEFAULT_MIN_ASKED, rounds = 0, seed = (long)default_seed;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = !v;
        if (strcmp(a, "--db") == 0 && v)
            db = v;
        else if (strcmp(a, "--questions") == 0 && v)
            questions = v;
        else if (strcmp(a, "--synthesize") == 0 && v)
            bad = parse_long(v, 1, 10000000, &synthesize);
        else if (strcmp(a, "--min") == 0 && v)
            bad = parse_long(v, 1, 100000000, &min_asked);
        else if (strcmp(a, "--rounds") == 0 && v)
            bad = parse_long(v, 1, 1000000, &rounds);
        else if (strcmp(a, "--seed") == 0 && v)
            bad = parse_long(v, 0, LONG_MAX, &seed);
        else
            bad = 1;
        if (bad) {
            fprintf(stderr, "bench_ask: bad option %s%s%s\n\n%s", a, v ? " " : "", v ? v : "",
                    usage);
            return 2;
        }
        i++;
    }
    if (db && synthesize > 0 && !questions)
        return run_synthesize(db, synthesize, (uint64_t)seed);
    if (db && questions && synthesize < 0)
        return run_ask(db, questions, min_asked, rounds);
    fputs(usage, stderr);
    return 2;
}
