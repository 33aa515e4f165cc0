/*
 * Fixed-bucket histograms for the metrics: cheap enough for the query path
 * (a few comparisons and two increments, no allocation, no lock).
 *
 * Here rather than in metrics/ because cache/ records into one (the shared
 * tier's lookup latency) while metrics/ includes cache/ to expose it: a
 * histogram depends on nothing, so it sits under both.
 *
 * A histogram belongs to one worker and is written only by it; readers get
 * a copy made on the worker's own thread (worker_collect in
 * resolver/daemon/worker.h) and sum copies field by field, so every field
 * is a uint64_t.
 */
#ifndef CHAINDNS_HIST_H
#define CHAINDNS_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_MAX 20 /* buckets, the last one unbounded (+Inf) */

struct hist {
  uint64_t n[HIST_MAX]; /* observations per bucket (not cumulative) */
  uint64_t sum;         /* sum of the observed values, in the bucket unit */
};

/* Bucket bounds: upper bounds, ascending, in the unit observed. */
struct hist_bounds {
  const uint64_t *le;
  size_t count;       /* finite bounds; bucket `count` is +Inf */
  double scale;       /* exposition value = observed value * scale */
};

/* Latency in microseconds, exposed in seconds: 25 us to 10 s. */
extern const struct hist_bounds hist_latency;
/* CNAME chain length, in CNAMEs: 1 to 32. */
extern const struct hist_bounds hist_length;

static inline void hist_observe(struct hist *h, const struct hist_bounds *b, uint64_t v) {
  size_t i = 0;
  while (i < b->count && v > b->le[i]) i++;
  h->n[i]++;
  h->sum += v;
}

static inline uint64_t hist_count(const struct hist *h) {
  uint64_t c = 0;
  for (size_t i = 0; i < HIST_MAX; i++) c += h->n[i];
  return c;
}

#endif
