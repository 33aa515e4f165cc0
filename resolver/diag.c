/* The diagnostics endpoint's callbacks; see diag.h. */
#include "resolver/diag.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/chains.h"
#include "metrics/expo.h"
#include "resolver/trace.h"
#include "resolver/util.h"

#define COLLECT_TIMEOUT_MS 2000

struct diag {
  struct worker *workers;
  unsigned n;
  cache_t *cache;
  cachectl_t *cc; /* borrowed */
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

/* Cache control over HTTP: only with a control token (metrics/http.c
 * checks it before calling these). */
static char *on_flush(void *ctx, const char *name, bool zone, int *status) {
  struct diag *d = ctx;
  return cachectl_flush(d->cc, name, zone, status);
}

static char *on_cache_stats(void *ctx, int *status) {
  struct diag *d = ctx;
  return cachectl_stats(d->cc, status);
}

diag_t *diag_start(struct worker *workers, unsigned n, cache_t *cache, cachectl_t *cc,
                   const struct config *cfg, char *err, size_t errlen) {
  struct diag *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->workers = workers;
  d->n = n;
  d->cache = cache;
  d->cfg = cfg;
  d->cc = cc;
  d->trace_rate = cfg->trace_rate;
  d->trace_tokens = cfg->trace_rate < 5 ? cfg->trace_rate : 5;
  d->trace_refill_us = util_mono_us();
  pthread_mutex_init(&d->lock, NULL);
  d->zones = zone_export_new(cfg->metrics_top_zones);
  struct metrics_ops ops = {on_metrics, on_chains, on_trace, on_flush, on_cache_stats, d};
  const char *hosts[CONFIG_MAX_METRICS_HOSTS];
  for (size_t i = 0; i < cfg->n_metrics_hosts; i++) hosts[i] = cfg->metrics_hosts[i];
  struct metrics_http_policy policy = {hosts, cfg->n_metrics_hosts,
                                       cfg->control_token_len ? cfg->control_token : NULL,
                                       cfg->control_token_len};
  if (d->zones)
    d->http = metrics_http_start((const struct sockaddr *)&cfg->metrics_addr, &ops, &policy,
                                 err, errlen);
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
