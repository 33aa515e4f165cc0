/*
 * Configuration loading; see config.h. Each key has one setter shared by the
 * YAML loader and the flag parser, so a key means the same thing in both
 * places and its error message is written once.
 */
#include "resolver/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "resolver/util.h"

void config_defaults(struct config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  util_parse_addr_port("127.0.0.1:53", 53, &cfg->listen[0], &cfg->listen_len[0]);
  cfg->nlisten = 1;
  cfg->threads = 1;
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
  cfg->edns_buffer_size = 1232;
}

/* Setter context: lists given by one source replace the defaults once. */
struct setctx {
  bool listen_set, allow_set;
};

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
  } else if (!strcmp(key, "edns-buffer-size")) {
    if (parse_uint(v, 512, 4096, &u)) return "expected bytes from 512 to 4096";
    cfg->edns_buffer_size = (uint16_t)u;
  } else {
    return "unknown key";
  }
  return NULL;
}

static const char *const known_keys[] = {
    "listen", "allow", "root-hints", "threads", "cache-size", "max-chain-length", "ipv4",
    "ipv6", "upstream-port", "log-level", "min-ttl", "max-ttl", "max-negative-ttl",
    "request-timeout", "max-upstream-queries", "tcp-idle-timeout", "tcp-max-connections",
    "edns-buffer-size"};

static bool key_known(const char *key) {
  for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
    if (!strcmp(key, known_keys[i])) return true;
  return false;
}

static bool is_list_key(const char *key) {
  return !strcmp(key, "listen") || !strcmp(key, "allow");
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

/* The YAML accepted is one mapping of key: scalar or key: [scalars]. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  if (!f) return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_file(&p, f);
  struct setctx sc = {0};
  char key[128] = "";
  int depth = 0; /* 1 inside the top mapping, 2 inside a value sequence */
  bool want_key = true, done = false;
  int rc = 0;
  while (!done && rc == 0) {
    yaml_event_t ev;
    if (!yaml_parser_parse(&p, &ev)) {
      rc = fail(err, errlen, "%s:%lu: YAML syntax error: %s", path,
                (unsigned long)p.problem_mark.line + 1, p.problem ? p.problem : "?");
      break;
    }
    unsigned long line = (unsigned long)ev.start_mark.line + 1;
    switch (ev.type) {
    case YAML_STREAM_END_EVENT: done = true; break;
    case YAML_MAPPING_START_EVENT:
      if (depth != 0) rc = fail(err, errlen, "%s:%lu: key '%s': nested mappings are not supported", path, line, key);
      else depth = 1;
      break;
    case YAML_MAPPING_END_EVENT: depth = 0; break;
    case YAML_SEQUENCE_START_EVENT:
      if (depth != 1 || want_key)
        rc = fail(err, errlen, "%s:%lu: a list is only allowed as the value of a key", path, line);
      else if (!is_list_key(key))
        rc = fail(err, errlen, "%s:%lu: key '%s': expected a single value, not a list", path, line, key);
      else depth = 2;
      break;
    case YAML_SEQUENCE_END_EVENT:
      depth = 1;
      want_key = true;
      break;
    case YAML_SCALAR_EVENT: {
      const char *v = (const char *)ev.data.scalar.value;
      if (depth == 0) {
        if (*v) rc = fail(err, errlen, "%s:%lu: expected a mapping of keys to values", path, line);
      } else if (depth == 1 && want_key) {
        snprintf(key, sizeof key, "%s", v);
        want_key = false;
        if (!key_known(key)) rc = fail(err, errlen, "%s:%lu: unknown key '%s'", path, line, key);
      } else {
        const char *why = set_key(cfg, &sc, key, v);
        if (why) rc = fail(err, errlen, "%s:%lu: key '%s': %s (got '%s')", path, line, key, why, v);
        if (depth == 1) want_key = true;
      }
      break;
    }
    default: break;
    }
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
          "  --config FILE            YAML configuration (keys are the long option names)\n"
          "  --listen ADDR:PORT       address to serve on, repeatable (default 127.0.0.1:53;\n"
          "                           IPv6 as [::1]:53)\n"
          "  --root-hints FILE        root hints in named.root format (default: built-in IANA)\n"
          "  --threads N              worker threads (default 1)\n"
          "  --cache-size SIZE        cache memory bound, e.g. 64m (default 64m)\n"
          "  --max-chain-length N     CNAMEs followed on one chain (default 16)\n"
          "  --allow CIDR             clients allowed, repeatable (default loopback only)\n"
          "  --no-ipv4, --no-ipv6     never query authorities over that family\n"
          "  --upstream-port N        port authoritative servers are asked on (default 53)\n"
          "  --request-timeout MS     overall deadline of one request (default 5000)\n"
          "  --max-upstream-queries N upstream queries per request (default 100)\n"
          "  --log-level LEVEL        debug, info, warn or error (default info)\n"
          "  --help, --version\n");
}

enum { OPT_NO_IPV4 = 1000, OPT_NO_IPV6, OPT_HELP, OPT_VERSION, OPT_CONFIG };

static const struct option long_opts[] = {
    {"config", required_argument, 0, OPT_CONFIG},
    {"listen", required_argument, 0, 0},
    {"root-hints", required_argument, 0, 0},
    {"threads", required_argument, 0, 0},
    {"cache-size", required_argument, 0, 0},
    {"max-chain-length", required_argument, 0, 0},
    {"allow", required_argument, 0, 0},
    {"upstream-port", required_argument, 0, 0},
    {"request-timeout", required_argument, 0, 0},
    {"max-upstream-queries", required_argument, 0, 0},
    {"log-level", required_argument, 0, 0},
    {"min-ttl", required_argument, 0, 0},
    {"max-ttl", required_argument, 0, 0},
    {"max-negative-ttl", required_argument, 0, 0},
    {"tcp-idle-timeout", required_argument, 0, 0},
    {"tcp-max-connections", required_argument, 0, 0},
    {"edns-buffer-size", required_argument, 0, 0},
    {"no-ipv4", no_argument, 0, OPT_NO_IPV4},
    {"no-ipv6", no_argument, 0, OPT_NO_IPV6},
    {"help", no_argument, 0, OPT_HELP},
    {"version", no_argument, 0, OPT_VERSION},
    {0, 0, 0, 0},
};

int config_from_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen) {
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
    else if (c == 0) why = set_key(cfg, &sc, long_opts[idx].name, optarg);
    if (why) return fail(err, errlen, "--%s: %s (got '%s')", long_opts[idx].name, why, optarg);
  }
  if (!cfg->ipv4 && !cfg->ipv6) return fail(err, errlen, "--no-ipv4 and --no-ipv6 leave no way to reach authorities");
  if (cfg->min_ttl > cfg->max_ttl) return fail(err, errlen, "min-ttl is larger than max-ttl");
  return 0;
}
