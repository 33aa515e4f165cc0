/*
 * Per-client query rate limiting for UDP (a token bucket per client
 * address; IPv6 clients by their /64). One table per worker, fixed in size
 * whatever the number of clients: two slots per hash, the client seen
 * longest ago gives way to a new one.
 *
 * Over its rate a client's queries are dropped, except every slip-th one,
 * which gets an empty reply with TC=1 so that a real client behind a
 * spoofed flood can still get through over TCP (as in response rate
 * limiting). TCP queries are not limited here: they cannot be spoofed.
 */
#ifndef CHAINDNS_RATELIMIT_H
#define CHAINDNS_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

typedef struct ratelimit ratelimit_t;

enum rl_verdict { RL_PASS, RL_DROP, RL_SLIP };

/* qps: queries per second per client (the burst is one second's worth);
 * slip: 0 never sends TC, N sends it for every N-th limited query. */
ratelimit_t *ratelimit_new(uint32_t qps, uint32_t slip);
void ratelimit_free(ratelimit_t *rl);
/* New rate and slip; clients keep their buckets (capped to the new burst). */
void ratelimit_set(ratelimit_t *rl, uint32_t qps, uint32_t slip);

enum rl_verdict ratelimit_check(ratelimit_t *rl, const struct sockaddr *from, uint64_t now_ms);

#endif
