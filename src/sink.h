/* sink.h - outputs plug in here: every output is a sink that reads
 * finished-flow records (record.h) and run-level snapshots, never the
 * engine or the parsers (the rule Suricata's loggers follow).
 *
 * A sink is a table of hooks and a context.  Only `flow` is required; the
 * others are called when the run loop has something to say:
 *
 *   flow      one finished flow (exactly once per flow)
 *   interval  a statistics interval ended (--stats-interval, live/replay)
 *   flush     a service tick: make what was decided visible (live readers
 *             tail the events file)
 *   reopen    SIGHUP: reopen output files (log rotation)
 *   report    SIGUSR1: write the report so far
 *   finish    end of run, after the last flow, with the run's conclusions
 *             (the cross-network certificate consistency); returns -1 when
 *             an output could not be written.  A sink without one has its
 *             `report` called instead: its last report is its final output
 *   free      release the context (files are closed here)
 *
 * Sinks run in the order they were added: that is the order of their
 * lines on a shared standard output.  Adding an output is one file pair
 * that defines its hooks and a constructor, and one sinks_add() line in
 * main.c.
 */
#ifndef TS_SINK_H
#define TS_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "record.h"

struct certstats;
struct evidbuf_stats;

/* A statistics interval. */
struct run_tick {
	uint64_t now_us;                 /* end of the interval, packet clock */
	const struct engine_counters *c;
	const struct capture_kstats *ks; /* zeros offline */
};

/* The end of the run. */
struct run_end {
	uint64_t now_us;                 /* the packet clock at the end */
	const struct engine_counters *c;
	const struct certstats *certstats; /* concluded; NULL without certificate analysis */
	const struct evidbuf_stats *evidence; /* -w: the packet buffers' counters; NULL without */
	bool stopped;                    /* a stop signal (SIGINT, SIGTERM) ended the run */
};

struct sink_ops {
	const char *name;
	void (*flow)(void *ctx, const struct flow_record *r);
	void (*interval)(void *ctx, const struct run_tick *t);
	void (*flush)(void *ctx);
	void (*reopen)(void *ctx);
	void (*report)(void *ctx);
	int (*finish)(void *ctx, const struct run_end *end);
	void (*free)(void *ctx);
};

struct sink {
	const struct sink_ops *ops;
	void *ctx;                       /* NULL: the constructor failed */
};

#define SINKS_MAX 16

struct sinks {
	struct sink s[SINKS_MAX];
	int n;
};

/* Add a sink (takes ownership of its context).  -1 when its constructor
 * failed (ctx NULL) or the list is full; the sink is freed then. */
int sinks_add(struct sinks *ss, struct sink s);

void sinks_flow(struct sinks *ss, const struct flow_record *r);
void sinks_interval(struct sinks *ss, const struct run_tick *t);
void sinks_flush(struct sinks *ss);
void sinks_reopen(struct sinks *ss);
void sinks_report(struct sinks *ss);
/* 0, or -1 when any sink's finish failed (all are finished regardless). */
int sinks_finish(struct sinks *ss, const struct run_end *end);
/* Free every sink, in reverse order. */
void sinks_free(struct sinks *ss);

#endif
