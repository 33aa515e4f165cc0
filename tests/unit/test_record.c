/* Unit tests for cache/record.c: shared-tier keys, value encoding, the HMAC,
 * and the checks that keep garbage and misplaced data out of the cache. */
#include "unit_helpers.h"

#include "cache/cache.h"
#include "cache/record.h"
#include "resolver/lib/name.h"

#define NOW 1700000000

/* Canonical wire form of a name (static buffer per call site). */
static size_t owner_of(const char *text, uint8_t *buf) {
  ldns_rdf *n = dn(text);
  size_t len = name_key(n, buf);
  ldns_rdf_deep_free(n);
  return len;
}

static uint8_t *rrs_wire(size_t *len, const char *first, ...) {
  ldns_buffer *b = ldns_buffer_new(512);
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *)) {
    ldns_rr *r = rr(s);
    assert_int_equal(ldns_rr2buffer_wire(b, r, LDNS_SECTION_ANSWER), LDNS_STATUS_OK);
    ldns_rr_free(r);
  }
  va_end(ap);
  *len = ldns_buffer_position(b);
  uint8_t *out = ldns_buffer_export(b);
  ldns_buffer_free(b);
  return out;
}

static void test_keys(void **state) {
  (void)state;
  uint8_t o[256];
  char k[RECORD_KEY_MAX];
  size_t n = owner_of("WWW.Example.COM.", o);
  record_key("fleet", o, n, LDNS_RR_TYPE_A, RECORD_RRSET, k, sizeof k);
  assert_string_equal(k, "fleet:v2:rr:www.example.com.:A");
  record_key("fleet", o, n, LDNS_RR_TYPE_AAAA, RECORD_NODATA, k, sizeof k);
  assert_string_equal(k, "fleet:v2:rr:www.example.com.:AAAA"); /* same key as the RRset */
  record_key("fleet", o, n, 0, RECORD_NXDOMAIN, k, sizeof k);
  assert_string_equal(k, "fleet:v2:rr:www.example.com.:NXDOMAIN");
  record_key("fleet", o, n, 0, RECORD_CHAIN, k, sizeof k);
  assert_string_equal(k, "fleet:v2:chain:www.example.com.");
  record_key("p", o, n, 65534, RECORD_RRSET, k, sizeof k);
  assert_string_equal(k, "p:v2:rr:www.example.com.:TYPE65534");
  n = owner_of(".", o);
  record_key("p", o, n, LDNS_RR_TYPE_NS, RECORD_RRSET, k, sizeof k);
  assert_string_equal(k, "p:v2:rr:.:NS");
  /* Bytes outside [a-z0-9-_] are escaped, so keys stay unambiguous. */
  const uint8_t odd[] = {3, 'a', '.', ' ', 3, 'c', ':', 'd', 0};
  record_key("p", odd, sizeof odd, LDNS_RR_TYPE_A, RECORD_RRSET, k, sizeof k);
  assert_string_equal(k, "p:v2:rr:a\\046\\032.c\\058d.:A");
  assert_int_equal(record_key("p", odd, sizeof odd, 1, RECORD_RRSET, k, 10), 0);
}

/* A valid RRset record for www.example.com A, encoded under key. */
struct fixture {
  uint8_t owner[256];
  size_t owner_len;
  uint8_t *payload;
  size_t plen;
  struct cache_record rec;
  char key[RECORD_KEY_MAX];
  size_t klen;
};

static void make_fixture(struct fixture *f) {
  f->owner_len = owner_of("www.example.com.", f->owner);
  f->payload = rrs_wire(&f->plen, "www.example.com. 300 IN A 192.0.2.1",
                        "www.example.com. 300 IN A 192.0.2.2", NULL);
  f->rec = (struct cache_record){f->owner, f->owner_len, LDNS_RR_TYPE_A, RECORD_RRSET, 3,
                                 NOW + 300, 300, f->payload, f->plen, 0};
  f->klen = record_key("t", f->owner, f->owner_len, LDNS_RR_TYPE_A, RECORD_RRSET, f->key,
                       sizeof f->key);
}

static struct record_secret secret_of(const char *s) {
  struct record_secret sec = {.len = strlen(s)};
  memcpy(sec.key, s, sec.len);
  return sec;
}

static void test_round_trip(void **state) {
  (void)state;
  struct fixture f;
  make_fixture(&f);
  struct record_secret none = {.len = 0}, sec = secret_of("0123456789abcdef-secret");
  for (int signed_ = 0; signed_ < 2; signed_++) {
    const struct record_secret *s = signed_ ? &sec : &none;
    size_t vlen;
    uint8_t *v = record_encode(&f.rec, f.key, f.klen, s, &vlen);
    assert_int_equal(vlen, RECORD_HEADER_LEN + f.plen + (signed_ ? RECORD_MAC_LEN : 0));
    struct cache_record out = {.owner = f.owner, .owner_len = f.owner_len, .type = 1};
    assert_int_equal(record_decode(v, vlen, f.key, f.klen, s, NOW, &out), RECORD_OK);
    assert_int_equal(out.kind, RECORD_RRSET);
    assert_int_equal(out.rank, 3);
    assert_int_equal(out.expiry, NOW + 300);
    assert_int_equal(out.ttl, 300);
    assert_int_equal(out.payload_len, f.plen);
    assert_memory_equal(out.payload, f.payload, f.plen);
    assert_int_equal(record_check_payload(&out, 16), RECORD_OK);
    /* A reader without the secret still reads a signed value. */
    assert_int_equal(record_decode(v, vlen, f.key, f.klen, &none, NOW, &out), RECORD_OK);
    free(v);
  }
  free(f.payload);
}

static void test_mac(void **state) {
  (void)state;
  struct fixture f;
  make_fixture(&f);
  struct record_secret sec = secret_of("0123456789abcdef-secret");
  struct record_secret other = secret_of("0123456789abcdef-other!");
  struct cache_record out;
  size_t vlen, ulen;
  uint8_t *v = record_encode(&f.rec, f.key, f.klen, &sec, &vlen);
  uint8_t *unsigned_v = record_encode(&f.rec, f.key, f.klen, NULL, &ulen);
  assert_int_equal(record_decode(unsigned_v, ulen, f.key, f.klen, &sec, NOW, &out),
                   RECORD_BAD_MAC);
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, &other, NOW, &out), RECORD_BAD_MAC);
  /* The MAC covers the key: the same value under another name is refused. */
  const char *moved = "t:v2:rr:bank.example.com.:A";
  assert_int_equal(record_decode(v, vlen, moved, strlen(moved), &sec, NOW, &out),
                   RECORD_BAD_MAC);
  /* And every byte: flip each one in turn. */
  for (size_t i = 0; i < vlen; i++) {
    v[i] ^= 0x01;
    enum record_error e = record_decode(v, vlen, f.key, f.klen, &sec, NOW, &out);
    if (e == RECORD_OK) fail_msg("a flipped byte %zu was accepted", i);
    v[i] ^= 0x01;
  }
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, &sec, NOW, &out), RECORD_OK);
  assert_int_equal(out.sec, 0);
  /* The security state travels in the flags, under the MAC: an attacker
   * who can write to Redis cannot turn indeterminate data secure. */
  free(v);
  f.rec.sec = 2;
  v = record_encode(&f.rec, f.key, f.klen, &sec, &vlen);
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, &sec, NOW, &out), RECORD_OK);
  assert_int_equal(out.sec, 2);
  v[5] &= (uint8_t)~0x06; /* state bits cleared... */
  v[5] |= 0x02;           /* ...and set to insecure */
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, &sec, NOW, &out), RECORD_BAD_MAC);
  free(v);
  /* State 3 would be bogus, which nobody stores or serves: garbage, with or
   * without a secret. */
  uint8_t *bogus = record_encode(&f.rec, f.key, f.klen, NULL, &vlen);
  bogus[5] |= 0x06;
  assert_int_equal(record_decode(bogus, vlen, f.key, f.klen, NULL, NOW, &out), RECORD_GARBAGE);
  free(bogus);
  /* The memory tier's "unchecked" (a value that came without a secret) is
   * never written out as a state: it goes as indeterminate. */
  f.rec.sec = CACHE_SEC_UNCHECKED;
  v = record_encode(&f.rec, f.key, f.klen, NULL, &vlen);
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, NULL, NOW, &out), RECORD_OK);
  assert_int_equal(out.sec, CACHE_SEC_INDETERMINATE);
  free(v);
  free(unsigned_v);
  free(f.payload);
}

static void test_garbage(void **state) {
  (void)state;
  struct fixture f;
  make_fixture(&f);
  struct cache_record out;
  size_t vlen;
  uint8_t *v = record_encode(&f.rec, f.key, f.klen, NULL, &vlen);
  /* Every truncation, and one byte too many. */
  for (size_t n = 0; n < vlen; n++)
    assert_int_equal(record_decode(v, n, f.key, f.klen, NULL, NOW, &out), RECORD_GARBAGE);
  uint8_t *longer = malloc(vlen + 1);
  memcpy(longer, v, vlen);
  longer[vlen] = 0;
  assert_int_equal(record_decode(longer, vlen + 1, f.key, f.klen, NULL, NOW, &out),
                   RECORD_GARBAGE);
  free(longer);
  static const struct { size_t off; uint8_t val; } bad[] = {
      {0, 'X'}, {2, 1}, {2, 3}, {3, 0}, {3, 6}, {4, 0}, {4, 255}, {5, 8}, {18, 0xff}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint8_t saved = v[bad[i].off];
    v[bad[i].off] = bad[i].val;
    assert_int_equal(record_decode(v, vlen, f.key, f.klen, NULL, NOW, &out), RECORD_GARBAGE);
    v[bad[i].off] = saved;
  }
  /* Expired at the second it expires. */
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, NULL, NOW + 300, &out),
                   RECORD_EXPIRED);
  assert_int_equal(record_decode(v, vlen, f.key, f.klen, NULL, NOW + 299, &out), RECORD_OK);
  free(v);
  free(f.payload);
}

static enum record_error check(const char *owner, uint16_t type, uint8_t kind,
                               const uint8_t *payload, size_t plen) {
  uint8_t o[256];
  struct cache_record rec = {.owner = o, .owner_len = owner_of(owner, o), .type = type,
                             .kind = kind, .payload = payload, .payload_len = plen};
  return record_check_payload(&rec, 3);
}

static void test_payload_checks(void **state) {
  (void)state;
  size_t n;
  uint8_t *p = rrs_wire(&n, "WWW.example.com. 300 IN A 192.0.2.1", NULL);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n), RECORD_OK);
  assert_int_equal(check("bank.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n),
                   RECORD_WRONG_OWNER);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_AAAA, RECORD_RRSET, p, n),
                   RECORD_WRONG_OWNER);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n - 1),
                   RECORD_GARBAGE);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, 0),
                   RECORD_GARBAGE);
  free(p);
  p = rrs_wire(&n, "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60", NULL);
  assert_int_equal(check("nx.example.com.", 0, RECORD_NXDOMAIN, p, n), RECORD_OK);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_AAAA, RECORD_NODATA, p, n),
                   RECORD_OK);
  assert_int_equal(check("nx.example.net.", 0, RECORD_NXDOMAIN, p, n), RECORD_WRONG_OWNER);
  free(p);
  p = rrs_wire(&n, "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60",
               "example.com. 300 IN SOA ns1.example.com. h.example.com. 2 2 3 4 60", NULL);
  assert_int_equal(check("nx.example.com.", 0, RECORD_NXDOMAIN, p, n), RECORD_WRONG_OWNER);
  free(p);
  /* DNSSEC material: an RRset's own RRSIGs after it; a negative entry's
   * proof (NSEC/NSEC3 and RRSIGs inside the SOA's zone) after its SOA. */
  const char *sig_a = "www.example.com. 300 IN RRSIG A 13 3 300 20300101000000 "
                      "20200101000000 12345 example.com. AAAA";
  p = rrs_wire(&n, "www.example.com. 300 IN A 192.0.2.1", sig_a, NULL);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n), RECORD_OK);
  free(p);
  p = rrs_wire(&n, sig_a, "www.example.com. 300 IN A 192.0.2.1", NULL);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n),
                   RECORD_WRONG_OWNER); /* data after its signatures */
  free(p);
  p = rrs_wire(&n, "www.example.com. 300 IN A 192.0.2.1",
               "www.example.com. 300 IN RRSIG MX 13 3 300 20300101000000 20200101000000 "
               "12345 example.com. AAAA", NULL);
  assert_int_equal(check("www.example.com.", LDNS_RR_TYPE_A, RECORD_RRSET, p, n),
                   RECORD_WRONG_OWNER); /* a signature of something else */
  free(p);
  p = rrs_wire(&n, "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60",
               "a.example.com. 60 IN NSEC z.example.com. A RRSIG NSEC",
               "a.example.com. 60 IN RRSIG NSEC 13 3 60 20300101000000 20200101000000 "
               "12345 example.com. AAAA", NULL);
  assert_int_equal(check("nx.example.com.", 0, RECORD_NXDOMAIN, p, n), RECORD_OK);
  free(p);
  p = rrs_wire(&n, "example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 60",
               "a.example.net. 60 IN NSEC z.example.net. A RRSIG NSEC", NULL);
  assert_int_equal(check("nx.example.com.", 0, RECORD_NXDOMAIN, p, n), RECORD_WRONG_OWNER);
  free(p);
  p = rrs_wire(&n, "nx.example.com. 300 IN A 192.0.2.1", NULL);
  assert_int_equal(check("nx.example.com.", 0, RECORD_NXDOMAIN, p, n), RECORD_WRONG_OWNER);
  free(p);
  /* Chains: well-formed names, at most max_names (3 here). */
  const uint8_t chain[] = {1, 'b', 0, 1, 'c', 3, 'n', 'e', 't', 0};
  assert_int_equal(check("a.", 0, RECORD_CHAIN, chain, sizeof chain), RECORD_OK);
  const uint8_t pointer[] = {1, 'b', 0xc0, 0x0c};
  assert_int_equal(check("a.", 0, RECORD_CHAIN, pointer, sizeof pointer), RECORD_GARBAGE);
  const uint8_t unterminated[] = {1, 'b', 3, 'n', 'e'};
  assert_int_equal(check("a.", 0, RECORD_CHAIN, unterminated, sizeof unterminated),
                   RECORD_GARBAGE);
  const uint8_t four[] = {0, 0, 0, 0};
  assert_int_equal(check("a.", 0, RECORD_CHAIN, four, sizeof four), RECORD_GARBAGE);
  assert_int_equal(check("a.", 0, RECORD_CHAIN, four, 0), RECORD_GARBAGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keys),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_mac),
      cmocka_unit_test(test_garbage),
      cmocka_unit_test(test_payload_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
