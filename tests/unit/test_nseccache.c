/* Unit tests for resolver/dnssec/nseccache.c: the store of validated NSEC records
 * and the answers RFC 8198 lets it synthesise.
 *
 * The zone is test_denial.c's example.com, signed with NSEC (nsec_chain.h).
 *
 * RRSIGs are made up (their signatures are never checked here): what
 * matters is their owner, type covered, signer, TTL and expiration.
 */
#include "unit_helpers.h"

#include <pthread.h>

#include "resolver/dnssec/nseccache.h"

#define NOW 1800000000 /* 2027-01-15 */

#include "nsec_chain.h"

/* An RRSIG over the NSEC at owner, by signer, expiring at exp (YYYYMMDDHHmmSS). */
#define SIG_BY(owner, labels, signer, exp)                                                   \
  owner " 300 IN RRSIG NSEC 13 " labels " 300 " exp " 20200101000000 12345 " signer        \
        " c2lnbmF0dXJlIG5vdCBjaGVja2VkIGhlcmU="
#define SIG(owner, labels) SIG_BY(owner, labels, "example.com.", "20300101000000")

#define ZONE "example.com."

static ldns_rr_list *chain(void) {
  return rrlist(NSEC_APEX, SIG("example.com.", "2"), NSEC_ALIAS, SIG("alias.example.com.", "3"),
                NSEC_ABC, SIG("a.b.c.example.com.", "5"), NSEC_D, SIG("d.example.com.", "3"),
                NSEC_INSEC, SIG("insec.example.com.", "3"), NSEC_NS, SIG("ns.example.com.", "3"),
                NSEC_SUB, SIG("sub.example.com.", "3"), NSEC_W, SIG("w.example.com.", "3"),
                NSEC_WILD, SIG("*.w.example.com.", "3"), NSEC_WWW, SIG("www.example.com.", "3"),
                NULL);
}

/* Stores the records of text (NULL-terminated) for zone. */
static void store(nseccache_t *nc, const char *zone, uint32_t cap, int64_t now,
                  ldns_rr_list *l) {
  ldns_rdf *z = dn(zone);
  nseccache_store(nc, z, l, cap, now);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
}

static enum denial_result lookup(nseccache_t *nc, const char *qname, ldns_rr_type t,
                                 int64_t now, bool *nxd, struct nsec_proof *out) {
  ldns_rdf *q = dn(qname);
  enum denial_result r = nseccache_lookup(nc, q, t, now, nxd, out);
  ldns_rdf_deep_free(q);
  if (r != DENIAL_PROVEN) {
    assert_false(*nxd);
    assert_null(out->zone);
    assert_null(out->nsecs);
  }
  return r;
}

/* The proof's NSEC owners, in order, as "a.example.com. b.example.com." */
static const char *owners(const struct nsec_proof *p, char *buf, size_t len) {
  size_t o = 0;
  buf[0] = 0;
  for (size_t i = 0; p->nsecs && i < ldns_rr_list_rr_count(p->nsecs); i++) {
    const ldns_rr *r = ldns_rr_list_rr(p->nsecs, i);
    if (ldns_rr_get_type(r) != LDNS_RR_TYPE_NSEC) continue;
    char *s = ldns_rdf2str(ldns_rr_owner(r));
    int n = snprintf(buf + o, len - o, "%s%s", o ? " " : "", s);
    free(s);
    if (n > 0) o += (size_t)n < len - o ? (size_t)n : len - o - 1;
  }
  return buf;
}

static bool owned_by(const ldns_rr *r, const char *name) {
  ldns_rdf *n = dn(name);
  bool same = ldns_dname_compare(ldns_rr_owner(r), n) == 0;
  ldns_rdf_deep_free(n);
  return same;
}

#define EXPECT_OWNERS(p, want)                                                               \
  do {                                                                                       \
    char b_[2048];                                                                           \
    assert_string_equal(owners(p, b_, sizeof b_), want);                                     \
  } while (0)

/* ---- Synthesis ---- */

static void test_nxdomain(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  store(nc, ZONE, 3600, NOW, chain());
  assert_int_equal(nseccache_count(nc), 10);
  struct nsec_proof p = {0};
  bool nxd = false;
  /* ns..sub covers nx; the apex record covers *.example.com. */
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW + 10, &nxd, &p),
                   DENIAL_PROVEN);
  assert_true(nxd);
  assert_name(p.zone, ZONE);
  assert_int_equal(p.ttl, 290);
  /* Each NSEC, then its RRSIG, in canonical order; TTLs count down. */
  assert_int_equal(ldns_rr_list_rr_count(p.nsecs), 4);
  ldns_rr_type want[] = {LDNS_RR_TYPE_NSEC, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC,
                         LDNS_RR_TYPE_RRSIG};
  const char *owner[] = {"example.com.", "example.com.", "ns.example.com.", "ns.example.com."};
  for (size_t i = 0; i < 4; i++) {
    const ldns_rr *r = ldns_rr_list_rr(p.nsecs, i);
    assert_int_equal(ldns_rr_get_type(r), want[i]);
    assert_name(ldns_rr_owner(r), owner[i]);
    assert_int_equal(ldns_rr_ttl(r), 290);
  }
  nsec_proof_clear(&p);
  assert_null(p.nsecs);
  nsec_proof_clear(&p); /* twice is harmless */

  /* Deeper names, other types, any case. */
  assert_int_equal(lookup(nc, "A.NX.Example.COM.", LDNS_RR_TYPE_MX, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_true(nxd);
  EXPECT_OWNERS(&p, "example.com. ns.example.com.");
  nsec_proof_clear(&p);
  /* After the last name: the record that wraps to the apex covers it. */
  assert_int_equal(lookup(nc, "zzz.example.com.", LDNS_RR_TYPE_AAAA, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_true(nxd);
  EXPECT_OWNERS(&p, "example.com. www.example.com.");
  nsec_proof_clear(&p);
  nseccache_free(nc);
}

static void test_nodata(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  store(nc, ZONE, 3600, NOW, chain());
  struct nsec_proof p = {0};
  bool nxd = true;
  /* The name's own record, without the type. */
  assert_int_equal(lookup(nc, "WWW.example.com.", LDNS_RR_TYPE_TXT, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT_OWNERS(&p, "www.example.com.");
  assert_int_equal(ldns_rr_list_rr_count(p.nsecs), 2);
  nsec_proof_clear(&p);
  /* An empty non-terminal: alias..a.b.c has the next name below b.c. */
  nxd = true;
  assert_int_equal(lookup(nc, "b.c.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT_OWNERS(&p, "alias.example.com.");
  nsec_proof_clear(&p);
  /* Wildcard NODATA: *.w answers x.w, but has no MX. */
  assert_int_equal(lookup(nc, "x.w.example.com.", LDNS_RR_TYPE_MX, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT_OWNERS(&p, "*.w.example.com.");
  nsec_proof_clear(&p);
  /* The apex itself. */
  assert_int_equal(lookup(nc, "example.com.", LDNS_RR_TYPE_MX, NOW, &nxd, &p), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT_OWNERS(&p, "example.com.");
  nsec_proof_clear(&p);
  nseccache_free(nc);
}

/* DS is the parent's: a cached child zone must not hide the parent's proof,
 * nor its apex record prove anything about DS. */
static void test_ds_parent_side(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  store(nc, "insec.example.com.", 3600, NOW,
        rrlist("insec.example.com. 300 IN NSEC www.insec.example.com. NS SOA RRSIG NSEC DNSKEY",
               SIG_BY("insec.example.com.", "3", "insec.example.com.", "20300101000000"),
               NULL));
  struct nsec_proof p = {0};
  bool nxd;
  /* Only the child is cached: nothing to say about its DS. */
  assert_int_equal(lookup(nc, "insec.example.com.", LDNS_RR_TYPE_DS, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* The child's own records answer for other types. */
  assert_int_equal(lookup(nc, "insec.example.com.", LDNS_RR_TYPE_MX, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_name(p.zone, "insec.example.com.");
  nsec_proof_clear(&p);
  store(nc, ZONE, 3600, NOW, chain());
  assert_int_equal(lookup(nc, "insec.example.com.", LDNS_RR_TYPE_DS, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_false(nxd);
  assert_name(p.zone, ZONE);
  EXPECT_OWNERS(&p, "insec.example.com.");
  nsec_proof_clear(&p);
  /* sub has a DS: not denied. The root has no parent. */
  assert_int_equal(lookup(nc, "sub.example.com.", LDNS_RR_TYPE_DS, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  assert_int_equal(lookup(nc, ".", LDNS_RR_TYPE_DS, NOW, &nxd, &p), DENIAL_NOT_PROVEN);
  nseccache_free(nc);
}

/* ---- No synthesis ---- */

static size_t flush(nseccache_t *nc, const char *zone, bool below) {
  ldns_rdf *z = dn(zone);
  size_t n = nseccache_flush(nc, z, below);
  ldns_rdf_deep_free(z);
  return n;
}

static void test_not_synthesised(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  struct nsec_proof p = {0};
  bool nxd;
  /* Nothing cached at all. */
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* The wildcard proof without the covering record: insec..ns ends before nx. */
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_APEX, NSEC_INSEC, NULL));
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* The covering record without the wildcard proof. */
  flush(nc, ZONE, false);
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_NS, NULL));
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* With the whole chain: data exists, a wildcard would answer, the name is
   * below a cut or a DNAME, or the type is a referral's. */
  flush(nc, ZONE, false);
  store(nc, ZONE, 3600, NOW, chain());
  const struct {
    const char *name;
    ldns_rr_type type;
  } ask[] = {
      {"www.example.com.", LDNS_RR_TYPE_A},     {"x.w.example.com.", LDNS_RR_TYPE_A},
      {"x.w.example.com.", LDNS_RR_TYPE_TXT},   {"*.w.example.com.", LDNS_RR_TYPE_A},
      {"a.b.c.example.com.", LDNS_RR_TYPE_A},   {"x.sub.example.com.", LDNS_RR_TYPE_A},
      {"ns.sub.example.com.", LDNS_RR_TYPE_A},  {"insec.example.com.", LDNS_RR_TYPE_A},
      {"x.insec.example.com.", LDNS_RR_TYPE_A}, {"x.d.example.com.", LDNS_RR_TYPE_A},
      {"alias.example.com.", LDNS_RR_TYPE_A},   {"example.com.", LDNS_RR_TYPE_SOA},
      {"nx.example.org.", LDNS_RR_TYPE_A},      {"com.", LDNS_RR_TYPE_A},
  };
  for (size_t i = 0; i < sizeof ask / sizeof ask[0]; i++) {
    nxd = true;
    if (lookup(nc, ask[i].name, ask[i].type, NOW, &nxd, &p) != DENIAL_NOT_PROVEN)
      fail_msg("%s type %d was denied", ask[i].name, ask[i].type);
  }
  /* Expired: nothing is proven, and the records met are dropped. */
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW + 299, &nxd, &p),
                   DENIAL_PROVEN);
  nsec_proof_clear(&p);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW + 300, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  assert_true(nseccache_count(nc) < 10);
  nseccache_free(nc);
}

/* The TTL is the smallest of the record's, its RRSIGs' and the cap, and a
 * record never outlives its signatures. */
static void test_ttl_limits(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  struct nsec_proof p = {0};
  bool nxd;
  store(nc, ZONE, 60, NOW, rrlist(NSEC_NS, NSEC_APEX, NULL));
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  assert_int_equal(p.ttl, 60);
  nsec_proof_clear(&p);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW + 60, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* A cap of 0 keeps nothing. */
  flush(nc, ".", true);
  store(nc, ZONE, 0, NOW, rrlist(NSEC_NS, NSEC_APEX, NULL));
  assert_int_equal(nseccache_count(nc), 0);
  /* An RRSIG that expires 100 s from now (2027-01-15 08:01:40 UTC) bounds
   * its NSEC; one already expired keeps it out; a shorter RRSIG TTL wins. */
  store(nc, ZONE, 3600, NOW,
        rrlist(NSEC_NS, SIG_BY("ns.example.com.", "3", "example.com.", "20270115080140"),
               NSEC_APEX,
               "example.com. 200 IN RRSIG NSEC 13 2 300 20300101000000 20200101000000 12345 "
               "example.com. c2lnbmF0dXJl",
               NSEC_WWW, SIG_BY("www.example.com.", "3", "example.com.", "20270115075959"),
               NULL));
  assert_int_equal(nseccache_count(nc), 2);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  assert_int_equal(p.ttl, 100);
  for (size_t i = 0; i < ldns_rr_list_rr_count(p.nsecs); i++) {
    const ldns_rr *r = ldns_rr_list_rr(p.nsecs, i);
    assert_int_equal(ldns_rr_ttl(r), owned_by(r, ZONE) ? 200 : 100);
  }
  nsec_proof_clear(&p);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW + 100, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  nseccache_free(nc);
}

/* ---- Zones, replacement, bound, flush ---- */

static void test_zones_apart(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  struct nsec_proof p = {0};
  bool nxd;
  /* Records outside the zone named are not kept; nor are those signed only
   * by another zone (sub's records, if the caller named the parent), nor
   * RRSIGs by another signer. A record without RRSIGs is kept. */
  store(nc, "example.net.", 3600, NOW, chain());
  assert_int_equal(nseccache_count(nc), 0);
  store(nc, "sub.example.com.", 3600, NOW, chain());
  assert_int_equal(nseccache_count(nc), 0);
  store(nc, ZONE, 3600, NOW,
        rrlist(NSEC_NS, SIG_BY("ns.example.com.", "3", "other.example.", "20300101000000"),
               SIG("ns.example.com.", "3"), NSEC_APEX, NSEC_WWW,
               SIG_BY("www.example.com.", "3", "sub.example.com.", "20300101000000"),
               "nx.example.net. 300 IN NSEC zz.example.net. A RRSIG NSEC", NULL));
  assert_int_equal(nseccache_count(nc), 2);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  assert_int_equal(ldns_rr_list_rr_count(p.nsecs), 3); /* apex NSEC, ns NSEC and its RRSIG */
  const ldns_rr *sig = ldns_rr_list_rr(p.nsecs, 2);
  assert_int_equal(ldns_rr_get_type(sig), LDNS_RR_TYPE_RRSIG);
  assert_name(ldns_rr_rrsig_signame(sig), ZONE);
  nsec_proof_clear(&p);
  assert_int_equal(lookup(nc, "zzz.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN); /* www..apex was not kept */
  /* Only the last record of a zone points back, and to the apex: one that
   * points back elsewhere would deny every name after it. */
  store(nc, ZONE, 3600, NOW, rrlist("www.example.com. 300 IN NSEC nb.example.com. A RRSIG NSEC",
                                    "www.example.com. 300 IN NSEC www.example.com. A RRSIG NSEC",
                                    NULL));
  assert_int_equal(nseccache_count(nc), 2);
  assert_int_equal(lookup(nc, "zzz.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* Another zone's lookups do not see example.com's records. */
  assert_int_equal(lookup(nc, "nx.example.net.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* The closest zone with records is the one asked: a child zone's
   * records answer below its apex; the parent's delegation record does not. */
  store(nc, "sub.example.com.", 3600, NOW,
        rrlist("sub.example.com. 300 IN NSEC www.sub.example.com. NS SOA RRSIG NSEC DNSKEY",
               "www.sub.example.com. 300 IN NSEC sub.example.com. A RRSIG NSEC", NULL));
  assert_int_equal(nseccache_count(nc), 4);
  assert_int_equal(lookup(nc, "nx.sub.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_PROVEN);
  assert_true(nxd);
  assert_name(p.zone, "sub.example.com.");
  EXPECT_OWNERS(&p, "sub.example.com.");
  nsec_proof_clear(&p);
  nseccache_free(nc);
}

static void test_replace(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  struct nsec_proof p = {0};
  bool nxd;
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_NS, NSEC_APEX, NULL));
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  nsec_proof_clear(&p);
  /* The zone gained nu: ns..nu now, in other case, which no longer covers nx. */
  store(nc, ZONE, 3600, NOW + 5, rrlist("NS.Example.COM. 300 IN NSEC nu.example.com. A RRSIG NSEC",
                                        NULL));
  assert_int_equal(nseccache_count(nc), 2);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  assert_int_equal(lookup(nc, "nt.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  EXPECT_OWNERS(&p, "example.com. NS.Example.COM.");
  assert_int_equal(p.ttl, 300); /* the apex record's, stored at NOW */
  nsec_proof_clear(&p);
  nseccache_free(nc);
}

static void test_bound(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(4);
  struct nsec_proof p = {0};
  bool nxd;
  const char *recs[] = {NSEC_APEX, NSEC_ALIAS, NSEC_ABC, NSEC_D,   NSEC_INSEC,
                        NSEC_NS,   NSEC_SUB,   NSEC_W,   NSEC_WILD, NSEC_WWW};
  for (size_t i = 0; i < 10; i++) {
    store(nc, ZONE, 3600, NOW, rrlist(recs[i], NULL));
    assert_true(nseccache_count(nc) <= 4);
  }
  assert_int_equal(nseccache_count(nc), 4);
  /* The apex record, stored first, is gone: no wildcard proof for nx. */
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* Least recently stored or used goes first: www, *.w, w, sub are held. */
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_APEX, NULL)); /* pushes out sub */
  assert_int_equal(lookup(nc, "sub.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  /* Using w (and the apex) makes them recent, so *.w, stored after w, goes
   * first; were the order only by storing, w would. */
  assert_int_equal(lookup(nc, "w.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  nsec_proof_clear(&p);
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_NS, NULL)); /* pushes out *.w */
  assert_int_equal(nseccache_count(nc), 4);
  assert_int_equal(lookup(nc, "w.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  nsec_proof_clear(&p);
  assert_int_equal(lookup(nc, "x.w.example.com.", LDNS_RR_TYPE_MX, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_PROVEN);
  nsec_proof_clear(&p);
  /* One store bigger than the bound keeps the bound too. */
  store(nc, ZONE, 3600, NOW, chain());
  assert_int_equal(nseccache_count(nc), 4);
  /* A bound of 0 is 1. */
  nseccache_t *one = nseccache_new(0);
  store(one, ZONE, 3600, NOW, chain());
  assert_int_equal(nseccache_count(one), 1);
  nseccache_free(one);
  nseccache_free(nc);
}

static void test_flush(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  store(nc, ZONE, 3600, NOW, rrlist(NSEC_NS, NSEC_APEX, NULL));
  store(nc, "sub.example.com.", 3600, NOW,
        rrlist("sub.example.com. 300 IN NSEC sub.example.com. NS SOA RRSIG NSEC DNSKEY", NULL));
  store(nc, "a.b.sub.example.com.", 3600, NOW,
        rrlist("a.b.sub.example.com. 300 IN NSEC a.b.sub.example.com. NS SOA RRSIG NSEC", NULL));
  store(nc, "xexample.com.", 3600, NOW,
        rrlist("xexample.com. 300 IN NSEC xexample.com. NS SOA RRSIG NSEC", NULL));
  store(nc, "com.", 3600, NOW, rrlist("com. 300 IN NSEC a.com. NS SOA RRSIG NSEC", NULL));
  store(nc, "example.net.", 3600, NOW,
        rrlist("example.net. 300 IN NSEC example.net. NS SOA RRSIG NSEC", NULL));
  assert_int_equal(nseccache_count(nc), 7);
  assert_int_equal(flush(nc, "nothere.example.com.", false), 0);
  assert_int_equal(flush(nc, "nothere.example.com.", true), 0);
  assert_int_equal(flush(nc, "sub.example.com.", false), 1); /* not a.b.sub below it */
  assert_int_equal(flush(nc, "b.sub.example.com.", false), 0);
  assert_int_equal(flush(nc, "SUB.example.com.", true), 1);   /* a.b.sub */
  store(nc, "sub.example.com.", 3600, NOW,
        rrlist("sub.example.com. 300 IN NSEC sub.example.com. NS SOA RRSIG NSEC DNSKEY", NULL));
  assert_int_equal(flush(nc, "example.com.", true), 3); /* example.com (2), sub */
  assert_int_equal(nseccache_count(nc), 3);             /* com, xexample.com, example.net */
  struct nsec_proof p = {0};
  bool nxd;
  assert_int_equal(lookup(nc, "nx.example.com.", LDNS_RR_TYPE_A, NOW, &nxd, &p),
                   DENIAL_NOT_PROVEN);
  assert_int_equal(flush(nc, "com.", true), 2);
  assert_int_equal(flush(nc, ".", true), 1);
  assert_int_equal(nseccache_count(nc), 0);
  nseccache_free(nc);
}

/* ---- Canonical order ---- */

/* RFC 4034 6.1's example zone, in its canonical order, with the label
 * cases it shows; each record points to the next, the last to the apex. */
static const char *rfc_names[] = {
    "example.",          "a.example.",       "yljkjljk.a.example.", "Z.a.example.",
    "zABC.a.EXAMPLE.",   "z.example.",       "\\001.z.example.",    "*.z.example.",
    "\\200.z.example.",
};
#define RFC_N (sizeof rfc_names / sizeof rfc_names[0])

static void store_rfc_zone(nseccache_t *nc) {
  /* Stored backwards and one at a time: the order is the cache's to find. */
  for (size_t i = RFC_N; i-- > 0;) {
    char text[300];
    snprintf(text, sizeof text, "%s 300 IN NSEC %s %s", rfc_names[i], rfc_names[(i + 1) % RFC_N],
             i == 0 ? "NS SOA RRSIG NSEC" : "A RRSIG NSEC");
    store(nc, "example.", 3600, NOW, rrlist(text, NULL));
  }
}

static void test_canonical_order(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(100);
  store_rfc_zone(nc);
  assert_int_equal(nseccache_count(nc), RFC_N);
  struct nsec_proof p = {0};
  bool nxd;
  const struct {
    const char *qname;
    const char *owners; /* the covering record and the wildcard's, in canonical order */
  } nx[] = {
      {"b.a.example.", "a.example."},                       /* a..yljkjljk covers both */
      {"y.a.example.", "a.example."},                       /* "y" < "yljkjljk" */
      {"YLJKJLJKA.a.example.", "a.example. yljkjljk.a.example."},
      {"za.a.EXAMPLE.", "a.example. Z.a.example."},         /* "za" < "zabc" */
      {"zz.a.example.", "a.example. zABC.a.EXAMPLE."},       /* "zabc" < "zz" */
      {"b.example.", "example. zABC.a.EXAMPLE."},           /* all of a.example first */
      {"x.yljkjljk.a.example.", "yljkjljk.a.example."}, /* ce yljkjljk.a */
      {"a.zabc.a.example.", "zABC.a.EXAMPLE."},
      {"a.\\001.z.example.", "\\001.z.example."}, /* ce \001.z, no wildcard there */
  };
  for (size_t i = 0; i < sizeof nx / sizeof nx[0]; i++) {
    if (lookup(nc, nx[i].qname, LDNS_RR_TYPE_A, NOW, &nxd, &p) != DENIAL_PROVEN)
      fail_msg("%s not denied", nx[i].qname);
    assert_true(nxd);
    EXPECT_OWNERS(&p, nx[i].owners);
    nsec_proof_clear(&p);
  }
  /* Under z.example the wildcard exists: its names are answered, or for a
   * type it lacks, wildcard NODATA; \000 < \001 < \002 < "*" < "+" < \200. */
  const struct {
    const char *qname;
    const char *owners;
  } wild[] = {
      {"\\000.z.example.", "z.example. *.z.example."},
      {"\\002.z.example.", "\\001.z.example. *.z.example."},
      {"+.z.example.", "*.z.example."},
      {"\\255.z.example.", "*.z.example. \\200.z.example."},
  };
  for (size_t i = 0; i < sizeof wild / sizeof wild[0]; i++) {
    if (lookup(nc, wild[i].qname, LDNS_RR_TYPE_A, NOW, &nxd, &p) != DENIAL_NOT_PROVEN)
      fail_msg("%s A denied despite the wildcard", wild[i].qname);
    if (lookup(nc, wild[i].qname, LDNS_RR_TYPE_MX, NOW, &nxd, &p) != DENIAL_PROVEN)
      fail_msg("%s MX not denied", wild[i].qname);
    assert_false(nxd);
    EXPECT_OWNERS(&p, wild[i].owners);
    nsec_proof_clear(&p);
  }
  /* Names that exist, in any case: NODATA from their own record. */
  for (size_t i = 0; i < RFC_N; i++) {
    char upper[100];
    snprintf(upper, sizeof upper, "%s", rfc_names[i]);
    for (char *c = upper; *c; c++)
      if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 32);
    if (lookup(nc, upper, LDNS_RR_TYPE_TXT, NOW, &nxd, &p) != DENIAL_PROVEN)
      fail_msg("%s TXT not denied", upper);
    assert_false(nxd);
    assert_int_equal(ldns_rr_list_rr_count(p.nsecs), 1);
    assert_true(owned_by(ldns_rr_list_rr(p.nsecs, 0), rfc_names[i]));
    nsec_proof_clear(&p);
  }
  nseccache_free(nc);
}

/* ---- Many records ---- */

static uint64_t rng = 88172645463325252ull;

static uint32_t rnd(uint32_t n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng % n);
}

/* A random name under big.example.: one to three labels of letters in
 * either case, digits, '-', and now and then an octet that needs escaping. */
static ldns_rdf *random_name(void) {
  static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
  static const char *odd[] = {"\\000", "\\001", "\\002", "\\200", "\\255", "\\.", "_"};
  char text[200];
  size_t o = 0;
  uint32_t labels = 1 + rnd(3);
  for (uint32_t l = 0; l < labels; l++) {
    uint32_t len = 1 + rnd(6);
    for (uint32_t i = 0; i < len; i++) {
      if (rnd(20) == 0)
        o += (size_t)snprintf(text + o, sizeof text - o, "%s", odd[rnd(7)]);
      else
        text[o++] = chars[rnd(sizeof chars - 1)];
    }
    text[o++] = '.';
  }
  snprintf(text + o, sizeof text - o, "big.example.");
  return dn(text);
}

static int cmp_names(const void *a, const void *b) {
  return ldns_dname_compare(*(ldns_rdf *const *)a, *(ldns_rdf *const *)b);
}

/* Index of the greatest name <= q in the sorted names (names[0], the apex,
 * is <= every name in the zone); *equal when it is q. */
static size_t predecessor(ldns_rdf **names, size_t n, const ldns_rdf *q, bool *equal) {
  size_t lo = 0, hi = n; /* names[lo] <= q < names[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (ldns_dname_compare(names[mid], q) <= 0) lo = mid;
    else hi = mid;
  }
  *equal = ldns_dname_compare(names[lo], q) == 0;
  return lo;
}

static bool has_owner(const struct nsec_proof *p, const ldns_rdf *name) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(p->nsecs); i++) {
    const ldns_rr *r = ldns_rr_list_rr(p->nsecs, i);
    if (ldns_rr_get_type(r) == LDNS_RR_TYPE_NSEC && ldns_dname_compare(ldns_rr_owner(r), name) == 0)
      return true;
  }
  return false;
}

/* A zone of 10,000 names (empty non-terminals and escaped octets among
 * them), stored in random order in batches; then thousands of lookups, each
 * checked against a plain binary search with ldns_dname_compare. */
static void test_many_records(void **state) {
  (void)state;
  enum { WANT = 10000, BATCH = 100, QUERIES = 4000 };
  ldns_rdf **names = calloc(WANT + 1, sizeof *names);
  assert_non_null(names);
  size_t n = 0;
  names[n++] = dn("big.example.");
  for (size_t i = 0; i < WANT; i++) names[n++] = random_name();
  qsort(names, n, sizeof *names, cmp_names);
  size_t m = 1;
  for (size_t i = 1; i < n; i++) {
    if (ldns_dname_compare(names[i], names[m - 1]) == 0) ldns_rdf_deep_free(names[i]);
    else names[m++] = names[i];
  }
  n = m;
  assert_true(n > WANT * 9 / 10);
  assert_name(names[0], "big.example.");

  /* The chain, stored in shuffled batches. */
  size_t *order = calloc(n, sizeof *order);
  assert_non_null(order);
  for (size_t i = 0; i < n; i++) order[i] = i;
  for (size_t i = n - 1; i > 0; i--) {
    size_t j = rnd((uint32_t)i + 1), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  nseccache_t *nc = nseccache_new(2 * WANT);
  ldns_rdf *zone = dn("big.example.");
  ldns_rr_list *batch = ldns_rr_list_new();
  for (size_t k = 0; k < n; k++) {
    size_t i = order[k];
    ldns_rr *r = ldns_rr_new();
    assert_non_null(r);
    ldns_rr_set_type(r, LDNS_RR_TYPE_NSEC);
    ldns_rr_set_owner(r, ldns_rdf_clone(names[i]));
    ldns_rr_set_ttl(r, 300);
    ldns_rr_push_rdf(r, ldns_rdf_clone(names[(i + 1) % n]));
    ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_RRSIG, LDNS_RR_TYPE_NSEC,
                            LDNS_RR_TYPE_NS, LDNS_RR_TYPE_SOA};
    ldns_rr_push_rdf(r, ldns_dnssec_create_nsec_bitmap(i == 0 ? types + 1 : types, i == 0 ? 4 : 3,
                                                       LDNS_RR_TYPE_NSEC));
    ldns_rr_list_push_rr(batch, r);
    if (ldns_rr_list_rr_count(batch) == BATCH || k == n - 1) {
      nseccache_store(nc, zone, batch, 3600, NOW);
      ldns_rr_list_deep_free(batch);
      batch = ldns_rr_list_new();
    }
  }
  ldns_rr_list_free(batch);
  assert_int_equal(nseccache_count(nc), n);

  size_t nxdomains = 0, nodatas = 0, ents = 0;
  for (size_t k = 0; k < QUERIES; k++) {
    /* New names mostly; now and then a name of the zone or its parent. */
    ldns_rdf *q = k % 4 == 1 ? ldns_rdf_clone(names[1 + rnd((uint32_t)n - 1)])
                  : k % 4 == 2 ? ldns_dname_left_chop(names[1 + rnd((uint32_t)n - 1)])
                               : random_name();
    bool equal, nxd;
    size_t i = predecessor(names, n, q, &equal);
    bool ent = !equal && i + 1 < n && ldns_dname_is_subdomain(names[i + 1], q);
    struct nsec_proof p = {0};
    enum denial_result r = nseccache_lookup(nc, q, equal ? LDNS_RR_TYPE_MX : LDNS_RR_TYPE_A, NOW,
                                            &nxd, &p);
    char t[300];
    if (r != DENIAL_PROVEN) fail_msg("%s not denied", rdf_text(q, t, sizeof t));
    if (nxd != !(equal || ent))
      fail_msg("%s: nxdomain %d, exists %d, empty non-terminal %d", rdf_text(q, t, sizeof t),
               nxd, equal, ent);
    /* The covering (or matching) record is the predecessor. */
    if (!has_owner(&p, names[i])) fail_msg("%s: predecessor missing", rdf_text(q, t, sizeof t));
    assert_true(ldns_rr_list_rr_count(p.nsecs) <= 2);
    nxdomains += nxd;
    nodatas += equal;
    ents += ent;
    nsec_proof_clear(&p);
    if (equal && i > 0) { /* a type the name has */
      assert_int_equal(nseccache_lookup(nc, q, LDNS_RR_TYPE_A, NOW, &nxd, &p), DENIAL_NOT_PROVEN);
    }
    ldns_rdf_deep_free(q);
  }
  /* Each kind of answer was seen many times. */
  assert_true(nxdomains > QUERIES / 4);
  assert_true(nodatas > QUERIES / 8);
  assert_true(ents > 10);
  assert_int_equal(flush(nc, "big.example.", false), n);
  ldns_rdf_deep_free(zone);
  for (size_t i = 0; i < n; i++) ldns_rdf_deep_free(names[i]);
  free(names);
  free(order);
  nseccache_free(nc);
}

/* ---- Threads ---- */

struct worker_arg {
  nseccache_t *nc;
  int id;
};

static void *hammer(void *arg) {
  struct worker_arg *a = arg;
  const char *q[] = {"nx.example.com.", "www.example.com.", "b.c.example.com.", "zz.example.com.",
                     "x.w.example.com."};
  ldns_rr_list *l = chain();
  ldns_rdf *z = ldns_dname_new_frm_str(ZONE);
  for (int i = 0; i < 3000; i++) {
    if (i % 7 == a->id) {
      nseccache_store(a->nc, z, l, 3600, NOW + i % 50);
    } else if (i % 97 == 0) {
      nseccache_flush(a->nc, z, a->id % 2);
    } else {
      ldns_rdf *n = ldns_dname_new_frm_str(q[(i + a->id) % 5]);
      struct nsec_proof p = {0};
      bool nxd;
      nseccache_lookup(a->nc, n, LDNS_RR_TYPE_MX, NOW + i % 400, &nxd, &p);
      nsec_proof_clear(&p);
      ldns_rdf_deep_free(n);
    }
  }
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return NULL;
}

/* Workers share it: stores, lookups (expiring records on the way) and
 * flushes from four threads at once, under a bound that keeps evicting. */
static void test_threads(void **state) {
  (void)state;
  nseccache_t *nc = nseccache_new(6);
  pthread_t t[4];
  struct worker_arg a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (struct worker_arg){nc, i};
    pthread_create(&t[i], NULL, hammer, &a[i]);
  }
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  assert_true(nseccache_count(nc) <= 6);
  nseccache_free(nc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nxdomain),
      cmocka_unit_test(test_nodata),
      cmocka_unit_test(test_ds_parent_side),
      cmocka_unit_test(test_not_synthesised),
      cmocka_unit_test(test_ttl_limits),
      cmocka_unit_test(test_zones_apart),
      cmocka_unit_test(test_replace),
      cmocka_unit_test(test_bound),
      cmocka_unit_test(test_flush),
      cmocka_unit_test(test_canonical_order),
      cmocka_unit_test(test_many_records),
      cmocka_unit_test(test_threads),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
