/* cli.c - argument handling and the ask, run and kb commands (see cli.h).
 *
 * Global options (--db, --config, --as, --log-level, --help, --version) are taken from anywhere
 * before a "--", so `planbot --db x kb list` and `planbot kb list --db x` mean the same. */
#include "cli.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libwebsockets.h>
#include <sqlite3.h>

#include "bot.h"
#include "cmd.h"
#include "config.h"
#include "err.h"
#include "input.h"
#include "log.h"
#include "match.h"
#include "plat.h"
#include "reply.h"

#ifndef PLANBOT_VERSION
#define PLANBOT_VERSION "0"
#endif

enum {
    MAX_OUTPUT = 128 * 1024 * 1024,
    MAX_ASK_LINE = 64 * 1024, /* longer lines are refused, as are questions over 4 KiB */
    DEFAULT_RELATED = 2
};

struct cli {
    struct config cfg;
    const char *db;        /* --db */
    const char *config;    /* --config */
    const char *as;        /* --as */
    const char *log_level; /* --log-level */
    int help, version;
    char **rest; /* the command and its arguments */
    int nrest;
};

static const char usage[] =
    "Usage: planbot [OPTIONS] [COMMAND [ARGS]]\n"
    "\n"
    "planbot answers questions about the draft 28-point peace plan for Ukraine from a knowledge\n"
    "base of its provisions and of attributed quotes, always quoting and citing its source.\n"
    "\n"
    "Commands:\n"
    "  run [--platform NAME]...  start the bot (the default); --platform again serves several\n"
    "                            platforms at once; with the console platform it is a\n"
    "                            chat in this terminal\n"
    "  ask [--json] [--limit N] [--explain] [QUESTION...]\n"
    "                            answer one question with its citation and up to N related\n"
    "                            entries (default 2); with no QUESTION, answer each line of\n"
    "                            standard input on one line\n"
    "  kb COMMAND ...            look at and change the knowledge base (planbot help kb)\n"
    "  help [COMMAND]            this help, or the help of a command\n"
    "  version                   the versions of planbot and its libraries\n"
    "\n"
    "Options, before or after the command:\n"
    "  --db PATH         the knowledge base; created with the bundled data when it does not\n"
    "                    exist (default: $PLANBOT_DB, the config's \"db\", or\n"
    "                    $XDG_DATA_HOME/planbot/planbot.db, ~/.local/share/planbot/planbot.db)\n"
    "  --config PATH     a JSON configuration file (default: $PLANBOT_CONFIG)\n"
    "  --as NAME         who makes changes, for the audit log (default: your login name)\n"
    "  --log-level LVL   debug, info, warn, error or off (default: info)\n"
    "  -h, --help        show this help\n"
    "  -V, --version     show the version\n"
    "\n"
    "Exit status: 0 on success, 1 on a runtime error, 2 on a usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "planbot: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'planbot --help'.\n");
    return 2;
}

/* Takes the global options out of argv; the rest goes to cli->rest. */
static int parse_global(struct cli *cli, int argc, char **argv)
{
    static const char *const with_value[] = { "--db", "--config", "--as", "--log-level" };
    cli->rest = calloc((size_t)argc + 1, sizeof *cli->rest);
    if (!cli->rest)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            while (i < argc)
                cli->rest[cli->nrest++] = argv[i++];
            break;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli->help = 1;
            continue;
        }
        if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
            cli->version = 1;
            continue;
        }
        const char **slot[] = { &cli->db, &cli->config, &cli->as, &cli->log_level };
        int matched = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0] && !matched; k++) {
            size_t n = strlen(with_value[k]);
            if (strncmp(a, with_value[k], n) != 0 || (a[n] != '\0' && a[n] != '='))
                continue;
            matched = 1;
            if (a[n] == '=') {
                *slot[k] = a + n + 1;
            } else if (i + 1 < argc) {
                *slot[k] = argv[++i];
            } else {
                return usage_error("%s needs a value", with_value[k]);
            }
            if (!**slot[k])
                return usage_error("%s needs a non-empty value", with_value[k]);
        }
        if (!matched)
            cli->rest[cli->nrest++] = argv[i];
    }
    return 0;
}

static int load_config(struct cli *cli)
{
    char err[1024];
    if (config_defaults(&cli->cfg) || plat_add_settings(&cli->cfg)) {
        fprintf(stderr, "planbot: out of memory\n");
        return 1;
    }
    const char *path = cli->config ? cli->config : getenv("PLANBOT_CONFIG");
    if (path && *path && config_load_file(&cli->cfg, path, err, sizeof err)) {
        fprintf(stderr, "planbot: %s\n", err);
        return 2;
    }
    if (config_load_env(&cli->cfg, err, sizeof err)) {
        fprintf(stderr, "planbot: %s\n", err);
        return 2;
    }
    const char *names[16];
    size_t n = 0;
    for (size_t i = 0; plat_all[i] && n + 1 < sizeof names / sizeof names[0]; i++)
        if (plat_all[i]->caps & PLAT_CAP_MODERATORS)
            names[n++] = plat_all[i]->name;
    names[n] = NULL;
    if (config_check_platforms(&cli->cfg, names, err, sizeof err)) {
        fprintf(stderr, "planbot: %s%s%s\n", path && *path ? path : "", path && *path ? ": " : "",
                err);
        return 2;
    }
    if (cli->db && config_set(&cli->cfg.db, cli->db))
        return 1;
    if (cli->db)
        cli->cfg.db_is_default = 0;
    if (cli->log_level) {
        int level = log_level_parse(cli->log_level);
        if (level < 0)
            return usage_error("--log-level must be debug, info, warn, error or off, not \"%s\"",
                               cli->log_level);
        cli->cfg.log_level = level;
    }
    log_set_level((enum log_level)cli->cfg.log_level);
    return 0;
}

/* Opens the knowledge base. When nobody chose a path and the default one cannot be created (no
 * writable home), planbot still answers: from the bundled data in memory, with a warning. */
static int open_kb(struct cli *cli, struct kb **kb)
{
    char err[1024];
    int rc = kb_open(kb, cli->cfg.db, 0, err, sizeof err);
    if ((rc == ERR_IO || rc == ERR_READONLY) && cli->cfg.db_is_default) {
        fprintf(stderr,
                "planbot: %s; using the bundled knowledge base in memory (changes will "
                "not be kept; choose a database with --db or PLANBOT_DB)\n",
                err);
        rc = kb_open(kb, ":memory:", 0, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "planbot: %s\n", err);
        return err_exit_status(rc);
    }
    return 0;
}

static const char *login_name(void)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && *pw->pw_name)
        return pw->pw_name;
    const char *user = getenv("USER");
    return user && *user ? user : "unknown";
}

static void print_version(void)
{
    printf("planbot %s (SQLite %s, libwebsockets %s, %s, cJSON %s)\n", PLANBOT_VERSION,
           sqlite3_libversion(), lws_get_library_version(), curl_version(), cJSON_Version());
}

/* ---- ask ---- */

struct ask {
    int json, explain, limit;
    struct kb *kb;
    struct match *match;
};

/* Reports a question planbot cannot take: on stderr, and in the output line when reading
 * questions from stdin, so that output lines stay one per question. */
static void ask_error(const struct ask *a, int one_line, long line, const char *msg)
{
    if (line)
        fprintf(stderr, "planbot: line %ld: %s\n", line, msg);
    else
        fprintf(stderr, "planbot: %s\n", msg);
    if (one_line && a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNullToObject(o, "question");
        cJSON_AddStringToObject(o, "error", msg);
        cJSON_AddArrayToObject(o, "answers");
        cJSON_AddArrayToObject(o, "suggestions");
        char *s = cJSON_PrintUnformatted(o);
        if (s)
            puts(s);
        cJSON_free(s);
        cJSON_Delete(o);
    } else if (one_line) {
        printf("(error) %s\n", msg);
    }
    fflush(stdout);
}

/* Answers one question on stdout; returns 0 or the error (reported on stderr). The question's
 * reads are one read transaction, as the daemon's (one snapshot, one lock instead of one per
 * statement); when it cannot begin, each statement reads on its own, as before. */
static int ask_one(struct ask *a, const char *q, size_t len, int one_line, long line)
{
    struct match_result res;
    struct buf explain, out;
    buf_init(&explain, 1024 * 1024);
    buf_init(&out, 4 * 1024 * 1024);
    int began = kb_read_begin(a->kb) == 0;
    int rc = match_ask(a->match, q, len, a->limit, &res, a->explain ? &explain : NULL);
    if (rc) {
        ask_error(a, one_line, line, match_errmsg(a->match));
    } else {
        if (a->explain)
            fputs(buf_str(&explain), stderr);
        if (a->json) {
            cJSON *o = reply_answer_json(a->kb, q, &res);
            char *s = o ? cJSON_PrintUnformatted(o) : NULL;
            if (s)
                puts(s);
            else
                rc = ERR_NOMEM;
            cJSON_free(s);
            cJSON_Delete(o);
        } else {
            rc = one_line ? reply_answer_line(a->kb, &res, &out)
                          : reply_answer(a->kb, &res, &markup_plain, &out);
            puts(buf_str(&out));
        }
    }
    if (began)
        kb_read_end(a->kb);
    fflush(stdout);
    buf_free(&explain);
    buf_free(&out);
    return rc;
}

static int ask_stdin(struct ask *a)
{
    struct input *in = malloc(sizeof *in);
    if (!in)
        return ERR_NOMEM;
    input_init(in, STDIN_FILENO, NULL);
    struct buf line;
    buf_init(&line, MAX_ASK_LINE);
    int failed = 0, rc;
    long n = 0;
    while ((rc = input_line(in, &line)) != 0) {
        n++;
        if (rc == ERR_IO) {
            fprintf(stderr, "planbot: reading standard input failed\n");
            failed = 1;
            break;
        }
        if (rc == ERR_TOOBIG) {
            char msg[128];
            snprintf(msg, sizeof msg, "the question is too long (over %d bytes; at most %d)",
                     MAX_ASK_LINE, MATCH_MAX_QUESTION);
            ask_error(a, 1, n, msg);
            failed = 1;
        } else if (ask_one(a, buf_str(&line), line.len, 1, n)) {
            failed = 1;
        }
    }
    buf_free(&line);
    free(in);
    return failed ? ERR_INVAL : 0;
}

static int cmd_ask(struct cli *cli, int argc, char **argv)
{
    struct ask a = { 0, 0, DEFAULT_RELATED + 1, NULL, NULL };
    struct buf q;
    buf_init(&q, MAX_ASK_LINE);
    int options = 1, nwords = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && strcmp(s, "--json") == 0) {
            a.json = 1;
        } else if (options && strcmp(s, "--explain") == 0) {
            a.explain = 1;
        } else if (options && (strcmp(s, "--limit") == 0 || strncmp(s, "--limit=", 8) == 0)) {
            const char *v = s[7] == '=' ? s + 8 : i + 1 < argc ? argv[++i] : NULL;
            char *end;
            long n = v ? strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || n < 0 || n >= MATCH_MAX_ANSWERS) {
                buf_free(&q);
                return usage_error("--limit needs a number of related entries from 0 to 9");
            }
            a.limit = (int)n + 1;
        } else if (options && strncmp(s, "--", 2) == 0 && s[2]) {
            buf_free(&q);
            return usage_error("unknown option %s for ask", s);
        } else {
            if (buf_printf(&q, "%s%s", nwords++ ? " " : "", s)) {
                buf_free(&q);
                fprintf(stderr, "planbot: the question is too long\n");
                return 1;
            }
        }
    }
    int status = open_kb(cli, &a.kb);
    if (status) {
        buf_free(&q);
        return status;
    }
    if (match_open(&a.match, a.kb)) {
        fprintf(stderr, "planbot: %s\n", kb_errmsg(a.kb));
        kb_close(a.kb);
        buf_free(&q);
        return 1;
    }
    int rc = nwords ? ask_one(&a, buf_str(&q), q.len, 0, 0) : ask_stdin(&a);
    match_close(a.match);
    kb_close(a.kb);
    buf_free(&q);
    return rc ? 1 : 0;
}

/* ---- run ---- */

static int cmd_run_bot(struct cli *cli, int argc, char **argv)
{
    const char *names[16];
    size_t n = 0;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *name = NULL;
        if (strcmp(s, "--platform") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strncmp(s, "--platform=", 11) == 0)
            name = s + 11;
        else
            return usage_error("unknown argument for run: %s", s);
        if (n == sizeof names / sizeof names[0])
            return usage_error("at most %zu platforms at once", n);
        names[n++] = name;
    }
    char err[256];
    if (n && config_set_platforms(&cli->cfg, names, n, err, sizeof err))
        return usage_error("%s", err);
    const char *single[1] = { cli->cfg.platform };
    const char *const *chosen =
        cli->cfg.nplatforms ? (const char *const *)cli->cfg.platforms : single;
    size_t nchosen = cli->cfg.nplatforms ? cli->cfg.nplatforms : 1;
    for (size_t i = 0; i < nchosen; i++) {
        if (!plat_find(chosen[i])) {
            fprintf(stderr, "planbot: unknown platform \"%s\"; known platforms:", chosen[i]);
            for (size_t k = 0; plat_all[k]; k++)
                fprintf(stderr, " %s", plat_all[k]->name);
            fputc('\n', stderr);
            return 2;
        }
    }
    struct kb *kb;
    struct match *match;
    int status = open_kb(cli, &kb);
    if (status)
        return status;
    if (match_open(&match, kb)) {
        fprintf(stderr, "planbot: %s\n", kb_errmsg(kb));
        kb_close(kb);
        return 1;
    }
    int rc = bot_run(&cli->cfg, kb, match);
    match_close(match);
    kb_close(kb);
    return err_exit_status(rc);
}

/* ---- kb ---- */

static int run_table(struct cli *cli, int argc, char **argv, int need_kb)
{
    struct kb *kb = NULL;
    if (need_kb) {
        int status = open_kb(cli, &kb);
        if (status)
            return status;
    }
    struct buf out;
    buf_init(&out, MAX_OUTPUT);
    struct cmd_ctx ctx = { kb, { cli->as ? cli->as : login_name(), "cli" }, 1, 1, &out, 1, NULL };
    int rc = cmd_run(&ctx, argc, argv);
    if (rc) {
        fprintf(stderr, "planbot: %s\n", buf_str(&out));
    } else {
        fputs(buf_str(&out), stdout);
        if (fflush(stdout) != 0) {
            perror("planbot: writing the output");
            rc = ERR_IO;
        }
    }
    buf_free(&out);
    kb_close(kb);
    return err_exit_status(rc);
}

/* The usage, with the platforms from the adapter table. */
static void print_usage(void)
{
    fputs(usage, stdout);
    fputs("\nPlatforms (run --platform NAME, or \"platform\" in the configuration):\n", stdout);
    for (size_t i = 0; plat_all[i]; i++)
        printf("  %-10s %s\n", plat_all[i]->name, plat_all[i]->description);
}

static int cmd_help(struct cli *cli, int argc, char **argv)
{
    if (argc <= 1 || strcmp(argv[1], "run") == 0 || strcmp(argv[1], "ask") == 0) {
        print_usage();
        return 0;
    }
    char *args[8] = { "help" };
    int n = 1;
    for (int i = 1; i < argc && n < 7; i++)
        args[n++] = argv[i];
    return run_table(cli, n, args, 0);
}

int cli_main(int argc, char **argv)
{
    struct cli cli;
    memset(&cli, 0, sizeof cli);
    int status = parse_global(&cli, argc, argv);
    if (status)
        goto out;
    if (cli.version) {
        print_version();
        goto out;
    }
    const char *command = cli.nrest ? cli.rest[0] : "run";
    if (cli.help) {
        if (strcmp(command, "kb") == 0) {
            char *args[8] = { "help" };
            int n = 1;
            for (int i = 0; i < cli.nrest && n < 7; i++)
                if (strncmp(cli.rest[i], "--", 2) != 0)
                    args[n++] = cli.rest[i];
            status = run_table(&cli, n, args, 0);
        } else {
            print_usage();
        }
        goto out;
    }
    if ((status = load_config(&cli)))
        goto out;
    if (strcmp(command, "run") == 0)
        status = cmd_run_bot(&cli, cli.nrest ? cli.nrest : 1, cli.rest);
    else if (strcmp(command, "ask") == 0)
        status = cmd_ask(&cli, cli.nrest, cli.rest);
    else if (strcmp(command, "kb") == 0 || strcmp(command, "sources") == 0)
        status = run_table(&cli, cli.nrest, cli.rest, 1);
    else if (strcmp(command, "help") == 0)
        status = cmd_help(&cli, cli.nrest, cli.rest);
    else if (strcmp(command, "version") == 0)
        print_version();
    else
        status = usage_error("unknown command \"%s\"", command);
out:
    config_free(&cli.cfg);
    free(cli.rest);
    return status;
}
