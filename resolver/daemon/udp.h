/*
 * UDP listeners and the cache-hit fast path.
 *
 * Each worker reads its own SO_REUSEPORT sockets with recvmmsg (a batch of
 * datagrams per system call) through a uv_poll_t. A query whose reply is in
 * the worker's answer cache (cache/anscache.h) is answered right there,
 * into a batch buffer sent with one sendmmsg: no allocation, no lock, no
 * parse beyond the header and question. Everything else is handed to the
 * listener's miss callback: the worker's full path (server.c), whose replies
 * are sent with udp_send() and feed the answer cache. The callback keeps this
 * file from knowing the full path, so udp.c and server.c do not call each
 * other both ways: server.c owns listeners, udp.c only calls back.
 *
 * A listener belongs to its worker's loop and is used only there.
 */
#ifndef CHAINDNS_UDP_H
#define CHAINDNS_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ac_query;
struct udp_listener;
struct worker;

/* A query the fast path did not answer, from `from` on l: the full path, from
 * parsing on. acq, when the fast path could parse the query, is its
 * answer-cache key (the reply then feeds the cache). data, from and acq are
 * only borrowed for the call. Runs on the listener's loop. */
typedef void (*udp_miss_fn)(void *arg, struct udp_listener *l, const uint8_t *data,
                            size_t len, const struct sockaddr *from,
                            const struct ac_query *acq);

/* Start reading fd (already bound) on w's loop; what the answer cache does
 * not answer goes to miss(miss_arg, ...). Returns 0 with the listener in
 * *out, or a negative errno (fd is then still the caller's to close). */
int udp_listen(struct worker *w, int fd, udp_miss_fn miss, void *miss_arg,
               struct udp_listener **out);
/* Stop, close the socket and free the listener once the loop has closed
 * its handle. NULL is ignored. */
void udp_close(struct udp_listener *l);

/* Send one reply at once; false when the socket would block or failed (a
 * UDP client asks again). */
bool udp_send(struct udp_listener *l, const struct sockaddr *to, const uint8_t *wire, size_t len);

/* Per-worker batch buffers (about half a megabyte). */
struct udp_batch;
struct udp_batch *udp_batch_new(void);
void udp_batch_free(struct udp_batch *b);

#endif
