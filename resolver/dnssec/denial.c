/* Proofs of nonexistence from NSEC and NSEC3 records; see denial.h. */
#include "resolver/dnssec/denial.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

#define N3_SHA1 1
#define N3_HASH_LEN 20 /* SHA-1, the only NSEC3 hash (RFC 5155 11) */
#define N3_B32_LEN 32  /* its base32hex form, unpadded */
#define MAX_LABELS 128 /* a 255-octet name has at most 127 labels */

/* An NSEC3 record that passed the checks, with its hashes decoded. */
struct n3 {
  uint8_t owner[N3_HASH_LEN];
  uint8_t next[N3_HASH_LEN];
  const ldns_rdf *bitmap;
  bool optout;
};

/* One proof attempt: the question, the usable records, memoised hashes. */
struct proof {
  const ldns_rdf *signer;
  const ldns_rr_list *rrs;
  struct denial_why *why;
  size_t signer_labels;
  /* qname in lower-case wire form; off[i] is where the name without its
   * first i labels starts (off[nlabels] is the root label). */
  uint8_t q[LDNS_MAX_DOMAINLEN + 1];
  size_t qlen, nlabels;
  size_t off[MAX_LABELS + 1];
  bool have_nsec;
  size_t skipped_zone, skipped_n3; /* for the why when nothing is usable */
  /* NSEC3 records with the chosen parameters. */
  struct n3 *n3;
  size_t n3count;
  uint16_t iterations;
  const uint8_t *salt;
  uint8_t saltlen;
  /* Hashes of the suffixes of qname with k labels, and of "*." + them. */
  uint8_t hq[MAX_LABELS + 1][N3_HASH_LEN];
  uint8_t hw[MAX_LABELS + 1][N3_HASH_LEN];
  bool hq_done[MAX_LABELS + 1], hw_done[MAX_LABELS + 1];
  unsigned hashes;
  bool over_budget;
  /* denial_ds: where to say that the name is inside the zone (NULL for the
   * other proofs, for which that proves nothing). */
  bool *inside;
};

const char *denial_result_name(enum denial_result r) {
  static const char *names[] = {"proven", "opt-out", "nsec3-iterations", "not-proven"};
  return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

static enum denial_result say(struct proof *p, enum denial_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum denial_result say(struct proof *p, enum denial_result r, const char *fmt, ...) {
  if (p->why) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why->text, sizeof p->why->text, fmt, ap);
    va_end(ap);
  }
  return r;
}

/* A dname over bytes held elsewhere, so suffixes and wildcard names of qname
 * cost no allocation. */
static ldns_rdf view(const uint8_t *wire, size_t len) {
  ldns_rdf r;
  ldns_rdf_set_type(&r, LDNS_RDF_TYPE_DNAME);
  ldns_rdf_set_size(&r, len);
  ldns_rdf_set_data(&r, (void *)wire);
  return r;
}

/* The ancestor-or-self of qname with k labels. */
static ldns_rdf suffix(const struct proof *p, size_t k) {
  size_t start = p->off[p->nlabels - k];
  return view(p->q + start, p->qlen - start);
}

/* "*." + the suffix with k labels, in buf. Never too long: k is below
 * nlabels, so the two octets fit where qname had a whole label. */
static ldns_rdf wildcard(const struct proof *p, size_t k, uint8_t *buf) {
  ldns_rdf s = suffix(p, k);
  buf[0] = 1;
  buf[1] = '*';
  memcpy(buf + 2, ldns_rdf_data(&s), ldns_rdf_size(&s));
  return view(buf, ldns_rdf_size(&s) + 2);
}

static bool has_type(const ldns_rdf *bitmap, ldns_rr_type t) {
  return bitmap && ldns_rdf_get_type(bitmap) == LDNS_RDF_TYPE_BITMAP &&
         ldns_nsec_bitmap_covers_type(bitmap, t);
}

/* The parent side of a zone cut (NS without SOA), or a DNAME: names below the
 * owner are another zone's or redirected, so this record cannot deny them
 * (RFC 6840 4.1, RFC 5155 8.3). */
static bool cut_below(const ldns_rdf *bitmap) {
  return (has_type(bitmap, LDNS_RR_TYPE_NS) && !has_type(bitmap, LDNS_RR_TYPE_SOA)) ||
         has_type(bitmap, LDNS_RR_TYPE_DNAME);
}

/* Does the bitmap of the record matching `name` prove it has no qtype? It
 * must list neither qtype nor CNAME (RFC 4035 5.4, RFC 5155 8.5/8.6). A DS
 * denial must come from the parent side of a cut, NS without SOA: without NS
 * the name is no delegation, and with SOA the record is the child apex's. For
 * other types NS without SOA is a referral, not NODATA. */
static enum denial_result types_absent(struct proof *p, const ldns_rdf *bitmap,
                                       ldns_rr_type qtype, const char *kind,
                                       const ldns_rdf *name) {
  char n[256];
  if (has_type(bitmap, qtype)) {
    char *t = ldns_rr_type2str(qtype);
    say(p, DENIAL_NOT_PROVEN, "%s at %s lists type %s", kind, name_str(name, n, sizeof n),
        t ? t : "?");
    free(t);
    return DENIAL_NOT_PROVEN;
  }
  if (has_type(bitmap, LDNS_RR_TYPE_CNAME))
    return say(p, DENIAL_NOT_PROVEN, "%s at %s lists CNAME", kind, name_str(name, n, sizeof n));
  bool ns = has_type(bitmap, LDNS_RR_TYPE_NS), soa = has_type(bitmap, LDNS_RR_TYPE_SOA);
  if (qtype == LDNS_RR_TYPE_DS) {
    if (soa)
      return say(p, DENIAL_NOT_PROVEN, "%s at %s is the child zone's apex, not the parent side",
                 kind, name_str(name, n, sizeof n));
    if (!ns)
      return say(p, DENIAL_NOT_PROVEN, "%s at %s has no NS: not a delegation", kind,
                 name_str(name, n, sizeof n));
  } else if (ns && !soa) {
    return say(p, DENIAL_NOT_PROVEN, "%s at %s is a delegation: a referral, not NODATA", kind,
               name_str(name, n, sizeof n));
  }
  return DENIAL_PROVEN;
}

/* For denial_ds: a name that exists with none of NS, SOA, DNAME (or DS,
 * which would contradict the NODATA) is no zone cut but part of the zone. */
static bool no_cut(const ldns_rdf *bitmap) {
  return !has_type(bitmap, LDNS_RR_TYPE_NS) && !has_type(bitmap, LDNS_RR_TYPE_SOA) &&
         !has_type(bitmap, LDNS_RR_TYPE_DNAME) && !has_type(bitmap, LDNS_RR_TYPE_DS);
}

/* The matching record of a NODATA proof: types_absent, except that for
 * denial_ds a name with no cut proves it inside the zone. */
static enum denial_result match_absent(struct proof *p, const ldns_rdf *bitmap,
                                       ldns_rr_type qtype, const char *kind,
                                       const ldns_rdf *name) {
  if (p->inside && qtype == LDNS_RR_TYPE_DS) {
    char n[256];
    if (no_cut(bitmap)) {
      *p->inside = true;
      return DENIAL_PROVEN;
    }
    if (has_type(bitmap, LDNS_RR_TYPE_DNAME) && !has_type(bitmap, LDNS_RR_TYPE_NS))
      return say(p, DENIAL_NOT_PROVEN, "%s at %s has DNAME: no delegation, and names below are "
                 "redirected", kind, name_str(name, n, sizeof n));
  }
  return types_absent(p, bitmap, qtype, kind, name);
}

/* ---- NSEC (RFC 4035) ---- */

static bool nsec_usable(const struct proof *p, const ldns_rr *rr) {
  if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC || ldns_rr_rd_count(rr) < 1) return false;
  const ldns_rdf *next = ldns_rr_rdf(rr, 0);
  return ldns_rdf_get_type(next) == LDNS_RDF_TYPE_DNAME &&
         name_in(ldns_rr_owner(rr), p->signer) && name_in(next, p->signer);
}

static const ldns_rdf *nsec_bitmap(const ldns_rr *rr) {
  return ldns_rr_rd_count(rr) > 1 ? ldns_rr_rdf(rr, 1) : NULL;
}

static const ldns_rr *nsec_matching(const struct proof *p, const ldns_rdf *name) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(p->rrs); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(p->rrs, i);
    if (nsec_usable(p, rr) && name_equal(ldns_rr_owner(rr), name)) return rr;
  }
  return NULL;
}

/* owner < name < next in canonical order; the last NSEC of the zone points
 * back to the apex and covers everything after its owner (RFC 4034 4.1.1). */
static bool nsec_covers(const ldns_rr *rr, const ldns_rdf *name) {
  const ldns_rdf *owner = ldns_rr_owner(rr), *next = ldns_rr_rdf(rr, 0);
  if (ldns_dname_compare(owner, name) >= 0) return false;
  if (ldns_dname_compare(owner, next) < 0) return ldns_dname_compare(name, next) < 0;
  return true;
}

static const ldns_rr *nsec_covering(const struct proof *p, const ldns_rdf *name) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(p->rrs); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(p->rrs, i);
    if (!nsec_usable(p, rr) || !nsec_covers(rr, name)) continue;
    if (name_in(name, ldns_rr_owner(rr)) && cut_below(nsec_bitmap(rr))) continue;
    return rr;
  }
  return NULL;
}

/* Labels of the longest ancestor of qname that is also an ancestor of x. */
static size_t common_labels(const struct proof *p, const ldns_rdf *x) {
  for (size_t k = p->nlabels;; k--) {
    ldns_rdf s = suffix(p, k);
    if (name_in(x, &s) || k == 0) return k;
  }
}

/* The closest encloser an NSEC covering qname implies: owner and next exist,
 * and nothing between them, so the longest ancestor qname shares with either
 * is the longest that exists (empty non-terminals included). */
static size_t nsec_closest(const struct proof *p, const ldns_rr *cover) {
  size_t a = common_labels(p, ldns_rr_owner(cover)), b = common_labels(p, ldns_rr_rdf(cover, 0));
  return a > b ? a : b;
}

/* qname does not exist: an NSEC covers it and none matches. Sets *ce. */
static enum denial_result nsec_absent(struct proof *p, size_t *ce) {
  char n[256];
  ldns_rdf q = suffix(p, p->nlabels);
  if (nsec_matching(p, &q))
    return say(p, DENIAL_NOT_PROVEN, "NSEC shows %s exists", name_str(&q, n, sizeof n));
  const ldns_rr *cover = nsec_covering(p, &q);
  if (!cover) return say(p, DENIAL_NOT_PROVEN, "no NSEC covers %s", name_str(&q, n, sizeof n));
  *ce = nsec_closest(p, cover);
  if (*ce == p->nlabels)
    return say(p, DENIAL_NOT_PROVEN, "NSEC shows %s is an empty non-terminal",
               name_str(&q, n, sizeof n));
  return DENIAL_PROVEN;
}

static enum denial_result nsec_nxdomain(struct proof *p) {
  char n[256];
  size_t ce;
  enum denial_result r = nsec_absent(p, &ce);
  if (r != DENIAL_PROVEN) return r;
  uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
  ldns_rdf wc = wildcard(p, ce, buf);
  if (nsec_matching(p, &wc))
    return say(p, DENIAL_NOT_PROVEN, "wildcard %s exists", name_str(&wc, n, sizeof n));
  if (!nsec_covering(p, &wc))
    return say(p, DENIAL_NOT_PROVEN, "no NSEC proves there is no wildcard %s",
               name_str(&wc, n, sizeof n));
  return DENIAL_PROVEN;
}

static enum denial_result nsec_nodata(struct proof *p, ldns_rr_type qtype) {
  char n[256];
  ldns_rdf q = suffix(p, p->nlabels);
  const ldns_rr *m = nsec_matching(p, &q);
  if (m) return match_absent(p, nsec_bitmap(m), qtype, "NSEC", &q);
  /* An empty non-terminal has no NSEC: the one covering it points below it. */
  const ldns_rr *cover = nsec_covering(p, &q);
  const ldns_rdf *next = cover ? ldns_rr_rdf(cover, 0) : NULL;
  if (next && name_in(next, &q) && !name_equal(next, &q)) {
    if (qtype != LDNS_RR_TYPE_DS) return DENIAL_PROVEN;
    if (p->inside) { /* denial_ds: an ENT is no cut, so inside the zone */
      *p->inside = true;
      return DENIAL_PROVEN;
    }
    return say(p, DENIAL_NOT_PROVEN, "%s is an empty non-terminal: not a delegation",
               name_str(&q, n, sizeof n));
  }
  return say(p, DENIAL_NOT_PROVEN, "no NSEC matches %s", name_str(&q, n, sizeof n));
}

/* The covering NSEC must put the closest encloser exactly at the wildcard's
 * parent: a longer one would have been the source of synthesis (RFC 4035
 * 5.3.4). */
static enum denial_result nsec_wildcard_answer(struct proof *p, size_t ce) {
  char n[256], c[256];
  size_t got;
  enum denial_result r = nsec_absent(p, &got);
  if (r != DENIAL_PROVEN) return r;
  if (got != ce) {
    ldns_rdf want = suffix(p, ce), have = suffix(p, got);
    return say(p, DENIAL_NOT_PROVEN, "NSEC puts the closest encloser at %s, the wildcard at %s",
               name_str(&have, n, sizeof n), name_str(&want, c, sizeof c));
  }
  return DENIAL_PROVEN;
}

static enum denial_result nsec_wildcard_nodata(struct proof *p, ldns_rr_type qtype) {
  char n[256];
  size_t ce;
  enum denial_result r = nsec_absent(p, &ce);
  if (r != DENIAL_PROVEN) return r;
  uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
  ldns_rdf wc = wildcard(p, ce, buf);
  const ldns_rr *m = nsec_matching(p, &wc);
  if (!m)
    return say(p, DENIAL_NOT_PROVEN, "no NSEC matches wildcard %s", name_str(&wc, n, sizeof n));
  return types_absent(p, nsec_bitmap(m), qtype, "NSEC", &wc);
}

/* ---- NSEC3 (RFC 5155) ---- */

static int b32hex_value(uint8_t c) {
  c = name_lower(c);
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'v') return c - 'a' + 10;
  return -1;
}

/* Exactly N3_B32_LEN base32hex digits into N3_HASH_LEN octets. */
static bool b32hex_hash(const uint8_t *s, size_t n, uint8_t *out) {
  if (n != N3_B32_LEN) return false;
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b32hex_value(s[i]);
    if (v < 0) return false;
    acc = (acc << 5) | (uint32_t)v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  return o == N3_HASH_LEN;
}

static bool same_params(const ldns_rr *a, const ldns_rr *b) {
  const ldns_rdf *sa = ldns_rr_rdf(a, 3), *sb = ldns_rr_rdf(b, 3);
  return ldns_nsec3_iterations(a) == ldns_nsec3_iterations(b) &&
         ldns_rdf_size(sa) == ldns_rdf_size(sb) &&
         memcmp(ldns_rdf_data(sa), ldns_rdf_data(sb), ldns_rdf_size(sa)) == 0;
}

/* Checks an NSEC3 record and decodes it into out. Unknown hash algorithms and
 * flags other than opt-out are ignored (RFC 5155 8.1, 8.2). */
static bool n3_parse(struct proof *p, const ldns_rr *rr, struct n3 *out) {
  if (ldns_rr_rd_count(rr) < 5) return false;
  const ldns_rdf *owner = ldns_rr_owner(rr);
  if (ldns_dname_label_count(owner) != p->signer_labels + 1 || !name_in(owner, p->signer)) {
    p->skipped_zone++;
    return false;
  }
  const ldns_rdf *salt = ldns_rr_rdf(rr, 3), *next = ldns_rr_rdf(rr, 4);
  if (ldns_nsec3_algorithm(rr) != N3_SHA1 || (ldns_nsec3_flags(rr) & ~1u) != 0 ||
      ldns_rdf_get_type(salt) != LDNS_RDF_TYPE_NSEC3_SALT || ldns_rdf_size(salt) < 1 ||
      ldns_rdf_size(salt) != 1u + ldns_rdf_data(salt)[0] ||
      ldns_rdf_get_type(next) != LDNS_RDF_TYPE_NSEC3_NEXT_OWNER ||
      ldns_rdf_size(next) != 1 + N3_HASH_LEN || ldns_rdf_data(next)[0] != N3_HASH_LEN) {
    p->skipped_n3++;
    return false;
  }
  const uint8_t *w = ldns_rdf_data(owner);
  if (!b32hex_hash(w + 1, w[0], out->owner)) {
    p->skipped_n3++;
    return false;
  }
  memcpy(out->next, ldns_rdf_data(next) + 1, N3_HASH_LEN);
  out->bitmap = ldns_rr_rd_count(rr) > 5 ? ldns_rr_rdf(rr, 5) : NULL;
  out->optout = ldns_nsec3_optout(rr);
  return true;
}

/* Keeps the NSEC3 records with the most common (salt, iterations). Returns
 * false only when out of memory. */
static bool n3_collect(struct proof *p) {
  size_t n = ldns_rr_list_rr_count(p->rrs), count = 0;
  const ldns_rr **ok = calloc(n ? n : 1, sizeof *ok);
  struct n3 *parsed = calloc(n ? n : 1, sizeof *parsed);
  if (!ok || !parsed) {
    free(ok);
    free(parsed);
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    const ldns_rr *rr = ldns_rr_list_rr(p->rrs, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC3) continue;
    if (n3_parse(p, rr, &parsed[count])) ok[count++] = rr;
  }
  size_t best = 0, best_votes = 0;
  for (size_t i = 0; i < count; i++) {
    size_t votes = 0;
    for (size_t j = 0; j < count; j++) votes += same_params(ok[i], ok[j]);
    if (votes > best_votes) {
      best = i;
      best_votes = votes;
    }
  }
  p->n3 = parsed;
  p->n3count = 0;
  if (count) {
    const ldns_rdf *salt = ldns_rr_rdf(ok[best], 3);
    p->iterations = ldns_nsec3_iterations(ok[best]);
    p->saltlen = ldns_rdf_data(salt)[0];
    p->salt = ldns_rdf_data(salt) + 1;
    for (size_t i = 0; i < count; i++)
      if (same_params(ok[best], ok[i])) parsed[p->n3count++] = parsed[i];
  }
  free(ok);
  return true;
}

/* The NSEC3 hash of name into out, within the per-call budget. */
static bool n3_hash(struct proof *p, const ldns_rdf *name, uint8_t *out) {
  if (p->hashes >= DENIAL_NSEC3_MAX_HASHES) {
    p->over_budget = true;
    return false;
  }
  p->hashes++;
  ldns_rdf *h = ldns_nsec3_hash_name(name, N3_SHA1, p->iterations, p->saltlen, p->salt);
  if (!h) return false;
  const uint8_t *w = ldns_rdf_data(h);
  bool ok = ldns_rdf_size(h) == N3_B32_LEN + 2 && b32hex_hash(w + 1, w[0], out);
  ldns_rdf_deep_free(h);
  return ok;
}

static const uint8_t *hash_suffix(struct proof *p, size_t k) {
  if (!p->hq_done[k]) {
    ldns_rdf s = suffix(p, k);
    if (!n3_hash(p, &s, p->hq[k])) return NULL;
    p->hq_done[k] = true;
  }
  return p->hq[k];
}

static const uint8_t *hash_wildcard(struct proof *p, size_t k) {
  if (!p->hw_done[k]) {
    uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
    ldns_rdf wc = wildcard(p, k, buf);
    if (!n3_hash(p, &wc, p->hw[k])) return NULL;
    p->hw_done[k] = true;
  }
  return p->hw[k];
}

static enum denial_result hash_failed(struct proof *p) {
  if (p->over_budget)
    return say(p, DENIAL_NOT_PROVEN, "gave up after %d NSEC3 hashes", DENIAL_NSEC3_MAX_HASHES);
  return say(p, DENIAL_NOT_PROVEN, "NSEC3 hashing failed");
}

static const struct n3 *n3_matching(const struct proof *p, const uint8_t *h) {
  for (size_t i = 0; i < p->n3count; i++)
    if (memcmp(p->n3[i].owner, h, N3_HASH_LEN) == 0) return &p->n3[i];
  return NULL;
}

/* owner < h < next in hash order; the last record wraps to the first. */
static bool n3_covers(const struct n3 *r, const uint8_t *h) {
  int oh = memcmp(r->owner, h, N3_HASH_LEN);
  if (oh == 0) return false;
  int hn = memcmp(h, r->next, N3_HASH_LEN);
  if (memcmp(r->owner, r->next, N3_HASH_LEN) < 0) return oh < 0 && hn < 0;
  return oh < 0 || hn < 0;
}

/* A covering record, one without opt-out if there is a choice. */
static const struct n3 *n3_covering(const struct proof *p, const uint8_t *h) {
  const struct n3 *found = NULL;
  for (size_t i = 0; i < p->n3count; i++) {
    if (!n3_covers(&p->n3[i], h)) continue;
    if (!p->n3[i].optout) return &p->n3[i];
    found = &p->n3[i];
  }
  return found;
}

/* Closest encloser proof (RFC 5155 8.3): the longest ancestor of qname an
 * NSEC3 matches is the closest encloser, and the next closer name (one label
 * longer) must be covered. The encloser's record must be this zone's: no
 * DNAME, no NS without SOA. Fails when qname itself is matched. */
static enum denial_result n3_closest(struct proof *p, size_t *ce, const struct n3 **nc) {
  char n[256];
  ldns_rdf q = suffix(p, p->nlabels);
  for (size_t k = p->nlabels + 1; k-- > p->signer_labels;) {
    const uint8_t *h = hash_suffix(p, k);
    if (!h) return hash_failed(p);
    const struct n3 *m = n3_matching(p, h);
    if (!m) continue;
    ldns_rdf s = suffix(p, k);
    if (k == p->nlabels)
      return say(p, DENIAL_NOT_PROVEN, "NSEC3 shows %s exists", name_str(&q, n, sizeof n));
    if (cut_below(m->bitmap))
      return say(p, DENIAL_NOT_PROVEN, "closest encloser %s is a delegation or DNAME",
                 name_str(&s, n, sizeof n));
    const uint8_t *hn = hash_suffix(p, k + 1);
    if (!hn) return hash_failed(p);
    *nc = n3_covering(p, hn);
    if (!*nc) {
      ldns_rdf next = suffix(p, k + 1);
      return say(p, DENIAL_NOT_PROVEN, "no NSEC3 covers next closer name %s",
                 name_str(&next, n, sizeof n));
    }
    *ce = k;
    return DENIAL_PROVEN;
  }
  return say(p, DENIAL_NOT_PROVEN, "no NSEC3 matches an ancestor of %s (closest encloser)",
             name_str(&q, n, sizeof n));
}

static enum denial_result n3_optout(struct proof *p, size_t ce) {
  char n[256];
  ldns_rdf next = suffix(p, ce + 1);
  return say(p, DENIAL_OPTOUT, "next closer name %s is in an NSEC3 opt-out span",
             name_str(&next, n, sizeof n));
}

static enum denial_result n3_nxdomain(struct proof *p) {
  char n[256];
  size_t ce;
  const struct n3 *nc;
  enum denial_result r = n3_closest(p, &ce, &nc);
  if (r != DENIAL_PROVEN) return r;
  uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
  ldns_rdf wc = wildcard(p, ce, buf);
  const uint8_t *h = hash_wildcard(p, ce);
  if (!h) return hash_failed(p);
  if (n3_matching(p, h))
    return say(p, DENIAL_NOT_PROVEN, "wildcard %s exists", name_str(&wc, n, sizeof n));
  if (!n3_covering(p, h))
    return say(p, DENIAL_NOT_PROVEN, "no NSEC3 proves there is no wildcard %s",
               name_str(&wc, n, sizeof n));
  return nc->optout ? n3_optout(p, ce) : DENIAL_PROVEN;
}

/* A matching record without the types (RFC 5155 8.5, 8.6). Without one, an
 * opt-out next closer may hide an insecure delegation (for DS, 8.6) or the
 * empty non-terminal above one (erratum 3441): insecure, not proven. */
static enum denial_result n3_nodata(struct proof *p, ldns_rr_type qtype) {
  char n[256];
  ldns_rdf q = suffix(p, p->nlabels);
  const uint8_t *h = hash_suffix(p, p->nlabels);
  if (!h) return hash_failed(p);
  const struct n3 *m = n3_matching(p, h);
  /* An empty non-terminal has a record with an empty bitmap (RFC 5155 7.1). */
  if (m) return match_absent(p, m->bitmap, qtype, "NSEC3", &q);
  size_t ce;
  const struct n3 *nc;
  if (n3_closest(p, &ce, &nc) == DENIAL_PROVEN && nc->optout) return n3_optout(p, ce);
  if (p->over_budget) return hash_failed(p);
  return say(p, DENIAL_NOT_PROVEN, "no NSEC3 matches %s", name_str(&q, n, sizeof n));
}

/* The next closer name of the expansion must be covered (RFC 5155 8.8). */
static enum denial_result n3_wildcard_answer(struct proof *p, size_t ce) {
  char n[256];
  const uint8_t *h = hash_suffix(p, ce + 1);
  if (!h) return hash_failed(p);
  const struct n3 *nc = n3_covering(p, h);
  if (!nc) {
    ldns_rdf next = suffix(p, ce + 1);
    return say(p, DENIAL_NOT_PROVEN, "no NSEC3 covers next closer name %s",
               name_str(&next, n, sizeof n));
  }
  return nc->optout ? n3_optout(p, ce) : DENIAL_PROVEN;
}

static enum denial_result n3_wildcard_nodata(struct proof *p, ldns_rr_type qtype) {
  char n[256];
  size_t ce;
  const struct n3 *nc;
  enum denial_result r = n3_closest(p, &ce, &nc);
  if (r != DENIAL_PROVEN) return r;
  uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
  ldns_rdf wc = wildcard(p, ce, buf);
  const uint8_t *h = hash_wildcard(p, ce);
  if (!h) return hash_failed(p);
  const struct n3 *m = n3_matching(p, h);
  if (!m)
    return say(p, DENIAL_NOT_PROVEN, "no NSEC3 matches wildcard %s", name_str(&wc, n, sizeof n));
  r = types_absent(p, m->bitmap, qtype, "NSEC3", &wc);
  if (r != DENIAL_PROVEN) return r;
  return nc->optout ? n3_optout(p, ce) : DENIAL_PROVEN;
}

/* ---- Dispatch ---- */

enum op { OP_NXDOMAIN, OP_NODATA, OP_WILDCARD_ANSWER, OP_WILDCARD_NODATA };

/* Fills p for qname in zone signer; DENIAL_PROVEN means ready. */
static enum denial_result proof_init(struct proof *p, const ldns_rdf *qname, const ldns_rdf *signer,
                                     const ldns_rr_list *rrs, struct denial_why *why) {
  char n[256], z[256];
  memset(p, 0, sizeof *p);
  p->why = why;
  p->signer = signer;
  p->rrs = rrs;
  if (why) why->text[0] = 0;
  if (!qname || !signer || ldns_rdf_get_type(signer) != LDNS_RDF_TYPE_DNAME ||
      (p->qlen = name_key(qname, p->q)) == 0)
    return say(p, DENIAL_NOT_PROVEN, "bad name");
  if (!name_in(qname, signer))
    return say(p, DENIAL_NOT_PROVEN, "%s is not in zone %s", name_str(qname, n, sizeof n),
               name_str(signer, z, sizeof z));
  size_t i = 0;
  while (i < p->qlen && p->q[i] && p->nlabels < MAX_LABELS) {
    p->off[p->nlabels++] = i;
    i += (size_t)p->q[i] + 1;
  }
  if (i >= p->qlen || p->q[i]) return say(p, DENIAL_NOT_PROVEN, "bad name");
  p->off[p->nlabels] = i;
  p->signer_labels = ldns_dname_label_count(signer);
  for (size_t k = 0; k < ldns_rr_list_rr_count(rrs); k++) {
    const ldns_rr *rr = ldns_rr_list_rr(rrs, k);
    if (nsec_usable(p, rr))
      p->have_nsec = true;
    else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC)
      p->skipped_zone++;
  }
  if (!n3_collect(p)) return say(p, DENIAL_NOT_PROVEN, "out of memory");
  return DENIAL_PROVEN;
}

static enum denial_result run(struct proof *p, enum op op, ldns_rr_type qtype, size_t ce) {
  char z[256];
  enum denial_result r = DENIAL_NOT_PROVEN;
  if (!p->have_nsec && !p->n3count)
    return say(p, DENIAL_NOT_PROVEN,
               "no usable NSEC or NSEC3 records of %s (%zu from other zones, %zu NSEC3 with "
               "unknown hash, flags or format)",
               name_str(p->signer, z, sizeof z), p->skipped_zone, p->skipped_n3);
  if (p->have_nsec) {
    switch (op) {
    case OP_NXDOMAIN: r = nsec_nxdomain(p); break;
    case OP_NODATA: r = nsec_nodata(p, qtype); break;
    case OP_WILDCARD_ANSWER: r = nsec_wildcard_answer(p, ce); break;
    case OP_WILDCARD_NODATA: r = nsec_wildcard_nodata(p, qtype); break;
    }
    if (r == DENIAL_PROVEN || !p->n3count) return r;
  }
  /* Check the cost before hashing anything (RFC 9276 3.2). */
  if (p->iterations > DENIAL_NSEC3_MAX_ITERATIONS)
    return say(p, DENIAL_NSEC3_ITERATIONS, "NSEC3 iterations %u above %d", p->iterations,
               DENIAL_NSEC3_MAX_ITERATIONS);
  switch (op) {
  case OP_NXDOMAIN: return n3_nxdomain(p);
  case OP_NODATA: return n3_nodata(p, qtype);
  case OP_WILDCARD_ANSWER: return n3_wildcard_answer(p, ce);
  case OP_WILDCARD_NODATA: return n3_wildcard_nodata(p, qtype);
  }
  return r;
}

/* One proof; `ce` is the wildcard answer's closest encloser (its RRSIG
 * labels). The why is left empty when proven. */
static enum denial_result prove(enum op op, const ldns_rdf *qname, ldns_rr_type qtype, size_t ce,
                                const ldns_rdf *signer, const ldns_rr_list *rrs, bool *inside,
                                struct denial_why *why) {
  struct proof *p = malloc(sizeof *p);
  if (!p) {
    if (why) snprintf(why->text, sizeof why->text, "out of memory");
    return DENIAL_NOT_PROVEN;
  }
  char n[256];
  enum denial_result r = proof_init(p, qname, signer, rrs, why);
  if (r != DENIAL_PROVEN) goto out;
  p->inside = inside;
  if (op == OP_WILDCARD_ANSWER) {
    ldns_rdf q = suffix(p, p->nlabels);
    /* RRSIG labels do not count a leading "*" (RFC 4034 3.1.3): a query for
     * the wildcard owner itself is no expansion and needs no proof. */
    if (p->nlabels > 0 && ce == p->nlabels - 1 && p->q[0] == 1 && p->q[1] == '*') goto out;
    if (ce >= p->nlabels) {
      r = say(p, DENIAL_NOT_PROVEN, "RRSIG labels %zu: %s is no wildcard expansion", ce,
              name_str(&q, n, sizeof n));
      goto out;
    }
    if (ce < p->signer_labels) {
      r = say(p, DENIAL_NOT_PROVEN, "RRSIG labels %zu: the wildcard is above the zone", ce);
      goto out;
    }
  }
  r = run(p, op, qtype, ce);
out:
  if (r == DENIAL_PROVEN && why) why->text[0] = 0;
  free(p->n3);
  free(p);
  return r;
}

enum denial_result denial_nxdomain(const ldns_rdf *qname, const ldns_rdf *signer,
                                   const ldns_rr_list *nsecs, struct denial_why *why) {
  return prove(OP_NXDOMAIN, qname, 0, 0, signer, nsecs, NULL, why);
}

enum denial_result denial_nodata(const ldns_rdf *qname, ldns_rr_type qtype,
                                 const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                 struct denial_why *why) {
  return prove(OP_NODATA, qname, qtype, 0, signer, nsecs, NULL, why);
}

enum denial_result denial_wildcard_answer(const ldns_rdf *qname, uint8_t rrsig_labels,
                                          const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                          struct denial_why *why) {
  return prove(OP_WILDCARD_ANSWER, qname, 0, rrsig_labels, signer, nsecs, NULL, why);
}

enum denial_result denial_wildcard_nodata(const ldns_rdf *qname, ldns_rr_type qtype,
                                          const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                          struct denial_why *why) {
  return prove(OP_WILDCARD_NODATA, qname, qtype, 0, signer, nsecs, NULL, why);
}

enum denial_result denial_ds(const ldns_rdf *name, const ldns_rdf *signer,
                             const ldns_rr_list *nsecs, bool *inside, struct denial_why *why) {
  bool in = false;
  enum denial_result r = prove(OP_NODATA, name, LDNS_RR_TYPE_DS, 0, signer, nsecs, &in, why);
  if (inside) *inside = r == DENIAL_PROVEN && in;
  return r;
}

/* RFC 8198 5: NXDOMAIN first, then NODATA at the name or an empty
 * non-terminal, then NODATA at the wildcard that would answer. A wildcard
 * that has the type makes an answer, which is not ours to deny. When nothing
 * is proven the mildest result wins (opt-out or iterations: insecure), with
 * its reason. */
enum denial_result denial_aggressive(const ldns_rdf *qname, ldns_rr_type qtype,
                                     const ldns_rdf *signer, const ldns_rr_list *nsecs,
                                     bool *nxdomain, struct denial_why *why) {
  static const enum op ops[] = {OP_NXDOMAIN, OP_NODATA, OP_WILDCARD_NODATA};
  enum denial_result best = DENIAL_NOT_PROVEN;
  struct denial_why best_why = {{0}}, w;
  if (nxdomain) *nxdomain = false;
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    enum denial_result r = prove(ops[i], qname, qtype, 0, signer, nsecs, NULL, &w);
    if (r == DENIAL_PROVEN) {
      if (nxdomain) *nxdomain = ops[i] == OP_NXDOMAIN;
      if (why) why->text[0] = 0;
      return r;
    }
    if (i == 0 || r < best) {
      best = r;
      best_why = w;
    }
  }
  if (why) *why = best_why;
  return best;
}
