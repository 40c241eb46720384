/* config.h - planbot's settings: defaults, then the JSON config file, then the environment, then
 * command-line flags, each overriding the one before. Unknown keys and wrong types in the file are
 * errors that name the key (config/planbot.example.json documents every key). */
#ifndef PLANBOT_CONFIG_H
#define PLANBOT_CONFIG_H

#include <stddef.h>

struct config {
    char *db;          /* database path (owned) */
    char *platform;    /* chat platform adapter: "console" */
    int log_level;     /* enum log_level */
    int db_is_default; /* nobody chose db: it is the default path */
};

/* Fills cfg with the defaults: the database in $XDG_DATA_HOME/planbot (or ~/.local/share/planbot),
 * the console platform, log level info. Returns 0 or ERR_NOMEM. */
int config_defaults(struct config *cfg);

/* Reads a JSON config file over cfg. Returns 0, or ERR_IO / ERR_INVAL with a message in err that
 * names the file and the key. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Parses config text (the file's content) over cfg; origin names it in messages. */
int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
                     char *err, size_t errlen);

/* Applies PLANBOT_DB, PLANBOT_PLATFORM and PLANBOT_LOG_LEVEL when set. */
int config_load_env(struct config *cfg, char *err, size_t errlen);

/* Replaces a string setting (owned copy). Returns 0 or ERR_NOMEM. */
int config_set(char **field, const char *value);

/* Frees the owned strings. */
void config_free(struct config *cfg);

#endif
