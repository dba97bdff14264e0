/* tunnel.h - one tunnel header at a time: remote mirrors (ERSPAN, GRE,
 * VXLAN, GENEVE) and access networks (GTP-U, CAPWAP, IP in IP) deliver the
 * user's frames inside another packet.
 *
 * The parsers sit below decode: each reads one tunnel header from the
 * payload of a decoded carrier packet (UDP to a tunnel port, GRE, IP in IP)
 * and says what comes inside (an Ethernet frame, an IP packet, a packet of
 * some EtherType) and where.  decode.c decodes that inner frame and loops,
 * so nesting and its bound live in one place.
 */
#ifndef TS_TUNNEL_H
#define TS_TUNNEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"
#include "packet.h"

#define TUNNEL_PORT_GTPU 2152        /* 3GPP TS 29.281 section 4.4.2.3 */
#define TUNNEL_PORT_VXLAN 4789       /* RFC 7348 section 5 */
#define TUNNEL_PORT_CAPWAP_DATA 5247 /* RFC 5415 section 3.1 */
#define TUNNEL_PORT_GENEVE 6081      /* RFC 8926 section 3.3 */
#define TUNNEL_PROTO_IPIP 4          /* RFC 2003: IPv4 inside */
#define TUNNEL_PROTO_IPV6 41         /* RFC 4213, RFC 2473: IPv6 inside */
#define TUNNEL_PROTO_GRE 47          /* RFC 2784 */

enum tunnel_status {
	TUNNEL_FOUND,     /* a header parsed: the tunnel says what is inside */
	TUNNEL_NONE,      /* not a tunnel: the carrier stays the packet it was */
	TUNNEL_TRUNCATED, /* the capture cut the tunnel header short */
	TUNNEL_BAD,       /* the header contradicts itself or its carrier */
	TUNNEL_UNDECODED, /* a tunnel whose content is not decoded (PPTP GRE,
			     CAPWAP DTLS or fragments, encrypted 802.11, ...) */
};

/* What the tunnel carries. */
enum tunnel_inner {
	TUNNEL_INNER_ETHERNET,  /* an Ethernet frame, destination MAC first */
	TUNNEL_INNER_ETHERTYPE, /* a packet of the EtherType in `ethertype` */
	TUNNEL_INNER_IP,        /* IPv4 or IPv6: the version nibble decides */
};

struct tunnel {
	enum tunnel_kind kind;
	enum tunnel_inner inner;
	uint16_t ethertype;     /* TUNNEL_INNER_ETHERTYPE only */
	struct cursor frame;    /* the inner frame as captured */
};

/* Could this decoded packet carry a tunnel: UDP to a tunnel port, GRE or
 * IP in IP?  VXLAN and GENEVE name their port only as the destination
 * (the source port is flow entropy); GTP-U and CAPWAP data use theirs in
 * both directions. */
static inline bool tunnel_carrier(const struct ts_packet *p)
{
	if (p->proto == IPPROTO_UDP)
		return p->dport == TUNNEL_PORT_VXLAN ||
		       p->dport == TUNNEL_PORT_GENEVE ||
		       p->dport == TUNNEL_PORT_GTPU ||
		       p->sport == TUNNEL_PORT_GTPU ||
		       p->dport == TUNNEL_PORT_CAPWAP_DATA ||
		       p->sport == TUNNEL_PORT_CAPWAP_DATA;
	return p->proto == TUNNEL_PROTO_GRE || p->proto == TUNNEL_PROTO_IPIP ||
	       p->proto == TUNNEL_PROTO_IPV6;
}

/* Parse the tunnel header at the payload of `carrier` (its payload,
 * payload_len, payload_wire_len and payload_truncated as decode set them).
 * On TUNNEL_FOUND `t` says what is inside; t->frame points into the
 * carrier's payload. */
enum tunnel_status tunnel_parse(const struct ts_packet *carrier,
				struct tunnel *t);

const char *tunnel_kind_name(enum tunnel_kind k);

#endif
