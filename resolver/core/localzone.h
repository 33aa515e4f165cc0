/*
 * Local zones and local data: names the resolver answers itself (a home
 * network's router.lan, reverse PTRs, names that must never leak to the
 * internet), with the local-zone behaviours operators know from Unbound:
 *
 *   static       local data answers; any other name in the zone gets NODATA
 *                (the name has local data, or data below it) or NXDOMAIN
 *   transparent  local data answers (NODATA for another type at a name that
 *                has data); other names are resolved normally
 *   redirect     the apex's data answers every name in the zone
 *   refuse       REFUSED for names without local data
 *   nodefault    removes the built-in default zone of that name
 *
 * Built-in defaults (static): localhost, the loopback reverse zones, onion,
 * invalid, home.arpa and the RFC 6303 private and special-use reverse zones.
 * Local data outside every configured zone gets a transparent zone at its
 * owner name. Negative answers carry the zone's SOA: the configured one, or
 * a synthesised one.
 *
 * ALIAS (a pseudo-type, local data only): "NAME [TTL] ALIAS TARGET". Asked
 * for A or AAAA at NAME, the resolver resolves TARGET and answers with its
 * addresses under NAME (flattening, as managed DNS providers do for zone
 * apexes and names that also hold MX or TXT).
 *
 * Lifetime: built while the configuration is read (lz_new, lz_add_zone,
 * lz_add_data, lz_finish), then read-only and shared by every worker,
 * reference-counted (a SIGHUP builds a new one). Lookups are thread-safe.
 */
#ifndef CHAINDNS_LOCALZONE_H
#define CHAINDNS_LOCALZONE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct localzones localzones_t;

enum lz_type { LZ_STATIC, LZ_TRANSPARENT, LZ_REDIRECT, LZ_REFUSE };

/* with_defaults: start with the built-in default zones. refs = 1. */
localzones_t *lz_new(bool with_defaults);
localzones_t *lz_ref(localzones_t *z);   /* NULL-safe; returns z */
void lz_unref(localzones_t *z);          /* NULL-safe; the last one frees */

/* "NAME TYPE" (TYPE: static, transparent, redirect, refuse, nodefault).
 * Returns NULL, or a short static description of what is wrong. A later
 * declaration of the same name replaces an earlier one. */
const char *lz_add_zone(localzones_t *z, const char *spec);

/* One record, "NAME [TTL] [IN] TYPE RDATA" (names absolute, the final dot
 * optional; default TTL 3600), or "NAME [TTL] ALIAS TARGET". `where` names
 * its origin for lz_finish's messages (e.g. "chaindns.yaml:12: key
 * 'local-data'" or "--local-data") and is copied. Returns NULL, or a short
 * static description of what is wrong with this line alone. */
const char *lz_add_data(localzones_t *z, const char *spec, const char *where);

/* Checks across records, after the last one: CNAME and other data at one
 * name, two CNAMEs, a CNAME at the apex of a configured zone (use ALIAS),
 * ALIAS with A or AAAA, two ALIASes. Returns 0, or -1 with
 * "WHERE: WHY (got 'LINE')" in err. */
int lz_finish(localzones_t *z, char *err, size_t errlen);

enum lz_verdict {
  LZV_NONE,     /* not local: resolve normally */
  LZV_ANSWER,   /* rrs: the records of the type asked (all types for ANY) */
  LZV_CNAME,    /* rrs: the one CNAME record at the name; follow it */
  LZV_ALIAS,    /* flatten: resolve target (qtype A or AAAA only) */
  LZV_NODATA,   /* soa set */
  LZV_NXDOMAIN, /* soa set */
  LZV_REFUSED,
};

/* A lookup's result. Everything in it is owned by the caller: release it
 * with lz_answer_clear. */
struct lz_answer {
  enum lz_verdict verdict;
  ldns_rr_list *rrs;  /* LZV_ANSWER, LZV_CNAME: copies, owner = qname */
  ldns_rdf *target;   /* LZV_ALIAS */
  uint32_t alias_ttl; /* LZV_ALIAS: the ALIAS record's TTL */
  ldns_rr *soa;       /* LZV_NODATA, LZV_NXDOMAIN: the zone's SOA */
  ldns_rdf *zone;     /* the local zone that answered (any verdict but NONE) */
  enum lz_type type;  /* its type */
};

/* What local data says about (qname, qtype). z may be NULL (LZV_NONE). For
 * a name with no local zone above it this costs one hash probe per label
 * of the name's suffix that some local zone ends in, usually one. */
enum lz_verdict lz_lookup(const localzones_t *z, const ldns_rdf *qname, ldns_rr_type qtype,
                          struct lz_answer *out);
void lz_answer_clear(struct lz_answer *a);

/* How many zones and records are configured (defaults included). */
void lz_counts(const localzones_t *z, size_t *zones, size_t *records);

#endif
