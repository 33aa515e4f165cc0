#!/usr/bin/python3
"""The shared Redis tier, measured: what a Redis lookup adds to an answer,
how fast a cold instance answers from Redis, and its hit ratio after another
instance warmed the cache.

One loopback hierarchy (NSD, 127.53.241.x:10053) with HOSTS A names and
CHAINS two-hop CNAME chains across three zones, one redis-server
(127.55.241.1), and chaindns instances with one worker thread each:

  1. A resolves every name once (from the network), writing to Redis.
  2. B1, with a cold memory tier, answers LAT_N host names and LAT_N chains
     at a fixed, unsaturated rate (dnsperf -Q): every answer comes from
     Redis (one round trip for a name, two for a chain). The same names
     again come from B1's memory. p50/p99 of both, and the difference: the
     latency a Redis lookup adds.
  3. B2, cold, answers every other name once at full speed: QPS with the
     memory tier cold, and its hit ratio (fetches that found data / fetches
     sent) and upstream queries (0 when everything came from Redis).
  4. B2 again over the same names, now from memory, for comparison.

    /usr/bin/python3 bench/shared_cache.py [--hosts 20000] [--rate 2000]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import Chaindns, Hierarchy, RedisServer, redis_addr  # noqa: E402

BASE = 241
CHAINS = 500
LAT_N = 2000


def build(tmpdir, hosts):
    h = Hierarchy(BASE, tmpdir=tmpdir)
    h.zone("com.", [2])
    h.zone("net.", [3])
    h.zone("org.", [4])
    h.zone("example.com.", [5],
           ["h%d 86400 A 10.%d.%d.%d" % (i, i >> 16 & 255, i >> 8 & 255, i & 255)
            for i in range(hosts)] +
           ["c%d 86400 CNAME c%d.example.com.cdn.net." % (i, i) for i in range(CHAINS)])
    h.zone("cdn.net.", [6], ["c%d.example.com 86400 CNAME e%d.edge.org." % (i, i % 50)
                             for i in range(CHAINS)])
    h.zone("edge.org.", [7], ["e%d 86400 A 198.51.100.%d" % (i, i + 1) for i in range(50)])
    return h


def write(path, names):
    with open(path, "w") as f:
        f.writelines("%s A\n" % n for n in names)
    return path


def dnsperf(res, qfile, *extra, timeout=600):
    cmd = ["dnsperf", "-s", res.addr, "-p", str(res.port), "-d", qfile, "-n", "1",
           "-t", "3"] + list(extra)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout


def latencies(out):
    lat = sorted(float(m) * 1e6 for m in re.findall(r"^> NOERROR \S+ A ([\d.]+)$", out, re.M))
    if not lat:
        raise RuntimeError("no per-query latencies in dnsperf output:\n" + out[-2000:])
    return lat


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p / 100))]


def field(out, pattern, cast=float):
    m = re.search(pattern, out)
    if not m:
        raise RuntimeError("dnsperf output lacks %r:\n%s" % (pattern, out[-2000:]))
    return cast(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=20000)
    ap.add_argument("--rate", type=int, default=2000, help="queries/s for the latency runs")
    ap.add_argument("--binary", default=os.environ.get(
        "CHAINDNS_BIN", os.path.join(REPO, "build-release", "chaindns")))
    args = ap.parse_args()
    for tool in ("nsd", "redis-server", "dnsperf"):
        if not shutil.which(tool):
            sys.exit("shared_cache.py: %s is missing (bench/run.sh installs it)" % tool)
    tmpdir = tempfile.mkdtemp(prefix="chaindns-bench-redis-")
    hosts = ["h%d.example.com" % i for i in range(args.hosts)]
    chains = ["c%d.example.com" % i for i in range(CHAINS)]
    h = build(tmpdir, args.hosts)
    redis, started = None, []

    def instance(n):
        r = Chaindns(BASE, h.hints, ["--threads", "1",
                                     "--redis-url", redis.url, "--cache-size", "256m"],
                     tmpdir=tmpdir, n=n, binary=args.binary).start()
        started.append(r)
        return r
    try:
        h.start(timeout=60)
        redis = RedisServer(redis_addr(BASE, 1), 6379, tmpdir).start()
        a = instance(1)
        out = dnsperf(a, write(os.path.join(tmpdir, "all.txt"), hosts + chains), "-q", "50")
        if field(out, r"Queries lost:\s+(\d+)", int):
            raise RuntimeError("A lost queries while warming:\n" + out)
        client, size = redis.client(), -1
        while client.dbsize() != size:  # writes are pipelined: wait until they settle
            size = client.dbsize()
            time.sleep(0.5)

        b1 = instance(2)
        lat_hosts = write(os.path.join(tmpdir, "lat-hosts.txt"), hosts[:LAT_N])
        lat_chains = write(os.path.join(tmpdir, "lat-chains.txt"), chains)
        rows = []
        for label, qfile in (("name (1 fetch)", lat_hosts), ("chain (2 fetches)", lat_chains)):
            cold = latencies(dnsperf(b1, qfile, "-v", "-Q", str(args.rate)))
            warm = latencies(dnsperf(b1, qfile, "-v", "-Q", str(args.rate)))
            rows.append((label, len(cold), pct(cold, 50), pct(cold, 99), pct(warm, 50),
                         pct(warm, 99)))
        st1 = b1.stats()

        b2 = instance(3)
        rest = write(os.path.join(tmpdir, "rest.txt"), hosts[LAT_N:])
        before = b2.stats()
        cold = dnsperf(b2, rest, "-q", "100", "-c", "4")
        st2 = b2.stats()
        warm = dnsperf(b2, rest, "-q", "100", "-c", "4")
        lookups = st2["redis.lookups"] - before["redis.lookups"]
        hits = st2["redis.lookup_hits"] - before["redis.lookup_hits"]
        upstream = (st2["upstream_udp"] + st2["upstream_tcp"]
                    - before["upstream_udp"] - before["upstream_tcp"])

        print("chaindns shared-cache bench: %d names + %d two-hop chains across 3 zones, "
              "redis-server %s on loopback, one worker thread per instance"
              % (args.hosts, CHAINS, redis.client().info()["redis_version"]))
        print("\nlatency at %d q/s, B cold (every answer from Redis) vs the same names again "
              "(from memory), microseconds:" % args.rate)
        print("%-18s %6s %10s %10s %10s %10s %12s %12s" % (
            "", "n", "redis p50", "redis p99", "mem p50", "mem p99", "added p50", "added p99"))
        for label, n, c50, c99, w50, w99 in rows:
            print("%-18s %6d %10.0f %10.0f %10.0f %10.0f %12.0f %12.0f" % (
                label, n, c50, c99, w50, w99, c50 - w50, c99 - w99))
        print("B1: %d fetches, %d found data, %d upstream queries" % (
            st1["redis.lookups"], st1["redis.lookup_hits"],
            st1["upstream_udp"] + st1["upstream_tcp"]))
        print("\nB2 cold, %d names once each at full speed (dnsperf -c 4 -q 100):"
              % (args.hosts - LAT_N))
        print("  from Redis:  %8.0f q/s  (lost %d)" % (
            field(cold, r"Queries per second:\s+([\d.]+)"),
            field(cold, r"Queries lost:\s+(\d+)", int)))
        print("  from memory: %8.0f q/s  (the same names again)" % field(
            warm, r"Queries per second:\s+([\d.]+)"))
        print("  hit ratio: %.4f (%d of %d fetches found data); upstream queries: %d" % (
            hits / lookups if lookups else 0, hits, lookups, upstream))
    finally:
        for r in started:
            r.stop()
        if redis:
            redis.stop()
        h.stop()
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()
