/*
 * The security state of DNS data (RFC 4033 §5) and a validator's verdict on
 * it, with the Extended DNS Errors (RFC 8914 §4) that say why data is
 * bogus. The vocabulary shared by the DNSSEC code (dnssec.h, trust.h,
 * keycache.h) and by what reports on it (the iterator, answers, /chains,
 * the cache's enum cache_sec, which uses the same numbers).
 */
#ifndef CHAINDNS_SEC_H
#define CHAINDNS_SEC_H

/* The security state of data (RFC 4033 §5). */
enum sec_state {
  SEC_INDETERMINATE = 0, /* not (yet) known */
  SEC_INSECURE = 1,      /* provably unsigned: no trust anchor above, or a
                            proven absence of DS on the way */
  SEC_SECURE = 2,        /* signatures verified up to a trust anchor */
  SEC_BOGUS = 3,         /* should verify and does not */
};
const char *sec_state_name(enum sec_state s);

/* Extended DNS Error codes for DNSSEC failures (RFC 8914 §4). */
#define EDE_UNSUPPORTED_DNSKEY_ALGORITHM 1
#define EDE_UNSUPPORTED_DS_DIGEST 2
#define EDE_DNSSEC_INDETERMINATE 5
#define EDE_DNSSEC_BOGUS 6
#define EDE_SIGNATURE_EXPIRED 7
#define EDE_SIGNATURE_NOT_YET_VALID 8
#define EDE_DNSKEY_MISSING 9
#define EDE_RRSIGS_MISSING 10
#define EDE_NO_ZONE_KEY_BIT_SET 11
#define EDE_NSEC_MISSING 12

/* A verdict: the state, and for a bogus one the EDE and the reason. */
struct sec_result {
  enum sec_state state;
  int ede;        /* -1 unless bogus */
  char why[256];  /* "zone example.com.: RRSIG of www.example.com./A expired ..." */
};

#endif
