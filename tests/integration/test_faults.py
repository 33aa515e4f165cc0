#!/usr/bin/python3
"""Authoritative servers that misbehave: garbage instead of answers, answers
with the wrong TXID or to another question, an endless delegation chain, a
referral upwards. Every client query gets an answer: the data when a good
server exists, else SERVFAIL with an Extended DNS Error, within the request
deadline; the resolver survives all of it."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, ede, main, rcode  # noqa: E402

BASE = 28
DEEP = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.deep.net."


class Faults(IntegrationTest):
    BASE = BASE
    RESOLVER_ARGS = ("--request-timeout", "5000")

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.badauth(5, mangle="garbage")
        h.zone("garbage.com.", [5], ["www 300 A 192.0.2.5"])
        h.badauth(6, mangle="txid")
        h.zone("txid.com.", [6], ["www 300 A 192.0.2.6"])
        h.badauth(7, mangle="question")
        h.zone("question.com.", [7], ["www 300 A 192.0.2.7"])
        # One garbage server and one good one.
        h.badauth(8, mangle="garbage")
        h.zone("mixed.com.", [8, 9], ["www 300 A 192.0.2.9"])
        h.badauth(10, referral="deeper")
        h.zone("deep.net.", [10], ["www 300 A 192.0.2.10"])
        h.badauth(11, referral="upward")
        h.zone("up.org.", [11], ["www 300 A 192.0.2.11"])

    def fails_cleanly(self, name, within=6.0):
        t0 = time.monotonic()
        r = self.resolver.udp(name, "A", timeout=within + 2)
        took = time.monotonic() - t0
        self.assertEqual(rcode(r), "SERVFAIL", r)
        self.assertEqual(answers(r), [])
        codes = ede(r)
        self.assertEqual(len(codes), 1, r)
        self.assertTrue(codes[0][1], "the EDE says what happened")
        self.assertLess(took, within)
        return codes[0]

    def test_garbage_only(self):
        code, text = self.fails_cleanly("www.garbage.com")
        self.assertEqual(code, 22, text)
        self.assertGreaterEqual(self.h.server(5).count(qname="www.garbage.com."), 1)

    def test_wrong_txid_only(self):
        code, _ = self.fails_cleanly("www.txid.com")
        self.assertEqual(code, 22)

    def test_other_question_only(self):
        code, _ = self.fails_cleanly("www.question.com")
        self.assertEqual(code, 22)
        self.assertNotIn("192.0.2.250", self.resolver.udp("other.www.question.com",
                                                          timeout=8).to_text())

    def test_garbage_server_beside_a_good_one(self):
        for _ in range(3):
            r = self.resolver.udp("www.mixed.com", "A", timeout=5)
            self.assertEqual([a[2] for a in answers(r)], ["192.0.2.9"])

    def test_endless_delegation_chain(self):
        # 26 referrals, each one label deeper, then a lame answer: bounded
        # by the names' own depth here...
        code, text = self.fails_cleanly(DEEP)
        self.assertLessEqual(self.h.server(10).count(qname=DEEP), 30, text)
        # ...and by the request's upstream query budget when that is lower.
        # (Full names asked: this server's endless referrals follow the name
        # asked, and a minimised name ends them at its own depth.)
        tight = self.start_resolver(["--max-upstream-queries", "10",
                                     "--qname-minimisation", "off"], n=2)
        before = self.h.server(10).count(qname="b." + DEEP)
        r = tight.udp("b." + DEEP, timeout=8)
        self.assertEqual(rcode(r), "SERVFAIL")
        (code, text), = ede(r)
        self.assertIn("max-upstream-queries", text)
        self.assertLessEqual(self.h.server(10).count(qname="b." + DEEP) - before, 10)

    def test_referral_upwards(self):
        self.fails_cleanly("www.up.org")

    def test_still_serving_after_all_that(self):
        for name in ("www.garbage.com", "www.txid.com", DEEP, "www.up.org"):
            self.resolver.udp(name, "A", timeout=8)
        r = self.resolver.udp("www.mixed.com", "A", timeout=5)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.9"])
        self.assertTrue(self.resolver.alive())


if __name__ == "__main__":
    main()
