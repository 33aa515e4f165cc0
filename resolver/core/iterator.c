/*
 * Iterative resolution from the root for one question, as an explicit state
 * machine with no I/O; the contract is in iterator.h.
 */
#include "resolver/core/iterator.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/dnssec/denial.h"
#include "resolver/lib/log.h"
#include "resolver/lib/name.h"
#include "resolver/core/response.h"
#include "resolver/core/trace.h"
#include "resolver/lib/util.h"

#define MAX_NS 16     /* NS names considered per zone */
#define MAX_CANDS 32  /* addresses considered per zone */
#define MAX_TRIES 4   /* tries per server per zone visit */
#define QMIN_ONE_LABEL 4   /* RFC 9156 2.3: the first minimised steps add one label */
#define QMIN_MAX_QUERIES 10 /* and at most this many minimised queries per name */

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

#define KZ_MAX 8          /* keys kept at hand per lookup */
#define ITER_MAX_WALKS 16 /* trust walks per response: one needing more is bogus */

struct candidate {
  union sockaddr_any addr;
  socklen_t addrlen;
  uint8_t tries;
  bool failed; /* answered with an error or lame: do not ask again */
  bool tcp;    /* next query over TCP (after TC=1) */
};

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

/* ---- the environment's clock ------------------------------------------- */

/* Every reading of time and every random draw goes through these, so a
 * test's fake clock (iter_env.clock) sees them all. */
static inline int64_t now_sec(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->now_sec ? c->now_sec(c->arg) : util_now_sec();
}

static inline uint64_t mono_us(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->mono_us ? c->mono_us(c->arg) : util_mono_us();
}

static inline uint64_t mono_ms(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->mono_us ? c->mono_us(c->arg) / 1000u : util_mono_ms();
}

static inline uint32_t random32(const iter_t *it) {
  const struct iter_clock *c = &it->env->clock;
  return c->random ? c->random(c->arg) : util_random();
}

/* ---- helpers ------------------------------------------------------------ */

/* A response's DNSSEC verdict, RRset by RRset: hop[i] for the i-th CNAME or
 * DNAME of its chain, final for the answer or the denial; bad is the first
 * bogus one's reason. All indeterminate when not validated. */
struct verdicts {
  uint8_t hop[RESP_MAX_CNAMES];
  uint8_t final;
  bool bogus;
  struct sec_result bad;
};

static void kz_clear(struct kz_entry *e) {
  ldns_rdf_deep_free(e->target);
  ldns_rdf_deep_free(e->zone);
  ldns_rr_list_deep_free(e->keys);
  memset(e, 0, sizeof *e);
}

static void forget_want(iter_t *it) {
  ldns_rdf_deep_free(it->want_zone);
  ldns_rdf_deep_free(it->want_from);
  ldns_rr_list_deep_free(it->want_keys);
  it->want_zone = it->want_from = NULL;
  it->want_keys = NULL;
  it->want_ttl = 0;
}

static void share_chain(iter_t *it);
static void flatten(iter_t *it, ldns_pkt_rcode *rcode);
static void set_answer_empty(iter_t *it);

static void count(const iter_t *it, size_t field_offset) {
  if (it->env->stats) (*(uint64_t *)((char *)it->env->stats + field_offset))++;
}
#define COUNT(it, field) count((it), offsetof(struct stats, field))

static void finish(iter_t *it, ldns_pkt_rcode rcode, int ede, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The answer's state: SECURE only when every hop and the final data are;
 * a hop not validated makes it indeterminate, an unsigned one insecure.
 * Failures are indeterminate (a bogus one says so in its EDE). */
static enum sec_state overall_sec(const iter_t *it, ldns_pkt_rcode rcode) {
  if (!it->validate || !it->chain.has_final ||
      (rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN &&
       rcode != LDNS_RCODE_YXDOMAIN))
    return SEC_INDETERMINATE;
  enum sec_state st = (enum sec_state)it->chain.final.sec;
  for (size_t i = 0; i < it->chain.n; i++) {
    enum sec_state h = (enum sec_state)it->chain.hops[i].step.sec;
    if (h == SEC_INDETERMINATE || st == SEC_INDETERMINATE) st = SEC_INDETERMINATE;
    else if (h == SEC_INSECURE) st = SEC_INSECURE;
  }
  return st == SEC_BOGUS ? SEC_INDETERMINATE : st;
}

/* A failure the validator made: the data at the last step was bogus. */
static bool failed_bogus(const iter_t *it, ldns_pkt_rcode rcode) {
  return it->validate && rcode == LDNS_RCODE_SERVFAIL && it->chain.has_final &&
         it->chain.final.sec == SEC_BOGUS;
}

/* RFC 8509: a validated answer to root-key-sentinel-is-ta-NNNNN.* (or
 * -not-ta-NNNNN.*) is turned into SERVFAIL when key tag NNNNN is not (is)
 * one of the root trust anchors in force, so a client can tell which root
 * keys its resolvers trust. True when it must fail. */
static bool key_sentinel_fails(const iter_t *it) {
  static const char is_ta[] = "root-key-sentinel-is-ta-", not_ta[] = "root-key-sentinel-not-ta-";
  if (it->depth || it->res.sec != SEC_SECURE || !it->env->anchors) return false;
  const uint8_t *w = ldns_rdf_data(it->chain.start);
  size_t len = w[0];
  char label[64];
  for (size_t i = 0; i < len && i < sizeof label - 1; i++) label[i] = (char)name_lower(w[1 + i]);
  label[len < sizeof label ? len : sizeof label - 1] = 0;
  bool want;
  const char *digits;
  if (len == sizeof is_ta - 1 + 5 && !strncmp(label, is_ta, sizeof is_ta - 1)) {
    want = true;
    digits = label + sizeof is_ta - 1;
  } else if (len == sizeof not_ta - 1 + 5 && !strncmp(label, not_ta, sizeof not_ta - 1)) {
    want = false;
    digits = label + sizeof not_ta - 1;
  } else {
    return false;
  }
  unsigned tag = 0;
  for (int i = 0; i < 5; i++) {
    if (digits[i] < '0' || digits[i] > '9') return false;
    tag = tag * 10 + (unsigned)(digits[i] - '0');
  }
  if (tag > 65535) return false;
  return ta_root_has_keytag(it->env->anchors, (uint16_t)tag) != want;
}

static void finish(iter_t *it, ldns_pkt_rcode rcode, int ede, const char *fmt, ...) {
  if ((rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN) && !it->stale_mode)
    share_chain(it);
  /* A flattened target that does not resolve to addresses (no name, no
   * data, a name made too long, refused locally) leaves the owner without
   * addresses: NODATA. Failures to resolve (SERVFAIL) pass through. */
  if (it->flat_owner && (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN ||
                         rcode == LDNS_RCODE_YXDOMAIN || rcode == LDNS_RCODE_REFUSED)) {
    flatten(it, &rcode);
    if (rcode == LDNS_RCODE_NOERROR) ede = EDE_NONE;
  }
  /* The budget is the whole request's: anything spent was spent upstream. */
  bool upstream = *it->budget < it->env->cfg->max_upstream_queries;
  bool local = it->chain.has_final && it->chain.final.source == CHAIN_SRC_LOCAL;
  it->res.source = upstream ? CHAIN_SRC_NETWORK
                 : it->res.from_shared_tier ? CHAIN_SRC_REDIS
                 : local ? CHAIN_SRC_LOCAL : CHAIN_SRC_CACHE;
  it->res.rcode = rcode;
  it->res.ede = ede;
  it->res.sec = failed_bogus(it, rcode) ? SEC_BOGUS : overall_sec(it, rcode);
  if (key_sentinel_fails(it)) {
    set_answer_empty(it);
    if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
    it->res.authority = NULL;
    it->res.rcode = LDNS_RCODE_SERVFAIL;
    it->res.sec = SEC_INDETERMINATE;
    it->state = IS_DONE;
    return;
  }
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->res.ede_text, sizeof it->res.ede_text, fmt, ap);
    va_end(ap);
  }
  it->state = IS_DONE;
}

static void push_clones(ldns_rr_list *to, const ldns_rr_list *from) {
  for (size_t i = 0; from && i < ldns_rr_list_rr_count(from); i++)
    ldns_rr_list_push_rr(to, ldns_rr_clone(ldns_rr_list_rr(from, i)));
}

/* The TTL the cache keeps for data with this TTL (min-ttl, max-ttl): what
 * a client is told, whether the answer came from the network or the cache,
 * so a reply (and the answer cache holding it) never outlives its data. */
static uint32_t kept_ttl(const iter_t *it, uint32_t ttl) {
  const struct iter_config *cfg = it->env->cfg;
  if (cfg->max_ttl && ttl > cfg->max_ttl) ttl = cfg->max_ttl;
  return ttl < cfg->min_ttl ? cfg->min_ttl : ttl;
}

/* The negative TTL of an SOA (RFC 2308 5: min(TTL, MINIMUM)), clamped as
 * the cache clamps it. */
static uint32_t negative_ttl(const iter_t *it, const ldns_rr *soa) {
  uint32_t ttl = ldns_rr_ttl(soa);
  if (ldns_rr_rd_count(soa) >= 7) {
    uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
    if (minimum < ttl) ttl = minimum;
  }
  uint32_t cap = it->env->cfg->max_neg_ttl;
  return cap && ttl > cap ? cap : ttl;
}

/* Records of l from index `from` on get this TTL. */
static void set_ttls(ldns_rr_list *l, size_t from, uint32_t ttl) {
  for (size_t i = from; l && i < ldns_rr_list_rr_count(l); i++)
    ldns_rr_set_ttl(ldns_rr_list_rr(l, i), ttl);
}

/* The answer so far: the chain's CNAMEs (with their RRSIGs), then `final`
 * and its RRSIGs (cloned). The client's reply drops the DNSSEC records
 * unless it set DO. */
static void set_answer_sigs(iter_t *it, const ldns_rr_list *final, const ldns_rr_list *sigs) {
  ldns_rr_list *a = ldns_rr_list_clone(it->answer_chain);
  push_clones(a, final);
  push_clones(a, sigs);
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = a;
  it->res.has_data = final && ldns_rr_list_rr_count(final) > 0;
}

static void set_answer(iter_t *it, const ldns_rr_list *final) {
  set_answer_sigs(it, final, NULL);
}

/* No answer records at all, not even the chain's CNAMEs. */
static void set_answer_empty(iter_t *it) {
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = ldns_rr_list_new();
  it->res.has_data = false;
}

static void set_authority(iter_t *it, const ldns_rr *soa) {
  if (!soa) return;
  if (!it->res.authority) it->res.authority = ldns_rr_list_new();
  ldns_rr_list_push_rr(it->res.authority, ldns_rr_clone(soa));
}

/* A negative answer's proof (NSEC/NSEC3 and RRSIGs) after its SOA. */
static void set_proof(iter_t *it, const ldns_rr_list *proof) {
  if (!proof || !ldns_rr_list_rr_count(proof)) return;
  if (!it->res.authority) it->res.authority = ldns_rr_list_new();
  push_clones(it->res.authority, proof);
}

static const ldns_rdf *current(const iter_t *it) { return chain_current(&it->chain); }

/* Data answering this request expires in `ttl` seconds of `orig`: from
 * the last tenth of its life on, the answer is worth a prefetch. */
static void note_expiry(iter_t *it, uint32_t ttl, uint32_t orig) {
  if (orig < PREFETCH_MIN_TTL || ttl > orig) return;
  int64_t at = now_sec(it) + ttl - orig / 10;
  if (!it->res.prefetch_at || at < it->res.prefetch_at) it->res.prefetch_at = at;
}

static void forget_sent(iter_t *it) {
  if (it->sent) ldns_rdf_deep_free(it->sent);
  it->sent = NULL;
}

/* How the current name was resolved: from the network (the zone and
 * server of the query in flight) or from a cache tier. Restarts the clock
 * for the next name. */
static struct chain_step take_step(iter_t *it, enum chain_source src, uint32_t ttl) {
  uint64_t now = it->env->cfg->no_timing ? it->hop_start_us : mono_us(it);
  struct chain_step step = chain_step_cached(src, now - it->hop_start_us, ttl);
  step.sec = it->cur_sec;
  it->cur_sec = SEC_INDETERMINATE;
  it->hop_start_us = now;
  if (src == CHAIN_SRC_NETWORK) {
    /* The cache keeps it clamped: the window is the clamped TTL's. */
    const struct iter_config *cfg = it->env->cfg;
    uint32_t kept = cfg->max_ttl && ttl > cfg->max_ttl ? cfg->max_ttl
                  : ttl < cfg->min_ttl ? cfg->min_ttl : ttl;
    note_expiry(it, kept, kept);
    step.zone = it->zone;
    memcpy(&step.server, &it->cands[it->cur].addr, sizeof it->cands[it->cur].addr);
  }
  return step;
}

/* The answer at the last name came this way. */
static void final_step(iter_t *it, enum chain_source src, uint32_t ttl) {
  struct chain_step step = take_step(it, src, ttl);
  chain_set_final(&it->chain, &step);
}

/* Follow one hop from the current name to target: record it, bound the
 * chain, detect loops; the records that made it (a CNAME; a DNAME and the
 * CNAME made from it; none for an ALIAS) join the answer. Returns false
 * (and finishes) when the chain must end. */
static bool follow_hop(iter_t *it, enum hop_kind kind, const ldns_rdf *target, uint32_t ttl,
                       const ldns_rr *rr1, const ldns_rr *rr2, const ldns_rr_list *sigs,
                       enum chain_source src) {
  struct chain_step step = take_step(it, src, ttl);
  enum chain_status st = chain_add_hop(&it->chain, kind, current(it), target, &step);
  if (st != CHAIN_OK) {
    it->res.chain_status = st;
    set_answer(it, NULL);
    finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER, "%s", it->chain.why);
    return false;
  }
  size_t from = ldns_rr_list_rr_count(it->answer_chain);
  if (rr1) ldns_rr_list_push_rr(it->answer_chain, ldns_rr_clone(rr1));
  push_clones(it->answer_chain, sigs);
  if (rr2) ldns_rr_list_push_rr(it->answer_chain, ldns_rr_clone(rr2));
  if (src == CHAIN_SRC_NETWORK) set_ttls(it->answer_chain, from, kept_ttl(it, ttl));
  /* A new name: minimisation starts again from the zone found for it. */
  forget_sent(it);
  it->qmin_count = 0;
  it->qmin_full = false;
  return true;
}

static bool follow(iter_t *it, const ldns_rr *cname, const ldns_rr_list *sigs,
                   enum chain_source src) {
  return follow_hop(it, HOP_CNAME, ldns_rr_rdf(cname, 0), ldns_rr_ttl(cname), cname, NULL, sigs,
                    src);
}

/* A DNAME rewrote the current name into synth's target (RFC 6672). */
static bool follow_dname(iter_t *it, const ldns_rr *dname, const ldns_rr *synth,
                         const ldns_rr_list *sigs, enum chain_source src) {
  if (!follow_hop(it, HOP_DNAME, ldns_rr_rdf(synth, 0), ldns_rr_ttl(dname), dname, synth,
                  sigs, src))
    return false;
  /* A DNAME into its own subtree rewrites every rewritten name again, until
   * the chain bound or 255 octets: a loop, said at the first turn. */
  const ldns_rdf *owner = ldns_rr_owner(dname), *target = ldns_rr_rdf(dname, 0);
  if (!name_in(target, owner)) return true;
  char o[256], t[256];
  it->res.chain_status = CHAIN_LOOP;
  snprintf(it->chain.why, sizeof it->chain.why,
           "DNAME loop: %s rewrites names into its own subtree (%s)",
           name_str(owner, o, sizeof o), name_str(target, t, sizeof t));
  set_answer(it, NULL);
  finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER, "%s", it->chain.why);
  return false;
}

/* Store every RRset in `rrs`, grouping RRs by owner and type, each with
 * its RRSIGs from `sigs` (may be NULL) and the state `sec`. */
static void store_grouped(iter_t *it, const ldns_rr_list *rrs, enum cache_rank rank,
                          const ldns_rr_list *sigs, uint8_t sec) {
  size_t n = ldns_rr_list_rr_count(rrs);
  bool done[256] = {0};
  int64_t now = now_sec(it);
  for (size_t i = 0; i < n && i < 256; i++) {
    if (done[i]) continue;
    ldns_rr *first = ldns_rr_list_rr(rrs, i);
    ldns_rr_list *set = ldns_rr_list_new();
    for (size_t j = i; j < n && j < 256; j++) {
      ldns_rr *rr = ldns_rr_list_rr(rrs, j);
      if (!done[j] && ldns_rr_get_type(rr) == ldns_rr_get_type(first) &&
          name_equal(ldns_rr_owner(rr), ldns_rr_owner(first))) {
        ldns_rr_list_push_rr(set, rr);
        done[j] = true;
      }
    }
    ldns_rr_list *own = sigs ? dnssec_sigs_for(sigs, ldns_rr_owner(first),
                                               ldns_rr_get_type(first)) : NULL;
    cache_store_rrset_sec(it->env->cache, set, own, sec, rank, now, it->env->sink);
    if (own) ldns_rr_list_free(own);
    ldns_rr_list_free(set);
  }
}

/* ---- zone and candidates ---------------------------------------------- */

static void clear_zone(iter_t *it) {
  for (size_t i = 0; i < it->nns; i++) ldns_rdf_deep_free(it->ns[i].name);
  it->nns = 0;
  it->ncands = 0;
  it->zone_timeouts = 0;
  it->zone_waited_ms = 0;
  if (it->zone) ldns_rdf_deep_free(it->zone);
  it->zone = NULL;
}

static bool family_ok(const iter_t *it, ldns_rr_type t) {
  return (t == LDNS_RR_TYPE_A && it->env->cfg->ipv4) ||
         (t == LDNS_RR_TYPE_AAAA && it->env->cfg->ipv6);
}

/* Make the address in rr (A or AAAA) a candidate. Returns true when it is
 * one now (added, or already there). */
static bool add_candidate(iter_t *it, const ldns_rr *rr) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (!family_ok(it, t) || ldns_rr_rd_count(rr) != 1 || it->ncands == MAX_CANDS) return false;
  union sockaddr_any ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
  uint16_t port = htons(it->env->cfg->upstream_port);
  if (t == LDNS_RR_TYPE_A && ldns_rdf_size(rd) == 4) {
    struct sockaddr_in *in = (struct sockaddr_in *)&ss;
    in->sin_family = AF_INET;
    in->sin_port = port;
    memcpy(&in->sin_addr, ldns_rdf_data(rd), 4);
    len = sizeof *in;
  } else if (t == LDNS_RR_TYPE_AAAA && ldns_rdf_size(rd) == 16) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = port;
    memcpy(&in6->sin6_addr, ldns_rdf_data(rd), 16);
    len = sizeof *in6;
  } else {
    return false;
  }
  for (size_t i = 0; i < it->ncands; i++)
    if (util_addr_equal((struct sockaddr *)&it->cands[i].addr, (struct sockaddr *)&ss))
      return true;
  struct candidate *c = &it->cands[it->ncands++];
  memset(c, 0, sizeof *c);
  c->addr = ss;
  c->addrlen = len;
  return true;
}

/* Add the addresses in rrs; an NS name that got one needs no sub-lookup.
 * Returns true if any address became a candidate. */
static bool add_candidates(iter_t *it, const ldns_rr_list *rrs) {
  bool any = false;
  for (size_t i = 0; rrs && i < ldns_rr_list_rr_count(rrs); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
    if (!add_candidate(it, rr)) continue;
    any = true;
    for (size_t k = 0; k < it->nns; k++)
      if (name_equal(it->ns[k].name, ldns_rr_owner(rr))) it->ns[k].addr_known = true;
  }
  return any;
}

/* Addresses of an NS name from cache (glue included) and, for the root,
 * from the hints. */
static void addresses_from_cache(iter_t *it, const ldns_rdf *nsname) {
  static const ldns_rr_type types[] = {LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA};
  if (it->nocache) return;
  int64_t now = now_sec(it);
  for (int i = 0; i < 2; i++) {
    if (!family_ok(it, types[i])) continue;
    struct cache_result cr;
    if (cache_lookup(it->env->cache, nsname, types[i], CACHE_RANK_GLUE, now, &cr) == 0) {
      if (cr.kind == CACHE_RRSET) add_candidates(it, cr.rrs);
      ldns_rr_list_deep_free(cr.rrs);
    }
  }
}

/* Make `zone` with this NS RRset the zone to ask. glue may be NULL. */
static void load_zone(iter_t *it, const ldns_rdf *zone, const ldns_rr_list *ns,
                      const ldns_rr_list *glue) {
  clear_zone(it);
  it->retry_same = -1;
  it->zone_gen++;
  it->subs_pending = 0;
  it->zone = ldns_rdf_clone(zone);
  forget_sent(it);
  it->qmin_labels = ldns_dname_label_count(zone);
  it->qmin_full = false; /* a fallback is for the servers that needed it */
  for (size_t i = 0; i < ldns_rr_list_rr_count(ns) && it->nns < MAX_NS; i++) {
    ldns_rr *rr = ldns_rr_list_rr(ns, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_rd_count(rr) != 1) continue;
    struct ns_entry *e = &it->ns[it->nns++];
    e->name = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
    e->addr_known = false;
    e->in_zone = name_in(e->name, zone);
  }
  add_candidates(it, glue);
  for (size_t i = 0; i < it->nns; i++) addresses_from_cache(it, it->ns[i].name);
}

/* A zone is usable when a server can be reached now or after a lookup. */
static bool zone_usable(const iter_t *it) {
  if (it->ncands) return true;
  for (size_t i = 0; i < it->nns; i++)
    if (!it->ns[i].in_zone) return true;
  return false;
}

/* ---- the shared tier ------------------------------------------------------ */

static struct fetched *find_fetched(const iter_t *it, const ldns_rdf *name) {
  for (size_t i = 0; i < it->nfetched; i++)
    if (name_equal(it->fetched[i].name, name)) return &it->fetched[i];
  return NULL;
}

/* Names a request may fetch: the start, every chain name, and one spare. */
static size_t fetch_limit(const iter_t *it) { return it->env->cfg->max_chain_length + 2; }

static bool want_fetch(const iter_t *it, const ldns_rdf *name) {
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
static void st_fetch(iter_t *it, struct iter_action *act) {
  it->nkeys = 0;
  fetch_name(it, current(it));
  if (it->chain.n == 0 && it->qtype != LDNS_RR_TYPE_CNAME)
    push_key(it, it->fetched[it->nfetched - 1].name, 0, RECORD_CHAIN);
  for (size_t i = 0; i < it->nprefetch; i++) {
    if (want_fetch(it, it->prefetch[i])) fetch_name(it, it->prefetch[i]);
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
static enum chain_source cached_source(const iter_t *it, const ldns_rdf *name) {
  const struct fetched *f = find_fetched(it, name);
  return f && f->hit ? CHAIN_SRC_REDIS : CHAIN_SRC_CACHE;
}

/* A chain learned from the network is announced to the shared tier: its
 * names under the start name, living as long as its shortest CNAME, so
 * another instance can fetch every hop in one round trip. */
static void share_chain(iter_t *it) {
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
                             .expiry = now_sec(it) + ttl, .ttl = ttl,
                             .payload = payload, .payload_len = plen};
  sink->put(sink->arg, &rec);
}

/* ---- states ------------------------------------------------------------- */

/* An answer-ranked cache lookup; in stale mode expired data counts too,
 * in refresh mode data near expiry does not. The caller notes the expiry
 * of what it uses (note_expiry). */
static void cr_clear(struct cache_result *cr) {
  if (cr->rrs) ldns_rr_list_deep_free(cr->rrs);
  if (cr->sigs) ldns_rr_list_deep_free(cr->sigs);
  cr->rrs = cr->sigs = NULL;
}

/* lookup_entry found unchecked data whose judging needs a trust walk: the
 * iterator is in IS_TRUST and comes back to IS_CACHE afterwards. */
#define LOOKUP_WAIT (-2)

static int judge_cached(iter_t *it, const ldns_rdf *name, ldns_rr_type type,
                        struct cache_result *cr);

/* (Validating, data nobody validated is a miss: it is asked for again;
 * unchecked data from the shared tier is judged first, LOOKUP_WAIT when
 * that needs keys the iterator must walk to.) */
static int lookup_entry(iter_t *it, const ldns_rdf *name, ldns_rr_type type, int64_t now,
                        struct cache_result *cr) {
  int rc = cache_lookup_ex(it->env->cache, name, type, CACHE_RANK_ANSWER, now, it->stale_mode,
                           it->stale_ttl, true, cr);
  if (rc != 0) return rc;
  if (it->validate && !it->stale_mode && cr->sec == CACHE_SEC_UNCHECKED) {
    int j = judge_cached(it, name, type, cr);
    if (j == 0) {
      cr_clear(cr);
      it->pending_cached = true;
      it->state = IS_TRUST;
      return LOOKUP_WAIT;
    }
    if (j < 0) {
      forget_want(it);
      COUNT(it, shared_rejected);
      cr_clear(cr);
      return -1;
    }
  }
  bool miss = it->validate && (cr->sec == CACHE_SEC_INDETERMINATE ||
                               cr->sec == CACHE_SEC_UNCHECKED);
  miss |= !it->stale_mode && it->refresh && cr->orig_ttl >= PREFETCH_MIN_TTL &&
          cr->ttl <= cr->orig_ttl / 10;
  if (miss) {
    cr_clear(cr);
    return -1;
  }
  if (cr->stale) it->res.stale = true;
  return 0;
}

/* A lookup whose result, when found, is used. */
static int lookup(iter_t *it, const ldns_rdf *name, ldns_rr_type type, int64_t now,
                  struct cache_result *cr) {
  int rc = lookup_entry(it, name, type, now, cr);
  if (rc == 0 && !it->stale_mode) note_expiry(it, cr->ttl, cr->orig_ttl);
  return rc;
}

/* The SOA for a NODATA at the owner of a flattened ALIAS: local data has
 * no record of type NULL at that name, so the lookup says NODATA with the
 * zone's SOA. */
static void alias_soa(iter_t *it) {
  struct lz_answer la;
  if (lz_lookup(it->env->local, it->flat_owner, LDNS_RR_TYPE_NULL, &la) == LZV_NODATA)
    set_authority(it, la.soa);
  lz_answer_clear(&la);
}

/* The answer of a chain that went through an ALIAS: records before the
 * ALIAS stay; from it on, only the final addresses, owned by the ALIAS's
 * name, with the smallest TTL met on the way (what ALIAS providers do). A
 * target without addresses, or without existence, is NODATA at the owner,
 * which exists. */
static void flatten(iter_t *it, ldns_pkt_rcode *rcode) {
  const ldns_rr_list *in = it->res.answer;
  size_t n = in ? ldns_rr_list_rr_count(in) : 0;
  ldns_rr_list *out = ldns_rr_list_new();
  uint32_t ttl = it->flat_ttl;
  for (size_t i = it->flat_from; i < n; i++)
    if (ldns_rr_ttl(ldns_rr_list_rr(in, i)) < ttl) ttl = ldns_rr_ttl(ldns_rr_list_rr(in, i));
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(in, i);
    if (i >= it->flat_from &&
        (ldns_rr_get_type(rr) != it->qtype || !name_equal(ldns_rr_owner(rr), current(it))))
      continue;
    ldns_rr *c = ldns_rr_clone(rr);
    if (i >= it->flat_from) {
      ldns_rdf_deep_free(ldns_rr_owner(c));
      ldns_rr_set_owner(c, ldns_rdf_clone(it->flat_owner));
      ldns_rr_set_ttl(c, ttl);
    }
    ldns_rr_list_push_rr(out, c);
  }
  bool any = ldns_rr_list_rr_count(out) > it->flat_from;
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  it->res.answer = out;
  it->res.has_data = any;
  if (!any) {
    it->res.dangling = *rcode == LDNS_RCODE_NXDOMAIN;
    *rcode = LDNS_RCODE_NOERROR;
    if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
    it->res.authority = NULL;
    alias_soa(it);
  }
}

/* Local data at the current name (local zones). Returns true when it
 * answered or moved the chain on. */
static bool st_local(iter_t *it) {
  struct lz_answer la;
  enum lz_verdict v = lz_lookup(it->env->local, current(it), it->qtype, &la);
  if (v == LZV_NONE) return false;
  if (!it->stale_mode) COUNT(it, local_answers);
  /* Local data is nobody's signed zone: insecure, never AD. */
  it->cur_sec = it->validate ? SEC_INSECURE : SEC_INDETERMINATE;
  switch (v) {
  case LZV_ANSWER:
    final_step(it, CHAIN_SRC_LOCAL, ldns_rr_ttl(ldns_rr_list_rr(la.rrs, 0)));
    set_answer(it, la.rrs);
    finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  case LZV_CNAME:
    follow(it, ldns_rr_list_rr(la.rrs, 0), NULL, CHAIN_SRC_LOCAL); /* on in IS_CACHE */
    break;
  case LZV_ALIAS:
    if (!it->flat_owner) {
      it->flat_owner = ldns_rdf_clone(current(it));
      it->flat_from = ldns_rr_list_rr_count(it->answer_chain);
      it->flat_ttl = la.alias_ttl;
    } else if (la.alias_ttl < it->flat_ttl) {
      it->flat_ttl = la.alias_ttl;
    }
    follow_hop(it, HOP_ALIAS, la.target, la.alias_ttl, NULL, NULL, NULL, CHAIN_SRC_LOCAL);
    break;
  case LZV_NODATA:
  case LZV_NXDOMAIN:
    final_step(it, CHAIN_SRC_LOCAL, la.soa ? ldns_rr_ttl(la.soa) : 0);
    set_answer(it, NULL);
    set_authority(it, la.soa);
    finish(it, v == LZV_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  default: {
    char z[256];
    final_step(it, CHAIN_SRC_LOCAL, 0);
    set_answer(it, NULL);
    finish(it, LDNS_RCODE_REFUSED, EDE_PROHIBITED, "refused by local zone %s",
           name_str(la.zone, z, sizeof z));
    break;
  }
  }
  lz_answer_clear(&la);
  return true;
}

/* Above the current name: a cached DNAME rewrites it without a query (RFC
 * 6672); with nothing-below-nxdomain, a cached NXDOMAIN means it does not
 * exist either (RFC 8020). One lookup per ancestor finds both, as an
 * NXDOMAIN entry answers any type. Returns true when it acted. */
static bool st_cache_above(iter_t *it, int64_t now) {
  const ldns_rdf *cur = current(it);
  size_t labels = ldns_dname_label_count(cur);
  for (size_t skip = 1; skip < labels; skip++) {
    ldns_rdf *anc = ldns_dname_clone_from(cur, skip);
    struct cache_result cr;
    int rc = anc ? lookup_entry(it, anc, LDNS_RR_TYPE_DNAME, now, &cr) : -1;
    enum chain_source src = rc == 0 ? cached_source(it, anc) : CHAIN_SRC_CACHE;
    ldns_rdf_deep_free(anc);
    if (rc == LOOKUP_WAIT) return true;
    if (rc != 0) continue;
    bool acted = false;
    if (cr.kind == CACHE_RRSET && ldns_rr_list_rr_count(cr.rrs) == 1) {
      const ldns_rr *dname = ldns_rr_list_rr(cr.rrs, 0);
      ldns_rr *synth = resp_dname_synth(dname, cur);
      it->cur_sec = cr.sec;
      if (synth) {
        follow_dname(it, dname, synth, cr.sigs, src);
        ldns_rr_free(synth);
      } else {
        final_step(it, src, ldns_rr_ttl(dname));
        set_answer(it, NULL);
        finish(it, LDNS_RCODE_YXDOMAIN, EDE_NONE, NULL);
      }
      acted = true;
    } else if (cr.kind == CACHE_NXDOMAIN &&
               (it->env->cfg->nxcut == NXCUT_YES ||
                (it->env->cfg->nxcut == NXCUT_DNSSEC && it->validate &&
                 cr.sec == CACHE_SEC_SECURE))) {
      if (!it->stale_mode) COUNT(it, nxdomain_cuts);
      it->cur_sec = cr.sec;
      final_step(it, src, cr.ttl);
      set_answer(it, NULL);
      if (ldns_rr_list_rr_count(cr.rrs)) set_authority(it, ldns_rr_list_rr(cr.rrs, 0));
      set_proof(it, cr.sigs);
      finish(it, LDNS_RCODE_NXDOMAIN, EDE_NONE, NULL);
      acted = true;
    }
    if (acted && !it->stale_mode) note_expiry(it, cr.ttl, cr.orig_ttl);
    cr_clear(&cr);
    if (acted) return true;
  }
  return false;
}

/* RFC 8198: a name inside a cached, validated NSEC range does not exist
 * (or has no such type): answer NXDOMAIN or NODATA at once, with the
 * zone's cached SOA and the NSEC records as proof, all secure. */
static bool st_aggressive(iter_t *it, int64_t now) {
  if (!it->validate || it->stale_mode || !it->env->nsecs) return false;
  bool nx = false;
  struct nsec_proof proof = {0};
  if (nseccache_lookup(it->env->nsecs, current(it), it->qtype, now, &nx, &proof) != DENIAL_PROVEN)
    return false;
  struct cache_result cr;
  bool done = false;
  if (cache_lookup_ex(it->env->cache, proof.zone, LDNS_RR_TYPE_SOA, CACHE_RANK_ANSWER, now,
                      false, 0, true, &cr) == 0) {
    if (cr.kind == CACHE_RRSET && cr.sec == CACHE_SEC_SECURE && ldns_rr_list_rr_count(cr.rrs)) {
      COUNT(it, dnssec_aggressive);
      ldns_rr *soa = ldns_rr_list_rr(cr.rrs, 0);
      uint32_t ttl = proof.ttl < cr.ttl ? proof.ttl : cr.ttl;
      ldns_rr_set_ttl(soa, ttl);
      for (size_t i = 0; cr.sigs && i < ldns_rr_list_rr_count(cr.sigs); i++)
        ldns_rr_set_ttl(ldns_rr_list_rr(cr.sigs, i), ttl);
      it->cur_sec = SEC_SECURE;
      final_step(it, CHAIN_SRC_CACHE, ttl);
      set_answer(it, NULL);
      set_authority(it, soa);
      set_proof(it, cr.sigs);
      set_proof(it, proof.nsecs);
      finish(it, nx ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR, EDE_NONE, NULL);
      done = true;
    }
    cr_clear(&cr);
  }
  nsec_proof_clear(&proof);
  return done;
}

static void st_cache(iter_t *it, struct iter_action *act) {
  const ldns_rdf *cur = current(it);
  if (it->env->local && st_local(it)) return;
  if (it->nocache) {
    it->state = IS_FIND_ZONE;
    return;
  }
  int64_t now = now_sec(it);
  struct cache_result cr;
  int rc = lookup(it, cur, it->qtype, now, &cr);
  if (rc == LOOKUP_WAIT) return;
  if (rc == 0) {
    it->cur_sec = cr.sec;
    final_step(it, cached_source(it, cur), cr.ttl);
    if (cr.kind == CACHE_RRSET) {
      /* The RRset's RRSIGs go with it; a wildcard's proof (NSEC/NSEC3 and
       * their RRSIGs) to the authority section. */
      ldns_rr_list *own = ldns_rr_list_new(), *proof = ldns_rr_list_new();
      for (size_t i = 0; cr.sigs && i < ldns_rr_list_rr_count(cr.sigs); i++) {
        ldns_rr *rr = ldns_rr_list_rr(cr.sigs, i);
        bool mine = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
                    ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == it->qtype;
        ldns_rr_list_push_rr(mine ? own : proof, rr);
      }
      set_answer_sigs(it, cr.rrs, own);
      set_proof(it, proof);
      ldns_rr_list_free(own);
      ldns_rr_list_free(proof);
      finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    } else {
      set_answer(it, NULL);
      if (ldns_rr_list_rr_count(cr.rrs)) set_authority(it, ldns_rr_list_rr(cr.rrs, 0));
      set_proof(it, cr.sigs);
      finish(it, cr.kind == CACHE_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR,
             EDE_NONE, NULL);
    }
    cr_clear(&cr);
    return;
  }
  rc = it->qtype == LDNS_RR_TYPE_CNAME ? -1 : lookup(it, cur, LDNS_RR_TYPE_CNAME, now, &cr);
  if (rc == LOOKUP_WAIT) return;
  if (rc == 0) {
    bool ok = cr.kind == CACHE_RRSET && ldns_rr_list_rr_count(cr.rrs) > 0 &&
              ldns_rr_rd_count(ldns_rr_list_rr(cr.rrs, 0)) == 1;
    it->cur_sec = cr.sec;
    if (ok && follow(it, ldns_rr_list_rr(cr.rrs, 0), cr.sigs, cached_source(it, cur))) {
      cr_clear(&cr);
      return; /* stay in IS_CACHE at the target */
    }
    cr_clear(&cr);
    if (ok) return; /* finished by follow() */
  }
  if (st_cache_above(it, now)) return;
  if (st_aggressive(it, now)) return;
  if (it->stale_mode) finish(it, LDNS_RCODE_SERVFAIL, EDE_NONE, NULL); /* nothing kept */
  else if (want_fetch(it, cur)) st_fetch(it, act);
  else it->state = IS_FIND_ZONE;
}

static void st_find_zone(iter_t *it) {
  ldns_rdf *z = ldns_rdf_clone(current(it));
  /* A DS lives on the parent's side of a cut (RFC 4035 3.1.4.1). */
  if (it->qtype == LDNS_RR_TYPE_DS && ldns_dname_label_count(z) > 0) {
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  int64_t now = now_sec(it);
  while (it->nocache && ldns_dname_label_count(z) > 0) { /* straight to the root */
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  for (;;) {
    if (ldns_dname_label_count(z) == 0) break;
    struct cache_result cr;
    if (cache_lookup(it->env->cache, z, LDNS_RR_TYPE_NS, CACHE_RANK_REFERRAL, now, &cr) == 0) {
      if (cr.kind == CACHE_RRSET) {
        load_zone(it, z, cr.rrs, NULL);
        ldns_rr_list_deep_free(cr.rrs);
        if (zone_usable(it)) {
          ldns_rdf_deep_free(z);
          it->state = IS_SELECT;
          return;
        }
      } else {
        ldns_rr_list_deep_free(cr.rrs);
      }
    }
    ldns_rdf *parent = ldns_dname_left_chop(z);
    ldns_rdf_deep_free(z);
    z = parent;
  }
  /* The root: hints. */
  load_zone(it, z, it->env->hints->ns, it->env->hints->addrs);
  ldns_rdf_deep_free(z);
  it->state = IS_SELECT;
}

/* Lowest score among candidates not failed and below the try limit; among
 * equals, a random one. Returns -1 if none. */
static int pick_candidate(iter_t *it) {
  if (it->retry_same >= 0) {
    int i = it->retry_same;
    it->retry_same = -1;
    if ((size_t)i < it->ncands && !it->cands[i].failed) return i;
  }
  uint64_t now = mono_ms(it);
  int best = -1;
  uint32_t best_score = UINT32_MAX;
  for (size_t i = 0; i < it->ncands; i++) {
    struct candidate *c = &it->cands[i];
    if (c->failed || c->tries >= MAX_TRIES) continue;
    uint32_t s = servers_score(it->env->servers, (struct sockaddr *)&c->addr, now);
    s += 2000u * c->tries + random32(it) % 8; /* untried first, then jitter */
    if (s < best_score) {
      best_score = s;
      best = (int)i;
    }
  }
  return best;
}

static void fail_zone(iter_t *it) {
  char zone[256];
  set_answer(it, NULL);
  finish(it, LDNS_RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY,
         "no reachable authority for %s (%s)", name_str(it->zone, zone, sizeof zone),
         it->last_failure ? it->last_failure : "no usable server address");
}

/* The name exists by the cache's word (data or NODATA for type A). */
static bool known_to_exist(const iter_t *it, const ldns_rdf *name, int64_t now) {
  struct cache_result cr;
  if (it->nocache ||
      cache_lookup(it->env->cache, name, LDNS_RR_TYPE_A, CACHE_RANK_ANSWER, now, &cr) != 0)
    return false;
  bool exists = cr.kind != CACHE_NXDOMAIN;
  ldns_rr_list_deep_free(cr.rrs);
  return exists;
}

/* What to ask the zone next (RFC 9156): one label more than is known to
 * exist below it, for the first QMIN_ONE_LABEL steps, then steps that
 * reach the full name within QMIN_MAX_QUERIES; type A, which every server
 * handles. Names the cache knows exist are stepped over without a query.
 * The last query is the full name with the type asked. */
static void plan_query(iter_t *it) {
  const ldns_rdf *cur = current(it);
  size_t total = ldns_dname_label_count(cur);
  it->sent_type = it->qtype;
  it->sent_minimised = false;
  if (it->env->cfg->qmin != QMIN_OFF && !it->qmin_full) {
    int64_t now = now_sec(it);
    size_t labels = it->qmin_labels;
    while (it->qmin_count < QMIN_MAX_QUERIES) {
      size_t step = 1;
      if (it->qmin_count >= QMIN_ONE_LABEL) {
        size_t left = QMIN_MAX_QUERIES - it->qmin_count;
        step = (total - labels + left - 1) / left;
      }
      labels += step;
      if (labels >= total) break;
      ldns_rdf *n = ldns_dname_clone_from(cur, total - labels);
      if (n && !known_to_exist(it, n, now)) {
        it->sent = n;
        it->sent_type = LDNS_RR_TYPE_A;
        it->sent_minimised = true;
        return;
      }
      ldns_rdf_deep_free(n);
      it->qmin_labels = labels;
    }
  }
  it->sent = ldns_rdf_clone(cur);
}

static void st_select(iter_t *it, struct iter_action *act) {
  if (*it->budget == 0) {
    set_answer(it, NULL);
    finish(it, LDNS_RCODE_SERVFAIL, EDE_OTHER,
           "upstream query limit of %u reached (max-upstream-queries)",
           it->env->cfg->max_upstream_queries);
    return;
  }
  const struct iter_config *cfg = it->env->cfg;
  uint32_t budget_left = UINT32_MAX;
  if (cfg->zone_timeout_budget_ms) {
    budget_left = cfg->zone_timeout_budget_ms > it->zone_waited_ms
                      ? cfg->zone_timeout_budget_ms - it->zone_waited_ms : 0;
  }
  if (it->zone_timeouts >= cfg->zone_max_timeouts || budget_left < 50) {
    fail_zone(it);
    return;
  }
  int i = pick_candidate(it);
  if (i >= 0) {
    struct candidate *c = &it->cands[i];
    if (!it->sent) plan_query(it);
    c->tries++;
    (*it->budget)--;
    it->res.upstream_queries++;
    it->cur = (size_t)i;
    it->cur_edns = !servers_no_edns(it->env->servers, (struct sockaddr *)&c->addr);
    act->kind = IA_SEND;
    if (it->sent_minimised) COUNT(it, qmin_minimised);
    if (it->trace) {
      it->trace_idx = trace_begin(it->trace, it->depth, it->sent, it->sent_type, it->zone,
                                  (struct sockaddr *)&c->addr, c->tcp);
      if (it->trace_idx >= 0) it->trace->q[it->trace_idx].minimised = it->sent_minimised;
    }
    act->addr = (struct sockaddr *)&c->addr;
    act->addrlen = c->addrlen;
    act->qname = it->sent;
    act->qtype = it->sent_type;
    act->zone = it->zone;
    act->tcp = c->tcp;
    act->edns = it->cur_edns;
    act->timeout_ms = servers_rto(it->env->servers, (struct sockaddr *)&c->addr);
    if (c->tcp) act->timeout_ms *= 2; /* connection set-up costs a round trip */
    if (act->timeout_ms > budget_left) act->timeout_ms = budget_left;
    it->cur_timeout_ms = act->timeout_ms;
    it->state = IS_WAIT;
    return;
  }
  /* No address to try: look up the NS names (glueless delegation), several
   * at once, bounded by depth; or wait for those already out. */
  if (it->subs_pending) {
    it->state = IS_WAIT_SUB;
    return;
  }
  if (it->depth < it->env->cfg->max_depth) {
    for (size_t k = 0; k < it->nns && act->nsub < ITER_SUB_MAX; k++) {
      struct ns_entry *e = &it->ns[k];
      if (e->addr_known || e->in_zone) continue;
      e->addr_known = true;
      act->sub_names[act->nsub++] = e->name;
    }
  }
  if (!act->nsub) {
    fail_zone(it);
    return;
  }
  act->kind = IA_SUB;
  act->qtype = it->env->cfg->ipv4 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
  act->sub_gen = it->zone_gen;
  it->subs_pending = (uint32_t)act->nsub;
  it->state = IS_WAIT_SUB;
}

/* ---- public API ---------------------------------------------------------- */

#define ITER_POOL 32

struct iter_pool {
  iter_t *free[ITER_POOL];
  size_t n;
};

iter_pool_t *iter_pool_new(void) { return calloc(1, sizeof(struct iter_pool)); }

void iter_pool_free(iter_pool_t *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++) free(p->free[i]);
  free(p);
}

iter_t *iter_new(const struct iter_env *env, const ldns_rdf *qname, ldns_rr_type qtype,
                 uint32_t depth, uint32_t *budget) {
  iter_pool_t *pool = env->pool;
  iter_t *it = pool && pool->n ? pool->free[--pool->n] : malloc(sizeof *it);
  if (!it) return NULL;
  memset(it, 0, sizeof *it);
  it->env = env;
  it->qtype = qtype;
  it->depth = depth;
  it->own_budget = env->cfg->max_upstream_queries;
  it->budget = budget ? budget : &it->own_budget;
  chain_init(&it->chain, qname, env->cfg->max_chain_length);
  it->answer_chain = ldns_rr_list_new();
  it->hop_start_us = mono_us(it);
  it->state = IS_CACHE;
  it->retry_same = -1;
  it->res.ede = EDE_NONE;
  it->res.rcode = LDNS_RCODE_SERVFAIL;
  it->validate = env->cfg->dnssec && depth == 0 && env->anchors;
  return it;
}

void iter_free(iter_t *it) {
  if (!it) return;
  clear_zone(it);
  forget_sent(it);
  if (it->flat_owner) ldns_rdf_deep_free(it->flat_owner);
  for (size_t i = 0; i < it->nkz; i++) kz_clear(&it->kz[i]);
  forget_want(it);
  if (it->pending) ldns_pkt_free(it->pending);
  chain_free(&it->chain);
  ldns_rr_list_deep_free(it->answer_chain);
  for (size_t i = 0; i < it->nfetched; i++) ldns_rdf_deep_free(it->fetched[i].name);
  for (size_t i = 0; i < it->nprefetch; i++) ldns_rdf_deep_free(it->prefetch[i]);
  free(it->fetched);
  free(it->prefetch);
  free(it->keys);
  if (it->res.answer) ldns_rr_list_deep_free(it->res.answer);
  if (it->res.authority) ldns_rr_list_deep_free(it->res.authority);
  iter_pool_t *pool = it->env->pool;
  if (pool && pool->n < ITER_POOL) pool->free[pool->n++] = it;
  else free(it);
}

void iter_next(iter_t *it, struct iter_action *act) {
  memset(act, 0, sizeof *act);
  for (;;) {
    switch (it->state) {
    case IS_CACHE:
      st_cache(it, act);
      if (it->state == IS_WAIT_FETCH) return;
      break;
    case IS_FIND_ZONE: st_find_zone(it); break;
    case IS_SELECT:
      st_select(it, act);
      if (it->state == IS_WAIT || it->state == IS_WAIT_SUB) return;
      break;
    case IS_TRUST:
      act->kind = IA_TRUST;
      act->zone = it->want_zone;
      act->trust_from = it->want_from;
      act->trust_keys = it->want_keys;
      act->trust_ttl = it->want_ttl;
      it->state = IS_WAIT_TRUST;
      return;
    case IS_WAIT:
    case IS_WAIT_SUB:
    case IS_WAIT_FETCH:
    case IS_WAIT_TRUST:
      act->kind = IA_NONE; /* the driver must deliver an event first */
      return;
    case IS_DONE:
      act->kind = IA_DONE;
      return;
    }
  }
}

/* The RRSIGs of the response covering (owner, type): a shallow list or
 * NULL (ldns_rr_list_free). */
static ldns_rr_list *sigs_of(const struct resp_info *info, const ldns_rdf *owner,
                             ldns_rr_type type) {
  return info->sigs ? dnssec_sigs_for(info->sigs, owner, type) : NULL;
}

/* A negative answer's proof, kept after its SOA: the SOA's RRSIGs, the
 * NSEC/NSEC3 records and theirs (shallow; NULL if none). */
static ldns_rr_list *neg_proof(const struct resp_info *info) {
  ldns_rr_list *p = NULL;
  for (size_t i = 0; info->sigs && i < ldns_rr_list_rr_count(info->sigs); i++) {
    ldns_rr *rr = ldns_rr_list_rr(info->sigs, i);
    ldns_rr_type t = ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG && ldns_rr_rd_count(rr) > 0
                         ? ldns_rdf2rr_type(ldns_rr_rdf(rr, 0)) : 0;
    if (t != LDNS_RR_TYPE_SOA && t != LDNS_RR_TYPE_NSEC && t != LDNS_RR_TYPE_NSEC3) continue;
    if (!p) p = ldns_rr_list_new();
    ldns_rr_list_push_rr(p, rr);
  }
  for (size_t i = 0; info->nsecs && i < ldns_rr_list_rr_count(info->nsecs); i++) {
    if (!p) p = ldns_rr_list_new();
    ldns_rr_list_push_rr(p, ldns_rr_list_rr(info->nsecs, i));
  }
  return p;
}

/* A wildcard expansion's proof that no closer name exists (the answer's
 * RRSIG has fewer labels than its owner): its NSEC/NSEC3 records and their
 * RRSIGs, kept and sent with the answer. NULL for other answers. */
static ldns_rr_list *wildcard_proof(const struct resp_info *info) {
  if (!info->answer || !ldns_rr_list_rr_count(info->answer) || !info->nsecs) return NULL;
  const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
  ldns_rr_list *sigs = sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
  bool wild = false;
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); i++)
    wild |= ldns_rdf2native_int8(ldns_rr_rrsig_labels(ldns_rr_list_rr(sigs, i))) <
            ldns_dname_label_count(ldns_rr_owner(first));
  if (sigs) ldns_rr_list_free(sigs);
  return wild ? neg_proof(info) : NULL;
}

/* Do all the records of l share one owner and type? */
static bool single_rrset(const ldns_rr_list *l) {
  const ldns_rr *first = ldns_rr_list_rr(l, 0);
  for (size_t i = 1; i < ldns_rr_list_rr_count(l); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(l, i);
    if (ldns_rr_get_type(rr) != ldns_rr_get_type(first) ||
        !name_equal(ldns_rr_owner(rr), ldns_rr_owner(first)))
      return false;
  }
  return true;
}

/* Cache what an answer, CNAME, NODATA or NXDOMAIN from the zone says
 * (qtype: the type asked), with its DNSSEC records and each RRset's state
 * from v (NULL: not validated). Returns the TTL the answer RRset was kept
 * with (what the client is told), or its clamped TTL when not stored. */
static uint32_t store_answer(iter_t *it, const ldns_pkt *resp, const struct resp_info *info,
                             ldns_rr_type qtype, const struct verdicts *v) {
  int64_t now = now_sec(it);
  uint8_t sec = v ? v->final : SEC_INDETERMINATE;
  if (info->cname_with_other_data) {
    char n[256];
    it->res.cname_with_other_data++;
    log_debug("CNAME and other data at one name in %s (RFC 1034 3.6.2); following the CNAME",
              name_str(it->zone, n, sizeof n));
  }
  for (size_t i = 0; i < info->ncnames; i++) {
    /* A synthesised CNAME is not stored: its DNAME is, and answers for
     * every name below its owner. */
    const ldns_rr *made = info->dnames[i] ? info->dnames[i] : info->cnames[i];
    ldns_rr_type t = info->dnames[i] ? LDNS_RR_TYPE_DNAME : LDNS_RR_TYPE_CNAME;
    /* A CNAME at a zone apex cannot coexist with the apex SOA and NS. */
    if (!info->dnames[i] && name_equal(ldns_rr_owner(made), it->zone)) it->res.cname_at_apex++;
    ldns_rr_list *one = resp_rrset(ldns_pkt_answer(resp), ldns_rr_owner(made), t);
    if (one) {
      ldns_rr_list *sigs = sigs_of(info, ldns_rr_owner(made), t);
      cache_store_rrset_sec(it->env->cache, one, sigs, v ? v->hop[i] : SEC_INDETERMINATE,
                            CACHE_RANK_ANSWER, now, it->env->sink);
      if (sigs) ldns_rr_list_free(sigs);
      ldns_rr_list_free(one);
    }
  }
  uint32_t kept = UINT32_MAX;
  for (size_t i = 0; info->answer && i < ldns_rr_list_rr_count(info->answer); i++) {
    uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(info->answer, i));
    if (t < kept) kept = t;
  }
  kept = kept_ttl(it, kept == UINT32_MAX ? 0 : kept);
  ldns_rr_list *wproof = wildcard_proof(info);
  if (info->answer && (wproof || single_rrset(info->answer))) {
    /* One RRset (every type but ANY): kept with its RRSIGs and, for a
     * wildcard expansion, its proof. */
    const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
    ldns_rr_list *extra = sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
    if (!extra) extra = ldns_rr_list_new();
    for (size_t i = 0; wproof && i < ldns_rr_list_rr_count(wproof); i++)
      ldns_rr_list_push_rr(extra, ldns_rr_list_rr(wproof, i));
    cache_store_rrset_kept(it->env->cache, info->answer, extra, sec, CACHE_RANK_ANSWER, now,
                           it->env->sink, &kept);
    ldns_rr_list_free(extra);
  } else if (info->answer) {
    store_grouped(it, info->answer, CACHE_RANK_ANSWER, info->sigs, sec);
  }
  if (wproof) ldns_rr_list_free(wproof);
  if (info->cls == RESP_NXDOMAIN || info->cls == RESP_NODATA) {
    ldns_rr_list *proof = neg_proof(info);
    cache_store_negative_sec(it->env->cache, info->final_name, qtype,
                             info->cls == RESP_NXDOMAIN, info->soa, proof, sec,
                             CACHE_RANK_ANSWER, now, it->env->sink);
    if (proof) ldns_rr_list_free(proof);
  }
  if (info->ns)
    cache_store_rrset(it->env->cache, info->ns, CACHE_RANK_REFERRAL, now, it->env->sink);
  if (info->glue) store_grouped(it, info->glue, CACHE_RANK_GLUE, NULL, 0);
  return kept;
}

/* ---- DNSSEC ------------------------------------------------------------- */

/* Does this response need judging before it is used? Answers, chains and
 * negative answers do; referrals are checked by the trust walk (DS) when
 * the child's keys are needed; a minimised query's answer only moves the
 * search on, unless its NXDOMAIN may end the lookup. */
static bool needs_keys(const iter_t *it, const struct resp_info *info) {
  if (!it->validate) return false;
  switch (info->cls) {
  case RESP_ANSWER:
  case RESP_CNAME:
  case RESP_NODATA:
  case RESP_YXDOMAIN:
    return !it->sent_minimised;
  case RESP_NXDOMAIN:
    return true;
  default:
    return false;
  }
}

/* A name's closest trust anchor (NULL: none, or a negative one is closer). */
static const struct ta_entry *anchor_of(const iter_t *it, const ldns_rdf *name) {
  bool negative = false;
  const struct ta_entry *ta = ta_closest(it->env->anchors, name, &negative);
  return negative ? NULL : ta;
}

static struct kz_entry *kz_add(iter_t *it, const ldns_rdf *target, const ldns_rdf *zone,
                               const struct sec_result *r, const ldns_rr_list *keys) {
  struct kz_entry *e;
  if (it->nkz < KZ_MAX) {
    e = &it->kz[it->nkz++];
  } else {
    e = &it->kz[it->kz_next];
    it->kz_next = (it->kz_next + 1) % KZ_MAX;
    kz_clear(e);
  }
  e->target = ldns_rdf_clone(target);
  e->zone = ldns_rdf_clone(zone);
  e->r = *r;
  e->keys = keys && r->state == SEC_SECURE ? ldns_rr_list_clone(keys) : NULL;
  return e;
}

/* The keys that judge data at `target` (a signer, or an unsigned RRset's
 * owner): at hand already; none needed (no trust anchor above it, or a
 * negative one: insecure); or from the key cache, an entry for target
 * itself, or an insecure or bogus zone above it (which decides for
 * everything below, up to the anchor). NULL when a trust walk is needed:
 * it->want_* then say to where, and from which trusted zone above it. */
static const struct kz_entry *keys_for(iter_t *it, const ldns_rdf *target) {
  for (size_t i = 0; i < it->nkz; i++)
    if (name_equal(it->kz[i].target, target)) return &it->kz[i];
  const struct ta_entry *ta = anchor_of(it, target);
  if (!ta) {
    struct sec_result r = {.state = SEC_INSECURE, .ede = -1};
    return kz_add(it, target, target, &r, NULL);
  }
  forget_want(it);
  size_t floor = ldns_dname_label_count(ta->zone);
  ldns_rdf *anc = ldns_rdf_clone(target);
  int64_t now = now_sec(it);
  const struct kz_entry *found = NULL;
  while (anc && it->env->keys) {
    struct key_entry ke;
    if (keycache_lookup(it->env->keys, anc, now, &ke) == 0) {
      if (name_equal(anc, target) || ke.result.state != SEC_SECURE) {
        found = kz_add(it, target, anc, &ke.result, ke.keys);
      } else { /* a trusted zone above: walk on from there */
        it->want_from = ldns_rdf_clone(anc);
        it->want_keys = ke.keys;
        it->want_ttl = ke.ttl;
        ke.keys = NULL;
      }
      if (ke.keys) ldns_rr_list_deep_free(ke.keys);
      break;
    }
    if (ldns_dname_label_count(anc) <= floor) break;
    ldns_rdf *up = ldns_dname_left_chop(anc);
    ldns_rdf_deep_free(anc);
    anc = up;
  }
  if (anc) ldns_rdf_deep_free(anc);
  if (!found) it->want_zone = ldns_rdf_clone(target);
  return found;
}

static void bogus_text(struct sec_result *out, int ede, const ldns_rdf *zone, const char *why) {
  char z[256];
  out->state = SEC_BOGUS;
  out->ede = ede;
  snprintf(out->why, sizeof out->why, "zone %s: %s", name_str(zone, z, sizeof z), why);
}

/* Can `signer` speak for data at `owner`? It must lie at or above the
 * owner, at or below the zone asked, and at or below the owner's closest
 * trust anchor (a zone above an anchor cannot sign for names under it). */
static bool signer_usable(const iter_t *it, const ldns_rdf *owner, const ldns_rdf *signer) {
  if (!signer || ldns_rdf_get_type(signer) != LDNS_RDF_TYPE_DNAME || !name_in(owner, signer) ||
      !name_in(signer, it->judge_zone))
    return false;
  bool negative;
  const struct ta_entry *ta = ta_closest(it->env->anchors, owner, &negative);
  return !ta || name_in(signer, ta->zone);
}

/* The first usable signer among these RRSIGs over data at owner; NULL: the
 * data is unsigned, as far as validation goes. */
static const ldns_rdf *usable_signer(const iter_t *it, const ldns_rdf *owner,
                                     const ldns_rr_list *sigs) {
  for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs); i++) {
    const ldns_rdf *signer = ldns_rr_rrsig_signame(ldns_rr_list_rr(sigs, i));
    if (signer_usable(it, owner, signer)) return signer;
  }
  return NULL;
}

/* The response's NSEC/NSEC3 RRsets of `zone` whose signatures verify with
 * its keys (shallow list, never NULL); *failed gets the reason of the first
 * that did not. */
static ldns_rr_list *verified_nsecs(const struct resp_info *info, const struct kz_entry *kz,
                                    time_t now, struct sec_result *failed) {
  ldns_rr_list *out = ldns_rr_list_new();
  size_t n = info->nsecs ? ldns_rr_list_rr_count(info->nsecs) : 0;
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(info->nsecs, i);
    bool seen = !name_in(ldns_rr_owner(rr), kz->zone);
    for (size_t j = 0; j < i && !seen; j++) {
      const ldns_rr *o = ldns_rr_list_rr(info->nsecs, j);
      seen = ldns_rr_get_type(o) == ldns_rr_get_type(rr) &&
             name_equal(ldns_rr_owner(o), ldns_rr_owner(rr));
    }
    if (seen) continue;
    ldns_rr_list *set = resp_rrset(info->nsecs, ldns_rr_owner(rr), ldns_rr_get_type(rr));
    struct sec_result r;
    dnssec_verify_rrset(set, info->sigs, kz->zone, kz->keys, now, NULL, &r);
    if (r.state == SEC_SECURE) {
      for (size_t k = 0; k < ldns_rr_list_rr_count(set); k++)
        ldns_rr_list_push_rr(out, ldns_rr_list_rr(set, k));
    } else if (failed->state != SEC_BOGUS) {
      *failed = r;
    }
    ldns_rr_list_free(set);
  }
  return out;
}

/* The keys for data at owner, signed by `signer` (NULL: unsigned): false
 * when a trust walk is needed first. Else *kz is the entry, or NULL with
 * *out set when that entry already decides (insecure, bogus, or a signer
 * that is no zone). */
static bool keys_for_item(iter_t *it, const ldns_rdf *owner, const ldns_rdf *signer,
                          const struct kz_entry **kz, struct sec_result *out) {
  *kz = keys_for(it, signer ? signer : owner);
  if (!*kz) return false;
  if ((*kz)->r.state != SEC_SECURE) {
    *out = (*kz)->r;
    if (out->state != SEC_BOGUS) {
      out->state = SEC_INSECURE;
      out->ede = -1;
    }
    *kz = NULL;
  } else if (signer && !name_equal((*kz)->zone, signer)) {
    char o[256], sg[256], msg[240];
    snprintf(msg, sizeof msg, "the RRSIGs over %.90s name signer %.90s, no zone", name_str(owner, o, sizeof o),
             name_str(signer, sg, sizeof sg));
    bogus_text(out, EDE_DNSSEC_BOGUS, (*kz)->zone, msg);
    *kz = NULL;
  }
  return true;
}

/* One RRset of the response, judged with the keys of its signer (or of the
 * zone holding its owner), a wildcard expansion with its proof. False when
 * keys are missing (a walk is needed); else *out holds the verdict. */
/* The name a DS RRset (or a DS denial) at `name` speaks for: the parent
 * side of the cut (RFC 4035 3.1.4.1), so its anchor and its signer are
 * those above it. A view into name's bytes; the root stays the root. */
static ldns_rdf ds_side(const ldns_rdf *name) {
  ldns_rdf r = *name;
  const uint8_t *w = ldns_rdf_data(name);
  if (ldns_rdf_size(name) > 1 && w[0]) {
    ldns_rdf_set_data(&r, (void *)(w + w[0] + 1));
    ldns_rdf_set_size(&r, ldns_rdf_size(name) - w[0] - 1u);
  }
  return r;
}

static bool judge_rrset(iter_t *it, const ldns_rr_list *set, const struct resp_info *info,
                        time_t now, struct sec_result *out) {
  const ldns_rr *first = ldns_rr_list_rr(set, 0);
  const ldns_rdf *owner = ldns_rr_owner(first);
  ldns_rdf above = ds_side(owner);
  const ldns_rdf *at = ldns_rr_get_type(first) == LDNS_RR_TYPE_DS ? &above : owner;
  ldns_rr_list *own = sigs_of(info, owner, ldns_rr_get_type(first));
  const ldns_rdf *signer = usable_signer(it, at, own);
  if (own) ldns_rr_list_free(own);
  const struct kz_entry *kz;
  if (!keys_for_item(it, at, signer, &kz, out)) return false;
  if (!kz) return true;
  uint8_t labels = 0;
  dnssec_verify_rrset(set, info->sigs, kz->zone, kz->keys, now, &labels, out);
  if (out->state != SEC_SECURE || labels >= ldns_dname_label_count(owner)) return true;
  struct sec_result nsec_fail = {.state = SEC_INDETERMINATE, .ede = -1};
  ldns_rr_list *vn = verified_nsecs(info, kz, now, &nsec_fail);
  struct denial_why why = {{0}};
  enum denial_result d = denial_wildcard_answer(owner, labels, kz->zone, vn, &why);
  if (d == DENIAL_OPTOUT || d == DENIAL_NSEC3_ITERATIONS) {
    out->state = SEC_INSECURE;
  } else if (d != DENIAL_PROVEN) {
    char o[256], msg[240];
    snprintf(msg, sizeof msg, "wildcard answer for %s without proof: %s",
             name_str(owner, o, sizeof o), why.text);
    bogus_text(out, ldns_rr_list_rr_count(vn) ? EDE_DNSSEC_BOGUS : EDE_NSEC_MISSING, kz->zone,
               msg);
  }
  ldns_rr_list_free(vn);
  return true;
}

/* A proven negative answer: its verified NSEC records (with their RRSIGs)
 * join the NSEC cache for aggressive use (RFC 8198), for as long as the
 * zone's negative TTL allows, and the zone's SOA is kept (secure) so an
 * answer synthesised from them has one. NSEC3 ranges are not used, as in
 * Unbound. */
static void keep_nsecs(iter_t *it, const struct resp_info *info, const ldns_rdf *zone,
                       const ldns_rr_list *vn) {
  if (!it->env->nsecs || !info->soa || ldns_rr_rd_count(info->soa) < 7 ||
      !name_equal(ldns_rr_owner(info->soa), zone))
    return;
  ldns_rr_list *l = ldns_rr_list_new();
  for (size_t i = 0; i < ldns_rr_list_rr_count(vn); i++) {
    ldns_rr *rr = ldns_rr_list_rr(vn, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC) continue;
    ldns_rr_list_push_rr(l, rr);
    ldns_rr_list *sigs = sigs_of(info, ldns_rr_owner(rr), LDNS_RR_TYPE_NSEC);
    for (size_t k = 0; sigs && k < ldns_rr_list_rr_count(sigs); k++)
      ldns_rr_list_push_rr(l, ldns_rr_list_rr(sigs, k));
    if (sigs) ldns_rr_list_free(sigs);
  }
  if (ldns_rr_list_rr_count(l)) {
    int64_t now = now_sec(it);
    uint32_t cap = ldns_rr_ttl(info->soa);
    uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(info->soa, 6));
    if (minimum < cap) cap = minimum;
    nseccache_store(it->env->nsecs, zone, l, cap, now);
    ldns_rr_list *soa = ldns_rr_list_new();
    ldns_rr_list_push_rr(soa, info->soa);
    ldns_rr_list *ssigs = sigs_of(info, ldns_rr_owner(info->soa), LDNS_RR_TYPE_SOA);
    cache_store_rrset_sec(it->env->cache, soa, ssigs, CACHE_SEC_SECURE, CACHE_RANK_ANSWER, now,
                          NULL);
    if (ssigs) ldns_rr_list_free(ssigs);
    ldns_rr_list_free(soa);
  }
  ldns_rr_list_free(l);
}

/* The signer of a negative answer: one usable signer of the RRSIGs over
 * its SOA or its NSEC/NSEC3 records. */
static const ldns_rdf *denial_signer(const iter_t *it, const struct resp_info *info,
                                     const ldns_rdf *at) {
  for (size_t i = 0; info->sigs && i < ldns_rr_list_rr_count(info->sigs); i++) {
    const ldns_rr *sig = ldns_rr_list_rr(info->sigs, i);
    ldns_rr_type t = ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig));
    const ldns_rdf *signer = ldns_rr_rrsig_signame(sig);
    if ((t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3) &&
        signer_usable(it, at, signer))
      return signer;
  }
  return NULL;
}

/* A negative answer's proof, for `qtype`. A client's DS query at a name
 * that is no zone cut is an ordinary NODATA, proven by a record inside the
 * zone; a DS NODATA speaks for the parent side (ds_side). Unsigned, it is
 * judged by the zone its SOA names (when that zone can speak for the
 * name), else by the zone holding the name. */
static bool judge_denial(iter_t *it, const struct resp_info *info, ldns_rr_type qtype,
                         time_t now, struct sec_result *out) {
  const ldns_rdf *name = info->final_name;
  ldns_rdf above = ds_side(name);
  const ldns_rdf *at = qtype == LDNS_RR_TYPE_DS && info->cls == RESP_NODATA ? &above : name;
  const ldns_rdf *signer = denial_signer(it, info, at), *owner = at;
  if (!signer && info->soa && name_in(at, ldns_rr_owner(info->soa)) &&
      name_in(ldns_rr_owner(info->soa), it->judge_zone)) {
    const struct ta_entry *ta = anchor_of(it, at);
    if (!ta || name_in(ldns_rr_owner(info->soa), ta->zone)) owner = ldns_rr_owner(info->soa);
  }
  const struct kz_entry *kz;
  if (!keys_for_item(it, owner, signer, &kz, out)) return false;
  if (!kz) return true;
  struct sec_result nsec_fail = {.state = SEC_INDETERMINATE, .ede = -1};
  ldns_rr_list *vn = verified_nsecs(info, kz, now, &nsec_fail);
  struct denial_why why = {{0}};
  enum denial_result d;
  bool inside = false;
  if (info->cls == RESP_NXDOMAIN) {
    d = denial_nxdomain(name, kz->zone, vn, &why);
  } else if (qtype == LDNS_RR_TYPE_DS) {
    d = denial_ds(name, kz->zone, vn, &inside, &why);
  } else {
    d = denial_nodata(name, qtype, kz->zone, vn, &why);
    if (d == DENIAL_NOT_PROVEN &&
        denial_wildcard_nodata(name, qtype, kz->zone, vn, NULL) == DENIAL_PROVEN)
      d = DENIAL_PROVEN;
  }
  memset(out, 0, sizeof *out);
  out->ede = -1;
  if (d == DENIAL_PROVEN) {
    out->state = SEC_SECURE;
    keep_nsecs(it, info, kz->zone, vn);
  } else if (d == DENIAL_OPTOUT || d == DENIAL_NSEC3_ITERATIONS) {
    out->state = SEC_INSECURE;
  } else if (nsec_fail.state == SEC_BOGUS) {
    *out = nsec_fail;
  } else {
    char n[256], msg[240];
    snprintf(msg, sizeof msg, "%s for %s not proven: %s",
             info->cls == RESP_NXDOMAIN ? "NXDOMAIN" : "NODATA", name_str(name, n, sizeof n),
             why.text);
    bogus_text(out, EDE_NSEC_MISSING, kz->zone, msg);
  }
  ldns_rr_list_free(vn);
  return true;
}

static void verdicts_init(struct verdicts *v) {
  memset(v, 0, sizeof *v);
  v->bad.ede = -1;
}

/* Record one RRset's verdict; false when it is bogus (the first bogus
 * one is the answer's reason). */
static bool note_verdict(struct verdicts *v, uint8_t *slot, const struct sec_result *r) {
  *slot = (uint8_t)(r->state == SEC_BOGUS ? SEC_INDETERMINATE : r->state);
  if (r->state != SEC_BOGUS) return true;
  v->bogus = true;
  v->bad = *r;
  return false;
}

/* Judge what a response says, RRset by RRset, each with its own signer's
 * keys: every CNAME and DNAME of the chain inside it, then the answer RRset
 * or a negative answer's proof for `qtype`. False when some keys are not
 * at hand (it->want_zone says whose; nothing is decided yet); else *v holds
 * the verdicts (all indeterminate when not validating). */
static bool judge(iter_t *it, const struct resp_info *info, ldns_rr_type qtype,
                  struct verdicts *v) {
  verdicts_init(v);
  if (!it->validate) return true;
  it->judge_zone = it->zone;
  time_t now = (time_t)now_sec(it);
  struct sec_result r;
  for (size_t i = 0; i < info->ncnames; i++) {
    ldns_rr_list *one = ldns_rr_list_new();
    ldns_rr_list_push_rr(one, info->dnames[i] ? info->dnames[i] : info->cnames[i]);
    bool ready = judge_rrset(it, one, info, now, &r);
    ldns_rr_list_free(one);
    if (!ready) return false;
    if (!note_verdict(v, &v->hop[i], &r)) return true;
  }
  if (info->cls == RESP_ANSWER) {
    if (!judge_rrset(it, info->answer, info, now, &r)) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->cls == RESP_NODATA || info->cls == RESP_NXDOMAIN) {
    if (!judge_denial(it, info, qtype, now, &r)) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->cls == RESP_YXDOMAIN && info->yx_dname) {
    ldns_rr_list *one = ldns_rr_list_new();
    ldns_rr_list_push_rr(one, info->yx_dname);
    bool ready = judge_rrset(it, one, info, now, &r);
    ldns_rr_list_free(one);
    if (!ready) return false;
    note_verdict(v, &v->final, &r);
  } else if (info->ncnames) {
    v->final = v->hop[info->ncnames - 1]; /* the chain goes on elsewhere */
  }
  return true;
}

/* The root name, for judging data no zone was asked for. */
static const ldns_rdf *root_name(void) {
  static uint8_t wire[1] = {0};
  static ldns_rdf root = {1, LDNS_RDF_TYPE_DNAME, wire};
  return &root;
}

/* An entry the shared tier handed over unchecked (no secret: whoever can
 * write to Redis could claim any state) is judged here like a response:
 * RRSIGs with its signer's keys, unsigned data by the zone holding it, a
 * negative entry by its proof. 1: cr->sec says the verdict, and the memory
 * tier keeps it; 0: keys are needed first (it->want_* set); -1: not usable
 * (bogus, or too many walks), so it is a miss. */
static int judge_cached(iter_t *it, const ldns_rdf *name, ldns_rr_type type,
                        struct cache_result *cr) {
  struct resp_info info;
  memset(&info, 0, sizeof info);
  info.final_name = name;
  info.sigs = ldns_rr_list_new();
  info.nsecs = ldns_rr_list_new();
  for (size_t i = 0; cr->sigs && i < ldns_rr_list_rr_count(cr->sigs); i++) {
    ldns_rr *rr = ldns_rr_list_rr(cr->sigs, i);
    ldns_rr_list_push_rr(ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG ? info.sigs : info.nsecs, rr);
  }
  it->judge_zone = root_name();
  time_t now = (time_t)now_sec(it);
  struct sec_result r;
  bool ready;
  if (cr->kind == CACHE_RRSET && !ldns_rr_list_rr_count(cr->rrs)) {
    r.state = SEC_BOGUS; /* nothing to judge */
    ready = true;
  } else if (cr->kind == CACHE_RRSET) {
    info.cls = RESP_ANSWER;
    ready = judge_rrset(it, cr->rrs, &info, now, &r);
  } else {
    info.cls = cr->kind == CACHE_NXDOMAIN ? RESP_NXDOMAIN : RESP_NODATA;
    info.soa = ldns_rr_list_rr_count(cr->rrs) ? ldns_rr_list_rr(cr->rrs, 0) : NULL;
    ready = judge_denial(it, &info, type, now, &r);
  }
  ldns_rr_list_free(info.sigs);
  ldns_rr_list_free(info.nsecs);
  info.sigs = info.nsecs = NULL;
  if (!ready) return ++it->walks > ITER_MAX_WALKS ? -1 : 0;
  it->walks = 0;
  COUNT(it, shared_checked);
  if (r.state != SEC_SECURE && r.state != SEC_INSECURE) return -1;
  cr->sec = (uint8_t)r.state;
  int64_t t = now_sec(it);
  if (cr->kind == CACHE_RRSET)
    cache_store_rrset_sec(it->env->cache, cr->rrs, cr->sigs, cr->sec, CACHE_RANK_ANSWER, t, NULL);
  else
    cache_store_negative_sec(it->env->cache, name, type, cr->kind == CACHE_NXDOMAIN, info.soa,
                             cr->sigs, cr->sec, CACHE_RANK_ANSWER, t, NULL);
  return 1;
}

/* A response that failed validation: SERVFAIL with the reason; nothing of
 * it is cached. */
static void fail_bogus(iter_t *it, const struct sec_result *v) {
  COUNT(it, dnssec_bogus);
  it->cur_sec = SEC_BOGUS;
  final_step(it, CHAIN_SRC_NETWORK, 0);
  set_answer_empty(it); /* nothing of a bogus chain goes out */
  finish(it, LDNS_RCODE_SERVFAIL, v->ede >= 0 ? v->ede : EDE_DNSSEC_BOGUS, "%s", v->why);
}

/* An answer, CNAME, NODATA or NXDOMAIN from the zone: cache and advance. */
static void take_answer(iter_t *it, const ldns_pkt *resp, struct resp_info *info,
                        const struct verdicts *v) {
  if (v->bogus) {
    fail_bogus(it, &v->bad);
    return;
  }
  uint32_t kept = store_answer(it, resp, info, it->qtype, v);
  for (size_t i = 0; i < info->ncnames; i++) {
    const ldns_rr *made = info->dnames[i] ? info->dnames[i] : info->cnames[i];
    ldns_rr_list *sigs = sigs_of(info, ldns_rr_owner(made), ldns_rr_get_type(made));
    it->cur_sec = v->hop[i];
    bool ok = info->dnames[i] ? follow_dname(it, info->dnames[i], info->cnames[i], sigs,
                                             CHAIN_SRC_NETWORK)
                              : follow(it, info->cnames[i], sigs, CHAIN_SRC_NETWORK);
    if (sigs) ldns_rr_list_free(sigs);
    if (!ok) return;
  }

  it->cur_sec = v->final;
  switch (info->cls) {
  case RESP_ANSWER: {
    const ldns_rr *first = ldns_rr_list_rr(info->answer, 0);
    ldns_rr_list *sigs = sigs_of(info, ldns_rr_owner(first), ldns_rr_get_type(first));
    ldns_rr_list *wproof = wildcard_proof(info);
    final_step(it, CHAIN_SRC_NETWORK, ldns_rr_ttl(first));
    set_answer_sigs(it, info->answer, sigs);
    set_ttls(it->res.answer, ldns_rr_list_rr_count(it->answer_chain), kept);
    set_proof(it, wproof);
    set_ttls(it->res.authority, 0, kept);
    if (sigs) ldns_rr_list_free(sigs);
    if (wproof) ldns_rr_list_free(wproof);
    finish(it, LDNS_RCODE_NOERROR, EDE_NONE, NULL);
    break;
  }
  case RESP_NODATA:
  case RESP_NXDOMAIN: {
    ldns_rr_list *proof = neg_proof(info);
    final_step(it, CHAIN_SRC_NETWORK, info->soa ? ldns_rr_ttl(info->soa) : 0);
    set_answer(it, NULL);
    set_authority(it, info->soa);
    set_proof(it, proof);
    if (info->soa) set_ttls(it->res.authority, 0, negative_ttl(it, info->soa));
    if (proof) ldns_rr_list_free(proof);
    finish(it, info->cls == RESP_NXDOMAIN ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NOERROR,
           EDE_NONE, NULL);
    break;
  }
  case RESP_YXDOMAIN:
    final_step(it, CHAIN_SRC_NETWORK, 0);
    set_answer(it, NULL);
    finish(it, LDNS_RCODE_YXDOMAIN, EDE_NONE, NULL);
    break;
  default: /* RESP_CNAME: the chain continues in another zone */
    it->cur_sec = SEC_INDETERMINATE;
    if (it->chain.n) it->chain.hops[it->chain.n - 1].crossed_zone = true;
    it->state = IS_CACHE;
    break;
  }
}

/* What a traced query got back, in words. */
static void trace_response(iter_t *it, const ldns_pkt *resp, const struct resp_info *info) {
  char name[256], rc[32];
  const char *cls = resp_class_name(info->cls);
  const ldns_rdf *last = info->ncnames ? ldns_rr_rdf(info->cnames[info->ncnames - 1], 0) : NULL;
  switch (info->cls) {
  case RESP_ANSWER:
    trace_end(it->trace, it->trace_idx, "answer: %zu record(s) after %zu CNAME(s)",
              ldns_rr_list_rr_count(info->answer), info->ncnames);
    break;
  case RESP_CNAME:
    trace_end(it->trace, it->trace_idx, "CNAME to %s: the chain leaves the zone",
              name_str(last, name, sizeof name));
    break;
  case RESP_REFERRAL:
    trace_end(it->trace, it->trace_idx, "referral to %s",
              name_str(info->referral_zone, name, sizeof name));
    break;
  case RESP_ERROR:
    snprintf(rc, sizeof rc, "%s", ldns_lookup_by_id(ldns_rcodes, info->rcode)
                                      ? ldns_lookup_by_id(ldns_rcodes, info->rcode)->name : "?");
    trace_end(it->trace, it->trace_idx, "rcode %s: trying another server", rc);
    break;
  case RESP_LAME:
    trace_end(it->trace, it->trace_idx, "lame (%s): trying another server", info->why);
    break;
  case RESP_YXDOMAIN:
    trace_end(it->trace, it->trace_idx, "YXDOMAIN: a DNAME makes the name too long");
    break;
  default:
    trace_end(it->trace, it->trace_idx, "%s%s after %zu CNAME(s)", cls,
              ldns_pkt_aa(resp) ? "" : " (no AA)", info->ncnames);
    break;
  }
}

/* The answer to a minimised query, but a referral: the name asked exists
 * below the zone without a cut (go one step deeper), or it does not exist,
 * or the server mishandled the minimised name. */
static void on_minimised(iter_t *it, struct candidate *c, const ldns_pkt *resp,
                         struct resp_info *info, const struct verdicts *v) {
  const struct iter_config *cfg = it->env->cfg;
  char name[256];
  name_str(it->sent, name, sizeof name);
  bool dname = false;
  for (size_t i = 0; i < info->ncnames; i++) dname |= info->dnames[i] != NULL;
  /* An NXDOMAIN after a CNAME is about the CNAME's target (RFC 6604), not
   * the name asked: that one exists. */
  bool exists = info->cls == RESP_ANSWER || info->cls == RESP_NODATA ||
                info->cls == RESP_CNAME || (info->cls == RESP_NXDOMAIN && info->ncnames);
  if (exists) {
    store_answer(it, resp, info, it->sent_type, NULL);
    if (it->trace)
      trace_end(it->trace, it->trace_idx, "%s: %s exists, no zone cut there: %s",
                resp_class_name(info->cls), name,
                dname ? "a DNAME above the name, now cached" : "one label more");
    it->qmin_labels = ldns_dname_label_count(it->sent);
    it->qmin_count++;
    c->tries--; /* progress, not a failed try: the server may be asked again */
    forget_sent(it);
    /* Nothing exists below a DNAME's owner (RFC 6672 2.3): the cached
     * DNAME rewrites the name instead of more queries. */
    if (dname && !it->nocache) it->state = IS_CACHE;
    return;
  }
  switch (info->cls) {
  case RESP_NXDOMAIN: {
    /* With nothing-below-nxdomain: dnssec, a validated NXDOMAIN ends it. */
    bool proven = v->final == SEC_SECURE && !v->bogus && cfg->nxcut == NXCUT_DNSSEC;
    if (cfg->qmin == QMIN_STRICT || cfg->nxcut == NXCUT_YES || proven) {
      if (v->bogus) {
        fail_bogus(it, &v->bad);
        return;
      }
      store_answer(it, resp, info, it->sent_type, v);
      if (it->trace)
        trace_end(it->trace, it->trace_idx, "nxdomain: nothing exists below %s (RFC 8020)",
                  name);
      ldns_rr_list *proof = neg_proof(info);
      it->cur_sec = v->final;
      final_step(it, CHAIN_SRC_NETWORK, info->soa ? ldns_rr_ttl(info->soa) : 0);
      set_answer(it, NULL);
      set_authority(it, info->soa);
      set_proof(it, proof);
      if (proof) ldns_rr_list_free(proof);
      finish(it, LDNS_RCODE_NXDOMAIN, EDE_NONE, NULL);
      return;
    }
    break;
  }
  default: /* error, lame, YXDOMAIN */
    if (cfg->qmin == QMIN_STRICT) {
      if (it->trace) trace_response(it, resp, info);
      c->failed = true;
      it->last_failure = info->cls == RESP_LAME ? "lame server" : "server failure";
      return;
    }
    break;
  }
  /* Relaxed (RFC 9156 2.3): some servers mishandle names that are not
   * the full one (NXDOMAIN for empty non-terminals, errors); ask this one
   * the full name. */
  COUNT(it, qmin_fallback);
  if (it->trace)
    trace_end(it->trace, it->trace_idx, "%s for the minimised name: asking the full name",
              resp_class_name(info->cls));
  it->qmin_full = true;
  forget_sent(it);
  c->tries--;
  it->retry_same = (int)it->cur;
}

static void handle_response(iter_t *it, const ldns_pkt *resp);

void iter_on_response(iter_t *it, const ldns_pkt *resp, uint32_t rtt_ms) {
  if (it->state != IS_WAIT) return;
  struct candidate *c = &it->cands[it->cur];
  const struct sockaddr *addr = (struct sockaddr *)&c->addr;
  servers_record_rtt(it->env->servers, addr, rtt_ms);
  it->state = IS_SELECT;

  if (ldns_pkt_tc(resp) && !c->tcp) {
    c->tcp = true; /* RFC 7766: retry the same server over TCP */
    c->tries--;
    it->retry_same = (int)it->cur;
    if (it->trace) trace_end(it->trace, it->trace_idx, "truncated (TC=1): retrying over TCP");
    return;
  }
  if (ldns_pkt_get_rcode(resp) == LDNS_RCODE_FORMERR && it->cur_edns) {
    servers_set_no_edns(it->env->servers, addr); /* retry once without OPT */
    c->tries--;
    it->retry_same = (int)it->cur;
    if (it->trace) trace_end(it->trace, it->trace_idx, "FORMERR: retrying without EDNS");
    return;
  }
  handle_response(it, resp);
}

/* A response that is no truncation or EDNS trouble: classify it; when it
 * must be validated and its zone's keys are not at hand, keep it and ask
 * for them (IS_TRUST; iter_on_trust comes back here); else act on it. */
static void handle_response(iter_t *it, const ldns_pkt *resp) {
  struct candidate *c = &it->cands[it->cur];
  const struct sockaddr *addr = (struct sockaddr *)&c->addr;
  struct resp_info info;
  resp_classify(resp, it->sent, it->sent_type, it->zone, &info);
  struct verdicts v;
  verdicts_init(&v);
  bool judged = !needs_keys(it, &info) || judge(it, &info, it->sent_type, &v);
  if (judged) it->walks = 0; /* the bound is per response */
  if (!judged) {
    resp_info_clear(&info);
    if (++it->walks > ITER_MAX_WALKS) {
      struct sec_result r;
      bogus_text(&r, EDE_DNSSEC_BOGUS, it->zone,
                 "the response needs the keys of more zones than a lookup may walk to");
      fail_bogus(it, &r);
      return;
    }
    it->pending = ldns_pkt_clone(resp);
    it->state = it->pending && it->want_zone ? IS_TRUST : IS_SELECT;
    return;
  }
  if (it->sent_minimised && info.cls != RESP_REFERRAL) {
    on_minimised(it, c, resp, &info, &v);
    resp_info_clear(&info);
    return;
  }
  if (it->trace) trace_response(it, resp, &info);
  char zn[256], sa[64];
  log_debug("response from %s for zone %s: %s", util_addr_str(addr, sa, sizeof sa),
            name_str(it->zone, zn, sizeof zn), resp_class_name(info.cls));
  switch (info.cls) {
  case RESP_ERROR:
  case RESP_LAME:
    c->failed = true;
    it->last_failure = info.cls == RESP_LAME ? "lame server" : "server failure";
    break;
  case RESP_REFERRAL: {
    int64_t now = now_sec(it);
    /* Every minimised query answered counts toward the bound, referrals
     * too: a name crossing many cuts (ip6.arpa) still sends at most
     * QMIN_MAX_QUERIES. */
    if (it->sent_minimised) it->qmin_count++;
    cache_store_rrset(it->env->cache, info.ns, CACHE_RANK_REFERRAL, now, it->env->sink);
    if (info.glue) store_grouped(it, info.glue, CACHE_RANK_GLUE, NULL, 0);
    /* The child's DS, signed by this zone, comes with a signed referral:
     * kept (unchecked, with its RRSIGs), a trust walk to the child finds it
     * here instead of asking. */
    if (info.ds) store_grouped(it, info.ds, CACHE_RANK_ANSWER, info.sigs, CACHE_SEC_INDETERMINATE);
    ldns_rdf *child = ldns_rdf_clone(info.referral_zone);
    load_zone(it, child, info.ns, info.glue);
    ldns_rdf_deep_free(child);
    if (!zone_usable(it)) {
      it->last_failure = "referral without usable servers";
      fail_zone(it);
    }
    break;
  }
  default:
    take_answer(it, resp, &info, &v);
    break;
  }
  resp_info_clear(&info);
}

void iter_on_timeout(iter_t *it) {
  if (it->state != IS_WAIT) return;
  struct candidate *c = &it->cands[it->cur];
  servers_record_timeout(it->env->servers, (struct sockaddr *)&c->addr, mono_ms(it));
  it->zone_timeouts++;
  it->zone_waited_ms += it->cur_timeout_ms;
  it->last_failure = "all servers timed out";
  it->state = IS_SELECT;
  if (it->trace) trace_end(it->trace, it->trace_idx, "timeout after %u ms", it->cur_timeout_ms);
}

void iter_on_error(iter_t *it, const char *why) {
  if (it->state != IS_WAIT) return;
  if (it->trace) trace_end(it->trace, it->trace_idx, "error: %s", why);
  it->cands[it->cur].failed = true;
  it->last_failure = why;
  it->state = IS_SELECT;
}

void iter_on_sub_done(iter_t *it, const struct iter_result *sub, uint32_t gen) {
  if (it->state == IS_DONE || gen != it->zone_gen || !it->subs_pending) return;
  it->subs_pending--;
  bool found = sub && sub->rcode == LDNS_RCODE_NOERROR && add_candidates(it, sub->answer);
  /* Go on at the first address; with none yet, when the last lookup ends. */
  if (it->state == IS_WAIT_SUB && (found || !it->subs_pending)) it->state = IS_SELECT;
}

void iter_on_deadline(iter_t *it) {
  if (it->state == IS_DONE) return;
  it->res.timed_out = true;
  char zone[256];
  set_answer(it, NULL);
  finish(it, LDNS_RCODE_SERVFAIL, EDE_NO_REACHABLE_AUTHORITY,
         "resolution deadline reached while asking %s (%s)",
         it->zone ? name_str(it->zone, zone, sizeof zone) : ".",
         it->last_failure ? it->last_failure : "no answer yet");
}

const struct iter_result *iter_result(const iter_t *it) { return &it->res; }
const chain_t *iter_chain(const iter_t *it) { return &it->chain; }
ldns_rr_type iter_qtype(const iter_t *it) { return it->qtype; }

void iter_set_trace(iter_t *it, struct trace *t, bool nocache) {
  it->trace = t;
  it->trace_idx = -1;
  it->nocache = nocache;
}

struct trace *iter_trace(const iter_t *it) { return it->trace; }
bool iter_nocache(const iter_t *it) { return it->nocache; }

void iter_set_refresh(iter_t *it) { it->refresh = true; }

void iter_set_cd(iter_t *it) { it->validate = false; }

void iter_on_trust(iter_t *it, const struct sec_result *res, const ldns_rdf *zone,
                   const ldns_rr_list *keys) {
  if (it->state != IS_WAIT_TRUST) return;
  if (it->want_zone) kz_add(it, it->want_zone, zone ? zone : it->want_zone, res, keys);
  forget_want(it);
  ldns_pkt *p = it->pending;
  it->pending = NULL;
  it->state = it->pending_cached ? IS_CACHE : IS_SELECT;
  it->pending_cached = false;
  if (p) {
    handle_response(it, p);
    ldns_pkt_free(p);
  }
}

void iter_set_stale(iter_t *it, uint32_t stale_ttl) {
  it->stale_mode = true;
  it->stale_ttl = stale_ttl;
}
bool iter_done(const iter_t *it) { return it->state == IS_DONE; }
