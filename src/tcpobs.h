/* tcpobs.h - per-flow TCP observations that verdicts are decided from
 * (RFC 9293 section 3.5 connection establishment, 3.10.7 segment arrival).
 *
 * Every TCP packet of a flow passes through tcpobs_packet(), which keeps a
 * handful of first-occurrence timestamps, sequence landmarks, server RST
 * details (TTL, IP ID, seq/ack), retransmission counters, the Zeek-style
 * history letters and the Cloudflare-style signature stage of the first
 * client packets.  It is O(1) per packet and the struct stays small (it
 * lives in every struct flow): times are microsecond offsets from the
 * flow's first packet in 32 bits, saturating after ~71 minutes, which is
 * far beyond any handshake this is about.
 *
 * The TLS parser reports what it completed through tcpobs_tls(); the engine
 * calls it before tcpobs_packet() for the packet that carried the bytes.
 */
#ifndef TS_TCPOBS_H
#define TS_TCPOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

/* The Cloudflare signature looks at this many client packets. */
#define TCPOBS_SIG_WINDOW 10
/* History letters: at most 8 per direction plus the NUL. */
#define TCPOBS_HIST_MAX 17

/* Observation flags (struct tcp_obs.flags). */
enum {
	OBS_T0 = 1u << 0,              /* t0_us set */
	OBS_SYN = 1u << 1,             /* client SYN seen */
	OBS_SYNACK = 1u << 2,          /* server SYN-ACK seen */
	OBS_HS_ACK = 1u << 3,          /* client ACK after the SYN-ACK (or mid-stream) */
	OBS_CLI_DATA = 1u << 4,        /* client payload seen */
	OBS_CH = 1u << 5,              /* complete ClientHello parsed */
	OBS_SH = 1u << 6,              /* ServerHello parsed */
	OBS_SRV_TLS = 1u << 7,         /* a complete server TLS record header */
	OBS_SRV_DATA = 1u << 8,        /* server payload seen */
	OBS_SRV_ANY = 1u << 9,         /* any server packet */
	OBS_CLI_FIN = 1u << 10,
	OBS_CLI_RST = 1u << 11,
	OBS_SRV_RST = 1u << 12,
	OBS_SRV_FIN = 1u << 13,
	OBS_ACKED_CH = 1u << 14,       /* server ACK covered the ClientHello */
	OBS_SRV_ALERT = 1u << 15,      /* server TLS alert in clear */
	OBS_DATA_AFTER_RST = 1u << 16, /* server payload after its first RST */
	OBS_RST_SEQ_CHANGE = 1u << 17, /* later server RSTs changed seq */
	OBS_RST_ACK_CHANGE = 1u << 18, /* later server RST+ACKs changed ack */
	OBS_RST_ACK = 1u << 19,        /* first server RST had the ACK flag */
	OBS_RST_BEFORE_SH = 1u << 20,  /* first server RST came before any ServerHello */
	OBS_RST_AFTER_CDATA = 1u << 21,/* ... and after the client's first payload */
	OBS_ACK_BELOW_CH = 1u << 22,   /* server alive later, ACK below the ClientHello end */
	OBS_CLI_ANY = 1u << 23,
	OBS_SIG_NOSYN = 1u << 24,      /* first client packet was not a SYN */
	OBS_SIG_OVER = 1u << 25,       /* more than TCPOBS_SIG_WINDOW client packets */
	OBS_SIG_SRV_DATA = 1u << 26,   /* server payload before the first RST */
	OBS_SRV_REF = 1u << 27,        /* srv_ref_ttl set */
	OBS_SRV_IPID = 1u << 28,       /* srv_last_ipid set */
	OBS_SRV_ACKV = 1u << 29,       /* srv_max_ack set */
	OBS_PREAMBLE = 1u << 30,       /* TLS began after a plaintext preamble (srv_tls_seq) */
};

/* What the client's packets showed (struct tcp_obs.cli_flags): the
 * server's side of a path sees the client's answers, or their absence, and
 * RSTs that claim to come from the client. */
enum {
	CLI_ACKV = 1u << 0,            /* cli_max_ack set */
	CLI_REF = 1u << 1,             /* cli_ref_ttl set */
	CLI_IPID = 1u << 2,            /* cli_last_ipid set */
	CLI_RST_AFTER_CH = 1u << 3,    /* first client RST came after the complete ClientHello */
	CLI_RST_UNANSWERED = 1u << 4,  /* ... before the client acknowledged any server payload */
	CLI_RST_ACK = 1u << 5,         /* first client RST had the ACK flag */
	CLI_DATA_AFTER_RST = 1u << 6,  /* client payload after its first RST */
	CLI_SYN_BEFORE_SYNACK = 1u << 7, /* t_syn_last is the SYN the first SYN-ACK answered */
};

/* Signature stages of the client's packets. */
enum tcpobs_stage {
	SIG_NONE = 0,
	SIG_SYN,      /* only SYNs so far */
	SIG_ACK,      /* handshake ACK, no data */
	SIG_PSH,      /* first data segment (and its retransmissions) */
	SIG_DATA,     /* a second distinct data segment */
};

struct tcp_obs {
	uint64_t t0_us;          /* time of the flow's first packet */
	uint32_t flags;          /* OBS_* */

	/* Offsets from t0_us in microseconds (valid when the flag is set). */
	uint32_t t_syn;          /* first client SYN */
	uint32_t t_synack;
	uint32_t t_hs_ack;       /* client's first ACK after the SYN-ACK */
	uint32_t t_cli_data;     /* first client payload */
	uint32_t t_ch;           /* ClientHello complete */
	uint32_t t_sh;
	uint32_t t_srv_tls;      /* first server TLS record */
	uint32_t t_srv_data;
	uint32_t t_srv_last;     /* last server packet */
	uint32_t t_cli_last;     /* last client packet */
	uint32_t t_cli_close;    /* first client FIN or RST */
	uint32_t t_srv_fin;
	uint32_t t_rst;          /* first server RST */
	uint32_t t_ack_ch;       /* server ACK covering the ClientHello */
	uint32_t t_alert;        /* server alert */
	uint32_t t_stage;        /* start of the current signature stage */

	/* Sequence landmarks. */
	uint32_t cli_isn;        /* client SYN seq */
	uint32_t cli_data0;      /* seq of the first client payload byte seen */
	uint32_t cli_max_end;    /* highest seq+len the client sent */
	uint32_t srv_max_end;
	uint32_t srv_max_ack;    /* highest ACK from the server */
	uint32_t ch_off;         /* client stream offset after the ClientHello */
	uint32_t rst_seq, rst_ack; /* first server RST */
	uint32_t sig_psh_end;    /* seq after the first client data segment */
	uint32_t sig_rst_seq[2]; /* first signature RST seq: [0] RST, [1] RST+ACK */
	uint32_t srv_tls_seq;    /* OBS_PREAMBLE: server bytes before this were plaintext */

	/* Counters (saturating). */
	uint16_t syn_count;      /* client SYNs, retransmissions included */
	uint16_t cli_retx;       /* client data segments that repeat bytes */
	uint16_t ch_retransmits; /* ... of which carry ClientHello bytes */
	uint16_t srv_retx;
	uint16_t srv_pkts;
	uint16_t rst_count;      /* server RSTs */
	uint16_t pkts_after_rst; /* server non-RST packets after its first RST */

	/* Server IP-level fingerprints. */
	uint8_t srv_ref_ttl;     /* SYN-ACK TTL, else first server non-RST packet */
	uint8_t rst_ttl;
	uint16_t srv_last_ipid;  /* last server non-RST packet before the RST */
	uint16_t rst_ipid;
	uint8_t ref_from_synack; /* srv_ref_ttl came from the SYN-ACK */
	uint8_t ip_version;

	/* Cloudflare signature state over the first client packets. */
	uint8_t sig_cli_pkts;
	uint8_t sig_stage;       /* enum tcpobs_stage */
	uint8_t sig_stage_at_rst;
	uint8_t sig_rst[2];      /* RSTs in the window: [0] RST, [1] RST+ACK */
	uint8_t sig_rst_change;  /* bit per kind: seq differed from the first */

	/* The client's side, for a capture at the server (vantage.h). */
	uint32_t t_syn_last;     /* last client SYN before the first SYN-ACK */
	uint32_t t_cli_rst;      /* first client RST */
	uint32_t srv_data0;      /* seq of the first server payload byte (after a preamble) */
	uint32_t cli_max_ack;    /* highest ACK from the client (CLI_ACKV) */
	uint16_t ch_retx_acked;  /* ClientHello resends after the server had ACKed it */
	uint16_t cli_last_ipid;  /* last client non-RST packet before its first RST */
	uint16_t cli_rst_ipid;
	uint8_t cli_ref_ttl;     /* first client packet */
	uint8_t cli_rst_ttl;
	uint8_t cli_rst_count;   /* client RSTs (saturating) */
	uint8_t cli_flags;       /* CLI_* */

	/* Zeek history. */
	uint8_t hist_mask[2];    /* letters already written, per direction */
	uint8_t hist_len;
	char hist[TCPOBS_HIST_MAX];
};

void tcpobs_init(struct tcp_obs *o);
/* One TCP packet; dir 0 = client to server.  reasm_bits are the REASM_*
 * bits reassembly returned for its payload (0 when not reassembled). */
void tcpobs_packet(struct tcp_obs *o, const struct ts_packet *p, int dir,
		   unsigned reasm_bits);
/* The TLS parser of direction dir produced TLS_EV_* bits from bytes ending
 * at contiguous stream offset stream_off, in a packet of time ts_us. */
void tcpobs_tls(struct tcp_obs *o, int dir, unsigned tls_ev, uint64_t ts_us,
		uint32_t stream_off);

/* TLS began after a plaintext preamble (STARTTLS, CONNECT, ...): the
 * server's bytes before srv_tls_seq were its side of the preamble and say
 * nothing about its TLS answer (a STARTTLS whose ServerHello never comes is
 * a stall, not a server that answered in plaintext). */
void tcpobs_preamble(struct tcp_obs *o, uint32_t srv_tls_seq);

/* Helpers for the verdict. */
static inline bool tcpobs_has(const struct tcp_obs *o, uint32_t flag)
{
	return (o->flags & flag) != 0;
}
/* Absolute time of an offset. */
static inline uint64_t tcpobs_abs(const struct tcp_obs *o, uint32_t off)
{
	return o->t0_us + off;
}
/* Sequence number after the ClientHello (valid with OBS_CH and a base). */
bool tcpobs_ch_end(const struct tcp_obs *o, uint32_t *seq);
/* Handshake round trip (client SYN to the client's ACK of the SYN-ACK),
 * which is one RTT whichever side of the path the capture sits on. */
bool tcpobs_rtt_us(const struct tcp_obs *o, uint32_t *rtt);
/* The client acknowledged server payload, or sent bytes beyond its
 * ClientHello (its Finished, application data): the server's answer
 * reached it. */
bool tcpobs_client_answered(const struct tcp_obs *o);

#endif
