#!/usr/bin/python3
"""mkdemo.py - make the demo capture pcaps/demo-kz.pcap from the lab capture
pcaps/lab-interference.pcap: the same packets, with the lab clients'
addresses (198.18.0.0/15, which no ASN database knows) rewritten into real
networks' prefixes, so that the default ASN database names the networks and
the first run of tamperscope shows what it is for: blocked names per named
network.  The servers keep their lab addresses (198.19.1.0/24).

    tools/mkdemo.py [SRCDIR]     rewrites SRCDIR/pcaps (default: .)

Mapping (the lab's roles, see pcaps/lab-interference.truth):
  198.18.1.10 (net-a, AS9198 role)   -> 2.132.0.10   AS9198  JSC Kazakhtelecom
  198.18.2.10 (net-b, AS21299 role)  -> 5.34.0.10    AS21299 Kar-Tel LLC
  198.18.3.10 (net-ctl, control)     -> 80.128.0.10  AS3320  Deutsche Telekom AG
IPv4 header and TCP checksums are adjusted (RFC 1624); the truth file is
rewritten alongside (pcaps/demo-kz.truth).  Standard library only.
"""
import ipaddress
import os
import struct
import sys

MAP = {
    "198.18.1.10": "2.132.0.10",
    "198.18.2.10": "5.34.0.10",
    "198.18.3.10": "80.128.0.10",
}


def adjust(csum, old, new):
    """RFC 1624 eqn. 3: the 16-bit checksum after old bytes became new."""
    s = (~csum) & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~((old[i] << 8) | old[i + 1])) & 0xFFFF
        s += (new[i] << 8) | new[i + 1]
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def rewrite(frame, amap):
    """One Ethernet frame with IPv4 inside: client addresses rewritten."""
    f = bytearray(frame)
    if len(f) < 34 or f[12:14] != b"\x08\x00":
        return bytes(f)
    ip = 14
    ihl = (f[ip] & 15) * 4
    for off in (12, 16):
        old = bytes(f[ip + off:ip + off + 4])
        new = amap.get(old)
        if not new:
            continue
        f[ip + off:ip + off + 4] = new
        c = adjust(struct.unpack("!H", f[ip + 10:ip + 12])[0], old, new)
        f[ip + 10:ip + 12] = struct.pack("!H", c)
        l4 = ip + ihl
        if f[ip + 9] == 6 and len(f) >= l4 + 18:
            c = adjust(struct.unpack("!H", f[l4 + 16:l4 + 18])[0], old, new)
            f[l4 + 16:l4 + 18] = struct.pack("!H", c)
    return bytes(f)


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    pc = os.path.join(top, "pcaps")
    amap = {ipaddress.IPv4Address(a).packed: ipaddress.IPv4Address(b).packed for a, b in MAP.items()}
    data = open(os.path.join(pc, "lab-interference.pcap"), "rb").read()
    if data[:4] != b"\xd4\xc3\xb2\xa1" or struct.unpack("<I", data[20:24])[0] != 1:
        sys.exit("mkdemo: expected a little-endian Ethernet pcap")
    out, pos = [data[:24]], 24
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
        out.append(data[pos:pos + 16])
        out.append(rewrite(data[pos + 16:pos + 16 + incl], amap))
        pos += 16 + incl
    open(os.path.join(pc, "demo-kz.pcap"), "wb").write(b"".join(out))
    truth = open(os.path.join(pc, "lab-interference.truth")).read()
    for a, b in MAP.items():
        truth = truth.replace(a + ":", b + ":")
        truth = truth.replace(a.rsplit(".", 1)[0] + ".0/24", b.rsplit(".", 1)[0] + ".0/24")
    head = ("# demo-kz: pcaps/lab-interference.pcap with the clients moved into real networks' prefixes "
            "by tools/mkdemo.py\n# (2.132.0.10 AS9198 JSC Kazakhtelecom, 5.34.0.10 AS21299 Kar-Tel LLC, "
            "80.128.0.10 AS3320 Deutsche Telekom AG as the control)\n")
    lines = [ln for ln in truth.splitlines(True) if not ln.startswith("# lab-interference:")]
    open(os.path.join(pc, "demo-kz.truth"), "w").write(head + "".join(lines))


if __name__ == "__main__":
    main()
