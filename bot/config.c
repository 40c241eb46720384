/* config.c - settings from defaults, a JSON file, the environment (see config.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "log.h"

enum { MAX_CONFIG = 1024 * 1024 };

int config_set(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return ERR_NOMEM;
    free(*field);
    *field = copy;
    return 0;
}

int config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = LOG_INFO;
    char path[4096];
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && *xdg == '/')
        snprintf(path, sizeof path, "%s/planbot/planbot.db", xdg);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.local/share/planbot/planbot.db", home);
    else
        snprintf(path, sizeof path, "planbot.db");
    cfg->db_is_default = 1;
    if (config_set(&cfg->db, path) || config_set(&cfg->platform, "console")) {
        config_free(cfg);
        return ERR_NOMEM;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free(cfg->db);
    free(cfg->platform);
    memset(cfg, 0, sizeof *cfg);
}

static int set_log_level(struct config *cfg, const char *value, const char *origin, const char *key,
                         char *err, size_t errlen)
{
    int level = log_level_parse(value);
    if (level < 0) {
        snprintf(err, errlen,
                 "%s: \"%s\" must be one of debug, info, warn, error, off (got \"%s\")", origin,
                 key, value);
        return ERR_INVAL;
    }
    cfg->log_level = level;
    return 0;
}

int config_load_text(struct config *cfg, const char *text, size_t len, const char *origin,
                     char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!cJSON_IsObject(doc)) {
        size_t at = doc ? 0 : (cJSON_GetErrorPtr() ? (size_t)(cJSON_GetErrorPtr() - text) : 0);
        int line = 1;
        for (size_t i = 0; i < at && i < len; i++)
            line += text[i] == '\n';
        snprintf(err, errlen, "%s: line %d: %s", origin, line,
                 doc ? "the configuration must be a JSON object" : "not valid JSON");
        cJSON_Delete(doc);
        return ERR_INVAL;
    }
    int rc = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, doc)
    {
        const char *key = item->string;
        char **field = strcmp(key, "db") == 0         ? &cfg->db
                       : strcmp(key, "platform") == 0 ? &cfg->platform
                                                      : NULL;
        int is_level = strcmp(key, "log_level") == 0;
        if (!field && !is_level) {
            snprintf(err, errlen, "%s: unknown key \"%s\" (known keys: db, platform, log_level)",
                     origin, key);
            rc = ERR_INVAL;
            break;
        }
        if (!cJSON_IsString(item) || !*item->valuestring) {
            snprintf(err, errlen, "%s: \"%s\" must be a non-empty string", origin, key);
            rc = ERR_INVAL;
            break;
        }
        rc = is_level ? set_log_level(cfg, item->valuestring, origin, key, err, errlen)
                      : config_set(field, item->valuestring);
        if (field == &cfg->db)
            cfg->db_is_default = 0;
        if (rc)
            break;
    }
    cJSON_Delete(doc);
    return rc;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read the configuration %s: %s", path, strerror(errno));
        return ERR_IO;
    }
    struct buf text;
    buf_init(&text, MAX_CONFIG);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = buf_append(&text, chunk, n);
    if (!rc && ferror(f))
        rc = ERR_IO;
    fclose(f);
    if (rc) {
        snprintf(err, errlen, "cannot read the configuration %s: %s", path,
                 rc == ERR_TOOBIG ? "larger than 1 MiB" : err_str(rc));
        buf_free(&text);
        return rc;
    }
    rc = config_load_text(cfg, buf_str(&text), text.len, path, err, errlen);
    buf_free(&text);
    return rc;
}

int config_load_env(struct config *cfg, char *err, size_t errlen)
{
    const char *v;
    if ((v = getenv("PLANBOT_DB")) && *v) {
        if (config_set(&cfg->db, v))
            return ERR_NOMEM;
        cfg->db_is_default = 0;
    }
    if ((v = getenv("PLANBOT_PLATFORM")) && *v && config_set(&cfg->platform, v))
        return ERR_NOMEM;
    if ((v = getenv("PLANBOT_LOG_LEVEL")) && *v)
        return set_log_level(cfg, v, "environment", "PLANBOT_LOG_LEVEL", err, errlen);
    return 0;
}
