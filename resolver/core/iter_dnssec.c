/*
 * DNSSEC in the iterator: each RRset of a response (or an entry the shared
 * tier handed over unchecked) is judged with the keys of its own signer, or
 * of the zone holding its owner when unsigned; those keys are at hand, in
 * the key cache, or established by a trust walk that the iterator asks its
 * driver for (IA_TRUST) and takes up again in iter_on_trust. Here too: the
 * answer's overall security state and the root key sentinel (RFC 8509).
 * Apart from the states because it is a subject of its own, read and
 * reviewed against RFC 4033-4035 and 5155 rather than against the state
 * machine. No I/O: the walk's fetches are the driver's sub-lookups.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resolver/core/iter_priv.h"
#include "resolver/dnssec/denial.h"
#include "resolver/lib/name.h"

#define ITER_MAX_WALKS 16 /* trust walks per response: one needing more is bogus */

static void kz_clear(struct kz_entry *e) {
  ldns_rdf_deep_free(e->target);
  ldns_rdf_deep_free(e->zone);
  ldns_rr_list_deep_free(e->keys);
  memset(e, 0, sizeof *e);
}

void iter__forget_want(iter_t *it) {
  ldns_rdf_deep_free(it->want_zone);
  ldns_rdf_deep_free(it->want_from);
  ldns_rr_list_deep_free(it->want_keys);
  it->want_zone = it->want_from = NULL;
  it->want_keys = NULL;
  it->want_ttl = 0;
}

void iter__dnssec_clear(iter_t *it) {
  for (size_t i = 0; i < it->nkz; i++) kz_clear(&it->kz[i]);
  iter__forget_want(it);
  if (it->pending) ldns_pkt_free(it->pending);
}

/* ---- the answer's state ----------------------------------------------------- */

/* The answer's state: SECURE only when every hop and the final data are;
 * a hop not validated makes it indeterminate, an unsigned one insecure.
 * Failures are indeterminate (a bogus one says so in its EDE). */
static enum sec_state overall_sec(const iter_t *it, ldns_pkt_rcode rcode) {
  if (!it->validate || !it->chain.has_final ||
      (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN &&
       rcode != LDNS_RCODE_YXDOMAIN))
    return SEC_INDETERMINATE;
  enum sec_state st = (enum sec_state)it->chain.final.sec;
  for (size_t i = 0; i < it->chain.n; i++) {
    enum sec_state h = (enum sec_state)it->chain.hops[i].step.sec;
    if (h == SEC_INDETERMINATE || st == SEC_INDETERMINATE) st = SEC_INDETERMINATE;
    else if (h == SEC_INSECURE) st = SEC_INSECURE;
  }
  return st == SEC_BOGUS ? SEC_INDETERMINATE : st;
}

/* A failure the validator made: the data at the last step was bogus. */
static bool failed_bogus(const iter_t *it, ldns_pkt_rcode rcode) {
  return it->validate && rcode == LDNS_RCODE_SERVFAIL && it->chain.has_final &&
         it->chain.final.sec == SEC_BOGUS;
}

enum sec_state iter__answer_sec(const iter_t *it, ldns_pkt_rcode rcode) {
  return failed_bogus(it, rcode) ? SEC_BOGUS : overall_sec(it, rcode);
}

/* RFC 8509: a validated answer to root-key-sentinel-is-ta-NNNNN.* (or
 * -not-ta-NNNNN.*) is turned into SERVFAIL when key tag NNNNN is not (is)
 * one of the root trust anchors in force, so a client can tell which root
 * keys its resolvers trust. True when it must fail. */
bool iter__key_sentinel_fails(const iter_t *it) {
  static const char is_ta[] = "root-key-sentinel-is-ta-", not_ta[] = "root-key-sentinel-not-ta-";
  if (it->depth || it->res.sec != SEC_SECURE || !it->env->anchors) return false;
  const uint8_t *w = ldns_rdf_data(it->chain.start);
  size_t len = w[0];
  char label[64];
  for (size_t i = 0; i < len && i < sizeof label - 1; i++) label[i] = (char)name_lower(w[1 + i]);
  label[len < sizeof label ? len : sizeof label - 1] = 0;
  bool want;
  const char *digits;
  if (len == sizeof is_ta - 1 + 5 && !strncmp(label, is_ta, sizeof is_ta - 1)) {
    want = true;
    digits = label + sizeof is_ta - 1;
  } else if (len == sizeof not_ta - 1 + 5 && !strncmp(label, not_ta, sizeof not_ta - 1)) {
    want = false;
    digits = label + sizeof not_ta - 1;
  } else {
    return false;
  }
  unsigned tag = 0;
  for (int i = 0; i < 5; i++) {
    if (digits[i] < '0' || digits[i] > '9') return false;
    tag = tag * 10 + (unsigned)(digits[i] - '0');
  }
  if (tag > 65535) return false;
  return ta_root_has_keytag(it->env->anchors, (uint16_t)tag) != want;
}

/* ---- keys ------------------------------------------------------------------ */

/* A name's closest trust anchor (NULL: none, or a negative one is closer). */
static const struct ta_entry *anchor_of(const iter_t *it, const ldns_rdf *name) {
  bool negative = false;
  const struct ta_entry *ta = ta_closest(it->env->anchors, name, &negative);
  return negative ? NULL : ta;
}

static struct kz_entry *kz_add(iter_t *it, const ldns_rdf *target, const ldns_rdf *zone,
                               const struct sec_result *r, const ldns_rr_list *keys) {
  struct kz_entry *e;
  if (it->nkz < KZ_MAX) {
    e = &it->kz[it->nkz++];
  } else {
    e = &it->kz[it->kz_next];
    it->kz_next = (it->kz_next + 1) % KZ_MAX;
    kz_clear(e);
  }
  e->target = ldns_rdf_clone(target);
  e->zone = ldns_rdf_clone(zone);
  e->r = *r;
  e->keys = keys && r->state == SEC_SECURE ? ldns_rr_list_clone(keys) : NULL;
  return e;
}

/* The keys that judge data at `target` (a signer, or an unsigned RRset's
 * owner): at hand already; none needed (no trust anchor above it, or a
 * negative one: insecure); or from the key cache, an entry for target
 * itself, or an insecure or bogus zone above it (which decides for
 * everything below, up to the anchor). NULL when a trust walk is needed:
 * it->want_* then say to where, and from which trusted zone above it. */
static const struct kz_entry *keys_for(iter_t *it, const ldns_rdf *target) {
  for (size_t i = 0; i < it->nkz; i++)
    if (name_equal(it->kz[i].target, target)) return &it->kz[i];
  const struct ta_entry *ta = anchor_of(it, target);
  if (!ta) {
    struct sec_result r = {.state = SEC_INSECURE, .ede = -1};
    return kz_add(it, target, target, &r, NULL);
  }
  iter__forget_want(it);
  size_t floor = ldns_dname_label_count(ta->zone);
  ldns_rdf *anc = ldns_rdf_clone(target);
  int64_t now = iter__now_sec(it);
  const struct kz_entry *found = NULL;
  while (anc && it->env->keys) {
    struct key_entry ke;
    if (keycache_lookup(it->env->keys, anc, now, &ke) == 0) {
      if (name_equal(anc, target) || ke.result.state != SEC_SECURE) {
        found = kz_add(it, target, anc, &ke.result, ke.keys);
      } else { /* a trusted zone above: walk on from there */
        it->want_from = ldns_rdf_clone(anc);
        it->want_keys = ke.keys;
        it->want_ttl = ke.ttl;
        ke.keys = NULL;
      }
      if (ke.keys) ldns_rr_list_deep_free(ke.keys);
      break;
    }
    if (ldns_dname_label_count(anc) <= floor) break;
    ldns_rdf *up = ldns_dname_left_chop(anc);
    ldns_rdf_deep_free(anc);
    anc = up;
  }
  if (anc) ldns_rdf_deep_free(anc);
  if (!found) it->want_zone = ldns_rdf_clone(target);
  return found;
}

static void bogus_text(struct sec_result *out, int ede, const ldns_rdf *zone, const char *why) {
  char z[256];
  out->state = SEC_BOGUS;
  out->ede = ede;
  snprintf(out->why, sizeof out->why, "zone %s: %s", name_str(zone, z, sizeof z), why);
}

/* Can `signer` speak for data at `owner`? It must lie at or above the
 * owner, at or below the zone asked, and at or below the owner's closest
 * trust anchor (a zone above an anchor cannot sign for names under it). */
static bool signer_usable(const iter_t *it, const ldns_rdf *owner, const ldns_rdf *signer) {
  if (!signer || ldns_rdf_get_type(signer) != LDNS_RDF_TYPE_DNAME || !name_in(owner, signer) ||
      !name_in(signer, it->judge_zone))
    return false;
  bool negative;
  const struct ta_entry *ta = ta_closest(it->env->anchors, owner, &negative);
  return !ta || name_in(signer, ta->zone);
}

/* The first usable signer among these RRSIGs over data at owner; NULL: the
 * data is unsigned, as far as validation goes. */
static const ldns_rdf *usable_signer(const iter_t *it, const ldns_rdf *owner,
                                     const ldns_rr_list *sigs) {
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); i++) {
    const ldns_rdf *signer = ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, i));
    if (signer_usable(it, owner, signer)) return signer;
  }
  return NULL;
}

/* The response's NSEC/NSEC3 RRsets of `zone` whose signatures verify with
 * its keys (shallow list, never NULL); *failed gets the reason of the first
 * that did not. */
static ldns_rr_list *verified_nsecs(const struct resp_info *info, const struct kz_entry *kz,
                                    time_t now, struct sec_result *failed) {
  ldns_rr_list *out = ldns_rr_list_new();
  size_t n = info->nsecs ? ldns_rr_list_rr_count(info->nsecs) : 0;
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(info->nsecs, i);
    bool seen = !name_in(ldns_rr_owner(rr), kz->zone);
    for (size_t j = 0; j < i && !seen; j++) {
      const ldns_rr *o = ldns_rr_list_rr(info->nsecs, j);
      seen = ldns_rr_get_type(o) == ldns_rr_get_type(rr) &&
             name_equal(ldns_rr_owner(o), ldns_rr_owner(rr));
    }
    if (seen) continue;
    ldns_rr_list *set = resp_rrset(info->nsecs, ldns_rr_owner(rr), ldns_rr_get_type(rr));
    struct sec_result r;
    dnssec_verify_rrset(set, info->sigs, kz->zone, kz->keys, now, NULL, &r);
    if (r.state == SEC_SECURE) {
      for (size_t k = 0; k < ldns_rr_list_rr_count(set); k++)
        ldns_rr_list_push_rr(out, ldns_rr_list_rr(set, k));
    } else if (failed->state != SEC_BOGUS) {
      *failed = r;
    }
    ldns_rr_list_free(set);
  }
  return out;
}

/* The keys for data at owner, signed by `signer` (NULL: unsigned): false
 * when a trust walk is needed first. Else *kz is the entry, or NULL with
 * *out set when that entry already decides (insecure, bogus, or a signer
 * that is no zone). */
static bool keys_for_item(iter_t *it, const ldns_rdf *owner, const ldns_rdf *signer,
                          const struct kz_entry **kz, struct sec_result *out) {
  *kz = keys_for(it, signer ? signer : owner);
  if (!*kz) return false;
  if ((*kz)->r.state != SEC_SECURE) {
    *out = (*kz)->r;
    if (out->state != SEC_BOGUS) {
      out->state = SEC_INSECURE;
      out->ede = -1;
    }
    *kz = NULL;
  } else if (signer && !name_equal((*kz)->zone, signer)) {
    char o[256], sg[256], msg[240];
    snprintf(msg, sizeof msg, "the RRSIGs over %.90s name signer %.90s, no zone", name_str(owner, o, sizeof o),
             name_str(signer, sg, sizeof sg));
    bogus_text(out, EDE_DNSSEC_BOGUS, (*kz)->zone, msg);
    *kz = NULL;
  }
  return true;
}

/* ---- judging ---------------------------------------------------------------- */

/* The name a DS RRset (or a DS denial) at `name` speaks for: the parent
 * side of the cut (RFC 4035 3.1.4.1), so its anchor and its signer are
 * those above it. A view into name's bytes; the root stays the root. */
static ldns_rdf ds_side(const ldns_rdf *name) {
  ldns_rdf r = *name;
  const uint8_t *w = ldns_rdf_data(name);
  if (ldns_rdf_size(name) > 1 && w[0]) {
    ldns_rdf_set_data(&r, (void *)(w + w[0] + 1));
    ldns_rdf_set_size(&r, ldns_rdf_size(name) - w[0] - 1u);
  }
  return r;
}

/* One RRset of the response, judged with the keys of its signer (or of the
 * zone holding its owner), a wildcard expansion with its proof. False when
 * keys are missing (a walk is needed); else *out holds the verdict. */
static bool judge_rrset(iter_t *it, const ldns_rr_list *set, const struct resp_info *info,
                        time_t now, struct sec_result *out) {
  const ldns_rr *first = ldns_rr_list_rr(set, 0);
  const ldns_rdf *owner = ldns_rr_owner(first);
  ldns_rdf above = ds_side(owner);
  const ldns_rdf *at = ldns_rr_get_type(first) == LDNS_RR_TYPE_DS ? &above : owner;
  ldns_rr_list *own = iter__sigs_of(info, owner, ldns_rr_get_type(first));
  const ldns_rdf *signer = usable_signer(it, at, own);
  if (own) ldns_rr_list_free(own);
  const struct kz_entry *kz;
  if (!keys_for_item(it, at, signer, &kz, out)) return false;
  if (!kz) return true;
  uint8_t labels = 0;
  dnssec_verify_rrset(set, info->sigs, kz->zone, kz->keys, now, &labels, out);
  if (out->state != SEC_SECURE || labels >= ldns_dname_label_count(owner)) return true;
  struct sec_result nsec_fail = {.state = SEC_INDETERMINATE, .ede = -1};
  ldns_rr_list *vn = verified_nsecs(info, kz, now, &nsec_fail);
  struct denial_why why = {{0}};
  enum denial_result d = denial_wildcard_answer(owner, labels, kz->zone, vn, &why);
  if (d == DENIAL_OPTOUT || d == DENIAL_NSEC3_ITERATIONS) {
    out->state = SEC_INSECURE;
  } else if (d != DENIAL_PROVEN) {
    char o[256], msg[240];
    snprintf(msg, sizeof msg, "wildcard answer for %s without proof: %s",
             name_str(owner, o, sizeof o), why.text);
    bogus_text(out, ldns_rr_list_rr_count(vn) ? EDE_DNSSEC_BOGUS : EDE_NSEC_MISSING, kz->zone,
               msg);
  }
  ldns_rr_list_free(vn);
  return true;
}

/* A proven negative answer: its verified NSEC records (with their RRSIGs)
 * join the NSEC cache for aggressive use (RFC 8198), for as long as the
 * zone's negative TTL allows, and the zone's SOA is kept (secure) so an
 * answer synthesised from them has one. NSEC3 ranges are not used, as in
 * Unbound. */
static void keep_nsecs(iter_t *it, const struct resp_info *info, const ldns_rdf *zone,
                       const ldns_rr_list *vn) {
  if (!it->env->nsecs || !info->soa || ldns_rr_rd_count(info->soa) < 7 ||
      !name_equal(ldns_rr_owner(info->soa), zone))
    return;
  ldns_rr_list *l = ldns_rr_list_new();
  for (size_t i = 0; i < ldns_rr_list_rr_count(vn); i++) {
    ldns_rr *rr = ldns_rr_list_rr(vn, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC) continue;
    ldns_rr_list_push_rr(l, rr);
    ldns_rr_list *sigs = iter__sigs_of(info, ldns_rr_owner(rr), LDNS_RR_TYPE_NSEC);
    for (size_t k = 0; sigs && k < ldns_rr_list_rr_count(sigs); k++)
      ldns_rr_list_push_rr(l, ldns_rr_list_rr(sigs, k));
    if (sigs) ldns_rr_list_free(sigs);
  }
  if (ldns_rr_list_rr_count(l)) {
    int64_t now = iter__now_sec(it);
    uint32_t cap = ldns_rr_ttl(info->soa);
    uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(info->soa, 6));
    if (minimum < cap) cap = minimum;
    nseccache_store(it->env->nsecs, zone, l, cap, now);
    ldns_rr_list *soa = ldns_rr_list_new();
    ldns_rr_list_push_rr(soa, info->soa);
    ldns_rr_list *ssigs = iter__sigs_of(info, ldns_rr_owner(info->soa), LDNS_RR_TYPE_SOA);
    cache_store_rrset_sec(it->env->cache, soa, ssigs, CACHE_SEC_SECURE, CACHE_RANK_ANSWER, now,
                          NULL);
    if (ssigs) ldns_rr_list_free(ssigs);
    ldns_rr_list_free(soa);
  }
  ldns_rr_list_free(l);
}

/* The signer of a negative answer: one usable signer of the RRSIGs over
 * its SOA or its NSEC/NSEC3 records. */
static const ldns_rdf *denial_signer(const iter_t *it, const struct resp_info *info,
                                     const ldns_rdf *at) {
  for (size_t i = 0; info->sigs && i < ldns_rr_list_rr_count(info->sigs); i++) {
    const ldns_rr *sig = ldns_rr_list_rr(info->sigs, i);
    ldns_rr_type t = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
    const ldns_rdf *signer = ldns_rr_rrsig_signame(sig);
    if ((t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) &&
        signer_usable(it, at, signer))
      return signer;
  }
  return NULL;
}

/* A negative answer's proof, for `qtype`. A client's DS query at a name
 * that is no zone cut is an ordinary NODATA, proven by a record inside the
 * zone; a DS NODATA speaks for the parent side (ds_side). Unsigned, it is
 * judged by the zone its SOA names (when that zone can speak for the
 * name), else by the zone holding the name. */
static bool judge_denial(iter_t *it, const struct resp_info *info, ldns_rr_type qtype,
                         time_t now, struct sec_result *out) {
  const ldns_rdf *name = info->final_name;
  ldns_rdf above = ds_side(name);
  const ldns_rdf *at = qtype == LDNS_RR_TYPE_DS && info->cls == RESP_NODATA ? &above : name;
  const ldns_rdf *signer = denial_signer(it, info, at), *owner = at;
  if (!signer && info->soa && name_in(at, ldns_rr_owner(info->soa)) &&
      name_in(ldns_rr_owner(info->soa), it->judge_zone)) {
    const struct ta_entry *ta = anchor_of(it, at);
    if (!ta || name_in(ldns_rr_owner(info->soa), ta->zone)) owner = ldns_rr_owner(info->soa);
  }
  const struct kz_entry *kz;
  if (!keys_for_item(it, owner, signer, &kz, out)) return false;
  if (!kz) return true;
  struct sec_result nsec_fail = {.state = SEC_INDETERMINATE, .ede = -1};
  ldns_rr_list *vn = verified_nsecs(info, kz, now, &nsec_fail);
  struct denial_why why = {{0}};
  enum denial_result d;
  bool inside = false;
  if (info->cls == RESP_NXDOMAIN) {
    d = denial_nxdomain(name, kz->zone, vn, &why);
  } else if (qtype == LDNS_RR_TYPE_DS) {
    d = denial_ds(name, kz->zone, vn, &inside, &why);
  } else {
    d = denial_nodata(name, qtype, kz->zone, vn, &why);
    if (d == DENIAL_NOT_PROVEN &&
        denial_wildcard_nodata(name, qtype, kz->zone, vn, NULL) == DENIAL_PROVEN)
      d = DENIAL_PROVEN;
  }
  memset(out, 0, sizeof *out);
  out->ede = -1;
  if (d == DENIAL_PROVEN) {
    out->state = SEC_SECURE;
    keep_nsecs(it, info, kz->zone, vn);
  } else if (d == DENIAL_OPTOUT || d == DENIAL_NSEC3_ITERATIONS) {
    out->state = SEC_INSECURE;
  } else if (nsec_fail.state == SEC_BOGUS) {
    *out = nsec_fail;
  } else {
    char n[256], msg[240];
    snprintf(msg, sizeof msg, "%s for %s not proven: %s",
             info->cls == RESP_NXDOMAIN ? "NXDOMAIN" : "NODATA", name_str(name, n, sizeof n),
             why.text);
    bogus_text(out, EDE_NSEC_MISSING, kz->zone, msg);
  }
  ldns_rr_list_free(vn);
  return true;
}

static void verdicts_init(struct verdicts *v) {
  memset(v, 0, sizeof *v);
  v->bad.ede = -1;
}

/* Record one RRset's verdict; false when it is bogus (the first bogus
 * one is the answer's reason). */
static bool note_verdict(struct verdicts *v, uint8_t *slot, const struct sec_result *r) {
  *slot = (uint8_t)(r->state == SEC_BOGUS ? SEC_INDETERMINATE : r->state);
  if (r->state != SEC_BOGUS) return true;
  v->bogus = true;
  v->bad = *r;
  return false;
}

/* Does this response need judging before it is used? Answers, chains and
 * negative answers do; referrals are checked by the trust walk (DS) when
 * the child's keys are needed; a minimised query's answer only moves the
 * search on, unless its NXDOMAIN may end the lookup. */
static bool needs_keys(const iter_t *it, const struct resp_info *info) {
  if (!it->validate) return false;
  switch (info->cls) {
  case RESP_ANSWER:
  case RESP_CNAME:
  case RESP_NODATA:
  case RESP_YXDOMAIN:
    return !it->sent_minimised;
  case RESP_NXDOMAIN:
    return true;
  default:
    return false;
  }
}

/* Judge what a response says, RRset by RRset, each with its own signer's
 * keys: every CNAME and DNAME of the chain inside it, then the answer RRset
 * or a negative answer's proof for `qtype`. False when some keys are not
 * at hand (it->want_zone says whose; nothing is decided yet); else *v holds
 * the verdicts (all indeterminate when not validating). */
static bool judge(iter_t *it, const struct resp_info *info, ldns_rr_type qtype,
                  struct verdicts *v) {
  verdicts_init(v);
  if (!it->validate) return true;
  it->judge_zone = it->zone;
  time_t now = (time_t)iter__now_sec(it);
  struct sec_result r;
  for (size_t i = 0; i < info->ncnames; i++) {
    ldns_rr_list *one = ldns_rr_list_new();
    ldns_rr_list_push_rr(one, info->dnames[i] ? info->dnames[i] : info->cnames[i]);
    bool ready = judge_rrset(it, one, info, now, &r);
    ldns_rr_list_free(one);
    if (!ready) return false;
    if (!note_verdict(v, &v->hop[i], &r)) return true;
  }
  if (info->cls == RESP_ANSWER) {
    if (!judge_rrset(it, info->answer, info, now, &r)) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->cls == RESP_NODATA || info->cls == RESP_NXDOMAIN) {
    if (!judge_denial(it, info, qtype, now, &r)) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->cls == RESP_YXDOMAIN && info->yx_dname) {
    ldns_rr_list *one = ldns_rr_list_new();
    ldns_rr_list_push_rr(one, info->yx_dname);
    bool ready = judge_rrset(it, one, info, now, &r);
    ldns_rr_list_free(one);
    if (!ready) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->ncnames) {
    v->final = v->hop[info->ncnames - 1]; /* the chain goes on elsewhere */
  }
  return true;
}

bool iter__judge_response(iter_t *it, const ldns_pkt *resp, const struct resp_info *info,
                          struct verdicts *v) {
  verdicts_init(v);
  if (!needs_keys(it, info) || judge(it, info, it->sent_type, v)) {
    it->walks = 0; /* the bound is per response */
    return true;
  }
  if (++it->walks > ITER_MAX_WALKS) {
    struct sec_result r;
    bogus_text(&r, EDE_DNSSEC_BOGUS, it->zone,
               "the response needs the keys of more zones than a lookup may walk to");
    iter__fail_bogus(it, &r);
    return false;
  }
  it->pending = ldns_pkt_clone(resp);
  it->state = it->pending && it->want_zone ? IS_TRUST : IS_SELECT;
  return false;
}

/* The root name, for judging data no zone was asked for. */
static const ldns_rdf *root_name(void) {
  static uint8_t wire[1] = {0};
  static ldns_rdf root = {1, LDNS_RDF_TYPE_DNAME, wire};
  return &root;
}

/* An entry the shared tier handed over unchecked (no secret: whoever can
 * write to Redis could claim any state) is judged here like a response:
 * RRSIGs with its signer's keys, unsigned data by the zone holding it, a
 * negative entry by its proof. 1: cr->sec says the verdict, and the memory
 * tier keeps it; 0: keys are needed first (it->want_* set); -1: not usable
 * (bogus, or too many walks), so it is a miss. */
int iter__judge_cached(iter_t *it, const ldns_rdf *name, ldns_rr_type type,
                       struct cache_result *cr) {
  struct resp_info info;
  memset(&info, 0, sizeof info);
  info.final_name = name;
  info.sigs = ldns_rr_list_new();
  info.nsecs = ldns_rr_list_new();
  for (size_t i = 0; cr->sigs && i < ldns_rr_list_rr_count(cr->sigs); i++) {
    ldns_rr *rr = ldns_rr_list_rr(cr->sigs, i);
    ldns_rr_list_push_rr(ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG ? info.sigs : info.nsecs, rr);
  }
  it->judge_zone = root_name();
  time_t now = (time_t)iter__now_sec(it);
  struct sec_result r;
  bool ready;
  if (cr->kind == CACHE_RRSET && !ldns_rr_list_rr_count(cr->rrs)) {
    r.state = SEC_BOGUS; /* nothing to judge */
    ready = true;
  } else if (cr->kind == CACHE_RRSET) {
    info.cls = RESP_ANSWER;
    ready = judge_rrset(it, cr->rrs, &info, now, &r);
  } else {
    info.cls = cr->kind == CACHE_NXDOMAIN ? RESP_NXDOMAIN : RESP_NODATA;
    info.soa = ldns_rr_list_rr_count(cr->rrs) ? ldns_rr_list_rr(cr->rrs, 0) : NULL;
    ready = judge_denial(it, &info, type, now, &r);
  }
  ldns_rr_list_free(info.sigs);
  ldns_rr_list_free(info.nsecs);
  info.sigs = info.nsecs = NULL;
  if (!ready) return ++it->walks > ITER_MAX_WALKS ? -1 : 0;
  it->walks = 0;
  COUNT(it, shared_checked);
  if (r.state != SEC_SECURE && r.state != SEC_INSECURE) return -1;
  cr->sec = (uint8_t)r.state;
  int64_t t = iter__now_sec(it);
  if (cr->kind == CACHE_RRSET)
    cache_store_rrset_sec(it->env->cache, cr->rrs, cr->sigs, cr->sec, CACHE_RANK_ANSWER, t, NULL);
  else
    cache_store_negative_sec(it->env->cache, name, type, cr->kind == CACHE_NXDOMAIN, info.soa,
                             cr->sigs, cr->sec, CACHE_RANK_ANSWER, t, NULL);
  return 1;
}

/* A response that failed validation: SERVFAIL with the reason; nothing of
 * it is cached. */
void iter__fail_bogus(iter_t *it, const struct sec_result *v) {
  COUNT(it, dnssec_bogus);
  it->cur_sec = SEC_BOGUS;
  iter__final_step(it, CHAIN_SRC_NETWORK, 0);
  iter__set_answer_empty(it); /* nothing of a bogus chain goes out */
  iter__finish(it, LDNS_RCODE_SERVFAIL, v->ede >= 0 ? v->ede : EDE_DNSSEC_BOGUS, "%s", v->why);
}

/* ---- the trust-walk hand-off ---------------------------------------------- */

void iter__st_trust(iter_t *it, struct iter_action *act) {
  act->kind = IA_TRUST;
  act->zone = it->want_zone;
  act->trust_from = it->want_from;
  act->trust_keys = it->want_keys;
  act->trust_ttl = it->want_ttl;
  it->state = IS_WAIT_TRUST;
}

void iter_on_trust(iter_t *it, const struct sec_result *res, const ldns_rdf *zone,
                   const ldns_rr_list *keys) {
  if (it->state != IS_WAIT_TRUST) return;
  if (it->want_zone) kz_add(it, it->want_zone, zone ? zone : it->want_zone, res, keys);
  iter__forget_want(it);
  ldns_pkt *p = it->pending;
  it->pending = NULL;
  it->state = it->pending_cached ? IS_CACHE : IS_SELECT;
  it->pending_cached = false;
  if (p) {
    iter__handle_response(it, p);
    ldns_pkt_free(p);
  }
}
