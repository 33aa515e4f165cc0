/* Per-worker server RTT table; see servers.h. The smoothing follows the
 * RFC 6298 shape (srtt, rttvar, rto = srtt + 4 * rttvar). */
#include "resolver/core/servers.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/lib/util.h"

struct slot {
  struct sockaddr_storage addr;
  bool used, no_edns;
  uint32_t srtt, rttvar; /* ms; srtt == 0 means no sample yet */
  uint32_t timeouts;     /* consecutive */
  uint64_t last_timeout_ms;
};

struct servers {
  struct slot *slots;
  unsigned mask;
};

servers_t *servers_new(unsigned slots) {
  unsigned n = 64;
  while (n < slots) n <<= 1;
  servers_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->slots = calloc(n, sizeof *s->slots);
  if (!s->slots) {
    free(s);
    return NULL;
  }
  s->mask = n - 1;
  return s;
}

void servers_free(servers_t *s) {
  if (!s) return;
  free(s->slots);
  free(s);
}

static uint32_t addr_hash(const struct sockaddr *a) {
  const uint8_t *p;
  size_t n;
  uint16_t port;
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const void *)a;
    p = (const uint8_t *)&in6->sin6_addr;
    n = 16;
    port = in6->sin6_port;
  } else {
    const struct sockaddr_in *in = (const void *)a;
    p = (const uint8_t *)&in->sin_addr;
    n = 4;
    port = in->sin_port;
  }
  uint32_t h = 2166136261u ^ port;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

/* The slot for addr; with create, a colliding entry is replaced. */
static struct slot *get(servers_t *s, const struct sockaddr *a, bool create) {
  struct slot *sl = &s->slots[addr_hash(a) & s->mask];
  if (sl->used && util_addr_equal((const struct sockaddr *)&sl->addr, a)) return sl;
  if (!create) return NULL;
  memset(sl, 0, sizeof *sl);
  memcpy(&sl->addr, a, a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in));
  sl->used = true;
  return sl;
}

uint32_t servers_rto(servers_t *s, const struct sockaddr *addr) {
  struct slot *sl = get(s, addr, false);
  if (!sl) return SERVERS_UNKNOWN_RTO_MS;
  uint32_t rto = sl->srtt ? sl->srtt + 4 * sl->rttvar : SERVERS_UNKNOWN_RTO_MS;
  if (rto < SERVERS_MIN_RTO_MS) rto = SERVERS_MIN_RTO_MS;
  /* Exponential back-off while the server keeps timing out: a server that
   * is fast for most names may still be slow for one. */
  for (uint32_t i = 0; i < sl->timeouts && rto < SERVERS_MAX_RTO_MS; i++) rto *= 2;
  if (rto > SERVERS_MAX_RTO_MS) rto = SERVERS_MAX_RTO_MS;
  return rto;
}

uint32_t servers_score(servers_t *s, const struct sockaddr *addr, uint64_t now_ms) {
  struct slot *sl = get(s, addr, false);
  if (!sl) return 300;
  uint32_t score = sl->srtt ? sl->srtt : 300;
  /* A timeout is remembered for a minute, then the server gets a new
   * chance at its measured RTT. */
  if (sl->timeouts && now_ms - sl->last_timeout_ms < 60000) score += 1000 * sl->timeouts;
  return score;
}

void servers_record_rtt(servers_t *s, const struct sockaddr *addr, uint32_t rtt_ms) {
  struct slot *sl = get(s, addr, true);
  if (rtt_ms == 0) rtt_ms = 1;
  if (sl->srtt == 0) {
    sl->srtt = rtt_ms;
    sl->rttvar = rtt_ms / 2;
  } else {
    uint32_t diff = sl->srtt > rtt_ms ? sl->srtt - rtt_ms : rtt_ms - sl->srtt;
    sl->rttvar = (3 * sl->rttvar + diff) / 4;
    sl->srtt = (7 * sl->srtt + rtt_ms) / 8;
    if (sl->srtt == 0) sl->srtt = 1;
  }
  sl->timeouts = 0;
}

void servers_record_timeout(servers_t *s, const struct sockaddr *addr, uint64_t now_ms) {
  struct slot *sl = get(s, addr, true);
  if (sl->timeouts < 10) sl->timeouts++;
  sl->last_timeout_ms = now_ms;
}

void servers_set_no_edns(servers_t *s, const struct sockaddr *addr) {
  get(s, addr, true)->no_edns = true;
}

bool servers_no_edns(servers_t *s, const struct sockaddr *addr) {
  struct slot *sl = get(s, addr, false);
  return sl && sl->no_edns;
}
