#!/usr/bin/python3
"""DNAME (RFC 6672), served natively by NSD: a DNAME then a CNAME across
zones answered as DNAME, synthesised CNAME (TTL of the DNAME), CNAME, A; the
hops in /chains with kinds "dname" then "cname" and the per-kind hop counter;
the DNAME hop counted against --max-chain-length; a second name under the
DNAME owner synthesised from the cached DNAME (no query to the owner's
zone); YXDOMAIN when the substitution makes a name longer than 255 octets; a
query for the DNAME itself."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, answers, main, metric, rcode,  # noqa: E402
                     stats_delta)

BASE = 36
DNAME_TTL = 120
HOPS = "chaindns_chain_hops_total"
# A target of 196 octets on the wire: under it, a 63-octet label (64 on the
# wire) makes 260 > 255, while the name asked is 64 + 15 = 79 octets.
LONG_TARGET = ".".join(["t" * 60] * 3) + ".example.net."
LABEL63 = "q" * 63


class Dname(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.zone("example.com.", [5], [
            "old %d DNAME new.example.net." % DNAME_TTL,
            "s 300 DNAME %s" % LONG_TARGET,
            "www 300 A 192.0.2.1",
        ])
        # The DNAME's target zone on badauth: its log tells which names
        # the resolver really asked there.
        h.badauth(6)
        h.zone("example.net.", [6], [
            "%s.new 300 CNAME final.example.org." % n
            for n in ("x", "m", "a1", "a2", "tcp")] + [
            "d.new 300 A 192.0.2.20",
            "c1.new 300 A 192.0.2.21",
            "c2.new 300 A 192.0.2.22",
            "short.%s 300 A 192.0.2.23" % LONG_TARGET.replace(".example.net.", ""),
        ])
        h.zone("example.org.", [7], ["final 300 A 192.0.2.10"])

    def chain_entry(self, res, name):
        status, body = res.http("/chains")
        self.assertEqual(status, 200, body)
        entries = [c for c in json.loads(body)["recent"] if c["name"] == name]
        self.assertTrue(entries, body)
        return entries[0]

    # -- a DNAME then a CNAME ------------------------------------------------------

    def test_dname_then_cname(self):
        before = self.resolver.metrics()
        r = self.resolver.udp("x.old.example.com", "A", timeout=5)
        d = stats_delta(before, self.resolver.metrics())
        self.assertResolved(r)
        ans = answers(r)
        self.assertEqual([a[:3] for a in ans], [
            ("old.example.com.", "DNAME", "new.example.net."),
            ("x.old.example.com.", "CNAME", "x.new.example.net."),
            ("x.new.example.net.", "CNAME", "final.example.org."),
            ("final.example.org.", "A", "192.0.2.10")], r)
        # The synthesised CNAME has the DNAME's TTL.
        self.assertEqual(ans[1][3], ans[0][3], r)
        self.assertLessEqual(ans[0][3], DNAME_TTL, r)
        self.assertGreater(ans[0][3], DNAME_TTL - 10, r)
        self.assertEqual(metric(d, HOPS, kind="dname"), 1, d)
        self.assertEqual(metric(d, HOPS, kind="cname"), 1, d)
        entry = self.chain_entry(self.resolver, "x.old.example.com.")
        self.assertEqual(entry["outcome"], "complete", entry)
        self.assertEqual(entry["length"], 2, entry)
        self.assertEqual([h.get("kind") for h in entry["hops"]], ["dname", "cname"], entry)
        # The DNAME hop: the name asked to the synthesised target (or, as
        # the spec leaves open, the DNAME's owner to its target).
        self.assertIn((entry["hops"][0]["name"], entry["hops"][0]["target"]),
                      [("x.old.example.com.", "x.new.example.net."),
                       ("old.example.com.", "new.example.net.")], entry)
        self.assertEqual((entry["hops"][1]["name"], entry["hops"][1]["target"]),
                         ("x.new.example.net.", "final.example.org."), entry)
        self.assertEqual(entry["answer"]["name"], "final.example.org.", entry)

    def test_dname_then_cname_over_tcp(self):
        r = self.resolver.tcp("tcp.old.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)], [
            ("old.example.com.", "DNAME", "new.example.net."),
            ("tcp.old.example.com.", "CNAME", "tcp.new.example.net."),
            ("tcp.new.example.net.", "CNAME", "final.example.org."),
            ("final.example.org.", "A", "192.0.2.10")], r)

    # -- max-chain-length ----------------------------------------------------------

    def test_dname_hop_counts_toward_max_chain_length(self):
        res = self.start_resolver(["--max-chain-length", "1"], n=2)
        # One DNAME hop: within the limit.
        r = res.udp("d.old.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)], [
            ("old.example.com.", "DNAME", "new.example.net."),
            ("d.old.example.com.", "CNAME", "d.new.example.net."),
            ("d.new.example.net.", "A", "192.0.2.20")], r)
        # A DNAME and a CNAME: two hops, one too many.
        r = res.udp("m.old.example.com", "A", timeout=5)
        self.assertEqual(rcode(r), "SERVFAIL", r)
        self.assertEDE(r, 0, ["max-chain-length"])

    # -- the cached DNAME ----------------------------------------------------------

    def test_second_name_synthesised_from_cached_dname(self):
        res = self.start_resolver(n=3)  # its own cache, counted from zero
        r = res.udp("c1.old.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertIn(("c1.new.example.net.", "A", "192.0.2.21"),
                      [a[:3] for a in answers(r)], r)
        target = self.h.server(6)
        before, t_before = res.stats(), target.count()
        r = res.udp("c2.old.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)], [
            ("old.example.com.", "DNAME", "new.example.net."),
            ("c2.old.example.com.", "CNAME", "c2.new.example.net."),
            ("c2.new.example.net.", "A", "192.0.2.22")], r)
        d = stats_delta(before, res.stats())
        upstream = d["upstream_udp"] + d["upstream_tcp"]
        to_target = target.count() - t_before
        # c2.new.example.net. was asked (it is not cached)...
        self.assertGreaterEqual(target.count(qname="c2.new.example.net."), 1)
        self.assertGreaterEqual(to_target, 1)
        # ...and nothing else: no query to example.com.'s server (nor to any
        # other) for c2.old.example.com.
        self.assertEqual(upstream, to_target, d)
        # The original name never reaches the target's server either.
        self.assertEqual(target.count(qname="c2.old.example.com."), 0)

    # -- too long ---------------------------------------------------------------------

    def test_substitution_too_long_is_yxdomain(self):
        qname = LABEL63 + ".s.example.com."
        r = self.resolver.udp(qname, "A", timeout=5)
        self.assertRcode(r, "YXDOMAIN")
        # No CNAME to a name that cannot exist, nor anything below it.
        self.assertNotIn("CNAME", [a[1] for a in answers(r)], r)
        self.assertNotIn("A", [a[1] for a in answers(r)], r)
        # A short name under the same DNAME still works.
        r = self.resolver.udp("short.s.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)][-1],
                         ("short." + LONG_TARGET, "A", "192.0.2.23"), r)

    # -- the DNAME itself ---------------------------------------------------------------

    def test_query_for_the_dname(self):
        r = self.resolver.udp("old.example.com", "DNAME", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)],
                         [("old.example.com.", "DNAME", "new.example.net.")], r)
        # The owner itself is not redirected: its A is NODATA.
        r = self.resolver.udp("old.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual(answers(r), [], r)
        self.assertIn(("example.com.", "SOA"),
                      [a[:2] for a in answers(r, "authority")], r)


if __name__ == "__main__":
    main()
