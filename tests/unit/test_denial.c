/* Unit tests for resolver/dnssec/denial.c: NSEC and NSEC3 proofs of nonexistence.
 *
 * The records are real: this zone was signed with ldns-signzone (NSEC), with
 * -n -t 0 (NSEC3), -n -p -t 0 (opt-out), -n -t 200 -s abcd and -n -t 5 -s
 * 1234, served by NSD, and each test's records are the NSEC/NSEC3 part of
 * NSD's answer to that query (RRSIGs dropped: checking them is the caller's).
 *
 *   example.com.  SOA, NS ns          ns      A
 *   www     A                         alias   CNAME www
 *   a.b.c   A   (b.c, c: empty non-terminals)
 *   w       TXT                       *.w     A, TXT
 *   sub     NS, DS (secure cut)       ns.sub  A (glue)
 *   insec   NS (insecure cut)         d       DNAME other.net.
 */
#include "unit_helpers.h"

#include "resolver/dnssec/denial.h"

#include "nsec_chain.h"

/* The NSEC3 chain (SHA-1, no salt, 0 iterations); f is the flags field: "0"
 * as signed plainly, "1" as signed with -p (opt-out). */
#define N3(hash, f, rest) hash ".example.com. 300 IN NSEC3 1 " f " 0 - " rest
#define N3_APEX(f) /* example.com */ \
  N3("onib9mgub9h0rml3cdf5bgrj59dkjhvk", f, \
     "ptj67j96lvvvbu5k3v6n10b6qmo17275 NS SOA RRSIG DNSKEY NSEC3PARAM")
#define N3_ALIAS(f) \
  N3("g89m4v4me8hdo3mtvtbig344fkiv9s5j", f, "kg19n32806c832kijdnglq8p9m2r5mdj CNAME RRSIG")
#define N3_C(f) N3("2nqbqdqmsob682ohn00u8865dupdr40n", f, "5osa0mahib4p4q0r6k8c4jvihrhevr81")
#define N3_BC(f) N3("r87h9ch7gksee82m168ge5e3hefs0qio", f, "vmb9774ks9oed4kbpke7t8qa8lvjg2km")
#define N3_ABC(f) \
  N3("vmb9774ks9oed4kbpke7t8qa8lvjg2km", f, "27u6v06a32agn5h7un1la6ca237kpprk A RRSIG")
#define N3_D(f) \
  N3("m2uuuf3mu357j4r9hop6ei248bidlact", f, "mifdndt3nff3od53o7tla1hrff95jkuk DNAME RRSIG")
#define N3_INSEC(f) N3("5osa0mahib4p4q0r6k8c4jvihrhevr81", f, "8f17cvjb1q76bk78d4q0e88g41nies2c NS")
#define N3_NS(f) \
  N3("ptj67j96lvvvbu5k3v6n10b6qmo17275", f, "r87h9ch7gksee82m168ge5e3hefs0qio A RRSIG")
#define N3_SUB(f) \
  N3("kg19n32806c832kijdnglq8p9m2r5mdj", f, "m2uuuf3mu357j4r9hop6ei248bidlact NS DS RRSIG")
#define N3_W(f) \
  N3("8f17cvjb1q76bk78d4q0e88g41nies2c", f, "g89m4v4me8hdo3mtvtbig344fkiv9s5j TXT RRSIG")
#define N3_WILD(f) \
  N3("27u6v06a32agn5h7un1la6ca237kpprk", f, "2nqbqdqmsob682ohn00u8865dupdr40n A TXT RRSIG")
#define N3_WWW(f) \
  N3("mifdndt3nff3od53o7tla1hrff95jkuk", f, "onib9mgub9h0rml3cdf5bgrj59dkjhvk A RRSIG")

/* -n -t 200 -s abcd: NSD's NXDOMAIN proof for nx.example.com. */
#define N3I(hash, rest) hash ".example.com. 300 IN NSEC3 1 0 200 abcd " rest
#define N3I_NX_CE \
  N3I("cfsgn0po1nmh2u0q5q1mrp7js55v5are", \
      "hchr2e9im98t28cgo7338llp7oploeq5 NS SOA RRSIG DNSKEY NSEC3PARAM")
#define N3I_NX_NC N3I("94o9u2utg3521f9rn5e43300g65op0oh", "cfsgn0po1nmh2u0q5q1mrp7js55v5are A RRSIG")
#define N3I_NX_WC \
  N3I("skqfgk3p5c09lo1n311fqpu2sbo67g77", "t8kkmd67v3s5cv23lpfu7sfnv1n5s0df NS DS RRSIG")

/* -n -t 5 -s 1234: NSD's proofs for nx.example.com, www TXT, x.y.w A. */
#define N3S(hash, rest) hash ".example.com. 300 IN NSEC3 1 0 5 1234 " rest
#define N3S_APEX \
  N3S("0bfiolceh1qih5ouad0dkuvv2nd9rj3d", \
      "3jqb5bu99ripqfhc21pquogt2ogg72no NS SOA RRSIG DNSKEY NSEC3PARAM")
#define N3S_NX_NC N3S("7hh7asch5ho9f7jp72qriuvpd5corcf2", "ceulnf1mt4uhtrljs3bflu8j5oiapbs0 A RRSIG")
#define N3S_NX_WC \
  N3S("p98pcgjqlus8t42ubtgaa873rla3eumo", "v48l9dao4t9tuojal80faenfe4oets2d A TXT RRSIG")
#define N3S_WWW N3S("fg6091rln1kuutppu7n6lmcukhojm7na", "mvgsvv2b0l7991bbucl8a2l6rpv2l16i A RRSIG")

#define ZONE "example.com."

static struct denial_why why;

/* Each helper frees the list it is given. */
static enum denial_result nx(const char *qname, const char *zone, ldns_rr_list *l) {
  ldns_rdf *q = dn(qname), *z = dn(zone);
  enum denial_result r = denial_nxdomain(q, z, l, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return r;
}

static enum denial_result nodata(const char *qname, ldns_rr_type t, const char *zone,
                                 ldns_rr_list *l) {
  ldns_rdf *q = dn(qname), *z = dn(zone);
  enum denial_result r = denial_nodata(q, t, z, l, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return r;
}

static enum denial_result wanswer(const char *qname, uint8_t labels, const char *zone,
                                  ldns_rr_list *l) {
  ldns_rdf *q = dn(qname), *z = dn(zone);
  enum denial_result r = denial_wildcard_answer(q, labels, z, l, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return r;
}

static enum denial_result wnodata(const char *qname, ldns_rr_type t, const char *zone,
                                  ldns_rr_list *l) {
  ldns_rdf *q = dn(qname), *z = dn(zone);
  enum denial_result r = denial_wildcard_nodata(q, t, z, l, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return r;
}

/* denial_ds: *inside goes to ds_inside; it starts true so that a result
 * which must clear it is seen to. */
static bool ds_inside;
static enum denial_result ds(const char *name, const char *zone, ldns_rr_list *l) {
  ldns_rdf *q = dn(name), *z = dn(zone);
  ds_inside = true;
  enum denial_result r = denial_ds(q, z, l, &ds_inside, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  ldns_rr_list_deep_free(l);
  return r;
}

/* Aggressive use keeps its list: the cache lends it. */
static enum denial_result aggr(const char *qname, ldns_rr_type t, const ldns_rr_list *l,
                               bool *nxd) {
  ldns_rdf *q = dn(qname), *z = dn(ZONE);
  enum denial_result r = denial_aggressive(q, t, z, l, nxd, &why);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
  return r;
}

#define EXPECT(call, want)                                                                   \
  do {                                                                                       \
    enum denial_result got_ = (call);                                                        \
    if (got_ != (want))                                                                      \
      fail_msg("line %d: got %s want %s (%s)", __LINE__, denial_result_name(got_),           \
               denial_result_name(want), why.text);                                          \
  } while (0)

/* The why must say this (and proven answers leave it empty). */
#define WHY_HAS(s)                                                                           \
  do {                                                                                       \
    if (!strstr(why.text, (s)))                                                              \
      fail_msg("line %d: why '%s' lacks '%s'", __LINE__, why.text, (s));                     \
  } while (0)

/* Proven inside the zone (no cut), or a proven delegation without DS. */
#define EXPECT_INSIDE(call)                                                                  \
  do {                                                                                       \
    EXPECT(call, DENIAL_PROVEN);                                                             \
    if (!ds_inside) fail_msg("line %d: proven, but not inside the zone", __LINE__);          \
  } while (0)
#define EXPECT_DELEGATION(call)                                                              \
  do {                                                                                       \
    EXPECT(call, DENIAL_PROVEN);                                                             \
    if (ds_inside) fail_msg("line %d: a delegation, said inside the zone", __LINE__);        \
  } while (0)
/* Any other result leaves *inside false. */
#define EXPECT_DS(call, want)                                                                \
  do {                                                                                       \
    EXPECT(call, want);                                                                      \
    if (ds_inside)                                                                           \
      fail_msg("line %d: %s with inside set", __LINE__, denial_result_name(want));           \
  } while (0)

static ldns_rr_list *nsec_chain(void) {
  return rrlist(NSEC_APEX, NSEC_ALIAS, NSEC_ABC, NSEC_D, NSEC_INSEC, NSEC_NS, NSEC_SUB, NSEC_W,
                NSEC_WILD, NSEC_WWW, NULL);
}

static ldns_rr_list *n3_chain(bool optout) {
  if (optout)
    return rrlist(N3_APEX("1"), N3_ALIAS("1"), N3_C("1"), N3_BC("1"), N3_ABC("1"), N3_D("1"),
                  N3_INSEC("1"), N3_NS("1"), N3_SUB("1"), N3_W("1"), N3_WILD("1"), N3_WWW("1"),
                  NULL);
  return rrlist(N3_APEX("0"), N3_ALIAS("0"), N3_C("0"), N3_BC("0"), N3_ABC("0"), N3_D("0"),
                N3_INSEC("0"), N3_NS("0"), N3_SUB("0"), N3_W("0"), N3_WILD("0"), N3_WWW("0"),
                NULL);
}

/* ---- NSEC ---- */

static void test_nsec_nxdomain_proven(void **state) {
  (void)state;
  /* nx.example.com: ns..sub covers it, the apex NSEC covers *.example.com. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)), DENIAL_PROVEN);
  assert_string_equal(why.text, "");
  /* Deeper: ce is still example.com. */
  EXPECT(nx("a.nx.example.com.", ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)), DENIAL_PROVEN);
  /* RRSIGs and other types in the list are skipped. */
  EXPECT(nx("nx.example.com.", ZONE,
            rrlist(NSEC_NS, "example.com. 300 IN SOA ns.example.com. host.example.com. 1 3600 "
                            "900 604800 300",
                   NSEC_APEX, NULL)),
         DENIAL_PROVEN);
}

static void test_nsec_nxdomain_apex_wrap(void **state) {
  (void)state;
  /* zzz sorts after www, whose NSEC wraps to the apex. */
  EXPECT(nx("zzz.example.com.", ZONE, rrlist(NSEC_WWW, NSEC_APEX, NULL)), DENIAL_PROVEN);
  /* Below the last name too: ce www, and *.www sorts after www as well. */
  EXPECT(nx("zzz.www.example.com.", ZONE, rrlist(NSEC_WWW, NULL)), DENIAL_PROVEN);
  /* The wrap covers names after the owner only: not a name before it. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(NSEC_WWW, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC covers nx.example.com.");
  /* A one-name zone: the apex NSEC points at itself and covers the rest. */
  EXPECT(nx("nx.example.com.", ZONE,
            rrlist("example.com. 300 IN NSEC example.com. NS SOA RRSIG NSEC DNSKEY", NULL)),
         DENIAL_PROVEN);
}

static void test_nsec_nxdomain_not_proven(void **state) {
  (void)state;
  /* No wildcard proof. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(NSEC_NS, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("no wildcard *.example.com.");
  /* No covering record. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  /* The name exists. */
  EXPECT(nx("www.example.com.", ZONE, rrlist(NSEC_WWW, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("exists");
  /* An empty non-terminal exists too. */
  EXPECT(nx("c.example.com.", ZONE, rrlist(NSEC_ALIAS, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("empty non-terminal");
  /* A wildcard at the closest encloser would have answered. */
  EXPECT(nx("nx.w.example.com.", ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("wildcard *.w.example.com. exists");
  /* Nothing at all. */
  EXPECT(nx("nx.example.com.", ZONE, ldns_rr_list_new()), DENIAL_NOT_PROVEN);
}

static void test_nsec_other_zone(void **state) {
  (void)state;
  /* The child zone sub.example.com. cannot use the parent's records. */
  EXPECT(nx("nx.sub.example.com.", "sub.example.com.", rrlist(NSEC_SUB, NSEC_NS, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no usable NSEC or NSEC3 records of sub.example.com.");
  /* Nor another zone's; and a qname outside the signer proves nothing. */
  EXPECT(nx("nx.example.com.", ZONE,
            rrlist("ns.example.org. 300 IN NSEC sub.example.org. A RRSIG NSEC",
                   "example.org. 300 IN NSEC alias.example.org. NS SOA RRSIG NSEC DNSKEY", NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nx("nx.example.com.", "example.org.",
            rrlist("ns.example.org. 300 IN NSEC sub.example.org. A RRSIG NSEC", NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("not in zone");
}

static void test_nsec_below_cut_or_dname(void **state) {
  (void)state;
  /* The parent-side NSEC at a cut covers x.sub in canonical order, but the
   * name belongs to the child zone (RFC 6840 4.1). */
  EXPECT(nx("x.sub.example.com.", ZONE, rrlist(NSEC_SUB, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  EXPECT(nx("x.insec.example.com.", ZONE, rrlist(NSEC_INSEC, NSEC_APEX, NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nodata("x.sub.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_SUB, NULL)),
         DENIAL_NOT_PROVEN);
  /* Names below a DNAME are redirected, not absent. */
  EXPECT(nx("x.d.example.com.", ZONE, rrlist(NSEC_D, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
}

static void test_nsec_nodata(void **state) {
  (void)state;
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(NSEC_WWW, NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("a.b.c.example.com.", LDNS_RR_TYPE_AAAA, ZONE, rrlist(NSEC_ABC, NULL)),
         DENIAL_PROVEN);
  /* A DNAME owner itself has no redirection: NODATA is fine there. */
  EXPECT(nodata("d.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_D, NULL)), DENIAL_PROVEN);
  /* The type is there. */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_WWW, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("lists type A");
  /* A CNAME is there: the answer should have followed it. */
  EXPECT(nodata("alias.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_ALIAS, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("CNAME");
  /* A covering record is an NXDOMAIN proof, not NODATA. */
  EXPECT(nodata("nx.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC matches nx.example.com.");
}

static void test_nsec_nodata_ent(void **state) {
  (void)state;
  /* NSD's answer: alias -> a.b.c covers c and b.c, and points below them. */
  EXPECT(nodata("c.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_ALIAS, NULL)), DENIAL_PROVEN);
  EXPECT(nodata("b.c.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_ALIAS, NULL)),
         DENIAL_PROVEN);
  /* a.a.c is covered too, but a.b.c is not below it: it does not exist. */
  EXPECT(nodata("a.a.c.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_ALIAS, NULL)),
         DENIAL_NOT_PROVEN);
  /* An empty non-terminal is no delegation: no DS proof. */
  EXPECT(nodata("c.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_ALIAS, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("not a delegation");
}

static void test_nsec_nodata_ds(void **state) {
  (void)state;
  /* Insecure delegation: the parent's NSEC has NS, no DS, no SOA. */
  EXPECT(nodata("insec.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_INSEC, NULL)),
         DENIAL_PROVEN);
  /* The secure one has DS. */
  EXPECT(nodata("sub.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_SUB, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("lists type DS");
  /* The child apex's NSEC (SOA) says nothing about the parent's DS. */
  EXPECT(nodata("example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_APEX, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("child zone's apex");
  /* No NS: www is no delegation, so "no DS" cannot make it insecure. */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_WWW, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no NS");
}

static void test_nsec_nodata_at_delegation(void **state) {
  (void)state;
  /* Parent side of a cut, other types: that is a referral. */
  EXPECT(nodata("insec.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_INSEC, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("referral");
  EXPECT(nodata("sub.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(NSEC_SUB, NULL)),
         DENIAL_NOT_PROVEN);
  /* NS at the apex is fine: SOA marks it as the zone's own. */
  EXPECT(nodata("example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(NSEC_APEX, NULL)), DENIAL_PROVEN);
}

static void test_nsec_wildcard_answer(void **state) {
  (void)state;
  /* x.y.w.example.com A from *.w (RRSIG labels 3); NSD's NSEC is *.w's. */
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_PROVEN);
  EXPECT(wanswer("x.w.example.com.", 3, ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_PROVEN);
  /* The literal wildcard owner needs no proof. */
  EXPECT(wanswer("*.w.example.com.", 3, ZONE, ldns_rr_list_new()), DENIAL_PROVEN);
  /* No record: qname may exist. */
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  /* An RRSIG claiming *.example.com: w.example.com exists, which is closer. */
  EXPECT(wanswer("x.y.w.example.com.", 2, ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("closest encloser at w.example.com.");
  /* Not an expansion at all, or a wildcard above the zone. */
  EXPECT(wanswer("www.example.com.", 3, ZONE, rrlist(NSEC_WWW, NULL)), DENIAL_NOT_PROVEN);
  EXPECT(wanswer("x.y.w.example.com.", 1, ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("above the zone");
}

static void test_nsec_wildcard_nodata(void **state) {
  (void)state;
  /* x.w MX: *.w's NSEC both covers x.w and matches the wildcard. */
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_MX, ZONE, rrlist(NSEC_WILD, NULL)),
         DENIAL_PROVEN);
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(NSEC_WILD, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("lists type A");
  /* No wildcard at example.com. */
  EXPECT(wnodata("nx.example.com.", LDNS_RR_TYPE_MX, ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC matches wildcard *.example.com.");
  /* Plain NODATA is not wildcard NODATA. */
  EXPECT(wnodata("www.example.com.", LDNS_RR_TYPE_MX, ZONE, rrlist(NSEC_WWW, NULL)),
         DENIAL_NOT_PROVEN);
}

static void test_nsec_case_insensitive(void **state) {
  (void)state;
  EXPECT(nx("NX.Example.COM.", "EXAMPLE.com.",
            rrlist("NS.EXAMPLE.COM. 300 IN NSEC Sub.Example.Com. A RRSIG NSEC",
                   "Example.COM. 300 IN NSEC ALIAS.example.com. NS SOA RRSIG NSEC DNSKEY", NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("WWW.example.COM.", LDNS_RR_TYPE_TXT, ZONE,
                rrlist("www.EXAMPLE.com. 300 IN NSEC example.com. A RRSIG NSEC", NULL)),
         DENIAL_PROVEN);
  /* Order is canonical, not by case: "NY" sorts after "nx" and "ns". */
  EXPECT(nx("NY.example.com.", ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)), DENIAL_PROVEN);
  EXPECT(wanswer("X.Y.W.EXAMPLE.COM.", 3, ZONE, rrlist(NSEC_WILD, NULL)), DENIAL_PROVEN);
}

/* ---- NSEC3 ---- */

static void test_nsec3_nxdomain_closest_encloser(void **state) {
  (void)state;
  /* NSD's three records: example.com matched (ce), nx covered (next closer),
   * *.example.com covered. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_ALIAS("0"), N3_APEX("0"), N3_C("0"), NULL)),
         DENIAL_PROVEN);
  EXPECT(nx("a.nx.example.com.", ZONE, rrlist(N3_ALIAS("0"), N3_APEX("0"), N3_C("0"), NULL)),
         DENIAL_PROVEN);
  /* Without the closest encloser, the next closer or the wildcard. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_ALIAS("0"), N3_C("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("closest encloser");
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_APEX("0"), N3_C("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("next closer name nx.example.com.");
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_ALIAS("0"), N3_APEX("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no wildcard *.example.com.");
  /* The name exists. */
  EXPECT(nx("www.example.com.", ZONE, n3_chain(false)), DENIAL_NOT_PROVEN);
  EXPECT(nx("c.example.com.", ZONE, n3_chain(false)), DENIAL_NOT_PROVEN);
  /* A wildcard exists at the closest encloser w.example.com. */
  EXPECT(nx("nx.w.example.com.", ZONE, n3_chain(false)), DENIAL_NOT_PROVEN);
  WHY_HAS("wildcard *.w.example.com. exists");
}

static void test_nsec3_nxdomain_below_cut_or_dname(void **state) {
  (void)state;
  /* insec (NS, no SOA) as the closest encloser: x.insec is the child's. */
  EXPECT(nx("x.insec.example.com.", ZONE,
            rrlist(N3_INSEC("0"), N3_W("0"), N3_ABC("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("delegation or DNAME");
  EXPECT(nx("x.d.example.com.", ZONE, rrlist(N3_D("0"), N3_W("0"), N3_C("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("delegation or DNAME");
}

static void test_nsec3_nodata(void **state) {
  (void)state;
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3_WWW("0"), NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(N3_WWW("0"), NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nodata("alias.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(N3_ALIAS("0"), NULL)),
         DENIAL_NOT_PROVEN);
  /* Empty non-terminals have NSEC3 records with empty bitmaps. */
  EXPECT(nodata("c.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(N3_C("0"), NULL)), DENIAL_PROVEN);
  EXPECT(nodata("b.c.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(N3_BC("0"), NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("c.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(N3_C("0"), NULL)),
         DENIAL_NOT_PROVEN);
  /* Another name's record does not match. */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3_NS("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC3 matches www.example.com.");
}

static void test_nsec3_nodata_ds_and_delegation(void **state) {
  (void)state;
  EXPECT(nodata("insec.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(N3_INSEC("0"), NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("sub.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(N3_SUB("0"), NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nodata("example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(N3_APEX("0"), NULL)),
         DENIAL_NOT_PROVEN);
  /* NSD's referral to insec carries this record; it is no NODATA for A. */
  EXPECT(nodata("insec.example.com.", LDNS_RR_TYPE_A, ZONE, rrlist(N3_INSEC("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("referral");
}

static void test_nsec3_optout(void **state) {
  (void)state;
  /* NSD's DS answer for nothere from the opt-out zone (NXDOMAIN): 8f17 covers
   * the next closer with opt-out, so an unsigned delegation may hide there. */
  ldns_rr_list *l = rrlist(N3_W("1"), N3_APEX("1"), N3_C("1"), NULL);
  EXPECT(nodata("nothere.example.com.", LDNS_RR_TYPE_DS, ZONE, ldns_rr_list_clone(l)),
         DENIAL_OPTOUT);
  WHY_HAS("opt-out");
  EXPECT(nx("nothere.example.com.", ZONE, ldns_rr_list_clone(l)), DENIAL_OPTOUT);
  /* Erratum 3441: non-DS NODATA in an opt-out span is insecure too. */
  EXPECT(nodata("nothere.example.com.", LDNS_RR_TYPE_A, ZONE, l), DENIAL_OPTOUT);
  /* The same records without the opt-out flag prove nonexistence, which is
   * no NODATA. */
  EXPECT(nodata("nothere.example.com.", LDNS_RR_TYPE_DS, ZONE,
                rrlist(N3_W("0"), N3_APEX("0"), N3_C("0"), NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nx("nothere.example.com.", ZONE, rrlist(N3_W("0"), N3_APEX("0"), N3_C("0"), NULL)),
         DENIAL_PROVEN);
  /* NSD's NXDOMAIN for nx in the opt-out zone. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_ALIAS("1"), N3_APEX("1"), N3_C("1"), NULL)),
         DENIAL_OPTOUT);
  /* A matching record is a real proof, opt-out flag or not. */
  EXPECT(nodata("insec.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(N3_INSEC("1"), NULL)),
         DENIAL_PROVEN);
  /* Opt-out does not excuse a missing wildcard proof. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3_ALIAS("1"), N3_APEX("1"), NULL)),
         DENIAL_NOT_PROVEN);
}

static void test_nsec3_wildcard_answer(void **state) {
  (void)state;
  /* NSD: x.y.w from *.w; www's record covers the next closer y.w. */
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(N3_WWW("0"), NULL)), DENIAL_PROVEN);
  /* nx.w: the wrapping record (a.b.c -> first) covers the next closer. */
  EXPECT(wanswer("nx.w.example.com.", 3, ZONE, rrlist(N3_ABC("0"), NULL)), DENIAL_PROVEN);
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(N3_APEX("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("next closer name y.w.example.com.");
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(N3_WWW("1"), NULL)), DENIAL_OPTOUT);
}

static void test_nsec3_wildcard_nodata(void **state) {
  (void)state;
  /* NSD's answer to x.w MX: apex covers x.w, w matched, *.w matched. */
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_MX, ZONE,
                 rrlist(N3_APEX("0"), N3_W("0"), N3_WILD("0"), NULL)),
         DENIAL_PROVEN);
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_TXT, ZONE,
                 rrlist(N3_APEX("0"), N3_W("0"), N3_WILD("0"), NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_MX, ZONE, rrlist(N3_APEX("0"), N3_W("0"), NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC3 matches wildcard *.w.example.com.");
  EXPECT(wnodata("x.w.example.com.", LDNS_RR_TYPE_MX, ZONE,
                 rrlist(N3_APEX("1"), N3_W("1"), N3_WILD("1"), NULL)),
         DENIAL_OPTOUT);
}

static void test_nsec3_salt_and_iterations(void **state) {
  (void)state;
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3S_NX_NC, N3S_APEX, N3S_NX_WC, NULL)), DENIAL_PROVEN);
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3S_WWW, NULL)), DENIAL_PROVEN);
  EXPECT(wanswer("x.y.w.example.com.", 3, ZONE, rrlist(N3S_NX_WC, NULL)), DENIAL_PROVEN);
  /* The unsalted hash of www is another: no match. */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3S_NX_NC, N3S_APEX, NULL)),
         DENIAL_NOT_PROVEN);
}

static void test_nsec3_high_iterations(void **state) {
  (void)state;
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3I_NX_NC, N3I_NX_CE, N3I_NX_WC, NULL)),
         DENIAL_NSEC3_ITERATIONS);
  WHY_HAS("iterations 200");
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3I_NX_CE, NULL)),
         DENIAL_NSEC3_ITERATIONS);
  /* NSEC in the same list still proves what it can. */
  EXPECT(nx("nx.example.com.", ZONE, rrlist(N3I_NX_CE, NSEC_NS, NSEC_APEX, NULL)), DENIAL_PROVEN);
}

static void test_nsec3_ignored_records(void **state) {
  (void)state;
  /* Unknown hash algorithm (2), unknown flags (2): ignored (RFC 5155 8.1, 8.2). */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE,
                rrlist("mifdndt3nff3od53o7tla1hrff95jkuk.example.com. 300 IN NSEC3 2 0 0 - "
                       "onib9mgub9h0rml3cdf5bgrj59dkjhvk A RRSIG",
                       NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("1 NSEC3 with unknown hash");
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE,
                rrlist("mifdndt3nff3od53o7tla1hrff95jkuk.example.com. 300 IN NSEC3 1 2 0 - "
                       "onib9mgub9h0rml3cdf5bgrj59dkjhvk A RRSIG",
                       NULL)),
         DENIAL_NOT_PROVEN);
  /* One bad record breaks the proof it was part of. */
  EXPECT(nx("nx.example.com.", ZONE,
            rrlist(N3_ALIAS("0"), N3_APEX("0"),
                   "2nqbqdqmsob682ohn00u8865dupdr40n.example.com. 300 IN NSEC3 1 3 0 - "
                   "5osa0mahib4p4q0r6k8c4jvihrhevr81",
                   NULL)),
         DENIAL_NOT_PROVEN);
  /* NSEC3 owned two labels down, or in another zone. */
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, ZONE,
                rrlist("mifdndt3nff3od53o7tla1hrff95jkuk.x.example.com. 300 IN NSEC3 1 0 0 - "
                       "onib9mgub9h0rml3cdf5bgrj59dkjhvk A RRSIG",
                       NULL)),
         DENIAL_NOT_PROVEN);
  EXPECT(nodata("www.example.com.", LDNS_RR_TYPE_TXT, "www.example.com.",
                rrlist(N3_WWW("0"), NULL)),
         DENIAL_NOT_PROVEN);
  /* A record with other parameters is outvoted, not fatal. */
  EXPECT(nx("nx.example.com.", ZONE,
            rrlist(N3S_WWW, N3_ALIAS("0"), N3_APEX("0"), N3_C("0"), NULL)),
         DENIAL_PROVEN);
}

static void test_nsec3_case_insensitive(void **state) {
  (void)state;
  EXPECT(nx("NX.EXAMPLE.com.", "Example.Com.",
            rrlist("G89M4V4ME8HDO3MTVTBIG344FKIV9S5J.EXAMPLE.COM. 300 IN NSEC3 1 0 0 - "
                   "KG19N32806C832KIJDNGLQ8P9M2R5MDJ CNAME RRSIG",
                   "ONIB9MGUB9H0RML3CDF5BGRJ59DKJHVK.example.COM. 300 IN NSEC3 1 0 0 - "
                   "PTJ67J96LVVVBU5K3V6N10B6QMO17275 NS SOA RRSIG DNSKEY NSEC3PARAM",
                   "2nqbQDQMSOB682OHN00U8865DUPDR40N.Example.com. 300 IN NSEC3 1 0 0 - "
                   "5OSA0MAHIB4P4Q0R6K8C4JVIHRHEVR81",
                   NULL)),
         DENIAL_PROVEN);
  EXPECT(nodata("wWw.ExAmPlE.cOm.", LDNS_RR_TYPE_TXT, ZONE, rrlist(N3_WWW("0"), NULL)),
         DENIAL_PROVEN);
}

static void test_nsec3_hash_budget(void **state) {
  (void)state;
  /* 80 labels below the zone: the closest encloser proof would hash them all. */
  char q[300] = "";
  for (int i = 0; i < 80; i++) strcat(q, "a.");
  strcat(q, "example.com.");
  EXPECT(nx(q, ZONE, n3_chain(false)), DENIAL_NOT_PROVEN);
  WHY_HAS("gave up");
  /* 40 is within the budget. */
  q[0] = 0;
  for (int i = 0; i < 40; i++) strcat(q, "a.");
  strcat(q, "example.com.");
  EXPECT(nx(q, ZONE, n3_chain(false)), DENIAL_PROVEN);
}

/* ---- DS: delegation without DS, or a name inside the zone ---- */

static void test_ds_nsec(void **state) {
  (void)state;
  /* The insecure delegation: NS, no DS, no SOA. */
  EXPECT_DELEGATION(ds("insec.example.com.", ZONE, rrlist(NSEC_INSEC, NULL)));
  assert_string_equal(why.text, "");
  /* A plain name: it exists, no cut, so it is part of example.com. */
  EXPECT_INSIDE(ds("www.example.com.", ZONE, rrlist(NSEC_WWW, NULL)));
  assert_string_equal(why.text, "");
  EXPECT_INSIDE(ds("a.b.c.example.com.", ZONE, rrlist(NSEC_ABC, NULL)));
  EXPECT_INSIDE(ds("ns.example.com.", ZONE, rrlist(NSEC_NS, NULL)));
  /* A CNAME owner can have no NS either. */
  EXPECT_INSIDE(ds("alias.example.com.", ZONE, rrlist(NSEC_ALIAS, NULL)));
  /* The secure delegation lists DS: neither. */
  EXPECT_DS(ds("sub.example.com.", ZONE, rrlist(NSEC_SUB, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("lists type DS");
  /* The apex record (SOA) is the child side. */
  EXPECT_DS(ds("example.com.", ZONE, rrlist(NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("child zone's apex");
  /* A DNAME is no delegation, and what is below it is not this zone's. */
  EXPECT_DS(ds("d.example.com.", ZONE, rrlist(NSEC_D, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("DNAME");
  /* A name that does not exist is NXDOMAIN, not NODATA. */
  EXPECT_DS(ds("nx.example.com.", ZONE, rrlist(NSEC_NS, NSEC_APEX, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC matches nx.example.com.");
  /* Another name's record, or none at all. */
  EXPECT_DS(ds("www.example.com.", ZONE, rrlist(NSEC_NS, NULL)), DENIAL_NOT_PROVEN);
  EXPECT_DS(ds("www.example.com.", ZONE, ldns_rr_list_new()), DENIAL_NOT_PROVEN);
  /* Below a cut, the parent's records speak for nothing. */
  EXPECT_DS(ds("x.sub.example.com.", ZONE, rrlist(NSEC_SUB, NULL)), DENIAL_NOT_PROVEN);
  EXPECT_DS(ds("x.insec.example.com.", ZONE, rrlist(NSEC_INSEC, NULL)), DENIAL_NOT_PROVEN);
  /* Outside the signer. */
  EXPECT_DS(ds("www.example.org.", ZONE, rrlist(NSEC_WWW, NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("not in zone");
}

static void test_ds_nsec_ent(void **state) {
  (void)state;
  /* alias -> a.b.c covers c and b.c and points below them: both exist, as
   * empty non-terminals, with no cut. */
  EXPECT_INSIDE(ds("c.example.com.", ZONE, rrlist(NSEC_ALIAS, NULL)));
  EXPECT_INSIDE(ds("b.c.example.com.", ZONE, rrlist(NSEC_ALIAS, NULL)));
  /* a.a.c is covered, but nothing is below it: it does not exist. */
  EXPECT_DS(ds("a.a.c.example.com.", ZONE, rrlist(NSEC_ALIAS, NULL)), DENIAL_NOT_PROVEN);
  /* An NSEC at a cut above the name cannot show an ENT below it. */
  EXPECT_DS(ds("y.insec.example.com.", ZONE,
               rrlist("insec.example.com. 300 IN NSEC x.y.insec.example.com. NS RRSIG NSEC",
                      NULL)),
            DENIAL_NOT_PROVEN);
  /* denial_nodata keeps saying an ENT is no delegation. */
  EXPECT(nodata("c.example.com.", LDNS_RR_TYPE_DS, ZONE, rrlist(NSEC_ALIAS, NULL)),
         DENIAL_NOT_PROVEN);
  WHY_HAS("not a delegation");
}

static void test_ds_nsec3(void **state) {
  (void)state;
  EXPECT_DELEGATION(ds("insec.example.com.", ZONE, rrlist(N3_INSEC("0"), NULL)));
  EXPECT_INSIDE(ds("www.example.com.", ZONE, rrlist(N3_WWW("0"), NULL)));
  EXPECT_INSIDE(ds("alias.example.com.", ZONE, rrlist(N3_ALIAS("0"), NULL)));
  /* Empty non-terminals: records with empty bitmaps (RFC 5155 7.1). */
  EXPECT_INSIDE(ds("c.example.com.", ZONE, rrlist(N3_C("0"), NULL)));
  EXPECT_INSIDE(ds("b.c.example.com.", ZONE, rrlist(N3_BC("0"), NULL)));
  EXPECT_DS(ds("sub.example.com.", ZONE, rrlist(N3_SUB("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("lists type DS");
  EXPECT_DS(ds("example.com.", ZONE, rrlist(N3_APEX("0"), NULL)), DENIAL_NOT_PROVEN);
  EXPECT_DS(ds("d.example.com.", ZONE, rrlist(N3_D("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("DNAME");
  /* Another name's record does not match. */
  EXPECT_DS(ds("www.example.com.", ZONE, rrlist(N3_NS("0"), NULL)), DENIAL_NOT_PROVEN);
  WHY_HAS("no NSEC3 matches www.example.com.");
  /* Salt and iterations: the salted hash of www matches, the unsalted not. */
  EXPECT_INSIDE(ds("www.example.com.", ZONE, rrlist(N3S_WWW, NULL)));
  EXPECT_DS(ds("www.example.com.", ZONE, rrlist(N3S_NX_NC, N3S_APEX, NULL)), DENIAL_NOT_PROVEN);
  /* Records with an unknown hash algorithm are ignored. */
  EXPECT_DS(ds("www.example.com.", ZONE,
               rrlist("mifdndt3nff3od53o7tla1hrff95jkuk.example.com. 300 IN NSEC3 2 0 0 - "
                      "onib9mgub9h0rml3cdf5bgrj59dkjhvk A RRSIG",
                      NULL)),
            DENIAL_NOT_PROVEN);
}

static void test_ds_nsec3_optout(void **state) {
  (void)state;
  /* NSD's DS answer for nothere in the opt-out zone: the next closer is in an
   * opt-out span, so an unsigned delegation may be there. */
  EXPECT_DS(ds("nothere.example.com.", ZONE, rrlist(N3_W("1"), N3_APEX("1"), N3_C("1"), NULL)),
            DENIAL_OPTOUT);
  WHY_HAS("opt-out");
  /* Without the flag it proves the name absent: neither answer. */
  EXPECT_DS(ds("nothere.example.com.", ZONE, rrlist(N3_W("0"), N3_APEX("0"), N3_C("0"), NULL)),
            DENIAL_NOT_PROVEN);
  /* A matching record counts, opt-out flag or not. */
  EXPECT_DELEGATION(ds("insec.example.com.", ZONE, rrlist(N3_INSEC("1"), NULL)));
  EXPECT_INSIDE(ds("www.example.com.", ZONE, rrlist(N3_WWW("1"), NULL)));
  EXPECT_INSIDE(ds("c.example.com.", ZONE, n3_chain(true)));
}

static void test_ds_nsec3_iterations_and_budget(void **state) {
  (void)state;
  EXPECT_DS(ds("www.example.com.", ZONE, rrlist(N3I_NX_CE, NULL)), DENIAL_NSEC3_ITERATIONS);
  WHY_HAS("iterations 200");
  /* NSEC beside them still proves what it can. */
  EXPECT_INSIDE(ds("www.example.com.", ZONE, rrlist(N3I_NX_CE, NSEC_WWW, NULL)));
  /* A name 80 labels down: the opt-out search would hash them all. */
  char q[300] = "";
  for (int i = 0; i < 80; i++) strcat(q, "a.");
  strcat(q, "example.com.");
  EXPECT_DS(ds(q, ZONE, n3_chain(true)), DENIAL_NOT_PROVEN);
  WHY_HAS("gave up");
}

static void test_ds_case_insensitive(void **state) {
  (void)state;
  EXPECT_DELEGATION(ds("INSEC.Example.COM.", "EXAMPLE.com.",
                       rrlist("Insec.EXAMPLE.com. 300 IN NSEC NS.example.COM. NS RRSIG NSEC",
                              NULL)));
  EXPECT_INSIDE(ds("C.example.COM.", ZONE,
                   rrlist("ALIAS.example.com. 300 IN NSEC A.B.C.EXAMPLE.COM. CNAME RRSIG NSEC",
                          NULL)));
  EXPECT_INSIDE(ds("wWw.ExAmPlE.cOm.", "Example.Com.",
                   rrlist("MIFDNDT3NFF3OD53O7TLA1HRFF95JKUK.EXAMPLE.COM. 300 IN NSEC3 1 0 0 - "
                          "ONIB9MGUB9H0RML3CDF5BGRJ59DKJHVK A RRSIG",
                          NULL)));
  /* why and inside may be NULL. */
  ldns_rdf *q = dn("www.example.com."), *z = dn(ZONE);
  ldns_rr_list *l = rrlist(NSEC_WWW, NULL);
  assert_int_equal(denial_ds(q, z, l, NULL, NULL), DENIAL_PROVEN);
  ldns_rr_list_deep_free(l);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
}

/* ---- Aggressive use (RFC 8198) ---- */

static void test_aggressive_nsec(void **state) {
  (void)state;
  ldns_rr_list *cache = nsec_chain();
  bool nxd = false;
  EXPECT(aggr("nx.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_PROVEN);
  assert_true(nxd);
  EXPECT(aggr("zzz.example.com.", LDNS_RR_TYPE_AAAA, cache, &nxd), DENIAL_PROVEN);
  assert_true(nxd);
  EXPECT(aggr("www.example.com.", LDNS_RR_TYPE_TXT, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT(aggr("b.c.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT(aggr("x.w.example.com.", LDNS_RR_TYPE_MX, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT(aggr("insec.example.com.", LDNS_RR_TYPE_DS, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  /* Data exists, a wildcard answers, or the name is below a cut: ask. */
  EXPECT(aggr("www.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  EXPECT(aggr("x.w.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  EXPECT(aggr("x.sub.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  EXPECT(aggr("insec.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  EXPECT(aggr("x.d.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  EXPECT(aggr("nx.example.org.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_NOT_PROVEN);
  ldns_rr_list_deep_free(cache);
}

static void test_aggressive_nsec3(void **state) {
  (void)state;
  ldns_rr_list *cache = n3_chain(false);
  bool nxd = false;
  EXPECT(aggr("nx.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_PROVEN);
  assert_true(nxd);
  EXPECT(aggr("www.example.com.", LDNS_RR_TYPE_MX, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT(aggr("x.w.example.com.", LDNS_RR_TYPE_MX, cache, &nxd), DENIAL_PROVEN);
  assert_false(nxd);
  EXPECT(aggr("x.w.example.com.", LDNS_RR_TYPE_TXT, cache, &nxd), DENIAL_NOT_PROVEN);
  ldns_rr_list_deep_free(cache);
  /* Opt-out ranges never synthesise. */
  cache = n3_chain(true);
  EXPECT(aggr("nx.example.com.", LDNS_RR_TYPE_A, cache, &nxd), DENIAL_OPTOUT);
  assert_false(nxd);
  EXPECT(aggr("www.example.com.", LDNS_RR_TYPE_MX, cache, &nxd), DENIAL_PROVEN);
  ldns_rr_list_deep_free(cache);
}

static void test_result_names(void **state) {
  (void)state;
  assert_string_equal(denial_result_name(DENIAL_PROVEN), "proven");
  assert_string_equal(denial_result_name(DENIAL_OPTOUT), "opt-out");
  assert_string_equal(denial_result_name(DENIAL_NSEC3_ITERATIONS), "nsec3-iterations");
  assert_string_equal(denial_result_name(DENIAL_NOT_PROVEN), "not-proven");
  /* why may be NULL. */
  ldns_rdf *q = dn("nx.example.com."), *z = dn(ZONE);
  ldns_rr_list *l = rrlist(NSEC_NS, NULL);
  assert_int_equal(denial_nxdomain(q, z, l, NULL), DENIAL_NOT_PROVEN);
  ldns_rr_list_deep_free(l);
  ldns_rdf_deep_free(q);
  ldns_rdf_deep_free(z);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nsec_nxdomain_proven),
      cmocka_unit_test(test_nsec_nxdomain_apex_wrap),
      cmocka_unit_test(test_nsec_nxdomain_not_proven),
      cmocka_unit_test(test_nsec_other_zone),
      cmocka_unit_test(test_nsec_below_cut_or_dname),
      cmocka_unit_test(test_nsec_nodata),
      cmocka_unit_test(test_nsec_nodata_ent),
      cmocka_unit_test(test_nsec_nodata_ds),
      cmocka_unit_test(test_nsec_nodata_at_delegation),
      cmocka_unit_test(test_nsec_wildcard_answer),
      cmocka_unit_test(test_nsec_wildcard_nodata),
      cmocka_unit_test(test_nsec_case_insensitive),
      cmocka_unit_test(test_nsec3_nxdomain_closest_encloser),
      cmocka_unit_test(test_nsec3_nxdomain_below_cut_or_dname),
      cmocka_unit_test(test_nsec3_nodata),
      cmocka_unit_test(test_nsec3_nodata_ds_and_delegation),
      cmocka_unit_test(test_nsec3_optout),
      cmocka_unit_test(test_nsec3_wildcard_answer),
      cmocka_unit_test(test_nsec3_wildcard_nodata),
      cmocka_unit_test(test_nsec3_salt_and_iterations),
      cmocka_unit_test(test_nsec3_high_iterations),
      cmocka_unit_test(test_nsec3_ignored_records),
      cmocka_unit_test(test_nsec3_case_insensitive),
      cmocka_unit_test(test_nsec3_hash_budget),
      cmocka_unit_test(test_ds_nsec),
      cmocka_unit_test(test_ds_nsec_ent),
      cmocka_unit_test(test_ds_nsec3),
      cmocka_unit_test(test_ds_nsec3_optout),
      cmocka_unit_test(test_ds_nsec3_iterations_and_budget),
      cmocka_unit_test(test_ds_case_insensitive),
      cmocka_unit_test(test_aggressive_nsec),
      cmocka_unit_test(test_aggressive_nsec3),
      cmocka_unit_test(test_result_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
