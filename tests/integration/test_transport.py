#!/usr/bin/python3
"""Transport: TC -> TCP fallback upstream, truncation towards the client
(no EDNS / EDNS 512), full answers over TCP, pipelined TCP queries, EDNS
payload size 1232."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402

from harness import (IntegrationTest, answers, kdig, main,  # noqa: E402
                     make_query, tcp_pipeline)

# 8 TXT records of ~100 bytes: about 900 bytes of answer, > 512, < 1232
BIG_TXT = ['"%02d-%s"' % (i, "t" * 96) for i in range(8)]
# 80 of ~250 bytes: a 20 KB answer, which no single 4 KiB read holds
HUGE_TXT = ['"%02d-%s"' % (i, "h" * 246) for i in range(80)]


class Transport(IntegrationTest):
    BASE = 16

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("example.com.", [5],
               ["big 300 TXT %s" % t for t in BIG_TXT] + [
                   "www 300 A 192.0.2.1",
                   "www 300 AAAA 2001:db8::1",
                   "mail 300 A 192.0.2.25",
                   "@ 300 MX 10 mail",
                   "alias 300 CNAME www"])
        # badauth truncates every UDP answer over 512 bytes, and forces TC
        # for small.tc.net whatever its size
        h.badauth(6, truncate_size=512, truncate_names=["small.tc.net."])
        h.zone("tc.net.", [6],
               ["big 300 TXT %s" % t for t in BIG_TXT] +
               ["huge 300 TXT %s" % t for t in HUGE_TXT] + [
                   "small 300 A 192.0.2.33",
                   "www 300 A 192.0.2.34"])

    def txts(self, r, name):
        return sorted(a[2] for a in answers(r) if a[0] == name
                      and a[1] == "TXT")

    # -- upstream ------------------------------------------------------
    def test_upstream_tc_falls_back_to_tcp(self):
        bad = self.h.server(6)
        r = self.resolver.tcp("big.tc.net", "TXT")
        self.assertResolved(r)
        self.assertEqual(self.txts(r, "big.tc.net."), sorted(BIG_TXT))
        self.assertGreaterEqual(bad.count("big.tc.net", "TXT", "tcp"), 1,
                                "no TCP query upstream: %s" % bad.queries())

    def test_upstream_tcp_answer_larger_than_one_read(self):
        # The resolver reads a TCP answer 4 KiB at first; one that fills
        # that buffer must make it grow, not fail the query.
        r = self.resolver.tcp("huge.tc.net", "TXT")
        self.assertResolved(r)
        self.assertEqual(self.txts(r, "huge.tc.net."), sorted(HUGE_TXT))

    def test_upstream_forced_tc_small_answer(self):
        bad = self.h.server(6)
        r = self.resolver.udp("small.tc.net", "A")
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.33"])
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertGreaterEqual(bad.count("small.tc.net", "A", "tcp"), 1)

    def test_upstream_queries_advertise_edns_1232(self):
        bad = self.h.server(6)
        r = self.resolver.udp("www.tc.net", "A")
        self.assertResolved(r)
        udp_qs = bad.queries("www.tc.net", "A", "udp")
        self.assertTrue(udp_qs, bad.queries())
        self.assertEqual({q["edns"] for q in udp_qs}, {1232}, udp_qs)
        self.assertEqual({q["rd"] for q in udp_qs}, {False},
                         "upstream queries should not ask for recursion")

    # -- client side ---------------------------------------------------
    def test_client_udp_no_edns_truncated(self):
        r = self.resolver.udp("big.example.com", "TXT", edns=False)
        self.assertRcode(r, "NOERROR")
        self.assertTrue(r.flags & dns.flags.TC, "TC expected\n%s" % r)

    def test_client_udp_edns_512_truncated(self):
        r = self.resolver.udp("big.example.com", "TXT", payload=512)
        self.assertRcode(r, "NOERROR")
        self.assertTrue(r.flags & dns.flags.TC, "TC expected\n%s" % r)

    def test_client_udp_edns_1232_full(self):
        r = self.resolver.udp("big.example.com", "TXT", payload=1232)
        self.assertResolved(r)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual(self.txts(r, "big.example.com."), sorted(BIG_TXT))

    def test_client_tcp_full(self):
        r = self.resolver.tcp("big.example.com", "TXT", edns=False)
        self.assertResolved(r)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual(self.txts(r, "big.example.com."), sorted(BIG_TXT))

    def test_client_dig_falls_back_to_tcp(self):
        p = self.resolver.dig("+noedns", "big.example.com", "TXT")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("Truncated, retrying in TCP mode", p.stdout)
        self.assertIn("status: NOERROR", p.stdout)
        for t in BIG_TXT:
            self.assertIn(t, p.stdout)

    def test_small_answer_not_truncated_without_edns(self):
        r = self.resolver.udp("www.example.com", "A", edns=False)
        self.assertResolved(r)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.1"])

    # -- TCP pipelining --------------------------------------------------
    def test_tcp_pipelined_queries(self):
        qs = [
            ("www.example.com", "A", ["192.0.2.1"]),
            ("www.example.com", "AAAA", ["2001:db8::1"]),
            ("example.com", "MX", ["10 mail.example.com."]),
            ("mail.example.com", "A", ["192.0.2.25"]),
            ("www.tc.net", "A", ["192.0.2.34"]),
            ("big.example.com", "TXT", sorted(BIG_TXT)),
        ]
        msgs = []
        for i, (name, t, _) in enumerate(qs):
            msgs.append(make_query(name, t, qid=1000 + i))
        got = tcp_pipeline(self.resolver.server_addr, msgs, timeout=8)
        self.assertEqual(sorted(got), [1000 + i for i in range(len(qs))],
                         "not every pipelined query was answered")
        for i, (name, t, want) in enumerate(qs):
            r = got[1000 + i]
            self.assertResolved(r)
            self.assertEqual(r.question[0].name.to_text().lower(),
                             name + ".")
            self.assertEqual(sorted(a[2] for a in answers(r) if a[1] == t),
                             want)

    def test_tcp_pipelined_kdig(self):
        # kdig sends several questions over one TCP connection with +keepopen
        p = kdig(self.resolver.server_addr, "+tcp", "+keepopen",
                 "www.example.com", "A", "www.example.com", "AAAA",
                 "alias.example.com", "A")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.count("status: NOERROR"), 3, p.stdout)


if __name__ == "__main__":
    main()
