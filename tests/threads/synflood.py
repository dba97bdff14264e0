#!/usr/bin/env python3
"""synflood.py - write a capture of N TCP SYNs, each opening a flow of its own.

Clients in 198.18.0.0/16 (RFC 2544) with ports cycling through 1024..65535,
servers 198.19.0.1..198.19.0.200 port 443, one SYN every 10 microseconds,
Ethernet framing, valid IPv4 checksums.  For the memory test: a table capped
far below N must evict, and evicting must keep the process's memory flat.

Usage: synflood.py N OUT.pcap
"""

import struct
import sys


def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def main():
    n = int(sys.argv[1])
    out = open(sys.argv[2], "wb")
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    t0 = 1700000000
    buf = []
    for i in range(n):
        cli = 0xC6120000 | ((i // 64511) & 0xFFFF)   # 198.18.x.y
        cport = 1024 + i % 64511
        srv = 0xC6130001 + i % 200                   # 198.19.0.1..
        ip = struct.pack("!BBHHHBBHII", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, cli, srv)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        tcp = struct.pack("!HHIIBBHHH", cport, 443, (i * 7919) & 0xFFFFFFFF, 0, 0x50, 0x02, 64240, 0, 0)
        frame = eth + ip + tcp
        us = i * 10
        buf.append(struct.pack("<IIII", t0 + us // 1000000, us % 1000000, len(frame), len(frame)) + frame)
        if len(buf) >= 65536:
            out.write(b"".join(buf))
            buf = []
    out.write(b"".join(buf))
    out.close()


if __name__ == "__main__":
    main()
