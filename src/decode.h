/* decode.h - link, network and transport decoding into a flat packet view.
 *
 * The decoder turns one captured frame into a struct ts_packet: addresses,
 * ports, TCP header fields and a pointer to the payload.  It never allocates
 * except through the IPv4 defragmenter it is handed, never reads outside the
 * frame, and reports why a frame was not decoded as one counted reason.
 */
#ifndef TS_DECODE_H
#define TS_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	uint8_t proto;        /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t tcp_flags;
	uint8_t defragmented; /* 1: rebuilt from IPv4 fragments */
	uint8_t payload_truncated; /* snaplen cut the transport payload */
	uint8_t encap;        /* 1: the inner packet of a GTP-U tunnel */
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

/* Why a frame did not produce a TCP/UDP packet.  Truncated (the capture
 * cut the frame short) and malformed (the bytes contradict themselves) are
 * different outcomes and counted separately. */
enum decode_result {
	DEC_OK = 0,
	DEC_FRAG_HELD,           /* IPv4 fragment stored, datagram not complete */
	DEC_SKIP_NOT_IP,         /* ARP, LLDP, ... */
	DEC_SKIP_PROTO,          /* IP but not TCP/UDP (ICMP, ESP, ...) */
	DEC_TRUNC_LINK,
	DEC_TRUNC_VLAN,
	DEC_TRUNC_IP,
	DEC_TRUNC_IPV6_EXT,
	DEC_TRUNC_TCP,
	DEC_TRUNC_UDP,
	DEC_BAD_LINKTYPE,
	DEC_BAD_IP_VERSION,
	DEC_BAD_IP_HLEN,
	DEC_BAD_IP_LEN,
	DEC_BAD_IPV6_EXT,
	DEC_BAD_TCP_HLEN,
	DEC_BAD_UDP_LEN,
	DEC_BAD_FRAG,            /* overlapping/oversized/inconsistent fragment */
	DEC_FRAG_CAP,            /* defragmenter full: fragment dropped, counted */
	DEC__COUNT
};

const char *decode_result_name(enum decode_result r);
bool decode_result_is_truncation(enum decode_result r);

/* Link types we decode (values of pcap's DLT_ / LINKTYPE_). */
bool decode_linktype_supported(int dlt);

struct defrag; /* defrag.h */

/* Decode one frame of link type `dlt`.  On DEC_OK `pkt` is filled; its
 * pointers point into `frame` or, for a reassembled datagram, into storage
 * owned by `df` that stays valid until the next call with the same `df`.
 * `df` may be NULL: fragments are then reported as DEC_SKIP_PROTO. */
enum decode_result decode_frame(int dlt, const uint8_t *frame, uint32_t caplen,
				uint32_t wirelen, uint64_t ts_us,
				struct defrag *df, struct ts_packet *pkt);

/* Format an address for output (inet_ntop style).  buf must hold 46 bytes. */
const char *ts_addr_str(const struct ts_addr *a, char *buf, size_t len);

#endif
