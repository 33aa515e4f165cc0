/* The walk from a trust anchor down to a zone's keys; see trust.h. */
#include "resolver/dnssec/trust.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/dnssec/denial.h"
#include "resolver/dnssec/dnssec.h"
#include "resolver/lib/name.h"

enum phase {
  PH_ANCHOR_KEYS, /* DNSKEY of the anchor's zone */
  PH_DS,          /* DS of `child`, signed by `zone` */
  PH_KEYS,        /* DNSKEY of `child`, checked against `ds` */
  PH_DONE,
};

struct trust_walk {
  const struct ta_entry *anchor; /* the closest anchor (outlives the walk) */
  time_t now;
  enum phase phase;
  ldns_rdf *target;   /* canonical copy of the zone asked for */
  ldns_rdf *zone;     /* zone whose keys are trusted; where the walk ended */
  ldns_rdf *child;    /* the name below zone being looked at */
  ldns_rr_list *keys; /* zone's verified DNSKEY RRset (deep copy) */
  ldns_rr_list *ds;   /* child's verified DS RRset (deep copy) */
  struct sec_result res;
  uint32_t ttl;
  bool ttl_set;
  bool pending; /* a fetch was handed out and not answered yet */
  unsigned fetches, max_fetches;
};

/* ---- small helpers ------------------------------------------------------- */

static ldns_rdf *canonical_clone(const ldns_rdf *name) {
  ldns_rdf *c = ldns_rdf_clone(name);
  if (c) ldns_dname2canonical(c);
  return c;
}

static void finish(trust_walk_t *w, enum sec_state st, int ede, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void finish(trust_walk_t *w, enum sec_state st, int ede, const char *fmt, ...) {
  w->phase = PH_DONE;
  w->pending = false;
  w->res.state = st;
  w->res.ede = st == SEC_BOGUS ? ede : -1;
  w->res.why[0] = 0;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->res.why, sizeof w->res.why, fmt, ap);
    va_end(ap);
  }
}

/* Ends with a verdict from dnssec.c, keeping its EDE and reason. */
static void finish_with(trust_walk_t *w, const struct sec_result *r) {
  w->phase = PH_DONE;
  w->pending = false;
  w->res = *r;
  if (r->state != SEC_BOGUS) w->res.ede = -1;
}

/* The walk ends at `name` (the zone proven unsigned or failing). */
static void end_at(trust_walk_t *w, const ldns_rdf *name) {
  if (w->zone == name) return;
  ldns_rdf *c = canonical_clone(name);
  if (!c) return; /* keep the old one rather than none */
  ldns_rdf_deep_free(w->zone);
  w->zone = c;
}

static void ttl_min(trust_walk_t *w, uint32_t ttl) {
  if (!w->ttl_set || ttl < w->ttl) w->ttl = ttl;
  w->ttl_set = true;
}

static void ttl_rrset(trust_walk_t *w, const ldns_rr_list *set) {
  for (size_t i = 0; set && i < ldns_rr_list_rr_count(set); i++)
    ttl_min(w, ldns_rr_ttl(ldns_rr_list_rr(set, i)));
}

static bool has_keytag(const ldns_rr_list *keys, uint16_t tag) {
  for (size_t i = 0; keys && i < ldns_rr_list_rr_count(keys); i++) {
    const ldns_rr *k = ldns_rr_list_rr(keys, i);
    if (ldns_rr_get_type(k) == LDNS_RR_TYPE_DNSKEY && ldns_calc_keytag(k) == tag) return true;
  }
  return false;
}

/* A cached result must not outlive the signatures it rests on: cap the TTL
 * at the earliest expiration among the RRSIGs over (owner, type) by signer
 * that are valid now and made by one of keys (we are not told which one
 * verified, so take the earliest that could have). RRSIG times are serial
 * numbers (RFC 4034 3.1.5). */
static void ttl_sigs(trust_walk_t *w, const ldns_rr_list *sigs, const ldns_rdf *owner,
                     ldns_rr_type type, const ldns_rdf *signer, const ldns_rr_list *keys) {
  uint32_t now = (uint32_t)w->now;
  ldns_rr_list *own = dnssec_sigs_for(sigs, owner, type);
  for (size_t i = 0; own && i < ldns_rr_list_rr_count(own); i++) {
    const ldns_rr *s = ldns_rr_list_rr(own, i);
    if (!name_equal(ldns_rr_rrsig_signame(s), signer) ||
        !has_keytag(keys, ldns_rdf2native_int16(ldns_rr_rrsig_keytag(s))))
      continue;
    uint32_t exp = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(s));
    uint32_t inc = ldns_rdf2native_int32(ldns_rr_rrsig_inception(s));
    int32_t left = (int32_t)(exp - now), since = (int32_t)(now - inc);
    if (left > 0 && since >= 0) ttl_min(w, (uint32_t)left);
  }
  ldns_rr_list_free(own);
}

/* The records of list with this owner and type: a new shallow list. */
static ldns_rr_list *select_rrs(const ldns_rr_list *list, const ldns_rdf *owner,
                                ldns_rr_type type) {
  ldns_rr_list *out = ldns_rr_list_new();
  for (size_t i = 0; out && list && i < ldns_rr_list_rr_count(list); i++) {
    ldns_rr *rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) == type && name_equal(ldns_rr_owner(rr), owner))
      ldns_rr_list_push_rr(out, rr);
  }
  return out;
}

/* The name below w->zone one label closer to the target. */
static ldns_rdf *next_below(const trust_walk_t *w, const ldns_rdf *from) {
  size_t have = ldns_dname_label_count(from), want = ldns_dname_label_count(w->target);
  return ldns_dname_clone_from(w->target, (uint16_t)(want - have - 1));
}

/* Descend from `from` (the zone, or a name inside it proven no delegation). */
static void step_down(trust_walk_t *w, const ldns_rdf *from) {
  if (name_equal(from, w->target)) {
    /* The target is a name inside w->zone, no zone of its own: w->zone's
     * keys are the ones that speak for it. */
    finish(w, SEC_SECURE, -1, NULL);
    return;
  }
  ldns_rdf *c = next_below(w, from);
  if (!c) {
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return;
  }
  ldns_rdf_deep_free(w->child);
  w->child = c;
  w->phase = PH_DS;
}

/* w->zone's keys are trusted: done, or on to the next label. */
static void zone_trusted(trust_walk_t *w) {
  if (name_equal(w->zone, w->target)) {
    finish(w, SEC_SECURE, -1, NULL);
    return;
  }
  step_down(w, w->zone);
}

/* ---- the steps ----------------------------------------------------------- */

static void on_anchor_keys(trust_walk_t *w, const ldns_rr_list *rrset,
                           const ldns_rr_list *sigs) {
  struct sec_result r;
  ldns_rr_list *keys = select_rrs(rrset, w->zone, LDNS_RR_TYPE_DNSKEY);
  dnssec_verify_dnskeys(w->zone, keys, sigs, w->anchor->ds, w->anchor->keys, w->now, &r);
  if (r.state != SEC_SECURE) {
    ldns_rr_list_free(keys);
    finish_with(w, &r);
    return;
  }
  ttl_rrset(w, keys);
  ttl_sigs(w, sigs, w->zone, LDNS_RR_TYPE_DNSKEY, w->zone, keys);
  w->keys = ldns_rr_list_clone(keys);
  ldns_rr_list_free(keys);
  if (!w->keys) {
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return;
  }
  zone_trusted(w);
}

static void on_child_keys(trust_walk_t *w, const ldns_rr_list *rrset, const ldns_rr_list *sigs) {
  struct sec_result r;
  ldns_rr_list *keys = select_rrs(rrset, w->child, LDNS_RR_TYPE_DNSKEY);
  dnssec_verify_dnskeys(w->child, keys, sigs, w->ds, NULL, w->now, &r);
  end_at(w, w->child);
  if (r.state != SEC_SECURE) {
    ldns_rr_list_free(keys);
    finish_with(w, &r);
    return;
  }
  ttl_rrset(w, keys);
  ttl_sigs(w, sigs, w->child, LDNS_RR_TYPE_DNSKEY, w->child, keys);
  ldns_rr_list_deep_free(w->keys);
  ldns_rr_list_deep_free(w->ds);
  w->ds = NULL;
  w->keys = ldns_rr_list_clone(keys);
  ldns_rr_list_free(keys);
  if (!w->keys) {
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return;
  }
  zone_trusted(w);
}

static void on_ds_present(trust_walk_t *w, ldns_rr_list *ds, const ldns_rr_list *sigs) {
  struct sec_result r;
  /* Only the RRSIGs over this RRset: another's failure is no reason. */
  ldns_rr_list *own = dnssec_sigs_for(sigs, w->child, LDNS_RR_TYPE_DS);
  dnssec_verify_rrset(ds, own, w->zone, w->keys, w->now, NULL, &r);
  ldns_rr_list_free(own);
  if (r.state != SEC_SECURE) {
    end_at(w, w->child);
    finish_with(w, &r);
    return;
  }
  ttl_rrset(w, ds);
  ttl_sigs(w, sigs, w->child, LDNS_RR_TYPE_DS, w->zone, w->keys);
  bool usable = false;
  for (size_t i = 0; i < ldns_rr_list_rr_count(ds); i++)
    usable |= dnssec_ds_supported(ldns_rr_list_rr(ds, i));
  if (!usable) { /* RFC 4035 5.2: algorithms we cannot check make it insecure */
    char n[256];
    end_at(w, w->child);
    finish(w, SEC_INSECURE, -1, "zone %s: no DS with a supported algorithm and digest",
           name_str(w->child, n, sizeof n));
    return;
  }
  w->ds = ldns_rr_list_clone(ds);
  if (!w->ds) {
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return;
  }
  w->phase = PH_KEYS;
}

/* The NSEC/NSEC3 RRsets of denial owned in w->zone whose signatures verify
 * with its keys (a new shallow list); *failed gets the verdict of the first
 * that did not. Their signatures cap the TTL. NULL when out of memory, and
 * the walk is over. */
static ldns_rr_list *verified_denial(trust_walk_t *w, const ldns_rr_list *sigs,
                                     const ldns_rr_list *denial, struct sec_result *failed) {
  size_t count = denial ? ldns_rr_list_rr_count(denial) : 0;
  ldns_rr_list *ok = ldns_rr_list_new();
  bool *seen = calloc(count ? count : 1, sizeof *seen);
  failed->state = SEC_INDETERMINATE;
  failed->ede = -1;
  if (!ok || !seen) {
    ldns_rr_list_free(ok);
    free(seen);
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(denial, i);
    ldns_rr_type t = ldns_rr_get_type(rr);
    if (seen[i] || (t != LDNS_RR_TYPE_NSEC && t != LDNS_RR_TYPE_NSEC3) ||
        !name_in(ldns_rr_owner(rr), w->zone))
      continue;
    /* One RRset per owner and type. */
    ldns_rr_list *set = ldns_rr_list_new();
    for (size_t j = i; set && j < count; j++) {
      const ldns_rr *o = ldns_rr_list_rr(denial, j);
      if (ldns_rr_get_type(o) == t && name_equal(ldns_rr_owner(o), ldns_rr_owner(rr))) {
        seen[j] = true;
        ldns_rr_list_push_rr(set, (ldns_rr *)o);
      }
    }
    if (!set) continue;
    struct sec_result r;
    ldns_rr_list *own = dnssec_sigs_for(sigs, ldns_rr_owner(rr), t);
    dnssec_verify_rrset(set, own, w->zone, w->keys, w->now, NULL, &r);
    ldns_rr_list_free(own);
    if (r.state == SEC_SECURE) {
      ldns_rr_list_push_rr_list(ok, set);
      ttl_sigs(w, sigs, ldns_rr_owner(rr), t, w->zone, w->keys);
    } else if (failed->state == SEC_INDETERMINATE) {
      *failed = r;
    }
    ldns_rr_list_free(set);
  }
  free(seen);
  return ok;
}

/* No proof for the DS of child: bogus, with the failing record's reason
 * when one failed. */
static void no_ds_proof(trust_walk_t *w, const struct sec_result *failed, const char *what,
                        const struct denial_why *why) {
  char z[256], n[256];
  name_str(w->zone, z, sizeof z);
  name_str(w->child, n, sizeof n);
  end_at(w, w->child);
  if (failed->state == SEC_BOGUS)
    finish_with(w, failed);
  else
    finish(w, SEC_BOGUS, EDE_NSEC_MISSING, "zone %s: no proof that %s %s (%.150s)", z, n, what,
           why->text);
}

/* NODATA for the DS of child: insecure delegation, a name inside the zone,
 * or bogus. Only denial records whose signatures verify with the zone's
 * keys count; a failing one is the reason given when nothing proves it. */
static void on_ds_nodata(trust_walk_t *w, const ldns_rr_list *sigs, const ldns_rr_list *denial) {
  char z[256], n[256];
  name_str(w->zone, z, sizeof z);
  name_str(w->child, n, sizeof n);
  struct sec_result failed;
  ldns_rr_list *ok = verified_denial(w, sigs, denial, &failed);
  if (!ok) return;
  struct denial_why why;
  bool inside = false;
  enum denial_result d = denial_ds(w->child, w->zone, ok, &inside, &why);
  if (inside) {
    ttl_rrset(w, ok);
    ldns_rr_list_free(ok);
    step_down(w, w->child); /* no cut here: same zone, one label further */
    return;
  }
  if (d != DENIAL_NOT_PROVEN) {
    ttl_rrset(w, ok);
    ldns_rr_list_free(ok);
    end_at(w, w->child);
    if (d == DENIAL_PROVEN)
      finish(w, SEC_INSECURE, -1, "zone %s: delegation to %s has no DS", z, n);
    else
      finish(w, SEC_INSECURE, -1, "zone %s: DS of %s: %.150s", z, n, why.text);
    return;
  }
  ldns_rr_list_free(ok);
  no_ds_proof(w, &failed, "has no DS", &why);
}

/* NXDOMAIN for the DS of child: proven, child does not exist in the zone,
 * so neither does the target below it: the zone speaks for it (its data
 * must be this zone's, signed by it). An opt-out span over the next closer
 * name may hide an unsigned delegation: insecure. */
static void on_ds_nxdomain(trust_walk_t *w, const ldns_rr_list *sigs,
                           const ldns_rr_list *denial) {
  char z[256], n[256];
  struct sec_result failed;
  ldns_rr_list *ok = verified_denial(w, sigs, denial, &failed);
  if (!ok) return;
  struct denial_why why;
  enum denial_result d = denial_nxdomain(w->child, w->zone, ok, &why);
  if (d == DENIAL_NOT_PROVEN) {
    ldns_rr_list_free(ok);
    no_ds_proof(w, &failed, "does not exist", &why);
    return;
  }
  ttl_rrset(w, ok);
  ldns_rr_list_free(ok);
  if (d == DENIAL_PROVEN) {
    finish(w, SEC_SECURE, -1, NULL); /* the target is (not) in w->zone */
    return;
  }
  name_str(w->zone, z, sizeof z);
  end_at(w, w->child);
  finish(w, SEC_INSECURE, -1, "zone %s: %s: %.150s", z, name_str(w->child, n, sizeof n),
         why.text);
}

static void on_ds(trust_walk_t *w, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                  const ldns_rr_list *denial) {
  ldns_rr_list *ds = select_rrs(rrset, w->child, LDNS_RR_TYPE_DS);
  if (!ds) {
    finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "out of memory");
    return;
  }
  if (ldns_rr_list_rr_count(ds))
    on_ds_present(w, ds, sigs);
  else
    on_ds_nodata(w, sigs, denial);
  ldns_rr_list_free(ds);
}

/* ---- the interface ------------------------------------------------------- */

trust_walk_t *trust_walk_new_from(const trust_anchors_t *ta, const ldns_rdf *target, time_t now,
                                  const ldns_rdf *zone, const ldns_rr_list *keys, uint32_t ttl) {
  trust_walk_t *w = trust_walk_new(ta, target, now);
  if (!w || w->phase != PH_ANCHOR_KEYS || !zone || !keys || !name_in(target, zone) ||
      !name_in(zone, w->anchor->zone))
    return w; /* done already, or a start that is no shortcut: from the anchor */
  ldns_rr_list *copy = ldns_rr_list_clone(keys);
  if (!copy) return w;
  end_at(w, zone);
  w->keys = copy;
  ttl_min(w, ttl);
  size_t below = ldns_dname_label_count(w->target) - ldns_dname_label_count(w->zone);
  w->max_fetches = 2 * (unsigned)below;
  zone_trusted(w);
  return w;
}

trust_walk_t *trust_walk_new(const trust_anchors_t *ta, const ldns_rdf *zone, time_t now) {
  trust_walk_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->now = now;
  w->res.state = SEC_INDETERMINATE;
  w->res.ede = -1;
  w->target = canonical_clone(zone);
  w->zone = canonical_clone(zone);
  if (!w->target || !w->zone) {
    trust_walk_free(w);
    return NULL;
  }
  bool negative = false;
  w->anchor = ta_closest(ta, w->target, &negative);
  char n[256];
  name_str(w->target, n, sizeof n);
  if (negative) {
    finish(w, SEC_INSECURE, -1, "zone %s: under a negative trust anchor", n);
    return w;
  }
  if (!w->anchor || !name_in(w->target, w->anchor->zone)) {
    finish(w, SEC_INSECURE, -1, "zone %s: no trust anchor above it", n);
    return w;
  }
  end_at(w, w->anchor->zone);
  size_t below = ldns_dname_label_count(w->target) - ldns_dname_label_count(w->anchor->zone);
  w->max_fetches = 2 * (unsigned)below + 1;
  w->phase = PH_ANCHOR_KEYS;
  return w;
}

void trust_walk_free(trust_walk_t *w) {
  if (!w) return;
  ldns_rdf_deep_free(w->target);
  ldns_rdf_deep_free(w->zone);
  ldns_rdf_deep_free(w->child);
  ldns_rr_list_deep_free(w->keys);
  ldns_rr_list_deep_free(w->ds);
  free(w);
}

void trust_next(trust_walk_t *w, struct trust_action *act) {
  act->kind = TRUST_DONE;
  act->qname = NULL;
  act->qtype = 0;
  if (w->phase == PH_DONE) return;
  if (!w->pending) {
    if (w->fetches >= w->max_fetches) { /* defensive: the steps never need more */
      char n[256];
      finish(w, SEC_BOGUS, EDE_DNSSEC_BOGUS, "zone %s: more than %u fetches for its keys",
             name_str(w->target, n, sizeof n), w->max_fetches);
      return;
    }
    w->fetches++;
    w->pending = true;
  }
  act->kind = TRUST_FETCH;
  act->qname = w->phase == PH_ANCHOR_KEYS ? w->zone : w->child;
  act->qtype = w->phase == PH_DS ? LDNS_RR_TYPE_DS : LDNS_RR_TYPE_DNSKEY;
}

void trust_on_answer(trust_walk_t *w, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                     const ldns_rr_list *denial) {
  if (w->phase == PH_DONE || !w->pending) return;
  w->pending = false;
  switch (w->phase) {
  case PH_ANCHOR_KEYS: on_anchor_keys(w, rrset, sigs); break;
  case PH_DS: on_ds(w, rrset, sigs, denial); break;
  case PH_KEYS: on_child_keys(w, rrset, sigs); break;
  case PH_DONE: break;
  }
}

void trust_on_nxdomain(trust_walk_t *w, const ldns_rr_list *sigs, const ldns_rr_list *denial) {
  if (w->phase == PH_DONE || !w->pending) return;
  if (w->phase != PH_DS) {
    trust_on_failure(w, "NXDOMAIN");
    return;
  }
  w->pending = false;
  on_ds_nxdomain(w, sigs, denial);
}

void trust_on_failure(trust_walk_t *w, const char *why) {
  if (w->phase == PH_DONE || !w->pending) return;
  bool ds = w->phase == PH_DS;
  const ldns_rdf *name = w->phase == PH_ANCHOR_KEYS ? w->zone : w->child;
  char n[256];
  name_str(name, n, sizeof n);
  end_at(w, name);
  finish(w, SEC_BOGUS, ds ? EDE_DNSSEC_BOGUS : EDE_DNSKEY_MISSING,
         "zone %s: fetching %s/%s failed: %.80s", n, n, ds ? "DS" : "DNSKEY",
         why ? why : "no reason given");
}

const struct sec_result *trust_result(const trust_walk_t *w) { return &w->res; }

const ldns_rr_list *trust_keys(const trust_walk_t *w) {
  return w->res.state == SEC_SECURE ? w->keys : NULL;
}

const ldns_rdf *trust_zone(const trust_walk_t *w) { return w->zone; }

uint32_t trust_ttl(const trust_walk_t *w) { return w->ttl_set ? w->ttl : 0; }

unsigned trust_fetches(const trust_walk_t *w) { return w->fetches; }
