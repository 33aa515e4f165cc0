/* The NSEC cache for aggressive negative answers; see nseccache.h. */
#include "resolver/dnssec/nseccache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

#define MAX_LABELS 128 /* a 255-octet name has at most 127 labels */
/* A key is at most twice the name's content octets plus one end mark per
 * label: under 2 * 255. Two more for a "*" label appended to an ancestor. */
#define KEY_MAX 514
#define NONE ((size_t)-1)

/* A name in "lookup form": its labels from the root down, lower-cased, each
 * ended by 0x00, with the octets 0x00 and 0x01 inside a label escaped as
 * 0x01 0x01 and 0x01 0x02. Then memcmp order is canonical order (RFC 4034
 * 6.1): labels compare from the root, octet by octet, a shorter label before
 * a longer one it begins, and a name before the names below it. The key of
 * an ancestor is a prefix of the key of the name. */
struct ckey {
  size_t len;
  const uint8_t *b;
};

/* A name's key, with where each ancestor's key ends. */
struct keybuf {
  uint8_t b[KEY_MAX];
  size_t len;
  size_t nlabels;
  size_t ends[MAX_LABELS + 1]; /* ends[k]: key length of the ancestor with k labels */
};

/*
 * Locking: the workers store and look up from their threads, cachectl
 * flushes from its own. One mutex, nc->lock, guards the whole structure:
 * the zone tree, each zone's record tree, the LRU list, every nzone and
 * nentry, and the counters. It is held for tree walks and copies, never
 * while calling out, and no other lock is taken under it. Lookups hand out
 * copies (nsec_proof), so nothing of an entry is used after the unlock.
 */

/* One cached NSEC, in its zone's tree and in the LRU list. Every field is
 * guarded by the cache's lock; it is freed under it. */
struct nentry {
  ldns_rbnode_t node;         /* in zone->records; node.key is &ck */
  struct nentry *prev, *next; /* LRU, most recently stored or used at head */
  struct nzone *zone;
  int64_t expiry;
  ldns_rr *nsec;        /* owned */
  ldns_rr_list *sigs;   /* owned: its RRSIGs, possibly none */
  uint64_t stamp;       /* the lookup that last gathered it ... */
  size_t slot;          /* ... and where it went in that lookup's list */
  struct ckey ck;       /* over key[] */
  uint8_t key[];
};

/* The records of one signer zone. Freed with its last record. Every field is
 * guarded by the cache's lock. */
struct nzone {
  ldns_rbnode_t node;    /* in nc->zones; node.key is &ck */
  ldns_rbtree_t records; /* struct nentry, canonical order of owner */
  ldns_rdf *name;        /* owned */
  size_t labels;
  struct ckey ck;
  uint8_t key[];
};

/* Every field but max is guarded by lock. */
struct nseccache {
  pthread_mutex_t lock;
  ldns_rbtree_t zones;        /* lock; struct nzone, canonical order of name */
  struct nentry *head, *tail; /* lock; LRU, most recently stored or used at head */
  size_t n;                   /* lock; records held */
  size_t max;                 /* set by nseccache_new, then read-only */
  uint64_t stamp;             /* lock; bumped per lookup, to gather each record once */
};

static int ckey_cmp(const void *a, const void *b) {
  const struct ckey *x = a, *y = b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = n ? memcmp(x->b, y->b, n) : 0;
  if (c) return c;
  return (x->len > y->len) - (x->len < y->len);
}

/* Fills kb from name; false for a malformed one. */
static bool canon_key(const ldns_rdf *name, struct keybuf *kb) {
  uint8_t w[LDNS_MAX_DOMAINLEN + 1];
  size_t off[MAX_LABELS];
  size_t n = name ? name_key(name, w) : 0, i = 0, labels = 0;
  if (!n) return false;
  while (w[i]) {
    if (labels == MAX_LABELS || i + 1 + w[i] >= n) return false;
    off[labels++] = i;
    i += (size_t)w[i] + 1;
  }
  if (i != n - 1) return false;
  kb->len = 0;
  kb->nlabels = labels;
  kb->ends[0] = 0;
  for (size_t k = 1; k <= labels; k++) {
    const uint8_t *l = w + off[labels - k];
    for (size_t j = 1; j <= l[0]; j++) {
      if (l[j] <= 1) {
        kb->b[kb->len++] = 1;
        kb->b[kb->len++] = (uint8_t)(l[j] + 1);
      } else {
        kb->b[kb->len++] = l[j];
      }
    }
    kb->b[kb->len++] = 0;
    kb->ends[k] = kb->len;
  }
  return true;
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* ---- The LRU list and removal ---- */

static void lru_unlink(nseccache_t *nc, struct nentry *e) {
  if (e->prev) e->prev->next = e->next;
  else nc->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else nc->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_front(nseccache_t *nc, struct nentry *e) {
  e->next = nc->head;
  e->prev = NULL;
  if (nc->head) nc->head->prev = e;
  nc->head = e;
  if (!nc->tail) nc->tail = e;
}

static void entry_free(struct nentry *e) {
  ldns_rr_free(e->nsec);
  if (e->sigs) ldns_rr_list_deep_free(e->sigs);
  free(e);
}

static void zone_free(struct nzone *z) {
  ldns_rdf_deep_free(z->name);
  free(z);
}

static void zone_remove(nseccache_t *nc, struct nzone *z) {
  ldns_rbtree_delete(&nc->zones, &z->ck);
  zone_free(z);
}

/* Unlinks e from its zone and the LRU, and frees it; with drop_zone, also
 * the zone if that was its last record. */
static void remove_entry(nseccache_t *nc, struct nentry *e, bool drop_zone) {
  struct nzone *z = e->zone;
  ldns_rbtree_delete(&z->records, &e->ck);
  lru_unlink(nc, e);
  nc->n--;
  entry_free(e);
  if (drop_zone && z->records.count == 0) zone_remove(nc, z);
}

/* ---- Life cycle ---- */

nseccache_t *nseccache_new(size_t max_records) {
  nseccache_t *nc = calloc(1, sizeof *nc);
  if (!nc) return NULL;
  nc->max = max_records ? max_records : 1;
  ldns_rbtree_init(&nc->zones, ckey_cmp);
  pthread_mutex_init(&nc->lock, NULL);
  return nc;
}

static void zone_free_cb(ldns_rbnode_t *node, void *arg) {
  (void)arg;
  zone_free((struct nzone *)node->data);
}

void nseccache_free(nseccache_t *nc) {
  if (!nc) return;
  for (struct nentry *e = nc->head, *next; e; e = next) {
    next = e->next;
    entry_free(e);
  }
  ldns_traverse_postorder(&nc->zones, zone_free_cb, NULL);
  pthread_mutex_destroy(&nc->lock);
  free(nc);
}

/* ---- Store ---- */

/* An RRSIG over the NSEC at owner (by any signer). */
static bool is_nsec_sig(const ldns_rr *sig, const ldns_rdf *owner) {
  if (ldns_rr_get_type(sig) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(sig) < 8) return false;
  const ldns_rdf *covered = ldns_rr_rrsig_typecovered(sig), *signer = ldns_rr_rrsig_signame(sig);
  return covered && ldns_rdf_get_type(covered) == LDNS_RDF_TYPE_TYPE &&
         ldns_rdf2rr_type(covered) == LDNS_RR_TYPE_NSEC && signer &&
         ldns_rdf_get_type(signer) == LDNS_RDF_TYPE_DNAME && name_equal(ldns_rr_owner(sig), owner);
}

/* When the signature expires, on the clock of now: its 32-bit time is read
 * in serial number arithmetic around now (RFC 4034 3.1.5). */
static int64_t sig_expiry(const ldns_rr *sig, int64_t now) {
  const ldns_rdf *x = ldns_rr_rrsig_expiration(sig);
  if (!x || ldns_rdf_size(x) != 4) return now; /* malformed: no life */
  uint32_t t = ldns_rdf2native_int32(x);
  return now + (int32_t)(t - (uint32_t)now);
}

/* A new entry for nsec and its RRSIGs among rrs, or NULL when it is not
 * this zone's, has no life left, or memory runs out. */
static struct nentry *entry_make(const ldns_rr *nsec, const ldns_rdf *zone,
                                 const ldns_rr_list *rrs, uint32_t ttl_cap, int64_t now) {
  const ldns_rdf *owner = ldns_rr_owner(nsec);
  if (ldns_rr_rd_count(nsec) < 1) return NULL;
  const ldns_rdf *next = ldns_rr_rdf(nsec, 0);
  struct keybuf kb, nb;
  if (ldns_rdf_get_type(next) != LDNS_RDF_TYPE_DNAME || !name_in(owner, zone) ||
      !name_in(next, zone) || !canon_key(owner, &kb) || !canon_key(next, &nb))
    return NULL;
  /* Only the zone's last NSEC points back, and to the apex (RFC 4034
   * 4.1.1); denial.c would take any record pointing back as covering every
   * name after its owner. */
  struct ckey ownk = {kb.len, kb.b}, nextk = {nb.len, nb.b};
  if (ckey_cmp(&nextk, &ownk) <= 0 && !name_equal(next, zone)) return NULL;
  struct nentry *e = calloc(1, sizeof *e + kb.len);
  if (!e) return NULL;
  memcpy(e->key, kb.b, kb.len);
  e->ck = (struct ckey){kb.len, e->key};
  e->node.key = &e->ck;
  e->node.data = e;
  e->nsec = ldns_rr_clone(nsec);
  e->sigs = ldns_rr_list_new();
  bool ok = e->nsec && e->sigs;
  uint32_t ttl = min_u32(ldns_rr_ttl(nsec), ttl_cap);
  int64_t sigs_end = INT64_MAX;
  size_t foreign = 0; /* RRSIGs by another signer */
  for (size_t i = 0; ok && i < ldns_rr_list_rr_count(rrs); i++) {
    const ldns_rr *sig = ldns_rr_list_rr(rrs, i);
    if (!is_nsec_sig(sig, owner)) continue;
    if (!name_equal(ldns_rr_rrsig_signame(sig), zone)) {
      foreign++;
      continue;
    }
    ttl = min_u32(ttl, ldns_rr_ttl(sig));
    int64_t x = sig_expiry(sig, now);
    if (x < sigs_end) sigs_end = x;
    ldns_rr *copy = ldns_rr_clone(sig);
    ok = copy && ldns_rr_list_push_rr(e->sigs, copy);
    if (!ok) ldns_rr_free(copy);
  }
  /* A denial lives no longer than its signatures (RFC 4035 5.3.3). */
  e->expiry = now + ttl < sigs_end ? now + ttl : sigs_end;
  /* Signed, but not by zone: the caller named the wrong zone; keep out. */
  bool unsigned_here = foreign && ldns_rr_list_rr_count(e->sigs) == 0;
  if (!ok || e->expiry <= now || unsigned_here) {
    entry_free(e);
    return NULL;
  }
  return e;
}

static struct nzone *zone_make(const ldns_rdf *zone, const struct keybuf *kb) {
  struct nzone *z = calloc(1, sizeof *z + kb->len);
  if (!z) return NULL;
  z->name = ldns_rdf_clone(zone);
  if (!z->name) {
    free(z);
    return NULL;
  }
  memcpy(z->key, kb->b, kb->len);
  z->ck = (struct ckey){kb->len, z->key};
  z->labels = kb->nlabels;
  z->node.key = &z->ck;
  z->node.data = z;
  ldns_rbtree_init(&z->records, ckey_cmp);
  return z;
}

static struct nzone *zone_find(nseccache_t *nc, const struct ckey *k) {
  ldns_rbnode_t *n = ldns_rbtree_search(&nc->zones, k);
  return n && n != LDNS_RBTREE_NULL ? (struct nzone *)n->data : NULL;
}

void nseccache_store(nseccache_t *nc, const ldns_rdf *zone, const ldns_rr_list *rrs,
                     uint32_t ttl_cap, int64_t now) {
  struct keybuf zk;
  if (!nc || !rrs || !canon_key(zone, &zk)) return;
  size_t count = ldns_rr_list_rr_count(rrs), fresh_n = 0;
  struct nentry **fresh = calloc(count ? count : 1, sizeof *fresh);
  if (!fresh) return;
  /* Copies are made before taking the lock, which guards only linking. */
  for (size_t i = 0; i < count; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(rrs, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC) continue;
    struct nentry *e = entry_make(rr, zone, rrs, ttl_cap, now);
    if (e) fresh[fresh_n++] = e;
  }
  struct nzone *spare = fresh_n ? zone_make(zone, &zk) : NULL;
  if (!spare) {
    for (size_t i = 0; i < fresh_n; i++) entry_free(fresh[i]);
    free(fresh);
    return;
  }
  pthread_mutex_lock(&nc->lock);
  struct nzone *z = zone_find(nc, &spare->ck);
  if (!z) {
    ldns_rbtree_insert(&nc->zones, &spare->node);
    z = spare;
    spare = NULL;
  }
  for (size_t i = 0; i < fresh_n; i++) {
    struct nentry *e = fresh[i];
    ldns_rbnode_t *old = ldns_rbtree_search(&z->records, &e->ck);
    if (old && old != LDNS_RBTREE_NULL) remove_entry(nc, (struct nentry *)old->data, false);
    e->zone = z;
    ldns_rbtree_insert(&z->records, &e->node);
    lru_front(nc, e);
    nc->n++;
  }
  while (nc->n > nc->max) remove_entry(nc, nc->tail, true);
  pthread_mutex_unlock(&nc->lock);
  if (spare) zone_free(spare);
  free(fresh);
}

/* ---- Lookup ---- */

/* What one lookup gathered, copied out of the cache: item i is a record's
 * NSEC and RRSIGs, TTLs set to what is left. */
struct item {
  ldns_rr *nsec;
  ldns_rr_list *sigs;
  uint32_t ttl;
  size_t rank; /* place in canonical order among the items */
};

struct gather {
  struct nentry *got[2 * MAX_LABELS + 1];
  size_t n;
  size_t p0;                    /* slot of qname's predecessor-or-equal, or NONE */
  bool p0_exact;                /* ... which is qname's own record */
  size_t wild[MAX_LABELS + 1];  /* slot of the predecessor-or-equal of *.A, A with k labels */
  struct item items[2 * MAX_LABELS + 1];
};

/* Slot of e in g, adding it if this lookup has not met it yet. */
static size_t gather_add(nseccache_t *nc, struct gather *g, struct nentry *e) {
  if (e->stamp == nc->stamp) return e->slot;
  e->stamp = nc->stamp;
  e->slot = g->n;
  g->got[g->n] = e;
  return g->n++;
}

/* The live record of z with the greatest owner <= k, or NULL; expired ones
 * met on the way are removed (z stays, even if emptied). */
static struct nentry *live_le(nseccache_t *nc, struct nzone *z, const struct ckey *k,
                              int64_t now, bool *exact) {
  for (;;) {
    ldns_rbnode_t *n = NULL;
    int ex = ldns_rbtree_find_less_equal(&z->records, k, &n);
    if (!n || n == LDNS_RBTREE_NULL) return NULL;
    struct nentry *e = (struct nentry *)n->data;
    if (e->expiry > now) {
      if (exact) *exact = ex != 0;
      return e;
    }
    remove_entry(nc, e, false);
  }
}

static struct nentry *live_eq(nseccache_t *nc, struct nzone *z, const struct ckey *k,
                              int64_t now) {
  bool exact = false;
  struct nentry *e = live_le(nc, z, k, now, &exact);
  return e && exact ? e : NULL;
}

/* The closest zone with records at or above the ancestor of q with top
 * labels. */
static struct nzone *closest_zone(nseccache_t *nc, const struct keybuf *q, size_t top) {
  for (size_t k = top + 1; k-- > 0;) {
    struct ckey ak = {q->ends[k], q->b};
    struct nzone *z = zone_find(nc, &ak);
    if (z) return z;
  }
  return NULL;
}

/* Under the lock: the records for qname in z, per nseccache_lookup. */
static void gather_records(nseccache_t *nc, struct nzone *z, const struct keybuf *q,
                           int64_t now, struct gather *g) {
  struct ckey qk = {q->len, q->b};
  nc->stamp++;
  g->n = 0;
  g->p0 = NONE;
  g->p0_exact = false;
  for (size_t k = 0; k <= MAX_LABELS; k++) g->wild[k] = NONE;
  struct nentry *e = live_le(nc, z, &qk, now, &g->p0_exact);
  if (e) g->p0 = gather_add(nc, g, e);
  uint8_t wb[KEY_MAX];
  for (size_t k = q->nlabels; k-- > z->labels;) {
    struct ckey ak = {q->ends[k], q->b};
    if ((e = live_eq(nc, z, &ak, now))) gather_add(nc, g, e);
    memcpy(wb, q->b, q->ends[k]);
    wb[q->ends[k]] = '*';
    wb[q->ends[k] + 1] = 0;
    struct ckey wk = {q->ends[k] + 2, wb};
    if ((e = live_le(nc, z, &wk, now, NULL))) g->wild[k] = gather_add(nc, g, e);
  }
}

static void item_clear(struct item *it) {
  if (it->nsec) ldns_rr_free(it->nsec);
  if (it->sigs) ldns_rr_list_deep_free(it->sigs);
  memset(it, 0, sizeof *it);
}

/* Under the lock: copies the gathered records into g->items, and marks them
 * used. False when out of memory (nothing left to free). */
static bool gather_copy(nseccache_t *nc, struct gather *g, int64_t now) {
  for (size_t i = 0; i < g->n; i++) {
    struct nentry *e = g->got[i];
    struct item *it = &g->items[i];
    int64_t left = e->expiry - now;
    it->ttl = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
    it->nsec = ldns_rr_clone(e->nsec);
    it->sigs = ldns_rr_list_clone(e->sigs);
    it->rank = 0;
    for (size_t j = 0; j < g->n; j++) it->rank += ckey_cmp(&g->got[j]->ck, &e->ck) < 0;
    if (!it->nsec || !it->sigs) {
      for (size_t j = 0; j <= i; j++) item_clear(&g->items[j]);
      return false;
    }
    ldns_rr_set_ttl(it->nsec, it->ttl);
    for (size_t j = 0; j < ldns_rr_list_rr_count(it->sigs); j++)
      ldns_rr_set_ttl(ldns_rr_list_rr(it->sigs, j), it->ttl);
    lru_unlink(nc, e);
    lru_front(nc, e);
  }
  return true;
}

/* Labels of the longest ancestor of the name in q that name is at or under. */
static size_t common_labels(const struct keybuf *q, const ldns_rdf *name) {
  struct keybuf x;
  if (!canon_key(name, &x)) return 0;
  size_t m = 0;
  while (m < q->len && m < x.len && q->b[m] == x.b[m]) m++;
  size_t k = 0;
  while (k < q->nlabels && q->ends[k + 1] <= m) k++;
  return k;
}

/* The slots a proof needs, as denial.c reasons (RFC 4035 5.4): qname's own
 * record (NODATA), or the record covering qname, which also shows an empty
 * non-terminal, plus the one matching or covering the wildcard at the
 * closest encloser that the covering record implies. Returns how many. */
static size_t minimal_slots(const struct gather *g, const struct keybuf *q, size_t *slots) {
  if (g->p0 == NONE) return 0;
  slots[0] = g->p0;
  const ldns_rr *p0 = g->items[g->p0].nsec;
  size_t a = common_labels(q, ldns_rr_owner(p0)), b = common_labels(q, ldns_rr_rdf(p0, 0));
  size_t ce = a > b ? a : b;
  if (g->p0_exact || ce >= q->nlabels) return 1;
  if (g->wild[ce] == NONE || g->wild[ce] == g->p0) return 1;
  slots[1] = g->wild[ce];
  return 2;
}

/* Proven by the NSECs of these slots, with the same kind of answer? */
static bool proves(const struct gather *g, const size_t *slots, size_t n, const ldns_rdf *qname,
                   ldns_rr_type qtype, const ldns_rdf *zone, bool nxdomain) {
  ldns_rr_list *l = ldns_rr_list_new();
  if (!l) return false;
  for (size_t i = 0; i < n; i++) ldns_rr_list_push_rr(l, g->items[slots[i]].nsec);
  bool nxd = false;
  enum denial_result r = denial_aggressive(qname, qtype, zone, l, &nxd, NULL);
  ldns_rr_list_free(l); /* the records are the items' */
  return r == DENIAL_PROVEN && nxd == nxdomain;
}

/* Moves the items of these slots into out, in canonical order, each NSEC
 * followed by its RRSIGs. False when out of memory. */
static bool proof_fill(struct gather *g, const size_t *slots, size_t n, struct nsec_proof *out) {
  out->nsecs = ldns_rr_list_new();
  if (!out->nsecs) return false;
  out->ttl = UINT32_MAX;
  bool ok = true;
  for (size_t r = 0; r < g->n; r++) {
    for (size_t i = 0; i < n; i++) {
      struct item *it = &g->items[slots[i]];
      if (it->rank != r) continue;
      if (!ok || !ldns_rr_list_push_rr(out->nsecs, it->nsec)) return false;
      it->nsec = NULL; /* moved */
      for (size_t j = 0; ok && j < ldns_rr_list_rr_count(it->sigs); j++) {
        ldns_rr *sig = ldns_rr_clone(ldns_rr_list_rr(it->sigs, j));
        ok = sig && ldns_rr_list_push_rr(out->nsecs, sig);
        if (!ok) ldns_rr_free(sig);
      }
      out->ttl = min_u32(out->ttl, it->ttl);
    }
  }
  return ok;
}

enum denial_result nseccache_lookup(nseccache_t *nc, const ldns_rdf *qname, ldns_rr_type qtype,
                                    int64_t now, bool *nxdomain, struct nsec_proof *out) {
  memset(out, 0, sizeof *out);
  *nxdomain = false;
  struct keybuf q;
  if (!nc || !canon_key(qname, &q)) return DENIAL_NOT_PROVEN;
  /* DS lives on the parent side of a cut: the zone holding qname's parent. */
  if (qtype == LDNS_RR_TYPE_DS && q.nlabels == 0) return DENIAL_NOT_PROVEN;
  size_t top = qtype == LDNS_RR_TYPE_DS ? q.nlabels - 1 : q.nlabels;
  struct gather *g = malloc(sizeof *g);
  if (!g) return DENIAL_NOT_PROVEN;
  ldns_rdf *zone = NULL;
  bool copied = false;

  pthread_mutex_lock(&nc->lock);
  struct nzone *z = closest_zone(nc, &q, top);
  if (z) {
    gather_records(nc, z, &q, now, g);
    zone = ldns_rdf_clone(z->name);
    /* Copied under the lock: the records may go as soon as it is released. */
    copied = zone && g->n && gather_copy(nc, g, now);
    if (z->records.count == 0) zone_remove(nc, z); /* all expired */
  }
  pthread_mutex_unlock(&nc->lock);

  enum denial_result r = DENIAL_NOT_PROVEN;
  if (copied) {
    size_t all[2 * MAX_LABELS + 1], few[2];
    for (size_t i = 0; i < g->n; i++) all[i] = i;
    bool nxd = false;
    ldns_rr_list *l = ldns_rr_list_new();
    for (size_t i = 0; l && i < g->n; i++) ldns_rr_list_push_rr(l, g->items[i].nsec);
    if (l) r = denial_aggressive(qname, qtype, zone, l, &nxd, NULL);
    ldns_rr_list_free(l);
    if (r == DENIAL_PROVEN) {
      /* Hand out only what the proof needs, when that is enough by itself. */
      size_t nfew = minimal_slots(g, &q, few);
      bool small = nfew && proves(g, few, nfew, qname, qtype, zone, nxd);
      if (small ? proof_fill(g, few, nfew, out) : proof_fill(g, all, g->n, out)) {
        out->zone = zone;
        zone = NULL;
        *nxdomain = nxd;
      } else {
        nsec_proof_clear(out);
        r = DENIAL_NOT_PROVEN;
      }
    }
    for (size_t i = 0; i < g->n; i++) item_clear(&g->items[i]);
  }
  if (zone) ldns_rdf_deep_free(zone);
  free(g);
  return r;
}

void nsec_proof_clear(struct nsec_proof *p) {
  if (!p) return;
  if (p->zone) ldns_rdf_deep_free(p->zone);
  if (p->nsecs) ldns_rr_list_deep_free(p->nsecs);
  memset(p, 0, sizeof *p);
}

/* ---- Flush and count ---- */

struct drop_arg {
  nseccache_t *nc;
  size_t gone;
};

static void drop_cb(ldns_rbnode_t *node, void *arg) {
  struct drop_arg *a = arg;
  struct nentry *e = (struct nentry *)node->data;
  lru_unlink(a->nc, e);
  a->nc->n--;
  a->gone++;
  entry_free(e);
}

/* Removes z and all its records; returns how many records. */
static size_t zone_drop(nseccache_t *nc, struct nzone *z) {
  struct drop_arg a = {nc, 0};
  ldns_traverse_postorder(&z->records, drop_cb, &a);
  zone_remove(nc, z);
  return a.gone;
}

size_t nseccache_flush(nseccache_t *nc, const ldns_rdf *zone, bool below) {
  struct keybuf zk;
  if (!nc || !canon_key(zone, &zk)) return 0;
  struct ckey k = {zk.len, zk.b};
  size_t gone = 0;
  pthread_mutex_lock(&nc->lock);
  if (!below) {
    struct nzone *z = zone_find(nc, &k);
    if (z) gone = zone_drop(nc, z);
  } else {
    /* The zones at or under zone are those whose keys begin with its key:
     * a run in canonical order, starting at zone or its successor. */
    ldns_rbnode_t *n = NULL;
    if (!ldns_rbtree_find_less_equal(&nc->zones, &k, &n))
      n = n ? ldns_rbtree_next(n) : ldns_rbtree_first(&nc->zones);
    while (n && n != LDNS_RBTREE_NULL) {
      struct nzone *z = (struct nzone *)n->data;
      if (z->ck.len < k.len || memcmp(z->ck.b, k.b, k.len) != 0) break;
      n = ldns_rbtree_next(n); /* deletion keeps other nodes where they are */
      gone += zone_drop(nc, z);
    }
  }
  pthread_mutex_unlock(&nc->lock);
  return gone;
}

size_t nseccache_count(nseccache_t *nc) {
  pthread_mutex_lock(&nc->lock);
  size_t n = nc->n;
  pthread_mutex_unlock(&nc->lock);
  return n;
}
