/*
 * The RRset and negative-answer cache (RFC 2308), shared by all workers.
 *
 * Keys are (canonical owner name, type); class is always IN because the
 * resolver refuses other classes. A name that does not exist (NXDOMAIN) is
 * stored once under the pseudo-type 0 and answers every type at that name.
 * Values are DNS wire-format RRs plus an absolute expiry in wall-clock seconds,
 * so remaining TTLs count down on every answer and could be shared with
 * another instance.
 *
 * Threading: the cache is split into shards, each with its own mutex, hash
 * table, LRU list and byte budget (max_bytes / shards); the flush markers
 * have a mutex of their own (cache.c says which lock guards which field).
 * Every function is safe to call from any thread: the workers, cache
 * control's and the memory governor's. Results handed out are private
 * copies.
 *
 * Ranking (RFC 2181 §5.4.1, simplified): glue < referral NS < authoritative
 * answer. A lower-ranked store never replaces a live higher-ranked entry, and
 * lookups say which rank they accept, so glue is used to reach servers but is
 * never returned to a client as an answer.
 */
#ifndef CHAINDNS_CACHE_H
#define CHAINDNS_CACHE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/record.h"

typedef struct cache cache_t;

enum cache_rank {
  CACHE_RANK_GLUE = 1,     /* additional-section addresses, hints */
  CACHE_RANK_REFERRAL = 2, /* NS RRset from a referral (not authoritative) */
  CACHE_RANK_ANSWER = 3,   /* data from an authoritative answer */
};

enum cache_kind {
  CACHE_RRSET = 1, /* positive RRset */
  CACHE_NODATA,    /* the name exists but has no RRs of this type */
  CACHE_NXDOMAIN,  /* the name does not exist */
};

/* The DNSSEC state of an entry (the values of resolver/dnssec/sec.h's enum
 * sec_state): data not validated (learned for a sub-lookup, or for a
 * client that set CD) is indeterminate, and a validating lookup treats it
 * as a miss. Bogus data is never stored. Unchecked data came from a shared
 * tier that cannot vouch for the state it claims (no secret): a validating
 * lookup judges it again before use. Unchecked is never written to the
 * shared tier as such (the value format's state has two bits). */
enum cache_sec {
  CACHE_SEC_INDETERMINATE = 0,
  CACHE_SEC_INSECURE = 1,
  CACHE_SEC_SECURE = 2,
  CACHE_SEC_UNCHECKED = 4,
};

struct cache_limits {
  size_t max_bytes;     /* total budget across shards, entries included */
  uint32_t min_ttl;     /* clamp for positive TTLs */
  uint32_t max_ttl;
  uint32_t max_neg_ttl; /* clamp for negative TTLs (RFC 2308 §5) */
  uint32_t stale_window; /* seconds an expired entry is kept for serve-stale
                            (RFC 8767); 0: expired entries go at once */
};

struct cache_result {
  enum cache_kind kind;
  enum cache_rank rank;
  uint32_t ttl;       /* remaining seconds (stale: the stale TTL asked for) */
  uint32_t orig_ttl;  /* the TTL it was stored with */
  bool stale;         /* expired, within the stale window */
  uint8_t sec;        /* enum cache_sec */
  ldns_rr_list *rrs;  /* RRset, or the SOA of a negative entry (may be
                         empty); owned by the caller: ldns_rr_list_deep_free */
  ldns_rr_list *sigs; /* cache_lookup_ex with want_sigs: the RRSIGs (and a
                         negative entry's NSEC/NSEC3 proof) stored with it,
                         or NULL; owned by the caller. Otherwise NULL. */
};

struct cache_stats {
  uint64_t hits, misses, inserts, evictions;
  size_t bytes;       /* entries and hash tables: what counts against the budget */
  size_t table_bytes; /* the hash tables alone */
  size_t entries;
};

cache_t *cache_new(const struct cache_limits *limits);
void cache_free(cache_t *c);

/* Where stored entries go besides memory: the shared tier. put() is called
 * after each successful store, in the storing thread, with no lock held; the
 * record is valid only during the call. */
struct cache_sink {
  void (*put)(void *arg, const struct cache_record *rec);
  void *arg;
};

/* Store a positive RRset (all RRs share owner and type). The TTL is the
 * smallest in the set, clamped. Returns 0, or -1 if not stored (empty,
 * larger than a shard, or a live better-ranked entry exists). sink may be
 * NULL. */
int cache_store_rrset(cache_t *c, const ldns_rr_list *rrset,
                      enum cache_rank rank, int64_t now, const struct cache_sink *sink);

/* As cache_store_rrset, keeping `sigs` (the RRSIGs covering the set; may
 * be NULL) with it and its security state `sec` (enum cache_sec). */
int cache_store_rrset_sec(cache_t *c, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                          uint8_t sec, enum cache_rank rank, int64_t now,
                          const struct cache_sink *sink);

/* As cache_store_rrset_sec; *kept (may be NULL) gets the TTL the entry was
 * stored with: clamped, and for an NS RRset from the zone itself no longer
 * than the live NS entry it replaced (see insert in cache.c). An answer
 * made from the same records gives clients this TTL. */
int cache_store_rrset_kept(cache_t *c, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                           uint8_t sec, enum cache_rank rank, int64_t now,
                           const struct cache_sink *sink, uint32_t *kept);

/* Store a negative answer. type is ignored for NXDOMAIN. The TTL is
 * min(SOA TTL, SOA MINIMUM) clamped to max_neg_ttl; without an SOA the
 * answer is not cached (RFC 2308 §5). sink may be NULL. */
int cache_store_negative(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                         bool nxdomain, const ldns_rr *soa,
                         enum cache_rank rank, int64_t now, const struct cache_sink *sink);

/* As cache_store_negative, keeping `proof` (RRSIGs, NSEC and NSEC3 records
 * inside the SOA's zone; may be NULL) and the security state. */
int cache_store_negative_sec(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                             bool nxdomain, const ldns_rr *soa, const ldns_rr_list *proof,
                             uint8_t sec, enum cache_rank rank, int64_t now,
                             const struct cache_sink *sink);

/* Store an entry learned from the shared tier, keeping its absolute expiry
 * (held to this instance's max-ttl / max-negative-ttl). Ranks apply as for
 * any store. The record's payload must have passed record_check_payload.
 * Returns 0, or -1 if not stored. */
int cache_fill(cache_t *c, const struct cache_record *rec, int64_t now);

/* Look up (name, type) with at least min_rank; falls back to an NXDOMAIN
 * entry for the name. Returns 0 and fills *res on a hit, -1 on a miss. */
int cache_lookup(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                 enum cache_rank min_rank, int64_t now, struct cache_result *res);

/* As cache_lookup, but an entry expired less than stale_window ago also
 * answers, with stale set and every TTL set to stale_ttl (RFC 8767). Live
 * entries answer as usual. */
int cache_lookup_stale(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                       enum cache_rank min_rank, int64_t now, uint32_t stale_ttl,
                       struct cache_result *res);

/* Either lookup, in one call: with stale, expired entries within the stale
 * window answer (TTLs stale_ttl); with want_sigs, res->sigs gets the DNSSEC
 * records stored with the entry. */
int cache_lookup_ex(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                    enum cache_rank min_rank, int64_t now, bool stale, uint32_t stale_ttl,
                    bool want_sigs, struct cache_result *res);

/* Remove every entry of name (all types, negative ones included), and with
 * below every entry under it too (a zone). Returns how many went. */
size_t cache_flush(cache_t *c, const ldns_rdf *name, bool below);

/* Flush markers (at most this many; the oldest goes first): that data at
 * name (canonical wire form), and with below at every name under it, was
 * flushed at `when`. cache_flush notes its own; the shared tier notes
 * those of the fleet's flush log. A marker lasts as long as data could
 * (max-ttl or max-negative-ttl, and a minute). */
#define CACHE_FLUSH_MARKERS 4096
void cache_note_flush(cache_t *c, const uint8_t *name, size_t len, bool below, int64_t when,
                      int64_t now);
/* Was data at owner (canonical wire form) written at `written` flushed in a
 * later second? Then a copy of it must not be taken back. (Seconds are all
 * a value says of when it was written: one written in the very second of a
 * flush is taken, so what is learned again at once is not refused.) */
bool cache_flushed_since(cache_t *c, const uint8_t *owner, size_t len, int64_t written);

/* Remove every entry (used by tests and, later, by operators). */
void cache_clear(cache_t *c);

/* Change the byte budget (the memory governor does, see resolver/daemon/memgov.h):
 * shards over their new budget evict at once. */
void cache_set_budget(cache_t *c, size_t max_bytes);
size_t cache_budget(cache_t *c);

void cache_get_stats(cache_t *c, struct cache_stats *out);

/* What an allocation really costs: its usable size and the allocator's
 * chunk header. Bounded caches charge this, not the size they asked for. */
size_t cache_alloc_cost(void *p);

/* Value encoding, shared with the shared tier: RRs as uncompressed wire
 * format, one after the other. */
uint8_t *cache_encode_rrs(const ldns_rr_list *rrs, size_t *len);
ldns_rr_list *cache_decode_rrs(const uint8_t *data, size_t len, uint32_t ttl);

#endif
