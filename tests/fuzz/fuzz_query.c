/*
 * fuzz_query: a client's query, raw bytes from a UDP datagram or a TCP frame,
 * through everything the server does with it before resolving.
 *
 * Covers ac_parse (the fast path's own header/question/OPT parser,
 * cache/anscache.c); the full path of resolver/daemon/server.c: the drop rule
 * (no header, QR=1), ldns_wire2pkt, the FORMERR header-only reply
 * (answer_header_only), the query checks of vet_query (static there, so
 * mirrored below: opcode, counts, BADVERS, OPT/TSIG, AXFR/IXFR, class, ACL);
 * the reply built for it (answer_build and resolver/lib/wire.c, with any records
 * the query carried in its additional section as answer data); and, when the
 * fast path took the query, storing that reply in the answer cache and
 * answering the same query from it (anscache_store, anscache_answer).
 *
 * It also checks that both parsers agree: a query the fast path takes must
 * be one ldns parses and vet_query accepts, with the same ID, name (ignoring
 * case), type and RD/CD/EDNS/DO bits, or the fast path would answer what the
 * full path rejects, or answer with another question's reply.
 */
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/daemon/acl.h"
#include "cache/anscache.h"
#include "resolver/core/answer.h"
#include "resolver/core/iterator.h"
#include "resolver/lib/name.h"
#include "resolver/lib/wire.h"

#define OUR_EDNS 1232
#define NOW 1767225600 /* fixed clock: runs are reproducible */

static struct acl loopback_only;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  acl_set_loopback(&loopback_only);
  return 0;
}

static void die(const char *what) {
  fprintf(stderr, "fuzz_query: %s\n", what);
  abort();
}

/* resolver/daemon/server.c vet_query, which is static: the RCODE to answer with at
 * once, or NOERROR to resolve. Fills cq. */
static int vet_query(struct client_question *cq, const ldns_pkt *pkt,
                     const struct sockaddr *from) {
  cq->id = ldns_pkt_id(pkt);
  cq->rd = ldns_pkt_rd(pkt);
  cq->cd = ldns_pkt_cd(pkt);
  if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) return LDNS_RCODE_NOTIMPL;
  if (ldns_pkt_qdcount(pkt) != 1 || ldns_pkt_ancount(pkt) != 0 || ldns_pkt_nscount(pkt) != 0)
    return LDNS_RCODE_FORMERR;
  ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
  cq->qname = ldns_rdf_clone(ldns_rr_owner(question));
  cq->qtype = ldns_rr_get_type(question);
  cq->qclass = ldns_rr_get_class(question);
  cq->edns = ldns_pkt_edns(pkt);
  cq->udp_size = ldns_pkt_edns_udp_size(pkt);
  if (cq->udp_size < 512) cq->udp_size = 512;
  cq->do_bit = ldns_pkt_edns_do(pkt);
  if (!acl_allows(&loopback_only, from)) return LDNS_RCODE_REFUSED;
  if (cq->edns && ldns_pkt_edns_version(pkt) > 0) return 16; /* BADVERS */
  switch (cq->qtype) {
  case LDNS_RR_TYPE_OPT:
  case LDNS_RR_TYPE_TSIG: return LDNS_RCODE_FORMERR;
  case LDNS_RR_TYPE_AXFR:
  case LDNS_RR_TYPE_IXFR: return LDNS_RCODE_REFUSED;
  default: break;
  }
  if (cq->qclass != LDNS_RR_CLASS_IN) return LDNS_RCODE_REFUSED;
  return LDNS_RCODE_NOERROR;
}

/* resolver/daemon/server.c reply_limit for UDP. */
static size_t reply_limit(const struct client_question *cq) {
  if (!cq->edns) return 512;
  size_t lim = cq->udp_size > OUR_EDNS ? OUR_EDNS : cq->udp_size;
  return lim < 512 ? 512 : lim;
}

/* The data a resolution of cq might return: an A record at the query name
 * plus whatever records the query carried in its additional section. */
static ldns_rr_list *answer_data(const struct client_question *cq, const ldns_pkt *pkt) {
  ldns_rr_list *an = ldns_rr_list_new();
  ldns_rr *a = ldns_rr_new();
  if (!an || !a) {
    ldns_rr_list_free(an);
    ldns_rr_free(a);
    return NULL;
  }
  ldns_rr_set_owner(a, ldns_rdf_clone(cq->qname));
  ldns_rr_set_type(a, LDNS_RR_TYPE_A);
  ldns_rr_set_ttl(a, 300);
  ldns_rr_set_class(a, LDNS_RR_CLASS_IN);
  uint8_t addr[4] = {192, 0, 2, 1};
  ldns_rr_push_rdf(a, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, sizeof addr, addr));
  ldns_rr_list_push_rr(an, a);
  const ldns_rr_list *add = ldns_pkt_additional(pkt);
  for (size_t i = 0; i < ldns_rr_list_rr_count(add); i++)
    ldns_rr_list_push_rr(an, ldns_rr_clone(ldns_rr_list_rr(add, i)));
  return an;
}

/* A query the fast path takes is one the full path would resolve (or refuse
 * for the access list, which the fast path checks after parsing), and both
 * see the same question and the same reply-shaping flags. */
static void check_agreement(const struct ac_query *acq, const struct client_question *cq,
                            int rcode, bool allowed) {
  uint8_t key[256];
  if (!cq->qname) die("ac_parse takes a query vet_query rejects before the question");
  if (rcode != (allowed ? LDNS_RCODE_NOERROR : LDNS_RCODE_REFUSED))
    die("ac_parse takes a query vet_query rejects");
  size_t n = name_key(cq->qname, key);
  if (acq->id != cq->id) die("ac_parse and ldns disagree on the ID");
  if (acq->qtype != (uint16_t)cq->qtype) die("ac_parse and ldns disagree on the type");
  if (n + 5 != acq->klen || memcmp(acq->key, key, n) != 0)
    die("ac_parse and ldns disagree on the name");
  if (acq->rd != cq->rd || acq->cd != cq->cd || acq->edns != cq->edns ||
      acq->do_bit != cq->do_bit)
    die("ac_parse and ldns disagree on RD, CD, EDNS or DO");
}

/* The answer cache as the full path fills it and the fast path reads it. */
static void through_anscache(const struct ac_query *acq, const uint8_t *query,
                             const uint8_t *reply, size_t rlen) {
  static uint8_t out[65535];
  anscache_t *ac = anscache_new(1u << 20);
  if (!ac) return;
  struct ac_meta meta = {0}, got;
  anscache_store(ac, acq, reply, rlen, NOW, &meta);
  size_t n = anscache_answer(ac, acq, query, out, sizeof out, NOW + 1, &got);
  if (n) {
    if (n != rlen || n > acq->limit) die("answer cache reply of the wrong size");
    if ((out[0] << 8 | out[1]) != acq->id) die("answer cache reply with another ID");
    if (memcmp(out + 12, query + 12, acq->qend - 12) != 0)
      die("answer cache reply with another question");
  }
  struct ac_stats st;
  anscache_stats(ac, &st);
  anscache_clear(ac);
  anscache_free(ac);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* The fast path (resolver/daemon/udp.c, and TCP frames in server.c). */
  struct ac_query acq;
  bool acq_ok = ac_parse(data, size, OUR_EDNS, &acq);
  if (acq_ok && (acq.qend > size || acq.klen > AC_KEY_MAX || acq.limit < 512 ||
                 acq.limit > OUR_EDNS))
    die("ac_parse result out of bounds");

  /* The full path (server.c handle_query). */
  if (size < 12 || (data[2] & 0x80)) return 0; /* dropped */
  ldns_pkt *pkt = NULL;
  size_t rlen = 0;
  uint8_t *reply;
  if (wire_parse(&pkt, data, size) != LDNS_STATUS_OK) {
    if (acq_ok) die("ac_parse takes a query ldns cannot parse");
    reply = answer_header_only(data, size, LDNS_RCODE_FORMERR, &rlen);
    if (!reply || rlen != 12) die("no FORMERR reply");
    free(reply);
    return 0;
  }
  /* Odd IDs come from outside the access list. */
  bool allowed = !(data[1] & 1);
  struct sockaddr_in from = {.sin_family = AF_INET};
  from.sin_addr.s_addr = htonl(allowed ? 0x7f000001u : 0xc0000201u);
  struct client_question cq = {0};
  int rcode = vet_query(&cq, pkt, (const struct sockaddr *)&from);
  if (acq_ok) check_agreement(&acq, &cq, rcode, allowed);

  bool tc = false;
  if (!cq.qname) {
    reply = answer_header_only(data, size, (ldns_pkt_rcode)rcode, &rlen);
    free(reply);
  } else if (rcode != LDNS_RCODE_NOERROR) {
    struct answer_content ac = {.rcode = (ldns_pkt_rcode)rcode, .ede = EDE_NONE};
    reply = answer_build(&cq, &ac, OUR_EDNS, reply_limit(&cq), &rlen, &tc);
    free(reply);
  } else {
    ldns_rr_list *an = answer_data(&cq, pkt);
    struct answer_content ac = {.rcode = LDNS_RCODE_NOERROR, .answer = an, .ede = EDE_NONE};
    reply = answer_build(&cq, &ac, OUR_EDNS, reply_limit(&cq), &rlen, &tc);
    if (reply && acq_ok && !tc) through_anscache(&acq, data, reply, rlen);
    free(reply);
    ldns_rr_list_deep_free(an);
  }
  client_question_free(&cq);
  ldns_pkt_free(pkt);
  return 0;
}
