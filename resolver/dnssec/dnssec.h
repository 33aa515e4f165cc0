/*
 * DNSSEC building blocks (RFC 4033-4035, 5155, 6840): trust anchors and
 * the checks of a chain of trust, with no I/O. The resolver fetches DS and
 * DNSKEY RRsets and answers; these functions say whether they verify, and
 * if not, why, in the terms of RFC 8914's Extended DNS Errors.
 *
 * Signature arithmetic is ldns's (ldns_verify_rrsig_time and friends, on
 * OpenSSL); what is decided here is which keys count: a DNSKEY RRset is
 * trusted when a key matching a DS (or an anchor) has the Zone Key bit and
 * signs the set; an RRset is trusted when one of its RRSIGs, made by its
 * zone, verifies with a trusted key inside its validity window.
 *
 * Trust anchors are read-only after loading and shared by every worker.
 */
#ifndef CHAINDNS_DNSSEC_H
#define CHAINDNS_DNSSEC_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The security state of data (RFC 4033 §5). */
enum sec_state {
  SEC_INDETERMINATE = 0, /* not (yet) known */
  SEC_INSECURE = 1,      /* provably unsigned: no trust anchor above, or a
                            proven absence of DS on the way */
  SEC_SECURE = 2,        /* signatures verified up to a trust anchor */
  SEC_BOGUS = 3,         /* should verify and does not */
};
const char *sec_state_name(enum sec_state s);

/* Extended DNS Error codes for DNSSEC failures (RFC 8914 §4). */
#define EDE_UNSUPPORTED_DNSKEY_ALGORITHM 1
#define EDE_UNSUPPORTED_DS_DIGEST 2
#define EDE_DNSSEC_INDETERMINATE 5
#define EDE_DNSSEC_BOGUS 6
#define EDE_SIGNATURE_EXPIRED 7
#define EDE_SIGNATURE_NOT_YET_VALID 8
#define EDE_DNSKEY_MISSING 9
#define EDE_RRSIGS_MISSING 10
#define EDE_NO_ZONE_KEY_BIT_SET 11
#define EDE_NSEC_MISSING 12

/* A verdict: the state, and for a bogus one the EDE and the reason. */
struct sec_result {
  enum sec_state state;
  int ede;        /* -1 unless bogus */
  char why[256];  /* "zone example.com.: RRSIG of www.example.com./A expired ..." */
};

/* ---- trust anchors ---------------------------------------------------------- */

typedef struct trust_anchors trust_anchors_t;

struct ta_entry {
  ldns_rdf *zone;
  ldns_rr_list *ds;     /* DS records (may be empty) */
  ldns_rr_list *keys;   /* DNSKEY records given directly (may be empty) */
  char *source;         /* the file it came from (owned); NULL: built in */
};

/* with_root: start with the IANA root KSKs (KSK-2017 and KSK-2024, as DS). */
trust_anchors_t *ta_new(bool with_root);
void ta_free(trust_anchors_t *ta);

/* One anchor in zone-file syntax: "NAME [TTL] [IN] DS ..." or "... DNSKEY
 * ...". Returns NULL or a short static reason. */
const char *ta_add(trust_anchors_t *ta, const char *line);

/* A file of such lines (comments with ';' or '#', blank lines). Returns 0,
 * or -1 with "FILE:LINE: why" in err. Anchors of a domain a file names
 * replace the built-in ones of that domain. */
int ta_load_file(trust_anchors_t *ta, const char *path, char *err, size_t errlen);

/* A negative trust anchor (RFC 7646): no validation at or below name. */
const char *ta_add_negative(trust_anchors_t *ta, const char *name);

/* The anchor closest at or above name, or NULL; *negative is set when a
 * negative anchor is closer than it (or there is no anchor and one is). */
const struct ta_entry *ta_closest(const trust_anchors_t *ta, const ldns_rdf *name,
                                  bool *negative);

size_t ta_count(const trust_anchors_t *ta);

/* The anchors in force, for the start-up report: entry i (i < ta_count),
 * negative anchor i (i < ta_count_negative). */
const struct ta_entry *ta_entry_at(const trust_anchors_t *ta, size_t i);
size_t ta_count_negative(const trust_anchors_t *ta);
const ldns_rdf *ta_negative_at(const trust_anchors_t *ta, size_t i);

/* Is `tag` the key tag of a trust anchor of the root in force (a DS's key
 * tag field, or a DNSKEY's computed tag)? For RFC 8509's key sentinel. */
bool ta_root_has_keytag(const trust_anchors_t *ta, uint16_t tag);

/* "DS 20326/8/2, 38696/8/2" or "DNSKEY 12345/13": the keys an anchor holds
 * (tag/algorithm[/digest]), in buf. */
const char *ta_entry_keys(const struct ta_entry *e, char *buf, size_t len);

/* ---- verification ----------------------------------------------------------- */

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
