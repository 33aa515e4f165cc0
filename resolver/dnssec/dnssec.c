/* Chain-of-trust checks; see dnssec.h. */
#include "resolver/dnssec/dnssec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

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
