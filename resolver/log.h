/*
 * Logging: one line per event on stderr, with a UTC timestamp and a level.
 * A service manager collects stderr, so there is no file or syslog backend.
 * Thread-safe: each line is formatted into a local buffer and written with a
 * single write(2), so lines from different workers never interleave.
 */
#ifndef CHAINDNS_LOG_H
#define CHAINDNS_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Set the minimum level printed. Called once at start-up, before workers. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Parse "debug", "info", "warn" or "error". Returns 0 or -1. */
int log_parse_level(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) \
  do { if (log_get_level() <= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
