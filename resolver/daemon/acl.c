/* CIDR access control; see acl.h. */
#include "resolver/daemon/acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int acl_add(struct acl *acl, const char *cidr) {
  if (acl->n == ACL_MAX) return -1;
  char buf[64];
  if (strlen(cidr) >= sizeof buf) return -1;
  strcpy(buf, cidr);
  char *slash = strchr(buf, '/');
  long prefix = -1;
  if (slash) {
    char *end;
    *slash = 0;
    errno = 0;
    prefix = strtol(slash + 1, &end, 10);
    if (errno || *end || end == slash + 1 || prefix < 0) return -1;
  }
  struct acl_entry *e = &acl->e[acl->n];
  memset(e, 0, sizeof *e);
  if (inet_pton(AF_INET, buf, e->addr) == 1) {
    e->family = AF_INET;
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return -1;
  } else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
    e->family = AF_INET6;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return -1;
  } else {
    return -1;
  }
  e->prefix = (unsigned)prefix;
  acl->n++;
  return 0;
}

void acl_set_loopback(struct acl *acl) {
  acl->n = 0;
  acl_add(acl, "127.0.0.0/8");
  acl_add(acl, "::1/128");
}

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits) {
  unsigned full = bits / 8, rest = bits % 8;
  if (memcmp(a, b, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

bool acl_allows(const struct acl *acl, const struct sockaddr *sa) {
  int family = sa->sa_family;
  const uint8_t *addr;
  if (family == AF_INET) {
    addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
  } else if (family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    addr = (const uint8_t *)a6;
    if (IN6_IS_ADDR_V4MAPPED(a6)) {
      family = AF_INET;
      addr += 12;
    }
  } else {
    return false;
  }
  for (size_t i = 0; i < acl->n; i++) {
    const struct acl_entry *e = &acl->e[i];
    if (e->family == family && prefix_match(addr, e->addr, e->prefix)) return true;
  }
  return false;
}
