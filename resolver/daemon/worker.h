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
#include "metrics/chains.h"
#include "metrics/stats.h"
#include "metrics/zones.h"
#include "resolver/daemon/config.h"
#include "cache/anscache.h"
#include "resolver/core/iterator.h"
#include "resolver/daemon/ratelimit.h"
#include "resolver/daemon/udp.h"
#include "resolver/daemon/upstream.h"

#define WORKER_REQ_BUCKETS 4096

struct request;
struct tcp_conn;
struct worker;
struct worker_job;

/* Work handed to a worker by another thread, run on the worker's thread. */
typedef void (*worker_job_fn)(struct worker *w, void *arg);

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
  struct zone_table *zones;     /* per-zone chain-step latency */
  struct chain_tables *chains;  /* the /chains tables */
  /* Jobs from other threads (metrics collection, traces): jobs and
   * jobs_closed are guarded by job_lock; job_async wakes the loop. */
  uv_async_t job_async;
  pthread_mutex_t job_lock;
  struct worker_job *jobs;
  bool jobs_closed;
  struct request *requests[WORKER_REQ_BUCKETS]; /* top-level, by question */
  struct request *traced;  /* traced requests (never joined) */
  struct request *prefetches; /* background refreshes (never joined) */
  uint32_t nprefetch;         /* how many */
  uint32_t local_gen;         /* bumped when SIGHUP brings other local data */
  struct request *start_queue; /* sub-lookups to start on the next turn */
  uv_timer_t start_timer;
  struct udp_listener udp[CONFIG_MAX_LISTEN];
  struct udp_batch *batch;      /* recvmmsg/sendmmsg buffers */
  anscache_t *answers;          /* finished replies by question */
  ratelimit_t *rl;              /* per-client UDP rate limit, or NULL */
  uv_tcp_t tcp[CONFIG_MAX_LISTEN];
  size_t nlisten;
  uint32_t tcp_conns;
  struct tcp_conn *conns; /* open client connections, for shutdown */
  /* Connections with queries already received that may now be taken
   * (a slot freed, their replies drained): server.c takes them on the
   * loop's next turn, each holding a reference while listed. */
  struct tcp_conn *tcp_ready;
  uv_timer_t tcp_ready_timer;
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
 * in. Only on the worker's own thread (or once it has stopped). */
void worker_stats(const struct worker *w, struct stats *out);

/* Run fn(w, arg) on w's thread soon; any thread may call it. Returns 0, or
 * -1 if the worker has stopped taking jobs (fn will not run). A job posted
 * while the worker stops still runs, with w->stopping set. */
int worker_post(struct worker *w, worker_job_fn fn, void *arg);
/* In the worker's thread: run with cfg from now on (SIGHUP), and resize
 * what was sized from the old one (upstream limit, rate limiter). */
void worker_set_config(struct worker *w, const struct config *cfg);

/* Copies of every worker's metrics, each made on its worker's thread. */
enum { COLLECT_ZONES = 1, COLLECT_CHAINS = 2 };
struct worker_snapshot {
  struct stats stats;            /* summed over the workers */
  size_t n;
  struct zone_table **zones;     /* per worker (COLLECT_ZONES) */
  struct chain_tables **chains;  /* per worker (COLLECT_CHAINS) */
};

/* Collect from n workers, waiting at most timeout_ms. Returns 0, or -1 when
 * a worker did not answer in time (nothing partial is returned: counters
 * that went down would look like a restart). Not on a worker's thread. */
int workers_collect(struct worker *ws, size_t n, unsigned what, uint32_t timeout_ms,
                    struct worker_snapshot *out);
void worker_snapshot_free(struct worker_snapshot *s);

#endif
