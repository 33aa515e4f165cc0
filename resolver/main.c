/*
 * chaindns: command line, start-up and shutdown. The main thread only
 * parses the configuration, starts the workers and waits for SIGTERM/SIGINT;
 * all DNS work happens in the workers.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cache/cache.h"
#include "metrics/stats.h"
#include "resolver/config.h"
#include "resolver/hints.h"
#include "resolver/log.h"
#include "resolver/worker.h"

struct fleet {
  struct worker *workers;
  unsigned n;
  bool redis;
};

static void log_totals(const struct fleet *f) {
  struct stats total = {0}, one;
  for (unsigned i = 0; i < f->n; i++) {
    worker_stats(&f->workers[i], &one);
    stats_add(&total, &one);
  }
  stats_log(&total, f->redis);
}

static void on_signal(uv_signal_t *s, int signum) {
  log_info("received %s, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
  uv_stop(s->loop);
}

/* SIGUSR1: log the counters now, and keep running. */
static void on_usr1(uv_signal_t *s, int signum) { log_totals(s->data); }

static void run_until_signal(struct fleet *f) {
  uv_loop_t *loop = uv_default_loop();
  uv_signal_t sigterm, sigint, sigusr1;
  uv_signal_init(loop, &sigterm);
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigusr1);
  sigusr1.data = f;
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigusr1, on_usr1, SIGUSR1);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&sigterm, NULL);
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_close((uv_handle_t *)&sigusr1, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

int main(int argc, char **argv) {
  static struct config cfg;
  char err[1024] = "";
  config_defaults(&cfg);
  int rc = config_from_args(&cfg, argc, argv, err, sizeof err);
  if (rc == 1) return 0;
  if (rc < 0) {
    fprintf(stderr, "chaindns: %s\n", err);
    return 2;
  }
  log_set_level(cfg.log_level);
  signal(SIGPIPE, SIG_IGN);

  struct hints *hints = cfg.root_hints[0] ? hints_load(cfg.root_hints, err, sizeof err)
                                          : hints_builtin();
  if (!hints) {
    fprintf(stderr, "chaindns: %s\n", err);
    return 2;
  }
  struct cache_limits limits = {cfg.cache_size, cfg.min_ttl, cfg.max_ttl, cfg.max_negative_ttl};
  cache_t *cache = cache_new(&limits);
  struct iter_config icfg = {
      .max_chain_length = cfg.max_chain_length,
      .max_upstream_queries = cfg.max_upstream_queries,
      .max_depth = 4,
      .zone_max_timeouts = 8,
      .zone_timeout_budget_ms = 3000,
      .upstream_port = cfg.upstream_port,
      .ipv4 = cfg.ipv4,
      .ipv6 = cfg.ipv6,
      .shared_tier = redis_enabled(&cfg.redis),
  };
  struct worker *workers = calloc(cfg.threads, sizeof *workers);
  if (!cache || !workers) {
    fprintf(stderr, "chaindns: out of memory\n");
    return 1;
  }
  unsigned started = 0;
  int status = 0;
  for (unsigned i = 0; i < cfg.threads; i++) {
    if (worker_init(&workers[i], i, &cfg, &icfg, cache, hints)) {
      status = 1;
      break;
    }
  }
  for (unsigned i = 0; status == 0 && i < cfg.threads; i++) {
    if (worker_start(&workers[i])) {
      log_error("cannot start worker %u", i);
      status = 1;
      break;
    }
    started++;
  }
  if (status == 0) {
    log_info("chaindns %s ready: %u worker(s), cache %zu bytes, max-chain-length %zu, "
             "root hints %s", CHAINDNS_VERSION, cfg.threads, cfg.cache_size,
             cfg.max_chain_length, cfg.root_hints[0] ? cfg.root_hints : "built-in");
    if (redis_enabled(&cfg.redis)) {
      char where[400];
      log_info("shared cache: redis %s, prefix %s, command timeout %u ms%s",
               redis_describe(&cfg.redis, where, sizeof where), cfg.redis.prefix,
               cfg.redis.command_timeout_ms, cfg.redis.secret.len ? ", values signed" : "");
    }
    struct fleet f = {workers, cfg.threads, redis_enabled(&cfg.redis)};
    run_until_signal(&f);
  }
  for (unsigned i = 0; i < started; i++) worker_stop(&workers[i]);
  for (unsigned i = 0; i < started; i++) worker_join(&workers[i]);
  struct fleet f = {workers, cfg.threads, redis_enabled(&cfg.redis)};
  if (status == 0) log_totals(&f);
  for (unsigned i = 0; i < cfg.threads; i++) worker_destroy(&workers[i]);
  free(workers);
  cache_free(cache);
  hints_free(hints);
  return status;
}
