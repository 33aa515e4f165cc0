/*
 * The iterator's steps for the shared (Redis) tier, apart from the states
 * because they are a tier of their own: on a memory miss the iterator asks
 * the driver to fetch what could answer the name (IA_FETCH), remembers which
 * names were fetched and which were found, so the chain can say where each
 * hop came from, and announces the chains it learned from the network so
 * that another instance can fetch every hop of one in a single round trip.
 * No I/O: the driver (request.c, cache/redis.c) does the fetching.
 */
#include <stdlib.h>

#include "resolver/core/iter_priv.h"
#include "resolver/lib/name.h"

static struct fetched *find_fetched(const iter_t *it, const ldns_rdf *name) {
  for (size_t i = 0; i < it->nfetched; i++)
    if (name_equal(it->fetched[i].name, name)) return &it->fetched[i];
  return NULL;
}

/* Names a request may fetch: the start, every chain name, and one spare. */
static size_t fetch_limit(const iter_t *it) { return it->env->cfg->max_chain_length + 2; }

bool iter__want_fetch(const iter_t *it, const ldns_rdf *name) {
  return it->env->cfg->shared_tier && it->nfetched < fetch_limit(it) &&
         !find_fetched(it, name);
}

static void push_key(iter_t *it, const ldns_rdf *name, uint16_t type, uint8_t kind) {
  it->keys = util_grow(it->keys, it->nkeys, &it->capkeys, sizeof *it->keys, 8);
  it->keys[it->nkeys++] = (struct fetch_key){name, type, kind};
}

/* Remember `name` as fetched and ask for what can answer it: the RRset (or
 * NODATA) of the type asked, a CNAME, an NXDOMAIN. */
static void fetch_name(iter_t *it, const ldns_rdf *name) {
  it->fetched = util_grow(it->fetched, it->nfetched, &it->capfetched, sizeof *it->fetched, 4);
  ldns_rdf *copy = ldns_rdf_clone(name);
  it->fetched[it->nfetched++] = (struct fetched){copy, false};
  push_key(it, copy, it->qtype, RECORD_RRSET);
  if (it->qtype != LDNS_RR_TYPE_CNAME) push_key(it, copy, LDNS_RR_TYPE_CNAME, RECORD_RRSET);
  push_key(it, copy, 0, RECORD_NXDOMAIN);
}

/* One round trip for the current name, every name a chain record announced,
 * and, at the start of the lookup, the chain record itself. */
void iter__st_fetch(iter_t *it, struct iter_action *act) {
  it->nkeys = 0;
  fetch_name(it, iter__current(it));
  if (it->chain.n == 0 && it->qtype != LDNS_RR_TYPE_CNAME)
    push_key(it, it->fetched[it->nfetched - 1].name, 0, RECORD_CHAIN);
  for (size_t i = 0; i < it->nprefetch; i++) {
    if (iter__want_fetch(it, it->prefetch[i])) fetch_name(it, it->prefetch[i]);
    ldns_rdf_deep_free(it->prefetch[i]);
  }
  free(it->prefetch);
  it->prefetch = NULL;
  it->nprefetch = 0;
  act->kind = IA_FETCH;
  act->keys = it->keys;
  act->nkeys = it->nkeys;
  it->state = IS_WAIT_FETCH;
}

void iter_on_fetch_done(iter_t *it, const struct fetch_result *res) {
  if (it->state != IS_WAIT_FETCH) return;
  it->state = IS_CACHE;
  if (!res) return;
  it->res.from_shared_tier = true;
  for (size_t i = 0; i < it->nkeys; i++) {
    if (!res->found[i] || it->keys[i].kind == RECORD_CHAIN) continue;
    for (size_t k = 0; k < it->nfetched; k++)
      if (it->fetched[k].name == it->keys[i].name) it->fetched[k].hit = true;
  }
  if (it->prefetch || !res->nchain) return; /* the first chain record counts */
  size_t n = res->nchain < it->env->cfg->max_chain_length ? res->nchain
                                                          : it->env->cfg->max_chain_length;
  it->prefetch = calloc(n, sizeof *it->prefetch);
  if (!it->prefetch) return;
  for (size_t i = 0; i < n; i++)
    it->prefetch[it->nprefetch++] = ldns_rdf_clone(res->chain_names[i]);
}

/* Where data at `name` found in memory came from in this request. */
enum chain_source iter__cached_source(const iter_t *it, const ldns_rdf *name) {
  const struct fetched *f = find_fetched(it, name);
  return f && f->hit ? CHAIN_SRC_REDIS : CHAIN_SRC_CACHE;
}

/* A chain learned from the network is announced to the shared tier: its
 * names under the start name, living as long as its shortest CNAME, so
 * another instance can fetch every hop in one round trip. */
void iter__share_chain(iter_t *it) {
  const struct cache_sink *sink = it->env->sink;
  bool learned = false, local = false;
  for (size_t i = 0; i < it->chain.n; i++) {
    learned |= it->chain.hops[i].step.source == CHAIN_SRC_NETWORK;
    local |= it->chain.hops[i].step.source == CHAIN_SRC_LOCAL;
  }
  if (local) return; /* local names and ALIAS owners stay out of the shared tier */
  if (!sink || !learned || it->qtype == LDNS_RR_TYPE_CNAME) return;
  uint32_t ttl = UINT32_MAX;
  for (size_t i = 0; i < ldns_rr_list_rr_count(it->answer_chain); i++) {
    uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(it->answer_chain, i));
    if (t < ttl) ttl = t;
  }
  uint8_t start[256], payload[64 * 256];
  size_t slen = name_key(it->chain.start, start), plen = 0;
  for (size_t i = 0; i < it->chain.n && plen + 256 <= sizeof payload; i++)
    plen += name_key(it->chain.hops[i].target, payload + plen);
  if (!slen || !plen || ttl == 0) return;
  struct cache_record rec = {.owner = start, .owner_len = slen, .type = 0,
                             .kind = RECORD_CHAIN, .rank = CACHE_RANK_ANSWER,
                             .expiry = iter__now_sec(it) + ttl, .ttl = ttl,
                             .payload = payload, .payload_len = plen};
  sink->put(sink->arg, &rec);
}

void iter__fetch_clear(iter_t *it) {
  for (size_t i = 0; i < it->nfetched; i++) ldns_rdf_deep_free(it->fetched[i].name);
  for (size_t i = 0; i < it->nprefetch; i++) ldns_rdf_deep_free(it->prefetch[i]);
  free(it->fetched);
  free(it->prefetch);
  free(it->keys);
}
