/* Client reply construction; see answer.h. */
#include "resolver/answer.h"

#include "resolver/wire.h"

#include <stdlib.h>
#include <string.h>

void client_question_free(struct client_question *cq) {
  if (cq->qname) ldns_rdf_deep_free(cq->qname);
  cq->qname = NULL;
}

/* The reply in wire format, written into a per-thread buffer and copied out
 * at its size. */
static uint8_t *serialise(const struct client_question *cq, const struct answer_content *ac,
                          uint16_t our_edns_size, bool full, bool tc, size_t *len) {
  static __thread uint8_t buf[65535];
  struct wire w;
  int rcode = (int)ac->rcode;
  size_t an = full && ac->answer ? ldns_rr_list_rr_count(ac->answer) : 0;
  size_t ns = full && ac->authority ? ldns_rr_list_rr_count(ac->authority) : 0;
  wire_init(&w, buf, sizeof buf);
  wire_u16(&w, cq->id);
  wire_u8(&w, (uint8_t)(0x80 | (tc ? 0x02 : 0) | (cq->rd ? 0x01 : 0))); /* QR, QUERY */
  wire_u8(&w, (uint8_t)(0x80 | (cq->cd ? 0x10 : 0) | (rcode & 0x0f)));  /* RA */
  wire_u16(&w, 1);
  wire_u16(&w, (uint16_t)an);
  wire_u16(&w, (uint16_t)ns);
  wire_u16(&w, cq->edns ? 1 : 0);
  wire_name(&w, ldns_rdf_data(cq->qname), ldns_rdf_size(cq->qname), true);
  wire_u16(&w, (uint16_t)cq->qtype);
  wire_u16(&w, (uint16_t)cq->qclass);
  for (size_t i = 0; i < an; i++) wire_rr(&w, ldns_rr_list_rr(ac->answer, i));
  for (size_t i = 0; i < ns; i++) wire_rr(&w, ldns_rr_list_rr(ac->authority, i));
  /* No DNSSEC data is returned yet, so DO stays clear. */
  if (cq->edns)
    wire_opt(&w, our_edns_size, (uint8_t)(rcode >> 4), false, ac->ede, ac->ede_text);
  if (w.overflow) return NULL;
  uint8_t *out = malloc(w.len);
  if (!out) return NULL;
  memcpy(out, buf, w.len);
  *len = w.len;
  return out;
}

uint8_t *answer_build(const struct client_question *cq, const struct answer_content *ac,
                      uint16_t our_edns_size, size_t max_len, size_t *len, bool *truncated) {
  *truncated = false;
  uint8_t *wire = serialise(cq, ac, our_edns_size, true, false, len);
  if (wire && *len <= max_len) return wire;
  free(wire); /* too big for the client (or for any message): truncate */
  *truncated = true;
  return serialise(cq, ac, our_edns_size, false, true, len);
}

uint8_t *answer_header_only(const uint8_t *query, size_t qlen, ldns_pkt_rcode rcode,
                            size_t *len) {
  if (qlen < 12) return NULL;
  uint8_t *r = calloc(1, 12);
  if (!r) return NULL;
  r[0] = query[0];
  r[1] = query[1];
  r[2] = (uint8_t)(0x80 | (query[2] & 0x79)); /* QR, opcode, RD */
  r[3] = (uint8_t)(0x80 | ((unsigned)rcode & 0x0f)); /* RA, RCODE */
  *len = 12;
  return r;
}
