#!/usr/bin/env python3
"""openflows.py - a trace of N TLS 1.3 connections that all stay open, for the memory a tracked flow costs.

Each connection, one after the other 20 microseconds apart: SYN, SYN-ACK, ACK,
a ClientHello with a server name (RFC 8446 section 4.1.2, RFC 6066 section 3),
the server's ACK, ServerHello, ChangeCipherSpec and one application data record,
the client's ACK and one application data record of its own - and no FIN and no
RST, so when the trace ends every connection is still in the flow table, past
its handshake (its verdict is ok; the handshake region was freed).  Peak memory
with N and with 2N connections then gives what one more tracked flow costs.

Clients are 198.18.0.0/16 addresses (RFC 2544), a port each; the server is
198.19.255.1:443.  Checksums are valid.  Python 3 standard library only.

Usage: openflows.py N OUT.pcap
"""

import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tls_record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303, len(body)) + body


def handshake(htype, body):
    return struct.pack("!B", htype) + len(body).to_bytes(3, "big") + body


def ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello(name):
    sni = struct.pack("!BH", 0, len(name)) + name
    exts = (ext(0, struct.pack("!H", len(sni)) + sni)
            + ext(10, struct.pack("!HHH", 4, 0x001D, 0x0017))
            + ext(13, struct.pack("!HHHH", 6, 0x0403, 0x0804, 0x0401))
            + ext(43, struct.pack("!BHH", 4, 0x0304, 0x0303))
            + ext(51, struct.pack("!HHH", 36, 0x001D, 32) + bytes(range(32))))
    body = (struct.pack("!H", 0x0303) + bytes(32) + b"\x20" + bytes(range(32))
            + struct.pack("!HHHH", 6, 0x1301, 0x1302, 0x1303) + b"\x01\x00"
            + struct.pack("!H", len(exts)) + exts)
    return tls_record(22, handshake(1, body))


def server_flight():
    exts = ext(43, struct.pack("!H", 0x0304)) + ext(51, struct.pack("!HH", 0x001D, 32) + bytes(32))
    body = (struct.pack("!H", 0x0303) + bytes(range(32)) + b"\x20" + bytes(range(32))
            + struct.pack("!HB", 0x1301, 0) + struct.pack("!H", len(exts)) + exts)
    return (tls_record(22, handshake(2, body)) + tls_record(20, b"\x01")
            + tls_record(23, bytes(200)))


MAC = bytes.fromhex("020000000001") + bytes.fromhex("020000000002") + b"\x08\x00"
SERVER = bytes([198, 19, 255, 1])


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return MAC + ip + tcp


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    n = int(sys.argv[1])
    ch = client_hello(b"open.example")
    sf = server_flight()
    cdata = tls_record(23, bytes(100))
    with open(sys.argv[2], "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        t = 1715729838 * 1000000
        for i in range(n):
            cli = bytes([198, 18, i >> 8 & 0xFF, i & 0xFF])
            cp, ci, si = 1024 + (i >> 16), 1000, 5000
            flow = [
                packet(cli, SERVER, cp, 443, ci, 0, 0x02),
                packet(SERVER, cli, 443, cp, si, ci + 1, 0x12),
                packet(cli, SERVER, cp, 443, ci + 1, si + 1, 0x10),
                packet(cli, SERVER, cp, 443, ci + 1, si + 1, 0x18, ch),
                packet(SERVER, cli, 443, cp, si + 1, ci + 1 + len(ch), 0x10),
                packet(SERVER, cli, 443, cp, si + 1, ci + 1 + len(ch), 0x18, sf),
                packet(cli, SERVER, cp, 443, ci + 1 + len(ch), si + 1 + len(sf), 0x10),
                packet(cli, SERVER, cp, 443, ci + 1 + len(ch), si + 1 + len(sf), 0x18, cdata),
            ]
            for k, frame in enumerate(flow):
                ts = t + i * 20 + k * 2
                out.write(struct.pack("<IIII", ts // 1000000, ts % 1000000, len(frame), len(frame)))
                out.write(frame)


if __name__ == "__main__":
    main()
