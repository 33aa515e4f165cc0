/* The per-zone key cache; see keycache.h. */
#include "resolver/dnssec/keycache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

/*
 * Locking: the workers store and look up from their threads, cachectl
 * flushes from its own. One mutex, kc->lock, guards the table, the LRU list
 * and every entry; it is held for a hash lookup and a copy, never while
 * calling out, and no other lock is taken under it. Lookups hand out deep
 * copies (the keys), so nothing of an entry is used after the unlock.
 */

/* Every field is guarded by the cache's lock; an entry is freed under it. */
struct kentry {
  struct kentry *hnext;            /* bucket chain */
  struct kentry *prev, *next;      /* LRU, most recent at head */
  uint8_t key[256];                /* canonical wire name */
  size_t klen;
  uint64_t hash;
  int64_t expiry;
  struct sec_result result;
  ldns_rr_list *keys;              /* owned */
};

struct keycache {
  pthread_mutex_t lock;       /* guards everything below but nbuckets and max */
  struct kentry **buckets;    /* lock; the array is never resized */
  size_t nbuckets;            /* set by keycache_new, then read-only; a power of two */
  struct kentry *head, *tail; /* lock */
  size_t n;                   /* lock; entries held */
  size_t max;                 /* set by keycache_new, then read-only */
};

static uint64_t hash_key(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
  return h;
}

keycache_t *keycache_new(size_t max_entries) {
  keycache_t *kc = calloc(1, sizeof *kc);
  if (!kc) return NULL;
  kc->max = max_entries ? max_entries : 1;
  kc->nbuckets = 16;
  while (kc->nbuckets < kc->max) kc->nbuckets *= 2;
  kc->buckets = calloc(kc->nbuckets, sizeof *kc->buckets);
  if (!kc->buckets) {
    free(kc);
    return NULL;
  }
  pthread_mutex_init(&kc->lock, NULL);
  return kc;
}

static void entry_free(struct kentry *e) {
  if (e->keys) ldns_rr_list_deep_free(e->keys);
  free(e);
}

void keycache_free(keycache_t *kc) {
  if (!kc) return;
  for (struct kentry *e = kc->head, *next; e; e = next) {
    next = e->next;
    entry_free(e);
  }
  pthread_mutex_destroy(&kc->lock);
  free(kc->buckets);
  free(kc);
}

static struct kentry **slot_of(keycache_t *kc, const uint8_t *key, size_t klen, uint64_t h) {
  struct kentry **pp = &kc->buckets[h & (kc->nbuckets - 1)];
  while (*pp && !((*pp)->hash == h && (*pp)->klen == klen && !memcmp((*pp)->key, key, klen)))
    pp = &(*pp)->hnext;
  return pp;
}

static void lru_unlink(keycache_t *kc, struct kentry *e) {
  if (e->prev) e->prev->next = e->next;
  else kc->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else kc->tail = e->prev;
  e->prev = e->next = NULL;
}

static void lru_front(keycache_t *kc, struct kentry *e) {
  e->next = kc->head;
  e->prev = NULL;
  if (kc->head) kc->head->prev = e;
  kc->head = e;
  if (!kc->tail) kc->tail = e;
}

/* Unlink e from its bucket and the LRU, and free it. */
static void remove_entry(keycache_t *kc, struct kentry *e) {
  struct kentry **pp = slot_of(kc, e->key, e->klen, e->hash);
  if (*pp == e) *pp = e->hnext;
  lru_unlink(kc, e);
  kc->n--;
  entry_free(e);
}

void keycache_store(keycache_t *kc, const ldns_rdf *zone, const struct sec_result *result,
                    const ldns_rr_list *keys, uint32_t ttl, int64_t now) {
  if (result->state == SEC_BOGUS && ttl > KEYCACHE_BOGUS_TTL) ttl = KEYCACHE_BOGUS_TTL;
  if (!ttl) return;
  struct kentry *e = calloc(1, sizeof *e);
  if (!e) return;
  e->klen = name_key(zone, e->key);
  if (!e->klen) {
    free(e);
    return;
  }
  e->hash = hash_key(e->key, e->klen);
  e->expiry = now + ttl;
  e->result = *result;
  e->keys = result->state == SEC_SECURE && keys ? ldns_rr_list_clone(keys) : NULL;
  pthread_mutex_lock(&kc->lock);
  struct kentry **pp = slot_of(kc, e->key, e->klen, e->hash);
  if (*pp) remove_entry(kc, *pp); /* replaced */
  pp = slot_of(kc, e->key, e->klen, e->hash);
  e->hnext = *pp;
  *pp = e;
  lru_front(kc, e);
  kc->n++;
  while (kc->n > kc->max) remove_entry(kc, kc->tail);
  pthread_mutex_unlock(&kc->lock);
}

int keycache_lookup(keycache_t *kc, const ldns_rdf *zone, int64_t now, struct key_entry *out) {
  uint8_t key[256];
  size_t klen = name_key(zone, key);
  memset(out, 0, sizeof *out);
  if (!klen) return -1;
  uint64_t h = hash_key(key, klen);
  pthread_mutex_lock(&kc->lock);
  struct kentry *e = *slot_of(kc, key, klen, h);
  if (e && e->expiry <= now) {
    remove_entry(kc, e);
    e = NULL;
  }
  if (!e) {
    pthread_mutex_unlock(&kc->lock);
    return -1;
  }
  lru_unlink(kc, e);
  lru_front(kc, e);
  out->result = e->result;
  out->ttl = (uint32_t)(e->expiry - now);
  ldns_rr_list *keys = e->keys;
  /* Copied under the lock: the entry may go as soon as it is released. */
  out->keys = keys ? ldns_rr_list_clone(keys) : NULL;
  pthread_mutex_unlock(&kc->lock);
  return 0;
}

size_t keycache_flush(keycache_t *kc, const ldns_rdf *zone, bool below) {
  size_t gone = 0;
  pthread_mutex_lock(&kc->lock);
  for (struct kentry *e = kc->head, *next; e; e = next) {
    next = e->next;
    ldns_rdf name = {._size = e->klen, ._type = LDNS_RDF_TYPE_DNAME, ._data = e->key};
    if (below ? name_in(&name, zone) : name_equal(&name, zone)) {
      remove_entry(kc, e);
      gone++;
    }
  }
  pthread_mutex_unlock(&kc->lock);
  return gone;
}

size_t keycache_count(keycache_t *kc) {
  pthread_mutex_lock(&kc->lock);
  size_t n = kc->n;
  pthread_mutex_unlock(&kc->lock);
  return n;
}
