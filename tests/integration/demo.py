#!/usr/bin/python3
"""Serve a small DNS hierarchy on loopback for trying chaindns by hand
(there is no internet on the development machines).

    /usr/bin/python3 tests/integration/demo.py

starts NSD servers on 127.53.250.x port 10053 for the root, com., net.,
example.com. (with a CNAME chain into cdn.net.), an email-provider style
DKIM delegation, and a slow CDN provider (slowcdn.net., 150 ms per answer,
served by badauth.py) in the middle of shop.example.com's chain; prints the
root hints file and the resolver command line, and runs until Ctrl-C (then
stops exactly the servers it started)."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Hierarchy  # noqa: E402

BASE = 250


def build():
    h = Hierarchy(BASE)
    h.zone("com.", [2])
    h.zone("net.", [3])
    h.zone("example.com.", [4], [
        "www 300 CNAME www.example.com.cdn.net.",
        "mail 300 A 192.0.2.25",
        "@ 300 MX 10 mail",
        "selector1._domainkey 300 CNAME selector1-example-com._domainkey.mailhost.net.",
        "mta-sts 300 CNAME mta-sts.mailhost.net.",
        "shop 300 CNAME shop.example.com.slowcdn.net.",
    ])
    h.zone("cdn.net.", [5], [
        "www.example.com 60 CNAME edge.cdn.net.",
        "edge 60 A 192.0.2.80",
        "edge 60 AAAA 2001:db8::80",
    ])
    h.badauth(7, delay_ms=150)  # a slow provider
    h.zone("slowcdn.net.", [7], ["shop.example.com 60 CNAME edge.cdn.net."])
    h.zone("mailhost.net.", [6], [
        'selector1-example-com._domainkey 300 TXT "v=DKIM1; k=rsa; p=MIIBIjANBg"',
        "mta-sts 300 A 192.0.2.44",
    ])
    return h


def main():
    h = build()
    h.start()
    print("root hints: %s" % h.hints)
    print("run: scripts/run.sh --listen 127.0.0.1:5300 --root-hints %s "
          "--upstream-port 10053 --no-ipv6 --metrics 5399" % h.hints)
    print("try: dig @127.0.0.1 -p 5300 www.example.com")
    sys.stdout.flush()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    try:
        while not stop:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        h.stop()


if __name__ == "__main__":
    main()
