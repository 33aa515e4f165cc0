/*
 * Configuration: defaults, a YAML file (libyaml) and command-line flags, in
 * that order of precedence (flags win). A bad file, key or value is an error
 * that names the file, the line and the key.
 *
 * Filled in main() before workers start and never written afterwards. SIGHUP
 * does not edit it: config_reload() builds a new one, which the main thread
 * hands to each worker; the last worker to let go of the old one frees it
 * (config_unref).
 */
#ifndef CHAINDNS_CONFIG_H
#define CHAINDNS_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cache/redis.h"
#include "resolver/daemon/acl.h"
#include "resolver/core/iter_modes.h"
#include "resolver/core/localzone.h"
#include "resolver/lib/log.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_TA_FILES 8
#define CONFIG_MAX_NTAS 64
#define CONFIG_MAX_METRICS_HOSTS 16
/* Where the control socket is by default (control-socket: auto), when its
 * directory exists: systemd's RuntimeDirectory=chaindns, the image's. */
#define CONFIG_CONTROL_SOCKET "/run/chaindns/control.sock"

/* Whether the IANA root trust anchor built into the binary is in force:
 * AUTO when the root hints are IANA's root servers (a private root cannot
 * be signed with IANA's keys); a trust-anchor file naming the root
 * replaces it in every mode. */
enum builtin_ta { BUILTIN_TA_AUTO, BUILTIN_TA_ON, BUILTIN_TA_OFF };

struct config {
  struct sockaddr_storage listen[CONFIG_MAX_LISTEN];
  socklen_t listen_len[CONFIG_MAX_LISTEN];
  size_t nlisten;
  char root_hints[1024];       /* empty: built-in IANA hints */
  unsigned threads;
  size_t cache_size;           /* bytes */
  size_t max_chain_length;
  struct acl acl;
  bool ipv4, ipv6;             /* families used towards authorities */
  uint16_t upstream_port;
  enum log_level log_level;
  enum log_format log_format;  /* text or json lines */
  bool query_log;              /* a log line per answered query */
  uint32_t min_ttl, max_ttl, max_negative_ttl;
  uint32_t request_timeout_ms; /* overall deadline of one client request */
  uint32_t max_upstream_queries;
  uint32_t tcp_idle_timeout_ms;
  uint32_t tcp_max_connections; /* per worker */
  uint32_t tcp_max_per_client;  /* per worker and client address */
  uint32_t tcp_read_timeout_ms; /* a query's bytes must all arrive within it */
  size_t tcp_max_backlog;       /* bytes of replies queued to TCP clients, per worker */
  uint32_t max_requests;        /* resolutions under way, per worker */
  uint32_t max_upstream_in_flight; /* queries to authorities, per worker */
  uint32_t ratelimit;           /* UDP queries per second per client; 0: off */
  uint32_t ratelimit_slip;      /* every N-th limited query gets TC=1 */
  uint32_t serve_stale;         /* seconds expired data may still answer; 0: off */
  uint32_t stale_answer_ttl;    /* TTL of a stale answer's records */
  uint16_t edns_buffer_size;   /* advertised and used as the UDP answer cap */
  struct redis_config redis;   /* the shared cache tier; off by default */
  bool metrics;                /* serve /metrics, /chains, /trace */
  struct sockaddr_storage metrics_addr;
  uint32_t metrics_top_zones;  /* zones with a latency series of their own */
  uint32_t trace_rate;         /* /trace requests per minute; 0: /trace off */
  char metrics_hosts[CONFIG_MAX_METRICS_HOSTS][254]; /* metrics-allowed-host: Host
                                  names served besides IP literals and localhost
                                  (lower case, no final dot) */
  size_t n_metrics_hosts;
  char control_socket[108];    /* unix socket for chaindns ctl; "" = none */
  bool control_socket_auto;    /* the default path, only if its directory exists */
  char control_token[257];     /* control-token-file's secret (visible ASCII);
                                  empty: no cache control over HTTP */
  size_t control_token_len;
  bool case_randomization;     /* 0x20 on outbound names */
  bool instrumentation;        /* latency histograms and chain observations; off
                                  only to measure what they cost */
  localzones_t *local;         /* local zones and data (owned: one reference),
                                  built-in defaults included; NULL until
                                  config_from_args or a local-* key */
  enum qmin_mode qmin;         /* QNAME minimisation (RFC 9156) */
  enum nxcut_mode nxcut;       /* nothing-below-nxdomain (RFC 8020) */
  bool prefetch;               /* refresh popular entries near expiry */
  bool dnssec;                 /* validate (default on, built-in root anchor) */
  bool aggressive_nsec;        /* RFC 8198: answer from cached NSEC ranges */
  enum builtin_ta builtin_ta;  /* the IANA root anchor: auto, on or off */
  char ta_files[CONFIG_MAX_TA_FILES][1024]; /* trust-anchor-file */
  size_t n_ta_files;
  char ntas[CONFIG_MAX_NTAS][256];          /* negative-trust-anchor names */
  size_t n_ntas;
  uint32_t prefetch_max;       /* prefetches in flight per worker */
  int refs; /* a reloaded configuration: the workers still holding it (atomic);
               0 for the start-up one, which lives as long as the process */
};

void config_defaults(struct config *cfg);
/* Release what a configuration owns (its local zones). */
void config_clear(struct config *cfg);

/* Parse argv into cfg (reading --config FILE first, then applying the
 * flags). Returns 0 to run, 1 when --help/--version printed and the program
 * should exit 0, -1 on error with a message in err. */
int config_from_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Load a YAML file over cfg. Returns 0 or -1 with "FILE:LINE: key 'K': why"
 * in err. Exposed for tests. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

void config_usage(FILE *out);

/* SIGHUP: the running configuration with the keys that can change while
 * running taken from next (those the table in config.c marks KEY_RELOAD:
 * the access list, logging, timeouts, limits, local data...). The others
 * keep their running values; each one next changes is named in
 * *restart_keys (", "-separated) so the operator can be told.
 * Returns a new malloc'd configuration with refs = 0. */
struct config *config_reload(const struct config *running, const struct config *next,
                             char *restart_keys, size_t len);
/* Drop a worker's hold on a reloaded configuration; the last one frees it. */
void config_unref(const struct config *cfg);

/* What the table of keys says about the i-th key (false past the last): for
 * the tests that check the sample file and --help cover every key. */
struct config_key_info {
  const char *flag;     /* --flag VALUE ("redis-url"), static */
  bool negated;         /* the flag is --no-flag, without a value (ipv4, ipv6) */
  const char *section;  /* the mapping a file writes it under ("redis"), or NULL */
  char file_key[64];    /* how a file writes it (in its section): "url", "replicas" */
  bool list;            /* a file may give a list */
  bool reloadable;      /* SIGHUP applies it; otherwise it needs a restart */
};
bool config_key_info(size_t i, struct config_key_info *out);

#endif
