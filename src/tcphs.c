/* tcphs.c - the handshake region of a TCP flow: reassembly, TLS parsing
 * after an optional plaintext preamble, plain HTTP handed to http.c, and
 * when it is done (tcphs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "preamble.h"
#include "reasm.h"
#include "tcphs.h"
#include "tls.h"

/* Where a direction stands before TLS parsing. */
enum start_state {
	START_UNSEEN = 0,    /* its first bytes not judged yet */
	START_TLS,           /* TLS from tls_start on */
	START_NOT_TLS,       /* plaintext: nothing more to parse */
};

struct flow_hs {
	struct reasm_dir rs[2];
	struct tls_parser tp[2];
	uint8_t start[2];          /* enum start_state */
	uint32_t tls_start[2];     /* stream offset of the first TLS byte */
	uint32_t fed[2];           /* stream offset fed to the parser so far */
	uint8_t preamble;          /* enum preamble_kind: found, or PRE_NONE */
	uint8_t pre_tries;
	uint8_t http;              /* the client spoke plain HTTP: f->http is fed */
};

struct flow_hs *tcphs_new(uint32_t reasm_limit)
{
	struct flow_hs *hs = calloc(1, sizeof(*hs));
	if (!hs)
		return NULL;
	for (int d = 0; d < 2; d++) {
		reasm_init(&hs->rs[d], reasm_limit);
		tls_parser_init(&hs->tp[d], d == DIR_S2C, reasm_limit);
	}
	return hs;
}

bool tcphs_gap(const struct flow_hs *hs, int dir)
{
	return reasm_has_gap(&hs->rs[dir]);
}

void tcphs_release(struct flow_hs *hs, struct flow *f, struct tcphs_stats *st)
{
	if (!hs)
		return;
	for (int d = 0; d < 2; d++) {
		if (reasm_has_gap(&hs->rs[d]))
			f->gap_mask |= (uint8_t)(1u << d);
		st->reasm_overlap_diffs += hs->rs[d].overlap_diffs;
		st->reasm_dropped += hs->rs[d].dropped;
		f->overlap_diffs += hs->rs[d].overlap_diffs;
		if (hs->tp[d].error != TLS_ERR_NONE && hs->tp[d].error != TLS_ERR_NOT_TLS)
			st->tls_errors++;
		reasm_release(&hs->rs[d]);
		tls_parser_release(&hs->tp[d]);
	}
	free(hs);
}

bool tcphs_finished(const struct flow_hs *hs, const struct flow *f)
{
	const struct tls_info *ti = f->tls;
	if (hs->start[DIR_C2S] == START_NOT_TLS)
		return !hs->http || http_flow_done(f->http, hs->rs[DIR_C2S].limit_reached &&
						    hs->rs[DIR_S2C].limit_reached);
	if (hs->tp[DIR_S2C].state == TLS_ST_STOPPED || hs->tp[DIR_C2S].state == TLS_ST_STOPPED)
		return true;
	if (ti && ti->sh_seen) {
		if (ti->sh_version == 0x0304)
			return true;          /* TLS 1.3: the rest is encrypted */
		if (hs->tp[DIR_S2C].encrypted)
			return true;          /* TLS <= 1.2: server sent its CCS */
	}
	return hs->rs[DIR_C2S].limit_reached && hs->rs[DIR_S2C].limit_reached;
}

/* Feed direction dir's parser everything contiguous past what it has had. */
static unsigned feed(struct flow_hs *hs, struct flow *f, int dir, uint64_t ts_us)
{
	struct reasm_dir *rs = &hs->rs[dir];
	if (hs->start[dir] != START_TLS || rs->contiguous <= hs->fed[dir])
		return 0;
	if (!f->tls && !(f->tls = calloc(1, sizeof(*f->tls))))
		return 0;
	uint32_t from = hs->fed[dir];
	hs->fed[dir] = rs->contiguous;
	unsigned ev = tls_feed(&hs->tp[dir], f->tls, rs->buf + from, rs->contiguous - from);
	if (ev)
		tcpobs_tls(&f->obs, dir, ev, ts_us, rs->contiguous);
	return ev;
}

/* Does TLS begin at offset `at` of direction dir?  Three bytes decide;
 * fewer wait for more.  1 yes, 0 no, -1 not yet. */
static int tls_at(const struct flow_hs *hs, int dir, uint32_t at)
{
	const struct reasm_dir *rs = &hs->rs[dir];
	if (rs->contiguous < at + 3)
		return -1;
	return tls_looks_like_tls(rs->buf + at, rs->contiguous - at) ? 1 : 0;
}

static void set_start(struct flow_hs *hs, int dir, uint32_t at, bool tls)
{
	hs->start[dir] = tls ? START_TLS : START_NOT_TLS;
	hs->tls_start[dir] = hs->fed[dir] = at;
}

/* The client's first bytes are not TLS: a known preamble, then TLS? */
static void judge_preamble(struct flow_hs *hs, struct flow *f, struct tcphs_stats *st)
{
	struct preamble pre;
	const struct reasm_dir *c = &hs->rs[DIR_C2S], *s = &hs->rs[DIR_S2C];
	enum preamble_result r = preamble_find(c->buf, c->contiguous, s->buf, s->contiguous, &pre);
	if (r == PREAMBLE_MORE && ++hs->pre_tries < TCPHS_PREAMBLE_TRIES)
		return;
	if (r != PREAMBLE_FOUND || tls_at(hs, DIR_C2S, pre.tls_off[0]) == 0) {
		set_start(hs, DIR_C2S, 0, false);
		return;
	}
	if (tls_at(hs, DIR_C2S, pre.tls_off[0]) < 0)
		return; /* the ClientHello's first bytes are still to come */
	hs->preamble = (uint8_t)pre.kind;
	st->preambles++;
	set_start(hs, DIR_C2S, pre.tls_off[0], true);
	set_start(hs, DIR_S2C, pre.tls_off[1], true);
	f->tls_candidate = 1;
	tcpobs_preamble(&f->obs, hs->rs[DIR_S2C].base_seq + pre.tls_off[1]);
	if (!f->tls && !(f->tls = calloc(1, sizeof(*f->tls))))
		return;
	f->tls->preamble = hs->preamble;
	if (pre.target[0] && !f->tls->proxy_target)
		f->tls->proxy_target = strndup(pre.target, TLS_MAX_PROXY_TARGET);
}

/* Judge a direction's first bytes once enough are in.  The server's wait
 * for the client's: a server that speaks first (SMTP's greeting) is not
 * TLS at offset 0, and where its TLS starts only the preamble says. */
static void judge_start(struct flow_hs *hs, struct flow *f, int dir, struct tcphs_stats *st)
{
	if (hs->start[dir] != START_UNSEEN)
		return;
	if (dir == DIR_S2C) {
		int t = tls_at(hs, DIR_S2C, 0);
		/* plaintext from the server before the client is judged may
		 * be a greeting that a preamble explains: wait */
		if (t == 1 || (t == 0 && hs->start[DIR_C2S] != START_UNSEEN))
			set_start(hs, DIR_S2C, 0, t == 1);
		return;
	}
	int t = tls_at(hs, DIR_C2S, 0);
	if (t < 0)
		return;
	if (t == 1) {
		set_start(hs, DIR_C2S, 0, true);
		f->tls_candidate = 1;
		return;
	}
	int http = http_flow_start(f, hs->rs[DIR_C2S].buf, hs->rs[DIR_C2S].contiguous);
	if (http > 0) {
		hs->http = 1;
		set_start(hs, DIR_C2S, 0, false);
		set_start(hs, DIR_S2C, 0, false);
	}
	if (http == 0)
		judge_preamble(hs, f, st);
}

unsigned tcphs_packet(struct flow_hs *hs, struct flow *f, const struct ts_packet *p, int dir,
		      unsigned *reasm_bits, struct tcphs_stats *st)
{
	if (p->tcp_flags & TH_SYN)
		reasm_set_base(&hs->rs[dir], p->seq + 1);
	if (p->tcp_flags & TH_ACK)
		reasm_note_peer_ack(&hs->rs[!dir], p->ack);
	if (p->payload_len == 0 || (p->tcp_flags & TH_SYN))
		return 0;
	uint32_t from = 0;
	*reasm_bits = reasm_add(&hs->rs[dir], p->seq, p->payload, p->payload_len, &from);
	if (hs->http)
		http_flow_packet(f->http, p, dir, *reasm_bits);
	if (!(*reasm_bits & REASM_NEW_DATA))
		return 0;
	/* A preamble's verdict may need either direction's new bytes. */
	judge_start(hs, f, DIR_C2S, st);
	judge_start(hs, f, DIR_S2C, st);
	if (hs->http)
		http_flow_bytes(f->http, p, dir, hs->rs[dir].buf, hs->rs[dir].contiguous);
	return feed(hs, f, DIR_C2S, p->ts_us) | feed(hs, f, DIR_S2C, p->ts_us);
}
