/* verdict_quic.c - the verdict of a QUIC flow (RFC 9000 sections 7 and 17.2, RFC 9002 section 6.2); the rules are documented in verdict_quic.h. */
#include <string.h>

#include "quic.h"
#include "verdict_quic.h"

static uint64_t since(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static const char *end_name(const struct verdict_quic_input *in)
{
	if (in->q->client_close)
		return "client_close";
	if (in->q->server_close)
		return "server_close";
	switch (in->why) {
	case FLOW_END_IDLE: return "idle_timeout";
	case FLOW_END_EVICTED: return "evicted";
	case FLOW_END_EOF: return "end_of_input";
	case FLOW_END_SHUTDOWN: return "shutdown";
	case FLOW_END_REUSED: return "reused";
	default: return "closed";
	}
}

static enum verdict why_not(struct verdict_result *r, enum verdict v, const char *reason)
{
	r->reason = reason;
	return v;
}

/* Nothing answered the attempt. */
static enum verdict unanswered(const struct verdict_cfg *cfg, const struct verdict_quic_input *in,
			       struct verdict_result *r)
{
	const struct quic_info *q = in->q;
	uint64_t end = in->now_us;
	if (q->client_close && q->t_last_client && q->t_last_client < end)
		end = q->t_last_client;
	r->silence_us = since(q->t_anchor, end);
	if (q->client_close && q->retransmits == 0 && r->silence_us < cfg->stall_us)
		return why_not(r, V_CLIENT_ABORT, "closed_before_answer");
	if (r->silence_us < cfg->stall_us && !(q->client_close && q->retransmits))
		return why_not(r, V_INCOMPLETE, "capture_ended");
	if (q->retransmits == 0)
		return why_not(r, V_INCOMPLETE, "no_retransmission");
	/* Seen at the server, the Initials arrived: a server that never
	 * answers them shows nothing about the path (as over TCP). */
	if (r->vantage == VANTAGE_SERVER)
		return why_not(r, V_INCOMPLETE, "server_silent");
	r->drop_direction = DROP_UNKNOWN;
	r->ev |= EV_DROP;
	r->blocked_at_us = q->t_anchor;
	return V_QUIC_STALL;
}

static enum verdict decide(const struct verdict_cfg *cfg, const struct verdict_quic_input *in,
			   struct verdict_result *r)
{
	const struct quic_info *q = in->q;
	if (q->t_answer && q->t_client_hs) {
		r->silence_us = since(q->t_anchor, q->t_answer);
		return V_OK;
	}
	if (!q->opened && q->unknown_version && !q->initials[0])
		return why_not(r, V_NOT_TLS, "quic_version_unknown");
	if (!q->opened && q->initials[0])
		return why_not(r, V_NOT_TLS, "quic_undecryptable");
	if (in->kernel_loss)
		return why_not(r, V_INCOMPLETE, "kernel_loss");
	if (!q->t_first)
		return why_not(r, V_INCOMPLETE, "midstream");
	if (q->t_answer)
		return why_not(r, V_INCOMPLETE, "handshake_not_confirmed");
	if (q->t_client_hs) {
		r->one_direction = true;
		return why_not(r, V_INCOMPLETE, "one_direction");
	}
	if (q->vn && q->t_vn >= q->t_anchor)
		return why_not(r, V_INCOMPLETE, "version_negotiation");
	return unanswered(cfg, in, r);
}

void verdict_quic_decide(const struct verdict_cfg *cfg, const struct verdict_quic_input *in,
			 struct verdict_result *r)
{
	size_t n = 0;
	memset(r, 0, sizeof(*r));
	/* No handshake to time: only a given vantage is known. */
	if (cfg->vantage != VANTAGE_AUTO) {
		r->vantage = cfg->vantage;
		r->vantage_by = VB_OPTION;
	}
	r->signature = "none";
	r->end = end_name(in);
	if (in->pkts[0])
		r->history[n++] = 'D';
	if (in->pkts[1])
		r->history[n++] = 'd';
	r->history[n] = '\0';
	r->verdict = decide(cfg, in, r);
}
