/*
 * The control socket: how `chaindns ctl` asks a running resolver for cache
 * flushes and counters without any network listener. It is a unix stream
 * socket whose file is created with mode 0600, so the file system's
 * permissions are the authentication: only the resolver's user (and root)
 * can connect, and the peer's uid is checked again on every connection
 * (SO_PEERCRED), should the file's mode ever be widened.
 *
 * The server runs on a thread and libuv loop of its own; each command runs
 * on libuv's thread pool, so a long flush never holds up the socket (a
 * second flush is told at once that one is under way) and never a worker.
 *
 * The protocol, one request per connection: the client sends one line,
 *     flush NAME | flush-zone ZONE | stats
 * ended by a newline, at most CONTROL_MAX_LINE bytes, within
 * CONTROL_READ_TIMEOUT_MS of connecting; then reads to the end:
 *     STATUS "\n" BODY
 * STATUS is an HTTP status code (200 done; 400 a bad request; 403 another
 * user; 429 a flush is under way; 503 not all done) and BODY the JSON
 * result or a one-line message. At most CONTROL_MAX_CONNS connections are
 * served at once; more are closed at once.
 *
 * The client half (control_request, and control_request_http for the
 * metrics listener with a control token) is what `chaindns ctl` runs.
 */
#ifndef CHAINDNS_CONTROL_H
#define CHAINDNS_CONTROL_H

#include <stddef.h>

#include "resolver/daemon/cachectl.h"

#define CONTROL_MAX_LINE 1200
#define CONTROL_READ_TIMEOUT_MS 5000
#define CONTROL_MAX_CONNS 8

typedef struct control control_t;

/* Create the socket at path (replacing a stale one that nobody serves;
 * never a file that is not a socket, nor one another process serves) and
 * serve it on a new thread. cc is borrowed and must outlive control_stop.
 * Returns NULL with the reason in err. */
control_t *control_start(const char *path, cachectl_t *cc, char *err, size_t errlen);
/* Stop serving (waiting for a command under way), remove the socket file
 * if it is still the one created, and free. */
void control_stop(control_t *c);

/* The client: send one command line (without its newline) to the socket at
 * path, wait up to timeout_ms, and print the body to stdout (200) or
 * stderr. Returns the exit status: 0 done, 1 refused, failed or
 * unreachable. */
int control_request(const char *path, const char *line, int timeout_ms);

/* The same over HTTP to the metrics listener at where (ADDR:PORT):
 * method and path (already URL-encoded), with the control token read from
 * token_file. Returns 2 for a bad address or an unreadable token file. */
int control_request_http(const char *where, const char *method, const char *path,
                         const char *token_file, int timeout_ms);

#endif
