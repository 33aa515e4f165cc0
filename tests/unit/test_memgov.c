/* Unit tests for resolver/daemon/memgov.c's decisions and the cache budget it
 * moves. */
#include "unit_helpers.h"

#include "cache/cache.h"
#include "resolver/daemon/memgov.h"

#define MIB (1024u * 1024u)

static void test_decisions(void **state) {
  (void)state;
  size_t limit = 64 * MIB, nominal = 51 * MIB;
  /* Within the limit, at nominal: nothing to do. */
  assert_int_equal(memgov_next_budget(60 * MIB, limit, nominal, nominal), nominal);
  /* Over by 10 MiB: the budget gives back the excess and 2 % of the limit. */
  size_t b = memgov_next_budget(74 * MIB, limit, nominal, nominal);
  assert_int_equal(b, nominal - 10 * MIB - limit / 50);
  /* Far over: never below a quarter of nominal. */
  assert_int_equal(memgov_next_budget(500 * MIB, limit, nominal, nominal), nominal / 4);
  /* Between 95 % and 100 %: hold. */
  assert_int_equal(memgov_next_budget(62 * MIB, limit, b, nominal), b);
  /* Room again: half of it back per step, up to nominal only. */
  size_t up = memgov_next_budget(40 * MIB, limit, b, nominal);
  assert_true(up > b && up <= nominal);
  assert_int_equal(up - b, (limit - limit / 20 - 40 * MIB) / 2 < nominal - b
                               ? (limit - limit / 20 - 40 * MIB) / 2 : nominal - b);
  assert_int_equal(memgov_next_budget(0, limit, up, nominal), nominal);
  assert_true(memgov_rss() > 0);
}

static void test_cache_budget_evicts_at_once(void **state) {
  (void)state;
  struct cache_limits lim = {4 * MIB, 0, 86400, 3600, 0};
  cache_t *c = cache_new(&lim);
  for (int i = 0; i < 20000; i++) {
    char text[96];
    snprintf(text, sizeof text, "n%d.example.com. 300 IN A 192.0.2.1", i);
    ldns_rr_list *l = rrlist(text, NULL);
    cache_store_rrset(c, l, CACHE_RANK_ANSWER, 1700000000, NULL);
    ldns_rr_list_deep_free(l);
  }
  struct cache_stats before, after;
  cache_get_stats(c, &before);
  assert_true(cache_budget(c) <= 4 * MIB && cache_budget(c) > 4 * MIB - 64 * 1024);
  cache_set_budget(c, 1 * MIB);
  cache_get_stats(c, &after);
  assert_true(after.bytes <= 1 * MIB);
  assert_true(after.entries < before.entries / 2);
  assert_true(cache_budget(c) <= 1 * MIB);
  cache_set_budget(c, 4 * MIB); /* room again: nothing comes back by itself */
  cache_get_stats(c, &before);
  assert_int_equal(before.entries, after.entries);
  cache_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decisions),
      cmocka_unit_test(test_cache_budget_evicts_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
