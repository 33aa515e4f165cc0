/* Unit tests for resolver/daemon/config.c: YAML files, flags, and their errors. */
#include "unit_helpers.h"

#include <uv.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "resolver/daemon/config.h"

/* A temp file with `text`; the path is written into path (>= 64 bytes). */
static void write_file(char *path, const char *text) {
  strcpy(path, "/tmp/chaindns-config-XXXXXX.yaml");
  int fd = mkstemps(path, 5);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

static int load(struct config *cfg, const char *text, char *err, size_t errlen, char *path) {
  write_file(path, text);
  int rc = config_load_file(cfg, path, err, errlen);
  unlink(path);
  return rc;
}

static struct sockaddr_in sin4(const char *ip) {
  struct sockaddr_in s;
  memset(&s, 0, sizeof s);
  s.sin_family = AF_INET;
  assert_int_equal(inet_pton(AF_INET, ip, &s.sin_addr), 1);
  return s;
}

static bool allows4(const struct config *cfg, const char *ip) {
  struct sockaddr_in s = sin4(ip);
  return acl_allows(&cfg->acl, (struct sockaddr *)&s);
}

static void assert_listen(const struct config *cfg, size_t i, const char *ip, uint16_t port) {
  assert_true(i < cfg->nlisten);
  char buf[64], want[64];
  const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen[i];
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const void *)sa;
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
    assert_int_equal(ntohs(in->sin_port), port);
    assert_int_equal(cfg->listen_len[i], sizeof *in);
  } else {
    const struct sockaddr_in6 *in6 = (const void *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    assert_int_equal(ntohs(in6->sin6_port), port);
    assert_int_equal(cfg->listen_len[i], sizeof *in6);
  }
  snprintf(want, sizeof want, "%s", ip);
  assert_string_equal(buf, want);
}

static void test_defaults(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  assert_int_equal(cfg.nlisten, 1);
  assert_listen(&cfg, 0, "127.0.0.1", 53);
  assert_int_equal(cfg.threads, uv_available_parallelism()); /* one per core */
  assert_int_equal(cfg.cache_size, 64u << 20);
  assert_int_equal(cfg.max_chain_length, 16);
  assert_true(cfg.ipv4);
  assert_true(cfg.ipv6);
  assert_int_equal(cfg.upstream_port, 53);
  assert_int_equal(cfg.max_upstream_queries, 100);
  assert_int_equal(cfg.max_negative_ttl, 3600);
  assert_int_equal(cfg.tcp_max_backlog, 16u << 20);
  assert_string_equal(cfg.root_hints, "");
  assert_true(allows4(&cfg, "127.0.0.1"));
  assert_false(allows4(&cfg, "10.1.2.3"));
}

static const char *FULL =
    "# chaindns test configuration\n"
    "threads: 4\n"
    "cache-size: 128m\n"
    "listen:\n"
    "  - 127.0.0.1:5353\n"
    "  - \"[::1]:5354\"\n"
    "allow: [10.0.0.0/8, 192.168.1.0/24]\n"
    "ipv6: false\n"
    "upstream-port: 5300\n"
    "log-level: debug\n"
    "min-ttl: 5\n"
    "max-ttl: 3600\n"
    "max-negative-ttl: 600\n"
    "request-timeout: 2000\n"
    "max-upstream-queries: 50\n"
    "max-chain-length: 8\n"
    "root-hints: /etc/chaindns/named.root\n"
    "edns-buffer-size: 1400\n"
    "tcp-idle-timeout: 5000\n"
    "tcp-max-connections: 10\n"
    "tcp-max-backlog: 2m\n";

static void test_valid_file(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  if (load(&cfg, FULL, err, sizeof err, path) != 0) fail_msg("load failed: %s", err);
  assert_int_equal(cfg.threads, 4);
  assert_int_equal(cfg.cache_size, 128u << 20);
  assert_int_equal(cfg.nlisten, 2);
  assert_listen(&cfg, 0, "127.0.0.1", 5353);
  assert_listen(&cfg, 1, "::1", 5354);
  assert_true(allows4(&cfg, "10.200.0.1"));
  assert_true(allows4(&cfg, "192.168.1.77"));
  assert_false(allows4(&cfg, "192.168.2.1"));
  assert_false(allows4(&cfg, "127.0.0.1")); /* the list replaced the default */
  assert_true(cfg.ipv4);
  assert_false(cfg.ipv6);
  assert_int_equal(cfg.upstream_port, 5300);
  assert_int_equal(cfg.log_level, LOG_DEBUG);
  assert_int_equal(cfg.min_ttl, 5);
  assert_int_equal(cfg.max_ttl, 3600);
  assert_int_equal(cfg.max_negative_ttl, 600);
  assert_int_equal(cfg.request_timeout_ms, 2000);
  assert_int_equal(cfg.max_upstream_queries, 50);
  assert_int_equal(cfg.max_chain_length, 8);
  assert_string_equal(cfg.root_hints, "/etc/chaindns/named.root");
  assert_int_equal(cfg.edns_buffer_size, 1400);
  assert_int_equal(cfg.tcp_idle_timeout_ms, 5000);
  assert_int_equal(cfg.tcp_max_connections, 10);
  assert_int_equal(cfg.tcp_max_backlog, 2u << 20);
}

static void test_empty_file_keeps_defaults(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  assert_int_equal(load(&cfg, "# nothing here\n", err, sizeof err, path), 0);
  assert_int_equal(cfg.threads, uv_available_parallelism());
  assert_int_equal(cfg.nlisten, 1);
}

static void test_unknown_key_line_3(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  assert_int_equal(load(&cfg, "threads: 2\ncache-size: 64m\nlistne: 127.0.0.1:53\n", err,
                        sizeof err, path), -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, ":3:"));
  assert_non_null(strstr(err, "listne"));
  assert_non_null(strstr(err, "unknown key"));
}

/* YAML that would be misread is an error at its line, not silently
 * ignored: a key given twice, anchors and aliases, a second document. */
static void expect_error(const char *text, const char *line, const char *what) {
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  assert_int_equal(load(&cfg, text, err, sizeof err, path), -1);
  if (!strstr(err, path) || !strstr(err, line) || !strstr(err, what))
    fail_msg("for %s want '%s' and '%s', got: %s", text, line, what, err);
  config_clear(&cfg);
}

static void test_yaml_that_would_be_misread(void **state) {
  (void)state;
  expect_error("threads: 2\ncache-size: 64m\nthreads: 4\n", ":3:",
               "key 'threads' appears twice (first on line 1)");
  expect_error("listen: [\"127.0.0.1:53\"]\nallow: []\nlisten: [\"[::1]:53\"]\n", ":3:",
               "key 'listen' appears twice");
  expect_error("redis:\n  url: redis://127.0.0.1\n  prefix: a\n  prefix: b\n", ":4:",
               "key 'redis.prefix' appears twice");
  expect_error("threads: &n 2\nprefetch-max: *n\n", ":1:", "anchors and aliases");
  expect_error("redis: &r {prefix: a}\n", ":1:", "anchors and aliases");
  expect_error("threads: 2\n---\nthreads: 4\n", ":2:", "a second YAML document");
}

static void test_bad_value_names_file_line_key(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  assert_int_equal(load(&cfg, "# comment\nlog-level: info\nthreads: abc\n", err, sizeof err, path), -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, ":3:"));
  assert_non_null(strstr(err, "threads"));
  assert_non_null(strstr(err, "abc"));
}

static void test_bad_values(void **state) {
  (void)state;
  static const char *bad[] = {
      "threads: 0\n", "threads: 257\n", "threads: -1\n", "threads: 2x\n",
      "cache-size: 1k\n", "cache-size: lots\n", "max-chain-length: 65\n",
      "ipv4: maybe\n", "upstream-port: 0\n", "upstream-port: 65536\n",
      "log-level: loud\n", "max-ttl: 0\n", "request-timeout: 99\n",
      "edns-buffer-size: 511\n", "listen: 1.2.3.4:99999\n", "listen: example.com:53\n",
      "allow: 10.0.0.0/33\n", "allow: [10.0.0.0/8, nonsense]\n", "threads:\n",
      /* strtoul would skip the blank and wrap the sign */
      "max-upstream-queries: \" -1\"\n", "threads: \" 2\"\n", "cache-size: \" -5\"\n",
      /* less than one reply of the largest size could never be queued */
      "tcp-max-backlog: 32k\n", "tcp-max-backlog: some\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct config cfg;
    config_defaults(&cfg);
    char err[512] = "", path[64];
    if (load(&cfg, bad[i], err, sizeof err, path) != -1)
      fail_msg("accepted bad config: %s", bad[i]);
    assert_non_null(strstr(err, path));
    /* The key is named. */
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i], ":"), bad[i]);
    if (!strstr(err, key)) fail_msg("error for %s does not name the key: %s", bad[i], err);
  }
}

static void test_structure_errors(void **state) {
  (void)state;
  static const char *bad[] = {
      "threads: [1, 2]\n",              /* list for a scalar key */
      "threads:\n  nested: 1\n",        /* nested mapping */
      "- a\n- b\n",                     /* not a mapping */
      "threads: 2\n  bad indent: [\n", /* syntax error */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct config cfg;
    config_defaults(&cfg);
    char err[512] = "", path[64];
    if (load(&cfg, bad[i], err, sizeof err, path) != -1)
      fail_msg("accepted bad config: %s", bad[i]);
    assert_non_null(strstr(err, path));
  }
}

static void test_missing_file(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "";
  assert_int_equal(config_load_file(&cfg, "/nonexistent/chaindns.yaml", err, sizeof err), -1);
  assert_non_null(strstr(err, "/nonexistent/chaindns.yaml"));
}

static void test_list_values(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "", path[64];
  const char *text =
      "listen: [127.0.0.1:5301, 127.0.0.2]\n"
      "allow:\n"
      "  - 10.1.0.0/16\n"
      "  - ::1\n"
      "  - 2001:db8::/32\n"
      "threads: 3\n";
  if (load(&cfg, text, err, sizeof err, path) != 0) fail_msg("%s", err);
  assert_int_equal(cfg.nlisten, 2);
  assert_listen(&cfg, 0, "127.0.0.1", 5301);
  assert_listen(&cfg, 1, "127.0.0.2", 53); /* default port */
  assert_int_equal(cfg.acl.n, 3);
  assert_true(allows4(&cfg, "10.1.255.255"));
  assert_false(allows4(&cfg, "10.2.0.0"));
  assert_int_equal(cfg.threads, 3); /* keys after a block list still work */
  /* A single scalar for a list key is a one-element list. */
  config_defaults(&cfg);
  if (load(&cfg, "allow: 172.16.0.0/12\n", err, sizeof err, path) != 0) fail_msg("%s", err);
  assert_int_equal(cfg.acl.n, 1);
  assert_true(allows4(&cfg, "172.31.0.1"));
  assert_false(allows4(&cfg, "127.0.0.1"));
}

/* ---- flags ------------------------------------------------------------- */

static int args(struct config *cfg, char *err, size_t errlen, int argc, ...) {
  char *argv[32];
  va_list ap;
  va_start(ap, argc);
  argv[0] = (char *)"chaindns";
  for (int i = 1; i < argc; i++) argv[i] = va_arg(ap, char *);
  va_end(ap);
  argv[argc] = NULL;
  int rc = config_from_args(cfg, argc, argv, err, errlen);
  config_clear(cfg); /* these tests look at other keys than the local zones */
  return rc;
}

/* Local zones and data from a file and flags: per-line errors name the file,
 * line and key; errors across lines name the line of the record at fault. */
static void test_local_data(void **state) {
  (void)state;
  char path[64], err[512] = "";
  struct config cfg;
  write_file(path, "local-zone: [\"lan. static\"]\nlocal-data:\n"
                   "  - \"router.lan. 300 A 192.168.1.1\"\n"
                   "  - \"www.lan. CNAME router.lan.\"\n");
  config_defaults(&cfg);
  char *argv[] = {(char *)"chaindns", (char *)"--config", path, (char *)"--local-data",
                  (char *)"nas.lan. A 192.168.1.2", NULL};
  assert_int_equal(config_from_args(&cfg, 5, argv, err, sizeof err), 0);
  struct lz_answer a;
  ldns_rdf *n = ldns_dname_new_frm_str("nas.lan.");
  assert_int_equal(lz_lookup(cfg.local, n, LDNS_RR_TYPE_A, &a), LZV_ANSWER); /* flags add */
  lz_answer_clear(&a);
  ldns_rdf_deep_free(n);
  n = ldns_dname_new_frm_str("printer.lan.");
  assert_int_equal(lz_lookup(cfg.local, n, LDNS_RR_TYPE_A, &a), LZV_NXDOMAIN);
  lz_answer_clear(&a);
  ldns_rdf_deep_free(n);
  config_clear(&cfg);

  write_file(path, "local-data:\n  - \"router.lan. 300 A\"\n");
  config_defaults(&cfg);
  assert_int_equal(config_load_file(&cfg, path, err, sizeof err), -1);
  assert_non_null(strstr(err, ":2: key 'local-data': "));
  assert_non_null(strstr(err, "(got 'router.lan. 300 A')"));
  config_clear(&cfg);

  write_file(path, "local-data:\n  - \"a.lan. CNAME b.lan.\"\n  - \"a.lan. TXT x\"\n");
  config_defaults(&cfg);
  char *argv2[] = {(char *)"chaindns", (char *)"--config", path, NULL};
  assert_int_equal(config_from_args(&cfg, 3, argv2, err, sizeof err), -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, "key 'local-data'"));
  config_clear(&cfg);

  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--local-zone", "lan. stattic"), -1);
  assert_non_null(strstr(err, "--local-zone: "));
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--qname-minimisation", "sometimes"), -1);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--nothing-below-nxdomain", "maybe"), -1);
  assert_int_equal(args(&cfg, err, sizeof err, 5, "--qname-minimisation", "strict",
                        "--nothing-below-nxdomain", "yes"), 0);
  assert_int_equal(cfg.qmin, QMIN_STRICT);
  assert_int_equal(cfg.nxcut, NXCUT_YES);
}

static void test_flags_override_file(void **state) {
  (void)state;
  char path[64], err[512] = "";
  write_file(path, "threads: 4\nmax-chain-length: 8\nlisten: 127.0.0.1:5353\nupstream-port: 5300\n");
  struct config cfg;
  config_defaults(&cfg);
  int rc = args(&cfg, err, sizeof err, 5, "--config", path, "--threads", "8");
  if (rc != 0) fail_msg("%s", err);
  assert_int_equal(cfg.threads, 8);           /* flag wins */
  assert_int_equal(cfg.max_chain_length, 8);  /* file value kept */
  assert_int_equal(cfg.upstream_port, 5300);
  assert_listen(&cfg, 0, "127.0.0.1", 5353);

  /* Flags win even when they come before --config. */
  config_defaults(&cfg);
  rc = args(&cfg, err, sizeof err, 7, "--threads", "2", "--max-chain-length=3", "--config", path,
            "--no-ipv6");
  if (rc != 0) fail_msg("%s", err);
  assert_int_equal(cfg.threads, 2);
  assert_int_equal(cfg.max_chain_length, 3);
  assert_false(cfg.ipv6);
  assert_true(cfg.ipv4);

  /* --listen replaces the file's list; repeated flags accumulate. */
  config_defaults(&cfg);
  rc = args(&cfg, err, sizeof err, 7, "--config", path, "--listen", "127.0.0.9:9",
            "--listen", "[::1]:10");
  if (rc != 0) fail_msg("%s", err);
  assert_int_equal(cfg.nlisten, 2);
  assert_listen(&cfg, 0, "127.0.0.9", 9);
  assert_listen(&cfg, 1, "::1", 10);
  unlink(path);
}

static void test_flags_without_file(void **state) {
  (void)state;
  char err[512] = "";
  struct config cfg;
  config_defaults(&cfg);
  int rc = args(&cfg, err, sizeof err, 9, "--no-ipv6", "--allow", "10.0.0.0/8", "--cache-size",
                "1g", "--log-level", "warn", "--edns-buffer-size=4096");
  if (rc != 0) fail_msg("%s", err);
  assert_false(cfg.ipv6);
  assert_true(cfg.ipv4);
  assert_int_equal(cfg.cache_size, 1u << 30);
  assert_int_equal(cfg.log_level, LOG_WARN);
  assert_int_equal(cfg.edns_buffer_size, 4096);
  assert_true(allows4(&cfg, "10.9.9.9"));
  assert_false(allows4(&cfg, "127.0.0.1"));
  /* No arguments at all: defaults stay. */
  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 1), 0);
  assert_int_equal(cfg.threads, uv_available_parallelism());
  assert_true(cfg.ipv6);
}

static void test_flag_errors(void **state) {
  (void)state;
  char err[512];
  struct config cfg;

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--threads", "abc"), -1);
  assert_non_null(strstr(err, "--threads"));
  assert_non_null(strstr(err, "abc"));

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 2, "--bogus"), -1);
  assert_non_null(strstr(err, "--bogus"));

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 2, "--threads"), -1); /* missing value */
  assert_non_null(strstr(err, "--threads"));

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 2, "stray"), -1);
  assert_non_null(strstr(err, "stray"));

  /* An abbreviation that fits several options is an error, not whichever
   * row the table happens to list first. */
  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--tcp", "5"), -1);
  assert_non_null(strstr(err, "ambiguous"));
  assert_non_null(strstr(err, "--tcp"));
  /* An unambiguous prefix still works, as getopt_long promises. */
  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--thr", "2"), 0);
  assert_int_equal(cfg.threads, 2);

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--no-ipv4", "--no-ipv6"), -1);
  assert_true(strlen(err) > 0);

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 5, "--min-ttl", "100", "--max-ttl", "50"), -1);
  assert_non_null(strstr(err, "min-ttl"));

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--config", "/nonexistent/x.yaml"), -1);
  assert_non_null(strstr(err, "/nonexistent/x.yaml"));

  config_defaults(&cfg);
  err[0] = 0;
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--allow", "10.0.0.0/40"), -1);
  assert_non_null(strstr(err, "--allow"));

  /* A good call still works after errors (getopt state is reset). */
  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--threads", "7"), 0);
  assert_int_equal(cfg.threads, 7);
}

static void test_file_error_through_flags(void **state) {
  (void)state;
  char path[64], err[512] = "";
  write_file(path, "threads: 2\nipv6: nope\n");
  struct config cfg;
  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--config", path), -1);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, ":2:"));
  assert_non_null(strstr(err, "ipv6"));
  unlink(path);
}

/* ---- the redis section ------------------------------------------------- */

static void test_redis_section(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  assert_false(redis_enabled(&cfg.redis));
  assert_string_equal(cfg.redis.prefix, "chaindns");
  assert_int_equal(cfg.redis.command_timeout_ms, 30);
  char err[512] = "", path[64], secret_path[64];
  write_file(secret_path, "from-a-file-0123456789\n");
  char text[1024];
  snprintf(text, sizeof text,
           "threads: 2\n"
           "redis:\n"
           "  url: redis://127.0.0.1:6380/2\n"
           "  user: chaindns\n"
           "  password: pw\n"
           "  prefix: fleet-a\n"
           "  command-timeout: 40\n"
           "  connect-timeout: 250\n"
           "  secret-file: %s\n"
           "  replicas: [redis://127.0.0.2:6379, \"redis://[::1]:6379\"]\n"
           "  sentinels:\n"
           "    - 127.0.0.9:26379\n"
           "  sentinel-master: mymaster\n"
           "  max-pending: 64\n"
           "cache-size: 1m\n", secret_path);
  if (load(&cfg, text, err, sizeof err, path) != 0) fail_msg("%s", err);
  unlink(secret_path);
  const struct redis_config *rc = &cfg.redis;
  assert_true(redis_enabled(rc));
  assert_string_equal(rc->url, "redis://127.0.0.1:6380/2");
  assert_string_equal(rc->user, "chaindns");
  assert_string_equal(rc->password, "pw");
  assert_string_equal(rc->prefix, "fleet-a");
  assert_int_equal(rc->command_timeout_ms, 40);
  assert_int_equal(rc->connect_timeout_ms, 250);
  assert_int_equal(rc->secret.len, 22); /* without the newline */
  assert_memory_equal(rc->secret.key, "from-a-file-0123456789", 22);
  assert_int_equal(rc->nreplicas, 2);
  assert_string_equal(rc->replicas[1], "redis://[::1]:6379");
  assert_int_equal(rc->nsentinels, 1);
  assert_string_equal(rc->sentinel_master, "mymaster");
  assert_int_equal(rc->max_pending, 64);
  assert_int_equal(cfg.cache_size, 1u << 20); /* keys after the section still work */
  assert_int_equal(cfg.threads, 2);
}

static void test_redis_errors_name_file_line_key(void **state) {
  (void)state;
  static const struct { const char *text, *line, *key; } bad[] = {
      {"threads: 1\nredis:\n  urll: redis://127.0.0.1\n", ":3:", "redis.urll"},
      {"redis:\n  url: http://127.0.0.1\n", ":2:", "redis.url"},
      {"redis:\n  url: redis://cache.example.com\n", ":2:", "redis.url"},
      {"redis: redis://127.0.0.1\n", ":1:", "redis"},
      {"redis:\n  secret: too-short\n", ":2:", "redis.secret"},
      {"redis:\n  prefix: 'a b'\n", ":2:", "redis.prefix"},
      {"redis:\n  command-timeout: 0\n", ":2:", "redis.command-timeout"},
      {"redis:\n  sentinels: [sentinel.example:26379]\n", ":2:", "redis.sentinels"},
      {"redis:\n  secret-file: /nonexistent/secret\n", ":2:", "redis.secret-file"},
      {"redis:\n  url: redis://127.0.0.1\n  nested:\n    deeper: 1\n", ":3:", "redis.nested"},
      {"redis:\n  prefix: [a, b]\n", ":2:", "redis.prefix"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct config cfg;
    config_defaults(&cfg);
    char err[512] = "", path[64], key[64];
    if (load(&cfg, bad[i].text, err, sizeof err, path) != -1)
      fail_msg("accepted bad config: %s", bad[i].text);
    snprintf(key, sizeof key, "'%s'", bad[i].key);
    if (!strstr(err, path) || !strstr(err, bad[i].line) || !strstr(err, key))
      fail_msg("error for %s should name %s, line %s and %s: %s", bad[i].text, path,
               bad[i].line, key, err);
  }
}

static void test_redis_flags(void **state) {
  (void)state;
  struct config cfg;
  config_defaults(&cfg);
  char err[512] = "";
  assert_int_equal(args(&cfg, err, sizeof err, 9, "--redis-url", "unix:///run/redis.sock",
                        "--redis-replica", "redis://127.0.0.3", "--redis-replica",
                        "redis://127.0.0.4", "--redis-secret", "0123456789abcdef"), 0);
  assert_string_equal(cfg.redis.url, "unix:///run/redis.sock");
  assert_int_equal(cfg.redis.nreplicas, 2);
  assert_int_equal(cfg.redis.secret.len, 16);
  static const char *const bad[][3] = {
      {"--redis-url", "redis://127.0.0.1:99999", "--redis-url"},
      {"--redis-secret-file", "/nonexistent/s", "/nonexistent/s"},
      {"--redis-replica", "redis://127.0.0.2", "need a primary"},
      {"--redis-sentinel", "127.0.0.1:26379", "sentinel-master"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    config_defaults(&cfg);
    err[0] = 0;
    assert_int_equal(args(&cfg, err, sizeof err, 3, bad[i][0], bad[i][1]), -1);
    if (!strstr(err, bad[i][2])) fail_msg("%s %s: %s", bad[i][0], bad[i][1], err);
  }
}

/* The line of the sample where key is written, as "key:" or "# key:" after
 * blanks; its length in *len. */
static const char *sample_line(const char *sample, const char *key, size_t *len) {
  size_t n = strlen(key);
  for (const char *l = sample; *l; l += *len + (l[*len] == '\n')) {
    *len = strcspn(l, "\n");
    const char *p = l + strspn(l, " ");
    if (*p == '#') p += 1 + strspn(p + 1, " ");
    if (!strncmp(p, key, n) && p[n] == ':') return l;
  }
  return NULL;
}

/* docker/chaindns.sample.yaml names every key, and sets each one it does
 * not comment out to its default: loaded over the defaults it changes
 * nothing. It marks "(restart)" the keys SIGHUP does not apply, and only
 * those (a section's keys on the section's line). --help names every key
 * too. */
static void test_sample_file_and_help_cover_every_key(void **state) {
  (void)state;
  char path[512], err[512];
  snprintf(path, sizeof path, "%s/docker/chaindns.sample.yaml", CHAINDNS_SOURCE_DIR);
  struct config def, cfg;
  config_defaults(&def);
  config_defaults(&cfg);
  if (config_load_file(&cfg, path, err, sizeof err)) fail_msg("%s", err);
  assert_memory_equal(&def, &cfg, sizeof cfg);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char sample[16384];
  size_t n = fread(sample, 1, sizeof sample - 1, f);
  sample[n] = 0;
  fclose(f);
  char *help = NULL;
  size_t hlen = 0;
  FILE *h = open_memstream(&help, &hlen);
  config_usage(h);
  fclose(h);
  struct config_key_info k;
  for (size_t i = 0; config_key_info(i, &k); i++) {
    char want[128];
    snprintf(want, sizeof want, "%s:", k.file_key);
    if (!strstr(sample, want)) fail_msg("the sample file lacks '%s'", want);
    size_t len = 0;
    const char *line = sample_line(sample, k.section ? k.section : k.file_key, &len);
    if (!line) fail_msg("the sample file has no line of its own for '%s'", want);
    bool marked = memmem(line, len, "(restart)", 9) != NULL;
    if (marked == k.reloadable)
      fail_msg("the sample file's line '%.*s' should %ssay (restart)", (int)len, line,
               k.reloadable ? "not " : "");
    snprintf(want, sizeof want, k.negated ? "--no-%s" : "--%s ", k.flag);
    if (!strstr(help, want)) fail_msg("--help lacks '%s'", want);
  }
  free(help);
}

/* The admin surfaces' keys: the control socket (auto, a path, off), the
 * control token (from a file, 16+ visible characters) and the Host names
 * the metrics listener answers to. */
static void test_control_and_metrics_hosts(void **state) {
  (void)state;
  struct config cfg;
  char err[512] = "", tok[64], path[64];
  config_defaults(&cfg);
  assert_true(cfg.control_socket_auto);
  assert_string_equal(cfg.control_socket, CONFIG_CONTROL_SOCKET);
  assert_int_equal(cfg.control_token_len, 0);
  assert_int_equal(cfg.n_metrics_hosts, 0);
  write_file(tok, "0123456789abcdef-token\n");
  assert_int_equal(args(&cfg, err, sizeof err, 9, "--control-socket", "/tmp/x/ctl.sock",
                        "--control-token-file", tok, "--metrics-allowed-host",
                        "Prom.Example.", "--metrics-allowed-host", "chaindns-1"), 0);
  assert_false(cfg.control_socket_auto);
  assert_string_equal(cfg.control_socket, "/tmp/x/ctl.sock");
  assert_int_equal(cfg.control_token_len, 22);
  assert_memory_equal(cfg.control_token, "0123456789abcdef-token", 22);
  assert_int_equal(cfg.n_metrics_hosts, 2);
  assert_string_equal(cfg.metrics_hosts[0], "prom.example");
  assert_string_equal(cfg.metrics_hosts[1], "chaindns-1");
  config_defaults(&cfg);
  assert_int_equal(args(&cfg, err, sizeof err, 3, "--control-socket", "off"), 0);
  assert_string_equal(cfg.control_socket, "");
  assert_false(cfg.control_socket_auto);
  /* A file's list is replaced whole by the flags'. */
  config_defaults(&cfg);
  if (load(&cfg, "metrics-allowed-host: [a.example, b.example]\n", err, sizeof err, path))
    fail_msg("%s", err);
  assert_int_equal(cfg.n_metrics_hosts, 2);

  char long_path[200];
  memset(long_path, 'p', sizeof long_path - 1);
  long_path[0] = '/';
  long_path[sizeof long_path - 1] = 0;
  write_file(path, "short-token\n"); /* 11 characters */
  char blank[64];
  write_file(blank, "0123456789 abcdef-token\n");
  const char *const bad[][3] = {
      {"--control-socket", long_path, "at most 107 bytes"},
      {"--control-socket", "", "expected a path"},
      {"--control-token-file", "/nonexistent/token", "/nonexistent/token"},
      {"--control-token-file", path, "at least 16"},
      {"--control-token-file", blank, "visible ASCII"},
      {"--metrics-allowed-host", "prom.example:9090", "no port"},
      {"--metrics-allowed-host", "", "expected a host name"},
      {"--metrics-allowed-host", "a b", "expected a host name"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    config_defaults(&cfg);
    err[0] = 0;
    assert_int_equal(args(&cfg, err, sizeof err, 3, bad[i][0], bad[i][1]), -1);
    if (!strstr(err, bad[i][2])) fail_msg("%s %s: %s", bad[i][0], bad[i][1], err);
  }
  unlink(path);
  unlink(tok);
  unlink(blank);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sample_file_and_help_cover_every_key),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_valid_file),
      cmocka_unit_test(test_empty_file_keeps_defaults),
      cmocka_unit_test(test_unknown_key_line_3),
      cmocka_unit_test(test_yaml_that_would_be_misread),
      cmocka_unit_test(test_bad_value_names_file_line_key),
      cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_structure_errors),
      cmocka_unit_test(test_missing_file),
      cmocka_unit_test(test_list_values),
      cmocka_unit_test(test_flags_override_file),
      cmocka_unit_test(test_flags_without_file),
      cmocka_unit_test(test_flag_errors),
      cmocka_unit_test(test_file_error_through_flags),
      cmocka_unit_test(test_redis_section),
      cmocka_unit_test(test_redis_errors_name_file_line_key),
      cmocka_unit_test(test_redis_flags),
      cmocka_unit_test(test_local_data),
      cmocka_unit_test(test_control_and_metrics_hosts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
