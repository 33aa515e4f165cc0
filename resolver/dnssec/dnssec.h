/*
 * DNSSEC building blocks (RFC 4033-4035, 5155, 6840): the checks of a chain
 * of trust, with no I/O. The resolver fetches DS and DNSKEY RRsets and
 * answers; these functions say whether they verify, and if not, why, in
 * the terms of RFC 8914's Extended DNS Errors.
 *
 * Signature arithmetic is ldns's (ldns_verify_rrsig_time and friends, on
 * OpenSSL); what is decided here is which keys count: a DNSKEY RRset is
 * trusted when a key matching a DS (or an anchor) has the Zone Key bit and
 * signs the set; an RRset is trusted when one of its RRSIGs, made by its
 * zone, verifies with a trusted key inside its validity window.
 *
 * The trust anchors a chain starts from are in anchors.h; the states and
 * verdicts these functions return, in sec.h. Pure functions: any thread.
 */
#ifndef CHAINDNS_DNSSEC_H
#define CHAINDNS_DNSSEC_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "resolver/dnssec/sec.h"

/* Whether a DS can be used: its key algorithm and digest type are ones
 * this build verifies. A zone whose DS records are all unusable is
 * treated as insecure (RFC 4035 §5.2, RFC 6840 §5.2). */
bool dnssec_ds_supported(const ldns_rr *ds);

/* The DNSKEY RRset of zone, with its RRSIGs (sigs: RRSIG records, any
 * covered type; those covering DNSKEY and made by zone are used), checked
 * against ds (DS records) or anchor_keys (trusted DNSKEYs): SECURE when a
 * key matching one of them has the Zone Key bit and makes a signature over
 * the set that verifies at `now`. */
void dnssec_verify_dnskeys(const ldns_rdf *zone, const ldns_rr_list *dnskeys,
                           const ldns_rr_list *sigs, const ldns_rr_list *ds,
                           const ldns_rr_list *anchor_keys, time_t now, struct sec_result *out);

/* An RRset (one owner and type) with sigs, signed by `zone` whose trusted
 * DNSKEY RRset is keys: SECURE when one RRSIG covering it, with signer
 * zone, verifies at `now` with a key of keys. *labels gets that RRSIG's
 * labels field (a wildcard expansion has fewer labels than the owner), or
 * 0. */
void dnssec_verify_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                         const ldns_rdf *zone, const ldns_rr_list *keys, time_t now,
                         uint8_t *labels, struct sec_result *out);

/* The RRSIGs in list covering (owner, type); a new shallow list, NULL if
 * none. */
ldns_rr_list *dnssec_sigs_for(const ldns_rr_list *list, const ldns_rdf *owner,
                              ldns_rr_type type);

#endif
