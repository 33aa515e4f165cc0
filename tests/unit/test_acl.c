/* Unit tests for resolver/daemon/acl.c: CIDR parsing and client matching. */
#include "unit_helpers.h"

#include <netinet/in.h>

#include "resolver/daemon/acl.h"

static bool allows(const struct acl *acl, const char *ip) {
  struct sockaddr_storage ss = sockaddr_of(ip, 40000);
  return acl_allows(acl, (struct sockaddr *)&ss);
}

static void test_loopback_default(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  acl_set_loopback(&acl);
  assert_int_equal(acl.n, 2);
  assert_true(allows(&acl, "127.0.0.1"));
  assert_true(allows(&acl, "127.255.255.254"));
  assert_true(allows(&acl, "::1"));
  assert_true(allows(&acl, "::ffff:127.0.0.1")); /* mapped loopback */
  assert_false(allows(&acl, "10.1.2.3"));
  assert_false(allows(&acl, "128.0.0.1"));
  assert_false(allows(&acl, "::2"));
  assert_false(allows(&acl, "2001:db8::1"));
  assert_false(allows(&acl, "::ffff:10.1.2.3"));
}

static void test_set_loopback_replaces(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "10.0.0.0/8"), 0);
  acl_set_loopback(&acl);
  assert_false(allows(&acl, "10.1.2.3"));
  assert_true(allows(&acl, "127.0.0.1"));
}

static void test_ipv4_prefix_boundaries(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "192.168.4.0/22"), 0);
  assert_false(allows(&acl, "192.168.3.255"));
  assert_true(allows(&acl, "192.168.4.0"));
  assert_true(allows(&acl, "192.168.7.255"));
  assert_false(allows(&acl, "192.168.8.0"));

  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "10.0.0.0/8"), 0);
  assert_true(allows(&acl, "10.0.0.0"));
  assert_true(allows(&acl, "10.255.255.255"));
  assert_false(allows(&acl, "11.0.0.0"));
  assert_false(allows(&acl, "9.255.255.255"));

  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "203.0.113.128/25"), 0);
  assert_false(allows(&acl, "203.0.113.127"));
  assert_true(allows(&acl, "203.0.113.128"));
  assert_true(allows(&acl, "203.0.113.255"));

  /* /32 and a bare address: exactly one host. */
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "198.51.100.7/32"), 0);
  assert_int_equal(acl_add(&acl, "198.51.100.9"), 0);
  assert_true(allows(&acl, "198.51.100.7"));
  assert_true(allows(&acl, "198.51.100.9"));
  assert_false(allows(&acl, "198.51.100.8"));
  assert_false(allows(&acl, "198.51.100.6"));

  /* /0 matches every IPv4 client and no IPv6 one. */
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "0.0.0.0/0"), 0);
  assert_true(allows(&acl, "1.2.3.4"));
  assert_true(allows(&acl, "255.255.255.255"));
  assert_false(allows(&acl, "2001:db8::1"));
}

static void test_host_bits_in_prefix(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  /* Host bits set in the entry are ignored beyond the prefix. */
  assert_int_equal(acl_add(&acl, "10.1.2.3/16"), 0);
  assert_true(allows(&acl, "10.1.200.1"));
  assert_false(allows(&acl, "10.2.0.1"));
}

static void test_ipv6_prefix_boundaries(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "2001:db8:1234::/48"), 0);
  assert_true(allows(&acl, "2001:db8:1234::1"));
  assert_true(allows(&acl, "2001:db8:1234:ffff:ffff:ffff:ffff:ffff"));
  assert_false(allows(&acl, "2001:db8:1235::"));
  assert_false(allows(&acl, "2001:db8:1233:ffff::1"));

  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "fd00::/7"), 0); /* prefix not on a byte */
  assert_true(allows(&acl, "fc00::1"));
  assert_true(allows(&acl, "fdff::1"));
  assert_false(allows(&acl, "fe00::1"));
  assert_false(allows(&acl, "fb00::1"));

  /* An IPv6 entry does not match IPv4 clients. */
  assert_false(allows(&acl, "10.0.0.1"));
}

static void test_mapped_ipv6_matched_as_ipv4(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "192.0.2.0/24"), 0);
  assert_true(allows(&acl, "::ffff:192.0.2.10"));
  assert_false(allows(&acl, "::ffff:192.0.3.10"));
  /* Not mapped: the IPv4-compatible form and NAT64 are plain IPv6. */
  assert_false(allows(&acl, "::192.0.2.10"));
  assert_false(allows(&acl, "64:ff9b::192.0.2.10"));
}

static void test_invalid_cidrs_rejected(void **state) {
  (void)state;
  static const char *bad[] = {
      "", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "10.0.0/8",
      "256.0.0.0/8", "10.0.0.0/8/8", "::1/129", "2001:db8::/", "example.com",
      "10.0.0.0 /8", "/8", "1.2.3.4.5",
      "0123456789012345678901234567890123456789012345678901234567890123456789",
  };
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (acl_add(&acl, bad[i]) != -1) fail_msg("accepted bad CIDR '%s'", bad[i]);
    assert_int_equal(acl.n, 0);
  }
  assert_false(allows(&acl, "0.0.0.0"));
}

static void test_capacity(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  char buf[32];
  for (int i = 0; i < ACL_MAX; i++) {
    snprintf(buf, sizeof buf, "10.%d.0.0/16", i);
    assert_int_equal(acl_add(&acl, buf), 0);
  }
  assert_int_equal(acl_add(&acl, "192.0.2.0/24"), -1);
  assert_int_equal(acl.n, ACL_MAX);
  assert_true(allows(&acl, "10.63.1.1"));
  assert_false(allows(&acl, "192.0.2.1"));
}

static void test_non_inet_family(void **state) {
  (void)state;
  struct acl acl;
  memset(&acl, 0, sizeof acl);
  assert_int_equal(acl_add(&acl, "0.0.0.0/0"), 0);
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof ss);
  ss.ss_family = AF_UNIX;
  assert_false(acl_allows(&acl, (struct sockaddr *)&ss));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loopback_default),
      cmocka_unit_test(test_set_loopback_replaces),
      cmocka_unit_test(test_ipv4_prefix_boundaries),
      cmocka_unit_test(test_host_bits_in_prefix),
      cmocka_unit_test(test_ipv6_prefix_boundaries),
      cmocka_unit_test(test_mapped_ipv6_matched_as_ipv4),
      cmocka_unit_test(test_invalid_cidrs_rejected),
      cmocka_unit_test(test_capacity),
      cmocka_unit_test(test_non_inet_family),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
