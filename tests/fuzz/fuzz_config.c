/* fuzz_config.c - libFuzzer target for the configuration loader (config.h): each input is the
 * text of a config file, read over the defaults as planbot reads its file, then read a second
 * time over the result (the owned strings it replaces must not leak), then freed.
 *
 * It aborts when a documented promise breaks: a failed load says why; after a successful one
 * every listed moderator is recognised by config_is_moderator() and the same text loads again. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "plat.h"
#include "err.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* the default database path comes from the environment: keep it fixed */
    setenv("HOME", "/nonexistent", 1);
    unsetenv("XDG_DATA_HOME");
    return 0;
}

static void check_moderators(const struct config *cfg)
{
    for (size_t i = 0; i < cfg->nmoderators; i++) {
        const char *m = cfg->moderators[i];
        const char *colon = strchr(m, ':');
        CHECK(colon && colon > m && colon[1]);
        char platform[256];
        size_t plen = (size_t)(colon - m);
        if (plen >= sizeof platform)
            continue;
        memcpy(platform, m, plen);
        platform[plen] = '\0';
        CHECK(config_is_moderator(cfg, platform, colon + 1));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct config cfg;
    char err[512];
    if (config_defaults(&cfg))
        return 0;
    if (plat_add_settings(&cfg)) {
        config_free(&cfg);
        return 0;
    }
    err[0] = '\0';
    int rc = config_load_text(&cfg, text, size, "fuzz.json", err, sizeof err);
    if (rc) {
        CHECK(rc == ERR_INVAL || rc == ERR_NOMEM);
        CHECK(rc == ERR_NOMEM || err[0] != '\0');
    } else {
        CHECK(cfg.db && cfg.platform && config_string(&cfg, "slack", "api_url"));
        check_moderators(&cfg);
        static const char *const names[] = { "console", "slack", NULL };
        (void)config_check_platforms(&cfg, names, err, sizeof err);
        (void)config_is_moderator(&cfg, "slack", "U0123ABCDE");
        /* the same file read again over itself, as when settings are layered */
        CHECK(config_load_text(&cfg, text, size, "fuzz.json", err, sizeof err) == 0);
        check_moderators(&cfg);
    }
    config_free(&cfg);
    config_free(&cfg); /* zeroed: a second free is harmless */
    return 0;
}
