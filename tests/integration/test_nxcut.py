#!/usr/bin/python3
"""RFC 8020, NXDOMAIN: there really is nothing underneath.
--nothing-below-nxdomain dnssec|yes|no (default dnssec: only validated
NXDOMAINs cut, so none for now). With `yes` a cached NXDOMAIN for
gone.example.com answers NXDOMAIN for every name below it, any type, from
the cache (the SOA of that entry, no upstream query, the cut counter moves);
a name that merely ends in the same letters is not below it; and a minimised
query answered NXDOMAIN ends the lookup (no fallback to the full name). With
the default or `no` the resolver asks upstream. example.com. is served by
badauth, so its log shows every name asked there."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, answers, main, metric,  # noqa: E402
                     run_chaindns, stats_delta)

BASE = 39
CUT = "chaindns_nxdomain_cut_answers_total"


class NothingBelowNxdomain(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}  # the default: dnssec

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.badauth(3)
        h.zone("example.com.", [3], [
            "www 300 A 192.0.2.1",
            "agone 300 A 192.0.2.2",  # ends in "gone.example.com", is not below it
        ])

    def asked(self, mark, below):
        """Names asked at example.com.'s server since mark at or below `below`."""
        suffix = "." + below
        return [(e["qname"], e["qtype"]) for e in self.h.server(3).queries()[mark:]
                if e["qname"] == below or e["qname"].endswith(suffix)]

    def mark(self):
        return len(self.h.server(3).queries())

    def nxdomain_with_soa(self, r):
        self.assertRcode(r, "NXDOMAIN")
        self.assertEqual(answers(r), [], r)
        self.assertIn(("example.com.", "SOA"), [a[:2] for a in answers(r, "authority")], r)

    def test_yes_answers_below_a_cached_nxdomain(self):
        res = self.start_resolver(["--nothing-below-nxdomain", "yes"], n=2, metrics=True)
        m = self.mark()
        self.nxdomain_with_soa(res.udp("gone.example.com", "A", timeout=5))
        self.assertIn(("gone.example.com.", "A"), self.asked(m, "gone.example.com."))
        m, stats, before = self.mark(), res.stats(), res.metrics()
        self.nxdomain_with_soa(res.udp("a.b.gone.example.com", "A", timeout=5))
        self.nxdomain_with_soa(res.udp("c.gone.example.com", "TXT", timeout=5))
        d = stats_delta(before, res.metrics())
        s = stats_delta(stats, res.stats())
        self.assertEqual(self.asked(m, "gone.example.com."), [])
        self.assertEqual(s["upstream_udp"] + s["upstream_tcp"], 0, s)
        self.assertEqual(metric(d, CUT), 2, d)
        # agone.example.com. is not below gone.example.com.
        r = res.udp("agone.example.com", "A", timeout=5)
        self.assertResolved(r)
        self.assertEqual([a[:3] for a in answers(r)],
                         [("agone.example.com.", "A", "192.0.2.2")], r)

    def test_yes_minimised_nxdomain_ends_the_lookup(self):
        res = self.start_resolver(["--nothing-below-nxdomain", "yes"], n=3, metrics=True)
        self.assertResolved(res.udp("www.example.com", "A", timeout=5))  # the cut is known
        m = self.mark()
        self.nxdomain_with_soa(res.udp("q.r.gone3.example.com", "A", timeout=5))
        # Minimised: gone3.example.com. asked, NXDOMAIN, and nothing below it.
        self.assertEqual(self.asked(m, "gone3.example.com."), [("gone3.example.com.", "A")])

    def test_default_asks_upstream(self):
        res = self.resolver
        self.nxdomain_with_soa(res.udp("gone2.example.com", "A", timeout=5))
        m, before = self.mark(), res.metrics()
        self.nxdomain_with_soa(res.udp("a.b.gone2.example.com", "A", timeout=5))
        d = stats_delta(before, res.metrics())
        self.assertIn(("a.b.gone2.example.com.", "A"), self.asked(m, "gone2.example.com."))
        self.assertEqual(metric(d, CUT), 0, d)

    def test_no_asks_upstream(self):
        res = self.start_resolver(["--nothing-below-nxdomain", "no"], n=4, metrics=True)
        self.nxdomain_with_soa(res.udp("gone4.example.com", "A", timeout=5))
        m = self.mark()
        self.nxdomain_with_soa(res.udp("a.b.gone4.example.com", "A", timeout=5))
        self.assertIn(("a.b.gone4.example.com.", "A"), self.asked(m, "gone4.example.com."))
        self.assertEqual(metric(res.metrics(), CUT), 0)

    def test_option_values(self):
        p = run_chaindns(["--help"], timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--nothing-below-nxdomain", p.stdout)
        p = run_chaindns(["--nothing-below-nxdomain", "maybe", "--root-hints", self.h.hints,
                          "--listen", "127.54.%d.9:5300" % BASE], timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--nothing-below-nxdomain:", p.stderr)
        self.assertIn("maybe", p.stderr)


if __name__ == "__main__":
    main()
