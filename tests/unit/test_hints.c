/* Unit tests for resolver/core/hints.c: built-in hints and named.root files. */
#include "unit_helpers.h"

#include <unistd.h>

#include "resolver/core/hints.h"

static void write_file(char *path, const char *text) {
  strcpy(path, "/tmp/chaindns-hints-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

/* Load text as a hints file; err gets the message on failure. */
static struct hints *load(const char *text, char *path, char *err, size_t errlen) {
  write_file(path, text);
  struct hints *h = hints_load(path, err, errlen);
  unlink(path);
  return h;
}

static void test_builtin(void **state) {
  (void)state;
  struct hints *h = hints_builtin();
  assert_non_null(h);
  assert_int_equal(ldns_rr_list_rr_count(h->ns), 13);
  assert_int_equal(ldns_rr_list_rr_count(h->addrs), 26);
  for (size_t i = 0; i < 13; i++) {
    ldns_rr *ns = ldns_rr_list_rr(h->ns, i);
    assert_int_equal(ldns_rr_get_type(ns), LDNS_RR_TYPE_NS);
    assert_int_equal(ldns_dname_label_count(ldns_rr_owner(ns)), 0);
  }
  ldns_rr *a = rr("a.root-servers.net. 3600000 IN A 198.41.0.4");
  bool found = false;
  for (size_t i = 0; i < ldns_rr_list_rr_count(h->addrs); i++)
    if (ldns_rr_compare(ldns_rr_list_rr(h->addrs, i), a) == 0) found = true;
  assert_true(found);
  ldns_rr_free(a);
  hints_free(h);
}

static const char *NAMED_ROOT =
    ";       This file holds the information on root name servers needed to\n"
    ";       initialize cache of Internet domain name servers\n"
    ";\n"
    ".                        3600000      NS    A.ROOT-SERVERS.NET.\n"
    "A.ROOT-SERVERS.NET.      3600000      A     192.0.2.1\n"
    "A.ROOT-SERVERS.NET.      3600000      AAAA  2001:db8::1\n"
    ";\n"
    ".                        3600000      NS    B.ROOT-SERVERS.NET.\n"
    "B.ROOT-SERVERS.NET.      3600000      A     192.0.2.2\n"
    "example.                 3600000      NS    ns.example.\n"
    "B.ROOT-SERVERS.NET.      3600000      TXT   \"not a hint\"\n"
    "; End of file\n";

static void test_load_named_root(void **state) {
  (void)state;
  char path[64], err[512] = "";
  struct hints *h = load(NAMED_ROOT, path, err, sizeof err);
  if (!h) fail_msg("%s", err);
  /* Root NS only (not example.'s), addresses only (not the TXT). */
  assert_int_equal(ldns_rr_list_rr_count(h->ns), 2);
  assert_int_equal(ldns_rr_list_rr_count(h->addrs), 3);
  hints_free(h);
}

/* The IANA root or a private one: decides whether the built-in root trust
 * anchor can apply (builtin-trust-anchor: auto). Names do not count (a test
 * bed may call its servers a.root-servers.net.), addresses do, former ones
 * included. */
static void test_iana_or_private_root(void **state) {
  (void)state;
  struct hints *h = hints_builtin();
  assert_true(hints_are_iana(h));
  hints_free(h);
  char path[64], err[512] = "";
  h = load(NAMED_ROOT, path, err, sizeof err); /* a.root-servers.net. at 192.0.2.1 */
  assert_non_null(h);
  assert_false(hints_are_iana(h));
  hints_free(h);
  h = load(".  3600000 NS B.ROOT-SERVERS.NET.\n"
           "B.ROOT-SERVERS.NET. 3600000 A 199.9.14.201\n", path, err, sizeof err);
  assert_non_null(h);
  assert_true(hints_are_iana(h)); /* b's address before 2023 */
  hints_free(h);
  h = load(".  3600000 NS k.example.\nk.example. 3600000 AAAA 2001:7fd::1\n", path, err,
           sizeof err);
  assert_non_null(h);
  assert_true(hints_are_iana(h));
  hints_free(h);
  assert_false(hints_are_iana(NULL));
}

static void test_load_errors(void **state) {
  (void)state;
  char path[64], err[512] = "";
  assert_null(hints_load("/nonexistent/named.root", err, sizeof err));
  assert_non_null(strstr(err, "/nonexistent/named.root"));

  err[0] = 0;
  assert_null(load(".  3600000 NS A.ROOT-SERVERS.NET.\n", path, err, sizeof err));
  assert_non_null(strstr(err, path)); /* no addresses */

  err[0] = 0;
  assert_null(load("A.ROOT-SERVERS.NET. 3600000 A 192.0.2.1\n", path, err, sizeof err));
  assert_non_null(strstr(err, path)); /* no NS */

  err[0] = 0;
  assert_null(load(".  3600000 NS A.ROOT-SERVERS.NET.\nA.ROOT-SERVERS.NET. 3600000 A 1.2.3\n",
                   path, err, sizeof err));
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "bad record"));
}

/* The error names the line of the bad record itself, not the line ldns's
 * reader stopped at (after it, or after the blank lines following it). */
static void test_error_names_the_bad_line(void **state) {
  (void)state;
  char path[64], err[512] = "", want[128];
  const char *text =
      ".                    3600000 NS A.ROOT-SERVERS.NET.\n"
      "A.ROOT-SERVERS.NET.  3600000 A  not-an-address\n"
      "B.ROOT-SERVERS.NET.  3600000 A  192.0.2.2\n";
  assert_null(load(text, path, err, sizeof err));
  snprintf(want, sizeof want, "%s:2:", path);
  if (!strstr(err, want)) fail_msg("expected the error at line 2 ('%s'), got: %s", want, err);

  const char *text2 =
      ".                    3600000 NS A.ROOT-SERVERS.NET.\n"
      "\n"
      "\n"
      "A.ROOT-SERVERS.NET.  3600000 A  1.2.3\n"
      "\n"
      "B.ROOT-SERVERS.NET.  3600000 A  192.0.2.2\n";
  err[0] = 0;
  assert_null(load(text2, path, err, sizeof err));
  snprintf(want, sizeof want, "%s:4:", path);
  if (!strstr(err, want)) fail_msg("expected the error at line 4 ('%s'), got: %s", want, err);
}

/* $TTL gives records without a TTL their TTL; $ORIGIN completes relative
 * names; an unknown directive and an overlong line are errors. */
static void test_directives_and_long_lines(void **state) {
  (void)state;
  char path[64], err[512] = "";
  struct hints *h = load("$TTL 1234\n"
                         "$ORIGIN root-servers.test.\n"
                         ". NS a\n"
                         "a A 192.0.2.1 ; trailing comment\n",
                         path, err, sizeof err);
  if (!h) fail_msg("%s", err);
  assert_int_equal(ldns_rr_list_rr_count(h->ns), 1);
  ldns_rr *ns = ldns_rr_list_rr(h->ns, 0);
  assert_int_equal(ldns_rr_ttl(ns), 1234);
  assert_name(ldns_rr_rdf(ns, 0), "a.root-servers.test.");
  assert_name(ldns_rr_owner(ldns_rr_list_rr(h->addrs, 0)), "a.root-servers.test.");
  hints_free(h);

  char want[128];
  assert_null(load(". 3600000 NS a.x.\n$INCLUDE other\n", path, err, sizeof err));
  snprintf(want, sizeof want, "%s:2: bad record: unsupported directive", path);
  assert_string_equal(err, want);

  char big[2100];
  memset(big, ' ', sizeof big);
  memcpy(big, ". 3600000 NS a.x.\n", 18);
  memcpy(big + sizeof big - 40, "a.x. 3600000 A 192.0.2.1\n", 26);
  big[sizeof big - 14] = 0;
  assert_null(load(big, path, err, sizeof err));
  snprintf(want, sizeof want, "%s:2: bad record: line too long", path);
  assert_string_equal(err, want);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_builtin),
      cmocka_unit_test(test_load_named_root),
      cmocka_unit_test(test_iana_or_private_root),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_error_names_the_bad_line),
      cmocka_unit_test(test_directives_and_long_lines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
