/*
 * The metrics and diagnostics endpoint, over libmicrohttpd (its own threads,
 * never a worker's): GET /metrics (Prometheus text format), /chains and
 * /trace?name=N[&type=T][&nocache=1] (JSON), and / (an index); with a
 * control token, POST /cache/flush and GET /cache/stats too.
 *
 * /chains is JSON unless the client prefers text/html (a browser): then a
 * page of waterfalls made from that JSON (metrics/waterfall.h);
 * ?format=json or ?format=html overrides the Accept header.
 *
 * Who is answered, checked on every request before anything is done:
 *  - the Host header must be an IP address, localhost, or a name of
 *    policy.hosts (a DNS-rebinding page sends its own name);
 *  - a request from a page of another origin (an Origin header other than
 *    http://HOST, or a browser's Sec-Fetch-Site saying another site asked
 *    for anything but a page to show) is refused, and no response ever
 *    allows other origins (no CORS headers);
 *  - cache control needs the token (Authorization: Bearer, compared in
 *    constant time) and no request body; without a token it is not served.
 * Connections: at most METRICS_HTTP_MAX_CONNS at once, METRICS_HTTP_MAX_PER_IP
 * from one address (beyond it a connection is closed at once), idle ones
 * closed after METRICS_HTTP_IDLE_S, and every response closes its connection,
 * so a slow request on one of the threads never holds up the next scrape.
 *
 * What it serves comes from callbacks (struct metrics_ops), so this module
 * knows nothing of workers; the callbacks run on the endpoint's threads and
 * may block (they wait for the workers' copies, or for a trace).
 */
#ifndef CHAINDNS_HTTP_H
#define CHAINDNS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Each callback returns a malloc'd NUL-terminated body and sets *status
 * (200, or an error status with a plain-text body). */
struct metrics_ops {
  char *(*metrics)(void *ctx, int *status);
  char *(*chains)(void *ctx, int *status);
  char *(*trace)(void *ctx, const char *name, const char *type, bool nocache, int *status);
  /* POST /cache/flush?name=N or ?zone=Z, GET /cache/stats: JSON. */
  char *(*flush)(void *ctx, const char *name, bool zone, int *status);
  char *(*cache_stats)(void *ctx, int *status);
  void *ctx;
};

#define METRICS_HTTP_THREADS 4      /* a trace and a flush leave two for scrapes */
#define METRICS_HTTP_MAX_CONNS 256
#define METRICS_HTTP_MAX_PER_IP 8
#define METRICS_HTTP_IDLE_S 5

/* Who is answered (metrics_http_start copies what it needs). */
struct metrics_http_policy {
  const char *const *hosts; /* Host names allowed besides IP addresses and
                               localhost: lower case, without the final dot */
  size_t nhosts;
  const char *token;        /* the control token, or NULL: no cache control */
  size_t token_len;
};

typedef struct metrics_http metrics_http_t;

/* Listen on addr. Returns NULL with a message in err on failure. */
metrics_http_t *metrics_http_start(const struct sockaddr *addr, const struct metrics_ops *ops,
                                   const struct metrics_http_policy *policy, char *err,
                                   size_t errlen);
void metrics_http_stop(metrics_http_t *h);

#endif
