/*
 * Writing DNS messages: header, names with compression (RFC 1035 §4.1.4)
 * and records, into a caller's buffer.
 *
 * ldns's own serialiser allocates a tree node and an rdf per label to
 * compress names; a reply then cost more to write than to resolve from the
 * cache. This writer keeps the offsets of the labels it wrote (up to
 * WIRE_LABELS) and compresses against them by comparing the bytes already
 * in the buffer. Names in RDATA are compressed only for the types RFC 3597
 * §4 allows (NS, CNAME, SOA, PTR, MX); everything else is copied as is.
 *
 * Nothing is allocated; writing past the buffer sets `overflow` and stops.
 */
#ifndef CHAINDNS_WIRE_H
#define CHAINDNS_WIRE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WIRE_LABELS 128

struct wire {
  uint8_t *p;
  size_t len, cap;
  uint16_t labels[WIRE_LABELS]; /* offsets of labels written in full */
  size_t nlabels;
  bool overflow;
};

void wire_init(struct wire *w, uint8_t *buf, size_t cap);
void wire_u8(struct wire *w, uint8_t v);
void wire_u16(struct wire *w, uint16_t v);
void wire_u32(struct wire *w, uint32_t v);
void wire_bytes(struct wire *w, const void *p, size_t n);
/* Put v at off, which was written before. */
void wire_put_u16(struct wire *w, size_t off, uint16_t v);

/* A name given in (uncompressed) wire format. */
void wire_name(struct wire *w, const uint8_t *name, size_t len, bool compress);

/* A record, class IN or not, with its TTL. */
void wire_rr(struct wire *w, const ldns_rr *rr);

/* An OPT pseudo-record: our UDP payload size, the upper RCODE bits, DO, and
 * optionally an Extended DNS Error (RFC 8914) with up to 400 bytes of text. */
void wire_opt(struct wire *w, uint16_t payload, uint8_t ext_rcode, bool do_bit, int ede,
              const char *ede_text);

/* The offset just after the name (labels, maybe ending in a pointer) at
 * pos in a message of len bytes, or 0 when it is malformed or runs off the
 * end. */
size_t wire_skip_name(const uint8_t *w, size_t len, size_t pos);

/* Parse a message with ldns, refusing first what ldns 1.8.3 mishandles (all
 * found by fuzzing, each a leak an attacker could repeat per query or per
 * response): a second OPT drops the first without freeing it, and a TSIG
 * record is lost when a second one follows or when the message fails to
 * parse after it. So: at most one OPT (RFC 6891 §6.1.1), and no TSIG at
 * all (chaindns neither signs its queries nor verifies clients' keys; a
 * signed query gets FORMERR). Returns LDNS_STATUS_OK with *pkt set, or an
 * error with *pkt NULL. */
ldns_status wire_parse(ldns_pkt **pkt, const uint8_t *data, size_t len);

#endif
