/* verdict.h - the interference verdict of a finished flow, its evidence,
 * the Cloudflare-style signature and the Zeek-style history.
 *
 * Everything runs on packet time: the packet timestamps kept in struct
 * tcp_obs and now_us, the packet clock when the flow was finalised (for the
 * end of input, the last packet time of the whole capture).  No wall clock.
 *
 * ==== Verdict rules (checked in this order; the first that applies wins) ====
 *
 *  T  = the stall timeout (--stall-timeout, default 3 s).
 *  CH = ClientHello.  "Client close" = the client's first FIN or RST.
 *  "End time" = the first client FIN/RST or server RST, else now_us.
 *
 *  not_tls     UDP and other non-TCP flows but QUIC, whose flows the QUIC
 *              verdict decides (verdict_quic.h: ok, quic_stall, ...).
 *  ok          ServerHello seen, no server fatal alert, and no server RST
 *              before it (see tls_reset).
 *  tls_alert   the server sent a fatal TLS alert (in clear, i.e. before the
 *              handshake completed).  A failure, but NOT counted as
 *              interference by itself (servers send them for plain
 *              configuration problems, e.g. no certificate for the SNI).
 *  incomplete  the capture lost data that matters: kernel drops while the
 *              flow was open, a gap in the server direction (the client
 *              acknowledged server bytes the capture never saw: a
 *              ServerHello may be among them), or a gap in the client
 *              direction before the ClientHello completed.
 *  tls_reset   a RST claiming to come from the server arrived after the
 *              client's first TLS bytes and before any ServerHello (and
 *              before any server alert), with the handshake in view: a
 *              complete ClientHello, or the client's SYN (a capture that
 *              starts mid-stream sees a normal teardown - encrypted alert,
 *              FIN, RSTs - that looks the same: incomplete, "midstream").  A ServerHello arriving after
 *              that RST does not make the flow ok: the client's stack had
 *              already torn the connection down (data_after_reset=true).
 *  not_tls     the client sent payload that does not begin like TLS; or a
 *              handshake with no client data at all (a scan: SYN, SYN-ACK,
 *              client RST), or a mid-stream flow without client data.
 *              A handshake followed by less than T of silence when the
 *              capture ended is incomplete instead.
 *  syn_reset   the client's SYN was answered by a server RST (no SYN-ACK).
 *  client_abort a SYN abandoned by a client FIN/RST within T without any
 *              SYN retransmission (Happy Eyeballs, port probes).
 *  syn_timeout SYN(s) never answered: T elapsed since the first SYN by the
 *              end time, or the client closed after retransmitting the SYN.
 *              (Less than T before the capture ended: incomplete.)
 *  incomplete  the client's stream looks like TLS but no complete CH was
 *              parsed (mid-stream capture start, or a CH cut by the
 *              capture); a one-direction capture (CH seen, nothing at all
 *              from the server: one_direction=true - a stall is only
 *              claimed when the reverse direction is visible), and a client
 *              ACK of a SYN-ACK that was never captured.
 *  not_tls     the server answered the CH with payload that is not TLS.
 *  incomplete  the server sent TLS records but no ServerHello was parsed.
 *  tls_reset   the server closed with a FIN before sending any TLS byte
 *              (reason "server_fin", ooni_failure "eof_error"): a server
 *              ending the handshake without a word is a teardown too.
 *  client_abort the client closed less than T after the CH without having
 *              retransmitted it: no server could be expected to answer.
 *              Never interference.
 *  tls_stall   a complete CH and no server TLS byte followed, for T by the
 *              end time, or until the client gave up (closed) after
 *              retransmitting the CH.
 *  incomplete  otherwise: the capture ended (or the flow was evicted or the
 *              program stopped) less than T after the CH.
 *
 *  At the server's side (vantage server: --vantage, or inferred by
 *  vantage.h) the server's own packets are in view before the censor could
 *  touch them, and the client's answer is what shows the path:
 *  tls_reset   first of all: a RST in the client's name after the complete
 *              CH, before the client acknowledged any server payload, that
 *              is marked as another sender's - TTL or IPv4 ID unlike the
 *              client's own packets, or client payload after it
 *              (rst_from_client).
 *  ok          needs, besides the ServerHello, the client's ACK of server
 *              payload (tcpobs_client_answered).
 *  tls_reset   by a server RST only when it is marked as injected; the
 *              server's own RST, FIN or silence after a CH it received is
 *              incomplete (server_reset, server_fin, server_silent).
 *  tls_stall   the server answered the CH in TLS, and for T after its answer
 *              the client never acknowledged it but showed it was alive (it
 *              resent the CH the server had ACKed, closed, or sent anything
 *              a round trip after the answer): drop server_to_client.
 *              Silent instead: incomplete (answer_unacked); closed within T:
 *              client_abort (closed_before_answer).
 *
 *  tls_mitm, tls_untrusted_cert come from the certificate chain, after
 *  verdict_decide (which never returns them): verdict_apply_cert().  Only
 *  a flow whose chain was visible (so its ServerHello was seen) can change,
 *  and only from verdicts the chain can explain:
 *    interception-CA match (fingerprint or name)  -> tls_mitm, from ok,
 *                                tls_alert, incomplete and client_abort
 *    chain fails validation, no interception CA   -> tls_untrusted_cert,
 *                                from ok and client_abort
 *    trusted, or not visible                      -> unchanged
 *  A forged certificate is the interference, whatever the handshake did
 *  next; an untrusted one only replaces a verdict that says nothing went
 *  wrong.  The OONI failure class (verdict_set_cert) of a chain that fails
 *  validation follows Go's crypto/x509, which OONI's strings come from: the
 *  leaf's validity period, then the host name, then the path.  The first
 *  that applies wins, whatever order OpenSSL reported the errors in:
 *    ssl_invalid_certificate  leaf expired or not yet valid, leaf not
 *                             valid DER, empty certificate list
 *    ssl_invalid_hostname     host name mismatch, or an SNI that cannot be
 *                             a host name
 *    ssl_unknown_authority    no path to a trusted root: unknown issuer,
 *                             self-signed leaf or chain, bad signature,
 *                             untrusted or rejected root
 *    ssl_invalid_certificate  anything else
 *  A tls_mitm on a chain the store trusts (a name match) has no class and
 *  reads ssl_unknown_authority.
 *
 *  How flows end (enum flow_end): an idle expiry means the client went
 *  silent without closing (it gave up, or holds the socket open); by then
 *  far more than T has passed, so timeout verdicts apply on the elapsed
 *  packet time like any other ending.  Eviction under the memory cap, end
 *  of input and shutdown are the observer stopping, not the client: they
 *  yield a timeout verdict only when T had already elapsed, otherwise
 *  incomplete.  A 5-tuple reused by a new SYN is treated the same way.
 *
 * ==== Evidence fields (object "evidence" of each event) ====
 *
 *  end              how the flow ended: client_fin, client_rst, server_rst,
 *                   server_fin (the first of these on the wire), else
 *                   idle_timeout, evicted, end_of_input, shutdown, reused,
 *                   closed.
 *  reason           short token saying why incomplete / not_tls /
 *                   client_abort (and server_fin for that tls_reset):
 *                   not_tcp, no_client_data, no_client_hello, midstream,
 *                   partial_client_hello, one_direction, kernel_loss,
 *                   server_gap, client_gap, capture_ended, server_not_tls,
 *                   server_hello_not_seen, syn_abandoned,
 *                   closed_before_answer, server_fin; null otherwise.
 *  scanner          (only when true) the client was scanning when the flow
 *                   began: many new connections to distinct targets in a
 *                   minute, few answered (scanner.h).  Such flows keep their
 *                   verdict but the report leaves them out of conclusions.
 *  clock_jump       (only when true) the capture's clock jumped back, or
 *                   absurdly forward, while the flow was open; its later
 *                   packets were shifted to continue the clock.
 *  residual         a flow of the same client, server address and port was
 *                   blocked (interference verdict) at most --residual
 *                   (180 s) before this failed flow started: residual
 *                   blocking (the censor keeps blocking after a trigger).
 *  one_direction    only the client's direction was captured.
 *  vantage          client, server or unknown, given or inferred;
 *                   vantage_by: option, rtt, ttl or none.
 *  rtt_ms           handshake round trip (client SYN to its ACK of the
 *                   SYN-ACK), null when not measurable.
 *  syn_retransmits  client SYNs beyond the first.
 *  ch_complete      a complete ClientHello was parsed.
 *  ch_retransmits   client segments re-sending ClientHello bytes.
 *  server_acked_ch  a server ACK covered the whole ClientHello.
 *  silence_ms       from the ClientHello to the first server TLS byte, or to
 *                   the end time (first close or RST, else the packet clock
 *                   at finalisation) when none came.
 *  drop_direction   (tls_stall) where the blocking dropped packets:
 *                   server_to_client when the server ACKed the ClientHello
 *                   or answered it (it got it, its answer was lost);
 *                   client_to_server when the server's own later packets
 *                   acknowledge less than the ClientHello (alive, but never
 *                   got it); unknown otherwise - on the client's side of the
 *                   censor both drops look the same.
 *  answer_acked     (server's side, server TLS bytes seen) the client
 *                   acknowledged the server's answer.
 *  rst_from         server, or client (a RST in the client's name at the
 *                   server: client_ttl replaces synack_ttl).
 *  rst_count        RSTs from that side.
 *  rst_ack          the first was RST+ACK (false: a bare RST).
 *  rst_ttl          TTL / hop limit of the first RST.
 *  synack_ttl       TTL of the server's SYN-ACK (else of its first packet).
 *  ttl_diff         rst_ttl - synack_ttl; non-zero means another box (the
 *                   router, a censor) answered.
 *  ipid_diff        IPv4 ID of the RST minus that of the server's last
 *                   packet before it (16-bit, signed).
 *  rst_delay_ms     from the ClientHello (or the first client payload) to the
 *                   RST (for syn_reset: from the first SYN).
 *  rst_seq_change   later RSTs carried a different seq (Weaver et al. NDSS'09
 *                   RST_SEQ_CHANGE), rst_ack_change likewise for the ack.
 *  data_after_reset the server sent payload after its RST (Zeek's
 *                   data_after_reset, Suricata's suspected RST inject).
 *  packets_after_reset server packets (any) after its RST.
 *  injected         one or more injected_reasons hold.
 *  injected_reasons ttl (ttl_diff != 0), ipid (|ipid_diff| > 1000, both
 *                   non-zero), timing (rst_delay < 3/4 of rtt_ms, rtt >= 1 ms,
 *                   vantage not server: the RST beat any answer of the real
 *                   server), data_after_reset, seq_change, ack_change.
 *                   A RST with equal TTL and nothing else odd is still
 *                   tls_reset, with injected=false.
 *  alert_level, alert_description  (tls_alert) of the server's alert.
 *
 * ==== Signature (Cloudflare, SIGCOMM'23 "Global, Passive Detection of
 *      Connection Tampering", Table 1 - our reconstruction) ====
 *
 *  Computed over the first 10 client packets; the first must be a SYN.
 *  Stages: SYN (only SYNs), ACK (handshake ACK, no data), PSH (the first
 *  data segment and its retransmissions), PSH;Data (a second distinct data
 *  segment).  "RST" is a RST without ACK, "RST+ACK" one with ACK; a RST
 *  from either side counts, as seen on the wire (an injector spoofs
 *  whichever side it wants).  The 19 signatures:
 *    SYN→∅ SYN→RST SYN→RST+ACK
 *    SYN;ACK→∅ SYN;ACK→RST SYN;ACK→RST+ACK
 *    PSH→∅ PSH→RST PSH→RST+ACK PSH→RST;RST+ACK PSH→RST=RST PSH→RST≠RST
 *    PSH→RST+ACK=RST+ACK PSH→RST+ACK≠RST+ACK
 *    PSH;Data→∅ PSH;Data→RST PSH;Data→RST+ACK PSH;Data→RST;RST+ACK
 *    PSH;Data→RST≠RST
 *  =/≠: several RSTs of one kind with the same / changing seq; both kinds:
 *  RST;RST+ACK.  In the PSH;Data stage several bare RSTs with the same seq
 *  are written PSH;Data→RST (the table has no RST=RST there).  "→∅": the
 *  client's packets stop there with no RST and no server payload, for at
 *  least T before the end time; a client FIN after the server never
 *  answered also counts (the client gave up).  Anything else - server
 *  payload before the end, more than 10 client packets, a capture starting
 *  mid-stream - is "none".
 *
 * ==== History (Zeek conn.log) ====
 *
 *  Upper case: client (originator), lower case: server.  S SYN, H SYN-ACK,
 *  A pure ACK, D payload, F FIN, R RST, T retransmitted payload, G content
 *  gap (added at the end, from reassembly).  Each letter once per
 *  direction, in order of first occurrence.
 */
#ifndef TS_VERDICT_H
#define TS_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "tcpobs.h"
#include "vantage.h"

struct cert_analysis;
struct tls_info;
struct json;
struct blockpage;

enum verdict {
	V_OK = 0,
	V_TLS_STALL,
	V_TLS_RESET,
	V_SYN_TIMEOUT,
	V_SYN_RESET,
	V_TLS_ALERT,
	V_TLS_MITM,
	V_TLS_UNTRUSTED_CERT,
	V_CLIENT_ABORT,
	V_INCOMPLETE,
	V_NOT_TLS,
	/* other transports (QUIC, DNS, HTTP); listed after the TLS-over-TCP
	 * verdicts so tables and CSV columns of those keep their places */
	V_QUIC_STALL,
	V_DNS_INJECTION,
	V_DNS_BLOCKPAGE,
	V_DNS_TIMEOUT,
	V_DNS_ERROR,
	V_HTTP_BLOCKPAGE,
	V_HTTP_RESET,
	V_HTTP_STALL,
	V__COUNT
};

const char *verdict_name(enum verdict v);
/* 0 and *out set, or -1 for an unknown name. */
int verdict_from_name(const char *s, enum verdict *out);
/* tls_stall, tls_reset, syn_timeout, syn_reset, tls_mitm, quic_stall,
 * dns_injection, dns_blockpage, dns_timeout, http_blockpage, http_reset,
 * http_stall.  tls_alert and dns_error are failures but not interference by
 * themselves (a server's configuration, a name that does not exist). */
static inline bool verdict_is_interference(enum verdict v)
{
	switch (v) {
	case V_TLS_STALL: case V_TLS_RESET: case V_SYN_TIMEOUT: case V_SYN_RESET: case V_TLS_MITM:
	case V_QUIC_STALL: case V_DNS_INJECTION: case V_DNS_BLOCKPAGE: case V_DNS_TIMEOUT:
	case V_HTTP_BLOCKPAGE: case V_HTTP_RESET: case V_HTTP_STALL:
		return true;
	default:
		return false;
	}
}

/* Every verdict but ok, incomplete, not_tls and client_abort.  Both are
 * inline: the report asks them of every verdict for every flow. */
static inline bool verdict_is_failure(enum verdict v)
{
	return (unsigned)v < V__COUNT && v != V_OK && v != V_INCOMPLETE &&
	       v != V_NOT_TLS && v != V_CLIENT_ABORT;
}

struct verdict_cfg {
	uint64_t stall_us;       /* default 3 s */
	uint64_t residual_us;    /* default 180 s */
	enum vantage vantage;    /* VANTAGE_AUTO (default): inferred per flow */
};
void verdict_cfg_default(struct verdict_cfg *cfg);

struct verdict_input {
	const struct tcp_obs *obs;
	const struct tls_info *tls;  /* NULL when no TLS bytes were parsed */
	bool gap[2];                 /* reassembly gap per direction */
	bool tls_candidate;          /* client stream began like TLS */
	bool app_is_tls;             /* nDPI says TLS */
	enum flow_end why;
	uint64_t now_us;             /* packet clock at finalisation */
	bool kernel_loss;
	uint8_t proto;               /* 6 TCP, 17 UDP */
	uint64_t flow_start_us;
};

/* Certificate failure classes (set with verdict_set_cert). */
enum verdict_cert_fail {
	VCERT_NONE = 0,
	VCERT_UNKNOWN_AUTHORITY,
	VCERT_INVALID_HOSTNAME,
	VCERT_INVALID_CERTIFICATE,
};

enum drop_direction { DROP_UNKNOWN = 0, DROP_SERVER_TO_CLIENT, DROP_CLIENT_TO_SERVER };

/* Reasons a RST looks injected (bits of verdict_result.injected_reasons). */
enum {
	INJ_TTL = 0x01,
	INJ_IPID = 0x02,
	INJ_TIMING = 0x04,
	INJ_DATA_AFTER_RESET = 0x08,
	INJ_SEQ_CHANGE = 0x10,
	INJ_ACK_CHANGE = 0x20,
	INJ_DNS_TTL = 0x40,          /* DNS: the answer's TTL unlike the resolver's */
	INJ_RACE = 0x80,             /* HTTP: another sender's response followed it */
};
#define INJ__COUNT 8
/* Name of one INJ_* bit ("ttl", ...), NULL for others. */
const char *verdict_injected_reason_name(unsigned bit);

/* Which evidence groups apply (bits of verdict_result.ev). */
enum {
	EV_RTT = 0x01,      /* rtt_us valid */
	EV_SYN = 0x02,      /* syn_retransmits */
	EV_CH = 0x04,       /* ch_* fields, silence */
	EV_DROP = 0x08,     /* drop_direction */
	EV_RST = 0x10,      /* rst_* group */
	EV_ALERT = 0x20,
	EV_REF_TTL = 0x40,  /* synack_ttl / ttl_diff valid */
	EV_IPID = 0x80,     /* ipid_diff valid */
	EV_RST_INJ = 0x100, /* injected / injected_reasons valid */
	EV_DNS = 0x200,     /* dns_rcode valid (verdict_dns.c) */
	EV_HTTP = 0x400,    /* the http_* evidence (verdict_http.c) */
	EV_ANSWER = 0x800,  /* answer_acked valid (server's side, server TLS bytes seen) */
};

struct verdict_result {
	enum verdict verdict;
	const char *signature;       /* static string, "none" when nothing */
	char history[TCPOBS_HIST_MAX + 2];
	const char *reason;          /* evidence "reason", NULL if none */
	const char *end;             /* evidence "end" */
	enum vantage vantage;        /* the flow's (given or inferred) */
	enum vantage_basis vantage_by;
	enum verdict_cert_fail cert_fail;
	uint64_t blocked_at_us;      /* when the blocking happened (0: n/a) */
	uint32_t ev;                 /* EV_* */

	bool residual;
	bool one_direction;
	bool clock_jump;             /* the capture clock jumped while the flow was open */
	bool scanner;                /* its client was scanning (scanner.h): left out of conclusions */
	uint32_t rtt_us;
	uint16_t syn_retransmits;
	bool ch_complete;
	uint16_t ch_retransmits;
	bool server_acked_ch;
	bool answer_acked;           /* the client acknowledged the server's answer */
	uint64_t silence_us;
	enum drop_direction drop_direction;

	uint16_t rst_count;
	bool rst_from_client;        /* the RST claimed the client's address (server's side) */
	bool rst_ack;
	uint8_t rst_ttl;
	uint8_t synack_ttl;
	int16_t ttl_diff;
	int32_t ipid_diff;
	uint64_t rst_delay_us;
	bool rst_seq_change, rst_ack_change;
	bool data_after_reset;
	uint16_t packets_after_reset;
	bool server_fin;             /* tls_reset by a server FIN */
	bool injected;
	unsigned injected_reasons;   /* INJ_* */

	uint8_t alert_level, alert_description;

	/* -w: the flow's packets in the evidence file (set when it is written) */
	bool pcap_written;
	bool pcap_truncated;         /* a cap left some of its packets out */
	uint32_t pcap_packets;
	/* DNS and plain HTTP (verdict_dns.h, verdict_http.h) */
	uint16_t dns_rcode;          /* EV_DNS: the rcode the verdict read */
	uint8_t dns_forged;          /* bit per response unlike the resolver's own */
	const struct blockpage *blockpage; /* the known blockpage matched, NULL none */
	uint64_t http_delay_us;      /* EV_HTTP: request to response (or to the end) */
	uint8_t http_ttl;            /* TTL of the response's first packet */
	int32_t http_ipid_diff;      /* its IP ID minus the SYN-ACK's (IPv4) */
	/* what DNS answers say of a flow's server (recorder.c, dnsmap.h) */
	const char *name_from_dns;   /* the name its client resolved to it, NULL none */
	uint8_t dns_origin;          /* enum dns_origin, for tls_mitm / tls_untrusted_cert */
};

void verdict_decide(const struct verdict_cfg *cfg, const struct verdict_input *in,
		    struct verdict_result *r);

/* The RST evidence of a flow (rst_* fields, injected_reasons) for a reset
 * after the client's data sent at from_us, as tls_reset has it: for the
 * verdicts of other application protocols (verdict_http.c).  r keeps the
 * handshake evidence verdict_decide gave it (rtt). */
void verdict_reset_evidence(const struct verdict_cfg *cfg, const struct tcp_obs *obs,
			    uint64_t now_us, uint64_t from_us, struct verdict_result *r);

/* Certificate validation's outcome: tls_mitm / tls_untrusted_cert with the
 * failure class OONI would report. */
void verdict_set_cert(struct verdict_result *r, enum verdict v, enum verdict_cert_fail cf);

/* The certificate chain's say on the verdict (rules above: tls_mitm,
 * tls_untrusted_cert): may make vr tls_mitm or tls_untrusted_cert, with
 * the OONI failure class. */
void verdict_apply_cert(struct verdict_result *vr, const struct cert_analysis *ca);

/* The failure string OONI would record for this outcome, or NULL. */
const char *verdict_ooni_failure(const struct verdict_result *r);

const char *verdict_drop_direction_name(enum drop_direction d);

#endif
