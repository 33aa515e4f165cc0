#!/usr/bin/python3
"""Unreachable and misbehaving authoritative servers: one dead server of
two, all servers silent (SERVFAIL + EDE 22 in < 4.5 s), REFUSED/SERVFAIL
servers, slow servers, and identical in-flight questions sent upstream
once."""

import os
import sys
import time

import dns.exception

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, concurrent_udp, main  # noqa: E402


class Servers(IntegrationTest):
    BASE = 17

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        names = ["w%d 300 A 192.0.2.%d" % (i, 10 + i) for i in range(8)]
        # half.com: one NSD, one silent badauth
        h.badauth(6, silent=True)
        h.zone("half.com.", [5, 6], names)
        # dead.com: both servers silent
        h.badauth(7, silent=True)
        h.badauth(8, silent=True)
        h.zone("dead.com.", [7, 8], names)
        # slow.net: every answer 500 ms late
        h.badauth(9, delay_ms=500)
        h.zone("slow.net.", [9], ["warm 300 A 192.0.2.89",
                                   "same 300 A 192.0.2.90",
                                   "same 300 A 192.0.2.91",
                                   "same2 300 A 192.0.2.90",
                                   "same2 300 A 192.0.2.91"])
        # slowone.org: fast, except 500 ms for one name
        h.badauth(13, delay_names={"late.slowone.org.": 500})
        h.zone("slowone.org.", [13], ["fast 300 A 192.0.2.88",
                                       "late 300 A 192.0.2.87"])
        # mixed.org: one server REFUSES everything, the other is fine
        h.badauth(10, rcode="REFUSED")
        h.zone("mixed.org.", [10, 11], names)
        # lame.org: its only server answers SERVFAIL
        h.badauth(12, rcode="SERVFAIL")
        h.zone("lame.org.", [12], names)
        # twoglue.org: glueless, one NS name in a zone that answers a second
        # late, the other in a fast one: looked up at once, the fast wins.
        h.badauth(14, delay_ms=1000)
        h.zone("slowglue.net.", [14])
        h.zone("fastglue.com.", [15])
        h.zone("twoglue.org.", [16, 17], ["www 300 A 192.0.2.77"],
               ns_names=["ns.slowglue.net.", "ns.fastglue.com."])

    def test_glueless_ns_names_looked_up_in_parallel(self):
        t0 = time.monotonic()
        r = self.resolver.udp("www.twoglue.org", "A", timeout=6)
        elapsed = time.monotonic() - t0
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.77"])
        self.assertLess(elapsed, 0.8, "the slow NS name's lookup was waited for: %.2fs" % elapsed)

    def test_one_dead_server_of_two(self):
        for i in range(8):
            t0 = time.monotonic()
            r = self.resolver.udp("w%d.half.com" % i, "A", timeout=6)
            elapsed = time.monotonic() - t0
            self.assertResolved(r)
            self.assertEqual([a[2] for a in answers(r)],
                             ["192.0.2.%d" % (10 + i)])
            self.assertLess(elapsed, 4.5, "w%d took %.2fs" % (i, elapsed))

    def timed(self, fn, name, rdtype="A", timeout=10):
        t0 = time.monotonic()
        try:
            r = fn(name, rdtype, timeout=timeout)
        except dns.exception.Timeout:
            r = None
        if r is None:
            self.fail("no answer for %s within %ss" % (name, timeout))
        return r, time.monotonic() - t0

    def test_all_servers_silent(self):
        r, elapsed = self.timed(self.resolver.udp, "w1.dead.com")
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r, 22)
        self.assertLess(elapsed, 4.5, "SERVFAIL took %.2fs" % elapsed)
        # both dead servers were tried
        tried = [self.h.server(n).count("w1.dead.com") for n in (7, 8)]
        self.assertTrue(all(tried), "queries per dead server: %s" % tried)

    def test_all_servers_silent_tcp_client(self):
        r, elapsed = self.timed(self.resolver.tcp, "w2.dead.com")
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r, 22)
        self.assertLess(elapsed, 4.5, "SERVFAIL took %.2fs" % elapsed)

    def fire_identical(self, name):
        bad = self.h.server(9)
        # learn the delegation first, so only the question itself is left
        r = self.resolver.udp("warm.slow.net", "A")
        self.assertResolved(r)
        self.assertEqual(bad.count(name), 0)
        replies = concurrent_udp(self.resolver.server_addr, name,
                                 "A", count=5, timeout=6)
        for r in replies:
            self.assertIsNotNone(r, "a concurrent query got no answer")
            self.assertResolved(r)
            self.assertEqual(sorted(a[2] for a in answers(r)),
                             ["192.0.2.90", "192.0.2.91"])
        return bad.queries(name, "A")

    def test_identical_questions_in_flight_sent_once(self):
        qs = self.fire_identical("same.slow.net")
        self.assertEqual(len(qs), 1,
                         "the question went upstream %d times (if they are "
                         "spaced apart these are retries after a timeout "
                         "shorter than the 500 ms delay; "
                         "test_identical_questions_in_flight_not_duplicated "
                         "tells the two apart): "
                         "%s" % (len(qs), qs))

    def test_identical_questions_in_flight_not_duplicated(self):
        # weaker form: tolerate retransmissions after the resolver's own
        # timeout, but no two copies may leave together (< 100 ms apart)
        qs = self.fire_identical("same2.slow.net")
        ts = sorted(q["t"] for q in qs)
        gaps = [b - a for a, b in zip(ts, ts[1:])]
        self.assertTrue(all(g >= 0.1 for g in gaps),
                        "copies of one question sent together: %s" % qs)

    def test_slow_answer_for_one_name(self):
        # the server answers other names at once; one name takes 500 ms.
        # A 500 ms answer is still an answer: NOERROR expected.
        bad = self.h.server(13)
        r = self.resolver.udp("fast.slowone.org", "A")
        self.assertResolved(r)
        r, elapsed = self.timed(self.resolver.udp, "late.slowone.org")
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.87"],
                         "upstream: %s" % bad.queries("late.slowone.org"))

    def test_refusing_server_skipped(self):
        for i in range(4):
            r = self.resolver.udp("w%d.mixed.org" % i, "A", timeout=6)
            self.assertResolved(r)
            self.assertEqual([a[2] for a in answers(r)],
                             ["192.0.2.%d" % (10 + i)])

    def test_servfail_only_server(self):
        r, elapsed = self.timed(self.resolver.udp, "w1.lame.org")
        self.assertRcode(r, "SERVFAIL")
        self.assertLess(elapsed, 4.5)
        # the resolver still answers other questions
        r = self.resolver.udp("w1.half.com", "A", timeout=6)
        self.assertResolved(r)


if __name__ == "__main__":
    main()
