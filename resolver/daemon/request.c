/*
 * Resolution driver: iterator actions become upstream queries and
 * sub-lookups; identical client questions share one resolution; every
 * top-level request has a deadline. See request.h.
 */
#include "resolver/daemon/request.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/lib/log.h"
#include "resolver/lib/name.h"
#include "resolver/daemon/observe.h"
#include "resolver/core/trace.h"
#include "resolver/dnssec/trust.h"
#include "resolver/lib/util.h"
#include "resolver/daemon/worker_priv.h"

struct req_client {
  struct req_client *next;
  request_cb cb;
  void *arg;
};

struct request {
  struct request *hnext; /* worker table chain (top-level only) */
  struct worker *w;
  struct request *parent;           /* set on glueless NS sub-lookups */
  struct request *children, *sibling; /* this one's sub-lookups */
  struct request *qnext;            /* the worker's start queue */
  bool queued;                      /* on that queue, not started yet */
  uint32_t sub_gen;                 /* the parent's zone it was asked for */
  iter_t *it;
  up_waiter_t *upw;      /* the upstream query this request waits for */
  redis_lookup_t *fetch; /* the shared-tier lookup it waits for */
  uint32_t depth;
  uint32_t budget;       /* top-level: upstream queries left for the tree */
  uint8_t key[260];
  size_t klen;
  uint64_t hash;
  bool in_table;
  struct req_client *clients;
  uv_timer_t deadline;   /* top-level only */
  bool has_timer;
  uint64_t start_us;     /* when the resolution began */
  bool prefetch;         /* a background refresh (no clients) */
  bool trust_sub;        /* a DNSKEY or DS fetch for the parent's trust walk */
  trust_walk_t *walk;    /* the trust walk under way for this request's iterator */
  ldns_rdf *walk_zone;   /* the zone it walks to */
  trace_done_cb traced;  /* a traced request: its callback, and the trace */
  void *traced_arg;
  struct trace *trace;
};

static void drive(struct request *r);
static void feed_walk(struct request *p, struct request *c);
static bool walk_step(struct request *r);
static void on_start(uv_timer_t *t);

static size_t make_key(const ldns_rdf *qname, ldns_rr_type qtype, uint8_t *key) {
  size_t n = name_key(qname, key);
  key[n] = (uint8_t)(qtype >> 8);
  key[n + 1] = (uint8_t)qtype;
  return n + 2;
}

static uint64_t hash_bytes(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
  return h;
}

static struct request *new_request(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype,
                                   uint32_t depth, uint32_t *budget) {
  struct request *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  r->w = w;
  r->depth = depth;
  r->start_us = util_mono_us();
  r->budget = w->cfg->max_upstream_queries;
  r->it = iter_new(&w->env, qname, qtype, depth, budget ? budget : &r->budget);
  if (!r->it) {
    free(r);
    return NULL;
  }
  return r;
}

static void on_timer_closed(uv_handle_t *h) { free(h->data); }

static void unqueue(struct request *r) {
  struct request **pp = &r->w->start_queue;
  while (*pp && *pp != r) pp = &(*pp)->qnext;
  if (*pp) *pp = r->qnext;
  r->queued = false;
}

static void free_request(struct request *r) {
  if (r->queued) unqueue(r);
  trust_walk_free(r->walk);
  if (r->walk_zone) ldns_rdf_deep_free(r->walk_zone);
  iter_free(r->it);
  free(r->trace);
  struct req_client *c = r->clients;
  while (c) {
    struct req_client *next = c->next;
    free(c);
    c = next;
  }
  if (r->has_timer) {
    uv_timer_stop(&r->deadline);
    r->deadline.data = r;
    uv_close((uv_handle_t *)&r->deadline, on_timer_closed);
  } else {
    free(r);
  }
}

/* Traced requests and prefetches have lists of their own: no client joins
 * them. */
static struct request **list_of(struct request *r) {
  if (r->traced) return &r->w->traced;
  if (r->prefetch) return &r->w->prefetches;
  return &r->w->requests[r->hash % WORKER_REQ_BUCKETS];
}

static void table_insert(struct request *r) {
  struct request **b = list_of(r);
  r->hnext = *b;
  *b = r;
  r->in_table = true;
  r->w->stats.in_flight++;
}

static void table_remove(struct request *r) {
  if (!r->in_table) return;
  struct request **pp = list_of(r);
  while (*pp && *pp != r) pp = &(*pp)->hnext;
  if (*pp) *pp = r->hnext;
  r->in_table = false;
  r->w->stats.in_flight--;
}

/* Stop r's sub-lookups, and theirs. */
static void cancel_children(struct request *r) {
  struct request *c = r->children;
  r->children = NULL;
  while (c) {
    struct request *next = c->sibling;
    cancel_children(c);
    upstream_cancel(c->upw);
    redis_tier_cancel(c->fetch);
    free_request(c);
    c = next;
  }
}

/* Stop everything below r: its upstream query, its fetch, its sub-lookups. */
static void cancel_descendants(struct request *r) {
  upstream_cancel(r->upw);
  r->upw = NULL;
  redis_tier_cancel(r->fetch);
  r->fetch = NULL;
  cancel_children(r);
}

static void count_outcome(struct request *r, const struct iter_result *res, const chain_t *ch) {
  r->w->stats.dnssec_answers[res->sec & 3]++;
  if (r->w->cfg->instrumentation)
    observe_request(&r->w->stats, r->w->zones, r->w->chains, res, ch, iter_qtype(r->it),
                    util_mono_us() - r->start_us);
  else
    r->w->stats.requests++;
}

/* Everything the trace caller needs, copied out before the request goes. */
static char **rr_texts(const ldns_rr_list *l) {
  size_t n = l ? ldns_rr_list_rr_count(l) : 0;
  char **out = calloc(n + 1, sizeof *out);
  for (size_t i = 0; out && i < n; i++) out[i] = ldns_rr2str(ldns_rr_list_rr(l, i));
  return out;
}

static void finish_traced(struct request *r, const struct iter_result *res, const chain_t *ch) {
  struct trace_result *tr = calloc(1, sizeof *tr);
  if (tr) {
    tr->duration_us = util_mono_us() - r->start_us;
    observe_chain_rec(res, ch, iter_qtype(r->it), tr->duration_us, &tr->chain);
    tr->rcode = res->rcode;
    tr->ede = res->ede;
    snprintf(tr->ede_text, sizeof tr->ede_text, "%s", res->ede_text);
    tr->answer = rr_texts(res->answer);
    tr->authority = rr_texts(res->authority);
    tr->upstream_queries = r->w->cfg->max_upstream_queries - r->budget;
    tr->trace = r->trace;
    r->trace = NULL; /* handed over */
  }
  r->traced(r->traced_arg, tr);
  free_request(r);
}

/* Serve-stale (RFC 8767): when a resolution fails for want of answers
 * (not a loop or an over-long chain), answer from cached data that expired
 * within the stale window, if the cache holds the whole chain. Returns the
 * stale-mode iterator that answered, or NULL. */
static iter_t *stale_answer(struct request *r) {
  const struct config *cfg = r->w->cfg;
  const struct iter_result *res = iter_result(r->it);
  if (!cfg->serve_stale || res->rcode != LDNS_RCODE_SERVFAIL || res->sec == SEC_BOGUS ||
      res->chain_status == CHAIN_LOOP || res->chain_status == CHAIN_TOO_LONG)
    return NULL;
  iter_t *it = iter_new(&r->w->env, iter_chain(r->it)->start, iter_qtype(r->it), 0, NULL);
  if (!it) return NULL;
  iter_set_stale(it, cfg->stale_answer_ttl);
  struct iter_action act;
  iter_next(it, &act);
  const struct iter_result *sr = iter_result(it);
  if (act.kind != IA_DONE || !sr->stale ||
      (sr->rcode != LDNS_RCODE_NOERROR && sr->rcode != LDNS_RCODE_NXDOMAIN)) {
    iter_free(it);
    return NULL;
  }
  return it;
}

static void finish(struct request *r) {
  const struct iter_result *res = iter_result(r->it);
  cancel_children(r); /* lookups still out are of no use now */
  if (r->parent) {
    struct request *p = r->parent, **pp = &p->children;
    while (*pp != r) pp = &(*pp)->sibling;
    *pp = r->sibling;
    if (r->trust_sub) {
      feed_walk(p, r);
      free_request(r);
      if (!walk_step(p)) drive(p);
      return;
    }
    iter_on_sub_done(p->it, res, r->sub_gen);
    free_request(r);
    drive(p);
    return;
  }
  table_remove(r);
  const chain_t *ch = iter_chain(r->it);
  if (r->traced) {
    finish_traced(r, res, ch);
    return;
  }
  if (r->prefetch) {
    r->w->nprefetch--;
    bool ok = res->rcode == LDNS_RCODE_NOERROR || res->rcode == LDNS_RCODE_NXDOMAIN;
    r->w->stats.prefetch[ok ? SPF_REFRESHED : SPF_FAILED]++;
    free_request(r);
    return;
  }
  iter_t *stale = stale_answer(r);
  if (stale) {
    /* The stale answer, with EDE 3 saying so and why. */
    struct iter_result sres = *iter_result(stale);
    const chain_t *sch = iter_chain(stale);
    char n[256];
    sres.ede = EDE_STALE_ANSWER;
    snprintf(sres.ede_text, sizeof sres.ede_text, "stale answer for %s: %.300s",
             name_str(ch->start, n, sizeof n), res->ede_text[0] ? res->ede_text : "SERVFAIL");
    r->w->stats.stale_answers++;
    count_outcome(r, &sres, sch);
    log_info("%s", sres.ede_text);
    for (struct req_client *c = r->clients; c; c = c->next) c->cb(c->arg, &sres, sch);
    iter_free(stale);
    free_request(r);
    return;
  }
  count_outcome(r, res, ch);
  if (res->ede >= 0) {
    char n[256];
    log_info("SERVFAIL for %s: %s", name_str(ch->start, n, sizeof n), res->ede_text);
  }
  for (struct req_client *c = r->clients; c; c = c->next) c->cb(c->arg, res, ch);
  /* Served from the caches with a record near expiry: refresh it now. */
  bool refresh = res->source != CHAIN_SRC_NETWORK && res->prefetch_at &&
                 util_now_sec() >= res->prefetch_at;
  ldns_rdf *qname = refresh ? ldns_rdf_clone(ch->start) : NULL;
  ldns_rr_type qtype = iter_qtype(r->it);
  struct worker *w = r->w;
  free_request(r);
  if (qname) {
    request_prefetch(w, qname, qtype);
    ldns_rdf_deep_free(qname);
  }
}

/* ---- DNSSEC: trust walks ------------------------------------------------------ */

/* Queue a sub-lookup of r (started on the next turn of the loop). */
static void queue_child(struct request *r, struct request *c) {
  iter_set_trace(c->it, iter_trace(r->it), iter_nocache(r->it));
  c->parent = r;
  c->sibling = r->children;
  r->children = c;
  c->qnext = r->w->start_queue;
  r->w->start_queue = c;
  c->queued = true;
  if (!uv_is_active((uv_handle_t *)&r->w->start_timer))
    uv_timer_start(&r->w->start_timer, on_start, 0, 0);
}

/* Hand what a DNSKEY or DS fetch found to the walk: the RRset asked for,
 * every RRSIG, and the NSEC/NSEC3 of a NODATA's or (for a DS) an
 * NXDOMAIN's proof. A failure, or an answer that is no RRset of that name
 * (a CNAME), ends the walk bogus. */
static void feed_walk(struct request *p, struct request *c) {
  const struct iter_result *res = iter_result(c->it);
  const chain_t *ch = iter_chain(c->it);
  ldns_rr_type qtype = iter_qtype(c->it);
  if (!p->walk) return;
  bool nx = res->rcode == LDNS_RCODE_NXDOMAIN && qtype == LDNS_RR_TYPE_DS;
  if ((res->rcode != LDNS_RCODE_NOERROR && !nx) || ch->n) {
    char n[256], why[400];
    const ldns_lookup_table *rc = ldns_lookup_by_id(ldns_rcodes, (int)res->rcode);
    snprintf(why, sizeof why, "%s of %s: %s%s%.300s", qtype == LDNS_RR_TYPE_DS ? "DS" : "DNSKEY",
             name_str(ch->start, n, sizeof n), ch->n ? "a CNAME" : rc ? rc->name : "error",
             res->ede_text[0] ? ", " : "", res->ede_text);
    trust_on_failure(p->walk, why);
    return;
  }
  ldns_rr_list *rrset = ldns_rr_list_new(), *sigs = ldns_rr_list_new();
  ldns_rr_list *denial = ldns_rr_list_new();
  const ldns_rr_list *sections[2] = {res->answer, res->authority};
  for (int s = 0; s < 2; s++) {
    for (size_t i = 0; sections[s] && i < ldns_rr_list_rr_count(sections[s]); i++) {
      ldns_rr *rr = ldns_rr_list_rr(sections[s], i);
      ldns_rr_type t = ldns_rr_get_type(rr);
      if (t == LDNS_RR_TYPE_RRSIG) ldns_rr_list_push_rr(sigs, rr);
      else if (s == 1 && (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3))
        ldns_rr_list_push_rr(denial, rr);
      else if (s == 0 && t == qtype && name_equal(ldns_rr_owner(rr), ch->start))
        ldns_rr_list_push_rr(rrset, rr);
    }
  }
  if (nx) trust_on_nxdomain(p->walk, sigs, denial);
  else trust_on_answer(p->walk, rrset, sigs, denial);
  ldns_rr_list_free(rrset);
  ldns_rr_list_free(sigs);
  ldns_rr_list_free(denial);
}

/* Step r's walk: start its next fetch (true: r waits for it), or, when it
 * is over, keep the result in the key cache and hand it to the iterator
 * (false: step the iterator). */
static bool walk_step(struct request *r) {
  struct trust_action ta;
  trust_next(r->walk, &ta);
  if (ta.kind == TRUST_FETCH) {
    struct request *top = r;
    while (top->parent) top = top->parent;
    struct request *c = new_request(r->w, ta.qname, ta.qtype, r->depth + 1, &top->budget);
    if (c) {
      c->trust_sub = true;
      queue_child(r, c);
      return true;
    }
    trust_on_failure(r->walk, "out of memory");
    trust_next(r->walk, &ta);
  }
  const struct sec_result *res = trust_result(r->walk);
  uint32_t ttl = trust_ttl(r->walk);
  /* Kept under the zone the result belongs to (the zone holding the
   * target, or where it turned insecure or bogus), so names below it find
   * it too. */
  if (r->w->env.keys && ttl)
    keycache_store(r->w->env.keys, trust_zone(r->walk), res, trust_keys(r->walk), ttl,
                   util_now_sec());
  r->w->stats.dnssec_walks[res->state & 3]++;
  if (res->state == SEC_BOGUS) {
    char n[256];
    log_info("DNSSEC: chain of trust to %s is bogus: %s",
             name_str(trust_zone(r->walk), n, sizeof n), res->why);
  }
  iter_on_trust(r->it, res, trust_zone(r->walk), trust_keys(r->walk));
  trust_walk_free(r->walk);
  r->walk = NULL;
  ldns_rdf_deep_free(r->walk_zone);
  r->walk_zone = NULL;
  return false;
}

/* IA_TRUST: the iterator needs the keys that speak for act->zone, which
 * it has just failed to find in the key cache: walk the chain of trust from
 * the closest anchor, or from the trusted zone above it the key cache
 * knows. Returns as perform() does. */
static bool start_walk(struct request *r, const struct iter_action *act) {
  trust_walk_free(r->walk);
  if (r->walk_zone) ldns_rdf_deep_free(r->walk_zone);
  r->walk = trust_walk_new_from(r->w->env.anchors, act->zone, (time_t)util_now_sec(),
                                act->trust_from, act->trust_keys, act->trust_ttl);
  r->walk_zone = ldns_rdf_clone(act->zone);
  if (!r->walk || !r->walk_zone) {
    struct sec_result fail = {.state = SEC_BOGUS, .ede = EDE_DNSSEC_INDETERMINATE,
                              .why = "out of memory for a trust walk"};
    iter_on_trust(r->it, &fail, NULL, NULL);
    return false;
  }
  return walk_step(r);
}

static void on_upstream(void *arg, enum up_status st, const ldns_pkt *resp, uint32_t rtt_ms) {
  struct request *r = arg;
  r->upw = NULL;
  if (st == UP_OK) iter_on_response(r->it, resp, rtt_ms);
  else if (st == UP_TIMEOUT) iter_on_timeout(r->it);
  else iter_on_error(r->it, "network error");
  drive(r);
}

static void on_fetched(void *arg, const struct fetch_result *res) {
  struct request *r = arg;
  r->fetch = NULL;
  iter_on_fetch_done(r->it, res);
  drive(r);
}

/* The start queue: sub-lookups begin on the next turn of the loop, not
 * inside their parent's step, so one answered from the cache at once can
 * finish its parent (and cancel its siblings) without pulling the ground
 * from under a loop still starting them. */
static void on_start(uv_timer_t *t) {
  struct worker *w = t->data;
  while (w->start_queue) {
    struct request *c = w->start_queue;
    w->start_queue = c->qnext;
    c->queued = false;
    drive(c);
  }
}

static void start_subs(struct request *r, const struct iter_action *act) {
  struct request *top = r;
  while (top->parent) top = top->parent;
  for (size_t i = 0; i < act->nsub; i++) {
    struct request *c = new_request(r->w, act->sub_names[i], act->qtype, r->depth + 1,
                                    &top->budget);
    if (!c) {
      iter_on_sub_done(r->it, NULL, act->sub_gen);
      continue;
    }
    c->sub_gen = act->sub_gen;
    queue_child(r, c);
  }
}

/* Carry out a SEND, FETCH or SUB action. Returns true when r now waits for an
 * event (or was finished by a sub-lookup that completed at once and must not
 * be touched), false when the iterator has been told of a failure and should
 * be stepped again. */
static bool perform(struct request *r, const struct iter_action *act) {
  if (act->kind == IA_SEND) {
    r->upw = upstream_query(r->w->up, act->addr, act->addrlen, act->qname, act->qtype,
                            act->tcp, act->edns, act->timeout_ms, on_upstream, r);
    if (r->upw) return true;
    iter_on_error(r->it, "cannot send");
    return false;
  }
  if (act->kind == IA_FETCH) {
    if (r->w->tier)
      r->fetch = redis_tier_lookup(r->w->tier, act->keys, act->nkeys, on_fetched, r);
    if (r->fetch) return true;
    iter_on_fetch_done(r->it, NULL); /* not sent: a miss, at once */
    return false;
  }
  if (act->kind == IA_TRUST) return start_walk(r, act);
  start_subs(r, act);
  return true;
}

static void drive(struct request *r) {
  struct iter_action act;
  do {
    iter_next(r->it, &act);
    if (act.kind == IA_NONE) return; /* still waiting for something */
    if (act.kind == IA_DONE) {
      finish(r);
      return;
    }
  } while (!perform(r, &act));
}

static void on_deadline(uv_timer_t *t) {
  struct request *r = t->data;
  cancel_descendants(r);
  iter_on_deadline(r->it);
  drive(r);
}

static int add_client(struct request *r, request_cb cb, void *arg) {
  struct req_client *c = malloc(sizeof *c);
  if (!c) return -1;
  c->cb = cb;
  c->arg = arg;
  c->next = r->clients;
  r->clients = c;
  return 0;
}

void request_resolve(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype, bool cd,
                     request_cb cb, void *arg) {
  uint8_t key[260];
  size_t klen = make_key(qname, qtype, key);
  key[klen++] = cd; /* a CD query and a validating one are different questions */
  uint64_t h = hash_bytes(key, klen);
  for (struct request *r = w->requests[h % WORKER_REQ_BUCKETS]; r; r = r->hnext) {
    if (r->hash == h && r->klen == klen && memcmp(r->key, key, klen) == 0 &&
        add_client(r, cb, arg) == 0) {
      w->stats.joined++;
      return;
    }
  }
  struct request *r = new_request(w, qname, qtype, 0, NULL);
  if (r && cd) iter_set_cd(r->it);
  if (!r || add_client(r, cb, arg)) {
    if (r) free_request(r);
    cb(arg, NULL, NULL);
    return;
  }
  memcpy(r->key, key, klen);
  r->klen = klen;
  r->hash = h;
  /* Cache hits finish inside drive() without a timer or a table entry. */
  struct iter_action act;
  iter_next(r->it, &act);
  if (act.kind == IA_DONE) {
    finish(r);
    return;
  }
  if (w->stats.in_flight >= w->cfg->max_requests) {
    /* Shed: REFUSED sends the client on to its next resolver at once. */
    struct iter_result res;
    memset(&res, 0, sizeof res);
    res.rcode = LDNS_RCODE_REFUSED;
    res.ede = EDE_OTHER;
    snprintf(res.ede_text, sizeof res.ede_text,
             "overloaded: %u resolutions under way (max-requests)", w->cfg->max_requests);
    w->stats.limited[SL_REQUESTS]++;
    free_request(r);
    cb(arg, &res, NULL);
    return;
  }
  table_insert(r);
  uv_timer_init(&w->loop, &r->deadline);
  r->deadline.data = r;
  r->has_timer = true;
  uv_timer_start(&r->deadline, on_deadline, w->cfg->request_timeout_ms, 0);
  /* The iterator is waiting on the action it just produced; hand it over. */
  if (!perform(r, &act)) drive(r);
}

void request_trace(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype, bool nocache,
                   trace_done_cb done, void *arg) {
  struct request *r = new_request(w, qname, qtype, 0, NULL);
  struct trace *t = r ? trace_new(util_mono_us()) : NULL;
  if (!t) {
    if (r) free_request(r);
    done(arg, NULL);
    return;
  }
  r->traced = done;
  r->traced_arg = arg;
  r->trace = t;
  iter_set_trace(r->it, t, nocache);
  table_insert(r); /* on the worker's traced list: aborted at shutdown */
  uv_timer_init(&w->loop, &r->deadline);
  r->deadline.data = r;
  r->has_timer = true;
  uv_timer_start(&r->deadline, on_deadline, w->cfg->request_timeout_ms, 0);
  drive(r);
}

void request_prefetch(struct worker *w, const ldns_rdf *qname, ldns_rr_type qtype) {
  if (!w->cfg->prefetch || w->stopping) return;
  uint8_t key[260];
  size_t klen = make_key(qname, qtype, key);
  for (struct request *p = w->prefetches; p; p = p->hnext)
    if (p->klen == klen && memcmp(p->key, key, klen) == 0) return; /* one per question */
  /* Bounded on its own, and never at the cost of a client's resolution. */
  if (w->nprefetch >= w->cfg->prefetch_max || w->stats.in_flight >= w->cfg->max_requests) {
    w->stats.prefetch[SPF_SKIPPED]++;
    return;
  }
  struct request *r = new_request(w, qname, qtype, 0, NULL);
  if (!r) return;
  iter_set_refresh(r->it);
  r->prefetch = true;
  memcpy(r->key, key, klen);
  r->klen = klen;
  w->nprefetch++;
  w->stats.prefetch[SPF_STARTED]++;
  table_insert(r);
  uv_timer_init(&w->loop, &r->deadline);
  r->deadline.data = r;
  r->has_timer = true;
  uv_timer_start(&r->deadline, on_deadline, w->cfg->request_timeout_ms, 0);
  drive(r);
}

static void abort_one(struct request *r) {
  table_remove(r);
  cancel_descendants(r);
  if (r->traced) r->traced(r->traced_arg, NULL);
  for (struct req_client *c = r->clients; c; c = c->next) c->cb(c->arg, NULL, NULL);
  free_request(r);
}

void request_abort_all(struct worker *w) {
  while (w->traced) abort_one(w->traced);
  while (w->prefetches) {
    w->nprefetch--;
    abort_one(w->prefetches);
  }
  for (size_t i = 0; i < WORKER_REQ_BUCKETS; i++) {
    while (w->requests[i]) abort_one(w->requests[i]);
  }
}
