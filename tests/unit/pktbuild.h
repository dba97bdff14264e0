/* pktbuild.h - build test frames (Ethernet/VLAN/cooked/loopback, IPv4 with
 * options and fragments, IPv6 with extension headers, TCP, UDP) and write
 * classic pcap files.  Test helper, libc only.
 *
 * Every builder writes into a caller buffer of `cap` bytes and returns the
 * number of bytes written, or 0 when the buffer is too small or an argument
 * is invalid (bad address text, lengths that do not fit).  Lengths and
 * checksums in the headers it writes are correct.
 */
#ifndef TS_PKTBUILD_H
#define TS_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* TCP flag bits (same values as TH_* in decode.h). */
enum {
	PB_FIN = 0x01,
	PB_SYN = 0x02,
	PB_RST = 0x04,
	PB_PSH = 0x08,
	PB_ACK = 0x10,
};

/* Ethernet type / TPID values for pb_vlan_insert. */
#define PB_TPID_8021Q 0x8100
#define PB_TPID_8021AD 0x88a8
#define PB_TPID_QINQ_OLD 0x9100

/* One TCP segment.  src/dst are IPv4 or IPv6 text; the family follows the
 * text (both must agree).  ttl 0 means 64, win 0 means 0. */
struct pb_tcp {
	const char *src, *dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t ttl;
	uint16_t ipid;
	const uint8_t *payload;
	size_t len;
	/* Optional raw TCP options (at most 40 bytes), padded with EOL to a
	 * multiple of 4.  Leave NULL/0 for none. */
	const uint8_t *opts;
	size_t opts_len;
};

/* ---- IP datagrams (no link header) ---------------------------------------- */

size_t pb_ip_tcp(uint8_t *buf, size_t cap, const struct pb_tcp *t);
size_t pb_ip_udp(uint8_t *buf, size_t cap, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport, const uint8_t *payload,
		 size_t len);
/* An IP datagram of protocol `proto` (GRE, IP in IP, ...) around `payload`
 * (which must not overlap buf). */
size_t pb_ip_proto(uint8_t *buf, size_t cap, const char *src, const char *dst,
		   uint8_t proto, const uint8_t *payload, size_t len);

/* ---- Ethernet frames ---------------------------------------------------- */

size_t pb_eth_tcp(uint8_t *buf, size_t cap, const struct pb_tcp *t);
size_t pb_eth_udp(uint8_t *buf, size_t cap, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport, const uint8_t *payload,
		  size_t len);

/* Put an Ethernet header in front of an IP datagram (EtherType from its
 * version nibble). */
size_t pb_eth_wrap(uint8_t *buf, size_t cap, const uint8_t *ip, size_t len);

/* Put the link header of pcap link type `dlt` in front of an IP datagram:
 * DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW/101, DLT_IPV4,
 * DLT_IPV6, DLT_NULL (host byte order), DLT_LOOP.  0 for other types. */
size_t pb_link_wrap(uint8_t *buf, size_t cap, int dlt, const uint8_t *ip,
		    size_t len);

/* Insert a VLAN tag (tpid, vid) after the MAC addresses of the Ethernet
 * frame of `len` bytes in `frame`; returns the new length.  For QinQ insert
 * the inner 802.1Q tag first, then the outer 802.1ad tag. */
size_t pb_vlan_insert(uint8_t *frame, size_t cap, size_t len, uint16_t tpid,
		      uint16_t vid);

/* ---- IPv4 options and fragments ------------------------------------------ */

/* Insert IPv4 options (padded with EOL to a multiple of 4, at most 40
 * bytes) into the datagram of `len` bytes in `ip`; returns the new length. */
size_t pb_ipv4_add_options(uint8_t *ip, size_t cap, size_t len,
			   const uint8_t *opts, size_t opts_len);

/* One fragment of the whole IPv4 datagram `ip` (`len` bytes): payload bytes
 * [offset_bytes, offset_bytes + frag_len) with MF = more.  offset_bytes must
 * be a multiple of 8.  DF is cleared. */
size_t pb_ipv4_fragment(uint8_t *buf, size_t cap, const uint8_t *ip,
			size_t len, size_t offset_bytes, size_t frag_len,
			int more);

/* ---- IPv6 extension headers --------------------------------------------- */

/* Insert an extension header of type `type` (0 hop-by-hop, 43 routing, 60
 * destination options: total size `size` bytes, a multiple of 8 >= 8; 51
 * AH: a multiple of 4 >= 12) right after the fixed IPv6 header of the
 * datagram of `len` bytes in `ip6`.  The body is zero (Pad1/PadN-valid
 * padding).  Build a chain by inserting the innermost header first.
 * Returns the new length. */
size_t pb_ipv6_add_ext(uint8_t *ip6, size_t cap, size_t len, uint8_t type,
		       size_t size);

/* Insert an IPv6 fragment header (offset in 8-byte units, M flag, id). */
size_t pb_ipv6_add_frag(uint8_t *ip6, size_t cap, size_t len,
			uint16_t offset8, int more, uint32_t id);

/* ---- connections ---------------------------------------------------------- */

/* A TCP connection whose sequence numbers advance by themselves: each
 * segment takes the sender's next sequence number and, with ACK set,
 * acknowledges everything the other side sent so far. */
struct pb_conn {
	const char *cli, *srv;
	uint16_t cport, sport;
	uint32_t cseq, sseq;    /* next sequence number each side sends */
	uint8_t cttl, sttl;     /* 0 means 64 */
	uint16_t cipid, sipid;  /* IP id of the next packet, incremented */
	uint16_t win;           /* 0 means 65535 */
};

void pb_conn_init(struct pb_conn *c, const char *cli, uint16_t cport,
		  const char *srv, uint16_t sport, uint32_t cisn,
		  uint32_t sisn);

/* One Ethernet frame of the connection; from_server picks the direction. */
size_t pb_conn_eth(struct pb_conn *c, int from_server, uint8_t flags,
		   const uint8_t *payload, size_t len, uint8_t *buf,
		   size_t cap);

/* ---- classic pcap files (microsecond magic, snaplen 262144) ------------- */

FILE *pb_pcap_open(const char *path, int linktype);
/* One whole frame.  0 on success, -1 on error. */
int pb_pcap_write(FILE *f, uint64_t ts_us, const uint8_t *frame, size_t len);
/* A frame cut by the snaplen: caplen bytes stored, wirelen on the wire. */
int pb_pcap_write_snap(FILE *f, uint64_t ts_us, const uint8_t *frame,
		       size_t caplen, size_t wirelen);
/* A record header claiming `len` bytes followed by only `written` of them,
 * as in a capture file cut mid-packet (write it last). */
int pb_pcap_write_cut(FILE *f, uint64_t ts_us, const uint8_t *frame,
		      size_t len, size_t written);
int pb_pcap_close(FILE *f);

#endif
