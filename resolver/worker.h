/*
 * A worker: one thread, one libuv loop, its own listening sockets (bound
 * with SO_REUSEPORT so the kernel spreads clients across workers), its own
 * outbound sockets, server table, in-flight request table and counters.
 * Nothing here is shared between workers except the cache, the hints and
 * the configuration, which are read-only or internally locked.
 */
#ifndef CHAINDNS_WORKER_H
#define CHAINDNS_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "cache/redis.h"
#include "metrics/stats.h"
#include "resolver/config.h"
#include "resolver/iterator.h"
#include "resolver/upstream.h"

#define WORKER_REQ_BUCKETS 4096

struct request;
struct tcp_conn;

struct worker {
  unsigned index;
  uv_loop_t loop;
  uv_async_t stop_async;
  pthread_t thread;
  const struct config *cfg;
  struct iter_env env;
  servers_t *servers;
  upstream_t *up;
  redis_tier_t *tier;      /* the shared cache tier, or NULL */
  struct cache_sink sink;  /* stores reach the tier through this */
  struct stats stats;
  struct request *requests[WORKER_REQ_BUCKETS]; /* top-level, by question */
  uv_udp_t udp[CONFIG_MAX_LISTEN];
  uv_tcp_t tcp[CONFIG_MAX_LISTEN];
  size_t nlisten;
  uint32_t tcp_conns;
  struct tcp_conn *conns; /* open client connections, for shutdown */
  bool stopping;
};

/* Set up the worker and bind its listeners (in the calling thread, so bind
 * errors reach main). Returns 0 or -1 after logging why. */
int worker_init(struct worker *w, unsigned index, const struct config *cfg,
                const struct iter_config *icfg, cache_t *cache, const struct hints *hints);
int worker_start(struct worker *w);
/* Ask the worker to stop (any thread); then worker_join. */
void worker_stop(struct worker *w);
void worker_join(struct worker *w);
/* Release what worker_init allocated, after the thread has ended. */
void worker_destroy(struct worker *w);

/* The worker's counters with its upstream and shared-tier counters folded
 * in. Safe from another thread: counters are read without locks and may be
 * a moment stale (see metrics/stats.h). */
void worker_stats(const struct worker *w, struct stats *out);

#endif
