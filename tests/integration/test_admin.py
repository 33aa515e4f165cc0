#!/usr/bin/python3
"""The admin surfaces under attack (issue 17, item 3). Each attack of the
review is performed against a running chaindns, over real HTTP and real
sockets, and shown to fail:

- a cross-site form POST to /cache/flush (Origin of another site, a form
  body): refused before anything is done, and the name stays cached (it is
  answered again without a query to its authority);
- cache control without the token, or with a wrong one: 401 before anything
  is done; without control-token-file there is no cache control over HTTP;
- DNS rebinding (Host: attacker.example) for /chains, /metrics, /trace and /:
  403, nothing of the page leaks; IP addresses, localhost and
  metrics-allowed-host names are still served;
- cross-origin reads (an Origin of another site; Sec-Fetch-Site for an
  image): 403, and no response ever allows another origin (no CORS);
- concurrent flushes: one at a time (429 for the others while the first's
  Redis scan is held up); a hung Redis does not hold flushes for ever;
- 40 half-open connections (from one address, from 40; and 200 from 25),
  and a slow trace: a Prometheus scrape from another address still succeeds
  at once;
- the control socket: mode 0600, the resolver's user's; another user
  (nobody) cannot connect, and is refused by uid if the mode is widened; a
  file that is not a socket, or a socket another resolver serves, is never
  taken over; requests are bounded; ctl works through it.
"""

import http.client
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Chaindns, IntegrationTest, answers, main,  # noqa: E402
                     resolver_bin, wait_for)

BASE = 43
TOKEN = "admin-token-0123456789abcdef"
NOBODY = 65534
ATTACKER = "127.99.43.%d"     # half-open connections come from here
SCRAPER = "127.98.43.1"       # and Prometheus from here


def request(res, method, path, headers=None, body=None, source=None, timeout=10.0):
    """One HTTP/1.1 request to res's metrics listener: (status, headers, body).
    headers may set Host (then http.client sends no Host of its own)."""
    host, port = res.metrics_url[len("http://"):].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=timeout,
                                   source_address=(source, 0) if source else None)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
    finally:
        c.close()


def as_user(uid, fn):
    """Run fn in a forked child as uid (groups dropped): its return value
    must be a small int, which becomes the child's exit status."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            code = fn()
        except BaseException:
            code = 98
        finally:
            os._exit(code)
    _, st = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(st)


def connect_unix(path, timeout=5.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


class Admin(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("org.", [3])
        h.badauth(4)  # counts the queries it gets
        h.zone("example.com.", [4], ["www 3600 A 192.0.2.1", "mail 3600 A 192.0.2.2",
                                      "alias 3600 CNAME www.example.com."])
        h.badauth(5, delay_ms=2500)  # a slow authority, for a slow trace
        h.zone("slow.org.", [5], ["x 3600 A 192.0.2.5"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.token = os.path.join(cls.tmpdir, "control.token")
        with open(cls.token, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(cls.token, 0o600)

    def asked(self, name):
        return self.h.server(4).count(qname=name)

    def cached(self, res, name):
        """res answers name without asking its authority."""
        before = self.asked(name)
        self.assertEqual(len(answers(res.udp(name))), 1)
        return self.asked(name) == before

    def start_failing(self, args, n):
        """A resolver expected to exit at start-up: not waited for."""
        r = Chaindns(self.BASE, self.h.hints, args, self.tmpdir, n=n)
        self.extra_resolvers.append(r)
        return r.start(wait=False)

    def with_token(self, n, args=()):
        return self.start_resolver(["--control-token-file", self.token] + list(args), n=n,
                                   metrics=True)

    # -- cross-site form POST -----------------------------------------------

    def test_cross_site_form_post_does_not_flush(self):
        r = self.with_token(2)
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        self.assertTrue(self.cached(r, "www.example.com"))
        # What a browser sends for a page on evil.example holding
        # <form method=post action="http://ADDR:5399/cache/flush?name=www.example.com">.
        form = {"Origin": "http://evil.example", "Referer": "http://evil.example/",
                "Content-Type": "application/x-www-form-urlencoded",
                "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                "Sec-Fetch-Dest": "document"}
        path = "/cache/flush?name=www.example.com"
        status, _, body = request(r, "POST", path, form, "name=www.example.com")
        self.assertEqual(status, 403, body)
        # Refused for its origin even were the token known to the page.
        status, _, _ = request(r, "POST", path, dict(form, Authorization="Bearer " + TOKEN),
                               "name=www.example.com")
        self.assertEqual(status, 403)
        # A browser that names no origin: still no token, so no flush.
        status, hdrs, _ = request(r, "POST", path,
                                  {"Content-Type": "application/x-www-form-urlencoded"},
                                  "name=www.example.com")
        self.assertEqual(status, 401)
        self.assertTrue(self.cached(r, "www.example.com"), "the form POST flushed the name")
        # Without a control token, there is nothing to POST to.
        plain = self.start_resolver(n=3, metrics=True)
        self.assertEqual(len(answers(plain.udp("mail.example.com"))), 1)
        status, _, _ = request(plain, "POST", "/cache/flush?name=mail.example.com",
                               {"Content-Type": "application/x-www-form-urlencoded"},
                               "name=mail.example.com")
        self.assertEqual(status, 404)
        self.assertTrue(self.cached(plain, "mail.example.com"))

    # -- the token, before any action -----------------------------------------

    def test_missing_or_wrong_token_refused_before_action(self):
        r = self.with_token(4)
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        path = "/cache/flush?name=www.example.com"
        wrong = ["", "Bearer", "Bearer ", "Bearer " + TOKEN[:-1], "Bearer " + TOKEN + "x",
                 "Bearer " + TOKEN.upper(), "Bearer " + "x" * len(TOKEN),
                 "Basic " + TOKEN, TOKEN]
        for auth in wrong:
            headers = {"Authorization": auth} if auth else {}
            status, hdrs, body = request(r, "POST", path, headers)
            self.assertEqual(status, 401, auth)
            self.assertIn("bearer", hdrs.get("www-authenticate", "").lower())
            self.assertNotIn(TOKEN, body)
            status, _, _ = request(r, "GET", "/cache/stats", headers)
            self.assertEqual(status, 401, auth)
        # The right token with a body (a form relayed by something) is
        # refused too, before anything is done.
        status, _, _ = request(r, "POST", path, {"Authorization": "Bearer " + TOKEN}, "x=1")
        self.assertEqual(status, 400)
        self.assertTrue(self.cached(r, "www.example.com"), "a refused request flushed")
        # The right token, alone: flushed, so the next answer asks again.
        status, _, body = request(r, "POST", path, {"Authorization": "Bearer " + TOKEN})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["memory_entries"], 1)
        self.assertFalse(self.cached(r, "www.example.com"))

    # -- DNS rebinding ---------------------------------------------------------

    def test_dns_rebinding_host_refused(self):
        r = self.with_token(5, ["--metrics-allowed-host", "Prom.Example."])
        asked = self.asked("www.example.com")
        self.assertEqual(len(answers(r.udp("alias.example.com"))), 2)  # a chain: in /chains
        status, _, body = request(r, "GET", "/chains")
        self.assertEqual(status, 200)
        self.assertIn("alias.example.com.", body)
        own = "%s:%d" % (r.addr, r.METRICS_PORT)
        foreign = ["attacker.example", "attacker.example:5399", "ATTACKER.example.:5399",
                   own + ".attacker.example", "127.0.0.1.nip.io:5399",
                   "localhost.attacker.example", "prom.example.attacker.example", "",
                   "[::1", "127.0.0.1:53x", "127.0.0.1:5399:1"]
        paths = ["/chains", "/chains?format=html", "/metrics",
                 "/trace?name=www.example.com&nocache=1", "/", "/cache/stats"]
        for host in foreign:
            for path in paths:
                status, hdrs, body = request(r, "GET", path, {"Host": host,
                                                              "Authorization": "Bearer " + TOKEN})
                self.assertEqual(status, 403, (host, path, body))
                self.assertNotIn("alias.example.com", body)
                self.assertNotIn("chaindns_", body)
                self.assertNotIn("access-control-allow-origin", hdrs)
        # The rebinding page got nothing, and no trace was run for it.
        self.assertEqual(self.asked("www.example.com"), asked)
        for host in [own, r.addr, "localhost:5399", "LOCALHOST.", "prom.example:5399",
                     "PROM.EXAMPLE.", "[::1]:5399", "127.0.0.1"]:
            status, _, body = request(r, "GET", "/chains", {"Host": host})
            self.assertEqual(status, 200, host)
            self.assertIn("alias.example.com.", body)
        status, _, body = request(r, "GET", "/metrics", {"Host": "prom.example:5399"})
        self.assertEqual(status, 200)
        self.assertIn("chaindns_queries_total", body)

    # -- cross-origin reads ----------------------------------------------------

    def test_cross_origin_requests_refused(self):
        r = self.with_token(6)
        self.assertEqual(len(answers(r.udp("alias.example.com"))), 2)
        asked = self.asked("mail.example.com")
        own = "http://%s:%d" % (r.addr, r.METRICS_PORT)
        refused = [
            {"Origin": "http://evil.example"},
            {"Origin": "null"},                       # a sandboxed frame, a data: page
            {"Origin": own + ".evil.example"},
            {"Origin": own.replace("http:", "https:")},
            # <img src=...> from another site: no Origin, but Sec-Fetch-Site.
            {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors",
             "Sec-Fetch-Dest": "image"},
            {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
        ]
        for headers in refused:
            for method, path in (("GET", "/chains"), ("GET", "/metrics"),
                                 ("GET", "/trace?name=mail.example.com&nocache=1"),
                                 ("GET", "/cache/stats"),
                                 ("POST", "/cache/flush?name=www.example.com"),
                                 ("OPTIONS", "/cache/flush")):
                h = dict(headers, Authorization="Bearer " + TOKEN,
                         **{"Access-Control-Request-Method": "POST"})
                status, hdrs, body = request(r, method, path, h)
                self.assertEqual(status, 403, (headers, method, path))
                self.assertNotIn("alias.example.com", body)
                self.assertNotIn("access-control-allow-origin", hdrs)
        self.assertEqual(self.asked("mail.example.com"), asked, "a refused /trace ran")
        self.assertTrue(self.cached(r, "www.example.com"))
        # This listener's own pages, a link followed from elsewhere, an
        # address typed in: served, and still without CORS headers.
        for headers in ({"Origin": own},
                        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate",
                         "Sec-Fetch-Dest": "document", "Accept": "text/html"},
                        {"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate"},
                        {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors",
                         "Origin": own}):
            status, hdrs, body = request(r, "GET", "/chains", headers)
            self.assertEqual(status, 200, headers)
            self.assertIn("alias.example.com", body)
            self.assertNotIn("access-control-allow-origin", hdrs)
            self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")
        status, hdrs, _ = request(r, "GET", "/chains", {"Accept": "text/html"})
        self.assertIn("default-src 'none'", hdrs.get("content-security-policy", ""))
        status, hdrs, _ = request(r, "OPTIONS", "/metrics", {"Origin": own})
        self.assertEqual(status, 405)
        self.assertNotIn("access-control-allow-origin", hdrs)

    # -- one flush at a time ---------------------------------------------------

    def test_concurrent_flushes_one_at_a_time(self):
        r = self.with_token(7, ["--redis-url", self.redis.url, "--redis-prefix", "adm",
                                "--threads", "2"])
        rc = self.redis.client()
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        self.assertTrue(wait_for(lambda: rc.exists("adm:v2:rr:www.example.com.:A"), 3))
        # Hold Redis up: the first flush's SCAN waits while clients are paused.
        rc.execute_command("CLIENT", "PAUSE", "2500", "ALL")
        first = {}
        t = threading.Thread(target=lambda: first.update(out=r.ctl("flush", "www.example.com")))
        t0 = time.monotonic()
        t.start()
        time.sleep(0.5)
        # Others meanwhile, through either door, are told at once to wait.
        for attempt in range(3):
            t1 = time.monotonic()
            out = r.ctl("flush-zone", "example.com")
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn("a flush is under way", out.stderr)
            self.assertLess(time.monotonic() - t1, 1.0)
            status, _, body = request(r, "POST", "/cache/flush?zone=example.com",
                                      {"Authorization": "Bearer " + TOKEN})
            self.assertEqual(status, 429, body)
            self.assertIn("one at a time", body)
        # Stats are not flushes: still answered.
        out = r.ctl("stats")
        self.assertEqual(out.returncode, 0, out.stderr)
        t.join(20)
        self.assertGreater(time.monotonic() - t0, 2.0)  # it did wait for the pause
        out = first["out"]
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["redis_keys"], 1)
        self.assertFalse(rc.exists("adm:v2:rr:www.example.com.:A"))
        # Once it is over, the next flush runs.
        out = r.ctl("flush-zone", "example.com")
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_hung_redis_does_not_hold_flushes_for_ever(self):
        r = self.start_resolver(["--redis-url", self.redis.url, "--redis-prefix", "adm2"], n=8)
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        rc = self.redis.client()
        self.assertTrue(wait_for(lambda: rc.exists("adm2:v2:rr:www.example.com.:A"), 3))
        self.redis.proc.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            out = r.ctl("flush", "www.example.com")
            took = time.monotonic() - t0
            # Memory is flushed; Redis is reported unreachable once its SCAN
            # went unanswered past the bound (10 s, plus 1 s), not never.
            self.assertEqual(out.returncode, 1, out.stdout)
            self.assertIn('"redis_keys": "unreachable"', out.stderr)
            self.assertLess(took, 14.0)
            out = r.ctl("flush", "mail.example.com")  # the gate is open again
            self.assertNotIn("under way", out.stderr)
        finally:
            self.redis.proc.send_signal(signal.SIGCONT)
        self.assertTrue(wait_for(lambda: r.ctl("flush", "www.example.com").returncode == 0, 10))

    # -- connection limits -----------------------------------------------------

    def scrape(self, r, timeout=10.0):
        t0 = time.monotonic()
        status, _, body = request(r, "GET", "/metrics", source=SCRAPER, timeout=timeout)
        took = time.monotonic() - t0
        self.assertEqual(status, 200)
        self.assertIn("chaindns_queries_total", body)
        return took

    def half_open(self, r, sources):
        """Connect from each source; half send the start of a request and
        stop there, half send nothing."""
        socks = []
        for i, src in enumerate(sources):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(2)
            try:
                s.connect((r.addr, r.METRICS_PORT))
                if i % 2:
                    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x")
            except OSError:
                pass
            socks.append(s)
        return socks

    @staticmethod
    def closed_by_server(s):
        s.settimeout(0.05)
        try:
            return s.recv(1) == b""
        except socket.timeout:
            return False
        except OSError:
            return True

    def test_half_open_connections_do_not_block_scrapes(self):
        r = self.start_resolver(n=9, metrics=True)
        self.scrape(r)
        took = {}
        for label, sources in (("one address", [ATTACKER % 1] * 40),
                               ("40 addresses", [ATTACKER % i for i in range(1, 41)]),
                               ("200 from 25 addresses",
                                [ATTACKER % (1 + i % 25) for i in range(200)])):
            socks = self.half_open(r, sources)
            try:
                time.sleep(0.2)
                took[label] = self.scrape(r)
                self.assertLess(took[label], 2.0, label)
                if label == "one address":
                    # 8 per address: the server closed the rest at once...
                    gone = sum(self.closed_by_server(s) for s in socks)
                    self.assertGreaterEqual(gone, 40 - 8)
                    # ... and the 8 it kept once they had been idle 5 s.
                    self.assertTrue(wait_for(
                        lambda: sum(self.closed_by_server(s) for s in socks) == 40, 9,
                        interval=0.5))
            finally:
                for s in socks:
                    s.close()
        # A slow trace (its authority takes 2.5 s) holds one thread; a
        # scrape meanwhile lands on another.
        tr = {}
        t = threading.Thread(target=lambda: tr.update(
            res=request(r, "GET", "/trace?name=x.slow.org&nocache=1", timeout=20)))
        t.start()
        time.sleep(0.5)
        socks = self.half_open(r, [ATTACKER % 1] * 40)
        try:
            took["a trace and 40 half-open"] = self.scrape(r)
            self.assertLess(took["a trace and 40 half-open"], 2.0)
        finally:
            for s in socks:
                s.close()
        t.join(20)
        self.assertEqual(tr["res"][0], 200)
        sys.stderr.write("\n  scrape latency: %s\n" % ", ".join(
            "%s %.3f s" % kv for kv in took.items()))

    # -- the control socket ----------------------------------------------------

    def private_dir(self, name):
        """A directory others may traverse (so the socket's own mode is what
        stops them) inside the module's temporary directory."""
        os.chmod(self.tmpdir, 0o711)
        d = os.path.join(self.tmpdir, name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        return d

    def test_control_socket_is_private(self):
        path = os.path.join(self.private_dir("run-a"), "control.sock")
        r = self.start_resolver(["--control-socket", path], n=10)
        r.control = path
        st = os.lstat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, os.geteuid())
        self.assertIn("control socket %s" % path, r.log)
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        # Its owner (root here) flushes through it.
        out = r.ctl("flush", "www.example.com")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["memory_entries"], 1)
        self.assertFalse(self.cached(r, "www.example.com"))  # asked again, cached again

        # Another user cannot even connect: the file's mode says no.
        def connect_as_nobody():
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                return 0
            except PermissionError:
                return 13
            finally:
                s.close()
        self.assertEqual(as_user(NOBODY, connect_as_nobody), 13)
        # The real client, as nobody (where nobody may run this build).
        probe = subprocess.run(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY),
                                "--clear-groups", resolver_bin(), "--version"],
                               capture_output=True, text=True, timeout=10)
        if probe.returncode == 0:
            out = subprocess.run(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY),
                                  "--clear-groups", resolver_bin(), "ctl", "--control", path,
                                  "flush", "www.example.com"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(out.returncode, 1)
            self.assertIn("Permission denied", out.stderr)
        self.assertTrue(self.cached(r, "www.example.com"))

        # Widened by mistake, the socket still refuses other users: the
        # kernel's word on the peer's uid (SO_PEERCRED).
        os.chmod(path, 0o666)

        def flush_as_nobody():
            s = connect_unix(path)
            s.sendall(b"flush www.example.com\n")
            reply = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                reply += b
            return 3 if reply.startswith(b"403\n") else 4
        self.assertEqual(as_user(NOBODY, flush_as_nobody), 3)
        self.assertTrue(self.cached(r, "www.example.com"))
        self.assertEqual(r.stop(), 0)
        self.assertFalse(os.path.exists(path), "the socket file outlived the resolver")

    def test_control_socket_file_handling(self):
        d = self.private_dir("run-b")
        # A socket left by a resolver that did not stop cleanly is replaced.
        stale = os.path.join(d, "stale.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(stale)
        s.close()
        r = self.start_resolver(["--control-socket", stale], n=11)
        r.control = stale
        self.assertEqual(r.ctl("stats").returncode, 0)
        # A socket another resolver serves is not taken over.
        other = self.start_failing(["--control-socket", stale], n=12)
        self.assertTrue(wait_for(lambda: not other.alive(), 5))
        self.assertEqual(other.stop(), 1)
        self.assertIn("another process serves it", other.log)
        self.assertEqual(r.ctl("stats").returncode, 0)
        # A file that is not a socket is never removed.
        plain = os.path.join(d, "not-a-socket")
        with open(plain, "w") as f:
            f.write("keep me\n")
        bad = self.start_failing(["--control-socket", plain], n=12)
        self.assertTrue(wait_for(lambda: not bad.alive(), 5))
        self.assertEqual(bad.stop(), 1)
        self.assertIn("exists and is not a socket", bad.log)
        with open(plain) as f:
            self.assertEqual(f.read(), "keep me\n")
        # Auto: nothing made where the directory does not exist (not tried
        # where it does: that socket would be the machine's).
        if not os.path.exists("/run/chaindns"):
            auto = self.start_resolver(["--control-socket", "auto"], n=13)
            self.assertTrue(wait_for(lambda: "no control socket" in auto.log, 3))
            self.assertIn("no control socket: /run/chaindns does not exist", auto.log)

    def test_control_socket_bounds(self):
        r = self.start_resolver(n=14)
        # At most 8 connections at once: a 9th is closed at once.
        idle = [connect_unix(r.control, timeout=8.0) for _ in range(8)]
        try:
            time.sleep(0.2)
            ninth = connect_unix(r.control)
            self.assertEqual(ninth.recv(100), b"")
            ninth.close()
            # Idle connections are closed after 5 s; then ctl gets through.
            t0 = time.monotonic()
            for s in idle:
                self.assertEqual(s.recv(100), b"")
            self.assertLess(time.monotonic() - t0, 7.0)
        finally:
            for s in idle:
                s.close()
        self.assertEqual(r.ctl("stats").returncode, 0)
        # A request line longer than 1200 bytes is refused.
        s = connect_unix(r.control)
        s.sendall(b"flush " + b"a" * 1300)
        reply = s.recv(4096)
        s.close()
        self.assertTrue(reply.startswith(b"400\n"), reply)
        # Unknown commands, and one line only: the rest is not read.
        s = connect_unix(r.control)
        s.sendall(b"shutdown\nstats\n")
        reply = s.recv(4096)
        s.close()
        self.assertTrue(reply.startswith(b"400\nunknown request"), reply)


if __name__ == "__main__":
    main()
