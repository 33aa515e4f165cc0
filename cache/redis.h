/*
 * The shared cache tier: Redis behind the memory tier, shared by a fleet of
 * chaindns instances, so what one instance learned another answers without
 * asking the internet again.
 *
 * One tier per worker, on that worker's libuv loop, through hiredis's libuv
 * adapter: nothing here ever blocks. It holds a connection to the primary
 * (given by URL, or discovered through Sentinel) and optionally to read
 * replicas; lookups go to a ready replica when there is one, writes to the
 * primary.
 *
 * Redis is an accelerator, never a dependency: a lookup that is not answered
 * within the command timeout is reported as a miss and resolution goes on; a
 * connection that fails is retried with back-off while lookups are reported
 * as misses at once; after repeated timeouts a circuit breaker stops asking
 * for a while, then lets a single probe through. Writes are pipelined and
 * bounded: when too many commands are outstanding, writes are dropped and
 * counted. Values carry their absolute expiry (and an HMAC when a secret is
 * set); anything that fails to decode or verify is ignored and counted.
 *
 * Threading: a tier belongs to one worker and is used only on its loop.
 */
#ifndef CHAINDNS_REDIS_H
#define CHAINDNS_REDIS_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cache/cache.h"
#include "cache/record.h"
#include "resolver/lib/hist.h"

#define REDIS_MAX_REPLICAS 8
#define REDIS_MAX_SENTINELS 8

/* Where a Redis server is. */
struct redis_endpoint {
  bool unix_socket;
  char host[256]; /* TCP: address or name */
  int port;
  char path[256]; /* unix socket */
  int db;         /* -1: not given in the URL */
  char user[128], password[256]; /* from the URL, may be empty */
};

/* Settings, filled by the configuration; read-only once workers run. */
struct redis_config {
  char url[512];        /* empty (and no sentinels): no shared tier */
  char user[128];       /* ACL user, or empty */
  char password[256];   /* empty: no AUTH (unless the URL has one) */
  int db;               /* -1: from the URL, else 0 */
  char prefix[129];
  uint32_t connect_timeout_ms;
  uint32_t command_timeout_ms;
  struct record_secret secret;
  char replicas[REDIS_MAX_REPLICAS][512];
  size_t nreplicas;
  char sentinels[REDIS_MAX_SENTINELS][300]; /* host:port */
  size_t nsentinels;
  char sentinel_master[128];
  char sentinel_password[256]; /* Sentinel's requirepass, or empty */
  uint32_t max_pending;  /* commands outstanding per connection */
};

/* Counters of one worker's tier; summed across workers for reporting. */
struct redis_stats {
  uint64_t lookups;        /* fetches sent */
  uint64_t lookup_hits;    /* fetches that found at least one entry */
  uint64_t keys_found;     /* entries found and accepted */
  uint64_t skipped;        /* fetches not sent: down, breaker open, queue full */
  uint64_t timeouts;       /* fetches reported as misses after the timeout */
  uint64_t errors;         /* error replies and lost connections */
  uint64_t bad_mac;        /* values rejected by the HMAC check */
  uint64_t bad_value;      /* garbage, truncated or misplaced values */
  uint64_t flushed;        /* values written before a flush of their name
                              (put back, or not yet deleted): refused */
  uint64_t writes;         /* SETs sent */
  uint64_t writes_dropped; /* writes not sent: down, breaker open, queue full */
  uint64_t breaker_opens;
  uint64_t connects;       /* connections that became ready */
  uint64_t up;             /* gauge: 1 while the primary connection is ready */
  struct hist lookup_latency; /* sent to answered in time, microseconds */
};

void redis_config_defaults(struct redis_config *rc);
bool redis_enabled(const struct redis_config *rc);

/* Parse "redis://[[user]:password@]host[:port][/db]", "redis://[v6]:port",
 * "unix:///path/to.sock[?db=N]" or "unix:/path". Returns 0, or -1 with why
 * set to a static description. */
int redis_parse_url(const char *url, struct redis_endpoint *ep, const char **why);

/* Where the primary is, for the log: never the password. */
const char *redis_describe(const struct redis_config *rc, char *buf, size_t len);

typedef struct redis_tier redis_tier_t;
typedef struct redis_lookup redis_lookup_t;

/* The outcome of a lookup, valid only during the callback. res NULL: nothing
 * found (miss, timeout, error). Found entries are already in the memory
 * tier. */
typedef void (*redis_lookup_cb)(void *arg, const struct fetch_result *res);

/* Create the tier and start connecting. mem is the memory tier to fill. */
redis_tier_t *redis_tier_new(uv_loop_t *loop, const struct redis_config *cfg, cache_t *mem,
                             size_t max_chain_names);

/* Close connections and timers; the tier frees itself once libuv has closed
 * its handles (run the loop afterwards). Pending lookups are dropped without
 * a callback. */
void redis_tier_close(redis_tier_t *t);

/* Fetch keys in one round trip. Returns a handle, or NULL when the lookup
 * was not sent (tier down, breaker open, too much outstanding): treat that
 * as a miss at once; cb is then never called. */
redis_lookup_t *redis_tier_lookup(redis_tier_t *t, const struct fetch_key *keys,
                                  size_t nkeys, redis_lookup_cb cb, void *arg);

/* The caller lost interest: cb will not be called. */
void redis_tier_cancel(redis_lookup_t *l);

/* Write what the memory tier stored (a cache_sink's put): answer-rank
 * entries and chain records only; others are not shared. */
void redis_tier_store(void *tier, const struct cache_record *rec);

/* The tier's counters now (the up gauge computed as of this call). */
/* Operators: delete the shared tier's values for name (all types, the
 * negative ones and its chain record), and with below for every name under
 * it too; SCAN over the primary, on the tier's loop. done gets the number
 * of keys deleted, or -1 when Redis could not be asked (down, or the scan
 * broke off), and whether the scan went through the whole keyspace: it
 * stops after max_ms (a huge keyspace must not hold the operator, or the
 * next flush, for ever; flushing again goes on where names are left). */
typedef void (*redis_flush_cb)(void *arg, long deleted, bool complete);
void redis_tier_flush(redis_tier_t *t, const ldns_rdf *name, bool below, uint32_t max_ms,
                      redis_flush_cb done, void *arg);

void redis_tier_stats(const redis_tier_t *t, struct redis_stats *out);

#endif
