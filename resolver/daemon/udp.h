/*
 * UDP listeners and the cache-hit fast path.
 *
 * Each worker reads its own SO_REUSEPORT sockets with recvmmsg (a batch of
 * datagrams per system call) through a uv_poll_t. A query whose reply is in
 * the worker's answer cache (cache/anscache.h) is answered right there,
 * into a batch buffer sent with one sendmmsg: no allocation, no lock, no
 * parse beyond the header and question. Everything else goes to the full
 * path in server.c, whose replies are sent with udp_send() and feed the
 * answer cache.
 *
 * A listener belongs to its worker's loop.
 */
#ifndef CHAINDNS_UDP_H
#define CHAINDNS_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct worker;

struct udp_listener {
  uv_poll_t poll;
  int fd;
  struct worker *w;
  bool open;
};

/* Start reading fd (already bound). Returns 0 or a negative errno. */
int udp_listen(struct worker *w, struct udp_listener *l, int fd);
/* Stop and close the socket (the poll handle closes with the loop). */
void udp_close(struct udp_listener *l);

/* Send one reply at once; false when the socket would block or failed (a
 * UDP client asks again). */
bool udp_send(struct udp_listener *l, const struct sockaddr *to, const uint8_t *wire, size_t len);

/* Per-worker batch buffers (about half a megabyte). */
struct udp_batch;
struct udp_batch *udp_batch_new(void);
void udp_batch_free(struct udp_batch *b);

#endif
