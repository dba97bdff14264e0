/* run.c - the one run loop over capture files, a live interface or a
 * paced replay, with its clock, statistics intervals, progress line and
 * signals. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "run.h"
#include "sink.h"
#include "util.h"

/* ---- signals ----------------------------------------------------------------- */

/* The one piece of state signal handlers may touch. */
static struct run_signals signals;

static void on_stop(int sig)
{
	(void)sig;
	signals.stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	signals.reopen = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	signals.report = 1;
}

struct run_signals *run_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	return &signals;
}

void run_init(struct run *r, struct engine *e, struct sinks *sinks, const struct run_cfg *cfg,
	      struct run_signals *sig)
{
	memset(r, 0, sizeof(*r));
	r->e = e;
	r->sinks = sinks;
	r->cfg = *cfg;
	r->sig = sig;
}

/* ---- progress line ------------------------------------------------------------- */

/* At most once a second of wall time: elapsed trace time, packets, flows,
 * flows blocked so far. */
static void progress_update(struct run *r)
{
	uint64_t now = mono_now_us();
	if (!r->cfg.progress || now < r->progress_next_us)
		return;
	r->progress_next_us = now + 1000000;
	struct engine_counters c;
	run_counters(r, &c);
	uint64_t el = c.now_us > c.first_us ? (c.now_us - c.first_us) / 1000000 : 0;
	fprintf(stderr, "\rtamperscope: trace %02llu:%02llu:%02llu  %llu packets  %llu flows  %llu blocked ",
		(unsigned long long)(el / 3600), (unsigned long long)(el / 60 % 60),
		(unsigned long long)(el % 60), (unsigned long long)c.frames,
		(unsigned long long)c.flows_created, (unsigned long long)counters_blocked(&c));
	r->progress_shown = true;
}

void run_progress_done(struct run *r)
{
	if (r->progress_shown)
		fputc('\n', stderr);
	r->progress_shown = false;
}

/* ---- the service tick (live and replay) ------------------------------------------- */

/* With workers, the outputs are shared with their threads. */
static void run_lock(struct run *r)
{
	if (r->share)
		pthread_mutex_lock(r->share);
}

static void run_unlock(struct run *r)
{
	if (r->share)
		pthread_mutex_unlock(r->share);
}

/* The engine's counters, or the workers' summed; with workers, ks (if not
 * NULL) gets their sockets' counters in the same snapshot. */
static void counters(const struct run *r, struct engine_counters *c, struct capture_kstats *ks)
{
	if (r->sum)
		r->sum(r->sum_arg, c, ks);
	else
		engine_counters(r->e, c);
}

void run_counters(const struct run *r, struct engine_counters *c)
{
	counters(r, c, NULL);
}

static void interval(struct run *r, uint64_t now_us)
{
	struct engine_counters c;
	counters(r, &c, &r->ks);
	struct run_tick t = { now_us, &c, &r->ks };
	run_lock(r);
	sinks_interval(r->sinks, &t);
	run_unlock(r);
}

/* Statistics intervals on the packet clock (a replay at 20x still reports
 * per minute of trace time); a live quiet wire still reports, a replay
 * starts its intervals at its first packet. */
static void stats_due(struct run *r, uint64_t frames, uint64_t now)
{
	uint64_t every = r->cfg.stats_interval_us;
	if (!every || (frames == 0 && !r->next_stats_us))
		return;
	if (!r->next_stats_us)
		r->next_stats_us = now + every;
	while (now >= r->next_stats_us) {
		interval(r, r->next_stats_us);
		r->next_stats_us += every;
	}
}

static void service(struct run *r, struct capture *c)
{
	struct capture_kstats ks;
	if (capture_kstats(c, &ks) == 0) {
		r->ks = ks;
		/* The kernel lost packets: flows active now may have lost some
		 * of theirs, so none of them may be called interference. */
		if (ks.dropped + ks.if_dropped > r->last_drops) {
			r->last_drops = ks.dropped + ks.if_dropped;
			engine_note_kernel_loss(r->e);
		}
	}
	run_service_outputs(r);
}

void run_service_outputs(struct run *r)
{
	run_lock(r);
	if (r->sig->reopen) {
		r->sig->reopen = 0;
		sinks_reopen(r->sinks);
	}
	if (r->sig->report) {
		r->sig->report = 0;
		sinks_report(r->sinks);
		fflush(stdout);
	}
	run_unlock(r);
	struct engine_counters cn;
	run_counters(r, &cn);
	stats_due(r, cn.frames, cn.now_us);
	progress_update(r);
	/* Live readers tail the events file: what was decided is written
	 * out within one service tick. */
	run_lock(r);
	sinks_flush(r->sinks);
	run_unlock(r);
}

/* The end of a live run or a replay: every flow ends, and a last interval
 * reports what happened since the previous one. */
static void wind_up(struct run *r, enum flow_end why)
{
	engine_finish(r->e, why);
	run_final_interval(r);
}

void run_final_interval(struct run *r)
{
	struct engine_counters c;
	run_counters(r, &c);
	interval(r, c.now_us);
	sinks_flush(r->sinks);
}

/* ---- capture files ---------------------------------------------------------------- */

/* 0 at the end of the file, 1 when it ended badly (err), 2 on a stop. */
static int read_file(struct run *r, struct capture *c, char *err, size_t errlen)
{
	struct frame f;
	enum capture_next n;
	while ((n = capture_next(c, &f, err, errlen)) == CAPTURE_FRAME) {
		engine_frame(r->e, c->dlt, f.ts_us, f.data, f.caplen, f.wirelen);
		if ((c->frames & 0xffff) == 0) {
			if (r->sig->stop)
				return 2;
			progress_update(r);
		}
	}
	return n == CAPTURE_ERROR ? 1 : 0;
}

int run_files(struct run *r, const char *const *paths, int n, const char *bpf)
{
	char err[512];
	int status = 0;
	for (int i = 0; i < n && !r->sig->stop; i++) {
		struct capture cap;
		if (capture_open_file(&cap, paths[i], bpf, err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			status = 1;
			continue;
		}
		engine_begin_input(r->e);
		if (read_file(r, &cap, err, sizeof(err)) == 1) {
			fprintf(stderr, "tamperscope: %s\n", err);
			status = 1;
		}
		capture_close(&cap);
	}
	run_progress_done(r);
	engine_finish(r->e, r->sig->stop ? FLOW_END_SHUTDOWN : FLOW_END_EOF);
	return status;
}

/* ---- live ------------------------------------------------------------------------- */

/* A bounded batch, so timers and signals are looked at regularly even on
 * a busy wire. */
#define LIVE_BATCH 4096

int run_live(struct run *r, struct capture *c, char *err, size_t errlen)
{
	int status = 0;
	engine_set_early_verdicts(r->e, true);
	while (!r->sig->stop) {
		if (capture_wait(c, 100, err, errlen) < 0) {
			status = 1;
			break;
		}
		struct frame f;
		enum capture_next n = CAPTURE_NONE;
		for (int i = 0; i < LIVE_BATCH; i++) {
			if ((n = capture_next(c, &f, err, errlen)) != CAPTURE_FRAME)
				break;
			engine_frame(r->e, c->dlt, f.ts_us, f.data, f.caplen, f.wirelen);
		}
		if (n == CAPTURE_ERROR || n == CAPTURE_EOF) {
			status = 1;
			break;
		}
		/* On a quiet wire the packet clock follows the wall clock; the
		 * kernel stamps packets with the same clock. */
		engine_tick(r->e, wall_now_us());
		if (!r->next_stats_us && r->cfg.stats_interval_us && c->frames == 0)
			r->next_stats_us = engine_now(r->e) + r->cfg.stats_interval_us;
		service(r, c);
	}
	run_progress_done(r);
	if (capture_kstats(c, &r->ks) < 0)
		memset(&r->ks, 0, sizeof(r->ks));
	wind_up(r, FLOW_END_SHUTDOWN);
	fprintf(stderr, "tamperscope: kernel: %llu received, %llu dropped, %llu dropped by the interface\n",
		r->ks.received, r->ks.dropped, r->ks.if_dropped);
	return status;
}

/* ---- replay ----------------------------------------------------------------------- */

static void sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000 };
	nanosleep(&ts, NULL);
}

/* Wait for a packet's moment, ticking the trace clock meanwhile so timers
 * fire as they would have live. */
static void replay_wait(struct run *r, struct capture *c, uint64_t t0, uint64_t w0, uint64_t ts)
{
	double speed = r->cfg.speed;
	uint64_t due = w0 + (uint64_t)((double)(ts - t0) / speed);
	for (uint64_t now = mono_now_us(); now < due && !r->sig->stop; now = mono_now_us()) {
		uint64_t nap = due - now;
		sleep_us(nap > 100000 ? 100000 : nap);
		uint64_t trace_now = t0 + (uint64_t)((double)(mono_now_us() - w0) * speed);
		engine_tick(r->e, trace_now < ts ? trace_now : ts);
		service(r, c);
	}
}

int run_replay(struct run *r, struct capture *c, char *err, size_t errlen)
{
	struct frame f;
	enum capture_next n = CAPTURE_EOF;
	uint64_t t0 = 0, w0 = 0;
	engine_set_early_verdicts(r->e, true);
	while (!r->sig->stop && (n = capture_next(c, &f, err, errlen)) == CAPTURE_FRAME) {
		if (!w0) {
			t0 = f.ts_us;
			w0 = mono_now_us();
		}
		if (r->cfg.speed > 0 && f.ts_us > t0)
			replay_wait(r, c, t0, w0, f.ts_us);
		engine_frame(r->e, c->dlt, f.ts_us, f.data, f.caplen, f.wirelen);
		if ((c->frames & 1023) == 0 || r->cfg.speed > 0)
			service(r, c);
	}
	service(r, c);
	run_progress_done(r);
	wind_up(r, r->sig->stop ? FLOW_END_SHUTDOWN : FLOW_END_EOF);
	return !r->sig->stop && n == CAPTURE_ERROR ? 1 : 0;
}
