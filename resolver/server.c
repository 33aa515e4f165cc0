/* UDP and TCP listeners and the per-query path; see server.h. */
#include "resolver/server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/anscache.h"
#include "resolver/answer.h"
#include "resolver/log.h"
#include "resolver/name.h"
#include "resolver/observe.h"
#include "resolver/request.h"
#include "resolver/udp.h"
#include "resolver/util.h"
#include "resolver/wire.h"
#include "resolver/worker.h"

#define TCP_MAX_INFLIGHT 64 /* queries outstanding on one connection */
#define TCP_MAX_MSG 65535
#define TCP_MAX_BACKLOG (256 * 1024) /* replies queued to a client that does not read */

struct tcp_conn {
  struct tcp_conn *next, *prev; /* worker->conns */
  struct worker *w;
  uv_tcp_t handle;
  uv_timer_t idle;
  struct sockaddr_storage peer;
  uint8_t *buf;
  size_t len, cap;
  unsigned inflight;
  unsigned refs;   /* the handle + one per query in flight */
  uint64_t partial_since_ms; /* when the incomplete message began arriving; 0: none */
  bool closing, reading;
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

struct send_req {
  uv_write_t tcp;
  struct tcp_conn *conn;
  uint8_t *wire;
};

static void conn_unref(struct tcp_conn *c);
static void conn_pause_resume(struct tcp_conn *c);
static void on_idle(uv_timer_t *t);
static void arm_timer(struct tcp_conn *c);

/* ---- sending ------------------------------------------------------------- */

static void tcp_written(uv_write_t *req, int status) {
  struct send_req *s = req->data;
  free(s->wire);
  if (!s->conn->closing) conn_pause_resume(s->conn); /* the backlog shrank */
  conn_unref(s->conn);
  free(s);
}

static void send_tcp(struct tcp_conn *c, const uint8_t *wire, size_t len) {
  if (c->closing || len > TCP_MAX_MSG) return;
  struct send_req *s = calloc(1, sizeof *s);
  uint8_t *framed = malloc(len + 2);
  if (!s || !framed) {
    free(s);
    free(framed);
    return;
  }
  framed[0] = (uint8_t)(len >> 8);
  framed[1] = (uint8_t)len;
  memcpy(framed + 2, wire, len);
  s->wire = framed;
  s->conn = c;
  s->tcp.data = s;
  c->refs++;
  uv_buf_t b = uv_buf_init((char *)framed, (unsigned)len + 2);
  if (uv_write(&s->tcp, (uv_stream_t *)&c->handle, &b, 1, tcp_written)) {
    free(framed);
    free(s);
    conn_unref(c);
  }
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
      conn_pause_resume(c);
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

void server_udp_query(struct udp_listener *l, const uint8_t *data, size_t len,
                      const struct sockaddr *from, const struct ac_query *acq) {
  struct worker *w = l->w;
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


/* Idle (nothing pending), or too slow to send a whole query. */
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
  if (c->cap - c->len < 4096 && c->cap < TCP_MAX_MSG + 2 + 4096) {
    size_t ncap = c->cap ? c->cap * 2 : 4096;
    uint8_t *nb = realloc(c->buf, ncap);
    if (nb) {
      c->buf = nb;
      c->cap = ncap;
    }
  }
  buf->base = (char *)c->buf + c->len;
  buf->len = c->cap - c->len;
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static void conn_pause_resume(struct tcp_conn *c) {
  if (c->closing) return;
  bool want = c->inflight < TCP_MAX_INFLIGHT &&
              uv_stream_get_write_queue_size((uv_stream_t *)&c->handle) < TCP_MAX_BACKLOG;
  if (want && !c->reading) uv_read_start((uv_stream_t *)&c->handle, conn_alloc, conn_read);
  else if (!want && c->reading) uv_read_stop((uv_stream_t *)&c->handle);
  c->reading = want;
}

/* Answer every complete frame in the buffer. */
static void conn_process(struct tcp_conn *c) {
  size_t off = 0;
  while (!c->closing && c->len - off >= 2 && c->inflight < TCP_MAX_INFLIGHT) {
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
  if (off) {
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
  }
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  struct tcp_conn *c = s->data;
  if (n < 0) {
    conn_close(c);
    return;
  }
  c->len += (size_t)n;
  c->refs++; /* stay alive while replies from the cache are written */
  conn_process(c);
  if (!c->closing) {
    if (c->len == c->cap && c->cap >= TCP_MAX_MSG + 2) conn_close(c); /* cannot frame */
    else {
      conn_pause_resume(c);
      arm_timer(c);
    }
  }
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
  conn_pause_resume(c);
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
  for (size_t i = 0; i < cfg->nlisten; i++) {
    const struct sockaddr *sa = (const struct sockaddr *)&cfg->listen[i];
    util_addr_str(sa, a, sizeof a);
    int ufd = reuseport_socket(sa, cfg->listen_len[i], SOCK_DGRAM);
    if (ufd < 0) {
      log_error("cannot listen on %s/udp: %s", a, strerror(-ufd));
      return -1;
    }
    int rc = udp_listen(w, &w->udp[i], ufd);
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
    udp_close(&w->udp[i]);
    uv_close((uv_handle_t *)&w->tcp[i], NULL);
  }
  w->nlisten = 0;
  for (struct tcp_conn *c = w->conns; c; c = c->next) conn_close(c);
}
