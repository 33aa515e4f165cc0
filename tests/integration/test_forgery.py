#!/usr/bin/python3
"""Resistance to forged answers (RFC 5452): a reply is accepted only from
the server's address and port, with the TXID and the question that were
sent; every outbound UDP query uses a random TXID and a random source
port."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, auth_addr, main  # noqa: E402

BASE = 20
FORGED = "192.0.2.66"


class Forgery(IntegrationTest):
    BASE = BASE

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
               ["n%d 300 A 192.0.2.%d" % (i, i + 1) for i in range(40)])

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


if __name__ == "__main__":
    main()
