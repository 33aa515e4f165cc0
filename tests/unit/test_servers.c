/* Unit tests for resolver/core/servers.c: RTT smoothing, RTO back-off, scores,
 * the no-EDNS flag. */
#include "unit_helpers.h"

#include <netinet/in.h>

#include "resolver/core/servers.h"

#define SA(x) ((struct sockaddr *)&(x))

static void test_unknown_server(void **state) {
  (void)state;
  servers_t *s = servers_new(16);
  assert_non_null(s);
  struct sockaddr_storage a = sockaddr_of("192.0.2.1", 53);
  assert_int_equal(servers_rto(s, SA(a)), SERVERS_UNKNOWN_RTO_MS);
  assert_int_equal(servers_score(s, SA(a), 1000), 300);
  assert_false(servers_no_edns(s, SA(a)));
  servers_free(s);
}

static void test_rtt_smoothing(void **state) {
  (void)state;
  servers_t *s = servers_new(64);
  struct sockaddr_storage a = sockaddr_of("192.0.2.1", 53);
  servers_record_rtt(s, SA(a), 100);
  /* srtt 100, rttvar 50: rto = 100 + 4 * 50 */
  assert_int_equal(servers_rto(s, SA(a)), 300);
  assert_int_equal(servers_score(s, SA(a), 0), 100);
  servers_record_rtt(s, SA(a), 20);
  /* rttvar = (3*50 + 80) / 4 = 57, srtt = (700 + 20) / 8 = 90 */
  assert_int_equal(servers_score(s, SA(a), 0), 90);
  assert_int_equal(servers_rto(s, SA(a)), 90 + 4 * 57);
  /* Fast servers are clamped to the minimum RTO. */
  struct sockaddr_storage b = sockaddr_of("192.0.2.2", 53);
  servers_record_rtt(s, SA(b), 2);
  assert_int_equal(servers_rto(s, SA(b)), SERVERS_MIN_RTO_MS);
  /* Another port is another server. */
  struct sockaddr_storage a2 = sockaddr_of("192.0.2.1", 5353);
  assert_int_equal(servers_rto(s, SA(a2)), SERVERS_UNKNOWN_RTO_MS);
  servers_free(s);
}

static void test_timeout_backoff_and_penalty(void **state) {
  (void)state;
  servers_t *s = servers_new(64);
  struct sockaddr_storage a = sockaddr_of("2001:db8::53", 53);
  servers_record_timeout(s, SA(a), 1000);
  assert_int_equal(servers_rto(s, SA(a)), 2 * SERVERS_UNKNOWN_RTO_MS);
  assert_int_equal(servers_score(s, SA(a), 1000), 300 + 1000);
  servers_record_timeout(s, SA(a), 2000);
  assert_int_equal(servers_rto(s, SA(a)), 4 * SERVERS_UNKNOWN_RTO_MS);
  assert_int_equal(servers_score(s, SA(a), 2000), 300 + 2000);
  for (int i = 0; i < 20; i++) servers_record_timeout(s, SA(a), 3000);
  assert_int_equal(servers_rto(s, SA(a)), SERVERS_MAX_RTO_MS);
  /* The penalty is forgotten after a minute. */
  assert_int_equal(servers_score(s, SA(a), 3000 + 60000), 300);
  /* An answer resets the back-off. */
  servers_record_rtt(s, SA(a), 40);
  assert_int_equal(servers_rto(s, SA(a)), 40 + 4 * 20);
  assert_int_equal(servers_score(s, SA(a), 3001), 40);
  servers_free(s);
}

static void test_no_edns_flag(void **state) {
  (void)state;
  servers_t *s = servers_new(64);
  struct sockaddr_storage a = sockaddr_of("192.0.2.1", 53), b = sockaddr_of("192.0.2.2", 53);
  servers_set_no_edns(s, SA(a));
  assert_true(servers_no_edns(s, SA(a)));
  assert_false(servers_no_edns(s, SA(b)));
  /* Kept across RTT updates. */
  servers_record_rtt(s, SA(a), 30);
  assert_true(servers_no_edns(s, SA(a)));
  servers_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unknown_server),
      cmocka_unit_test(test_rtt_smoothing),
      cmocka_unit_test(test_timeout_backoff_and_penalty),
      cmocka_unit_test(test_no_edns_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
