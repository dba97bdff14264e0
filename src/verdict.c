/* verdict.c - decide a finished flow's interference verdict from its TCP
 * observations and TLS facts; signature, history, evidence; the verdict a
 * certificate chain changes (RFC 5280
 * section 6 errors mapped to OONI failure classes in Go crypto/x509's
 * order).  The rules and evidence fields are documented in verdict.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "cert.h"
#include "dns.h"
#include "seq.h"
#include "tls.h"
#include "verdict.h"

/* ---- names -------------------------------------------------------------- */

static const char *const verdict_names[V__COUNT] = {
	[V_OK] = "ok",
	[V_TLS_STALL] = "tls_stall",
	[V_TLS_RESET] = "tls_reset",
	[V_SYN_TIMEOUT] = "syn_timeout",
	[V_SYN_RESET] = "syn_reset",
	[V_TLS_ALERT] = "tls_alert",
	[V_TLS_MITM] = "tls_mitm",
	[V_TLS_UNTRUSTED_CERT] = "tls_untrusted_cert",
	[V_CLIENT_ABORT] = "client_abort",
	[V_INCOMPLETE] = "incomplete",
	[V_NOT_TLS] = "not_tls",
	[V_QUIC_STALL] = "quic_stall",
	[V_DNS_INJECTION] = "dns_injection",
	[V_DNS_BLOCKPAGE] = "dns_blockpage",
	[V_DNS_TIMEOUT] = "dns_timeout",
	[V_DNS_ERROR] = "dns_error",
	[V_HTTP_BLOCKPAGE] = "http_blockpage",
	[V_HTTP_RESET] = "http_reset",
	[V_HTTP_STALL] = "http_stall",
};

const char *verdict_name(enum verdict v)
{
	if ((unsigned)v >= V__COUNT)
		return "unknown";
	return verdict_names[v];
}

int verdict_from_name(const char *s, enum verdict *out)
{
	if (!s)
		return -1;
	for (int v = 0; v < V__COUNT; v++) {
		if (strcmp(s, verdict_names[v]) == 0) {
			*out = (enum verdict)v;
			return 0;
		}
	}
	return -1;
}

const char *verdict_drop_direction_name(enum drop_direction d)
{
	switch (d) {
	case DROP_SERVER_TO_CLIENT: return "server_to_client";
	case DROP_CLIENT_TO_SERVER: return "client_to_server";
	default: return "unknown";
	}
}

const char *verdict_injected_reason_name(unsigned bit)
{
	switch (bit) {
	case INJ_TTL: return "ttl";
	case INJ_IPID: return "ipid";
	case INJ_TIMING: return "timing";
	case INJ_DATA_AFTER_RESET: return "data_after_reset";
	case INJ_SEQ_CHANGE: return "seq_change";
	case INJ_ACK_CHANGE: return "ack_change";
	case INJ_DNS_TTL: return "dns_ttl";
	case INJ_RACE: return "race";
	default: return NULL;
	}
}

void verdict_cfg_default(struct verdict_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->stall_us = 3ULL * 1000000;
	cfg->residual_us = 180ULL * 1000000;
	cfg->vantage = VANTAGE_AUTO;
}

void verdict_set_cert(struct verdict_result *r, enum verdict v, enum verdict_cert_fail cf)
{
	r->verdict = v;
	r->cert_fail = cf;
}

const char *verdict_ooni_failure(const struct verdict_result *r)
{
	switch (r->verdict) {
	case V_TLS_STALL:
	case V_SYN_TIMEOUT:
	case V_QUIC_STALL:
	case V_DNS_TIMEOUT:
	case V_HTTP_STALL:
		return "generic_timeout_error";
	case V_HTTP_RESET:
		return r->server_fin ? "eof_error" : "connection_reset";
	case V_TLS_RESET:
		return r->server_fin ? "eof_error" : "connection_reset";
	case V_SYN_RESET:
		return "connection_refused";
	case V_TLS_ALERT:
		return "ssl_failed_handshake";
	case V_DNS_ERROR:
		/* the strings OONI's resolver (netxlite) records for these rcodes */
		switch (r->dns_rcode) {
		case DNS_RCODE_NXDOMAIN: return "dns_nxdomain_error";
		case DNS_RCODE_REFUSED: return "dns_refused_error";
		default: return "dns_server_misbehaving";
		}
	case V_DNS_INJECTION:
	case V_DNS_BLOCKPAGE:
		/* a forged answer that resolves: OONI's lookup succeeds, unless
		 * the address is a bogon, which it refuses */
		return r->reason && strcmp(r->reason, "bogon") == 0 ? "dns_bogon_error" : NULL;
	case V_TLS_MITM:
	case V_TLS_UNTRUSTED_CERT:
		switch (r->cert_fail) {
		case VCERT_INVALID_HOSTNAME: return "ssl_invalid_hostname";
		case VCERT_INVALID_CERTIFICATE: return "ssl_invalid_certificate";
		case VCERT_UNKNOWN_AUTHORITY: return "ssl_unknown_authority";
		default:
			return r->verdict == V_TLS_MITM ? "ssl_unknown_authority"
							: "ssl_invalid_certificate";
		}
	default:
		return NULL;
	}
}

/* ---- facts derived once per decision ------------------------------------ */

struct vctx {
	const struct verdict_cfg *cfg;
	const struct verdict_input *in;
	const struct tcp_obs *o;
	struct verdict_result *r;
	uint64_t end_us;       /* client close, else now_us */
	bool ch_started;       /* complete CH, or client stream began like TLS */
	bool ch;               /* complete CH */
	uint64_t ch_us;        /* CH time (or first client payload) */
	bool at_server;        /* the flow was captured on the server's side */
};

static bool has(const struct vctx *c, uint32_t flag)
{
	return tcpobs_has(c->o, flag);
}

static uint64_t at(const struct vctx *c, uint32_t off)
{
	return tcpobs_abs(c->o, off);
}

static uint64_t since(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static bool server_fatal_alert(const struct vctx *c)
{
	const struct tls_info *t = c->in->tls;
	return t && t->alert_seen[1] && t->alert_level[1] == 2;
}

static const char *end_name(const struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	const char *best = NULL;
	uint32_t best_t = UINT32_MAX;
	if (has(c, OBS_CLI_FIN | OBS_CLI_RST)) {
		best = has(c, OBS_CLI_FIN) ? "client_fin" : "client_rst";
		best_t = o->t_cli_close;
	}
	if (has(c, OBS_SRV_RST) && (!best || o->t_rst < best_t)) {
		best = "server_rst";
		best_t = o->t_rst;
	}
	if (has(c, OBS_SRV_FIN) && (!best || o->t_srv_fin < best_t))
		best = "server_fin";
	if (best)
		return best;
	switch (c->in->why) {
	case FLOW_END_IDLE: return "idle_timeout";
	case FLOW_END_EVICTED: return "evicted";
	case FLOW_END_EOF: return "end_of_input";
	case FLOW_END_SHUTDOWN: return "shutdown";
	case FLOW_END_REUSED: return "reused";
	default: return "closed";
	}
}

/* ---- signature ---------------------------------------------------------- */

static const char *sig_rst_name(const struct tcp_obs *o, int stage)
{
	static const char *const tab[5][7] = {
		/* RST, RST+ACK, both, RST=RST, RST≠RST, RST+ACK=, RST+ACK≠ */
		[SIG_SYN] = { "SYN→RST", "SYN→RST+ACK", "SYN→RST+ACK", "SYN→RST",
			      "SYN→RST", "SYN→RST+ACK", "SYN→RST+ACK" },
		[SIG_ACK] = { "SYN;ACK→RST", "SYN;ACK→RST+ACK", "SYN;ACK→RST+ACK",
			      "SYN;ACK→RST", "SYN;ACK→RST", "SYN;ACK→RST+ACK",
			      "SYN;ACK→RST+ACK" },
		[SIG_PSH] = { "PSH→RST", "PSH→RST+ACK", "PSH→RST;RST+ACK", "PSH→RST=RST",
			      "PSH→RST≠RST", "PSH→RST+ACK=RST+ACK", "PSH→RST+ACK≠RST+ACK" },
		[SIG_DATA] = { "PSH;Data→RST", "PSH;Data→RST+ACK", "PSH;Data→RST;RST+ACK",
			       "PSH;Data→RST", "PSH;Data→RST≠RST", "PSH;Data→RST+ACK",
			       "PSH;Data→RST+ACK" },
	};
	int col;
	bool plain = o->sig_rst[0] > 0, acked = o->sig_rst[1] > 0;
	if (stage < SIG_SYN || stage > SIG_DATA)
		return "none";
	if (plain && acked)
		col = 2;
	else if (plain)
		col = o->sig_rst[0] == 1 ? 0 : (o->sig_rst_change & 1) ? 4 : 3;
	else
		col = o->sig_rst[1] == 1 ? 1 : (o->sig_rst_change & 2) ? 6 : 5;
	return tab[stage][col];
}

/* The server's answer reached the client, as far as this capture can
 * tell: on the server's side only the client's acknowledgment shows it. */
static bool answer_arrived(const struct vctx *c)
{
	if (c->at_server)
		return tcpobs_client_answered(c->o);
	return has(c, OBS_SRV_DATA);
}

static const char *signature(const struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	static const char *const quiet[] = {
		[SIG_SYN] = "SYN→∅", [SIG_ACK] = "SYN;ACK→∅",
		[SIG_PSH] = "PSH→∅", [SIG_DATA] = "PSH;Data→∅",
	};
	if (c->in->proto != 6 || has(c, OBS_SIG_NOSYN) || o->sig_cli_pkts == 0)
		return "none";
	if (o->sig_rst[0] || o->sig_rst[1]) {
		if (has(c, OBS_SIG_SRV_DATA) && answer_arrived(c))
			return "none";  /* the server had answered: an exchange */
		return sig_rst_name(o, o->sig_stage_at_rst);
	}
	if (has(c, OBS_SIG_OVER) || answer_arrived(c))
		return "none";
	if (o->sig_stage < SIG_SYN || o->sig_stage > SIG_DATA)
		return "none";
	if (has(c, OBS_CLI_FIN) ||
	    since(at(c, o->t_stage), c->end_us) >= c->cfg->stall_us)
		return quiet[o->sig_stage];
	return "none";
}

/* ---- history ------------------------------------------------------------ */

static void history(const struct vctx *c)
{
	struct verdict_result *r = c->r;
	size_t n = strnlen(c->o->hist, sizeof(c->o->hist) - 1);
	memcpy(r->history, c->o->hist, n);
	if (c->in->gap[0] && n + 1 < sizeof(r->history))
		r->history[n++] = 'G';
	if (c->in->gap[1] && n + 1 < sizeof(r->history))
		r->history[n++] = 'g';
	r->history[n] = '\0';
}

/* ---- evidence ----------------------------------------------------------- */

static void common_evidence(struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	struct verdict_result *r = c->r;
	uint32_t rtt;
	uint32_t ch_end;

	if (tcpobs_rtt_us(o, &rtt)) {
		r->rtt_us = rtt;
		r->ev |= EV_RTT;
	}
	if (has(c, OBS_SYN)) {
		r->syn_retransmits = o->syn_count ? (uint16_t)(o->syn_count - 1) : 0;
		r->ev |= EV_SYN;
	}
	if (c->ch_started) {
		uint64_t until = has(c, OBS_SRV_TLS) ? at(c, o->t_srv_tls) : c->end_us;
		r->ev |= EV_CH;
		r->ch_complete = c->ch;
		r->ch_retransmits = o->ch_retransmits;
		r->server_acked_ch = has(c, OBS_ACKED_CH) ||
				     (tcpobs_ch_end(o, &ch_end) && has(c, OBS_SRV_ACKV) &&
				      seq_geq(o->srv_max_ack, ch_end));
		r->silence_us = since(c->ch_us, until);
		if (c->at_server && has(c, OBS_SRV_DATA)) {
			r->ev |= EV_ANSWER;
			r->answer_acked = tcpobs_client_answered(o);
		}
	}
}

static void rst_injection(struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	struct verdict_result *r = c->r;
	unsigned why = 0;

	if (r->ev & EV_REF_TTL && r->ttl_diff != 0)
		why |= INJ_TTL;
	/* A server's IP ID moves by its packet rate; a jump of more than 1000
	 * between its last packet and the RST means another sender. */
	if (r->ev & EV_IPID && o->rst_ipid && o->srv_last_ipid &&
	    (r->ipid_diff > 1000 || r->ipid_diff < -1000))
		why |= INJ_IPID;
	/* The real server's RST cannot arrive sooner than one round trip after
	 * the ClientHello left; at the server's side this says nothing. */
	if ((r->ev & EV_RTT) && r->rtt_us >= 1000 && !c->at_server &&
	    r->rst_delay_us * 4 < (uint64_t)r->rtt_us * 3)
		why |= INJ_TIMING;
	if (r->data_after_reset)
		why |= INJ_DATA_AFTER_RESET;
	if (r->rst_seq_change)
		why |= INJ_SEQ_CHANGE;
	if (r->rst_ack_change)
		why |= INJ_ACK_CHANGE;
	r->injected_reasons = why;
	r->injected = why != 0;
	r->ev |= EV_RST_INJ;
}

static void rst_evidence(struct vctx *c, uint64_t from_us)
{
	const struct tcp_obs *o = c->o;
	struct verdict_result *r = c->r;

	r->ev |= EV_RST;
	r->rst_count = o->rst_count;
	r->rst_ack = has(c, OBS_RST_ACK);
	r->rst_ttl = o->rst_ttl;
	r->rst_delay_us = since(from_us, at(c, o->t_rst));
	r->rst_seq_change = has(c, OBS_RST_SEQ_CHANGE);
	r->rst_ack_change = has(c, OBS_RST_ACK_CHANGE);
	r->data_after_reset = has(c, OBS_DATA_AFTER_RST);
	r->packets_after_reset = o->pkts_after_rst;
	if (has(c, OBS_SRV_REF)) {
		r->synack_ttl = o->srv_ref_ttl;
		r->ttl_diff = (int16_t)((int)o->rst_ttl - (int)o->srv_ref_ttl);
		r->ev |= EV_REF_TTL;
	}
	if (has(c, OBS_SRV_IPID) && o->ip_version == 4) {
		r->ipid_diff = (int16_t)(uint16_t)(o->rst_ipid - o->srv_last_ipid);
		r->ev |= EV_IPID;
	}
	r->blocked_at_us = at(c, o->t_rst);
}

static enum verdict stall(struct vctx *c);
static bool timed_out(const struct vctx *c, uint64_t anchor_us);
static enum verdict set_reason(struct vctx *c, enum verdict v, const char *reason);

/* ---- at the server's side ---------------------------------------------- */

/* Why the client's first RST looks injected toward the server: another TTL
 * or IP ID than the client's own packets, or the client still sending
 * after "its" RST.  0: the client's own RST. */
static unsigned client_rst_reasons(const struct vctx *c, int *ttl_diff, int *ipid_diff)
{
	const struct tcp_obs *o = c->o;
	unsigned why = 0;

	*ttl_diff = (int)o->cli_rst_ttl - (int)o->cli_ref_ttl;
	*ipid_diff = (int16_t)(uint16_t)(o->cli_rst_ipid - o->cli_last_ipid);
	if ((o->cli_flags & CLI_REF) && *ttl_diff != 0)
		why |= INJ_TTL;
	if ((o->cli_flags & CLI_IPID) && o->ip_version == 4 && o->cli_rst_ipid &&
	    o->cli_last_ipid && (*ipid_diff > 1000 || *ipid_diff < -1000))
		why |= INJ_IPID;
	if (o->cli_flags & CLI_DATA_AFTER_RST)
		why |= INJ_DATA_AFTER_RESET;
	return why;
}

/* A RST claiming the client's address ended the handshake after the
 * ClientHello, before the server's answer was acknowledged, and it looks
 * injected: tls_reset seen from the server's side. */
static bool client_reset(struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	struct verdict_result *r = c->r;
	int ttl_diff, ipid_diff;
	unsigned why;

	if (!c->at_server || !c->ch || !has(c, OBS_CLI_RST) ||
	    !(o->cli_flags & CLI_RST_AFTER_CH) || !(o->cli_flags & CLI_RST_UNANSWERED))
		return false;
	why = client_rst_reasons(c, &ttl_diff, &ipid_diff);
	if (!why)
		return false;
	r->ev |= EV_RST | EV_RST_INJ;
	r->rst_from_client = true;
	r->rst_count = o->cli_rst_count;
	r->rst_ack = (o->cli_flags & CLI_RST_ACK) != 0;
	r->rst_ttl = o->cli_rst_ttl;
	r->rst_delay_us = since(c->ch_us, at(c, o->t_cli_rst));
	r->data_after_reset = (o->cli_flags & CLI_DATA_AFTER_RST) != 0;
	if (o->cli_flags & CLI_REF) {
		r->synack_ttl = o->cli_ref_ttl;
		r->ttl_diff = (int16_t)ttl_diff;
		r->ev |= EV_REF_TTL;
	}
	if ((o->cli_flags & CLI_IPID) && o->ip_version == 4) {
		r->ipid_diff = ipid_diff;
		r->ev |= EV_IPID;
	}
	r->injected_reasons = why;
	r->injected = true;
	r->blocked_at_us = at(c, o->t_cli_rst);
	return true;
}

/* The client sent something after the server's answer should have reached
 * it - and still did not acknowledge it: alive, but the answer never came. */
static bool client_alive_after_answer(const struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	uint32_t rtt, wait;

	if (o->ch_retx_acked > 0 || has(c, OBS_CLI_FIN | OBS_CLI_RST))
		return true;
	wait = tcpobs_rtt_us(o, &rtt) && rtt > 0 ? rtt : 200000u;
	return o->t_cli_last > o->t_srv_data && o->t_cli_last - o->t_srv_data > wait;
}

/* On the server's side the server answered the ClientHello in TLS, and the
 * client never acknowledged the answer. */
static enum verdict decide_unanswered(struct vctx *c)
{
	const struct tcp_obs *o = c->o;

	if (!timed_out(c, at(c, o->t_srv_data)))
		return has(c, OBS_CLI_FIN | OBS_CLI_RST)
		       ? set_reason(c, V_CLIENT_ABORT, "closed_before_answer")
		       : set_reason(c, V_INCOMPLETE, "capture_ended");
	if (client_alive_after_answer(c))
		return stall(c);
	/* Silent for T after the answer: gone, or waiting - nothing shows
	 * which. */
	return set_reason(c, V_INCOMPLETE, "answer_unacked");
}

/* ---- rules -------------------------------------------------------------- */

static enum verdict set_reason(struct vctx *c, enum verdict v, const char *reason)
{
	c->r->reason = reason;
	return v;
}

/* The observer stopped (or the flow went idle) `elapsed` after the anchor:
 * a timeout verdict needs T of packet time, otherwise it is incomplete. */
static bool timed_out(const struct vctx *c, uint64_t anchor_us)
{
	return since(anchor_us, c->end_us) >= c->cfg->stall_us;
}

static enum verdict decide_syn(struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	uint64_t syn_us = at(c, o->t_syn);

	if (has(c, OBS_SRV_RST)) {
		rst_evidence(c, syn_us);
		return V_SYN_RESET;
	}
	if (has(c, OBS_HS_ACK | OBS_CLI_DATA) && !has(c, OBS_SRV_ANY)) {
		c->r->one_direction = true;
		return set_reason(c, V_INCOMPLETE, "one_direction");
	}
	if (has(c, OBS_CLI_FIN | OBS_CLI_RST) && o->syn_count <= 1 &&
	    since(syn_us, at(c, o->t_cli_close)) < c->cfg->stall_us)
		return set_reason(c, V_CLIENT_ABORT, "syn_abandoned");
	if (timed_out(c, syn_us) || has(c, OBS_CLI_FIN | OBS_CLI_RST)) {
		c->r->blocked_at_us = syn_us;
		return V_SYN_TIMEOUT;
	}
	return set_reason(c, V_INCOMPLETE, "capture_ended");
}

/* No ClientHello-looking bytes from the client. */
static enum verdict decide_no_ch(struct vctx *c)
{
	const struct tcp_obs *o = c->o;

	if (has(c, OBS_CLI_DATA))
		return set_reason(c, c->in->tls_candidate ? V_INCOMPLETE : V_NOT_TLS,
				  c->in->tls_candidate ? "partial_client_hello"
						       : "no_client_hello");
	if (has(c, OBS_SYN) && !has(c, OBS_SYNACK))
		return decide_syn(c);
	/* Handshake (or mid-stream) without client payload. */
	if (has(c, OBS_SYNACK) && !has(c, OBS_CLI_FIN | OBS_CLI_RST | OBS_SRV_RST) &&
	    c->in->why != FLOW_END_IDLE && !timed_out(c, at(c, o->t_synack)))
		return set_reason(c, V_INCOMPLETE, "capture_ended");
	return set_reason(c, V_NOT_TLS, "no_client_data");
}

static enum drop_direction stall_direction(const struct vctx *c)
{
	if (c->r->server_acked_ch || has(c, OBS_SRV_DATA))
		return DROP_SERVER_TO_CLIENT;
	if (has(c, OBS_ACK_BELOW_CH))
		return DROP_CLIENT_TO_SERVER;
	return DROP_UNKNOWN;
}

static enum verdict stall(struct vctx *c)
{
	c->r->drop_direction = stall_direction(c);
	c->r->ev |= EV_DROP;
	c->r->blocked_at_us = c->ch_us;
	return V_TLS_STALL;
}

/* A ClientHello went out; no server RST before the ServerHello, no alert,
 * no ServerHello. */
static enum verdict decide_after_ch(struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	bool cli_closed = has(c, OBS_CLI_FIN | OBS_CLI_RST);

	if (!c->ch)
		return set_reason(c, V_INCOMPLETE,
				  has(c, OBS_SYN) ? "partial_client_hello" : "midstream");
	if (!has(c, OBS_SRV_ANY)) {
		c->r->one_direction = true;
		return set_reason(c, V_INCOMPLETE, "one_direction");
	}
	if (has(c, OBS_SRV_DATA) && !has(c, OBS_SRV_TLS))
		return set_reason(c, V_NOT_TLS, "server_not_tls");
	if (has(c, OBS_SRV_TLS))
		return set_reason(c, V_INCOMPLETE, "server_hello_not_seen");
	if (has(c, OBS_SRV_FIN) && (!cli_closed || o->t_srv_fin < o->t_cli_close)) {
		/* Seen at the server, its FIN is its own doing. */
		if (c->at_server)
			return set_reason(c, V_INCOMPLETE, "server_fin");
		c->r->server_fin = true;
		c->r->blocked_at_us = at(c, o->t_srv_fin);
		return set_reason(c, V_TLS_RESET, "server_fin");
	}
	if (cli_closed) {
		if (o->ch_retransmits == 0 &&
		    since(c->ch_us, at(c, o->t_cli_close)) < c->cfg->stall_us)
			return set_reason(c, V_CLIENT_ABORT, "closed_before_answer");
		return c->at_server ? set_reason(c, V_INCOMPLETE, "server_silent") : stall(c);
	}
	/* Seen at the server, the ClientHello arrived: a server that does not
	 * answer it shows nothing about the path. */
	if (timed_out(c, c->ch_us))
		return c->at_server ? set_reason(c, V_INCOMPLETE, "server_silent") : stall(c);
	return set_reason(c, V_INCOMPLETE, "capture_ended");
}

/* A RST may only be judged against a handshake in view: a complete
 * ClientHello, or the client's SYN (its first bytes are then the stream's
 * start).  A capture that begins mid-stream sees a normal TLS teardown
 * (encrypted alert, FIN, RSTs) that looks the same as a reset after the
 * first client bytes. */
static bool reset_before_hello(const struct vctx *c)
{
	const struct tcp_obs *o = c->o;
	if (!c->ch_started || !has(c, OBS_RST_BEFORE_SH) || !has(c, OBS_RST_AFTER_CDATA))
		return false;
	if (!c->ch && !has(c, OBS_SYN))
		return false;
	if (has(c, OBS_SRV_ALERT) && o->t_alert <= o->t_rst)
		return false;
	return true;
}

static enum verdict decide_tcp(struct vctx *c)
{
	const struct verdict_input *in = c->in;
	bool reset = reset_before_hello(c);

	if (client_reset(c))
		return V_TLS_RESET;
	if (!reset && has(c, OBS_SH) && !server_fatal_alert(c) &&
	    (!c->at_server || tcpobs_client_answered(c->o)))
		return V_OK;
	if (!reset && server_fatal_alert(c)) {
		c->r->ev |= EV_ALERT;
		c->r->alert_level = in->tls->alert_level[1];
		c->r->alert_description = in->tls->alert_desc[1];
		return V_TLS_ALERT;
	}
	if (in->kernel_loss)
		return set_reason(c, V_INCOMPLETE, "kernel_loss");
	if (in->gap[1])
		return set_reason(c, V_INCOMPLETE, "server_gap");
	if (in->gap[0] && !c->ch)
		return set_reason(c, V_INCOMPLETE, "client_gap");
	if (reset) {
		rst_evidence(c, c->ch_us);
		rst_injection(c);
		/* Seen at the server, a RST from the server is its own unless
		 * something marks it as another sender's. */
		if (c->at_server && !c->r->injected)
			return set_reason(c, V_INCOMPLETE, "server_reset");
		return V_TLS_RESET;
	}
	if (c->at_server && c->ch && has(c, OBS_SRV_TLS) && !tcpobs_client_answered(c->o))
		return decide_unanswered(c);
	if (!c->ch_started)
		return decide_no_ch(c);
	return decide_after_ch(c);
}

static void ctx_init(struct vctx *c, const struct verdict_cfg *cfg,
		     const struct verdict_input *in, struct verdict_result *r)
{
	const struct tcp_obs *o = in->obs;
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->in = in;
	c->o = o;
	c->r = r;
	/* The end time: the first close on the wire (client FIN/RST, server
	 * RST), else the packet clock. */
	c->end_us = in->now_us;
	if (tcpobs_has(o, OBS_CLI_FIN | OBS_CLI_RST) &&
	    tcpobs_abs(o, o->t_cli_close) < c->end_us)
		c->end_us = tcpobs_abs(o, o->t_cli_close);
	if (tcpobs_has(o, OBS_SRV_RST) && tcpobs_abs(o, o->t_rst) < c->end_us)
		c->end_us = tcpobs_abs(o, o->t_rst);
	c->ch = tcpobs_has(o, OBS_CH);
	c->ch_started = c->ch || (in->tls_candidate && tcpobs_has(o, OBS_CLI_DATA));
	if (c->ch)
		c->ch_us = tcpobs_abs(o, o->t_ch);
	else if (tcpobs_has(o, OBS_CLI_DATA))
		c->ch_us = tcpobs_abs(o, o->t_cli_data);
}

void verdict_reset_evidence(const struct verdict_cfg *cfg, const struct tcp_obs *obs,
			    uint64_t now_us, uint64_t from_us, struct verdict_result *r)
{
	struct verdict_input in = { .obs = obs, .proto = 6, .now_us = now_us };
	struct vctx c;
	ctx_init(&c, cfg, &in, r);
	c.at_server = r->vantage == VANTAGE_SERVER; /* decided with the flow */
	rst_evidence(&c, from_us);
	rst_injection(&c);
}

void verdict_decide(const struct verdict_cfg *cfg, const struct verdict_input *in,
		    struct verdict_result *r)
{
	static const struct tcp_obs empty;
	struct verdict_input copy;
	struct vctx c;

	memset(r, 0, sizeof(*r));
	if (!in->obs) {
		copy = *in;
		copy.obs = &empty;
		in = &copy;
	}
	ctx_init(&c, cfg, in, r);
	if (cfg->vantage == VANTAGE_AUTO) {
		r->vantage = in->proto == 6 ? vantage_infer(in->obs, &r->vantage_by) : VANTAGE_UNKNOWN;
	} else {
		r->vantage = cfg->vantage;
		r->vantage_by = VB_OPTION;
	}
	c.at_server = r->vantage == VANTAGE_SERVER;
	r->end = end_name(&c);
	history(&c);
	r->signature = signature(&c);
	if (in->proto != 6) {
		r->verdict = V_NOT_TLS;
		r->reason = "not_tcp";
		return;
	}
	common_evidence(&c);
	r->verdict = decide_tcp(&c);
}

/* ---- certificate outcome ------------------------------------------------ */

static bool has_cert_error(const struct cert_analysis *ca, int code, int depth)
{
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (ca->errors[i].code == code &&
		    (depth < 0 || ca->errors[i].depth == depth))
			return true;
	return false;
}

/* The errors Go's crypto/x509 reports as UnknownAuthorityError (no path to
 * a root), which OONI records as ssl_unknown_authority. */
static bool is_authority_error(int code)
{
	switch (code) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return true;
	default:
		return false;
	}
}

/* Go's crypto/x509 Verify order, which OONI's failure strings come from:
 * the leaf's own validity, then the host name, then building a path to a
 * root.  A chain recorded with several problems gets the first class that
 * order reaches, not the first error OpenSSL happened to report. */
static enum verdict_cert_fail cert_fail_class(const struct cert_analysis *ca)
{
	if (ca->trust != CERT_TRUST_UNTRUSTED)
		return VCERT_NONE;
	if (has_cert_error(ca, X509_V_ERR_CERT_HAS_EXPIRED, 0) ||
	    has_cert_error(ca, X509_V_ERR_CERT_NOT_YET_VALID, 0) ||
	    has_cert_error(ca, CERT_ERR_LEAF_UNPARSED, -1) ||
	    has_cert_error(ca, CERT_ERR_EMPTY_CHAIN, -1))
		return VCERT_INVALID_CERTIFICATE;
	if (has_cert_error(ca, X509_V_ERR_HOSTNAME_MISMATCH, -1) ||
	    has_cert_error(ca, CERT_ERR_BAD_SNI, -1))
		return VCERT_INVALID_HOSTNAME;
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (is_authority_error(ca->errors[i].code))
			return VCERT_UNKNOWN_AUTHORITY;
	return VCERT_INVALID_CERTIFICATE;
}

void verdict_apply_cert(struct verdict_result *vr, const struct cert_analysis *ca)
{
	enum verdict v = vr->verdict;
	if (ca->trust == CERT_TRUST_NOT_VISIBLE)
		return;
	if (ca->match == CERT_MATCH_FINGERPRINT || ca->match == CERT_MATCH_NAME) {
		if (v == V_OK || v == V_TLS_ALERT || v == V_INCOMPLETE ||
		    v == V_CLIENT_ABORT)
			verdict_set_cert(vr, V_TLS_MITM, cert_fail_class(ca));
		return;
	}
	if (ca->trust == CERT_TRUST_UNTRUSTED && (v == V_OK || v == V_CLIENT_ABORT))
		verdict_set_cert(vr, V_TLS_UNTRUSTED_CERT, cert_fail_class(ca));
}
