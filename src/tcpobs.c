/* tcpobs.c - per-flow TCP observations (RFC 9293 sections 3.5 and 3.10.7)
 * feeding the verdict: first-occurrence times, sequence landmarks, server
 * RST fingerprints, Zeek history letters and the Cloudflare signature
 * stage.  Constant work per packet; no allocation. */
#include <string.h>

#include "reasm.h"
#include "seq.h"
#include "tcpobs.h"
#include "tls.h"

/* Zeek history letters in the order of their mask bits. */
static const char hist_letters[] = "SHADFRTG";
enum { H_S, H_H, H_A, H_D, H_F, H_R, H_T, H_G };

/* It lives in every flow: keep it small. */
_Static_assert(sizeof(struct tcp_obs) <= 200, "struct tcp_obs grew past 200 bytes");

/* Without a measured RTT, a server packet this long after the ClientHello
 * cannot have crossed it in flight. */
#define ACK_BELOW_CH_DEFAULT_US 200000u

void tcpobs_init(struct tcp_obs *o)
{
	memset(o, 0, sizeof(*o));
}

static uint16_t sat_inc16(uint16_t v)
{
	return v == UINT16_MAX ? v : (uint16_t)(v + 1);
}

static uint8_t sat_inc8(uint8_t v)
{
	return v == UINT8_MAX ? v : (uint8_t)(v + 1);
}

/* Offset of ts from the first packet; saturates instead of wrapping, and
 * a timestamp going backwards (merged captures) counts as the start. */
static uint32_t obs_off(struct tcp_obs *o, uint64_t ts_us)
{
	if (!(o->flags & OBS_T0)) {
		o->t0_us = ts_us;
		o->flags |= OBS_T0;
	}
	if (ts_us <= o->t0_us)
		return 0;
	uint64_t d = ts_us - o->t0_us;
	return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

static void hist_add(struct tcp_obs *o, int dir, int letter)
{
	uint8_t bit = (uint8_t)(1u << letter);
	if (o->hist_mask[dir] & bit)
		return;
	o->hist_mask[dir] |= bit;
	if (o->hist_len + 1 >= TCPOBS_HIST_MAX)
		return; /* cannot happen: 8 letters x 2 directions fit */
	char c = hist_letters[letter];
	o->hist[o->hist_len++] = dir == 0 ? c : (char)(c - 'A' + 'a');
	o->hist[o->hist_len] = '\0';
}

static uint32_t stream_base(const struct tcp_obs *o)
{
	return (o->flags & OBS_SYN) ? o->cli_isn + 1 : o->cli_data0;
}

bool tcpobs_ch_end(const struct tcp_obs *o, uint32_t *seq)
{
	if (!(o->flags & OBS_CH) || !(o->flags & (OBS_SYN | OBS_CLI_DATA)))
		return false;
	*seq = stream_base(o) + o->ch_off;
	return true;
}

bool tcpobs_rtt_us(const struct tcp_obs *o, uint32_t *rtt)
{
	uint32_t need = OBS_SYN | OBS_SYNACK | OBS_HS_ACK;
	if ((o->flags & need) != need || o->t_hs_ack < o->t_syn)
		return false;
	*rtt = o->t_hs_ack - o->t_syn;
	return true;
}

bool tcpobs_client_answered(const struct tcp_obs *o)
{
	/* Every client segment after the server's first bytes arrived carries
	 * an ACK covering them (its Finished and application data too), so the
	 * acknowledgment alone says whether the answer got through. */
	return (o->cli_flags & CLI_ACKV) && (o->flags & OBS_SRV_DATA) &&
	       seq_gt(o->cli_max_ack, o->srv_data0);
}

/* ---- Cloudflare signature stage ---------------------------------------- */

static void sig_rst(struct tcp_obs *o, const struct ts_packet *p)
{
	if (o->flags & OBS_SIG_OVER)
		return;
	int kind = (p->tcp_flags & TH_ACK) ? 1 : 0;
	if (o->sig_rst[0] == 0 && o->sig_rst[1] == 0)
		o->sig_stage_at_rst = o->sig_stage;
	if (o->sig_rst[kind] == 0)
		o->sig_rst_seq[kind] = p->seq;
	else if (p->seq != o->sig_rst_seq[kind])
		o->sig_rst_change |= (uint8_t)(1u << kind);
	o->sig_rst[kind] = sat_inc8(o->sig_rst[kind]);
}

static bool sig_rst_seen(const struct tcp_obs *o)
{
	return o->sig_rst[0] || o->sig_rst[1];
}

/* Advance the stage with one client packet.  new_data: the payload went
 * beyond everything the client sent before (not a retransmission). */
static void sig_client(struct tcp_obs *o, const struct ts_packet *p, uint32_t t,
		       bool new_data)
{
	if (o->flags & OBS_SIG_OVER)
		return;
	uint8_t fl = p->tcp_flags;
	/* Retransmissions of the stage's own packet do not use up the
	 * window: the paper counts what reached the server, and a blocked
	 * ClientHello that the client resends eight times reached it at most
	 * once.  Without this a stall seen from the client's side would
	 * overflow the window and lose its PSH→∅. */
	bool retx = (!(fl & TH_RST) && (fl & TH_SYN) && !(fl & TH_ACK) &&
		     o->sig_stage == SIG_SYN) ||
		    (!(fl & (TH_RST | TH_SYN)) && p->payload_len > 0 && !new_data &&
		     o->sig_stage >= SIG_PSH);
	if (!retx) {
		if (o->sig_cli_pkts >= TCPOBS_SIG_WINDOW) {
			o->flags |= OBS_SIG_OVER;
			return;
		}
		o->sig_cli_pkts++;
	}
	if (o->sig_cli_pkts == 1 && !((fl & TH_SYN) && !(fl & TH_ACK)))
		o->flags |= OBS_SIG_NOSYN;
	if (fl & TH_RST) {
		sig_rst(o, p);
		return;
	}
	if (fl & TH_SYN) {
		if (o->sig_stage == SIG_NONE) {
			o->sig_stage = SIG_SYN;
			o->t_stage = t;
		}
		return;
	}
	if (p->payload_len > 0) {
		uint32_t end = p->seq + p->payload_len;
		if (o->sig_stage < SIG_PSH) {
			o->sig_stage = SIG_PSH;
			o->sig_psh_end = end;
			o->t_stage = t;
		} else if (o->sig_stage == SIG_PSH && seq_geq(p->seq, o->sig_psh_end)) {
			o->sig_stage = SIG_DATA;
			o->t_stage = t;
		} else if (o->sig_stage == SIG_DATA && new_data) {
			o->t_stage = t; /* stage time: last new data */
		}
		return;
	}
	if ((fl & TH_ACK) && o->sig_stage == SIG_SYN) {
		o->sig_stage = SIG_ACK;
		o->t_stage = t;
	}
}

/* ---- client packets ---------------------------------------------------- */

static void client_payload(struct tcp_obs *o, const struct ts_packet *p, uint32_t t,
			   unsigned reasm_bits, bool *new_data)
{
	uint32_t end = p->seq + p->payload_len;
	*new_data = true;
	if (!(o->flags & OBS_CLI_DATA)) {
		o->flags |= OBS_CLI_DATA;
		o->t_cli_data = t;
		o->cli_data0 = p->seq;
		o->cli_max_end = end;
		hist_add(o, 0, H_D);
		return;
	}
	hist_add(o, 0, H_D);
	bool retx = seq_lt(p->seq, o->cli_max_end) ||
		    (reasm_bits & (REASM_RETRANSMIT | REASM_OVERLAP_DIFF));
	if (retx) {
		uint32_t ch_end;
		o->cli_retx = sat_inc16(o->cli_retx);
		hist_add(o, 0, H_T);
		/* Bytes before the ClientHello's end, or any resend while it
		 * is still incomplete, are ClientHello retransmissions. */
		if (!tcpobs_ch_end(o, &ch_end) || seq_lt(p->seq, ch_end)) {
			o->ch_retransmits = sat_inc16(o->ch_retransmits);
			/* The server had it: the client resends because the
			 * server's acknowledgment never reached it. */
			if (o->flags & OBS_ACKED_CH)
				o->ch_retx_acked = sat_inc16(o->ch_retx_acked);
		}
	}
	if (seq_gt(end, o->cli_max_end))
		o->cli_max_end = end;
	else
		*new_data = false;
}

/* A RST claiming to come from the client: at the server's side of a path,
 * an injector's RST toward the server looks like this. */
static void client_rst(struct tcp_obs *o, const struct ts_packet *p, uint32_t t)
{
	hist_add(o, 0, H_R);
	o->cli_rst_count = sat_inc8(o->cli_rst_count);
	if (!(o->flags & (OBS_CLI_FIN | OBS_CLI_RST)))
		o->t_cli_close = t;
	if (o->flags & OBS_CLI_RST)
		return;
	o->flags |= OBS_CLI_RST;
	o->t_cli_rst = t;
	o->cli_rst_ttl = p->ttl;
	o->cli_rst_ipid = p->ip_id;
	if (p->tcp_flags & TH_ACK)
		o->cli_flags |= CLI_RST_ACK;
	if (o->flags & OBS_CH)
		o->cli_flags |= CLI_RST_AFTER_CH;
	if (!tcpobs_client_answered(o))
		o->cli_flags |= CLI_RST_UNANSWERED;
}

/* TTL, IP ID and acknowledgment of the client's own packets (not its
 * RSTs): what an injected RST is compared with. */
static void client_fingerprint(struct tcp_obs *o, const struct ts_packet *p)
{
	if (!(o->cli_flags & CLI_REF)) {
		o->cli_ref_ttl = p->ttl;
		o->cli_flags |= CLI_REF;
	}
	if (p->tcp_flags & TH_RST)
		return;
	if (!(o->flags & OBS_CLI_RST)) {
		o->cli_last_ipid = p->ip_id;
		o->cli_flags |= CLI_IPID;
	} else if (p->payload_len > 0) {
		o->cli_flags |= CLI_DATA_AFTER_RST;
	}
	if ((p->tcp_flags & TH_ACK) &&
	    (!(o->cli_flags & CLI_ACKV) || seq_gt(p->ack, o->cli_max_ack))) {
		o->cli_max_ack = p->ack;
		o->cli_flags |= CLI_ACKV;
	}
}

static void client_packet(struct tcp_obs *o, const struct ts_packet *p, uint32_t t,
			  unsigned reasm_bits)
{
	uint8_t fl = p->tcp_flags;
	bool new_data = false;

	o->flags |= OBS_CLI_ANY;
	o->t_cli_last = t;
	client_fingerprint(o, p);
	if ((fl & TH_SYN) && !(fl & TH_ACK) && !(fl & TH_RST)) {
		if (!(o->flags & OBS_SYN)) {
			o->flags |= OBS_SYN;
			o->cli_isn = p->seq;
			o->t_syn = t;
		}
		if (!(o->flags & OBS_SYNACK)) {
			o->t_syn_last = t;
			o->cli_flags |= CLI_SYN_BEFORE_SYNACK;
		}
		o->syn_count = sat_inc16(o->syn_count);
		hist_add(o, 0, H_S);
	} else if ((fl & TH_SYN) && (fl & TH_ACK)) {
		hist_add(o, 0, H_H); /* client sent a SYN-ACK: roles odd */
	}
	if ((fl & TH_ACK) && !(fl & TH_SYN) && !(o->flags & OBS_HS_ACK) &&
	    ((o->flags & OBS_SYNACK) || !(o->flags & OBS_SYN))) {
		o->flags |= OBS_HS_ACK;
		o->t_hs_ack = t;
	}
	if (p->payload_len > 0 && !(fl & TH_SYN))
		client_payload(o, p, t, reasm_bits, &new_data);
	else if ((fl & TH_ACK) && !(fl & (TH_SYN | TH_FIN | TH_RST)))
		hist_add(o, 0, H_A);
	if (fl & TH_FIN) {
		hist_add(o, 0, H_F);
		if (!(o->flags & (OBS_CLI_FIN | OBS_CLI_RST)))
			o->t_cli_close = t;
		o->flags |= OBS_CLI_FIN;
	}
	if (fl & TH_RST)
		client_rst(o, p, t);
	sig_client(o, p, t, new_data);
}

/* ---- server packets ---------------------------------------------------- */

static void server_rst(struct tcp_obs *o, const struct ts_packet *p, uint32_t t)
{
	bool with_ack = (p->tcp_flags & TH_ACK) != 0;
	hist_add(o, 1, H_R);
	sig_rst(o, p);
	o->rst_count = sat_inc16(o->rst_count);
	if (!(o->flags & OBS_SRV_RST)) {
		o->flags |= OBS_SRV_RST;
		o->t_rst = t;
		o->rst_seq = p->seq;
		o->rst_ack = p->ack;
		o->rst_ttl = p->ttl;
		o->rst_ipid = p->ip_id;
		if (with_ack)
			o->flags |= OBS_RST_ACK;
		if (!(o->flags & OBS_SH))
			o->flags |= OBS_RST_BEFORE_SH;
		if (o->flags & OBS_CLI_DATA)
			o->flags |= OBS_RST_AFTER_CDATA;
		return;
	}
	/* Weaver et al. (NDSS'09): an injector racing the server guesses
	 * several sequence numbers, a real stack repeats the same one. */
	if (p->seq != o->rst_seq)
		o->flags |= OBS_RST_SEQ_CHANGE;
	if (with_ack && (o->flags & OBS_RST_ACK) && p->ack != o->rst_ack)
		o->flags |= OBS_RST_ACK_CHANGE;
}

/* A server packet that proves the server is alive but never got the whole
 * ClientHello: it acknowledges less, long enough after the ClientHello
 * that it cannot have crossed it in flight. */
static void server_ack_check(struct tcp_obs *o, const struct ts_packet *p, uint32_t t)
{
	uint32_t ch_end, rtt;
	if (!(p->tcp_flags & TH_ACK))
		return;
	if (!(o->flags & OBS_SRV_ACKV) || seq_gt(p->ack, o->srv_max_ack)) {
		o->srv_max_ack = p->ack;
		o->flags |= OBS_SRV_ACKV;
	}
	if (!tcpobs_ch_end(o, &ch_end))
		return;
	if (seq_geq(p->ack, ch_end)) {
		if (!(o->flags & OBS_ACKED_CH)) {
			o->flags |= OBS_ACKED_CH;
			o->t_ack_ch = t;
		}
		return;
	}
	if (p->tcp_flags & (TH_SYN | TH_RST))
		return;
	uint32_t wait = tcpobs_rtt_us(o, &rtt) && rtt > 0 ? rtt : ACK_BELOW_CH_DEFAULT_US;
	if (t >= o->t_ch && t - o->t_ch > wait)
		o->flags |= OBS_ACK_BELOW_CH;
}

void tcpobs_preamble(struct tcp_obs *o, uint32_t srv_tls_seq)
{
	o->flags |= OBS_PREAMBLE;
	o->flags &= ~OBS_SRV_DATA;
	o->srv_tls_seq = srv_tls_seq;
}

static void server_payload(struct tcp_obs *o, const struct ts_packet *p, uint32_t t)
{
	uint32_t end = p->seq + p->payload_len;
	hist_add(o, 1, H_D);
	if ((o->flags & OBS_PREAMBLE) && seq_leq(end, o->srv_tls_seq))
		return; /* its side of the preamble */
	if (!(o->flags & OBS_SRV_DATA)) {
		o->flags |= OBS_SRV_DATA;
		o->t_srv_data = t;
		o->srv_data0 = p->seq;
		o->srv_max_end = end;
		if (!(o->flags & OBS_SRV_RST) && !sig_rst_seen(o))
			o->flags |= OBS_SIG_SRV_DATA;
		return;
	}
	if (!sig_rst_seen(o))
		o->flags |= OBS_SIG_SRV_DATA;
	if (seq_lt(p->seq, o->srv_max_end)) {
		o->srv_retx = sat_inc16(o->srv_retx);
		hist_add(o, 1, H_T);
	}
	if (seq_gt(end, o->srv_max_end))
		o->srv_max_end = end;
}

static void server_packet(struct tcp_obs *o, const struct ts_packet *p, uint32_t t)
{
	uint8_t fl = p->tcp_flags;

	o->srv_pkts = sat_inc16(o->srv_pkts);
	o->t_srv_last = t;
	if (fl & TH_RST) {
		/* Its ack is not evidence of receipt: an injector acknowledges
		 * exactly the ClientHello it is resetting. */
		o->flags |= OBS_SRV_ANY;
		server_rst(o, p, t);
		return;
	}
	if (o->flags & OBS_SRV_RST) {
		o->pkts_after_rst = sat_inc16(o->pkts_after_rst);
		if (p->payload_len > 0)
			o->flags |= OBS_DATA_AFTER_RST;
	} else {
		/* Fingerprint of the genuine server, before any RST. */
		bool synack = (fl & TH_SYN) && (fl & TH_ACK);
		if (!(o->flags & OBS_SRV_REF) || (synack && !o->ref_from_synack)) {
			o->srv_ref_ttl = p->ttl;
			o->ref_from_synack = synack;
			o->flags |= OBS_SRV_REF;
		}
		o->srv_last_ipid = p->ip_id;
		o->flags |= OBS_SRV_IPID;
	}
	if ((fl & TH_SYN) && (fl & TH_ACK)) {
		if (!(o->flags & OBS_SYNACK)) {
			o->flags |= OBS_SYNACK;
			o->t_synack = t;
		}
		hist_add(o, 1, H_H);
	} else if (fl & TH_SYN) {
		hist_add(o, 1, H_S);
	}
	server_ack_check(o, p, t);
	o->flags |= OBS_SRV_ANY;
	if (p->payload_len > 0 && !(fl & TH_SYN))
		server_payload(o, p, t);
	else if ((fl & TH_ACK) && !(fl & (TH_SYN | TH_FIN)))
		hist_add(o, 1, H_A);
	if (fl & TH_FIN) {
		hist_add(o, 1, H_F);
		if (!(o->flags & OBS_SRV_FIN)) {
			o->flags |= OBS_SRV_FIN;
			o->t_srv_fin = t;
		}
	}
}

void tcpobs_packet(struct tcp_obs *o, const struct ts_packet *p, int dir,
		   unsigned reasm_bits)
{
	uint32_t t = obs_off(o, p->ts_us);
	if (!o->ip_version)
		o->ip_version = p->ip_version;
	if (dir == 0)
		client_packet(o, p, t, reasm_bits);
	else
		server_packet(o, p, t);
}

void tcpobs_tls(struct tcp_obs *o, int dir, unsigned tls_ev, uint64_t ts_us,
		uint32_t stream_off)
{
	uint32_t t = obs_off(o, ts_us);
	if (dir == 0) {
		if ((tls_ev & TLS_EV_CLIENT_HELLO) && !(o->flags & OBS_CH)) {
			o->flags |= OBS_CH;
			o->t_ch = t;
			o->ch_off = stream_off;
		}
		return;
	}
	if ((tls_ev & (TLS_EV_RECORD | TLS_EV_SERVER_HELLO | TLS_EV_ALERT)) &&
	    !(o->flags & OBS_SRV_TLS)) {
		o->flags |= OBS_SRV_TLS;
		o->t_srv_tls = t;
	}
	if ((tls_ev & TLS_EV_SERVER_HELLO) && !(o->flags & OBS_SH)) {
		o->flags |= OBS_SH;
		o->t_sh = t;
	}
	if ((tls_ev & TLS_EV_ALERT) && !(o->flags & OBS_SRV_ALERT)) {
		o->flags |= OBS_SRV_ALERT;
		o->t_alert = t;
	}
}
