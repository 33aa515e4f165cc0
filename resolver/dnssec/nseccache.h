/*
 * The NSEC cache: validated NSEC records kept by signer zone, so that a
 * query for a name or type the zone has already denied is answered without
 * asking (RFC 8198, "aggressive use of DNSSEC-validated cache"). One NSEC
 * from an earlier NXDOMAIN covers a whole range of names, which makes random
 * subdomain floods and typo traffic cheap, and answers them sooner.
 *
 * Only NSEC is kept, never NSEC3, as Unbound does: an NSEC3 proof costs
 * hashes per lookup, and an opt-out span can never deny anyway.
 * Within a zone the records sit in a red-black tree in canonical DNS name
 * order (RFC 4034 6.1), so the record covering a name is its predecessor,
 * found in O(log n) however many records the zone has; the proof itself is
 * denial_aggressive's (resolver/dnssec/denial.h), which decides, for example, that
 * a name below a delegation or a DNAME is never denied.
 *
 * The caller stores only records whose RRSIGs it has verified with the
 * zone's keys, and flushes a zone whose trust changes (a new negative trust
 * anchor, a key rollover gone bogus). Each NSEC is kept with the RRSIGs
 * covering it, so a DO=1 client can be given the proof it would have got
 * from the authority.
 *
 * Threading: shared by the workers; one mutex guards everything, held only
 * for tree walks and copies. Lookups copy out what they return. Bounded by
 * the number of NSEC records in all zones together, least recently stored
 * or used first out; expired records go when a lookup meets them or as the
 * bound pushes them out.
 */
#ifndef CHAINDNS_NSECCACHE_H
#define CHAINDNS_NSECCACHE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/dnssec/denial.h"

typedef struct nseccache nseccache_t;

/* A cached proof, owned by the caller of nseccache_lookup until
 * nsec_proof_clear. */
struct nsec_proof {
  ldns_rdf *zone;      /* the signer zone the records belong to */
  ldns_rr_list *nsecs; /* each NSEC followed by its RRSIGs (none if none were
                          stored), NSECs in canonical order of owner; every
                          TTL is the record's remaining lifetime */
  uint32_t ttl;        /* the smallest of those TTLs: how long the synthesised
                          answer may be cached or given out for */
};

/* An empty cache holding at most max_records NSEC records (at least 1).
 * NULL when out of memory. */
nseccache_t *nseccache_new(size_t max_records);
void nseccache_free(nseccache_t *nc);

/* Keeps the NSEC records of `rrs` owned by `zone` or names below it, with
 * their next names in it too; other types are skipped, apart from the
 * RRSIGs of those NSECs (type covered NSEC, same owner, signer `zone`),
 * which are kept with them. An NSEC whose RRSIGs in rrs are all by another
 * signer is not `zone`'s and is skipped; one with no RRSIG at all is kept.
 * A record pointing back (next name not after its owner) is kept only if
 * it points to the apex, as a zone's last NSEC does (RFC 4034 4.1.1).
 *
 * Each record lives for min(its TTL, its RRSIGs' TTLs, ttl_cap) seconds
 * from now, and never past its RRSIGs' expiration; one with no life left is
 * not stored. ttl_cap is the zone's negative TTL, from the SOA MINIMUM (RFC
 * 8198 5.4, RFC 2308 5); `now` is Unix time (util_now_sec), the clock of
 * RRSIG expirations. A record replaces the one cached with the same owner in
 * the same zone. Everything is copied: rrs stays the caller's. */
void nseccache_store(nseccache_t *nc, const ldns_rdf *zone, const ldns_rr_list *rrs,
                     uint32_t ttl_cap, int64_t now);

/* Can (qname, qtype) be denied from the cache? The zone is the closest one
 * enclosing qname (for DS: enclosing qname's parent, the side that holds
 * DS) that has records cached. From it, the predecessor-or-equal of qname
 * and, for each ancestor A of qname down to the zone, A's record and the
 * predecessor-or-equal of *.A, go to denial_aggressive.
 *
 * DENIAL_PROVEN: *nxdomain is true for NXDOMAIN, false for NODATA, and *out
 * holds the records that prove it (see struct nsec_proof; free with
 * nsec_proof_clear): the one matching or covering qname, plus the one
 * matching or covering the wildcard at the closest encloser, when those two
 * prove it alone (in a consistent chain they do); else all those gathered.
 * Any other result (with NSEC only, DENIAL_NOT_PROVEN) leaves *nxdomain
 * false and *out empty, nothing to free: ask upstream. */
enum denial_result nseccache_lookup(nseccache_t *nc, const ldns_rdf *qname, ldns_rr_type qtype,
                                    int64_t now, bool *nxdomain, struct nsec_proof *out);

/* Frees what p holds and empties it; an empty one is left as it is. */
void nsec_proof_clear(struct nsec_proof *p);

/* Forgets the records of zone or, with below, of every zone at or under it
 * (a flush, a negative trust anchor, a zone gone bogus). Returns how many
 * NSEC records went. */
size_t nseccache_flush(nseccache_t *nc, const ldns_rdf *zone, bool below);

/* NSEC records held, expired ones not yet removed included. */
size_t nseccache_count(nseccache_t *nc);

#endif
