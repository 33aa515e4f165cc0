/* Response classification and bailiwick scrubbing; see response.h. */
#include "resolver/core/response.h"

#include <string.h>

#include "resolver/lib/name.h"

const char *resp_class_name(enum resp_class c) {
  static const char *names[] = {"answer", "cname", "nxdomain", "nodata",
                                "referral", "lame", "error", "yxdomain"};
  return (unsigned)c < sizeof names / sizeof names[0] ? names[c] : "?";
}

ldns_rr_list *resp_rrset(const ldns_rr_list *section, const ldns_rdf *owner,
                         ldns_rr_type type) {
  ldns_rr_list *out = NULL;
  for (size_t i = 0; i < ldns_rr_list_rr_count(section); i++) {
    ldns_rr *rr = ldns_rr_list_rr(section, i);
    if ((type != LDNS_RR_TYPE_ANY && ldns_rr_get_type(rr) != type) ||
        ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
        !name_equal(ldns_rr_owner(rr), owner))
      continue;
    if (!out) out = ldns_rr_list_new();
    ldns_rr_list_push_rr(out, rr);
  }
  return out;
}

static ldns_rr *find_one(const ldns_rr_list *section, const ldns_rdf *owner,
                         ldns_rr_type type) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(section); i++) {
    ldns_rr *rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) == type && name_equal(ldns_rr_owner(rr), owner)) return rr;
  }
  return NULL;
}

/* True when `owner` has data besides the CNAME (DNSSEC records excepted,
 * RFC 2181 §10.1). */
static bool has_other_data(const ldns_rr_list *answer, const ldns_rdf *owner) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
    ldns_rr *rr = ldns_rr_list_rr(answer, i);
    ldns_rr_type t = ldns_rr_get_type(rr);
    if (t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_NSEC ||
        t == LDNS_RR_TYPE_NSEC3)
      continue;
    if (name_equal(ldns_rr_owner(rr), owner)) return true;
  }
  return false;
}

static bool seen_owner(const struct resp_info *info, const ldns_rdf *name) {
  for (size_t i = 0; i < info->ncnames; i++)
    if (name_equal(ldns_rr_owner(info->cnames[i]), name)) return true;
  return false;
}

ldns_rr *resp_dname_synth(const ldns_rr *dname, const ldns_rdf *name) {
  if (ldns_rr_rd_count(dname) != 1) return NULL;
  const ldns_rdf *target = ldns_rr_rdf(dname, 0);
  if (ldns_rdf_get_type(target) != LDNS_RDF_TYPE_DNAME) return NULL;
  /* The labels of name above the owner are replaced by the target. */
  size_t keep = ldns_dname_label_count(name) - ldns_dname_label_count(ldns_rr_owner(dname));
  const uint8_t *w = ldns_rdf_data(name);
  size_t off = 0;
  for (size_t i = 0; i < keep; i++) off += 1u + w[off];
  size_t len = off + ldns_rdf_size(target);
  if (len > LDNS_MAX_DOMAINLEN) return NULL;
  uint8_t buf[LDNS_MAX_DOMAINLEN + 1];
  memcpy(buf, w, off);
  memcpy(buf + off, ldns_rdf_data(target), ldns_rdf_size(target));
  ldns_rr *rr = ldns_rr_new(); /* not _frm_type: that one makes empty rdata slots */
  ldns_rdf *owner = ldns_rdf_clone(name), *rd = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, buf);
  if (!rr || !owner || !rd) {
    ldns_rr_free(rr);
    ldns_rdf_deep_free(owner);
    ldns_rdf_deep_free(rd);
    return NULL;
  }
  ldns_rr_set_owner(rr, owner);
  ldns_rr_set_type(rr, LDNS_RR_TYPE_CNAME);
  ldns_rr_set_ttl(rr, ldns_rr_ttl(dname));
  ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
  ldns_rr_push_rdf(rr, rd);
  return rr;
}

/* A DNAME in the answer owned by a proper ancestor of name, inside zone. */
static ldns_rr *find_dname(const ldns_rr_list *an, const ldns_rdf *name, const ldns_rdf *zone) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
    ldns_rr *rr = ldns_rr_list_rr(an, i);
    const ldns_rdf *owner = ldns_rr_owner(rr);
    /* Well-formed only: then a failed synthesis can only mean too long. */
    if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNAME && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
        ldns_rr_rd_count(rr) == 1 && ldns_rdf_get_type(ldns_rr_rdf(rr, 0)) == LDNS_RDF_TYPE_DNAME &&
        name_in(name, owner) && !name_equal(name, owner) && name_in(owner, zone))
      return rr;
  }
  return NULL;
}

/* Walk the answer section from qname following in-zone CNAMEs and DNAMEs.
 * Stops at a repeated owner so an in-answer loop reaches the caller's loop
 * detector. */
static void walk_answer(const ldns_pkt *resp, const ldns_rdf *qname, ldns_rr_type qtype,
                        const ldns_rdf *zone, struct resp_info *info) {
  const ldns_rr_list *an = ldns_pkt_answer(resp);
  const ldns_rdf *cur = qname;
  while (name_in(cur, zone)) {
    ldns_rr *dname = find_dname(an, cur, zone);
    if (dname) { /* RFC 6672 3.2: the DNAME wins over a CNAME at the name */
      if (seen_owner(info, cur) || info->ncnames == RESP_MAX_CNAMES) break;
      ldns_rr *synth = resp_dname_synth(dname, cur);
      if (!synth) {
        info->yxdomain = true;
        info->yx_dname = dname;
        break;
      }
      info->dnames[info->ncnames] = dname;
      info->cnames[info->ncnames++] = synth;
      cur = ldns_rr_rdf(synth, 0);
      continue;
    }
    bool want_cname = qtype == LDNS_RR_TYPE_CNAME || qtype == LDNS_RR_TYPE_ANY;
    ldns_rr *cname = want_cname ? NULL : find_one(an, cur, LDNS_RR_TYPE_CNAME);
    if (cname && ldns_rr_rd_count(cname) == 1) {
      if (has_other_data(an, cur)) info->cname_with_other_data = true;
      if (seen_owner(info, cur) || info->ncnames == RESP_MAX_CNAMES) break;
      info->cnames[info->ncnames++] = cname;
      cur = ldns_rr_rdf(cname, 0);
      continue;
    }
    ldns_rr_list *set = resp_rrset(an, cur, qtype);
    if (set) info->answer = set;
    break;
  }
  info->final_name = cur;
}

/* The SOA in the authority section that may speak for `name`. */
static ldns_rr *find_soa(const ldns_pkt *resp, const ldns_rdf *name, const ldns_rdf *zone) {
  const ldns_rr_list *ns = ldns_pkt_authority(resp);
  for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
    ldns_rr *rr = ldns_rr_list_rr(ns, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7) continue;
    const ldns_rdf *owner = ldns_rr_owner(rr);
    if (name_in(name, owner) && name_in(owner, zone)) return rr;
  }
  return NULL;
}

/* A referral: NS records in authority for a zone strictly below `zone` that
 * contains `name`. Glue must lie inside `zone` and belong to one of the NS
 * names. */
static bool find_referral(const ldns_pkt *resp, const ldns_rdf *name, const ldns_rdf *zone,
                          struct resp_info *info) {
  const ldns_rr_list *auth = ldns_pkt_authority(resp);
  const ldns_rdf *child = NULL;
  for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
    ldns_rr *rr = ldns_rr_list_rr(auth, i);
    /* Class IN only, as resp_rrset() collects: an NS of another class
     * would make a referral with no servers (found by fuzzing). */
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN)
      continue;
    const ldns_rdf *owner = ldns_rr_owner(rr);
    if (name_in(name, owner) && name_in(owner, zone) && !name_equal(owner, zone)) {
      child = owner;
      break;
    }
  }
  if (!child) return false;
  info->referral_zone = child;
  info->ns = resp_rrset(auth, child, LDNS_RR_TYPE_NS);
  const ldns_rr_list *add = ldns_pkt_additional(resp);
  for (size_t i = 0; i < ldns_rr_list_rr_count(add); i++) {
    ldns_rr *rr = ldns_rr_list_rr(add, i);
    ldns_rr_type t = ldns_rr_get_type(rr);
    if (t != LDNS_RR_TYPE_A && t != LDNS_RR_TYPE_AAAA) continue;
    if (!name_in(ldns_rr_owner(rr), zone)) continue;
    bool named = false;
    for (size_t j = 0; j < ldns_rr_list_rr_count(info->ns) && !named; j++) {
      ldns_rr *ns = ldns_rr_list_rr(info->ns, j);
      named = ldns_rr_rd_count(ns) == 1 && name_equal(ldns_rr_rdf(ns, 0), ldns_rr_owner(rr));
    }
    if (!named) continue;
    if (!info->glue) info->glue = ldns_rr_list_new();
    ldns_rr_list_push_rr(info->glue, rr);
  }
  return true;
}

static void classify_noerror(const ldns_pkt *resp, const ldns_rdf *zone,
                             struct resp_info *info) {
  bool aa = ldns_pkt_aa(resp);
  if (info->answer) {
    info->cls = RESP_ANSWER;
    return;
  }
  if (info->ncnames && !name_in(info->final_name, zone)) {
    info->cls = RESP_CNAME; /* the chain left this server's zone */
    return;
  }
  info->soa = find_soa(resp, info->final_name, zone);
  if (aa && info->soa) {
    info->cls = RESP_NODATA;
    return;
  }
  if (find_referral(resp, info->final_name, zone, info)) {
    /* A chain that ends at a delegated name: requery the target, but the
     * referral itself is still good to cache. */
    info->cls = info->ncnames ? RESP_CNAME : RESP_REFERRAL;
    return;
  }
  if (info->ncnames) {
    /* A chain that stops without data or SOA at its last name: the server
     * did not follow it there (another zone it also serves, say); ask for
     * the target itself. */
    info->cls = RESP_CNAME;
    return;
  }
  if (aa) {
    info->cls = RESP_NODATA; /* no SOA: answer it, but it cannot be cached */
    return;
  }
  info->cls = RESP_LAME;
  info->why = "neither an answer nor a referral below the zone";
}

/* The DNSSEC records that may speak for the zone: RRSIGs in the answer
 * and authority sections, NSEC/NSEC3 in authority, owned inside it; and a
 * referral's DS RRset. Whether they verify is the validator's business. */
static void collect_dnssec(const ldns_pkt *resp, const ldns_rdf *zone, struct resp_info *info) {
  const ldns_rr_list *sections[2] = {ldns_pkt_answer(resp), ldns_pkt_authority(resp)};
  for (int s = 0; s < 2; s++) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(sections[s]); i++) {
      ldns_rr *rr = ldns_rr_list_rr(sections[s], i);
      ldns_rr_type t = ldns_rr_get_type(rr);
      ldns_rr_list **to = t == LDNS_RR_TYPE_RRSIG ? &info->sigs
                        : s == 1 && (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3)
                            ? &info->nsecs : NULL;
      if (!to || ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !name_in(ldns_rr_owner(rr), zone))
        continue;
      if (!*to) *to = ldns_rr_list_new();
      ldns_rr_list_push_rr(*to, rr);
    }
  }
  if (info->cls == RESP_REFERRAL && info->referral_zone)
    info->ds = resp_rrset(ldns_pkt_authority(resp), info->referral_zone, LDNS_RR_TYPE_DS);
}

static void classify(const ldns_pkt *resp, const ldns_rdf *qname, ldns_rr_type qtype,
                     const ldns_rdf *zone, struct resp_info *info);

void resp_classify(const ldns_pkt *resp, const ldns_rdf *qname, ldns_rr_type qtype,
                   const ldns_rdf *zone, struct resp_info *info) {
  memset(info, 0, sizeof *info);
  classify(resp, qname, qtype, zone, info);
  if (info->cls != RESP_ERROR && info->cls != RESP_LAME) collect_dnssec(resp, zone, info);
}

static void classify(const ldns_pkt *resp, const ldns_rdf *qname, ldns_rr_type qtype,
                     const ldns_rdf *zone, struct resp_info *info) {
  info->rcode = ldns_pkt_get_rcode(resp);
  info->final_name = qname;
  if (info->rcode == LDNS_RCODE_YXDOMAIN) {
    /* Believed only when the DNAME in the answer makes the name too long. */
    walk_answer(resp, qname, qtype, zone, info);
    info->cls = info->yxdomain ? RESP_YXDOMAIN : RESP_ERROR;
    info->why = "error rcode";
    return;
  }
  if (info->rcode != LDNS_RCODE_NOERROR && info->rcode != LDNS_RCODE_NXDOMAIN) {
    info->cls = RESP_ERROR;
    info->why = "error rcode";
    return;
  }
  walk_answer(resp, qname, qtype, zone, info);
  if (info->yxdomain) {
    info->cls = RESP_YXDOMAIN;
    return;
  }
  if (info->rcode == LDNS_RCODE_NOERROR) {
    classify_noerror(resp, zone, info);
    return;
  }
  /* NXDOMAIN applies to the last name of the chain (RFC 6604). Believe it
   * only for a name this server is authoritative for. */
  if (info->answer) {
    info->cls = RESP_ANSWER; /* data despite NXDOMAIN: use the data */
  } else if (!name_in(info->final_name, zone)) {
    info->cls = RESP_CNAME;
  } else if (ldns_pkt_aa(resp)) {
    info->soa = find_soa(resp, info->final_name, zone);
    info->cls = RESP_NXDOMAIN;
  } else {
    info->cls = RESP_LAME;
    info->why = "NXDOMAIN without the AA bit";
  }
}

void resp_info_clear(struct resp_info *info) {
  for (size_t i = 0; i < info->ncnames; i++)
    if (info->dnames[i]) ldns_rr_free(info->cnames[i]);
  info->ncnames = 0;
  if (info->answer) ldns_rr_list_free(info->answer);
  if (info->ns) ldns_rr_list_free(info->ns);
  if (info->glue) ldns_rr_list_free(info->glue);
  if (info->sigs) ldns_rr_list_free(info->sigs);
  if (info->nsecs) ldns_rr_list_free(info->nsecs);
  if (info->ds) ldns_rr_list_free(info->ds);
  info->answer = info->ns = info->glue = info->sigs = info->nsecs = info->ds = NULL;
}
