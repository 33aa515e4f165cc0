/* Unit tests for resolver/lib/util.c: address and size parsing, address
 * formatting and comparison, randomness, clocks. */
#include "unit_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "resolver/lib/util.h"

static void expect_v4(const char *s, int def, const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (util_parse_addr_port(s, def, &ss, &len) != 0) fail_msg("rejected '%s'", s);
  assert_int_equal(ss.ss_family, AF_INET);
  assert_int_equal(len, sizeof(struct sockaddr_in));
  const struct sockaddr_in *in = (const void *)&ss;
  char buf[64];
  inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  assert_string_equal(buf, ip);
  assert_int_equal(ntohs(in->sin_port), port);
}

static void expect_v6(const char *s, int def, const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (util_parse_addr_port(s, def, &ss, &len) != 0) fail_msg("rejected '%s'", s);
  assert_int_equal(ss.ss_family, AF_INET6);
  assert_int_equal(len, sizeof(struct sockaddr_in6));
  const struct sockaddr_in6 *in6 = (const void *)&ss;
  char buf[64];
  inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  assert_string_equal(buf, ip);
  assert_int_equal(ntohs(in6->sin6_port), port);
}

static void expect_bad(const char *s, int def) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (util_parse_addr_port(s, def, &ss, &len) != -1) fail_msg("accepted '%s'", s);
}

static void test_parse_addr_port_v4(void **state) {
  (void)state;
  expect_v4("127.0.0.1:53", 0, "127.0.0.1", 53);
  expect_v4("192.0.2.1:5353", 53, "192.0.2.1", 5353);
  expect_v4("0.0.0.0:0", 53, "0.0.0.0", 0);
  expect_v4("10.0.0.1:65535", 53, "10.0.0.1", 65535);
  expect_v4("10.0.0.1", 53, "10.0.0.1", 53); /* default port */
}

static void test_parse_addr_port_v6(void **state) {
  (void)state;
  expect_v6("[::1]:53", 0, "::1", 53);
  expect_v6("[2001:db8::1]:8053", 53, "2001:db8::1", 8053);
  expect_v6("[::1]", 53, "::1", 53);
  expect_v6("::1", 5300, "::1", 5300); /* bare IPv6, default port */
  expect_v6("2001:db8::53", 53, "2001:db8::53", 53);
}

static void test_parse_addr_port_bad(void **state) {
  (void)state;
  expect_bad("", 53);
  expect_bad("127.0.0.1:", 53);
  expect_bad("127.0.0.1:65536", 53);
  expect_bad("127.0.0.1:-1", 53);
  expect_bad("127.0.0.1:53x", 53);
  expect_bad("127.0.0.1:x", 53);
  expect_bad("localhost:53", 53);
  expect_bad("256.1.1.1:53", 53);
  expect_bad("1.2.3:53", 53);
  expect_bad("[::1]:", 53);
  expect_bad("[::1", 53);
  expect_bad("[::1]53", 53);
  expect_bad("[::1]:99999", 53);
  expect_bad("[zz::1]:53", 53);
  expect_bad("[]:53", 53);
  expect_bad("::1:53:x", 53);
  /* No port and no default. */
  expect_bad("127.0.0.1", -1);
  expect_bad("[::1]", -1);
  /* Longer than any address. */
  expect_bad("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc", 53);
  expect_bad("[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc]:53", 53);
  expect_bad("111111111111111111111111111111111111111111111111111111111111:53", 53);
}

static void expect_size(const char *s, size_t want) {
  size_t got = 12345;
  if (util_parse_size(s, &got) != 0) fail_msg("rejected size '%s'", s);
  if (got != want) fail_msg("size '%s' = %zu, want %zu", s, got, want);
}

static void expect_bad_size(const char *s) {
  size_t got = 12345;
  if (util_parse_size(s, &got) != -1) fail_msg("accepted size '%s' as %zu", s, got);
}

static void test_parse_size(void **state) {
  (void)state;
  expect_size("0", 0);
  expect_size("1048576", 1048576);
  expect_size("512k", 512u * 1024);
  expect_size("512K", 512u * 1024);
  expect_size("64m", 64u << 20);
  expect_size("64M", 64u << 20);
  expect_size("64mb", 64u << 20);
  expect_size("64MB", 64u << 20);
  expect_size("1g", 1u << 30);
  expect_size("2G", 2ull << 30);
}

static void test_parse_size_bad(void **state) {
  (void)state;
  expect_bad_size("");
  expect_bad_size("k");
  expect_bad_size("m");
  expect_bad_size("-1");
  expect_bad_size("-1m");
  expect_bad_size("64x");
  expect_bad_size("64kk");
  expect_bad_size("64 m");
  expect_bad_size("64mbx");
  expect_bad_size("1t");
  expect_bad_size("18446744073709551616");   /* ERANGE */
  expect_bad_size("17179869184g");           /* overflows when scaled */
  expect_bad_size("18014398509481984k");
}

/* strtoull skips leading white space and accepts a minus sign, so " -1"
 * would parse as 2^64 - 1: through the config, `cache-size: " -5"` would be
 * an effectively unbounded cache. */
static void test_parse_size_rejects_negative_after_space(void **state) {
  (void)state;
  expect_bad_size(" -1");
  expect_bad_size(" -5");
  expect_bad_size("\t-64m");
}

static void test_addr_str_and_equal(void **state) {
  (void)state;
  struct sockaddr_storage a, b;
  socklen_t la, lb;
  char buf[64];
  assert_int_equal(util_parse_addr_port("192.0.2.1:53", 0, &a, &la), 0);
  assert_string_equal(util_addr_str((struct sockaddr *)&a, buf, sizeof buf), "192.0.2.1:53");
  assert_int_equal(util_parse_addr_port("[2001:db8::1]:853", 0, &b, &lb), 0);
  assert_string_equal(util_addr_str((struct sockaddr *)&b, buf, sizeof buf), "[2001:db8::1]:853");

  assert_true(util_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&a));
  assert_false(util_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
  struct sockaddr_storage c;
  socklen_t lc;
  assert_int_equal(util_parse_addr_port("192.0.2.1:54", 0, &c, &lc), 0);
  assert_false(util_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&c)); /* port */
  assert_int_equal(util_parse_addr_port("192.0.2.2:53", 0, &c, &lc), 0);
  assert_false(util_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&c)); /* address */
  assert_int_equal(util_parse_addr_port("[2001:db8::1]:853", 0, &c, &lc), 0);
  assert_true(util_addr_equal((struct sockaddr *)&b, (struct sockaddr *)&c));
  assert_int_equal(util_parse_addr_port("[2001:db8::2]:853", 0, &c, &lc), 0);
  assert_false(util_addr_equal((struct sockaddr *)&b, (struct sockaddr *)&c));

  struct sockaddr_storage u;
  memset(&u, 0, sizeof u);
  u.ss_family = AF_UNIX;
  assert_string_equal(util_addr_str((struct sockaddr *)&u, buf, sizeof buf), "?");
  assert_false(util_addr_equal((struct sockaddr *)&u, (struct sockaddr *)&u));
}

static void test_random_not_constant(void **state) {
  (void)state;
  /* 1000 draws (several pool refills): many distinct values, and both
   * halves of the word vary. */
  uint32_t v[1000];
  uint32_t or_all = 0, and_all = 0xffffffffu;
  for (int i = 0; i < 1000; i++) {
    v[i] = util_random();
    or_all |= v[i];
    and_all &= v[i];
  }
  int distinct = 0;
  for (int i = 0; i < 1000; i++) {
    bool dup = false;
    for (int j = 0; j < i && !dup; j++) dup = v[j] == v[i];
    if (!dup) distinct++;
  }
  assert_true(distinct >= 990);
  assert_int_equal(or_all, 0xffffffffu); /* every bit was 1 at least once */
  assert_int_equal(and_all, 0);          /* and 0 at least once */
  int same = 0;
  for (int i = 1; i < 1000; i++) same += v[i] == v[i - 1];
  assert_true(same < 3);
}

static void test_clocks(void **state) {
  (void)state;
  int64_t s = util_now_sec();
  assert_true(s > 1600000000LL); /* after 2020 */
  uint64_t m1 = util_mono_ms();
  uint64_t m2 = util_mono_ms();
  assert_true(m2 >= m1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_addr_port_v4),
      cmocka_unit_test(test_parse_addr_port_v6),
      cmocka_unit_test(test_parse_addr_port_bad),
      cmocka_unit_test(test_parse_size),
      cmocka_unit_test(test_parse_size_bad),
      cmocka_unit_test(test_parse_size_rejects_negative_after_space),
      cmocka_unit_test(test_addr_str_and_equal),
      cmocka_unit_test(test_random_not_constant),
      cmocka_unit_test(test_clocks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
