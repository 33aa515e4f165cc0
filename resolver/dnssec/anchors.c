/* Trust anchors: the built-in root keys, files of them, negative ones; see
 * anchors.h. */
#include "resolver/dnssec/anchors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/name.h"

/* The root zone's key-signing keys as published by IANA: KSK-2017 (20326)
 * and KSK-2024 (38696), both algorithm 8 with SHA-256 digests. */
static const char *const root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

struct trust_anchors {
  struct ta_entry *e;
  size_t n, cap;
  ldns_rdf **neg; /* negative anchors */
  size_t nneg, capneg;
};

trust_anchors_t *ta_new(bool with_root) {
  trust_anchors_t *ta = calloc(1, sizeof *ta);
  if (!ta || !with_root) return ta;
  for (size_t i = 0; i < sizeof root_anchors / sizeof root_anchors[0]; i++) {
    if (ta_add(ta, root_anchors[i])) {
      ta_free(ta);
      return NULL;
    }
  }
  return ta;
}

void ta_free(trust_anchors_t *ta) {
  if (!ta) return;
  for (size_t i = 0; i < ta->n; i++) {
    ldns_rdf_deep_free(ta->e[i].zone);
    ldns_rr_list_deep_free(ta->e[i].ds);
    ldns_rr_list_deep_free(ta->e[i].keys);
    free(ta->e[i].source);
  }
  for (size_t i = 0; i < ta->nneg; i++) ldns_rdf_deep_free(ta->neg[i]);
  free(ta->e);
  free(ta->neg);
  free(ta);
}

static struct ta_entry *entry_for(trust_anchors_t *ta, const ldns_rdf *zone, bool create) {
  for (size_t i = 0; i < ta->n; i++)
    if (name_equal(ta->e[i].zone, zone)) return &ta->e[i];
  if (!create) return NULL;
  if (ta->n == ta->cap) {
    size_t cap = ta->cap ? ta->cap * 2 : 4;
    struct ta_entry *e = realloc(ta->e, cap * sizeof *e);
    if (!e) return NULL;
    ta->e = e;
    ta->cap = cap;
  }
  struct ta_entry *e = &ta->e[ta->n];
  e->zone = ldns_rdf_clone(zone);
  e->ds = ldns_rr_list_new();
  e->keys = ldns_rr_list_new();
  e->source = NULL;
  if (!e->zone || !e->ds || !e->keys) {
    ldns_rdf_deep_free(e->zone);
    ldns_rr_list_free(e->ds);
    ldns_rr_list_free(e->keys);
    return NULL;
  }
  ldns_dname2canonical(e->zone);
  ta->n++;
  return e;
}

const char *ta_add(trust_anchors_t *ta, const char *line) {
  ldns_rr *rr = NULL;
  if (ldns_rr_new_frm_str(&rr, line, 3600, NULL, NULL) != LDNS_STATUS_OK || !rr)
    return "expected a DS or DNSKEY record (NAME [TTL] [IN] DS|DNSKEY ...)";
  ldns_rr_type t = ldns_rr_get_type(rr);
  if ((t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) ||
      ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) {
    ldns_rr_free(rr);
    return "only DS and DNSKEY records of class IN are trust anchors";
  }
  struct ta_entry *e = entry_for(ta, ldns_rr_owner(rr), true);
  if (!e) {
    ldns_rr_free(rr);
    return "out of memory";
  }
  ldns_rr_list_push_rr(t == LDNS_RR_TYPE_DS ? e->ds : e->keys, rr);
  return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int ta_load_file(trust_anchors_t *ta, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  /* Anchors from the file replace built-in ones of the same domain: read
   * into a fresh set first, so a bad file changes nothing. */
  trust_anchors_t *add = ta_new(false);
  char line[8192];
  unsigned long no = 0;
  int rc = add ? 0 : fail(err, errlen, "%s: out of memory", path);
  while (rc == 0 && fgets(line, sizeof line, f)) {
    no++;
    char *p = line + strspn(line, " \t");
    p[strcspn(p, "\r\n")] = 0;
    if (!*p || *p == ';' || *p == '#') continue;
    const char *why = ta_add(add, p);
    if (why) rc = fail(err, errlen, "%s:%lu: %s (got '%.80s')", path, no, why, p);
  }
  fclose(f);
  if (rc == 0 && add->n == 0) rc = fail(err, errlen, "%s: no DS or DNSKEY records", path);
  for (size_t i = 0; rc == 0 && i < add->n; i++) {
    struct ta_entry *old = entry_for(ta, add->e[i].zone, false);
    add->e[i].source = strdup(path);
    if (old) { /* replaced */
      ldns_rr_list_deep_free(old->ds);
      ldns_rr_list_deep_free(old->keys);
      free(old->source);
      old->ds = add->e[i].ds;
      old->keys = add->e[i].keys;
      old->source = add->e[i].source;
      ldns_rdf_deep_free(add->e[i].zone);
    } else {
      if (ta->n == ta->cap) {
        size_t cap = ta->cap ? ta->cap * 2 : 4;
        struct ta_entry *e = realloc(ta->e, cap * sizeof *e);
        if (!e) abort(); /* start-up only */
        ta->e = e;
        ta->cap = cap;
      }
      ta->e[ta->n++] = add->e[i];
    }
    add->e[i] = (struct ta_entry){0};
  }
  if (add && rc == 0) add->n = 0; /* moved into ta */
  ta_free(add);
  return rc;
}

const char *ta_add_negative(trust_anchors_t *ta, const char *name) {
  ldns_rdf *n = NULL;
  if (ldns_str2rdf_dname(&n, name) != LDNS_STATUS_OK || !n) return "expected a domain name";
  if (ta->nneg == ta->capneg) {
    size_t cap = ta->capneg ? ta->capneg * 2 : 4;
    ldns_rdf **neg = realloc(ta->neg, cap * sizeof *neg);
    if (!neg) {
      ldns_rdf_deep_free(n);
      return "out of memory";
    }
    ta->neg = neg;
    ta->capneg = cap;
  }
  ta->neg[ta->nneg++] = n;
  return NULL;
}

const struct ta_entry *ta_closest(const trust_anchors_t *ta, const ldns_rdf *name,
                                  bool *negative) {
  const struct ta_entry *best = NULL;
  size_t best_labels = 0, neg_labels = 0;
  bool neg = false;
  for (size_t i = 0; ta && i < ta->n; i++) {
    size_t l = ldns_dname_label_count(ta->e[i].zone);
    if (name_in(name, ta->e[i].zone) && (!best || l > best_labels)) {
      best = &ta->e[i];
      best_labels = l;
    }
  }
  for (size_t i = 0; ta && i < ta->nneg; i++) {
    size_t l = ldns_dname_label_count(ta->neg[i]);
    if (name_in(name, ta->neg[i]) && (!neg || l > neg_labels)) {
      neg = true;
      neg_labels = l;
    }
  }
  if (negative) *negative = neg && (!best || neg_labels >= best_labels);
  return best;
}

size_t ta_count(const trust_anchors_t *ta) { return ta ? ta->n : 0; }

const struct ta_entry *ta_entry_at(const trust_anchors_t *ta, size_t i) {
  return ta && i < ta->n ? &ta->e[i] : NULL;
}

size_t ta_count_negative(const trust_anchors_t *ta) { return ta ? ta->nneg : 0; }

const ldns_rdf *ta_negative_at(const trust_anchors_t *ta, size_t i) {
  return ta && i < ta->nneg ? ta->neg[i] : NULL;
}

bool ta_root_has_keytag(const trust_anchors_t *ta, uint16_t tag) {
  for (size_t i = 0; ta && i < ta->n; i++) {
    const struct ta_entry *e = &ta->e[i];
    if (ldns_dname_label_count(e->zone) != 0) continue;
    for (size_t k = 0; k < ldns_rr_list_rr_count(e->ds); k++) {
      const ldns_rr *ds = ldns_rr_list_rr(e->ds, k);
      if (ldns_rr_rd_count(ds) >= 1 && ldns_rdf2native_int16(ldns_rr_rdf(ds, 0)) == tag)
        return true;
    }
    for (size_t k = 0; k < ldns_rr_list_rr_count(e->keys); k++)
      if (ldns_calc_keytag(ldns_rr_list_rr(e->keys, k)) == tag) return true;
  }
  return false;
}

const char *ta_entry_keys(const struct ta_entry *e, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  const ldns_rr_list *lists[2] = {e->ds, e->keys};
  for (int l = 0; l < 2; l++) {
    size_t n = ldns_rr_list_rr_count(lists[l]);
    for (size_t i = 0; i < n && used < len; i++) {
      const ldns_rr *rr = ldns_rr_list_rr(lists[l], i);
      int w;
      if (l == 0 && ldns_rr_rd_count(rr) >= 3)
        w = snprintf(buf + used, len - used, "%s%s%u/%u/%u", used ? ", " : "", i ? "" : "DS ",
                     ldns_rdf2native_int16(ldns_rr_rdf(rr, 0)),
                     ldns_rdf2native_int8(ldns_rr_rdf(rr, 1)),
                     ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)));
      else if (l == 1 && ldns_rr_rd_count(rr) >= 4)
        w = snprintf(buf + used, len - used, "%s%s%u/%u", used ? ", " : "", i ? "" : "DNSKEY ",
                     ldns_calc_keytag(rr), ldns_rdf2native_int8(ldns_rr_rdf(rr, 2)));
      else
        continue;
      if (w < 0) break;
      used += (size_t)w < len - used ? (size_t)w : len - used - 1;
    }
  }
  return buf;
}
