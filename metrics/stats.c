/* Worker metrics: label names, chain purposes, sums and the log line; see
 * stats.h. */
#include "metrics/stats.h"

#include <ldns/ldns.h>
#include <string.h>

#include "resolver/lib/log.h"

_Static_assert(sizeof(struct stats) % sizeof(uint64_t) == 0, "stats are uint64_t fields");

static const struct {
  uint16_t type;
  const char *name;
} qtypes[SQ_N] = {
    [SQ_A] = {LDNS_RR_TYPE_A, "A"},         [SQ_NS] = {LDNS_RR_TYPE_NS, "NS"},
    [SQ_CNAME] = {LDNS_RR_TYPE_CNAME, "CNAME"}, [SQ_SOA] = {LDNS_RR_TYPE_SOA, "SOA"},
    [SQ_PTR] = {LDNS_RR_TYPE_PTR, "PTR"},   [SQ_MX] = {LDNS_RR_TYPE_MX, "MX"},
    [SQ_TXT] = {LDNS_RR_TYPE_TXT, "TXT"},   [SQ_AAAA] = {LDNS_RR_TYPE_AAAA, "AAAA"},
    [SQ_SRV] = {LDNS_RR_TYPE_SRV, "SRV"},   [SQ_DS] = {LDNS_RR_TYPE_DS, "DS"},
    [SQ_DNSKEY] = {LDNS_RR_TYPE_DNSKEY, "DNSKEY"}, [SQ_SVCB] = {64, "SVCB"},
    [SQ_HTTPS] = {65, "HTTPS"},             [SQ_CAA] = {LDNS_RR_TYPE_CAA, "CAA"},
    [SQ_ANY] = {LDNS_RR_TYPE_ANY, "ANY"},   [SQ_OTHER] = {0, "other"},
};

enum stats_qtype stats_qtype(uint16_t qtype) {
  for (int i = 0; i < SQ_OTHER; i++)
    if (qtypes[i].type == qtype) return (enum stats_qtype)i;
  return SQ_OTHER;
}

const char *stats_qtype_name(enum stats_qtype t) { return qtypes[t].name; }

const char *stats_prefetch_name(enum stats_prefetch p) {
  static const char *names[SPF_N] = {"started", "refreshed", "failed", "skipped"};
  return (unsigned)p < SPF_N ? names[p] : "?";
}

const char *stats_source_name(enum stats_source s) {
  static const char *names[SS_N] = {"memory", "network", "redis", "local"};
  return names[s];
}

const char *stats_hop_name(enum stats_hop h) {
  static const char *names[SH_N] = {"cname", "dname", "alias"};
  return (unsigned)h < SH_N ? names[h] : "?";
}

const char *stats_outcome_name(enum stats_outcome o) {
  static const char *names[SO_N] = {"complete", "nodata", "dangling", "loop",
                                    "too_long", "servfail", "timeout"};
  return names[o];
}

const char *stats_purpose_name(enum stats_purpose p) {
  static const char *names[SP_N] = {"dkim", "mta_sts", "bimi", "other"};
  return names[p];
}

const char *stats_limit_name(enum stats_limit l) {
  static const char *names[SL_N] = {"requests",       "upstream",       "tcp_per_client",
                                    "tcp_slow",       "ratelimit_drop", "ratelimit_slip",
                                    "tcp_backlog"};
  return names[l];
}

static bool label_is(const uint8_t *label, const char *want) {
  size_t n = strlen(want);
  if (label[0] != n) return false;
  for (size_t i = 0; i < n; i++) {
    uint8_t c = label[1 + i];
    if (c >= 'A' && c <= 'Z') c = (uint8_t)(c + 32);
    if (c != (uint8_t)want[i]) return false;
  }
  return true;
}

enum stats_purpose stats_purpose_of(const uint8_t *wire, size_t len) {
  for (size_t off = 0; off < len && wire[off] && wire[off] < 64; off += wire[off] + 1u) {
    if (off + 1u + wire[off] > len) break;
    if (label_is(wire + off, "_domainkey")) return SP_DKIM;
    if (label_is(wire + off, "_bimi")) return SP_BIMI;
    if (off == 0 && label_is(wire, "mta-sts")) return SP_MTA_STS;
  }
  return SP_OTHER;
}

uint64_t stats_queries(const struct stats *s) {
  uint64_t n = 0;
  for (int t = 0; t < ST_NTRANSPORT; t++)
    for (int q = 0; q < SQ_N; q++) n += s->queries[t][q];
  return n;
}

void stats_add(struct stats *sum, const struct stats *part) {
  uint64_t *d = (uint64_t *)sum;
  const uint64_t *s = (const uint64_t *)part;
  for (size_t i = 0; i < sizeof *sum / sizeof(uint64_t); i++) d[i] += s[i];
}

static void log_redis(const struct redis_stats *r) {
  log_info("stats: redis lookups=%llu lookup_hits=%llu keys_found=%llu skipped=%llu "
           "timeouts=%llu errors=%llu bad_mac=%llu bad_value=%llu flushed=%llu writes=%llu "
           "writes_dropped=%llu breaker_opens=%llu connects=%llu",
           (unsigned long long)r->lookups, (unsigned long long)r->lookup_hits,
           (unsigned long long)r->keys_found, (unsigned long long)r->skipped,
           (unsigned long long)r->timeouts, (unsigned long long)r->errors,
           (unsigned long long)r->bad_mac, (unsigned long long)r->bad_value,
           (unsigned long long)r->flushed,
           (unsigned long long)r->writes, (unsigned long long)r->writes_dropped,
           (unsigned long long)r->breaker_opens, (unsigned long long)r->connects);
}

void stats_log(const struct stats *s, bool redis) {
  uint64_t udp = 0, tcp = 0;
  for (int q = 0; q < SQ_N; q++) {
    udp += s->queries[ST_UDP][q];
    tcp += s->queries[ST_TCP][q];
  }
  log_info("stats: queries udp=%llu tcp=%llu noerror=%llu nxdomain=%llu servfail=%llu "
           "refused=%llu formerr=%llu truncated=%llu dropped=%llu requests=%llu joined=%llu "
           "chains=%llu loops=%llu too_long=%llu dangling=%llu cname_with_other_data=%llu "
           "cname_at_apex=%llu upstream_udp=%llu upstream_tcp=%llu upstream_timeouts=%llu",
           (unsigned long long)udp, (unsigned long long)tcp,
           (unsigned long long)s->rcode[0], (unsigned long long)s->rcode[3],
           (unsigned long long)s->rcode[2], (unsigned long long)s->rcode[5],
           (unsigned long long)s->rcode[1], (unsigned long long)s->truncated,
           (unsigned long long)s->dropped, (unsigned long long)s->requests,
           (unsigned long long)s->joined, (unsigned long long)s->chains,
           (unsigned long long)s->chain_loops, (unsigned long long)s->chain_too_long,
           (unsigned long long)s->chain_dangling,
           (unsigned long long)s->cname_with_other_data,
           (unsigned long long)s->cname_at_apex,
           (unsigned long long)s->upstream_udp, (unsigned long long)s->upstream_tcp,
           (unsigned long long)s->upstream_timeouts);
  if (redis) log_redis(&s->redis);
}
