/* analyse.c - the per-flow analysis (analyse.h): the handshake region, the
 * QUIC stage, TCP observations and classification per packet; the verdict
 * when the flow ends. */
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "cert.h"
#include "classify.h"
#include "dnstxn.h"
#include "engine.h"
#include "quic.h"
#include "tls.h"
#include "verdict_quic.h"

int analyser_init(struct analyser *a, const struct engine_cfg *cfg, struct cert_ctx *certs,
		  const struct blockpages *bp)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->cls = classify_new();
	a->quic = quic_stage_new();
	a->rec = (struct recorder){
		.vcfg = &cfg->verdict,
		.cls = a->cls,
		.certs = certs,
		.bp = bp,
	};
	if (certs)
		a->rec.ca = calloc(1, sizeof(*a->rec.ca));
	return a->cls && a->quic && (!certs || a->rec.ca) ? 0 : -1;
}

void analyser_init_counters(struct analyser *a, const struct engine_cfg *cfg)
{
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
}

void analyser_free(struct analyser *a)
{
	classify_free(a->cls);
	quic_stage_free(a->quic);
	free(a->rec.ca);
	memset(a, 0, sizeof(*a));
}

static void release_hs(struct analyser *a, struct flow *f)
{
	tcphs_release(f->hs, f, &a->st.hs);
	f->hs = NULL;
}

static unsigned tcp_packet(struct analyser *a, struct flow *f, const struct ts_packet *p, int dir)
{
	unsigned reasm_bits = 0, ev = 0;
	if (!f->done && !f->hs && !(f->hs = tcphs_new(a->cfg->reasm_limit))) {
		f->done = 1; /* out of memory: count only */
		a->st.alloc_failed++;
	}
	if (!f->done) {
		if (tcphs_packet(f->hs, f, p, dir, &reasm_bits, &a->st.hs) & TLS_EV_CLIENT_HELLO)
			ev |= ANALYSE_EV_HELLO;
		if (tcphs_finished(f->hs, f)) {
			release_hs(a, f);
			f->done = 1;
			ev |= ANALYSE_EV_DONE;
		}
	}
	tcpobs_packet(&f->obs, p, dir, reasm_bits);
	return ev;
}

/* UDP: a flow whose first bytes open like QUIC goes to the QUIC stage
 * until its handshake region is over; other UDP is counted and classified. */
static unsigned udp_packet(struct analyser *a, struct flow *f, const struct ts_packet *p, int dir)
{
	unsigned out = 0;
	if (f->done || (!f->quic && !quic_candidate(p->payload, p->payload_len)))
		return 0;
	unsigned ev = quic_datagram(a->quic, &f->quic, p->payload, p->payload_len,
				    p->payload_truncated, dir, p->ts_us);
	if (ev & QUIC_EV_CLIENT_INITIAL)
		out |= ANALYSE_EV_INITIAL;
	if (ev & QUIC_EV_HELLO) { /* spares nDPI decrypting the same Initial */
		const struct tls_info *t = &quic_flow_info(f->quic)->tls;
		classify_quic(a->cls, f, t->sni, t->sni_present ? t->sni_len : 0);
	}
	if (quic_finished(f->quic))
		f->done = 1;
	return out;
}

unsigned analyser_packet(struct analyser *a, struct flow *f, const struct ts_packet *p, int dir,
			 bool created)
{
	if (analyser_payload_unneeded(f)) {
		analyser_quiet_packet(f, p, dir);
		return 0;
	}
	/* Our own parsers first: a ClientHello they read (QUIC's, or TLS's
	 * with an SNI) classifies the flow without nDPI parsing it again. */
	unsigned ev = p->proto == 6 ? tcp_packet(a, f, p, dir) : udp_packet(a, f, p, dir);
	/* nDPI learns nothing from a bare TCP ACK; it still gets a flow's
	 * first packet, which its give-up guess by port needs. */
	if (!f->app_final && (p->payload_len > 0 || p->proto != 6 || created) &&
	    !((ev & ANALYSE_EV_HELLO) && f->tls &&
	      classify_tls(a->cls, f, f->tls->sni, f->tls->sni_present ? f->tls->sni_len : 0)))
		classify_packet(a->cls, f, p);
	return ev;
}

void analyser_decide(struct analyser *a, struct flow *f, enum flow_end why, uint64_t now_us,
		     struct verdict_result *vr)
{
	struct verdict_input in;
	if (f->quic) {
		struct verdict_quic_input qi = { quic_flow_info(f->quic), why, now_us,
						 f->lost_kernel, { f->pkts[0], f->pkts[1] } };
		verdict_quic_decide(&a->cfg->verdict, &qi, vr);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.obs = &f->obs;
	in.tls = f->tls;
	in.gap[0] = (f->gap_mask & 1) != 0;
	in.gap[1] = (f->gap_mask & 2) != 0;
	if (f->hs) { /* still in the handshake (early verdict): ask reassembly */
		in.gap[0] = in.gap[0] || tcphs_gap(f->hs, 0);
		in.gap[1] = in.gap[1] || tcphs_gap(f->hs, 1);
	}
	in.tls_candidate = f->tls_candidate;
	in.app_is_tls = f->app_master == 91 || f->app_proto == 91; /* NDPI_PROTOCOL_TLS */
	in.why = why;
	in.now_us = now_us;
	in.kernel_loss = f->lost_kernel;
	in.proto = f->proto;
	in.flow_start_us = f->first_us;
	verdict_decide(&a->cfg->verdict, &in, vr);
}

void analyser_end(struct analyser *a, struct flow *f)
{
	if (f->hs)
		release_hs(a, f);
	classify_finish(a->cls, f);
}

void analyser_release(struct analyser *a, struct flow *f)
{
	if (f->tls) {
		tls_info_release(f->tls);
		free(f->tls);
		f->tls = NULL;
	}
	http_count(f->http, &a->st.http);
	free(f->http);
	f->http = NULL;
	quic_flow_free(f->quic);
	f->quic = NULL;
}

/* Sum structs of uint64_t counters. */
static void add_u64s(void *dst, const void *src, size_t size)
{
	uint64_t *d = dst;
	const uint64_t *s = src;
	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		d[i] += s[i];
}

_Static_assert(sizeof(struct tcphs_stats) % sizeof(uint64_t) == 0, "tcphs_stats holds counters only");
_Static_assert(sizeof(struct http_stats) % sizeof(uint64_t) == 0, "http_stats holds counters only");
_Static_assert(sizeof(struct quic_stats) % sizeof(uint64_t) == 0, "quic_stats holds counters only");

void analyser_merge_stats(struct analyser *into, const struct analyser *from)
{
	add_u64s(&into->st.hs, &from->st.hs, sizeof(into->st.hs));
	add_u64s(&into->st.http, &from->st.http, sizeof(into->st.http));
	into->st.alloc_failed += from->st.alloc_failed;
	struct quic_stats q;
	analyser_quic_stats(from, &q);
	add_u64s(&into->st.quic_more, &q, sizeof(q));
}

void analyser_quic_stats(const struct analyser *a, struct quic_stats *out)
{
	if (a->quic)
		*out = *quic_stage_stats(a->quic);
	else
		memset(out, 0, sizeof(*out));
	add_u64s(out, &a->st.quic_more, sizeof(*out));
}
