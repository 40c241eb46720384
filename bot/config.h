/* config.h - planbot's settings: defaults, then the JSON config file, then the environment, then
 * command-line flags, each overriding the one before. Unknown keys and wrong types in the file are
 * errors that name the key (config/planbot.example.json documents every key). Secrets (tokens)
 * are never read from the file itself: only from the environment or from files it names. */
#ifndef PLANBOT_CONFIG_H
#define PLANBOT_CONFIG_H

#include <stddef.h>

struct config_slack {
    char *api_url;        /* Web API base, ending in '/'; SLACK_API_URL overrides (owned) */
    char *app_token_file; /* a file holding the xapp- token, when SLACK_APP_TOKEN is unset */
    char *bot_token_file; /* a file holding the xoxb- token, when SLACK_BOT_TOKEN is unset */
    int pace_ms;          /* the least time between two posts to one channel; 0: no pacing */
    int ping_secs;        /* ping a socket quiet this long */
    int timeout_secs;     /* drop a socket silent this long; give up an API call after this long */
};

struct config_mattermost {
    char *url;        /* the server's base URL, ending in '/'; MATTERMOST_URL overrides (owned) */
    char *token_file; /* a file holding the bot account's token, when MATTERMOST_TOKEN is unset */
    int pace_ms;      /* the least time between two posts to one channel; 0: no pacing */
    int ping_secs;    /* ping a socket quiet this long */
    int timeout_secs; /* drop a socket silent this long; give up an API call after this long */
};

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
    struct config_slack slack;
    struct config_mattermost mattermost;
};

/* Fills cfg with the defaults: the database in $XDG_DATA_HOME/planbot (or ~/.local/share/planbot),
 * the console platform, log level info, questions kept 90 days, Slack at https://slack.com/api/
 * paced at one post per second per channel, 20 messages per user per minute, questions left
 * unanswered by a crash answered up to an hour later. Returns 0 or ERR_NOMEM. */
int config_defaults(struct config *cfg);

/* Reads a JSON config file over cfg. Returns 0, or ERR_IO / ERR_INVAL with a message in err that
 * names the file and the key. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Parses config text (the file's content) over cfg; origin names it in messages. */
int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
                     char *err, size_t errlen);

/* Applies PLANBOT_DB, PLANBOT_PLATFORM, PLANBOT_LOG_LEVEL, SLACK_API_URL and MATTERMOST_URL when
 * set. */
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
