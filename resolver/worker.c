/* Worker threads: set-up, the loop, and an orderly stop; see worker.h. */
#include "resolver/worker.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/log.h"
#include "resolver/request.h"
#include "resolver/server.h"

int worker_init(struct worker *w, unsigned index, const struct config *cfg,
                const struct iter_config *icfg, cache_t *cache, const struct hints *hints) {
  memset(w, 0, sizeof *w);
  w->index = index;
  w->cfg = cfg;
  if (uv_loop_init(&w->loop)) return -1;
  w->servers = servers_new(4096);
  w->up = upstream_new(&w->loop, cfg->edns_buffer_size);
  if (!w->servers || !w->up) return -1;
  if (redis_enabled(&cfg->redis)) {
    w->tier = redis_tier_new(&w->loop, &cfg->redis, cache, cfg->max_chain_length);
    if (!w->tier) return -1;
    w->sink = (struct cache_sink){redis_tier_store, w->tier};
    w->env.sink = &w->sink;
  }
  w->env.cache = cache;
  w->env.servers = w->servers;
  w->env.hints = hints;
  w->env.cfg = icfg;
  return server_listen(w);
}

static void on_stop(uv_async_t *a) {
  struct worker *w = a->data;
  w->stopping = true;
  request_abort_all(w);
  struct stats last; /* keep the upstream and tier counters they free */
  worker_stats(w, &last);
  w->stats = last;
  server_close(w);
  upstream_close(w->up);
  w->up = NULL;
  redis_tier_close(w->tier);
  w->tier = NULL;
  w->env.sink = NULL;
  uv_close((uv_handle_t *)&w->stop_async, NULL);
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  uv_run(&w->loop, UV_RUN_DEFAULT);
  return NULL;
}

int worker_start(struct worker *w) {
  if (uv_async_init(&w->loop, &w->stop_async, on_stop)) return -1;
  w->stop_async.data = w;
  return pthread_create(&w->thread, NULL, worker_main, w) ? -1 : 0;
}

void worker_stop(struct worker *w) { uv_async_send(&w->stop_async); }

void worker_join(struct worker *w) { pthread_join(w->thread, NULL); }

static void close_any(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

void worker_destroy(struct worker *w) {
  /* Handles left by a failed start-up are closed here so the loop can go. */
  redis_tier_close(w->tier);
  w->tier = NULL;
  uv_walk(&w->loop, close_any, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  uv_loop_close(&w->loop);
  if (w->up) upstream_close(w->up);
  servers_free(w->servers);
}

void worker_stats(const struct worker *w, struct stats *out) {
  *out = w->stats;
  if (w->up) {
    const struct up_stats *u = upstream_stats(w->up);
    out->upstream_udp = u->sent_udp;
    out->upstream_tcp = u->sent_tcp;
    out->upstream_timeouts = u->timeouts;
  }
  if (w->tier) out->redis = *redis_tier_stats(w->tier);
}
