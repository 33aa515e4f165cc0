/*
 * The iterator's insides, shared by the files that make it up and by nobody
 * else (resolver/core/iterator.h is the contract). One file of 2,000 lines
 * hid which part a change touches, so the iterator is cut by concern:
 *
 *   iterator.c       the states, one function each, and the dispatch loop;
 *                    following a chain, choosing a zone and a server; the
 *                    public API, creation and release
 *   iter_response.c  what a server's response means and does: answers,
 *                    referrals, minimised answers, what is stored and with
 *                    which TTL, and the result's sections
 *   iter_dnssec.c    judging responses and cached data with their signers'
 *                    keys, the trust-walk hand-off, the answer's security
 *                    state and the root key sentinel (RFC 8509)
 *   iter_fetch.c     the shared (Redis) tier: fetch steps, and announcing
 *                    the chains learned so other instances can share them
 *
 * Functions declared here are internal across those files: iter__ names.
 * Time and randomness come from the environment only (iter__now_sec and
 * friends, below), never from the system directly, so a test's fake clock
 * sees every reading.
 *
 * Ownership: an iter is owned by its driver and used by one worker thread;
 * nothing here is thread-safe, nor needs to be.
 */
#ifndef CHAINDNS_ITER_PRIV_H
#define CHAINDNS_ITER_PRIV_H

#include <stddef.h>

#include "resolver/core/iterator.h"
#include "resolver/core/response.h"
#include "resolver/lib/util.h"

#define MAX_NS 16     /* NS names considered per zone */
#define MAX_CANDS 32  /* addresses considered per zone */

enum iter_state {
  IS_CACHE, IS_WAIT_FETCH, IS_FIND_ZONE, IS_SELECT, IS_WAIT, IS_WAIT_SUB, IS_DONE,
  IS_TRUST,     /* a response needs the keys of want_zone: ask the driver */
  IS_WAIT_TRUST /* the driver's trust walk is under way */
};

struct ns_entry {
  ldns_rdf *name;
  bool addr_known; /* its addresses are candidates, or a sub-lookup was made:
                      no (further) sub-lookup for it */
  bool in_zone;   /* below the zone it serves: needs glue, cannot be looked up */
};

/* A name whose shared-tier entries were fetched in this request. */
struct fetched {
  ldns_rdf *name;
  bool hit; /* something was found: data at this name came from the tier */
};

/* What a trust walk (or the anchors, or the key cache) said about a name the
 * iterator needed keys for. */
struct kz_entry {
  ldns_rdf *target;   /* the name asked about: a signer, or an unsigned RRset's owner */
  ldns_rdf *zone;     /* the zone holding it (SECURE), or where its state was decided */
  struct sec_result r;
  ldns_rr_list *keys; /* SECURE: zone's verified DNSKEY RRset */
};

#define KZ_MAX 8 /* keys kept at hand per lookup */

struct candidate {
  union sockaddr_any addr;
  socklen_t addrlen;
  uint8_t tries;
  bool failed; /* answered with an error or lame: do not ask again */
  bool tcp;    /* next query over TCP (after TC=1) */
};

/* One lookup's state. Each group of fields belongs to the part that keeps
 * it: the zone, candidates and the planned query to iterator.c (FIND_ZONE,
 * SELECT; iter_response.c moves them on after a response); fetched,
 * prefetch and keys to iter_fetch.c; kz, walks, pending and want_* to
 * iter_dnssec.c; res is written through iter__set_* and iter__finish.
 * Owned by the driver, reused through the worker's iter_pool. */
struct iter {
  const struct iter_env *env;
  ldns_rr_type qtype;
  uint32_t depth;
  uint32_t own_budget;
  uint32_t *budget;
  enum iter_state state;

  chain_t chain;
  ldns_rr_list *answer_chain; /* CNAME RRs collected so far (owned) */
  uint64_t hop_start_us;

  /* The zone being asked. */
  ldns_rdf *zone;
  struct ns_entry ns[MAX_NS];
  size_t nns;
  struct candidate cands[MAX_CANDS];
  size_t ncands;
  uint32_t zone_gen;        /* bumped with every zone loaded */
  uint32_t subs_pending;    /* sub-lookups out for this zone */
  uint32_t zone_timeouts;
  uint32_t zone_waited_ms; /* spent on queries of this zone that timed out */
  uint32_t cur_timeout_ms; /* timeout of the query in flight */
  size_t cur; /* candidate of the query in flight */
  int retry_same; /* candidate to ask again first (TC=1, FORMERR), or -1 */
  bool cur_edns;
  const char *last_failure;

  /* Shared tier: names fetched in this request (at most the chain length
   * plus two), names a chain record announced and not fetched yet, and the
   * keys of the fetch in flight. */
  struct fetched *fetched;
  size_t nfetched, capfetched;
  ldns_rdf **prefetch;
  size_t nprefetch;
  struct fetch_key *keys;
  size_t nkeys, capkeys;

  /* The next query: the current name, or a minimised one (RFC 9156);
   * NULL until planned for the current step. Kept across retries. */
  ldns_rdf *sent;
  ldns_rr_type sent_type;
  bool sent_minimised;
  size_t qmin_labels; /* labels known to exist below the zone (or the zone's) */
  uint8_t qmin_count; /* minimised queries sent for the current name */
  bool qmin_full;     /* ask the full name from now on (a fallback) */

  /* ALIAS flattening, from the first ALIAS followed: its owner, how many
   * answer_chain records came before it, the ALIAS's TTL. */
  ldns_rdf *flat_owner;
  size_t flat_from;
  uint32_t flat_ttl;

  bool refresh; /* prefetch: entries near expiry are misses */

  /* DNSSEC. Each RRset of a response is judged with the keys of its own
   * signer (or, unsigned, of the zone holding its owner): the iterator keeps
   * the last few such results at hand, the key cache answers most others,
   * and a response whose keys are missing waits in `pending` while the
   * driver walks the chain of trust to want_zone (from want_from's keys
   * when the key cache knows a zone above it). */
  bool validate;
  uint8_t cur_sec;      /* state of the data the next chain step rests on */
  struct kz_entry kz[KZ_MAX];
  size_t nkz, kz_next;  /* entries in use; the next to replace when full */
  unsigned walks;       /* trust walks asked for by the response at hand */
  ldns_pkt *pending;
  bool pending_cached;  /* or: unchecked cached data waits to be judged */
  const ldns_rdf *judge_zone; /* signers must lie at or below it: the zone
                                 asked, or the root for cached data */
  ldns_rdf *want_zone;
  ldns_rdf *want_from;
  ldns_rr_list *want_keys;
  uint32_t want_ttl;

  /* Diagnostics: every upstream query recorded here when set. */
  struct trace *trace;
  int trace_idx;  /* the query in flight */
  bool nocache;   /* bypass the memory and shared tiers and cached delegations */
  bool stale_mode; /* answer from the memory cache only, expired data allowed */
  uint32_t stale_ttl;

  struct iter_result res;
};

/* A response's DNSSEC verdict, RRset by RRset: hop[i] for the i-th CNAME or
 * DNAME of its chain, final for the answer or the denial; bad is the first
 * bogus one's reason. All indeterminate when not validated. */
struct verdicts {
  uint8_t hop[RESP_MAX_CNAMES];
  uint8_t final;
  bool bogus;
  struct sec_result bad;
};

/* ---- the environment's clock (iter_env.clock) ------------------------------ */

static inline int64_t iter__now_sec(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->now_sec ? c->now_sec(c->arg) : util_now_sec();
}

static inline uint64_t iter__mono_us(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->mono_us ? c->mono_us(c->arg) : util_mono_us();
}

static inline uint64_t iter__mono_ms(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->mono_us ? c->mono_us(c->arg) / 1000u : util_mono_ms();
}

static inline uint32_t iter__random(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->random ? c->random(c->arg) : util_random();
}

/* ---- small helpers every part uses ---------------------------------------- */

static inline void iter__count(const iter_t *it, size_t field_offset) {
  if (it->env->stats) (*(uint64_t *)((char *)it->env->stats + field_offset))++;
}
#define COUNT(it, field) iter__count((it), offsetof(struct stats, field))

/* What came back for the traced query in flight (printf-style), timed by the
 * environment's clock. Callers check it->trace first. */
#define TRACE_END(it, ...) trace_end((it)->trace, (it)->trace_idx, iter__mono_us(it), __VA_ARGS__)

/* The name the lookup is at now: the chain's last target, or the start. */
static inline const ldns_rdf *iter__current(const iter_t *it) {
  return chain_current(&it->chain);
}

/* The RRSIGs of the response covering (owner, type): a shallow list or
 * NULL (ldns_rr_list_free). */
static inline ldns_rr_list *iter__sigs_of(const struct resp_info *info, const ldns_rdf *owner,
                                          ldns_rr_type type) {
  return info->sigs ? dnssec_sigs_for(info->sigs, owner, type) : NULL;
}

/* ---- iterator.c: the state machine ------------------------------------------ */

/* End the lookup with rcode (and an Extended DNS Error, its text from fmt
 * when not NULL): settles the result's source and security state, flattens
 * an ALIAS, announces a learned chain; the iterator is IS_DONE after. */
void iter__finish(iter_t *it, ldns_pkt_rcode rcode, int ede, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* SERVFAIL, EDE 22: the zone's servers are exhausted. */
void iter__fail_zone(iter_t *it);

/* The answer at the current name came from src, with this TTL. */
void iter__final_step(iter_t *it, enum chain_source src, uint32_t ttl);
/* Follow a CNAME, or a DNAME with the CNAME made from it, from the current
 * name (sigs: their RRSIGs, or NULL); false when that ended the lookup
 * (loop, chain too long). */
bool iter__follow(iter_t *it, const ldns_rr *cname, const ldns_rr_list *sigs,
                  enum chain_source src);
bool iter__follow_dname(iter_t *it, const ldns_rr *dname, const ldns_rr *synth,
                        const ldns_rr_list *sigs, enum chain_source src);
/* Forget the planned query: the next one is planned afresh. */
void iter__forget_sent(iter_t *it);

/* Make `zone` with this NS RRset (and glue, or NULL) the zone to ask. */
void iter__load_zone(iter_t *it, const ldns_rdf *zone, const ldns_rr_list *ns,
                     const ldns_rr_list *glue);
/* Can a server of the zone be reached, now or after a lookup? */
bool iter__zone_usable(const iter_t *it);

/* ---- iter_response.c: responses, storing, the result's sections ------------ */

/* A response that is no truncation or EDNS trouble, to the query in flight:
 * judge it when it must be, then act on it. */
void iter__handle_response(iter_t *it, const ldns_pkt *resp);

/* The answer so far: the chain's records, then `final` and sigs (cloned;
 * either may be NULL); _empty: no records at all, not even the chain's. */
void iter__set_answer_sigs(iter_t *it, const ldns_rr_list *final, const ldns_rr_list *sigs);
void iter__set_answer(iter_t *it, const ldns_rr_list *final);
void iter__set_answer_empty(iter_t *it);
/* The authority section: an SOA (NULL: nothing), then a proof (cloned). */
void iter__set_authority(iter_t *it, const ldns_rr *soa);
void iter__set_proof(iter_t *it, const ldns_rr_list *proof);
/* The result of a chain through an ALIAS (CNAME flattening); *rcode may
 * become NOERROR (NODATA at the ALIAS's owner). */
void iter__flatten(iter_t *it, ldns_pkt_rcode *rcode);

void iter__push_clones(ldns_rr_list *to, const ldns_rr_list *from);
/* The TTL the cache keeps for data with this TTL (min-ttl, max-ttl). */
uint32_t iter__kept_ttl(const iter_t *it, uint32_t ttl);
/* Records of l from index `from` on get this TTL. */
void iter__set_ttls(ldns_rr_list *l, size_t from, uint32_t ttl);

/* ---- iter_dnssec.c: judging, keys, the trust walk ---------------------------- */

/* Judge a classified response when it must be: true with the verdicts in
 * *v (all indeterminate when not validated). False when it cannot be used
 * now: either the keys of it->want_zone are missing, the response is kept
 * and the iterator goes to IS_TRUST (iter_on_trust takes it up again), or
 * it needed more trust walks than one response may (ended, bogus). */
bool iter__judge_response(iter_t *it, const ldns_pkt *resp, const struct resp_info *info,
                          struct verdicts *v);
/* Judge an entry the shared tier handed over unchecked: 1, judged (cr->sec
 * says how; the memory tier keeps it); 0, keys are needed first (a walk to
 * it->want_zone); -1, not usable. */
int iter__judge_cached(iter_t *it, const ldns_rdf *name, ldns_rr_type type,
                       struct cache_result *cr);
/* A response that failed validation: SERVFAIL with the reason. */
void iter__fail_bogus(iter_t *it, const struct sec_result *v);
/* Drop the request for a trust walk (it->want_*). */
void iter__forget_want(iter_t *it);
/* Free what the DNSSEC part holds: keys at hand, a pending walk, a kept
 * response. */
void iter__dnssec_clear(iter_t *it);

/* The answer's security state for iter_result(), and whether the root key
 * sentinel (RFC 8509) turns it into SERVFAIL. */
enum sec_state iter__answer_sec(const iter_t *it, ldns_pkt_rcode rcode);
bool iter__key_sentinel_fails(const iter_t *it);

/* IS_TRUST: ask the driver for the walk to it->want_zone (IA_TRUST). */
void iter__st_trust(iter_t *it, struct iter_action *act);

/* ---- iter_fetch.c: the shared tier ------------------------------------------- */

/* Should a memory miss at `name` be fetched from the shared tier first? */
bool iter__want_fetch(const iter_t *it, const ldns_rdf *name);
/* Fetch the current name's entries (and announced chain names): IA_FETCH,
 * IS_WAIT_FETCH; iter_on_fetch_done continues. */
void iter__st_fetch(iter_t *it, struct iter_action *act);
/* Where data at `name` found in memory came from in this request. */
enum chain_source iter__cached_source(const iter_t *it, const ldns_rdf *name);
/* Announce a chain learned from the network to the shared tier. */
void iter__share_chain(iter_t *it);
/* Free the fetch bookkeeping. */
void iter__fetch_clear(iter_t *it);

#endif
