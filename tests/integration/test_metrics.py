#!/usr/bin/python3
"""Chain instrumentation, checked with exact counts after known queries: a
3-hop chain across four zones (the middle zone slow) observed once in the
length-3 bucket with three network hops, then three memory hops, then
(through a second instance and Redis) three redis hops; loop, too-long,
dangling, CNAME-with-other-data and apex-CNAME counters moving exactly once
per query; purposes; the slow zone standing out in /chains and in the
per-zone histogram; promtool on the exposition; a real Prometheus scraping
it; /chains and /trace JSON; and `chaindns trace` output."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (IntegrationTest, _live, _terminate, main, metric,  # noqa: E402
                     parse_metrics, rcode, redis_addr, resolver_bin, stats_delta, wait_for)

BASE = 23
SLOW_MS = 150
CHAIN = ["a.chain.com.", "b.mid.net.", "c.end.org.", "d.final.com."]


def bucket(values, name, le, **labels):
    return metric(values, name + "_bucket", le=le, **labels)


class ChainMetrics(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        long_chain = ["long%d 300 CNAME long%d" % (i, i + 1) for i in range(17)]
        h.zone("chain.com.", [5], [
            "a 300 CNAME b.mid.net.",
            "loop1 300 CNAME loop2",
            "loop2 300 CNAME loop1",
            "dang 300 CNAME nowhere.chain.com.",
            "sel._domainkey 300 CNAME c.end.org.",
            "mta-sts 300 CNAME c.end.org.",
            "default._bimi 300 CNAME c.end.org.",
            "long17 300 A 192.0.2.17",
        ] + long_chain)
        h.badauth(6, delay_ms=SLOW_MS)  # the slow provider in the middle
        h.zone("mid.net.", [6], ["b 300 CNAME c.end.org."])
        h.zone("end.org.", [7], ["c 300 CNAME d.final.com."])
        h.zone("final.com.", [8], ["d 300 A 192.0.2.50"])
        h.badauth(9)  # what NSD refuses to load
        h.zone("odd.org.", [9], ["x 300 CNAME y.odd.org.", "x 300 A 192.0.2.66",
                                 "y 300 A 192.0.2.67"])
        h.zone("apex.org.", [9], ["@ 300 CNAME d.final.com."])

    def around(self, res, fn):
        """Metrics before and after fn(): their difference."""
        before = res.metrics()
        out = fn()
        return out, stats_delta(before, res.metrics())

    # -- exact counts ------------------------------------------------------

    def test_chain_counts_by_source(self):
        # A fresh instance: the class resolver's cache is shared by other tests.
        res = self.start_resolver(n=2, metrics=True)
        r, d = self.around(res, lambda: res.udp("a.chain.com", timeout=5))
        self.assertResolved(r)
        self.assertChain(r, CHAIN, "A", ["192.0.2.50"])
        self.assertEqual(metric(d, "chaindns_chain_length_count"), 1)
        self.assertEqual(metric(d, "chaindns_chain_length_sum"), 3)
        self.assertEqual(bucket(d, "chaindns_chain_length", "3") -
                         bucket(d, "chaindns_chain_length", "2"), 1)
        for src, want in (("network", 3), ("memory", 0), ("redis", 0)):
            self.assertEqual(metric(d, "chaindns_chain_hop_duration_seconds_count", source=src),
                             want, src)
        self.assertEqual(metric(d, "chaindns_chain_duration_seconds_count",
                                outcome="complete", purpose="other"), 1)
        self.assertEqual(metric(d, "chaindns_answer_duration_seconds_count", source="network"), 1)
        # The slow zone stands out in the per-zone histogram...
        zones = {dict(k[1])["zone"]: v for k, v in d.items()
                 if k[0] == "chaindns_chain_zone_duration_seconds_sum"}
        self.assertGreaterEqual(zones["mid.net."], SLOW_MS / 1000, zones)
        self.assertEqual(max(zones, key=zones.get), "mid.net.", zones)
        self.assertEqual(metric(d, "chaindns_chain_zone_duration_seconds_count", zone="mid.net."), 1)
        # ... and as the slowest hop in /chains.
        status, body = res.http("/chains")
        self.assertEqual(status, 200)
        chains = json.loads(body)
        entry = [c for c in chains["recent"] if c["name"] == "a.chain.com."][0]
        self.assertEqual((entry["outcome"], entry["length"], len(entry["hops"])),
                         ("complete", 3, 3))
        slowest = max(entry["hops"], key=lambda h: h["ms"])
        self.assertEqual((slowest["name"], slowest["zone"]), ("b.mid.net.", "mid.net."))
        self.assertGreaterEqual(slowest["ms"], SLOW_MS)
        self.assertEqual(entry["answer"]["name"], "d.final.com.")
        self.assertEqual(chains["slowest"][0]["name"], "a.chain.com.")
        # Again: from memory.
        r, d = self.around(res, lambda: res.udp("a.chain.com"))
        self.assertResolved(r)
        self.assertEqual(metric(d, "chaindns_chain_hop_duration_seconds_count", source="memory"), 3)
        self.assertEqual(metric(d, "chaindns_chain_hop_duration_seconds_count", source="network"), 0)
        self.assertEqual(metric(d, "chaindns_answer_duration_seconds_count", source="memory"), 1)
        self.assertEqual(bucket(d, "chaindns_chain_length", "3") -
                         bucket(d, "chaindns_chain_length", "2"), 1)

    def test_chain_hops_from_redis(self):
        url = self.redis.url
        a = self.start_resolver(["--redis-url", url, "--redis-prefix", "m1"], n=3, metrics=True)
        self.assertResolved(a.udp("a.chain.com", timeout=5))
        r = self.redis.client()
        self.assertTrue(wait_for(lambda: r.exists("m1:v2:chain:a.chain.com."), 3))
        b = self.start_resolver(["--redis-url", url, "--redis-prefix", "m1"], n=4, metrics=True)
        res, d = self.around(b, lambda: b.udp("a.chain.com"))
        self.assertChain(res, CHAIN, "A", ["192.0.2.50"])
        self.assertEqual(metric(d, "chaindns_chain_hop_duration_seconds_count", source="redis"), 3)
        self.assertEqual(metric(d, "chaindns_chain_hop_duration_seconds_count", source="network"), 0)
        self.assertEqual(metric(d, "chaindns_answer_duration_seconds_count", source="redis"), 1)
        self.assertEqual(metric(d, "chaindns_cache_lookups_total", tier="redis", result="hit"), 2)
        self.assertEqual(metric(d, "chaindns_upstream_queries_total", transport="udp"), 0)
        m = b.metrics()
        self.assertEqual(metric(m, "chaindns_redis_up"), 1)
        self.assertGreaterEqual(metric(m, "chaindns_redis_lookup_duration_seconds_count"), 2)

    def test_broken_chain_counters_move_once_per_query(self):
        res = self.resolver
        cases = (("loop1.chain.com", "chaindns_chain_loops_total", "SERVFAIL", "loop"),
                 ("long0.chain.com", "chaindns_chain_too_long_total", "SERVFAIL", "too_long"),
                 ("dang.chain.com", "chaindns_chain_dangling_total", "NXDOMAIN", "dangling"),
                 ("x.odd.org", "chaindns_cname_with_other_data_total", "NOERROR", "complete"),
                 ("apex.org", "chaindns_cname_at_apex_total", "NOERROR", "complete"))
        counters = [c[1] for c in cases]
        for name, counter, want_rcode, outcome in cases:
            for attempt in range(2):  # from the network, then from memory for most
                r, d = self.around(res, lambda: res.udp(name, timeout=5))
                self.assertEqual(rcode(r), want_rcode, (name, r))
                for c in counters:
                    expect = 1 if c == counter and (attempt == 0 or "cname_" not in c) else 0
                    self.assertEqual(metric(d, c), expect, (name, attempt, c))
                self.assertEqual(metric(d, "chaindns_chain_duration_seconds_count",
                                        outcome=outcome, purpose="other"), 1, (name, attempt))
        status, body = res.http("/chains")
        chains = json.loads(body)
        self.assertIn("dang.chain.com.", [c["name"] for c in chains["dangling"]])
        broken = {c["name"]: c for c in chains["broken"]}
        self.assertEqual(broken["loop1.chain.com."]["outcome"], "loop")
        self.assertIn("loop", broken["loop1.chain.com."]["why"])
        self.assertEqual(broken["loop1.chain.com."]["count"], 2)  # repeats bump the count
        self.assertEqual(broken["long0.chain.com."]["outcome"], "too_long")
        self.assertIn("max-chain-length", broken["long0.chain.com."]["why"])

    def test_purposes(self):
        res = self.resolver
        for name, purpose in (("sel._domainkey.chain.com", "dkim"),
                              ("mta-sts.chain.com", "mta_sts"),
                              ("default._bimi.chain.com", "bimi")):
            r, d = self.around(res, lambda: res.udp(name, "A", timeout=5))
            self.assertResolved(r)
            self.assertEqual(metric(d, "chaindns_chain_duration_seconds_count",
                                    outcome="complete", purpose=purpose), 1, name)

    # -- the exposition ----------------------------------------------------

    def test_promtool_accepts_the_exposition(self):
        self.assertResolved(self.resolver.udp("a.chain.com", timeout=5))
        status, text = self.resolver.http("/metrics")
        self.assertEqual(status, 200)
        p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        parse_metrics(text)  # every line parses
        for family in ("queries_total", "responses_total", "answer_duration_seconds",
                       "chain_length", "chain_duration_seconds", "chain_hop_duration_seconds",
                       "chain_zone_duration_seconds", "cache_lookups_total",
                       "cache_evictions_total", "cache_entries", "cache_bytes",
                       "upstream_queries_total", "upstream_timeouts_total",
                       "upstream_rtt_seconds", "requests_in_flight"):
            self.assertIn("# TYPE chaindns_%s " % family, text)
        # No query name ever becomes a label value.
        self.assertNotIn("a.chain.com", text)

    def test_real_prometheus_scrapes_chain_series(self):
        prom = shutil.which("prometheus")
        self.assertIsNotNone(prom, "Debian's prometheus package is needed")
        self.assertResolved(self.resolver.udp("sel._domainkey.chain.com", timeout=5))
        d = tempfile.mkdtemp(prefix="prom-", dir=self.tmpdir)
        target = self.resolver.metrics_url.split("//", 1)[1]
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: chaindns\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        listen = "%s:9090" % redis_addr(BASE, 9)
        log = open(os.path.join(d, "log"), "w")
        p = subprocess.Popen([prom, "--config.file=" + os.path.join(d, "prometheus.yml"),
                              "--storage.tsdb.path=" + os.path.join(d, "data"),
                              "--web.listen-address=" + listen],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        _live.append(p)
        try:
            query = 'chaindns_chain_duration_seconds_count{purpose="dkim",outcome="complete"}'
            url = "http://%s/api/v1/query?%s" % (listen, urllib.parse.urlencode({"query": query}))

            def found():
                try:
                    with urllib.request.urlopen(url, timeout=2) as r:
                        result = json.load(r)["data"]["result"]
                except Exception:
                    return None
                return result if result and float(result[0]["value"][1]) >= 1 else None
            result = wait_for(found, 30, interval=0.5)
            if not result:
                with open(log.name) as f:
                    self.fail("Prometheus never found the series; its log:\n" + f.read()[-3000:])
            self.assertEqual(result[0]["metric"]["job"], "chaindns")
        finally:
            _terminate(p, 10.0, group=True)
            log.close()

    # -- diagnostics -------------------------------------------------------

    def test_trace_json(self):
        status, body = self.resolver.http("/trace?name=a.chain.com&type=A&nocache=1")
        self.assertEqual(status, 200, body)
        t = json.loads(body)
        self.assertEqual((t["name"], t["type"], t["nocache"], t["rcode"]),
                         ("a.chain.com", "A", True, "NOERROR"))
        self.assertEqual(t["chain"]["length"], 3)
        self.assertEqual([h["source"] for h in t["chain"]["hops"]], ["network"] * 3)
        zones = [q["zone"] for q in t["queries"]]
        self.assertEqual(zones[0], ".")  # nocache: from the root
        for z in ("chain.com.", "mid.net.", "end.org.", "final.com."):
            self.assertIn(z, zones)
        slow = [q for q in t["queries"] if q["zone"] == "mid.net."][0]
        self.assertGreaterEqual(slow["rtt_ms"], SLOW_MS)
        self.assertIn("CNAME to c.end.org.", slow["result"])
        self.assertEqual(t["upstream_queries"], len(t["queries"]))
        self.assertEqual(t["answer"][-1].split()[-1], "192.0.2.50")
        for q in t["queries"]:
            self.assertEqual(set(q), {"depth", "zone", "server", "qname", "qtype", "minimised", "transport",
                                      "start_ms", "rtt_ms", "result"})
        # With the cache: nothing asked upstream.
        status, body = self.resolver.http("/trace?name=a.chain.com")
        t = json.loads(body)
        self.assertEqual((t["upstream_queries"], t["queries"]), (0, []))
        self.assertEqual([h["source"] for h in t["chain"]["hops"]], ["memory"] * 3)
        # Bad input is a 400, not a crash.
        for q in ("", "?name=", "?name=a.chain.com&type=NOPE", "?name=" + "x" * 300):
            status, _ = self.resolver.http("/trace" + q)
            self.assertEqual(status, 400, q)
        self.assertEqual(self.resolver.http("/nope")[0], 404)

    def test_trace_is_rate_limited(self):
        # /trace makes the resolver query authorities for an HTTP client:
        # one at a time, trace-rate a minute.
        res = self.start_resolver(["--trace-rate", "2"], n=5, metrics=True)
        statuses = [res.http("/trace?name=a.chain.com&nocache=1")[0] for _ in range(2)]
        self.assertEqual(statuses, [200, 200])
        status, body = res.http("/trace?name=a.chain.com&nocache=1")
        self.assertEqual(status, 429, body)
        self.assertIn("trace-rate", body)
        self.assertEqual(res.http("/metrics")[0], 200)  # scrapes are not limited
        off = self.start_resolver(["--trace-rate", "0"], n=6, metrics=True)
        self.assertEqual(off.http("/trace?name=a.chain.com")[0], 429)

    def test_trace_command(self):
        p = subprocess.run([resolver_bin(), "trace", "a.chain.com", "A", "--root-hints",
                            self.h.hints, "--upstream-port", str(self.h.port), "--no-ipv6"] + harness.UNSIGNED_ROOT_ARGS,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        out = p.stdout
        self.assertIn("chaindns trace a.chain.com A: NOERROR", out)
        self.assertIn("chain: 3 hop(s), complete", out)
        hop2 = [l for l in out.splitlines() if l.strip().startswith("2 ") and "b.mid.net." in l]
        self.assertTrue(hop2, out)
        self.assertIn("mid.net.", hop2[0])
        self.assertGreaterEqual(float(hop2[0].split()[7]), SLOW_MS)
        self.assertIn("referral to com.", out)
        self.assertIn("d.final.com.\t300\tIN\tA\t192.0.2.50", out)
        p = subprocess.run([resolver_bin(), "trace", "a.chain.com", "A", "--json", "--root-hints",
                            self.h.hints, "--upstream-port", str(self.h.port), "--no-ipv6"] + harness.UNSIGNED_ROOT_ARGS,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(json.loads(p.stdout)["chain"]["length"], 3)
        p = subprocess.run([resolver_bin(), "trace"], capture_output=True, text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage", p.stderr)


if __name__ == "__main__":
    main()
