/* Per-zone latency tables and their top-K exporter; see zones.h. */
#include "metrics/zones.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

#define MASK (ZONES_MAX - 1)

/* ---- histogram arithmetic --------------------------------------------------- */

static void hist_add(struct hist *a, const struct hist *b) {
  for (size_t i = 0; i < HIST_MAX; i++) a->n[i] += b->n[i];
  a->sum += b->sum;
}

/* a - b, at least 0 in every field. */
static struct hist hist_sub(const struct hist *a, const struct hist *b) {
  struct hist r;
  for (size_t i = 0; i < HIST_MAX; i++) r.n[i] = a->n[i] > b->n[i] ? a->n[i] - b->n[i] : 0;
  r.sum = a->sum > b->sum ? a->sum - b->sum : 0;
  return r;
}

/* The larger of a and b in every field. */
static struct hist hist_max(const struct hist *a, const struct hist *b) {
  struct hist r;
  for (size_t i = 0; i < HIST_MAX; i++) r.n[i] = a->n[i] > b->n[i] ? a->n[i] : b->n[i];
  r.sum = a->sum > b->sum ? a->sum : b->sum;
  return r;
}

/* ---- the per-worker table ------------------------------------------------------ */

static uint64_t hash_name(uint64_t seed, const uint8_t *name, size_t len) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (size_t i = 0; i < len; i++) h = (h ^ name[i]) * 1099511628211ull;
  return h ^ (h >> 31);
}

void zone_table_init(struct zone_table *t) {
  memset(t, 0, sizeof *t);
  t->seed = ((uint64_t)util_random() << 32) | util_random();
}

/* Linear-probing deletion by shifting back the entries that follow. */
static void remove_at(struct zone_table *t, size_t i) {
  size_t j = i;
  t->e[i].len = 0;
  for (;;) {
    j = (j + 1) & MASK;
    if (t->e[j].len == 0) break;
    size_t home = t->e[j].hash & MASK;
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (stays) continue;
    t->e[i] = t->e[j];
    t->e[j].len = 0;
    i = j;
  }
  t->used--;
}

/* Make room: the zone with the fewest observations goes to `evicted`. */
static void evict_one(struct zone_table *t) {
  size_t victim = ZONES_MAX;
  uint64_t least = UINT64_MAX;
  for (size_t i = 0; i < ZONES_MAX; i++) {
    if (!t->e[i].len) continue;
    uint64_t c = hist_count(&t->e[i].h);
    if (c < least) {
      least = c;
      victim = i;
    }
  }
  hist_add(&t->evicted, &t->e[victim].h);
  remove_at(t, victim);
}

void zone_observe(struct zone_table *t, const uint8_t *zone, size_t len, uint64_t us) {
  if (len == 0 || len > 255) return;
  uint64_t h = hash_name(t->seed, zone, len);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = h & MASK;; i = (i + 1) & MASK) {
      struct zone_entry *e = &t->e[i];
      if (e->len == len && e->hash == h && memcmp(e->name, zone, len) == 0) {
        hist_observe(&e->h, &hist_latency, us);
        return;
      }
      if (e->len) continue;
      if (t->used >= ZONES_MAX * 3 / 4) break; /* keep probes short: evict, retry */
      memset(e, 0, sizeof *e);
      e->hash = h;
      e->len = (uint8_t)len;
      memcpy(e->name, zone, len);
      t->used++;
      hist_observe(&e->h, &hist_latency, us);
      return;
    }
    evict_one(t);
  }
}

/* ---- the exporter ---------------------------------------------------------------- */

struct member {
  uint8_t name[255];
  uint8_t len;
  struct hist base; /* the zone's merged histogram when it joined */
  struct hist last; /* what was last exposed for it */
};

/* A zone as the previous scrape saw it (not a member then). */
struct prev_zone {
  uint8_t name[255];
  uint8_t len;
  struct hist h;
};

struct zone_export {
  size_t k, n;
  struct member *m;
  struct prev_zone *prev; /* non-members at the previous scrape: what "other" */
  size_t nprev;           /* already exposed of them */
};

zone_export_t *zone_export_new(size_t k) {
  struct zone_export *x = calloc(1, sizeof *x);
  if (!x) return NULL;
  x->k = k;
  x->m = calloc(k ? k : 1, sizeof *x->m);
  if (!x->m) {
    free(x);
    return NULL;
  }
  return x;
}

void zone_export_free(zone_export_t *x) {
  if (!x) return;
  free(x->prev);
  free(x->m);
  free(x);
}

/* The workers' tables merged by zone name. */
struct merged {
  const uint8_t *name;
  uint8_t len;
  bool member;
  struct hist h;
};

static struct merged *find_merged(struct merged *m, size_t cap, const uint8_t *name,
                                  size_t len, bool create) {
  uint64_t h = hash_name(0, name, len);
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
    if (m[i].len == len && memcmp(m[i].name, name, len) == 0) return &m[i];
    if (m[i].len) continue;
    if (!create) return NULL;
    m[i].name = name;
    m[i].len = (uint8_t)len;
    return &m[i];
  }
}

static void update_members(zone_export_t *x, struct merged *m, size_t cap) {
  for (size_t i = 0; i < x->n; i++) {
    struct member *mb = &x->m[i];
    struct merged *cur = find_merged(m, cap, mb->name, mb->len, false);
    struct hist zero = {{0}, 0};
    struct hist now = hist_sub(cur ? &cur->h : &zero, &mb->base);
    mb->last = hist_max(&now, &mb->last);
    if (cur) cur->member = true;
  }
}

static int by_count_desc(const void *a, const void *b) {
  uint64_t ca = hist_count(&(*(const struct merged *const *)a)->h);
  uint64_t cb = hist_count(&(*(const struct merged *const *)b)->h);
  return ca < cb ? 1 : ca > cb ? -1 : 0;
}

/* A zone joins the exposed set. Its series starts with what it gathered
 * since the previous scrape: the earlier part is in "other" already, and
 * taking it back would make "other" go down. */
static void join(const zone_export_t *x, struct member *mb, const struct merged *z) {
  memcpy(mb->name, z->name, z->len);
  mb->len = z->len;
  memset(&mb->base, 0, sizeof mb->base);
  for (size_t i = 0; i < x->nprev; i++)
    if (x->prev[i].len == z->len && memcmp(x->prev[i].name, z->name, z->len) == 0)
      mb->base = x->prev[i].h;
  mb->last = hist_sub(&z->h, &mb->base);
}

/* Remember the non-members as they are now, for the next joins. */
static void remember(zone_export_t *x, const struct merged *m, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < cap; i++) n += m[i].len && !m[i].member;
  free(x->prev);
  x->prev = calloc(n ? n : 1, sizeof *x->prev);
  x->nprev = 0;
  for (size_t i = 0; x->prev && i < cap; i++) {
    if (!m[i].len || m[i].member) continue;
    struct prev_zone *p = &x->prev[x->nprev++];
    memcpy(p->name, m[i].name, m[i].len);
    p->len = m[i].len;
    p->h = m[i].h;
  }
}

/* Fill free places with the busiest zones; then let a zone with twice the
 * weakest member's count take its place. */
static void update_membership(zone_export_t *x, struct merged *m, size_t cap) {
  struct merged **cand = malloc(cap * sizeof *cand);
  size_t nc = 0;
  if (!cand) return;
  for (size_t i = 0; i < cap; i++)
    if (m[i].len && !m[i].member && hist_count(&m[i].h)) cand[nc++] = &m[i];
  qsort(cand, nc, sizeof *cand, by_count_desc);
  size_t next = 0;
  while (x->n < x->k && next < nc) {
    cand[next]->member = true;
    join(x, &x->m[x->n++], cand[next++]);
  }
  while (next < nc && x->n) {
    size_t weakest = 0;
    uint64_t wc = UINT64_MAX;
    for (size_t i = 0; i < x->n; i++) {
      const struct merged *cur = find_merged(m, cap, x->m[i].name, x->m[i].len, false);
      uint64_t c = cur ? hist_count(&cur->h) : 0;
      if (c < wc) {
        wc = c;
        weakest = i;
      }
    }
    if (hist_count(&cand[next]->h) < 2 * wc || hist_count(&cand[next]->h) == 0) break;
    struct merged *leaving = find_merged(m, cap, x->m[weakest].name, x->m[weakest].len, false);
    if (leaving) leaving->member = false;
    cand[next]->member = true;
    join(x, &x->m[weakest], cand[next++]);
  }
  free(cand);
}

size_t zone_export_collect(zone_export_t *x, const struct zone_table *const *tables,
                           size_t ntables, struct zone_series *out) {
  size_t cap = 64;
  while (cap < 2 * ntables * ZONES_MAX) cap <<= 1;
  struct merged *m = calloc(cap, sizeof *m);
  struct hist total = {{0}, 0};
  for (size_t t = 0; m && t < ntables; t++) {
    hist_add(&total, &tables[t]->evicted);
    for (size_t i = 0; i < ZONES_MAX; i++) {
      const struct zone_entry *e = &tables[t]->e[i];
      if (!e->len) continue;
      hist_add(&find_merged(m, cap, e->name, e->len, true)->h, &e->h);
      hist_add(&total, &e->h);
    }
  }
  if (m) {
    update_members(x, m, cap);
    update_membership(x, m, cap);
    remember(x, m, cap);
  }
  free(m);
  size_t n = 0;
  struct hist other = total;
  for (size_t i = 0; i < x->n; i++) {
    if (!name_wire_text(x->m[i].name, x->m[i].len, out[n].label, sizeof out[n].label)) continue;
    out[n].h = x->m[i].last;
    other = hist_sub(&other, &x->m[i].last);
    n++;
  }
  strcpy(out[n].label, "other");
  out[n++].h = other;
  return n;
}
