/*
 * Cache control for operators: forget a name or a zone in every tier (the
 * shared Redis, the memory cache with its DNSSEC key and NSEC caches, every
 * worker's answer cache), and the tiers' counters.
 *
 * Two doors lead here: the control socket (resolver/daemon/control.h) and, only
 * with a control token, the metrics listener (resolver/daemon/diag.h). Both call
 * from threads of their own, never a worker's: these functions wait for the
 * workers (bounded) and a flush may take seconds.
 *
 * One flush at a time: a flush asked for while another runs (its Redis scan
 * included, even after its caller stopped waiting) is refused with 429, so
 * at most one SCAN per instance ever walks the fleet's keyspace.
 */
#ifndef CHAINDNS_CACHECTL_H
#define CHAINDNS_CACHECTL_H

#include <stdbool.h>

#include "cache/cache.h"
#include "resolver/daemon/config.h"
#include "resolver/daemon/worker.h"

/* How long a flush's Redis scan may run before it stops (and says so). */
#define CACHECTL_SCAN_MAX_MS 10000

typedef struct cachectl cachectl_t;

/* Acts on the n workers ws[0..n) and on the caches they share (what
 * shared points to is copied). Borrows ws, the workers, the caches and cfg,
 * which must outlive it. NULL: no memory. */
cachectl_t *cachectl_new(struct worker *const *ws, unsigned n,
                         const struct worker_shared *shared, const struct config *cfg);
/* Free it once the workers have stopped: a flush's Redis scan ends on
 * worker 0's loop, at the latest when that loop closes its connections. */
void cachectl_free(cachectl_t *cc);

/* Each returns a malloc'd NUL-terminated body (JSON with 200, else a
 * one-line message) and sets *status to an HTTP status: 200, 400 (not a
 * name), 429 (a flush is under way), 503 (memory flushed, Redis not or not
 * all; workers too slow). NULL: out of memory. */
char *cachectl_flush(cachectl_t *cc, const char *name, bool zone, int *status);
char *cachectl_stats(cachectl_t *cc, int *status);

#endif
