/* analyse.h - the analysis of one flow's packets, and its decision.
 *
 * What each packet of a flow feeds - the handshake region (tcphs.h:
 * reassembly, TLS, preambles, plain HTTP), the QUIC stage, the TCP
 * observations, the classification - and, when the flow ends, its verdict
 * and the part of its record that needs nothing but the flow (the chain's
 * analysis, the application's names: record_local).  It keeps no state
 * across flows but caches that only save work, so one analyser per thread
 * gives the same results as one for all: the engine runs one itself, or one
 * per worker thread (workers.h).  What spans flows (residual blocking,
 * scanners, servers' TTLs, the certificate name memory, DNS names,
 * networks) is the engine's.
 */
#ifndef TS_ANALYSE_H
#define TS_ANALYSE_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "http.h"
#include "quic.h"
#include "recorder.h"
#include "tcphs.h"
#include "verdict.h"

struct engine_cfg;
struct cert_ctx;
struct cert_stats;
struct blockpages;
struct classify;
struct quic_stage;

/* What a packet completed that the live deadlines wait for. */
enum {
	ANALYSE_EV_HELLO = 0x01,     /* a complete ClientHello (TLS) */
	ANALYSE_EV_INITIAL = 0x02,   /* a client Initial (QUIC) */
	ANALYSE_EV_DONE = 0x04,      /* the TCP handshake region is over (f->done set now) */
};

struct analyser_stats {
	struct tcphs_stats hs;       /* the handshake regions' counters */
	struct http_stats http;      /* plain HTTP heads of finished flows */
	uint64_t alloc_failed;       /* handshake regions not allocated */
	struct quic_stats quic_more; /* other analysers' QUIC counters, merged in */
};

struct analyser {
	const struct engine_cfg *cfg;
	struct classify *cls;
	struct quic_stage *quic;
	struct recorder rec;         /* only its flow-local members (record_local) */
	struct analyser_stats st;
};

/* certs: the thread's certificate context (its own caches), NULL without
 * chain analysis; bp: known blockpages, NULL for none.  -1 when out of
 * memory or nDPI failed to start (a is then safe to free). */
int analyser_init(struct analyser *a, const struct engine_cfg *cfg, struct cert_ctx *certs,
		  const struct blockpages *bp);
/* An analyser that only gathers other analysers' counters (and releases
 * flows): no classifier, no QUIC stage. */
void analyser_init_counters(struct analyser *a, const struct engine_cfg *cfg);
void analyser_free(struct analyser *a);

/* One packet of f (dir DIR_C2S / DIR_S2C; created: f's first).  Returns
 * ANALYSE_EV_* bits. */
unsigned analyser_packet(struct analyser *a, struct flow *f, const struct ts_packet *p, int dir,
			 bool created);

/* f's verdict now (why: how it ended, FLOW_END_NONE for a live deadline;
 * now_us: the packet clock). */
void analyser_decide(struct analyser *a, struct flow *f, enum flow_end why, uint64_t now_us,
		     struct verdict_result *vr);

/* f ends: its handshake state and the classifier's let go (the flow keeps
 * what its record points to: tls, quic, http). */
void analyser_end(struct analyser *a, struct flow *f);

/* What the record points to, after the record is out. */
void analyser_release(struct analyser *a, struct flow *f);

/* Add from's counters to into's (from's last flow is done). */
void analyser_merge_stats(struct analyser *into, const struct analyser *from);
/* The QUIC stage's counters, merged ones included. */
void analyser_quic_stats(const struct analyser *a, struct quic_stats *out);

/* The flow's payload bytes can no longer matter: its handshake is over and
 * its application decided (later packets are counted, not read). */
static inline bool analyser_payload_unneeded(const struct flow *f)
{
	return f->done && f->app_final;
}

/* All a packet of such a flow still adds (analyser_packet comes here for
 * it): TCP observations; a settled UDP flow reads nothing more.  No
 * analyser is needed, so the engine's thread may do it in a worker's place
 * (workers.c). */
static inline void analyser_quiet_packet(struct flow *f, const struct ts_packet *p, int dir)
{
	if (p->proto == 6)
		tcpobs_packet(&f->obs, p, dir, 0);
}

#endif
