/* Outbound UDP/TCP queries with matching, timeouts and joining; see
 * upstream.h. */
#include "resolver/daemon/upstream.h"

#include <stdlib.h>
#include <string.h>

#include "resolver/lib/log.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"
#include "resolver/lib/wire.h"

#define UDP_BUF 4096
#define INFLIGHT_BUCKETS 1024
#define KEY_MAX (28 + 255 + 4)
#define NOCAPS 64                     /* servers remembered not to echo case */
#define NOCAPS_US (3600ull * 1000000) /* for an hour */

struct up_waiter {
  struct up_waiter *next;
  struct up_query *q;
  up_cb cb;
  void *arg;
  bool cancelled;
};

struct up_query {
  struct up_query *hnext; /* inflight bucket chain; NULL when detached */
  upstream_t *up;
  uint8_t key[KEY_MAX];
  size_t klen;
  uint64_t hash;
  bool in_table, delivering, closing;
  int open_handles;
  struct up_waiter *waiters;

  struct sockaddr_storage addr;
  socklen_t addrlen;
  bool tcp;
  bool edns;
  bool caps; /* the name went out in random letter case (0x20) */
  uint16_t id;
  ldns_rdf *qname;
  ldns_rr_type qtype;
  uint8_t sent_name[255]; /* the name as written in the query */
  size_t sent_len;
  uint32_t timeout_ms;
  uint64_t sent_us;

  uv_timer_t timer;
  bool udp_open, tcp_open; /* handles initialised and not yet closed */
  uv_udp_t udp;
  uv_tcp_t tcp_h;
  uv_connect_t connect;
  uv_udp_send_t udp_send;
  uv_write_t write;
  uint8_t *wire; /* query (with the TCP length prefix when tcp) */
  size_t wirelen;
  uint8_t *rbuf;
  size_t rlen, rcap;
};

#define POOL 32 /* closed queries kept for reuse: too big for malloc's fast bins */

struct upstream {
  uv_loop_t *loop;
  struct up_query *pool[POOL];
  size_t npool;
  size_t live;         /* queries allocated and not yet freed */
  uint8_t rx[UDP_BUF]; /* every UDP reply is read here and parsed at once */
  uint16_t edns_size;
  bool dnssec_ok;     /* DO=1 on queries: ask for RRSIGs and NSEC/NSEC3 */
  struct up_query *buckets[INFLIGHT_BUCKETS];
  struct up_stats stats;
  bool caps;                 /* randomise the letter case of outbound names */
  uint32_t in_flight, max_in_flight;
  struct {
    struct sockaddr_storage addr;
    uint64_t until_us;
  } nocaps[NOCAPS];          /* servers that answered over TCP in another case */
  unsigned nocaps_next;
  bool closing;
};

upstream_t *upstream_new(uv_loop_t *loop, uint16_t edns_size, bool case_randomization) {
  upstream_t *up = calloc(1, sizeof *up);
  if (!up) return NULL;
  up->loop = loop;
  up->edns_size = edns_size;
  up->caps = case_randomization;
  up->max_in_flight = UINT32_MAX;
  return up;
}

void upstream_set_max_in_flight(upstream_t *up, uint32_t n) { up->max_in_flight = n; }

void upstream_set_dnssec_ok(upstream_t *up, bool on) { up->dnssec_ok = on; }

static bool echoes_case(const upstream_t *up, const struct sockaddr *a) {
  uint64_t now = util_mono_us();
  for (unsigned i = 0; i < NOCAPS; i++)
    if (up->nocaps[i].until_us > now &&
        util_addr_equal((const struct sockaddr *)&up->nocaps[i].addr, a))
      return false;
  return true;
}

static void forget_case(upstream_t *up, const struct sockaddr_storage *a) {
  if (!echoes_case(up, (const struct sockaddr *)a)) return;
  unsigned i = up->nocaps_next++ % NOCAPS;
  up->nocaps[i].addr = *a;
  up->nocaps[i].until_us = util_mono_us() + NOCAPS_US;
  up->stats.case_fallbacks++;
}

const struct up_stats *upstream_stats(const upstream_t *up) { return &up->stats; }

static uint64_t key_hash(const uint8_t *k, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ k[i]) * 1099511628211ull;
  return h;
}

static size_t make_key(uint8_t *k, const struct sockaddr *addr, socklen_t alen,
                       const ldns_rdf *qname, ldns_rr_type qtype, bool tcp, bool edns) {
  size_t n = 0;
  memset(k, 0, 28);
  memcpy(k, addr, alen < 28 ? alen : 28);
  n = 28;
  n += name_key(qname, k + n);
  k[n++] = (uint8_t)(qtype >> 8);
  k[n++] = (uint8_t)qtype;
  k[n++] = tcp;
  k[n++] = edns;
  return n;
}

static void table_remove(struct up_query *q) {
  if (!q->in_table) return;
  struct up_query **pp = &q->up->buckets[q->hash % INFLIGHT_BUCKETS];
  while (*pp && *pp != q) pp = &(*pp)->hnext;
  if (*pp) *pp = q->hnext;
  q->in_table = false;
  q->up->in_flight--;
  q->hnext = NULL;
}

static void free_upstream(upstream_t *up) {
  for (size_t i = 0; i < up->npool; i++) free(up->pool[i]);
  free(up);
}

/* A finished query's memory goes back to the pool; a closed upstream goes
 * when its last query does. */
static void free_query(struct up_query *q) {
  upstream_t *up = q->up;
  free(q->wire);
  free(q->rbuf);
  if (q->qname) ldns_rdf_deep_free(q->qname);
  if (!up->closing && up->npool < POOL) up->pool[up->npool++] = q;
  else free(q);
  if (--up->live == 0 && up->closing) free_upstream(up);
}

static struct up_query *new_query(upstream_t *up) {
  struct up_query *q = up->npool ? up->pool[--up->npool] : malloc(sizeof *q);
  if (!q) return NULL;
  memset(q, 0, sizeof *q);
  q->up = up;
  up->live++;
  return q;
}

static void on_handle_closed(uv_handle_t *h) {
  struct up_query *q = h->data;
  if (--q->open_handles == 0) free_query(q);
}

/* Stop all I/O; the query frees itself when libuv has closed the handles. */
static void close_query(struct up_query *q) {
  if (q->closing) return;
  q->closing = true;
  table_remove(q);
  uv_close((uv_handle_t *)&q->timer, on_handle_closed);
  if (q->udp_open) uv_close((uv_handle_t *)&q->udp, on_handle_closed);
  if (q->tcp_open) uv_close((uv_handle_t *)&q->tcp_h, on_handle_closed);
  q->udp_open = q->tcp_open = false;
}

/* Hand the outcome to every waiter still interested, then close. Waiters
 * may start new queries or cancel others from their callbacks: the query is
 * out of the table first, and cancelled waiters are skipped. */
static void complete(struct up_query *q, enum up_status st, const ldns_pkt *pkt) {
  if (q->closing) return;
  table_remove(q);
  q->delivering = true;
  uint64_t rtt_us = util_mono_us() - q->sent_us;
  uint32_t rtt = (uint32_t)(rtt_us / 1000);
  if (st == UP_OK) hist_observe(&q->up->stats.rtt, &hist_latency, rtt_us);
  if (st == UP_TIMEOUT) q->up->stats.timeouts++;
  if (st == UP_ERROR) q->up->stats.errors++;
  for (struct up_waiter *w = q->waiters; w; w = w->next)
    if (!w->cancelled) {
      w->cancelled = true; /* delivered: a later cancel is a no-op */
      w->cb(w->arg, st, pkt, rtt);
    }
  struct up_waiter *w = q->waiters;
  while (w) {
    struct up_waiter *next = w->next;
    free(w);
    w = next;
  }
  q->waiters = NULL;
  close_query(q);
}

/* The length of the uncompressed question name at offset 12, or 0. */
static size_t question_name_len(const uint8_t *d, size_t len) {
  size_t off = 12;
  while (off < len && off - 12 < 255) {
    uint8_t l = d[off];
    if (l == 0) return off + 1 - 12;
    if (l & 0xc0) return 0;
    off += 1 + (size_t)l;
  }
  return 0;
}

enum match { M_NO, M_OK, M_CASE };

/* Match a reply against the query: QR, TXID, one question with our name,
 * type and class. The name must come back in the letter case we sent it
 * (0x20, draft-vixie-dnsext-dns0x20); over UDP a reply that differs only in
 * case is M_CASE (the caller asks again over TCP), over TCP it is accepted
 * and the server is remembered as one that does not echo case. Before
 * parsing, the question name is put back into the case the iterator asked,
 * so the records compressed against it do not carry our random case. */
static enum match match_reply(struct up_query *q, uint8_t *data, size_t len, ldns_pkt **out) {
  *out = NULL;
  if (len < 12 || !(data[2] & 0x80) || ((unsigned)data[0] << 8 | data[1]) != q->id ||
      data[4] != 0 || data[5] != 1)
    return M_NO;
  size_t n = question_name_len(data, len);
  if (n != q->sent_len || n + 16 > len) return M_NO;
  bool exact = true;
  for (size_t i = 0; i < n; i++) {
    if (data[12 + i] == q->sent_name[i]) continue;
    if (name_lower(data[12 + i]) != name_lower(q->sent_name[i])) return M_NO;
    exact = false;
  }
  if (!exact && q->caps) {
    if (!q->tcp) return M_CASE;
    forget_case(q->up, &q->addr);
  }
  memcpy(data + 12, ldns_rdf_data(q->qname), n);
  ldns_pkt *pkt = NULL;
  if (wire_parse(&pkt, data, len) != LDNS_STATUS_OK) return M_NO;
  ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
  if (!question || ldns_rr_get_type(question) != q->qtype ||
      ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) {
    ldns_pkt_free(pkt);
    return M_NO;
  }
  *out = pkt;
  return M_OK;
}

static void on_timeout(uv_timer_t *t) { complete(t->data, UP_TIMEOUT, NULL); }

static int retry_tcp(struct up_query *q);

/* ---- UDP ----------------------------------------------------------------- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct up_query *q = h->data;
  buf->base = (char *)q->up->rx; /* valid until udp_recv returns, as needed */
  buf->len = UDP_BUF;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
                     unsigned flags) {
  struct up_query *q = h->data;
  if (q->closing || n == 0 || !from) return;
  if (n < 0) {
    /* ICMP port unreachable and friends: the server is not there. */
    complete(q, UP_ERROR, NULL);
    return;
  }
  if ((flags & UV_UDP_PARTIAL) || !util_addr_equal(from, (struct sockaddr *)&q->addr)) {
    q->up->stats.mismatched++;
    return;
  }
  ldns_pkt *pkt;
  switch (match_reply(q, (uint8_t *)buf->base, (size_t)n, &pkt)) {
  case M_OK:
    complete(q, UP_OK, pkt);
    ldns_pkt_free(pkt);
    return;
  case M_CASE:
    /* Right port and TXID, the name in another case: a server that does
     * not echo case, or a forgery that guessed port and TXID. Only a TCP
     * answer can tell; a forger cannot make us drop the case check. */
    q->up->stats.case_mismatched++;
    if (retry_tcp(q)) complete(q, UP_ERROR, NULL);
    return;
  case M_NO:
    q->up->stats.mismatched++;
    return;
  }
}

static void udp_sent(uv_udp_send_t *req, int status) {
  struct up_query *q = req->data;
  if (status < 0 && status != UV_ECANCELED && !q->closing) complete(q, UP_ERROR, NULL);
}

static int start_udp(struct up_query *q) {
  int rc = uv_udp_init(q->up->loop, &q->udp);
  if (rc) return rc;
  q->open_handles++;
  q->udp_open = true;
  q->udp.data = q;
  struct sockaddr_storage local;
  memset(&local, 0, sizeof local);
  local.ss_family = q->addr.ss_family; /* any address, port 0: kernel picks a random port */
  if ((rc = uv_udp_bind(&q->udp, (struct sockaddr *)&local, 0))) return rc;
  if ((rc = uv_udp_recv_start(&q->udp, udp_alloc, udp_recv))) return rc;
  uv_buf_t b = uv_buf_init((char *)q->wire, (unsigned)q->wirelen);
  q->udp_send.data = q;
  q->up->stats.sent_udp++;
  return uv_udp_send(&q->udp_send, &q->udp, &b, 1, (struct sockaddr *)&q->addr, udp_sent);
}

/* ---- TCP ----------------------------------------------------------------- */

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct up_query *q = h->data;
  if (q->rcap - q->rlen < 4096 && q->rcap < 65537 + 4096) {
    size_t ncap = q->rcap ? q->rcap * 2 : 4096;
    uint8_t *nb = realloc(q->rbuf, ncap);
    if (nb) {
      q->rbuf = nb;
      q->rcap = ncap;
    }
  }
  buf->base = (char *)q->rbuf + q->rlen;
  buf->len = q->rcap - q->rlen;
}

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct up_query *q = s->data;
  if (q->closing) return;
  if (n < 0) {
    complete(q, UP_ERROR, NULL);
    return;
  }
  q->rlen += (size_t)n;
  if (q->rlen < 2) return;
  size_t need = ((size_t)q->rbuf[0] << 8 | q->rbuf[1]) + 2;
  /* Not all there yet: tcp_alloc grows the buffer for the rest (a read
   * that filled it is no reason to give up; if it cannot grow, the next
   * read fails with UV_ENOBUFS). */
  if (q->rlen < need) return;
  ldns_pkt *pkt;
  if (match_reply(q, q->rbuf + 2, need - 2, &pkt) != M_OK) {
    q->up->stats.mismatched++;
    complete(q, UP_ERROR, NULL); /* a TCP stream cannot be resynchronised */
    return;
  }
  complete(q, UP_OK, pkt);
  ldns_pkt_free(pkt);
}

static void tcp_written(uv_write_t *req, int status) {
  struct up_query *q = req->data;
  if (status < 0 && !q->closing) complete(q, UP_ERROR, NULL);
}

static void tcp_connected(uv_connect_t *req, int status) {
  struct up_query *q = req->data;
  if (q->closing) return;
  if (status < 0) {
    complete(q, UP_ERROR, NULL);
    return;
  }
  uv_buf_t b = uv_buf_init((char *)q->wire, (unsigned)q->wirelen);
  q->write.data = q;
  if (uv_write(&q->write, (uv_stream_t *)&q->tcp_h, &b, 1, tcp_written) ||
      uv_read_start((uv_stream_t *)&q->tcp_h, tcp_alloc, tcp_read))
    complete(q, UP_ERROR, NULL);
}

static int start_tcp(struct up_query *q) {
  int rc = uv_tcp_init(q->up->loop, &q->tcp_h);
  if (rc) return rc;
  q->open_handles++;
  q->tcp_open = true;
  q->tcp_h.data = q;
  q->connect.data = q;
  q->up->stats.sent_tcp++;
  return uv_tcp_connect(&q->connect, &q->tcp_h, (struct sockaddr *)&q->addr, tcp_connected);
}

/* ---- public -------------------------------------------------------------- */

/* The name to send: as asked, or with every letter's case chosen at
 * random. */
static void choose_name(struct up_query *q) {
  const uint8_t *name = ldns_rdf_data(q->qname);
  q->sent_len = ldns_rdf_size(q->qname);
  if (q->sent_len > sizeof q->sent_name) q->sent_len = sizeof q->sent_name;
  memcpy(q->sent_name, name, q->sent_len);
  if (!q->caps) return;
  uint32_t bits = 0;
  unsigned left = 0;
  for (size_t i = 0; i < q->sent_len; i++) {
    uint8_t c = name_lower(q->sent_name[i]);
    if (c < 'a' || c > 'z') continue;
    if (left == 0) {
      bits = util_random();
      left = 32;
    }
    q->sent_name[i] = (bits & 1) ? (uint8_t)(c - 32) : c;
    bits >>= 1;
    left--;
  }
}

/* The query: header, question, and an OPT with our size unless the server
 * is known to reject EDNS. Over TCP, after its two-byte length. Label
 * length bytes are below 'A', so choose_name() only touches letters. */
static int build_wire(struct up_query *q, bool edns, uint16_t edns_size) {
  uint8_t buf[2 + 12 + 255 + 4 + 11];
  struct wire w;
  wire_init(&w, buf, sizeof buf);
  if (q->tcp) wire_u16(&w, 0);
  wire_u16(&w, q->id);
  wire_u16(&w, 0); /* QUERY, RD=0: iterative */
  wire_u16(&w, 1);
  wire_u16(&w, 0);
  wire_u16(&w, 0);
  wire_u16(&w, edns ? 1 : 0);
  choose_name(q);
  wire_name(&w, q->sent_name, q->sent_len, false);
  wire_u16(&w, (uint16_t)q->qtype);
  wire_u16(&w, LDNS_RR_CLASS_IN);
  if (edns) wire_opt(&w, edns_size, 0, q->up->dnssec_ok, -1, NULL);
  if (w.overflow) return -1;
  if (q->tcp) wire_put_u16(&w, 0, (uint16_t)(w.len - 2));
  q->wire = malloc(w.len);
  if (!q->wire) return -1;
  memcpy(q->wire, buf, w.len);
  q->wirelen = w.len;
  return 0;
}

/* Ask the same server again over TCP, with a new TXID and a new case
 * pattern, and a fresh timeout. */
static int retry_tcp(struct up_query *q) {
  if (q->udp_open) {
    uv_close((uv_handle_t *)&q->udp, on_handle_closed);
    q->udp_open = false;
  }
  free(q->wire);
  q->wire = NULL;
  q->tcp = true;
  q->id = (uint16_t)util_random();
  if (build_wire(q, q->edns, q->up->edns_size) || start_tcp(q)) return -1;
  uv_timer_start(&q->timer, on_timeout, q->timeout_ms, 0);
  return 0;
}

static up_waiter_t *add_waiter(struct up_query *q, up_cb cb, void *arg) {
  up_waiter_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->q = q;
  w->cb = cb;
  w->arg = arg;
  w->next = q->waiters;
  q->waiters = w;
  return w;
}

up_waiter_t *upstream_query(upstream_t *up, const struct sockaddr *addr, socklen_t addrlen,
                            const ldns_rdf *qname, ldns_rr_type qtype, bool tcp, bool edns,
                            uint32_t timeout_ms, up_cb cb, void *arg) {
  if (up->closing) return NULL;
  uint8_t key[KEY_MAX];
  size_t klen = make_key(key, addr, addrlen, qname, qtype, tcp, edns);
  uint64_t h = key_hash(key, klen);
  for (struct up_query *q = up->buckets[h % INFLIGHT_BUCKETS]; q; q = q->hnext) {
    if (q->hash == h && q->klen == klen && memcmp(q->key, key, klen) == 0) {
      up->stats.joined++;
      return add_waiter(q, cb, arg);
    }
  }
  if (up->in_flight >= up->max_in_flight) {
    up->stats.shed++;
    return NULL;
  }
  struct up_query *q = new_query(up);
  if (!q) return NULL;
  memcpy(q->key, key, klen);
  q->klen = klen;
  q->hash = h;
  memcpy(&q->addr, addr, addrlen);
  q->addrlen = addrlen;
  q->tcp = tcp;
  q->edns = edns;
  q->timeout_ms = timeout_ms;
  q->id = (uint16_t)util_random();
  q->qname = ldns_rdf_clone(qname);
  q->qtype = qtype;
  q->caps = up->caps && echoes_case(up, addr);
  up_waiter_t *w = add_waiter(q, cb, arg);
  if (!q->qname || !w || build_wire(q, edns, up->edns_size)) {
    free(w);
    free_query(q);
    return NULL;
  }
  uv_timer_init(up->loop, &q->timer);
  q->timer.data = q;
  q->open_handles = 1;
  q->sent_us = util_mono_us();
  int rc = tcp ? start_tcp(q) : start_udp(q);
  if (rc) {
    char a[64];
    log_warn("cannot send to %s: %s", util_addr_str(addr, a, sizeof a), uv_strerror(rc));
    q->waiters = NULL;
    free(w);
    close_query(q);
    return NULL;
  }
  uv_timer_start(&q->timer, on_timeout, timeout_ms, 0);
  q->hnext = up->buckets[h % INFLIGHT_BUCKETS];
  up->buckets[h % INFLIGHT_BUCKETS] = q;
  q->in_table = true;
  up->in_flight++;
  return w;
}

void upstream_cancel(up_waiter_t *w) {
  if (!w || w->cancelled) return;
  struct up_query *q = w->q;
  w->cancelled = true;
  if (q->delivering) return; /* complete() frees the waiters */
  struct up_waiter **pp = &q->waiters;
  while (*pp && *pp != w) pp = &(*pp)->next;
  if (*pp) *pp = w->next;
  free(w);
  if (!q->waiters) close_query(q); /* nobody wants the answer any more */
}

void upstream_close(upstream_t *up) {
  up->closing = true;
  for (int i = 0; i < INFLIGHT_BUCKETS; i++) {
    while (up->buckets[i]) {
      struct up_query *q = up->buckets[i];
      struct up_waiter *w = q->waiters;
      while (w) {
        struct up_waiter *next = w->next;
        free(w);
        w = next;
      }
      q->waiters = NULL;
      close_query(q); /* removes it from the bucket */
    }
  }
  if (up->live == 0) free_upstream(up); /* else the last query closing does */
}
