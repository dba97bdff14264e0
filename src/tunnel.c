/* tunnel.c - tunnel headers around mirrored and access-network traffic.
 *
 * Follows RFC 7348 section 5 (VXLAN), RFC 8926 section 3 (GENEVE), RFC
 * 2784 section 2 and RFC 2890 section 2 (GRE, key and sequence number),
 * RFC 2637 section 4.1 (PPTP's enhanced GRE, recognised, not decoded),
 * draft-foschiano-erspan-03 (ERSPAN types I, II and III headers),
 * RFC 2003 (IPv4 in IPv4), RFC 4213 section 3.5 (IPv6 in IPv4), RFC 2473
 * (IPv4 and IPv6 in IPv6), RFC 5415 sections 4.1 and 4.3 (CAPWAP preamble
 * and header), RFC 5416 (its IEEE 802.11 binding) with IEEE 802.11-2020
 * clause 9 (data frame format) and RFC 1042 (LLC/SNAP), and 3GPP TS
 * 29.281 section 5 (GTP-U).
 *
 * Each parser reads one header through a bounds-checked cursor.  Bytes the
 * carrier claims but the capture cut are a truncation; a carrier too short
 * for the header it claims to carry is malformed, except on a UDP port,
 * where a datagram too short for the tunnel is simply not a tunnel.
 */

#include <string.h>

#include "tunnel.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_TEB 0x6558      /* transparent Ethernet bridging */
#define ETHERTYPE_ERSPAN12 0x88be /* ERSPAN types I and II */
#define ETHERTYPE_ERSPAN3 0x22eb  /* ERSPAN type III */

#define GRE_C 0x8000      /* checksum present */
#define GRE_R 0x4000      /* RFC 1701 routing present */
#define GRE_K 0x2000      /* key present (RFC 2890) */
#define GRE_S 0x1000      /* sequence number present (RFC 2890) */
#define GRE_SSR 0x0800    /* RFC 1701 strict source route */
#define GRE_RECUR5 0x0400 /* RFC 1701 recursion control, top bit */
#define GRE_VERSION 0x0007
#define GRE_VERSION_PPTP 1

#define ERSPAN3_O 0x0001     /* an 8-byte platform-specific subheader follows */
#define ERSPAN3_FT_ETHERNET 0
#define ERSPAN3_FT_IP 2

#define VXLAN_I 0x08

#define CAPWAP_T 0x00000100u /* native frame of the WBID (else 802.3) */
#define CAPWAP_F 0x00000080u /* fragment */
#define CAPWAP_K 0x00000008u /* keep-alive: no user frame */
#define CAPWAP_WBID_80211 1

#define GTPU_MAX_EXT 8 /* extension headers followed; more is not plausible */

const char *tunnel_kind_name(enum tunnel_kind k)
{
	static const char *const names[TUN__COUNT] = { TUNNEL_KINDS(ENUM_NAME) };
	return name_of(names, TUN__COUNT, k, "unknown");
}

/* Are the first `need` bytes of the header at `c` there?  `claimed` is
 * how many bytes the carrier says follow c's start.  TUNNEL_FOUND when they
 * were captured, TUNNEL_TRUNCATED when the carrier claims them but the
 * capture cut them, `too_short` when the carrier itself is shorter. */
static enum tunnel_status have(const struct cursor *c, uint32_t claimed,
			       size_t need, enum tunnel_status too_short)
{
	if (claimed < need)
		return too_short;
	if (cur_left(c) < need)
		return TUNNEL_TRUNCATED;
	return TUNNEL_FOUND;
}

/* The inner frame starts `hlen` bytes into `c` (have() said they are
 * there). */
static enum tunnel_status inner_at(struct cursor c, size_t hlen,
				   enum tunnel_kind kind,
				   enum tunnel_inner inner, struct tunnel *t)
{
	cur_skip(&c, hlen);
	t->kind = kind;
	t->inner = inner;
	t->frame = c;
	return TUNNEL_FOUND;
}

/* ---- ERSPAN (draft-foschiano-erspan-03) --------------------------------- */

/* Type II: Ver = 1, VLAN, COS, En, T, session ID; reserved
 * and index.  The mirrored Ethernet frame follows; T says the mirror cut
 * it, which decoding it shows anyway, as for a short snaplen. */
static enum tunnel_status erspan2(struct cursor c, uint32_t claimed,
				  struct tunnel *t)
{
	uint32_t w0 = 0;
	enum tunnel_status s = have(&c, claimed, 8, TUNNEL_BAD);

	if (s != TUNNEL_FOUND)
		return s;
	cur_be32(&c, &w0);
	if ((w0 >> 28) != 1)
		return TUNNEL_BAD;
	return inner_at(c, 4, TUN_ERSPAN2, TUNNEL_INNER_ETHERNET, t);
}

/* Type III: Ver = 2 with the type II first word, a
 * timestamp, then SGT, P, frame type FT, hardware ID, D, Gra and O; with O
 * set an 8-byte platform-specific subheader.  FT 0 is an Ethernet frame,
 * FT 2 an IP packet. */
static enum tunnel_status erspan3(struct cursor c, uint32_t claimed,
				  struct tunnel *t)
{
	uint32_t w0 = 0, w2 = 0;
	unsigned ft;
	size_t hlen = 12;
	enum tunnel_status s = have(&c, claimed, hlen, TUNNEL_BAD);

	if (s != TUNNEL_FOUND)
		return s;
	struct cursor h = c;
	cur_be32(&h, &w0);
	cur_skip(&h, 4); /* timestamp */
	cur_be32(&h, &w2);
	if ((w0 >> 28) != 2)
		return TUNNEL_BAD;
	if (w2 & ERSPAN3_O) {
		hlen += 8;
		s = have(&c, claimed, hlen, TUNNEL_BAD);
		if (s != TUNNEL_FOUND)
			return s;
	}
	ft = (w2 >> 10) & 0x1f;
	if (ft == ERSPAN3_FT_ETHERNET)
		return inner_at(c, hlen, TUN_ERSPAN3, TUNNEL_INNER_ETHERNET, t);
	if (ft == ERSPAN3_FT_IP)
		return inner_at(c, hlen, TUN_ERSPAN3, TUNNEL_INNER_IP, t);
	return TUNNEL_UNDECODED; /* reserved frame types */
}

/* ---- GRE (RFC 2784, RFC 2890) ------------------------------------------- */

/* C, K and S each add 4 bytes, in that order.  RFC 2784 section 2.3: bits
 * 1-5 other than K and S (RFC 1701 routing, strict source route,
 * recursion) make the packet one to discard; version 1 is PPTP. */
static enum tunnel_status gre(struct cursor c, uint32_t claimed,
			      struct tunnel *t)
{
	uint16_t flags = 0, type = 0;
	size_t hlen = 4;
	enum tunnel_status s = have(&c, claimed, hlen, TUNNEL_BAD);

	if (s != TUNNEL_FOUND)
		return s;
	struct cursor h = c;
	cur_be16(&h, &flags);
	cur_be16(&h, &type);
	if ((flags & GRE_VERSION) == GRE_VERSION_PPTP)
		return TUNNEL_UNDECODED;
	if ((flags & GRE_VERSION) != 0 || (flags & (GRE_R | GRE_SSR | GRE_RECUR5)))
		return TUNNEL_BAD;
	hlen += (flags & GRE_C ? 4 : 0) + (flags & GRE_K ? 4 : 0) +
		(flags & GRE_S ? 4 : 0);
	s = have(&c, claimed, hlen, TUNNEL_BAD);
	if (s != TUNNEL_FOUND)
		return s;
	cur_skip(&c, hlen);
	claimed -= (uint32_t)hlen;
	switch (type) {
	case ETHERTYPE_TEB:
		return inner_at(c, 0, TUN_GRE, TUNNEL_INNER_ETHERNET, t);
	case ETHERTYPE_ERSPAN12:
		/* Type I is bare GRE without a sequence number. */
		if (!(flags & GRE_S))
			return inner_at(c, 0, TUN_ERSPAN1, TUNNEL_INNER_ETHERNET, t);
		return erspan2(c, claimed, t);
	case ETHERTYPE_ERSPAN3:
		return erspan3(c, claimed, t);
	default:
		t->ethertype = type; /* IPv4, IPv6, MPLS (RFC 4023), ... */
		return inner_at(c, 0, TUN_GRE, TUNNEL_INNER_ETHERTYPE, t);
	}
}

/* ---- UDP tunnels ---------------------------------------------------------- */

/* VXLAN (RFC 7348 section 5): flags with I set, 24 reserved bits, VNI,
 * 8 reserved bits, then the inner Ethernet frame.  Reserved bits are
 * ignored on receipt, as the RFC says. */
static enum tunnel_status vxlan(struct cursor c, uint32_t claimed,
				struct tunnel *t)
{
	uint8_t flags = 0;
	enum tunnel_status s = have(&c, claimed, 8, TUNNEL_NONE);

	if (s != TUNNEL_FOUND)
		return s;
	cur_peek_u8(&c, 0, &flags);
	if (!(flags & VXLAN_I))
		return TUNNEL_NONE;
	return inner_at(c, 8, TUN_VXLAN, TUNNEL_INNER_ETHERNET, t);
}

/* GENEVE (RFC 8926 section 3.4): version 0 and the options length in
 * 4-byte words, O and C flags, protocol type (0x6558: Ethernet, else an
 * EtherType), VNI, then the options. */
static enum tunnel_status geneve(struct cursor c, uint32_t claimed,
				 struct tunnel *t)
{
	uint8_t b0 = 0;
	uint16_t type = 0;
	size_t hlen = 8;
	enum tunnel_status s = have(&c, claimed, hlen, TUNNEL_NONE);

	if (s != TUNNEL_FOUND)
		return s;
	struct cursor h = c;
	cur_u8(&h, &b0);
	cur_skip(&h, 1);
	cur_be16(&h, &type);
	if ((b0 >> 6) != 0)
		return TUNNEL_NONE; /* unknown version: not ours to read */
	hlen += (size_t)(b0 & 0x3f) * 4;
	s = have(&c, claimed, hlen, TUNNEL_BAD);
	if (s != TUNNEL_FOUND)
		return s;
	if (type == ETHERTYPE_TEB)
		return inner_at(c, hlen, TUN_GENEVE, TUNNEL_INNER_ETHERNET, t);
	t->ethertype = type;
	return inner_at(c, hlen, TUN_GENEVE, TUNNEL_INNER_ETHERTYPE, t);
}

/* GTP-U (3GPP TS 29.281 section 5.1): version 1, PT 1, a G-PDU (type 255)
 * carries a user IP packet after the 8 mandatory bytes, 4 more when E, S
 * or PN is set, and the extension headers (length in 4-byte units,
 * next-type last).  Signalling messages (echo, error indication, end
 * marker) are not user traffic: they stay UDP packets. */
static enum tunnel_status gtpu(struct cursor c, uint32_t claimed,
			       struct tunnel *t)
{
	uint8_t flags = 0, type = 0, next = 0, units = 0;
	size_t hlen = 8;
	enum tunnel_status s = have(&c, claimed, hlen, TUNNEL_NONE);

	if (s != TUNNEL_FOUND)
		return s;
	cur_peek_u8(&c, 0, &flags);
	cur_peek_u8(&c, 1, &type);
	if ((flags & 0xe0) != 0x20 || !(flags & 0x10) || type != 0xff)
		return TUNNEL_NONE; /* not GTPv1, or not a G-PDU */
	if (flags & 0x07) {
		hlen = 12;
		s = have(&c, claimed, hlen, TUNNEL_BAD);
		if (s != TUNNEL_FOUND)
			return s;
		cur_peek_u8(&c, 11, &next);
	}
	for (int i = 0; next != 0; i++) {
		if (i >= GTPU_MAX_EXT)
			return TUNNEL_BAD;
		s = have(&c, claimed, hlen + 1, TUNNEL_BAD);
		if (s != TUNNEL_FOUND)
			return s;
		cur_peek_u8(&c, hlen, &units);
		if (units == 0)
			return TUNNEL_BAD;
		hlen += (size_t)units * 4;
		s = have(&c, claimed, hlen, TUNNEL_BAD);
		if (s != TUNNEL_FOUND)
			return s;
		cur_peek_u8(&c, hlen - 1, &next);
	}
	return inner_at(c, hlen, TUN_GTPU, TUNNEL_INNER_IP, t);
}

/* ---- CAPWAP data channel (RFC 5415, RFC 5416) --------------------------- */

/* An IEEE 802.11 data frame as CAPWAP carries it natively (RFC 5416):
 * frame control, duration, three addresses, sequence control, a fourth
 * address when ToDS and FromDS are both set, QoS control in QoS subtypes
 * (and HT control when +HTC is set there), then LLC/SNAP (RFC 1042, or the
 * 802.1H bridge-tunnel OUI) and the EtherType.  Frames without a readable body (management, control, no-data
 * subtypes, encrypted, fragments, A-MSDU) are not decoded. */
static enum tunnel_status ieee80211_data(struct cursor c, uint32_t claimed,
					 struct tunnel *t)
{
	uint8_t fc0 = 0, fc1 = 0, frag = 0, qos = 0, llc[6];
	size_t hlen = 24, qos_at = 0;
	enum tunnel_status s = have(&c, claimed, hlen, TUNNEL_BAD);

	if (s != TUNNEL_FOUND)
		return s;
	cur_peek_u8(&c, 0, &fc0);
	cur_peek_u8(&c, 1, &fc1);
	cur_peek_u8(&c, 22, &frag);
	/* Some access points (Cisco's) send the frame control bytes swapped
	 * (Wireshark's capwap.swap_fc).  A data frame goes to or from the
	 * distribution system, so its swapped flags show a non-zero
	 * "version": then read it the other way round. */
	if ((fc0 & 0x03) != 0 && (fc1 & 0x0f) == 0x08) {
		uint8_t swap = fc0;
		fc0 = fc1;
		fc1 = swap;
	}
	if ((fc0 & 0x03) != 0)
		return TUNNEL_BAD;       /* protocol version 0 only */
	if (((fc0 >> 2) & 0x03) != 2 || (fc0 & 0x40))
		return TUNNEL_UNDECODED; /* not data, or a no-data subtype */
	if ((fc1 & 0x04) || (frag & 0x0f))
		return TUNNEL_UNDECODED; /* an 802.11 fragment: not reassembled */
	if ((fc1 & 0x03) == 0x03)
		hlen += 6;               /* ToDS and FromDS: address 4 */
	if (fc0 & 0x80) {                /* QoS data */
		qos_at = hlen;
		hlen += (fc1 & 0x80) ? 6 : 2;
	}
	if (fc1 & 0x40)
		return TUNNEL_UNDECODED; /* protected: the body is encrypted */
	s = have(&c, claimed, hlen + 8, TUNNEL_BAD);
	if (s != TUNNEL_FOUND)
		return s;
	if (qos_at && cur_peek_u8(&c, qos_at, &qos) && (qos & 0x80))
		return TUNNEL_UNDECODED; /* A-MSDU: several frames in one */
	if (!cur_skip(&c, hlen) || !cur_bytes(&c, llc, sizeof(llc)))
		return TUNNEL_BAD;       /* cannot happen after have() */
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3] != 0 ||
	    llc[4] != 0 || (llc[5] != 0 && llc[5] != 0xf8))
		return TUNNEL_UNDECODED; /* LLC without SNAP */
	cur_be16(&c, &t->ethertype);
	return inner_at(c, 0, TUN_CAPWAP, TUNNEL_INNER_ETHERTYPE, t);
}

/* The preamble (section 4.1): version 0, type 0 (type 1 is a DTLS record:
 * encrypted).  The header (section 4.3): HLEN in 4-byte words covers the
 * preamble and every optional part; T says whether the payload is a native
 * frame of the binding WBID (1: IEEE 802.11) or an 802.3 frame.  Fragments
 * are not reassembled and keep-alives carry no frame. */
static enum tunnel_status capwap(struct cursor c, uint32_t claimed,
				 struct tunnel *t)
{
	uint8_t preamble = 0;
	uint32_t w = 0;
	size_t hlen;
	enum tunnel_status s = have(&c, claimed, 1, TUNNEL_NONE);

	if (s != TUNNEL_FOUND)
		return s;
	cur_peek_u8(&c, 0, &preamble);
	if (preamble == 0x01)
		return TUNNEL_UNDECODED; /* CAPWAP DTLS header */
	if (preamble != 0x00)
		return TUNNEL_NONE;
	s = have(&c, claimed, 8, TUNNEL_NONE);
	if (s != TUNNEL_FOUND)
		return s;
	struct cursor h = c;
	cur_be32(&h, &w);
	hlen = (size_t)((w >> 19) & 0x1f) * 4;
	if (hlen < 8)
		return TUNNEL_BAD;
	s = have(&c, claimed, hlen, TUNNEL_BAD);
	if (s != TUNNEL_FOUND)
		return s;
	if (w & (CAPWAP_F | CAPWAP_K))
		return TUNNEL_UNDECODED;
	if (!(w & CAPWAP_T))
		return inner_at(c, hlen, TUN_CAPWAP, TUNNEL_INNER_ETHERNET, t);
	if (((w >> 9) & 0x1f) != CAPWAP_WBID_80211)
		return TUNNEL_UNDECODED;
	cur_skip(&c, hlen);
	return ieee80211_data(c, claimed - (uint32_t)hlen, t);
}

/* ---- entry point -------------------------------------------------------- */

enum tunnel_status tunnel_parse(const struct ts_packet *carrier,
				struct tunnel *t)
{
	struct cursor c = cur_make(carrier->payload, carrier->payload_len);
	uint32_t claimed = carrier->payload_wire_len;
	uint16_t sport = carrier->sport, dport = carrier->dport;

	memset(t, 0, sizeof(*t));
	switch (carrier->proto) {
	case TUNNEL_PROTO_GRE:
		return gre(c, claimed, t);
	case TUNNEL_PROTO_IPIP:
		t->ethertype = ETHERTYPE_IPV4;
		return inner_at(c, 0, TUN_IPIP, TUNNEL_INNER_ETHERTYPE, t);
	case TUNNEL_PROTO_IPV6:
		t->ethertype = ETHERTYPE_IPV6;
		return inner_at(c, 0, TUN_IPIP, TUNNEL_INNER_ETHERTYPE, t);
	case IPPROTO_UDP:
		break;
	default:
		return TUNNEL_NONE;
	}
	if (dport == TUNNEL_PORT_VXLAN)
		return vxlan(c, claimed, t);
	if (dport == TUNNEL_PORT_GENEVE)
		return geneve(c, claimed, t);
	if (dport == TUNNEL_PORT_GTPU || sport == TUNNEL_PORT_GTPU)
		return gtpu(c, claimed, t);
	if (dport == TUNNEL_PORT_CAPWAP_DATA || sport == TUNNEL_PORT_CAPWAP_DATA)
		return capwap(c, claimed, t);
	return TUNNEL_NONE;
}
