/*
 * Logging: one line per event on stderr, with a UTC timestamp and a level.
 * A service manager collects stderr, so there is no file or syslog backend.
 * Thread-safe: each line is formatted into a local buffer and written with a
 * single write(2), so lines from different workers never interleave.
 */
#ifndef CHAINDNS_LOG_H
#define CHAINDNS_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* text: "TIME LEVEL message"; json: one object per line,
 * {"ts": ..., "level": ..., "msg": ...} (query lines carry their fields). */
enum log_format { LOG_TEXT = 0, LOG_JSON };
void log_set_format(enum log_format f);
int log_parse_format(const char *s, enum log_format *out);

/* One answered query, for the query log. */
struct query_log {
  const struct sockaddr *client;
  bool tcp;
  const uint8_t *qname; /* wire format, uncompressed */
  size_t qname_len;
  uint16_t qtype;
  unsigned rcode;
  unsigned chain_len;   /* CNAMEs in the answer */
  double ms;            /* query received to answer sent */
  const char *source;   /* memory, redis, network, or none (refused, malformed) */
};
void log_query(const struct query_log *q);

/* Set the minimum level printed, from the main thread: at start-up, and
 * again on SIGHUP while the workers log (see log.c for why no lock). */
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
