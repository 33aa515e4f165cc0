/* Writing DNS messages without allocating; see wire.h. */
#include "resolver/lib/wire.h"

#include <string.h>

#include "resolver/lib/name.h"

void wire_init(struct wire *w, uint8_t *buf, size_t cap) {
  w->p = buf;
  w->len = 0;
  w->cap = cap;
  w->nlabels = 0;
  w->overflow = false;
}

void wire_bytes(struct wire *w, const void *p, size_t n) {
  if (n == 0) return; /* p may be NULL then */
  if (w->overflow || w->len + n > w->cap) {
    w->overflow = true;
    return;
  }
  memcpy(w->p + w->len, p, n);
  w->len += n;
}

void wire_u8(struct wire *w, uint8_t v) { wire_bytes(w, &v, 1); }

void wire_u16(struct wire *w, uint16_t v) {
  uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  wire_bytes(w, b, 2);
}

void wire_u32(struct wire *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  wire_bytes(w, b, 4);
}

void wire_put_u16(struct wire *w, size_t off, uint16_t v) {
  if (w->overflow || off + 2 > w->len) return;
  w->p[off] = (uint8_t)(v >> 8);
  w->p[off + 1] = (uint8_t)v;
}

/* Does the name written at buffer offset off (labels, maybe ending in a
 * pointer) equal the uncompressed name s? Only bytes already written are
 * read; pointers in our own output go backwards, and hops are bounded. */
static bool same_at(const struct wire *w, size_t off, const uint8_t *s) {
  for (int hops = 0; hops < 128 && off < w->len; hops++) {
    uint8_t l = w->p[off];
    if ((l & 0xc0) == 0xc0) {
      if (off + 1 >= w->len) return false;
      size_t to = (size_t)(l & 0x3f) << 8 | w->p[off + 1];
      if (to >= off) return false;
      off = to;
      continue;
    }
    if (l != *s || off + l >= w->len) return false;
    if (l == 0) return true;
    for (uint8_t i = 1; i <= l; i++)
      if (name_lower(w->p[off + i]) != name_lower(s[i])) return false;
    off += (size_t)l + 1;
    s += l + 1;
  }
  return false;
}

/* The offset of an earlier occurrence of the name s, or 0 (never a name's
 * offset: the header comes first). */
static size_t find(const struct wire *w, const uint8_t *s) {
  for (size_t i = 0; i < w->nlabels; i++)
    if (same_at(w, w->labels[i], s)) return w->labels[i];
  return 0;
}

void wire_name(struct wire *w, const uint8_t *name, size_t len, bool compress) {
  size_t pos = 0;
  while (pos < len && name[pos] && !w->overflow) {
    size_t at = compress ? find(w, name + pos) : 0;
    if (at) {
      wire_u16(w, (uint16_t)(0xc000 | at));
      return;
    }
    size_t l = (size_t)name[pos] + 1, start = w->len;
    if (pos + l > len) break; /* malformed: end the name here */
    wire_bytes(w, name + pos, l);
    if (compress && !w->overflow && w->nlabels < WIRE_LABELS && start < 0x3fff)
      w->labels[w->nlabels++] = (uint16_t)start;
    pos += l;
  }
  wire_u8(w, 0);
}

/* Types whose RDATA names may be compressed (RFC 3597 §4), and which of
 * their fields are names to compress. */
static bool compressible(ldns_rr_type t, size_t field) {
  switch (t) {
  case LDNS_RR_TYPE_NS:
  case LDNS_RR_TYPE_CNAME:
  case LDNS_RR_TYPE_PTR: return field == 0;
  case LDNS_RR_TYPE_MX: return field == 1;
  case LDNS_RR_TYPE_SOA: return field < 2;
  default: return false;
  }
}

void wire_rr(struct wire *w, const ldns_rr *rr) {
  const ldns_rdf *owner = ldns_rr_owner(rr);
  ldns_rr_type t = ldns_rr_get_type(rr);
  wire_name(w, ldns_rdf_data(owner), ldns_rdf_size(owner), true);
  wire_u16(w, (uint16_t)t);
  wire_u16(w, (uint16_t)ldns_rr_get_class(rr));
  wire_u32(w, ldns_rr_ttl(rr));
  size_t rdlen_at = w->len;
  wire_u16(w, 0);
  for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
    const ldns_rdf *f = ldns_rr_rdf(rr, i);
    if (ldns_rdf_get_type(f) == LDNS_RDF_TYPE_DNAME && compressible(t, i))
      wire_name(w, ldns_rdf_data(f), ldns_rdf_size(f), true);
    else
      wire_bytes(w, ldns_rdf_data(f), ldns_rdf_size(f));
  }
  wire_put_u16(w, rdlen_at, (uint16_t)(w->len - rdlen_at - 2));
}

void wire_opt(struct wire *w, uint16_t payload, uint8_t ext_rcode, bool do_bit, int ede,
              const char *ede_text) {
  size_t tl = ede >= 0 && ede_text ? strlen(ede_text) : 0;
  if (tl > 400) tl = 400;
  wire_u8(w, 0);
  wire_u16(w, LDNS_RR_TYPE_OPT);
  wire_u16(w, payload);
  wire_u8(w, ext_rcode);
  wire_u8(w, 0);                 /* version */
  wire_u16(w, do_bit ? 0x8000 : 0);
  if (ede < 0) {
    wire_u16(w, 0);
    return;
  }
  wire_u16(w, (uint16_t)(4 + 2 + tl));
  wire_u16(w, 15);               /* EDE */
  wire_u16(w, (uint16_t)(2 + tl));
  wire_u16(w, (uint16_t)ede);
  wire_bytes(w, ede_text, tl);
}

/* ---- reading ------------------------------------------------------------ */

size_t wire_skip_name(const uint8_t *w, size_t len, size_t pos) {
  while (pos < len) {
    uint8_t l = w[pos];
    if ((l & 0xc0) == 0xc0) return pos + 2 <= len ? pos + 2 : 0;
    if (l > 63) return 0;
    pos += (size_t)l + 1;
    if (l == 0) return pos;
  }
  return 0;
}

/* At most one OPT in the additional section, and no TSIG anywhere (we
 * neither sign nor verify; ldns leaks a parsed TSIG both when a second one
 * follows and when the message fails to parse after it). A message whose
 * records cannot all be walked is refused here too: ldns would reject it,
 * but it can leak what it parsed before failing (found by fuzz_query). */
static bool singletons_ok(const uint8_t *p, size_t len) {
  if (len < 12) return true;
  unsigned qd = (unsigned)p[4] << 8 | p[5], an = (unsigned)p[6] << 8 | p[7];
  unsigned ns = (unsigned)p[8] << 8 | p[9], ar = (unsigned)p[10] << 8 | p[11];
  size_t off = 12;
  for (unsigned i = 0; i < qd; i++) {
    if (!(off = wire_skip_name(p, len, off)) || off + 4 > len) return false;
    off += 4;
  }
  unsigned opt = 0;
  for (unsigned i = 0; i < an + ns + ar; i++) {
    if (!(off = wire_skip_name(p, len, off)) || off + 10 > len) return false;
    uint16_t type = (uint16_t)(p[off] << 8 | p[off + 1]);
    size_t rdlen = (size_t)p[off + 8] << 8 | p[off + 9];
    if (type == LDNS_RR_TYPE_TSIG || (i >= an + ns && type == LDNS_RR_TYPE_OPT && ++opt > 1))
      return false;
    off += 10 + rdlen;
    if (off > len) return false;
  }
  return true;
}

ldns_status wire_parse(ldns_pkt **pkt, const uint8_t *data, size_t len) {
  *pkt = NULL;
  if (!singletons_ok(data, len)) return LDNS_STATUS_WIRE_RDATA_ERR;
  return ldns_wire2pkt(pkt, data, len);
}
