/*
 * The walk from a trust anchor to a zone's keys (resolver/dnssec/trust.c), over a
 * small signed tree made in the test with ldns: the root, com., example.com.
 * and a.b.example.com. signed (b.example.com. an empty non-terminal),
 * x.host.example.com. signed below a name NSEC3 shows is no delegation,
 * unsigned.com. delegated without DS. A fake driver answers each fetch from
 * a table and logs what was asked.
 */
#include "unit_helpers.h"

#include <time.h>

#include "dnssec_keys.h"
#include "resolver/dnssec/anchors.h"
#include "resolver/dnssec/dnssec.h"
#include "resolver/dnssec/trust.h"

#define NOW 1800000000 /* 2027-01-15 */
#define DAY 86400


/* RRSIGs by k over each RRset (owner, type) of list, valid inc..exp. */
static ldns_rr_list *sign(const ldns_rr_list *list, struct zkey *k, uint32_t inc, uint32_t exp) {
  ldns_key_set_inception(k->key, inc);
  ldns_key_set_expiration(k->key, exp);
  ldns_key_list *kl = ldns_key_list_new();
  ldns_key_list_push_key(kl, k->key);
  ldns_rr_list *all = ldns_rr_list_new();
  for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
    ldns_rr_list *one = ldns_rr_list_new();
    ldns_rr_list_push_rr(one, ldns_rr_list_rr(list, i));
    ldns_rr_list *s = ldns_sign_public(one, kl);
    assert_non_null(s);
    ldns_rr_list_push_rr_list(all, s);
    ldns_rr_list_free(s);
    ldns_rr_list_free(one);
  }
  ldns_key_list_set_key_count(kl, 0);
  ldns_key_list_free(kl);
  return all;
}

/* A DNSKEY RRset signed as one RRset (ldns_sign_public over the list). */
static ldns_rr_list *sign_set(const ldns_rr_list *set, struct zkey *k, uint32_t inc,
                              uint32_t exp) {
  ldns_key_set_inception(k->key, inc);
  ldns_key_set_expiration(k->key, exp);
  ldns_key_list *kl = ldns_key_list_new();
  ldns_key_list_push_key(kl, k->key);
  ldns_rr_list *s = ldns_sign_public((ldns_rr_list *)set, kl);
  assert_non_null(s);
  ldns_key_list_set_key_count(kl, 0);
  ldns_key_list_free(kl);
  return s;
}

static ldns_rr_list *keyset(uint32_t ttl, const struct zkey *a, const struct zkey *b) {
  ldns_rr_list *l = ldns_rr_list_new();
  ldns_rr *r = ldns_rr_clone(a->rr);
  ldns_rr_set_ttl(r, ttl);
  ldns_rr_list_push_rr(l, r);
  if (b) {
    r = ldns_rr_clone(b->rr);
    ldns_rr_set_ttl(r, ttl);
    ldns_rr_list_push_rr(l, r);
  }
  return l;
}

static ldns_rr_list *ds_of(uint32_t ttl, const struct zkey *k) {
  ldns_rr_list *l = ldns_rr_list_new();
  ldns_rr *d = ldns_key_rr2ds(k->rr, LDNS_SHA256);
  ldns_rr_set_ttl(d, ttl);
  ldns_rr_list_push_rr(l, d);
  return l;
}

/* ---- the tree and the fake driver ---------------------------------------- */

struct entry {
  ldns_rdf *name;
  ldns_rr_type type;
  ldns_rr_list *rrset, *sigs, *denial;
  bool fail;
  bool nxdomain; /* the fetch ends NXDOMAIN, with denial as its proof */
};

struct tree {
  struct zkey root_ksk, root_zsk, com_ksk, com_zsk, ex_ksk, ex_zsk, ab_ksk, xh_ksk;
  struct entry e[32];
  size_t n;
  trust_anchors_t *ta;
  char log[1024];
};

static struct entry *slot(struct tree *t, const char *name, ldns_rr_type type) {
  ldns_rdf *n = dn(name);
  for (size_t i = 0; i < t->n; i++) {
    if (t->e[i].type == type && ldns_dname_compare(t->e[i].name, n) == 0) {
      ldns_rdf_deep_free(n);
      struct entry *e = &t->e[i];
      ldns_rr_list_deep_free(e->rrset);
      ldns_rr_list_deep_free(e->sigs);
      ldns_rr_list_deep_free(e->denial);
      e->rrset = e->sigs = e->denial = NULL;
      e->fail = false;
      e->nxdomain = false;
      return e;
    }
  }
  assert_true(t->n < sizeof t->e / sizeof t->e[0]);
  struct entry *e = &t->e[t->n++];
  memset(e, 0, sizeof *e);
  e->name = n;
  e->type = type;
  return e;
}

static void slot_nx(struct tree *t, const char *name, ldns_rr_type type) {
  ldns_rdf *n = dn(name);
  for (size_t i = 0; i < t->n; i++)
    if (t->e[i].type == type && ldns_dname_compare(t->e[i].name, n) == 0)
      t->e[i].nxdomain = true;
  ldns_rdf_deep_free(n);
}

/* An answer: rrset (owned) signed by k, valid inc..exp. */
static void put(struct tree *t, const char *name, ldns_rr_type type, ldns_rr_list *rrset,
                struct zkey *k, uint32_t inc, uint32_t exp) {
  struct entry *e = slot(t, name, type);
  e->rrset = rrset;
  e->sigs = k ? sign_set(rrset, k, inc, exp) : NULL;
}

/* NODATA: nsecs (owned) signed by k. */
static void put_nodata(struct tree *t, const char *name, ldns_rr_type type, ldns_rr_list *nsecs,
                       struct zkey *k) {
  struct entry *e = slot(t, name, type);
  e->rrset = ldns_rr_list_new();
  e->denial = nsecs;
  e->sigs = k ? sign(nsecs, k, NOW - DAY, NOW + 30 * DAY) : NULL;
}

/* NXDOMAIN: nsecs (owned) signed by k. */
static void put_nxdomain(struct tree *t, const char *name, ldns_rr_type type,
                         ldns_rr_list *nsecs, struct zkey *k) {
  put_nodata(t, name, type, nsecs, k);
  slot_nx(t, name, type);
}

static void put_failure(struct tree *t, const char *name, ldns_rr_type type) {
  slot(t, name, type)->fail = true;
}

static void add_anchor(trust_anchors_t *ta, const ldns_rr *r) {
  char *s = ldns_rr2str(r);
  assert_non_null(s);
  s[strcspn(s, "\n")] = 0;
  assert_null(ta_add(ta, s));
  free(s);
}

/* The NSEC3 owner of name in zone (SHA-1, no salt, no extra iterations). */
static char *n3_owner(const char *name, const char *zone, char *buf, size_t len) {
  ldns_rdf *n = dn(name);
  ldns_rdf *h = ldns_nsec3_hash_name(n, 1, 0, 0, NULL);
  assert_non_null(h);
  char *hs = ldns_rdf2str(h);
  snprintf(buf, len, "%s%s", hs, zone); /* hs ends with its dot */
  free(hs);
  ldns_rdf_deep_free(h);
  ldns_rdf_deep_free(n);
  return buf;
}

#define SIGN_OK NOW - DAY, NOW + 30 * DAY

static int setup(void **state) {
  struct tree *t = calloc(1, sizeof *t);
  t->root_ksk = make_key(".", 257);
  t->root_zsk = make_key(".", 256);
  t->com_ksk = make_key("com.", 257);
  t->com_zsk = make_key("com.", 256);
  t->ex_ksk = make_key("example.com.", 257);
  t->ex_zsk = make_key("example.com.", 256);
  t->ab_ksk = make_key("a.b.example.com.", 257);
  t->xh_ksk = make_key("x.host.example.com.", 257);

  put(t, ".", LDNS_RR_TYPE_DNSKEY, keyset(172800, &t->root_ksk, &t->root_zsk), &t->root_ksk,
      SIGN_OK);
  put(t, "com.", LDNS_RR_TYPE_DS, ds_of(86400, &t->com_ksk), &t->root_zsk, SIGN_OK);
  put(t, "com.", LDNS_RR_TYPE_DNSKEY, keyset(2500, &t->com_ksk, &t->com_zsk), &t->com_ksk,
      SIGN_OK);
  put(t, "example.com.", LDNS_RR_TYPE_DS, ds_of(5000, &t->ex_ksk), &t->com_zsk, SIGN_OK);
  put(t, "example.com.", LDNS_RR_TYPE_DNSKEY, keyset(3600, &t->ex_ksk, &t->ex_zsk), &t->ex_ksk,
      SIGN_OK);
  /* A delegation without DS, proven by com.'s NSEC. */
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS,
             rrlist("unsigned.com. 900 IN NSEC zz.com. NS RRSIG NSEC", NULL), &t->com_zsk);
  /* b.example.com. is an empty non-terminal: the apex NSEC points below it. */
  put_nodata(t, "b.example.com.", LDNS_RR_TYPE_DS,
             rrlist("example.com. 2000 IN NSEC a.b.example.com. NS SOA RRSIG NSEC DNSKEY", NULL),
             &t->ex_zsk);
  put(t, "a.b.example.com.", LDNS_RR_TYPE_DS, ds_of(4000, &t->ab_ksk), &t->ex_zsk, SIGN_OK);
  put(t, "a.b.example.com.", LDNS_RR_TYPE_DNSKEY, keyset(6000, &t->ab_ksk, NULL), &t->ab_ksk,
      SIGN_OK);
  /* host.example.com. has an address and no NS (NSEC3); x.host below it is a
   * signed zone. */
  char owner[256], text[512];
  n3_owner("host.example.com.", "example.com.", owner, sizeof owner);
  snprintf(text, sizeof text,
           "%s 1800 IN NSEC3 1 0 0 - VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV A RRSIG", owner);
  put_nodata(t, "host.example.com.", LDNS_RR_TYPE_DS, rrlist(text, NULL), &t->ex_zsk);
  put(t, "x.host.example.com.", LDNS_RR_TYPE_DS, ds_of(4000, &t->xh_ksk), &t->ex_zsk, SIGN_OK);
  put(t, "x.host.example.com.", LDNS_RR_TYPE_DNSKEY, keyset(6000, &t->xh_ksk, NULL),
      &t->xh_ksk, SIGN_OK);
  /* www.example.com. exists without NS: no zone of its own. */
  put_nodata(t, "www.example.com.", LDNS_RR_TYPE_DS,
             rrlist("www.example.com. 1000 IN NSEC zzz.example.com. A RRSIG NSEC", NULL),
             &t->ex_zsk);

  t->ta = ta_new(false);
  ldns_rr_list *root_ds = ds_of(3600, &t->root_ksk);
  add_anchor(t->ta, ldns_rr_list_rr(root_ds, 0));
  ldns_rr_list_deep_free(root_ds);
  *state = t;
  return 0;
}

static int teardown(void **state) {
  struct tree *t = *state;
  for (size_t i = 0; i < t->n; i++) {
    ldns_rdf_deep_free(t->e[i].name);
    ldns_rr_list_deep_free(t->e[i].rrset);
    ldns_rr_list_deep_free(t->e[i].sigs);
    ldns_rr_list_deep_free(t->e[i].denial);
  }
  struct zkey *keys[] = {&t->root_ksk, &t->root_zsk, &t->com_ksk, &t->com_zsk,
                         &t->ex_ksk,   &t->ex_zsk,   &t->ab_ksk,  &t->xh_ksk};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) free_key(keys[i]);
  ta_free(t->ta);
  free(t);
  return 0;
}

/* Runs a walk to zone with anchors ta, answering from the table; the fetches
 * go to t->log as "TYPE name " each. */
static trust_walk_t *drive_walk(struct tree *t, trust_walk_t *w);

static trust_walk_t *walk_with(struct tree *t, const trust_anchors_t *ta, const char *zone,
                               time_t now) {
  ldns_rdf *z = dn(zone);
  trust_walk_t *w = trust_walk_new(ta, z, now);
  ldns_rdf_deep_free(z); /* the walk keeps its own copy */
  return drive_walk(t, w);
}

static trust_walk_t *drive_walk(struct tree *t, trust_walk_t *w) {
  assert_non_null(w);
  t->log[0] = 0;
  for (int guard = 0; guard < 64; guard++) {
    struct trust_action act;
    trust_next(w, &act);
    if (act.kind == TRUST_DONE) return w;
    assert_int_equal(act.kind, TRUST_FETCH);
    assert_true(act.qtype == LDNS_RR_TYPE_DS || act.qtype == LDNS_RR_TYPE_DNSKEY);
    char n[256];
    char *name = ldns_rdf2str(act.qname);
    snprintf(n, sizeof n, "%s %s ", act.qtype == LDNS_RR_TYPE_DS ? "DS" : "DNSKEY", name);
    free(name);
    strncat(t->log, n, sizeof t->log - strlen(t->log) - 1);
    struct entry *e = NULL;
    for (size_t i = 0; i < t->n; i++)
      if (t->e[i].type == act.qtype && ldns_dname_compare(t->e[i].name, act.qname) == 0)
        e = &t->e[i];
    if (!e || e->fail)
      trust_on_failure(w, "timeout");
    else if (e->nxdomain)
      trust_on_nxdomain(w, e->sigs, e->denial);
    else
      trust_on_answer(w, e->rrset, e->sigs, e->denial);
  }
  fail_msg("the walk did not end: %s", t->log);
  return NULL;
}

static trust_walk_t *walk(struct tree *t, const char *zone) {
  return walk_with(t, t->ta, zone, NOW);
}

static void assert_bogus(trust_walk_t *w, int ede, const char *zone) {
  const struct sec_result *r = trust_result(w);
  if (r->state != SEC_BOGUS || r->ede != ede)
    fail_msg("want bogus/%d, got %s/%d (%s)", ede, sec_state_name(r->state), r->ede, r->why);
  assert_null(trust_keys(w));
  assert_name(trust_zone(w), zone);
  assert_true(r->why[0] != 0);
}

static const ldns_rr_list *table(struct tree *t, const char *name, ldns_rr_type type) {
  ldns_rdf *n = dn(name);
  const ldns_rr_list *l = NULL;
  for (size_t i = 0; i < t->n; i++)
    if (t->e[i].type == type && ldns_dname_compare(t->e[i].name, n) == 0) l = t->e[i].rrset;
  ldns_rdf_deep_free(n);
  return l;
}

/* ---- the cases ----------------------------------------------------------- */

static void test_secure_walk(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, "example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. ");
  const struct sec_result *r = trust_result(w);
  assert_int_equal(r->state, SEC_SECURE);
  assert_int_equal(r->ede, -1);
  assert_int_equal(trust_fetches(w), 5);
  assert_name(trust_zone(w), "example.com.");
  const ldns_rr_list *keys = trust_keys(w);
  assert_non_null(keys);
  assert_int_equal(ldns_rr_list_compare(keys, table(t, "example.com.", LDNS_RR_TYPE_DNSKEY)), 0);
  assert_int_equal(trust_ttl(w), 2500); /* com.'s DNSKEY, the smallest on the way */
  /* Done stays done. */
  struct trust_action act;
  trust_next(w, &act);
  assert_int_equal(act.kind, TRUST_DONE);
  trust_walk_free(w);

  /* Names compare without case; the names asked are the walk's own. */
  w = walk(t, "EXAMPLE.Com.");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. ");
  trust_walk_free(w);
}

static void test_anchor_zone_only(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, ".");
  assert_string_equal(t->log, "DNSKEY . ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_int_equal(trust_fetches(w), 1);
  assert_int_equal(ldns_rr_list_compare(trust_keys(w), table(t, ".", LDNS_RR_TYPE_DNSKEY)), 0);
  assert_int_equal(trust_ttl(w), 172800);
  trust_walk_free(w);
}

static void test_insecure_delegation(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, "unsigned.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS unsigned.com. ");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_result(w)->ede, -1);
  assert_null(trust_keys(w));
  assert_name(trust_zone(w), "unsigned.com.");
  assert_int_equal(trust_fetches(w), 4);
  assert_int_equal(trust_ttl(w), 900); /* the NSEC proving it */
  trust_walk_free(w);

  /* A zone below it: insecure at the first unsigned zone, no further. */
  w = walk(t, "sub.unsigned.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS unsigned.com. ");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "unsigned.com.");
  trust_walk_free(w);
}

static void test_empty_non_terminal(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, "a.b.example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. "
                              "DS b.example.com. DS a.b.example.com. DNSKEY a.b.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_int_equal(trust_fetches(w), 8);
  assert_name(trust_zone(w), "a.b.example.com.");
  assert_int_equal(ldns_rr_list_compare(trust_keys(w),
                                        table(t, "a.b.example.com.", LDNS_RR_TYPE_DNSKEY)),
                   0);
  assert_int_equal(trust_ttl(w), 2000); /* the NSEC showing the ENT counts */
  trust_walk_free(w);
}

static void test_nsec3_not_a_delegation(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, "x.host.example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. "
                              "DS host.example.com. DS x.host.example.com. "
                              "DNSKEY x.host.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "x.host.example.com.");
  assert_int_equal(trust_ttl(w), 1800);
  trust_walk_free(w);

  /* The same NSEC3 with the NS bit: an insecure delegation at host. */
  char owner[256], text[512];
  n3_owner("host.example.com.", "example.com.", owner, sizeof owner);
  snprintf(text, sizeof text,
           "%s 1800 IN NSEC3 1 0 0 - VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV NS RRSIG", owner);
  put_nodata(t, "host.example.com.", LDNS_RR_TYPE_DS, rrlist(text, NULL), &t->ex_zsk);
  w = walk(t, "x.host.example.com.");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "host.example.com.");
  assert_int_equal(trust_fetches(w), 6);
  trust_walk_free(w);
}

/* NSEC3 at host.example.com.: an empty non-terminal (empty bitmap) is inside
 * the zone; a DNAME there is neither a delegation nor a name to walk past. */
static void test_nsec3_ent_and_dname(void **state) {
  struct tree *t = *state;
  char owner[256], text[512];
  n3_owner("host.example.com.", "example.com.", owner, sizeof owner);
  snprintf(text, sizeof text, "%s 1200 IN NSEC3 1 0 0 - VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV", owner);
  put_nodata(t, "host.example.com.", LDNS_RR_TYPE_DS, rrlist(text, NULL), &t->ex_zsk);
  trust_walk_t *w = walk(t, "x.host.example.com.");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "x.host.example.com.");
  assert_int_equal(trust_ttl(w), 1200);
  trust_walk_free(w);

  snprintf(text, sizeof text,
           "%s 1200 IN NSEC3 1 0 0 - VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV DNAME RRSIG", owner);
  put_nodata(t, "host.example.com.", LDNS_RR_TYPE_DS, rrlist(text, NULL), &t->ex_zsk);
  w = walk(t, "x.host.example.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "host.example.com.");
  assert_non_null(strstr(trust_result(w)->why, "DNAME"));
  trust_walk_free(w);
}

/* A name the parent shows is no zone (data signed by it, or unsigned data
 * owned there): the walk finds the zone that holds it, and that zone's keys
 * (the caller rejects a signature by the name itself). */
static void test_name_inside_a_zone(void **state) {
  struct tree *t = *state;
  trust_walk_t *w = walk(t, "www.example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. "
                              "DS www.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "example.com.");
  assert_int_equal(ldns_rr_list_compare(trust_keys(w),
                                        table(t, "example.com.", LDNS_RR_TYPE_DNSKEY)),
                   0);
  assert_int_equal(trust_fetches(w), 6);
  assert_int_equal(trust_ttl(w), 1000); /* the NSEC showing www has no NS */
  trust_walk_free(w);

  /* Below an empty non-terminal, a name that is no zone either. */
  w = walk(t, "b.example.com.");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "example.com.");
  trust_walk_free(w);
}

/* NXDOMAIN for a DS on the way: nothing at or below that name exists in
 * the zone, which therefore speaks for the target (so unsigned data there
 * is bogus, not insecure). An opt-out span may hide an unsigned delegation:
 * insecure. No proof: bogus. */
static void test_nxdomain_on_the_way(void **state) {
  struct tree *t = *state;
  put_nxdomain(t, "nope.example.com.", LDNS_RR_TYPE_DS,
               rrlist("example.com. 700 IN NSEC www.example.com. NS SOA RRSIG NSEC DNSKEY",
                      NULL),
               &t->ex_zsk);
  trust_walk_t *w = walk(t, "x.nope.example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. "
                              "DS nope.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "example.com.");
  assert_int_equal(trust_ttl(w), 700);
  trust_walk_free(w);

  /* The same NXDOMAIN proof signed by a key example.com. does not have. */
  struct zkey rogue = make_key("example.com.", 256);
  put_nxdomain(t, "nope.example.com.", LDNS_RR_TYPE_DS,
               rrlist("example.com. 700 IN NSEC www.example.com. NS SOA RRSIG NSEC DNSKEY",
                      NULL),
               &rogue);
  w = walk(t, "x.nope.example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "nope.example.com.");
  trust_walk_free(w);
  free_key(&rogue);

  /* An NSEC3 closest-encloser proof with an opt-out next closer name. */
  char apex[256], text[1024];
  n3_owner("example.com.", "example.com.", apex, sizeof apex);
  snprintf(text, sizeof text, "%s 600 IN NSEC3 1 1 0 - %s NS SOA RRSIG DNSKEY NSEC3PARAM", apex,
           "0000000000000000000000000000000V");
  ldns_rr_list *n3 = rrlist(text, NULL);
  /* One record covering everything after the apex's hash, wrapping round:
   * it covers the next closer name and the wildcard too. */
  char cover[1024];
  snprintf(cover, sizeof cover, "0000000000000000000000000000000v.example.com. 600 IN NSEC3 1 1 0 "
           "- %.32s", apex);
  ldns_rr *c = NULL;
  assert_int_equal(ldns_rr_new_frm_str(&c, cover, 0, NULL, NULL), LDNS_STATUS_OK);
  ldns_rr_list_push_rr(n3, c);
  put_nxdomain(t, "nope.example.com.", LDNS_RR_TYPE_DS, n3, &t->ex_zsk);
  w = walk(t, "x.nope.example.com.");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "nope.example.com.");
  trust_walk_free(w);

  /* No proof at all. */
  put_nxdomain(t, "nope.example.com.", LDNS_RR_TYPE_DS, ldns_rr_list_new(), NULL);
  w = walk(t, "nope.example.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "nope.example.com.");
  assert_non_null(strstr(trust_result(w)->why, "does not exist"));
  trust_walk_free(w);

  /* NXDOMAIN for a DNSKEY is a failure. */
  put_nxdomain(t, "example.com.", LDNS_RR_TYPE_DNSKEY, ldns_rr_list_new(), NULL);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "example.com.");
  trust_walk_free(w);
}

/* From keys already trusted (a key cache entry above the target): no
 * fetches above them, and the result lives no longer than they do. */
static void test_walk_from_known_keys(void **state) {
  struct tree *t = *state;
  ldns_rdf *target = dn("a.b.example.com."), *from = dn("example.com.");
  const ldns_rr_list *keys = table(t, "example.com.", LDNS_RR_TYPE_DNSKEY);
  trust_walk_t *w = drive_walk(t, trust_walk_new_from(t->ta, target, NOW, from, keys, 300));
  assert_string_equal(t->log, "DS b.example.com. DS a.b.example.com. DNSKEY a.b.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_name(trust_zone(w), "a.b.example.com.");
  assert_int_equal(trust_fetches(w), 3);
  assert_int_equal(trust_ttl(w), 300); /* the known keys' time left */
  trust_walk_free(w);

  /* A start that is no shortcut (not above the target): from the anchor. */
  ldns_rdf *other = dn("unsigned.com.");
  w = drive_walk(t, trust_walk_new_from(t->ta, target, NOW, other, keys, 300));
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. DNSKEY example.com. "
                              "DS b.example.com. DS a.b.example.com. DNSKEY a.b.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  trust_walk_free(w);

  /* Above an anchor closer to the target: from that anchor. */
  ldns_rr_list *ab = ds_of(3600, &t->ab_ksk);
  add_anchor(t->ta, ldns_rr_list_rr(ab, 0));
  ldns_rr_list_deep_free(ab);
  w = drive_walk(t, trust_walk_new_from(t->ta, target, NOW, from, keys, 300));
  assert_string_equal(t->log, "DNSKEY a.b.example.com. ");
  trust_walk_free(w);
  ldns_rdf_deep_free(target);
  ldns_rdf_deep_free(from);
  ldns_rdf_deep_free(other);
}

static void test_ds_matches_no_key(void **state) {
  struct tree *t = *state;
  struct zkey gone = make_key("example.com.", 257);
  put(t, "example.com.", LDNS_RR_TYPE_DS, ds_of(5000, &gone), &t->com_zsk, SIGN_OK);
  trust_walk_t *w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "example.com.");
  assert_non_null(strstr(trust_result(w)->why, "example.com."));
  assert_int_equal(trust_fetches(w), 5);
  trust_walk_free(w);
  free_key(&gone);
}

static void test_expired_dnskey_sig(void **state) {
  struct tree *t = *state;
  put(t, "example.com.", LDNS_RR_TYPE_DNSKEY, keyset(3600, &t->ex_ksk, &t->ex_zsk), &t->ex_ksk,
      NOW - 3 * DAY, NOW - DAY);
  trust_walk_t *w = walk(t, "example.com.");
  assert_bogus(w, EDE_SIGNATURE_EXPIRED, "example.com.");
  assert_non_null(strstr(trust_result(w)->why, "expired"));
  trust_walk_free(w);

  /* Not yet valid, at the anchor. */
  put(t, ".", LDNS_RR_TYPE_DNSKEY, keyset(172800, &t->root_ksk, &t->root_zsk), &t->root_ksk,
      NOW + DAY, NOW + 3 * DAY);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_SIGNATURE_NOT_YET_VALID, ".");
  assert_int_equal(trust_fetches(w), 1);
  trust_walk_free(w);
}

static void test_ds_unsigned(void **state) {
  struct tree *t = *state;
  put(t, "example.com.", LDNS_RR_TYPE_DS, ds_of(5000, &t->ex_ksk), NULL, 0, 0);
  trust_walk_t *w = walk(t, "example.com.");
  assert_bogus(w, EDE_RRSIGS_MISSING, "example.com.");
  assert_int_equal(trust_fetches(w), 4); /* no DNSKEY fetch after a bad DS */
  trust_walk_free(w);

  /* Signed by a key com. does not have. */
  struct zkey rogue = make_key("com.", 256);
  put(t, "example.com.", LDNS_RR_TYPE_DS, ds_of(5000, &t->ex_ksk), &rogue, SIGN_OK);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "example.com.");
  trust_walk_free(w);
  free_key(&rogue);
}

static void test_nodata_without_proof(void **state) {
  struct tree *t = *state;
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS, ldns_rr_list_new(), NULL);
  trust_walk_t *w = walk(t, "unsigned.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "unsigned.com.");
  const char *why = trust_result(w)->why;
  assert_non_null(strstr(why, "zone com."));
  assert_non_null(strstr(why, "unsigned.com."));
  trust_walk_free(w);

  /* An NSEC that does not speak for the name. */
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS,
             rrlist("other.com. 900 IN NSEC p.com. NS RRSIG NSEC", NULL), &t->com_zsk);
  w = walk(t, "unsigned.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "unsigned.com.");
  trust_walk_free(w);

  /* The right NSEC, with no signature: its failure is the reason. */
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS,
             rrlist("unsigned.com. 900 IN NSEC zz.com. NS RRSIG NSEC", NULL), NULL);
  w = walk(t, "unsigned.com.");
  assert_bogus(w, EDE_RRSIGS_MISSING, "unsigned.com.");
  trust_walk_free(w);

  /* Signed by a key com. does not have. */
  struct zkey rogue = make_key("com.", 256);
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS,
             rrlist("unsigned.com. 900 IN NSEC zz.com. NS RRSIG NSEC", NULL), &rogue);
  w = walk(t, "unsigned.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "unsigned.com.");
  trust_walk_free(w);
  free_key(&rogue);

  /* An NSEC at the name with no NS is no delegation; with SOA it is the
   * child's apex, which cannot deny the parent-side DS. */
  put_nodata(t, "unsigned.com.", LDNS_RR_TYPE_DS,
             rrlist("unsigned.com. 900 IN NSEC zz.com. NS SOA RRSIG NSEC DNSKEY", NULL),
             &t->com_zsk);
  w = walk(t, "unsigned.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "unsigned.com.");
  trust_walk_free(w);
}

static void test_fetch_failures(void **state) {
  struct tree *t = *state;
  put_failure(t, "com.", LDNS_RR_TYPE_DNSKEY);
  trust_walk_t *w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "com.");
  assert_non_null(strstr(trust_result(w)->why, "timeout"));
  assert_non_null(strstr(trust_result(w)->why, "com./DNSKEY"));
  assert_int_equal(trust_fetches(w), 3);
  trust_walk_free(w);

  put_failure(t, "example.com.", LDNS_RR_TYPE_DS);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, "com."); /* com.'s DNSKEY still fails first */
  trust_walk_free(w);
  put(t, "com.", LDNS_RR_TYPE_DNSKEY, keyset(2500, &t->com_ksk, &t->com_zsk), &t->com_ksk,
      SIGN_OK);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSSEC_BOGUS, "example.com.");
  assert_non_null(strstr(trust_result(w)->why, "example.com./DS"));
  assert_non_null(strstr(trust_result(w)->why, "timeout"));
  trust_walk_free(w);

  /* The anchor's own keys. */
  put_failure(t, ".", LDNS_RR_TYPE_DNSKEY);
  w = walk(t, "example.com.");
  assert_bogus(w, EDE_DNSKEY_MISSING, ".");
  assert_int_equal(trust_fetches(w), 1);
  trust_walk_free(w);
}

static void test_negative_anchor(void **state) {
  struct tree *t = *state;
  assert_null(ta_add_negative(t->ta, "com."));
  ldns_rdf *z = dn("example.com.");
  trust_walk_t *w = trust_walk_new(t->ta, z, NOW);
  ldns_rdf_deep_free(z);
  struct trust_action act;
  trust_next(w, &act);
  assert_int_equal(act.kind, TRUST_DONE);
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_fetches(w), 0);
  assert_null(trust_keys(w));
  trust_walk_free(w);
  /* Not outside it. */
  w = walk(t, ".");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  trust_walk_free(w);
}

static void test_no_anchor(void **state) {
  struct tree *t = *state;
  trust_anchors_t *none = ta_new(false);
  trust_walk_t *w = walk_with(t, none, "example.com.", NOW);
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_fetches(w), 0);
  assert_string_equal(t->log, "");
  trust_walk_free(w);
  /* An anchor elsewhere does not count. */
  assert_null(ta_add(none, "org. IN DS 1 13 2 "
                           "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"));
  w = walk_with(t, none, "example.com.", NOW);
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_fetches(w), 0);
  trust_walk_free(w);
  ta_free(none);
}

static void test_anchor_forms(void **state) {
  struct tree *t = *state;
  /* The root's KSK as a DNSKEY line. */
  trust_anchors_t *keys = ta_new(false);
  add_anchor(keys, t->root_ksk.rr);
  trust_walk_t *w = walk_with(t, keys, "example.com.", NOW);
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_int_equal(trust_fetches(w), 5);
  trust_walk_free(w);
  /* The root's ZSK alone does not sign the DNSKEY RRset. */
  trust_anchors_t *zsk = ta_new(false);
  add_anchor(zsk, t->root_zsk.rr);
  w = walk_with(t, zsk, "example.com.", NOW);
  assert_bogus(w, EDE_RRSIGS_MISSING, "."); /* the key is there, its RRSIG is not */
  trust_walk_free(w);

  /* An anchor at example.com.: the walk starts there. */
  trust_anchors_t *ex = ta_new(false);
  ldns_rr_list *ds = ds_of(3600, &t->ex_ksk);
  add_anchor(ex, ldns_rr_list_rr(ds, 0));
  ldns_rr_list_deep_free(ds);
  w = walk_with(t, ex, "a.b.example.com.", NOW);
  assert_string_equal(t->log, "DNSKEY example.com. DS b.example.com. DS a.b.example.com. "
                              "DNSKEY a.b.example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  trust_walk_free(w);
  /* Above the anchor, nothing is trusted. */
  w = walk_with(t, ex, "com.", NOW);
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_fetches(w), 0);
  trust_walk_free(w);
  ta_free(ex);
  ta_free(zsk);
  ta_free(keys);
}

static void test_unsupported_ds(void **state) {
  struct tree *t = *state;
  put(t, "example.com.", LDNS_RR_TYPE_DS,
      rrlist("example.com. 5000 IN DS 12345 200 2 "
             "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
             "example.com. 5000 IN DS 12345 13 99 "
             "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
             NULL),
      &t->com_zsk, SIGN_OK);
  trust_walk_t *w = walk(t, "example.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS example.com. ");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "example.com.");
  assert_null(trust_keys(w));
  trust_walk_free(w);

  /* One usable DS among them is enough to go on. */
  ldns_rr_list *mixed = rrlist("example.com. 5000 IN DS 12345 200 2 "
                               "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
                               NULL);
  ldns_rr_list *good = ds_of(5000, &t->ex_ksk);
  ldns_rr_list_push_rr(mixed, ldns_rr_clone(ldns_rr_list_rr(good, 0)));
  ldns_rr_list_deep_free(good);
  put(t, "example.com.", LDNS_RR_TYPE_DS, mixed, &t->com_zsk, SIGN_OK);
  w = walk(t, "example.com.");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  trust_walk_free(w);
}

static void test_ttl_capped_by_signatures(void **state) {
  struct tree *t = *state;
  put(t, "example.com.", LDNS_RR_TYPE_DNSKEY, keyset(3600, &t->ex_ksk, &t->ex_zsk), &t->ex_ksk,
      NOW - DAY, NOW + 1000);
  trust_walk_t *w = walk(t, "example.com.");
  assert_int_equal(trust_result(w)->state, SEC_SECURE);
  assert_int_equal(trust_ttl(w), 1000);
  trust_walk_free(w);
  /* An expiring DS signature counts too. */
  put(t, "example.com.", LDNS_RR_TYPE_DS, ds_of(5000, &t->ex_ksk), &t->com_zsk, NOW - DAY,
      NOW + 700);
  w = walk(t, "example.com.");
  assert_int_equal(trust_ttl(w), 700);
  trust_walk_free(w);
  /* And the NSEC's of an insecure delegation. */
  struct entry *e = slot(t, "unsigned.com.", LDNS_RR_TYPE_DS);
  e->rrset = ldns_rr_list_new();
  e->denial = rrlist("unsigned.com. 900 IN NSEC zz.com. NS RRSIG NSEC", NULL);
  e->sigs = sign(e->denial, &t->com_zsk, NOW - DAY, NOW + 300);
  w = walk(t, "unsigned.com.");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_int_equal(trust_ttl(w), 300);
  trust_walk_free(w);
}

/* base32hex text of a hash, stepped by +1 or -1 (no wrap: the test's
 * hashes are nowhere near the ends). */
static void b32_step(char *h, int by) {
  static const char digits[] = "0123456789abcdefghijklmnopqrstuv";
  for (size_t i = strlen(h); i-- > 0;) {
    int v = (int)(strchr(digits, h[i] | 0x20) - digits) + by;
    h[i] = digits[(v + 32) % 32];
    if (v >= 0 && v < 32) return;
  }
}

static void hash_text(const char *name, char *out) {
  ldns_rdf *n = dn(name);
  ldns_rdf *h = ldns_nsec3_hash_name(n, 1, 0, 0, NULL);
  assert_non_null(h);
  assert_int_equal(ldns_rdf_data(h)[0], 32);
  memcpy(out, ldns_rdf_data(h) + 1, 32);
  out[32] = 0;
  ldns_rdf_deep_free(h);
  ldns_rdf_deep_free(n);
}

/* com. signed with NSEC3: an opt-out span over optout.com.'s hash makes it
 * insecure; too many iterations make it insecure without a proof. */
static void test_nsec3_optout_and_iterations(void **state) {
  struct tree *t = *state;
  char hc[33], ho[33], apex_next[33], lo[33], hi[33], a[256], b[256];
  hash_text("com.", hc);
  hash_text("optout.com.", ho);
  strcpy(apex_next, hc);
  b32_step(apex_next, 1); /* the apex record covers nothing */
  strcpy(lo, ho);
  b32_step(lo, -1);
  strcpy(hi, ho);
  b32_step(hi, 1);
  snprintf(a, sizeof a, "%s.com. 600 IN NSEC3 1 0 0 - %s NS SOA RRSIG DNSKEY NSEC3PARAM", hc,
           apex_next);
  snprintf(b, sizeof b, "%s.com. 600 IN NSEC3 1 1 0 - %s NS DS RRSIG", lo, hi);
  put_nodata(t, "optout.com.", LDNS_RR_TYPE_DS, rrlist(a, b, NULL), &t->com_zsk);
  trust_walk_t *w = walk(t, "www.optout.com.");
  assert_string_equal(t->log, "DNSKEY . DS com. DNSKEY com. DS optout.com. ");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "optout.com.");
  assert_int_equal(trust_ttl(w), 600);
  trust_walk_free(w);

  /* Without the opt-out flag the span proves nothing: bogus. */
  snprintf(b, sizeof b, "%s.com. 600 IN NSEC3 1 0 0 - %s NS DS RRSIG", lo, hi);
  put_nodata(t, "optout.com.", LDNS_RR_TYPE_DS, rrlist(a, b, NULL), &t->com_zsk);
  w = walk(t, "optout.com.");
  assert_bogus(w, EDE_NSEC_MISSING, "optout.com.");
  trust_walk_free(w);

  /* RFC 9276: past the iteration limit, insecure. */
  snprintf(a, sizeof a, "%s.com. 600 IN NSEC3 1 0 200 - %s NS SOA RRSIG DNSKEY NSEC3PARAM", hc,
           apex_next);
  put_nodata(t, "optout.com.", LDNS_RR_TYPE_DS, rrlist(a, NULL), &t->com_zsk);
  w = walk(t, "optout.com.");
  assert_int_equal(trust_result(w)->state, SEC_INSECURE);
  assert_name(trust_zone(w), "optout.com.");
  trust_walk_free(w);
}

/* A driver that asks again before answering gets the same fetch, counted
 * once; answers nobody asked for change nothing. */
static void test_driver_misuse(void **state) {
  struct tree *t = *state;
  ldns_rdf *z = dn("com.");
  trust_walk_t *w = trust_walk_new(t->ta, z, NOW);
  ldns_rdf_deep_free(z);
  struct trust_action a, b;
  trust_next(w, &a);
  trust_next(w, &b);
  assert_int_equal(a.kind, TRUST_FETCH);
  assert_int_equal(b.qtype, LDNS_RR_TYPE_DNSKEY);
  assert_name(b.qname, ".");
  assert_int_equal(trust_fetches(w), 1);
  const ldns_rr_list *root = table(t, ".", LDNS_RR_TYPE_DNSKEY);
  ldns_rr_list *sigs = NULL;
  for (size_t i = 0; i < t->n; i++)
    if (t->e[i].type == LDNS_RR_TYPE_DNSKEY && ldns_dname_label_count(t->e[i].name) == 0)
      sigs = t->e[i].sigs;
  trust_on_answer(w, root, sigs, NULL);
  trust_on_answer(w, root, sigs, NULL); /* not asked: ignored */
  trust_next(w, &a);
  assert_int_equal(a.kind, TRUST_FETCH);
  assert_int_equal(a.qtype, LDNS_RR_TYPE_DS);
  assert_name(a.qname, "com.");
  trust_on_failure(w, "refused");
  assert_int_equal(trust_result(w)->state, SEC_BOGUS);
  assert_int_equal(trust_result(w)->ede, EDE_DNSSEC_BOGUS);
  trust_next(w, &a);
  assert_int_equal(a.kind, TRUST_DONE);
  assert_int_equal(trust_fetches(w), 2);
  trust_walk_free(w);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_secure_walk),          T(test_anchor_zone_only),
      T(test_insecure_delegation),  T(test_empty_non_terminal),
      T(test_nsec3_not_a_delegation), T(test_name_inside_a_zone), T(test_nxdomain_on_the_way),
      T(test_walk_from_known_keys),
      T(test_ds_matches_no_key),    T(test_expired_dnskey_sig),
      T(test_ds_unsigned),          T(test_nodata_without_proof),
      T(test_fetch_failures),       T(test_negative_anchor),
      T(test_no_anchor),            T(test_anchor_forms),
      T(test_unsupported_ds),       T(test_ttl_capped_by_signatures),
      T(test_nsec3_optout_and_iterations), T(test_driver_misuse),
      T(test_nsec3_ent_and_dname),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
