/* engine_mt.c - the engine with worker threads (--threads, workers.h).
 *
 * The engine's thread still reads, decodes, keeps the flow table and
 * decides when each flow ends; the flows' packets go to their workers.
 * Everything that used to happen at a flow's end, or that spans flows
 * (scanners' attempts, DNS answers, a new capture's fresh memories),
 * becomes an entry of one queue in the order it happened, and the entries
 * are carried out in that order - a flow's once its worker has sent it back
 * - so the records meet the shared memories (record_shared) and the outputs
 * exactly as with one thread.  With three threads or more a finishing thread
 * of its own does that (from the first entry to the end of the run it alone
 * touches those memories and the outputs); with two, the engine's thread
 * does it between packets, so the two threads keep the two cores busy
 * without waking each other for every step.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "dnstxn.h"
#include "engine_impl.h"
#include "engine_mt.h"
#include "ring.h"
#include "scanner.h"
#include "util.h"
#include "workers.h"

#define ORDER_BYTES (1u << 20) /* entries queued for the finishing thread */

enum order_kind {
	ORD_STOP = 0,     /* no more entries */
	ORD_FLOW,         /* a flow's record, from its worker */
	ORD_SCAN_ATTEMPT, /* scanners_attempt */
	ORD_SCAN_ANSWERED,
	ORD_DNS_TXN,      /* a finished DNS transaction: its record */
	ORD_DNS_ANSWER,   /* an answer into the name map */
	ORD_FRESH,        /* a new capture: the memories across flows start empty */
};

struct order {
	uint8_t kind;
	uint8_t worker;           /* ORD_FLOW */
	int16_t why;              /* ORD_DNS_TXN */
	uint16_t port;            /* ORD_SCAN_ATTEMPT */
	uint64_t seq;             /* ORD_FLOW: the worker's entry */
	uint64_t ts_us;           /* scans: the packet time; DNS: the packet clock */
	struct ts_addr cli, srv;  /* scans */
	struct dns_txn *txn;      /* DNS: a copy */
	struct dns_response *resp;
};

struct engine_mt {
	struct workers *ws;
	struct ring order;        /* entries, engine thread -> finishing thread */
	pthread_t fin;
	bool fin_started;
	bool inline_fin;          /* the engine's thread finishes (two threads in all) */
	struct engine *e;
	uint64_t seq;             /* flows ended so far */
	unsigned since_publish;   /* packets queued since everything was last published */
	uint64_t wait_us[2];      /* the engine's thread waiting: for a worker, for the finishing thread */
	uint64_t finish_us;       /* ... finishing flows itself (two threads) */
	uint64_t fin_cpu_us;      /* the finishing thread's CPU time, when it stopped */
	uint64_t fin_wait_us[2];  /* ... waiting for entries, for a worker's finished flow */
};

static void wait_inline(struct engine *e, unsigned n, uint64_t *waited_us);

/* Everything queued reaches the other threads. */
static void publish_all(struct engine_mt *mt)
{
	if (mt->ws)
		workers_publish(mt->ws);
	ring_publish(&mt->order);
	mt->since_publish = 0;
}

static void order_free_entry(struct order *o)
{
	free(o->txn);
	free(o->resp);
}

/* Carry out one entry; a flow's waits for its worker (or, !wait, is left
 * for later: false). */
static bool order_run(struct engine *e, struct order *o, bool wait)
{
	struct engine_mt *mt = e->mt;
	struct worker_done *d;
	switch (o->kind) {
	case ORD_FLOW:
		if (!(d = workers_take(mt->ws, o->worker, false))) {
			if (!wait)
				return false;
			uint64_t t0 = mono_now_us();
			d = workers_take(mt->ws, o->worker, true);
			*(mt->inline_fin ? &mt->wait_us[0] : &mt->fin_wait_us[1]) += mono_now_us() - t0;
		}
		if (d->seq != o->seq)
			abort(); /* a worker returns its flows in the order it was given them */
		if (d->emit)
			engine_emit_record(e, d->sf, d->ca, d->now_us, &d->rec);
		workers_done_free(mt->ws, &e->an, d);
		break;
	case ORD_SCAN_ATTEMPT:
		scanners_attempt(e->scanners, &o->cli, &o->srv, o->port, o->ts_us);
		break;
	case ORD_SCAN_ANSWERED:
		scanners_answered(e->scanners, &o->cli, o->ts_us);
		break;
	case ORD_DNS_TXN:
		engine_dns_record(e, o->txn, o->why, o->ts_us);
		break;
	case ORD_DNS_ANSWER:
		record_dns_answer(&e->rec, o->txn, o->resp);
		break;
	case ORD_FRESH:
		engine_fresh_memories(e);
		break;
	}
	return true;
}

/* The engine's thread finishing what it can without waiting (two threads). */
static void drain(struct engine *e)
{
	struct engine_mt *mt = e->mt;
	size_t len;
	struct order *o;
	uint64_t t0 = mono_now_us();
	ring_publish(&mt->order);
	while ((o = (struct order *)ring_peek(&mt->order, &len)) && order_run(e, o, false)) {
		order_free_entry(o);
		ring_release(&mt->order, len);
	}
	mt->finish_us += mono_now_us() - t0;
}

static void *finisher_main(void *arg)
{
	struct engine_mt *mt = arg;
	pthread_setname_np(pthread_self(), "ts-finish");
	for (;;) {
		size_t len;
		struct order *o = (struct order *)ring_peek(&mt->order, &len);
		if (!o) {
			uint64_t t0 = mono_now_us();
			ring_wait_data(&mt->order);
			mt->fin_wait_us[0] += mono_now_us() - t0;
			continue;
		}
		if (o->kind == ORD_STOP) {
			ring_release(&mt->order, len);
			mt->fin_cpu_us = thread_cpu_us();
			return NULL;
		}
		order_run(mt->e, o, true);
		order_free_entry(o);
		ring_release(&mt->order, len);
	}
}

static const struct engine_mt_ops mt_ops;

int engine_mt_start(struct engine *e, const struct engine_deps *deps)
{
	/* Each thread allocates from an arena of its own, which glibc grows
	 * and trims page by page (mprotect, madvise): a flow's buffers are
	 * made and dropped thousands of times a second, and the system calls
	 * cost more than the work.  Grow in large steps, never give back. */
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	struct engine_mt *mt = calloc(1, sizeof(*mt));
	if (!mt)
		return -1;
	e->mt = mt;
	e->mt_ops = &mt_ops;
	mt->e = e;
	/* two threads: the engine's and one worker; more: the engine's, a
	 * finishing thread and the rest workers */
	mt->inline_fin = e->cfg.threads <= 2;
	unsigned nw = mt->inline_fin ? 1 : e->cfg.threads - 2;
	mt->ws = workers_new(&e->cfg, nw, deps->certs, deps->blockpages);
	if (!mt->ws || ring_init(&mt->order, ORDER_BYTES) < 0)
		return -1;
	if (!mt->inline_fin) {
		if (pthread_create(&mt->fin, NULL, finisher_main, mt) != 0)
			return -1;
		mt->fin_started = true;
		ring_set_batch(&mt->order, 32);
	}
	return 0;
}

/* The engine's thread queues an entry; a full queue waits for the
 * finishing thread. */
static struct order *order_push(struct engine_mt *mt, enum order_kind kind)
{
	struct order *o;
	while (!(o = ring_reserve(&mt->order, sizeof(*o)))) {
		publish_all(mt);
		if (mt->inline_fin) {
			wait_inline(mt->e, 0, &mt->wait_us[1]);
		} else {
			uint64_t t0 = mono_now_us();
			ring_wait_room(&mt->order, sizeof(*o));
			mt->wait_us[1] += mono_now_us() - t0;
		}
	}
	memset(o, 0, sizeof(*o));
	o->kind = (uint8_t)kind;
	return o;
}

static void order_commit(struct engine_mt *mt)
{
	ring_commit(&mt->order, sizeof(struct order));
}

static void engine_mt_stop(struct engine *e)
{
	struct engine_mt *mt = e->mt;
	if (mt->inline_fin && mt->ws) {
		size_t len;
		struct order *o;
		uint64_t t0 = mono_now_us(), waited = mt->wait_us[0];
		publish_all(mt);
		while ((o = (struct order *)ring_peek(&mt->order, &len))) {
			order_run(e, o, true);
			order_free_entry(o);
			ring_release(&mt->order, len);
		}
		mt->finish_us += mono_now_us() - t0 - (mt->wait_us[0] - waited);
	}
	uint64_t cpu_us = thread_cpu_us(); /* before the workers' statistics are merged */
	bool fin = mt->fin_started;
	if (mt->fin_started) {
		order_push(mt, ORD_STOP);
		order_commit(mt);
		publish_all(mt);
		pthread_join(mt->fin, NULL);
		mt->fin_started = false;
	}
	unsigned nw = mt->ws ? workers_count(mt->ws) : 0;
	free(e->tt);
	e->n_tt = 0;
	if ((e->tt = calloc(1 + nw + fin, sizeof(*e->tt)))) {
		e->tt[0] = (struct thread_time){ THREAD_READER, cpu_us, { mt->wait_us[0], mt->wait_us[1] },
						 mt->finish_us };
		if (fin)
			e->tt[1 + nw] = (struct thread_time){ THREAD_FINISHER, mt->fin_cpu_us,
							      { mt->fin_wait_us[0], mt->fin_wait_us[1] }, 0 };
		e->n_tt = 1 + nw + fin;
	}
	workers_free(mt->ws, &e->an, e->certs, e->tt ? e->tt + 1 : NULL);
	mt->ws = NULL;
}

static void engine_mt_free(struct engine *e)
{
	struct engine_mt *mt = e->mt;
	if (!mt)
		return;
	engine_mt_stop(e);
	size_t len;
	struct order *o;
	while ((o = (struct order *)ring_peek(&mt->order, &len))) {
		order_free_entry(o);
		ring_release(&mt->order, len);
	}
	ring_free(&mt->order);
	free(mt);
	e->mt = NULL;
}

/* The engine's thread finishing inline must not sleep on a worker that
 * may itself wait for the finishing: it finishes what it can and yields
 * (only the yielding counts as waiting). */
static void wait_inline(struct engine *e, unsigned n, uint64_t *waited_us)
{
	drain(e);
	uint64_t t0 = mono_now_us();
	ring_pause(n < 64 ? 64 : n);
	*waited_us += mono_now_us() - t0;
}

static void wait_worker(struct engine *e, unsigned w)
{
	struct engine_mt *mt = e->mt;
	if (!mt->inline_fin) {
		uint64_t t0 = mono_now_us();
		workers_wait(mt->ws, w);
		mt->wait_us[0] += mono_now_us() - t0;
		return;
	}
	for (unsigned n = 0; !workers_has_room(mt->ws, w); n++)
		wait_inline(e, n, &mt->wait_us[0]);
}

/* ---- packets and ends ---------------------------------------------------------------- */

/* The worker's copy of a new flow: who, when, its clock epoch; none of the
 * engine's lists or state. */
static struct flow *shadow_of(struct engine_mt *mt, const struct flow *f)
{
	struct flow *sf = workers_fresh(mt->ws, f->worker);
	*sf = *f;
	sf->prev = sf->next = sf->pprev = sf->pnext = NULL;
	sf->hs = NULL;
	sf->tls = NULL;
	sf->dns = NULL;
	sf->http = NULL;
	sf->quic = NULL;
	sf->ndpi = NULL;
	sf->evid = NULL;
	sf->shadow = NULL;
	sf->pkts[0] = sf->pkts[1] = 0;
	sf->bytes[0] = sf->bytes[1] = 0;
	sf->quiet = 0;
	tcpobs_init(&sf->obs);
	return sf;
}

static void engine_mt_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
		      bool created)
{
	struct engine_mt *mt = e->mt;
	if (created) {
		f->worker = (uint8_t)workers_pick(mt->ws, f->hash);
		f->shadow = shadow_of(mt, f);
	}
	while (!workers_packet(mt->ws, f->worker, f->shadow, p, dir, created)) {
		publish_all(mt);
		wait_worker(e, f->worker);
	}
	/* in steps, but never long behind: the finishing thread waits for it */
	if (++mt->since_publish >= 256) {
		publish_all(mt);
		if (mt->inline_fin)
			drain(e);
	}
}

static void engine_mt_flow_end(struct engine *e, struct flow *f, enum flow_end why)
{
	struct engine_mt *mt = e->mt;
	struct worker_end end = {
		.seq = ++mt->seq,
		.why = why,
		.now_us = e->now_us,
		.emit = !f->reported && !dns_flow_represented(f),
		.clock_jumped = f->clock_jumped,
		.lost_kernel = f->lost_kernel,
	};
	if (!f->shadow)
		return;
	while (!workers_end(mt->ws, f->worker, f->shadow, &end)) {
		publish_all(mt);
		wait_worker(e, f->worker);
	}
	struct order *o = order_push(mt, ORD_FLOW);
	o->worker = f->worker;
	o->seq = end.seq;
	order_commit(mt);
	f->shadow = NULL;
}

/* ---- what spans flows, in order ---------------------------------------------------------- */

static void engine_mt_scan_attempt(struct engine *e, const struct flow *f, uint64_t ts_us)
{
	struct order *o = order_push(e->mt, ORD_SCAN_ATTEMPT);
	o->cli = f->cli;
	o->srv = f->srv;
	o->port = f->sport;
	o->ts_us = ts_us;
	order_commit(e->mt);
}

static void engine_mt_scan_answered(struct engine *e, const struct flow *f, uint64_t ts_us)
{
	struct order *o = order_push(e->mt, ORD_SCAN_ANSWERED);
	o->cli = f->cli;
	o->ts_us = ts_us;
	order_commit(e->mt);
}

static struct dns_txn *txn_copy(const struct dns_txn *t)
{
	struct dns_txn *c = malloc(sizeof(*c));
	if (!c)
		abort();
	*c = *t;
	c->older = c->newer = NULL;
	return c;
}

static void engine_mt_dns_txn(struct engine *e, const struct dns_txn *t, int why)
{
	struct order *o = order_push(e->mt, ORD_DNS_TXN);
	o->txn = txn_copy(t);
	o->why = (int16_t)why;
	o->ts_us = e->now_us;
	order_commit(e->mt);
}

static void engine_mt_dns_answer(struct engine *e, const struct dns_txn *t, const struct dns_response *r)
{
	struct order *o = order_push(e->mt, ORD_DNS_ANSWER);
	o->txn = txn_copy(t);
	if (!(o->resp = malloc(sizeof(*o->resp))))
		abort();
	*o->resp = *r;
	order_commit(e->mt);
}

static void engine_mt_fresh(struct engine *e)
{
	order_push(e->mt, ORD_FRESH);
	order_commit(e->mt);
}

static const struct engine_mt_ops mt_ops = {
	.packet = engine_mt_packet,
	.flow_end = engine_mt_flow_end,
	.scan_attempt = engine_mt_scan_attempt,
	.scan_answered = engine_mt_scan_answered,
	.dns_txn = engine_mt_dns_txn,
	.dns_answer = engine_mt_dns_answer,
	.fresh = engine_mt_fresh,
	.free = engine_mt_free,
};
