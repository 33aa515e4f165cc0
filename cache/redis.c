/*
 * The shared tier over hiredis's libuv adapter; the contract is in redis.h.
 *
 * hiredis 0.14 (Debian 12) has no timeouts of its own in the async API, so
 * every wait here has a libuv timer: one per connection for connecting and
 * reconnect back-off, and one per connection for the oldest lookup's
 * deadline. Lookups on a connection are answered in the order they were
 * sent and all share one timeout, so their deadlines are in FIFO order and a
 * cursor walks them.
 *
 * Lifetimes: hiredis calls every pending command's callback (with a NULL
 * reply) when a context dies, then the disconnect callback if it had
 * connected, then frees it. A context we drop ourselves is detached from its
 * connection first (c->ac = NULL), so callbacks from a dying context
 * recognise it is no longer current and touch nothing but their own
 * command's state.
 */
#include "cache/redis.h"

#include <arpa/inet.h>
#include <hiredis/adapters/libuv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/lib/log.h"
#include "resolver/lib/name.h"
#include "resolver/lib/util.h"

#define RECONNECT_MIN_MS 100u
#define RECONNECT_MAX_MS 5000u
#define BREAKER_THRESHOLD 3u /* consecutive timeouts or errors that open it */
#define BREAKER_MIN_MS 1000u
#define BREAKER_MAX_MS 30000u

enum conn_state { CS_DOWN, CS_DISCOVERING, CS_CONNECTING, CS_READY, CS_CLOSED };

struct lookup_key {
  char key[RECORD_KEY_MAX];
  size_t klen;
  uint8_t owner[256];
  size_t owner_len;
  uint16_t type;
  uint8_t kind;
};

struct redis_lookup {
  struct redis_lookup *next; /* the connection's FIFO, in send order */
  struct redis_conn *conn;
  redis_lookup_cb cb;        /* NULL once reported (timeout) or cancelled */
  void *arg;
  uint64_t deadline_ms;
  uint64_t sent_us;
  bool probe;                /* the half-open breaker's single probe */
  size_t nkeys;
  struct lookup_key keys[];
};

struct redis_conn {
  redis_tier_t *t;
  const char *role;          /* "primary" or "replica", for the log */
  struct redis_endpoint ep;
  redisAsyncContext *ac;     /* set while CONNECTING or READY */
  redisAsyncContext *sac;    /* the sentinel being asked (DISCOVERING) */
  size_t sentinel_idx;
  enum conn_state state;
  uv_timer_t timer;          /* connect timeout, or reconnect back-off */
  uv_timer_t cmd_timer;      /* deadline of the oldest unreported lookup */
  uint32_t backoff_ms;
  uint32_t inflight;         /* commands on the current context */
  struct redis_lookup *head, *tail, *cursor; /* cursor: first not timed out */
  uint32_t failures;         /* consecutive; >= threshold: breaker open */
  uint32_t breaker_ms;
  uint64_t breaker_until;
  bool probe_inflight;
  bool warned;               /* the current outage was logged */
};

struct redis_tier {
  uv_loop_t *loop;
  const struct redis_config *cfg;
  cache_t *mem;
  size_t max_chain_names;
  struct redis_conn primary;
  struct redis_conn replicas[REDIS_MAX_REPLICAS];
  size_t nreplicas, next_replica;
  struct redis_stats stats;
  int open_handles;
  bool closing;
  /* The fleet's flush log: polled every second from the primary, each
   * flush noted in the memory tier's markers (cache_note_flush). */
  uv_timer_t log_timer;
  char log_key[200];
  char log_last_id[64]; /* the last entry read ("0": none yet) */
  bool log_polling;     /* an XREAD is out */
};

/* How long an entry of the flush log vouches for its flush: longer than any
 * data it could concern lives (max-ttl is at most a week... or as set). */
#define FLUSH_LOG_LIFE (7 * 86400)
#define FLUSH_LOG_MAXLEN 10000 /* entries the stream keeps, about */
#define FLUSH_LOG_POLL_MS 1000

static void conn_start(struct redis_conn *c);
static void conn_failed(struct redis_conn *c, const char *why);

/* ---- configuration -------------------------------------------------------- */

void redis_config_defaults(struct redis_config *rc) {
  memset(rc, 0, sizeof *rc);
  rc->db = -1;
  strcpy(rc->prefix, "chaindns");
  rc->connect_timeout_ms = 500;
  rc->command_timeout_ms = 30;
  rc->max_pending = 1024;
}

bool redis_enabled(const struct redis_config *rc) { return rc->url[0] || rc->nsentinels; }

/* An address literal or "localhost": resolving a name here would block the
 * loop, and would ask the resolver itself. */
static bool host_ok(char *host) {
  unsigned char buf[16];
  if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
  return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static int parse_unix(const char *rest, struct redis_endpoint *ep, const char **why) {
  const char *q = strchr(rest, '?');
  size_t n = q ? (size_t)(q - rest) : strlen(rest);
  if (n == 0 || rest[0] != '/' || n >= sizeof ep->path) {
    *why = "expected unix:///absolute/path.sock";
    return -1;
  }
  memcpy(ep->path, rest, n);
  ep->path[n] = 0;
  ep->unix_socket = true;
  if (q) {
    char *end;
    if (strncmp(q, "?db=", 4) || (ep->db = (int)strtol(q + 4, &end, 10)) < 0 || *end ||
        end == q + 4) {
      *why = "expected ?db=N after the socket path";
      return -1;
    }
  }
  return 0;
}

static int parse_userinfo(const char *s, size_t n, struct redis_endpoint *ep) {
  const char *colon = memchr(s, ':', n);
  size_t ulen = colon ? (size_t)(colon - s) : n;
  if (ulen >= sizeof ep->user) return -1;
  memcpy(ep->user, s, ulen);
  ep->user[ulen] = 0;
  if (colon) {
    size_t plen = n - ulen - 1;
    if (plen >= sizeof ep->password) return -1;
    memcpy(ep->password, colon + 1, plen);
    ep->password[plen] = 0;
  }
  return 0;
}

/* "ADDRESS[:PORT]" or "[IPv6][:PORT]"; the port defaults to 6379. */
static int parse_hostport(const char *s, size_t n, struct redis_endpoint *ep) {
  char buf[300];
  if (n >= sizeof buf) return -1;
  memcpy(buf, s, n);
  buf[n] = 0;
  char *host = buf, *port = NULL;
  if (buf[0] == '[') {
    char *close = strchr(buf, ']');
    if (!close) return -1;
    *close = 0;
    host = buf + 1;
    if (close[1] == ':') port = close + 2;
    else if (close[1]) return -1;
  } else if ((port = strchr(buf, ':'))) {
    *port++ = 0;
  }
  if (strlen(host) >= sizeof ep->host) return -1;
  strcpy(ep->host, host);
  ep->port = 6379;
  if (port) {
    char *end;
    long p = strtol(port, &end, 10);
    if (*end || end == port || p < 1 || p > 65535) return -1;
    ep->port = (int)p;
  }
  return host_ok(ep->host) ? 0 : -1;
}

int redis_parse_url(const char *url, struct redis_endpoint *ep, const char **why) {
  memset(ep, 0, sizeof *ep);
  ep->db = -1;
  if (!strncmp(url, "unix://", 7)) return parse_unix(url + 7, ep, why);
  if (!strncmp(url, "unix:", 5)) return parse_unix(url + 5, ep, why);
  *why = "expected redis://[user:password@]ADDRESS[:PORT][/DB] or unix:///PATH "
         "(ADDRESS: an IP address or localhost)";
  if (strncmp(url, "redis://", 8)) return -1;
  const char *s = url + 8;
  const char *at = strrchr(s, '@');
  if (at && parse_userinfo(s, (size_t)(at - s), ep)) return -1;
  if (at) s = at + 1;
  const char *slash = strchr(s, '/');
  size_t hp = slash ? (size_t)(slash - s) : strlen(s);
  if (parse_hostport(s, hp, ep)) return -1;
  if (slash && slash[1]) {
    char *end;
    long db = strtol(slash + 1, &end, 10);
    if (*end || db < 0 || db > 1000000) return -1;
    ep->db = (int)db;
  }
  return 0;
}

const char *redis_describe(const struct redis_config *rc, char *buf, size_t len) {
  struct redis_endpoint ep;
  const char *why;
  if (rc->nsentinels)
    snprintf(buf, len, "primary '%s' via %zu sentinel(s)", rc->sentinel_master, rc->nsentinels);
  else if (redis_parse_url(rc->url, &ep, &why))
    snprintf(buf, len, "(bad URL)");
  else if (ep.unix_socket)
    snprintf(buf, len, "%s", ep.path);
  else
    snprintf(buf, len, "%s:%d", ep.host, ep.port);
  if (rc->nreplicas) {
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, " + %zu replica(s)", rc->nreplicas);
  }
  return buf;
}

/* ---- connection lifecycle ------------------------------------------------- */

static uint64_t now_ms(void) { return util_mono_ms(); }

static void on_retry(uv_timer_t *timer) { conn_start(timer->data); }

/* The current context (or attempt) is gone: retry after a back-off. */
static void conn_failed(struct redis_conn *c, const char *why) {
  bool was_ready = c->state == CS_READY;
  if (c->state == CS_CLOSED) return;
  c->state = CS_DOWN;
  c->ac = NULL;
  c->inflight = 0;
  c->probe_inflight = false;
  uv_timer_stop(&c->cmd_timer);
  if (was_ready) c->t->stats.errors++;
  if (was_ready || !c->warned) {
    char where[300];
    if (c->ep.unix_socket) snprintf(where, sizeof where, "%s", c->ep.path);
    else snprintf(where, sizeof where, "%s:%d", c->ep.host, c->ep.port);
    log_warn("redis %s %s: %s (retrying in %u ms)", c->role, where, why, c->backoff_ms);
    c->warned = true;
  }
  uv_timer_start(&c->timer, on_retry, c->backoff_ms, 0);
  c->backoff_ms = c->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : c->backoff_ms * 2;
}

/* Give up on the current context ourselves. Safe inside its callbacks:
 * hiredis then frees it when the callback returns. */
static void conn_drop(struct redis_conn *c, const char *why) {
  redisAsyncContext *ac = c->ac;
  conn_failed(c, why);
  if (ac) redisAsyncFree(ac);
}

static void conn_ready(struct redis_conn *c) {
  uv_timer_stop(&c->timer);
  c->state = CS_READY;
  c->backoff_ms = RECONNECT_MIN_MS;
  c->failures = 0;
  c->breaker_ms = BREAKER_MIN_MS;
  c->t->stats.connects++;
  if (c->warned || c->t->cfg->nsentinels) {
    if (c->ep.unix_socket) log_info("redis %s %s: connected", c->role, c->ep.path);
    else log_info("redis %s %s:%d: connected", c->role, c->ep.host, c->ep.port);
  }
  c->warned = false;
}

/* Replies to AUTH and SELECT: an error ends the connection. */
static void on_setup_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct redis_conn *c = priv;
  redisReply *reply = r;
  if (c->ac != ac || !reply) return;
  if (reply->type == REDIS_REPLY_ERROR) conn_drop(c, reply->str);
}

/* With Sentinel, the address may be stale: insist on a primary. */
static void on_role_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct redis_conn *c = priv;
  redisReply *reply = r;
  if (c->ac != ac || !reply) return;
  bool master = reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
                reply->element[0]->type == REDIS_REPLY_STRING &&
                !strcmp(reply->element[0]->str, "master");
  if (!master) conn_drop(c, "the address Sentinel gave is not a primary (yet)");
}

/* The PING after the set-up commands: the connection is usable. */
static void on_ping_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct redis_conn *c = priv;
  redisReply *reply = r;
  if (c->ac != ac || !reply || c->state != CS_CONNECTING) return;
  if (reply->type == REDIS_REPLY_ERROR) conn_drop(c, reply->str);
  else conn_ready(c);
}

static void on_connect(const redisAsyncContext *ac, int status) {
  struct redis_conn *c = ac->data;
  if (c->ac != ac || status == REDIS_OK) return;
  c->ac = NULL; /* hiredis frees it after this callback */
  conn_failed(c, ac->errstr[0] ? ac->errstr : "cannot connect");
}

static void on_disconnect(const redisAsyncContext *ac, int status) {
  struct redis_conn *c = ac->data;
  if (c->ac != ac) return;
  c->ac = NULL;
  conn_failed(c, status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void on_connect_timeout(uv_timer_t *timer);

/* AUTH, SELECT, (ROLE), PING: queued at once, sent when connected. */
static void queue_setup(struct redis_conn *c) {
  const struct redis_config *cfg = c->t->cfg;
  const char *user = cfg->user[0] ? cfg->user : c->ep.user;
  const char *password = cfg->password[0] ? cfg->password : c->ep.password;
  int db = cfg->db >= 0 ? cfg->db : (c->ep.db >= 0 ? c->ep.db : 0);
  if (password[0] && user[0])
    redisAsyncCommand(c->ac, on_setup_reply, c, "AUTH %s %s", user, password);
  else if (password[0])
    redisAsyncCommand(c->ac, on_setup_reply, c, "AUTH %s", password);
  if (db) redisAsyncCommand(c->ac, on_setup_reply, c, "SELECT %d", db);
  if (cfg->nsentinels && c == &c->t->primary)
    redisAsyncCommand(c->ac, on_role_reply, c, "ROLE");
  redisAsyncCommand(c->ac, on_ping_reply, c, "PING");
}

/* A new async context attached to the loop, or NULL with why set. */
static redisAsyncContext *open_context(struct redis_tier *t, const struct redis_endpoint *ep,
                                       void *data, char *why, size_t whylen) {
  redisAsyncContext *ac = ep->unix_socket ? redisAsyncConnectUnix(ep->path)
                                          : redisAsyncConnect(ep->host, ep->port);
  if (!ac) {
    snprintf(why, whylen, "out of memory");
    return NULL;
  }
  if (ac->err || redisLibuvAttach(ac, t->loop) != REDIS_OK) {
    snprintf(why, whylen, "%s", ac->err ? ac->errstr : "cannot attach to the loop");
    redisAsyncFree(ac);
    return NULL;
  }
  ac->data = data;
  return ac;
}

static void conn_connect(struct redis_conn *c) {
  char why[160];
  redisAsyncContext *ac = open_context(c->t, &c->ep, c, why, sizeof why);
  if (!ac) {
    conn_failed(c, why);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  c->ac = ac;
  c->state = CS_CONNECTING;
  c->inflight = 0;
  queue_setup(c);
  uv_timer_start(&c->timer, on_connect_timeout, c->t->cfg->connect_timeout_ms, 0);
}

/* ---- Sentinel ----------------------------------------------------------------- */

static void discover(struct redis_conn *c);

/* Forget the sentinel being asked and ask the next one. */
static void sentinel_next(struct redis_conn *c) {
  redisAsyncContext *sac = c->sac;
  c->sac = NULL;
  if (sac) redisAsyncFree(sac);
  c->sentinel_idx++;
  discover(c);
}

static void on_sentinel_connect(const redisAsyncContext *sac, int status) {
  struct redis_conn *c = sac->data;
  if (c->sac != sac || status == REDIS_OK) return;
  c->sac = NULL; /* hiredis frees it */
  c->sentinel_idx++;
  discover(c);
}

static void on_sentinel_reply(redisAsyncContext *sac, void *r, void *priv) {
  struct redis_conn *c = priv;
  redisReply *reply = r;
  if (c->sac != sac || !reply) return;
  bool ok = reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_STRING &&
            reply->element[1]->type == REDIS_REPLY_STRING &&
            reply->element[0]->len < sizeof c->ep.host;
  if (!ok) {
    sentinel_next(c);
    return;
  }
  long port = strtol(reply->element[1]->str, NULL, 10);
  char host[sizeof c->ep.host];
  strcpy(host, reply->element[0]->str);
  if (!host_ok(host) || port < 1 || port > 65535) {
    /* A name would be resolved by a blocking call on this worker's loop
     * (and by the resolver itself): only addresses are used. */
    log_warn("redis: sentinel %s names the primary '%s' port %ld: not an address and port; "
             "asking the next (announce an IP in Sentinel, resolve-hostnames no)",
             c->t->cfg->sentinels[c->sentinel_idx], reply->element[0]->str, port);
    sentinel_next(c);
    return;
  }
  c->sac = NULL;
  redisAsyncFree(sac); /* deferred by hiredis until this callback returns */
  strcpy(c->ep.host, host);
  c->ep.port = (int)port;
  c->ep.unix_socket = false;
  c->sentinel_idx = 0;
  uv_timer_stop(&c->timer);
  conn_connect(c);
}

/* Ask sentinel number c->sentinel_idx where the primary is. */
static void discover(struct redis_conn *c) {
  const struct redis_config *cfg = c->t->cfg;
  if (c->sentinel_idx >= cfg->nsentinels) {
    c->sentinel_idx = 0;
    conn_failed(c, "no sentinel named the primary");
    return;
  }
  struct redis_endpoint sep;
  char why[160], url[320];
  snprintf(url, sizeof url, "redis://%s", cfg->sentinels[c->sentinel_idx]);
  const char *perr;
  redisAsyncContext *sac = NULL;
  if (redis_parse_url(url, &sep, &perr) == 0) sac = open_context(c->t, &sep, c, why, sizeof why);
  if (!sac) {
    c->sentinel_idx++;
    discover(c);
    return;
  }
  redisAsyncSetConnectCallback(sac, on_sentinel_connect);
  c->sac = sac;
  c->state = CS_DISCOVERING;
  /* Pipelined: a refused password fails the question that follows it. */
  if (cfg->sentinel_password[0])
    redisAsyncCommand(sac, NULL, NULL, "AUTH %s", cfg->sentinel_password);
  redisAsyncCommand(sac, on_sentinel_reply, c, "SENTINEL get-master-addr-by-name %s",
                    cfg->sentinel_master);
  uv_timer_start(&c->timer, on_connect_timeout, cfg->connect_timeout_ms, 0);
}

static void conn_start(struct redis_conn *c) {
  if (c->state == CS_CLOSED) return;
  if (c == &c->t->primary && c->t->cfg->nsentinels) discover(c);
  else conn_connect(c);
}

static void on_connect_timeout(uv_timer_t *timer) {
  struct redis_conn *c = timer->data;
  if (c->state == CS_DISCOVERING) sentinel_next(c);
  else if (c->state == CS_CONNECTING) conn_drop(c, "connect timeout");
}

/* ---- circuit breaker ---------------------------------------------------------- */

/* A timeout or an error reply. THRESHOLD in a row opens the breaker; a
 * failed probe keeps it open twice as long. */
static void note_failure(struct redis_conn *c, const char *why) {
  if (++c->failures < BREAKER_THRESHOLD) return;
  if (c->failures > BREAKER_THRESHOLD)
    c->breaker_ms = c->breaker_ms * 2 > BREAKER_MAX_MS ? BREAKER_MAX_MS : c->breaker_ms * 2;
  c->breaker_until = now_ms() + c->breaker_ms;
  c->t->stats.breaker_opens++;
  log_warn("redis %s: %s; not asking it for %u ms", c->role, why, c->breaker_ms);
}

static void note_success(struct redis_conn *c) {
  if (c->failures >= BREAKER_THRESHOLD) log_info("redis %s: answering again", c->role);
  c->failures = 0;
  c->breaker_ms = BREAKER_MIN_MS;
}

static bool breaker_open(const struct redis_conn *c, uint64_t now) {
  return c->failures >= BREAKER_THRESHOLD && now < c->breaker_until;
}

/* Whether a command may go to c now; *probe says it is the half-open probe. */
static bool usable(const struct redis_conn *c, uint64_t now, bool *probe) {
  *probe = false;
  if (c->state != CS_READY || !c->ac || c->inflight >= c->t->cfg->max_pending) return false;
  if (c->failures < BREAKER_THRESHOLD) return true;
  if (breaker_open(c, now) || c->probe_inflight) return false;
  *probe = true;
  return true;
}

/* ---- lookups ---------------------------------------------------------------------- */

static void fifo_remove(struct redis_conn *c, struct redis_lookup *l) {
  struct redis_lookup **pp = &c->head, *prev = NULL;
  while (*pp && *pp != l) {
    prev = *pp;
    pp = &(*pp)->next;
  }
  if (!*pp) return;
  *pp = l->next;
  if (c->tail == l) c->tail = prev;
  if (c->cursor == l) c->cursor = l->next;
}

static void arm_cmd_timer(struct redis_conn *c);

/* Has the server reset or closed the connection behind hiredis's back?
 * hiredis 0.14's libuv adapter ignores poll errors: after a reset with
 * commands in flight (a Redis killed under load) libuv stops polling and
 * no disconnect callback ever comes, so a timeout looks here. */
static bool conn_broken(const struct redis_conn *c) {
  if (!c->ac || c->ac->c.fd < 0) return false;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->ac->c.fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) return true;
  char b;
  return recv(c->ac->c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* Report every lookup whose deadline passed as a miss. */
static void on_cmd_timeout(uv_timer_t *timer) {
  struct redis_conn *c = timer->data;
  uint64_t now = now_ms();
  if (c->cursor && c->cursor->deadline_ms <= now && c->state == CS_READY && conn_broken(c)) {
    conn_drop(c, "connection reset"); /* reports nothing: the lookups follow */
  }
  while (c->cursor && c->cursor->deadline_ms <= now) {
    struct redis_lookup *l = c->cursor;
    c->cursor = l->next;
    if (!l->cb) continue;
    redis_lookup_cb cb = l->cb;
    void *arg = l->arg;
    bool probe = l->probe;
    l->cb = NULL;
    c->t->stats.timeouts++;
    note_failure(c, "lookups time out");
    /* A hung server may never answer the probe: start afresh instead. */
    if (probe) conn_drop(c, "the probe lookup timed out");
    cb(arg, NULL); /* may send more lookups; l stays until its reply */
  }
  arm_cmd_timer(c);
}

static void arm_cmd_timer(struct redis_conn *c) {
  while (c->cursor && !c->cursor->cb) c->cursor = c->cursor->next;
  if (!c->cursor) {
    uv_timer_stop(&c->cmd_timer);
    return;
  }
  uint64_t now = now_ms(), at = c->cursor->deadline_ms;
  uv_timer_start(&c->cmd_timer, on_cmd_timeout, at > now ? at - now : 0, 0);
}

/* Decode, verify and check one value; on success fill the memory tier (or,
 * for a chain record, collect its names). Returns whether it was used. */
static bool take_value(struct redis_tier *t, const struct lookup_key *k, const char *v,
                       size_t vlen, ldns_rdf ***names, size_t *nnames) {
  struct cache_record rec = {.owner = k->owner, .owner_len = k->owner_len, .type = k->type};
  int64_t now = util_now_sec();
  enum record_error e = record_decode((const uint8_t *)v, vlen, k->key, k->klen,
                                      &t->cfg->secret, now, &rec);
  bool kind_ok = k->kind == RECORD_RRSET ? rec.kind == RECORD_RRSET || rec.kind == RECORD_NODATA
                                         : rec.kind == k->kind;
  /* Only answers are shared: anything else under our keys is not ours. */
  if (e == RECORD_OK && (!kind_ok || rec.rank != CACHE_RANK_ANSWER)) e = RECORD_GARBAGE;
  if (e == RECORD_OK) e = record_check_payload(&rec, t->max_chain_names);
  /* Written at expiry - ttl: if its name was flushed since, it is a copy
   * put back (or not yet deleted), never to be used again. */
  if (e == RECORD_OK && cache_flushed_since(t->mem, rec.owner, rec.owner_len,
                                            rec.expiry - (int64_t)rec.ttl)) {
    t->stats.flushed++;
    log_debug("redis: ignoring %.*s: written before a flush of its name", (int)k->klen, k->key);
    return false;
  }
  if (e != RECORD_OK) {
    if (e == RECORD_BAD_MAC) t->stats.bad_mac++;
    else if (e != RECORD_EXPIRED) t->stats.bad_value++;
    if (e != RECORD_EXPIRED) log_debug("redis: ignoring %.*s: %s", (int)k->klen, k->key,
                                       record_error_str(e));
    return false;
  }
  /* Without a secret, anyone who can write to Redis could claim any state:
   * the data is kept unchecked, and judged again before it answers a
   * validating query. */
  if (!t->cfg->secret.len) rec.sec = CACHE_SEC_UNCHECKED;
  if (rec.kind != RECORD_CHAIN) return cache_fill(t->mem, &rec, now) == 0;
  /* record_check_payload vouched for the layout: names end inside it. */
  for (size_t off = 0; off < rec.payload_len && *nnames < t->max_chain_names;) {
    size_t end = off;
    while (rec.payload[end]) end += (size_t)rec.payload[end] + 1;
    size_t n = end + 1 - off;
    ldns_rdf *name = ldns_dname_new_frm_data((uint16_t)n, rec.payload + off);
    if (name) (*names)[(*nnames)++] = name;
    off += n;
  }
  return true;
}

/* Turn an MGET reply into the fetch result handed to the caller. */
static void deliver(struct redis_lookup *l, const redisReply *reply) {
  struct redis_tier *t = l->conn->t;
  bool found[l->nkeys ? l->nkeys : 1];
  ldns_rdf **names = calloc(t->max_chain_names ? t->max_chain_names : 1, sizeof *names);
  size_t nnames = 0, hits = 0;
  for (size_t i = 0; i < l->nkeys; i++) {
    const redisReply *el = reply->element[i];
    found[i] = el->type == REDIS_REPLY_STRING && names &&
               take_value(t, &l->keys[i], el->str, el->len, &names, &nnames);
    hits += found[i];
  }
  t->stats.keys_found += hits;
  if (hits) t->stats.lookup_hits++;
  struct fetch_result res = {found, (const ldns_rdf *const *)names, nnames};
  if (l->cb) l->cb(l->arg, hits ? &res : NULL);
  for (size_t i = 0; i < nnames; i++) ldns_rdf_deep_free(names[i]);
  free(names);
}

static void on_lookup_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct redis_lookup *l = priv;
  struct redis_conn *c = l->conn;
  redisReply *reply = r;
  if (c->ac == ac && c->inflight) c->inflight--;
  if (l->probe) c->probe_inflight = false;
  fifo_remove(c, l);
  bool well_formed = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == l->nkeys;
  if (well_formed) {
    if (l->cb) { /* in time */
      note_success(c);
      hist_observe(&c->t->stats.lookup_latency, &hist_latency, util_mono_us() - l->sent_us);
    }
    deliver(l, reply);           /* late replies still fill the memory tier */
  } else {
    if (reply) {
      c->t->stats.errors++;
      note_failure(c, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    }
    if (l->cb) l->cb(l->arg, NULL);
  }
  free(l);
  if (c->ac == ac) arm_cmd_timer(c);
}

static struct redis_conn *pick_reader(struct redis_tier *t, bool *probe) {
  uint64_t now = now_ms();
  for (size_t i = 0; i < t->nreplicas; i++) {
    struct redis_conn *c = &t->replicas[(t->next_replica + i) % t->nreplicas];
    if (usable(c, now, probe)) {
      t->next_replica = (t->next_replica + i + 1) % t->nreplicas;
      return c;
    }
  }
  return usable(&t->primary, now, probe) ? &t->primary : NULL;
}

static bool make_key(struct redis_tier *t, const struct fetch_key *fk, struct lookup_key *k) {
  k->owner_len = name_key(fk->name, k->owner);
  k->type = fk->type;
  k->kind = fk->kind;
  k->klen = record_key(t->cfg->prefix, k->owner, k->owner_len, fk->type,
                       (enum record_kind)fk->kind, k->key, sizeof k->key);
  return k->owner_len && k->klen;
}

static bool send_mget(struct redis_conn *c, struct redis_lookup *l) {
  const char *argv[1 + l->nkeys];
  size_t lens[1 + l->nkeys];
  argv[0] = "MGET";
  lens[0] = 4;
  for (size_t i = 0; i < l->nkeys; i++) {
    argv[i + 1] = l->keys[i].key;
    lens[i + 1] = l->keys[i].klen;
  }
  return redisAsyncCommandArgv(c->ac, on_lookup_reply, l, (int)l->nkeys + 1, argv, lens) ==
         REDIS_OK;
}

redis_lookup_t *redis_tier_lookup(redis_tier_t *t, const struct fetch_key *keys,
                                  size_t nkeys, redis_lookup_cb cb, void *arg) {
  bool probe;
  struct redis_conn *c = t->closing || nkeys == 0 ? NULL : pick_reader(t, &probe);
  struct redis_lookup *l = c ? calloc(1, sizeof *l + nkeys * sizeof l->keys[0]) : NULL;
  bool ok = l != NULL;
  for (size_t i = 0; ok && i < nkeys; i++) ok = make_key(t, &keys[i], &l->keys[i]);
  if (ok) {
    l->conn = c;
    l->nkeys = nkeys;
    l->cb = cb;
    l->arg = arg;
    l->probe = probe;
    l->deadline_ms = now_ms() + t->cfg->command_timeout_ms;
    l->sent_us = util_mono_us();
    ok = send_mget(c, l);
  }
  if (!ok) {
    free(l);
    t->stats.skipped++;
    return NULL;
  }
  t->stats.lookups++;
  c->inflight++;
  if (probe) c->probe_inflight = true;
  if (c->tail) c->tail->next = l;
  else c->head = l;
  c->tail = l;
  if (!c->cursor) c->cursor = l;
  if (!uv_is_active((uv_handle_t *)&c->cmd_timer)) arm_cmd_timer(c);
  return l;
}

void redis_tier_cancel(redis_lookup_t *l) {
  if (l) l->cb = NULL;
}

/* ---- writes --------------------------------------------------------------------------- */

static void on_write_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct redis_conn *c = priv;
  redisReply *reply = r;
  if (c->ac != ac) return;
  if (c->inflight) c->inflight--;
  if (!reply || reply->type != REDIS_REPLY_ERROR) return;
  c->t->stats.errors++;
  /* After a failover the old primary refuses writes: find the new one. */
  if (!strncmp(reply->str, "READONLY", 8)) conn_drop(c, "the primary became a replica");
  else log_debug("redis %s: write failed: %s", c->role, reply->str);
}

void redis_tier_store(void *tier, const struct cache_record *rec) {
  struct redis_tier *t = tier;
  struct redis_conn *c = &t->primary;
  if (t->closing || rec->rank < CACHE_RANK_ANSWER) return;
  int64_t ttl = rec->expiry - util_now_sec();
  if (ttl < 1) return;
  if (c->state != CS_READY || !c->ac || c->failures >= BREAKER_THRESHOLD ||
      c->inflight >= t->cfg->max_pending) {
    t->stats.writes_dropped++;
    return;
  }
  char key[RECORD_KEY_MAX], ex[24];
  size_t klen = record_key(t->cfg->prefix, rec->owner, rec->owner_len, rec->type,
                           (enum record_kind)rec->kind, key, sizeof key);
  size_t vlen = 0;
  uint8_t *val = klen ? record_encode(rec, key, klen, &t->cfg->secret, &vlen) : NULL;
  if (!val) return;
  snprintf(ex, sizeof ex, "%lld", (long long)ttl);
  const char *argv[] = {"SET", key, (const char *)val, "EX", ex};
  size_t lens[] = {3, klen, vlen, 2, strlen(ex)};
  if (redisAsyncCommandArgv(c->ac, on_write_reply, c, 5, argv, lens) == REDIS_OK) {
    c->inflight++;
    t->stats.writes++;
  } else {
    t->stats.writes_dropped++;
  }
  free(val);
}

/* ---- the tier ----------------------------------------------------------------------------- */

static void conn_init(struct redis_tier *t, struct redis_conn *c, const char *role) {
  c->t = t;
  c->role = role;
  c->state = CS_DOWN;
  c->backoff_ms = RECONNECT_MIN_MS;
  c->breaker_ms = BREAKER_MIN_MS;
  uv_timer_init(t->loop, &c->timer);
  uv_timer_init(t->loop, &c->cmd_timer);
  c->timer.data = c->cmd_timer.data = c;
  t->open_handles += 2;
}

/* ---- the fleet's flush log ---------------------------------------------------------------- */

/* One entry: fields k (the key its MAC covers) and v (a RECORD_FLUSH
 * value). A valid one becomes a marker in the memory tier. */
static void take_flush_entry(struct redis_tier *t, const redisReply *fields, int64_t now) {
  const char *k = NULL, *v = NULL;
  size_t klen = 0, vlen = 0;
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    const redisReply *f = fields->element[i], *val = fields->element[i + 1];
    if (f->type != REDIS_REPLY_STRING || val->type != REDIS_REPLY_STRING || f->len != 1) continue;
    if (f->str[0] == 'k') k = val->str, klen = val->len;
    if (f->str[0] == 'v') v = val->str, vlen = val->len;
  }
  char head[160];
  int hlen = snprintf(head, sizeof head, "%s:v2:flush:", t->cfg->prefix);
  if (!k || !v || hlen <= 0 || klen <= (size_t)hlen || klen > 1100 ||
      memcmp(k, head, (size_t)hlen)) {
    t->stats.bad_value++;
    return;
  }
  struct cache_record rec = {0};
  enum record_error e = record_decode((const uint8_t *)v, vlen, k, klen, &t->cfg->secret, now,
                                      &rec);
  if (e == RECORD_OK && rec.kind != RECORD_FLUSH) e = RECORD_GARBAGE;
  if (e == RECORD_OK) e = record_check_payload(&rec, 0);
  char text[1100];
  memcpy(text, k + hlen, klen - (size_t)hlen);
  text[klen - (size_t)hlen] = 0;
  ldns_rdf *name = e == RECORD_OK ? ldns_dname_new_frm_str(text) : NULL;
  uint8_t wire[256];
  size_t wlen = name ? name_key(name, wire) : 0;
  ldns_rdf_deep_free(name);
  if (e != RECORD_OK || !wlen) {
    if (e == RECORD_BAD_MAC) t->stats.bad_mac++;
    else if (e != RECORD_EXPIRED) t->stats.bad_value++;
    return;
  }
  cache_note_flush(t->mem, wire, wlen, rec.payload[0] == 1, rec.expiry - (int64_t)rec.ttl, now);
}

static void on_log_reply(redisAsyncContext *ac, void *r, void *priv) {
  (void)ac;
  struct redis_tier *t = priv;
  redisReply *reply = r;
  t->log_polling = false;
  if (!reply || reply->type != REDIS_REPLY_ARRAY) return; /* nil: nothing new */
  int64_t now = util_now_sec();
  for (size_t s = 0; s < reply->elements; s++) {
    const redisReply *stream = reply->element[s];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2 ||
        stream->element[1]->type != REDIS_REPLY_ARRAY)
      continue;
    const redisReply *entries = stream->element[1];
    for (size_t i = 0; i < entries->elements; i++) {
      const redisReply *en = entries->element[i];
      if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
          en->element[0]->type != REDIS_REPLY_STRING ||
          en->element[1]->type != REDIS_REPLY_ARRAY || en->element[0]->len >= sizeof t->log_last_id)
        continue;
      memcpy(t->log_last_id, en->element[0]->str, en->element[0]->len);
      t->log_last_id[en->element[0]->len] = 0;
      take_flush_entry(t, en->element[1], now);
    }
  }
}

/* Every second: what the fleet flushed since the last entry read. */
static void on_log_timer(uv_timer_t *timer) {
  struct redis_conn *c = timer->data; /* the primary: closing the timer needs a conn */
  struct redis_tier *t = c->t;
  if (t->closing || t->log_polling || c->state != CS_READY || !c->ac) return;
  if (redisAsyncCommand(c->ac, on_log_reply, t, "XREAD COUNT 1000 STREAMS %s %s", t->log_key,
                        t->log_last_id) == REDIS_OK)
    t->log_polling = true;
}

/* A flush made here: noted in memory at once (before any copy can be put
 * back), and told to the fleet through the log. */
static void log_flush(struct redis_tier *t, const uint8_t *owner, size_t olen, bool below) {
  int64_t now = util_now_sec();
  cache_note_flush(t->mem, owner, olen, below, now, now);
  char key[RECORD_KEY_MAX];
  size_t klen = record_key(t->cfg->prefix, owner, olen, 0, RECORD_FLUSH, key, sizeof key);
  uint8_t scope = below;
  struct cache_record rec = {.owner = owner, .owner_len = olen, .kind = RECORD_FLUSH,
                             .rank = 3, .expiry = now + FLUSH_LOG_LIFE, .ttl = FLUSH_LOG_LIFE,
                             .payload = &scope, .payload_len = 1};
  size_t vlen = 0;
  uint8_t *v = klen ? record_encode(&rec, key, klen, &t->cfg->secret, &vlen) : NULL;
  struct redis_conn *c = &t->primary;
  if (v && c->state == CS_READY && c->ac)
    redisAsyncCommand(c->ac, NULL, NULL, "XADD %s MAXLEN ~ %d * k %b v %b", t->log_key,
                      FLUSH_LOG_MAXLEN, key, klen, v, vlen);
  free(v);
}

redis_tier_t *redis_tier_new(uv_loop_t *loop, const struct redis_config *cfg, cache_t *mem,
                             size_t max_chain_names) {
  struct redis_tier *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->loop = loop;
  t->cfg = cfg;
  t->mem = mem;
  t->max_chain_names = max_chain_names;
  const char *why;
  conn_init(t, &t->primary, "primary");
  if (cfg->url[0] && redis_parse_url(cfg->url, &t->primary.ep, &why)) t->primary.ep.db = -1;
  for (size_t i = 0; i < cfg->nreplicas && i < REDIS_MAX_REPLICAS; i++) {
    struct redis_conn *c = &t->replicas[t->nreplicas];
    if (redis_parse_url(cfg->replicas[i], &c->ep, &why)) continue; /* the config checked */
    conn_init(t, c, "replica");
    t->nreplicas++;
  }
  snprintf(t->log_key, sizeof t->log_key, RECORD_FLUSH_LOG_FMT, cfg->prefix);
  strcpy(t->log_last_id, "0");
  uv_timer_init(loop, &t->log_timer);
  t->log_timer.data = &t->primary;
  t->open_handles++;
  uv_timer_start(&t->log_timer, on_log_timer, FLUSH_LOG_POLL_MS / 10, FLUSH_LOG_POLL_MS);
  conn_start(&t->primary);
  for (size_t i = 0; i < t->nreplicas; i++) conn_start(&t->replicas[i]);
  return t;
}

static void on_timer_closed(uv_handle_t *h) {
  struct redis_conn *c = h->data;
  struct redis_tier *t = c->t;
  if (--t->open_handles == 0) free(t);
}

static void conn_close(struct redis_conn *c) {
  for (struct redis_lookup *l = c->head; l; l = l->next) l->cb = NULL;
  c->state = CS_CLOSED;
  redisAsyncContext *ac = c->ac, *sac = c->sac;
  c->ac = c->sac = NULL;
  if (ac) redisAsyncFree(ac);
  if (sac) redisAsyncFree(sac);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
  uv_close((uv_handle_t *)&c->cmd_timer, on_timer_closed);
}

void redis_tier_close(redis_tier_t *t) {
  if (!t) return;
  t->closing = true;
  uv_timer_stop(&t->log_timer);
  uv_close((uv_handle_t *)&t->log_timer, on_timer_closed);
  size_t n = t->nreplicas;
  conn_close(&t->primary);
  for (size_t i = 0; i < n; i++) conn_close(&t->replicas[i]);
}

/* ---- flushing (operators) ----------------------------------------------------------- */

struct flush_op {
  redis_tier_t *t;
  char name[1100]; /* owner as text, lower case, with the final dot */
  bool below;
  char match[2400];
  unsigned long cursor;
  long deleted;
  uint64_t deadline; /* the tier loop's uv_now: stop scanning after it */
  uv_timer_t timer;  /* a SCAN still unanswered a second after it: Redis hangs */
  redis_flush_cb done;
  void *arg;
};

/* How long after the deadline an unanswered SCAN means a hung Redis. */
#define FLUSH_STUCK_MS 1000

/* A glob matching s literally. */
static void glob_escape(const char *s, char *out, size_t cap) {
  size_t n = 0;
  for (; *s && n + 3 < cap; s++) {
    if (strchr("*?[]\\", *s)) out[n++] = '\\';
    out[n++] = *s;
  }
  out[n] = 0;
}

/* Is key one of ours for the name (or, below, a name under it)? Keys are
 * PREFIX:v2:rr:NAME:TYPE and PREFIX:v2:chain:NAME. */
static bool flush_key_matches(const struct flush_op *op, const char *key, size_t len) {
  size_t plen = strlen(op->t->cfg->prefix);
  if (len < plen + 4 || memcmp(key, op->t->cfg->prefix, plen) || memcmp(key + plen, ":v2:", 4))
    return false;
  const char *p = key + plen + 4, *end = key + len, *owner;
  size_t olen;
  if (end - p > 6 && !memcmp(p, "chain:", 6)) {
    owner = p + 6;
    olen = (size_t)(end - owner);
  } else if (end - p > 3 && !memcmp(p, "rr:", 3)) {
    owner = p + 3;
    const char *colon = end;
    while (colon > owner && colon[-1] != ':') colon--;
    if (colon == owner) return false;
    olen = (size_t)(colon - 1 - owner);
  } else {
    return false;
  }
  size_t nlen = strlen(op->name);
  if (olen == nlen) return !memcmp(owner, op->name, nlen);
  if (!op->below || olen < nlen) return false;
  if (!strcmp(op->name, ".")) return true;
  return !memcmp(owner + olen - nlen, op->name, nlen) && owner[olen - nlen - 1] == '.';
}

static void flush_step(struct flush_op *op);

static void on_flush_timer_closed(uv_handle_t *h) { free(h->data); }

static void flush_finish(struct flush_op *op, long result, bool complete) {
  op->done(op->arg, result, complete);
  uv_close((uv_handle_t *)&op->timer, on_flush_timer_closed);
}

/* A Redis that never answers (hung, stopped) would hold this flush, and
 * every later one, for ever: drop the connection, which answers each
 * command on it with an error (this SCAN too) and reconnects. */
static void on_flush_stuck(uv_timer_t *timer) {
  struct flush_op *op = timer->data;
  if (op->t->primary.ac) conn_drop(&op->t->primary, "a flush's SCAN got no answer");
}

static void on_scan_reply(redisAsyncContext *ac, void *r, void *priv) {
  struct flush_op *op = priv;
  redisReply *reply = r;
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
      reply->element[0]->type != REDIS_REPLY_STRING ||
      reply->element[1]->type != REDIS_REPLY_ARRAY) {
    flush_finish(op, -1, false);
    return;
  }
  for (size_t i = 0; i < reply->element[1]->elements; i++) {
    redisReply *k = reply->element[1]->element[i];
    if (k->type != REDIS_REPLY_STRING || !flush_key_matches(op, k->str, k->len)) continue;
    if (redisAsyncCommand(ac, NULL, NULL, "UNLINK %b", k->str, k->len) == REDIS_OK)
      op->deleted++;
  }
  op->cursor = strtoul(reply->element[0]->str, NULL, 10);
  if (op->cursor == 0) flush_finish(op, op->deleted, true);
  else if (uv_now(op->t->loop) >= op->deadline) flush_finish(op, op->deleted, false);
  else flush_step(op);
}

static void flush_step(struct flush_op *op) {
  struct redis_conn *c = &op->t->primary;
  if (op->t->closing || c->state != CS_READY || !c->ac ||
      redisAsyncCommand(c->ac, on_scan_reply, op, "SCAN %lu MATCH %s COUNT 1000", op->cursor,
                        op->match) != REDIS_OK)
    flush_finish(op, -1, false);
}

void redis_tier_flush(redis_tier_t *t, const ldns_rdf *name, bool below, uint32_t max_ms,
                      redis_flush_cb done, void *arg) {
  struct flush_op *op = t ? calloc(1, sizeof *op) : NULL;
  uint8_t key[256];
  size_t klen = name ? name_key(name, key) : 0;
  if (!op || !klen || !name_wire_text(key, klen, op->name, sizeof op->name)) {
    free(op);
    done(arg, -1, false);
    return;
  }
  op->t = t;
  op->deadline = uv_now(t->loop) + max_ms;
  uv_timer_init(t->loop, &op->timer);
  op->timer.data = op;
  uv_timer_start(&op->timer, on_flush_stuck, (uint64_t)max_ms + FLUSH_STUCK_MS, 0);
  op->below = below;
  op->done = done;
  op->arg = arg;
  char esc_prefix[300], esc_name[2200];
  glob_escape(t->cfg->prefix, esc_prefix, sizeof esc_prefix);
  glob_escape(op->name, esc_name, sizeof esc_name);
  snprintf(op->match, sizeof op->match, below ? "%s:v2:*%s*" : "%s:v2:*:%s*", esc_prefix,
           esc_name);
  log_flush(t, key, klen, below); /* before the keys go: no copy put back meanwhile counts */
  flush_step(op);
}

void redis_tier_stats(const redis_tier_t *t, struct redis_stats *out) {
  *out = t->stats;
  out->up = t->primary.state == CS_READY;
}
