/*
 * A worker: one thread, one libuv loop, its own listening sockets (bound
 * with SO_REUSEPORT so the kernel spreads clients across workers), its own
 * outbound sockets, server table, in-flight request table, answer cache and
 * counters.
 *
 * The struct is opaque here: main, the diagnostics endpoint and cache
 * control hold pointers and use the functions below. Its fields, who owns
 * each and which thread may touch it, are in worker_priv.h, which only the
 * worker's own parts include (worker.c, server.c, udp.c, request.c).
 *
 * What workers share with each other is struct worker_shared (each member
 * safe to use from any worker) and the configuration, which is read-only
 * and replaced whole on SIGHUP.
 */
#ifndef CHAINDNS_WORKER_H
#define CHAINDNS_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cache/cache.h"
#include "cache/redis.h"
#include "metrics/stats.h"
#include "resolver/core/hints.h"
#include "resolver/dnssec/anchors.h"
#include "resolver/dnssec/keycache.h"
#include "resolver/dnssec/nseccache.h"

struct chains_tables;
struct config;
struct iter_config;
struct worker;
struct zone_table;

/* What every worker uses in common. The caller owns each member and keeps
 * it alive until the last worker is freed; each is safe from any worker's
 * thread: the three caches lock inside (their headers say which lock
 * guards what), the hints and trust anchors are read-only once workers
 * run. */
struct worker_shared {
  cache_t *cache;                 /* the RRset and negative cache */
  const struct hints *hints;      /* the root hints */
  const trust_anchors_t *anchors; /* DNSSEC trust anchors; NULL: validation off */
  keycache_t *keys;               /* zones' established keys; NULL: validation off */
  nseccache_t *nsecs;             /* validated NSEC ranges; NULL: no aggressive NSEC */
};

/* Work handed to a worker by another thread, run on the worker's thread. */
typedef void (*worker_job_fn)(struct worker *w, void *arg);

/* Make worker `index` and bind its listeners (in the calling thread, so
 * bind errors reach main). cfg, icfg and what shared points to are
 * borrowed and must outlive the worker (cfg until worker_set_config
 * replaces it). NULL after logging why. */
struct worker *worker_new(unsigned index, const struct config *cfg,
                          const struct iter_config *icfg, const struct worker_shared *shared);
/* Run the worker's loop on a thread of its own. Returns 0 or -1. */
int worker_start(struct worker *w);
/* Ask the worker to stop (any thread); then worker_join. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);
/* Release the worker, after its thread has ended (or when it never
 * started). NULL is ignored. */
void worker_free(struct worker *w);

/* The worker's loop, to run it on the calling thread instead of
 * worker_start (chaindns trace). */
uv_loop_t *worker_loop(struct worker *w);

/* The configuration w runs with. On w's thread, or once it has stopped. */
const struct config *worker_config(const struct worker *w);

/* Has w begun to stop? On w's thread (a job posted while it stops still
 * runs, and sees true). */
bool worker_stopping(const struct worker *w);

/* w's connection to the shared tier, or NULL (none configured, or w has
 * stopped). On w's thread. */
redis_tier_t *worker_tier(struct worker *w);

/* Forget every reply in w's answer cache (an operator's flush). On w's
 * thread. */
void worker_clear_answers(struct worker *w);

/* The worker's counters with its upstream and shared-tier counters folded
 * in. Only on the worker's own thread (or once it has stopped). */
void worker_stats(const struct worker *w, struct stats *out);

/* Run fn(w, arg) on w's thread soon; any thread may call it. Returns 0, or
 * -1 if the worker has stopped taking jobs (fn will not run). A job posted
 * while the worker stops still runs, with worker_stopping(w) true. */
int worker_post(struct worker *w, worker_job_fn fn, void *arg);
/* In the worker's thread: run with cfg from now on (SIGHUP), and resize
 * what was sized from the old one (upstream limit, rate limiter). The
 * caller releases the old configuration (worker_config before the call). */
void worker_set_config(struct worker *w, const struct config *cfg);

/* Copies of every worker's metrics, each made on its worker's thread. */
enum { COLLECT_ZONES = 1, COLLECT_CHAINS = 2 };
struct worker_snapshot {
  struct stats stats;            /* summed over the workers */
  size_t n;
  struct zone_table **zones;     /* per worker (COLLECT_ZONES) */
  struct chains_tables **chains;  /* per worker (COLLECT_CHAINS) */
};

/* Collect from the n workers ws[0..n), waiting at most timeout_ms. Returns
 * 0, or -1 when a worker did not answer in time (nothing partial is
 * returned: counters that went down would look like a restart). Not on a
 * worker's thread. */
int worker_collect(struct worker *const *ws, size_t n, unsigned what, uint32_t timeout_ms,
                   struct worker_snapshot *out);
void worker_snapshot_free(struct worker_snapshot *s);

#endif
