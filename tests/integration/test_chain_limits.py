#!/usr/bin/python3
"""--max-chain-length: a chain of exactly N CNAMEs resolves, N+1 is SERVFAIL
with an EDE naming the limit. Resolver 127.54.13.1 runs with
--max-chain-length 4, resolver 127.54.13.2 with the default (16)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, main  # noqa: E402

HOPS = 18  # zones hop0.net .. hop17.net


def chain_names(length, in_zone=False):
    """Names of a chain with `length` CNAMEs (length + 1 names)."""
    if in_zone:
        return ["i%d-%d.example.com" % (length, i) for i in range(length + 1)]
    return ["c%d.hop%d.net" % (length, i) for i in range(length + 1)]


def final_addr(length):
    return "192.0.2.%d" % (100 + length)


class ChainLimits(IntegrationTest):
    BASE = 13
    RESOLVER_ARGS = ("--max-chain-length", "4")
    LENGTHS = (3, 4, 5, 15, 16, 17)

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        # cross-zone chains: hop i lives in zone hopi.net; consecutive hops
        # are on different servers (.5 / .6), so no server can shortcut
        recs = {i: [] for i in range(HOPS)}
        for n in cls.LENGTHS:
            names = chain_names(n)
            for i in range(n):
                recs[i].append("%s. 300 CNAME %s." % (names[i], names[i + 1]))
            recs[n].append("%s. 300 A %s" % (names[n], final_addr(n)))
        for i in range(HOPS):
            h.zone("hop%d.net." % i, [5 + i % 2], recs[i])
        # chains inside one zone: one answer carries the whole chain
        inz = []
        for n in (4, 5):
            names = chain_names(n, in_zone=True)
            for i in range(n):
                inz.append("%s. 300 CNAME %s." % (names[i], names[i + 1]))
            inz.append("%s. 300 A %s" % (names[n], final_addr(n)))
        h.zone("example.com.", [7], inz)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.default = cls.start_resolver((), n=2)
        except BaseException:
            cls.tearDownClass()
            raise

    def assertChainOK(self, resolver, length, in_zone=False):
        names = chain_names(length, in_zone)
        r = resolver.udp(names[0], "A", timeout=8)
        self.assertResolved(r)
        self.assertChain(r, names, "A", [final_addr(length)])

    def assertTooLong(self, resolver, length, limit, in_zone=False):
        names = chain_names(length, in_zone)
        r = resolver.udp(names[0], "A", timeout=8)
        self.assertRcode(r, "SERVFAIL")
        _, text = self.assertEDE(r, 0, ["chain"])
        self.assertTrue(re.search(r"(?<!\d)%d(?!\d)" % limit, text),
                        "EDE text %r does not mention the limit %d"
                        % (text, limit))

    # --max-chain-length 4
    def test_limit4_chain_of_3(self):
        self.assertChainOK(self.resolver, 3)

    def test_limit4_chain_of_4_across_zones(self):
        self.assertChainOK(self.resolver, 4)

    def test_limit4_chain_of_5_across_zones(self):
        self.assertTooLong(self.resolver, 5, 4)

    def test_limit4_chain_of_4_in_one_answer(self):
        self.assertChainOK(self.resolver, 4, in_zone=True)

    def test_limit4_chain_of_5_in_one_answer(self):
        self.assertTooLong(self.resolver, 5, 4, in_zone=True)

    def test_limit4_too_long_again_from_cache(self):
        # second ask (hops now cached) gives the same verdict
        self.assertTooLong(self.resolver, 17, 4)
        self.assertTooLong(self.resolver, 17, 4)

    # default limit 16
    def test_default_chain_of_15(self):
        self.assertChainOK(self.default, 15)

    def test_default_chain_of_16_across_zones(self):
        self.assertChainOK(self.default, 16)

    def test_default_chain_of_17_across_zones(self):
        self.assertTooLong(self.default, 17, 16)

    def test_default_chain_of_5_in_one_answer(self):
        self.assertChainOK(self.default, 5, in_zone=True)


if __name__ == "__main__":
    main()
