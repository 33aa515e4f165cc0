/*
 * fuzz_record: a value read from the shared tier (Redis), which anyone able
 * to write to that Redis controls, through what cache/redis.c take_value does
 * with it: record_key for the key looked up, record_decode (layout, lengths,
 * HMAC with and without a fleet secret, expiry), the kind and rank checks,
 * record_check_payload (RRs that parse and belong under the key, one SOA for
 * a negative entry, well-formed chain names), then cache_fill into a memory
 * tier and a lookup that decodes the stored RRs again (cache/cache.c), or
 * for a chain record the names it lists. A value that decodes is encoded
 * again with record_encode and must decode to the same record.
 *
 * Input format: see fuzz_record.h.
 */
#include <ldns/ldns.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/record.h"
#include "fuzz_record.h"

static cache_t *cache;
static struct record_secret secret;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  struct cache_limits lim = {.max_bytes = 4u << 20, .min_ttl = 0, .max_ttl = 86400,
                             .max_neg_ttl = 3600};
  cache = cache_new(&lim);
  if (!cache) abort();
  secret.len = strlen(FUZZ_RECORD_SECRET);
  memcpy(secret.key, FUZZ_RECORD_SECRET, secret.len);
  return 0;
}

static void die(const char *what) {
  fprintf(stderr, "fuzz_record: %s\n", what);
  abort();
}

/* A well-formed uncompressed wire name filling exactly n bytes? */
static bool owner_ok(const uint8_t *p, size_t n) {
  if (n == 0 || n > 255) return false;
  size_t off = 0;
  while (off < n && p[off] != 0) {
    if (p[off] > 63) return false;
    off += (size_t)p[off] + 1;
  }
  return off == n - 1;
}

/* Overwrite the value's last RECORD_MAC_LEN bytes with the HMAC the format
 * asks for: HMAC-SHA256(secret, key || everything before the MAC). */
static void resign(uint8_t *v, size_t len, const char *key, size_t klen) {
  size_t body = len - RECORD_MAC_LEN;
  uint8_t *buf = malloc(klen + body + 1);
  if (!buf) return;
  memcpy(buf, key, klen);
  memcpy(buf + klen, v, body);
  unsigned int olen = 0;
  HMAC(EVP_sha256(), secret.key, (int)secret.len, buf, klen + body, v + body, &olen);
  free(buf);
}

/* cache/redis.c take_value, after the decode: a chain's names. */
static void chain_names(const struct cache_record *rec) {
  ldns_rdf *names[FUZZ_RECORD_MAX_NAMES];
  size_t nnames = 0;
  for (size_t off = 0; off < rec->payload_len && nnames < FUZZ_RECORD_MAX_NAMES;) {
    size_t end = off;
    while (rec->payload[end]) end += (size_t)rec->payload[end] + 1;
    size_t n = end + 1 - off;
    ldns_rdf *name = ldns_dname_new_frm_data((uint16_t)n, rec->payload + off);
    if (name) names[nnames++] = name;
    off += n;
  }
  for (size_t i = 0; i < nnames; i++) ldns_rdf_deep_free(names[i]);
}

/* Encode the decoded record again: it must come back the same. */
static void round_trip(const struct cache_record *rec, const char *key, size_t klen,
                       const struct record_secret *sec) {
  size_t len = 0;
  uint8_t *v = record_encode(rec, key, klen, sec, &len);
  if (!v) return;
  struct cache_record back = {.owner = rec->owner, .owner_len = rec->owner_len,
                              .type = rec->type};
  if (record_decode(v, len, key, klen, sec, FUZZ_RECORD_NOW, &back) != RECORD_OK)
    die("a re-encoded record does not decode");
  if (back.kind != rec->kind || back.rank != rec->rank || back.expiry != rec->expiry ||
      back.ttl != rec->ttl || back.payload_len != rec->payload_len ||
      (rec->payload_len && memcmp(back.payload, rec->payload, rec->payload_len) != 0))
    die("a re-encoded record decodes to another record");
  free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t default_owner[] = "\3www\7example\3com";
  if (size < 2) return 0;
  uint8_t ctl = data[0];
  size_t n = data[1];
  const uint8_t *owner_in = default_owner;
  size_t owner_len = sizeof default_owner;
  if (n) {
    if (size < 2 + n || !owner_ok(data + 2, n)) return 0;
    owner_in = data + 2;
    owner_len = n;
  }
  uint8_t owner[256];
  for (size_t i = 0; i < owner_len; i++)
    owner[i] = owner_in[i] >= 'A' && owner_in[i] <= 'Z' ? (uint8_t)(owner_in[i] + 32) : owner_in[i];
  const uint8_t *value = data + 2 + n;
  size_t vlen = size - 2 - n;

  uint8_t kind;
  switch ((ctl >> FUZZ_RC_KIND_SHIFT) & 3) {
  case 1: kind = RECORD_NXDOMAIN; break;
  case 2: kind = RECORD_CHAIN; break;
  default: kind = RECORD_RRSET; break;
  }
  uint16_t type = kind == RECORD_RRSET ? fuzz_record_types[ctl >> FUZZ_RC_TYPE_SHIFT] : 0;
  char key[RECORD_KEY_MAX];
  size_t klen = record_key(FUZZ_RECORD_PREFIX, owner, owner_len, type, (enum record_kind)kind,
                           key, sizeof key);
  if (klen == 0) die("no key for a valid name");

  const struct record_secret none = {.len = 0};
  const struct record_secret *sec = (ctl & FUZZ_RC_SECRET) ? &secret : &none;
  uint8_t *copy = malloc(vlen ? vlen : 1);
  if (!copy) return 0;
  if (vlen) memcpy(copy, value, vlen);
  if ((ctl & FUZZ_RC_SECRET) && (ctl & FUZZ_RC_RESIGN) && vlen >= RECORD_HEADER_LEN + RECORD_MAC_LEN)
    resign(copy, vlen, key, klen);

  /* cache/redis.c take_value. */
  struct cache_record rec = {.owner = owner, .owner_len = owner_len, .type = type};
  enum record_error e = record_decode(copy, vlen, key, klen, sec, FUZZ_RECORD_NOW, &rec);
  bool kind_ok = kind == RECORD_RRSET ? rec.kind == RECORD_RRSET || rec.kind == RECORD_NODATA
                                      : rec.kind == kind;
  if (e == RECORD_OK) {
    if (rec.payload < copy || rec.payload + rec.payload_len > copy + vlen)
      die("payload outside the value");
    if (rec.expiry <= FUZZ_RECORD_NOW) die("an expired record decoded");
    round_trip(&rec, key, klen, sec);
  }
  if (e == RECORD_OK && (!kind_ok || rec.rank != CACHE_RANK_ANSWER)) e = RECORD_GARBAGE;
  if (e == RECORD_OK) e = record_check_payload(&rec, FUZZ_RECORD_MAX_NAMES);
  if (!record_error_str(e)) die("no text for an error");
  if (e == RECORD_OK) {
    if (rec.kind == RECORD_CHAIN) {
      chain_names(&rec);
    } else {
      cache_fill(cache, &rec, FUZZ_RECORD_NOW);
      ldns_rdf *name = ldns_dname_new_frm_data((uint16_t)owner_len, owner);
      struct cache_result res;
      if (name && cache_lookup(cache, name, (ldns_rr_type)type, CACHE_RANK_GLUE,
                               FUZZ_RECORD_NOW + 1, &res) == 0)
        ldns_rr_list_deep_free(res.rrs);
      ldns_rdf_deep_free(name);
      ldns_rr_list *rrs = cache_decode_rrs(rec.payload, rec.payload_len, rec.ttl);
      ldns_rr_list_deep_free(rrs);
    }
  }
  cache_clear(cache);
  free(copy);
  return 0;
}
