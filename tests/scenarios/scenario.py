"""Parser and data model of the `.scn` scenario format.

Why it exists: resolver-correctness regressions (DNSSEC bogus-answer cases,
delegation quirks, TTL steps) should be a few lines of text each, not a
Python test module. A scenario file declares zones (built and signed by
zonedata.py), per-server quirks (applied by authsrv.py), client queries and
their exact expected answers (checked by run.py). This module only reads the
text into plain objects; it is strict: an unknown keyword or a malformed line
raises ParseError naming FILE:LINE and what was expected. README.md beside
this file describes the format.
"""

import re
import shlex
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype

DEFAULT_TTL = 3600
DEFAULT_NEGTTL = 300
DAY = 86400
SECTIONS = ("answer", "authority", "additional")
QUERY_FLAGS = ("do", "cd", "ad", "tcp", "noedns", "nord")
HEADER_FLAGS = ("qr", "aa", "tc", "rd", "ra", "ad", "cd", "do")
ALGORITHMS = (8, 13, 15)


class ParseError(Exception):
    """A mistake in a scenario file, as 'FILE:LINE: message'."""

    def __init__(self, path, lineno, msg):
        super().__init__("%s:%d: %s" % (path, lineno, msg))


# ---------------------------------------------------------------------------
# data model
# ---------------------------------------------------------------------------

def in_steps(steps, step):
    """Whether `step` is inside a (first, last) range; None = every step."""
    return steps is None or steps[0] <= step <= steps[1]


@dataclass
class Record:
    """One resource record written in a zone body or a rule."""
    name: dns.name.Name
    ttl: Optional[int]
    rdata: dns.rdata.Rdata
    lineno: int

    @property
    def rdtype(self):
        return self.rdata.rdtype


@dataclass
class ZoneDecl:
    """A `zone` line and its body: one life of a zone (see steps)."""
    name: dns.name.Name
    servers: List[int]
    lineno: int
    ttl: int = DEFAULT_TTL
    negttl: int = DEFAULT_NEGTTL
    signed: bool = False
    nsec3: bool = False
    optout: bool = False
    iterations: int = 0
    salt: str = ""
    alg: int = 13
    nods: bool = False
    sig_expire: int = 30 * DAY      # seconds after the scenario's start
    sig_inception: int = -DAY       # seconds after (negative: before) it
    steps: Optional[Tuple[int, int]] = None
    ns: Optional[List[dns.name.Name]] = None
    records: List[Record] = field(default_factory=list)


class NamePattern:
    """A QNAME in a rule or an `asked` line: '*' (any name), '*.suffix.'
    (names strictly below suffix) or an exact name (case-insensitive)."""

    def __init__(self, text, name=None, below=None):
        self.text, self.name, self.below = text, name, below

    def match(self, qname):
        if self.name is not None:
            return qname == self.name
        if self.below is not None:
            return qname != self.below and qname.is_subdomain(self.below)
        return True

    def __repr__(self):
        return self.text


@dataclass
class Rule:
    """An `on` line: actions applied to a server's replies, or (with a
    body) a scripted reply replacing the engine's answer."""
    servers: Optional[set]          # None = every server
    qname: NamePattern
    qtype: Optional[int]            # None = every type
    steps: Optional[Tuple[int, int]]
    actions: list                   # [(keyword, args...)]
    script: Optional["Script"]
    lineno: int

    def matches(self, server, qname, qtype, step):
        return ((self.servers is None or server in self.servers)
                and self.qname.match(qname)
                and (self.qtype is None or self.qtype == qtype)
                and in_steps(self.steps, step))


@dataclass
class Script:
    """The body of a scripted-reply rule."""
    rcode: Optional[int] = None
    flags: Optional[List[str]] = None     # exactly these of aa/tc/ra
    items: list = field(default_factory=list)
    # items: ('rr', section, Record) | ('include', section, owner, rdtype)
    #        | ('cover', section, name, rdtype) | ('sign', zone, corrupt)


@dataclass
class ExpRR:
    """One expected record. kind: 'rr' (owner, ttl, rdata), 'rrsig' (owner,
    covered type), 'nsec' (owner: any NSEC there), 'nsec3' (mode 'match' or
    'cover', name)."""
    kind: str
    name: dns.name.Name
    lineno: int
    text: str
    ttl: Optional[int] = None
    rdata: Optional[dns.rdata.Rdata] = None
    covered: Optional[int] = None
    mode: Optional[str] = None

    @property
    def is_dnssec(self):
        return self.kind != "rr" or self.rdata.rdtype in DNSSEC_TYPES


DNSSEC_TYPES = (dns.rdatatype.RRSIG, dns.rdatatype.NSEC, dns.rdatatype.NSEC3)


@dataclass
class Expect:
    """One expectation under a query. kind is its keyword; args depend on
    it (see Parser._expectation)."""
    kind: str
    args: tuple
    lineno: int
    text: str


@dataclass
class Query:
    qname: dns.name.Name
    qtype: int
    opts: set
    lineno: int
    text: str
    expects: List[Expect] = field(default_factory=list)
    peer: dict = field(default_factory=dict)   # peer name -> [Expect]
    peer_skip: dict = field(default_factory=dict)  # peer name -> reason

    def expectations(self, peer=None):
        """The expectations for the resolver under test; a peer's own
        lines replace those of the same kind."""
        if peer is None or peer not in self.peer:
            return list(self.expects)
        over = self.peer[peer]
        family = {"noede": "ede"}  # 'unbound noede' replaces 'ede' too
        kinds = {family.get(e.kind, e.kind) for e in over}
        return [e for e in self.expects if family.get(e.kind, e.kind) not in kinds] + over


@dataclass
class Step:
    n: int
    offset: int
    lineno: int


@dataclass
class Wait:
    ms: int
    lineno: int


@dataclass
class Scenario:
    path: str
    title: str = ""
    anchors: List[dns.name.Name] = field(default_factory=list)
    config: List[str] = field(default_factory=list)
    zones: List[ZoneDecl] = field(default_factory=list)
    hosts: dict = field(default_factory=dict)       # Name -> server number
    rules: List[Rule] = field(default_factory=list)
    items: list = field(default_factory=list)       # Query | Step | Wait
    peer_skip: dict = field(default_factory=dict)   # peer -> reason
    max_step: int = 0

    def servers(self):
        """Every server number the scenario mentions."""
        out = set()
        for z in self.zones:
            out.update(z.servers)
        out.update(self.hosts.values())
        for r in self.rules:
            out.update(r.servers or ())
        return sorted(out)

    def queries(self):
        return [i for i in self.items if isinstance(i, Query)]


# ---------------------------------------------------------------------------
# lines and blocks
# ---------------------------------------------------------------------------

@dataclass
class Line:
    indent: int
    text: str
    lineno: int
    commented: bool        # a comment on this line or on the line above (or
                           # on the line above a run of 'unbound' lines)
    children: list = field(default_factory=list)


def strip_comment(text):
    """The line without its '#' comment ('#' inside double quotes stays);
    returns (code, had_comment)."""
    quoted = False
    for i, ch in enumerate(text):
        if ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return text[:i].rstrip(), True
    return text.rstrip(), False


def read_blocks(path, text):
    """Split the file into a tree of Lines by indentation."""
    root = Line(-1, "", 0, False)
    stack = [root]
    prev_comment_only = False
    prev = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        code, had_comment = strip_comment(raw.expandtabs(8))
        if not code.strip():
            prev_comment_only = had_comment and not code.strip()
            continue
        indent = len(code) - len(code.lstrip())
        commented = had_comment or prev_comment_only
        if (not commented and prev is not None and prev.commented
                and prev.text.startswith("unbound ") and code.strip().startswith("unbound ")):
            commented = True  # one comment explains a run of 'unbound' lines
        line = Line(indent, code.strip(), lineno, commented)
        prev = line
        prev_comment_only = False
        while stack[-1].indent >= indent:
            stack.pop()
        parent = stack[-1]
        if parent.children and parent.children[0].indent != indent:
            raise ParseError(path, lineno, "inconsistent indentation: expected %d"
                             " spaces like line %d" % (parent.children[0].indent,
                                                       parent.children[0].lineno))
        parent.children.append(line)
        stack.append(line)
    return root.children


# ---------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------

class Parser:
    """Reads one file into a Scenario. Each keyword has a method."""

    TOP = ("title", "anchor", "config", "zone", "host", "on", "query", "step",
           "wait", "unbound")

    def __init__(self, path, text=None):
        self.path = path
        if text is None:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        self.text = text
        self.scn = Scenario(path=path)
        self.steps_used = []     # (steps, lineno) to check against max_step

    # -- helpers -------------------------------------------------------------
    def err(self, line, msg):
        lineno = line if isinstance(line, int) else line.lineno
        return ParseError(self.path, lineno, msg)

    def words(self, line, text=None):
        try:
            return shlex.split(line.text if text is None else text)
        except ValueError as e:
            raise self.err(line, "cannot split the line into words (%s)" % e)

    def no_block(self, line, what):
        if line.children:
            raise self.err(line.children[0], "unexpected indented block under '%s'"
                           % what)

    def integer(self, line, tok, what, lo=None, hi=None, signed=False):
        pat = r"[+-]?\d+" if signed else r"\d+"
        if not re.fullmatch(pat, tok or ""):
            raise self.err(line, "expected %s (an integer), got %r" % (what, tok))
        v = int(tok)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.err(line, "%s must be in %s..%s, got %d" % (what, lo, hi, v))
        return v

    def absname(self, line, tok, what="an absolute name (ending in '.')"):
        if not tok or not tok.endswith("."):
            raise self.err(line, "expected %s, got %r" % (what, tok))
        try:
            return dns.name.from_text(tok)
        except dns.exception.DNSException as e:
            raise self.err(line, "bad name %r: %s" % (tok, e))

    def rdtype(self, line, tok, star=False):
        if star and tok == "*":
            return None
        try:
            t = dns.rdatatype.from_text(tok)
        except dns.exception.DNSException:
            raise self.err(line, "expected a record type (A, NS, DS, TYPE65...),"
                           " got %r" % tok)
        return t

    def rcode(self, line, tok):
        try:
            return dns.rcode.from_text(tok)
        except dns.exception.DNSException:
            raise self.err(line, "expected an rcode name (NOERROR, SERVFAIL,"
                           " NXDOMAIN, REFUSED...), got %r" % tok)

    def servers(self, line, tok, star=False):
        if star and tok == "*":
            return None
        out = []
        for part in (tok or "").split(","):
            out.append(self.integer(line, part, "a server number", 1, 254))
        return out

    def steps(self, line, words, i):
        """Parse 'step N' or 'steps N-M' at words[i]; returns (range, next i)."""
        kw = words[i]
        if i + 1 >= len(words):
            raise self.err(line, "expected a step number after '%s'" % kw)
        arg = words[i + 1]
        if kw == "step":
            n = self.integer(line, arg, "a step number", 0)
            rng = (n, n)
        else:
            m = re.fullmatch(r"(\d+)-(\d+)", arg)
            if not m or int(m.group(1)) > int(m.group(2)):
                raise self.err(line, "expected 'steps N-M' with N <= M, got %r" % arg)
            rng = (int(m.group(1)), int(m.group(2)))
        self.steps_used.append((rng, line.lineno))
        return rng, i + 2

    def pattern(self, line, tok):
        if tok == "*":
            return NamePattern("*")
        if tok.startswith("*.") and tok != "*.":
            return NamePattern(tok, below=self.absname(line, tok[2:]))
        return NamePattern(tok, name=self.absname(line, tok))

    def record(self, line, text, origin=dns.name.root, default_ttl=None,
               relative=False):
        """'OWNER [TTL] [IN] TYPE RDATA' in zone-file syntax. With
        relative=True, '@' and relative owners and rdata names are relative
        to origin; otherwise every name must be absolute."""
        parts = text.split(None, 1)
        if len(parts) < 2:
            raise self.err(line, "expected a record 'OWNER [TTL] TYPE RDATA',"
                           " got %r" % text)
        owner_tok, rest = parts
        if owner_tok == "@" and relative:
            owner = origin
        elif relative and not owner_tok.endswith("."):
            try:
                owner = dns.name.from_text(owner_tok, origin)
            except dns.exception.DNSException as e:
                raise self.err(line, "bad owner %r: %s" % (owner_tok, e))
        else:
            owner = self.absname(line, owner_tok, "an absolute owner name")
        ttl = default_ttl
        toks = rest.split(None, 1)
        while toks and (toks[0].isdigit() or toks[0].upper() == "IN"):
            if toks[0].isdigit():
                ttl = int(toks[0])
            toks = toks[1].split(None, 1) if len(toks) > 1 else []
        if not toks:
            raise self.err(line, "expected a record type after the owner in %r" % text)
        rdtype = self.rdtype(line, toks[0])
        rdtext = toks[1] if len(toks) > 1 else ""
        try:
            rd = dns.rdata.from_text(dns.rdataclass.IN, rdtype, rdtext,
                                     origin=origin if relative else dns.name.root,
                                     relativize=False)
        except Exception as e:  # dnspython raises several kinds
            raise self.err(line, "bad %s rdata %r: %s" % (
                dns.rdatatype.to_text(rdtype), rdtext, e))
        return Record(owner, ttl, rd, line.lineno)

    # -- top level -----------------------------------------------------------
    def parse(self):
        for line in read_blocks(self.path, self.text):
            kw = line.text.split(None, 1)[0]
            if kw not in self.TOP:
                raise self.err(line, "unknown keyword %r; expected one of: %s"
                               % (kw, ", ".join(self.TOP)))
            getattr(self, "top_" + kw)(line)
        self.check()
        return self.scn

    def top_title(self, line):
        self.no_block(line, "title")
        rest = line.text[len("title"):].strip()
        if not rest:
            raise self.err(line, "expected 'title TEXT'")
        if self.scn.title:
            raise self.err(line, "a second 'title' line")
        self.scn.title = rest

    def top_anchor(self, line):
        self.no_block(line, "anchor")
        w = self.words(line)
        if len(w) != 2:
            raise self.err(line, "expected 'anchor ZONE.'")
        self.scn.anchors.append((self.absname(line, w[1]), line.lineno))

    def top_config(self, line):
        self.no_block(line, "config")
        w = self.words(line)[1:]
        if not w:
            raise self.err(line, "expected 'config ARGUMENTS...' (chaindns options)")
        self.scn.config += w

    def top_host(self, line):
        self.no_block(line, "host")
        w = self.words(line)
        if len(w) != 3:
            raise self.err(line, "expected 'host NAME. SERVER'")
        self.scn.hosts[self.absname(line, w[1])] = self.integer(
            line, w[2], "a server number", 1, 254)

    def top_unbound(self, line):
        self.no_block(line, "unbound")
        w = self.words(line)
        if len(w) != 3 or w[1] != "skip":
            raise self.err(line, "expected 'unbound skip \"REASON\"' at scenario"
                           " level (other unbound lines belong under a query)")
        self.scn.peer_skip["unbound"] = w[2]

    def top_step(self, line):
        self.no_block(line, "step")
        w = self.words(line)
        if len(w) != 3 or not re.fullmatch(r"\+\d+", w[2]):
            raise self.err(line, "expected 'step N +SECONDS'")
        n = self.integer(line, w[1], "a step number", 1)
        if n != self.scn.max_step + 1:
            raise self.err(line, "expected step %d next (steps count up from 1)"
                           % (self.scn.max_step + 1))
        self.scn.max_step = n
        self.scn.items.append(Step(n, int(w[2][1:]), line.lineno))

    def top_wait(self, line):
        self.no_block(line, "wait")
        w = self.words(line)
        if len(w) != 2:
            raise self.err(line, "expected 'wait MILLISECONDS'")
        self.scn.items.append(Wait(self.integer(line, w[1], "milliseconds", 0, 60000),
                                   line.lineno))

    # -- zones ---------------------------------------------------------------
    def top_zone(self, line):
        w = self.words(line)
        if len(w) < 3:
            raise self.err(line, "expected 'zone NAME. SERVERS [options]'")
        z = ZoneDecl(self.absname(line, w[1]), self.servers(line, w[2]), line.lineno)
        i = 3
        while i < len(w):
            i = self.zone_option(line, z, w, i)
        if z.name == dns.name.root and any(n > 26 for n in z.servers):
            raise self.err(line, "root servers are named a..z.root-servers.test.:"
                           " their numbers must be 1..26")
        for child in line.children:
            self.no_block(child, "a zone record")
            rec = self.record(child, child.text, z.name, z.ttl, relative=True)
            if not rec.name.is_subdomain(z.name):
                raise self.err(child, "%s is not inside zone %s" % (rec.name, z.name))
            z.records.append(rec)
        self.scn.zones.append(z)

    def zone_option(self, line, z, w, i):
        tok = w[i]
        key, _, val = tok.partition("=")
        flags = {"signed": ("signed",), "nsec3": ("signed", "nsec3"),
                 "optout": ("signed", "nsec3", "optout"), "nods": ("nods",)}
        if tok in flags:
            for attr in flags[tok]:
                setattr(z, attr, True)
            return i + 1
        if tok in ("step", "steps"):
            z.steps, i = self.steps(line, w, i)
            return i
        if not val:
            raise self.err(line, "unknown zone option %r; expected ttl=N, negttl=N,"
                           " signed, nsec3, optout, iterations=N, salt=HEX,"
                           " alg=13|8|15, nods, sig-expire=+S, sig-inception=-S,"
                           " ns=NAME,..., step N or steps N-M" % tok)
        if key == "ttl":
            z.ttl = self.integer(line, val, "ttl")
        elif key == "negttl":
            z.negttl = self.integer(line, val, "negttl")
        elif key == "iterations":
            z.iterations = self.integer(line, val, "iterations", 0, 2500)
            z.signed = z.nsec3 = True
        elif key == "salt":
            if not re.fullmatch(r"([0-9a-fA-F]{2})+|-", val):
                raise self.err(line, "expected salt=HEX (even number of hex digits)")
            z.salt = "" if val == "-" else val.lower()
            z.signed = z.nsec3 = True
        elif key == "alg":
            z.alg = self.integer(line, val, "alg")
            if z.alg not in ALGORITHMS:
                raise self.err(line, "alg must be 13, 8 or 15, got %d" % z.alg)
            z.signed = True
        elif key == "sig-expire":
            z.sig_expire = self.integer(line, val, "sig-expire seconds", signed=True)
        elif key == "sig-inception":
            z.sig_inception = self.integer(line, val, "sig-inception seconds",
                                           signed=True)
        elif key == "ns":
            z.ns = [self.absname(line, n) for n in val.split(",")]
        else:
            raise self.err(line, "unknown zone option %r" % key)
        return i + 1

    # -- rules ---------------------------------------------------------------
    def top_on(self, line):
        head, colon, tail = line.text.partition(":")
        if not colon:
            raise self.err(line, "expected 'on SERVERS QNAME QTYPE [step N|steps"
                           " N-M]: ACTION[; ACTION...]' (missing ':')")
        w = self.words(line, head)
        if len(w) < 4:
            raise self.err(line, "expected 'on SERVERS QNAME QTYPE [step N|steps"
                           " N-M]:'")
        steps = None
        if len(w) > 4:
            if w[4] not in ("step", "steps"):
                raise self.err(line, "expected 'step N' or 'steps N-M' before ':',"
                               " got %r" % w[4])
            steps, i = self.steps(line, w, 4)
            if i != len(w):
                raise self.err(line, "unexpected %r before ':'" % w[i])
        actions = [self.action(line, a.strip()) for a in tail.split(";") if a.strip()]
        script = self.script(line) if line.children else None
        if not actions and script is None:
            raise self.err(line, "expected actions after ':' or an indented"
                           " scripted reply")
        self.scn.rules.append(Rule(
            None if w[1] == "*" else set(self.servers(line, w[1])),
            self.pattern(line, w[2]), self.rdtype(line, w[3], star=True),
            steps, actions, script, line.lineno))

    ACTIONS = ("drop", "delay MS", "rcode NAME", "tc", "aa", "noaa", "refused",
               "strip RRSIG [TYPE]", "strip TYPE", "corrupt RRSIG [TYPE]",
               "add SECTION RR", "remove SECTION OWNER TYPE", "as-step N")

    def action(self, line, text):
        kw, _, rest = text.partition(" ")
        rest = rest.strip()
        w = rest.split()
        if kw in ("drop", "tc", "aa", "noaa", "refused") and not rest:
            return (kw,)
        if kw == "delay" and len(w) == 1:
            return ("delay", self.integer(line, w[0], "delay milliseconds", 0, 60000))
        if kw == "as-step" and len(w) == 1:
            n = self.integer(line, w[0], "a step number", 0, 1000)
            self.steps_used.append(((n, n), line.lineno))
            return ("as-step", n)
        if kw == "rcode" and len(w) == 1:
            return ("rcode", self.rcode(line, w[0]))
        if kw == "strip" and len(w) in (1, 2):
            if w[0].upper() == "RRSIG":
                return ("strip-rrsig", self.rdtype(line, w[1]) if len(w) == 2 else None)
            if len(w) == 1:
                return ("strip", self.rdtype(line, w[0]))
        if kw == "corrupt" and len(w) in (1, 2) and w[0].upper() == "RRSIG":
            return ("corrupt", self.rdtype(line, w[1]) if len(w) == 2 else None)
        if kw == "add" and len(w) >= 3:
            sec = self.section(line, w[0])
            return ("add", sec, self.record(line, rest.split(None, 1)[1],
                                            default_ttl=DEFAULT_TTL))
        if kw == "remove" and len(w) == 3:
            return ("remove", self.section(line, w[0]), self.absname(line, w[1]),
                    self.rdtype(line, w[2]))
        raise self.err(line, "bad action %r; expected one of: %s"
                       % (text, "; ".join(self.ACTIONS)))

    def section(self, line, tok):
        if tok not in SECTIONS:
            raise self.err(line, "expected a section (answer, authority,"
                           " additional), got %r" % tok)
        return tok

    def script(self, line):
        s = Script()
        for child in line.children:
            self.no_block(child, "a scripted reply line")
            kw, _, rest = child.text.partition(" ")
            rest = rest.strip()
            w = rest.split()
            if kw == "rcode" and len(w) == 1:
                s.rcode = self.rcode(child, w[0])
            elif kw == "flags":
                bad = [f for f in w if f not in ("aa", "tc", "ra")]
                if bad:
                    raise self.err(child, "flags takes aa, tc, ra; got %r" % bad[0])
                s.flags = w
            elif kw in SECTIONS and rest:
                s.items.append(("rr", kw, self.record(child, rest,
                                                      default_ttl=DEFAULT_TTL)))
            elif kw == "include" and len(w) == 4 and w[1] == "cover":
                t = self.rdtype(child, w[3])
                if t not in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3):
                    raise self.err(child, "'include SECTION cover NAME' takes NSEC"
                                   " or NSEC3")
                s.items.append(("cover", self.section(child, w[0]),
                                self.absname(child, w[2]), t))
            elif kw == "include" and len(w) == 3:
                s.items.append(("include", self.section(child, w[0]),
                                self.absname(child, w[1]), self.rdtype(child, w[2])))
            elif kw in ("sign", "sign-corrupt") and len(w) == 1:
                s.items.append(("sign", self.absname(child, w[0]),
                                kw == "sign-corrupt"))
            else:
                raise self.err(child, "bad scripted reply line %r; expected rcode"
                               " NAME, flags [aa tc ra], answer|authority|additional"
                               " RR, include SECTION OWNER TYPE, include SECTION"
                               " cover NAME NSEC|NSEC3, sign ZONE or sign-corrupt"
                               " ZONE" % child.text)
        return s

    # -- queries -------------------------------------------------------------
    def top_query(self, line):
        w = self.words(line)
        if len(w) < 3:
            raise self.err(line, "expected 'query NAME. TYPE [+do +cd +ad +tcp"
                           " +noedns +nord]'")
        opts = set()
        for tok in w[3:]:
            if not tok.startswith("+") or tok[1:] not in QUERY_FLAGS:
                raise self.err(line, "unknown query flag %r; expected +%s"
                               % (tok, " +".join(QUERY_FLAGS)))
            opts.add(tok[1:])
        q = Query(self.absname(line, w[1]), self.rdtype(line, w[2]), opts,
                  line.lineno, line.text)
        for child in line.children:
            kw = child.text.split(None, 1)[0]
            if kw == "unbound":
                self.peer_line(q, child)
            else:
                q.expects.append(self.expectation(child, child.text))
        self.scn.items.append(q)

    def peer_line(self, q, line):
        rest = line.text[len("unbound"):].strip()
        w = self.words(line, rest)
        if w and w[0] == "skip":
            if len(w) != 2:
                raise self.err(line, "expected 'unbound skip \"REASON\"'")
            self.no_block(line, "unbound skip")
            q.peer_skip["unbound"] = w[1]
            return
        if not rest:
            raise self.err(line, "expected 'unbound EXPECTATION' or 'unbound skip"
                           " \"REASON\"'")
        if not line.commented:
            raise self.err(line, "an 'unbound' line must say in a comment (on it"
                           " or on the line above) why chaindns deliberately"
                           " differs")
        q.peer.setdefault("unbound", []).append(self.expectation(line, rest))

    EXPECTATIONS = ("rcode", "flags", "ede", "noede", "answer", "authority",
                    "additional", "answer-count", "upstream", "asked", "not-asked")

    def expectation(self, line, text):
        w = self.words(line, text)
        kw = w[0]
        if kw not in self.EXPECTATIONS:
            raise self.err(line, "unknown expectation %r; expected one of: %s"
                           % (kw, ", ".join(self.EXPECTATIONS + ("unbound",))))
        if kw in SECTIONS:
            if len(w) != 1:
                raise self.err(line, "expected '%s' alone, the records in an"
                               " indented block below it" % kw)
            rrs = [self.expected_rr(c) for c in line.children]
            return Expect(kw, (rrs,), line.lineno, text)
        self.no_block(line, kw)
        return Expect(kw, getattr(self, "exp_" + kw.replace("-", "_"))(line, w[1:]),
                      line.lineno, text)

    def exp_rcode(self, line, w):
        if len(w) != 1:
            raise self.err(line, "expected 'rcode NAME'")
        return (self.rcode(line, w[0]),)

    def exp_flags(self, line, w):
        out = {}
        for tok in w:
            if len(tok) < 2 or tok[0] not in "+-" or tok[1:] not in HEADER_FLAGS:
                raise self.err(line, "expected flags like +ad -tc (one of %s), got %r"
                               % (" ".join(HEADER_FLAGS), tok))
            out[tok[1:]] = tok[0] == "+"
        if not out:
            raise self.err(line, "expected 'flags +X -Y ...'")
        return (out,)

    def exp_ede(self, line, w):
        if len(w) not in (1, 2):
            raise self.err(line, "expected 'ede CODE [\"TEXT\"]'")
        return (self.integer(line, w[0], "an EDE info-code", 0, 65535),
                w[1] if len(w) == 2 else None)

    def exp_noede(self, line, w):
        if w:
            raise self.err(line, "expected 'noede' alone")
        return ()

    def exp_answer_count(self, line, w):
        if len(w) != 1:
            raise self.err(line, "expected 'answer-count N'")
        return (self.integer(line, w[0], "a record count"),)

    def exp_upstream(self, line, w):
        if len(w) == 2 and w[0] in ("<=", ">="):
            return (w[0], self.integer(line, w[1], "a query count"))
        if len(w) == 1:
            return ("==", self.integer(line, w[0], "a query count"))
        raise self.err(line, "expected 'upstream N', 'upstream <= N' or"
                       " 'upstream >= N'")

    def exp_asked(self, line, w):
        if len(w) != 3:
            raise self.err(line, "expected 'asked SERVERS QNAME QTYPE'")
        srv = self.servers(line, w[0], star=True)
        return (None if srv is None else set(srv), self.pattern(line, w[1]),
                self.rdtype(line, w[2], star=True))

    exp_not_asked = exp_asked

    def expected_rr(self, line):
        """A line of an expected section block."""
        self.no_block(line, "an expected record")
        w = line.text.split()
        if w[0].upper() == "NSEC3":
            if len(w) != 3 or w[1] not in ("match", "cover"):
                raise self.err(line, "expected 'NSEC3 match NAME.' or 'NSEC3 cover"
                               " NAME.'")
            return ExpRR("nsec3", self.absname(line, w[2]), line.lineno, line.text,
                         mode=w[1])
        rest = [t for t in w[1:] if not t.isdigit() and t.upper() != "IN"]
        ttls = [int(t) for t in w[1:3] if t.isdigit()]
        if rest and rest[0].upper() == "RRSIG" and len(rest) != 2:
            raise self.err(line, "an expected RRSIG is written 'NAME [TTL] RRSIG"
                           " TYPE' (it matches any RRSIG over TYPE at NAME)")
        if len(rest) == 2 and rest[0].upper() == "RRSIG":
            return ExpRR("rrsig", self.absname(line, w[0]), line.lineno, line.text,
                         ttl=ttls[0] if ttls else None,
                         covered=self.rdtype(line, rest[1]))
        if len(rest) == 1 and rest[0].upper() == "NSEC":
            return ExpRR("nsec", self.absname(line, w[0]), line.lineno, line.text,
                         ttl=ttls[0] if ttls else None)
        rec = self.record(line, line.text)
        if rec.rdtype == dns.rdatatype.RRSIG:
            raise self.err(line, "an expected RRSIG is written 'NAME RRSIG TYPE'")
        return ExpRR("rr", rec.name, line.lineno, line.text, ttl=rec.ttl,
                     rdata=rec.rdata)

    # -- consistency -----------------------------------------------------------
    def check(self):
        s = self.scn
        if not s.title:
            raise self.err(1, "expected a 'title TEXT' line")
        if not any(z.name == dns.name.root and in_steps(z.steps, 0) for z in s.zones):
            raise self.err(1, "expected a root zone ('zone . N') present at step 0:"
                           " it gives the root hints")
        for rng, lineno in self.steps_used:
            if rng[1] > s.max_step:
                raise self.err(lineno, "step %d is never started (the last 'step'"
                               " line starts step %d)" % (rng[1], s.max_step))
        for step in range(s.max_step + 1):
            seen = {}
            for z in s.zones:
                if in_steps(z.steps, step):
                    if z.name in seen:
                        raise self.err(z.lineno, "zone %s is declared twice for step"
                                       " %d (also line %d)" % (z.name, step,
                                                               seen[z.name]))
                    seen[z.name] = z.lineno
        for name, lineno in s.anchors:
            if not any(z.name == name and z.signed for z in s.zones):
                raise self.err(lineno, "anchor %s: expected a signed zone of that"
                               " name" % name)
        s.anchors = [n for n, _ in s.anchors]
        if not s.queries():
            raise self.err(1, "expected at least one 'query' line")


def parse_file(path):
    return Parser(path).parse()


def parse_text(text, path="<text>"):
    return Parser(path, text).parse()
