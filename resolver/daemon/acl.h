/*
 * Client access control: a list of CIDR prefixes allowed to use the
 * resolver. Anything else gets REFUSED. Immutable once built; shared
 * read-only by workers.
 */
#ifndef CHAINDNS_ACL_H
#define CHAINDNS_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ACL_MAX 64

struct acl_entry {
  int family; /* AF_INET or AF_INET6 */
  uint8_t addr[16];
  unsigned prefix;
};

struct acl {
  struct acl_entry e[ACL_MAX];
  size_t n;
};

/* Append "10.0.0.0/8", "::1/128" or a bare address. Returns 0 or -1. */
int acl_add(struct acl *acl, const char *cidr);

/* The loopback default: 127.0.0.0/8 and ::1/128. */
void acl_set_loopback(struct acl *acl);

/* IPv4-mapped IPv6 clients are matched as IPv4. */
bool acl_allows(const struct acl *acl, const struct sockaddr *sa);

#endif
