/* Unit tests for cache/anscache.c: which queries the fast path takes,
 * what it stores, and the reply it makes (ID, flags, case, TTLs). */
#include "unit_helpers.h"

#include "cache/anscache.h"

#define NOW 1700000000

/* A query's wire bytes (malloc'd). */
static uint8_t *query_wire(const char *name, ldns_rr_type t, bool edns, uint16_t id,
                           size_t *len) {
  ldns_pkt *p = ldns_pkt_query_new(dn(name), t, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_pkt_set_id(p, id);
  if (edns) ldns_pkt_set_edns_udp_size(p, 1232);
  uint8_t *w = NULL;
  assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
  ldns_pkt_free(p);
  return w;
}

/* A reply to `name` with answer records (NULL-terminated), as the full path
 * would send it. */
static uint8_t *reply_wire(const char *name, ldns_rr_type t, int rcode, bool edns, int ede,
                           size_t *len, const char *first, ...) {
  ldns_pkt *p = ldns_pkt_query_new(dn(name), t, LDNS_RR_CLASS_IN, LDNS_RD);
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_ra(p, true);
  ldns_pkt_set_rcode(p, (uint8_t)rcode);
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    ldns_pkt_push_rr(p, strstr(s, " SOA ") ? LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER, rr(s));
  va_end(ap);
  if (edns) ldns_pkt_set_edns_udp_size(p, 1232);
  if (ede >= 0) {
    uint8_t data[2] = {0, (uint8_t)ede};
    ldns_edns_option_list *l = ldns_edns_option_list_new();
    ldns_edns_option_list_push(l, ldns_edns_new_from_data(LDNS_EDNS_EDE, 2, data));
    ldns_pkt_set_edns_option_list(p, l);
  }
  uint8_t *w = NULL;
  assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
  ldns_pkt_free(p);
  return w;
}

static void test_parse(void **state) {
  (void)state;
  struct ac_query q, q2;
  size_t len;
  uint8_t *w = query_wire("WWW.Example.com.", LDNS_RR_TYPE_AAAA, true, 7, &len);
  assert_true(ac_parse(w, len, 1232, &q));
  assert_int_equal(q.id, 7);
  assert_int_equal(q.qtype, LDNS_RR_TYPE_AAAA);
  assert_true(q.rd && q.edns && !q.do_bit && !q.cd);
  assert_int_equal(q.limit, 1232);
  assert_memory_equal(q.key, "\3www\7example\3com", 17);
  uint8_t *w2 = query_wire("www.EXAMPLE.com.", LDNS_RR_TYPE_AAAA, true, 9, &len);
  assert_true(ac_parse(w2, len, 1232, &q2));
  assert_int_equal(q.hash, q2.hash); /* case-insensitive key */
  assert_int_equal(q.klen, q2.klen);
  assert_true(ac_parse(w2, len, 512, &q2));
  assert_int_equal(q2.limit, 512); /* our size caps the client's */
  /* Not for the fast path: responses, two questions, trailing bytes,
   * compression in the question, EDNS version 1, AXFR, class CH. */
  uint8_t bad[600];
  memcpy(bad, w2, len);
  bad[2] |= 0x80;
  assert_false(ac_parse(bad, len, 1232, &q2));
  memcpy(bad, w2, len);
  bad[5] = 2;
  assert_false(ac_parse(bad, len, 1232, &q2));
  memcpy(bad, w2, len);
  assert_false(ac_parse(bad, len + 1, 1232, &q2));
  memcpy(bad, w2, len);
  bad[12] = 0xc0;
  assert_false(ac_parse(bad, len, 1232, &q2));
  memcpy(bad, w2, len);
  bad[len - 5] = 1; /* the OPT's version byte (rdlen 0: 5 from the end) */
  assert_false(ac_parse(bad, len, 1232, &q2));
  free(w2);
  w2 = query_wire("example.com.", LDNS_RR_TYPE_AXFR, false, 1, &len);
  assert_false(ac_parse(w2, len, 1232, &q2));
  free(w2);
  w2 = query_wire("example.com.", LDNS_RR_TYPE_A, false, 1, &len);
  assert_true(ac_parse(w2, len, 1232, &q2));
  assert_false(q2.edns);
  assert_int_equal(q2.limit, 512);
  w2[len - 1] = 3; /* class CH */
  assert_false(ac_parse(w2, len, 1232, &q2));
  for (size_t n = 0; n < len; n++) ac_parse(w2, n, 1232, &q2); /* no crash on any prefix */
  free(w2);
  free(w);
}

static void test_store_and_answer(void **state) {
  (void)state;
  anscache_t *c = anscache_new(1 << 20);
  size_t qlen, rlen;
  uint8_t *q1 = query_wire("alias.example.com.", LDNS_RR_TYPE_A, true, 1, &qlen);
  struct ac_query q;
  assert_true(ac_parse(q1, qlen, 1232, &q));
  uint8_t *r = reply_wire("alias.example.com.", LDNS_RR_TYPE_A, 0, true, -1, &rlen,
                          "alias.example.com. 300 IN CNAME www.example.com.",
                          "www.example.com. 60 IN A 192.0.2.1", NULL);
  struct ac_meta meta = {.rcode = 0, .chain_len = 1, .outcome = 0, .purpose = 3};
  anscache_store(c, &q, r, rlen, NOW, &meta);
  /* Another client, other case, other ID, 10 s later. */
  size_t q2len;
  uint8_t *q2w = query_wire("ALIAS.example.COM.", LDNS_RR_TYPE_A, true, 4321, &q2len);
  struct ac_query q2;
  assert_true(ac_parse(q2w, q2len, 1232, &q2));
  uint8_t out[4096];
  struct ac_meta got;
  size_t n = anscache_answer(c, &q2, q2w, out, sizeof out, NOW + 10, &got);
  assert_int_equal(n, rlen);
  assert_int_equal(got.chain_len, 1);
  assert_int_equal(got.purpose, 3);
  ldns_pkt *p = NULL;
  assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
  assert_int_equal(ldns_pkt_id(p), 4321);
  char *qn = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(p), 0)));
  assert_string_equal(qn, "ALIAS.example.COM.");
  free(qn);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 0)), 290);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(ldns_pkt_answer(p), 1)), 50);
  assert_int_equal(ldns_pkt_edns_udp_size(p), 1232); /* the OPT is not a TTL */
  ldns_pkt_free(p);
  /* Until the first record expires, then gone. */
  assert_int_not_equal(anscache_answer(c, &q2, q2w, out, sizeof out, NOW + 59, &got), 0);
  assert_int_equal(anscache_answer(c, &q2, q2w, out, sizeof out, NOW + 60, &got), 0);
  struct ac_stats st;
  anscache_stats(c, &st);
  assert_int_equal(st.hits, 2);
  assert_int_equal(st.misses, 1);
  assert_int_equal(st.entries, 0);
  /* Without EDNS it is another key. */
  size_t q3len;
  uint8_t *q3w = query_wire("alias.example.com.", LDNS_RR_TYPE_A, false, 5, &q3len);
  struct ac_query q3;
  assert_true(ac_parse(q3w, q3len, 1232, &q3));
  anscache_store(c, &q, r, rlen, NOW, &meta);
  assert_int_equal(anscache_answer(c, &q3, q3w, out, sizeof out, NOW, &got), 0);
  free(q3w);
  free(q2w);
  free(r);
  free(q1);
  anscache_free(c);
}

static void test_not_stored(void **state) {
  (void)state;
  anscache_t *c = anscache_new(1 << 20);
  size_t qlen, rlen;
  uint8_t *qw = query_wire("x.example.com.", LDNS_RR_TYPE_A, true, 1, &qlen);
  struct ac_query q;
  assert_true(ac_parse(qw, qlen, 1232, &q));
  struct ac_meta meta = {0};
  uint8_t out[4096];
  struct ac_meta got;
  uint8_t *r;
  /* SERVFAIL; an EDE; a zero TTL; TC=1: none of them. */
  r = reply_wire("x.example.com.", LDNS_RR_TYPE_A, 2, true, -1, &rlen, NULL);
  anscache_store(c, &q, r, rlen, NOW, &meta);
  free(r);
  r = reply_wire("x.example.com.", LDNS_RR_TYPE_A, 0, true, 3, &rlen,
                 "x.example.com. 30 IN A 192.0.2.1", NULL);
  anscache_store(c, &q, r, rlen, NOW, &meta);
  free(r);
  r = reply_wire("x.example.com.", LDNS_RR_TYPE_A, 0, true, -1, &rlen,
                 "x.example.com. 0 IN A 192.0.2.1", NULL);
  anscache_store(c, &q, r, rlen, NOW, &meta);
  free(r);
  r = reply_wire("x.example.com.", LDNS_RR_TYPE_A, 0, true, -1, &rlen,
                 "x.example.com. 30 IN A 192.0.2.1", NULL);
  r[2] |= 0x02;
  anscache_store(c, &q, r, rlen, NOW, &meta);
  assert_int_equal(anscache_answer(c, &q, qw, out, sizeof out, NOW, &got), 0);
  /* Truncated junk is refused, never read past its end. */
  r[2] &= (uint8_t)~0x02;
  for (size_t n = 0; n < rlen; n++) anscache_store(c, &q, r, n, NOW, &meta);
  assert_int_equal(anscache_answer(c, &q, qw, out, sizeof out, NOW, &got), 0);
  /* NXDOMAIN with its SOA is kept. */
  free(r);
  r = reply_wire("x.example.com.", LDNS_RR_TYPE_A, 3, true, -1, &rlen,
                 "example.com. 60 IN SOA ns.example.com. h.example.com. 1 2 3 4 60", NULL);
  anscache_store(c, &q, r, rlen, NOW, &meta);
  size_t n = anscache_answer(c, &q, qw, out, sizeof out, NOW + 1, &got);
  assert_int_equal(n, rlen);
  assert_int_equal(got.rcode, 3);
  free(r);
  free(qw);
  anscache_free(c);
}

static void test_budget(void **state) {
  (void)state;
  anscache_t *c = anscache_new(64 * 1024);
  uint8_t out[4096];
  struct ac_meta meta = {0}, got;
  for (int i = 0; i < 2000; i++) {
    char name[64];
    snprintf(name, sizeof name, "n%d.example.com.", i);
    size_t qlen, rlen;
    uint8_t *qw = query_wire(name, LDNS_RR_TYPE_A, true, 1, &qlen);
    struct ac_query q;
    assert_true(ac_parse(qw, qlen, 1232, &q));
    char rrtext[128];
    snprintf(rrtext, sizeof rrtext, "%s 300 IN A 192.0.2.1", name);
    uint8_t *r = reply_wire(name, LDNS_RR_TYPE_A, 0, true, -1, &rlen, rrtext, NULL);
    anscache_store(c, &q, r, rlen, NOW, &meta);
    assert_int_not_equal(anscache_answer(c, &q, qw, out, sizeof out, NOW, &got), 0);
    free(r);
    free(qw);
  }
  struct ac_stats st;
  anscache_stats(c, &st);
  assert_true(st.bytes <= 64 * 1024);
  assert_true(st.evictions > 1000);
  assert_true(st.entries > 100);
  anscache_free(c);
}

/* A large budget starts with a small table that grows as entries come: all
 * of them are still answered after the rehashes, and the table is charged. */
static void test_table_grows(void **state) {
  (void)state;
  anscache_t *c = anscache_new(64u << 20);
  struct ac_stats st;
  anscache_stats(c, &st);
  uint64_t empty = st.bytes;
  assert_true(empty < 4096);
  uint8_t out[4096];
  struct ac_meta meta = {0}, got;
  enum { N = 5000 };
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < N; i++) {
      char name[64];
      snprintf(name, sizeof name, "g%d.example.com.", i);
      size_t qlen, rlen;
      uint8_t *qw = query_wire(name, LDNS_RR_TYPE_A, true, 1, &qlen);
      struct ac_query q;
      assert_true(ac_parse(qw, qlen, 1232, &q));
      if (pass == 0) {
        char rrtext[128];
        snprintf(rrtext, sizeof rrtext, "%s 300 IN A 192.0.2.1", name);
        uint8_t *r = reply_wire(name, LDNS_RR_TYPE_A, 0, true, -1, &rlen, rrtext, NULL);
        anscache_store(c, &q, r, rlen, NOW, &meta);
        free(r);
      } else if (anscache_answer(c, &q, qw, out, sizeof out, NOW, &got) == 0) {
        fail_msg("%s lost in a rehash", name);
      }
      free(qw);
    }
  }
  anscache_stats(c, &st);
  assert_int_equal(st.entries, N);
  assert_int_equal(st.evictions, 0);
  /* The table (8 bytes a bucket, at least N/2 buckets) is in the bytes. */
  assert_true(st.bytes > empty + N * 100 + N * 4);
  anscache_free(c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse),
      cmocka_unit_test(test_store_and_answer),
      cmocka_unit_test(test_not_stored),
      cmocka_unit_test(test_budget),
      cmocka_unit_test(test_table_grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
