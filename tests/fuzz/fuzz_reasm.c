/* fuzz_reasm.c - libFuzzer harness for TCP handshake-region reassembly
 * (src/reasm.c): runs an operation list against one direction and checks
 * the interval list, delivery and first-copy-kept against a shadow model.
 *
 * Input: limit selector (1 byte), initial seq (4), then operations:
 *   op%5 == 0  add:      seq delta (4), len (2), len bytes of data
 *   op%5 == 1  add gen:  seq delta (4), len (2); bytes derived from seq
 *                        (so overlapping generated segments agree)
 *   op%5 == 2  ack:      ack delta (4)
 *   op%5 == 3  set base: seq delta (4)
 *   op%5 == 4  add near: small delta (1) after the last segment, len op>>3
 * Deltas are relative to the initial seq, so wrap-around is reachable.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "reasm.h"

#define FZ_MAX_LIMIT 4096u
#define FZ_MAX_SEG 8192u

struct model {
	uint8_t bytes[FZ_MAX_LIMIT];  /* first copy of every byte ever held */
	uint8_t present[FZ_MAX_LIMIT];
	uint8_t held[FZ_MAX_LIMIT];   /* bytes held now, from the intervals */
	uint32_t delivered;           /* contiguous as last seen */
	uint32_t peer_acked;
	uint32_t last_end_seq;
};

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static void check_intervals(const struct reasm_dir *d)
{
	CHECK(d->n_iv <= REASM_MAX_INTERVALS);
	CHECK(d->n_iv <= d->iv_cap || (d->n_iv == 0 && d->iv == NULL));
	CHECK(d->buf_cap <= d->limit);
	for (unsigned k = 0; k < d->n_iv; k++) {
		CHECK(d->iv[k].start < d->iv[k].end);
		CHECK(d->iv[k].end <= d->limit);
		CHECK(d->iv[k].end <= d->buf_cap);
		if (k > 0) /* sorted, disjoint and merged (not even adjacent) */
			CHECK(d->iv[k - 1].end < d->iv[k].start);
	}
	if (d->n_iv > 0 && d->iv[0].start == 0)
		CHECK(d->contiguous == d->iv[0].end);
	else
		CHECK(d->contiguous == 0);
	if (d->n_iv > 0)
		CHECK(d->highest_end == d->iv[d->n_iv - 1].end);
	CHECK(d->highest_end <= d->limit);
	CHECK(d->peer_acked <= (1u << 30));
}

/* Expand the (already checked) interval list into m->held. */
static void load_held(const struct reasm_dir *d, struct model *m)
{
	memset(m->held, 0, sizeof(m->held));
	for (unsigned k = 0; k < d->n_iv; k++)
		memset(m->held + d->iv[k].start, 1,
		       d->iv[k].end - d->iv[k].start);
}

/* Held bytes never change or vanish; delivery only moves forward. */
static void check_shadow(const struct reasm_dir *d, struct model *m)
{
	for (uint32_t o = 0; o < d->limit; o++) {
		bool h = m->held[o];

		if (m->present[o]) {
			CHECK(h);
			CHECK(d->buf[o] == m->bytes[o]);
		} else if (h) {
			m->present[o] = 1;
			m->bytes[o] = d->buf[o];
		}
	}
	CHECK(d->contiguous >= m->delivered);
}

/* Stream offset of byte i of a segment at seq, as the wrap-safe rules
 * define it; negative when before the base. */
static int64_t ref_offset(uint32_t base, uint32_t seq, uint32_t i)
{
	return (int64_t)(int32_t)(seq - base) + i;
}

/* Compare the result bits and the new bytes with what the segment must
 * have done, given the model state from before the call. */
static void check_add(const struct reasm_dir *d, const struct model *m,
		      uint32_t seq, const uint8_t *data, uint32_t len,
		      unsigned r, uint32_t nf)
{
	bool any_old = false, any_in = false, any_beyond = false;
	bool overlap = false, differ = false;

	for (uint32_t i = 0; i < len; i++) {
		int64_t o = ref_offset(d->base_seq, seq, i);

		if (o < 0) {
			any_old = true;
		} else if (o >= d->limit) {
			any_beyond = true;
		} else {
			any_in = true;
			if (m->present[o]) {
				overlap = true;
				differ |= m->bytes[o] != data[i];
			} else if (!(r & REASM_DROPPED)) {
				/* a new byte is stored exactly as sent */
				CHECK(m->held[o]);
				CHECK(d->buf[o] == data[i]);
			}
		}
	}
	CHECK(!!(r & REASM_OLD) == (any_old && !any_in && !any_beyond));
	CHECK(!!(r & REASM_BEYOND_LIMIT) == any_beyond);
	if (any_beyond)
		CHECK(d->limit_reached);
	if (r & REASM_DROPPED)
		return;
	CHECK(!!(r & REASM_OVERLAP_DIFF) == differ);
	CHECK(!!(r & REASM_RETRANSMIT) == (overlap && !differ));
	if (r & REASM_NEW_DATA) {
		CHECK(nf == m->delivered);
		CHECK(d->contiguous > nf);
	} else {
		CHECK(d->contiguous == m->delivered);
	}
}

static void do_add(struct reasm_dir *d, struct model *m, uint32_t seq,
		   const uint8_t *data, uint32_t len)
{
	uint32_t nf = 0xFFFFFFFFu, segs = d->segments;
	unsigned r = reasm_add(d, seq, data, len, &nf);

	if (len == 0) {
		CHECK(r == 0 && d->segments == segs);
		return;
	}
	CHECK(d->base_set);
	CHECK(d->segments == segs + 1);
	check_intervals(d);
	load_held(d, m);
	check_add(d, m, seq, data, len, r, nf);
	check_shadow(d, m);
	m->delivered = d->contiguous;
	m->last_end_seq = seq + len;
}

static void do_ack(struct reasm_dir *d, struct model *m, uint32_t ack)
{
	reasm_note_peer_ack(d, ack);
	CHECK(d->peer_acked >= m->peer_acked);
	m->peer_acked = d->peer_acked;
	check_intervals(d);
	(void)reasm_has_gap(d);
	CHECK(reasm_peer_acked(d, d->peer_acked));
}

/* One operation; false when the input ran out. */
static bool run_op(struct reasm_dir *d, struct model *m, struct cursor *c,
		   uint32_t seq0)
{
	static const uint8_t none[1];
	uint8_t gen[FZ_MAX_SEG];
	struct cursor seg;
	uint8_t op, small;
	uint32_t delta;
	uint16_t len;
	size_t take;

	if (!cur_u8(c, &op))
		return false;
	switch (op % 5) {
	case 0:
		if (!cur_be32(c, &delta) || !cur_be16(c, &len))
			return false;
		/* A short tail is a truncated segment: offer what is there. */
		take = len < cur_left(c) ? len : cur_left(c);
		if (!cur_sub(c, take, &seg))
			return false;
		do_add(d, m, seq0 + delta, take ? seg.p : none, (uint32_t)take);
		return true;
	case 1:
		if (!cur_be32(c, &delta) || !cur_be16(c, &len))
			return false;
		len = len % FZ_MAX_SEG;
		for (uint32_t i = 0; i < len; i++)
			gen[i] = (uint8_t)((seq0 + delta + i) * 13u);
		do_add(d, m, seq0 + delta, gen, len);
		return true;
	case 2:
		if (!cur_be32(c, &delta))
			return false;
		do_ack(d, m, seq0 + delta);
		return true;
	case 3:
		if (!cur_be32(c, &delta))
			return false;
		reasm_set_base(d, seq0 + delta);
		/* A base that moves before any byte is stored drops old ACKs. */
		CHECK(d->peer_acked == m->peer_acked || d->peer_acked == 0);
		m->peer_acked = d->peer_acked;
		check_intervals(d);
		return true;
	default:
		if (!cur_u8(c, &small))
			return false;
		len = op >> 3;
		for (uint32_t i = 0; i < len; i++)
			gen[i] = (uint8_t)((m->last_end_seq + small + i) * 13u);
		do_add(d, m, m->last_end_seq + (int8_t)small, gen, len);
		return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct cursor c = cur_make(data, size);
	struct reasm_dir d;
	uint8_t lim_sel, b = 0;
	uint32_t seq0, segs;

	if (!cur_u8(&c, &lim_sel) || !cur_be32(&c, &seq0))
		return 0;
	memset(&m, 0, sizeof(m));
	m.last_end_seq = seq0;
	/* Small odd limits too, so the clip at the limit is exercised. */
	reasm_init(&d, lim_sel & 0x80 ? (lim_sel & 0x7f) * 32u + (lim_sel & 7)
				      : FZ_MAX_LIMIT);
	for (unsigned ops = 0; ops < 4096 && run_op(&d, &m, &c, seq0); ops++)
		;
	reasm_release(&d);
	segs = d.segments;
	/* Released directions stay released. */
	if (d.highest_end > 0)
		CHECK(reasm_add(&d, d.base_seq, &b, 1, NULL) == 0);
	CHECK(d.segments == segs || d.highest_end == 0);
	reasm_release(&d);
	return 0;
}
