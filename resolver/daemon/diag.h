/*
 * The diagnostics endpoint's view of the resolver: what /metrics, /chains
 * and /trace serve, gathered from the workers (metrics/http.h calls these on
 * its own threads; they wait for the workers, never block them), and cache
 * control (resolver/daemon/cachectl.h) when a control token lets HTTP ask for it.
 */
#ifndef CHAINDNS_DIAG_H
#define CHAINDNS_DIAG_H

#include "cache/cache.h"
#include "metrics/http.h"
#include "resolver/daemon/cachectl.h"
#include "resolver/daemon/config.h"
#include "resolver/daemon/worker.h"

typedef struct diag diag_t;

/* Start the endpoint on cfg->metrics_addr, with the Host names and control
 * token cfg gives, serving the n workers ws[0..n). cc serves cache control.
 * ws, the workers, cache, cc and cfg are borrowed. Returns NULL with err
 * set. */
diag_t *diag_start(struct worker *const *ws, unsigned n, cache_t *cache, cachectl_t *cc,
                   const struct config *cfg, char *err, size_t errlen);
/* Stop serving; call before the workers stop. */
void diag_stop(diag_t *d);
/* SIGHUP: a new trace-rate (from the main thread). */
void diag_set_trace_rate(diag_t *d, uint32_t per_minute);

#endif
