/* Unit tests for resolver/lib/wire.c: names compressed against what was
 * written (case-insensitively), RDATA compressed only where RFC 3597 allows,
 * messages that ldns reads back as written, and no writing past the end. */
#include "unit_helpers.h"

#include "resolver/lib/wire.h"

static void name(struct wire *w, const char *text, bool compress) {
  ldns_rdf *n = dn(text);
  wire_name(w, ldns_rdf_data(n), ldns_rdf_size(n), compress);
  ldns_rdf_deep_free(n);
}

static void test_name_compression(void **state) {
  (void)state;
  uint8_t buf[512];
  struct wire w;
  wire_init(&w, buf, sizeof buf);
  wire_bytes(&w, "HEADER-12345", 12); /* names never start at offset 0 */
  name(&w, "www.Example.com.", true);
  assert_int_equal(w.len, 12 + 17);
  name(&w, "WWW.example.COM.", true); /* the same name: a pointer */
  assert_int_equal(w.len, 12 + 17 + 2);
  assert_int_equal(buf[29], 0xc0);
  assert_int_equal(buf[30], 12);
  name(&w, "mail.example.com.", true); /* a suffix: label, then pointer */
  assert_int_equal(w.len, 31 + 5 + 2);
  assert_int_equal(buf[37], 16); /* example.com. at 12 + 4 */
  name(&w, "example.org.", true); /* nothing in common but the root */
  assert_int_equal(w.len, 38 + 13);
  name(&w, "example.com.", false); /* not compressed when not asked */
  assert_int_equal(w.len, 51 + 13);
  name(&w, ".", true);
  assert_int_equal(w.len, 64 + 1);
  assert_false(w.overflow);
}

/* A reply written with wire_rr reads back with ldns as the same records. */
static void test_records_round_trip(void **state) {
  (void)state;
  static const char *rrs[] = {
      "www.example.com. 300 IN CNAME web.example.com.",
      "web.example.com. 60 IN A 192.0.2.1",
      "example.com. 300 IN MX 10 mail.example.com.",
      "example.com. 300 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 60",
      "_sip._udp.example.com. 300 IN SRV 10 60 5060 sip.example.com.",
      "x.example.com. 300 IN TXT \"hello\" \"world\"",
      "svc.example.com. 300 IN TYPE65534 \\# 3 010203",
  };
  uint8_t buf[4096];
  struct wire w;
  wire_init(&w, buf, sizeof buf);
  size_t n = sizeof rrs / sizeof rrs[0];
  uint8_t header[12] = {0x12, 0x34, 0x84, 0x00, 0, 1, 0, (uint8_t)n, 0, 0, 0, 1};
  wire_bytes(&w, header, 12);
  name(&w, "www.example.com.", true);
  wire_u16(&w, 1);
  wire_u16(&w, 1);
  for (size_t i = 0; i < n; i++) {
    ldns_rr *r = rr(rrs[i]);
    wire_rr(&w, r);
    ldns_rr_free(r);
  }
  wire_opt(&w, 1232, 0, false, 22, "no reachable authority");
  assert_false(w.overflow);
  ldns_pkt *p = NULL;
  assert_int_equal(ldns_wire2pkt(&p, buf, w.len), LDNS_STATUS_OK);
  assert_int_equal(ldns_pkt_id(p), 0x1234);
  assert_int_equal(ldns_pkt_ancount(p), n);
  for (size_t i = 0; i < n; i++) {
    ldns_rr *want = rr(rrs[i]);
    if (ldns_rr_compare(ldns_rr_list_rr(ldns_pkt_answer(p), i), want) != 0)
      fail_msg("record %zu does not read back: %s", i, rrs[i]);
    ldns_rr_free(want);
  }
  assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
  ldns_pkt_free(p);
  /* The SRV target must not be compressed (RFC 3597): find it in full. */
  const uint8_t target[] = "\3sip\7example\3com";
  assert_non_null(memmem(buf, w.len, target, sizeof target));
}

static void test_overflow(void **state) {
  (void)state;
  uint8_t buf[20];
  struct wire w;
  wire_init(&w, buf, sizeof buf);
  name(&w, "a-rather-long-label.example.com.", true);
  assert_true(w.overflow);
  size_t len = w.len;
  wire_u32(&w, 1);
  assert_int_equal(w.len, len); /* nothing more after an overflow */
  assert_true(w.len <= sizeof buf);
}

/* Many names built from few labels (so they share suffixes, repeat
 * labels, and look like each other in other cases): every record reads back
 * as written. */
static void test_random_round_trip(void **state) {
  (void)state;
  static const char *labels[] = {"a", "A", "b", "example", "EXAMPLE", "com", "x-y", "_dk"};
  srand(1);
  for (int round = 0; round < 200; round++) {
    uint8_t buf[8192];
    struct wire w;
    wire_init(&w, buf, sizeof buf);
    int n = 1 + rand() % 30;
    uint8_t header[12] = {0, 1, 0x84, 0, 0, 0, 0, (uint8_t)n, 0, 0, 0, 0};
    wire_bytes(&w, header, 12);
    ldns_rr *written[30];
    for (int i = 0; i < n; i++) {
      char name[256] = "", text[400];
      int depth = rand() % 6;
      for (int d = 0; d < depth; d++) {
        strcat(name, labels[rand() % 8]);
        strcat(name, ".");
      }
      if (!depth) strcpy(name, ".");
      const char *parent = depth > 1 ? strchr(name, '.') + 1 : ".";
      snprintf(text, sizeof text, "%s 60 IN CNAME %s", name, parent);
      written[i] = rr(text);
      wire_rr(&w, written[i]);
    }
    assert_false(w.overflow);
    ldns_pkt *p = NULL;
    if (ldns_wire2pkt(&p, buf, w.len) != LDNS_STATUS_OK) fail_msg("round %d: unreadable", round);
    for (int i = 0; i < n; i++) {
      if (ldns_rr_compare(ldns_rr_list_rr(ldns_pkt_answer(p), (size_t)i), written[i]) != 0 ||
          ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), (size_t)i)),
                             ldns_rr_owner(written[i])) != 0)
        fail_msg("round %d record %d differs", round, i);
      ldns_rr_free(written[i]);
    }
    ldns_pkt_free(p);
  }
}

/* A query for a. A with these additional records (type, rdlen 0 each). */
static size_t query_with(uint8_t *buf, const uint16_t *types, size_t n) {
  struct wire w;
  wire_init(&w, buf, 512);
  wire_u16(&w, 0x1234);
  wire_u16(&w, 0x0100);
  wire_u16(&w, 1);
  wire_u16(&w, 0);
  wire_u16(&w, 0);
  wire_u16(&w, (uint16_t)n);
  wire_bytes(&w, "\1a\0", 3);
  wire_u16(&w, LDNS_RR_TYPE_A);
  wire_u16(&w, LDNS_RR_CLASS_IN);
  for (size_t i = 0; i < n; i++) {
    wire_u8(&w, 0);
    wire_u16(&w, types[i]);
    wire_u16(&w, types[i] == LDNS_RR_TYPE_OPT ? 1232 : LDNS_RR_CLASS_ANY);
    wire_u32(&w, 0);
    wire_u16(&w, 0);
  }
  assert_false(w.overflow);
  return w.len;
}

static void test_parse_refuses_repeated_opt_and_tsig(void **state) {
  (void)state;
  uint8_t buf[512];
  ldns_pkt *p;
  /* ldns 1.8.3 leaks the first of two OPTs, and TSIGs: never hand it those. */
  static const uint16_t two_tsig[] = {LDNS_RR_TYPE_TSIG, LDNS_RR_TYPE_TSIG};
  static const uint16_t two_opt[] = {LDNS_RR_TYPE_OPT, LDNS_RR_TYPE_OPT};
  static const uint16_t one_each[] = {LDNS_RR_TYPE_OPT, LDNS_RR_TYPE_TSIG};
  static const uint16_t others[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_A, LDNS_RR_TYPE_OPT};
  assert_int_not_equal(wire_parse(&p, buf, query_with(buf, two_tsig, 2)), LDNS_STATUS_OK);
  assert_null(p);
  assert_int_not_equal(wire_parse(&p, buf, query_with(buf, two_opt, 2)), LDNS_STATUS_OK);
  assert_null(p);
  assert_int_not_equal(wire_parse(&p, buf, query_with(buf, one_each, 2)), LDNS_STATUS_OK);
  assert_null(p); /* no TSIG at all: ldns also loses one on a later parse error */
  static const uint16_t opt_only[] = {LDNS_RR_TYPE_OPT};
  assert_int_equal(wire_parse(&p, buf, query_with(buf, opt_only, 1)), LDNS_STATUS_OK);
  assert_true(ldns_pkt_edns(p));
  ldns_pkt_free(p);
  assert_int_equal(wire_parse(&p, buf, query_with(buf, others, 3)), LDNS_STATUS_OK);
  ldns_pkt_free(p);
  /* Truncated messages are still ldns's to reject. */
  size_t n = query_with(buf, others, 3);
  assert_int_not_equal(wire_parse(&p, buf, n - 5), LDNS_STATUS_OK);
  assert_null(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_compression),
      cmocka_unit_test(test_records_round_trip),
      cmocka_unit_test(test_overflow),
      cmocka_unit_test(test_random_round_trip),
      cmocka_unit_test(test_parse_refuses_repeated_opt_and_tsig),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
