#!/usr/bin/python3
"""What chain instrumentation costs on cache hits: instructions per query
(callgrind, repeatable) and QPS (dnsperf, noisy), with --instrumentation on
and off, in one run.

The query file mixes plain names and two-hop CNAME chains across three zones
(every chain answer is observed: length, duration, three steps). Cache hits
are the case that matters: a miss costs network round trips that dwarf any
bookkeeping.

Instructions: chaindns runs under `valgrind --tool=callgrind`; the cost of a
query is (Ir of a run with LONG passes - Ir of a run with SHORT passes) /
(extra queries), so start-up, warm-up and shutdown cancel out.

    /usr/bin/python3 bench/instrumentation.py [--seconds 5]
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

from harness import Chaindns, Hierarchy  # noqa: E402

BASE = 242
NAMES = 100   # plain A names
CHAINS = 100  # two-hop chains
SHORT, LONG = 2, 12  # passes over the file for the instruction count


def build(tmpdir):
    h = Hierarchy(BASE, tmpdir=tmpdir)
    h.zone("com.", [2])
    h.zone("net.", [3])
    h.zone("org.", [4])
    h.zone("example.com.", [5], ["h%d 86400 A 192.0.2.%d" % (i, i % 250 + 1)
                                  for i in range(NAMES)] +
           ["c%d 86400 CNAME c%d.example.com.cdn.net." % (i, i) for i in range(CHAINS)])
    h.zone("cdn.net.", [6], ["c%d.example.com 86400 CNAME e%d.edge.org." % (i, i % 10)
                             for i in range(CHAINS)])
    h.zone("edge.org.", [7], ["e%d 86400 A 198.51.100.%d" % (i, i + 1) for i in range(10)])
    return h


def dnsperf(res, qfile, *extra):
    out = subprocess.run(["dnsperf", "-s", res.addr, "-p", str(res.port), "-d", qfile,
                          "-t", "10"] + list(extra), capture_output=True, text=True,
                         timeout=900).stdout
    lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
    qps = float(re.search(r"Queries per second:\s+([\d.]+)", out).group(1))
    return qps, lost


def callgrind_ir(tmpdir, h, binary, mode, passes, qfile, n):
    out = os.path.join(tmpdir, "callgrind.%s.%d" % (mode, passes))
    wrapper = os.path.join(tmpdir, "vg-%s-%d.sh" % (mode, passes))
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n"
                % (out, binary))
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IEXEC)
    r = Chaindns(BASE, h.hints, ["--threads", "1", "--instrumentation", mode], tmpdir=tmpdir,
                 n=n, binary=wrapper, name="vg-%s-%d" % (mode, passes))
    r.start(timeout=60)
    try:
        dnsperf(r, qfile, "-n", "1", "-Q", "300")  # warm: every answer cached
        qps, lost = dnsperf(r, qfile, "-n", str(passes), "-Q", "1500")
        if lost:
            raise RuntimeError("lost %d queries under valgrind" % lost)
    finally:
        r.stop(timeout=60)
    with open(out) as f:
        m = re.search(r"^(?:summary|totals):\s+(\d+)", f.read(), re.M)
    return int(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5, help="per dnsperf QPS run")
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    args = ap.parse_args()
    for tool in ("nsd", "dnsperf", "valgrind"):
        if not shutil.which(tool):
            sys.exit("instrumentation.py: %s is missing (bench/run.sh installs it)" % tool)
    binary = os.path.abspath(args.binary)
    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-instr-")
    qfile = os.path.join(tmpdir, "queries.txt")
    with open(qfile, "w") as f:
        for i in range(NAMES):
            f.write("h%d.example.com A\n" % i)
        for i in range(CHAINS):
            f.write("c%d.example.com A\n" % i)
    per_pass = NAMES + CHAINS
    h = build(tmpdir)
    try:
        h.start(timeout=60)
        ir = {}
        n = 1
        for mode in ("on", "off"):
            short = callgrind_ir(tmpdir, h, binary, mode, SHORT, qfile, n)
            long_ = callgrind_ir(tmpdir, h, binary, mode, LONG, qfile, n + 1)
            n += 2
            ir[mode] = (long_ - short) / ((LONG - SHORT) * per_pass)
        qps = {"on": [], "off": []}
        for rnd in range(2):
            for mode in ("on", "off"):
                r = Chaindns(BASE, h.hints, ["--threads", "1", "--instrumentation", mode],
                             tmpdir=tmpdir, n=n, binary=binary).start()
                n += 1
                try:
                    dnsperf(r, qfile, "-n", "1")
                    q, _ = dnsperf(r, qfile, "-l", str(args.seconds), "-c", "8", "-q", "200")
                    qps[mode].append(q)
                finally:
                    r.stop()
        print("chaindns instrumentation cost on cache hits: %d plain names + %d two-hop "
              "chains, one worker thread" % (NAMES, CHAINS))
        print("%-16s %18s %14s" % ("instrumentation", "instructions/query", "best QPS"))
        for mode in ("on", "off"):
            print("%-16s %18.0f %14.0f" % (mode, ir[mode], max(qps[mode])))
        print("overhead: %+.1f%% instructions per query, %+.1f%% QPS (noisy: rounds %s vs %s)" % (
            100 * (ir["on"] / ir["off"] - 1), 100 * (max(qps["on"]) / max(qps["off"]) - 1),
            ", ".join("%.0f" % q for q in qps["on"]), ", ".join("%.0f" % q for q in qps["off"])))
    finally:
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
