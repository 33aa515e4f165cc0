/*
 * Domain-name helpers on top of ldns_rdf dnames. DNS names compare
 * case-insensitively (RFC 4343); these helpers never allocate.
 */
#ifndef CHAINDNS_NAME_H
#define CHAINDNS_NAME_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>

/* ASCII lower case of one byte (DNS names fold only A-Z, RFC 4343). */
static inline uint8_t name_lower(uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

/* Equal, ignoring ASCII case. */
bool name_equal(const ldns_rdf *a, const ldns_rdf *b);

/* sub equals parent or lies below it ("in bailiwick of"). */
bool name_in(const ldns_rdf *sub, const ldns_rdf *parent);

/* Canonical (lower-case) wire form into buf (>= 255 bytes). Returns the
 * length, or 0 if the rdf is not a valid dname. */
size_t name_key(const ldns_rdf *name, uint8_t *buf);

/* Lower-case presentation form of a wire name ("www.example.com.", the
 * root "."); bytes outside letters, digits, '-' and '_' are written as \DDD,
 * so the text is printable and unambiguous (a Redis key, a metric label).
 * Returns the length, or 0 if it does not fit in cap. */
size_t name_wire_text(const uint8_t *wire, size_t len, char *out, size_t cap);

/* Text form ("www.example.com.") into buf; always NUL-terminated. */
const char *name_str(const ldns_rdf *name, char *buf, size_t len);

#endif
