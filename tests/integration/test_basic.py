#!/usr/bin/python3
"""Plain resolution through root -> TLD -> second-level referrals, record
types, glueless delegation, NXDOMAIN, TCP, and default loopback access."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402

from harness import IntegrationTest, answers, main, udp  # noqa: E402

TXT_LONG = "x" * 200


class BasicResolution(IntegrationTest):
    BASE = 11
    # 192.0.2.0/24 (TEST-NET-1) has a built-in local zone (RFC 6303) that
    # answers NXDOMAIN; this hierarchy serves it, so drop the default.
    RESOLVER_ARGS = ("--local-zone", "2.0.192.in-addr.arpa nodefault")

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.zone("example.com.", [5], [
            "www 300 A 192.0.2.1",
            "www 300 A 192.0.2.2",
            "www 300 AAAA 2001:db8::1",
            "@ 300 MX 10 mail",
            "@ 300 MX 20 mail2.example.net.",
            "mail A 192.0.2.25",
            'txt 300 TXT "hello world" "second string"',
            'txt 300 TXT "%s"' % TXT_LONG,
            "_sip._udp 300 SRV 10 60 5060 sip",
            'caa 300 CAA 0 issue "ca.example.net"',
            'caa 300 CAA 128 iodef "mailto:sec@example.com"',
            r"opaque 300 TYPE65534 \# 6 00deadbeef01",
            r"empty 300 TYPE65534 \# 0",
            "deep.sub 300 A 192.0.2.30",
            'svc 300 HTTPS 1 . alpn="h2,h3" port=8443',
        ])
        h.zone("arpa.", [8])
        h.zone("2.0.192.in-addr.arpa.", [9], ["1 300 PTR www.example.com."])
        h.zone("example.net.", [6], [
            "www A 192.0.2.60",
            "mail2 A 192.0.2.61",
        ])
        # glueless: example.org's only server is named in example.net
        h.zone("example.org.", [7], ["www 300 A 192.0.2.70",
                                      "@ 300 A 192.0.2.71"],
               ns_names=["ns-for-org.example.net."])

    def q(self, name, rdtype):
        r = self.resolver.udp(name, rdtype)
        self.assertResolved(r)
        return r

    def rdatas(self, r, name, rdtype):
        return sorted(a[2] for a in answers(r)
                      if a[0] == name and a[1] == rdtype)

    def test_a(self):
        r = self.q("www.example.com", "A")
        self.assertEqual(self.rdatas(r, "www.example.com.", "A"),
                         ["192.0.2.1", "192.0.2.2"])
        self.assertEqual(len(answers(r)), 2, r)
        self.assertTrue(all(0 < a[3] <= 300 for a in answers(r)), r)

    def test_aaaa(self):
        r = self.q("www.example.com", "AAAA")
        self.assertEqual(self.rdatas(r, "www.example.com.", "AAAA"),
                         ["2001:db8::1"])

    def test_mx(self):
        r = self.q("example.com", "MX")
        self.assertEqual(self.rdatas(r, "example.com.", "MX"),
                         ["10 mail.example.com.", "20 mail2.example.net."])

    def test_txt(self):
        r = self.q("txt.example.com", "TXT")
        self.assertEqual(self.rdatas(r, "txt.example.com.", "TXT"),
                         sorted(['"hello world" "second string"',
                                 '"%s"' % TXT_LONG]))

    def test_srv(self):
        r = self.q("_sip._udp.example.com", "SRV")
        self.assertEqual(self.rdatas(r, "_sip._udp.example.com.", "SRV"),
                         ["10 60 5060 sip.example.com."])

    def test_caa(self):
        r = self.q("caa.example.com", "CAA")
        self.assertEqual(self.rdatas(r, "caa.example.com.", "CAA"),
                         sorted(['0 issue "ca.example.net"',
                                 '128 iodef "mailto:sec@example.com"']))

    def test_https(self):
        r = self.q("svc.example.com", "HTTPS")
        self.assertEqual(self.rdatas(r, "svc.example.com.", "HTTPS"),
                         ['1 . alpn="h2,h3" port="8443"'])

    def test_ptr(self):
        r = self.q("1.2.0.192.in-addr.arpa", "PTR")
        self.assertEqual(self.rdatas(r, "1.2.0.192.in-addr.arpa.", "PTR"),
                         ["www.example.com."])

    def test_apex_ns_and_soa(self):
        r = self.q("example.com", "NS")
        self.assertEqual(self.rdatas(r, "example.com.", "NS"),
                         ["ns1.example.com."])
        self.assertTrue(r.flags & dns.flags.RA)
        r = self.q("example.com", "SOA")
        soa = self.rdatas(r, "example.com.", "SOA")
        self.assertEqual(len(soa), 1, r)
        self.assertTrue(soa[0].startswith("ns1.example.com. hostmaster.example.com. 1 "),
                        soa)

    def test_unknown_type_is_opaque(self):
        r = self.q("opaque.example.com", "TYPE65534")
        self.assertEqual(self.rdatas(r, "opaque.example.com.", "TYPE65534"),
                         [r"\# 6 00deadbeef01"])

    def test_unknown_type_empty_rdata(self):
        r = self.q("empty.example.com", "TYPE65534")
        self.assertEqual(self.rdatas(r, "empty.example.com.", "TYPE65534"),
                         [r"\# 0"])

    def test_nodata_unknown_type(self):
        r = self.q("www.example.com", "TYPE65534")
        self.assertEqual(answers(r), [])
        self.assertIn(("example.com.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_name_below_empty_non_terminal(self):
        r = self.q("deep.sub.example.com", "A")
        self.assertEqual(self.rdatas(r, "deep.sub.example.com.", "A"),
                         ["192.0.2.30"])
        # the empty non-terminal itself: NOERROR, no data
        r = self.q("sub.example.com", "A")
        self.assertEqual(answers(r), [])

    def test_glueless_delegation(self):
        r = self.q("www.example.org", "A")
        self.assertEqual(self.rdatas(r, "www.example.org.", "A"),
                         ["192.0.2.70"])
        r = self.q("example.org", "A")
        self.assertEqual(self.rdatas(r, "example.org.", "A"), ["192.0.2.71"])

    def test_nxdomain(self):
        r = self.resolver.udp("nonexistent.example.com", "A")
        self.assertRcode(r, "NXDOMAIN")
        self.assertTrue(r.flags & dns.flags.RA)
        self.assertEqual(answers(r), [])
        self.assertIn(("example.com.", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_nxdomain_at_tld(self):
        r = self.resolver.udp("www.nosuchtld", "A")
        self.assertRcode(r, "NXDOMAIN")
        self.assertIn((".", "SOA"),
                      [(a[0], a[1]) for a in answers(r, "authority")], r)

    def test_tcp(self):
        r = self.resolver.tcp("www.example.net", "A")
        self.assertResolved(r)
        self.assertEqual(self.rdatas(r, "www.example.net.", "A"),
                         ["192.0.2.60"])

    def test_id_and_question_echoed(self):
        r = self.resolver.udp("www.example.net", "A", qid=4242)
        self.assertEqual(r.id, 4242)
        self.assertEqual(len(r.question), 1)
        self.assertEqual(r.question[0].name.to_text().lower(),
                         "www.example.net.")

    def test_mixed_case_question(self):
        r = self.resolver.udp("WwW.ExAmPle.NeT", "A")
        self.assertResolved(r)
        self.assertEqual(sorted(a[2] for a in answers(r) if a[1] == "A"),
                         ["192.0.2.60"])

    def test_no_edns_query(self):
        r = self.resolver.udp("www.example.com", "A", edns=False)
        self.assertResolved(r)
        self.assertEqual(r.edns, -1, "no OPT expected when query had none")

    def test_edns_payload_advertised(self):
        r = self.resolver.udp("www.example.com", "A")
        self.assertGreaterEqual(r.edns, 0, "OPT expected in reply")
        self.assertEqual(r.payload, 1232)

    def test_dig_client(self):
        p = self.resolver.dig("www.example.com", "A")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("status: NOERROR", p.stdout)
        flags = [line for line in p.stdout.splitlines()
                 if line.startswith(";; flags:")][0]
        self.assertIn(" ra", flags)
        self.assertIn("192.0.2.1", p.stdout)

    def test_default_acl_allows_loopback(self):
        # started without --allow: loopback sources are answered
        for src in ("127.0.0.1", "127.0.0.2", "127.200.1.1"):
            r = udp(self.resolver.server_addr, "www.example.com", "A",
                    source=src)
            self.assertResolved(r)


if __name__ == "__main__":
    main()
