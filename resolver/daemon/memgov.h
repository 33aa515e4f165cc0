/*
 * The memory governor: keeps the resolver's memory growth within
 * cache-size, allocator overhead included.
 *
 * The caches count the bytes the allocator gives their entries, but what the
 * process really holds is more: free fragments between entries and the
 * short-lived allocations of resolutions in between (17 to 26 % more,
 * measured, depending on the records). Once a second the governor compares
 * the process's resident memory with what it was at start-up; when it grew
 * by more than cache-size, the RRset cache's budget shrinks by the excess
 * (evicting at once, then returning free pages with malloc_trim); when there
 * is room again, the budget grows back to its nominal size in small steps.
 *
 * Runs on the main thread's loop; the cache it adjusts is locked per shard.
 */
#ifndef CHAINDNS_MEMGOV_H
#define CHAINDNS_MEMGOV_H

#include <stddef.h>
#include <uv.h>

#include "cache/cache.h"

typedef struct memgov memgov_t;

/* Start governing: growth is measured from now. nominal is the RRset
 * cache's budget when memory allows. */
memgov_t *memgov_start(uv_loop_t *loop, cache_t *cache, size_t cache_size, size_t nominal);
void memgov_stop(memgov_t *g);

/* Resident bytes of this process now (0 if unknown). */
size_t memgov_rss(void);

/* One decision, for tests: the RRset budget to set, given the resident
 * growth and the current budget. */
size_t memgov_next_budget(size_t growth, size_t limit, size_t budget, size_t nominal);

#endif
