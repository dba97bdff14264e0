#!/usr/bin/env python3
"""mktrace.py - write a large, deterministic benchmark trace by replaying the TCP flows of small captures.

Every TCP flow of the input captures (classic pcap or pcapng; Ethernet, VLAN,
Linux cooked v1/v2, raw IP, BSD loopback) is replayed many times:

  - each replay gets its own client: an IPv4 address in 198.18.0.0/15 (the
    RFC 2544 benchmarking range) or an IPv6 address in 2001:2::/48 (RFC 5180),
    drawn from a pool of client hosts, and a fresh ephemeral port of that host;
  - server addresses and ports are kept, so the server side (ASN, SNI, verdict)
    looks like the original;
  - replays start as a Poisson arrival process (--rate new flows per second)
    and keep the original inter-packet timing, so many flows overlap in time
    as they would on a mirror port;
  - the IPv4 header checksum and the TCP checksum are updated incrementally
    (RFC 1624) so they stay as valid as they were in the input.

With --bulk N the trace is the typical case of a mirror port instead of the
worst case: every flow whose handshake completed (SYN, SYN-ACK, server
payload, no RST) is made a long transfer by appending N MTU-sized server
segments of TLS application data (a stream of 15 923-byte records, 11
segments each) at --bulk-mbps, with a client ACK every second segment,
right before the flow's first FIN (or at its end); the closing packets
after it keep their timing relative to the data and get their sequence and
acknowledgment numbers shifted by the inserted bytes (SACK blocks are not
rewritten).  The synthetic segments copy the IP and TCP headers (options
included, so TCP timestamps stay frozen) of the flow's last packet in the
same direction, with consecutive IPv4 IDs and valid checksums.  Flows
blocked during the handshake are replayed unchanged, so handshakes are a
small share of the packets.

The output is a microsecond pcap with Ethernet framing (non-Ethernet input
gets a synthetic Ethernet header).  The same inputs, options and --seed give a
byte-identical file.

Usage: mktrace.py [-o OUT] [--packets N] [--max-mb M] [--rounds K] [--rate R] [--seed S]
                  [--bulk N [--bulk-mbps M]] [INPUT...]
Without INPUT, pcaps/lab-interference.pcap next to this script's parent is used.
"""

import argparse
import heapq
import os
import random
import struct
import sys

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
ETH_VLANS = (0x8100, 0x88A8, 0x9100)

CLIENT4_BASE = (198 << 24) | (18 << 16)   # 198.18.0.0/15
CLIENT4_SPAN = 1 << 17
CLIENT6_PREFIX = bytes.fromhex("20010002000000000000")  # 2001:2::/48 + 32 zero bits


class Packet:
    """One input packet: link header kept as is, IP packet patched per replay."""
    __slots__ = ("ts_ns", "link", "ip", "wire_len", "from_client")

    def __init__(self, ts_ns, link, ip, wire_len):
        self.ts_ns = ts_ns
        self.link = link
        self.ip = ip
        self.wire_len = wire_len
        self.from_client = True


# ---------------------------------------------------------------- reading


def read_pcap(f, head):
    """Classic pcap (either byte order, micro- or nanosecond timestamps)."""
    magic_le = struct.unpack("<I", head[:4])[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    else:
        e = ">"
    magic = struct.unpack(e + "I", head[:4])[0]
    scale = 1 if magic == 0xA1B23C4D else 1000
    rest = f.read(20)
    if len(rest) < 20:
        raise ValueError("truncated pcap header")
    linktype = struct.unpack(e + "I", rest[16:20])[0] & 0x0FFFFFFF
    while True:
        rh = f.read(16)
        if len(rh) < 16:
            return
        sec, frac, caplen, wire = struct.unpack(e + "IIII", rh)
        data = f.read(caplen)
        if len(data) < caplen:
            return
        yield linktype, sec * 1_000_000_000 + frac * scale, data, wire


def read_pcapng(f, head):
    """pcapng: SHB, IDB (link type, if_tsresol), EPB, SPB; other blocks skipped."""
    buf = head + f.read()
    off = 0
    e = "<"
    ifaces = []
    while off + 12 <= len(buf):
        btype = struct.unpack(e + "I", buf[off:off + 4])[0]
        if btype == 0x0A0D0D0A:
            bom = buf[off + 8:off + 12]
            e = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        blen = struct.unpack(e + "I", buf[off + 4:off + 8])[0]
        if blen < 12 or off + blen > len(buf):
            return
        body = buf[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:
            linktype = struct.unpack(e + "H", body[:2])[0]
            ifaces.append((linktype, idb_tsresol(body[8:], e)))
        elif btype == 6 and len(body) >= 20:
            ifid, hi, lo, caplen, wire = struct.unpack(e + "IIIII", body[:20])
            if ifid < len(ifaces) and 20 + caplen <= len(body):
                linktype, units = ifaces[ifid]
                yield linktype, ticks_to_ns((hi << 32) | lo, units), body[20:20 + caplen], wire
        elif btype == 3 and len(body) >= 4 and ifaces:
            wire = struct.unpack(e + "I", body[:4])[0]
            data = body[4:4 + wire]
            yield ifaces[0][0], 0, data, wire
        off += blen


def idb_tsresol(opts, e):
    """Ticks per second from the IDB's if_tsresol option (default 10^6)."""
    off = 0
    while off + 4 <= len(opts):
        code, olen = struct.unpack(e + "HH", opts[off:off + 4])
        if code == 0:
            break
        if code == 9 and olen >= 1:
            v = opts[off + 4]
            return 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
        off += 4 + ((olen + 3) & ~3)
    return 10 ** 6


def ticks_to_ns(ticks, per_second):
    return ticks * 1_000_000_000 // per_second


def read_capture(path):
    with open(path, "rb") as f:
        head = f.read(4)
        if head == b"\x0a\x0d\x0d\x0a":
            yield from read_pcapng(f, head)
        elif len(head) == 4:
            yield from read_pcap(f, head)


# ---------------------------------------------------------------- decoding


def split_link(linktype, data):
    """Return (link header, IP packet) or None when not IPv4/IPv6."""
    if linktype == LINKTYPE_ETHERNET:
        off = 12
        while off + 2 <= len(data):
            etype = struct.unpack(">H", data[off:off + 2])[0]
            if etype in ETH_VLANS:
                off += 4
                continue
            if etype in (ETH_IPV4, ETH_IPV6):
                return data[:off + 2], data[off + 2:]
            return None
        return None
    if linktype in (LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6, 12, 14):
        return b"", data
    if linktype == LINKTYPE_LINUX_SLL and len(data) >= 16:
        return data[:16], data[16:]
    if linktype == LINKTYPE_LINUX_SLL2 and len(data) >= 20:
        return data[:20], data[20:]
    if linktype in (LINKTYPE_NULL, LINKTYPE_LOOP) and len(data) >= 4:
        return data[:4], data[4:]
    return None


def tcp_tuple(ip):
    """(family, src, dst, sport, dport, tcp offset, flags) of an unfragmented TCP packet, else None."""
    if len(ip) < 20:
        return None
    ver = ip[0] >> 4
    if ver == 4:
        ihl = (ip[0] & 0x0F) * 4
        frag = struct.unpack(">H", ip[6:8])[0]
        if ip[9] != 6 or ihl < 20 or frag & 0x3FFF:
            return None
        src, dst, toff = ip[12:16], ip[16:20], ihl
    elif ver == 6 and len(ip) >= 40:
        if ip[6] != 6:      # extension headers: not replayed (rare in TCP)
            return None
        src, dst, toff = ip[8:24], ip[24:40], 40
    else:
        return None
    if len(ip) < toff + 14:
        return None
    sport, dport = struct.unpack(">HH", ip[toff:toff + 4])
    return ver, src, dst, sport, dport, toff, ip[toff + 13]


def load_flows(paths):
    """TCP flows of all inputs: list of (client endpoint info, packets), in first-seen order."""
    flows = {}
    order = []
    for path in paths:
        for linktype, ts_ns, data, wire in read_capture(path):
            parts = split_link(linktype, data)
            if parts is None:
                continue
            link, ip = parts
            t = tcp_tuple(ip)
            if t is None:
                continue
            ver, src, dst, sport, dport, toff, flags = t
            a, b = (src, sport), (dst, dport)
            key = (path, ver) + (min(a, b), max(a, b))
            if linktype != LINKTYPE_ETHERNET:
                link = synth_ethernet(ver)
            pkt = Packet(ts_ns, bytes(link), bytes(ip), wire - (len(data) - len(ip)) + len(link))
            if key not in flows:
                flows[key] = {"client": None, "first_src": a, "pkts": []}
                order.append(key)
            fl = flows[key]
            if fl["client"] is None and flags & 0x02:      # SYN: sender is the client
                fl["client"] = a if not flags & 0x10 else b
            fl["pkts"].append((a, pkt))
    result = []
    for key in order:
        fl = flows[key]
        client = fl["client"] or guess_client(fl["first_src"], key)
        pkts = []
        for a, pkt in fl["pkts"]:
            pkt.from_client = (a == client)
            pkts.append(pkt)
        pkts.sort(key=lambda p: p.ts_ns)
        result.append(pkts)
    return result


def guess_client(first_src, key):
    """No SYN seen: the endpoint with the higher (ephemeral-looking) port is the client."""
    a, b = key[2], key[3]
    if a[1] != b[1]:
        return a if a[1] > b[1] else b
    return first_src


def synth_ethernet(ver):
    return bytes.fromhex("020000000002020000000001") + struct.pack(">H", ETH_IPV4 if ver == 4 else ETH_IPV6)


# ---------------------------------------------------------------- rewriting


def csum_update(csum, old, new):
    """RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over 16-bit words."""
    s = (~csum) & 0xFFFF
    for i in range(0, len(old), 2):
        m = (old[i] << 8) | old[i + 1]
        m2 = (new[i] << 8) | new[i + 1]
        s += ((~m) & 0xFFFF) + m2
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def rewrite(pkt, caddr, cport):
    """Copy of pkt's IP packet with the client endpoint replaced."""
    ip = bytearray(pkt.ip)
    ver = ip[0] >> 4
    if ver == 4:
        toff = (ip[0] & 0x0F) * 4
        aoff = 12 if pkt.from_client else 16
        alen = 4
    else:
        toff = 40
        aoff = 8 if pkt.from_client else 24
        alen = 16
    poff = toff if pkt.from_client else toff + 2
    old_addr = bytes(ip[aoff:aoff + alen])
    old_port = bytes(ip[poff:poff + 2])
    new_port = struct.pack(">H", cport)
    ip[aoff:aoff + alen] = caddr
    ip[poff:poff + 2] = new_port
    if ver == 4:
        hc = struct.unpack(">H", ip[10:12])[0]
        ip[10:12] = struct.pack(">H", csum_update(hc, old_addr, caddr))
    # TCP checksum covers the pseudo-header addresses and the ports; only
    # update it when the captured bytes hold it.
    if len(ip) >= toff + 18:
        tc = struct.unpack(">H", ip[toff + 16:toff + 18])[0]
        tc = csum_update(tc, old_addr + old_port, caddr + new_port)
        ip[toff + 16:toff + 18] = struct.pack(">H", tc)
    return bytes(ip)


class ClientPool:
    """Client hosts in the benchmarking ranges, each allocating ephemeral ports in sequence."""

    def __init__(self, rng, hosts):
        self.rng = rng
        self.hosts = hosts
        self.next_port = {}

    def take(self, ver):
        h = self.rng.randrange(self.hosts)
        if ver == 4:
            addr = struct.pack(">I", CLIENT4_BASE + 1 + (h * 37) % (CLIENT4_SPAN - 2))
        else:
            addr = CLIENT6_PREFIX + struct.pack(">IH", h + 1, 0)
        key = (ver, h)
        port = self.next_port.get(key)
        if port is None:
            port = self.rng.randrange(32768, 61000)
        self.next_port[key] = 32768 + (port + 1 - 32768) % (61000 - 32768)
        return addr, port


def replay(pkts, start_ns, caddr, cport):
    base = pkts[0].ts_ns
    for p in pkts:
        yield start_ns + (p.ts_ns - base), p, caddr, cport


# ---------------------------------------------------------------- bulk flows

TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10
BULK_SEG = 1448                     # MSS of a 1500-byte MTU with TCP timestamps
BULK_REC_SEGS = 11                  # one TLS record every 11 segments
BULK_REC_LEN = BULK_SEG * BULK_REC_SEGS - 5   # 15 923 <= 2^14 + 256 (RFC 8446 5.2)


def tcp_fields(ip):
    """(tcp offset, header length, seq, ack, flags, payload length) of an IP packet from load_flows."""
    if ip[0] >> 4 == 4:
        toff = (ip[0] & 0x0F) * 4
        end = min(len(ip), struct.unpack(">H", ip[2:4])[0])
    else:
        toff = 40
        end = min(len(ip), 40 + struct.unpack(">H", ip[4:6])[0])
    seq, ack = struct.unpack(">II", ip[toff + 4:toff + 12])
    thl = (ip[toff + 12] >> 4) * 4
    return toff, thl, seq, ack, ip[toff + 13], max(0, end - toff - thl)


def ones_sum(data):
    """One's complement sum (not complemented) of data as 16-bit big-endian words."""
    if len(data) & 1:
        data = data + b"\0"
    s = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def fold_add(*sums):
    s = sum(sums)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def bulk_payloads(rng):
    """The BULK_REC_SEGS segment payloads of one TLS application-data record, with their sums."""
    body = bytes(rng.getrandbits(8) for _ in range(BULK_REC_LEN))
    rec = bytes([23, 3, 3]) + struct.pack(">H", BULK_REC_LEN) + body
    segs = [rec[i:i + BULK_SEG] for i in range(0, len(rec), BULK_SEG)]
    return [(seg, ones_sum(seg)) for seg in segs]


def synth_segment(tmpl, seq, ack, flags, payload, psum, ipid):
    """A copy of template packet tmpl (a Packet) carrying payload, with valid checksums."""
    ip = tmpl.ip
    toff, thl, _, _, _, _ = tcp_fields(ip)
    hdr = bytearray(ip[:toff + thl])
    tlen = thl + len(payload)
    if ip[0] >> 4 == 4:
        struct.pack_into(">HH", hdr, 2, toff + tlen, ipid & 0xFFFF)
        hdr[10:12] = b"\0\0"
        struct.pack_into(">H", hdr, 10, (~ones_sum(bytes(hdr[:toff]))) & 0xFFFF)
        pseudo = ones_sum(bytes(hdr[12:20]) + struct.pack(">HH", 6, tlen))
    else:
        struct.pack_into(">H", hdr, 4, tlen)
        pseudo = ones_sum(bytes(hdr[8:40]) + struct.pack(">IxxxB", tlen, 6))
    struct.pack_into(">IIB", hdr, toff + 4, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, (thl // 4) << 4)
    hdr[toff + 13] = flags
    hdr[toff + 16:toff + 18] = b"\0\0"
    csum = (~fold_add(pseudo, ones_sum(bytes(hdr[toff:])), psum)) & 0xFFFF
    struct.pack_into(">H", hdr, toff + 16, csum)
    out = Packet(0, tmpl.link, bytes(hdr) + payload, len(tmpl.link) + toff + tlen)
    out.from_client = tmpl.from_client
    return out


def shift_seq_ack(pkt, dseq, dack, dt_ns):
    """Copy of pkt later by dt_ns with seq += dseq and ack += dack (checksums kept valid)."""
    toff, _, seq, ack, flags, _ = tcp_fields(pkt.ip)
    ip = bytearray(pkt.ip)
    if not flags & TH_ACK:
        dack = 0
    old = bytes(ip[toff + 4:toff + 12])
    new = struct.pack(">II", (seq + dseq) & 0xFFFFFFFF, (ack + dack) & 0xFFFFFFFF)
    ip[toff + 4:toff + 12] = new
    if len(ip) >= toff + 18:
        tc = struct.unpack(">H", ip[toff + 16:toff + 18])[0]
        struct.pack_into(">H", ip, toff + 16, csum_update(tc, old, new))
    out = Packet(pkt.ts_ns + dt_ns, pkt.link, bytes(ip), pkt.wire_len)
    out.from_client = pkt.from_client
    return out


def bulkify(pkts, nseg, mbps, payloads):
    """pkts with nseg server data segments inserted before the first FIN; None if not eligible."""
    fields = [tcp_fields(p.ip) for p in pkts]
    syn = [f for p, f in zip(pkts, fields) if p.from_client and f[4] & (TH_SYN | TH_ACK) == TH_SYN]
    synack = [f for p, f in zip(pkts, fields) if not p.from_client and
              f[4] & (TH_SYN | TH_ACK) == (TH_SYN | TH_ACK)]
    if not syn or not synack or any(f[4] & TH_RST for f in fields):
        return None
    if not any(not p.from_client and f[5] > 0 for p, f in zip(pkts, fields)):
        return None
    cut = next((i for i, f in enumerate(fields) if f[4] & TH_FIN), len(pkts))
    isn = {True: syn[0][2], False: synack[0][2]}
    nxt = {True: 1, False: 1}          # next sequence number, relative to the ISN
    tmpl = {}
    for p, f in zip(pkts[:cut], fields[:cut]):
        rel = (f[2] - isn[p.from_client]) & 0xFFFFFFFF
        if rel < 1 << 31:
            nxt[p.from_client] = max(nxt[p.from_client], rel + f[5] + (1 if f[4] & TH_SYN else 0))
        if f[4] & TH_ACK and not f[4] & TH_SYN:
            tmpl[p.from_client] = p
    if True not in tmpl or False not in tmpl:
        return None
    srv_seq = isn[False] + nxt[False]
    cli_seq = isn[True] + nxt[True]
    gap_ns = max(1, int(BULK_SEG * 8 * 1000 / mbps))  # one segment at mbps Mbit/s
    t = pkts[cut - 1].ts_ns
    ipid = {True: 0, False: 0}
    for side in (True, False):
        if tmpl[side].ip[0] >> 4 == 4:
            ipid[side] = struct.unpack(">H", tmpl[side].ip[4:6])[0]
    out = list(pkts[:cut])
    for i in range(nseg):
        payload, psum = payloads[i % len(payloads)]
        flags = TH_ACK | (TH_PSH if i % len(payloads) == len(payloads) - 1 else 0)
        t += gap_ns
        ipid[False] += 1
        seg = synth_segment(tmpl[False], srv_seq, cli_seq, flags, payload, psum, ipid[False])
        seg.ts_ns = t
        out.append(seg)
        srv_seq += len(payload)
        if i % 2 == 1 or i == nseg - 1:   # delayed ACK: every second segment
            ipid[True] += 1
            a = synth_segment(tmpl[True], cli_seq, srv_seq, TH_ACK, b"", 0, ipid[True])
            a.ts_ns = t + 20_000
            out.append(a)
    added = srv_seq - (isn[False] + nxt[False])
    dt = t + 40_000 - pkts[cut - 1].ts_ns
    for p in pkts[cut:]:
        out.append(shift_seq_ack(p, 0 if p.from_client else added, added if p.from_client else 0, dt))
    out.sort(key=lambda p: p.ts_ns)
    return out


def make_bulk(flows, args):
    """Bulk versions of the eligible flows, the others unchanged."""
    payloads = bulk_payloads(random.Random(args.seed))
    out, n = [], 0
    for pkts in flows:
        b = bulkify(pkts, args.bulk, args.bulk_mbps, payloads)
        if b is not None:
            n += 1
        out.append(b if b is not None else pkts)
    if n == 0:
        raise ValueError("--bulk: no input flow completed a handshake (SYN, SYN-ACK, server data, no RST)")
    return out, n


def generate(flows, args, out):
    rng = random.Random(args.seed)
    pool = ClientPool(rng, args.hosts)
    streams = []
    t = args.start * 1_000_000_000
    npk = nbytes = 0
    limit_bytes = args.max_mb * 1_000_000
    rounds = 0
    sizes = [sum(16 + len(p.link) + len(p.ip) for p in pkts) for pkts in flows]
    # Plan all replays first: a flow is replayed whole or not at all.
    while (rounds < args.rounds if args.rounds else npk < args.packets and nbytes < limit_bytes):
        rounds += 1
        for pkts, size in zip(flows, sizes):
            t += int(rng.expovariate(args.rate) * 1_000_000_000)
            ver = pkts[0].ip[0] >> 4
            caddr, cport = pool.take(ver)
            streams.append(replay(pkts, t, caddr, cport))
            npk += len(pkts)
            nbytes += size
            if not args.rounds and (npk >= args.packets or nbytes >= limit_bytes):
                break
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, LINKTYPE_ETHERNET))
    written = 0
    for ts, p, caddr, cport in heapq.merge(*streams, key=lambda r: r[0]):
        ip = rewrite(p, caddr, cport)
        frame = p.link + ip
        out.write(struct.pack("<IIII", ts // 1_000_000_000, (ts % 1_000_000_000) // 1000,
                              len(frame), max(p.wire_len, len(frame))))
        out.write(frame)
        written += 1
    return written, len(streams)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_in = os.path.join(here, "..", "pcaps", "lab-interference.pcap")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="*", help="captures whose TCP flows are replayed")
    ap.add_argument("-o", "--output", default="-", help="output pcap (default stdout)")
    ap.add_argument("--packets", type=int, default=400000, help="stop after about this many packets")
    ap.add_argument("--max-mb", type=float, default=120, help="stop before about this many MB")
    ap.add_argument("--rounds", type=int, default=0,
                    help="replay every flow exactly this many times (overrides --packets, --max-mb)")
    ap.add_argument("--rate", type=float, default=None,
                    help="new flows per second (default 500, with --bulk 20)")
    ap.add_argument("--bulk", type=int, default=0, metavar="N",
                    help="typical instead of worst case: append N MTU-sized server segments "
                         "to every flow whose handshake completed")
    ap.add_argument("--bulk-mbps", type=float, default=50.0,
                    help="rate of the appended data per flow, Mbit/s (default 50)")
    ap.add_argument("--hosts", type=int, default=4000, help="distinct client hosts")
    ap.add_argument("--start", type=int, default=1715729838, help="first timestamp (unix seconds)")
    ap.add_argument("--seed", type=int, default=20240514)
    args = ap.parse_args()
    if args.rate is None:
        args.rate = 20.0 if args.bulk else 500.0
    if args.bulk < 0 or args.bulk_mbps <= 0 or args.rate <= 0:
        ap.error("--bulk, --bulk-mbps and --rate must be positive")
    inputs = args.inputs
    if not inputs:
        if not os.path.exists(default_in):
            ap.error("no input given and %s not found" % os.path.normpath(default_in))
        inputs = [default_in]
    flows = load_flows(inputs)
    if not flows:
        ap.error("no TCP flows in the input captures")
    nbulk = 0
    if args.bulk:
        try:
            flows, nbulk = make_bulk(flows, args)
        except ValueError as e:
            ap.error(str(e))
    if args.output == "-":
        written, nflows = generate(flows, args, sys.stdout.buffer)
    else:
        with open(args.output, "wb") as out:
            written, nflows = generate(flows, args, out)
    print("mktrace: %d input flows%s, %d replayed flows, %d packets"
          % (len(flows), " (%d made bulk)" % nbulk if args.bulk else "", nflows, written),
          file=sys.stderr)


if __name__ == "__main__":
    main()
