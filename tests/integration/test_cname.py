#!/usr/bin/python3
"""CNAME chains: inside one answer, across zones and servers, dangling
targets (NXDOMAIN), NODATA at the end of a chain, CNAME plus other data."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main  # noqa: E402


class CnameChains(IntegrationTest):
    BASE = 12

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        # chain inside one zone: NSD puts the whole chain in one answer
        h.zone("example.com.", [5], [
            "www 300 A 192.0.2.1",
            "www 300 AAAA 2001:db8::1",
            "a1 300 CNAME a2",
            "a2 300 CNAME a3",
            "a3 300 CNAME www",
            "d1 300 CNAME d2",
            "d2 300 CNAME missing",
            "n1 300 CNAME www",
        ])
        # chain across zones, every hop on another server
        h.zone("x.com.", [6], [
            "start 300 CNAME hop.y.net.",
            "dangle 300 CNAME gone.y.net.",
            "tomx 300 CNAME hop.y.net.",
        ])
        h.zone("y.net.", [7], ["hop 300 CNAME end.z.org."])
        h.zone("z.org.", [8], ["end 300 A 192.0.2.99",
                                "end 300 A 192.0.2.98"])
        # CNAME plus other data at one name (NSD refuses to load this)
        h.badauth(9)
        h.zone("both.net.", [9], [
            "w 300 CNAME www.example.com.",
            "w 300 A 192.0.2.66",
            "w 300 TXT \"not me\"",
        ])
        # one server holds two zones and puts the cross-zone chain in one
        # answer (the second hop is out of the first zone's bailiwick)
        h.badauth(10)
        h.zone("p.net.", [10], ["s 300 CNAME t.q.org."])
        h.zone("q.org.", [10], ["t 300 A 192.0.2.77"])

    def test_chain_in_one_answer(self):
        r = self.resolver.udp("a1.example.com", "A")
        self.assertResolved(r)
        self.assertChain(r, ["a1.example.com", "a2.example.com",
                             "a3.example.com", "www.example.com"],
                         "A", ["192.0.2.1"])

    def test_chain_in_one_answer_aaaa(self):
        r = self.resolver.udp("a2.example.com", "AAAA")
        self.assertResolved(r)
        self.assertChain(r, ["a2.example.com", "a3.example.com",
                             "www.example.com"], "AAAA", ["2001:db8::1"])

    def test_chain_across_zones(self):
        r = self.resolver.udp("start.x.com", "A")
        self.assertResolved(r)
        self.assertChain(r, ["start.x.com", "hop.y.net", "end.z.org"],
                         "A", ["192.0.2.98", "192.0.2.99"])

    def test_chain_across_zones_tcp(self):
        r = self.resolver.tcp("start.x.com", "A")
        self.assertResolved(r)
        self.assertChain(r, ["start.x.com", "hop.y.net", "end.z.org"],
                         "A", ["192.0.2.98", "192.0.2.99"])

    def test_chain_in_one_answer_from_two_zones(self):
        r = self.resolver.udp("s.p.net", "A")
        self.assertResolved(r)
        self.assertChain(r, ["s.p.net", "t.q.org"], "A", ["192.0.2.77"])

    def test_qtype_cname_not_followed(self):
        r = self.resolver.udp("a1.example.com", "CNAME")
        self.assertResolved(r)
        self.assertEqual([(a[0], a[1], a[2]) for a in answers(r)],
                         [("a1.example.com.", "CNAME", "a2.example.com.")])

    def test_dangling_cname_same_zone(self):
        r = self.resolver.udp("d1.example.com", "A")
        self.assertRcode(r, "NXDOMAIN")
        self.assertChain(r, ["d1.example.com", "d2.example.com",
                             "missing.example.com"], "A", [])
        self.assertIn(("example.com.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_dangling_cname_across_zones(self):
        r = self.resolver.udp("dangle.x.com", "A")
        self.assertRcode(r, "NXDOMAIN")
        self.assertChain(r, ["dangle.x.com", "gone.y.net"], "A", [])
        self.assertIn(("y.net.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_nodata_through_chain_same_zone(self):
        r = self.resolver.udp("n1.example.com", "MX")
        self.assertResolved(r)
        self.assertChain(r, ["n1.example.com", "www.example.com"], "MX", [])
        self.assertIn(("example.com.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_nodata_through_chain_across_zones(self):
        r = self.resolver.udp("tomx.x.com", "MX")
        self.assertResolved(r)
        self.assertChain(r, ["tomx.x.com", "hop.y.net", "end.z.org"],
                         "MX", [])
        self.assertIn(("z.org.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_cname_and_other_data_follows_cname(self):
        r = self.resolver.udp("w.both.net", "A")
        self.assertResolved(r)
        ans = answers(r)
        self.assertEqual(ans[0][:3], ("w.both.net.", "CNAME",
                                      "www.example.com."), r)
        self.assertIn(("www.example.com.", "A", "192.0.2.1"),
                      [a[:3] for a in ans], r)

    def test_cname_and_other_data_owner_data_dropped(self):
        # the A record sitting next to the CNAME must not be served as the
        # answer: the chain is w -> www.example.com, then www's A only
        r = self.resolver.udp("w.both.net", "A")
        self.assertResolved(r)
        self.assertChain(r, ["w.both.net", "www.example.com"], "A",
                         ["192.0.2.1"])

    def test_cname_and_other_data_other_type(self):
        r = self.resolver.udp("w.both.net", "TXT")
        self.assertResolved(r)
        ans = answers(r)
        self.assertEqual(ans[0][:3], ("w.both.net.", "CNAME",
                                      "www.example.com."), r)
        self.assertNotIn('"not me"', [a[2] for a in ans], r)


if __name__ == "__main__":
    main()
