#!/usr/bin/python3
"""QNAME minimisation and prefetch, chaindns beside Unbound, PowerDNS Recursor
and Knot Resolver, in one run, on one loopback hierarchy (127.53.244.x port
53, resolvers on 127.54.244.x:5300) where every authority is badauth.py,
which logs every query it receives, and answers DELAY_MS late (a nearby
authority's round trip), so round trips show in the latency.

  qmin      realistic deep names, each looked up cold: the resolver is
            started fresh for every lookup (its readiness probe, `. NS`,
            primes the root first), the name asked once, and everything
            the authorities received from then until they have been quiet
            for SETTLE_S is that lookup's cost. Per name: upstream queries,
            those of them that servers above the name's zone (the root,
            the TLDs, ip6.arpa, the RIR's zone) saw with more labels than
            they need (information leaked), and the median latency of
            --reps fresh lookups. Each resolver with minimisation as it
            ships (on, relaxed) and off.
  prefetch  a hot two-hop CNAME chain (first hop and final A with TTL
            TTL_S, the middle hop a day) asked --rate times a second for
            --seconds seconds, through three TTL expiries, every resolver
            at once, each on a chain of its own: answer latency (p50, p99,
            max), slow answers (ones that took at least one authority round
            trip) and how many of them were in flight while the resolver
            asked the authorities for the chain, and the upstream queries
            for the first hop, each either ahead of expiry (no client
            waiting: a prefetch) or cold (a client waited: a client-visible
            cold lookup), with the total upstream queries for the chain.
            Each resolver with prefetch on and off.

Fails (non-zero exit) when any answer is wrong, any lookup times out, or
more than MAX_LOST of the prefetch queries go unanswered. Needs root (the
authorities listen on port 53, the only port the peers ask).

    /usr/bin/python3 bench/resolution.py [--reps 3] [--seconds 35] [--rate 200]
        [--only chaindns,unbound] [--skip qmin|prefetch] [--show-queries]
"""

import argparse
import gc
import ipaddress
import os
import platform
import re
import selectors
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))
sys.path.insert(0, HERE)

import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rcode  # noqa: E402

from harness import Hierarchy, answers, make_query, udp  # noqa: E402
from peers import ChaindnsPeer, KresdPeer, PdnsPeer, UnboundPeer  # noqa: E402

BASE = 244
DELAY_MS = 5          # every authority answers this late
SETTLE_S = 0.3        # a lookup is over when the authorities were quiet this long
TTL_S = 10            # prefetch: first hop and final A
MAX_LOST = 0.001      # prefetch: unanswered queries tolerated (fraction)

# Authorities (host numbers on 127.53.244.x). All badauth.py.
ROOT, COM, NET, ORG, ARPA, IP6, RIR, EXAMPLE, CDN, EDGE, ISP = 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13

REV_ADDR = "2a02:6b8:0:1::53"       # 32 nibbles under the ISP's /32 zone
REV_NAME = ipaddress.ip_address(REV_ADDR).reverse_pointer + "."
ISP_ZONE = "8.b.6.0.2.0.a.2.ip6.arpa."
RIR_ZONE = "0.a.2.ip6.arpa."
DKIM = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP"
DMARC = "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"
STS = "v=STSv1; id=20260101T000000"

# (column, qname, qtype, expected answer [(owner, type, rdata)] in order)
NAMES = [
    ("DKIM TXT", "s1._domainkey.mail.example.com.", "TXT",
     [("s1._domainkey.mail.example.com.", "TXT", '"%s"' % DKIM)]),
    ("_dmarc TXT", "_dmarc.example.com.", "TXT",
     [("_dmarc.example.com.", "TXT", '"%s"' % DMARC)]),
    ("_mta-sts TXT", "_mta-sts.example.com.", "TXT",
     [("_mta-sts.example.com.", "TXT", '"%s"' % STS)]),
    ("mta-sts A", "mta-sts.example.com.", "A",
     [("mta-sts.example.com.", "A", "192.0.2.80")]),
    ("3-zone chain", "www.example.com.", "A",
     [("www.example.com.", "CNAME", "www.example.com.cdn.net."),
      ("www.example.com.cdn.net.", "CNAME", "e7.edge.org."),
      ("e7.edge.org.", "A", "198.51.100.7")]),
    ("ip6 PTR", REV_NAME, "PTR", [(REV_NAME, "PTR", "mta-sts.example.com.")]),
    ("6 below zone", "web1.rack4.row2.dc1.fra.eu.example.com.", "A",
     [("web1.rack4.row2.dc1.fra.eu.example.com.", "A", "192.0.2.61")]),
]


def hot_names(i):
    """The prefetch chain of configuration i: (first, middle, final, address)."""
    return ("hot%d.example.com." % i, "hot%d.example.com.cdn.net." % i, "e%d.edge.org." % (100 + i),
            "198.51.100.%d" % (100 + i))


def build(tmpdir, n_hot):
    h = Hierarchy(BASE, port=53, tmpdir=tmpdir)
    for n in (ROOT, COM, NET, ORG, ARPA, IP6, RIR, EXAMPLE, CDN, EDGE, ISP):
        h.badauth(n, delay_ms=DELAY_MS)
    h.zone("com.", [COM])
    h.zone("net.", [NET])
    h.zone("org.", [ORG])
    h.zone("arpa.", [ARPA])
    h.zone("ip6.arpa.", [IP6])
    h.zone(RIR_ZONE, [RIR])                               # the RIR's /12
    h.zone(ISP_ZONE, [ISP], ["%s 3600 PTR mta-sts.example.com." % REV_NAME])  # an ISP's /32
    ex = ["@ 3600 MX 10 mail", "mail 3600 A 192.0.2.25",
          's1._domainkey.mail 3600 TXT "%s"' % DKIM,
          '_dmarc 3600 TXT "%s"' % DMARC,
          '_mta-sts 3600 TXT "%s"' % STS,
          "mta-sts 3600 A 192.0.2.80",
          "www 3600 CNAME www.example.com.cdn.net.",
          "web1.rack4.row2.dc1.fra.eu 3600 A 192.0.2.61",
          "warm 3600 A 192.0.2.1"]
    cdn = ["www.example.com 3600 CNAME e7.edge.org.", "warm 3600 A 192.0.2.2"]
    edge = ["e7 3600 A 198.51.100.7", "warm 3600 A 192.0.2.3"]
    for i in range(n_hot):
        first, middle, final, addr = hot_names(i)
        ex.append("%s %d CNAME %s" % (first, TTL_S, middle))
        cdn.append("%s 86400 CNAME %s" % (middle, final))
        edge.append("%s %d A %s" % (final, TTL_S, addr))
    h.zone("example.com.", [EXAMPLE], ex)
    h.zone("cdn.net.", [CDN], cdn)
    h.zone("edge.org.", [EDGE], edge)
    return h


# ---- resolver configurations -------------------------------------------------------

class Config:
    """One resolver with one setting: label, peer class, its extra
    arguments or configuration lines."""

    def __init__(self, label, make, extra):
        self.label, self.make, self.extra = label, make, list(extra)
        self.resolver = label.split()[0]

    def peer(self, n, tmpdir, hints, binary):
        d = os.path.join(tmpdir, "run-%d-%s" % (n, time.monotonic_ns()))
        os.makedirs(d)
        if self.make is ChaindnsPeer:
            return ChaindnsPeer(BASE, n, d, hints, binary, cache_mb=64, extra=self.extra)
        if self.make is PdnsPeer:
            return PdnsPeer(BASE, n, d, hints, cache_entries=100000, extra=self.extra)
        return self.make(BASE, n, d, hints, cache_mb=64, extra=self.extra)


QMIN_CONFIGS = [
    Config("chaindns relaxed", ChaindnsPeer, ["--qname-minimisation", "relaxed"]),
    Config("chaindns off", ChaindnsPeer, ["--qname-minimisation", "off"]),
    Config("unbound relaxed", UnboundPeer, []),             # qname-minimisation: yes (default)
    Config("unbound off", UnboundPeer, ["qname-minimisation: no"]),
    Config("pdns-recursor on", PdnsPeer, []),               # qname-minimization=yes (default)
    Config("pdns-recursor off", PdnsPeer, ["qname-minimization=no"]),
    Config("knot-resolver on", KresdPeer, []),               # minimises by default
    Config("knot-resolver off", KresdPeer, ["option('NO_MINIMIZE', true)"]),
]

PREFETCH_CONFIGS = [
    Config("chaindns on", ChaindnsPeer, ["--prefetch", "on"]),
    Config("chaindns off", ChaindnsPeer, ["--prefetch", "off"]),
    Config("unbound yes", UnboundPeer, ["prefetch: yes"]),
    Config("unbound no", UnboundPeer, ["prefetch: no"]),
    Config("pdns-recursor 10%", PdnsPeer, ["refresh-on-ttl-perc=10"]),
    Config("pdns-recursor 0", PdnsPeer, ["refresh-on-ttl-perc=0"]),   # its default
    Config("knot-resolver default", KresdPeer, []),
    Config("knot-resolver predict", KresdPeer, ["modules.load('predict')"]),
]


# ---- query logs ------------------------------------------------------------------------

def log_sizes(h):
    total = 0
    for s in h.servers.values():
        try:
            total += os.path.getsize(s.logfile)
        except OSError:
            pass
    return total


def settle(h, quiet=SETTLE_S, limit=5.0):
    """Wait (bounded) until no authority has logged a query for `quiet` s."""
    deadline = time.monotonic() + limit
    last, since = log_sizes(h), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now = log_sizes(h)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return True
    return False


def marks(h):
    return {a: len(s.queries()) for a, s in h.servers.items()}


def since(h, mark):
    """[(server host number, zone the server serves, query dict)] after mark."""
    out = []
    for a, s in h.servers.items():
        n = int(a.rsplit(".", 1)[1])
        zone = s.zones[0].name
        for q in s.queries()[mark[a]:]:
            out.append((n, zone, q))
    out.sort(key=lambda x: x[2]["t"])
    return out


def nlabels(name):
    return len(dns.name.from_text(name).labels) - 1


def own_zone(h, name):
    """The deepest zone of the hierarchy holding name."""
    n = dns.name.from_text(name)
    while n.to_text().lower() not in h.zones:
        n = n.parent()
    return n.to_text().lower()


def path(want):
    """Every name of an answer's chain and all their ancestors."""
    out = set()
    for owner, _, _ in want:
        n = dns.name.from_text(owner)
        while True:
            out.add(n.to_text().lower())
            if n == dns.name.root:
                break
            n = n.parent()
    return out


def leaked(h, on_path, zone, q):
    """A query to a server above the asked name's own zone (the root, a TLD,
    ip6.arpa, the RIR's zone) naming more labels than the zone cut below
    that server on the way to the name: part of what the client asked, told
    to a server that needed only enough to answer with the delegation.
    Stepping through empty non-terminals above the cut is not a leak.
    Queries for names off the client's chain (a resolver looking up its
    root servers' addresses) do not count."""
    qn = q.get("qname")
    if qn is None or qn not in on_path:
        return False
    top = dns.name.from_text(zone)
    below = dns.name.from_text(own_zone(h, qn))
    if below == top or not below.is_subdomain(top):
        return False
    child, n = below, below     # the highest zone strictly below the server's, on the way
    while n != top:
        if n.to_text().lower() in h.zones:
            child = n
        n = n.parent()
    return nlabels(qn) > nlabels(child.to_text())


# ---- answers ---------------------------------------------------------------------------

def check(label, msg, qname, qtype, want):
    """The answer is NOERROR and its answer section is exactly `want`, in
    order (a chain's CNAMEs first), else raise."""
    got = [(a[0], a[1], a[2]) for a in answers(msg)]
    rc = dns.rcode.to_text(msg.rcode())
    if rc != "NOERROR" or got != [(o.lower(), t, r) for o, t, r in want]:
        raise RuntimeError("%s: wrong answer for %s %s: rcode %s, answer %s, want %s\n%s" % (
            label, qname, qtype, rc, got, want, msg))


# ---- 1. QNAME minimisation, cold lookups ---------------------------------------------

def cold_lookup(cfg, n, h, tmpdir, binary, qname, qtype, want):
    peer = cfg.peer(n, tmpdir, h.hints, binary)
    peer.start()
    try:
        if not settle(h):
            raise RuntimeError("%s: the authorities never went quiet after start" % cfg.label)
        mark = marks(h)
        t0 = time.monotonic()
        msg = udp(peer.server_addr, qname, qtype, timeout=10)
        ms = (time.monotonic() - t0) * 1000
        check(cfg.label, msg, qname, qtype, want)
        if not settle(h):
            raise RuntimeError("%s: still querying 5 s after answering %s" % (cfg.label, qname))
        qs = since(h, mark)
    finally:
        peer.stop()
    return ms, qs


def qmin(configs, h, tmpdir, binary, reps, show):
    """{label: {column: (median ms, median queries, median leaked, (min q, max q))}}"""
    out = {}
    logs = {}
    for ci, cfg in enumerate(configs):
        out[cfg.label] = {}
        for col, qname, qtype, want in NAMES:
            times, counts, leaks = [], [], []
            for r in range(reps):
                ms, qs = cold_lookup(cfg, 10 + ci, h, tmpdir, binary, qname, qtype, want)
                times.append(ms)
                counts.append(len(qs))
                leaks.append(sum(1 for n, z, q in qs if leaked(h, path(want), z, q)))
                if r == 0:
                    logs[(cfg.label, col)] = qs
            out[cfg.label][col] = (statistics.median(times), statistics.median(counts),
                                   statistics.median(leaks), (min(counts), max(counts)))
        sys.stderr.write("  qmin: %s done\n" % cfg.label)
    if show:
        for col, qname, qtype, want in NAMES:
            print("\n-- queries for %s %s (first cold lookup) --" % (qname, qtype))
            for cfg in configs:
                print("  %s:" % cfg.label)
                for n, zone, q in logs[(cfg.label, col)]:
                    mark = "   LEAK" if leaked(h, path(want), zone, q) else ""
                    print("    %-28s %-6s %s%s" % (zone, q["qtype"], q["qname"], mark))
    return out


def qmin_report(res, configs, reps):
    cols = [c[0] for c in NAMES]
    print("\n== 1. QNAME minimisation: cold lookups (fresh resolver each), "
          "authorities %d ms away ==" % DELAY_MS)
    print("cell: upstream queries / of them leaked / median latency in ms of %d lookups"
          % reps)
    print("leaked: queries to a server above the name's own zone (the root, a TLD, ip6.arpa, "
          "the RIR's zone) naming")
    print("  more labels than the zone cut below that server on the way to the name (all it "
          "needs for its referral)")
    print("%-22s%s%16s" % ("", "".join("%16s" % c for c in cols), "all 7"))
    for cfg in configs:
        r = res[cfg.label]
        cells = []
        for c in cols:
            ms, q, lk, (lo, hi) = r[c]
            cells.append("%4.0f%s/%-2.0f %6.1f" % (q, "*" if lo != hi else " ", lk, ms))
        tq = sum(r[c][1] for c in cols)
        tl = sum(r[c][2] for c in cols)
        tm = sum(r[c][0] for c in cols)
        print("%-22s%s%16s" % (cfg.label, "".join("%16s" % x for x in cells),
                               "%4.0f /%-3.0f %6.1f" % (tq, tl, tm)))
    if any(res[c.label][col][3][0] != res[c.label][col][3][1] for c in configs for col in cols):
        print("* the query count varied between the %d lookups (median shown)" % reps)
    for col, qname, qtype, _ in NAMES:
        print("  %-13s %s %s" % (col, qname, qtype))


# ---- 2. prefetch ---------------------------------------------------------------------

class Stream:
    """Queries for one name to one resolver at a fixed rate, each timed."""

    def __init__(self, label, server_addr, qname, rate, seconds):
        self.label, self.qname = label, qname
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.connect(server_addr)
        self.sock.setblocking(False)
        self.wire = bytearray(make_query(qname, "A").to_wire())
        self.total = int(rate * seconds)
        self.interval = 1.0 / rate
        self.sent = 0
        self.pending = {}     # id -> (wall send time, monotonic send time)
        self.done = []        # (wall send time, latency s, reply wire)

    def send(self):
        qid = self.sent & 0xffff
        struct.pack_into("!H", self.wire, 0, qid)
        self.pending[qid] = (time.time(), time.monotonic())
        self.sock.send(self.wire)
        self.sent += 1

    def receive(self):
        for _ in range(64):
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            now = time.monotonic()
            if len(data) < 12:
                continue
            (qid,) = struct.unpack_from("!H", data)
            p = self.pending.pop(qid, None)
            if p is not None:
                self.done.append((p[0], now - p[1], data))


def run_streams(streams, seconds, timeout=2.0):
    """Every stream at its rate, together, for `seconds`, then up to
    `timeout` for late answers. Bounded in queries and in time. The garbage
    collector is off meanwhile: its pauses would show as slow answers."""
    gc.disable()
    try:
        _run_streams(streams, seconds, timeout)
    finally:
        gc.enable()


def _run_streams(streams, seconds, timeout):
    sel = selectors.DefaultSelector()
    for s in streams:
        sel.register(s.sock, selectors.EVENT_READ, s)
    start = time.monotonic() + 0.05
    for i, s in enumerate(streams):   # staggered within one interval
        s.next = start + i * s.interval / len(streams)
    hard = start + seconds + timeout + 5
    while time.monotonic() < hard:
        now = time.monotonic()
        active = [s for s in streams if s.sent < s.total]
        for s in active:
            while s.sent < s.total and s.next <= now:
                s.send()
                s.next += s.interval
        active = [s for s in streams if s.sent < s.total]
        if active:
            wait = max(0.0, min(s.next for s in active) - time.monotonic())
        else:
            if all(not s.pending for s in streams) or \
                    now > max(s.next for s in streams) + timeout:
                break
            wait = 0.05
        for key, _ in sel.select(wait):
            key.data.receive()
    sel.close()
    for s in streams:
        s.sock.close()


def percentile(sorted_vals, p):
    return sorted_vals[min(len(sorted_vals) - 1, int(len(sorted_vals) * p))]


def prefetch(configs, h, tmpdir, binary, rate, seconds, show=False):
    peers = []
    res = {}
    try:
        for i, cfg in enumerate(configs):
            p = cfg.peer(30 + i, tmpdir, h.hints, binary)
            p.start()
            peers.append(p)
        # Delegations cached first, so the window sees only the chain's names.
        for cfg, p in zip(configs, peers):
            for w, want in (("warm.example.com.", "192.0.2.1"), ("warm.cdn.net.", "192.0.2.2"),
                            ("warm.edge.org.", "192.0.2.3")):
                check(cfg.label, udp(p.server_addr, w, timeout=10), w, "A", [(w, "A", want)])
        settle(h)
        streams = []
        for i, (cfg, p) in enumerate(zip(configs, peers)):
            first, middle, final, addr = hot_names(i)
            check(cfg.label, udp(p.server_addr, first, timeout=10), first, "A",
                  [(first, "CNAME", middle), (middle, "CNAME", final), (final, "A", addr)])
            streams.append(Stream(cfg.label, p.server_addr, first, rate, seconds))
        settle(h, quiet=0.1)
        mark = marks(h)
        t_start = time.time()
        sys.stderr.write("  prefetch: %d resolvers at %d q/s each for %d s\n" % (
            len(configs), rate, seconds))
        run_streams(streams, seconds)
        time.sleep(0.5)
        qs = since(h, mark)
    finally:
        for p in peers:
            p.stop()
    for i, (cfg, s) in enumerate(zip(configs, streams)):
        first, middle, final, addr = hot_names(i)
        want = [(first, "CNAME", middle), (middle, "CNAME", final), (final, "A", addr)]
        for _, _, wire in s.done:
            check(cfg.label, dns.message.from_wire(wire), first, "A", want)
        lost = s.sent - len(s.done)
        if lost > MAX_LOST * s.sent:
            raise RuntimeError("%s: %d of %d prefetch-window queries unanswered" % (
                cfg.label, lost, s.sent))
        lat = sorted(d[1] * 1000 for d in s.done)
        p50 = percentile(lat, 0.5)
        slow_ms = max(3 * p50, DELAY_MS)
        slow = sorted((d[0], d[0] + d[1]) for d in s.done if d[1] * 1000 >= slow_ms)
        names = {first, middle, final}
        up = [q for _, _, q in qs if q.get("qname") in names]
        up_t = [q["t"] for q in up]

        def waited(a, b):
            """A client query in flight [a, b] while an upstream query went out."""
            return any(a - 0.002 <= t <= b for t in up_t)
        on_up = [(a, b) for a, b in slow if waited(a, b)]
        worst_up = max([(b - a) * 1000 for a, b in on_up] or [0.0])
        refresh = [q["t"] for q in up if q["qname"] == first]
        cold = [t for t in refresh if any(a - 0.002 <= t <= b for a, b in slow)]
        if show:
            print("\n-- %s: upstream queries for the chain, and slow answers "
                  "(s into the window) --" % cfg.label)
            for q in up:
                print("  %6.3f  upstream %-5s %s" % (q["t"] - t_start, q["qtype"], q["qname"]))
            for a, b in slow:
                print("  %6.3f  slow answer, %.1f ms%s" % (a - t_start, (b - a) * 1000,
                                                           "" if waited(a, b) else
                                                           " (no upstream query meanwhile)"))
        res[cfg.label] = dict(n=len(s.done), lost=lost, p50=p50, p99=percentile(lat, 0.99),
                              max=lat[-1], slow=len(slow), slow_up=len(on_up), worst_up=worst_up,
                              slow_ms=slow_ms,
                              upstream=len(up), refresh=len(refresh), cold=len(cold),
                              at=[("%.1f%s" % (t - t_start, "c" if t in cold else ""))
                                  for t in refresh])
    return res


def prefetch_report(res, configs, rate, seconds):
    print("\n== 2. prefetch: a hot 2-hop CNAME chain (first hop and final A TTL %d s, middle "
          "1 day), %d q/s for %d s ==" % (TTL_S, rate, seconds))
    print("p50/p99/max: answer latency, ms; slow: answers >= max(3 x p50, %d ms = one authority "
          "round trip);" % DELAY_MS)
    print("  on up: of those, the ones in flight while the resolver asked the authorities for "
          "the chain, and the worst of them (ms)")
    print("refreshes: upstream queries for the first hop: ahead (no client waiting) / cold "
          "(a client waited:")
    print("  a client-visible cold lookup); upstream: queries for the chain's 3 names; at: "
          "refreshes, s into the window (c = cold)")
    print("%-22s %7s %4s %5s %5s %6s %5s %12s %9s %8s  %s" % (
        "", "answers", "lost", "p50", "p99", "max", "slow", "on up, worst", "ahd/cold",
        "upstream", "at"))
    for cfg in configs:
        r = res[cfg.label]
        print("%-22s %7d %4d %5.2f %5.2f %6.1f %5d %5d %6.1f %5d/%-3d %8d  %s" % (
            cfg.label, r["n"], r["lost"], r["p50"], r["p99"], r["max"], r["slow"], r["slow_up"],
            r["worst_up"], r["refresh"] - r["cold"], r["cold"], r["upstream"],
            " ".join(r["at"])))


# ---- running it -------------------------------------------------------------------------

def version(cmd, pattern):
    """The version number `cmd` prints, or '?'."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except Exception:
        return "?"
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="cold lookups per name and resolver")
    ap.add_argument("--seconds", type=int, default=35, help="prefetch window")
    ap.add_argument("--rate", type=int, default=200, help="prefetch q/s per resolver")
    ap.add_argument("--only", default="", help="resolvers, e.g. chaindns,unbound")
    ap.add_argument("--skip", default="", help="sections to skip: qmin,prefetch")
    ap.add_argument("--show-queries", action="store_true",
                    help="print every upstream query of the first cold lookup of each name, "
                    "and the prefetch window's upstream queries and slow answers")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(HERE), "build-release",
                                                      "chaindns"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("resolution.py: needs root (the authorities listen on port 53)")
    only = set(x for x in args.only.split(",") if x)
    qcfg = [c for c in QMIN_CONFIGS if not only or c.resolver in only]
    pcfg = [c for c in PREFETCH_CONFIGS if not only or c.resolver in only]
    for tool in {"chaindns": None, "unbound": "unbound", "pdns-recursor": "pdns_recursor",
                 "knot-resolver": "kresd"}.items():
        if (not only or tool[0] in only) and tool[1] and not shutil.which(tool[1]):
            sys.exit("resolution.py: %s is missing (bench/run.sh installs it)" % tool[1])
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit("resolution.py: no chaindns binary at %s" % binary)
    tmpdir = tempfile.mkdtemp(prefix="chaindns-resolution-")
    h = build(tmpdir, len(PREFETCH_CONFIGS))
    t_begin = time.monotonic()
    try:
        h.start(timeout=30)
        qres = pres = None
        if "qmin" not in args.skip:
            qres = qmin(qcfg, h, tmpdir, binary, args.reps, args.show_queries)
        if "prefetch" not in args.skip:
            pres = prefetch(pcfg, h, tmpdir, binary, args.rate, args.seconds,
                            args.show_queries)
        print("\nchaindns resolution bench, %s, %s, %d CPUs, kernel %s" % (
            time.strftime("%Y-%m-%d %H:%M"), platform.node(), os.cpu_count(),
            platform.release()))
        print("chaindns %s, Unbound %s, PowerDNS Recursor %s, Knot Resolver %s" % (
            version([binary, "--version"], r"chaindns (\S+)"),
            version(["unbound", "-V"], r"Version (\S+)"),
            version(["pdns_recursor", "--version"], r"PowerDNS Recursor (\S+)"),
            version(["kresd", "--version"], r"version (\S+)")))
        print("authorities: badauth.py, %d ms per answer; one worker thread per resolver"
              % DELAY_MS)
        if qres:
            qmin_report(qres, qcfg, args.reps)
        if pres:
            prefetch_report(pres, pcfg, args.rate, args.seconds)
        print("\n(run took %.0f s)" % (time.monotonic() - t_begin))
    finally:
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
