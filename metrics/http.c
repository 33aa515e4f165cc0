/* The metrics endpoint over libmicrohttpd; see http.h. */
#include "metrics/http.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "metrics/waterfall.h"

struct metrics_http {
  struct MHD_Daemon *d;
  struct metrics_ops ops;
};

static const char *const INDEX =
    "chaindns\n\n"
    "/metrics                   Prometheus metrics (text format 0.0.4)\n"
    "/chains                    recent, slowest, dangling and broken CNAME chains (JSON;\n"
    "                           a browser gets the slowest as waterfalls: HTML)\n"
    "/trace?name=N&type=T       a fresh resolution, hop by hop, with every upstream query\n"
    "                           (JSON; &nocache=1 bypasses the caches)\n"
    "/cache/stats               the cache tiers' counters (JSON)\n"
    "POST /cache/flush?name=N   forget a name in every tier (memory, answers, Redis);\n"
    "POST /cache/flush?zone=Z   ... or a whole zone (JSON: what was removed)\n";

static enum MHD_Result respond_vary(struct MHD_Connection *c, int status, char *body,
                                    const char *type, const char *vary) {
  if (!body) {
    status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    body = strdup("out of memory\n");
    type = "text/plain; charset=utf-8";
    if (!body) return MHD_NO;
  }
  struct MHD_Response *r =
      MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(body);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          status == MHD_HTTP_OK ? type : "text/plain; charset=utf-8");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  if (vary) MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, vary);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result respond(struct MHD_Connection *c, int status, char *body,
                               const char *type) {
  return respond_vary(c, status, body, type, NULL);
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

static enum MHD_Result route(struct metrics_http *h, struct MHD_Connection *c, const char *url) {
  int status = MHD_HTTP_OK;
  if (!strcmp(url, "/metrics"))
    return respond(c, status, h->ops.metrics(h->ops.ctx, &status),
                   "text/plain; version=0.0.4; charset=utf-8");
  if (!strcmp(url, "/chains")) {
    int html = chains_html(c);
    if (html < 0)
      return respond(c, MHD_HTTP_BAD_REQUEST, strdup("?format= is json or html\n"), NULL);
    char *body = h->ops.chains(h->ops.ctx, &status);
    if (!html || !body || status != MHD_HTTP_OK)
      return respond_vary(c, status, body, "application/json", "Accept");
    struct timeval now;
    gettimeofday(&now, NULL);
    char *page = waterfall_html(body, (int64_t)now.tv_sec * 1000000 + now.tv_usec);
    free(body);
    return respond_vary(c, status, page, "text/html; charset=utf-8", "Accept");
  }
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
  if (!strcmp(url, "/cache/stats"))
    return respond(c, status, h->ops.cache_stats(h->ops.ctx, &status), "application/json");
  if (!strcmp(url, "/")) return respond(c, status, strdup(INDEX), "text/plain; charset=utf-8");
  return respond(c, MHD_HTTP_NOT_FOUND, strdup("not found; see /\n"), NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state) {
  struct metrics_http *h = cls;
  if (*upload_size) return MHD_NO; /* a body: not ours */
  if (!strcmp(url, "/cache/flush")) {
    /* It changes state, so POST only (a link or a prefetch cannot flush). */
    if (strcmp(method, MHD_HTTP_METHOD_POST))
      return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("POST only\n"), NULL);
    const char *name = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "name");
    const char *zone = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "zone");
    if (!(name && *name) == !(zone && *zone))
      return respond(c, MHD_HTTP_BAD_REQUEST, strdup("give ?name= or ?zone=\n"), NULL);
    int status = MHD_HTTP_OK;
    char *body = h->ops.flush(h->ops.ctx, name && *name ? name : zone, zone && *zone, &status);
    return respond(c, status, body, "application/json");
  }
  if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
    return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, strdup("GET only\n"), NULL);
  return route(h, c, url);
}

metrics_http_t *metrics_http_start(const struct sockaddr *addr, const struct metrics_ops *ops,
                                   char *err, size_t errlen) {
  struct metrics_http *h = calloc(1, sizeof *h);
  if (!h) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  h->ops = *ops;
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
  uint16_t port = addr->sa_family == AF_INET6
                      ? ntohs(((const struct sockaddr_in6 *)addr)->sin6_port)
                      : ntohs(((const struct sockaddr_in *)addr)->sin_port);
  /* Two threads: a trace in progress never holds up a scrape. */
  h->d = MHD_start_daemon(flags, port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, addr,
                          MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 32u,
                          MHD_OPTION_CONNECTION_TIMEOUT, 15u, MHD_OPTION_END);
  if (!h->d) {
    snprintf(err, errlen, "cannot listen (address in use, or not local?)");
    free(h);
    return NULL;
  }
  return h;
}

void metrics_http_stop(metrics_http_t *h) {
  if (!h) return;
  MHD_stop_daemon(h->d);
  free(h);
}
