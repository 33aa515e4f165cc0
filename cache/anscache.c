/* The per-worker answer cache; see anscache.h. */
#include "cache/anscache.h"

#include "cache/cache.h"
#include "resolver/lib/wire.h"

#include <stdlib.h>
#include <string.h>

#define AC_MAX_RRS 255
#define AC_BUCKETS_MIN 64
#define AC_BUCKETS_MAX (1u << 22)
#define TYPE_OPT 41
#define EDNS_EDE 15

struct ac_entry {
  struct ac_entry *hnext;       /* bucket chain */
  struct ac_entry *prev, *next; /* LRU: most recent at head */
  uint64_t hash;
  int64_t expiry;               /* the first record's expiry */
  struct ac_meta meta;
  uint16_t klen, wlen, nttl;
  size_t cost;
  /* data: uint32_t exp[nttl], uint16_t off[nttl], key[klen], wire[wlen] */
  uint8_t data[];
};

struct anscache {
  struct ac_entry **buckets;
  size_t mask;
  size_t table_cost; /* the bucket array, counted in bytes */
  struct ac_entry *head, *tail;
  size_t bytes, budget;
  struct ac_stats st;
};

static inline uint32_t *exps(struct ac_entry *e) { return (uint32_t *)e->data; }
static inline uint16_t *offs(struct ac_entry *e) {
  return (uint16_t *)(e->data + 4u * e->nttl);
}
static inline uint8_t *key_of(struct ac_entry *e) { return e->data + 6u * e->nttl; }
static inline uint8_t *wire_of(struct ac_entry *e) { return key_of(e) + e->klen; }

static inline uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* ---- parsing queries --------------------------------------------------------- */

/* The question name, lower-cased into key; returns the offset after it or 0. */
static size_t parse_name(const uint8_t *q, size_t len, size_t pos, uint8_t *key, size_t *klen) {
  size_t n = 0;
  for (;;) {
    if (pos >= len) return 0;
    uint8_t l = q[pos];
    if (l > 63 || n + l + 1 > 255 || pos + 1 + l > len) return 0; /* pointers, junk */
    key[n++] = l;
    pos++;
    if (l == 0) break;
    for (uint8_t i = 0; i < l; i++) {
      uint8_t c = q[pos++];
      key[n++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
  }
  *klen = n;
  return pos;
}

/* At most one OPT record, version 0, ending the packet exactly. */
static bool parse_opt(const uint8_t *q, size_t len, size_t pos, uint16_t our_edns,
                      struct ac_query *out) {
  if (pos + 11 > len || q[pos] != 0 || get16(q + pos + 1) != TYPE_OPT || q[pos + 6] != 0)
    return false;
  uint16_t size = get16(q + pos + 3);
  if (pos + 11 + get16(q + pos + 9) != len) return false;
  out->edns = true;
  out->do_bit = q[pos + 7] & 0x80;
  out->limit = size < 512 ? 512 : size > our_edns ? our_edns : size;
  return true;
}

static uint64_t hash_key(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
  return h ^ (h >> 32);
}

bool ac_parse(const uint8_t *q, size_t len, uint16_t our_edns, struct ac_query *out) {
  if (len < 17 || (q[2] & 0xf8) != 0) return false;           /* QR=0, opcode QUERY */
  if (get16(q + 4) != 1 || get16(q + 6) || get16(q + 8) || get16(q + 10) > 1) return false;
  size_t klen;
  size_t pos = parse_name(q, len, 12, out->key, &klen);
  if (!pos || pos + 4 > len) return false;
  out->qtype = get16(q + pos);
  if (get16(q + pos + 2) != 1) return false;                   /* class IN */
  switch (out->qtype) {
  case 41: case 250: case 251: case 252: return false;         /* OPT, TSIG, IXFR, AXFR */
  default: break;
  }
  out->qend = pos + 4;
  out->id = get16(q);
  out->rd = q[2] & 0x01;
  out->cd = q[3] & 0x10;
  out->ad = q[3] & 0x20;
  out->edns = out->do_bit = false;
  out->limit = 512;
  if (get16(q + 10) ? !parse_opt(q, len, out->qend, our_edns, out) : out->qend != len)
    return false;
  memcpy(out->key + klen, q + pos, 4);
  out->key[klen + 4] = (uint8_t)(out->edns | out->do_bit << 1 | out->cd << 2 | out->ad << 3);
  out->klen = klen + 5;
  out->hash = hash_key(out->key, out->klen);
  return true;
}

/* ---- the cache ----------------------------------------------------------------- */

anscache_t *anscache_new(size_t max_bytes) {
  struct anscache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->buckets = calloc(AC_BUCKETS_MIN, sizeof *c->buckets);
  if (!c->buckets) {
    free(c);
    return NULL;
  }
  c->mask = AC_BUCKETS_MIN - 1;
  /* The bucket array counts against the budget too; it starts small and
   * doubles with the entries while the larger one fits (see grow()). */
  c->table_cost = c->bytes = cache_alloc_cost(c->buckets);
  c->budget = max_bytes;
  return c;
}

static void grow(struct anscache *c) {
  size_t n = c->mask + 1;
  if (c->st.entries <= n || n >= AC_BUCKETS_MAX) return;
  struct ac_entry **t = calloc(2 * n, sizeof *t);
  if (!t) return;
  size_t cost = cache_alloc_cost(t);
  if (c->bytes - c->table_cost + cost > c->budget) {
    free(t);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    for (struct ac_entry *e = c->buckets[i], *next; e; e = next) {
      next = e->hnext;
      e->hnext = t[e->hash & (2 * n - 1)];
      t[e->hash & (2 * n - 1)] = e;
    }
  }
  free(c->buckets);
  c->buckets = t;
  c->mask = 2 * n - 1;
  c->bytes += cost - c->table_cost;
  c->table_cost = cost;
}

static void lru_unlink(struct anscache *c, struct ac_entry *e) {
  if (e->prev) e->prev->next = e->next;
  else c->head = e->next;
  if (e->next) e->next->prev = e->prev;
  else c->tail = e->prev;
}

static void lru_front(struct anscache *c, struct ac_entry *e) {
  e->prev = NULL;
  e->next = c->head;
  if (c->head) c->head->prev = e;
  c->head = e;
  if (!c->tail) c->tail = e;
}

static struct ac_entry **slot_of(struct anscache *c, uint64_t h, const uint8_t *key,
                                 size_t klen) {
  struct ac_entry **pp = &c->buckets[h & c->mask];
  for (; *pp; pp = &(*pp)->hnext) {
    struct ac_entry *e = *pp;
    if (e->hash == h && e->klen == klen && memcmp(key_of(e), key, klen) == 0) return pp;
  }
  return pp;
}

static void remove_entry(struct anscache *c, struct ac_entry **slot) {
  struct ac_entry *e = *slot;
  *slot = e->hnext;
  lru_unlink(c, e);
  c->bytes -= e->cost;
  c->st.entries--;
  free(e);
}

void anscache_clear(anscache_t *c) {
  while (c->tail) remove_entry(c, slot_of(c, c->tail->hash, key_of(c->tail), c->tail->klen));
}

void anscache_free(anscache_t *c) {
  if (!c) return;
  anscache_clear(c);
  free(c->buckets);
  free(c);
}

size_t anscache_answer(anscache_t *c, const struct ac_query *q, const uint8_t *query,
                       uint8_t *out, size_t cap, int64_t now, struct ac_meta *meta) {
  struct ac_entry **slot = slot_of(c, q->hash, q->key, q->klen);
  struct ac_entry *e = *slot;
  if (e && e->expiry <= now) {
    remove_entry(c, slot);
    e = NULL;
  }
  if (!e || e->wlen > q->limit || e->wlen > cap) {
    c->st.misses++;
    return 0;
  }
  const uint8_t *w = wire_of(e);
  memcpy(out, w, e->wlen);
  out[0] = (uint8_t)(q->id >> 8);
  out[1] = (uint8_t)q->id;
  out[2] = (uint8_t)((w[2] & ~0x01) | q->rd);
  out[3] = (uint8_t)((w[3] & ~0x10) | (q->cd ? 0x10 : 0));
  memcpy(out + 12, query + 12, q->qend - 12); /* the client's own letter case */
  const uint32_t *exp = exps(e);
  const uint16_t *off = offs(e);
  for (uint16_t i = 0; i < e->nttl; i++) {
    uint32_t ttl = exp[i] > now ? (uint32_t)(exp[i] - now) : 0;
    uint8_t *p = out + off[i];
    p[0] = (uint8_t)(ttl >> 24);
    p[1] = (uint8_t)(ttl >> 16);
    p[2] = (uint8_t)(ttl >> 8);
    p[3] = (uint8_t)ttl;
  }
  if (c->head != e) {
    lru_unlink(c, e);
    lru_front(c, e);
  }
  c->st.hits++;
  *meta = e->meta;
  /* The first hit in the entry's prefetch window asks for a refresh. */
  meta->prefetch = e->meta.prefetch_at && now >= e->meta.prefetch_at;
  if (meta->prefetch) e->meta.prefetch_at = 0;
  return e->wlen;
}

/* ---- storing replies --------------------------------------------------------------- */

/* Does this OPT rdata carry an Extended DNS Error? */
static bool has_ede(const uint8_t *rd, size_t n) {
  for (size_t p = 0; p + 4 <= n; p += 4u + get16(rd + p + 2))
    if (get16(rd + p) == EDNS_EDE) return true;
  return false;
}

/* Find every TTL in the reply; false when it must not be cached. */
static bool find_ttls(const uint8_t *w, size_t len, int64_t now, uint16_t *off, uint32_t *exp,
                      uint16_t *nttl, uint32_t *min_ttl) {
  size_t pos = wire_skip_name(w, len, 12);
  if (!pos || pos + 4 > len || get16(w + 4) != 1) return false;
  pos += 4;
  unsigned nrr = (unsigned)get16(w + 6) + get16(w + 8) + get16(w + 10);
  *nttl = 0;
  *min_ttl = UINT32_MAX;
  for (unsigned i = 0; i < nrr; i++) {
    pos = wire_skip_name(w, len, pos);
    if (!pos || pos + 10 > len) return false;
    uint16_t type = get16(w + pos), rdlen = get16(w + pos + 8);
    if (pos + 10 + rdlen > len) return false;
    if (type == TYPE_OPT) {
      if (has_ede(w + pos + 10, rdlen)) return false;
    } else {
      uint32_t ttl = (uint32_t)get16(w + pos + 4) << 16 | get16(w + pos + 6);
      if (ttl == 0 || *nttl == AC_MAX_RRS) return false;
      if (ttl < *min_ttl) *min_ttl = ttl;
      off[*nttl] = (uint16_t)(pos + 4);
      exp[(*nttl)++] = (uint32_t)(now + ttl);
    }
    pos += 10u + rdlen;
  }
  return pos == len;
}

void anscache_store(anscache_t *c, const struct ac_query *q, const uint8_t *reply, size_t len,
                    int64_t now, const struct ac_meta *meta) {
  uint16_t off[AC_MAX_RRS], nttl;
  uint32_t exp[AC_MAX_RRS], min_ttl;
  uint8_t rcode = len >= 12 ? reply[3] & 0x0f : 0xff;
  if (len < 12 || len > 65535 || (rcode != 0 && rcode != 3) || (reply[2] & 0x02)) return;
  if (!find_ttls(reply, len, now, off, exp, &nttl, &min_ttl) || nttl == 0) return;
  struct ac_entry *e = malloc(sizeof(struct ac_entry) + 6u * nttl + q->klen + len);
  if (!e) return;
  size_t cost = cache_alloc_cost(e);
  if (cost + c->table_cost > c->budget) {
    free(e);
    return;
  }
  struct ac_entry **slot = slot_of(c, q->hash, q->key, q->klen);
  if (*slot) remove_entry(c, slot);
  while (c->tail && c->bytes + cost > c->budget) {
    remove_entry(c, slot_of(c, c->tail->hash, key_of(c->tail), c->tail->klen));
    c->st.evictions++;
  }
  e->hash = q->hash;
  e->expiry = now + min_ttl;
  e->meta = *meta;
  e->meta.rcode = rcode;
  e->klen = (uint16_t)q->klen;
  e->wlen = (uint16_t)len;
  e->nttl = nttl;
  e->cost = cost;
  memcpy(exps(e), exp, 4u * nttl);
  memcpy(offs(e), off, 2u * nttl);
  memcpy(key_of(e), q->key, q->klen);
  memcpy(wire_of(e), reply, len);
  slot = slot_of(c, q->hash, q->key, q->klen);
  e->hnext = *slot;
  *slot = e;
  lru_front(c, e);
  c->bytes += cost;
  c->st.entries++;
  c->st.inserts++;
  grow(c);
}

void anscache_stats(const anscache_t *c, struct ac_stats *out) {
  *out = c->st;
  out->bytes = c->bytes;
}
