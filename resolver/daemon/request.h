/*
 * The driver of a resolution: it runs an iterator, turns its actions into
 * upstream queries and glueless sub-lookups, enforces the request deadline,
 * and joins clients asking an identical question to the request already in
 * flight, so the question is resolved (and sent upstream) once.
 *
 * Runs on one worker's loop; not thread-safe.
 */
#ifndef CHAINDNS_REQUEST_H
#define CHAINDNS_REQUEST_H

#include <ldns/ldns.h>

#include "resolver/core/iterator.h"

struct worker;

/* Called once per client when the resolution ends. res and chain are valid
 * only during the call. res == NULL means the worker is shutting down and
 * the client will get no answer; free the client state. */
typedef void (*request_cb)(void *arg, const struct iter_result *res, const chain_t *chain);

/* Resolve (qname, qtype) for a client; with cd (the client's CD bit) the
 * answer is not validated. The callback may run before this returns (a
 * cache hit). */
void request_resolve(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype, bool cd,
                     request_cb cb, void *arg);

/* A traced resolution (/trace, `chaindns trace`): never joined to another
 * request nor joined by one, and not counted in the metrics. done gets the
 * result (NULL on shutdown) and owns it. */
struct trace;
struct trace_result;
typedef void (*trace_done_cb)(void *arg, struct trace_result *res);
void request_trace(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype, bool nocache,
                   trace_done_cb done, void *arg);

/* Prefetch: refresh (qname, qtype) in the background, re-asking whatever
 * cached data on its chain is near expiry, at most prefetch-max at once per
 * worker and one per question. No client waits for it. */
void request_prefetch(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype);

/* Shutdown: end every request, calling each client's callback with NULL. */
void request_abort_all(struct worker *w);

#endif
