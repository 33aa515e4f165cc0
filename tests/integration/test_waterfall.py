#!/usr/bin/python3
"""/chains as a page for a browser: a chain with a slow middle zone and hops
from all three sources (memory, network, Redis), a dangling CNAME and a loop
resolved, then /chains fetched (a) with `Accept: text/html` and checked with
html.parser: one bar per hop, in order, coloured by its source, at the
offset of the hops before it, the slow hop the widest; the dangling and
looping chains listed; JSON still the default; and (b) loaded in headless
Chromium (Debian's `chromium`): the DOM it builds has the bars and its
screenshot shows them. The screenshot is kept in $CHAINDNS_ARTIFACTS, else
build/artifacts/."""

import html.parser
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (REPO, IntegrationTest, main, rcode, redis_addr,  # noqa: E402
                     wait_for)

BASE = 31
SLOW_MS = 150
REDIS_URL = "redis://%s:6379" % redis_addr(BASE, 1)
REDIS_ARGS = ["--redis-url", REDIS_URL, "--redis-prefix", "wf"]
CHAIN = ["a.chain.com.", "m.memo.org.", "b.mid.net.", "c.end.org.", "d.final.com."]
# What each hop of CHAIN comes from, as the class sets it up.
SOURCES = ["network", "memory", "network", "redis"]
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "image/avif,image/webp,*/*;q=0.8")
COLOURS = {"memory": (0x2e, 0x9d, 0x5b), "redis": (0xd0, 0x47, 0x3a),
           "network": (0x3b, 0x73, 0xc9)}  # as metrics/waterfall.c draws them


class Page(html.parser.HTMLParser):
    """What a test needs from the page: the waterfalls (one per chain
    section, with its bars, each with the text of its row: the label
    before it and the duration after it), the rows of the tables, the
    legend; and every tag closed in order."""

    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []
        self.sections, self.rows, self.legend = [], {}, set()
        self.table = self.row = self.capture = None
        self.feed(text)
        self.close()
        if self.stack:
            self.errors.append("unclosed: %s" % self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "section" and "chain" in cls:
            self.sections.append({"name": a.get("data-name"), "bars": []})
        if tag == "div" and "row" in cls:
            self.row = {"label": "", "ms": ""}
        if "label" in cls or "ms" in cls:
            self.capture = ("label" if "label" in cls else "ms", len(self.stack))
        if "bar" in cls:
            style = a.get("style") or ""
            self.sections[-1]["bars"].append(dict(
                a, classes=cls, kind="hop" if "hop" in cls else "answer", row=self.row,
                left=float(re.search(r"left:([\d.]+)%", style).group(1)),
                width=float(re.search(r"width:([\d.]+)%", style).group(1))))
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and "entry" in cls:
            self.rows.setdefault(self.table, []).append(a)
        if "sw" in cls:
            self.legend.update(cls)

    def handle_data(self, data):
        if self.capture:
            self.row[self.capture[0]] += data

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.errors.append("</%s> closes %s" % (tag, self.stack[-3:]))
        if self.capture and len(self.stack) < self.capture[1]:
            self.capture = None

    def section(self, name):
        found = [s for s in self.sections if s["name"] == name]
        return found[0] if found else None


def png_decode(data):
    """(width, height, bytes per pixel, pixels) of a PNG (8-bit RGB or
    RGBA, not interlaced, as Chromium writes them), decoded here."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("PNG depth %d colour type %d interlace %d" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    stride = w * bpp
    raw = zlib.decompress(idat)
    prev, out = bytearray(stride), bytearray()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + (left + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, bpp, bytes(out)


def colour_blocks(w, h, bpp, pixels, rgb):
    """Where a colour is drawn: blocks of consecutive pixel rows holding it,
    as [(first row, rows, widest extent in pixels)]."""
    pattern = bytes(rgb) + (b"\xff" if bpp == 4 else b"")
    blocks, stride = [], w * bpp
    for y in range(h):
        row = pixels[y * stride:(y + 1) * stride]
        first, last = row.find(pattern), row.rfind(pattern)
        if first < 0:
            continue
        extent = (last - first) // bpp + 1
        if blocks and blocks[-1][0] + blocks[-1][1] == y:
            y0, n, widest = blocks[-1]
            blocks[-1] = (y0, n + 1, max(widest, extent))
        else:
            blocks.append((y, 1, extent))
    return blocks


class Waterfall(IntegrationTest):
    BASE = BASE
    RESOLVER_KW = {"metrics": True}
    RESOLVER_ARGS = REDIS_ARGS
    WITH_REDIS = True

    @classmethod
    def build(cls, h):
        h.zone("com.", [2])
        h.zone("net.", [3])
        h.zone("org.", [4])
        h.zone("chain.com.", [5], [
            "a 300 CNAME m.memo.org.",
            "dang 300 CNAME nowhere.chain.com.",
            "loop1 300 CNAME loop2",
            "loop2 300 CNAME loop1",
        ])
        h.badauth(6, delay_ms=SLOW_MS)  # the slow zone in the middle
        h.zone("mid.net.", [6], ["b 300 CNAME c.end.org."])
        h.zone("end.org.", [7], ["c 300 CNAME d.final.com."])
        h.zone("final.com.", [8], ["d 300 A 192.0.2.50"])
        h.zone("memo.org.", [9], ["m 300 CNAME b.mid.net."])

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            cls.resolve()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def resolve(cls):
        # c -> d learned by another instance: in Redis for ours.
        peer = cls.start_resolver(REDIS_ARGS, n=2)
        r = peer.udp("c.end.org", timeout=5)
        assert rcode(r) == "NOERROR", r
        client = cls.redis.client()
        assert wait_for(lambda: client.exists("wf:v2:chain:c.end.org."), 5), "not in Redis"
        res = cls.resolver
        # m -> b in our memory (a CNAME query does not follow it).
        assert rcode(res.udp("m.memo.org", "CNAME", timeout=5)) == "NOERROR"
        cls.answer = res.udp("a.chain.com", timeout=5)
        assert rcode(res.udp("dang.chain.com", timeout=5)) == "NXDOMAIN"
        for _ in range(2):  # a repeat bumps the count
            assert rcode(res.udp("loop1.chain.com", timeout=5)) == "SERVFAIL"

    def get(self, path, accept=None):
        """(status, headers, body) of a GET to the metrics endpoint."""
        req = urllib.request.Request(self.resolver.metrics_url + path)
        if accept is not None:
            req.add_header("Accept", accept)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def chains_json(self):
        status, headers, body = self.get("/chains")
        self.assertEqual(status, 200, body)
        return json.loads(body)

    def html_page(self, path="/chains", accept=BROWSER_ACCEPT):
        status, headers, body = self.get(path, accept)
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        return body

    def check_waterfall(self, page, chains):
        """The page's waterfalls against the JSON: one section per slowest
        chain, one bar per hop in order, at the sum of the hops before it."""
        self.assertEqual(page.errors, [])
        self.assertEqual([s["name"] for s in page.sections],
                         [c["name"] for c in chains["slowest"]])
        for c in chains["slowest"]:
            bars = page.section(c["name"])["bars"]
            hops = [b for b in bars if b["kind"] == "hop"]
            answers = [b for b in bars if b["kind"] == "answer"]
            self.assertEqual(len(hops), len(c["hops"]), c["name"])
            self.assertEqual(len(answers), 1 if c["answer"] else 0, c["name"])
            steps = c["hops"] + ([c["answer"]] if c["answer"] else [])
            start = 0.0
            for bar, hop in zip(hops + answers, steps):
                self.assertEqual(bar["data-name"], hop["name"])
                self.assertEqual(bar["data-zone"], hop["zone"] or "")
                self.assertEqual(bar["data-source"], hop["source"])
                self.assertIn("%s-%s" % (bar["kind"], hop["source"]), bar["classes"])
                self.assertAlmostEqual(float(bar["data-ms"]), hop["ms"], places=3)
                self.assertAlmostEqual(float(bar["data-start-ms"]), start, delta=0.002)
                start += hop["ms"]
            lefts = [b["left"] for b in bars]
            self.assertEqual(lefts, sorted(lefts), c["name"])
            self.assertTrue(all(b["left"] + b["width"] <= 100.01 for b in bars), bars)

    # -- (a) the page, parsed ----------------------------------------------

    def test_page_for_a_browser(self):
        self.assertChain(self.answer, CHAIN, "A", ["192.0.2.50"])
        chains = self.chains_json()
        entry = [c for c in chains["recent"] if c["name"] == "a.chain.com."][0]
        self.assertEqual([h["source"] for h in entry["hops"]], SOURCES)
        self.assertEqual(chains["slowest"][0]["name"], "a.chain.com.")

        text = self.html_page()
        self.assertTrue(text.startswith("<!DOCTYPE html>"))
        # Self-contained: no script, nothing fetched from elsewhere.
        self.assertNotIn("<script", text)
        self.assertIsNone(re.search(r'(src|href)="(https?:)?//', text))
        # Every & starts an entity: names are escaped.
        self.assertIsNone(re.search(r"&(?!(amp|lt|gt|quot|#39|rarr|middot|mdash);)", text))
        page = Page(text)
        self.check_waterfall(page, chains)
        self.assertTrue({"sw", "memory", "redis", "network"} <= page.legend, page.legend)

        # The slow chain: four hops from the three sources, the slow zone's
        # hop the widest bar.
        bars = page.section("a.chain.com.")["bars"]
        hops = [b for b in bars if b["kind"] == "hop"]
        self.assertEqual([b["data-source"] for b in hops], SOURCES)
        self.assertEqual([b["data-name"] for b in hops], CHAIN[:-1])
        widest = max(bars, key=lambda b: b["width"])
        self.assertEqual((widest["data-name"], widest["data-zone"]), ("b.mid.net.", "mid.net."))
        self.assertGreaterEqual(float(widest["data-ms"]), SLOW_MS)
        self.assertGreater(widest["width"], 80)  # most of the chain's time
        # Each bar labelled with its name, zone (or source) and duration.
        for bar in bars:
            label, ms = bar["row"]["label"], bar["row"]["ms"]
            self.assertIn(bar["data-name"], label)
            self.assertIn(bar["data-zone"] or "from " + bar["data-source"], label)
            self.assertRegex(ms, r"^\d+(\.\d+)? ms$")
            self.assertAlmostEqual(float(ms.split()[0]), float(bar["data-ms"]),
                                   delta=max(0.01, float(bar["data-ms"]) / 100))

        # Below: the dangling and the looping chains.
        dangling = {r["data-name"]: r for r in page.rows["dangling"]}
        self.assertEqual(dangling["dang.chain.com."]["data-outcome"], "dangling")
        broken = {r["data-name"]: r for r in page.rows["broken"]}
        self.assertEqual(broken["loop1.chain.com."]["data-outcome"], "loop")
        self.assertEqual(broken["loop1.chain.com."]["data-count"], "2")
        self.assertEqual(len(page.rows["dangling"]), len(chains["dangling"]))
        self.assertEqual(len(page.rows["broken"]), len(chains["broken"]))
        self.assertIn("dang.chain.com. &rarr; nowhere.chain.com.", text)
        self.assertIn("loop1.chain.com. &rarr; loop2.chain.com.", text)

    def test_json_stays_the_default(self):
        for accept in (None, "*/*", "application/json", "application/json, text/html;q=0.5",
                       "text/html;q=0"):
            status, headers, body = self.get("/chains", accept)
            self.assertEqual(status, 200, accept)
            self.assertEqual(headers["Content-Type"], "application/json", accept)
            self.assertEqual(headers["Vary"], "Accept")
            self.assertIn("a.chain.com.", [c["name"] for c in json.loads(body)["slowest"]])
        # ?format= overrides the Accept header.
        status, headers, body = self.get("/chains?format=json", BROWSER_ACCEPT)
        self.assertEqual(headers["Content-Type"], "application/json")
        json.loads(body)
        self.assertTrue(self.html_page("/chains?format=html", accept=None)
                        .startswith("<!DOCTYPE html>"))
        self.assertEqual(self.get("/chains?format=xml")[0], 400)
        # Other paths do not change.
        status, headers, _ = self.get("/metrics", BROWSER_ACCEPT)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))

    # -- (b) the page in a real browser ------------------------------------

    def chromium(self, *args, timeout=60):
        """Run headless Chromium (its own profile in the module's tmpdir);
        killed with its process group if it outlives the timeout."""
        exe = shutil.which("chromium")
        self.assertIsNotNone(exe, "Debian's chromium package is needed")
        profile = os.path.join(self.tmpdir, "chromium-profile")
        argv = [exe, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
                "--user-data-dir=" + profile] + list(args)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate(timeout=10)
            self.fail("chromium %s did not finish in %d s" % (args[:1], timeout))
        finally:
            try:  # helpers left behind in its group
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.assertEqual(p.returncode, 0, err.decode(errors="replace")[-3000:])
        return out.decode(errors="replace")

    def test_page_in_headless_chromium(self):
        chains = self.chains_json()
        url = self.resolver.metrics_url + "/chains"  # no ?format: Chromium's own Accept
        # The DOM Chromium builds from it.
        dom = self.chromium("--dump-dom", url)
        page = Page(dom)
        self.check_waterfall(page, chains)
        self.assertEqual([b["data-source"] for b in page.section("a.chain.com.")["bars"]
                          if b["kind"] == "hop"], SOURCES)
        # What it draws.
        shot = os.path.join(self.tmpdir, "waterfall.png")
        self.chromium("--screenshot=" + shot, "--window-size=1200,800", url)
        with open(shot, "rb") as f:
            png = f.read()
        # Kept (pass or fail) with the page it shows.
        art = os.environ.get("CHAINDNS_ARTIFACTS") or os.path.join(REPO, "build", "artifacts")
        os.makedirs(art, exist_ok=True)
        shutil.copy(shot, os.path.join(art, "waterfall.png"))
        with open(os.path.join(art, "waterfall.html"), "w") as f:
            f.write(self.html_page())
        print("\nscreenshot: %s (%d bytes)" % (os.path.join(art, "waterfall.png"), len(png)),
              file=sys.stderr)
        self.assertGreater(len(png), 20000, "a near-empty screenshot")
        w, h, bpp, pixels = png_decode(png)
        self.assertEqual((w, h), (1200, 800))
        # Each source's colour is drawn twice at least: its swatch in the
        # legend, then bars (a block of rows of their own, a bar's height);
        # the slow hop's bar is most of the track's width.
        blocks = {src: colour_blocks(w, h, bpp, pixels, rgb) for src, rgb in COLOURS.items()}
        for src, found in blocks.items():
            bars = [b for b in found[1:] if b[1] >= 10]
            self.assertTrue(len(found) >= 2 and bars, (src, found))
        self.assertGreater(max(b[2] for b in blocks["network"]), 600, blocks["network"])


if __name__ == "__main__":
    main()
