/*
 * A CNAME chain: the names a lookup passed through, in order, and one hop
 * record per CNAME followed. The chain enforces the length bound and detects
 * loops explicitly, so a pathological zone ends in a SERVFAIL that says what
 * happened instead of spinning until a query budget runs out.
 *
 * A chain is owned by one request and touched only by its worker.
 */
#ifndef CHAINDNS_CHAIN_H
#define CHAINDNS_CHAIN_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolver/lib/util.h" /* socket address types */

/* Where the data for a hop came from. */
enum chain_source {
  CHAIN_SRC_CACHE = 0,   /* the memory tier */
  CHAIN_SRC_NETWORK = 1, /* an authoritative server */
  CHAIN_SRC_REDIS = 2,   /* the shared tier, during this request */
  CHAIN_SRC_LOCAL = 3,   /* local data (local zones) */
};

/* What made a hop: a CNAME, a CNAME synthesised from a DNAME (RFC 6672), or
 * a local ALIAS being flattened. Each counts toward the chain bound. */
enum hop_kind { HOP_CNAME = 0, HOP_DNAME = 1, HOP_ALIAS = 2 };
const char *hop_kind_name(enum hop_kind k);

/* How one name on the chain was resolved: a CNAME hop, or the final answer
 * at the last name. */
struct chain_step {
  enum chain_source source;
  ldns_rdf *zone;                 /* delegation point that answered (owned);
                                     NULL unless from the network */
  struct sockaddr_storage server; /* the server asked; ss_family 0 unless
                                     from the network */
  uint64_t elapsed_us;            /* time spent resolving this name */
  uint32_t ttl;                   /* of the record that answered it */
  uint8_t sec;                    /* DNSSEC state of that record, validated in
                                     its own zone (enum sec_state; 0:
                                     indeterminate, not validated) */
};

/* One CNAME (DNAME, ALIAS) followed. */
struct chain_hop {
  enum hop_kind kind;
  ldns_rdf *owner;  /* the alias (owned) */
  ldns_rdf *target; /* the canonical name it points to (owned) */
  struct chain_step step;
  int8_t crossed_zone; /* 1: the target lies outside the zone that served
                          the CNAME, 0: inside, -1: unknown (from a cache) */
};

enum chain_status {
  CHAIN_OK = 0,
  CHAIN_LOOP = 1,     /* the target is already on the chain */
  CHAIN_TOO_LONG = 2, /* more CNAMEs than the configured maximum */
};

typedef struct chain {
  ldns_rdf *start;          /* the query name (owned) */
  struct chain_hop *hops;   /* hops[0..n) */
  size_t n, cap;
  size_t max_len;           /* max CNAMEs accepted */
  struct chain_step final;  /* the answer at the last name, when has_final */
  bool has_final;
  char why[512];            /* human-readable reason for a failure */
} chain_t;

void chain_init(chain_t *c, const ldns_rdf *start, size_t max_len);
void chain_free(chain_t *c);

/* The name the lookup is now at: the last target, or start. */
const ldns_rdf *chain_current(const chain_t *c);

/* Append owner -> target (owner must equal chain_current), resolved as
 * `step` says (its zone is copied). On CHAIN_LOOP or CHAIN_TOO_LONG the hop
 * is not appended and c->why explains the failure. */
enum chain_status chain_add(chain_t *c, const ldns_rdf *owner, const ldns_rdf *target,
                            const struct chain_step *step);
/* As chain_add, for a hop of another kind. */
enum chain_status chain_add_hop(chain_t *c, enum hop_kind kind, const ldns_rdf *owner,
                                const ldns_rdf *target, const struct chain_step *step);

/* Record how the last name was answered (the zone is copied). */
void chain_set_final(chain_t *c, const struct chain_step *step);

/* A step with no zone or server: data from the memory or shared tier. */
struct chain_step chain_step_cached(enum chain_source source, uint64_t elapsed_us,
                                    uint32_t ttl);

#endif
