#!/usr/bin/python3
"""The shared Redis cache between resolver instances: what instance A learned
instance B answers with no query to the authoritative servers (chains hop by
hop, negative answers), with TTLs counting down identically; prefixes keep
fleets apart; with a secret, values are signed and forged or garbage values
are ignored. A real redis-server on 127.55.21.1; resolvers on 127.54.21.n,
each test with its own key prefix so tests do not see each other's data."""

import hashlib
import hmac
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


from harness import (IntegrationTest, answers, main, rcode,  # noqa: E402
                     redis_value, rr_wire, stats_delta, wait_for)

BASE = 21
SECRET = b"fleet-secret-0123456789abcdef"
CHAIN = ["www.example.com.", "www.example.com.cdn.net.", "edge.edge.org."]


class SharedCache(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.zone("example.com.", [5], [
            "www 300 CNAME www.example.com.cdn.net.",
            "host 300 A 192.0.2.10",
            "fresh 300 A 192.0.2.11",
            "www2 300 A 192.0.2.12",
            "mid 300 CNAME edge.edge.org.",
        ], neg_ttl=120)
        h.zone("cdn.net.", [6], ["www.example.com 300 CNAME edge.edge.org."])
        h.zone("edge.org.", [7], ["edge 300 A 192.0.2.80"], neg_ttl=120)

    def assertChainA(self, msg, chain):
        self.assertResolved(msg)
        self.assertChain(msg, chain, "A", ["192.0.2.80"])

    def instance(self, n, prefix, *args):
        return self.start_resolver(["--redis-url", self.redis.url, "--redis-prefix", prefix]
                                   + list(args), n=n)

    def wait_key(self, key, timeout=3.0):
        r = self.redis.client()
        self.assertTrue(wait_for(lambda: r.exists(key), timeout), "%s never written" % key)

    def test_chain_answered_by_b_without_upstream_queries(self):
        a, b = self.instance(2, "t1"), self.instance(3, "t1")
        ra = a.udp("www.example.com")
        self.assertChainA(ra, CHAIN)
        self.wait_key("t1:v2:chain:www.example.com.")
        self.wait_key("t1:v2:rr:edge.edge.org.:A")
        self.wait_key("t1:v2:rr:www.example.com.cdn.net.:CNAME")  # writes are pipelined
        before = b.stats()
        rb = b.udp("www.example.com")
        self.assertChainA(rb, CHAIN)
        st = stats_delta(before, b.stats())
        self.assertEqual(st["upstream_udp"] + st["upstream_tcp"], 0, st)
        # The chain record lets B fetch every hop in the second round trip.
        self.assertEqual(st["redis.lookups"], 2, st)
        self.assertEqual(st["redis.lookup_hits"], 2, st)
        self.assertEqual(st["redis.keys_found"], 4, st)  # 2 CNAMEs, the A, the chain
        # A name in the middle of the chain is shared as its own RRset too.
        c = self.instance(4, "t1")
        self.assertChainA(c.udp("www.example.com.cdn.net"), CHAIN[1:])
        self.assertEqual(c.upstream_queries(), 0)

    def test_ttls_count_down_identically(self):
        a, b = self.instance(5, "t2"), self.instance(6, "t2")
        first = a.udp("www.example.com")
        self.assertResolved(first)
        self.wait_key("t2:v2:rr:edge.edge.org.:A")
        time.sleep(2.2)
        rb, ra = b.udp("www.example.com"), a.udp("www.example.com")
        self.assertEqual(b.upstream_queries(), 0)
        ttl_a = {(x[0], x[1]): x[3] for x in answers(ra)}
        ttl_b = {(x[0], x[1]): x[3] for x in answers(rb)}
        self.assertEqual(set(ttl_a), set(ttl_b))
        for k in ttl_a:
            self.assertLessEqual(abs(ttl_a[k] - ttl_b[k]), 1, (k, ttl_a, ttl_b))
            self.assertLessEqual(ttl_b[k], 298, "B restarted the TTL of %s: %s" % (k, ttl_b))

    def test_negative_answers_shared(self):
        a, b = self.instance(7, "t3"), self.instance(8, "t3")
        nx = a.udp("nx.example.com")
        nodata = a.udp("host.example.com", "AAAA")
        self.assertEqual(rcode(nx), "NXDOMAIN")
        self.assertEqual((rcode(nodata), answers(nodata)), ("NOERROR", []))
        self.wait_key("t3:v2:rr:nx.example.com.:NXDOMAIN")
        self.wait_key("t3:v2:rr:host.example.com.:AAAA")
        # Through a chain too: mid -> edge.edge.org has no AAAA.
        a.udp("mid.example.com", "AAAA")
        self.wait_key("t3:v2:rr:edge.edge.org.:AAAA")
        for name, t, want in (("nx.example.com", "A", "NXDOMAIN"),
                              ("host.example.com", "AAAA", "NOERROR"),
                              ("mid.example.com", "AAAA", "NOERROR")):
            r = b.udp(name, t)
            self.assertEqual(rcode(r), want, r)
            soa = [x for x in answers(r, "authority") if x[1] == "SOA"]
            self.assertEqual(len(soa), 1, r)
            self.assertLessEqual(soa[0][3], 120)
        self.assertEqual([x[1] for x in answers(r)], ["CNAME"])
        self.assertEqual(b.upstream_queries(), 0)

    def test_prefix_isolates_fleets(self):
        a, b = self.instance(9, "fleet-a"), self.instance(10, "fleet-b")
        self.assertResolved(a.udp("host.example.com"))
        self.wait_key("fleet-a:v2:rr:host.example.com.:A")
        self.assertResolved(b.udp("host.example.com"))
        self.assertGreater(b.upstream_queries(), 0)
        st = b.stats()
        self.assertEqual(st["redis.keys_found"], 0, st)

    def test_values_are_signed_and_expire_with_the_ttl(self):
        a = self.instance(11, "t5", "--redis-secret", SECRET.decode())
        self.assertResolved(a.udp("host.example.com"))
        key = "t5:v2:rr:host.example.com.:A"
        self.wait_key(key)
        r = self.redis.client()
        value = r.get(key)
        # v2, RRset, answer rank, flags: signed (1) and insecure (1 << 1: the
        # test root is a negative trust anchor)
        self.assertEqual(value[:6], b"CD\x02\x01\x03\x03")
        body, mac = value[:-32], value[-32:]
        self.assertEqual(mac, hmac.new(SECRET, key.encode() + body, hashlib.sha256).digest())
        expiry, ttl, plen = struct.unpack(">qII", body[6:22])
        self.assertEqual(ttl, 300)
        self.assertLessEqual(abs(expiry - (time.time() + 300)), 2)
        self.assertTrue(290 <= r.ttl(key) <= 300, r.ttl(key))

    def test_forged_values_without_the_secret_are_ignored(self):
        a = self.instance(12, "t6", "--redis-secret", SECRET.decode())
        self.assertResolved(a.udp("host.example.com"))
        r = self.redis.client()
        self.wait_key("t6:v2:rr:host.example.com.:A")
        bogus = rr_wire("host.example.com.", "A", "203.0.113.66")
        # Overwrite a real entry: unsigned, and signed with another key.
        key = "t6:v2:rr:host.example.com."
        r.set(key + ":A", redis_value(key + ":A", 1, bogus))
        # Plant entries for names nobody resolved yet.
        fresh = "t6:v2:rr:fresh.example.com.:A"
        r.set(fresh, redis_value(fresh, 1, rr_wire("fresh.example.com.", "A", "203.0.113.67"),
                                  secret=b"not-the-fleet-secret-at-all"))
        www2 = "t6:v2:rr:www2.example.com.:A"
        r.set(www2, redis_value(www2, 1, rr_wire("www2.example.com.", "A", "203.0.113.68")))
        b = self.instance(13, "t6", "--redis-secret", SECRET.decode())
        before = b.stats()
        for name, want in (("host.example.com", "192.0.2.10"),
                           ("fresh.example.com", "192.0.2.11"),
                           ("www2.example.com", "192.0.2.12")):
            self.assertEqual([x[2] for x in answers(b.udp(name))], [want])
        st = stats_delta(before, b.stats())
        self.assertEqual(st["redis.bad_mac"], 3, st)
        self.assertEqual(st["redis.keys_found"], 0, st)

    def test_garbage_values_are_ignored(self):
        a = self.instance(14, "t7")
        self.assertResolved(a.udp("host.example.com"))
        key = "t7:v2:rr:host.example.com.:A"
        self.wait_key(key)
        r = self.redis.client()
        good = r.get(key)
        plant = {
            "t7:v2:rr:host.example.com.:A": good[:-3],                    # truncated
            "t7:v2:rr:fresh.example.com.:A": os.urandom(64),              # noise
            "t7:v2:rr:www2.example.com.:A": redis_value(                 # wrong owner
                "x", 1, rr_wire("elsewhere.example.net.", "A", "203.0.113.69")),
            "t7:v2:chain:www.example.com.": redis_value("x", 4, b"\xc0\x0c"),  # pointer
            "t7:v2:rr:www.example.com.:CNAME": b"CD\x01\x01\x03\x00" + b"\xff" * 16,
            "t7:v2:rr:mid.example.com.:CNAME": redis_value(              # glue rank:
                "x", 1, rr_wire("mid.example.com.", "CNAME", "evil.example.net."), rank=1),
        }
        for k, v in plant.items():
            r.set(k, v)
        b = self.instance(15, "t7")
        before = b.stats()
        for name, want in (("host.example.com", "192.0.2.10"),
                           ("fresh.example.com", "192.0.2.11"),
                           ("www2.example.com", "192.0.2.12")):
            self.assertEqual([x[2] for x in answers(b.udp(name))], [want])
        self.assertChainA(b.udp("www.example.com"), CHAIN)
        self.assertChainA(b.udp("mid.example.com"), ["mid.example.com.", "edge.edge.org."])
        st = stats_delta(before, b.stats())
        self.assertEqual(st["redis.bad_value"], len(plant), st)
        self.assertTrue(b.alive())


if __name__ == "__main__":
    main()
