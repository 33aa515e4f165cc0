#!/usr/bin/python3
"""Logs as JSON lines, and the query log: one line per answered query with
client, name, type, rcode, chain length, duration and source, on the full
path, on the cache-hit fast path, over TCP, and for refused clients."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main, rcode, udp, wait_for  # noqa: E402

BASE = 33
OUTSIDE = "127.33.9.9"


class Logging(IntegrationTest):
    BASE = BASE
    RESOLVER_ARGS = ("--log-format", "json", "--query-log", "on",
                     "--allow", "127.0.0.1/32", "--allow", "127.54.0.0/16")

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("example.com.", [4], ["www 300 CNAME edge.cdn.net.", "plain 300 A 192.0.2.9"])
        h.zone("cdn.net.", [5], ["edge 300 A 192.0.2.1"])

    def entries(self):
        out = []
        for line in self.resolver.log.splitlines():
            out.append(json.loads(line))  # every line is one JSON object
        return out

    def queries(self, name):
        return [e for e in self.entries() if e.get("msg") == "query" and e["name"] == name]

    def test_json_lines_and_query_log(self):
        r = self.resolver
        self.assertEqual(answers(r.udp("www.example.com"))[-1][2], "192.0.2.1")
        self.assertEqual(answers(r.udp("WWW.example.com"))[-1][2], "192.0.2.1")  # fast path
        self.assertEqual(answers(r.tcp("plain.example.com"))[-1][2], "192.0.2.9")
        self.assertEqual(rcode(udp(r.server_addr, "plain.example.com", source=OUTSIDE)),
                         "REFUSED")
        self.assertTrue(wait_for(lambda: len(self.queries("plain.example.com.")) == 2, 3))
        first, hit = self.queries("www.example.com.") + self.queries("WWW.example.com.")
        for e in (first, hit):
            self.assertEqual((e["level"], e["type"], e["rcode"], e["chain"], e["proto"]),
                             ("info", "A", "NOERROR", 1, "udp"))
            self.assertTrue(e["client"].startswith("127.0.0.1"), e)
            self.assertIsInstance(e["ms"], float)
        self.assertEqual(first["source"], "network")
        self.assertEqual(hit["source"], "memory")
        self.assertGreater(first["ms"], hit["ms"])
        tcp, refused = self.queries("plain.example.com.")
        self.assertEqual((tcp["proto"], tcp["chain"], tcp["source"]), ("tcp", 0, "network"))
        self.assertEqual((refused["rcode"], refused["source"]), ("REFUSED", "none"))
        self.assertTrue(refused["client"].startswith(OUTSIDE), refused)
        # Ordinary log lines are JSON too, with a timestamp and a level.
        ready = [e for e in self.entries() if "ready" in e.get("msg", "")]
        self.assertEqual(len(ready), 1)
        self.assertRegex(ready[0]["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


if __name__ == "__main__":
    main()
