/* fuzz_match.c - libFuzzer target for what a chat message meets: the normaliser (norm.h), the
 * matcher (match.h) with the reply written from its result (reply.h), and the dispatcher
 * (dispatch.h) with its command table, once as an ordinary user in a channel and once as a
 * moderator in a direct message, so that `kb ...` commands are fuzzed as well.
 *
 * An input is one message, or up to MAX_MESSAGES messages separated by the byte 0x1E (ASCII record
 * separator, which chat text does not hold), dispatched in turn: a moderator's `kb add` then
 * `kb edit`, `kb undo` or `kb check` reach states a single command cannot.
 *
 * The knowledge base is a database file with the bundled data, in a folder of its own under
 * /dev/shm (or /tmp). A moderator's command may change it; then it is put back from a copy before
 * the next input, so every input meets the same knowledge and a crash replays from its input
 * alone. It is also put back every REOPEN_RUNS inputs, which bounds the declined questions the
 * dispatcher records.
 *
 * Besides crashes, leaks and undefined behaviour, it aborts when a promise breaks: match_ask fails
 * only for a question over MATCH_MAX_QUESTION or one with a NUL byte (a database error would mean
 * user text reached SQL or an FTS5 query unescaped); its results lie within their bounds; a
 * message from an ordinary user never changes the knowledge base; no message ends in a database
 * error; after moderators' changes, kb_check finds the knowledge base consistent. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "convo.h"
#include "dispatch.h"
#include "slack_codec.h"
#include "err.h"
#include "kb.h"
#include "log.h"
#include "match.h"
#include "norm.h"
#include "reply.h"
#include "fuzz.h"

enum {
    REOPEN_RUNS = 1000,      /* inputs between two fresh knowledge bases */
    MAX_REPLY = 1024 * 1024, /* as bot.c */
    MAX_MESSAGES = 8,        /* messages in one input */
    SEPARATOR = 0x1e         /* between two messages of one input */
};

/* The knowledge base and matcher every input uses (libFuzzer runs inputs one at a time). */
static struct {
    struct kb *kb;
    struct match *m;
    struct convo *convo; /* the conversations: each input's messages follow the ones before */
    uint64_t stamp;      /* kb_stamp() when opened: another value means the data changed */
    unsigned runs;       /* inputs since opened */
    int verbose;   /* FUZZ_VERBOSE set: print each message and its replies (to replay an input) */
    char dir[64];  /* a folder of this process for the database */
    char path[96]; /* the database the inputs use: a copy of image */
    char *image;   /* the database file as kb_open made it with the bundled data (owned) */
    size_t image_len;
} fz;

/* Removes the database and its WAL files. */
static void remove_database(void)
{
    static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "%s%s", fz.path, suffixes[i]);
        unlink(name);
    }
}

static void open_database(void)
{
    char err[512];
    if (kb_open(&fz.kb, fz.path, 0, err, sizeof err)) {
        fprintf(stderr, "fuzz_match: kb_open: %s\n", err);
        abort();
    }
}

/* A fresh database: a copy of the image, which is much quicker than importing the bundled data
 * again, and a file in WAL mode as planbot uses. */
static void fuzz_open(void)
{
    remove_database();
    FILE *f = fopen(fz.path, "wb");
    if (!f || fwrite(fz.image, 1, fz.image_len, f) != fz.image_len || fclose(f)) {
        fprintf(stderr, "fuzz_match: cannot write %s\n", fz.path);
        abort();
    }
    open_database();
    if (match_open(&fz.m, fz.kb)) {
        fprintf(stderr, "fuzz_match: match_open: %s\n", kb_errmsg(fz.kb));
        abort();
    }
    if (convo_new(&fz.convo, 8, 60000)) {
        fprintf(stderr, "fuzz_match: out of memory\n");
        abort();
    }
    fz.stamp = kb_stamp(fz.kb);
    fz.runs = 0;
}

static void fuzz_close(void)
{
    match_close(fz.m);
    kb_close(fz.kb);
    convo_free(fz.convo);
    fz.convo = NULL;
    fz.m = NULL;
    fz.kb = NULL;
}

static void fuzz_atexit(void)
{
    fuzz_close(); /* so that LeakSanitizer sees only real leaks at exit */
    remove_database();
    rmdir(fz.dir);
    free(fz.image);
}

/* Makes the database with the bundled data once and keeps its file in memory. */
static void make_image(void)
{
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fz.dir, sizeof fz.dir, "%s/planbot-fuzz-XXXXXX", tmp);
    if (!mkdtemp(fz.dir)) {
        perror("fuzz_match: mkdtemp");
        abort();
    }
    snprintf(fz.path, sizeof fz.path, "%s/kb.db", fz.dir);
    open_database();
    kb_close(fz.kb); /* the last connection folds the WAL into the file */
    FILE *f = fopen(fz.path, "rb");
    long len = -1;
    if (f && fseek(f, 0, SEEK_END) == 0)
        len = ftell(f);
    if (len > 0 && fseek(f, 0, SEEK_SET) == 0 && (fz.image = malloc((size_t)len)) != NULL)
        fz.image_len = fread(fz.image, 1, (size_t)len, f);
    if (f)
        fclose(f);
    if (!fz.image || fz.image_len != (size_t)len) {
        fprintf(stderr, "fuzz_match: cannot read %s\n", fz.path);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_OFF);
    fz.verbose = getenv("FUZZ_VERBOSE") != NULL;
    make_image();
    fuzz_open();
    atexit(fuzz_atexit);
    return 0;
}

static void normalise(const char *q, size_t len)
{
    struct buf out;
    buf_init(&out, 4 * MATCH_MAX_QUESTION);
    int rc = norm_clean(q, len, &out);
    CHECK(rc == 0 || rc == ERR_TOOBIG || rc == ERR_NOMEM);
    if (rc == 0) {
        /* classify each space-separated word of the cleaned text */
        char word[64];
        size_t n = 0;
        for (size_t i = 0; i <= out.len; i++) {
            char c = i < out.len ? out.data[i] : ' ';
            if (c != ' ' && c != '\0') {
                if (n + 1 < sizeof word)
                    word[n++] = c;
                continue;
            }
            if (n) {
                word[n] = '\0';
                CHECK(norm_class(word) <= NORM_SAY);
                n = 0;
            }
        }
    }
    buf_free(&out);
}

static void ask(const char *q, size_t len)
{
    struct match_result res;
    struct buf explain;
    buf_init(&explain, 256 * 1024);
    int rc = match_ask(fz.m, q, len, 3, &res, &explain);
    buf_free(&explain);
    if (rc) {
        if (!((rc == ERR_TOOBIG && len > MATCH_MAX_QUESTION) ||
              (rc == ERR_INVAL && memchr(q, '\0', len)))) {
            fprintf(stderr, "fuzz_match: match_ask failed with %s: %s\n", err_str(rc),
                    match_errmsg(fz.m));
            abort();
        }
        return;
    }
    CHECK(res.n >= 0 && res.n <= 3);
    CHECK(res.nsuggest >= 0 && res.nsuggest <= MATCH_MAX_SUGGESTIONS);
    for (int i = 0; i < res.n; i++) {
        CHECK(res.answers[i].id[0] != '\0');
        CHECK(memchr(res.answers[i].id, '\0', sizeof res.answers[i].id) != NULL);
        CHECK(isfinite(res.answers[i].score));
        CHECK(res.answers[i].coverage >= 0 && res.answers[i].coverage <= 1.000001);
    }
    struct buf reply;
    buf_init(&reply, MAX_REPLY);
    rc = reply_answer(fz.kb, &res, &slack_markup, &reply);
    CHECK(rc == 0);
    buf_free(&reply);
    cJSON *json = reply_answer_json(fz.kb, q, &res); /* q is NUL-terminated */
    CHECK(json != NULL);
    cJSON_Delete(json);
}

static void dispatch(const char *text, size_t len)
{
    struct buf reply;
    buf_init(&reply, MAX_REPLY);

    /* an ordinary user in a channel, on Slack: may ask and read, never change anything */
    struct dispatch d = { .kb = fz.kb, .match = fz.m, .markup = &slack_markup, .convo = fz.convo };
    struct plat_message user = {
        .user = "U0USER01", .channel = "C0CHAN01", .thread = "", .text = text, .len = len
    };
    uint64_t before = kb_stamp(fz.kb);
    int rc = dispatch_message(&d, "slack", &user, &reply);
    if (fz.verbose)
        fprintf(stderr, "> %s\n[user: %s]\n%s\n", text, err_str(rc), buf_str(&reply));
    CHECK(rc != ERR_DB);
    CHECK(kb_stamp(fz.kb) == before);

    /* a moderator in a direct message, on the console: commands may change the data */
    buf_reset(&reply);
    d.markup = &markup_plain;
    struct plat_message mod = { .user = "U0MOD01",
                                .channel = "D0DM01",
                                .thread = "",
                                .text = text,
                                .len = len,
                                .direct = 1,
                                .moderator = 1 };
    rc = dispatch_message(&d, "console", &mod, &reply);
    if (fz.verbose)
        fprintf(stderr, "[moderator: %s]\n%s\n", err_str(rc), buf_str(&reply));
    CHECK(rc != ERR_DB);
    buf_free(&reply);
}

/* One chat message: NUL-terminated, as the adapters hand it over. */
static void message(const char *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    normalise(text, size);
    ask(text, size);
    dispatch(text, size);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (++fz.runs > REOPEN_RUNS || kb_stamp(fz.kb) != fz.stamp) {
        fuzz_close();
        fuzz_open();
    }
    const char *s = (const char *)data;
    for (int i = 0; i < MAX_MESSAGES; i++) {
        const char *sep = i + 1 < MAX_MESSAGES ? memchr(s, SEPARATOR, size) : NULL;
        size_t n = sep ? (size_t)(sep - s) : size;
        message(s, n);
        if (!sep)
            break;
        s += n + 1;
        size -= n + 1;
    }
    if (kb_stamp(fz.kb) != fz.stamp)
        fuzz_consistent(fz.kb, "moderator commands"); /* whatever they changed */
    return 0;
}
