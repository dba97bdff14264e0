/* vantage.c - infer the capture's side of the path from the handshake's
 * round-trip split, else from initial TTLs.  The rules are in vantage.h. */
#include <string.h>

#include "vantage.h"

/* Shortest handshake that is timed: below it jitter decides the split. */
#define VANTAGE_MIN_RTT_US 1000u
/* The near side's gap is at most this fraction (1/N) of the far side's. */
#define VANTAGE_SPLIT 8u

const char *vantage_name(enum vantage v)
{
	switch (v) {
	case VANTAGE_CLIENT: return "client";
	case VANTAGE_SERVER: return "server";
	case VANTAGE_AUTO: return "auto";
	default: return "unknown";
	}
}

int vantage_from_name(const char *s, enum vantage *out)
{
	for (int v = VANTAGE_UNKNOWN; s && v <= VANTAGE_AUTO; v++) {
		if (strcmp(s, vantage_name((enum vantage)v)) == 0) {
			*out = (enum vantage)v;
			return 0;
		}
	}
	return -1;
}

const char *vantage_basis_name(enum vantage_basis b)
{
	switch (b) {
	case VB_OPTION: return "option";
	case VB_RTT: return "rtt";
	case VB_TTL: return "ttl";
	case VB_CONFLICT: return "conflict";
	default: return "none";
	}
}

static bool initial_ttl(uint8_t ttl)
{
	return ttl == 32 || ttl == 64 || ttl == 128 || ttl == 255;
}

/* The two gaps of the three-way handshake, when it was seen whole and the
 * SYN-ACK answered the SYN timed. */
static bool handshake_gaps(const struct tcp_obs *o, uint32_t *to_server, uint32_t *to_client)
{
	uint32_t need = OBS_SYN | OBS_SYNACK | OBS_HS_ACK;
	if ((o->flags & need) != need || !(o->cli_flags & CLI_SYN_BEFORE_SYNACK) ||
	    o->t_synack < o->t_syn_last || o->t_hs_ack < o->t_synack)
		return false;
	*to_server = o->t_synack - o->t_syn_last;
	*to_client = o->t_hs_ack - o->t_synack;
	return true;
}

static enum vantage by_rtt(uint32_t to_server, uint32_t to_client)
{
	if ((uint64_t)to_server * VANTAGE_SPLIT <= to_client)
		return VANTAGE_SERVER;
	if ((uint64_t)to_client * VANTAGE_SPLIT <= to_server)
		return VANTAGE_CLIENT;
	return VANTAGE_UNKNOWN;
}

static enum vantage by_ttl(const struct tcp_obs *o)
{
	if (!(o->cli_flags & CLI_REF) || !(o->flags & OBS_SRV_REF))
		return VANTAGE_UNKNOWN;
	bool cli = initial_ttl(o->cli_ref_ttl), srv = initial_ttl(o->srv_ref_ttl);
	if (cli && !srv)
		return VANTAGE_CLIENT;
	if (srv && !cli)
		return VANTAGE_SERVER;
	return VANTAGE_UNKNOWN;
}

enum vantage vantage_infer(const struct tcp_obs *o, enum vantage_basis *by)
{
	uint32_t to_server, to_client;
	enum vantage ttl = by_ttl(o);

	if (handshake_gaps(o, &to_server, &to_client) &&
	    (uint64_t)to_server + to_client >= VANTAGE_MIN_RTT_US) {
		enum vantage rtt = by_rtt(to_server, to_client);
		if (rtt != VANTAGE_UNKNOWN && ttl != VANTAGE_UNKNOWN && rtt != ttl) {
			*by = VB_CONFLICT;
			return VANTAGE_UNKNOWN;
		}
		*by = VB_RTT;
		return rtt;
	}
	*by = ttl == VANTAGE_UNKNOWN ? VB_NONE : VB_TTL;
	return ttl;
}
