/*
 * Iterative resolution from the root for one question, as an explicit state
 * machine with no I/O; the contract is in iterator.h, the layout of the
 * iterator's parts in iter_priv.h. This file holds the states, one function
 * each, and the loop that dispatches them: CACHE (local data, the memory
 * cache, cached DNAMEs and NXDOMAINs above the name, aggressive NSEC),
 * FIND_ZONE, SELECT (plan the query, choose a server); following a chain
 * from name to name; and the public API. What a response does is in
 * iter_response.c, DNSSEC in iter_dnssec.c, the shared tier in iter_fetch.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/core/iter_priv.h"
#include "resolver/core/trace.h"
#include "resolver/lib/name.h"

#define MAX_TRIES 4   /* tries per server per zone visit */
#define QMIN_ONE_LABEL 4   /* RFC 9156 2.3: the first minimised steps add one label */
#define QMIN_MAX_QUERIES 10 /* and at most this many minimised queries per name */

/* ---- ending, and following a chain --------------------------------------------- */

void iter__finish(iter_t *it, ldns_pkt_rcode rcode, int ede, const char *fmt, ...) {
  if ((rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) && !it->stale_mode)
    iter__share_chain(it);
  /* A flattened target that does not resolve to addresses (no name, no
   * data, a name made too long, refused locally) leaves the owner without
   * addresses: NODATA. Failures to resolve (SERVFAIL) pass through. */
  if (it->flat_owner && (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN ||
                         rcode == LDNS_RCODE_YXDOMAIN || rcode == LDNS_RCODE_REFUSED)) {
    iter__flatten(it, &rcode);
    if (rcode == LDNS_RCODE_NOERROR) ede = EDE_NONE;
  }
  /* The budget is the whole request's: anything spent was spent upstream. */
  bool upstream = *it->budget < it->env->cfg->max_upstream_queries;
  bool local = it->chain.has_final && it->chain.final.source == CHAIN_SRC_LOCAL;
  it->res.source = upstream ? CHAIN_SRC_NETWORK
                 : it->res.from_shared_tier ? CHAIN_SRC_REDIS
                 : local ? CHAIN_SRC_LOCAL : CHAIN_SRC_CACHE;
  it->res.rcode = rcode;
  it->res.ede = ede;
  it->res.sec = iter__answer_sec(it, rcode);
  if (iter__key_sentinel_fails(it)) {
    iter__set_answer_empty(it);
    if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
    it->res.authority = NULL;
    it->res.rcode = LDNS_RCODE_SERVFAIL;
    it->res.sec = SEC_INDETERMINATE;
    it->state = IS_DONE;
    return;
  }
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->res.ede_text, sizeof it->res.ede_text, fmt, ap);
    va_end(ap);
  }
  it->state = IS_DONE;
}

/* Data answering this request expires in `ttl` seconds of `orig`: from
 * the last tenth of its life on, the answer is worth a prefetch. */
static inline void note_expiry(iter_t *it, uint32_t ttl, uint32_t orig) {
  if (orig < PREFETCH_MIN_TTL || ttl > orig) return;
  int64_t at = iter__now_sec(it) + ttl - orig / 10;
  if (!it->res.prefetch_at || at < it->res.prefetch_at) it->res.prefetch_at = at;
}

void iter__forget_sent(iter_t *it) {
  if (it->sent) ldns_rdf_deep_free(it->sent);
  it->sent = NULL;
}

/* How the current name was resolved: from the network (the zone and
 * server of the query in flight) or from a cache tier. Restarts the clock
 * for the next name. */
static struct chain_step take_step(iter_t *it, enum chain_source src, uint32_t ttl) {
  uint64_t now = it->env->cfg->no_timing ? it->hop_start_us : iter__mono_us(it);
  struct chain_step step = chain_step_cached(src, now - it->hop_start_us, ttl);
  step.sec = it->cur_sec;
  it->cur_sec = SEC_INDETERMINATE;
  it->hop_start_us = now;
  if (src == CHAIN_SRC_NETWORK) {
    /* The cache keeps it clamped: the window is the clamped TTL's. */
    const struct iter_config *cfg = it->env->cfg;
    uint32_t kept = cfg->max_ttl && ttl > cfg->max_ttl ? cfg->max_ttl
                  : ttl < cfg->min_ttl ? cfg->min_ttl : ttl;
    note_expiry(it, kept, kept);
    step.zone = it->zone;
    memcpy(&step.server, &it->cands[it->cur].addr, sizeof it->cands[it->cur].addr);
  }
  return step;
}

/* The answer at the last name came this way. */
void iter__final_step(iter_t *it, enum chain_source src, uint32_t ttl) {
  struct chain_step step = take_step(it, src, ttl);
  chain_set_final(&it->chain, &step);
}

/* Follow one hop from the current name to target: record it, bound the
 * chain, detect loops; the records that made it (a CNAME; a DNAME and the
 * CNAME made from it; none for an ALIAS) join the answer. Returns false
 * (and finishes) when the chain must end. */
static bool follow_hop(iter_t *it, enum hop_kind kind, const ldns_rdf *target, uint32_t ttl,
                       const ldns_rr *rr1, const ldns_rr *rr2, const ldns_rr_list *sigs,
                       enum chain_source src) {
  struct chain_step step = take_step(it, src, ttl);
  enum chain_status st = chain_add_hop(&it->chain, kind, iter__current(it), target, &step);
  if (st != CHAIN_OK) {
    it->res.chain_status = st;
    iter__set_answer(it, NULL);
    iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER, "%s", it->chain.why);
    return false;
  }
  size_t from = ldns_rr_list_rr_count(it->answer_chain);
  if (rr1) ldns_rr_list_push_rr(it->answer_chain, ldns_rr_clone(rr1));
  iter__push_clones(it->answer_chain, sigs);
  if (rr2) ldns_rr_list_push_rr(it->answer_chain, ldns_rr_clone(rr2));
  if (src == CHAIN_SRC_NETWORK) iter__set_ttls(it->answer_chain, from, iter__kept_ttl(it, ttl));
  /* A new name: minimisation starts again from the zone found for it. */
  iter__forget_sent(it);
  it->qmin_count = 0;
  it->qmin_full = false;
  return true;
}

bool iter__follow(iter_t *it, const ldns_rr *cname, const ldns_rr_list *sigs,
                  enum chain_source src) {
  return follow_hop(it, HOP_CNAME, ldns_rr_rdf(cname, 0), ldns_rr_ttl(cname), cname, NULL, sigs,
                    src);
}

/* A DNAME rewrote the current name into synth's target (RFC 6672). */
bool iter__follow_dname(iter_t *it, const ldns_rr *dname, const ldns_rr *synth,
                        const ldns_rr_list *sigs, enum chain_source src) {
  if (!follow_hop(it, HOP_DNAME, ldns_rr_rdf(synth, 0), ldns_rr_ttl(dname), dname, synth,
                  sigs, src))
    return false;
  /* A DNAME into its own subtree rewrites every rewritten name again, until
   * the chain bound or 255 octets: a loop, said at the first turn. */
  const ldns_rdf *owner = ldns_rr_owner(dname), *target = ldns_rr_rdf(dname, 0);
  if (!name_in(target, owner)) return true;
  char o[256], t[256];
  it->res.chain_status = CHAIN_LOOP;
  snprintf(it->chain.why, sizeof it->chain.why,
           "DNAME loop: %s rewrites names into its own subtree (%s)",
           name_str(owner, o, sizeof o), name_str(target, t, sizeof t));
  iter__set_answer(it, NULL);
  iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER, "%s", it->chain.why);
  return false;
}

/* ---- zone and candidates ---------------------------------------------- */

static void clear_zone(iter_t *it) {
  for (size_t i = 0; i < it->nns; i++) ldns_rdf_deep_free(it->ns[i].name);
  it->nns = 0;
  it->ncands = 0;
  it->zone_timeouts = 0;
  it->zone_waited_ms = 0;
  if (it->zone) ldns_rdf_deep_free(it->zone);
  it->zone = NULL;
}

static bool family_ok(const iter_t *it, ldns_rr_type t) {
  return (t == LDNS_RR_TYPE_A && it->env->cfg->ipv4) ||
         (t == LDNS_RR_TYPE_AAAA && it->env->cfg->ipv6);
}

/* Make the address in rr (A or AAAA) a candidate. Returns true when it is
 * one now (added, or already there). */
static bool add_candidate(iter_t *it, const ldns_rr *rr) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (!family_ok(it, t) || ldns_rr_rd_count(rr) != 1 || it->ncands == MAX_CANDS) return false;
  union sockaddr_any ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
  uint16_t port = htons(it->env->cfg->upstream_port);
  if (t == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = port;
    memcpy(&in->sin_addr, ldns_rdf_data(rd), 4);
    len = sizeof *in;
  } else if (t == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rd) == 16) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port;
    memcpy(&in6->sin6_addr, ldns_rdf_data(rd), 16);
    len = sizeof *in6;
  } else {
    return false;
  }
  for (size_t i = 0; i < it->ncands; i++)
    if (util_addr_equal((struct sockaddr *)&it->cands[i].addr, (struct sockaddr *)&ss))
      return true;
  struct candidate *c = &it->cands[it->ncands++];
  memset(c, 0, sizeof *c);
  c->addr = ss;
  c->addrlen = len;
  return true;
}

/* Add the addresses in rrs; an NS name that got one needs no sub-lookup.
 * Returns true if any address became a candidate. */
static bool add_candidates(iter_t *it, const ldns_rr_list *rrs) {
  bool any = false;
  for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
    if (!add_candidate(it, rr)) continue;
    any = true;
    for (size_t k = 0; k < it->nns; k++)
      if (name_equal(it->ns[k].name, ldns_rr_owner(rr))) it->ns[k].addr_known = true;
  }
  return any;
}

/* Addresses of an NS name from cache (glue included) and, for the root,
 * from the hints. */
static void addresses_from_cache(iter_t *it, const ldns_rdf *nsname) {
  static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
  if (it->nocache) return;
  int64_t now = iter__now_sec(it);
  for (int i = 0; i < 2; i++) {
    if (!family_ok(it, types[i])) continue;
    struct cache_result cr;
    if (cache_lookup(it->env->cache, nsname, types[i], CACHE_RANK_GLUE, now, &cr) == 0) {
      if (cr.kind == CACHE_RRSET) add_candidates(it, cr.rrs);
      ldns_rr_list_deep_free(cr.rrs);
    }
  }
}

/* Make `zone` with this NS RRset the zone to ask. glue may be NULL. */
void iter__load_zone(iter_t *it, const ldns_rdf *zone, const ldns_rr_list *ns,
                     const ldns_rr_list *glue) {
  clear_zone(it);
  it->retry_same = -1;
  it->zone_gen++;
  it->subs_pending = 0;
  it->zone = ldns_rdf_clone(zone);
  iter__forget_sent(it);
  it->qmin_labels = ldns_dname_label_count(zone);
  it->qmin_full = false; /* a fallback is for the servers that needed it */
  for (size_t i = 0; i < ldns_rr_list_rr_count(ns) && it->nns < MAX_NS; i++) {
    ldns_rr *rr = ldns_rr_list_rr(ns, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) != 1) continue;
    struct ns_entry *e = &it->ns[it->nns++];
    e->name = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
    e->addr_known = false;
    e->in_zone = name_in(e->name, zone);
  }
  add_candidates(it, glue);
  for (size_t i = 0; i < it->nns; i++) addresses_from_cache(it, it->ns[i].name);
}

/* A zone is usable when a server can be reached now or after a lookup. */
bool iter__zone_usable(const iter_t *it) {
  if (it->ncands) return true;
  for (size_t i = 0; i < it->nns; i++)
    if (!it->ns[i].in_zone) return true;
  return false;
}

/* ---- CACHE ---------------------------------------------------------------- */

static void cr_clear(struct cache_result *cr) {
  if (cr->rrs) ldns_rr_list_deep_free(cr->rrs);
  if (cr->sigs) ldns_rr_list_deep_free(cr->sigs);
  cr->rrs = cr->sigs = NULL;
}

/* lookup_entry found unchecked data whose judging needs a trust walk: the
 * iterator is in IS_TRUST and comes back to IS_CACHE afterwards. */
#define LOOKUP_WAIT (-2)

/* An answer-ranked cache lookup; in stale mode expired data counts too,
 * in refresh mode data near expiry does not. The caller notes the expiry
 * of what it uses (note_expiry). (Validating, data nobody validated is a
 * miss: it is asked for again; unchecked data from the shared tier is
 * judged first, LOOKUP_WAIT when that needs keys the iterator must walk
 * to.) */
static int lookup_entry(iter_t *it, const ldns_rdf *name, ldns_rr_type type, int64_t now,
                        struct cache_result *cr) {
  int rc = cache_lookup_ex(it->env->cache, name, type, CACHE_RANK_ANSWER, now, it->stale_mode,
                           it->stale_ttl, true, cr);
  if (rc != 0) return rc;
  if (it->validate && !it->stale_mode && cr->sec == CACHE_SEC_UNCHECKED) {
    int j = iter__judge_cached(it, name, type, cr);
    if (j == 0) {
      cr_clear(cr);
      it->pending_cached = true;
      it->state = IS_TRUST;
      return LOOKUP_WAIT;
    }
    if (j < 0) {
      iter__forget_want(it);
      COUNT(it, shared_rejected);
      cr_clear(cr);
      return -1;
    }
  }
  bool miss = it->validate && (cr->sec == CACHE_SEC_INDETERMINATE ||
                               cr->sec == CACHE_SEC_UNCHECKED);
  miss |= !it->stale_mode && it->refresh && cr->orig_ttl >= PREFETCH_MIN_TTL &&
          cr->ttl <= cr->orig_ttl / 10;
  if (miss) {
    cr_clear(cr);
    return -1;
  }
  if (cr->stale) it->res.stale = true;
  return 0;
}

/* A lookup whose result, when found, is used. */
static int lookup(iter_t *it, const ldns_rdf *name, ldns_rr_type type, int64_t now,
                  struct cache_result *cr) {
  int rc = lookup_entry(it, name, type, now, cr);
  if (rc == 0 && !it->stale_mode) note_expiry(it, cr->ttl, cr->orig_ttl);
  return rc;
}

/* Local data at the current name (local zones). Returns true when it
 * answered or moved the chain on. */
static bool st_local(iter_t *it) {
  struct lz_answer la;
  enum lz_verdict v = lz_lookup(it->env->local, iter__current(it), it->qtype, &la);
  if (v == LZV_NONE) return false;
  if (!it->stale_mode) COUNT(it, local_answers);
  /* Local data is nobody's signed zone: insecure, never AD. */
  it->cur_sec = it->validate ? SEC_INSECURE : SEC_INDETERMINATE;
  switch (v) {
  case LZV_ANSWER:
    iter__final_step(it, CHAIN_SRC_LOCAL, ldns_rr_ttl(ldns_rr_list_rr(la.rrs, 0)));
    iter__set_answer(it, la.rrs);
    iter__finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  case LZV_CNAME:
    iter__follow(it, ldns_rr_list_rr(la.rrs, 0), NULL, CHAIN_SRC_LOCAL); /* on in IS_CACHE */
    break;
  case LZV_ALIAS:
    if (!it->flat_owner) {
      it->flat_owner = ldns_rdf_clone(iter__current(it));
      it->flat_from = ldns_rr_list_rr_count(it->answer_chain);
      it->flat_ttl = la.alias_ttl;
    } else if (la.alias_ttl < it->flat_ttl) {
      it->flat_ttl = la.alias_ttl;
    }
    follow_hop(it, HOP_ALIAS, la.target, la.alias_ttl, NULL, NULL, NULL, CHAIN_SRC_LOCAL);
    break;
  case LZV_NODATA:
  case LZV_NXDOMAIN:
    iter__final_step(it, CHAIN_SRC_LOCAL, la.soa ? ldns_rr_ttl(la.soa) : 0);
    iter__set_answer(it, NULL);
    iter__set_authority(it, la.soa);
    iter__finish(it, v == LZV_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  default: {
    char z[256];
    iter__final_step(it, CHAIN_SRC_LOCAL, 0);
    iter__set_answer(it, NULL);
    iter__finish(it, LDNS_RCODE_REFUSED, EDE_PROHIBITED, "refused by local zone %s",
                 name_str(la.zone, z, sizeof z));
    break;
  }
  }
  lz_answer_clear(&la);
  return true;
}

/* Above the current name: a cached DNAME rewrites it without a query (RFC
 * 6672); with nothing-below-nxdomain, a cached NXDOMAIN means it does not
 * exist either (RFC 8020). One lookup per ancestor finds both, as an
 * NXDOMAIN entry answers any type. Returns true when it acted. */
static bool st_cache_above(iter_t *it, int64_t now) {
  const ldns_rdf *cur = iter__current(it);
  size_t labels = ldns_dname_label_count(cur);
  for (size_t skip = 1; skip < labels; skip++) {
    ldns_rdf *anc = ldns_dname_clone_from(cur, skip);
    struct cache_result cr;
    int rc = anc ? lookup_entry(it, anc, LDNS_RR_TYPE_DNAME, now, &cr) : -1;
    enum chain_source src = rc == 0 ? iter__cached_source(it, anc) : CHAIN_SRC_CACHE;
    ldns_rdf_deep_free(anc);
    if (rc == LOOKUP_WAIT) return true;
    if (rc != 0) continue;
    bool acted = false;
    if (cr.kind == CACHE_RRSET && ldns_rr_list_rr_count(cr.rrs) == 1) {
      const ldns_rr *dname = ldns_rr_list_rr(cr.rrs, 0);
      ldns_rr *synth = resp_dname_synth(dname, cur);
      it->cur_sec = cr.sec;
      if (synth) {
        iter__follow_dname(it, dname, synth, cr.sigs, src);
        ldns_rr_free(synth);
      } else {
        iter__final_step(it, src, ldns_rr_ttl(dname));
        iter__set_answer(it, NULL);
        iter__finish(it, LDNS_RCODE_YXDOMAIN, EDE_NONE, NULL);
      }
      acted = true;
    } else if (cr.kind == CACHE_NXDOMAIN &&
               (it->env->cfg->nxcut == NXCUT_YES ||
                (it->env->cfg->nxcut == NXCUT_DNSSEC && it->validate &&
                 cr.sec == CACHE_SEC_SECURE))) {
      if (!it->stale_mode) COUNT(it, nxdomain_cuts);
      it->cur_sec = cr.sec;
      iter__final_step(it, src, cr.ttl);
      iter__set_answer(it, NULL);
      if (ldns_rr_list_rr_count(cr.rrs)) iter__set_authority(it, ldns_rr_list_rr(cr.rrs, 0));
      iter__set_proof(it, cr.sigs);
      iter__finish(it, LDNS_RCODE_NXDOMAIN, EDE_NONE, NULL);
      acted = true;
    }
    if (acted && !it->stale_mode) note_expiry(it, cr.ttl, cr.orig_ttl);
    cr_clear(&cr);
    if (acted) return true;
  }
  return false;
}

/* RFC 8198: a name inside a cached, validated NSEC range does not exist
 * (or has no such type): answer NXDOMAIN or NODATA at once, with the
 * zone's cached SOA and the NSEC records as proof, all secure. */
static bool st_aggressive(iter_t *it, int64_t now) {
  if (!it->validate || it->stale_mode || !it->env->nsecs) return false;
  bool nx = false;
  struct nsec_proof proof = {0};
  if (nseccache_lookup(it->env->nsecs, iter__current(it), it->qtype, now, &nx, &proof) !=
      DENIAL_PROVEN)
    return false;
  struct cache_result cr;
  bool done = false;
  if (cache_lookup_ex(it->env->cache, proof.zone, LDNS_RR_TYPE_SOA, CACHE_RANK_ANSWER, now,
                      false, 0, true, &cr) == 0) {
    if (cr.kind == CACHE_RRSET && cr.sec == CACHE_SEC_SECURE && ldns_rr_list_rr_count(cr.rrs)) {
      COUNT(it, dnssec_aggressive);
      ldns_rr *soa = ldns_rr_list_rr(cr.rrs, 0);
      uint32_t ttl = proof.ttl < cr.ttl ? proof.ttl : cr.ttl;
      ldns_rr_set_ttl(soa, ttl);
      for (size_t i = 0; cr.sigs && i < ldns_rr_list_rr_count(cr.sigs); i++)
        ldns_rr_set_ttl(ldns_rr_list_rr(cr.sigs, i), ttl);
      it->cur_sec = SEC_SECURE;
      iter__final_step(it, CHAIN_SRC_CACHE, ttl);
      iter__set_answer(it, NULL);
      iter__set_authority(it, soa);
      iter__set_proof(it, cr.sigs);
      iter__set_proof(it, proof.nsecs);
      iter__finish(it, nx ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, EDE_NONE, NULL);
      done = true;
    }
    cr_clear(&cr);
  }
  nsec_proof_clear(&proof);
  return done;
}

static void st_cache(iter_t *it, struct iter_action *act) {
  const ldns_rdf *cur = iter__current(it);
  if (it->env->local && st_local(it)) return;
  if (it->nocache) {
    it->state = IS_FIND_ZONE;
    return;
  }
  int64_t now = iter__now_sec(it);
  struct cache_result cr;
  int rc = lookup(it, cur, it->qtype, now, &cr);
  if (rc == LOOKUP_WAIT) return;
  if (rc == 0) {
    it->cur_sec = cr.sec;
    iter__final_step(it, iter__cached_source(it, cur), cr.ttl);
    if (cr.kind == CACHE_RRSET) {
      /* The RRset's RRSIGs go with it; a wildcard's proof (NSEC/NSEC3 and
       * their RRSIGs) to the authority section. */
      ldns_rr_list *own = ldns_rr_list_new(), *proof = ldns_rr_list_new();
      for (size_t i = 0; cr.sigs && i < ldns_rr_list_rr_count(cr.sigs); i++) {
        ldns_rr *rr = ldns_rr_list_rr(cr.sigs, i);
        bool mine = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
                    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == it->qtype;
        ldns_rr_list_push_rr(mine ? own : proof, rr);
      }
      iter__set_answer_sigs(it, cr.rrs, own);
      iter__set_proof(it, proof);
      ldns_rr_list_free(own);
      ldns_rr_list_free(proof);
      iter__finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    } else {
      iter__set_answer(it, NULL);
      if (ldns_rr_list_rr_count(cr.rrs)) iter__set_authority(it, ldns_rr_list_rr(cr.rrs, 0));
      iter__set_proof(it, cr.sigs);
      iter__finish(it, cr.kind == CACHE_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR,
                   EDE_NONE, NULL);
    }
    cr_clear(&cr);
    return;
  }
  rc = it->qtype == LDNS_RR_TYPE_CNAME ? -1 : lookup(it, cur, LDNS_RR_TYPE_CNAME, now, &cr);
  if (rc == LOOKUP_WAIT) return;
  if (rc == 0) {
    bool ok = cr.kind == CACHE_RRSET && ldns_rr_list_rr_count(cr.rrs) > 0 &&
              ldns_rr_rd_count(ldns_rr_list_rr(cr.rrs, 0)) == 1;
    it->cur_sec = cr.sec;
    if (ok && iter__follow(it, ldns_rr_list_rr(cr.rrs, 0), cr.sigs, iter__cached_source(it, cur))) {
      cr_clear(&cr);
      return; /* stay in IS_CACHE at the target */
    }
    cr_clear(&cr);
    if (ok) return; /* finished by iter__follow() */
  }
  if (st_cache_above(it, now)) return;
  if (st_aggressive(it, now)) return;
  if (it->stale_mode) iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_NONE, NULL); /* nothing kept */
  else if (iter__want_fetch(it, cur)) iter__st_fetch(it, act);
  else it->state = IS_FIND_ZONE;
}

/* ---- FIND_ZONE, SELECT ----------------------------------------------------------- */

static void st_find_zone(iter_t *it) {
  ldns_rdf *z = ldns_rdf_clone(iter__current(it));
  /* A DS lives on the parent's side of a cut (RFC 4035 3.1.4.1). */
  if (it->qtype == LDNS_RR_TYPE_DS && ldns_dname_label_count(z) > 0) {
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  int64_t now = iter__now_sec(it);
  while (it->nocache && ldns_dname_label_count(z) > 0) { /* straight to the root */
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  for (;;) {
    if (ldns_dname_label_count(z) == 0) break;
    struct cache_result cr;
    if (cache_lookup(it->env->cache, z, LDNS_RR_TYPE_NS, CACHE_RANK_REFERRAL, now, &cr) == 0) {
      if (cr.kind == CACHE_RRSET) {
        iter__load_zone(it, z, cr.rrs, NULL);
        ldns_rr_list_deep_free(cr.rrs);
        if (iter__zone_usable(it)) {
          ldns_rdf_deep_free(z);
          it->state = IS_SELECT;
          return;
        }
      } else {
        ldns_rr_list_deep_free(cr.rrs);
      }
    }
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  /* The root: hints. */
  iter__load_zone(it, z, it->env->hints->ns, it->env->hints->addrs);
  ldns_rdf_deep_free(z);
  it->state = IS_SELECT;
}

/* Lowest score among candidates not failed and below the try limit; among
 * equals, a random one. Returns -1 if none. */
static int pick_candidate(iter_t *it) {
  if (it->retry_same >= 0) {
    int i = it->retry_same;
    it->retry_same = -1;
    if ((size_t)i < it->ncands && !it->cands[i].failed) return i;
  }
  uint64_t now = iter__mono_ms(it);
  int best = -1;
  uint32_t best_score = UINT32_MAX;
  for (size_t i = 0; i < it->ncands; i++) {
    struct candidate *c = &it->cands[i];
    if (c->failed || c->tries >= MAX_TRIES) continue;
    uint32_t s = servers_score(it->env->servers, (struct sockaddr *)&c->addr, now);
    s += 2000u * c->tries + iter__random(it) % 8; /* untried first, then jitter */
    if (s < best_score) {
      best_score = s;
      best = (int)i;
    }
  }
  return best;
}

void iter__fail_zone(iter_t *it) {
  char zone[256];
  iter__set_answer(it, NULL);
  iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY,
               "no reachable authority for %s (%s)", name_str(it->zone, zone, sizeof zone),
               it->last_failure ? it->last_failure : "no usable server address");
}

/* The name exists by the cache's word (data or NODATA for type A). */
static bool known_to_exist(const iter_t *it, const ldns_rdf *name, int64_t now) {
  struct cache_result cr;
  if (it->nocache ||
      cache_lookup(it->env->cache, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, now, &cr) != 0)
    return false;
  bool exists = cr.kind != CACHE_NXDOMAIN;
  ldns_rr_list_deep_free(cr.rrs);
  return exists;
}

/* What to ask the zone next (RFC 9156): one label more than is known to
 * exist below it, for the first QMIN_ONE_LABEL steps, then steps that
 * reach the full name within QMIN_MAX_QUERIES; type A, which every server
 * handles. Names the cache knows exist are stepped over without a query.
 * The last query is the full name with the type asked. */
static void plan_query(iter_t *it) {
  const ldns_rdf *cur = iter__current(it);
  size_t total = ldns_dname_label_count(cur);
  it->sent_type = it->qtype;
  it->sent_minimised = false;
  if (it->env->cfg->qmin != QMIN_OFF && !it->qmin_full) {
    int64_t now = iter__now_sec(it);
    size_t labels = it->qmin_labels;
    while (it->qmin_count < QMIN_MAX_QUERIES) {
      size_t step = 1;
      if (it->qmin_count >= QMIN_ONE_LABEL) {
        size_t left = QMIN_MAX_QUERIES - it->qmin_count;
        step = (total - labels + left - 1) / left;
      }
      labels += step;
      if (labels >= total) break;
      ldns_rdf *n = ldns_dname_clone_from(cur, total - labels);
      if (n && !known_to_exist(it, n, now)) {
        it->sent = n;
        it->sent_type = LDNS_RR_TYPE_A;
        it->sent_minimised = true;
        return;
      }
      ldns_rdf_deep_free(n);
      it->qmin_labels = labels;
    }
  }
  it->sent = ldns_rdf_clone(cur);
}

static void st_select(iter_t *it, struct iter_action *act) {
  if (*it->budget == 0) {
    iter__set_answer(it, NULL);
    iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER,
                 "upstream query limit of %u reached (max-upstream-queries)",
                 it->env->cfg->max_upstream_queries);
    return;
  }
  const struct iter_config *cfg = it->env->cfg;
  uint32_t budget_left = UINT32_MAX;
  if (cfg->zone_timeout_budget_ms) {
    budget_left = cfg->zone_timeout_budget_ms > it->zone_waited_ms
                      ? cfg->zone_timeout_budget_ms - it->zone_waited_ms : 0;
  }
  if (it->zone_timeouts >= cfg->zone_max_timeouts || budget_left < 50) {
    iter__fail_zone(it);
    return;
  }
  int i = pick_candidate(it);
  if (i >= 0) {
    struct candidate *c = &it->cands[i];
    if (!it->sent) plan_query(it);
    c->tries++;
    (*it->budget)--;
    it->res.upstream_queries++;
    it->cur = (size_t)i;
    it->cur_edns = !servers_no_edns(it->env->servers, (struct sockaddr *)&c->addr);
    act->kind = IA_SEND;
    if (it->sent_minimised) COUNT(it, qmin_minimised);
    if (it->trace) {
      it->trace_idx = trace_begin(it->trace, it->depth, it->sent, it->sent_type, it->zone,
                                  (struct sockaddr *)&c->addr, c->tcp, iter__mono_us(it));
      if (it->trace_idx >= 0) it->trace->q[it->trace_idx].minimised = it->sent_minimised;
    }
    act->addr = (struct sockaddr *)&c->addr;
    act->addrlen = c->addrlen;
    act->qname = it->sent;
    act->qtype = it->sent_type;
    act->zone = it->zone;
    act->tcp = c->tcp;
    act->edns = it->cur_edns;
    act->timeout_ms = servers_rto(it->env->servers, (struct sockaddr *)&c->addr);
    if (c->tcp) act->timeout_ms *= 2; /* connection set-up costs a round trip */
    if (act->timeout_ms > budget_left) act->timeout_ms = budget_left;
    it->cur_timeout_ms = act->timeout_ms;
    it->state = IS_WAIT;
    return;
  }
  /* No address to try: look up the NS names (glueless delegation), several
   * at once, bounded by depth; or wait for those already out. */
  if (it->subs_pending) {
    it->state = IS_WAIT_SUB;
    return;
  }
  if (it->depth < it->env->cfg->max_depth) {
    for (size_t k = 0; k < it->nns && act->nsub < ITER_SUB_MAX; k++) {
      struct ns_entry *e = &it->ns[k];
      if (e->addr_known || e->in_zone) continue;
      e->addr_known = true;
      act->sub_names[act->nsub++] = e->name;
    }
  }
  if (!act->nsub) {
    iter__fail_zone(it);
    return;
  }
  act->kind = IA_SUB;
  act->qtype = it->env->cfg->ipv4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
  act->sub_gen = it->zone_gen;
  it->subs_pending = (uint32_t)act->nsub;
  it->state = IS_WAIT_SUB;
}

/* ---- public API ---------------------------------------------------------- */

#define ITER_POOL 32

struct iter_pool {
  iter_t *free[ITER_POOL];
  size_t n;
};

iter_pool_t *iter_pool_new(void) { return calloc(1, sizeof(struct iter_pool)); }

void iter_pool_free(iter_pool_t *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) free(p->free[i]);
  free(p);
}

iter_t *iter_new(const struct iter_env *env, const ldns_rdf *qname, ldns_rr_type qtype,
                 uint32_t depth, uint32_t *budget) {
  iter_pool_t *pool = env->pool;
  iter_t *it = pool && pool->n ? pool->free[--pool->n] : malloc(sizeof *it);
  if (!it) return NULL;
  memset(it, 0, sizeof *it);
  it->env = env;
  it->qtype = qtype;
  it->depth = depth;
  it->own_budget = env->cfg->max_upstream_queries;
  it->budget = budget ? budget : &it->own_budget;
  chain_init(&it->chain, qname, env->cfg->max_chain_length);
  it->answer_chain = ldns_rr_list_new();
  it->hop_start_us = iter__mono_us(it);
  it->state = IS_CACHE;
  it->retry_same = -1;
  it->res.ede = EDE_NONE;
  it->res.rcode = LDNS_RCODE_SERVFAIL;
  it->validate = env->cfg->dnssec && depth == 0 && env->anchors;
  return it;
}

void iter_free(iter_t *it) {
  if (!it) return;
  clear_zone(it);
  iter__forget_sent(it);
  if (it->flat_owner) ldns_rdf_deep_free(it->flat_owner);
  iter__dnssec_clear(it);
  chain_free(&it->chain);
  ldns_rr_list_deep_free(it->answer_chain);
  iter__fetch_clear(it);
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
  iter_pool_t *pool = it->env->pool;
  if (pool && pool->n < ITER_POOL) pool->free[pool->n++] = it;
  else free(it);
}

void iter_next(iter_t *it, struct iter_action *act) {
  memset(act, 0, sizeof *act);
  for (;;) {
    switch (it->state) {
    case IS_CACHE:
      st_cache(it, act);
      if (it->state == IS_WAIT_FETCH) return;
      break;
    case IS_FIND_ZONE: st_find_zone(it); break;
    case IS_SELECT:
      st_select(it, act);
      if (it->state == IS_WAIT || it->state == IS_WAIT_SUB) return;
      break;
    case IS_TRUST:
      iter__st_trust(it, act);
      return;
    case IS_WAIT:
    case IS_WAIT_SUB:
    case IS_WAIT_FETCH:
    case IS_WAIT_TRUST:
      act->kind = IA_NONE; /* the driver must deliver an event first */
      return;
    case IS_DONE:
      act->kind = IA_DONE;
      return;
    }
  }
}

void iter_on_timeout(iter_t *it) {
  if (it->state != IS_WAIT) return;
  struct candidate *c = &it->cands[it->cur];
  servers_record_timeout(it->env->servers, (struct sockaddr *)&c->addr, iter__mono_ms(it));
  it->zone_timeouts++;
  it->zone_waited_ms += it->cur_timeout_ms;
  it->last_failure = "all servers timed out";
  it->state = IS_SELECT;
  if (it->trace) TRACE_END(it, "timeout after %u ms", it->cur_timeout_ms);
}

void iter_on_error(iter_t *it, const char *why) {
  if (it->state != IS_WAIT) return;
  if (it->trace) TRACE_END(it, "error: %s", why);
  it->cands[it->cur].failed = true;
  it->last_failure = why;
  it->state = IS_SELECT;
}

void iter_on_sub_done(iter_t *it, const struct iter_result *sub, uint32_t gen) {
  if (it->state == IS_DONE || gen != it->zone_gen || !it->subs_pending) return;
  it->subs_pending--;
  bool found = sub && sub->rcode == LDNS_RCODE_NOERROR && add_candidates(it, sub->answer);
  /* Go on at the first address; with none yet, when the last lookup ends. */
  if (it->state == IS_WAIT_SUB && (found || !it->subs_pending)) it->state = IS_SELECT;
}

void iter_on_deadline(iter_t *it) {
  if (it->state == IS_DONE) return;
  it->res.timed_out = true;
  char zone[256];
  iter__set_answer(it, NULL);
  iter__finish(it, LDNS_RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY,
               "resolution deadline reached while asking %s (%s)",
               it->zone ? name_str(it->zone, zone, sizeof zone) : ".",
               it->last_failure ? it->last_failure : "no answer yet");
}

const struct iter_result *iter_result(const iter_t *it) { return &it->res; }

const chain_t *iter_chain(const iter_t *it) { return &it->chain; }

ldns_rr_type iter_qtype(const iter_t *it) { return it->qtype; }

void iter_set_trace(iter_t *it, struct trace *t, bool nocache) {
  it->trace = t;
  it->trace_idx = -1;
  it->nocache = nocache;
}

struct trace *iter_trace(const iter_t *it) { return it->trace; }

bool iter_nocache(const iter_t *it) { return it->nocache; }

void iter_set_refresh(iter_t *it) { it->refresh = true; }

void iter_set_cd(iter_t *it) { it->validate = false; }

void iter_set_stale(iter_t *it, uint32_t stale_ttl) {
  it->stale_mode = true;
  it->stale_ttl = stale_ttl;
}

bool iter_done(const iter_t *it) { return it->state == IS_DONE; }
