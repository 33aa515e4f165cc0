/*
 * Trust anchors (resolver/dnssec/anchors.c) and the chain-of-trust checks
 * (resolver/dnssec/dnssec.c), with keys made and RRsets signed in the test
 * by ldns, so every case (expired, not yet valid, wrong key, no Zone Key
 * bit, rollover) is built on purpose.
 */
#include "unit_helpers.h"

#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "dnssec_keys.h"
#include "resolver/dnssec/anchors.h"
#include "resolver/dnssec/dnssec.h"

#define NOW 1800000000 /* 2027-01-15 */
#define DAY 86400


/* RRSIGs over rrset by k, valid from inception to expiration. */
static ldns_rr_list *sign(ldns_rr_list *rrset, struct zkey *k, uint32_t inception,
                          uint32_t expiration) {
  ldns_key_set_inception(k->key, inception);
  ldns_key_set_expiration(k->key, expiration);
  ldns_key_list *kl = ldns_key_list_new();
  ldns_key_list_push_key(kl, k->key);
  ldns_rr_list *sigs = ldns_sign_public(rrset, kl);
  assert_non_null(sigs);
  ldns_key_list_set_key_count(kl, 0);
  ldns_key_list_free(kl);
  return sigs;
}

static ldns_rr_list *one(const ldns_rr *r) {
  ldns_rr_list *l = ldns_rr_list_new();
  ldns_rr_list_push_rr(l, ldns_rr_clone(r));
  return l;
}

/* The DS (SHA-256) of a key, alone in a list. */
static ldns_rr_list *ds_of(const ldns_rr *key) {
  ldns_rr_list *l = ldns_rr_list_new();
  ldns_rr_list_push_rr(l, ldns_key_rr2ds(key, LDNS_SHA256));
  return l;
}

static void test_rrset_verdicts(void **state) {
  (void)state;
  struct zkey zsk = make_key("example.com.", 256), other = make_key("example.com.", 256);
  ldns_rr_list *keys = one(zsk.rr);
  ldns_rdf *zone = dn("example.com.");
  ldns_rr_list *set = rrlist("www.example.com. 300 IN A 192.0.2.1",
                             "www.example.com. 300 IN A 192.0.2.2", NULL);
  struct sec_result r;
  uint8_t labels = 9;

  ldns_rr_list *sigs = sign(set, &zsk, NOW - DAY, NOW + DAY);
  dnssec_verify_rrset(set, sigs, zone, keys, NOW, &labels, &r);
  assert_int_equal(r.state, SEC_SECURE);
  assert_int_equal(r.ede, -1);
  assert_int_equal(labels, 3);
  /* TTLs count down in a cache: the original TTL in the RRSIG is what is signed. */
  for (size_t i = 0; i < ldns_rr_list_rr_count(set); i++)
    ldns_rr_set_ttl(ldns_rr_list_rr(set, i), 17);
  dnssec_verify_rrset(set, sigs, zone, keys, NOW, NULL, &r);
  assert_int_equal(r.state, SEC_SECURE);

  /* Outside the window, either side. */
  dnssec_verify_rrset(set, sigs, zone, keys, NOW + 2 * DAY, NULL, &r);
  assert_int_equal(r.state, SEC_BOGUS);
  assert_int_equal(r.ede, EDE_SIGNATURE_EXPIRED);
  assert_non_null(strstr(r.why, "www.example.com./A"));
  assert_non_null(strstr(r.why, "expired"));
  dnssec_verify_rrset(set, sigs, zone, keys, NOW - 2 * DAY, NULL, &r);
  assert_int_equal(r.ede, EDE_SIGNATURE_NOT_YET_VALID);

  /* Data changed after signing. */
  ldns_rr_list *forged = rrlist("www.example.com. 300 IN A 192.0.2.1",
                                "www.example.com. 300 IN A 192.0.2.66", NULL);
  dnssec_verify_rrset(forged, sigs, zone, keys, NOW, NULL, &r);
  assert_int_equal(r.state, SEC_BOGUS);
  assert_int_equal(r.ede, EDE_DNSSEC_BOGUS);

  /* Signed by a key the zone does not have. */
  ldns_rr_list *osigs = sign(set, &other, NOW - DAY, NOW + DAY);
  dnssec_verify_rrset(set, osigs, zone, keys, NOW, NULL, &r);
  assert_int_equal(r.ede, EDE_DNSKEY_MISSING);

  /* No signature at all, or one made by another zone. */
  dnssec_verify_rrset(set, NULL, zone, keys, NOW, NULL, &r);
  assert_int_equal(r.ede, EDE_RRSIGS_MISSING);
  ldns_rdf *parent = dn("com.");
  dnssec_verify_rrset(set, sigs, parent, keys, NOW, NULL, &r);
  assert_int_equal(r.ede, EDE_RRSIGS_MISSING);

  /* One good signature among bad ones is enough. */
  ldns_rr_list *mixed = ldns_rr_list_new();
  ldns_rr_list_push_rr_list(mixed, osigs);
  ldns_rr_list_push_rr_list(mixed, sigs);
  dnssec_verify_rrset(set, mixed, zone, keys, NOW, NULL, &r);
  assert_int_equal(r.state, SEC_SECURE);
  ldns_rr_list_free(mixed);

  ldns_rr_list_deep_free(sigs);
  ldns_rr_list_deep_free(osigs);
  ldns_rr_list_deep_free(forged);
  ldns_rr_list_deep_free(set);
  ldns_rr_list_deep_free(keys);
  ldns_rdf_deep_free(zone);
  ldns_rdf_deep_free(parent);
  free_key(&zsk);
  free_key(&other);
}

static void test_wildcard_labels(void **state) {
  (void)state;
  struct zkey zsk = make_key("example.com.", 256);
  ldns_rr_list *keys = one(zsk.rr);
  ldns_rdf *zone = dn("example.com.");
  ldns_rr_list *wild = rrlist("*.example.com. 300 IN TXT \"w\"", NULL);
  ldns_rr_list *sigs = sign(wild, &zsk, NOW - DAY, NOW + DAY);
  /* The answer to x.y.example.com., expanded from the wildcard. */
  ldns_rr_list *expanded = rrlist("x.y.example.com. 300 IN TXT \"w\"", NULL);
  ldns_rr *sig = ldns_rr_clone(ldns_rr_list_rr(sigs, 0));
  ldns_rdf_deep_free(ldns_rr_owner(sig));
  ldns_rr_set_owner(sig, dn("x.y.example.com."));
  ldns_rr_list *esigs = one(sig);
  struct sec_result r;
  uint8_t labels = 0;
  dnssec_verify_rrset(expanded, esigs, zone, keys, NOW, &labels, &r);
  assert_int_equal(r.state, SEC_SECURE);
  assert_int_equal(labels, 2); /* fewer than the owner's 4: a wildcard expansion */
  ldns_rr_free(sig);
  ldns_rr_list_deep_free(esigs);
  ldns_rr_list_deep_free(expanded);
  ldns_rr_list_deep_free(sigs);
  ldns_rr_list_deep_free(wild);
  ldns_rr_list_deep_free(keys);
  ldns_rdf_deep_free(zone);
  free_key(&zsk);
}

static void test_dnskey_verdicts(void **state) {
  (void)state;
  ldns_rdf *zone = dn("example.com.");
  struct zkey ksk = make_key("example.com.", 257), zsk = make_key("example.com.", 256);
  ldns_rr_list *dnskeys = ldns_rr_list_new();
  ldns_rr_list_push_rr(dnskeys, ldns_rr_clone(ksk.rr));
  ldns_rr_list_push_rr(dnskeys, ldns_rr_clone(zsk.rr));
  ldns_rr_list *ksigs = sign(dnskeys, &ksk, NOW - DAY, NOW + DAY);
  ldns_rr_list *zsigs = sign(dnskeys, &zsk, NOW - DAY, NOW + DAY);
  ldns_rr_list *ds = ds_of(ksk.rr);
  struct sec_result r;

  dnssec_verify_dnskeys(zone, dnskeys, ksigs, ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_SECURE);
  /* The same keys as a configured anchor (DNSKEY lines). */
  ldns_rr_list *anchor = one(ksk.rr);
  dnssec_verify_dnskeys(zone, dnskeys, ksigs, NULL, anchor, NOW, &r);
  assert_int_equal(r.state, SEC_SECURE);

  /* Signed only by the ZSK, which no DS names. */
  dnssec_verify_dnskeys(zone, dnskeys, zsigs, ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_BOGUS);
  assert_int_equal(r.ede, EDE_RRSIGS_MISSING); /* as Unbound: no RRSIG by a DS key */
  assert_non_null(strstr(r.why, "example.com."));

  /* A DS for a key that is not there. */
  struct zkey gone = make_key("example.com.", 257);
  ldns_rr_list *bad_ds = ds_of(gone.rr);
  dnssec_verify_dnskeys(zone, dnskeys, ksigs, bad_ds, NULL, NOW, &r);
  assert_int_equal(r.ede, EDE_DNSKEY_MISSING);
  assert_non_null(strstr(r.why, "no DNSKEY matches the DS"));

  /* Expired signature over the DNSKEY RRset. */
  ldns_rr_list *old = sign(dnskeys, &ksk, NOW - 3 * DAY, NOW - DAY);
  dnssec_verify_dnskeys(zone, dnskeys, old, ds, NULL, NOW, &r);
  assert_int_equal(r.ede, EDE_SIGNATURE_EXPIRED);

  /* Unsigned DNSKEY RRset. */
  dnssec_verify_dnskeys(zone, dnskeys, NULL, ds, NULL, NOW, &r);
  assert_int_equal(r.ede, EDE_RRSIGS_MISSING);

  /* No keys at all. */
  ldns_rr_list *none = ldns_rr_list_new();
  dnssec_verify_dnskeys(zone, none, ksigs, ds, NULL, NOW, &r);
  assert_int_equal(r.ede, EDE_DNSKEY_MISSING);

  /* A DS with a digest type nobody verifies: the zone counts as insecure. */
  ldns_rr_list *gost = rrlist("example.com. 3600 IN DS 12345 13 3 "
                              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                              NULL);
  dnssec_verify_dnskeys(zone, dnskeys, ksigs, gost, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_INSECURE);

  ldns_rr_list_deep_free(none);
  ldns_rr_list_deep_free(gost);
  ldns_rr_list_deep_free(old);
  ldns_rr_list_deep_free(bad_ds);
  ldns_rr_list_deep_free(anchor);
  ldns_rr_list_deep_free(ds);
  ldns_rr_list_deep_free(ksigs);
  ldns_rr_list_deep_free(zsigs);
  ldns_rr_list_deep_free(dnskeys);
  ldns_rdf_deep_free(zone);
  free_key(&ksk);
  free_key(&zsk);
  free_key(&gone);
}

static void test_no_zone_key_bit(void **state) {
  (void)state;
  ldns_rdf *zone = dn("example.com.");
  struct zkey k = make_key("example.com.", 1); /* SEP only: not a zone key */
  ldns_rr_list *dnskeys = one(k.rr);
  ldns_rr_list *sigs = sign(dnskeys, &k, NOW - DAY, NOW + DAY);
  ldns_rr_list *ds = ds_of(k.rr);
  struct sec_result r;
  dnssec_verify_dnskeys(zone, dnskeys, sigs, ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_BOGUS);
  assert_int_equal(r.ede, EDE_NO_ZONE_KEY_BIT_SET);
  ldns_rr_list_deep_free(ds);
  ldns_rr_list_deep_free(sigs);
  ldns_rr_list_deep_free(dnskeys);
  ldns_rdf_deep_free(zone);
  free_key(&k);
}

/* A KSK rollover: both keys in the DS set and the DNSKEY RRset, signed by
 * the old one, then by the new one, then by both. */
static void test_rollover(void **state) {
  (void)state;
  ldns_rdf *zone = dn("example.com.");
  struct zkey oldk = make_key("example.com.", 257), newk = make_key("example.com.", 257);
  ldns_rr_list *dnskeys = ldns_rr_list_new();
  ldns_rr_list_push_rr(dnskeys, ldns_rr_clone(oldk.rr));
  ldns_rr_list_push_rr(dnskeys, ldns_rr_clone(newk.rr));
  ldns_rr_list *ds = ldns_rr_list_new();
  ldns_rr_list_push_rr(ds, ldns_key_rr2ds(oldk.rr, LDNS_SHA256));
  ldns_rr_list_push_rr(ds, ldns_key_rr2ds(newk.rr, LDNS_SHA256));
  ldns_rr_list *by_old = sign(dnskeys, &oldk, NOW - DAY, NOW + DAY);
  ldns_rr_list *by_new = sign(dnskeys, &newk, NOW - DAY, NOW + DAY);
  struct sec_result r;
  dnssec_verify_dnskeys(zone, dnskeys, by_old, ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_SECURE);
  dnssec_verify_dnskeys(zone, dnskeys, by_new, ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_SECURE);
  /* The parent still only has the old DS while the new key signs: bogus. */
  ldns_rr_list *old_ds = one(ldns_rr_list_rr(ds, 0));
  dnssec_verify_dnskeys(zone, dnskeys, by_new, old_ds, NULL, NOW, &r);
  assert_int_equal(r.state, SEC_BOGUS);
  ldns_rr_list_deep_free(old_ds);
  ldns_rr_list_deep_free(by_old);
  ldns_rr_list_deep_free(by_new);
  ldns_rr_list_deep_free(ds);
  ldns_rr_list_deep_free(dnskeys);
  ldns_rdf_deep_free(zone);
  free_key(&oldk);
  free_key(&newk);
}

static void test_trust_anchors(void **state) {
  (void)state;
  trust_anchors_t *ta = ta_new(true);
  assert_non_null(ta);
  assert_int_equal(ta_count(ta), 1); /* the root, with two DS records */
  ldns_rdf *www = dn("www.Example.COM.");
  bool neg = true;
  const struct ta_entry *e = ta_closest(ta, www, &neg);
  assert_non_null(e);
  assert_false(neg);
  assert_int_equal(ldns_dname_label_count(e->zone), 0);
  assert_int_equal(ldns_rr_list_rr_count(e->ds), 2);
  assert_true(dnssec_ds_supported(ldns_rr_list_rr(e->ds, 0)));
  assert_null(e->source); /* built in */
  char keys[128];
  assert_string_equal(ta_entry_keys(e, keys, sizeof keys), "DS 20326/8/2, 38696/8/2");
  assert_ptr_equal(ta_entry_at(ta, 0), e);
  assert_null(ta_entry_at(ta, 1));
  /* RFC 8509's key sentinel asks about the root anchors' key tags. */
  assert_true(ta_root_has_keytag(ta, 20326));
  assert_true(ta_root_has_keytag(ta, 38696));
  assert_false(ta_root_has_keytag(ta, 19036)); /* KSK-2010, retired */

  /* A file: an anchor for example.com. and a replacement for the root. */
  char path[] = "/tmp/chaindns-ta-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = "; anchors\n\n"
                     "example.com. IN DS 1 13 2 "
                     "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF\n"
                     "# the root, rolled\n"
                     ". 172800 IN DNSKEY 257 3 13 "
                     "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  char err[256];
  assert_int_equal(ta_load_file(ta, path, err, sizeof err), 0);
  assert_int_equal(ta_count(ta), 2);
  e = ta_closest(ta, www, NULL);
  assert_int_equal(ldns_dname_label_count(e->zone), 2);
  assert_string_equal(e->source, path);
  assert_string_equal(ta_entry_keys(e, keys, sizeof keys), "DS 1/13/2");
  ldns_rdf *org = dn("example.org.");
  e = ta_closest(ta, org, NULL);
  assert_int_equal(ldns_dname_label_count(e->zone), 0);
  assert_int_equal(ldns_rr_list_rr_count(e->ds), 0); /* replaced by the file's DNSKEY */
  assert_int_equal(ldns_rr_list_rr_count(e->keys), 1);
  assert_string_equal(e->source, path);
  /* The sentinel now knows the file's root key, not IANA's. */
  assert_false(ta_root_has_keytag(ta, 20326));
  assert_true(ta_root_has_keytag(ta, ldns_calc_keytag(ldns_rr_list_rr(e->keys, 0))));
  assert_non_null(strstr(ta_entry_keys(e, keys, sizeof keys), "DNSKEY "));
  assert_int_equal(ta_count_negative(ta), 0);

  /* A bad line names the file and the line; nothing changes. */
  fd = open(path, O_WRONLY | O_TRUNC);
  const char *bad = "example.net. IN DS 1 13 2 00\nexample.net. IN A 192.0.2.1\n";
  assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
  close(fd);
  assert_int_equal(ta_load_file(ta, path, err, sizeof err), -1);
  char want[64];
  snprintf(want, sizeof want, "%s:2: ", path);
  assert_non_null(strstr(err, want));
  assert_int_equal(ta_count(ta), 2);
  unlink(path);
  assert_int_equal(ta_load_file(ta, path, err, sizeof err), -1);
  assert_non_null(strstr(err, "cannot open"));

  /* Negative trust anchors win below them, not elsewhere. */
  assert_null(ta_add_negative(ta, "broken.example.com."));
  assert_int_equal(ta_count_negative(ta), 1);
  assert_non_null(ta_negative_at(ta, 0));
  assert_null(ta_negative_at(ta, 1));
  ldns_rdf *b = dn("www.broken.example.com.");
  e = ta_closest(ta, b, &neg);
  assert_true(neg);
  ta_closest(ta, www, &neg);
  assert_false(neg);
  assert_non_null(ta_add(ta, "example.com. IN A 192.0.2.1"));
  assert_non_null(ta_add(ta, "not a record"));

  ldns_rdf_deep_free(b);
  ldns_rdf_deep_free(org);
  ldns_rdf_deep_free(www);
  ta_free(ta);
}

static void test_names(void **state) {
  (void)state;
  assert_string_equal(sec_state_name(SEC_SECURE), "secure");
  assert_string_equal(sec_state_name(SEC_INSECURE), "insecure");
  assert_string_equal(sec_state_name(SEC_BOGUS), "bogus");
  assert_string_equal(sec_state_name(SEC_INDETERMINATE), "indeterminate");
  ldns_rr_list *l = rrlist("a.example. 300 IN A 192.0.2.1",
                           "a.example. 300 IN RRSIG A 13 2 300 20270101000000 20260101000000 "
                           "1 example. AAAA",
                           "a.example. 300 IN RRSIG TXT 13 2 300 20270101000000 "
                           "20260101000000 1 example. AAAA",
                           NULL);
  ldns_rdf *a = dn("A.example.");
  ldns_rr_list *s = dnssec_sigs_for(l, a, LDNS_RR_TYPE_A);
  assert_int_equal(ldns_rr_list_rr_count(s), 1);
  ldns_rr_list_free(s);
  assert_null(dnssec_sigs_for(l, a, LDNS_RR_TYPE_MX));
  ldns_rdf_deep_free(a);
  ldns_rr_list_deep_free(l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rrset_verdicts),    cmocka_unit_test(test_wildcard_labels),
      cmocka_unit_test(test_dnskey_verdicts),   cmocka_unit_test(test_no_zone_key_bit),
      cmocka_unit_test(test_rollover),          cmocka_unit_test(test_trust_anchors),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
