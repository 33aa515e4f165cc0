#!/usr/bin/python3
"""The cache-hit fast path (the answer cache read with recvmmsg): a repeated
question is answered from it with the query's ID, RD and CD bits and letter
case, TTLs counting down, EDNS and non-EDNS replies kept apart, oversized
replies still truncated, negative answers too, entries dropped when their
first record expires, and clients outside the access list never served."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402

from harness import (IntegrationTest, answers, main, metric, rcode,  # noqa: E402
                     stats_delta, udp)

BIG_TXT = ['"%s"' % ("t%02d" % i * 20) for i in range(12)]  # ~700 bytes of TXT


class FastPath(IntegrationTest):
    BASE = 24
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("example.com.", [3], [
            "www 300 A 192.0.2.1",
            "alias 300 CNAME www",
            "short 2 A 192.0.2.2",
            "big 300 TXT " + " ".join(BIG_TXT[:6]),
            "big 300 TXT " + " ".join(BIG_TXT[6:]),
        ], neg_ttl=60)

    def hits(self):
        return metric(self.resolver.metrics(), "chaindns_cache_lookups_total",
                      tier="answer", result="hit")

    def ask(self, name, rdtype="A", **kw):
        before = self.hits()
        r = self.resolver.udp(name, rdtype, **kw)
        return r, self.hits() - before

    def test_repeat_is_a_hit_with_the_querys_id_case_and_flags(self):
        # CD is part of the key (validation will make it matter): fill with CD.
        first, h1 = self.ask("alias.example.com", cd=True)
        self.assertResolved(first)
        self.assertEqual(h1, 0)
        q = dns.message.make_query("AlIaS.ExAmPlE.cOm.", "A", use_edns=0, payload=1232)
        q.id = 4242
        q.flags |= dns.flags.CD
        before = self.hits()
        r = dns.query.udp(q, self.resolver.addr, port=self.resolver.port, timeout=3)
        self.assertEqual(self.hits() - before, 1)
        self.assertEqual(r.id, 4242)
        self.assertTrue(r.flags & dns.flags.CD and r.flags & dns.flags.RD and
                        r.flags & dns.flags.RA and r.flags & dns.flags.QR)
        self.assertEqual(r.question[0].name.to_text(), "AlIaS.ExAmPlE.cOm.")
        self.assertEqual([(a[0], a[1], a[2]) for a in answers(r)],
                         [(a[0], a[1], a[2]) for a in answers(first)])
        self.assertEqual(r.edns, 0)
        # RD=0: the bit follows the query, not the cached reply.
        q2 = dns.message.make_query("alias.example.com.", "A", use_edns=0, payload=1232)
        q2.flags = (q2.flags & ~dns.flags.RD) | dns.flags.CD
        before = self.hits()
        r2 = dns.query.udp(q2, self.resolver.addr, port=self.resolver.port, timeout=3)
        self.assertEqual(self.hits() - before, 1)
        self.assertFalse(r2.flags & dns.flags.RD)

    def test_ttls_count_down(self):
        first, _ = self.ask("www.example.com")
        time.sleep(2.1)
        r, h = self.ask("www.example.com")
        self.assertEqual(h, 1)
        ttl0, ttl = answers(first)[0][3], answers(r)[0][3]
        self.assertTrue(ttl0 - 3 <= ttl <= ttl0 - 1, (ttl0, ttl))

    def test_edns_and_plain_replies_kept_apart(self):
        self.ask("www.example.com", edns=True)
        r, h = self.ask("www.example.com", edns=False)
        self.assertEqual(r.edns, -1)  # no OPT for a query without one
        r, h = self.ask("www.example.com", edns=False)
        self.assertEqual((h, r.edns), (1, -1))
        r, h = self.ask("www.example.com", edns=True)
        self.assertEqual((h, r.edns), (1, 0))

    def test_oversized_reply_still_truncated(self):
        full, _ = self.ask("big.example.com", "TXT", edns=True, payload=1232)
        self.assertResolved(full)
        self.assertFalse(full.flags & dns.flags.TC)
        small = udp(self.resolver.server_addr, "big.example.com", "TXT", edns=False)
        self.assertTrue(small.flags & dns.flags.TC)
        self.assertEqual(small.answer, [])
        again, h = self.ask("big.example.com", "TXT", edns=True, payload=1232)
        self.assertEqual((h, len(answers(again))), (1, 2))

    def test_negative_answers(self):
        first, _ = self.ask("nope.example.com")
        self.assertEqual(rcode(first), "NXDOMAIN")
        r, h = self.ask("nope.example.com")
        self.assertEqual((h, rcode(r)), (1, "NXDOMAIN"))
        self.assertEqual([a[1] for a in answers(r, "authority")], ["SOA"])

    def test_entry_expires_with_its_first_record(self):
        self.ask("short.example.com")
        r, h = self.ask("short.example.com")
        self.assertEqual(h, 1)
        time.sleep(2.2)
        before = self.resolver.metrics()
        r, h = self.ask("short.example.com")
        self.assertResolved(r)
        self.assertEqual(h, 0)
        d = stats_delta(before, self.resolver.metrics())
        self.assertGreaterEqual(metric(d, "chaindns_upstream_queries_total", transport="udp"), 1)

    def test_refused_clients_never_served_from_it(self):
        narrow = self.start_resolver(["--allow", "127.0.0.1/32"], n=2)
        for _ in range(2):  # the second would be an answer-cache hit
            self.assertResolved(udp(narrow.server_addr, "www.example.com", source="127.0.0.1"))
        r = udp(narrow.server_addr, "www.example.com", source="127.99.0.5")
        self.assertEqual(rcode(r), "REFUSED")
        self.assertEqual(r.answer, [])


if __name__ == "__main__":
    main()
