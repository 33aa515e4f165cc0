/*
 * Helpers shared by the cmocka unit tests: building names, RRs and canned
 * response packets from text. Header-only (static functions) so every test
 * executable stays a single translation unit.
 */
#ifndef CHAINDNS_UNIT_HELPERS_H
#define CHAINDNS_UNIT_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ldns/ldns.h>
#include <sys/socket.h>

#include "resolver/lib/util.h"

/* A dname rdf from text; caller frees with ldns_rdf_deep_free. */
static inline ldns_rdf *dn(const char *s) {
  ldns_rdf *r = ldns_dname_new_frm_str(s);
  assert_non_null(r);
  return r;
}

/* An RR from zone-file text; caller frees with ldns_rr_free. */
static inline ldns_rr *rr(const char *s) {
  ldns_rr *r = NULL;
  ldns_status st = ldns_rr_new_frm_str(&r, s, 3600, NULL, NULL);
  if (st != LDNS_STATUS_OK) fail_msg("bad RR text '%s': %s", s, ldns_get_errorstr_by_id(st));
  return r;
}

/* A list of RRs from a NULL-terminated list of strings (deep-free it). */
static inline ldns_rr_list *rrlist(const char *first, ...) {
  ldns_rr_list *l = ldns_rr_list_new();
  va_list ap;
  va_start(ap, first);
  for (const char *s = first; s; s = va_arg(ap, const char *)) ldns_rr_list_push_rr(l, rr(s));
  va_end(ap);
  return l;
}

/* Text of an rdf, for messages and comparisons. */
static inline const char *rdf_text(const ldns_rdf *r, char *buf, size_t len) {
  char *s = ldns_rdf2str(r);
  snprintf(buf, len, "%s", s ? s : "(null)");
  free(s);
  return buf;
}

static inline void assert_name(const ldns_rdf *got, const char *want) {
  assert_non_null(got);
  ldns_rdf *w = dn(want);
  char g[300];
  if (ldns_dname_compare(got, w) != 0)
    fail_msg("name: got %s want %s", rdf_text(got, g, sizeof g), want);
  ldns_rdf_deep_free(w);
}

/* A response packet to (qname, qtype) with the given rcode and AA bit. Add
 * records with pkt_add. Free with ldns_pkt_free. */
static inline ldns_pkt *mkpkt(const char *qname, ldns_rr_type qtype, ldns_pkt_rcode rcode,
                              bool aa) {
  ldns_pkt *p = ldns_pkt_query_new(dn(qname), qtype, LDNS_RR_CLASS_IN, 0);
  assert_non_null(p);
  ldns_pkt_set_qr(p, true);
  ldns_pkt_set_aa(p, aa);
  ldns_pkt_set_rcode(p, (uint8_t)rcode);
  return p;
}

static inline void pkt_add(ldns_pkt *p, ldns_pkt_section sec, const char *text) {
  assert_true(ldns_pkt_push_rr(p, sec, rr(text)));
}

/* A socket address from a bare IPv4 or IPv6 address and a port. */
static inline struct sockaddr_storage sockaddr_of(const char *ip, uint16_t port) {
  struct sockaddr_storage ss;
  socklen_t len;
  if (util_parse_addr_port(ip, port, &ss, &len)) fail_msg("bad test address %s", ip);
  return ss;
}

#endif
