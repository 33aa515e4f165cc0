/*
 * The inside of a worker, for the worker's own parts only:
 *   worker.c   life cycle, jobs from other threads, metrics collection;
 *   server.c   the client listeners (TCP, and UDP's full path);
 *   udp.c      the UDP fast path;
 *   request.c  the resolution driver.
 * Everything else holds an opaque struct worker and uses worker.h. This
 * header includes none of those four files' headers, so they depend on the
 * worker's state, not on each other through it: worker.c calls the other
 * three, server.c calls udp.c and request.c, udp.c calls request.c.
 *
 * Threading: a worker's state belongs to its thread, the one running its
 * loop (worker_main in worker.c, or the caller's for chaindns trace).
 * Every field below is read and written only there unless its comment says
 * otherwise; no field is locked except the job queue. Before the thread
 * starts and after it has been joined, the thread that made or joined the
 * worker may touch anything. What the worker shares with other workers it
 * reaches through pointers it does not own: env.cache, env.keys and
 * env.nsecs (each locked inside), env.hints, env.anchors, env.local and cfg
 * (read-only).
 */
#ifndef CHAINDNS_WORKER_PRIV_H
#define CHAINDNS_WORKER_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cache/anscache.h"
#include "cache/redis.h"
#include "metrics/chains.h"
#include "metrics/stats.h"
#include "metrics/zones.h"
#include "resolver/core/iterator.h"
#include "resolver/core/servers.h"
#include "resolver/daemon/config.h"
#include "resolver/daemon/ratelimit.h"
#include "resolver/daemon/upstream.h"

#define WORKER_REQ_BUCKETS 4096

struct request;
struct tcp_conn;
struct udp_batch;
struct udp_listener;
struct worker_job;

struct worker {
  /* ---- set by worker_new, then constant ---- */
  unsigned index;               /* 0..threads-1; read by any thread */
  uv_loop_t loop;
  pthread_t thread;             /* set by worker_start, read by worker_join */

  /* ---- owned by worker.c ---- */
  /* The configuration in force; worker_set_config replaces it (SIGHUP).
   * Whoever replaces it releases the old one (config_unref). */
  const struct config *cfg;
  /* The iterator's environment: pointers to this worker's servers, pool,
   * counters and tier sink, and to what it shares (worker.h's struct
   * worker_shared, and cfg->local). */
  struct iter_env env;
  servers_t *servers;           /* RTT and lameness per server address */
  upstream_t *up;               /* outbound queries; NULL once stopped */
  redis_tier_t *tier;           /* the shared cache tier, or NULL */
  struct cache_sink sink;       /* stores reach the tier through this */
  /* Counters, written with plain increments on this thread (by the four
   * parts, observe.c, and the iterator through env.stats); other threads
   * get copies made here (worker_post, worker_collect). */
  struct stats stats;
  struct zone_table *zones;     /* per-zone chain-step latency (observe.c) */
  struct chains_tables *chains;  /* the /chains tables (observe.c) */
  uv_async_t stop_async;        /* worker_stop sends it from any thread */
  /* Jobs from other threads (metrics collection, traces, flushes,
   * SIGHUP): jobs and jobs_closed are guarded by job_lock and touched by
   * any thread; job_async (uv_async_send, thread-safe) wakes the loop. */
  uv_async_t job_async;
  pthread_mutex_t job_lock;
  struct worker_job *jobs;      /* newest first; guarded by job_lock */
  bool jobs_closed;             /* no more jobs taken; guarded by job_lock */
  bool stopping;                /* set when the stop begins, never cleared */
  /* Bumped by worker_set_config when SIGHUP brings other local data:
   * server.c does not keep replies made from the old data. */
  uint32_t local_gen;

  /* ---- owned by request.c ---- */
  struct request *requests[WORKER_REQ_BUCKETS]; /* top-level, by question */
  struct request *traced;       /* traced requests (never joined) */
  struct request *prefetches;   /* background refreshes (never joined) */
  uint32_t nprefetch;           /* how many */
  struct request *start_queue;  /* sub-lookups to start on the next turn */
  uv_timer_t start_timer;

  /* ---- the fast path (udp.c), made and resized by worker.c ---- */
  struct udp_batch *batch;      /* recvmmsg/sendmmsg buffers */
  anscache_t *answers;          /* finished replies by question; server.c fills it */
  ratelimit_t *rl;              /* per-client UDP rate limit, or NULL */

  /* ---- owned by server.c ---- */
  struct udp_listener *udp[CONFIG_MAX_LISTEN]; /* udp.c's, opened and closed here */
  uv_tcp_t tcp[CONFIG_MAX_LISTEN];
  size_t nlisten;               /* listeners (UDP and TCP pairs) opened */
  uint32_t tcp_conns;           /* open client connections */
  struct tcp_conn *conns;       /* those connections, for shutdown */
  /* Connections with queries already received that may now be taken
   * (a slot freed, their replies drained): server.c takes them on the
   * loop's next turn, each holding a reference while listed. */
  struct tcp_conn *tcp_ready;
  uv_timer_t tcp_ready_timer;
};

#endif
