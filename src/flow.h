/* flow.h - bidirectional flow table: 5-tuple lookup, client/server roles,
 * idle expiry on packet time, and a hard cap with longest-idle eviction.
 *
 * The table is an htab (htab.h).  The hash is symmetric (A->B and B->A
 * hash alike) and keyed with the start-up seed, so a sender cannot aim
 * tuples at one probe window.  Flows live on
 * one of two lists ordered by last activity: open flows expire after the
 * idle timeout, closing flows (FIN both ways or RST) after a short linger
 * that still catches late retransmissions and data racing an RST.
 */
#ifndef TS_FLOW_H
#define TS_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "tcpobs.h"

struct flow_hs;      /* engine.c: reassembly + TLS parsers, handshake only */
struct tls_info;     /* tls.h */
struct evid_flow;    /* evidbuf.h */
struct dns_flow;     /* dnstxn.c */
struct http_info;    /* http.h */
struct quic_flow;    /* quic.h */

/* Why a flow ended (stable names, see flow_end_name). */
enum flow_end {
	FLOW_END_NONE = 0,
	FLOW_END_CLOSED,     /* FIN/RST close, linger elapsed */
	FLOW_END_IDLE,       /* idle timeout */
	FLOW_END_EVICTED,    /* flow cap reached: longest-idle flow evicted */
	FLOW_END_REUSED,     /* a new SYN reused the 5-tuple */
	FLOW_END_EOF,        /* end of input */
	FLOW_END_SHUTDOWN,   /* signal / stop */
};
const char *flow_end_name(enum flow_end e);

/* How the client side was chosen. */
enum flow_role_src {
	ROLE_SYN = 0,        /* sender of the first SYN */
	ROLE_SYNACK,         /* receiver of the SYN-ACK */
	ROLE_PORT,           /* mid-stream: the lower / well-known port is the server */
};

enum { DIR_C2S = 0, DIR_S2C = 1 };

struct flow {
	struct flow *prev, *next;     /* activity list */
	uint64_t id;
	uint64_t first_us, last_us;
	struct ts_addr cli, srv;
	uint16_t cport, sport;
	uint8_t proto;
	uint8_t role_src;             /* enum flow_role_src */
	uint8_t closing;              /* on the closing list */
	uint8_t done;                 /* verdict final: later packets only counted */
	uint16_t app_proto;           /* nDPI app protocol id (0 unknown) */
	uint16_t app_master;          /* nDPI master protocol id */
	uint8_t app_final;            /* nDPI decided or gave up */
	uint8_t lost_kernel;          /* live capture dropped packets meanwhile */
	uint8_t fin_mask;             /* bit per direction that sent a FIN */
	uint8_t gap_mask;             /* bit per direction with reassembly gaps */
	uint8_t tls_candidate;        /* client stream began like TLS */
	uint16_t overlap_diffs;       /* overlapping segments with different bytes */
	uint8_t reported;             /* live: its event was already written early */
	uint8_t clock_epoch;          /* the engine's clock discontinuities when it began */
	uint8_t clock_jumped;         /* a discontinuity happened while it was open */
	uint8_t pending;              /* live: on the engine's deadline list */
	uint64_t deadline_us;         /* live: when to look for a stall / SYN timeout */
	struct flow *pprev, *pnext;   /* live: deadline list */
	uint64_t hash;                /* flow_hash of its packets */
	uint32_t pkts[2];
	uint64_t bytes[2];            /* IP bytes per direction */
	struct tcp_obs obs;           /* TCP observations for the verdict */
	struct flow_hs *hs;           /* handshake region state, NULL when done */
	struct tls_info *tls;         /* TLS facts, NULL if none seen */
	struct dns_flow *dns;         /* port 53: DNS messages and TCP framing (dnstxn.c) */
	struct http_info *http;       /* plain HTTP facts (http.h), NULL if none */
	struct quic_flow *quic;       /* QUIC stage state and facts, NULL for other flows */
	void *ndpi;                   /* struct ndpi_flow_struct *, until decided */
	struct evid_flow *evid;       /* -w: its packets kept as evidence (evidbuf.h), else NULL */
	/* --threads: the engine's entry points at the worker's copy (workers.h) */
	struct flow *shadow;          /* the worker's copy of the flow, NULL without workers */
	uint8_t worker;               /* which worker analyses it */
	uint8_t quiet;                /* (the copy) its payload no longer matters: set by the worker,
					 read by the engine, atomically */
	uint64_t msgs_to;             /* (the copy) where its last message ends in its worker's ring */
};

struct flow_table_stats {
	uint64_t created;
	uint64_t ended;
	uint64_t evicted;             /* cap reached */
	uint64_t expired_idle;
	uint64_t active;
	uint64_t max_active;
};

/* Called for each flow that ends; the table frees the flow afterwards
 * (after calling the callback, which must release f->hs / f->tls / f->ndpi). */
typedef void (*flow_end_cb)(void *arg, struct flow *f, enum flow_end why);

struct flow_table;
struct hseed;

/* seed: the start-up hash seed (copied). */
struct flow_table *flow_table_new(uint32_t max_flows, const struct hseed *seed,
				  uint64_t idle_us, uint64_t linger_us,
				  flow_end_cb cb, void *cb_arg);
void flow_table_free(struct flow_table *ft); /* ends nothing: call flush first */
const struct flow_table_stats *flow_table_stats(const struct flow_table *ft);

/* Symmetric seeded hash of a packet's 5-tuple (exposed for tests). */
uint64_t flow_hash(const struct flow_table *ft, const struct ts_packet *p);

/* Find or create the flow of a TCP/UDP packet.  *dir is DIR_C2S when the
 * packet was sent by the client.  A SYN (without ACK) for a flow whose last
 * packets were a close or which is long idle starts a new flow (the old one
 * ends with FLOW_END_REUSED).  Returns NULL only when memory is exhausted
 * or, practically never at the load flow_table_new allows, the table
 * refuses the insert (a full probe window). */
struct flow *flow_lookup(struct flow_table *ft, const struct ts_packet *p,
			 int *dir, bool *created);

/* Record activity (moves the flow to the tail of its list). */
void flow_touch(struct flow_table *ft, struct flow *f, uint64_t ts_us);
/* Move to the closing list: it ends after the linger. */
void flow_mark_closing(struct flow_table *ft, struct flow *f);

/* End every flow idle past its timeout at packet time now_us. */
void flow_table_expire(struct flow_table *ft, uint64_t now_us);
/* End every flow (end of input, shutdown). */
void flow_table_flush(struct flow_table *ft, enum flow_end why);
/* Visit each live flow (reports, live timers).  The callback must not end
 * or free flows. */
void flow_table_foreach(struct flow_table *ft, void (*fn)(void *, struct flow *),
			void *arg);

#endif
