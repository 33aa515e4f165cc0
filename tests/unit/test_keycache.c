/* The per-zone key cache (resolver/dnssec/keycache.c): expiry, the short life of
 * bogus entries, copies out, LRU bound, flushes, and use from threads. */
#include "unit_helpers.h"

#include <pthread.h>

#include "resolver/dnssec/keycache.h"

#define NOW 1800000000

static struct sec_result secure(void) {
  struct sec_result r = {.state = SEC_SECURE, .ede = -1};
  return r;
}

static void test_store_lookup_expire(void **state) {
  (void)state;
  keycache_t *kc = keycache_new(16);
  ldns_rdf *z = dn("Example.COM.");
  ldns_rr_list *keys = rrlist("example.com. 3600 IN DNSKEY 257 3 13 "
                              "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
                              NULL);
  struct sec_result r = secure();
  keycache_store(kc, z, &r, keys, 300, NOW);
  ldns_rr_list_deep_free(keys); /* the cache kept its own copy */
  struct key_entry e;
  ldns_rdf *lower = dn("example.com.");
  assert_int_equal(keycache_lookup(kc, lower, NOW + 10, &e), 0);
  assert_int_equal(e.result.state, SEC_SECURE);
  assert_int_equal(e.ttl, 290);
  assert_int_equal(ldns_rr_list_rr_count(e.keys), 1);
  ldns_rr_list_deep_free(e.keys);
  assert_int_equal(keycache_lookup(kc, lower, NOW + 300, &e), -1); /* expired, and gone */
  assert_int_equal(keycache_count(kc), 0);

  /* Insecure: no keys kept even if given. */
  struct sec_result ins = {.state = SEC_INSECURE, .ede = -1};
  keycache_store(kc, z, &ins, NULL, 300, NOW);
  assert_int_equal(keycache_lookup(kc, z, NOW, &e), 0);
  assert_int_equal(e.result.state, SEC_INSECURE);
  assert_null(e.keys);

  /* Bogus: kept at most KEYCACHE_BOGUS_TTL, with its reason. */
  struct sec_result bogus = {.state = SEC_BOGUS, .ede = EDE_SIGNATURE_EXPIRED};
  snprintf(bogus.why, sizeof bogus.why, "zone example.com.: the RRSIG of x has expired");
  keycache_store(kc, z, &bogus, NULL, 86400, NOW);
  assert_int_equal(keycache_count(kc), 1); /* replaced, not added */
  assert_int_equal(keycache_lookup(kc, z, NOW, &e), 0);
  assert_int_equal(e.result.state, SEC_BOGUS);
  assert_int_equal(e.result.ede, EDE_SIGNATURE_EXPIRED);
  assert_non_null(strstr(e.result.why, "expired"));
  assert_int_equal(e.ttl, KEYCACHE_BOGUS_TTL);
  assert_int_equal(keycache_lookup(kc, z, NOW + KEYCACHE_BOGUS_TTL, &e), -1);

  keycache_store(kc, z, &ins, NULL, 0, NOW); /* TTL 0: nothing */
  assert_int_equal(keycache_count(kc), 0);
  ldns_rdf_deep_free(lower);
  ldns_rdf_deep_free(z);
  keycache_free(kc);
}

static void test_bound_and_flush(void **state) {
  (void)state;
  keycache_t *kc = keycache_new(3);
  const char *names[] = {"a.example.", "b.example.", "c.example.", "d.example."};
  struct sec_result r = {.state = SEC_INSECURE, .ede = -1};
  ldns_rdf *n[4];
  for (int i = 0; i < 4; i++) n[i] = dn(names[i]);
  for (int i = 0; i < 3; i++) keycache_store(kc, n[i], &r, NULL, 300, NOW);
  struct key_entry e;
  assert_int_equal(keycache_lookup(kc, n[0], NOW, &e), 0); /* a: now the most recent */
  keycache_store(kc, n[3], &r, NULL, 300, NOW);             /* pushes out b, the least */
  assert_int_equal(keycache_count(kc), 3);
  assert_int_equal(keycache_lookup(kc, n[1], NOW, &e), -1);
  assert_int_equal(keycache_lookup(kc, n[0], NOW, &e), 0);

  ldns_rdf *top = dn("example."), *sub = dn("x.a.example.");
  keycache_store(kc, sub, &r, NULL, 300, NOW);
  assert_int_equal(keycache_flush(kc, n[0], false), 1); /* a only */
  assert_int_equal(keycache_lookup(kc, sub, NOW, &e), 0);
  assert_int_equal(keycache_flush(kc, top, true), 2); /* everything under example. */
  assert_int_equal(keycache_count(kc), 0);
  for (int i = 0; i < 4; i++) ldns_rdf_deep_free(n[i]);
  ldns_rdf_deep_free(top);
  ldns_rdf_deep_free(sub);
  keycache_free(kc);
}

struct worker_arg {
  keycache_t *kc;
  int id;
};

static void *hammer(void *p) {
  struct worker_arg *a = p;
  char name[64];
  struct sec_result r = {.state = SEC_SECURE, .ede = -1};
  ldns_rr_list *keys = rrlist("k.example. 300 IN DNSKEY 256 3 13 "
                              "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==",
                              NULL);
  for (int i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "z%d.example.", (i * 7 + a->id) % 50);
    ldns_rdf *z = ldns_dname_new_frm_str(name);
    if (i % 3 == 0) {
      keycache_store(a->kc, z, &r, keys, 300, NOW);
    } else {
      struct key_entry e;
      if (keycache_lookup(a->kc, z, NOW, &e) == 0 && e.keys) ldns_rr_list_deep_free(e.keys);
    }
    ldns_rdf_deep_free(z);
  }
  ldns_rr_list_deep_free(keys);
  return NULL;
}

/* Workers share it: stores and lookups from four threads at once (run
 * under ASan/TSan-like conditions in CI's sanitizer build). */
static void test_threads(void **state) {
  (void)state;
  keycache_t *kc = keycache_new(32);
  pthread_t t[4];
  struct worker_arg a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (struct worker_arg){kc, i};
    pthread_create(&t[i], NULL, hammer, &a[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_true(keycache_count(kc) <= 32);
  assert_true(keycache_count(kc) > 0);
  keycache_free(kc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_lookup_expire),
      cmocka_unit_test(test_bound_and_flush),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
