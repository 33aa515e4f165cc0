/* The diagnostics endpoint's callbacks; see diag.h. */
#include "resolver/diag.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/chains.h"
#include "metrics/expo.h"
#include "metrics/jbuf.h"
#include "resolver/name.h"
#include "resolver/trace.h"
#include "resolver/util.h"

#define COLLECT_TIMEOUT_MS 2000

struct diag {
  struct worker *workers;
  unsigned n;
  cache_t *cache;
  const struct config *cfg;
  pthread_mutex_t lock; /* the zone exporter's state; two scrapes may overlap */
  zone_export_t *zones;
  metrics_http_t *http;
  unsigned next_worker; /* traces go round the workers */
  /* /trace makes the resolver query authorities on an HTTP client's
   * behalf: one at a time, and trace-rate per minute (a token bucket
   * holding at most a burst of five), guarded by lock. */
  bool tracing;
  uint32_t trace_rate;
  double trace_tokens;
  uint64_t trace_refill_us;
};

/* May a trace start now? Takes a token and the single trace slot. */
static bool trace_admit(struct diag *d) {
  uint32_t rate = d->trace_rate;
  double cap = rate < 5 ? rate : 5;
  uint64_t now = util_mono_us();
  d->trace_tokens += (double)(now - d->trace_refill_us) * rate / 60e6;
  if (d->trace_tokens > cap) d->trace_tokens = cap;
  d->trace_refill_us = now;
  if (d->tracing || d->trace_tokens < 1.0) return false;
  d->trace_tokens -= 1.0;
  d->tracing = true;
  return true;
}

static char *busy(int *status) {
  *status = 503;
  return strdup("the workers did not answer in time; try again\n");
}

static char *on_metrics(void *ctx, int *status) {
  struct diag *d = ctx;
  struct worker_snapshot snap;
  if (workers_collect(d->workers, d->n, COLLECT_ZONES, COLLECT_TIMEOUT_MS, &snap))
    return busy(status);
  struct zone_series *series = calloc(d->cfg->metrics_top_zones + 1, sizeof *series);
  char *text = NULL;
  if (series) {
    pthread_mutex_lock(&d->lock);
    size_t nz = zone_export_collect(d->zones, (const struct zone_table *const *)snap.zones,
                                    snap.n, series);
    pthread_mutex_unlock(&d->lock);
    struct cache_stats cs;
    cache_get_stats(d->cache, &cs);
    struct expo_input in = {&snap.stats, &cs, d->cfg->cache_size, series, nz,
                            redis_enabled(&d->cfg->redis), d->n, CHAINDNS_VERSION};
    text = expo_render(&in);
  }
  free(series);
  worker_snapshot_free(&snap);
  *status = 200;
  return text;
}

static char *on_chains(void *ctx, int *status) {
  struct diag *d = ctx;
  struct worker_snapshot snap;
  if (workers_collect(d->workers, d->n, COLLECT_CHAINS, COLLECT_TIMEOUT_MS, &snap))
    return busy(status);
  char *json = chain_tables_json((const struct chain_tables *const *)snap.chains, snap.n,
                                 util_now_us());
  worker_snapshot_free(&snap);
  *status = 200;
  return json;
}

static char *on_trace(void *ctx, const char *name, const char *type, bool nocache,
                      int *status) {
  struct diag *d = ctx;
  pthread_mutex_lock(&d->lock);
  bool ok = trace_admit(d);
  struct worker *w = &d->workers[d->next_worker++ % d->n];
  pthread_mutex_unlock(&d->lock);
  if (!ok) {
    char msg[160];
    *status = 429;
    snprintf(msg, sizeof msg,
             "too many traces: one at a time, at most %u a minute (trace-rate); try later\n",
             d->trace_rate);
    return strdup(msg);
  }
  char *out = trace_run_json(w, name, type, nocache, d->cfg->request_timeout_ms + 1000, status);
  pthread_mutex_lock(&d->lock);
  d->tracing = false;
  if (*status == 400) d->trace_tokens += 1.0; /* nothing was asked upstream */
  pthread_mutex_unlock(&d->lock);
  return out;
}

/* ---- cache control ---------------------------------------------------------- */

/* The shared tier's part of a flush, done on worker 0's loop; the HTTP
 * thread waits for it (bounded). Whoever lets go last frees it. */
struct flush_wait {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  bool done;
  long redis; /* keys deleted; -1 Redis unreachable; -2 no shared tier */
  int refs;
  ldns_rdf *name;
  bool below;
};

static void fw_unref(struct flush_wait *fw) {
  pthread_mutex_lock(&fw->lock);
  bool last = --fw->refs == 0;
  pthread_mutex_unlock(&fw->lock);
  if (!last) return;
  pthread_mutex_destroy(&fw->lock);
  pthread_cond_destroy(&fw->cond);
  ldns_rdf_deep_free(fw->name);
  free(fw);
}

static void on_redis_flushed(void *arg, long deleted) {
  struct flush_wait *fw = arg;
  pthread_mutex_lock(&fw->lock);
  fw->redis = deleted;
  fw->done = true;
  pthread_cond_signal(&fw->cond);
  pthread_mutex_unlock(&fw->lock);
  fw_unref(fw);
}

static void flush_redis_job(struct worker *w, void *arg) {
  struct flush_wait *fw = arg;
  if (w->tier) redis_tier_flush(w->tier, fw->name, fw->below, on_redis_flushed, fw);
  else on_redis_flushed(fw, -2);
}

static void clear_answers_job(struct worker *w, void *arg) {
  (void)arg;
  anscache_clear(w->answers);
}

static char *on_flush(void *ctx, const char *text, bool zone, int *status) {
  struct diag *d = ctx;
  ldns_rdf *name = NULL;
  if (ldns_str2rdf_dname(&name, text) != LDNS_STATUS_OK) {
    *status = 400;
    return strdup("not a domain name\n");
  }
  ldns_dname2canonical(name);
  struct flush_wait *fw = calloc(1, sizeof *fw);
  if (!fw) {
    ldns_rdf_deep_free(name);
    return NULL;
  }
  pthread_mutex_init(&fw->lock, NULL);
  pthread_cond_init(&fw->cond, NULL);
  fw->refs = 2;
  fw->name = name;
  fw->below = zone;
  fw->redis = -1;
  /* Redis first, then memory: a lookup meanwhile cannot bring the name
   * back from Redis into memory after memory was flushed. */
  if (worker_post(&d->workers[0], flush_redis_job, fw)) on_redis_flushed(fw, -1);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 5;
  pthread_mutex_lock(&fw->lock);
  while (!fw->done && pthread_cond_timedwait(&fw->cond, &fw->lock, &until) == 0) {
  }
  long redis = fw->done ? fw->redis : -1;
  pthread_mutex_unlock(&fw->lock);
  size_t memory = cache_flush(d->cache, name, zone);
  /* A zone re-signed or re-keyed: its established keys and NSEC ranges go
   * too (the key and NSEC caches are shared by the workers). */
  if (d->n && d->workers[0].env.keys) keycache_flush(d->workers[0].env.keys, name, zone);
  if (d->n && d->workers[0].env.nsecs) nseccache_flush(d->workers[0].env.nsecs, name, zone);
  unsigned cleared = 0;
  for (unsigned i = 0; i < d->n; i++)
    if (worker_post(&d->workers[i], clear_answers_job, NULL) == 0) cleared++;
  char shown[1100], *out = NULL;
  name_str(name, shown, sizeof shown);
  fw_unref(fw);
  char redis_text[64];
  if (redis == -2) snprintf(redis_text, sizeof redis_text, "\"off\"");
  else if (redis < 0) snprintf(redis_text, sizeof redis_text, "\"unreachable\"");
  else snprintf(redis_text, sizeof redis_text, "%ld", redis);
  struct jbuf b = {0};
  jbuf_printf(&b, "{\"%s\": ", zone ? "zone" : "name");
  jbuf_json_str(&b, shown);
  jbuf_printf(&b, ", \"memory_entries\": %zu, \"answer_caches_cleared\": %u, "
                  "\"redis_keys\": %s}\n", memory, cleared, redis_text);
  out = jbuf_take(&b);
  *status = redis == -1 ? 503 : 200; /* memory done, Redis not: say so */
  return out;
}

static char *on_cache_stats(void *ctx, int *status) {
  struct diag *d = ctx;
  struct worker_snapshot snap;
  if (workers_collect(d->workers, d->n, 0, COLLECT_TIMEOUT_MS, &snap)) return busy(status);
  struct cache_stats cs;
  cache_get_stats(d->cache, &cs);
  const struct stats *s = &snap.stats;
  const struct redis_stats *r = &s->redis;
  struct jbuf b = {0};
  jbuf_printf(&b,
              "{\"memory\": {\"entries\": %zu, \"bytes\": %zu, \"budget_bytes\": %zu, "
              "\"hits\": %llu, \"misses\": %llu, \"inserts\": %llu, \"evictions\": %llu},\n"
              " \"answer\": {\"entries\": %llu, \"bytes\": %llu, \"hits\": %llu, "
              "\"misses\": %llu, \"evictions\": %llu},\n"
              " \"redis\": {\"enabled\": %s, \"up\": %llu, \"lookups\": %llu, "
              "\"lookup_hits\": %llu, \"keys_found\": %llu, \"writes\": %llu, "
              "\"writes_dropped\": %llu, \"timeouts\": %llu, \"errors\": %llu}}\n",
              cs.entries, cs.bytes, cache_budget(d->cache), (unsigned long long)cs.hits,
              (unsigned long long)cs.misses, (unsigned long long)cs.inserts,
              (unsigned long long)cs.evictions, (unsigned long long)s->answer_entries,
              (unsigned long long)s->answer_bytes, (unsigned long long)s->answer_hits,
              (unsigned long long)s->answer_misses, (unsigned long long)s->answer_evictions,
              redis_enabled(&d->cfg->redis) ? "true" : "false", (unsigned long long)r->up,
              (unsigned long long)r->lookups, (unsigned long long)r->lookup_hits,
              (unsigned long long)r->keys_found, (unsigned long long)r->writes,
              (unsigned long long)r->writes_dropped, (unsigned long long)r->timeouts,
              (unsigned long long)r->errors);
  worker_snapshot_free(&snap);
  *status = 200;
  return jbuf_take(&b);
}

diag_t *diag_start(struct worker *workers, unsigned n, cache_t *cache,
                   const struct config *cfg, char *err, size_t errlen) {
  struct diag *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->workers = workers;
  d->n = n;
  d->cache = cache;
  d->cfg = cfg;
  d->trace_rate = cfg->trace_rate;
  d->trace_tokens = cfg->trace_rate < 5 ? cfg->trace_rate : 5;
  d->trace_refill_us = util_mono_us();
  pthread_mutex_init(&d->lock, NULL);
  d->zones = zone_export_new(cfg->metrics_top_zones);
  struct metrics_ops ops = {on_metrics, on_chains, on_trace, on_flush, on_cache_stats, d};
  if (d->zones)
    d->http = metrics_http_start((const struct sockaddr *)&cfg->metrics_addr, &ops, err, errlen);
  if (!d->http) {
    diag_stop(d);
    return NULL;
  }
  return d;
}

void diag_set_trace_rate(diag_t *d, uint32_t per_minute) {
  if (!d) return;
  pthread_mutex_lock(&d->lock);
  d->trace_rate = per_minute;
  pthread_mutex_unlock(&d->lock);
}

void diag_stop(diag_t *d) {
  if (!d) return;
  metrics_http_stop(d->http);
  zone_export_free(d->zones);
  pthread_mutex_destroy(&d->lock);
  free(d);
}
