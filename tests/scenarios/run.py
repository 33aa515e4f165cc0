#!/usr/bin/python3
"""Play `.scn` scenarios against chaindns (and optionally Unbound as a peer).

Why it exists: so a resolver-correctness regression is a short text file
(see README.md here), not a Python module. For each scenario this builds and
signs the zones (zonedata.py), serves them on 127.60.<base>.<n> (authsrv.py,
threads in this process), starts the resolver on 127.61.<base>.1:5300 (Unbound
on .2), sends the queries, compares the answers with the expectations and
prints a diff with the whole response on a mismatch. It stops every process
it started, by PID, and exits non-zero if any scenario failed.

    /usr/bin/python3 tests/scenarios/run.py [--peer unbound] [--bin PATH] [-k] [FILES...]
"""

import argparse
import base64
import glob
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402

import scenario as scn_mod  # noqa: E402
from authsrv import AuthServers  # noqa: E402
import zonedata  # noqa: E402
from zonedata import Worlds, nsec3_hash  # noqa: E402

T = dns.rdatatype
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_BIN = os.path.join(REPO, "build", "chaindns")
UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
RESOLVER_PORT = 5300
QUERY_TIMEOUT = 10.0
STEP_TIMEOUT = 5.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")
DNSSEC_TYPES = (T.RRSIG, T.NSEC, T.NSEC3)


# ---------------------------------------------------------------------------
# processes (each stopped by the PID we started)
# ---------------------------------------------------------------------------

def stop_process(proc, timeout=5.0):
    """SIGTERM our child, wait (bounded), then SIGKILL; returns its status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def probe(addr, timeout=0.3):
    """Whether a resolver at addr answers `localhost. A` (a local zone)."""
    q = dns.message.make_query("localhost.", "A")
    try:
        dns.query.udp(q, addr[0], port=addr[1], timeout=timeout)
        return True
    except (dns.exception.DNSException, OSError):
        return False


class Resolver:
    """A resolver process under test; subclasses write argv and config."""

    name = "?"

    def __init__(self, addr, tmpdir):
        self.addr = (addr, RESOLVER_PORT)
        self.tmpdir = tmpdir
        self.logfile = os.path.join(tmpdir, "%s.log" % self.name)
        self.proc = None
        self.env = dict(os.environ)

    def start(self, timeout=10.0):
        self.err = open(self.logfile, "w")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self.err, stderr=self.err,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not probe(self.addr):
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before answering; log:\n%s"
                                   % (self.name, self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not answer within %ss; log:\n%s"
                                   % (self.name, timeout, self.log_tail()))
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return None
        self.exited_early = self.proc.poll() is not None
        rc = stop_process(self.proc)
        self.err.close()
        return rc

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])


class Chaindns(Resolver):
    name = "chaindns"

    def __init__(self, binary, base, tmpdir, hints, anchors_file, upstream_port, config):
        super().__init__("127.%d.%d.1" % (zonedata.NET + 1, base), tmpdir)
        self.binary, self.hints, self.anchors_file = binary, hints, anchors_file
        self.upstream_port, self.config = upstream_port, config
        self.clock_file = os.path.join(tmpdir, "clock")
        self.set_clock_file(0)
        self.env["CHAINDNS_TEST_CLOCK"] = self.clock_file

    def argv(self):
        a = [self.binary, "--listen", "%s:%d" % self.addr, "--root-hints", self.hints,
             "--upstream-port", str(self.upstream_port), "--no-ipv6", "--threads", "1",
             "--log-level", "debug"]
        if self.anchors_file:
            # The test root is not IANA's, so chaindns leaves its built-in
            # root anchor out by itself (builtin-trust-anchor: auto): with
            # anchors below the root, this is an island of trust.
            a += ["--trust-anchor-file", self.anchors_file]
        # Without anchors, chaindns still validates (as it does by default)
        # and finds everything insecure; 'config --dnssec off' turns it off.
        return a + list(self.config)

    def set_clock_file(self, offset):
        tmp = self.clock_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % offset)
        os.rename(tmp, self.clock_file)

    def set_clock(self, offset):
        """Move the test clock; wait until chaindns logs that it did."""
        before = len(self.log())
        self.set_clock_file(offset)
        self.proc.send_signal(signal.SIGUSR2)
        want = "test clock: offset %d s" % offset
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if want in self.log()[before:]:
                return None
            if self.proc.poll() is not None:
                return "chaindns exited (%s) after SIGUSR2" % self.proc.returncode
            time.sleep(0.02)
        return ("chaindns did not log '%s' within %.0f s after SIGUSR2 (is"
                " CHAINDNS_TEST_CLOCK supported by this build?)" % (want, STEP_TIMEOUT))


class Unbound(Resolver):
    name = "unbound"

    def __init__(self, base, tmpdir, hints, anchors_file):
        super().__init__("127.%d.%d.2" % (zonedata.NET + 1, base), tmpdir)
        self.conf = os.path.join(tmpdir, "unbound.conf")
        lines = ["server:",
                 "    interface: %s@%d" % self.addr,
                 "    port: %d" % RESOLVER_PORT,
                 "    access-control: 127.0.0.0/8 allow",
                 "    do-not-query-localhost: no",
                 '    root-hints: "%s"' % hints,
                 "    ede: yes",
                 "    val-log-level: 2",
                 "    verbosity: 1",
                 '    chroot: ""',
                 '    username: ""',
                 '    pidfile: "%s"' % os.path.join(tmpdir, "unbound.pid"),
                 '    directory: "%s"' % tmpdir,
                 "    use-syslog: no",
                 "    do-ip6: no",
                 "    so-reuseport: no",
                 "    num-threads: 1",
                 "remote-control:",
                 "    control-enable: no"]
        if anchors_file:
            lines.insert(1, '    trust-anchor-file: "%s"' % anchors_file)
            lines.insert(1, '    module-config: "validator iterator"')
        else:
            lines.insert(1, '    module-config: "iterator"')
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def argv(self):
        return [UNBOUND, "-d", "-c", self.conf]


# ---------------------------------------------------------------------------
# queries and dig-like text
# ---------------------------------------------------------------------------

def make_query(q):
    m = dns.message.make_query(q.qname, q.qtype, use_edns=None if "noedns" in q.opts else 0,
                               payload=1232, want_dnssec="do" in q.opts)
    if "noedns" in q.opts:
        m.use_edns(False)
    if "nord" in q.opts:
        m.flags &= ~dns.flags.RD
    if "cd" in q.opts:
        m.flags |= dns.flags.CD
    if "ad" in q.opts:
        m.flags |= dns.flags.AD
    return m


def send(q, addr):
    m = make_query(q)
    if "tcp" in q.opts:
        return dns.query.tcp(m, addr[0], port=addr[1], timeout=QUERY_TIMEOUT)
    return dns.query.udp(m, addr[0], port=addr[1], timeout=QUERY_TIMEOUT,
                         ignore_trailing=True)


def ede_list(msg):
    """[(info-code, text)] of the EDE options (RFC 8914) in msg."""
    out = []
    for opt in msg.options:
        if int(opt.otype) == 15:
            wire = opt.to_wire() or b""
            code = struct.unpack("!H", wire[:2])[0] if len(wire) >= 2 else None
            out.append((code, wire[2:].decode("utf-8", "replace").rstrip("\x00")))
    return out


def flag_set(msg, f):
    if f == "do":
        return bool(msg.ednsflags & dns.flags.DO)
    return bool(msg.flags & dns.flags.from_text(f.upper()))


def flags_text(msg):
    return " ".join(f for f in ("qr", "aa", "tc", "rd", "ra", "ad", "cd")
                    if flag_set(msg, f))


def rr_lines(rrsets):
    out = []
    for rr in rrsets:
        out += rr.to_text().splitlines()
    return out


def dig_text(msg):
    """The whole response, as dig would roughly show it."""
    lines = [";; status: %s, id: %d, flags: %s" % (
        dns.rcode.to_text(msg.rcode()), msg.id, flags_text(msg))]
    if msg.edns >= 0:
        lines.append(";; EDNS: version %d, udp %d, flags: %s" % (
            msg.edns, msg.payload, "do" if msg.ednsflags & dns.flags.DO else ""))
    for code, text in ede_list(msg):
        lines.append(";; EDE: %s: %r" % (code, text))
    for name, sec in (("QUESTION", None), ("ANSWER", msg.answer),
                      ("AUTHORITY", msg.authority), ("ADDITIONAL", msg.additional)):
        if name == "QUESTION":
            lines.append(";; QUESTION")
            lines += [";%s" % q.to_text() for q in msg.question]
            continue
        lines.append(";; %s (%d)" % (name, sum(len(rr) for rr in sec)))
        lines += rr_lines(sec)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# comparing a section
# ---------------------------------------------------------------------------

def ttl_ok(exp_ttl, got_ttl):
    if exp_ttl is None:
        return True
    if exp_ttl == 0:
        return got_ttl == 0
    return 0 < got_ttl <= exp_ttl


def group_expected(rrs):
    """Consecutive expected data records with one owner+type = one RRset."""
    groups = []
    for e in rrs:
        key = (e.name, e.rdata.rdtype)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(e)
        else:
            groups.append((key, [e]))
    return groups


def rrset_matches(group, rr):
    (name, rdtype), exps = group
    if rr.name != name or rr.rdtype != rdtype:
        return False
    if set(e.rdata for e in exps) != set(rd for rd in rr) or len(exps) != len(rr):
        return False
    return all(ttl_ok(e.ttl, rr.ttl) for e in exps)


def nsec3_relation(rr, name):
    """'match', 'cover' or None: how an NSEC3 RRset relates to name."""
    zone = rr.name.parent()
    if not name.is_subdomain(zone):
        return None
    rd = rr[0]
    salt = rd.salt.hex()
    h = nsec3_hash(name, salt, rd.iterations)
    owner = rr.name.labels[0].decode().lower()
    nxt = b32hex(rd.next)
    if h == owner:
        return "match"
    if owner < nxt:
        return "cover" if owner < h < nxt else None
    return "cover" if h > owner or h < nxt else None


def b32hex(raw):
    table = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                          "0123456789abcdefghijklmnopqrstuv")
    return base64.b32encode(raw).decode().translate(table)


def dnssec_matches(exp, rr):
    if exp.kind == "rrsig":
        ok = rr.rdtype == T.RRSIG and rr.name == exp.name and rr.covers == exp.covered
    elif exp.kind == "nsec":
        ok = rr.rdtype == T.NSEC and rr.name == exp.name
    elif exp.kind == "nsec3":
        ok = rr.rdtype == T.NSEC3 and nsec3_relation(rr, exp.name) == exp.mode
    else:  # a DNSSEC type written in full: exact rdata
        ok = rr.rdtype == exp.rdata.rdtype and rr.name == exp.name and \
            exp.rdata in set(rr)
    return ok and ttl_ok(exp.ttl, rr.ttl)


def compare_section(sec_name, exps, got):
    """None if the section matches, else a problem description."""
    with_dnssec = any(e.is_dnssec for e in exps)
    got_data = [rr for rr in got if rr.rdtype not in DNSSEC_TYPES]
    got_sec = [rr for rr in got if rr.rdtype in DNSSEC_TYPES]
    groups = group_expected([e for e in exps if not e.is_dnssec])
    ok = True
    if sec_name == "answer":   # order matters: a CNAME chain comes first
        ok = len(groups) == len(got_data) and all(
            rrset_matches(g, rr) for g, rr in zip(groups, got_data))
    else:
        left = list(got_data)
        for g in groups:
            hit = next((rr for rr in left if rrset_matches(g, rr)), None)
            if hit is None:
                ok = False
                break
            left.remove(hit)
        ok = ok and not left
    if with_dnssec:
        exp_sec = [e for e in exps if e.is_dnssec]
        matched = set()
        for e in exp_sec:
            hits = [i for i, rr in enumerate(got_sec) if dnssec_matches(e, rr)]
            if not hits:
                ok = False
            matched.update(hits)
        nsec3_owners = {got_sec[i].name for i in matched if got_sec[i].rdtype == T.NSEC3}
        for i, rr in enumerate(got_sec):
            if i in matched:
                continue
            if rr.rdtype == T.RRSIG and rr.covers == T.NSEC3 and rr.name in nsec3_owners:
                continue   # an NSEC3 line accounts for the NSEC3's RRSIG
            ok = False
    if ok:
        return None
    shown = got if with_dnssec else got_data
    exp_text = ["    " + e.text for e in exps] or ["    (empty)"]
    got_text = ["    " + line for line in rr_lines(shown)] or ["    (empty)"]
    note = "" if with_dnssec else " (RRSIG/NSEC/NSEC3 not compared: none expected)"
    return "%s section differs%s\n  expected:\n%s\n  got:\n%s" % (
        sec_name, note, "\n".join(exp_text), "\n".join(got_text))


# ---------------------------------------------------------------------------
# checking one answer
# ---------------------------------------------------------------------------

def count_records(rrsets):
    return sum(len(rr) for rr in rrsets if rr.rdtype not in DNSSEC_TYPES)


def asked(entries, servers, pattern, qtype):
    for e in entries:
        if servers is not None and e["server"] not in servers:
            continue
        if qtype is not None and dns.rdatatype.from_text(e["qtype"]) != qtype:
            continue
        if pattern.match(dns.name.from_text(e["qname"])):
            return True
    return False


def check(expects, msg, upstream):
    """Problems (strings) of msg against the expectations."""
    problems = []
    for e in expects:
        p = check_one(e, msg, upstream)
        if p:
            problems.append("line %d: %s" % (e.lineno, p))
    return problems


def check_one(e, msg, upstream):
    k, a = e.kind, e.args
    if k == "rcode":
        got = msg.rcode()
        if got != a[0]:
            return "rcode: expected %s, got %s" % (dns.rcode.to_text(a[0]),
                                                   dns.rcode.to_text(got))
    elif k == "flags":
        bad = ["%s%s" % ("+" if want else "-", f) for f, want in a[0].items()
               if flag_set(msg, f) != want]
        if bad:
            return "flags: expected %s; got flags: %s" % (" ".join(bad), flags_text(msg))
    elif k == "ede":
        edes = ede_list(msg)
        if not any(c == a[0] and (a[1] is None or a[1].lower() in t.lower())
                   for c, t in edes):
            want = "%d%s" % (a[0], "" if a[1] is None else " containing %r" % a[1])
            return "ede: expected %s; got %s" % (want, edes or "no EDE")
    elif k == "noede":
        if ede_list(msg):
            return "noede: got %s" % ede_list(msg)
    elif k in scn_mod.SECTIONS:
        return compare_section(k, a[0], getattr(msg, k))
    elif k == "answer-count":
        n = count_records(msg.answer)
        if n != a[0]:
            return "answer-count: expected %d, got %d" % (a[0], n)
    elif k == "upstream":
        n = len(upstream)
        op, want = a
        if not {"==": n == want, "<=": n <= want, ">=": n >= want}[op]:
            return "upstream: expected %s %d queries, got %d" % (op, want, n)
    elif k in ("asked", "not-asked"):
        hit = asked(upstream, *a)
        if hit != (k == "asked"):
            return "%s: %s" % (k, "no such query" if k == "asked" else "it was asked")
    return None


def upstream_text(entries):
    if not entries:
        return "  (no upstream queries)"
    return "\n".join("  server %d %s %s %s%s" % (e["server"], e["qname"], e["qtype"],
                                                 e["transport"], " +do" if e["do"] else "")
                     for e in entries)


# ---------------------------------------------------------------------------
# one scenario against one resolver
# ---------------------------------------------------------------------------

class Outcome:
    def __init__(self, status, detail="", seconds=0.0):
        self.status, self.detail, self.seconds = status, detail, seconds


def run_queries(scn, resolver, servers, peer):
    """Play the items; returns a list of failure texts."""
    failures = []
    for item in scn.items:
        if isinstance(item, scn_mod.Wait):
            time.sleep(item.ms / 1000.0)
            continue
        if isinstance(item, scn_mod.Step):
            servers.set_step(item.n)
            problem = resolver.set_clock(item.offset)
            if problem:
                failures.append("line %d: step %d: %s" % (item.lineno, item.n, problem))
                return failures
            continue
        if peer and peer in item.peer_skip:
            continue
        mark = servers.log.mark()
        try:
            msg = send(item, resolver.addr)
        except (dns.exception.DNSException, OSError) as e:
            failures.append("%s:%d: %s\n  no answer: %s\n  upstream queries:\n%s" % (
                os.path.basename(scn.path), item.lineno, item.text, e or type(e).__name__,
                upstream_text(servers.log.since(mark))))
            continue
        upstream = servers.log.since(mark)
        problems = check(item.expectations(peer), msg, upstream)
        if problems:
            failures.append("%s:%d: %s\n%s\n  response:\n%s\n  upstream queries:\n%s" % (
                os.path.basename(scn.path), item.lineno, item.text,
                "\n".join("  " + p.replace("\n", "\n  ") for p in problems),
                "\n".join("    " + line for line in dig_text(msg).splitlines()),
                upstream_text(upstream)))
    return failures


def run_target(scn, worlds, target, args, base, port, tmpdir, files):
    """Run scenario scn against 'chaindns' or 'unbound'; returns an Outcome."""
    t0 = time.monotonic()
    if target == "unbound":
        if scn.peer_skip.get("unbound"):
            return Outcome("SKIP", "skipped: " + scn.peer_skip["unbound"])
        if scn.max_step:
            return Outcome("SKIP", "skipped: steps")
    tdir = os.path.join(tmpdir, target)
    os.makedirs(tdir, exist_ok=True)
    servers = AuthServers(scn, worlds, base, port,
                          os.path.join(tdir, "queries.jsonl"))
    if target == "chaindns":
        resolver = Chaindns(args.bin, base, tdir, files["hints"], files["anchors"],
                            port, list(scn.config) + args.extra_arg)
        resolver.anchored = set(scn.anchors)
    else:
        resolver = Unbound(base, tdir, files["hints"], files["anchors"])
    failures = []
    try:
        servers.start()
        resolver.start()
        failures = run_queries(scn, resolver, servers, None if target == "chaindns"
                               else target)
    except Exception as e:  # a crash of the runner is this scenario's failure
        failures.append("%s: %s" % (type(e).__name__, e))
        if not isinstance(e, RuntimeError):
            failures.append(traceback.format_exc())
    finally:
        rc = resolver.stop()
        servers.stop()
    failures += servers.errors
    if target == "chaindns" and resolver.proc is not None:
        log = resolver.log()
        if rc not in (0, None):
            when = "before the scenario ended" if resolver.exited_early else "on SIGTERM"
            failures.append("chaindns exited with status %s %s; log tail:\n%s"
                            % (rc, when, resolver.log_tail()))
        marks = [m for m in SANITIZER_MARKS if m in log]
        if marks:
            failures.append("sanitizer report in the chaindns log (%s); see %s"
                            % (", ".join(marks), resolver.logfile))
    secs = time.monotonic() - t0
    if failures:
        return Outcome("FAIL", "\n".join(failures), secs)
    return Outcome("PASS", "", secs)


def prepare(scn, base, tmpdir):
    """Build and sign the zones; write hints, anchors and a zone dump."""
    worlds = Worlds(scn, base, int(time.time()))
    files = {"hints": os.path.join(tmpdir, "root.hints"), "anchors": None}
    with open(files["hints"], "w") as f:
        f.write(worlds.hints_text())
    if scn.anchors:
        files["anchors"] = os.path.join(tmpdir, "anchors")
        with open(files["anchors"], "w") as f:
            f.write(worlds.anchors_text())
    worlds.dump(os.path.join(tmpdir, "zones.txt"))
    return worlds, files


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def scenario_files(given):
    """(path, base) for each file to run. A file's base is 1 + its index
    among every *.scn here (sorted by name); files from elsewhere count
    down from 250."""
    here = sorted(glob.glob(os.path.join(HERE, "*.scn")))
    index = {os.path.realpath(p): i + 1 for i, p in enumerate(here)}
    paths = given or here
    out, extra = [], 250
    for p in paths:
        rp = os.path.realpath(p)
        if rp in index:
            base = index[rp]
        else:
            base, extra = extra, extra - 1
        if not 1 <= base <= 250:
            raise SystemExit("too many scenario files: base %d is out of 1..250" % base)
        out.append((p, base))
    return out


def serve(path, base, port, seconds):
    """Only the scenario's servers (step 0), for a while: to look at what
    they answer with dig while writing a scenario."""
    scn = scn_mod.parse_file(path)
    tmpdir = tempfile.mkdtemp(prefix="chaindns-scn-serve-")
    worlds, files = prepare(scn, base, tmpdir)
    servers = AuthServers(scn, worlds, base, port, os.path.join(tmpdir, "queries.jsonl"))
    servers.start()
    print("serving %s on 127.%d.%d.N port %d for %d s (zones, hints: %s); Ctrl-C stops"
          % (path, zonedata.NET, base, port, seconds, tmpdir))
    sys.stdout.flush()
    try:
        time.sleep(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        servers.stop()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peer", choices=["unbound"], help="also run against this resolver")
    ap.add_argument("--net", type=int, default=60, metavar="N",
                    help="servers on 127.N.<base>.<n>, resolvers on 127.(N+1)... "
                         "(default 60; the CTest run against Unbound uses 62)")
    ap.add_argument("--peer-only", action="store_true",
                    help="with --peer: run the scenarios against the peer alone (checks "
                         "the expectations themselves against another resolver)")
    ap.add_argument("--bin", default=os.environ.get("CHAINDNS_BIN", DEFAULT_BIN),
                    help="chaindns binary (default: $CHAINDNS_BIN or build/chaindns)")
    ap.add_argument("--extra-arg", action="append", default=[], metavar="ARG",
                    help="one more chaindns argument (repeatable), e.g. to run an older "
                         "build the way the scenarios assume")
    ap.add_argument("--serve", type=int, metavar="SECONDS",
                    help="start only the servers of the one scenario given, for SECONDS, "
                         "and answer whoever asks (for dig while writing a scenario)")
    ap.add_argument("-k", "--keep", action="store_true",
                    help="keep the temporary directory (logs, zones, query log)")
    ap.add_argument("files", nargs="*", help="scenario files (default: every *.scn here)")
    args = ap.parse_args(argv)
    args.bin = os.path.abspath(args.bin)
    zonedata.NET = args.net
    port = 53 if os.geteuid() == 0 else 10053
    if args.serve:
        if len(args.files) != 1:
            raise SystemExit("--serve takes exactly one scenario file")
        (path, base), = scenario_files(args.files)
        return serve(path, base, port, args.serve)
    targets = ([] if args.peer_only and args.peer else ["chaindns"]) + \
        ([args.peer] if args.peer else [])
    if args.peer and port != 53:
        print("peer %s: skipped: it asks authorities on port 53 only, which needs root"
              % args.peer)
        targets = [t for t in targets if t != args.peer]
    if not os.access(args.bin, os.X_OK):
        print("chaindns binary not found: %s (build it, or pass --bin / CHAINDNS_BIN)"
              % args.bin)
        return 2
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for path, base in scenario_files(args.files):
        tmpdir = tempfile.mkdtemp(prefix="chaindns-scn-%s-" % os.path.basename(path)[:-4])
        name = os.path.basename(path)
        t0 = time.monotonic()
        try:
            scn = scn_mod.parse_file(path)
            worlds, files = prepare(scn, base, tmpdir)
        except (scn_mod.ParseError, OSError, ValueError) as e:
            print("FAIL  %s  [parse] %s" % (name, e))
            counts["FAIL"] += 1
            shutil.rmtree(tmpdir, ignore_errors=True)
            continue
        build_s = time.monotonic() - t0
        for target in targets:
            out = run_target(scn, worlds, target, args, base, port, tmpdir, files)
            counts[out.status] += 1
            extra = (" (%s)" % out.detail) if out.status == "SKIP" else ""
            print("%-4s  %s  [%s] %.1fs  %s%s" % (out.status, name, target,
                                                  out.seconds + build_s, scn.title, extra))
            if out.status == "FAIL":
                print("      " + out.detail.replace("\n", "\n      "))
            sys.stdout.flush()
        if args.keep:
            print("      kept %s" % tmpdir)
        else:
            shutil.rmtree(tmpdir, ignore_errors=True)
    print("scenarios: %d passed, %d failed, %d skipped" % (
        counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
