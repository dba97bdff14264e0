/* live.c - live capture and paced replay with wall-clock timers. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "live.h"
#include "out_event.h"

uint64_t wall_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t mono_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Timers shared by live and replay: statistics on the packet clock (so a
 * replay at 20x still reports per minute of trace time), the progress line
 * on the wall clock, and the signal flags. */
struct timers {
	uint64_t next_stats_us;   /* packet clock */
	uint64_t last_drops;
	struct progress_state ps;
};

void progress_update(const struct engine *e, struct progress_state *ps)
{
	uint64_t now = mono_now_us();
	if (now < ps->next_mono)
		return;
	ps->next_mono = now + 1000000;
	uint64_t blocked = 0;
	for (int v = 0; v < V__COUNT; v++)
		if (verdict_is_interference((enum verdict)v))
			blocked += e->st.flows_by_verdict[v];
	uint64_t el = e->now_us > e->first_us ? (e->now_us - e->first_us) / 1000000 : 0;
	fprintf(stderr, "\rtamperscope: trace %02llu:%02llu:%02llu  %llu packets  %llu flows  %llu blocked ",
		(unsigned long long)(el / 3600), (unsigned long long)(el / 60 % 60),
		(unsigned long long)(el % 60), (unsigned long long)e->st.frames,
		(unsigned long long)engine_flows_created(e), (unsigned long long)blocked);
	ps->shown = 1;
}

void progress_done(struct progress_state *ps)
{
	if (ps->shown)
		fputc('\n', stderr);
	ps->shown = 0;
}

static void service(struct engine *e, struct capture *c, struct timers *t,
		    const struct live_cfg *lc, struct live_signals *sig)
{
	struct capture_kstats ks;
	int have_ks = capture_kstats(c, &ks) == 0;
	if (have_ks && ks.dropped + ks.if_dropped > t->last_drops) {
		/* The kernel lost packets: flows active now may have lost some
		 * of theirs, so none of them may be called interference. */
		t->last_drops = ks.dropped + ks.if_dropped;
		engine_note_kernel_loss(e);
	}
	if (!have_ks)
		memset(&ks, 0, sizeof(ks));
	if (sig->reopen) {
		sig->reopen = 0;
		if (lc->on_reopen)
			lc->on_reopen(lc->arg);
	}
	if (sig->report) {
		sig->report = 0;
		if (lc->on_report)
			lc->on_report(lc->arg);
	}
	/* Live, a quiet wire still reports (the sensor is alive); a replay
	 * starts its intervals at its first packet. */
	if (lc->stats_interval_us && (e->st.frames > 0 || t->next_stats_us)) {
		if (!t->next_stats_us)
			t->next_stats_us = e->now_us + lc->stats_interval_us;
		while (e->now_us >= t->next_stats_us) {
			if (lc->on_stats)
				lc->on_stats(lc->arg, t->next_stats_us, &ks);
			t->next_stats_us += lc->stats_interval_us;
		}
	}
	if (lc->progress)
		progress_update(e, &t->ps);
	/* Live readers tail the events file: what was decided is written out
	 * within one service tick. */
	if (e->events)
		out_event_flush(e->events);
}

int live_run(struct engine *e, struct capture *c, const struct live_cfg *lc,
	     struct live_signals *sig, char *err, size_t errlen)
{
	struct timers t;
	memset(&t, 0, sizeof(t));
	engine_set_early_verdicts(e, true);
	while (!sig->stop) {
		if (capture_poll(c, e, 100, err, errlen) < 0) {
			progress_done(&t.ps);
			return 1;
		}
		/* On a quiet wire the packet clock follows the wall clock; the
		 * kernel stamps packets with the same clock. */
		engine_tick(e, wall_now_us());
		if (!t.next_stats_us && lc->stats_interval_us && e->st.frames == 0)
			t.next_stats_us = e->now_us + lc->stats_interval_us;
		service(e, c, &t, lc, sig);
	}
	progress_done(&t.ps);
	return 0;
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000u), (long)(us % 1000000u) * 1000 };
	nanosleep(&ts, NULL);
}

int replay_run(struct engine *e, struct capture *c, const struct live_cfg *lc,
	       struct live_signals *sig, char *err, size_t errlen)
{
	struct timers t;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t t0 = 0, w0 = 0;
	int rc = 0;
	memset(&t, 0, sizeof(t));
	engine_set_early_verdicts(e, true);
	while (!sig->stop && (rc = pcap_next_ex(c->pcap, &h, &data)) == 1) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		if (!w0) {
			t0 = ts;
			w0 = mono_now_us();
		}
		if (lc->speed > 0 && ts > t0) {
			/* Wait for the packet's moment, ticking the trace clock
			 * meanwhile so timers fire as they would have live. */
			uint64_t due = w0 + (uint64_t)((double)(ts - t0) / lc->speed);
			for (uint64_t now = mono_now_us(); now < due && !sig->stop;
			     now = mono_now_us()) {
				uint64_t nap = due - now;
				sleep_us(nap > 100000 ? 100000 : nap);
				uint64_t trace_now = t0 + (uint64_t)((double)(mono_now_us() - w0) * lc->speed);
				engine_tick(e, trace_now < ts ? trace_now : ts);
				service(e, c, &t, lc, sig);
			}
		}
		c->frames++;
		engine_frame(e, c->dlt, ts, data, h->caplen, h->len);
		if ((c->frames & 1023) == 0 || lc->speed > 0)
			service(e, c, &t, lc, sig);
	}
	service(e, c, &t, lc, sig);
	progress_done(&t.ps);
	if (!sig->stop && rc == -1) {
		snprintf(err, errlen, "%s: capture file cut mid-packet after %llu packets (%s)",
			 c->name, c->frames, pcap_geterr(c->pcap));
		return 1;
	}
	return 0;
}
