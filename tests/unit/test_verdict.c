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

/* The flows most cases start from. */
static void handshake_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
}

static void ch_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
	client_hello(s, 101);
}

static void split_flow(struct sc *s)
{
	sc_init(s);
	handshake(s);
	client_hello_split(s, 101, 102);
}

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

/* ---- names -------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	/* In enum order: the name and whether the verdict is interference. */
	static const struct {
		const char *name;
		bool interference;
	} verdicts[] = {
		{ "ok", false },
		{ "tls_stall", true },
		{ "tls_reset", true },
		{ "syn_timeout", true },
		{ "syn_reset", true },
		{ "tls_alert", false },
		{ "tls_mitm", true },
		{ "tls_untrusted_cert", false },
		{ "client_abort", false },
		{ "incomplete", false },
		{ "not_tls", false },
		{ "quic_stall", true },
		{ "dns_injection", true },
		{ "dns_blockpage", true },
		{ "dns_timeout", true },
		{ "dns_error", false },
		{ "http_blockpage", true },
		{ "http_reset", true },
		{ "http_stall", true },
	};
	assert_int_equal(sizeof(verdicts) / sizeof(verdicts[0]), V__COUNT);
	for (int v = 0; v < V__COUNT; v++) {
		enum verdict back;
		assert_string_equal(verdict_name((enum verdict)v), verdicts[v].name);
		assert_int_equal(verdict_from_name(verdicts[v].name, &back), 0);
		assert_int_equal(back, v);
		assert_int_equal(verdict_is_interference((enum verdict)v), verdicts[v].interference);
	}
	enum verdict x;
	assert_int_equal(verdict_from_name("stall", &x), -1);
	assert_int_equal(verdict_from_name("", &x), -1);
	assert_int_equal(verdict_from_name(NULL, &x), -1);
	assert_string_equal(verdict_name((enum verdict)99), "unknown");

	assert_true(verdict_is_failure(V_TLS_ALERT));
	assert_false(verdict_is_failure(V_CLIENT_ABORT));

	enum vantage vt;
	assert_int_equal(vantage_from_name("server", &vt), 0);
	assert_int_equal(vt, VANTAGE_SERVER);
	assert_int_equal(vantage_from_name("client", &vt), 0);
	assert_int_equal(vt, VANTAGE_CLIENT);
	assert_int_equal(vantage_from_name("unknown", &vt), 0);
	assert_int_equal(vt, VANTAGE_UNKNOWN);
	assert_int_equal(vantage_from_name("auto", &vt), 0);
	assert_int_equal(vt, VANTAGE_AUTO);
	assert_int_equal(vantage_from_name("middle", &vt), -1);
	assert_int_equal(vantage_from_name(NULL, &vt), -1);
	assert_string_equal(vantage_basis_name(VB_RTT), "rtt");
	assert_string_equal(vantage_basis_name(VB_TTL), "ttl");
	assert_string_equal(vantage_basis_name(VB_OPTION), "option");
	assert_string_equal(vantage_basis_name(VB_NONE), "none");
	assert_string_equal(vantage_basis_name(VB_CONFLICT), "conflict");

	struct verdict_cfg cfg;
	verdict_cfg_default(&cfg);
	assert_int_equal(cfg.stall_us, 3000000);
	assert_int_equal(cfg.residual_us, 180000000);
	assert_int_equal(cfg.vantage, VANTAGE_AUTO);
	assert_true(sizeof(struct tcp_obs) <= 200);
}

static void test_ooni_failure(void **state)
{
	(void)state;
	/* The failure string OONI would record; the certificate verdicts
	 * arrive through verdict_set_cert, as in the engine. */
	static const struct {
		enum verdict verdict;
		bool server_fin;
		bool set_cert;
		enum verdict_cert_fail cert_fail;
		const char *ooni;                /* NULL: no failure */
	} rows[] = {
		{ V_OK, false, false, VCERT_NONE, NULL },
		{ V_NOT_TLS, false, false, VCERT_NONE, NULL },
		{ V_INCOMPLETE, false, false, VCERT_NONE, NULL },
		{ V_CLIENT_ABORT, false, false, VCERT_NONE, NULL },
		{ V_TLS_STALL, false, false, VCERT_NONE, "generic_timeout_error" },
		{ V_SYN_TIMEOUT, false, false, VCERT_NONE, "generic_timeout_error" },
		{ V_TLS_RESET, false, false, VCERT_NONE, "connection_reset" },
		{ V_TLS_RESET, true, false, VCERT_NONE, "eof_error" },
		{ V_SYN_RESET, false, false, VCERT_NONE, "connection_refused" },
		{ V_TLS_ALERT, false, false, VCERT_NONE, "ssl_failed_handshake" },
		{ V_TLS_MITM, false, true, VCERT_NONE, "ssl_unknown_authority" },
		{ V_TLS_UNTRUSTED_CERT, false, true, VCERT_INVALID_HOSTNAME, "ssl_invalid_hostname" },
		{ V_TLS_UNTRUSTED_CERT, false, true, VCERT_NONE, "ssl_invalid_certificate" },
		{ V_TLS_MITM, false, true, VCERT_INVALID_CERTIFICATE, "ssl_invalid_certificate" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct verdict_result r;
		memset(&r, 0, sizeof(r));
		r.verdict = rows[i].verdict;
		r.server_fin = rows[i].server_fin;
		if (rows[i].set_cert)
			verdict_set_cert(&r, rows[i].verdict, rows[i].cert_fail);
		if (rows[i].ooni == NULL)
			assert_null(verdict_ooni_failure(&r));
		else
			assert_string_equal(verdict_ooni_failure(&r), rows[i].ooni);
	}
}

/* ---- the case table ------------------------------------------------------
 *
 * Each row is one simulated flow: where it starts (a flow function above),
 * a short script of packets and TLS events, how and when it is decided, and
 * what the verdict and its evidence must be.  Every row runs as its own
 * cmocka test under its own name (main builds the list). */

/* A sequence or acknowledgement number in a script: a literal, or relative
 * to the flow's state when the step runs. */
enum ref_base { REF_LIT = 0, REF_SSEQ, REF_CSEQ, REF_CH };
struct ref {
	enum ref_base base;
	uint32_t v;
};
#define N(v) { REF_LIT, (uint32_t)(v) }
#define SSEQ(d) { REF_SSEQ, (uint32_t)(d) } /* the server's next seq + d */
#define CSEQ(d) { REF_CSEQ, (uint32_t)(d) } /* the client's next seq + d */
#define CH_SEQ { REF_CH, 0 }                 /* the ClientHello's first byte */

enum op {
	OP_END = 0,
	OP_CLI,           /* cli() */
	OP_CLI_AT,        /* cli_at(): a retransmission */
	OP_SRV,           /* srv() */
	OP_PKT,           /* a packet with every field given (RSTs, odd ACKs) */
	OP_CH,            /* client_hello() */
	OP_SH,            /* server_hello() */
	OP_ALERT_SEEN,    /* the parser saw a server alert (level, desc) */
	OP_ALERT_RECORD,  /* ... and its 7-byte record crossed the wire */
	OP_SYNACK_UNSEEN, /* the server's SYN-ACK was sent but not captured */
};

#define SRV_IPID (-1) /* OP_PKT: the IP ID the server would use next */

struct step {
	enum op op;
	uint64_t t;         /* packet time, ms after the first SYN */
	uint8_t flags;      /* TH_* */
	uint32_t len;       /* payload bytes */
	struct ref seq, ack;
	uint8_t dir;        /* OP_PKT: 0 client, 1 server */
	uint8_t ttl;        /* OP_PKT */
	int32_t ipid;       /* OP_PKT, or SRV_IPID */
	uint8_t level, desc; /* OP_ALERT_SEEN */
	unsigned n, dt;     /* run n times (0: once), dt ms apart */
};

/* The trailing arguments are more designators (.n, .dt). */
#define CLI(t_, fl, len_, ...) { .op = OP_CLI, .t = (t_), .flags = (fl), .len = (len_), __VA_ARGS__ }
#define CLI_AT(t_, fl, seq_, len_, ...) \
	{ .op = OP_CLI_AT, .t = (t_), .flags = (fl), .seq = seq_, .len = (len_), __VA_ARGS__ }
#define SRV(t_, fl, len_) { .op = OP_SRV, .t = (t_), .flags = (fl), .len = (len_) }
#define SRV_PKT(t_, fl, seq_, ack_, ttl_, ipid_) \
	{ .op = OP_PKT, .dir = 1, .t = (t_), .flags = (fl), .seq = seq_, .ack = ack_, \
	  .ttl = (ttl_), .ipid = (ipid_) }
/* A client packet with every field given: the client's own TTL (64) and
 * IP ID (1) unless the script changes them. */
#define CLI_PKT(t_, fl, seq_, ack_, len_, ttl_, ...) \
	{ .op = OP_PKT, .dir = 0, .t = (t_), .flags = (fl), .seq = seq_, .ack = ack_, \
	  .len = (len_), .ttl = (ttl_), .ipid = 1, __VA_ARGS__ }
/* The server's seq after its SYN-ACK: an ACK of nothing it sent since. */
#define SRV_DATA0 N(5000001)
/* A RST claiming to come from the server (srv_rst()). */
#define RST(t_, fl, seq_, ack_, ttl_, ipid_) \
	{ .op = OP_PKT, .dir = 1, .t = (t_), .flags = (fl) | TH_RST, .seq = seq_, .ack = ack_, \
	  .ttl = (ttl_), .ipid = (ipid_) }
#define CH(t_) { .op = OP_CH, .t = (t_) }
#define SH(t_) { .op = OP_SH, .t = (t_) }
#define ALERT_SEEN(lvl, dsc) { .op = OP_ALERT_SEEN, .level = (lvl), .desc = (dsc) }
#define ALERT_RECORD(t_) { .op = OP_ALERT_RECORD, .t = (t_) }
#define SYNACK_UNSEEN { .op = OP_SYNACK_UNSEEN }

/* One member of struct verdict_result and what it must hold: equal to a
 * value, or each of some bits set or clear. */
enum want_how { W_EQ, W_BITS_SET, W_BITS_CLEAR };
struct want {
	const char *name;   /* NULL ends the list */
	size_t off, size;
	enum want_how how;
	uint64_t v;
};
#define MEMBER(f) #f, offsetof(struct verdict_result, f), sizeof(((struct verdict_result *)0)->f)
#define EQ(f, val) { MEMBER(f), W_EQ, (uint64_t)(val) }
#define BITS_SET(f, bits) { MEMBER(f), W_BITS_SET, (uint64_t)(bits) }
#define BITS_CLEAR(f, bits) { MEMBER(f), W_BITS_CLEAR, (uint64_t)(bits) }

enum tri { ANY = 0, YES, NO };

#define MAX_STEPS 6
#define MAX_WANT 10

struct vcase {
	const char *name;
	void (*flow)(struct sc *);  /* the flow so far; NULL: sc_init() only */
	bool tls_cand;              /* the client's stream began like TLS */
	struct step steps[MAX_STEPS];
	/* decided with: */
	enum vantage vantage;
	uint8_t proto;              /* 0: TCP */
	bool gap[2], kernel_loss;
	uint64_t at;                /* packet clock, ms */
	enum flow_end why;
	/* expected: */
	enum verdict verdict;
	const char *sig, *hist, *reason, *end; /* NULL: not checked */
	const char *ooni;           /* NULL: not checked, unless no_ooni */
	bool no_ooni;               /* verdict_ooni_failure() is NULL */
	enum tri interference;      /* verdict_is_interference() */
	struct want want[MAX_WANT];
};

static const struct vcase cases[] = {
	/* -- the 19 signatures (with the verdict each flow gets) -- */
	{ "sig_syn_quiet",
	  .steps = { CLI(0, TH_SYN, 0), CLI_AT(1000, TH_SYN, N(1000), 0),
		     CLI_AT(3000, TH_SYN, N(1000), 0) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_SYN_TIMEOUT, .sig = "SYN→∅", .hist = "S", .end = "idle_timeout",
	  .want = { EQ(syn_retransmits, 2) } },
	{ "sig_syn_rst",
	  .steps = { CLI(0, TH_SYN, 0), RST(30, 0, N(0), N(0), 60, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_SYN_RESET, .sig = "SYN→RST", .end = "server_rst",
	  .want = { EQ(rst_ack, false), EQ(rst_ttl, 60), EQ(rst_delay_us, 30000) } },
	{ "sig_syn_rstack",
	  .steps = { CLI(0, TH_SYN, 0), RST(30, TH_ACK, N(0), N(1001), 60, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_SYN_RESET, .sig = "SYN→RST+ACK", .hist = "Sr", .ooni = "connection_refused",
	  .want = { EQ(rst_ack, true) } },
	{ "sig_synack_quiet", handshake_flow,
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_NOT_TLS, .sig = "SYN;ACK→∅", .reason = "no_client_data", .hist = "ShA" },
	{ "sig_synack_rst", handshake_flow,
	  .steps = { RST(200, 0, SSEQ(0), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_NOT_TLS, .sig = "SYN;ACK→RST" },
	/* A scan: SYN, SYN-ACK, client RST without data.  The client's ACK
	 * rides on its RST: no ACK stage, Cloudflare's server-side view is a
	 * SYN followed by a RST+ACK. */
	{ "sig_synack_rstack_scan",
	  .steps = { CLI(0, TH_SYN, 0), SRV(50, TH_SYN | TH_ACK, 0), CLI(100, TH_RST | TH_ACK, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_NOT_TLS, .sig = "SYN→RST+ACK", .reason = "no_client_data",
	  .end = "client_rst", .hist = "ShR" },
	/* Handshake completed, then a RST+ACK (here from the client). */
	{ "sig_synack_rstack", handshake_flow,
	  .steps = { CLI(150, TH_RST | TH_ACK, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_NOT_TLS, .sig = "SYN;ACK→RST+ACK", .hist = "ShAR" },
	{ "sig_psh_quiet", ch_flow,
	  .steps = { CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN),
		     CLI_AT(1000, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "PSH→∅", .hist = "ShADT",
	  .want = { EQ(ch_retransmits, 2), EQ(server_acked_ch, false),
		    EQ(drop_direction, DROP_UNKNOWN), EQ(rtt_us, 100000) } },
	/* RSTs 30 ms after the ClientHello, 1 ms apart; a RST+ACK acks the
	 * client's next seq. */
	{ "sig_psh_rst", ch_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST" },
	{ "sig_psh_rstack", ch_flow,
	  .steps = { RST(130, TH_ACK, N(5000001), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST+ACK",
	  .want = { EQ(rst_ack, true) } },
	{ "sig_psh_both", ch_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0),
		     RST(131, TH_ACK, N(5000001), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST;RST+ACK",
	  .want = { EQ(rst_count, 2) } },
	{ "sig_psh_rst_eq", ch_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0), RST(131, 0, N(5000001), N(0), 52, 0),
		     RST(132, 0, N(5000001), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST=RST",
	  .want = { EQ(rst_seq_change, false) } },
	{ "sig_psh_rst_ne", ch_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0), RST(131, 0, N(5001461), N(0), 52, 0),
		     RST(132, 0, N(5002921), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST≠RST",
	  .want = { EQ(rst_seq_change, true), EQ(injected, true),
		    BITS_SET(injected_reasons, INJ_SEQ_CHANGE), EQ(rst_count, 3) } },
	{ "sig_psh_rstack_eq", ch_flow,
	  .steps = { RST(130, TH_ACK, N(5000001), CSEQ(0), 52, 0),
		     RST(131, TH_ACK, N(5000001), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST+ACK=RST+ACK" },
	{ "sig_psh_rstack_ne", ch_flow,
	  .steps = { RST(130, TH_ACK, N(5000001), CSEQ(0), 52, 0),
		     RST(131, TH_ACK, N(5009999), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST+ACK≠RST+ACK" },
	{ "sig_data_quiet", split_flow,
	  .steps = { CLI_AT(500, TH_ACK, CH_SEQ, 300) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "PSH;Data→∅",
	  .want = { EQ(ch_retransmits, 1) } },
	{ "sig_data_rst", split_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH;Data→RST",
	  .want = { EQ(ch_complete, true) } },
	{ "sig_data_rstack", split_flow,
	  .steps = { RST(130, TH_ACK, N(5000001), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH;Data→RST+ACK" },
	{ "sig_data_both", split_flow,
	  .steps = { RST(130, TH_ACK, N(5000001), CSEQ(0), 52, 0),
		     RST(131, 0, N(5000001), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH;Data→RST;RST+ACK" },
	{ "sig_data_rst_ne", split_flow,
	  .steps = { RST(130, 0, N(5000001), N(0), 52, 0), RST(131, 0, N(5000100), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH;Data→RST≠RST" },

	/* -- signature "none" -- */
	{ "ok_and_none", ok_flow,
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_OK, .sig = "none", .hist = "ShADadFf", .no_ooni = true, .end = "client_fin",
	  .want = { EQ(server_acked_ch, true), EQ(silence_us, 59000) } },
	/* More than 10 client packets; the verdict has no window. */
	{ "sig_none_many_packets", ch_flow,
	  .steps = { CLI(200, TH_ACK | TH_PUSH, 100, .n = 10, .dt = 1) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "none" },
	/* Seen from the client's side a blocked ClientHello is resent many
	 * times; those resends do not fill the 10-packet window. */
	{ "sig_stall_retransmits_keep_psh", ch_flow,
	  .steps = { CLI_AT(300, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN, .n = 12, .dt = 200) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "PSH→∅",
	  .want = { EQ(ch_retransmits, 12) } },
	{ "sig_none_midstream", .tls_cand = true,
	  .steps = { CLI(0, TH_ACK | TH_PUSH, 100), SRV(50, TH_ACK, 0) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .sig = "none", .reason = "midstream" },
	/* The client gave up with a FIN after the server never answered: →∅. */
	{ "sig_fin_gave_up", ch_flow,
	  .steps = { CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN), CLI(2000, TH_ACK | TH_FIN, 0) },
	  .at = 9000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_STALL, .sig = "PSH→∅", .end = "client_fin",
	  .want = { EQ(silence_us, 1899000) } },

	/* -- tls_reset evidence -- */
	{ "reset_after_retransmit", ch_flow,
	  .steps = { CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN), RST(450, 0, SSEQ(0), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST", .ooni = "connection_reset",
	  .want = { EQ(ch_retransmits, 1) } },
	/* The server ACKs the CH, then resets with its own TTL and next IP
	 * ID; silence ends at the RST. */
	{ "reset_equal_ttl", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), RST(250, TH_ACK, SSEQ(0), CSEQ(0), 52, SRV_IPID) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET,
	  .want = { EQ(injected, false), EQ(injected_reasons, 0), EQ(ttl_diff, 0),
		    EQ(ipid_diff, 1), EQ(rst_delay_us, 149000), EQ(silence_us, 149000),
		    BITS_SET(ev, EV_RST_INJ) } },
	/* 10 ms after the CH with a 100 ms RTT, 7 hops closer, foreign IP ID;
	 * a RST's ack proves no receipt. */
	{ "reset_injected", ch_flow,
	  .steps = { RST(111, TH_ACK, SSEQ(0), CSEQ(0), 59, 40000) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET,
	  .want = { EQ(injected, true), EQ(ttl_diff, 7), EQ(rst_ttl, 59), EQ(synack_ttl, 52),
		    BITS_SET(injected_reasons, INJ_TTL | INJ_TIMING | INJ_IPID),
		    BITS_CLEAR(injected_reasons, INJ_DATA_AFTER_RESET),
		    EQ(rst_delay_us, 10000), EQ(rtt_us, 100000), EQ(server_acked_ch, false) } },
	/* Timing says nothing when the capture sits at the server, and the
	 * server's own RST (its TTL, its IP ID) is its own doing. */
	{ "reset_server_vantage_own", ch_flow,
	  .steps = { RST(111, TH_ACK, SSEQ(0), CSEQ(0), 52, 102) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_INCOMPLETE, .reason = "server_reset",
	  .want = { EQ(injected, false), EQ(vantage_by, VB_OPTION) } },
	/* Another box's RST in the server's name still shows at the server. */
	{ "reset_server_vantage_injected", ch_flow,
	  .steps = { RST(111, TH_ACK, SSEQ(0), CSEQ(0), 59, 102) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET,
	  .want = { EQ(injected, true), EQ(injected_reasons, INJ_TTL), EQ(rst_from_client, false) } },
	{ "reset_multiple_changing_seq", ch_flow,
	  .steps = { RST(120, TH_ACK, N(7000), CSEQ(0), 52, 0), RST(121, TH_ACK, N(8460), CSEQ(5), 52, 0),
		     RST(122, TH_ACK, N(9920), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST+ACK≠RST+ACK",
	  .want = { EQ(rst_count, 3), EQ(rst_seq_change, true), EQ(rst_ack_change, true),
		    BITS_SET(injected_reasons, INJ_SEQ_CHANGE | INJ_ACK_CHANGE) } },
	/* The genuine ServerHello arrives after the injected RST: still a reset. */
	{ "reset_data_after", ch_flow,
	  .steps = { RST(120, 0, SSEQ(0), N(0), 52, 0), SH(200) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .hist = "ShADrd",
	  .want = { EQ(data_after_reset, true), EQ(packets_after_reset, 1), EQ(injected, true),
		    BITS_SET(injected_reasons, INJ_DATA_AFTER_RESET) } },
	/* A RST after the ServerHello does not undo ok. */
	{ "rst_after_sh_ok", ch_flow,
	  .steps = { SH(200), RST(300, 0, SSEQ(0), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_OK, .sig = "none" },
	/* RST after the first segment of a split ClientHello. */
	{ "reset_partial_ch", handshake_flow, .tls_cand = true,
	  .steps = { CLI(101, TH_ACK, 300), RST(130, 0, SSEQ(0), N(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET,
	  .want = { EQ(ch_complete, false) } },
	{ "server_fin", ch_flow,
	  .steps = { SRV(300, TH_ACK | TH_FIN, 0), CLI(310, TH_ACK | TH_FIN, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .reason = "server_fin", .end = "server_fin", .ooni = "eof_error",
	  .want = { EQ(server_fin, true) } },

	/* -- stall, abort, incomplete -- */
	{ "client_abort_100ms", ch_flow,
	  .steps = { CLI(201, TH_ACK | TH_RST, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_CLIENT_ABORT, .reason = "closed_before_answer", .interference = NO,
	  .no_ooni = true },
	/* A SYN abandoned after 100 ms. */
	{ "client_abort_syn_100ms",
	  .steps = { CLI(0, TH_SYN, 0), CLI(100, TH_RST, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_CLIENT_ABORT, .reason = "syn_abandoned", .sig = "SYN→RST" },
	/* Closing quickly but after a retransmission: the client gave up. */
	{ "close_after_retransmit_is_stall", ch_flow,
	  .steps = { CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN), CLI(900, TH_ACK | TH_FIN, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_STALL, .ooni = "generic_timeout_error" },
	{ "capture_ends_after_ch", ch_flow,
	  .at = 1101, .why = FLOW_END_EOF,
	  .verdict = V_INCOMPLETE, .reason = "capture_ended", .end = "end_of_input", .sig = "none" },
	/* The same flow at 3.2 s is a stall. */
	{ "capture_ends_after_ch_3200ms", ch_flow,
	  .at = 3200, .why = FLOW_END_EOF,
	  .verdict = V_TLS_STALL,
	  .want = { EQ(silence_us, 3099000) } },
	/* Evicted 1 s after the CH: incomplete, not a stall. */
	{ "capture_ends_after_ch_evicted", ch_flow,
	  .at = 1101, .why = FLOW_END_EVICTED,
	  .verdict = V_INCOMPLETE, .end = "evicted" },
	{ "stall_server_acked", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "PSH→∅",
	  .want = { EQ(server_acked_ch, true), EQ(drop_direction, DROP_SERVER_TO_CLIENT) } },
	{ "stall_direction_unknown", ch_flow,
	  .steps = { CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL,
	  .want = { EQ(drop_direction, DROP_UNKNOWN) } },
	/* Seen at the server, the ClientHello arrived: a server that never
	 * answers it shows nothing about the path. */
	{ "server_side_server_silent", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN) },
	  .vantage = VANTAGE_SERVER, .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .reason = "server_silent", .interference = NO,
	  .want = { EQ(vantage, VANTAGE_SERVER) } },
	/* -- at the server's side: the answer that never arrives -- */
	/* The server ACKs the ClientHello and answers; the client, which never
	 * got either, resends the ClientHello the server already has. */
	{ "server_side_stall", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(400, TH_ACK | TH_PUSH, CH_SEQ, SRV_DATA0, CH_LEN, 64, .n = 3, .dt = 600) },
	  .vantage = VANTAGE_SERVER, .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL, .sig = "PSH→∅", .interference = YES,
	  .want = { EQ(drop_direction, DROP_SERVER_TO_CLIENT), EQ(answer_acked, false),
		    EQ(server_acked_ch, true), EQ(ch_retransmits, 3), EQ(vantage, VANTAGE_SERVER) } },
	/* The same packets without the vantage: the ServerHello is in view. */
	{ "server_side_stall_vantage_unknown", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(400, TH_ACK | TH_PUSH, CH_SEQ, SRV_DATA0, CH_LEN, 64, .n = 3, .dt = 600) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_OK, .want = { EQ(vantage, VANTAGE_UNKNOWN), EQ(vantage_by, VB_RTT) } },
	/* The client acknowledges the answer: ok, whatever the vantage. */
	{ "server_side_ok", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160), CLI(230, TH_ACK, 0) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_EOF,
	  .verdict = V_OK, .sig = "none" },
	/* The client goes quiet after the answer: gone or waiting, unknown. */
	{ "server_side_answer_unacked", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160) },
	  .vantage = VANTAGE_SERVER, .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .reason = "answer_unacked" },
	{ "server_side_capture_ended", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160) },
	  .vantage = VANTAGE_SERVER, .at = 1000, .why = FLOW_END_EOF,
	  .verdict = V_INCOMPLETE, .reason = "capture_ended" },
	/* It closes 5 s after the answer without having acknowledged it. */
	{ "server_side_client_gave_up", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(5160, TH_ACK | TH_FIN, CSEQ(0), SRV_DATA0, 0, 64) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_STALL, .want = { EQ(drop_direction, DROP_SERVER_TO_CLIENT) } },
	/* A RST in the client's name, one hop farther than the client's own
	 * packets (the censor's), before the answer was acknowledged. */
	{ "server_side_reset_injected", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(170, TH_RST, CSEQ(0), N(0), 0, 63) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET, .sig = "PSH→RST", .end = "client_rst", .interference = YES,
	  .want = { EQ(rst_from_client, true), EQ(injected, true), EQ(injected_reasons, INJ_TTL),
		    EQ(rst_ttl, 63), EQ(synack_ttl, 64), EQ(ttl_diff, -1), EQ(rst_delay_us, 69000),
		    EQ(rst_count, 1), EQ(rst_ack, false) } },
	/* Same TTL, but the client goes on sending after "its" RST. */
	{ "server_side_reset_data_after", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(170, TH_RST | TH_ACK, CSEQ(0), N(5000001), 0, 64),
		     CLI_PKT(400, TH_ACK | TH_PUSH, CH_SEQ, SRV_DATA0, CH_LEN, 64) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_RESET,
	  .want = { EQ(injected_reasons, INJ_DATA_AFTER_RESET), EQ(data_after_reset, true),
		    EQ(rst_ack, true) } },
	/* The client's own RST, soon after the answer: it gave up. */
	{ "server_side_client_own_rst", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(170, TH_RST, CSEQ(0), N(0), 0, 64) },
	  .vantage = VANTAGE_SERVER, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_CLIENT_ABORT, .reason = "closed_before_answer",
	  .want = { EQ(rst_from_client, false) } },
	/* At the client, a RST it sends itself is never judged as injected. */
	{ "client_side_client_rst", ch_flow,
	  .steps = { SRV(150, TH_ACK, 0), SH(160),
		     CLI_PKT(170, TH_RST, CSEQ(0), N(0), 0, 63) },
	  .vantage = VANTAGE_CLIENT, .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_OK },
	/* The server, alive 1 s later, still acknowledges only the handshake. */
	{ "stall_server_dupack_below_ch", ch_flow,
	  .steps = { SRV_PKT(1200, TH_ACK, SSEQ(0), N(1001), 52, 200) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL,
	  .want = { EQ(server_acked_ch, false), EQ(drop_direction, DROP_CLIENT_TO_SERVER) } },
	/* The same ACK crossing the CH in flight (20 ms later) proves nothing. */
	{ "stall_server_ack_crossing_ch", ch_flow,
	  .steps = { SRV_PKT(121, TH_ACK, SSEQ(0), N(1001), 52, 200) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_TLS_STALL,
	  .want = { EQ(drop_direction, DROP_UNKNOWN) } },
	{ "one_direction",
	  .steps = { CLI(0, TH_SYN, 0), SYNACK_UNSEEN, CLI(100, TH_ACK, 0), CH(101),
		     CLI_AT(400, TH_ACK | TH_PUSH, CH_SEQ, CH_LEN) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .reason = "one_direction",
	  .want = { EQ(one_direction, true) } },
	/* A retransmitted SYN, less than T before the capture ended. */
	{ "syn_incomplete",
	  .steps = { CLI(0, TH_SYN, 0), CLI_AT(1000, TH_SYN, N(1000), 0) },
	  .at = 1500, .why = FLOW_END_EOF,
	  .verdict = V_INCOMPLETE, .sig = "none" },
	{ "syn_timeout",
	  .steps = { CLI(0, TH_SYN, 0), CLI_AT(1000, TH_SYN, N(1000), 0) },
	  .at = 4000, .why = FLOW_END_EOF,
	  .verdict = V_SYN_TIMEOUT, .sig = "SYN→∅", .ooni = "generic_timeout_error",
	  .want = { EQ(blocked_at_us, T0) } },
	{ "syn_reset",
	  .steps = { CLI(0, TH_SYN, 0), RST(40, TH_ACK, N(0), N(1001), 57, 0) },
	  .at = 40, .why = FLOW_END_EOF,
	  .verdict = V_SYN_RESET, .interference = YES,
	  .want = { EQ(rst_delay_us, 40000) } },
	{ "not_tls", handshake_flow,
	  .steps = { CLI(101, TH_ACK | TH_PUSH, 80) /* "GET / HTTP/1.1" */,
		     SRV(200, TH_ACK | TH_PUSH, 500) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_NOT_TLS, .reason = "no_client_hello", .sig = "none" },
	{ "not_tls_udp", .proto = 17,
	  .at = 1000, .why = FLOW_END_IDLE,
	  .verdict = V_NOT_TLS, .reason = "not_tcp", .sig = "none" },
	/* The server answered the CH with something that is not TLS. */
	{ "not_tls_server_answer", ch_flow,
	  .steps = { SRV(150, TH_ACK | TH_PUSH, 200) },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_NOT_TLS, .reason = "server_not_tls" },
	/* A fatal unrecognized_name (112), then the server's RST. */
	{ "tls_alert", ch_flow,
	  .steps = { ALERT_SEEN(2, 112), ALERT_RECORD(200), RST(201, TH_ACK, SSEQ(0), CSEQ(0), 52, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_TLS_ALERT, .interference = NO, .ooni = "ssl_failed_handshake", .sig = "none",
	  .want = { EQ(alert_level, 2), EQ(alert_description, 112) } },
	/* A warning alert is not a failure: the ServerHello makes it ok. */
	{ "tls_alert_warning", ok_flow,
	  .steps = { ALERT_SEEN(1, 0) },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_OK },
	{ "loss_kernel", ch_flow, .kernel_loss = true,
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .reason = "kernel_loss" },
	{ "loss_server_gap", ch_flow, .gap = { false, true },
	  .at = 130000, .why = FLOW_END_IDLE,
	  .verdict = V_INCOMPLETE, .reason = "server_gap", .hist = "ShADg" },
	/* A complete ServerHello is decisive even with loss elsewhere. */
	{ "loss_client_gap_after_sh", ok_flow, .gap = { true, false },
	  .at = 6000, .why = FLOW_END_CLOSED,
	  .verdict = V_OK, .hist = "ShADadFfG" },
	/* Scan after handshake, capture cut short: incomplete, not not_tls. */
	{ "handshake_then_eof", handshake_flow,
	  .at = 600, .why = FLOW_END_EOF,
	  .verdict = V_INCOMPLETE, .reason = "capture_ended" },
};

static uint32_t ref_value(const struct sc *s, struct ref r)
{
	switch (r.base) {
	case REF_SSEQ: return s->sseq + r.v;
	case REF_CSEQ: return s->cseq + r.v;
	case REF_CH: return ch_seq(s) + r.v;
	case REF_LIT: break;
	}
	return r.v;
}

static void run_step(struct sc *s, const struct step *st, uint64_t t_ms)
{
	struct ts_packet p;

	switch (st->op) {
	case OP_CLI:
		cli(s, t_ms, st->flags, st->len);
		break;
	case OP_CLI_AT:
		cli_at(s, t_ms, st->flags, ref_value(s, st->seq), st->len);
		break;
	case OP_SRV:
		srv(s, t_ms, st->flags, st->len);
		break;
	case OP_PKT:
		p = mk(t_ms, st->flags, ref_value(s, st->seq), ref_value(s, st->ack), st->len, st->ttl,
		       st->ipid == SRV_IPID ? s->srv_ipid : (uint16_t)st->ipid);
		tcpobs_packet(&s->o, &p, st->dir, 0);
		break;
	case OP_CH:
		client_hello(s, t_ms);
		break;
	case OP_SH:
		server_hello(s, t_ms);
		break;
	case OP_ALERT_SEEN:
		s->tls.alert_seen[1] = 1;
		s->tls.alert_level[1] = st->level;
		s->tls.alert_desc[1] = st->desc;
		break;
	case OP_ALERT_RECORD:
		tcpobs_tls(&s->o, 1, TLS_EV_ALERT | TLS_EV_RECORD, T0 + t_ms * MS, 7);
		srv(s, t_ms, TH_ACK | TH_PUSH, 7);
		break;
	case OP_SYNACK_UNSEEN:
		s->sseq++;
		break;
	case OP_END:
		break;
	}
}

static uint64_t member_value(const struct verdict_result *r, const struct want *w)
{
	const unsigned char *p = (const unsigned char *)r + w->off;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (w->size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	case 8: memcpy(&u64, p, 8); return u64;
	}
	fail_msg("%s: member of %zu bytes", w->name, w->size);
	return 0;
}

static void check_str(const char *what, const char *got, const char *want)
{
	if (want == NULL)
		return;
	if (got == NULL || strcmp(got, want) != 0)
		print_message("member: %s\n", what);
	assert_string_equal(got, want);
}

static void check_want(const struct verdict_result *r, const struct want *w)
{
	uint64_t got = member_value(r, w);

	if (w->how == W_EQ) {
		/* The expected value as the member's type holds it. */
		uint64_t want = w->size < 8 ? w->v & ((1ULL << (8 * w->size)) - 1) : w->v;
		if (got != want)
			print_message("member: %s\n", w->name);
		assert_int_equal(got, want);
		return;
	}
	for (uint64_t bit = 1; bit != 0 && bit <= w->v; bit <<= 1) {
		if (!(w->v & bit))
			continue;
		if (!!(got & bit) != (w->how == W_BITS_SET))
			print_message("member: %s bit 0x%llx\n", w->name, (unsigned long long)bit);
		if (w->how == W_BITS_SET)
			assert_true(got & bit);
		else
			assert_false(got & bit);
	}
}

static void test_case(void **state)
{
	const struct vcase *c = *state;
	const struct verdict_result *r;
	struct sc s;

	if (c->flow)
		c->flow(&s);
	else
		sc_init(&s);
	s.tls_cand |= c->tls_cand;
	for (const struct step *st = c->steps; st < c->steps + MAX_STEPS && st->op != OP_END; st++)
		for (unsigned i = 0; i < (st->n ? st->n : 1); i++)
			run_step(&s, st, st->t + (uint64_t)i * st->dt);
	if (c->vantage != VANTAGE_UNKNOWN)
		s.cfg.vantage = c->vantage;
	if (c->proto)
		s.proto = c->proto;
	s.gap[0] |= c->gap[0];
	s.gap[1] |= c->gap[1];
	s.kernel_loss |= c->kernel_loss;
	r = decide(&s, c->at, c->why);

	if (r->verdict != c->verdict)
		print_message("verdict: %s, expected %s\n", verdict_name(r->verdict),
			      verdict_name(c->verdict));
	assert_int_equal(r->verdict, c->verdict);
	check_str("signature", r->signature, c->sig);
	check_str("history", r->history, c->hist);
	check_str("reason", r->reason, c->reason);
	check_str("end", r->end, c->end);
	check_str("ooni_failure", verdict_ooni_failure(r), c->ooni);
	if (c->no_ooni)
		assert_null(verdict_ooni_failure(r));
	if (c->interference == YES)
		assert_true(verdict_is_interference(r->verdict));
	else if (c->interference == NO)
		assert_false(verdict_is_interference(r->verdict));
	for (const struct want *w = c->want; w < c->want + MAX_WANT && w->name; w++)
		check_want(r, w);
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
/* A block of one transport says nothing of the other: QUIC to a port that
 * TCP was blocked on is not residual, a later QUIC attempt after a QUIC
 * block is. */
static void test_residual_transport(void **state)
{
	(void)state;
	struct verdict_cfg cfg;
	struct residual_table *rt = residual_new(64, &(struct hseed){ { 3, 4 } });
	struct flow f;
	struct verdict_result vr;
	assert_non_null(rt);
	verdict_cfg_default(&cfg);
	mk_flow(&f, 1, 2, 443, 0);
	f.proto = 6;
	mk_vr(&vr, V_TLS_STALL, 0);
	residual_apply(rt, &cfg, &f, &vr);
	mk_flow(&f, 1, 2, 443, 10);
	f.proto = 17;
	mk_vr(&vr, V_QUIC_STALL, 10);
	residual_apply(rt, &cfg, &f, &vr);
	assert_false(vr.residual);                 /* TCP's block, QUIC's trigger */
	mk_flow(&f, 1, 2, 443, 20);
	f.proto = 17;
	mk_vr(&vr, V_QUIC_STALL, 20);
	residual_apply(rt, &cfg, &f, &vr);
	assert_true(vr.residual);
	assert_int_equal(residual_stats(rt)->residual, 1);
	residual_free(rt);
}

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

/* ---- vantage inference -------------------------------------------------- */

/* A three-way handshake at times in microseconds, with the TTLs the capture
 * saw; a second SYN at syn2_us (0: none) before the SYN-ACK. */
static enum vantage infer_hs(uint64_t syn_us, uint64_t syn2_us, uint64_t synack_us,
			     uint64_t ack_us, uint8_t cli_ttl, uint8_t srv_ttl,
			     enum vantage_basis *by)
{
	struct tcp_obs o;
	struct ts_packet p;

	tcpobs_init(&o);
	p = mk(0, TH_SYN, 1000, 0, 0, cli_ttl, 1);
	p.ts_us = T0 + syn_us;
	tcpobs_packet(&o, &p, 0, 0);
	if (syn2_us) {
		p.ts_us = T0 + syn2_us;
		tcpobs_packet(&o, &p, 0, 0);
	}
	p = mk(0, TH_SYN | TH_ACK, 5000000, 1001, 0, srv_ttl, 7);
	p.ts_us = T0 + synack_us;
	tcpobs_packet(&o, &p, 1, 0);
	p = mk(0, TH_ACK, 1001, 5000001, 0, cli_ttl, 2);
	p.ts_us = T0 + ack_us;
	tcpobs_packet(&o, &p, 0, 0);
	return vantage_infer(&o, by);
}

static void test_vantage_infer(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		uint64_t syn, syn2, synack, ack;   /* microseconds */
		uint8_t cli_ttl, srv_ttl;
		enum vantage want;
		enum vantage_basis by;
	} rows[] = {
		/* the whole RTT before the SYN-ACK, the client's stack after */
		{ "next to the client", 0, 0, 80000, 80040, 64, 52, VANTAGE_CLIENT, VB_RTT },
		{ "next to the server", 0, 0, 30, 80030, 61, 64, VANTAGE_SERVER, VB_RTT },
		/* both gaps large: a middle link, whatever the TTLs say */
		{ "middle link", 0, 0, 30000, 50000, 64, 52, VANTAGE_UNKNOWN, VB_RTT },
		/* 1/8 exactly still decides; a little more does not */
		{ "split 1:8", 0, 0, 1000, 9000, 60, 60, VANTAGE_SERVER, VB_RTT },
		{ "split 1:7", 0, 0, 1000, 8000, 60, 60, VANTAGE_UNKNOWN, VB_RTT },
		/* the retransmitted SYN is the one the SYN-ACK answered */
		{ "SYN retransmitted", 0, 1000000, 1080000, 1080040, 64, 52, VANTAGE_CLIENT, VB_RTT },
		/* a LAN: under 1 ms the TTLs decide */
		{ "LAN, client's TTL initial", 0, 0, 100, 150, 64, 63, VANTAGE_CLIENT, VB_TTL },
		{ "LAN, server's TTL initial", 0, 0, 100, 150, 127, 128, VANTAGE_SERVER, VB_TTL },
		{ "LAN, both initial", 0, 0, 100, 150, 64, 255, VANTAGE_UNKNOWN, VB_NONE },
		{ "LAN, neither initial", 0, 0, 100, 150, 63, 50, VANTAGE_UNKNOWN, VB_NONE },
		/* a LAN whose client acknowledged 1.2 ms late: the split says server, the
		 * TTLs client; and the server's SYN-ACK late, the other way round */
		{ "client's ACK late", 0, 0, 100, 1300, 64, 63, VANTAGE_UNKNOWN, VB_CONFLICT },
		{ "server's SYN-ACK late", 0, 0, 1200, 1250, 63, 64, VANTAGE_UNKNOWN, VB_CONFLICT },
		/* the split decides and the TTLs do not (both initial): the split stands */
		{ "split, both TTLs initial", 0, 0, 100, 1300, 64, 128, VANTAGE_SERVER, VB_RTT },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum vantage_basis by = VB_OPTION;
		enum vantage v = infer_hs(rows[i].syn, rows[i].syn2, rows[i].synack, rows[i].ack,
					  rows[i].cli_ttl, rows[i].srv_ttl, &by);
		if (v != rows[i].want || by != rows[i].by)
			print_message("row: %s: %s by %s\n", rows[i].what, vantage_name(v),
				      vantage_basis_name(by));
		assert_int_equal(v, rows[i].want);
		assert_int_equal(by, rows[i].by);
	}

	/* No handshake in view (mid-stream): only the TTLs can say. */
	struct tcp_obs o;
	struct ts_packet p = mk(0, TH_ACK | TH_PUSH, 1000, 5000, 100, 64, 1);
	enum vantage_basis by;
	tcpobs_init(&o);
	tcpobs_packet(&o, &p, 0, 0);
	assert_int_equal(vantage_infer(&o, &by), VANTAGE_UNKNOWN); /* server unseen */
	p = mk(1, TH_ACK, 5000, 1100, 0, 57, 9);
	tcpobs_packet(&o, &p, 1, 0);
	assert_int_equal(vantage_infer(&o, &by), VANTAGE_CLIENT);
	assert_int_equal(by, VB_TTL);

	/* The decision records what it rests on; --vantage overrides. */
	struct sc s;
	ch_flow(&s);
	const struct verdict_result *r = decide(&s, 6000, FLOW_END_EOF);
	assert_int_equal(r->vantage, VANTAGE_UNKNOWN);
	assert_int_equal(r->vantage_by, VB_RTT);
	s.cfg.vantage = VANTAGE_CLIENT;
	r = decide(&s, 6000, FLOW_END_EOF);
	assert_int_equal(r->vantage, VANTAGE_CLIENT);
	assert_int_equal(r->vantage_by, VB_OPTION);
}

int main(void)
{
	static const struct CMUnitTest functions[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_ooni_failure),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_vantage_infer),
		cmocka_unit_test(test_history_all_letters),
		cmocka_unit_test(test_residual),
		cmocka_unit_test(test_residual_transport),
		cmocka_unit_test(test_residual_concurrent),
		cmocka_unit_test(test_residual_cap),
		cmocka_unit_test(test_json_reset),
		cmocka_unit_test(test_json_stall_and_ok),
	};
	enum { N_FUNCTIONS = sizeof(functions) / sizeof(functions[0]),
	       N_CASES = sizeof(cases) / sizeof(cases[0]) };
	struct CMUnitTest tests[N_FUNCTIONS + N_CASES];

	memcpy(tests, functions, sizeof(functions));
	for (size_t i = 0; i < N_CASES; i++)
		tests[N_FUNCTIONS + i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = test_case,
			.initial_state = (void *)&cases[i],
		};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
