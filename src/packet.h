/* packet.h - the decoded packet: what every stage after decode reads (its
 * addresses, ports, TCP fields, payload) and why a frame gave none.  Its
 * own header so the decoder's helpers (defrag.c) share the vocabulary
 * without depending on the decoder. */
#ifndef TS_PACKET_H
#define TS_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* An address of either family.  IPv4 is stored as IPv4-mapped IPv6
 * (::ffff:a.b.c.d) so flow keys, hashing and MMDB lookups treat both the
 * same way; `v4` says which family was on the wire. */
struct ts_addr {
	uint8_t a[16];
	uint8_t v4; /* 1: IPv4 (bytes 12..15 hold it) */
};

/* TCP flag bits as on the wire (the same values <netinet/tcp.h> uses, so
 * either header may come first). */
#ifndef TH_FIN
#define TH_FIN 0x01
#endif
#ifndef TH_SYN
#define TH_SYN 0x02
#endif
#ifndef TH_RST
#define TH_RST 0x04
#endif
#ifndef TH_PUSH
#define TH_PUSH 0x08
#endif
#ifndef TH_ACK
#define TH_ACK 0x10
#endif
#ifndef TH_URG
#define TH_URG 0x20
#endif
#ifndef TH_ECE
#define TH_ECE 0x40
#endif
#ifndef TH_CWR
#define TH_CWR 0x80
#endif

/* Tunnels decode removes to reach the packet inside (tunnel.c), with the
 * names their counters have in the outputs. */
#define TUNNEL_KINDS(X) \
	X(TUN_GTPU, "gtpu")         /* 3GPP TS 29.281 G-PDU, UDP 2152 */ \
	X(TUN_VXLAN, "vxlan")       /* RFC 7348, UDP 4789 */ \
	X(TUN_GENEVE, "geneve")     /* RFC 8926, UDP 6081 */ \
	X(TUN_GRE, "gre")           /* RFC 2784/2890, IP protocol 47 (IP, Ethernet, MPLS inside) */ \
	X(TUN_ERSPAN1, "erspan1")   /* GRE 0x88BE without sequence number */ \
	X(TUN_ERSPAN2, "erspan2")   /* GRE 0x88BE, ERSPAN version 1 header */ \
	X(TUN_ERSPAN3, "erspan3")   /* GRE 0x22EB, ERSPAN version 2 header */ \
	X(TUN_IPIP, "ipip")         /* RFC 2003, RFC 4213, RFC 2473: IP protocols 4 and 41 */ \
	X(TUN_CAPWAP, "capwap")     /* RFC 5415/5416 data channel, UDP 5247 */

enum tunnel_kind {
	TUNNEL_KINDS(ENUM_ID)
	TUN__COUNT
};

/* Tunnels removed from one frame at most.  Real mirrors nest two or three
 * (ERSPAN, then GTP-U inside the mirrored frame); the bound keeps the work
 * per frame constant whatever the frame says. */
#define TS_MAX_TUNNELS 4

struct ts_packet {
	uint64_t ts_us;       /* capture time, microseconds since the epoch */
	uint32_t caplen;      /* bytes captured of this frame */
	uint32_t wirelen;     /* bytes on the wire */
	const uint8_t *l3;    /* first byte of the IP header (for nDPI) */
	uint32_t l3_len;      /* IP header + payload bytes available at l3 */
	const uint8_t *l4;    /* first byte of the TCP/UDP header (evidence rewrites its checksum) */
	uint8_t ip_version;   /* 4 or 6 */
	uint8_t ttl;          /* IPv4 TTL / IPv6 hop limit */
	uint16_t ip_id;       /* IPv4 identification (0 for IPv6) */
	uint8_t proto;        /* IPPROTO_TCP or IPPROTO_UDP (inside decode also a
				 tunnel's IP protocol: 4, 41, 47) */
	uint8_t tcp_flags;
	uint8_t defragmented; /* 1: rebuilt from IPv4 fragments */
	uint8_t payload_truncated; /* snaplen cut the transport payload */
	uint8_t n_tunnels;    /* tunnel headers removed to reach this packet */
	uint8_t tunnel[TS_MAX_TUNNELS]; /* their kinds (enum tunnel_kind), outermost first */
	struct ts_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;    /* TCP only */
	uint16_t window;      /* TCP only, unscaled */
	uint8_t tcp_opt_wscale; /* window scale option of a SYN segment (RFC 7323
				   section 2.2: it counts only there), 0xff if absent */
	const uint8_t *payload;
	uint32_t payload_len; /* bytes of payload present in the capture */
	uint32_t payload_wire_len; /* payload length claimed by the headers */
};

/* Why a frame did not produce a TCP/UDP packet, with the name its counter
 * has in the outputs.  Truncated (the capture cut the frame short) and
 * malformed (the bytes contradict themselves) are different outcomes and
 * counted separately. */
#define DECODE_RESULTS(X) \
	X(DEC_OK, "ok") \
	X(DEC_FRAG_HELD, "frag_held")       /* IPv4 fragment stored, datagram not complete */ \
	X(DEC_SKIP_NOT_IP, "not_ip")        /* ARP, LLDP, ... */ \
	X(DEC_SKIP_PROTO, "other_proto")    /* IP but not TCP/UDP (ICMP, ESP, ...) */ \
	X(DEC_TRUNC_LINK, "truncated_link") \
	X(DEC_TRUNC_VLAN, "truncated_vlan") \
	X(DEC_TRUNC_IP, "truncated_ip") \
	X(DEC_TRUNC_IPV6_EXT, "truncated_ipv6_ext") \
	X(DEC_TRUNC_TCP, "truncated_tcp") \
	X(DEC_TRUNC_UDP, "truncated_udp") \
	X(DEC_BAD_LINKTYPE, "bad_linktype") \
	X(DEC_BAD_IP_VERSION, "bad_ip_version") \
	X(DEC_BAD_IP_HLEN, "bad_ip_hlen") \
	X(DEC_BAD_IP_LEN, "bad_ip_len") \
	X(DEC_BAD_IPV6_EXT, "bad_ipv6_ext") \
	X(DEC_BAD_TCP_HLEN, "bad_tcp_hlen") \
	X(DEC_BAD_UDP_LEN, "bad_udp_len") \
	X(DEC_BAD_FRAG, "bad_frag")         /* overlapping/oversized/inconsistent fragment */ \
	X(DEC_FRAG_CAP, "frag_cap")         /* defragmenter full: fragment dropped, counted */ \
	X(DEC_TRUNC_TUNNEL, "truncated_tunnel") /* the capture cut a tunnel header short */ \
	X(DEC_BAD_TUNNEL, "bad_tunnel")     /* a tunnel header contradicts itself or its carrier */ \
	X(DEC_SKIP_TUNNEL, "tunnel_not_decoded") /* PPTP GRE, CAPWAP DTLS/fragments, encrypted 802.11, ... */ \
	X(DEC_SKIP_TUNNEL_DEPTH, "tunnel_too_deep") /* more than TS_MAX_TUNNELS tunnels nested */

enum decode_result {
	DECODE_RESULTS(ENUM_ID)
	DEC__COUNT
};

#endif
