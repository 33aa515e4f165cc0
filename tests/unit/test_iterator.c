/* Unit tests for resolver/core/iterator.c, the I/O-free resolution state machine:
 * canned responses are fed in place of the network, and a fake clock
 * (iter_env.clock) in place of time and randomness. */
#include "unit_helpers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "metrics/stats.h"
#include "resolver/core/iterator.h"
#include "resolver/core/localzone.h"
#include "resolver/core/trace.h"
#include "resolver/lib/util.h"

#define AN LDNS_SECTION_ANSWER
#define NS LDNS_SECTION_AUTHORITY
#define AR LDNS_SECTION_ADDITIONAL

#define ROOT1 "192.0.2.1"
#define COM1 "192.0.2.30"
#define COM2 "192.0.2.31"
#define NET1 "192.0.2.40"
#define EXAMPLE1 "192.0.2.53"
#define EXAMPLE2 "192.0.2.54"
#define SUB1 "192.0.2.60"

static const char *ROOT_HINTS =
    "; test root hints\n"
    ".                     3600000  NS  A.ROOT-SERVERS.NET.\n"
    "A.ROOT-SERVERS.NET.   3600000  A   " ROOT1 "\n"
    "A.ROOT-SERVERS.NET.   3600000  AAAA 2001:db8::1\n";

static const char *ROOT_HINTS3 =
    ".                     3600000  NS  A.ROOT-SERVERS.NET.\n"
    ".                     3600000  NS  B.ROOT-SERVERS.NET.\n"
    ".                     3600000  NS  C.ROOT-SERVERS.NET.\n"
    "A.ROOT-SERVERS.NET.   3600000  A   192.0.2.1\n"
    "B.ROOT-SERVERS.NET.   3600000  A   192.0.2.2\n"
    "C.ROOT-SERVERS.NET.   3600000  A   192.0.2.3\n";

static const char *SOA_EXAMPLE =
    "example.com. 300 IN SOA ns1.example.com. host.example.com. 1 7200 900 1209600 60";

/* The iterator's clock in these tests (iter_env.clock): wall-clock and
 * monotonic time move only when a test moves them, and the "random" draws
 * are a fixed sequence, so every run makes the same choices. */
#define FAKE_EPOCH 1700000000 /* 2023-11-14T22:13:20Z */

struct fake_clock {
  int64_t now;      /* wall-clock seconds */
  uint64_t mono_us; /* monotonic microseconds */
  uint32_t rnd;     /* xorshift32 state */
};

static int64_t fake_now_sec(void *arg) { return ((struct fake_clock *)arg)->now; }
static uint64_t fake_mono_us(void *arg) { return ((struct fake_clock *)arg)->mono_us; }

static uint32_t fake_random(void *arg) {
  struct fake_clock *c = arg;
  c->rnd ^= c->rnd << 13;
  c->rnd ^= c->rnd >> 17;
  c->rnd ^= c->rnd << 5;
  return c->rnd;
}

struct fx {
  struct fake_clock clock; /* the env's clock */
  cache_t *cache;
  servers_t *servers;
  struct hints *hints;
  struct iter_config cfg;
  struct iter_env env;
  struct stats *stats;  /* the env's counters */
  localzones_t *local;  /* set by a test that uses local data */
  iter_t *it; /* freed by teardown, so a failing test does not leak it */
};

static struct hints *load_hints(const char *text) {
  char path[] = "/tmp/chaindns-hints-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  char err[512] = "";
  struct hints *h = hints_load(path, err, sizeof err);
  unlink(path);
  if (!h) fail_msg("hints_load: %s", err);
  return h;
}

static int setup_with(void **state, const char *hints_text) {
  struct fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  struct cache_limits lim = {.max_bytes = 4u << 20, .min_ttl = 0, .max_ttl = 86400,
                             .max_neg_ttl = 3600};
  f->cache = cache_new(&lim);
  f->servers = servers_new(256);
  f->hints = load_hints(hints_text);
  f->cfg = (struct iter_config){.max_chain_length = 16, .max_upstream_queries = 100,
                                .max_depth = 4, .zone_max_timeouts = 4,
                                .zone_timeout_budget_ms = 0, .upstream_port = 53,
                                .ipv4 = true, .ipv6 = false};
  f->stats = calloc(1, sizeof *f->stats);
  assert_non_null(f->stats);
  f->clock = (struct fake_clock){.now = FAKE_EPOCH, .mono_us = 5000000, .rnd = 2463534242u};
  f->env = (struct iter_env){.cache = f->cache, .servers = f->servers, .hints = f->hints,
                             .cfg = &f->cfg, .stats = f->stats,
                             .clock = {fake_now_sec, fake_mono_us, fake_random, &f->clock}};
  *state = f;
  return 0;
}

static int setup(void **state) { return setup_with(state, ROOT_HINTS); }
static int setup3(void **state) { return setup_with(state, ROOT_HINTS3); }

static int teardown(void **state) {
  struct fx *f = *state;
  iter_free(f->it);
  lz_unref(f->local);
  free(f->stats);
  cache_free(f->cache);
  servers_free(f->servers);
  hints_free(f->hints);
  free(f);
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static iter_t *start(struct fx *f, const char *qname, ldns_rr_type t, uint32_t depth,
                     uint32_t *budget) {
  ldns_rdf *q = dn(qname);
  iter_t *it = iter_new(&f->env, q, t, depth, budget);
  ldns_rdf_deep_free(q);
  assert_non_null(it);
  return it;
}

static const char *addr_ip(const struct sockaddr *sa, char *buf, size_t len) {
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
  else
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)len);
  return buf;
}

static void expect_send(const struct iter_action *a, const char *ip, const char *qname,
                        const char *zone) {
  if (a->kind != IA_SEND) fail_msg("expected IA_SEND to %s, got action %d", ip, a->kind);
  assert_non_null(a->addr);
  assert_int_equal(a->addr->sa_family, AF_INET);
  assert_int_equal(a->addrlen, sizeof(struct sockaddr_in));
  char buf[64];
  addr_ip(a->addr, buf, sizeof buf);
  if (ip && strcmp(buf, ip) != 0) fail_msg("IA_SEND to %s, expected %s", buf, ip);
  assert_int_equal(ntohs(((const struct sockaddr_in *)a->addr)->sin_port), 53);
  if (qname) assert_name(a->qname, qname);
  if (zone) assert_name(a->zone, zone);
  assert_true(a->timeout_ms > 0);
}

/* Feed p to it (and free p), then take the next action. */
static void respond(iter_t *it, ldns_pkt *p, struct iter_action *a) {
  iter_on_response(it, p, 20);
  ldns_pkt_free(p);
  iter_next(it, a);
}

/* A referral to `child` with one NS and, if glue_ip, its A glue. */
static ldns_pkt *referral(const char *qname, ldns_rr_type t, const char *child,
                          const char *nsname, const char *glue_ip) {
  ldns_pkt *p = mkpkt(qname, t, LDNS_RCODE_NOERROR, false);
  char line[300];
  snprintf(line, sizeof line, "%s 172800 IN NS %s", child, nsname);
  pkt_add(p, NS, line);
  if (glue_ip) {
    snprintf(line, sizeof line, "%s 172800 IN A %s", nsname, glue_ip);
    pkt_add(p, AR, line);
  }
  return p;
}

/* An authoritative answer with the given answer-section RRs. */
static ldns_pkt *answer(const char *qname, ldns_rr_type t, const char *first, ...) {
  ldns_pkt *p = mkpkt(qname, t, LDNS_RCODE_NOERROR, true);
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *)) pkt_add(p, AN, s);
  va_end(ap);
  return p;
}

static bool has_rr(const ldns_rr_list *l, const char *text) {
  ldns_rr *want = rr(text);
  bool found = false;
  for (size_t i = 0; l && i < ldns_rr_list_rr_count(l); i++) {
    ldns_rr *x = ldns_rr_clone(ldns_rr_list_rr(l, i));
    ldns_rr_set_ttl(x, ldns_rr_ttl(want)); /* TTLs count down in the cache */
    if (ldns_rr_compare(x, want) == 0) found = true;
    ldns_rr_free(x);
  }
  ldns_rr_free(want);
  return found;
}

/* From the root: referral to com., to example.com., ready to ask
 * example.com.'s server (the last action is that IA_SEND). */
static void walk_to_example(iter_t *it, const char *qname, ldns_rr_type t,
                            struct iter_action *a) {
  iter_next(it, a);
  expect_send(a, ROOT1, qname, ".");
  respond(it, referral(qname, t, "com.", "a.gtld-servers.net.", COM1), a);
  expect_send(a, COM1, qname, "com.");
  respond(it, referral(qname, t, "example.com.", "ns1.example.com.", EXAMPLE1), a);
  expect_send(a, EXAMPLE1, qname, "example.com.");
}

/* ---- tests -------------------------------------------------------------- */

static void test_referrals_to_answer(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, ROOT1, "www.example.com.", ".");
  assert_int_equal(a.qtype, LDNS_RR_TYPE_A);
  assert_false(a.tcp);
  assert_true(a.edns);
  assert_int_equal(a.timeout_ms, SERVERS_UNKNOWN_RTO_MS);
  assert_false(iter_done(it));
  /* Calling iter_next again while waiting changes nothing. */
  iter_next(it, &a);
  assert_int_not_equal(a.kind, IA_DONE);
  assert_false(iter_done(it));

  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  expect_send(&a, COM1, "www.example.com.", "com.");
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "example.com.", "ns1.example.com.", EXAMPLE1), &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     "www.example.com. 300 IN A 192.0.2.81", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_true(iter_done(it));
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->ede, EDE_NONE);
  assert_non_null(r->answer);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  assert_true(has_rr(r->answer, "www.example.com. 300 IN A 192.0.2.80"));
  assert_true(has_rr(r->answer, "www.example.com. 300 IN A 192.0.2.81"));
  assert_int_equal(r->upstream_queries, 3);
  assert_int_equal(r->chain_status, CHAIN_OK);
  assert_int_equal(iter_chain(it)->n, 0);
  /* Late events are ignored once done. */
  ldns_pkt *late = answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 203.0.113.1", NULL);
  iter_on_response(it, late, 1);
  ldns_pkt_free(late);
  iter_on_timeout(it);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(ldns_rr_list_rr_count(iter_result(it)->answer), 2);
  assert_false(has_rr(iter_result(it)->answer, "www.example.com. 300 IN A 203.0.113.1"));
  iter_free(it);
}

static void test_second_lookup_from_cache(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  iter_free(it);

  /* Same question (other case): straight from cache, no IA_SEND. */
  it = start(f, "WWW.example.COM.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_true(has_rr(r->answer, "www.example.com. 300 IN A 192.0.2.80"));
  uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0));
  assert_true(ttl <= 300 && ttl >= 298);
  iter_free(it);

  /* Another name in example.com.: the cached delegation is used directly. */
  it = start(f, "mail.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "mail.example.com.", "example.com.");
  iter_free(it);

  /* Another name in com.: the cached com. delegation. */
  it = start(f, "www.example2.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, COM1, "www.example2.com.", "com.");
  iter_free(it);
}

static void test_glue_is_not_an_answer(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  iter_free(it);
  /* ns1.example.com. A is cached only as glue: it must be asked for. */
  it = start(f, "ns1.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "ns1.example.com.", "example.com.");
  iter_free(it);
}

static void test_nxdomain_and_negative_cache(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "nx.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "nx.example.com.", LDNS_RR_TYPE_A, &a);
  ldns_pkt *p = mkpkt("nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, NS, SOA_EXAMPLE);
  respond(it, p, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 0);
  assert_non_null(r->authority);
  assert_int_equal(ldns_rr_list_rr_count(r->authority), 1);
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r->authority, 0)), LDNS_RR_TYPE_SOA);
  iter_free(it);

  /* Any type at that name now comes from the negative cache. */
  it = start(f, "nx.example.com.", LDNS_RR_TYPE_AAAA, 0, NULL);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(r->upstream_queries, 0);
  assert_non_null(r->authority);
  iter_free(it);
}

/* Answers made from the network tell the TTLs the cache keeps: clamped by
 * max-ttl/min-ttl (CNAME hops and RRSIGs too), negative ones by RFC 2308's
 * min(SOA TTL, MINIMUM) and max-negative-ttl; else the first reply (and the
 * worker's answer cache holding it) would outlive the cached data. */
static void test_network_answers_carry_kept_ttls(void **state) {
  struct fx *f = *state;
  f->cfg.max_ttl = 60;
  f->cfg.min_ttl = 10;
  f->cfg.max_neg_ttl = 45;
  struct cache_limits lim = {.max_bytes = 4u << 20, .min_ttl = 10, .max_ttl = 60,
                             .max_neg_ttl = 45};
  cache_free(f->cache);
  f->cache = f->env.cache = cache_new(&lim);
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A,
                     "www.example.com. 86400 IN CNAME short.example.com.",
                     "short.example.com. 2 IN A 192.0.2.1", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r->answer, 0)), LDNS_RR_TYPE_CNAME);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0)), 60);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 1)), 10);
  iter_free(it);

  /* SOA TTL 300, MINIMUM 60 (SOA_EXAMPLE): told min(300, 60) = 60, held to 45. */
  it = start(f, "nx.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "nx.example.com.", "example.com.");
  ldns_pkt *p = mkpkt("nx.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, NS, SOA_EXAMPLE);
  respond(it, p, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->authority, 0)), 45);
  iter_free(it);
}

static void test_nodata_cached_for_its_type_only(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_AAAA, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_AAAA, &a);
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, SOA_EXAMPLE);
  respond(it, p, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(iter_result(it)->answer), 0);
  assert_non_null(iter_result(it)->authority);
  iter_free(it);

  it = start(f, "www.example.com.", LDNS_RR_TYPE_AAAA, 0, NULL);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
  iter_free(it);

  it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  iter_free(it);
}

static void test_cname_across_zones(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  /* example.com. says: an alias into example.net. (plus out-of-zone data
   * that must not be believed). */
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A,
                     "www.example.com. 300 IN CNAME www.example.net.",
                     "www.example.net. 300 IN A 203.0.113.66", NULL), &a);
  /* The target is resolved from the root: net. is not cached. */
  expect_send(&a, ROOT1, "www.example.net.", ".");
  assert_false(iter_done(it));
  respond(it, referral("www.example.net.", LDNS_RR_TYPE_A, "net.", "a.gtld-servers.net.", NET1), &a);
  expect_send(&a, NET1, "www.example.net.", "net.");
  respond(it, answer("www.example.net.", LDNS_RR_TYPE_A, "www.example.net. 300 IN A 192.0.2.90", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  /* In chain order: the CNAME, then the data. */
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r->answer, 0)), LDNS_RR_TYPE_CNAME);
  assert_true(has_rr(r->answer, "www.example.com. 300 IN CNAME www.example.net."));
  assert_true(has_rr(r->answer, "www.example.net. 300 IN A 192.0.2.90"));
  assert_false(has_rr(r->answer, "www.example.net. 300 IN A 203.0.113.66"));
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r->answer, 1)), LDNS_RR_TYPE_A);
  const chain_t *c = iter_chain(it);
  assert_int_equal(c->n, 1);
  assert_name(c->hops[0].owner, "www.example.com.");
  assert_name(c->hops[0].target, "www.example.net.");
  assert_name(c->hops[0].step.zone, "example.com.");
  assert_int_equal(c->hops[0].step.source, CHAIN_SRC_NETWORK);
  assert_int_equal(c->hops[0].crossed_zone, 1);
  assert_int_equal(r->upstream_queries, 5);
  iter_free(it);

  /* The whole chain is cached now. */
  it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(r->answer, 0)), LDNS_RR_TYPE_CNAME);
  assert_true(has_rr(r->answer, "www.example.net. 300 IN A 192.0.2.90"));
  assert_int_equal(iter_chain(it)->n, 1);
  assert_int_equal(iter_chain(it)->hops[0].step.source, CHAIN_SRC_CACHE);
  iter_free(it);
}

static void test_cname_chain_in_one_answer(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "a.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "a.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("a.example.com.", LDNS_RR_TYPE_A,
                     "a.example.com. 300 IN CNAME b.example.com.",
                     "b.example.com. 300 IN CNAME c.example.com.",
                     "c.example.com. 300 IN A 192.0.2.7", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 3);
  assert_name(ldns_rr_owner(ldns_rr_list_rr(r->answer, 0)), "a.example.com.");
  assert_name(ldns_rr_owner(ldns_rr_list_rr(r->answer, 1)), "b.example.com.");
  assert_name(ldns_rr_owner(ldns_rr_list_rr(r->answer, 2)), "c.example.com.");
  assert_int_equal(iter_chain(it)->n, 2);
  assert_int_equal(iter_chain(it)->hops[1].crossed_zone, 0);
  iter_free(it);
}

static void test_cross_zone_loop(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "a.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "a.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("a.example.com.", LDNS_RR_TYPE_A, "a.example.com. 300 IN CNAME b.example.net.", NULL), &a);
  expect_send(&a, ROOT1, "b.example.net.", ".");
  respond(it, referral("b.example.net.", LDNS_RR_TYPE_A, "net.", "a.gtld-servers.net.", NET1), &a);
  expect_send(&a, NET1, "b.example.net.", "net.");
  respond(it, answer("b.example.net.", LDNS_RR_TYPE_A, "b.example.net. 300 IN CNAME a.example.com.", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_OTHER);
  assert_int_equal(r->chain_status, CHAIN_LOOP);
  assert_non_null(strstr(r->ede_text, "loop"));
  assert_non_null(strstr(r->ede_text, "a.example.com."));
  assert_non_null(strstr(r->ede_text, "b.example.net."));
  iter_free(it);

  /* Both CNAMEs are cached: the loop is found again without a query. */
  it = start(f, "a.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_OTHER);
  assert_int_equal(r->chain_status, CHAIN_LOOP);
  assert_non_null(strstr(r->ede_text, "loop"));
  assert_int_equal(r->upstream_queries, 0);
  iter_free(it);
}

static void test_loop_inside_one_answer(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "a.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "a.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("a.example.com.", LDNS_RR_TYPE_A,
                     "a.example.com. 300 IN CNAME b.example.com.",
                     "b.example.com. 300 IN CNAME a.example.com.", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_OTHER);
  assert_int_equal(r->chain_status, CHAIN_LOOP);
  assert_non_null(strstr(r->ede_text, "loop"));
  iter_free(it);
}

/* n CNAMEs c0 -> c1 -> ... -> cn, then cn A, in one answer from the root. */
static ldns_pkt *long_chain(int n) {
  ldns_pkt *p = mkpkt("c0.example.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  char line[200];
  for (int i = 0; i < n; i++) {
    snprintf(line, sizeof line, "c%d.example. 300 IN CNAME c%d.example.", i, i + 1);
    pkt_add(p, AN, line);
  }
  snprintf(line, sizeof line, "c%d.example. 300 IN A 192.0.2.%d", n, n);
  pkt_add(p, AN, line);
  return p;
}

static void test_chain_length_limit(void **state) {
  struct fx *f = *state;
  struct iter_action a;
  iter_t *it = start(f, "c0.example.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, ROOT1, "c0.example.", ".");
  respond(it, long_chain(16), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(iter_result(it)->answer), 17);
  iter_free(it);

  cache_clear(f->cache);
  it = start(f, "c0.example.", LDNS_RR_TYPE_A, 0, NULL);
  iter_next(it, &a);
  expect_send(&a, ROOT1, "c0.example.", ".");
  respond(it, long_chain(17), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_OTHER);
  assert_int_equal(r->chain_status, CHAIN_TOO_LONG);
  assert_non_null(strstr(r->ede_text, "16"));
  iter_free(it);
}

static void test_all_servers_time_out(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  char seen[8][64];
  uint32_t sends = 0;
  for (int guard = 0; guard < 50; guard++) {
    iter_next(it, &a);
    if (a.kind == IA_DONE) break;
    assert_int_equal(a.kind, IA_SEND);
    addr_ip(a.addr, seen[sends < 8 ? sends : 7], 64);
    sends++;
    iter_on_timeout(it);
  }
  assert_int_equal(a.kind, IA_DONE);
  assert_true(sends >= 1);
  assert_true(sends <= f->cfg.zone_max_timeouts);
  assert_int_equal(sends, f->cfg.zone_max_timeouts);
  /* Timed-out servers are avoided while others are untried. */
  assert_string_not_equal(seen[0], seen[1]);
  assert_string_not_equal(seen[1], seen[2]);
  assert_string_not_equal(seen[0], seen[2]);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_NO_REACHABLE_AUTHORITY);
  assert_int_equal(r->ede, 22);
  assert_non_null(strstr(r->ede_text, "no reachable authority"));
  assert_non_null(strstr(r->ede_text, "timed out"));
  assert_int_equal(r->upstream_queries, sends);
  iter_free(it);
}

static void test_timeout_backs_off(void **state) {
  struct fx *f = *state; /* one root server */
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, ROOT1, NULL, NULL);
  uint32_t first = a.timeout_ms;
  iter_on_timeout(it);
  iter_next(it, &a);
  expect_send(&a, ROOT1, NULL, NULL);
  assert_int_equal(a.timeout_ms, first * 2);
  iter_free(it);
}

static void test_zone_timeout_budget(void **state) {
  struct fx *f = *state;
  f->cfg.zone_timeout_budget_ms = 1000;
  f->cfg.zone_max_timeouts = 100;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  uint32_t waited = 0;
  int sends = 0;
  for (int guard = 0; guard < 50; guard++) {
    iter_next(it, &a);
    if (a.kind == IA_DONE) break;
    assert_int_equal(a.kind, IA_SEND);
    waited += a.timeout_ms;
    sends++;
    iter_on_timeout(it);
  }
  assert_int_equal(a.kind, IA_DONE);
  assert_true(waited <= 1000);
  assert_true(sends >= 2);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  iter_free(it);
}

static void test_truncated_retries_over_tcp(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, ROOT1, "www.example.com.", ".");
  assert_false(a.tcp);
  ldns_pkt *p = mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false);
  ldns_pkt_set_tc(p, true);
  respond(it, p, &a);
  expect_send(&a, ROOT1, "www.example.com.", ".");
  assert_true(a.tcp);
  /* Over TCP the referral arrives in full. */
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  expect_send(&a, COM1, "www.example.com.", "com.");
  assert_false(a.tcp);
  assert_int_equal(iter_result(it)->upstream_queries, 3);
  iter_free(it);
}

static void test_formerr_retries_without_edns(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  assert_true(a.edns);
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_FORMERR, false), &a);
  expect_send(&a, ROOT1, "www.example.com.", ".");
  assert_false(a.edns);
  /* FORMERR again without EDNS: the server is useless. */
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_FORMERR, false), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  iter_free(it);
}

/* A referral to com. with two servers whose names are inside com. (so glue
 * is their only source of addresses). */
static ldns_pkt *com_referral_two_in_zone(const char *qname) {
  ldns_pkt *p = referral(qname, LDNS_RR_TYPE_A, "com.", "ns1.nic.com.", COM1);
  pkt_add(p, NS, "com. 172800 IN NS ns2.nic.com.");
  pkt_add(p, AR, "ns2.nic.com. 172800 IN A " COM2);
  return p;
}

static void test_error_then_other_server(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  respond(it, com_referral_two_in_zone("www.example.com."), &a);
  expect_send(&a, NULL, "www.example.com.", "com.");
  char first[64], second[64];
  addr_ip(a.addr, first, sizeof first);
  assert_true(!strcmp(first, COM1) || !strcmp(first, COM2));
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, false), &a);
  expect_send(&a, NULL, "www.example.com.", "com.");
  addr_ip(a.addr, second, sizeof second);
  assert_string_not_equal(first, second);
  assert_true(!strcmp(second, COM1) || !strcmp(second, COM2));
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, false), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_NO_REACHABLE_AUTHORITY);
  assert_non_null(strstr(r->ede_text, "com."));
  assert_non_null(strstr(r->ede_text, "server failure"));
  assert_int_equal(r->upstream_queries, 3);
  iter_free(it);
}

static void test_lame_and_io_error(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  respond(it, com_referral_two_in_zone("www.example.com."), &a);
  expect_send(&a, NULL, NULL, "com.");
  char first[64], second[64];
  addr_ip(a.addr, first, sizeof first);
  /* An upward referral is lame: the other server is asked. */
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, ".", "a.root-servers.net.", NULL), &a);
  expect_send(&a, NULL, NULL, "com.");
  addr_ip(a.addr, second, sizeof second);
  assert_string_not_equal(first, second);
  iter_on_error(it, "connection refused");
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  assert_non_null(strstr(iter_result(it)->ede_text, "connection refused"));
  iter_free(it);
}

/* NS names whose addresses are already known (glue or cache) need no
 * glueless sub-lookup: once every known address has failed, the zone is
 * given up with EDE 22 instead of re-resolving those addresses and spending
 * the request's query budget. */
static void test_failed_zone_does_not_relookup_known_ns(void **state) {
  struct fx *f = *state;
  iter_t *it = f->it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  /* The root gives in-bailiwick glue for both com. servers (named in net.). */
  ldns_pkt *p = referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1);
  pkt_add(p, NS, "com. 172800 IN NS b.gtld-servers.net.");
  pkt_add(p, AR, "b.gtld-servers.net. 172800 IN A " COM2);
  respond(it, p, &a);
  expect_send(&a, NULL, "www.example.com.", "com.");
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, false), &a);
  expect_send(&a, NULL, "www.example.com.", "com.");
  respond(it, mkpkt("www.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, false), &a);
  if (a.kind == IA_SUB) {
    char n[300];
    fail_msg("both com. servers failed, but the iterator asks for a sub-lookup of %s, "
             "whose address (glue) it already has and which just failed",
             rdf_text(a.sub_names[0], n, sizeof n));
  }
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  /* teardown frees f->it */
}

static void test_glueless_referral_sub_lookup(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, ROOT1, NULL, NULL);
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "ns1.example.net.", NULL), &a);
  assert_int_equal(a.kind, IA_SUB);
  assert_int_equal(a.nsub, 1);
  assert_name(a.sub_names[0], "ns1.example.net.");
  assert_int_equal(a.qtype, LDNS_RR_TYPE_A);
  assert_false(iter_done(it));

  struct iter_result sub;
  memset(&sub, 0, sizeof sub);
  sub.rcode = LDNS_RCODE_NOERROR;
  sub.ede = EDE_NONE;
  sub.answer = rrlist("ns1.example.net. 300 IN A 192.0.2.99", NULL);
  iter_on_sub_done(it, &sub, a.sub_gen);
  ldns_rr_list_deep_free(sub.answer);
  iter_next(it, &a);
  expect_send(&a, "192.0.2.99", "www.example.com.", "com.");
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  iter_free(it);
}

static struct iter_result sub_answer(const char *rr_text) {
  struct iter_result r;
  memset(&r, 0, sizeof r);
  r.ede = EDE_NONE;
  r.rcode = rr_text ? LDNS_RCODE_NOERROR : LDNS_RCODE_SERVFAIL;
  r.answer = rr_text ? rrlist(rr_text, NULL) : NULL;
  return r;
}

/* Both NS names of a glueless delegation are looked up at once; failures
 * wait for the others, and when all fail the zone is given up. */
static void test_glueless_sub_failures(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  ldns_pkt *p = referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "ns1.example.net.", NULL);
  pkt_add(p, NS, "com. 172800 IN NS ns2.example.org.");
  respond(it, p, &a);
  assert_int_equal(a.kind, IA_SUB);
  assert_int_equal(a.nsub, 2);
  char first[300], second[300];
  rdf_text(a.sub_names[0], first, sizeof first);
  rdf_text(a.sub_names[1], second, sizeof second);
  assert_string_not_equal(first, second);
  uint32_t gen = a.sub_gen;
  struct iter_result fail = sub_answer(NULL);
  iter_on_sub_done(it, &fail, gen);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_NONE); /* the other lookup is still out */
  iter_on_sub_done(it, NULL, gen);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  iter_free(it);
}

/* The first address goes on at once; a later one adds a server, and a
 * lookup for a zone already left changes nothing. */
static void test_glueless_first_address_wins(void **state) {
  struct fx *f = *state;
  iter_t *it = f->it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  ldns_pkt *p = referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "ns1.example.net.", NULL);
  pkt_add(p, NS, "com. 172800 IN NS ns2.example.org.");
  respond(it, p, &a);
  assert_int_equal(a.nsub, 2);
  uint32_t gen = a.sub_gen;
  struct iter_result ok2 = sub_answer("ns2.example.org. 300 IN A 192.0.2.98");
  iter_on_sub_done(it, &ok2, gen);
  iter_next(it, &a);
  expect_send(&a, "192.0.2.98", "www.example.com.", "com.");
  struct iter_result ok1 = sub_answer("ns1.example.net. 300 IN A 192.0.2.97");
  iter_on_sub_done(it, &ok1, gen); /* while the query is out */
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_NONE);
  iter_on_timeout(it); /* the first server is silent: the second is there */
  iter_next(it, &a);
  expect_send(&a, "192.0.2.97", "www.example.com.", "com.");
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "example.com.", "ns1.example.com.",
                       EXAMPLE1), &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  struct iter_result late = sub_answer("ns9.example.org. 300 IN A 192.0.2.96");
  iter_on_sub_done(it, &late, gen); /* for com., which is behind us now */
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_NONE);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  ldns_rr_list_deep_free(ok1.answer);
  ldns_rr_list_deep_free(ok2.answer);
  ldns_rr_list_deep_free(late.answer);
}

static void test_glueless_depth_limit(void **state) {
  struct fx *f = *state;
  uint32_t budget = 10;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, f->cfg.max_depth, &budget);
  struct iter_action a;
  iter_next(it, &a);
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "ns1.example.net.", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  /* The shared budget was charged for the one query. */
  assert_int_equal(budget, 9);
  iter_free(it);
}

static void test_referral_with_in_zone_ns_and_no_glue(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  /* ns1.com. is inside com.: without glue it can never be reached. */
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "ns1.com.", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  iter_free(it);
}

static void test_upstream_budget_exhausted(void **state) {
  struct fx *f = *state;
  f->cfg.max_upstream_queries = 2;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, ROOT1, NULL, ".");
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  expect_send(&a, COM1, NULL, "com.");
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "example.com.", "ns1.example.com.", EXAMPLE1), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_OTHER);
  assert_non_null(strstr(r->ede_text, "limit"));
  assert_non_null(strstr(r->ede_text, "2"));
  assert_int_equal(r->upstream_queries, 2);
  iter_free(it);
}

static void test_shared_budget(void **state) {
  struct fx *f = *state;
  uint32_t budget = 1;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 1, &budget);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_SEND);
  assert_int_equal(budget, 0);
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  iter_free(it);
}

static void test_deadline(void **state) {
  struct fx *f = *state;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_SEND);
  iter_on_deadline(it);
  assert_true(iter_done(it));
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->ede, EDE_NO_REACHABLE_AUTHORITY);
  assert_non_null(strstr(iter_result(it)->ede_text, "deadline"));
  iter_free(it);
}

static void test_ipv6_only_uses_aaaa_hints(void **state) {
  struct fx *f = *state;
  f->cfg.ipv4 = false;
  f->cfg.ipv6 = true;
  iter_t *it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_SEND);
  assert_int_equal(a.addr->sa_family, AF_INET6);
  char buf[64];
  assert_string_equal(addr_ip(a.addr, buf, sizeof buf), "2001:db8::1");
  /* An IPv4-only glue referral cannot be used; no AAAA for the NS name. */
  respond(it, referral("www.example.com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  assert_int_equal(a.kind, IA_SUB);
  assert_int_equal(a.qtype, LDNS_RR_TYPE_AAAA);
  iter_free(it);
}

/* ---- the shared tier --------------------------------------------------------- */

/* What the iterator handed to the shared tier's sink. */
struct sunk {
  int rrsets, chains;
  uint8_t chain_owner[256], chain_payload[1024];
  size_t chain_owner_len, chain_len;
  uint32_t chain_ttl;
};

static void sink_put(void *arg, const struct cache_record *rec) {
  struct sunk *k = arg;
  if (rec->kind != RECORD_CHAIN) {
    k->rrsets++;
    return;
  }
  k->chains++;
  memcpy(k->chain_owner, rec->owner, rec->owner_len);
  k->chain_owner_len = rec->owner_len;
  memcpy(k->chain_payload, rec->payload, rec->payload_len);
  k->chain_len = rec->payload_len;
  k->chain_ttl = rec->ttl;
}

static void expect_key(const struct iter_action *a, size_t i, const char *name, uint16_t type,
                       uint8_t kind) {
  assert_true(i < a->nkeys);
  assert_name(a->keys[i].name, name);
  assert_int_equal(a->keys[i].type, type);
  assert_int_equal(a->keys[i].kind, kind);
}

/* The driver's part of a fetch: put what "Redis" had into memory. */
static void fill(struct fx *f, const char *text) {
  ldns_rr_list *l = rrlist(text, NULL);
  assert_int_equal(cache_store_rrset(f->cache, l, CACHE_RANK_ANSWER, f->clock.now, NULL), 0);
  ldns_rr_list_deep_free(l);
}

static void test_fetch_on_memory_miss_then_network(void **state) {
  struct fx *f = *state;
  f->cfg.shared_tier = true;
  iter_t *it = f->it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_FETCH);
  assert_int_equal(a.nkeys, 4);
  expect_key(&a, 0, "www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET);
  expect_key(&a, 1, "www.example.com.", LDNS_RR_TYPE_CNAME, RECORD_RRSET);
  expect_key(&a, 2, "www.example.com.", 0, RECORD_NXDOMAIN);
  expect_key(&a, 3, "www.example.com.", 0, RECORD_CHAIN);
  iter_next(it, &a); /* still waiting: nothing new to do */
  assert_int_not_equal(a.kind, IA_DONE);
  assert_int_not_equal(a.kind, IA_FETCH);
  assert_false(iter_done(it));
  iter_on_fetch_done(it, NULL); /* a miss: on to the network, once */
  iter_next(it, &a);
  expect_send(&a, ROOT1, "www.example.com.", ".");
}

/* A chain another instance learned: the first fetch finds the first CNAME
 * and the chain record, the second fetches every remaining hop at once. */
static void test_fetch_chain_in_two_round_trips(void **state) {
  struct fx *f = *state;
  struct sunk k = {0};
  struct cache_sink sink = {sink_put, &k};
  f->cfg.shared_tier = true;
  f->env.sink = &sink;
  iter_t *it = f->it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_FETCH);
  fill(f, "www.example.com. 300 IN CNAME a.cdn.net.");
  ldns_rdf *n1 = dn("a.cdn.net."), *n2 = dn("b.edge.org.");
  const ldns_rdf *names[] = {n1, n2};
  bool found1[] = {false, true, false, true};
  struct fetch_result r1 = {found1, names, 2};
  iter_on_fetch_done(it, &r1);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_FETCH);
  assert_int_equal(a.nkeys, 6); /* both names, no second chain record */
  expect_key(&a, 0, "a.cdn.net.", LDNS_RR_TYPE_A, RECORD_RRSET);
  expect_key(&a, 3, "b.edge.org.", LDNS_RR_TYPE_A, RECORD_RRSET);
  fill(f, "a.cdn.net. 60 IN CNAME b.edge.org.");
  fill(f, "b.edge.org. 30 IN A 192.0.2.80");
  bool found2[] = {false, true, false, true, false, false};
  struct fetch_result r2 = {found2, NULL, 0};
  iter_on_fetch_done(it, &r2);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *res = iter_result(it);
  assert_int_equal(res->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(res->answer), 3);
  assert_name(ldns_rr_owner(ldns_rr_list_rr(res->answer, 2)), "b.edge.org.");
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 2);
  assert_int_equal(ch->hops[0].step.source, CHAIN_SRC_REDIS);
  assert_int_equal(ch->hops[1].step.source, CHAIN_SRC_REDIS);
  assert_true(ch->has_final);
  assert_int_equal(ch->final.source, CHAIN_SRC_REDIS);
  assert_int_equal(ch->final.ttl, 30);
  assert_int_equal(res->upstream_queries, 0);
  /* Nothing was learned here, so nothing is written back. */
  assert_int_equal(k.chains, 0);
  assert_int_equal(k.rrsets, 0);
  ldns_rdf_deep_free(n1);
  ldns_rdf_deep_free(n2);
}

/* A chain learned from the network is announced with its names, living as
 * long as its shortest CNAME. */
static void test_network_chain_is_shared(void **state) {
  struct fx *f = *state;
  struct sunk k = {0};
  struct cache_sink sink = {sink_put, &k};
  f->env.sink = &sink;
  iter_t *it = f->it = start(f, "www.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A,
                     "www.example.com. 300 IN CNAME web.example.com.",
                     "web.example.com. 120 IN CNAME edge.example.com.",
                     "edge.example.com. 600 IN A 192.0.2.80", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(k.chains, 1);
  assert_int_equal(k.chain_owner_len, 17);
  assert_memory_equal(k.chain_owner, "\3www\7example\3com", 17);
  const uint8_t want[] = "\3web\7example\3com\0\4edge\7example\3com";
  assert_int_equal(k.chain_len, sizeof want);
  assert_memory_equal(k.chain_payload, want, sizeof want);
  assert_int_equal(k.chain_ttl, 120);
  assert_true(k.rrsets >= 3); /* both CNAMEs and the A (and the delegations) */
}

/* ---- helpers for the issue 8 features --------------------------------------- */

/* A new iterator owned by the fixture (the previous one is freed), so a
 * failing assertion does not leak it. */
static iter_t *restart(struct fx *f, const char *qname, ldns_rr_type t) {
  iter_free(f->it);
  f->it = NULL;
  f->it = start(f, qname, t, 0, NULL);
  return f->it;
}

/* As expect_send, and the type asked. */
static void expect_send_t(const struct iter_action *a, const char *ip, const char *qname,
                          ldns_rr_type t, const char *zone) {
  expect_send(a, ip, qname, zone);
  if (a->qtype != t) {
    char n[300];
    fail_msg("IA_SEND %s type %d, expected type %d", rdf_text(a->qname, n, sizeof n),
             a->qtype, t);
  }
}

/* `zone` delegated to ns1 (and ns2 if not NULL) with glue, as a referral
 * would have left it in the cache. */
static void cache_delegation(struct fx *f, const char *zone, const char *ns1, const char *ip1,
                             const char *ns2, const char *ip2) {
  char l1[300], l2[300], g1[300], g2[300];
  int64_t now = f->clock.now;
  snprintf(l1, sizeof l1, "%s 172800 IN NS %s", zone, ns1);
  snprintf(g1, sizeof g1, "%s 172800 IN A %s", ns1, ip1);
  ldns_rr_list *ns = rrlist(l1, NULL);
  if (ns2) {
    snprintf(l2, sizeof l2, "%s 172800 IN NS %s", zone, ns2);
    ldns_rr_list_push_rr(ns, rr(l2));
  }
  assert_int_equal(cache_store_rrset(f->cache, ns, CACHE_RANK_REFERRAL, now, NULL), 0);
  ldns_rr_list_deep_free(ns);
  ldns_rr_list *g = rrlist(g1, NULL);
  assert_int_equal(cache_store_rrset(f->cache, g, CACHE_RANK_GLUE, now, NULL), 0);
  ldns_rr_list_deep_free(g);
  if (ns2) {
    snprintf(g2, sizeof g2, "%s 172800 IN A %s", ns2, ip2);
    g = rrlist(g2, NULL);
    assert_int_equal(cache_store_rrset(f->cache, g, CACHE_RANK_GLUE, now, NULL), 0);
    ldns_rr_list_deep_free(g);
  }
}

/* An authoritative negative answer with example.com.'s SOA. */
static ldns_pkt *negative(const char *qname, ldns_rr_type t, bool nxdomain) {
  ldns_pkt *p = mkpkt(qname, t, nxdomain ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, SOA_EXAMPLE);
  return p;
}

/* An answer-ranked RRset stored as if `age` seconds ago. */
static void fill_aged(struct fx *f, const char *text, int64_t age) {
  ldns_rr_list *l = rrlist(text, NULL);
  assert_int_equal(
      cache_store_rrset(f->cache, l, CACHE_RANK_ANSWER, f->clock.now - age, NULL), 0);
  ldns_rr_list_deep_free(l);
}

/* Local zones from NULL-terminated lists (with the built-in defaults),
 * installed in the environment. */
static void set_local(struct fx *f, const char *const *zones, const char *const *data) {
  localzones_t *z = lz_new(true);
  assert_non_null(z);
  for (size_t i = 0; zones && zones[i]; i++) {
    const char *why = lz_add_zone(z, zones[i]);
    if (why) fail_msg("lz_add_zone '%s': %s", zones[i], why);
  }
  for (size_t i = 0; data && data[i]; i++) {
    const char *why = lz_add_data(z, data[i], "test");
    if (why) fail_msg("lz_add_data '%s': %s", data[i], why);
  }
  char err[512] = "";
  if (lz_finish(z, err, sizeof err) != 0) fail_msg("lz_finish: %s", err);
  lz_unref(f->local);
  f->local = z;
  f->env.local = z;
}

static void assert_rr_type_owner(const ldns_rr *r, ldns_rr_type t, const char *owner) {
  assert_non_null(r);
  if (ldns_rr_get_type(r) != t) {
    char *s = ldns_rr2str(r);
    fail_msg("record %s: type %d, expected %d", s ? s : "?", ldns_rr_get_type(r), t);
  }
  assert_name(ldns_rr_owner(r), owner);
}

/* ---- QNAME minimisation (RFC 9156) ------------------------------------------ */

static void test_qmin_off_sends_full_name(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_OFF;
  iter_t *it = f->it = start(f, "a.b.www.example.com.", LDNS_RR_TYPE_AAAA, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, ROOT1, "a.b.www.example.com.", LDNS_RR_TYPE_AAAA, ".");
  respond(it, referral("a.b.www.example.com.", LDNS_RR_TYPE_AAAA, "com.", "a.gtld-servers.net.",
                       COM1), &a);
  expect_send_t(&a, COM1, "a.b.www.example.com.", LDNS_RR_TYPE_AAAA, "com.");
  assert_int_equal(f->stats->qmin_minimised, 0);
}

/* From the root: one label more per query, type A, through referrals; a
 * NODATA for a minimised name means it exists: one label more; the last
 * query is the full name with the type asked. */
static void test_qmin_relaxed_sequence(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  iter_t *it = f->it = start(f, "a.b.www.example.com.", LDNS_RR_TYPE_AAAA, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, ROOT1, "com.", LDNS_RR_TYPE_A, ".");
  respond(it, referral("com.", LDNS_RR_TYPE_A, "com.", "a.gtld-servers.net.", COM1), &a);
  /* A new zone: minimisation goes on from its apex. */
  expect_send_t(&a, COM1, "example.com.", LDNS_RR_TYPE_A, "com.");
  respond(it, referral("example.com.", LDNS_RR_TYPE_A, "example.com.", "ns1.example.com.",
                       EXAMPLE1), &a);
  expect_send_t(&a, EXAMPLE1, "www.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, negative("www.example.com.", LDNS_RR_TYPE_A, false), &a);
  expect_send_t(&a, EXAMPLE1, "b.www.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, negative("b.www.example.com.", LDNS_RR_TYPE_A, false), &a);
  expect_send_t(&a, EXAMPLE1, "a.b.www.example.com.", LDNS_RR_TYPE_AAAA, "example.com.");
  respond(it, answer("a.b.www.example.com.", LDNS_RR_TYPE_AAAA,
                     "a.b.www.example.com. 300 IN AAAA 2001:db8::80", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_true(has_rr(r->answer, "a.b.www.example.com. 300 IN AAAA 2001:db8::80"));
  assert_null(r->authority); /* the minimised NODATAs leave no trace in the answer */
  assert_int_equal(r->upstream_queries, 5);
  assert_int_equal(f->stats->qmin_minimised, 4);
  assert_int_equal(f->stats->qmin_fallback, 0);
  assert_int_equal(iter_chain(it)->n, 0);
}

/* A referral answering a minimised query below the first zone: the new
 * zone's apex is where minimisation starts again. */
static void test_qmin_referral_restarts_at_apex(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = f->it = start(f, "x.y.z.sub.example.com.", LDNS_RR_TYPE_TXT, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "sub.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, referral("sub.example.com.", LDNS_RR_TYPE_A, "sub.example.com.",
                       "ns.sub.example.com.", SUB1), &a);
  expect_send_t(&a, SUB1, "z.sub.example.com.", LDNS_RR_TYPE_A, "sub.example.com.");
  ldns_pkt *p = mkpkt("z.sub.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, "sub.example.com. 300 IN SOA ns.sub.example.com. h.example.com. 1 2 3 4 60");
  respond(it, p, &a);
  expect_send_t(&a, SUB1, "y.z.sub.example.com.", LDNS_RR_TYPE_A, "sub.example.com.");
  p = mkpkt("y.z.sub.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, "sub.example.com. 300 IN SOA ns.sub.example.com. h.example.com. 1 2 3 4 60");
  respond(it, p, &a);
  expect_send_t(&a, SUB1, "x.y.z.sub.example.com.", LDNS_RR_TYPE_TXT, "sub.example.com.");
  respond(it, answer("x.y.z.sub.example.com.", LDNS_RR_TYPE_TXT,
                     "x.y.z.sub.example.com. 300 IN TXT \"hello\"", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_true(has_rr(iter_result(it)->answer, "x.y.z.sub.example.com. 300 IN TXT \"hello\""));
  assert_int_equal(f->stats->qmin_minimised, 3);
}

/* Relaxed: NXDOMAIN (an empty non-terminal a server gets wrong), REFUSED or
 * SERVFAIL for a minimised name -> the same server is asked the full name;
 * the NXDOMAIN is not believed (not cached). */
static void test_qmin_relaxed_fallback(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, "ns2.example.com.",
                   EXAMPLE2);
  static const ldns_pkt_rcode rcodes[] = {LDNS_RCODE_NXDOMAIN, LDNS_RCODE_REFUSED,
                                          LDNS_RCODE_SERVFAIL};
  for (size_t i = 0; i < sizeof rcodes / sizeof rcodes[0]; i++) {
    char q[64], mid[64], txt[128];
    snprintf(q, sizeof q, "a.b%zu.example.com.", i);
    snprintf(mid, sizeof mid, "b%zu.example.com.", i);
    iter_t *it = restart(f, q, LDNS_RR_TYPE_TXT);
    struct iter_action a;
    iter_next(it, &a);
    expect_send_t(&a, NULL, mid, LDNS_RR_TYPE_A, "example.com.");
    char first[64];
    addr_ip(a.addr, first, sizeof first);
    ldns_pkt *p = mkpkt(mid, LDNS_RR_TYPE_A, rcodes[i], rcodes[i] == LDNS_RCODE_NXDOMAIN);
    if (rcodes[i] == LDNS_RCODE_NXDOMAIN) pkt_add(p, NS, SOA_EXAMPLE);
    respond(it, p, &a);
    /* The same server, the full name, the real type. */
    expect_send_t(&a, first, q, LDNS_RR_TYPE_TXT, "example.com.");
    snprintf(txt, sizeof txt, "%s 300 IN TXT \"v%zu\"", q, i);
    respond(it, answer(q, LDNS_RR_TYPE_TXT, txt, NULL), &a);
    assert_int_equal(a.kind, IA_DONE);
    assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
    assert_true(has_rr(iter_result(it)->answer, txt));
    assert_int_equal(iter_result(it)->upstream_queries, 2);
    assert_int_equal(f->stats->qmin_fallback, i + 1);

    /* The minimised name was not taken as nonexistent. */
    it = restart(f, mid, LDNS_RR_TYPE_A);
    iter_next(it, &a);
    expect_send_t(&a, NULL, mid, LDNS_RR_TYPE_A, "example.com.");
  }
}

/* Strict: an NXDOMAIN for a minimised name ends the lookup (and is cached). */
static void test_qmin_strict_nxdomain(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_STRICT;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = f->it = start(f, "a.b.example.com.", LDNS_RR_TYPE_TXT, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, negative("b.example.com.", LDNS_RR_TYPE_A, true), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 0);
  assert_non_null(r->authority);
  assert_rr_type_owner(ldns_rr_list_rr(r->authority, 0), LDNS_RR_TYPE_SOA, "example.com.");
  assert_int_equal(r->upstream_queries, 1);
  assert_int_equal(f->stats->qmin_fallback, 0);
  /* The NXDOMAIN stands for the minimised name too. */
  it = restart(f, "b.example.com.", LDNS_RR_TYPE_MX);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
}

/* A 30-label name: one label at a time for the first steps, then larger
 * ones, never more than 10 queries at the zone, the full name last. */
static void test_qmin_bound_on_deep_name(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  char q[256] = "";
  for (int i = 28; i >= 1; i--) {
    char l[8];
    snprintf(l, sizeof l, "l%d.", i);
    strcat(q, l);
  }
  strcat(q, "example.com.");
  ldns_rdf *full = dn(q);
  assert_int_equal(ldns_dname_label_count(full), 30);
  iter_t *it = f->it = start(f, q, LDNS_RR_TYPE_AAAA, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  size_t labels[32], n = 0;
  bool full_sent = false;
  while (a.kind == IA_SEND && n < 32) {
    expect_send(&a, EXAMPLE1, NULL, "example.com.");
    labels[n++] = ldns_dname_label_count(a.qname);
    char sent[300];
    rdf_text(a.qname, sent, sizeof sent);
    if (ldns_dname_compare(a.qname, full) == 0) {
      assert_int_equal(a.qtype, LDNS_RR_TYPE_AAAA);
      full_sent = true;
      char line[300];
      snprintf(line, sizeof line, "%s 300 IN AAAA 2001:db8::30", q);
      respond(it, answer(q, LDNS_RR_TYPE_AAAA, line, NULL), &a);
      assert_int_equal(a.kind, IA_DONE);
      assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
      assert_true(has_rr(iter_result(it)->answer, line));
      break;
    }
    assert_int_equal(a.qtype, LDNS_RR_TYPE_A);
    assert_true(ldns_dname_is_subdomain(full, a.qname));
    respond(it, negative(sent, LDNS_RR_TYPE_A, false), &a);
  }
  ldns_rdf_deep_free(full);
  assert_true(full_sent);
  if (n > 10) fail_msg("%zu queries at the zone for one name (at most 10)", n);
  /* One label more for each of the first four, then growing steps. */
  assert_true(n >= 5);
  for (size_t i = 0; i < 4; i++) assert_int_equal(labels[i], 3 + i);
  for (size_t i = 1; i < n; i++) assert_true(labels[i] > labels[i - 1]);
  assert_int_equal(labels[n - 1], 30);
  assert_int_equal(f->stats->qmin_minimised, n - 1);
}

/* Names whose A the cache knows (NODATA or data) are stepped over. */
static void test_qmin_cached_names_stepped_over(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "a.b.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, negative("b.example.com.", LDNS_RR_TYPE_A, false), &a); /* NODATA, cached */
  expect_send_t(&a, EXAMPLE1, "a.b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, answer("a.b.example.com.", LDNS_RR_TYPE_A, "a.b.example.com. 300 IN A 192.0.2.7",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  /* Another name under b.example.com.: b is known to exist, no query for it. */
  it = restart(f, "c.b.example.com.", LDNS_RR_TYPE_MX);
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "c.b.example.com.", LDNS_RR_TYPE_MX, "example.com.");
  /* Under a name with a cached A: both known names are stepped over. */
  fill(f, "d.example.com. 300 IN A 192.0.2.8");
  fill(f, "e.d.example.com. 300 IN A 192.0.2.9");
  it = restart(f, "f.e.d.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "f.e.d.example.com.", LDNS_RR_TYPE_A, "example.com.");
  /* A name under an unknown one still gets a minimised query. */
  it = restart(f, "h.g.d.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "g.d.example.com.", LDNS_RR_TYPE_A, "example.com.");
}

/* ---- DNAME (RFC 6672) ----------------------------------------------------------- */

static void test_dname_from_network_then_cache(void **state) {
  struct fx *f = *state;
  iter_t *it = restart(f, "www.old.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "www.old.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.old.example.com.", LDNS_RR_TYPE_A,
                     "old.example.com. 600 IN DNAME new.example.com.",
                     "www.old.example.com. 30 IN CNAME www.new.example.com.",
                     "www.new.example.com. 300 IN A 192.0.2.9", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 3);
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_DNAME, "old.example.com.");
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 1), LDNS_RR_TYPE_CNAME,
                       "www.old.example.com.");
  assert_name(ldns_rr_rdf(ldns_rr_list_rr(r->answer, 1), 0), "www.new.example.com.");
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 1)), 600); /* the DNAME's */
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 2), LDNS_RR_TYPE_A, "www.new.example.com.");
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].kind, HOP_DNAME);
  assert_name(ch->hops[0].owner, "www.old.example.com.");
  assert_name(ch->hops[0].target, "www.new.example.com.");
  assert_int_equal(ch->hops[0].step.source, CHAIN_SRC_NETWORK);
  assert_int_equal(ch->hops[0].step.ttl, 600);
  assert_int_equal(ch->hops[0].crossed_zone, 0);

  /* Another name under the DNAME's owner, its target cached: no query. */
  fill(f, "ftp.new.example.com. 300 IN A 192.0.2.10");
  it = restart(f, "ftp.old.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 3);
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_DNAME, "old.example.com.");
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 1), LDNS_RR_TYPE_CNAME,
                       "ftp.old.example.com.");
  assert_name(ldns_rr_rdf(ldns_rr_list_rr(r->answer, 1), 0), "ftp.new.example.com.");
  assert_true(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 1)) <= 600);
  assert_true(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 1)) >= 598);
  assert_true(has_rr(r->answer, "ftp.new.example.com. 300 IN A 192.0.2.10"));
  ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].kind, HOP_DNAME);
  assert_int_equal(ch->hops[0].step.source, CHAIN_SRC_CACHE);

  /* Its target not cached: the target is asked, not the DNAME's owner. */
  it = restart(f, "mail.old.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "mail.new.example.com.", "example.com.");
  respond(it, answer("mail.new.example.com.", LDNS_RR_TYPE_A,
                     "mail.new.example.com. 300 IN A 192.0.2.11", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->upstream_queries, 1);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 3);
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_DNAME, "old.example.com.");
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 2), LDNS_RR_TYPE_A, "mail.new.example.com.");
}

/* A cached DNAME that would make the name too long: YXDOMAIN, no query. */
static void test_dname_cached_yxdomain(void **state) {
  struct fx *f = *state;
  fill(f, "d.example.com. 300 IN DNAME "
          "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
          "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
          "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt.example.net.");
  iter_t *it = restart(f,
                       "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq.d.example.com.",
                       LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_YXDOMAIN);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
}

/* ---- RFC 8020: nothing below an NXDOMAIN ------------------------------------- */

static void store_nxdomain(struct fx *f, const char *name, int64_t age) {
  ldns_rdf *n = dn(name);
  ldns_rr *soa = rr(SOA_EXAMPLE);
  assert_int_equal(cache_store_negative(f->cache, n, LDNS_RR_TYPE_A, true, soa,
                                        CACHE_RANK_ANSWER, f->clock.now - age, NULL), 0);
  ldns_rr_free(soa);
  ldns_rdf_deep_free(n);
}

static void test_nxcut_yes_answers_below(void **state) {
  struct fx *f = *state;
  f->cfg.nxcut = NXCUT_YES;
  store_nxdomain(f, "nx.example.com.", 0);
  iter_t *it = restart(f, "a.b.nx.example.com.", LDNS_RR_TYPE_TXT);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 0);
  assert_non_null(r->authority);
  assert_rr_type_owner(ldns_rr_list_rr(r->authority, 0), LDNS_RR_TYPE_SOA, "example.com.");
  assert_int_equal(f->stats->nxdomain_cuts, 1);
  /* A name beside it is not affected. */
  it = restart(f, "a.other.example.com.", LDNS_RR_TYPE_TXT);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_SEND);
  assert_int_equal(f->stats->nxdomain_cuts, 1);
}

static void test_nxcut_dnssec_and_no_query(void **state) {
  struct fx *f = *state;
  store_nxdomain(f, "nx.example.com.", 0);
  static const enum nxcut_mode modes[] = {NXCUT_DNSSEC, NXCUT_NO};
  for (size_t i = 0; i < 2; i++) {
    f->cfg.nxcut = modes[i];
    iter_t *it = restart(f, "a.nx.example.com.", LDNS_RR_TYPE_A);
    struct iter_action a;
    iter_next(it, &a);
    expect_send(&a, ROOT1, "a.nx.example.com.", ".");
    assert_int_equal(f->stats->nxdomain_cuts, 0);
  }
}

/* ---- local zones ---------------------------------------------------------------- */

static const char *const CORP_ZONES[] = {"corp.example. static", NULL};
static const char *const CORP_DATA[] = {
    "router.corp.example. 300 A 10.0.0.1",
    "www.corp.example. 300 CNAME www.example.com.",
    "corp.example. 600 ALIAS lb.example.com.",
    "corp.example. 300 MX 10 mail.corp.example.",
    "short.corp.example. 60 ALIAS lb.example.com.",
    "fin.corp.example. 600 ALIAS edge.example.com.",
    "gone.corp.example. 600 ALIAS nx.example.com.",
    "empty.corp.example. 600 ALIAS empty.example.com.",
    NULL};

static void test_local_answer(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  iter_t *it = restart(f, "router.corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_true(r->has_data);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_true(has_rr(r->answer, "router.corp.example. 300 IN A 10.0.0.1"));
  assert_int_equal(r->source, CHAIN_SRC_LOCAL);
  assert_int_equal(r->upstream_queries, 0);
  assert_true(iter_chain(it)->has_final);
  assert_int_equal(iter_chain(it)->final.source, CHAIN_SRC_LOCAL);
  assert_int_equal(r->prefetch_at, 0); /* local data never expires */
  assert_int_equal(f->stats->local_answers, 1);
  /* A name of the static zone without data: NXDOMAIN with the zone's SOA. */
  it = restart(f, "nope.corp.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(r->source, CHAIN_SRC_LOCAL);
  assert_non_null(r->authority);
  assert_rr_type_owner(ldns_rr_list_rr(r->authority, 0), LDNS_RR_TYPE_SOA, "corp.example.");
}

/* A local CNAME to an internet name: the target is resolved by query. */
static void test_local_cname_to_internet(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  iter_t *it = restart(f, "www.corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  assert_true(has_rr(r->answer, "www.corp.example. 300 IN CNAME www.example.com."));
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_CNAME, "www.corp.example.");
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 1), LDNS_RR_TYPE_A, "www.example.com.");
  assert_int_equal(r->source, CHAIN_SRC_NETWORK);
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].kind, HOP_CNAME);
  assert_int_equal(ch->hops[0].step.source, CHAIN_SRC_LOCAL);
  assert_int_equal(ch->final.source, CHAIN_SRC_NETWORK);
}

/* ALIAS: the target's addresses under the owner, no CNAME, TTL the least of
 * the ALIAS's, the CNAMEs' after it and the final RRset's. */
static void test_alias_flattened(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  iter_t *it = restart(f, "corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "lb.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("lb.example.com.", LDNS_RR_TYPE_A,
                     "lb.example.com. 200 IN CNAME edge.example.com.",
                     "edge.example.com. 400 IN A 192.0.2.80",
                     "edge.example.com. 400 IN A 192.0.2.81", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_true(r->has_data);
  assert_false(r->dangling);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  for (size_t i = 0; i < 2; i++) {
    const ldns_rr *x = ldns_rr_list_rr(r->answer, i);
    assert_rr_type_owner(x, LDNS_RR_TYPE_A, "corp.example.");
    assert_int_equal(ldns_rr_ttl(x), 200); /* the CNAME's */
  }
  assert_true(has_rr(r->answer, "corp.example. 200 IN A 192.0.2.80"));
  assert_true(has_rr(r->answer, "corp.example. 200 IN A 192.0.2.81"));
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 2);
  assert_int_equal(ch->hops[0].kind, HOP_ALIAS);
  assert_name(ch->hops[0].owner, "corp.example.");
  assert_name(ch->hops[0].target, "lb.example.com.");
  assert_int_equal(ch->hops[0].step.source, CHAIN_SRC_LOCAL);
  assert_int_equal(ch->hops[1].kind, HOP_CNAME);
  assert_int_equal(ch->hops[1].step.source, CHAIN_SRC_NETWORK);

  /* Other types at the owner come from local data. */
  it = restart(f, "corp.example.", LDNS_RR_TYPE_MX);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_true(has_rr(iter_result(it)->answer, "corp.example. 300 IN MX 10 mail.corp.example."));

  /* From cache: an ALIAS shorter than the rest sets the TTL ... */
  it = restart(f, "short.corp.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  for (size_t i = 0; i < 2; i++) {
    assert_rr_type_owner(ldns_rr_list_rr(r->answer, i), LDNS_RR_TYPE_A, "short.corp.example.");
    assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, i)), 60);
  }
  /* ... and without a CNAME, the final RRset's does. */
  it = restart(f, "fin.corp.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0));
  assert_true(ttl <= 400 && ttl >= 398);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 1)), ttl);
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_A, "fin.corp.example.");
  assert_int_equal(iter_chain(it)->hops[0].kind, HOP_ALIAS);
}

/* A target that does not exist: NOERROR/NODATA at the owner, with the
 * local zone's SOA, marked dangling; a target without addresses: NODATA,
 * not dangling. */
static void test_alias_dangling_and_nodata(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  iter_t *it = restart(f, "gone.corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "nx.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, negative("nx.example.com.", LDNS_RR_TYPE_A, true), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_true(r->dangling);
  assert_false(r->has_data);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 0);
  assert_non_null(r->authority);
  assert_int_equal(ldns_rr_list_rr_count(r->authority), 1);
  assert_rr_type_owner(ldns_rr_list_rr(r->authority, 0), LDNS_RR_TYPE_SOA, "corp.example.");
  assert_int_equal(iter_chain(it)->hops[0].kind, HOP_ALIAS);

  it = restart(f, "empty.corp.example.", LDNS_RR_TYPE_AAAA);
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "empty.example.com.", LDNS_RR_TYPE_AAAA, "example.com.");
  respond(it, negative("empty.example.com.", LDNS_RR_TYPE_AAAA, false), &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_false(r->dangling);
  assert_false(r->has_data);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 0);
  assert_non_null(r->authority);
  assert_int_equal(ldns_rr_list_rr_count(r->authority), 1);
  assert_rr_type_owner(ldns_rr_list_rr(r->authority, 0), LDNS_RR_TYPE_SOA, "corp.example.");
}

/* ---- prefetch --------------------------------------------------------------------- */

static void test_prefetch_at_from_network(void **state) {
  struct fx *f = *state;
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "www.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  /* Near expiry from the last tenth of its life on: 270 s from now. */
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now + 270);

  it = restart(f, "tiny.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "tiny.example.com.", "example.com.");
  respond(it, answer("tiny.example.com.", LDNS_RR_TYPE_A, "tiny.example.com. 5 IN A 192.0.2.5",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(iter_result(it)->prefetch_at, 0); /* TTL < 10: never */

  /* Along a chain the shortest-lived record counts. */
  it = restart(f, "c.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  respond(it, answer("c.example.com.", LDNS_RR_TYPE_A,
                     "c.example.com. 100 IN CNAME t.example.com.",
                     "t.example.com. 3600 IN A 192.0.2.6", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now + 90);

  /* With max-ttl 600 the cache keeps a 3600 s record 600 s: the window is
   * the last tenth of that. */
  f->cfg.max_ttl = 600;
  it = restart(f, "long.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  respond(it, answer("long.example.com.", LDNS_RR_TYPE_A, "long.example.com. 3600 IN A 192.0.2.7",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now + 540);
}

static void test_prefetch_at_from_cache(void **state) {
  struct fx *f = *state;
  fill(f, "fresh.example.com. 300 IN A 192.0.2.1");
  fill_aged(f, "old.example.com. 300 IN A 192.0.2.2", 280);
  fill(f, "tiny.example.com. 5 IN A 192.0.2.3");
  iter_t *it = restart(f, "fresh.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now + 270);
  /* 20 s left of 300: near expiry since 10 s ago. */
  it = restart(f, "old.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now - 10);
  it = restart(f, "tiny.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(iter_result(it)->prefetch_at, 0);
}

/* Only data the answer is made of sets prefetch_at: a cached NXDOMAIN of an
 * ancestor that is not used (nothing-below-nxdomain: dnssec) must not. */
static void test_prefetch_at_ignores_unused_entries(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  store_nxdomain(f, "b.example.com.", 55); /* 60 s SOA minimum: 5 s left */
  iter_t *it = restart(f, "a.b.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "a.b.example.com.", "example.com.");
  respond(it, answer("a.b.example.com.", LDNS_RR_TYPE_A, "a.b.example.com. 3600 IN A 192.0.2.7",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NOERROR);
  int64_t now = f->clock.now, at = iter_result(it)->prefetch_at;
  if (at != now + 3240)
    fail_msg("prefetch_at is now%+lld, want now+3240 (from the A's 3600 s): the unused "
             "NXDOMAIN of b.example.com. (5 s left of 60) was taken into account",
             (long long)(at - now));
}

/* Refresh mode: an entry in its last tenth is a miss (and is replaced);
 * a fresh one, or one with a TTL under 10 s, still answers. */
static void test_refresh_mode(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  fill_aged(f, "old.example.com. 300 IN A 192.0.2.2", 280);
  fill(f, "fresh.example.com. 300 IN A 192.0.2.1");
  fill_aged(f, "tiny.example.com. 5 IN A 192.0.2.3", 4);
  struct iter_action a;

  /* Without refresh the near-expiry entry answers. */
  iter_t *it = restart(f, "old.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->upstream_queries, 0);

  it = restart(f, "old.example.com.", LDNS_RR_TYPE_A);
  iter_set_refresh(it);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "old.example.com.", "example.com.");
  respond(it, answer("old.example.com.", LDNS_RR_TYPE_A, "old.example.com. 300 IN A 192.0.2.22",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_true(has_rr(iter_result(it)->answer, "old.example.com. 300 IN A 192.0.2.22"));
  /* The fresh answer replaced the old one. */
  it = restart(f, "old.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_true(has_rr(r->answer, "old.example.com. 300 IN A 192.0.2.22"));
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0)), 300);
  assert_int_equal(r->prefetch_at, f->clock.now + 270);

  it = restart(f, "fresh.example.com.", LDNS_RR_TYPE_A);
  iter_set_refresh(it);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
  assert_true(has_rr(iter_result(it)->answer, "fresh.example.com. 300 IN A 192.0.2.1"));

  it = restart(f, "tiny.example.com.", LDNS_RR_TYPE_A);
  iter_set_refresh(it);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
}

/* ---- the fake clock (iter_env.clock) ------------------------------------------ */

/* An answer learned at T with TTL 300 answers from the cache, counting
 * down, through T+299 and is gone at T+300 (RFC 1035 3.2.1: the TTL is how
 * long it may be cached), when the server is asked again. */
static void test_cached_answer_expires_with_the_clock(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);

  f->clock.now += 299;
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->upstream_queries, 0);
  assert_int_equal(r->source, CHAIN_SRC_CACHE);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0)), 1);

  f->clock.now += 1;
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
}

/* The prefetch window of a 300 s answer opens 270 s after it was learned:
 * the answer says so (prefetch_at), and a refresh (prefetch) lookup still
 * takes the entry one second before and treats it as a miss from then on. */
static void test_prefetch_window_opens_with_the_clock(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  int64_t learned = f->clock.now;
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A, "www.example.com. 300 IN A 192.0.2.80",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->prefetch_at, learned + 270);

  f->clock.now = learned + 269;
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_set_refresh(it);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
  assert_int_equal(iter_result(it)->prefetch_at, learned + 270);

  f->clock.now = learned + 270;
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A); /* a client: still served */
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->upstream_queries, 0);
  assert_int_equal(iter_result(it)->prefetch_at, f->clock.now); /* due now */
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A); /* the refresh asks */
  iter_set_refresh(it);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
}

/* Server choice runs on the monotonic clock: a timeout makes the fastest
 * server of a zone second choice for 60 s, and it is first again once the
 * clock has moved on 60 s, without any other event. */
static void test_timeout_penalty_lasts_a_minute_of_mono_time(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, "ns2.example.com.", EXAMPLE2);
  struct sockaddr_storage fast = sockaddr_of(EXAMPLE1, 53), slow = sockaddr_of(EXAMPLE2, 53);
  servers_record_rtt(f->servers, (struct sockaddr *)&fast, 10);
  servers_record_rtt(f->servers, (struct sockaddr *)&slow, 100);
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com."); /* 10 ms beats 100 */
  iter_on_timeout(it);

  f->clock.mono_us += 59999000; /* 59.999 s later */
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE2, "www.example.com.", "example.com.");

  f->clock.mono_us += 1000; /* a minute after the timeout */
  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
}

/* Each step of a chain is timed on the monotonic clock, from the end of
 * the step before: here 30 ms for the CNAME and 45 ms for the answer in
 * another zone; a step answered from the cache with no time passing, 0. */
static void test_hop_latency_from_mono_time(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  cache_delegation(f, "example.net.", "ns1.example.net.", NET1, NULL, NULL);
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  f->clock.mono_us += 30000;
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A,
                     "www.example.com. 300 IN CNAME web.example.net.", NULL), &a);
  expect_send(&a, NET1, "web.example.net.", "example.net.");
  f->clock.mono_us += 45000;
  respond(it, answer("web.example.net.", LDNS_RR_TYPE_A, "web.example.net. 300 IN A 192.0.2.81",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].step.elapsed_us, 30000);
  assert_true(ch->has_final);
  assert_int_equal(ch->final.elapsed_us, 45000);

  it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].step.elapsed_us, 0);
  assert_int_equal(ch->final.elapsed_us, 0);
}

/* A traced lookup is timed by the same clock: each upstream query starts
 * and ends on the environment's monotonic time, measured from the trace's
 * creation, so /trace and `chaindns trace` figures are exact under a fake
 * clock (the core reads no clock of its own). */
static void test_trace_times_from_mono_time(void **state) {
  struct fx *f = *state;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  cache_delegation(f, "example.net.", "ns1.example.net.", NET1, NULL, NULL);
  struct trace *t = trace_new(f->clock.mono_us);
  assert_non_null(t);
  f->clock.mono_us += 2000; /* the request waits 2 ms before its first query */
  iter_t *it = restart(f, "www.example.com.", LDNS_RR_TYPE_A);
  iter_set_trace(it, t, false);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "www.example.com.", "example.com.");
  f->clock.mono_us += 30000;
  respond(it, answer("www.example.com.", LDNS_RR_TYPE_A,
                     "www.example.com. 300 IN CNAME web.example.net.", NULL), &a);
  expect_send(&a, NET1, "web.example.net.", "example.net.");
  f->clock.mono_us += 45000;
  respond(it, answer("web.example.net.", LDNS_RR_TYPE_A, "web.example.net. 300 IN A 192.0.2.81",
                     NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(t->n, 2);
  assert_int_equal(t->q[0].start_us, 2000);
  assert_int_equal(t->q[0].rtt_us, 30000);
  assert_int_equal(t->q[1].start_us, 32000);
  assert_int_equal(t->q[1].rtt_us, 45000);
  assert_non_null(strstr(t->q[0].result, "CNAME"));
  iter_set_trace(it, NULL, false);
  free(t);
}

/* Strict: an error for a minimised name fails over to another server with
 * the same minimised name, never the full one. */
static void test_qmin_strict_error_fails_over(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_STRICT;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, "ns2.example.com.",
                   EXAMPLE2);
  iter_t *it = f->it = start(f, "a.b.example.com.", LDNS_RR_TYPE_TXT, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, NULL, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  char first[64], second[64];
  addr_ip(a.addr, first, sizeof first);
  respond(it, mkpkt("b.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, false), &a);
  expect_send_t(&a, NULL, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  addr_ip(a.addr, second, sizeof second);
  assert_string_not_equal(first, second);
  respond(it, negative("b.example.com.", LDNS_RR_TYPE_A, false), &a);
  expect_send_t(&a, second, "a.b.example.com.", LDNS_RR_TYPE_TXT, "example.com.");
  assert_int_equal(f->stats->qmin_fallback, 0);
}

/* Relaxed with nothing-below-nxdomain: yes: the NXDOMAIN for a minimised
 * name is believed, and cached for the names below it. */
static void test_qmin_relaxed_nxdomain_with_nxcut(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  f->cfg.nxcut = NXCUT_YES;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "a.b.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  respond(it, negative("b.example.com.", LDNS_RR_TYPE_A, true), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(f->stats->qmin_fallback, 0);
  it = restart(f, "c.b.example.com.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(f->stats->nxdomain_cuts, 1);
}

/* A relaxed lame answer to a minimised name: the full name, same server. */
static void test_qmin_relaxed_lame_fallback(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, "ns2.example.com.",
                   EXAMPLE2);
  iter_t *it = f->it = start(f, "a.b.example.com.", LDNS_RR_TYPE_A, 0, NULL);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, NULL, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  char first[64];
  addr_ip(a.addr, first, sizeof first);
  /* Not authoritative, no referral: lame. */
  respond(it, mkpkt("b.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, false), &a);
  expect_send_t(&a, first, "a.b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  assert_int_equal(f->stats->qmin_fallback, 1);
  /* That server fails the full name too: the other one gets the full name. */
  respond(it, mkpkt("a.b.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_REFUSED, false), &a);
  expect_send_t(&a, NULL, "a.b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  char second[64];
  assert_string_not_equal(first, addr_ip(a.addr, second, sizeof second));
  assert_int_equal(f->stats->qmin_fallback, 1);
}

/* DNAME hops count toward max-chain-length. */
static void test_dname_counts_toward_chain_limit(void **state) {
  struct fx *f = *state;
  f->cfg.max_chain_length = 1;
  iter_t *it = restart(f, "www.old.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, "www.old.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("www.old.example.com.", LDNS_RR_TYPE_A,
                     "old.example.com. 300 IN DNAME new.example.com.",
                     "www.new.example.com. 300 IN CNAME web.example.com.",
                     "web.example.com. 300 IN A 192.0.2.8", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->chain_status, CHAIN_TOO_LONG);
  assert_int_equal(iter_chain(it)->n, 1);
  assert_int_equal(iter_chain(it)->hops[0].kind, HOP_DNAME);
}

/* YXDOMAIN from the network when the DNAME really overflows the name. */
static void test_dname_network_yxdomain(void **state) {
  struct fx *f = *state;
  const char *q = "qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq.d.example.com.";
  iter_t *it = restart(f, q, LDNS_RR_TYPE_A);
  struct iter_action a;
  walk_to_example(it, q, LDNS_RR_TYPE_A, &a);
  ldns_pkt *p = mkpkt(q, LDNS_RR_TYPE_A, LDNS_RCODE_YXDOMAIN, true);
  pkt_add(p, AN, "d.example.com. 300 IN DNAME "
                 "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
                 "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt."
                 "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt.example.net.");
  respond(it, p, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_YXDOMAIN);
  assert_int_equal(iter_result(it)->upstream_queries, 3);
}

/* Local data is consulted at every name of a chain, before the cache. */
static void test_local_data_mid_chain_and_before_cache(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  fill(f, "router.corp.example. 300 IN A 203.0.113.1"); /* never used */
  iter_t *it = restart(f, "router.corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_true(has_rr(iter_result(it)->answer, "router.corp.example. 300 IN A 10.0.0.1"));
  assert_false(has_rr(iter_result(it)->answer, "router.corp.example. 300 IN A 203.0.113.1"));

  it = restart(f, "x.example.com.", LDNS_RR_TYPE_A);
  walk_to_example(it, "x.example.com.", LDNS_RR_TYPE_A, &a);
  respond(it, answer("x.example.com.", LDNS_RR_TYPE_A,
                     "x.example.com. 300 IN CNAME router.corp.example.", NULL), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  assert_true(has_rr(r->answer, "router.corp.example. 300 IN A 10.0.0.1"));
  assert_int_equal(r->source, CHAIN_SRC_NETWORK);
  assert_int_equal(iter_chain(it)->hops[0].step.source, CHAIN_SRC_NETWORK);
  assert_int_equal(iter_chain(it)->final.source, CHAIN_SRC_LOCAL);
}

/* Local CNAME loops and dangling local CNAMEs follow the chain rules. */
static void test_local_cname_loop_and_dangling(void **state) {
  struct fx *f = *state;
  static const char *const data[] = {"loop1.lan. 300 CNAME loop2.lan.",
                                     "loop2.lan. 300 CNAME loop1.lan.",
                                     "dang.corp.example. 300 CNAME nope.corp.example.", NULL};
  set_local(f, CORP_ZONES, data);
  iter_t *it = restart(f, "loop1.lan.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(iter_result(it)->chain_status, CHAIN_LOOP);
  assert_non_null(strstr(iter_result(it)->ede_text, "loop1.lan."));
  it = restart(f, "dang.corp.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NXDOMAIN);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_rr_type_owner(ldns_rr_list_rr(r->answer, 0), LDNS_RR_TYPE_CNAME, "dang.corp.example.");
  assert_int_equal(r->source, CHAIN_SRC_LOCAL);
}

/* An ALIAS to an ALIAS to local data; and a CNAME before an ALIAS stays. */
static void test_alias_chains(void **state) {
  struct fx *f = *state;
  static const char *const data[] = {
      "router.corp.example. 300 A 10.0.0.1",
      "a1.corp.example. 600 ALIAS a2.corp.example.",
      "a2.corp.example. 100 ALIAS router.corp.example.",
      "c.corp.example. 30 CNAME a1.corp.example.", NULL};
  set_local(f, CORP_ZONES, data);
  iter_t *it = restart(f, "a1.corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->source, CHAIN_SRC_LOCAL);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 1);
  assert_true(has_rr(r->answer, "a1.corp.example. 100 IN A 10.0.0.1"));
  assert_int_equal(ldns_rr_ttl(ldns_rr_list_rr(r->answer, 0)), 100);
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 2);
  assert_int_equal(ch->hops[0].kind, HOP_ALIAS);
  assert_int_equal(ch->hops[1].kind, HOP_ALIAS);

  it = restart(f, "c.corp.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  r = iter_result(it);
  assert_int_equal(ldns_rr_list_rr_count(r->answer), 2);
  const ldns_rr *c0 = ldns_rr_list_rr(r->answer, 0), *c1 = ldns_rr_list_rr(r->answer, 1);
  assert_rr_type_owner(c0, LDNS_RR_TYPE_CNAME, "c.corp.example.");
  assert_int_equal(ldns_rr_ttl(c0), 30);
  assert_rr_type_owner(c1, LDNS_RR_TYPE_A, "a1.corp.example.");
  assert_int_equal(ldns_rr_ttl(c1), 100); /* the CNAME before the ALIAS does not count */
}

/* The target's SERVFAIL is the answer's. */
static void test_alias_target_servfail(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "lb.example.com.", "example.com.");
  respond(it, mkpkt("lb.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_SERVFAIL, false), &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_SERVFAIL);
  assert_int_equal(r->ede, EDE_NO_REACHABLE_AUTHORITY);
  assert_false(r->dangling);
  assert_int_equal(r->answer ? ldns_rr_list_rr_count(r->answer) : 0, 0);
}

/* Review finding: an NXDOMAIN after a CNAME in the answer to a minimised
 * query speaks for the CNAME's target (RFC 6604), so even strict mode must
 * not conclude that nothing exists below the name asked. */
static void test_qmin_nxdomain_after_cname_is_not_a_cut(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_STRICT;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "a.b.example.com.", LDNS_RR_TYPE_TXT);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "b.example.com.", LDNS_RR_TYPE_A, "example.com.");
  ldns_pkt *p = mkpkt("b.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN, true);
  pkt_add(p, AN, "b.example.com. 300 IN CNAME gone.example.com.");
  pkt_add(p, NS, SOA_EXAMPLE);
  respond(it, p, &a);
  expect_send_t(&a, EXAMPLE1, "a.b.example.com.", LDNS_RR_TYPE_TXT, "example.com.");
}

/* Review finding: once a minimised answer brings a DNAME above the name,
 * the name is rewritten from the cache; no more queries below the owner. */
static void test_qmin_stops_under_a_dname(void **state) {
  struct fx *f = *state;
  f->cfg.qmin = QMIN_RELAXED;
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  cache_delegation(f, "example.net.", "ns1.example.net.", NET1, NULL, NULL);
  iter_t *it = restart(f, "a.b.old.example.com.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send_t(&a, EXAMPLE1, "old.example.com.", LDNS_RR_TYPE_A, "example.com.");
  ldns_pkt *p = mkpkt("old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, NS, SOA_EXAMPLE);
  respond(it, p, &a); /* old exists (NODATA for A) */
  expect_send_t(&a, EXAMPLE1, "b.old.example.com.", LDNS_RR_TYPE_A, "example.com.");
  p = mkpkt("b.old.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, true);
  pkt_add(p, AN, "old.example.com. 600 IN DNAME new.example.net.");
  pkt_add(p, AN, "b.old.example.com. 600 IN CNAME b.new.example.net.");
  respond(it, p, &a);
  /* The DNAME applies to a.b.old too: straight to example.net. */
  assert_int_equal(a.kind, IA_SEND);
  char z[256];
  assert_string_equal(rdf_text(a.zone, z, sizeof z), "example.net.");
  const chain_t *ch = iter_chain(it);
  assert_int_equal(ch->n, 1);
  assert_int_equal(ch->hops[0].kind, HOP_DNAME);
}

#define LABEL63 "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* Review finding: a flattened ALIAS whose target ends in YXDOMAIN (a DNAME
 * made it too long) leaves the owner without addresses: NODATA, not the
 * target's rcode. */
static void test_alias_target_yxdomain_is_nodata(void **state) {
  struct fx *f = *state;
  set_local(f, CORP_ZONES, CORP_DATA);
  cache_delegation(f, "example.com.", "ns1.example.com.", EXAMPLE1, NULL, NULL);
  iter_t *it = restart(f, "corp.example.", LDNS_RR_TYPE_A);
  struct iter_action a;
  iter_next(it, &a);
  expect_send(&a, EXAMPLE1, "lb.example.com.", "example.com.");
  respond(it, mkpkt("lb.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_YXDOMAIN, true), &a);
  /* (a YXDOMAIN without a DNAME is a server error: another try or the end) */
  while (a.kind == IA_SEND)
    respond(it, mkpkt("lb.example.com.", LDNS_RR_TYPE_A, LDNS_RCODE_YXDOMAIN, true), &a);
  assert_int_equal(a.kind, IA_DONE);
  assert_int_equal(iter_result(it)->rcode, LDNS_RCODE_SERVFAIL); /* passes through */

  /* A real YXDOMAIN: the cached DNAME makes the target longer than 255. */
  char big[300], line[400];
  snprintf(big, sizeof big, "%s.%s.%s.example.org.", LABEL63, LABEL63, LABEL63);
  snprintf(line, sizeof line, "x.example.com. 600 IN DNAME %s", big);
  ldns_rr_list *d = rrlist(line, NULL);
  cache_store_rrset(f->cache, d, CACHE_RANK_ANSWER, f->clock.now, NULL);
  ldns_rr_list_deep_free(d);
  set_local(f, (const char *const[]){"big.example. static", NULL},
            (const char *const[]){"big.example. 300 ALIAS aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
                                  "bbbbbbbbbbbbbbbbbbbb.x.example.com.", NULL});
  it = restart(f, "big.example.", LDNS_RR_TYPE_A);
  iter_next(it, &a);
  assert_int_equal(a.kind, IA_DONE);
  const struct iter_result *r = iter_result(it);
  assert_int_equal(r->rcode, LDNS_RCODE_NOERROR);
  assert_int_equal(r->ede, EDE_NONE);
  assert_int_equal(r->answer ? ldns_rr_list_rr_count(r->answer) : 0, 0);
  assert_non_null(r->authority); /* the local zone's SOA */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_referrals_to_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_network_answers_carry_kept_ttls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_second_lookup_from_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_glue_is_not_an_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nxdomain_and_negative_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nodata_cached_for_its_type_only, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cname_across_zones, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cname_chain_in_one_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cross_zone_loop, setup, teardown),
      cmocka_unit_test_setup_teardown(test_loop_inside_one_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_chain_length_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_all_servers_time_out, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_timeout_backs_off, setup, teardown),
      cmocka_unit_test_setup_teardown(test_zone_timeout_budget, setup3, teardown),
      cmocka_unit_test_setup_teardown(test_truncated_retries_over_tcp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_formerr_retries_without_edns, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_then_other_server, setup, teardown),
      cmocka_unit_test_setup_teardown(test_lame_and_io_error, setup, teardown),
      cmocka_unit_test_setup_teardown(test_failed_zone_does_not_relookup_known_ns, setup, teardown),
      cmocka_unit_test_setup_teardown(test_glueless_referral_sub_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_glueless_sub_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(test_glueless_first_address_wins, setup, teardown),
      cmocka_unit_test_setup_teardown(test_glueless_depth_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_referral_with_in_zone_ns_and_no_glue, setup, teardown),
      cmocka_unit_test_setup_teardown(test_upstream_budget_exhausted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_budget, setup, teardown),
      cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ipv6_only_uses_aaaa_hints, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fetch_on_memory_miss_then_network, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fetch_chain_in_two_round_trips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_network_chain_is_shared, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_off_sends_full_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_relaxed_sequence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_referral_restarts_at_apex, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_relaxed_fallback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_strict_nxdomain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_bound_on_deep_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_cached_names_stepped_over, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dname_from_network_then_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dname_cached_yxdomain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nxcut_yes_answers_below, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nxcut_dnssec_and_no_query, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_answer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_cname_to_internet, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alias_flattened, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alias_dangling_and_nodata, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prefetch_at_from_network, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prefetch_at_from_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prefetch_at_ignores_unused_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_refresh_mode, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cached_answer_expires_with_the_clock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_prefetch_window_opens_with_the_clock, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeout_penalty_lasts_a_minute_of_mono_time, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_hop_latency_from_mono_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trace_times_from_mono_time, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_strict_error_fails_over, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_relaxed_nxdomain_with_nxcut, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_relaxed_lame_fallback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dname_counts_toward_chain_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dname_network_yxdomain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_data_mid_chain_and_before_cache, setup, teardown),
      cmocka_unit_test_setup_teardown(test_local_cname_loop_and_dangling, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alias_chains, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alias_target_servfail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_qmin_nxdomain_after_cname_is_not_a_cut, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_qmin_stops_under_a_dname, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alias_target_yxdomain_is_nodata, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
