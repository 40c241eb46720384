/* plat.c - the table of platform adapters. Adding a platform: write platform/NAME.c exporting
 * one const struct plat_ops plat_NAME, add it to CMakeLists.txt and to this table. */
#include "plat.h"

#include <string.h>

extern const struct plat_ops plat_console;
extern const struct plat_ops plat_slack;
extern const struct plat_ops plat_mattermost;
extern const struct plat_ops plat_irc;
extern const struct plat_ops plat_discord;

const struct plat_ops *const plat_all[] = {
    &plat_console, &plat_slack, &plat_mattermost, &plat_irc, &plat_discord, NULL,
};

int plat_add_settings(struct config *cfg)
{
    for (size_t i = 0; plat_all[i]; i++) {
        int rc = plat_all[i]->settings ? config_add_section(cfg, plat_all[i]->settings) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

const struct plat_ops *plat_find(const char *name)
{
    for (size_t i = 0; plat_all[i]; i++)
        if (strcmp(plat_all[i]->name, name) == 0)
            return plat_all[i];
    return NULL;
}

const struct markup *plat_markup(const struct plat_ops *ops, const struct plat *p)
{
    const struct markup *m = ops->markup_of && p ? ops->markup_of(p) : NULL;
    return m ? m : ops->markup;
}
