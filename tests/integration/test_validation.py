#!/usr/bin/python3
"""DNSSEC validation by chaindns, end to end, against a signed loopback
hierarchy built like test_dnssec_harness.py's (whose Unbound oracle gives
the expected answers and EDE codes): a signed root whose DS is the resolver's
only trust anchor (--trust-anchor-file, no negative trust anchor for the
root), signed TLDs and second-level zones in every algorithm, NSEC and NSEC3
(opt-out too) denial, a wildcard, KSK rollovers, insecure delegations, CNAME
chains between signed, unsigned and bogus zones, and the breakages.

Checked: AD=1 on secure answers (DO=1 or AD=1 in the query), never on
insecure ones; RRSIGs (and NSEC/NSEC3 proofs for negative answers) with DO=1
and none with DO=0; bogus answers SERVFAIL with the Extended DNS Error
Unbound gives and an EXTRA-TEXT naming the zone and a reason; CD=1 returns
bogus data unvalidated (AD=0) without poisoning validated answers; /chains
shows the security of each hop; the DNSSEC metrics count answers by state
and chains that leave a secure zone for an insecure one (DKIM purpose);
negative trust anchors; --dnssec off; the trust anchor in DNSKEY form and a
wrong anchor; validated answers from the cache and from another instance
through the shared Redis tier, with no new upstream query; RFC 8020 cuts only
below validated NXDOMAINs (nothing-below-nxdomain: dnssec, the default).

NSD on 127.53.41.<n>:10053, resolvers on 127.54.41.<n>:5300, Redis on
127.55.41.1:6379. Run (as root, like the other modules):
    CHAINDNS_BIN=build/chaindns /usr/bin/python3 tests/integration/test_validation.py -v"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

from harness import (Chaindns, IntegrationTest, Key, answers, ede,  # noqa: E402
                     from_now, have_crypto, main, metric, rcode, stats_delta,
                     wait_for)

BASE = 41
DAY = 86400
CRYPTO = have_crypto()
SECRET = "validation-fleet-secret-0123456789"
QUERY_TIMEOUT = 6.0  # a cold validation walks root, TLD and zone keys; request-timeout is 5 s

# Broken signature windows: off by more than any validator's clock skew
# allowance (Unbound: at most a day).
EXPIRED = dict(sig_inception=from_now(-30 * DAY), sig_expiration=from_now(-2 * DAY))
NOT_YET = dict(sig_inception=from_now(2 * DAY), sig_expiration=from_now(30 * DAY))

# EDE info codes (RFC 8914). The expected code of each breakage is the one
# Unbound 1.17 gives on the same hierarchy (test_dnssec_harness.py -v
# prints its table):
#   expired 7, not yet valid 8, DS matching no key 9, DS with a wrong digest
#   9, missing RRSIG 10, key without the Zone Key bit 11, signature that does
#   not verify 6, signing key not in the DNSKEY RRset 9 (not in the brief's
#   list: Unbound's), DS only for the KSK that does not sign 10 (Unbound's),
#   NXDOMAIN whose NSEC is missing 6 (Unbound; RFC 8914's NSEC Missing, 12,
#   is accepted too).
EDE_BOGUS, EDE_EXPIRED, EDE_NOT_YET, EDE_DNSKEY_MISSING = 6, 7, 8, 9
EDE_RRSIGS_MISSING, EDE_NO_ZONE_KEY_BIT, EDE_NSEC_MISSING = 10, 11, 12

# ED448: Unbound validates it on this
# hierarchy, so chaindns must too.
ALGORITHMS = [  # (zone, algorithm, its number, extra zone options)
    ("rsasha256.sec.", "RSASHA256", 8, {}),
    ("rsasha512.sec.", "RSASHA512", 10, {}),
    ("p256.sec.", "ECDSAP256SHA256", 13, {}),
    ("p384.sec.", "ECDSAP384SHA384", 14, {"ds_digest": "SHA384"}),
    ("ed25519.sec.", "ED25519", 15, {}),
    ("ed448.sec.", "ED448", 16, {}),
    ("rsasha1.sec.", "RSASHA1", 5, {}),
    ("nsec3sha1.sec.", "RSASHA1-NSEC3-SHA1", 7, {"nsec3": True}),
]

# (case, qname, zone named in the EDE text, accepted EDE codes, data,
#  rcode with CD=1)
BOGUS = [
    ("expired signatures", "www.expired.sec.", "expired.sec.", (EDE_EXPIRED,),
     ["192.0.2.71"], "NOERROR"),
    ("not-yet-valid signatures", "www.future.sec.", "future.sec.", (EDE_NOT_YET,),
     ["192.0.2.72"], "NOERROR"),
    ("DS matches no key", "www.badds.sec.", "badds.sec.", (EDE_DNSKEY_MISSING,),
     ["192.0.2.73"], "NOERROR"),
    ("DS with a wrong digest", "www.baddigest.sec.", "baddigest.sec.",
     (EDE_DNSKEY_MISSING,), ["192.0.2.74"], "NOERROR"),
    ("missing RRSIG", "www.nosig.sec.", "nosig.sec.", (EDE_RRSIGS_MISSING,),
     ["192.0.2.75"], "NOERROR"),
    ("RRSIG does not verify", "www.badsig.sec.", "badsig.sec.", (EDE_BOGUS,),
     ["192.0.2.79"], "NOERROR"),
    ("signing ZSK not in DNSKEY", "www.nokey.sec.", "nokey.sec.",
     (EDE_DNSKEY_MISSING,), ["192.0.2.77"], "NOERROR"),
    ("DS only for the non-signing KSK", "www.roll-bad.sec.", "roll-bad.sec.",
     (EDE_RRSIGS_MISSING,), ["192.0.2.93"], "NOERROR"),
    ("NXDOMAIN without its NSEC", "n.nsecgone.sec.", "nsecgone.sec.",
     (EDE_BOGUS, EDE_NSEC_MISSING), None, "NXDOMAIN"),
]


def flip_ds_digest(ds_text):
    """A DS rdata with the last digit of its digest changed."""
    tag, alg, dt, digest = ds_text.split(None, 3)
    digest = digest.replace(" ", "")
    return "%s %s %s %s" % (tag, alg, dt, digest[:-1] + ("1" if digest[-1] == "0" else "0"))


def _qflags(q, cd, ad):
    if cd:
        q.flags |= dns.flags.CD
    if ad:
        q.flags |= dns.flags.AD
    return q


def rrsigs(msg, section="answer"):
    """RRSIG rdatas of a section."""
    return [rd for rr in getattr(msg, section) if rr.rdtype == dns.rdatatype.RRSIG
            for rd in rr]


def types_in(msg, section):
    return {dns.rdatatype.to_text(rr.rdtype) for rr in getattr(msg, section)}


def final_data(msg, rdtype):
    return sorted(a[2] for a in answers(msg) if a[1] == rdtype)


def upstream_total(values):
    return sum(v for (name, labels), v in values.items()
               if name == "chaindns_upstream_queries_total")


class Validation(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False  # started in setUpClass, once the root's anchor exists
    RESOLVER_KW = {"unsigned_root": False, "metrics": True}
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone(".", [1], signed=True)
        h.zone("sec.", [2], signed=True)                       # NSEC
        h.zone("opt.", [2], signed=True, nsec3=True, optout=True,
               algorithm="RSASHA256", salt="c0ffee", iterations=1)
        h.zone("ins.", [2])                                    # unsigned TLD
        h.zone("good.sec.", [3], [
            "www 300 A 192.0.2.1",
            "www 300 TXT \"good\"",
            "*.wild 300 A 192.0.2.9",
            "out 300 CNAME www.plain.ins.",             # into an unsigned zone
            "cross 300 CNAME www.rsasha256.sec.",       # into another signed zone
            "tobogus 300 CNAME www.expired.sec.",       # into a bogus zone
            "sel._domainkey 300 CNAME sel._domainkey.provider.ins.",  # DKIM, to insecure
            "inzone 300 CNAME www",                     # inside one signed zone
        ], signed=True)
        h.zone("n3.sec.", [3], [
            "www 300 A 192.0.2.31",
            "*.wild 300 A 192.0.2.39",
        ], signed=True, nsec3=True)
        for zn, alg, _, kw in ALGORITHMS:
            h.zone(zn, [3], ["www 300 A 192.0.2.40"], signed=True,
                   algorithm=alg, **kw)
        h.zone("expired.sec.", [3], ["www 300 A 192.0.2.71"], signed=True, **EXPIRED)
        h.zone("future.sec.", [3], ["www 300 A 192.0.2.72"], signed=True, **NOT_YET)
        h.zone("badds.sec.", [3], ["www 300 A 192.0.2.73"], signed=True, bad_ds=True)
        h.zone("baddigest.sec.", [3], ["www 300 A 192.0.2.74"], signed=True,
               bad_ds="digest")
        # Touched by test_cd_first_then_validated alone, CD=1 first.
        h.zone("cdfirst.sec.", [3], ["www 300 A 192.0.2.70"], signed=True,
               bad_ds="digest")
        h.zone("nosig.sec.", [3], ["www 300 A 192.0.2.75", "ok 300 A 192.0.2.76"],
               signed=True, strip_sigs=[("www.nosig.sec.", "A")])
        h.zone("badsig.sec.", [3], ["www 300 A 192.0.2.79"], signed=True,
               bad_sigs=[("www.badsig.sec.", "A")])
        # The NSEC of m.nsecgone.sec. (it covers n.nsecgone.sec.) is gone.
        h.zone("nsecgone.sec.", [3], ["a 300 A 192.0.2.82", "m 300 A 192.0.2.83",
                                      "z 300 A 192.0.2.84"], signed=True,
               drop_records=[("m.nsecgone.sec.", "NSEC")])
        h.zone("nokey.sec.", [3], ["www 300 A 192.0.2.77"], signed=True,
               keys=[Key(ksk=True), Key(publish=False)])
        if CRYPTO:
            h.zone("nozbit.sec.", [3], ["www 300 A 192.0.2.78"], signed=True,
                   keys=[Key(ksk=True), Key(zone_bit=False)])
        h.zone("unsigned.sec.", [3], ["www 300 A 192.0.2.80"])
        h.zone("nods.sec.", [3], ["www 300 A 192.0.2.81"], signed=True, ds=False)
        # Rollovers: both KSKs have their DS in sec.; one or both sign.
        h.zone("roll-one.sec.", [3], ["www 300 A 192.0.2.91"], signed=True,
               keys=[Key(ksk=True), Key(ksk=True, sign=False), Key(),
                     Key(sign=False)])
        h.zone("roll-both.sec.", [3], ["www 300 A 192.0.2.92"], signed=True,
               keys=[Key(ksk=True), Key(ksk=True), Key()])
        h.zone("roll-bad.sec.", [3], ["www 300 A 192.0.2.93"], signed=True,
               keys=[Key(ksk=True, ds=False), Key(ksk=True, sign=False), Key()])
        # Under the NSEC3 opt-out TLD: a secure delegation and an insecure one
        # in an opt-out span.
        h.zone("signed.opt.", [4], ["www 300 A 192.0.2.101"], signed=True)
        h.zone("plain.opt.", [4], ["www 300 A 192.0.2.102"])
        h.zone("plain.ins.", [4], [
            "www 300 A 192.0.2.111",
            "tosigned 300 CNAME www.good.sec.",
        ])
        h.zone("provider.ins.", [4], [
            "sel._domainkey 300 TXT \"v=DKIM1; k=ed25519; "
            "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
        ])
        h.zone("island.ins.", [4], ["www 300 A 192.0.2.112"], signed=True)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            assert cls.h.trust_anchor, "the root is signed: the harness wrote its DS"
            cls.anchor = cls.h.trust_anchor
            cls.resolver = cls.validating(1)
        except BaseException:
            cls.tearDownClass()
            raise

    # -- resolvers --------------------------------------------------------------
    @classmethod
    def validating(cls, n, args=(), anchor=None, **kw):
        """A validating resolver on 127.54.41.<n> with the root's DS as its
        trust anchor, no negative trust anchor for the root, metrics on."""
        opts = dict(cls.RESOLVER_KW)
        opts.update(kw)
        r = Chaindns(cls.BASE, cls.h.hints,
                     ["--trust-anchor-file", anchor or cls.anchor] + list(args),
                     cls.tmpdir, n=n, **opts)
        if n == 1:
            cls.resolver = r
        else:
            cls.extra_resolvers.append(r)
        return r.start()

    # -- queries ----------------------------------------------------------------
    def ask(self, res, qname, qtype="A", do=True, cd=False, ad=False,
            timeout=QUERY_TIMEOUT):
        """One query over UDP (TCP when truncated); a timeout fails the test
        with the resolver's log tail."""
        q = _qflags(dns.message.make_query(qname, qtype, use_edns=0, payload=1232,
                                           want_dnssec=do), cd, ad)
        try:
            m = dns.query.udp(q, res.server_addr[0], port=res.server_addr[1],
                              timeout=timeout)
            if m.flags & dns.flags.TC:
                m = dns.query.tcp(q, res.server_addr[0], port=res.server_addr[1],
                                  timeout=timeout)
        except dns.exception.Timeout:
            self.fail("%s %s (DO=%d CD=%d AD=%d): no answer from %s within %ss;"
                      " log tail:\n%s" % (qname, qtype, do, cd, ad, res.addr,
                                          timeout, res.log[-3000:]))
        return m

    def info(self, res, case, m):
        return "%s:\n%s\nEDE %r\nresolver %s log tail:\n%s" % (
            case, m, ede(m), res.addr, res.log[-2000:])

    def around(self, res, fn):
        before = res.metrics()
        out = fn()
        return out, stats_delta(before, res.metrics())

    # -- checks -----------------------------------------------------------------
    def check_secure(self, res, qname, qtype="A", want_rcode="NOERROR", data=None,
                     case=None):
        """DO=1: rcode, AD=1, no EDE, RRSIGs beside the answer; the final
        data if given."""
        case = case or "secure %s %s" % (qname, qtype)
        m = self.ask(res, qname, qtype)
        info = self.info(res, case, m)
        self.assertEqual(rcode(m), want_rcode, info)
        self.assertTrue(m.flags & dns.flags.AD, "AD=1 expected; " + info)
        self.assertEqual(ede(m), [], "no EDE on a secure answer; " + info)
        if data is not None:
            self.assertEqual(final_data(m, qtype), sorted(data), info)
        if m.answer:
            self.assertTrue(rrsigs(m), "DO=1: a secure answer carries its RRSIGs; " + info)
        return m

    def check_insecure(self, res, qname, qtype="A", data=None, case=None,
                       want_rcode="NOERROR"):
        """DO=1: NOERROR (or want_rcode), AD=0, the data there."""
        case = case or "insecure %s %s" % (qname, qtype)
        m = self.ask(res, qname, qtype)
        info = self.info(res, case, m)
        self.assertEqual(rcode(m), want_rcode, info)
        self.assertFalse(m.flags & dns.flags.AD, "AD=0 expected (insecure); " + info)
        if data is not None:
            self.assertEqual(final_data(m, qtype), sorted(data), info)
        return m

    def assertChainSigned(self, msg, chain, final_type, final):
        """harness assertChain, with the RRSIGs DO=1 brings left out."""
        want = [(chain[i], chain[i + 1]) for i in range(len(chain) - 1)]
        recs = [a for a in answers(msg) if a[1] != "RRSIG"]
        self.assertEqual([(a[0], a[2]) for a in recs[:len(want)]], want,
                         "the chain first and in order\n%s" % msg)
        rest = recs[len(want):]
        self.assertTrue(rest and all(a[0] == chain[-1] and a[1] == final_type for a in rest),
                        "after the chain only the final %s RRset\n%s" % (final_type, msg))
        if final is not None:
            self.assertEqual(sorted(a[2] for a in rest), sorted(final), msg)

    def assertBogusRepeat(self, res, m, case, codes):
        """A repeated bogus question: SERVFAIL, AD=0 and an EDE with the
        first answer's code, or the generic DNSSEC Bogus (6) Unbound gives
        when it answers a bogus name from its cache (without EXTRA-TEXT)."""
        info = self.info(res, case, m)
        self.assertEqual(rcode(m), "SERVFAIL", info)
        self.assertFalse(m.flags & dns.flags.AD, info)
        self.assertTrue([c for c, _ in ede(m) if c in tuple(codes) + (EDE_BOGUS,)],
                        "EDE %s (or 6) on a repeated bogus question; %s"
                        % (" or ".join(map(str, codes)), info))

    def assertBogusEDE(self, res, m, case, codes, zone, qname):
        """SERVFAIL, AD=0, an EDE with one of `codes` whose EXTRA-TEXT names
        `zone` and gives a reason beyond the names."""
        info = self.info(res, case, m)
        self.assertEqual(rcode(m), "SERVFAIL", info)
        self.assertFalse(m.flags & dns.flags.AD, "AD=0 on a bogus answer; " + info)
        edes = ede(m)
        self.assertTrue(edes, "bogus answer without an EDE; " + info)
        matching = [(c, t) for c, t in edes if c in codes]
        self.assertTrue(matching, "EDE code %s expected (Unbound's), got %r; %s"
                        % (" or ".join(map(str, codes)), edes, info))
        text = " ".join(t for _, t in matching).lower()
        self.assertIn(zone.lower(), text, "EXTRA-TEXT should name the zone %s; %s"
                      % (zone, info))
        rest = text.replace(qname.lower(), " ").replace(zone.lower(), " ")
        self.assertRegex(rest, r"[a-z]{4,}",
                         "EXTRA-TEXT should give a reason besides the names; " + info)
        # Nothing of the bogus zone is served. (The secure start of a chain
        # into it, a signed CNAME, may come along: chaindns returns it,
        # Unbound does not; neither is wrong.)
        bogus = dns.name.from_text(zone)
        self.assertEqual([rr.to_text() for rr in m.answer + m.authority
                          if rr.name.is_subdomain(bogus)], [],
                         "no data of the bogus zone in the answer; " + info)

    def check_bogus(self, res, case, qname, zone, codes, data, cd_rcode, qtype="A"):
        """DO=1: SERVFAIL with the EDE; CD=1: the data, AD=0, cd_rcode; then
        again without CD and with DO=0: still SERVFAIL (the unvalidated data
        CD=1 fetched is not served to a validating query)."""
        m = self.ask(res, qname, qtype)
        self.assertBogusEDE(res, m, case, codes, zone, qname)
        c = self.ask(res, qname, qtype, cd=True)
        info = self.info(res, case + " (CD=1)", c)
        self.assertEqual(rcode(c), cd_rcode, "CD=1 skips validation; " + info)
        self.assertFalse(c.flags & dns.flags.AD, "CD=1 bogus data: AD=0; " + info)
        self.assertEqual([x for x in ede(c) if x[0] in codes], [],
                         "CD=1: no validation, so no validation EDE; " + info)
        if data is not None:
            self.assertEqual(final_data(c, qtype), sorted(data), "CD=1 data; " + info)
        again = self.ask(res, qname, qtype)
        self.assertBogusRepeat(res, again, case + " (again, after CD=1)", codes)
        plain = self.ask(res, qname, qtype, do=False)
        self.assertEqual(rcode(plain), "SERVFAIL",
                         self.info(res, case + " (DO=0)", plain))
        return m

    # ==========================================================================
    # secure
    # ==========================================================================
    def test_secure_root_tld_second_level(self):
        res = self.resolver
        m = self.check_secure(res, ".", "DNSKEY")
        self.assertIn("DNSKEY", types_in(m, "answer"), m)
        self.check_secure(res, "sec.", "SOA")
        self.check_secure(res, "www.good.sec.", data=["192.0.2.1"])
        self.check_secure(res, "www.good.sec.", "TXT", data=['"good"'])

    def test_algorithms(self):
        for zn, alg, number, _ in ALGORITHMS:
            with self.subTest(algorithm=alg):
                m = self.check_secure(self.resolver, "www." + zn, data=["192.0.2.40"],
                                      case="secure %s" % alg)
                self.assertEqual({int(s.algorithm) for s in rrsigs(m)}, {number}, m)

    def test_nsec_nxdomain_nodata(self):
        res = self.resolver
        m = self.check_secure(res, "nx.good.sec.", want_rcode="NXDOMAIN",
                              case="NSEC NXDOMAIN")
        self.assertIn("NSEC", types_in(m, "authority"), m)
        self.assertTrue(rrsigs(m, "authority"), "NSEC proofs with their RRSIGs\n%s" % m)
        m = self.check_secure(res, "www.good.sec.", "MX", data=[], case="NSEC NODATA")
        self.assertEqual(m.answer, [], m)
        self.assertIn("NSEC", types_in(m, "authority"), m)
        self.assertIn("SOA", types_in(m, "authority"), m)

    def test_nsec3_nxdomain_nodata(self):
        res = self.resolver
        m = self.check_secure(res, "nx.n3.sec.", want_rcode="NXDOMAIN",
                              case="NSEC3 NXDOMAIN")
        self.assertIn("NSEC3", types_in(m, "authority"), m)
        self.assertTrue(rrsigs(m, "authority"), m)
        m = self.check_secure(res, "www.n3.sec.", "TXT", data=[], case="NSEC3 NODATA")
        self.assertEqual(m.answer, [], m)
        self.assertIn("NSEC3", types_in(m, "authority"), m)

    def test_wildcard_with_proof(self):
        for zn, denial, addr in (("good.sec.", "NSEC", "192.0.2.9"),
                                 ("n3.sec.", "NSEC3", "192.0.2.39")):
            with self.subTest(denial=denial):
                qname = "anything.wild." + zn
                m = self.check_secure(self.resolver, qname, data=[addr],
                                      case="wildcard (%s)" % denial)
                # The expansion keeps its RRSIG (labels = 3: *.wild.<zone>
                # without the '*') and the proof that the name itself does
                # not exist.
                self.assertEqual([s.labels for s in rrsigs(m)], [3], m)
                self.assertIn(denial, types_in(m, "authority"),
                              "wildcard answer without its %s proof\n%s" % (denial, m))
                self.assertEqual(answers(m)[0][0], qname, m)

    def test_key_rollover(self):
        res = self.resolver
        for zn, nkeys in (("roll-one.sec.", 4), ("roll-both.sec.", 3)):
            with self.subTest(zone=zn):
                m = self.check_secure(res, zn, "DNSKEY")
                keys = m.get_rrset(m.answer, dns.name.from_text(zn), dns.rdataclass.IN,
                                   dns.rdatatype.DNSKEY)
                self.assertIsNotNone(keys, m)
                self.assertEqual(len(keys), nkeys, m)
                self.check_secure(res, "www." + zn)

    def test_nsec3_optout(self):
        res = self.resolver
        self.check_secure(res, "www.signed.opt.", data=["192.0.2.101"],
                          case="opt-out TLD, secure child")
        self.check_insecure(res, "www.plain.opt.", data=["192.0.2.102"],
                            case="opt-out NSEC3 delegation to an unsigned child")
        # RFC 5155 9.2 (Unbound agrees): the next closer name is covered by an
        # opt-out NSEC3, so an unsigned delegation may exist there: the
        # NXDOMAIN is not secure.
        self.check_insecure(res, "nx.opt.", want_rcode="NXDOMAIN",
                            case="NXDOMAIN in an opt-out span")
        self.check_secure(res, "opt.", "TXT", data=[], case="opt-out zone apex NODATA")

    # ==========================================================================
    # DO / AD / CD bits
    # ==========================================================================
    def test_do_bit_controls_dnssec_records(self):
        res = self.resolver
        m = self.ask(res, "www.good.sec.", do=False)
        info = self.info(res, "DO=0", m)
        self.assertEqual(rcode(m), "NOERROR", info)
        self.assertEqual(final_data(m, "A"), ["192.0.2.1"], info)
        self.assertEqual(rrsigs(m), [], "DO=0: no RRSIG in the answer; " + info)
        self.assertEqual(rrsigs(m, "authority") + rrsigs(m, "additional"), [], info)
        self.assertFalse(m.flags & dns.flags.AD,
                         "DO=0 and AD=0 in the query: no AD (RFC 6840 5.8); " + info)
        m = self.ask(res, "www.good.sec.", do=False, ad=True)
        info = self.info(res, "DO=0 AD=1", m)
        self.assertTrue(m.flags & dns.flags.AD, "AD=1 in the query asks for AD; " + info)
        self.assertEqual(rrsigs(m), [], "DO=0: still no RRSIG; " + info)
        m = self.ask(res, "www.good.sec.", do=True)
        info = self.info(res, "DO=1 after DO=0", m)
        self.assertTrue(m.flags & dns.flags.AD, info)
        self.assertTrue(rrsigs(m), "DO=1 after DO=0: the RRSIGs are back; " + info)
        # Negative answers: with DO=0 only the SOA, with DO=1 the proofs.
        n = self.ask(res, "nx2.good.sec.", do=False)
        info = self.info(res, "NXDOMAIN DO=0", n)
        self.assertEqual(rcode(n), "NXDOMAIN", info)
        self.assertEqual(types_in(n, "authority"), {"SOA"}, info)
        n = self.ask(res, "nx2.good.sec.", do=True)
        info = self.info(res, "NXDOMAIN DO=1", n)
        self.assertEqual(rcode(n), "NXDOMAIN", info)
        self.assertTrue(n.flags & dns.flags.AD, info)
        self.assertTrue({"NSEC", "RRSIG", "SOA"} <= types_in(n, "authority"), info)

    def test_cd_first_then_validated(self):
        # CD=1 fetches bogus data first; later validating queries must still
        # fail (the caches keep unvalidated data apart, or know it bogus).
        res = self.resolver
        qname = "www.cdfirst.sec."
        c = self.ask(res, qname, cd=True)
        info = self.info(res, "CD=1 first", c)
        self.assertEqual(rcode(c), "NOERROR", info)
        self.assertFalse(c.flags & dns.flags.AD, info)
        self.assertEqual(final_data(c, "A"), ["192.0.2.70"], info)
        # Unbound validates CD=1 answers too, keeps them as bogus, and so
        # answers the next validating query from that cache with the generic
        # EDE 6: either code is accepted.
        for do in (True, True, False):
            m = self.ask(res, qname, do=do)
            self.assertBogusRepeat(res, m, "again after CD=1 (DO=%d)" % do,
                                   (EDE_DNSKEY_MISSING,))

    def test_cd_on_secure_data(self):
        # CD=1 on good data: the data, NOERROR (whether AD is set is the
        # resolver's choice; RFC 6840 5.9 allows it).
        m = self.ask(self.resolver, "www.rsasha256.sec.", cd=True)
        self.assertEqual(rcode(m), "NOERROR", m)
        self.assertEqual(final_data(m, "A"), ["192.0.2.40"], m)

    # ==========================================================================
    # insecure
    # ==========================================================================
    def test_insecure_delegations(self):
        res = self.resolver
        self.check_insecure(res, "www.plain.ins.", data=["192.0.2.111"],
                            case="unsigned TLD child")
        self.check_insecure(res, "www.unsigned.sec.", data=["192.0.2.80"],
                            case="unsigned child of a signed TLD")
        m = self.check_secure(res, "unsigned.sec.", "DS", data=[],
                              case="its DS: secure NODATA")
        self.assertIn("NSEC", types_in(m, "authority"), m)
        self.check_insecure(res, "www.nods.sec.", data=["192.0.2.81"],
                            case="signed child without DS at the parent")
        self.check_insecure(res, "www.island.ins.", data=["192.0.2.112"],
                            case="signed child of an unsigned TLD")
        # AD=1 in the query does not make insecure data secure.
        m = self.ask(res, "www.plain.ins.", do=False, ad=True)
        self.assertFalse(m.flags & dns.flags.AD, self.info(res, "insecure, AD=1 query", m))
        # An insecure NXDOMAIN: AD=0.
        self.check_insecure(res, "nx.plain.ins.", want_rcode="NXDOMAIN",
                            case="insecure NXDOMAIN")

    # ==========================================================================
    # bogus
    # ==========================================================================
    def test_bogus(self):
        for case, qname, zone, codes, data, cd_rcode in BOGUS:
            with self.subTest(case=case):
                self.check_bogus(self.resolver, case, qname, zone, codes, data, cd_rcode)


    @unittest.skipUnless(CRYPTO, "python3-cryptography is not installed: the harness "
                         "needs it to sign with a key without the Zone Key bit")
    def test_key_without_zone_key_bit(self):
        self.check_bogus(self.resolver, "ZSK without the Zone Key bit", "www.nozbit.sec.",
                         "nozbit.sec.", (EDE_NO_ZONE_KEY_BIT,), ["192.0.2.78"], "NOERROR")

    def test_bogus_stays_bogus_other_names_secure(self):
        res = self.resolver
        # One broken RRset does not spoil its zone's good ones...
        self.check_secure(res, "ok.nosig.sec.", data=["192.0.2.76"],
                          case="other RRset of the zone with a missing RRSIG")
        # ... and names the remaining NSECs prove are secure NXDOMAINs.
        self.check_secure(res, "b.nsecgone.sec.", want_rcode="NXDOMAIN",
                          case="NXDOMAIN the remaining NSECs prove")
        # A bogus name stays SERVFAIL on repeat (cached or not).
        for i in range(3):
            m = self.ask(res, "www.expired.sec.")
            self.assertBogusRepeat(res, m, "expired, query %d" % (i + 1), (EDE_EXPIRED,))

    # ==========================================================================
    # CNAME chains
    # ==========================================================================
    def chain_entry(self, res, name):
        status, body = res.http("/chains")
        self.assertEqual(status, 200, body)
        chains = json.loads(body)
        entries = [c for key in ("recent", "broken", "dangling") for c in chains[key]
                   if c["name"] == name]
        self.assertTrue(entries, "%s not in /chains:\n%s" % (name, body[:3000]))
        return entries[0]

    def test_chain_signed_to_unsigned(self):
        res = self.resolver
        m = self.check_insecure(res, "out.good.sec.", data=["192.0.2.111"],
                                case="CNAME signed -> unsigned")
        self.assertChainSigned(m, ["out.good.sec.", "www.plain.ins."], "A", ["192.0.2.111"])
        # The CNAME itself is secure: with DO=1 its RRSIG comes along.
        self.assertTrue(any(s.type_covered == dns.rdatatype.CNAME for s in rrsigs(m)),
                        "the signed CNAME's RRSIG with DO=1\n%s" % m)
        e = self.chain_entry(res, "out.good.sec.")
        self.assertEqual(len(e["hops"]), 1, e)
        hop = e["hops"][0]
        self.assertEqual((hop["name"], hop["target"]), ("out.good.sec.", "www.plain.ins."), e)
        self.assertEqual(hop.get("security"), "secure", "CNAME hop's security; %s" % e)
        self.assertIsNotNone(e["answer"], e)
        self.assertEqual(e["answer"].get("security"), "insecure",
                         "answer step's security; %s" % e)

    def test_chain_unsigned_to_signed(self):
        m = self.check_insecure(self.resolver, "tosigned.plain.ins.", data=["192.0.2.1"],
                                case="CNAME unsigned -> signed")
        self.assertChainSigned(m, ["tosigned.plain.ins.", "www.good.sec."], "A", ["192.0.2.1"])

    def test_chain_between_signed_zones(self):
        res = self.resolver
        m = self.check_secure(res, "cross.good.sec.", data=["192.0.2.40"],
                              case="CNAME signed -> signed")
        self.assertChainSigned(m, ["cross.good.sec.", "www.rsasha256.sec."], "A",
                               ["192.0.2.40"])
        covered = {dns.rdatatype.to_text(s.type_covered) for s in rrsigs(m)}
        self.assertEqual(covered, {"CNAME", "A"}, m)
        e = self.chain_entry(res, "cross.good.sec.")
        self.assertEqual([h.get("security") for h in e["hops"]], ["secure"], e)
        self.assertEqual((e["answer"] or {}).get("security"), "secure", e)
        # Inside one signed zone too.
        m = self.check_secure(res, "inzone.good.sec.", data=["192.0.2.1"],
                              case="CNAME inside one signed zone")
        self.assertChainSigned(m, ["inzone.good.sec.", "www.good.sec."], "A", ["192.0.2.1"])

    def test_chain_signed_to_bogus(self):
        res = self.resolver
        m = self.ask(res, "tobogus.good.sec.")
        self.assertBogusEDE(res, m, "CNAME signed -> bogus", (EDE_EXPIRED,),
                            "expired.sec.", "www.expired.sec.")
        c = self.ask(res, "tobogus.good.sec.", cd=True)
        info = self.info(res, "CNAME signed -> bogus, CD=1", c)
        self.assertEqual(rcode(c), "NOERROR", info)
        self.assertFalse(c.flags & dns.flags.AD, info)
        self.assertChainSigned(c, ["tobogus.good.sec.", "www.expired.sec."], "A",
                               ["192.0.2.71"])

    # ==========================================================================
    # metrics
    # ==========================================================================
    def test_answers_by_security_state(self):
        res = self.validating(4)
        cases = (("www.good.sec.", "NOERROR", "secure"),
                 ("nx.good.sec.", "NXDOMAIN", "secure"),
                 ("www.plain.ins.", "NOERROR", "insecure"),
                 ("www.nods.sec.", "NOERROR", "insecure"),
                 ("www.expired.sec.", "SERVFAIL", "bogus"),
                 ("www.badsig.sec.", "SERVFAIL", "bogus"))
        for qname, want_rcode, state in cases:
            with self.subTest(qname=qname):
                m, d = self.around(res, lambda: self.ask(res, qname))
                self.assertEqual(rcode(m), want_rcode, self.info(res, qname, m))
                got = {s: metric(d, "chaindns_dnssec_answers_total", state=s)
                       for s in ("secure", "insecure", "bogus", "indeterminate")}
                want = {s: (1 if s == state else 0) for s in got}
                self.assertEqual(got, want, "chaindns_dnssec_answers_total moved for %s"
                                 " (%s expected)" % (qname, state))

    def test_answer_state_series_exposed(self):
        values = self.resolver.metrics()
        names = {dict(labels).get("state") for name, labels in values
                 if name == "chaindns_dnssec_answers_total"}
        self.assertTrue({"secure", "insecure", "bogus", "indeterminate"} <= names,
                        "every state exposed (at 0 too); got %s" % sorted(n or "" for n in names))

    def test_secure_to_insecure_chains(self):
        res = self.validating(5)
        counter = "chaindns_chain_secure_to_insecure_total"
        purposes = ("dkim", "mta_sts", "bimi", "other")
        cases = (
            # (qname, qtype, purpose counted or None, data)
            ("sel._domainkey.good.sec.", "TXT", "dkim", None),
            ("out.good.sec.", "A", "other", ["192.0.2.111"]),
            ("cross.good.sec.", "A", None, ["192.0.2.40"]),      # secure -> secure
            ("tosigned.plain.ins.", "A", None, ["192.0.2.1"]),   # insecure -> secure
            ("www.plain.ins.", "A", None, ["192.0.2.111"]),      # no chain
        )
        for qname, qtype, purpose, data in cases:
            with self.subTest(qname=qname):
                m, d = self.around(res, lambda: self.ask(res, qname, qtype))
                info = self.info(res, qname, m)
                self.assertEqual(rcode(m), "NOERROR", info)
                if purpose == "dkim":
                    self.assertFalse(m.flags & dns.flags.AD, info)
                    self.assertChainSigned(m, ["sel._domainkey.good.sec.",
                                               "sel._domainkey.provider.ins."], "TXT", None)
                    self.assertTrue(final_data(m, "TXT"), info)
                if data is not None:
                    self.assertEqual(final_data(m, qtype), data, info)
                got = {p: metric(d, counter, purpose=p) for p in purposes}
                want = {p: (1 if p == purpose else 0) for p in purposes}
                self.assertEqual(got, want, "%s after %s %s" % (counter, qname, qtype))
        e = self.chain_entry(res, "sel._domainkey.good.sec.")
        self.assertEqual(e["purpose"], "dkim", e)
        self.assertEqual([h.get("security") for h in e["hops"]], ["secure"], e)
        self.assertEqual((e["answer"] or {}).get("security"), "insecure", e)

    # ==========================================================================
    # negative trust anchor, --dnssec off, trust anchor forms
    # ==========================================================================
    def test_negative_trust_anchor(self):
        res = self.validating(2, ["--negative-trust-anchor", "expired.sec."])
        m = self.check_insecure(res, "www.expired.sec.", data=["192.0.2.71"],
                                case="below a negative trust anchor")
        self.assertEqual(ede(m), [], "no EDE below a negative trust anchor; %s" % m)
        # The chain from a secure zone into it: the data, not secure.
        self.check_insecure(res, "tobogus.good.sec.", data=["192.0.2.71"],
                            case="CNAME into the negative trust anchor")
        # The rest is still validated.
        self.check_secure(res, "www.good.sec.", data=["192.0.2.1"])
        self.check_secure(res, "nx.good.sec.", want_rcode="NXDOMAIN")
        self.assertBogusEDE(res, self.ask(res, "www.future.sec."), "other bogus zone",
                            (EDE_NOT_YET,), "future.sec.", "www.future.sec.")

    def test_dnssec_off(self):
        res = self.validating(3, ["--dnssec", "off"])
        for case, qname, zone, codes, data, cd_rcode in BOGUS:
            with self.subTest(case=case):
                m = self.ask(res, qname)
                info = self.info(res, "--dnssec off: " + case, m)
                self.assertEqual(rcode(m), cd_rcode, info)
                self.assertFalse(m.flags & dns.flags.AD, info)
                self.assertEqual([x for x in ede(m) if x[0] in codes], [], info)
                if data is not None:
                    self.assertEqual(final_data(m, "A"), data, info)
        # Nothing is validated, so nothing is secure either.
        m = self.ask(res, "www.good.sec.")
        info = self.info(res, "--dnssec off: a signed name", m)
        self.assertEqual(final_data(m, "A"), ["192.0.2.1"], info)
        self.assertFalse(m.flags & dns.flags.AD, "no AD without validation; " + info)

    def test_trust_anchor_dnskey_form(self):
        res = self.validating(10, anchor=self.h.trust_anchor_dnskey)
        self.check_secure(res, "www.good.sec.", data=["192.0.2.1"],
                          case="anchor as the root's DNSKEY")
        self.assertEqual(rcode(self.ask(res, "www.expired.sec.")), "SERVFAIL")

    def test_wrong_trust_anchor(self):
        path = os.path.join(self.tmpdir, "wrong-anchor.ds")
        with open(self.h.trust_anchor) as f:
            lines = f.read().split("\n")
        with open(path, "w") as f:
            for line in lines:
                if line.strip():
                    owner, ttl, cls_, t, rd = line.split(None, 4)
                    f.write("%s %s %s %s %s\n" % (owner, ttl, cls_, t, flip_ds_digest(rd)))
        res = self.validating(11, anchor=path)
        m = self.ask(res, "www.good.sec.")
        info = self.info(res, "root DS anchor matching no root key", m)
        self.assertEqual(rcode(m), "SERVFAIL", info)
        self.assertFalse(m.flags & dns.flags.AD, info)
        self.assertTrue(ede(m), "an EDE says why; " + info)
        c = self.ask(res, "www.good.sec.", cd=True)
        self.assertEqual(final_data(c, "A"), ["192.0.2.1"], self.info(res, "CD=1", c))

    # ==========================================================================
    # caches
    # ==========================================================================
    def test_secure_answer_from_cache(self):
        res = self.validating(6)
        first, d1 = self.around(res, lambda: self.check_secure(
            res, "www.rsasha512.sec.", data=["192.0.2.40"], case="first (network)"))
        self.assertGreater(upstream_total(d1), 0, "the first answer needs the network")
        for do, ad in ((True, False), (False, True), (True, False)):
            m, d = self.around(res, lambda: self.ask(res, "www.rsasha512.sec.", do=do, ad=ad))
            info = self.info(res, "from the cache (DO=%d AD=%d)" % (do, ad), m)
            self.assertEqual(rcode(m), "NOERROR", info)
            self.assertTrue(m.flags & dns.flags.AD, "cached secure answer keeps AD; " + info)
            self.assertEqual(bool(rrsigs(m)), do, "RRSIGs iff DO=1; " + info)
            self.assertEqual(upstream_total(d), 0, "no upstream query for a cached "
                             "secure answer; %s" % info)
        # A secure negative answer from the cache: still proven and AD=1.
        self.check_secure(res, "nx.rsasha512.sec.", want_rcode="NXDOMAIN")
        m, d = self.around(res, lambda: self.ask(res, "nx.rsasha512.sec."))
        info = self.info(res, "cached NXDOMAIN", m)
        self.assertEqual(rcode(m), "NXDOMAIN", info)
        self.assertTrue(m.flags & dns.flags.AD, info)
        self.assertIn("NSEC", types_in(m, "authority"), info)
        self.assertEqual(upstream_total(d), 0, info)
        # A name below the cached zone needs no new key fetches: only the
        # question itself goes upstream.
        m, d = self.around(res, lambda: self.check_secure(res, "rsasha512.sec.", "SOA"))
        self.assertLessEqual(upstream_total(d), 1, "keys and DS are cached too; %s" % d)

    def test_bogus_from_cache_stays_bogus(self):
        res = self.validating(9)
        for i in range(3):
            m, d = self.around(res, lambda: self.ask(res, "www.badsig.sec."))
            self.assertBogusEDE(res, m, "badsig query %d" % (i + 1), (EDE_BOGUS,),
                                "badsig.sec.", "www.badsig.sec.")
            self.assertEqual(metric(d, "chaindns_dnssec_answers_total", state="bogus"), 1, d)

    # -- shared Redis tier -----------------------------------------------------
    def fleet(self, prefix, na, nb):
        args = ["--redis-url", self.redis.url, "--redis-prefix", prefix,
                "--redis-secret", SECRET]
        return self.validating(na, args), self.validating(nb, args)

    def wait_redis_settled(self, prefix, name, timeout=5.0):
        """Until a key of `name` exists under prefix and the key count has
        been stable for 0.3 s (writes are pipelined)."""
        r = self.redis.client()
        pattern = "%s:*%s*" % (prefix, name.lower())
        self.assertTrue(wait_for(lambda: r.keys(pattern), timeout),
                        "no Redis key matching %s; keys: %s" % (
                            pattern, sorted(r.keys(prefix + ":*"))[:40]))
        last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = len(r.keys(prefix + ":*"))
            if n != last:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= 0.3:
                break
            time.sleep(0.05)

    def test_redis_shares_validated_answers(self):
        a, b = self.fleet("val1", 7, 8)
        for qname in ("www.good.sec.", "cross.good.sec."):
            self.check_secure(a, qname, case="instance A, " + qname)
        self.wait_redis_settled("val1", "www.rsasha256.sec.")
        for qname, data in (("www.good.sec.", ["192.0.2.1"]),
                            ("cross.good.sec.", ["192.0.2.40"])):
            with self.subTest(qname=qname):
                m, d = self.around(b, lambda: self.check_secure(
                    b, qname, data=data, case="instance B from Redis"))
                self.assertEqual(upstream_total(d), 0,
                                 "B answered %s with upstream queries: %s\nB log:\n%s"
                                 % (qname, {k: v for k, v in d.items() if v}, b.log[-2000:]))
                self.assertGreater(metric(d, "chaindns_cache_lookups_total",
                                          tier="redis", result="hit"), 0, d)

    def test_redis_keeps_security_states(self):
        a, b = self.fleet("val2", 12, 13)
        self.check_insecure(a, "www.plain.ins.", data=["192.0.2.111"], case="A insecure")
        self.check_secure(a, "nx.good.sec.", want_rcode="NXDOMAIN", case="A secure NXDOMAIN")
        self.assertEqual(rcode(self.ask(a, "www.expired.sec.")), "SERVFAIL")
        self.ask(a, "www.future.sec.", cd=True)  # unvalidated data fetched by A
        self.wait_redis_settled("val2", "www.plain.ins.")
        # Insecure stays insecure (no AD gained on the way through Redis).
        self.check_insecure(b, "www.plain.ins.", data=["192.0.2.111"], case="B insecure")
        # A proven NXDOMAIN stays proven.
        m = self.check_secure(b, "nx.good.sec.", want_rcode="NXDOMAIN", case="B NXDOMAIN")
        self.assertIn("NSEC", types_in(m, "authority"), m)
        # Bogus data, and data fetched with CD=1, do not become good on B.
        self.assertBogusEDE(b, self.ask(b, "www.expired.sec."), "B expired",
                            (EDE_EXPIRED,), "expired.sec.", "www.expired.sec.")
        self.assertBogusEDE(b, self.ask(b, "www.future.sec."), "B future (A asked CD=1)",
                            (EDE_NOT_YET,), "future.sec.", "www.future.sec.")

    # ==========================================================================
    # RFC 8020 with validation (nothing-below-nxdomain: dnssec, the default)
    # ==========================================================================
    def test_nxdomain_cut_only_when_validated(self):
        res = self.validating(14)
        cut = "chaindns_nxdomain_cut_answers_total"
        self.check_secure(res, "gone.good.sec.", want_rcode="NXDOMAIN")
        m, d = self.around(res, lambda: self.ask(res, "below.gone.good.sec."))
        self.assertEqual(rcode(m), "NXDOMAIN", self.info(res, "below a validated NXDOMAIN", m))
        self.assertEqual(metric(d, cut), 1, "a validated NXDOMAIN cuts below it; %s" % d)
        self.assertEqual(upstream_total(d), 0, d)
        self.check_insecure(res, "gone.plain.ins.", want_rcode="NXDOMAIN")
        m, d = self.around(res, lambda: self.ask(res, "below.gone.plain.ins."))
        self.assertEqual(rcode(m), "NXDOMAIN", m)
        self.assertEqual(metric(d, cut), 0, "an insecure NXDOMAIN does not cut; %s" % d)


if __name__ == "__main__":
    main()
