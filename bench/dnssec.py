#!/usr/bin/python3
"""CPU per validated query, chaindns beside Unbound, both validating from the
same signed loopback hierarchy in one run: a signed root (its DS the only
trust anchor), a signed TLD `sec.` and many signed second-level zones
(ECDSAP256SHA256, and a few RSASHA256), served by NSD on 127.53.245.x port
53; chaindns on 127.54.245.1:5300, Unbound on 127.54.245.2:5300, each with
one worker thread pinned to CPU 0, this client on CPU 1.

Rows, each a batch of DO=1 queries sent one at a time:
  cold        www.eNNN.sec. A, one per ECDSA zone never visited: the
              resolver fetches and validates the zone's DS (from the sec.
              referral), its DNSKEY RRset (against the DS) and the answer
              (root and sec. keys already validated by a warm-up query).
  cold RSA    the same, www.rNNN.sec. in the RSASHA256 zones.
  warm zone   w1.eNNN.sec. A: a new name in a zone validated by the cold
              row: one upstream query, the answer's RRSIG verified.
  cached      www.eNNN.sec. A again: answered from cache, nothing verified.

CPU: the on-CPU time of every thread of the resolver's process
(/proc/PID/task/*/schedstat, nanoseconds; /proc/PID/stat's utime+stime are
in 10 ms ticks, too coarse for batches of ~100 queries) before and after each
batch, divided by the queries. Upstream queries: UDP datagrams and TCP SYNs to
127.53.245.x:53 seen on `lo` (AF_PACKET), by source address (Unbound sends
from its own 127.54.245.2, chaindns from the rest), and chaindns's own
/metrics counter beside it. Every answer must be NOERROR with AD=1, its A
record as published and its RRSIG: anything else fails the run (after the
table, with every bad answer listed).

Instructions (callgrind, repeatable where CPU time on a small VM is not):
each resolver under `valgrind --tool=callgrind`, fresh, for a run of LO cold
queries and runs of HI cold, HI cold + HI warm, HI cold + HI warm + HI
cached; a row's cost per query is the difference of two runs divided by the
queries between them, so start-up, priming and shutdown cancel out.

Needs root (the authorities listen on port 53, the only port Unbound asks;
the capture on lo needs it too).

    /usr/bin/python3 bench/dnssec.py [--zones 80] [--rsa-zones 20]
        [--callgrind-lo 10] [--callgrind-hi 40] [--skip-callgrind]
        [--binary PATH]   (default $CHAINDNS_BIN, else build-release/chaindns)
"""

import argparse
import collections
import os
import platform
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)

import dns.flags  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

import harness  # noqa: E402
from harness import Hierarchy, answers, metric, parse_metrics, udp  # noqa: E402
from peers import ChaindnsPeer, UnboundPeer  # noqa: E402

BASE = 245
ROOT, TLD = 1, 2
SLD_SERVERS = (3, 4, 5, 6)      # the second-level zones, spread over four NSDs
TLD_NAME = "sec."
METRICS_PORT = 5399
QUERY_TIMEOUT = 5.0             # per query
RESOLVER_CPU, CLIENT_CPU = 0, 1


# ---- the hierarchy -----------------------------------------------------------

def ecdsa_zone(i):
    return "e%03d.%s" % (i, TLD_NAME)


def rsa_zone(i):
    return "r%03d.%s" % (i, TLD_NAME)


def build(tmpdir, n_ecdsa, n_rsa):
    h = Hierarchy(BASE, port=53, tmpdir=tmpdir)
    h.zone(".", [ROOT], signed=True)
    h.zone(TLD_NAME, [TLD], signed=True)
    h.zone("warm." + TLD_NAME, [SLD_SERVERS[0]], ["www 3600 A 198.18.0.1"], signed=True)
    for i in range(n_ecdsa):
        h.zone(ecdsa_zone(i), [SLD_SERVERS[i % len(SLD_SERVERS)]],
               ["www 3600 A 198.18.1.%d" % (i + 1), "w1 3600 A 198.18.2.%d" % (i + 1)],
               signed=True)
    for i in range(n_rsa):
        h.zone(rsa_zone(i), [SLD_SERVERS[i % len(SLD_SERVERS)]],
               ["www 3600 A 198.18.3.%d" % (i + 1)], signed=True, algorithm="RSASHA256")
    return h


def rows(n_ecdsa, n_rsa):
    """[(row label, [(qname, expected address)])] in the order they run."""
    return [
        ("cold, ECDSAP256SHA256",
         [("www." + ecdsa_zone(i), "198.18.1.%d" % (i + 1)) for i in range(n_ecdsa)]),
        ("cold, RSASHA256",
         [("www." + rsa_zone(i), "198.18.3.%d" % (i + 1)) for i in range(n_rsa)]),
        ("warm zone (new name)",
         [("w1." + ecdsa_zone(i), "198.18.2.%d" % (i + 1)) for i in range(n_ecdsa)]),
        ("cached (repeat)",
         [("www." + ecdsa_zone(i), "198.18.1.%d" % (i + 1)) for i in range(n_ecdsa)]),
    ]


# ---- the resolvers -------------------------------------------------------------

def chaindns_peer(tmpdir, h, binary, metrics=True):
    extra = ["--trust-anchor-file", h.trust_anchor, "--prefetch", "off"]
    if metrics:
        extra += ["--metrics", "%s:%d" % (harness.resolver_addr(BASE, 1), METRICS_PORT)]
    return ChaindnsPeer(BASE, 1, tmpdir, h.hints, binary, cache_mb=64, extra=extra,
                        unsigned_root=False)


class ValidatingUnbound(UnboundPeer):
    """Debian's Unbound validating from the hierarchy's root DS, sending its
    upstream queries from its own address (so they can be told apart);
    optionally under callgrind."""

    def __init__(self, tmpdir, h, callgrind_out=None):
        self.out_addr = harness.resolver_addr(BASE, 2)
        super().__init__(BASE, 2, tmpdir, h.hints, cache_mb=64, extra=[
            'module-config: "validator iterator"',
            'trust-anchor-file: "%s"' % h.trust_anchor,
            "outgoing-interface: %s" % self.out_addr,
            "trust-anchor-signaling: no",
            "root-key-sentinel: no",
            "val-log-level: 0",
        ])
        self.callgrind_out = callgrind_out

    def start(self):
        argv = ["unbound", "-d", "-c", self.conf]
        if self.callgrind_out:
            argv = ["valgrind", "--tool=callgrind",
                    "--callgrind-out-file=%s" % self.callgrind_out] + argv
        self._spawn(argv)
        return self


def cpu_ns(pid):
    """On-CPU nanoseconds of every live thread of pid."""
    total = 0
    d = "/proc/%d/task" % pid
    for tid in os.listdir(d):
        try:
            with open(os.path.join(d, tid, "schedstat")) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass   # a thread that just exited
    return total


def chaindns_metrics(peer):
    url = "http://%s:%d/metrics" % (peer.addr, METRICS_PORT)
    with urllib.request.urlopen(url, timeout=5) as r:
        vals = parse_metrics(r.read().decode())
    up = sum(v for (name, _), v in vals.items() if name == "chaindns_upstream_queries_total")
    states = {s: metric(vals, "chaindns_dnssec_answers_total", state=s)
              for s in ("secure", "insecure", "bogus", "indeterminate")}
    return up, states


# ---- upstream queries, seen on lo --------------------------------------------------

class Capture(threading.Thread):
    """Counts queries to the authorities (127.53.BASE.x, UDP datagrams and TCP
    SYNs to port 53) by source address, from an AF_PACKET socket on lo. On
    lo every packet is seen twice (outgoing, then received): only the
    received copy (PACKET_HOST) counts."""

    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.1)
        self.counts = collections.Counter()
        self.log = []     # (monotonic time, source, qname, qtype) of UDP queries
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.prefix = bytes([127, 53, BASE])

    def run(self):
        while not self.done.is_set():
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            if addr[2] != socket.PACKET_HOST or len(data) < 14 + 20 + 4:
                continue
            ip = data[14:]
            if ip[0] >> 4 != 4 or ip[16:19] != self.prefix:
                continue
            l4 = ip[(ip[0] & 15) * 4:]
            if struct.unpack_from("!H", l4, 2)[0] != 53:
                continue
            if ip[9] == 17 or (ip[9] == 6 and len(l4) > 13 and l4[13] & 0x12 == 0x02):
                src = socket.inet_ntoa(ip[12:16])
                q = question(l4[8:]) if ip[9] == 17 else ("(tcp)", "")
                with self.lock:
                    self.counts[src] += 1
                    self.log.append((time.monotonic(), src) + q)

    def snapshot(self):
        with self.lock:
            return dict(self.counts)

    def stop(self):
        self.done.set()
        self.join(2)
        self.sock.close()


def question(msg):
    """(qname, qtype) of a DNS message's first question, or ('?', '?')."""
    try:
        labels, i = [], 12
        while msg[i]:
            labels.append(msg[i + 1:i + 1 + msg[i]].decode("ascii", "replace").lower())
            i += 1 + msg[i]
        return ".".join(labels) + ".", dns.rdatatype.to_text(struct.unpack_from("!H", msg, i + 1)[0])
    except (IndexError, struct.error):
        return "?", "?"


def upstream_of(name, unbound_addr, before, after):
    """Queries one resolver sent between two snapshots."""
    n = 0
    for src, c in after.items():
        if (src == unbound_addr) == (name == "unbound"):
            n += c - before.get(src, 0)
    return n


# ---- queries ---------------------------------------------------------------------------

def ask(peer, qname, want, failures, label):
    """One DO=1 query; returns its latency (s). A bad answer (not NOERROR,
    no AD, wrong data, no RRSIG) or a timeout is appended to failures."""
    t0 = time.monotonic()
    try:
        m = udp(peer.server_addr, qname, "A", timeout=QUERY_TIMEOUT, dnssec=True)
    except Exception as e:
        failures.append("%s: %s %s A: %s" % (peer.name, label, qname, e.__class__.__name__))
        return time.monotonic() - t0
    dt = time.monotonic() - t0
    got = [a[2] for a in answers(m) if a[1] == "A"]
    problems = []
    if m.rcode() != dns.rcode.NOERROR:
        problems.append("rcode %s" % dns.rcode.to_text(m.rcode()))
    if not m.flags & dns.flags.AD:
        problems.append("AD=0")
    if got != [want]:
        problems.append("A %s, want %s" % (got, want))
    if not any(r.rdtype == dns.rdatatype.RRSIG for r in m.answer):
        problems.append("no RRSIG in the answer")
    if problems:
        failures.append("%s: %s %s A: %s\n%s" % (peer.name, label, qname, ", ".join(problems),
                                                 m))
    return dt


def batch(peer, cap, unbound_addr, label, queries, failures):
    """Every query of the batch in turn; returns the row's figures for peer."""
    is_cd = peer.name == "chaindns"
    if is_cd:
        m_up0, m_st0 = chaindns_metrics(peer)
    snap0 = cap.snapshot()
    c0 = cpu_ns(peer.pid)
    lat, marks = [], []
    for q, want in queries:
        marks.append(len(cap.log))
        lat.append(ask(peer, q, want, failures, label))
    c1 = cpu_ns(peer.pid)
    time.sleep(0.1)          # the last packets reach the capture
    snap1 = cap.snapshot()
    mine = [e for e in cap.log[marks[0]:marks[1] if len(marks) > 1 else None]
            if (e[1] == unbound_addr) == (peer.name == "unbound")]
    r = dict(n=len(queries), cpu_us=(c1 - c0) / 1000.0 / len(queries),
             up=upstream_of(peer.name, unbound_addr, snap0, snap1) / len(queries),
             p50_ms=statistics.median(lat) * 1000,
             first=(queries[0][0], ["%s %s" % (e[2], e[3]) for e in mine]))
    if is_cd:
        m_up1, m_st1 = chaindns_metrics(peer)
        r["metrics_up"] = (m_up1 - m_up0) / len(queries)
        r["states"] = {s: int(m_st1[s] - m_st0[s]) for s in m_st1 if m_st1[s] != m_st0[s]}
    return r


def warm_up(peer, failures):
    ask(peer, "www.warm." + TLD_NAME, "198.18.0.1", failures, "warm-up")


def measure(h, tmpdir, binary, row_list):
    cap = Capture()
    cap.start()
    res = {}
    peers = []
    try:
        cd = chaindns_peer(os.path.join(tmpdir, "cpu"), h, binary)
        ub = ValidatingUnbound(os.path.join(tmpdir, "cpu"), h)
        for p in (cd, ub):
            p.start()
            peers.append(p)
            p.pin(RESOLVER_CPU)
        failures = []
        for p in peers:
            warm_up(p, failures)
        if failures:
            raise RuntimeError("warm-up failed:\n" + "\n".join(failures))
        time.sleep(0.3)
        for i, (label, queries) in enumerate(row_list):
            if not queries:
                continue
            order = peers if i % 2 == 0 else peers[::-1]   # neither always goes first
            for p in order:
                res[(label, p.name)] = batch(p, cap, ub.out_addr, label, queries, failures)
                sys.stderr.write("  %-22s %-8s %7.1f us CPU/query, %.2f upstream/query\n" % (
                    label, p.name, res[(label, p.name)]["cpu_us"], res[(label, p.name)]["up"]))
        idle0 = {p.name: cpu_ns(p.pid) for p in peers}
        time.sleep(1.0)
        idle = {p.name: (cpu_ns(p.pid) - idle0[p.name]) / 1000.0 for p in peers}
    finally:
        for p in peers:
            p.stop()
        cap.stop()
    return res, failures, idle


def combine(runs):
    """The rounds' figures: the median of each, every failure, answers by
    state summed; CPU also as the rounds' range."""
    res, failures, idle = {}, [], {}
    for _, f, _ in runs:
        failures += f
    for key in runs[0][0]:
        rs = [r[0][key] for r in runs]
        c = dict(rs[0])
        for k in ("cpu_us", "up", "p50_ms", "metrics_up"):
            if k in c:
                c[k] = statistics.median(r[k] for r in rs)
        c["cpu_range"] = (min(r["cpu_us"] for r in rs), max(r["cpu_us"] for r in rs))
        c["up_range"] = (min(r["up"] for r in rs), max(r["up"] for r in rs))
        if "states" in c:
            c["states"] = collections.Counter()
            for r in rs:
                c["states"].update(r["states"])
        res[key] = c
    for name in runs[0][2]:
        idle[name] = statistics.median(r[2][name] for r in runs)
    return res, failures, idle


# ---- callgrind ---------------------------------------------------------------------

def callgrind_ir(name, h, tmpdir, binary, steps, tag):
    """Instructions of a whole run of `name` under callgrind: start, warm-up,
    every batch of `steps` in turn, stop."""
    d = os.path.join(tmpdir, "cg-%s-%s" % (name, tag))
    os.makedirs(d)
    out = os.path.join(d, "callgrind.out")
    if name == "chaindns":
        wrapper = os.path.join(d, "vg-chaindns.sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s "
                    "\"$@\"\n" % (out, binary))
        os.chmod(wrapper, 0o755)
        p = chaindns_peer(d, h, wrapper, metrics=False)
    else:
        p = ValidatingUnbound(d, h, callgrind_out=out)
    failures = []
    p.start()
    try:
        warm_up(p, failures)
        for label, queries in steps:
            for q, want in queries:
                ask(p, q, want, failures, label + " (callgrind)")
    finally:
        rc = harness._terminate(p.proc, 120.0, group=True)
        p.err.close()
    if failures:
        raise RuntimeError("under callgrind:\n" + "\n".join(failures))
    if not os.path.exists(out):
        raise RuntimeError("%s under callgrind left no output (exit %s): %s" % (
            name, rc, open(p.err.name).read()[-2000:]))
    with open(out) as f:
        m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M)
    return int(m.group(1))


def callgrind(h, tmpdir, binary, lo, hi):
    """{(row, resolver): instructions per query} for the cold, warm and cached
    rows (ECDSA zones)."""
    r = rows(hi, 0)
    cold, warm, cached = r[0], r[2], r[3]
    out = {}
    for name in ("chaindns", "unbound"):
        ir = {}
        ir["lo"] = callgrind_ir(name, h, tmpdir, binary,
                                [(cold[0], cold[1][:lo])], "lo")
        ir["cold"] = callgrind_ir(name, h, tmpdir, binary, [cold], "cold")
        ir["warm"] = callgrind_ir(name, h, tmpdir, binary, [cold, warm], "warm")
        ir["cached"] = callgrind_ir(name, h, tmpdir, binary, [cold, warm, cached], "cached")
        out[(cold[0], name)] = (ir["cold"] - ir["lo"]) / (hi - lo)
        out[(warm[0], name)] = (ir["warm"] - ir["cold"]) / hi
        out[(cached[0], name)] = (ir["cached"] - ir["warm"]) / hi
        sys.stderr.write("  callgrind %s: %s\n" % (name, ", ".join(
            "%s %.0f" % (k.split(",")[0].split(" (")[0], v) for (k, n), v in out.items()
            if n == name)))
    return out


# ---- running it -------------------------------------------------------------------------

def version(cmd, pattern):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except Exception:
        return "?"
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "?"


def report(row_list, res, idle, ir, args):
    def ratio(a, b):
        return "%.2f" % (a / b) if b else "-"
    print("median of %d rounds, fresh resolvers each; CPU: us per query, [min-max of the "
          "rounds]; Ir: instructions per query" % args.rounds)
    print("(callgrind%s); up: upstream queries per query; p50: median answer latency, ms\n" % (
        ", cold from runs of %d and %d zones" % (args.callgrind_lo, args.callgrind_hi)
        if ir else " skipped"))
    print("%-22s %4s | %-20s %-20s %5s | %10s %10s %5s | %-9s | %-11s" % (
        "", "n", "chaindns CPU", "Unbound CPU", "ratio", "chaindns Ir", "Unbound Ir", "ratio",
        "up cd/ub", "p50 cd/ub"))
    for label, queries in row_list:
        if not queries:
            continue
        c, u = res[(label, "chaindns")], res[(label, "unbound")]
        cell = lambda r: "%7.1f [%.0f-%.0f]" % (r["cpu_us"], r["cpu_range"][0], r["cpu_range"][1])
        if ir and (label, "chaindns") in ir:
            ci, ui = ir[(label, "chaindns")], ir[(label, "unbound")]
            irs = "%10.0f %10.0f %5s" % (ci, ui, ratio(ci, ui))
        else:
            irs = "%10s %10s %5s" % ("-", "-", "-")
        print("%-22s %4d | %-20s %-20s %5s | %s | %4.2f/%-4.2f | %5.2f/%-5.2f" % (
            label, c["n"], cell(c), cell(u), ratio(c["cpu_us"], u["cpu_us"]), irs,
            c["up"], u["up"], c["p50_ms"], u["p50_ms"]))
    print("\nchaindns's own count (/metrics), upstream queries per query, and its answers by "
          "DNSSEC state (all rounds):")
    for label, queries in row_list:
        if queries:
            c = res[(label, "chaindns")]
            print("  %-22s %.2f  %s" % (label, c["metrics_up"], " ".join(
                "%s=%d" % kv for kv in sorted(c["states"].items())) or "-"))
    print("idle CPU over 1 s after the batches: chaindns %.0f us, Unbound %.0f us" % (
        idle["chaindns"], idle["unbound"]))
    if args.show_queries:
        print("\nupstream queries of the first query of each row (last round):")
        for label, queries in row_list:
            for name in ("chaindns", "unbound"):
                if (label, name) in res:
                    q, ups = res[(label, name)]["first"]
                    print("  %-22s %-8s %s: %s" % (label, name, q, ", ".join(ups) or "-"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zones", type=int, default=80, help="ECDSAP256SHA256 zones (cold row)")
    ap.add_argument("--rsa-zones", type=int, default=20, help="RSASHA256 zones (0: no row)")
    ap.add_argument("--callgrind-lo", type=int, default=10)
    ap.add_argument("--callgrind-hi", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds with fresh resolvers (medians reported)")
    ap.add_argument("--skip-callgrind", action="store_true")
    ap.add_argument("--show-queries", action="store_true",
                    help="print the upstream queries of each row's first query")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (zones, logs, callgrind files)")
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("dnssec.py: needs root (the authorities listen on port 53)")
    if not 1 <= args.zones <= 250 or not 0 <= args.rsa_zones <= 250:
        sys.exit("dnssec.py: --zones 1..250, --rsa-zones 0..250")
    if not args.skip_callgrind and not 0 < args.callgrind_lo < args.callgrind_hi <= args.zones:
        sys.exit("dnssec.py: need 0 < --callgrind-lo < --callgrind-hi <= --zones")
    tools = ["nsd", "unbound", "ldns-signzone", "taskset"] + \
        ([] if args.skip_callgrind else ["valgrind"])
    for tool in tools:
        if not shutil.which(tool):
            sys.exit("dnssec.py: %s is missing (bench/run.sh installs it)" % tool)
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit("dnssec.py: no chaindns binary at %s" % binary)
    os.sched_setaffinity(0, {CLIENT_CPU})
    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-dnssec-")
    t_begin = time.monotonic()
    h = build(tmpdir, args.zones, args.rsa_zones)
    try:
        sys.stderr.write("signing %d zones and starting NSD ...\n" % len(h.zones))
        h.start(timeout=60)
        t_signed = time.monotonic()
        row_list = rows(args.zones, args.rsa_zones)
        runs = []
        for rnd in range(args.rounds):
            sys.stderr.write("round %d of %d (fresh resolvers)\n" % (rnd + 1, args.rounds))
            runs.append(measure(h, os.path.join(tmpdir, "round%d" % rnd), binary, row_list))
        res, failures, idle = combine(runs)
        ir = None
        if not args.skip_callgrind and not failures:
            ir = callgrind(h, tmpdir, binary, args.callgrind_lo, args.callgrind_hi)
        print("\nchaindns DNSSEC bench, %s, %s, %d CPUs, kernel %s" % (
            time.strftime("%Y-%m-%d %H:%M"), platform.node(), os.cpu_count(),
            platform.release()))
        print("chaindns %s (%s), Unbound %s; one worker thread each on CPU %d, DO=1 queries "
              "one at a time" % (version([binary, "--version"], r"chaindns (\S+)"), binary,
                                 version(["unbound", "-V"], r"Version (\S+)"), RESOLVER_CPU))
        print("signed root + sec. + %d ECDSAP256SHA256 and %d RSASHA256 second-level zones "
              "(NSD, 127.53.%d.x:53; signing took %.0f s)\n" % (
                  args.zones, args.rsa_zones, BASE, t_signed - t_begin))
        report(row_list, res, idle, ir, args)
        print("\n(run took %.0f s)" % (time.monotonic() - t_begin))
        if failures:
            print("\nFAILED: %d answers were not validated answers (NOERROR, AD=1, the data, "
                  "its RRSIG):" % len(failures))
            for f in failures[:30]:
                print("  " + f.replace("\n", "\n    "))
            sys.exit(1)
    finally:
        h.stop()
        if args.keep:
            sys.stderr.write("kept %s\n" % tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
