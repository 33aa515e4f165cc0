/*
 * The iterative-resolution state machine for one question, free of I/O.
 *
 * It consumes cache contents and parsed responses and produces the next
 * thing to do: send a query to a server, resolve a name server's address
 * first (a sub-lookup), or finish. The driver (request.c) owns sockets and
 * timers and feeds events back; unit tests feed canned packets instead.
 *
 * States, one function each, driven by iter_next():
 *   CACHE     answer from cache, following cached CNAMEs; on a memory miss,
 *             when a shared tier is configured, fetch the name's entries
 *             (and the names of a chain known to start there) first
 *   WAIT_FETCH a shared-tier fetch is out; iter_on_fetch_done continues
 *   FIND_ZONE closest cached delegation for the current name (or root hints)
 *   SELECT    choose a server by RTT; or ask for a glueless NS address;
 *             or give up when the zone's servers are exhausted
 *   WAIT      a query is out; iter_on_response/timeout/error continue
 *   WAIT_SUB  glueless NS lookups are out (in parallel); the first address
 *             that arrives continues, iter_on_sub_done
 *   TRUST     DNSSEC: a response must be validated with the keys of a zone
 *             that are not at hand (no key cache entry): the response is
 *             kept, the driver walks the chain of trust (IA_TRUST), and
 *             iter_on_trust takes the response up again with the keys.
 *             Validated data is cached with its RRSIGs and state; each hop
 *             of a chain is judged in its own zone.
 *   DONE      result ready
 *
 * Ownership: an iter is owned by its driver and used by one worker thread.
 * Packets passed in are only borrowed for the duration of the call.
 */
#ifndef CHAINDNS_ITERATOR_H
#define CHAINDNS_ITERATOR_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

#include "resolver/lib/util.h" /* socket address types */

#include "cache/cache.h"
#include "metrics/stats.h"
#include "resolver/core/chain.h"
#include "resolver/dnssec/anchors.h"
#include "resolver/dnssec/dnssec.h"
#include "resolver/core/hints.h"
#include "resolver/core/iter_modes.h" /* enum qmin_mode, enum nxcut_mode */
#include "resolver/dnssec/keycache.h"
#include "resolver/core/localzone.h"
#include "resolver/dnssec/nseccache.h"
#include "resolver/core/servers.h"

/* Prefetch: an entry is near expiry in the last tenth of its original
 * TTL, for TTLs of at least this many seconds. */
#define PREFETCH_MIN_TTL 10

struct iter_config {
  size_t max_chain_length;      /* CNAMEs accepted on one chain */
  uint32_t max_upstream_queries; /* per client request, sub-lookups included */
  uint32_t max_depth;           /* nesting of glueless NS lookups */
  uint32_t zone_max_timeouts;   /* timeouts tolerated per zone per request */
  uint32_t zone_timeout_budget_ms; /* time spent waiting on timeouts per zone
                                      per request before giving up; 0: none */
  uint16_t upstream_port;
  bool ipv4, ipv6;
  bool shared_tier;             /* ask the shared (Redis) tier on memory misses */
  bool no_timing;               /* leave chain steps untimed (instrumentation off) */
  enum qmin_mode qmin;
  enum nxcut_mode nxcut;
  uint32_t max_neg_ttl;         /* and its clamp on negative TTLs */
  uint32_t min_ttl, max_ttl;    /* the cache's clamps, so prefetch windows match
                                   what the cache keeps; 0, 0: none */
  bool dnssec;                  /* validate (top-level lookups without CD) */
};

/* Iterators are big (a few kB: above malloc's fast bins), so a worker
 * keeps a few finished ones for reuse. */
typedef struct iter_pool iter_pool_t;
iter_pool_t *iter_pool_new(void);
void iter_pool_free(iter_pool_t *p);

/* Time and randomness as the iterator sees them. The iterator reads no
 * clock and draws no random number of its own: it asks its environment, so
 * unit tests drive it with a fake clock and a fixed sequence. Every member
 * may be NULL, meaning the real one (resolver/lib/util.h); a zeroed
 * iter_clock is the daemon's. There is one monotonic source: milliseconds
 * are mono_us / 1000 when mono_us is set, so a fake cannot disagree with
 * itself. Called on the worker's thread only; arg is the owner's and must
 * outlive every iterator of the environment. */
struct iter_clock {
  int64_t (*now_sec)(void *arg);  /* wall-clock seconds since the epoch: cache
                                     expiry, prefetch windows, RRSIG validity
                                     (util_now_sec) */
  uint64_t (*mono_us)(void *arg); /* monotonic microseconds: hop latency, and
                                     in ms the server table's timeout memory
                                     (util_mono_us, util_mono_ms) */
  uint32_t (*random)(void *arg);  /* uniform 32 bits: tie-breaks among equal
                                     servers (util_random) */
  void *arg;
};

/* Per-worker environment shared by all iterators of that worker. */
struct iter_env {
  iter_pool_t *pool;            /* or NULL: plain allocation */
  cache_t *cache;
  const struct cache_sink *sink; /* the shared tier's writer, or NULL */
  servers_t *servers;
  const struct hints *hints;
  const struct iter_config *cfg;
  const struct localzones *local; /* local zones and data, or NULL */
  struct stats *stats;            /* the worker's counters, or NULL */
  const trust_anchors_t *anchors; /* DNSSEC trust anchors (cfg->dnssec) */
  keycache_t *keys;               /* zones' established keys, shared; or NULL */
  nseccache_t *nsecs;             /* validated NSEC ranges (RFC 8198), shared;
                                     NULL: no aggressive use */
  struct iter_clock clock;        /* zeroed: the real clocks and randomness */
};

enum iter_action_kind {
  IA_NONE,  /* waiting for an event: nothing to do now */
  IA_SEND, IA_SUB, IA_FETCH, IA_DONE,
  IA_TRUST  /* establish the keys that speak for act->zone (a trust walk,
               resolver/dnssec/trust.h; from act->trust_from's keys when set) and
               hand the outcome to iter_on_trust */
};

#define ITER_SUB_MAX 4 /* NS names of a glueless delegation looked up at once */

struct iter_action {
  enum iter_action_kind kind;
  /* IA_SEND: where and what; valid until the next event. */
  const struct sockaddr *addr;
  socklen_t addrlen;
  const ldns_rdf *qname;
  ldns_rr_type qtype;
  const ldns_rdf *zone;
  bool tcp, edns;
  uint32_t timeout_ms;
  /* IA_SUB: name server addresses to look up, all at once (qtype above);
   * each lookup's result comes back with sub_gen. */
  const ldns_rdf *sub_names[ITER_SUB_MAX];
  size_t nsub;
  uint32_t sub_gen;
  /* IA_FETCH: the keys; valid until the next event. */
  const struct fetch_key *keys;
  size_t nkeys;
  /* IA_TRUST: a zone above act->zone whose DNSKEY RRset is already trusted
   * (from the key cache, for trust_ttl more seconds), or NULL: start at the
   * anchor. Valid until the next event. */
  const ldns_rdf *trust_from;
  const ldns_rr_list *trust_keys;
  uint32_t trust_ttl;
};

/* Extended DNS Error codes used (RFC 8914). */
#define EDE_NONE (-1)
#define EDE_OTHER 0
#define EDE_STALE_ANSWER 3
#define EDE_PROHIBITED 18
#define EDE_NO_REACHABLE_AUTHORITY 22

struct iter_result {
  ldns_pkt_rcode rcode;
  ldns_rr_list *answer;    /* chain CNAMEs in order, then the final RRset */
  ldns_rr_list *authority; /* SOA for negative answers */
  int ede;                 /* EDE_NONE or an info-code */
  char ede_text[600];
  enum chain_status chain_status; /* CHAIN_LOOP / CHAIN_TOO_LONG ended it */
  uint32_t cname_with_other_data; /* RFC 1034 §3.6.2 violations seen */
  uint32_t cname_at_apex;         /* CNAMEs owned by the zone's apex */
  uint32_t upstream_queries;      /* by this iterator (sub-lookups not included) */
  bool timed_out;                 /* ended by the request's deadline */
  bool from_shared_tier;          /* the shared tier supplied data */
  bool stale;                     /* stale mode used expired data (RFC 8767) */
  bool has_data;                  /* NOERROR with the final RRset (not NODATA) */
  bool dangling;                  /* an ALIAS target that does not exist */
  int64_t prefetch_at;            /* wall-clock second from which the answer's
                                     first record is near expiry; 0: never */
  enum sec_state sec;             /* DNSSEC: SECURE when every hop and the
                                     answer are; INSECURE when one is
                                     unsigned; INDETERMINATE when not
                                     validated (CD, dnssec off, errors) */
  enum chain_source source;       /* where the answer came from: the network
                                     if any upstream query was made for the
                                     request, else the shared tier if it
                                     supplied data, else memory */
};

typedef struct iter iter_t;

/* budget: shared upstream-query counter of the whole client request; NULL
 * for a top-level lookup, which then owns one. */
iter_t *iter_new(const struct iter_env *env, const ldns_rdf *qname, ldns_rr_type qtype,
                 uint32_t depth, uint32_t *budget);
void iter_free(iter_t *it);

/* Run until the next action. Call after creation and after every event. */
void iter_next(iter_t *it, struct iter_action *act);

void iter_on_response(iter_t *it, const ldns_pkt *resp, uint32_t rtt_ms);
void iter_on_timeout(iter_t *it);
void iter_on_error(iter_t *it, const char *why); /* e.g. connection refused */
/* One of the sub-lookups ended (sub NULL: it failed to start). Results for
 * a zone the iterator has left (another gen) only end that lookup. Once the
 * first address arrives the iterator goes on; later ones add servers. */
void iter_on_sub_done(iter_t *it, const struct iter_result *sub, uint32_t gen);
/* The fetch ended; res NULL means nothing was found (miss, timeout, or the
 * tier is unavailable): resolution goes on. */
void iter_on_fetch_done(iter_t *it, const struct fetch_result *res);
/* The request's overall deadline passed: finish with SERVFAIL now. */
void iter_on_deadline(iter_t *it);

/* The outcome of the walk asked for with IA_TRUST: its result, the zone it
 * ended at (trust_zone: when SECURE the zone holding act->zone, whose
 * DNSKEY RRset keys is; NULL: act->zone itself); all borrowed for the call. */
void iter_on_trust(iter_t *it, const struct sec_result *res, const ldns_rdf *zone,
                   const ldns_rr_list *keys);

/* No validation for this lookup (the client set CD, or a sub-lookup whose
 * data the caller checks itself): cached data is used whatever its state
 * and what is learned is stored as indeterminate. Top-level lookups
 * validate when cfg->dnssec; sub-lookups (depth > 0) never do. Set before
 * the first iter_next. */
void iter_set_cd(iter_t *it);

const struct iter_result *iter_result(const iter_t *it);
const chain_t *iter_chain(const iter_t *it);
ldns_rr_type iter_qtype(const iter_t *it);

/* Diagnostics: record every upstream query into t (owned by the caller, it
 * must outlive the iterator), and with nocache resolve from the root hints
 * without reading the memory or shared tiers or cached delegations (what is
 * learned is still stored). */
struct trace;
void iter_set_trace(iter_t *it, struct trace *t, bool nocache);
struct trace *iter_trace(const iter_t *it);
bool iter_nocache(const iter_t *it);

/* Stale mode (serve-stale, RFC 8767): answer only from the memory cache,
 * entries expired within its stale window included (their TTLs become
 * stale_ttl); never a query, never a fetch. Ends with SERVFAIL when the
 * cache cannot answer the whole chain. Set before the first iter_next. */
void iter_set_stale(iter_t *it, uint32_t stale_ttl);
bool iter_done(const iter_t *it);

/* Refresh mode (prefetch): cached entries near expiry count as misses, so
 * they are asked for again and replaced. Set before the first iter_next. */
void iter_set_refresh(iter_t *it);

#endif
