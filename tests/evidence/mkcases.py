#!/usr/bin/python3
"""mkcases.py - craft the captures the evidence tier (-w) needs, into the
directory given.

    mkcases.py OUTDIR

Cases (file: what it shows):
  clock.pcap      a TLS stall whose client never closes and a SYN that is
                  never answered, then ordinary traffic 20 s later: the
                  verdicts are measured to the capture's clock, not to a
                  packet of their own (the file needs its clock marks)
  interleave.pcap a stall that begins first and is decided last, and a
                  reset flow inside it: capture order across flows
  capped.pcap     a stall with 40 ClientHello retransmissions and a FIN
                  (run with --pcap-flow-packets 8: cut, yet still a stall)
  ipv6.pcap       a stalled TLS flow over IPv6 (anonymised to /48)
  frag.pcap       a ClientHello in two IPv4 fragments, then a RST from the
                  censor: the datagram is kept whole (LINKTYPE_RAW)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "craft"))
from pcapcraft import (ETH_IPV4, Pcap, Tcp, TH_ACK, TH_FIN, TH_PSH, TH_RST, TH_SYN,  # noqa: E402
                       client_hello, ether, ipv4, server_hello, tcp)

T0 = 1732000000.0
PA = TH_ACK | TH_PSH


def ok_flow(p, t, cport, name="ok.example"):
    f = Tcp(p, "198.18.7.20", "198.19.7.9", cport, 443)
    t = f.handshake(t)
    f.c(t + 0.001, PA, client_hello(name))
    f.s(t + 0.02, PA, server_hello())
    f.c(t + 0.05, TH_ACK | TH_FIN)
    f.s(t + 0.06, TH_ACK | TH_FIN)
    f.c(t + 0.07, TH_ACK)


def clock(out):
    p = Pcap()
    st = Tcp(p, "198.18.7.10", "198.19.7.1", 41000, 443)
    t = st.handshake(T0)
    st.c(t + 0.001, PA, client_hello("stalled.example"))
    st.c(t + 0.2, PA, client_hello("stalled.example"), seq=st.cseq - 0)  # retransmission
    sy = Tcp(p, "198.18.7.10", "198.19.7.2", 41001, 443)
    sy.c(T0 + 1, TH_SYN)
    sy.c(T0 + 2, TH_SYN, seq=sy.cseq - 1)
    ok_flow(p, T0 + 20, 42000)
    p.records.sort(key=lambda r: r[0])
    p.write(os.path.join(out, "clock.pcap"))


def interleave(out):
    p = Pcap()
    a = Tcp(p, "198.18.7.11", "198.19.7.1", 41100, 443)
    t = a.handshake(T0)
    ch = client_hello("slow.example")
    a.c(t + 0.001, PA, ch)
    b = Tcp(p, "198.18.7.12", "198.19.7.3", 41101, 443)
    tb = b.handshake(T0 + 0.5)
    b.c(tb + 0.001, PA, client_hello("reset.example"))
    b.s(tb + 0.003, TH_RST | TH_ACK, ttl=64)
    for i in range(1, 6):
        a.c(t + 0.001 + 0.4 * (2 ** i), PA, ch, seq=a.cseq - len(ch))
    ok_flow(p, T0 + 30, 42001)
    p.records.sort(key=lambda r: r[0])
    p.write(os.path.join(out, "interleave.pcap"))


def capped(out):
    p = Pcap()
    a = Tcp(p, "198.18.7.13", "198.19.7.1", 41200, 443)
    t = a.handshake(T0)
    ch = client_hello("capped.example")
    a.c(t + 0.001, PA, ch)
    for i in range(40):
        a.c(t + 0.5 + 0.5 * i, PA, ch, seq=a.cseq - len(ch))
    a.c(t + 25, TH_ACK | TH_FIN)
    p.write(os.path.join(out, "capped.pcap"))


def ipv6(out):
    p = Pcap()
    a = Tcp(p, "2001:db8:7:1::10", "2001:db8:99::1", 41300, 443)
    t = a.handshake(T0)
    ch = client_hello("v6.example")
    a.c(t + 0.001, PA, ch)
    a.c(t + 0.3, PA, ch, seq=a.cseq - len(ch))
    a.c(t + 8, TH_ACK | TH_FIN)
    p.write(os.path.join(out, "ipv6.pcap"))


def frag(out):
    p = Pcap()
    cli, srv = "198.18.7.14", "198.19.7.4"
    a = Tcp(p, cli, srv, 41400, 443)
    t = a.handshake(T0)
    l4 = tcp(cli, srv, 41400, 443, a.cseq, a.sseq, PA, client_hello("frag.example"))
    whole = ipv4(cli, srv, 6, l4, ipid=777, flags_frag=0)
    hdr, body = whole[:20], whole[20:]
    cut = 96  # a multiple of 8
    for off, part, more in ((0, body[:cut], 0x2000), (cut, body[cut:], 0)):
        h = bytearray(ipv4(cli, srv, 6, part, ipid=777, flags_frag=more | (off // 8))[:20])
        p.add(t + 0.001 + off * 1e-6, ether(bytes(h) + part, ETH_IPV4))
    a.cseq += len(l4) - 20
    a.s(t + 0.004, TH_RST | TH_ACK, ttl=64)
    _ = hdr
    p.write(os.path.join(out, "frag.pcap"))


def main():
    out = sys.argv[1]
    for make in (clock, interleave, capped, ipv6, frag):
        make(out)


if __name__ == "__main__":
    main()
