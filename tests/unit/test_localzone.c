/* Unit tests for resolver/core/localzone.c: zone types and their verdicts, the
 * built-in defaults, placement of local data, ALIAS, the checks lz_finish
 * makes and their messages, and parsing errors. */
#include "unit_helpers.h"

#include "resolver/core/localzone.h"

#define SYNTH_SOA(z) z " 3600 IN SOA " z " nobody.invalid. 1 3600 1200 604800 3600"
#define V6_LOOPBACK "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."
#define V6_UNSPEC "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa."

/* Zones then data (NULL-terminated, either may be NULL); lz_finish must
 * succeed. */
static localzones_t *build(bool defaults, const char *const *zones, const char *const *data) {
  localzones_t *z = lz_new(defaults);
  assert_non_null(z);
  for (size_t i = 0; zones && zones[i]; i++) {
    const char *why = lz_add_zone(z, zones[i]);
    if (why) fail_msg("zone '%s': %s", zones[i], why);
  }
  for (size_t i = 0; data && data[i]; i++) {
    const char *why = lz_add_data(z, data[i], "test");
    if (why) fail_msg("data '%s': %s", data[i], why);
  }
  char err[512] = "";
  if (lz_finish(z, err, sizeof err) != 0) fail_msg("lz_finish: %s", err);
  return z;
}

static enum lz_verdict look(const localzones_t *z, const char *qname, ldns_rr_type qtype,
                            struct lz_answer *a) {
  ldns_rdf *q = dn(qname);
  enum lz_verdict v = lz_lookup(z, q, qtype, a);
  ldns_rdf_deep_free(q);
  assert_int_equal(v, a->verdict);
  return v;
}

/* Just the verdict; the answer is released. */
static enum lz_verdict verdict(const localzones_t *z, const char *qname, ldns_rr_type qtype) {
  struct lz_answer a;
  enum lz_verdict v = look(z, qname, qtype, &a);
  lz_answer_clear(&a);
  return v;
}

/* a->rrs holds exactly these records (any order), each owned by the name
 * spelled exactly as `owner` (the asker's case). */
static void assert_rrs(const struct lz_answer *a, const char *owner, const char *first, ...) {
  assert_non_null(a->rrs);
  ldns_rdf *own = dn(owner);
  size_t want = 0;
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *)) {
    ldns_rr *w = rr(s);
    bool found = false;
    for (size_t i = 0; i < ldns_rr_list_rr_count(a->rrs); i++)
      if (ldns_rr_compare(ldns_rr_list_rr(a->rrs, i), w) == 0 &&
          ldns_rr_ttl(ldns_rr_list_rr(a->rrs, i)) == ldns_rr_ttl(w))
        found = true;
    if (!found) fail_msg("missing record '%s'", s);
    ldns_rr_free(w);
    want++;
  }
  va_end(ap);
  assert_int_equal(ldns_rr_list_rr_count(a->rrs), want);
  for (size_t i = 0; i < want; i++) {
    const ldns_rdf *o = ldns_rr_owner(ldns_rr_list_rr(a->rrs, i));
    assert_int_equal(ldns_rdf_size(o), ldns_rdf_size(own));
    assert_memory_equal(ldns_rdf_data(o), ldns_rdf_data(own), ldns_rdf_size(own));
  }
  ldns_rdf_deep_free(own);
}

static void assert_soa(const struct lz_answer *a, const char *text) {
  assert_non_null(a->soa);
  ldns_rr *w = rr(text);
  char *got = ldns_rr2str(a->soa);
  if (ldns_rr_compare(a->soa, w) != 0 || ldns_rr_ttl(a->soa) != ldns_rr_ttl(w))
    fail_msg("soa: got %s want %s", got, text);
  free(got);
  ldns_rr_free(w);
}

/* A negative verdict with the SOA and zone given. */
static void expect_negative(const localzones_t *z, const char *qname, ldns_rr_type qtype,
                            enum lz_verdict want, const char *zone, const char *soa) {
  struct lz_answer a;
  if (look(z, qname, qtype, &a) != want)
    fail_msg("%s/%d: verdict %d want %d", qname, qtype, a.verdict, want);
  assert_null(a.rrs);
  assert_null(a.target);
  assert_name(a.zone, zone);
  assert_soa(&a, soa);
  lz_answer_clear(&a);
}

/* lz_finish fails with exactly this message. */
static void expect_finish_error(const char *const *zones, const char *const *data,
                                const char *where, const char *want) {
  localzones_t *z = lz_new(false);
  for (size_t i = 0; zones && zones[i]; i++) assert_null(lz_add_zone(z, zones[i]));
  for (size_t i = 0; data && data[i]; i++) assert_null(lz_add_data(z, data[i], where));
  char err[512] = "";
  assert_int_equal(lz_finish(z, err, sizeof err), -1);
  assert_string_equal(err, want);
  /* A failed build answers nothing. */
  assert_int_equal(verdict(z, "anything.example.", LDNS_RR_TYPE_A), LZV_NONE);
  lz_unref(z);
}

static void test_defaults(void **state) {
  (void)state;
  localzones_t *z = build(true, NULL, NULL);
  struct lz_answer a;

  assert_int_equal(look(z, "localhost.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "localhost.", "localhost. 3600 IN A 127.0.0.1", NULL);
  assert_name(a.zone, "localhost.");
  assert_int_equal(a.type, LZ_STATIC);
  assert_null(a.soa);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "LocalHost.", LDNS_RR_TYPE_AAAA, &a), LZV_ANSWER);
  assert_rrs(&a, "LocalHost.", "localhost. 3600 IN AAAA ::1", NULL);
  lz_answer_clear(&a);
  /* The synthesised SOA answers at the apex of a static zone... */
  assert_int_equal(look(z, "localhost.", LDNS_RR_TYPE_SOA, &a), LZV_ANSWER);
  assert_rrs(&a, "localhost.", SYNTH_SOA("localhost."), NULL);
  lz_answer_clear(&a);
  /* ...and goes with every negative answer. */
  expect_negative(z, "localhost.", LDNS_RR_TYPE_MX, LZV_NODATA, "localhost.",
                  SYNTH_SOA("localhost."));
  expect_negative(z, "foo.localhost.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "localhost.",
                  SYNTH_SOA("localhost."));

  assert_int_equal(look(z, "1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR, &a), LZV_ANSWER);
  assert_rrs(&a, "1.0.0.127.in-addr.arpa.", "1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.",
             NULL);
  assert_name(a.zone, "127.in-addr.arpa.");
  lz_answer_clear(&a);
  expect_negative(z, "2.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR, LZV_NXDOMAIN,
                  "127.in-addr.arpa.", SYNTH_SOA("127.in-addr.arpa."));
  /* An empty non-terminal of the default data: NODATA. */
  expect_negative(z, "0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR, LZV_NODATA,
                  "127.in-addr.arpa.", SYNTH_SOA("127.in-addr.arpa."));
  assert_int_equal(look(z, V6_LOOPBACK, LDNS_RR_TYPE_PTR, &a), LZV_ANSWER);
  assert_rrs(&a, V6_LOOPBACK, V6_LOOPBACK " 3600 IN PTR localhost.", NULL);
  assert_name(a.zone, V6_LOOPBACK);
  lz_answer_clear(&a);

  expect_negative(z, "5.4.168.192.in-addr.arpa.", LDNS_RR_TYPE_PTR, LZV_NXDOMAIN,
                  "168.192.in-addr.arpa.", SYNTH_SOA("168.192.in-addr.arpa."));
  expect_negative(z, "abcdefghijklmnop.onion.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "onion.",
                  SYNTH_SOA("onion."));
  expect_negative(z, "www.Example.Invalid.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "invalid.",
                  SYNTH_SOA("invalid."));
  expect_negative(z, "printer.home.arpa.", LDNS_RR_TYPE_AAAA, LZV_NXDOMAIN, "home.arpa.",
                  SYNTH_SOA("home.arpa."));

  /* Every default zone, at its apex (NODATA: the SOA is there) and below. */
  static const char *const zones[] = {
      "localhost.", "127.in-addr.arpa.", V6_LOOPBACK, "onion.", "invalid.", "home.arpa.",
      "10.in-addr.arpa.", "168.192.in-addr.arpa.", "254.169.in-addr.arpa.", "0.in-addr.arpa.",
      "255.255.255.255.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
      "113.0.203.in-addr.arpa.", V6_UNSPEC, "d.f.ip6.arpa.", "8.e.f.ip6.arpa.",
      "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
  };
  char name[300], soa[600];
  for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
    snprintf(soa, sizeof soa, "%s 3600 IN SOA %s nobody.invalid. 1 3600 1200 604800 3600",
             zones[i], zones[i]);
    expect_negative(z, zones[i], LDNS_RR_TYPE_TXT, LZV_NODATA, zones[i], soa);
    snprintf(name, sizeof name, "x.%s", zones[i]);
    expect_negative(z, name, LDNS_RR_TYPE_TXT, LZV_NXDOMAIN, zones[i], soa);
  }
  for (int i = 16; i <= 31; i++) {
    char zone[64];
    snprintf(zone, sizeof zone, "%d.172.in-addr.arpa.", i);
    snprintf(name, sizeof name, "4.3.%s", zone);
    snprintf(soa, sizeof soa, "%s 3600 IN SOA %s nobody.invalid. 1 3600 1200 604800 3600",
             zone, zone);
    expect_negative(z, name, LDNS_RR_TYPE_PTR, LZV_NXDOMAIN, zone, soa);
  }

  /* Next to the defaults: the internet. */
  assert_int_equal(verdict(z, "4.3.15.172.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_NONE);
  assert_int_equal(verdict(z, "4.3.32.172.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_NONE);
  assert_int_equal(verdict(z, "4.3.2.1.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_NONE);
  assert_int_equal(verdict(z, "in-addr.arpa.", LDNS_RR_TYPE_NS), LZV_NONE);
  assert_int_equal(verdict(z, "arpa.", LDNS_RR_TYPE_NS), LZV_NONE);
  assert_int_equal(verdict(z, "example.com.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "localhost.example.com.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "onion.example.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, ".", LDNS_RR_TYPE_NS), LZV_NONE);
  /* test. is not a default: the integration hierarchy lives there. */
  assert_int_equal(verdict(z, "test.", LDNS_RR_TYPE_SOA), LZV_NONE);
  assert_int_equal(verdict(z, "www.test.", LDNS_RR_TYPE_A), LZV_NONE);

  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 21 + 16);
  assert_int_equal(nr, 4);
  lz_unref(z);
}

static void test_without_defaults(void **state) {
  (void)state;
  localzones_t *z = build(false, NULL, NULL);
  assert_int_equal(verdict(z, "localhost.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "x.onion.", LDNS_RR_TYPE_A), LZV_NONE);
  size_t nz = 9, nr = 9;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 0);
  assert_int_equal(nr, 0);
  lz_unref(z);
}

static void test_nodefault(void **state) {
  (void)state;
  const char *zones[] = {"onion. nodefault", "LOCALHOST nodefault", "example.com static",
                         "example.com nodefault", "not.a.default.example nodefault", NULL};
  localzones_t *z = build(true, zones, NULL);
  assert_int_equal(verdict(z, "x.onion.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "onion.", LDNS_RR_TYPE_SOA), LZV_NONE);
  assert_int_equal(verdict(z, "localhost.", LDNS_RR_TYPE_A), LZV_NONE);
  /* Only defaults go: the configured zone stays. */
  assert_int_equal(verdict(z, "x.example.com.", LDNS_RR_TYPE_A), LZV_NXDOMAIN);
  /* Other defaults stay. */
  assert_int_equal(verdict(z, "x.invalid.", LDNS_RR_TYPE_A), LZV_NXDOMAIN);
  assert_int_equal(verdict(z, "1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_ANSWER);
  assert_int_equal(verdict(z, "x.not.a.default.example.", LDNS_RR_TYPE_A), LZV_NONE);
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 21 + 16 - 2 + 1);
  assert_int_equal(nr, 2); /* the two PTRs; localhost's A and AAAA went with it */
  lz_unref(z);

  /* Data under a removed default gets an auto transparent zone. */
  const char *z2[] = {"onion. nodefault", NULL};
  const char *d2[] = {"mine.onion. A 192.0.2.1", NULL};
  z = build(true, z2, d2);
  struct lz_answer a;
  assert_int_equal(look(z, "mine.onion.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_name(a.zone, "mine.onion.");
  assert_int_equal(a.type, LZ_TRANSPARENT);
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "other.onion.", LDNS_RR_TYPE_A), LZV_NONE);
  lz_unref(z);
}

static void test_user_zone_replaces_default(void **state) {
  (void)state;
  const char *zones[] = {"localhost. transparent", "onion. refuse", "home.arpa. transparent",
                         "1.0.0.127.in-addr.arpa. transparent", NULL};
  const char *data[] = {"router.home.arpa. A 192.168.1.1", NULL};
  localzones_t *z = build(true, zones, data);
  struct lz_answer a;
  /* The default's data went with it. */
  assert_int_equal(verdict(z, "localhost.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(look(z, "x.onion.", LDNS_RR_TYPE_A, &a), LZV_REFUSED);
  assert_name(a.zone, "onion.");
  assert_int_equal(a.type, LZ_REFUSE);
  assert_null(a.soa);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "router.home.arpa.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "router.home.arpa.", "router.home.arpa. 3600 IN A 192.168.1.1", NULL);
  assert_name(a.zone, "home.arpa.");
  assert_int_equal(a.type, LZ_TRANSPARENT);
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "nas.home.arpa.", LDNS_RR_TYPE_A), LZV_NONE);
  /* A user zone inside a default keeps the default's data out of it. */
  assert_int_equal(verdict(z, "1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_NONE);
  assert_int_equal(verdict(z, "2.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR), LZV_NXDOMAIN);
  lz_unref(z);
}

static void test_static(void **state) {
  (void)state;
  const char *zones[] = {"example.com. static", NULL};
  const char *data[] = {"www.example.com. 300 A 192.0.2.1", "www.example.com. TXT \"hi there\"",
                        "a.b.c.example.com. A 192.0.2.2", NULL};
  localzones_t *z = build(false, zones, data);
  const char *soa = SYNTH_SOA("example.com.");
  struct lz_answer a;

  assert_int_equal(look(z, "www.example.com.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "www.example.com.", "www.example.com. 300 IN A 192.0.2.1", NULL);
  assert_name(a.zone, "example.com.");
  assert_int_equal(a.type, LZ_STATIC);
  assert_null(a.soa);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "www.example.com.", LDNS_RR_TYPE_ANY, &a), LZV_ANSWER);
  assert_rrs(&a, "www.example.com.", "www.example.com. 300 IN A 192.0.2.1",
             "www.example.com. 3600 IN TXT \"hi there\"", NULL);
  lz_answer_clear(&a);

  expect_negative(z, "www.example.com.", LDNS_RR_TYPE_AAAA, LZV_NODATA, "example.com.", soa);
  expect_negative(z, "nope.example.com.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "example.com.", soa);
  expect_negative(z, "x.www.example.com.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "example.com.", soa);
  /* Empty non-terminals: data below, none at the name. */
  expect_negative(z, "b.c.example.com.", LDNS_RR_TYPE_A, LZV_NODATA, "example.com.", soa);
  expect_negative(z, "c.example.com.", LDNS_RR_TYPE_A, LZV_NODATA, "example.com.", soa);
  expect_negative(z, "x.b.c.example.com.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "example.com.", soa);
  /* The apex: the synthesised SOA answers SOA, other types NODATA. */
  expect_negative(z, "example.com.", LDNS_RR_TYPE_A, LZV_NODATA, "example.com.", soa);
  assert_int_equal(look(z, "Example.COM.", LDNS_RR_TYPE_SOA, &a), LZV_ANSWER);
  assert_rrs(&a, "Example.COM.", soa, NULL);
  lz_answer_clear(&a);
  /* Not in the zone. */
  assert_int_equal(verdict(z, "example.org.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "com.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "xexample.com.", LDNS_RR_TYPE_A), LZV_NONE);

  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 1);
  assert_int_equal(nr, 3);
  lz_unref(z);
}

static void test_configured_soa(void **state) {
  (void)state;
  const char *zones[] = {"corp.example static", NULL};
  const char *data[] = {"corp.example 600 SOA ns.corp.example hostmaster.corp.example 42 "
                        "7200 900 86400 300",
                        "www.corp.example A 10.0.0.1", NULL};
  localzones_t *z = build(false, zones, data);
  const char *soa = "corp.example. 600 IN SOA ns.corp.example. hostmaster.corp.example. 42 "
                    "7200 900 86400 300";
  expect_negative(z, "nope.corp.example.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "corp.example.", soa);
  expect_negative(z, "www.corp.example.", LDNS_RR_TYPE_MX, LZV_NODATA, "corp.example.", soa);
  struct lz_answer a;
  assert_int_equal(look(z, "corp.example.", LDNS_RR_TYPE_SOA, &a), LZV_ANSWER);
  assert_rrs(&a, "corp.example.", soa, NULL);
  lz_answer_clear(&a);
  lz_unref(z);
}

static void test_transparent(void **state) {
  (void)state;
  const char *zones[] = {"example.net transparent", NULL};
  const char *data[] = {"www.example.net A 192.0.2.7", "a.b.example.net TXT deep", NULL};
  localzones_t *z = build(false, zones, data);
  struct lz_answer a;
  assert_int_equal(look(z, "www.example.net.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "www.example.net.", "www.example.net. 3600 IN A 192.0.2.7", NULL);
  assert_int_equal(a.type, LZ_TRANSPARENT);
  assert_name(a.zone, "example.net.");
  lz_answer_clear(&a);
  expect_negative(z, "www.example.net.", LDNS_RR_TYPE_AAAA, LZV_NODATA, "example.net.",
                  SYNTH_SOA("example.net."));
  /* Everything else resolves: other names, empty non-terminals, the apex. */
  assert_int_equal(verdict(z, "other.example.net.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "b.example.net.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "example.net.", LDNS_RR_TYPE_SOA), LZV_NONE);
  assert_int_equal(verdict(z, "x.www.example.net.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "a.b.example.net.", LDNS_RR_TYPE_TXT), LZV_ANSWER);
  lz_unref(z);
}

static void test_redirect(void **state) {
  (void)state;
  const char *zones[] = {"ads.example redirect", "empty.example redirect", NULL};
  const char *data[] = {"ads.example 60 A 127.0.0.2", "ads.example TXT blocked", NULL};
  localzones_t *z = build(false, zones, data);
  struct lz_answer a;
  assert_int_equal(look(z, "Tracker.X.ads.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "Tracker.X.ads.example.", "tracker.x.ads.example. 60 IN A 127.0.0.2", NULL);
  assert_name(a.zone, "ads.example.");
  assert_int_equal(a.type, LZ_REDIRECT);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "ads.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "ads.example.", "ads.example. 60 IN A 127.0.0.2", NULL);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "y.ads.example.", LDNS_RR_TYPE_ANY, &a), LZV_ANSWER);
  assert_rrs(&a, "y.ads.example.", "y.ads.example. 60 IN A 127.0.0.2",
             "y.ads.example. 3600 IN TXT blocked", NULL);
  lz_answer_clear(&a);
  expect_negative(z, "y.ads.example.", LDNS_RR_TYPE_AAAA, LZV_NODATA, "ads.example.",
                  SYNTH_SOA("ads.example."));
  /* No data at the apex: NODATA everywhere. */
  expect_negative(z, "a.empty.example.", LDNS_RR_TYPE_A, LZV_NODATA, "empty.example.",
                  SYNTH_SOA("empty.example."));
  assert_int_equal(verdict(z, "example.", LDNS_RR_TYPE_A), LZV_NONE);
  lz_unref(z);
}

static void test_refuse(void **state) {
  (void)state;
  const char *zones[] = {"bad.example refuse", NULL};
  const char *data[] = {"ok.bad.example A 192.0.2.9", "a.b.bad.example A 192.0.2.10", NULL};
  localzones_t *z = build(false, zones, data);
  struct lz_answer a;
  assert_int_equal(look(z, "ok.bad.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "ok.bad.example.", "ok.bad.example. 3600 IN A 192.0.2.9", NULL);
  assert_int_equal(a.type, LZ_REFUSE);
  lz_answer_clear(&a);
  expect_negative(z, "ok.bad.example.", LDNS_RR_TYPE_AAAA, LZV_NODATA, "bad.example.",
                  SYNTH_SOA("bad.example."));
  const char *refused[] = {"other.bad.example.", "bad.example.", "b.bad.example.",
                           "x.ok.bad.example."};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(look(z, refused[i], LDNS_RR_TYPE_A, &a), LZV_REFUSED);
    assert_name(a.zone, "bad.example.");
    assert_int_equal(a.type, LZ_REFUSE);
    assert_null(a.rrs);
    assert_null(a.soa);
    lz_answer_clear(&a);
  }
  lz_unref(z);
}

static void test_auto_transparent(void **state) {
  (void)state;
  const char *data[] = {"router.lan A 192.168.1.1", "www.example.org CNAME example.net.",
                        "x.router.lan A 192.168.1.2", NULL};
  localzones_t *z = build(false, NULL, data);
  struct lz_answer a;
  assert_int_equal(look(z, "router.lan.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "router.lan.", "router.lan. 3600 IN A 192.168.1.1", NULL);
  assert_name(a.zone, "router.lan.");
  assert_int_equal(a.type, LZ_TRANSPARENT);
  lz_answer_clear(&a);
  expect_negative(z, "router.lan.", LDNS_RR_TYPE_AAAA, LZV_NODATA, "router.lan.",
                  SYNTH_SOA("router.lan."));
  /* Later data below an auto zone joins it. */
  assert_int_equal(look(z, "x.router.lan.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_name(a.zone, "router.lan.");
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "y.router.lan.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "lan.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "printer.lan.", LDNS_RR_TYPE_A), LZV_NONE);
  /* A CNAME at an auto zone's apex is fine. */
  assert_int_equal(look(z, "www.example.org.", LDNS_RR_TYPE_A, &a), LZV_CNAME);
  assert_rrs(&a, "www.example.org.", "www.example.org. 3600 IN CNAME example.net.", NULL);
  lz_answer_clear(&a);
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 2);
  assert_int_equal(nr, 3);
  lz_unref(z);
}

static void test_zone_declared_after_data(void **state) {
  (void)state;
  localzones_t *z = lz_new(false);
  assert_null(lz_add_data(z, "www.corp.example. A 10.1.1.1", "test"));
  assert_null(lz_add_data(z, "deep.in.corp.example. A 10.1.1.2", "test"));
  assert_null(lz_add_zone(z, "corp.example. static"));
  char err[256];
  assert_int_equal(lz_finish(z, err, sizeof err), 0);
  struct lz_answer a;
  assert_int_equal(look(z, "www.corp.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_name(a.zone, "corp.example.");
  assert_int_equal(a.type, LZ_STATIC);
  lz_answer_clear(&a);
  expect_negative(z, "x.corp.example.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "corp.example.",
                  SYNTH_SOA("corp.example."));
  expect_negative(z, "in.corp.example.", LDNS_RR_TYPE_A, LZV_NODATA, "corp.example.",
                  SYNTH_SOA("corp.example."));
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 1); /* no auto zones */
  assert_int_equal(nr, 2);
  lz_unref(z);
}

static void test_later_declaration_and_nesting(void **state) {
  (void)state;
  const char *zones[] = {"x.example static", "x.example transparent", "example.com static",
                         "sub.example.com transparent", NULL};
  const char *data[] = {"www.sub.example.com A 192.0.2.3", NULL};
  localzones_t *z = build(false, zones, data);
  assert_int_equal(verdict(z, "a.x.example.", LDNS_RR_TYPE_A), LZV_NONE);
  /* The closest enclosing zone wins. */
  struct lz_answer a;
  assert_int_equal(look(z, "www.sub.example.com.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_name(a.zone, "sub.example.com.");
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "other.sub.example.com.", LDNS_RR_TYPE_A), LZV_NONE);
  expect_negative(z, "other.example.com.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, "example.com.",
                  SYNTH_SOA("example.com."));
  /* The transparent zone's apex is an empty non-terminal there: resolved. */
  assert_int_equal(verdict(z, "sub.example.com.", LDNS_RR_TYPE_SOA), LZV_NONE);
  lz_unref(z);
}

static void test_root_zone(void **state) {
  (void)state;
  const char *zones[] = {". static", NULL};
  const char *data[] = {"only.example. A 192.0.2.1", NULL};
  localzones_t *z = build(false, zones, data);
  assert_int_equal(verdict(z, "only.example.", LDNS_RR_TYPE_A), LZV_ANSWER);
  expect_negative(z, "www.example.com.", LDNS_RR_TYPE_A, LZV_NXDOMAIN, ".", SYNTH_SOA("."));
  expect_negative(z, "example.", LDNS_RR_TYPE_A, LZV_NODATA, ".", SYNTH_SOA("."));
  lz_unref(z);
}

static void test_case_and_owner(void **state) {
  (void)state;
  const char *zones[] = {"Example.COM static", NULL};
  const char *data[] = {"WWW.Example.Com A 192.0.2.1", "www.example.com. a 192.0.2.2", NULL};
  localzones_t *z = build(false, zones, data);
  struct lz_answer a;
  assert_int_equal(look(z, "wWw.EXAMPLE.cOm.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "wWw.EXAMPLE.cOm.", "www.example.com. 3600 IN A 192.0.2.1",
             "www.example.com. 3600 IN A 192.0.2.2", NULL);
  assert_name(a.zone, "example.com.");
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "EXAMPLE.com.", LDNS_RR_TYPE_SOA), LZV_ANSWER);
  assert_int_equal(verdict(z, "NOPE.example.com.", LDNS_RR_TYPE_A), LZV_NXDOMAIN);
  lz_unref(z);
}

static void test_duplicates_merged(void **state) {
  (void)state;
  const char *data[] = {"dup.example. A 192.0.2.1", "DUP.example 300 IN A 192.0.2.1",
                        "dup.example. A 192.0.2.2", "dup.example. MX 10 Mail.Example.",
                        "dup.example. MX 10 mail.example.", "alias.example. ALIAS t.example.",
                        "alias.example. ALIAS T.EXAMPLE", "c.example. CNAME x.example.",
                        "c.example. CNAME X.example.", NULL};
  localzones_t *z = build(false, NULL, data);
  struct lz_answer a;
  assert_int_equal(look(z, "dup.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "dup.example.", "dup.example. 3600 IN A 192.0.2.1",
             "dup.example. 3600 IN A 192.0.2.2", NULL);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "dup.example.", LDNS_RR_TYPE_MX, &a), LZV_ANSWER);
  assert_int_equal(ldns_rr_list_rr_count(a.rrs), 1);
  lz_answer_clear(&a);
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 3);
  assert_int_equal(nr, 5);
  lz_unref(z);
}

static void test_cname(void **state) {
  (void)state;
  const char *zones[] = {"example.com static", NULL};
  const char *data[] = {"www.example.com 120 CNAME target.example.org", NULL};
  localzones_t *z = build(false, zones, data);
  static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT,
                                       LDNS_RR_TYPE_ANY};
  struct lz_answer a;
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(look(z, "WWW.example.com.", types[i], &a), LZV_CNAME);
    assert_rrs(&a, "WWW.example.com.", "www.example.com. 120 IN CNAME target.example.org.",
               NULL);
    assert_name(a.zone, "example.com.");
    assert_int_equal(a.type, LZ_STATIC);
    assert_null(a.soa);
    lz_answer_clear(&a);
  }
  assert_int_equal(look(z, "www.example.com.", LDNS_RR_TYPE_CNAME, &a), LZV_ANSWER);
  assert_rrs(&a, "www.example.com.", "www.example.com. 120 IN CNAME target.example.org.", NULL);
  lz_answer_clear(&a);
  lz_unref(z);
}

static void test_alias(void **state) {
  (void)state;
  const char *zones[] = {"example.com static", "shop.example redirect", NULL};
  const char *data[] = {"example.com 300 ALIAS lb.example.net",
                        "example.com MX 10 mail.example.com",
                        "www.example.com alias www.example.net.",
                        "www.example.com TXT \"v=spf1 -all\"",
                        "shop.example 60 IN ALIAS shops.example.net", NULL};
  localzones_t *z = build(false, zones, data);
  struct lz_answer a;
  assert_int_equal(look(z, "example.com.", LDNS_RR_TYPE_A, &a), LZV_ALIAS);
  assert_name(a.target, "lb.example.net.");
  assert_int_equal(a.alias_ttl, 300);
  assert_name(a.zone, "example.com.");
  assert_int_equal(a.type, LZ_STATIC);
  assert_null(a.rrs);
  assert_null(a.soa);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "EXAMPLE.com.", LDNS_RR_TYPE_AAAA, &a), LZV_ALIAS);
  assert_name(a.target, "lb.example.net.");
  assert_int_equal(a.alias_ttl, 300);
  lz_answer_clear(&a);
  /* Other types come from local data; none: NODATA. */
  expect_negative(z, "example.com.", LDNS_RR_TYPE_TXT, LZV_NODATA, "example.com.",
                  SYNTH_SOA("example.com."));
  assert_int_equal(look(z, "example.com.", LDNS_RR_TYPE_MX, &a), LZV_ANSWER);
  assert_rrs(&a, "example.com.", "example.com. 3600 IN MX 10 mail.example.com.", NULL);
  lz_answer_clear(&a);
  /* ANY: every record but the ALIAS itself. */
  assert_int_equal(look(z, "example.com.", LDNS_RR_TYPE_ANY, &a), LZV_ANSWER);
  assert_rrs(&a, "example.com.", "example.com. 3600 IN MX 10 mail.example.com.",
             SYNTH_SOA("example.com."), NULL);
  lz_answer_clear(&a);

  assert_int_equal(look(z, "www.example.com.", LDNS_RR_TYPE_A, &a), LZV_ALIAS);
  assert_name(a.target, "www.example.net.");
  assert_int_equal(a.alias_ttl, 3600);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "www.example.com.", LDNS_RR_TYPE_TXT, &a), LZV_ANSWER);
  assert_rrs(&a, "www.example.com.", "www.example.com. 3600 IN TXT \"v=spf1 -all\"", NULL);
  lz_answer_clear(&a);
  /* An ALIAS alone: ANY has nothing to show. */
  const char *d2[] = {"solo.example. ALIAS t.example.", NULL};
  localzones_t *z2 = build(false, NULL, d2);
  assert_int_equal(verdict(z2, "solo.example.", LDNS_RR_TYPE_ANY), LZV_NODATA);
  assert_int_equal(verdict(z2, "solo.example.", LDNS_RR_TYPE_A), LZV_ALIAS);
  lz_unref(z2);

  /* A redirect zone's apex ALIAS answers every name in it. */
  assert_int_equal(look(z, "a.b.shop.example.", LDNS_RR_TYPE_AAAA, &a), LZV_ALIAS);
  assert_name(a.target, "shops.example.net.");
  assert_int_equal(a.alias_ttl, 60);
  assert_int_equal(a.type, LZ_REDIRECT);
  lz_answer_clear(&a);
  assert_int_equal(verdict(z, "a.b.shop.example.", LDNS_RR_TYPE_MX), LZV_NODATA);
  lz_unref(z);
}

static void test_finish_errors(void **state) {
  (void)state;
  const char *where = "chaindns.yaml:12: key 'local-data'";
  {
    const char *d[] = {"www.example.com. A 192.0.2.1", "www.example.com. CNAME a.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': a CNAME and other data at one "
                        "name (got 'www.example.com. CNAME a.example.')");
  }
  {
    const char *d[] = {"www.example.com CNAME a.example", "www.example.com TXT x", NULL};
    expect_finish_error(NULL, d, "--local-data",
                        "--local-data: a CNAME and other data at one name "
                        "(got 'www.example.com TXT x')");
  }
  {
    /* ALIAS counts as other data. */
    const char *d[] = {"w.example. ALIAS t.example.", "w.example. CNAME a.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': a CNAME and other data at one "
                        "name (got 'w.example. CNAME a.example.')");
  }
  {
    const char *d[] = {"w.example. CNAME a.example.", "w.example. ALIAS t.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': a CNAME and other data at one "
                        "name (got 'w.example. ALIAS t.example.')");
  }
  {
    const char *d[] = {"w.example. CNAME a.example.", "W.EXAMPLE.  CNAME b.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': two CNAMEs at one name "
                        "(got 'W.EXAMPLE.  CNAME b.example.')");
  }
  {
    const char *z[] = {"example.com static", NULL};
    const char *d[] = {"example.com CNAME lb.example.net", NULL};
    expect_finish_error(z, d, "--local-data",
                        "--local-data: a CNAME cannot be at a zone apex; use ALIAS "
                        "(got 'example.com CNAME lb.example.net')");
  }
  {
    /* The zone declared after its data: still its apex. */
    localzones_t *z = lz_new(false);
    assert_null(lz_add_data(z, "Corp.Example. CNAME x.example.", "f.yaml:3: key 'local-data'"));
    assert_null(lz_add_zone(z, "corp.example transparent"));
    char err[256];
    assert_int_equal(lz_finish(z, err, sizeof err), -1);
    assert_string_equal(err, "f.yaml:3: key 'local-data': a CNAME cannot be at a zone apex; "
                             "use ALIAS (got 'Corp.Example. CNAME x.example.')");
    lz_unref(z);
  }
  {
    const char *d[] = {"w.example. ALIAS t.example.", "w.example. A 192.0.2.1", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': ALIAS and A or AAAA at one name "
                        "(got 'w.example. A 192.0.2.1')");
  }
  {
    const char *d[] = {"w.example. AAAA 2001:db8::1", "w.example. 60 ALIAS t.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': ALIAS and A or AAAA at one name "
                        "(got 'w.example. 60 ALIAS t.example.')");
  }
  {
    const char *d[] = {"w.example. ALIAS t.example.", "w.example. ALIAS u.example.", NULL};
    expect_finish_error(NULL, d, where,
                        "chaindns.yaml:12: key 'local-data': two ALIASes at one name "
                        "(got 'w.example. ALIAS u.example.')");
  }
  {
    /* A default zone's apex is a zone apex too (it holds the SOA). */
    localzones_t *z = lz_new(true);
    assert_null(lz_add_data(z, "home.arpa. CNAME router.example.", "--local-data"));
    char err[256];
    assert_int_equal(lz_finish(z, err, sizeof err), -1);
    assert_string_equal(err, "--local-data: a CNAME cannot be at a zone apex; use ALIAS "
                             "(got 'home.arpa. CNAME router.example.')");
    lz_unref(z);
  }
  {
    /* Against a default's data: the user's line is named. */
    localzones_t *z = lz_new(true);
    assert_null(lz_add_data(z, "localhost. ALIAS elsewhere.example.", "--local-data"));
    char err[256];
    assert_int_equal(lz_finish(z, err, sizeof err), -1);
    assert_string_equal(err, "--local-data: ALIAS and A or AAAA at one name "
                             "(got 'localhost. ALIAS elsewhere.example.')");
    lz_unref(z);
  }
  {
    /* A short buffer truncates, NUL-terminated. */
    localzones_t *z = lz_new(false);
    assert_null(lz_add_data(z, "w.example. ALIAS t.example.", "x"));
    assert_null(lz_add_data(z, "w.example. ALIAS u.example.", "x"));
    char err[8];
    assert_int_equal(lz_finish(z, err, sizeof err), -1);
    assert_string_equal(err, "x: two ");
    lz_unref(z);
  }
}

static void test_add_data_errors(void **state) {
  (void)state;
  localzones_t *z = lz_new(false);
  const char *syntax = "expected NAME [TTL] TYPE RDATA";
  assert_string_equal(lz_add_data(z, "", "t"), syntax);
  assert_string_equal(lz_add_data(z, "   ", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com A", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com A 1.2.3", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com A 1.2.3.4 extra", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com BOGUS 1.2.3.4", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com MX mail.example.com", "t"), syntax);
  assert_string_equal(lz_add_data(z, "www.example.com CH TXT hi", "t"),
                      "only class IN is supported");
  assert_string_equal(lz_add_data(z, "www.example.com 300 HS A 1.2.3.4", "t"),
                      "only class IN is supported");
  assert_string_equal(lz_add_data(z, "www.example.com CH ALIAS x.example", "t"),
                      "only class IN is supported");
  assert_string_equal(lz_add_data(z, "www.example.com ALIAS", "t"),
                      "expected NAME [TTL] ALIAS TARGET");
  assert_string_equal(lz_add_data(z, "www.example.com 300 ALIAS a.example b.example", "t"),
                      "expected NAME [TTL] ALIAS TARGET");
  assert_string_equal(lz_add_data(z, "www.example.com ALIAS a..example", "t"),
                      "bad ALIAS target");
  assert_string_equal(lz_add_data(z, "a..example ALIAS b.example", "t"), "bad owner name");
  /* Accepted forms; the rejected lines left nothing behind. */
  assert_null(lz_add_data(z, "  spaced.example.  A 192.0.2.1  \n", "t"));
  assert_null(lz_add_data(z, "ttl.example. 1h IN A 192.0.2.2", "t"));
  assert_null(lz_add_data(z, "rel.example MX 10 mail", "t"));
  assert_null(lz_add_data(z, "al.example. 1h IN ALIAS t.example", NULL));
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nr, 4);
  char err[128];
  assert_int_equal(lz_finish(z, err, sizeof err), 0);
  struct lz_answer a;
  assert_int_equal(look(z, "spaced.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "spaced.example.", "spaced.example. 3600 IN A 192.0.2.1", NULL);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "ttl.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  assert_rrs(&a, "ttl.example.", "ttl.example. 3600 IN A 192.0.2.2", NULL);
  lz_answer_clear(&a);
  /* Names in RDATA are absolute too. */
  assert_int_equal(look(z, "rel.example.", LDNS_RR_TYPE_MX, &a), LZV_ANSWER);
  assert_rrs(&a, "rel.example.", "rel.example. 3600 IN MX 10 mail.", NULL);
  lz_answer_clear(&a);
  assert_int_equal(look(z, "al.example.", LDNS_RR_TYPE_A, &a), LZV_ALIAS);
  assert_int_equal(a.alias_ttl, 3600);
  assert_name(a.target, "t.example.");
  lz_answer_clear(&a);
  /* Complete: no more input. */
  assert_non_null(lz_add_data(z, "late.example. A 192.0.2.3", "t"));
  assert_non_null(lz_add_zone(z, "late.example. static"));
  assert_int_equal(lz_finish(z, err, sizeof err), 0);
  lz_unref(z);
}

static void test_add_zone_errors(void **state) {
  (void)state;
  localzones_t *z = lz_new(false);
  assert_string_equal(lz_add_zone(z, ""), "expected NAME TYPE");
  assert_string_equal(lz_add_zone(z, "example.com"), "expected NAME TYPE");
  assert_string_equal(lz_add_zone(z, "example.com static extra"), "expected NAME TYPE");
  assert_string_equal(lz_add_zone(z, "example.com bogus"),
                      "unknown zone type (static, transparent, redirect, refuse, nodefault)");
  assert_string_equal(lz_add_zone(z, "example.com always_nxdomain"),
                      "unknown zone type (static, transparent, redirect, refuse, nodefault)");
  assert_string_equal(lz_add_zone(z, "a..example static"), "bad zone name");
  assert_null(lz_add_zone(z, "  upper.example   STATIC "));
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 1);
  char err[128];
  assert_int_equal(lz_finish(z, err, sizeof err), 0);
  assert_int_equal(verdict(z, "x.upper.example.", LDNS_RR_TYPE_A), LZV_NXDOMAIN);
  lz_unref(z);
}

static void test_lookup_before_finish_and_null(void **state) {
  (void)state;
  localzones_t *z = lz_new(true);
  assert_int_equal(verdict(z, "localhost.", LDNS_RR_TYPE_A), LZV_NONE);
  struct lz_answer a;
  memset(&a, 0xa5, sizeof a);
  ldns_rdf *q = dn("localhost.");
  assert_int_equal(lz_lookup(NULL, q, LDNS_RR_TYPE_A, &a), LZV_NONE);
  assert_null(a.rrs);
  assert_null(a.zone);
  assert_null(a.soa);
  assert_null(a.target);
  ldns_rdf_deep_free(q);
  lz_answer_clear(&a);
  lz_answer_clear(NULL);
  size_t nz = 1, nr = 1;
  lz_counts(NULL, &nz, &nr);
  assert_int_equal(nz + nr, 0);
  lz_unref(z);
}

static void test_refcount(void **state) {
  (void)state;
  assert_null(lz_ref(NULL));
  lz_unref(NULL);
  const char *data[] = {"host.example. A 192.0.2.1", NULL};
  localzones_t *z = build(true, NULL, data);
  assert_ptr_equal(lz_ref(z), z);
  assert_ptr_equal(lz_ref(z), z);
  lz_unref(z);
  lz_unref(z);
  /* Still alive on the last reference; an answer outlives it. */
  struct lz_answer a;
  assert_int_equal(look(z, "host.example.", LDNS_RR_TYPE_A, &a), LZV_ANSWER);
  lz_unref(z);
  assert_rrs(&a, "host.example.", "host.example. 3600 IN A 192.0.2.1", NULL);
  assert_name(a.zone, "host.example.");
  lz_answer_clear(&a);
  assert_null(a.rrs);
  assert_null(a.zone);
  assert_int_equal(a.verdict, LZV_NONE);
}

/* Many zones sharing suffixes, and many names under none: the walk stops at
 * the first suffix no zone ends in. */
static void test_many_zones(void **state) {
  (void)state;
  localzones_t *z = lz_new(false);
  char buf[128];
  for (int i = 0; i < 2000; i++) {
    snprintf(buf, sizeof buf, "ads%d.block.example static", i);
    assert_null(lz_add_zone(z, buf));
  }
  for (int i = 0; i < 2000; i += 7) {
    snprintf(buf, sizeof buf, "www.ads%d.block.example A 192.0.2.%d", i, i % 250);
    assert_null(lz_add_data(z, buf, "t"));
  }
  char err[128];
  assert_int_equal(lz_finish(z, err, sizeof err), 0);
  for (int i = 0; i < 2000; i++) {
    snprintf(buf, sizeof buf, "www.ads%d.block.example.", i);
    assert_int_equal(verdict(z, buf, LDNS_RR_TYPE_A), i % 7 == 0 ? LZV_ANSWER : LZV_NXDOMAIN);
    snprintf(buf, sizeof buf, "www.ads%d.other.example.", i);
    assert_int_equal(verdict(z, buf, LDNS_RR_TYPE_A), LZV_NONE);
  }
  assert_int_equal(verdict(z, "block.example.", LDNS_RR_TYPE_A), LZV_NONE);
  assert_int_equal(verdict(z, "ads1.block.example.", LDNS_RR_TYPE_A), LZV_NODATA);
  size_t nz, nr;
  lz_counts(z, &nz, &nr);
  assert_int_equal(nz, 2000);
  assert_int_equal(nr, 286);
  lz_unref(z);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_without_defaults),
      cmocka_unit_test(test_nodefault),
      cmocka_unit_test(test_user_zone_replaces_default),
      cmocka_unit_test(test_static),
      cmocka_unit_test(test_configured_soa),
      cmocka_unit_test(test_transparent),
      cmocka_unit_test(test_redirect),
      cmocka_unit_test(test_refuse),
      cmocka_unit_test(test_auto_transparent),
      cmocka_unit_test(test_zone_declared_after_data),
      cmocka_unit_test(test_later_declaration_and_nesting),
      cmocka_unit_test(test_root_zone),
      cmocka_unit_test(test_case_and_owner),
      cmocka_unit_test(test_duplicates_merged),
      cmocka_unit_test(test_cname),
      cmocka_unit_test(test_alias),
      cmocka_unit_test(test_finish_errors),
      cmocka_unit_test(test_add_data_errors),
      cmocka_unit_test(test_add_zone_errors),
      cmocka_unit_test(test_lookup_before_finish_and_null),
      cmocka_unit_test(test_refcount),
      cmocka_unit_test(test_many_zones),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
