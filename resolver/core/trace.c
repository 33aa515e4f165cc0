/* Traced resolutions: recording, and showing the result; see trace.h.
 * (Running one from another thread is the diagnostics endpoint's:
 * resolver/daemon/diag.c.) */
#include "resolver/core/trace.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/jbuf.h"
#include "metrics/stats.h"
#include "resolver/core/chain.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

/* ---- recording ------------------------------------------------------------------ */

struct trace *trace_new(uint64_t now_us) {
  struct trace *t = calloc(1, sizeof *t);
  if (t) t->t0_us = now_us;
  return t;
}

int trace_begin(struct trace *t, unsigned depth, const ldns_rdf *qname, uint16_t qtype,
                const ldns_rdf *zone, const struct sockaddr *server, bool tcp,
                uint64_t now_us) {
  if (t->n == TRACE_MAX) {
    t->truncated = true;
    return -1;
  }
  struct trace_query *q = &t->q[t->n];
  memset(q, 0, sizeof *q);
  q->depth = (uint8_t)depth;
  q->tcp = tcp;
  q->qtype = qtype;
  name_str(qname, q->qname, sizeof q->qname);
  name_str(zone, q->zone, sizeof q->zone);
  memcpy(&q->server, server,
         server->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
  q->start_us = now_us - t->t0_us;
  strcpy(q->result, "(no answer yet)");
  return (int)t->n++;
}

void trace_end(struct trace *t, int i, uint64_t now_us, const char *fmt, ...) {
  if (i < 0 || (size_t)i >= t->n) return;
  struct trace_query *q = &t->q[i];
  q->rtt_us = now_us - t->t0_us - q->start_us;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(q->result, sizeof q->result, fmt, ap);
  va_end(ap);
}

static void free_texts(char **texts) {
  for (size_t i = 0; texts && texts[i]; i++) free(texts[i]);
  free(texts);
}

void trace_result_free(struct trace_result *r) {
  if (!r) return;
  free(r->trace);
  free_texts(r->answer);
  free_texts(r->authority);
  free(r);
}

/* ---- showing it ---------------------------------------------------------------------- */

static const char *rcode_name(int rcode) {
  ldns_lookup_table *lt = ldns_lookup_by_id(ldns_rcodes, rcode);
  return lt ? lt->name : "?";
}

static const char *type_name(uint16_t t, char *buf, size_t len) {
  char *s = ldns_rr_type2str((ldns_rr_type)t);
  snprintf(buf, len, "%s", s ? s : "?");
  free(s);
  return buf;
}

static void json_texts(struct jbuf *b, char *const *texts) {
  jbuf_puts(b, "[");
  for (size_t i = 0; texts && texts[i]; i++) {
    size_t n = strlen(texts[i]);
    while (n && texts[i][n - 1] == '\n') texts[i][--n] = 0;
    if (i) jbuf_puts(b, ",");
    jbuf_json_str(b, texts[i]);
  }
  jbuf_puts(b, "]");
}

static void json_query(struct jbuf *b, const struct trace_query *q) {
  char tn[32], server[80];
  jbuf_printf(b, "{\"depth\":%u,\"zone\":", q->depth);
  jbuf_json_str(b, q->zone);
  jbuf_printf(b, ",\"server\":\"%s\",\"qname\":",
              util_addr_str((const struct sockaddr *)&q->server, server, sizeof server));
  jbuf_json_str(b, q->qname);
  jbuf_printf(b, ",\"qtype\":\"%s\",\"minimised\":%s,\"transport\":\"%s\","
              "\"start_ms\":%.3f,\"rtt_ms\":",
              type_name(q->qtype, tn, sizeof tn), q->minimised ? "true" : "false",
              q->tcp ? "tcp" : "udp", (double)q->start_us / 1000.0);
  if (q->rtt_us) jbuf_printf(b, "%.3f", (double)q->rtt_us / 1000.0);
  else jbuf_puts(b, "null");
  jbuf_puts(b, ",\"result\":");
  jbuf_json_str(b, q->result);
  jbuf_puts(b, "}");
}

char *trace_json(const char *name, const char *type, bool nocache, const struct trace_result *r) {
  struct jbuf b = {0};
  jbuf_puts(&b, "{\"name\":");
  jbuf_json_str(&b, name);
  jbuf_puts(&b, ",\"type\":");
  jbuf_json_str(&b, type);
  jbuf_printf(&b, ",\"nocache\":%s,\"rcode\":\"%s\",\"ms\":%.3f,\"upstream_queries\":%u,\"ede\":",
              nocache ? "true" : "false", rcode_name(r->rcode), (double)r->duration_us / 1000.0,
              r->upstream_queries);
  if (r->ede >= 0) {
    jbuf_printf(&b, "{\"code\":%d,\"text\":", r->ede);
    jbuf_json_str(&b, r->ede_text);
    jbuf_puts(&b, "}");
  } else {
    jbuf_puts(&b, "null");
  }
  jbuf_puts(&b, ",\"chain\":");
  chains_rec_json(&b, &r->chain);
  jbuf_puts(&b, ",\"answer\":");
  json_texts(&b, r->answer);
  jbuf_puts(&b, ",\"authority\":");
  json_texts(&b, r->authority);
  jbuf_puts(&b, ",\"queries\":[");
  for (size_t i = 0; r->trace && i < r->trace->n; i++) {
    if (i) jbuf_puts(&b, ",");
    json_query(&b, &r->trace->q[i]);
  }
  jbuf_printf(&b, "],\"queries_truncated\":%s}", r->trace && r->trace->truncated ? "true" : "false");
  return jbuf_take(&b);
}

/* A name kept in a chain record, as text. */
static const char *rec_name(const struct chains_rec *r, uint16_t off, char *buf, size_t len) {
  size_t n = 0;
  snprintf(buf, len, "-");
  if (off >= r->names_len) return buf;
  while (off + n < r->names_len && r->names[off + n]) n += r->names[off + n] + 1u;
  if (off + n < r->names_len) name_wire_text(r->names + off, n + 1, buf, len);
  return buf;
}

static const char *step_server(const struct chains_rec_step *s, char *buf, size_t len) {
  char a[64];
  if (s->family) {
    util_ip_str(s->family, s->addr, a, sizeof a);
    snprintf(buf, len, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, s->port);
  } else {
    snprintf(buf, len, "-");
  }
  return buf;
}

static void print_step(FILE *out, const struct chains_rec *r, const struct chains_rec_step *s,
                       const char *label) {
  char name[1100], target[1100], zone[1100], server[80];
  fprintf(out, "  %-6s %-5s %-34s %-34s %-8s %-20s %-22s %9.3f %7u  %s\n", label,
          s->target == 0xffff ? "" : hop_kind_name((enum hop_kind)s->kind),
          rec_name(r, s->name, name, sizeof name),
          s->target == 0xffff ? "" : rec_name(r, s->target, target, sizeof target),
          stats_source_name((enum stats_source)s->source), rec_name(r, s->zone, zone, sizeof zone),
          step_server(s, server, sizeof server), (double)s->elapsed_us / 1000.0, s->ttl,
          s->target == 0xffff ? "" : s->crossed_zone > 0 ? "yes" : s->crossed_zone ? "?" : "no");
}

void trace_print(FILE *out, const char *name, const char *type, const struct trace_result *r) {
  char server[80], tn[32];
  const struct trace *t = r->trace;
  fprintf(out, "chaindns trace %s %s: %s in %.3f ms, %u upstream quer%s\n\n", name, type,
          rcode_name(r->rcode), (double)r->duration_us / 1000.0, r->upstream_queries,
          r->upstream_queries == 1 ? "y" : "ies");
  fprintf(out, "upstream queries:\n  %3s %-5s %-22s %-22s %-40s %9s  %s\n", "#", "depth", "zone",
          "server", "question", "rtt ms", "result");
  for (size_t i = 0; t && i < t->n; i++) {
    const struct trace_query *q = &t->q[i];
    char question[300];
    snprintf(question, sizeof question, "%s %s%s%s", q->qname,
             type_name(q->qtype, tn, sizeof tn), q->tcp ? " (tcp)" : "",
             q->minimised ? " (minimised)" : "");
    char rtt[16] = "-";
    if (q->rtt_us) snprintf(rtt, sizeof rtt, "%.3f", (double)q->rtt_us / 1000.0);
    fprintf(out, "  %3zu %-5u %-22s %-22s %-40s %9s  %s\n", i + 1, q->depth, q->zone,
            util_addr_str((const struct sockaddr *)&q->server, server, sizeof server), question,
            rtt, q->result);
  }
  if (!t || t->n == 0) fprintf(out, "  (none: answered from the caches)\n");
  const struct chains_rec *c = &r->chain;
  if (c->length) {
    static const char *outcomes[] = {"complete", "nodata", "dangling", "loop",
                                     "too long", "servfail", "timeout"};
    fprintf(out, "\nchain: %u hop(s), %s\n  %-6s %-5s %-34s %-34s %-8s %-20s %-22s %9s %7s  %s\n",
            c->length, c->outcome < 7 ? outcomes[c->outcome] : "?", "hop", "kind", "name", "target",
            "source", "zone", "server", "ms", "ttl", "crossed");
    for (size_t i = 0; i < c->nhops; i++) {
      char label[8];
      snprintf(label, sizeof label, "%zu", i + 1);
      print_step(out, c, &c->hops[i], label);
    }
    if (c->has_final) print_step(out, c, &c->final, "answer");
  }
  if (r->ede >= 0) fprintf(out, "\nextended error %d: %s\n", r->ede, r->ede_text);
  fprintf(out, "\nanswer:\n");
  for (size_t i = 0; r->answer && r->answer[i]; i++) fprintf(out, "  %s", r->answer[i]);
  for (size_t i = 0; r->authority && r->authority[i]; i++) fprintf(out, "  %s", r->authority[i]);
  if (!(r->answer && r->answer[0]) && !(r->authority && r->authority[0]))
    fprintf(out, "  (empty)\n");
}
