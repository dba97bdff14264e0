/* engine.h - the per-packet pipeline: decode -> flow -> reassembly -> TLS ->
 * classification -> verdict at flow end -> outputs.
 *
 * struct engine is the one context that main.c owns; every stage's state
 * hangs off it and nothing else is mutable at file scope.
 */
#ifndef TS_ENGINE_H
#define TS_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"
#include "flow.h"
#include "htab.h"
#include "verdict.h"

struct classify;
struct defrag;
struct out_event;
struct summary;
struct out_stats;
struct asn_db;
struct report;
struct cert_ctx;
struct cert_analysis;
struct certstats;

struct engine_cfg {
	uint32_t max_flows;        /* --max-flows */
	uint32_t reasm_limit;      /* --reasm-limit: handshake region per direction */
	uint64_t idle_us;          /* --idle-timeout */
	uint64_t linger_us;        /* --close-linger */
	uint32_t max_frag_datagrams;
	uint64_t frag_timeout_us;
	struct hseed seed;         /* the one hash seed, drawn at start-up */
	struct verdict_cfg verdict;
};

void engine_cfg_default(struct engine_cfg *cfg);

struct engine_stats {
	uint64_t frames;
	uint64_t bytes;
	uint64_t decoded;            /* frames that gave a TCP/UDP packet */
	uint64_t decode[DEC__COUNT]; /* per decode_result */
	uint64_t tcp_packets, udp_packets;
	uint64_t flows_by_verdict[V__COUNT];
	uint64_t tls_errors;         /* directions whose TLS parsing stopped on an error */
	uint64_t reasm_overlap_diffs;
	uint64_t reasm_dropped;
	uint64_t flow_alloc_failed;
};

struct engine {
	struct engine_cfg cfg;
	struct flow_table *flows;
	struct classify *cls;
	struct defrag *defrag;
	struct residual_table *residual;
	struct out_event *events;    /* NULL: no event output */
	struct summary *summary;     /* per-SNI verdict counts for the text summary */
	struct out_stats *stats;     /* live: interval statistics, NULL offline */
	struct asn_db *asn;          /* NULL: no ASN lookups */
	struct report *report;       /* per-network statistics, NULL: none */
	bool anonymize_clients;      /* --anonymize-clients */
	struct cert_ctx *certs;      /* chain validation; NULL: not analysed */
	struct certstats *cstats;    /* per (name, network) certificate memory */
	struct cert_analysis *ca;    /* scratch for the flow being finished */
	uint64_t now_us;             /* packet clock: latest packet time seen */
	uint64_t first_us;           /* first packet time */
	bool input_start;            /* next frame is the first of a new input */
	bool early_verdicts;         /* live/replay: emit stalls at their deadline */
	struct flow *pend_head, *pend_tail; /* flows awaiting a deadline, by deadline */
	struct engine_stats st;
};

int engine_init(struct engine *e, const struct engine_cfg *cfg);
void engine_free(struct engine *e);

/* One captured frame of link type dlt. */
void engine_frame(struct engine *e, int dlt, uint64_t ts_us, const uint8_t *frame,
		  uint32_t caplen, uint32_t wirelen);

/* A new capture file starts.  Files given in order usually continue each
 * other (a rotated capture), so flows carry over; but a file whose first
 * packet is older than the clock is a separate capture: open flows end
 * (end_of_input) and the clock restarts, otherwise every flow of the new
 * file would look idle at once. */
void engine_begin_input(struct engine *e);

/* Advance the packet clock without a packet (live mode on a quiet wire). */
void engine_tick(struct engine *e, uint64_t now_us);

/* Live and replay: a flow whose handshake waits (SYN unanswered, or
 * ClientHello without a server answer) gets its verdict as soon as the
 * stall timeout passes on the packet clock, and its event is written then,
 * without waiting for the flow to end (the flow stays in the table so its
 * later packets are not taken for a new flow; no second event is written). */
void engine_set_early_verdicts(struct engine *e, bool on);

/* The kernel dropped packets: flows open now may miss some, so none of them
 * may be called interference (they become incomplete). */
void engine_note_kernel_loss(struct engine *e);

uint64_t engine_flows_created(const struct engine *e);

/* End every flow still open (end of input or shutdown). */
void engine_finish(struct engine *e, enum flow_end why);

/* End of run, after engine_finish: conclude the certificate consistency
 * across networks, write one tls_consistency event per (network, name)
 * found intercepted that way, and move those flows to tls_mitm in the
 * report. */
void engine_cert_consistency(struct engine *e);

/* Counters to stderr at the end, one block. */
void engine_print_stats(const struct engine *e, FILE *out);

#endif
