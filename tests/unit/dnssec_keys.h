/*
 * Keys made in the test by ldns, for the DNSSEC unit tests (test_dnssec.c,
 * test_trust.c): sign what the case needs, with the validity it needs.
 * Header-only, like unit_helpers.h (include that first).
 */
#ifndef CHAINDNS_DNSSEC_KEYS_H
#define CHAINDNS_DNSSEC_KEYS_H

#include <ldns/ldns.h>

struct zkey {
  ldns_key *key;
  ldns_rr *rr; /* the DNSKEY */
};

/* An ECDSA P-256 key of zone with these flags (257 KSK, 256 ZSK). */
static inline struct zkey make_key(const char *zone, uint16_t flags) {
  struct zkey k;
  k.key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);
  assert_non_null(k.key);
  ldns_key_set_pubkey_owner(k.key, dn(zone));
  ldns_key_set_flags(k.key, flags);
  k.rr = ldns_key2rr(k.key);
  assert_non_null(k.rr);
  ldns_key_set_keytag(k.key, ldns_calc_keytag(k.rr));
  return k;
}

static inline void free_key(struct zkey *k) {
  ldns_key_deep_free(k->key);
  ldns_rr_free(k->rr);
}

#endif
