#!/usr/bin/python3
"""badauth: a small, deliberately misbehaving authoritative DNS server for tests.

It serves, on one address:port over UDP and TCP, the zones described in a JSON
file, and can be told to misbehave in ways a real authoritative server (NSD)
refuses to: CNAME plus other data at one name, CNAME loops across zones it
serves, never answering, answering slowly, truncating UDP answers, answering
REFUSED or SERVFAIL.

Usage:
    /usr/bin/python3 badauth.py --addr 127.53.9.20 --port 10053 \
        --config zones.json --log queries.log [--ready FILE]

JSON description:
    {
      "zones": {
        "bad.test.": [["bad.test.", 3600, "SOA", "ns1.bad.test. ..."],
                      ["www.bad.test.", 300, "A", "192.0.2.1"], ...]
      },
      "behaviour": {
        "silent": false,            # true: never answer anything
        "silent_names": [],         # never answer queries for these names
        "delay_ms": 0,              # delay every answer by N ms
        "delay_names": {},          # {"name.": ms} delay answers for a name
        "truncate_size": null,      # UDP answers larger than N bytes get TC=1
        "truncate_names": [],       # UDP answers for these names get TC=1
        "rcode": null,              # "REFUSED"/"SERVFAIL"/...: answer every
                                    # query with this rcode and nothing else
        "rcode_names": {},          # {"name.": "SERVFAIL"} per name
        "chase": true,              # follow CNAMEs inside served zones
        "cname_other": true,        # at a name with CNAME + other data,
                                    # also return the other data of the
                                    # asked type next to the CNAME
        "mangle": null,             # "garbage": random bytes instead of
                                    # the answer; "txid": the answer with
                                    # another TXID; "question": the answer
                                    # to another name
        "referral": null,           # "deeper": every answer is a referral
                                    # one label further down the name
                                    # asked, to this server again (an
                                    # endless delegation chain); "upward":
                                    # a referral to the served zone's parent
        "lowercase_question": false,  # answer with the question name
                                    # lowercased (a server that does not
                                    # echo 0x20 case)
        "ent_nxdomain": false,      # true: NXDOMAIN for empty non-terminals
                                    # (names with data only below them), as
                                    # broken servers answer minimised queries
        "forge": null               # {"address": "192.0.2.66",
                                    #  "from": "127.53.9.99"}: before each
                                    # UDP answer, send four forged answers
                                    # (A = address, AA set): a wrong TXID, a
                                    # wrong question, the right reply from
                                    # address "from", and from another port
                                    # of this server's address. Combine with
                                    # delay_ms so they arrive first.
      }
    }

Every query received is logged, before any behaviour applies, as one JSON line
{"t": unix_time, "transport": "udp"|"tcp", "src": "ip:port", "id": n,
 "qname": "lowercased.name.", "qname_raw": "As.Sent.", "qtype": "A",
 "edns": payload or -1, "rd": bool} to the log file, flushed at once.
When both sockets are bound, the file given with --ready is created.
Truncated UDP answers keep the question and carry no records.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import struct
import sys
import time

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

EDNS_PAYLOAD = 1232
MAX_CHASE = 32


class ZoneData:
    """Records of all served zones: {owner name: {rdtype: rrset}}."""

    def __init__(self, zones):
        self.origins = []
        self.nodes = {}  # dns.name.Name -> {rdtype: RRset}
        for origin_text, records in zones.items():
            origin = dns.name.from_text(origin_text)
            self.origins.append(origin)
            for owner_text, ttl, rdtype_text, rdata_text in records:
                owner = dns.name.from_text(owner_text)
                rdtype = dns.rdatatype.from_text(rdtype_text)
                rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, rdata_text,
                                         origin=origin, relativize=False)
                node = self.nodes.setdefault(owner, {})
                rrset = node.get(rdtype)
                if rrset is None:
                    rrset = dns.rrset.RRset(owner, dns.rdataclass.IN, rdtype)
                    node[rdtype] = rrset
                rrset.add(rd, ttl)
        # deepest first, so the first match is the closest enclosing zone
        self.origins.sort(key=lambda n: len(n.labels), reverse=True)

    def zone_for(self, qname):
        for origin in self.origins:
            if qname.is_subdomain(origin):
                return origin
        return None

    def soa(self, origin):
        soa = self.nodes.get(origin, {}).get(dns.rdatatype.SOA)
        if soa is None:
            return None
        neg = dns.rrset.RRset(origin, dns.rdataclass.IN, dns.rdatatype.SOA)
        rd = soa[0]
        neg.add(rd, min(soa.ttl, rd.minimum))
        return neg

    def cut_above(self, origin, qname, qtype):
        """Delegation point (name with NS, below origin) at or above qname."""
        labels = qname.labels
        depth = len(origin.labels)
        for n in range(depth + 1, len(labels) + 1):
            name = dns.name.Name(labels[len(labels) - n:])
            node = self.nodes.get(name)
            if node and dns.rdatatype.NS in node:
                if name == qname and qtype == dns.rdatatype.DS:
                    return None  # parent side answers DS questions
                return name
        return None

    def exists_below(self, name):
        for owner in self.nodes:
            if owner != name and owner.is_subdomain(name):
                return True
        return False

    def glue(self, ns_rrset):
        out = []
        for rd in ns_rrset:
            node = self.nodes.get(rd.target, {})
            for t in (dns.rdatatype.A, dns.rdatatype.AAAA):
                if t in node:
                    out.append(node[t])
        return out


class Server:
    def __init__(self, data, behaviour, logfile):
        self.data = data
        self.b = behaviour
        self.logf = open(logfile, "a", buffering=1)
        self.silent_names = {n.lower() for n in self.b.get("silent_names", [])}
        self.delay_names = {k.lower(): v for k, v in
                            self.b.get("delay_names", {}).items()}
        self.trunc_names = {n.lower() for n in self.b.get("truncate_names", [])}
        self.rcode_names = {k.lower(): v for k, v in
                            self.b.get("rcode_names", {}).items()}
        self.referrals_given = {}  # qname -> referrals sent for it ("deeper")

    # -- logging --------------------------------------------------------
    def log(self, transport, src, msg):
        for q in msg.question or [None]:
            entry = {"t": round(time.time(), 4), "transport": transport,
                     "src": "%s:%s" % (src[0], src[1]), "id": msg.id,
                     "qname": q.name.to_text().lower() if q is not None
                     else None,
                     "qname_raw": q.name.to_text() if q is not None else None,
                     "qtype": dns.rdatatype.to_text(q.rdtype) if q is not None
                     else None,
                     "edns": msg.payload if msg.edns >= 0 else -1,
                     "rd": bool(msg.flags & dns.flags.RD)}
            self.logf.write(json.dumps(entry) + "\n")

    # -- answering ------------------------------------------------------
    def build(self, query):
        resp = dns.message.make_response(query)
        resp.flags &= ~dns.flags.RA
        if query.edns >= 0:
            resp.use_edns(0, 0, EDNS_PAYLOAD)
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            resp.set_rcode(dns.rcode.NOTIMP if query.opcode() != dns.opcode.QUERY
                           else dns.rcode.FORMERR)
            return resp
        q = query.question[0]
        qname_l = q.name.to_text().lower()
        if self.b.get("referral") and self.data.zone_for(q.name) is not None:
            self.referral(resp, q.name)
            return resp
        forced = self.b.get("rcode") or self.rcode_names.get(qname_l)
        if forced:
            resp.set_rcode(dns.rcode.from_text(forced))
            return resp
        self.answer(resp, q.name, q.rdtype)
        if self.b.get("lowercase_question"):
            resp.question = [dns.rrset.RRset(dns.name.from_text(qname_l),
                                             q.rdclass, q.rdtype)]
        return resp

    def referral(self, resp, qname):
        origin = self.data.zone_for(qname)
        if self.b["referral"] == "upward":
            cut = origin.parent()
        else:
            n = self.referrals_given.get(qname, 0) + 1
            self.referrals_given[qname] = n
            depth = min(len(origin.labels) + n, len(qname.labels))
            cut = dns.name.Name(qname.labels[-depth:])
        ns = dns.name.Name((b"ns",) + cut.labels)
        resp.flags &= ~dns.flags.AA
        resp.authority.append(dns.rrset.from_text(cut, 300, "IN", "NS", ns.to_text()))
        resp.additional.append(dns.rrset.from_text(ns, 300, "IN", "A", self.addr))

    def mangle(self, query, wire):
        """The reply as the "mangle" behaviour spoils it."""
        how = self.b.get("mangle")
        if how == "garbage":
            return os.urandom(max(12, len(wire)))
        if how == "txid":
            return struct.pack("!H", (query.id + 1) & 0xffff) + wire[2:]
        if how == "question" and query.question:
            q = query.question[0]
            other = dns.message.make_query(dns.name.Name((b"other",) + q.name.labels),
                                           q.rdtype)
            other.id = query.id
            r = dns.message.make_response(other)
            r.flags |= dns.flags.AA
            r.answer.append(dns.rrset.from_text(other.question[0].name, 300, "IN", "A",
                                                "192.0.2.250"))
            return r.to_wire()
        return wire

    def answer(self, resp, qname, qtype):
        data = self.data
        origin = data.zone_for(qname)
        if origin is None:
            resp.set_rcode(dns.rcode.REFUSED)
            return
        seen = set()
        first = True
        while True:
            origin = data.zone_for(qname)
            if origin is None:
                return  # CNAME chased out of our zones: stop here
            cut = data.cut_above(origin, qname, qtype)
            if cut is not None:
                if first:
                    resp.flags &= ~dns.flags.AA
                ns = data.nodes[cut][dns.rdatatype.NS]
                resp.authority.append(ns)
                resp.additional.extend(data.glue(ns))
                return
            if first:
                resp.flags |= dns.flags.AA
            first = False
            node = data.nodes.get(qname)
            if node is None:
                if not data.exists_below(qname) or self.b.get("ent_nxdomain"):
                    resp.set_rcode(dns.rcode.NXDOMAIN)
                soa = data.soa(origin)
                if soa is not None:
                    resp.authority.append(soa)
                return
            if qtype == dns.rdatatype.ANY:
                resp.answer.extend(node.values())
                return
            cname = node.get(dns.rdatatype.CNAME)
            if qtype == dns.rdatatype.CNAME or cname is None:
                if qtype in node:
                    resp.answer.append(node[qtype])
                else:
                    soa = data.soa(origin)
                    if soa is not None:
                        resp.authority.append(soa)
                return
            resp.answer.append(cname)
            if qtype in node and self.b.get("cname_other", True):
                # CNAME plus other data of the asked type at one name
                resp.answer.append(node[qtype])
            seen.add(qname)
            target = cname[0].target
            if not self.b.get("chase", True) or target in seen \
                    or len(seen) >= MAX_CHASE:
                return
            qname = target

    def behaviour_for(self, query):
        """(silent, delay seconds, forced truncation) for this query."""
        name = query.question[0].name.to_text().lower() if query.question else ""
        silent = bool(self.b.get("silent")) or name in self.silent_names
        delay = self.delay_names.get(name, self.b.get("delay_ms", 0)) / 1000.0
        trunc = name in self.trunc_names
        return silent, delay, trunc

    def forgeries(self, query):
        """[(wire, source address)] forged answers for "forge"; source None
        means this server's own socket."""
        f = self.b.get("forge")
        if not f or len(query.question) != 1:
            return []
        q = query.question[0]

        def forged(qname, msg_id):
            fake = dns.message.make_query(qname, q.rdtype)
            fake.id = msg_id
            r = dns.message.make_response(fake)
            r.flags |= dns.flags.AA
            r.flags &= ~dns.flags.RA
            r.answer.append(dns.rrset.from_text(qname, 300, "IN", "A",
                                                f["address"]))
            return r.to_wire()
        right = forged(q.name, query.id)
        other = dns.name.from_text("forged-" + q.name.to_text())
        return [(forged(q.name, (query.id + 1) & 0xffff), None),
                (forged(other, query.id), None),
                (right, (f["from"], 0)),
                (right, (self.addr, 0))]

    def udp_wire(self, query, resp, force_trunc):
        limit = 512
        if query.edns >= 0:
            limit = max(512, query.payload)
        size = self.b.get("truncate_size")
        if size is not None:
            limit = min(limit, int(size))
        wire = resp.to_wire(max_size=65535)
        if force_trunc or len(wire) > limit:
            resp.answer.clear()
            resp.authority.clear()
            resp.additional.clear()
            resp.flags |= dns.flags.TC
            wire = resp.to_wire(max_size=65535)
        return wire


class UDPProto(asyncio.DatagramProtocol):
    def __init__(self, server):
        self.s = server
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, wire, addr):
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            self.s.logf.write(json.dumps({"t": round(time.time(), 4),
                                          "transport": "udp", "src": str(addr),
                                          "malformed": True}) + "\n")
            return
        self.s.log("udp", addr, query)
        if query.flags & dns.flags.QR:
            return
        silent, delay, trunc = self.s.behaviour_for(query)
        if silent:
            return
        for wire_f, source in self.s.forgeries(query):
            if source is None:
                self.transport.sendto(wire_f, addr)
            else:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.bind(source)
                    sock.sendto(wire_f, addr)
        resp = self.s.build(query)
        wire_out = self.s.mangle(query, self.s.udp_wire(query, resp, trunc))
        if delay > 0:
            asyncio.get_running_loop().call_later(
                delay, self.transport.sendto, wire_out, addr)
        else:
            self.transport.sendto(wire_out, addr)


async def handle_tcp(server, reader, writer):
    addr = writer.get_extra_info("peername")[:2]
    lock = asyncio.Lock()
    tasks = set()

    async def reply(query, delay):
        if delay > 0:
            await asyncio.sleep(delay)
        resp = server.build(query)
        wire = server.mangle(query, resp.to_wire(max_size=65535))
        async with lock:
            writer.write(struct.pack("!H", len(wire)) + wire)
            await writer.drain()

    try:
        while True:
            try:
                hdr = await asyncio.wait_for(reader.readexactly(2), 30)
                (length,) = struct.unpack("!H", hdr)
                wire = await asyncio.wait_for(reader.readexactly(length), 10)
            except (asyncio.IncompleteReadError, asyncio.TimeoutError,
                    ConnectionError):
                break
            try:
                query = dns.message.from_wire(wire)
            except Exception:
                break
            server.log("tcp", addr, query)
            if query.flags & dns.flags.QR:
                continue
            silent, delay, _ = server.behaviour_for(query)
            if silent:
                continue
            t = asyncio.ensure_future(reply(query, delay))
            tasks.add(t)
            t.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=10)
    except Exception:
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main_async(args):
    with open(args.config) as f:
        cfg = json.load(f)
    server = Server(ZoneData(cfg.get("zones", {})), cfg.get("behaviour", {}),
                    args.log)
    server.addr = args.addr
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: UDPProto(server),
                                        local_addr=(args.addr, args.port))
    tcp = await asyncio.start_server(lambda r, w: handle_tcp(server, r, w),
                                     host=args.addr, port=args.port,
                                     reuse_address=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.ready:
        with open(args.ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(args.ready + ".tmp", args.ready)
    await stop.wait()
    tcp.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    args = ap.parse_args()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
