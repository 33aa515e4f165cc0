/* Growable text buffer; see jbuf.h. */
#include "metrics/jbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct jbuf *b, size_t more) {
  if (b->broken) return false;
  if (b->len + more + 1 <= b->cap) return true;
  size_t ncap = b->cap ? b->cap : 4096;
  while (ncap < b->len + more + 1) ncap *= 2;
  char *np = realloc(b->p, ncap);
  if (!np) {
    b->broken = true;
    return false;
  }
  b->p = np;
  b->cap = ncap;
  return true;
}

void jbuf_printf(struct jbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void jbuf_puts(struct jbuf *b, const char *s) {
  size_t n = strlen(s);
  if (!reserve(b, n)) return;
  memcpy(b->p + b->len, s, n + 1);
  b->len += n;
}

void jbuf_json_str(struct jbuf *b, const char *s) {
  jbuf_puts(b, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') jbuf_printf(b, "\\%c", *c);
    else if (*c < 0x20) jbuf_printf(b, "\\u%04x", *c);
    else jbuf_printf(b, "%c", *c);
  }
  jbuf_puts(b, "\"");
}

char *jbuf_take(struct jbuf *b) {
  if (b->broken || !reserve(b, 0)) {
    jbuf_free(b);
    return NULL;
  }
  char *p = b->p;
  b->p[b->len] = 0;
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void jbuf_free(struct jbuf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}
