/*
 * The Prometheus text exposition format (version 0.0.4) of one scrape:
 * every metric family with its HELP and TYPE, names in base units
 * (seconds, bytes) with _total on counters, label values from bounded sets.
 */
#ifndef CHAINDNS_EXPO_H
#define CHAINDNS_EXPO_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/cache.h"
#include "metrics/stats.h"
#include "metrics/zones.h"

struct expo_input {
  const struct stats *stats;          /* summed over the workers */
  const struct cache_stats *cache;    /* the memory tier */
  size_t cache_max_bytes;
  const struct zone_series *zones;    /* top-K zones and "other" */
  size_t nzones;
  bool redis;                         /* the shared tier is configured */
  unsigned workers;
  const char *version;
};

/* The whole exposition; malloc'd, NUL-terminated, or NULL. */
char *expo_render(const struct expo_input *in);

/* Escape a label value (\, " and newline) into out. */
void expo_label_value(const char *in, char *out, size_t cap);

#endif
