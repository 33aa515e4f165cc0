/*
 * Configuration loading; see config.h. Every key is one row of one table
 * (keys[], below): its name, how its value is parsed and checked, the field
 * it fills, its --help text and whether SIGHUP applies it. The YAML loader,
 * the flags, --help and reload all read that table, so a key means the same
 * thing everywhere and is spelled once.
 */
#include "resolver/daemon/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
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

/* Set-up errors that need more than a static string (file names, errno,
 * ranges): configuration is read once, in the main thread, before workers
 * start, or on SIGHUP in the main thread. */
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

/* ---- the keys that need more than a typed parser ----------------------
 * Each fills its field(s) in the table below; where it is "FILE:LINE: key
 * 'K'" or "--K", for messages that name more than one line. A list that
 * replaces its default (KEY_REPLACE) was emptied by set_key already. */

static const char *set_listen(struct config *cfg, const char *v, const char *where) {
  if (cfg->nlisten == CONFIG_MAX_LISTEN) return "too many listen addresses";
  if (util_parse_addr_port(v, 53, &cfg->listen[cfg->nlisten], &cfg->listen_len[cfg->nlisten]))
    return "expected ADDR:PORT, [IPv6]:PORT or ADDR";
  cfg->nlisten++;
  return NULL;
}

static const char *set_allow(struct config *cfg, const char *v, const char *where) {
  return acl_add(&cfg->acl, v) ? "expected an address or CIDR prefix (e.g. 10.0.0.0/8)" : NULL;
}

/* The log module owns the names of its levels and formats. */
static const char *set_log_level(struct config *cfg, const char *v, const char *where) {
  return log_parse_level(v, &cfg->log_level) ? "expected debug, info, warn or error" : NULL;
}

static const char *set_log_format(struct config *cfg, const char *v, const char *where) {
  return log_parse_format(v, &cfg->log_format) ? "expected text or json" : NULL;
}

/* ADDR:PORT, or a bare port on loopback; "off" disables it. */
static const char *set_metrics(struct config *cfg, const char *v, const char *where) {
  unsigned long u;
  socklen_t len;
  cfg->metrics = strcmp(v, "off") != 0;
  if (cfg->metrics && !strchr(v, ':') && !parse_uint(v, 1, 65535, &u))
    util_parse_addr_port("127.0.0.1", (int)u, &cfg->metrics_addr, &len);
  else if (cfg->metrics && util_parse_addr_port(v, -1, &cfg->metrics_addr, &len))
    return "expected ADDR:PORT, [IPv6]:PORT, a port (on 127.0.0.1) or off";
  return NULL;
}

/* A host name the metrics listener answers to, kept in lower case without
 * the final dot (the Host header is compared that way). */
static const char *add_metrics_host(struct config *cfg, const char *v, const char *where) {
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

/* auto (the default path, if its directory exists), off, or a path that
 * fits a unix socket address. */
static const char *set_control_socket(struct config *cfg, const char *v, const char *where) {
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

/* The control token goes into an HTTP header: visible ASCII only. */
static const char *set_control_token(struct config *cfg, const char *path, const char *where) {
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

static const char *add_local_zone(struct config *cfg, const char *v, const char *where) {
  return local_zones(cfg) ? lz_add_zone(cfg->local, v) : "out of memory";
}

static const char *add_local_data(struct config *cfg, const char *v, const char *where) {
  return local_zones(cfg) ? lz_add_data(cfg->local, v, where ? where : "local-data")
                          : "out of memory";
}

static const char *set_builtin_ta(struct config *cfg, const char *v, const char *where) {
  bool on;
  if (!strcmp(v, "auto")) cfg->builtin_ta = BUILTIN_TA_AUTO;
  else if (parse_bool(v, &on) == 0) cfg->builtin_ta = on ? BUILTIN_TA_ON : BUILTIN_TA_OFF;
  else return "expected auto, on or off";
  return NULL;
}

/* The name is checked before the room in the list. */
static const char *add_nta(struct config *cfg, const char *v, const char *where) {
  ldns_rdf *d = NULL;
  if (strlen(v) >= sizeof cfg->ntas[0] || ldns_str2rdf_dname(&d, v) != LDNS_STATUS_OK)
    return "expected a domain name";
  ldns_rdf_deep_free(d);
  if (cfg->n_ntas == CONFIG_MAX_NTAS) return "at most 64 negative trust anchors";
  snprintf(cfg->ntas[cfg->n_ntas++], sizeof cfg->ntas[0], "%s", v);
  return NULL;
}

static const char *set_secret(struct record_secret *sec, const char *v, size_t n) {
  if (n < 16) return "expected at least 16 characters";
  if (n > sizeof sec->key) return "expected at most 256 characters";
  memcpy(sec->key, v, n);
  sec->len = n;
  return NULL;
}

static const char *set_redis_secret(struct config *cfg, const char *v, const char *where) {
  return set_secret(&cfg->redis.secret, v, strlen(v));
}

static const char *set_redis_secret_file(struct config *cfg, const char *v, const char *where) {
  char buf[sizeof cfg->redis.secret.key];
  size_t n = 0;
  const char *why = read_secret_file(v, buf, sizeof buf, &n);
  return why ? why : set_secret(&cfg->redis.secret, buf, n);
}

/* Checks of a value before a string key or list stores it. */

static const char *check_redis_url(const char *v) {
  struct redis_endpoint ep;
  const char *why = NULL;
  return redis_parse_url(v, &ep, &why) ? why : NULL;
}

static const char *check_redis_prefix(const char *v) {
  if (!*v) return "expected 1 to 128 letters, digits, '-', '_' or '.'";
  for (const char *p = v; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
      return "expected 1 to 128 letters, digits, '-', '_' or '.'";
  return NULL;
}

static const char *check_sentinel(const char *v) {
  struct redis_endpoint ep;
  const char *why = NULL;
  char buf[300];
  snprintf(buf, sizeof buf, "redis://%s", v);
  if (redis_parse_url(buf, &ep, &why) || ep.db >= 0 || ep.user[0] || ep.password[0])
    return "expected ADDRESS:PORT or [IPv6]:PORT";
  return NULL;
}

static const char *check_readable(const char *v) {
  if (strlen(v) >= sizeof ((struct config *)0)->ta_files[0]) return "path too long";
  return access(v, R_OK) ? "cannot read the file" : NULL;
}

/* ---- the table of keys -------------------------------------------------
 * One row per key, in the order of --help. The flag is --name; a file
 * writes name: value, or, for the keys of a section (a K_SECTION row such
 * as "redis"), the rest of the name under the section's mapping
 * (redis: {url: ...}). Everything that knows the keys reads this table: the
 * flags (getopt's table), the file walk, --help, SIGHUP (which keys it
 * applies, which changed ones need a restart) and, through
 * config_key_info, the unit test that checks the sample file and --help. */

enum key_type {
  K_SECTION, /* not a key: a mapping in the file holding the keys "name-..." */
  K_BOOL,    /* true, yes, on; false, no, off */
  K_UINT,    /* a decimal number from lo to hi, into an integer of 2, 4 or 8 bytes */
  K_SIZE,    /* bytes, with k, m or g; at least lo */
  K_STRING,  /* check()ed, then copied */
  K_FILE,    /* a file's contents (a secret), without the final newline */
  K_ENUM,    /* one of words[], stored as its value */
  K_LIST,    /* check()ed, then appended to an array of at most hi strings */
  K_CUSTOM,  /* set() */
};

enum {
  KEY_LIST = 1,    /* a file may give a list; each flag adds one value */
  KEY_REPLACE = 2, /* a list whose first value from a source (the file, or the
                      flags) empties it first: replaces the default, and the
                      flags replace the file's */
  KEY_PLURAL = 4,  /* a list written in the plural in the file (replicas:) */
  KEY_RELOAD = 8,  /* SIGHUP applies it; any other key needs a restart */
  KEY_NEGATED = 16 /* a bool whose flag is only --no-name (no value) */
};

struct word {
  const char *word;
  int value;
};

struct key {
  const char *name;       /* the flag, --name (see above for files) */
  enum key_type type;
  unsigned flags;         /* KEY_* */
  size_t off, size;       /* the field it fills, in struct config */
  size_t off2, size2;     /* and a second one (a list's count, a flag) or 0, 0;
                             SIGHUP copies or compares both */
  unsigned long lo, hi;   /* K_UINT: the range; K_SIZE: the least; K_LIST: entries */
  const char *unit;       /* K_UINT: what it counts, for the error (default "a number") */
  const char *why;        /* the error when not made from the above; K_LIST: full */
  const char *(*check)(const char *v);  /* K_STRING, K_LIST: the value's own test */
  const struct word *words;             /* K_ENUM, ending with a NULL word */
  const char *(*set)(struct config *cfg, const char *v, const char *where); /* K_CUSTOM */
  /* --help: lines of "  --name VALUE" and the help text at column 27 */
  const char *heading;    /* a line before this key's, e.g. "DNSSEC:" */
  const char *join;       /* on the line before, after this text (", "), not a line of its own */
  const char *value;      /* the placeholder after --name ("N"), NULL for none */
  const char *help;       /* the text, lines separated by \n: after the flags, padded to
                             column 27 (one blank after wider flags); below them when it
                             starts with \n; NULL: the line ends, or the next key joins it;
                             SEE_ABOVE: the key is explained in the text of the one before */
};

#define SEE_ABOVE ""
#define FIELD(f) .off = offsetof(struct config, f), .size = sizeof ((struct config *)0)->f
#define FIELD2(f) .off2 = offsetof(struct config, f), .size2 = sizeof ((struct config *)0)->f
#define LIST_OF(array, count)                                                                  \
  FIELD(array), FIELD2(count),                                                                 \
      .hi = sizeof ((struct config *)0)->array / sizeof ((struct config *)0)->array[0]

static const struct word qmin_words[] = {
    {"relaxed", QMIN_RELAXED}, {"strict", QMIN_STRICT}, {"off", QMIN_OFF}, {NULL, 0}};
static const struct word nxcut_words[] = {
    {"dnssec", NXCUT_DNSSEC}, {"yes", NXCUT_YES}, {"no", NXCUT_NO}, {NULL, 0}};

static const struct key keys[] = {
    {"listen", K_CUSTOM, KEY_LIST | KEY_REPLACE, FIELD(listen), FIELD2(nlisten),
     .set = set_listen, .value = "ADDR:PORT",
     .help = "address to serve on, repeatable (default 127.0.0.1:53;\nIPv6 as [::1]:53)"},
    {"root-hints", K_STRING, 0, FIELD(root_hints), .why = "path too long", .value = "FILE",
     .help = "root hints in named.root format (default: built-in IANA)"},
    {"threads", K_UINT, 0, FIELD(threads), .lo = 1, .hi = 256, .value = "N",
     .help = "worker threads (default: one per core)"},
    {"cache-size", K_SIZE, 0, FIELD(cache_size), .lo = 65536,
     .why = "expected a size of at least 64k (e.g. 64m)", .value = "SIZE",
     .help = "cache memory bound, e.g. 64m (default 64m)"},
    {"max-chain-length", K_UINT, 0, FIELD(max_chain_length), .lo = 1, .hi = 64, .value = "N",
     .help = "CNAMEs followed on one chain (default 16)"},
    {"allow", K_CUSTOM, KEY_LIST | KEY_REPLACE | KEY_RELOAD, FIELD(acl), FIELD2(acl.n),
     .set = set_allow, .value = "CIDR",
     .help = "clients allowed, repeatable (default loopback only)"},
    {"ipv4", K_BOOL, KEY_NEGATED, FIELD(ipv4), .why = "expected true or false"},
    {"ipv6", K_BOOL, KEY_NEGATED, FIELD(ipv6), .why = "expected true or false", .join = ", ",
     .help = "never query authorities over that family"},
    {"upstream-port", K_UINT, 0, FIELD(upstream_port), .lo = 1, .hi = 65535, .unit = "a port",
     .value = "N", .help = "port authoritative servers are asked on (default 53)"},
    {"request-timeout", K_UINT, KEY_RELOAD, FIELD(request_timeout_ms), .lo = 100, .hi = 60000,
     .unit = "milliseconds", .value = "MS",
     .help = "overall deadline of one request (default 5000)"},
    {"min-ttl", K_UINT, 0, FIELD(min_ttl), .lo = 0, .hi = 86400, .unit = "seconds", .value = "S"},
    {"max-ttl", K_UINT, 0, FIELD(max_ttl), .lo = 1, .hi = 604800, .unit = "seconds",
     .join = ", ", .value = "S", .help = "clamps on positive TTLs (default 0 and 86400)"},
    {"max-negative-ttl", K_UINT, 0, FIELD(max_negative_ttl), .lo = 0, .hi = 86400,
     .unit = "seconds", .value = "S", .help = "clamp on negative TTLs (default 3600)"},
    {"edns-buffer-size", K_UINT, 0, FIELD(edns_buffer_size), .lo = 512, .hi = 4096,
     .unit = "bytes", .value = "N", .help = "UDP size advertised and sent at most (default 1232)"},
    {"max-upstream-queries", K_UINT, 0, FIELD(max_upstream_queries), .lo = 1, .hi = 1000,
     .value = "N", .help = "upstream queries per request (default 100)"},
    {"case-randomization", K_BOOL, 0, FIELD(case_randomization), .value = "off",
     .help = "send names to authorities as asked, not in random\nletter case (0x20; default on)"},
    {"log-level", K_CUSTOM, KEY_RELOAD, FIELD(log_level), .set = set_log_level,
     .value = "LEVEL", .help = "debug, info, warn or error (default info)"},
    {"log-format", K_CUSTOM, KEY_RELOAD, FIELD(log_format), .set = set_log_format,
     .value = "FORMAT", .help = "text or json: one JSON object per line (default text)"},
    {"query-log", K_BOOL, KEY_RELOAD, FIELD(query_log), .value = "on",
     .help = "a log line per answered query: client, name, type,\n"
             "rcode, chain length, duration, source (default off)"},
    {"serve-stale", K_UINT, 0, FIELD(serve_stale), .lo = 0, .hi = 7 * 86400,
     .why = "expected seconds from 0 (off) to 604800", .value = "SECONDS",
     .help = "answer data expired up to this long ago when the\n"
             "authorities fail (RFC 8767; default 0 = off)"},
    {"stale-answer-ttl", K_UINT, KEY_RELOAD, FIELD(stale_answer_ttl), .lo = 1, .hi = 3600,
     .unit = "seconds", .value = "S", .help = "TTL of stale records in such answers (default 30)"},

    {"qname-minimisation", K_ENUM, 0, FIELD(qmin), .words = qmin_words, .heading = "Resolution:",
     .value = "M",
     .help = "relaxed, strict or off: ask each zone only for the\n"
             "next label (RFC 9156; default relaxed: a server that\n"
             "mishandles it is asked the full name)"},
    {"nothing-below-nxdomain", K_ENUM, 0, FIELD(nxcut), .words = nxcut_words, .value = "M",
     .help = " dnssec, yes or no: an NXDOMAIN also answers names\n"
             "below it (RFC 8020); dnssec: only validated ones\n"
             "(default dnssec)"},
    {"prefetch", K_BOOL, KEY_RELOAD, FIELD(prefetch), .value = "off",
     .help = "refresh popular entries in their last tenth of TTL\nin the background (default on)"},
    {"prefetch-max", K_UINT, KEY_RELOAD, FIELD(prefetch_max), .lo = 1, .hi = 10000, .value = "N",
     .help = "prefetches at once per worker (default 32)"},

    {"dnssec", K_BOOL, 0, FIELD(dnssec), .heading = "DNSSEC:", .value = "off",
     .help = "do not validate (default on, from the built-in IANA\n"
             "root trust anchor: KSK-2017 and KSK-2024)"},
    {"aggressive-nsec", K_BOOL, 0, FIELD(aggressive_nsec), .value = "off",
     .help = "do not answer NXDOMAIN/NODATA from cached, validated\n"
             "NSEC ranges without asking (RFC 8198; default on)"},
    {"trust-anchor-file", K_LIST, KEY_LIST, LIST_OF(ta_files, n_ta_files),
     .why = "at most 8 trust anchor files", .check = check_readable, .value = "F",
     .help = "DS or DNSKEY lines in zone-file syntax (repeatable;\n"
             "added to the built-in root anchor; a domain it\n"
             "names replaces the built-in anchors for it)"},
    {"builtin-trust-anchor", K_CUSTOM, 0, FIELD(builtin_ta), .set = set_builtin_ta, .value = "M",
     .help = "auto, on or off: the IANA root anchor (default auto:\n"
             "in force when the root hints are IANA's servers)"},
    {"negative-trust-anchor", K_CUSTOM, KEY_LIST, FIELD(ntas), FIELD2(n_ntas), .set = add_nta,
     .value = "NAME",
     .help = " do not validate NAME and below (RFC 7646;\n"
             "repeatable), e.g. a zone known to be broken"},

    /* The local zones are one shared table (cfg->local) that both keys add to. */
    {"local-zone", K_CUSTOM, KEY_LIST | KEY_RELOAD, FIELD(local), .set = add_local_zone,
     .heading = "Local data (repeatable; flags add to the file's lists):", .value = "'NAME TYPE'",
     .help = "static, transparent, redirect, refuse, or nodefault\n"
             "(drops a built-in zone: localhost, private reverse...)"},
    {"local-data", K_CUSTOM, KEY_LIST | KEY_RELOAD, FIELD(local), .set = add_local_data,
     .value = "'RR'",
     .help = "a record, e.g. 'router.lan. 300 A 192.168.1.1', or\n"
             "'NAME [TTL] ALIAS TARGET': A/AAAA of TARGET, flattened"},

    {"max-requests", K_UINT, KEY_RELOAD, FIELD(max_requests), .lo = 1, .hi = 1000000,
     .heading = "Limits (per worker thread; over a limit the query is shed and counted):",
     .value = "N", .help = "resolutions under way (default 1024; REFUSED beyond)"},
    {"max-upstream-in-flight", K_UINT, KEY_RELOAD, FIELD(max_upstream_in_flight), .lo = 1,
     .hi = 1000000, .value = "N", .help = "queries to authorities at once (default 2048)"},
    {"tcp-max-connections", K_UINT, KEY_RELOAD, FIELD(tcp_max_connections), .lo = 1,
     .hi = 65535, .value = "N", .help = "client connections (default 256), and"},
    {"tcp-max-connections-per-client", K_UINT, KEY_RELOAD, FIELD(tcp_max_per_client), .lo = 1,
     .hi = 65535, .value = "N", .help = "from one address (default 32)"},
    {"tcp-idle-timeout", K_UINT, KEY_RELOAD, FIELD(tcp_idle_timeout_ms), .lo = 100,
     .hi = 600000, .unit = "milliseconds", .value = "MS",
     .help = "(default 10000), --tcp-read-timeout MS: a query's\n"
             "bytes must arrive within it (default 3000)"},
    {"tcp-read-timeout", K_UINT, KEY_RELOAD, FIELD(tcp_read_timeout_ms), .lo = 100, .hi = 60000,
     .unit = "milliseconds", .help = SEE_ABOVE},
    /* At least one reply of the largest size, so the limit can be met. */
    {"tcp-max-backlog", K_SIZE, KEY_RELOAD, FIELD(tcp_max_backlog), .lo = 65536,
     .why = "expected a size of at least 64k (e.g. 16m)", .value = "SIZE",
     .help = "replies queued for clients that do not read them,\n"
             "all connections together (default 16m); one\n"
             "connection stops being read at 256k"},
    {"ratelimit", K_UINT, KEY_RELOAD, FIELD(ratelimit), .lo = 0, .hi = 1000000,
     .why = "expected queries per second, 0 for off", .value = "QPS",
     .help = "UDP queries per second per client, 0 = off (default 0)"},
    {"ratelimit-slip", K_UINT, KEY_RELOAD, FIELD(ratelimit_slip), .lo = 0, .hi = 100,
     .value = "N", .help = "every N-th limited query gets TC=1 (default 2)"},

    {"metrics", K_CUSTOM, 0, FIELD(metrics_addr), FIELD2(metrics), .set = set_metrics,
     .heading = "Metrics and control:", .value = "ADDR:PORT",
     .help = "serve /metrics, /chains and /trace over HTTP (off by\n"
             "default; a bare port means 127.0.0.1, e.g. 5399)"},
    {"metrics-allowed-host", K_CUSTOM, KEY_LIST | KEY_REPLACE,
     FIELD(metrics_hosts), FIELD2(n_metrics_hosts), .set = add_metrics_host, .value = "NAME",
     .help = " a Host name the metrics listener answers to\n"
             "besides IP addresses and localhost (repeatable)"},
    {"metrics-top-zones", K_UINT, 0, FIELD(metrics_top_zones), .lo = 1, .hi = 1000, .value = "K",
     .help = "zones with a latency series of their own (default 20)"},
    {"trace-rate", K_UINT, KEY_RELOAD, FIELD(trace_rate), .lo = 0, .hi = 600,
     .why = "expected traces per minute from 0 (off) to 600", .value = "N",
     .help = "/trace requests per minute, one at a time (default 6;\n0 turns /trace off)"},
    {"instrumentation", K_BOOL, 0, FIELD(instrumentation), .value = "off",
     .help = "no latency histograms or chain records (to measure\ntheir cost; counters stay)"},
    {"control-socket", K_CUSTOM, 0, FIELD(control_socket), FIELD2(control_socket_auto),
     .set = set_control_socket, .value = "PATH",
     .help = "unix socket (mode 0600) for chaindns ctl; default\n"
             "auto: /run/chaindns/control.sock if /run/chaindns\n"
             "exists; off: none"},
    {"control-token-file", K_CUSTOM, 0, FIELD(control_token), FIELD2(control_token_len),
     .set = set_control_token, .value = "F",
     .help = "a secret of 16+ characters; with it, POST /cache/flush\n"
             "and GET /cache/stats are served on the metrics\n"
             "listener to 'Authorization: Bearer SECRET' (default:\n"
             "not served)"},

    /* redis: {url: ...} in a file, --redis-url as a flag */
    {"redis", K_SECTION, 0,
     .heading = "Shared cache (Redis), off unless a URL or sentinels are given:"},
    {"redis-url", K_STRING, 0, FIELD(redis.url), .check = check_redis_url, .value = "URL",
     .help = "redis://[user:password@]ADDRESS[:PORT][/DB] or\nunix:///PATH[?db=N]"},
    {"redis-user", K_STRING, 0, FIELD(redis.user), .value = "USER"},
    {"redis-password", K_STRING, 0, FIELD(redis.password), .join = ", ", .value = "PASSWORD"},
    {"redis-password-file", K_FILE, 0, FIELD(redis.password), .join = ", ", .value = "FILE"},
    {"redis-db", K_UINT, 0, FIELD(redis.db), .lo = 0, .hi = 1000, .unit = "a database number",
     .value = "N", .help = "database (default: from the URL, else 0)"},
    {"redis-prefix", K_STRING, 0, FIELD(redis.prefix), .check = check_redis_prefix,
     .why = "expected 1 to 128 letters, digits, '-', '_' or '.'", .value = "PREFIX",
     .help = "key prefix, one per fleet (default chaindns)"},
    {"redis-connect-timeout", K_UINT, 0, FIELD(redis.connect_timeout_ms), .lo = 10, .hi = 60000,
     .unit = "milliseconds", .value = "MS (default 500)"},
    {"redis-command-timeout", K_UINT, 0, FIELD(redis.command_timeout_ms), .lo = 1, .hi = 10000,
     .unit = "milliseconds", .join = ", ", .value = "MS (default 30)"},
    {"redis-secret", K_CUSTOM, 0, FIELD(redis.secret), .set = set_redis_secret, .value = "S"},
    {"redis-secret-file", K_CUSTOM, 0, FIELD(redis.secret), .set = set_redis_secret_file,
     .join = ", ", .value = "FILE", .help = "\nHMAC key: values are signed and checked"},
    {"redis-replica", K_LIST, KEY_LIST | KEY_REPLACE | KEY_PLURAL,
     LIST_OF(redis.replicas, redis.nreplicas), .why = "too many replicas (at most 8)",
     .check = check_redis_url, .value = "URL", .help = "read replica, repeatable"},
    {"redis-sentinel", K_LIST, KEY_LIST | KEY_REPLACE | KEY_PLURAL,
     LIST_OF(redis.sentinels, redis.nsentinels), .why = "too many sentinels (at most 8)",
     .check = check_sentinel, .value = "ADDR:PORT"},
    {"redis-sentinel-master", K_STRING, 0, FIELD(redis.sentinel_master),
     .join = ", repeatable, with ", .value = "NAME"},
    {"redis-sentinel-password", K_STRING, 0, FIELD(redis.sentinel_password), .value = "P"},
    {"redis-sentinel-password-file", K_FILE, 0, FIELD(redis.sentinel_password), .join = ", ",
     .value = "FILE", .help = "\nthe Sentinels' requirepass (they choose the primary)"},
    {"redis-max-pending", K_UINT, 0, FIELD(redis.max_pending), .lo = 16, .hi = 1000000,
     .value = "N", .help = "commands outstanding per connection (default 1024)"},
};

#define NKEYS (sizeof keys / sizeof keys[0])

/* What one source (the file, or the flags) has set so far. */
struct setctx {
  const struct key *replaced[8]; /* the KEY_REPLACE lists it has emptied */
  size_t nreplaced;
  const char *where; /* where the value comes from: "FILE:LINE: key 'K'" or "--K" */
};

/* Whether this is the source's first value for the list k (which then
 * replaces what the list held). */
static bool first_of_source(struct setctx *sc, const struct key *k) {
  for (size_t i = 0; i < sc->nreplaced; i++)
    if (sc->replaced[i] == k) return false;
  assert(sc->nreplaced < sizeof sc->replaced / sizeof sc->replaced[0]);
  sc->replaced[sc->nreplaced++] = k;
  return true;
}

static void store_uint(void *field, size_t size, unsigned long u) {
  uint16_t u16 = (uint16_t)u;
  uint32_t u32 = (uint32_t)u;
  uint64_t u64 = u;
  assert(size == 2 || size == 4 || size == 8);
  memcpy(field, size == 2 ? (void *)&u16 : size == 4 ? (void *)&u32 : (void *)&u64, size);
}

/* "expected relaxed, strict or off" */
static const char *expected_words(const struct word *w) {
  size_t n = (size_t)snprintf(why_buf, sizeof why_buf, "expected %s", w[0].word);
  for (size_t i = 1; w[i].word && n < sizeof why_buf; i++)
    n += (size_t)snprintf(why_buf + n, sizeof why_buf - n, "%s%s",
                          w[i + 1].word ? ", " : " or ", w[i].word);
  return why_buf;
}

static const char *set_string(const struct key *k, char *field, const char *v) {
  const char *why = k->check ? k->check(v) : NULL;
  if (why) return why;
  if (strlen(v) >= k->size) return k->why ? k->why : "too long";
  strcpy(field, v);
  return NULL;
}

/* Room first, then the value: the error of a full list wins. */
static const char *add_to_list(const struct key *k, struct config *cfg, const char *v) {
  size_t count, each = k->size / k->hi;
  assert(k->size2 == sizeof count);
  memcpy(&count, (char *)cfg + k->off2, sizeof count);
  if (count == k->hi) return k->why;
  const char *why = k->check ? k->check(v) : NULL;
  if (why) return why;
  if (strlen(v) >= each) return "too long";
  strcpy((char *)cfg + k->off + count * each, v);
  count++;
  memcpy((char *)cfg + k->off2, &count, sizeof count);
  return NULL;
}

/* Apply key = v from a file or a flag. Returns NULL or a description of
 * what is wrong (static, or in why_buf until the next call). */
static const char *set_key(struct config *cfg, struct setctx *sc, const struct key *k,
                           const char *v) {
  char *field = (char *)cfg + k->off;
  unsigned long u;
  size_t n = 0;
  const char *why;
  char buf[512];
  if ((k->flags & KEY_REPLACE) && first_of_source(sc, k))
    memset((char *)cfg + k->off2, 0, k->size2); /* the list's count */
  switch (k->type) {
  case K_BOOL:
    if (parse_bool(v, (bool *)field)) return k->why ? k->why : "expected on or off";
    return NULL;
  case K_UINT:
    if (parse_uint(v, k->lo, k->hi, &u)) {
      if (k->why) return k->why;
      snprintf(why_buf, sizeof why_buf, "expected %s from %lu to %lu",
               k->unit ? k->unit : "a number", k->lo, k->hi);
      return why_buf;
    }
    store_uint(field, k->size, u);
    return NULL;
  case K_SIZE:
    if (util_parse_size(v, (size_t *)field) || *(size_t *)field < k->lo) return k->why;
    return NULL;
  case K_STRING: return set_string(k, field, v);
  case K_FILE:
    assert(k->size <= sizeof buf);
    if ((why = read_secret_file(v, buf, k->size - 1, &n))) return why;
    memcpy(field, buf, n);
    field[n] = 0;
    return NULL;
  case K_ENUM:
    assert(k->size == sizeof k->words->value);
    for (const struct word *w = k->words; w->word; w++)
      if (!strcmp(v, w->word)) {
        memcpy(field, &w->value, sizeof w->value);
        return NULL;
      }
    return expected_words(k->words);
  case K_LIST: return add_to_list(k, cfg, v);
  case K_CUSTOM: return k->set(cfg, v, sc->where);
  case K_SECTION: break;
  }
  return "unknown key";
}

/* The section whose mapping holds k in a file ("redis" for redis-url), or NULL. */
static const char *section_of(const struct key *k) {
  for (size_t i = (size_t)(k - keys) + 1; i-- > 0;) {
    size_t n = strlen(keys[i].name);
    if (keys[i].type == K_SECTION && !strncmp(k->name, keys[i].name, n) && k->name[n] == '-')
      return keys[i].name;
  }
  return NULL;
}

bool config_key_info(size_t i, struct config_key_info *out) {
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    if (k->type == K_SECTION || i-- > 0) continue;
    const char *section = section_of(k);
    out->flag = k->name;
    out->negated = k->flags & KEY_NEGATED;
    out->section = section;
    snprintf(out->file_key, sizeof out->file_key, "%s%s",
             k->name + (section ? strlen(section) + 1 : 0), k->flags & KEY_PLURAL ? "s" : "");
    out->list = k->flags & KEY_LIST;
    out->reloadable = k->flags & KEY_RELOAD;
    return true;
  }
  return false;
}

/* The key written `name` in a file ("redis-replicas" for replicas: under
 * redis:), or NULL. */
static const struct key *file_key(const char *name) {
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    size_t n = strlen(k->name);
    if (k->type != K_SECTION && !strncmp(name, k->name, n) &&
        !strcmp(name + n, k->flags & KEY_PLURAL ? "s" : ""))
      return k;
  }
  return NULL;
}

static bool is_section(const char *name) {
  for (const struct key *k = keys; k < keys + NKEYS; k++)
    if (k->type == K_SECTION && !strcmp(name, k->name)) return true;
  return false;
}

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
  const struct key *key;
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
  const char *why = set_key(w->cfg, &w->sc, w->key, v);
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
    if (!w->key || !(w->key->flags & KEY_LIST))
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

/* ---- --help --------------------------------------------------------------- */

#define HELP_COLUMN 27

/* One entry: the flags (line, len bytes) and the help text at HELP_COLUMN. */
static void help_entry(FILE *out, const char *line, size_t len, const char *text) {
  fputs(line, out);
  if (*text != '\n') fprintf(out, "%*s", len < HELP_COLUMN ? (int)(HELP_COLUMN - len) : 1, "");
  for (const char *t = text; *t; t++) {
    fputc(*t, out);
    if (*t == '\n') fprintf(out, "%*s", HELP_COLUMN, "");
  }
  fputc('\n', out);
}

void config_usage(FILE *out) {
  static const char *const config_flag = "  --config FILE";
  fputs("Usage: chaindns [options]\n"
        "A recursive caching DNS resolver that follows CNAME chains from the root.\n\n",
        out);
  help_entry(out, config_flag, strlen(config_flag),
             "YAML configuration (keys are the long option names;\n"
             "redis-X is written X under a redis: mapping)");
  char line[256];
  size_t len = 0;
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    if ((k->help && !*k->help) || (k->type == K_SECTION && !k->heading)) continue;
    if (len && !k->join) { /* the line before ends without text */
      fprintf(out, "%s\n", line);
      len = 0;
    }
    if (k->heading) fprintf(out, "%s\n", k->heading);
    if (k->type == K_SECTION) continue;
    int n = snprintf(line + len, sizeof line - len, "%s--%s%s%s%s", len ? k->join : "  ",
                     k->flags & KEY_NEGATED ? "no-" : "", k->name, k->value ? " " : "",
                     k->value ? k->value : "");
    assert(n > 0 && (size_t)n < sizeof line - len);
    len += (size_t)n;
    if (k->help) {
      help_entry(out, line, len, k->help);
      len = 0;
    }
  }
  if (len) fprintf(out, "%s\n", line);
  fputs("  --help, --version\n"
        "Commands:\n"
        "  chaindns trace NAME [TYPE] [--json] [options]   one resolution from the root,\n"
        "                           every upstream query and chain hop printed\n"
        "  chaindns ctl [--control PATH] flush NAME | flush-zone ZONE | stats\n"
        "                           cache control through a running resolver's control\n"
        "                           socket (default /run/chaindns/control.sock), or\n"
        "  chaindns ctl --metrics ADDR:PORT --token-file F flush NAME | ...\n"
        "                           through its metrics listener, with the control token\n",
        out);
}

/* ---- flags ------------------------------------------------------------------ */

/* getopt's val: the flags that are not keys; a key's --name VALUE has
 * OPT_KEY plus its row, --no-name (KEY_NEGATED) OPT_NEGATED plus its row.
 * Every option has a val of its own, so getopt refuses an abbreviation
 * that fits several (--tcp) instead of taking the first. */
enum { OPT_HELP = 1000, OPT_VERSION, OPT_CONFIG, OPT_NEGATED = 2000, OPT_KEY = 3000 };

/* getopt's table: --config, every key as --name VALUE, the negated bools
 * as --no-name, then --help and --version; opt_key[i] is option i's key. */
static void build_long_opts(struct option *o, const struct key **opt_key) {
  size_t n = 0;
  opt_key[n] = NULL;
  o[n++] = (struct option){"config", required_argument, 0, OPT_CONFIG};
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    if (k->type == K_SECTION || (k->flags & KEY_NEGATED)) continue;
    opt_key[n] = k;
    o[n++] = (struct option){k->name, required_argument, 0, OPT_KEY + (int)(k - keys)};
  }
  static char negated[NKEYS][64]; /* "no-ipv4": getopt keeps the pointers */
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    if (!(k->flags & KEY_NEGATED)) continue;
    snprintf(negated[k - keys], sizeof negated[0], "no-%s", k->name);
    opt_key[n] = k;
    o[n++] = (struct option){negated[k - keys], no_argument, 0, OPT_NEGATED + (int)(k - keys)};
  }
  opt_key[n] = NULL;
  o[n++] = (struct option){"help", no_argument, 0, OPT_HELP};
  opt_key[n] = NULL;
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
  struct option long_opts[NKEYS + 4];
  const struct key *opt_key[NKEYS + 4];
  build_long_opts(long_opts, opt_key);
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
      return fail(err, errlen, "unknown, ambiguous or incomplete option '%s' (see --help)",
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
    if (c >= OPT_NEGATED && c < OPT_KEY) {
      *(bool *)((char *)cfg + opt_key[idx]->off) = false;
    } else if (c >= OPT_KEY) {
      char where[64];
      snprintf(where, sizeof where, "--%s", long_opts[idx].name);
      sc.where = where;
      why = set_key(cfg, &sc, opt_key[idx], optarg);
      sc.where = NULL;
    }
    if (why) return fail(err, errlen, "--%s: %s (got '%s')", long_opts[idx].name, why, optarg);
  }
  if (finish_local(cfg, err, errlen)) return -1;
  return check_config(cfg, err, errlen);
}

/* ---- SIGHUP ----------------------------------------------------------------- */

/* Whether two rows are two ways of setting one field (redis-password and
 * redis-password-file). */
static bool same_field(const struct key *a, const struct key *b) {
  return a->type != K_SECTION && b->type != K_SECTION && a->off == b->off;
}

static bool key_changed(const struct config *a, const struct config *b, const struct key *k) {
  const char *x = (const char *)a, *y = (const char *)b;
  if (k->type == K_STRING || k->type == K_FILE) /* what follows the string does not count */
    return strncmp(x + k->off, y + k->off, k->size) != 0;
  return memcmp(x + k->off, y + k->off, k->size) || memcmp(x + k->off2, y + k->off2, k->size2);
}

struct config *config_reload(const struct config *running, const struct config *next,
                             char *restart_keys, size_t len) {
  struct config *c = malloc(sizeof *c);
  if (!c) return NULL;
  *c = *running;
  c->refs = 0;
  size_t used = 0;
  if (len) restart_keys[0] = 0;
  for (const struct key *k = keys; k < keys + NKEYS; k++) {
    if (k->type == K_SECTION) continue;
    if (k->flags & KEY_RELOAD) { /* what the workers read afresh on every use */
      memcpy((char *)c + k->off, (const char *)next + k->off, k->size);
      memcpy((char *)c + k->off2, (const char *)next + k->off2, k->size2);
      continue;
    }
    /* What was built from the configuration at start-up: kept, and named
     * if next changes it (with the other keys that set its field). */
    if ((k > keys && same_field(k - 1, k)) || !key_changed(running, next, k)) continue;
    for (const struct key *s = k; s < keys + NKEYS && same_field(s, k) && used < len; s++) {
      int n = snprintf(restart_keys + used, len - used, "%s%s",
                       s != k ? "/" : used ? ", " : "", s->name);
      if (n > 0) used += (size_t)n;
    }
  }
  /* The local zones (local-zone, local-data, copied above) are shared:
   * the copy holds a reference of its own. */
  c->local = lz_ref(next->local);
  return c;
}

void config_unref(const struct config *cfg) {
  struct config *c = (struct config *)cfg;
  if (c && c->refs && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    config_clear(c);
    free(c);
  }
}
