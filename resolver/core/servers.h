/*
 * What one worker knows about authoritative servers (the "infrastructure
 * cache"): smoothed RTT and recent timeouts per address, used to choose among
 * a zone's servers and to size retransmission timeouts.
 *
 * Bounded by construction: a fixed, direct-mapped table; a colliding address
 * simply replaces the older entry, since this data is advisory. Owned by one
 * worker; not thread-safe.
 */
#ifndef CHAINDNS_SERVERS_H
#define CHAINDNS_SERVERS_H

#include <stdbool.h>
#include <stdint.h>

#include "resolver/lib/util.h" /* socket address types */

typedef struct servers servers_t;

#define SERVERS_UNKNOWN_RTO_MS 750u /* first try at a server never heard */
#define SERVERS_MAX_RTO_MS 3000u
#define SERVERS_MIN_RTO_MS 100u

servers_t *servers_new(unsigned slots);
void servers_free(servers_t *s);

/* Timeout to use for the next query to addr: srtt + 4 * rttvar (or the
 * unknown-server value), doubled per consecutive timeout, clamped. */
uint32_t servers_rto(servers_t *s, const struct sockaddr *addr);

/* Selection score in ms, lower is better: smoothed RTT plus a penalty for
 * recent timeouts. Unknown servers score a neutral value so they get tried. */
uint32_t servers_score(servers_t *s, const struct sockaddr *addr, uint64_t now_ms);

void servers_record_rtt(servers_t *s, const struct sockaddr *addr, uint32_t rtt_ms);
void servers_record_timeout(servers_t *s, const struct sockaddr *addr, uint64_t now_ms);

/* Remember that a server rejects EDNS (FORMERR to an OPT query). */
void servers_set_no_edns(servers_t *s, const struct sockaddr *addr);
bool servers_no_edns(servers_t *s, const struct sockaddr *addr);

#endif
