#!/usr/bin/python3
"""Cache-hit throughput of chaindns beside Unbound, in one run.

Both resolvers get the same loopback hierarchy (NSD servers on
127.53.240.x, port 53, because Unbound only asks authorities on port 53),
one worker thread each, the same query file. For each resolver the bench:

  1. warms the cache with one pass over the query file;
  2. checks every answer (NOERROR, the expected final record, the same
     records from both resolvers), so the figures measure real answers;
  3. runs dnsperf against it for a fixed time, with a bounded number of
     queries outstanding, and reads QPS, lost queries and RCODEs;
  4. reads the resolver's resident memory.

Rounds alternate chaindns and Unbound so both see the same machine noise.
Figures only; targets come with the performance issue. Needs root (port 53
on loopback) and Debian's nsd, unbound, dnsperf and python3-dnspython:
bench/run.sh installs them.

    /usr/bin/python3 bench/bench.py [--seconds 10] [--rounds 2] [--clients 8]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import dns.rdatatype  # noqa: E402

import harness  # noqa: E402
from harness import Chaindns, Hierarchy, udp, wait_for  # noqa: E402

BASE = 240          # 127.53.240.x authorities, 127.54.240.x resolvers
AUTH_PORT = 53
RES_PORT = 5300
UNBOUND_ADDR = "127.54.240.2"
HOSTS = 200         # plain A names
CHAINS = 50         # two-hop chains across three zones (CDN style)
TTL = 86400         # nothing expires during a run


def build_hierarchy(tmpdir):
    h = Hierarchy(BASE, port=AUTH_PORT, tmpdir=tmpdir)
    h.zone("com.", [2])
    h.zone("net.", [3])
    h.zone("example.com.", [4],
           ["host%d %d A 192.0.2.%d" % (i, TTL, i % 250 + 1) for i in range(HOSTS)]
           + ["www%d %d CNAME www%d.example.com.cdn.net." % (i, TTL, i)
              for i in range(CHAINS)]
           + ["@ %d MX 10 host0" % TTL,
              '@ %d TXT "v=spf1 include:mailhost.net -all"' % TTL])
    h.zone("cdn.net.", [5],
           ["www%d.example.com %d CNAME edge%d.edge.net." % (i, TTL, i % 10)
            for i in range(CHAINS)])
    h.zone("edge.net.", [6],
           ["edge%d %d A 198.51.100.%d" % (i, TTL, i + 1) for i in range(10)])
    return h


def queries():
    """(name, type, expected final rdata text) for every line of the file."""
    q = [("host%d.example.com." % i, "A", "192.0.2.%d" % (i % 250 + 1))
         for i in range(HOSTS)]
    q += [("www%d.example.com." % i, "A", "198.51.100.%d" % (i % 10 + 1))
          for i in range(CHAINS)]
    q += [("example.com.", "MX", "10 host0.example.com."),
          ("example.com.", "TXT", '"v=spf1 include:mailhost.net -all"')]
    return q


def write_query_file(path, qs):
    with open(path, "w") as f:
        for name, t, _ in qs:
            f.write("%s %s\n" % (name, t))


class Unbound:
    """Debian's unbound, one thread, iterator only (no trust anchor here)."""

    def __init__(self, tmpdir, hints):
        self.dir = os.path.join(tmpdir, "unbound")
        os.makedirs(self.dir, exist_ok=True)
        self.server_addr = (UNBOUND_ADDR, RES_PORT)
        self.conf = os.path.join(self.dir, "unbound.conf")
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
                "    verbosity: 0",
                "    do-ip6: no",
                "    do-not-query-localhost: no",
                '    root-hints: "%s"' % hints,
                '    module-config: "iterator"',
                "    msg-cache-size: 64m",
                "    rrset-cache-size: 64m",
                "    prefetch: no",
                "remote-control:",
                "    control-enable: no",
            ]) + "\n")
        self.proc = None

    def start(self):
        self.err = open(os.path.join(self.dir, "unbound.stderr"), "w")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err, start_new_session=True)
        harness._live.append(self.proc)  # stopped at exit even on a crash

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("unbound exited: %s" % open(self.err.name).read())
            try:
                udp(self.server_addr, ".", "NS", timeout=0.25)
                return True
            except Exception:
                return False
        if not wait_for(ready, 10):
            raise RuntimeError("unbound did not answer within 10 s")
        return self

    def stop(self):
        if self.proc:
            harness._terminate(self.proc, 5.0, group=True)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def check_answers(server, qs):
    """Every query answers NOERROR and ends in the expected record; returns
    the answers (as sorted text) for comparing resolvers."""
    got = {}
    for name, t, want in qs:
        r = udp(server, name, t, timeout=3)
        finals = [rr.to_text() for rrset in r.answer for rr in rrset
                  if rrset.rdtype == dns.rdatatype.from_text(t)]
        if r.rcode() != 0 or want not in finals:
            raise RuntimeError("%s:%d: %s %s answered rcode %d, %s (want %s)" % (
                server[0], server[1], name, t, r.rcode(), finals, want))
        got[(name, t)] = sorted(rr.to_text() for rrset in r.answer for rr in rrset)
    return got


def dnsperf(server, qfile, seconds, clients, outstanding):
    cmd = ["dnsperf", "-s", server[0], "-p", str(server[1]), "-d", qfile,
           "-l", str(seconds), "-c", str(clients), "-q", str(outstanding),
           "-T", "1", "-t", "2"]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         timeout=seconds + 30).stdout

    def field(pattern):
        m = re.search(pattern, out)
        if not m:
            raise RuntimeError("dnsperf output lacks %r:\n%s" % (pattern, out))
        return m.group(1)
    return {
        "qps": float(field(r"Queries per second:\s+([\d.]+)")),
        "sent": int(field(r"Queries sent:\s+(\d+)")),
        "lost": int(field(r"Queries lost:\s+(\d+)")),
        "rcodes": field(r"Response codes:\s+(.*)").strip(),
        "latency_ms": 1000 * float(field(r"Average Latency \(s\):\s+([\d.]+)")),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10, help="per dnsperf run")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--outstanding", type=int, default=200)
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.py: needs root: the authorities listen on port 53 "
                 "(Unbound cannot ask another port)")
    for tool in ("nsd", "unbound", "dnsperf"):
        if not shutil.which(tool):
            sys.exit("bench.py: %s is missing (bench/run.sh installs it)" % tool)

    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-")
    qs = queries()
    qfile = os.path.join(tmpdir, "queries.txt")
    write_query_file(qfile, qs)
    h = build_hierarchy(tmpdir)
    peers = []
    try:
        h.start()
        chaindns = Chaindns(BASE, h.hints, args=["--threads", "1",
                                                 "--log-level", "warn"],
                            tmpdir=tmpdir, upstream_port=AUTH_PORT,
                            binary=args.binary).start()
        peers.append(("chaindns", chaindns))
        unbound = Unbound(tmpdir, h.hints).start()
        peers.append(("unbound", unbound))

        answers = {}
        for name, p in peers:
            subprocess.run(["dnsperf", "-s", p.server_addr[0], "-p",
                            str(p.server_addr[1]), "-d", qfile, "-n", "1",
                            "-t", "3"], capture_output=True, timeout=60)
            answers[name] = check_answers(p.server_addr, qs)
        if answers["chaindns"] != answers["unbound"]:
            diff = [k for k in answers["chaindns"]
                    if answers["chaindns"][k] != answers["unbound"].get(k)]
            raise RuntimeError("resolvers disagree on %s" % diff[:5])

        print("chaindns bench: cache hits, %d names (%d A, %d two-hop CNAME "
              "chains, MX, TXT), one worker thread each, dnsperf -c %d -q %d "
              "for %d s per run" % (len(qs), HOSTS, CHAINS, args.clients,
                                    args.outstanding, args.seconds))
        print("answers verified identical for both resolvers\n")
        print("%-6s %-9s %12s %10s %8s %12s  %s" % (
            "round", "resolver", "QPS", "sent", "lost", "avg lat ms", "rcodes"))
        best = {}
        for rnd in range(1, args.rounds + 1):
            for name, p in peers:
                r = dnsperf(p.server_addr, qfile, args.seconds, args.clients,
                            args.outstanding)
                best[name] = max(best.get(name, 0), r["qps"])
                print("%-6d %-9s %12.0f %10d %8d %12.3f  %s" % (
                    rnd, name, r["qps"], r["sent"], r["lost"],
                    r["latency_ms"], r["rcodes"]))
                sys.stdout.flush()
        print()
        for name, p in peers:
            print("%-9s best %10.0f QPS   RSS %7d KiB" % (
                name, best[name], rss_kib(p.proc.pid)))
        print("ratio chaindns/unbound: %.2f" % (best["chaindns"] / best["unbound"]))
    finally:
        for _, p in reversed(peers):
            p.stop()
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
