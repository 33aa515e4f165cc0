/* Unit tests for cache/redis.c without a Redis server: URL parsing, what the
 * log may show, and a tier whose server is not there (lookups are misses at
 * once, writes are dropped, closing frees everything). The tier against
 * real servers is covered by tests/integration/test_redis*.py. */
#include "unit_helpers.h"

#include <uv.h>

#include "cache/redis.h"
#include "resolver/lib/name.h"

static void test_parse_url(void **state) {
  (void)state;
  struct redis_endpoint ep;
  const char *why = NULL;
  assert_int_equal(redis_parse_url("redis://127.0.0.1", &ep, &why), 0);
  assert_string_equal(ep.host, "127.0.0.1");
  assert_int_equal(ep.port, 6379);
  assert_int_equal(ep.db, -1);
  assert_false(ep.unix_socket);
  assert_int_equal(redis_parse_url("redis://user:p@ss:word@10.0.0.5:6380/3", &ep, &why), 0);
  assert_string_equal(ep.user, "user");
  assert_string_equal(ep.password, "p@ss:word"); /* up to the last '@' */
  assert_string_equal(ep.host, "10.0.0.5");
  assert_int_equal(ep.port, 6380);
  assert_int_equal(ep.db, 3);
  assert_int_equal(redis_parse_url("redis://:secret@[::1]:7000", &ep, &why), 0);
  assert_string_equal(ep.user, "");
  assert_string_equal(ep.password, "secret");
  assert_string_equal(ep.host, "::1");
  assert_int_equal(ep.port, 7000);
  assert_int_equal(redis_parse_url("redis://localhost/2", &ep, &why), 0);
  assert_string_equal(ep.host, "127.0.0.1");
  assert_int_equal(ep.db, 2);
  assert_int_equal(redis_parse_url("unix:///run/redis/redis.sock?db=4", &ep, &why), 0);
  assert_true(ep.unix_socket);
  assert_string_equal(ep.path, "/run/redis/redis.sock");
  assert_int_equal(ep.db, 4);
  assert_int_equal(redis_parse_url("unix:/tmp/r.sock", &ep, &why), 0);
  assert_string_equal(ep.path, "/tmp/r.sock");

  static const char *bad[] = {
      "", "127.0.0.1:6379", "http://127.0.0.1", "redis://", "redis://redis.example.com",
      "redis://127.0.0.1:0", "redis://127.0.0.1:65536", "redis://127.0.0.1:x",
      "redis://127.0.0.1/x", "redis://[::1", "redis://[::1]x", "unix://relative.sock",
      "unix:///tmp/r.sock?db=", "unix:///tmp/r.sock?dbx=1",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    why = NULL;
    if (redis_parse_url(bad[i], &ep, &why) == 0) fail_msg("accepted '%s'", bad[i]);
    assert_non_null(why);
  }
}

static void test_describe_hides_the_password(void **state) {
  (void)state;
  struct redis_config rc;
  redis_config_defaults(&rc);
  assert_false(redis_enabled(&rc));
  strcpy(rc.url, "redis://admin:hunter2hunter2@127.0.0.1:6380/1");
  strcpy(rc.replicas[rc.nreplicas++], "redis://127.0.0.2");
  assert_true(redis_enabled(&rc));
  char buf[200];
  redis_describe(&rc, buf, sizeof buf);
  assert_string_equal(buf, "127.0.0.1:6380 + 1 replica(s)");
  rc.nsentinels = 2;
  strcpy(rc.sentinel_master, "fleet");
  redis_describe(&rc, buf, sizeof buf);
  assert_null(strstr(buf, "hunter2"));
  assert_non_null(strstr(buf, "fleet"));
}

static void run_for(uv_loop_t *loop, uint64_t ms) {
  uint64_t end = uv_now(loop) + ms;
  while (uv_now(loop) < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    uv_sleep(5);
    uv_update_time(loop);
  }
}

static void never_called(void *arg, const struct fetch_result *res) {
  (void)res;
  fail_msg("callback of a lookup that was not sent (%p)", arg);
}

static void test_tier_without_server(void **state) {
  (void)state;
  uv_loop_t loop;
  uv_loop_init(&loop);
  struct cache_limits lim = {1 << 20, 0, 86400, 3600, 0};
  cache_t *mem = cache_new(&lim);
  struct redis_config rc;
  redis_config_defaults(&rc);
  strcpy(rc.url, "redis://127.0.0.1:1"); /* nothing listens on port 1 */
  redis_tier_t *t = redis_tier_new(&loop, &rc, mem, 16);
  assert_non_null(t);
  run_for(&loop, 50);
  ldns_rdf *name = dn("www.example.com.");
  struct fetch_key k = {name, LDNS_RR_TYPE_A, RECORD_RRSET};
  assert_null(redis_tier_lookup(t, &k, 1, never_called, NULL));
  uint8_t owner[256];
  struct cache_record rec = {owner, name_key(name, owner), LDNS_RR_TYPE_A, RECORD_RRSET, 3,
                             (int64_t)time(NULL) + 60, 60, (const uint8_t *)"", 0, 0};
  redis_tier_store(t, &rec);
  rec.rank = 1; /* glue is never shared, not even counted as dropped */
  redis_tier_store(t, &rec);
  struct redis_stats stats, *st = &stats;
  redis_tier_stats(t, st);
  assert_int_equal(st->skipped, 1);
  assert_int_equal(st->lookups, 0);
  assert_int_equal(st->writes_dropped, 1);
  assert_int_equal(st->connects, 0);
  assert_int_equal(st->up, 0);
  redis_tier_close(t);
  assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0); /* every handle closed */
  assert_int_equal(uv_loop_close(&loop), 0);
  ldns_rdf_deep_free(name);
  cache_free(mem);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_url),
      cmocka_unit_test(test_describe_hides_the_password),
      cmocka_unit_test(test_tier_without_server),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
