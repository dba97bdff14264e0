/* workers.h - the flows' analysis spread over worker threads (--threads).
 *
 * The engine's thread keeps everything that orders the run: reading,
 * the packet clock, decoding, the flow table (lookup, expiry, eviction,
 * port reuse) and what spans flows.  Each flow is analysed by one worker,
 * chosen by the flow's hash: the engine hands it the flow's packets (a copy of
 * their IP bytes, or only the headers once the flow's payload can no
 * longer matter) and, when the flow ends, its end.  The worker keeps its
 * own copy of the flow (struct flow: every per-flow function runs on it
 * unchanged), decides it and builds the record's flow-local part
 * (record_local); the engine takes the results back in the order the flows
 * ended and does the rest (record_shared, the outputs).  So the records,
 * the events and the report are those of one thread, whatever the number
 * of workers.
 *
 * Between the engine and each worker: two single-producer single-consumer
 * rings (ring.h), packets and ends one way, finished flows the other.
 */
#ifndef TS_WORKERS_H
#define TS_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "analyse.h"
#include "flow.h"
#include "record.h"

struct engine_cfg;
struct cert_ctx;
struct cert_analysis;
struct blockpages;

#define WORKERS_MAX 64

/* A finished flow, back from its worker.  The engine owns it (and sf, the
 * worker's copy of the flow, which rec points into) from workers_take on. */
struct worker_done {
	uint64_t seq;                /* the order the flow ended in */
	unsigned worker;             /* whose it is (it goes back there, workers_done_free) */
	struct flow *sf;
	bool emit;                   /* a record to write (not a DNS flow, not reported early) */
	enum flow_end why;
	uint64_t now_us;
	struct flow_record rec;      /* record_local's part */
	struct cert_analysis *ca;    /* rec.cert's own copy, NULL without */
	struct cert_analysis *ca_buf; /* where that copy goes: kept with the item for its next use */
};

/* What the engine tells a worker with a flow's end. */
struct worker_end {
	uint64_t seq;
	enum flow_end why;
	uint64_t now_us;             /* the packet clock */
	bool emit;
	bool clock_jumped;
	bool lost_kernel;
};

struct workers;

/* n workers (1..WORKERS_MAX), each with a certificate context made from
 * certs (NULL: none) and the blockpages bp.  The threads start here.  NULL
 * when out of memory or a thread could not start. */
struct workers *workers_new(const struct engine_cfg *cfg, unsigned n, struct cert_ctx *certs,
			    const struct blockpages *bp);
/* Stop the threads (after the work queued), add their counters to into and
 * to certs, write each one's times into times[i] (when not NULL), free
 * everything. */
struct thread_time;
void workers_free(struct workers *ws, struct analyser *into, struct cert_ctx *certs,
		  struct thread_time *times);

unsigned workers_count(const struct workers *ws);
/* The worker for a flow (its table hash, flow.h): flows spread evenly. */
unsigned workers_pick(const struct workers *ws, uint64_t flow_hash);

/* Queue a packet or an end for worker w.  False when its ring is full:
 * publish everything (the worker may wait for the finishing thread, which
 * may wait for what is queued elsewhere), workers_wait, and try again.
 * Queued messages reach the workers in steps: workers_publish. */
bool workers_packet(struct workers *ws, unsigned w, struct flow *sf, const struct ts_packet *p,
		    int dir, bool created);
bool workers_end(struct workers *ws, unsigned w, struct flow *sf, const struct worker_end *end);
void workers_wait(struct workers *ws, unsigned w);
void workers_publish(struct workers *ws);

/* Worker w's oldest finished flow, waited for (or NULL at once when there
 * is none and !wait). */
struct worker_done *workers_take(struct workers *ws, unsigned w, bool wait);
/* Worker w's ring has room for the message it refused last (no waiting). */
bool workers_has_room(struct workers *ws, unsigned w);
/* Done with it: the item and its flow copy go back to the worker, which
 * frees the copy's state (or, when the worker is far behind, they are freed
 * here into stats). */
void workers_done_free(struct workers *ws, struct analyser *stats, struct worker_done *d);
/* An empty flow copy for a new flow of worker w, allocated by the worker. */
struct flow *workers_fresh(struct workers *ws, unsigned w);

#endif
