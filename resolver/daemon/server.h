/*
 * Client-facing listeners: UDP and TCP (RFC 7766: several queries per
 * connection, answered as they complete; idle timeout; connection limit).
 * Parses each query, applies the access list, starts a resolution and sends
 * the reply. Malformed input gets FORMERR, or is dropped when not even a
 * header can be read; it never stops the server.
 */
#ifndef CHAINDNS_SERVER_H
#define CHAINDNS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct worker;

/* Open the listeners of w on its loop (called before the loop runs). */
int server_listen(struct worker *w);

/* Stop accepting, close listeners and client connections. */
void server_close(struct worker *w);

/* A UDP query the fast path did not answer: the full path, from parsing
 * on. acq, when the fast path could parse it, is its answer-cache key (the
 * reply then feeds the cache). The bytes are only borrowed for the call. */
struct udp_listener;
struct ac_query;
void server_udp_query(struct udp_listener *l, const uint8_t *data, size_t len,
                      const struct sockaddr *from, const struct ac_query *acq);


#endif
