#!/usr/bin/python3
"""injector.py - the on-path censor of the DNS/HTTP lab (tests/lab/dnshttp.sh), Python standard library only.

Runs in the router namespace.  It reads every frame arriving on the client-side interface (AF_PACKET) and, for
queries and requests from the censored network, acts before the router forwards them.  The router's iptables
drop the censored network's DNS queries and the HTTP requests named below, so this program decides what goes on:

  DNS query for a name in --inject   a forged answer (--forged-addr, IP TTL 64, DNS TTL 60) goes to the client at
                                     once, then the query is forwarded: the resolver's genuine answer follows it
  DNS query for a name in --drop     not forwarded (the client times out; the resolver answers other queries)
  other DNS queries                  forwarded unchanged
  HTTP request, Host in --block302   a forged "302 Found" to --location (with FIN) to the client and a RST to the
                                     server in the client's name; the request is not forwarded
  HTTP request, Host in --race302    the forged 302 to the client, then the request is forwarded: the server's own
                                     answer races in behind it

Forwarding re-sends the client's IP packet unchanged through a raw socket.  Every address it touches must lie in
198.18.0.0/15 (checked).  It stops after --seconds or on SIGTERM.
"""
import argparse
import ipaddress
import select
import signal
import socket
import struct
import sys
import time

LAB = ipaddress.ip_network("198.18.0.0/15")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(src, dst, proto, payload, ttl=64, ipid=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ipid, 0x4000, ttl, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def l4sum(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    c = l4sum(src, dst, 17, seg) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b""):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 29200, 0,
                      0) + payload
    c = l4sum(src, dst, 6, seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def qname(msg):
    """The question name of a DNS message (no compression in questions), lower case, and its end offset."""
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    return ".".join(labels), i + 1


def forged_answer(query, addr):
    name, end = qname(query)
    question = query[12:end + 4]
    qid = query[:2]
    flags = struct.pack("!H", 0x8180)
    rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + addr
    return qid + flags + struct.pack("!HHHH", 1, 1, 0, 0) + question + rr


class Injector:
    def __init__(self, a):
        self.a = a
        self.net = ipaddress.ip_network(a.censored)
        self.inject = set(a.inject)
        self.drop = set(a.drop)
        self.block302 = set(a.block302)
        self.race302 = set(a.race302)
        self.forged = ipaddress.ip_address(a.forged_addr).packed
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
        self.sniff.bind((a.iface, 0))
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.raw.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.count = 0

    def send(self, pkt):
        dst = socket.inet_ntoa(pkt[16:20])
        for a in (socket.inet_ntoa(pkt[12:16]), dst):
            if ipaddress.ip_address(a) not in LAB:
                raise SystemExit("injector: refusing address outside 198.18.0.0/15: %s" % a)
        self.raw.sendto(pkt, (dst, 0))

    def dns(self, ip, hl, src, dst):
        l4 = ip[hl:]
        sport = struct.unpack("!H", l4[0:2])[0]
        msg = l4[8:]
        if len(msg) < 12 or msg[2] & 0x80:
            return
        name, _ = qname(msg)
        if name in self.drop:
            return
        if name in self.inject:
            self.send(ip4(dst, src, 17, udp(dst, src, 53, sport, forged_answer(msg, self.forged))))
            self.count += 1
        self.send(ip)

    def http(self, ip, hl, src, dst):
        l4 = ip[hl:]
        sport, dport, seq, ack, off = struct.unpack("!HHIIB", l4[:13])
        data = l4[(off >> 4) * 4:]
        host = None
        for line in data.split(b"\r\n"):
            if line.lower().startswith(b"host:"):
                host = line[5:].strip().decode("ascii", "replace").lower()
        if host not in self.block302 and host not in self.race302:
            return
        body = b""
        resp = (b"HTTP/1.1 302 Found\r\nLocation: " + self.a.location.encode() +
                b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n" + body)
        self.send(ip4(dst, src, 6, tcp(dst, src, dport, sport, ack, seq + len(data), 0x19, resp)))
        self.count += 1
        if host in self.race302:
            self.send(ip)
        else:
            self.send(ip4(src, dst, 6, tcp(src, dst, sport, dport, seq, 0, 0x04)))

    def frame(self, fr):
        ip = fr[14:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            return
        hl = (ip[0] & 15) * 4
        proto, src, dst = ip[9], ip[12:16], ip[16:20]
        if ipaddress.ip_address(src) not in self.net:
            return
        dport = struct.unpack("!H", ip[hl + 2:hl + 4])[0]
        if proto == 17 and dport == 53:
            self.dns(ip, hl, src, dst)
        elif proto == 6 and dport == 80 and len(ip) > hl + 20:
            off = (ip[hl + 12] >> 4) * 4
            if len(ip) > hl + off:
                self.http(ip, hl, src, dst)

    def run(self):
        end = time.time() + self.a.seconds
        print("injector: ready", flush=True)
        while time.time() < end:
            r, _, _ = select.select([self.sniff], [], [], 0.2)
            if not r:
                continue
            fr, addr = self.sniff.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            self.frame(fr)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--censored", required=True, help="client network whose traffic is censored")
    p.add_argument("--forged-addr", required=True)
    p.add_argument("--location", required=True)
    p.add_argument("--inject", nargs="*", default=[])
    p.add_argument("--drop", nargs="*", default=[])
    p.add_argument("--block302", nargs="*", default=[])
    p.add_argument("--race302", nargs="*", default=[])
    p.add_argument("--seconds", type=float, default=300)
    a = p.parse_args()
    for x in (a.censored, a.forged_addr):
        if not ipaddress.ip_network(x, strict=False).subnet_of(LAB):
            sys.exit("injector: %s is outside 198.18.0.0/15" % x)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    Injector(a).run()


if __name__ == "__main__":
    main()
