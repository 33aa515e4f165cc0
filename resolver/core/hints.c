/* Root hints, built in or from a named.root file; see hints.h. */
#include "resolver/core/hints.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Addresses IANA's root servers used before (b moved in 2023, and in
 * 2017), still in older root hints files. */
static const char *const former[] = {"199.9.14.201", "2001:500:200::b", "192.228.79.201",
                                     "2001:500:84::b"};

static bool iana_address(const char *text) {
  for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
    if (!strcmp(text, builtin[i][1]) || !strcmp(text, builtin[i][2])) return true;
  for (size_t i = 0; i < sizeof former / sizeof former[0]; i++)
    if (!strcmp(text, former[i])) return true;
  return false;
}

bool hints_are_iana(const struct hints *h) {
  for (size_t i = 0; h && i < ldns_rr_list_rr_count(h->addrs); i++) {
    const ldns_rr *rr = ldns_rr_list_rr(h->addrs, i);
    if (ldns_rr_rd_count(rr) != 1) continue;
    char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    bool iana = text && iana_address(text);
    free(text);
    if (iana) return true;
  }
  return false;
}

static struct hints *hints_empty(void) {
  struct hints *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->ns = ldns_rr_list_new();
  h->addrs = ldns_rr_list_new();
  return h;
}

/* Keep a parsed record if it is a hint: root NS, or an address. */
static void keep_hint(struct hints *h, ldns_rr *rr) {
  ldns_rr_type t = ldns_rr_get_type(rr);
  if (t == LDNS_RR_TYPE_NS && ldns_dname_label_count(ldns_rr_owner(rr)) == 0)
    ldns_rr_list_push_rr(h->ns, rr);
  else if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA)
    ldns_rr_list_push_rr(h->addrs, rr);
  else
    ldns_rr_free(rr); /* anything else in the file is not a hint */
}

/* Cut a ';' comment and surrounding blanks; returns the start of the text. */
static char *trim_line(char *line) {
  char *semi = strchr(line, ';');
  if (semi) *semi = 0;
  while (*line == ' ' || *line == '\t') line++;
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
               line[n - 1] == '\t'))
    line[--n] = 0;
  return line;
}

/* One non-empty line: a $TTL or $ORIGIN directive, or a record. Returns
 * NULL or why the line is bad. */
static const char *hints_line(struct hints *h, char *text, uint32_t *ttl, ldns_rdf **origin) {
  if (strncmp(text, "$TTL", 4) == 0) {
    char *end;
    unsigned long v = strtoul(text + 4, &end, 10);
    if (end == text + 4 || *end) return "bad $TTL";
    *ttl = (uint32_t)v;
    return NULL;
  }
  if (strncmp(text, "$ORIGIN", 7) == 0) {
    ldns_rdf *o = ldns_dname_new_frm_str(trim_line(text + 7));
    if (!o) return "bad $ORIGIN";
    if (*origin) ldns_rdf_deep_free(*origin);
    *origin = o;
    return NULL;
  }
  if (text[0] == '$') return "unsupported directive";
  ldns_rr *rr = NULL;
  ldns_status st = ldns_rr_new_frm_str(&rr, text, *ttl, *origin, NULL);
  if (st != LDNS_STATUS_OK) return ldns_get_errorstr_by_id(st);
  keep_hint(h, rr);
  return NULL;
}

struct hints *hints_builtin(void) {
  struct hints *h = hints_empty();
  if (!h) return NULL;
  char line[256];
  uint32_t ttl = 3600000;
  ldns_rdf *origin = NULL;
  for (size_t i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
    snprintf(line, sizeof line, ". 3600000 IN NS %s.root-servers.net.", builtin[i][0]);
    hints_line(h, line, &ttl, &origin);
    snprintf(line, sizeof line, "%s.root-servers.net. 3600000 IN A %s", builtin[i][0], builtin[i][1]);
    hints_line(h, line, &ttl, &origin);
    snprintf(line, sizeof line, "%s.root-servers.net. 3600000 IN AAAA %s", builtin[i][0], builtin[i][2]);
    hints_line(h, line, &ttl, &origin);
  }
  return h;
}

/* The file is read line by line, with our own line counter, so an error
 * names the line of the bad record (named.root never continues a record
 * over several lines). */
struct hints *hints_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  struct hints *h = hints_empty();
  uint32_t ttl = 3600000;
  ldns_rdf *origin = NULL;
  char line[1024];
  for (unsigned nr = 1; h && fgets(line, sizeof line, f); nr++) {
    bool whole = strchr(line, '\n') || feof(f);
    char *text = trim_line(line);
    const char *why = !whole ? "line too long"
                      : *text ? hints_line(h, text, &ttl, &origin) : NULL;
    if (why) {
      snprintf(err, errlen, "%s:%u: bad record: %s", path, nr, why);
      hints_free(h);
      h = NULL;
    }
  }
  fclose(f);
  if (origin) ldns_rdf_deep_free(origin);
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
