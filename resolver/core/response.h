/*
 * Classification of an authoritative server's response, with no I/O: given
 * the question asked and the zone (delegation point) of the server asked, say
 * what the response means and which of its records may be trusted.
 *
 * Only in-bailiwick data is ever reported (RFC 5452 spirit): answer records
 * owned by names inside the zone asked, referrals to zones below it, glue
 * inside it. The caller caches exactly what is reported here.
 *
 * All pointers in struct resp_info point into the packet: they live as long
 * as the packet does and must not be freed. Lists are shallow.
 */
#ifndef CHAINDNS_RESPONSE_H
#define CHAINDNS_RESPONSE_H

#include <ldns/ldns.h>
#include <stdbool.h>

enum resp_class {
  RESP_ANSWER,   /* the final RRset (possibly after CNAMEs) */
  RESP_CNAME,    /* CNAMEs end at a name this server cannot answer: requery */
  RESP_NXDOMAIN, /* the (final) name does not exist */
  RESP_NODATA,   /* the (final) name exists but not with this type */
  RESP_REFERRAL, /* delegation to a zone below the one asked */
  RESP_LAME,     /* not authoritative, upward/sideways referral, junk */
  RESP_ERROR,    /* SERVFAIL, REFUSED, NOTIMP, FORMERR or another RCODE */
  RESP_YXDOMAIN, /* a DNAME substitution made a name too long (RFC 6672 2.2) */
};

#define RESP_MAX_CNAMES 64

struct resp_info {
  enum resp_class cls;
  /* CNAMEs from the question name, in chain order (in-zone only). Where
   * dnames[i] is set, cnames[i] was synthesised here from that DNAME (RFC
   * 6672 3.2; the server's own CNAME is ignored) and is owned by info. */
  ldns_rr *cnames[RESP_MAX_CNAMES];
  ldns_rr *dnames[RESP_MAX_CNAMES];
  size_t ncnames;
  /* The name after the in-answer chain (the question name if none). */
  const ldns_rdf *final_name;
  /* RESP_ANSWER: the final RRset. */
  ldns_rr_list *answer;
  /* RESP_NXDOMAIN/RESP_NODATA: the zone's SOA, if one was given in zone. */
  ldns_rr *soa;
  /* RESP_REFERRAL: the child zone, its NS RRset and in-bailiwick glue. */
  const ldns_rdf *referral_zone;
  ldns_rr_list *ns;
  ldns_rr_list *glue;
  /* DNSSEC material (not checked here): RRSIGs of the answer and
   * authority sections and NSEC/NSEC3 of the authority section, owned in
   * the zone; a referral's DS RRset. NULL when none. */
  ldns_rr_list *sigs;
  ldns_rr_list *nsecs;
  ldns_rr_list *ds;
  /* A name on the chain held a CNAME plus other data (RFC 1034 §3.6.2). */
  bool cname_with_other_data;
  bool yxdomain; /* a DNAME substitution would exceed 255 octets */
  ldns_rr *yx_dname; /* that DNAME (RESP_YXDOMAIN) */
  ldns_pkt_rcode rcode;
  const char *why; /* short reason for LAME/ERROR, static string */
};

/* Classify resp, the answer to (qname, qtype) from a server of `zone`.
 * Fills *info; release it with resp_info_clear (which frees only the lists). */
void resp_classify(const ldns_pkt *resp, const ldns_rdf *qname, ldns_rr_type qtype,
                   const ldns_rdf *zone, struct resp_info *info);
void resp_info_clear(struct resp_info *info);

/* The CNAME a DNAME makes for `name`, a name strictly below the DNAME's
 * owner (RFC 6672 2.2): owner `name`, the DNAME's TTL. NULL when the new
 * name would be longer than 255 octets (YXDOMAIN) or on a bad record. */
ldns_rr *resp_dname_synth(const ldns_rr *dname, const ldns_rdf *name);

/* Collect the RRs in `section` with this owner and type (shallow list, NULL if
 * none). */
ldns_rr_list *resp_rrset(const ldns_rr_list *section, const ldns_rdf *owner,
                         ldns_rr_type type);

const char *resp_class_name(enum resp_class c);

#endif
