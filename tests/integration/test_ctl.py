#!/usr/bin/python3
"""Cache control for operators: `chaindns ctl flush NAME`, `flush-zone
ZONE` and `stats`, over the resolver's control socket (and, with the control
token, over the metrics listener: POST /cache/flush, GET /cache/stats). A
flush reaches every tier: the memory cache, every worker's answer cache and
the shared Redis, so the next query goes to the network; names outside what
was flushed stay cached. The attacks on these doors are in test_admin.py."""

import json
import os
import subprocess
import sys

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
        return res.ctl(*args)

    def ctl_http(self, res, token_file, *args):
        metrics = res.metrics_url[len("http://"):]
        return subprocess.run([resolver_bin(), "ctl", "--metrics", metrics, "--token-file",
                               token_file] + list(args),
                              capture_output=True, text=True, timeout=30)

    def token_file(self, name="token", text="s3cret-token-0123456789"):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, 0o600)
        return path

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
        out = self.ctl(r, "flush", "x" * 300)  # a label longer than 63
        self.assertEqual(out.returncode, 1)
        self.assertIn("not a domain name", out.stderr)
        out = self.ctl(r, "flush")
        self.assertEqual(out.returncode, 2)
        self.assertIn("usage", out.stderr)
        out = self.ctl(r, "flush", "a\nstats")  # one request line, no smuggling
        self.assertEqual(out.returncode, 2)
        # Without a control token, HTTP serves no cache control at all.
        for path in ("/cache/flush?name=www.example.com", "/cache/stats"):
            status, body = r.http(path)
            self.assertEqual(status, 404, path)
            self.assertIn("control-token-file", body)
        out = subprocess.run([resolver_bin(), "ctl", "--control",
                              os.path.join(self.tmpdir, "nobody.sock"), "stats"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot reach", out.stderr)
        out = subprocess.run([resolver_bin(), "ctl", "--metrics", "127.34.9.9:1", "stats"],
                             capture_output=True, text=True, timeout=20)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--token-file", out.stderr)

    def test_over_http_with_the_token(self):
        token = self.token_file()
        r = self.start_resolver(["--control-token-file", token], n=4, metrics=True)
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        before = self.asked(4, "www.example.com.")
        out = self.ctl_http(r, token, "flush", "www.example.com")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout),
                         {"name": "www.example.com.", "memory_entries": 1,
                          "answer_caches_cleared": 1, "redis_keys": "off"})
        self.assertEqual(len(answers(r.udp("www.example.com"))), 1)
        self.assertEqual(self.asked(4, "www.example.com."), before + 1)
        out = self.ctl_http(r, token, "stats")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertGreater(json.loads(out.stdout)["memory"]["entries"], 0)
        auth = {"Authorization": "Bearer s3cret-token-0123456789"}
        status, _ = http_request(r, "GET", "/cache/flush?name=www.example.com", auth)
        self.assertEqual(status, 405)  # a link or a prefetch cannot flush
        status, _ = http_request(r, "POST", "/cache/flush?name=" + "x" * 300, auth)
        self.assertEqual(status, 400)
        status, _ = http_request(r, "POST", "/cache/flush", auth)
        self.assertEqual(status, 400)
        # The socket works beside it.
        out = self.ctl(r, "stats")
        self.assertEqual(out.returncode, 0, out.stderr)
        # A token file that is not the resolver's.
        other = self.token_file("other", "another-token-0123456789")
        out = self.ctl_http(r, other, "stats")
        self.assertEqual(out.returncode, 1)
        self.assertIn("Authorization: Bearer", out.stderr)


def http_request(res, method, path, headers=None):
    """(status, body) of one request to the metrics listener."""
    import http.client
    host, port = res.metrics_url[len("http://"):].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request(method, path, headers=headers or {})
        resp = c.getresponse()
        return resp.status, resp.read().decode()
    finally:
        c.close()


if __name__ == "__main__":
    main()
