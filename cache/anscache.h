/*
 * The answer cache: finished replies by question, so a cache hit costs a
 * lookup and a copy instead of a parse, a resolution and a serialisation.
 *
 * Each worker has its own (no lock); it is filled with the replies the
 * worker's full path sent and serves later queries for the same question
 * and the same reply-shaping flags (EDNS or not, DO, CD). On the way out the
 * reply gets the query's ID, RD and CD bits and question bytes (so the
 * client's letter case is echoed), and each record's TTL is rewritten from
 * its own absolute expiry, so TTLs count down exactly as in the RRset cache.
 * An entry lives until its first record expires; bounded in bytes, LRU.
 *
 * Only what is certain is cached: NOERROR and NXDOMAIN replies without an
 * Extended DNS Error, not truncated, to well-formed single-question IN
 * queries. Everything else takes the full path.
 */
#ifndef CHAINDNS_ANSCACHE_H
#define CHAINDNS_ANSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AC_KEY_MAX (255 + 5)

/* A query as the fast path sees it. */
struct ac_query {
  uint8_t key[AC_KEY_MAX]; /* lower-case qname, qtype, qclass, flags */
  size_t klen;
  uint64_t hash;
  uint16_t id;
  uint16_t qtype;
  size_t qend;        /* offset just after the question section */
  size_t limit;       /* the largest UDP reply the client takes */
  bool rd, cd, ad, edns, do_bit;
};

/* Parse a query for the answer cache. Returns true when it is eligible:
 * QR=0, opcode QUERY, one IN question and nothing else but at most one
 * OPT (version 0), names uncompressed and well formed. our_edns is the
 * payload size we advertise (caps the client's). */
bool ac_parse(const uint8_t *q, size_t len, uint16_t our_edns, struct ac_query *out);

/* What the fast path reports about a hit, for the metrics. */
struct ac_meta {
  uint8_t rcode;
  uint8_t chain_len; /* CNAMEs in the answer (0: not a chain) */
  uint8_t outcome;   /* enum stats_outcome of a chain */
  uint8_t purpose;   /* enum stats_purpose of a chain */
  uint8_t dname_hops, alias_hops; /* of chain_len, the hops of those kinds */
  bool prefetch;       /* on a hit: time to refresh the question (once) */
  int64_t prefetch_at; /* stored: when the reply's data nears expiry; 0: never */
};

typedef struct anscache anscache_t;

anscache_t *anscache_new(size_t max_bytes);
void anscache_free(anscache_t *c);

/* Write the reply to q (the query's bytes, parsed as q) into out. Returns
 * its length, or 0 on a miss (absent, expired, or larger than the client
 * takes). *meta describes the entry on a hit. now: wall-clock seconds. */
size_t anscache_answer(anscache_t *c, const struct ac_query *q, const uint8_t *query,
                       uint8_t *out, size_t cap, int64_t now, struct ac_meta *meta);

/* Remember a reply the full path sent to query q. Not stored when it is
 * not cacheable (see above) or its smallest TTL is 0. */
void anscache_store(anscache_t *c, const struct ac_query *q, const uint8_t *reply, size_t len,
                    int64_t now, const struct ac_meta *meta);

/* Forget everything (the RRset cache was flushed). */
void anscache_clear(anscache_t *c);

struct ac_stats {
  uint64_t hits, misses, inserts, evictions;
  uint64_t bytes, entries;
};
void anscache_stats(const anscache_t *c, struct ac_stats *out);

#endif
