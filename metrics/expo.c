/* Prometheus text exposition of the resolver's metrics; see expo.h. */
#include "metrics/expo.h"

#include <stdio.h>
#include <string.h>

#include "metrics/jbuf.h"

#define P "chaindns_"

static void family(struct jbuf *b, const char *name, const char *type, const char *help) {
  jbuf_printf(b, "# HELP " P "%s %s\n# TYPE " P "%s %s\n", name, help, name, type);
}

static void sample(struct jbuf *b, const char *name, const char *labels, uint64_t v) {
  if (labels && *labels) jbuf_printf(b, P "%s{%s} %llu\n", name, labels, (unsigned long long)v);
  else jbuf_printf(b, P "%s %llu\n", name, (unsigned long long)v);
}

static void single(struct jbuf *b, const char *name, const char *type, const char *help,
                   uint64_t v) {
  family(b, name, type, help);
  sample(b, name, NULL, v);
}

/* One histogram series: cumulative buckets, _sum and _count. */
static void hist_series(struct jbuf *b, const char *name, const char *labels,
                        const struct hist *h, const struct hist_bounds *bd) {
  const char *sep = labels && *labels ? "," : "";
  labels = labels ? labels : "";
  uint64_t cum = 0;
  for (size_t i = 0; i <= bd->count; i++) {
    cum += h->n[i];
    if (i < bd->count)
      jbuf_printf(b, P "%s_bucket{%s%sle=\"%.6g\"} %llu\n", name, labels, sep,
                  (double)bd->le[i] * bd->scale, (unsigned long long)cum);
    else
      jbuf_printf(b, P "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                  (unsigned long long)cum);
  }
  const char *open = *labels ? "{" : "", *close = *labels ? "}" : "";
  jbuf_printf(b, P "%s_sum%s%s%s %.9g\n", name, open, labels, close, (double)h->sum * bd->scale);
  jbuf_printf(b, P "%s_count%s%s%s %llu\n", name, open, labels, close, (unsigned long long)cum);
}

void expo_label_value(const char *in, char *out, size_t cap) {
  size_t o = 0;
  for (; *in && o + 3 < cap; in++) {
    if (*in == '\\' || *in == '"') out[o++] = '\\';
    if (*in == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
      continue;
    }
    out[o++] = *in;
  }
  out[o] = 0;
}

/* ---- families ---------------------------------------------------------------- */

static void queries(struct jbuf *b, const struct stats *s) {
  static const char *transports[] = {"udp", "tcp"};
  char labels[64];
  family(b, "queries_total", "counter", "Client queries received, by transport and type.");
  for (int t = 0; t < ST_NTRANSPORT; t++)
    for (int q = 0; q < SQ_N; q++) {
      snprintf(labels, sizeof labels, "transport=\"%s\",type=\"%s\"", transports[t],
               stats_qtype_name((enum stats_qtype)q));
      sample(b, "queries_total", labels, s->queries[t][q]);
    }
  static const struct { int code; const char *name; } rcodes[] = {
      {0, "NOERROR"}, {1, "FORMERR"}, {2, "SERVFAIL"}, {3, "NXDOMAIN"},
      {4, "NOTIMP"},  {5, "REFUSED"}, {16, "BADVERS"}};
  family(b, "responses_total", "counter", "Answers sent, by RCODE.");
  uint64_t other = 0;
  for (int i = 0; i < 24; i++) other += s->rcode[i];
  for (size_t i = 0; i < sizeof rcodes / sizeof rcodes[0]; i++) {
    snprintf(labels, sizeof labels, "rcode=\"%s\"", rcodes[i].name);
    sample(b, "responses_total", labels, s->rcode[rcodes[i].code]);
    other -= s->rcode[rcodes[i].code];
  }
  sample(b, "responses_total", "rcode=\"other\"", other);
  single(b, "dropped_queries_total", "counter",
         "Datagrams dropped unanswered: no DNS header, or a response.", s->dropped);
  single(b, "acl_refused_total", "counter", "Queries refused by the access list.",
         s->refused_acl);
  single(b, "truncated_responses_total", "counter", "UDP answers sent with TC=1.",
         s->truncated);
  single(b, "tcp_connections_refused_total", "counter",
         "TCP connections closed at once: over the connection limit.", s->tcp_refused);
  single(b, "acl_refused_connections_total", "counter",
         "TCP connections closed at accept: the client is outside the access list.",
         s->tcp_acl_refused);
  single(b, "tcp_backlog_bytes", "gauge",
         "Bytes of replies queued to TCP clients that have not taken them yet.",
         s->tcp_backlog_bytes);
  single(b, "tcp_backlog_peak_bytes", "gauge",
         "The most tcp_backlog_bytes has been, per worker, summed over the workers.",
         s->tcp_backlog_peak);
  single(b, "tcp_backlog_pauses_total", "counter",
         "TCP connections that stopped being read because replies piled up: 256 KiB "
         "queued to the connection, or the worker's queue near tcp-max-backlog.",
         s->tcp_backlog_pauses);
  single(b, "stale_answers_total", "counter",
         "Answers served stale (RFC 8767, EDE 3) because resolution failed.", s->stale_answers);
  family(b, "limited_total", "counter",
         "Load shed by a limit: requests refused (max-requests), upstream queries not sent "
         "(max-upstream-in-flight), TCP connections closed (per client, slow, replies over "
         "tcp-max-backlog), UDP queries dropped or answered TC=1 (ratelimit).");
  for (int l = 0; l < SL_N; l++) {
    snprintf(labels, sizeof labels, "limit=\"%s\"", stats_limit_name((enum stats_limit)l));
    sample(b, "limited_total", labels, s->limited[l]);
  }
}

static void requests(struct jbuf *b, const struct stats *s) {
  char labels[64];
  single(b, "requests_total", "counter", "Resolutions started (clients asking the same "
         "question at once share one).", s->requests);
  single(b, "requests_joined_total", "counter",
         "Clients that joined a resolution already under way.", s->joined);
  single(b, "requests_in_flight", "gauge", "Resolutions under way.", s->in_flight);
  family(b, "answer_duration_seconds", "histogram",
         "Query received to answer sent, by where the answer came from.");
  for (int src = 0; src < SS_N; src++) {
    snprintf(labels, sizeof labels, "source=\"%s\"", stats_source_name((enum stats_source)src));
    hist_series(b, "answer_duration_seconds", labels, &s->answer_latency[src], &hist_latency);
  }
}

static void chains(struct jbuf *b, const struct stats *s, const struct expo_input *in) {
  char labels[1200], value[1100];
  family(b, "chain_length", "histogram", "CNAME records per chain followed.");
  hist_series(b, "chain_length", NULL, &s->chain_length, &hist_length);
  family(b, "chain_duration_seconds", "histogram",
         "Whole CNAME chains, by outcome and by purpose (from the first name).");
  for (int o = 0; o < SO_N; o++)
    for (int p = 0; p < SP_N; p++) {
      snprintf(labels, sizeof labels, "outcome=\"%s\",purpose=\"%s\"",
               stats_outcome_name((enum stats_outcome)o),
               stats_purpose_name((enum stats_purpose)p));
      hist_series(b, "chain_duration_seconds", labels, &s->chain_duration[o][p], &hist_latency);
    }
  family(b, "chain_hop_duration_seconds", "histogram",
         "Each CNAME hop of a chain, by where its data came from.");
  for (int src = 0; src < SS_N; src++) {
    snprintf(labels, sizeof labels, "source=\"%s\"", stats_source_name((enum stats_source)src));
    hist_series(b, "chain_hop_duration_seconds", labels, &s->hop_duration[src], &hist_latency);
  }
  family(b, "chain_zone_duration_seconds", "histogram",
         "Chain steps (hops and final answers) answered from the network, by the zone "
         "that answered: the busiest zones, the rest as zone=\"other\".");
  for (size_t i = 0; i < in->nzones; i++) {
    expo_label_value(in->zones[i].label, value, sizeof value);
    snprintf(labels, sizeof labels, "zone=\"%s\"", value);
    hist_series(b, "chain_zone_duration_seconds", labels, &in->zones[i].h, &hist_latency);
  }
  single(b, "chain_loops_total", "counter", "CNAME chains that looped (SERVFAIL).",
         s->chain_loops);
  single(b, "chain_too_long_total", "counter",
         "CNAME chains longer than max-chain-length (SERVFAIL).", s->chain_too_long);
  single(b, "chain_dangling_total", "counter",
         "CNAME chains whose last name does not exist (NXDOMAIN).", s->chain_dangling);
  single(b, "cname_with_other_data_total", "counter",
         "Authoritative answers with a CNAME and other data at one name (RFC 1034 3.6.2).",
         s->cname_with_other_data);
  single(b, "cname_at_apex_total", "counter",
         "Authoritative CNAMEs owned by a zone's apex.", s->cname_at_apex);
  family(b, "chain_hops_total", "counter",
         "Chain hops followed, by kind: cname, dname (a CNAME synthesised from a DNAME), "
         "alias (a local ALIAS flattened).");
  for (int k = 0; k < SH_N; k++) {
    snprintf(labels, sizeof labels, "kind=\"%s\"", stats_hop_name((enum stats_hop)k));
    sample(b, "chain_hops_total", labels, s->hops[k]);
  }
}

static void resolution(struct jbuf *b, const struct stats *s) {
  char labels[64];
  single(b, "local_answers_total", "counter",
         "Chain steps answered from local zones and local data.", s->local_answers);
  family(b, "qname_minimisation_total", "counter",
         "QNAME minimisation (RFC 9156): minimised queries sent, and full names sent after "
         "a bad answer to a minimised one (relaxed mode).");
  sample(b, "qname_minimisation_total", "event=\"minimised\"", s->qmin_minimised);
  sample(b, "qname_minimisation_total", "event=\"fallback\"", s->qmin_fallback);
  single(b, "nxdomain_cut_answers_total", "counter",
         "NXDOMAINs answered from a cached NXDOMAIN of a name above (RFC 8020).",
         s->nxdomain_cuts);
  family(b, "prefetch_total", "counter",
         "Background refreshes of popular entries near expiry: started, refreshed, failed, "
         "skipped (prefetch-max reached).");
  for (int p = 0; p < SPF_N; p++) {
    snprintf(labels, sizeof labels, "result=\"%s\"", stats_prefetch_name((enum stats_prefetch)p));
    sample(b, "prefetch_total", labels, s->prefetch[p]);
  }
}

static void dnssec(struct jbuf *b, const struct stats *s) {
  static const char *states[4] = {"indeterminate", "insecure", "secure", "bogus"};
  char labels[64];
  family(b, "dnssec_answers_total", "counter",
         "Answers to clients by DNSSEC state: secure (AD), insecure (unsigned on the way), "
         "bogus (SERVFAIL with an Extended DNS Error), indeterminate (not validated: CD, "
         "dnssec off, or a failure before validation).");
  for (int i = 0; i < 4; i++) {
    snprintf(labels, sizeof labels, "state=\"%s\"", states[i]);
    sample(b, "dnssec_answers_total", labels, s->dnssec_answers[i]);
  }
  single(b, "dnssec_bogus_responses_total", "counter",
         "Authority responses whose signatures or proofs of nonexistence failed validation.",
         s->dnssec_bogus);
  single(b, "dnssec_aggressive_answers_total", "counter",
         "NXDOMAIN and NODATA answers made from cached, validated NSEC ranges without "
         "asking (RFC 8198).", s->dnssec_aggressive);
  single(b, "dnssec_shared_checked_total", "counter",
         "Entries from the shared tier that carried no state chaindns can trust (no "
         "redis-secret), validated again here before they answered.", s->shared_checked);
  single(b, "dnssec_shared_rejected_total", "counter",
         "Such entries that did not validate (answered from the authorities instead).",
         s->shared_rejected);
  family(b, "dnssec_trust_walks_total", "counter",
         "Chains of trust established (DS and DNSKEY fetched and checked from a trust "
         "anchor), by the zone's resulting state.");
  for (int i = 1; i < 4; i++) {
    snprintf(labels, sizeof labels, "state=\"%s\"", states[i]);
    sample(b, "dnssec_trust_walks_total", labels, s->dnssec_walks[i]);
  }
  family(b, "chain_secure_to_insecure_total", "counter",
         "CNAME chains that leave a DNSSEC-secure zone for an insecure one, by purpose "
         "(e.g. a signed domain delegating DKIM to an unsigned provider).");
  for (int p = 0; p < SP_N; p++) {
    snprintf(labels, sizeof labels, "purpose=\"%s\"", stats_purpose_name((enum stats_purpose)p));
    sample(b, "chain_secure_to_insecure_total", labels, s->chain_secure_to_insecure[p]);
  }
}

static void caches(struct jbuf *b, const struct expo_input *in) {
  const struct cache_stats *c = in->cache;
  const struct redis_stats *r = &in->stats->redis;
  const struct stats *s = in->stats;
  family(b, "cache_lookups_total", "counter",
         "Cache lookups by tier and result (answer: finished replies, per UDP query the fast "
         "path could parse; memory: every RRset lookup; redis: fetches).");
  sample(b, "cache_lookups_total", "tier=\"answer\",result=\"hit\"", s->answer_hits);
  sample(b, "cache_lookups_total", "tier=\"answer\",result=\"miss\"", s->answer_misses);
  sample(b, "cache_lookups_total", "tier=\"memory\",result=\"hit\"", c->hits);
  sample(b, "cache_lookups_total", "tier=\"memory\",result=\"miss\"", c->misses);
  if (in->redis) {
    sample(b, "cache_lookups_total", "tier=\"redis\",result=\"hit\"", r->lookup_hits);
    sample(b, "cache_lookups_total", "tier=\"redis\",result=\"miss\"",
           r->lookups - r->lookup_hits);
  }
  family(b, "cache_evictions_total", "counter", "Entries evicted to stay within cache-size.");
  sample(b, "cache_evictions_total", "tier=\"answer\"", s->answer_evictions);
  sample(b, "cache_evictions_total", "tier=\"memory\"", c->evictions);
  family(b, "cache_entries", "gauge", "Entries held by this instance's cache.");
  sample(b, "cache_entries", "tier=\"answer\"", s->answer_entries);
  sample(b, "cache_entries", "tier=\"memory\"", c->entries);
  family(b, "cache_bytes", "gauge", "Bytes held by this instance's cache (entries included).");
  sample(b, "cache_bytes", "tier=\"answer\"", s->answer_bytes);
  sample(b, "cache_bytes", "tier=\"memory\"", c->bytes);
  single(b, "cache_max_bytes", "gauge", "The cache-size bound (both tiers).", in->cache_max_bytes);
}

static void upstream(struct jbuf *b, const struct stats *s) {
  family(b, "upstream_queries_total", "counter",
         "Queries sent to authoritative servers, by transport.");
  sample(b, "upstream_queries_total", "transport=\"udp\"", s->upstream_udp);
  sample(b, "upstream_queries_total", "transport=\"tcp\"", s->upstream_tcp);
  single(b, "upstream_timeouts_total", "counter",
         "Queries to authoritative servers that got no answer in time.", s->upstream_timeouts);
  family(b, "upstream_replies_ignored_total", "counter",
         "Replies from authoritative servers that did not match the query: wrong address, "
         "port, TXID or question (mismatch), or right but for the letter case (case, asked "
         "again over TCP).");
  sample(b, "upstream_replies_ignored_total", "reason=\"mismatch\"", s->upstream_mismatched);
  sample(b, "upstream_replies_ignored_total", "reason=\"case\"", s->upstream_case_mismatched);
  single(b, "upstream_case_fallbacks_total", "counter",
         "Servers found not to echo the letter case of names, then asked without 0x20.",
         s->upstream_case_fallbacks);
  family(b, "upstream_rtt_seconds", "histogram",
         "Round trip of answers accepted from authoritative servers.");
  hist_series(b, "upstream_rtt_seconds", NULL, &s->upstream_rtt, &hist_latency);
}

static void redis(struct jbuf *b, const struct expo_input *in) {
  const struct redis_stats *r = &in->stats->redis;
  single(b, "redis_up", "gauge", "1 when the shared tier's primary is connected.", r->up > 0);
  single(b, "redis_connections", "gauge",
         "Workers whose primary connection is ready.", r->up);
  single(b, "redis_connects_total", "counter", "Connections that became ready.", r->connects);
  single(b, "redis_errors_total", "counter", "Error replies and lost connections.", r->errors);
  family(b, "redis_lookups_total", "counter",
         "Fetches from the shared tier, by outcome (sent: answered or not; skipped: not "
         "sent because it was down, the breaker open or too much outstanding).");
  sample(b, "redis_lookups_total", "result=\"sent\"", r->lookups);
  sample(b, "redis_lookups_total", "result=\"timeout\"", r->timeouts);
  sample(b, "redis_lookups_total", "result=\"skipped\"", r->skipped);
  family(b, "redis_lookup_duration_seconds", "histogram",
         "Fetches answered within the command timeout.");
  hist_series(b, "redis_lookup_duration_seconds", NULL, &r->lookup_latency, &hist_latency);
  family(b, "redis_rejected_values_total", "counter",
         "Values ignored: without a valid HMAC, or garbage, truncated or misplaced.");
  sample(b, "redis_rejected_values_total", "reason=\"bad_mac\"", r->bad_mac);
  sample(b, "redis_rejected_values_total", "reason=\"bad_value\"", r->bad_value);
  sample(b, "redis_rejected_values_total", "reason=\"flushed\"", r->flushed);
  single(b, "redis_writes_total", "counter", "Entries written to the shared tier.", r->writes);
  single(b, "redis_writes_dropped_total", "counter",
         "Writes not sent: the tier was down, the breaker open or the queue full.",
         r->writes_dropped);
  single(b, "redis_breaker_opens_total", "counter", "Times the circuit breaker opened.",
         r->breaker_opens);
}

char *expo_render(const struct expo_input *in) {
  struct jbuf b = {0};
  char labels[128];
  family(&b, "build_info", "gauge", "The running chaindns.");
  snprintf(labels, sizeof labels, "version=\"%s\"", in->version);
  sample(&b, "build_info", labels, 1);
  single(&b, "workers", "gauge", "Worker threads.", in->workers);
  queries(&b, in->stats);
  requests(&b, in->stats);
  chains(&b, in->stats, in);
  resolution(&b, in->stats);
  dnssec(&b, in->stats);
  caches(&b, in);
  upstream(&b, in->stats);
  if (in->redis) redis(&b, in);
  return jbuf_take(&b);
}
