/* decode.c - link, IP and transport header decoding of one captured frame.
 *
 * Follows IEEE 802.3 / 802.1Q / 802.1ad (Ethernet and VLAN tags), the
 * Linux cooked headers (libpcap LINKTYPE_LINUX_SLL, _SLL2), BSD loopback,
 * RFC 2516 section 4 (PPPoE session), RFC 3032 section 2.1 (MPLS label
 * stack), RFC 791 section 3.1 (IPv4 header), RFC 8200 sections 3-4 (IPv6
 * header and extension headers), RFC 4302 section 2.2 (AH length), RFC 6946
 * (atomic fragments), RFC 9293 section 3.1 (TCP header), RFC 7323 section
 * 2.2 (window scale) and RFC 768 (UDP).  Tunnels (GRE, ERSPAN, VXLAN,
 * GENEVE, GTP-U, CAPWAP, IP in IP) are unwrapped here, one header at a
 * time parsed by tunnel.c, until the user's packet is reached.
 *
 * A frame cut short by the capture (snaplen) and a frame whose fields
 * contradict each other are different outcomes: DEC_TRUNC_* for the first,
 * DEC_BAD_* for the second.  When all headers are present but the payload
 * was cut, the packet is still decoded and payload_truncated says so.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/dlt.h>
#include <string.h>

#include "cursor.h"
#include "decode.h"
#include "defrag.h"
#include "tunnel.h"

/* pcap files carry LINKTYPE_RAW (101); libpcap maps it to DLT_RAW, but a
 * caller handing us the file's own value must work too. */
#define LINKTYPE_RAW 101

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100       /* 802.1Q */
#define ETHERTYPE_QINQ 0x88a8       /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100   /* pre-standard QinQ */
#define ETHERTYPE_PPPOE_SESS 0x8864
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

/* BSD loopback address families: AF_INET6 differs between the BSDs. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

#define IP4_MF 0x2000
#define IP4_OFFMASK 0x1fff

#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_AH 51
#define IP6_NH_NONE 59
#define IP6_NH_DSTOPTS 60

/* Bounds on header chains.  Real traffic has at most two VLAN tags, a few
 * MPLS labels and two or three IPv6 extension headers; the bounds keep the
 * work per frame constant whatever the frame says. */
#define VLAN_MAX_TAGS 4
#define MPLS_MAX_LABELS 8
#define IPV6_MAX_EXT 8

/* What the link layer says the network layer is. */
enum l3_kind {
	L3_IPV4,
	L3_IPV6,
	L3_BY_VERSION, /* raw IP: the version nibble decides */
};

const char *decode_result_name(enum decode_result r)
{
	static const char *const names[DEC__COUNT] = { DECODE_RESULTS(ENUM_NAME) };
	return name_of(names, DEC__COUNT, r, "unknown");
}

bool decode_result_is_truncation(enum decode_result r)
{
	switch (r) {
	case DEC_TRUNC_LINK:
	case DEC_TRUNC_VLAN:
	case DEC_TRUNC_IP:
	case DEC_TRUNC_IPV6_EXT:
	case DEC_TRUNC_TCP:
	case DEC_TRUNC_UDP:
	case DEC_TRUNC_TUNNEL:
		return true;
	default:
		return false;
	}
}

bool decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

/* Dotted quad as inet_ntop(AF_INET) writes it, NULL when it does not fit.
 * By hand because every flow event writes two addresses and inet_ntop
 * goes through sprintf. */
static const char *ipv4_str(const uint8_t b[4], char *buf, size_t len)
{
	char tmp[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];
		if (i > 0)
			tmp[n++] = '.';
		if (v >= 100)
			tmp[n++] = (char)('0' + v / 100);
		if (v >= 10)
			tmp[n++] = (char)('0' + v / 10 % 10);
		tmp[n++] = (char)('0' + v % 10);
	}
	if (n >= len)
		return NULL;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

const char *ts_addr_str(const struct ts_addr *a, char *buf, size_t len)
{
	const char *s;

	if (buf == NULL || len == 0)
		return "";
	if (a->v4)
		s = ipv4_str(a->a + 12, buf, len);
	else
		s = inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
	if (s == NULL)
		buf[0] = '\0'; /* buffer too small: say nothing rather than garbage */
	return buf;
}

/* ---- link layer --------------------------------------------------------- */

/* An MPLS label stack (RFC 3032): labels until the bottom-of-stack bit, then
 * IP guessed from the version nibble, as there is no payload type field. */
static enum decode_result mpls_payload(struct cursor *c, enum l3_kind *kind)
{
	for (unsigned i = 0; i < MPLS_MAX_LABELS; i++) {
		uint32_t entry;
		uint8_t first;

		if (!cur_be32(c, &entry))
			return DEC_TRUNC_LINK;
		if (!(entry & 0x100))
			continue;
		if (!cur_peek_u8(c, 0, &first))
			return DEC_TRUNC_IP;
		if ((first >> 4) == 4)
			*kind = L3_IPV4;
		else if ((first >> 4) == 6)
			*kind = L3_IPV6;
		else
			return DEC_SKIP_NOT_IP; /* pseudowire or unknown payload */
		return DEC_OK;
	}
	return DEC_SKIP_NOT_IP;
}

/* PPPoE session stage (RFC 2516 section 4): 6-byte header, then the PPP
 * protocol number. */
static enum decode_result pppoe_payload(struct cursor *c, enum l3_kind *kind)
{
	uint16_t proto;

	if (!cur_skip(c, 6) || !cur_be16(c, &proto))
		return DEC_TRUNC_LINK;
	if (proto == PPP_IPV4)
		*kind = L3_IPV4;
	else if (proto == PPP_IPV6)
		*kind = L3_IPV6;
	else
		return DEC_SKIP_NOT_IP; /* LCP, IPCP, ... */
	return DEC_OK;
}

/* Follow an EtherType through VLAN tags (802.1Q, 802.1ad and the old
 * 0x9100 QinQ), PPPoE and MPLS to IPv4 or IPv6.  Used by Ethernet and by
 * both Linux cooked headers, which carry the same protocol numbers. */
static enum decode_result ethertype_payload(uint16_t type, struct cursor *c,
					    enum l3_kind *kind)
{
	for (unsigned tags = 0;; tags++) {
		switch (type) {
		case ETHERTYPE_IPV4:
			*kind = L3_IPV4;
			return DEC_OK;
		case ETHERTYPE_IPV6:
			*kind = L3_IPV6;
			return DEC_OK;
		case ETHERTYPE_PPPOE_SESS:
			return pppoe_payload(c, kind);
		case ETHERTYPE_MPLS:
		case ETHERTYPE_MPLS_MC:
			return mpls_payload(c, kind);
		case ETHERTYPE_VLAN:
		case ETHERTYPE_QINQ:
		case ETHERTYPE_QINQ_OLD:
			/* More tags than any real network stacks: give up
			 * rather than walk an attacker's tag chain. */
			if (tags >= VLAN_MAX_TAGS)
				return DEC_SKIP_NOT_IP;
			if (!cur_skip(c, 2) || !cur_be16(c, &type))
				return DEC_TRUNC_VLAN;
			break;
		default:
			return DEC_SKIP_NOT_IP; /* ARP, LLDP, 802.3 length, ... */
		}
	}
}

static enum decode_result link_ethernet(struct cursor *c, enum l3_kind *kind)
{
	uint16_t type;

	if (!cur_skip(c, 12) || !cur_be16(c, &type))
		return DEC_TRUNC_LINK;
	return ethertype_payload(type, c, kind);
}

/* Linux cooked v1: packet type, ARPHRD type, address length, 8 address
 * bytes, protocol. */
static enum decode_result link_sll(struct cursor *c, enum l3_kind *kind)
{
	uint16_t proto;

	if (!cur_skip(c, 14) || !cur_be16(c, &proto))
		return DEC_TRUNC_LINK;
	return ethertype_payload(proto, c, kind);
}

/* Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD type,
 * packet type, address length and 8 address bytes (20 bytes in all). */
static enum decode_result link_sll2(struct cursor *c, enum l3_kind *kind)
{
	uint16_t proto;

	if (!cur_be16(c, &proto) || !cur_skip(c, 18))
		return DEC_TRUNC_LINK;
	return ethertype_payload(proto, c, kind);
}

static enum decode_result bsd_family(uint32_t family, enum l3_kind *kind)
{
	switch (family) {
	case BSD_AF_INET:
		*kind = L3_IPV4;
		return DEC_OK;
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		*kind = L3_IPV6;
		return DEC_OK;
	default:
		return DEC_SKIP_NOT_IP;
	}
}

/* DLT_NULL stores the family in the capturing host's byte order, which the
 * reader cannot know; every valid family fits in 16 bits, so a value with
 * high bits set was written by a host of the other order. */
static enum decode_result link_null(struct cursor *c, enum l3_kind *kind)
{
	uint32_t family;

	if (!cur_le32(c, &family))
		return DEC_TRUNC_LINK;
	if (family & 0xffff0000u)
		family = ((family >> 24) & 0xff) | ((family >> 8) & 0xff00) |
			 ((family << 8) & 0xff0000) | (family << 24);
	return bsd_family(family, kind);
}

static enum decode_result link_loop(struct cursor *c, enum l3_kind *kind)
{
	uint32_t family;

	if (!cur_be32(c, &family))
		return DEC_TRUNC_LINK;
	return bsd_family(family, kind);
}

static enum decode_result decode_link(int dlt, struct cursor *c,
				      enum l3_kind *kind)
{
	switch (dlt) {
	case DLT_EN10MB:
		return link_ethernet(c, kind);
	case DLT_LINUX_SLL:
		return link_sll(c, kind);
	case DLT_LINUX_SLL2:
		return link_sll2(c, kind);
	case DLT_NULL:
		return link_null(c, kind);
	case DLT_LOOP:
		return link_loop(c, kind);
	case DLT_RAW:
	case LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		*kind = L3_BY_VERSION;
		return DEC_OK;
	default:
		return DEC_BAD_LINKTYPE;
	}
}

/* ---- transport ---------------------------------------------------------- */

/* Fixed headers are copied out through the cursor in one read (one length
 * check, not one per field) and their fields taken from the copy. */
static inline uint16_t be16_of(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t be32_of(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* TCP options (RFC 9293 section 3.2): only window scale (RFC 7323 section
 * 2.2) matters to us.  A malformed option list ends the walk but does not
 * reject the segment: the stack that receives it decides that, and we
 * still want to see the segment. */
static void tcp_options(struct cursor opts, struct ts_packet *pkt)
{
	uint8_t kind, len;

	while (cur_u8(&opts, &kind)) {
		if (kind == 0)
			return;         /* end of option list */
		if (kind == 1)
			continue;       /* no-operation */
		if (!cur_u8(&opts, &len) || len < 2 ||
		    cur_left(&opts) < (size_t)(len - 2))
			return;
		if (kind == 3 && len == 3) {
			uint8_t shift;

			if (cur_u8(&opts, &shift))
				pkt->tcp_opt_wscale = shift;
			continue;
		}
		cur_skip(&opts, (size_t)(len - 2));
	}
}

/* Fill the payload fields: `seg` holds the captured payload bytes (already
 * clamped to what the headers allow), `wire_len` what the headers claim. */
static void set_payload(struct ts_packet *pkt, const struct cursor *seg,
			uint32_t wire_len)
{
	pkt->payload = seg->p;
	pkt->payload_len = (uint32_t)cur_left(seg);
	pkt->payload_wire_len = wire_len;
	pkt->payload_truncated = pkt->payload_len < wire_len;
}

/* `seg` holds the captured part of the segment, `claimed` its length
 * according to the IP header (never less than cur_left(seg)).  A header
 * that does not fit in `claimed` is malformed; one that does but was not
 * captured is truncated. */
static enum decode_result decode_tcp(struct cursor seg, uint32_t claimed,
				     struct ts_packet *pkt)
{
	uint8_t h[20];
	uint32_t hlen;
	struct cursor opts;

	if (claimed < 20)
		return DEC_BAD_TCP_HLEN;
	if (!cur_bytes(&seg, h, sizeof(h)))
		return DEC_TRUNC_TCP;
	pkt->sport = be16_of(h);
	pkt->dport = be16_of(h + 2);
	pkt->seq = be32_of(h + 4);
	pkt->ack = be32_of(h + 8);
	pkt->tcp_flags = h[13];
	pkt->window = be16_of(h + 14);
	hlen = (uint32_t)(h[12] >> 4) * 4;
	if (hlen < 20 || hlen > claimed)
		return DEC_BAD_TCP_HLEN;
	if (!cur_sub(&seg, hlen - 20, &opts))
		return DEC_TRUNC_TCP;
	/* Window scale counts only in a SYN (RFC 7323 section 2.2); walking
	 * the options of every data segment (timestamps) is wasted work. */
	if (pkt->tcp_flags & TH_SYN)
		tcp_options(opts, pkt);
	set_payload(pkt, &seg, claimed - hlen);
	return DEC_OK;
}

/* UDP (RFC 768): the length field covers header and data and may not
 * exceed what IP carries; bytes IP carries beyond it are not UDP data. */
static enum decode_result decode_udp(struct cursor seg, uint32_t claimed,
				     struct ts_packet *pkt)
{
	uint16_t ulen;
	struct cursor data;

	if (claimed < 8)
		return DEC_BAD_UDP_LEN;
	if (!cur_be16(&seg, &pkt->sport) || !cur_be16(&seg, &pkt->dport) ||
	    !cur_be16(&seg, &ulen) || !cur_skip(&seg, 2))
		return DEC_TRUNC_UDP;
	if (ulen < 8 || ulen > claimed)
		return DEC_BAD_UDP_LEN;
	if (cur_left(&seg) > (size_t)(ulen - 8))
		cur_sub(&seg, (size_t)(ulen - 8), &data);
	else
		data = seg;
	set_payload(pkt, &data, ulen - 8u);
	return DEC_OK;
}

static enum decode_result decode_l4(uint8_t proto, struct cursor seg,
				    uint32_t claimed, struct ts_packet *pkt)
{
	pkt->proto = proto;
	pkt->l4 = seg.p;
	if (proto == IPPROTO_TCP)
		return decode_tcp(seg, claimed, pkt);
	if (proto == IPPROTO_UDP)
		return decode_udp(seg, claimed, pkt);
	/* GRE and IP in IP: the payload goes to the tunnel stage, which
	 * turns it into the inner packet or a reason (decode_tunnels). */
	if (proto == TUNNEL_PROTO_GRE || proto == TUNNEL_PROTO_IPIP ||
	    proto == TUNNEL_PROTO_IPV6) {
		set_payload(pkt, &seg, claimed);
		return DEC_OK;
	}
	return DEC_SKIP_PROTO;
}

/* ---- IPv4 ----------------------------------------------------------------- */

static void addr_set_v4(struct ts_addr *a, const uint8_t b[4])
{
	memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	memcpy(a->a + 12, b, 4);
	a->v4 = 1;
}

static enum decode_result decode_ipv4(struct cursor c, struct defrag *df,
				      struct ts_packet *pkt);

/* A fragment goes to the defragmenter; a completed datagram is decoded
 * again from the defragmenter's buffer.  `ip` holds the captured part of
 * the fragment (header + data, at most total length bytes). */
static enum decode_result ipv4_fragment(struct cursor ip, uint16_t tot_len,
					uint8_t proto, struct defrag *df,
					struct ts_packet *pkt)
{
	const uint8_t *whole;
	uint32_t whole_len;
	enum decode_result r;

	/* Without a defragmenter, and for protocols we do not analyse,
	 * holding fragments would only cost memory.  Tunnels count: ERSPAN
	 * or GRE copies of jumbo frames arrive fragmented. */
	if (df == NULL || (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
			   proto != TUNNEL_PROTO_GRE && proto != TUNNEL_PROTO_IPIP &&
			   proto != TUNNEL_PROTO_IPV6))
		return DEC_SKIP_PROTO;
	/* A fragment cut by the capture can never be reassembled. */
	if (cur_left(&ip) < tot_len)
		return DEC_TRUNC_IP;
	r = defrag_add(df, ip.p, (uint32_t)cur_left(&ip), pkt->ts_us, &whole,
		       &whole_len);
	if (r != DEC_OK)
		return r;
	pkt->defragmented = 1;
	/* No defragmenter on the second pass: the rebuilt datagram has
	 * offset 0 and MF clear, and must never loop back here. */
	return decode_ipv4(cur_make(whole, whole_len), NULL, pkt);
}

static enum decode_result decode_ipv4(struct cursor c, struct defrag *df,
				      struct ts_packet *pkt)
{
	const uint8_t *l3 = c.p;
	size_t avail = cur_left(&c);
	uint8_t vihl, proto, h[20];
	uint16_t tot_len, frag;
	uint32_t hlen, ip_len;
	struct cursor seg;

	if (!cur_peek_u8(&c, 0, &vihl))
		return DEC_TRUNC_IP;
	if ((vihl >> 4) != 4)
		return DEC_BAD_IP_VERSION;
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return DEC_BAD_IP_HLEN;
	if (avail < hlen)
		return DEC_TRUNC_IP;
	/* The header is all there: these cannot fail. */
	cur_bytes(&c, h, sizeof(h));
	cur_skip(&c, hlen - 20);          /* options: nothing we need */
	tot_len = be16_of(h + 2);
	pkt->ip_id = be16_of(h + 4);
	frag = be16_of(h + 6);
	pkt->ttl = h[8];
	proto = h[9];
	if (tot_len < hlen)
		return DEC_BAD_IP_LEN;

	/* Bytes past the total length are link padding; fewer bytes than it
	 * means the capture was cut (snaplen). */
	ip_len = avail < tot_len ? (uint32_t)avail : tot_len;
	pkt->l3 = l3;
	pkt->l3_len = ip_len;
	pkt->ip_version = 4;
	addr_set_v4(&pkt->src, h + 12);
	addr_set_v4(&pkt->dst, h + 16);

	if (frag & (IP4_MF | IP4_OFFMASK)) {
		pkt->proto = proto;
		return ipv4_fragment(cur_make(l3, ip_len), tot_len, proto, df,
				     pkt);
	}
	cur_sub(&c, ip_len - hlen, &seg);
	return decode_l4(proto, seg, tot_len - hlen, pkt);
}

/* ---- IPv6 ----------------------------------------------------------------- */

/* Length in bytes of the extension header at the cursor (RFC 8200 section
 * 4.3-4.6; AH counts 4-byte units, RFC 4302 section 2.2). */
static uint32_t ipv6_ext_len(uint8_t nh, uint8_t hdr_ext_len)
{
	if (nh == IP6_NH_FRAGMENT)
		return 8;
	if (nh == IP6_NH_AH)
		return ((uint32_t)hdr_ext_len + 2) * 4;
	return ((uint32_t)hdr_ext_len + 1) * 8;
}

/* Walk the extension header chain to TCP or UDP.  `p` holds the captured
 * payload, `claimed` the payload length of the IPv6 header. */
static enum decode_result ipv6_chain(uint8_t nh, struct cursor p,
				     uint32_t claimed, struct ts_packet *pkt)
{
	for (unsigned n = 0;; n++) {
		uint8_t next, hdr_ext_len;
		uint16_t frag = 0;
		uint32_t len;

		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_ROUTING:
		case IP6_NH_FRAGMENT:
		case IP6_NH_AH:
		case IP6_NH_DSTOPTS:
			break;
		case IP6_NH_NONE:
			return DEC_SKIP_PROTO;
		default:
			return decode_l4(nh, p, claimed, pkt);
		}
		if (n >= IPV6_MAX_EXT)
			return DEC_BAD_IPV6_EXT;
		if (claimed < 2)
			return DEC_BAD_IPV6_EXT;
		if (!cur_peek_u8(&p, 0, &next) ||
		    !cur_peek_u8(&p, 1, &hdr_ext_len))
			return DEC_TRUNC_IPV6_EXT;
		len = ipv6_ext_len(nh, hdr_ext_len);
		if (len > claimed)
			return DEC_BAD_IPV6_EXT;
		if (cur_left(&p) < len)
			return DEC_TRUNC_IPV6_EXT;
		if (nh == IP6_NH_FRAGMENT) {
			struct cursor f = p;

			cur_skip(&f, 2);
			cur_be16(&f, &frag);
			/* Real fragments are not reassembled; an atomic
			 * fragment (RFC 6946) is a whole datagram. */
			if (frag & 0xfff9)
				return DEC_SKIP_PROTO;
		}
		cur_skip(&p, len);
		claimed -= len;
		nh = next;
	}
}

static enum decode_result decode_ipv6(struct cursor c, struct ts_packet *pkt)
{
	const uint8_t *l3 = c.p;
	size_t avail = cur_left(&c);
	uint8_t vb, nh = 0;
	uint16_t plen = 0;
	uint32_t have;
	struct cursor p;

	if (!cur_peek_u8(&c, 0, &vb))
		return DEC_TRUNC_IP;
	if ((vb >> 4) != 6)
		return DEC_BAD_IP_VERSION;
	if (avail < 40)
		return DEC_TRUNC_IP;
	cur_skip(&c, 4);                  /* version, class, flow label */
	cur_be16(&c, &plen);
	cur_u8(&c, &nh);
	cur_u8(&c, &pkt->ttl);
	cur_bytes(&c, pkt->src.a, 16);
	cur_bytes(&c, pkt->dst.a, 16);

	have = cur_left(&c) < plen ? (uint32_t)cur_left(&c) : plen;
	pkt->l3 = l3;
	pkt->l3_len = 40 + have;
	pkt->ip_version = 6;
	cur_sub(&c, have, &p);
	return ipv6_chain(nh, p, plen, pkt);
}

/* ---- entry point -------------------------------------------------------- */

static enum decode_result decode_ip(enum l3_kind kind, struct cursor c,
				    struct defrag *df, struct ts_packet *pkt)
{
	uint8_t vb;

	if (kind == L3_BY_VERSION) {
		if (!cur_peek_u8(&c, 0, &vb))
			return DEC_TRUNC_IP;
		if ((vb >> 4) == 4)
			kind = L3_IPV4;
		else if ((vb >> 4) == 6)
			kind = L3_IPV6;
		else
			return DEC_BAD_IP_VERSION;
	}
	if (kind == L3_IPV4)
		return decode_ipv4(c, df, pkt);
	return decode_ipv6(c, pkt);
}

/* ---- tunnels (tunnel.c parses the headers) ------------------------------ */

/* What the capture said about the frame: time and lengths. */
static void packet_init(struct ts_packet *pkt, uint64_t ts_us, uint32_t caplen,
			uint32_t wirelen)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->ts_us = ts_us;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->tcp_opt_wscale = 0xff;
}

/* Decode the frame inside tunnel `t` into `pkt`, which starts afresh but
 * keeps the frame's time, lengths and the tunnels passed so far. */
static enum decode_result decode_inner(const struct tunnel *t,
				       struct defrag *df, struct ts_packet *pkt)
{
	struct ts_packet outer = *pkt;
	struct cursor c = t->frame;
	enum l3_kind kind = L3_BY_VERSION;
	enum decode_result r = DEC_OK;

	packet_init(pkt, outer.ts_us, outer.caplen, outer.wirelen);
	pkt->n_tunnels = outer.n_tunnels;
	memcpy(pkt->tunnel, outer.tunnel, sizeof(pkt->tunnel));
	/* Through decode_link: a second caller of link_ethernet would have
	 * the compiler take it out of line on the bare-frame path too. */
	if (t->inner == TUNNEL_INNER_ETHERNET)
		r = decode_link(DLT_EN10MB, &c, &kind);
	else if (t->inner == TUNNEL_INNER_ETHERTYPE)
		r = ethertype_payload(t->ethertype, &c, &kind);
	/* An inner frame shorter than its own headers say is a truncation,
	 * whether the capture cut it or the mirror did (ERSPAN's T bit, a
	 * VXLAN mirror's packet length): the same as a short snaplen. */
	if (r == DEC_OK)
		r = decode_ip(kind, c, df, pkt);
	return r;
}

/* A packet that carries a tunnel is replaced by the packet inside it, so a
 * remote mirror (ERSPAN, VXLAN, GENEVE, GRE) or an access network (GTP-U,
 * CAPWAP, IP in IP) yields the user's flows as a local mirror port would,
 * and the tunnel endpoints' own flow never appears.  Each layer is counted
 * in pkt->tunnel; nesting stops at TS_MAX_TUNNELS.  A UDP datagram on a
 * tunnel port that does not parse as that tunnel stays what it was.
 * Out of line so bare frames pay only decode_frame's check: inlined, it
 * made every bare frame's decode 9% dearer (callgrind). */
static __attribute__((noinline)) enum decode_result
decode_tunnels(struct ts_packet *pkt, struct defrag *df)
{
	for (;;) {
		struct tunnel t;
		enum decode_result r;

		switch (tunnel_parse(pkt, &t)) {
		case TUNNEL_FOUND:
			break;
		case TUNNEL_NONE:
			return pkt->proto == IPPROTO_UDP ? DEC_OK : DEC_SKIP_PROTO;
		case TUNNEL_TRUNCATED:
			return DEC_TRUNC_TUNNEL;
		case TUNNEL_BAD:
			return DEC_BAD_TUNNEL;
		case TUNNEL_UNDECODED:
		default:
			return DEC_SKIP_TUNNEL;
		}
		if (pkt->n_tunnels >= TS_MAX_TUNNELS)
			return DEC_SKIP_TUNNEL_DEPTH;
		pkt->tunnel[pkt->n_tunnels++] = (uint8_t)t.kind;
		/* A datagram rebuilt by df lives in df's buffer: no inner
		 * fragment may overwrite it, here or deeper down. */
		if (pkt->defragmented)
			df = NULL;
		r = decode_inner(&t, df, pkt);
		if (r != DEC_OK || pkt->proto == IPPROTO_TCP || !tunnel_carrier(pkt))
			return r;
	}
}

enum decode_result decode_frame(int dlt, const uint8_t *frame, uint32_t caplen,
				uint32_t wirelen, uint64_t ts_us,
				struct defrag *df, struct ts_packet *pkt)
{
	struct cursor c = cur_make(frame, caplen);
	enum l3_kind kind = L3_BY_VERSION;
	enum decode_result r;

	packet_init(pkt, ts_us, caplen, wirelen);
	r = decode_link(dlt, &c, &kind);
	if (r != DEC_OK)
		return r;
	r = decode_ip(kind, c, df, pkt);
	/* TCP, the bulk of the traffic, pays one comparison here. */
	if (r == DEC_OK && pkt->proto != IPPROTO_TCP && tunnel_carrier(pkt))
		r = decode_tunnels(pkt, df);
	return r;
}
