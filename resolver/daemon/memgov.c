/* The memory governor; see memgov.h. */
#include "resolver/daemon/memgov.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "resolver/lib/log.h"

#define PERIOD_MS 1000
#define FLOOR 4 /* the budget never goes below nominal / FLOOR */

struct memgov {
  uv_timer_t timer;
  cache_t *cache;
  size_t limit, nominal, base;
  int logged; /* -1: last logged a shrink, 1: a recovery, 0: nothing yet */
};

size_t memgov_rss(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size, resident;
  if (!f) return 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  return n == 2 ? resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

size_t memgov_next_budget(size_t growth, size_t limit, size_t budget, size_t nominal) {
  size_t floor = nominal / FLOOR;
  if (growth > limit) { /* give back the excess, and a little more */
    size_t cut = growth - limit + limit / 50;
    return budget > floor + cut ? budget - cut : floor;
  }
  size_t room = limit - limit / 20; /* grow back only below 95 % */
  if (growth < room && budget < nominal) {
    size_t step = (room - growth) / 2;
    return budget + step < nominal ? budget + step : nominal;
  }
  return budget;
}

static void on_tick(uv_timer_t *t) {
  struct memgov *g = t->data;
  size_t rss = memgov_rss();
  if (!rss) return;
  size_t growth = rss > g->base ? rss - g->base : 0;
  size_t budget = cache_budget(g->cache);
  size_t next = memgov_next_budget(growth, g->limit, budget, g->nominal);
  if (next == budget) return;
  cache_set_budget(g->cache, next);
  if (next < budget) {
    malloc_trim(0); /* hand the freed pages back */
    if (g->logged != -1)
      log_info("memory: resident growth %zu MiB is over cache-size %zu MiB; RRset cache "
               "budget %zu -> %zu MiB", growth >> 20, g->limit >> 20, budget >> 20, next >> 20);
    g->logged = -1;
  } else if (next == g->nominal && g->logged == -1) {
    log_info("memory: RRset cache budget back to %zu MiB", next >> 20);
    g->logged = 1;
  }
}

memgov_t *memgov_start(uv_loop_t *loop, cache_t *cache, size_t cache_size, size_t nominal) {
  struct memgov *g = calloc(1, sizeof *g);
  if (!g) return NULL;
  g->cache = cache;
  g->limit = cache_size;
  g->nominal = nominal;
  g->base = memgov_rss();
  uv_timer_init(loop, &g->timer);
  g->timer.data = g;
  uv_timer_start(&g->timer, on_tick, PERIOD_MS, PERIOD_MS);
  return g;
}

static void on_closed(uv_handle_t *h) { free(h->data); }

void memgov_stop(memgov_t *g) {
  if (!g) return;
  uv_timer_stop(&g->timer);
  uv_close((uv_handle_t *)&g->timer, on_closed);
}
