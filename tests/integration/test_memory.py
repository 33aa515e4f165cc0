#!/usr/bin/python3
"""Memory is bounded by cache-size: after far more names than fit, the
resolver's resident memory has grown by at most 10 % more than cache-size
(the governor trims the RRset cache to pay for the allocator's overhead),
and it still answers. Skipped under AddressSanitizer, whose shadow memory
and quarantine make resident memory mean something else."""

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main, resolver_bin  # noqa: E402

CACHE_MIB = 16
NAMES = 150000  # about 20 MiB of RRsets alone


def sanitized():
    out = subprocess.run([resolver_bin(), "--version"], capture_output=True, text=True).stdout
    return "+asan" in out


@unittest.skipIf(sanitized(), "resident memory under ASan is not the resolver's")
class MemoryBound(IntegrationTest):
    BASE = 25
    RESOLVER_ARGS = ("--cache-size", "%dm" % CACHE_MIB)

    @classmethod
    def build(cls, h):
        h.zone("net.", [2])
        h.zone("wild.net.", [3], ["* 86400 A 192.0.2.7"])

    def rss_kib(self):
        with open("/proc/%d/status" % self.resolver.proc.pid) as f:
            return int([l for l in f if l.startswith("VmRSS")][0].split()[1])

    def test_growth_stays_within_cache_size(self):
        base = self.rss_kib()
        qfile = os.path.join(self.tmpdir, "names.txt")
        with open(qfile, "w") as f:
            f.writelines("m%d.wild.net A\n" % i for i in range(NAMES))
        subprocess.run(["dnsperf", "-s", self.resolver.addr, "-p", str(self.resolver.port),
                        "-d", qfile, "-n", "1", "-c", "4", "-q", "50", "-t", "5"],
                       capture_output=True, timeout=300, check=True)
        time.sleep(2.5)  # the governor looks once a second
        growth_mib = (self.rss_kib() - base) / 1024
        self.assertLessEqual(growth_mib, CACHE_MIB * 1.10,
                             "grew %.1f MiB for cache-size %d MiB" % (growth_mib, CACHE_MIB))
        self.assertGreater(growth_mib, CACHE_MIB * 0.5)  # the cache is really used
        self.assertIn("memory: resident growth", self.resolver.log)
        r = self.resolver.udp("m%d.wild.net" % (NAMES - 1))
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.7"])


if __name__ == "__main__":
    main()
