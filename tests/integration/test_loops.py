#!/usr/bin/python3
"""CNAME loops: self loop, two-name loop in one answer, loops across zones
and servers (NSD and badauth) -> SERVFAIL with an EDE naming the loop."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main  # noqa: E402


class CnameLoops(IntegrationTest):
    BASE = 14

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.zone("example.com.", [5], [
            "www 300 A 192.0.2.1",
            "self 300 CNAME self",
            "l1 300 CNAME l2",
            "l2 300 CNAME l1",
            "pre 300 CNAME l1",
        ])
        # loop across zones on two NSD servers: a.lx.net -> b.ly.org -> a...
        h.zone("lx.net.", [6], ["a 300 CNAME b.ly.org.",
                                 "tri 300 CNAME tri.ly.org."])
        h.zone("ly.org.", [7], ["b 300 CNAME a.lx.net.",
                                 "tri 300 CNAME tri.lz.com."])
        h.zone("lz.com.", [8], ["tri 300 CNAME tri.lx.net."])
        # loop across zones served by one badauth: whole loop in one answer
        h.badauth(9)
        h.zone("bp.net.", [9], ["a 300 CNAME b.bq.org."])
        h.zone("bq.org.", [9], ["b 300 CNAME a.bp.net."])

    def assertLoop(self, qname, loop_names, rdtype="A"):
        r = self.resolver.udp(qname, rdtype, timeout=8)
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r, 0, ["loop"] + [n.rstrip(".") for n in loop_names])
        return r

    def test_self_loop(self):
        self.assertLoop("self.example.com", ["self.example.com"])

    def test_two_name_loop_in_one_answer(self):
        self.assertLoop("l1.example.com", ["l1.example.com", "l2.example.com"])

    def test_loop_after_prefix(self):
        self.assertLoop("pre.example.com", ["l1.example.com",
                                            "l2.example.com"])

    def test_loop_across_zones_nsd(self):
        self.assertLoop("a.lx.net", ["a.lx.net", "b.ly.org"])

    def test_loop_across_three_zones(self):
        self.assertLoop("tri.lx.net", ["tri.lx.net", "tri.ly.org",
                                       "tri.lz.com"])

    def test_loop_across_zones_badauth_one_answer(self):
        self.assertLoop("a.bp.net", ["a.bp.net", "b.bq.org"])

    def test_loop_other_qtype(self):
        self.assertLoop("l2.example.com", ["l1.example.com",
                                           "l2.example.com"], "TXT")

    def test_loop_twice_then_normal_query(self):
        # asking again (data now cached) is still a loop, and the resolver
        # keeps answering normal questions
        self.assertLoop("a.lx.net", ["a.lx.net", "b.ly.org"])
        self.assertLoop("a.lx.net", ["a.lx.net", "b.ly.org"])
        r = self.resolver.udp("www.example.com", "A")
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.1"])

    def test_qtype_cname_at_loop_is_fine(self):
        # asking for the CNAME itself does not follow it: no loop
        r = self.resolver.udp("self.example.com", "CNAME")
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)],
                         [("self.example.com.", "CNAME", "self.example.com.")])


if __name__ == "__main__":
    main()
