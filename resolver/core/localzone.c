/*
 * Local zones and local data; the contract is in localzone.h.
 *
 * Building stores every local-data line as it comes (zones may be declared
 * after their data); lz_finish places each record in its closest enclosing
 * zone, creating nodes (owner names and the empty non-terminals above them)
 * and checking what may share a name. After that nothing changes, so
 * lookups take no lock.
 *
 * Lookup fast path: one open-addressing table holds every zone name and
 * every suffix of one (suffix-only entries have no zone). A query walks its
 * name from the last label towards the full name and stops at the first
 * suffix the table lacks, so a name under no local zone costs one probe for
 * its TLD; the deepest zone met on the way is the closest enclosing one. The
 * hash runs over the wire key backwards so each longer suffix only extends
 * the previous hash.
 */
#include "resolver/core/localzone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resolver/lib/name.h"

#define NAME_MAX_WIRE 255
#define LABELS_MAX 128
#define DEFAULT_TTL 3600
#define TYPE_ALIAS 0x10000 /* outside the 16-bit type space: never a real type */

enum origin { ZO_CONFIG, ZO_AUTO, ZO_DEFAULT };

struct rec {
  ldns_rr *rr;       /* ALIAS: owner, TTL and the target as the only rdf */
  bool alias;
  struct zone *dflt; /* a built-in record: the default zone it belongs to */
  char *line, *where;
};

struct zone {
  ldns_rdf *name;
  enum lz_type type;
  enum origin origin;
  bool removed;      /* a default taken out by nodefault */
  const ldns_rr *soa; /* for negative answers: the apex's own, or synth's */
  struct rec *synth; /* the synthesised SOA, when the apex has none */
  size_t klen;
  uint8_t key[NAME_MAX_WIRE];
};

struct node {
  struct zone *zone;
  struct rec **recs; /* none: an empty non-terminal */
  size_t n, cap;
  size_t klen;
  uint8_t key[];
};

struct slot {
  uint64_t h;
  const uint8_t *key; /* NULL: free */
  size_t klen;
  void *val;
};

struct table {
  struct slot *s;
  size_t cap, n; /* cap: a power of two, or 0 */
};

struct localzones {
  int refs;
  bool finished;
  struct table names; /* zone names; after lz_finish also their suffixes */
  struct table nodes; /* nodes by owner key */
  struct zone **zones;
  size_t nzones, zcap;
  struct rec *recs;   /* in config order; fixed once lz_finish starts */
  size_t nrecs, rcap;
  struct node **nodelist;
  size_t nnodes, ncap;
  struct zone *root;  /* a local zone at ".", if any */
  size_t placed;      /* records in nodes, duplicates and synthesised SOAs not counted */
};

/* ---- hashing and the open-addressing table ---- */

static inline uint64_t hash_step(uint64_t h, uint8_t c) {
  return (h ^ c) * 1099511628211ull;
}

/* FNV-1a over the key from its last byte to its first, so a name's hash
 * extends its parent's (see closest()). */
static uint64_t hash_rev(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  while (n-- > 0) h = hash_step(h, k[n]);
  return h;
}

static inline size_t slot_index(uint64_t h, size_t cap) {
  return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

static struct slot *tab_find(const struct table *t, const uint8_t *key, size_t klen,
                             uint64_t h) {
  if (t->cap == 0) return NULL;
  for (size_t i = slot_index(h, t->cap);; i = (i + 1) & (t->cap - 1)) {
    struct slot *s = &t->s[i];
    if (!s->key) return NULL;
    if (s->h == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
  }
}

/* The slot for key, inserted (val NULL) if absent; NULL when out of memory.
 * Keeps the load at most one half so probes stay short. */
static struct slot *tab_put(struct table *t, const uint8_t *key, size_t klen, uint64_t h) {
  struct slot *s = tab_find(t, key, klen, h);
  if (s) return s;
  if ((t->n + 1) * 2 > t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 64;
    struct slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return NULL;
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->s[i].key) continue;
      size_t j = slot_index(t->s[i].h, ncap);
      while (ns[j].key) j = (j + 1) & (ncap - 1);
      ns[j] = t->s[i];
    }
    free(t->s);
    t->s = ns;
    t->cap = ncap;
  }
  size_t i = slot_index(h, t->cap);
  while (t->s[i].key) i = (i + 1) & (t->cap - 1);
  s = &t->s[i];
  s->h = h;
  s->key = key;
  s->klen = klen;
  s->val = NULL;
  t->n++;
  return s;
}

static void tab_free(struct table *t) {
  free(t->s);
  memset(t, 0, sizeof *t);
}

/* Room for one more element in a growing array; false when out of memory. */
static bool grow(void **arr, size_t n, size_t *cap, size_t elem) {
  if (n < *cap) return true;
  size_t ncap = *cap ? *cap * 2 : 16;
  void *p = realloc(*arr, ncap * elem);
  if (!p) return false;
  *arr = p;
  *cap = ncap;
  return true;
}

/* ---- zones ---- */

static struct zone *zone_find(const localzones_t *z, const uint8_t *key, size_t klen) {
  struct slot *s = tab_find(&z->names, key, klen, hash_rev(key, klen));
  return s ? s->val : NULL;
}

/* Enter zn under its name and each of its suffixes but the root (a query's
 * walk starts at its last label). */
static bool names_insert(localzones_t *z, struct zone *zn) {
  struct slot *s = tab_put(&z->names, zn->key, zn->klen, hash_rev(zn->key, zn->klen));
  if (!s) return false;
  s->val = zn;
  if (zn->klen == 1) z->root = zn;
  for (size_t off = zn->key[0] + 1u; off + 1 < zn->klen; off += zn->key[off] + 1u) {
    const uint8_t *k = zn->key + off;
    if (!tab_put(&z->names, k, zn->klen - off, hash_rev(k, zn->klen - off))) return false;
  }
  return true;
}

/* A new zone, in the list and the names table; NULL when out of memory. */
static struct zone *zone_add(localzones_t *z, const ldns_rdf *name, const uint8_t *key,
                             size_t klen, enum lz_type type, enum origin origin) {
  if (!grow((void **)&z->zones, z->nzones, &z->zcap, sizeof *z->zones)) return NULL;
  struct zone *zn = calloc(1, sizeof *zn);
  if (!zn) return NULL;
  zn->name = ldns_rdf_clone(name);
  if (!zn->name) {
    free(zn);
    return NULL;
  }
  zn->type = type;
  zn->origin = origin;
  memcpy(zn->key, key, klen);
  zn->klen = klen;
  z->zones[z->nzones++] = zn;
  return names_insert(z, zn) ? zn : NULL;
}

/* The closest local zone at or above the name with this canonical key. */
static struct zone *closest(const localzones_t *z, const uint8_t *key, size_t klen) {
  size_t off[LABELS_MAX], n = 0;
  for (size_t i = 0; i < klen && key[i] && n < LABELS_MAX; i += key[i] + 1u) off[n++] = i;
  struct zone *best = z->root;
  uint64_t h = hash_step(1469598103934665603ull, 0); /* the root label */
  size_t done = klen - 1;
  while (n-- > 0) {
    for (size_t j = done; j-- > off[n];) h = hash_step(h, key[j]);
    done = off[n];
    struct slot *s = tab_find(&z->names, key + done, klen - done, h);
    if (!s) break; /* no zone at or below this suffix */
    if (s->val) best = s->val;
  }
  return best;
}

/* ---- parsing ---- */

static void rec_free(struct rec *r) {
  ldns_rr_free(r->rr);
  free(r->line);
  free(r->where);
}

/* Splits a copy of s at white space. Up to max tokens go to tok; returns how
 * many there are. The copy is *buf, for the caller to free. */
static size_t split(const char *s, char **buf, char **tok, size_t max) {
  size_t n = 0;
  *buf = strdup(s);
  if (!*buf) return 0;
  for (char *save = NULL, *t = strtok_r(*buf, " \t\r\n", &save); t;
       t = strtok_r(NULL, " \t\r\n", &save)) {
    if (n < max) tok[n] = t;
    n++;
  }
  return n;
}

static bool is_ttl(const char *s, uint32_t *ttl) {
  const char *end = NULL;
  if (*s < '0' || *s > '9') return false;
  *ttl = ldns_str2period(s, &end);
  return end && *end == 0;
}

static const char *parse_alias(char **tok, size_t n, size_t at, uint32_t ttl, ldns_rr **out) {
  if (n != at + 2) return "expected NAME [TTL] ALIAS TARGET";
  ldns_rdf *owner = ldns_dname_new_frm_str(tok[0]);
  if (!owner) return "bad owner name";
  ldns_rdf *target = ldns_dname_new_frm_str(tok[at + 1]);
  if (!target) {
    ldns_rdf_deep_free(owner);
    return "bad ALIAS target";
  }
  ldns_rr *rr = ldns_rr_new();
  if (!rr) {
    ldns_rdf_deep_free(owner);
    ldns_rdf_deep_free(target);
    return "out of memory";
  }
  ldns_rr_set_owner(rr, owner);
  ldns_rr_set_ttl(rr, ttl);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_type(rr, LDNS_RR_TYPE_NULL); /* a container: the rec says ALIAS */
  if (!ldns_rr_push_rdf(rr, target)) {
    ldns_rdf_deep_free(target);
    ldns_rr_free(rr);
    return "out of memory";
  }
  *out = rr;
  return NULL;
}

/* One local-data line into an RR (alias: the ALIAS container). */
static const char *parse_record(const char *spec, ldns_rr **out, bool *alias) {
  char *buf, *tok[6];
  size_t n = split(spec, &buf, tok, 6);
  if (!buf) return "out of memory";
  const char *why = NULL;
  *out = NULL;
  *alias = false;
  if (n < 2) {
    why = "expected NAME [TTL] TYPE RDATA";
    goto done;
  }
  /* ALIAS is ours: find the type token past an optional TTL and class. */
  size_t at = 1;
  uint32_t ttl = DEFAULT_TTL;
  if (at < n && at < 6 && is_ttl(tok[at], &ttl)) at++;
  if (at < n && at < 6) {
    ldns_rr_class c = ldns_get_rr_class_by_name(tok[at]);
    if (c != 0 && c != LDNS_RR_CLASS_IN) {
      why = "only class IN is supported";
      goto done;
    }
    if (c == LDNS_RR_CLASS_IN) at++;
  }
  if (at < n && at < 6 && strcasecmp(tok[at], "ALIAS") == 0) {
    *alias = true;
    why = parse_alias(tok, n, at, ttl, out);
    goto done;
  }
  /* Leading white space would mean "the previous owner" to ldns; names
   * are absolute, so "." is the origin of any without the final dot. */
  const char *s = spec + strspn(spec, " \t\r\n");
  size_t len = strlen(s);
  while (len > 0 && strchr(" \t\r\n", s[len - 1])) len--;
  char *text = strndup(s, len);
  ldns_rdf *origin = ldns_dname_new_frm_str(".");
  if (!text || !origin) {
    why = "out of memory";
  } else if (ldns_rr_new_frm_str(out, text, DEFAULT_TTL, origin, NULL) != LDNS_STATUS_OK) {
    *out = NULL;
    why = "expected NAME [TTL] TYPE RDATA";
  } else if (ldns_rr_get_class(*out) != LDNS_RR_CLASS_IN) {
    ldns_rr_free(*out);
    *out = NULL;
    why = "only class IN is supported";
  }
  free(text);
  ldns_rdf_deep_free(origin);
done:
  free(buf);
  return why;
}

static const char *add_record(localzones_t *z, const char *spec, const char *where,
                              struct zone *dflt) {
  if (z->finished) return "local data is already complete";
  ldns_rr *rr;
  bool alias;
  const char *why = parse_record(spec, &rr, &alias);
  if (why) return why;
  if (!grow((void **)&z->recs, z->nrecs, &z->rcap, sizeof *z->recs)) {
    ldns_rr_free(rr);
    return "out of memory";
  }
  struct rec *r = &z->recs[z->nrecs];
  memset(r, 0, sizeof *r);
  r->rr = rr;
  r->alias = alias;
  r->dflt = dflt;
  r->line = strdup(spec);
  r->where = strdup(where ? where : "local-data");
  if (!r->line || !r->where) {
    rec_free(r);
    return "out of memory";
  }
  z->nrecs++;
  return NULL;
}

const char *lz_add_data(localzones_t *z, const char *spec, const char *where) {
  return add_record(z, spec, where, NULL);
}

static const struct {
  const char *name;
  int type; /* -1: nodefault */
} zone_types[] = {
    {"static", LZ_STATIC}, {"transparent", LZ_TRANSPARENT}, {"redirect", LZ_REDIRECT},
    {"refuse", LZ_REFUSE}, {"nodefault", -1},
};

const char *lz_add_zone(localzones_t *z, const char *spec) {
  if (z->finished) return "local zones are already complete";
  char *buf, *tok[2];
  size_t n = split(spec, &buf, tok, 2);
  if (!buf) return "out of memory";
  const char *why = NULL;
  ldns_rdf *name = NULL;
  int type = -2;
  if (n != 2) {
    why = "expected NAME TYPE";
    goto done;
  }
  for (size_t i = 0; i < sizeof zone_types / sizeof zone_types[0]; i++)
    if (strcasecmp(tok[1], zone_types[i].name) == 0) type = zone_types[i].type;
  if (type == -2) {
    why = "unknown zone type (static, transparent, redirect, refuse, nodefault)";
    goto done;
  }
  uint8_t key[NAME_MAX_WIRE];
  size_t klen;
  name = ldns_dname_new_frm_str(tok[0]);
  if (!name || (klen = name_key(name, key)) == 0) {
    why = "bad zone name";
    goto done;
  }
  struct zone *zn = zone_find(z, key, klen);
  if (type == -1) {
    /* Only defaults go: a configured zone of that name stays. */
    if (zn && zn->origin == ZO_DEFAULT) zn->removed = true;
  } else if (zn) {
    /* A later declaration (or a user's, over a default) replaces it; a
     * replaced default's own records are dropped in lz_finish. */
    ldns_rdf *copy = ldns_rdf_clone(name);
    if (!copy) {
      why = "out of memory";
      goto done;
    }
    ldns_rdf_deep_free(zn->name);
    zn->name = copy;
    zn->type = (enum lz_type)type;
    zn->origin = ZO_CONFIG;
    zn->removed = false;
  } else if (!zone_add(z, name, key, klen, (enum lz_type)type, ZO_CONFIG)) {
    why = "out of memory";
  }
done:
  ldns_rdf_deep_free(name);
  free(buf);
  return why;
}

/* ---- defaults ---- */

#define ZEROS8 "0.0.0.0.0.0.0.0."
#define V6_LOOPBACK "1.0.0.0.0.0.0.0." ZEROS8 ZEROS8 ZEROS8 "ip6.arpa."
#define V6_UNSPEC ZEROS8 ZEROS8 ZEROS8 ZEROS8 "ip6.arpa."

static const char *const default_zones[] = {
    "localhost.", "127.in-addr.arpa.", V6_LOOPBACK, "onion.", "invalid.", "home.arpa.",
    /* RFC 6303 */
    "10.in-addr.arpa.", "168.192.in-addr.arpa.", "254.169.in-addr.arpa.", "0.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.", "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.",
    "113.0.203.in-addr.arpa.", V6_UNSPEC, "d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.",
    "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.", "8.b.d.0.1.0.0.2.ip6.arpa.",
};

static const struct {
  const char *zone, *data;
} default_data[] = {
    {"localhost.", "localhost. A 127.0.0.1"},
    {"localhost.", "localhost. AAAA ::1"},
    {"127.in-addr.arpa.", "1.0.0.127.in-addr.arpa. PTR localhost."},
    {V6_LOOPBACK, V6_LOOPBACK " PTR localhost."},
};

static bool add_default_zone(localzones_t *z, const char *text) {
  ldns_rdf *name = ldns_dname_new_frm_str(text);
  uint8_t key[NAME_MAX_WIRE];
  size_t klen = name ? name_key(name, key) : 0;
  bool ok = klen && zone_add(z, name, key, klen, LZ_STATIC, ZO_DEFAULT);
  ldns_rdf_deep_free(name);
  return ok;
}

static bool add_defaults(localzones_t *z) {
  for (size_t i = 0; i < sizeof default_zones / sizeof default_zones[0]; i++)
    if (!add_default_zone(z, default_zones[i])) return false;
  for (int i = 16; i <= 31; i++) {
    char text[32];
    snprintf(text, sizeof text, "%d.172.in-addr.arpa.", i);
    if (!add_default_zone(z, text)) return false;
  }
  for (size_t i = 0; i < sizeof default_data / sizeof default_data[0]; i++) {
    ldns_rdf *name = ldns_dname_new_frm_str(default_data[i].zone);
    uint8_t key[NAME_MAX_WIRE];
    size_t klen = name ? name_key(name, key) : 0;
    ldns_rdf_deep_free(name);
    struct zone *zn = klen ? zone_find(z, key, klen) : NULL;
    if (!zn || add_record(z, default_data[i].data, "built-in", zn)) return false;
  }
  return true;
}

localzones_t *lz_new(bool with_defaults) {
  localzones_t *z = calloc(1, sizeof *z);
  if (!z) return NULL;
  z->refs = 1;
  if (with_defaults && !add_defaults(z)) {
    lz_unref(z);
    return NULL;
  }
  return z;
}

localzones_t *lz_ref(localzones_t *z) {
  if (z) __atomic_add_fetch(&z->refs, 1, __ATOMIC_RELAXED);
  return z;
}

void lz_unref(localzones_t *z) {
  if (!z || __atomic_sub_fetch(&z->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  for (size_t i = 0; i < z->nrecs; i++) rec_free(&z->recs[i]);
  free(z->recs);
  for (size_t i = 0; i < z->nnodes; i++) {
    free(z->nodelist[i]->recs);
    free(z->nodelist[i]);
  }
  free(z->nodelist);
  for (size_t i = 0; i < z->nzones; i++) {
    struct zone *zn = z->zones[i];
    if (zn->synth) {
      rec_free(zn->synth);
      free(zn->synth);
    }
    ldns_rdf_deep_free(zn->name);
    free(zn);
  }
  free(z->zones);
  tab_free(&z->names);
  tab_free(&z->nodes);
  free(z);
}

/* ---- placing records (lz_finish) ---- */

static int rec_type(const struct rec *r) {
  return r->alias ? TYPE_ALIAS : (int)ldns_rr_get_type(r->rr);
}

static bool has(const struct node *nd, int type) {
  for (size_t i = 0; i < nd->n; i++)
    if (rec_type(nd->recs[i]) == type) return true;
  return false;
}

/* The same record: owner (any case), type, class and rdata; the TTL is not
 * compared, a set keeps the first one's. */
static bool same(const struct rec *a, const struct rec *b) {
  if (rec_type(a) != rec_type(b)) return false;
  if (!name_equal(ldns_rr_owner(a->rr), ldns_rr_owner(b->rr))) return false;
  size_t n = ldns_rr_rd_count(a->rr);
  if (n != ldns_rr_rd_count(b->rr)) return false;
  for (size_t i = 0; i < n; i++) {
    const ldns_rdf *x = ldns_rr_rdf(a->rr, i), *y = ldns_rr_rdf(b->rr, i);
    if (ldns_rdf_get_type(x) != ldns_rdf_get_type(y)) return false;
    if (ldns_rdf_get_type(x) == LDNS_RDF_TYPE_DNAME) {
      if (!name_equal(x, y)) return false;
    } else if (ldns_rdf_size(x) != ldns_rdf_size(y) ||
               memcmp(ldns_rdf_data(x), ldns_rdf_data(y), ldns_rdf_size(x)) != 0) {
      return false;
    }
  }
  return true;
}

static struct node *node_find(const localzones_t *z, const uint8_t *key, size_t klen) {
  struct slot *s = tab_find(&z->nodes, key, klen, hash_rev(key, klen));
  return s ? s->val : NULL;
}

/* The node at key in zn, created empty if missing; *made says which. */
static struct node *node_get(localzones_t *z, struct zone *zn, const uint8_t *key, size_t klen,
                             bool *made) {
  struct node *nd = node_find(z, key, klen);
  *made = false;
  if (nd) return nd;
  if (!grow((void **)&z->nodelist, z->nnodes, &z->ncap, sizeof *z->nodelist)) return NULL;
  nd = calloc(1, sizeof *nd + klen);
  if (!nd) return NULL;
  nd->zone = zn;
  nd->klen = klen;
  memcpy(nd->key, key, klen);
  z->nodelist[z->nnodes++] = nd;
  struct slot *s = tab_put(&z->nodes, nd->key, klen, hash_rev(key, klen));
  if (!s) return NULL;
  s->val = nd;
  *made = true;
  return nd;
}

static bool node_push(struct node *nd, struct rec *r) {
  if (!grow((void **)&nd->recs, nd->n, &nd->cap, sizeof *nd->recs)) return false;
  nd->recs[nd->n++] = r;
  return true;
}

/* Puts r (owner key, klen) in zn. Returns NULL or why it cannot share its
 * name with what is there. */
static const char *place(localzones_t *z, struct zone *zn, struct rec *r, const uint8_t *key,
                         size_t klen) {
  bool made;
  struct node *nd = node_get(z, zn, key, klen, &made);
  if (!nd) return "out of memory";
  for (size_t i = 0; i < nd->n; i++)
    if (same(nd->recs[i], r)) return NULL;
  int t = rec_type(r);
  bool addr = t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA;
  if (t == LDNS_RR_TYPE_CNAME) {
    /* An auto zone sits at its data's owner: a CNAME there is fine. */
    if (klen == zn->klen && zn->origin != ZO_AUTO)
      return "a CNAME cannot be at a zone apex; use ALIAS";
    if (has(nd, LDNS_RR_TYPE_CNAME)) return "two CNAMEs at one name";
    if (nd->n) return "a CNAME and other data at one name";
  } else {
    if (has(nd, LDNS_RR_TYPE_CNAME)) return "a CNAME and other data at one name";
    if (t == TYPE_ALIAS && has(nd, TYPE_ALIAS)) return "two ALIASes at one name";
    if (t == TYPE_ALIAS && (has(nd, LDNS_RR_TYPE_A) || has(nd, LDNS_RR_TYPE_AAAA)))
      return "ALIAS and A or AAAA at one name";
    if (addr && has(nd, TYPE_ALIAS)) return "ALIAS and A or AAAA at one name";
  }
  if (!node_push(nd, r)) return "out of memory";
  z->placed++;
  /* Empty non-terminals up to the apex; an existing node already has its
   * ancestors. */
  for (size_t off = key[0] + 1u; klen - off >= zn->klen && key[off]; off += key[off] + 1u) {
    if (!node_get(z, zn, key + off, klen - off, &made)) return "out of memory";
    if (!made) break;
  }
  return NULL;
}

/* "ZONE 3600 IN SOA ZONE nobody.invalid. 1 3600 1200 604800 3600" */
static struct rec *synth_soa(const struct zone *zn) {
  struct rec *r = calloc(1, sizeof *r);
  ldns_rr *rr = ldns_rr_new();
  if (!r || !rr) goto fail;
  r->rr = rr;
  ldns_rr_set_owner(rr, ldns_rdf_clone(zn->name));
  ldns_rr_set_ttl(rr, DEFAULT_TTL);
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_type(rr, LDNS_RR_TYPE_SOA);
  ldns_rdf *f[7] = {
      ldns_rdf_clone(zn->name),
      ldns_dname_new_frm_str("nobody.invalid."),
      ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, 1),
      ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 3600),
      ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 1200),
      ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 604800),
      ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, 3600),
  };
  bool ok = ldns_rr_owner(rr) != NULL;
  for (int i = 0; i < 7; i++) {
    if (ok && f[i] && ldns_rr_push_rdf(rr, f[i])) continue;
    ok = false;
    ldns_rdf_deep_free(f[i]);
  }
  if (ok) return r;
fail:
  ldns_rr_free(rr);
  free(r);
  return NULL;
}

/* The apex SOA for negative answers; a static zone also answers SOA queries
 * at its apex with the synthesised one. */
static bool zone_soa(localzones_t *z, struct zone *zn) {
  struct node *apex = node_find(z, zn->key, zn->klen);
  for (size_t i = 0; apex && i < apex->n; i++) {
    if (rec_type(apex->recs[i]) == LDNS_RR_TYPE_SOA) {
      zn->soa = apex->recs[i]->rr;
      return true;
    }
  }
  if (!zn->synth && !(zn->synth = synth_soa(zn))) return false;
  zn->soa = zn->synth->rr;
  if (zn->type != LZ_STATIC) return true;
  bool made;
  if (!(apex = node_get(z, zn, zn->key, zn->klen, &made))) return false;
  if (has(apex, LDNS_RR_TYPE_CNAME)) return true;
  for (size_t i = 0; i < apex->n; i++)
    if (apex->recs[i] == zn->synth) return true;
  return node_push(apex, zn->synth);
}

/* Rebuilt without the defaults nodefault took out. */
static bool names_rebuild(localzones_t *z) {
  tab_free(&z->names);
  z->root = NULL;
  for (size_t i = 0; i < z->nzones; i++)
    if (!z->zones[i]->removed && !names_insert(z, z->zones[i])) return false;
  return true;
}

int lz_finish(localzones_t *z, char *err, size_t errlen) {
  if (z->finished) return 0;
  if (!names_rebuild(z)) goto oom;
  for (size_t i = 0; i < z->nrecs; i++) {
    struct rec *r = &z->recs[i];
    /* A default's data goes with it: not when nodefault or a user's zone
     * of that name replaced it, nor below a zone the user put inside it. */
    if (r->dflt && (r->dflt->removed || r->dflt->origin != ZO_DEFAULT)) continue;
    uint8_t key[NAME_MAX_WIRE];
    size_t klen = name_key(ldns_rr_owner(r->rr), key);
    if (klen == 0) continue;
    struct zone *zn = closest(z, key, klen);
    if (r->dflt && zn != r->dflt) continue;
    if (!zn) {
      zn = zone_add(z, ldns_rr_owner(r->rr), key, klen, LZ_TRANSPARENT, ZO_AUTO);
      if (!zn) goto oom;
    }
    const char *why = place(z, zn, r, key, klen);
    if (why) {
      snprintf(err, errlen, "%s: %s (got '%s')", r->where, why, r->line);
      return -1;
    }
  }
  for (size_t i = 0; i < z->nzones; i++)
    if (!z->zones[i]->removed && !zone_soa(z, z->zones[i])) goto oom;
  z->finished = true;
  return 0;
oom:
  snprintf(err, errlen, "local data: out of memory");
  return -1;
}

/* ---- lookups ---- */

/* A copy of r's RR under the asker's spelling of the name. */
static ldns_rr *copy_as(const struct rec *r, const ldns_rdf *qname) {
  ldns_rr *c = ldns_rr_clone(r->rr);
  ldns_rdf *owner = ldns_rdf_clone(qname);
  if (!c || !owner) {
    ldns_rr_free(c);
    ldns_rdf_deep_free(owner);
    return NULL;
  }
  ldns_rdf_deep_free(ldns_rr_owner(c));
  ldns_rr_set_owner(c, owner);
  return c;
}

static bool push_copy(struct lz_answer *out, const struct rec *r, const ldns_rdf *qname) {
  if (!out->rrs && !(out->rrs = ldns_rr_list_new())) return false;
  ldns_rr *c = copy_as(r, qname);
  if (c && ldns_rr_list_push_rr(out->rrs, c)) return true;
  ldns_rr_free(c);
  return false;
}

/* The verdict of a node that has data. */
static bool node_answer(const struct zone *zn, const struct node *nd, const ldns_rdf *qname,
                        ldns_rr_type qtype, struct lz_answer *out) {
  for (size_t i = 0; i < nd->n; i++) {
    const struct rec *r = nd->recs[i];
    if (rec_type(r) == LDNS_RR_TYPE_CNAME && qtype != LDNS_RR_TYPE_CNAME) {
      out->verdict = LZV_CNAME;
      return push_copy(out, r, qname);
    }
  }
  if (qtype == LDNS_RR_TYPE_A || qtype == LDNS_RR_TYPE_AAAA) {
    for (size_t i = 0; i < nd->n; i++) {
      const struct rec *r = nd->recs[i];
      if (!r->alias) continue;
      out->verdict = LZV_ALIAS;
      out->alias_ttl = ldns_rr_ttl(r->rr);
      return (out->target = ldns_rdf_clone(ldns_rr_rdf(r->rr, 0))) != NULL;
    }
  }
  for (size_t i = 0; i < nd->n; i++) {
    const struct rec *r = nd->recs[i];
    if (r->alias || (qtype != LDNS_RR_TYPE_ANY && rec_type(r) != (int)qtype)) continue;
    out->verdict = LZV_ANSWER;
    if (!push_copy(out, r, qname)) return false;
  }
  if (out->verdict == LZV_ANSWER) return true;
  out->verdict = LZV_NODATA;
  return (out->soa = ldns_rr_clone(zn->soa)) != NULL;
}

enum lz_verdict lz_lookup(const localzones_t *z, const ldns_rdf *qname, ldns_rr_type qtype,
                          struct lz_answer *out) {
  memset(out, 0, sizeof *out);
  if (!z || !z->finished || !qname) return LZV_NONE;
  uint8_t key[NAME_MAX_WIRE];
  size_t klen = name_key(qname, key);
  if (klen == 0) return LZV_NONE;
  const struct zone *zn = closest(z, key, klen);
  if (!zn) return LZV_NONE;
  const struct node *nd = zn->type == LZ_REDIRECT ? node_find(z, zn->key, zn->klen)
                                                  : node_find(z, key, klen);
  bool ok = true;
  if (nd && nd->n > 0) {
    ok = node_answer(zn, nd, qname, qtype, out);
  } else {
    switch (zn->type) {
    case LZ_TRANSPARENT:
      return LZV_NONE; /* only names with local data are answered */
    case LZ_REFUSE:
      out->verdict = LZV_REFUSED;
      break;
    case LZ_REDIRECT:
      out->verdict = LZV_NODATA;
      break;
    case LZ_STATIC:
      out->verdict = nd ? LZV_NODATA : LZV_NXDOMAIN;
      break;
    }
    if (out->verdict != LZV_REFUSED) ok = (out->soa = ldns_rr_clone(zn->soa)) != NULL;
  }
  out->type = zn->type;
  if (ok) ok = (out->zone = ldns_rdf_clone(zn->name)) != NULL;
  if (!ok) {
    /* Out of memory: resolving normally beats a half-built answer. */
    lz_answer_clear(out);
    return LZV_NONE;
  }
  return out->verdict;
}

void lz_answer_clear(struct lz_answer *a) {
  if (!a) return;
  ldns_rr_list_deep_free(a->rrs);
  ldns_rdf_deep_free(a->target);
  ldns_rr_free(a->soa);
  ldns_rdf_deep_free(a->zone);
  memset(a, 0, sizeof *a);
}

void lz_counts(const localzones_t *z, size_t *zones, size_t *records) {
  size_t nz = 0, nr = 0;
  if (z) {
    for (size_t i = 0; i < z->nzones; i++) nz += !z->zones[i]->removed;
    if (z->finished) {
      nr = z->placed;
    } else {
      for (size_t i = 0; i < z->nrecs; i++) {
        const struct zone *d = z->recs[i].dflt;
        nr += !d || (!d->removed && d->origin == ZO_DEFAULT);
      }
    }
  }
  if (zones) *zones = nz;
  if (records) *records = nr;
}
