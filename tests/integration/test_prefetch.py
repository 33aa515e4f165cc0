#!/usr/bin/python3
"""Prefetch: an answer served from the cache in the last 10 % of its
original TTL (original TTL >= 10 s) starts a background refresh of the
question. The client gets the cached answer at once; the authority sees one
more query shortly after; once the original TTL has run out the answer comes
with a fresh TTL and no cold lookup. Checked through the answer cache (UDP,
the fast path) and the full path (TCP never reads the answer cache), for a
plain record and for a chain whose CNAME is the short-lived part; with
--prefetch off the question after expiry goes upstream again; a record with
a TTL below 10 s is never prefetched. Counted by chaindns_prefetch_total.

Every zone that matters sits on badauth.py, which logs each query, so the
upstream queries per name are counted exactly."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PORT, IntegrationTest, answers, main, metric,  # noqa: E402
                     resolver_addr, run_chaindns, wait_for)

BASE = 38
TTL = 10          # the smallest TTL that is prefetched
SHORT_TTL = 5     # below 10 s: never prefetched


def msum(values, name, **labels):
    """Sum of the samples of `name` whose labels include `labels` (other
    labels, present or added later, do not matter)."""
    want = {(k, str(v)) for k, v in labels.items()}
    return sum(v for (n, lab), v in values.items() if n == name and want <= lab)


def min_ttl(msg):
    return min(a[3] for a in answers(msg))


def records(msg):
    return sorted((a[0], a[1], a[2]) for a in answers(msg))


def sleep_until(t):
    left = t - time.monotonic()
    if left > 0:
        time.sleep(left)


def in_parallel(*fns, timeout=40.0):
    """Run each fn in a thread; re-raise the first failure in the caller."""
    errors = []

    def run(fn):
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(fn,), daemon=True) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        if t.is_alive():
            errors.append(AssertionError("a scenario did not finish within %ss" % timeout))
    if errors:
        raise errors[0]


class Prefetch(IntegrationTest):
    BASE = BASE
    # Prefetch is on by default; the limit is set to exercise the flag.
    RESOLVER_ARGS = ("--prefetch-max", "4")
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.badauth(3)
        h.zone("pf.com.", [3], [
            "fast %d A 192.0.2.1" % TTL,
            "slow %d A 192.0.2.2" % TTL,
            "off %d A 192.0.2.3" % TTL,
            "short %d A 192.0.2.4" % SHORT_TTL,
            "chain %d CNAME long.tgt.com." % TTL,
            "check 300 A 192.0.2.6",
        ])
        h.badauth(4)  # the chain's target on another server, counted apart
        h.zone("tgt.com.", [4], ["long 3600 A 192.0.2.5"])

    # -- helpers -------------------------------------------------------------

    def count(self, qname, n=3):
        return self.h.server(n).count(qname=qname)

    def prefetch_metrics(self, res):
        m = res.metrics()
        return {r: metric(m, "chaindns_prefetch_total", result=r)
                for r in ("started", "refreshed", "failed", "skipped")}

    def answer_hits(self, res):
        return metric(res.metrics(), "chaindns_cache_lookups_total", tier="answer",
                      result="hit")

    def watch(self, ask, qname, want, t0, orig_ttl):
        """Ask the question (ask()) repeatedly from the last 40 % of its TTL
        on, every ~0.1 s while its shown TTL is >= 3 (asserting no upstream
        query yet), then in the last seconds (shown TTL <= 2) once per 0.3 s,
        each time watching for the authority to see one more query for qname
        while no client query is outstanding: a prefetch.

        Returns ("prefetched", reply, ttl) when that happened (reply: the
        answer the query before it got, from the old entry, and its TTL), or
        ("replaced", reply, in_window_ttls) when the entry was replaced by a
        cold lookup (the TTL went up during a client query that went
        upstream) before any prefetch."""
        sleep_until(t0 + orig_ttl * 0.6)
        deadline = t0 + orig_ttl + 2.5
        last_ttl = orig_ttl
        in_window = []
        prev = None  # (reply, ttl, count) of the last in-window query
        while time.monotonic() < deadline:
            before = self.count(qname)
            if prev is not None and before > prev[2]:
                return ("prefetched", prev[0], prev[1])  # seen a little late
            r = ask()
            self.assertEqual(records(r), want, r)
            ttl = min_ttl(r)
            if ttl > last_ttl:
                # A new entry. Without a prefetch seen before, only a client
                # query going upstream (the old entry expired) can explain it.
                self.assertGreater(self.count(qname), before,
                                   "TTL went up from %d to %d without an upstream query"
                                   % (last_ttl, ttl))
                return ("replaced", r, in_window)
            last_ttl = ttl
            if ttl >= 3:
                self.assertEqual(self.count(qname), 1,
                                 "%s asked upstream again while its shown TTL was %d of %d"
                                 " (before the last 10 %%)" % (qname, ttl, orig_ttl))
                time.sleep(0.1)
                continue
            in_window.append(ttl)
            if wait_for(lambda: self.count(qname) > before, 0.3, interval=0.02):
                return ("prefetched", r, ttl)
            prev = (r, ttl, before)
        self.fail("%s: neither a prefetch nor expiry within %.1f s of the first query"
                  % (qname, orig_ttl + 2.5))

    def prefetch_scenario(self, res, ask, qname, want, other=None):
        """One question on res through ask(): cold, then prefetched in the
        last 10 % of its TTL, then fresh after the original TTL with no cold
        lookup. other: (qname, server n) that must see no query after the
        cold lookup (the chain's long-lived target)."""
        m0 = self.prefetch_metrics(res)
        t0 = time.monotonic()
        r = ask()
        self.assertResolved(r)
        self.assertEqual(records(r), want, r)
        self.assertGreaterEqual(min_ttl(r), TTL - 1, r)
        self.assertEqual(self.count(qname), 1, "cold lookup: one upstream query")
        other_count = self.count(*other) if other else None

        what, trigger, ttl = self.watch(ask, qname, want, t0, TTL)
        self.assertEqual(what, "prefetched",
                         "%s expired and was looked up cold (shown TTLs in the last "
                         "seconds: %r): no prefetch" % (qname, ttl))
        # The client that started it got the cached answer (old TTL) at once.
        self.assertLessEqual(ttl, 2, trigger)
        self.assertTrue(wait_for(lambda: self.prefetch_metrics(res)["refreshed"] >
                                 m0["refreshed"], 3.0),
                        "chaindns_prefetch_total{result=\"refreshed\"} did not move: %r"
                        % self.prefetch_metrics(res))
        m1 = self.prefetch_metrics(res)
        self.assertEqual(m1["started"] - m0["started"], 1, m1)
        self.assertEqual(m1["refreshed"] - m0["refreshed"], 1, m1)
        self.assertEqual(m1["failed"] - m0["failed"], 0, m1)
        self.assertEqual(self.count(qname), 2, "exactly one prefetch query")
        # One prefetch per question: more questions now start none.
        for _ in range(3):
            self.assertEqual(records(ask()), want)
        time.sleep(0.2)
        self.assertEqual(self.count(qname), 2)
        self.assertEqual(self.prefetch_metrics(res)["started"] - m0["started"], 1)

        # After the original TTL: a fresh answer, and no cold lookup.
        sleep_until(t0 + TTL + 2)
        r = ask()
        self.assertResolved(r)
        self.assertEqual(records(r), want, r)
        self.assertGreater(min_ttl(r), 5, "not the refreshed entry\n%s" % r)
        self.assertEqual(self.count(qname), 2, "a cold lookup after the original TTL")
        if other:
            self.assertEqual(self.count(*other), other_count,
                             "the long-lived part of the chain was asked again")
        return trigger

    # -- tests ---------------------------------------------------------------

    def test_fast_path_prefetch_and_prefetch_off(self):
        """UDP, the same question each time: after the cold lookup every
        answer comes from the answer cache. Meanwhile, on a resolver with
        --prefetch off, the same kind of question is looked up cold again
        once its TTL has run out."""
        res = self.resolver
        off = self.start_resolver(["--prefetch", "off"], n=2, metrics=True)
        want = [("fast.pf.com.", "A", "192.0.2.1")]

        def fast():
            hit = {}  # reply -> answer-cache hits counted while it was asked

            def ask():
                before = self.answer_hits(res)
                r = res.udp("fast.pf.com")
                hit[id(r)] = self.answer_hits(res) - before
                return r
            trigger = self.prefetch_scenario(res, ask, "fast.pf.com.", want)
            self.assertEqual(hit[id(trigger)], 1,
                             "the query that started the prefetch was not answered by "
                             "the fast path: this test no longer covers it")

        def prefetch_off():
            owant = [("off.pf.com.", "A", "192.0.2.3")]
            m0 = self.prefetch_metrics(off)
            t0 = time.monotonic()
            r = off.udp("off.pf.com")
            self.assertResolved(r)
            self.assertEqual(records(r), owant)
            self.assertEqual(self.count("off.pf.com."), 1)
            what, r, in_window = self.watch(lambda: off.udp("off.pf.com"), "off.pf.com.",
                                            owant, t0, TTL)
            self.assertEqual(what, "replaced", "--prefetch off prefetched")
            self.assertTrue(in_window and min(in_window) <= 1,
                            "never asked in the last 10 %% of the TTL: %r" % in_window)
            self.assertEqual(self.count("off.pf.com."), 2,
                             "the question after expiry went upstream once")
            self.assertGreaterEqual(min_ttl(r), TTL - 1)
            self.assertEqual(self.prefetch_metrics(off)["started"], m0["started"])

        in_parallel(fast, prefetch_off)

    def test_slow_path_prefetch(self):
        """TCP: never answered from the answer cache, so each query takes
        the full path and reads the RRset cache."""
        res = self.resolver
        hits = self.answer_hits(res)
        self.prefetch_scenario(res, lambda: res.tcp("slow.pf.com"), "slow.pf.com.",
                               [("slow.pf.com.", "A", "192.0.2.2")])
        self.assertEqual(self.answer_hits(res) - hits, 0,
                         "TCP queries were answered from the answer cache: "
                         "this test no longer covers the full path")

    def test_chain_prefetch_refreshes_the_cname(self):
        """CNAME TTL 10 to a target with TTL 3600: the CNAME is the record
        near expiry; it is refreshed, the target is not asked again."""
        res = self.resolver
        want = [("chain.pf.com.", "CNAME", "long.tgt.com."),
                ("long.tgt.com.", "A", "192.0.2.5")]
        self.prefetch_scenario(res, lambda: res.udp("chain.pf.com"), "chain.pf.com.", want,
                               other=("long.tgt.com.", 4))
        r = res.udp("chain.pf.com")
        self.assertChain(r, ["chain.pf.com", "long.tgt.com"], "A", ["192.0.2.5"])

    def test_short_ttl_never_prefetched(self):
        res = self.resolver
        want = [("short.pf.com.", "A", "192.0.2.4")]
        m0 = self.prefetch_metrics(res)
        t0 = time.monotonic()
        r = res.udp("short.pf.com")
        self.assertResolved(r)
        self.assertEqual(records(r), want)
        self.assertEqual(self.count("short.pf.com."), 1)
        what, r, in_window = self.watch(lambda: res.udp("short.pf.com"), "short.pf.com.",
                                        want, t0, SHORT_TTL)
        self.assertEqual(what, "replaced", "a record with TTL %d s was prefetched" % SHORT_TTL)
        self.assertTrue(in_window and min(in_window) <= 1, in_window)
        self.assertEqual(self.count("short.pf.com."), 2)
        self.assertEqual(self.prefetch_metrics(res)["started"], m0["started"])

    def test_bad_values_rejected(self):
        base = ["--listen", "%s:5300" % resolver_addr(BASE, 9), "--root-hints", self.h.hints,
                "--upstream-port", str(PORT), "--no-ipv6", "--threads", "1"]
        for args, flag in ((["--prefetch", "maybe"], "--prefetch"),
                           (["--prefetch-max", "0"], "--prefetch-max"),
                           (["--prefetch-max", "10001"], "--prefetch-max")):
            with self.subTest(args=args):
                p = run_chaindns(base + args, timeout=5)
                self.assertNotEqual(p.returncode, 0, p.stderr)
                self.assertIn(flag, p.stderr)
                self.assertIn(args[1], p.stderr)
        # The good values start (and the config-file keys are known).
        conf = os.path.join(self.tmpdir, "prefetch.yaml")
        with open(conf, "w") as f:
            f.write("prefetch: on\nprefetch-max: 10000\n")
        r = self.start_resolver(["--config", conf], n=3)
        self.assertEqual(records(r.udp("check.pf.com")), [("check.pf.com.", "A", "192.0.2.6")])


if __name__ == "__main__":
    main()
