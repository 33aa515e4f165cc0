/*
 * Traces: one fresh resolution, hop by hop, with every upstream query it
 * made (zone, server, question, round trip, what came back). Served as JSON
 * by /trace and printed as a table by `chaindns trace NAME [TYPE]`.
 *
 * A trace is filled by the iterators of one request (the request and its
 * glueless sub-lookups) on that request's worker, then read once it ends.
 */
#ifndef CHAINDNS_TRACE_H
#define CHAINDNS_TRACE_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "resolver/lib/util.h" /* socket address types */

#include "metrics/chains.h"

#define TRACE_MAX 256 /* queries kept; more than the request's query budget */

struct trace_query {
  uint8_t depth;                  /* 0, or the nesting of a glueless sub-lookup */
  bool tcp;
  bool minimised;                 /* a QNAME-minimised query (RFC 9156) */
  uint16_t qtype;
  char qname[256], zone[256];
  struct sockaddr_storage server;
  uint64_t start_us;              /* since the trace began */
  uint64_t rtt_us;                /* 0 while unanswered */
  char result[300];               /* "referral to com.", "answer (2 records)", "timeout"... */
};

struct trace {
  uint64_t t0_us;
  size_t n;
  bool truncated;                 /* more than TRACE_MAX queries */
  struct trace_query q[TRACE_MAX];
};

/* Times are the caller's monotonic microseconds: the core reads no clock, so
 * a trace recorded under a test's fake clock is as deterministic as the rest.
 * now_us at creation is the origin of every start_us. */
struct trace *trace_new(uint64_t now_us);

/* An upstream query leaves: returns its index, or -1 when the trace is
 * full. */
int trace_begin(struct trace *t, unsigned depth, const ldns_rdf *qname, uint16_t qtype,
                const ldns_rdf *zone, const struct sockaddr *server, bool tcp,
                uint64_t now_us);
/* What came back for query i (printf-style). */
void trace_end(struct trace *t, int i, uint64_t now_us, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The outcome of a traced resolution, built on the worker when it ends. */
struct trace_result {
  struct trace *trace;
  struct chains_rec chain;   /* hops and final answer, as in /chains */
  int rcode, ede;
  char ede_text[600];
  char **answer;            /* records as text; NULL-terminated */
  char **authority;
  uint32_t upstream_queries;
  uint64_t duration_us;
};

void trace_result_free(struct trace_result *r);

/* The result as a table for a person at a terminal. */
void trace_print(FILE *out, const char *name, const char *type, const struct trace_result *r);

/* The result as JSON (malloc'd). */
char *trace_json(const char *name, const char *type, bool nocache, const struct trace_result *r);

#endif
