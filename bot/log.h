/* log.h - the one logging funnel: levels, a printf-checked format, one line per event on stderr.
 * Never pass a token or an Authorization header to it. */
#ifndef PLANBOT_LOG_H
#define PLANBOT_LOG_H

#include <stdarg.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Messages below level are dropped. The default is LOG_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parses "debug", "info", "warn", "error" or "off"; -1 when unknown. */
int log_level_parse(const char *name);

/* Writes "2026-11-26T16:22:39Z planbot info: <message>" to stderr. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
