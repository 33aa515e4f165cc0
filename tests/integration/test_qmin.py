#!/usr/bin/python3
"""QNAME minimisation (RFC 9156), --qname-minimisation relaxed|strict|off
(default relaxed). Every authoritative server here is badauth, so the query
logs show exactly what the resolver asked: a deep name below one zone asked
one label at a time (type A) and then in full with the real type, the root
only ever seeing one label; with `off` only the full name; a zone cut found
by minimisation followed, the child asked from its own apex; the relaxed
fallback to the full name after an NXDOMAIN for an empty non-terminal
(`ent_nxdomain`) or a REFUSED, strict mode ending with NXDOMAIN; at most 10
minimised queries for a name of 20 labels; the trace (JSON and `chaindns
trace`) marking minimised queries; the minimised/fallback counters; a known
empty non-terminal (cached NODATA) stepped over for a sibling name."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.name  # noqa: E402

import harness  # noqa: E402
from harness import (IntegrationTest, answers, main, metric,  # noqa: E402
                     resolver_bin, run_chaindns, stats_delta)

BASE = 35
COUNTER = "chaindns_qname_minimisation_total"
# 20 labels below example.: l0.l1. ... .l19.example.
LONG = ".".join("l%d" % i for i in range(20)) + ".example."


def nlabels(name):
    return len(dns.name.from_text(name).labels) - 1  # without the root label


def on_path(qname, full, apex):
    """qname is the full name or one of its ancestors, strictly below apex."""
    q = dns.name.from_text(qname)
    return (dns.name.from_text(full).is_subdomain(q) and q.is_subdomain(dns.name.from_text(apex))
            and q != dns.name.from_text(apex))


def dedup(seq):
    """Consecutive repeats (a retransmission) collapsed."""
    out = []
    for x in seq:
        if not out or out[-1] != x:
            out.append(x)
    return out


class QnameMinimisation(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.badauth(1)  # the root: its log shows what it was asked
        h.badauth(2)
        h.zone("example.", [2], [
            # (a) deep name without cuts: d.example. .. b.c.d.example. are
            # empty non-terminals
            "a.b.c.d 300 TXT \"deep\"",
            "a.b.c.d 300 A 192.0.2.1",
            # (b) the same shape for the resolver with minimisation off
            "p.q.r 300 TXT \"off\"",
            # (e) 20 labels below the zone
            LONG + " 300 TXT \"long\"",
            # (f) trace, JSON and text
            "t1.t2.t3 300 A 192.0.2.3",
            "u1.u2.u3 300 A 192.0.2.4",
            # (g) counters
            "g1.g2.g3 300 A 192.0.2.5",
            # (h) two siblings under the same two empty non-terminals
            "h1.e2.e1 300 TXT \"h1\"",
            "h2.e2.e1 300 TXT \"h2\"",
        ])
        # (c) a cut found by minimisation: z.example. on another server
        h.badauth(3)
        h.zone("z.example.", [3], ["w.v.u 300 TXT \"below the cut\""])
        # (d) a server answering NXDOMAIN for its empty non-terminals
        h.badauth(4, ent_nxdomain=True)
        h.zone("brk.", [4], ["a.b.c 300 TXT \"relaxed\"",
                             "x.y.z 300 TXT \"strict\""])
        # (d) a server refusing one minimised name
        h.badauth(5, rcode_names={"n.ref.": "REFUSED"})
        h.zone("ref.", [5], ["m.n 300 TXT \"refused then full\""])

    # -- helpers -------------------------------------------------------------

    def mark(self, n):
        return len(self.h.server(n).queries())

    def since(self, n, mark):
        return self.h.server(n).queries()[mark:]

    def path(self, n, mark, full, apex):
        """(qname, qtype) the server n was asked since mark for full or its
        ancestors below apex, in order."""
        return dedup([(e["qname"], e["qtype"]) for e in self.since(n, mark)
                      if on_path(e["qname"], full, apex)])

    def txt(self, msg):
        return [a[2] for a in answers(msg) if a[1] == "TXT"]

    # -- (a) one label at a time ----------------------------------------------

    def test_deep_name_asked_one_label_at_a_time(self):
        res = self.start_resolver(n=2)  # a cold cache: the root is asked too
        root, ex = self.mark(1), self.mark(2)
        r = res.udp("a.b.c.d.example", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"deep"'], r)
        self.assertEqual(self.path(2, ex, "a.b.c.d.example.", "example."),
                         [("d.example.", "A"), ("c.d.example.", "A"),
                          ("b.c.d.example.", "A"), ("a.b.c.d.example.", "TXT")],
                         self.since(2, ex))
        # The root was asked for example. (one label, type A), never more.
        seen = self.since(1, root)
        self.assertIn(("example.", "A"), [(e["qname"], e["qtype"]) for e in seen], seen)
        self.assertEqual([e for e in seen if nlabels(e["qname"]) > 1], [], seen)
        # Only the full name is asked with the real type.
        self.assertEqual([e["qname"] for e in self.since(2, ex) if e["qtype"] == "TXT"],
                         ["a.b.c.d.example."])

    # -- (b) off ----------------------------------------------------------------

    def test_off_sends_only_the_full_name(self):
        res = self.start_resolver(["--qname-minimisation", "off"], n=3, metrics=True)
        root, ex = self.mark(1), self.mark(2)
        r = res.udp("p.q.r.example", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"off"'], r)
        self.assertEqual(self.path(2, ex, "p.q.r.example.", "example."),
                         [("p.q.r.example.", "TXT")], self.since(2, ex))
        self.assertIn(("p.q.r.example.", "TXT"),
                      [(e["qname"], e["qtype"]) for e in self.since(1, root)])
        self.assertNotIn(("example.", "A"),
                         [(e["qname"], e["qtype"]) for e in self.since(1, root)])
        self.assertEqual(metric(res.metrics(), COUNTER, event="minimised"), 0)

    # -- (c) a zone cut found on the way -----------------------------------------

    def test_cut_found_by_minimisation(self):
        ex, child = self.mark(2), self.mark(3)
        r = self.resolver.udp("w.v.u.z.example", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"below the cut"'], r)
        # The parent is asked for z.example. only: its referral ends the
        # minimisation there, and nothing deeper goes to the parent.
        self.assertEqual(self.path(2, ex, "w.v.u.z.example.", "example."),
                         [("z.example.", "A")], self.since(2, ex))
        # The child is asked from its own apex, one label at a time.
        self.assertEqual(self.path(3, child, "w.v.u.z.example.", "z.example."),
                         [("u.z.example.", "A"), ("v.u.z.example.", "A"),
                          ("w.v.u.z.example.", "TXT")], self.since(3, child))

    # -- (d) relaxed fallback, strict ----------------------------------------------

    def test_relaxed_falls_back_after_nxdomain_for_an_ent(self):
        before = self.resolver.metrics()
        m = self.mark(4)
        r = self.resolver.udp("a.b.c.brk", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"relaxed"'], r)
        # c.brk. answered NXDOMAIN; the full name went next, to the same zone.
        self.assertEqual(self.path(4, m, "a.b.c.brk.", "brk."),
                         [("c.brk.", "A"), ("a.b.c.brk.", "TXT")], self.since(4, m))
        d = stats_delta(before, self.resolver.metrics())
        self.assertGreaterEqual(metric(d, COUNTER, event="fallback"), 1, d)

    def test_strict_ends_with_nxdomain(self):
        res = self.start_resolver(["--qname-minimisation", "strict"], n=4)
        m = self.mark(4)
        r = res.udp("x.y.z.brk", "TXT", timeout=5)
        self.assertRcode(r, "NXDOMAIN")
        self.assertEqual(self.path(4, m, "x.y.z.brk.", "brk."),
                         [("z.brk.", "A")], self.since(4, m))
        self.assertEqual(self.h.server(4).count(qname="x.y.z.brk."), 0)

    def test_relaxed_falls_back_after_refused(self):
        before = self.resolver.metrics()
        m = self.mark(5)
        r = self.resolver.udp("m.n.ref", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"refused then full"'], r)
        self.assertEqual(self.path(5, m, "m.n.ref.", "ref.")[0], ("n.ref.", "A"),
                         self.since(5, m))
        self.assertEqual(self.path(5, m, "m.n.ref.", "ref.")[-1], ("m.n.ref.", "TXT"))
        self.assertEqual(self.h.server(5).count(qname="m.n.ref.", qtype="A"), 0)
        d = stats_delta(before, self.resolver.metrics())
        self.assertGreaterEqual(metric(d, COUNTER, event="fallback"), 1, d)

    # -- (e) bounded ---------------------------------------------------------------

    def test_at_most_ten_minimised_queries(self):
        m = self.mark(2)
        r = self.resolver.udp(LONG, "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"long"'], r)
        asked = self.path(2, m, LONG, "example.")
        minimised, full = asked[:-1], asked[-1]
        self.assertEqual(full, (LONG, "TXT"), asked)
        self.assertEqual(sum(1 for q in asked if q[0] == LONG), 1, asked)
        self.assertLessEqual(len(minimised), 10, asked)
        self.assertGreaterEqual(len(minimised), 3, asked)
        self.assertTrue(all(t == "A" for _, t in minimised), asked)
        self.assertEqual(minimised[0][0], "l19.example.", asked)  # one label first
        depths = [nlabels(q) for q, _ in minimised]
        self.assertEqual(depths, sorted(set(depths)), "each step goes deeper: %s" % asked)

    # -- (f) the trace --------------------------------------------------------------

    def test_trace_json_marks_minimised_queries(self):
        status, body = self.resolver.http("/trace?name=t1.t2.t3.example&type=A&nocache=1")
        self.assertEqual(status, 200, body)
        t = json.loads(body)
        self.assertEqual(t["rcode"], "NOERROR", t)
        self.assertEqual(t["answer"][-1].split()[-1], "192.0.2.3", t)
        qs = t["queries"]
        norm = [dict(q, qname=q["qname"].lower().rstrip(".") + ".") for q in qs]
        mins = [q for q in norm if q.get("minimised") is True]
        names = [q["qname"] for q in mins]
        self.assertIn("t3.example.", names, qs)
        self.assertIn("t2.t3.example.", names, qs)
        for q in mins:
            self.assertEqual(q["qtype"], "A", q)
            self.assertNotEqual(q["qname"], "t1.t2.t3.example.", q)
            self.assertTrue(on_path(q["qname"], "t1.t2.t3.example.", "."), q)
        full = [q for q in norm if q["qname"] == "t1.t2.t3.example."]
        self.assertTrue(full, qs)
        self.assertFalse(any(q.get("minimised") for q in full), qs)
        self.assertLess(names.index("t3.example."), names.index("t2.t3.example."))
        self.assertLess(norm.index(mins[-1]), norm.index(full[0]))

    def test_trace_command_marks_minimised_queries(self):
        p = subprocess.run([resolver_bin(), "trace", "u1.u2.u3.example", "A", "--root-hints",
                            self.h.hints, "--upstream-port", str(self.h.port), "--no-ipv6"] + harness.UNSIGNED_ROOT_ARGS,
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # The question column: NAME TYPE [(tcp)] [(minimised)].
        marked = [l.split() for l in p.stdout.splitlines() if "(minimised)" in l]
        self.assertTrue(any("u3.example." in l for l in marked), p.stdout)
        self.assertTrue(any("u2.u3.example." in l for l in marked), p.stdout)
        self.assertFalse(any("u1.u2.u3.example." in l for l in marked), p.stdout)
        self.assertIn("u1.u2.u3.example.", p.stdout)

    # -- (g) counters ------------------------------------------------------------------

    def test_minimised_counter(self):
        before = self.resolver.metrics()
        m = self.mark(2)
        r = self.resolver.udp("g1.g2.g3.example", "A", timeout=5)
        self.assertResolved(r)
        d = stats_delta(before, self.resolver.metrics())
        asked = self.path(2, m, "g1.g2.g3.example.", "example.")
        self.assertEqual(asked[:2], [("g3.example.", "A"), ("g2.g3.example.", "A")], asked)
        self.assertGreaterEqual(metric(d, COUNTER, event="minimised"), 1, d)
        self.assertEqual(metric(d, COUNTER, event="fallback"), 0, d)

    # -- (h) a known empty non-terminal is stepped over ----------------------------------

    def test_cached_nodata_stepped_over(self):
        m = self.mark(2)
        r = self.resolver.udp("h1.e2.e1.example", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.path(2, m, "h1.e2.e1.example.", "example."),
                         [("e1.example.", "A"), ("e2.e1.example.", "A"),
                          ("h1.e2.e1.example.", "TXT")], self.since(2, m))
        m = self.mark(2)
        r = self.resolver.udp("h2.e2.e1.example", "TXT", timeout=5)
        self.assertResolved(r)
        self.assertEqual(self.txt(r), ['"h2"'], r)
        self.assertEqual([(e["qname"], e["qtype"]) for e in self.since(2, m)],
                         [("h2.e2.e1.example.", "TXT")])
        self.assertEqual(self.h.server(2).count(qname="e1.example."), 1)
        self.assertEqual(self.h.server(2).count(qname="e2.e1.example."), 1)

    # -- the option itself ------------------------------------------------------------------

    def test_option_values(self):
        p = run_chaindns(["--help"], timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--qname-minimisation", p.stdout)
        p = run_chaindns(["--qname-minimisation", "sometimes", "--root-hints", self.h.hints,
                          "--listen", "127.54.%d.9:5300" % BASE], timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--qname-minimisation:", p.stderr)
        self.assertIn("sometimes", p.stderr)

if __name__ == "__main__":
    main()
