/* cmd.c - the command table and its handlers (see cmd.h). */
#include "cmd.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "match.h"
#include "reply.h"

enum { MAX_POS = 64, MAX_OPTS = 32, MAX_FILE = 64 * 1024 * 1024 };

struct args {
    const char *pos[MAX_POS]; /* positional arguments */
    int npos;
    struct {
        char name[32];
        const char *value; /* "" for a flag */
    } opts[MAX_OPTS];
    int nopts;
};

typedef int (*cmd_fn)(struct cmd_ctx *ctx, const struct args *a);

enum {
    CMD_MODERATOR = 1 << 0, /* changes the knowledge base or shows what people asked: moderators
                               only */
    CMD_TERMINAL = 1 << 1,  /* reads or writes files: only at the command line */
    CMD_FIELDS = 1 << 2,    /* takes record fields ("field: value" lines in a chat) */
    CMD_PRIVATE = 1 << 3    /* shows what people asked, maybe in private: in a chat only in a
                               direct message */
};

struct cmd {
    const char *path; /* the command's words */
    cmd_fn fn;
    int min, max; /* positional arguments; max -1: any number */
    unsigned flags;
    const char *opts;      /* options, space-separated; "name=" takes a value */
    const char *file_opts; /* options that name files: terminal only */
    const char *usage;
    const char *help;
};

#define ENTRY_FIELDS  "id= kind= title= text= speaker= role= source= keywords= examples="
#define SOURCE_FIELDS "id= title= publisher= authors= contributors= date= updated= url= text="

static int c_help(struct cmd_ctx *, const struct args *);
static int c_sources(struct cmd_ctx *, const struct args *);
static int c_list(struct cmd_ctx *, const struct args *);
static int c_show(struct cmd_ctx *, const struct args *);
static int c_search(struct cmd_ctx *, const struct args *);
static int c_add(struct cmd_ctx *, const struct args *);
static int c_edit(struct cmd_ctx *, const struct args *);
static int c_remove(struct cmd_ctx *, const struct args *);
static int c_import(struct cmd_ctx *, const struct args *);
static int c_export(struct cmd_ctx *, const struct args *);
static int c_backup(struct cmd_ctx *, const struct args *);
static int c_check(struct cmd_ctx *, const struct args *);
static int c_history(struct cmd_ctx *, const struct args *);
static int c_change(struct cmd_ctx *, const struct args *);
static int c_undo(struct cmd_ctx *, const struct args *);
static int c_teach(struct cmd_ctx *, const struct args *);
static int c_unanswered(struct cmd_ctx *, const struct args *);
static int c_unanswered_clear(struct cmd_ctx *, const struct args *);
static int c_syn_list(struct cmd_ctx *, const struct args *);
static int c_syn_add(struct cmd_ctx *, const struct args *);
static int c_syn_remove(struct cmd_ctx *, const struct args *);
static int c_spk_list(struct cmd_ctx *, const struct args *);
static int c_spk_add(struct cmd_ctx *, const struct args *);
static int c_spk_remove(struct cmd_ctx *, const struct args *);
static int c_party_list(struct cmd_ctx *, const struct args *);
static int c_party_add(struct cmd_ctx *, const struct args *);
static int c_party_remove(struct cmd_ctx *, const struct args *);
static int c_src_list(struct cmd_ctx *, const struct args *);
static int c_src_show(struct cmd_ctx *, const struct args *);
static int c_src_add(struct cmd_ctx *, const struct args *);
static int c_src_edit(struct cmd_ctx *, const struct args *);
static int c_src_remove(struct cmd_ctx *, const struct args *);

static const struct cmd commands[] = {
    { "help", c_help, 0, 3, 0, "", "", "help [COMMAND]", "list the commands, or explain one" },
    { "sources", c_sources, 0, 0, 0, "json", "", "sources [--json]",
      "list the sources the answers come from" },
    { "kb list", c_list, 0, 0, 0, "kind= source= json", "",
      "kb list [--kind KIND] [--source ID] [--json]", "list the entries" },
    { "kb show", c_show, 1, 1, 0, "json", "", "kb show ID [--json]",
      "show an entry with all its fields" },
    { "kb search", c_search, 1, -1, 0, "limit= json", "", "kb search TEXT [--limit N] [--json]",
      "find entries containing every word of TEXT" },
    { "kb add", c_add, 0, 0, CMD_MODERATOR | CMD_FIELDS, ENTRY_FIELDS, "file=",
      "kb add --id ID --kind KIND --title T --text T --source ID [--speaker S] [--role R] "
      "[--keywords \"a, b\"] [--examples \"question | question\"] | --file FILE",
      "add an entry; its text must occur word for word in its source" },
    { "kb edit", c_edit, 1, 1, CMD_MODERATOR | CMD_FIELDS, ENTRY_FIELDS,
      "file=", "kb edit ID [--title T] [--text T] [--keywords \"a, b\"] ... | --file FILE",
      "change the given fields of an entry" },
    { "kb teach", c_teach, 2, 2, CMD_MODERATOR, "", "", "kb teach \"QUESTION\" ID",
      "make QUESTION an example question of entry ID, so that it and wordings like it find it" },
    { "kb remove", c_remove, 1, 1, CMD_MODERATOR, "", "", "kb remove ID", "remove an entry" },
    { "kb import", c_import, 0, 1, CMD_MODERATOR | CMD_TERMINAL, "replace dry-run bundled", "",
      "kb import FILE|- [--replace] [--dry-run] | kb import --bundled",
      "import a knowledge base file: all of it or nothing" },
    { "kb export", c_export, 0, 1, CMD_TERMINAL, "", "", "kb export [FILE]",
      "write the knowledge base as a file (standard output without FILE)" },
    { "kb backup", c_backup, 1, 1, CMD_MODERATOR | CMD_TERMINAL, "", "", "kb backup FILE",
      "copy the whole database to FILE, safely while the bot runs" },
    { "kb check", c_check, 0, 0, CMD_MODERATOR, "", "", "kb check",
      "check the database: integrity, search index, sources, verbatim texts" },
    { "kb history", c_history, 0, 1, 0, "limit= json", "", "kb history [ID] [--limit N] [--json]",
      "list the changes, newest first, of everything or of one entry" },
    { "kb change", c_change, 1, 1, 0, "json", "", "kb change N [--json]",
      "show one change: who, when, and what it changed" },
    { "kb undo", c_undo, 1, 1, CMD_MODERATOR, "force", "", "kb undo N [--force]",
      "undo change N (refused if the record changed since, unless --force)" },
    { "kb unanswered", c_unanswered, 0, 0, CMD_MODERATOR | CMD_PRIVATE, "limit= json", "",
      "kb unanswered [--limit N] [--json]",
      "list the questions I declined, most asked first (some were asked in private)" },
    { "kb unanswered clear", c_unanswered_clear, 0, 0, CMD_MODERATOR, "", "", "kb unanswered clear",
      "forget the declined questions (not a knowledge change: not in kb history, no undo)" },
    { "kb synonym list", c_syn_list, 0, 0, 0, "json", "", "kb synonym list [--json]",
      "list the synonyms" },
    { "kb synonym add", c_syn_add, 2, -1, CMD_MODERATOR, "", "", "kb synonym add TERM WORD...",
      "make TERM also match each WORD (a word or a quoted phrase)" },
    { "kb synonym remove", c_syn_remove, 1, -1, CMD_MODERATOR, "", "",
      "kb synonym remove TERM [WORD...]", "remove a synonym, or some of its words" },
    { "kb speaker list", c_spk_list, 0, 0, 0, "json", "", "kb speaker list [--json]",
      "list the speakers quotes are by, with the other names that find them" },
    { "kb speaker add", c_spk_add, 1, -1, CMD_MODERATOR, "role=", "",
      "kb speaker add NAME [ALIAS...] [--role ROLE]",
      "add a speaker (their name as the quotes give it), or other names people call them by" },
    { "kb speaker remove", c_spk_remove, 1, -1, CMD_MODERATOR, "", "",
      "kb speaker remove NAME [ALIAS...]", "remove a speaker, or some of their other names" },
    { "kb party list", c_party_list, 0, 0, 0, "json", "", "kb party list [--json]",
      "list the parties (Russia, Ukraine, ...) with the words that name them" },
    { "kb party add", c_party_add, 1, -1, CMD_MODERATOR, "", "", "kb party add NAME [WORD...]",
      "add a party, or words that name it (\"Russian\", \"Moscow\"): whose army a question asks "
      "about" },
    { "kb party remove", c_party_remove, 1, -1, CMD_MODERATOR, "", "",
      "kb party remove NAME [WORD...]", "remove a party, or some of the words that name it" },
    { "kb source list", c_src_list, 0, 0, 0, "json", "", "kb source list [--json]",
      "list the sources" },
    { "kb source show", c_src_show, 1, 1, 0, "json", "", "kb source show ID [--json]",
      "show a source" },
    { "kb source add", c_src_add, 0, 0, CMD_MODERATOR | CMD_FIELDS, SOURCE_FIELDS,
      "file= text-file=",
      "kb source add --id ID --title T [--publisher P] [--authors \"A, B\"] "
      "[--contributors \"A, B\"] [--date YYYY-MM-DD] [--updated YYYY-MM-DD] [--url URL] "
      "[--text-file FILE] | --file FILE",
      "add a source" },
    { "kb source edit", c_src_edit, 1, 1, CMD_MODERATOR | CMD_FIELDS, SOURCE_FIELDS,
      "file= text-file=", "kb source edit ID [--title T] ... [--text-file FILE]",
      "change the given fields of a source" },
    { "kb source remove", c_src_remove, 1, 1, CMD_MODERATOR, "", "", "kb source remove ID",
      "remove a source no entry cites" },
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

/* ---- output helpers ---- */

static int fail(struct cmd_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct cmd_ctx *ctx, int rc, const char *fmt, ...)
{
    va_list ap;
    buf_reset(ctx->out);
    va_start(ap, fmt);
    buf_vprintf(ctx->out, fmt, ap);
    va_end(ap);
    return rc;
}

/* Reports the knowledge base's message for a failed call. In a chat, a storage failure is told in
 * plain words (the detail, with the file's path, goes to the log): the moderator can do nothing
 * about a lock or a disk but wait or tell whoever runs planbot. */
static int kbfail(struct cmd_ctx *ctx, int rc)
{
    const char *msg = kb_errmsg(ctx->kb);
    if (!*msg)
        msg = err_str(rc);
    if (ctx->terminal)
        return fail(ctx, rc, "%s", msg);
    switch (rc) {
    case ERR_BUSY:
        log_msg(LOG_WARN, "%s", msg);
        return fail(ctx, rc,
                    "The knowledge base is busy with another change just now; nothing was "
                    "changed. Try again in a moment.");
    case ERR_READONLY:
    case ERR_FULL:
    case ERR_IO:
    case ERR_DB:
    case ERR_SCHEMA:
        log_msg(LOG_ERROR, "%s", msg);
        return fail(ctx, rc,
                    "The knowledge base cannot be written just now (%s); nothing was "
                    "changed. planbot's log says more.",
                    err_str(rc));
    }
    return fail(ctx, rc, "%s", msg);
}

static int print_json(struct cmd_ctx *ctx, cJSON *v)
{
    char *s = cJSON_Print(v);
    int rc = s ? buf_printf(ctx->out, "%s\n", s) : ERR_NOMEM;
    cJSON_free(s);
    return rc;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- arguments ---- */

static const char *opt(const struct args *a, const char *name)
{
    for (int i = 0; i < a->nopts; i++)
        if (strcmp(a->opts[i].name, name) == 0)
            return a->opts[i].value;
    return NULL;
}

/* Finds name in a space-separated option list; *value is set when it takes a value. */
static int opt_known(const char *list, const char *name, size_t len, int *value)
{
    for (const char *p = list; *p;) {
        while (*p == ' ')
            p++;
        const char *e = p;
        while (*e && *e != ' ' && *e != '=')
            e++;
        if ((size_t)(e - p) == len && strncmp(p, name, len) == 0) {
            *value = *e == '=';
            return 1;
        }
        while (*e && *e != ' ')
            e++;
        p = e;
    }
    return 0;
}

static int parse_args(struct cmd_ctx *ctx, const struct cmd *c, int argc, char *const *argv,
                      struct args *a)
{
    memset(a, 0, sizeof *a);
    int options = 1;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
            continue;
        }
        if (!options || strncmp(s, "--", 2) != 0 || !s[2]) {
            if (a->npos == MAX_POS)
                return fail(ctx, ERR_USAGE, "too many arguments\nusage: %s", c->usage);
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name = s + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int takes = 0, file = opt_known(c->file_opts, name, len, &takes);
        if (!file && !opt_known(c->opts, name, len, &takes))
            return fail(ctx, ERR_USAGE, "unknown option --%.*s\nusage: %s", (int)len, name,
                        c->usage);
        if (file && !ctx->terminal)
            return fail(ctx, ERR_PERM, "--%.*s reads a file: only at the command line", (int)len,
                        name);
        const char *value = "";
        if (takes) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                return fail(ctx, ERR_USAGE, "--%.*s needs a value\nusage: %s", (int)len, name,
                            c->usage);
        } else if (eq) {
            return fail(ctx, ERR_USAGE, "--%.*s takes no value\nusage: %s", (int)len, name,
                        c->usage);
        }
        if (a->nopts == MAX_OPTS)
            return fail(ctx, ERR_USAGE, "too many options\nusage: %s", c->usage);
        snprintf(a->opts[a->nopts].name, sizeof a->opts[0].name, "%.*s", (int)len, name);
        a->opts[a->nopts].value = value;
        a->nopts++;
    }
    return 0;
}

/* A positive integer argument, or -1. */
static long long parse_number(const char *s)
{
    if (!s || !*s)
        return -1;
    if (*s == '#')
        s++;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1)
        return -1;
    return v;
}

/* ---- files (terminal only) ---- */

static int read_file(struct cmd_ctx *ctx, const char *path, struct buf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return fail(ctx, ERR_IO, "cannot read %s: %s", path, strerror(errno));
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(b, chunk, n);
    int bad = ferror(f);
    if (f != stdin)
        fclose(f);
    if (rc == ERR_TOOBIG)
        return fail(ctx, rc, "%s is too large (at most %zu bytes)", path, b->max);
    if (rc || bad)
        return fail(ctx, ERR_IO, "cannot read %s: %s", path, rc ? err_str(rc) : strerror(errno));
    return 0;
}

/* Writes data to path. A regular file is written through a temporary file and a rename, so a
 * full disk or a crash never leaves half a file; anything else (a device, a pipe) is written
 * directly, as replacing it would be wrong. */
static int write_file(struct cmd_ctx *ctx, const char *path, const char *data, size_t len)
{
    struct stat sb;
    int regular = stat(path, &sb) != 0 || S_ISREG(sb.st_mode);
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return fail(ctx, ERR_INVAL, "the file name is too long");
    const char *target = regular ? tmp : path;
    FILE *f = fopen(target, "wb");
    if (!f)
        return fail(ctx, ERR_IO, "cannot write %s: %s", path, strerror(errno));
    int ok =
        fwrite(data, 1, len, f) == len && fflush(f) == 0 && (!regular || fsync(fileno(f)) == 0);
    int saved = errno;
    if (fclose(f) != 0 && ok) {
        ok = 0;
        saved = errno;
    }
    if (ok && regular && rename(tmp, path) != 0) {
        ok = 0;
        saved = errno;
    }
    if (!ok) {
        if (regular)
            unlink(tmp);
        return fail(ctx, saved == ENOSPC ? ERR_FULL : ERR_IO, "cannot write %s: %s", path,
                    strerror(saved));
    }
    return 0;
}

/* ---- records from options ---- */

/* "a, b, c" → ["a", "b", "c"] */
/* The items of a list option: separated by sep, trimmed, empty ones dropped. */
static cJSON *split_list(const char *s, char sep)
{
    cJSON *arr = cJSON_CreateArray();
    while (arr && *s) {
        const char *e = strchr(s, sep);
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n) {
            char *item = strndup(s, n);
            cJSON *v = item ? cJSON_CreateString(item) : NULL;
            free(item);
            if (!v || !cJSON_AddItemToArray(arr, v)) {
                cJSON_Delete(v);
                cJSON_Delete(arr);
                return NULL;
            }
        }
        s = e ? e + 1 : s + strlen(s);
    }
    return arr;
}

/* Builds a record from --file (a JSON object) and the field options, which win. */
static int record_from_args(struct cmd_ctx *ctx, const struct args *a, const char *fields,
                            const char *id, cJSON **out)
{
    *out = NULL;
    cJSON *rec = NULL;
    const char *file = opt(a, "file");
    if (file) {
        struct buf text;
        buf_init(&text, MAX_FILE);
        int rc = read_file(ctx, file, &text);
        if (rc) {
            buf_free(&text);
            return rc;
        }
        rec = cJSON_ParseWithLength(buf_str(&text), text.len);
        buf_free(&text);
        if (!cJSON_IsObject(rec)) {
            cJSON_Delete(rec);
            return fail(ctx, ERR_INVAL, "%s: not a JSON object", file);
        }
    } else if (!(rec = cJSON_CreateObject())) {
        return ERR_NOMEM;
    }
    for (int i = 0; i < a->nopts; i++) {
        const char *name = a->opts[i].name;
        int takes;
        if (!opt_known(fields, name, strlen(name), &takes))
            continue;
        /* questions hold commas: example questions are separated by '|' */
        int questions = strcmp(name, "examples") == 0;
        int list = questions || strcmp(name, "keywords") == 0 || strcmp(name, "authors") == 0 ||
                   strcmp(name, "contributors") == 0;
        cJSON *v = list ? split_list(a->opts[i].value, questions ? '|' : ',')
                        : cJSON_CreateString(a->opts[i].value);
        if (!v) {
            cJSON_Delete(rec);
            return ERR_NOMEM;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(rec, name);
        cJSON_AddItemToObject(rec, name, v);
    }
    const char *text_file = opt(a, "text-file");
    if (text_file) {
        struct buf text;
        buf_init(&text, MAX_FILE);
        int rc = read_file(ctx, text_file, &text);
        if (rc) {
            buf_free(&text);
            cJSON_Delete(rec);
            return rc;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "text");
        cJSON_AddStringToObject(rec, "text", buf_str(&text));
        buf_free(&text);
    }
    if (id) {
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(rec, "id");
        if (given && (!cJSON_IsString(given) || strcmp(given->valuestring, id) != 0)) {
            cJSON_Delete(rec);
            return fail(ctx, ERR_INVAL,
                        "the id cannot be changed (\"%s\"): add a new entry and "
                        "remove the old one instead",
                        id);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "id");
        cJSON_AddStringToObject(rec, "id", id);
    }
    *out = rec;
    return 0;
}

/* "title, keywords" - the fields a change altered. */
static int changed_fields(struct cmd_ctx *ctx, int64_t change, struct buf *out)
{
    cJSON *c;
    if (kb_change(ctx->kb, change, &c))
        return 0;
    const cJSON *before = cJSON_GetObjectItem(c, "before"),
                *after = cJSON_GetObjectItem(c, "after");
    int n = 0, rc = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, after)
    {
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(before, f->string);
        if (!old || !cJSON_Compare(old, f, 1))
            rc = buf_printf(out, "%s%s", n++ ? ", " : "", f->string);
        if (rc)
            break;
    }
    cJSON_Delete(c);
    return rc;
}

static int put(struct cmd_ctx *ctx, enum kb_type t, cJSON *rec, enum kb_put_mode mode)
{
    int64_t change = 0;
    int rc = kb_put(ctx->kb, t, rec, mode, &ctx->actor, &change);
    const char *key = str(rec, t == KB_SYNONYM                    ? "term"
                               : t == KB_SPEAKER || t == KB_PARTY ? "name"
                                                                  : "id");
    if (rc)
        return kbfail(ctx, rc);
    if (!change)
        return buf_printf(ctx->out, "No change: %s \"%s\" already says that.\n", kb_type_name(t),
                          key);
    if (mode == KB_PUT_EDIT || mode == KB_PUT_UPSERT) {
        struct buf fields;
        buf_init(&fields, 4096);
        changed_fields(ctx, change, &fields);
        rc = buf_printf(ctx->out, "Changed %s \"%s\" (change %lld): %s.\n", kb_type_name(t), key,
                        (long long)change, buf_str(&fields));
        buf_free(&fields);
    } else {
        rc = buf_printf(ctx->out, "Added %s \"%s\" (change %lld).\n", kb_type_name(t), key,
                        (long long)change);
    }
    if (!rc)
        rc = buf_printf(ctx->out, "Undo with: kb undo %lld\n", (long long)change);
    return rc;
}

static int remove_record(struct cmd_ctx *ctx, enum kb_type t, const char *id)
{
    int64_t change;
    int rc = kb_remove(ctx->kb, t, id, &ctx->actor, &change);
    if (rc)
        return kbfail(ctx, rc);
    return buf_printf(ctx->out, "Removed %s \"%s\" (change %lld). Undo with: kb undo %lld\n",
                      kb_type_name(t), id, (long long)change, (long long)change);
}

/* ---- handlers ---- */

static int c_help(struct cmd_ctx *ctx, const struct args *a)
{
    char topic[128] = "";
    for (size_t i = 0, at = 0; i < (size_t)a->npos && at < sizeof topic; i++) {
        /* snprintf says how long the topic would be, not what fitted: stop at the end */
        int n = snprintf(topic + at, sizeof topic - at, "%s%s", i ? " " : "", a->pos[i]);
        at = n < 0 ? sizeof topic : at + (size_t)n;
    }
    size_t tlen = strlen(topic);
    int shown = 0, rc = 0;
    if (!tlen)
        rc = buf_puts(ctx->out, "Ask me anything about the draft 28-point peace plan for Ukraine: "
                                "I answer with the source's own words and cite it.\nCommands:\n");
    for (int i = 0; i < NCOMMANDS && !rc; i++) {
        const struct cmd *c = &commands[i];
        if ((c->flags & CMD_MODERATOR) && !ctx->moderator)
            continue;
        if ((c->flags & CMD_TERMINAL) && !ctx->terminal)
            continue;
        if (tlen && strncmp(c->path, topic, tlen) != 0)
            continue;
        shown++;
        if (strlen(c->usage) <= 44)
            rc = buf_printf(ctx->out, "  %-44s %s\n", c->usage, c->help);
        else
            rc = buf_printf(ctx->out, "  %s\n  %-44s %s\n", c->usage, "", c->help);
    }
    if (!rc && tlen && !shown)
        return fail(ctx, ERR_USAGE, "no command \"%s\"; try help", topic);
    if (!rc && !tlen && !ctx->moderator)
        rc = buf_puts(ctx->out, "Moderators can also change what I know.\n");
    return rc;
}

static int c_sources(struct cmd_ctx *ctx, const struct args *a)
{
    cJSON *list;
    int rc = kb_list(ctx->kb, KB_SOURCE, NULL, 1, &list);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, list);
    } else if (!cJSON_GetArraySize(list)) {
        rc = buf_puts(ctx->out, "The knowledge base has no sources yet.\n");
    } else {
        rc = buf_puts(ctx->out, "My answers come from:\n");
        const cJSON *s;
        cJSON_ArrayForEach(s, list)
        {
            struct kb_filter filter = { NULL, str(s, "id") };
            cJSON *entries = NULL;
            int n =
                kb_list(ctx->kb, KB_ENTRY, &filter, 1, &entries) ? 0 : cJSON_GetArraySize(entries);
            cJSON_Delete(entries);
            if (!rc)
                rc = buf_puts(ctx->out, "  • ");
            if (!rc)
                rc = reply_citation(s, ctx->out);
            if (!rc)
                rc = buf_printf(ctx->out, " [%s] (%d entr%s)\n", str(s, "id"), n,
                                n == 1 ? "y" : "ies");
            if (rc)
                break;
        }
    }
    cJSON_Delete(list);
    return rc;
}

static int c_list(struct cmd_ctx *ctx, const struct args *a)
{
    struct kb_filter filter = { opt(a, "kind"), opt(a, "source") };
    cJSON *list;
    int rc = kb_list(ctx->kb, KB_ENTRY, &filter, 1, &list);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, list);
    } else {
        const cJSON *e;
        cJSON_ArrayForEach(e, list)
        {
            if ((rc = buf_printf(ctx->out, "%-40s %-9s %s\n", str(e, "id"), str(e, "kind"),
                                 str(e, "title"))))
                break;
        }
        if (!rc)
            rc = buf_printf(ctx->out, "%d entr%s\n", cJSON_GetArraySize(list),
                            cJSON_GetArraySize(list) == 1 ? "y" : "ies");
    }
    cJSON_Delete(list);
    return rc;
}

static int show_record(struct cmd_ctx *ctx, enum kb_type t, const char *id, int json)
{
    cJSON *rec;
    int rc = kb_get(ctx->kb, t, id, &rec);
    if (rc)
        return kbfail(ctx, rc);
    if (json) {
        rc = print_json(ctx, rec);
    } else {
        const cJSON *f;
        cJSON_ArrayForEach(f, rec)
        {
            if (cJSON_IsArray(f)) {
                char *v = cJSON_PrintUnformatted(f);
                rc = buf_printf(ctx->out, "%-11s %s\n", f->string, v ? v : "");
                cJSON_free(v);
            } else if (cJSON_IsString(f) && strchr(f->valuestring, '\n')) {
                rc = buf_printf(ctx->out, "%-11s (%zu characters of text)\n", f->string,
                                strlen(f->valuestring));
            } else {
                rc = buf_printf(ctx->out, "%-11s %s\n", f->string,
                                cJSON_IsString(f) ? f->valuestring : "(none)");
            }
            if (rc)
                break;
        }
    }
    cJSON_Delete(rec);
    return rc;
}

static int c_show(struct cmd_ctx *ctx, const struct args *a)
{
    return show_record(ctx, KB_ENTRY, a->pos[0], opt(a, "json") != NULL);
}

static int c_search(struct cmd_ctx *ctx, const struct args *a)
{
    struct buf text;
    buf_init(&text, 4096);
    int rc = 0;
    for (int i = 0; i < a->npos && !rc; i++)
        rc = buf_printf(&text, "%s%s", i ? " " : "", a->pos[i]);
    long long limit = opt(a, "limit") ? parse_number(opt(a, "limit")) : 20;
    if (rc || limit < 1) {
        buf_free(&text);
        return fail(ctx, ERR_USAGE,
                    rc ? "the search text is too long" : "--limit needs a positive number");
    }
    cJSON *hits;
    rc = kb_search(ctx->kb, buf_str(&text), (int)(limit > 1000 ? 1000 : limit), &hits);
    buf_free(&text);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, hits);
    } else if (!cJSON_GetArraySize(hits)) {
        rc = buf_puts(ctx->out, "No entry contains all of those words.\n");
    } else {
        const cJSON *h;
        cJSON_ArrayForEach(h, hits)
        {
            if ((rc = buf_printf(ctx->out, "%-40s %s\n    %s\n", str(h, "id"), str(h, "title"),
                                 str(h, "snippet"))))
                break;
        }
    }
    cJSON_Delete(hits);
    return rc;
}

static int add_or_edit(struct cmd_ctx *ctx, const struct args *a, enum kb_type t,
                       const char *fields, const char *id, enum kb_put_mode mode)
{
    cJSON *rec;
    int rc = record_from_args(ctx, a, fields, id, &rec);
    if (rc)
        return rc;
    if (mode == KB_PUT_EDIT && cJSON_GetArraySize(rec) <= 1) {
        cJSON_Delete(rec);
        return fail(ctx, ERR_USAGE,
                    "nothing to change: give the fields to change, for example "
                    "--title \"...\"");
    }
    rc = put(ctx, t, rec, mode);
    cJSON_Delete(rec);
    return rc;
}

static int c_add(struct cmd_ctx *ctx, const struct args *a)
{
    return add_or_edit(ctx, a, KB_ENTRY, ENTRY_FIELDS, NULL, KB_PUT_ADD);
}

static int c_edit(struct cmd_ctx *ctx, const struct args *a)
{
    return add_or_edit(ctx, a, KB_ENTRY, ENTRY_FIELDS, a->pos[0], KB_PUT_EDIT);
}

static int c_remove(struct cmd_ctx *ctx, const struct args *a)
{
    return remove_record(ctx, KB_ENTRY, a->pos[0]);
}

static int c_import(struct cmd_ctx *ctx, const struct args *a)
{
    struct kb_import_opts o = { opt(a, "replace") != NULL, opt(a, "dry-run") != NULL };
    struct kb_import_report rep;
    int bundled = opt(a, "bundled") != NULL, rc;
    if (bundled == (a->npos == 1))
        return fail(ctx, ERR_USAGE,
                    "give a FILE (or - for standard input), or --bundled\n"
                    "usage: kb import FILE|- [--replace] [--dry-run] | kb import "
                    "--bundled");
    if (bundled) {
        rc = kb_import_bundled(ctx->kb, &o, &ctx->actor, &rep);
    } else {
        struct buf text;
        buf_init(&text, MAX_FILE);
        if ((rc = read_file(ctx, a->pos[0], &text))) {
            buf_free(&text);
            return rc;
        }
        rc = kb_import(ctx->kb, buf_str(&text), text.len, &o, &ctx->actor, &rep);
        buf_free(&text);
    }
    if (rc)
        return fail(ctx, rc, "%s: %s", bundled ? "bundled knowledge base" : a->pos[0],
                    kb_errmsg(ctx->kb));
    rc = buf_printf(ctx->out, "%s: %d added, %d updated, %d removed, %d unchanged.\n",
                    o.dry_run ? "Dry run, nothing changed" : "Imported", rep.added, rep.updated,
                    rep.removed, rep.unchanged);
    if (!rc && rep.first_change)
        rc = buf_printf(ctx->out, "Changes %lld to %lld; undo them with kb undo.\n",
                        (long long)rep.first_change, (long long)rep.last_change);
    return rc;
}

static int c_export(struct cmd_ctx *ctx, const struct args *a)
{
    cJSON *doc;
    int rc = kb_export(ctx->kb, &doc);
    if (rc)
        return kbfail(ctx, rc);
    char *text = cJSON_Print(doc);
    cJSON_Delete(doc);
    if (!text)
        return fail(ctx, ERR_NOMEM, "out of memory");
    size_t len = strlen(text);
    if (a->npos == 0) {
        rc = buf_printf(ctx->out, "%s\n", text);
    } else {
        text[len] = '\n'; /* replaces the NUL: the length is known */
        rc = write_file(ctx, a->pos[0], text, len + 1);
        text[len] = '\0';
        if (!rc)
            rc = buf_printf(ctx->out, "Exported to %s.\n", a->pos[0]);
    }
    cJSON_free(text);
    return rc;
}

/* "1 entry", "2 entries"; "1 source", "2 sources" */
static const char *plural(int64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static int c_backup(struct cmd_ctx *ctx, const struct args *a)
{
    struct kb_backup_stats st;
    int rc = kb_backup(ctx->kb, a->pos[0], &st);
    if (rc)
        return kbfail(ctx, rc);
    const struct kb_counts *n = &st.counts;
    rc = buf_printf(ctx->out, "Backed up %lld %s, %lld %s and %lld %s to %s (%lld KiB)",
                    (long long)n->entries, plural(n->entries, "entry", "entries"),
                    (long long)n->sources, plural(n->sources, "source", "sources"),
                    (long long)n->changes, plural(n->changes, "change", "changes"), a->pos[0],
                    (long long)((st.bytes + 1023) / 1024));
    if (!rc && st.inbox_bytes) {
        int64_t q = n->inbox_open + n->inbox_settled;
        rc = buf_printf(ctx->out,
                        ", and its inbox of %lld %s (%lld waiting for an answer) to %s.inbox "
                        "(%lld KiB)",
                        (long long)q, plural(q, "question", "questions"), (long long)n->inbox_open,
                        a->pos[0], (long long)((st.inbox_bytes + 1023) / 1024));
    }
    return rc ? rc : buf_puts(ctx->out, ".\n");
}

/* Problems kb check lists: a chat reply stays short. */
enum { CHECK_LINES_TERMINAL = 1000, CHECK_LINES_CHAT = 10 };

/* Appends the sentences of the sources that no entry holds, at most max of them. */
static int uncovered(struct cmd_ctx *ctx, int max)
{
    int64_t total;
    cJSON *list;
    int rc = kb_uncovered(ctx->kb, max, &total, &list);
    if (rc || total == 0) {
        cJSON_Delete(list);
        return 0; /* the check itself has been reported; this is a help to it */
    }
    rc = buf_printf(ctx->out,
                    "%lld %s of the sources %s in no entry, so no answer can quote %s "
                    "(kb add makes one):",
                    (long long)total, plural(total, "sentence", "sentences"),
                    total == 1 ? "is" : "are", total == 1 ? "it" : "them");
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        if (rc)
            break;
        rc = buf_printf(ctx->out, "\n  %s: %s", str(s, "source"), str(s, "sentence"));
    }
    if (!rc && total > cJSON_GetArraySize(list))
        rc = buf_printf(ctx->out, "\n  ... and %lld more",
                        (long long)(total - cJSON_GetArraySize(list)));
    cJSON_Delete(list);
    return rc ? rc : buf_putc(ctx->out, '\n');
}

static int c_check(struct cmd_ctx *ctx, const struct args *a)
{
    (void)a;
    int max = ctx->terminal ? CHECK_LINES_TERMINAL : CHECK_LINES_CHAT;
    struct kb_check_report rep;
    cJSON *problems;
    int rc = kb_check(ctx->kb, max, &rep, &problems);
    if (rc)
        return kbfail(ctx, rc);
    const struct kb_counts *n = &rep.counts;
    char counts[256] = "records that cannot be counted";
    if (n->entries >= 0) {
        int len = snprintf(counts, sizeof counts, "%lld %s, %lld %s, %lld %s",
                           (long long)n->entries, plural(n->entries, "entry", "entries"),
                           (long long)n->sources, plural(n->sources, "source", "sources"),
                           (long long)n->changes, plural(n->changes, "change", "changes"));
        int64_t q = n->inbox_open + n->inbox_settled;
        if (n->inbox_open >= 0 && len > 0 && (size_t)len < sizeof counts)
            snprintf(counts + len, sizeof counts - (size_t)len,
                     "; its inbox holds %lld %s, %lld waiting for an answer", (long long)q,
                     plural(q, "question", "questions"), (long long)n->inbox_open);
    }
    if (!rep.problems) {
        cJSON_Delete(problems);
        rc = buf_printf(ctx->out, "The knowledge base is consistent: %s.\n", counts);
        return rc ? rc : uncovered(ctx, max);
    }
    /* An error: the lines go where errors go (standard error, exit status 1). */
    buf_reset(ctx->out);
    rc = buf_printf(ctx->out, "The knowledge base has %lld %s (%s):", (long long)rep.problems,
                    plural(rep.problems, "problem", "problems"), counts);
    const cJSON *p;
    cJSON_ArrayForEach(p, problems)
    {
        if (rc)
            break;
        rc = buf_printf(ctx->out, "\n  %s: %s", str(p, "check"), str(p, "problem"));
    }
    int shown = cJSON_GetArraySize(problems);
    if (!rc && rep.problems > shown)
        rc = buf_printf(ctx->out, "\n  ... and %lld more%s", (long long)(rep.problems - shown),
                        ctx->terminal ? "" : " (planbot kb check at the command line lists them)");
    cJSON_Delete(problems);
    return rc ? rc : ERR_INVAL;
}

static int c_history(struct cmd_ctx *ctx, const struct args *a)
{
    long long limit = opt(a, "limit") ? parse_number(opt(a, "limit")) : 50;
    if (limit < 1)
        return fail(ctx, ERR_USAGE, "--limit needs a positive number");
    cJSON *list;
    const char *id = a->npos ? a->pos[0] : NULL;
    int rc = kb_history(ctx->kb, KB_ENTRY, id, (int)(limit > 100000 ? 100000 : limit), &list);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, list);
    } else if (!cJSON_GetArraySize(list)) {
        rc = buf_printf(ctx->out, "No changes%s%s.\n", id ? " to " : "", id ? id : "");
    } else {
        const cJSON *c;
        cJSON_ArrayForEach(c, list)
        {
            rc = buf_printf(ctx->out, "%6d  %s  %-7s %s %s  by %s (%s)%s%s\n",
                            cJSON_GetObjectItem(c, "change")->valueint, str(c, "at"),
                            str(c, "action"), str(c, "type"), str(c, "id"), str(c, "who"),
                            str(c, "via"), *str(c, "note") ? ": " : "", str(c, "note"));
            if (rc)
                break;
        }
    }
    cJSON_Delete(list);
    return rc;
}

/* Prints each field that differs between two records. */
static int diff(struct buf *out, const cJSON *before, const cJSON *after)
{
    const cJSON *ref = cJSON_IsObject(after) ? after : before;
    int rc = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, ref)
    {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(before, f->string);
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(after, f->string);
        if (b && a && cJSON_Compare(a, b, 1))
            continue;
        char *bs = b ? cJSON_PrintUnformatted(b) : NULL, *as = a ? cJSON_PrintUnformatted(a) : NULL;
        rc = buf_printf(out, "  %s: %s → %s\n", f->string, bs ? bs : "(none)", as ? as : "(none)");
        cJSON_free(bs);
        cJSON_free(as);
        if (rc)
            break;
    }
    return rc;
}

static int c_change(struct cmd_ctx *ctx, const struct args *a)
{
    long long n = parse_number(a->pos[0]);
    if (n < 1)
        return fail(ctx, ERR_USAGE, "a change is a number, as kb history shows it");
    cJSON *c;
    int rc = kb_change(ctx->kb, n, &c);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, c);
    } else {
        rc = buf_printf(ctx->out, "Change %lld: %s %s \"%s\" by %s (%s) at %s%s%s\n", n,
                        str(c, "action"), str(c, "type"), str(c, "id"), str(c, "who"),
                        str(c, "via"), str(c, "at"), *str(c, "note") ? "; " : "", str(c, "note"));
        if (!rc)
            rc = diff(ctx->out, cJSON_GetObjectItem(c, "before"), cJSON_GetObjectItem(c, "after"));
    }
    cJSON_Delete(c);
    return rc;
}

static int c_undo(struct cmd_ctx *ctx, const struct args *a)
{
    long long n = parse_number(a->pos[0]);
    if (n < 1)
        return fail(ctx, ERR_USAGE, "a change is a number, as kb history shows it");
    int64_t undo;
    int rc = kb_undo(ctx->kb, n, opt(a, "force") != NULL, &ctx->actor, &undo);
    if (rc)
        return kbfail(ctx, rc);
    return buf_printf(ctx->out, "Undid change %lld (recorded as change %lld).\n", n,
                      (long long)undo);
}

/* "2025-11-26T17:02:09Z" as "26 November 2025 17:02 UTC"; other text is copied. */
static void format_time(const char *iso, char *out, size_t len)
{
    char day[16], date[48];
    unsigned hour, minute;
    if (strlen(iso) < 16 || iso[10] != 'T' || sscanf(iso + 11, "%2u:%2u", &hour, &minute) != 2 ||
        hour > 23 || minute > 59) {
        snprintf(out, len, "%s", iso);
        return;
    }
    snprintf(day, sizeof day, "%.10s", iso);
    reply_date(day, date, sizeof date);
    snprintf(out, len, "%.47s %02u:%02u UTC", date, hour, minute);
}

/* The matcher of the context, or one of its own in *owned (the caller closes it); NULL when
 * none can be opened (the detail is in kb_errmsg). */
static struct match *matcher(struct cmd_ctx *ctx, struct match **owned)
{
    *owned = NULL;
    if (ctx->match)
        return ctx->match;
    return match_open(owned, ctx->kb) ? NULL : *owned;
}

/* Adds to each declined question of list the entries closest to it now ("closest": ids, best
 * first), or the entry that answers it now ("answered_by"), so that a moderator can teach it. */
static int add_closest(struct cmd_ctx *ctx, cJSON *list)
{
    struct match *owned, *m = matcher(ctx, &owned);
    if (!m)
        return 0; /* the list is still worth showing */
    int rc = 0;
    cJSON *q;
    cJSON_ArrayForEach(q, list)
    {
        const char *text = str(q, "question");
        struct match_result r;
        if (match_ask(m, text, strlen(text), 1, &r, NULL))
            continue;
        if (r.n > 0) {
            if (!cJSON_AddStringToObject(q, "answered_by", r.answers[0].id))
                rc = ERR_NOMEM;
            continue;
        }
        cJSON *ids = cJSON_AddArrayToObject(q, "closest");
        for (int i = 0; ids && i < r.nsuggest; i++)
            if (!cJSON_AddItemToArray(ids, cJSON_CreateString(r.suggestions[i].id)))
                ids = NULL;
        if (!ids)
            rc = ERR_NOMEM;
    }
    match_close(owned);
    return rc;
}

static int c_unanswered(struct cmd_ctx *ctx, const struct args *a)
{
    long long limit = opt(a, "limit") ? parse_number(opt(a, "limit")) : 50;
    if (limit < 1)
        return fail(ctx, ERR_USAGE, "--limit needs a positive number");
    if (limit > 100000)
        limit = 100000;
    int json = opt(a, "json") != NULL;
    cJSON *list;
    /* one more than shown, to tell that there are more */
    int rc = kb_unanswered_list(ctx->kb, (int)limit + !json, &list);
    if (rc)
        return kbfail(ctx, rc);
    if ((rc = add_closest(ctx, list))) {
        cJSON_Delete(list);
        return rc;
    }
    int n = cJSON_GetArraySize(list);
    if (json) {
        rc = print_json(ctx, list);
    } else if (!n) {
        rc = buf_puts(ctx->out, "No unanswered questions.\n");
    } else {
        rc = buf_puts(ctx->out, "Questions I declined, most asked first:\n");
        int shown = 0;
        const cJSON *q;
        cJSON_ArrayForEach(q, list)
        {
            if (rc || shown++ == limit)
                break;
            char when[80];
            format_time(str(q, "last_asked"), when, sizeof when);
            rc = buf_printf(ctx->out, "%3d×  %s  (last asked %s%s%s)\n",
                            cJSON_GetObjectItem(q, "count")->valueint, str(q, "question"), when,
                            *str(q, "via") ? ", " : "", str(q, "via"));
            const cJSON *ids = cJSON_GetObjectItem(q, "closest"), *id;
            if (!rc && *str(q, "answered_by"))
                rc = buf_printf(ctx->out, "      now answered by %s\n", str(q, "answered_by"));
            for (int i = 0; !rc && ids && (id = cJSON_GetArrayItem(ids, i)); i++)
                rc = buf_printf(ctx->out, "%s%s", i ? ", " : "      closest: ", id->valuestring);
            if (!rc && cJSON_GetArraySize(ids) > 0)
                rc = buf_putc(ctx->out, '\n');
        }
        if (!rc && n > limit)
            rc = buf_printf(ctx->out, "These are the first %lld; --limit N shows more.\n", limit);
        if (!rc)
            rc = buf_puts(ctx->out, "Teach one with: kb teach \"QUESTION\" ID\n");
    }
    cJSON_Delete(list);
    return rc;
}

/* After kb teach: what the question taught to entry id is answered with now. An example question
 * answers word for word, unless another entry has the same one (see match.c, taught()). */
static int report_taught(struct cmd_ctx *ctx, const char *question, size_t qlen, const char *id)
{
    struct match *owned, *m = matcher(ctx, &owned);
    struct match_result r;
    if (!m || match_ask(m, question, qlen, 1, &r, NULL)) {
        match_close(owned);
        return 0; /* taught all the same */
    }
    match_close(owned);
    if (r.n > 0 && strcmp(r.answers[0].id, id) == 0)
        return buf_printf(ctx->out, "Asked now, it is answered by %s.\n", id);
    return buf_printf(ctx->out,
                      "Asked now, it is %s%s: the matcher chose as for any question, because "
                      "another entry has the same example question (kb show lists an entry's) or, "
                      "in a knowledge base too large to hold in memory, %s was not among the "
                      "entries it retrieved.\n",
                      r.n > 0 ? "answered by " : "declined", r.n > 0 ? r.answers[0].id : "", id);
}

static int c_teach(struct cmd_ctx *ctx, const struct args *a)
{
    const char *question = a->pos[0], *id = a->pos[1];
    size_t qlen = strlen(question);
    while (qlen && strchr(" \t", question[qlen - 1]))
        qlen--;
    while (qlen && strchr(" \t", *question))
        question++, qlen--;
    size_t letters = 0;
    for (size_t i = 0; i < qlen; i++)
        letters += isalnum((unsigned char)question[i]) || (unsigned char)question[i] >= 0x80;
    if (!letters)
        return fail(ctx, ERR_USAGE, "the question has no words: kb teach \"QUESTION\" ID");
    cJSON *rec;
    int rc = kb_get(ctx->kb, KB_ENTRY, id, &rec);
    if (rc == ERR_NOTFOUND)
        return fail(ctx, rc,
                    "no entry \"%s\" (kb list shows them; the question comes first: "
                    "kb teach \"QUESTION\" ID)",
                    id);
    if (rc)
        return kbfail(ctx, rc);
    cJSON *examples = cJSON_GetObjectItem(rec, "examples"), *e;
    cJSON_ArrayForEach(e, examples)
    {
        if (cJSON_IsString(e) && strlen(e->valuestring) == qlen &&
            strncasecmp(e->valuestring, question, qlen) == 0) {
            cJSON_Delete(rec);
            return buf_printf(ctx->out, "No change: \"%.*s\" is already an example of %s.\n",
                              (int)qlen, question, id);
        }
    }
    /* the edit: the entry's examples and the new one */
    char *q = strndup(question, qlen);
    cJSON *edit = cJSON_CreateObject();
    cJSON *copy = edit ? cJSON_AddArrayToObject(edit, "examples") : NULL;
    rc = q && copy && cJSON_AddStringToObject(edit, "id", id) ? 0 : ERR_NOMEM;
    cJSON_ArrayForEach(e, examples)
    {
        if (!rc && !cJSON_AddItemToArray(copy, cJSON_Duplicate(e, 1)))
            rc = ERR_NOMEM;
    }
    if (!rc && !cJSON_AddItemToArray(copy, cJSON_CreateString(q)))
        rc = ERR_NOMEM;
    free(q);
    cJSON_Delete(rec);
    if (rc) {
        cJSON_Delete(edit);
        return rc;
    }
    rc = put(ctx, KB_ENTRY, edit, KB_PUT_EDIT);
    cJSON_Delete(edit);
    return rc ? rc : report_taught(ctx, question, qlen, id);
}

static int c_unanswered_clear(struct cmd_ctx *ctx, const struct args *a)
{
    (void)a;
    int64_t n;
    int rc = kb_unanswered_clear(ctx->kb, &n);
    if (rc)
        return kbfail(ctx, rc);
    return buf_printf(ctx->out, "Cleared %lld unanswered question%s.\n", (long long)n,
                      n == 1 ? "" : "s");
}

/* Appends each argument (a word, a quoted phrase, or a comma-separated list) to words. */
static int add_words(cJSON *words, const struct args *a, int from)
{
    for (int i = from; i < a->npos; i++) {
        cJSON *items = split_list(a->pos[i], ','), *item;
        if (!items)
            return ERR_NOMEM;
        while ((item = cJSON_DetachItemFromArray(items, 0))) {
            int dup = 0;
            const cJSON *w;
            cJSON_ArrayForEach(w, words) dup |= strcmp(w->valuestring, item->valuestring) == 0;
            if (dup)
                cJSON_Delete(item);
            else
                cJSON_AddItemToArray(words, item);
        }
        cJSON_Delete(items);
    }
    return 0;
}

/* A record that is a name and a list: a synonym (its term and words), a speaker (their name and
 * other names), a party (its name and the words that name it). The commands that add to it and
 * take from it are the same. */
struct named_list {
    enum kb_type type;
    const char *key, *list, *item; /* its JSON fields; what one item is called */
    const char *plural;            /* what several records are called */
    int keep_empty;                /* it stays when its last item goes (a speaker stays one) */
};
static const struct named_list synonyms = { KB_SYNONYM, "term", "words", "word", "synonyms", 0 };
static const struct named_list speakers = { KB_SPEAKER,   "name",     "aliases",
                                            "other name", "speakers", 1 };
static const struct named_list parties = { KB_PARTY, "name", "words", "word", "parties", 1 };

/* kb synonym add TERM WORD..., kb speaker add NAME [ALIAS...] [--role R]: creates the record or
 * extends its list. */
static int list_add(struct cmd_ctx *ctx, const struct args *a, const struct named_list *nl)
{
    cJSON *rec = NULL;
    int rc = kb_get(ctx->kb, nl->type, a->pos[0], &rec);
    int existed = rc == 0;
    if (rc && rc != ERR_NOTFOUND)
        return kbfail(ctx, rc);
    rc = 0;
    if (!existed) {
        rec = cJSON_CreateObject();
        if (!rec || !cJSON_AddStringToObject(rec, nl->key, a->pos[0]) ||
            !cJSON_AddArrayToObject(rec, nl->list)) {
            cJSON_Delete(rec);
            return ERR_NOMEM;
        }
    }
    const char *role = opt(a, "role");
    if (role) {
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "role");
        if (!cJSON_AddStringToObject(rec, "role", role))
            rc = ERR_NOMEM;
    }
    if (rc || (rc = add_words(cJSON_GetObjectItem(rec, nl->list), a, 1))) {
        cJSON_Delete(rec);
        return rc;
    }
    rc = put(ctx, nl->type, rec, existed ? KB_PUT_EDIT : KB_PUT_ADD);
    cJSON_Delete(rec);
    return rc;
}

/* kb synonym remove TERM [WORD...], kb speaker remove NAME [ALIAS...]: removes the record, or
 * the items given. */
static int list_remove(struct cmd_ctx *ctx, const struct args *a, const struct named_list *nl)
{
    if (a->npos == 1)
        return remove_record(ctx, nl->type, a->pos[0]);
    cJSON *rec;
    int rc = kb_get(ctx->kb, nl->type, a->pos[0], &rec);
    if (rc)
        return kbfail(ctx, rc);
    cJSON *gone = cJSON_CreateArray(), *words = cJSON_GetObjectItem(rec, nl->list);
    if (!gone || (rc = add_words(gone, a, 1))) {
        cJSON_Delete(gone);
        cJSON_Delete(rec);
        return ERR_NOMEM;
    }
    const cJSON *g;
    cJSON_ArrayForEach(g, gone)
    {
        int i = 0, found = 0;
        const cJSON *w;
        cJSON_ArrayForEach(w, words)
        {
            if (strcmp(w->valuestring, g->valuestring) == 0) {
                found = 1;
                break;
            }
            i++;
        }
        if (found) {
            cJSON_DeleteItemFromArray(words, i);
        } else {
            rc = fail(ctx, ERR_NOTFOUND, "%s \"%s\" has no %s \"%s\"", kb_type_name(nl->type),
                      a->pos[0], nl->item, g->valuestring);
            break;
        }
    }
    if (!rc)
        rc = cJSON_GetArraySize(words) || nl->keep_empty ? put(ctx, nl->type, rec, KB_PUT_EDIT)
                                                         : remove_record(ctx, nl->type, a->pos[0]);
    cJSON_Delete(gone);
    cJSON_Delete(rec);
    return rc;
}

static int c_syn_add(struct cmd_ctx *ctx, const struct args *a)
{
    return list_add(ctx, a, &synonyms);
}

static int c_syn_remove(struct cmd_ctx *ctx, const struct args *a)
{
    return list_remove(ctx, a, &synonyms);
}

static int c_spk_add(struct cmd_ctx *ctx, const struct args *a)
{
    return list_add(ctx, a, &speakers);
}

static int c_spk_remove(struct cmd_ctx *ctx, const struct args *a)
{
    return list_remove(ctx, a, &speakers);
}

static int c_party_add(struct cmd_ctx *ctx, const struct args *a)
{
    return list_add(ctx, a, &parties);
}

static int c_party_remove(struct cmd_ctx *ctx, const struct args *a)
{
    return list_remove(ctx, a, &parties);
}

/* kb synonym list, kb speaker list: each record, its role when it has one, and its list. */
static int list_show(struct cmd_ctx *ctx, const struct args *a, const struct named_list *nl)
{
    cJSON *list;
    int rc = kb_list(ctx->kb, nl->type, NULL, 1, &list);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, list);
    } else {
        const cJSON *s;
        cJSON_ArrayForEach(s, list)
        {
            char label[512];
            snprintf(label, sizeof label, "%s%s%s", str(s, nl->key), *str(s, "role") ? ", " : "",
                     str(s, "role"));
            char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(s, nl->list));
            rc = buf_printf(ctx->out, "%-24s → %s\n", label, w ? w : "");
            cJSON_free(w);
            if (rc)
                break;
        }
        if (!rc)
            rc = buf_printf(ctx->out, "%d %s\n", cJSON_GetArraySize(list),
                            cJSON_GetArraySize(list) == 1 ? kb_type_name(nl->type) : nl->plural);
    }
    cJSON_Delete(list);
    return rc;
}

static int c_syn_list(struct cmd_ctx *ctx, const struct args *a)
{
    return list_show(ctx, a, &synonyms);
}

static int c_spk_list(struct cmd_ctx *ctx, const struct args *a)
{
    return list_show(ctx, a, &speakers);
}

static int c_party_list(struct cmd_ctx *ctx, const struct args *a)
{
    return list_show(ctx, a, &parties);
}

static int c_src_list(struct cmd_ctx *ctx, const struct args *a)
{
    cJSON *list;
    int rc = kb_list(ctx->kb, KB_SOURCE, NULL, 1, &list);
    if (rc)
        return kbfail(ctx, rc);
    if (opt(a, "json")) {
        rc = print_json(ctx, list);
    } else {
        const cJSON *s;
        cJSON_ArrayForEach(s, list)
        {
            if ((rc = buf_printf(ctx->out, "%-24s ", str(s, "id"))) ||
                (rc = reply_citation(s, ctx->out)) || (rc = buf_putc(ctx->out, '\n')))
                break;
        }
    }
    cJSON_Delete(list);
    return rc;
}

static int c_src_show(struct cmd_ctx *ctx, const struct args *a)
{
    return show_record(ctx, KB_SOURCE, a->pos[0], opt(a, "json") != NULL);
}

static int c_src_add(struct cmd_ctx *ctx, const struct args *a)
{
    return add_or_edit(ctx, a, KB_SOURCE, SOURCE_FIELDS, NULL, KB_PUT_ADD);
}

static int c_src_edit(struct cmd_ctx *ctx, const struct args *a)
{
    return add_or_edit(ctx, a, KB_SOURCE, SOURCE_FIELDS, a->pos[0], KB_PUT_EDIT);
}

static int c_src_remove(struct cmd_ctx *ctx, const struct args *a)
{
    return remove_record(ctx, KB_SOURCE, a->pos[0]);
}

/* ---- dispatch ---- */

/* How many leading words of argv the command's path has, or 0 when they differ. */
static int path_words(const char *path, int argc, char *const *argv)
{
    int n = 0;
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (n >= argc || strlen(argv[n]) != len || strncmp(argv[n], p, len) != 0)
            return 0;
        n++;
        p += len + (e != NULL);
    }
    return n;
}

int cmd_is_command(const char *word)
{
    return strcmp(word, "help") == 0 || strcmp(word, "sources") == 0 || strcmp(word, "kb") == 0;
}

static const struct cmd *find(int argc, char *const *argv, int *used)
{
    const struct cmd *best = NULL;
    *used = 0;
    for (int i = 0; i < NCOMMANDS; i++) {
        int n = path_words(commands[i].path, argc, argv);
        if (n > *used) {
            best = &commands[i];
            *used = n;
        }
    }
    return best;
}

int cmd_takes_fields(int argc, char *const *argv)
{
    int used;
    const struct cmd *c = find(argc, argv, &used);
    return c && (c->flags & CMD_FIELDS);
}

int cmd_run(struct cmd_ctx *ctx, int argc, char *const *argv)
{
    int used;
    const struct cmd *c = find(argc, argv, &used);
    if (!c) {
        if (argc >= 1 && strcmp(argv[0], "kb") == 0) {
            if (argc == 1) {
                struct args none = { 0 };
                none.pos[0] = "kb";
                none.npos = 1;
                return c_help(ctx, &none);
            }
            return fail(ctx, ERR_USAGE, "unknown command \"kb %s\"; \"help kb\" lists them",
                        argv[1]);
        }
        return fail(ctx, ERR_USAGE, "unknown command \"%s\"; \"help\" lists them",
                    argc ? argv[0] : "");
    }
    if ((c->flags & CMD_MODERATOR) && !ctx->moderator)
        return fail(ctx, ERR_PERM,
                    (c->flags & CMD_PRIVATE)
                        ? "Sorry, only moderators can run \"%s\"."
                        : "Sorry, only moderators can run \"%s\": nothing was changed.",
                    c->path);
    if ((c->flags & CMD_PRIVATE) && !ctx->direct)
        return fail(ctx, ERR_PERM,
                    "\"%s\" shows what people asked, some of it in private: ask me in a direct "
                    "message.",
                    c->path);
    if ((c->flags & CMD_TERMINAL) && !ctx->terminal)
        return fail(ctx, ERR_PERM, "\"%s\" works only at the command line (planbot %s).", c->path,
                    c->path);
    struct args a;
    int rc = parse_args(ctx, c, argc - used, argv + used, &a);
    if (rc)
        return rc;
    if (a.npos < c->min || (c->max >= 0 && a.npos > c->max))
        return fail(ctx, ERR_USAGE, "%s\nusage: %s",
                    a.npos < c->min ? "missing argument" : "too many arguments", c->usage);
    rc = c->fn(ctx, &a);
    if (rc == ERR_TOOBIG && ctx->out->len + 64 >= ctx->out->max)
        return fail(ctx, rc, "the output is too long for one reply; use the command line");
    return rc;
}
