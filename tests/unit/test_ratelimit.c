/* Per-client token buckets: burst, refill, slip, clients apart, IPv6 /64. */
#include "unit_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "resolver/daemon/ratelimit.h"

static struct sockaddr_storage v4(const char *a, uint16_t port) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *s = (struct sockaddr_in *)&ss;
  s->sin_family = AF_INET;
  s->sin_port = htons(port);
  inet_pton(AF_INET, a, &s->sin_addr);
  return ss;
}

static struct sockaddr_storage v6(const char *a) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
  s->sin6_family = AF_INET6;
  inet_pton(AF_INET6, a, &s->sin6_addr);
  return ss;
}

static enum rl_verdict check(ratelimit_t *rl, struct sockaddr_storage *a, uint64_t ms) {
  return ratelimit_check(rl, (struct sockaddr *)a, ms);
}

static void test_burst_then_limited_with_slip(void **state) {
  (void)state;
  ratelimit_t *rl = ratelimit_new(10, 3);
  struct sockaddr_storage a = v4("192.0.2.1", 1000);
  for (int i = 0; i < 10; i++) assert_int_equal(check(rl, &a, 5000), RL_PASS);
  /* Over the rate: drop, drop, slip, drop, drop, slip. */
  enum rl_verdict want[] = {RL_DROP, RL_DROP, RL_SLIP, RL_DROP, RL_DROP, RL_SLIP};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    assert_int_equal(check(rl, &a, 5000), want[i]);
  ratelimit_free(rl);
}

static void test_refills_at_the_rate(void **state) {
  (void)state;
  ratelimit_t *rl = ratelimit_new(10, 0);
  struct sockaddr_storage a = v4("192.0.2.1", 1000);
  for (int i = 0; i < 10; i++) assert_int_equal(check(rl, &a, 1000), RL_PASS);
  assert_int_equal(check(rl, &a, 1000), RL_DROP); /* slip 0: never TC */
  assert_int_equal(check(rl, &a, 1050), RL_DROP); /* half a token */
  assert_int_equal(check(rl, &a, 1100), RL_PASS); /* one token per 100 ms */
  assert_int_equal(check(rl, &a, 1100), RL_DROP);
  /* A long pause refills to one second's worth, no more. */
  int passed = 0;
  for (int i = 0; i < 30; i++) passed += check(rl, &a, 60000) == RL_PASS;
  assert_int_equal(passed, 10);
  ratelimit_free(rl);
}

static void test_clients_apart_ports_together(void **state) {
  (void)state;
  ratelimit_t *rl = ratelimit_new(2, 0);
  struct sockaddr_storage a1 = v4("192.0.2.1", 1000), a2 = v4("192.0.2.1", 2000);
  struct sockaddr_storage b = v4("192.0.2.2", 1000);
  assert_int_equal(check(rl, &a1, 10), RL_PASS);
  assert_int_equal(check(rl, &a2, 10), RL_PASS); /* same address, other port */
  assert_int_equal(check(rl, &a1, 10), RL_DROP);
  assert_int_equal(check(rl, &b, 10), RL_PASS);
  assert_int_equal(check(rl, &b, 10), RL_PASS);
  ratelimit_free(rl);
}

static void test_ipv6_by_its_64(void **state) {
  (void)state;
  ratelimit_t *rl = ratelimit_new(1, 0);
  struct sockaddr_storage x = v6("2001:db8:1:2::1"), y = v6("2001:db8:1:2:ffff::9");
  struct sockaddr_storage z = v6("2001:db8:1:3::1");
  assert_int_equal(check(rl, &x, 10), RL_PASS);
  assert_int_equal(check(rl, &y, 10), RL_DROP); /* the same /64 */
  assert_int_equal(check(rl, &z, 10), RL_PASS);
  ratelimit_free(rl);
}

static void test_table_is_bounded_and_keeps_working(void **state) {
  (void)state;
  ratelimit_t *rl = ratelimit_new(1, 0);
  char a[32];
  /* Far more clients than slots: new ones take the stalest slots. */
  for (int i = 0; i < 20000; i++) {
    snprintf(a, sizeof a, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
    struct sockaddr_storage s = v4(a, 53);
    assert_int_equal(check(rl, &s, 100 + (uint64_t)i), RL_PASS);
  }
  struct sockaddr_storage last = v4(a, 53);
  assert_int_equal(check(rl, &last, 20099), RL_DROP); /* still tracked */
  ratelimit_free(rl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_burst_then_limited_with_slip),
      cmocka_unit_test(test_refills_at_the_rate),
      cmocka_unit_test(test_clients_apart_ports_together),
      cmocka_unit_test(test_ipv6_by_its_64),
      cmocka_unit_test(test_table_is_bounded_and_keeps_working),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
