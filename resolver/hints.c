/* Root hints, built in or from a named.root file; see hints.h. */
#include "resolver/hints.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* IANA's root servers (root-servers.org), names and addresses. */
static const char *const builtin[][3] = {
    {"a", "198.41.0.4", "2001:503:ba3e::2:30"},
    {"b", "170.247.170.2", "2801:1b8:10::b"},
    {"c", "192.33.4.12", "2001:500:2::c"},
    {"d", "199.7.91.13", "2001:500:2d::d"},
    {"e", "192.203.230.10", "2001:500:a8::e"},
    {"f", "192.5.5.241", "2001:500:2f::f"},
    {"g", "192.112.36.4", "2001:500:12::d0d"},
    {"h", "198.97.190.53", "2001:500:1::53"},
    {"i", "192.36.148.17", "2001:7fe::53"},
    {"j", "192.58.128.30", "2001:503:c27::2:30"},
    {"k", "193.0.14.129", "2001:7fd::1"},
    {"l", "199.7.83.42", "2001:500:9f::42"},
    {"m", "202.12.27.33", "2001:dc3::35"},
};

static struct hints *hints_empty(void) {
  struct hints *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->ns = ldns_rr_list_new();
  h->addrs = ldns_rr_list_new();
  return h;
}

static int add_rr(struct hints *h, const char *text) {
  ldns_rr *rr = NULL;
  if (ldns_rr_new_frm_str(&rr, text, 3600000, NULL, NULL) != LDNS_STATUS_OK) return -1;
  if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS) ldns_rr_list_push_rr(h->ns, rr);
  else ldns_rr_list_push_rr(h->addrs, rr);
  return 0;
}

struct hints *hints_builtin(void) {
  struct hints *h = hints_empty();
  if (!h) return NULL;
  char line[256];
  for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
    snprintf(line, sizeof line, ". 3600000 IN NS %s.root-servers.net.", builtin[i][0]);
    add_rr(h, line);
    snprintf(line, sizeof line, "%s.root-servers.net. 3600000 IN A %s", builtin[i][0], builtin[i][1]);
    add_rr(h, line);
    snprintf(line, sizeof line, "%s.root-servers.net. 3600000 IN AAAA %s", builtin[i][0], builtin[i][2]);
    add_rr(h, line);
  }
  return h;
}

struct hints *hints_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct hints *h = hints_empty();
  int line_nr = 1;
  uint32_t default_ttl = 3600000;
  ldns_rdf *origin = NULL, *prev = NULL;
  while (!feof(f)) {
    ldns_rr *rr = NULL;
    ldns_status st = ldns_rr_new_frm_fp_l(&rr, f, &default_ttl, &origin, &prev, &line_nr);
    if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
        st == LDNS_STATUS_SYNTAX_ORIGIN || st == LDNS_STATUS_SYNTAX_INCLUDE)
      continue;
    if (st != LDNS_STATUS_OK) {
      snprintf(err, errlen, "%s:%d: bad record: %s", path, line_nr, ldns_get_errorstr_by_id(st));
      hints_free(h);
      h = NULL;
      break;
    }
    ldns_rr_type t = ldns_rr_get_type(rr);
    if (t == LDNS_RR_TYPE_NS && ldns_dname_label_count(ldns_rr_owner(rr)) == 0) {
      ldns_rr_list_push_rr(h->ns, rr);
    } else if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) {
      ldns_rr_list_push_rr(h->addrs, rr);
    } else {
      ldns_rr_free(rr); /* anything else in the file is not a hint */
    }
  }
  fclose(f);
  if (origin) ldns_rdf_deep_free(origin);
  if (prev) ldns_rdf_deep_free(prev);
  if (h && (ldns_rr_list_rr_count(h->ns) == 0 || ldns_rr_list_rr_count(h->addrs) == 0)) {
    snprintf(err, errlen, "%s: no root NS records with addresses", path);
    hints_free(h);
    h = NULL;
  }
  return h;
}

void hints_free(struct hints *h) {
  if (!h) return;
  ldns_rr_list_deep_free(h->ns);
  ldns_rr_list_deep_free(h->addrs);
  free(h);
}
