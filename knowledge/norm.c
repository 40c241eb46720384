/* norm.c - what in a question is not words, and the word lists of the matcher.
 *
 * The lists are general English, not tuned to any question: function words, chat fillers,
 * common verbs and adjectives that rarely carry the topic, and the verbs of reported speech. */
#include "norm.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "utf8.h"

/* Sorted, so that a reader finds a word; norm_class() looks them up in class_table. */
static const char *const stop_words[] = {
    "a",          "about",   "abt",       "across",    "address",   "addressed", "addresses",
    "afaik",      "ah",      "although",  "am",        "an",        "and",       "any",
    "anybody",    "anyone",  "anything",  "anyways",   "anywhere",  "are",       "aren",
    "as",         "at",      "bc",        "be",        "because",   "been",      "being",
    "besides",    "bot",     "btw",       "but",       "by",        "can",       "cannot",
    "clarify",    "cld",     "could",     "couldn",    "cover",     "covered",   "covers",
    "coz",        "cuz",     "d",         "did",       "didn",      "do",        "does",
    "doesn",      "doing",   "don",       "dont",      "dunno",     "elaborate", "etc",
    "everywhere", "explain", "explained", "for",       "from",      "fwiw",      "fyi",
    "gimme",      "gonna",   "gotta",     "guess",     "had",       "hadn",      "has",
    "hasn",       "have",    "haven",     "having",    "he",        "hello",     "her",
    "here",       "hers",    "hey",       "hi",        "him",       "his",       "hmm",
    "how",        "hows",    "i",         "idk",       "if",        "iirc",      "im",
    "imho",       "imo",     "in",        "include",   "included",  "includes",  "inside",
    "instead",    "into",    "is",        "isn",       "it",        "its",       "itself",
    "just",       "kinda",   "know",      "lemme",     "let",       "ll",        "lmao",
    "lol",        "m",       "me",        "mention",   "mentioned", "mentions",  "mister",
    "mr",         "mrs",     "ms",        "my",        "myself",    "nah",       "ngl",
    "no",         "nope",    "nor",       "not",       "of",        "oh",        "ok",
    "okay",       "on",      "once",      "onto",      "or",        "our",       "ours",
    "per",        "planbot", "please",    "pls",       "plz",       "ppl",       "quick",
    "r",          "re",      "recap",     "regarding", "remind",    "rn",        "s",
    "she",        "shld",    "should",    "shouldn",   "smb",       "smbdy",     "smth",
    "so",         "some",    "somebody",  "someone",   "something", "somewhere", "sorry",
    "sorta",      "sth",     "such",      "t",         "tbh",       "tell",      "than",
    "thank",      "thanks",  "that",      "thats",     "the",       "their",     "theirs",
    "them",       "then",    "there",     "theres",    "these",     "they",      "this",
    "tho",        "those",   "though",    "thru",      "thx",       "to",        "too",
    "ty",         "u",       "uh",        "um",        "unless",    "until",     "upon",
    "ur",         "us",      "ve",        "very",      "via",       "wait",      "wanna",
    "was",        "wasn",    "wat",       "we",        "were",      "weren",     "what",
    "whats",      "when",    "whenever",  "whens",     "where",     "whereas",   "wheres",
    "wherever",   "which",   "while",     "who",       "whoever",   "whom",      "whos",
    "whose",      "why",     "will",      "wise",      "with",      "wld",       "wont",
    "wot",        "would",   "wouldn",    "wut",       "y",         "ya",        "yeah",
    "yep",        "yes",     "you",       "your",      "yours",     "yup",
};

/* Words that count for little; also those that name the source itself ("article", "report"). */
static const char *const weak_words[] = {
    "able",       "according",    "accurate",   "accurately",   "actually",    "after",
    "afterward",  "afterwards",   "again",      "ago",          "ahead",       "all",
    "allow",      "allowed",      "allows",     "already",      "also",        "another",
    "anymore",    "anyway",       "apparently", "around",       "article",     "articles",
    "ask",        "asked",        "asking",     "asks",         "back",        "bad",
    "basically",  "became",       "become",     "becomes",      "becoming",    "before",
    "beforehand", "best",         "better",     "big",          "bigger",      "bit",
    "both",       "bring",        "brings",     "came",         "certainly",   "clause",
    "clauses",    "come",         "comes",      "coming",       "correct",     "correctly",
    "currently",  "deadline",     "deadlines",  "definitely",   "detail",      "details",
    "different",  "done",         "each",       "earlier",      "either",      "else",
    "ending",     "ends",         "especially", "even",         "eventually",  "ever",
    "every",      "everything",   "exactly",    "exaggerated",  "fast",        "few",
    "find",       "first",        "folks",      "formally",     "fully",       "generally",
    "get",        "gets",         "getting",    "give",         "given",       "gives",
    "go",         "goes",         "going",      "gone",         "good",        "got",
    "gotten",     "great",        "guy",        "guys",         "happen",      "happened",
    "happening",  "happens",      "hear",       "heard",        "hearing",     "herself",
    "himself",    "huge",         "hype",       "idea",         "immediately", "incorrect",
    "info",       "information",  "initially",  "keep",         "keeps",       "kind",
    "kinds",      "large",        "last",       "late",         "later",       "legit",
    "lets",       "like",         "likely",     "literally",    "little",      "long",
    "look",       "looks",        "lot",        "lots",         "made",        "main",
    "make",       "makes",        "making",     "many",         "may",         "maybe",
    "mean",       "means",        "meant",      "might",        "moment",      "month",
    "months",     "more",         "most",       "mostly",       "much",        "must",
    "need",       "needs",        "never",      "new",          "news",        "next",
    "now",        "number",       "officially", "old",          "one",         "ones",
    "only",       "originally",   "other",      "others",       "otherwise",   "out",
    "over",       "overall",      "overblown",  "own",          "paragraph",   "paragraphs",
    "part",       "particularly", "perhaps",    "piece",        "possible",    "pretty",
    "probably",   "provision",    "provisions", "put",          "quickly",     "quite",
    "real",       "really",       "remain",     "remains",      "report",      "reports",
    "right",      "role",         "rumor",      "rumors",       "rumour",      "rumours",
    "same",       "schedule",     "section",    "sections",     "see",         "seem",
    "seemed",     "seems",        "seriously",  "shall",        "short",       "show",
    "showed",     "shows",        "simply",     "since",        "small",       "somehow",
    "somewhat",   "soon",         "sort",       "specifically", "spin",        "stay",
    "stayed",     "stays",        "still",      "stories",      "story",       "stuff",
    "subsection", "supposed",     "supposedly", "sure",         "taken",       "takes",
    "taking",     "themselves",   "thing",      "things",       "timeframe",   "timeline",
    "timelines",  "timetable",    "today",      "took",         "tried",       "tries",
    "true",       "try",          "trying",     "turn",         "turned",      "turns",
    "under",      "up",           "use",        "used",         "want",        "wanted",
    "wants",      "way",          "week",       "weeks",        "well",        "went",
    "whatever",   "whether",      "whole",      "wild",         "within",      "without",
    "wonder",     "wondering",    "year",       "years",        "yet",
};

static const char *const say_words[] = {
    "argue",        "argued",        "argues",       "arguing",       "believe",    "believes",
    "characterise", "characterised", "characterize", "characterized", "chime",      "chimed",
    "claim",        "claimed",       "claiming",     "claims",        "comment",    "commented",
    "commenting",   "comments",      "describe",     "described",     "describing", "feel",
    "feels",        "opinion",       "opinions",     "position",      "posted",     "quote",
    "quoted",       "quotes",        "react",        "reacted",       "reacting",   "reaction",
    "reactions",    "reacts",        "remark",       "remarks",       "respond",    "responded",
    "responding",   "responds",      "response",     "said",          "say",        "saying",
    "says",         "speak",         "speaking",     "speaks",        "spoke",      "spoken",
    "stance",       "statement",     "statements",   "take",          "think",      "thinks",
    "thought",      "thoughts",      "told",         "tweet",         "tweeted",    "tweeting",
    "view",         "views",         "warn",         "warned",        "weigh",      "weighed",
    "word",         "words",         "wrote",
};

/* The three lists in one open-addressing table, built once: a word's class is a hash and a
 * compare or two, where three binary searches cost about 800 instructions, and the matcher asks
 * for dozens of words a question (each unknown word's one-letter edits among them). */
enum { CLASS_SLOTS = 2048 }; /* a power of 2, over twice the words of the lists */

static struct {
    const char *word; /* NULL: empty slot */
    enum norm_class cls;
} class_table[CLASS_SLOTS];
static pthread_once_t class_once = PTHREAD_ONCE_INIT;

static uint32_t word_hash(const char *w)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *w; w++)
        h = (h ^ (unsigned char)*w) * 16777619u;
    return h;
}

static void class_put(const char *const *list, size_t n, enum norm_class cls)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t at = word_hash(list[i]) & (CLASS_SLOTS - 1);
        while (class_table[at].word && strcmp(class_table[at].word, list[i]) != 0)
            at = (at + 1) & (CLASS_SLOTS - 1);
        if (!class_table[at].word) /* a word in two lists keeps the first: say, then stop */
            class_table[at].word = list[i], class_table[at].cls = cls;
    }
}

static void class_build(void)
{
    _Static_assert(sizeof say_words / sizeof *say_words + sizeof stop_words / sizeof *stop_words +
                           sizeof weak_words / sizeof *weak_words <
                       CLASS_SLOTS / 2,
                   "CLASS_SLOTS must stay over twice the words of the lists");
    class_put(say_words, sizeof say_words / sizeof *say_words, NORM_SAY);
    class_put(stop_words, sizeof stop_words / sizeof *stop_words, NORM_STOP);
    class_put(weak_words, sizeof weak_words / sizeof *weak_words, NORM_WEAK);
}

enum norm_class norm_class(const char *word)
{
    if (word[0] && !word[1] && (word[0] < '0' || word[0] > '9'))
        return NORM_STOP; /* one letter: "b" of <b>, an initial, a typo's stray key */
    pthread_once(&class_once, class_build);
    for (uint32_t at = word_hash(word) & (CLASS_SLOTS - 1); class_table[at].word;
         at = (at + 1) & (CLASS_SLOTS - 1))
        if (strcmp(class_table[at].word, word) == 0)
            return class_table[at].cls;
    return NORM_CONTENT;
}

/* ---- what is not a word ---- */

static int is_word_byte(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c >= 0x80;
}

/* Emoji, pictographs and the characters that build them (flags, skin tones, joiners, variation
 * selectors, keycaps), and other symbols the FTS5 tokenizer would take for letters. */
static int is_emoji(uint32_t c)
{
    return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
           (c >= 0x2B00 && c <= 0x2BFF) || (c >= 0x2190 && c <= 0x21FF) ||
           (c >= 0x2300 && c <= 0x23FF) || (c >= 0x25A0 && c <= 0x25FF) ||
           (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0000 && c <= 0xE007F) || c == 0x200D ||
           c == 0x20E3 || c == 0x00A9 || c == 0x00AE || c == 0x2122 || c == 0x3030 || c == 0x303D ||
           c == 0x3297 || c == 0x3299;
}

static int starts_url(const char *s, size_t n)
{
    return (n > 7 && strncasecmp(s, "http://", 7) == 0) ||
           (n > 8 && strncasecmp(s, "https://", 8) == 0);
}

/* Matches "US" or "U.S." as a whole word at s; *len gets its length. */
static int us_abbrev(const char *s, size_t n, size_t *len)
{
    size_t l = n >= 4 && memcmp(s, "U.S.", 4) == 0 ? 4 : n >= 2 && memcmp(s, "US", 2) == 0 ? 2 : 0;
    if (!l || (l < n && is_word_byte((unsigned char)s[l]) && s[l] != '.'))
        return 0;
    *len = l;
    return 1;
}

/* Matches "won't" (with a straight or a curly apostrophe), or "won", as a whole word at s: *len
 * gets its length, *past whether it is "won". */
static int won(const char *s, size_t n, size_t *len, int *past)
{
    size_t l = n >= 5 && strncasecmp(s, "won't", 5) == 0 ? 5
               : n >= 7 && strncasecmp(s, "won", 3) == 0 && memcmp(s + 3, "\xE2\x80\x99", 3) == 0 &&
                       (s[6] == 't' || s[6] == 'T')
                   ? 7
               : n >= 3 && strncasecmp(s, "won", 3) == 0 ? 3
                                                         : 0;
    if (!l || (l < n && is_word_byte((unsigned char)s[l])))
        return 0;
    *len = l;
    *past = l == 3;
    return 1;
}

int norm_clean(const char *in, size_t len, struct buf *out)
{
    int rc = 0, past;
    size_t i = 0, skip;
    while (i < len && !rc) {
        unsigned char c = (unsigned char)in[i];
        int boundary = i == 0 || !is_word_byte((unsigned char)in[i - 1]);
        if ((c == '@' || (c == '#' && i + 1 < len && isalpha((unsigned char)in[i + 1]))) &&
            boundary) {
            /* a handle (@planbot) or a channel or tag (#general): names, not what is asked */
            size_t j = i + 1;
            while (j < len && is_word_byte((unsigned char)in[j]))
                j++;
            if (j > i + 1) {
                rc = buf_putc(out, ' ');
                i = j;
                continue;
            }
        } else if ((c == 'h' || c == 'H') && boundary && starts_url(in + i, len - i)) {
            size_t j = i;
            while (j < len && in[j] != ' ' && in[j] != '\n' && in[j] != '\t')
                j++;
            rc = buf_putc(out, ' ');
            i = j;
            continue;
        } else if ((c == 'w' || c == 'W') && boundary && won(in + i, len - i, &skip, &past)) {
            /* "won't" is "will not", and "won" is "win": the index holds the "won" of "won't",
             * which is no win */
            rc = buf_puts(out, past ? "win" : "will not");
            i += skip;
            continue;
        } else if (c == '%') {
            /* "what % of Donetsk", "20%": a word, which the tokenizer would drop as a sign */
            rc = buf_puts(out, " percent ");
            i++;
            continue;
        } else if (c == 'U' && boundary && us_abbrev(in + i, len - i, &skip)) {
            /* "US" and "U.S." in capitals name the country, not the pronoun "us". */
            rc = buf_puts(out, "USA");
            i += skip;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(in + i, len - i, &cp);
        if (n == 0 || cp == 0) {
            rc = buf_putc(out, ' ');
            i++;
            continue;
        }
        if (is_emoji(cp)) {
            rc = buf_putc(out, ' ');
            i += n;
            continue;
        }
        rc = buf_append(out, in + i, n);
        i += n;
    }
    return rc;
}
