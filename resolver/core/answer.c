/* Client reply construction; see answer.h. */
#include "resolver/core/answer.h"

#include "resolver/lib/wire.h"

#include <stdlib.h>
#include <string.h>

void client_question_free(struct client_question *cq) {
  if (cq->qname) ldns_rdf_deep_free(cq->qname);
  cq->qname = NULL;
}

/* Is rr sent to this client? DNSSEC records go to DO clients only (or
 * when asked for by type, in the answer section). */
static bool sent(const struct client_question *cq, const ldns_rr *rr, bool answer) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (cq->do_bit || (t != LDNS_RR_TYPE_RRSIG && t != LDNS_RR_TYPE_NSEC &&
                     t != LDNS_RR_TYPE_NSEC3))
    return true;
  return answer && cq->qtype == t;
}

static size_t count_sent(const struct client_question *cq, const ldns_rr_list *l, bool answer) {
  size_t n = 0;
  for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
    n += sent(cq, ldns_rr_list_rr(l, i), answer);
  return n;
}

/* The reply in wire format, written into a per-thread buffer and copied out
 * at its size. */
static uint8_t *serialise(const struct client_question *cq, const struct answer_content *ac,
                          uint16_t our_edns_size, bool full, bool tc, size_t *len) {
  static __thread uint8_t buf[65535];
  struct wire w;
  int rcode = (int)ac->rcode;
  size_t an = full ? count_sent(cq, ac->answer, true) : 0;
  size_t ns = full ? count_sent(cq, ac->authority, false) : 0;
  bool ad = ac->secure && (cq->do_bit || cq->ad) && !cq->cd;
  wire_init(&w, buf, sizeof buf);
  wire_u16(&w, cq->id);
  wire_u8(&w, (uint8_t)(0x80 | (tc ? 0x02 : 0) | (cq->rd ? 0x01 : 0))); /* QR, QUERY */
  wire_u8(&w, (uint8_t)(0x80 | (ad ? 0x20 : 0) | (cq->cd ? 0x10 : 0) | (rcode & 0x0f))); /* RA */
  wire_u16(&w, 1);
  wire_u16(&w, (uint16_t)an);
  wire_u16(&w, (uint16_t)ns);
  wire_u16(&w, cq->edns ? 1 : 0);
  wire_name(&w, ldns_rdf_data(cq->qname), ldns_rdf_size(cq->qname), true);
  wire_u16(&w, (uint16_t)cq->qtype);
  wire_u16(&w, (uint16_t)cq->qclass);
  for (size_t i = 0; an && i < ldns_rr_list_rr_count(ac->answer); i++)
    if (sent(cq, ldns_rr_list_rr(ac->answer, i), true)) wire_rr(&w, ldns_rr_list_rr(ac->answer, i));
  for (size_t i = 0; ns && i < ldns_rr_list_rr_count(ac->authority); i++)
    if (sent(cq, ldns_rr_list_rr(ac->authority, i), false))
      wire_rr(&w, ldns_rr_list_rr(ac->authority, i));
  if (cq->edns)
    wire_opt(&w, our_edns_size, (uint8_t)(rcode >> 4), cq->do_bit, ac->ede, ac->ede_text);
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
