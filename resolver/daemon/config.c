/*
 * Configuration loading; see config.h. Each key has one setter shared by the
 * YAML loader and the flag parser, so a key means the same thing in both
 * places and its error message is written once.
 */
#include "resolver/daemon/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <yaml.h>

#include "resolver/lib/util.h"

void config_defaults(struct config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  util_parse_addr_port("127.0.0.1:53", 53, &cfg->listen[0], &cfg->listen_len[0]);
  cfg->nlisten = 1;
  /* One worker per core; beyond 64 the shared cache's locks would be the
   * limit rather than the cores. */
  unsigned cores = uv_available_parallelism();
  cfg->threads = cores < 1 ? 1 : cores > 64 ? 64 : cores;
  cfg->cache_size = 64u << 20;
  cfg->max_chain_length = 16;
  acl_set_loopback(&cfg->acl);
  cfg->ipv4 = cfg->ipv6 = true;
  cfg->upstream_port = 53;
  cfg->log_level = LOG_INFO;
  cfg->min_ttl = 0;
  cfg->max_ttl = 86400;
  cfg->max_negative_ttl = 3600;
  cfg->request_timeout_ms = 5000;
  cfg->max_upstream_queries = 100;
  cfg->tcp_idle_timeout_ms = 10000;
  cfg->tcp_max_connections = 256;
  cfg->tcp_max_per_client = 32;
  cfg->tcp_read_timeout_ms = 3000;
  cfg->tcp_max_backlog = 16u << 20;
  cfg->max_requests = 1024;
  cfg->max_upstream_in_flight = 2048;
  cfg->ratelimit = 0;
  cfg->ratelimit_slip = 2;
  cfg->serve_stale = 0;
  cfg->stale_answer_ttl = 30;
  cfg->edns_buffer_size = 1232;
  redis_config_defaults(&cfg->redis);
  cfg->metrics_top_zones = 20;
  cfg->trace_rate = 6;
  snprintf(cfg->control_socket, sizeof cfg->control_socket, "%s", CONFIG_CONTROL_SOCKET);
  cfg->control_socket_auto = true;
  cfg->instrumentation = true;
  cfg->case_randomization = true;
  cfg->qmin = QMIN_RELAXED;
  cfg->nxcut = NXCUT_DNSSEC;
  cfg->dnssec = true;
  cfg->aggressive_nsec = true;
  cfg->builtin_ta = BUILTIN_TA_AUTO;
  cfg->prefetch = true;
  cfg->prefetch_max = 32;
}

void config_clear(struct config *cfg) {
  lz_unref(cfg->local);
  cfg->local = NULL;
}

static localzones_t *local_zones(struct config *cfg) {
  if (!cfg->local) cfg->local = lz_new(true);
  return cfg->local;
}

/* Setter context: lists given by one source replace the defaults once. */
struct setctx {
  bool listen_set, allow_set, replica_set, sentinel_set, metrics_hosts_set;
  const char *where; /* where the value comes from: "FILE:LINE: key 'K'" or "--K" */
};

/* Set-up errors that need more than a static string (file names, errno):
 * configuration is read once, in the main thread, before workers start. */
static char why_buf[512];

static int parse_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out) {
  char *end;
  if (!isdigit((unsigned char)v[0])) return -1; /* no blanks, no sign */
  errno = 0;
  unsigned long x = strtoul(v, &end, 10);
  if (errno || end == v || *end || x < lo || x > hi) return -1;
  *out = x;
  return 0;
}

static int parse_bool(const char *v, bool *out) {
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) *out = true;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) *out = false;
  else return -1;
  return 0;
}

/* Read a secret from a file (so it stays out of the process list): the
 * whole file, without a trailing newline. */
static const char *read_secret_file(const char *path, char *out, size_t cap, size_t *len) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(why_buf, sizeof why_buf, "cannot read %s: %s", path, strerror(errno));
    return why_buf;
  }
  size_t n = fread(out, 1, cap, f);
  bool more = fgetc(f) != EOF;
  fclose(f);
  if (more) return "the file is too long";
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) n--;
  if (n == 0) return "the file is empty";
  *len = n;
  return NULL;
}

static const char *set_secret(struct record_secret *sec, const char *v, size_t n) {
  if (n < 16) return "expected at least 16 characters";
  if (n > sizeof sec->key) return "expected at most 256 characters";
  memcpy(sec->key, v, n);
  sec->len = n;
  return NULL;
}

static const char *set_string(char *dst, size_t cap, const char *v) {
  if (strlen(v) >= cap) return "too long";
  strcpy(dst, v);
  return NULL;
}

/* The control token goes into an HTTP header: visible ASCII only. */
static const char *set_control_token(struct config *cfg, const char *path) {
  char buf[sizeof cfg->control_token];
  size_t n = 0;
  const char *why = read_secret_file(path, buf, sizeof buf - 1, &n);
  if (why) return why;
  if (n < 16) return "the token must be at least 16 characters";
  for (size_t i = 0; i < n; i++)
    if (buf[i] < 0x21 || buf[i] > 0x7e)
      return "the token must be visible ASCII, without blanks (e.g. base64)";
  memset(cfg->control_token, 0, sizeof cfg->control_token);
  memcpy(cfg->control_token, buf, n);
  cfg->control_token_len = n;
  return NULL;
}

/* auto (the default path, if its directory exists), off, or a path that
 * fits a unix socket address. */
static const char *set_control_socket(struct config *cfg, const char *v) {
  bool is_auto = !strcmp(v, "auto");
  const char *path = is_auto ? CONFIG_CONTROL_SOCKET : !strcmp(v, "off") ? "" : v;
  if (!is_auto && !*v) return "expected a path, auto or off";
  if (strlen(path) >= sizeof cfg->control_socket)
    return "expected a path of at most 107 bytes (a unix socket's limit), auto or off";
  memset(cfg->control_socket, 0, sizeof cfg->control_socket);
  strcpy(cfg->control_socket, path);
  cfg->control_socket_auto = is_auto;
  return NULL;
}

/* A host name the metrics listener answers to, kept in lower case without
 * the final dot (the Host header is compared that way). */
static const char *add_metrics_host(struct config *cfg, struct setctx *sc, const char *v) {
  if (!sc->metrics_hosts_set) cfg->n_metrics_hosts = 0;
  sc->metrics_hosts_set = true;
  size_t n = strlen(v);
  if (n && v[n - 1] == '.') n--;
  if (n == 0 || n > 253) return "expected a host name";
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)v[i]) && !strchr("-._", v[i]))
      return "expected a host name (letters, digits, '-', '_' and '.'; no port)";
  if (cfg->n_metrics_hosts == CONFIG_MAX_METRICS_HOSTS) return "at most 16 names";
  char *dst = cfg->metrics_hosts[cfg->n_metrics_hosts++];
  memset(dst, 0, sizeof cfg->metrics_hosts[0]);
  for (size_t i = 0; i < n; i++) dst[i] = (char)tolower((unsigned char)v[i]);
  return NULL;
}

static bool prefix_ok(const char *v) {
  if (!*v) return false;
  for (const char *p = v; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-_.", *p)) return false;
  return true;
}

/* The keys of the "redis" section ("redis-url" as a flag, url: under
 * redis: in the file). */
static const char *set_redis_key(struct redis_config *rc, struct setctx *sc, const char *k,
                                 const char *v) {
  unsigned long u;
  struct redis_endpoint ep;
  const char *why = NULL;
  char buf[300];
  size_t n = 0;
  if (!strcmp(k, "url")) {
    if (redis_parse_url(v, &ep, &why)) return why;
    return set_string(rc->url, sizeof rc->url, v);
  } else if (!strcmp(k, "user")) {
    return set_string(rc->user, sizeof rc->user, v);
  } else if (!strcmp(k, "password")) {
    return set_string(rc->password, sizeof rc->password, v);
  } else if (!strcmp(k, "password-file")) {
    if ((why = read_secret_file(v, buf, sizeof rc->password - 1, &n))) return why;
    memcpy(rc->password, buf, n);
    rc->password[n] = 0;
  } else if (!strcmp(k, "db")) {
    if (parse_uint(v, 0, 1000, &u)) return "expected a database number from 0 to 1000";
    rc->db = (int)u;
  } else if (!strcmp(k, "prefix")) {
    if (strlen(v) >= sizeof rc->prefix || !prefix_ok(v))
      return "expected 1 to 128 letters, digits, '-', '_' or '.'";
    strcpy(rc->prefix, v);
  } else if (!strcmp(k, "connect-timeout")) {
    if (parse_uint(v, 10, 60000, &u)) return "expected milliseconds from 10 to 60000";
    rc->connect_timeout_ms = (uint32_t)u;
  } else if (!strcmp(k, "command-timeout")) {
    if (parse_uint(v, 1, 10000, &u)) return "expected milliseconds from 1 to 10000";
    rc->command_timeout_ms = (uint32_t)u;
  } else if (!strcmp(k, "secret")) {
    return set_secret(&rc->secret, v, strlen(v));
  } else if (!strcmp(k, "secret-file")) {
    if ((why = read_secret_file(v, buf, sizeof rc->secret.key, &n))) return why;
    return set_secret(&rc->secret, buf, n);
  } else if (!strcmp(k, "replica")) {
    if (!sc->replica_set) rc->nreplicas = 0;
    sc->replica_set = true;
    if (rc->nreplicas == REDIS_MAX_REPLICAS) return "too many replicas (at most 8)";
    if (redis_parse_url(v, &ep, &why)) return why;
    return set_string(rc->replicas[rc->nreplicas++], sizeof rc->replicas[0], v);
  } else if (!strcmp(k, "sentinel")) {
    if (!sc->sentinel_set) rc->nsentinels = 0;
    sc->sentinel_set = true;
    if (rc->nsentinels == REDIS_MAX_SENTINELS) return "too many sentinels (at most 8)";
    snprintf(buf, sizeof buf, "redis://%s", v);
    if (redis_parse_url(buf, &ep, &why) || ep.db >= 0 || ep.user[0] || ep.password[0])
      return "expected ADDRESS:PORT or [IPv6]:PORT";
    return set_string(rc->sentinels[rc->nsentinels++], sizeof rc->sentinels[0], v);
  } else if (!strcmp(k, "sentinel-master")) {
    return set_string(rc->sentinel_master, sizeof rc->sentinel_master, v);
  } else if (!strcmp(k, "sentinel-password")) {
    return set_string(rc->sentinel_password, sizeof rc->sentinel_password, v);
  } else if (!strcmp(k, "sentinel-password-file")) {
    if ((why = read_secret_file(v, buf, sizeof rc->sentinel_password - 1, &n))) return why;
    memcpy(rc->sentinel_password, buf, n);
    rc->sentinel_password[n] = 0;
  } else if (!strcmp(k, "max-pending")) {
    if (parse_uint(v, 16, 1000000, &u)) return "expected a number from 16 to 1000000";
    rc->max_pending = (uint32_t)u;
  } else {
    return "unknown key";
  }
  return NULL;
}

/* Apply key=value. Returns NULL or a static description of what is wrong.
 */
static const char *set_key(struct config *cfg, struct setctx *sc, const char *key,
                           const char *v) {
  unsigned long u;
  if (!strcmp(key, "listen")) {
    if (!sc->listen_set) cfg->nlisten = 0;
    sc->listen_set = true;
    if (cfg->nlisten == CONFIG_MAX_LISTEN) return "too many listen addresses";
    if (util_parse_addr_port(v, 53, &cfg->listen[cfg->nlisten], &cfg->listen_len[cfg->nlisten]))
      return "expected ADDR:PORT, [IPv6]:PORT or ADDR";
    cfg->nlisten++;
  } else if (!strcmp(key, "allow")) {
    if (!sc->allow_set) cfg->acl.n = 0;
    sc->allow_set = true;
    if (acl_add(&cfg->acl, v)) return "expected an address or CIDR prefix (e.g. 10.0.0.0/8)";
  } else if (!strcmp(key, "root-hints")) {
    if (strlen(v) >= sizeof cfg->root_hints) return "path too long";
    strcpy(cfg->root_hints, v);
  } else if (!strcmp(key, "threads")) {
    if (parse_uint(v, 1, 256, &u)) return "expected a number from 1 to 256";
    cfg->threads = (unsigned)u;
  } else if (!strcmp(key, "cache-size")) {
    if (util_parse_size(v, &cfg->cache_size) || cfg->cache_size < 65536)
      return "expected a size of at least 64k (e.g. 64m)";
  } else if (!strcmp(key, "max-chain-length")) {
    if (parse_uint(v, 1, 64, &u)) return "expected a number from 1 to 64";
    cfg->max_chain_length = u;
  } else if (!strcmp(key, "ipv4") || !strcmp(key, "ipv6")) {
    if (parse_bool(v, key[3] == '4' ? &cfg->ipv4 : &cfg->ipv6)) return "expected true or false";
  } else if (!strcmp(key, "upstream-port")) {
    if (parse_uint(v, 1, 65535, &u)) return "expected a port from 1 to 65535";
    cfg->upstream_port = (uint16_t)u;
  } else if (!strcmp(key, "log-format")) {
    if (log_parse_format(v, &cfg->log_format)) return "expected text or json";
  } else if (!strcmp(key, "query-log")) {
    if (parse_bool(v, &cfg->query_log)) return "expected on or off";
  } else if (!strcmp(key, "log-level")) {
    if (log_parse_level(v, &cfg->log_level)) return "expected debug, info, warn or error";
  } else if (!strcmp(key, "min-ttl")) {
    if (parse_uint(v, 0, 86400, &u)) return "expected seconds from 0 to 86400";
    cfg->min_ttl = (uint32_t)u;
  } else if (!strcmp(key, "max-ttl")) {
    if (parse_uint(v, 1, 604800, &u)) return "expected seconds from 1 to 604800";
    cfg->max_ttl = (uint32_t)u;
  } else if (!strcmp(key, "max-negative-ttl")) {
    if (parse_uint(v, 0, 86400, &u)) return "expected seconds from 0 to 86400";
    cfg->max_negative_ttl = (uint32_t)u;
  } else if (!strcmp(key, "request-timeout")) {
    if (parse_uint(v, 100, 60000, &u)) return "expected milliseconds from 100 to 60000";
    cfg->request_timeout_ms = (uint32_t)u;
  } else if (!strcmp(key, "max-upstream-queries")) {
    if (parse_uint(v, 1, 1000, &u)) return "expected a number from 1 to 1000";
    cfg->max_upstream_queries = (uint32_t)u;
  } else if (!strcmp(key, "tcp-idle-timeout")) {
    if (parse_uint(v, 100, 600000, &u)) return "expected milliseconds from 100 to 600000";
    cfg->tcp_idle_timeout_ms = (uint32_t)u;
  } else if (!strcmp(key, "tcp-max-connections")) {
    if (parse_uint(v, 1, 65535, &u)) return "expected a number from 1 to 65535";
    cfg->tcp_max_connections = (uint32_t)u;
  } else if (!strcmp(key, "tcp-max-connections-per-client")) {
    if (parse_uint(v, 1, 65535, &u)) return "expected a number from 1 to 65535";
    cfg->tcp_max_per_client = (uint32_t)u;
  } else if (!strcmp(key, "tcp-read-timeout")) {
    if (parse_uint(v, 100, 60000, &u)) return "expected milliseconds from 100 to 60000";
    cfg->tcp_read_timeout_ms = (uint32_t)u;
  } else if (!strcmp(key, "tcp-max-backlog")) {
    /* At least one reply of the largest size, so the limit can be met. */
    if (util_parse_size(v, &cfg->tcp_max_backlog) || cfg->tcp_max_backlog < 65536)
      return "expected a size of at least 64k (e.g. 16m)";
  } else if (!strcmp(key, "max-requests")) {
    if (parse_uint(v, 1, 1000000, &u)) return "expected a number from 1 to 1000000";
    cfg->max_requests = (uint32_t)u;
  } else if (!strcmp(key, "max-upstream-in-flight")) {
    if (parse_uint(v, 1, 1000000, &u)) return "expected a number from 1 to 1000000";
    cfg->max_upstream_in_flight = (uint32_t)u;
  } else if (!strcmp(key, "ratelimit")) {
    if (parse_uint(v, 0, 1000000, &u)) return "expected queries per second, 0 for off";
    cfg->ratelimit = (uint32_t)u;
  } else if (!strcmp(key, "ratelimit-slip")) {
    if (parse_uint(v, 0, 100, &u)) return "expected a number from 0 to 100";
    cfg->ratelimit_slip = (uint32_t)u;
  } else if (!strcmp(key, "serve-stale")) {
    if (parse_uint(v, 0, 7 * 86400, &u)) return "expected seconds from 0 (off) to 604800";
    cfg->serve_stale = (uint32_t)u;
  } else if (!strcmp(key, "stale-answer-ttl")) {
    if (parse_uint(v, 1, 3600, &u)) return "expected seconds from 1 to 3600";
    cfg->stale_answer_ttl = (uint32_t)u;
  } else if (!strcmp(key, "edns-buffer-size")) {
    if (parse_uint(v, 512, 4096, &u)) return "expected bytes from 512 to 4096";
    cfg->edns_buffer_size = (uint16_t)u;
  } else if (!strcmp(key, "metrics")) {
    /* ADDR:PORT, or a bare port on loopback; "off" disables it. */
    socklen_t len;
    cfg->metrics = strcmp(v, "off") != 0;
    if (cfg->metrics && !strchr(v, ':') && !parse_uint(v, 1, 65535, &u))
      util_parse_addr_port("127.0.0.1", (int)u, &cfg->metrics_addr, &len);
    else if (cfg->metrics && util_parse_addr_port(v, -1, &cfg->metrics_addr, &len))
      return "expected ADDR:PORT, [IPv6]:PORT, a port (on 127.0.0.1) or off";
  } else if (!strcmp(key, "case-randomization")) {
    if (parse_bool(v, &cfg->case_randomization)) return "expected on or off";
  } else if (!strcmp(key, "instrumentation")) {
    if (parse_bool(v, &cfg->instrumentation)) return "expected on or off";
  } else if (!strcmp(key, "trace-rate")) {
    if (parse_uint(v, 0, 600, &u)) return "expected traces per minute from 0 (off) to 600";
    cfg->trace_rate = (uint32_t)u;
  } else if (!strcmp(key, "metrics-allowed-host")) {
    return add_metrics_host(cfg, sc, v);
  } else if (!strcmp(key, "control-socket")) {
    return set_control_socket(cfg, v);
  } else if (!strcmp(key, "control-token-file")) {
    return set_control_token(cfg, v);
  } else if (!strcmp(key, "metrics-top-zones")) {
    if (parse_uint(v, 1, 1000, &u)) return "expected a number from 1 to 1000";
    cfg->metrics_top_zones = (uint32_t)u;
  } else if (!strcmp(key, "local-zone")) {
    return local_zones(cfg) ? lz_add_zone(cfg->local, v) : "out of memory";
  } else if (!strcmp(key, "local-data")) {
    return local_zones(cfg) ? lz_add_data(cfg->local, v, sc->where ? sc->where : "local-data")
                            : "out of memory";
  } else if (!strcmp(key, "qname-minimisation")) {
    if (!strcmp(v, "relaxed")) cfg->qmin = QMIN_RELAXED;
    else if (!strcmp(v, "strict")) cfg->qmin = QMIN_STRICT;
    else if (!strcmp(v, "off")) cfg->qmin = QMIN_OFF;
    else return "expected relaxed, strict or off";
  } else if (!strcmp(key, "nothing-below-nxdomain")) {
    if (!strcmp(v, "dnssec")) cfg->nxcut = NXCUT_DNSSEC;
    else if (!strcmp(v, "yes")) cfg->nxcut = NXCUT_YES;
    else if (!strcmp(v, "no")) cfg->nxcut = NXCUT_NO;
    else return "expected dnssec, yes or no";
  } else if (!strcmp(key, "prefetch")) {
    if (parse_bool(v, &cfg->prefetch)) return "expected on or off";
  } else if (!strcmp(key, "dnssec")) {
    if (parse_bool(v, &cfg->dnssec)) return "expected on or off";
  } else if (!strcmp(key, "aggressive-nsec")) {
    if (parse_bool(v, &cfg->aggressive_nsec)) return "expected on or off";
  } else if (!strcmp(key, "builtin-trust-anchor")) {
    bool on;
    if (!strcmp(v, "auto")) cfg->builtin_ta = BUILTIN_TA_AUTO;
    else if (parse_bool(v, &on) == 0) cfg->builtin_ta = on ? BUILTIN_TA_ON : BUILTIN_TA_OFF;
    else return "expected auto, on or off";
  } else if (!strcmp(key, "trust-anchor-file")) {
    if (cfg->n_ta_files == CONFIG_MAX_TA_FILES) return "at most 8 trust anchor files";
    if (strlen(v) >= sizeof cfg->ta_files[0]) return "path too long";
    if (access(v, R_OK)) return "cannot read the file";
    snprintf(cfg->ta_files[cfg->n_ta_files++], sizeof cfg->ta_files[0], "%s", v);
  } else if (!strcmp(key, "negative-trust-anchor")) {
    ldns_rdf *d = NULL;
    if (strlen(v) >= sizeof cfg->ntas[0] || ldns_str2rdf_dname(&d, v) != LDNS_STATUS_OK)
      return "expected a domain name";
    ldns_rdf_deep_free(d);
    if (cfg->n_ntas == CONFIG_MAX_NTAS) return "at most 64 negative trust anchors";
    snprintf(cfg->ntas[cfg->n_ntas++], sizeof cfg->ntas[0], "%s", v);
  } else if (!strcmp(key, "prefetch-max")) {
    if (parse_uint(v, 1, 10000, &u)) return "expected a number from 1 to 10000";
    cfg->prefetch_max = (uint32_t)u;
  } else if (!strncmp(key, "redis-", 6)) {
    return set_redis_key(&cfg->redis, sc, key + 6, v);
  } else {
    return "unknown key";
  }
  return NULL;
}

/* Every key, once: the file's keys, the flags and their help come from
 * here. A key under a section is written "section: {key: ...}" in the file
 * and --section-key as a flag. */
struct key_def {
  const char *name;
  bool list;
  const char *file_name; /* the name in the file when it differs (plural lists) */
};

static const struct key_def keys[] = {
    {"listen", true, NULL}, {"allow", true, NULL}, {"root-hints", false, NULL},
    {"threads", false, NULL}, {"cache-size", false, NULL},
    {"max-chain-length", false, NULL}, {"ipv4", false, NULL}, {"ipv6", false, NULL},
    {"upstream-port", false, NULL}, {"log-level", false, NULL}, {"min-ttl", false, NULL},
    {"log-format", false, NULL}, {"query-log", false, NULL},
    {"max-ttl", false, NULL}, {"max-negative-ttl", false, NULL},
    {"request-timeout", false, NULL}, {"max-upstream-queries", false, NULL},
    {"tcp-idle-timeout", false, NULL}, {"tcp-max-connections", false, NULL},
    {"tcp-max-connections-per-client", false, NULL}, {"tcp-read-timeout", false, NULL},
    {"tcp-max-backlog", false, NULL},
    {"max-requests", false, NULL}, {"max-upstream-in-flight", false, NULL},
    {"ratelimit", false, NULL}, {"ratelimit-slip", false, NULL},
    {"serve-stale", false, NULL}, {"stale-answer-ttl", false, NULL},
    {"edns-buffer-size", false, NULL}, {"metrics", false, NULL},
    {"metrics-top-zones", false, NULL}, {"instrumentation", false, NULL},
    {"trace-rate", false, NULL}, {"metrics-allowed-host", true, NULL},
    {"control-socket", false, NULL}, {"control-token-file", false, NULL},
    {"case-randomization", false, NULL},
    {"qname-minimisation", false, NULL}, {"nothing-below-nxdomain", false, NULL},
    {"prefetch", false, NULL}, {"prefetch-max", false, NULL},
    {"dnssec", false, NULL}, {"aggressive-nsec", false, NULL},
    {"builtin-trust-anchor", false, NULL}, {"trust-anchor-file", true, NULL},
    {"negative-trust-anchor", true, NULL},
    {"local-zone", true, NULL}, {"local-data", true, NULL},
    {"redis-url", false, NULL}, {"redis-user", false, NULL}, {"redis-password", false, NULL},
    {"redis-password-file", false, NULL}, {"redis-db", false, NULL},
    {"redis-prefix", false, NULL}, {"redis-connect-timeout", false, NULL},
    {"redis-command-timeout", false, NULL}, {"redis-secret", false, NULL},
    {"redis-secret-file", false, NULL}, {"redis-replica", true, "redis-replicas"},
    {"redis-sentinel", true, "redis-sentinels"}, {"redis-sentinel-master", false, NULL},
    {"redis-sentinel-password", false, NULL}, {"redis-sentinel-password-file", false, NULL},
    {"redis-max-pending", false, NULL},
};

#define NKEYS (sizeof keys / sizeof keys[0])

const char *config_key(size_t i, bool *in_file_as_list) {
  if (i >= NKEYS) return NULL;
  if (in_file_as_list) *in_file_as_list = keys[i].list;
  return keys[i].name;
}

/* The key written `name` in a file, or NULL. */
static const struct key_def *file_key(const char *name) {
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(name, keys[i].file_name ? keys[i].file_name : keys[i].name)) return &keys[i];
  return NULL;
}

static bool is_section(const char *name) { return !strcmp(name, "redis"); }

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* Walking the YAML events: a top mapping of key: scalar or key: [scalars],
 * and sections (redis:) holding one more mapping of the same shape. */
struct yaml_walk {
  struct config *cfg;
  struct setctx sc;
  const char *path;
  char *err;
  size_t errlen;
  int level;         /* 0: outside, 1: top mapping, 2: a section's mapping */
  bool want_key;
  bool in_list;
  char section[200]; /* the section being read, "" at the top */
  char shown[200];   /* the key as written, for messages ("redis.url") */
  const struct key_def *key;
  unsigned documents; /* YAML documents begun */
  /* Keys met so far (as shown) and their lines: a key given twice is an
   * error, not "the last one wins". */
  struct { char name[200]; unsigned long line; } seen[128];
  size_t nseen;
};

/* Remember the key just read; an error if it was read before. */
static int walk_once(struct yaml_walk *w, unsigned long line) {
  for (size_t i = 0; i < w->nseen; i++)
    if (!strcmp(w->seen[i].name, w->shown))
      return fail(w->err, w->errlen, "%s:%lu: key '%s' appears twice (first on line %lu)",
                  w->path, line, w->shown, w->seen[i].line);
  if (w->nseen < sizeof w->seen / sizeof w->seen[0]) {
    snprintf(w->seen[w->nseen].name, sizeof w->seen[0].name, "%s", w->shown);
    w->seen[w->nseen++].line = line;
  }
  return 0;
}

static int walk_key(struct yaml_walk *w, const char *v, unsigned long line) {
  char name[200];
  snprintf(w->shown, sizeof w->shown, "%s%s%s", w->section, w->section[0] ? "." : "", v);
  snprintf(name, sizeof name, "%s%s%s", w->section, w->section[0] ? "-" : "", v);
  w->want_key = false;
  w->key = file_key(name);
  if (w->key || (w->level == 1 && is_section(v))) return walk_once(w, line);
  return fail(w->err, w->errlen, "%s:%lu: unknown key '%s'", w->path, line, w->shown);
}

static int walk_value(struct yaml_walk *w, const char *v, unsigned long line) {
  if (!w->key)
    return fail(w->err, w->errlen, "%s:%lu: key '%s': expected a mapping of its keys", w->path,
                line, w->shown);
  char where[600];
  snprintf(where, sizeof where, "%s:%lu: key '%s'", w->path, line, w->shown);
  w->sc.where = where;
  const char *why = set_key(w->cfg, &w->sc, w->key->name, v);
  w->sc.where = NULL;
  if (why)
    return fail(w->err, w->errlen, "%s:%lu: key '%s': %s (got '%s')", w->path, line, w->shown,
                why, v);
  if (!w->in_list) w->want_key = true;
  return 0;
}

static int walk_mapping_start(struct yaml_walk *w, unsigned long line) {
  if (w->level == 0) {
    w->level = 1;
  } else if (w->level == 1 && !w->want_key && !w->key && !w->in_list) {
    snprintf(w->section, sizeof w->section, "%s", w->shown);
    w->level = 2;
  } else {
    return fail(w->err, w->errlen, "%s:%lu: key '%s': nested mappings are only allowed under "
                "redis", w->path, line, w->shown);
  }
  w->want_key = true;
  return 0;
}

/* YAML that libyaml accepts but this reader would get wrong, said at its
 * line rather than silently misread: anchors and aliases (a value written
 * elsewhere), and a second document after '---'. */
static int walk_unsupported(struct yaml_walk *w, const yaml_event_t *ev, unsigned long line) {
  const yaml_char_t *anchor = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.anchor
                            : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.anchor
                            : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
                            : NULL;
  if (ev->type == YAML_ALIAS_EVENT || anchor)
    return fail(w->err, w->errlen, "%s:%lu: YAML anchors and aliases (&%s, *%s) are not "
                "supported: write the value out", w->path, line,
                anchor ? (const char *)anchor : "name",
                ev->type == YAML_ALIAS_EVENT ? (const char *)ev->data.alias.anchor : "name");
  if (ev->type == YAML_DOCUMENT_START_EVENT && ++w->documents > 1)
    return fail(w->err, w->errlen, "%s:%lu: a second YAML document ('---'): the configuration "
                "is one document", w->path, line);
  return 0;
}

static int walk_event(struct yaml_walk *w, const yaml_event_t *ev) {
  unsigned long line = (unsigned long)ev->start_mark.line + 1;
  const char *v = (const char *)ev->data.scalar.value;
  if (walk_unsupported(w, ev, line)) return -1;
  switch (ev->type) {
  case YAML_MAPPING_START_EVENT: return walk_mapping_start(w, line);
  case YAML_MAPPING_END_EVENT:
    w->level--;
    w->section[0] = 0;
    w->want_key = true;
    return 0;
  case YAML_SEQUENCE_START_EVENT:
    if (w->level == 0 || w->want_key || w->in_list)
      return fail(w->err, w->errlen, "%s:%lu: a list is only allowed as the value of a key",
                  w->path, line);
    if (!w->key || !w->key->list)
      return fail(w->err, w->errlen, "%s:%lu: key '%s': expected a single value, not a list",
                  w->path, line, w->shown);
    w->in_list = true;
    return 0;
  case YAML_SEQUENCE_END_EVENT:
    w->in_list = false;
    w->want_key = true;
    return 0;
  case YAML_SCALAR_EVENT:
    if (w->level == 0)
      return *v ? fail(w->err, w->errlen, "%s:%lu: expected a mapping of keys to values",
                       w->path, line) : 0;
    return w->want_key ? walk_key(w, v, line) : walk_value(w, v, line);
  default:
    return 0;
  }
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  struct yaml_walk w = {.cfg = cfg, .path = path, .err = err, .errlen = errlen,
                        .want_key = true};
  int rc = 0;
  for (bool done = false; !done && rc == 0;) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = fail(err, errlen, "%s:%lu: YAML syntax error: %s", path,
                (unsigned long)p.problem_mark.line + 1, p.problem ? p.problem : "?");
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    rc = walk_event(&w, &ev);
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&p);
  fclose(f);
  return rc;
}

void config_usage(FILE *out) {
  fprintf(out,
          "Usage: chaindns [options]\n"
          "A recursive caching DNS resolver that follows CNAME chains from the root.\n\n"
          "  --config FILE            YAML configuration (keys are the long option names;\n"
          "                           redis-X is written X under a redis: mapping)\n"
          "  --listen ADDR:PORT       address to serve on, repeatable (default 127.0.0.1:53;\n"
          "                           IPv6 as [::1]:53)\n"
          "  --root-hints FILE        root hints in named.root format (default: built-in IANA)\n"
          "  --threads N              worker threads (default: one per core)\n"
          "  --cache-size SIZE        cache memory bound, e.g. 64m (default 64m)\n"
          "  --max-chain-length N     CNAMEs followed on one chain (default 16)\n"
          "  --allow CIDR             clients allowed, repeatable (default loopback only)\n"
          "  --no-ipv4, --no-ipv6     never query authorities over that family\n"
          "  --upstream-port N        port authoritative servers are asked on (default 53)\n"
          "  --request-timeout MS     overall deadline of one request (default 5000)\n"
          "  --min-ttl S, --max-ttl S clamps on positive TTLs (default 0 and 86400)\n"
          "  --max-negative-ttl S     clamp on negative TTLs (default 3600)\n"
          "  --edns-buffer-size N     UDP size advertised and sent at most (default 1232)\n"
          "  --max-upstream-queries N upstream queries per request (default 100)\n"
          "  --case-randomization off send names to authorities as asked, not in random\n"
          "                           letter case (0x20; default on)\n"
          "  --log-level LEVEL        debug, info, warn or error (default info)\n"
          "  --log-format FORMAT      text or json: one JSON object per line (default text)\n"
          "  --query-log on           a log line per answered query: client, name, type,\n"
          "                           rcode, chain length, duration, source (default off)\n"
          "  --serve-stale SECONDS    answer data expired up to this long ago when the\n"
          "                           authorities fail (RFC 8767; default 0 = off)\n"
          "  --stale-answer-ttl S     TTL of stale records in such answers (default 30)\n"
          "Resolution:\n"
          "  --qname-minimisation M   relaxed, strict or off: ask each zone only for the\n"
          "                           next label (RFC 9156; default relaxed: a server that\n"
          "                           mishandles it is asked the full name)\n"
          "  --nothing-below-nxdomain M  dnssec, yes or no: an NXDOMAIN also answers names\n"
          "                           below it (RFC 8020); dnssec: only validated ones\n"
          "                           (default dnssec)\n"
          "  --prefetch off           refresh popular entries in their last tenth of TTL\n"
          "                           in the background (default on)\n"
          "  --prefetch-max N         prefetches at once per worker (default 32)\n"
          "DNSSEC:\n"
          "  --dnssec off             do not validate (default on, from the built-in IANA\n"
          "                           root trust anchor: KSK-2017 and KSK-2024)\n"
          "  --aggressive-nsec off    do not answer NXDOMAIN/NODATA from cached, validated\n"
          "                           NSEC ranges without asking (RFC 8198; default on)\n"
          "  --trust-anchor-file F    DS or DNSKEY lines in zone-file syntax (repeatable;\n"
          "                           added to the built-in root anchor; a domain it\n"
          "                           names replaces the built-in anchors for it)\n"
          "  --builtin-trust-anchor M auto, on or off: the IANA root anchor (default auto:\n"
          "                           in force when the root hints are IANA's servers)\n"
          "  --negative-trust-anchor NAME  do not validate NAME and below (RFC 7646;\n"
          "                           repeatable), e.g. a zone known to be broken\n"
          "Local data (repeatable; flags add to the file's lists):\n"
          "  --local-zone 'NAME TYPE' static, transparent, redirect, refuse, or nodefault\n"
          "                           (drops a built-in zone: localhost, private reverse...)\n"
          "  --local-data 'RR'        a record, e.g. 'router.lan. 300 A 192.168.1.1', or\n"
          "                           'NAME [TTL] ALIAS TARGET': A/AAAA of TARGET, flattened\n"
          "Limits (per worker thread; over a limit the query is shed and counted):\n"
          "  --max-requests N         resolutions under way (default 1024; REFUSED beyond)\n"
          "  --max-upstream-in-flight N queries to authorities at once (default 2048)\n"
          "  --tcp-max-connections N  client connections (default 256), and\n"
          "  --tcp-max-connections-per-client N from one address (default 32)\n"
          "  --tcp-idle-timeout MS    (default 10000), --tcp-read-timeout MS: a query's\n"
          "                           bytes must arrive within it (default 3000)\n"
          "  --tcp-max-backlog SIZE   replies queued for clients that do not read them,\n"
          "                           all connections together (default 16m); one\n"
          "                           connection stops being read at 256k\n"
          "  --ratelimit QPS          UDP queries per second per client, 0 = off (default 0)\n"
          "  --ratelimit-slip N       every N-th limited query gets TC=1 (default 2)\n"
          "Metrics and control:\n"
          "  --metrics ADDR:PORT      serve /metrics, /chains and /trace over HTTP (off by\n"
          "                           default; a bare port means 127.0.0.1, e.g. 5399)\n"
          "  --metrics-allowed-host NAME  a Host name the metrics listener answers to\n"
          "                           besides IP addresses and localhost (repeatable)\n"
          "  --metrics-top-zones K    zones with a latency series of their own (default 20)\n"
          "  --trace-rate N           /trace requests per minute, one at a time (default 6;\n"
          "                           0 turns /trace off)\n"
          "  --instrumentation off    no latency histograms or chain records (to measure\n"
          "                           their cost; counters stay)\n"
          "  --control-socket PATH    unix socket (mode 0600) for chaindns ctl; default\n"
          "                           auto: /run/chaindns/control.sock if /run/chaindns\n"
          "                           exists; off: none\n"
          "  --control-token-file F   a secret of 16+ characters; with it, POST /cache/flush\n"
          "                           and GET /cache/stats are served on the metrics\n"
          "                           listener to 'Authorization: Bearer SECRET' (default:\n"
          "                           not served)\n"
          "Shared cache (Redis), off unless a URL or sentinels are given:\n"
          "  --redis-url URL          redis://[user:password@]ADDRESS[:PORT][/DB] or\n"
          "                           unix:///PATH[?db=N]\n"
          "  --redis-user USER, --redis-password PASSWORD, --redis-password-file FILE\n"
          "  --redis-db N             database (default: from the URL, else 0)\n"
          "  --redis-prefix PREFIX    key prefix, one per fleet (default chaindns)\n"
          "  --redis-connect-timeout MS (default 500), --redis-command-timeout MS (default 30)\n"
          "  --redis-secret S, --redis-secret-file FILE\n"
          "                           HMAC key: values are signed and checked\n"
          "  --redis-replica URL      read replica, repeatable\n"
          "  --redis-sentinel ADDR:PORT, repeatable, with --redis-sentinel-master NAME\n"
          "  --redis-sentinel-password P, --redis-sentinel-password-file FILE\n"
          "                           the Sentinels' requirepass (they choose the primary)\n"
          "  --redis-max-pending N    commands outstanding per connection (default 1024)\n"
          "  --help, --version\n"
          "Commands:\n"
          "  chaindns trace NAME [TYPE] [--json] [options]   one resolution from the root,\n"
          "                           every upstream query and chain hop printed\n"
          "  chaindns ctl [--control PATH] flush NAME | flush-zone ZONE | stats\n"
          "                           cache control through a running resolver's control\n"
          "                           socket (default /run/chaindns/control.sock), or\n"
          "  chaindns ctl --metrics ADDR:PORT --token-file F flush NAME | ...\n"
          "                           through its metrics listener, with the control token\n");
}

enum { OPT_NO_IPV4 = 1000, OPT_NO_IPV6, OPT_HELP, OPT_VERSION, OPT_CONFIG };

/* getopt's table: every key as --name VALUE, then the flags of their own. */
static void build_long_opts(struct option *o) {
  size_t n = 0;
  o[n++] = (struct option){"config", required_argument, 0, OPT_CONFIG};
  for (size_t i = 0; i < NKEYS; i++) {
    if (!strcmp(keys[i].name, "ipv4") || !strcmp(keys[i].name, "ipv6")) continue;
    o[n++] = (struct option){keys[i].name, required_argument, 0, 0};
  }
  o[n++] = (struct option){"no-ipv4", no_argument, 0, OPT_NO_IPV4};
  o[n++] = (struct option){"no-ipv6", no_argument, 0, OPT_NO_IPV6};
  o[n++] = (struct option){"help", no_argument, 0, OPT_HELP};
  o[n++] = (struct option){"version", no_argument, 0, OPT_VERSION};
  o[n] = (struct option){0, 0, 0, 0};
}

/* Checks across keys, once every source is read. */
static int check_config(const struct config *cfg, char *err, size_t errlen) {
  const struct redis_config *rc = &cfg->redis;
  if (!cfg->ipv4 && !cfg->ipv6)
    return fail(err, errlen, "--no-ipv4 and --no-ipv6 leave no way to reach authorities");
  if (cfg->min_ttl > cfg->max_ttl) return fail(err, errlen, "min-ttl is larger than max-ttl");
  if (rc->nsentinels && !rc->sentinel_master[0])
    return fail(err, errlen, "redis sentinels need redis sentinel-master (the primary's name)");
  if (rc->nreplicas && !redis_enabled(rc))
    return fail(err, errlen, "redis replicas need a primary: redis url or redis sentinels");
  return 0;
}

/* The local zones, defaults included, checked across records. */
static int finish_local(struct config *cfg, char *err, size_t errlen) {
  if (!local_zones(cfg)) return fail(err, errlen, "out of memory");
  return lz_finish(cfg->local, err, errlen);
}

int config_from_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen) {
  struct option long_opts[NKEYS + 8];
  build_long_opts(long_opts);
  /* Pass 1: --help, --version and --config, so flags can override the file. */
  optind = 1;
  opterr = 0;
  int c, idx;
  while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
    if (c == OPT_HELP) {
      config_usage(stdout);
      return 1;
    }
    if (c == OPT_VERSION) {
      printf("chaindns %s\n", CHAINDNS_VERSION);
      return 1;
    }
    if (c == '?') {
      return fail(err, errlen, "unknown or incomplete option '%s' (see --help)",
                  argv[optind - 1]);
    }
    if (c == OPT_CONFIG && config_load_file(cfg, optarg, err, errlen)) return -1;
  }
  if (optind < argc) return fail(err, errlen, "unexpected argument '%s'", argv[optind]);
  /* Pass 2: the flags. */
  struct setctx sc = {0};
  optind = 1;
  while ((c = getopt_long(argc, argv, "", long_opts, &idx)) != -1) {
    const char *why = NULL;
    if (c == OPT_NO_IPV4) cfg->ipv4 = false;
    else if (c == OPT_NO_IPV6) cfg->ipv6 = false;
    else if (c == 0) {
      char where[64];
      snprintf(where, sizeof where, "--%s", long_opts[idx].name);
      sc.where = where;
      why = set_key(cfg, &sc, long_opts[idx].name, optarg);
      sc.where = NULL;
    }
    if (why) return fail(err, errlen, "--%s: %s (got '%s')", long_opts[idx].name, why, optarg);
  }
  if (finish_local(cfg, err, errlen)) return -1;
  return check_config(cfg, err, errlen);
}

struct config *config_reload(const struct config *running, const struct config *next,
                             char *restart_keys, size_t len) {
  struct config *c = malloc(sizeof *c);
  if (!c) return NULL;
  *c = *running;
  c->refs = 0;
  /* What the workers read afresh on every use. */
  c->acl = next->acl;
  c->log_level = next->log_level;
  c->log_format = next->log_format;
  c->query_log = next->query_log;
  c->request_timeout_ms = next->request_timeout_ms;
  c->tcp_idle_timeout_ms = next->tcp_idle_timeout_ms;
  c->tcp_read_timeout_ms = next->tcp_read_timeout_ms;
  c->tcp_max_connections = next->tcp_max_connections;
  c->tcp_max_per_client = next->tcp_max_per_client;
  c->tcp_max_backlog = next->tcp_max_backlog;
  c->max_requests = next->max_requests;
  c->max_upstream_in_flight = next->max_upstream_in_flight;
  c->ratelimit = next->ratelimit;
  c->ratelimit_slip = next->ratelimit_slip;
  c->stale_answer_ttl = next->stale_answer_ttl;
  c->trace_rate = next->trace_rate;
  c->prefetch = next->prefetch;
  c->prefetch_max = next->prefetch_max;
  c->local = lz_ref(next->local); /* local data is read on every use */
  /* What was built from the configuration at start-up. */
  struct {
    const char *key;
    bool changed;
  } fixed[] = {
      {"listen", running->nlisten != next->nlisten ||
                     memcmp(running->listen, next->listen, sizeof next->listen)},
      {"root-hints", strcmp(running->root_hints, next->root_hints) != 0},
      {"threads", running->threads != next->threads},
      {"cache-size", running->cache_size != next->cache_size},
      {"max-chain-length", running->max_chain_length != next->max_chain_length},
      {"ipv4/ipv6", running->ipv4 != next->ipv4 || running->ipv6 != next->ipv6},
      {"upstream-port", running->upstream_port != next->upstream_port},
      {"min-ttl/max-ttl/max-negative-ttl", running->min_ttl != next->min_ttl ||
                                               running->max_ttl != next->max_ttl ||
                                               running->max_negative_ttl != next->max_negative_ttl},
      {"max-upstream-queries", running->max_upstream_queries != next->max_upstream_queries},
      {"edns-buffer-size", running->edns_buffer_size != next->edns_buffer_size},
      {"serve-stale", running->serve_stale != next->serve_stale},
      {"case-randomization", running->case_randomization != next->case_randomization},
      {"qname-minimisation", running->qmin != next->qmin},
      {"nothing-below-nxdomain", running->nxcut != next->nxcut},
      {"dnssec/trust-anchor-file/negative-trust-anchor",
       running->dnssec != next->dnssec || running->aggressive_nsec != next->aggressive_nsec ||
           running->builtin_ta != next->builtin_ta ||
           running->n_ta_files != next->n_ta_files ||
           running->n_ntas != next->n_ntas ||
           memcmp(running->ta_files, next->ta_files, sizeof next->ta_files) ||
           memcmp(running->ntas, next->ntas, sizeof next->ntas)},
      {"metrics", running->metrics != next->metrics ||
                      memcmp(&running->metrics_addr, &next->metrics_addr,
                             sizeof next->metrics_addr)},
      {"metrics-top-zones", running->metrics_top_zones != next->metrics_top_zones},
      {"metrics-allowed-host", running->n_metrics_hosts != next->n_metrics_hosts ||
                                   memcmp(running->metrics_hosts, next->metrics_hosts,
                                          sizeof next->metrics_hosts)},
      {"control-socket", running->control_socket_auto != next->control_socket_auto ||
                             strcmp(running->control_socket, next->control_socket)},
      {"control-token-file", running->control_token_len != next->control_token_len ||
                                 memcmp(running->control_token, next->control_token,
                                        sizeof next->control_token)},
      {"instrumentation", running->instrumentation != next->instrumentation},
      {"redis", memcmp(&running->redis, &next->redis, sizeof next->redis) != 0},
  };
  size_t used = 0;
  if (len) restart_keys[0] = 0;
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    if (!fixed[i].changed || used >= len) continue;
    int n = snprintf(restart_keys + used, len - used, "%s%s", used ? ", " : "", fixed[i].key);
    if (n > 0) used += (size_t)n;
  }
  return c;
}

void config_unref(const struct config *cfg) {
  struct config *c = (struct config *)cfg;
  if (c && c->refs && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    config_clear(c);
    free(c);
  }
}
