/* CNAME chain bookkeeping: length bound and loop detection; see chain.h. */
#include "resolver/core/chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/stats.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

void chain_init(chain_t *c, const ldns_rdf *start, size_t max_len) {
  memset(c, 0, sizeof *c);
  c->start = ldns_rdf_clone(start);
  c->max_len = max_len;
}

void chain_free(chain_t *c) {
  for (size_t i = 0; i < c->n; i++) {
    ldns_rdf_deep_free(c->hops[i].owner);
    ldns_rdf_deep_free(c->hops[i].target);
    if (c->hops[i].step.zone) ldns_rdf_deep_free(c->hops[i].step.zone);
  }
  if (c->final.zone) ldns_rdf_deep_free(c->final.zone);
  free(c->hops);
  ldns_rdf_deep_free(c->start);
  memset(c, 0, sizeof *c);
}

const ldns_rdf *chain_current(const chain_t *c) {
  return c->n ? c->hops[c->n - 1].target : c->start;
}

/* Append "a. -> b. -> " style text for the names from index `from` on. */
static void describe_from(const chain_t *c, size_t from, const ldns_rdf *target) {
  char name[256];
  size_t off = strlen(c->why);
  char *why = (char *)c->why;
  size_t cap = sizeof c->why;
  for (size_t i = from; i <= c->n && off < cap; i++) {
    const ldns_rdf *n = (i == 0) ? c->start : c->hops[i - 1].target;
    off += (size_t)snprintf(why + off, cap - off, "%s -> ", name_str(n, name, sizeof name));
  }
  if (off < cap) snprintf(why + off, cap - off, "%s", name_str(target, name, sizeof name));
}

static struct chain_step copy_step(const struct chain_step *step) {
  struct chain_step s = *step;
  s.zone = step->zone ? ldns_rdf_clone(step->zone) : NULL;
  return s;
}

struct chain_step chain_step_cached(enum chain_source source, uint64_t elapsed_us,
                                    uint32_t ttl) {
  struct chain_step s;
  memset(&s, 0, sizeof s);
  s.source = source;
  s.elapsed_us = elapsed_us;
  s.ttl = ttl;
  return s;
}

void chain_set_final(chain_t *c, const struct chain_step *step) {
  if (c->final.zone) ldns_rdf_deep_free(c->final.zone);
  c->final = copy_step(step);
  c->has_final = true;
}

/* The metrics count and name hops by these numbers (metrics/stats.h). */
_Static_assert((int)HOP_CNAME == (int)SH_CNAME && (int)HOP_DNAME == (int)SH_DNAME &&
                   (int)HOP_ALIAS == (int)SH_ALIAS,
               "enum hop_kind and enum stats_hop must agree");

const char *hop_kind_name(enum hop_kind k) { return stats_hop_name((enum stats_hop)k); }

enum chain_status chain_add(chain_t *c, const ldns_rdf *owner, const ldns_rdf *target,
                            const struct chain_step *step) {
  return chain_add_hop(c, HOP_CNAME, owner, target, step);
}

enum chain_status chain_add_hop(chain_t *c, enum hop_kind kind, const ldns_rdf *owner,
                                const ldns_rdf *target, const struct chain_step *step) {
  /* names[0] = start, names[i] = hops[i-1].target; a loop is the target
   * matching any of them (a self-loop matches the current name). */
  for (size_t i = 0; i <= c->n; i++) {
    const ldns_rdf *seen = (i == 0) ? c->start : c->hops[i - 1].target;
    if (name_equal(seen, target)) {
      snprintf(c->why, sizeof c->why, "%s loop: ", kind == HOP_CNAME ? "CNAME" : "chain");
      describe_from(c, i, target);
      return CHAIN_LOOP;
    }
  }
  if (c->n + 1 > c->max_len) {
    char name[256];
    snprintf(c->why, sizeof c->why,
             "CNAME chain from %s exceeds the limit of %zu (max-chain-length; DNAME and "
             "ALIAS hops count)",
             name_str(c->start, name, sizeof name), c->max_len);
    return CHAIN_TOO_LONG;
  }
  c->hops = util_grow(c->hops, c->n, &c->cap, sizeof *c->hops, 4);
  struct chain_hop *hop = &c->hops[c->n++];
  hop->kind = kind;
  hop->owner = ldns_rdf_clone(owner);
  hop->target = ldns_rdf_clone(target);
  hop->step = copy_step(step);
  hop->crossed_zone = step->zone ? !name_in(target, step->zone) : -1;
  return CHAIN_OK;
}
