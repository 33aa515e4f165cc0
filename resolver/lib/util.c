/* Shared helpers: randomness, clocks, address parsing and printing. */
#include "resolver/lib/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Per-thread pool refilled from the kernel: one syscall per 64 values. */
static __thread uint32_t rnd_pool[64];
static __thread unsigned rnd_left;

uint32_t util_random(void) {
  if (rnd_left == 0) {
    size_t got = 0;
    while (got < sizeof rnd_pool) {
      ssize_t n = getrandom((char *)rnd_pool + got, sizeof rnd_pool - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        abort(); /* no entropy source: predictable TXIDs are not an option */
      }
      got += (size_t)n;
    }
    rnd_left = 64;
  }
  return rnd_pool[--rnd_left];
}

/* Seconds added to the wall clock: 0 except under the scenario tests'
 * controllable clock (util_set_clock_offset). Relaxed atomics: a reader may
 * see the old offset for a moment, which the tests wait out. */
static int64_t clock_offset;

void util_set_clock_offset(int64_t seconds) {
  __atomic_store_n(&clock_offset, seconds, __ATOMIC_RELAXED);
}

int64_t util_now_sec(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec + __atomic_load_n(&clock_offset, __ATOMIC_RELAXED);
}

int64_t util_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((int64_t)ts.tv_sec + __atomic_load_n(&clock_offset, __ATOMIC_RELAXED)) * 1000000 +
         ts.tv_nsec / 1000;
}

uint64_t util_mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t util_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

const char *util_ip_str(int family, const void *addr, char *buf, size_t len) {
  if (!family || !inet_ntop(family, addr, buf, (socklen_t)len)) snprintf(buf, len, "-");
  return buf;
}

const char *util_addr_str(const struct sockaddr *sa, char *buf, size_t len) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
  } else {
    snprintf(buf, len, "?");
  }
  return buf;
}

static int parse_port(const char *s, int *port) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 0 || v > 65535) return -1;
  *port = (int)v;
  return 0;
}

int util_parse_addr_port(const char *s, int default_port,
                         struct sockaddr_storage *out, socklen_t *outlen) {
  char host[INET6_ADDRSTRLEN + 2];
  int port = default_port;
  const char *colon;
  memset(out, 0, sizeof *out);
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (!close || (size_t)(close - s - 1) >= sizeof host) return -1;
    memcpy(host, s + 1, (size_t)(close - s - 1));
    host[close - s - 1] = 0;
    if (close[1] == ':') {
      if (parse_port(close + 2, &port)) return -1;
    } else if (close[1] != 0) {
      return -1;
    }
  } else if ((colon = strrchr(s, ':')) && strchr(s, ':') == colon) {
    if ((size_t)(colon - s) >= sizeof host) return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (parse_port(colon + 1, &port)) return -1;
  } else {
    if (strlen(s) >= sizeof host) return -1;
    strcpy(host, s);
  }
  if (port < 0) return -1;
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    *outlen = sizeof *in;
    return 0;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    *outlen = sizeof *in6;
    return 0;
  }
  return -1;
}

int util_parse_size(const char *s, size_t *out) {
  char *end;
  /* strtoull skips blanks and accepts a sign ("-1" wraps to 2^64-1): only
   * a leading digit is a size. */
  if (!isdigit((unsigned char)s[0])) return -1;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return -1;
  unsigned long long mul = 1;
  switch (tolower((unsigned char)*end)) {
  case 0: break;
  case 'k': mul = 1024ull; end++; break;
  case 'm': mul = 1024ull * 1024; end++; break;
  case 'g': mul = 1024ull * 1024 * 1024; end++; break;
  default: return -1;
  }
  if (*end == 'b' || *end == 'B') end++;
  if (*end) return -1;
  if (v > SIZE_MAX / mul) return -1;
  *out = (size_t)(v * mul);
  return 0;
}

bool util_addr_equal(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  if (a->sa_family == AF_INET6) {
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
  }
  return false;
}

bool util_addr_same_host(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family) return false;
  if (a->sa_family == AF_INET)
    return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
           ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
  if (a->sa_family == AF_INET6)
    return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr,
                  sizeof(struct in6_addr)) == 0;
  return false;
}

void *util_grow(void *arr, size_t n, size_t *cap, size_t elem, size_t first) {
  if (n < *cap) return arr;
  size_t ncap = *cap ? *cap * 2 : first;
  void *grown = realloc(arr, ncap * elem);
  if (!grown) abort();
  *cap = ncap;
  return grown;
}
