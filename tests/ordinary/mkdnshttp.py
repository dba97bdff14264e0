#!/usr/bin/python3
"""mkdnshttp.py - ordinary DNS and HTTP traffic that a careless detector calls injection or a block page:
one capture, ordinary-dnshttp.pcap, in the directory given.  Every transaction and flow in it is ordinary:

  A and AAAA from one socket (glibc), the AAAA answered with no data
  a query retransmitted and both copies answered, rotated and with the TTL counted down (a caching resolver)
  a query retransmitted and the copies answered with different address sets by a load-balanced resolver
  a CNAME chain to a CDN; NXDOMAIN for a typo; a private address for a local name (split horizon)
  a truncated (TC) UDP answer and the TCP retry, its length prefix split across segments
  a duplicate answer long after the query (unmatched, counted)
  HTTP: 200 over keep-alive (two requests), 301 to https, 404, a response in two segments, HEAD
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "craft"))
from pcapcraft import (Pcap, Tcp, frame, udp, dns_msg, http_get, http_response,  # noqa: E402
                       TH_SYN, TH_ACK, TH_PSH, TH_FIN)

C, R = "198.18.50.10", "198.19.50.53"
T0 = 1700000000.0


def q(p, t, port, qid, name, qtype=1, ipid=100):
    p.add(t, frame(C, R, 17, udp(C, R, port, 53, dns_msg(qid, name, qtype=qtype, edns=1232)), 64, ipid))


def a(p, t, port, qid, name, answers, qtype=1, rcode=0, ipid=2000, tc=False):
    p.add(t, frame(R, C, 17, udp(R, C, 53, port, dns_msg(qid, name, qtype=qtype, qr=True, rcode=rcode,
                                                          answers=answers, tc=tc)), 58, ipid))


def dns_cases(p):
    t = T0
    q(p, t, 40001, 11, "www.kloop.kg"); q(p, t + 0.0001, 40001, 12, "www.kloop.kg", qtype=28)
    a(p, t + 0.02, 40001, 11, "www.kloop.kg", [(1, 300, "198.18.60.1")], ipid=2001)
    a(p, t + 0.021, 40001, 12, "www.kloop.kg", [], qtype=28, ipid=2002)
    t += 1
    q(p, t, 40002, 21, "news.kz"); q(p, t + 1.0, 40002, 21, "news.kz")
    a(p, t + 1.01, 40002, 21, "news.kz", [(1, 120, "198.18.60.2"), (1, 120, "198.18.60.3")], ipid=2003)
    a(p, t + 1.02, 40002, 21, "news.kz", [(1, 119, "198.18.60.3"), (1, 119, "198.18.60.2")], ipid=2004)
    t += 3
    q(p, t, 40003, 31, "cdn.example.org"); q(p, t + 1.0, 40003, 31, "cdn.example.org")
    a(p, t + 1.01, 40003, 31, "cdn.example.org", [(1, 20, "198.18.61.1")], ipid=2005)
    a(p, t + 1.03, 40003, 31, "cdn.example.org", [(1, 20, "198.18.61.2")], ipid=2006)
    t += 3
    q(p, t, 40004, 41, "www.bank.kz")
    a(p, t + 0.03, 40004, 41, "www.bank.kz", [(5, 300, "bank.cdn.net.kz"), (1, 60, "198.18.62.1")], ipid=2007)
    q(p, t + 0.1, 40005, 42, "www.goggle.kz")
    a(p, t + 0.13, 40005, 42, "www.goggle.kz", [], rcode=3, ipid=2008)
    q(p, t + 0.2, 40006, 43, "printer.lan")
    a(p, t + 0.21, 40006, 43, "printer.lan", [(1, 0, "192.168.1.20")], ipid=2009)
    t += 1
    q(p, t, 40007, 51, "big.kz", qtype=16)
    a(p, t + 0.02, 40007, 51, "big.kz", [], qtype=16, tc=True, ipid=2010)
    c = Tcp(p, C, R, 40008, 53, sttl=58)
    tt = c.handshake(t + 0.03)
    msg = dns_msg(52, "big.kz", qtype=16)
    wire = len(msg).to_bytes(2, "big") + msg
    c.c(tt, TH_PSH | TH_ACK, wire[:1]); c.c(tt + 0.001, TH_PSH | TH_ACK, wire[1:])
    ans = dns_msg(52, "big.kz", qtype=16, qr=True, answers=[(16, 300, b"\x05hello" * 100)])
    c.s(tt + 0.02, TH_PSH | TH_ACK, len(ans).to_bytes(2, "big") + ans)
    c.c(tt + 0.03, TH_FIN | TH_ACK); c.s(tt + 0.04, TH_FIN | TH_ACK); c.c(tt + 0.05, TH_ACK)
    t += 1
    q(p, t, 40009, 61, "late.kz")
    a(p, t + 0.02, 40009, 61, "late.kz", [(1, 300, "198.18.62.9")], ipid=2011)
    a(p, t + 9.0, 40009, 61, "late.kz", [(1, 300, "198.18.62.9")], ipid=2012)
    return t + 10


def http_cases(p, t):
    c = Tcp(p, C, "198.18.60.1", 50001, 80, sttl=58)
    tt = c.handshake(t)
    c.c(tt, TH_PSH | TH_ACK, http_get("www.kloop.kg"))
    c.s(tt + 0.03, TH_PSH | TH_ACK, http_response(200, "OK", [("Server", "nginx")], b"<html>news</html>"))
    c.c(tt + 0.05, TH_PSH | TH_ACK, http_get("www.kloop.kg", "/about"))
    c.s(tt + 0.08, TH_PSH | TH_ACK, http_response(200, "OK", [("Server", "nginx")], b"<html>about</html>"))
    c.c(tt + 0.1, TH_FIN | TH_ACK); c.s(tt + 0.11, TH_FIN | TH_ACK); c.c(tt + 0.12, TH_ACK)
    c = Tcp(p, C, "198.18.62.1", 50002, 80, sttl=58)
    tt = c.handshake(t + 1)
    c.c(tt, TH_PSH | TH_ACK, http_get("www.bank.kz"))
    c.s(tt + 0.03, TH_PSH | TH_ACK, http_response(301, "Moved Permanently", [("Location", "https://www.bank.kz/")]))
    c.c(tt + 0.05, TH_FIN | TH_ACK); c.s(tt + 0.06, TH_FIN | TH_ACK); c.c(tt + 0.07, TH_ACK)
    c = Tcp(p, C, "198.18.60.2", 50003, 80, sttl=58)
    tt = c.handshake(t + 2)
    c.c(tt, TH_PSH | TH_ACK, http_get("news.kz", "/missing"))
    resp = http_response(404, "Not Found", [("Server", "Apache")], b"<title>404 Not Found</title>" + b"x" * 900)
    c.s(tt + 0.03, TH_ACK, resp[:700]); c.s(tt + 0.031, TH_PSH | TH_ACK, resp[700:])
    c.c(tt + 0.05, TH_FIN | TH_ACK); c.s(tt + 0.06, TH_FIN | TH_ACK); c.c(tt + 0.07, TH_ACK)
    c = Tcp(p, C, "198.18.60.3", 50004, 80, sttl=58)
    tt = c.handshake(t + 3)
    c.c(tt, TH_PSH | TH_ACK, b"HEAD / HTTP/1.1\r\nHost: news.kz\r\n\r\n")
    c.s(tt + 0.03, TH_PSH | TH_ACK, b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n")
    c.c(tt + 0.05, TH_FIN | TH_ACK); c.s(tt + 0.06, TH_FIN | TH_ACK); c.c(tt + 0.07, TH_ACK)


def main():
    p = Pcap()
    http_cases(p, dns_cases(p))
    p.records.sort(key=lambda r: r[0])
    p.write(os.path.join(sys.argv[1], "ordinary-dnshttp.pcap"))


if __name__ == "__main__":
    main()
