#!/usr/bin/python3
"""TCP clients that misuse a connection (issue 17, item 4), each attack
performed against a running resolver over real sockets:

- clients outside the access list opening connections: closed at accept,
  so they never hold a slot an allowed client needs."""

import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (RESOLVER_PORT, IntegrationTest, answers, main,  # noqa: E402
                     metric, rcode, tcp, udp)

BASE = 44


def allowed_client(n=5):
    return "127.99.%d.%d" % (BASE, n)


def outside_client(n):
    """A source address outside --allow 127.99.44.0/24."""
    return "127.99.%d.%d" % (BASE + 100, n)


def connect(server, source=None, rcvbuf=None, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        # Before connect, so the window is small from the start: the kernel
        # then holds little of what the server sends, and the rest has to
        # queue in the server.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(server)
    return s


def closed_by_peer(s, within):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


class TcpAbuse(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("wild.com.", [3], ["* 300 A 192.0.2.1"])

    # -- (c) access list at accept ---------------------------------------------
    def test_clients_outside_the_acl_take_no_slot(self):
        slots = 16
        r = self.start_resolver(["--allow", "127.99.%d.0/24" % BASE,
                                 "--tcp-max-connections", str(slots)], n=2, metrics=True)
        server = (r.addr, RESOLVER_PORT)
        # Twice the slots, from four addresses outside the list, all kept
        # open by the attacker.
        attackers = [connect(server, source=outside_client(1 + i % 4))
                     for i in range(2 * slots)]
        try:
            for s in attackers:
                self.assertTrue(closed_by_peer(s, 5), "a client outside the access list "
                                "kept its connection")
            # An allowed client gets in and is answered, several times.
            for i in range(3):
                m = tcp(server, "a%d.wild.com" % i, source=allowed_client())
                self.assertEqual(answers(m)[0][2], "192.0.2.1")
            m = r.metrics()
            self.assertEqual(metric(m, "chaindns_acl_refused_connections_total"), 2 * slots)
            self.assertEqual(metric(m, "chaindns_tcp_connections_refused_total"), 0)
        finally:
            for s in attackers:
                s.close()
        # UDP from outside the list is still REFUSED, per query.
        self.assertEqual(rcode(udp(server, "www.wild.com", source=outside_client(9))),
                         "REFUSED")


if __name__ == "__main__":
    main()
