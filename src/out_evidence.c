/* out_evidence.c - writes a verdict and its evidence as JSON members.
 * Reads a finished struct verdict_result only; decides nothing. */
#include "out_app.h"
#include "out_evidence.h"

void out_verdict_json(struct json *j, const struct verdict_result *r)
{
	json_str(j, "verdict", verdict_name(r->verdict));
	json_str(j, "ooni_failure", verdict_ooni_failure(r));
	json_str(j, "signature", r->signature ? r->signature : "none");
	json_str(j, "history", r->history);
}

/* Milliseconds with microsecond precision: LAN round trips are below 1 ms. */
static void ms(struct json *j, const char *key, uint64_t us)
{
	json_double(j, key, (double)us / 1000.0, 3);
}

static void ch_members(struct json *j, const struct verdict_result *r)
{
	json_bool(j, "ch_complete", r->ch_complete);
	json_uint(j, "ch_retransmits", r->ch_retransmits);
	json_bool(j, "server_acked_ch", r->server_acked_ch);
	json_uint(j, "silence_ms", r->silence_us / 1000);
	if (r->ev & EV_ANSWER)
		json_bool(j, "answer_acked", r->answer_acked);
	if (r->ev & EV_DROP)
		json_str(j, "drop_direction", verdict_drop_direction_name(r->drop_direction));
}

static void injected_members(struct json *j, const struct verdict_result *r)
{
	json_bool(j, "injected", r->injected);
	json_arr_open(j, "injected_reasons");
	for (unsigned bit = 1; bit < (1u << INJ__COUNT); bit <<= 1)
		if (r->injected_reasons & bit)
			json_str(j, NULL, verdict_injected_reason_name(bit));
	json_arr_close(j);
}

static void rst_members(struct json *j, const struct verdict_result *r)
{
	/* A RST claiming the client's address (seen at the server) is
	 * compared with the client's own packets, and what is only tracked
	 * for server RSTs is left out. */
	const char *ref = r->rst_from_client ? "client_ttl" : "synack_ttl";

	json_str(j, "rst_from", r->rst_from_client ? "client" : "server");
	json_uint(j, "rst_count", r->rst_count);
	json_bool(j, "rst_ack", r->rst_ack);
	json_uint(j, "rst_ttl", r->rst_ttl);
	if (r->ev & EV_REF_TTL) {
		json_uint(j, ref, r->synack_ttl);
		json_int(j, "ttl_diff", r->ttl_diff);
	} else {
		json_null(j, ref);
		json_null(j, "ttl_diff");
	}
	if (r->ev & EV_IPID)
		json_int(j, "ipid_diff", r->ipid_diff);
	else
		json_null(j, "ipid_diff");
	ms(j, "rst_delay_ms", r->rst_delay_us);
	if (!r->rst_from_client) {
		json_bool(j, "rst_seq_change", r->rst_seq_change);
		json_bool(j, "rst_ack_change", r->rst_ack_change);
	}
	json_bool(j, "data_after_reset", r->data_after_reset);
	if (!r->rst_from_client)
		json_uint(j, "packets_after_reset", r->packets_after_reset);
	if (r->ev & EV_RST_INJ)
		injected_members(j, r);
}

/* A DNS or HTTP answer that another box sent: the signs, as for a RST. */
static void answer_members(struct json *j, const struct verdict_result *r)
{
	if (r->ev & EV_REF_TTL) {
		json_uint(j, "synack_ttl", r->synack_ttl);
		json_int(j, "ttl_diff", r->ttl_diff);
		json_int(j, "ipid_diff", r->http_ipid_diff);
	}
	if (r->ev & EV_RST_INJ)
		injected_members(j, r);
}

void out_evidence_json(struct json *j, const struct verdict_result *r)
{
	json_obj_open(j, "evidence");
	json_str(j, "end", r->end ? r->end : "closed");
	json_str(j, "reason", r->reason);
	json_bool(j, "residual", r->residual);
	json_bool(j, "one_direction", r->one_direction);
	if (r->clock_jump)
		json_bool(j, "clock_jump", true);
	if (r->scanner)
		json_bool(j, "scanner", true);
	json_str(j, "vantage", vantage_name(r->vantage));
	json_str(j, "vantage_by", vantage_basis_name(r->vantage_by));
	if (r->ev & EV_RTT)
		ms(j, "rtt_ms", r->rtt_us);
	else
		json_null(j, "rtt_ms");
	if (r->ev & EV_SYN)
		json_uint(j, "syn_retransmits", r->syn_retransmits);
	if (r->ev & EV_CH)
		ch_members(j, r);
	else if (r->ev & EV_DROP) /* QUIC: no ClientHello segment of its own */
		json_str(j, "drop_direction", verdict_drop_direction_name(r->drop_direction));
	if (r->ev & EV_RST)
		rst_members(j, r);
	else if (r->ev & (EV_DNS | EV_HTTP))
		answer_members(j, r);
	out_app_evidence(j, r);
	if (r->server_fin)
		json_bool(j, "server_fin", true);
	if (r->ev & EV_ALERT) {
		json_uint(j, "alert_level", r->alert_level);
		json_uint(j, "alert_description", r->alert_description);
	}
	if (r->pcap_written) {
		json_uint(j, "pcap_packets", r->pcap_packets);
		json_bool(j, "pcap_truncated", r->pcap_truncated);
	}
	json_obj_close(j);
}
