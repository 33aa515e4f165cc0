/* UDP and TCP listeners and the per-query path; see server.h. */
#include "resolver/daemon/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/anscache.h"
#include "resolver/core/answer.h"
#include "resolver/lib/log.h"
#include "resolver/lib/name.h"
#include "resolver/daemon/observe.h"
#include "resolver/daemon/request.h"
#include "resolver/daemon/udp.h"
#include "resolver/lib/util.h"
#include "resolver/lib/wire.h"
#include "resolver/daemon/worker_priv.h"

#define TCP_MAX_INFLIGHT 64 /* queries outstanding on one connection */
#define TCP_MAX_MSG 65535
#define TCP_MAX_FRAME (TCP_MAX_MSG + 2)
/* Replies queued to one client before its connection stops being read. */
#define TCP_CONN_BACKLOG (256 * 1024)

/*
 * A client connection. Its queries are taken from buf while it may take
 * more (conn_may_take): fewer than TCP_MAX_INFLIGHT under way and its
 * replies not piling up. Whatever frees it up (a query finishing, the
 * client reading replies) calls conn_update, which reads again or, when
 * complete queries already wait in buf, lists the connection on
 * worker->tcp_ready to take them on the loop's next turn: never from
 * inside a resolution's callback.
 */
struct tcp_conn {
  struct tcp_conn *next, *prev; /* worker->conns */
  struct tcp_conn *ready_next;  /* worker->tcp_ready, while ready */
  struct worker *w;
  uv_tcp_t handle;
  uv_timer_t idle;
  uv_shutdown_t shut;           /* ours, after the client's EOF */
  struct sockaddr_storage peer;
  uint8_t *buf;                 /* received bytes not yet taken as queries */
  size_t len, cap;
  size_t queued;   /* bytes of replies the socket has not taken, held by send_reqs */
  unsigned inflight;
  unsigned refs;   /* the handles, one per query in flight, per queued reply, ready */
  uint64_t partial_since_ms; /* when the incomplete message began arriving; 0: none */
  bool closing, reading;
  bool eof;        /* the client shut down its side: answer what it sent, then close */
  bool shutting;   /* our shutdown is under way */
  bool ready;      /* on worker->tcp_ready */
  bool processing; /* conn_process is running: it goes on by itself */
  bool paused;     /* stopped for its backlog (counted once per stop) */
};

/* One client query waiting for its resolution. */
struct client {
  struct worker *w;
  uint64_t start_us;            /* when the query arrived */
  struct client_question q;
  bool tcp;
  struct tcp_conn *conn;        /* TCP */
  struct udp_listener *udp;     /* UDP: the socket it came in on */
  struct sockaddr_storage from; /* UDP */
  struct ac_query acq;          /* its key in the answer cache, when acq_ok */
  bool acq_ok;
  uint32_t local_gen;           /* the worker's local data when it arrived */
};

/* The part of a reply the socket did not take at once, until libuv has
 * written it. */
struct send_req {
  uv_write_t req;
  struct tcp_conn *conn;
  size_t len;
  uint8_t data[];
};

static void conn_unref(struct tcp_conn *c);
static void conn_close(struct tcp_conn *c);
static void conn_update(struct tcp_conn *c);
static void on_idle(uv_timer_t *t);
static void arm_timer(struct tcp_conn *c);

/* ---- sending ------------------------------------------------------------- */

static void backlog_add(struct tcp_conn *c, size_t n) {
  struct stats *st = &c->w->stats;
  c->queued += n;
  st->tcp_backlog_bytes += n;
  if (st->tcp_backlog_bytes > st->tcp_backlog_peak) st->tcp_backlog_peak = st->tcp_backlog_bytes;
}

static void tcp_written(uv_write_t *req, int status) {
  struct send_req *s = req->data;
  struct tcp_conn *c = s->conn;
  c->queued -= s->len;
  c->w->stats.tcp_backlog_bytes -= s->len;
  free(s);
  if (!c->closing) {
    if (status < 0) {
      conn_close(c);
    } else {
      conn_update(c); /* the backlog shrank */
      if (c->inflight == 0) arm_timer(c); /* the client reads: it is not idle */
    }
  }
  conn_unref(c);
}

/* Send one reply with its length prefix. What the socket takes at once is
 * not copied; the rest is queued, unless it would take the worker's queued
 * replies past tcp-max-backlog: then the connection is closed instead (its
 * client is not reading, and its other queued replies are freed with it). */
static void send_tcp(struct tcp_conn *c, const uint8_t *wire, size_t len) {
  if (c->closing || c->shutting || len > TCP_MAX_MSG) return;
  uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
  uv_buf_t b[2] = {uv_buf_init((char *)prefix, 2), uv_buf_init((char *)wire, (unsigned)len)};
  int n = uv_try_write((uv_stream_t *)&c->handle, b, 2); /* EAGAIN while a queue waits */
  if (n < 0 && n != UV_EAGAIN) {
    conn_close(c);
    return;
  }
  size_t sent = n > 0 ? (size_t)n : 0, rest = len + 2 - sent;
  if (!rest) return;
  struct worker *w = c->w;
  if (w->stats.tcp_backlog_bytes + rest > w->cfg->tcp_max_backlog) {
    w->stats.limited[SL_TCP_BACKLOG]++;
    conn_close(c);
    return;
  }
  struct send_req *s = malloc(sizeof *s + rest);
  if (!s) { /* part of the frame may be out: the stream cannot go on */
    conn_close(c);
    return;
  }
  if (sent < 2) {
    memcpy(s->data, prefix + sent, 2 - sent);
    memcpy(s->data + 2 - sent, wire, len);
  } else {
    memcpy(s->data, wire + (sent - 2), rest);
  }
  s->conn = c;
  s->len = rest;
  s->req.data = s;
  uv_buf_t q = uv_buf_init((char *)s->data, (unsigned)rest);
  if (uv_write(&s->req, (uv_stream_t *)&c->handle, &q, 1, tcp_written)) {
    free(s);
    conn_close(c);
    return;
  }
  c->refs++;
  backlog_add(c, rest);
}

/* ---- replies --------------------------------------------------------------- */

static size_t reply_limit(const struct client *cl) {
  if (cl->tcp) return TCP_MAX_MSG;
  if (!cl->q.edns) return 512;
  size_t lim = cl->q.udp_size;
  if (lim > cl->w->cfg->edns_buffer_size) lim = cl->w->cfg->edns_buffer_size;
  return lim < 512 ? 512 : lim;
}

/* Send wire to the client and free it. */
static void send_wire(struct client *cl, uint8_t *wire, size_t len) {
  if (cl->tcp) send_tcp(cl->conn, wire, len);
  else udp_send(cl->udp, (struct sockaddr *)&cl->from, wire, len);
  free(wire);
}

/* Build and send a reply; with meta, a reply worth keeping also goes into
 * the answer cache (which decides what is). */
static void send_reply(struct client *cl, const struct answer_content *ac,
                       const struct ac_meta *meta) {
  size_t len = 0;
  bool tc = false;
  uint8_t *wire = answer_build(&cl->q, ac, cl->w->cfg->edns_buffer_size, reply_limit(cl),
                               &len, &tc);
  if (!wire) return;
  cl->w->stats.rcode[(unsigned)ac->rcode % 24]++;
  if (tc) cl->w->stats.truncated++;
  /* A reply made from local data replaced meanwhile (SIGHUP) is sent, not kept. */
  if (meta && cl->acq_ok && !tc && cl->local_gen == cl->w->local_gen)
    anscache_store(cl->w->answers, &cl->acq, wire, len, util_now_sec(), meta);
  send_wire(cl, wire, len);
}

/* What the answer cache keeps about a reply's chain, for its metrics. */
static struct ac_meta reply_meta(const struct iter_result *res, const chain_t *ch) {
  struct ac_meta m = {0};
  uint8_t start[256];
  /* A refresh already asked for on the way (request.c) is not asked twice. */
  if (res->prefetch_at > util_now_sec()) m.prefetch_at = res->prefetch_at;
  if (!ch || !ch->n) return m;
  m.chain_len = (uint8_t)(ch->n > 255 ? 255 : ch->n);
  for (size_t i = 0; i < m.chain_len; i++) {
    m.dname_hops += ch->hops[i].kind == HOP_DNAME;
    m.alias_hops += ch->hops[i].kind == HOP_ALIAS;
  }
  m.outcome = (uint8_t)observe_outcome(res, ch);
  m.purpose = (uint8_t)stats_purpose_of(start, name_key(ch->start, start));
  return m;
}

static void client_free(struct client *cl) {
  client_question_free(&cl->q);
  if (cl->tcp) {
    struct tcp_conn *c = cl->conn;
    c->inflight--;
    if (!c->closing) {
      conn_update(c); /* a slot is free */
      /* RFC 7766 §6.2.3: the idle timeout runs only while nothing is pending. */
      if (c->inflight == 0) arm_timer(c);
    }
    conn_unref(c);
  }
  free(cl);
}

/* The query log's line for a reply sent on the full path. */
static void log_reply(const struct client *cl, unsigned rcode, unsigned chain_len,
                      const char *source) {
  if (!cl->q.qname) return;
  struct query_log ql = {
      .client = cl->tcp ? (const struct sockaddr *)&cl->conn->peer
                        : (const struct sockaddr *)&cl->from,
      .tcp = cl->tcp,
      .qname = ldns_rdf_data(cl->q.qname),
      .qname_len = ldns_rdf_size(cl->q.qname),
      .qtype = (uint16_t)cl->q.qtype,
      .rcode = rcode,
      .chain_len = chain_len,
      .ms = cl->start_us ? (double)(util_mono_us() - cl->start_us) / 1000.0 : 0,
      .source = source,
  };
  log_query(&ql);
}

static void on_resolved(void *arg, const struct iter_result *res, const chain_t *chain) {
  struct client *cl = arg;
  if (res) {
    struct answer_content ac = {res->rcode, res->answer, res->authority, res->ede,
                                res->ede_text, res->sec == SEC_SECURE};
    struct ac_meta meta = reply_meta(res, chain);
    send_reply(cl, &ac, &meta);
    if (cl->start_us && cl->w->cfg->instrumentation)
      hist_observe(&cl->w->stats.answer_latency[res->source], &hist_latency,
                   util_mono_us() - cl->start_us);
    if (cl->w->cfg->query_log)
      log_reply(cl, res->rcode, meta.chain_len,
                stats_source_name((enum stats_source)res->source));
  }
  client_free(cl);
}

/* ---- the query path -------------------------------------------------------- */

static void reply_header_only(struct client *cl, const uint8_t *data, size_t len,
                              ldns_pkt_rcode rcode) {
  size_t rlen;
  uint8_t *wire = answer_header_only(data, len, rcode, &rlen);
  if (!wire) return;
  cl->w->stats.rcode[rcode % 24]++;
  send_wire(cl, wire, rlen);
}

/* Check the parsed query; fill cl->q. Returns LDNS_RCODE_NOERROR to resolve,
 * or the RCODE to answer with at once. */
static int vet_query(struct client *cl, const ldns_pkt *pkt, const struct sockaddr *from) {
  cl->q.id = ldns_pkt_id(pkt);
  cl->q.rd = ldns_pkt_rd(pkt);
  cl->q.cd = ldns_pkt_cd(pkt);
  cl->q.ad = ldns_pkt_ad(pkt);
  if (ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY) return LDNS_RCODE_NOTIMPL;
  if (ldns_pkt_qdcount(pkt) != 1 || ldns_pkt_ancount(pkt) != 0 || ldns_pkt_nscount(pkt) != 0)
    return LDNS_RCODE_FORMERR;
  ldns_rr *question = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
  cl->q.qname = ldns_rdf_clone(ldns_rr_owner(question));
  cl->q.qtype = ldns_rr_get_type(question);
  cl->q.qclass = ldns_rr_get_class(question);
  cl->q.edns = ldns_pkt_edns(pkt);
  cl->q.udp_size = ldns_pkt_edns_udp_size(pkt);
  if (cl->q.udp_size < 512) cl->q.udp_size = 512;
  cl->q.do_bit = ldns_pkt_edns_do(pkt);
  if (!acl_allows(&cl->w->cfg->acl, from)) {
    cl->w->stats.refused_acl++;
    return LDNS_RCODE_REFUSED;
  }
  if (cl->q.edns && ldns_pkt_edns_version(pkt) > 0) return 16; /* BADVERS */
  switch (cl->q.qtype) {
  case LDNS_RR_TYPE_OPT:
  case LDNS_RR_TYPE_TSIG:
    return LDNS_RCODE_FORMERR;
  case LDNS_RR_TYPE_AXFR:
  case LDNS_RR_TYPE_IXFR:
    return LDNS_RCODE_REFUSED; /* zone transfers are for authoritative servers */
  default:
    break;
  }
  if (cl->q.qclass != LDNS_RR_CLASS_IN) return LDNS_RCODE_REFUSED;
  return LDNS_RCODE_NOERROR;
}

/* Takes ownership of cl. */
static void handle_query(struct client *cl, const uint8_t *data, size_t len,
                         const struct sockaddr *from) {
  if (len < 12 || (data[2] & 0x80)) { /* no header, or a response: never answer */
    cl->w->stats.dropped++;
    client_free(cl);
    return;
  }
  ldns_pkt *pkt = NULL;
  enum stats_transport t = cl->tcp ? ST_TCP : ST_UDP;
  if (wire_parse(&pkt, data, len) != LDNS_STATUS_OK) {
    cl->w->stats.queries[t][SQ_OTHER]++;
    reply_header_only(cl, data, len, LDNS_RCODE_FORMERR);
    client_free(cl);
    return;
  }
  int rcode = vet_query(cl, pkt, from);
  ldns_pkt_free(pkt);
  cl->w->stats.queries[t][cl->q.qname ? stats_qtype(cl->q.qtype) : SQ_OTHER]++;
  if (rcode != LDNS_RCODE_NOERROR) {
    if (!cl->q.qname) {
      reply_header_only(cl, data, len, (ldns_pkt_rcode)rcode);
    } else {
      struct answer_content ac = {(ldns_pkt_rcode)rcode, NULL, NULL, EDE_NONE, NULL, false};
      send_reply(cl, &ac, NULL);
      if (cl->w->cfg->query_log) log_reply(cl, (unsigned)rcode, 0, "none");
    }
    client_free(cl);
    return;
  }
  request_resolve(cl->w, cl->q.qname, cl->q.qtype, cl->q.cd, on_resolved, cl);
}

/* ---- UDP ------------------------------------------------------------------ */

/* The listeners' miss callback (udp_miss_fn): a query the fast path did
 * not answer. */
static void on_udp_miss(void *arg, struct udp_listener *l, const uint8_t *data, size_t len,
                        const struct sockaddr *from, const struct ac_query *acq) {
  struct worker *w = arg;
  struct client *cl = calloc(1, sizeof *cl);
  if (!cl) return;
  cl->w = w;
  cl->local_gen = w->local_gen;
  if (w->cfg->instrumentation || w->cfg->query_log) cl->start_us = util_mono_us();
  cl->udp = l;
  memcpy(&cl->from, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                       : sizeof(struct sockaddr_in));
  if (acq) {
    cl->acq = *acq;
    cl->acq_ok = true;
  }
  handle_query(cl, data, len, from);
}

/* ---- TCP ------------------------------------------------------------------ */

static void conn_handle_closed(uv_handle_t *h) { conn_unref(h->data); }

static void conn_close(struct tcp_conn *c) {
  if (c->closing) return;
  c->closing = true;
  uv_timer_stop(&c->idle);
  c->refs++; /* released by the idle timer's close callback */
  uv_close((uv_handle_t *)&c->idle, conn_handle_closed);
  /* Replies still queued are cancelled: tcp_written frees them. */
  uv_close((uv_handle_t *)&c->handle, conn_handle_closed);
}

static void conn_unref(struct tcp_conn *c) {
  if (--c->refs) return;
  struct worker *w = c->w;
  if (c->prev) c->prev->next = c->next;
  else w->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  w->tcp_conns--;
  free(c->buf);
  free(c);
}

/* Idle (nothing pending, no reply taken by the client), or too slow to
 * send a whole query. */
static void on_idle(uv_timer_t *t) {
  struct tcp_conn *c = t->data;
  if (c->partial_since_ms) {
    if (uv_now(&c->w->loop) - c->partial_since_ms >= c->w->cfg->tcp_read_timeout_ms) {
      c->w->stats.limited[SL_TCP_SLOW]++;
      conn_close(c);
    } else {
      arm_timer(c);
    }
  } else if (c->inflight == 0) {
    conn_close(c);
  }
}

/* Is a whole query waiting at the start of the buffer? */
static bool frame_ready(const struct tcp_conn *c) {
  return c->len >= 2 && c->len - 2 >= ((size_t)c->buf[0] << 8 | c->buf[1]);
}

/* Does the buffer end in a message still arriving (rather than complete
 * ones waiting for a free slot)? */
static bool partial_message(const struct tcp_conn *c) {
  return c->len > 0 && (c->len < 2 || c->len - 2 < ((size_t)c->buf[0] << 8 | c->buf[1]));
}

/* The idle timeout while nothing is pending; the read timeout from the
 * first byte of a message until its last. */
static void arm_timer(struct tcp_conn *c) {
  const struct config *cfg = c->w->cfg;
  uint64_t now = uv_now(&c->w->loop);
  if (!partial_message(c)) {
    c->partial_since_ms = 0;
    uv_timer_start(&c->idle, on_idle, cfg->tcp_idle_timeout_ms, 0);
    return;
  }
  if (!c->partial_since_ms) c->partial_since_ms = now ? now : 1;
  uint64_t end = c->partial_since_ms + cfg->tcp_read_timeout_ms;
  uv_timer_start(&c->idle, on_idle, end > now ? end - now : 0, 0);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct tcp_conn *c = h->data;
  if (c->cap - c->len < 4096 && c->cap < TCP_MAX_FRAME + 4096) {
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    uint8_t *nb = realloc(c->buf, ncap);
    if (nb) {
      c->buf = nb;
      c->cap = ncap;
    }
  }
  buf->base = (char *)c->buf + c->len;
  buf->len = c->cap - c->len; /* 0 only if realloc failed: UV_ENOBUFS closes */
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* Are the replies queued to c piling up: a quarter MiB of its own, or,
 * once it has any, the worker's within one reply of tcp-max-backlog? A
 * client that reads has none queued: the socket takes its replies. */
static bool backlog_full(const struct tcp_conn *c) {
  if (c->queued >= TCP_CONN_BACKLOG) return true;
  return c->queued && c->w->stats.tcp_backlog_bytes + TCP_MAX_FRAME > c->w->cfg->tcp_max_backlog;
}

/* May c start another query? Checked before each one, so a run of
 * queries answered at once (cache, local data) stops at the bound too. */
static bool conn_may_take(const struct tcp_conn *c) {
  return !c->closing && !c->shutting && !c->w->stopping && c->inflight < TCP_MAX_INFLIGHT &&
         !backlog_full(c);
}

static void set_reading(struct tcp_conn *c, bool want) {
  if (want == c->reading) return;
  if (want && uv_read_start((uv_stream_t *)&c->handle, conn_alloc, conn_read)) {
    conn_close(c);
    return;
  }
  if (!want) uv_read_stop((uv_stream_t *)&c->handle);
  c->reading = want;
}

static void conn_take(struct tcp_conn *c);

static void on_ready(uv_timer_t *t) {
  struct worker *w = t->data;
  struct tcp_conn *list = w->tcp_ready;
  w->tcp_ready = NULL;
  while (list) {
    struct tcp_conn *c = list;
    list = c->ready_next;
    c->ready = false;
    conn_take(c);
    conn_unref(c);
  }
}

/* Take c's waiting queries on the loop's next turn. */
static void conn_schedule(struct tcp_conn *c) {
  struct worker *w = c->w;
  if (c->ready) return;
  c->ready = true;
  c->refs++;
  c->ready_next = w->tcp_ready;
  w->tcp_ready = c;
  if (!uv_is_active((uv_handle_t *)&w->tcp_ready_timer))
    uv_timer_start(&w->tcp_ready_timer, on_ready, 0, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
  struct tcp_conn *c = req->data;
  conn_close(c);
  conn_unref(c);
}

/* Everything the half-closed client sent is answered: close our side once
 * the queued replies are written (uv_shutdown waits for them). */
static void conn_finish(struct tcp_conn *c) {
  if (c->shutting) return;
  c->shutting = true;
  c->shut.data = c;
  if (uv_shutdown(&c->shut, (uv_stream_t *)&c->handle, on_shutdown)) {
    conn_close(c);
    return;
  }
  c->refs++;
}

/* After anything that changes what c may do (a query finished, replies
 * written, bytes or EOF received): read while it may take queries and none
 * waits; take waiting ones on the next turn; after the client's EOF, close
 * once all it sent is answered. */
static void conn_update(struct tcp_conn *c) {
  if (c->closing || c->processing) return;
  bool full = backlog_full(c);
  if (full && !c->paused) c->w->stats.tcp_backlog_pauses++;
  c->paused = full;
  bool may = conn_may_take(c), waiting = frame_ready(c);
  if (may && waiting) conn_schedule(c);
  set_reading(c, may && !waiting && !c->eof);
  if (c->eof && !waiting && !c->closing) {
    c->len = 0; /* a query cut short by the EOF will never be whole */
    if (c->inflight == 0) conn_finish(c);
  }
}

/* Start the complete queries in the buffer while the connection may take
 * them. */
static void conn_process(struct tcp_conn *c) {
  size_t off = 0;
  c->processing = true;
  while (conn_may_take(c) && c->len - off >= 2) {
    size_t mlen = (size_t)c->buf[off] << 8 | c->buf[off + 1];
    if (c->len - off - 2 < mlen) break;
    struct client *cl = calloc(1, sizeof *cl);
    if (!cl) break;
    cl->w = c->w;
    cl->local_gen = c->w->local_gen;
    if (c->w->cfg->instrumentation || c->w->cfg->query_log) cl->start_us = util_mono_us();
    cl->tcp = true;
    cl->conn = c;
    cl->acq_ok = ac_parse(c->buf + off + 2, mlen, c->w->cfg->edns_buffer_size, &cl->acq);
    c->refs++;
    c->inflight++;
    handle_query(cl, c->buf + off + 2, mlen, (struct sockaddr *)&c->peer);
    off += mlen + 2;
  }
  c->processing = false;
  if (off) {
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
  }
}

static void conn_take(struct tcp_conn *c) {
  if (c->closing) return;
  conn_process(c);
  conn_update(c);
  if (!c->closing) arm_timer(c);
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct tcp_conn *c = s->data;
  if (n == UV_EOF) {
    c->eof = true;
    c->reading = false; /* libuv stops reading at EOF */
  } else if (n < 0) {
    conn_close(c);
    return;
  } else {
    c->len += (size_t)n;
  }
  c->refs++; /* stay alive while replies from the cache are written */
  conn_take(c);
  conn_unref(c);
}

static void on_connection(uv_stream_t *server, int status) {
  struct worker *w = server->data;
  if (status < 0 || w->stopping) return;
  struct tcp_conn *c = calloc(1, sizeof *c);
  if (!c) return;
  c->w = w;
  uv_tcp_init(&w->loop, &c->handle);
  c->handle.data = c;
  c->refs = 1; /* the handle */
  c->next = w->conns;
  if (w->conns) w->conns->prev = c;
  w->conns = c;
  w->tcp_conns++;
  uv_timer_init(&w->loop, &c->idle);
  c->idle.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->handle)) {
    conn_close(c);
    return;
  }
  int plen = sizeof c->peer;
  uv_tcp_getpeername(&c->handle, (struct sockaddr *)&c->peer, &plen);
  /* Before it can hold a slot: clients outside the list never get one
   * (an unknown peer, family 0, is outside too). */
  if (!acl_allows(&w->cfg->acl, (struct sockaddr *)&c->peer)) {
    w->stats.tcp_acl_refused++;
    conn_close(c);
    return;
  }
  if (w->tcp_conns > w->cfg->tcp_max_connections) {
    w->stats.tcp_refused++;
    conn_close(c);
    return;
  }
  uint32_t same = 0;
  for (struct tcp_conn *o = w->conns; o; o = o->next)
    if (!o->closing && util_addr_same_host((struct sockaddr *)&o->peer,
                                           (struct sockaddr *)&c->peer))
      same++;
  if (same > w->cfg->tcp_max_per_client) { /* c itself is on the list */
    w->stats.limited[SL_TCP_PER_CLIENT]++;
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->handle, 1);
  conn_update(c);
  uv_timer_start(&c->idle, on_idle, w->cfg->tcp_idle_timeout_ms, 0);
}

/* ---- listeners --------------------------------------------------------------- */

/* A socket bound with SO_REUSEPORT, so every worker can bind the same
 * address and the kernel balances clients between them. */
static int reuseport_socket(const struct sockaddr *sa, socklen_t len, int type) {
  int fd = socket(sa->sa_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  if (sa->sa_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, sa, len) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

int server_listen(struct worker *w) {
  const struct config *cfg = w->cfg;
  char a[64];
  uv_timer_init(&w->loop, &w->tcp_ready_timer);
  w->tcp_ready_timer.data = w;
  for (size_t i = 0; i < cfg->nlisten; i++) {
    const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen[i];
    util_addr_str(sa, a, sizeof a);
    int ufd = reuseport_socket(sa, cfg->listen_len[i], SOCK_DGRAM);
    if (ufd < 0) {
      log_error("cannot listen on %s/udp: %s", a, strerror(-ufd));
      return -1;
    }
    int rc = udp_listen(w, ufd, on_udp_miss, w, &w->udp[i]);
    if (rc) {
      close(ufd);
      log_error("cannot listen on %s/udp: %s", a, uv_strerror(rc));
      return -1;
    }
    uv_tcp_init(&w->loop, &w->tcp[i]);
    w->tcp[i].data = w;
    w->nlisten = i + 1; /* both handles exist now: server_close closes them */
    int tfd = reuseport_socket(sa, cfg->listen_len[i], SOCK_STREAM);
    if (tfd < 0) {
      log_error("cannot listen on %s/tcp: %s", a, strerror(-tfd));
      return -1;
    }
    uv_tcp_open(&w->tcp[i], tfd);
    rc = uv_listen((uv_stream_t *)&w->tcp[i], 128, on_connection);
    if (rc) {
      log_error("cannot listen on %s/tcp: %s", a, uv_strerror(rc));
      return -1;
    }
    if (w->index == 0) log_info("listening on %s (udp, tcp)", a);
  }
  return 0;
}

void server_close(struct worker *w) {
  for (size_t i = 0; i < w->nlisten; i++) {
    udp_close(w->udp[i]);
    w->udp[i] = NULL;
    uv_close((uv_handle_t *)&w->tcp[i], NULL);
  }
  w->nlisten = 0;
  uv_close((uv_handle_t *)&w->tcp_ready_timer, NULL);
  for (struct tcp_conn *c = w->conns; c; c = c->next) conn_close(c);
  while (w->tcp_ready) { /* closing: only the references go */
    struct tcp_conn *c = w->tcp_ready;
    w->tcp_ready = c->ready_next;
    c->ready = false;
    conn_unref(c);
  }
}
