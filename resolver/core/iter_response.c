/*
 * What the iterator does with a server's response, and what it hands back:
 * the response is classified (response.c), judged when it must be
 * (iter_dnssec.c), then acted on: an answer, a chain, a negative answer is
 * stored and ends or moves the lookup; a referral loads the child zone; an
 * answer to a minimised query goes one label deeper or falls back to the
 * full name (RFC 9156); truncation, FORMERR and errors pick the next try.
 * Also here: the result's sections (the chain's records, the final RRset,
 * SOA and proofs), the TTLs they carry, and what is cached and at which
 * rank. Apart from the states because this is where a response's every
 * case is, and where the RFCs on caching (1035, 2181, 2308) are applied.
 */
#include <stdio.h>
#include <string.h>

#include "resolver/core/iter_priv.h"
#include "resolver/core/trace.h"
#include "resolver/lib/log.h"
#include "resolver/lib/name.h"

/* ---- the result's sections, and their TTLs ---------------------------------- */

void iter__push_clones(ldns_rr_list *to, const ldns_rr_list *from) {
  for (size_t i = 0; from && i < ldns_rr_list_rr_count(from); i++)
    ldns_rr_list_push_rr(to, ldns_rr_clone(ldns_rr_list_rr(from, i)));
}

/* The TTL the cache keeps for data with this TTL (min-ttl, max-ttl): what
 * a client is told, whether the answer came from the network or the cache,
 * so a reply (and the answer cache holding it) never outlives its data. */
uint32_t iter__kept_ttl(const iter_t *it, uint32_t ttl) {
  const struct iter_config *cfg = it->env->cfg;
  if (cfg->max_ttl && ttl > cfg->max_ttl) ttl = cfg->max_ttl;
  return ttl < cfg->min_ttl ? cfg->min_ttl : ttl;
}

/* The negative TTL of an SOA (RFC 2308 5: min(TTL, MINIMUM)), clamped as
 * the cache clamps it. */
static uint32_t negative_ttl(const iter_t *it, const ldns_rr *soa) {
  uint32_t ttl = ldns_rr_ttl(soa);
  if (ldns_rr_rd_count(soa) >= 7) {
    uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
    if (minimum < ttl) ttl = minimum;
  }
  uint32_t cap = it->env->cfg->max_neg_ttl;
  return cap && ttl > cap ? cap : ttl;
}

/* Records of l from index `from` on get this TTL. */
void iter__set_ttls(ldns_rr_list *l, size_t from, uint32_t ttl) {
  for (size_t i = from; l && i < ldns_rr_list_rr_count(l); i++)
    ldns_rr_set_ttl(ldns_rr_list_rr(l, i), ttl);
}

/* The answer so far: the chain's CNAMEs (with their RRSIGs), then `final`
 * and its RRSIGs (cloned). The client's reply drops the DNSSEC records
 * unless it set DO. */
void iter__set_answer_sigs(iter_t *it, const ldns_rr_list *final, const ldns_rr_list *sigs) {
  ldns_rr_list *a = ldns_rr_list_clone(it->answer_chain);
  iter__push_clones(a, final);
  iter__push_clones(a, sigs);
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = a;
  it->res.has_data = final && ldns_rr_list_rr_count(final) > 0;
}

void iter__set_answer(iter_t *it, const ldns_rr_list *final) {
  iter__set_answer_sigs(it, final, NULL);
}

/* No answer records at all, not even the chain's CNAMEs. */
void iter__set_answer_empty(iter_t *it) {
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = ldns_rr_list_new();
  it->res.has_data = false;
}

void iter__set_authority(iter_t *it, const ldns_rr *soa) {
  if (!soa) return;
  if (!it->res.authority) it->res.authority = ldns_rr_list_new();
  ldns_rr_list_push_rr(it->res.authority, ldns_rr_clone(soa));
}

/* A negative answer's proof (NSEC/NSEC3 and RRSIGs) after its SOA. */
void iter__set_proof(iter_t *it, const ldns_rr_list *proof) {
  if (!proof || !ldns_rr_list_rr_count(proof)) return;
  if (!it->res.authority) it->res.authority = ldns_rr_list_new();
  iter__push_clones(it->res.authority, proof);
}

/* The SOA for a NODATA at the owner of a flattened ALIAS: local data has
 * no record of type NULL at that name, so the lookup says NODATA with the
 * zone's SOA. */
static void alias_soa(iter_t *it) {
  struct lz_answer la;
  if (lz_lookup(it->env->local, it->flat_owner, LDNS_RR_TYPE_NULL, &la) == LZV_NODATA)
    iter__set_authority(it, la.soa);
  lz_answer_clear(&la);
}

/* The answer of a chain that went through an ALIAS: records before the
 * ALIAS stay; from it on, only the final addresses, owned by the ALIAS's
 * name, with the smallest TTL met on the way (what ALIAS providers do). A
 * target without addresses, or without existence, is NODATA at the owner,
 * which exists. */
void iter__flatten(iter_t *it, ldns_pkt_rcode *rcode) {
  const ldns_rr_list *in = it->res.answer;
  size_t n = in ? ldns_rr_list_rr_count(in) : 0;
  ldns_rr_list *out = ldns_rr_list_new();
  uint32_t ttl = it->flat_ttl;
  for (size_t i = it->flat_from; i < n; i++)
    if (ldns_rr_ttl(ldns_rr_list_rr(in, i)) < ttl) ttl = ldns_rr_ttl(ldns_rr_list_rr(in, i));
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(in, i);
    if (i >= it->flat_from &&
        (ldns_rr_get_type(rr) != it->qtype || !name_equal(ldns_rr_owner(rr), iter__current(it))))
      continue;
    ldns_rr *c = ldns_rr_clone(rr);
    if (i >= it->flat_from) {
      ldns_rdf_deep_free(ldns_rr_owner(c));
      ldns_rr_set_owner(c, ldns_rdf_clone(it->flat_owner));
      ldns_rr_set_ttl(c, ttl);
    }
    ldns_rr_list_push_rr(out, c);
  }
  bool any = ldns_rr_list_rr_count(out) > it->flat_from;
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = out;
  it->res.has_data = any;
  if (!any) {
    it->res.dangling = *rcode == LDNS_RCODE_NXDOMAIN;
    *rcode = LDNS_RCODE_NOERROR;
    if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
    it->res.authority = NULL;
    alias_soa(it);
  }
}

/* ---- storing ------------------------------------------------------------------ */

/* Store every RRset in `rrs`, grouping RRs by owner and type, each with
 * its RRSIGs from `sigs` (may be NULL) and the state `sec`. */
static void store_grouped(iter_t *it, const ldns_rr_list *rrs, enum cache_rank rank,
                          const ldns_rr_list *sigs, uint8_t sec) {
  size_t n = ldns_rr_list_rr_count(rrs);
  bool done[256] = {0};
  int64_t now = iter__now_sec(it);
  for (size_t i = 0; i < n && i < 256; i++) {
    if (done[i]) continue;
    ldns_rr *first = ldns_rr_list_rr(rrs, i);
    ldns_rr_list *set = ldns_rr_list_new();
    for (size_t j = i; j < n && j < 256; j++) {
      ldns_rr *rr = ldns_rr_list_rr(rrs, j);
      if (!done[j] && ldns_rr_get_type(rr) == ldns_rr_get_type(first) &&
          name_equal(ldns_rr_owner(rr), ldns_rr_owner(first))) {
        ldns_rr_list_push_rr(set, rr);
        done[j] = true;
      }
    }
    ldns_rr_list *own = sigs ? dnssec_sigs_for(sigs, ldns_rr_owner(first),
                                               ldns_rr_get_type(first)) : NULL;
    cache_store_rrset_sec(it->env->cache, set, own, sec, rank, now, it->env->sink);
    if (own) ldns_rr_list_free(own);
    ldns_rr_list_free(set);
  }
}

/* A negative answer's proof, kept after its SOA: the SOA's RRSIGs, the
 * NSEC/NSEC3 records and theirs (shallow; NULL if none). */
static ldns_rr_list *neg_proof(const struct resp_info *info) {
  ldns_rr_list *p = NULL;
  for (size_t i = 0; info->sigs && i < ldns_rr_list_rr_count(info->sigs); i++) {
    ldns_rr *rr = ldns_rr_list_rr(info->sigs, i);
    ldns_rr_type t = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG && ldns_rr_rd_count(rr) > 0
                         ? ldns_rdf2rr_type(ldns_rr_rdf(rr, 0)) : 0;
    if (t != LDNS_RR_TYPE_SOA && t != LDNS_RR_TYPE_NSEC && t != LDNS_RR_TYPE_NSEC3) continue;
    if (!p) p = ldns_rr_list_new();
    ldns_rr_list_push_rr(p, rr);
  }
  for (size_t i = 0; info->nsecs && i < ldns_rr_list_rr_count(info->nsecs); i++) {
    if (!p) p = ldns_rr_list_new();
    ldns_rr_list_push_rr(p, ldns_rr_list_rr(info->nsecs, i));
  }
  return p;
}

/* A wildcard expansion's proof that no closer name exists (the answer's
 * RRSIG has fewer labels than its owner): its NSEC/NSEC3 records and their
 * RRSIGs, kept and sent with the answer. NULL for other answers. */
static ldns_rr_list *wildcard_proof(const struct resp_info *info) {
  if (!info->answer || !ldns_rr_list_rr_count(info->answer) || !info->nsecs) return NULL;
  const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
  ldns_rr_list *sigs = iter__sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
  bool wild = false;
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); i++)
    wild |= ldns_rdf2native_int8(ldns_rr_rrsig_labels(ldns_rr_list_rr(sigs, i))) <
            ldns_dname_label_count(ldns_rr_owner(first));
  if (sigs) ldns_rr_list_free(sigs);
  return wild ? neg_proof(info) : NULL;
}

/* Do all the records of l share one owner and type? */
static bool single_rrset(const ldns_rr_list *l) {
  const ldns_rr *first = ldns_rr_list_rr(l, 0);
  for (size_t i = 1; i < ldns_rr_list_rr_count(l); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(l, i);
    if (ldns_rr_get_type(rr) != ldns_rr_get_type(first) ||
        !name_equal(ldns_rr_owner(rr), ldns_rr_owner(first)))
      return false;
  }
  return true;
}

/* Cache what an answer, CNAME, NODATA or NXDOMAIN from the zone says
 * (qtype: the type asked), with its DNSSEC records and each RRset's state
 * from v (NULL: not validated). Returns the TTL the answer RRset was kept
 * with (what the client is told), or its clamped TTL when not stored. */
static uint32_t store_answer(iter_t *it, const ldns_pkt *resp, const struct resp_info *info,
                             ldns_rr_type qtype, const struct verdicts *v) {
  int64_t now = iter__now_sec(it);
  uint8_t sec = v ? v->final : SEC_INDETERMINATE;
  if (info->cname_with_other_data) {
    char n[256];
    it->res.cname_with_other_data++;
    log_debug("CNAME and other data at one name in %s (RFC 1034 3.6.2); following the CNAME",
              name_str(it->zone, n, sizeof n));
  }
  for (size_t i = 0; i < info->ncnames; i++) {
    /* A synthesised CNAME is not stored: its DNAME is, and answers for
     * every name below its owner. */
    const ldns_rr *made = info->dnames[i] ? info->dnames[i] : info->cnames[i];
    ldns_rr_type t = info->dnames[i] ? LDNS_RR_TYPE_DNAME : LDNS_RR_TYPE_CNAME;
    /* A CNAME at a zone apex cannot coexist with the apex SOA and NS. */
    if (!info->dnames[i] && name_equal(ldns_rr_owner(made), it->zone)) it->res.cname_at_apex++;
    ldns_rr_list *one = resp_rrset(ldns_pkt_answer(resp), ldns_rr_owner(made), t);
    if (one) {
      ldns_rr_list *sigs = iter__sigs_of(info, ldns_rr_owner(made), t);
      cache_store_rrset_sec(it->env->cache, one, sigs, v ? v->hop[i] : SEC_INDETERMINATE,
                            CACHE_RANK_ANSWER, now, it->env->sink);
      if (sigs) ldns_rr_list_free(sigs);
      ldns_rr_list_free(one);
    }
  }
  uint32_t kept = UINT32_MAX;
  for (size_t i = 0; info->answer && i < ldns_rr_list_rr_count(info->answer); i++) {
    uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(info->answer, i));
    if (t < kept) kept = t;
  }
  kept = iter__kept_ttl(it, kept == UINT32_MAX ? 0 : kept);
  ldns_rr_list *wproof = wildcard_proof(info);
  if (info->answer && (wproof || single_rrset(info->answer))) {
    /* One RRset (every type but ANY): kept with its RRSIGs and, for a
     * wildcard expansion, its proof. */
    const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
    ldns_rr_list *extra = iter__sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
    if (!extra) extra = ldns_rr_list_new();
    for (size_t i = 0; wproof && i < ldns_rr_list_rr_count(wproof); i++)
      ldns_rr_list_push_rr(extra, ldns_rr_list_rr(wproof, i));
    cache_store_rrset_kept(it->env->cache, info->answer, extra, sec, CACHE_RANK_ANSWER, now,
                           it->env->sink, &kept);
    ldns_rr_list_free(extra);
  } else if (info->answer) {
    store_grouped(it, info->answer, CACHE_RANK_ANSWER, info->sigs, sec);
  }
  if (wproof) ldns_rr_list_free(wproof);
  if (info->cls == RESP_NXDOMAIN || info->cls == RESP_NODATA) {
    ldns_rr_list *proof = neg_proof(info);
    cache_store_negative_sec(it->env->cache, info->final_name, qtype,
                             info->cls == RESP_NXDOMAIN, info->soa, proof, sec,
                             CACHE_RANK_ANSWER, now, it->env->sink);
    if (proof) ldns_rr_list_free(proof);
  }
  if (info->ns)
    cache_store_rrset(it->env->cache, info->ns, CACHE_RANK_REFERRAL, now, it->env->sink);
  if (info->glue) store_grouped(it, info->glue, CACHE_RANK_GLUE, NULL, 0);
  return kept;
}

/* ---- acting on a response ----------------------------------------------------- */

/* An answer, CNAME, NODATA or NXDOMAIN from the zone: cache and advance. */
static void take_answer(iter_t *it, const ldns_pkt *resp, struct resp_info *info,
                        const struct verdicts *v) {
  if (v->bogus) {
    iter__fail_bogus(it, &v->bad);
    return;
  }
  uint32_t kept = store_answer(it, resp, info, it->qtype, v);
  for (size_t i = 0; i < info->ncnames; i++) {
    const ldns_rr *made = info->dnames[i] ? info->dnames[i] : info->cnames[i];
    ldns_rr_list *sigs = iter__sigs_of(info, ldns_rr_owner(made), ldns_rr_get_type(made));
    it->cur_sec = v->hop[i];
    bool ok = info->dnames[i] ? iter__follow_dname(it, info->dnames[i], info->cnames[i], sigs,
                                                   CHAIN_SRC_NETWORK)
                              : iter__follow(it, info->cnames[i], sigs, CHAIN_SRC_NETWORK);
    if (sigs) ldns_rr_list_free(sigs);
    if (!ok) return;
  }

  it->cur_sec = v->final;
  switch (info->cls) {
  case RESP_ANSWER: {
    const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
    ldns_rr_list *sigs = iter__sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
    ldns_rr_list *wproof = wildcard_proof(info);
    iter__final_step(it, CHAIN_SRC_NETWORK, ldns_rr_ttl(first));
    iter__set_answer_sigs(it, info->answer, sigs);
    iter__set_ttls(it->res.answer, ldns_rr_list_rr_count(it->answer_chain), kept);
    iter__set_proof(it, wproof);
    iter__set_ttls(it->res.authority, 0, kept);
    if (sigs) ldns_rr_list_free(sigs);
    if (wproof) ldns_rr_list_free(wproof);
    iter__finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  }
  case RESP_NODATA:
  case RESP_NXDOMAIN: {
    ldns_rr_list *proof = neg_proof(info);
    iter__final_step(it, CHAIN_SRC_NETWORK, info->soa ? ldns_rr_ttl(info->soa) : 0);
    iter__set_answer(it, NULL);
    iter__set_authority(it, info->soa);
    iter__set_proof(it, proof);
    if (info->soa) iter__set_ttls(it->res.authority, 0, negative_ttl(it, info->soa));
    if (proof) ldns_rr_list_free(proof);
    iter__finish(it, info->cls == RESP_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR,
                 EDE_NONE, NULL);
    break;
  }
  case RESP_YXDOMAIN:
    iter__final_step(it, CHAIN_SRC_NETWORK, 0);
    iter__set_answer(it, NULL);
    iter__finish(it, LDNS_RCODE_YXDOMAIN, EDE_NONE, NULL);
    break;
  default: /* RESP_CNAME: the chain continues in another zone */
    it->cur_sec = SEC_INDETERMINATE;
    if (it->chain.n) it->chain.hops[it->chain.n - 1].crossed_zone = true;
    it->state = IS_CACHE;
    break;
  }
}

/* What a traced query got back, in words. */
static void trace_response(iter_t *it, const ldns_pkt *resp, const struct resp_info *info) {
  char name[256], rc[32];
  const char *cls = resp_class_name(info->cls);
  const ldns_rdf *last = info->ncnames ? ldns_rr_rdf(info->cnames[info->ncnames - 1], 0) : NULL;
  switch (info->cls) {
  case RESP_ANSWER:
    TRACE_END(it, "answer: %zu record(s) after %zu CNAME(s)",
              ldns_rr_list_rr_count(info->answer), info->ncnames);
    break;
  case RESP_CNAME:
    TRACE_END(it, "CNAME to %s: the chain leaves the zone",
              name_str(last, name, sizeof name));
    break;
  case RESP_REFERRAL:
    TRACE_END(it, "referral to %s",
              name_str(info->referral_zone, name, sizeof name));
    break;
  case RESP_ERROR:
    snprintf(rc, sizeof rc, "%s", ldns_lookup_by_id(ldns_rcodes, info->rcode)
                                      ? ldns_lookup_by_id(ldns_rcodes, info->rcode)->name : "?");
    TRACE_END(it, "rcode %s: trying another server", rc);
    break;
  case RESP_LAME:
    TRACE_END(it, "lame (%s): trying another server", info->why);
    break;
  case RESP_YXDOMAIN:
    TRACE_END(it, "YXDOMAIN: a DNAME makes the name too long");
    break;
  default:
    TRACE_END(it, "%s%s after %zu CNAME(s)", cls,
              ldns_pkt_aa(resp) ? "" : " (no AA)", info->ncnames);
    break;
  }
}

/* The answer to a minimised query, but a referral: the name asked exists
 * below the zone without a cut (go one step deeper), or it does not exist,
 * or the server mishandled the minimised name. */
static void on_minimised(iter_t *it, struct candidate *c, const ldns_pkt *resp,
                         struct resp_info *info, const struct verdicts *v) {
  const struct iter_config *cfg = it->env->cfg;
  char name[256];
  name_str(it->sent, name, sizeof name);
  bool dname = false;
  for (size_t i = 0; i < info->ncnames; i++) dname |= info->dnames[i] != NULL;
  /* An NXDOMAIN after a CNAME is about the CNAME's target (RFC 6604), not
   * the name asked: that one exists. */
  bool exists = info->cls == RESP_ANSWER || info->cls == RESP_NODATA ||
                info->cls == RESP_CNAME || (info->cls == RESP_NXDOMAIN && info->ncnames);
  if (exists) {
    store_answer(it, resp, info, it->sent_type, NULL);
    if (it->trace)
      TRACE_END(it, "%s: %s exists, no zone cut there: %s",
                resp_class_name(info->cls), name,
                dname ? "a DNAME above the name, now cached" : "one label more");
    it->qmin_labels = ldns_dname_label_count(it->sent);
    it->qmin_count++;
    c->tries--; /* progress, not a failed try: the server may be asked again */
    iter__forget_sent(it);
    /* Nothing exists below a DNAME's owner (RFC 6672 2.3): the cached
     * DNAME rewrites the name instead of more queries. */
    if (dname && !it->nocache) it->state = IS_CACHE;
    return;
  }
  switch (info->cls) {
  case RESP_NXDOMAIN: {
    /* With nothing-below-nxdomain: dnssec, a validated NXDOMAIN ends it. */
    bool proven = v->final == SEC_SECURE && !v->bogus && cfg->nxcut == NXCUT_DNSSEC;
    if (cfg->qmin == QMIN_STRICT || cfg->nxcut == NXCUT_YES || proven) {
      if (v->bogus) {
        iter__fail_bogus(it, &v->bad);
        return;
      }
      store_answer(it, resp, info, it->sent_type, v);
      if (it->trace)
        TRACE_END(it, "nxdomain: nothing exists below %s (RFC 8020)",
                  name);
      ldns_rr_list *proof = neg_proof(info);
      it->cur_sec = v->final;
      iter__final_step(it, CHAIN_SRC_NETWORK, info->soa ? ldns_rr_ttl(info->soa) : 0);
      iter__set_answer(it, NULL);
      iter__set_authority(it, info->soa);
      iter__set_proof(it, proof);
      if (proof) ldns_rr_list_free(proof);
      iter__finish(it, LDNS_RCODE_NXDOMAIN, EDE_NONE, NULL);
      return;
    }
    break;
  }
  default: /* error, lame, YXDOMAIN */
    if (cfg->qmin == QMIN_STRICT) {
      if (it->trace) trace_response(it, resp, info);
      c->failed = true;
      it->last_failure = info->cls == RESP_LAME ? "lame server" : "server failure";
      return;
    }
    break;
  }
  /* Relaxed (RFC 9156 2.3): some servers mishandle names that are not
   * the full one (NXDOMAIN for empty non-terminals, errors); ask this one
   * the full name. */
  COUNT(it, qmin_fallback);
  if (it->trace)
    TRACE_END(it, "%s for the minimised name: asking the full name",
              resp_class_name(info->cls));
  it->qmin_full = true;
  iter__forget_sent(it);
  c->tries--;
  it->retry_same = (int)it->cur;
}

void iter_on_response(iter_t *it, const ldns_pkt *resp, uint32_t rtt_ms) {
  if (it->state != IS_WAIT) return;
  struct candidate *c = &it->cands[it->cur];
  const struct sockaddr *addr = (struct sockaddr *)&c->addr;
  servers_record_rtt(it->env->servers, addr, rtt_ms);
  it->state = IS_SELECT;

  if (ldns_pkt_tc(resp) && !c->tcp) {
    c->tcp = true; /* RFC 7766: retry the same server over TCP */
    c->tries--;
    it->retry_same = (int)it->cur;
    if (it->trace) TRACE_END(it, "truncated (TC=1): retrying over TCP");
    return;
  }
  if (ldns_pkt_get_rcode(resp) == LDNS_RCODE_FORMERR && it->cur_edns) {
    servers_set_no_edns(it->env->servers, addr); /* retry once without OPT */
    c->tries--;
    it->retry_same = (int)it->cur;
    if (it->trace) TRACE_END(it, "FORMERR: retrying without EDNS");
    return;
  }
  iter__handle_response(it, resp);
}

/* A response that is no truncation or EDNS trouble: classify it; when it
 * must be validated and its zone's keys are not at hand, keep it and ask
 * for them (IS_TRUST; iter_on_trust comes back here); else act on it. */
void iter__handle_response(iter_t *it, const ldns_pkt *resp) {
  struct candidate *c = &it->cands[it->cur];
  const struct sockaddr *addr = (struct sockaddr *)&c->addr;
  struct resp_info info;
  resp_classify(resp, it->sent, it->sent_type, it->zone, &info);
  struct verdicts v;
  if (!iter__judge_response(it, resp, &info, &v)) {
    resp_info_clear(&info);
    return;
  }
  if (it->sent_minimised && info.cls != RESP_REFERRAL) {
    on_minimised(it, c, resp, &info, &v);
    resp_info_clear(&info);
    return;
  }
  if (it->trace) trace_response(it, resp, &info);
  char zn[256], sa[64];
  log_debug("response from %s for zone %s: %s", util_addr_str(addr, sa, sizeof sa),
            name_str(it->zone, zn, sizeof zn), resp_class_name(info.cls));
  switch (info.cls) {
  case RESP_ERROR:
  case RESP_LAME:
    c->failed = true;
    it->last_failure = info.cls == RESP_LAME ? "lame server" : "server failure";
    break;
  case RESP_REFERRAL: {
    int64_t now = iter__now_sec(it);
    /* Every minimised query answered counts toward the bound, referrals
     * too: a name crossing many cuts (ip6.arpa) still sends at most
     * QMIN_MAX_QUERIES. */
    if (it->sent_minimised) it->qmin_count++;
    cache_store_rrset(it->env->cache, info.ns, CACHE_RANK_REFERRAL, now, it->env->sink);
    if (info.glue) store_grouped(it, info.glue, CACHE_RANK_GLUE, NULL, 0);
    /* The child's DS, signed by this zone, comes with a signed referral:
     * kept (unchecked, with its RRSIGs), a trust walk to the child finds it
     * here instead of asking. */
    if (info.ds) store_grouped(it, info.ds, CACHE_RANK_ANSWER, info.sigs, CACHE_SEC_INDETERMINATE);
    ldns_rdf *child = ldns_rdf_clone(info.referral_zone);
    iter__load_zone(it, child, info.ns, info.glue);
    ldns_rdf_deep_free(child);
    if (!iter__zone_usable(it)) {
      it->last_failure = "referral without usable servers";
      iter__fail_zone(it);
    }
    break;
  }
  default:
    take_answer(it, resp, &info, &v);
    break;
  }
  resp_info_clear(&info);
}
