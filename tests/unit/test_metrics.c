/* Unit tests for metrics/: histograms, label sets, chain purposes, the
 * per-zone tables and their top-K exporter (series never go down), the
 * chain tables, the exposition and JSON escaping. */
#include "unit_helpers.h"

#include "metrics/chains.h"
#include "metrics/expo.h"
#include "metrics/jbuf.h"
#include "metrics/stats.h"
#include "metrics/zones.h"
#include "resolver/lib/name.h"

static void test_hist_buckets(void **state) {
  (void)state;
  struct hist h = {{0}, 0};
  hist_observe(&h, &hist_latency, 0);        /* le 25us */
  hist_observe(&h, &hist_latency, 25);       /* le 25us: bounds are inclusive */
  hist_observe(&h, &hist_latency, 26);       /* le 50us */
  hist_observe(&h, &hist_latency, 20000000); /* +Inf */
  assert_int_equal(h.n[0], 2);
  assert_int_equal(h.n[1], 1);
  assert_int_equal(h.n[hist_latency.count], 1);
  assert_int_equal(hist_count(&h), 4);
  assert_int_equal(h.sum, 20000051);
  struct hist l = {{0}, 0};
  hist_observe(&l, &hist_length, 3);
  assert_int_equal(l.n[2], 1); /* le 3 */
}

static size_t wire(const char *text, uint8_t *buf) {
  ldns_rdf *n = dn(text);
  size_t len = name_key(n, buf);
  ldns_rdf_deep_free(n);
  return len;
}

static void test_purpose_and_labels(void **state) {
  (void)state;
  uint8_t w[256];
  static const struct { const char *name; enum stats_purpose p; } cases[] = {
      {"selector1._domainkey.example.com.", SP_DKIM},
      {"S1._DomainKey.Example.COM.", SP_DKIM},
      {"mta-sts.example.com.", SP_MTA_STS},
      {"www.mta-sts.example.com.", SP_OTHER}, /* only as the first label */
      {"default._bimi.example.com.", SP_BIMI},
      {"www.example.com.", SP_OTHER},
      {".", SP_OTHER},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = wire(cases[i].name, w);
    if (stats_purpose_of(w, n) != cases[i].p) fail_msg("purpose of %s", cases[i].name);
  }
  assert_int_equal(stats_purpose_of((const uint8_t *)"\x05_bimi", 3), SP_OTHER); /* truncated */
  assert_int_equal(stats_qtype(LDNS_RR_TYPE_AAAA), SQ_AAAA);
  assert_int_equal(stats_qtype(65), SQ_HTTPS);
  assert_int_equal(stats_qtype(65534), SQ_OTHER);
  assert_string_equal(stats_qtype_name(SQ_OTHER), "other");
  assert_string_equal(stats_outcome_name(SO_TOO_LONG), "too_long");
  assert_string_equal(stats_source_name(SS_REDIS), "redis");
}

static void zone_of(int i, uint8_t *buf, size_t *len) {
  char text[64];
  snprintf(text, sizeof text, "zone%d.example.", i);
  *len = wire(text, buf);
}

static void test_zone_table_evicts_least_used(void **state) {
  (void)state;
  struct zone_table *t = malloc(sizeof *t);
  zone_table_init(t);
  uint8_t w[256];
  size_t len;
  uint64_t total = 0;
  /* zone0 is busy; then far more zones than fit. */
  for (int k = 0; k < 50; k++) {
    zone_of(0, w, &len);
    zone_observe(t, w, len, 100);
    total++;
  }
  for (int i = 1; i < 3 * ZONES_MAX; i++) {
    zone_of(i, w, &len);
    zone_observe(t, w, len, 200);
    total++;
  }
  assert_true(t->used <= ZONES_MAX * 3 / 4);
  uint64_t seen = hist_count(&t->evicted);
  bool busy_kept = false;
  for (size_t i = 0; i < ZONES_MAX; i++) {
    if (!t->e[i].len) continue;
    seen += hist_count(&t->e[i].h);
    zone_of(0, w, &len);
    if (t->e[i].len == len && !memcmp(t->e[i].name, w, len)) {
      busy_kept = true;
      assert_int_equal(hist_count(&t->e[i].h), 50);
    }
  }
  assert_int_equal(seen, total); /* nothing lost */
  assert_true(busy_kept);
  /* Every zone still in the table is found again (probing survived removals). */
  for (size_t i = 0; i < ZONES_MAX; i++) {
    if (!t->e[i].len) continue;
    uint64_t before = hist_count(&t->e[i].h);
    struct zone_entry copy = t->e[i];
    zone_observe(t, copy.name, copy.len, 1);
    bool bumped = false;
    for (size_t j = 0; j < ZONES_MAX; j++)
      if (t->e[j].len == copy.len && !memcmp(t->e[j].name, copy.name, copy.len))
        bumped = hist_count(&t->e[j].h) == before + 1;
    assert_true(bumped);
  }
  free(t);
}

/* Random traffic over many scrapes: every exposed series (by label) only
 * grows, and the series always add up to every observation made. */
static void test_zone_export_is_monotonic(void **state) {
  (void)state;
  enum { K = 3, WORKERS = 2, SCRAPES = 60, ZONES = 12 };
  struct zone_table *t[WORKERS];
  for (int i = 0; i < WORKERS; i++) {
    t[i] = malloc(sizeof *t[i]);
    zone_table_init(t[i]);
  }
  zone_export_t *x = zone_export_new(K);
  struct zone_series out[K + 1];
  char labels[64][32];
  uint64_t last[64] = {0}, total = 0;
  size_t nlabels = 0;
  srand(7);
  for (int s = 0; s < SCRAPES; s++) {
    /* Busy zones change over time so membership churns. */
    for (int k = 0; k < 40; k++) {
      int z = (rand() % 4) + (s / 15) * 3;
      if (rand() % 5 == 0) z = rand() % ZONES;
      uint8_t w[256];
      size_t len;
      zone_of(z, w, &len);
      zone_observe(t[rand() % WORKERS], w, len, (uint64_t)(rand() % 5000));
      total++;
    }
    size_t n = zone_export_collect(x, (const struct zone_table *const *)t, WORKERS, out);
    assert_true(n <= K + 1);
    assert_string_equal(out[n - 1].label, "other");
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t c = hist_count(&out[i].h);
      sum += c;
      size_t j = 0;
      while (j < nlabels && strcmp(labels[j], out[i].label)) j++;
      if (j == nlabels) {
        snprintf(labels[nlabels++], sizeof labels[0], "%.31s", out[i].label);
        last[j] = 0;
      }
      if (c < last[j]) fail_msg("scrape %d: %s went down from %llu to %llu", s, out[i].label,
                                (unsigned long long)last[j], (unsigned long long)c);
      last[j] = c;
    }
    assert_int_equal(sum, total);
  }
  assert_true(nlabels > K + 1); /* membership did change */
  zone_export_free(x);
  for (int i = 0; i < WORKERS; i++) free(t[i]);
}

/* A zone that becomes busy shows under its own name at the next scrape
 * with what it gathered since the previous one. */
static void test_zone_export_new_zone_visible_at_once(void **state) {
  (void)state;
  struct zone_table *t = malloc(sizeof *t);
  zone_table_init(t);
  zone_export_t *x = zone_export_new(5);
  struct zone_series out[6];
  const struct zone_table *tables[] = {t};
  assert_int_equal(zone_export_collect(x, tables, 1, out), 1); /* just "other" */
  uint8_t w[256];
  size_t len = wire("slow.example.", w);
  zone_observe(t, w, len, 150000);
  zone_observe(t, w, len, 150000);
  size_t n = zone_export_collect(x, tables, 1, out);
  assert_int_equal(n, 2);
  assert_string_equal(out[0].label, "slow.example.");
  assert_int_equal(hist_count(&out[0].h), 2);
  assert_int_equal(out[0].h.sum, 300000);
  assert_int_equal(hist_count(&out[1].h), 0);
  zone_export_free(x);
  free(t);
}

static void make_rec(struct chains_rec *r, const char *name, int64_t when, uint64_t ms,
                     uint8_t outcome) {
  uint8_t w[256];
  size_t len = wire(name, w);
  chains_rec_start(r, w, len, LDNS_RR_TYPE_A);
  r->when_us = when;
  r->duration_us = ms * 1000;
  r->outcome = outcome;
  r->length = 1;
}

static void test_chain_tables(void **state) {
  (void)state;
  struct chains_tables *t = malloc(sizeof *t);
  chains_tables_init(t);
  struct chains_rec r;
  int64_t now = 4000000000000000LL;
  for (int i = 0; i < 40; i++) {
    char name[32];
    snprintf(name, sizeof name, "c%d.example.", i);
    make_rec(&r, name, now + i, (uint64_t)(i % 7) * 10, SO_COMPLETE);
    chains_tables_add(t, &r, false);
  }
  assert_int_equal(t->recent_ring.used, CHAINS_RECENT);
  assert_int_equal(t->slowest_used, CHAINS_SLOWEST);
  uint64_t min_slow = UINT64_MAX;
  for (size_t i = 0; i < CHAINS_SLOWEST; i++)
    if (t->slowest[i].duration_us < min_slow) min_slow = t->slowest[i].duration_us;
  assert_true(min_slow >= 30000); /* the 16 slowest of 40: 60ms x5, 50 x6, 40 x6 ... */
  /* A memory-only chain does not enter recent; a dangling one is filed. */
  make_rec(&r, "mem.example.", now + 100, 1, SO_COMPLETE);
  chains_tables_add(t, &r, true);
  make_rec(&r, "dang.example.", now + 101, 1, SO_DANGLING);
  chains_tables_add(t, &r, true);
  chains_tables_add(t, &r, true); /* a repeat bumps the count */
  assert_int_equal(t->dangling_ring.used, 1);
  assert_int_equal(t->dangling[0].count, 2);
  /* An old slow chain gives way to a new fast one after the window. */
  make_rec(&r, "new.example.", now + (int64_t)CHAINS_SLOW_WINDOW_S * 1000000 + 1000, 1,
           SO_COMPLETE);
  chains_tables_add(t, &r, false);
  bool found = false;
  for (size_t i = 0; i < CHAINS_SLOWEST; i++) found |= t->slowest[i].duration_us == 1000;
  assert_true(found);
  const struct chains_tables *tables[] = {t};
  char *json = chains_tables_json(tables, 1, now + 200);
  assert_non_null(json);
  assert_non_null(strstr(json, "\"recent\":[{\"name\":\"new.example.\""));
  assert_non_null(strstr(json, "\"dangling\":[{\"name\":\"dang.example.\""));
  assert_null(strstr(json, "mem.example."));
  free(json);
  free(t);
}

static void test_exposition_and_escaping(void **state) {
  (void)state;
  struct stats s;
  memset(&s, 0, sizeof s);
  s.queries[ST_UDP][SQ_A] = 7;
  s.rcode[2] = 1;
  s.rcode[9] = 2; /* NOTAUTH: counted as other */
  hist_observe(&s.chain_length, &hist_length, 3);
  struct cache_stats cs = {.hits = 5, .misses = 6, .entries = 3, .bytes = 900};
  struct zone_series z[2] = {{"we\"ird\\zone.", {{0}, 0}}, {"other", {{0}, 0}}};
  struct expo_input in = {&s, &cs, 1 << 20, z, 2, false, 2, "9.9"};
  char *text = expo_render(&in);
  assert_non_null(text);
  assert_non_null(strstr(text, "chaindns_queries_total{transport=\"udp\",type=\"A\"} 7\n"));
  assert_non_null(strstr(text, "chaindns_responses_total{rcode=\"SERVFAIL\"} 1\n"));
  assert_non_null(strstr(text, "chaindns_responses_total{rcode=\"other\"} 2\n"));
  assert_non_null(strstr(text, "chaindns_chain_length_bucket{le=\"2\"} 0\n"));
  assert_non_null(strstr(text, "chaindns_chain_length_bucket{le=\"3\"} 1\n"));
  assert_non_null(strstr(text, "chaindns_chain_length_bucket{le=\"+Inf\"} 1\n"));
  assert_non_null(strstr(text, "chaindns_chain_length_sum 3\n"));
  assert_non_null(strstr(text, "zone=\"we\\\"ird\\\\zone.\""));
  assert_non_null(strstr(text, "chaindns_build_info{version=\"9.9\"} 1\n"));
  assert_null(strstr(text, "chaindns_redis_up")); /* no shared tier configured */
  free(text);
  struct jbuf b = {0};
  jbuf_json_str(&b, "a\"b\\c\n\x01");
  char *j = jbuf_take(&b);
  assert_string_equal(j, "\"a\\\"b\\\\c\\u000a\\u0001\"");
  free(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hist_buckets),
      cmocka_unit_test(test_purpose_and_labels),
      cmocka_unit_test(test_zone_table_evicts_least_used),
      cmocka_unit_test(test_zone_export_is_monotonic),
      cmocka_unit_test(test_zone_export_new_zone_visible_at_once),
      cmocka_unit_test(test_chain_tables),
      cmocka_unit_test(test_exposition_and_escaping),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
