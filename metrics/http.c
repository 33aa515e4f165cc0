/* The metrics endpoint over libmicrohttpd; see http.h. */
#include "metrics/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "metrics/waterfall.h"

/* Set by metrics_http_start before the daemon runs, then read-only: the
 * daemon's threads read it at once with no lock. What the callbacks touch
 * is theirs to guard (ops.ctx). */
struct metrics_http {
  struct MHD_Daemon *d;
  struct metrics_ops ops;
  char **hosts; /* Host names allowed besides IP addresses and localhost */
  size_t nhosts;
  bool control;                          /* a control token was given */
  unsigned char token_md[SHA256_DIGEST_LENGTH]; /* its SHA-256: compared, never kept */
};

static const char *const INDEX =
    "chaindns\n\n"
    "/metrics                   Prometheus metrics (text format 0.0.4)\n"
    "/chains                    recent, slowest, dangling and broken CNAME chains (JSON;\n"
    "                           a browser gets the slowest as waterfalls: HTML)\n"
    "/trace?name=N&type=T       a fresh resolution, hop by hop, with every upstream query\n"
    "                           (JSON; &nocache=1 bypasses the caches)\n";

static const char *const INDEX_CONTROL =
    "With 'Authorization: Bearer TOKEN' (control-token-file):\n"
    "/cache/stats               the cache tiers' counters (JSON)\n"
    "POST /cache/flush?name=N   forget a name in every tier (memory, answers, Redis);\n"
    "POST /cache/flush?zone=Z   ... or a whole zone (JSON: what was removed)\n";

/* A response that owns body (NULL: out of memory, then a 500), with the
 * headers every response carries: never cached, never sniffed into another
 * type, and the connection closed after it (a scrape then always connects
 * anew and lands on a free thread). No CORS header: other origins may not
 * read anything. NULL when even that cannot be made. */
static struct MHD_Response *make_response(int *status, char *body, const char *type) {
  if (!body) {
    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    body = strdup("out of memory\n");
    if (!body) return NULL;
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return NULL;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          *status == MHD_HTTP_OK ? type : "text/plain; charset=utf-8");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
  return r;
}

static enum MHD_Result queue(struct MHD_Connection *c, int status, struct MHD_Response *r) {
  if (!r) return MHD_NO;
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, int status, char *body,
                               const char *type) {
  struct MHD_Response *r = make_response(&status, body, type);
  return queue(c, status, r);
}

static const char *header(struct MHD_Connection *c, const char *name) {
  return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* ---- who is answered ---------------------------------------------------------------- */

static bool port_ok(const char *p) {
  size_t n = strspn(p, "0123456789");
  return n >= 1 && n <= 5 && !p[n];
}

/* Is a Host header value ("name[:port]", "1.2.3.4[:port]", "[v6][:port]")
 * one this listener answers to? A page that reached it through DNS
 * rebinding carries its own site's name here. */
static bool host_allowed(const struct metrics_http *h, const char *host) {
  char name[256];
  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    size_t len = end ? (size_t)(end - host - 1) : 0;
    struct in6_addr a6;
    if (!end || len >= sizeof name || (end[1] && (end[1] != ':' || !port_ok(end + 2))))
      return false;
    memcpy(name, host + 1, len);
    name[len] = 0;
    return inet_pton(AF_INET6, name, &a6) == 1;
  }
  const char *colon = strchr(host, ':');
  size_t len = colon ? (size_t)(colon - host) : strlen(host);
  if (len == 0 || len >= sizeof name || (colon && !port_ok(colon + 1))) return false;
  for (size_t i = 0; i < len; i++) name[i] = (char)tolower((unsigned char)host[i]);
  name[len] = 0;
  struct in_addr a4;
  if (inet_pton(AF_INET, name, &a4) == 1) return true;
  if (name[len - 1] == '.') name[--len] = 0;
  if (!strcmp(name, "localhost")) return true;
  for (size_t i = 0; i < h->nhosts; i++)
    if (!strcmp(name, h->hosts[i])) return true;
  return false;
}

/* Why a request is refused before anything else, or NULL. A request
 * without Host (HTTP/1.0) comes from no browser, so no page can be behind
 * it. */
static const char *foreign(const struct metrics_http *h, struct MHD_Connection *c,
                           const char *method) {
  const char *host = header(c, MHD_HTTP_HEADER_HOST);
  if (host && !host_allowed(h, host))
    return "this Host is not served here: use an IP address, localhost, or a name "
           "listed in metrics-allowed-host\n";
  /* A browser names the page's origin on every cross-origin request (and
   * on any POST): only this listener's own pages may ask. */
  const char *origin = header(c, "Origin");
  if (origin && !(host && !strncasecmp(origin, "http://", 7) && !strcasecmp(origin + 7, host)))
    return "requests from pages of other origins are refused\n";
  /* Browsers that send Sec-Fetch-Site also say when another site's page
   * made the request (an image, a script, a form) even without Origin;
   * only following a link to a page (GET) is let through. */
  const char *site = header(c, "Sec-Fetch-Site"), *mode = header(c, "Sec-Fetch-Mode");
  bool link = mode && !strcasecmp(mode, "navigate") &&
              (!strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD));
  if (site && strcasecmp(site, "same-origin") && strcasecmp(site, "none") && !link)
    return "requests from pages of other sites are refused\n";
  return NULL;
}

/* "Authorization: Bearer TOKEN" with the control token. Both sides are
 * hashed first, so the comparison takes the same time whatever is sent
 * (its length included). */
static bool authorized(const struct metrics_http *h, struct MHD_Connection *c) {
  const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!auth || strncasecmp(auth, "Bearer ", 7)) return false;
  const char *tok = auth + 7 + strspn(auth + 7, " ");
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)tok, strcspn(tok, " \t"), md);
  return CRYPTO_memcmp(md, h->token_md, sizeof md) == 0;
}

/* A request body (a form, an upload): cache control takes none. */
static bool has_body(struct MHD_Connection *c) {
  const char *len = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
  return header(c, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
         (len && strspn(len, "0") != strlen(len));
}

/* The q of a media type in an Accept header: exact matches only (a
 * wildcard states no preference); -1 when absent. */
static double accept_q(const char *accept, const char *type) {
  size_t tlen = strlen(type);
  for (const char *p = accept; p && *p;) {
    p += strspn(p, " \t,");
    size_t len = strcspn(p, ",;"), mlen = len;
    while (mlen && (p[mlen - 1] == ' ' || p[mlen - 1] == '\t')) mlen--;
    bool match = mlen == tlen && !strncasecmp(p, type, tlen);
    double q = 1;
    for (p += len; *p == ';';) { /* parameters */
      p += 1 + strspn(p + 1, " \t");
      if ((*p == 'q' || *p == 'Q') && p[1] == '=') q = strtod(p + 2, NULL);
      p += strcspn(p, ",;");
    }
    if (match) return q;
  }
  return -1;
}

/* /chains: HTML for a browser (text/html preferred to JSON in Accept),
 * JSON otherwise; ?format=json or ?format=html decides. -1: a bad format. */
static int chains_html(struct MHD_Connection *c) {
  const char *format = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
  if (format && *format) return !strcmp(format, "html") ? 1 : !strcmp(format, "json") ? 0 : -1;
  const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
  double html = accept_q(accept, "text/html");
  return html > 0 && html >= accept_q(accept, "application/json");
}

/* /chains: JSON or the waterfall page, which fetches nothing and runs no
 * script (its policy says so, should a name in it ever get past escaping). */
static enum MHD_Result chains(struct metrics_http *h, struct MHD_Connection *c) {
  int status = MHD_HTTP_OK, html = chains_html(c);
  if (html < 0)
    return respond(c, MHD_HTTP_BAD_REQUEST, strdup("?format= is json or html\n"), NULL);
  char *body = h->ops.chains(h->ops.ctx, &status);
  const char *type = "application/json";
  if (html && body && status == MHD_HTTP_OK) {
    struct timeval now;
    gettimeofday(&now, NULL);
    char *page = waterfall_html(body, (int64_t)now.tv_sec * 1000000 + now.tv_usec);
    free(body);
    body = page;
    type = "text/html; charset=utf-8";
  }
  struct MHD_Response *r = make_response(&status, body, type);
  if (r) MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept");
  if (r && html)
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; "
                            "frame-ancestors 'none'");
  return queue(c, status, r);
}

static char *index_text(const struct metrics_http *h) {
  size_t a = strlen(INDEX), b = h->control ? strlen(INDEX_CONTROL) : 0;
  char *text = malloc(a + b + 1);
  if (!text) return NULL;
  memcpy(text, INDEX, a);
  memcpy(text + a, INDEX_CONTROL, b);
  text[a + b] = 0;
  return text;
}

static enum MHD_Result route(struct metrics_http *h, struct MHD_Connection *c, const char *url) {
  int status = MHD_HTTP_OK;
  if (!strcmp(url, "/metrics"))
    return respond(c, status, h->ops.metrics(h->ops.ctx, &status),
                   "text/plain; version=0.0.4; charset=utf-8");
  if (!strcmp(url, "/chains")) return chains(h, c);
  if (!strcmp(url, "/trace")) {
    const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    const char *nocache = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "nocache");
    if (!name || !*name)
      return respond(c, MHD_HTTP_BAD_REQUEST, strdup("missing ?name=\n"), NULL);
    bool bypass = nocache && strcmp(nocache, "0") && strcmp(nocache, "false");
    char *body = h->ops.trace(h->ops.ctx, name, type && *type ? type : "A", bypass, &status);
    return respond(c, status, body, "application/json");
  }
  if (!strcmp(url, "/")) return respond(c, status, index_text(h), "text/plain; charset=utf-8");
  return respond(c, MHD_HTTP_NOT_FOUND, strdup("not found; see /\n"), NULL);
}

/* POST /cache/flush and GET /cache/stats: the token first, then no body,
 * then the method; only then is anything done. */
static enum MHD_Result control(struct metrics_http *h, struct MHD_Connection *c,
                               const char *url, const char *method) {
  if (!h->control)
    return respond(c, MHD_HTTP_NOT_FOUND,
                   strdup("not found: cache control is not served over HTTP without "
                          "control-token-file; use chaindns ctl on the control socket\n"),
                   NULL);
  if (!authorized(h, c)) {
    int status = MHD_HTTP_UNAUTHORIZED;
    struct MHD_Response *r = make_response(
        &status, strdup("cache control needs 'Authorization: Bearer TOKEN' with the "
                        "control token\n"), NULL);
    if (r) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                   "Bearer realm=\"chaindns control\"");
    return queue(c, status, r);
  }
  if (has_body(c))
    return respond(c, MHD_HTTP_BAD_REQUEST,
                   strdup("no request body is taken: the name goes in the query string\n"),
                   NULL);
  int status = MHD_HTTP_OK;
  if (!strcmp(url, "/cache/stats")) {
    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
      return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), NULL);
    return respond(c, status, h->ops.cache_stats(h->ops.ctx, &status), "application/json");
  }
  /* It changes state, so POST only (a link or a prefetch cannot flush). */
  if (strcmp(method, MHD_HTTP_METHOD_POST))
    return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("POST only\n"), NULL);
  const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
  const char *zone = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "zone");
  if (!(name && *name) == !(zone && *zone))
    return respond(c, MHD_HTTP_BAD_REQUEST, strdup("give ?name= or ?zone=\n"), NULL);
  char *body = h->ops.flush(h->ops.ctx, name && *name ? name : zone, zone && *zone, &status);
  return respond(c, status, body, "application/json");
}

/* Called first with the headers only: every answer is given then, before
 * any body is read, so nothing is ever done for a request that is refused. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state) {
  struct metrics_http *h = cls;
  if (*upload_size) return MHD_NO; /* a body after the answer: not ours */
  const char *why = foreign(h, c, method);
  if (why) return respond(c, MHD_HTTP_FORBIDDEN, strdup(why), NULL);
  if (!strcmp(url, "/cache/flush") || !strcmp(url, "/cache/stats"))
    return control(h, c, url, method);
  if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
    return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), NULL);
  return route(h, c, url);
}

static void free_http(struct metrics_http *h) {
  for (size_t i = 0; i < h->nhosts; i++) free(h->hosts[i]);
  free(h->hosts);
  OPENSSL_cleanse(h->token_md, sizeof h->token_md);
  free(h);
}

static int take_policy(struct metrics_http *h, const struct metrics_http_policy *p) {
  h->hosts = p->nhosts ? calloc(p->nhosts, sizeof *h->hosts) : NULL;
  if (p->nhosts && !h->hosts) return -1;
  for (; h->nhosts < p->nhosts; h->nhosts++)
    if (!(h->hosts[h->nhosts] = strdup(p->hosts[h->nhosts]))) return -1;
  h->control = p->token && p->token_len;
  if (h->control) SHA256((const unsigned char *)p->token, p->token_len, h->token_md);
  return 0;
}

metrics_http_t *metrics_http_start(const struct sockaddr *addr, const struct metrics_ops *ops,
                                   const struct metrics_http_policy *policy, char *err,
                                   size_t errlen) {
  struct metrics_http *h = calloc(1, sizeof *h);
  if (!h || take_policy(h, policy)) {
    snprintf(err, errlen, "out of memory");
    if (h) free_http(h);
    return NULL;
  }
  h->ops = *ops;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
  uint16_t port = addr->sa_family == AF_INET6
                      ? ntohs(((const struct sockaddr_in6 *)addr)->sin6_port)
                      : ntohs(((const struct sockaddr_in *)addr)->sin_port);
  /* Several threads: a trace or a flush in progress never holds up a
   * scrape. One address cannot take every connection, and connections
   * that send nothing are dropped soon (slowloris). */
  h->d = MHD_start_daemon(
      flags, port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned)METRICS_HTTP_THREADS, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)METRICS_HTTP_MAX_CONNS, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      (unsigned)METRICS_HTTP_MAX_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)METRICS_HTTP_IDLE_S, MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot listen (address in use, or not local?)");
    free_http(h);
    return NULL;
  }
  return h;
}

void metrics_http_stop(metrics_http_t *h) {
  if (!h) return;
  MHD_stop_daemon(h->d);
  free_http(h);
}
