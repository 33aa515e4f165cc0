/*
 * Sharded, byte-bounded LRU cache of RRsets and negative answers; the
 * contract is in cache.h. Each entry is a single allocation holding the
 * header, the key and the encoded value, charged at what the allocator
 * really gives it (malloc_usable_size plus its chunk header), and the hash
 * tables are charged too, so the budget is what the cache costs in memory.
 *
 * A shard's table starts small and doubles (a rehash under the shard's lock)
 * when it holds more entries than buckets, and only while the larger table
 * still fits the budget: a big budget costs nothing until entries fill it.
 */
#include "cache/cache.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

/* The value format (record.h) stores these states by number. */
_Static_assert((int)CACHE_SEC_INDETERMINATE == (int)RECORD_SEC_INDETERMINATE &&
                   (int)CACHE_SEC_INSECURE == (int)RECORD_SEC_INSECURE &&
                   (int)CACHE_SEC_SECURE == (int)RECORD_SEC_SECURE,
               "enum cache_sec and enum record_sec must agree");

#define CACHE_SHARDS 16
#define KEY_MAX (255 + 2)
#define BUCKETS_MIN 64
#define BUCKETS_MAX (1u << 24)

/*
 * Locking, as in Unbound's lruhash: a shard's lock guards the shard and
 * every entry in it, and nothing is read or written without it except
 * what is set before the cache is shared and never changed (limits, seed).
 * A thread holds at most one lock of this file at a time: one shard's, or
 * flush_lock; never two shards (cache_flush, cache_clear and
 * cache_set_budget take them one after the other). Copies handed to
 * callers are made under the lock and decoded after it is released.
 */

/* An entry belongs to one shard and is guarded by that shard's lock, all
 * fields alike; it is freed under it (eviction, replacement, flush). */
struct entry {
  struct entry *hnext;             /* hash bucket chain */
  struct entry *lru_prev, *lru_next; /* most recent at shard->lru_head */
  uint64_t hash;
  int64_t expiry;                  /* absolute, wall-clock seconds */
  uint32_t orig_ttl;
  uint8_t kind, rank, sec;
  uint16_t klen;
  uint32_t vlen;
  size_t cost;
  uint8_t data[];                  /* key, then value */
};

struct shard {
  pthread_mutex_t lock;   /* guards every field below and the shard's entries */
  struct entry **buckets; /* lock; replaced whole when the table doubles */
  size_t nbuckets;        /* lock; a power of two */
  size_t table_cost;      /* lock; what the bucket array costs */
  struct entry *lru_head, *lru_tail; /* lock */
  size_t bytes;           /* lock; entries and table */
  size_t budget;          /* lock; the memory governor's thread changes it
                             (cache_set_budget) while workers store */
  size_t entries;         /* lock */
  uint64_t hits, misses, inserts, evictions; /* lock; summed by cache_get_stats */
};

/* A flush an operator made (here, or on another instance of the fleet, as
 * its flush log in the shared tier says): data at `name` (and, below, at
 * every name under it) written at or before `when` is not taken from the
 * shared tier again, so a value captured before the flush cannot be put
 * back. */
struct flush_marker {
  uint8_t name[256]; /* canonical wire form */
  uint8_t len;
  bool below;
  int64_t when;
};

struct cache {
  struct cache_limits limits; /* set by cache_new, then read-only: no lock */
  uint64_t seed;              /* set by cache_new, then read-only: no lock */
  struct shard shards[CACHE_SHARDS]; /* each guarded by its own lock */
  /* The flush markers are written by an operator's flush (cache_flush on
   * cachectl's thread, redis_tier_flush on worker 0) and by workers reading
   * the fleet's flush log, and read by every worker filling memory from the
   * shared tier: shared like the shards, under a lock of their own. */
  pthread_mutex_t flush_lock;
  struct flush_marker *markers; /* flush_lock; allocated on the first marker */
  size_t nmarkers;              /* flush_lock */
};

/* FNV-1a over the key, seeded per process so bucket placement cannot be
 * precomputed by someone choosing query names. */
static uint64_t hash_key(uint64_t seed, const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (size_t i = 0; i < n; i++) {
    h ^= k[i];
    h *= 1099511628211ull;
  }
  h ^= h >> 29;
  return h;
}

static size_t make_key(const ldns_rdf *name, uint16_t type, uint8_t *key) {
  size_t n = name_key(name, key);
  if (n == 0) return 0;
  key[n] = (uint8_t)(type >> 8);
  key[n + 1] = (uint8_t)type;
  return n + 2;
}

cache_t *cache_new(const struct cache_limits *limits) {
  cache_t *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->limits = *limits;
  c->seed = ((uint64_t)util_random() << 32) | util_random();
  pthread_mutex_init(&c->flush_lock, NULL);
  for (int i = 0; i < CACHE_SHARDS; i++) {
    struct shard *s = &c->shards[i];
    pthread_mutex_init(&s->lock, NULL);
    s->budget = limits->max_bytes / CACHE_SHARDS;
    s->nbuckets = BUCKETS_MIN;
    s->buckets = calloc(BUCKETS_MIN, sizeof *s->buckets);
    if (!s->buckets) {
      cache_free(c);
      return NULL;
    }
    s->table_cost = s->bytes = cache_alloc_cost(s->buckets);
  }
  return c;
}

static void lru_unlink(struct shard *s, struct entry *e) {
  if (e->lru_prev) e->lru_prev->lru_next = e->lru_next;
  else s->lru_head = e->lru_next;
  if (e->lru_next) e->lru_next->lru_prev = e->lru_prev;
  else s->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct shard *s, struct entry *e) {
  e->lru_prev = NULL;
  e->lru_next = s->lru_head;
  if (s->lru_head) s->lru_head->lru_prev = e;
  s->lru_head = e;
  if (!s->lru_tail) s->lru_tail = e;
}

static struct entry **find_slot(struct shard *s, uint64_t h, const uint8_t *key,
                                size_t klen) {
  struct entry **pp = &s->buckets[h & (s->nbuckets - 1)];
  for (; *pp; pp = &(*pp)->hnext) {
    struct entry *e = *pp;
    if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
      return pp;
  }
  return pp;
}

static void remove_entry(struct shard *s, struct entry **slot) {
  struct entry *e = *slot;
  *slot = e->hnext;
  lru_unlink(s, e);
  s->bytes -= e->cost;
  s->entries--;
  free(e);
}

/* Double the table when it holds more entries than buckets and the larger
 * table fits the budget beside what the entries cost; otherwise chains grow
 * a little longer, which the budget then bounds. */
static void maybe_grow(struct shard *s) {
  if (s->entries <= s->nbuckets || s->nbuckets >= BUCKETS_MAX) return;
  size_t nb = s->nbuckets * 2;
  struct entry **t = calloc(nb, sizeof *t);
  if (!t) return;
  size_t cost = cache_alloc_cost(t);
  if (s->bytes - s->table_cost + cost > s->budget) {
    free(t);
    return;
  }
  for (size_t i = 0; i < s->nbuckets; i++) {
    struct entry *e = s->buckets[i];
    while (e) {
      struct entry *next = e->hnext;
      struct entry **b = &t[e->hash & (nb - 1)];
      e->hnext = *b;
      *b = e;
      e = next;
    }
  }
  free(s->buckets);
  s->buckets = t;
  s->nbuckets = nb;
  s->bytes += cost - s->table_cost;
  s->table_cost = cost;
}

static void evict_until(struct shard *s, size_t need) {
  while (s->lru_tail && s->bytes + need > s->budget) {
    struct entry *victim = s->lru_tail;
    struct entry **slot = find_slot(s, victim->hash, victim->data, victim->klen);
    remove_entry(s, slot);
    s->evictions++;
  }
}

void cache_free(cache_t *c) {
  if (!c) return;
  cache_clear(c);
  for (int i = 0; i < CACHE_SHARDS; i++) {
    free(c->shards[i].buckets);
    pthread_mutex_destroy(&c->shards[i].lock);
  }
  free(c->markers);
  pthread_mutex_destroy(&c->flush_lock);
  free(c);
}

void cache_clear(cache_t *c) {
  for (int i = 0; i < CACHE_SHARDS; i++) {
    struct shard *s = &c->shards[i];
    pthread_mutex_lock(&s->lock);
    struct entry *e = s->lru_head;
    while (e) {
      struct entry *next = e->lru_next;
      free(e);
      e = next;
    }
    memset(s->buckets, 0, s->nbuckets * sizeof *s->buckets);
    s->lru_head = s->lru_tail = NULL;
    s->bytes = s->table_cost;
    s->entries = 0;
    pthread_mutex_unlock(&s->lock);
  }
}

/* Is the wire name owner (klen bytes, lower case) name itself, or with
 * below, a name under it? */
static bool owner_matches(const uint8_t *owner, size_t olen, const uint8_t *name, size_t nlen,
                          bool below) {
  if (olen == nlen) return memcmp(owner, name, nlen) == 0;
  if (!below || olen < nlen) return false;
  for (size_t off = 0; off < olen && owner[off];) { /* label boundaries only */
    off += 1 + (size_t)owner[off];
    if (olen - off == nlen) return memcmp(owner + off, name, nlen) == 0;
  }
  return false;
}

/* Markers live as long as data could: the longest TTL this cache keeps. */
static int64_t marker_life(const cache_t *c) {
  uint32_t t = c->limits.max_ttl > c->limits.max_neg_ttl ? c->limits.max_ttl
                                                          : c->limits.max_neg_ttl;
  return (int64_t)t + 60;
}

void cache_note_flush(cache_t *c, const uint8_t *name, size_t len, bool below, int64_t when,
                      int64_t now) {
  if (!len || len > 255) return;
  pthread_mutex_lock(&c->flush_lock);
  size_t keep = 0; /* drop the markers of data that has expired anyway */
  for (size_t i = 0; i < c->nmarkers; i++)
    if (c->markers[i].when + marker_life(c) > now) c->markers[keep++] = c->markers[i];
  c->nmarkers = keep;
  struct flush_marker *m = NULL;
  for (size_t i = 0; i < c->nmarkers && !m; i++)
    if (c->markers[i].len == len && c->markers[i].below == below &&
        !memcmp(c->markers[i].name, name, len))
      m = &c->markers[i];
  if (!m && c->nmarkers == CACHE_FLUSH_MARKERS) { /* the oldest goes */
    size_t oldest = 0;
    for (size_t i = 1; i < c->nmarkers; i++)
      if (c->markers[i].when < c->markers[oldest].when) oldest = i;
    m = &c->markers[oldest];
    m->when = INT64_MIN;
  }
  if (!m && !c->markers) c->markers = calloc(CACHE_FLUSH_MARKERS, sizeof *c->markers);
  if (!m && c->markers) m = &c->markers[c->nmarkers++];
  if (m) {
    memcpy(m->name, name, len);
    m->len = (uint8_t)len;
    m->below = below;
    if (when > m->when) m->when = when;
  }
  pthread_mutex_unlock(&c->flush_lock);
}

bool cache_flushed_since(cache_t *c, const uint8_t *owner, size_t len, int64_t written) {
  bool flushed = false;
  pthread_mutex_lock(&c->flush_lock);
  for (size_t i = 0; i < c->nmarkers && !flushed; i++) {
    const struct flush_marker *m = &c->markers[i];
    flushed = m->when > written && owner_matches(owner, len, m->name, m->len, m->below);
  }
  pthread_mutex_unlock(&c->flush_lock);
  return flushed;
}

size_t cache_flush(cache_t *c, const ldns_rdf *name, bool below) {
  uint8_t want[KEY_MAX];
  size_t wlen = name_key(name, want);
  if (!wlen) return 0;
  int64_t now = util_now_sec();
  cache_note_flush(c, want, wlen, below, now, now);
  size_t removed = 0;
  for (int i = 0; i < CACHE_SHARDS; i++) {
    struct shard *s = &c->shards[i];
    pthread_mutex_lock(&s->lock);
    for (size_t b = 0; b < s->nbuckets; b++) {
      struct entry **pp = &s->buckets[b];
      while (*pp) {
        struct entry *e = *pp;
        if (e->klen > 2 && owner_matches(e->data, e->klen - 2u, want, wlen, below)) {
          remove_entry(s, pp);
          removed++;
        } else {
          pp = &e->hnext;
        }
      }
    }
    pthread_mutex_unlock(&s->lock);
  }
  return removed;
}

void cache_set_budget(cache_t *c, size_t max_bytes) {
  for (int i = 0; i < CACHE_SHARDS; i++) {
    struct shard *s = &c->shards[i];
    pthread_mutex_lock(&s->lock);
    s->budget = max_bytes / CACHE_SHARDS;
    evict_until(s, 0);
    pthread_mutex_unlock(&s->lock);
  }
}

size_t cache_budget(cache_t *c) {
  size_t total = 0;
  for (int i = 0; i < CACHE_SHARDS; i++) {
    pthread_mutex_lock(&c->shards[i].lock);
    total += c->shards[i].budget;
    pthread_mutex_unlock(&c->shards[i].lock);
  }
  return total;
}

size_t cache_alloc_cost(void *p) { return malloc_usable_size(p) + sizeof(size_t); }

/* Is the key that of an NS RRset? */
static bool ns_key(const uint8_t *key, size_t klen, enum cache_kind kind) {
  return kind == CACHE_RRSET && klen >= 2 &&
         ((uint16_t)(key[klen - 2] << 8 | key[klen - 1])) == LDNS_RR_TYPE_NS;
}

/* Insert or replace; the value bytes are copied. The entry lives until
 * *expiry (absolute); ttl is the TTL it was stored with. An NS RRset from
 * a zone's own servers never lives longer than the live NS RRset it
 * replaces (the parent's delegation): else a zone moved to new servers
 * would stay with old ones that keep answering for it, for as long as they
 * like (ghost domains, CVE-2012-1033). *expiry says when it ends. */
static int insert(cache_t *c, const uint8_t *key, size_t klen, enum cache_kind kind,
                  enum cache_rank rank, uint8_t sec, int64_t *expiry_io, uint32_t ttl,
                  int64_t now, const uint8_t *val, size_t vlen) {
  int64_t expiry = *expiry_io;
  uint64_t h = hash_key(c->seed, key, klen);
  struct shard *s = &c->shards[h % CACHE_SHARDS];
  struct entry *e = malloc(sizeof(struct entry) + klen + vlen);
  if (!e) return -1;
  size_t cost = cache_alloc_cost(e);
  if (cost + s->table_cost > s->budget) {
    free(e);
    return -1;
  }
  memset(e, 0, sizeof *e);
  e->hash = h;
  e->expiry = expiry;
  e->orig_ttl = ttl;
  e->kind = (uint8_t)kind;
  e->rank = (uint8_t)rank;
  e->sec = sec;
  e->klen = (uint16_t)klen;
  e->vlen = (uint32_t)vlen;
  e->cost = cost;
  memcpy(e->data, key, klen);
  if (vlen) memcpy(e->data + klen, val, vlen);

  pthread_mutex_lock(&s->lock);
  struct entry **slot = find_slot(s, h, key, klen);
  if (*slot) {
    struct entry *old = *slot;
    /* Better-ranked data stays; so does validated data of the same rank
     * against data nobody validated (a sub-lookup's, a CD query's). */
    if (old->expiry > now &&
        (old->rank > rank || (old->rank == rank && sec == 0 && old->sec != 0))) {
      pthread_mutex_unlock(&s->lock);
      free(e);
      return -1;
    }
    if (old->expiry > now && rank >= CACHE_RANK_ANSWER && ns_key(key, klen, kind) &&
        e->expiry > old->expiry)
      e->expiry = *expiry_io = old->expiry;
    remove_entry(s, slot);
  }
  evict_until(s, cost);
  slot = find_slot(s, h, key, klen);
  *slot = e;
  lru_push_front(s, e);
  s->bytes += cost;
  s->entries++;
  s->inserts++;
  maybe_grow(s);
  pthread_mutex_unlock(&s->lock);
  return 0;
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi) {
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return v;
}

/* rrs, then extra (may be NULL), one after the other. */
static uint8_t *encode2(const ldns_rr_list *rrs, const ldns_rr_list *extra, size_t *len) {
  ldns_buffer *b = ldns_buffer_new(512);
  if (!b) return NULL;
  const ldns_rr_list *lists[2] = {rrs, extra};
  for (int l = 0; l < 2; l++) {
    for (size_t i = 0; lists[l] && i < ldns_rr_list_rr_count(lists[l]); i++) {
      if (ldns_rr2buffer_wire(b, ldns_rr_list_rr(lists[l], i), LDNS_SECTION_ANSWER) !=
          LDNS_STATUS_OK) {
        ldns_buffer_free(b);
        return NULL;
      }
    }
  }
  *len = ldns_buffer_position(b);
  uint8_t *out = ldns_buffer_export(b);
  ldns_buffer_free(b);
  return out;
}

uint8_t *cache_encode_rrs(const ldns_rr_list *rrs, size_t *len) {
  return encode2(rrs, NULL, len);
}

ldns_rr_list *cache_decode_rrs(const uint8_t *data, size_t len, uint32_t ttl) {
  ldns_rr_list *list = ldns_rr_list_new();
  if (!list) return NULL;
  size_t pos = 0;
  while (pos < len) {
    ldns_rr *rr = NULL;
    if (ldns_wire2rr(&rr, data, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
      ldns_rr_list_deep_free(list);
      return NULL;
    }
    ldns_rr_set_ttl(rr, ttl);
    ldns_rr_list_push_rr(list, rr);
  }
  return list;
}

/* Hand a stored entry to the sink (the shared tier), outside any lock. */
static void tell_sink(const struct cache_sink *sink, const uint8_t *key, size_t klen,
                      enum cache_kind kind, enum cache_rank rank, uint8_t sec,
                      int64_t expiry, uint32_t ttl, const uint8_t *val, size_t vlen) {
  if (!sink || !sink->put) return;
  struct cache_record rec = {
      .owner = key, .owner_len = klen - 2,
      .type = (uint16_t)(key[klen - 2] << 8 | key[klen - 1]),
      .kind = (uint8_t)kind, .rank = (uint8_t)rank, .sec = sec, .expiry = expiry, .ttl = ttl,
      .payload = val, .payload_len = vlen};
  sink->put(sink->arg, &rec);
}

int cache_store_rrset(cache_t *c, const ldns_rr_list *rrset, enum cache_rank rank,
                      int64_t now, const struct cache_sink *sink) {
  return cache_store_rrset_sec(c, rrset, NULL, CACHE_SEC_INDETERMINATE, rank, now, sink);
}

int cache_store_rrset_sec(cache_t *c, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                          uint8_t sec, enum cache_rank rank, int64_t now,
                          const struct cache_sink *sink) {
  return cache_store_rrset_kept(c, rrset, sigs, sec, rank, now, sink, NULL);
}

int cache_store_rrset_kept(cache_t *c, const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                           uint8_t sec, enum cache_rank rank, int64_t now,
                           const struct cache_sink *sink, uint32_t *kept) {
  size_t n = ldns_rr_list_rr_count(rrset);
  if (n == 0) return -1;
  const ldns_rr *first = ldns_rr_list_rr(rrset, 0);
  uint32_t ttl = UINT32_MAX;
  for (size_t i = 0; i < n; i++) {
    uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(rrset, i));
    if (t < ttl) ttl = t;
  }
  ttl = clamp(ttl, c->limits.min_ttl, c->limits.max_ttl);
  uint8_t key[KEY_MAX];
  size_t klen = make_key(ldns_rr_owner(first), ldns_rr_get_type(first), key);
  if (!klen) return -1;
  size_t vlen = 0;
  uint8_t *val = encode2(rrset, sigs, &vlen);
  if (!val) return -1;
  int64_t expiry = now + ttl;
  int rc = insert(c, key, klen, CACHE_RRSET, rank, sec, &expiry, ttl, now, val, vlen);
  if (rc == 0) tell_sink(sink, key, klen, CACHE_RRSET, rank, sec, expiry, ttl, val, vlen);
  if (rc == 0 && kept) *kept = (uint32_t)(expiry - now);
  free(val);
  return rc;
}

int cache_store_negative(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                         bool nxdomain, const ldns_rr *soa, enum cache_rank rank,
                         int64_t now, const struct cache_sink *sink) {
  return cache_store_negative_sec(c, name, type, nxdomain, soa, NULL, CACHE_SEC_INDETERMINATE,
                                  rank, now, sink);
}

int cache_store_negative_sec(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                             bool nxdomain, const ldns_rr *soa, const ldns_rr_list *proof,
                             uint8_t sec, enum cache_rank rank, int64_t now,
                             const struct cache_sink *sink) {
  if (!soa || ldns_rr_get_type(soa) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(soa) < 7)
    return -1;
  uint32_t ttl = ldns_rr_ttl(soa);
  uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));
  if (minimum < ttl) ttl = minimum;
  if (ttl > c->limits.max_neg_ttl) ttl = c->limits.max_neg_ttl;
  uint8_t key[KEY_MAX];
  size_t klen = make_key(name, nxdomain ? 0 : (uint16_t)type, key);
  if (!klen) return -1;
  ldns_rr_list *one = ldns_rr_list_new();
  ldns_rr_list_push_rr(one, (ldns_rr *)soa);
  size_t vlen = 0;
  uint8_t *val = encode2(one, proof, &vlen);
  ldns_rr_list_free(one); /* shallow: soa stays the caller's */
  if (!val) return -1;
  enum cache_kind kind = nxdomain ? CACHE_NXDOMAIN : CACHE_NODATA;
  int64_t expiry = now + ttl;
  int rc = insert(c, key, klen, kind, rank, sec, &expiry, ttl, now, val, vlen);
  if (rc == 0) tell_sink(sink, key, klen, kind, rank, sec, expiry, ttl, val, vlen);
  free(val);
  return rc;
}

int cache_fill(cache_t *c, const struct cache_record *rec, int64_t now) {
  uint8_t key[KEY_MAX];
  if (rec->kind < RECORD_RRSET || rec->kind > RECORD_NXDOMAIN || rec->expiry <= now ||
      rec->owner_len == 0 || rec->owner_len > 255)
    return -1;
  memcpy(key, rec->owner, rec->owner_len);
  uint16_t type = rec->kind == RECORD_NXDOMAIN ? 0 : rec->type;
  key[rec->owner_len] = (uint8_t)(type >> 8);
  key[rec->owner_len + 1] = (uint8_t)type;
  /* The expiry comes from elsewhere: hold it to this instance's clamps. */
  int64_t expiry = rec->expiry;
  uint32_t cap = rec->kind == RECORD_RRSET ? c->limits.max_ttl : c->limits.max_neg_ttl;
  if (expiry > now + (int64_t)cap) expiry = now + cap;
  return insert(c, key, rec->owner_len + 2, (enum cache_kind)rec->kind,
                (enum cache_rank)rec->rank, rec->sec, &expiry, rec->ttl, now, rec->payload,
                rec->payload_len);
}

/* Copy out a live entry under the shard lock; -1 if absent or expired.
 * With stale, an entry expired within the stale window answers too, its
 * TTLs set to stale_ttl. Entries past the window go. */
/* Split what an entry holds: its data (the RRset of the key's type, or a
 * negative entry's SOA) stays in res->rrs; the DNSSEC records after it move
 * to res->sigs when wanted, else go. */
static void split_sigs(struct cache_result *res, uint16_t type, bool want) {
  size_t n = ldns_rr_list_rr_count(res->rrs), main = 0;
  if (res->kind == CACHE_RRSET) {
    while (main < n && ldns_rr_get_type(ldns_rr_list_rr(res->rrs, main)) == type) main++;
  } else {
    main = n ? 1 : 0;
  }
  if (main == n) return;
  ldns_rr_list *extra = ldns_rr_list_new();
  for (size_t i = main; i < n; i++) ldns_rr_list_push_rr(extra, ldns_rr_list_rr(res->rrs, i));
  ldns_rr_list_set_rr_count(res->rrs, main); /* the records moved to extra */
  if (want) {
    res->sigs = extra;
  } else {
    ldns_rr_list_deep_free(extra);
  }
}

static int fetch(cache_t *c, const uint8_t *key, size_t klen, enum cache_rank min_rank,
                 int64_t now, bool stale, uint32_t stale_ttl, bool want_sigs,
                 struct cache_result *res) {
  uint64_t h = hash_key(c->seed, key, klen);
  struct shard *s = &c->shards[h % CACHE_SHARDS];
  uint8_t *val = NULL;
  size_t vlen = 0;
  pthread_mutex_lock(&s->lock);
  struct entry **slot = find_slot(s, h, key, klen);
  struct entry *e = *slot;
  bool expired = e && e->expiry <= now;
  if (expired && now >= e->expiry + (int64_t)c->limits.stale_window) {
    remove_entry(s, slot);
    e = NULL;
  } else if (expired && !stale) {
    e = NULL; /* kept for serve-stale */
  }
  if (!e || e->rank < min_rank) {
    s->misses++;
    pthread_mutex_unlock(&s->lock);
    return -1;
  }
  lru_unlink(s, e);
  lru_push_front(s, e);
  s->hits++;
  res->kind = (enum cache_kind)e->kind;
  res->rank = (enum cache_rank)e->rank;
  res->sec = e->sec;
  res->stale = expired;
  res->ttl = expired ? stale_ttl : (uint32_t)(e->expiry - now);
  res->orig_ttl = e->orig_ttl;
  vlen = e->vlen;
  val = malloc(vlen ? vlen : 1);
  if (val && vlen) memcpy(val, e->data + e->klen, vlen);
  pthread_mutex_unlock(&s->lock);
  if (!val) return -1;
  /* Decoding happens outside the lock: it allocates. */
  res->rrs = cache_decode_rrs(val, vlen, res->ttl);
  free(val);
  if (!res->rrs) return -1;
  split_sigs(res, (uint16_t)(key[klen - 2] << 8 | key[klen - 1]), want_sigs);
  return 0;
}

int cache_lookup_ex(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                    enum cache_rank min_rank, int64_t now, bool stale, uint32_t stale_ttl,
                    bool want_sigs, struct cache_result *res) {
  uint8_t key[KEY_MAX];
  memset(res, 0, sizeof *res);
  size_t klen = make_key(name, (uint16_t)type, key);
  if (!klen) return -1;
  if (fetch(c, key, klen, min_rank, now, stale, stale_ttl, want_sigs, res) == 0) return 0;
  klen = make_key(name, 0, key);
  return fetch(c, key, klen, min_rank, now, stale, stale_ttl, want_sigs, res);
}

int cache_lookup(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                 enum cache_rank min_rank, int64_t now, struct cache_result *res) {
  return cache_lookup_ex(c, name, type, min_rank, now, false, 0, false, res);
}

int cache_lookup_stale(cache_t *c, const ldns_rdf *name, ldns_rr_type type,
                       enum cache_rank min_rank, int64_t now, uint32_t stale_ttl,
                       struct cache_result *res) {
  return cache_lookup_ex(c, name, type, min_rank, now, true, stale_ttl, false, res);
}

void cache_get_stats(cache_t *c, struct cache_stats *out) {
  memset(out, 0, sizeof *out);
  for (int i = 0; i < CACHE_SHARDS; i++) {
    struct shard *s = &c->shards[i];
    pthread_mutex_lock(&s->lock);
    out->hits += s->hits;
    out->misses += s->misses;
    out->inserts += s->inserts;
    out->evictions += s->evictions;
    out->bytes += s->bytes;
    out->table_bytes += s->table_cost;
    out->entries += s->entries;
    pthread_mutex_unlock(&s->lock);
  }
}
