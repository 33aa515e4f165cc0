/*
 * DNSSEC trust anchors (RFC 4033 §3): the IANA root KSKs built in, anchors
 * read from files in zone-file syntax (DS or DNSKEY), and negative trust
 * anchors (RFC 7646) below which nothing is validated.
 *
 * Loaded by main before the workers start, then read-only and shared by
 * every worker (and every trust walk) without a lock; freed after the
 * workers have stopped.
 */
#ifndef CHAINDNS_ANCHORS_H
#define CHAINDNS_ANCHORS_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#endif
