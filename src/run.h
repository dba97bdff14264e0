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
struct live_workers;
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
	struct live_workers *lw;      /* live capture with worker threads, else NULL */
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

/* Live capture with worker threads (run_workers.c; --threads with -i on an
 * Ethernet interface): one fanout socket (fanout.h) and one engine per
 * worker, no reading thread.  The first engine is main's (made with
 * engine_deps.share = live_workers_share), the others its peers.
 *   live_workers_new     n workers' places and the lock (NULL: out of memory)
 *   live_workers_open    their sockets on the interface, before -Z drops
 *                        privileges; 0, or -1 with err set
 *   run_live_workers     as run_live, with the workers; 0, or 1 after a
 *                        socket failed (err set) */
struct live_workers *live_workers_new(unsigned n);
pthread_mutex_t *live_workers_share(struct live_workers *lw);
int live_workers_open(struct live_workers *lw, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen);
int run_live_workers(struct run *r, struct live_workers *lw, const struct engine_cfg *cfg,
		     const struct engine_deps *deps, char *err, size_t errlen);
void live_workers_free(struct live_workers *lw);
/* The workers' counters summed (c), and their sockets' (ks); either may be NULL. */
void live_workers_counters(struct live_workers *lw, struct engine_counters *c,
			   struct capture_kstats *ks);

/* run.c, for run_workers.c: the service tick's outputs (signals, intervals,
 * progress line, flushing; under the workers' lock with workers), and the
 * end of a live run's outputs. */
void run_service_outputs(struct run *r);
void run_final_interval(struct run *r);
void run_progress_done(struct run *r);

/* Wall clock in microseconds (CLOCK_REALTIME) and monotonic. */
uint64_t wall_now_us(void);
uint64_t mono_now_us(void);

#endif
