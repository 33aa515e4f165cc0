/* Worker threads: set-up, the loop, and an orderly stop; see worker.h. */
#include "resolver/daemon/worker.h"
#include "resolver/daemon/worker_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/lib/log.h"
#include "resolver/daemon/request.h"
#include "resolver/daemon/server.h"
#include "resolver/daemon/udp.h"

/* cache-size covers both tiers: a fifth of it for the workers' answer
 * caches, shared out evenly. */
static size_t answer_cache_bytes(const struct config *cfg) {
  return cfg->cache_size / 5 / (cfg->threads ? cfg->threads : 1);
}

/* Everything but the loop and the listeners; -1 when something could not
 * be made. */
static int worker_init(struct worker *w, unsigned index, const struct config *cfg,
                       const struct iter_config *icfg, const struct worker_shared *shared) {
  w->index = index;
  w->cfg = cfg;
  w->servers = servers_new(4096);
  w->up = upstream_new(&w->loop, cfg->edns_buffer_size, cfg->case_randomization);
  if (w->up) upstream_set_max_in_flight(w->up, cfg->max_upstream_in_flight);
  if (w->up) upstream_set_dnssec_ok(w->up, cfg->dnssec);
  if (!w->servers || !w->up) return -1;
  if (redis_enabled(&cfg->redis)) {
    w->tier = redis_tier_new(&w->loop, &cfg->redis, shared->cache, cfg->max_chain_length);
    if (!w->tier) return -1;
    w->sink = (struct cache_sink){redis_tier_store, w->tier};
    w->env.sink = &w->sink;
  }
  w->env.pool = iter_pool_new();
  if (!w->env.pool) return -1;
  w->env.cache = shared->cache;
  w->env.servers = w->servers;
  w->env.hints = shared->hints;
  w->env.cfg = icfg;
  w->env.local = cfg->local;
  w->env.stats = &w->stats;
  w->env.anchors = shared->anchors;
  w->env.keys = shared->keys;
  w->env.nsecs = shared->nsecs;
  w->zones = malloc(sizeof *w->zones);
  w->chains = malloc(sizeof *w->chains);
  if (!w->zones || !w->chains) return -1;
  zone_table_init(w->zones);
  chains_tables_init(w->chains);
  uv_timer_init(&w->loop, &w->start_timer);
  w->start_timer.data = w;
  w->batch = udp_batch_new();
  w->answers = anscache_new(answer_cache_bytes(cfg));
  if (cfg->ratelimit && !(w->rl = ratelimit_new(cfg->ratelimit, cfg->ratelimit_slip))) return -1;
  if (!w->batch || !w->answers) return -1;
  return 0;
}

struct worker *worker_new(unsigned index, const struct config *cfg,
                          const struct iter_config *icfg, const struct worker_shared *shared) {
  struct worker *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  pthread_mutex_init(&w->job_lock, NULL);
  if (uv_loop_init(&w->loop)) {
    pthread_mutex_destroy(&w->job_lock);
    free(w);
    return NULL;
  }
  if (worker_init(w, index, cfg, icfg, shared) || server_listen(w)) {
    worker_free(w);
    return NULL;
  }
  return w;
}

/* ---- jobs from other threads --------------------------------------------- */

struct worker_job {
  struct worker_job *next;
  worker_job_fn fn;
  void *arg;
};

int worker_post(struct worker *w, worker_job_fn fn, void *arg) {
  struct worker_job *j = malloc(sizeof *j);
  if (!j) return -1;
  j->fn = fn;
  j->arg = arg;
  pthread_mutex_lock(&w->job_lock);
  bool closed = w->jobs_closed;
  if (!closed) {
    j->next = w->jobs;
    w->jobs = j;
  }
  pthread_mutex_unlock(&w->job_lock);
  if (closed) {
    free(j);
    return -1;
  }
  uv_async_send(&w->job_async);
  return 0;
}

/* Run what was posted, oldest first. */
static void run_jobs(struct worker *w, bool close) {
  pthread_mutex_lock(&w->job_lock);
  struct worker_job *j = w->jobs, *rev = NULL;
  w->jobs = NULL;
  if (close) w->jobs_closed = true;
  pthread_mutex_unlock(&w->job_lock);
  while (j) {
    struct worker_job *next = j->next;
    j->next = rev;
    rev = j;
    j = next;
  }
  while (rev) {
    struct worker_job *next = rev->next;
    rev->fn(w, rev->arg);
    free(rev);
    rev = next;
  }
}

static void on_jobs(uv_async_t *a) { run_jobs(a->data, false); }

static void on_stop(uv_async_t *a) {
  struct worker *w = a->data;
  w->stopping = true;
  run_jobs(w, true);
  uv_close((uv_handle_t *)&w->job_async, NULL);
  request_abort_all(w);
  uv_close((uv_handle_t *)&w->start_timer, NULL);
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
  if (uv_async_init(&w->loop, &w->job_async, on_jobs)) return -1;
  w->job_async.data = w;
  return pthread_create(&w->thread, NULL, worker_main, w) ? -1 : 0;
}

void worker_stop(struct worker *w) { uv_async_send(&w->stop_async); }

void worker_join(struct worker *w) { pthread_join(w->thread, NULL); }

static void close_any(uv_handle_t *h, void *arg) {
  if (!uv_is_closing(h)) uv_close(h, NULL);
}

void worker_free(struct worker *w) {
  if (!w) return;
  /* Handles left by a failed start-up are closed here so the loop can go. */
  redis_tier_close(w->tier);
  w->tier = NULL;
  for (size_t i = 0; i < CONFIG_MAX_LISTEN; i++) udp_close(w->udp[i]); /* and freed */
  uv_walk(&w->loop, close_any, NULL);
  uv_run(&w->loop, UV_RUN_DEFAULT);
  uv_loop_close(&w->loop);
  if (w->up) upstream_close(w->up);
  servers_free(w->servers);
  iter_pool_free(w->env.pool);
  free(w->zones);
  free(w->chains);
  udp_batch_free(w->batch);
  anscache_free(w->answers);
  ratelimit_free(w->rl);
  pthread_mutex_destroy(&w->job_lock);
  free(w);
}

uv_loop_t *worker_loop(struct worker *w) { return &w->loop; }

const struct config *worker_config(const struct worker *w) { return w->cfg; }

bool worker_stopping(const struct worker *w) { return w->stopping; }

redis_tier_t *worker_tier(struct worker *w) { return w->tier; }

void worker_clear_answers(struct worker *w) { anscache_clear(w->answers); }

void worker_set_config(struct worker *w, const struct config *cfg) {
  /* Replies made from the old local data must not outlive it. */
  if (w->env.local != cfg->local) {
    if (w->answers) anscache_clear(w->answers);
    w->local_gen++; /* and replies still being made from the old data are not kept */
  }
  w->env.local = cfg->local;
  w->cfg = cfg;
  upstream_set_max_in_flight(w->up, cfg->max_upstream_in_flight);
  if (!cfg->ratelimit) {
    ratelimit_free(w->rl);
    w->rl = NULL;
  } else if (w->rl) {
    ratelimit_set(w->rl, cfg->ratelimit, cfg->ratelimit_slip);
  } else {
    w->rl = ratelimit_new(cfg->ratelimit, cfg->ratelimit_slip);
  }
}

void worker_stats(const struct worker *w, struct stats *out) {
  *out = w->stats;
  if (w->up) {
    const struct up_stats *u = upstream_stats(w->up);
    out->upstream_udp = u->sent_udp;
    out->upstream_tcp = u->sent_tcp;
    out->upstream_timeouts = u->timeouts;
    out->upstream_mismatched = u->mismatched;
    out->upstream_case_mismatched = u->case_mismatched;
    out->upstream_case_fallbacks = u->case_fallbacks;
    out->limited[SL_UPSTREAM] = u->shed;
    out->upstream_rtt = u->rtt;
  }
  if (w->tier) redis_tier_stats(w->tier, &out->redis);
  if (w->answers) {
    struct ac_stats a;
    anscache_stats(w->answers, &a);
    out->answer_hits = a.hits;
    out->answer_misses = a.misses;
    out->answer_evictions = a.evictions;
    out->answer_entries = a.entries;
    out->answer_bytes = a.bytes;
  }
}

/* ---- collecting metrics across threads ------------------------------------ */

/* One collection: the requester and every worker asked hold a reference;
 * the last one out frees it, so a late worker never writes into freed
 * memory. */
struct collect {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  unsigned what;
  size_t pending;
  int refs;
  struct stats *parts;
  struct zone_table **zones;
  struct chains_tables **chains;
  size_t n;
};

static void collect_unref(struct collect *c) {
  pthread_mutex_lock(&c->lock);
  bool last = --c->refs == 0;
  pthread_mutex_unlock(&c->lock);
  if (!last) return;
  for (size_t i = 0; i < c->n; i++) {
    if (c->zones) free(c->zones[i]);
    if (c->chains) free(c->chains[i]);
  }
  free(c->zones);
  free(c->chains);
  free(c->parts);
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static void collect_job(struct worker *w, void *arg) {
  struct collect *c = arg;
  struct stats s;
  worker_stats(w, &s);
  pthread_mutex_lock(&c->lock);
  c->parts[w->index] = s;
  if (c->zones) memcpy(c->zones[w->index], w->zones, sizeof *w->zones);
  if (c->chains) memcpy(c->chains[w->index], w->chains, sizeof *w->chains);
  c->pending--;
  pthread_cond_signal(&c->cond);
  pthread_mutex_unlock(&c->lock);
  collect_unref(c);
}

static struct collect *collect_new(size_t n, unsigned what) {
  struct collect *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->cond, NULL);
  c->what = what;
  c->n = n;
  c->refs = 1;
  c->parts = calloc(n, sizeof *c->parts);
  if (what & COLLECT_ZONES) c->zones = calloc(n, sizeof *c->zones);
  if (what & COLLECT_CHAINS) c->chains = calloc(n, sizeof *c->chains);
  bool ok = c->parts && (!(what & COLLECT_ZONES) || c->zones) &&
            (!(what & COLLECT_CHAINS) || c->chains);
  for (size_t i = 0; ok && i < n; i++) {
    if (c->zones) ok = (c->zones[i] = calloc(1, sizeof **c->zones)) != NULL;
    if (ok && c->chains) ok = (c->chains[i] = calloc(1, sizeof **c->chains)) != NULL;
  }
  if (!ok) {
    collect_unref(c);
    return NULL;
  }
  return c;
}

static int wait_collect(struct collect *c, uint32_t timeout_ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000;
  until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
  if (until.tv_nsec >= 1000000000) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000;
  }
  int rc = 0;
  pthread_mutex_lock(&c->lock);
  while (c->pending && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&c->cond, &c->lock, &until);
  bool done = c->pending == 0;
  pthread_mutex_unlock(&c->lock);
  return done ? 0 : -1;
}

int worker_collect(struct worker *const *ws, size_t n, unsigned what, uint32_t timeout_ms,
                   struct worker_snapshot *out) {
  memset(out, 0, sizeof *out);
  struct collect *c = collect_new(n, what);
  if (!c) return -1;
  for (size_t i = 0; i < n; i++) {
    pthread_mutex_lock(&c->lock);
    c->refs++;
    c->pending++;
    pthread_mutex_unlock(&c->lock);
    if (worker_post(ws[i], collect_job, c) == 0) continue;
    pthread_mutex_lock(&c->lock); /* stopped: its last counters stand */
    c->refs--;
    c->pending--;
    c->parts[i] = ws[i]->stats;
    pthread_mutex_unlock(&c->lock);
  }
  int rc = wait_collect(c, timeout_ms);
  if (rc == 0) {
    for (size_t i = 0; i < n; i++) stats_add(&out->stats, &c->parts[i]);
    out->n = n;
    out->zones = c->zones;
    out->chains = c->chains;
    c->zones = NULL; /* handed over */
    c->chains = NULL;
  }
  collect_unref(c);
  return rc;
}

void worker_snapshot_free(struct worker_snapshot *s) {
  for (size_t i = 0; i < s->n; i++) {
    if (s->zones) free(s->zones[i]);
    if (s->chains) free(s->chains[i]);
  }
  free(s->zones);
  free(s->chains);
  memset(s, 0, sizeof *s);
}
