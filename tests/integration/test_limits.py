#!/usr/bin/python3
"""Resource limits shed load with a clear signal and a counter, and everyone
else keeps being served: per-client UDP rate limit (drop, or TC=1 every
slip-th), resolutions in flight (REFUSED + EDE), upstream queries in flight,
TCP connections per client, and TCP clients too slow to send a query."""

import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402
import dns.message  # noqa: E402

from harness import (RESOLVER_PORT, IntegrationTest, answers, ede, main,  # noqa: E402
                     make_query, metric, rcode, udp, wait_for)

BASE = 26


def client_addr(n):
    return "127.26.100.%d" % n


def burst(server, name, count, source):
    """`count` queries from one socket at `source`, sent back to back; then
    the replies that came within a second: (normal, truncated)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    try:
        for i in range(count):
            q = make_query(name, "A", qid=i)
            s.sendto(q.to_wire(), server)
        normal = truncated = 0
        s.settimeout(1.0)
        while True:
            try:
                wire, _ = s.recvfrom(65535)
            except socket.timeout:
                break
            m = dns.message.from_wire(wire)
            if m.flags & dns.flags.TC:
                truncated += 1
                assert not m.answer, "a slipped reply carries no records"
                assert str(m.question[0].name) == name
            else:
                normal += 1
        return normal, truncated
    finally:
        s.close()


class Limits(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("fast.com.", [3], ["www 3600 A 192.0.2.1"]
               + ["n%d 3600 A 192.0.2.%d" % (i, i + 10) for i in range(20)])
        # Every answer a second late: resolutions stay in flight.
        h.badauth(4, delay_ms=1000)
        h.zone("slow.com.", [4], ["s%d 300 A 198.51.100.%d" % (i, i + 1) for i in range(10)])

    def test_ratelimit_drops_and_slips_per_client(self):
        r = self.start_resolver(["--ratelimit", "20", "--ratelimit-slip", "2",
                                 "--allow", "127.0.0.0/8"], n=2, metrics=True)
        self.assertEqual(answers(r.udp("www.fast.com"))[0][2], "192.0.2.1")
        time.sleep(1.1)  # the bucket refills after the warm-up query
        normal, truncated = burst(r.server_addr, "www.fast.com.", 100, client_addr(1))
        # A burst of one second's worth passes; of the other 80, every
        # second one gets TC=1 and the rest are dropped.
        self.assertGreaterEqual(normal, 20)
        self.assertLessEqual(normal, 23)
        self.assertGreaterEqual(truncated, 35)
        self.assertLessEqual(truncated, 41)
        # Another client is not affected, and the limited one gets through
        # over TCP, as the TC=1 tells it to.
        self.assertEqual(rcode(udp(r.server_addr, "www.fast.com", source=client_addr(2))),
                         "NOERROR")
        self.assertEqual(answers(r.tcp("www.fast.com", source=client_addr(1)))[0][2],
                         "192.0.2.1")
        m = r.metrics()
        self.assertEqual(metric(m, "chaindns_limited_total", limit="ratelimit_slip"), truncated)
        self.assertEqual(metric(m, "chaindns_limited_total", limit="ratelimit_drop"),
                         100 - normal - truncated)
        # A second later the client has a full bucket again.
        time.sleep(1.1)
        normal, truncated = burst(r.server_addr, "www.fast.com.", 10, client_addr(1))
        self.assertEqual((normal, truncated), (10, 0))

    def test_max_requests_refuses_with_ede(self):
        r = self.start_resolver(["--max-requests", "2"], n=3, metrics=True)
        self.assertEqual(answers(r.udp("www.fast.com"))[0][2], "192.0.2.1")
        results = {}

        def ask(i):
            try:
                results[i] = r.udp("s%d.slow.com" % i, timeout=6)
            except Exception as e:  # noqa: BLE001
                results[i] = e
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
            time.sleep(0.05)  # in order: the first two take the slots
        # While two resolutions wait on the slow zone, cache hits still come.
        self.assertEqual(answers(r.udp("www.fast.com"))[0][2], "192.0.2.1")
        for t in threads:
            t.join(10)
        refused = [i for i, m in results.items() if not isinstance(m, Exception)
                   and rcode(m) == "REFUSED"]
        self.assertEqual(sorted(refused), [2, 3, 4], results)
        code, text = ede(results[4])[0]
        self.assertEqual(code, 0)
        self.assertIn("max-requests", text)
        for i in (0, 1):
            self.assertEqual(answers(results[i])[0][2], "198.51.100.%d" % (i + 1))
        self.assertEqual(metric(r.metrics(), "chaindns_limited_total", limit="requests"), 3)

    def test_max_upstream_in_flight(self):
        r = self.start_resolver(["--max-upstream-in-flight", "1"], n=4, metrics=True)
        # Learn the delegations one query at a time.
        self.assertEqual(answers(r.udp("s5.slow.com", timeout=5))[0][2], "198.51.100.6")
        results = {}

        def ask(i):
            results[i] = r.udp("s%d.slow.com" % i, timeout=6)
        threads = [threading.Thread(target=ask, args=(i,)) for i in (6, 7)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        for t in threads:
            t.join(10)
        self.assertEqual(answers(results[6])[0][2], "198.51.100.7")
        self.assertEqual(rcode(results[7]), "SERVFAIL")
        self.assertGreaterEqual(
            metric(r.metrics(), "chaindns_limited_total", limit="upstream"), 1)
        # The slot is free again.
        self.assertEqual(answers(r.udp("s7.slow.com", timeout=5))[0][2], "198.51.100.8")

    def test_tcp_connections_per_client_and_slow_clients(self):
        r = self.start_resolver(["--tcp-max-connections-per-client", "2",
                                 "--tcp-read-timeout", "500", "--tcp-idle-timeout", "10000",
                                 "--allow", "127.0.0.0/8"], n=5, metrics=True)
        server = (r.addr, RESOLVER_PORT)

        def connect(src):
            s = socket.create_connection(server, timeout=3, source_address=(src, 0))
            s.settimeout(3)
            return s

        a, b = connect(client_addr(3)), connect(client_addr(3))
        c = connect(client_addr(3))
        self.assertEqual(c.recv(1), b"", "the third connection from one client is closed")
        c.close()
        d = connect(client_addr(4))  # another client still gets in
        wire = make_query("www.fast.com", "A").to_wire()
        d.sendall(struct.pack("!H", len(wire)) + wire)
        (n,) = struct.unpack("!H", d.recv(2))
        self.assertGreater(n, 12)
        d.close()
        # A client that starts a query and stalls is cut off after the read
        # timeout, well before the idle timeout.
        t0 = time.monotonic()
        a.sendall(struct.pack("!H", len(wire)) + wire[:5])
        self.assertEqual(a.recv(1), b"")
        self.assertLess(time.monotonic() - t0, 3.0)
        # One idle connection is not cut off by the read timeout.
        b.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            b.recv(1)
        a.close()
        b.close()
        self.assertTrue(wait_for(lambda: metric(r.metrics(), "chaindns_limited_total",
                                                limit="tcp_slow") == 1, 3))
        self.assertEqual(metric(r.metrics(), "chaindns_limited_total", limit="tcp_per_client"), 1)


if __name__ == "__main__":
    main()
