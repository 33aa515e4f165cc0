/* Summing and reporting worker counters; see stats.h. */
#include "metrics/stats.h"

#include "resolver/log.h"

void stats_add(struct stats *sum, const struct stats *part) {
  uint64_t *d = (uint64_t *)sum;
  const uint64_t *s = (const uint64_t *)part;
  for (size_t i = 0; i < sizeof *sum / sizeof(uint64_t); i++) d[i] += s[i];
}

static void log_redis(const struct redis_stats *r) {
  log_info("stats: redis lookups=%llu lookup_hits=%llu keys_found=%llu skipped=%llu "
           "timeouts=%llu errors=%llu bad_mac=%llu bad_value=%llu writes=%llu "
           "writes_dropped=%llu breaker_opens=%llu connects=%llu",
           (unsigned long long)r->lookups, (unsigned long long)r->lookup_hits,
           (unsigned long long)r->keys_found, (unsigned long long)r->skipped,
           (unsigned long long)r->timeouts, (unsigned long long)r->errors,
           (unsigned long long)r->bad_mac, (unsigned long long)r->bad_value,
           (unsigned long long)r->writes, (unsigned long long)r->writes_dropped,
           (unsigned long long)r->breaker_opens, (unsigned long long)r->connects);
}

void stats_log(const struct stats *s, bool redis) {
  log_info("stats: queries udp=%llu tcp=%llu noerror=%llu nxdomain=%llu servfail=%llu "
           "refused=%llu formerr=%llu truncated=%llu dropped=%llu requests=%llu joined=%llu "
           "chains=%llu loops=%llu too_long=%llu cname_with_other_data=%llu "
           "upstream_udp=%llu upstream_tcp=%llu upstream_timeouts=%llu",
           (unsigned long long)s->queries_udp, (unsigned long long)s->queries_tcp,
           (unsigned long long)s->rcode[0], (unsigned long long)s->rcode[3],
           (unsigned long long)s->rcode[2], (unsigned long long)s->rcode[5],
           (unsigned long long)s->rcode[1], (unsigned long long)s->truncated,
           (unsigned long long)s->dropped, (unsigned long long)s->requests,
           (unsigned long long)s->joined, (unsigned long long)s->chains,
           (unsigned long long)s->chain_loops, (unsigned long long)s->chain_too_long,
           (unsigned long long)s->cname_with_other_data,
           (unsigned long long)s->upstream_udp, (unsigned long long)s->upstream_tcp,
           (unsigned long long)s->upstream_timeouts);
  if (redis) log_redis(&s->redis);
}
