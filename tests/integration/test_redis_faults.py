#!/usr/bin/python3
"""The shared cache when Redis misbehaves or moves: killed mid-run (every
query still answered, no added latency), killed and restarted under load
from four clients (every query answered), restarted (sharing resumes by
itself), asleep (DEBUG SLEEP: at most the command timeout added, then the
breaker stops asking), reached over a unix socket with a password, read
replicas, and a Sentinel failover of the primary. Real redis-server
processes on 127.55.22.x, each test with its own."""

import os
import signal
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, RedisServer, answers, main, rcode,
                     redis_addr, stats_delta, wait_for)  # noqa: E402

BASE = 22
NAMES = 60


class RedisFaults(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("example.com.", [3], ["n%d 300 A 192.0.2.%d" % (i, i % 250 + 1)
                                      for i in range(NAMES)] +
               ["s%d 300 A 198.51.100.%d" % (i, i % 250 + 1) for i in range(NAMES)])

    def setUp(self):
        self.servers = []

    def tearDown(self):
        for r in self.servers:
            r.stop()

    def start_redis(self, n, port=6379, **kw):
        r = RedisServer(redis_addr(BASE, n), port, self.tmpdir, **kw)
        self.servers.append(r)
        return r.start()

    def timed(self, res, name):
        t0 = time.monotonic()
        r = res.udp(name, timeout=5)
        elapsed = time.monotonic() - t0
        self.assertResolved(r)
        return elapsed

    def test_killed_then_restarted(self):
        r = self.start_redis(1)
        c = self.start_resolver(["--redis-url", r.url, "--redis-prefix", "k"], n=2)
        self.assertResolved(c.udp("n0.example.com"))
        key = "k:v2:rr:n0.example.com.:A"
        self.assertTrue(wait_for(lambda: r.client().exists(key), 3))
        r.stop(signal.SIGKILL)
        # Once the resolver has seen the connection go (at once: the kernel
        # closes it), no lookup waits for the dead server.
        self.assertTrue(wait_for(lambda: "retrying in" in c.log, 3), c.log[-2000:])
        before = c.stats()
        worst = max(self.timed(c, "n%d.example.com" % i) for i in range(1, 21))
        st = stats_delta(before, c.stats())
        # A dead Redis refuses connections at once: no lookup waits for it.
        self.assertLess(worst, 0.5, st)
        self.assertEqual(st["redis.timeouts"], 0, st)
        self.assertEqual(st["redis.lookups"], 0, st)
        self.assertEqual(st["redis.skipped"], 20, st)
        # Back on the same address: the resolver reconnects by itself.
        r.start()
        self.assertTrue(wait_for(lambda: c.stats()["redis.connects"] >= 2, 10), c.log[-2000:])
        self.assertResolved(c.udp("n30.example.com"))
        self.assertTrue(wait_for(lambda: r.client().exists("k:v2:rr:n30.example.com.:A"), 3))
        self.assertIn("connected", c.log)

    def test_killed_and_restarted_under_load(self):
        r = self.start_redis(30)
        c = self.start_resolver(["--redis-url", r.url, "--redis-prefix", "L"], n=30)
        stop = threading.Event()
        results = []  # (name, rcode or None for no answer)
        lock = threading.Lock()

        def load(worker):
            # Hits, and names nobody asked before (each a Redis lookup, a
            # resolution and a Redis write), until told to stop; bounded.
            for i in range(3000):
                if stop.is_set():
                    return
                name = ("n%d.example.com" % (i % NAMES) if i % 2 else
                        "miss-%d-%d.example.com" % (worker, i))
                try:
                    rc = rcode(c.udp(name, timeout=4))
                except Exception:  # noqa: BLE001
                    rc = None
                with lock:
                    results.append((name, rc))
        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.0)
        r.stop(signal.SIGKILL)
        time.sleep(2.0)
        r.start()
        time.sleep(2.0)
        stop.set()
        for t in threads:
            t.join(15)
        self.assertTrue(c.alive())
        bad = [x for x in results if x[1] not in ("NOERROR", "NXDOMAIN")]
        self.assertGreater(len(results), 200)
        self.assertEqual(bad, [], "%d of %d queries unanswered or failed" % (len(bad),
                                                                           len(results)))
        # Sharing resumed by itself after the restart.
        self.assertTrue(wait_for(lambda: c.stats()["redis.connects"] >= 2, 10), c.log[-2000:])
        self.assertEqual(rcode(c.udp("miss-after.example.com")), "NXDOMAIN")
        self.assertTrue(wait_for(lambda: any(r.client().scan_iter("L:*miss-after*")), 5))

    def test_reset_with_lookups_in_flight(self):
        # A server that answers the set-up PING, then resets the connection
        # (RST) when a lookup arrives. hiredis's libuv adapter drops the
        # poll error on the floor; the resolver must notice by itself and
        # reconnect, not keep a dead connection forever.
        addr = redis_addr(BASE, 40)
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((addr, 6379))
        srv.listen(8)
        srv.settimeout(0.2)
        done = threading.Event()
        conns = []

        def serve():
            while not done.is_set():
                try:
                    conn, _ = srv.accept()
                except socket.timeout:
                    continue
                conns.append(conn)
                conn.settimeout(3)
                try:
                    while True:
                        data = conn.recv(65536)
                        if not data:
                            break
                        if b"MGET" in data:
                            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            struct.pack("ii", 1, 0))
                            break
                        conn.sendall(b"+PONG\r\n" * data.count(b"PING"))
                except OSError:
                    pass
                conn.close()
        t = threading.Thread(target=serve)
        t.start()
        try:
            c = self.start_resolver(["--redis-url", "redis://%s:6379" % addr,
                                     "--redis-prefix", "rst"], n=40)
            self.assertTrue(wait_for(lambda: c.stats()["redis.connects"] >= 1, 5), c.log)
            for i in range(5):
                self.assertResolved(c.udp("s%d.example.com" % i))
                time.sleep(0.3)
            self.assertGreaterEqual(c.stats()["redis.connects"], 2, c.log[-3000:])
            self.assertIn("connection reset", c.log)
        finally:
            done.set()
            t.join(5)
            srv.close()

    def test_asleep_then_awake(self):
        r = self.start_redis(3)
        w = self.start_resolver(["--redis-url", r.url, "--redis-prefix", "s"], n=4)
        for i in range(10, 20):
            self.assertResolved(w.udp("s%d.example.com" % i))
        c = self.start_resolver(["--redis-url", r.url, "--redis-prefix", "s",
                                 "--redis-command-timeout", "50"], n=5)
        self.assertResolved(c.udp("n59.example.com"))
        sleeper = threading.Thread(target=lambda: r.client(timeout=5).execute_command(
            "DEBUG", "SLEEP", "1.5"))
        sleeper.start()
        time.sleep(0.1)
        before = c.stats()
        times = [self.timed(c, "n%d.example.com" % i) for i in range(40, 55)]
        st = stats_delta(before, c.stats())
        sleeper.join()
        # The first lookups cost the command timeout, then the breaker
        # opens and nothing waits for Redis any more.
        self.assertGreaterEqual(st["redis.breaker_opens"], 1, st)
        self.assertGreaterEqual(st["redis.timeouts"], 3, st)
        self.assertLessEqual(st["redis.timeouts"], 4, st)
        self.assertGreaterEqual(st["redis.skipped"], 10, st)
        self.assertLess(max(times), 0.05 + 0.4, times)
        self.assertLess(sum(times[5:]) / len(times[5:]), 0.05, times)
        # Awake again: after the breaker's pause a probe gets through and
        # names another instance shared are answered from Redis.
        def shared_answer():
            for i in range(10, 20):
                b = c.stats()
                self.assertResolved(c.udp("s%d.example.com" % i))
                if stats_delta(b, c.stats())["redis.lookup_hits"]:
                    return True
                time.sleep(0.4)
            return False
        self.assertTrue(wait_for(shared_answer, 10), c.log[-2000:])

    def test_unix_socket_with_password(self):
        r = self.start_redis(6, unix_socket=True, password="sesame-open-please")
        pwfile = os.path.join(self.tmpdir, "redis-password")
        with open(pwfile, "w") as f:
            f.write("sesame-open-please\n")
        url = "unix://%s" % r.socket
        a = self.start_resolver(["--redis-url", url, "--redis-password-file", pwfile,
                                 "--redis-prefix", "u"], n=7)
        b = self.start_resolver(["--redis-url", url + "?db=0", "--redis-password-file", pwfile,
                                 "--redis-prefix", "u"], n=8)
        self.assertResolved(a.udp("n1.example.com"))
        self.assertTrue(wait_for(lambda: a.stats()["redis.writes"] >= 1, 3))
        time.sleep(0.2)
        self.assertResolved(b.udp("n1.example.com"))
        self.assertEqual(b.upstream_queries(), 0, b.log[-2000:])
        # A wrong password: the tier stays down, resolution goes on.
        bad = self.start_resolver(["--redis-url", url, "--redis-password", "wrong",
                                   "--redis-prefix", "u"], n=9)
        self.assertResolved(bad.udp("n2.example.com"))
        self.assertEqual(bad.stats()["redis.connects"], 0)
        self.assertIn("redis primary", bad.log)

    def test_reads_go_to_replicas(self):
        p = self.start_redis(10)
        rep = self.start_redis(11, role="replica", replicaof=(p.addr, p.port)).wait_synced()
        a = self.start_resolver(["--redis-url", p.url, "--redis-prefix", "r"], n=10)
        self.assertResolved(a.udp("n3.example.com"))
        self.assertTrue(wait_for(lambda: rep.client().exists("r:v2:rr:n3.example.com.:A"), 5))
        mgets = lambda srv: srv.client().info("commandstats").get(  # noqa: E731
            "cmdstat_mget", {}).get("calls", 0)
        b = self.start_resolver(["--redis-url", p.url, "--redis-replica", rep.url,
                                 "--redis-prefix", "r"], n=11)
        # Until its replica connection is up, B reads from the primary.
        self.assertTrue(wait_for(lambda: b.stats()["redis.connects"] == 2, 5))
        p_before, r_before = mgets(p), mgets(rep)
        self.assertResolved(b.udp("n3.example.com"))
        self.assertEqual(b.upstream_queries(), 0)
        self.assertGreater(mgets(rep), r_before)
        self.assertEqual(mgets(p), p_before)

    def test_sentinel_failover(self):
        p = self.start_redis(20)
        rep = self.start_redis(21, role="replica", replicaof=(p.addr, p.port)).wait_synced()
        s = self.start_redis(22, port=26379, role="sentinel", monitor=("fleet", p.addr, p.port))
        sentinel = ["--redis-sentinel", "%s:26379" % s.addr, "--redis-sentinel-master",
                    "fleet", "--redis-prefix", "f"]
        a = self.start_resolver(sentinel, n=20)
        self.assertResolved(a.udp("n5.example.com"))
        self.assertTrue(wait_for(lambda: rep.client().exists("f:v2:rr:n5.example.com.:A"), 5))
        p.stop(signal.SIGKILL)
        primary = lambda: s.client().execute_command(  # noqa: E731
            "SENTINEL", "get-master-addr-by-name", "fleet")
        # Queries are answered all through the failover.
        def promoted():
            self.assertResolved(a.udp("n%d.example.com" % (6 + int(time.monotonic()) % 20)))
            return primary()[0].decode() == rep.addr
        self.assertTrue(wait_for(promoted, 20, interval=0.2), s.log[-3000:])
        self.assertTrue(wait_for(lambda: a.stats()["redis.connects"] >= 2, 15), a.log[-3000:])
        self.assertResolved(a.udp("n40.example.com"))
        self.assertTrue(wait_for(lambda: rep.client().exists("f:v2:rr:n40.example.com.:A"), 3),
                        a.log[-3000:])
        # A new instance finds the primary through Sentinel and shares both
        # what was written before the failover and after it.
        b = self.start_resolver(sentinel, n=21)
        for name in ("n5.example.com", "n40.example.com"):
            self.assertResolved(b.udp(name))
        self.assertEqual(b.upstream_queries(), 0, b.log[-2000:])
        self.assertEqual([x[2] for x in answers(b.udp("n40.example.com"))], ["192.0.2.41"])


if __name__ == "__main__":
    main()
