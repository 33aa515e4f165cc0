#!/usr/bin/python3
"""Self-test of the harness's signed zones, with Debian's Unbound (a
validating resolver) as the oracle: chaindns is not involved.

A signed root (its DS in h.trust_anchor), signed TLDs and second-level
zones in every algorithm in use, NSEC and NSEC3 (with opt-out) denial, a
wildcard, insecure delegations (unsigned child; signed child without DS;
signed child of an unsigned parent), CNAME chains between signed, unsigned
and bogus zones, and the breakages: expired and not-yet-valid signatures, a
DS that matches no key, a DS whose digest is wrong, a missing RRSIG, a
signing key that is not published, a key without the Zone Key bit, and
KSK rollovers (two KSKs with their DS, one or both signing; a DS only for
the key that does not sign).

Unbound must answer what RFC 4033-4035 and 5155 say: AD=1 for secure data,
AD=0 for insecure, SERVFAIL with an Extended DNS Error (RFC 8914) for bogus,
and the bogus data with AD=0 when the query has CD=1. The EDE codes it gives
are the targets for chaindns's validator; the table is printed at the end.

Unbound can only ask authorities on port 53, so this module's NSD servers
listen on 127.53.40.<n>:53 (needs root, as the bench does)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.dnssec  # noqa: E402
import dns.flags  # noqa: E402
import dns.name  # noqa: E402
import dns.rdata  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402

import harness  # noqa: E402
from harness import (Hierarchy, IntegrationTest, Key, answers, ede,  # noqa: E402
                     from_now, have_crypto, main, rcode, udp, wait_for)

BASE = 40
AUTH_PORT = 53
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
DAY = 86400
CRYPTO = have_crypto()

# Signature windows. Unbound allows a clock skew of 10 % of the validity
# period, at least 3 min and at most 1 day (val-sig-skew-min/max), so the
# broken windows are off by more than that.
EXPIRED = dict(sig_inception=from_now(-30 * DAY), sig_expiration=from_now(-2 * DAY))
NOT_YET = dict(sig_inception=from_now(2 * DAY), sig_expiration=from_now(30 * DAY))

# EDE info codes (RFC 8914)
EDE_BOGUS, EDE_EXPIRED, EDE_NOT_YET, EDE_DNSKEY_MISSING = 6, 7, 8, 9
EDE_RRSIGS_MISSING, EDE_NO_ZONE_KEY_BIT = 10, 11

ALGORITHMS = [  # (zone, algorithm, extra zone options)
    ("rsasha256.sec.", "RSASHA256", {}),
    ("rsasha512.sec.", "RSASHA512", {}),
    ("p384.sec.", "ECDSAP384SHA384", {"ds_digest": "SHA384"}),
    ("ed25519.sec.", "ED25519", {}),
    ("ed448.sec.", "ED448", {}),
    ("rsasha1.sec.", "RSASHA1", {}),
    ("nsec3sha1.sec.", "RSASHA1-NSEC3-SHA1", {"nsec3": True}),
]


class Unbound:
    """Debian's Unbound validating on 127.54.<base>.1:5300 with the
    hierarchy's root trust anchor; started and stopped by PID."""

    def __init__(self, base, tmpdir, hints, trust_anchor):
        self.addr = harness.resolver_addr(base)
        self.server_addr = (self.addr, 5300)
        self.dir = os.path.join(tmpdir, "unbound")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.logfile = os.path.join(self.dir, "stderr")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "server:",
                "    interface: %s@%d" % self.server_addr,
                "    access-control: 127.0.0.0/8 allow",
                "    num-threads: 1",
                '    username: ""',
                '    chroot: ""',
                '    directory: "%s"' % self.dir,
                '    pidfile: "%s"' % os.path.join(self.dir, "unbound.pid"),
                "    use-syslog: no",
                "    verbosity: 1",
                "    do-ip6: no",
                "    do-not-query-localhost: no",
                '    root-hints: "%s"' % hints,
                '    module-config: "validator iterator"',
                '    trust-anchor-file: "%s"' % trust_anchor,
                "    val-log-level: 2",
                "    qname-minimisation: yes",
                "    ede: yes",
                # Every negative answer proven from the authority's own
                # response, not synthesised from cached NSEC ranges.
                "    aggressive-nsec: no",
                "    trust-anchor-signaling: no",
                "    root-key-sentinel: no",
                "    prefetch: no",
                "remote-control:",
                "    control-enable: no",
            ]) + "\n")
        self.proc = None

    def start(self, timeout=10.0):
        self.err = open(self.logfile, "w")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err, start_new_session=True)
        harness._live.append(self.proc)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited %s:\n%s" % (
                    self.proc.returncode, self.log))
            try:
                udp(self.server_addr, "invalid.", "SOA", timeout=0.3)
                return True
            except Exception:
                return False
        if not wait_for(ready, timeout, interval=0.1):
            self.stop()
            raise RuntimeError("unbound did not answer within %ss:\n%s"
                               % (timeout, self.log))
        return self

    def stop(self):
        if self.proc is not None:
            harness._terminate(self.proc, 5.0, group=True)
            self.err.close()
            self.proc = None

    @property
    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


@unittest.skipUnless(os.path.exists(UNBOUND),
                     "unbound is not installed (Debian package unbound): "
                     "it is the validating oracle of this self-test")
class DnssecHarness(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False
    table = []  # (case, qname/qtype, rcode, AD, EDE) as Unbound answered

    @classmethod
    def build(cls, h):
        h.zone(".", [1], signed=True)
        h.zone("sec.", [2], signed=True)                       # NSEC
        h.zone("opt.", [2], signed=True, nsec3=True, optout=True,
               algorithm="RSASHA256", salt="c0ffee", iterations=1)
        h.zone("ins.", [2])                                    # unsigned TLD
        h.zone("good.sec.", [3], [
            "www 300 A 192.0.2.1",
            "*.wild 300 A 192.0.2.9",
            "out 300 CNAME www.plain.ins.",             # into an unsigned zone
            "cross 300 CNAME www.rsasha256.sec.",       # into another signed zone
            "tobogus 300 CNAME www.expired.sec.",       # into a bogus zone
        ], signed=True)
        h.zone("n3.sec.", [3], [
            "www 300 A 192.0.2.31",
            "*.wild 300 A 192.0.2.39",
        ], signed=True, nsec3=True)
        for zn, alg, kw in ALGORITHMS:
            h.zone(zn, [3], ["www 300 A 192.0.2.40"], signed=True,
                   algorithm=alg, **kw)
        h.zone("expired.sec.", [3], ["www 300 A 192.0.2.71"], signed=True,
               **EXPIRED)
        h.zone("future.sec.", [3], ["www 300 A 192.0.2.72"], signed=True,
               **NOT_YET)
        h.zone("badds.sec.", [3], ["www 300 A 192.0.2.73"], signed=True,
               bad_ds=True)
        h.zone("baddigest.sec.", [3], ["www 300 A 192.0.2.74"], signed=True,
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
        # Rollovers: both KSKs have their DS in sec.; a pre-published ZSK.
        h.zone("roll-one.sec.", [3], ["www 300 A 192.0.2.91"], signed=True,
               keys=[Key(ksk=True), Key(ksk=True, sign=False), Key(),
                     Key(sign=False)])
        h.zone("roll-both.sec.", [3], ["www 300 A 192.0.2.92"], signed=True,
               keys=[Key(ksk=True), Key(ksk=True), Key()])
        # Rolled wrong: the parent has only the DS of the KSK that does not
        # sign the DNSKEY RRset.
        h.zone("roll-bad.sec.", [3], ["www 300 A 192.0.2.93"], signed=True,
               keys=[Key(ksk=True, ds=False), Key(ksk=True, sign=False), Key()])
        # Under the NSEC3 opt-out TLD: one secure delegation, two insecure
        # ones (in the opt-out span, no NSEC3 of their own).
        h.zone("signed.opt.", [4], ["www 300 A 192.0.2.101"], signed=True)
        h.zone("plain.opt.", [4], ["www 300 A 192.0.2.102"])
        h.zone("plain2.opt.", [4], ["www 300 A 192.0.2.103"])
        h.zone("plain.ins.", [4], [
            "www 300 A 192.0.2.111",
            "tosigned 300 CNAME www.good.sec.",
        ])
        h.zone("island.ins.", [4], ["www 300 A 192.0.2.112"], signed=True)

    @classmethod
    def setUpClass(cls):
        # IntegrationTest's, but the authorities listen on port 53 and the
        # resolver is Unbound.
        if os.geteuid() != 0:
            raise RuntimeError("test_dnssec_harness needs root: Unbound only "
                               "asks authorities on port 53")
        cls.t0 = time.monotonic()
        cls.tmpdir = tempfile.mkdtemp(prefix="chaindns-it-%d-" % cls.BASE)
        cls.h = Hierarchy(cls.BASE, AUTH_PORT, cls.tmpdir)
        cls.resolver = None
        cls.extra_resolvers = []
        cls.redis = None
        cls.unbound = None
        try:
            cls.build(cls.h)
            cls.h.start()
            cls.t_built = time.monotonic() - cls.t0
            cls.unbound = Unbound(cls.BASE, cls.tmpdir, cls.h.hints,
                                  cls.h.trust_anchor).start()
        except BaseException:
            if cls.unbound:
                cls.unbound.stop()
            cls.h.stop()
            cls._cleanup_tmp()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.unbound:
            cls.unbound.stop()
        if cls.table:
            sys.stderr.write("\nUnbound 1.17 (oracle) on the signed hierarchy "
                             "(built in %.1f s, module %.1f s):\n"
                             % (cls.t_built, time.monotonic() - cls.t0))
            sys.stderr.write("%-40s %-28s %-9s %-3s %s\n"
                             % ("case", "query", "rcode", "AD", "EDE"))
            for row in cls.table:
                sys.stderr.write("%-40s %-28s %-9s %-3s %s\n" % row)
        super().tearDownClass()

    # -- helpers --------------------------------------------------------------
    def ask(self, qname, qtype="A", cd=False):
        return udp(self.unbound.server_addr, qname, qtype, timeout=5.0,
                   dnssec=True, cd=cd)

    def check(self, case, qname, qtype="A", want_rcode="NOERROR", ad=False,
              ede_code=None, data=None, cd_rcode="NOERROR"):
        """One question to Unbound (DO=1): the rcode, the AD bit, the EDE
        (none unless ede_code), and for NOERROR the answer's final data.
        A bogus case (ede_code set) is asked again with CD=1: the data must
        then come back, unvalidated (AD=0), with rcode cd_rcode."""
        m = self.ask(qname, qtype)
        codes = [c for c, _ in ede(m)]
        self.table.append((case, "%s %s" % (qname, qtype), rcode(m),
                           "1" if m.flags & dns.flags.AD else "0",
                           "; ".join("%s %s" % e for e in ede(m)) or "-"))
        info = "%s: %s\nunbound log tail:\n%s" % (case, m, self.unbound.log[-2000:])
        self.assertEqual(rcode(m), want_rcode, info)
        self.assertEqual(bool(m.flags & dns.flags.AD), ad, "AD bit; " + info)
        if ede_code is None:
            self.assertEqual(codes, [], "no EDE expected; " + info)
        else:
            self.assertIn(ede_code, codes, info)
        if data is not None and want_rcode == "NOERROR":
            got = [a[2] for a in answers(m) if a[1] == qtype]
            self.assertEqual(sorted(got), sorted(data), info)
        if ad and m.answer:
            self.assertTrue(any(r.rdtype == dns.rdatatype.RRSIG for r in m.answer),
                            "DO=1: a secure answer carries its RRSIGs; " + info)
        if ede_code is not None:
            c = self.ask(qname, qtype, cd=True)
            self.table.append((case + " (CD=1)", "%s %s" % (qname, qtype), rcode(c),
                               "1" if c.flags & dns.flags.AD else "0",
                               "; ".join("%s %s" % e for e in ede(c)) or "-"))
            self.assertEqual(rcode(c), cd_rcode, "CD=1: " + str(c))
            self.assertFalse(c.flags & dns.flags.AD, "CD=1 bogus data: AD=0\n%s" % c)
            if data is not None:
                got = [a[2] for a in answers(c) if a[1] == qtype]
                self.assertEqual(sorted(got), sorted(data), "CD=1: %s" % c)
        return m

    def zone_records(self, zone, rdtype=None, owner=None):
        return [r for r in self.h.zones[zone].records
                if (rdtype is None or r[2] == rdtype)
                and (owner is None or r[0] == owner)]

    # -- secure ---------------------------------------------------------------
    def test_secure_root_tld_second_level(self):
        self.check("secure root DNSKEY", ".", "DNSKEY", ad=True)
        self.check("secure TLD SOA", "sec.", "SOA", ad=True)
        self.check("secure 2nd level", "www.good.sec.", ad=True, data=["192.0.2.1"])

    def test_algorithms(self):
        for zn, alg, _ in ALGORITHMS:
            with self.subTest(algorithm=alg):
                self.check("secure %s" % alg, "www." + zn, ad=True,
                           data=["192.0.2.40"])

    def test_wildcard(self):
        for zn, denial in (("good.sec.", "NSEC"), ("n3.sec.", "NSEC3")):
            with self.subTest(denial=denial):
                m = self.check("wildcard (%s)" % denial, "anything.wild." + zn,
                               ad=True, data=["192.0.2.9" if denial == "NSEC"
                                              else "192.0.2.39"])
                # The expansion is signed with labels = 3 (*.wild.x.sec.
                # minus the '*') and proven by a denial record of the
                # next closer name in the authority section.
                sigs = [rd for rr in m.answer if rr.rdtype == dns.rdatatype.RRSIG
                        for rd in rr]
                self.assertEqual([s.labels for s in sigs], [3], m)
                self.assertTrue(any(rr.rdtype == dns.rdatatype.from_text(denial)
                                    for rr in m.authority), m)

    # -- denial -----------------------------------------------------------------
    def test_nsec_nxdomain_nodata(self):
        m = self.check("NSEC NXDOMAIN", "nx.good.sec.", want_rcode="NXDOMAIN", ad=True)
        self.assertTrue(any(rr.rdtype == dns.rdatatype.NSEC for rr in m.authority), m)
        self.check("NSEC NODATA", "www.good.sec.", "TXT", ad=True, data=[])

    def test_nsec3_nxdomain_nodata(self):
        m = self.check("NSEC3 NXDOMAIN", "nx.n3.sec.", want_rcode="NXDOMAIN", ad=True)
        self.assertTrue(any(rr.rdtype == dns.rdatatype.NSEC3 for rr in m.authority), m)
        self.check("NSEC3 NODATA", "www.n3.sec.", "TXT", ad=True, data=[])
        # RFC 9276 defaults: SHA-1, no opt-out, 0 iterations, no salt.
        self.assertEqual([r[3] for r in self.zone_records("n3.sec.", "NSEC3PARAM")],
                         ["1 0 0 -"])

    def test_nsec3_optout(self):
        # The opt-out zone: salt c0ffee, 1 iteration, every NSEC3 flagged.
        recs = self.zone_records("opt.", "NSEC3")
        self.assertTrue(recs)
        self.assertTrue(all(r[3].split()[:4] == ["1", "1", "1", "C0FFEE"]
                            or r[3].split()[:4] == ["1", "1", "1", "c0ffee"]
                            for r in recs), recs)
        owners = {r[0].split(".", 1)[0] for r in recs}

        def h3(name):
            return dns.dnssec.nsec3_hash(name, "c0ffee", 1, 1).lower()
        # Secure delegation: its own NSEC3 (proves the DS type exists);
        # insecure ones: none, they sit in an opt-out span.
        self.assertIn(h3("signed.opt."), owners)
        self.assertNotIn(h3("plain.opt."), owners)
        self.assertNotIn(h3("plain2.opt."), owners)
        self.assertIn(h3("opt."), owners)
        self.check("NSEC3 opt-out: secure child", "www.signed.opt.", ad=True,
                   data=["192.0.2.101"])
        self.check("NSEC3 opt-out: insecure child", "www.plain.opt.", ad=False,
                   data=["192.0.2.102"])
        # RFC 5155 9.2: the next closer name is covered by an opt-out NSEC3,
        # so an unsigned delegation may exist there: NXDOMAIN, not secure.
        self.check("NSEC3 opt-out NXDOMAIN", "nx.opt.", want_rcode="NXDOMAIN",
                   ad=False)
        self.check("NSEC3 opt-out NODATA (apex)", "opt.", "TXT", ad=True, data=[])

    # -- insecure ---------------------------------------------------------------
    def test_unsigned_delegation(self):
        self.check("unsigned child of signed TLD", "www.unsigned.sec.", ad=False,
                   data=["192.0.2.80"])
        # The parent proves there is no DS: a secure NODATA.
        m = self.check("  its DS: secure NODATA", "unsigned.sec.", "DS", ad=True,
                       data=[])
        self.assertTrue(any(rr.rdtype == dns.rdatatype.NSEC for rr in m.authority), m)
        self.check("signed child, no DS in parent", "www.nods.sec.", ad=False,
                   data=["192.0.2.81"])
        self.check("signed child of unsigned TLD", "www.island.ins.", ad=False,
                   data=["192.0.2.112"])

    def test_cname_chains(self):
        m = self.check("CNAME signed -> unsigned", "out.good.sec.", ad=False,
                       data=["192.0.2.111"])
        self.assertEqual([(a[0], a[2]) for a in answers(m) if a[1] == "CNAME"],
                         [("out.good.sec.", "www.plain.ins.")])
        self.check("CNAME unsigned -> signed", "tosigned.plain.ins.", ad=False,
                   data=["192.0.2.1"])
        self.check("CNAME signed -> signed", "cross.good.sec.", ad=True,
                   data=["192.0.2.40"])
        self.check("CNAME signed -> bogus", "tobogus.good.sec.",
                   want_rcode="SERVFAIL", ede_code=EDE_EXPIRED, data=["192.0.2.71"])

    # -- bogus ----------------------------------------------------------------------
    def test_expired_signatures(self):
        self.assertTrue(all(r[3].split()[4] < time.strftime("%Y%m%d%H%M%S", time.gmtime())
                            for r in self.zone_records("expired.sec.", "RRSIG")))
        self.check("expired signatures", "www.expired.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_EXPIRED, data=["192.0.2.71"])

    def test_not_yet_valid_signatures(self):
        self.check("not-yet-valid signatures", "www.future.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_NOT_YET, data=["192.0.2.72"])

    def test_ds_matches_no_key(self):
        z = self.h.zones["badds.sec."]
        ds_tags = {int(r[3].split()[0]) for r in self.zone_records("sec.", "DS", "badds.sec.")}
        self.assertEqual(len(ds_tags), 1)
        self.assertFalse(ds_tags & {k.tag for k in z.keys if k.publish})
        self.check("DS matches no key", "www.badds.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_DNSKEY_MISSING, data=["192.0.2.73"])

    def test_ds_wrong_digest(self):
        z = self.h.zones["baddigest.sec."]
        ksk = [k for k in z.keys if k.ksk][0]
        ds = self.zone_records("sec.", "DS", "baddigest.sec.")
        self.assertEqual(len(ds), 1)
        self.assertEqual(int(ds[0][3].split()[0]), ksk.tag)       # tag matches
        self.assertNotEqual(ds[0][3], ksk.ds_records[0])          # digest does not
        self.check("DS with a wrong digest", "www.baddigest.sec.",
                   want_rcode="SERVFAIL", ede_code=EDE_DNSKEY_MISSING,
                   data=["192.0.2.74"])

    def test_missing_rrsig(self):
        self.assertEqual([r for r in self.zone_records("nosig.sec.", "RRSIG", "www.nosig.sec.")
                          if r[3].startswith("A ")], [])
        self.check("missing RRSIG", "www.nosig.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_RRSIGS_MISSING, data=["192.0.2.75"])
        self.check("  other RRset of that zone", "ok.nosig.sec.", ad=True,
                   data=["192.0.2.76"])

    def test_signature_does_not_verify(self):
        self.check("RRSIG does not verify", "www.badsig.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_BOGUS, data=["192.0.2.79"])

    def test_nsec_missing(self):
        self.assertEqual(self.zone_records("nsecgone.sec.", "NSEC", "m.nsecgone.sec."), [])
        # Unbound 1.17 says DNSSEC Bogus ("nameerror proof failed"), not
        # RFC 8914's more specific NSEC Missing (12).
        self.check("NXDOMAIN without its NSEC", "n.nsecgone.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_BOGUS, cd_rcode="NXDOMAIN")
        self.check("  a name the NSECs still prove", "b.nsecgone.sec.",
                   want_rcode="NXDOMAIN", ad=True)

    def test_signing_key_not_published(self):
        self.check("signing ZSK not in DNSKEY", "www.nokey.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_DNSKEY_MISSING, data=["192.0.2.77"])

    @unittest.skipUnless(CRYPTO, "python3-cryptography is not installed: the "
                         "harness needs it to sign with a key without the Zone Key bit")
    def test_no_zone_key_bit(self):
        z = self.h.zones["nozbit.sec."]
        zsk = [k for k in z.keys if not k.ksk][0]
        self.assertEqual(zsk.flags, 0)
        sig_tags = {int(r[3].split()[6]) for r in self.zone_records("nozbit.sec.", "RRSIG")
                    if not r[3].startswith("DNSKEY ")}
        self.assertEqual(sig_tags, {zsk.tag})
        self.check("ZSK without Zone Key bit", "www.nozbit.sec.", want_rcode="SERVFAIL",
                   ede_code=EDE_NO_ZONE_KEY_BIT, data=["192.0.2.78"])

    # -- rollover -----------------------------------------------------------------------
    def test_ksk_rollover(self):
        for zn, signing in (("roll-one.sec.", 1), ("roll-both.sec.", 2)):
            with self.subTest(zone=zn):
                self.assertEqual(len(self.zone_records("sec.", "DS", zn)), 2)
                keysigs = [r for r in self.zone_records(zn, "RRSIG", zn)
                           if r[3].startswith("DNSKEY ")]
                self.assertEqual(len(keysigs), signing)
                m = self.check("2 KSKs, %d signing" % signing, zn, "DNSKEY", ad=True)
                self.assertEqual(len(m.get_rrset(m.answer, dns.name.from_text(zn),
                                                 dns.rdataclass.IN,
                                                 dns.rdatatype.DNSKEY)),
                                 4 if zn == "roll-one.sec." else 3)
                self.check("2 KSKs, %d signing" % signing, "www." + zn, ad=True)
        self.check("DS only for the non-signing KSK", "www.roll-bad.sec.",
                   want_rcode="SERVFAIL", ede_code=EDE_RRSIGS_MISSING,
                   data=["192.0.2.93"])

    # -- the harness's own files ----------------------------------------------------------
    def test_harness_files(self):
        h = self.h
        # Trust anchor: the root KSK's DS, in the form a resolver reads.
        with open(h.trust_anchor) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"^\. 3600 IN DS \d+ 13 2 [0-9a-f]{64}$")
        root_ksk = [k for k in h.zones["."].keys if k.ksk][0]
        self.assertEqual(int(lines[0].split()[4]), root_ksk.tag)
        with open(h.trust_anchor_dnskey) as f:
            self.assertEqual(f.read().split()[:7],
                             [".", "3600", "IN", "DNSKEY", "257", "3", "13"])
        # Every DS in a parent is the digest of the child's published KSK.
        for zn in ("good.sec.", "sec.", "p384.sec."):
            z = h.zones[zn]
            parent = h._parent(zn)
            ds = [r[3] for r in self.zone_records(parent.name, "DS", zn)]
            ksk = [k for k in z.keys if k.ksk][0]
            digest = "SHA384" if zn == "p384.sec." else "SHA256"
            want = dns.dnssec.make_ds(zn, dns.rdata.from_text(
                dns.rdataclass.IN, dns.rdatatype.DNSKEY, ksk.dnskey), digest)
            self.assertEqual(ds, [want.to_text()], zn)
        # No DS for insecure delegations, none in unsigned parents.
        for zn in ("unsigned.sec.", "nods.sec."):
            self.assertEqual(self.zone_records("sec.", "DS", zn), [])
        self.assertEqual(self.zone_records("ins.", "DS"), [])
        # ldns-verify-zone agrees on the well-formed zones, not on the broken.
        for zn in (".", "sec.", "good.sec.", "n3.sec.", "opt.", "roll-one.sec."):
            p = h.verify_zone(zn)
            self.assertEqual(p.returncode, 0, "%s: %s%s" % (zn, p.stdout, p.stderr))
        for zn in ("expired.sec.", "future.sec.", "nosig.sec."):
            p = h.verify_zone(zn)
            self.assertNotEqual(p.returncode, 0, "%s: %s%s" % (zn, p.stdout, p.stderr))
        # Keys and zone files stay in the module's directory.
        for zn in ("root", "good.sec"):
            d = os.path.join(h.tmpdir, "dnssec", zn)
            names = os.listdir(d)
            self.assertTrue({"unsigned.zone", "ldns.signed", "signed.zone"} <= set(names))
            self.assertTrue(any(re.match(r"K.*\+013\+\d+\.private$", n) for n in names))


if __name__ == "__main__":
    main()
