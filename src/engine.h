/* engine.h - the per-packet pipeline: decode -> flow -> reassembly -> TLS ->
 * classification -> verdict at flow end -> one record to the outputs.
 *
 * The engine is one context that main.c creates; every stage's state
 * hangs off it and nothing else is mutable at file scope.  It reads frames
 * (from the run loop, run.h) and writes records (to sinks, sink.h); it
 * knows no capture and no output.
 */
#ifndef TS_ENGINE_H
#define TS_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "evidbuf.h"
#include "flow.h"
#include "htab.h"
#include "verdict.h"

struct asn_db;
struct cert_ctx;
struct certstats;
struct sinks;
struct blockpages;
struct run_end;

struct engine_cfg {
	uint32_t max_flows;        /* --max-flows */
	uint32_t threads;          /* --threads: worker threads; 0 or 1: none (engine_mt) */
	uint32_t reasm_limit;      /* --reasm-limit: handshake region per direction */
	uint64_t idle_us;          /* --idle-timeout */
	uint64_t linger_us;        /* --close-linger */
	uint32_t max_frag_datagrams;
	uint64_t frag_timeout_us;
	struct hseed seed;         /* the one hash seed, drawn at start-up */
	struct verdict_cfg verdict;
	bool anonymize_clients;    /* --anonymize-clients */
	bool keep_evidence;        /* -w: keep each flow's handshake packets (evidbuf.h) */
	struct evidbuf_cfg evidence; /* their caps */
};

/* Defaults, and the start-up seed drawn. */
void engine_cfg_default(struct engine_cfg *cfg);

/* What the engine borrows; each outlives it. */
struct engine_deps {
	struct sinks *sinks;       /* where records go */
	struct asn_db *asn;        /* NULL: no ASN lookups */
	struct cert_ctx *certs;    /* NULL: certificate chains are not analysed */
	const struct blockpages *blockpages; /* NULL: no known blockpages */
	/* Live capture with worker threads (run_workers.c): one engine per
	 * worker, each with its own flows.  share: the lock over what spans
	 * flows and the outputs, which are the first engine's; every engine's
	 * chain analysis then gets a certificate context of its own.  peer_of:
	 * the first engine (NULL: this is it). */
	pthread_mutex_t *share;
	struct engine *peer_of;
};

struct engine;

/* NULL when out of memory or nDPI failed to start. */
struct engine *engine_new(const struct engine_cfg *cfg, const struct engine_deps *deps);
void engine_free(struct engine *e);

/* One captured frame of link type dlt. */
void engine_frame(struct engine *e, int dlt, uint64_t ts_us, const uint8_t *frame,
		  uint32_t caplen, uint32_t wirelen);

/* A new capture file starts.  Files given in order usually continue each
 * other (a rotated capture), so flows carry over; but a file whose first
 * packet is older than the clock is a separate capture: open flows end
 * (end_of_input), the clock restarts (otherwise every flow of the new file
 * would look idle at once) and what the verdict stage remembers across
 * flows starts empty, as in a run of its own. */
void engine_begin_input(struct engine *e);

/* Advance the packet clock without a packet (live mode on a quiet wire). */
void engine_tick(struct engine *e, uint64_t now_us);

/* Live and replay: a flow whose handshake waits (SYN unanswered, or
 * ClientHello without a server answer) gets its verdict as soon as the
 * stall timeout passes on the packet clock, and its record goes out then,
 * without waiting for the flow to end (the flow stays in the table so its
 * later packets are not taken for a new flow; no second record is made). */
void engine_set_early_verdicts(struct engine *e, bool on);

/* The kernel dropped packets: flows open now may miss some, so none of them
 * may be called interference (they become incomplete). */
void engine_note_kernel_loss(struct engine *e);

/* End every flow still open (end of input or shutdown). */
void engine_finish(struct engine *e, enum flow_end why);

/* End of run, after engine_finish: conclude what needs every flow (the
 * certificate consistency across networks) into *end, for the sinks'
 * finish.  Pointers in *end live as long as the engine. */
void engine_conclude(struct engine *e, struct run_end *end);

/* A copy of the counters, for outputs. */
void engine_counters(const struct engine *e, struct engine_counters *out);

/* The times of the threads of --threads (counters.h), known once
 * engine_finish has stopped them: up to max of them into out (the reader
 * first, then the workers in order, the finishing thread last).  Returns
 * how many there are: 0 with one thread. */
unsigned engine_thread_times(const struct engine *e, struct thread_time *out, unsigned max);

/* The packet clock. */
uint64_t engine_now(const struct engine *e);

#endif
