#!/usr/bin/python3
"""Local zones and local data (--local-zone / --local-data, the YAML keys
local-zone: / local-data:): static, transparent, refuse and redirect zones,
the built-in default zones (localhost, loopback reverse, onion, invalid,
home.arpa, RFC 6303 reverse zones) and nodefault; local CNAMEs to local and
to internet names, loops and dangling targets; ALIAS flattening (addresses
of the target's chain under the owner's name, the chain's minimum TTL, other
types from local data, the alias hop in /chains, following the target when
it changes, dangling targets); config errors with file and line; SIGHUP.

The hierarchy holds the internet side: the CDN chain the ALIAS points to
(example.net -> example.org on NSD), tp.net / blocked.net / ads.net on
badauth (to prove the local answers never asked it), and an in-addr.arpa
tree with a 10.in-addr.arpa zone for nodefault."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.flags  # noqa: E402
import dns.reversename  # noqa: E402

from harness import (PORT, IntegrationTest, answers, main,  # noqa: E402
                     resolver_addr, run_chaindns, wait_for)

BASE = 37
LAN_SOA = "lan. nobody.invalid. 1 3600 1200 604800 3600"


def msum(values, name, **labels):
    """Sum of the samples of `name` whose labels include `labels` (other
    labels do not matter)."""
    want = {(k, str(v)) for k, v in labels.items()}
    return sum(v for (n, lab), v in values.items() if n == name and want <= lab)


def delta(before, after, name, **labels):
    return msum(after, name, **labels) - msum(before, name, **labels)


def records(msg, section="answer"):
    return sorted((a[0], a[1], a[2]) for a in answers(msg, section))


def soas(msg):
    return [(a[0], a[2]) for a in answers(msg, "authority") if a[1] == "SOA"]


class LocalZones(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}
    RESOLVER_ARGS = (
        # a home network: static zone, reverse PTR in a default zone
        "--local-zone", "lan. static",
        "--local-data", "router.lan. 300 A 192.168.1.1",
        "--local-data", "1.1.168.192.in-addr.arpa. 300 PTR router.lan.",
        "--local-data", "host.office.lan 300 A 192.168.1.20",  # no final dot
        "--local-data", "www.lan. 300 CNAME router.lan.",
        "--local-data", "cdn.lan. 300 CNAME web.cdn.example.net.",
        "--local-data", "loop1.lan. 300 CNAME loop2.lan.",
        "--local-data", "loop2.lan. 300 CNAME loop1.lan.",
        "--local-data", "dangle.lan. 300 CNAME nothing.lan.",
        # an internet zone with one name overridden
        "--local-zone", "tp.net. transparent",
        "--local-data", "intranet.tp.net. 300 IN A 10.1.1.1",
        "--local-zone", "blocked.net. refuse",
        "--local-data", "ok.blocked.net. 300 A 192.0.2.40",
        "--local-zone", "ads.net. redirect",
        "--local-data", "ads.net. 300 A 127.0.0.9",
        # ALIAS at a zone apex next to MX and TXT
        "--local-zone", "brand.example. static",
        "--local-data", "brand.example. 300 ALIAS www.cdn.example.net.",
        "--local-data", "brand.example. 300 MX 10 mx.brand.example.",
        "--local-data", 'brand.example. 300 TXT "v=spf1 -all"',
        "--local-data", "mx.brand.example. 300 A 192.0.2.25",
        "--local-data", "viacname.brand.example. 300 ALIAS s.cdn.example.net.",
        "--local-data", "low.brand.example. 20 ALIAS edge4.cdnprovider.example.org.",
        "--local-data", "traced.brand.example. 300 ALIAS t.cdn.example.net.",
        "--local-data", "moving.brand.example. 300 ALIAS m.cdn.example.net.",
        "--local-data", "gone.brand.example. 300 ALIAS nowhere.example.net.",
        "--local-data", "v4.brand.example. 300 ALIAS v4only.example.net.",
    )

    @classmethod
    def build(cls, h):
        h.zone("net.", [2])
        h.zone("org.", [3])
        # Each ALIAS test has a chain of its own, so its TTLs are cold ones.
        h.zone("example.net.", [4], [
            "www.cdn 120 CNAME edge.cdnprovider.example.org.",
            "s.cdn 30 CNAME edge3.cdnprovider.example.org.",
            "t.cdn 300 CNAME edge2.cdnprovider.example.org.",
            "m.cdn 300 CNAME flip.cdnprovider.example.org.",
            "web.cdn 300 CNAME edge5.cdnprovider.example.org.",
            "v4only 300 A 192.0.2.50",
            "tolan 300 CNAME router.lan.",
        ])
        h.zone("example.org.", [5], [
            "edge.cdnprovider 60 A 192.0.2.10",
            "edge.cdnprovider 60 A 192.0.2.11",
            "edge.cdnprovider 45 AAAA 2001:db8::10",
            "edge2.cdnprovider 300 A 192.0.2.12",
            "edge3.cdnprovider 3600 A 192.0.2.13",
            "edge4.cdnprovider 3600 A 192.0.2.14",
            "edge5.cdnprovider 300 A 192.0.2.15",
            "flip.cdnprovider 2 A 192.0.2.20",
        ])
        h.badauth(6)  # counts queries: local answers must not reach it
        h.zone("tp.net.", [6], ["www 300 A 192.0.2.30", "intranet 300 A 192.0.2.99"])
        h.zone("blocked.net.", [6], ["x 300 A 192.0.2.41"])
        h.zone("ads.net.", [6], ["x 300 A 192.0.2.42"])
        h.zone("arpa.", [7])
        h.zone("in-addr.arpa.", [7])
        h.zone("10.in-addr.arpa.", [8], ["5.4.3 300 PTR host.example.net."])

    # -- helpers -------------------------------------------------------------

    def around(self, fn, res=None):
        res = res or self.resolver
        before = res.metrics()
        out = fn()
        return out, before, res.metrics()

    def upstream(self, before, after):
        return delta(before, after, "chaindns_upstream_queries_total")

    def assertNoAA(self, r):
        self.assertFalse(r.flags & dns.flags.AA, "AA set on a resolver's answer\n%s" % r)

    def assertNodata(self, r, zone):
        self.assertRcode(r, "NOERROR")
        self.assertEqual(answers(r), [], r)
        self.assertIn(zone, [s[0] for s in soas(r)], r)

    def assertNxdomain(self, r, zone):
        self.assertRcode(r, "NXDOMAIN")
        self.assertEqual(answers(r), [], r)
        self.assertIn(zone, [s[0] for s in soas(r)], r)

    def assertFlattened(self, r, owner, rdtype, addrs, ttl_max, ttl_min):
        """Only `rdtype` records owned by `owner` (no CNAME, no ALIAS), the
        addresses `addrs`, one TTL in (ttl_min, ttl_max]."""
        self.assertResolved(r)
        ans = answers(r)
        self.assertEqual(sorted((a[0], a[1]) for a in ans), [(owner, rdtype)] * len(addrs),
                         "only %s %s records in the answer\n%s" % (owner, rdtype, r))
        self.assertEqual(sorted(a[2] for a in ans), sorted(addrs), r)
        ttls = {a[3] for a in ans}
        self.assertEqual(len(ttls), 1, r)
        ttl = ttls.pop()
        self.assertTrue(ttl_min < ttl <= ttl_max,
                        "TTL %d not in (%d, %d]\n%s" % (ttl, ttl_min, ttl_max, r))

    def run_bad(self, args):
        base = ["--listen", "%s:5300" % resolver_addr(BASE, 9), "--root-hints", self.h.hints,
                "--upstream-port", str(PORT), "--no-ipv6", "--threads", "1"]
        try:
            p = run_chaindns(base + list(args), timeout=4)
        except subprocess.TimeoutExpired:
            self.fail("started (and kept running) with %r" % (args,))
        self.assertNotEqual(p.returncode, 0, p.stderr)
        return p.stderr

    def write(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    # -- static --------------------------------------------------------------

    def test_static_local_data_answers(self):
        res = self.resolver
        for ask in (res.udp, res.tcp):
            r, b, a = self.around(lambda: ask("router.lan", "A"))
            self.assertResolved(r)
            self.assertNoAA(r)
            self.assertEqual(records(r), [("router.lan.", "A", "192.168.1.1")])
            self.assertTrue(0 < answers(r)[0][3] <= 300, r)
            self.assertEqual(self.upstream(b, a), 0)

    def test_static_reverse_ptr_in_default_zone(self):
        r = self.resolver.udp("1.1.168.192.in-addr.arpa", "PTR")
        self.assertResolved(r)
        self.assertEqual(records(r), [("1.1.168.192.in-addr.arpa.", "PTR", "router.lan.")])
        # the rest of the (static, default) zone: NXDOMAIN, nothing asked
        r, b, a = self.around(lambda: self.resolver.udp("2.1.168.192.in-addr.arpa", "PTR"))
        self.assertNxdomain(r, "168.192.in-addr.arpa.")
        self.assertEqual(self.upstream(b, a), 0)

    def test_static_unknown_name_nxdomain_with_synthesised_soa(self):
        r, b, a = self.around(lambda: self.resolver.udp("nope.lan", "A"))
        self.assertRcode(r, "NXDOMAIN")
        self.assertNoAA(r)
        self.assertEqual(answers(r), [])
        auth = answers(r, "authority")
        self.assertEqual([(x[0], x[1], x[2]) for x in auth], [("lan.", "SOA", LAN_SOA)], r)
        self.assertTrue(0 < auth[0][3] <= 3600, r)
        self.assertEqual(self.upstream(b, a), 0)
        # deeper names too
        self.assertNxdomain(self.resolver.udp("a.b.nope.lan", "AAAA"), "lan.")

    def test_static_nodata(self):
        r = self.resolver.udp("router.lan", "MX")
        self.assertNodata(r, "lan.")
        self.assertEqual(soas(r), [("lan.", LAN_SOA)])
        self.assertNoAA(r)
        # an empty non-terminal (data only below it) and the apex
        self.assertNodata(self.resolver.udp("office.lan", "A"), "lan.")
        self.assertNodata(self.resolver.udp("lan", "A"), "lan.")

    # -- transparent, refuse, redirect -------------------------------------

    def test_transparent(self):
        bad = self.h.server(6)
        r = self.resolver.udp("intranet.tp.net", "A")
        self.assertResolved(r)
        self.assertEqual(records(r), [("intranet.tp.net.", "A", "10.1.1.1")])
        self.assertNodata(self.resolver.udp("intranet.tp.net", "AAAA"), "tp.net.")
        self.assertEqual(bad.count(qname="intranet.tp.net."), 0,
                         "a name with local data was asked upstream")
        # other names in the zone come from the internet
        r = self.resolver.udp("www.tp.net", "A")
        self.assertResolved(r)
        self.assertEqual(records(r), [("www.tp.net.", "A", "192.0.2.30")])
        self.assertGreaterEqual(bad.count(qname="www.tp.net."), 1)
        r = self.resolver.udp("nothing.tp.net", "A")
        self.assertNxdomain(r, "tp.net.")
        self.assertIn("hostmaster.tp.net.", soas(r)[0][1], "the SOA must be the real one")
        self.assertGreaterEqual(bad.count(qname="nothing.tp.net."), 1)

    def test_refuse(self):
        bad = self.h.server(6)
        for name in ("x.blocked.net", "blocked.net", "deep.x.blocked.net"):
            r = self.resolver.udp(name, "A")
            self.assertRcode(r, "REFUSED")
            self.assertEqual(answers(r), [], r)
        self.assertEqual(bad.count(qname="x.blocked.net."), 0)
        r = self.resolver.udp("ok.blocked.net", "A")
        self.assertResolved(r)
        self.assertEqual(records(r), [("ok.blocked.net.", "A", "192.0.2.40")])

    def test_redirect(self):
        bad = self.h.server(6)
        for name in ("x.ads.net.", "a.b.ads.net.", "ads.net."):
            r = self.resolver.udp(name, "A")
            self.assertResolved(r)
            self.assertEqual(records(r), [(name, "A", "127.0.0.9")], r)
        self.assertEqual(bad.count(qname="x.ads.net."), 0)
        r = self.resolver.udp("x.ads.net", "AAAA")  # no apex data of that type
        self.assertRcode(r, "NOERROR")
        self.assertEqual(answers(r), [], r)

    # -- defaults ------------------------------------------------------------

    def test_default_zones(self):
        res = self.resolver
        res.udp("www.tp.net", "A")  # the upstream counter exists from here on
        before = res.metrics()
        self.assertTrue(any(k[0] == "chaindns_upstream_queries_total" for k in before))
        r = res.udp("localhost", "A")
        self.assertResolved(r)
        self.assertEqual(records(r), [("localhost.", "A", "127.0.0.1")])
        r = res.udp("localhost", "AAAA")
        self.assertEqual(records(r), [("localhost.", "AAAA", "::1")])
        r = res.udp("1.0.0.127.in-addr.arpa", "PTR")
        self.assertEqual(records(r), [("1.0.0.127.in-addr.arpa.", "PTR", "localhost.")])
        v6 = dns.reversename.from_address("::1").to_text()
        r = res.udp(v6, "PTR")
        self.assertEqual(records(r), [(v6, "PTR", "localhost.")])
        self.assertNxdomain(res.udp("hidden.onion", "A"), "onion.")
        self.assertNxdomain(res.udp("x.invalid", "A"), "invalid.")
        self.assertNxdomain(res.udp("printer.home.arpa", "A"), "home.arpa.")
        # RFC 6303: private reverse zones end here, whatever the internet says
        r = res.udp("5.4.3.10.in-addr.arpa", "PTR")
        self.assertNxdomain(r, "10.in-addr.arpa.")
        self.assertNxdomain(res.udp("9.9.16.172.in-addr.arpa", "PTR"), "16.172.in-addr.arpa.")
        self.assertEqual(self.upstream(before, res.metrics()), 0,
                         "a default zone was asked upstream")

    def test_nodefault_resolves_from_the_hierarchy(self):
        res = self.start_resolver(["--local-zone", "10.in-addr.arpa. nodefault"], n=2)
        r = res.udp("5.4.3.10.in-addr.arpa", "PTR")
        self.assertResolved(r)
        self.assertEqual(records(r), [("5.4.3.10.in-addr.arpa.", "PTR", "host.example.net.")])
        r = res.udp("6.4.3.10.in-addr.arpa", "PTR")
        self.assertNxdomain(r, "10.in-addr.arpa.")
        self.assertIn("hostmaster.10.in-addr.arpa.", soas(r)[0][1], "not the hierarchy's SOA")
        # the other defaults stay
        self.assertEqual(records(res.udp("1.0.0.127.in-addr.arpa", "PTR")),
                         [("1.0.0.127.in-addr.arpa.", "PTR", "localhost.")])
        self.assertNxdomain(res.udp("1.1.168.192.in-addr.arpa", "PTR"), "168.192.in-addr.arpa.")

    # -- local CNAMEs --------------------------------------------------------

    def test_local_cname_to_local_name(self):
        r, b, a = self.around(lambda: self.resolver.udp("www.lan", "A"))
        self.assertResolved(r)
        self.assertChain(r, ["www.lan", "router.lan"], "A", ["192.168.1.1"])
        self.assertEqual(self.upstream(b, a), 0)
        self.assertEqual(delta(b, a, "chaindns_chain_hops_total", kind="cname"), 1)
        self.assertEqual(delta(b, a, "chaindns_chain_hop_duration_seconds_count",
                               source="local"), 1)

    def test_local_cname_to_internet_name(self):
        r, b, a = self.around(lambda: self.resolver.udp("cdn.lan", "A"))
        self.assertResolved(r)
        self.assertChain(r, ["cdn.lan", "web.cdn.example.net",
                             "edge5.cdnprovider.example.org"], "A", ["192.0.2.15"])
        self.assertEqual(delta(b, a, "chaindns_chain_hops_total", kind="cname"), 2)
        self.assertEqual(delta(b, a, "chaindns_chain_hop_duration_seconds_count",
                               source="local"), 1)
        self.assertEqual(delta(b, a, "chaindns_chain_hop_duration_seconds_count",
                               source="network"), 1)
        self.assertGreaterEqual(self.upstream(b, a), 1)

    def test_internet_cname_to_local_name(self):
        # local data is consulted at every name of a chain
        r = self.resolver.udp("tolan.example.net", "A")
        self.assertResolved(r)
        self.assertChain(r, ["tolan.example.net", "router.lan"], "A", ["192.168.1.1"])

    def test_local_cname_loop(self):
        r, b, a = self.around(lambda: self.resolver.udp("loop1.lan", "A"))
        self.assertRcode(r, "SERVFAIL")
        self.assertEDE(r, None, ["loop", "loop1.lan", "loop2.lan"])
        self.assertEqual(delta(b, a, "chaindns_chain_loops_total"), 1)
        self.assertEqual(self.upstream(b, a), 0)

    def test_local_dangling_cname(self):
        r, b, a = self.around(lambda: self.resolver.udp("dangle.lan", "A"))
        self.assertRcode(r, "NXDOMAIN")
        self.assertChain(r, ["dangle.lan", "nothing.lan"], "A", [])
        self.assertEqual(soas(r), [("lan.", LAN_SOA)], r)
        self.assertEqual(delta(b, a, "chaindns_chain_dangling_total"), 1)

    # -- ALIAS ---------------------------------------------------------------

    def test_alias_a_and_aaaa(self):
        r = self.resolver.udp("brand.example", "A")
        # TTL: min(ALIAS 300, CNAME 120, A 60), on a cold lookup
        self.assertFlattened(r, "brand.example.", "A", ["192.0.2.10", "192.0.2.11"], 60, 50)
        r = self.resolver.udp("brand.example", "AAAA")
        # min(300, the cached CNAME's ~120, AAAA 45)
        self.assertFlattened(r, "brand.example.", "AAAA", ["2001:db8::10"], 45, 35)
        r = self.resolver.tcp("brand.example", "A")
        self.assertFlattened(r, "brand.example.", "A", ["192.0.2.10", "192.0.2.11"], 60, 40)

    def test_alias_other_types_from_local_data(self):
        r = self.resolver.udp("brand.example", "MX")
        self.assertResolved(r)
        self.assertEqual(records(r), [("brand.example.", "MX", "10 mx.brand.example.")])
        r = self.resolver.udp("brand.example", "TXT")
        self.assertResolved(r)
        self.assertEqual(records(r), [("brand.example.", "TXT", '"v=spf1 -all"')])
        self.assertNodata(self.resolver.udp("brand.example", "SRV"), "brand.example.")
        self.assertNxdomain(self.resolver.udp("nope.brand.example", "A"), "brand.example.")
        r = self.resolver.udp("mx.brand.example", "A")
        self.assertEqual(records(r), [("mx.brand.example.", "A", "192.0.2.25")])

    def test_alias_ttl_is_the_chain_minimum(self):
        # the CNAME after the ALIAS is the shortest: min(300, 30, 3600)
        r = self.resolver.udp("viacname.brand.example", "A")
        self.assertFlattened(r, "viacname.brand.example.", "A", ["192.0.2.13"], 30, 20)
        # the ALIAS itself is the shortest, the target a plain name: min(20, 3600)
        r = self.resolver.udp("low.brand.example", "A")
        self.assertFlattened(r, "low.brand.example.", "A", ["192.0.2.14"], 20, 10)

    def test_alias_hop_in_chains(self):
        r, b, a = self.around(lambda: self.resolver.udp("traced.brand.example", "A"))
        self.assertFlattened(r, "traced.brand.example.", "A", ["192.0.2.12"], 300, 250)
        self.assertEqual(delta(b, a, "chaindns_chain_hops_total", kind="alias"), 1)
        self.assertEqual(delta(b, a, "chaindns_chain_hops_total", kind="cname"), 1)
        status, body = self.resolver.http("/chains")
        self.assertEqual(status, 200, body)
        doc = json.loads(body)
        entries = [c for lst in doc.values() if isinstance(lst, list) for c in lst
                   if isinstance(c, dict) and c.get("name") == "traced.brand.example."]
        self.assertTrue(entries, "traced.brand.example. not in /chains: %s" % body[:2000])
        hops = entries[0]["hops"]
        self.assertEqual([(h.get("kind"), h["name"], h.get("target")) for h in hops],
                         [("alias", "traced.brand.example.", "t.cdn.example.net."),
                          ("cname", "t.cdn.example.net.", "edge2.cdnprovider.example.org.")],
                         hops)
        self.assertEqual(hops[0]["source"], "local", hops)
        self.assertEqual(hops[1]["source"], "network", hops)

    def test_alias_follows_the_target(self):
        r = self.resolver.udp("moving.brand.example", "A")
        self.assertFlattened(r, "moving.brand.example.", "A", ["192.0.2.20"], 2, -1)
        learned = time.monotonic()
        z = self.h.zones["example.org."]
        self.h.stop_server(5)
        try:
            z.records = [(o, t, ty, "192.0.2.21" if o == "flip.cdnprovider.example.org."
                          and ty == "A" else rd) for o, t, ty, rd in z.records]
        finally:
            self.h.start_server(5)
        time.sleep(max(0.0, learned + 2.2 - time.monotonic()))  # the TTL has run out

        def now():
            m = self.resolver.udp("moving.brand.example", "A")
            return m if [x[2] for x in answers(m)] == ["192.0.2.21"] else None
        r = wait_for(now, 5, interval=0.25)
        self.assertIsNotNone(r, "the ALIAS answer did not follow the target: %s"
                             % self.resolver.udp("moving.brand.example", "A"))
        self.assertFlattened(r, "moving.brand.example.", "A", ["192.0.2.21"], 2, -1)

    def test_alias_target_nxdomain_or_nodata_is_nodata(self):
        self.assertNodata(self.resolver.udp("gone.brand.example", "A"), "brand.example.")
        self.assertNodata(self.resolver.udp("gone.brand.example", "AAAA"), "brand.example.")
        r = self.resolver.udp("v4.brand.example", "A")
        self.assertFlattened(r, "v4.brand.example.", "A", ["192.0.2.50"], 300, 250)
        self.assertNodata(self.resolver.udp("v4.brand.example", "AAAA"), "brand.example.")

    # -- configuration file, SIGHUP, errors ----------------------------------

    def test_config_file_and_sighup(self):
        path = self.write("local.yaml", (
            "# local names, from a file\n"
            "local-zone:\n"
            "  - \"home.lan. static\"\n"
            "local-data:\n"
            "  - \"nas.home.lan. 300 A 192.168.7.7\"\n"
            "  - 'nas.home.lan. 300 TXT \"disk station\"'\n"
            "  - \"printer.office.example. 300 A 192.168.7.8\"\n"))
        res = self.start_resolver(["--config", path], n=3)
        for _ in range(2):  # the second from the answer cache
            r = res.udp("nas.home.lan", "A")
            self.assertEqual(records(r), [("nas.home.lan.", "A", "192.168.7.7")])
        r = res.udp("nas.home.lan", "TXT")
        self.assertEqual(records(r), [("nas.home.lan.", "TXT", '"disk station"')])
        r = res.udp("other.home.lan", "A")
        self.assertNxdomain(r, "home.lan.")
        self.assertEqual(soas(r), [("home.lan.",
                                    "home.lan. nobody.invalid. 1 3600 1200 604800 3600")])
        # data outside any zone: a transparent zone at its owner
        r = res.udp("printer.office.example", "A")
        self.assertEqual(records(r), [("printer.office.example.", "A", "192.168.7.8")])
        self.assertNodata(res.udp("printer.office.example", "AAAA"), "printer.office.example.")
        r = res.udp("x.printer.office.example", "A")  # resolved: the root says no
        self.assertNxdomain(r, ".")

        self.write("local.yaml", (
            "local-zone:\n"
            "  - \"home.lan. static\"\n"
            "local-data:\n"
            "  - \"nas.home.lan. 300 A 192.168.7.9\"\n"
            "  - \"new.home.lan. 300 A 192.168.7.10\"\n"))
        marker = "configuration reloaded"
        before = res.log.count(marker)
        res.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: res.log.count(marker) > before, 5), res.log[-2000:])
        r = wait_for(lambda: (lambda m: m if records(m) == [
            ("nas.home.lan.", "A", "192.168.7.9")] else None)(res.udp("nas.home.lan", "A")), 3)
        self.assertIsNotNone(r, "the old local answer after SIGHUP: %s"
                             % res.udp("nas.home.lan", "A"))
        self.assertNodata(res.udp("nas.home.lan", "TXT"), "home.lan.")
        self.assertEqual(records(res.udp("new.home.lan", "A")),
                         [("new.home.lan.", "A", "192.168.7.10")])
        self.assertTrue(res.alive())

    def test_config_error_in_file_names_file_and_line(self):
        path = self.write("bad-data.yaml", (
            "# a typo in an address\n"
            "local-zone:\n"
            "  - \"lan. static\"\n"
            "local-data:\n"
            "  - \"router.lan. 300 A 192.168.1.1\"\n"
            "  - \"bad.lan. 300 A 192.168.1.300\"\n"))
        err = self.run_bad(["--config", path])
        self.assertIn("%s:6: key 'local-data': " % path, err)
        self.assertIn("192.168.1.300", err)

        path = self.write("bad-apex.yaml", (
            "local-zone:\n"
            "  - \"lan. static\"\n"
            "local-data:\n"
            "  - \"router.lan. A 192.168.1.1\"\n"
            "  - \"lan. CNAME router.lan.\"\n"))
        err = self.run_bad(["--config", path])
        self.assertIn("%s:5: key 'local-data': " % path, err)
        self.assertIn("ALIAS", err)

    def test_config_errors_on_the_command_line(self):
        cases = (
            # CNAME at the apex of a configured zone: use ALIAS
            (["--local-zone", "brand.example. static",
              "--local-data", "brand.example. 300 CNAME www.cdn.example.net."],
             ["--local-data", "ALIAS"]),
            (["--local-zone", "lan. bogus"], ["--local-zone", "bogus"]),
            (["--local-data", "router.lan. 300 A"], ["--local-data", "router.lan"]),
            (["--local-data", "x.lan. CNAME router.lan.", "--local-data", "x.lan. A 192.0.2.1"],
             ["--local-data"]),
            (["--local-data", "x.lan. CNAME a.lan.", "--local-data", "x.lan. CNAME b.lan."],
             ["--local-data"]),
            (["--local-data", "x.lan. ALIAS a.example.", "--local-data", "x.lan. A 192.0.2.1"],
             ["--local-data"]),
            (["--local-data", "x.lan. ALIAS a.example.", "--local-data", "x.lan. ALIAS b.example."],
             ["--local-data"]),
        )
        for args, wants in cases:
            with self.subTest(args=args):
                err = self.run_bad(args)
                for w in wants:
                    self.assertIn(w, err)
                self.assertNotIn("unknown, ambiguous or incomplete option", err)


if __name__ == "__main__":
    main()
