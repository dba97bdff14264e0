/* run.h - the one run loop: capture files read as fast as they can be,
 * a live interface, or a capture replayed at its recorded pace.
 *
 * The loop takes frames from a capture (a pure source), hands them to the
 * engine, and owns everything around that: the clock on a quiet wire (live,
 * the packet clock follows the wall clock, so a stalled handshake gets its
 * verdict within the stall timeout even if no packet follows), statistics
 * intervals on the packet clock, the progress line, and the signals
 * (SIGINT/SIGTERM stop, SIGHUP reopens output files, SIGUSR1 writes the
 * report so far), acted on between frames.
 */
#ifndef TS_RUN_H
#define TS_RUN_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture.h"

struct engine;
struct engine_cfg;
struct engine_counters;
struct engine_deps;
struct sinks;

struct run_cfg {
	uint64_t stats_interval_us;   /* --stats-interval (live, replay); 0 = none */
	double speed;                 /* replay: 1 = real time, 0 = as fast as possible */
	bool progress;                /* a progress line on stderr */
};

/* Set by the signal handlers (run_install_signals), read by the loop. */
struct run_signals {
	volatile sig_atomic_t stop;   /* SIGINT, SIGTERM */
	volatile sig_atomic_t reopen; /* SIGHUP */
	volatile sig_atomic_t report; /* SIGUSR1 */
};

/* The flags the handlers set (the one piece of state they may touch). */
struct run_signals *run_install_signals(void);

struct run {
	struct engine *e;
	struct sinks *sinks;
	struct run_cfg cfg;
	struct run_signals *sig;
	/* the loop's own state */
	uint64_t next_stats_us;       /* packet clock of the next interval end */
	unsigned long long last_drops;
	uint64_t progress_next_us;    /* monotonic time of the next progress line */
	bool progress_shown;
	struct capture_kstats ks;     /* the last kernel counters read (live) */
	/* live capture with worker threads (run_workers.h), else NULL: the
	 * lock over the outputs, which the workers' engines write too, and
	 * the workers' counters summed (c), their sockets' (ks), either NULL */
	pthread_mutex_t *share;
	void (*sum)(void *arg, struct engine_counters *c, struct capture_kstats *ks);
	void *sum_arg;
};

void run_init(struct run *r, struct engine *e, struct sinks *sinks, const struct run_cfg *cfg,
	      struct run_signals *sig);

/* Capture files in order, as fast as they can be read, then every flow
 * ends (end of input, or shutdown on a stop signal).  A file that cannot
 * be opened or ends mid-packet gets a one-line error on stderr (what was
 * read before is analysed) and the rest are still read.  0, or 1 when any
 * file failed. */
int run_files(struct run *r, const char *const *paths, int n, const char *bpf);

/* An opened interface until a stop signal or an error; then every flow
 * ends (shutdown) and a last interval is reported.  0, or 1 after a
 * capture error (err set). */
int run_live(struct run *r, struct capture *c, char *err, size_t errlen);

/* An opened capture file at its recorded pace (cfg.speed) through the
 * same timers; then every flow ends.  0, or 1 if the file ended
 * mid-packet (err set). */
int run_replay(struct run *r, struct capture *c, char *err, size_t errlen);

/* The run's counters: the engine's, or the sum of the workers' engines'. */
void run_counters(const struct run *r, struct engine_counters *c);


/* run.c, for run_workers.c: the service tick's outputs (signals, intervals,
 * progress line, flushing; under the workers' lock with workers), and the
 * end of a live run's outputs. */
void run_service_outputs(struct run *r);
void run_final_interval(struct run *r);
void run_progress_done(struct run *r);

#endif
