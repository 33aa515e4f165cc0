/* The /chains tables and their JSON; see chains.h. */
#include "metrics/chains.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/jbuf.h"
#include "metrics/stats.h"
#include "resolver/lib/name.h"

#define NO_NAME 0xffff

/* ---- building a record ---------------------------------------------------- */

void chains_rec_start(struct chains_rec *r, const uint8_t *qname, size_t qlen, uint16_t qtype) {
  memset(r, 0, offsetof(struct chains_rec, names));
  r->qtype = qtype;
  r->count = 1;
  chains_rec_name(r, qname, qlen);
}

uint16_t chains_rec_name(struct chains_rec *r, const uint8_t *wire, size_t len) {
  if (!wire || len == 0 || r->names_len + len > CHAINS_REC_NAMES) return NO_NAME;
  uint16_t off = r->names_len;
  memcpy(r->names + off, wire, len);
  r->names_len = (uint16_t)(off + len);
  return off;
}

void chains_rec_server(struct chains_rec_step *s, const struct sockaddr_storage *ss) {
  s->family = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const void *)ss;
    s->family = AF_INET;
    memcpy(s->addr, &in->sin_addr, 4);
    s->port = ntohs(in->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const void *)ss;
    s->family = AF_INET6;
    memcpy(s->addr, &in6->sin6_addr, 16);
    s->port = ntohs(in6->sin6_port);
  }
}

/* ---- the tables ---------------------------------------------------------------- */

void chains_tables_init(struct chains_tables *t) { memset(t, 0, sizeof *t); }

/* Length of the wire name at the start of a record's names, or 0. */
static size_t first_name_len(const struct chains_rec *r) {
  size_t len = 0;
  while (len < r->names_len && r->names[len]) len += r->names[len] + 1u;
  return len < r->names_len ? len + 1 : 0;
}

/* Same type, same first name (records hold canonical names). */
static bool same_question(const struct chains_rec *a, const struct chains_rec *b) {
  size_t la = first_name_len(a);
  return a->qtype == b->qtype && la && la == first_name_len(b) &&
         memcmp(a->names, b->names, la) == 0;
}

/* Push into a ring of `size`; a repeat of the newest entry bumps it. */
static void ring_push(struct chains_rec *ring, size_t size, struct chains_ring *st,
                      const struct chains_rec *r) {
  if (st->used) {
    struct chains_rec *last = &ring[(st->next + size - 1) % size];
    if (same_question(last, r)) {
      uint32_t count = last->count + 1;
      memcpy(last, r, offsetof(struct chains_rec, names) + r->names_len);
      last->count = count;
      return;
    }
  }
  memcpy(&ring[st->next], r, offsetof(struct chains_rec, names) + r->names_len);
  st->next = (st->next + 1) % size;
  if (st->used < size) st->used++;
}

/* Keep the slowest of the last hour: an entry out of the window goes
 * first, else the fastest, if the new one is slower. */
static void slowest_add(struct chains_tables *t, const struct chains_rec *r) {
  size_t victim = t->slowest_used;
  if (victim == CHAINS_SLOWEST) {
    int64_t horizon = r->when_us - (int64_t)CHAINS_SLOW_WINDOW_S * 1000000;
    victim = 0;
    for (size_t i = 1; i < CHAINS_SLOWEST; i++) {
      const struct chains_rec *v = &t->slowest[victim], *c = &t->slowest[i];
      bool v_old = v->when_us < horizon, c_old = c->when_us < horizon;
      if (c_old != v_old ? c_old : c->duration_us < v->duration_us) victim = i;
    }
    const struct chains_rec *v = &t->slowest[victim];
    if (v->when_us >= horizon && v->duration_us >= r->duration_us) return;
  } else {
    t->slowest_used++;
  }
  memcpy(&t->slowest[victim], r, offsetof(struct chains_rec, names) + r->names_len);
}

void chains_tables_add(struct chains_tables *t, const struct chains_rec *r, bool from_memory) {
  if (r->outcome == SO_LOOP || r->outcome == SO_TOO_LONG)
    ring_push(t->broken, CHAINS_BROKEN, &t->broken_ring, r);
  if (r->outcome == SO_DANGLING) ring_push(t->dangling, CHAINS_DANGLING, &t->dangling_ring, r);
  if (from_memory) return;
  ring_push(t->recent, CHAINS_RECENT, &t->recent_ring, r);
  slowest_add(t, r);
}

/* ---- JSON ---------------------------------------------------------------------- */

static void json_name(struct jbuf *b, const struct chains_rec *r, uint16_t off) {
  char text[1100];
  size_t avail = off < r->names_len ? r->names_len - off : 0;
  size_t len = 0;
  while (len < avail && r->names[off + len]) len += r->names[off + len] + 1u;
  if (off == NO_NAME || len >= avail || !name_wire_text(r->names + off, len + 1, text, sizeof text))
    jbuf_puts(b, "null");
  else
    jbuf_json_str(b, text);
}

/* The names of enum sec_state (resolver/dnssec/sec.h), as /chains shows them. */
static const char *sec_name(uint8_t sec) {
  static const char *names[4] = {"indeterminate", "insecure", "secure", "bogus"};
  return names[sec & 3];
}

static void json_step(struct jbuf *b, const struct chains_rec *r, const struct chains_rec_step *s) {
  char addr[64] = "";
  jbuf_puts(b, "{\"name\":");
  json_name(b, r, s->name);
  if (s->target != NO_NAME) {
    jbuf_puts(b, ",\"target\":");
    json_name(b, r, s->target);
    jbuf_printf(b, ",\"kind\":\"%s\"", stats_hop_name((enum stats_hop)s->kind));
  }
  jbuf_printf(b, ",\"source\":\"%s\",\"zone\":", stats_source_name((enum stats_source)s->source));
  json_name(b, r, s->zone);
  jbuf_puts(b, ",\"server\":");
  if (s->family && inet_ntop(s->family, s->addr, addr, sizeof addr))
    jbuf_printf(b, s->family == AF_INET6 ? "\"[%s]:%u\"" : "\"%s:%u\"", addr, s->port);
  else
    jbuf_puts(b, "null");
  jbuf_printf(b, ",\"ms\":%.3f,\"ttl\":%u,\"security\":\"%s\"",
              (double)s->elapsed_us / 1000.0, s->ttl, sec_name(s->sec));
  if (s->target != NO_NAME)
    jbuf_printf(b, ",\"crossed_zone\":%s",
                s->crossed_zone < 0 ? "null" : s->crossed_zone ? "true" : "false");
  jbuf_puts(b, "}");
}

void chains_rec_json(struct jbuf *b, const struct chains_rec *r) {
  char when[40], tname[32];
  time_t sec = (time_t)(r->when_us / 1000000);
  struct tm tm;
  gmtime_r(&sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  char *t = ldns_rr_type2str((ldns_rr_type)r->qtype);
  snprintf(tname, sizeof tname, "%s", t ? t : "?");
  free(t);
  jbuf_puts(b, "{\"name\":");
  json_name(b, r, 0);
  jbuf_printf(b, ",\"type\":\"%s\",\"time\":\"%s.%03dZ\",\"ms\":%.3f,\"outcome\":\"%s\","
              "\"purpose\":\"%s\",\"length\":%u,\"count\":%u,\"security\":\"%s\",\"why\":",
              tname, when, (int)(r->when_us / 1000 % 1000), (double)r->duration_us / 1000.0,
              stats_outcome_name((enum stats_outcome)r->outcome),
              stats_purpose_name((enum stats_purpose)r->purpose), r->length, r->count,
              sec_name(r->sec));
  if (r->why[0]) jbuf_json_str(b, r->why);
  else jbuf_puts(b, "null");
  jbuf_puts(b, ",\"hops\":[");
  for (size_t i = 0; i < r->nhops; i++) {
    if (i) jbuf_puts(b, ",");
    json_step(b, r, &r->hops[i]);
  }
  jbuf_puts(b, "],\"answer\":");
  if (r->has_final) json_step(b, r, &r->final);
  else jbuf_puts(b, "null");
  jbuf_puts(b, "}");
}

static int newest_first(const void *a, const void *b) {
  const struct chains_rec *x = *(const struct chains_rec *const *)a;
  const struct chains_rec *y = *(const struct chains_rec *const *)b;
  return x->when_us < y->when_us ? 1 : x->when_us > y->when_us ? -1 : 0;
}

static int slowest_first(const void *a, const void *b) {
  const struct chains_rec *x = *(const struct chains_rec *const *)a;
  const struct chains_rec *y = *(const struct chains_rec *const *)b;
  return x->duration_us < y->duration_us ? 1 : x->duration_us > y->duration_us ? -1 : 0;
}

/* One array of the merged tables: entries of every worker, sorted, the
 * first `keep`. */
static void json_array(struct jbuf *b, const char *key, const struct chains_rec **all, size_t n,
                       size_t keep, int (*order)(const void *, const void *)) {
  qsort(all, n, sizeof *all, order);
  jbuf_printf(b, "\"%s\":[", key);
  for (size_t i = 0; i < n && i < keep; i++) {
    if (i) jbuf_puts(b, ",");
    chains_rec_json(b, all[i]);
  }
  jbuf_puts(b, "]");
}

char *chains_tables_json(const struct chains_tables *const *tables, size_t n, int64_t now_us) {
  struct jbuf b = {0};
  size_t cap = n * CHAINS_RECENT + 1;
  const struct chains_rec **all = malloc(cap * sizeof *all);
  if (!all) return NULL;
  int64_t horizon = now_us - (int64_t)CHAINS_SLOW_WINDOW_S * 1000000;
  jbuf_puts(&b, "{");
  for (int kind = 0; kind < 4; kind++) {
    size_t m = 0;
    for (size_t w = 0; w < n; w++) {
      const struct chains_tables *t = tables[w];
      const struct chains_rec *arr[] = {t->recent, t->slowest, t->dangling, t->broken};
      size_t used[] = {t->recent_ring.used, t->slowest_used, t->dangling_ring.used,
                       t->broken_ring.used};
      for (size_t i = 0; i < used[kind]; i++)
        if (kind != 1 || arr[kind][i].when_us >= horizon) all[m++] = &arr[kind][i];
    }
    static const char *keys[] = {"recent", "slowest", "dangling", "broken"};
    static const size_t keeps[] = {CHAINS_RECENT, CHAINS_SLOWEST, CHAINS_DANGLING, CHAINS_BROKEN};
    if (kind) jbuf_puts(&b, ",");
    json_array(&b, keys[kind], all, m, keeps[kind], kind == 1 ? slowest_first : newest_first);
  }
  jbuf_puts(&b, "}");
  free(all);
  return jbuf_take(&b);
}
