/* Domain-name helpers; see name.h. */
#include "resolver/lib/name.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Walk both names label by label, comparing bytes case-insensitively. Label
 * length octets are below 64 so lowering them is harmless. */
bool name_equal(const ldns_rdf *a, const ldns_rdf *b) {
  size_t la = ldns_rdf_size(a), lb = ldns_rdf_size(b);
  if (la != lb) return false;
  const uint8_t *x = ldns_rdf_data(a), *y = ldns_rdf_data(b);
  for (size_t i = 0; i < la; i++)
    if (name_lower(x[i]) != name_lower(y[i])) return false;
  return true;
}

bool name_in(const ldns_rdf *sub, const ldns_rdf *parent) {
  size_t ls = ldns_rdf_size(sub), lp = ldns_rdf_size(parent);
  if (lp > ls) return false;
  const uint8_t *s = ldns_rdf_data(sub), *p = ldns_rdf_data(parent);
  /* Step over sub's leading labels until the remaining suffix has the
   * parent's length; only a label boundary there can match. */
  size_t off = 0;
  while (ls - off > lp) {
    uint8_t l = s[off];
    if (l == 0) return false;
    off += (size_t)l + 1;
  }
  if (ls - off != lp) return false;
  for (size_t i = 0; i < lp; i++)
    if (name_lower(s[off + i]) != name_lower(p[i])) return false;
  return true;
}

size_t name_key(const ldns_rdf *name, uint8_t *buf) {
  size_t n = ldns_rdf_size(name);
  if (ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME || n == 0 || n > 255) return 0;
  const uint8_t *d = ldns_rdf_data(name);
  for (size_t i = 0; i < n; i++) buf[i] = name_lower(d[i]);
  return n;
}

const char *name_str(const ldns_rdf *name, char *buf, size_t len) {
  if (len == 0) return buf;
  buf[0] = 0;
  if (!name) return buf;
  char *s = ldns_rdf2str(name);
  if (s) {
    snprintf(buf, len, "%s", s);
    free(s);
  }
  return buf;
}

size_t name_wire_text(const uint8_t *w, size_t wlen, char *out, size_t cap) {
  size_t o = 0, i = 0;
  if (wlen == 1) return cap > 1 ? (size_t)snprintf(out, cap, ".") : 0;
  while (i < wlen && w[i]) {
    uint8_t l = w[i++];
    for (uint8_t k = 0; k < l && i < wlen; k++, i++) {
      uint8_t c = name_lower(w[i]);
      bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      int n = plain ? snprintf(out + o, cap - o, "%c", c)
                    : snprintf(out + o, cap - o, "\\%03u", c);
      if (n < 0 || (size_t)n >= cap - o) return 0;
      o += (size_t)n;
    }
    if (o + 1 >= cap) return 0;
    out[o++] = '.';
  }
  out[o] = 0;
  return o;
}
