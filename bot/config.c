/* config.c - settings from defaults, a JSON file, the environment (see config.h). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    cfg->unanswered_days = 90;
    cfg->flood_messages = 20;
    cfg->flood_seconds = 60;
    cfg->replay_max_age = 3600;
    cfg->linger_us = 300;
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
    for (size_t i = 0; i < cfg->nmoderators; i++)
        free(cfg->moderators[i]);
    free(cfg->moderators);
    for (size_t i = 0; i < cfg->nplatforms; i++)
        free(cfg->platforms[i]);
    free(cfg->platforms);
    free(cfg->tls_ca_file);
    for (size_t i = 0; i < cfg->nsections; i++) {
        const struct config_key *k = cfg->sections[i].section->keys;
        for (size_t j = 0; cfg->sections[i].values && k[j].name; j++)
            if (k[j].kind != CONFIG_INT && k[j].kind != CONFIG_BOOL)
                free(cfg->sections[i].values[j].s);
        free(cfg->sections[i].values);
    }
    memset(cfg, 0, sizeof *cfg);
}

/* ---- the adapters' sections ---- */

static int section_index(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (strcmp(cfg->sections[i].section->name, name) == 0)
            return (int)i;
    return -1;
}

/* The value of key in section, or NULL when either is unknown. */
static union config_value *value_of(const struct config *cfg, const char *section, const char *key,
                                    const struct config_key **kp)
{
    int i = section_index(cfg, section);
    if (i < 0)
        return NULL;
    const struct config_key *k = cfg->sections[i].section->keys;
    for (size_t j = 0; k[j].name; j++)
        if (strcmp(k[j].name, key) == 0) {
            if (kp)
                *kp = &k[j];
            return &cfg->sections[i].values[j];
        }
    return NULL;
}

int config_add_section(struct config *cfg, const struct config_section *section)
{
    if (cfg->nsections == CONFIG_SECTIONS_MAX || section_index(cfg, section->name) >= 0)
        return ERR_INVAL;
    size_t n = 0;
    while (section->keys[n].name)
        n++;
    union config_value *v = calloc(n ? n : 1, sizeof *v);
    if (!v)
        return ERR_NOMEM;
    for (size_t j = 0; j < n; j++) {
        const struct config_key *k = &section->keys[j];
        if (k->kind == CONFIG_INT || k->kind == CONFIG_BOOL)
            v[j].i = k->def;
        else if ((k->kind == CONFIG_URL || k->kind == CONFIG_STRING || k->kind == CONFIG_LIST) &&
                 k->dflt && !(v[j].s = strdup(k->dflt))) {
            while (j > 0)
                free(v[--j].s);
            free(v);
            return ERR_NOMEM;
        }
    }
    cfg->sections[cfg->nsections].section = section;
    cfg->sections[cfg->nsections++].values = v;
    return 0;
}

const char *config_string(const struct config *cfg, const char *section, const char *key)
{
    const struct config_key *k;
    const union config_value *v = value_of(cfg, section, key, &k);
    return v && k->kind != CONFIG_INT && k->kind != CONFIG_BOOL ? v->s : NULL;
}

int config_int(const struct config *cfg, const char *section, const char *key)
{
    const struct config_key *k;
    const union config_value *v = value_of(cfg, section, key, &k);
    return v && (k->kind == CONFIG_INT || k->kind == CONFIG_BOOL) ? v->i : 0;
}

int config_check_less(const struct config *cfg, const char *section, const char *less,
                      const char *more, const char *why, const char *origin, char *err,
                      size_t errlen)
{
    int a = config_int(cfg, section, less), b = config_int(cfg, section, more);
    if (a < b)
        return 0;
    snprintf(err, errlen, "%s: \"%s.%s\" (%d) must be less than \"%s.%s\" (%d), %s", origin,
             section, less, a, section, more, b, why);
    return ERR_INVAL;
}

int config_check_platforms(const struct config *cfg, const char *const *names, char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < cfg->nmoderators; i++) {
        const char *m = cfg->moderators[i];
        size_t plen = strcspn(m, ":");
        int known = 0;
        for (size_t k = 0; names[k] && !known; k++)
            known = strlen(names[k]) == plen && strncmp(names[k], m, plen) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "\"moderators.%.*s\": not a chat platform with moderators (the console's "
                     "user is always one)",
                     (int)plen, m);
            return ERR_INVAL;
        }
    }
    return 0;
}

int config_is_moderator(const struct config *cfg, const char *platform, const char *user)
{
    size_t plen = strlen(platform);
    for (size_t i = 0; i < cfg->nmoderators; i++) {
        const char *m = cfg->moderators[i];
        if (strncmp(m, platform, plen) == 0 && m[plen] == ':' && strcmp(m + plen + 1, user) == 0)
            return 1;
    }
    return 0;
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

/* Checks and stores a Web API base URL, adding the final '/'. */
static int set_api_url(char **field, const char *value, const char *origin, const char *key,
                       char *err, size_t errlen)
{
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
        snprintf(err, errlen, "%s: \"%s\" must be an http:// or https:// URL (got \"%s\")", origin,
                 key, value);
        return ERR_INVAL;
    }
    /* plain http would carry the tokens in clear: only to this machine, for tests */
    static const char *const loopback[] = { "http://127.0.0.1", "http://localhost",
                                            "http://[::1]" };
    int local = strncmp(value, "https://", 8) == 0;
    for (size_t i = 0; !local && i < sizeof loopback / sizeof loopback[0]; i++) {
        size_t n = strlen(loopback[i]);
        local = strncmp(value, loopback[i], n) == 0 && strchr(":/", value[n]) && value[n];
    }
    if (!local) {
        snprintf(err, errlen,
                 "%s: \"%s\" must use https:// (http:// would send the tokens unencrypted; it "
                 "is allowed only to 127.0.0.1 or localhost, for tests)",
                 origin, key);
        return ERR_INVAL;
    }
    size_t n = strlen(value);
    char *copy = malloc(n + 2);
    if (!copy)
        return ERR_NOMEM;
    memcpy(copy, value, n + 1);
    if (copy[n - 1] != '/')
        memcpy(copy + n, "/", 2);
    free(*field);
    *field = copy;
    return 0;
}

/* The top level's keys (an adapter's section has its own: struct config_key). */
enum kind { K_STRING, K_LEVEL, K_INT, K_MODERATORS, K_PLATFORMS, K_SECTION };

struct key {
    const char *name;
    enum kind kind;
    size_t off;                /* of the field in struct config */
    int min, max;              /* K_INT */
    const struct key *section; /* K_SECTION: its keys */
};

#define AT(field) offsetof(struct config, field)
static const struct key flood_keys[] = {
    { "messages", K_INT, AT(flood_messages), 0, 100000, NULL },
    { "seconds", K_INT, AT(flood_seconds), 1, 86400, NULL },
    { NULL, K_STRING, 0, 0, 0, NULL },
};
static const struct key top_keys[] = {
    { "db", K_STRING, AT(db), 0, 0, NULL },
    { "platform", K_STRING, AT(platform), 0, 0, NULL },
    { "platforms", K_PLATFORMS, 0, 0, 0, NULL },
    { "log_level", K_LEVEL, 0, 0, 0, NULL },
    { "moderators", K_MODERATORS, 0, 0, 0, NULL },
    { "unanswered_days", K_INT, AT(unanswered_days), 0, 36500, NULL },
    { "tls_ca_file", K_STRING, AT(tls_ca_file), 0, 0, NULL },
    { "flood_limit", K_SECTION, 0, 0, 0, flood_keys },
    { "replay_max_age", K_INT, AT(replay_max_age), 0, 7 * 86400, NULL },
    { "linger_us", K_INT, AT(linger_us), 0, 100000, NULL },
    { NULL, K_STRING, 0, 0, 0, NULL },
};
#undef AT

static void known_keys(const struct key *keys, char *out, size_t len)
{
    size_t at = 0;
    out[0] = '\0';
    for (const struct key *k = keys; k->name && at < len; k++)
        at += (size_t)snprintf(out + at, len - at, "%s%s", at ? ", " : "", k->name);
}

/* Whether value starts like one of the comma-separated prefixes ("xapp-,xox"). */
static int looks_like(const char *value, const char *prefixes)
{
    for (const char *p = prefixes; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n && strncmp(value, p, n) == 0)
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

/* Whether s is non-empty and has no control character (nor, for a list's item, a comma or a
 * space). */
static int plain_string(const char *s, int item)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f || (item && (*s == ',' || *s == ' ')))
            return 0;
    return 1;
}

/* A CONFIG_STRING value from the file. */
static int set_string(char **field, const cJSON *item, const char *origin, const char *key,
                      char *err, size_t errlen)
{
    if (!cJSON_IsString(item) || !plain_string(item->valuestring, 0)) {
        snprintf(err, errlen, "%s: \"%s\" must be a non-empty string without control characters",
                 origin, key);
        return ERR_INVAL;
    }
    return config_set(field, item->valuestring);
}

/* A CONFIG_LIST value from the file: ["#a", "#b"], kept as "#a,#b". */
static int set_list(char **field, const cJSON *item, const char *origin, const char *key, char *err,
                    size_t errlen)
{
    struct buf joined;
    buf_init(&joined, 64 * 1024);
    int rc = cJSON_IsArray(item) ? 0 : ERR_INVAL;
    const cJSON *one;
    cJSON_ArrayForEach(one, item)
    {
        if (rc)
            break;
        if (!cJSON_IsString(one) || !plain_string(one->valuestring, 1))
            rc = ERR_INVAL;
        else
            rc = buf_printf(&joined, "%s%s", joined.len ? "," : "", one->valuestring);
    }
    if (rc == ERR_INVAL || rc == ERR_TOOBIG)
        snprintf(err, errlen,
                 "%s: \"%s\" must be an array of non-empty strings without spaces or commas",
                 origin, key);
    if (!rc)
        rc = config_set(field, buf_str(&joined));
    buf_free(&joined);
    return rc == ERR_TOOBIG ? ERR_INVAL : rc;
}

/* Reads an adapter's section ("slack": {...}) against its key table. */
static int load_section(struct config *cfg, const cJSON *obj, size_t i, const char *origin,
                        char *err, size_t errlen)
{
    const struct config_section *sec = cfg->sections[i].section;
    union config_value *values = cfg->sections[i].values;
    if (!cJSON_IsObject(obj)) {
        snprintf(err, errlen, "%s: \"%s\" must be an object", origin, sec->name);
        return ERR_INVAL;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char key[128];
        snprintf(key, sizeof key, "%s.%s", sec->name, item->string);
        size_t j = 0;
        while (sec->keys[j].name && strcmp(sec->keys[j].name, item->string) != 0)
            j++;
        const struct config_key *k = &sec->keys[j];
        if (!k->name) {
            char known[256];
            size_t at = 0;
            known[0] = '\0';
            for (size_t n = 0; sec->keys[n].name && at < sizeof known; n++)
                if (sec->keys[n].kind != CONFIG_SECRET)
                    at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", at ? ", " : "",
                                           sec->keys[n].name);
            snprintf(err, errlen, "%s: unknown key \"%s\" (known keys in %s: %s)", origin, key,
                     sec->name, known);
            return ERR_INVAL;
        }
        union config_value *v = &values[j];
        int rc = 0;
        switch (k->kind) {
        case CONFIG_SECRET:
            snprintf(err, errlen,
                     "%s: \"%s\": tokens are never read from the configuration file; set %s or "
                     "name a file with %s_file",
                     origin, key, k->env ? k->env : "its environment variable", key);
            return ERR_INVAL;
        case CONFIG_INT:
            if (!cJSON_IsNumber(item) || item->valuedouble < k->min || item->valuedouble > k->max ||
                item->valuedouble != (double)(int)item->valuedouble) {
                snprintf(err, errlen, "%s: \"%s\" must be a whole number from %d to %d", origin,
                         key, k->min, k->max);
                return ERR_INVAL;
            }
            v->i = item->valueint;
            break;
        case CONFIG_BOOL:
            if (!cJSON_IsBool(item)) {
                snprintf(err, errlen, "%s: \"%s\" must be true or false", origin, key);
                return ERR_INVAL;
            }
            v->i = cJSON_IsTrue(item);
            break;
        case CONFIG_STRING: rc = set_string(&v->s, item, origin, key, err, errlen); break;
        case CONFIG_LIST: rc = set_list(&v->s, item, origin, key, err, errlen); break;
        case CONFIG_URL:
        case CONFIG_TOKEN_FILE:
            if (!cJSON_IsString(item) || !*item->valuestring) {
                snprintf(err, errlen, "%s: \"%s\" must be a non-empty string", origin, key);
                return ERR_INVAL;
            }
            if (k->kind == CONFIG_TOKEN_FILE && looks_like(item->valuestring, k->dflt)) {
                /* a token pasted where its file belongs: refuse it without repeating it */
                snprintf(err, errlen,
                         "%s: \"%s\" holds a token, not a file name; tokens are never read "
                         "from the configuration file",
                         origin, key);
                return ERR_INVAL;
            }
            rc = k->kind == CONFIG_URL
                     ? set_api_url(&v->s, item->valuestring, origin, key, err, errlen)
                     : config_set(&v->s, item->valuestring);
            break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* Moderators: {"slack": ["U0123", ...], ...}, stored as "slack:U0123". */
int config_set_platforms(struct config *cfg, const char *const *names, size_t n, char *err,
                         size_t errlen)
{
    if (n == 0) {
        snprintf(err, errlen, "no platform named");
        return ERR_INVAL;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(names[i], names[k]) == 0) {
                snprintf(err, errlen, "platform \"%s\" is named twice", names[i]);
                return ERR_INVAL;
            }
    char **list = NULL;
    if (n > 1) {
        list = calloc(n, sizeof *list);
        if (!list)
            return ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            if (!(list[i] = strdup(names[i]))) {
                while (i > 0)
                    free(list[--i]);
                free(list);
                return ERR_NOMEM;
            }
    }
    if (config_set(&cfg->platform, names[0])) {
        for (size_t i = 0; list && i < n; i++)
            free(list[i]);
        free(list);
        return ERR_NOMEM;
    }
    for (size_t i = 0; i < cfg->nplatforms; i++)
        free(cfg->platforms[i]);
    free(cfg->platforms);
    cfg->platforms = list;
    cfg->nplatforms = list ? n : 0;
    return 0;
}

/* "platforms": ["slack", "mattermost"]: a non-empty array of names, none twice. */
static int set_platforms_json(struct config *cfg, const cJSON *item, const char *origin, char *err,
                              size_t errlen)
{
    int n = cJSON_IsArray(item) ? cJSON_GetArraySize(item) : -1;
    const char *names[16];
    if (n < 1 || n > (int)(sizeof names / sizeof names[0])) {
        snprintf(err, errlen,
                 "%s: \"platforms\" must be an array of 1 to 16 platform names, "
                 "such as [\"slack\", \"mattermost\"]",
                 origin);
        return ERR_INVAL;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *x = cJSON_GetArrayItem(item, i);
        if (!cJSON_IsString(x) || !x->valuestring[0]) {
            snprintf(err, errlen, "%s: \"platforms[%d]\" must be a platform name", origin, i);
            return ERR_INVAL;
        }
        names[i] = x->valuestring;
    }
    char why[128];
    int rc = config_set_platforms(cfg, names, (size_t)n, why, sizeof why);
    if (rc == ERR_INVAL)
        snprintf(err, errlen, "%s: \"platforms\": %s", origin, why);
    return rc;
}

static int set_moderators(struct config *cfg, const cJSON *item, const char *origin, char *err,
                          size_t errlen)
{
    if (!cJSON_IsObject(item)) {
        snprintf(err, errlen,
                 "%s: \"moderators\" must be an object of platform: [user ids], such as "
                 "{\"slack\": [\"U0123ABC\"]}",
                 origin);
        return ERR_INVAL;
    }
    const cJSON *plat;
    cJSON_ArrayForEach(plat, item)
    {
        /* which platforms exist is the caller's knowledge: see config_check_platforms() */
        int named = *plat->string != '\0';
        for (const char *c = plat->string; *c && named; c++)
            named = islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_';
        if (!named) {
            snprintf(err, errlen, "%s: \"moderators\": \"%s\" is not a platform name", origin,
                     plat->string);
            return ERR_INVAL;
        }
        if (!cJSON_IsArray(plat)) {
            snprintf(err, errlen, "%s: \"moderators.%s\" must be an array of user ids", origin,
                     plat->string);
            return ERR_INVAL;
        }
        const cJSON *id;
        cJSON_ArrayForEach(id, plat)
        {
            int ok = cJSON_IsString(id) && *id->valuestring && strlen(id->valuestring) < 128;
            for (const char *c = ok ? id->valuestring : ""; *c && ok; c++)
                ok = !isspace((unsigned char)*c) && *c != ':';
            if (!ok) {
                snprintf(err, errlen,
                         "%s: \"moderators.%s\" must hold user ids (non-empty strings without "
                         "spaces), such as \"U0123ABC\"",
                         origin, plat->string);
                return ERR_INVAL;
            }
            char **grown = realloc(cfg->moderators, (cfg->nmoderators + 1) * sizeof *grown);
            if (!grown)
                return ERR_NOMEM;
            cfg->moderators = grown;
            size_t n = strlen(plat->string) + strlen(id->valuestring) + 2;
            if (!(grown[cfg->nmoderators] = malloc(n)))
                return ERR_NOMEM;
            snprintf(grown[cfg->nmoderators++], n, "%s:%s", plat->string, id->valuestring);
        }
    }
    return 0;
}

static int load_keys(struct config *cfg, const cJSON *obj, const struct key *keys,
                     const char *prefix, const char *origin, char *err, size_t errlen)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        char key[128];
        snprintf(key, sizeof key, "%s%s", prefix, item->string);
        const struct key *k = keys;
        while (k->name && strcmp(k->name, item->string) != 0)
            k++;
        int at = *prefix ? -1 : section_index(cfg, item->string);
        if (!k->name && at >= 0) {
            int rc = load_section(cfg, item, (size_t)at, origin, err, errlen);
            if (rc)
                return rc;
            continue;
        }
        if (!k->name) {
            char known[512];
            known_keys(keys, known, sizeof known);
            for (size_t i = 0; !*prefix && i < cfg->nsections; i++)
                snprintf(known + strlen(known), sizeof known - strlen(known), ", %s",
                         cfg->sections[i].section->name);
            snprintf(err, errlen, "%s: unknown key \"%s\" (known keys%s%.*s: %s)", origin, key,
                     *prefix ? " in " : "", (int)(*prefix ? strlen(prefix) - 1 : 0), prefix, known);
            return ERR_INVAL;
        }
        char *base = (char *)cfg + k->off;
        int rc = 0;
        switch (k->kind) {
        case K_SECTION:
            if (!cJSON_IsObject(item)) {
                snprintf(err, errlen, "%s: \"%s\" must be an object", origin, key);
                return ERR_INVAL;
            }
            snprintf(key + strlen(key), sizeof key - strlen(key), ".");
            rc = load_keys(cfg, item, k->section, key, origin, err, errlen);
            break;
        case K_MODERATORS: rc = set_moderators(cfg, item, origin, err, errlen); break;
        case K_PLATFORMS: rc = set_platforms_json(cfg, item, origin, err, errlen); break;
        case K_INT:
            if (!cJSON_IsNumber(item) || item->valuedouble < k->min || item->valuedouble > k->max ||
                item->valuedouble != (double)(int)item->valuedouble) {
                snprintf(err, errlen, "%s: \"%s\" must be a whole number from %d to %d", origin,
                         key, k->min, k->max);
                return ERR_INVAL;
            }
            *(int *)base = item->valueint;
            break;
        case K_STRING:
        case K_LEVEL:
            if (!cJSON_IsString(item) || !*item->valuestring) {
                snprintf(err, errlen, "%s: \"%s\" must be a non-empty string", origin, key);
                return ERR_INVAL;
            }
            if (k->kind == K_LEVEL)
                rc = set_log_level(cfg, item->valuestring, origin, key, err, errlen);
            else
                rc = config_set((char **)base, item->valuestring);
            if (!rc && (char **)base == &cfg->db)
                cfg->db_is_default = 0;
            break;
        }
        if (rc)
            return rc;
    }
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
    size_t at = end ? (size_t)(end - text) : len;
    while (at < len && isspace((unsigned char)text[at]))
        at++;
    if (at < len) { /* a second object, or a stray brace, is a mistake worth naming */
        int line = 1;
        for (size_t i = 0; i < at; i++)
            line += text[i] == '\n';
        snprintf(err, errlen, "%s: line %d: text after the JSON object", origin, line);
        cJSON_Delete(doc);
        return ERR_INVAL;
    }
    int rc = load_keys(cfg, doc, top_keys, "", origin, err, errlen);
    for (size_t i = 0; !rc && i < cfg->nsections; i++)
        if (cfg->sections[i].section->check)
            rc = cfg->sections[i].section->check(cfg, origin, err, errlen);
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
    for (size_t i = 0; i < cfg->nsections; i++) {
        const struct config_key *k = cfg->sections[i].section->keys;
        for (size_t j = 0; k[j].name; j++)
            if (k[j].env && (v = getenv(k[j].env)) && *v) {
                char **field = &cfg->sections[i].values[j].s;
                int rc = 0;
                if (k[j].kind == CONFIG_URL)
                    rc = set_api_url(field, v, "environment", k[j].env, err, errlen);
                else if (k[j].kind == CONFIG_STRING || k[j].kind == CONFIG_LIST)
                    rc = plain_string(v, 0) ? config_set(field, v) : ERR_INVAL;
                if (rc == ERR_INVAL && k[j].kind != CONFIG_URL)
                    snprintf(err, errlen, "environment: %s must not hold control characters",
                             k[j].env);
                if (rc)
                    return rc;
            }
    }
    if ((v = getenv("PLANBOT_LOG_LEVEL")) && *v)
        return set_log_level(cfg, v, "environment", "PLANBOT_LOG_LEVEL", err, errlen);
    return 0;
}

int config_secret(const char *env, const char *file, char **out, char *err, size_t errlen)
{
    *out = NULL;
    const char *v = getenv(env);
    struct buf text;
    buf_init(&text, 16 * 1024);
    int rc = 0;
    if (v && *v) {
        rc = buf_puts(&text, v);
    } else if (file) {
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            snprintf(err, errlen, "cannot read the token file %s (for %s): %s", file, env,
                     strerror(errno));
            if (fd >= 0)
                close(fd);
            return ERR_IO;
        }
        if (st.st_mode & (S_IRWXG | S_IRWXO))
            log_msg(LOG_WARN, "the token file %s can be read by others: chmod 600 it", file);
        char chunk[4096];
        ssize_t n = 0;
        while (!rc && (n = read(fd, chunk, sizeof chunk)) > 0)
            rc = buf_append(&text, chunk, (size_t)n);
        int read_errno = n < 0 ? errno : 0;
        close(fd);
        if (read_errno) {
            snprintf(err, errlen, "cannot read the token file %s (for %s): %s", file, env,
                     strerror(read_errno));
            buf_free(&text);
            return ERR_IO;
        }
        if (rc) {
            snprintf(err, errlen, "the token file %s is larger than 16 KiB", file);
            buf_free(&text);
            return ERR_INVAL;
        }
    } else {
        return 0;
    }
    if (rc) {
        snprintf(err, errlen, "%s is longer than 16 KiB", env);
        buf_free(&text);
        return ERR_INVAL;
    }
    /* the first line, trimmed */
    char *s = text.data ? text.data : "";
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strcspn(s, "\r\n");
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    int bad = n == 0;
    for (size_t i = 0; i < n && !bad; i++)
        bad = (unsigned char)s[i] <= ' ' || s[i] == 0x7f;
    if (bad) {
        if (v && *v)
            snprintf(err, errlen, "%s is empty or holds spaces or control characters", env);
        else
            snprintf(err, errlen,
                     "the token file %s (for %s) is empty or holds spaces or control characters",
                     file, env);
        buf_free(&text);
        return ERR_INVAL;
    }
    *out = strndup(s, n);
    buf_free(&text);
    return *out ? 0 : ERR_NOMEM;
}
