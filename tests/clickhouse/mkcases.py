#!/usr/bin/python3
"""mkcases.py - the report's rules the committed lab captures do not reach, for the clickhouse
tier: one capture, cases.pcap, in the directory given.  Clients on 198.18.1.0/24 (net A, AS9198
in the tier's database), 198.18.2.0/24 (net B, AS21299) and 198.18.3.0/24 (net C, AS64496), one
resolver; the tier splits the capture by network across two sensors (s1: A; s2: B and C), so only
the merged data sees the networks side by side.  With lab-quic (same networks, same server).

DNS errors across networks (report.h "DNS errors", conclude_dns_errors):
  gone.example     A: NXDOMAIN x3              C: ok       blocked on A, method dns_error
  mixed.example    A: NXDOMAIN x2, SERVFAIL,   C: ok x2    blocked on A, method dns_error
                      dns_timeout, ok                      (a' = 4/5, c = 3/4, S = 5/7)
  nowhere.example  A: NXDOMAIN x3              C: NXDOMAIN x2   a name that fails everywhere:
                                                                 not blocked
  tie.example      A: NXDOMAIN x2,             C: ok       dns_error half the failures
                      dns_timeout x2                       (c = 2/4): inconclusive, dns_timeout
  few.example      A: NXDOMAIN x2              C: ok       too few flows: not blocked
The method's ties (the first interference verdict in verdict order):
  tied.example     A: dns_injection x2,        C: ok       inconclusive, dns_injection
                      dns_timeout x2
QUIC next to TLS over TCP (conclude_transports), with lab-quic's quic-news.example flows:
  quic-news.example  A: NXDOMAIN x5 (with lab-quic's 3 quic_stall and 3 TLS-over-TCP ok flows on
                   A, ok on C): QUIC-only blocked comes first; the DNS errors alone would pass
                   their rule (k = 3, e = 5, m = 11), but the pair is blocked already
                     B: one more tls_stall (with lab-quic's 3 tls_stall and 3 quic_stall on B):
                   both transports blocked, TLS over TCP's a * c * S (4/6) above QUIC's (3/5):
                   the confidence is the lower, QUIC's
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "craft"))
from pcapcraft import Pcap, Tcp, frame, udp, dns_msg, client_hello, TH_ACK, TH_PSH  # noqa: E402

R = "198.19.5.53"
NET = {"A": "198.18.1.40", "B": "198.18.2.40", "C": "198.18.3.40"}
T0 = 1700000000.0
NXDOMAIN, SERVFAIL = 3, 2


class Txns:
    def __init__(self, p):
        self.p, self.t, self.port, self.qid, self.ipid = p, T0, 41000, 1, 5000

    def one(self, net, name, answer, forged=None):
        """answer: an address (ok), an rcode (error) or None (no response); forged: an address
        answered first by another box (IP TTL 50, the resolver's 60), racing the answer."""
        c = NET[net]
        self.p.add(self.t, frame(c, R, 17, udp(c, R, self.port, 53, dns_msg(self.qid, name)), 64, self.qid))
        if forged is not None:
            msg = dns_msg(self.qid, name, qr=True, answers=[(1, 300, forged)])
            self.p.add(self.t + 0.005, frame(R, c, 17, udp(R, c, 53, self.port, msg), 50, 30000 + self.qid))
        if answer is not None:
            rcode, ans = (answer, []) if isinstance(answer, int) else (0, [(1, 300, answer)])
            msg = dns_msg(self.qid, name, qr=True, rcode=rcode, answers=ans)
            self.p.add(self.t + 0.02, frame(R, c, 17, udp(R, c, 53, self.port, msg), 60, self.ipid))
            self.ipid += 1
        self.t += 0.25
        self.port += 1
        self.qid += 1

    def tls_stall(self, net, name, server):
        """A ClientHello the server's stack acknowledges, and no TLS byte after it."""
        c = Tcp(self.p, NET[net], server, self.port, 443)
        t = c.handshake(self.t)
        c.c(t + 0.001, TH_PSH | TH_ACK, client_hello(sni=name))
        c.s(t + 0.011, TH_ACK)
        self.t += 0.25
        self.port += 1


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    p = Pcap()
    x = Txns(p)
    for _ in range(3):
        x.one("A", "gone.example", NXDOMAIN)
    x.one("C", "gone.example", "198.19.7.1")
    for a in (NXDOMAIN, NXDOMAIN, SERVFAIL, None, "198.19.7.2"):
        x.one("A", "mixed.example", a)
    x.one("C", "mixed.example", "198.19.7.2")
    x.one("C", "mixed.example", "198.19.7.2")
    for _ in range(3):
        x.one("A", "nowhere.example", NXDOMAIN)
    for _ in range(2):
        x.one("C", "nowhere.example", NXDOMAIN)
    for a in (NXDOMAIN, NXDOMAIN, None, None):
        x.one("A", "tie.example", a)
    x.one("C", "tie.example", "198.19.7.3")
    for _ in range(2):
        x.one("A", "few.example", NXDOMAIN)
    x.one("C", "few.example", "198.19.7.4")
    for forged in ("198.19.9.9", None, "198.19.9.9", None):
        x.one("A", "tied.example", "198.19.7.6" if forged else None, forged)
    x.one("C", "tied.example", "198.19.7.6")
    for _ in range(5):
        x.one("A", "quic-news.example", NXDOMAIN)
    x.tls_stall("B", "quic-news.example", "198.19.1.1")
    # every network's packets go on well after the unanswered queries' and the stall's window
    x.t += 5
    for net in ("A", "B", "C"):
        x.one(net, "later.example", "198.19.7.5")
    p.write(os.path.join(out, "cases.pcap"))


if __name__ == "__main__":
    main()
