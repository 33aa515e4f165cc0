"""The scenario's authoritative DNS servers, run as threads inside the runner.

Why it exists: DNSSEC and delegation regressions need servers that answer
exactly like NSD/BIND (RFC 1034, 2308, 4035, 5155, 6672 semantics) *and*
can be told to misbehave in one precise way (strip a signature, forge a
record, drop a query at step 2). The Engine answers from the World of the
current step (zonedata.py); then the scenario's `on` rules for that server
are applied, or a scripted reply replaces the answer. AuthServers serves
UDP and TCP (length-framed, several queries per connection) on every
scenario server address and logs every query received, so expectations can
count and name upstream queries.
"""

import json
import socket
import struct
import threading
import time

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from zonedata import auth_addr, corrupt_rrsig, sign_rrset

T = dns.rdatatype
OUR_PAYLOAD = 1232
MAX_CHAIN = 8


# ---------------------------------------------------------------------------
# reply building
# ---------------------------------------------------------------------------

class Reply:
    """A reply under construction: sections as lists of RRsets, deduplicated."""

    def __init__(self, query):
        self.query = query
        self.msg = dns.message.make_response(query, our_payload=OUR_PAYLOAD)
        if query.edns >= 0:
            self.msg.use_edns(0, query.ednsflags & dns.flags.DO, OUR_PAYLOAD)
        self.do = query.edns >= 0 and bool(query.ednsflags & dns.flags.DO)

    def section(self, name):
        return {"answer": self.msg.answer, "authority": self.msg.authority,
                "additional": self.msg.additional}[name]

    def add(self, section, rrset, sigs=None, name=None):
        """Add rrset (and, with DO, its RRSIGs) to section; name rewrites the
        owner (wildcard expansion)."""
        if rrset is None:
            return
        for rr in [rrset] + ([sigs] if sigs is not None and self.do else []):
            if name is not None:
                rr = copy_rrset(rr, name)
            sec = self.section(section)
            if not any(same_rrset(x, rr) for x in sec):
                sec.append(rr)

    def set_aa(self, on=True):
        if on:
            self.msg.flags |= dns.flags.AA
        else:
            self.msg.flags &= ~dns.flags.AA


def copy_rrset(rr, name=None, ttl=None):
    out = dns.rrset.RRset(name or rr.name, rr.rdclass, rr.rdtype, rr.covers)
    out.update_ttl(rr.ttl if ttl is None else ttl)
    for rd in rr:
        out.add(rd)
    return out


def same_rrset(a, b):
    return a.name == b.name and a.rdtype == b.rdtype and a.covers == b.covers \
        and set(a) == set(b)


# ---------------------------------------------------------------------------
# the engine: what an RFC-compliant authoritative server answers
# ---------------------------------------------------------------------------

class Engine:
    """Answers one query from a World, as server n."""

    def __init__(self, world, server):
        self.world, self.server = world, server

    def answer(self, query):
        r = Reply(query)
        if query.opcode() != dns.opcode.QUERY:
            r.msg.set_rcode(dns.rcode.NOTIMP)
            return r.msg
        if query.edns > 0:
            r.msg.set_rcode(dns.rcode.BADVERS)
            return r.msg
        if len(query.question) != 1:
            r.msg.set_rcode(dns.rcode.FORMERR)
            return r.msg
        q = query.question[0]
        if q.rdclass != dns.rdataclass.IN or q.rdtype in (T.AXFR, T.IXFR):
            r.msg.set_rcode(dns.rcode.REFUSED)
            return r.msg
        zone = self.zone_for(q.name, q.rdtype)
        if zone is None:
            r.msg.set_rcode(dns.rcode.REFUSED)
            return r.msg
        r.set_aa()
        self.lookup(r, zone, q.name, q.rdtype, 0)
        return r.msg

    def zone_for(self, qname, qtype):
        """The deepest zone this server serves that contains qname; for DS
        at a zone apex, the parent side when this server serves it too."""
        zones = [z for z in self.world.zones_of_server(self.server) if z.contains(qname)]
        if not zones:
            return None
        zones.sort(key=lambda z: -len(z.name))
        if qtype == T.DS and zones[0].name == qname and len(zones) > 1:
            return zones[1]
        return zones[0]

    # -- the lookup walk -----------------------------------------------------
    def lookup(self, r, z, qname, qtype, depth):
        """Fill r with zone z's answer for qname/qtype; depth counts CNAMEs
        followed inside the zone."""
        n = z.name
        below = qname.relativize(z.name).labels
        for i in range(len(below), -1, -1):
            if i < len(below):
                n = dns.name.Name(below[i:] + z.name.labels)
            if n != z.name and n in z.cuts and not (n == qname and qtype == T.DS):
                if depth == 0:
                    self.referral(r, z, n)
                return
            if n != qname and z.has(n, T.DNAME):
                self.dname(r, z, n, qname, qtype, depth)
                return
        if qname in z.data and z.types_at(qname):
            self.at_name(r, z, qname, qtype, depth)
        elif z.exists(qname):
            self.nodata(r, z, qname)
        else:
            self.no_name(r, z, qname, qtype, depth)

    def at_name(self, r, z, qname, qtype, depth):
        if qtype == T.ANY:
            for t in z.types_at(qname):
                r.add("answer", z.get(qname, t), z.sigs(qname, t))
            return
        rr = z.get(qname, qtype)
        if rr is not None:
            r.add("answer", rr, z.sigs(qname, qtype))
            self.additional(r, z, rr)
            return
        cname = z.get(qname, T.CNAME)
        if cname is not None:
            r.add("answer", cname, z.sigs(qname, T.CNAME))
            self.follow(r, z, cname[0].target, qtype, depth)
            return
        self.nodata(r, z, qname)

    def follow(self, r, z, target, qtype, depth):
        """Continue a CNAME chain inside the same zone, as NSD does."""
        if depth + 1 >= MAX_CHAIN or not z.contains(target):
            return
        self.lookup(r, z, target, qtype, depth + 1)

    def no_name(self, r, z, qname, qtype, depth):
        """qname does not exist: wildcard synthesis or NXDOMAIN."""
        ce = qname.parent()
        while not z.exists(ce):
            ce = ce.parent()
        wild = dns.name.Name((b"*",) + ce.labels)
        if wild in z.data and z.types_at(wild):
            self.wildcard(r, z, qname, qtype, ce, wild, depth)
            return
        r.msg.set_rcode(dns.rcode.NXDOMAIN)
        self.soa(r, z)
        if r.do and z.signed:
            if z.decl.nsec3:
                self.nsec3_closest_encloser(r, z, qname)
                self.add_nsec3(r, z.nsec3_cover(dns.name.Name((b"*",) + self.nsec3_ce(z, qname).labels)))
            else:
                self.add_nsec(r, z, z.nsec_covering(qname))
                self.add_nsec(r, z, z.nsec_covering(wild))

    def nsec3_ce(self, z, qname):
        return z.provable_encloser(qname)[0]

    def wildcard(self, r, z, qname, qtype, ce, wild, depth):
        rr = z.get(wild, qtype)
        cname = z.get(wild, T.CNAME)
        if rr is not None or (cname is not None and qtype != T.CNAME):
            t = qtype if rr is not None else T.CNAME
            r.add("answer", z.get(wild, t), z.sigs(wild, t), name=qname)
            self.wildcard_proof(r, z, qname, ce)
            if rr is None:
                self.follow(r, z, cname[0].target, qtype, depth)
            return
        # wildcard NODATA
        self.soa(r, z)
        if r.do and z.signed:
            if z.decl.nsec3:
                self.nsec3_closest_encloser(r, z, qname)
                self.add_nsec3(r, z.nsec3_match(wild))
            else:
                self.add_nsec(r, z, z.nsec_covering(qname))
                self.add_nsec(r, z, wild)

    def wildcard_proof(self, r, z, qname, ce):
        """The next closer name does not exist (RFC 4035 3.1.3.3, 5155 7.2.6)."""
        if not (r.do and z.signed):
            return
        if z.decl.nsec3:
            nc = qname
            while nc.parent() != ce:
                nc = nc.parent()
            self.add_nsec3(r, z.nsec3_cover(nc))
        else:
            self.add_nsec(r, z, z.nsec_covering(qname))

    def nodata(self, r, z, qname):
        self.soa(r, z)
        if not (r.do and z.signed):
            return
        if z.decl.nsec3:
            m = z.nsec3_match(qname)
            if m is not None:
                self.add_nsec3(r, m)
            else:  # e.g. DS at an opt-out delegation: RFC 5155 7.2.4
                self.nsec3_closest_encloser(r, z, qname)
        else:
            owner = qname if z.has(qname, T.NSEC) else z.nsec_covering(qname)
            self.add_nsec(r, z, owner)

    def referral(self, r, z, cut):
        r.set_aa(False)
        r.add("authority", z.get(cut, T.NS))
        if r.do and z.signed:
            ds = z.get(cut, T.DS)
            if ds is not None:
                r.add("authority", ds, z.sigs(cut, T.DS))
            elif z.decl.nsec3:
                m = z.nsec3_match(cut)
                if m is not None:
                    self.add_nsec3(r, m)
                else:
                    self.nsec3_closest_encloser(r, z, cut)
            else:
                self.add_nsec(r, z, cut)
        self.glue(r, z, z.get(cut, T.NS))

    def dname(self, r, z, owner, qname, qtype, depth):
        dname = z.get(owner, T.DNAME)
        r.add("answer", dname, z.sigs(owner, T.DNAME))
        try:
            target = qname.relativize(owner).derelativize(dname[0].target)
        except dns.name.NameTooLong:
            r.msg.set_rcode(dns.rcode.YXDOMAIN)
            return
        cname = dns.rrset.from_text(qname, dname.ttl, "IN", "CNAME", target.to_text())
        r.add("answer", cname)
        self.follow(r, z, target, qtype, depth)

    # -- pieces ----------------------------------------------------------------
    def soa(self, r, z):
        ttl = z.soa_negative()
        r.add("authority", copy_rrset(z.get(z.name, T.SOA), ttl=ttl),
              None if z.sigs(z.name, T.SOA) is None
              else copy_rrset(z.sigs(z.name, T.SOA), ttl=ttl))

    def add_nsec(self, r, z, owner):
        r.add("authority", z.get(owner, T.NSEC), z.sigs(owner, T.NSEC))

    def add_nsec3(self, r, entry):
        if entry is not None:
            r.add("authority", entry[0], entry[1])

    def nsec3_closest_encloser(self, r, z, qname):
        """Closest (provable) encloser match and next closer cover."""
        ce, nc = z.provable_encloser(qname)
        self.add_nsec3(r, z.nsec3_match(ce))
        self.add_nsec3(r, z.nsec3_cover(nc))

    def glue(self, r, z, ns):
        for rd in ns or ():
            for t in (T.A, T.AAAA):
                if z.contains(rd.target):
                    r.add("additional", z.get(rd.target, t))

    def additional(self, r, z, rr):
        """Addresses of NS/MX/SRV targets that this zone holds."""
        if rr.rdtype not in (T.NS, T.MX, T.SRV):
            return
        for rd in rr:
            target = rd.target if rr.rdtype in (T.NS, T.SRV) else rd.exchange
            if not z.contains(target):
                continue
            for t in (T.A, T.AAAA):
                sigs = None if z.is_glue(target) else z.sigs(target, t)
                r.add("additional", z.get(target, t), sigs)


# ---------------------------------------------------------------------------
# rules: quirks applied after the engine, or scripted replies
# ---------------------------------------------------------------------------

def sections(msg):
    return [msg.answer, msg.authority, msg.additional]


def filter_sections(msg, drop):
    """Remove every RRset for which drop(rrset) is true, in every section."""
    for sec in sections(msg):
        sec[:] = [rr for rr in sec if not drop(rr)]


def add_record(sec, rec, ttl_default=3600):
    ttl = ttl_default if rec.ttl is None else rec.ttl
    for rr in sec:
        if rr.name == rec.name and rr.rdtype == rec.rdtype and rr.covers == (
                rec.rdata.covers() if rec.rdtype == T.RRSIG else T.NONE):
            rr.add(rec.rdata, ttl)
            return
    rr = dns.rrset.from_rdata(rec.name, ttl, rec.rdata)
    sec.append(rr)


class Applied:
    """What the rules decided beyond the message: drop it, delay it."""

    def __init__(self):
        self.drop = False
        self.delay_ms = 0


def apply_action(msg, action, transport, applied):
    kw = action[0]
    if kw == "drop":
        applied.drop = True
    elif kw == "delay":
        applied.delay_ms += action[1]
    elif kw == "rcode":
        msg.set_rcode(action[1])
    elif kw == "tc":
        if transport == "udp":
            msg.flags |= dns.flags.TC
            for sec in sections(msg):
                sec.clear()
    elif kw == "aa":
        msg.flags |= dns.flags.AA
    elif kw == "noaa":
        msg.flags &= ~dns.flags.AA
    elif kw == "refused":
        msg.set_rcode(dns.rcode.REFUSED)
        msg.flags &= ~dns.flags.AA
        for sec in sections(msg):
            sec.clear()
    elif kw == "strip-rrsig":
        filter_sections(msg, lambda rr: rr.rdtype == T.RRSIG and (
            action[1] is None or rr.covers == action[1]))
    elif kw == "strip":
        filter_sections(msg, lambda rr: rr.rdtype == action[1] or (
            rr.rdtype == T.RRSIG and rr.covers == action[1]))
    elif kw == "corrupt":
        for sec in sections(msg):
            for i, rr in enumerate(sec):
                if rr.rdtype == T.RRSIG and (action[1] is None or rr.covers == action[1]):
                    new = dns.rrset.RRset(rr.name, rr.rdclass, rr.rdtype, rr.covers)
                    new.update_ttl(rr.ttl)
                    for rd in rr:
                        new.add(corrupt_rrsig(rd))
                    sec[i] = new
    elif kw == "add":
        add_record(getattr(msg, action[1]), action[2])
    elif kw == "remove":
        sec = getattr(msg, action[1])
        sec[:] = [rr for rr in sec if not (rr.name == action[2] and rr.rdtype == action[3])]
    elif kw == "as-step":
        pass  # chose the zones the reply was made from (AuthServers.respond)
    else:
        raise ValueError("unknown action %r" % (kw,))


def scripted_reply(world, query, script):
    """Build the reply a rule's body writes, from scratch."""
    r = Reply(query)
    msg = r.msg
    if script.flags is not None:
        msg.flags &= ~(dns.flags.AA | dns.flags.TC | dns.flags.RA)
        for f in script.flags:
            msg.flags |= dns.flags.from_text(f.upper())
    if script.rcode is not None:
        msg.set_rcode(script.rcode)
    for item in script.items:
        kind = item[0]
        if kind == "rr":
            add_record(r.section(item[1]), item[2])
        elif kind == "include":
            if item[3] == T.NSEC3:
                r.add(item[1], *(world.find_nsec3(item[2], cover=False) or (None, None))[:2])
            else:
                r.add(item[1], *world.find_rrset(item[2], item[3]))
        elif kind == "cover":
            if item[3] == T.NSEC3:
                r.add(item[1], *(world.find_nsec3(item[2], cover=True) or (None, None))[:2])
            else:
                r.add(item[1], *world.find_nsec_cover(item[2]))
        elif kind == "sign":
            sign_reply(world, r, item[1], item[2])
    return msg


def sign_reply(world, r, zone_name, corrupt):
    """Sign every RRset of the reply that has no RRSIG yet with zone_name's
    ZSK (only when the query has DO, like every RRSIG we send)."""
    zone = world.zones.get(zone_name)
    if zone is None or not zone.signed or not r.do:
        return
    for sec in sections(r.msg):
        signed = {(rr.name, rr.covers) for rr in sec if rr.rdtype == T.RRSIG}
        out = []
        for rr in sec:
            out.append(rr)
            if rr.rdtype in (T.RRSIG, T.OPT) or (rr.name, rr.rdtype) in signed:
                continue
            rd = sign_rrset(rr, zone.keys[1], zone.name, zone.inception,
                            zone.expiration, corrupt)
            out.append(dns.rrset.from_rdata(rr.name, rr.ttl, rd))
        sec[:] = out


# ---------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------

class QueryLog:
    """Every query any scenario server received, in arrival order."""

    def __init__(self, path=None):
        self.lock = threading.Lock()
        self.entries = []
        self.file = open(path, "a") if path else None

    def add(self, entry):
        with self.lock:
            self.entries.append(entry)
            if self.file:
                self.file.write(json.dumps(entry) + "\n")
                self.file.flush()

    def mark(self):
        with self.lock:
            return len(self.entries)

    def since(self, mark):
        with self.lock:
            return list(self.entries[mark:])

    def close(self):
        if self.file:
            self.file.close()


class AuthServers:
    """UDP and TCP listeners for every scenario server, answering from the
    World of the current step and applying the scenario's rules."""

    def __init__(self, scn, worlds, base, port, log_path=None):
        self.scn, self.worlds, self.base, self.port = scn, worlds, base, port
        self.step = 0
        self.log = QueryLog(log_path)
        self.socks = []
        self.threads = []
        self.stopping = threading.Event()
        self.errors = []

    # -- life cycle --------------------------------------------------------------
    def start(self):
        for n in self.scn.servers():
            addr = auth_addr(self.base, n)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind((addr, self.port))
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((addr, self.port))
            t.listen(64)
            for s in (u, t):
                s.settimeout(0.2)
                self.socks.append(s)
            self.spawn(self.serve_udp, u, n)
            self.spawn(self.serve_tcp, t, n)
        return self

    def spawn(self, fn, *args):
        th = threading.Thread(target=fn, args=args, daemon=True)
        th.start()
        self.threads.append(th)

    def stop(self):
        self.stopping.set()
        for th in self.threads:
            th.join(2)
        for s in self.socks:
            s.close()
        self.log.close()

    def set_step(self, step):
        self.step = step

    # -- one query ------------------------------------------------------------------
    def handle(self, wire, n, transport):
        """(reply wire or None, delay in ms) for a query received by server n."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None, 0
        if query.flags & dns.flags.QR or not query.question:
            return None, 0
        step = self.step
        q = query.question[0]
        self.log.add({"t": round(time.time(), 3), "server": n,
                      "qname": q.name.to_text(), "qtype": dns.rdatatype.to_text(q.rdtype),
                      "transport": transport, "step": step,
                      "do": bool(query.ednsflags & dns.flags.DO)})
        world = self.worlds[step]
        try:
            msg, applied = self.respond(world, query, n, transport, step)
        except Exception as e:  # a bug here must show, not hang the resolver
            self.errors.append("server %d, %s %s: %r" % (n, q.name, q.rdtype, e))
            msg, applied = dns.message.make_response(query), None
            msg.set_rcode(dns.rcode.SERVFAIL)
        if applied is not None and applied.drop:
            return None, applied.delay_ms
        return self.to_wire(msg, query, transport), applied.delay_ms if applied else 0

    def respond(self, world, query, n, transport, step):
        q = query.question[0]
        applied = Applied()
        rules = [r for r in self.scn.rules if r.matches(n, q.name, q.rdtype, step)]
        for rule in rules:  # 'as-step N': this server answers from step N's zones
            for action in rule.actions:
                if action[0] == "as-step":
                    world = self.worlds[action[1]]
        msg = None
        for rule in rules:
            if rule.script is not None and msg is None:
                msg = scripted_reply(world, query, rule.script)
        if msg is None:
            msg = Engine(world, n).answer(query)
        for rule in rules:
            for action in rule.actions:
                apply_action(msg, action, transport, applied)
        return msg, applied

    def to_wire(self, msg, query, transport):
        limit = 65535
        if transport == "udp":
            limit = max(512, query.payload) if query.edns >= 0 else 512
        try:
            return msg.to_wire(max_size=limit)
        except dns.exception.TooBig:
            msg.flags |= dns.flags.TC
            for sec in sections(msg):
                sec.clear()
            return msg.to_wire(max_size=limit)

    # -- transports -----------------------------------------------------------------
    def serve_udp(self, sock, n):
        while not self.stopping.is_set():
            try:
                wire, peer = sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            reply, delay = self.handle(wire, n, "udp")
            if reply is None:
                continue
            if delay:
                timer = threading.Timer(delay / 1000.0, self.send_udp, (sock, reply, peer))
                timer.daemon = True
                timer.start()
            else:
                self.send_udp(sock, reply, peer)

    @staticmethod
    def send_udp(sock, reply, peer):
        try:
            sock.sendto(reply, peer)
        except OSError:
            pass

    def serve_tcp(self, sock, n):
        while not self.stopping.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.spawn(self.tcp_conn, conn, n)

    def tcp_conn(self, conn, n):
        conn.settimeout(0.2)
        idle_deadline = time.monotonic() + 10
        buf = b""
        try:
            while not self.stopping.is_set() and time.monotonic() < idle_deadline:
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2:
                    (ln,) = struct.unpack("!H", buf[:2])
                    if len(buf) < 2 + ln:
                        break
                    wire, buf = buf[2:2 + ln], buf[2 + ln:]
                    reply, delay = self.handle(wire, n, "tcp")
                    if delay:
                        time.sleep(delay / 1000.0)
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                    idle_deadline = time.monotonic() + 10
        except OSError:
            pass
        finally:
            conn.close()
