#!/usr/bin/python3
"""Write the seed corpora of fuzz_query and fuzz_response (tests/fuzz/corpus/)
with dnspython (Debian's python3-dnspython): real client queries and real
authoritative responses, the shapes the resolver meets every day.

    /usr/bin/python3 tests/fuzz/make_seeds.py

fuzz_response inputs start with a control byte (see fuzz_response.c): bits
0-2 the number of trailing labels of the question name that make the zone
asked, bits 4-7 the type asked (0: the question's own).
"""
import os

import dns.edns
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

HERE = os.path.dirname(os.path.abspath(__file__))


def write(corpus, name, data):
    path = os.path.join(HERE, "corpus", corpus, name)
    with open(path, "wb") as f:
        f.write(data)
    print(f"{path}: {len(data)} bytes")


def query(name, rdtype, edns=-1, payload=1232, want_dnssec=False, options=None,
          qid=0x1234, rdclass="IN", flags=None):
    q = dns.message.make_query(name, rdtype, rdclass=rdclass, use_edns=edns, payload=payload,
                               want_dnssec=want_dnssec, options=options)
    q.id = qid
    if flags is not None:
        q.flags = flags
    return q.to_wire()


def queries():
    write("query", "a-plain", query("www.example.com.", "A"))
    write("query", "aaaa-edns", query("www.example.com.", "AAAA", edns=0))
    write("query", "mx-edns-do-mixed-case",
          query("WwW.ExAmPlE.CoM.", "MX", edns=0, payload=4096, want_dnssec=True, qid=0x4242))
    write("query", "txt-dkim-cookie",
          query("selector1._domainkey.example.com.", "TXT", edns=0, qid=0x0102,
                options=[dns.edns.GenericOption(dns.edns.COOKIE, b"\x01\x02\x03\x04\x05\x06\x07\x08")]))
    write("query", "https-cd", query("shop.example.com.", "HTTPS", edns=0, qid=0x0a0a,
                                     flags=dns.flags.RD | dns.flags.CD))
    write("query", "any-small-payload", query("example.com.", "ANY", edns=0, payload=512))
    write("query", "root-ns", query(".", "NS", qid=0x0002))
    write("query", "axfr-refused", query("example.com.", "AXFR", qid=0x0004))
    write("query", "chaos-version-bind", query("version.bind.", "TXT", rdclass="CH", qid=0x0006))
    write("query", "unknown-type", query("www.example.com.", "TYPE65280", qid=0x0008))
    # From outside the access list (odd ID, see fuzz_query.c): REFUSED.
    write("query", "a-refused", query("www.example.com.", "A", qid=0x1235))
    n = dns.message.make_query("example.com.", "SOA")
    n.set_opcode(dns.opcode.NOTIFY)
    n.id = 0x0010
    write("query", "notify-notimp", n.to_wire())
    # EDNS version 1: BADVERS (make_query's use_edns does not set the version).
    v1 = dns.message.make_query("www.example.com.", "A")
    v1.use_edns(1, payload=1232)
    v1.id = 0x0012
    write("query", "edns-version-1", v1.to_wire())


def response(name, rdtype, rcode=dns.rcode.NOERROR, aa=True, answer=(), authority=(),
             additional=(), edns=-1):
    q = dns.message.make_query(name, rdtype, use_edns=edns)
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    if aa:
        r.flags |= dns.flags.AA
    for section, rrs in ((r.answer, answer), (r.authority, authority),
                         (r.additional, additional)):
        for text in rrs:
            owner, ttl, rdclass, rdtype_, *rdata = text.split(None, 4)
            section.append(dns.rrset.from_text(owner, int(ttl), rdclass, rdtype_, *rdata))
    return r.to_wire()


SOA = "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 3600 1209600 300"


def ctl(zone_labels, type_index=0):
    return bytes([(type_index << 4) | zone_labels])


def responses():
    z2 = ctl(2)  # zone example.com. for www.example.com.
    write("response", "answer-a", z2 + response(
        "www.example.com.", "A",
        answer=["www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"],
        authority=["example.com. 3600 IN NS ns1.example.com."],
        additional=["ns1.example.com. 3600 IN A 192.0.2.53"]))
    write("response", "cname-in-zone", z2 + response(
        "www.example.com.", "A",
        answer=["www.example.com. 600 IN CNAME web.example.com.",
                "web.example.com. 300 IN A 192.0.2.10"]))
    write("response", "cname-leaves-zone", z2 + response(
        "shop.example.com.", "AAAA",
        answer=["shop.example.com. 600 IN CNAME shop.example.com.slowcdn.net."], edns=0))
    write("response", "cname-loop", z2 + response(
        "a.example.com.", "A",
        answer=["a.example.com. 60 IN CNAME b.example.com.",
                "b.example.com. 60 IN CNAME a.example.com."]))
    write("response", "cname-and-other-data", z2 + response(
        "www.example.com.", "A",
        answer=["www.example.com. 60 IN CNAME web.example.com.",
                "www.example.com. 60 IN TXT \"other data\"",
                "web.example.com. 60 IN A 192.0.2.11"]))
    write("response", "nxdomain", z2 + response(
        "nope.example.com.", "A", rcode=dns.rcode.NXDOMAIN, authority=[SOA]))
    write("response", "nxdomain-through-cname", z2 + response(
        "old.example.com.", "A", rcode=dns.rcode.NXDOMAIN,
        answer=["old.example.com. 300 IN CNAME gone.example.com."], authority=[SOA]))
    write("response", "nodata", z2 + response("www.example.com.", "MX", authority=[SOA]))
    write("response", "nxdomain-no-aa-lame", z2 + response(
        "nope.example.com.", "A", rcode=dns.rcode.NXDOMAIN, aa=False, authority=[SOA]))
    # The root answers for www.example.com. with a referral to com.
    write("response", "referral-root-to-com", ctl(0) + response(
        "www.example.com.", "A", aa=False,
        authority=["com. 172800 IN NS a.gtld-servers.net.", "com. 172800 IN NS b.gtld-servers.net."],
        additional=["a.gtld-servers.net. 172800 IN A 192.5.6.30",
                    "b.gtld-servers.net. 172800 IN AAAA 2001:503:231d::2:30"], edns=0))
    # com. refers to example.com.: in-bailiwick glue, and glue for another zone.
    write("response", "referral-with-glue", ctl(1) + response(
        "www.example.com.", "A", aa=False,
        authority=["example.com. 172800 IN NS ns1.example.com.",
                   "example.com. 172800 IN NS ns.other.org."],
        additional=["ns1.example.com. 172800 IN A 192.0.2.53",
                    "ns.other.org. 172800 IN A 198.51.100.1"]))
    # Upward referral: lame.
    write("response", "upward-referral-lame", z2 + response(
        "www.example.com.", "A", aa=False,
        authority=[". 518400 IN NS a.root-servers.net."]))
    write("response", "servfail", z2 + response("www.example.com.", "A",
                                                 rcode=dns.rcode.SERVFAIL, aa=False))
    # The type asked is ANY (index 8 of fuzz_response.c's table).
    write("response", "any-answer", ctl(2, 8) + response(
        "example.com.", "ANY",
        answer=["example.com. 300 IN A 192.0.2.1", "example.com. 300 IN MX 10 mail.example.com.",
                "example.com. 300 IN TXT \"v=spf1 -all\"", SOA]))
    write("response", "dkim-txt-signed", ctl(2) + response(
        "sel._domainkey.example.com.", "TXT",
        answer=["sel._domainkey.example.com. 300 IN TXT \"v=DKIM1; k=rsa; p=MIGf\"",
                "sel._domainkey.example.com. 300 IN RRSIG TXT 13 4 300 20270101000000 "
                "20260101000000 12345 example.com. dGVzdHNpZ25hdHVyZQ=="], edns=0))


if __name__ == "__main__":
    queries()
    responses()
