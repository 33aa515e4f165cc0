/* Per-client token buckets; see ratelimit.h. */
#include "resolver/daemon/ratelimit.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define SETS 2048 /* two slots each: 4096 clients tracked at once */

struct slot {
  uint8_t key[9]; /* family, then 4 or 8 address bytes */
  uint64_t last_ms;
  uint64_t millitokens;
  uint32_t limited; /* queries over the rate, for the slip */
};

struct ratelimit {
  uint32_t qps, slip;
  uint64_t seed;
  struct slot slots[SETS][2];
};

ratelimit_t *ratelimit_new(uint32_t qps, uint32_t slip) {
  ratelimit_t *rl = calloc(1, sizeof *rl);
  if (!rl) return NULL;
  rl->qps = qps;
  rl->slip = slip;
  rl->seed = (uint64_t)(uintptr_t)rl * 0x9e3779b97f4a7c15ull; /* per-process variation */
  return rl;
}

void ratelimit_free(ratelimit_t *rl) { free(rl); }

void ratelimit_set(ratelimit_t *rl, uint32_t qps, uint32_t slip) {
  rl->qps = qps;
  rl->slip = slip;
}

static void client_key(const struct sockaddr *sa, uint8_t key[9]) {
  memset(key, 0, 9);
  key[0] = (uint8_t)sa->sa_family;
  if (sa->sa_family == AF_INET)
    memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
  else if (sa->sa_family == AF_INET6)
    memcpy(key + 1, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8); /* the /64 */
}

enum rl_verdict ratelimit_check(ratelimit_t *rl, const struct sockaddr *from, uint64_t now_ms) {
  uint8_t key[9];
  client_key(from, key);
  uint64_t h = rl->seed;
  for (int i = 0; i < 9; i++) h = (h ^ key[i]) * 0x100000001b3ull;
  struct slot *set = rl->slots[(h >> 17) % SETS];
  const uint64_t full = (uint64_t)rl->qps * 1000;
  struct slot *s = NULL;
  for (int i = 0; i < 2 && !s; i++)
    if (set[i].last_ms && !memcmp(set[i].key, key, sizeof key)) s = &set[i];
  if (!s) {
    s = set[0].last_ms <= set[1].last_ms ? &set[0] : &set[1];
    memcpy(s->key, key, sizeof key);
    s->millitokens = full;
    s->limited = 0;
    s->last_ms = now_ms ? now_ms : 1;
  }
  if (now_ms > s->last_ms) {
    uint64_t add = (now_ms - s->last_ms) * rl->qps; /* ms x q/s = millitokens */
    s->millitokens = s->millitokens + add > full ? full : s->millitokens + add;
    s->last_ms = now_ms;
  }
  if (s->millitokens >= 1000) {
    s->millitokens -= 1000;
    return RL_PASS;
  }
  s->limited++;
  return rl->slip && s->limited % rl->slip == 0 ? RL_SLIP : RL_DROP;
}
