/* live.h - the live run loop: a capture on an interface, or a capture file
 * replayed at its recorded pace, with wall-clock timers.
 *
 * Offline analysis (capture_run) reads as fast as it can and its clock is
 * only the packets' timestamps.  Here the packet clock also advances from
 * the wall clock while the wire is quiet, so a stalled handshake gets its
 * verdict within the stall timeout even if no packet follows; statistics
 * are emitted every interval; signals are acted on between batches.
 */
#ifndef TS_LIVE_H
#define TS_LIVE_H

#include <signal.h>
#include <stdint.h>

#include "capture.h"

struct engine;

/* Set by signal handlers, read by the loop. */
struct live_signals {
	volatile sig_atomic_t stop;   /* SIGINT, SIGTERM */
	volatile sig_atomic_t reopen; /* SIGHUP */
	volatile sig_atomic_t report; /* SIGUSR1 */
};

struct live_cfg {
	uint64_t stats_interval_us;   /* --stats-interval; 0 = none */
	double speed;                 /* replay: 1 = real time; 0 = as fast as possible */
	int progress;                 /* progress line on stderr */
	/* Called between batches when SIGHUP / SIGUSR1 arrived. */
	void (*on_reopen)(void *arg);
	void (*on_report)(void *arg);
	void (*on_stats)(void *arg, uint64_t now_us, const struct capture_kstats *ks);
	void *arg;
};

/* Run until *stop or an error.  0 on stop, 1 on a capture error (err set). */
int live_run(struct engine *e, struct capture *c, const struct live_cfg *lc,
	     struct live_signals *sig, char *err, size_t errlen);

/* Replay an opened capture file through the same timers.  0 at end of
 * file or on stop, 1 if the file ended mid-packet (err set). */
int replay_run(struct engine *e, struct capture *c, const struct live_cfg *lc,
	       struct live_signals *sig, char *err, size_t errlen);

/* The progress line on stderr, at most once a second of wall time:
 * elapsed trace time, packets, flows, flows blocked so far.  *state starts
 * zeroed; progress_done ends the line if one was shown. */
struct progress_state {
	uint64_t next_mono;
	int shown;
};
void progress_update(const struct engine *e, struct progress_state *ps);
void progress_done(struct progress_state *ps);

/* Wall clock in microseconds (CLOCK_REALTIME) and monotonic. */
uint64_t wall_now_us(void);
uint64_t mono_now_us(void);

#endif
