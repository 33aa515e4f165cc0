/* Cache control for operators; see cachectl.h. */
#include "resolver/daemon/cachectl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/jbuf.h"
#include "resolver/dnssec/keycache.h"
#include "resolver/lib/name.h"
#include "resolver/dnssec/nseccache.h"

#define COLLECT_TIMEOUT_MS 2000
/* The caller waits for the Redis scan a little longer than the scan may
 * run, so it normally hears how the scan ended. */
#define FLUSH_WAIT_MS (CACHECTL_SCAN_MAX_MS + 2000)

/* Called from the control socket's threads and the metrics endpoint's at
 * once. What cachectl_new sets is read-only after, with no lock (the caches
 * lock inside, the workers are reached through worker_post); only flushing
 * changes. */
struct cachectl {
  struct worker *const *workers; /* borrowed, like the caches and cfg */
  unsigned n;
  cache_t *cache;
  keycache_t *keys;              /* NULL: validation off */
  nseccache_t *nsecs;            /* NULL: no aggressive NSEC */
  const struct config *cfg;      /* the start-up one: only its redis settings are read */
  pthread_mutex_t lock; /* guards flushing */
  bool flushing;        /* lock; from a flush's start until its Redis scan has ended too */
};

cachectl_t *cachectl_new(struct worker *const *ws, unsigned n,
                         const struct worker_shared *shared, const struct config *cfg) {
  struct cachectl *cc = calloc(1, sizeof *cc);
  if (!cc) return NULL;
  cc->workers = ws;
  cc->n = n;
  cc->cache = shared->cache;
  cc->keys = shared->keys;
  cc->nsecs = shared->nsecs;
  cc->cfg = cfg;
  pthread_mutex_init(&cc->lock, NULL);
  return cc;
}

void cachectl_free(cachectl_t *cc) {
  if (!cc) return;
  pthread_mutex_destroy(&cc->lock);
  free(cc);
}

/* ---- flush ------------------------------------------------------------------------ */

/* The shared tier's part of a flush, done on worker 0's loop while the
 * caller waits (bounded). Two references: the caller's and the scan's;
 * whoever lets go last frees it and opens the gate for the next flush. */
struct flush_wait {
  pthread_mutex_t lock; /* guards done, redis, complete and refs */
  pthread_cond_t cond;  /* signalled when done is set */
  bool done;
  long redis;    /* keys deleted; -1 Redis unreachable; -2 no shared tier */
  bool complete; /* the scan went through the whole keyspace */
  int refs;
  /* Set before the scan is posted, then read-only: no lock. */
  ldns_rdf *name; /* owned */
  bool below;
  struct cachectl *cc;
};

static void fw_unref(struct flush_wait *fw) {
  pthread_mutex_lock(&fw->lock);
  bool last = --fw->refs == 0;
  pthread_mutex_unlock(&fw->lock);
  if (!last) return;
  struct cachectl *cc = fw->cc;
  pthread_mutex_destroy(&fw->lock);
  pthread_cond_destroy(&fw->cond);
  ldns_rdf_deep_free(fw->name);
  free(fw);
  pthread_mutex_lock(&cc->lock);
  cc->flushing = false;
  pthread_mutex_unlock(&cc->lock);
}

static void on_redis_flushed(void *arg, long deleted, bool complete) {
  struct flush_wait *fw = arg;
  pthread_mutex_lock(&fw->lock);
  fw->redis = deleted;
  fw->complete = complete;
  fw->done = true;
  pthread_cond_signal(&fw->cond);
  pthread_mutex_unlock(&fw->lock);
  fw_unref(fw);
}

static void flush_redis_job(struct worker *w, void *arg) {
  struct flush_wait *fw = arg;
  redis_tier_t *tier = worker_tier(w);
  if (tier)
    redis_tier_flush(tier, fw->name, fw->below, CACHECTL_SCAN_MAX_MS, on_redis_flushed, fw);
  else
    on_redis_flushed(fw, -2, true);
}

static void clear_answers_job(struct worker *w, void *arg) {
  (void)arg;
  worker_clear_answers(w);
}

/* Take the flush gate; false when a flush (or its scan) is under way. */
static bool flush_admit(struct cachectl *cc) {
  pthread_mutex_lock(&cc->lock);
  bool ok = !cc->flushing;
  cc->flushing = true;
  pthread_mutex_unlock(&cc->lock);
  return ok;
}

/* Start the Redis part on worker 0 and wait for it (bounded). */
static void flush_redis(struct cachectl *cc, struct flush_wait *fw, long *redis,
                        bool *complete) {
  if (worker_post(cc->workers[0], flush_redis_job, fw)) on_redis_flushed(fw, -1, false);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += FLUSH_WAIT_MS / 1000;
  pthread_mutex_lock(&fw->lock);
  while (!fw->done && pthread_cond_timedwait(&fw->cond, &fw->lock, &until) == 0) {
  }
  *redis = fw->done ? fw->redis : -1;
  *complete = fw->done && fw->complete;
  pthread_mutex_unlock(&fw->lock);
}

static char *flush_report(const ldns_rdf *name, bool zone, size_t memory, unsigned cleared,
                          long redis, bool complete) {
  char shown[1100], redis_text[64];
  name_str(name, shown, sizeof shown);
  if (redis == -2) snprintf(redis_text, sizeof redis_text, "\"off\"");
  else if (redis < 0) snprintf(redis_text, sizeof redis_text, "\"unreachable\"");
  else snprintf(redis_text, sizeof redis_text, "%ld", redis);
  struct jbuf b = {0};
  jbuf_printf(&b, "{\"%s\": ", zone ? "zone" : "name");
  jbuf_json_str(&b, shown);
  jbuf_printf(&b,
              ", \"memory_entries\": %zu, \"answer_caches_cleared\": %u, \"redis_keys\": %s%s}\n",
              memory, cleared, redis_text,
              redis >= 0 && !complete ? ", \"redis_complete\": false" : "");
  return jbuf_take(&b);
}

char *cachectl_flush(cachectl_t *cc, const char *text, bool zone, int *status) {
  ldns_rdf *name = NULL;
  if (cc->n == 0 || ldns_str2rdf_dname(&name, text) != LDNS_STATUS_OK) {
    *status = 400;
    return strdup("not a domain name\n");
  }
  ldns_dname2canonical(name);
  if (!flush_admit(cc)) {
    ldns_rdf_deep_free(name);
    *status = 429;
    return strdup("a flush is under way (one at a time, its Redis scan included); "
                  "try again when it has finished\n");
  }
  struct flush_wait *fw = calloc(1, sizeof *fw);
  if (!fw) {
    ldns_rdf_deep_free(name);
    pthread_mutex_lock(&cc->lock);
    cc->flushing = false;
    pthread_mutex_unlock(&cc->lock);
    return NULL;
  }
  pthread_mutex_init(&fw->lock, NULL);
  pthread_cond_init(&fw->cond, NULL);
  fw->refs = 2;
  fw->name = name;
  fw->below = zone;
  fw->redis = -1;
  fw->cc = cc;
  /* Redis first, then memory: a lookup meanwhile cannot bring the name
   * back from Redis into memory after memory was flushed. */
  long redis;
  bool complete;
  flush_redis(cc, fw, &redis, &complete);
  size_t memory = cache_flush(cc->cache, name, zone);
  /* A zone re-signed or re-keyed: its established keys and NSEC ranges go
   * too (the key and NSEC caches are shared by the workers). */
  if (cc->keys) keycache_flush(cc->keys, name, zone);
  if (cc->nsecs) nseccache_flush(cc->nsecs, name, zone);
  unsigned cleared = 0;
  for (unsigned i = 0; i < cc->n; i++)
    if (worker_post(cc->workers[i], clear_answers_job, NULL) == 0) cleared++;
  char *out = flush_report(name, zone, memory, cleared, redis, complete);
  fw_unref(fw); /* name goes with it: not used below */
  /* Memory done, Redis not (or not all of it): say so. */
  *status = redis == -1 || (redis >= 0 && !complete) ? 503 : 200;
  return out;
}

/* ---- stats ------------------------------------------------------------------------ */

char *cachectl_stats(cachectl_t *cc, int *status) {
  struct worker_snapshot snap;
  if (worker_collect(cc->workers, cc->n, 0, COLLECT_TIMEOUT_MS, &snap)) {
    *status = 503;
    return strdup("the workers did not answer in time; try again\n");
  }
  struct cache_stats cs;
  cache_get_stats(cc->cache, &cs);
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
              cs.entries, cs.bytes, cache_budget(cc->cache), (unsigned long long)cs.hits,
              (unsigned long long)cs.misses, (unsigned long long)cs.inserts,
              (unsigned long long)cs.evictions, (unsigned long long)s->answer_entries,
              (unsigned long long)s->answer_bytes, (unsigned long long)s->answer_hits,
              (unsigned long long)s->answer_misses, (unsigned long long)s->answer_evictions,
              redis_enabled(&cc->cfg->redis) ? "true" : "false", (unsigned long long)r->up,
              (unsigned long long)r->lookups, (unsigned long long)r->lookup_hits,
              (unsigned long long)r->keys_found, (unsigned long long)r->writes,
              (unsigned long long)r->writes_dropped, (unsigned long long)r->timeouts,
              (unsigned long long)r->errors);
  worker_snapshot_free(&snap);
  *status = 200;
  return jbuf_take(&b);
}
