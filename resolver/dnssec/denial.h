/*
 * Proofs of nonexistence from NSEC and NSEC3 records (RFC 4035 5.4, RFC 5155
 * 8, RFC 8198), with no I/O: given the records a response (or the cache)
 * holds for zone `signer`, say whether they prove what the response claims.
 *
 * Signatures are not checked here: the caller hands over only NSEC/NSEC3
 * records whose RRSIGs it has verified with `signer`'s keys. Records of other
 * types (RRSIGs included) are skipped, as are NSEC/NSEC3 records not owned by
 * a name in `signer` (an NSEC3 owner must be one hash label under it), NSEC3
 * records with an unknown hash algorithm (RFC 5155 8.1) or flags other than
 * opt-out (8.2). When NSEC3 records disagree on salt or iterations, the most
 * common parameter set is used and the others are ignored (8.2 allows
 * treating the mix as bogus).
 *
 * Names compare case-insensitively, in canonical order (RFC 4034 6.1). A
 * parent-side NSEC/NSEC3 at a zone cut (NS without SOA) or one with DNAME is
 * never used to deny names below its owner (RFC 6840 4.1, RFC 5155 8.3).
 *
 * Every function fills `why` (which may be NULL) with a one-line reason for
 * any result but DENIAL_PROVEN, fit for EDE EXTRA-TEXT.
 */
#ifndef CHAINDNS_DENIAL_H
#define CHAINDNS_DENIAL_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

/* Above this many extra NSEC3 iterations, a proof is not attempted: the
 * answer is insecure (RFC 9276 3.2; BIND, Unbound, Knot and PowerDNS all stop
 * at 150). */
#define DENIAL_NSEC3_MAX_ITERATIONS 150

/* At most this many names are hashed per call, which bounds the CPU a
 * many-label QNAME can cost (CVE-2023-50868); past it the proof fails. */
#define DENIAL_NSEC3_MAX_HASHES 64

enum denial_result {
  DENIAL_PROVEN,           /* the records prove it */
  DENIAL_OPTOUT,           /* NSEC3 opt-out covers it: insecure delegation
                              possible (RFC 5155 6, 7.2.4): insecure, not bogus */
  DENIAL_NSEC3_ITERATIONS, /* NSEC3 iterations above DENIAL_NSEC3_MAX_ITERATIONS:
                              insecure, EDE 27 "Unsupported NSEC3 Iterations
                              Value" (RFC 9276 3.2) */
  DENIAL_NOT_PROVEN,       /* the records do not prove it (bogus answer: EDE 12
                              "NSEC Missing") */
};

/* Why not proven, for EXTRA-TEXT. */
struct denial_why {
  char text[200];
};

/* NXDOMAIN for qname (RFC 4035 5.4 / RFC 5155 8.4): a record covering qname
 * and one proving no wildcard at the closest encloser. With NSEC3, the next
 * closer name covered by an opt-out record gives DENIAL_OPTOUT. */
enum denial_result denial_nxdomain(const ldns_rdf *qname, const ldns_rdf *signer,
                                   const ldns_rr_list *nsecs, struct denial_why *why);

/* NODATA for (qname, qtype) (RFC 4035 5.4, RFC 5155 8.5/8.6 with erratum
 * 3441): a record matching qname without qtype or CNAME, or with NSEC a
 * record covering qname whose next name lies below it (an empty
 * non-terminal). A parent-side record (NS without SOA) proves nothing for
 * other types: that is a referral. For qtype DS the record must be that
 * parent-side one (NS, no SOA, no DS); without a matching NSEC3, a closest
 * encloser proof with an opt-out next closer gives DENIAL_OPTOUT. Wildcard
 * NODATA is denial_wildcard_nodata's: a caller that cannot tell tries both. */
enum denial_result denial_nodata(const ldns_rdf *qname, ldns_rr_type qtype,
                                 const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                 struct denial_why *why);

/* For a DS query at `name` (RFC 4035 5.4, RFC 5155 8.6, RFC 6840 4.4): PROVEN when the records
 * show a delegation without DS; OPTOUT / NSEC3_ITERATIONS as for denial_nodata; and, when the
 * records show `name` exists in `signer` with no zone cut (a matching NSEC/NSEC3 without NS, SOA
 * or DNAME, or an empty non-terminal), DENIAL_PROVEN with *inside set — the name is part of the
 * zone, not a delegation. Otherwise NOT_PROVEN with why. *inside is false for any other result;
 * a match listing DS is no proof of either. */
enum denial_result denial_ds(const ldns_rdf *name, const ldns_rdf *signer,
                             const ldns_rr_list *nsecs, bool *inside, struct denial_why *why);

/* A positive answer synthesised from a wildcard (its RRSIG labels field is
 * below the label count of qname): prove that no closer match exists (RFC
 * 4035 5.3.4, RFC 5155 8.8). `rrsig_labels` is the answer's RRSIG labels
 * field. A query for the wildcard owner itself ("*.example.com") needs no
 * proof and is DENIAL_PROVEN. */
enum denial_result denial_wildcard_answer(const ldns_rdf *qname, uint8_t rrsig_labels,
                                          const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                          struct denial_why *why);

/* Wildcard NODATA (RFC 4035 3.1.3.4, RFC 5155 8.7): qname does not exist, and
 * the wildcard at its closest encloser exists without qtype or CNAME. */
enum denial_result denial_wildcard_nodata(const ldns_rdf *qname, ldns_rr_type qtype,
                                          const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                          struct denial_why *why);

/* Aggressive use of the validated cache (RFC 8198 5): can (qname, qtype) be
 * answered from these cached NSEC/NSEC3 records of `signer` without asking?
 * DENIAL_PROVEN sets *nxdomain: true to synthesise NXDOMAIN, false for NODATA
 * (plain, empty non-terminal or wildcard). Any other result means ask
 * upstream: an opt-out range may hide an unsigned delegation, so it never
 * synthesises. A name a cached wildcard would answer is not denied. */
enum denial_result denial_aggressive(const ldns_rdf *qname, ldns_rr_type qtype,
                                     const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                     bool *nxdomain, struct denial_why *why);

/* "proven", "opt-out", "nsec3-iterations", "not-proven". */
const char *denial_result_name(enum denial_result r);

#endif
