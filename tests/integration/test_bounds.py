#!/usr/bin/python3
"""Bounds that keep one client or one zone from holding resources: glueless
delegation cycles, the upstream query budget, the TCP connection limit and
idle timeout, and several worker threads answering side by side."""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, answers, main,  # noqa: E402
                     make_query, RESOLVER_PORT)


def tcp_connect(addr, timeout=2.0):
    s = socket.create_connection((addr, RESOLVER_PORT), timeout=timeout)
    s.settimeout(timeout)
    return s


def closed_by_peer(sock, within):
    """True if the peer closes the connection within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def tcp_query(sock, name):
    wire = make_query(name, "A").to_wire()
    sock.sendall(struct.pack("!H", len(wire)) + wire)
    hdr = b""
    while len(hdr) < 2:
        chunk = sock.recv(2 - len(hdr))
        if not chunk:
            raise ConnectionError("closed")
        hdr += chunk
    (n,) = struct.unpack("!H", hdr)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return body


class Bounds(IntegrationTest):
    BASE = 19

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("example.com.", [4], ["www 300 A 192.0.2.1"])
        # cyc-a.com is served by ns.cyc-b.net, which is served by
        # ns.cyc-a.com: neither address can ever be found.
        h.zone("cyc-a.com.", [5], ["www 300 A 192.0.2.5"],
               ns_names=["ns.cyc-b.net."])
        h.zone("cyc-b.net.", [6], ["www 300 A 192.0.2.6"],
               ns_names=["ns.cyc-a.com."])
        # a chain across three zones needs more upstream queries
        h.zone("hop1.com.", [7], ["x 300 CNAME x.hop2.net."])
        h.zone("hop2.net.", [8], ["x 300 CNAME www.example.com."])

    def test_glueless_cycle_fails_fast(self):
        t0 = time.monotonic()
        r = self.resolver.udp("www.cyc-a.com", "A", timeout=6)
        elapsed = time.monotonic() - t0
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r)
        self.assertLess(elapsed, 2.0, "cycle took %.2fs" % elapsed)
        # and the resolver is still healthy
        self.assertResolved(self.resolver.udp("www.example.com", "A"))

    def test_upstream_query_budget(self):
        res = self.start_resolver(["--max-upstream-queries", "4"], n=2)
        r = res.udp("x.hop1.com", "A", timeout=6)
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r, 0, ["upstream query limit", "4"])
        # the default budget resolves the same chain
        r = self.resolver.udp("x.hop1.com", "A")
        self.assertResolved(r)
        self.assertEqual(answers(r)[-1][2], "192.0.2.1")

    def test_tcp_connection_limit(self):
        res = self.start_resolver(["--tcp-max-connections", "2"], n=3)
        a, b = tcp_connect(res.addr), tcp_connect(res.addr)
        tcp_query(a, "www.example.com")
        tcp_query(b, "www.example.com")
        c = tcp_connect(res.addr)
        self.assertTrue(closed_by_peer(c, 2.0), "third connection was kept")
        c.close()
        a.close()
        # a slot is free again once a connection ends
        deadline = time.monotonic() + 3
        while True:
            d = tcp_connect(res.addr)
            try:
                tcp_query(d, "www.example.com")
                break
            except (ConnectionError, socket.timeout):
                d.close()
                self.assertLess(time.monotonic(), deadline, "no slot freed")
                time.sleep(0.1)
        d.close()
        b.close()

    def test_tcp_idle_timeout(self):
        res = self.start_resolver(["--tcp-idle-timeout", "300"], n=4)
        s = tcp_connect(res.addr)
        tcp_query(s, "www.example.com")
        t0 = time.monotonic()
        self.assertTrue(closed_by_peer(s, 3.0), "idle connection kept open")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.2)
        self.assertLess(elapsed, 2.0)
        s.close()

    def test_threads(self):
        res = self.start_resolver(["--threads", "2"], n=5)
        for i in range(40):
            r = res.udp("www.example.com", "A")
            self.assertResolved(r)
            self.assertEqual(answers(r)[0][2], "192.0.2.1")
            r = res.tcp("www.example.com", "A")
            self.assertResolved(r)


if __name__ == "__main__":
    main()
