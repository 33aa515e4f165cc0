/*
 * fuzz_response: an authoritative server's response, raw bytes from the
 * network, through classification and bailiwick scrubbing
 * (resolver/core/response.c) and what the iterator then does with the scrubbed
 * data: caching it (cache/cache.c: RRsets grouped by owner and type,
 * negative entries, referral NS and glue), following its CNAMEs on a chain
 * (resolver/core/chain.c: loops, bound) and building the client's reply from it
 * (resolver/core/answer.c, resolver/lib/wire.c).
 *
 * Input: one control byte, then the DNS message.
 *   bits 0-2  the zone asked: the last N labels of the question name (0: root)
 *   bits 4-7  the type asked: 0 = the question's type, else a fixed table
 * The question name is the response's own question (the upstream matcher
 * only accepts replies that echo the question sent), or www.example.com. when
 * the response has none.
 *
 * It checks that nothing reported lies outside the zone asked: answers,
 * CNAMEs, SOA and glue inside it, a referral strictly below it.
 */
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "resolver/core/answer.h"
#include "resolver/core/chain.h"
#include "resolver/core/iterator.h"
#include "resolver/lib/name.h"
#include "resolver/core/response.h"
#include "resolver/lib/wire.h"

#define NOW 1767225600 /* fixed clock: runs are reproducible */
#define MAX_CHAIN 16

static const ldns_rr_type qtypes[16] = {
    0 /* the question's */, LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_CNAME,
    LDNS_RR_TYPE_NS, LDNS_RR_TYPE_SOA, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT,
    LDNS_RR_TYPE_ANY, LDNS_RR_TYPE_PTR, LDNS_RR_TYPE_DS, LDNS_RR_TYPE_SRV,
    LDNS_RR_TYPE_DNAME, LDNS_RR_TYPE_DNSKEY, (ldns_rr_type)65 /* HTTPS */,
    (ldns_rr_type)65280 /* private use */};

static cache_t *cache;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  struct cache_limits lim = {.max_bytes = 4u << 20, .min_ttl = 0, .max_ttl = 86400,
                             .max_neg_ttl = 3600};
  cache = cache_new(&lim);
  if (!cache) abort();
  return 0;
}

static void die(const char *what) {
  fprintf(stderr, "fuzz_response: %s\n", what);
  abort();
}

/* Everything the classifier reports must be inside the zone asked. */
static void check_bailiwick(const struct resp_info *info, const ldns_rdf *qname,
                            ldns_rr_type qtype, const ldns_rdf *zone) {
  if (!strcmp(resp_class_name(info->cls), "?")) die("unknown class");
  if (info->ncnames > RESP_MAX_CNAMES) die("too many CNAMEs");
  const ldns_rdf *cur = qname;
  for (size_t i = 0; i < info->ncnames; i++) {
    const ldns_rr *c = info->cnames[i];
    if (ldns_rr_get_type(c) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(c) != 1)
      die("a CNAME that is not one");
    if (!name_equal(ldns_rr_owner(c), cur)) die("CNAMEs out of chain order");
    if (!name_in(ldns_rr_owner(c), zone)) die("CNAME outside the zone");
    cur = ldns_rr_rdf(c, 0);
  }
  if (!name_equal(info->final_name, cur)) die("final name is not the chain's end");
  for (size_t i = 0; i < ldns_rr_list_rr_count(info->answer); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(info->answer, i);
    if (!name_equal(ldns_rr_owner(rr), info->final_name) || !name_in(ldns_rr_owner(rr), zone))
      die("answer record not at the final name in the zone");
    if (qtype != LDNS_RR_TYPE_ANY && ldns_rr_get_type(rr) != qtype)
      die("answer record of another type");
  }
  if (info->soa && (!name_in(ldns_rr_owner(info->soa), zone) ||
                    !name_in(info->final_name, ldns_rr_owner(info->soa))))
    die("SOA outside the zone or not above the name");
  if (info->referral_zone) {
    if (!name_in(info->referral_zone, zone) || name_equal(info->referral_zone, zone))
      die("referral not below the zone");
    for (size_t i = 0; i < ldns_rr_list_rr_count(info->ns); i++)
      if (!name_equal(ldns_rr_owner(ldns_rr_list_rr(info->ns, i)), info->referral_zone))
        die("NS record of another zone");
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(info->glue); i++)
    if (!name_in(ldns_rr_owner(ldns_rr_list_rr(info->glue, i)), zone)) die("glue outside the zone");
  switch (info->cls) {
  case RESP_ANSWER:
    if (!info->answer) die("ANSWER without records");
    break;
  case RESP_REFERRAL:
    if (!info->referral_zone) die("REFERRAL without a child zone");
    if (!ldns_rr_list_rr_count(info->ns)) die("REFERRAL without NS records");
    break;
  case RESP_LAME:
  case RESP_ERROR:
    if (!info->why) die("LAME/ERROR without a reason");
    break;
  default: break;
  }
}

/* resolver/core/iter_response.c store_grouped: one store per (owner, type). */
static void store_grouped(const ldns_rr_list *rrs, enum cache_rank rank) {
  size_t n = ldns_rr_list_rr_count(rrs);
  bool done[256] = {0};
  for (size_t i = 0; i < n && i < 256; i++) {
    if (done[i]) continue;
    ldns_rr *first = ldns_rr_list_rr(rrs, i);
    ldns_rr_list *set = ldns_rr_list_new();
    if (!set) return;
    for (size_t j = i; j < n && j < 256; j++) {
      ldns_rr *rr = ldns_rr_list_rr(rrs, j);
      if (!done[j] && ldns_rr_get_type(rr) == ldns_rr_get_type(first) &&
          name_equal(ldns_rr_owner(rr), ldns_rr_owner(first))) {
        ldns_rr_list_push_rr(set, rr);
        done[j] = true;
      }
    }
    cache_store_rrset(cache, set, rank, NOW, NULL);
    ldns_rr_list_free(set);
  }
}

static void lookup(const ldns_rdf *name, ldns_rr_type type, enum cache_rank rank) {
  struct cache_result res;
  if (cache_lookup(cache, name, type, rank, NOW + 1, &res) == 0)
    ldns_rr_list_deep_free(res.rrs);
}

/* resolver/core/iter_response.c take_answer and the referral case, on a private
 * cache; then the reply a client would get. */
static void use(const ldns_pkt *resp, const struct resp_info *info, const ldns_rdf *qname,
                ldns_rr_type qtype, const ldns_rdf *zone) {
  for (size_t i = 0; i < info->ncnames; i++) {
    ldns_rr_list *one =
        resp_rrset(ldns_pkt_answer(resp), ldns_rr_owner(info->cnames[i]), LDNS_RR_TYPE_CNAME);
    if (one) {
      cache_store_rrset(cache, one, CACHE_RANK_ANSWER, NOW, NULL);
      ldns_rr_list_free(one);
    }
  }
  if (info->answer) store_grouped(info->answer, CACHE_RANK_ANSWER);
  if (info->cls == RESP_NXDOMAIN || info->cls == RESP_NODATA)
    cache_store_negative(cache, info->final_name, qtype, info->cls == RESP_NXDOMAIN, info->soa,
                         CACHE_RANK_ANSWER, NOW, NULL);
  if (info->ns) cache_store_rrset(cache, info->ns, CACHE_RANK_REFERRAL, NOW, NULL);
  if (info->glue) store_grouped(info->glue, CACHE_RANK_GLUE);

  lookup(qname, qtype, CACHE_RANK_ANSWER);
  lookup(qname, LDNS_RR_TYPE_CNAME, CACHE_RANK_ANSWER);
  lookup(info->final_name, qtype, CACHE_RANK_ANSWER);
  if (info->referral_zone) lookup(info->referral_zone, LDNS_RR_TYPE_NS, CACHE_RANK_REFERRAL);
  for (size_t i = 0; i < ldns_rr_list_rr_count(info->glue); i++) {
    const ldns_rr *g = ldns_rr_list_rr(info->glue, i);
    lookup(ldns_rr_owner(g), ldns_rr_get_type(g), CACHE_RANK_GLUE);
  }

  /* The chain, and the reply: the CNAMEs in order, then the final RRset. */
  chain_t ch;
  chain_init(&ch, qname, MAX_CHAIN);
  struct chain_step step = {.source = CHAIN_SRC_NETWORK, .zone = (ldns_rdf *)zone};
  enum chain_status st = CHAIN_OK;
  ldns_rr_list *an = ldns_rr_list_new();
  for (size_t i = 0; i < info->ncnames && st == CHAIN_OK && an; i++) {
    st = chain_add(&ch, ldns_rr_owner(info->cnames[i]), ldns_rr_rdf(info->cnames[i], 0), &step);
    if (st == CHAIN_OK) ldns_rr_list_push_rr(an, info->cnames[i]);
    else if (!ch.why[0]) die("a broken chain without a reason");
  }
  if (st == CHAIN_OK && an) {
    if (info->answer) ldns_rr_list_push_rr_list(an, info->answer);
    chain_set_final(&ch, &step);
    ldns_rr_list *auth = ldns_rr_list_new();
    if (auth && info->soa) ldns_rr_list_push_rr(auth, info->soa);
    struct client_question cq = {.id = 1, .rd = true, .qname = (ldns_rdf *)qname,
                                 .qtype = qtype, .qclass = LDNS_RR_CLASS_IN, .edns = true,
                                 .udp_size = 1232};
    struct answer_content ac = {
        .rcode = info->cls == RESP_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR,
        .answer = an,
        .authority = auth,
        .ede = EDE_NONE};
    size_t len = 0;
    bool tc = false;
    uint8_t *wire = answer_build(&cq, &ac, 1232, 65535, &len, &tc);
    if (wire) {
      ldns_pkt *back = NULL;
      if (ldns_wire2pkt(&back, wire, len) != LDNS_STATUS_OK) die("our reply does not parse");
      ldns_pkt_free(back);
      free(wire);
    }
    ldns_rr_list_free(auth);
  }
  ldns_rr_list_free(an);
  chain_free(&ch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  uint8_t ctl = data[0];
  ldns_pkt *resp = NULL;
  if (wire_parse(&resp, data + 1, size - 1) != LDNS_STATUS_OK) return 0;

  const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(resp), 0);
  ldns_rdf *qname = q ? ldns_rdf_clone(ldns_rr_owner(q))
                      : ldns_dname_new_frm_str("www.example.com.");
  if (!qname) die("out of memory");
  ldns_rr_type qtype = qtypes[ctl >> 4];
  if (qtype == 0) qtype = q ? ldns_rr_get_type(q) : LDNS_RR_TYPE_A;
  uint8_t labels = ldns_dname_label_count(qname);
  uint8_t keep = ctl & 7;
  ldns_rdf *zone = ldns_dname_clone_from(qname, keep >= labels ? 0 : (uint16_t)(labels - keep));
  if (!zone) die("out of memory");

  struct resp_info info;
  resp_classify(resp, qname, qtype, zone, &info);
  check_bailiwick(&info, qname, qtype, zone);
  use(resp, &info, qname, qtype, zone);
  resp_info_clear(&info);

  cache_clear(cache);
  ldns_rdf_deep_free(zone);
  ldns_rdf_deep_free(qname);
  ldns_pkt_free(resp);
  return 0;
}
