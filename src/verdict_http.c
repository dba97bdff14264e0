/* verdict_http.c - the verdict of a plain HTTP/1.x flow (rules in
 * verdict_http.h; RFC 9112 section 9.6 connection close, RFC 9293
 * section 3.10.7.4 reset processing). */
#include <string.h>

#include "blockpage.h"
#include "http.h"
#include "verdict_http.h"

static uint64_t since(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

/* blockpages_http asks one header at a time and reads its value before
 * asking the next, so one buffer serves every question. */
struct header_arg {
	const struct http_info *h;
	char buf[HTTP_FIELD_MAX + 1];
};

static const char *header_of(void *arg, const char *name)
{
	struct header_arg *a = arg;
	return http_header(a->h, name, a->buf, sizeof(a->buf));
}

/* What says the response's sender was not the server: INJ_* bits. */
static unsigned injected_by(const struct verdict_cfg *cfg, const struct http_info *h,
			    struct verdict_result *vr)
{
	unsigned why = 0;
	if (h->synack_seen) {
		vr->synack_ttl = h->synack_ttl;
		vr->ttl_diff = (int16_t)((int)h->resp_ttl - (int)h->synack_ttl);
		vr->ev |= EV_REF_TTL;
		if (vr->ttl_diff)
			why |= INJ_TTL;
		if (h->resp_ip_version == 4 && h->resp_ipid && h->synack_ipid) {
			vr->http_ipid_diff = (int16_t)(uint16_t)(h->resp_ipid - h->synack_ipid);
			if (vr->http_ipid_diff > 1000 || vr->http_ipid_diff < -1000)
				why |= INJ_IPID;
		}
	}
	/* the server's answer cannot come sooner than a round trip after
	 * the request left; at the server's side this says nothing */
	if ((vr->ev & EV_RTT) && vr->rtt_us >= 1000 && vr->vantage != VANTAGE_SERVER &&
	    vr->http_delay_us * 4 < (uint64_t)vr->rtt_us * 3)
		why |= INJ_TIMING;
	if (h->other_sender)
		why |= INJ_RACE;
	return why;
}

static enum verdict response(const struct verdict_cfg *cfg, const struct blockpages *bp,
			     const struct flow *f, uint64_t req_us, struct verdict_result *vr)
{
	const struct http_info *h = f->http;
	vr->http_ttl = h->resp_ttl;
	vr->http_delay_us = since(req_us, h->resp_us);
	const struct blockpage *b = blockpages_addr(bp, &f->srv);
	if (!b && h->resp_state == HTTP_DONE) {
		struct header_arg ha = { .h = h };
		b = blockpages_http(bp, header_of, &ha, h->body, h->body_len);
	}
	unsigned why = injected_by(cfg, h, vr);
	vr->injected_reasons = why;
	vr->injected = why != 0;
	vr->ev |= EV_RST_INJ;
	if (b) {
		vr->blockpage = b;
		vr->reason = "blockpage_fingerprint";
	} else if (why) {
		vr->reason = "injected";
	} else {
		return V_OK;
	}
	vr->blocked_at_us = h->resp_us;
	return V_HTTP_BLOCKPAGE;
}

static enum verdict no_response(const struct verdict_cfg *cfg, const struct tcp_obs *o,
				uint64_t req_us, uint64_t now_us, struct verdict_result *vr)
{
	uint64_t end = now_us;
	bool cli_closed = tcpobs_has(o, OBS_CLI_FIN | OBS_CLI_RST);
	if (cli_closed && tcpobs_abs(o, o->t_cli_close) < end)
		end = tcpobs_abs(o, o->t_cli_close);
	if (tcpobs_has(o, OBS_SRV_RST) && tcpobs_abs(o, o->t_rst) >= req_us) {
		verdict_reset_evidence(cfg, o, now_us, req_us, vr);
		return V_HTTP_RESET;
	}
	if (!tcpobs_has(o, OBS_SRV_ANY)) {
		vr->one_direction = true;
		vr->reason = "one_direction";
		return V_INCOMPLETE;
	}
	vr->http_delay_us = since(req_us, end);
	if (tcpobs_has(o, OBS_SRV_FIN) && tcpobs_abs(o, o->t_srv_fin) >= req_us &&
	    (!cli_closed || o->t_srv_fin < o->t_cli_close)) {
		vr->server_fin = true;
		vr->reason = "server_fin";
		vr->blocked_at_us = tcpobs_abs(o, o->t_srv_fin);
		return V_HTTP_RESET;
	}
	if (cli_closed && o->cli_retx == 0 && vr->http_delay_us < cfg->stall_us) {
		vr->reason = "closed_before_answer";
		return V_CLIENT_ABORT;
	}
	if (cli_closed || vr->http_delay_us >= cfg->stall_us) {
		vr->blocked_at_us = req_us;
		return V_HTTP_STALL;
	}
	vr->reason = "capture_ended";
	return V_INCOMPLETE;
}

void verdict_http_apply(const struct verdict_cfg *cfg, const struct blockpages *bp,
			const struct flow *f, uint64_t now_us, struct verdict_result *vr)
{
	const struct http_info *h = f->http;
	const struct tcp_obs *o = &f->obs;
	if (!h || !h->version || !tcpobs_has(o, OBS_CLI_DATA))
		return;
	if (vr->verdict == V_INCOMPLETE && vr->reason &&
	    (strcmp(vr->reason, "kernel_loss") == 0 || strcmp(vr->reason, "server_gap") == 0))
		return;
	uint64_t req_us = tcpobs_abs(o, o->t_cli_data);
	vr->ev |= EV_HTTP;
	vr->reason = NULL;
	if (h->resp_us)
		vr->verdict = response(cfg, bp, f, req_us, vr);
	else
		vr->verdict = no_response(cfg, o, req_us, now_us, vr);
}
