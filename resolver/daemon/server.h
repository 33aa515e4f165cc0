/*
 * Client-facing listeners: UDP and TCP (RFC 7766: several queries per
 * connection, answered as they complete; idle timeout; connection limit).
 * Parses each query, applies the access list, starts a resolution and sends
 * the reply. Malformed input gets FORMERR, or is dropped when not even a
 * header can be read; it never stops the server.
 */
#ifndef CHAINDNS_SERVER_H
#define CHAINDNS_SERVER_H

struct worker;

/* Open the listeners of w on its loop (called before the loop runs). */
int server_listen(struct worker *w);

/* Stop accepting, close listeners and client connections. */
void server_close(struct worker *w);

#endif
