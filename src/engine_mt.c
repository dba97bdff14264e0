/* engine_mt.c - the engine with worker threads (--threads, workers.h).
 *
 * The engine's thread still reads, decodes, keeps the flow table and
 * decides when each flow ends; the flows' packets go to their workers.
 * Everything that used to happen at a flow's end, or that spans flows
 * (scanners' attempts, DNS answers, a new capture's fresh memories),
 * becomes an entry of one queue in the order it happened, and a finishing
 * thread carries the entries out in that order - a flow's once its worker
 * has sent it back - so the records meet the shared memories (record_shared)
 * and the outputs exactly as with one thread.  From the first entry to the
 * end of the run the finishing thread alone touches those memories and the
 * outputs; the engine's thread waits for it before the run's end.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "dnstxn.h"
#include "engine_impl.h"
#include "ring.h"
#include "scanner.h"
#include "workers.h"

#define ORDER_BYTES (1u << 20) /* entries queued for the finishing thread */
#define SPARE_BYTES (64u << 10) /* flow copies handed back for reuse */

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
	struct ring spare;        /* flow copies the finishing thread is done with */
	pthread_t fin;
	bool fin_started;
	struct engine *e;
	uint64_t seq;             /* flows ended so far */
	unsigned since_publish;   /* packets queued since everything was last published */
};

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

/* Carry out one entry (the finishing thread); a flow's waits for its worker. */
static void order_run(struct engine *e, struct order *o)
{
	struct engine_mt *mt = e->mt;
	struct worker_done *d;
	switch (o->kind) {
	case ORD_FLOW:
		d = workers_take(mt->ws, o->worker);
		if (d->seq != o->seq)
			abort(); /* a worker returns its flows in the order it was given them */
		if (d->emit)
			engine_emit_record(e, d->sf, d->ca, d->now_us, &d->rec);
		struct flow *sf = d->sf;
		workers_done_free(mt->ws, &e->an, d);
		if (!ring_put_ptr(&mt->spare, sf))
			free(sf);
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
}

static void *finisher_main(void *arg)
{
	struct engine_mt *mt = arg;
	pthread_setname_np(pthread_self(), "ts-finish");
	for (;;) {
		size_t len;
		struct order *o = (struct order *)ring_peek(&mt->order, &len);
		if (!o) {
			ring_wait_data(&mt->order);
			continue;
		}
		if (o->kind == ORD_STOP) {
			ring_release(&mt->order, len);
			return NULL;
		}
		order_run(mt->e, o);
		order_free_entry(o);
		ring_release(&mt->order, len);
	}
}

int engine_mt_start(struct engine *e, const struct engine_deps *deps)
{
	/* Each thread allocates from an arena of its own, which glibc grows
	 * and trims page by page (mprotect, madvise): a flow's buffers are
	 * made and dropped thousands of times a second, and the system calls
	 * cost more than the work.  Grow in large steps, never give back. */
	mallopt(M_TOP_PAD, 16 << 20);
	mallopt(M_TRIM_THRESHOLD, 256 << 20);
	struct engine_mt *mt = calloc(1, sizeof(*mt));
	if (!mt)
		return -1;
	e->mt = mt;
	mt->e = e;
	mt->ws = workers_new(&e->cfg, e->cfg.threads, deps->certs, deps->blockpages);
	if (!mt->ws || ring_init(&mt->order, ORDER_BYTES) < 0 || ring_init(&mt->spare, SPARE_BYTES) < 0 ||
	    pthread_create(&mt->fin, NULL, finisher_main, mt) != 0)
		return -1;
	ring_set_batch(&mt->order, 32);
	mt->fin_started = true;
	return 0;
}

/* The engine's thread queues an entry; a full queue waits for the
 * finishing thread. */
static struct order *order_push(struct engine_mt *mt, enum order_kind kind)
{
	struct order *o;
	while (!(o = ring_reserve(&mt->order, sizeof(*o)))) {
		publish_all(mt);
		ring_wait_room(&mt->order, sizeof(*o));
	}
	memset(o, 0, sizeof(*o));
	o->kind = (uint8_t)kind;
	return o;
}

static void order_commit(struct engine_mt *mt)
{
	ring_commit(&mt->order, sizeof(struct order));
}

void engine_mt_stop(struct engine *e)
{
	struct engine_mt *mt = e->mt;
	if (mt->fin_started) {
		order_push(mt, ORD_STOP);
		order_commit(mt);
		publish_all(mt);
		pthread_join(mt->fin, NULL);
		mt->fin_started = false;
	}
	workers_free(mt->ws, &e->an, e->certs);
	mt->ws = NULL;
}

void engine_mt_free(struct engine *e)
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
	struct flow *sf;
	if (mt->spare.buf)
		while ((sf = ring_get_ptr(&mt->spare)))
			free(sf);
	ring_free(&mt->spare);
	free(mt);
	e->mt = NULL;
}

/* ---- packets and ends ---------------------------------------------------------------- */

/* The worker's copy of a new flow: who, when, its clock epoch; none of the
 * engine's lists or state. */
static struct flow *shadow_of(struct engine_mt *mt, const struct flow *f)
{
	struct flow *sf = ring_get_ptr(&mt->spare);
	if (!sf && !(sf = malloc(sizeof(*sf))))
		abort(); /* the flow would vanish from every output */
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

void engine_mt_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
		      bool created)
{
	struct engine_mt *mt = e->mt;
	if (created) {
		f->worker = (uint8_t)workers_pick(mt->ws, f->hash);
		f->shadow = shadow_of(mt, f);
	}
	while (!workers_packet(mt->ws, f->worker, f->shadow, p, dir, created)) {
		publish_all(mt);
		workers_wait(mt->ws, f->worker);
	}
	/* in steps, but never long behind: the finishing thread waits for it */
	if (++mt->since_publish >= 256)
		publish_all(mt);
}

void engine_mt_flow_end(struct engine *e, struct flow *f, enum flow_end why)
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
		workers_wait(mt->ws, f->worker);
	}
	struct order *o = order_push(mt, ORD_FLOW);
	o->worker = f->worker;
	o->seq = end.seq;
	order_commit(mt);
	f->shadow = NULL;
}

/* ---- what spans flows, in order ---------------------------------------------------------- */

void engine_mt_scan_attempt(struct engine *e, const struct flow *f, uint64_t ts_us)
{
	struct order *o = order_push(e->mt, ORD_SCAN_ATTEMPT);
	o->cli = f->cli;
	o->srv = f->srv;
	o->port = f->sport;
	o->ts_us = ts_us;
	order_commit(e->mt);
}

void engine_mt_scan_answered(struct engine *e, const struct flow *f, uint64_t ts_us)
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

void engine_mt_dns_txn(struct engine *e, const struct dns_txn *t, int why)
{
	struct order *o = order_push(e->mt, ORD_DNS_TXN);
	o->txn = txn_copy(t);
	o->why = (int16_t)why;
	o->ts_us = e->now_us;
	order_commit(e->mt);
}

void engine_mt_dns_answer(struct engine *e, const struct dns_txn *t, const struct dns_response *r)
{
	struct order *o = order_push(e->mt, ORD_DNS_ANSWER);
	o->txn = txn_copy(t);
	if (!(o->resp = malloc(sizeof(*o->resp))))
		abort();
	*o->resp = *r;
	order_commit(e->mt);
}

void engine_mt_fresh(struct engine *e)
{
	order_push(e->mt, ORD_FRESH);
	order_commit(e->mt);
}
