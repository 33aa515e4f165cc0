/*
 * The key cache: what a trust walk (resolver/dnssec/trust.h) established per zone,
 * kept so the next answer from the zone is checked without fetching its
 * DS and DNSKEY again. An entry holds the zone's security state and, when
 * secure, its verified DNSKEY RRset; bogus results are kept too (briefly),
 * so a broken zone does not cost a walk per query.
 *
 * Shared by the workers: a mutex guards it, lookups copy out. Bounded by
 * entry count, least recently used first out.
 */
#ifndef CHAINDNS_KEYCACHE_H
#define CHAINDNS_KEYCACHE_H

#include <ldns/ldns.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dnssec/sec.h"

typedef struct keycache keycache_t;

/* How long a bogus result is kept, at most (RFC 4035 4.7 lets a resolver
 * cache bogus data; keeping it short lets a fixed zone recover soon). */
#define KEYCACHE_BOGUS_TTL 60

struct key_entry {
  struct sec_result result; /* state, EDE, why */
  ldns_rr_list *keys;       /* SECURE: the DNSKEY RRset (owned by the caller
                               of keycache_lookup: ldns_rr_list_deep_free) */
  uint32_t ttl;             /* remaining seconds */
};

keycache_t *keycache_new(size_t max_entries);
void keycache_free(keycache_t *kc);

/* Keep zone's result for ttl seconds (a bogus one for at most
 * KEYCACHE_BOGUS_TTL); keys are copied. A ttl of 0 stores nothing. */
void keycache_store(keycache_t *kc, const ldns_rdf *zone, const struct sec_result *result,
                    const ldns_rr_list *keys, uint32_t ttl, int64_t now);

/* The live entry of zone: 0 and *out filled (keys copied), or -1. */
int keycache_lookup(keycache_t *kc, const ldns_rdf *zone, int64_t now, struct key_entry *out);

/* Forget zone (a flush, a negative trust anchor added) or, with below,
 * every zone under it too. Returns how many went. */
size_t keycache_flush(keycache_t *kc, const ldns_rdf *zone, bool below);

size_t keycache_count(keycache_t *kc);

#endif
