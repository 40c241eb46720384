/* config.h - planbot's settings: defaults, then the JSON config file, then the environment, then
 * command-line flags, each overriding the one before. Unknown keys and wrong types in the file are
 * errors that name the key (config/planbot.example.json documents every key). Secrets (tokens)
 * are never read from the file itself: only from the environment or from files it names. */
#ifndef PLANBOT_CONFIG_H
#define PLANBOT_CONFIG_H

#include <stddef.h>

struct config;

/* A section of the configuration that an adapter owns ("slack": {...}), declared by the adapter
 * (plat_ops.settings) as a table of keys; config keeps its values, checks the file against it,
 * and the adapter reads them with config_string() and config_int(). */
enum config_kind {
    CONFIG_INT,        /* a whole number from min to max; def is its default */
    CONFIG_URL,        /* an http(s):// base URL, stored ending in '/'; https unless it is this
                          machine (tests); env overrides it; dflt is its default (NULL: none) */
    CONFIG_TOKEN_FILE, /* the name of a file holding a secret; a value that starts like one of
                          the secret's prefixes (comma-separated, in dflt) is refused: a token
                          pasted where its file's name belongs */
    CONFIG_SECRET,     /* never read from the file: env names the variable it comes from, and
                          the error points there and to the key NAME_file */
    CONFIG_STRING,     /* a non-empty string without control characters; env overrides it; dflt
                          is its default (NULL: none) */
    CONFIG_LIST,       /* a JSON array of such strings, none holding a comma or a space, kept
                          joined by commas; env overrides it with the comma-joined form; dflt is
                          its default */
    CONFIG_BOOL        /* true or false, read as 1 or 0 with config_int(); def is its default */
};

struct config_key {
    const char *name;
    enum config_kind kind;
    int min, max, def; /* CONFIG_INT; def also for CONFIG_BOOL */
    const char *dflt;  /* see enum config_kind */
    const char *env;   /* see enum config_kind; NULL: none */
};

struct config_section {
    const char *name;              /* the key in the file: "slack" */
    const struct config_key *keys; /* NULL name last */
    /* Checks the section's values against each other after the file is read (NULL: none).
     * Returns 0, or ERR_INVAL with a message in err that starts with origin. */
    int (*check)(const struct config *cfg, const char *origin, char *err, size_t errlen);
};

enum { CONFIG_SECTIONS_MAX = 16 };

struct config {
    char *db;         /* database path (owned) */
    char *platform;   /* chat platform adapter: "console", "slack", "mattermost" */
    char **platforms; /* several adapters at once on one loop ("platforms", --platform given
                         more than once); when set, platform is ignored (owned) */
    size_t nplatforms;
    int log_level;     /* enum log_level */
    int db_is_default; /* nobody chose db: it is the default path */
    char **moderators; /* "platform:user id" pairs (owned) */
    size_t nmoderators;
    int unanswered_days; /* how long declined questions are kept; 0: for ever */
    char *tls_ca_file;   /* test option: trust this CA bundle instead of the system's; or NULL */
    int flood_messages;  /* messages one user may send per flood_seconds; 0: no limit */
    int flood_seconds;
    int replay_max_age; /* seconds: questions acknowledged but not answered before a crash are
                           answered at the next start when younger than this */
    int linger_us;      /* microseconds the loop waits, when behind, for more to serve at once
                           (loop_set_linger); 0: never */
    struct {
        const struct config_section *section;
        union config_value {
            char *s; /* owned; NULL: not set */
            int i;
        } * values; /* one per key (owned) */
    } sections[CONFIG_SECTIONS_MAX];
    size_t nsections;
};

/* Fills cfg with the defaults: the database in $XDG_DATA_HOME/planbot (or ~/.local/share/planbot),
 * the console platform, log level info, questions kept 90 days, 20 messages per user per minute,
 * questions left unanswered by a crash answered up to an hour later, a linger of 300 us when
 * behind; no adapter's section yet.
 * Returns 0 or ERR_NOMEM. */
int config_defaults(struct config *cfg);

/* Adds an adapter's section with its defaults, before the file is read (plat_add_settings()
 * adds every adapter's). Returns 0, ERR_NOMEM, or ERR_INVAL for a name taken or too many. */
int config_add_section(struct config *cfg, const struct config_section *section);

/* A value of an adapter's section: the string (NULL when not set) or the number (1 or 0 for true
 * or false) of key in section. Asking for a key the section does not declare is a programming
 * error: NULL or 0. */
const char *config_string(const struct config *cfg, const char *section, const char *key);
int config_int(const struct config *cfg, const char *section, const char *key);

/* A check for a section: 0 when section.less < section.more, else ERR_INVAL with a message
 * in err saying so and why (for instance "or a quiet socket is dropped before it is pinged"). */
int config_check_less(const struct config *cfg, const char *section, const char *less,
                      const char *more, const char *why, const char *origin, char *err,
                      size_t errlen);

/* Reads a JSON config file over cfg. Returns 0, or ERR_IO / ERR_INVAL with a message in err that
 * names the file and the key. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Parses config text (the file's content) over cfg; origin names it in messages. */
int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
                     char *err, size_t errlen);

/* Applies PLANBOT_DB, PLANBOT_PLATFORM, PLANBOT_LOG_LEVEL and each section's environment
 * overrides (SLACK_API_URL, MATTERMOST_URL, IRC_URL) when set. */
int config_load_env(struct config *cfg, char *err, size_t errlen);

/* Replaces a string setting (owned copy). Returns 0 or ERR_NOMEM. */
int config_set(char **field, const char *value);

/* Checks that every platform named under "moderators" is one of names (NULL-terminated): the
 * adapters with moderators by platform user id (PLAT_CAP_MODERATORS). Returns 0, or ERR_INVAL with
 * a message in err naming the key. */
int config_check_platforms(const struct config *cfg, const char *const *names, char *err,
                           size_t errlen);

/* Whether user (a platform's immutable user id) is listed as a moderator on platform. */
int config_is_moderator(const struct config *cfg, const char *platform, const char *user);

/* Reads a secret: the environment variable env when set, else the first line of file (when not
 * NULL). *out is an owned copy with white space trimmed, or NULL when neither gives one. Warns when
 * the file can be read by group or others. Returns 0, or ERR_IO / ERR_INVAL with a message in err
 * that names the variable or the file, never the secret. */
int config_secret(const char *env, const char *file, char **out, char *err, size_t errlen);

/* Sets the adapters to run: one name makes platform that name (and clears platforms), more
 * make platforms the list. ERR_INVAL (with why in err) for none or a name given twice; ERR_NOMEM.
 */
int config_set_platforms(struct config *cfg, const char *const *names, size_t n, char *err,
                         size_t errlen);

/* Frees the owned strings. */
void config_free(struct config *cfg);

#endif
