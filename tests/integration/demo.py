#!/usr/bin/python3
"""Serve a small DNS hierarchy on loopback for trying chaindns by hand
(there is no internet on the development machines).

    /usr/bin/python3 tests/integration/demo.py

starts NSD servers on 127.53.250.x port 10053 for the root, com., net.,
example.com. (with a CNAME chain into cdn.net.), an email-provider style
DKIM and MTA-STS delegation (mailhost.net.), a slow CDN provider
(slowcdn.net., 150 ms per answer, served by badauth.py) in the middle of
shop.example.com's chain, a dangling CNAME (promo.example.com points at a
CDN name that was removed) and a CNAME loop across two zones
(static.example.com -> static.example.com.cdn.net -> static.example.com);
prints the root hints file and the resolver command line, and runs until
Ctrl-C or SIGTERM (then stops exactly the servers it started).

Options (scripts/demo.sh uses them):
    --tmpdir DIR   zone files, server logs and the root hints go there, and
                   DIR is left in place (default: a new temporary directory,
                   removed on exit)
    --ready FILE   once every server answers, write FILE (atomically):
                   a line "hints PATH", then one line "server PID KIND ADDR"
                   per server process (each leads a process group of its own)
"""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Hierarchy  # noqa: E402

BASE = 250


def build(tmpdir=None):
    h = Hierarchy(BASE, tmpdir=tmpdir)
    h.zone("com.", [2])
    h.zone("net.", [3])
    h.zone("example.com.", [4], [
        "www 300 CNAME www.example.com.cdn.net.",
        "mail 300 A 192.0.2.25",
        "@ 300 MX 10 mail",
        "selector1._domainkey 300 CNAME selector1-example-com._domainkey.mailhost.net.",
        "mta-sts 300 CNAME mta-sts.mailhost.net.",
        "shop 300 CNAME shop.example.com.slowcdn.net.",
        # dangling: the CDN configuration behind it was deleted
        "promo 300 CNAME promo.example.com.cdn.net.",
        # a loop across zones: the CDN points back at the origin's name
        "static 300 CNAME static.example.com.cdn.net.",
    ])
    h.zone("cdn.net.", [5], [
        "www.example.com 60 CNAME edge.cdn.net.",
        "edge 60 A 192.0.2.80",
        "edge 60 AAAA 2001:db8::80",
        "static.example.com 60 CNAME static.example.com.",
    ])
    h.badauth(7, delay_ms=150)  # a slow provider
    h.zone("slowcdn.net.", [7], ["shop.example.com 60 CNAME edge.cdn.net."])
    h.zone("mailhost.net.", [6], [
        'selector1-example-com._domainkey 300 TXT "v=DKIM1; k=rsa; p=MIIBIjANBg"',
        "mta-sts 300 A 192.0.2.44",
    ])
    return h


def write_ready(path, h):
    lines = ["hints %s" % h.hints]
    for s in h.servers.values():
        lines.append("server %d %s %s" % (s.pid, s.kind, s.addr))
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.rename(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tmpdir")
    ap.add_argument("--ready")
    args = ap.parse_args()
    if args.tmpdir:
        os.makedirs(args.tmpdir, exist_ok=True)

    # SIGTERM (and SIGINT, unless the parent made us ignore it) ends the
    # demo at any point, also while the servers are starting: the finally
    # below stops whatever was started.
    def stop(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    h = build(args.tmpdir)
    try:
        h.start()
        print("root hints: %s" % h.hints)
        print("run: scripts/run.sh --listen 127.0.0.1:5300 --root-hints %s "
              "--upstream-port 10053 --no-ipv6 --metrics 5399 --negative-trust-anchor ."
              % h.hints)
        print("try: dig @127.0.0.1 -p 5300 www.example.com   (also shop., "
              "mta-sts., promo., static.example.com and "
              "selector1._domainkey.example.com TXT)")
        sys.stdout.flush()
        if args.ready:
            write_ready(args.ready, h)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        # no second signal may cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        h.stop()


if __name__ == "__main__":
    main()
