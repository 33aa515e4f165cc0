#!/usr/bin/python3
"""Caching: positive answers need no second upstream query, negative caching
(NXDOMAIN, NODATA), TTL countdown, cached CNAME chains still answered when
every server on the chain is down."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main  # noqa: E402


class Caching(IntegrationTest):
    BASE = 15

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        # badauth zone: its query log shows what reached upstream
        h.badauth(5)
        h.zone("neg.com.", [5], ["pos 300 A 192.0.2.5",
                                  "only 300 A 192.0.2.4",
                                  "x 300 A 192.0.2.6",
                                  "chain 300 CNAME pos"], neg_ttl=120)
        # NSD zone stopped mid-test
        h.zone("stop.net.", [6], ["www 300 A 192.0.2.60"], neg_ttl=120)
        # TTL countdown
        h.zone("ttl.org.", [7], ["www 300 A 192.0.2.70"])
        # cached chain across three zones on three servers
        h.zone("ca.com.", [8], ["s 300 CNAME m.cb.net."])
        h.zone("cb.net.", [9], ["m 300 CNAME e.cc.org."])
        h.zone("cc.org.", [10], ["e 300 A 192.0.2.100",
                                  "e 300 AAAA 2001:db8::100"])

    def soa_in_authority(self, r, zone):
        return (zone, "SOA") in [(a[0], a[1]) for a in answers(r, "authority")]

    def test_positive_answer_cached(self):
        bad = self.h.server(5)
        r = self.resolver.udp("only.neg.com", "A")
        self.assertResolved(r)
        n = bad.count("only.neg.com", "A")
        self.assertGreaterEqual(n, 1)
        r2 = self.resolver.udp("only.neg.com", "A")
        self.assertResolved(r2)
        self.assertEqual([a[:3] for a in answers(r2)],
                         [a[:3] for a in answers(r)])
        self.assertEqual(bad.count("only.neg.com", "A"), n,
                         "cached answer caused an upstream query")

    def test_nxdomain_cached(self):
        bad = self.h.server(5)
        r = self.resolver.udp("nx1.neg.com", "A")
        self.assertRcode(r, "NXDOMAIN")
        self.assertTrue(self.soa_in_authority(r, "neg.com."), r)
        n = bad.count("nx1.neg.com")
        self.assertGreaterEqual(n, 1)
        r2 = self.resolver.udp("nx1.neg.com", "A")
        self.assertRcode(r2, "NXDOMAIN")
        self.assertTrue(self.soa_in_authority(r2, "neg.com."), r2)
        soa_ttl = [a[3] for a in answers(r2, "authority") if a[1] == "SOA"][0]
        self.assertLessEqual(soa_ttl, 120)
        self.assertEqual(bad.count("nx1.neg.com"), n,
                         "cached NXDOMAIN caused an upstream query")

    def test_nodata_cached(self):
        bad = self.h.server(5)
        r = self.resolver.udp("x.neg.com", "MX")
        self.assertResolved(r)
        self.assertEqual(answers(r), [])
        self.assertTrue(self.soa_in_authority(r, "neg.com."), r)
        n = bad.count("x.neg.com", "MX")
        self.assertGreaterEqual(n, 1)
        r2 = self.resolver.udp("x.neg.com", "MX")
        self.assertResolved(r2)
        self.assertEqual(answers(r2), [])
        self.assertTrue(self.soa_in_authority(r2, "neg.com."), r2)
        self.assertEqual(bad.count("x.neg.com", "MX"), n,
                         "cached NODATA caused an upstream query")

    def test_chain_in_one_zone_cached(self):
        bad = self.h.server(5)
        r = self.resolver.udp("chain.neg.com", "A")
        self.assertResolved(r)
        self.assertChain(r, ["chain.neg.com", "pos.neg.com"], "A",
                         ["192.0.2.5"])
        n = len(bad.queries())
        r2 = self.resolver.udp("chain.neg.com", "A")
        self.assertChain(r2, ["chain.neg.com", "pos.neg.com"], "A",
                         ["192.0.2.5"])
        self.assertEqual(len(bad.queries()), n,
                         "cached chain caused upstream queries")

    def test_negative_answers_survive_server_stop(self):
        r = self.resolver.udp("nope.stop.net", "A")
        self.assertRcode(r, "NXDOMAIN")
        r = self.resolver.udp("www.stop.net", "TXT")
        self.assertResolved(r)
        self.assertEqual(answers(r), [])
        r = self.resolver.udp("www.stop.net", "A")
        self.assertResolved(r)
        self.h.stop_server(6)
        r = self.resolver.udp("nope.stop.net", "A", timeout=2)
        self.assertRcode(r, "NXDOMAIN")
        self.assertTrue(self.soa_in_authority(r, "stop.net."), r)
        r = self.resolver.udp("www.stop.net", "TXT", timeout=2)
        self.assertResolved(r)
        self.assertEqual(answers(r), [])
        self.assertTrue(self.soa_in_authority(r, "stop.net."), r)
        r = self.resolver.udp("www.stop.net", "A", timeout=2)
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.60"])

    def test_ttl_countdown(self):
        r1 = self.resolver.udp("www.ttl.org", "A")
        self.assertResolved(r1)
        t1 = answers(r1)[0][3]
        self.assertLessEqual(t1, 300)
        time.sleep(2.2)
        r2 = self.resolver.udp("www.ttl.org", "A")
        self.assertResolved(r2)
        t2 = answers(r2)[0][3]
        self.assertLessEqual(t2, t1 - 1, "TTL did not count down")
        self.assertGreaterEqual(t2, t1 - 4, "TTL fell too fast")
        self.assertLessEqual(t2, 300)

    def test_cached_chain_without_servers(self):
        chain = ["s.ca.com", "m.cb.net", "e.cc.org"]
        r = self.resolver.udp("s.ca.com", "A")
        self.assertResolved(r)
        self.assertChain(r, chain, "A", ["192.0.2.100"])
        ttls = [a[3] for a in answers(r)]
        for n in (8, 9, 10):
            self.h.stop_server(n)
        r2 = self.resolver.udp("s.ca.com", "A", timeout=2)
        self.assertResolved(r2)
        self.assertChain(r2, chain, "A", ["192.0.2.100"])
        for before, after in zip(ttls, [a[3] for a in answers(r2)]):
            self.assertLessEqual(after, before)
        # a question starting in the middle of the cached chain
        r3 = self.resolver.udp("m.cb.net", "A", timeout=2)
        self.assertResolved(r3)
        self.assertChain(r3, chain[1:], "A", ["192.0.2.100"])


if __name__ == "__main__":
    main()
