/*
 * Latency per zone: how long the zones that answered chain steps took, so
 * the slow provider stands out.
 *
 * Each worker keeps a bounded table of zones (open addressing, ZONES_MAX
 * entries) with a latency histogram each. A zone seen when the table is full
 * replaces the zone with the fewest observations, whose histogram is folded
 * into the table's `evicted` histogram: nothing observed is ever lost, and
 * memory stays fixed.
 *
 * The exporter (zone_export, owned by the metrics endpoint) merges the
 * workers' tables at each scrape and exposes the top K zones by observation
 * count under their own name and everything else as zone="other". Counters
 * in Prometheus must never go down, so membership is sticky with a
 * baseline: a zone joining the top K starts its series at zero (its past
 * stays in "other"), a zone leaving it hands its series to "other", and a
 * member's series never decreases. A newcomer replaces the weakest member
 * only when it has twice its count, so membership does not flap.
 */
#ifndef CHAINDNS_ZONES_H
#define CHAINDNS_ZONES_H

#include <stddef.h>
#include <stdint.h>

#include "resolver/lib/hist.h"

#define ZONES_MAX 512 /* per worker; a power of two */

struct zone_entry {
  uint64_t hash;
  uint8_t len;       /* 0: free slot */
  uint8_t name[255]; /* canonical wire format */
  struct hist h;
};

struct zone_table {
  struct zone_entry e[ZONES_MAX];
  size_t used;
  uint64_t seed;
  struct hist evicted;
};

void zone_table_init(struct zone_table *t);

/* One chain step answered by `zone` (canonical wire name) in us. */
void zone_observe(struct zone_table *t, const uint8_t *zone, size_t len, uint64_t us);

/* ---- the exporter ------------------------------------------------------- */

/* One exposed series. */
struct zone_series {
  char label[1100]; /* presentation format, or "other" */
  struct hist h;
};

typedef struct zone_export zone_export_t;

zone_export_t *zone_export_new(size_t k);
void zone_export_free(zone_export_t *x);

/* Merge the workers' tables (copies) and compute the series to expose:
 * fills out (at most k + 1 entries, "other" last) and returns the count. */
size_t zone_export_collect(zone_export_t *x, const struct zone_table *const *tables,
                           size_t ntables, struct zone_series *out);

#endif
