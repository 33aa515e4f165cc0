/* Outbound queries against a fake authority on loopback: 0x20 case
 * randomisation, its TCP check and its per-server fallback. */
#include "unit_helpers.h"

#include <ctype.h>
#include <uv.h>

#include "resolver/daemon/upstream.h"

enum mode {
  FAKE_ECHO,      /* the question comes back as sent */
  FAKE_LOWER,     /* the question comes back lowercased, over UDP and TCP */
  FAKE_LOWER_UDP, /* lowercased over UDP only: what a forger who guessed the
                port and TXID but not the case would send */
};

struct fake {
  uv_udp_t udp;
  uv_tcp_t tcp;
  struct sockaddr_in addr;
  enum mode mode;
  int udp_queries, tcp_queries;
  uint8_t last_name[256]; /* the name of the last query, as received */
  size_t last_len;
};

struct conn {
  uv_tcp_t h;
  struct fake *f;
  uint8_t buf[1024];
  size_t len;
};

/* A reply to the query q: QR AA, the question (lowercased when asked to),
 * and one A record whose owner is a pointer to the question name. Returns
 * its length or 0. */
static size_t reply(struct fake *f, const uint8_t *q, size_t n, bool lower, uint8_t *out) {
  size_t off = 12;
  while (off < n && q[off] != 0) off += 1 + q[off];
  if (off + 5 > n) return 0;
  size_t qend = off + 5; /* the root label, type and class */
  f->last_len = off + 1 - 12;
  memcpy(f->last_name, q + 12, f->last_len);
  memcpy(out, q, qend);
  out[2] = 0x84; /* QR, AA */
  out[3] = 0;
  out[4] = 0, out[5] = 1, out[6] = 0, out[7] = 1;
  memset(out + 8, 0, 4);
  if (lower)
    for (size_t i = 12; i < off; i++) out[i] = (uint8_t)tolower(out[i]);
  static const uint8_t an[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 1};
  memcpy(out + qend, an, sizeof an);
  return qend + sizeof an;
}

static void alloc_cb(uv_handle_t *h, size_t want, uv_buf_t *b) {
  static uint8_t buf[2048];
  (void)h, (void)want;
  b->base = (char *)buf;
  b->len = sizeof buf;
}

static void udp_cb(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                   unsigned flags) {
  struct fake *f = h->data;
  (void)flags;
  if (n <= 0 || !from) return;
  f->udp_queries++;
  uint8_t out[2048];
  size_t len = reply(f, (uint8_t *)b->base, (size_t)n, f->mode != FAKE_ECHO, out);
  uv_buf_t ob = uv_buf_init((char *)out, (unsigned)len);
  if (len) assert_int_equal(uv_udp_try_send(h, &ob, 1, from), (int)len);
}

static void conn_alloc(uv_handle_t *h, size_t want, uv_buf_t *b) {
  struct conn *c = h->data;
  (void)want;
  b->base = (char *)c->buf + c->len;
  b->len = sizeof c->buf - c->len;
}

static void conn_closed(uv_handle_t *h) { free(h->data); }

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct conn *c = s->data;
  (void)b;
  if (n < 0) {
    uv_close((uv_handle_t *)s, conn_closed);
    return;
  }
  c->len += (size_t)n;
  if (c->len < 2 || c->len < 2 + (size_t)(c->buf[0] << 8 | c->buf[1])) return;
  c->f->tcp_queries++;
  uint8_t out[2048];
  size_t len = reply(c->f, c->buf + 2, c->len - 2, c->f->mode == FAKE_LOWER, out + 2);
  out[0] = (uint8_t)(len >> 8), out[1] = (uint8_t)len;
  uv_buf_t ob = uv_buf_init((char *)out, (unsigned)len + 2);
  assert_int_equal(uv_try_write(s, &ob, 1), (int)len + 2);
  c->len = 0;
}

static void on_conn(uv_stream_t *server, int status) {
  assert_int_equal(status, 0);
  struct conn *c = calloc(1, sizeof *c);
  c->f = server->data;
  uv_tcp_init(server->loop, &c->h);
  c->h.data = c;
  assert_int_equal(uv_accept(server, (uv_stream_t *)&c->h), 0);
  uv_read_start((uv_stream_t *)&c->h, conn_alloc, conn_read);
}

/* UDP and TCP on one loopback port the kernel picked. */
static void fake_start(uv_loop_t *loop, struct fake *f, enum mode mode) {
  memset(f, 0, sizeof *f);
  f->mode = mode;
  for (int tries = 0; tries < 20; tries++) {
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_udp_init(loop, &f->udp);
    f->udp.data = f;
    assert_int_equal(uv_udp_bind(&f->udp, (struct sockaddr *)&a, 0), 0);
    int len = sizeof f->addr;
    uv_udp_getsockname(&f->udp, (struct sockaddr *)&f->addr, &len);
    uv_tcp_init(loop, &f->tcp);
    f->tcp.data = f;
    if (uv_tcp_bind(&f->tcp, (struct sockaddr *)&f->addr, 0) == 0 &&
        uv_listen((uv_stream_t *)&f->tcp, 8, on_conn) == 0) {
      uv_udp_recv_start(&f->udp, alloc_cb, udp_cb);
      return;
    }
    uv_close((uv_handle_t *)&f->udp, NULL); /* the port is taken over TCP */
    uv_close((uv_handle_t *)&f->tcp, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
  }
  fail_msg("no port free for both UDP and TCP");
}

struct result {
  bool done;
  enum up_status status;
  char question[256], owner[256];
};

static void on_result(void *arg, enum up_status st, const ldns_pkt *pkt, uint32_t rtt) {
  struct result *r = arg;
  (void)rtt;
  r->done = true;
  r->status = st;
  if (!pkt) return;
  char *s = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt), 0)));
  snprintf(r->question, sizeof r->question, "%s", s);
  free(s);
  ldns_rr *a = ldns_rr_list_rr(ldns_pkt_answer(pkt), 0);
  assert_non_null(a);
  s = ldns_rdf2str(ldns_rr_owner(a));
  snprintf(r->owner, sizeof r->owner, "%s", s);
  free(s);
}

struct env {
  uv_loop_t loop;
  upstream_t *up;
  struct fake f;
};

/* A long name: 27 letters, so the chance that random case leaves it all
 * lowercase is 2^-27. */
#define NAME "www.caps-check-domain.example."

static void ask(struct env *e, struct result *r) {
  memset(r, 0, sizeof *r);
  ldns_rdf *qname = dn(NAME);
  assert_non_null(upstream_query(e->up, (struct sockaddr *)&e->f.addr, sizeof e->f.addr, qname,
                                 LDNS_RR_TYPE_A, false, false, 2000, on_result, r));
  ldns_rdf_deep_free(qname);
  while (!r->done) uv_run(&e->loop, UV_RUN_ONCE);
  assert_int_equal(r->status, UP_OK);
  /* Whatever case went out or came back, the caller sees the name as it
   * asked, also where the answer's owner points at the question. */
  assert_string_equal(r->question, NAME);
  assert_string_equal(r->owner, NAME);
}

static bool sent_mixed_case(const struct fake *f) {
  bool upper = false, lower = false;
  for (size_t i = 0; i < f->last_len; i++) {
    upper |= isupper(f->last_name[i]) != 0;
    lower |= islower(f->last_name[i]) != 0;
  }
  return upper && lower;
}

static void setup_env(struct env *e, enum mode mode, bool caps) {
  uv_loop_init(&e->loop);
  fake_start(&e->loop, &e->f, mode);
  e->up = upstream_new(&e->loop, 1232, caps);
  assert_non_null(e->up);
}

/* The fake's own handles, and the connections it accepted (which own
 * their memory). The upstream closes its handles itself. */
static void close_fake(uv_handle_t *h, void *arg) {
  struct fake *f = arg;
  if (uv_is_closing(h)) return;
  if (h == (uv_handle_t *)&f->udp || h == (uv_handle_t *)&f->tcp) uv_close(h, NULL);
  else if (h->type == UV_TCP && h->data && ((struct conn *)h->data)->f == f)
    uv_close(h, conn_closed);
}

static void teardown_env(struct env *e) {
  upstream_close(e->up);
  uv_run(&e->loop, UV_RUN_NOWAIT);
  uv_walk(&e->loop, close_fake, &e->f);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&e->loop), 0);
}

static void test_case_randomised_and_restored(void **state) {
  (void)state;
  struct env e;
  struct result r;
  setup_env(&e, FAKE_ECHO, true);
  ask(&e, &r);
  assert_true(sent_mixed_case(&e.f));
  const struct up_stats *s = upstream_stats(e.up);
  assert_int_equal(s->sent_tcp, 0);
  assert_int_equal(s->case_mismatched, 0);
  /* A new pattern per query. */
  uint8_t first[256];
  memcpy(first, e.f.last_name, e.f.last_len);
  ask(&e, &r);
  assert_memory_not_equal(first, e.f.last_name, e.f.last_len);
  teardown_env(&e);
}

static void test_server_that_lowercases_is_checked_over_tcp_then_spared(void **state) {
  (void)state;
  struct env e;
  struct result r;
  setup_env(&e, FAKE_LOWER, true);
  ask(&e, &r);
  const struct up_stats *s = upstream_stats(e.up);
  assert_int_equal(e.f.udp_queries, 1);
  assert_int_equal(e.f.tcp_queries, 1); /* the UDP reply was not trusted */
  assert_int_equal(s->case_mismatched, 1);
  assert_int_equal(s->case_fallbacks, 1);
  /* From now on this server is asked as the iterator asks, over UDP. */
  ask(&e, &r);
  assert_int_equal(e.f.udp_queries, 2);
  assert_int_equal(e.f.tcp_queries, 1);
  assert_memory_equal(e.f.last_name, "\3www\21caps-check-domain\7example\0", e.f.last_len);
  assert_int_equal(s->case_mismatched, 1);
  teardown_env(&e);
}

static void test_forged_case_never_turns_the_check_off(void **state) {
  (void)state;
  struct env e;
  struct result r;
  setup_env(&e, FAKE_LOWER_UDP, true);
  for (int i = 1; i <= 3; i++) {
    ask(&e, &r);
    assert_true(sent_mixed_case(&e.f));   /* still random case, also over TCP */
    assert_int_equal(e.f.tcp_queries, i); /* every lowercased UDP reply refused */
  }
  assert_int_equal(upstream_stats(e.up)->case_fallbacks, 0);
  teardown_env(&e);
}

static void test_off_sends_the_name_as_asked(void **state) {
  (void)state;
  struct env e;
  struct result r;
  setup_env(&e, FAKE_LOWER, false);
  ask(&e, &r);
  assert_int_equal(e.f.tcp_queries, 0);
  assert_memory_equal(e.f.last_name, "\3www\21caps-check-domain\7example\0", e.f.last_len);
  teardown_env(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_case_randomised_and_restored),
      cmocka_unit_test(test_server_that_lowercases_is_checked_over_tcp_then_spared),
      cmocka_unit_test(test_forged_case_never_turns_the_check_off),
      cmocka_unit_test(test_off_sends_the_name_as_asked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
