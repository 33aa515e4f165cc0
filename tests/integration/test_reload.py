#!/usr/bin/python3
"""SIGHUP re-reads the configuration file: the access list, the log level
and the limits change at once, the cache is kept (no upstream query for a
name learned before), keys that need a restart are named, and a bad file
changes nothing and says where it is wrong."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import IntegrationTest, answers, main, rcode, udp, wait_for  # noqa: E402

BASE = 32
OTHER = "127.32.9.9"  # a client address outside the narrowed access list


class Reload(IntegrationTest):
    BASE = BASE
    START_RESOLVER = False

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.badauth(3)  # logs the queries it gets
        h.zone("example.com.", [3], ["www 3600 A 192.0.2.1", "mail 3600 A 192.0.2.2"])

    def write_config(self, text):
        with open(self.conf, "w") as f:
            f.write(text)

    def reload(self, r, marker):
        before = r.log.count(marker)
        r.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: r.log.count(marker) > before, 5), r.log[-2000:])
        time.sleep(0.2)  # the workers take the new configuration on their loops

    def test_reload(self):
        self.conf = os.path.join(self.tmpdir, "chaindns.yaml")
        self.write_config('allow: ["127.0.0.0/8"]\nlog-level: info\nratelimit: 0\n')
        r = self.start_resolver(["--config", self.conf, "--threads", "2"])
        self.assertEqual(answers(r.udp("www.example.com"))[0][2], "192.0.2.1")
        self.assertEqual(rcode(udp(r.server_addr, "www.example.com", source=OTHER)), "NOERROR")
        asked = self.h.server(3).count(qname="www.example.com.")

        # Narrow the access list, log at debug level, limit the rate.
        self.write_config('allow: ["127.0.0.1/32", "127.54.0.0/16"]\nlog-level: debug\n'
                          'ratelimit: 5\nratelimit-slip: 0\n')
        self.reload(r, "configuration reloaded")
        self.assertEqual(rcode(udp(r.server_addr, "www.example.com", source=OTHER)), "REFUSED")
        # The cache survived: answered without asking the authority again.
        self.assertEqual(answers(r.udp("www.example.com"))[0][2], "192.0.2.1")
        self.assertEqual(self.h.server(3).count(qname="www.example.com."), asked)
        self.assertEqual(answers(r.udp("mail.example.com"))[0][2], "192.0.2.2")
        self.assertIn(" debug ", r.log)
        answered = 0
        for _ in range(30):
            try:
                udp(r.server_addr, "www.example.com", timeout=0.3)
                answered += 1
            except Exception:  # noqa: BLE001
                pass
        self.assertLess(answered, 30)  # the limiter, created by the reload

        # A key that needs a restart is named, and kept as it runs.
        self.write_config('allow: ["127.0.0.0/8"]\ncache-size: 128m\n')
        self.reload(r, "needing a restart")
        self.assertIn("cache-size", r.log.splitlines()[-1] + r.log)
        time.sleep(1.1)  # whatever the limiter did, its buckets are full again
        self.assertEqual(rcode(udp(r.server_addr, "www.example.com", source=OTHER)), "NOERROR")

        # A bad file changes nothing and names file, line and key.
        self.write_config('allow: ["127.0.0.1/32"]\nmax-requests: lots\n')
        self.reload(r, "keeping the running configuration")
        self.assertIn("%s:2: key 'max-requests'" % self.conf, r.log)
        self.assertEqual(rcode(udp(r.server_addr, "www.example.com", source=OTHER)), "NOERROR")
        self.assertTrue(r.alive())


if __name__ == "__main__":
    main()
