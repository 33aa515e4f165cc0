#!/usr/bin/python3
"""Sentinel, as an attacker or a careless setup would use it (issue 17,
item 5). Whoever answers as Sentinel chooses the primary the instances
write to, so: a Sentinel with requirepass is asked with the password
(redis-sentinel-password-file) and without it gives nothing; and a
"Sentinel" that names the primary by host name is not followed, since
resolving it would block a worker's loop (and ask the resolver itself):
the resolver goes on answering at once and says why in its log.

A real redis-server and redis-sentinel (requirepass) on 127.55.48.n, and a
fake Sentinel of ours speaking RESP on 127.55.48.9."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, RedisServer, main, redis_addr,  # noqa: E402
                     wait_for)

BASE = 48
PASSWORD = "sentinel-pass-0123456789"


class FakeSentinel:
    """Answers every command with the primary's 'address': a host name."""

    def __init__(self, addr, port, host):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.host, self.asked, self.stopping = host, 0, False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1.0)
            try:
                data = conn.recv(4096)
                if b"get-master-addr-by-name" in data.lower():
                    self.asked += 1
                    h = self.host.encode()
                    conn.sendall(b"*2\r\n$%d\r\n%s\r\n$4\r\n6379\r\n" % (len(h), h))
                time.sleep(0.2)
            except OSError:
                pass
            finally:
                conn.close()

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


class SentinelBoundaries(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("example.com.", [3], ["www 300 A 192.0.2.1"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.servers = []
        try:
            cls.primary = cls.redis_server(1)
            cls.sentinel = cls.redis_server(2, port=26379, role="sentinel", password=PASSWORD,
                                            monitor=("fleet", cls.primary.addr, 6379))
            cls.pwfile = os.path.join(cls.tmpdir, "sentinel.password")
            with open(cls.pwfile, "w") as f:
                f.write(PASSWORD + "\n")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def redis_server(cls, n, port=6379, **kw):
        r = RedisServer(redis_addr(BASE, n), port, cls.tmpdir, **kw)
        cls.servers.append(r)
        return r.start()

    @classmethod
    def tearDownClass(cls):
        for r in getattr(cls, "servers", []):
            r.stop()
        super().tearDownClass()

    def via_sentinel(self, n, sentinel, *args):
        return self.start_resolver(["--redis-sentinel", sentinel, "--redis-sentinel-master",
                                    "fleet", "--redis-prefix", "s%d" % n] + list(args), n=n)

    def test_password_protected_sentinel(self):
        r = self.via_sentinel(2, "%s:26379" % self.sentinel.addr,
                              "--redis-sentinel-password-file", self.pwfile)
        self.assertResolved(r.udp("www.example.com", timeout=5))
        c = self.primary.client()
        self.assertTrue(wait_for(lambda: c.exists("s2:v2:rr:www.example.com.:A"), 5),
                        "nothing written through the primary the Sentinel named:\n" + r.log)

    def test_without_the_password_sentinel_gives_nothing(self):
        r = self.via_sentinel(3, "%s:26379" % self.sentinel.addr)
        self.assertResolved(r.udp("www.example.com", timeout=5))  # Redis is only an accelerator
        self.assertTrue(wait_for(lambda: "no sentinel named the primary" in r.log, 5), r.log)
        time.sleep(0.3)
        self.assertFalse(self.primary.client().exists("s3:v2:rr:www.example.com.:A"))

    def test_a_host_name_for_the_primary_is_not_followed(self):
        fake = FakeSentinel(redis_addr(BASE, 9), 26379, "primary.blocking.example")
        try:
            r = self.via_sentinel(4, "%s:26379" % redis_addr(BASE, 9))
            self.assertTrue(wait_for(lambda: fake.asked >= 1, 5))
            # The worker's loop is not blocked: answers keep coming at once.
            for _ in range(10):
                self.assertResolved(r.udp("www.example.com", timeout=1.0))
            self.assertIn("names the primary 'primary.blocking.example' port 6379: not an "
                          "address", r.log)
        finally:
            fake.stop()


if __name__ == "__main__":
    main()
