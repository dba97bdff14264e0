/* test_verdict.c - TCP observations, verdict rules, evidence, Cloudflare
 * signatures, Zeek history, residual blocking and the JSON members. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "json.h"
#include "out_evidence.h"
#include "reasm.h"
#include "residual.h"
#include "tcpobs.h"
#include "tls.h"
#include "verdict.h"

#define T0 1700000000000000ULL
#define MS 1000ULL
#define CH_LEN 517u

/* One simulated flow: client and server next sequence numbers, the
 * observations and the TLS facts the parser would have filled. */
struct sc {
	struct tcp_obs o;
	struct tls_info tls;
	uint32_t cseq, sseq;      /* next seq of each side */
	uint32_t cbase;           /* client stream offset 0 */
	uint8_t srv_ttl;
	uint16_t srv_ipid;
	bool tls_cand;
	bool gap[2];
	bool kernel_loss;
	uint8_t proto;
	struct verdict_cfg cfg;
	struct verdict_result r;
};

static void sc_init(struct sc *s)
{
	memset(s, 0, sizeof(*s));
	tcpobs_init(&s->o);
	s->cseq = 1000;
	s->sseq = 5000000;
	s->cbase = 1001;
	s->srv_ttl = 52;
	s->srv_ipid = 100;
	s->proto = 6;
	verdict_cfg_default(&s->cfg);
}

static struct ts_packet mk(uint64_t t_ms, uint8_t flags, uint32_t seq, uint32_t ack,
			   uint32_t len, uint8_t ttl, uint16_t ipid)
{
	struct ts_packet p;
	memset(&p, 0, sizeof(p));
	p.ts_us = T0 + t_ms * MS;
	p.ip_version = 4;
	p.proto = 6;
	p.tcp_flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.ttl = ttl;
	p.ip_id = ipid;
	p.payload_len = len;
	return p;
}

/* Client packet of len bytes at the client's next seq (advances it). */
static void cli(struct sc *s, uint64_t t_ms, uint8_t flags, uint32_t len)
{
	struct ts_packet p = mk(t_ms, flags, s->cseq, (flags & TH_ACK) ? s->sseq : 0, len, 64, 1);
	tcpobs_packet(&s->o, &p, 0, 0);
	s->cseq += len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
}

/* Client packet at an explicit seq (retransmissions). */
static void cli_at(struct sc *s, uint64_t t_ms, uint8_t flags, uint32_t seq, uint32_t len)
{
	struct ts_packet p = mk(t_ms, flags, seq, s->sseq, len, 64, 1);
	tcpobs_packet(&s->o, &p, 0, REASM_RETRANSMIT);
}

static void srv(struct sc *s, uint64_t t_ms, uint8_t flags, uint32_t len)
{
	struct ts_packet p = mk(t_ms, flags, s->sseq, s->cseq, len, s->srv_ttl, s->srv_ipid++);
	tcpobs_packet(&s->o, &p, 1, 0);
	s->sseq += len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
}

/* A RST claiming to come from the server with full control of the fields. */
static void srv_rst(struct sc *s, uint64_t t_ms, uint8_t flags, uint32_t seq, uint32_t ack,
		    uint8_t ttl, uint16_t ipid)
{
	struct ts_packet p = mk(t_ms, flags | TH_RST, seq, ack, 0, ttl, ipid);
	tcpobs_packet(&s->o, &p, 1, 0);
}

static void handshake(struct sc *s)
{
	cli(s, 0, TH_SYN, 0);
	srv(s, 50, TH_SYN | TH_ACK, 0);
	cli(s, 100, TH_ACK, 0);
}

/* The ClientHello in one segment: the parser reports it before the packet. */
static void client_hello(struct sc *s, uint64_t t_ms)
{
	s->tls_cand = true;
	s->tls.ch_seen = 1;
	tcpobs_tls(&s->o, 0, TLS_EV_CLIENT_HELLO | TLS_EV_RECORD, T0 + t_ms * MS,
		   s->cseq + CH_LEN - s->cbase);
	cli(s, t_ms, TH_ACK | TH_PUSH, CH_LEN);
}

/* A ClientHello split over two segments. */
static void client_hello_split(struct sc *s, uint64_t t1, uint64_t t2)
{
	s->tls_cand = true;
	cli(s, t1, TH_ACK, 300);
	s->tls.ch_seen = 1;
	tcpobs_tls(&s->o, 0, TLS_EV_CLIENT_HELLO | TLS_EV_RECORD, T0 + t2 * MS,
		   s->cseq + 217 - s->cbase);
	cli(s, t2, TH_ACK | TH_PUSH, 217);
}

static uint32_t ch_seq(const struct sc *s)
{
	return s->cbase; /* ClientHello is the first client data */
}

static void server_hello(struct sc *s, uint64_t t_ms)
{
	s->tls.sh_seen = 1;
	tcpobs_tls(&s->o, 1, TLS_EV_SERVER_HELLO | TLS_EV_RECORD, T0 + t_ms * MS, 1400);
	srv(s, t_ms, TH_ACK | TH_PUSH, 1400);
}

static const struct verdict_result *decide(struct sc *s, uint64_t now_ms, enum flow_end why)
{
	struct verdict_input in;
	memset(&in, 0, sizeof(in));
	in.obs = &s->o;
	in.tls = (s->tls.ch_seen || s->tls.sh_seen || s->tls.alert_seen[1]) ? &s->tls : NULL;
	in.gap[0] = s->gap[0];
	in.gap[1] = s->gap[1];
	in.tls_candidate = s->tls_cand;
	in.why = why;
	in.now_us = T0 + now_ms * MS;
	in.kernel_loss = s->kernel_loss;
	in.proto = s->proto;
	in.flow_start_us = T0;
	verdict_decide(&s->cfg, &in, &s->r);
	return &s->r;
}

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	static const char *const names[] = { "ok", "tls_stall", "tls_reset", "syn_timeout",
		"syn_reset", "tls_alert", "tls_mitm", "tls_untrusted_cert", "client_abort",
		"incomplete", "not_tls" };
	assert_int_equal(sizeof(names) / sizeof(names[0]), V__COUNT);
	for (int v = 0; v < V__COUNT; v++) {
		enum verdict back;
		assert_string_equal(verdict_name((enum verdict)v), names[v]);
		assert_int_equal(verdict_from_name(names[v], &back), 0);
		assert_int_equal(back, v);
	}
	enum verdict x;
	assert_int_equal(verdict_from_name("stall", &x), -1);
	assert_int_equal(verdict_from_name("", &x), -1);
	assert_int_equal(verdict_from_name(NULL, &x), -1);
	assert_string_equal(verdict_name((enum verdict)99), "unknown");

	assert_true(verdict_is_interference(V_TLS_STALL));
	assert_true(verdict_is_interference(V_TLS_RESET));
	assert_true(verdict_is_interference(V_SYN_TIMEOUT));
	assert_true(verdict_is_interference(V_SYN_RESET));
	assert_true(verdict_is_interference(V_TLS_MITM));
	assert_false(verdict_is_interference(V_TLS_ALERT));
	assert_false(verdict_is_interference(V_OK));
	assert_false(verdict_is_interference(V_INCOMPLETE));
	assert_false(verdict_is_interference(V_CLIENT_ABORT));
	assert_false(verdict_is_interference(V_NOT_TLS));
	assert_false(verdict_is_interference(V_TLS_UNTRUSTED_CERT));
	assert_true(verdict_is_failure(V_TLS_ALERT));
	assert_false(verdict_is_failure(V_CLIENT_ABORT));

	enum vantage vt;
	assert_int_equal(verdict_vantage_from_name("server", &vt), 0);
	assert_int_equal(vt, VANTAGE_SERVER);
	assert_int_equal(verdict_vantage_from_name("client", &vt), 0);
	assert_int_equal(vt, VANTAGE_CLIENT);
	assert_int_equal(verdict_vantage_from_name("unknown", &vt), 0);
	assert_int_equal(vt, VANTAGE_UNKNOWN);
	assert_int_equal(verdict_vantage_from_name("middle", &vt), -1);
	assert_int_equal(verdict_vantage_from_name(NULL, &vt), -1);

	struct verdict_cfg cfg;
	verdict_cfg_default(&cfg);
	assert_int_equal(cfg.stall_us, 3000000);
	assert_int_equal(cfg.residual_us, 180000000);
	assert_int_equal(cfg.vantage, VANTAGE_UNKNOWN);
	assert_true(sizeof(struct tcp_obs) <= 200);
}

static void test_ooni_failure(void **state)
{
	(void)state;
	struct verdict_result r;
	memset(&r, 0, sizeof(r));
	r.verdict = V_OK;
	assert_null(verdict_ooni_failure(&r));
	r.verdict = V_NOT_TLS;
	assert_null(verdict_ooni_failure(&r));
	r.verdict = V_INCOMPLETE;
	assert_null(verdict_ooni_failure(&r));
	r.verdict = V_CLIENT_ABORT;
	assert_null(verdict_ooni_failure(&r));
	r.verdict = V_TLS_STALL;
	assert_string_equal(verdict_ooni_failure(&r), "generic_timeout_error");
	r.verdict = V_SYN_TIMEOUT;
	assert_string_equal(verdict_ooni_failure(&r), "generic_timeout_error");
	r.verdict = V_TLS_RESET;
	assert_string_equal(verdict_ooni_failure(&r), "connection_reset");
	r.server_fin = true;
	assert_string_equal(verdict_ooni_failure(&r), "eof_error");
	r.server_fin = false;
	r.verdict = V_SYN_RESET;
	assert_string_equal(verdict_ooni_failure(&r), "connection_refused");
	r.verdict = V_TLS_ALERT;
	assert_string_equal(verdict_ooni_failure(&r), "ssl_failed_handshake");
	verdict_set_cert(&r, V_TLS_MITM, VCERT_NONE);
	assert_string_equal(verdict_ooni_failure(&r), "ssl_unknown_authority");
	verdict_set_cert(&r, V_TLS_UNTRUSTED_CERT, VCERT_INVALID_HOSTNAME);
	assert_string_equal(verdict_ooni_failure(&r), "ssl_invalid_hostname");
	verdict_set_cert(&r, V_TLS_UNTRUSTED_CERT, VCERT_NONE);
	assert_string_equal(verdict_ooni_failure(&r), "ssl_invalid_certificate");
	verdict_set_cert(&r, V_TLS_MITM, VCERT_INVALID_CERTIFICATE);
	assert_string_equal(verdict_ooni_failure(&r), "ssl_invalid_certificate");
}

/* ---- the 19 signatures (with the verdict each flow gets) ---------------- */

static void test_sig_syn_quiet(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	cli_at(&s, 1000, TH_SYN, 1000, 0);
	cli_at(&s, 3000, TH_SYN, 1000, 0);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "SYN→∅");
	assert_int_equal(r->verdict, V_SYN_TIMEOUT);
	assert_int_equal(r->syn_retransmits, 2);
	assert_string_equal(r->history, "S");
	assert_string_equal(r->end, "idle_timeout");
}

static void test_sig_syn_rst(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	srv_rst(&s, 30, 0, 0, 0, 60, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_string_equal(r->signature, "SYN→RST");
	assert_int_equal(r->verdict, V_SYN_RESET);
	assert_false(r->rst_ack);
	assert_int_equal(r->rst_ttl, 60);
	assert_int_equal(r->rst_delay_us, 30000);
	assert_string_equal(r->end, "server_rst");
}

static void test_sig_syn_rstack(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	srv_rst(&s, 30, TH_ACK, 0, 1001, 60, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_string_equal(r->signature, "SYN→RST+ACK");
	assert_int_equal(r->verdict, V_SYN_RESET);
	assert_true(r->rst_ack);
	assert_string_equal(r->history, "Sr");
	assert_string_equal(verdict_ooni_failure(r), "connection_refused");
}

static void test_sig_synack_quiet(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "SYN;ACK→∅");
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->reason, "no_client_data");
	assert_string_equal(r->history, "ShA");
}

static void test_sig_synack_rst(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	srv_rst(&s, 200, 0, s.sseq, 0, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_string_equal(r->signature, "SYN;ACK→RST");
	assert_int_equal(r->verdict, V_NOT_TLS);
}

/* A scan: SYN, SYN-ACK, client RST without data. */
static void test_sig_synack_rstack_scan(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	srv(&s, 50, TH_SYN | TH_ACK, 0);
	cli(&s, 100, TH_RST | TH_ACK, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	/* The client's ACK rides on its RST: no ACK stage, Cloudflare's
	 * server-side view is a SYN followed by a RST+ACK. */
	assert_string_equal(r->signature, "SYN→RST+ACK");
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->reason, "no_client_data");
	assert_string_equal(r->end, "client_rst");
	assert_string_equal(r->history, "ShR");
}

/* Handshake completed, then a RST+ACK (here from the client). */
static void test_sig_synack_rstack(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	cli(&s, 150, TH_RST | TH_ACK, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_string_equal(r->signature, "SYN;ACK→RST+ACK");
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->history, "ShAR");
}

static void ch_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
	client_hello(s, 101);
}

static void test_sig_psh_quiet(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	cli_at(&s, 1000, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "PSH→∅");
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->ch_retransmits, 2);
	assert_false(r->server_acked_ch);
	assert_int_equal(r->drop_direction, DROP_UNKNOWN);
	assert_string_equal(r->history, "ShADT");
	assert_int_equal(r->rtt_us, 100000);
}

static const struct verdict_result *psh_rsts(struct sc *s, const uint8_t *kinds,
					     const uint32_t *seqs, int n)
{
	ch_flow(s);
	for (int i = 0; i < n; i++)
		srv_rst(s, 130 + (uint64_t)i, kinds[i], seqs[i], kinds[i] ? s->cseq : 0, 52, 0);
	return decide(s, 6000, FLOW_END_CLOSED);
}

static void test_sig_psh_rst(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0 };
	uint32_t q[] = { 5000001 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 1);
	assert_string_equal(r->signature, "PSH→RST");
	assert_int_equal(r->verdict, V_TLS_RESET);
}

static void test_sig_psh_rstack(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { TH_ACK };
	uint32_t q[] = { 5000001 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 1);
	assert_string_equal(r->signature, "PSH→RST+ACK");
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->rst_ack);
}

static void test_sig_psh_both(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0, TH_ACK };
	uint32_t q[] = { 5000001, 5000001 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 2);
	assert_string_equal(r->signature, "PSH→RST;RST+ACK");
	assert_int_equal(r->rst_count, 2);
}

static void test_sig_psh_rst_eq(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0, 0, 0 };
	uint32_t q[] = { 5000001, 5000001, 5000001 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 3);
	assert_string_equal(r->signature, "PSH→RST=RST");
	assert_false(r->rst_seq_change);
}

static void test_sig_psh_rst_ne(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0, 0, 0 };
	uint32_t q[] = { 5000001, 5001461, 5002921 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 3);
	assert_string_equal(r->signature, "PSH→RST≠RST");
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->rst_seq_change);
	assert_true(r->injected);
	assert_true(r->injected_reasons & INJ_SEQ_CHANGE);
	assert_int_equal(r->rst_count, 3);
}

static void test_sig_psh_rstack_eq(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { TH_ACK, TH_ACK };
	uint32_t q[] = { 5000001, 5000001 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 2);
	assert_string_equal(r->signature, "PSH→RST+ACK=RST+ACK");
}

static void test_sig_psh_rstack_ne(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { TH_ACK, TH_ACK };
	uint32_t q[] = { 5000001, 5009999 };
	const struct verdict_result *r = psh_rsts(&s, k, q, 2);
	assert_string_equal(r->signature, "PSH→RST+ACK≠RST+ACK");
}

static void split_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
	client_hello_split(s, 101, 102);
}

static void test_sig_data_quiet(void **state)
{
	(void)state;
	struct sc s;
	split_flow(&s);
	cli_at(&s, 500, TH_ACK, ch_seq(&s), 300);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "PSH;Data→∅");
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->ch_retransmits, 1);
}

static const struct verdict_result *data_rsts(struct sc *s, const uint8_t *kinds,
					      const uint32_t *seqs, int n)
{
	split_flow(s);
	for (int i = 0; i < n; i++)
		srv_rst(s, 130 + (uint64_t)i, kinds[i], seqs[i], kinds[i] ? s->cseq : 0, 52, 0);
	return decide(s, 6000, FLOW_END_CLOSED);
}

static void test_sig_data_rst(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0 };
	uint32_t q[] = { 5000001 };
	const struct verdict_result *r = data_rsts(&s, k, q, 1);
	assert_string_equal(r->signature, "PSH;Data→RST");
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->ch_complete);
}

static void test_sig_data_rstack(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { TH_ACK };
	uint32_t q[] = { 5000001 };
	const struct verdict_result *r = data_rsts(&s, k, q, 1);
	assert_string_equal(r->signature, "PSH;Data→RST+ACK");
}

static void test_sig_data_both(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { TH_ACK, 0 };
	uint32_t q[] = { 5000001, 5000001 };
	const struct verdict_result *r = data_rsts(&s, k, q, 2);
	assert_string_equal(r->signature, "PSH;Data→RST;RST+ACK");
}

static void test_sig_data_rst_ne(void **state)
{
	(void)state;
	struct sc s;
	uint8_t k[] = { 0, 0 };
	uint32_t q[] = { 5000001, 5000100 };
	const struct verdict_result *r = data_rsts(&s, k, q, 2);
	assert_string_equal(r->signature, "PSH;Data→RST≠RST");
}

/* ---- signature "none" --------------------------------------------------- */

static void ok_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
	client_hello(s, 101);
	srv(s, 150, TH_ACK, 0);
	server_hello(s, 160);
	cli(s, 170, TH_ACK, 0);
	cli(s, 200, TH_ACK | TH_FIN, 0);
	srv(s, 250, TH_ACK | TH_FIN, 0);
	cli(s, 300, TH_ACK, 0);
}

static void test_ok_and_none(void **state)
{
	(void)state;
	struct sc s;
	ok_flow(&s);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_OK);
	assert_string_equal(r->signature, "none");
	assert_string_equal(r->history, "ShADadFf");
	assert_null(verdict_ooni_failure(r));
	assert_true(r->server_acked_ch);
	assert_string_equal(r->end, "client_fin");
	assert_int_equal(r->silence_us, 59000);
}

static void test_sig_none_many_packets(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	for (int i = 0; i < 10; i++)
		cli(&s, 200 + (uint64_t)i, TH_ACK | TH_PUSH, 100);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "none");
	assert_int_equal(r->verdict, V_TLS_STALL); /* the verdict has no window */
}

/* Seen from the client's side a blocked ClientHello is resent many times;
 * those resends do not fill the 10-packet window. */
static void test_sig_stall_retransmits_keep_psh(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	for (int i = 0; i < 12; i++)
		cli_at(&s, 300 + (uint64_t)i * 200, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->ch_retransmits, 12);
	assert_string_equal(r->signature, "PSH→∅");
}

static void test_sig_none_midstream(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	s.tls_cand = true;
	cli(&s, 0, TH_ACK | TH_PUSH, 100);
	srv(&s, 50, TH_ACK, 0);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_string_equal(r->signature, "none");
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->reason, "midstream");
}

/* The client gave up with a FIN after the server never answered: →∅. */
static void test_sig_fin_gave_up(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	cli(&s, 2000, TH_ACK | TH_FIN, 0);
	const struct verdict_result *r = decide(&s, 9000, FLOW_END_CLOSED);
	assert_string_equal(r->signature, "PSH→∅");
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_string_equal(r->end, "client_fin");
	assert_int_equal(r->silence_us, 1899000);
}

/* ---- tls_reset evidence ------------------------------------------------- */

static void test_reset_after_retransmit(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	srv_rst(&s, 450, 0, s.sseq, 0, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_int_equal(r->ch_retransmits, 1);
	assert_string_equal(r->signature, "PSH→RST");
	assert_string_equal(verdict_ooni_failure(r), "connection_reset");
}

static void test_reset_equal_ttl(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv(&s, 150, TH_ACK, 0);                         /* server ACKs the CH */
	srv_rst(&s, 250, TH_ACK, s.sseq, s.cseq, 52, s.srv_ipid);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_false(r->injected);
	assert_int_equal(r->injected_reasons, 0);
	assert_int_equal(r->ttl_diff, 0);
	assert_int_equal(r->ipid_diff, 1);
	assert_int_equal(r->rst_delay_us, 149000);
	assert_int_equal(r->silence_us, 149000); /* silence ends at the RST */
	assert_true(r->ev & EV_RST_INJ);
}

static void test_reset_injected(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	/* 10 ms after the CH with a 100 ms RTT, 7 hops closer, foreign IP ID. */
	srv_rst(&s, 111, TH_ACK, s.sseq, s.cseq, 59, 40000);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->injected);
	assert_int_equal(r->ttl_diff, 7);
	assert_int_equal(r->rst_ttl, 59);
	assert_int_equal(r->synack_ttl, 52);
	assert_true(r->injected_reasons & INJ_TTL);
	assert_true(r->injected_reasons & INJ_TIMING);
	assert_true(r->injected_reasons & INJ_IPID);
	assert_false(r->injected_reasons & INJ_DATA_AFTER_RESET);
	assert_int_equal(r->rst_delay_us, 10000);
	assert_int_equal(r->rtt_us, 100000);
	assert_false(r->server_acked_ch); /* a RST's ack proves no receipt */

	/* Timing says nothing when the capture sits at the server. */
	struct sc t;
	ch_flow(&t);
	t.cfg.vantage = VANTAGE_SERVER;
	srv_rst(&t, 111, TH_ACK, t.sseq, t.cseq, 52, 102);
	r = decide(&t, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_false(r->injected);
}

static void test_reset_multiple_changing_seq(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv_rst(&s, 120, TH_ACK, 7000, s.cseq, 52, 0);
	srv_rst(&s, 121, TH_ACK, 8460, s.cseq + 5, 52, 0);
	srv_rst(&s, 122, TH_ACK, 9920, s.cseq, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_int_equal(r->rst_count, 3);
	assert_true(r->rst_seq_change);
	assert_true(r->rst_ack_change);
	assert_true(r->injected_reasons & INJ_SEQ_CHANGE);
	assert_true(r->injected_reasons & INJ_ACK_CHANGE);
	assert_string_equal(r->signature, "PSH→RST+ACK≠RST+ACK");
}

/* The genuine ServerHello arrives after the injected RST: still a reset. */
static void test_reset_data_after(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv_rst(&s, 120, 0, s.sseq, 0, 52, 0);
	server_hello(&s, 200);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->data_after_reset);
	assert_int_equal(r->packets_after_reset, 1);
	assert_true(r->injected);
	assert_true(r->injected_reasons & INJ_DATA_AFTER_RESET);
	assert_string_equal(r->history, "ShADrd");
}

/* A RST after the ServerHello does not undo ok. */
static void test_rst_after_sh_ok(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	server_hello(&s, 200);
	srv_rst(&s, 300, 0, s.sseq, 0, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_OK);
	assert_string_equal(r->signature, "none");
}

/* RST after the first segment of a split ClientHello. */
static void test_reset_partial_ch(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	s.tls_cand = true;
	cli(&s, 101, TH_ACK, 300);
	srv_rst(&s, 130, 0, s.sseq, 0, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_false(r->ch_complete);
}

static void test_server_fin(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv(&s, 300, TH_ACK | TH_FIN, 0);
	cli(&s, 310, TH_ACK | TH_FIN, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_RESET);
	assert_true(r->server_fin);
	assert_string_equal(r->reason, "server_fin");
	assert_string_equal(r->end, "server_fin");
	assert_string_equal(verdict_ooni_failure(r), "eof_error");
}

/* ---- stall, abort, incomplete ------------------------------------------- */

static void test_client_abort_100ms(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli(&s, 201, TH_ACK | TH_RST, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_CLIENT_ABORT);
	assert_string_equal(r->reason, "closed_before_answer");
	assert_false(verdict_is_interference(r->verdict));
	assert_null(verdict_ooni_failure(r));

	/* A SYN abandoned after 100 ms. */
	struct sc t;
	sc_init(&t);
	cli(&t, 0, TH_SYN, 0);
	cli(&t, 100, TH_RST, 0);
	r = decide(&t, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_CLIENT_ABORT);
	assert_string_equal(r->reason, "syn_abandoned");
	assert_string_equal(r->signature, "SYN→RST");
}

/* Closing quickly but after a retransmission: the client gave up. */
static void test_close_after_retransmit_is_stall(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	cli(&s, 900, TH_ACK | TH_FIN, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_string_equal(verdict_ooni_failure(r), "generic_timeout_error");
}

static void test_capture_ends_after_ch(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	const struct verdict_result *r = decide(&s, 1101, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->reason, "capture_ended");
	assert_string_equal(r->end, "end_of_input");
	assert_string_equal(r->signature, "none");

	/* The same flow at 3.2 s is a stall. */
	r = decide(&s, 3200, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->silence_us, 3099000);
	/* Evicted 1 s after the CH: incomplete, not a stall. */
	r = decide(&s, 1101, FLOW_END_EVICTED);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->end, "evicted");
}

static void test_stall_server_acked(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv(&s, 150, TH_ACK, 0);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_true(r->server_acked_ch);
	assert_int_equal(r->drop_direction, DROP_SERVER_TO_CLIENT);
	assert_string_equal(r->signature, "PSH→∅");
}

static void test_stall_direction_unknown_and_server(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->drop_direction, DROP_UNKNOWN);

	s.cfg.vantage = VANTAGE_SERVER;
	r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_int_equal(r->drop_direction, DROP_CLIENT_TO_SERVER);
	assert_int_equal(r->vantage, VANTAGE_SERVER);
}

/* The server, alive 1 s later, still acknowledges only the handshake. */
static void test_stall_server_dupack_below_ch(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	struct ts_packet p = mk(1200, TH_ACK, s.sseq, 1001, 0, 52, 200);
	tcpobs_packet(&s.o, &p, 1, 0);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_TLS_STALL);
	assert_false(r->server_acked_ch);
	assert_int_equal(r->drop_direction, DROP_CLIENT_TO_SERVER);

	/* The same ACK crossing the CH in flight (20 ms later) proves nothing. */
	struct sc t;
	ch_flow(&t);
	p = mk(121, TH_ACK, t.sseq, 1001, 0, 52, 200);
	tcpobs_packet(&t.o, &p, 1, 0);
	r = decide(&t, 130000, FLOW_END_IDLE);
	assert_int_equal(r->drop_direction, DROP_UNKNOWN);
}

static void test_one_direction(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	s.sseq = 5000001;
	cli(&s, 100, TH_ACK, 0);
	client_hello(&s, 101);
	cli_at(&s, 400, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_true(r->one_direction);
	assert_string_equal(r->reason, "one_direction");
}

static void test_syn_timeout_and_incomplete(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	cli_at(&s, 1000, TH_SYN, 1000, 0);
	const struct verdict_result *r = decide(&s, 1500, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->signature, "none");
	r = decide(&s, 4000, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_SYN_TIMEOUT);
	assert_string_equal(r->signature, "SYN→∅");
	assert_string_equal(verdict_ooni_failure(r), "generic_timeout_error");
	assert_int_equal(r->blocked_at_us, T0);
}

static void test_syn_reset(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	cli(&s, 0, TH_SYN, 0);
	srv_rst(&s, 40, TH_ACK, 0, 1001, 57, 0);
	const struct verdict_result *r = decide(&s, 40, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_SYN_RESET);
	assert_true(verdict_is_interference(r->verdict));
	assert_int_equal(r->rst_delay_us, 40000);
}

static void test_not_tls(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	cli(&s, 101, TH_ACK | TH_PUSH, 80); /* "GET / HTTP/1.1" */
	srv(&s, 200, TH_ACK | TH_PUSH, 500);
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->reason, "no_client_hello");
	assert_string_equal(r->signature, "none");

	struct sc u;
	sc_init(&u);
	u.proto = 17;
	r = decide(&u, 1000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->reason, "not_tcp");
	assert_string_equal(r->signature, "none");

	/* The server answered the CH with something that is not TLS. */
	struct sc b;
	ch_flow(&b);
	srv(&b, 150, TH_ACK | TH_PUSH, 200);
	r = decide(&b, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_NOT_TLS);
	assert_string_equal(r->reason, "server_not_tls");
}

static void test_tls_alert(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	s.tls.alert_seen[1] = 1;
	s.tls.alert_level[1] = 2;
	s.tls.alert_desc[1] = 112; /* unrecognized_name */
	tcpobs_tls(&s.o, 1, TLS_EV_ALERT | TLS_EV_RECORD, T0 + 200 * MS, 7);
	srv(&s, 200, TH_ACK | TH_PUSH, 7);
	srv_rst(&s, 201, TH_ACK, s.sseq, s.cseq, 52, 0);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_TLS_ALERT);
	assert_int_equal(r->alert_level, 2);
	assert_int_equal(r->alert_description, 112);
	assert_false(verdict_is_interference(r->verdict));
	assert_string_equal(verdict_ooni_failure(r), "ssl_failed_handshake");
	assert_string_equal(r->signature, "none");

	/* A warning alert is not a failure: the ServerHello makes it ok. */
	struct sc w;
	ok_flow(&w);
	w.tls.alert_seen[1] = 1;
	w.tls.alert_level[1] = 1;
	r = decide(&w, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_OK);
}

static void test_loss_makes_incomplete(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	s.kernel_loss = true;
	const struct verdict_result *r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->reason, "kernel_loss");

	ch_flow(&s);
	s.gap[1] = true;
	r = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->reason, "server_gap");
	assert_string_equal(r->history, "ShADg");

	/* A complete ServerHello is decisive even with loss elsewhere. */
	ok_flow(&s);
	s.gap[0] = true;
	r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(r->verdict, V_OK);
	assert_string_equal(r->history, "ShADadFfG");
}

/* Scan after handshake, capture cut short: incomplete, not not_tls. */
static void test_handshake_then_eof(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	const struct verdict_result *r = decide(&s, 600, FLOW_END_EOF);
	assert_int_equal(r->verdict, V_INCOMPLETE);
	assert_string_equal(r->reason, "capture_ended");
}

/* Hostile/odd input: no observations at all, wrapping sequence numbers,
 * timestamps going backwards, saturating counters. */
static void test_hostile(void **state)
{
	(void)state;
	struct verdict_cfg cfg;
	struct verdict_input in;
	struct verdict_result r;
	verdict_cfg_default(&cfg);
	memset(&in, 0, sizeof(in));
	in.proto = 6;
	in.why = FLOW_END_EOF;
	verdict_decide(&cfg, &in, &r);     /* obs NULL */
	assert_int_equal(r.verdict, V_NOT_TLS);
	assert_string_equal(r.signature, "none");
	assert_string_equal(r.history, "");

	struct sc s;
	sc_init(&s);
	s.cseq = 0xffffff00u;
	s.cbase = 0xffffff01u;
	handshake(&s);
	client_hello(&s, 101);               /* the CH wraps past 2^32 */
	srv(&s, 150, TH_ACK, 0);
	const struct verdict_result *v = decide(&s, 130000, FLOW_END_IDLE);
	assert_int_equal(v->verdict, V_TLS_STALL);
	assert_true(v->server_acked_ch);
	assert_int_equal(v->drop_direction, DROP_SERVER_TO_CLIENT);

	/* Time going backwards never produces huge durations. */
	sc_init(&s);
	cli(&s, 5000, TH_SYN, 0);
	struct ts_packet p = mk(0, TH_SYN, 1000, 0, 0, 64, 0);
	tcpobs_packet(&s.o, &p, 0, 0);
	v = decide(&s, 1000, FLOW_END_EOF);
	assert_int_equal(v->verdict, V_INCOMPLETE);

	/* Thousands of retransmissions saturate, RSTs too. */
	ch_flow(&s);
	for (int i = 0; i < 70000; i++)
		cli_at(&s, 200, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN);
	for (int i = 0; i < 300; i++)
		srv_rst(&s, 300, 0, (uint32_t)i, 0, 52, 0);
	v = decide(&s, 6000, FLOW_END_CLOSED);
	assert_int_equal(v->ch_retransmits, UINT16_MAX);
	assert_int_equal(v->verdict, V_TLS_RESET);
	/* Retransmissions of the ClientHello do not use up the 10-packet
	 * window, so the server's RSTs (changing seq) still make the signature. */
	assert_string_equal(v->signature, "PSH→RST≠RST");
	assert_true(strlen(v->history) < sizeof(v->history));
}

/* Every letter in both directions fits the history buffer. */
static void test_history_all_letters(void **state)
{
	(void)state;
	struct sc s;
	sc_init(&s);
	handshake(&s);
	srv(&s, 60, TH_SYN, 0);                     /* s */
	client_hello(&s, 101);
	cli_at(&s, 300, TH_ACK | TH_PUSH, ch_seq(&s), CH_LEN); /* T */
	srv(&s, 350, TH_ACK, 0);                    /* a */
	srv(&s, 400, TH_ACK | TH_PUSH, 100);
	struct ts_packet p = mk(500, TH_ACK | TH_PUSH, s.sseq - 100, s.cseq, 100, 52, 9);
	tcpobs_packet(&s.o, &p, 1, 0);              /* t */
	cli(&s, 600, TH_FIN | TH_ACK, 0);
	srv(&s, 600, TH_FIN | TH_ACK, 0);
	cli(&s, 700, TH_RST, 0);
	srv_rst(&s, 700, 0, 1, 0, 52, 0);
	struct ts_packet q = mk(701, TH_SYN | TH_ACK, 1, 1, 0, 64, 0);
	tcpobs_packet(&s.o, &q, 0, 0);              /* H */
	s.gap[0] = s.gap[1] = true;
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_CLOSED);
	assert_string_equal(r->history, "ShAsDTadtFfRrHGg");
}

/* ---- residual blocking -------------------------------------------------- */

static void set_v4(struct ts_addr *a, uint8_t last)
{
	memset(a, 0, sizeof(*a));
	a->a[10] = a->a[11] = 0xff;
	a->a[12] = 198;
	a->a[13] = 18;
	a->a[15] = last;
	a->v4 = 1;
}

static void mk_flow(struct flow *f, uint8_t cli_last, uint8_t srv_last, uint16_t port,
		    uint64_t start_s)
{
	memset(f, 0, sizeof(*f));
	set_v4(&f->cli, cli_last);
	set_v4(&f->srv, srv_last);
	f->sport = port;
	f->cport = 40000;
	f->first_us = T0 + start_s * 1000000ULL;
}

static void mk_vr(struct verdict_result *vr, enum verdict v, uint64_t blocked_s)
{
	memset(vr, 0, sizeof(*vr));
	vr->verdict = v;
	vr->blocked_at_us = blocked_s == UINT64_MAX ? 0 : T0 + blocked_s * 1000000ULL;
}

static void test_residual(void **state)
{
	(void)state;
	struct verdict_cfg cfg;
	struct residual_table *rt = residual_new(64, &(struct hseed){ { 1, 2 } });
	struct flow f;
	struct verdict_result vr;
	assert_non_null(rt);
	verdict_cfg_default(&cfg);

	mk_flow(&f, 1, 2, 443, 0);
	mk_vr(&vr, V_TLS_STALL, 0);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);                 /* the trigger itself */

	mk_flow(&f, 1, 2, 443, 100);               /* within 180 s */
	mk_vr(&vr, V_SYN_TIMEOUT, 100);
	residual_apply(rt, &cfg, &f, &vr);
	assert_true(vr.residual);

	mk_flow(&f, 1, 2, 8443, 101);              /* other port */
	mk_vr(&vr, V_TLS_STALL, 101);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);

	mk_flow(&f, 1, 2, 443, 150);               /* a success is never residual */
	mk_vr(&vr, V_OK, UINT64_MAX);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);

	mk_flow(&f, 1, 2, 443, 100 + 181);         /* 181 s after the last block */
	mk_vr(&vr, V_TLS_STALL, 100 + 181);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);

	mk_flow(&f, 1, 2, 443, 100 + 181 + 179);   /* renewed by the one above */
	mk_vr(&vr, V_TLS_ALERT, UINT64_MAX);
	residual_apply(rt, &cfg, &f, &vr);
	assert_true(vr.residual);

	mk_flow(&f, 3, 2, 443, 290);               /* other client */
	mk_vr(&vr, V_TLS_STALL, 290);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);

	const struct residual_stats *st = residual_stats(rt);
	assert_int_equal(st->residual, 2);
	assert_int_equal(st->recorded, 5);
	residual_free(rt);
	residual_free(NULL);
}

/* A flow that started before the block was not blocked residually. */
static void test_residual_concurrent(void **state)
{
	(void)state;
	struct verdict_cfg cfg;
	struct residual_table *rt = residual_new(4, &(struct hseed){ { 1, 2 } });
	struct flow f;
	struct verdict_result vr;
	verdict_cfg_default(&cfg);
	mk_flow(&f, 1, 2, 443, 10);
	mk_vr(&vr, V_TLS_RESET, 10);
	residual_apply(rt, &cfg, &f, &vr);
	mk_flow(&f, 1, 2, 443, 5);
	mk_vr(&vr, V_TLS_RESET, 5);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);
	residual_free(rt);
}

/* The cap evicts and counts; the work per flow stays bounded. */
static void test_residual_cap(void **state)
{
	(void)state;
	struct verdict_cfg cfg;
	struct residual_table *rt = residual_new(1, &(struct hseed){ { 1, 2 } });
	struct flow f;
	struct verdict_result vr;
	verdict_cfg_default(&cfg);
	for (int i = 0; i < 200; i++) {
		mk_flow(&f, (uint8_t)i, 2, 443, 1);
		mk_vr(&vr, V_TLS_STALL, 1);
		residual_apply(rt, &cfg, &f, &vr);
	}
	const struct residual_stats *st = residual_stats(rt);
	assert_int_equal(st->recorded, 200);
	assert_true(st->evicted >= 200 - 16);
	residual_free(rt);
}

/* ---- JSON --------------------------------------------------------------- */

static char *render(const struct verdict_result *r)
{
	struct json j;
	json_init(&j);
	json_obj_open(&j, NULL);
	out_verdict_json(&j, r);
	out_evidence_json(&j, r);
	json_obj_close(&j);
	assert_false(j.oom);
	char *s = strndup(j.buf, j.len);
	json_free(&j);
	return s;
}

static void test_json_reset(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv_rst(&s, 111, TH_ACK, s.sseq, s.cseq, 59, 40000);
	char *t = render(decide(&s, 6000, FLOW_END_CLOSED));
	assert_non_null(strstr(t, "\"verdict\":\"tls_reset\""));
	assert_non_null(strstr(t, "\"ooni_failure\":\"connection_reset\""));
	assert_non_null(strstr(t, "\"signature\":\"PSH→RST+ACK\""));
	assert_non_null(strstr(t, "\"history\":\"ShADr\""));
	assert_non_null(strstr(t, "\"evidence\":{"));
	assert_non_null(strstr(t, "\"end\":\"server_rst\""));
	assert_non_null(strstr(t, "\"reason\":null"));
	assert_non_null(strstr(t, "\"rst_ttl\":59"));
	assert_non_null(strstr(t, "\"synack_ttl\":52"));
	assert_non_null(strstr(t, "\"ttl_diff\":7"));
	assert_non_null(strstr(t, "\"rtt_ms\":100.000"));
	assert_non_null(strstr(t, "\"rst_delay_ms\":10.000"));
	assert_non_null(strstr(t, "\"injected\":true"));
	assert_non_null(strstr(t, "\"injected_reasons\":[\"ttl\",\"ipid\",\"timing\"]"));
	assert_non_null(strstr(t, "\"data_after_reset\":false"));
	assert_non_null(strstr(t, "\"residual\":false"));
	assert_int_equal(t[strlen(t) - 1], '}');
	assert_int_equal(t[strlen(t) - 2], '}');
	free(t);
}

static void test_json_stall_and_ok(void **state)
{
	(void)state;
	struct sc s;
	ch_flow(&s);
	srv(&s, 150, TH_ACK, 0);
	char *t = render(decide(&s, 130000, FLOW_END_IDLE));
	assert_non_null(strstr(t, "\"verdict\":\"tls_stall\""));
	assert_non_null(strstr(t, "\"ooni_failure\":\"generic_timeout_error\""));
	assert_non_null(strstr(t, "\"drop_direction\":\"server_to_client\""));
	assert_non_null(strstr(t, "\"server_acked_ch\":true"));
	assert_non_null(strstr(t, "\"ch_retransmits\":0"));
	assert_non_null(strstr(t, "\"silence_ms\":129899"));
	assert_non_null(strstr(t, "\"end\":\"idle_timeout\""));
	assert_null(strstr(t, "rst_ttl"));
	free(t);

	ok_flow(&s);
	t = render(decide(&s, 6000, FLOW_END_CLOSED));
	assert_non_null(strstr(t, "\"verdict\":\"ok\",\"ooni_failure\":null,"
				  "\"signature\":\"none\",\"history\":\"ShADadFf\""));
	assert_null(strstr(t, "drop_direction"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ooni_failure),
		cmocka_unit_test(test_sig_syn_quiet),
		cmocka_unit_test(test_sig_syn_rst),
		cmocka_unit_test(test_sig_syn_rstack),
		cmocka_unit_test(test_sig_synack_quiet),
		cmocka_unit_test(test_sig_synack_rst),
		cmocka_unit_test(test_sig_synack_rstack_scan),
		cmocka_unit_test(test_sig_synack_rstack),
		cmocka_unit_test(test_sig_psh_quiet),
		cmocka_unit_test(test_sig_psh_rst),
		cmocka_unit_test(test_sig_psh_rstack),
		cmocka_unit_test(test_sig_psh_both),
		cmocka_unit_test(test_sig_psh_rst_eq),
		cmocka_unit_test(test_sig_psh_rst_ne),
		cmocka_unit_test(test_sig_psh_rstack_eq),
		cmocka_unit_test(test_sig_psh_rstack_ne),
		cmocka_unit_test(test_sig_data_quiet),
		cmocka_unit_test(test_sig_data_rst),
		cmocka_unit_test(test_sig_data_rstack),
		cmocka_unit_test(test_sig_data_both),
		cmocka_unit_test(test_sig_data_rst_ne),
		cmocka_unit_test(test_ok_and_none),
		cmocka_unit_test(test_sig_none_many_packets),
		cmocka_unit_test(test_sig_stall_retransmits_keep_psh),
		cmocka_unit_test(test_sig_none_midstream),
		cmocka_unit_test(test_sig_fin_gave_up),
		cmocka_unit_test(test_reset_after_retransmit),
		cmocka_unit_test(test_reset_equal_ttl),
		cmocka_unit_test(test_reset_injected),
		cmocka_unit_test(test_reset_multiple_changing_seq),
		cmocka_unit_test(test_reset_data_after),
		cmocka_unit_test(test_rst_after_sh_ok),
		cmocka_unit_test(test_reset_partial_ch),
		cmocka_unit_test(test_server_fin),
		cmocka_unit_test(test_client_abort_100ms),
		cmocka_unit_test(test_close_after_retransmit_is_stall),
		cmocka_unit_test(test_capture_ends_after_ch),
		cmocka_unit_test(test_stall_server_acked),
		cmocka_unit_test(test_stall_direction_unknown_and_server),
		cmocka_unit_test(test_stall_server_dupack_below_ch),
		cmocka_unit_test(test_one_direction),
		cmocka_unit_test(test_syn_timeout_and_incomplete),
		cmocka_unit_test(test_syn_reset),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_tls_alert),
		cmocka_unit_test(test_loss_makes_incomplete),
		cmocka_unit_test(test_handshake_then_eof),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_history_all_letters),
		cmocka_unit_test(test_residual),
		cmocka_unit_test(test_residual_concurrent),
		cmocka_unit_test(test_residual_cap),
		cmocka_unit_test(test_json_reset),
		cmocka_unit_test(test_json_stall_and_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
