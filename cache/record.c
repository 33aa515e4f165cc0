/* Record keys and values for the shared tier; the layout is in record.h. */
#include "cache/record.h"

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_i64(uint8_t *p, int64_t v) {
  put_u32(p, (uint32_t)((uint64_t)v >> 32));
  put_u32(p + 4, (uint32_t)v);
}

static int64_t get_i64(const uint8_t *p) {
  return (int64_t)((uint64_t)get_u32(p) << 32 | get_u32(p + 4));
}

/* Length of the well-formed, uncompressed wire name at p (at most avail
 * bytes), or 0. */
static size_t wire_name_len(const uint8_t *p, size_t avail) {
  size_t off = 0;
  while (off < avail) {
    uint8_t l = p[off];
    if (l == 0) return off + 1 <= 255 ? off + 1 : 0;
    if (l > 63) return 0; /* compression pointer or reserved label type */
    off += (size_t)l + 1;
  }
  return 0;
}

size_t record_key(const char *prefix, const uint8_t *owner, size_t owner_len, uint16_t type,
                  enum record_kind kind, char *out, size_t cap) {
  char name[1100];
  if (!name_wire_text(owner, owner_len, name, sizeof name)) return 0;
  char tbuf[16];
  const char *tname = tbuf;
  char *mnemonic = NULL;
  if (kind == RECORD_NXDOMAIN || kind == RECORD_CHAIN || kind == RECORD_FLUSH) {
    tname = "NXDOMAIN"; /* unused for a chain or a flush */
  } else {
    mnemonic = ldns_rr_type2str((ldns_rr_type)type);
    if (mnemonic) tname = mnemonic;
    else snprintf(tbuf, sizeof tbuf, "TYPE%u", type);
  }
  int n = kind == RECORD_CHAIN   ? snprintf(out, cap, "%s:v2:chain:%s", prefix, name)
          : kind == RECORD_FLUSH ? snprintf(out, cap, "%s:v2:flush:%s", prefix, name)
                                 : snprintf(out, cap, "%s:v2:rr:%s:%s", prefix, name, tname);
  free(mnemonic);
  return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* HMAC-SHA256(secret, key || value). On failure out is zeroed, which never
 * matches a real MAC. */
static void mac(const struct record_secret *secret, const char *key, size_t klen,
                const uint8_t *value, size_t vlen, uint8_t out[RECORD_MAC_LEN]) {
  uint8_t stackbuf[2048];
  size_t n = klen + vlen;
  uint8_t *buf = n <= sizeof stackbuf ? stackbuf : malloc(n);
  unsigned int olen = 0;
  memset(out, 0, RECORD_MAC_LEN);
  if (!buf) return;
  memcpy(buf, key, klen);
  memcpy(buf + klen, value, vlen);
  if (!HMAC(EVP_sha256(), secret->key, (int)secret->len, buf, n, out, &olen) ||
      olen != RECORD_MAC_LEN)
    memset(out, 0, RECORD_MAC_LEN);
  if (buf != stackbuf) free(buf);
}

uint8_t *record_encode(const struct cache_record *rec, const char *key, size_t klen,
                       const struct record_secret *secret, size_t *len) {
  bool sign = secret && secret->len > 0;
  size_t body = RECORD_HEADER_LEN + rec->payload_len;
  size_t total = body + (sign ? RECORD_MAC_LEN : 0);
  if (rec->payload_len > UINT32_MAX) return NULL;
  uint8_t *v = malloc(total);
  if (!v) return NULL;
  v[0] = 'C';
  v[1] = 'D';
  v[2] = RECORD_VERSION;
  v[3] = rec->kind;
  v[4] = rec->rank;
  uint8_t sec = rec->sec <= RECORD_SEC_SECURE ? rec->sec : RECORD_SEC_INDETERMINATE;
  v[5] = (uint8_t)((sign ? 1 : 0) | sec << 1);
  put_i64(v + 6, rec->expiry);
  put_u32(v + 14, rec->ttl);
  put_u32(v + 18, (uint32_t)rec->payload_len);
  if (rec->payload_len) memcpy(v + RECORD_HEADER_LEN, rec->payload, rec->payload_len);
  if (sign) mac(secret, key, klen, v, body, v + body);
  *len = total;
  return v;
}

enum record_error record_decode(const uint8_t *value, size_t len, const char *key,
                                size_t klen, const struct record_secret *secret,
                                int64_t now, struct cache_record *rec) {
  if (len < RECORD_HEADER_LEN || value[0] != 'C' || value[1] != 'D' ||
      value[2] != RECORD_VERSION)
    return RECORD_GARBAGE;
  uint8_t kind = value[3], rank = value[4], flags = value[5];
  /* State 3 would be bogus, which nobody stores: not a value of ours. */
  if (kind < RECORD_RRSET || kind > RECORD_FLUSH || rank < 1 || rank > 3 || (flags & ~7u) ||
      (flags >> 1 & 3) == 3)
    return RECORD_GARBAGE;
  size_t plen = get_u32(value + 18);
  size_t body = RECORD_HEADER_LEN + plen;
  bool has_mac = flags & 1;
  if (plen > len || len != body + (has_mac ? RECORD_MAC_LEN : 0)) return RECORD_GARBAGE;
  if (secret && secret->len > 0) {
    uint8_t want[RECORD_MAC_LEN];
    if (!has_mac) return RECORD_BAD_MAC;
    mac(secret, key, klen, value, body, want);
    if (CRYPTO_memcmp(want, value + body, RECORD_MAC_LEN) != 0) return RECORD_BAD_MAC;
  }
  int64_t expiry = get_i64(value + 6);
  if (expiry <= now) return RECORD_EXPIRED;
  rec->kind = kind;
  rec->rank = value[4];
  rec->sec = (uint8_t)(flags >> 1 & 3);
  rec->expiry = expiry;
  rec->ttl = get_u32(value + 14);
  rec->payload = value + RECORD_HEADER_LEN;
  rec->payload_len = plen;
  return RECORD_OK;
}

static bool owner_is(const ldns_rr *rr, const uint8_t *owner, size_t owner_len) {
  const ldns_rdf *o = ldns_rr_owner(rr);
  uint8_t key[256];
  size_t n = name_key(o, key);
  return n == owner_len && memcmp(key, owner, n) == 0;
}

static enum record_error check_chain(const struct cache_record *rec, size_t max_names) {
  size_t off = 0, names = 0;
  while (off < rec->payload_len) {
    size_t n = wire_name_len(rec->payload + off, rec->payload_len - off);
    if (n == 0 || ++names > max_names) return RECORD_GARBAGE;
    off += n;
  }
  return names ? RECORD_OK : RECORD_GARBAGE;
}

/* DNSSEC material kept beside the data: an RRSIG, or NSEC/NSEC3 records
 * (with their RRSIGs) proving a negative answer, owned inside `zone`. */
static bool dnssec_extra(const ldns_rr *rr, const ldns_rdf *zone) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  return (t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) &&
         zone && name_in(ldns_rr_owner(rr), zone);
}

/* The top-level label of a wire name equals another's: a wildcard proof's
 * NSEC/NSEC3 records lie in the answer's zone, somewhere below its TLD. */
static bool same_tld(const ldns_rdf *a, const ldns_rdf *b) {
  size_t na = ldns_dname_label_count(a), nb = ldns_dname_label_count(b);
  if (!na || !nb) return false;
  ldns_rdf *ta = ldns_dname_clone_from(a, na - 1), *tb = ldns_dname_clone_from(b, nb - 1);
  bool same = ta && tb && name_equal(ta, tb);
  ldns_rdf_deep_free(ta);
  ldns_rdf_deep_free(tb);
  return same;
}

static bool nsec_or_its_sig(const ldns_rr *rr) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) return true;
  if (t != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) == 0) return false;
  ldns_rr_type c = ldns_rdf2rr_type(ldns_rr_rdf(rr, 0));
  return c == LDNS_RR_TYPE_NSEC || c == LDNS_RR_TYPE_NSEC3;
}

/* Every RR parses and belongs under the key: an RRset of the key's owner
 * and type, then only RRSIGs covering it (same owner) and, for a wildcard
 * expansion, the NSEC/NSEC3 records (and RRSIGs) of its proof; a negative entry
 * holds one SOA of a zone at or above the owner first, then only RRSIGs and
 * NSEC/NSEC3 records inside that zone. */
enum record_error record_check_payload(const struct cache_record *rec, size_t max_names) {
  if (rec->kind == RECORD_CHAIN) return check_chain(rec, max_names);
  if (rec->kind == RECORD_FLUSH)
    return rec->payload_len == 1 && rec->payload[0] <= 1 ? RECORD_OK : RECORD_GARBAGE;
  size_t pos = 0, count = 0, main = 0;
  bool extras = false;
  enum record_error err = RECORD_OK;
  ldns_rdf *owner = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, rec->owner_len, rec->owner);
  ldns_rdf *zone = NULL;
  if (!owner) return RECORD_GARBAGE;
  while (pos < rec->payload_len && err == RECORD_OK) {
    ldns_rr *rr = NULL;
    if (ldns_wire2rr(&rr, rec->payload, rec->payload_len, &pos, LDNS_SECTION_ANSWER) !=
        LDNS_STATUS_OK) {
      err = RECORD_GARBAGE;
      break;
    }
    count++;
    if (rec->kind == RECORD_RRSET) {
      bool is_main = ldns_rr_get_type(rr) == rec->type && !extras;
      bool is_sig = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG && ldns_rr_rd_count(rr) > 0 &&
                    ldns_rdf2rr_type(ldns_rr_rdf(rr, 0)) == rec->type;
      bool is_proof = !is_main && !is_sig && nsec_or_its_sig(rr) &&
                      same_tld(ldns_rr_owner(rr), owner);
      if (!is_main && !is_sig && !is_proof) err = RECORD_WRONG_OWNER;
      else if (!is_proof && !owner_is(rr, rec->owner, rec->owner_len)) err = RECORD_WRONG_OWNER;
      main += is_main;
      extras |= !is_main;
    } else if (count == 1) {
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7 ||
          !name_in(owner, ldns_rr_owner(rr)))
        err = RECORD_WRONG_OWNER;
      else
        zone = ldns_rdf_clone(ldns_rr_owner(rr));
      main = 1;
    } else if (!dnssec_extra(rr, zone)) {
      err = RECORD_WRONG_OWNER;
    }
    ldns_rr_free(rr);
  }
  ldns_rdf_deep_free(owner);
  if (zone) ldns_rdf_deep_free(zone);
  if (err == RECORD_OK && (count == 0 || main == 0)) err = RECORD_GARBAGE;
  return err;
}

const char *record_error_str(enum record_error e) {
  switch (e) {
  case RECORD_OK: return "ok";
  case RECORD_GARBAGE: return "garbage or truncated value";
  case RECORD_BAD_MAC: return "missing or wrong HMAC";
  case RECORD_EXPIRED: return "expired";
  case RECORD_WRONG_OWNER: return "records that do not belong under the key";
  }
  return "?";
}
