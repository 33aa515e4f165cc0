#!/usr/bin/python3
"""Instructions per query, cache miss and cache hit, for one chaindns
binary or two side by side (--compare OLD): the repeatable measure of
whether a change made the query path dearer, for a refactoring that must
cost nothing, or work on the miss path.

Each figure comes from callgrind and cancels start-up and shutdown out:
the resolver runs twice under `valgrind --tool=callgrind`, fresh, once
answering SHORT queries and once LONG, after the same warm-up (the
delegations cached), and the cost of a query is the difference of the two
totals divided by the extra queries. Misses are distinct names of one zone
whose delegation is cached (a whole resolution each: parsing, validation,
caching, the reply); hits are those names asked again, which the worker's
answer cache answers (the fast path).
The authorities are NSD on loopback (127.53.246.x); validation is on and
finds everything insecure (the test root is not signed).

With --peer unbound, Debian's Unbound (one thread, iterator only, as in
bench/peers.py) is measured the same way in the same run, and each chaindns
binary's figures are also given as a ratio to Unbound's: the figure that
says whether a change moved chaindns against its peer, not just against
itself. Unbound asks authorities on port 53 only, so then the authorities
listen there and the script needs root.

    /usr/bin/python3 bench/instructions.py [--binary B] [--compare OLD] [--peer unbound]
"""

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402
from harness import Chaindns, Hierarchy  # noqa: E402
from peers import UnboundPeer  # noqa: E402 (bench/, on sys.path as the script's folder)

BASE = 246
NAMES = 400
SHORT, LONG = 50, 350  # misses per run (distinct names)
HIT_SHORT, HIT_LONG = 1, 6  # passes over the LONG names, for hits


def build(tmpdir, port):
    h = Hierarchy(BASE, port=port, tmpdir=tmpdir)
    h.zone("com.", [2])
    h.zone("example.com.", [3], ["h%d 86400 A 192.0.2.%d" % (i, i % 250 + 1)
                                  for i in range(NAMES)] + ["warm 86400 A 192.0.2.1"])
    return h


def query_file(tmpdir, name, names, passes=1):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        for _ in range(passes):
            for n in names:
                f.write("%s.example.com A\n" % n)
    return path


def dnsperf(res, qfile):
    out = subprocess.run(["dnsperf", "-s", res.addr, "-p", str(res.port), "-d", qfile,
                          "-n", "1", "-c", "1", "-q", "20", "-t", "10"],
                         capture_output=True, text=True, timeout=900).stdout
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    if lost:
        raise RuntimeError("lost %d queries under valgrind" % lost)


class CallgrindUnbound(UnboundPeer):
    """Unbound started through a callgrind wrapper, given more time to start
    and to stop (callgrind writes its totals when the process exits)."""

    def __init__(self, n, tmpdir, hints, wrapper):
        super().__init__(BASE, n, tmpdir, hints, cache_mb=16)
        self.wrapper = wrapper

    def start(self):
        self._spawn([self.wrapper, "-d", "-c", self.conf])
        return self

    def stop(self, timeout=60):
        if self.proc:
            harness._terminate(self.proc, timeout, group=True)
            self.err.close()


def total_ir(tmpdir, h, binary, tag, n, files):
    """Total instructions of a fresh resolver that answers the files in turn;
    binary "unbound" is the peer."""
    out = os.path.join(tmpdir, "callgrind.%s" % tag)
    wrapper = os.path.join(tmpdir, "vg-%s.sh" % tag)
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n"
                % (out, shutil.which(binary) if binary == "unbound" else binary))
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
    if binary == "unbound":
        r = CallgrindUnbound(n, tmpdir, h.hints, wrapper)
        r.start()
    else:
        r = Chaindns(BASE, h.hints, ["--threads", "1", "--prefetch", "off"], tmpdir=tmpdir, n=n,
                     binary=wrapper, name="vg-%s" % tag, upstream_port=h.port)
        r.start(timeout=60)
    try:
        for qfile in files:
            dnsperf(r, qfile)
    finally:
        r.stop(timeout=60)
    with open(out) as f:
        return int(re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M).group(1))


def measure(tmpdir, h, binary, label, n0):
    names = ["h%d" % i for i in range(NAMES)]
    warm = query_file(tmpdir, "warm.txt", ["warm"])
    short = query_file(tmpdir, "short.txt", names[:SHORT])
    long_ = query_file(tmpdir, "long.txt", names[:LONG])
    hits_s = query_file(tmpdir, "hits-s.txt", names[:LONG], HIT_SHORT)
    hits_l = query_file(tmpdir, "hits-l.txt", names[:LONG], HIT_LONG)
    a = total_ir(tmpdir, h, binary, label + "-ms", n0, [warm, short])
    b = total_ir(tmpdir, h, binary, label + "-ml", n0 + 1, [warm, long_])
    c = total_ir(tmpdir, h, binary, label + "-hs", n0 + 2, [warm, long_, hits_s])
    d = total_ir(tmpdir, h, binary, label + "-hl", n0 + 3, [warm, long_, hits_l])
    return (b - a) / (LONG - SHORT), (d - c) / ((HIT_LONG - HIT_SHORT) * LONG)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    ap.add_argument("--compare", metavar="OLD", help="another chaindns binary, measured too")
    ap.add_argument("--peer", choices=["unbound"], help="measure Unbound too, in the same run")
    args = ap.parse_args()
    for tool in ("nsd", "dnsperf", "valgrind") + ((args.peer,) if args.peer else ()):
        if not shutil.which(tool):
            sys.exit("instructions.py: %s is missing (bench/run.sh installs it)" % tool)
    if args.peer and os.geteuid() != 0:
        sys.exit("instructions.py: --peer needs root (Unbound asks authorities on port 53 only)")
    binaries = [("new", os.path.abspath(args.binary))]
    if args.compare:
        binaries.insert(0, ("old", os.path.abspath(args.compare)))
    if args.peer:
        binaries.append((args.peer, args.peer))
    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-ir-")
    h = build(tmpdir, 53 if args.peer else harness.PORT)
    try:
        h.start(timeout=60)
        rows = []
        for i, (label, binary) in enumerate(binaries):
            miss, hit = measure(tmpdir, h, binary, label, 2 + 4 * i)
            rows.append((label, binary, miss, hit))
        print("instructions per query (callgrind; %d vs %d misses, %d vs %d hit passes of %d "
              "names), one worker thread" % (SHORT, LONG, HIT_SHORT, HIT_LONG, LONG))
        print("%-7s %14s %12s  %s" % ("", "per miss", "per hit", "binary"))
        for label, binary, miss, hit in rows:
            print("%-7s %14.0f %12.0f  %s" % (label, miss, hit, binary))
        by = {label: (miss, hit) for label, _, miss, hit in rows}
        if "old" in by:
            print("new/old: misses %.3f, hits %.3f" % (by["new"][0] / by["old"][0],
                                                       by["new"][1] / by["old"][1]))
        if args.peer:
            for label in ("old", "new"):
                if label in by:
                    print("%s/%s: misses %.3f, hits %.3f" % (
                        label, args.peer, by[label][0] / by[args.peer][0],
                        by[label][1] / by[args.peer][1]))
    finally:
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
