/* run_workers.c - live capture with worker threads.
 *
 * Each worker owns one packet socket of a fanout group (fanout.h) and one
 * engine: the kernel gives every packet of a connection, both ways and
 * tunnelled or not, to the same socket, so each engine sees whole
 * connections in their order and decides them itself, with its own flow
 * table, timers and stall deadlines on its own quiet wire.  What spans connections (who
 * scans, each server's TTL, residual blocks, the name map, the
 * certificate memory) and the outputs are the first engine's, under one
 * lock (engine_deps.share): records go out one whole line at a time.
 *
 * The main thread reads no packets: it acts on signals, writes the
 * statistics intervals and the progress line from the counters each
 * worker publishes ten times a second, and flushes the outputs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "engine.h"
#include "fanout.h"
#include "run_workers.h"

#define LIVE_BATCH 4096              /* frames read between looks at the clock and the stop flag */
#define PUBLISH_US 100000            /* counters published this often */

struct lworker {
	struct live_workers *lw;
	unsigned index;
	struct engine *e;
	struct fanout_sock sock;
	pthread_t tid;
	bool started;
	unsigned long long last_drops;   /* kernel drops already marked */
	/* published under the share lock */
	struct engine_counters snap;
	unsigned long long k_received, k_dropped;
	/* a failed socket: the run stops */
	char err[256];
	int failed;
};

struct live_workers {
	pthread_mutex_t share;
	int stop;
	uint64_t ready_us;               /* frames of earlier times are not read */
	unsigned n;
	struct lworker w[];
};

struct live_workers *live_workers_new(unsigned n)
{
	if (n < 1 || n > KSTATS_WORKERS_MAX)
		return NULL;
	struct live_workers *lw = calloc(1, sizeof(*lw) + n * sizeof(lw->w[0]));
	if (!lw)
		return NULL;
	pthread_mutex_init(&lw->share, NULL);
	lw->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct lworker *w = &lw->w[i];
		w->lw = lw;
		w->index = i;
		w->sock.fd = -1;
	}
	return lw;
}

pthread_mutex_t *live_workers_share(struct live_workers *lw)
{
	return &lw->share;
}

int live_workers_open(struct live_workers *lw, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen)
{
	/* one group per run: the process id keeps two runs on one host apart */
	unsigned mib = o->buffer_kib > 0 ? (unsigned)o->buffer_kib / 1024 / lw->n : 0; /* -B, shared out */
	struct fanout_opts fo = { o->iface, -1, o->snaplen, o->promisc != 0,
				  o->buffer_kib > 0 && mib == 0 ? 1 : mib };
	for (unsigned i = 0; i < lw->n; i++) {
		if (fanout_open(&lw->w[i].sock, &fo, bpf, err, errlen) < 0)
			return -1;
		fo.group = lw->w[0].sock.group;
	}
	/* While the sockets joined one by one, the kernel spread packets over
	 * fewer of them: a connection's first packets may be in another
	 * worker's ring.  What arrived before all had joined is not read. */
	lw->ready_us = wall_now_us();
	return 0;
}

void live_workers_free(struct live_workers *lw)
{
	if (!lw)
		return;
	for (unsigned i = 0; i < lw->n; i++) {
		struct lworker *w = &lw->w[i];
		if (w->e && i > 0)
			engine_free(w->e);
		fanout_close(&w->sock);
	}
	pthread_mutex_destroy(&lw->share);
	free(lw);
}

/* ---- one worker ------------------------------------------------------------------- */

/* The socket's counters and the engine's, for the main thread.  A loss
 * (the socket's ring was full) means this worker's open flows may miss
 * packets: none of them may be called interference. */
static void publish(struct lworker *w)
{
	unsigned long long rx, drops;
	fanout_kstats(&w->sock, &rx, &drops);
	if (drops > w->last_drops) {
		w->last_drops = drops;
		engine_note_kernel_loss(w->e);
	}
	pthread_mutex_lock(&w->lw->share);
	engine_counters(w->e, &w->snap);
	w->k_received = rx;
	w->k_dropped = drops;
	pthread_mutex_unlock(&w->lw->share);
}

/* Until readable or 100 ms, unless frames are waiting already (busy: the
 * last batch was full, or a block is part read); -1 when the socket
 * failed. */
static int wait_frames(struct lworker *w, bool busy)
{
	struct pollfd p = { w->sock.fd, POLLIN, 0 };
	int n = poll(&p, 1, busy || w->sock.left ? 0 : 100);
	if (n < 0 && errno != EINTR) {
		snprintf(w->err, sizeof(w->err), "poll: %s", strerror(errno));
		return -1;
	}
	if (n > 0 && (p.revents & (POLLERR | POLLNVAL))) {
		snprintf(w->err, sizeof(w->err), "the packet socket failed");
		return -1;
	}
	return 0;
}

static void *worker_run(void *arg)
{
	struct lworker *w = arg;
	struct live_workers *lw = w->lw;
	uint64_t next_publish = 0;
	bool busy = false;
	engine_set_early_verdicts(w->e, true);
	while (!__atomic_load_n(&lw->stop, __ATOMIC_ACQUIRE)) {
		if (wait_frames(w, busy) < 0) {
			__atomic_store_n(&w->failed, 1, __ATOMIC_RELEASE);
			break;
		}
		struct frame f;
		int i = 0;
		for (; i < LIVE_BATCH && fanout_next(&w->sock, &f) == CAPTURE_FRAME; i++)
			if (f.ts_us >= lw->ready_us)
				engine_frame(w->e, DLT_EN10MB, f.ts_us, f.data, f.caplen, f.wirelen);
		busy = i == LIVE_BATCH;
		/* On a quiet wire the packet clock follows the wall clock, less
		 * the time a block may wait in the kernel before it is handed
		 * over: a packet stamped before a deadline but not read yet
		 * must still count before the deadline passes. */
		engine_tick(w->e, wall_now_us() - FANOUT_BLOCK_WAIT_US);
		uint64_t now = mono_now_us();
		if (now >= next_publish) {
			publish(w);
			next_publish = now + PUBLISH_US;
		}
	}
	engine_finish(w->e, FLOW_END_SHUTDOWN);
	publish(w);
	return NULL;
}

/* ---- the run ---------------------------------------------------------------------- */

/* The workers' counters summed (c), and their sockets' (ks); either may be NULL. */
static void sum_counters(void *arg, struct engine_counters *c, struct capture_kstats *ks)
{
	struct live_workers *lw = arg;
	pthread_mutex_lock(&lw->share);
	if (c) {
		memset(c, 0, sizeof(*c));
		for (unsigned i = 0; i < lw->n; i++)
			counters_add(c, &lw->w[i].snap);
	}
	if (ks) {
		memset(ks, 0, sizeof(*ks));
		ks->n_workers = lw->n;
		for (unsigned i = 0; i < lw->n; i++) {
			ks->worker[i].received = lw->w[i].k_received;
			ks->worker[i].dropped = lw->w[i].k_dropped;
			ks->received += lw->w[i].k_received;
			ks->dropped += lw->w[i].k_dropped;
		}
	}
	pthread_mutex_unlock(&lw->share);
}

static void sleep_100ms(void)
{
	struct timespec ts = { 0, 100 * 1000000L };
	nanosleep(&ts, NULL); /* a signal cuts it short: acted on at once */
}

/* The peers' engines, then every worker's thread; -1 (err set) when one
 * could not start, with those started already stopping. */
static int start(struct run *r, struct live_workers *lw, const struct engine_cfg *cfg,
		 const struct engine_deps *deps, char *err, size_t errlen)
{
	struct engine_deps pd = *deps;
	pd.share = &lw->share;
	pd.peer_of = r->e;
	for (unsigned i = 0; i < lw->n; i++) {
		struct lworker *w = &lw->w[i];
		w->e = i == 0 ? r->e : engine_new(cfg, &pd);
		if (!w->e) {
			snprintf(err, errlen, "cannot initialise worker %u (out of memory or nDPI failed)", i);
			return -1;
		}
	}
	/* signals are the main thread's */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int rc = 0;
	for (unsigned i = 0; i < lw->n && !rc; i++) {
		struct lworker *w = &lw->w[i];
		if ((rc = pthread_create(&w->tid, NULL, worker_run, w)) != 0)
			snprintf(err, errlen, "cannot start worker %u: %s", i, strerror(rc));
		else
			w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc ? -1 : 0;
}

static bool any_failed(struct live_workers *lw, char *err, size_t errlen)
{
	for (unsigned i = 0; i < lw->n; i++) {
		if (__atomic_load_n(&lw->w[i].failed, __ATOMIC_ACQUIRE)) {
			snprintf(err, errlen, "worker %u: %s", i, lw->w[i].err);
			return true;
		}
	}
	return false;
}

int run_live_workers(struct run *r, struct live_workers *lw, const struct engine_cfg *cfg,
		     const struct engine_deps *deps, char *err, size_t errlen)
{
	int status = 0;
	r->share = &lw->share;
	r->sum = sum_counters;
	r->sum_arg = lw;
	if (r->cfg.stats_interval_us)
		r->next_stats_us = wall_now_us() + r->cfg.stats_interval_us;
	if (start(r, lw, cfg, deps, err, errlen) < 0)
		status = 1;
	while (!status && !r->sig->stop) {
		sleep_100ms();
		if (any_failed(lw, err, errlen))
			status = 1;
		run_service_outputs(r);
	}
	__atomic_store_n(&lw->stop, 1, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < lw->n; i++) {
		if (lw->w[i].started)
			pthread_join(lw->w[i].tid, NULL);
	}
	run_progress_done(r);
	sum_counters(lw, NULL, &r->ks);
	run_final_interval(r);
	fprintf(stderr, "tamperscope: kernel: %llu received, %llu dropped, %llu dropped by the interface\n",
		r->ks.received, r->ks.dropped, r->ks.if_dropped);
	for (unsigned i = 0; i < lw->n; i++)
		fprintf(stderr, "tamperscope: kernel: worker %u: %llu received, %llu dropped\n", i,
			r->ks.worker[i].received, r->ks.worker[i].dropped);
	return status;
}
