#!/usr/bin/python3
"""mkcases.py - craft the captures of ordinary, uncensored traffic that a
careless detector would call blocking (issue: trustworthy on ordinary
traffic), one file per case, into the directory given.

    mkcases.py OUTDIR

Cases (file: what it shows):
  win_syn_retry.pcap   a SYN refused by RST and retried twice with the same
                       ISN (Windows), plus a completed flow to the same
                       server that shows its own TTL: one flow, a closed port
  closed_ports.pcap    three clients meeting a closed port (RST with the
                       server's TTL), a P2P client calling a departed peer
                       three times, and one address really blocked at SYN
                       on a network while another flow reached it
  nmap.pcap            a SYN scan: 2000 ports in 23 s, three open
  midstream.pcap       a capture that starts after the handshake and sees a
                       normal TLS teardown (encrypted alert, FIN, RSTs)
  clock_jump.pcap      a TLS handshake during which the capture clock jumps
                       back 282970790 s
  preambles.pcap       TLS after SMTP STARTTLS, POP3 STLS, IMAP STARTTLS,
                       FTP AUTH TLS, XMPP, LDAP StartTLS, PostgreSQL,
                       HTTP CONNECT (stalled), SOCKS 4a and 5, PROXY v1/v2
  mldsa.pcap           a TLS 1.2 chain whose leaf is signed with ML-DSA-65,
                       an algorithm OpenSSL 3.0 cannot check
With --certs DIR (DIR/leaf.der and DIR/ca.der, made by the caller with
openssl) also:
  clockless.pcap       that chain in a TLS 1.2 handshake stamped 1970 (a
                       device without a clock)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "craft"))
from pcapcraft import (Pcap, Tcp, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN, alert,  # noqa: E402
                       app_data, certificate, client_hello, segments, server_hello,
                       server_hello_done)

T0 = 1732000000.0
PA = TH_ACK | TH_PSH


def win_syn_retry(out):
    p = Pcap()
    ok = Tcp(p, "198.18.5.11", "198.19.5.1", 40000, 443, sttl=52)
    t = ok.handshake(T0)
    ok.c(t + 0.001, PA, client_hello("mail.example"))
    ok.s(t + 0.02, PA, server_hello())
    ok.c(t + 0.5, TH_ACK | TH_FIN)
    ok.s(t + 0.51, TH_ACK | TH_FIN)
    ok.c(t + 0.52, TH_ACK)
    c = Tcp(p, "198.18.5.10", "198.19.5.1", 50001, 110, cisn=7777, sttl=52)
    for k, dt in enumerate((0.0, 0.5, 1.5)):
        c.c(T0 + 5 + dt, TH_SYN, seq=7777)
        c.s(T0 + 5 + dt + 0.0003, TH_RST | TH_ACK, seq=0, ack=7778)
    p.write(os.path.join(out, "win_syn_retry.pcap"))


def closed_ports(out):
    p = Pcap()
    for i, cli in enumerate(("198.18.6.10", "198.18.6.11", "198.18.6.12")):
        c = Tcp(p, cli, "198.19.6.1", 41000 + i, 110, cisn=100 + i, sttl=52)
        c.c(T0 + i, TH_SYN)
        c.s(T0 + i + 0.02, TH_RST | TH_ACK, seq=0)
    for i in range(3):  # a departed peer: SYNs retried, then given up
        c = Tcp(p, "198.18.6.20", "198.19.6.50", 42000 + i, 6881, cisn=500 + i)
        base = T0 + 10 + i * 30
        for dt in (0, 1, 3, 7):
            c.c(base + dt, TH_SYN, seq=500 + i)
        c.c(base + 15, TH_RST, seq=501 + i)
    # really blocked at SYN on this network, while another flow reached it
    for i in range(3):
        c = Tcp(p, "198.18.7.10", "198.19.7.1", 43000 + i, 443, cisn=900 + i)
        base = T0 + 200 + i * 20
        for dt in (0, 1, 3):
            c.c(base + dt, TH_SYN, seq=900 + i)
        c.c(base + 10, TH_RST, seq=901 + i)
    ok = Tcp(p, "198.18.7.11", "198.19.7.1", 43100, 443, sttl=50)
    t = ok.handshake(T0 + 300)
    ok.c(t + 0.001, PA, client_hello("blocked-by-ip.example"))
    ok.s(t + 0.03, PA, server_hello())
    ok.c(t + 1, TH_ACK | TH_FIN)
    ok.s(t + 1.01, TH_ACK | TH_FIN)
    ok.c(t + 1.02, TH_ACK)
    p.write(os.path.join(out, "closed_ports.pcap"))


def nmap(out):
    p = Pcap()
    open_ports = {22, 80, 443}
    for i in range(2000):
        port = i + 1
        t = T0 + i * 23.0 / 2000
        c = Tcp(p, "198.18.9.9", "198.19.9.9", 61000, port, cisn=10000 + i, sttl=60)
        c.c(t, TH_SYN)
        if port in open_ports:
            c.s(t + 0.001, TH_SYN | TH_ACK)
            c.c(t + 0.002, TH_RST, seq=10001 + i)
        elif port <= 1000:
            c.s(t + 0.001, TH_RST | TH_ACK, seq=0)
    p.records.sort(key=lambda r: r[0])
    p.write(os.path.join(out, "nmap.pcap"))


def midstream(out):
    p = Pcap()
    c = Tcp(p, "198.18.10.10", "198.19.10.1", 44000, 443, cisn=123456, sisn=654321)
    c.c(T0, PA, app_data(200))
    c.s(T0 + 0.02, PA, app_data(1200))
    c.c(T0 + 0.03, TH_ACK)
    c.c(T0 + 5, PA, alert(encrypted=True))
    c.c(T0 + 5.001, TH_ACK | TH_FIN)
    c.s(T0 + 5.02, TH_ACK)
    c.s(T0 + 5.021, TH_RST | TH_ACK)
    c.s(T0 + 5.022, TH_RST | TH_ACK)
    p.write(os.path.join(out, "midstream.pcap"))


def clock_jump(out):
    p = Pcap()
    c = Tcp(p, "198.18.11.10", "198.19.11.1", 45000, 443)
    back = 282970790.0
    c.c(T0, TH_SYN)
    t = T0 - back + 0.000044
    c.s(t, TH_SYN | TH_ACK)
    c.c(t + 0.0001, TH_ACK)
    c.c(t + 0.0002, PA, client_hello("jump.example"))
    c.s(t + 0.02, PA, server_hello())
    c.c(t + 0.5, TH_ACK | TH_FIN)
    c.s(t + 0.51, TH_ACK | TH_FIN)
    c.c(t + 0.52, TH_ACK)
    p.write(os.path.join(out, "clock_jump.pcap"))


def ldap_msgs():
    oid = b"1.3.6.1.4.1.1466.20037"
    req = b"\x02\x01\x01\x77" + bytes([len(oid) + 2]) + b"\x80" + bytes([len(oid)]) + oid
    res = b"\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00"
    return b"\x30" + bytes([len(req)]) + req, b"\x30" + bytes([len(res)]) + res


PROXY2 = (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([198, 18, 1, 10, 198, 19, 1, 1]) +
          struct.pack("!HH", 41001, 443))

# (name, server port, [(side, bytes)...] before the ClientHello, stalled?)
PREAMBLES = [
    ("smtp.example", 25, [("s", b"220 mx.example ESMTP\r\n"), ("c", b"EHLO c.example\r\n"),
                          ("s", b"250-mx.example\r\n250 STARTTLS\r\n"), ("c", b"STARTTLS\r\n"),
                          ("s", b"220 2.0.0 Ready to start TLS\r\n")], False),
    ("pop3.example", 110, [("s", b"+OK POP3 ready\r\n"), ("c", b"STLS\r\n"),
                           ("s", b"+OK Begin TLS\r\n")], False),
    ("imap.example", 143, [("s", b"* OK IMAP4rev1 ready\r\n"), ("c", b"a1 STARTTLS\r\n"),
                           ("s", b"a1 OK Begin TLS\r\n")], False),
    ("ftp.example", 21, [("s", b"220 FTP ready\r\n"), ("c", b"AUTH TLS\r\n"),
                         ("s", b"234 AUTH TLS OK.\r\n")], False),
    ("xmpp.example", 5222, [("c", b"<?xml version='1.0'?><stream:stream to='xmpp.example' version='1.0'>"),
                            ("s", b"<?xml version='1.0'?><stream:stream from='xmpp.example'><stream:features>"
                                  b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>"),
                            ("c", b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
                            ("s", b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")], False),
    ("ldap.example", 389, [("c", ldap_msgs()[0]), ("s", ldap_msgs()[1])], False),
    ("db.example", 5432, [("c", bytes([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])), ("s", b"S")], False),
    ("vpn.example", 8080, [("c", b"CONNECT vpn.example:443 HTTP/1.1\r\nHost: vpn.example:443\r\n\r\n"),
                           ("s", b"HTTP/1.1 200 Connection established\r\n\r\n")], True),
    ("kloop.kg", 1080, [("c", bytes([5, 1, 0])), ("s", bytes([5, 0])),
                        ("c", bytes([5, 1, 0, 3, 8]) + b"kloop.kg" + struct.pack("!H", 443)),
                        ("s", bytes([5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]))], False),
    ("socks4.example", 1081, [("c", bytes([4, 1, 1, 187, 0, 0, 0, 1, 0]) + b"socks4.example\0"),
                              ("s", bytes([0, 0x5a, 0, 0, 0, 0, 0, 0]))], False),
    ("proxy1.example", 8443, [("c", b"PROXY TCP4 198.18.1.10 198.19.1.1 41001 443\r\n")], False),
    ("proxy2.example", 8444, [("c", PROXY2)], False),
]


def preambles(out):
    p = Pcap()
    for i, (sni, port, steps, stalled) in enumerate(PREAMBLES):
        c = Tcp(p, "198.18.12.%d" % (10 + i), "198.19.12.1", 46000 + i, port)
        t = c.handshake(T0 + i * 20)
        for side, data in steps:
            t += 0.01
            (c.c if side == "c" else c.s)(t, PA, data)
        c.c(t + 0.01, PA, client_hello(sni))
        if stalled:  # the proxy ACKs the ClientHello, nothing comes back
            c.s(t + 0.03, TH_ACK)
            c.c(t + 8, TH_ACK | TH_FIN)
            c.s(t + 8.01, TH_ACK | TH_FIN)
            c.c(t + 8.02, TH_ACK)
            continue
        c.s(t + 0.03, PA, server_hello())
        c.c(t + 0.05, PA, app_data())
        c.c(t + 1, TH_ACK | TH_FIN)
        c.s(t + 1.01, TH_ACK | TH_FIN)
        c.c(t + 1.02, TH_ACK)
    p.write(os.path.join(out, "preambles.pcap"))


def der(tag, body):
    n = len(body)
    if n < 128:
        head = bytes([n])
    elif n < 256:
        head = b"\x81" + bytes([n])
    else:
        head = b"\x82" + struct.pack("!H", n)
    return bytes([tag]) + head + body


def oid(text):
    parts = [int(x) for x in text.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7F]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7F))
            v >>= 7
        out += bytes(reversed(enc))
    return der(0x06, out)


def mldsa_cert(cn):
    """A self-signed certificate whose key and signature are ML-DSA-65
    (NIST FIPS 204, OID 2.16.840.1.101.3.4.3.18); the key and signature
    bytes are filler of the right sizes: nothing can check them here."""
    alg = der(0x30, oid("2.16.840.1.101.3.4.3.18"))
    name = der(0x30, der(0x31, der(0x30, oid("2.5.4.3") + der(0x0C, cn.encode()))))
    validity = der(0x30, der(0x17, b"250101000000Z") + der(0x17, b"350101000000Z"))
    spki = der(0x30, alg + der(0x03, b"\0" + bytes(1952)))
    tbs = der(0x30, der(0xA0, der(0x02, b"\x02")) + der(0x02, b"\x01\x23") + alg + name +
              validity + name + spki)
    return der(0x30, tbs + alg + der(0x03, b"\0" + bytes(3309)))


def tls12_with_chain(p, cli, sni, chain, t0, cport):
    c = Tcp(p, cli, "198.19.13.1", cport, 443)
    t = c.handshake(t0)
    c.c(t + 0.001, PA, client_hello(sni, tls13=False))
    flight = server_hello(tls13=False, cipher=0xC02F) + certificate(chain) + server_hello_done()
    for i, seg in enumerate(segments(flight)):
        c.s(t + 0.03 + i * 0.0001, PA, seg)
    c.c(t + 0.05, TH_ACK)
    c.c(t + 1, TH_ACK | TH_FIN)
    c.s(t + 1.01, TH_ACK | TH_FIN)
    c.c(t + 1.02, TH_ACK)


def mldsa(out):
    p = Pcap()
    tls12_with_chain(p, "198.18.13.10", "pq.example", [mldsa_cert("pq.example")], T0, 47000)
    p.write(os.path.join(out, "mldsa.pcap"))


def clockless(out, certs):
    with open(os.path.join(certs, "leaf.der"), "rb") as f:
        leaf = f.read()
    with open(os.path.join(certs, "ca.der"), "rb") as f:
        ca = f.read()
    p = Pcap()
    tls12_with_chain(p, "198.18.14.10", "clockless.example", [leaf, ca], 86400 * 3.0, 48000)
    p.write(os.path.join(out, "clockless.pcap"))


def main():
    out = sys.argv[1]
    for make in (win_syn_retry, closed_ports, nmap, midstream, clock_jump, preambles, mldsa):
        make(out)
    if len(sys.argv) > 3 and sys.argv[2] == "--certs":
        clockless(out, sys.argv[3])


if __name__ == "__main__":
    main()
