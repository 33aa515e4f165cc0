/* Unit tests for cache/cache.c: RRsets, TTLs, negative answers, ranks, the
 * byte bound with LRU eviction, and the value encoding. */
#include "unit_helpers.h"

#include "cache/cache.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

#define NOW 1700000000LL

static cache_t *mk(size_t max_bytes, uint32_t min_ttl, uint32_t max_ttl, uint32_t max_neg) {
  struct cache_limits l = {.max_bytes = max_bytes, .min_ttl = min_ttl, .max_ttl = max_ttl,
                           .max_neg_ttl = max_neg};
  cache_t *c = cache_new(&l);
  assert_non_null(c);
  return c;
}

static cache_t *mk_default(void) { return mk(1u << 20, 0, 86400, 3600); }

static int store(cache_t *c, enum cache_rank rank, int64_t now, const char *first, ...) {
  ldns_rr_list *l = ldns_rr_list_new();
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *)) ldns_rr_list_push_rr(l, rr(s));
  va_end(ap);
  int rc = cache_store_rrset(c, l, rank, now, NULL);
  ldns_rr_list_deep_free(l);
  return rc;
}

/* Lookup by text; on a hit the caller frees res->rrs. */
static int look(cache_t *c, const char *name, ldns_rr_type t, enum cache_rank min_rank,
                int64_t now, struct cache_result *res) {
  ldns_rdf *n = dn(name);
  int rc = cache_lookup(c, n, t, min_rank, now, res);
  ldns_rdf_deep_free(n);
  return rc;
}

static int store_neg(cache_t *c, const char *name, ldns_rr_type t, bool nx, const char *soa,
                     int64_t now) {
  ldns_rdf *n = dn(name);
  ldns_rr *s = soa ? rr(soa) : NULL;
  int rc = cache_store_negative(c, n, t, nx, s, CACHE_RANK_ANSWER, now, NULL);
  ldns_rdf_deep_free(n);
  if (s) ldns_rr_free(s);
  return rc;
}

static void test_store_lookup_rrset(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "www.example.com. 300 IN A 192.0.2.1",
                         "www.example.com. 300 IN A 192.0.2.2", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "www.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.kind, CACHE_RRSET);
  assert_int_equal(r.rank, CACHE_RANK_ANSWER);
  assert_int_equal(r.ttl, 300);
  assert_int_equal(ldns_rr_list_rr_count(r.rrs), 2);
  ldns_rr *want = rr("www.example.com. 300 IN A 192.0.2.2");
  assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(r.rrs, 1), want), 0);
  ldns_rr_free(want);
  ldns_rr_list_deep_free(r.rrs);

  /* Other type, other name: misses. */
  assert_int_equal(look(c, "www.example.com.", LDNS_RR_TYPE_AAAA, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);

  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 1);
  assert_int_equal(st.inserts, 1);
  assert_true(st.hits >= 1);
  assert_true(st.misses >= 2);
  assert_true(st.bytes > 0);
  cache_free(c);
}

static void test_empty_rrset_not_stored(void **state) {
  (void)state;
  cache_t *c = mk_default();
  ldns_rr_list *l = ldns_rr_list_new();
  assert_int_equal(cache_store_rrset(c, l, CACHE_RANK_ANSWER, NOW, NULL), -1);
  ldns_rr_list_free(l);
  cache_free(c);
}

static void test_case_insensitive_keys(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "WWW.Example.COM. 300 IN A 192.0.2.1", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "www.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "wWw.eXample.cOm.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  ldns_rr_list_deep_free(r.rrs);
  /* Storing the lower-case form replaces, not duplicates. */
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "www.example.com. 300 IN A 192.0.2.9", NULL), 0);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 1);
  assert_int_equal(look(c, "WWW.EXAMPLE.COM.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  ldns_rr *want = rr("www.example.com. 300 IN A 192.0.2.9");
  assert_int_equal(ldns_rr_list_rr_count(r.rrs), 1);
  assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(r.rrs, 0), want), 0);
  ldns_rr_free(want);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static void test_ttl_countdown_and_expiry(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "a.example. 100 IN A 192.0.2.1", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "a.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 5, &r), 0);
  assert_int_equal(r.ttl, 95);
  /* The RRs handed out carry the remaining TTL too. */
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r.rrs, 0)), 95);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "a.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 99, &r), 0);
  assert_int_equal(r.ttl, 1);
  ldns_rr_list_deep_free(r.rrs);
  /* Expired exactly at now + ttl, and the entry is gone afterwards. */
  assert_int_equal(look(c, "a.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 100, &r), -1);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 0);
  assert_int_equal(st.bytes, st.table_bytes); /* no entry left, only the tables */
  cache_free(c);
}

static void test_stale_window(void **state) {
  (void)state;
  struct cache_limits l = {.max_bytes = 1u << 20, .max_ttl = 86400, .max_neg_ttl = 3600,
                           .stale_window = 50};
  cache_t *c = cache_new(&l);
  assert_non_null(c);
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "a.example. 100 IN A 192.0.2.1", NULL), 0);
  ldns_rdf *name = dn("a.example.");
  struct cache_result r;
  /* Live: both lookups answer as usual, not stale. */
  assert_int_equal(cache_lookup_stale(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 10, 30,
                                      &r), 0);
  assert_false(r.stale);
  assert_int_equal(r.ttl, 90);
  ldns_rr_list_deep_free(r.rrs);
  /* Expired: a miss for normal lookups, which leave it in place... */
  assert_int_equal(cache_lookup(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 120, &r), -1);
  /* ...and stale, with the stale TTL, within the window. */
  assert_int_equal(cache_lookup_stale(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 149, 30,
                                      &r), 0);
  assert_true(r.stale);
  assert_int_equal(r.ttl, 30);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r.rrs, 0)), 30);
  ldns_rr_list_deep_free(r.rrs);
  /* A fresh store replaces it. */
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW + 130, "a.example. 100 IN A 192.0.2.2", NULL),
                   0);
  assert_int_equal(cache_lookup(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 131, &r), 0);
  assert_int_equal(r.ttl, 99);
  ldns_rr_list_deep_free(r.rrs);
  /* Past the window it is gone for good. */
  assert_int_equal(cache_lookup_stale(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 280, 30,
                                      &r), -1);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 0);
  ldns_rdf_deep_free(name);
  cache_free(c);
}

static void test_ttl_is_minimum_of_set(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "m.example. 600 IN A 192.0.2.1",
                         "m.example. 60 IN A 192.0.2.2", "m.example. 300 IN A 192.0.2.3", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "m.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 60);
  for (size_t i = 0; i < ldns_rr_list_rr_count(r.rrs); i++)
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r.rrs, i)), 60);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static void test_ttl_clamps(void **state) {
  (void)state;
  cache_t *c = mk(1u << 20, 30, 1000, 3600);
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "low.example. 5 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "high.example. 86400 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "mid.example. 500 IN A 192.0.2.1", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "low.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 30);
  ldns_rr_list_deep_free(r.rrs);
  /* Still there after its own TTL of 5 (min-ttl kept it). */
  assert_int_equal(look(c, "low.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 10, &r), 0);
  assert_int_equal(r.ttl, 20);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "high.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 1000);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "high.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 1000, &r), -1);
  assert_int_equal(look(c, "mid.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 500);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static const char *SOA_300_60 =
    "example.com. 300 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 60";
static const char *SOA_20_60 =
    "example.com. 20 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 60";
static const char *SOA_900_900 =
    "example.com. 900 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 900";

static void test_negative_nxdomain_any_type(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store_neg(c, "nx.example.com.", LDNS_RR_TYPE_A, true, SOA_300_60, NOW), 0);
  static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX,
                                       LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_CNAME};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    struct cache_result r;
    assert_int_equal(look(c, "NX.example.com.", types[i], CACHE_RANK_ANSWER, NOW, &r), 0);
    assert_int_equal(r.kind, CACHE_NXDOMAIN);
    assert_int_equal(ldns_rr_list_rr_count(r.rrs), 1);
    assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r.rrs, 0)), LDNS_RR_TYPE_SOA);
    ldns_rr_list_deep_free(r.rrs);
  }
  /* Only that name, not its parent or a sibling. */
  struct cache_result r;
  assert_int_equal(look(c, "example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "nx2.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  cache_free(c);
}

static void test_negative_nodata_only_its_type(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store_neg(c, "nd.example.com.", LDNS_RR_TYPE_AAAA, false, SOA_300_60, NOW), 0);
  struct cache_result r;
  assert_int_equal(look(c, "nd.example.com.", LDNS_RR_TYPE_AAAA, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.kind, CACHE_NODATA);
  assert_int_equal(ldns_rr_list_rr_count(r.rrs), 1);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "nd.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "nd.example.com.", LDNS_RR_TYPE_MX, CACHE_RANK_GLUE, NOW, &r), -1);
  cache_free(c);
}

static void test_negative_ttl(void **state) {
  (void)state;
  cache_t *c = mk(1u << 20, 0, 86400, 3600);
  struct cache_result r;
  /* min(SOA TTL 300, MINIMUM 60) = 60 */
  assert_int_equal(store_neg(c, "a.example.com.", LDNS_RR_TYPE_A, true, SOA_300_60, NOW), 0);
  assert_int_equal(look(c, "a.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 60);
  /* The SOA handed back carries the remaining negative TTL. */
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r.rrs, 0)), 60);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "a.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 60, &r), -1);
  /* min(20, 60) = 20 */
  assert_int_equal(store_neg(c, "b.example.com.", LDNS_RR_TYPE_A, false, SOA_20_60, NOW), 0);
  assert_int_equal(look(c, "b.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 20);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);

  /* Clamped to max_neg_ttl. */
  c = mk(1u << 20, 0, 86400, 30);
  assert_int_equal(store_neg(c, "c.example.com.", LDNS_RR_TYPE_A, true, SOA_900_900, NOW), 0);
  assert_int_equal(look(c, "c.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 30);
  ldns_rr_list_deep_free(r.rrs);
  assert_int_equal(look(c, "c.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW + 30, &r), -1);
  cache_free(c);
}

static void test_negative_without_soa_not_cached(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store_neg(c, "x.example.com.", LDNS_RR_TYPE_A, true, NULL, NOW), -1);
  assert_int_equal(store_neg(c, "y.example.com.", LDNS_RR_TYPE_A, false, NULL, NOW), -1);
  /* A record that is not an SOA does not count as one. */
  assert_int_equal(store_neg(c, "z.example.com.", LDNS_RR_TYPE_A, true,
                             "example.com. 300 IN NS ns1.example.com.", NOW), -1);
  struct cache_result r;
  assert_int_equal(look(c, "x.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "y.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "z.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 0);
  cache_free(c);
}

static void test_rank_glue_does_not_replace_answer(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "ns1.example.com. 300 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(store(c, CACHE_RANK_GLUE, NOW, "ns1.example.com. 300 IN A 198.51.100.66", NULL), -1);
  assert_int_equal(store(c, CACHE_RANK_REFERRAL, NOW, "ns1.example.com. 300 IN A 198.51.100.66", NULL), -1);
  struct cache_result r;
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.rank, CACHE_RANK_ANSWER);
  ldns_rr *want = rr("ns1.example.com. 300 IN A 192.0.2.1");
  assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(r.rrs, 0), want), 0);
  ldns_rr_free(want);
  ldns_rr_list_deep_free(r.rrs);
  /* Once the answer has expired, glue may take the slot. */
  assert_int_equal(store(c, CACHE_RANK_GLUE, NOW + 300, "ns1.example.com. 300 IN A 198.51.100.66", NULL), 0);
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW + 300, &r), 0);
  assert_int_equal(r.rank, CACHE_RANK_GLUE);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static void test_rank_answer_replaces_glue(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_GLUE, NOW, "ns1.example.com. 300 IN A 198.51.100.66", NULL), 0);
  struct cache_result r;
  /* Glue is not an answer. */
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), -1);
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_REFERRAL, NOW, &r), -1);
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), 0);
  assert_int_equal(r.rank, CACHE_RANK_GLUE);
  ldns_rr_list_deep_free(r.rrs);
  /* A better rank replaces it. */
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "ns1.example.com. 300 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(look(c, "ns1.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  ldns_rr *want = rr("ns1.example.com. 300 IN A 192.0.2.1");
  assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(r.rrs, 0), want), 0);
  ldns_rr_free(want);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

/* An NS RRset from the zone itself (answer rank) replaces the parent's
 * delegation but never outlives it: a zone moved to new servers must not
 * stay with old ones that keep answering (ghost domains). Without a live
 * delegation it keeps its own TTL; other types are not capped. */
static void test_child_ns_never_outlives_the_delegation(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_REFERRAL, NOW, "example.com. 300 IN NS ns1.example.com.",
                         NULL), 0);
  ldns_rr_list *child = ldns_rr_list_new();
  ldns_rr_list_push_rr(child, rr("example.com. 86400 IN NS ns3.example.com."));
  uint32_t kept = 0;
  assert_int_equal(cache_store_rrset_kept(c, child, NULL, CACHE_SEC_INDETERMINATE,
                                          CACHE_RANK_ANSWER, NOW + 100, NULL, &kept), 0);
  assert_int_equal(kept, 200); /* the delegation's time left */
  struct cache_result r;
  assert_int_equal(look(c, "example.com.", LDNS_RR_TYPE_NS, CACHE_RANK_REFERRAL, NOW + 100, &r),
                   0);
  assert_int_equal(r.rank, CACHE_RANK_ANSWER);
  assert_int_equal(r.ttl, 200);
  ldns_rr_list_deep_free(r.rrs);
  /* Refreshed by the zone again: still not past the first delegation. */
  assert_int_equal(cache_store_rrset_kept(c, child, NULL, CACHE_SEC_INDETERMINATE,
                                          CACHE_RANK_ANSWER, NOW + 250, NULL, &kept), 0);
  assert_int_equal(kept, 50);
  assert_int_equal(look(c, "example.com.", LDNS_RR_TYPE_NS, CACHE_RANK_REFERRAL, NOW + 301, &r),
                   -1);
  /* With nothing live to replace, its own TTL. */
  assert_int_equal(cache_store_rrset_kept(c, child, NULL, CACHE_SEC_INDETERMINATE,
                                          CACHE_RANK_ANSWER, NOW + 400, NULL, &kept), 0);
  assert_int_equal(kept, 86400);
  /* Only NS: an A RRset replacing a shorter one keeps its own TTL. */
  assert_int_equal(store(c, CACHE_RANK_GLUE, NOW, "ns3.example.com. 300 IN A 192.0.2.3", NULL),
                   0);
  ldns_rr_list *a = ldns_rr_list_new();
  ldns_rr_list_push_rr(a, rr("ns3.example.com. 3600 IN A 192.0.2.3"));
  assert_int_equal(cache_store_rrset_kept(c, a, NULL, CACHE_SEC_INDETERMINATE,
                                          CACHE_RANK_ANSWER, NOW, NULL, &kept), 0);
  assert_int_equal(kept, 3600);
  ldns_rr_list_deep_free(a);
  ldns_rr_list_deep_free(child);
  cache_free(c);
}

/* Flush markers: data written before a flush of its name (or of a zone
 * above it) is refused when it comes back from the shared tier; data
 * written in the flush's second or later is not; markers end once no data
 * could still live (max-ttl, max-negative-ttl, and a minute). */
static void test_flush_markers(void **state) {
  (void)state;
  cache_t *c = mk(1u << 20, 0, 300, 60);
  uint8_t www[256], zone[256], other[256];
  ldns_rdf *n = dn("www.example.com.");
  size_t wlen = name_key(n, www);
  ldns_rdf_deep_free(n);
  n = dn("example.com.");
  size_t zlen = name_key(n, zone);
  ldns_rdf_deep_free(n);
  n = dn("www.example.org.");
  size_t olen = name_key(n, other);
  ldns_rdf_deep_free(n);
  assert_false(cache_flushed_since(c, www, wlen, NOW - 10));
  cache_note_flush(c, www, wlen, false, NOW, NOW);
  assert_true(cache_flushed_since(c, www, wlen, NOW - 1));
  assert_false(cache_flushed_since(c, www, wlen, NOW));     /* the same second: taken */
  assert_false(cache_flushed_since(c, zone, zlen, NOW - 1)); /* not below: the apex stays */
  /* A zone flush covers every name under it, not beside it. */
  cache_note_flush(c, zone, zlen, true, NOW + 5, NOW + 5);
  assert_true(cache_flushed_since(c, zone, zlen, NOW + 4));
  assert_true(cache_flushed_since(c, www, wlen, NOW + 4));
  assert_false(cache_flushed_since(c, other, olen, NOW - 100));
  /* Markers go when no data could outlive them (300 + 60 s here). */
  cache_note_flush(c, other, olen, false, NOW + 400, NOW + 400);
  assert_false(cache_flushed_since(c, www, wlen, NOW - 1));
  assert_true(cache_flushed_since(c, other, olen, NOW + 399));
  /* The table is bounded: the oldest marker goes first. */
  for (int i = 0; i < CACHE_FLUSH_MARKERS + 10; i++) {
    char text[64];
    snprintf(text, sizeof text, "n%d.example.net.", i);
    uint8_t w[256];
    ldns_rdf *x = dn(text);
    size_t xl = name_key(x, w);
    ldns_rdf_deep_free(x);
    cache_note_flush(c, w, xl, false, NOW + 401 + i, NOW + 401);
  }
  assert_false(cache_flushed_since(c, other, olen, NOW + 399)); /* the oldest went */
  /* cache_flush notes its own. */
  ldns_rdf *org = dn("example.org.");
  cache_flush(c, org, true);
  ldns_rdf_deep_free(org);
  assert_true(cache_flushed_since(c, other, olen, util_now_sec() - 1));
  cache_free(c);
}

static void test_byte_bound_and_lru(void **state) {
  (void)state;
  const size_t budget = 64 * 1024;
  cache_t *c = mk(budget, 0, 86400, 3600);
  char line[200];
  snprintf(line, sizeof line, "hot.example. 3600 IN A 192.0.2.1");
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, line, NULL), 0);
  for (int i = 0; i < 5000; i++) {
    snprintf(line, sizeof line, "host%d.bulk.example. 3600 IN TXT \"padding padding padding %d\"", i, i);
    assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, line, NULL), 0);
    struct cache_stats st;
    cache_get_stats(c, &st);
    assert_true(st.bytes <= budget);
    /* Keep the hot entry recently used. */
    struct cache_result r;
    if (look(c, "hot.example.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r) != 0)
      fail_msg("recently used entry evicted after %d inserts", i + 1);
    ldns_rr_list_deep_free(r.rrs);
  }
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_true(st.bytes <= budget);
  assert_true(st.bytes > budget / 2); /* the budget is actually used */
  assert_true(st.evictions > 0);
  assert_int_equal(st.inserts, 5001);
  assert_int_equal(st.entries + st.evictions, st.inserts);
  assert_true(st.entries < 5001);
  /* The oldest bulk entries are gone, the newest is there. */
  struct cache_result r;
  assert_int_equal(look(c, "host0.bulk.example.", LDNS_RR_TYPE_TXT, CACHE_RANK_GLUE, NOW, &r), -1);
  assert_int_equal(look(c, "host4999.bulk.example.", LDNS_RR_TYPE_TXT, CACHE_RANK_GLUE, NOW, &r), 0);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static void test_too_big_rrset_rejected(void **state) {
  (void)state;
  cache_t *c = mk(64 * 1024, 0, 86400, 3600); /* 4k per shard */
  ldns_rr_list *l = ldns_rr_list_new();
  char line[200];
  for (int i = 0; i < 400; i++) {
    snprintf(line, sizeof line, "big.example. 300 IN A 10.0.%d.%d", i / 256, i % 256);
    ldns_rr_list_push_rr(l, rr(line));
  }
  assert_int_equal(cache_store_rrset(c, l, CACHE_RANK_ANSWER, NOW, NULL), -1);
  ldns_rr_list_deep_free(l);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 0);
  assert_int_equal(st.bytes, st.table_bytes); /* no entry left, only the tables */
  cache_free(c);
}

/* A large budget costs nothing up front: the tables start small, grow with
 * the entries (every entry still found after the rehashes), and stay inside
 * the budget. */
static void test_tables_grow_with_entries(void **state) {
  (void)state;
  const size_t budget = 256u << 20;
  cache_t *c = mk(budget, 0, 86400, 3600);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_true(st.table_bytes < 64 * 1024);
  size_t empty = st.table_bytes;
  char line[200];
  for (int i = 0; i < 20000; i++) {
    snprintf(line, sizeof line, "n%d.grow.example. 3600 IN A 10.%d.%d.%d", i, i >> 16,
             (i >> 8) & 255, i & 255);
    assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, line, NULL), 0);
  }
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 20000);
  assert_true(st.table_bytes > 8 * empty);
  assert_true(st.table_bytes >= 20000 * sizeof(void *) / 2); /* at most ~2 per bucket */
  assert_true(st.table_bytes <= 4 * 20000 * sizeof(void *));
  for (int i = 0; i < 20000; i += 7) {
    char name[64];
    snprintf(name, sizeof name, "n%d.grow.example.", i);
    struct cache_result r;
    if (look(c, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r) != 0)
      fail_msg("%s lost in a rehash", name);
    ldns_rr_list_deep_free(r.rrs);
  }
  cache_free(c);

  /* A small budget: the table grows only while it fits beside the entries. */
  c = mk(256 * 1024, 0, 86400, 3600);
  for (int i = 0; i < 20000; i++) {
    snprintf(line, sizeof line, "n%d.grow.example. 3600 IN A 10.%d.%d.%d", i, i >> 16,
             (i >> 8) & 255, i & 255);
    assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, line, NULL), 0);
    cache_get_stats(c, &st);
    assert_true(st.bytes <= 256 * 1024);
  }
  assert_true(st.entries > 500);
  cache_free(c);
}

static void test_clear(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "a.example. 300 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "b.example. 300 IN A 192.0.2.1", NULL), 0);
  cache_clear(c);
  struct cache_stats st;
  cache_get_stats(c, &st);
  assert_int_equal(st.entries, 0);
  assert_int_equal(st.bytes, st.table_bytes); /* no entry left, only the tables */
  struct cache_result r;
  assert_int_equal(look(c, "a.example.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), -1);
  /* Usable after clearing. */
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "a.example. 300 IN A 192.0.2.1", NULL), 0);
  assert_int_equal(look(c, "a.example.", LDNS_RR_TYPE_A, CACHE_RANK_GLUE, NOW, &r), 0);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

static void test_encode_decode_round_trip(void **state) {
  (void)state;
  ldns_rr_list *in = rrlist("www.Example.com. 300 IN A 192.0.2.1",
                            "www.example.com. 300 IN AAAA 2001:db8::1",
                            "alias.example.com. 300 IN CNAME www.example.com.",
                            "example.com. 300 IN MX 10 mail.example.com.",
                            "example.com. 300 IN TXT \"hello world\" \"second\"",
                            "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 5",
                            "odd.example.com. 300 IN TYPE65534 \\# 4 deadbeef", NULL);
  size_t len = 0;
  uint8_t *wire = cache_encode_rrs(in, &len);
  assert_non_null(wire);
  assert_true(len > 0);
  ldns_rr_list *out = cache_decode_rrs(wire, len, 42);
  assert_non_null(out);
  assert_int_equal(ldns_rr_list_rr_count(out), ldns_rr_list_rr_count(in));
  for (size_t i = 0; i < ldns_rr_list_rr_count(in); i++) {
    ldns_rr *a = ldns_rr_list_rr(in, i), *b = ldns_rr_list_rr(out, i);
    assert_int_equal(ldns_rr_ttl(b), 42);
    ldns_rr_set_ttl(a, 42);
    if (ldns_rr_compare(a, b) != 0) {
      char *sa = ldns_rr2str(a), *sb = ldns_rr2str(b);
      fail_msg("RR %zu differs: %s vs %s", i, sa, sb);
    }
    /* Owner case is preserved (only keys are lowered). */
    assert_memory_equal(ldns_rdf_data(ldns_rr_owner(a)), ldns_rdf_data(ldns_rr_owner(b)),
                        ldns_rdf_size(ldns_rr_owner(a)));
  }
  /* The unknown type is carried as opaque data. */
  ldns_rr *odd = ldns_rr_list_rr(out, 6);
  assert_int_equal(ldns_rr_get_type(odd), 65534);
  assert_int_equal(ldns_rr_rd_count(odd), 1);
  const uint8_t raw[] = {0xde, 0xad, 0xbe, 0xef};
  assert_int_equal(ldns_rdf_size(ldns_rr_rdf(odd, 0)), 4);
  assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(odd, 0)), raw, 4);
  ldns_rr_list_deep_free(out);

  /* Truncated data is rejected, not half-decoded. */
  assert_null(cache_decode_rrs(wire, len - 1, 42));
  free(wire);
  ldns_rr_list_deep_free(in);
}

static void test_unknown_type_through_cache(void **state) {
  (void)state;
  cache_t *c = mk_default();
  assert_int_equal(store(c, CACHE_RANK_ANSWER, NOW, "odd.example. 300 IN TYPE65534 \\# 3 010203", NULL), 0);
  struct cache_result r;
  assert_int_equal(look(c, "odd.example.", (ldns_rr_type)65534, CACHE_RANK_ANSWER, NOW + 1, &r), 0);
  assert_int_equal(ldns_rr_list_rr_count(r.rrs), 1);
  ldns_rr *x = ldns_rr_list_rr(r.rrs, 0);
  assert_int_equal(ldns_rr_get_type(x), 65534);
  assert_int_equal(ldns_rr_ttl(x), 299);
  const uint8_t raw[] = {1, 2, 3};
  assert_int_equal(ldns_rdf_size(ldns_rr_rdf(x, 0)), 3);
  assert_memory_equal(ldns_rdf_data(ldns_rr_rdf(x, 0)), raw, 3);
  ldns_rr_list_deep_free(r.rrs);
  cache_free(c);
}

/* ---- the shared tier's side: the sink and fills ------------------------------ */

struct seen {
  int calls;
  uint8_t owner[256];
  size_t owner_len;
  uint16_t type;
  uint8_t kind, rank;
  int64_t expiry;
  uint32_t ttl;
  uint8_t payload[512];
  size_t plen;
};

static void record_put(void *arg, const struct cache_record *rec) {
  struct seen *s = arg;
  s->calls++;
  memcpy(s->owner, rec->owner, rec->owner_len);
  s->owner_len = rec->owner_len;
  s->type = rec->type;
  s->kind = rec->kind;
  s->rank = rec->rank;
  s->expiry = rec->expiry;
  s->ttl = rec->ttl;
  assert_true(rec->payload_len <= sizeof s->payload);
  memcpy(s->payload, rec->payload, rec->payload_len);
  s->plen = rec->payload_len;
}

static void test_sink_sees_what_was_stored(void **state) {
  (void)state;
  cache_t *c = mk(1u << 20, 0, 200, 60);
  struct seen s = {0};
  struct cache_sink sink = {record_put, &s};
  ldns_rr_list *l = rrlist("WWW.example.com. 300 IN A 192.0.2.1", NULL);
  assert_int_equal(cache_store_rrset(c, l, CACHE_RANK_ANSWER, NOW, &sink), 0);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.owner_len, 17);
  assert_memory_equal(s.owner, "\3www\7example\3com", 17); /* canonical: lower case */
  assert_int_equal(s.type, LDNS_RR_TYPE_A);
  assert_int_equal(s.kind, RECORD_RRSET);
  assert_int_equal(s.rank, CACHE_RANK_ANSWER);
  assert_int_equal(s.ttl, 200); /* what was stored: clamped */
  assert_int_equal(s.expiry, NOW + 200);
  ldns_rr_list *back = cache_decode_rrs(s.payload, s.plen, 1);
  assert_int_equal(ldns_rr_list_rr_count(back), 1);
  ldns_rr_list_deep_free(back);
  /* A store that does not happen is not passed on. */
  assert_int_equal(cache_store_rrset(c, l, CACHE_RANK_GLUE, NOW, &sink), -1);
  assert_int_equal(s.calls, 1);
  ldns_rr_list_deep_free(l);
  ldns_rdf *n = dn("nx.example.com.");
  ldns_rr *soa = rr("example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 120");
  assert_int_equal(cache_store_negative(c, n, LDNS_RR_TYPE_A, true, soa, CACHE_RANK_ANSWER,
                                        NOW, &sink), 0);
  assert_int_equal(s.calls, 2);
  assert_int_equal(s.kind, RECORD_NXDOMAIN);
  assert_int_equal(s.type, 0);
  assert_int_equal(s.ttl, 60);
  ldns_rr_free(soa);
  ldns_rdf_deep_free(n);
  cache_free(c);
}

/* What a fill puts in keeps the expiry it came with, so the TTL counts down
 * from where the other instance's did. */
static void test_fill_keeps_the_absolute_expiry(void **state) {
  (void)state;
  cache_t *c = mk(1u << 20, 0, 86400, 3600);
  struct seen s = {0};
  struct cache_sink sink = {record_put, &s};
  cache_t *other = mk_default();
  ldns_rr_list *l = rrlist("www.example.com. 300 IN A 192.0.2.1", NULL);
  assert_int_equal(cache_store_rrset(other, l, CACHE_RANK_ANSWER, NOW - 100, &sink), 0);
  ldns_rr_list_deep_free(l);
  struct cache_record rec = {s.owner, s.owner_len, s.type, s.kind, s.rank, s.expiry, s.ttl,
                             s.payload, s.plen, 0};
  assert_int_equal(cache_fill(c, &rec, NOW), 0);
  struct cache_result r;
  assert_int_equal(look(c, "www.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r), 0);
  assert_int_equal(r.ttl, 200);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r.rrs, 0)), 200);
  ldns_rr_list_deep_free(r.rrs);
  /* Expired: refused. Beyond this instance's max-ttl: held to it. */
  assert_int_equal(cache_fill(c, &rec, NOW + 200), -1);
  cache_t *tight = mk(1u << 20, 0, 50, 3600);
  assert_int_equal(cache_fill(tight, &rec, NOW), 0);
  assert_int_equal(look(tight, "www.example.com.", LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, NOW, &r),
                   0);
  assert_int_equal(r.ttl, 50);
  ldns_rr_list_deep_free(r.rrs);
  /* Ranks hold for fills too: glue does not replace an answer. */
  rec.rank = CACHE_RANK_GLUE;
  assert_int_equal(cache_fill(c, &rec, NOW), -1);
  /* A chain record is not memory-tier data. */
  rec.kind = RECORD_CHAIN;
  rec.rank = CACHE_RANK_ANSWER;
  assert_int_equal(cache_fill(c, &rec, NOW), -1);
  cache_free(tight);
  cache_free(other);
  cache_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_store_lookup_rrset),
      cmocka_unit_test(test_empty_rrset_not_stored),
      cmocka_unit_test(test_case_insensitive_keys),
      cmocka_unit_test(test_ttl_countdown_and_expiry),
      cmocka_unit_test(test_stale_window),
      cmocka_unit_test(test_ttl_is_minimum_of_set),
      cmocka_unit_test(test_ttl_clamps),
      cmocka_unit_test(test_negative_nxdomain_any_type),
      cmocka_unit_test(test_negative_nodata_only_its_type),
      cmocka_unit_test(test_negative_ttl),
      cmocka_unit_test(test_negative_without_soa_not_cached),
      cmocka_unit_test(test_rank_glue_does_not_replace_answer),
      cmocka_unit_test(test_rank_answer_replaces_glue),
      cmocka_unit_test(test_child_ns_never_outlives_the_delegation),
      cmocka_unit_test(test_flush_markers),
      cmocka_unit_test(test_byte_bound_and_lru),
      cmocka_unit_test(test_tables_grow_with_entries),
      cmocka_unit_test(test_too_big_rrset_rejected),
      cmocka_unit_test(test_clear),
      cmocka_unit_test(test_encode_decode_round_trip),
      cmocka_unit_test(test_unknown_type_through_cache),
      cmocka_unit_test(test_sink_sees_what_was_stored),
      cmocka_unit_test(test_fill_keeps_the_absolute_expiry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
