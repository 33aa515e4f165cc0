/*
 * Writes the seed corpus of fuzz_record (tests/fuzz/corpus/record) with the
 * real encoders, cache_encode_rrs and record_encode, in the input format of
 * fuzz_record.h. Not a fuzz target; run it by hand after the value format
 * changes:  build-fuzz/tests/fuzz/make_record_seeds tests/fuzz/corpus/record
 */
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "cache/record.h"
#include "fuzz_record.h"

static const char *dir;

static ldns_rr_list *rrs(const char *const *text) {
  ldns_rr_list *l = ldns_rr_list_new();
  for (; *text; text++) {
    ldns_rr *rr = NULL;
    if (ldns_rr_new_frm_str(&rr, *text, 3600, NULL, NULL) != LDNS_STATUS_OK) {
      fprintf(stderr, "bad RR: %s\n", *text);
      exit(1);
    }
    ldns_rr_list_push_rr(l, rr);
  }
  return l;
}

/* One seed: control byte, owner (its length and bytes; length 0 for the
 * default owner), then the value record_encode writes for it. */
static void seed(const char *file, uint8_t ctl, const char *owner_text, bool explicit_owner,
                 uint8_t kind, const uint8_t *payload, size_t plen) {
  ldns_rdf *owner = ldns_dname_new_frm_str(owner_text);
  uint8_t ow[256];
  size_t olen = ldns_rdf_size(owner);
  for (size_t i = 0; i < olen; i++) {
    uint8_t c = ldns_rdf_data(owner)[i];
    ow[i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
  }
  uint8_t key_kind = (uint8_t)((ctl >> FUZZ_RC_KIND_SHIFT) & 3);
  uint8_t lookup_kind = key_kind == 1 ? RECORD_NXDOMAIN : key_kind == 2 ? RECORD_CHAIN
                                                                         : RECORD_RRSET;
  uint16_t type = lookup_kind == RECORD_RRSET ? fuzz_record_types[ctl >> FUZZ_RC_TYPE_SHIFT] : 0;
  char key[RECORD_KEY_MAX];
  size_t klen = record_key(FUZZ_RECORD_PREFIX, ow, olen, type, (enum record_kind)lookup_kind, key,
                           sizeof key);
  struct record_secret sec = {.len = 0};
  if (ctl & FUZZ_RC_SECRET) {
    sec.len = strlen(FUZZ_RECORD_SECRET);
    memcpy(sec.key, FUZZ_RECORD_SECRET, sec.len);
  }
  struct cache_record rec = {.owner = ow, .owner_len = olen, .type = type, .kind = kind,
                             .rank = CACHE_RANK_ANSWER, .expiry = FUZZ_RECORD_NOW + 3600,
                             .ttl = 3600, .payload = payload, .payload_len = plen};
  size_t vlen = 0;
  uint8_t *v = klen ? record_encode(&rec, key, klen, &sec, &vlen) : NULL;
  if (!v) {
    fprintf(stderr, "cannot encode %s\n", file);
    exit(1);
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  uint8_t head[2] = {ctl, explicit_owner ? (uint8_t)olen : 0};
  fwrite(head, 1, 2, f);
  if (explicit_owner) fwrite(ldns_rdf_data(owner), 1, olen, f);
  fwrite(v, 1, vlen, f);
  fclose(f);
  printf("%s: %s, %zu bytes of value\n", path, key, vlen);
  free(v);
  ldns_rdf_deep_free(owner);
}

static void seed_rrs(const char *file, uint8_t ctl, const char *owner, bool explicit_owner,
                     uint8_t kind, const char *const *text) {
  ldns_rr_list *l = rrs(text);
  size_t plen = 0;
  uint8_t *payload = cache_encode_rrs(l, &plen);
  seed(file, ctl, owner, explicit_owner, kind, payload, plen);
  free(payload);
  ldns_rr_list_deep_free(l);
}

#define TYPE(i) ((uint8_t)((i) << FUZZ_RC_TYPE_SHIFT))
#define KIND(k) ((uint8_t)((k) << FUZZ_RC_KIND_SHIFT))

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  static const char *const a[] = {"www.example.com. 3600 IN A 192.0.2.1",
                                  "www.example.com. 3600 IN A 192.0.2.2", NULL};
  static const char *const soa[] = {
      "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 "
      "1209600 300", NULL};
  static const char *const txt[] = {
      "_dmarc.example.com. 300 IN TXT \"v=DMARC1; p=reject\"", NULL};
  static const char *const cname[] = {"www.example.com. 600 IN CNAME edge.cdn.example.net.",
                                      NULL};
  static const char *const aaaa[] = {"WWW.Example.COM. 60 IN AAAA 2001:db8::1", NULL};
  static const char *const mx[] = {"mail.example.com. 300 IN MX 10 mx1.example.com.",
                                   "mail.example.com. 300 IN MX 20 mx2.example.com.", NULL};

  seed_rrs("rrset-a", TYPE(0) | KIND(0), "www.example.com.", false, RECORD_RRSET, a);
  seed_rrs("rrset-a-signed", TYPE(0) | KIND(0) | FUZZ_RC_SECRET, "www.example.com.", false,
           RECORD_RRSET, a);
  seed_rrs("rrset-aaaa-resign", TYPE(7) | KIND(0) | FUZZ_RC_SECRET | FUZZ_RC_RESIGN,
           "www.example.com.", false, RECORD_RRSET, aaaa);
  seed_rrs("rrset-cname", TYPE(2) | KIND(0), "www.example.com.", false, RECORD_RRSET, cname);
  seed_rrs("rrset-txt-owner", TYPE(6) | KIND(0), "_dmarc.example.com.", true, RECORD_RRSET,
           txt);
  seed_rrs("rrset-mx-signed", TYPE(5) | KIND(0) | FUZZ_RC_SECRET, "mail.example.com.", true,
           RECORD_RRSET, mx);
  seed_rrs("nodata-mx", TYPE(5) | KIND(0), "www.example.com.", false, RECORD_NODATA, soa);
  seed_rrs("nxdomain", KIND(1), "nope.example.com.", true, RECORD_NXDOMAIN, soa);
  seed_rrs("nxdomain-signed", KIND(1) | FUZZ_RC_SECRET, "nope.example.com.", true,
           RECORD_NXDOMAIN, soa);
  static const uint8_t chain[] = "\3www\7example\3com\0"
                                 "\4edge\3cdn\7example\3net\0"
                                 "\1e\3cdn\3net";
  seed("chain", KIND(2), "www.example.com.", false, RECORD_CHAIN, chain, sizeof chain);
  seed("chain-signed", KIND(2) | FUZZ_RC_SECRET, "www.example.com.", false, RECORD_CHAIN, chain,
       sizeof chain);
  return 0;
}
