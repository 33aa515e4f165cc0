#!/usr/bin/python3
"""Serve-stale (RFC 8767): when the authorities for an expired name cannot
be reached, the expired data is answered with a short TTL and EDE 3, whole
chains and negative answers included, within the configured window; off by
default."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, ede, main, metric, rcode  # noqa: E402

BASE = 27
WINDOW = 16  # each failed resolution below takes about 3 s


class Stale(IntegrationTest):
    BASE = BASE
    RESOLVER_ARGS = ("--serve-stale", str(WINDOW), "--stale-answer-ttl", "30")
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("stale.com.", [4], ["www 1 A 192.0.2.1",
                                   "cdn 1 CNAME e.edge.net."], neg_ttl=1)
        h.zone("edge.net.", [5], ["e 1 A 192.0.2.2"])

    def check_stale(self, r, want):
        self.assertEqual(rcode(r), want[0], r)
        self.assertEqual([(a[0], a[1], a[2]) for a in answers(r)], want[1])
        for a in answers(r):
            self.assertEqual(a[3], 30, "stale records carry the stale TTL")
        codes = ede(r)
        self.assertEqual([c for c, _ in codes], [3], codes)
        self.assertIn("stale answer for", codes[0][1])

    def test_stale_answers_when_the_authorities_are_gone(self):
        plain = self.start_resolver(n=2)  # serve-stale off: the default
        for res in (self.resolver, plain):
            self.assertEqual(answers(res.udp("www.stale.com"))[0][2], "192.0.2.1")
            self.assertEqual([a[2] for a in answers(res.udp("cdn.stale.com"))],
                             ["e.edge.net.", "192.0.2.2"])
            self.assertEqual(rcode(res.udp("gone.stale.com")), "NXDOMAIN")
        learned = time.monotonic()
        self.h.stop_server(4)
        self.h.stop_server(5)
        time.sleep(1.5)  # every TTL above has run out
        self.check_stale(self.resolver.udp("www.stale.com", timeout=8),
                         ("NOERROR", [("www.stale.com.", "A", "192.0.2.1")]))
        self.check_stale(self.resolver.udp("cdn.stale.com", timeout=8),
                         ("NOERROR", [("cdn.stale.com.", "CNAME", "e.edge.net."),
                                      ("e.edge.net.", "A", "192.0.2.2")]))
        r = self.resolver.udp("gone.stale.com", timeout=8)
        self.assertEqual(rcode(r), "NXDOMAIN")
        self.assertEqual([c for c, _ in ede(r)], [3])
        self.assertEqual(metric(self.resolver.metrics(), "chaindns_stale_answers_total"), 3)
        # Without serve-stale the same question fails, with EDE 22.
        r = plain.udp("www.stale.com", timeout=8)
        self.assertEqual(rcode(r), "SERVFAIL")
        self.assertEqual([c for c, _ in ede(r)], [22])
        # Past the window the data is gone.
        time.sleep(max(0.0, learned + 1 + WINDOW + 0.5 - time.monotonic()))
        r = self.resolver.udp("www.stale.com", timeout=8)
        self.assertEqual(rcode(r), "SERVFAIL")
        self.assertEqual([c for c, _ in ede(r)], [22])


if __name__ == "__main__":
    main()
