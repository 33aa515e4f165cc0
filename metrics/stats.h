/*
 * One worker's metrics: counters, gauges and histograms of what it did.
 *
 * Each worker owns one struct and updates it with plain increments, no lock
 * and no atomic: nobody else reads it while it runs. Readers (the
 * Prometheus endpoint, SIGUSR1, shutdown) get a copy made on the worker's
 * own thread (worker_collect in resolver/daemon/worker.h) and sum the
 * copies field by field, so every field here is a uint64_t, histograms and
 * the shared tier's counters included. Label values come from the fixed enums below, never from query
 * names.
 */
#ifndef CHAINDNS_STATS_H
#define CHAINDNS_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cache/redis.h"
#include "resolver/lib/hist.h"

enum stats_transport { ST_UDP, ST_TCP, ST_NTRANSPORT };

/* Query types with a series of their own; the rest count as "other". */
enum stats_qtype {
  SQ_A, SQ_NS, SQ_CNAME, SQ_SOA, SQ_PTR, SQ_MX, SQ_TXT, SQ_AAAA, SQ_SRV, SQ_DS,
  SQ_DNSKEY, SQ_SVCB, SQ_HTTPS, SQ_CAA, SQ_ANY, SQ_OTHER, SQ_N
};

/* Where an answer (or a chain step) came from; the values of
 * enum chain_source. */
enum stats_source { SS_MEMORY, SS_NETWORK, SS_REDIS, SS_LOCAL, SS_N };

/* What made a chain hop; the values of resolver/core/chain.h's enum
 * hop_kind (chain.c checks that they agree), named here so the metrics do
 * not include the resolution core. */
enum stats_hop { SH_CNAME, SH_DNAME, SH_ALIAS, SH_N };

/* How a CNAME chain ended. */
enum stats_outcome {
  SO_COMPLETE, /* the final RRset was found */
  SO_NODATA,   /* the last name exists without that type */
  SO_DANGLING, /* the last name does not exist */
  SO_LOOP, SO_TOO_LONG, SO_SERVFAIL,
  SO_TIMEOUT,  /* the request's deadline passed */
  SO_N
};

/* Limits that shed load (chaindns_limited_total{limit=...}). */
enum stats_limit {
  SL_REQUESTS,       /* max-requests: REFUSED */
  SL_UPSTREAM,       /* max-upstream-in-flight: that query not sent */
  SL_TCP_PER_CLIENT, /* tcp-max-connections-per-client: connection closed */
  SL_TCP_SLOW,       /* tcp-read-timeout: connection closed */
  SL_RATELIMIT_DROP, /* ratelimit: dropped */
  SL_RATELIMIT_SLIP, /* ratelimit: answered TC=1 */
  SL_TCP_BACKLOG,    /* tcp-max-backlog: a reply would exceed it, connection closed */
  SL_N
};

/* What happened to prefetches (refreshes of popular entries near expiry). */
enum stats_prefetch { SPF_STARTED, SPF_REFRESHED, SPF_FAILED, SPF_SKIPPED, SPF_N };
const char *stats_prefetch_name(enum stats_prefetch p);

/* What a chain is for, from its first name. */
enum stats_purpose { SP_DKIM, SP_MTA_STS, SP_BIMI, SP_OTHER, SP_N };

struct stats {
  uint64_t queries[ST_NTRANSPORT][SQ_N]; /* client queries, by transport and type */
  uint64_t rcode[24];          /* answers sent, by RCODE */
  uint64_t dropped;            /* unanswerable input (no header, QR=1) */
  uint64_t refused_acl;
  uint64_t truncated;          /* UDP answers sent with TC=1 */
  uint64_t tcp_refused;        /* connections over the limit */
  uint64_t tcp_acl_refused;    /* connections closed at accept: outside the access list */
  uint64_t tcp_backlog_pauses; /* connections that stopped being read: replies piled up */
  uint64_t tcp_backlog_bytes;  /* gauge: replies queued to TCP clients, not yet sent */
  uint64_t tcp_backlog_peak;   /* gauge: the most tcp_backlog_bytes has been */
  uint64_t limited[SL_N];      /* queries or connections shed, by limit */
  uint64_t send_dropped;       /* UDP replies the socket would not take */
  uint64_t requests, joined;   /* resolutions started; clients that joined one */
  uint64_t stale_answers;      /* failed resolutions answered stale (RFC 8767) */
  uint64_t in_flight;          /* gauge: resolutions under way */
  struct hist answer_latency[SS_N]; /* query received to answer sent, by source */
  /* CNAME chains */
  uint64_t chains, chain_loops, chain_too_long, chain_dangling;
  uint64_t cname_with_other_data, cname_at_apex;
  struct hist chain_length;                       /* CNAMEs per chain */
  struct hist chain_duration[SO_N][SP_N];         /* whole chain, by outcome and purpose */
  struct hist hop_duration[SS_N];                 /* each CNAME hop, by source */
  uint64_t hops[SH_N];         /* hops followed, by enum stats_hop */
  uint64_t local_answers;      /* chain steps answered from local data */
  uint64_t qmin_minimised;     /* minimised queries sent (RFC 9156) */
  uint64_t qmin_fallback;      /* full names sent after a bad answer to a minimised one */
  uint64_t nxdomain_cuts;      /* NXDOMAINs from a cached NXDOMAIN above (RFC 8020) */
  uint64_t prefetch[4];        /* by enum stats_prefetch */
  /* DNSSEC */
  uint64_t dnssec_answers[4];  /* answers to clients, by enum sec_state */
  uint64_t dnssec_bogus;       /* authority responses that failed validation */
  uint64_t dnssec_aggressive;  /* negative answers made from cached NSEC ranges */
  uint64_t shared_checked;     /* shared-tier entries without a vouched state,
                                  judged here before use */
  uint64_t shared_rejected;    /* ... that did not validate (a miss) */
  uint64_t dnssec_walks[4];    /* chain-of-trust walks finished, by enum sec_state */
  uint64_t chain_secure_to_insecure[SP_N]; /* chains leaving a secure zone for an
                                              insecure one, by purpose */
  /* Filled in from the worker's upstream and shared tier when collected. */
  uint64_t upstream_udp, upstream_tcp, upstream_timeouts;
  uint64_t upstream_mismatched, upstream_case_mismatched, upstream_case_fallbacks;
  struct hist upstream_rtt;
  uint64_t answer_hits, answer_misses, answer_evictions; /* the answer cache */
  uint64_t answer_entries, answer_bytes;                 /* gauges */
  struct redis_stats redis;
};

enum stats_qtype stats_qtype(uint16_t qtype);
const char *stats_qtype_name(enum stats_qtype t);
const char *stats_source_name(enum stats_source s);
/* "cname", "dname", "alias"; "?" for a value out of range. */
const char *stats_hop_name(enum stats_hop h);
const char *stats_outcome_name(enum stats_outcome o);
const char *stats_purpose_name(enum stats_purpose p);
const char *stats_limit_name(enum stats_limit l);

/* The purpose of a chain from its first name (wire format): a _domainkey
 * label means DKIM, a first label mta-sts MTA-STS, a _bimi label BIMI. */
enum stats_purpose stats_purpose_of(const uint8_t *wire, size_t len);

uint64_t stats_queries(const struct stats *s);

/* Every field is a uint64_t, so sums are field by field. */
void stats_add(struct stats *sum, const struct stats *part);
/* One log line of counters; a second for the shared tier when it is on. */
void stats_log(const struct stats *s, bool redis);

#endif
