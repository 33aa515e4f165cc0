#!/usr/bin/python3
"""The process: access control (--allow), malformed queries, command line
and YAML config handling, --help/--version, SIGTERM exit status.

Resolvers: 127.54.18.1 runs with --allow 127.99.0.0/16; 127.54.18.2 has no
--allow; 127.54.18.3 is configured only through a YAML file; 127.54.18.4
listens on two addresses (.4 and .5); 127.54.18.9 also on [::1]:5318."""

import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dns.message  # noqa: E402

from harness import (PORT, RESOLVER_PORT, Chaindns, IntegrationTest,  # noqa
                     answers, main, make_query, resolver_addr, run_chaindns,
                     tcp, udp, udp_raw)


class Process(IntegrationTest):
    BASE = 18
    RESOLVER_ARGS = ("--allow", "127.99.0.0/16")

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("example.com.", [3], ["www 300 A 192.0.2.1"])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.open = cls.start_resolver((), n=2)
        except BaseException:
            cls.tearDownClass()
            raise

    def write(self, name, text):
        path = os.path.join(self.tmpdir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def assertAlive(self, resolver):
        r = resolver.udp("www.example.com", "A", timeout=3)
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.1"])
        self.assertTrue(resolver.alive())

    # -- ACL ---------------------------------------------------------------
    def test_acl_refuses_outside_source(self):
        r = udp(self.resolver.server_addr, "www.example.com", "A",
                source="127.0.0.1")
        self.assertRcode(r, "REFUSED")
        self.assertEqual(answers(r), [])

    def test_acl_refuses_outside_source_tcp(self):
        try:
            r = tcp(self.resolver.server_addr, "www.example.com", "A",
                    source="127.0.0.1")
        except (EOFError, ConnectionError, OSError):
            return  # closing the connection is a refusal too
        self.assertRcode(r, "REFUSED")
        self.assertEqual(answers(r), [])

    def test_acl_allows_inside_source(self):
        r = udp(self.resolver.server_addr, "www.example.com", "A",
                source="127.99.0.5")
        self.assertResolved(r)
        self.assertEqual([a[2] for a in answers(r)], ["192.0.2.1"])

    def test_acl_default_allows_loopback(self):
        r = udp(self.open.server_addr, "www.example.com", "A",
                source="127.0.0.1")
        self.assertResolved(r)

    # -- malformed queries -------------------------------------------------
    def assertFormerrOrSilent(self, wire, note):
        reply = udp_raw(self.open.server_addr, wire, timeout=1.0)
        if reply is not None:
            self.assertGreaterEqual(len(reply), 12, note)
            flags = struct.unpack("!H", reply[2:4])[0]
            self.assertTrue(flags & 0x8000, "%s: reply without QR" % note)
            self.assertEqual(flags & 0xF, 1, "%s: rcode %d, want FORMERR"
                             % (note, flags & 0xF))
            if len(wire) >= 2:
                self.assertEqual(reply[:2], wire[:2], "%s: ID" % note)
        self.assertAlive(self.open)

    def test_malformed_garbage(self):
        self.assertFormerrOrSilent(os.urandom(40), "garbage")

    def test_malformed_short_header(self):
        self.assertFormerrOrSilent(b"\x12\x34\x01\x00\x00", "5-byte header")

    def test_malformed_empty_datagram(self):
        self.assertFormerrOrSilent(b"", "empty datagram")

    def test_malformed_missing_question(self):
        # header says QDCOUNT=1, no question follows
        wire = struct.pack("!HHHHHH", 0x4321, 0x0100, 1, 0, 0, 0)
        self.assertFormerrOrSilent(wire, "QDCOUNT=1 without question")

    def test_malformed_truncated_question(self):
        wire = make_query("www.example.com", "A", edns=False).to_wire()
        self.assertFormerrOrSilent(wire[:-3], "question cut short")

    def test_malformed_label_pointer_loop(self):
        # question name is a compression pointer to itself
        wire = struct.pack("!HHHHHH", 0x5555, 0x0100, 1, 0, 0, 0)
        wire += b"\xc0\x0c" + struct.pack("!HH", 1, 1)
        self.assertFormerrOrSilent(wire, "pointer loop")

    def test_response_sent_as_query(self):
        q = make_query("www.example.com", "A", qid=0x7777)
        resp = dns.message.make_response(q)
        wire = resp.to_wire()
        reply = udp_raw(self.open.server_addr, wire, timeout=1.0)
        if reply is not None:
            flags = struct.unpack("!H", reply[2:4])[0]
            self.assertEqual(flags & 0xF, 1, "QR=1 packet: rcode %d, want "
                             "FORMERR or no reply" % (flags & 0xF))
        self.assertAlive(self.open)

    def test_malformed_tcp(self):
        s = socket.create_connection(self.open.server_addr, timeout=3)
        try:
            junk = os.urandom(30)
            s.sendall(struct.pack("!H", len(junk)) + junk)
            s.settimeout(2)
            try:
                s.recv(65535)  # FORMERR, close, or nothing: all fine
            except (socket.timeout, OSError):
                pass
        finally:
            s.close()
        self.assertAlive(self.open)

    def test_many_malformed_then_normal(self):
        for i in range(50):
            udp_raw(self.open.server_addr, os.urandom(i + 1), timeout=0.01)
        self.assertAlive(self.open)

    # -- command line, config ------------------------------------------------
    def test_help(self):
        p = run_chaindns(["--help"], timeout=5)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout + p.stderr
        self.assertRegex(out.lower(), r"usage")
        for flag in ("--listen", "--root-hints", "--max-chain-length",
                     "--allow", "--config"):
            self.assertIn(flag, out)

    def test_version(self):
        p = run_chaindns(["--version"], timeout=5)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue((p.stdout + p.stderr).strip(), "empty --version")
        self.assertRegex(p.stdout + p.stderr, r"\d+\.\d+")

    def test_unknown_flag(self):
        p = run_chaindns(["--no-such-flag"], timeout=5)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--no-such-flag", p.stderr)

    def test_config_unknown_key(self):
        path = self.write("bad.yaml",
                          "# chaindns test config\n"
                          "log-level: info\n"
                          "frobnicate-widgets: 7\n"
                          "threads: 1\n")
        p = run_chaindns(["--config", path], timeout=5)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path, p.stderr)
        self.assertIn("frobnicate-widgets", p.stderr)
        rest = p.stderr.replace(path, "")
        self.assertRegex(rest, r"(?<![\d.])3(?![\d.])",
                         "line number 3 not named: %r" % p.stderr)

    def test_config_missing_file(self):
        path = os.path.join(self.tmpdir, "does-not-exist.yaml")
        p = run_chaindns(["--config", path], timeout=5)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(path, p.stderr)

    def test_config_file_works(self):
        addr = resolver_addr(self.BASE, 3)
        path = self.write("good.yaml",
                          "# chaindns test config\n"
                          "listen:\n"
                          "  - %s:%d\n"
                          "root-hints: %s\n"
                          "upstream-port: %d\n"
                          "ipv6: false\n"
                          "max-chain-length: 8\n"
                          "cache-size: 4m\n"
                          "threads: 2\n"
                          "allow:\n"
                          "  - 127.0.0.0/8\n"
                          "log-level: info\n"
                          "negative-trust-anchor:\n"
                          "  - .   # the test root is unsigned\n"
                          % (addr, RESOLVER_PORT, self.h.hints, PORT))
        r = Chaindns(self.BASE, self.h.hints, ["--config", path],
                     self.tmpdir, n=3, default_args=False, name="yaml")
        self.extra_resolvers.append(r)
        r.start()
        self.assertAlive(r)
        self.assertEqual(r.stop(), 0, r.log)

    def test_two_listen_addresses(self):
        other = "%s:%d" % (resolver_addr(self.BASE, 5), RESOLVER_PORT)
        r = self.start_resolver(("--listen", other), n=4)
        self.assertAlive(r)
        m = udp((resolver_addr(self.BASE, 5), RESOLVER_PORT),
                "www.example.com", "A")
        self.assertResolved(m)
        self.assertEqual(r.stop(), 0, r.log)

    def test_listen_ipv6_loopback(self):
        # clients over IPv6 (authorities stay IPv4). Port 5300 + BASE so no
        # other module's resolver can collide on [::1].
        try:
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind(("::1", 0))
            s.close()
        except OSError:
            self.skipTest("no ::1 on this machine")
        port = RESOLVER_PORT + self.BASE
        r = self.start_resolver(("--listen", "[::1]:%d" % port), n=9)
        m = udp(("::1", port), "www.example.com", "A")
        self.assertResolved(m)
        self.assertEqual([a[2] for a in answers(m)], ["192.0.2.1"])
        m = tcp(("::1", port), "www.example.com", "A")
        self.assertResolved(m)
        self.assertEqual(r.stop(), 0, r.log)

    def test_sigterm_exit_status(self):
        r = self.start_resolver((), n=6)
        self.assertAlive(r)
        self.assertEqual(r.stop(), 0, r.log)
        self.assertFalse(r.alive())

    def test_sigterm_while_busy(self):
        r = self.start_resolver(("--threads", "2"), n=7)
        # fire a burst of queries without reading replies, then stop
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for i in range(200):
                q = make_query("n%d.example.com" % i, "A")
                s.sendto(q.to_wire(), r.server_addr)
        finally:
            s.close()
        self.assertEqual(r.stop(), 0, r.log)

    def test_logs_to_stderr(self):
        r = self.start_resolver(("--log-level", "debug"), n=8)
        self.assertAlive(r)
        self.assertEqual(r.stop(), 0)
        self.assertTrue(r.log.strip(), "nothing logged at debug level")


if __name__ == "__main__":
    main()
