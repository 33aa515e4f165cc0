#!/usr/bin/python3
"""Cache control for operators: `chaindns ctl flush NAME`, `flush-zone
ZONE` and `stats`, over the metrics listener (POST /cache/flush, GET
/cache/stats). A flush reaches every tier: the memory cache, every worker's
answer cache and the shared Redis, so the next query goes to the network;
names outside what was flushed stay cached."""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main, resolver_bin, wait_for  # noqa: E402

BASE = 34


class Ctl(IntegrationTest):
    BASE = BASE
    WITH_REDIS = True
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("org.", [3])
        h.badauth(4)  # counts the queries it gets
        h.zone("example.com.", [4], ["www 3600 A 192.0.2.1", "mail 3600 A 192.0.2.2",
                                      "a.sub 3600 A 192.0.2.3"])
        h.badauth(5)
        h.zone("other.org.", [5], ["www 3600 A 192.0.2.4"])

    def ctl(self, res, *args):
        metrics = res.metrics_url[len("http://"):]
        return subprocess.run([resolver_bin(), "ctl", "--metrics", metrics] + list(args),
                              capture_output=True, text=True, timeout=20)

    def asked(self, n, name):
        return self.h.server(n).count(qname=name)

    def test_flush_name_and_zone_in_every_tier(self):
        r = self.start_resolver(["--redis-url", self.redis.url, "--redis-prefix", "c",
                                 "--threads", "2"], n=2, metrics=True)
        rc = self.redis.client()
        names = ["www.example.com.", "mail.example.com.", "a.sub.example.com.", "www.other.org."]
        for name in names:
            self.assertEqual(len(answers(r.udp(name))), 1)
            # Now in the answer cache of the worker that answered; each query
            # comes from a new port, so the kernel picks a worker (of two) at
            # random: five more make a hit all but certain (1 in 10^6 to
            # miss for all four names), which the stats below count on.
            for _ in range(5):
                self.assertEqual(len(answers(r.udp(name))), 1)
        for name in names:
            key = "c:v2:rr:%s:A" % name
            self.assertTrue(wait_for(lambda: rc.exists(key), 3), key)

        out = self.ctl(r, "flush", "WWW.Example.com")
        self.assertEqual(out.returncode, 0, out.stderr)
        res = json.loads(out.stdout)
        self.assertEqual(res["name"], "www.example.com.")
        self.assertEqual(res["memory_entries"], 1)
        self.assertEqual(res["answer_caches_cleared"], 2)
        self.assertEqual(res["redis_keys"], 1)
        self.assertFalse(rc.exists("c:v2:rr:www.example.com.:A"))
        self.assertTrue(rc.exists("c:v2:rr:mail.example.com.:A"))
        before = {n: self.asked(4, n) for n in names[:3]}
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        self.assertEqual(len(answers(r.udp("mail.example.com"))), 1)
        self.assertEqual(self.asked(4, "www.example.com."), before["www.example.com."] + 1)
        self.assertEqual(self.asked(4, "mail.example.com."), before["mail.example.com."])

        out = self.ctl(r, "flush-zone", "example.com")
        self.assertEqual(out.returncode, 0, out.stderr)
        res = json.loads(out.stdout)
        self.assertEqual(res["zone"], "example.com.")
        self.assertGreaterEqual(res["memory_entries"], 3)  # the three names (and the NS set)
        # the three names, and sub.example.com.'s NODATA for A that QNAME
        # minimisation learned on the way to a.sub.example.com.
        self.assertEqual(res["redis_keys"], 4)
        for name in names[:3]:
            self.assertFalse(rc.exists("c:v2:rr:%s:A" % name), name)
        self.assertTrue(rc.exists("c:v2:rr:www.other.org.:A"))
        before = {n: self.asked(4, n) for n in names[:3]}
        other = self.asked(5, "www.other.org.")
        for name in names:
            self.assertEqual(len(answers(r.udp(name))), 1)
        for name in names[:3]:
            self.assertEqual(self.asked(4, name), before[name] + 1, name)
        self.assertEqual(self.asked(5, "www.other.org."), other)  # still cached

        out = self.ctl(r, "stats")
        self.assertEqual(out.returncode, 0, out.stderr)
        st = json.loads(out.stdout)
        self.assertGreater(st["memory"]["entries"], 0)
        self.assertGreater(st["answer"]["hits"], 0)
        # "up" counts the workers whose connection is ready: two threads.
        self.assertEqual((st["redis"]["enabled"], st["redis"]["up"]), (True, 2))

    def test_bad_requests(self):
        r = self.start_resolver(n=3, metrics=True)
        # No Redis here: the flush says so, and still flushes memory.
        out = self.ctl(r, "flush", "www.example.com")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["redis_keys"], "off")
        self.assertEqual(r.http("/cache/flush?name=www.example.com")[0], 405)  # GET
        req = urllib.request.Request(r.metrics_url + "/cache/flush?name=" + "x" * 300,
                                     method="POST")
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=5)
        self.assertEqual(e.exception.code, 400)
        out = self.ctl(r, "flush")
        self.assertEqual(out.returncode, 2)
        self.assertIn("usage", out.stderr)
        out = subprocess.run([resolver_bin(), "ctl", "--metrics", "127.34.9.9:1", "stats"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot reach", out.stderr)


if __name__ == "__main__":
    main()
