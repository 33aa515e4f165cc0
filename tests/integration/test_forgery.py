#!/usr/bin/python3
"""Resistance to forged answers (RFC 5452): a reply is accepted only from
the server's address and port, with the TXID and the question that were
sent, in the letter case that was sent (0x20); every outbound UDP query
uses a random TXID and a random source port. An attacker process floods
forged answers at the resolver's open ports while it resolves a name."""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PORT, RESOLVER_PORT, IntegrationTest, answers, auth_addr,  # noqa: E402
                     main, metric, rcode)

BASE = 20
FORGED = "192.0.2.66"
TARGET = "target-of-forgery.flood.com."  # 26 letters: 2^-26 to guess the case
HERE = os.path.dirname(os.path.abspath(__file__))


class Forgery(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        # Before each real answer (50 ms late) the server sends four forged
        # ones: wrong TXID, wrong question, from another address, and from
        # another port of its own address.
        h.badauth(3, delay_ms=50,
                  forge={"address": FORGED, "from": auth_addr(BASE, 99)})
        h.zone("forged.com.", [3], ["www 300 A 192.0.2.10",
                                     "mail 300 A 192.0.2.25"])
        # Plain server for counting TXIDs and ports.
        h.badauth(4)
        h.zone("plain.com.", [4],
               ["n%d 300 A 192.0.2.%d" % (i, i + 1) for i in range(40)]
               + ["mixed-case-letters 300 A 192.0.2.99"])
        # The flood target's server never answers it: every query for it
        # stays open until its timeout, a window for the forger.
        h.badauth(5, silent_names=[TARGET])
        h.zone("flood.com.", [5], ["target-of-forgery 300 A 192.0.2.11",
                                   "other 300 A 192.0.2.12"])
        # A server that answers with the question lowercased.
        h.badauth(6, lowercase_question=True)
        h.zone("lower.com.", [6], ["www 300 A 192.0.2.13",
                                   "mail 300 A 192.0.2.14"])

    def test_forged_answers_are_ignored(self):
        for name, want in (("www.forged.com", "192.0.2.10"),
                           ("mail.forged.com", "192.0.2.25")):
            r = self.resolver.udp(name, "A", timeout=5)
            self.assertResolved(r)
            self.assertEqual([a[2] for a in answers(r)], [want])
        # The forgeries were really sent first, and were not cached either.
        self.assertGreaterEqual(self.h.server(3).count(qname="www.forged.com."), 1)
        r = self.resolver.udp("www.forged.com", "A")
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.10"])

    def test_random_txids_and_source_ports(self):
        n = 40
        for i in range(n):
            self.assertResolved(self.resolver.udp("n%d.plain.com" % i, "A"))
        qs = [q for q in self.h.server(4).queries(transport="udp")
              if q["qname"].startswith("n") and q["qtype"] == "A"]
        self.assertEqual(len(qs), n, qs)
        ids = [q["id"] for q in qs]
        ports = [int(q["src"].rsplit(":", 1)[1]) for q in qs]
        # 40 draws from 2^16 (IDs) or the ephemeral range (ports) collide
        # rarely; a counter or a fixed port would collide every time.
        self.assertGreaterEqual(len(set(ids)), n - 2, ids)
        self.assertGreaterEqual(len(set(ports)), n - 2, ports)
        steps = [b - a for a, b in zip(ids, ids[1:])]
        self.assertLess(sum(1 for d in steps if d in (0, 1)), 3,
                        "TXIDs look sequential: %s" % ids)
        steps = [b - a for a, b in zip(ports, ports[1:])]
        self.assertLess(sum(1 for d in steps if abs(d) <= 1), 3,
                        "source ports look sequential: %s" % ports)

    def test_names_go_out_in_random_case_and_come_back_as_asked(self):
        r = self.resolver.udp("mixed-case-letters.plain.com", "A")
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.99"])
        self.assertEqual(str(r.answer[0].name), "mixed-case-letters.plain.com.")
        q = [q for q in self.h.server(4).queries()
             if q["qname"] == "mixed-case-letters.plain.com."]
        self.assertEqual(len(q), 1, q)
        raw = q[0]["qname_raw"]
        self.assertNotEqual(raw, raw.lower(), "0x20 left every letter lowercase")
        self.assertNotEqual(raw, raw.upper())

    def test_server_that_does_not_echo_case(self):
        before = self.resolver.metrics()
        r = self.resolver.udp("www.lower.com", "A", timeout=5)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.13"])
        qs = [q for q in self.h.server(6).queries() if q["qname"] == "www.lower.com."]
        # UDP in random case, its lowercased reply not trusted, TCP to check.
        self.assertEqual([q["transport"] for q in qs], ["udp", "tcp"], qs)
        r = self.resolver.udp("mail.lower.com", "A", timeout=5)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.14"])
        qs = [q for q in self.h.server(6).queries() if q["qname"] == "mail.lower.com."]
        # Known now: asked over UDP without random case.
        self.assertEqual([(q["transport"], q["qname_raw"]) for q in qs],
                         [("udp", "mail.lower.com.")], qs)
        after = self.resolver.metrics()
        self.assertEqual(metric(after, "chaindns_upstream_case_fallbacks_total")
                         - metric(before, "chaindns_upstream_case_fallbacks_total"), 1)

    @unittest.skipUnless(os.geteuid() == 0, "the forger's raw socket needs root")
    def test_flood_of_forged_answers_from_a_port_aware_attacker(self):
        # Delegations first: then the only queries out are for the target.
        self.assertEqual([a[2] for a in answers(self.resolver.udp("other.flood.com", "A"))],
                         ["192.0.2.12"])
        before = self.resolver.metrics()
        stop = os.path.join(self.tmpdir, "forger.stop")
        forger = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "forger.py"),
             "--pid", str(self.resolver.proc.pid),
             "--server", "%s:%d" % (auth_addr(BASE, 5), PORT),
             "--qname", TARGET, "--address", FORGED, "--seconds", "12",
             "--exclude-port", str(RESOLVER_PORT), "--exclude-port", "5399",
             "--stop-file", stop],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            replies = [self.resolver.udp(TARGET, "A", timeout=8) for _ in range(2)]
        finally:
            open(stop, "w").close()
            out, err = forger.communicate(timeout=30)
        self.assertEqual(forger.returncode, 0, err)
        attack = json.loads(out)
        for r in replies:
            self.assertNotIn(FORGED, r.to_text())
            self.assertEqual(rcode(r), "SERVFAIL")
        self.assertGreater(attack["packets"], 65536, attack)
        after = self.resolver.metrics()
        guessed = (metric(after, "chaindns_upstream_replies_ignored_total", reason="case")
                   - metric(before, "chaindns_upstream_replies_ignored_total", reason="case"))
        # The forger hit a live port with the right TXID at least once (a
        # resolver checking only port and TXID would have taken it), and
        # only the letter case gave it away.
        self.assertGreaterEqual(guessed, 1, attack)
        # ...and saw the flood: at least half a sweep of the TXID space was
        # read and thrown away (the rest of what the forger sends may be
        # dropped by a full socket buffer on a busy machine: 56k of 155k
        # packets in one CI-like run).
        self.assertGreater(metric(after, "chaindns_upstream_replies_ignored_total",
                                  reason="mismatch"), 32768, attack)
        self.assertEqual(metric(after, "chaindns_upstream_case_fallbacks_total")
                         - metric(before, "chaindns_upstream_case_fallbacks_total"), 0)
        # Nothing forged in the cache either, once the server answers.
        r = self.resolver.udp("other.flood.com", "A")
        self.assertNotIn(FORGED, r.to_text())


if __name__ == "__main__":
    main()
