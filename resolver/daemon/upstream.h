/*
 * Outbound queries to authoritative servers over UDP and TCP, on one
 * worker's libuv loop.
 *
 * Every UDP query uses a fresh socket on a kernel-chosen random port and a
 * random TXID; a reply is accepted only if it comes from the server's address
 * and port and carries the TXID and the question that were sent (RFC 5452).
 * Anything else is ignored and the query keeps waiting until its timer fires.
 *
 * With case randomisation on, the letters of the name go out in random case
 * (0x20) and the reply must echo them exactly. A UDP reply that matches in
 * everything but case is not trusted: the query is asked again over TCP. A
 * TCP reply in another case is accepted, and that server is then asked
 * without random case (over UDP too) for an hour. Responses handed to the
 * callback carry the name in the case it was asked.
 *
 * Identical outbound queries (same server, name, type, transport) already in
 * flight are not sent twice: later callers join the first one and all get its
 * outcome.
 *
 * Ownership: the response packet passed to a callback is only valid during
 * the callback. After upstream_cancel() the callback is never called.
 */
#ifndef CHAINDNS_UPSTREAM_H
#define CHAINDNS_UPSTREAM_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "resolver/lib/hist.h"

typedef struct upstream upstream_t;
typedef struct up_waiter up_waiter_t;

enum up_status { UP_OK = 0, UP_TIMEOUT = 1, UP_ERROR = 2 };

typedef void (*up_cb)(void *arg, enum up_status status, const ldns_pkt *resp,
                      uint32_t rtt_ms);

struct up_stats {
  uint64_t sent_udp, sent_tcp, joined, timeouts, errors, mismatched;
  uint64_t case_mismatched; /* UDP replies right but for the letter case: retried over TCP */
  uint64_t case_fallbacks;  /* servers found not to echo case */
  uint64_t shed;            /* queries not sent: max_in_flight reached */
  struct hist rtt; /* replies accepted, microseconds */
};

upstream_t *upstream_new(uv_loop_t *loop, uint16_t edns_size, bool case_randomization);
/* Cancel everything and close the sockets; frees itself once libuv is done
 * with the handles (run the loop afterwards). */
void upstream_close(upstream_t *up);

up_waiter_t *upstream_query(upstream_t *up, const struct sockaddr *addr, socklen_t addrlen,
                            const ldns_rdf *qname, ldns_rr_type qtype, bool tcp, bool edns,
                            uint32_t timeout_ms, up_cb cb, void *arg);
void upstream_cancel(up_waiter_t *w);

/* Queries in flight at most (joined ones do not count); beyond it
 * upstream_query() returns NULL. Default: unlimited. */
void upstream_set_max_in_flight(upstream_t *up, uint32_t n);
/* Set DO on queries (RFC 3225): the authorities then send RRSIGs and the
 * NSEC/NSEC3 records of negative answers, which validation needs. */
void upstream_set_dnssec_ok(upstream_t *up, bool on);

const struct up_stats *upstream_stats(const upstream_t *up);

#endif
