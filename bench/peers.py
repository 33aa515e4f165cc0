"""The resolvers the benchmarks compare, behind one small interface:
chaindns, Debian's Unbound, PowerDNS Recursor and Knot Resolver, each with
one worker thread, started and stopped by PID, pinned to a CPU, and measured by
/proc (CPU seconds, resident memory).

Every peer listens on 127.54.<base>.<n>:5300 and asks the authorities of
the hierarchy it is given on port 53 (Unbound and PowerDNS Recursor cannot
ask another port).

Every peer takes `extra`: for chaindns command-line arguments, for the others
configuration lines appended after the defaults (Unbound: under `server:`;
PowerDNS Recursor: `key=value` lines; Knot Resolver: Lua statements). A later
line wins in all three, so `extra` can also override a default, e.g.
UnboundPeer(..., extra=["prefetch: yes"])."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "integration"))

import harness  # noqa: E402
from harness import udp, wait_for  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Peer:
    name = "?"

    def __init__(self, base, n, tmpdir):
        self.addr = harness.resolver_addr(base, n)
        self.port = 5300
        self.server_addr = (self.addr, self.port)
        self.dir = os.path.join(tmpdir, "%s-%d" % (self.name, n))
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def _spawn(self, argv):
        self.err = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.err,
                                     stderr=self.err, start_new_session=True)
        harness._live.append(self.proc)

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited: %s" % (self.name, open(self.err.name).read()))
            try:
                udp(self.server_addr, ".", "NS", timeout=0.25)
                return True
            except Exception:
                return False
        if not wait_for(ready, 20):
            raise RuntimeError("%s did not answer within 20 s" % self.name)

    def write_conf(self, filename, lines):
        path = os.path.join(self.dir, filename)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    @property
    def pid(self):
        return self.proc.pid

    def pin(self, cpu):
        """Every thread of the process on one CPU."""
        subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(self.pid)],
                       check=True, capture_output=True)

    def cpu_seconds(self):
        """(user, system) CPU seconds of the whole process so far."""
        with open("/proc/%d/stat" % self.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK  # utime, stime

    def rss_kib(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.proc:
            harness._terminate(self.proc, 10.0, group=True)
            self.err.close()


class ChaindnsPeer(Peer):
    name = "chaindns"

    def __init__(self, base, n, tmpdir, hints, binary, cache_mb=256, extra=(), unsigned_root=True):
        super().__init__(base, n, tmpdir)
        self.hints, self.binary = hints, binary
        self.args = ["--threads", "1", "--cache-size", "%dm" % cache_mb] + list(extra)
        self.unsigned_root = unsigned_root

    def start(self):
        self._spawn([self.binary] + self.args +
                    ["--listen", "%s:%d" % self.server_addr, "--root-hints", self.hints,
                     "--upstream-port", "53", "--no-ipv6", "--log-level", "warn"] +
                    # The test root is unsigned (as Knot's anchor removal says):
                    # chaindns still runs its validator, which finds it insecure.
                    (["--negative-trust-anchor", "."] if self.unsigned_root else []))
        return self


class UnboundPeer(Peer):
    name = "unbound"

    def __init__(self, base, n, tmpdir, hints, cache_mb=256, extra=()):
        super().__init__(base, n, tmpdir)
        self.conf = self.write_conf("unbound.conf", [
            "server:",
            "    interface: %s@%d" % self.server_addr,
            "    access-control: 127.0.0.0/8 allow",
            "    num-threads: 1",
            '    username: ""',
            '    chroot: ""',
            '    directory: "%s"' % self.dir,
            '    pidfile: "%s"' % os.path.join(self.dir, "unbound.pid"),
            "    use-syslog: no",
            "    verbosity: 0",
            "    do-ip6: no",
            "    do-not-query-localhost: no",
            '    root-hints: "%s"' % hints,
            '    module-config: "iterator"',
            "    rrset-cache-size: %dm" % cache_mb,
            "    msg-cache-size: %dm" % (cache_mb // 2),
            "    prefetch: no",
        ] + ["    " + line.strip() for line in extra] + [
            "remote-control:",
            "    control-enable: no",
        ])

    def start(self):
        self._spawn(["unbound", "-d", "-c", self.conf])
        return self


class PdnsPeer(Peer):
    name = "pdns-recursor"

    def __init__(self, base, n, tmpdir, hints, cache_entries=2000000, extra=()):
        super().__init__(base, n, tmpdir)
        self.write_conf("recursor.conf", [
            "local-address=%s" % self.addr,
            "local-port=%d" % self.port,
            "allow-from=127.0.0.0/8",
            "hint-file=%s" % hints,
            "dont-query=",                 # the authorities are on loopback
            "threads=1",
            "pdns-distributes-queries=no",
            "disable-syslog=yes",
            "loglevel=3",
            "socket-dir=%s" % self.dir,
            "security-poll-suffix=",       # no queries to the internet
            "dnssec=off",
            "query-local-address=0.0.0.0",
            "max-cache-entries=%d" % cache_entries,
            "max-packetcache-entries=%d" % cache_entries,
        ] + list(extra))

    def start(self):
        self._spawn(["pdns_recursor", "--config-dir=%s" % self.dir, "--daemon=no"])
        return self


class KresdPeer(Peer):
    """Knot Resolver 5: one kresd process is one worker. Its cache is an LMDB
    file in the peer's directory, mapped into the process, so its resident
    memory counts the cache pages it has touched."""
    name = "knot-resolver"

    def __init__(self, base, n, tmpdir, hints, cache_mb=256, extra=()):
        super().__init__(base, n, tmpdir)
        self.conf = self.write_conf("kresd.conf", [
            "net.listen('%s', %d, { kind = 'dns' })" % self.server_addr,
            "net.ipv6 = false",
            "modules.unload('ta_update')",
            "modules.unload('detect_time_skew')",
            "modules.unload('priming')",
            "trust_anchors.remove('.')",       # the test root is unsigned
            "option('ALLOW_LOCAL', true)",     # the authorities are on loopback
            "modules.load('hints > iterate')",
            "hints.root_file('%s')" % hints,
            "cache.open(%d * MB, 'lmdb://%s')" % (cache_mb, os.path.join(self.dir, "cache")),
            "log_level('warning')",
        ] + list(extra))

    def start(self):
        self._spawn(["kresd", "-n", "-q", "-c", self.conf, self.dir])
        return self
