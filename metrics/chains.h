/*
 * The chain tables behind /chains: the most recent chains, the slowest of
 * the last hour, and the dangling and broken (looping, too long) chains seen
 * lately, each with its hops and timings.
 *
 * Each worker owns one set of tables, fixed in size (entries and the bytes
 * of each entry), written only by that worker; the endpoint merges copies.
 * Entries keep names in wire format so recording a chain is a few copies;
 * text is made when the JSON is.
 *
 * What is recorded: every chain that needed the network or the shared tier,
 * and every dangling or broken chain. A chain answered entirely from memory
 * counts in the metrics only: it would say nothing new. A repeat of the
 * latest entry of a table (same first name and type) bumps its count
 * instead of pushing the others out.
 */
#ifndef CHAINDNS_CHAINS_H
#define CHAINDNS_CHAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CHAINS_REC_HOPS 16    /* hops kept per entry (longer chains: the first ones) */
#define CHAINS_REC_NAMES 1600 /* bytes of wire names per entry */
#define CHAINS_RECENT 32
#define CHAINS_SLOWEST 16
#define CHAINS_DANGLING 16
#define CHAINS_BROKEN 16
#define CHAINS_SLOW_WINDOW_S 3600

/* A chain step as kept: names are offsets into the entry's names. */
struct chains_rec_step {
  uint16_t name;       /* the name resolved (owner of a hop, or the last name) */
  uint16_t target;     /* a hop's target; 0xffff for the final step */
  uint16_t zone;       /* 0xffff when not from the network */
  uint8_t source;      /* enum stats_source */
  int8_t crossed_zone; /* 1, 0, or -1 unknown */
  uint8_t kind;        /* a hop's enum stats_hop (= enum hop_kind) */
  uint8_t sec;         /* DNSSEC state of the step's data (enum sec_state) */
  uint32_t ttl;
  uint64_t elapsed_us;
  uint8_t family;      /* 0, AF_INET or AF_INET6: the server asked */
  uint8_t addr[16];
  uint16_t port;
};

struct chains_rec {
  int64_t when_us;        /* wall clock, microseconds */
  uint64_t duration_us;
  uint32_t count;         /* times seen in a row */
  uint16_t qtype;
  uint8_t outcome;        /* enum stats_outcome */
  uint8_t purpose;        /* enum stats_purpose */
  uint8_t length;         /* CNAMEs on the chain */
  uint8_t sec;            /* the answer's DNSSEC state (enum sec_state) */
  uint8_t nhops;          /* hops kept */
  bool has_final;
  uint16_t names_len;
  struct chains_rec_step hops[CHAINS_REC_HOPS];
  struct chains_rec_step final;
  char why[200];          /* the EDE text of a failure */
  uint8_t names[CHAINS_REC_NAMES];
};

struct chains_ring {
  size_t next, used;
};

struct chains_tables {
  struct chains_rec recent[CHAINS_RECENT];
  struct chains_rec slowest[CHAINS_SLOWEST];
  struct chains_rec dangling[CHAINS_DANGLING];
  struct chains_rec broken[CHAINS_BROKEN];
  struct chains_ring recent_ring, dangling_ring, broken_ring;
  size_t slowest_used;
};

/* Building a record: start, then add names and steps. Names that do not
 * fit are dropped (the step keeps offset 0xffff). */
void chains_rec_start(struct chains_rec *r, const uint8_t *qname, size_t qlen, uint16_t qtype);
uint16_t chains_rec_name(struct chains_rec *r, const uint8_t *wire, size_t len);
void chains_rec_server(struct chains_rec_step *s, const struct sockaddr_storage *ss);

void chains_tables_init(struct chains_tables *t);

/* File a finished chain where it belongs (see above). */
void chains_tables_add(struct chains_tables *t, const struct chains_rec *r, bool from_memory);

/* The JSON of /chains from the workers' tables (copies): an object with
 * "recent", "slowest", "dangling" and "broken" arrays, newest (or slowest)
 * first. Returns a malloc'd NUL-terminated string. */
char *chains_tables_json(const struct chains_tables *const *tables, size_t n, int64_t now_us);

/* One record as a JSON object, appended to a growing buffer (also used by
 * /trace). */
struct jbuf;
void chains_rec_json(struct jbuf *b, const struct chains_rec *r);

#endif
