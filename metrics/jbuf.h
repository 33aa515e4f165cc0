/*
 * A growable text buffer for what the metrics endpoint writes: Prometheus
 * text exposition and JSON. Appends never fail loudly: on allocation failure
 * the buffer marks itself broken and the caller answers 500.
 */
#ifndef CHAINDNS_JBUF_H
#define CHAINDNS_JBUF_H

#include <stdbool.h>
#include <stddef.h>

struct jbuf {
  char *p;
  size_t len, cap;
  bool broken;
};

void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_puts(struct jbuf *b, const char *s);
/* A JSON string literal, quoted and escaped (UTF-8 passes through; control
 * characters as \u00XX). */
void jbuf_json_str(struct jbuf *b, const char *s);
/* Take the text (NUL-terminated) out; NULL if the buffer broke. */
char *jbuf_take(struct jbuf *b);
void jbuf_free(struct jbuf *b);

#endif
