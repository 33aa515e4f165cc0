"""Integration-test harness for chaindns.

Builds a real DNS hierarchy on loopback (one NSD process per authoritative
server address, optionally some addresses served by badauth.py instead),
starts the resolver under test and offers small query helpers.

Address plan (base = a per-test-module number 1..250):
    127.53.<base>.<n>:10053   authoritative servers (n = 1 is the root)
    127.54.<base>.1:5300      the resolver under test
Run with Debian's /usr/bin/python3 (it has dnspython).
"""

import atexit
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = "/usr/bin/python3"
NSD = shutil.which("nsd") or "/usr/sbin/nsd"
BADAUTH = os.path.join(HERE, "badauth.py")

# Port every authoritative server listens on; the resolver is told to use it
# with --upstream-port.  The environment override exists only so the tests
# themselves can be cross-checked against another resolver that insists on
# port 53; chaindns runs always use the default.
PORT = int(os.environ.get("CHAINDNS_TEST_AUTH_PORT", "10053"))
RESOLVER_PORT = 5300
DEFAULT_BIN = os.path.join(REPO, "build", "chaindns")
KEEP = os.environ.get("CHAINDNS_TEST_KEEP") == "1"

_live = []  # every process object (ours) still running, for atexit cleanup


def auth_addr(base, n):
    return "127.53.%d.%d" % (base, n)


def resolver_addr(base, n=1):
    return "127.54.%d.%d" % (base, n)


def resolver_bin():
    return os.environ.get("CHAINDNS_BIN", DEFAULT_BIN)


def _abs(name):
    return name if name.endswith(".") else name + "."


# ---------------------------------------------------------------------------
# process handling: only ever signal the PIDs we started ourselves
# ---------------------------------------------------------------------------

def _exited_unreaped(proc, timeout):
    """Wait (bounded) until proc has exited, without reaping it: while it is
    a zombie its PID, and so its process group ID, cannot be reused."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitid(os.P_PID, proc.pid,
                         os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True  # already reaped
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _terminate(proc, timeout=5.0, group=False):
    """SIGTERM proc (our child), wait bounded, then SIGKILL. Returns rc.
    group=True: proc was started in a session of its own (NSD forks helper
    processes into it); whatever is left of that group is SIGKILLed while
    proc is still unreaped, so the group ID is certainly still ours."""
    if proc.returncode is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        exited = _exited_unreaped(proc, timeout)
        if group:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        elif not exited:
            proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc in _live:
        _live.remove(proc)
    return proc.returncode


@atexit.register
def _cleanup_all():
    for proc in list(_live):
        try:
            _terminate(proc, 2.0, group=True)
        except Exception:
            pass


# ---------------------------------------------------------------------------
# query helpers
# ---------------------------------------------------------------------------

def make_query(name, rdtype="A", rd=True, edns=True, payload=1232,
               dnssec=False, qid=None, cd=False):
    q = dns.message.make_query(name, rdtype,
                               use_edns=0 if edns else None,
                               payload=payload, want_dnssec=dnssec)
    if not edns:
        q.use_edns(False)
    if not rd:
        q.flags &= ~dns.flags.RD
    if cd:
        q.flags |= dns.flags.CD
    if qid is not None:
        q.id = qid
    return q


def udp(server, name, rdtype="A", timeout=3.0, source=None, **qopts):
    """Send one query over UDP to server=(addr, port); returns dns.message.
    Raises dns.exception.Timeout when no answer comes within timeout."""
    q = make_query(name, rdtype, **qopts)
    return dns.query.udp(q, server[0], port=server[1], timeout=timeout,
                         source=source)


def tcp(server, name, rdtype="A", timeout=3.0, source=None, **qopts):
    q = make_query(name, rdtype, **qopts)
    return dns.query.tcp(q, server[0], port=server[1], timeout=timeout,
                         source=source)


def udp_raw(server, wire, timeout=1.0, source=None):
    """Send raw bytes over UDP; returns the reply bytes or None (no reply)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        if source:
            s.bind((source, 0))
        s.settimeout(timeout)
        s.sendto(wire, server)
        try:
            data, _ = s.recvfrom(65535)
            return data
        except socket.timeout:
            return None
    finally:
        s.close()


def _recv_exact(sock, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes"
                           % (len(buf), n))
        buf += chunk
    return buf


def tcp_pipeline(server, queries, timeout=5.0, source=None):
    """Write all queries (dns.message) on one TCP connection before reading,
    then read replies until every ID is answered or timeout.
    Returns {id: dns.message}; missing IDs are simply absent."""
    deadline = time.monotonic() + timeout
    s = socket.create_connection(server, timeout=timeout,
                                 source_address=(source, 0) if source else None)
    out = {}
    try:
        data = b""
        for q in queries:
            w = q.to_wire()
            data += struct.pack("!H", len(w)) + w
        s.sendall(data)
        want = {q.id for q in queries}
        while want - set(out):
            try:
                (ln,) = struct.unpack("!H", _recv_exact(s, 2, deadline))
                wire = _recv_exact(s, ln, deadline)
            except (socket.timeout, EOFError, OSError):
                break
            m = dns.message.from_wire(wire)
            out[m.id] = m
    finally:
        s.close()
    return out


def concurrent_udp(server, name, rdtype="A", count=5, timeout=5.0, **qopts):
    """Send `count` identical questions from `count` sockets back to back,
    then collect replies. Returns a list of dns.message or None per query."""
    socks, qs = [], []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            qs.append(make_query(name, rdtype, **qopts))
        for s, q in zip(socks, qs):
            s.sendto(q.to_wire(), server)
        deadline = time.monotonic() + timeout
        res = []
        for s, q in zip(socks, qs):
            m = None
            while m is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    wire, _ = s.recvfrom(65535)
                except socket.timeout:
                    break
                try:
                    r = dns.message.from_wire(wire)
                except Exception:
                    continue
                if r.id == q.id:
                    m = r
            res.append(m)
        return res
    finally:
        for s in socks:
            s.close()


def ede(msg):
    """Extended DNS Errors (EDNS option 15) of msg as [(info_code, text)]."""
    out = []
    for opt in msg.options:
        if int(opt.otype) != 15:
            continue
        wire = opt.to_wire()
        if wire is None or len(wire) < 2:
            out.append((None, ""))
            continue
        (code,) = struct.unpack("!H", wire[:2])
        text = wire[2:].decode("utf-8", "replace").rstrip("\x00")
        out.append((code, text))
    return out


def answers(msg, section="answer"):
    """Records of a section as [(name, type, rdata_text, ttl)] in wire order;
    names lower-case and absolute."""
    out = []
    for rrset in getattr(msg, section):
        for rd in rrset:
            out.append((rrset.name.to_text().lower(),
                        dns.rdatatype.to_text(rrset.rdtype),
                        rd.to_text().lower() if rrset.rdtype in
                        (dns.rdatatype.CNAME, dns.rdatatype.NS,
                         dns.rdatatype.PTR, dns.rdatatype.DNAME)
                        else rd.to_text().strip(),
                        rrset.ttl))
    return out


def parse_metrics(text):
    """Prometheus text format to {(name, frozenset((label, value), ...)): float}."""
    import re
    out = {}
    pat = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    lab = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = pat.match(line)
        if not m:
            raise ValueError("bad exposition line: %r" % line)
        labels = frozenset(lab.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def metric(values, name, **labels):
    """One sample of parse_metrics() output, 0 when absent."""
    want = frozenset((k, str(v)) for k, v in labels.items())
    return values.get((name, want), 0.0)


def stats_delta(before, after):
    """Counters that changed between two Chaindns.stats() readings."""
    return {k: after[k] - before.get(k, 0) for k in after}


def rcode(msg):
    return dns.rcode.to_text(msg.rcode())


def dig(server, *args, timeout=10):
    """Run dig against server=(addr, port); returns CompletedProcess."""
    cmd = ["dig", "@" + server[0], "-p", str(server[1]), "+time=2",
           "+tries=1"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def kdig(server, *args, timeout=10):
    cmd = ["kdig", "@" + server[0], "-p", str(server[1]), "+time=2",
           "+retry=0"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def wait_for(pred, timeout, interval=0.05):
    """Poll pred() until truthy or timeout; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---------------------------------------------------------------------------
# zone description
# ---------------------------------------------------------------------------

def parse_record(line, origin, default_ttl):
    """Parse one zone-file style line 'owner [ttl] [IN] TYPE rdata...'.
    owner may be '@', relative to origin, or absolute. Returns
    (owner_abs, ttl, TYPE, rdata_text_abs)."""
    line = line.strip()
    owner, rest = line.split(None, 1)
    if owner == "@":
        owner = origin
    elif not owner.endswith("."):
        owner = owner + "." + origin if origin != "." else owner + "."
    ttl = default_ttl
    while True:
        tok, rest = rest.split(None, 1)
        if tok.isdigit():
            ttl = int(tok)
        elif tok.upper() == "IN":
            pass
        else:
            rdtype = dns.rdatatype.from_text(tok)
            break
    rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, rest.strip(),
                             origin=dns.name.from_text(origin),
                             relativize=False)
    return (owner.lower(), ttl, dns.rdatatype.to_text(rdtype),
            rd.to_text(origin=None, relativize=False))


class Zone:
    def __init__(self, name, addrs, records, ns_names, ttl, neg_ttl):
        self.name = _abs(name).lower()
        self.addrs = addrs
        self.lines = list(records)
        self.ns_names = ns_names
        self.ttl = ttl
        self.neg_ttl = neg_ttl
        self.records = []  # filled by Hierarchy._build
        # DNSSEC (Hierarchy.zone(..., signed=True) sets these)
        self.signed = False
        self.algorithm = "ECDSAP256SHA256"
        self.nsec3 = False
        self.optout = False
        self.salt = ""
        self.iterations = 0
        self.key_specs = None
        self.sig_inception = None
        self.sig_expiration = None
        self.bad_ds = False
        self.strip_sigs = []
        self.bad_sigs = []
        self.drop_records = []
        self.publish_ds = True
        self.ds_digest = "SHA256"
        self.keys = []          # Key objects, after the build
        self.ds_records = []    # DS rdata the parent publishes, after the build
        self.signed_file = None  # final signed zone file, after the build

    def file_name(self):
        return "root.zone" if self.name == "." else self.name + "zone"


# ---------------------------------------------------------------------------
# DNSSEC: signed zones (ldns-keygen, ldns-signzone and ldns-key2ds from
# Debian's ldnsutils). Only zones declared with signed=True go through this;
# an unsigned hierarchy is built exactly as before.
# ---------------------------------------------------------------------------

LDNS_KEYGEN = shutil.which("ldns-keygen") or "/usr/bin/ldns-keygen"
LDNS_SIGNZONE = shutil.which("ldns-signzone") or "/usr/bin/ldns-signzone"
LDNS_KEY2DS = shutil.which("ldns-key2ds") or "/usr/bin/ldns-key2ds"
LDNS_VERIFY_ZONE = shutil.which("ldns-verify-zone") or "/usr/bin/ldns-verify-zone"
DNSSEC_TOOL_TIMEOUT = 60  # seconds, per tool run
_DS_DIGEST_FLAG = {"SHA1": "-1", "SHA256": "-2", "SHA384": "-4"}


def have_crypto():
    """Whether python3-cryptography is importable: needed only for keys
    declared with zone_bit=False (ldns-signzone will not sign with a key
    that lacks the Zone Key bit, so the harness re-signs with dnspython)."""
    try:
        import cryptography  # noqa: F401
        import dns.dnssec  # noqa: F401  (its signing needs cryptography)
        return True
    except ImportError:
        return False


def from_now(seconds):
    """A signature time `seconds` from now (negative: in the past), as
    seconds since the epoch, for sig_inception / sig_expiration."""
    return int(time.time() + seconds)


def _sig_time(t):
    """int/float (epoch seconds), datetime or 'YYYYMMDDhhmmss' ->
    'YYYYMMDDhhmmss' (UTC), the form ldns-signzone reads unambiguously."""
    import datetime
    if isinstance(t, str):
        return t
    if isinstance(t, datetime.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=datetime.timezone.utc)
        t = t.timestamp()
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(int(t)))


def _run_tool(argv, cwd):
    p = subprocess.run(argv, cwd=cwd, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=DNSSEC_TOOL_TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s%s" % (
            " ".join(argv), p.returncode, p.stdout, p.stderr))
    return p.stdout


def _read_rrsets(text, origin):
    import dns.zonefile
    return dns.zonefile.read_rrsets(text, rdclass=None, default_ttl=3600,
                                    origin=origin, relativize=False)


def _rrsets_to_records(rrsets):
    out = []
    for rrset in rrsets:
        t = dns.rdatatype.to_text(rrset.rdtype)
        for rd in rrset:
            out.append((rrset.name.to_text().lower(), rrset.ttl, t,
                        rd.to_text()))
    return out


class Key:
    """One DNSSEC key of a signed zone, for h.zone(..., keys=[...]).

    ksk:       KSK (flags 257, ldns-keygen -k) or ZSK (256). ldns-signzone
               signs the DNSKEY RRset with the KSKs and the rest with the
               ZSKs (with the KSKs when a zone has no ZSK).
    algorithm: default the zone's algorithm.
    bits:      RSA key size (default 2048 for a KSK, 1024 for a ZSK).
    publish:   the DNSKEY is in the zone's DNSKEY RRset.
    sign:      the key signs (False: published only, e.g. a pre-published
               key of a rollover).
    ds:        the parent publishes its DS (default: True for a KSK).
    zone_bit:  False publishes the DNSKEY without the Zone Key bit (flags
               256 -> 0, 257 -> 1) and makes its signatures with that key
               tag; needs python3-cryptography (see have_crypto()).

    Filled in by the build: base (path of K<zone>+<alg>+<id> without
    .key/.private), dnskey (published DNSKEY rdata text), flags, tag (its
    key tag), ds_records (DS rdata texts made of it, whether published or
    not). One Key object belongs to one zone.
    """

    def __init__(self, ksk=False, algorithm=None, bits=None, publish=True,
                 sign=True, ds=None, zone_bit=True):
        self.ksk = ksk
        self.algorithm = algorithm
        self.bits = bits
        self.publish = publish
        self.sign = sign
        self.ds = ksk if ds is None else ds
        self.zone_bit = zone_bit
        self.base = None
        self.dnskey = None
        self.flags = None
        self.tag = None
        self.ds_records = []
        self._orig_tag = None  # tag ldns-signzone writes (Zone Key bit set)

    def __repr__(self):
        return "Key(%s %s tag=%s publish=%s sign=%s ds=%s%s)" % (
            "KSK" if self.ksk else "ZSK", self.algorithm, self.tag,
            self.publish, self.sign, self.ds,
            "" if self.zone_bit else " no-zone-bit")


def _load_private_key(path):
    """A BIND/ldns v1.x .private file as a python-cryptography key."""
    import base64
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    fields = {}
    with open(path) as f:
        for line in f:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
    alg = int(fields["Algorithm"].split()[0])

    def num(k):
        return int.from_bytes(base64.b64decode(fields[k]), "big")
    if alg in (5, 7, 8, 10):
        pub = rsa.RSAPublicNumbers(num("PublicExponent"), num("Modulus"))
        return rsa.RSAPrivateNumbers(num("Prime1"), num("Prime2"),
                                     num("PrivateExponent"), num("Exponent1"),
                                     num("Exponent2"), num("Coefficient"),
                                     pub).private_key()
    if alg == 13:
        return ec.derive_private_key(num("PrivateKey"), ec.SECP256R1())
    if alg == 14:
        return ec.derive_private_key(num("PrivateKey"), ec.SECP384R1())
    raw = base64.b64decode(fields["PrivateKey"])
    if alg == 15:
        return ed25519.Ed25519PrivateKey.from_private_bytes(raw)
    if alg == 16:
        return ed448.Ed448PrivateKey.from_private_bytes(raw)
    raise ValueError("zone_bit=False: algorithm %d not supported" % alg)


def _resign_without_zone_bit(z, key, records):
    """Replace the signatures ldns-signzone made with `key` (its key tag
    with the Zone Key bit) by ones made with the published DNSKEY, which
    lacks that bit: same inception, expiration and RRset."""
    if not have_crypto():
        raise RuntimeError("zone %s: zone_bit=False needs python3-cryptography"
                           % z.name)
    import dns.dnssec
    import dns.rrset
    priv = _load_private_key(key.base + ".private")
    dnskey = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                                 key.dnskey)
    signer = dns.name.from_text(z.name)
    policy = getattr(dns.dnssec, "allow_all_policy", None)
    rrsets = {}
    for owner, ttl, t, rd in records:
        if t != "RRSIG":
            rrsets.setdefault((owner, t), []).append((ttl, rd))
    out = []
    for owner, ttl, t, rd in records:
        if t == "RRSIG":
            sig = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.RRSIG, rd)
            if sig.key_tag == key._orig_tag and sig.algorithm == dnskey.algorithm:
                covered = dns.rdatatype.to_text(sig.type_covered)
                rs = dns.rrset.from_text_list(
                    owner, sig.original_ttl, "IN", covered,
                    [r for _, r in rrsets[(owner, covered)]])
                kw = {"policy": policy} if policy is not None else {}
                new = dns.dnssec.sign(rs, priv, signer, dnskey,
                                      inception=sig.inception,
                                      expiration=sig.expiration, **kw)
                rd = new.to_text()
        out.append((owner, ttl, t, rd))
    return out


def _dnssec_dir(h, z):
    d = os.path.join(h.tmpdir, "dnssec",
                     "root" if z.name == "." else z.name.rstrip("."))
    os.makedirs(d, exist_ok=True)
    return d


def _make_key(z, key, d):
    alg = key.algorithm or z.algorithm
    key.algorithm = alg
    argv = [LDNS_KEYGEN, "-r", "/dev/urandom", "-a", alg]
    if key.ksk:
        argv.append("-k")
    if alg.upper().startswith("RSA"):
        argv += ["-b", str(key.bits or (2048 if key.ksk else 1024))]
    elif key.bits:
        argv += ["-b", str(key.bits)]
    argv.append(z.name)
    base = _run_tool(argv, d).strip().splitlines()[-1].strip()
    key.base = os.path.join(d, base)
    with open(key.base + ".key") as f:
        orig = _read_rrsets(f.read(), z.name)[0][0]
    key._orig_tag = _key_tag(orig)
    flags = orig.flags if key.zone_bit else orig.flags & ~0x0100
    key.flags = flags
    pub = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.DNSKEY,
                              "%d %d %d %s" % (flags, orig.protocol,
                                               orig.algorithm,
                                               orig.to_text().split(None, 3)[3]))
    key.dnskey = pub.to_text(chunksize=0)  # base64 on one line
    key.tag = _key_tag(pub)
    # The DNSKEY as published, for ldns-key2ds (and anyone inspecting).
    pubfile = key.base + ".published.key"
    with open(pubfile, "w") as f:
        f.write("%s\t%d\tIN\tDNSKEY\t%s\n" % (z.name, z.ttl, key.dnskey))
    out = _run_tool([LDNS_KEY2DS, "-n", "-f", _DS_DIGEST_FLAG[z.ds_digest.upper()],
                     pubfile], d)
    key.ds_records = [r[3] for r in _rrsets_to_records(_read_rrsets(out, z.name))]


def _key_tag(dnskey):
    """RFC 4034 Appendix B key tag of a DNSKEY rdata (dnspython object)."""
    wire = dnskey.to_digestable()
    ac = 0
    for i, b in enumerate(wire):
        ac += b if i & 1 else b << 8
    ac += (ac >> 16) & 0xFFFF
    return ac & 0xFFFF


def _flip_digest(ds_text):
    tag, alg, dt, digest = ds_text.split(None, 3)
    digest = digest.replace(" ", "")
    last = "0" if digest[-1].lower() != "0" else "1"
    return "%s %s %s %s" % (tag, alg, dt, digest[:-1] + last)


def _corrupt_sig(rrsig_text):
    """The RRSIG with the first octet of its signature inverted: same key
    tag, window and length, but it does not verify."""
    sig = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.RRSIG, rrsig_text)
    b = bytes([sig.signature[0] ^ 0xFF]) + sig.signature[1:]
    return sig.replace(signature=b).to_text()


def _insecure_cuts(z, records):
    """Delegation points of zone z without a DS in its records."""
    apex = dns.name.from_text(z.name)
    ns = {r[0] for r in records if r[2] == "NS" and r[0] != z.name}
    ds = {r[0] for r in records if r[2] == "DS"}
    return [dns.name.from_text(n) for n in ns - ds
            if dns.name.from_text(n).is_subdomain(apex)]


def _sign_zone(h, z):
    """Keys, ldns-signzone, breakage knobs; replaces z.records with the
    signed records and sets z.keys, z.ds_records, z.signed_file."""
    d = _dnssec_dir(h, z)
    keys = list(z.key_specs) if z.key_specs is not None else [Key(ksk=True), Key()]
    for k in keys:
        _make_key(z, k, d)
    if z.bad_ds is True or z.bad_ds == "key":
        # The parent's DS is that of a KSK the zone neither publishes nor
        # signs with: it matches no DNSKEY (key tag and digest both differ).
        stray = Key(ksk=True, publish=False, sign=False, ds=True)
        _make_key(z, stray, d)
        for k in keys:
            k.ds = False
        keys.append(stray)
    z.keys = keys
    ds = []
    for k in keys:
        if k.ds:
            ds += k.ds_records
    if z.bad_ds == "digest":
        ds = [_flip_digest(x) for x in ds]
    elif z.bad_ds not in (False, None, True, "key"):
        raise ValueError("bad_ds: True/'key' or 'digest', not %r" % (z.bad_ds,))
    z.ds_records = ds

    records = list(z.records)
    deferred = []
    if z.nsec3 and z.optout:
        # Opt-out (RFC 5155 6): the insecure delegations (and their glue)
        # get no NSEC3 of their own. ldns-signzone -p only sets the flag,
        # so they are left out of what it signs and put back afterwards
        # (delegation NS and glue carry no RRSIG in any case).
        cuts = _insecure_cuts(z, records)
        keep = []
        for r in records:
            n = dns.name.from_text(r[0])
            (deferred if any(n.is_subdomain(c) for c in cuts) else keep).append(r)
        records = keep
    unsigned = os.path.join(d, "unsigned.zone")
    with open(unsigned, "w") as f:
        for owner, ttl, t, rd in records:
            f.write("%s\t%d\tIN\t%s\t%s\n" % (owner, ttl, t, rd))
        for k in keys:
            if k.publish:
                f.write("%s\t%d\tIN\tDNSKEY\t%s\n" % (z.name, z.ttl, k.dnskey))
    inception = z.sig_inception if z.sig_inception is not None else from_now(-3600)
    expiration = z.sig_expiration if z.sig_expiration is not None \
        else from_now(30 * 86400)
    raw = os.path.join(d, "ldns.signed")
    argv = [LDNS_SIGNZONE, "-d", "-o", z.name, "-f", raw,
            "-i", _sig_time(inception), "-e", _sig_time(expiration)]
    if z.nsec3:
        argv += ["-n", "-t", str(z.iterations)]
        if z.salt:
            argv += ["-s", z.salt]
        if z.optout:
            argv.append("-p")
    signers = [k for k in keys if k.sign]
    if not signers:
        raise ValueError("zone %s: no key signs" % z.name)
    argv += [unsigned] + [k.base for k in signers]
    _run_tool(argv, d)
    with open(raw) as f:
        signed = _rrsets_to_records(_read_rrsets(f.read(), z.name))
    for k in signers:
        if not k.zone_bit:
            signed = _resign_without_zone_bit(z, k, signed)
    def covers(r, owner, rdtype):
        return (r[0] == owner and r[2] == "RRSIG"
                and r[3].split(None, 1)[0].upper() == rdtype)
    for knob in ("strip_sigs", "bad_sigs", "drop_records"):
        for owner, rdtype in getattr(z, knob):
            owner = _abs(owner).lower()
            rdtype = rdtype.upper()
            before = list(signed)
            if knob == "strip_sigs":
                signed = [r for r in signed if not covers(r, owner, rdtype)]
            elif knob == "drop_records":
                signed = [r for r in signed if not covers(r, owner, rdtype)
                          and not (r[0] == owner and r[2] == rdtype)]
            else:
                signed = [r[:3] + (_corrupt_sig(r[3]),)
                          if covers(r, owner, rdtype) else r for r in signed]
            if signed == before:
                raise ValueError("%s: nothing at %s %s in %s"
                                 % (knob, owner, rdtype, z.name))
    z.records = signed + deferred
    z.signed_file = os.path.join(d, "signed.zone")
    with open(z.signed_file, "w") as f:
        for owner, ttl, t, rd in z.records:
            f.write("%s\t%d\tIN\t%s\t%s\n" % (owner, ttl, t, rd))


class _Server:
    """One authoritative address: an NSD process or a badauth process."""

    def __init__(self, addr, port, tmpdir):
        self.addr, self.port, self.tmpdir = addr, port, tmpdir
        self.proc = None
        self.zones = []

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is not None:
            rc = _terminate(self.proc, 5.0, group=True)
            return rc
        return None


class NSDServer(_Server):
    kind = "nsd"

    def start(self):
        d = os.path.join(self.tmpdir, "nsd-" + self.addr)
        os.makedirs(d, exist_ok=True)
        self.dir = d
        self.logfile = os.path.join(d, "nsd.log")
        conf = [
            "server:",
            '    username: ""',
            '    chroot: ""',
            "    zonesdir: \"%s\"" % d,
            "    pidfile: \"%s\"" % os.path.join(d, "nsd.pid"),
            "    xfrdfile: \"%s\"" % os.path.join(d, "xfrd.state"),
            "    xfrdir: \"%s\"" % d,
            "    zonelistfile: \"%s\"" % os.path.join(d, "zone.list"),
            "    cookie-secret-file: \"%s\"" % os.path.join(d, "cookies"),
            '    database: ""',
            "    logfile: \"%s\"" % self.logfile,
            "    ip-address: %s@%d" % (self.addr, self.port),
            "    port: %d" % self.port,
            "    server-count: 1",
            "    do-ip4: yes",
            "    do-ip6: no",
            "    verbosity: 1",
            "    hide-version: yes",
            "    zonefiles-check: no",
            "    rrl-ratelimit: 0",
            "    rrl-whitelist-ratelimit: 0",
            "    tcp-count: 100",
            "remote-control:",
            "    control-enable: no",
        ]
        for z in self.zones:
            with open(os.path.join(d, z.file_name()), "w") as f:
                for owner, ttl, t, rd in z.records:
                    f.write("%s\t%d\tIN\t%s\t%s\n" % (owner, ttl, t, rd))
            conf += ["zone:", "    name: \"%s\"" % z.name,
                     "    zonefile: \"%s\"" % z.file_name()]
        self.conf = os.path.join(d, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        self.stderr = open(os.path.join(d, "nsd.stderr"), "w")
        self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.stderr, stderr=self.stderr,
                                     start_new_session=True)
        _live.append(self.proc)

    def log_text(self):
        text = ""
        for p in (self.logfile, os.path.join(self.dir, "nsd.stderr")):
            if os.path.exists(p):
                with open(p, errors="replace") as f:
                    text += f.read()
        return text

    def wait_ready(self, timeout=10.0):
        """Every zone answers its SOA with AA and NOERROR."""
        deadline = time.monotonic() + timeout
        pending = [z.name for z in self.zones]
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("nsd on %s exited (%s):\n%s" % (
                    self.addr, self.proc.returncode, self.log_text()))
            if time.monotonic() > deadline:
                raise RuntimeError("nsd on %s: zones %s not served after %ss:"
                                   "\n%s" % (self.addr, pending, timeout,
                                             self.log_text()))
            try:
                r = udp((self.addr, self.port), pending[0], "SOA",
                        timeout=0.3, rd=False)
                if r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA \
                        and r.answer:
                    pending.pop(0)
                    continue
            except (dns.exception.Timeout, OSError):
                pass
            time.sleep(0.05)


class BadAuth(_Server):
    """badauth.py on one address. Zones: {origin: [(owner, ttl, type, rdata)]}
    behaviour: see badauth.py (silent, silent_names, delay_ms, delay_names,
    truncate_size, truncate_names, rcode, rcode_names, chase, cname_other)."""
    kind = "badauth"

    def __init__(self, addr, port, tmpdir, zones=None, behaviour=None):
        _Server.__init__(self, addr, port, tmpdir)
        self.extra_zones = zones or {}
        self.behaviour = dict(behaviour or {})

    def start(self):
        d = os.path.join(self.tmpdir, "badauth-" + self.addr)
        os.makedirs(d, exist_ok=True)
        self.dir = d
        zones = {z.name: [list(r) for r in z.records] for z in self.zones}
        for origin, recs in self.extra_zones.items():
            zones[_abs(origin).lower()] = [list(r) for r in recs]
        self.config = os.path.join(d, "badauth.json")
        with open(self.config, "w") as f:
            json.dump({"zones": zones, "behaviour": self.behaviour}, f,
                      indent=1)
        self.logfile = os.path.join(d, "queries.log")
        self.ready = os.path.join(d, "ready")
        for p in (self.ready,):
            if os.path.exists(p):
                os.unlink(p)
        self.stderr = open(os.path.join(d, "stderr"), "a")
        self.proc = subprocess.Popen(
            [PYTHON, BADAUTH, "--addr", self.addr, "--port", str(self.port),
             "--config", self.config, "--log", self.logfile,
             "--ready", self.ready],
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr,
            start_new_session=True)
        _live.append(self.proc)

    def wait_ready(self, timeout=10.0):
        ok = wait_for(lambda: os.path.exists(self.ready)
                      or self.proc.poll() is not None, timeout)
        if not ok or self.proc.poll() is not None:
            with open(os.path.join(self.dir, "stderr")) as f:
                err = f.read()
            raise RuntimeError("badauth on %s did not start:\n%s"
                               % (self.addr, err))

    def queries(self, qname=None, qtype=None, transport=None):
        """Logged queries (dicts: t, transport, src, id, qname, qtype),
        optionally filtered; qname compared case-insensitively."""
        out = []
        if not os.path.exists(self.logfile):
            return out
        with open(self.logfile) as f:
            for line in f:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue  # a line being written right now
                if qname is not None and e.get("qname") != _abs(qname).lower():
                    continue
                if qtype is not None and e.get("qtype") != qtype.upper():
                    continue
                if transport is not None and e.get("transport") != transport:
                    continue
                out.append(e)
        return out

    def count(self, qname=None, qtype=None, transport=None):
        return len(self.queries(qname, qtype, transport))


# ---------------------------------------------------------------------------
# the hierarchy
# ---------------------------------------------------------------------------

class Hierarchy:
    """A DNS tree on loopback.

        h = Hierarchy(base=7, port=10053, tmpdir=d)
        h.zone("com.", [2])
        h.zone("example.com.", [3], ["www 300 A 192.0.2.1"])
        h.zone("example.org.", [4], ["@ A 192.0.2.2"],
               ns_names=["ns.example.com."])         # glueless
        h.badauth(5, delay_ms=500)                   # .5 is badauth
        h.zone("slow.com.", [5], ["x A 192.0.2.3"])
        h.start(); ...; h.stop_server(3); ...; h.stop()

    Servers are host numbers n (-> 127.53.<base>.<n>) or full addresses.
    The root zone "." is served by n = 1 (a.root-servers.test.) unless
    declared otherwise before start(). Delegation NS records and glue in the
    parent, apex NS records, SOA and the address records of the NS names
    (in the zone holding the name) are generated.
    """

    def __init__(self, base, port=PORT, tmpdir=None):
        assert 1 <= base <= 250, base
        self.base = base
        self.port = port
        self.own_tmpdir = tmpdir is None
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="chaindns-it-%d-" % base)
        os.makedirs(self.tmpdir, exist_ok=True)
        self.zones = {}
        self.bad = {}       # addr -> behaviour dict
        self.bad_extra = {}  # addr -> extra zones for badauth
        self.servers = {}   # addr -> NSDServer | BadAuth
        self.started = False
        self.hints = os.path.join(self.tmpdir, "root.hints")
        # Set by the build when the root zone is signed: files with the
        # root's DS (". 3600 IN DS ...") or DNSKEY lines, for a resolver.
        self.trust_anchor = None
        self.trust_anchor_dnskey = None

    def addr(self, n):
        return n if isinstance(n, str) else auth_addr(self.base, n)

    def zone(self, name, servers, records=(), ns_names=None, ttl=3600,
             neg_ttl=300, *, signed=False, algorithm="ECDSAP256SHA256",
             nsec3=False, optout=False, salt="", iterations=0, keys=None,
             sig_inception=None, sig_expiration=None, bad_ds=False,
             strip_sigs=(), bad_sigs=(), drop_records=(), ds=True,
             ds_digest="SHA256"):
        """Declare a zone served by `servers`. records: zone-file lines
        relative to the zone ('www 300 A 192.0.2.1', '@ MX 10 mx', ...).
        ns_names: one NS name per server; a name outside the zone makes the
        delegation glueless (the name's address goes into the zone holding
        it, which must be declared too). Default: ns<i>.<zone>.

        DNSSEC (keyword-only; see README "Signed zones"):
        signed: sign the zone (ldns-signzone) with `keys` (default a KSK and
            a ZSK of `algorithm`, from ldns-keygen); a signed parent gets
            the DS of the keys with ds=True (ldns-key2ds, digest ds_digest).
        nsec3, optout, salt (hex, "" = none), iterations: NSEC3 denial
            (RFC 9276 defaults: no salt, 0 iterations); optout leaves the
            insecure delegations out of the NSEC3 chain.
        sig_inception, sig_expiration: epoch seconds (see from_now()),
            datetime or 'YYYYMMDDhhmmss'; default now - 1 h and now + 30 d.
        bad_ds: True/'key': the parent's DS is that of a key the zone does
            not have; 'digest': the real DS with one digest digit changed.
        strip_sigs: [(owner, TYPE)]: the RRSIGs over that RRset removed
            after signing; bad_sigs: the same RRSIGs kept but corrupted (they
            do not verify); drop_records: the RRset and its RRSIGs removed
            (e.g. an NSEC, so a denial lacks its proof).
        ds: False: a signed parent publishes no DS (an insecure delegation
            to a signed zone)."""
        addrs = [self.addr(s) for s in servers]
        if ns_names is not None:
            assert len(ns_names) == len(addrs), "one NS name per server"
            ns_names = [_abs(n).lower() for n in ns_names]
        z = Zone(name, addrs, records, ns_names, ttl, neg_ttl)
        if not signed and (nsec3 or optout or salt or iterations or keys
                           or sig_inception or sig_expiration or bad_ds
                           or strip_sigs or bad_sigs or drop_records):
            raise ValueError("zone %s: DNSSEC options need signed=True" % z.name)
        if signed:
            if ds_digest.upper() not in _DS_DIGEST_FLAG:
                raise ValueError("ds_digest: one of %s" % sorted(_DS_DIGEST_FLAG))
            z.signed = True
            z.algorithm = algorithm
            z.nsec3 = nsec3
            z.optout = optout
            z.salt = salt or ""
            z.iterations = iterations
            z.key_specs = list(keys) if keys is not None else None
            z.sig_inception = sig_inception
            z.sig_expiration = sig_expiration
            z.bad_ds = bad_ds
            z.strip_sigs = list(strip_sigs)
            z.bad_sigs = list(bad_sigs)
            z.drop_records = list(drop_records)
            z.publish_ds = ds
            z.ds_digest = ds_digest.upper()
        self.zones[z.name] = z
        return z

    def badauth(self, server, zones=None, **behaviour):
        """Serve address `server` with badauth.py instead of NSD.
        zones: extra raw zones {origin: [(owner, ttl, type, rdata), ...]}
        served there besides the declared ones (data NSD would reject)."""
        a = self.addr(server)
        self.bad[a] = behaviour
        self.bad_extra[a] = zones or {}

    def server(self, n):
        return self.servers[self.addr(n)]

    # -- building ---------------------------------------------------------
    def _parent(self, name):
        n = dns.name.from_text(name)
        while n != dns.name.root:
            n = n.parent()
            t = n.to_text().lower()
            if t in self.zones:
                return self.zones[t]
        return None

    def _owner_zone(self, name):
        n = dns.name.from_text(name)
        while True:
            t = n.to_text().lower()
            if t in self.zones:
                return self.zones[t]
            if n == dns.name.root:
                return None
            n = n.parent()

    def _build(self):
        if "." not in self.zones:
            self.zone(".", [1], ns_names=["a.root-servers.test."])
        recs = {name: [] for name in self.zones}
        for z in self.zones.values():
            if z.ns_names is None:
                if z.name == ".":
                    z.ns_names = ["%s.root-servers.test." % chr(ord("a") + i)
                                  for i in range(len(z.addrs))]
                else:
                    z.ns_names = ["ns%d.%s" % (i + 1, z.name)
                                  for i in range(len(z.addrs))]
        for z in self.zones.values():
            zn = dns.name.from_text(z.name)
            recs[z.name].append((z.name, z.ttl, "SOA",
                                 "%s hostmaster.%s 1 3600 900 604800 %d" % (
                                     z.ns_names[0],
                                     z.name if z.name != "." else "",
                                     z.neg_ttl)))
            for ns in z.ns_names:
                recs[z.name].append((z.name, z.ttl, "NS", ns))
            parent = self._parent(z.name)
            if z.name != ".":
                if parent is None:
                    raise ValueError("no parent zone for %s" % z.name)
                for ns in z.ns_names:
                    recs[parent.name].append((z.name, z.ttl, "NS", ns))
            for ns, addr in zip(z.ns_names, z.addrs):
                a = (ns, z.ttl, "A", addr)
                owner = self._owner_zone(ns)
                if owner is not None:
                    recs[owner.name].append(a)
                in_bailiwick = dns.name.from_text(ns).is_subdomain(zn)
                if in_bailiwick and parent is not None:
                    recs[parent.name].append(a)  # glue
                if z.name == "." and owner is not self.zones["."]:
                    recs["."].append(a)
            for line in z.lines:
                recs[z.name].append(parse_record(line, z.name, z.ttl))
        for name, rl in recs.items():
            seen, out = set(), []
            for r in rl:
                key = (r[0], r[2], r[3])
                if key not in seen:
                    seen.add(key)
                    out.append(r)
            out.sort(key=lambda r: r[2] != "SOA")  # SOA first, stable
            self.zones[name].records = out
        if any(z.signed for z in self.zones.values()):
            self._sign_zones()
        # servers
        for z in self.zones.values():
            for a in z.addrs:
                if a not in self.servers:
                    if a in self.bad:
                        self.servers[a] = BadAuth(a, self.port, self.tmpdir,
                                                  self.bad_extra.get(a),
                                                  self.bad[a])
                    else:
                        self.servers[a] = NSDServer(a, self.port, self.tmpdir)
                self.servers[a].zones.append(z)
        for a in self.bad:
            if a not in self.servers:  # badauth with only raw zones
                self.servers[a] = BadAuth(a, self.port, self.tmpdir,
                                          self.bad_extra.get(a), self.bad[a])
        root = self.zones["."]
        with open(self.hints, "w") as f:
            f.write("; root hints for the chaindns integration tests\n")
            for ns in root.ns_names:
                f.write(".\t3600000\tNS\t%s\n" % ns.upper())
            for ns, addr in zip(root.ns_names, root.addrs):
                f.write("%s\t3600000\tA\t%s\n" % (ns.upper(), addr))

    def _sign_zones(self):
        """Sign every signed zone, children before parents, so that a
        parent is signed with the DS records of its signed children; then
        write the root's trust anchor files."""
        order = sorted(self.zones.values(),
                       key=lambda z: -len(dns.name.from_text(z.name)))
        for z in order:
            if not z.signed:
                continue
            _sign_zone(self, z)
            parent = self._parent(z.name)
            if parent is not None and parent.signed and z.publish_ds:
                for ds in z.ds_records:
                    parent.records.append((z.name, z.ttl, "DS", ds))
        root = self.zones.get(".")
        if root is not None and root.signed:
            self.trust_anchor = self.write_trust_anchor(
                os.path.join(self.tmpdir, "trust-anchor.ds"))
            self.trust_anchor_dnskey = self.write_trust_anchor(
                os.path.join(self.tmpdir, "trust-anchor.dnskey"), form="DNSKEY")

    def trust_anchor_lines(self, zone=".", form="DS"):
        """Trust-anchor lines for a signed zone (after start()): its DS
        records as its parent would publish them (form="DS"), or the DNSKEY
        records of its keys with ds=True (form="DNSKEY")."""
        z = self.zones[_abs(zone).lower()]
        if not z.signed:
            raise ValueError("zone %s is not signed" % z.name)
        if form.upper() == "DS":
            rdata = z.ds_records
        else:
            rdata = [k.dnskey for k in z.keys if k.ds]
        return ["%s %d IN %s %s" % (z.name, z.ttl, form.upper(), r) for r in rdata]

    def write_trust_anchor(self, path, zones=(".",), form="DS"):
        """Write the trust-anchor lines of `zones` to path; returns path."""
        lines = []
        for zn in zones:
            lines += self.trust_anchor_lines(zn, form)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def verify_zone(self, zone, *args):
        """ldns-verify-zone on a signed zone's final file (after start()):
        CompletedProcess (rc 0 when every signature and the denial chain
        check out at the current time)."""
        z = self.zones[_abs(zone).lower()]
        return subprocess.run([LDNS_VERIFY_ZONE] + list(args) + [z.signed_file],
                              capture_output=True, text=True,
                              stdin=subprocess.DEVNULL,
                              timeout=DNSSEC_TOOL_TIMEOUT)

    def start(self, timeout=15.0):
        self._build()
        try:
            for s in self.servers.values():
                s.start()
            for s in self.servers.values():
                s.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        self.started = True
        return self

    def stop_server(self, n):
        """Stop one authoritative server mid-test (by its PID)."""
        s = self.server(n)
        s.stop()
        # bounded check that it is really gone from the address
        wait_for(lambda: not s.running(), 5)

    def start_server(self, n, timeout=10.0):
        s = self.server(n)
        if not s.running():
            s.start()
            s.wait_ready(timeout)

    def stop(self):
        for s in self.servers.values():
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                sys.stderr.write("stopping %s: %s\n" % (s.addr, e))
        if self.own_tmpdir and not KEEP:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def dump(self):
        """Human-readable zone data, for debugging."""
        out = []
        for z in self.zones.values():
            out.append("; zone %s on %s" % (z.name, ", ".join(z.addrs)))
            out += ["%s %d %s %s" % r for r in z.records]
        return "\n".join(out)


# ---------------------------------------------------------------------------
# the resolver under test
# ---------------------------------------------------------------------------

UNSIGNED_ROOT_ARGS = ["--negative-trust-anchor", "."]


class Chaindns:
    """The resolver binary, listening on 127.54.<base>.<n>:5300."""

    METRICS_PORT = 5399

    def __init__(self, base, hints, args=(), tmpdir=None, n=1,
                 upstream_port=PORT, binary=None, extra_env=None,
                 default_args=True, name=None, metrics=False, unsigned_root=True):
        self.base = base
        self.addr = resolver_addr(base, n)
        self.port = RESOLVER_PORT
        # --metrics on the resolver's own address: instances never collide.
        self.metrics_url = "http://%s:%d" % (self.addr, self.METRICS_PORT) if metrics else None
        self.server_addr = (self.addr, self.port)
        self.binary = binary or resolver_bin()
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="chaindns-res-")
        self.logfile = os.path.join(self.tmpdir, "%s.stderr" % (
            name or "chaindns-%s" % self.addr))
        # Its own control socket (never the machine's /run/chaindns one).
        self.control = os.path.join(self.tmpdir, "ctl-%s.sock" % self.addr) \
            if default_args else None
        self.argv = [self.binary]
        if default_args:
            # One worker unless a test says otherwise: several tests count
            # what one worker does (joined questions, upstream queries).
            self.argv += ["--threads", "1",
                          "--listen", "%s:%d" % (self.addr, self.port),
                          "--root-hints", hints,
                          "--upstream-port", str(upstream_port),
                          "--no-ipv6"]
            level = os.environ.get("CHAINDNS_TEST_LOG_LEVEL")
            if level:
                self.argv += ["--log-level", level]
            if metrics:
                self.argv += ["--metrics", "%s:%d" % (self.addr, self.METRICS_PORT)]
            self.argv += ["--control-socket", self.control]
            if unsigned_root:
                # The test root is not the IANA root, so chaindns leaves its
                # built-in root anchor out anyway (builtin-trust-anchor:
                # auto); this negative trust anchor also says so explicitly.
                # Validation still runs (and finds everything insecure); the
                # DNSSEC tests pass unsigned_root=False.
                self.argv += UNSIGNED_ROOT_ARGS
        self.argv += list(args)
        self.env = dict(os.environ, **(extra_env or {}))
        self.proc = None
        self.returncode = None

    def start(self, wait=True, timeout=5.0):
        if not os.path.exists(self.binary):
            raise RuntimeError("resolver binary not found: %s (set CHAINDNS_BIN)"
                               % self.binary)
        self.err = open(self.logfile, "w")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=self.err, stderr=self.err,
                                     env=self.env, start_new_session=True)
        _live.append(self.proc)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=5.0):
        """Poll until the resolver answers anything (even REFUSED)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.returncode = self.proc.returncode  # teardown: skip it
                raise RuntimeError("chaindns exited with %s before answering;"
                                   " argv %s; log:\n%s" % (
                                       self.proc.returncode, self.argv,
                                       self.log))
            try:
                udp(self.server_addr, ".", "NS", timeout=0.25)
                return
            except (dns.exception.Timeout, OSError, dns.exception.DNSException):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("chaindns did not answer within %ss; argv %s;"
                                   " log:\n%s" % (timeout, self.argv, self.log))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=5.0):
        """SIGTERM, wait (bounded), SIGKILL if needed; returns the exit status
        (negative = killed by that signal)."""
        if self.proc is None:
            return None
        self.returncode = _terminate(self.proc, timeout, group=True)
        try:
            self.err.close()
        except Exception:
            pass
        return self.returncode

    @property
    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # bound query helpers
    def udp(self, name, rdtype="A", **opts):
        return udp(self.server_addr, name, rdtype, **opts)

    def tcp(self, name, rdtype="A", **opts):
        return tcp(self.server_addr, name, rdtype, **opts)

    def dig(self, *args, **kw):
        return dig(self.server_addr, *args, **kw)

    def stats(self, timeout=3.0):
        """The resolver's counters now (SIGUSR1 makes it log them): a dict of
        the general line's fields, with the shared tier's under 'redis.'."""
        before = self.log.count("info stats: queries")
        self.proc.send_signal(signal.SIGUSR1)
        if not wait_for(lambda: self.log.count("info stats: queries") > before, timeout):
            raise RuntimeError("no stats line after SIGUSR1; log:\n%s" % self.log)
        time.sleep(0.05)  # the redis line follows the general one
        lines = self.log.splitlines()
        out = {}
        idx = max(i for i, l in enumerate(lines) if "info stats: queries" in l)
        for line in lines[idx:idx + 2]:
            prefix = "redis." if "stats: redis" in line else ""
            for field in line.split():
                if "=" in field:
                    k, v = field.split("=", 1)
                    out[prefix + k] = int(v)
        return out

    def http(self, path, timeout=10.0):
        """GET path from the metrics endpoint: (status, body text)."""
        import urllib.error
        import urllib.request
        try:
            with urllib.request.urlopen(self.metrics_url + path, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def ctl(self, *args, timeout=30):
        """`chaindns ctl --control SOCKET ARGS...`: CompletedProcess (text)."""
        return subprocess.run([resolver_bin(), "ctl", "--control", self.control] + list(args),
                              capture_output=True, text=True, timeout=timeout)

    def metrics(self):
        """The Prometheus exposition parsed into {(name, frozenset(labels)): value}."""
        status, text = self.http("/metrics")
        if status != 200:
            raise RuntimeError("/metrics answered %d: %s" % (status, text))
        return parse_metrics(text)

    def upstream_queries(self):
        s = self.stats()
        return s["upstream_udp"] + s["upstream_tcp"]


# ---------------------------------------------------------------------------
# Redis, for the shared cache tier
# ---------------------------------------------------------------------------

def redis_value(key, kind, payload, ttl=300, secret=None, expiry=None, rank=3, sec=1):
    """A shared-tier value in the layout cache/record.h documents (version 2;
    kind 1 RRset, 3 NXDOMAIN...; sec is the DNSSEC state: 1 insecure, 2
    secure, 3 what a forger might claim as bogus), signed with secret."""
    import hashlib
    import hmac
    expiry = int(time.time()) + ttl if expiry is None else expiry
    body = b"CD" + bytes([2, kind, rank, (1 if secret else 0) | sec << 1]) + \
        struct.pack(">qII", expiry, ttl, len(payload)) + payload
    if secret:
        body += hmac.new(secret, key.encode() + body, hashlib.sha256).digest()
    return body


def rr_wire(owner, rdtype, rdata, ttl=300):
    """One RRset in uncompressed wire format, as values hold them."""
    import io
    import dns.rrset
    f = io.BytesIO()
    dns.rrset.from_text(owner, ttl, "IN", rdtype, rdata).to_wire(f)
    return f.getvalue()


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def redis_addr(base, n):
    """Redis servers of a test module live on 127.55.<base>.<n>."""
    return "127.55.%d.%d" % (base, n)


class RedisServer:
    """Debian's redis-server on one loopback address (or a unix socket), no
    persistence, started and stopped by PID. role: 'primary', 'replica'
    (of replicaof=(addr, port)) or 'sentinel' (monitoring monitor=(name,
    addr, port))."""

    def __init__(self, addr, port, tmpdir, role="primary", replicaof=None,
                 monitor=None, unix_socket=False, password=None, extra=()):
        self.addr, self.port, self.role = addr, port, role
        self.password = password
        self.dir = os.path.join(tmpdir, "redis-%s-%d" % (addr, port))
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "redis.sock") if unix_socket else None
        self.replicaof, self.monitor, self.extra = replicaof, monitor, list(extra)
        self.proc = None

    def _conf(self):
        lines = ["bind %s" % self.addr, "port %d" % self.port,
                 'dir "%s"' % self.dir, 'logfile "%s"' % os.path.join(self.dir, "log"),
                 "daemonize no", "protected-mode no"]
        if self.role == "sentinel":
            name, addr, port = self.monitor
            lines += ["sentinel monitor %s %s %d 1" % (name, addr, port),
                      "sentinel down-after-milliseconds %s 500" % name,
                      "sentinel failover-timeout %s 3000" % name,
                      "sentinel parallel-syncs %s 1" % name]
            if self.password:
                lines += ["requirepass %s" % self.password]
        else:
            # No 5 s wait before a replica's first sync (Redis 7's default).
            lines += ['save ""', "appendonly no", "enable-debug-command local",
                      "repl-diskless-sync-delay 0"]
            if self.socket:
                lines += ['unixsocket "%s"' % self.socket, "unixsocketperm 700"]
            if self.password:
                lines += ["requirepass %s" % self.password]
            if self.role == "replica":
                lines += ["replicaof %s %d" % self.replicaof,
                          "replica-announce-ip %s" % self.addr]
        return "\n".join(lines + self.extra) + "\n"

    def start(self, timeout=10.0):
        conf = os.path.join(self.dir, "redis.conf")
        with open(conf, "w") as f:
            f.write(self._conf())
        argv = [REDIS_SERVER, conf] + (["--sentinel"] if self.role == "sentinel" else [])
        self.stderr = open(os.path.join(self.dir, "stderr"), "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.stderr,
                                     stderr=self.stderr, start_new_session=True)
        _live.append(self.proc)
        if not wait_for(self._pings, timeout):
            raise RuntimeError("redis %s:%d did not answer; log:\n%s" % (
                self.addr, self.port, self.log))
        return self

    def _pings(self):
        if self.proc.poll() is not None:
            raise RuntimeError("redis %s:%d exited; log:\n%s" % (
                self.addr, self.port, self.log))
        try:
            return self.client(timeout=0.5).ping()
        except Exception:
            return False

    def wait_synced(self, timeout=10.0):
        """A replica: wait until its link to the primary is up."""
        def up():
            info = self.client().info("replication")
            return info.get("master_link_status") == "up"
        if not wait_for(up, timeout, interval=0.1):
            raise RuntimeError("replica %s:%d not in sync; log:\n%s" % (
                self.addr, self.port, self.log[-3000:]))
        return self

    def client(self, timeout=2.0):
        import redis  # Debian's python3-redis
        return redis.Redis(host=self.addr, port=self.port, socket_timeout=timeout,
                           password=self.password)

    @property
    def url(self):
        return "redis://%s:%d" % (self.addr, self.port)

    @property
    def log(self):
        try:
            with open(os.path.join(self.dir, "log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        """Stop it by PID: SIGTERM (clean) or SIGKILL (a crash)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.stderr.close()
        if sig == signal.SIGKILL:
            self.proc.kill()
            self.proc.wait(5)
            if self.proc in _live:
                _live.remove(self.proc)
        else:
            _terminate(self.proc, 5.0, group=True)


def run_chaindns(args, timeout=10.0, env=None):
    """Run the binary to completion with exactly `args` (no defaults);
    returns CompletedProcess (text). Raises TimeoutExpired after killing it
    if it does not exit within timeout."""
    b = resolver_bin()
    if not os.path.exists(b):
        raise RuntimeError("resolver binary not found: %s (set CHAINDNS_BIN)" % b)
    p = subprocess.Popen([b] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate(timeout=5)
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


# ---------------------------------------------------------------------------
# unittest glue
# ---------------------------------------------------------------------------

class IntegrationTest(unittest.TestCase):
    """Base class: subclasses set BASE and implement build(h) (declare zones
    on the Hierarchy); RESOLVER_ARGS are extra resolver arguments. setUpClass
    starts the hierarchy and cls.resolver; tearDownClass stops both and
    fails if the resolver did not exit 0 on SIGTERM."""

    BASE = None
    RESOLVER_ARGS = ()
    RESOLVER_KW = {}        # e.g. {"metrics": True}
    START_RESOLVER = True
    WITH_REDIS = False      # start cls.redis on 127.55.<base>.1:6379 too

    @classmethod
    def build(cls, h):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.tmpdir = tempfile.mkdtemp(prefix="chaindns-it-%d-" % cls.BASE)
        cls.h = Hierarchy(cls.BASE, PORT, cls.tmpdir)
        cls.resolver = None
        cls.extra_resolvers = []
        cls.redis = None
        try:
            cls.build(cls.h)
            cls.h.start()
            if cls.WITH_REDIS:
                cls.redis = RedisServer(redis_addr(cls.BASE, 1), 6379, cls.tmpdir).start()
            if cls.START_RESOLVER:
                cls.resolver = Chaindns(cls.BASE, cls.h.hints, cls.RESOLVER_ARGS,
                                        cls.tmpdir, **cls.RESOLVER_KW).start()
        except BaseException:
            if cls.redis:
                cls.redis.stop()
            cls.h.stop()
            cls._cleanup_tmp()
            raise

    @classmethod
    def start_resolver(cls, args=(), n=2, **kw):
        """An additional resolver on 127.54.<base>.<n>, stopped in teardown."""
        r = Chaindns(cls.BASE, cls.h.hints, args, cls.tmpdir, n=n, **kw)
        cls.extra_resolvers.append(r)
        return r.start()

    @classmethod
    def _cleanup_tmp(cls):
        if KEEP:
            sys.stderr.write("kept %s\n" % cls.tmpdir)
        else:
            shutil.rmtree(cls.tmpdir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        problems = []
        for r in [cls.resolver] + cls.extra_resolvers:
            if r is None or r.proc is None or r.returncode is not None:
                continue
            alive = r.alive()
            rc = r.stop()
            if not alive:
                problems.append("%s had already exited with %s; log tail:\n%s"
                                % (r.addr, rc, r.log[-3000:]))
            elif rc != 0:
                problems.append("%s exited %s on SIGTERM; log tail:\n%s"
                                % (r.addr, rc, r.log[-3000:]))
        if cls.redis:
            cls.redis.stop()
        cls.h.stop()
        cls._cleanup_tmp()
        if problems:
            raise AssertionError("\n".join(problems))

    # -- assertions ---------------------------------------------------------
    def assertRcode(self, msg, expected):
        self.assertEqual(rcode(msg), expected,
                         "rcode %s, expected %s\n%s" % (rcode(msg), expected,
                                                         msg))

    def assertResolved(self, msg):
        """NOERROR, RA set, QR set."""
        self.assertRcode(msg, "NOERROR")
        self.assertTrue(msg.flags & dns.flags.QR, "QR not set")
        self.assertTrue(msg.flags & dns.flags.RA, "RA not set\n%s" % msg)

    def assertChain(self, msg, chain, final_type=None, final=None):
        """The answer starts with the CNAMEs chain[0]->chain[1]->... in
        order; then (if given) the final RRset at chain[-1] of final_type
        with rdata set `final`."""
        ans = answers(msg)
        cnames = [(a[0], a[2]) for a in ans if a[1] == "CNAME"]
        want = [(_abs(chain[i]).lower(), _abs(chain[i + 1]).lower())
                for i in range(len(chain) - 1)]
        self.assertEqual(cnames, want, "CNAME chain in answer\n%s" % msg)
        self.assertEqual([(a[0], a[2]) for a in ans[:len(want)]], want,
                         "chain must come first and in order\n%s" % msg)
        if final_type is not None:
            rest = ans[len(want):]
            self.assertTrue(all(a[0] == _abs(chain[-1]).lower()
                                and a[1] == final_type for a in rest),
                            "after the chain only the final RRset\n%s" % msg)
            if final is not None:
                self.assertEqual(sorted(a[2] for a in rest), sorted(final),
                                 msg)

    def assertEDE(self, msg, code=None, contains=()):
        """An EDE option with info-code `code` (if not None) whose EXTRA-TEXT
        contains every string in `contains` (case-insensitive)."""
        edes = ede(msg)
        self.assertTrue(edes, "no EDE option in\n%s" % msg)
        for c, text in edes:
            if code is not None and c != code:
                continue
            low = text.lower()
            if all(s.lower() in low for s in contains):
                return (c, text)
        self.fail("no EDE with code %s containing %r; got %r" % (
            code, list(contains), edes))


def main():
    """unittest.main that exits non-zero on failure."""
    unittest.main(verbosity=2)
