/* workers.c - worker threads that analyse flows for the engine (workers.h). */
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "classify.h"
#include "engine.h"
#include "quic.h"
#include "ring.h"
#include "util.h"
#include "workers.h"

#define WORKER_IN_BYTES (4u << 20)   /* packets and ends queued per worker */
#define WORKER_OUT_BYTES (64u << 10) /* finished flows (pointers) per worker */
#define WORKER_BACK_BYTES (64u << 10) /* finished-flow items handed back for reuse */
#define WORKER_ARENA_BYTES (20u << 20) /* its allocator's heap, grown at the start by twice this
					  (below the 32 MiB mmap threshold; untouched pages cost nothing) */
#define WORKER_FRESH_BYTES (64u << 10) /* flow copies made by the worker, for the engine to fill */
#define WORKER_FRESH_FILL 1024         /* ... how many it keeps ready */

enum { MSG_PACKET = 1, MSG_QUIET, MSG_END, MSG_STOP };

/* A packet as the worker gets it: the decoded fields, its IP bytes and
 * where the pointers pointed into them. */
struct msg_packet {
	uint32_t type;
	uint8_t dir, created, pad[2];
	struct flow *sf;
	struct ts_packet p;
	uint32_t l4_off, payload_off;
	uint8_t data[];
};

/* A packet of a flow gone quiet (analyser_payload_unneeded, which stays
 * true once true): only what count() and analyser_quiet_packet read, a
 * quarter of a MSG_PACKET with its headers.  A bulk transfer's segments
 * come this way while the worker still has the flow's earlier messages to
 * read. */
struct msg_quiet {
	uint32_t type;
	uint8_t dir, proto, tcp_flags, ttl;
	struct flow *sf;
	uint64_t ts_us;
	uint32_t seq, ack, l3_len, payload_len;
	uint16_t ip_id;
	uint8_t ip_version;
};

struct msg_end {
	uint32_t type;
	struct flow *sf;
	struct worker_end end;
};

struct worker {
	pthread_t th;
	bool started;
	int ready;                   /* 1 once its analyser is up, -1 if it failed (atomic) */
	struct ring in, out;
	struct ring back;            /* items the engine is done with: the worker frees what they hold */
	struct ring fresh;           /* empty flow copies for the engine (allocated here) */
	struct worker_done *spare;   /* items back from the engine, for the next ends */
	size_t want;                 /* the message its full input ring refused last */
	struct analyser an;
	struct cert_ctx *certs;      /* its own caches over the shared store */
	const struct engine_cfg *cfg;
	const struct blockpages *bp;
	struct worker *self0;        /* the first worker: this one's index is self - self0 */
	uint64_t cpu_us;             /* its CPU time, when it stopped */
	uint64_t wait_in_us;         /* waiting for packets */
	uint64_t wait_out_us;        /* waiting for room for its finished flows */
};

struct workers {
	unsigned n;
	struct hseed seed;
	struct worker w[WORKERS_MAX];
};

/* ---- the worker's side ---------------------------------------------------------- */

/* What every packet of a flow adds to the worker's copy. */
static void count(struct flow *f, const struct ts_packet *p, int dir)
{
	f->pkts[dir]++;
	f->bytes[dir] += p->l3_len;
	if (p->ts_us > f->last_us)
		f->last_us = p->ts_us;
}

static void run_packet(struct worker *w, const struct msg_packet *m)
{
	struct ts_packet p = m->p;
	struct flow *f = m->sf;
	p.l3 = m->data;
	p.l4 = p.l4 ? m->data + m->l4_off : NULL;
	p.payload = p.payload ? m->data + m->payload_off : NULL;
	count(f, &p, m->dir);
	analyser_packet(&w->an, f, &p, m->dir, m->created);
	/* The engine stops copying payloads the flow no longer reads. */
	if (analyser_payload_unneeded(f) && !f->quiet)
		__atomic_store_n(&f->quiet, 1, __ATOMIC_RELAXED);
}

/* What analyser_packet does for a flow whose payload no longer matters. */
static void run_quiet(const struct msg_quiet *m)
{
	struct ts_packet p;
	memset(&p, 0, sizeof(p));
	p.ts_us = m->ts_us;
	p.l3_len = m->l3_len;
	p.ip_version = m->ip_version;
	p.ttl = m->ttl;
	p.ip_id = m->ip_id;
	p.proto = m->proto;
	p.tcp_flags = m->tcp_flags;
	p.seq = m->seq;
	p.ack = m->ack;
	p.payload_len = m->payload_len;
	count(m->sf, &p, m->dir);
	analyser_quiet_packet(m->sf, &p, m->dir);
}

/* The record's part that needs only the flow; its chain analysis copied
 * out of the worker's scratch (only what is set: it is 22 KB in all). */
/* What the engine is done with: the flows' state is freed here, in the
 * thread that allocated it (a free from another thread locks this thread's
 * allocator arena, and a thread that meets its arena locked moves to a
 * new one), and the flow copies go back to the engine empty. */
static void take_back(struct worker *w)
{
	struct worker_done *d;
	while ((d = ring_get_ptr(&w->back))) {
		if (d->sf) {
			analyser_release(&w->an, d->sf);
			if (!ring_put_ptr(&w->fresh, d->sf))
				free(d->sf);
			d->sf = NULL;
		}
		d->sf = (struct flow *)w->spare; /* a list of spares through sf */
		w->spare = d;
	}
	ring_publish(&w->fresh);
}

static void fill_fresh(struct worker *w)
{
	for (unsigned i = 0; i < WORKER_FRESH_FILL; i++) {
		struct flow *sf = malloc(sizeof(*sf));
		if (!sf || !ring_put_ptr(&w->fresh, sf)) {
			free(sf);
			break;
		}
	}
	ring_publish(&w->fresh);
}

static struct worker_done *run_end(struct worker *w, const struct msg_end *m)
{
	struct worker_done *d = w->spare;
	struct flow *f = m->sf;
	if (d)
		w->spare = (struct worker_done *)d->sf;
	else if (!(d = calloc(1, sizeof(*d))))
		abort(); /* nothing sane to do: a record would be lost silently */
	d->worker = (unsigned)(w - w->self0);
	d->ca = NULL;
	d->seq = m->end.seq;
	d->sf = f;
	d->why = m->end.why;
	d->now_us = m->end.now_us;
	d->emit = m->end.emit;
	f->clock_jumped = m->end.clock_jumped;
	f->lost_kernel = m->end.lost_kernel;
	analyser_end(&w->an, f);
	if (!d->emit)
		return d;
	struct verdict_result vr;
	analyser_decide(&w->an, f, d->why, d->now_us, &vr);
	record_local(&w->an.rec, f, d->why, &vr, d->now_us, &d->rec);
	d->rec.evidence = (struct evid_ref){ 0 }; /* no -w with workers */
	if (d->rec.cert) {
		const struct cert_analysis *ca = d->rec.cert;
		if (!d->ca_buf && !(d->ca_buf = malloc(sizeof(*d->ca_buf))))
			abort();
		d->ca = d->ca_buf;
		memcpy(d->ca, ca, offsetof(struct cert_analysis, errors));
		memcpy(d->ca->errors, ca->errors, ca->n_errors * sizeof(ca->errors[0]));
		memcpy(d->ca->chain, ca->chain, ca->n_chain * sizeof(ca->chain[0]));
		d->rec.cert = d->ca;
	}
	return d;
}

static void put_done(struct worker *w, struct worker_done *d)
{
	void *slot;
	while (!(slot = ring_reserve(&w->out, sizeof(d)))) {
		uint64_t t0 = mono_now_us();
		ring_wait_room(&w->out, sizeof(d));
		w->wait_out_us += mono_now_us() - t0;
	}
	memcpy(slot, &d, sizeof(d));
	ring_commit(&w->out, sizeof(d));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	pthread_setname_np(pthread_self(), "ts-worker");
	/* This thread's arena, grown once to the size its flows will need
	 * rather than a page at a time (one mprotect each). */
	void *volatile grow[2] = { malloc(WORKER_ARENA_BYTES), malloc(WORKER_ARENA_BYTES) };
	free(grow[0]); /* volatile: the pairs are not optimised away */
	free(grow[1]);
	fill_fresh(w);
	/* nDPI's start (tens of milliseconds) in each thread at once */
	int ok = analyser_init(&w->an, w->cfg, w->certs, w->bp) < 0 ? -1 : 1;
	__atomic_store_n(&w->ready, ok, __ATOMIC_RELEASE);
	if (ok < 0)
		return NULL;
	for (;;) {
		size_t len;
		const uint32_t *m = ring_peek(&w->in, &len);
		if (!m) {
			ring_publish(&w->out); /* the finishing thread may wait for these */
			take_back(w);
			uint64_t t0 = mono_now_us();
			ring_wait_data(&w->in);
			w->wait_in_us += mono_now_us() - t0;
			continue;
		}
		if (*m == MSG_STOP) {
			ring_release(&w->in, len);
			w->cpu_us = thread_cpu_us();
			return NULL;
		}
		if (*m == MSG_QUIET) {
			run_quiet((const struct msg_quiet *)m);
		} else if (*m == MSG_PACKET) {
			run_packet(w, (const struct msg_packet *)m);
		} else {
			if (!w->spare)
				take_back(w);
			put_done(w, run_end(w, (const struct msg_end *)m));
		}
		ring_release(&w->in, len);
	}
}

/* ---- the engine's side ------------------------------------------------------------ */

static int worker_start(struct worker *w, const struct engine_cfg *cfg, struct cert_ctx *certs,
			const struct blockpages *bp)
{
	w->cfg = cfg;
	w->bp = bp;
	if (certs && !(w->certs = cert_ctx_new_worker(certs)))
		return -1;
	if (ring_init(&w->in, WORKER_IN_BYTES) < 0 || ring_init(&w->out, WORKER_OUT_BYTES) < 0 ||
	    ring_init(&w->back, WORKER_BACK_BYTES) < 0 || ring_init(&w->fresh, WORKER_FRESH_BYTES) < 0)
		return -1;
	/* published in steps: a sleeping thread is woken once per step */
	ring_set_batch(&w->in, 8);
	ring_set_batch(&w->out, 8);
	if (pthread_create(&w->th, NULL, worker_main, w) != 0)
		return -1;
	w->started = true;
	return 0;
}

/* Each worker's analyser is up, or one failed. */
static bool workers_ready(struct workers *ws)
{
	bool ok = true;
	for (unsigned i = 0; i < ws->n; i++) {
		int r;
		for (unsigned k = 0; !(r = __atomic_load_n(&ws->w[i].ready, __ATOMIC_ACQUIRE)); k++)
			ring_pause(k);
		if (r < 0) {
			pthread_join(ws->w[i].th, NULL); /* it has returned already */
			ws->w[i].started = false;
			ok = false;
		}
	}
	return ok;
}

struct workers *workers_new(const struct engine_cfg *cfg, unsigned n, struct cert_ctx *certs,
			    const struct blockpages *bp)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	if (!ws || n < 1 || n > WORKERS_MAX) {
		free(ws);
		return NULL;
	}
	ws->n = n;
	ws->seed = cfg->seed;
	for (unsigned i = 0; i < n; i++)
		ws->w[i].self0 = &ws->w[0];
	for (unsigned i = 0; i < n; i++)
		if (worker_start(&ws->w[i], cfg, certs, bp) < 0) {
			workers_free(ws, NULL, NULL, NULL);
			return NULL;
		}
	if (!workers_ready(ws)) {
		workers_free(ws, NULL, NULL, NULL);
		return NULL;
	}
	return ws;
}

static void worker_stop(struct worker *w)
{
	uint32_t *m;
	while (!(m = ring_reserve(&w->in, sizeof(*m))))
		ring_wait_room(&w->in, sizeof(*m));
	*m = MSG_STOP;
	ring_commit(&w->in, sizeof(*m));
	ring_publish(&w->in);
	pthread_join(w->th, NULL);
	w->started = false;
}

void workers_free(struct workers *ws, struct analyser *into, struct cert_ctx *certs,
		  struct thread_time *times)
{
	if (!ws)
		return;
	for (unsigned i = 0; i < ws->n; i++) {
		struct worker *w = &ws->w[i];
		if (w->started)
			worker_stop(w);
		if (times) /* joined: its last writes are visible */
			times[i] = (struct thread_time){ THREAD_WORKER, w->cpu_us,
							 { w->wait_in_us, w->wait_out_us }, 0 };
		if (into)
			analyser_merge_stats(into, &w->an);
		if (certs && w->certs)
			cert_ctx_merge_stats(certs, w->certs);
		analyser_free(&w->an);
		cert_ctx_free(w->certs);
		struct worker_done *d;
		struct flow *sf;
		if (w->back.buf)
			while ((d = ring_get_ptr(&w->back))) {
				if (d->sf) {
					analyser_release(into ? into : &w->an, d->sf);
					free(d->sf);
				}
				free(d->ca_buf);
				free(d);
			}
		while ((d = w->spare)) {
			w->spare = (struct worker_done *)d->sf;
			free(d->ca_buf);
			free(d);
		}
		if (w->fresh.buf)
			while ((sf = ring_get_ptr(&w->fresh)))
				free(sf);
		ring_free(&w->in);
		ring_free(&w->out);
		ring_free(&w->back);
		ring_free(&w->fresh);
	}
	free(ws);
}

unsigned workers_count(const struct workers *ws)
{
	return ws->n;
}

unsigned workers_pick(const struct workers *ws, uint64_t flow_hash)
{
	/* the high bits: the table uses the low ones */
	return (unsigned)((flow_hash >> 32) % ws->n);
}

bool workers_packet(struct workers *ws, unsigned w, struct flow *sf, const struct ts_packet *p,
		    int dir, bool created)
{
	/* A flow gone quiet is only counted (analyser_payload_unneeded,
	 * analyser_quiet_packet).  Once the worker has read all its
	 * messages it keeps off the copy until the flow's end message, so this
	 * thread counts in its place, and the packet crosses no ring; before
	 * that the fields counting reads go (MSG_QUIET), not its bytes. */
	struct ring *in = &ws->w[w].in;
	if (__atomic_load_n(&sf->quiet, __ATOMIC_RELAXED)) {
		if (ring_consumed(in, sf->msgs_to)) {
			count(sf, p, dir);
			analyser_quiet_packet(sf, p, dir);
			return true;
		}
		struct msg_quiet *q = ring_reserve(in, sizeof(*q));
		if (!q) {
			ws->w[w].want = sizeof(*q);
			return false;
		}
		*q = (struct msg_quiet){ .type = MSG_QUIET, .dir = (uint8_t)dir, .proto = p->proto,
					 .tcp_flags = p->tcp_flags, .ttl = p->ttl, .sf = sf,
					 .ts_us = p->ts_us, .seq = p->seq, .ack = p->ack,
					 .l3_len = p->l3_len, .payload_len = p->payload_len,
					 .ip_id = p->ip_id, .ip_version = p->ip_version };
		ring_commit(in, sizeof(*q));
		sf->msgs_to = ring_committed(in);
		return true;
	}
	struct msg_packet *m = ring_reserve(in, sizeof(*m) + p->l3_len);
	if (!m) {
		ws->w[w].want = sizeof(*m) + p->l3_len;
		return false;
	}
	m->type = MSG_PACKET;
	m->dir = (uint8_t)dir;
	m->created = created;
	m->sf = sf;
	m->p = *p;
	m->l4_off = p->l4 ? (uint32_t)(p->l4 - p->l3) : 0;
	m->payload_off = p->payload ? (uint32_t)(p->payload - p->l3) : 0;
	memcpy(m->data, p->l3, p->l3_len);
	ring_commit(in, sizeof(*m) + p->l3_len);
	sf->msgs_to = ring_committed(in);
	return true;
}

bool workers_end(struct workers *ws, unsigned w, struct flow *sf, const struct worker_end *end)
{
	struct msg_end *m = ring_reserve(&ws->w[w].in, sizeof(*m));
	if (!m) {
		ws->w[w].want = sizeof(*m);
		return false;
	}
	m->type = MSG_END;
	m->sf = sf;
	m->end = *end;
	ring_commit(&ws->w[w].in, sizeof(*m));
	return true;
}

void workers_wait(struct workers *ws, unsigned w)
{
	ring_wait_room(&ws->w[w].in, ws->w[w].want);
}

bool workers_has_room(struct workers *ws, unsigned w)
{
	void *m = ring_reserve(&ws->w[w].in, ws->w[w].want);
	return m != NULL; /* nothing committed: the reservation is dropped */
}

void workers_publish(struct workers *ws)
{
	for (unsigned i = 0; i < ws->n; i++)
		ring_publish(&ws->w[i].in);
}

struct worker_done *workers_take(struct workers *ws, unsigned w, bool wait)
{
	size_t len;
	struct worker_done *d;
	const void *slot;
	while (!(slot = ring_peek(&ws->w[w].out, &len))) {
		if (!wait)
			return NULL;
		ring_wait_data(&ws->w[w].out);
	}
	memcpy(&d, slot, sizeof(d));
	ring_release(&ws->w[w].out, len);
	return d;
}

void workers_done_free(struct workers *ws, struct analyser *stats, struct worker_done *d)
{
	if (ring_put_ptr(&ws->w[d->worker].back, d))
		return;
	/* its worker is far behind taking items back: freed here */
	analyser_release(stats, d->sf);
	free(d->sf);
	free(d->ca_buf);
	free(d);
}

struct flow *workers_fresh(struct workers *ws, unsigned w)
{
	struct flow *sf = ring_get_ptr(&ws->w[w].fresh);
	if (!sf && !(sf = malloc(sizeof(*sf))))
		abort(); /* the flow would vanish from every output */
	return sf;
}
