/* engine.c - the per-packet pipeline and flow finalisation.
 *
 * Only the handshake region is expensive: while a flow's verdict is open it
 * carries a struct flow_hs (reassembly of both directions and two TLS
 * parsers); once the handshake has progressed far enough to decide, that
 * state is freed and later packets cost one lookup and a few counters.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "asn.h"
#include "cert.h"
#include "certstats.h"
#include "classify.h"
#include "defrag.h"
#include "engine.h"
#include "out_event.h"
#include "json.h"
#include "out_cert.h"
#include "out_evidence.h"
#include "out_stats.h"
#include "report.h"
#include "reasm.h"
#include "residual.h"
#include "summary.h"
#include "tls.h"

struct flow_hs {
	struct reasm_dir rs[2];
	struct tls_parser tp[2];
	uint8_t not_tls[2];   /* this direction's stream is not TLS */
	uint8_t first_checked[2];
};

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
}

static void on_flow_end(void *arg, struct flow *f, enum flow_end why);

int engine_init(struct engine *e, const struct engine_cfg *cfg)
{
	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->flows = flow_table_new(cfg->max_flows, &cfg->seed, cfg->idle_us, cfg->linger_us,
				  on_flow_end, e);
	e->cls = classify_new();
	e->defrag = defrag_new(cfg->max_frag_datagrams, cfg->frag_timeout_us, &cfg->seed);
	e->residual = residual_new(65536, &cfg->seed);
	e->summary = summary_new();
	if (!e->flows || !e->cls || !e->defrag || !e->residual || !e->summary) {
		engine_free(e);
		return -1;
	}
	return 0;
}

void engine_free(struct engine *e)
{
	flow_table_free(e->flows);
	classify_free(e->cls);
	defrag_free(e->defrag);
	residual_free(e->residual);
	summary_free(e->summary);
	e->flows = NULL;
	e->cls = NULL;
	e->defrag = NULL;
	e->residual = NULL;
	e->summary = NULL;
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

static void emit(struct engine *e, struct flow *f, enum flow_end why,
		 const struct verdict_result *vr);
static void decide(struct engine *e, struct flow *f, enum flow_end why,
		   struct verdict_result *vr);

static void pend_expire(struct engine *e)
{
	struct flow *f;
	while ((f = e->pend_head) && f->deadline_us <= e->now_us) {
		pend_remove(e, f);
		struct verdict_result vr;
		decide(e, f, FLOW_END_NONE, &vr);
		if (vr.verdict == V_TLS_STALL || vr.verdict == V_SYN_TIMEOUT) {
			emit(e, f, FLOW_END_NONE, &vr);
			f->reported = 1;
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

uint64_t engine_flows_created(const struct engine *e)
{
	return flow_table_stats(e->flows)->created;
}

/* ---- handshake region ----------------------------------------------- */

static struct flow_hs *hs_new(const struct engine *e)
{
	struct flow_hs *hs = calloc(1, sizeof(*hs));
	if (!hs)
		return NULL;
	for (int d = 0; d < 2; d++) {
		reasm_init(&hs->rs[d], e->cfg.reasm_limit);
		tls_parser_init(&hs->tp[d], d == DIR_S2C, e->cfg.reasm_limit);
	}
	return hs;
}

/* Keep what the verdict needs from the handshake state, then free it. */
static void hs_release(struct engine *e, struct flow *f)
{
	struct flow_hs *hs = f->hs;
	if (!hs)
		return;
	for (int d = 0; d < 2; d++) {
		if (reasm_has_gap(&hs->rs[d]))
			f->gap_mask |= (uint8_t)(1u << d);
		e->st.reasm_overlap_diffs += hs->rs[d].overlap_diffs;
		e->st.reasm_dropped += hs->rs[d].dropped;
		f->overlap_diffs += hs->rs[d].overlap_diffs;
		if (hs->tp[d].error != TLS_ERR_NONE && hs->tp[d].error != TLS_ERR_NOT_TLS)
			e->st.tls_errors++;
		reasm_release(&hs->rs[d]);
		tls_parser_release(&hs->tp[d]);
	}
	free(hs);
	f->hs = NULL;
}

/* Has the handshake progressed far enough that nothing more in the
 * handshake region can change the verdict? */
static bool hs_finished(const struct flow *f)
{
	const struct flow_hs *hs = f->hs;
	const struct tls_info *ti = f->tls;
	if (hs->not_tls[DIR_C2S])
		return true;
	if (hs->tp[DIR_S2C].state == TLS_ST_STOPPED ||
	    hs->tp[DIR_C2S].state == TLS_ST_STOPPED)
		return true;
	if (ti && ti->sh_seen) {
		if (ti->sh_version == 0x0304)
			return true;          /* TLS 1.3: the rest is encrypted */
		if (hs->tp[DIR_S2C].encrypted)
			return true;          /* TLS <= 1.2: server sent its CCS */
	}
	if (hs->rs[DIR_C2S].limit_reached && hs->rs[DIR_S2C].limit_reached)
		return true;
	return false;
}

static void feed_tls(struct engine *e, struct flow *f, int dir, uint32_t from,
		     uint64_t ts_us)
{
	struct flow_hs *hs = f->hs;
	struct reasm_dir *rs = &hs->rs[dir];
	const uint8_t *data = rs->buf + from;
	uint32_t len = rs->contiguous - from;

	if (hs->not_tls[dir] || len == 0)
		return;
	if (!hs->first_checked[dir]) {
		/* Decide on the stream's first bytes whether it is TLS at all;
		 * three are needed, fewer wait for more. */
		if (rs->contiguous < 3)
			return;
		hs->first_checked[dir] = 1;
		if (!tls_looks_like_tls(rs->buf, rs->contiguous)) {
			hs->not_tls[dir] = 1;
			return;
		}
		if (dir == DIR_C2S)
			f->tls_candidate = 1;
		data = rs->buf;           /* feed from the start */
		len = rs->contiguous;
	}
	if (!f->tls) {
		f->tls = calloc(1, sizeof(*f->tls));
		if (!f->tls)
			return;
	}
	unsigned ev = tls_feed(&hs->tp[dir], f->tls, data, len);
	if (ev)
		tcpobs_tls(&f->obs, dir, ev, ts_us, rs->contiguous);
	if (ev & TLS_EV_CLIENT_HELLO)
		pend_set(e, f, ts_us);
}

static void handshake_packet(struct engine *e, struct flow *f, const struct ts_packet *p,
			     int dir, unsigned *reasm_bits)
{
	struct flow_hs *hs = f->hs;
	if (p->tcp_flags & TH_SYN)
		reasm_set_base(&hs->rs[dir], p->seq + 1);
	if (p->tcp_flags & TH_ACK)
		reasm_note_peer_ack(&hs->rs[!dir], p->ack);
	if (p->payload_len > 0 && !(p->tcp_flags & TH_SYN)) {
		uint32_t from = 0;
		*reasm_bits = reasm_add(&hs->rs[dir], p->seq, p->payload, p->payload_len, &from);
		if (*reasm_bits & REASM_NEW_DATA)
			feed_tls(e, f, dir, from, p->ts_us);
	}
}

static void tcp_packet(struct engine *e, struct flow *f, const struct ts_packet *p, int dir,
		       bool created)
{
	unsigned reasm_bits = 0;
	if (!f->done) {
		if (!f->hs) {
			f->hs = hs_new(e);
			if (!f->hs) {
				f->done = 1; /* out of memory: count only */
				e->st.flow_alloc_failed++;
			}
		}
		if (f->hs) {
			handshake_packet(e, f, p, dir, &reasm_bits);
			if (hs_finished(f)) {
				hs_release(e, f);
				f->done = 1;
			}
		}
	}
	tcpobs_packet(&f->obs, p, dir, reasm_bits);
	if (created && dir == DIR_C2S && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN)
		pend_set(e, f, p->ts_us);

	if (p->tcp_flags & TH_RST) {
		flow_mark_closing(e->flows, f);
	} else if (p->tcp_flags & TH_FIN) {
		f->fin_mask |= (uint8_t)(1u << dir);
		if (f->fin_mask == 3)
			flow_mark_closing(e->flows, f);
	}
}

void engine_frame(struct engine *e, int dlt, uint64_t ts_us, const uint8_t *frame,
		  uint32_t caplen, uint32_t wirelen)
{
	struct ts_packet p;
	if (e->input_start) {
		e->input_start = false;
		if (e->st.frames > 0 && ts_us < e->now_us) {
			flow_table_flush(e->flows, FLOW_END_EOF);
			e->now_us = ts_us;
		}
	}
	e->st.frames++;
	e->st.bytes += wirelen;
	if (e->st.frames == 1)
		e->first_us = ts_us;
	if (ts_us > e->now_us)
		e->now_us = ts_us;

	enum decode_result r = decode_frame(dlt, frame, caplen, wirelen, ts_us, e->defrag, &p);
	e->st.decode[r]++;
	flow_table_expire(e->flows, e->now_us);
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
	f->pkts[dir]++;
	f->bytes[dir] += p.l3_len;
	flow_touch(e->flows, f, p.ts_us);

	/* nDPI learns nothing from a bare TCP ACK; it still gets a flow's
	 * first packet, which its give-up guess by port needs. */
	if (!f->app_final && (p.payload_len > 0 || p.proto != 6 || created))
		classify_packet(e->cls, f, &p);
	if (p.proto == 6) {
		e->st.tcp_packets++;
		tcp_packet(e, f, &p, dir, created);
	} else {
		e->st.udp_packets++;
	}
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
	pend_expire(e);
}

void engine_finish(struct engine *e, enum flow_end why)
{
	flow_table_flush(e->flows, why);
}

/* ---- flow end: verdict, enrichment, outputs ---------------------------- */

static void decide(struct engine *e, struct flow *f, enum flow_end why,
		   struct verdict_result *vr)
{
	struct verdict_input in;
	memset(&in, 0, sizeof(in));
	in.obs = &f->obs;
	in.tls = f->tls;
	in.gap[0] = (f->gap_mask & 1) != 0;
	in.gap[1] = (f->gap_mask & 2) != 0;
	if (f->hs) { /* still in the handshake (early verdict): ask reassembly */
		in.gap[0] = in.gap[0] || reasm_has_gap(&f->hs->rs[0]);
		in.gap[1] = in.gap[1] || reasm_has_gap(&f->hs->rs[1]);
	}
	in.tls_candidate = f->tls_candidate;
	in.app_is_tls = f->app_master == 91 || f->app_proto == 91; /* NDPI_PROTOCOL_TLS */
	in.why = why;
	in.now_us = e->now_us;
	in.kernel_loss = f->lost_kernel;
	in.proto = f->proto;
	in.flow_start_us = f->first_us;
	verdict_decide(&e->cfg.verdict, &in, vr);
}

/* Enrich, count and write one flow's verdict. */
static void emit(struct engine *e, struct flow *f, enum flow_end why,
		 const struct verdict_result *vr_in)
{
	struct verdict_result vr = *vr_in;

	/* Networks are looked up before any anonymisation touches the
	 * client address; the report keeps no addresses of clients. */
	struct asn_info cli_as = { 0, ASN_UNKNOWN_ORG }, srv_as = { 0, ASN_UNKNOWN_ORG };
	if (e->asn) {
		asn_lookup(e->asn, &f->cli, &cli_as);
		asn_lookup(e->asn, &f->srv, &srv_as);
	}
	/* The chain, validated at the time of the ServerHello, may turn an
	 * ok handshake into tls_mitm or tls_untrusted_cert. */
	const struct cert_analysis *ca = NULL;
	if (f->tls && e->certs) {
		uint64_t at = tcpobs_has(&f->obs, OBS_SH) ? tcpobs_abs(&f->obs, f->obs.t_sh)
							   : f->first_us;
		cert_analyze(e->certs, f->tls, at, e->ca);
		cert_apply_verdict(e->ca, &vr);
		if (e->cstats)
			certstats_add(e->cstats, f->tls, e->ca, cli_as.asn, f->id, vr.verdict);
		ca = e->ca;
	}
	residual_apply(e->residual, &e->cfg.verdict, f, &vr);
	if (e->report)
		report_add_flow(e->report, f, vr.verdict, &cli_as);
	if (e->anonymize_clients)
		anonymize_addr(&f->cli);

	e->st.flows_by_verdict[vr.verdict]++;
	summary_add(e->summary, f, &vr);
	if (e->stats && verdict_is_interference(vr.verdict)) {
		char key[300];
		out_stats_note_blocked(e->stats, summary_key(f, key, sizeof(key)));
	}
	if (e->events)
		out_event_flow(e->events, e, f, why, &vr, &cli_as, &srv_as, ca);
}

static void on_flow_end(void *arg, struct flow *f, enum flow_end why)
{
	struct engine *e = arg;
	pend_remove(e, f);
	if (f->hs)
		hs_release(e, f);
	classify_finish(e->cls, f);
	if (!f->reported) {
		struct verdict_result vr;
		decide(e, f, why, &vr);
		emit(e, f, why, &vr);
	}
	if (f->tls) {
		tls_info_release(f->tls);
		free(f->tls);
		f->tls = NULL;
	}
}

struct consistency_ctx {
	struct engine *e;
	struct json j;
};

static void on_finding(void *arg, const struct certstats_finding *fd)
{
	struct consistency_ctx *cc = arg;
	if (!fd->inconsistent)
		return;
	if (cc->e->events) {
		json_reset(&cc->j);
		out_cert_consistency_event(&cc->j, fd, cc->e->now_us);
		out_event_line(cc->e->events, &cc->j);
	}
	if (cc->e->report && fd->flows_relabel)
		report_relabel(cc->e->report, fd->asn, fd->sni, fd->sni_len, V_TLS_UNTRUSTED_CERT,
			       V_TLS_MITM, fd->flows_relabel);
}

void engine_cert_consistency(struct engine *e)
{
	if (!e->cstats)
		return;
	struct consistency_ctx cc = { e, { 0 } };
	json_init(&cc.j);
	certstats_finalize(e->cstats);
	certstats_foreach(e->cstats, true, on_finding, &cc);
	json_free(&cc.j);
}

void engine_print_stats(const struct engine *e, FILE *out)
{
	const struct flow_table_stats *fs = flow_table_stats(e->flows);
	uint64_t trunc = 0, bad = 0;
	for (int r = 0; r < DEC__COUNT; r++) {
		if (r == DEC_OK || r == DEC_FRAG_HELD || r == DEC_SKIP_NOT_IP ||
		    r == DEC_SKIP_PROTO)
			continue;
		if (decode_result_is_truncation((enum decode_result)r))
			trunc += e->st.decode[r];
		else
			bad += e->st.decode[r];
	}
	fprintf(out, "tamperscope: %llu packets (%llu TCP/UDP decoded), %llu flows, "
		"%llu evicted, %llu decode errors (%llu truncated, %llu malformed)\n",
		(unsigned long long)e->st.frames, (unsigned long long)e->st.decoded,
		(unsigned long long)fs->created, (unsigned long long)fs->evicted,
		(unsigned long long)(trunc + bad), (unsigned long long)trunc,
		(unsigned long long)bad);
	for (int r = 0; r < DEC__COUNT; r++) {
		if (r == DEC_OK || !e->st.decode[r])
			continue;
		fprintf(out, "tamperscope:   %-20s %llu\n", decode_result_name((enum decode_result)r),
			(unsigned long long)e->st.decode[r]);
	}
	if (e->certs)
		out_cert_print_stats(out, cert_ctx_stats(e->certs),
				     e->cstats ? certstats_get_stats(e->cstats) : NULL);
	if (e->st.reasm_overlap_diffs)
		fprintf(out, "tamperscope:   overlapping segments with different bytes: %llu\n",
			(unsigned long long)e->st.reasm_overlap_diffs);
}
