/* The diagnostics endpoint's callbacks; see diag.h. */
#include "resolver/daemon/diag.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/chains.h"
#include "metrics/expo.h"
#include "resolver/core/trace.h"
#include "resolver/daemon/request.h"
#include "resolver/lib/util.h"

#define COLLECT_TIMEOUT_MS 2000

/* ---- running a trace from another thread ----------------------------------------------- */

#define TRACES_AT_ONCE 2 /* a trace may cost a whole resolution from the root */

/* The endpoint's threads run traces at once: traces_running counts them,
 * guarded by traces_lock (process-wide, like the bound it enforces). */
static pthread_mutex_t traces_lock = PTHREAD_MUTEX_INITIALIZER;
static int traces_running;

/* One trace, between the HTTP thread that waits and the worker that runs
 * it. Each holds a reference; the last one out frees it. */
struct trace_job {
  pthread_mutex_t lock;
  pthread_cond_t cond;  /* signalled when done is set */
  int refs;             /* lock */
  bool done;            /* lock */
  /* Set before the job is posted, then read-only: no lock. */
  ldns_rdf *qname;
  ldns_rr_type qtype;
  bool nocache;
  char name[300], type[32];
  char *json;           /* lock; the worker's result, taken by the waiter */
};

static void job_unref(struct trace_job *j) {
  pthread_mutex_lock(&j->lock);
  bool last = --j->refs == 0;
  pthread_mutex_unlock(&j->lock);
  if (!last) return;
  ldns_rdf_deep_free(j->qname);
  free(j->json);
  pthread_cond_destroy(&j->cond);
  pthread_mutex_destroy(&j->lock);
  free(j);
}

/* On the worker: the trace ended (res NULL: shutting down). */
static void job_done(void *arg, struct trace_result *res) {
  struct trace_job *j = arg;
  char *json = res ? trace_json(j->name, j->type, j->nocache, res) : NULL;
  trace_result_free(res);
  pthread_mutex_lock(&j->lock);
  j->json = json;
  j->done = true;
  pthread_cond_signal(&j->cond);
  pthread_mutex_unlock(&j->lock);
  job_unref(j);
}

static void job_start(struct worker *w, void *arg) {
  struct trace_job *j = arg;
  if (worker_stopping(w)) job_done(j, NULL);
  else request_trace(w, j->qname, j->qtype, j->nocache, job_done, j);
}

static char *plain(int *status, int code, const char *text) {
  *status = code;
  return strdup(text);
}

static char *wait_job(struct trace_job *j, uint32_t timeout_ms, int *status) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += timeout_ms / 1000 + (until.tv_nsec + (long)(timeout_ms % 1000) * 1000000) /
                                          1000000000;
  until.tv_nsec = (until.tv_nsec + (long)(timeout_ms % 1000) * 1000000) % 1000000000;
  int rc = 0;
  pthread_mutex_lock(&j->lock);
  while (!j->done && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&j->cond, &j->lock, &until);
  char *json = j->json;
  j->json = NULL;
  bool done = j->done;
  pthread_mutex_unlock(&j->lock);
  if (json) {
    *status = 200;
    return json;
  }
  return plain(status, 503, done ? "the resolver is stopping\n" : "the trace did not finish\n");
}

/* From the HTTP thread: resolve (name, type) on worker w with a trace,
 * bypassing the caches when nocache; wait at most timeout_ms. Returns the
 * JSON (malloc'd) and sets *status (200, 400 for a bad name or type, 429
 * when too many run, 503 when busy or timed out). */
static char *trace_run_json(struct worker *w, const char *name, const char *type, bool nocache,
                     uint32_t timeout_ms, int *status) {
  ldns_rdf *qname = ldns_dname_new_frm_str(name);
  ldns_rr_type qtype = ldns_get_rr_type_by_name(type);
  if (!qname || strlen(name) >= 256) {
    ldns_rdf_deep_free(qname);
    return plain(status, 400, "name: not a domain name\n");
  }
  if (qtype == 0) {
    ldns_rdf_deep_free(qname);
    return plain(status, 400, "type: not a record type (A, AAAA, MX, TYPE65534, ...)\n");
  }
  pthread_mutex_lock(&traces_lock);
  bool room = traces_running < TRACES_AT_ONCE;
  if (room) traces_running++;
  pthread_mutex_unlock(&traces_lock);
  if (!room) {
    ldns_rdf_deep_free(qname);
    return plain(status, 429, "too many traces at once; try again\n");
  }
  struct trace_job *j = calloc(1, sizeof *j);
  char *body = NULL;
  if (j) {
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    j->refs = 2; /* this thread and the worker */
    j->qname = qname;
    j->qtype = qtype;
    j->nocache = nocache;
    snprintf(j->name, sizeof j->name, "%s", name);
    snprintf(j->type, sizeof j->type, "%s", type);
    qname = NULL;
    if (worker_post(w, job_start, j)) {
      j->refs = 1;
      body = plain(status, 503, "the resolver is stopping\n");
    } else {
      body = wait_job(j, timeout_ms, status);
    }
    job_unref(j);
  } else {
    body = plain(status, 500, "out of memory\n");
  }
  ldns_rdf_deep_free(qname);
  pthread_mutex_lock(&traces_lock);
  traces_running--;
  pthread_mutex_unlock(&traces_lock);
  return body;
}

/*
 * The endpoint's state. libmicrohttpd calls on_* from its own threads, so
 * two requests may run at once; the main thread changes trace_rate on
 * SIGHUP. What diag_start sets and nobody changes is read without a lock;
 * the rest is guarded by lock, held only for bookkeeping, never while
 * waiting for the workers.
 */
struct diag {
  /* Set by diag_start, then read-only (the pointees are borrowed). */
  struct worker *const *workers;
  unsigned n;
  cache_t *cache;       /* locks inside */
  cachectl_t *cc;       /* locks inside */
  /* The start-up configuration. Of what SIGHUP changes only trace_rate
   * reaches here (diag_set_trace_rate): a /trace waits for the
   * request-timeout of start-up. */
  const struct config *cfg;
  metrics_http_t *http;
  pthread_mutex_t lock;
  zone_export_t *zones; /* lock: the zone exporter's state; two scrapes may overlap */
  unsigned next_worker; /* lock: traces go round the workers */
  /* /trace makes the resolver query authorities on an HTTP client's
   * behalf: one at a time, and trace-rate per minute (a token bucket
   * holding at most a burst of five). */
  bool tracing;         /* lock */
  uint32_t trace_rate;  /* lock; diag_set_trace_rate (SIGHUP) */
  double trace_tokens;  /* lock */
  uint64_t trace_refill_us; /* lock */
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
  if (worker_collect(d->workers, d->n, COLLECT_ZONES, COLLECT_TIMEOUT_MS, &snap))
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
  if (worker_collect(d->workers, d->n, COLLECT_CHAINS, COLLECT_TIMEOUT_MS, &snap))
    return busy(status);
  char *json = chains_tables_json((const struct chains_tables *const *)snap.chains, snap.n,
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
  struct worker *w = d->workers[d->next_worker++ % d->n];
  uint32_t rate = d->trace_rate;
  pthread_mutex_unlock(&d->lock);
  if (!ok) {
    char msg[160];
    *status = 429;
    snprintf(msg, sizeof msg,
             "too many traces: one at a time, at most %u a minute (trace-rate); try later\n",
             rate);
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

diag_t *diag_start(struct worker *const *ws, unsigned n, cache_t *cache, cachectl_t *cc,
                   const struct config *cfg, char *err, size_t errlen) {
  struct diag *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->workers = ws;
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
