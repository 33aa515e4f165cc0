/*
 * Per-worker counters of what the resolver did. Each worker owns one struct
 * and increments it without locks; readers sum the workers' copies (a torn
 * read of a 64-bit counter is impossible on the platforms we build for, and
 * a slightly stale sum is fine). The Prometheus endpoint builds on this.
 */
#ifndef CHAINDNS_STATS_H
#define CHAINDNS_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cache/redis.h"

struct stats {
  uint64_t queries_udp, queries_tcp;
  uint64_t rcode[24];          /* answers sent, by RCODE */
  uint64_t dropped;            /* unanswerable input (no header, QR=1) */
  uint64_t refused_acl;
  uint64_t truncated;          /* UDP answers sent with TC=1 */
  uint64_t tcp_refused;        /* connections over the limit */
  uint64_t requests, joined;   /* resolutions started; clients that joined one */
  uint64_t chains, chain_loops, chain_too_long, cname_with_other_data;
  /* Filled in from the worker's upstream and shared tier when reported. */
  uint64_t upstream_udp, upstream_tcp, upstream_timeouts;
  struct redis_stats redis;
};

/* Every field is a uint64_t counter, so sums are field by field. */
void stats_add(struct stats *sum, const struct stats *part);
/* One log line of counters; a second for the shared tier when it is on. */
void stats_log(const struct stats *s, bool redis);

#endif
