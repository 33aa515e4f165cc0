/* Trust anchors and chain-of-trust checks; see dnssec.h. */
#include "resolver/dnssec/dnssec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

const char *sec_state_name(enum sec_state s) {
  static const char *names[] = {"indeterminate", "insecure", "secure", "bogus"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ---- trust anchors ---------------------------------------------------------- */

/* The root zone's key-signing keys as published by IANA: KSK-2017 (20326)
 * and KSK-2024 (38696), both algorithm 8 with SHA-256 digests. */
static const char *const root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

struct trust_anchors {
  struct ta_entry *e;
  size_t n, cap;
  ldns_rdf **neg; /* negative anchors */
  size_t nneg, capneg;
};

trust_anchors_t *ta_new(bool with_root) {
  trust_anchors_t *ta = calloc(1, sizeof *ta);
  if (!ta || !with_root) return ta;
  for (size_t i = 0; i < sizeof root_anchors / sizeof root_anchors[0]; i++) {
    if (ta_add(ta, root_anchors[i])) {
      ta_free(ta);
      return NULL;
    }
  }
  return ta;
}

void ta_free(trust_anchors_t *ta) {
  if (!ta) return;
  for (size_t i = 0; i < ta->n; i++) {
    ldns_rdf_deep_free(ta->e[i].zone);
    ldns_rr_list_deep_free(ta->e[i].ds);
    ldns_rr_list_deep_free(ta->e[i].keys);
    free(ta->e[i].source);
  }
  for (size_t i = 0; i < ta->nneg; i++) ldns_rdf_deep_free(ta->neg[i]);
  free(ta->e);
  free(ta->neg);
  free(ta);
}

static struct ta_entry *entry_for(trust_anchors_t *ta, const ldns_rdf *zone, bool create) {
  for (size_t i = 0; i < ta->n; i++)
    if (name_equal(ta->e[i].zone, zone)) return &ta->e[i];
  if (!create) return NULL;
  if (ta->n == ta->cap) {
    size_t cap = ta->cap ? ta->cap * 2 : 4;
    struct ta_entry *e = realloc(ta->e, cap * sizeof *e);
    if (!e) return NULL;
    ta->e = e;
    ta->cap = cap;
  }
  struct ta_entry *e = &ta->e[ta->n];
  e->zone = ldns_rdf_clone(zone);
  e->ds = ldns_rr_list_new();
  e->keys = ldns_rr_list_new();
  e->source = NULL;
  if (!e->zone || !e->ds || !e->keys) {
    ldns_rdf_deep_free(e->zone);
    ldns_rr_list_free(e->ds);
    ldns_rr_list_free(e->keys);
    return NULL;
  }
  ldns_dname2canonical(e->zone);
  ta->n++;
  return e;
}

const char *ta_add(trust_anchors_t *ta, const char *line) {
  ldns_rr *rr = NULL;
  if (ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL) != LDNS_STATUS_OK || !rr)
    return "expected a DS or DNSKEY record (NAME [TTL] [IN] DS|DNSKEY ...)";
  ldns_rr_type t = ldns_rr_get_type(rr);
  if ((t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) ||
      ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
    ldns_rr_free(rr);
    return "only DS and DNSKEY records of class IN are trust anchors";
  }
  struct ta_entry *e = entry_for(ta, ldns_rr_owner(rr), true);
  if (!e) {
    ldns_rr_free(rr);
    return "out of memory";
  }
  ldns_rr_list_push_rr(t == LDNS_RR_TYPE_DS ? e->ds : e->keys, rr);
  return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int ta_load_file(trust_anchors_t *ta, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  /* Anchors from the file replace built-in ones of the same domain: read
   * into a fresh set first, so a bad file changes nothing. */
  trust_anchors_t *add = ta_new(false);
  char line[8192];
  unsigned long no = 0;
  int rc = add ? 0 : fail(err, errlen, "%s: out of memory", path);
  while (rc == 0 && fgets(line, sizeof line, f)) {
    no++;
    char *p = line + strspn(line, " \t");
    p[strcspn(p, "\r\n")] = 0;
    if (!*p || *p == ';' || *p == '#') continue;
    const char *why = ta_add(add, p);
    if (why) rc = fail(err, errlen, "%s:%lu: %s (got '%.80s')", path, no, why, p);
  }
  fclose(f);
  if (rc == 0 && add->n == 0) rc = fail(err, errlen, "%s: no DS or DNSKEY records", path);
  for (size_t i = 0; rc == 0 && i < add->n; i++) {
    struct ta_entry *old = entry_for(ta, add->e[i].zone, false);
    add->e[i].source = strdup(path);
    if (old) { /* replaced */
      ldns_rr_list_deep_free(old->ds);
      ldns_rr_list_deep_free(old->keys);
      free(old->source);
      old->ds = add->e[i].ds;
      old->keys = add->e[i].keys;
      old->source = add->e[i].source;
      ldns_rdf_deep_free(add->e[i].zone);
    } else {
      if (ta->n == ta->cap) {
        size_t cap = ta->cap ? ta->cap * 2 : 4;
        struct ta_entry *e = realloc(ta->e, cap * sizeof *e);
        if (!e) abort(); /* start-up only */
        ta->e = e;
        ta->cap = cap;
      }
      ta->e[ta->n++] = add->e[i];
    }
    add->e[i] = (struct ta_entry){0};
  }
  if (add && rc == 0) add->n = 0; /* moved into ta */
  ta_free(add);
  return rc;
}

const char *ta_add_negative(trust_anchors_t *ta, const char *name) {
  ldns_rdf *n = NULL;
  if (ldns_str2rdf_dname(&n, name) != LDNS_STATUS_OK || !n) return "expected a domain name";
  if (ta->nneg == ta->capneg) {
    size_t cap = ta->capneg ? ta->capneg * 2 : 4;
    ldns_rdf **neg = realloc(ta->neg, cap * sizeof *neg);
    if (!neg) {
      ldns_rdf_deep_free(n);
      return "out of memory";
    }
    ta->neg = neg;
    ta->capneg = cap;
  }
  ta->neg[ta->nneg++] = n;
  return NULL;
}

const struct ta_entry *ta_closest(const trust_anchors_t *ta, const ldns_rdf *name,
                                  bool *negative) {
  const struct ta_entry *best = NULL;
  size_t best_labels = 0, neg_labels = 0;
  bool neg = false;
  for (size_t i = 0; ta && i < ta->n; i++) {
    size_t l = ldns_dname_label_count(ta->e[i].zone);
    if (name_in(name, ta->e[i].zone) && (!best || l > best_labels)) {
      best = &ta->e[i];
      best_labels = l;
    }
  }
  for (size_t i = 0; ta && i < ta->nneg; i++) {
    size_t l = ldns_dname_label_count(ta->neg[i]);
    if (name_in(name, ta->neg[i]) && (!neg || l > neg_labels)) {
      neg = true;
      neg_labels = l;
    }
  }
  if (negative) *negative = neg && (!best || neg_labels >= best_labels);
  return best;
}

size_t ta_count(const trust_anchors_t *ta) { return ta ? ta->n : 0; }

const struct ta_entry *ta_entry_at(const trust_anchors_t *ta, size_t i) {
  return ta && i < ta->n ? &ta->e[i] : NULL;
}

size_t ta_count_negative(const trust_anchors_t *ta) { return ta ? ta->nneg : 0; }

const ldns_rdf *ta_negative_at(const trust_anchors_t *ta, size_t i) {
  return ta && i < ta->nneg ? ta->neg[i] : NULL;
}

bool ta_root_has_keytag(const trust_anchors_t *ta, uint16_t tag) {
  for (size_t i = 0; ta && i < ta->n; i++) {
    const struct ta_entry *e = &ta->e[i];
    if (ldns_dname_label_count(e->zone) != 0) continue;
    for (size_t k = 0; k < ldns_rr_list_rr_count(e->ds); k++) {
      const ldns_rr *ds = ldns_rr_list_rr(e->ds, k);
      if (ldns_rr_rd_count(ds) >= 1 && ldns_rdf2native_int16(ldns_rr_rdf(ds, 0)) == tag)
        return true;
    }
    for (size_t k = 0; k < ldns_rr_list_rr_count(e->keys); k++)
      if (ldns_calc_keytag(ldns_rr_list_rr(e->keys, k)) == tag) return true;
  }
  return false;
}

const char *ta_entry_keys(const struct ta_entry *e, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  const ldns_rr_list *lists[2] = {e->ds, e->keys};
  for (int l = 0; l < 2; l++) {
    size_t n = ldns_rr_list_rr_count(lists[l]);
    for (size_t i = 0; i < n && used < len; i++) {
      const ldns_rr *rr = ldns_rr_list_rr(lists[l], i);
      int w;
      if (l == 0 && ldns_rr_rd_count(rr) >= 3)
        w = snprintf(buf + used, len - used, "%s%s%u/%u/%u", used ? ", " : "", i ? "" : "DS ",
                     ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
                     ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
                     ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)));
      else if (l == 1 && ldns_rr_rd_count(rr) >= 4)
        w = snprintf(buf + used, len - used, "%s%s%u/%u", used ? ", " : "", i ? "" : "DNSKEY ",
                     ldns_calc_keytag(rr), ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)));
      else
        continue;
      if (w < 0) break;
      used += (size_t)w < len - used ? (size_t)w : len - used - 1;
    }
  }
  return buf;
}

/* ---- verification ----------------------------------------------------------- */

static void verdict(struct sec_result *out, enum sec_state st, int ede, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void verdict(struct sec_result *out, enum sec_state st, int ede, const char *fmt, ...) {
  out->state = st;
  out->ede = st == SEC_BOGUS ? ede : -1;
  out->why[0] = 0;
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->why, sizeof out->why, fmt, ap);
    va_end(ap);
  }
}

/* Key algorithms ldns verifies here (RFC 8624's MUSTs and the older ones
 * RFC 8624 still lets a validator accept). */
static bool algorithm_supported(uint8_t alg) {
  switch (alg) {
  case LDNS_RSASHA1:
  case LDNS_RSASHA1_NSEC3:
  case LDNS_RSASHA256:
  case LDNS_RSASHA512:
  case LDNS_ECDSAP256SHA256:
  case LDNS_ECDSAP384SHA384:
  case LDNS_ED25519:
#if LDNS_BUILD_CONFIG_USE_ED448
  case LDNS_ED448:
#endif
    return true;
  default:
    return false;
  }
}

bool dnssec_ds_supported(const ldns_rr *ds) {
  if (ldns_rr_get_type(ds) != LDNS_RR_TYPE_DS || ldns_rr_rd_count(ds) < 4) return false;
  uint8_t alg = ldns_rdf2native_int8(ldns_rr_rdf(ds, 1));
  uint8_t digest = ldns_rdf2native_int8(ldns_rr_rdf(ds, 2));
  return algorithm_supported(alg) &&
         (digest == LDNS_SHA1 || digest == LDNS_SHA256 || digest == LDNS_SHA384);
}

static uint16_t key_flags(const ldns_rr *key) {
  return ldns_rr_rd_count(key) >= 4 ? ldns_rdf2native_int16(ldns_rr_rdf(key, 0)) : 0;
}

ldns_rr_list *dnssec_sigs_for(const ldns_rr_list *list, const ldns_rdf *owner,
                              ldns_rr_type type) {
  ldns_rr_list *out = NULL;
  for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); i++) {
    ldns_rr *rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) < 9 ||
        !name_equal(ldns_rr_owner(rr), owner) ||
        ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) != type)
      continue;
    if (!out) out = ldns_rr_list_new();
    ldns_rr_list_push_rr(out, rr);
  }
  return out;
}

/* The failure worth reporting among several tried signatures: the one
 * that got furthest (a matching key with a bad time beats no key). */
static int status_rank(ldns_status st) {
  switch (st) {
  case LDNS_STATUS_CRYPTO_SIG_EXPIRED:
  case LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED:
    return 3;
  case LDNS_STATUS_CRYPTO_BOGUS:
    return 2;
  default:
    return 1;
  }
}

static void describe_failure(struct sec_result *out, ldns_status st, const char *what,
                             const char *zone) {
  switch (st) {
  case LDNS_STATUS_CRYPTO_SIG_EXPIRED:
    verdict(out, SEC_BOGUS, EDE_SIGNATURE_EXPIRED, "zone %s: the RRSIG of %s has expired", zone,
            what);
    break;
  case LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED:
    verdict(out, SEC_BOGUS, EDE_SIGNATURE_NOT_YET_VALID,
            "zone %s: the RRSIG of %s is not valid yet", zone, what);
    break;
  case LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY:
    verdict(out, SEC_BOGUS, EDE_DNSKEY_MISSING,
            "zone %s: no trusted DNSKEY matches the RRSIG of %s", zone, what);
    break;
  default:
    verdict(out, SEC_BOGUS, EDE_DNSSEC_BOGUS, "zone %s: the RRSIG of %s does not verify (%s)",
            zone, what, ldns_get_errorstr_by_id(st));
    break;
  }
}

/* Try each RRSIG of sigs made by zone over rrset with each of keys. OK on
 * the first that verifies; else the most telling failure. Keys without
 * the Zone Key bit never verify anything (RFC 4034 2.1.1): *no_zone_bit
 * says one would have matched. */
static ldns_status try_sigs(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                            const ldns_rdf *zone, const ldns_rr_list *keys, time_t now,
                            bool *any_sig, bool *no_zone_bit, uint8_t *labels) {
  ldns_status worst = LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
  *any_sig = false;
  *no_zone_bit = false;
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); i++) {
    ldns_rr *sig = ldns_rr_list_rr(sigs, i);
    if (!name_equal(ldns_rr_rrsig_signame(sig), zone)) continue;
    *any_sig = true;
    uint16_t tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig));
    uint8_t alg = ldns_rdf2native_int8(ldns_rr_rdf(sig, 1));
    for (size_t k = 0; keys && k < ldns_rr_list_rr_count(keys); k++) {
      ldns_rr *key = ldns_rr_list_rr(keys, k);
      if (ldns_rr_get_type(key) != LDNS_RR_TYPE_DNSKEY || ldns_calc_keytag(key) != tag ||
          ldns_rdf2native_int8(ldns_rr_dnskey_algorithm(key)) != alg)
        continue;
      if (!(key_flags(key) & LDNS_KEY_ZONE_KEY)) {
        *no_zone_bit = true;
        continue;
      }
      ldns_status st =
          ldns_verify_rrsig_time((ldns_rr_list *)rrset, sig, key, now);
      if (st == LDNS_STATUS_OK) {
        if (labels) *labels = ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig));
        return LDNS_STATUS_OK;
      }
      if (status_rank(st) > status_rank(worst)) worst = st;
    }
  }
  return worst;
}

void dnssec_verify_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                         const ldns_rdf *zone, const ldns_rr_list *keys, time_t now,
                         uint8_t *labels, struct sec_result *out) {
  char z[256], what[300], owner[256], type[32];
  const ldns_rr *first = ldns_rr_list_rr_count(rrset) ? ldns_rr_list_rr(rrset, 0) : NULL;
  if (labels) *labels = 0;
  name_str(zone, z, sizeof z);
  if (!first) {
    verdict(out, SEC_BOGUS, EDE_DNSSEC_BOGUS, "zone %s: nothing to verify", z);
    return;
  }
  name_str(ldns_rr_owner(first), owner, sizeof owner);
  char *t = ldns_rr_type2str(ldns_rr_get_type(first));
  snprintf(type, sizeof type, "%s", t ? t : "?");
  free(t);
  snprintf(what, sizeof what, "%s/%s", owner, type);
  bool any = false, no_zbit = false;
  /* Only the RRSIGs over this RRset count (the list may hold others). */
  ldns_rr_list *own = dnssec_sigs_for(sigs, ldns_rr_owner(first), ldns_rr_get_type(first));
  ldns_status st = try_sigs(rrset, own, zone, keys, now, &any, &no_zbit, labels);
  if (own) ldns_rr_list_free(own);
  if (st == LDNS_STATUS_OK) {
    verdict(out, SEC_SECURE, -1, NULL);
  } else if (!any) {
    verdict(out, SEC_BOGUS, EDE_RRSIGS_MISSING, "zone %s: no RRSIG by the zone covers %s", z,
            what);
  } else if (no_zbit && st == LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY) {
    verdict(out, SEC_BOGUS, EDE_NO_ZONE_KEY_BIT_SET,
            "zone %s: the DNSKEY that made the RRSIG of %s lacks the Zone Key bit", z, what);
  } else {
    describe_failure(out, st, what, z);
  }
}

/* Does key match one of ds (a DS computed from it) or of anchors (the same
 * key)? */
static bool key_trusted(const ldns_rr *key, const ldns_rr_list *ds,
                        const ldns_rr_list *anchors) {
  for (size_t i = 0; ds && i < ldns_rr_list_rr_count(ds); i++) {
    const ldns_rr *d = ldns_rr_list_rr(ds, i);
    if (dnssec_ds_supported(d) && ldns_rr_compare_ds(d, key)) return true;
  }
  for (size_t i = 0; anchors && i < ldns_rr_list_rr_count(anchors); i++)
    if (ldns_rr_compare(ldns_rr_list_rr(anchors, i), key) == 0 ||
        ldns_rr_compare_ds(ldns_rr_list_rr(anchors, i), key))
      return true;
  return false;
}

void dnssec_verify_dnskeys(const ldns_rdf *zone, const ldns_rr_list *dnskeys,
                           const ldns_rr_list *sigs, const ldns_rr_list *ds,
                           const ldns_rr_list *anchor_keys, time_t now, struct sec_result *out) {
  char z[256];
  name_str(zone, z, sizeof z);
  size_t nkeys = dnskeys ? ldns_rr_list_rr_count(dnskeys) : 0;
  if (!nkeys) {
    verdict(out, SEC_BOGUS, EDE_DNSKEY_MISSING, "zone %s: no DNSKEY records", z);
    return;
  }
  bool usable_ds = anchor_keys && ldns_rr_list_rr_count(anchor_keys) > 0;
  for (size_t i = 0; ds && i < ldns_rr_list_rr_count(ds); i++)
    usable_ds |= dnssec_ds_supported(ldns_rr_list_rr(ds, i));
  if (!usable_ds) { /* RFC 4035 5.2: algorithms we cannot check make it insecure */
    verdict(out, SEC_INSECURE, -1, "zone %s: no DS with a supported algorithm and digest", z);
    return;
  }
  ldns_rr_list *trusted = ldns_rr_list_new();
  bool no_zone_bit = false;
  for (size_t i = 0; i < nkeys; i++) {
    ldns_rr *key = ldns_rr_list_rr(dnskeys, i);
    if (ldns_rr_get_type(key) != LDNS_RR_TYPE_DNSKEY || !key_trusted(key, ds, anchor_keys))
      continue;
    if (!(key_flags(key) & LDNS_KEY_ZONE_KEY)) {
      no_zone_bit = true; /* RFC 4034 2.1.1: not a zone key, must not be used */
      continue;
    }
    ldns_rr_list_push_rr(trusted, key);
  }
  if (!ldns_rr_list_rr_count(trusted)) {
    ldns_rr_list_free(trusted);
    if (no_zone_bit)
      verdict(out, SEC_BOGUS, EDE_NO_ZONE_KEY_BIT_SET,
              "zone %s: the DNSKEY matching the DS lacks the Zone Key bit", z);
    else
      verdict(out, SEC_BOGUS, EDE_DNSKEY_MISSING, "zone %s: no DNSKEY matches the DS", z);
    return;
  }
  ldns_rr_list *own = dnssec_sigs_for(sigs, zone, LDNS_RR_TYPE_DNSKEY);
  bool any = false, no_zbit = false;
  ldns_status st = try_sigs(dnskeys, own, zone, trusted, now, &any, &no_zbit, NULL);
  ldns_rr_list_free(own);
  ldns_rr_list_free(trusted);
  if (st == LDNS_STATUS_OK) verdict(out, SEC_SECURE, -1, NULL);
  else if (!any)
    verdict(out, SEC_BOGUS, EDE_RRSIGS_MISSING, "zone %s: the DNSKEY RRset is not signed", z);
  else {
    char what[300];
    snprintf(what, sizeof what, "%s/DNSKEY", z);
    describe_failure(out, st, what, z);
    /* Signatures by other keys only: the one the DS vouches for made none
     * (Unbound calls this RRSIGs Missing too). */
    if (st == LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY)
      verdict(out, SEC_BOGUS, EDE_RRSIGS_MISSING,
              "zone %.200s: no RRSIG over the DNSKEY RRset by a key matching the DS", z);
  }
}
