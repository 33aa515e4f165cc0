/* UDP listeners with recvmmsg/sendmmsg and the answer-cache fast path; see
 * udp.h. */
#include "resolver/daemon/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cache/anscache.h"
#include "resolver/daemon/observe.h"
#include "resolver/daemon/request.h"
#include "resolver/lib/util.h"
#include "resolver/daemon/worker_priv.h"

#define BATCH 64       /* datagrams per recvmmsg / sendmmsg */
#define DGRAM 4096     /* largest query read; larger ones are dropped */
#define ROUNDS 4       /* batches per wake-up, so other work is not starved */

/* One listening socket. Made by udp_listen, freed once its handle closes. */
struct udp_listener {
  uv_poll_t poll;
  int fd;           /* ours from udp_listen on; closed with the handle */
  struct worker *w; /* the worker whose loop polls it */
  udp_miss_fn miss; /* with miss_arg: set by udp_listen, never changed */
  void *miss_arg;
  bool open;        /* until udp_close */
};

struct udp_batch {
  struct mmsghdr in[BATCH], out[BATCH];
  struct iovec iin[BATCH], iout[BATCH];
  struct sockaddr_storage from[BATCH];
  uint8_t rx[BATCH][DGRAM];
  uint8_t tx[BATCH][DGRAM];
};

struct udp_batch *udp_batch_new(void) {
  struct udp_batch *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  for (int i = 0; i < BATCH; i++) {
    b->iin[i] = (struct iovec){b->rx[i], DGRAM};
    b->in[i].msg_hdr.msg_iov = &b->iin[i];
    b->in[i].msg_hdr.msg_iovlen = 1;
    b->in[i].msg_hdr.msg_name = &b->from[i];
    b->iout[i].iov_base = b->tx[i];
    b->out[i].msg_hdr.msg_iov = &b->iout[i];
    b->out[i].msg_hdr.msg_iovlen = 1;
  }
  return b;
}

void udp_batch_free(struct udp_batch *b) { free(b); }

/* ---- the fast path --------------------------------------------------------------- */

static void count_fast(struct worker *w, const struct ac_query *q, const struct ac_meta *m,
                       uint64_t t0) {
  w->stats.queries[ST_UDP][stats_qtype(q->qtype)]++;
  w->stats.rcode[m->rcode & 0x0f]++;
  if (!t0) return; /* instrumentation off */
  uint64_t us = util_mono_us() - t0;
  hist_observe(&w->stats.answer_latency[SS_MEMORY], &hist_latency, us);
  if (m->chain_len) observe_cached_chain(&w->stats, m, us);
}

/* A hot answer near expiry: refresh its question in the background. */
static void prefetch_question(struct worker *w, const uint8_t *query, const struct ac_query *q) {
  ldns_rdf *qname = NULL;
  size_t pos = 12;
  if (q->qend < 17 || ldns_wire2dname(&qname, query, q->qend, &pos) != LDNS_STATUS_OK) return;
  request_prefetch(w, qname, q->qtype);
  ldns_rdf_deep_free(qname);
}

/* Answer datagram i from the answer cache into tx[*nout]; false on a miss
 * (q is then parsed when *parsed). */
static bool fast_answer(struct worker *w, struct udp_batch *b, int i, unsigned *nout,
                        int64_t now, uint64_t t0, struct ac_query *q, bool *parsed) {
  const uint8_t *data = b->rx[i];
  size_t len = b->in[i].msg_len;
  *parsed = ac_parse(data, len, w->cfg->edns_buffer_size, q);
  if (!*parsed || !acl_allows(&w->cfg->acl, (struct sockaddr *)&b->from[i])) return false;
  struct ac_meta m;
  size_t r = anscache_answer(w->answers, q, data, b->tx[*nout], DGRAM, now, &m);
  if (!r) return false;
  b->iout[*nout].iov_len = r;
  b->out[*nout].msg_hdr.msg_name = &b->from[i];
  b->out[*nout].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
  (*nout)++;
  count_fast(w, q, &m, t0);
  if (m.prefetch) prefetch_question(w, data, q);
  if (w->cfg->query_log) {
    struct query_log ql = {.client = (struct sockaddr *)&b->from[i], .qname = data + 12,
                           .qname_len = q->qend > 16 ? q->qend - 16 : 0, .qtype = q->qtype,
                           .rcode = m.rcode, .chain_len = m.chain_len,
                           .ms = t0 ? (double)(util_mono_us() - t0) / 1000.0 : 0,
                           .source = "memory"};
    log_query(&ql);
  }
  return true;
}

/* Send the batch's fast answers; what would block is dropped (the clients
 * ask again). */
static void flush(struct udp_listener *l, struct udp_batch *b, unsigned n) {
  unsigned off = 0;
  while (off < n) {
    int sent = sendmmsg(l->fd, b->out + off, n - off, MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) {
      l->w->stats.send_dropped += n - off;
      return;
    }
    off += (unsigned)sent;
  }
}

/* An empty reply with TC=1 to query i, into tx[*nout]: the header and the
 * question, so the client asks again over TCP. */
static void slip_reply(struct udp_batch *b, int i, unsigned *nout) {
  const uint8_t *q = b->rx[i];
  size_t len = b->in[i].msg_len, off = 12;
  if (len < 12 || (q[2] & 0x80)) return;
  while (off < len && q[off] != 0 && q[off] < 64) off += 1 + (size_t)q[off];
  bool question = off + 5 <= len && q[off] == 0 && q[4] == 0 && q[5] == 1;
  size_t rlen = question ? off + 5 : 12;
  uint8_t *r = b->tx[*nout];
  memcpy(r, q, rlen);
  r[2] = (uint8_t)(0x80 | (q[2] & 0x79) | 0x02); /* QR, opcode, RD, TC */
  r[3] = 0x80;                                    /* RA, NOERROR */
  memset(r + 4, 0, 8);
  r[5] = question;
  b->iout[*nout].iov_len = rlen;
  b->out[*nout].msg_hdr.msg_name = &b->from[i];
  b->out[*nout].msg_hdr.msg_namelen = b->in[i].msg_hdr.msg_namelen;
  (*nout)++;
}

static void process(struct udp_listener *l, struct udp_batch *b, int n) {
  struct worker *w = l->w;
  int64_t now = util_now_sec();
  uint64_t t0 = w->cfg->instrumentation ? util_mono_us() : 0;
  uint64_t now_ms = w->rl ? uv_now(&w->loop) : 0;
  unsigned nout = 0;
  for (int i = 0; i < n; i++) {
    struct ac_query q;
    bool parsed;
    if (b->in[i].msg_hdr.msg_flags & MSG_TRUNC) {
      w->stats.dropped++; /* larger than any sane query */
      continue;
    }
    if (w->rl) {
      enum rl_verdict v = ratelimit_check(w->rl, (struct sockaddr *)&b->from[i], now_ms);
      if (v == RL_SLIP) slip_reply(b, i, &nout);
      if (v != RL_PASS) {
        w->stats.limited[v == RL_SLIP ? SL_RATELIMIT_SLIP : SL_RATELIMIT_DROP]++;
        continue;
      }
    }
    if (fast_answer(w, b, i, &nout, now, t0, &q, &parsed)) continue;
    l->miss(l->miss_arg, l, b->rx[i], b->in[i].msg_len, (struct sockaddr *)&b->from[i],
            parsed ? &q : NULL);
  }
  if (nout) flush(l, b, nout);
}

static void on_readable(uv_poll_t *p, int status, int events) {
  struct udp_listener *l = p->data;
  struct udp_batch *b = l->w->batch;
  if (status < 0 || l->w->stopping) return;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < BATCH; i++) b->in[i].msg_hdr.msg_namelen = sizeof b->from[i];
    int n = recvmmsg(l->fd, b->in, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return; /* EAGAIN: drained */
    process(l, b, n);
    if (n < BATCH) return;
  }
}

/* ---- the listener ---------------------------------------------------------------- */

/* A listener that never started: free it, leaving its fd to the caller. */
static void on_unstarted_closed(uv_handle_t *h) { free(h->data); }

int udp_listen(struct worker *w, int fd, udp_miss_fn miss, void *miss_arg,
               struct udp_listener **out) {
  struct udp_listener *l = calloc(1, sizeof *l);
  if (!l) return UV_ENOMEM;
  l->w = w;
  l->fd = fd;
  l->miss = miss;
  l->miss_arg = miss_arg;
  int rc = uv_poll_init(&w->loop, &l->poll, fd);
  if (rc) {
    free(l);
    return rc;
  }
  l->poll.data = l;
  rc = uv_poll_start(&l->poll, UV_READABLE, on_readable);
  if (rc) {
    uv_close((uv_handle_t *)&l->poll, on_unstarted_closed);
    return rc;
  }
  l->open = true;
  *out = l;
  return 0;
}

static void on_poll_closed(uv_handle_t *h) {
  struct udp_listener *l = h->data;
  close(l->fd);
  free(l);
}

void udp_close(struct udp_listener *l) {
  if (!l || !l->open) return;
  l->open = false;
  uv_poll_stop(&l->poll);
  uv_close((uv_handle_t *)&l->poll, on_poll_closed);
}

bool udp_send(struct udp_listener *l, const struct sockaddr *to, const uint8_t *wire,
              size_t len) {
  socklen_t tolen = to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
  ssize_t n;
  do n = sendto(l->fd, wire, len, MSG_DONTWAIT, to, tolen);
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)len) return true;
  l->w->stats.send_dropped++;
  return false;
}
