/*
 * A cache entry in transferable form, and its encoding as a value in the
 * shared (Redis) tier.
 *
 * The memory tier and the shared tier hold the same thing: an owner name, a
 * type, what kind of entry it is, its rank, its absolute expiry and the RRs
 * in DNS wire format. A record carries exactly that, so an entry learned by
 * one instance lands in another instance's memory tier with the same
 * absolute expiry and its TTL counts down identically there.
 *
 * Value layout (version 2), all integers big-endian:
 *
 *   0  'C' 'D'        magic
 *   2  version        2
 *   3  kind           enum record_kind
 *   4  rank           enum cache_rank (1..3)
 *   5  flags          bit 0: an HMAC-SHA256 follows the payload;
 *                     bits 1-2: the DNSSEC security state (enum cache_sec)
 *   6  expiry         int64, absolute Unix seconds
 *  14  ttl            uint32, the TTL the entry was stored with
 *  18  payload length uint32
 *  22  payload        RRs (uncompressed wire format): the RRset and then
 *                     its RRSIGs, or the SOA of a negative entry and then
 *                     the RRSIGs and NSEC/NSEC3 records of its proof; for a
 *                     chain the wire-format names it passes through
 *   .. mac            32 bytes: HMAC-SHA256(secret, key || bytes 0..22+len)
 *
 * The MAC covers the key, so a valid value cannot be replayed under another
 * name, the expiry, so an old value cannot be made young again, and the
 * security state, so nobody who can write to Redis can make data "secure".
 * Version 1 values (no DNSSEC data) live under other keys (":v1:") and are
 * never read. Decoding
 * never trusts a length it has not checked against the buffer.
 */
#ifndef CHAINDNS_RECORD_H
#define CHAINDNS_RECORD_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum record_kind {
  RECORD_RRSET = 1,    /* positive RRset (same values as enum cache_kind) */
  RECORD_NODATA = 2,   /* the name exists, not with this type; payload: SOA */
  RECORD_NXDOMAIN = 3, /* the name does not exist (type 0); payload: SOA */
  RECORD_CHAIN = 4,    /* the names a CNAME chain from owner passes through */
  RECORD_FLUSH = 5,    /* an operator flushed owner (payload: one byte, 1 when
                          every name below went too) at expiry - ttl; an
                          entry of the fleet's flush log, never a cache key */
};

/* The DNSSEC states a value carries in flags bits 1-2: enum cache_sec's
 * INDETERMINATE, INSECURE and SECURE, with the same numbers (cache.c checks
 * they agree). Any other state (cache.h's UNCHECKED) is written as
 * indeterminate, and 3 (bogus, never stored) is not a value of ours. */
enum record_sec {
  RECORD_SEC_INDETERMINATE = 0,
  RECORD_SEC_INSECURE = 1,
  RECORD_SEC_SECURE = 2,
};

#define RECORD_VERSION 2
#define RECORD_HEADER_LEN 22
#define RECORD_MAC_LEN 32
#define RECORD_KEY_MAX 1400 /* prefix (<= 128) + escaped name (<= 1004) + type */

/* Pointers are borrowed: a record never owns memory. */
struct cache_record {
  const uint8_t *owner; /* canonical (lower-case) wire-format name */
  size_t owner_len;
  uint16_t type;        /* 0 for RECORD_NXDOMAIN */
  uint8_t kind;         /* enum record_kind */
  uint8_t rank;         /* enum cache_rank */
  int64_t expiry;       /* absolute, wall-clock seconds */
  uint32_t ttl;
  const uint8_t *payload;
  size_t payload_len;
  uint8_t sec;          /* enum cache_sec: the data's DNSSEC state (a
                           decoded one is an enum record_sec) */
};

/* The HMAC key shared by a fleet; len 0 means values are not signed. */
struct record_secret {
  uint8_t key[256];
  size_t len;
};

/* One entry to fetch from the shared tier: (name, type) with kind
 * RECORD_RRSET (an RRset or NODATA there), (name, 0) with RECORD_NXDOMAIN,
 * or (name, 0) with RECORD_CHAIN (the names of a chain starting there). */
struct fetch_key {
  const ldns_rdf *name;
  uint16_t type;
  uint8_t kind; /* enum record_kind */
};

/* What a fetch found. Entries found are already in the memory tier;
 * found[i] says which keys hit. A chain record among the keys gives the
 * names it passes through, so they can all be fetched in the next round
 * trip. Everything is borrowed for the duration of the call that hands it
 * over. */
struct fetch_result {
  const bool *found;
  const ldns_rdf *const *chain_names;
  size_t nchain;
};

/* Why a value was rejected. */
enum record_error {
  RECORD_OK = 0,
  RECORD_GARBAGE = -1, /* not a value of ours, truncated, or inconsistent */
  RECORD_BAD_MAC = -2, /* missing or wrong HMAC while a secret is set */
  RECORD_EXPIRED = -3,
  RECORD_WRONG_OWNER = -4, /* RRs that do not belong under the key */
};

/* The key of a record in the shared tier: "<prefix>:v2:rr:<name>:<TYPE>"
 * (an RRset or NODATA), "<prefix>:v2:rr:<name>:NXDOMAIN" or
 * "<prefix>:v2:chain:<name>" (a CNAME chain does not depend on the type
 * asked), the name in lower-case presentation format. Returns the length,
 * or 0 if it does not fit in cap. */
size_t record_key(const char *prefix, const uint8_t *owner, size_t owner_len, uint16_t type,
                  enum record_kind kind, char *out, size_t cap);

/* The fleet's flush log: a Redis stream of RECORD_FLUSH values, each
 * stored with the key record_key gives it ("<prefix>:v2:flush:<name>"),
 * which its MAC covers. */
#define RECORD_FLUSH_LOG_FMT "%s:v2:flushes"

/* Encode rec as a value stored under key. Returns malloc'd bytes (free()),
 * or NULL. */
uint8_t *record_encode(const struct cache_record *rec, const char *key, size_t klen,
                       const struct record_secret *secret, size_t *len);

/* Decode and check a value read under key: layout, MAC (required when secret
 * has a key), expiry (> now). On RECORD_OK, rec points into value; owner and
 * type are not in the value and stay as the caller set them. */
enum record_error record_decode(const uint8_t *value, size_t len, const char *key,
                                size_t klen, const struct record_secret *secret,
                                int64_t now, struct cache_record *rec);

/* Check that the payload is what the kind promises for (rec->owner,
 * rec->type): RRs that parse completely, all owned by the owner with that
 * type (one SOA for a negative entry), or for a chain, at most max_names
 * well-formed names. */
enum record_error record_check_payload(const struct cache_record *rec, size_t max_names);

const char *record_error_str(enum record_error e);

#endif
