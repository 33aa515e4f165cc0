/*
 * Per-worker counters of what the resolver did. Each worker owns one struct
 * and increments it without locks; readers sum the workers' copies (a torn
 * read of a 64-bit counter is impossible on the platforms we build for, and
 * a slightly stale sum is fine). The Prometheus endpoint builds on this.
 */
#ifndef CHAINDNS_STATS_H
#define CHAINDNS_STATS_H

#include <stdint.h>
#include <stdio.h>

struct stats {
  uint64_t queries_udp, queries_tcp;
  uint64_t rcode[24];          /* answers sent, by RCODE */
  uint64_t dropped;            /* unanswerable input (no header, QR=1) */
  uint64_t refused_acl;
  uint64_t truncated;          /* UDP answers sent with TC=1 */
  uint64_t tcp_refused;        /* connections over the limit */
  uint64_t requests, joined;   /* resolutions started; clients that joined one */
  uint64_t chains, chain_loops, chain_too_long, cname_with_other_data;
};

void stats_add(struct stats *sum, const struct stats *part);
void stats_log(const struct stats *s);

#endif
