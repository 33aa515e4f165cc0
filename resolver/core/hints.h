/*
 * Root hints: the names and addresses of the root servers, where iterative
 * resolution starts when nothing better is cached. Built in (IANA's list) or
 * read from a file in the standard named.root format.
 *
 * Immutable after loading; shared read-only by all workers.
 */
#ifndef CHAINDNS_HINTS_H
#define CHAINDNS_HINTS_H

#include <ldns/ldns.h>
#include <stdbool.h>

struct hints {
  ldns_rr_list *ns;    /* ". NS x" records */
  ldns_rr_list *addrs; /* A/AAAA records of the NS names */
};

/* Built-in IANA root hints. Returns NULL on allocation failure. */
struct hints *hints_builtin(void);

/* Load a named.root-style file. On failure returns NULL and writes a message
 * naming the file and line into err. */
struct hints *hints_load(const char *path, char *err, size_t errlen);

void hints_free(struct hints *h);

/* Do these hints name IANA's root (an address of one of its servers, now or
 * formerly)? Otherwise the root is a private one, which IANA's trust anchor
 * cannot validate. */
bool hints_are_iana(const struct hints *h);

#endif
