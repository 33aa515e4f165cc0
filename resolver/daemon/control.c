/* The control socket and the `chaindns ctl` client; see control.h. */
#include "resolver/daemon/control.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#include "resolver/lib/util.h"

/* The threading rule: everything below belongs to the control thread's
 * loop, except cc (internally locked) and, while a command runs on the
 * thread pool, the connection's line and reply (the loop leaves them alone
 * until after_command). */
struct control {
  uv_loop_t loop;
  uv_pipe_t listener;
  uv_async_t stop;
  pthread_t thread;
  cachectl_t *cc;                 /* borrowed */
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  dev_t dev;                      /* the socket file made: removed at the end */
  ino_t ino;                      /* only if it is still that one */
  unsigned nconns;
  struct control_conn *conns;     /* open connections, to close them at stop */
};

struct control_conn {
  struct control *ctl;
  struct control_conn *next, **pprev;
  uv_pipe_t pipe;
  uv_timer_t timer;               /* the request must arrive in time */
  uv_work_t work;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  char line[CONTROL_MAX_LINE + 1];
  size_t len;
  char *reply;                    /* "STATUS\nBODY", malloc'd */
  int refs;                       /* the two handles, and the command while it runs */
  bool draining;                  /* replied: what the client still sends is dropped */
  bool closing;
};

/* After the reply, how long the client has to close its end. */
#define CONTROL_LINGER_MS 1000

/* ---- one connection ------------------------------------------------------------- */

static void conn_unref(struct control_conn *cn) {
  if (--cn->refs) return;
  free(cn->reply);
  free(cn);
}

static void on_handle_closed(uv_handle_t *h) { conn_unref(h->data); }
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_close(struct control_conn *cn) {
  if (cn->closing) return;
  cn->closing = true;
  *cn->pprev = cn->next;
  if (cn->next) cn->next->pprev = cn->pprev;
  cn->ctl->nconns--;
  uv_close((uv_handle_t *)&cn->pipe, on_handle_closed);
  uv_close((uv_handle_t *)&cn->timer, on_handle_closed);
}

static void on_read_timeout(uv_timer_t *t) { conn_close(t->data); }

/* libuv calls it even when the handle closes first: it must exist. */
static void on_shut(uv_shutdown_t *req, int status) {}

/* Closing a unix socket with unread input resets it, and the client may
 * lose the reply: so the write side is shut down first, and what the
 * client still sends is read and dropped until it closes (or a second
 * passes). */
static void on_written(uv_write_t *req, int status) {
  struct control_conn *cn = req->data;
  if (status || cn->closing) {
    conn_close(cn);
    return;
  }
  cn->sreq.data = cn;
  cn->draining = true;
  if (uv_shutdown(&cn->sreq, (uv_stream_t *)&cn->pipe, on_shut) ||
      uv_read_start((uv_stream_t *)&cn->pipe, on_alloc, on_read)) {
    conn_close(cn);
    return;
  }
  uv_timer_start(&cn->timer, on_read_timeout, CONTROL_LINGER_MS, 0);
}

/* Send the reply (cn->reply, or one made of status and msg) and close. */
static void conn_reply(struct control_conn *cn, int status, const char *msg) {
  if (!cn->reply) {
    size_t n = strlen(msg) + 16;
    cn->reply = malloc(n);
    if (cn->reply) snprintf(cn->reply, n, "%d\n%s", status, msg);
  }
  uv_read_stop((uv_stream_t *)&cn->pipe);
  uv_timer_stop(&cn->timer);
  uv_buf_t buf = uv_buf_init(cn->reply, cn->reply ? (unsigned)strlen(cn->reply) : 0);
  cn->wreq.data = cn;
  if (!cn->reply || uv_write(&cn->wreq, (uv_stream_t *)&cn->pipe, &buf, 1, on_written))
    conn_close(cn);
}

/* On the thread pool: the command may wait for the workers and Redis. */
static void run_command(uv_work_t *req) {
  struct control_conn *cn = req->data;
  char *arg = strchr(cn->line, ' ');
  if (arg) *arg++ = 0;
  int status = 400;
  char *body = NULL;
  if (arg && *arg && (!strcmp(cn->line, "flush") || !strcmp(cn->line, "flush-zone")))
    body = cachectl_flush(cn->ctl->cc, arg, cn->line[5] == '-', &status);
  else if (!arg && !strcmp(cn->line, "stats"))
    body = cachectl_stats(cn->ctl->cc, &status);
  else
    body = strdup("unknown request: expected flush NAME, flush-zone ZONE or stats\n");
  size_t n = (body ? strlen(body) : 0) + 16;
  cn->reply = malloc(n);
  if (cn->reply) snprintf(cn->reply, n, "%d\n%s", body ? status : 500,
                          body ? body : "out of memory\n");
  free(body);
}

static void after_command(uv_work_t *req, int status) {
  struct control_conn *cn = req->data;
  if (!cn->closing) conn_reply(cn, 500, "the command did not run\n");
  conn_unref(cn);
}

/* A whole line: run it on the thread pool. */
static void conn_command(struct control_conn *cn, char *nl) {
  *nl = 0;
  if (nl > cn->line && nl[-1] == '\r') nl[-1] = 0;
  uv_read_stop((uv_stream_t *)&cn->pipe);
  uv_timer_stop(&cn->timer);
  cn->work.data = cn;
  if (uv_queue_work(&cn->ctl->loop, &cn->work, run_command, after_command)) {
    conn_reply(cn, 503, "cannot run the command now\n");
    return;
  }
  cn->refs++;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct control_conn *cn = h->data;
  if (cn->draining) *buf = uv_buf_init(cn->line, sizeof cn->line);
  else *buf = uv_buf_init(cn->line + cn->len, (unsigned)(CONTROL_MAX_LINE - cn->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf) {
  struct control_conn *cn = s->data;
  if (nread < 0) {
    conn_close(cn); /* gone before a whole line, or after the reply */
    return;
  }
  if (cn->draining) return;
  cn->len += (size_t)nread;
  cn->line[cn->len] = 0;
  char *nl = memchr(cn->line, '\n', cn->len);
  if (nl) conn_command(cn, nl);
  else if (cn->len == CONTROL_MAX_LINE) conn_reply(cn, 400, "request too long\n");
}

/* Only the resolver's own user, or root: the file's mode says so, and the
 * kernel's word on the peer checks it again. */
static bool peer_allowed(struct control_conn *cn) {
  uv_os_fd_t fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (uv_fileno((uv_handle_t *)&cn->pipe, &fd) ||
      getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
    return false;
  return cred.uid == 0 || cred.uid == geteuid();
}

static void on_connection(uv_stream_t *server, int status) {
  struct control *ctl = server->data;
  struct control_conn *cn = status == 0 ? calloc(1, sizeof *cn) : NULL;
  if (!cn) return;
  cn->ctl = ctl;
  cn->refs = 2;
  uv_pipe_init(&ctl->loop, &cn->pipe, 0);
  uv_timer_init(&ctl->loop, &cn->timer);
  cn->pipe.data = cn->timer.data = cn;
  cn->next = ctl->conns;
  cn->pprev = &ctl->conns;
  if (ctl->conns) ctl->conns->pprev = &cn->next;
  ctl->conns = cn;
  ctl->nconns++;
  if (uv_accept(server, (uv_stream_t *)&cn->pipe) || ctl->nconns > CONTROL_MAX_CONNS) {
    conn_close(cn);
    return;
  }
  if (!peer_allowed(cn)) {
    conn_reply(cn, 403, "only the resolver's user or root may use the control socket\n");
    return;
  }
  uv_timer_start(&cn->timer, on_read_timeout, CONTROL_READ_TIMEOUT_MS, 0);
  uv_read_start((uv_stream_t *)&cn->pipe, on_alloc, on_read);
}

/* ---- the server ----------------------------------------------------------------- */

static void on_stop(uv_async_t *a) {
  struct control *ctl = a->data;
  uv_close((uv_handle_t *)&ctl->listener, NULL);
  uv_close((uv_handle_t *)&ctl->stop, NULL);
  while (ctl->conns) conn_close(ctl->conns);
}

static void *control_thread(void *arg) {
  struct control *ctl = arg;
  uv_run(&ctl->loop, UV_RUN_DEFAULT); /* until on_stop closed everything */
  return NULL;
}

static int fail(char *err, size_t errlen, const char *path, const char *why) {
  snprintf(err, errlen, "%s: %s", path, why);
  return -1;
}

/* A socket file left by a resolver that did not stop cleanly is removed;
 * anything else at path stays, and start-up says why. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen) {
  const char *path = sa->sun_path;
  struct stat st;
  if (lstat(path, &st)) return errno == ENOENT ? 0 : fail(err, errlen, path, strerror(errno));
  if (!S_ISSOCK(st.st_mode)) return fail(err, errlen, path, "exists and is not a socket");
  int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int rc = probe < 0 ? -1 : connect(probe, (const struct sockaddr *)sa, sizeof *sa);
  int why = errno;
  if (probe >= 0) close(probe);
  if (rc == 0) return fail(err, errlen, path, "another process serves it (a second chaindns?)");
  if (why != ECONNREFUSED) return fail(err, errlen, path, strerror(why));
  if (unlink(path) && errno != ENOENT) return fail(err, errlen, path, strerror(errno));
  return 0;
}

/* The listening socket, its file created with mode 0600 from the start:
 * Linux gives a socket's file the mode of the socket (less the umask), so
 * it is set before bind and the file is never open to others, not even for
 * an instant. Returns the descriptor, or -1 with err set. */
static int make_socket(struct control *ctl, char *err, size_t errlen) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(ctl->path) >= sizeof sa.sun_path)
    return fail(err, errlen, ctl->path, "too long for a unix socket");
  strcpy(sa.sun_path, ctl->path);
  if (clear_stale(&sa, err, errlen)) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct stat st;
  if (fd < 0 || fchmod(fd, 0600) || bind(fd, (struct sockaddr *)&sa, sizeof sa) ||
      lstat(ctl->path, &st)) {
    fail(err, errlen, ctl->path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  ctl->dev = st.st_dev;
  ctl->ino = st.st_ino;
  if ((st.st_mode & 0077) || chmod(ctl->path, 0600)) { /* belt and braces */
    fail(err, errlen, ctl->path, "cannot make it private (mode 0600)");
    unlink(ctl->path);
    close(fd);
    return -1;
  }
  return fd;
}

static void remove_socket_file(const struct control *ctl) {
  struct stat st;
  if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino)
    unlink(ctl->path);
}

control_t *control_start(const char *path, cachectl_t *cc, char *err, size_t errlen) {
  struct control *ctl = calloc(1, sizeof *ctl);
  if (!ctl || uv_loop_init(&ctl->loop)) {
    snprintf(err, errlen, "out of memory");
    free(ctl);
    return NULL;
  }
  ctl->cc = cc;
  snprintf(ctl->path, sizeof ctl->path, "%s", path);
  int fd = make_socket(ctl, err, errlen), rc = fd < 0 ? -1 : 0;
  if (rc == 0) {
    uv_pipe_init(&ctl->loop, &ctl->listener, 0);
    ctl->listener.data = ctl;
    if ((rc = uv_pipe_open(&ctl->listener, fd)) == 0)
      rc = uv_listen((uv_stream_t *)&ctl->listener, 16, on_connection);
    else
      close(fd);
    if (rc) fail(err, errlen, path, uv_strerror(rc));
    uv_async_init(&ctl->loop, &ctl->stop, on_stop);
    ctl->stop.data = ctl;
    if (rc == 0 && pthread_create(&ctl->thread, NULL, control_thread, ctl)) {
      rc = fail(err, errlen, path, "cannot start its thread");
    }
    if (rc) {
      on_stop(&ctl->stop);
      uv_run(&ctl->loop, UV_RUN_DEFAULT);
    }
  }
  if (rc) {
    if (fd >= 0) remove_socket_file(ctl);
    uv_loop_close(&ctl->loop);
    free(ctl);
    return NULL;
  }
  return ctl;
}

void control_stop(control_t *ctl) {
  if (!ctl) return;
  uv_async_send(&ctl->stop);
  pthread_join(ctl->thread, NULL);
  uv_loop_close(&ctl->loop);
  remove_socket_file(ctl);
  free(ctl);
}

/* ---- the client ----------------------------------------------------------------- */

/* Read what the server sends until it closes (at most 64 MiB). */
static char *read_all(int fd, size_t *used) {
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  ssize_t got;
  *used = 0;
  while (buf && (got = read(fd, buf + *used, cap - *used - 1)) > 0) {
    *used += (size_t)got;
    if (*used + 1 == cap) {
      char *nb = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
  }
  if (buf) buf[*used] = 0;
  return buf;
}

static void set_timeouts(int fd, int timeout_ms) {
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Print the body where it belongs; the exit status. */
static int print_body(int code, const char *body) {
  fputs(body, code == 200 ? stdout : stderr);
  return code == 200 ? 0 : 1;
}

int control_request(const char *path, const char *line, int timeout_ms) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof sa.sun_path) {
    fprintf(stderr, "chaindns ctl: %s: too long for a unix socket\n", path);
    return 1;
  }
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
    int why = errno;
    fprintf(stderr, "chaindns ctl: cannot reach %s: %s%s\n", path, strerror(why),
            why == EACCES ? " (run it as the resolver's user or root)"
            : why == ENOENT || why == ECONNREFUSED
                ? " (is the resolver running, with this control-socket?)"
                : "");
    if (fd >= 0) close(fd);
    return 1;
  }
  set_timeouts(fd, timeout_ms);
  size_t n = strlen(line), used;
  char *req = malloc(n + 2);
  bool sent = req && (memcpy(req, line, n), req[n] = '\n', write_all(fd, req, n + 1));
  free(req);
  char *buf = sent ? read_all(fd, &used) : NULL;
  close(fd);
  int code = 0, off = 0;
  if (!buf || sscanf(buf, "%d\n%n", &code, &off) != 1 || !off) {
    fprintf(stderr, "chaindns ctl: no answer from %s\n", path);
    free(buf);
    return 1;
  }
  int rc = print_body(code, buf + off);
  free(buf);
  return rc;
}

/* The token: the file's first line (as the resolver reads it). */
static bool read_token(const char *file, char *out, size_t cap) {
  FILE *f = fopen(file, "r");
  size_t n = f ? fread(out, 1, cap - 1, f) : 0;
  if (f) fclose(f);
  out[n] = 0;
  out[strcspn(out, "\r\n")] = 0;
  return out[0] != 0;
}

int control_request_http(const char *where, const char *method, const char *path,
                         const char *token_file, int timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t len;
  char token[300];
  if (util_parse_addr_port(where, 5399, &ss, &len)) {
    fprintf(stderr, "chaindns ctl: bad --metrics address '%s'\n", where);
    return 2;
  }
  if (!read_token(token_file, token, sizeof token)) {
    fprintf(stderr, "chaindns ctl: cannot read a token from %s\n", token_file);
    return 2;
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) set_timeouts(fd, timeout_ms);
  if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
    fprintf(stderr, "chaindns ctl: cannot reach %s (is the resolver running with --metrics?)\n",
            where);
    if (fd >= 0) close(fd);
    return 1;
  }
  /* Host: the address itself, which the listener always answers to. */
  char host[80];
  util_addr_str((struct sockaddr *)&ss, host, sizeof host);
  size_t cap = strlen(path) + strlen(token) + 256;
  char *req = malloc(cap);
  int n = req ? snprintf(req, cap, "%s %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n",
                         method, path, host, token) : -1;
  bool sent = n > 0 && write_all(fd, req, (size_t)n);
  if (req) memset(req, 0, cap); /* the token */
  memset(token, 0, sizeof token);
  free(req);
  size_t used;
  char *buf = sent ? read_all(fd, &used) : NULL;
  close(fd);
  int code = 0;
  char *body = buf ? strstr(buf, "\r\n\r\n") : NULL;
  if (!buf || sscanf(buf, "HTTP/%*s %d", &code) != 1 || !body) {
    fprintf(stderr, "chaindns ctl: no HTTP answer from %s\n", where);
    free(buf);
    return 1;
  }
  int rc = print_body(code, body + 4);
  free(buf);
  return rc;
}
