/* out_quic.c - the "quic" object of a flow event (RFC 9000 section 17.2 fields, RFC 9001 section 5 outcomes) and the QUIC stage's counters. */
#include <inttypes.h>

#include "out_quic.h"
#include "quic_keys.h"
#include "tls.h"
#include "util.h"

static void version(struct json *j, const char *key, uint32_t v)
{
	char buf[16];
	if (v)
		json_str(j, key, quic_version_name(v, buf, sizeof(buf)));
	else
		json_null(j, key);
}

static void client_hello(struct json *j, const struct tls_info *t)
{
	char vbuf[16];
	if (t->sni_present)
		json_strn(j, "sni", t->sni, t->sni_len);
	else
		json_null(j, "sni");
	json_packed_strs(j, "alpn", t->alpn_buf, t->alpn_bytes, t->alpn_len, tls_alpn_count(t));
	json_str(j, "ja3", t->ch_seen && t->ja3[0] ? t->ja3 : NULL);
	json_str(j, "ja4", t->ch_seen && t->ja4[0] ? t->ja4 : NULL);
	if (t->ch_seen) {
		json_arr_open(j, "tls_versions");
		for (int i = 0; i < t->n_versions && i < TLS_MAX_VERSIONS; i++)
			json_str(j, NULL, tls_version_name(t->versions[i], vbuf, sizeof(vbuf)));
		json_arr_close(j);
		json_bool(j, "ech", t->ech);
	}
}

static void server_hello(struct json *j, const struct tls_info *t)
{
	char buf[16];
	if (!t->sh_seen) {
		json_null(j, "tls_version");
		return;
	}
	json_str(j, "tls_version", tls_version_name(t->sh_version, buf, sizeof(buf)));
	json_str(j, "cipher", ts_hex16(t->sh_cipher, buf));
	json_str(j, "ja3s", t->ja3s[0] ? t->ja3s : NULL);
}

/* Packet counts and the evidence of the attempt. */
static void packets(struct json *j, const struct flow_record *r, const struct quic_info *q)
{
	json_uint(j, "initials", q->initials[0]);
	json_uint(j, "server_initials", q->initials[1]);
	json_uint(j, "retransmits", q->retransmits);
	json_uint(j, "padding_bytes", q->padding);
	json_uint(j, "handshake_packets", (uint64_t)q->handshake[0] + q->handshake[1]);
	json_uint(j, "short_packets", (uint64_t)q->short_hdr[0] + q->short_hdr[1]);
	if (q->zero_rtt)
		json_uint(j, "zero_rtt_packets", q->zero_rtt);
	if (q->dcids > 1)
		json_uint(j, "client_dcids", q->dcids);
	if (q->t_answer && q->t_answer >= q->t_anchor)
		json_double(j, "time_to_server_ms", (double)(q->t_answer - q->t_anchor) / 1000.0, 3);
	else
		json_null(j, "time_to_server_ms");
	if (r->vr.verdict == V_QUIC_STALL || r->vr.verdict == V_OK)
		json_uint(j, "silence_ms", r->vr.silence_us / 1000);
	if (q->retry)
		json_bool(j, "retry", true);
	if (q->client_close || q->server_close)
		json_str(j, "closed_by", q->client_close ? "client" : "server");
}

/* What could not be read, when something could not. */
static void problems(struct json *j, const struct quic_info *q)
{
	if (q->decrypt_failed)
		json_uint(j, "decrypt_failed", q->decrypt_failed);
	if (q->unknown_version)
		json_uint(j, "unknown_version_packets", q->unknown_version);
	if (q->truncated)
		json_uint(j, "truncated", q->truncated);
	if (q->malformed)
		json_uint(j, "malformed", q->malformed);
	if (q->hello_error[0] || q->hello_error[1])
		json_bool(j, "hello_error", true);
	if (q->crypto_gap[0] || q->crypto_gap[1])
		json_bool(j, "crypto_gap", true);
}

void out_quic_json(struct json *j, const struct flow_record *r)
{
	const struct quic_info *q = r->quic;
	json_obj_open(j, "quic");
	version(j, "version", q->version_server ? q->version_server : q->version);
	version(j, "client_version", q->version);
	if (q->vn) {
		json_arr_open(j, "versions_offered");
		for (unsigned i = 0; i < q->n_vn && i < QUIC_MAX_VN; i++) {
			char buf[16];
			json_str(j, NULL, quic_version_name(q->vn_versions[i], buf, sizeof(buf)));
		}
		json_arr_close(j);
	}
	json_bool(j, "decrypted", q->opened);
	client_hello(j, &q->tls);
	server_hello(j, &q->tls);
	/* Certificates travel in Handshake packets: never readable here. */
	json_str(j, "certificates", "not_visible");
	packets(j, r, q);
	problems(j, q);
	json_obj_close(j);
}

void out_quic_print_stats(FILE *out, const struct quic_stats *st)
{
	fprintf(out, "tamperscope:   QUIC: %" PRIu64 " flows, %" PRIu64 " Initials opened, %" PRIu64
		" failed to decrypt, %" PRIu64 " of unknown versions, %" PRIu64 " truncated, %" PRIu64
		" malformed\n", st->flows, st->initials_opened, st->decrypt_failed,
		st->unknown_version, st->truncated, st->malformed);
	uint64_t caps = st->coalesced_cap + st->opened_cap + st->derive_cap + st->region_cap +
			st->crypto_beyond_limit + st->crypto_dropped + st->hello_too_big;
	if (caps || st->alloc_failed || st->crypto_overlap_diffs || st->hello_errors)
		fprintf(out, "tamperscope:   QUIC caps: coalesced %" PRIu64 ", opened %" PRIu64
			", keys %" PRIu64 ", region %" PRIu64 ", CRYPTO beyond limit %" PRIu64
			", CRYPTO dropped %" PRIu64 ", hello too big %" PRIu64 "; hello errors %" PRIu64
			", CRYPTO overlaps differing %" PRIu64 ", out of memory %" PRIu64 "\n",
			st->coalesced_cap, st->opened_cap, st->derive_cap, st->region_cap,
			st->crypto_beyond_limit, st->crypto_dropped, st->hello_too_big,
			st->hello_errors, st->crypto_overlap_diffs, st->alloc_failed);
}
