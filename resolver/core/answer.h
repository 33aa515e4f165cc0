/*
 * Building the reply a client receives: header flags copied from its query,
 * RA set, the answer and authority sections of a resolution, an OPT record
 * when the client used EDNS (with an Extended DNS Error, RFC 8914, when there
 * is one), and truncation (TC=1) when a UDP reply exceeds what the client can
 * take (RFC 6891 §7, RFC 7766).
 */
#ifndef CHAINDNS_ANSWER_H
#define CHAINDNS_ANSWER_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a reply needs from the client's query; qname is owned. */
struct client_question {
  uint16_t id;
  bool rd, cd;
  ldns_rdf *qname;
  ldns_rr_type qtype;
  ldns_rr_class qclass;
  bool edns;
  uint16_t udp_size; /* the client's advertised size, >= 512 */
  bool do_bit;
  bool ad;           /* the query's AD bit: the client understands AD (RFC 6840 5.7) */
};

/* What to put in the reply. Lists may be NULL; ede < 0 means none. The
 * lists hold the DNSSEC records (RRSIG, NSEC, NSEC3) too: they are sent
 * only to clients that set DO (RFC 4035 3.2.1). AD is set on secure data
 * for clients that set DO or AD (RFC 6840 5.8). */
struct answer_content {
  ldns_pkt_rcode rcode;
  const ldns_rr_list *answer;
  const ldns_rr_list *authority;
  int ede;
  const char *ede_text;
  bool secure;
};

void client_question_free(struct client_question *cq);

/* Serialise a reply. max_len is the largest reply the transport takes (UDP:
 * min(client's size, our edns size), or 512 without EDNS; TCP: 65535). When
 * the full reply is larger, a header-and-question reply with TC=1 is made
 * instead and *truncated is set. Returns malloc'd wire bytes or NULL. */
uint8_t *answer_build(const struct client_question *cq, const struct answer_content *ac,
                      uint16_t our_edns_size, size_t max_len, size_t *len, bool *truncated);

/* A header-only reply with `rcode` for a query that could not be parsed
 * (FORMERR): ID, opcode and RD come from the first 12 bytes. Returns NULL if
 * the input has no full header. */
uint8_t *answer_header_only(const uint8_t *query, size_t qlen, ldns_pkt_rcode rcode,
                            size_t *len);

#endif
