/* engine_impl.h - the engine's context, shared by its files: engine.c (the
 * per-packet pipeline) and engine_mt.c (the same with worker threads).
 * Not for other stages: they use engine.h. */
#ifndef TS_ENGINE_IMPL_H
#define TS_ENGINE_IMPL_H

#include "analyse.h"
#include "engine.h"
#include "recorder.h"

struct engine_mt;
struct dns_txn;
struct dns_response;

struct engine_stats {
	uint64_t frames;
	uint64_t bytes;
	uint64_t decoded;            /* frames that gave a TCP/UDP packet */
	uint64_t decode[DEC__COUNT]; /* per decode_result */
	uint64_t tunnels[TUN__COUNT]; /* frames decapsulated, per tunnel kind */
	uint64_t tcp_packets, udp_packets;
	uint64_t flows_by_verdict[V__COUNT];
	uint64_t flow_alloc_failed;  /* flow table entries not allocated */
};

struct engine {
	struct engine_cfg cfg;
	struct flow_table *flows;
	struct analyser an;          /* the flows' own analysis (this thread's) */
	struct defrag *defrag;
	struct residual_table *residual;
	struct scanners *scanners;   /* clients scanning, whose flows conclude nothing */
	struct servers *servers;     /* each server's own TTL across flows */
	struct certstats *cstats;    /* cross-network certificate memory, NULL without certs */
	struct dnstxn *dns;          /* the DNS stage: transactions of port-53 flows */
	struct cert_ctx *certs;      /* borrowed */
	struct recorder rec;         /* the refinements that span flows (record_shared) */
	struct sinks *sinks;         /* borrowed */
	struct evidbuf *evid;        /* -w: packets kept per flow, NULL without */
	uint64_t now_us;             /* packet clock: latest packet time seen */
	uint64_t first_us;           /* first packet time */
	bool input_start;            /* next frame is the first of a new input */
	int64_t clock_shift_us;      /* added to this input's timestamps (discontinuities) */
	uint64_t clock_jumps;        /* discontinuities found */
	uint8_t clock_epoch;         /* discontinuities so far, saturating */
	int64_t clock_shifts[256];   /* the shift of each epoch */
	bool early_verdicts;         /* live/replay: records of stalls at their deadline */
	struct flow *pend_head, *pend_tail; /* flows awaiting a deadline, by deadline */
	struct engine_stats st;
	struct engine_mt *mt;        /* --threads: workers and the order flows end in; NULL for one thread */
	struct thread_time *tt;      /* --threads: the threads' times, once stopped (engine_thread_times) */
	unsigned n_tt;
	const struct engine_mt_ops *mt_ops; /* engine_mt.c's, with mt */
	/* live workers (engine_deps.share): */
	pthread_mutex_t *share;      /* over what spans flows and the outputs; NULL: one engine */
	bool peer;                   /* those are another engine's */
	struct cert_ctx *own_certs;  /* this engine's chain analysis context */
};

static inline void engine_lock(struct engine *e)
{
	if (e->share)
		pthread_mutex_lock(e->share);
}

static inline void engine_unlock(struct engine *e)
{
	if (e->share)
		pthread_mutex_unlock(e->share);
}

/* engine.c: the record of a flow whose flow-local part is rec (the shared
 * refinements, the end-of-run memories, the outputs); ca: rec's chain
 * analysis, writable, or NULL. */
void engine_emit_record(struct engine *e, const struct flow *f, struct cert_analysis *ca,
			uint64_t now_us, struct flow_record *rec);
/* engine.c: the record of a finished DNS transaction (why: enum dnstxn_end), and an answer into the
 * name map, at the packet clock now_us. */
void engine_dns_record(struct engine *e, const struct dns_txn *t, int why, uint64_t now_us);
/* engine.c: what the verdict stage remembers across flows starts empty (a new capture). */
void engine_fresh_memories(struct engine *e);

/* What engine_mt.c (engine_mt_start, engine_mt.h) plugs into the engine
 * when it runs with worker threads: the pipeline calls these instead of
 * doing the work itself.  From engine_mt_start until free, only the
 * finishing thread touches what spans flows and the outputs. */
struct engine_mt_ops {
	/* One packet of flow f, to its worker (created: f's first; the copy is made then). */
	void (*packet)(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
		       bool created);
	/* Flow f ended: to its worker, and its place in the order. */
	void (*flow_end)(struct engine *e, struct flow *f, enum flow_end why);
	/* What spans flows, in order with the flows' ends. */
	void (*scan_attempt)(struct engine *e, const struct flow *f, uint64_t ts_us);
	void (*scan_answered)(struct engine *e, const struct flow *f, uint64_t ts_us);
	void (*dns_txn)(struct engine *e, const struct dns_txn *t, int why);
	void (*dns_answer)(struct engine *e, const struct dns_txn *t, const struct dns_response *r);
	void (*fresh)(struct engine *e);
	/* Every finished flow out, the threads stopped, their counters merged, e->mt freed. */
	void (*free)(struct engine *e);
};

#endif
