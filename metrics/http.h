/*
 * The metrics and diagnostics endpoint, over libmicrohttpd (its own threads,
 * never a worker's): GET /metrics (Prometheus text format), /chains and
 * /trace?name=N[&type=T][&nocache=1] (JSON), and / (an index).
 *
 * /chains is JSON unless the client prefers text/html (a browser): then a
 * page of waterfalls made from that JSON (metrics/waterfall.h);
 * ?format=json or ?format=html overrides the Accept header.
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

typedef struct metrics_http metrics_http_t;

/* Listen on addr. Returns NULL with a message in err on failure. */
metrics_http_t *metrics_http_start(const struct sockaddr *addr, const struct metrics_ops *ops,
                                   char *err, size_t errlen);
void metrics_http_stop(metrics_http_t *h);

#endif
