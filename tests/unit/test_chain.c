/* Unit tests for resolver/core/chain.c: hops, loop detection, the length bound. */
#include "unit_helpers.h"

#include "resolver/core/chain.h"

/* chain_add by text. */
static enum chain_status add(chain_t *c, const char *owner, const char *target) {
  ldns_rdf *o = dn(owner), *t = dn(target);
  struct chain_step step = chain_step_cached(CHAIN_SRC_CACHE, 0, 300);
  enum chain_status st = chain_add(c, o, t, &step);
  ldns_rdf_deep_free(o);
  ldns_rdf_deep_free(t);
  return st;
}

static void init(chain_t *c, const char *start, size_t max_len) {
  ldns_rdf *s = dn(start);
  chain_init(c, s, max_len);
  ldns_rdf_deep_free(s); /* chain_init clones */
}

static void test_empty_chain(void **state) {
  (void)state;
  chain_t c;
  init(&c, "www.example.com.", 8);
  assert_int_equal(c.n, 0);
  assert_name(chain_current(&c), "www.example.com.");
  assert_string_equal(c.why, "");
  chain_free(&c);
}

/* A step answered by a server of `zone`. */
static struct chain_step net_step(ldns_rdf *zone, uint64_t us) {
  struct chain_step st = chain_step_cached(CHAIN_SRC_NETWORK, us, 60);
  st.zone = zone;
  st.server = sockaddr_of("192.0.2.53", 53);
  return st;
}

static void test_append_hops(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 8);
  ldns_rdf *o = dn("a.example."), *t = dn("b.example.net."), *z = dn("example.");
  struct chain_step st = net_step(z, 17);
  assert_int_equal(chain_add(&c, o, t, &st), CHAIN_OK);
  ldns_rdf_deep_free(o);
  ldns_rdf_deep_free(t);
  ldns_rdf_deep_free(z); /* the chain keeps its own copy */
  assert_int_equal(add(&c, "b.example.net.", "c.example.org."), CHAIN_OK);
  /* More hops than the initial capacity of 4. */
  assert_int_equal(add(&c, "c.example.org.", "d.example.org."), CHAIN_OK);
  assert_int_equal(add(&c, "d.example.org.", "e.example.org."), CHAIN_OK);
  assert_int_equal(add(&c, "e.example.org.", "f.example.org."), CHAIN_OK);
  assert_int_equal(c.n, 5);
  assert_name(chain_current(&c), "f.example.org.");
  assert_name(c.hops[0].owner, "a.example.");
  assert_name(c.hops[0].target, "b.example.net.");
  assert_name(c.hops[0].step.zone, "example.");
  assert_int_equal(c.hops[0].step.source, CHAIN_SRC_NETWORK);
  assert_int_equal(c.hops[0].step.elapsed_us, 17);
  assert_int_equal(c.hops[0].step.ttl, 60);
  assert_int_equal(c.hops[0].step.server.ss_family, AF_INET);
  assert_int_equal(c.hops[0].crossed_zone, 1); /* b.example.net. is not in example. */
  assert_null(c.hops[1].step.zone);
  assert_int_equal(c.hops[1].step.source, CHAIN_SRC_CACHE);
  assert_int_equal(c.hops[1].step.server.ss_family, 0);
  assert_int_equal(c.hops[1].crossed_zone, -1); /* unknown from a cache */
  assert_name(c.hops[4].owner, "e.example.org.");
  assert_name(c.hops[4].target, "f.example.org.");
  assert_false(c.has_final);
  chain_free(&c);
}

static void test_crossing_and_final_step(void **state) {
  (void)state;
  chain_t c;
  init(&c, "www.example.com.", 8);
  ldns_rdf *z = dn("example.com.");
  ldns_rdf *o = dn("www.example.com."), *t = dn("web.example.com.");
  struct chain_step st = net_step(z, 900);
  assert_int_equal(chain_add(&c, o, t, &st), CHAIN_OK);
  assert_int_equal(c.hops[0].crossed_zone, 0);
  chain_set_final(&c, &st);
  chain_set_final(&c, &st); /* replacing it frees the old copy */
  assert_true(c.has_final);
  assert_name(c.final.zone, "example.com.");
  assert_int_equal(c.final.elapsed_us, 900);
  ldns_rdf_deep_free(z);
  ldns_rdf_deep_free(o);
  ldns_rdf_deep_free(t);
  chain_free(&c);
}

static void test_self_loop(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 8);
  assert_int_equal(add(&c, "a.example.", "a.example."), CHAIN_LOOP);
  assert_int_equal(c.n, 0); /* not appended */
  assert_non_null(strstr(c.why, "loop"));
  assert_non_null(strstr(c.why, "a.example."));
  chain_free(&c);
}

static void test_two_name_loop(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 8);
  assert_int_equal(add(&c, "a.example.", "b.example."), CHAIN_OK);
  assert_int_equal(add(&c, "b.example.", "a.example."), CHAIN_LOOP);
  assert_int_equal(c.n, 1);
  assert_name(chain_current(&c), "b.example.");
  assert_non_null(strstr(c.why, "loop"));
  assert_non_null(strstr(c.why, "a.example."));
  assert_non_null(strstr(c.why, "b.example."));
  assert_string_equal(c.why, "CNAME loop: a.example. -> b.example. -> a.example.");
  chain_free(&c);
}

static void test_loop_into_middle(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 8);
  assert_int_equal(add(&c, "a.example.", "b.example."), CHAIN_OK);
  assert_int_equal(add(&c, "b.example.", "c.example."), CHAIN_OK);
  assert_int_equal(add(&c, "c.example.", "b.example."), CHAIN_LOOP);
  /* The loop is described from where it starts. */
  assert_string_equal(c.why, "CNAME loop: b.example. -> c.example. -> b.example.");
  chain_free(&c);
}

static void test_loop_case_insensitive(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 8);
  assert_int_equal(add(&c, "a.example.", "B.example."), CHAIN_OK);
  assert_int_equal(add(&c, "B.example.", "A.EXAMPLE."), CHAIN_LOOP);
  assert_int_equal(c.n, 1);
  assert_non_null(strstr(c.why, "loop"));
  chain_free(&c);
}

static void test_limit_exact_ok(void **state) {
  (void)state;
  const size_t max = 5;
  chain_t c;
  init(&c, "n0.example.", max);
  char o[64], t[64];
  for (size_t i = 0; i < max; i++) {
    snprintf(o, sizeof o, "n%zu.example.", i);
    snprintf(t, sizeof t, "n%zu.example.", i + 1);
    assert_int_equal(add(&c, o, t), CHAIN_OK);
  }
  assert_int_equal(c.n, max);
  assert_name(chain_current(&c), "n5.example.");
  /* One more is too long, and `why` names the limit. */
  assert_int_equal(add(&c, "n5.example.", "n6.example."), CHAIN_TOO_LONG);
  assert_int_equal(c.n, max);
  assert_name(chain_current(&c), "n5.example.");
  assert_non_null(strstr(c.why, "limit of 5"));
  assert_non_null(strstr(c.why, "n0.example."));
  chain_free(&c);
}

static void test_limit_zero_and_one(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 1);
  assert_int_equal(add(&c, "a.example.", "b.example."), CHAIN_OK);
  assert_int_equal(add(&c, "b.example.", "c.example."), CHAIN_TOO_LONG);
  assert_non_null(strstr(c.why, "1"));
  chain_free(&c);
  init(&c, "a.example.", 0);
  assert_int_equal(add(&c, "a.example.", "b.example."), CHAIN_TOO_LONG);
  assert_int_equal(c.n, 0);
  chain_free(&c);
}

static void test_long_names_in_why_bounded(void **state) {
  (void)state;
  /* Names near 255 octets: the description must stay NUL-terminated in its
   * 512-byte buffer. */
  char names[4][260];
  for (int k = 0; k < 4; k++) {
    char *p = names[k];
    p += sprintf(p, "%c", 'a' + k);
    for (int i = 0; i < 3; i++) p += sprintf(p, ".%.62s", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    sprintf(p, ".");
  }
  chain_t c;
  init(&c, names[0], 8);
  assert_int_equal(add(&c, names[0], names[1]), CHAIN_OK);
  assert_int_equal(add(&c, names[1], names[2]), CHAIN_OK);
  assert_int_equal(add(&c, names[2], names[3]), CHAIN_OK);
  assert_int_equal(add(&c, names[3], names[0]), CHAIN_LOOP);
  assert_true(strlen(c.why) < sizeof c.why);
  assert_memory_equal(c.why, "CNAME loop: ", 12);
  chain_free(&c);
}

/* chain_add_hop by text, with a cached step. */
static enum chain_status add_kind(chain_t *c, enum hop_kind kind, const char *owner,
                                  const char *target) {
  ldns_rdf *o = dn(owner), *t = dn(target);
  struct chain_step step = chain_step_cached(CHAIN_SRC_LOCAL, 0, 300);
  enum chain_status st = chain_add_hop(c, kind, o, t, &step);
  ldns_rdf_deep_free(o);
  ldns_rdf_deep_free(t);
  return st;
}

static void test_hop_kinds_recorded(void **state) {
  (void)state;
  chain_t c;
  init(&c, "shop.example.", 8);
  assert_int_equal(add_kind(&c, HOP_ALIAS, "shop.example.", "lb.example.com."), CHAIN_OK);
  assert_int_equal(add(&c, "lb.example.com.", "x.old.example.net."), CHAIN_OK);
  assert_int_equal(add_kind(&c, HOP_DNAME, "x.old.example.net.", "x.new.example.org."),
                   CHAIN_OK);
  assert_int_equal(add_kind(&c, HOP_CNAME, "x.new.example.org.", "edge.example.org."),
                   CHAIN_OK);
  assert_int_equal(c.n, 4);
  assert_int_equal(c.hops[0].kind, HOP_ALIAS);
  assert_int_equal(c.hops[1].kind, HOP_CNAME); /* chain_add is a CNAME hop */
  assert_int_equal(c.hops[2].kind, HOP_DNAME);
  assert_int_equal(c.hops[3].kind, HOP_CNAME);
  assert_name(c.hops[0].owner, "shop.example.");
  assert_name(c.hops[0].target, "lb.example.com.");
  assert_int_equal(c.hops[0].step.source, CHAIN_SRC_LOCAL);
  assert_null(c.hops[0].step.zone);
  assert_int_equal(c.hops[0].crossed_zone, -1); /* no zone: unknown */
  assert_name(c.hops[2].owner, "x.old.example.net.");
  assert_name(c.hops[2].target, "x.new.example.org.");
  assert_name(chain_current(&c), "edge.example.org.");
  chain_free(&c);
}

static void test_hop_kind_names(void **state) {
  (void)state;
  assert_string_equal(hop_kind_name(HOP_CNAME), "cname");
  assert_string_equal(hop_kind_name(HOP_DNAME), "dname");
  assert_string_equal(hop_kind_name(HOP_ALIAS), "alias");
  assert_string_equal(hop_kind_name((enum hop_kind)3), "?");
  assert_string_equal(hop_kind_name((enum hop_kind)-1), "?");
}

/* a DNAME maps x.a. to x.b., another maps it back: a loop made of DNAME
 * hops is reported as a loop, not as a CNAME loop, with the names. */
static void test_dname_loop_message(void **state) {
  (void)state;
  chain_t c;
  init(&c, "x.a.example.", 8);
  assert_int_equal(add_kind(&c, HOP_DNAME, "x.a.example.", "x.b.example."), CHAIN_OK);
  assert_int_equal(add_kind(&c, HOP_DNAME, "x.b.example.", "X.A.example."), CHAIN_LOOP);
  assert_int_equal(c.n, 1);
  assert_name(chain_current(&c), "x.b.example.");
  assert_string_equal(c.why, "chain loop: x.a.example. -> x.b.example. -> X.A.example.");
  /* A self-mapping ALIAS is a loop too. */
  chain_t d;
  init(&d, "self.example.", 8);
  assert_int_equal(add_kind(&d, HOP_ALIAS, "self.example.", "self.example."), CHAIN_LOOP);
  assert_int_equal(d.n, 0);
  assert_string_equal(d.why, "chain loop: self.example. -> self.example.");
  chain_free(&d);
  chain_free(&c);
}

/* DNAME and ALIAS hops count toward the bound like CNAMEs. */
static void test_every_kind_counts_toward_limit(void **state) {
  (void)state;
  chain_t c;
  init(&c, "a.example.", 2);
  assert_int_equal(add_kind(&c, HOP_ALIAS, "a.example.", "b.example."), CHAIN_OK);
  assert_int_equal(add_kind(&c, HOP_DNAME, "b.example.", "c.example."), CHAIN_OK);
  assert_int_equal(add_kind(&c, HOP_DNAME, "c.example.", "d.example."), CHAIN_TOO_LONG);
  assert_int_equal(c.n, 2);
  assert_non_null(strstr(c.why, "limit of 2"));
  assert_non_null(strstr(c.why, "a.example."));
  chain_free(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_empty_chain),
      cmocka_unit_test(test_append_hops),
      cmocka_unit_test(test_crossing_and_final_step),
      cmocka_unit_test(test_self_loop),
      cmocka_unit_test(test_two_name_loop),
      cmocka_unit_test(test_loop_into_middle),
      cmocka_unit_test(test_loop_case_insensitive),
      cmocka_unit_test(test_limit_exact_ok),
      cmocka_unit_test(test_limit_zero_and_one),
      cmocka_unit_test(test_long_names_in_why_bounded),
      cmocka_unit_test(test_hop_kinds_recorded),
      cmocka_unit_test(test_hop_kind_names),
      cmocka_unit_test(test_dname_loop_message),
      cmocka_unit_test(test_every_kind_counts_toward_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
