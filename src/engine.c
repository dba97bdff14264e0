/* engine.c - the per-packet pipeline and flow finalisation.
 *
 * Only the handshake region is expensive: while a flow's verdict is open it
 * carries a struct flow_hs (tcphs.h: reassembly of both directions and two
 * TLS parsers); once the handshake has progressed far enough to decide,
 * that state is freed and later packets cost one lookup and a few counters.
 * UDP flows that open like QUIC carry a struct quic_flow instead (quic.h:
 * Initial keys, CRYPTO reassembly), freed once the client goes on past its
 * Initials.  When a flow ends, the verdict stage (verdict.h for TCP,
 * verdict_quic.h for QUIC) makes its record (recorder.c) and the record
 * goes to every sink.
 */
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "cert.h"
#include "certstats.h"
#include "defrag.h"
#include "dnsmap.h"
#include "dnstxn.h"
#include "http.h"
#include "engine.h"
#include "engine_impl.h"
#include "evidbuf.h"
#include "quic.h"
#include "recorder.h"
#include "residual.h"
#include "scanner.h"
#include "servers.h"
#include "sink.h"
#include "tcphs.h"
#include "tls.h"
#include "verdict_dns.h"
#include "verdict_quic.h"

void engine_cfg_default(struct engine_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = 1000000;
	cfg->reasm_limit = 65536;
	cfg->idle_us = 120ULL * 1000000;
	cfg->linger_us = 5ULL * 1000000;
	cfg->max_frag_datagrams = 256; /* worst case 256 x 64 KiB held */
	cfg->frag_timeout_us = 30ULL * 1000000;
	hseed_draw(&cfg->seed);
	verdict_cfg_default(&cfg->verdict);
	cfg->evidence.flow_packets = 64;
	cfg->evidence.flow_bytes = 256u << 10;
	cfg->evidence.max_bytes = 64u << 20;
}

static void on_flow_end(void *arg, struct flow *f, enum flow_end why);
static void threaded_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
			    bool created);
static void on_dns_txn(void *arg, const struct dns_txn *t, enum dnstxn_end why);
static void on_dns_answer(void *arg, const struct dns_txn *t, const struct dns_response *r);

/* What spans flows: the engine's own, or a live worker's peer uses the
 * first engine's (under the share lock). */
static int engine_spans_init(struct engine *e, const struct engine_deps *deps)
{
	const struct engine *first = deps->peer_of;
	if (first) {
		e->peer = true;
		e->residual = first->residual;
		e->scanners = first->scanners;
		e->servers = first->servers;
		e->cstats = first->cstats;
		e->rec = first->rec;
		return 0;
	}
	e->residual = residual_new(65536, &e->cfg.seed);
	e->scanners = scanners_new(0, &e->cfg.seed);
	e->servers = servers_new(0, &e->cfg.seed);
	e->rec = (struct recorder){
		.vcfg = &e->cfg.verdict,
		.certs = deps->certs,
		.residual = e->residual,
		.asn = deps->asn,
		.scanners = e->scanners,
		.servers = e->servers,
		.anonymize_clients = e->cfg.anonymize_clients,
		.dnsmap = dnsmap_new(0, &e->cfg.seed),
		.bp = deps->blockpages,
	};
	if (deps->certs && !(e->cstats = certstats_new(0, &e->cfg.seed)))
		return -1;
	return e->residual && e->scanners && e->servers && e->rec.dnsmap ? 0 : -1;
}

/* The flows' own analysis; a live worker's chain analysis has a
 * certificate context of its own (caches and statistics), the shared one
 * keeps the memory across flows. */
static int engine_analyser_init(struct engine *e, const struct engine_deps *deps)
{
	struct cert_ctx *certs = deps->certs;
	if (e->cfg.threads > 1) { /* the workers analyse; this one gathers their counters */
		analyser_init_counters(&e->an, &e->cfg);
		return 0;
	}
	if (deps->share && certs && !(certs = e->own_certs = cert_ctx_new_worker(deps->certs)))
		return -1;
	return analyser_init(&e->an, &e->cfg, certs, deps->blockpages);
}

struct engine *engine_new(const struct engine_cfg *cfg, const struct engine_deps *deps)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->sinks = deps->sinks;
	e->certs = deps->certs;
	e->share = deps->share;
	e->flows = flow_table_new(cfg->max_flows, &cfg->seed, cfg->idle_us, cfg->linger_us,
				  on_flow_end, e);
	int an = engine_analyser_init(e, deps);
	e->defrag = defrag_new(cfg->max_frag_datagrams, cfg->frag_timeout_us, &cfg->seed);
	if (cfg->keep_evidence)
		e->evid = evidbuf_new(&cfg->evidence);
	e->dns = dnstxn_new(&(struct dnstxn_cfg){ .window_us = cfg->verdict.stall_us,
		.seed = &cfg->seed, .done = on_dns_txn, .answer = on_dns_answer, .arg = e });
	if (!e->flows || an < 0 || !e->defrag || engine_spans_init(e, deps) < 0 || !e->dns ||
	    (cfg->keep_evidence && !e->evid)) {
		engine_free(e);
		return NULL;
	}
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->mt)
		e->mt_ops->free(e);
	flow_table_free(e->flows);
	analyser_free(&e->an);
	cert_ctx_free(e->own_certs);
	defrag_free(e->defrag);
	if (!e->peer) {
		residual_free(e->residual);
		scanners_free(e->scanners);
		servers_free(e->servers);
		certstats_free(e->cstats);
		dnsmap_free(e->rec.dnsmap);
	}
	dnstxn_free(e->dns);
	evidbuf_free(e->evid);
	free(e->tt);
	free(e);
}

/* ---- flow end: verdict, record, outputs ---------------------------------- */

static void decide(struct engine *e, struct flow *f, enum flow_end why,
		   struct verdict_result *vr)
{
	analyser_decide(&e->an, f, why, e->now_us, vr);
}

/* -w: the flow's kept packets go with its record, with where the run
 * stands (the writer keeps capture order by it), and the event says how
 * many of them the evidence file gets. */
static void evidence_ref(struct engine *e, struct flow *f, struct flow_record *rec)
{
	rec->evidence = (struct evid_ref){ 0 };
	if (!e->evid)
		return;
	rec->evidence = (struct evid_ref){
		.flow = f->evid,
		.low_seq = evidbuf_low_seq(e->evid, f, e->st.frames),
		.decided_seq = e->st.frames,
		.decided_ts_us = (uint64_t)((int64_t)e->now_us - e->clock_shift_us),
	};
	if (verdict_is_interference(rec->vr.verdict)) {
		rec->vr.pcap_written = true;
		rec->vr.pcap_packets = f->evid ? f->evid->n : 0;
		rec->vr.pcap_truncated = !f->evid || f->evid->cut;
	}
}

/* The handshake is over.  Without a visible chain (TLS 1.3, a resumed
 * session, not TLS at all) the flow can no longer be called interference,
 * so its packets are released now rather than held for the rest of a long
 * connection (they would also hold back the writing of older evidence). */
static void evidence_handshake_over(struct engine *e, struct flow *f)
{
	const struct tls_info *t = f->tls;
	if (!f->tls_candidate || (t && t->sh_seen && (t->sh_version == 0x0304 || t->n_certs == 0)))
		evidbuf_drop(e->evid, f);
	else
		evidbuf_close(e->evid, f);
}

void engine_emit_record(struct engine *e, const struct flow *f, struct cert_analysis *ca,
			uint64_t now_us, struct flow_record *rec)
{
	rec->clock_shift_us = e->clock_shifts[f->clock_epoch];
	rec->vr.clock_jump = f->clock_jumped;
	engine_lock(e);
	record_shared(&e->rec, f, ca, now_us, rec);
	if (e->cstats && rec->tls)
		certstats_add(e->cstats, rec->tls, rec->cert, rec->client_as.asn, rec->flow_id,
			      rec->vr.verdict);
	sinks_flow(e->sinks, rec);
	engine_unlock(e);
	/* the run loop's progress line reads it from the engine's thread */
	__atomic_fetch_add(&e->st.flows_by_verdict[rec->vr.verdict], 1, __ATOMIC_RELAXED);
}

/* Record one flow's verdict, remember what the end-of-run conclusions
 * need, and hand the record to every output. */
static void emit(struct engine *e, struct flow *f, enum flow_end why,
		 const struct verdict_result *vr)
{
	struct flow_record rec;
	record_local(&e->an.rec, f, why, vr, e->now_us, &rec);
	evidence_ref(e, f, &rec);
	engine_emit_record(e, f, rec.cert ? e->an.rec.ca : NULL, e->now_us, &rec);
}

/* ---- live deadlines ------------------------------------------------------ */

static void pend_remove(struct engine *e, struct flow *f)
{
	if (!f->pending)
		return;
	if (f->pprev)
		f->pprev->pnext = f->pnext;
	else
		e->pend_head = f->pnext;
	if (f->pnext)
		f->pnext->pprev = f->pprev;
	else
		e->pend_tail = f->pprev;
	f->pprev = f->pnext = NULL;
	f->pending = 0;
}

/* Deadlines are an event time plus the same timeout, so appending keeps
 * the list ordered (up to packets arriving slightly out of time order). */
static void pend_set(struct engine *e, struct flow *f, uint64_t event_us)
{
	if (!e->early_verdicts || f->reported)
		return;
	pend_remove(e, f);
	f->deadline_us = event_us + e->cfg.verdict.stall_us;
	f->pnext = NULL;
	f->pprev = e->pend_tail;
	if (e->pend_tail)
		e->pend_tail->pnext = f;
	else
		e->pend_head = f;
	e->pend_tail = f;
	f->pending = 1;
}

static void pend_expire(struct engine *e)
{
	struct flow *f;
	while ((f = e->pend_head) && f->deadline_us <= e->now_us) {
		pend_remove(e, f);
		struct verdict_result vr;
		decide(e, f, FLOW_END_NONE, &vr);
		if (vr.verdict == V_TLS_STALL || vr.verdict == V_SYN_TIMEOUT ||
		    vr.verdict == V_QUIC_STALL) {
			emit(e, f, FLOW_END_NONE, &vr);
			f->reported = 1;
			if (e->evid)
				evidbuf_drop(e->evid, f);
		}
	}
}

void engine_set_early_verdicts(struct engine *e, bool on)
{
	e->early_verdicts = on;
}

static void mark_loss(void *arg, struct flow *f)
{
	(void)arg;
	f->lost_kernel = 1;
}

void engine_note_kernel_loss(struct engine *e)
{
	flow_table_foreach(e->flows, mark_loss, NULL);
}

/* What the engine itself follows of a TCP packet: the live deadlines,
 * scanners, and the flow table's closing list. */
static void tcp_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
		       bool created, bool answered, unsigned ev)
{
	if (ev & ANALYSE_EV_HELLO)
		pend_set(e, f, p->ts_us);
	if ((ev & ANALYSE_EV_DONE) && e->evid)
		evidence_handshake_over(e, f);
	if (created && dir == DIR_C2S && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		pend_set(e, f, p->ts_us);
		if (e->mt) {
			e->mt_ops->scan_attempt(e, f, p->ts_us);
		} else {
			engine_lock(e);
			scanners_attempt(e->scanners, &f->cli, &f->srv, f->sport, p->ts_us);
			engine_unlock(e);
		}
	} else if (answered) {
		if (e->mt) {
			e->mt_ops->scan_answered(e, f, p->ts_us);
		} else {
			engine_lock(e);
			scanners_answered(e->scanners, &f->cli, p->ts_us);
			engine_unlock(e);
		}
	}
	if (p->tcp_flags & TH_RST) {
		flow_mark_closing(e->flows, f);
	} else if (p->tcp_flags & TH_FIN) {
		f->fin_mask |= (uint8_t)(1u << dir);
		if (f->fin_mask == 3)
			flow_mark_closing(e->flows, f);
	}
}

/* A capture's clock that jumps back (a device's clock reset, captures
 * glued together) or absurdly forward (a clock set from 1970 to today while
 * capturing) within one input is a discontinuity, not time passing: the
 * packets after it are shifted so the clock goes on from where it was,
 * flows are kept and nothing expires by the jump.  Small steps back are
 * reordering, left as they are; a forward gap of days or months is a quiet
 * capture, or captures of different days put together, and real time. */
#define CLOCK_BACK_MAX_US (60ULL * 1000000)
#define CLOCK_FORWARD_MAX_US (10ULL * 365 * 86400 * 1000000)

static uint64_t clock_shifted(struct engine *e, uint64_t raw_us)
{
	uint64_t ts = (uint64_t)((int64_t)raw_us + e->clock_shift_us);
	if (e->st.frames == 0)
		return ts;
	bool back = ts + CLOCK_BACK_MAX_US < e->now_us;
	bool forward = ts > e->now_us + CLOCK_FORWARD_MAX_US;
	if (!back && !forward)
		return ts;
	e->clock_shift_us += (int64_t)e->now_us - (int64_t)ts;
	e->clock_jumps++;
	if (e->clock_epoch < UINT8_MAX)
		e->clock_epoch++;
	e->clock_shifts[e->clock_epoch] = e->clock_shift_us;
	return e->now_us;
}

/* A separate capture is analysed as a separate run would analyse it: what
 * the verdict stage remembers across flows (residual blocks, each server's
 * TTL, who was scanning) starts empty again, so merging the reports of two
 * runs equals one run over both captures. */
void engine_fresh_memories(struct engine *e)
{
	struct residual_table *rt = residual_new(65536, &e->cfg.seed);
	struct servers *sv = servers_new(0, &e->cfg.seed);
	struct scanners *sc = scanners_new(0, &e->cfg.seed);
	if (!rt || !sv || !sc) { /* out of memory: keep the old ones */
		residual_free(rt);
		servers_free(sv);
		scanners_free(sc);
		return;
	}
	residual_free(e->residual);
	servers_free(e->servers);
	scanners_free(e->scanners);
	dnsmap_clear(e->rec.dnsmap);
	e->rec.residual = e->residual = rt;
	e->rec.servers = e->servers = sv;
	e->rec.scanners = e->scanners = sc;
}

/* The packet clock: the latest packet time; a file starting before it is
 * a separate capture (see engine_begin_input).  Returns the frame's time
 * on the analysis clock. */
static uint64_t clock_frame(struct engine *e, uint64_t raw_us, uint32_t wirelen)
{
	uint64_t ts_us;
	if (e->input_start) {
		e->input_start = false;
		e->clock_shift_us = 0;
		if (e->st.frames > 0 && raw_us < e->now_us) {
			dnstxn_flush(e->dns, DNSTXN_EOF);
			flow_table_flush(e->flows, FLOW_END_EOF);
			dnstxn_forget(e->dns);
			if (e->mt)
				e->mt_ops->fresh(e); /* in order, after the flows just ended */
			else
				engine_fresh_memories(e);
			e->now_us = raw_us;
		}
		ts_us = raw_us;
	} else {
		ts_us = clock_shifted(e, raw_us);
	}
	e->st.frames++;
	e->st.bytes += wirelen;
	if (e->st.frames == 1)
		e->first_us = ts_us;
	if (ts_us > e->now_us)
		e->now_us = ts_us;
	return ts_us;
}

void engine_frame(struct engine *e, int dlt, uint64_t raw_us, const uint8_t *frame,
		  uint32_t caplen, uint32_t wirelen)
{
	struct ts_packet p;
	uint64_t ts_us = clock_frame(e, raw_us, wirelen);
	enum decode_result r = decode_frame(dlt, frame, caplen, wirelen, ts_us, e->defrag, &p);
	e->st.decode[r]++;
	for (unsigned i = 0; i < p.n_tunnels; i++)
		e->st.tunnels[p.tunnel[i]]++;
	flow_table_expire(e->flows, e->now_us);
	dnstxn_expire(e->dns, e->now_us);
	if (e->pend_head)
		pend_expire(e);
	if (r != DEC_OK)
		return;
	e->st.decoded++;

	int dir;
	bool created;
	struct flow *f = flow_lookup(e->flows, &p, &dir, &created);
	if (!f) {
		e->st.flow_alloc_failed++;
		return;
	}
	if (created)
		f->clock_epoch = e->clock_epoch;
	else if (f->clock_epoch != e->clock_epoch)
		f->clock_jumped = 1;
	f->pkts[dir]++;
	f->bytes[dir] += p.l3_len;
	flow_touch(e->flows, f, p.ts_us);
	if (e->evid && !f->done && !f->reported)
		evidbuf_add(e->evid, f, e->st.frames, dlt, raw_us, frame, caplen, wirelen, &p, dir);
	if (e->mt) {
		threaded_packet(e, f, &p, dir, created);
		return;
	}

	/* The server answers one of the client's connections: a scanner's
	 * attempts are seldom answered (scanner.h). */
	bool answered = p.proto == 6 && dir == DIR_S2C &&
			(p.tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) &&
			!tcpobs_has(&f->obs, OBS_SYNACK);
	unsigned ev = analyser_packet(&e->an, f, &p, dir, created);
	if (p.proto == 6) {
		e->st.tcp_packets++;
		tcp_packet(e, f, &p, dir, created, answered, ev);
	} else {
		e->st.udp_packets++;
		if (ev & ANALYSE_EV_INITIAL)
			pend_set(e, f, p.ts_us);
	}
	if (dns_port(p.sport, p.dport))
		dnstxn_packet(e->dns, f, &p, dir);
}

/* With workers: the engine keeps its own flow (table, closing, scanners,
 * DNS) and hands the packet to the flow's worker. */
static void threaded_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
			    bool created)
{
	bool answered = p->proto == 6 && dir == DIR_S2C &&
			(p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == (TH_SYN | TH_ACK) &&
			!tcpobs_has(&f->obs, OBS_SYNACK);
	e->mt_ops->packet(e, f, p, dir, created);
	if (p->proto == 6) {
		e->st.tcp_packets++;
		/* what the table needs of the handshake (syn_retry, scanners) */
		if (dir == DIR_C2S && (p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN &&
		    !tcpobs_has(&f->obs, OBS_SYN)) {
			f->obs.flags |= OBS_SYN;
			f->obs.cli_isn = p->seq;
		} else if (answered) {
			f->obs.flags |= OBS_SYNACK;
		}
		tcp_packet(e, f, p, dir, created, answered, 0);
	} else {
		e->st.udp_packets++;
	}
	if (dns_port(p->sport, p->dport))
		dnstxn_packet(e->dns, f, p, dir);
}

void engine_begin_input(struct engine *e)
{
	e->input_start = true;
}

void engine_tick(struct engine *e, uint64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
	flow_table_expire(e->flows, e->now_us);
	dnstxn_expire(e->dns, e->now_us);
	pend_expire(e);
}

void engine_finish(struct engine *e, enum flow_end why)
{
	dnstxn_flush(e->dns, why == FLOW_END_SHUTDOWN ? DNSTXN_SHUTDOWN : DNSTXN_EOF);
	flow_table_flush(e->flows, why);
	if (e->mt)
		e->mt_ops->free(e); /* stopped, counters merged */
	if (e->own_certs) { /* a live worker's: its statistics into the shared context's */
		engine_lock(e);
		cert_ctx_merge_stats(e->rec.certs, e->own_certs);
		engine_unlock(e);
	}
}

static void on_flow_end(void *arg, struct flow *f, enum flow_end why)
{
	struct engine *e = arg;
	pend_remove(e, f);
	if (e->mt) {
		e->mt_ops->flow_end(e, f, why);
		dns_flow_release(f);
		return;
	}
	analyser_end(&e->an, f);
	if (!f->reported && !dns_flow_represented(f)) {
		struct verdict_result vr;
		decide(e, f, why, &vr);
		emit(e, f, why, &vr);
	}
	if (e->evid)
		evidbuf_drop(e->evid, f);
	analyser_release(&e->an, f);
	dns_flow_release(f);
}

void engine_dns_record(struct engine *e, const struct dns_txn *t, int why, uint64_t now_us)
{
	struct verdict_result vr;
	struct flow_record rec;
	verdict_dns_decide(&e->cfg.verdict, e->rec.bp, t, (enum dnstxn_end)why, now_us, &vr);
	engine_lock(e);
	record_build_dns(&e->rec, t, why, &vr, &rec);
	sinks_flow(e->sinks, &rec);
	engine_unlock(e);
	__atomic_fetch_add(&e->st.flows_by_verdict[rec.vr.verdict], 1, __ATOMIC_RELAXED);
}

/* A DNS transaction's window passed (or the input ended): its record. */
static void on_dns_txn(void *arg, const struct dns_txn *t, enum dnstxn_end why)
{
	struct engine *e = arg;
	if (e->mt)
		e->mt_ops->dns_txn(e, t, why);
	else
		engine_dns_record(e, t, why, e->now_us);
}

static void on_dns_answer(void *arg, const struct dns_txn *t, const struct dns_response *r)
{
	struct engine *e = arg;
	if (e->mt) {
		e->mt_ops->dns_answer(e, t, r);
		return;
	}
	engine_lock(e);
	record_dns_answer(&e->rec, t, r);
	engine_unlock(e);
}

void engine_conclude(struct engine *e, struct run_end *end)
{
	end->now_us = e->now_us;
	end->certstats = e->cstats;
	end->evidence = e->evid ? evidbuf_stats(e->evid) : NULL;
	if (e->cstats)
		certstats_finalize(e->cstats);
}

static void engine_app_counters(const struct engine *e, struct engine_counters *c)
{
	const struct dnstxn_stats *d = dnstxn_stats(e->dns);
	c->dns_messages = d->messages;
	c->dns_truncated = d->truncated;
	c->dns_malformed = d->malformed;
	c->dns_unmatched = d->unmatched;
	c->dns_txns = d->txns;
	c->dns_txns_evicted = d->txns_evicted;
	c->dns_txns_refused = d->txns_refused;
	c->dns_resp_dropped = d->resp_dropped;
	c->dns_tcp_lost = d->tcp_midstream + d->tcp_gaps + d->tcp_oversize + d->tcp_alloc_failed;
	c->dns_resolvers_full = d->resolvers_full;
	/* with workers, the finishing thread owns the name map until the end */
	if (!e->mt && !e->peer)
		c->dnsmap_evicted = dnsmap_stats(e->rec.dnsmap)->evicted;
	c->http_flows = e->an.st.http.flows;
	c->http_truncated = e->an.st.http.truncated;
	c->http_malformed = e->an.st.http.malformed;
	c->http_too_long = e->an.st.http.too_long;
}

void engine_counters(const struct engine *e, struct engine_counters *c)
{
	const struct flow_table_stats *fs = flow_table_stats(e->flows);
	memset(c, 0, sizeof(*c));
	c->frames = e->st.frames;
	c->bytes = e->st.bytes;
	c->decoded = e->st.decoded;
	memcpy(c->decode, e->st.decode, sizeof(c->decode));
	memcpy(c->tunnels, e->st.tunnels, sizeof(c->tunnels));
	c->tcp_packets = e->st.tcp_packets;
	c->udp_packets = e->st.udp_packets;
	for (int v = 0; v < V__COUNT; v++)
		c->flows_by_verdict[v] = __atomic_load_n(&e->st.flows_by_verdict[v], __ATOMIC_RELAXED);
	c->flows_created = fs->created;
	c->flows_active = fs->active;
	c->flows_ended = fs->ended;
	c->flows_evicted = fs->evicted;
	c->tls_errors = e->an.st.hs.tls_errors;
	c->reasm_overlap_diffs = e->an.st.hs.reasm_overlap_diffs;
	c->preambles = e->an.st.hs.preambles;
	engine_app_counters(e, c);
	c->clock_jumps = e->clock_jumps;
	analyser_quic_stats(&e->an, &c->quic);
	c->first_us = e->first_us;
	c->now_us = e->now_us;
}

unsigned engine_thread_times(const struct engine *e, struct thread_time *out, unsigned max)
{
	for (unsigned i = 0; i < e->n_tt && i < max; i++)
		out[i] = e->tt[i];
	return e->n_tt;
}

uint64_t engine_now(const struct engine *e)
{
	return e->now_us;
}
