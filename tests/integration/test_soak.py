#!/usr/bin/python3
"""Soak: a bounded dnsperf run with a mix of cache hits, misses (names
never asked before), two-zone CNAME chains, CNAME loops and NXDOMAINs,
against a resolver whose cache is small enough to fill and evict.

Passes when the resolver is alive and answered every query (dnsperf lost
none), file descriptors are back where they started, and resident memory
stays flat once the cache is full (checked outside sanitizer builds, whose
allocators hold freed memory on purpose). Under ASan+UBSan in CI it also
proves the path clean.

CI runs it for 20 s at 1,500 q/s; `bench/run.sh soak` for three minutes:
    CHAINDNS_SOAK_SECONDS=180 CHAINDNS_SOAK_RATE=5000 \\
        /usr/bin/python3 tests/integration/test_soak.py
It prints the timeline (RSS, descriptors) either way."""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main, rcode  # noqa: E402

BASE = 29
SECONDS = int(os.environ.get("CHAINDNS_SOAK_SECONDS", "20"))
RATE = int(os.environ.get("CHAINDNS_SOAK_RATE", "1500"))
SANITIZED = "asan" in os.environ.get("CHAINDNS_BIN", "")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Soak(IntegrationTest):
    BASE = BASE
    RESOLVER_ARGS = ("--cache-size", "2m", "--threads", "2")

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("example.com.", [4], ["n%d 300 A 192.0.2.%d" % (i, i % 250 + 1)
                                      for i in range(200)]
               + ["c%d 300 CNAME e%d.cdn.net." % (i, i) for i in range(50)]
               + ["loop1 300 CNAME loop2", "loop2 300 CNAME loop1"])
        h.zone("cdn.net.", [5], ["e%d 300 A 198.51.100.%d" % (i, i + 1) for i in range(50)])
        h.zone("wild.net.", [6], ["* 300 A 203.0.113.7"])

    def query_file(self):
        """Every tenth query a name nobody asked before; the rest hits,
        chains, loops and NXDOMAINs; enough lines that dnsperf does not
        come round to the unique names again."""
        n = SECONDS * RATE + 1000
        path = os.path.join(self.tmpdir, "soak.txt")
        with open(path, "w") as f:
            for i in range(n):
                k = i % 10
                if k == 0:
                    f.write("u%d.wild.net A\n" % i)
                elif k <= 5:
                    f.write("n%d.example.com A\n" % (i % 200))
                elif k <= 7:
                    f.write("c%d.example.com A\n" % (i % 50))
                elif k == 8:
                    f.write("loop1.example.com A\n")
                else:
                    f.write("missing%d.example.com A\n" % (i % 500))
        return path

    def test_soak(self):
        r = self.resolver
        pid = r.proc.pid
        # Warm the delegations, and check the mix answers as it should.
        self.assertEqual(answers(r.udp("n1.example.com"))[0][2], "192.0.2.2")
        self.assertEqual(answers(r.udp("c1.example.com"))[-1][2], "198.51.100.2")
        self.assertEqual(rcode(r.udp("loop1.example.com")), "SERVFAIL")
        self.assertEqual(rcode(r.udp("missing1.example.com")), "NXDOMAIN")
        fd0, rss0 = fds(pid), rss_kib(pid)
        qfile = self.query_file()
        p = subprocess.Popen(["dnsperf", "-s", r.addr, "-p", str(r.port), "-d", qfile,
                              "-l", str(SECONDS), "-Q", str(RATE), "-c", "4", "-t", "5"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timeline = []
        t0 = time.monotonic()
        while p.poll() is None and time.monotonic() - t0 < SECONDS + 30:
            time.sleep(1)
            self.assertTrue(r.alive(), r.log[-3000:])
            timeline.append((round(time.monotonic() - t0), rss_kib(pid), fds(pid)))
        out, _ = p.communicate(timeout=30)
        time.sleep(2)  # upstream sockets of the last resolutions close
        fd1, rss1 = fds(pid), rss_kib(pid)
        sys.stderr.write("\nsoak %ds at %d q/s%s: RSS %d -> %d KiB, fds %d -> %d\n" % (
            SECONDS, RATE, " (sanitized)" if SANITIZED else "", rss0, rss1, fd0, fd1))
        for t, rss, nfd in timeline[::max(1, len(timeline) // 10)]:
            sys.stderr.write("  t=%3ds RSS %7d KiB fds %d\n" % (t, rss, nfd))
        sys.stderr.write("".join(l + "\n" for l in out.splitlines()
                                 if "Queries" in l or "Response codes" in l))
        self.assertTrue(r.alive(), r.log[-3000:])
        sent = int(re.search(r"Queries sent:\s+(\d+)", out).group(1))
        lost = int(re.search(r"Queries lost:\s+(\d+)", out).group(1))
        self.assertGreater(sent, SECONDS * RATE * 0.9, out)
        self.assertEqual(lost, 0, out)
        self.assertIn("NXDOMAIN", out)
        self.assertIn("SERVFAIL", out)  # the loops
        self.assertLessEqual(fd1, fd0 + 2, timeline)
        if not SANITIZED and len(timeline) >= 10:
            # Flat once full: the last half grows by less than 10 %.
            mid = timeline[len(timeline) // 2][1]
            self.assertLess(rss1, mid * 1.10 + 1024, timeline)


if __name__ == "__main__":
    main()
