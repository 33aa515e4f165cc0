/*
 * Establishing a zone's trusted keys (RFC 4035 §5.1-5.2), one step at a
 * time and without I/O, in the manner of the iterator: the walk says which
 * RRset it needs next (a DNSKEY RRset, a DS RRset), the driver fetches it
 * (a sub-lookup, in request.c) and hands back what came, and the walk ends
 * with the zone's security state and, when secure, its verified DNSKEYs.
 *
 * The target is a name: the signer of the data to validate, or, for data
 * without a usable signature, the data's own name. The walk finds the zone
 * that holds the target and that zone's state: the target itself when it
 * is a zone's apex, else the closest enclosing zone.
 *
 * From the closest trust anchor at or above the target (or from a zone
 * whose keys are already trusted, trust_walk_new_from), downwards:
 *   1. DNSKEY of the anchor's zone, checked against the anchor (DS or
 *      DNSKEY lines) -> the current zone's trusted keys;
 *   2. for the next name below it on the way to the target zone: its DS,
 *      signed by the current zone:
 *        - a DS RRset that verifies: DNSKEY of that name, checked against the
 *          DS; it becomes the current zone (step 2 again until the target);
 *        - NODATA proven by the current zone's NSEC/NSEC3 with the NS bit at
 *          the name (a delegation without DS) or an opt-out span over it:
 *          INSECURE, the walk ends;
 *        - NODATA proven at a name that is not a delegation (no NS bit, or
 *          an empty non-terminal): the name is inside the current zone; go
 *          on to the next name, same zone; at the target itself: SECURE,
 *          the current zone holds it;
 *        - NXDOMAIN proven: nothing at or below the name exists in the
 *          current zone, which therefore speaks for the target: SECURE;
 *          an opt-out span over it: INSECURE;
 *        - anything else (no proof, signatures that fail): BOGUS.
 * A negative trust anchor at or above the zone, or no anchor at all, ends
 * at once as INSECURE. Every RRset handed in must come with its RRSIGs; the
 * walk verifies them itself (resolver/dnssec/dnssec.h, resolver/dnssec/denial.h).
 *
 * The walk's results are what a key cache keeps per zone (the state, the
 * keys, until the smallest TTL of what it used); this module keeps none.
 */
#ifndef CHAINDNS_TRUST_H
#define CHAINDNS_TRUST_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "resolver/dnssec/anchors.h"
#include "resolver/dnssec/sec.h"

typedef struct trust_walk trust_walk_t;

enum trust_need {
  TRUST_FETCH, /* fetch (qname, qtype) and hand the outcome to trust_on_* */
  TRUST_DONE,  /* trust_result() is final */
};

struct trust_action {
  enum trust_need kind;
  const ldns_rdf *qname; /* TRUST_FETCH: valid until the next call */
  ldns_rr_type qtype;    /* LDNS_RR_TYPE_DNSKEY or LDNS_RR_TYPE_DS */
};

/* Walk to `target` at time `now`. The anchors must outlive the walk. NULL
 * only when out of memory. */
trust_walk_t *trust_walk_new(const trust_anchors_t *ta, const ldns_rdf *target, time_t now);
/* The same, starting below `zone`, whose DNSKEY RRset `keys` is already
 * trusted (a key cache entry, good for `ttl` more seconds): zone must lie
 * at or above target and at or below target's closest anchor, else the walk
 * starts at the anchor. keys are copied. */
trust_walk_t *trust_walk_new_from(const trust_anchors_t *ta, const ldns_rdf *target, time_t now,
                                  const ldns_rdf *zone, const ldns_rr_list *keys, uint32_t ttl);
void trust_walk_free(trust_walk_t *w);

/* What to do next. Call after creation and after every trust_on_*; asked
 * twice with a fetch pending, it hands out the same fetch (counted once). */
void trust_next(trust_walk_t *w, struct trust_action *act);

/* The fetch ended with an answer: rrset (records of the type asked at the
 * name asked; may be empty for NODATA), sigs (every RRSIG that came with
 * the answer and authority sections), denial (the NSEC/NSEC3 records of the
 * authority section, for NODATA). Lists are borrowed for the call. */
void trust_on_answer(trust_walk_t *w, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                     const ldns_rr_list *denial);
/* The DS fetch ended with NXDOMAIN: sigs and denial as for
 * trust_on_answer. (An NXDOMAIN for a DNSKEY is a failure.) */
void trust_on_nxdomain(trust_walk_t *w, const ldns_rr_list *sigs, const ldns_rr_list *denial);
/* The fetch failed (timeout, SERVFAIL, a chain error): the walk ends BOGUS
 * with EDE 9 (DNSKEY) or 6 (DS) and why. Any trust_on_* without a fetch
 * pending is ignored. */
void trust_on_failure(trust_walk_t *w, const char *why);

/* The outcome: state, EDE and reason for BOGUS. */
const struct sec_result *trust_result(const trust_walk_t *w);
/* When SECURE: the verified DNSKEY RRset of the zone holding the target
 * (trust_zone; owned by the walk, clone what must outlive it). NULL
 * otherwise. */
const ldns_rr_list *trust_keys(const trust_walk_t *w);
/* The zone where the walk ended: when SECURE the zone holding the target
 * (the target itself, or the zone it lies inside: data claiming a signer
 * that is no zone gets its enclosing zone here, and its caller rejects the
 * signature), the first zone proven unsigned when INSECURE, when BOGUS the
 * name whose DS or DNSKEY failed (the child, not the parent that signed a
 * bad DS, so a key cache does not condemn a healthy parent). */
const ldns_rdf *trust_zone(const trust_walk_t *w);
/* The smallest TTL among the RRsets the result rests on (DS, DNSKEY, the
 * NSEC/NSEC3 proving an insecure delegation), capped by the time left on
 * their signatures: how long to keep it. 0 when nothing was fetched (no
 * anchor, a negative anchor): nothing to cache, the answer is at hand. */
uint32_t trust_ttl(const trust_walk_t *w);
/* Fetches made so far (bounded: at most two per label of the zone). */
unsigned trust_fetches(const trust_walk_t *w);

#endif
