/*
 * Turning a finished resolution into what operators see: the worker's
 * metrics (answer and chain histograms, chain counters, per-zone latency)
 * and the /chains tables. Runs on the resolution's worker.
 */
#ifndef CHAINDNS_OBSERVE_H
#define CHAINDNS_OBSERVE_H

#include <stdint.h>

#include "metrics/chains.h"
#include "metrics/stats.h"
#include "metrics/zones.h"
#include "resolver/core/chain.h"
#include "resolver/core/iterator.h"

/* How a chain ended. */
enum stats_outcome observe_outcome(const struct iter_result *res, const chain_t *ch);

/* The /chains record of a resolution (no side effects). */
void observe_chain_rec(const struct iter_result *res, const chain_t *ch, uint16_t qtype,
                       uint64_t duration_us, struct chains_rec *rec);

/* A chain answered from the answer cache: its length, outcome, purpose
 * and duration, and its hops (from memory, untimed). */
struct ac_meta;
void observe_cached_chain(struct stats *s, const struct ac_meta *m, uint64_t us);

/* Account a finished top-level resolution in a worker's counters, its
 * per-zone latency table and its /chains tables (all three that worker's,
 * written only on its thread). */
void observe_request(struct stats *s, struct zone_table *zones, struct chains_tables *chains,
                     const struct iter_result *res, const chain_t *ch, uint16_t qtype,
                     uint64_t duration_us);

#endif
