#!/usr/bin/python3
"""check.py - hold an --html page to the JSON report of the same run.

    check.py PAGE.html REPORT.json     the page's numbers agree with the JSON,
                                       and it loads nothing from elsewhere
    check.py --png SHOT.png            a screenshot is not blank: it has
                                       text and the charts' colours

Prints one "PASS: html: ..." or "FAIL: html: ..." line per check.
Standard library only (the PNG is decoded with zlib).
"""
import html.parser
import json
import re
import struct
import sys
import zlib


def say(ok, what):
    print(("PASS" if ok else "FAIL") + ": html: " + what)


class Rows(html.parser.HTMLParser):
    """Every element's data-* attributes, and every outside reference."""

    def __init__(self):
        super().__init__()
        self.rows = []
        self.outside = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        for k in ("src", "href", "xlink:href", "action", "poster"):
            if k in a:
                self.outside.append("%s %s=%s" % (tag, k, a[k]))
        if tag == "link":
            self.outside.append("link")
        d = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
        if d:
            self.rows.append(d)


def check_page(page, report):
    text = open(page, encoding="utf-8").read()
    rep = json.load(open(report))
    p = Rows()
    p.feed(text)
    css_refs = re.findall(r"url\(|@import|https?://", text)
    say(not p.outside and not p.scripts and not css_refs,
        "%s: self-contained (no scripts, links, images, fonts or URLs)%s" %
        (page.rsplit("/", 1)[-1], "" if not (p.outside or css_refs) else ": " + str(p.outside + css_refs)[:200]))
    say("<svg" in text and text.count("<rect") > 3, "%s: inline SVG charts" % page.rsplit("/", 1)[-1])

    nets = {str(n["asn"]): n for n in rep["by_network"]}
    page_nets = [r for r in p.rows if "ok" in r and "blocked-domains" in r]
    bad = []
    for r in page_nets:
        n = nets.get(r["asn"])
        if not n or (int(r["flows"]), int(r["ok"]), int(r["anomalies"]), int(r["blocked-domains"])) != \
                (n["flows"], n["verdicts"].get("ok", 0), n["anomalies"], n["blocked_domains"]):
            bad.append(r["asn"])
    say(len(page_nets) == len(nets) and not bad,
        "networks table agrees with by_network (%d networks)%s" % (len(nets), " " + str(bad) if bad else ""))

    want = {(str(x["asn"]), x["domain"]): x for x in rep["by_domain_network"]
            if x["conclusion"]["status"] == "blocked"}
    got = {(r["asn"], r["domain"]): r for r in p.rows if "domain" in r and "method" in r}
    bad = []
    for k, x in want.items():
        r = got.get(k)
        c = x["conclusion"]
        if not r or r["method"] != c["method"] or abs(float(r["confidence"]) - c["confidence"]) > 1e-4 \
                or int(r["flows"]) != x["flows"] or int(r["anomalies"]) != x["anomalies"]:
            bad.append(k)
    say(set(want) == set(got) and not bad,
        "blocked domains agree with by_domain_network (%d pairs: method, confidence, flows)%s" %
        (len(want), " " + str(bad) if bad else ""))
    how = text.count("How we know:")
    say(how == len(want), "a how-we-know line per conclusion (%d)" % how)


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("unexpected PNG type %d/%d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows


def check_png(path):
    try:
        w, h, bpp, rows = png_pixels(path)
    except (OSError, ValueError, zlib.error) as e:
        say(False, "%s: cannot read the screenshot: %s" % (path, e))
        return
    dark = coloured = 0
    palette = {(0xc6, 0x28, 0x28), (0x2e, 0x7d, 0x32)}
    seen = set()
    for line in rows[::2]:
        for x in range(0, w * bpp, bpp * 2):
            px = (line[x], line[x + 1], line[x + 2])
            if sum(px) < 200:
                dark += 1
            if max(px) - min(px) > 60:
                coloured += 1
            if px in palette:
                seen.add(px)
    say(dark > 500 and coloured > 500 and len(seen) == 2,
        "the screenshot (%dx%d) is not blank: %d dark (text) and %d coloured (chart) samples, "
        "chart colours %s" % (w, h, dark, coloured, sorted("#%02x%02x%02x" % c for c in seen)))


if __name__ == "__main__":
    if sys.argv[1] == "--png":
        check_png(sys.argv[2])
    else:
        check_page(sys.argv[1], sys.argv[2])
