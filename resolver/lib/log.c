/* Logging to stderr; see log.h for why it is this simple. */
#include "resolver/lib/log.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "resolver/lib/util.h"

/* Set by the main thread (start-up, SIGHUP) and read by every thread with
 * no lock: each is one aligned int, so a reader sees the old value or the
 * new one, and a line logged by the old level during a reload is fine. */
static volatile enum log_level min_level = LOG_INFO;
static volatile enum log_format format = LOG_TEXT;

void log_set_format(enum log_format f) { format = f; }

int log_parse_format(const char *s, enum log_format *out) {
  if (!strcmp(s, "text")) *out = LOG_TEXT;
  else if (!strcmp(s, "json")) *out = LOG_JSON;
  else return -1;
  return 0;
}

/* s as the inside of a JSON string, into out (always terminated). */
static void json_escape(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (; *s && n + 7 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = 0;
}

static int timestamp(char *buf, size_t cap) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = (int)strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  return n + snprintf(buf + n, cap - (size_t)n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void emit(char *line, int n, size_t cap) {
  if (n < 0) n = 0;
  if (n > (int)cap - 2) n = (int)cap - 2;
  line[n++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, (size_t)n);
  (void)w;
}

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level) { min_level = level; }

enum log_level log_get_level(void) { return min_level; }

int log_parse_level(const char *s, enum log_level *out) {
  for (int i = 0; i <= LOG_ERROR; i++) {
    if (strcmp(s, level_names[i]) == 0) {
      *out = (enum log_level)i;
      return 0;
    }
  }
  return -1;
}

void log_msg(enum log_level level, const char *fmt, ...) {
  if (level < min_level) return;
  char msg[1024], line[2600], ts[40];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  timestamp(ts, sizeof ts);
  int n;
  if (format == LOG_JSON) {
    char esc[2 * sizeof msg + 8];
    json_escape(msg, esc, sizeof esc);
    n = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}", ts,
                 level_names[level], esc);
  } else {
    n = snprintf(line, sizeof line, "%s %s %s", ts, level_names[level], msg);
  }
  emit(line, n, sizeof line);
}

/* A wire-format name as text, non-printing bytes as \DDD. */
static void wire_name_text(const uint8_t *w, size_t len, char *out, size_t cap) {
  size_t n = 0, off = 0;
  while (off < len && w[off] && n + 6 < cap) {
    uint8_t l = w[off++];
    for (uint8_t i = 0; i < l && off < len && n + 6 < cap; i++, off++) {
      uint8_t c = w[off];
      if (c > 0x20 && c < 0x7f && c != '.' && c != '\\' && c != '"')
        out[n++] = (char)c;
      else
        n += (size_t)snprintf(out + n, cap - n, "\\%03u", c);
    }
    out[n++] = '.';
  }
  if (n == 0) out[n++] = '.';
  out[n] = 0;
}

void log_query(const struct query_log *q) {
  char line[1400], ts[40], client[64], name[1100], type[16], rcode[16];
  timestamp(ts, sizeof ts);
  util_addr_str(q->client, client, sizeof client);
  wire_name_text(q->qname, q->qname_len, name, sizeof name);
  const ldns_rr_descriptor *d = ldns_rr_descript(q->qtype);
  if (d && d->_name) snprintf(type, sizeof type, "%s", d->_name);
  else snprintf(type, sizeof type, "TYPE%u", q->qtype);
  const ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, (int)q->rcode);
  if (rc) snprintf(rcode, sizeof rcode, "%s", rc->name);
  else snprintf(rcode, sizeof rcode, "RCODE%u", q->rcode);
  int n;
  if (format == LOG_JSON) {
    char esc[sizeof name * 2];
    json_escape(name, esc, sizeof esc);
    n = snprintf(line, sizeof line,
                 "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"query\",\"client\":\"%s\","
                 "\"proto\":\"%s\",\"name\":\"%s\",\"type\":\"%s\",\"rcode\":\"%s\","
                 "\"chain\":%u,\"ms\":%.3f,\"source\":\"%s\"}",
                 ts, client, q->tcp ? "tcp" : "udp", esc, type, rcode, q->chain_len, q->ms,
                 q->source);
  } else {
    n = snprintf(line, sizeof line,
                 "%s info query client=%s proto=%s name=%s type=%s rcode=%s chain=%u ms=%.3f "
                 "source=%s",
                 ts, client, q->tcp ? "tcp" : "udp", name, type, rcode, q->chain_len, q->ms,
                 q->source);
  }
  emit(line, n, sizeof line);
}
