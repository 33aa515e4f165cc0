/*
 * chaindns: command line, start-up and shutdown. The main thread only
 * parses the configuration, starts the workers and waits for SIGTERM/SIGINT;
 * all DNS work happens in the workers.
 */
#include <signal.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cache/cache.h"
#include "metrics/stats.h"
#include "resolver/daemon/cachectl.h"
#include "resolver/daemon/config.h"
#include "resolver/daemon/control.h"
#include "resolver/daemon/diag.h"
#include "resolver/core/hints.h"
#include "resolver/lib/log.h"
#include "resolver/daemon/memgov.h"
#include "resolver/lib/name.h"
#include "resolver/daemon/request.h"
#include "resolver/core/trace.h"
#include "resolver/dnssec/anchors.h"
#include "resolver/lib/util.h"
#include "resolver/daemon/worker.h"

struct fleet {
  struct worker **workers;
  unsigned n;
  bool redis;
  cache_t *cache;
  const struct config *cfg;  /* the running configuration */
  diag_t *diag;
  int argc;                  /* to read the configuration again on SIGHUP */
  char **argv;
};

/* Counters of every worker, copied on each worker's thread. */
static void log_totals(const struct fleet *f) {
  struct worker_snapshot snap;
  if (worker_collect(f->workers, f->n, 0, 2000, &snap)) {
    log_warn("stats: a worker did not answer within 2 s");
    return;
  }
  stats_log(&snap.stats, f->redis);
  worker_snapshot_free(&snap);
}

static void on_signal(uv_signal_t *s, int signum) {
  log_info("received %s, stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
  uv_stop(s->loop);
}

/* SIGUSR1: log the counters now, and keep running. */
static void on_usr1(uv_signal_t *s, int signum) { log_totals(s->data); }

/* In each worker's thread: take the reloaded configuration. */
static void take_config(struct worker *w, void *arg) {
  const struct config *old = worker_config(w);
  worker_set_config(w, arg);
  config_unref(old);
}

/* SIGHUP: read the file and flags again; apply what can change while
 * running, keep the cache, say what needs a restart. A bad file changes
 * nothing. */
static void on_hup(uv_signal_t *s, int signum) {
  struct fleet *f = s->data;
  char err[1024] = "", restart[512];
  struct config *next = malloc(sizeof *next);
  if (!next) return;
  config_defaults(next);
  int rc = config_from_args(next, f->argc, f->argv, err, sizeof err);
  if (rc != 0) {
    log_error("SIGHUP: %s; keeping the running configuration", rc < 0 ? err : "no change");
    config_clear(next);
    free(next);
    return;
  }
  struct config *c = config_reload(f->cfg, next, restart, sizeof restart);
  config_clear(next);
  free(next);
  if (!c) return;
  c->refs = (int)f->n;
  log_set_level(c->log_level);
  log_set_format(c->log_format);
  for (unsigned i = 0; i < f->n; i++)
    if (worker_post(f->workers[i], take_config, c)) config_unref(c);
  diag_set_trace_rate(f->diag, c->trace_rate);
  f->cfg = c;
  log_info("SIGHUP: configuration reloaded (access list, logging, timeouts, limits, local "
           "zones and data); the cache is kept");
  if (restart[0]) log_warn("SIGHUP: changed but needing a restart, kept as running: %s", restart);
}

/* The scenario tests' controllable clock: with CHAINDNS_TEST_CLOCK=FILE in
 * the environment, the wall clock is shifted by the number of seconds FILE
 * holds, read at start-up and again on every SIGUSR2, so TTLs and RRSIG
 * validity can be stepped through without waiting (tests/scenarios). */
static const char *test_clock_file(void) { return getenv("CHAINDNS_TEST_CLOCK"); }

static void test_clock_read(void) {
  const char *path = test_clock_file();
  FILE *fp = path ? fopen(path, "r") : NULL;
  long long offset = 0;
  if (!fp || fscanf(fp, "%lld", &offset) != 1) {
    log_error("test clock: cannot read an offset from %s", path ? path : "(unset)");
    if (fp) fclose(fp);
    return;
  }
  fclose(fp);
  util_set_clock_offset(offset);
  log_info("test clock: offset %lld s", offset);
}

static void on_usr2(uv_signal_t *s, int signum) {
  (void)s;
  (void)signum;
  test_clock_read();
}

static void run_until_signal(struct fleet *f) {
  uv_loop_t *loop = uv_default_loop();
  memgov_t *gov = memgov_start(loop, f->cache, f->cfg->cache_size, cache_budget(f->cache));
  uv_signal_t sigterm, sigint, sigusr1, sighup, sigusr2;
  uv_signal_init(loop, &sigusr2);
  if (test_clock_file()) uv_signal_start(&sigusr2, on_usr2, SIGUSR2);
  uv_signal_init(loop, &sigterm);
  uv_signal_init(loop, &sigint);
  uv_signal_init(loop, &sigusr1);
  uv_signal_init(loop, &sighup);
  sigusr1.data = f;
  sighup.data = f;
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigusr1, on_usr1, SIGUSR1);
  uv_signal_start(&sighup, on_hup, SIGHUP);
  uv_run(loop, UV_RUN_DEFAULT);
  memgov_stop(gov);
  uv_close((uv_handle_t *)&sigterm, NULL);
  uv_close((uv_handle_t *)&sigint, NULL);
  uv_close((uv_handle_t *)&sigusr1, NULL);
  uv_close((uv_handle_t *)&sighup, NULL);
  uv_close((uv_handle_t *)&sigusr2, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

static struct iter_config iter_config_of(const struct config *cfg) {
  return (struct iter_config){
      .max_chain_length = cfg->max_chain_length,
      .max_upstream_queries = cfg->max_upstream_queries,
      .max_depth = 4,
      .zone_max_timeouts = 8,
      .zone_timeout_budget_ms = 3000,
      .upstream_port = cfg->upstream_port,
      .ipv4 = cfg->ipv4,
      .ipv6 = cfg->ipv6,
      .shared_tier = redis_enabled(&cfg->redis),
      .no_timing = !cfg->instrumentation,
      .qmin = cfg->qmin,
      .nxcut = cfg->nxcut,
      .min_ttl = cfg->min_ttl,
      .max_ttl = cfg->max_ttl,
      .max_neg_ttl = cfg->max_negative_ttl,
      .dnssec = cfg->dnssec,
  };
}

/* Zones whose keys the key cache holds at most, and NSEC records the
 * NSEC cache holds at most (a few hundred bytes each). */
#define KEYCACHE_ZONES 10000
#define NSECCACHE_RECORDS 50000

/* DNSSEC: the trust anchors (the built-in root ones, the files', the
 * negative ones) and the key and NSEC caches shared by the workers. Nothing
 * when validation is off. Returns 0, or -1 with the reason in err. */
struct dnssec_ctx {
  trust_anchors_t *ta;
  keycache_t *kc;
  nseccache_t *nc;
};

static void dnssec_free(struct dnssec_ctx *d) {
  ta_free(d->ta);
  keycache_free(d->kc);
  nseccache_free(d->nc);
  memset(d, 0, sizeof *d);
}

/* The IANA root anchor is in force when asked for, or by default when the
 * root hints are IANA's: a private root cannot be signed with IANA's keys,
 * and would make every answer bogus. */
static bool builtin_anchor_wanted(const struct config *cfg, const struct hints *hints) {
  return cfg->builtin_ta == BUILTIN_TA_ON ||
         (cfg->builtin_ta == BUILTIN_TA_AUTO && hints_are_iana(hints));
}

static int dnssec_setup(const struct config *cfg, const struct hints *hints,
                        struct dnssec_ctx *d, char *err, size_t len) {
  memset(d, 0, sizeof *d);
  if (!cfg->dnssec) return 0;
  d->ta = ta_new(builtin_anchor_wanted(cfg, hints));
  d->kc = keycache_new(KEYCACHE_ZONES);
  if (cfg->aggressive_nsec) d->nc = nseccache_new(NSECCACHE_RECORDS);
  if (!d->ta || !d->kc || (cfg->aggressive_nsec && !d->nc)) {
    snprintf(err, len, "out of memory");
    return -1;
  }
  for (size_t i = 0; i < cfg->n_ta_files; i++)
    if (ta_load_file(d->ta, cfg->ta_files[i], err, len)) return -1;
  for (size_t i = 0; i < cfg->n_ntas; i++) {
    const char *why = ta_add_negative(d->ta, cfg->ntas[i]);
    if (why) {
      snprintf(err, len, "negative-trust-anchor '%s': %s", cfg->ntas[i], why);
      return -1;
    }
  }
  return 0;
}

/* Say at start-up which anchors are in force and what that means for the
 * names outside them, so an operator never gets a validator that trusts
 * everything or nothing without being told. */
static void dnssec_report(const struct config *cfg, const struct hints *hints,
                          const struct dnssec_ctx *d) {
  if (!cfg->dnssec) {
    log_info("DNSSEC: validation off (dnssec: off)");
    return;
  }
  size_t n = ta_count(d->ta);
  bool root = false;
  char zones[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < n; i++) {
    const struct ta_entry *e = ta_entry_at(d->ta, i);
    char z[256], keys[256];
    name_str(e->zone, z, sizeof z);
    root |= ldns_dname_label_count(e->zone) == 0;
    log_info("DNSSEC: trust anchor %s %s (%s)", z, ta_entry_keys(e, keys, sizeof keys),
             e->source ? e->source : "built in: the IANA root KSKs");
    if (used < sizeof zones) {
      int w = snprintf(zones + used, sizeof zones - used, "%s%s", used ? ", " : "", z);
      if (w > 0) used += (size_t)w;
    }
  }
  for (size_t i = 0; i < ta_count_negative(d->ta); i++) {
    char z[256];
    log_info("DNSSEC: negative trust anchor %s: not validated, answered insecure",
             name_str(ta_negative_at(d->ta, i), z, sizeof z));
  }
  if (root) {
    log_info("DNSSEC: validating every answer from the root down");
  } else if (n == 0) {
    log_warn("DNSSEC: no trust anchor is in force (%s): nothing can be validated and no "
             "answer gets AD; give --trust-anchor-file, or --dnssec off to stop asking for "
             "signatures",
             cfg->builtin_ta == BUILTIN_TA_OFF ? "builtin-trust-anchor: off"
                                               : "the root hints are not IANA's root");
  } else {
    log_warn("DNSSEC: no trust anchor for the root (%s): only names under %s are "
             "validated; every other answer is insecure (no AD, never SERVFAIL for DNSSEC)",
             cfg->builtin_ta == BUILTIN_TA_OFF ? "builtin-trust-anchor: off"
             : hints_are_iana(hints) ? "builtin-trust-anchor: auto"
                                     : "the root hints are not IANA's root servers",
             zones);
  }
}

/* What the workers share: the caches, the hints and the trust anchors. */
static struct worker_shared shared_of(cache_t *cache, const struct hints *hints,
                                      const struct dnssec_ctx *d) {
  return (struct worker_shared){cache, hints, d->ta, d->kc, d->nc};
}

static struct hints *load_hints(const struct config *cfg) {
  char err[1024];
  struct hints *h = cfg->root_hints[0] ? hints_load(cfg->root_hints, err, sizeof err)
                                       : hints_builtin();
  if (!h) fprintf(stderr, "chaindns: %s\n", err);
  return h;
}

/* ---- chaindns trace NAME [TYPE] ----------------------------------------------- */

struct cli_trace {
  uv_loop_t *loop;
  struct trace_result *res;
  bool done;
};

static void cli_trace_done(void *arg, struct trace_result *res) {
  struct cli_trace *ct = arg;
  ct->res = res;
  ct->done = true;
  uv_stop(ct->loop);
}

static int trace_usage(void) {
  fprintf(stderr, "usage: chaindns trace NAME [TYPE] [--json] [options]\n"
                  "Resolve NAME (type A by default) from the root hints, with no cache, and\n"
                  "print every upstream query and every hop of its CNAME chain. The options\n"
                  "are the resolver's (--root-hints, --upstream-port, --config, ...).\n");
  return 2;
}

/* One traced resolution on this thread, with a worker that has no
 * listeners; prints a table (or the /trace JSON with --json). */
static int trace_main(int argc, char **argv) {
  char *args[argc + 1];
  int nargs = 0;
  const char *name = NULL, *type = "A";
  bool json = false;
  args[nargs++] = argv[0];
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) json = true;
    else if (argv[i][0] != '-' && !name) name = argv[i];
    else if (argv[i][0] != '-' && i == 3 && name) type = argv[i];
    else args[nargs++] = argv[i];
  }
  args[nargs] = NULL;
  static struct config cfg;
  char err[1024] = "";
  config_defaults(&cfg);
  if (!name) return trace_usage();
  int rc = config_from_args(&cfg, nargs, args, err, sizeof err);
  if (rc) {
    if (rc < 0) fprintf(stderr, "chaindns trace: %s\n", err);
    return rc < 0 ? 2 : 0;
  }
  ldns_rdf *qname = ldns_dname_new_frm_str(name);
  ldns_rr_type qtype = ldns_get_rr_type_by_name(type);
  if (!qname || !qtype) {
    fprintf(stderr, "chaindns trace: %s is not a %s\n", qname ? type : name,
            qname ? "record type" : "domain name");
    ldns_rdf_deep_free(qname);
    return 2;
  }
  log_set_level(cfg.log_level > LOG_WARN ? cfg.log_level : LOG_WARN);
  signal(SIGPIPE, SIG_IGN);
  cfg.nlisten = 0;
  cfg.metrics = false;
  struct hints *hints = load_hints(&cfg);
  struct cache_limits limits = {cfg.cache_size, cfg.min_ttl, cfg.max_ttl, cfg.max_negative_ttl, 0};
  cache_t *cache = hints ? cache_new(&limits) : NULL;
  struct iter_config icfg = iter_config_of(&cfg);
  struct worker *w = NULL;
  struct cli_trace ct = {NULL, NULL, false};
  int status = 1;
  struct dnssec_ctx dc;
  if (dnssec_setup(&cfg, hints, &dc, err, sizeof err)) {
    fprintf(stderr, "chaindns trace: %s\n", err);
    cache_free(cache);
    cache = NULL;
    status = 2;
  }
  if (cache) {
    struct worker_shared shared = shared_of(cache, hints, &dc);
    w = worker_new(0, &cfg, &icfg, &shared);
  }
  if (w) {
    ct.loop = worker_loop(w);
    request_trace(w, qname, qtype, true, cli_trace_done, &ct);
    if (!ct.done) uv_run(ct.loop, UV_RUN_DEFAULT);
    if (ct.res && json) {
      char *text = trace_json(name, type, true, ct.res);
      if (text) printf("%s\n", text);
      free(text);
    } else if (ct.res) {
      trace_print(stdout, name, type, ct.res);
    }
    status = ct.res && (ct.res->rcode == LDNS_RCODE_NOERROR ||
                        ct.res->rcode == LDNS_RCODE_NXDOMAIN) ? 0 : 1;
    trace_result_free(ct.res);
  }
  ldns_rdf_deep_free(qname);
  worker_free(w);
  cache_free(cache);
  hints_free(hints);
  dnssec_free(&dc);
  return status;
}

/* ---- chaindns ctl ------------------------------------------------------------------ */

/* Percent-encode s for a query string. */
static void url_encode(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (; *s && n + 4 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-._~", c))
      out[n++] = (char)c;
    else
      n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
  }
  out[n] = 0;
}

static int ctl_usage(void) {
  fprintf(stderr,
          "usage: chaindns ctl [--control PATH] flush NAME | flush-zone ZONE | stats\n"
          "       chaindns ctl --metrics ADDR:PORT --token-file FILE flush NAME | ...\n"
          "  talks to a running resolver through its control socket (default\n"
          "  " CONFIG_CONTROL_SOCKET "; as its user or root), or through its metrics\n"
          "  listener with the control token (control-token-file)\n"
          "  flush NAME       forget NAME (every type) in memory, the answer caches and Redis\n"
          "  flush-zone ZONE  forget ZONE and every name under it\n"
          "  stats            the cache tiers' counters (JSON)\n");
  return 2;
}

/* A request waits for a flush's Redis scan (cachectl.h), and a little more. */
#define CTL_TIMEOUT_MS (CACHECTL_SCAN_MAX_MS + 20000)

static int ctl_main(int argc, char **argv) {
  const char *control = CONFIG_CONTROL_SOCKET, *metrics = NULL, *token_file = NULL;
  int i = 2;
  for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
    if (!strcmp(argv[i], "--control")) control = argv[i + 1];
    else if (!strcmp(argv[i], "--metrics")) metrics = argv[i + 1];
    else if (!strcmp(argv[i], "--token-file")) token_file = argv[i + 1];
    else return ctl_usage();
  }
  bool flush = i + 2 == argc && (!strcmp(argv[i], "flush") || !strcmp(argv[i], "flush-zone"));
  bool stats = i + 1 == argc && !strcmp(argv[i], "stats");
  if (!flush && !stats) return ctl_usage();
  if (flush && (strlen(argv[i + 1]) > 1100 || strpbrk(argv[i + 1], "\r\n"))) {
    fprintf(stderr, "chaindns ctl: not a domain name\n");
    return 2;
  }
  if (metrics || token_file) {
    if (!metrics || !token_file) {
      fprintf(stderr, "chaindns ctl: --metrics and --token-file go together: cache control "
                      "over HTTP needs the control token\n");
      return 2;
    }
    if (stats) return control_request_http(metrics, "GET", "/cache/stats", token_file,
                                           CTL_TIMEOUT_MS);
    char path[3400], enc[1100 * 3];
    url_encode(argv[i + 1], enc, sizeof enc);
    snprintf(path, sizeof path, "/cache/flush?%s=%s", argv[i][5] ? "zone" : "name", enc);
    return control_request_http(metrics, "POST", path, token_file, CTL_TIMEOUT_MS);
  }
  char line[1200];
  snprintf(line, sizeof line, "%s%s%s", argv[i], flush ? " " : "", flush ? argv[i + 1] : "");
  return control_request(control, line, CTL_TIMEOUT_MS);
}

/* ---- the resolver ---------------------------------------------------------------- */

/* The control socket. With control-socket: auto it is made only where its
 * directory exists (systemd's RuntimeDirectory=chaindns, the image's
 * /run/chaindns), and failing is only logged; a path given is made, or
 * start-up fails. */
static control_t *start_control(const struct config *cfg, cachectl_t *cc, int *status) {
  if (!cfg->control_socket[0]) return NULL;
  char err[1200], dir[sizeof cfg->control_socket];
  snprintf(dir, sizeof dir, "%s", cfg->control_socket);
  char *slash = strrchr(dir, '/');
  struct stat st;
  if (slash) *slash = 0;
  if (cfg->control_socket_auto && slash && (stat(dir, &st) || !S_ISDIR(st.st_mode))) {
    log_info("no control socket: %s does not exist (control-socket: PATH for chaindns ctl)",
             dir);
    return NULL;
  }
  control_t *c = control_start(cfg->control_socket, cc, err, sizeof err);
  if (c) log_info("control socket %s (mode 0600: chaindns ctl as this user or root)",
                  cfg->control_socket);
  else if (cfg->control_socket_auto) log_warn("no control socket: %s", err);
  else log_error("cannot serve the control socket: %s", err);
  if (!c && !cfg->control_socket_auto) *status = 1;
  return c;
}

static bool is_loopback(const struct sockaddr_storage *ss) {
  if (ss->ss_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
  return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static diag_t *start_diag(struct worker *const *workers, cache_t *cache, cachectl_t *cc,
                          const struct config *cfg) {
  char where[64], err[1024];
  util_addr_str((const struct sockaddr *)&cfg->metrics_addr, where, sizeof where);
  diag_t *diag = diag_start(workers, cfg->threads, cache, cc, cfg, err, sizeof err);
  if (!diag) {
    log_error("cannot serve metrics on %s: %s", where, err);
    return NULL;
  }
  log_info("metrics and diagnostics on http://%s/ (/metrics, /chains, /trace%s)", where,
           cfg->control_token_len ? "; /cache/flush and /cache/stats with the control token"
                                  : "");
  if (cfg->control_token_len && !is_loopback(&cfg->metrics_addr))
    log_warn("the control token crosses the network in clear text to %s (HTTP, no TLS): "
             "keep that network private", where);
  return diag;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "trace")) return trace_main(argc, argv);
  if (argc > 1 && !strcmp(argv[1], "ctl")) return ctl_main(argc, argv);
  static struct config cfg;
  char err[1024] = "";
  config_defaults(&cfg);
  int rc = config_from_args(&cfg, argc, argv, err, sizeof err);
  if (rc == 1) return 0;
  if (rc < 0) {
    fprintf(stderr, "chaindns: %s\n", err);
    return 2;
  }
  log_set_level(cfg.log_level);
  log_set_format(cfg.log_format);
  signal(SIGPIPE, SIG_IGN);

  if (test_clock_file()) test_clock_read();
  struct hints *hints = load_hints(&cfg);
  if (!hints) return 2;
  struct dnssec_ctx dc;
  if (dnssec_setup(&cfg, hints, &dc, err, sizeof err)) {
    fprintf(stderr, "chaindns: %s\n", err);
    dnssec_free(&dc);
    hints_free(hints);
    return 2;
  }
  dnssec_report(&cfg, hints, &dc);
  /* The RRset cache gets four fifths of cache-size; the workers' answer
   * caches share the last fifth (worker.c). */
  struct cache_limits limits = {cfg.cache_size / 5 * 4, cfg.min_ttl, cfg.max_ttl,
                                cfg.max_negative_ttl, cfg.serve_stale};
  cache_t *cache = cache_new(&limits);
  struct iter_config icfg = iter_config_of(&cfg);
  struct worker_shared shared = shared_of(cache, hints, &dc);
  struct worker **workers = calloc(cfg.threads, sizeof *workers);
  if (!cache || !workers) {
    fprintf(stderr, "chaindns: out of memory\n");
    return 1;
  }
  unsigned started = 0;
  int status = 0;
  cachectl_t *cachectl = NULL;
  for (unsigned i = 0; i < cfg.threads; i++) {
    if (!(workers[i] = worker_new(i, &cfg, &icfg, &shared))) {
      status = 1;
      break;
    }
  }
  for (unsigned i = 0; status == 0 && i < cfg.threads; i++) {
    if (worker_start(workers[i])) {
      log_error("cannot start worker %u", i);
      status = 1;
      break;
    }
    started++;
  }
  if (status == 0) {
    log_info("chaindns %s ready: %u worker(s), cache %zu bytes, max-chain-length %zu, "
             "root hints %s", CHAINDNS_VERSION, cfg.threads, cfg.cache_size,
             cfg.max_chain_length, cfg.root_hints[0] ? cfg.root_hints : "built-in");
    if (redis_enabled(&cfg.redis)) {
      char where[400];
      log_info("shared cache: redis %s, prefix %s, command timeout %u ms%s",
               redis_describe(&cfg.redis, where, sizeof where), cfg.redis.prefix,
               cfg.redis.command_timeout_ms, cfg.redis.secret.len ? ", values signed" : "");
      if (cfg.dnssec && !cfg.redis.secret.len)
        log_warn("shared cache without a secret: anyone who can write to Redis could claim "
                 "any DNSSEC state, so none is trusted: each value is validated again here "
                 "before it answers, and data of unsigned zones can be planted; set "
                 "redis-secret-file to share validated data safely");
    }
    cachectl = cachectl_new(workers, cfg.threads, &shared, &cfg);
    if (!cachectl) {
      log_error("out of memory");
      status = 1;
    }
    control_t *control = status == 0 ? start_control(&cfg, cachectl, &status) : NULL;
    diag_t *diag = status == 0 && cfg.metrics ? start_diag(workers, cache, cachectl, &cfg)
                                              : NULL;
    if (cfg.metrics && !diag) status = 1;
    struct fleet f = {workers, cfg.threads, redis_enabled(&cfg.redis), cache, &cfg,
                      diag, argc, argv};
    if (status == 0) run_until_signal(&f);
    control_stop(control); /* before the workers they ask */
    diag_stop(diag);
  }
  for (unsigned i = 0; i < started; i++) worker_stop(workers[i]);
  for (unsigned i = 0; i < started; i++) worker_join(workers[i]);
  /* The workers have stopped: their counters are final and still. */
  struct stats total = {0};
  for (unsigned i = 0; i < cfg.threads && workers[i]; i++) {
    struct stats s;
    worker_stats(workers[i], &s);
    stats_add(&total, &s);
  }
  if (status == 0) stats_log(&total, redis_enabled(&cfg.redis));
  for (unsigned i = 0; i < cfg.threads && workers[i]; i++) {
    const struct config *held = worker_config(workers[i]); /* a reloaded one, maybe */
    worker_free(workers[i]);
    config_unref(held);
  }
  cachectl_free(cachectl); /* the workers' loops have ended a flush's scan */
  free(workers);
  cache_free(cache);
  hints_free(hints);
  dnssec_free(&dc);
  return status;
}
