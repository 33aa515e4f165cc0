#!/usr/bin/python3
"""What TCP clients that never read their answers cost in resident memory.

32 connections each pipeline queries for a ~60 KB local TXT record in one
write and never read a byte; the resolver answers from local data, so
every reply is ready at once and has nowhere to go once the kernel's
socket buffers are full. Printed per run: the resolver's resident memory
before and after (VmRSS, once the count of TCP queries it took stops
moving), the queries it took, and its own gauge of the replies it holds
queued (chaindns_tcp_backlog_bytes, peak). With --compare BIN the same runs
are made with another binary (e.g. a build from before the bounds) and
printed beside.

Bounded: at most 32 connections and --queries each (default 200), one run
settles within 10 s; everything started is stopped by PID.

    /usr/bin/python3 bench/tcp_backlog.py [--binary B] [--compare B2]
"""

import argparse
import os
import shutil
import socket
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Chaindns, Hierarchy, make_query, metric, parse_metrics  # noqa: E402

BASE = 245
CONNS = 32
NAME = "big.bench.lan."
TXT = ['"%03d-%s"' % (i, "x" * 246) for i in range(230)]  # ~60 KB of answer


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def local_config(tmpdir):
    path = os.path.join(tmpdir, "local.yaml")
    with open(path, "w") as f:
        f.write("local-data:\n")
        for t in TXT:
            f.write("  - '%s 300 TXT %s'\n" % (NAME, t))
    return path


def tcp_txt_queries(r):
    return metric(r.metrics(), "chaindns_queries_total", transport="tcp", type="TXT")


def settle(read, timeout=10.0, quiet=1.0):
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        v = read()
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def one_run(h, tmpdir, binary, n, extra, queries):
    r = Chaindns(BASE, h.hints, ["--config", local_config(tmpdir), "--cache-size", "64m"]
                 + extra, tmpdir=tmpdir, n=n, binary=binary, metrics=True,
                 name="bench-%d" % n).start()
    socks = []
    try:
        # Warm: one read answer, so the growth below is the attack's alone.
        s = socket.create_connection(r.server_addr, timeout=5)
        w = make_query(NAME, "TXT").to_wire()
        s.sendall(struct.pack("!H", len(w)) + w)
        got = b""
        while len(got) < 2 or len(got) < 2 + struct.unpack("!H", got[:2])[0]:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        s.close()
        time.sleep(0.3)
        before = rss_kib(r.proc.pid)
        burst = b"".join(struct.pack("!H", len(w)) + w for w in
                         (make_query(NAME, "TXT", qid=i).to_wire() for i in range(queries)))
        for _ in range(CONNS):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.settimeout(5)
            c.connect(r.server_addr)
            c.sendall(burst)
            socks.append(c)
        taken = settle(lambda: tcp_txt_queries(r)) - 1
        after = rss_kib(r.proc.pid)
        m = parse_metrics(r.http("/metrics")[1])
        if ("chaindns_tcp_backlog_bytes", frozenset()) not in m:
            return before, after, taken, None, None, None  # a build without the gauges
        return (before, after, taken, metric(m, "chaindns_tcp_backlog_bytes"),
                metric(m, "chaindns_tcp_backlog_peak_bytes"),
                metric(m, "chaindns_limited_total", limit="tcp_backlog"))
    finally:
        for c in socks:
            c.close()
        r.stop()


def mib(kib):
    return kib / 1024.0


def fmt(v, scale=1.0 / (1 << 20)):
    return "-" if v is None else "%.1f" % (v * scale)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    ap.add_argument("--compare", help="another chaindns binary, run the same way")
    ap.add_argument("--queries", type=int, default=200, help="pipelined per connection")
    args = ap.parse_args()
    if not shutil.which("nsd"):
        sys.exit("tcp_backlog.py: nsd is missing (bench/run.sh installs it)")
    binaries = [("this", os.path.abspath(args.binary))]
    if args.compare:
        binaries.append(("compare", os.path.abspath(args.compare)))
    settings = [("defaults (tcp-max-backlog 16m)", []),
                ("tcp-max-backlog 4m", ["--tcp-max-backlog", "4m"])]
    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-tcpbacklog-")
    h = Hierarchy(BASE, tmpdir=tmpdir)
    h.zone("com.", [2])
    n = 1
    try:
        h.start(timeout=30)
        print("%d TCP connections, each pipelining %d queries for a %d-byte TXT answer "
              "(local data) in one write, never reading; one worker thread, cache-size 64m"
              % (CONNS, args.queries, 12 + len(NAME) + 5 + sum(len(t) + 11 for t in TXT)))
        print("%-8s %-32s %9s %9s %9s %8s %11s %10s %7s" % (
            "binary", "setting", "RSS MiB", "after", "growth", "queries", "queued MiB",
            "peak MiB", "closed"))
        for label, binary in binaries:
            for name, extra in settings:
                if label == "compare" and extra:
                    continue  # an older build may not know the key
                before, after, taken, queued, peak, closed = one_run(
                    h, tmpdir, binary, n, extra, args.queries)
                n += 1
                print("%-8s %-32s %9.1f %9.1f %+9.1f %8d %11s %10s %7s" % (
                    label, name, mib(before), mib(after), mib(after - before), taken,
                    fmt(queued), fmt(peak), "-" if closed is None else "%d" % closed))
    finally:
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
