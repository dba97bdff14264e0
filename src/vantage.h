/* vantage.h - which side of the path a flow was captured on, when the
 * user did not say (--vantage).
 *
 * Two clues, in this order:
 *  1. The round trip splits at the capture point (RFC 9293 section 3.5:
 *     SYN, SYN-ACK, ACK).  The SYN -> SYN-ACK gap is the round trip from
 *     the capture point to the server and back, the SYN-ACK -> ACK gap the
 *     one to the client and back.  Next to the client the first gap is the
 *     whole RTT and the second a few microseconds of the client's stack;
 *     next to the server the other way round.  One gap at most 1/8 of the
 *     other puts the capture on that gap's side; both gaps comparable is a
 *     capture on a middle link: unknown, and nothing is inferred from the
 *     TTLs either.  Only a handshake of at least 1 ms (and a SYN-ACK
 *     answering the last SYN before it) is timed: below that, a LAN's
 *     jitter decides the split.
 *  2. Otherwise the TTLs (hop limits): a packet still carrying a usual
 *     initial value (32, 64, 128, 255) has crossed no router.  The client's
 *     at an initial value and the server's not: client; the reverse:
 *     server; both or neither: unknown.
 * When both clues decide and point to opposite sides, the flow is unknown
 * (the conflict recorded): in a lab or data centre whose round trip is
 * under a millisecond, one stack answering a millisecond late (a busy
 * host) makes the split point at the wrong end, and the TTLs say so.
 * The inference only decides which verdict rules apply (verdict.h, "at
 * the server's side"); it is recorded per flow with what it rests on.
 */
#ifndef TS_VANTAGE_H
#define TS_VANTAGE_H

#include "tcpobs.h"

enum vantage {
	VANTAGE_UNKNOWN = 0,
	VANTAGE_CLIENT,
	VANTAGE_SERVER,
	VANTAGE_AUTO,  /* configuration only (the default): infer per flow */
};

/* What a flow's vantage rests on, with its name in the outputs. */
enum vantage_basis {
	VB_NONE = 0,   /* nothing decided it: unknown */
	VB_OPTION,     /* --vantage */
	VB_RTT,        /* the round-trip split (a middle link is unknown by rtt) */
	VB_TTL,        /* initial TTLs */
	VB_CONFLICT,   /* the round trip and the TTLs point to opposite sides: unknown */
};

/* The capture's side of the path for one TCP flow; *by says why. */
enum vantage vantage_infer(const struct tcp_obs *o, enum vantage_basis *by);

/* "client", "server", "unknown" ("auto" for VANTAGE_AUTO). */
const char *vantage_name(enum vantage v);
/* 0 and *out set for one of those names, -1 otherwise. */
int vantage_from_name(const char *s, enum vantage *out);
const char *vantage_basis_name(enum vantage_basis b);

#endif
