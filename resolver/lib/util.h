/*
 * Small helpers shared by every module: unpredictable random numbers for
 * transaction IDs (RFC 5452), clocks, and socket address formatting.
 */
#ifndef CHAINDNS_UTIL_H
#define CHAINDNS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 socket address, without sockaddr_storage's 128 bytes:
 * for tables of many addresses. */
union sockaddr_any {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
};

/* Cryptographically strong random 32-bit value (getrandom, buffered per
 * thread). Used for outbound TXIDs and server tie-breaks. */
uint32_t util_random(void);

/* Wall-clock seconds since the epoch: cache expiry is absolute so it can be
 * shared between instances. */
int64_t util_now_sec(void);

/* Shift every wall-clock reading (util_now_sec, util_now_us) by `seconds`:
 * the scenario tests' controllable clock (CHAINDNS_TEST_CLOCK, main.c), so
 * TTLs and signature validity can be stepped without waiting. Monotonic
 * clocks (timeouts, latencies) are never shifted. */
void util_set_clock_offset(int64_t seconds);

/* Wall-clock microseconds since the epoch, for timestamps people read. */
int64_t util_now_us(void);

/* Monotonic milliseconds, for deadlines and RTT. */
uint64_t util_mono_ms(void);

/* Monotonic microseconds, for latency metrics. */
uint64_t util_mono_us(void);

/* Format an address of that family (AF_INET or AF_INET6, its 4 or 16
 * bytes) into buf; "-" when it cannot. */
const char *util_ip_str(int family, const void *addr, char *buf, size_t len);

/* Format "1.2.3.4:53" or "[::1]:53" into buf (at least 64 bytes). */
const char *util_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Parse "ADDR:PORT" or "[V6]:PORT" (or bare ADDR with default_port when
 * default_port >= 0). Returns 0 or -1. */
int util_parse_addr_port(const char *s, int default_port,
                         struct sockaddr_storage *out, socklen_t *outlen);

/* Parse a size such as "64m", "512k", "1g" or "1048576". Returns 0 or -1. */
int util_parse_size(const char *s, size_t *out);

/* Make room in a growing array: when *cap is reached, double it (the first
 * time: `first` elements) and return the moved array. Aborts when memory
 * is exhausted: callers keep small, bounded arrays (chain hops, fetch keys)
 * and cannot go on without them. */
void *util_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first);

/* Same address and port. */
bool util_addr_equal(const struct sockaddr *a, const struct sockaddr *b);
/* The same address, whatever the ports. */
bool util_addr_same_host(const struct sockaddr *a, const struct sockaddr *b);

#endif
