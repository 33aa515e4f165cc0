/*
 * The input format of fuzz_record, shared with make_record_seeds.c, which
 * writes the seed corpus with the real encoder.
 *
 *   byte 0      control
 *                 bit 0     decode with the fleet secret below
 *                 bit 1     with the secret: first replace the value's last
 *                           32 bytes with the right HMAC (the fuzzer cannot
 *                           forge one, so this reaches the checks after it)
 *                 bits 2-3  the key looked up: 0 or 3 an RRset (or NODATA),
 *                           1 NXDOMAIN, 2 a chain record
 *                 bits 4-7  the type looked up: fuzz_record_types[]
 *   byte 1      n, the owner name's length (0: www.example.com.)
 *   n bytes     the owner, uncompressed wire format (lower-cased before use)
 *   the rest    the value, as read from Redis
 */
#ifndef CHAINDNS_FUZZ_RECORD_H
#define CHAINDNS_FUZZ_RECORD_H

#include <stdint.h>

#define FUZZ_RECORD_NOW 1767225600 /* the harness's clock: 2026-01-01T00:00:00Z */
#define FUZZ_RECORD_PREFIX "chaindns"
#define FUZZ_RECORD_SECRET "fuzz-fleet-secret-0123456789"
#define FUZZ_RECORD_MAX_NAMES 16 /* chain names accepted (max-chain-length + 1) */

#define FUZZ_RC_SECRET 0x01
#define FUZZ_RC_RESIGN 0x02
#define FUZZ_RC_KIND_SHIFT 2
#define FUZZ_RC_TYPE_SHIFT 4

static const uint16_t fuzz_record_types[16] = {
    1 /* A */,     2 /* NS */,      5 /* CNAME */, 6 /* SOA */,   12 /* PTR */,
    15 /* MX */,   16 /* TXT */,    28 /* AAAA */, 33 /* SRV */,  43 /* DS */,
    46 /* RRSIG */, 47 /* NSEC */,  48 /* DNSKEY */, 65 /* HTTPS */, 257 /* CAA */,
    65280 /* private use: "TYPE65280" in the key */};

#endif
