"""Zone contents of a scenario: generated records, delegations, glue, keys,
signatures and NSEC/NSEC3 chains, built in-process with dnspython and
python3-cryptography.

Why it exists: authsrv.py must answer like a real signed authoritative
server, and run.py must write root hints and trust anchors; both need the
same zone data. A World is the set of zones live at one step (zones can
have several lives, `zone ... step N`); it is built once per distinct set of
lives. Keys belong to a zone name and algorithm, so a zone keeps its keys
(and its parent's DS stays right) across lives.

Signing follows RFC 4034/4035/5155: a KSK (flags 257) signs the DNSKEY
RRset, a ZSK (256) every other authoritative RRset (not delegation NS nor
glue); wildcard RRSIGs have the wildcard's label count; NSEC and NSEC3
type bitmaps include RRSIG and NSEC/NSEC3 where those exist; empty
non-terminals get NSEC3 records; opt-out leaves insecure delegations (and
empty non-terminals that lead only to them) out of the NSEC3 chain.
"""

import bisect
import re
import hashlib
import struct

import dns.dnssec
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from scenario import in_steps

IN = dns.rdataclass.IN
T = dns.rdatatype
ROOT_SERVERS = dns.name.from_text("root-servers.test.")
NONE = T.NONE


# The second octet of the servers' addresses (127.NET.<base>.<n>); the
# resolvers use NET + 1. run.py --net moves a whole run elsewhere, so a run
# against a peer can go on beside the chaindns runs.
NET = 60


def auth_addr(base, n):
    """Address of scenario server n."""
    return "127.%d.%d.%d" % (NET, base, n)


def root_ns_name(n):
    return dns.name.from_text("%s.root-servers.test." % chr(ord("a") + n - 1))


def server_of_name(name, hosts):
    """The server number a name server name stands for: a `host` line, else
    ns<n>.<anything>, else <letter>.root-servers.test.; None if unknown."""
    if name in hosts:
        return hosts[name]
    first = name.labels[0].decode().lower() if len(name) > 1 else ""
    m = re.fullmatch(r"ns(\d+)", first)
    if m and 1 <= int(m.group(1)) <= 254:
        return int(m.group(1))
    if name.parent() == ROOT_SERVERS and re.fullmatch(r"[a-z]", first):
        return ord(first) - ord("a") + 1
    return None


# ---------------------------------------------------------------------------
# keys and signatures
# ---------------------------------------------------------------------------

class Key:
    """A private key and its DNSKEY rdata. ECDSA and Ed25519 keys are derived
    from the zone's name (seed), so a zone's key tags are the same in every
    run: a scenario may write them (root-key-sentinel-is-ta-NNNNN)."""

    # The order of the P-256 group (FIPS 186-4 D.1.2.3).
    P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    def __init__(self, alg, flags, seed=None):
        self.alg = alg
        digest = hashlib.sha256(("chaindns scenario key|%s|%d|%d" % (seed, alg, flags))
                                .encode()).digest() if seed is not None else None
        if alg == 13 and digest:
            secret = int.from_bytes(digest, "big") % (self.P256_ORDER - 1) + 1
            self.priv = ec.derive_private_key(secret, ec.SECP256R1())
            pub = self.priv.public_key().public_numbers()
            keybytes = pub.x.to_bytes(32, "big") + pub.y.to_bytes(32, "big")
        elif alg == 13:
            self.priv = ec.generate_private_key(ec.SECP256R1())
            pub = self.priv.public_key().public_numbers()
            keybytes = pub.x.to_bytes(32, "big") + pub.y.to_bytes(32, "big")
        elif alg == 8:
            self.priv = rsa.generate_private_key(65537, 2048)
            pub = self.priv.public_key().public_numbers()
            exp = pub.e.to_bytes((pub.e.bit_length() + 7) // 8, "big")
            keybytes = bytes([len(exp)]) + exp + pub.n.to_bytes(256, "big")
        elif alg == 15:
            self.priv = (ed25519.Ed25519PrivateKey.from_private_bytes(digest) if digest
                         else ed25519.Ed25519PrivateKey.generate())
            keybytes = self.priv.public_key().public_bytes(Encoding.Raw,
                                                           PublicFormat.Raw)
        else:
            raise ValueError("unsupported algorithm %d" % alg)
        self.dnskey = dns.rdata.from_wire(IN, T.DNSKEY,
                                          struct.pack("!HBB", flags, 3, alg) + keybytes,
                                          0, 4 + len(keybytes))
        self.tag = dns.dnssec.key_id(self.dnskey)

    def sign_bytes(self, data):
        if self.alg == 13:
            r, s = decode_dss_signature(self.priv.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        if self.alg == 8:
            return self.priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return self.priv.sign(data)


class KeyRing:
    """One KSK and one ZSK per (zone name, algorithm), made on first use."""

    def __init__(self):
        self.keys = {}

    def get(self, name, alg):
        if (name, alg) not in self.keys:
            seed = name.to_text().lower()
            self.keys[(name, alg)] = (Key(alg, 257, seed), Key(alg, 256, seed))
        return self.keys[(name, alg)]


def sign_rrset(rrset, key, signer, inception, expiration, corrupt=False):
    """An RRSIG rdata over rrset (RFC 4034 3.1.8.1 signature data). A
    wildcard owner's label count excludes the '*' (RFC 4034 3.1.3)."""
    name = rrset.name
    labels = len(name) - 1 - (1 if name.is_wild() else 0)
    header = struct.pack("!HBBIIIH", rrset.rdtype, key.alg, labels, rrset.ttl,
                         expiration & 0xFFFFFFFF, inception & 0xFFFFFFFF, key.tag)
    data = header + signer.to_digestable()
    owner = name.to_digestable()
    fixed = struct.pack("!HHI", rrset.rdtype, IN, rrset.ttl)
    for rd in sorted(r.to_digestable(dns.name.root) for r in rrset):
        data += owner + fixed + struct.pack("!H", len(rd)) + rd
    sig = key.sign_bytes(data)
    if corrupt:
        sig = corrupt_bytes(sig)
    wire = header + signer.canonicalize().to_wire() + sig
    return dns.rdata.from_wire(IN, T.RRSIG, wire, 0, len(wire))


def corrupt_bytes(sig):
    """Flip a byte in the middle of a signature so it no longer verifies."""
    i = len(sig) // 2
    return sig[:i] + bytes([sig[i] ^ 0x5A]) + sig[i + 1:]


def corrupt_rrsig(rd):
    """The RRSIG rdata rd with a flipped byte in its signature field."""
    return rd.replace(signature=corrupt_bytes(rd.signature))


def nsec3_hash(name, salt, iterations):
    return dns.dnssec.nsec3_hash(name, salt or None, iterations, 1).lower()


# ---------------------------------------------------------------------------
# one zone
# ---------------------------------------------------------------------------

class Zone:
    """The records of one zone life, and after finish() its signatures and
    denial chain. data: Name -> {(rdtype, covers): RRset}."""

    def __init__(self, decl, keyring, start):
        self.decl = decl
        self.name = decl.name
        self.servers = list(decl.servers)
        self.data = {}
        self.signed = decl.signed
        self.keys = keyring.get(decl.name, decl.alg) if decl.signed else None
        self.inception = start + decl.sig_inception
        self.expiration = start + decl.sig_expire
        self.nsec3 = {}          # hash label -> [NSEC3 RRset, its RRSIG, name hashed]
        self.nsec3_sorted = []
        self.nsec_owners = []

    # -- records ---------------------------------------------------------------
    def add(self, name, ttl, rdata, covers=NONE):
        node = self.data.setdefault(name, {})
        key = (rdata.rdtype, covers)
        if key not in node:
            node[key] = dns.rrset.RRset(name, IN, rdata.rdtype, covers)
            node[key].update_ttl(ttl)
        node[key].add(rdata, ttl)

    def has(self, name, rdtype):
        return (rdtype, NONE) in self.data.get(name, {})

    def get(self, name, rdtype):
        return self.data.get(name, {}).get((rdtype, NONE))

    def sigs(self, name, rdtype):
        return self.data.get(name, {}).get((T.RRSIG, rdtype))

    def contains(self, name):
        return name.is_subdomain(self.name)

    def types_at(self, name):
        return sorted(t for (t, c) in self.data.get(name, {}) if t != T.RRSIG)

    # -- structure -------------------------------------------------------------
    def cut_above(self, name):
        """The delegation point at or above name (below the apex), or None."""
        n = name
        while n != self.name and len(n) > len(self.name):
            if n in self.cuts:
                return n
            n = n.parent()
        return None

    def is_glue(self, name):
        """Strictly below a delegation point: not authoritative here."""
        cut = self.cut_above(name)
        return cut is not None and cut != name

    def exists(self, name):
        """The name has records or descendants (an empty non-terminal)."""
        return name in self.existing

    def soa_negative(self):
        """SOA for negative answers: TTL min(SOA TTL, SOA MINIMUM) (RFC 2308)."""
        soa = self.get(self.name, T.SOA)
        return min(soa.ttl, soa[0].minimum)

    def finish(self):
        """Compute cuts and existing names; sign and chain if signed."""
        self.cuts = {n for n, node in self.data.items()
                     if n != self.name and (T.NS, NONE) in node}
        self.auth_names = sorted(n for n in self.data if not self.is_glue(n))
        self.existing = set()
        for n in self.auth_names:
            while n not in self.existing and n.is_subdomain(self.name):
                self.existing.add(n)
                if n == self.name:
                    break
                n = n.parent()
        if not self.signed:
            return
        ksk, zsk = self.keys
        self.add(self.name, self.decl.ttl, ksk.dnskey)
        self.add(self.name, self.decl.ttl, zsk.dnskey)
        if self.decl.nsec3:
            self.add(self.name, 0, dns.rdata.from_text(
                IN, T.NSEC3PARAM, "1 0 %d %s" % (self.decl.iterations,
                                                  self.decl.salt or "-")))
            self.build_nsec3()
        else:
            self.build_nsec()
        self.sign_all()

    def signed_types(self, name):
        """Types at name that get an RRSIG."""
        if name in self.cuts:
            return [t for t in self.types_at(name) if t in (T.DS, T.NSEC)]
        return self.types_at(name)

    def build_nsec(self):
        self.nsec_owners = list(self.auth_names)
        for i, owner in enumerate(self.nsec_owners):
            nxt = self.nsec_owners[(i + 1) % len(self.nsec_owners)]
            types = set(self.signed_types(owner)) | {T.NSEC, T.RRSIG}
            if owner in self.cuts:
                types.add(T.NS)
            text = "%s %s" % (nxt, " ".join(T.to_text(t) for t in sorted(types)))
            self.add(owner, self.soa_negative(), dns.rdata.from_text(IN, T.NSEC, text))

    def nsec3_names(self):
        """Names with an NSEC3: authoritative names and delegations (opt-out:
        only secure ones), and every empty non-terminal above them."""
        optout = self.decl.optout
        out = set()
        for n in self.auth_names:
            if n in self.cuts and optout and not self.has(n, T.DS):
                continue
            while n not in out:
                out.add(n)
                if n == self.name:
                    break
                n = n.parent()
        return out

    def build_nsec3(self):
        d = self.decl
        entries = []
        for n in self.nsec3_names():
            if n in self.cuts:
                types = [T.NS] + ([T.DS, T.RRSIG] if self.has(n, T.DS) else [])
            elif n in self.data:
                types = self.types_at(n) + [T.RRSIG]
            else:
                types = []   # empty non-terminal
            entries.append((nsec3_hash(n, d.salt, d.iterations), n, sorted(set(types))))
        entries.sort()
        ttl = self.soa_negative()
        for i, (h, n, types) in enumerate(entries):
            nxt = entries[(i + 1) % len(entries)][0]
            text = "1 %d %d %s %s %s" % (1 if d.optout else 0, d.iterations,
                                         d.salt or "-", nxt.upper(),
                                         " ".join(T.to_text(t) for t in types))
            owner = dns.name.Name((h.encode(),) + self.name.labels)
            rrset = dns.rrset.from_rdata(owner, ttl,
                                         dns.rdata.from_text(IN, T.NSEC3, text))
            self.nsec3[h] = [rrset, None, n]
        self.nsec3_sorted = [e[0] for e in entries]

    def sign(self, rrset, corrupt=False):
        ksk, zsk = self.keys
        key = ksk if rrset.rdtype == T.DNSKEY else zsk
        rd = sign_rrset(rrset, key, self.name, self.inception, self.expiration, corrupt)
        return dns.rrset.from_rdata(rrset.name, rrset.ttl, rd)

    def sign_all(self):
        for n in self.auth_names:
            for t in self.signed_types(n):
                sig = self.sign(self.get(n, t))
                self.data[n][(T.RRSIG, t)] = sig
        for entry in self.nsec3.values():
            entry[1] = self.sign(entry[0])

    # -- denial lookups ----------------------------------------------------------
    def nsec_covering(self, name):
        """Owner of the NSEC whose range covers (or matches) name."""
        i = bisect.bisect_right(self.nsec_owners, name) - 1
        return self.nsec_owners[i] if i >= 0 else self.nsec_owners[-1]

    def nsec3_match(self, name):
        """The NSEC3 entry [RRset, RRSIG, name] whose hash is name's, or None."""
        h = nsec3_hash(name, self.decl.salt, self.decl.iterations)
        return self.nsec3.get(h)

    def nsec3_cover(self, name):
        """The NSEC3 entry whose range covers name's hash."""
        h = nsec3_hash(name, self.decl.salt, self.decl.iterations)
        i = bisect.bisect_left(self.nsec3_sorted, h) - 1
        return self.nsec3[self.nsec3_sorted[i]]  # i == -1 wraps to the last

    def provable_encloser(self, name):
        """Closest ancestor of name (itself excluded) that has an NSEC3:
        (encloser, next closer name)."""
        child, n = name, name.parent()
        while not self.nsec3_match(n):
            child, n = n, n.parent()
        return n, child


# ---------------------------------------------------------------------------
# a world: the zones of one step
# ---------------------------------------------------------------------------

class World:
    """Every zone live at one step, with delegations, glue and DS added."""

    def __init__(self, scn, decls, keyring, start, base):
        self.scn, self.base = scn, base
        self.zones = {d.name: Zone(d, keyring, start) for d in decls}
        for z in self.zones.values():
            self.fill_body(z)
        for z in self.zones.values():
            self.fill_apex(z)
        for z in self.zones.values():
            self.delegate(z)
        for z in self.zones.values():
            self.address_records(z)
        # Children first, so a signed parent signs its DS records.
        for z in sorted(self.zones.values(), key=lambda z: -len(z.name)):
            z.finish()

    # -- building ----------------------------------------------------------------
    def fill_body(self, z):
        for r in z.decl.records:
            z.add(r.name, z.decl.ttl if r.ttl is None else r.ttl, r.rdata)

    def ns_names(self, z):
        """Apex NS names: written in the body, else ns=..., else generated."""
        written = z.get(z.name, T.NS)
        if written:
            return [rd.target for rd in written]
        if z.decl.ns:
            return list(z.decl.ns)
        if z.name == dns.name.root:
            return [root_ns_name(n) for n in z.servers]
        return [dns.name.Name((b"ns%d" % n,) + z.name.labels) for n in z.servers]

    def fill_apex(self, z):
        d = z.decl
        names = self.ns_names(z)
        if not z.has(z.name, T.SOA):
            rname = dns.name.Name((b"hostmaster",) + z.name.labels)
            z.add(z.name, d.ttl, dns.rdata.from_text(
                IN, T.SOA, "%s %s 1 3600 600 86400 %d" % (names[0], rname, d.negttl)))
        if not z.has(z.name, T.NS):
            for n in names:
                z.add(z.name, d.ttl, dns.rdata.from_text(IN, T.NS, n.to_text()))

    def parent_of(self, name):
        """The deepest zone that is a proper ancestor of name."""
        best = None
        for z in self.zones.values():
            if z.name != name and name.is_subdomain(z.name):
                if best is None or len(z.name) > len(best.name):
                    best = z
        return best

    def zone_of(self, name):
        """The deepest zone containing name (its apex included)."""
        best = None
        for z in self.zones.values():
            if name.is_subdomain(z.name) and (best is None or len(z.name) > len(best.name)):
                best = z
        return best

    def addr(self, name):
        n = server_of_name(name, self.scn.hosts)
        return None if n is None else auth_addr(self.base, n)

    def delegate(self, z):
        """NS (unless the parent's body writes them), glue and DS in the parent."""
        parent = self.parent_of(z.name)
        if parent is None:
            return
        # The delegation is the parent's data: the parent's default TTL.
        if not parent.has(z.name, T.NS):
            for n in self.ns_names(z):
                parent.add(z.name, parent.decl.ttl,
                           dns.rdata.from_text(IN, T.NS, n.to_text()))
        if z.signed and not z.decl.nods:
            ds = dns.dnssec.make_ds(z.name, z.keys[0].dnskey, "SHA256")
            parent.add(z.name, parent.decl.ttl, ds)

    def address_records(self, z):
        """A records of every NS name this zone's data uses (apex and
        delegations): in the deepest zone that contains the name
        (authoritative), and in this zone too when the name is inside it
        (glue)."""
        for owner, node in list(z.data.items()):
            ns = node.get((T.NS, NONE))
            if not ns:
                continue
            for rd in ns:
                target = rd.target
                addr = self.addr(target)
                if addr is None:
                    continue
                homes = {self.zone_of(target)}
                if target.is_subdomain(z.name):
                    homes.add(z)
                for home in homes - {None}:
                    if not home.has(target, T.A) and not home.has(target, T.AAAA):
                        home.add(target, z.decl.ttl, dns.rdata.from_text(IN, T.A, addr))

    # -- queries by the engine ---------------------------------------------------
    def zones_of_server(self, n):
        return [z for z in self.zones.values() if n in z.servers]

    def root(self):
        return self.zones.get(dns.name.root)

    def find_rrset(self, owner, rdtype):
        """(RRset, RRSIG RRset) of owner/type as some zone serves it
        authoritatively, deepest zone first (DS: the parent side)."""
        for z in sorted(self.zones.values(), key=lambda z: -len(z.name)):
            if not z.contains(owner) or z.is_glue(owner):
                continue
            if owner in z.cuts and rdtype not in (T.DS, T.NSEC):
                continue
            rr = z.get(owner, rdtype)
            if rr is not None:
                return rr, z.sigs(owner, rdtype)
        return None, None

    def find_nsec3(self, name, cover):
        z = self.nsec3_zone(name)
        if z is None:
            return None
        return z.nsec3_cover(name) if cover else z.nsec3_match(name)

    def nsec3_zone(self, name):
        best = None
        for z in self.zones.values():
            if z.signed and z.decl.nsec3 and z.contains(name):
                if best is None or len(z.name) > len(best.name):
                    best = z
        return best

    def find_nsec_cover(self, name):
        best = None
        for z in self.zones.values():
            if z.signed and not z.decl.nsec3 and z.contains(name):
                if best is None or len(z.name) > len(best.name):
                    best = z
        if best is None:
            return None, None
        owner = best.nsec_covering(name)
        return best.get(owner, T.NSEC), best.sigs(owner, T.NSEC)


class Worlds:
    """The World of each step, built once per distinct set of zone lives."""

    def __init__(self, scn, base, start, keyring=None):
        self.keyring = keyring or KeyRing()
        self.by_step = {}
        cache = {}
        for step in range(scn.max_step + 1):
            decls = tuple(d for d in scn.zones if in_steps(d.steps, step))
            key = tuple(id(d) for d in decls)
            if key not in cache:
                cache[key] = World(scn, decls, self.keyring, start, base)
            self.by_step[step] = cache[key]
        self.scn, self.base = scn, base

    def __getitem__(self, step):
        return self.by_step[step]

    def hints_text(self):
        """Root hints (named.root format) from step 0's root zone."""
        w = self.by_step[0]
        root = w.root()
        lines = ["; root hints of a chaindns scenario"]
        names = w.ns_names(root)
        for n in names:
            lines.append(".\t3600000\tNS\t%s" % n.to_text().upper())
        for n in names:
            addr = w.addr(n)
            if addr:
                lines.append("%s\t3600000\tA\t%s" % (n.to_text().upper(), addr))
        return "\n".join(lines) + "\n"

    def anchors_text(self):
        """DS lines (zone-file syntax) of the scenario's trust anchors."""
        lines = []
        for name in self.scn.anchors:
            algs = sorted({d.alg for d in self.scn.zones if d.name == name and d.signed})
            for alg in algs:
                ksk = self.keyring.get(name, alg)[0]
                ds = dns.dnssec.make_ds(name, ksk.dnskey, "SHA256")
                lines.append("%s 3600 IN DS %s" % (name, ds))
        return "\n".join(lines) + "\n"

    def dump(self, path):
        """Every world's zones in zone-file text, for -k."""
        with open(path, "w") as f:
            done = set()
            for step, w in self.by_step.items():
                if id(w) in done:
                    f.write(";; step %d: same zones as an earlier step\n" % step)
                    continue
                done.add(id(w))
                for z in sorted(w.zones.values(), key=lambda z: z.name):
                    f.write(";; step %d zone %s servers %s\n" % (
                        step, z.name, ",".join(map(str, z.servers))))
                    for n in sorted(z.data):
                        for rr in z.data[n].values():
                            f.write(rr.to_text() + "\n")
                    for h in z.nsec3_sorted:
                        rr, sig, orig = z.nsec3[h]
                        f.write("; NSEC3 of %s\n%s\n%s\n" % (orig, rr.to_text(),
                                                           sig.to_text()))
                    f.write("\n")

