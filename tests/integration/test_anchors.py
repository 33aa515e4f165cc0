#!/usr/bin/python3
"""Which trust anchors are in force, and what start-up says about them
(issue 16): an operator who gives a file for one domain must get neither a
validator that silently trusts everything else nor one that trusts nothing.

The hierarchy's root is a private one (not IANA's), with example.com.
signed. builtin-trust-anchor: auto leaves IANA's root key out for it, so:
no file means no anchor (warned) and every answer insecure; a file for
example.com. is an island: validated inside, insecure outside (warned,
naming it). 'on' forces IANA's key in, and then the private root fails
validation, as it must. With the built-in IANA hints, the root anchor is in
force and start-up says everything is validated."""

import os
import sys

import dns.flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (Chaindns, IntegrationTest, answers, ede, main,  # noqa: E402
                     run_chaindns, wait_for)

BASE = 42


class TrustAnchorsInForce(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("example.com.", [3], ["www 300 A 192.0.2.1"], signed=True)
        h.zone("example.net.", [4], ["www 300 A 192.0.2.2"])
        h.zone("net.", [2])

    def validator(self, n, args):
        return self.start_resolver(args, n=n, unsigned_root=False)

    def ad(self, msg):
        return bool(msg.flags & dns.flags.AD)

    def test_private_root_without_a_file_warns_and_answers_insecure(self):
        r = self.validator(2, [])
        self.assertIn("DNSSEC: no trust anchor is in force (the root hints are not IANA's root)",
                      r.log)
        self.assertNotIn("DNSSEC: trust anchor .", r.log)
        m = r.udp("www.example.net", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertEqual([a[2] for a in answers(m)], ["192.0.2.2"])
        self.assertFalse(self.ad(m))

    def test_an_island_file_is_validated_and_the_rest_insecure(self):
        path = os.path.join(self.tmpdir, "island.ds")
        self.h.write_trust_anchor(path, ["example.com."])
        r = self.validator(3, ["--trust-anchor-file", path])
        self.assertRegex(r.log, r"DNSSEC: trust anchor example\.com\. DS \d+/13/2 \(%s\)"
                         % path.replace(".", r"\."))
        self.assertIn("no trust anchor for the root (the root hints are not IANA's root servers):"
                      " only names under example.com. are validated", r.log)
        m = r.udp("www.example.com", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertTrue(self.ad(m), m)
        m = r.udp("www.example.net", "A", dnssec=True)
        self.assertRcode(m, "NOERROR")
        self.assertFalse(self.ad(m))

    def test_builtin_on_keeps_iana_key_and_a_private_root_fails(self):
        r = self.validator(4, ["--builtin-trust-anchor", "on"])
        self.assertIn("DNSSEC: trust anchor . DS 20326/8/2, 38696/8/2 (built in: the IANA root"
                      " KSKs)", r.log)
        self.assertIn("DNSSEC: validating every answer from the root down", r.log)
        m = r.udp("www.example.net", "A", dnssec=True, timeout=5)
        self.assertRcode(m, "SERVFAIL")
        self.assertEqual([code for code, _ in ede(m)], [9])

    def test_off_and_negative_anchors_are_reported(self):
        r = self.validator(5, ["--builtin-trust-anchor", "off",
                              "--negative-trust-anchor", "broken.example."])
        self.assertIn("DNSSEC: negative trust anchor broken.example.: not validated", r.log)
        self.assertIn("no trust anchor is in force (builtin-trust-anchor: off)", r.log)

    def test_iana_hints_keep_the_root_anchor(self):
        # The built-in IANA hints: nothing is asked (only loopback here), so
        # the resolver is not queried; its start-up report is what counts.
        r = Chaindns(BASE, self.h.hints, ["--listen", "127.54.%d.7:5300" % BASE,
                                         "--threads", "1"],
                     self.tmpdir, n=7, default_args=False)
        self.extra_resolvers.append(r)
        r.start(wait=False)
        self.assertTrue(wait_for(lambda: "ready" in r.log, 5), r.log)
        self.assertIn("DNSSEC: trust anchor . DS 20326/8/2, 38696/8/2 (built in: the IANA root"
                      " KSKs)", r.log)
        self.assertIn("DNSSEC: validating every answer from the root down", r.log)
        self.assertNotIn("warn DNSSEC", r.log)

    def test_bad_value_is_named(self):
        res = run_chaindns(["--builtin-trust-anchor", "maybe"])
        self.assertEqual(res.returncode, 2)
        self.assertIn("builtin-trust-anchor", res.stderr)
        self.assertIn("expected auto, on or off", res.stderr)


if __name__ == "__main__":
    main()
