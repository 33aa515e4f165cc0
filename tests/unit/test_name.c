/* Unit tests for resolver/lib/name.c: case-insensitive comparison, bailiwick
 * checks at label boundaries, canonical keys. */
#include "unit_helpers.h"

#include "resolver/lib/name.h"

static bool eq(const char *a, const char *b) {
  ldns_rdf *x = dn(a), *y = dn(b);
  bool r = name_equal(x, y);
  ldns_rdf_deep_free(x);
  ldns_rdf_deep_free(y);
  return r;
}

static bool in(const char *sub, const char *parent) {
  ldns_rdf *x = dn(sub), *y = dn(parent);
  bool r = name_in(x, y);
  ldns_rdf_deep_free(x);
  ldns_rdf_deep_free(y);
  return r;
}

static void test_equal_case_insensitive(void **state) {
  (void)state;
  assert_true(eq("www.example.com.", "www.example.com."));
  assert_true(eq("WWW.Example.COM.", "www.example.com."));
  assert_true(eq("a.", "A."));
  assert_true(eq(".", "."));
}

static void test_equal_differs(void **state) {
  (void)state;
  assert_false(eq("www.example.com.", "www.example.org."));
  assert_false(eq("www.example.com.", "ww.example.com."));
  assert_false(eq("example.com.", "www.example.com."));
  assert_false(eq("a.", "."));
  /* Same length, different label split: "ab.c." vs "a.bc." */
  assert_false(eq("ab.c.", "a.bc."));
  /* '[' (0x5b) and '{' (0x7b) differ by 0x20 but are not letters. */
  assert_false(eq("a[.", "a{."));
}

static void test_in_equal_and_below(void **state) {
  (void)state;
  assert_true(in("example.com.", "example.com."));
  assert_true(in("www.example.com.", "example.com."));
  assert_true(in("a.b.c.www.example.com.", "example.com."));
  assert_true(in("WWW.EXAMPLE.com.", "Example.COM."));
  assert_true(in("com.", "."));
  assert_true(in(".", "."));
  assert_true(in("www.example.com.", "."));
}

static void test_in_not_above_or_sibling(void **state) {
  (void)state;
  assert_false(in("example.com.", "www.example.com.")); /* parent is not in child */
  assert_false(in("com.", "example.com."));
  assert_false(in(".", "com."));
  assert_false(in("example.org.", "example.com."));      /* sibling */
  assert_false(in("www.example.org.", "example.com."));
  assert_false(in("net.", "com."));
}

static void test_in_label_boundary_trap(void **state) {
  (void)state;
  /* Suffix match on the text but not on a label boundary. */
  assert_false(in("xample.com.", "ample.com."));
  assert_false(in("ample.com.", "xample.com."));
  assert_false(in("badexample.com.", "example.com."));
  assert_false(in("www.badexample.com.", "example.com."));
  assert_false(in("xcom.", "com."));
  assert_false(in("notexample.com.", "EXAMPLE.com."));
  /* A label whose bytes end in the parent's wire form is still not in it:
   * "a\003com." has wire 05 'a' 03 'c' 'o' 'm' 00, whose last 5 bytes are not
   * on a boundary. */
  assert_false(in("a\\003com.", "com."));
}

static void test_key_lowercases(void **state) {
  (void)state;
  ldns_rdf *mixed = dn("WwW.ExAmPlE.CoM.");
  ldns_rdf *lower = dn("www.example.com.");
  uint8_t k1[256], k2[256];
  size_t n1 = name_key(mixed, k1), n2 = name_key(lower, k2);
  assert_int_equal(n1, ldns_rdf_size(lower));
  assert_int_equal(n1, n2);
  assert_memory_equal(k1, k2, n1);
  assert_memory_equal(k1, ldns_rdf_data(lower), n1);
  /* The source name is not modified. */
  char buf[300];
  assert_string_equal(name_str(mixed, buf, sizeof buf), "WwW.ExAmPlE.CoM.");
  ldns_rdf_deep_free(mixed);
  ldns_rdf_deep_free(lower);
}

static void test_key_rejects_non_dname(void **state) {
  (void)state;
  ldns_rdf *a = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "192.0.2.1");
  assert_non_null(a);
  uint8_t k[256];
  assert_int_equal(name_key(a, k), 0);
  ldns_rdf_deep_free(a);
}

static void test_name_str(void **state) {
  (void)state;
  ldns_rdf *n = dn("www.example.com.");
  char buf[300];
  assert_string_equal(name_str(n, buf, sizeof buf), "www.example.com.");
  char small[5];
  assert_string_equal(name_str(n, small, sizeof small), "www.");
  assert_string_equal(name_str(NULL, buf, sizeof buf), "");
  ldns_rdf_deep_free(n);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_equal_case_insensitive),
      cmocka_unit_test(test_equal_differs),
      cmocka_unit_test(test_in_equal_and_below),
      cmocka_unit_test(test_in_not_above_or_sibling),
      cmocka_unit_test(test_in_label_boundary_trap),
      cmocka_unit_test(test_key_lowercases),
      cmocka_unit_test(test_key_rejects_non_dname),
      cmocka_unit_test(test_name_str),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
