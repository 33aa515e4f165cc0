/*
 * The NSEC chain of the example.com zone the denial and NSEC cache unit
 * tests share (test_denial.c, test_nseccache.c), as ldns-signzone made it
 * and NSD served it:
 *
 *   example.com.  SOA, NS ns          ns      A
 *   www     A                         alias   CNAME www
 *   a.b.c   A   (b.c, c: empty non-terminals)
 *   w       TXT                       *.w     A, TXT
 *   sub     NS, DS (secure cut)       ns.sub  A (glue)
 *   insec   NS (insecure cut)         d       DNAME other.net.
 */
#ifndef CHAINDNS_NSEC_CHAIN_H
#define CHAINDNS_NSEC_CHAIN_H

#define NSEC_APEX "example.com. 300 IN NSEC alias.example.com. NS SOA RRSIG NSEC DNSKEY"
#define NSEC_ALIAS "alias.example.com. 300 IN NSEC a.b.c.example.com. CNAME RRSIG NSEC"
#define NSEC_ABC "a.b.c.example.com. 300 IN NSEC d.example.com. A RRSIG NSEC"
#define NSEC_D "d.example.com. 300 IN NSEC insec.example.com. DNAME RRSIG NSEC"
#define NSEC_INSEC "insec.example.com. 300 IN NSEC ns.example.com. NS RRSIG NSEC"
#define NSEC_NS "ns.example.com. 300 IN NSEC sub.example.com. A RRSIG NSEC"
#define NSEC_SUB "sub.example.com. 300 IN NSEC w.example.com. NS DS RRSIG NSEC"
#define NSEC_W "w.example.com. 300 IN NSEC *.w.example.com. TXT RRSIG NSEC"
#define NSEC_WILD "*.w.example.com. 300 IN NSEC www.example.com. A TXT RRSIG NSEC"
#define NSEC_WWW "www.example.com. 300 IN NSEC example.com. A RRSIG NSEC"

#endif
