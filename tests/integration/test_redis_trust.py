#!/usr/bin/python3
"""What someone who can write to the shared Redis can and cannot do to
DNSSEC state (issue 17, item 1), and to a flush (item 2).

Without a secret, a value's claimed state means nothing: chaindns judges
every value again before it answers a validating query, so a value planted
as "secure" never gets AD, one under a signed zone without its RRSIG is
not answered (the authorities are asked), and a value claiming "bogus" is
refused as garbage. Data an honest instance shared still saves the
network round trips: it validates here with keys the shared tier hands
over too. With a secret, values without the HMAC are ignored; and a value
captured before an operator's flush and written back after it is refused
by every instance (the fleet's flush log in Redis says when the name was
flushed; the value's HMAC vouches for when it was written).

The tree: a private root (unsigned), com. and net. unsigned, example.com.
signed and anchored (an island of trust); a real redis-server on
127.55.46.1; resolvers on 127.54.46.n, each test with its own key prefix."""

import os
import sys
import time

import dns.flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (IntegrationTest, answers, main, redis_value,  # noqa: E402
                     rr_wire, wait_for)

BASE = 46
SECRET = b"fleet-secret-0123456789abcdef"
RRSET, NXDOMAIN = 1, 3
SEC_SECURE, SEC_BOGUS = 2, 3


class RedisTrust(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [2])
        h.zone("example.com.", [3], ["www 300 A 192.0.2.1", "mail 300 A 192.0.2.2"],
               signed=True)
        h.zone("example.net.", [4], ["www 300 A 192.0.2.9"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anchor = os.path.join(cls.tmpdir, "island.ds")
        cls.h.write_trust_anchor(cls.anchor, ["example.com."])

    def instance(self, n, prefix, *args, metrics=False):
        return self.start_resolver(["--redis-url", self.redis.url, "--redis-prefix", prefix,
                                    "--trust-anchor-file", self.anchor] + list(args),
                                   n=n, unsigned_root=False, metrics=metrics)

    def plant(self, key, val):
        self.redis.client().set(key, val, ex=300)

    def ad(self, m):
        return bool(m.flags & dns.flags.AD)

    def test_no_secret_warns_at_start(self):
        r = self.instance(2, "w")
        self.assertIn("shared cache without a secret", r.log)

    def test_planted_secure_state_never_gets_ad(self):
        r = self.instance(3, "p1", metrics=True)
        # Outside the island: unsigned data, planted as "secure".
        key = "p1:v2:rr:www.example.net.:A"
        self.plant(key, redis_value(key, RRSET, rr_wire("www.example.net.", "A", "203.0.113.66"),
                                    sec=SEC_SECURE))
        m = r.udp("www.example.net", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertFalse(self.ad(m), "a Redis writer made an unsigned answer secure")
        # Under the island: a forged name, planted as "secure", no RRSIG.
        key = "p1:v2:rr:forged.example.com.:A"
        self.plant(key, redis_value(key, RRSET, rr_wire("forged.example.com.", "A", "203.0.113.66"),
                                    sec=SEC_SECURE))
        m = r.udp("forged.example.com", "A", dnssec=True)
        self.assertNotIn("203.0.113.66", [a[2] for a in answers(m)], m)
        self.assertRcode(m, "NXDOMAIN")  # the authority's word, validated
        self.assertTrue(self.ad(m))
        # And a forged address for a real signed name.
        key = "p1:v2:rr:mail.example.com.:A"
        self.plant(key, redis_value(key, RRSET, rr_wire("mail.example.com.", "A", "203.0.113.66"),
                                    sec=SEC_SECURE))
        m = r.udp("mail.example.com", "A", dnssec=True)
        self.assertEqual([a[2] for a in answers(m) if a[1] == "A"], ["192.0.2.2"])
        self.assertTrue(self.ad(m))
        # The judged values are counted; the two forged ones as rejected.
        met = r.metrics()
        self.assertGreaterEqual(met[("chaindns_dnssec_shared_checked_total", frozenset())], 3)
        self.assertEqual(met[("chaindns_dnssec_shared_rejected_total", frozenset())], 2)

    def test_planted_bogus_state_is_never_served(self):
        r = self.instance(4, "p2")
        key = "p2:v2:rr:www.example.net.:A"
        self.plant(key, redis_value(key, RRSET, rr_wire("www.example.net.", "A", "203.0.113.77"),
                                    sec=SEC_BOGUS))
        m = r.udp("www.example.net", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertEqual([a[2] for a in answers(m)], ["192.0.2.9"])  # from the authority
        self.assertEqual(r.stats()["redis.bad_value"], 1)

    def test_honest_sharing_still_saves_round_trips(self):
        a, b = self.instance(5, "s1"), self.instance(6, "s1")
        m = a.udp("www.example.com", "A", dnssec=True)
        self.assertTrue(self.ad(m))
        c = self.redis.client()
        self.assertTrue(wait_for(lambda: c.exists("s1:v2:rr:www.example.com.:A") and
                                 c.exists("s1:v2:rr:example.com.:DNSKEY"), 3))
        before = b.upstream_queries()
        m = b.udp("www.example.com", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertTrue(self.ad(m), "validated here from what the shared tier holds")
        self.assertEqual(b.upstream_queries() - before, 0)

    def test_with_a_secret_unsigned_values_are_ignored(self):
        r = self.instance(7, "k1", "--redis-secret", SECRET.decode())
        self.assertNotIn("shared cache without a secret", r.log)
        key = "k1:v2:rr:www.example.net.:A"
        self.plant(key, redis_value(key, RRSET, rr_wire("www.example.net.", "A", "203.0.113.88"),
                                    sec=SEC_SECURE))
        m = r.udp("www.example.net", "A", dnssec=True)
        self.assertEqual([a[2] for a in answers(m)], ["192.0.2.9"])
        self.assertFalse(self.ad(m))
        self.assertEqual(r.stats()["redis.bad_mac"], 1)

    def test_a_value_put_back_after_a_flush_is_refused(self):
        secret = ["--redis-secret", SECRET.decode()]
        a = self.instance(8, "f1", *secret)
        m = a.udp("www.example.net", "A")
        self.assertEqual([x[2] for x in answers(m)], ["192.0.2.9"])
        c = self.redis.client()
        key = "f1:v2:rr:www.example.net.:A"
        self.assertTrue(wait_for(lambda: c.exists(key), 3))
        captured = c.get(key)
        time.sleep(1.1)  # a value says when it was written to the second
        out = a.ctl("flush", "www.example.net")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertFalse(c.exists(key))
        c.set(key, captured, ex=300)  # the replay
        # Another instance, started after the flush: it reads the flush log.
        b = self.instance(9, "f1", *secret)
        time.sleep(0.3)
        before = b.upstream_queries()
        m = b.udp("www.example.net", "A")
        self.assertEqual([x[2] for x in answers(m)], ["192.0.2.9"])
        self.assertGreater(b.upstream_queries() - before, 0, "the replayed value answered")
        self.assertGreaterEqual(b.stats()["redis.flushed"], 1)
        # The instance that flushed refuses it too.
        c.set(key, captured, ex=300)
        before = a.upstream_queries()
        a.udp("www.example.net", "A")
        self.assertGreater(a.upstream_queries() - before, 0)
        # What is learned again after the flush is shared again.
        c.delete(key)
        d, e = self.instance(10, "f1", *secret), self.instance(11, "f1", *secret)
        d.udp("www.example.net", "A")
        self.assertTrue(wait_for(lambda: c.exists(key), 3))
        before = e.upstream_queries()
        m = e.udp("www.example.net", "A")
        self.assertEqual([x[2] for x in answers(m)], ["192.0.2.9"])
        self.assertEqual(e.upstream_queries() - before, 0)


if __name__ == "__main__":
    main()
