/* From finished resolutions to metrics and chain records; see observe.h. */
#include "resolver/daemon/observe.h"

#include <stdio.h>
#include <string.h>

#include "cache/anscache.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

enum stats_outcome observe_outcome(const struct iter_result *res, const chain_t *ch) {
  if (res->chain_status == CHAIN_LOOP) return SO_LOOP;
  if (res->chain_status == CHAIN_TOO_LONG) return SO_TOO_LONG;
  if (res->timed_out) return SO_TIMEOUT;
  if (res->rcode == LDNS_RCODE_NXDOMAIN || res->dangling) return SO_DANGLING;
  if (res->rcode != LDNS_RCODE_NOERROR) return SO_SERVFAIL;
  return res->has_data ? SO_COMPLETE : SO_NODATA;
}

static struct chains_rec_step rec_step(struct chains_rec *rec, const struct chain_step *st,
                                       const ldns_rdf *name, const ldns_rdf *target) {
  struct chains_rec_step s = {.source = (uint8_t)st->source, .ttl = st->ttl,
                              .elapsed_us = st->elapsed_us, .crossed_zone = -1,
                              .sec = st->sec,
                              .target = 0xffff, .zone = 0xffff};
  uint8_t wire[256];
  s.name = chains_rec_name(rec, wire, name_key(name, wire));
  if (target) s.target = chains_rec_name(rec, wire, name_key(target, wire));
  if (st->zone) s.zone = chains_rec_name(rec, wire, name_key(st->zone, wire));
  chains_rec_server(&s, &st->server);
  return s;
}

void observe_chain_rec(const struct iter_result *res, const chain_t *ch, uint16_t qtype,
                       uint64_t duration_us, struct chains_rec *rec) {
  uint8_t start[256];
  size_t slen = name_key(ch->start, start);
  chains_rec_start(rec, start, slen, qtype);
  for (size_t i = 0; i < ch->n && i < CHAINS_REC_HOPS; i++) {
    const struct chain_hop *h = &ch->hops[i];
    rec->hops[rec->nhops] = rec_step(rec, &h->step, h->owner, h->target);
    rec->hops[rec->nhops].kind = (uint8_t)h->kind;
    rec->hops[rec->nhops++].crossed_zone = h->crossed_zone;
  }
  if (ch->has_final) {
    rec->final = rec_step(rec, &ch->final, chain_current(ch), NULL);
    rec->has_final = true;
  }
  rec->when_us = util_now_us();
  rec->duration_us = duration_us;
  rec->outcome = (uint8_t)observe_outcome(res, ch);
  rec->purpose = (uint8_t)stats_purpose_of(start, slen);
  rec->length = (uint8_t)(ch->n > 255 ? 255 : ch->n);
  rec->sec = (uint8_t)res->sec;
  if (res->ede >= 0) snprintf(rec->why, sizeof rec->why, "%.199s", res->ede_text);
}

/* Network steps tell how long their zone took. */
static void observe_zone(struct zone_table *zones, const struct chain_step *st) {
  uint8_t wire[256];
  size_t len = st->zone ? name_key(st->zone, wire) : 0;
  if (len) zone_observe(zones, wire, len, st->elapsed_us);
}

static void observe_chain(struct stats *s, struct zone_table *zones,
                          struct chains_tables *chains, const struct iter_result *res,
                          const chain_t *ch, uint16_t qtype, uint64_t duration_us) {
  struct chains_rec rec;
  observe_chain_rec(res, ch, qtype, duration_us, &rec);
  enum stats_outcome o = (enum stats_outcome)rec.outcome;
  s->chains++;
  s->chain_loops += o == SO_LOOP;
  s->chain_too_long += o == SO_TOO_LONG;
  s->chain_dangling += o == SO_DANGLING;
  hist_observe(&s->chain_length, &hist_length, ch->n);
  hist_observe(&s->chain_duration[o][rec.purpose], &hist_latency, duration_us);
  /* A chain leaving a signed zone for an unsigned one: a step resting on
   * secure data followed by one resting on insecure data. */
  bool left_secure = false;
  for (size_t i = 0; i < ch->n && !left_secure; i++) {
    const struct chain_step *next = i + 1 < ch->n ? &ch->hops[i + 1].step
                                  : ch->has_final ? &ch->final : NULL;
    left_secure = ch->hops[i].step.sec == SEC_SECURE && next && next->sec == SEC_INSECURE;
  }
  s->chain_secure_to_insecure[rec.purpose] += left_secure;
  for (size_t i = 0; i < ch->n; i++) {
    const struct chain_step *st = &ch->hops[i].step;
    hist_observe(&s->hop_duration[st->source], &hist_latency, st->elapsed_us);
    s->hops[ch->hops[i].kind]++;
    observe_zone(zones, st);
  }
  if (ch->has_final) observe_zone(zones, &ch->final);
  chains_tables_add(chains, &rec, res->source == CHAIN_SRC_CACHE);
}

void observe_request(struct stats *s, struct zone_table *zones, struct chains_tables *chains,
                     const struct iter_result *res, const chain_t *ch, uint16_t qtype,
                     uint64_t duration_us) {
  s->requests++;
  s->cname_with_other_data += res->cname_with_other_data;
  s->cname_at_apex += res->cname_at_apex;
  if (ch->n || res->chain_status != CHAIN_OK)
    observe_chain(s, zones, chains, res, ch, qtype, duration_us);
}

void observe_cached_chain(struct stats *s, const struct ac_meta *m, uint64_t us) {
  s->chains++;
  s->chain_dangling += m->outcome == SO_DANGLING;
  hist_observe(&s->chain_length, &hist_length, m->chain_len);
  hist_observe(&s->chain_duration[m->outcome][m->purpose], &hist_latency, us);
  for (uint8_t i = 0; i < m->chain_len; i++)
    hist_observe(&s->hop_duration[SS_MEMORY], &hist_latency, 0);
  s->hops[HOP_DNAME] += m->dname_hops;
  s->hops[HOP_ALIAS] += m->alias_hops;
  s->hops[HOP_CNAME] += (uint64_t)(m->chain_len - m->dname_hops - m->alias_hops);
}
