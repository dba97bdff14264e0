/* out_evidence.c - writes a verdict and its evidence as JSON members.
 * Reads a finished struct verdict_result only; decides nothing. */
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
	json_uint(j, "rst_count", r->rst_count);
	json_bool(j, "rst_ack", r->rst_ack);
	json_uint(j, "rst_ttl", r->rst_ttl);
	if (r->ev & EV_REF_TTL) {
		json_uint(j, "synack_ttl", r->synack_ttl);
		json_int(j, "ttl_diff", r->ttl_diff);
	} else {
		json_null(j, "synack_ttl");
		json_null(j, "ttl_diff");
	}
	if (r->ev & EV_IPID)
		json_int(j, "ipid_diff", r->ipid_diff);
	else
		json_null(j, "ipid_diff");
	ms(j, "rst_delay_ms", r->rst_delay_us);
	json_bool(j, "rst_seq_change", r->rst_seq_change);
	json_bool(j, "rst_ack_change", r->rst_ack_change);
	json_bool(j, "data_after_reset", r->data_after_reset);
	json_uint(j, "packets_after_reset", r->packets_after_reset);
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
	json_str(j, "vantage", verdict_vantage_name(r->vantage));
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
	if (r->server_fin)
		json_bool(j, "server_fin", true);
	if (r->ev & EV_ALERT) {
		json_uint(j, "alert_level", r->alert_level);
		json_uint(j, "alert_description", r->alert_description);
	}
	json_obj_close(j);
}
