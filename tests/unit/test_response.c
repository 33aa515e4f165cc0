/* Unit tests for resolver/core/response.c: classification of canned responses and
 * bailiwick scrubbing. */
#include "unit_helpers.h"

#include "resolver/core/response.h"

#define AN LDNS_SECTION_ANSWER
#define NS LDNS_SECTION_AUTHORITY
#define AR LDNS_SECTION_ADDITIONAL

static const char *SOA =
    "example.com. 300 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 60";

/* Classify p as the answer to (qname, qtype) from a server of zone. */
static void classify(const ldns_pkt *p, const char *qname, ldns_rr_type qtype, const char *zone,
                     struct resp_info *info, ldns_rdf **qn, ldns_rdf **zn) {
  *qn = dn(qname);
  *zn = dn(zone);
  resp_classify(p, *qn, qtype, *zn, info);
}

static void done(ldns_pkt *p, struct resp_info *info, ldns_rdf *qn, ldns_rdf *zn) {
  resp_info_clear(info);
  ldns_rdf_deep_free(qn);
  ldns_rdf_deep_free(zn);
  ldns_pkt_free(p);
}

static bool list_has(const ldns_rr_list *l, const char *text) {
  ldns_rr *want = rr(text);
  bool found = false;
  for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++)
    if (ldns_rr_compare(ldns_rr_list_rr(l, i), want) == 0) found = true;
  ldns_rr_free(want);
  return found;
}

static void test_plain_answer(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "www.example.com. 300 IN A 192.0.2.1");
  pkt_add(p, AN, "www.example.com. 300 IN A 192.0.2.2");
  pkt_add(p, AN, "other.example.com. 300 IN A 192.0.2.3"); /* not asked for */
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_string_equal(resp_class_name(info.cls), "answer");
  assert_int_equal(info.ncnames, 0);
  assert_name(info.final_name, "www.example.com.");
  assert_non_null(info.answer);
  assert_int_equal(ldns_rr_list_rr_count(info.answer), 2);
  assert_true(list_has(info.answer, "www.example.com. 300 IN A 192.0.2.2"));
  assert_false(list_has(info.answer, "other.example.com. 300 IN A 192.0.2.3"));
  assert_int_equal(info.rcode, LDNS_RCODE_NOERROR);
  assert_false(info.cname_with_other_data);
  done(p, &info, qn, zn);
}

static void test_answer_case_insensitive_owner(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "WWW.EXAMPLE.COM. 300 IN A 192.0.2.1");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(ldns_rr_list_rr_count(info.answer), 1);
  done(p, &info, qn, zn);
}

static void test_cname_chain_in_one_answer(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  /* Deliberately out of order in the packet. */
  pkt_add(p, AN, "c.example.com. 300 IN A 192.0.2.7");
  pkt_add(p, AN, "b.example.com. 300 IN CNAME c.example.com.");
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 2);
  assert_name(ldns_rr_owner(info.cnames[0]), "a.example.com.");
  assert_name(ldns_rr_owner(info.cnames[1]), "b.example.com.");
  assert_name(info.final_name, "c.example.com.");
  assert_int_equal(ldns_rr_list_rr_count(info.answer), 1);
  assert_true(list_has(info.answer, "c.example.com. 300 IN A 192.0.2.7"));
  done(p, &info, qn, zn);
}

static void test_cname_query_returns_cname_itself(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_CNAME, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_CNAME, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 0);
  assert_true(list_has(info.answer, "a.example.com. 300 IN CNAME b.example.com."));
  done(p, &info, qn, zn);
}

static void test_chain_leaves_zone(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.example.com.");
  pkt_add(p, AN, "b.example.com. 300 IN CNAME x.other.net.");
  /* Out-of-zone data this server may not speak for: must be ignored. */
  pkt_add(p, AN, "x.other.net. 300 IN CNAME y.other.net.");
  pkt_add(p, AN, "y.other.net. 300 IN A 203.0.113.66");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_CNAME);
  assert_int_equal(info.ncnames, 2);
  assert_name(ldns_rr_owner(info.cnames[1]), "b.example.com.");
  assert_name(info.final_name, "x.other.net.");
  assert_null(info.answer);
  done(p, &info, qn, zn);
}

static void test_referral_glue_scrubbed(void **state) {
  (void)state;
  /* The com. servers delegate example.com. */
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "example.com. 172800 IN NS ns1.example.com.");
  pkt_add(p, NS, "example.com. 172800 IN NS ns.other.net.");
  pkt_add(p, AR, "ns1.example.com. 172800 IN A 192.0.2.53");
  pkt_add(p, AR, "ns1.example.com. 172800 IN AAAA 2001:db8::53");
  pkt_add(p, AR, "ns.other.net. 172800 IN A 198.51.100.53");   /* outside com.: dropped */
  pkt_add(p, AR, "unrelated.example.com. 172800 IN A 192.0.2.99"); /* not an NS: dropped */
  pkt_add(p, AR, "ns1.example.com. 172800 IN TXT \"not an address\"");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_REFERRAL);
  assert_name(info.referral_zone, "example.com.");
  assert_non_null(info.ns);
  assert_int_equal(ldns_rr_list_rr_count(info.ns), 2);
  assert_non_null(info.glue);
  assert_int_equal(ldns_rr_list_rr_count(info.glue), 2);
  assert_true(list_has(info.glue, "ns1.example.com. 172800 IN A 192.0.2.53"));
  assert_true(list_has(info.glue, "ns1.example.com. 172800 IN AAAA 2001:db8::53"));
  assert_false(list_has(info.glue, "ns.other.net. 172800 IN A 198.51.100.53"));
  assert_false(list_has(info.glue, "unrelated.example.com. 172800 IN A 192.0.2.99"));
  done(p, &info, qn, zn);
}

static void test_referral_from_root(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "com. 172800 IN NS a.gtld-servers.net.");
  pkt_add(p, AR, "a.gtld-servers.net. 172800 IN A 192.0.2.30");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, ".", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_REFERRAL);
  assert_name(info.referral_zone, "com.");
  /* Everything is inside the root, so the net. glue is kept here. */
  assert_int_equal(ldns_rr_list_rr_count(info.glue), 1);
  done(p, &info, qn, zn);
}

static void test_upward_referral_is_lame(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "com. 172800 IN NS a.gtld-servers.net.");
  pkt_add(p, AR, "a.gtld-servers.net. 172800 IN A 192.0.2.30");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  assert_non_null(info.why);
  assert_null(info.glue);
  done(p, &info, qn, zn);

  /* Root referral from a zone server. */
  p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, ". 518400 IN NS a.root-servers.net.");
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);

  /* Referral to the zone asked itself is not "below". */
  p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "example.com. 3600 IN NS ns1.example.com.");
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);
}

static void test_sideways_referral_is_lame(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "example.net. 172800 IN NS ns1.example.net.");
  pkt_add(p, AR, "ns1.example.net. 172800 IN A 192.0.2.31");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);

  /* An NS of another class is no delegation at all (fuzzing found it
   * made a referral without servers). */
  p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "example.com. 172800 CH NS ns1.example.com.");
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);

  /* A delegation below the zone but not above the question. */
  p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  pkt_add(p, NS, "example2.com. 172800 IN NS ns1.example2.com.");
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);
}

static void test_nxdomain_with_aa_and_soa(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, NS, SOA);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "nx.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NXDOMAIN);
  assert_int_equal(info.rcode, LDNS_RCODE_NXDOMAIN);
  assert_non_null(info.soa);
  assert_int_equal(ldns_rr_get_type(info.soa), LDNS_RR_TYPE_SOA);
  assert_name(info.final_name, "nx.example.com.");
  done(p, &info, qn, zn);
}

static void test_nxdomain_without_aa_is_lame(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, false);
  pkt_add(p, NS, SOA);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "nx.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  done(p, &info, qn, zn);
}

static void test_nxdomain_soa_out_of_zone_ignored(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, NS, "other.net. 300 IN SOA ns1.other.net. h.other.net. 1 2 3 4 5");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "nx.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NXDOMAIN);
  assert_null(info.soa);
  done(p, &info, qn, zn);
}

static void test_nxdomain_after_in_zone_cname(void **state) {
  (void)state;
  /* RFC 6604: the RCODE speaks for the last name of the chain. */
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME gone.example.com.");
  pkt_add(p, NS, SOA);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NXDOMAIN);
  assert_int_equal(info.ncnames, 1);
  assert_name(info.final_name, "gone.example.com.");
  assert_non_null(info.soa);
  done(p, &info, qn, zn);
}

static void test_nxdomain_after_out_of_zone_cname(void **state) {
  (void)state;
  /* The NXDOMAIN is about a name this server does not serve: requery. */
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.other.net.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_CNAME);
  assert_name(info.final_name, "b.other.net.");
  done(p, &info, qn, zn);
}

static void test_nodata_with_soa(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, SOA);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_AAAA, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NODATA);
  assert_non_null(info.soa);
  assert_null(info.answer);
  done(p, &info, qn, zn);
}

static void test_nodata_after_cname(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.example.com.");
  pkt_add(p, NS, SOA);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_AAAA, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NODATA);
  assert_int_equal(info.ncnames, 1);
  assert_name(info.final_name, "b.example.com.");
  assert_non_null(info.soa);
  done(p, &info, qn, zn);
}

/* A chain that stops in the zone without data or SOA: the server did not
 * follow it (the target is in another zone it also serves): ask again for
 * the target, do not take it for NODATA. */
static void test_cname_stopping_without_soa(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME www.child.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_CNAME);
  assert_int_equal(info.ncnames, 1);
  assert_name(info.final_name, "www.child.example.com.");
  assert_null(info.soa);
  done(p, &info, qn, zn);
}

static void test_cname_with_other_data(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "www.example.com. 300 IN A 198.51.100.1"); /* illegal next to a CNAME */
  pkt_add(p, AN, "www.example.com. 300 IN CNAME real.example.com.");
  pkt_add(p, AN, "real.example.com. 300 IN A 192.0.2.80");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_true(info.cname_with_other_data);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 1);
  assert_name(info.final_name, "real.example.com.");
  assert_int_equal(ldns_rr_list_rr_count(info.answer), 1);
  assert_true(list_has(info.answer, "real.example.com. 300 IN A 192.0.2.80"));
  done(p, &info, qn, zn);
}

static void test_error_rcodes(void **state) {
  (void)state;
  static const ldns_pkt_rcode codes[] = {LDNS_RCODE_SERVFAIL, LDNS_RCODE_REFUSED,
                                         LDNS_RCODE_NOTIMPL, LDNS_RCODE_FORMERR};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, codes[i], true);
    /* Even with data, an error rcode is an error. */
    pkt_add(p, AN, "www.example.com. 300 IN A 192.0.2.1");
    struct resp_info info;
    ldns_rdf *qn, *zn;
    classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
    assert_int_equal(info.cls, RESP_ERROR);
    assert_int_equal(info.rcode, codes[i]);
    assert_null(info.answer);
    assert_non_null(info.why);
    done(p, &info, qn, zn);
  }
}

static void test_two_name_loop_in_answer(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME b.example.com.");
  pkt_add(p, AN, "b.example.com. 300 IN CNAME a.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  /* The walk stops at the repeated owner; both CNAMEs are reported so the
   * caller's chain sees the loop. */
  assert_int_equal(info.ncnames, 2);
  assert_name(ldns_rr_owner(info.cnames[0]), "a.example.com.");
  assert_name(ldns_rr_owner(info.cnames[1]), "b.example.com.");
  assert_name(info.final_name, "a.example.com.");
  assert_null(info.answer);
  assert_int_not_equal(info.cls, RESP_ANSWER);
  done(p, &info, qn, zn);
}

static void test_self_loop_in_answer(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN CNAME a.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.ncnames, 1);
  assert_name(info.final_name, "a.example.com.");
  done(p, &info, qn, zn);
}

static void test_non_aa_empty_is_lame(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_LAME);
  assert_non_null(info.why);
  done(p, &info, qn, zn);
}

static void test_resp_rrset(void **state) {
  (void)state;
  ldns_rr_list *l = rrlist("a.example. 300 IN A 192.0.2.1", "A.EXAMPLE. 300 IN A 192.0.2.2",
                           "a.example. 300 IN AAAA 2001:db8::1", "b.example. 300 IN A 192.0.2.3",
                           "a.example. 300 CH A 192.0.2.4", NULL);
  ldns_rdf *a = dn("a.example."), *c = dn("c.example.");
  ldns_rr_list *s = resp_rrset(l, a, LDNS_RR_TYPE_A);
  assert_non_null(s);
  assert_int_equal(ldns_rr_list_rr_count(s), 2); /* the CH one is not IN */
  ldns_rr_list_free(s);
  s = resp_rrset(l, a, LDNS_RR_TYPE_ANY);
  assert_int_equal(ldns_rr_list_rr_count(s), 3);
  ldns_rr_list_free(s);
  assert_null(resp_rrset(l, c, LDNS_RR_TYPE_A));
  ldns_rdf_deep_free(a);
  ldns_rdf_deep_free(c);
  ldns_rr_list_deep_free(l);
  assert_string_equal(resp_class_name(RESP_REFERRAL), "referral");
  assert_string_equal(resp_class_name((enum resp_class)99), "?");
}

/* ---- DNAME (RFC 6672) ------------------------------------------------------ */

/* Text of labels whose wire form takes exactly `wire` octets (>= 2), then
 * `suffix` (e.g. "a." or "d.example."). */
static const char *long_name(char *buf, size_t wire, const char *suffix) {
  char *p = buf;
  while (wire > 64 + 1) { /* leave at least one octet plus one character */
    p += sprintf(p, "%.63s.", "lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll");
    wire -= 64;
  }
  assert_true(wire >= 2 && wire <= 64);
  p += sprintf(p, "%.*s.", (int)(wire - 1),
               "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm");
  sprintf(p, "%s", suffix);
  return buf;
}

static void test_dname_synth_owner_target_ttl(void **state) {
  (void)state;
  ldns_rr *d = rr("old.example.com. 300 IN DNAME new.example.net.");
  ldns_rdf *name = dn("a.B.old.example.com.");
  ldns_rr *c = resp_dname_synth(d, name);
  assert_non_null(c);
  assert_int_equal(ldns_rr_get_type(c), LDNS_RR_TYPE_CNAME);
  assert_int_equal(ldns_rr_get_class(c), LDNS_RR_CLASS_IN);
  assert_int_equal(ldns_rr_ttl(c), 300);
  assert_name(ldns_rr_owner(c), "a.b.old.example.com.");
  assert_int_equal(ldns_rr_rd_count(c), 1);
  assert_name(ldns_rr_rdf(c, 0), "a.b.new.example.net.");
  /* It is a well-formed record: it prints and compares like one. */
  ldns_rr *want = rr("a.b.old.example.com. 300 IN CNAME a.b.new.example.net.");
  assert_int_equal(ldns_rr_compare(c, want), 0);
  ldns_rr_free(want);
  ldns_rr_free(c);
  ldns_rdf_deep_free(name);
  /* One label below the owner; a DNAME to the root. */
  ldns_rr *root = rr("example.org. 60 IN DNAME .");
  name = dn("www.example.org.");
  c = resp_dname_synth(root, name);
  assert_non_null(c);
  assert_name(ldns_rr_rdf(c, 0), "www.");
  assert_int_equal(ldns_rr_ttl(c), 60);
  ldns_rr_free(c);
  ldns_rdf_deep_free(name);
  ldns_rr_free(root);
  ldns_rr_free(d);
}

static void test_dname_synth_length_limit(void **state) {
  (void)state;
  /* The target is 16 octets on the wire; the labels above the owner "a."
   * are 239 octets, then 240: 255 is the longest legal name, 256 is not. */
  ldns_rr *d = rr("a. 60 IN DNAME target.example.");
  char text[600];
  ldns_rdf *n255 = dn(long_name(text, 239, "a."));
  assert_int_equal(ldns_rdf_size(n255), 239 + 3);
  ldns_rr *c = resp_dname_synth(d, n255);
  assert_non_null(c);
  assert_int_equal(ldns_rdf_size(ldns_rr_rdf(c, 0)), 255);
  assert_int_equal(ldns_dname_label_count(ldns_rr_rdf(c, 0)),
                   ldns_dname_label_count(n255) - 1 + 2);
  ldns_rr_free(c);
  ldns_rdf *n256 = dn(long_name(text, 240, "a."));
  assert_null(resp_dname_synth(d, n256));
  ldns_rdf_deep_free(n255);
  ldns_rdf_deep_free(n256);
  ldns_rr_free(d);
  /* A DNAME without rdata is no DNAME. */
  ldns_rr *bad = ldns_rr_new();
  ldns_rr_set_owner(bad, dn("x.example."));
  ldns_rr_set_type(bad, LDNS_RR_TYPE_DNAME);
  ldns_rdf *name = dn("a.x.example.");
  assert_null(resp_dname_synth(bad, name));
  ldns_rdf_deep_free(name);
  ldns_rr_free(bad);
}

/* The DNAME wins over the server's CNAME at the same name: the CNAME is made
 * here (the DNAME's TTL), the server's one ignored. */
static void test_dname_wins_over_server_cname(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "old.example.com. 300 IN DNAME new.example.com.");
  pkt_add(p, AN, "www.old.example.com. 30 IN CNAME bogus.example.com.");
  pkt_add(p, AN, "bogus.example.com. 300 IN A 192.0.2.66");
  pkt_add(p, AN, "www.new.example.com. 300 IN A 192.0.2.9");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.old.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 1);
  assert_non_null(info.dnames[0]);
  assert_ptr_equal(info.dnames[0], ldns_rr_list_rr(ldns_pkt_answer(p), 0));
  assert_ptr_not_equal(info.cnames[0], ldns_rr_list_rr(ldns_pkt_answer(p), 1));
  assert_int_equal(ldns_rr_get_type(info.cnames[0]), LDNS_RR_TYPE_CNAME);
  assert_name(ldns_rr_owner(info.cnames[0]), "www.old.example.com.");
  assert_name(ldns_rr_rdf(info.cnames[0], 0), "www.new.example.com.");
  assert_int_equal(ldns_rr_ttl(info.cnames[0]), 300);
  assert_name(info.final_name, "www.new.example.com.");
  assert_int_equal(ldns_rr_list_rr_count(info.answer), 1);
  assert_true(list_has(info.answer, "www.new.example.com. 300 IN A 192.0.2.9"));
  assert_false(info.yxdomain);
  done(p, &info, qn, zn);
}

/* Only a DNAME owned by a proper ancestor of the name, inside the zone
 * asked, rewrites it. */
static void test_dname_outside_zone_ignored(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.sub.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "example.com. 300 IN DNAME evil.example.net."); /* above the zone */
  pkt_add(p, AN, "other.sub.example.com. 300 IN DNAME evil.example.net."); /* a sibling */
  pkt_add(p, AN, "www.sub.example.com. 300 IN CNAME x.sub.example.com.");
  pkt_add(p, AN, "x.sub.example.com. 300 IN A 192.0.2.7");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.sub.example.com.", LDNS_RR_TYPE_A, "sub.example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 1);
  assert_null(info.dnames[0]);
  assert_ptr_equal(info.cnames[0], ldns_rr_list_rr(ldns_pkt_answer(p), 2));
  assert_name(info.final_name, "x.sub.example.com.");
  assert_true(list_has(info.answer, "x.sub.example.com. 300 IN A 192.0.2.7"));
  done(p, &info, qn, zn);

  /* A DNAME at the name asked does not rewrite that name itself. */
  p = mkpkt("old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "old.example.com. 300 IN DNAME new.example.com.");
  pkt_add(p, NS, SOA);
  classify(p, "old.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_NODATA);
  assert_int_equal(info.ncnames, 0);
  assert_name(info.final_name, "old.example.com.");
  done(p, &info, qn, zn);
}

/* Review finding: a DNAME without rdata (the wire allows RDLENGTH 0) is not
 * a reason to answer YXDOMAIN: it is ignored like any malformed record. */
static void test_dname_without_rdata_ignored(void **state) {
  (void)state;
  static const ldns_pkt_rcode rcodes[] = {LDNS_RCODE_YXDOMAIN, LDNS_RCODE_NOERROR};
  for (size_t i = 0; i < 2; i++) {
    ldns_pkt *p = mkpkt("x.d.example.", LDNS_RR_TYPE_A, rcodes[i], true);
    ldns_rr *bad = ldns_rr_new();
    ldns_rr_set_owner(bad, ldns_dname_new_frm_str("d.example."));
    ldns_rr_set_type(bad, LDNS_RR_TYPE_DNAME);
    ldns_rr_set_class(bad, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(bad, 300);
    ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, bad);
    pkt_add(p, NS, "example. 300 IN SOA ns.example. h.example. 1 2 3 4 60");
    struct resp_info info;
    ldns_rdf *qn, *zn;
    classify(p, "x.d.example.", LDNS_RR_TYPE_A, "example.", &info, &qn, &zn);
    assert_int_not_equal(info.cls, RESP_YXDOMAIN);
    assert_false(info.yxdomain);
    assert_int_equal(info.ncnames, 0);
    assert_int_equal(info.cls, i == 0 ? RESP_ERROR : RESP_NODATA);
    done(p, &info, qn, zn);
  }
}

/* YXDOMAIN (RFC 6672 2.2) is believed only when a DNAME in the answer
 * really makes the name too long. */
static void test_dname_yxdomain(void **state) {
  (void)state;
  /* The target is 196 octets; under it a 63-octet label makes 260. */
  const char *dname = "d.example. 300 IN DNAME tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
                      "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
                      "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt.example.net.";
  char q[300];
  snprintf(q, sizeof q, "%s.d.example.",
           "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
  static const ldns_pkt_rcode rcodes[] = {LDNS_RCODE_YXDOMAIN, LDNS_RCODE_NOERROR};
  for (size_t i = 0; i < 2; i++) {
    ldns_pkt *p = mkpkt(q, LDNS_RR_TYPE_A, rcodes[i], true);
    pkt_add(p, AN, dname);
    struct resp_info info;
    ldns_rdf *qn, *zn;
    classify(p, q, LDNS_RR_TYPE_A, "example.", &info, &qn, &zn);
    assert_int_equal(info.cls, RESP_YXDOMAIN);
    assert_string_equal(resp_class_name(info.cls), "yxdomain");
    assert_true(info.yxdomain);
    assert_int_equal(info.rcode, rcodes[i]);
    assert_int_equal(info.ncnames, 0);
    assert_null(info.answer);
    done(p, &info, qn, zn);
  }

  /* YXDOMAIN without a DNAME, with one that fits, or with one out of the
   * zone: an error like any other rcode. */
  const char *cases[][2] = {
      {NULL, "example."},
      {"d.example. 300 IN DNAME short.example.net.", "example."},
      {dname, "sub.d.example."}, /* the DNAME's owner is above the zone */
  };
  char q2[300];
  snprintf(q2, sizeof q2, "%s.sub.d.example.",
           "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *qname = i == 2 ? q2 : q;
    ldns_pkt *p = mkpkt(qname, LDNS_RR_TYPE_A, LDNS_RCODE_YXDOMAIN, true);
    if (cases[i][0]) pkt_add(p, AN, cases[i][0]);
    struct resp_info info;
    ldns_rdf *qn, *zn;
    classify(p, qname, LDNS_RR_TYPE_A, cases[i][1], &info, &qn, &zn);
    if (info.cls != RESP_ERROR) fail_msg("case %zu: class %s, want error", i,
                                         resp_class_name(info.cls));
    assert_false(info.yxdomain);
    assert_int_equal(info.rcode, LDNS_RCODE_YXDOMAIN);
    assert_null(info.answer);
    assert_non_null(info.why);
    done(p, &info, qn, zn);
  }
}

static void test_dname_then_cname_chain(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "web.example.com. 300 IN A 192.0.2.8");
  pkt_add(p, AN, "www.new.example.com. 300 IN CNAME web.example.com.");
  pkt_add(p, AN, "old.example.com. 120 IN DNAME new.example.com.");
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.old.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_ANSWER);
  assert_int_equal(info.ncnames, 2);
  assert_non_null(info.dnames[0]);
  assert_name(ldns_rr_owner(info.dnames[0]), "old.example.com.");
  assert_name(ldns_rr_owner(info.cnames[0]), "www.old.example.com.");
  assert_name(ldns_rr_rdf(info.cnames[0], 0), "www.new.example.com.");
  assert_int_equal(ldns_rr_ttl(info.cnames[0]), 120);
  assert_null(info.dnames[1]);
  assert_ptr_equal(info.cnames[1], ldns_rr_list_rr(ldns_pkt_answer(p), 1));
  assert_name(info.final_name, "web.example.com.");
  assert_true(list_has(info.answer, "web.example.com. 300 IN A 192.0.2.8"));
  done(p, &info, qn, zn);
}

/* A DNAME into another zone: the chain leaves the zone; a DNAME loop
 * inside one answer stops at the repeated name for the caller to see. */
static void test_dname_leaves_zone_and_loops(void **state) {
  (void)state;
  ldns_pkt *p = mkpkt("www.old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "old.example.com. 300 IN DNAME example.net.");
  pkt_add(p, AN, "www.example.net. 300 IN A 203.0.113.66"); /* not this server's */
  struct resp_info info;
  ldns_rdf *qn, *zn;
  classify(p, "www.old.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.cls, RESP_CNAME);
  assert_int_equal(info.ncnames, 1);
  assert_non_null(info.dnames[0]);
  assert_name(info.final_name, "www.example.net.");
  assert_null(info.answer);
  done(p, &info, qn, zn);

  p = mkpkt("x.a.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "a.example.com. 300 IN DNAME b.example.com.");
  pkt_add(p, AN, "b.example.com. 300 IN DNAME a.example.com.");
  classify(p, "x.a.example.com.", LDNS_RR_TYPE_A, "example.com.", &info, &qn, &zn);
  assert_int_equal(info.ncnames, 2);
  assert_non_null(info.dnames[0]);
  assert_non_null(info.dnames[1]);
  assert_name(ldns_rr_rdf(info.cnames[0], 0), "x.b.example.com.");
  assert_name(ldns_rr_rdf(info.cnames[1], 0), "x.a.example.com.");
  assert_name(info.final_name, "x.a.example.com.");
  assert_int_not_equal(info.cls, RESP_ANSWER);
  done(p, &info, qn, zn);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plain_answer),
      cmocka_unit_test(test_answer_case_insensitive_owner),
      cmocka_unit_test(test_cname_chain_in_one_answer),
      cmocka_unit_test(test_cname_query_returns_cname_itself),
      cmocka_unit_test(test_chain_leaves_zone),
      cmocka_unit_test(test_referral_glue_scrubbed),
      cmocka_unit_test(test_referral_from_root),
      cmocka_unit_test(test_upward_referral_is_lame),
      cmocka_unit_test(test_sideways_referral_is_lame),
      cmocka_unit_test(test_nxdomain_with_aa_and_soa),
      cmocka_unit_test(test_nxdomain_without_aa_is_lame),
      cmocka_unit_test(test_nxdomain_soa_out_of_zone_ignored),
      cmocka_unit_test(test_nxdomain_after_in_zone_cname),
      cmocka_unit_test(test_nxdomain_after_out_of_zone_cname),
      cmocka_unit_test(test_nodata_with_soa),
      cmocka_unit_test(test_nodata_after_cname),
      cmocka_unit_test(test_cname_stopping_without_soa),
      cmocka_unit_test(test_cname_with_other_data),
      cmocka_unit_test(test_error_rcodes),
      cmocka_unit_test(test_two_name_loop_in_answer),
      cmocka_unit_test(test_self_loop_in_answer),
      cmocka_unit_test(test_non_aa_empty_is_lame),
      cmocka_unit_test(test_resp_rrset),
      cmocka_unit_test(test_dname_synth_owner_target_ttl),
      cmocka_unit_test(test_dname_synth_length_limit),
      cmocka_unit_test(test_dname_wins_over_server_cname),
      cmocka_unit_test(test_dname_outside_zone_ignored),
      cmocka_unit_test(test_dname_yxdomain),
      cmocka_unit_test(test_dname_without_rdata_ignored),
      cmocka_unit_test(test_dname_then_cname_chain),
      cmocka_unit_test(test_dname_leaves_zone_and_loops),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
