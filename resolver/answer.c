/* Client reply construction; see answer.h. */
#include "resolver/answer.h"

#include <stdlib.h>
#include <string.h>

void client_question_free(struct client_question *cq) {
  if (cq->qname) ldns_rdf_deep_free(cq->qname);
  cq->qname = NULL;
}

static void push_all(ldns_pkt *p, ldns_pkt_section sec, const ldns_rr_list *rrs) {
  for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++)
    ldns_pkt_push_rr(p, sec, ldns_rr_clone(ldns_rr_list_rr(rrs, i)));
}

/* The EDE option: INFO-CODE then EXTRA-TEXT (UTF-8, not NUL-terminated). */
static void add_ede(ldns_pkt *p, int code, const char *text) {
  size_t tl = text ? strlen(text) : 0;
  if (tl > 400) tl = 400;
  uint8_t data[402];
  data[0] = (uint8_t)(code >> 8);
  data[1] = (uint8_t)code;
  if (tl) memcpy(data + 2, text, tl);
  ldns_edns_option_list *list = ldns_edns_option_list_new();
  ldns_edns_option *opt = ldns_edns_new_from_data(LDNS_EDNS_EDE, tl + 2, data);
  if (!list || !opt || !ldns_edns_option_list_push(list, opt)) {
    if (opt) ldns_edns_deep_free(opt);
    if (list) ldns_edns_option_list_deep_free(list);
    return;
  }
  ldns_pkt_set_edns_option_list(p, list);
}

static uint8_t *serialise(const struct client_question *cq, const struct answer_content *ac,
                          uint16_t our_edns_size, bool full, bool tc, size_t *len) {
  ldns_pkt *p = ldns_pkt_new();
  if (!p) return NULL;
  ldns_pkt_set_id(p, cq->id);
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_rd(p, cq->rd);
  ldns_pkt_set_cd(p, cq->cd);
  ldns_pkt_set_ra(p, true);
  ldns_pkt_set_tc(p, tc);
  ldns_pkt_set_opcode(p, LDNS_PACKET_QUERY);
  int rcode = (int)ac->rcode;
  ldns_pkt_set_rcode(p, (uint8_t)(rcode & 0x0f));
  ldns_rr *q = ldns_rr_new();
  ldns_rr_set_owner(q, ldns_rdf_clone(cq->qname));
  ldns_rr_set_type(q, cq->qtype);
  ldns_rr_set_class(q, cq->qclass);
  ldns_rr_set_question(q, true);
  ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);
  if (full) {
    push_all(p, LDNS_SECTION_ANSWER, ac->answer);
    push_all(p, LDNS_SECTION_AUTHORITY, ac->authority);
  }
  if (cq->edns) {
    ldns_pkt_set_edns_udp_size(p, our_edns_size);
    ldns_pkt_set_edns_extended_rcode(p, (uint8_t)(rcode >> 4));
    ldns_pkt_set_edns_do(p, false); /* no DNSSEC data is returned yet */
    if (ac->ede >= 0) add_ede(p, ac->ede, ac->ede_text);
  }
  uint8_t *wire = NULL;
  ldns_status st = ldns_pkt2wire(&wire, p, len);
  ldns_pkt_free(p);
  return st == LDNS_STATUS_OK ? wire : NULL;
}

uint8_t *answer_build(const struct client_question *cq, const struct answer_content *ac,
                      uint16_t our_edns_size, size_t max_len, size_t *len, bool *truncated) {
  *truncated = false;
  uint8_t *wire = serialise(cq, ac, our_edns_size, true, false, len);
  if (!wire || *len <= max_len) return wire;
  free(wire);
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
