/* Unit tests for resolver/core/answer.c: reply headers, sections, EDNS and EDE,
 * truncation, and header-only replies. Replies are parsed back from the
 * wire with ldns. */
#include "unit_helpers.h"

#include "resolver/core/answer.h"

static struct client_question question(const char *qname, ldns_rr_type t, bool edns) {
  struct client_question cq;
  memset(&cq, 0, sizeof cq);
  cq.id = 0xbeef;
  cq.rd = true;
  cq.qname = dn(qname);
  cq.qtype = t;
  cq.qclass = LDNS_RR_CLASS_IN;
  cq.edns = edns;
  cq.udp_size = edns ? 1232 : 512;
  return cq;
}

/* Build and parse back; *wire_len gets the size on the wire. */
static ldns_pkt *build(const struct client_question *cq, const struct answer_content *ac,
                       size_t max_len, size_t *wire_len, bool *truncated) {
  size_t len = 0;
  uint8_t *wire = answer_build(cq, ac, 1232, max_len, &len, truncated);
  assert_non_null(wire);
  assert_true(len >= 12);
  ldns_pkt *p = NULL;
  assert_int_equal(ldns_wire2pkt(&p, wire, len), LDNS_STATUS_OK);
  free(wire);
  if (wire_len) *wire_len = len;
  return p;
}

/* The EDE option of p, or NULL. */
static const ldns_edns_option *find_ede(ldns_pkt *p) {
  ldns_edns_option_list *l = ldns_pkt_edns_get_option_list(p);
  for (size_t i = 0; l && i < ldns_edns_option_list_get_count(l); i++) {
    ldns_edns_option *o = ldns_edns_option_list_get_option(l, i);
    if (ldns_edns_get_code(o) == LDNS_EDNS_EDE) return o;
  }
  return NULL;
}

static void test_header_and_sections(void **state) {
  (void)state;
  struct client_question cq = question("www.example.com.", LDNS_RR_TYPE_A, false);
  ldns_rr_list *an = rrlist("www.example.com. 300 IN CNAME a.example.net.",
                            "a.example.net. 300 IN CNAME b.example.org.",
                            "b.example.org. 60 IN A 192.0.2.1", "b.example.org. 60 IN A 192.0.2.2",
                            NULL);
  struct answer_content ac = {.rcode = LDNS_RCODE_NOERROR, .answer = an, .ede = -1};
  bool tc;
  ldns_pkt *p = build(&cq, &ac, 512, NULL, &tc);
  assert_false(tc);
  assert_int_equal(ldns_pkt_id(p), 0xbeef);
  assert_true(ldns_pkt_qr(p));
  assert_true(ldns_pkt_ra(p));
  assert_true(ldns_pkt_rd(p));
  assert_false(ldns_pkt_aa(p));
  assert_false(ldns_pkt_tc(p));
  assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_QUERY);
  assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_pkt_qdcount(p), 1);
  ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(p), 0);
  assert_name(ldns_rr_owner(q), "www.example.com.");
  assert_int_equal(ldns_rr_get_type(q), LDNS_RR_TYPE_A);
  assert_int_equal(ldns_rr_get_class(q), LDNS_RR_CLASS_IN);
  /* The chain, in order, then the final RRset. */
  assert_int_equal(ldns_pkt_ancount(p), 4);
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(ldns_pkt_answer(p), i),
                                     ldns_rr_list_rr(an, i)), 0);
  assert_int_equal(ldns_pkt_nscount(p), 0);
  /* No EDNS from the client: no OPT in the reply. */
  assert_false(ldns_pkt_edns(p));
  assert_int_equal(ldns_pkt_arcount(p), 0);
  ldns_pkt_free(p);

  /* RD is copied, not forced; CD too. */
  cq.rd = false;
  cq.cd = true;
  cq.id = 1;
  p = build(&cq, &ac, 512, NULL, &tc);
  assert_false(ldns_pkt_rd(p));
  assert_true(ldns_pkt_cd(p));
  assert_int_equal(ldns_pkt_id(p), 1);
  assert_true(ldns_pkt_ra(p));
  ldns_pkt_free(p);
  ldns_rr_list_deep_free(an);
  client_question_free(&cq);
  assert_null(cq.qname);
}

static void test_negative_with_authority(void **state) {
  (void)state;
  struct client_question cq = question("nx.example.com.", LDNS_RR_TYPE_A, true);
  ldns_rr_list *ns = rrlist("example.com. 60 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60", NULL);
  struct answer_content ac = {.rcode = LDNS_RCODE_NXDOMAIN, .authority = ns, .ede = -1};
  bool tc;
  ldns_pkt *p = build(&cq, &ac, 1232, NULL, &tc);
  assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
  assert_int_equal(ldns_pkt_ancount(p), 0);
  assert_int_equal(ldns_pkt_nscount(p), 1);
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)), LDNS_RR_TYPE_SOA);
  ldns_pkt_free(p);
  ldns_rr_list_deep_free(ns);
  client_question_free(&cq);
}

static void test_edns_opt_only_when_client_used_it(void **state) {
  (void)state;
  struct client_question cq = question("www.example.com.", LDNS_RR_TYPE_A, true);
  struct answer_content ac = {.rcode = LDNS_RCODE_NOERROR, .ede = -1};
  bool tc;
  ldns_pkt *p = build(&cq, &ac, 1232, NULL, &tc);
  assert_true(ldns_pkt_edns(p));
  assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
  assert_false(ldns_pkt_edns_do(p));
  assert_null(find_ede(p)); /* ede < 0: no option */
  ldns_pkt_free(p);

  /* An EDE is not sent to a client without EDNS. */
  cq.edns = false;
  ac.rcode = LDNS_RCODE_SERVFAIL;
  ac.ede = 22;
  ac.ede_text = "no reachable authority";
  p = build(&cq, &ac, 512, NULL, &tc);
  assert_false(ldns_pkt_edns(p));
  assert_int_equal(ldns_pkt_arcount(p), 0);
  assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
  ldns_pkt_free(p);
  client_question_free(&cq);
}

static void test_ede_option_on_the_wire(void **state) {
  (void)state;
  struct client_question cq = question("a.example.com.", LDNS_RR_TYPE_A, true);
  const char *text = "CNAME loop: a.example.com. -> b.example.net. -> a.example.com.";
  struct answer_content ac = {.rcode = LDNS_RCODE_SERVFAIL, .ede = 0, .ede_text = text};
  bool tc;
  ldns_pkt *p = build(&cq, &ac, 1232, NULL, &tc);
  assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
  const ldns_edns_option *o = find_ede(p);
  assert_non_null(o);
  assert_int_equal(ldns_edns_get_code(o), 15);
  size_t n = ldns_edns_get_size(o);
  const uint8_t *d = ldns_edns_get_data(o);
  assert_int_equal(n, 2 + strlen(text));
  assert_int_equal((d[0] << 8) | d[1], 0);
  assert_memory_equal(d + 2, text, strlen(text));
  ldns_pkt_free(p);

  /* Info-code 22 (No Reachable Authority), no text. */
  ac.ede = 22;
  ac.ede_text = NULL;
  p = build(&cq, &ac, 1232, NULL, &tc);
  o = find_ede(p);
  assert_non_null(o);
  assert_int_equal(ldns_edns_get_size(o), 2);
  d = ldns_edns_get_data(o);
  assert_int_equal((d[0] << 8) | d[1], 22);
  ldns_pkt_free(p);

  /* A large code and long text: text is capped, the code kept. */
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  ac.ede = 0x1234;
  ac.ede_text = big;
  p = build(&cq, &ac, 65535, NULL, &tc);
  o = find_ede(p);
  assert_non_null(o);
  d = ldns_edns_get_data(o);
  assert_int_equal((d[0] << 8) | d[1], 0x1234);
  assert_true(ldns_edns_get_size(o) <= 2 + 400);
  assert_true(ldns_edns_get_size(o) > 2);
  ldns_pkt_free(p);
  client_question_free(&cq);
}

static void test_truncation(void **state) {
  (void)state;
  struct client_question cq = question("a-rather-long-name.for-many-records.example.com.",
                                       LDNS_RR_TYPE_A, false);
  ldns_rr_list *an = ldns_rr_list_new();
  char line[200];
  for (int i = 0; i < 60; i++) {
    snprintf(line, sizeof line, "a-rather-long-name.for-many-records.example.com. 300 IN A 10.0.0.%d", i);
    ldns_rr_list_push_rr(an, rr(line));
  }
  struct answer_content ac = {.rcode = LDNS_RCODE_NOERROR, .answer = an, .ede = -1};
  bool tc = false;
  size_t len;
  ldns_pkt *p = build(&cq, &ac, 512, &len, &tc);
  assert_true(tc);
  assert_true(len <= 512);
  assert_true(ldns_pkt_tc(p));
  assert_int_equal(ldns_pkt_ancount(p), 0);
  assert_int_equal(ldns_pkt_nscount(p), 0);
  assert_int_equal(ldns_pkt_qdcount(p), 1);
  assert_int_equal(ldns_pkt_id(p), 0xbeef);
  assert_true(ldns_pkt_qr(p));
  assert_true(ldns_pkt_ra(p));
  ldns_pkt_free(p);

  /* The same reply fits over TCP. */
  p = build(&cq, &ac, 65535, &len, &tc);
  assert_false(tc);
  assert_false(ldns_pkt_tc(p));
  assert_int_equal(ldns_pkt_ancount(p), 60);
  assert_true(len > 512);
  ldns_pkt_free(p);

  /* With EDNS the truncated reply keeps its OPT. */
  cq.edns = true;
  p = build(&cq, &ac, 512, &len, &tc);
  assert_true(tc);
  assert_true(ldns_pkt_tc(p));
  assert_true(ldns_pkt_edns(p));
  assert_int_equal(ldns_pkt_ancount(p), 0);
  ldns_pkt_free(p);

  /* A reply of exactly max_len is not truncated. */
  size_t full;
  p = build(&cq, &ac, 65535, &full, &tc);
  ldns_pkt_free(p);
  p = build(&cq, &ac, full, &len, &tc);
  assert_false(tc);
  assert_int_equal(len, full);
  ldns_pkt_free(p);
  p = build(&cq, &ac, full - 1, &len, &tc);
  assert_true(tc);
  ldns_pkt_free(p);

  ldns_rr_list_deep_free(an);
  client_question_free(&cq);
}

static void test_header_only_formerr(void **state) {
  (void)state;
  /* ID 0x1234, opcode 0, AA+TC+RD set by a confused client, then junk. */
  uint8_t q[] = {0x12, 0x34, 0x07, 0x30, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff};
  size_t len = 0;
  uint8_t *r = answer_header_only(q, sizeof q, LDNS_RCODE_FORMERR, &len);
  assert_non_null(r);
  assert_int_equal(len, 12);
  assert_int_equal(r[0], 0x12);
  assert_int_equal(r[1], 0x34);
  assert_true(r[2] & 0x80);              /* QR */
  assert_int_equal(r[2] & 0x01, 0x01);   /* RD copied */
  assert_int_equal(r[2] & 0x06, 0);      /* AA, TC clear */
  assert_int_equal(r[3] & 0x0f, LDNS_RCODE_FORMERR);
  assert_true(r[3] & 0x80);              /* RA */
  assert_int_equal(r[3] & 0x70, 0);      /* Z, AD, CD clear */
  for (int i = 4; i < 12; i++) assert_int_equal(r[i], 0); /* no sections */
  ldns_pkt *p = NULL;
  assert_int_equal(ldns_wire2pkt(&p, r, len), LDNS_STATUS_OK);
  assert_int_equal(ldns_pkt_id(p), 0x1234);
  assert_true(ldns_pkt_qr(p));
  assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_FORMERR);
  ldns_pkt_free(p);
  free(r);

  /* The opcode is kept; RD off stays off. */
  uint8_t q2[12] = {0xab, 0xcd, (uint8_t)(LDNS_PACKET_STATUS << 3), 0};
  r = answer_header_only(q2, sizeof q2, LDNS_RCODE_NOTIMPL, &len);
  assert_non_null(r);
  assert_int_equal((r[2] >> 3) & 0x0f, LDNS_PACKET_STATUS);
  assert_int_equal(r[2] & 0x01, 0);
  assert_int_equal(r[3] & 0x0f, LDNS_RCODE_NOTIMPL);
  free(r);

  /* Too short for a header. */
  assert_null(answer_header_only(q, 11, LDNS_RCODE_FORMERR, &len));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header_and_sections),
      cmocka_unit_test(test_negative_with_authority),
      cmocka_unit_test(test_edns_opt_only_when_client_used_it),
      cmocka_unit_test(test_ede_option_on_the_wire),
      cmocka_unit_test(test_truncation),
      cmocka_unit_test(test_header_only_formerr),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
