#!/usr/bin/python3
"""pcapcraft.py - craft packets and capture files for tamperscope's tests.

Python standard library only.  Ethernet / IPv4 / IPv6 / TCP / UDP with
correct checksums, a TCP conversation that keeps both sides' sequence
numbers, TLS ClientHello / ServerHello / alert records, and a pcap writer
(microsecond, LINKTYPE_ETHERNET unless told otherwise).  Addresses used by
the tests come from 198.18.0.0/15 and 2001:db8::/32 only.
"""
import ipaddress
import struct

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ether(payload, ethertype=ETH_IPV4, src=b"\x02\0\0\0\0\x01", dst=b"\x02\0\0\0\0\x02"):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ttl=64, ipid=1, flags_frag=0x4000):
    s, d = ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ipid & 0xFFFF,
                      flags_frag, ttl, proto, 0, s, d)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, hlim=64):
    s, d = ipaddress.IPv6Address(src).packed, ipaddress.IPv6Address(dst).packed
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, s, d) + payload


def _pseudo(src, dst, proto, length):
    a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if a.version == 4:
        return a.packed + b.packed + struct.pack("!BBH", 0, proto, length)
    return a.packed + b.packed + struct.pack("!IxxxB", length, proto)


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", win=64240, opts=b""):
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, 0) + opts
    c = csum(_pseudo(src, dst, 6, len(hdr) + len(payload)) + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


def udp(src, dst, sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    c = csum(_pseudo(src, dst, 17, 8 + len(payload)) + hdr + payload) or 0xFFFF
    return hdr[:6] + struct.pack("!H", c) + payload


def ip_packet(src, dst, proto, l4, ttl=64, ipid=1):
    if ipaddress.ip_address(src).version == 4:
        return ETH_IPV4, ipv4(src, dst, proto, l4, ttl=ttl, ipid=ipid)
    return ETH_IPV6, ipv6(src, dst, proto, l4, hlim=ttl)


def frame(src, dst, proto, l4, ttl=64, ipid=1):
    et, ip = ip_packet(src, dst, proto, l4, ttl, ipid)
    return ether(ip, et)


class Pcap:
    """A pcap file of (time, frame) records, written in time order given."""

    def __init__(self, linktype=1):
        self.linktype = linktype
        self.records = []

    def add(self, t, data):
        self.records.append((t, data))

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, self.linktype))
            for t, data in self.records:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                if usec >= 1000000:
                    sec, usec = sec + 1, usec - 1000000
                f.write(struct.pack("<IIII", sec, usec, len(data), len(data)))
                f.write(data)


class Tcp:
    """One TCP connection seen on the wire: both sides' next sequence
    numbers, and per side TTL and IP ID, so RSTs can be told apart."""

    def __init__(self, pcap, cli, srv, cport, sport, cisn=1000, sisn=5000000,
                 cttl=64, sttl=52):
        self.p, self.cli, self.srv, self.cport, self.sport = pcap, cli, srv, cport, sport
        self.cseq, self.sseq = cisn, sisn
        self.cttl, self.sttl = cttl, sttl
        self.cid, self.sid = 100, 3000

    def c(self, t, flags, data=b"", seq=None, ack=None):
        """A client packet; seq None: the client's next sequence number."""
        s = self.cseq if seq is None else seq
        a = self.sseq if ack is None else ack
        l4 = tcp(self.cli, self.srv, self.cport, self.sport, s, a if flags & TH_ACK else 0, flags, data)
        self.p.add(t, frame(self.cli, self.srv, 6, l4, self.cttl, self.cid))
        self.cid += 1
        if seq is None:
            self.cseq += len(data) + (1 if flags & (TH_SYN | TH_FIN) else 0)

    def s(self, t, flags, data=b"", seq=None, ack=None, ttl=None, ipid=None):
        """A server packet (or one claiming to be: ttl/ipid override)."""
        sq = self.sseq if seq is None else seq
        a = self.cseq if ack is None else ack
        l4 = tcp(self.srv, self.cli, self.sport, self.cport, sq, a if flags & TH_ACK else 0, flags, data)
        self.p.add(t, frame(self.srv, self.cli, 6, l4, self.sttl if ttl is None else ttl,
                            self.sid if ipid is None else ipid))
        if ipid is None:
            self.sid += 1
        if seq is None:
            self.sseq += len(data) + (1 if flags & (TH_SYN | TH_FIN) else 0)

    def handshake(self, t, rtt=0.02):
        self.c(t, TH_SYN)
        self.s(t + rtt / 2, TH_SYN | TH_ACK)
        self.c(t + rtt, TH_ACK)
        return t + rtt


# ---- TLS ------------------------------------------------------------------

def _ext(etype, body):
    return struct.pack("!HH", etype, len(body)) + body


def client_hello(sni=None, version=0x0303, alpn=(b"h2", b"http/1.1"), tls13=True):
    """A TLS record holding a ClientHello (RFC 8446 section 4.1.2)."""
    exts = b""
    if sni is not None:
        name = sni.encode() if isinstance(sni, str) else sni
        entry = b"\0" + struct.pack("!H", len(name)) + name
        exts += _ext(0, struct.pack("!H", len(entry)) + entry)
    exts += _ext(10, struct.pack("!H", 4) + b"\x00\x1d\x00\x17")       # groups
    exts += _ext(11, b"\x01\x00")                                      # ec formats
    if alpn:
        lst = b"".join(bytes([len(a)]) + a for a in alpn)
        exts += _ext(16, struct.pack("!H", len(lst)) + lst)
    exts += _ext(13, struct.pack("!H", 4) + b"\x04\x03\x08\x04")       # sig algs
    if tls13:
        exts += _ext(43, b"\x04\x03\x04\x03\x03")                      # versions
        exts += _ext(51, struct.pack("!H", 36) + b"\x00\x1d\x00\x20" + bytes(32))
    ciphers = b"\x13\x01\x13\x02\xc0\x2f\xc0\x30"
    body = (struct.pack("!H", version) + bytes(range(32)) + b"\x20" + bytes(32) +
            struct.pack("!H", len(ciphers)) + ciphers + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def server_hello(version=0x0303, tls13=True, cipher=0x1301):
    exts = b""
    if tls13:
        exts += _ext(43, b"\x03\x04")
        exts += _ext(51, b"\x00\x1d\x00\x20" + bytes(32))
    body = (struct.pack("!H", version) + bytes(range(32, 64)) + b"\x20" + bytes(32) +
            struct.pack("!H", cipher) + b"\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x02" + struct.pack("!I", len(body))[1:] + body
    rec = b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs
    if tls13:  # change_cipher_spec and an opaque record, as TLS 1.3 servers send
        rec += b"\x14\x03\x03\x00\x01\x01" + b"\x17\x03\x03\x00\x20" + bytes(32)
    return rec


def app_data(n=64):
    return b"\x17\x03\x03" + struct.pack("!H", n) + bytes(n)


def alert(level=2, desc=40, encrypted=False):
    if encrypted:
        return b"\x15\x03\x03\x00\x1a" + bytes(26)
    return b"\x15\x03\x03\x00\x02" + bytes([level, desc])


def certificate(ders):
    """A TLS 1.2 Certificate handshake record of DER certificates (RFC 5246
    section 7.4.2), sent in clear."""
    lst = b"".join(struct.pack("!I", len(d))[1:] + d for d in ders)
    body = struct.pack("!I", len(lst))[1:] + lst
    hs = b"\x0b" + struct.pack("!I", len(body))[1:] + body
    out = b""
    for i in range(0, len(hs), 16384):   # records of at most 2^14 bytes
        chunk = hs[i:i + 16384]
        out += b"\x16\x03\x03" + struct.pack("!H", len(chunk)) + chunk
    return out


def server_hello_done():
    return b"\x16\x03\x03\x00\x04\x0e\x00\x00\x00"


def segments(data, mss=1448):
    """Split a byte stream into MSS-sized pieces."""
    return [data[i:i + mss] for i in range(0, len(data), mss)]


# ---- DNS (RFC 1035 section 4) and HTTP/1.1 ------------------------------------

def dns_name(name):
    """A name in wire form (no compression)."""
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_msg(qid, qname, qtype=1, qr=False, rcode=0, answers=(), rd=True, aa=False,
            edns=None, tc=False):
    """A DNS message with one question.  answers: (type, ttl, rdata) owned by
    the question name (a compression pointer to offset 12); rdata of an A
    or AAAA record is an address string, of a CNAME a name."""
    flags = (0x8000 if qr else 0) | (0x0400 if aa else 0) | (0x0200 if tc else 0) | \
        (0x0100 if rd else 0) | (0x0080 if qr else 0) | (rcode & 0xF)
    body = dns_name(qname) + struct.pack("!HH", qtype, 1)
    for rtype, ttl, rdata in answers:
        if rtype in (1, 28):
            rd_bytes = ipaddress.ip_address(rdata).packed
        elif rtype == 5:
            rd_bytes = dns_name(rdata)
        else:
            rd_bytes = rdata
        body += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, ttl, len(rd_bytes)) + rd_bytes
    ar = b""
    if edns is not None:
        ar = b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    hdr = struct.pack("!HHHHHH", qid, flags, 1, len(answers), 0, 1 if ar else 0)
    return hdr + body + ar


def http_get(host, path="/"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
            % (path, host)).encode()


def http_response(status=200, reason="OK", headers=(), body=b""):
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    head += "Content-Length: %d\r\n\r\n" % len(body)
    return head.encode() + body
