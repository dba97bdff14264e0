#!/usr/bin/env python3
"""wrap.py - wrap every frame of a capture in a tunnel, as a remote mirror would deliver it.

Reads a classic pcap (either byte order, microsecond or nanosecond) of Ethernet
or raw IP frames and writes a microsecond Ethernet pcap in which each frame is
the payload of one tunnel packet between two fixed endpoints:

  vxlan     IPv4/UDP to 4789, VXLAN (RFC 7348 section 5), the Ethernet frame
  geneve    IPv4/UDP to 6081, GENEVE (RFC 8926 section 3) with one 8-byte
            option, protocol 0x6558, the Ethernet frame
  gre       IPv4/GRE with a key (RFC 2784, RFC 2890), protocol 0x6558
            (transparent Ethernet bridging), the Ethernet frame
  erspan1   IPv4/GRE 0x88BE without sequence number, the Ethernet frame
  erspan2   IPv4/GRE 0x88BE with sequence number, ERSPAN type II header
            (version 1), the Ethernet frame (draft-foschiano-erspan-03)
  erspan3   IPv4/GRE 0x22EB with sequence number, ERSPAN type III header
            (version 2, frame type 0) with the O bit and its 8-byte
            platform-specific subheader, the Ethernet frame
  ipip      IPv4 protocol 4 or 41 (RFC 2003, RFC 4213), the IP packet
  ip6ip     IPv6 protocol 4 or 41 (RFC 2473), the IP packet
  gtpu      IPv4/UDP 2152, a GTP-U G-PDU with a sequence number (3GPP TS
            29.281 section 5.1), the IP packet
  capwap    IPv4/UDP to 5247, CAPWAP data header with T set and WBID 1
            (RFC 5415 section 4.3), an IEEE 802.11 QoS data frame (RFC 5416)
            with LLC/SNAP (RFC 1042), the IP packet

Tunnel endpoints are 198.19.254.1 -> 198.19.254.2 (RFC 2544 benchmarking range,
198.18.0.0/15) or 2001:2::1 -> 2001:2::2 (RFC 5180) for ip6ip.  A frame cut by
the snaplen stays cut: the outer headers claim the original wire length and the
record holds the outer headers plus the captured bytes.  --mtu N splits each
outer IPv4 datagram into fragments of at most N bytes (as a mirror of jumbo
frames does); --nest K wraps K times (nested tunnels).  Python 3 standard
library only.

Usage: wrap.py ENCAP IN.pcap OUT.pcap [--mtu N] [--nest K]
"""

import argparse
import struct
import sys
import zlib

OUTER4 = (bytes([198, 19, 254, 1]), bytes([198, 19, 254, 2]))
OUTER6 = (bytes.fromhex("20010002000000000000000000000001"),
          bytes.fromhex("20010002000000000000000000000002"))
MAC_A = bytes.fromhex("020000fe0001")
MAC_B = bytes.fromhex("020000fe0002")
LINKTYPE_ETHERNET = 1
RAW_LINKTYPES = (101, 12, 14, 228, 229)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Frame:
    """A frame as captured: `data` holds the captured bytes, `wire` the
    length it had on the wire."""

    def __init__(self, data, wire):
        self.data = data
        self.wire = wire

    def prepend(self, header):
        return Frame(header + self.data, self.wire + len(header))


def ethernet(frame, ethertype):
    return frame.prepend(MAC_B + MAC_A + struct.pack("!H", ethertype))


def ipv4(frame, proto, ident=0, df=True):
    total = 20 + frame.wire
    if total > 0xFFFF:
        raise ValueError("outer IPv4 datagram too long")
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, 0x4000 if df else 0,
                      64, proto, 0, OUTER4[0], OUTER4[1])
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return frame.prepend(hdr)


def ipv6(frame, nh):
    hdr = struct.pack("!IHBB16s16s", 0x60000000, frame.wire, nh, 64, OUTER6[0], OUTER6[1])
    return frame.prepend(hdr)


def udp(frame, sport, dport):
    # Checksum 0: allowed over IPv4 (RFC 768) and what VXLAN senders use.
    return frame.prepend(struct.pack("!HHHH", sport, dport, 8 + frame.wire, 0))


def entropy_port(frame):
    """A source port from a hash of the inner frame, as RFC 7348 asks."""
    return 49152 + zlib.crc32(frame.data[:64]) % 16384


def gre(frame, ptype, key=None, seq=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    hdr = struct.pack("!HH", flags, ptype)
    if key is not None:
        hdr += struct.pack("!I", key)
    if seq is not None:
        hdr += struct.pack("!I", seq & 0xFFFFFFFF)
    return frame.prepend(hdr)


def inner_ip(frame, linktype):
    """The IP packet of a frame and its IP version."""
    if linktype in RAW_LINKTYPES:
        ip = frame
    else:
        off = 12
        etype, = struct.unpack_from("!H", frame.data, off)
        while etype in (0x8100, 0x88A8, 0x9100):
            off += 4
            etype, = struct.unpack_from("!H", frame.data, off)
        if etype not in (0x0800, 0x86DD):
            return None, 0
        ip = Frame(frame.data[off + 2:], frame.wire - off - 2)
    version = ip.data[0] >> 4 if ip.data else 0
    return (ip, version) if version in (4, 6) else (None, 0)


def inner_ethernet(frame, linktype):
    if linktype == LINKTYPE_ETHERNET:
        return frame
    ip, version = inner_ip(frame, linktype)
    if ip is None:
        return None
    return ethernet(ip, 0x86DD if version == 6 else 0x0800)


def wrap_one(encap, frame, linktype, n):
    """The outer IP datagram (before the outer Ethernet header) around one
    frame, and its IP version; None when the frame cannot be carried."""
    if encap in ("ipip", "ip6ip", "gtpu", "capwap"):
        ip, version = inner_ip(frame, linktype)
        if ip is None:
            return None, 0
        if encap == "ipip":
            return ipv4(ip, 41 if version == 6 else 4, n & 0xFFFF), 4
        if encap == "ip6ip":
            return ipv6(ip, 41 if version == 6 else 4), 6
        if encap == "gtpu":
            g = ip.prepend(struct.pack("!BBHIHBB", 0x32, 0xFF, ip.wire + 4, 0x1234, n & 0xFFFF, 0, 0))
            return ipv4(udp(g, 2152, 2152), 17, n & 0xFFFF), 4
        # 802.11 QoS data to the DS: addr1 BSSID, addr2 station, addr3 destination.
        wifi = struct.pack("<BBH", 0x88, 0x01, 0) + MAC_B + MAC_A + MAC_B
        wifi += struct.pack("<HH", (n & 0xFFF) << 4, 0)
        llc = bytes([0xAA, 0xAA, 0x03, 0, 0, 0]) + struct.pack("!H", 0x86DD if version == 6 else 0x0800)
        hdr = struct.pack("!II", (2 << 19) | (1 << 14) | (1 << 9) | 0x100, 0)
        c = ip.prepend(hdr + wifi + llc)
        return ipv4(udp(c, entropy_port(ip), 5247), 17, n & 0xFFFF), 4
    eth = inner_ethernet(frame, linktype)
    if eth is None:
        return None, 0
    if encap == "vxlan":
        v = eth.prepend(struct.pack("!II", 0x08000000, 0x00ABCD00))
        return ipv4(udp(v, entropy_port(eth), 4789), 17, n & 0xFFFF), 4
    if encap == "geneve":
        opt = struct.pack("!HBBI", 0x0102, 0x80, 1, 0xC0FFEE)
        v = eth.prepend(struct.pack("!BBHI", len(opt) // 4, 0, 0x6558, 0x00ABCD00) + opt)
        return ipv4(udp(v, entropy_port(eth), 6081), 17, n & 0xFFFF), 4
    if encap == "gre":
        return ipv4(gre(eth, 0x6558, key=42), 47, n & 0xFFFF), 4
    if encap == "erspan1":
        return ipv4(gre(eth, 0x88BE), 47, n & 0xFFFF), 4
    if encap == "erspan2":
        hdr = struct.pack("!II", (1 << 28) | (100 << 16) | 7, n & 0xFFFFF)
        return ipv4(gre(eth.prepend(hdr), 0x88BE, seq=n), 47, n & 0xFFFF), 4
    if encap == "erspan3":
        hdr = struct.pack("!III", (2 << 28) | (100 << 16) | 7, n * 1000 & 0xFFFFFFFF,
                          (5 << 16) | (0 << 10) | (1 << 4) | 1)
        hdr += struct.pack("!II", 3 << 26, n)  # platform ID 3 subheader
        return ipv4(gre(eth.prepend(hdr), 0x22EB, seq=n), 47, n & 0xFFFF), 4
    raise ValueError("unknown encapsulation " + encap)


def fragments(dgram, mtu):
    """Split an outer IPv4 datagram into fragments of at most mtu bytes.
    The fragments cover what was captured; a datagram cut by the snaplen
    stays a cut (its last fragment claims the bytes the capture lost)."""
    if dgram.wire <= mtu:
        return [dgram]
    hdr = bytearray(dgram.data[:20])
    payload, pwire = dgram.data[20:], dgram.wire - 20
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, pwire, step):
        size = min(step, pwire - off)
        more = off + size < pwire
        h = bytearray(hdr)
        struct.pack_into("!H", h, 2, 20 + size)
        struct.pack_into("!H", h, 6, (0x2000 if more else 0) | off // 8)
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, checksum(bytes(h)))
        out.append(Frame(bytes(h) + payload[off:off + size], 20 + size))
    return out


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(path + ": not a classic pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype, = struct.unpack_from(end + "I", data, 20)
    off, frames = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, wire = struct.unpack_from(end + "IIII", data, off)
        off += 16
        usec = frac // 1000 if nano else frac
        frames.append((sec, usec, Frame(data[off:off + caplen], max(wire, caplen))))
        off += caplen
    return linktype & 0xFFFF, frames


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("encap", choices=["vxlan", "geneve", "gre", "erspan1", "erspan2",
                                      "erspan3", "ipip", "ip6ip", "gtpu", "capwap"])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--mtu", type=int, default=0, help="fragment outer IPv4 datagrams")
    ap.add_argument("--nest", type=int, default=1, help="wrap this many times")
    a = ap.parse_args()
    if a.mtu and a.mtu < 68:
        ap.error("--mtu must be at least 68")
    linktype, frames = read_pcap(a.input)
    wrapped = skipped = 0
    with open(a.output, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET))
        for n, (sec, usec, frame) in enumerate(frames):
            lt, ok = linktype, True
            for _ in range(a.nest):
                dgram, version = wrap_one(a.encap, frame, lt, n)
                if dgram is None:
                    ok = False
                    break
                frame = ethernet(dgram, 0x86DD if version == 6 else 0x0800)
                lt = LINKTYPE_ETHERNET
            if not ok:
                skipped += 1
                continue
            wrapped += 1
            pieces = [frame]
            if a.mtu and version == 4:
                pieces = [ethernet(p, 0x0800) for p in fragments(Frame(frame.data[14:], frame.wire - 14), a.mtu)]
            for p in pieces:
                out.write(struct.pack("<IIII", sec, usec, len(p.data), p.wire) + p.data)
    print("wrap.py: %s: %d frames wrapped, %d not IP (left out)" % (a.encap, wrapped, skipped),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
