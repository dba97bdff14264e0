/* test_reasm.c - unit tests for TCP handshake-region reassembly (src/reasm.c):
 * ordering, retransmission, overlap evidence, wrap-around, gaps, caps. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "reasm.h"

#define LIMIT 4096u

/* Deterministic content: byte at stream offset `off`. */
static uint8_t pat(uint32_t off)
{
	return (uint8_t)(off * 31u + 7u + (off >> 8));
}

static void fill(uint8_t *p, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = pat(off + i);
}

/* Offer stream bytes [off, off+len) of the pattern, seq = base + off. */
static unsigned add_pat(struct reasm_dir *d, uint32_t base, uint32_t off,
			uint32_t len, uint32_t *new_from)
{
	uint8_t tmp[8192];

	assert_true(len <= sizeof(tmp));
	fill(tmp, off, len);
	return reasm_add(d, base + off, tmp, len, new_from);
}

static void assert_pat(const struct reasm_dir *d, uint32_t off, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		assert_int_equal(d->buf[off + i], pat(off + i));
}

/* Intervals sorted, disjoint, non-adjacent, within the limit. */
static void assert_iv_sane(const struct reasm_dir *d)
{
	for (unsigned k = 0; k < d->n_iv; k++) {
		assert_true(d->iv[k].start < d->iv[k].end);
		assert_true(d->iv[k].end <= d->limit);
		if (k > 0)
			assert_true(d->iv[k - 1].end < d->iv[k].start);
	}
	assert_true(d->n_iv <= REASM_MAX_INTERVALS);
}

/* The fixture: every test gets a fresh direction, initialised with a
 * handshake region of LIMIT bytes (or the limit given as its initial state),
 * and released after the test whatever happened in it. */
static int dir_setup(void **state)
{
	uint32_t limit = *state ? *(const uint32_t *)*state : LIMIT;
	struct reasm_dir *d = malloc(sizeof(*d));

	if (d == NULL)
		return -1;
	reasm_init(d, limit);
	*state = d;
	return 0;
}

static int dir_teardown(void **state)
{
	struct reasm_dir *d = *state;

	reasm_release(d);
	free(d);
	return 0;
}

static void test_init(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t off = 99;

	assert_int_equal(d->limit, LIMIT);
	assert_int_equal(d->contiguous, 0);
	assert_int_equal(d->n_iv, 0);
	assert_null(d->buf);
	assert_false(d->base_set);
	assert_false(reasm_offset(d, 1234, &off));
	assert_int_equal(off, 99);
	assert_false(reasm_has_gap(d));
}

static void test_in_order(void **state)
{
	struct reasm_dir *d = *state;
	const uint32_t base = 1000;
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, base);
	for (uint32_t off = 0; off < 300; off += 100) {
		r = add_pat(d, base, off, 100, &nf);
		assert_int_equal(r, REASM_NEW_DATA);
		assert_int_equal(nf, off);
		assert_int_equal(d->contiguous, off + 100);
	}
	assert_int_equal(d->highest_end, 300);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->segments, 3);
	assert_int_equal(d->ooo_segments, 0);
	assert_int_equal(d->retransmits, 0);
	assert_pat(d, 0, 300);
	assert_false(reasm_has_gap(d));
	assert_true(d->buf_cap <= LIMIT);
}

static void test_out_of_order(void **state)
{
	struct reasm_dir *d = *state;
	const uint32_t base = 5;
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, base);
	assert_int_equal(add_pat(d, base, 0, 50, &nf), REASM_NEW_DATA);
	nf = 0xdead;
	r = add_pat(d, base, 100, 50, &nf);
	assert_int_equal(r, REASM_OUT_OF_ORDER);
	assert_int_equal(nf, 0xdead); /* untouched without NEW_DATA */
	assert_int_equal(d->contiguous, 50);
	assert_int_equal(d->highest_end, 150);
	assert_true(reasm_has_gap(d));
	assert_int_equal(d->ooo_segments, 1);

	/* The hole fills: everything from 50 to 150 becomes new. */
	r = add_pat(d, base, 50, 50, &nf);
	assert_int_equal(r, REASM_NEW_DATA);
	assert_int_equal(nf, 50);
	assert_int_equal(d->contiguous, 150);
	assert_int_equal(d->n_iv, 1);
	assert_false(reasm_has_gap(d));
	assert_pat(d, 0, 150);
}

static void test_ooo_first_segment_missing(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0;

	reasm_set_base(d, 0);
	assert_int_equal(add_pat(d, 0, 200, 10, &nf), REASM_OUT_OF_ORDER);
	assert_int_equal(add_pat(d, 0, 100, 10, &nf), REASM_OUT_OF_ORDER);
	assert_int_equal(d->n_iv, 2);
	assert_int_equal(d->contiguous, 0);
	/* A segment that reaches the first hole but not the second. */
	assert_int_equal(add_pat(d, 0, 0, 105, &nf),
			 REASM_NEW_DATA | REASM_RETRANSMIT);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 110);
	assert_true(reasm_has_gap(d));
	assert_int_equal(add_pat(d, 0, 110, 90, &nf), REASM_NEW_DATA);
	assert_int_equal(nf, 110);
	assert_int_equal(d->contiguous, 210);
	assert_false(reasm_has_gap(d));
	assert_pat(d, 0, 210);
	assert_iv_sane(d);
}

static void test_reverse_single_bytes(void **state)
{
	struct reasm_dir *d = *state;
	const uint32_t base = 0x12345678;
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, base);
	for (uint32_t off = 299; off > 0; off--) {
		r = add_pat(d, base, off, 1, &nf);
		assert_int_equal(r, REASM_OUT_OF_ORDER);
		assert_int_equal(d->n_iv, 1); /* adjacent bytes merge */
		assert_int_equal(d->contiguous, 0);
	}
	assert_int_equal(nf, 0xdead);
	r = add_pat(d, base, 0, 1, &nf);
	assert_int_equal(r, REASM_NEW_DATA);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 300);
	assert_int_equal(d->ooo_segments, 299);
	assert_int_equal(d->segments, 300);
	assert_pat(d, 0, 300);
	assert_false(reasm_has_gap(d));
}

static void test_duplicate(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead;
	uint8_t before[300];

	reasm_set_base(d, 1);
	add_pat(d, 1, 0, 200, &nf);
	add_pat(d, 1, 250, 50, &nf);
	memcpy(before, d->buf, 200);
	nf = 0xdead;
	assert_int_equal(add_pat(d, 1, 0, 200, &nf), REASM_RETRANSMIT);
	assert_int_equal(nf, 0xdead);
	assert_int_equal(add_pat(d, 1, 50, 10, &nf), REASM_RETRANSMIT);
	/* A duplicate of out-of-order data is a retransmit, not OOO again. */
	assert_int_equal(add_pat(d, 1, 250, 50, &nf), REASM_RETRANSMIT);
	assert_int_equal(d->retransmits, 3);
	assert_int_equal(d->ooo_segments, 1);
	assert_int_equal(d->overlap_diffs, 0);
	assert_int_equal(d->contiguous, 200);
	assert_memory_equal(before, d->buf, 200);
	assert_int_equal(d->n_iv, 2);
}

static void test_overlap_diff_full(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[100];
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 7);
	add_pat(d, 7, 0, 100, &nf);
	fill(seg, 0, 100);
	seg[40] ^= 0xff;
	seg[70] ^= 0x01;
	nf = 0xdead;
	r = reasm_add(d, 7, seg, 100, &nf);
	assert_int_equal(r, REASM_OVERLAP_DIFF);
	assert_int_equal(nf, 0xdead);
	assert_int_equal(d->overlap_diffs, 1);
	assert_int_equal(d->first_diff_off, 40);
	assert_int_equal(d->retransmits, 0);
	assert_pat(d, 0, 100); /* first copy kept */

	/* A later, different injection does not move first_diff_off. */
	fill(seg, 0, 100);
	seg[10] ^= 0x80;
	r = reasm_add(d, 7, seg, 100, &nf);
	assert_int_equal(r, REASM_OVERLAP_DIFF);
	assert_int_equal(d->overlap_diffs, 2);
	assert_int_equal(d->first_diff_off, 40);
	assert_pat(d, 0, 100);
}

static void test_overlap_diff_head(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[100];
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 0);
	add_pat(d, 0, 100, 100, &nf); /* held [100,200) */
	/* New [50,150): head is new, tail overlaps and differs at 120. */
	fill(seg, 50, 100);
	seg[120 - 50] ^= 0x55;
	r = reasm_add(d, 50, seg, 100, &nf);
	assert_int_equal(r, REASM_OVERLAP_DIFF | REASM_OUT_OF_ORDER);
	assert_int_equal(d->first_diff_off, 120);
	assert_int_equal(d->overlap_diffs, 1);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->iv[0].start, 50);
	assert_int_equal(d->iv[0].end, 200);
	assert_pat(d, 50, 150); /* held bytes kept, new bytes stored */
}

static void test_overlap_diff_tail(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[100];
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 0);
	add_pat(d, 0, 0, 100, &nf); /* held [0,100) */
	fill(seg, 80, 100);          /* new [80,180), differs at 90 and 150 */
	seg[90 - 80] ^= 0x01;
	seg[150 - 80] ^= 0x01;
	r = reasm_add(d, 80, seg, 100, &nf);
	assert_int_equal(r, REASM_OVERLAP_DIFF | REASM_NEW_DATA);
	assert_int_equal(nf, 100);
	assert_int_equal(d->contiguous, 180);
	assert_int_equal(d->first_diff_off, 90);
	assert_pat(d, 0, 100);
	/* Bytes beyond the held ones are the (only) copy: stored as sent. */
	assert_int_equal(d->buf[150], (uint8_t)(pat(150) ^ 0x01));
	assert_int_equal(d->buf[149], pat(149));
}

static void test_overlap_spans_intervals(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[70];
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 0);
	add_pat(d, 0, 10, 10, &nf);
	add_pat(d, 0, 30, 10, &nf);
	add_pat(d, 0, 50, 10, &nf);
	assert_int_equal(d->n_iv, 3);
	/* [0,70) covers all three; differs only inside the third. */
	fill(seg, 0, 70);
	seg[55] = (uint8_t)~seg[55];
	r = reasm_add(d, 0, seg, 70, &nf);
	assert_int_equal(r, REASM_OVERLAP_DIFF | REASM_NEW_DATA);
	assert_int_equal(nf, 0);
	assert_int_equal(d->first_diff_off, 55);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->contiguous, 70);
	assert_int_equal(d->highest_end, 70);
	assert_pat(d, 0, 70); /* byte 55 kept from the first copy */
	assert_false(reasm_has_gap(d));
}

/* A segment that differs everywhere it overlaps: each held byte, including
 * the first and last of every interval, keeps its first copy, and each
 * hole gets the new bytes exactly up to the interval edges. */
static void test_overlap_edges_kept(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[40];
	uint32_t nf = 0xdead;

	reasm_set_base(d, 0);
	add_pat(d, 0, 10, 10, &nf);
	add_pat(d, 0, 25, 5, &nf);
	memset(seg, 0xA5, sizeof(seg));
	for (uint32_t o = 10; o < 30; o++) /* never equal to the pattern */
		if (pat(o) == 0xA5)
			seg[o] = 0x5A;
	assert_int_equal(reasm_add(d, 0, seg, 40, &nf),
			 REASM_OVERLAP_DIFF | REASM_NEW_DATA);
	assert_int_equal(d->first_diff_off, 10);
	assert_pat(d, 10, 10);
	assert_pat(d, 25, 5);
	for (uint32_t o = 0; o < 40; o++)
		if (o < 10 || (o >= 20 && o < 25) || o >= 30)
			assert_int_equal(d->buf[o], 0xA5);
	assert_int_equal(d->contiguous, 40);
}

static void test_equal_spans_intervals(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead;

	reasm_set_base(d, 0);
	add_pat(d, 0, 20, 5, &nf);
	add_pat(d, 0, 40, 5, &nf);
	add_pat(d, 0, 60, 5, &nf);
	/* Covers the first two and ends adjacent to the third: one interval. */
	assert_int_equal(add_pat(d, 0, 15, 45, &nf),
			 REASM_RETRANSMIT | REASM_OUT_OF_ORDER);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->iv[0].start, 15);
	assert_int_equal(d->iv[0].end, 65);
	assert_int_equal(d->retransmits, 1);
	assert_pat(d, 15, 50);
	assert_iv_sane(d);
}

static void test_wraparound(void **state)
{
	struct reasm_dir *d = *state;
	const uint32_t base = 0xFFFFFF00u;
	uint32_t nf = 0xdead, off = 0;
	unsigned r;

	reasm_set_base(d, base);
	/* [200,300) arrives first with a wrapped sequence number. */
	r = add_pat(d, base, 200, 100, &nf);
	assert_int_equal(r, REASM_OUT_OF_ORDER);
	assert_int_equal(d->iv[0].start, 200);
	/* [0,200) crosses 2^32 inside the segment. */
	r = add_pat(d, base, 0, 200, &nf);
	assert_int_equal(r, REASM_NEW_DATA);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 300);
	assert_pat(d, 0, 300);
	assert_true(reasm_offset(d, 0x10u, &off));
	assert_int_equal(off, 0x110);
	assert_false(reasm_offset(d, 0xFFFFFE00u, &off));
	/* Before the base, even though numerically larger than the wrapped
	 * sequence numbers above. */
	assert_int_equal(add_pat(d, base, (uint32_t)-0x100, 0x80, &nf),
			 REASM_OLD);
	reasm_note_peer_ack(d, base + 300);
	assert_true(reasm_peer_acked(d, 300));
	assert_false(reasm_has_gap(d));
	reasm_note_peer_ack(d, base + 400);
	assert_true(reasm_has_gap(d));
}

static void test_wraparound_no_base(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead;
	uint8_t seg[64];

	fill(seg, 0, 64);
	assert_int_equal(reasm_add(d, 0xFFFFFFF0u, seg, 64, &nf),
			 REASM_NEW_DATA);
	assert_true(d->base_set);
	assert_int_equal(d->base_seq, 0xFFFFFFF0u);
	fill(seg, 64, 64);
	assert_int_equal(reasm_add(d, 0x30u, seg, 64, &nf), REASM_NEW_DATA);
	assert_int_equal(nf, 64);
	assert_int_equal(d->contiguous, 128);
	assert_pat(d, 0, 128);
}

static void test_gap_hole_never_filled(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 100);
	add_pat(d, 100, 0, 10, &nf);
	add_pat(d, 100, 20, 10, &nf);
	assert_true(reasm_has_gap(d));
	/* The peer acknowledging only the prefix does not hide the hole. */
	reasm_note_peer_ack(d, 110);
	assert_true(reasm_has_gap(d));
}

static void test_gap_peer_ack_beyond(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 100);
	add_pat(d, 100, 0, 100, &nf);
	reasm_note_peer_ack(d, 100 + 100);
	assert_false(reasm_has_gap(d));
	assert_true(reasm_peer_acked(d, 100));
	assert_false(reasm_peer_acked(d, 101));
	reasm_note_peer_ack(d, 100 + 150);
	assert_true(reasm_has_gap(d));
	assert_true(reasm_peer_acked(d, 150));
	assert_false(reasm_peer_acked(d, 151));
	/* An older ACK does not lower the mark. */
	reasm_note_peer_ack(d, 100 + 50);
	assert_int_equal(d->peer_acked, 150);
	/* The missing bytes arrive: no gap any more. */
	add_pat(d, 100, 100, 50, &nf);
	assert_false(reasm_has_gap(d));
}

static void test_gap_nothing_captured(void **state)
{
	struct reasm_dir *d = *state;

	reasm_set_base(d, 1000);
	reasm_note_peer_ack(d, 1000);
	assert_false(reasm_has_gap(d)); /* SYN-only ACK: nothing missing */
	reasm_note_peer_ack(d, 1001);
	assert_false(reasm_has_gap(d)); /* a bare FIN */
	reasm_note_peer_ack(d, 1517);
	assert_true(reasm_has_gap(d)); /* ACKed data we never saw */
}

static void test_fin_tolerance(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 500);
	add_pat(d, 500, 0, 100, &nf);
	reasm_note_peer_ack(d, 500 + 101); /* data + FIN */
	assert_false(reasm_has_gap(d));
	assert_true(reasm_peer_acked(d, 101));
	reasm_note_peer_ack(d, 500 + 102);
	assert_true(reasm_has_gap(d));
}

static void test_ack_ignored(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_note_peer_ack(d, 12345); /* no base yet */
	assert_int_equal(d->peer_acked, 0);
	reasm_set_base(d, 0x10000);
	add_pat(d, 0x10000, 0, 10, &nf);
	reasm_note_peer_ack(d, 0x0FFFF); /* before base */
	assert_int_equal(d->peer_acked, 0);
	reasm_note_peer_ack(d, 0x10000 + (1u << 30) + 1); /* absurd */
	assert_int_equal(d->peer_acked, 0);
	reasm_note_peer_ack(d, 0x10000 + 0x90000000u); /* "before" by wrap */
	assert_int_equal(d->peer_acked, 0);
	assert_false(reasm_has_gap(d));
	reasm_note_peer_ack(d, 0x10000 + (1u << 30)); /* at the sanity bound */
	assert_int_equal(d->peer_acked, 1u << 30);
	assert_true(reasm_has_gap(d));
}

/* An ACK far beyond a 200-byte region, in three directions: the whole region
 * held, a part of it, and all but its last byte. */
static void test_ack_beyond_limit_all_held(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;
	unsigned r;

	reasm_set_base(d, 0);
	r = add_pat(d, 0, 0, 300, &nf);
	assert_int_equal(r, REASM_NEW_DATA | REASM_BEYOND_LIMIT);
	assert_int_equal(d->contiguous, 200);
	reasm_note_peer_ack(d, 5000);
	assert_false(reasm_has_gap(d)); /* all of the region is here */
}

static void test_ack_beyond_limit_part_held(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 0);
	add_pat(d, 0, 0, 150, &nf);
	reasm_note_peer_ack(d, 5000);
	assert_true(reasm_has_gap(d)); /* [150,200) was ACKed, not seen */
}

/* One byte short of the limit and the ACK is far beyond: still a gap, the
 * FIN allowance covers one slot past the data, not a data byte. */
static void test_ack_beyond_limit_one_short(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 0);
	add_pat(d, 0, 0, 199, &nf);
	reasm_note_peer_ack(d, 5000);
	assert_true(reasm_has_gap(d));
}

static void test_limit(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 1000);
	r = add_pat(d, 1000, 50, 100, &nf);
	assert_int_equal(r, REASM_OUT_OF_ORDER | REASM_BEYOND_LIMIT);
	assert_true(d->limit_reached);
	assert_int_equal(d->highest_end, 100);
	assert_int_equal(d->iv[0].end, 100);
	assert_true(d->buf_cap <= 100);
	assert_pat(d, 50, 50);
	/* Entirely past the limit: nothing stored. */
	r = add_pat(d, 1000, 100, 10, &nf);
	assert_int_equal(r, REASM_BEYOND_LIMIT);
	r = add_pat(d, 1000, 5000, 10, &nf);
	assert_int_equal(r, REASM_BEYOND_LIMIT);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->highest_end, 100);
	r = add_pat(d, 1000, 0, 50, &nf);
	assert_int_equal(r, REASM_NEW_DATA);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 100);
	assert_pat(d, 0, 100);
	assert_int_equal(d->buf_cap, 100);
}

static void test_limit_huge_offsets(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[64];
	uint32_t nf = 0xdead;

	reasm_set_base(d, 0);
	memset(seg, 0xAA, sizeof(seg));
	/* The furthest offset a wrap-safe compare calls "after" the base:
	 * offset + len must not wrap to a small number. */
	assert_int_equal(reasm_add(d, 0x7FFFFFFFu, seg, sizeof(seg), &nf),
			 REASM_BEYOND_LIMIT);
	assert_int_equal(reasm_add(d, 0xFFFFFF00u, seg, sizeof(seg), &nf),
			 REASM_OLD);
	/* Half the space away counts as "before" too. */
	assert_int_equal(reasm_add(d, 0x80000000u, seg, sizeof(seg), &nf),
			 REASM_OLD);
	assert_int_equal(d->n_iv, 0);
	assert_null(d->buf);
	assert_int_equal(nf, 0xdead);
}

static void test_limit_zero(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t b = 1;

	assert_int_equal(reasm_add(d, 1, &b, 1, NULL), REASM_BEYOND_LIMIT);
	assert_null(d->buf);
	assert_false(reasm_has_gap(d));
}

static void test_interval_cap(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead, off;
	unsigned r;

	reasm_set_base(d, 0);
	/* Bytes at 1, 3, 5, ...: each one a separate interval. */
	for (off = 1; d->n_iv < REASM_MAX_INTERVALS; off += 2) {
		r = add_pat(d, 0, off, 1, &nf);
		assert_int_equal(r, REASM_OUT_OF_ORDER);
	}
	assert_int_equal(off, 2 * REASM_MAX_INTERVALS + 1);
	r = add_pat(d, 0, off, 1, &nf);
	assert_int_equal(r, REASM_DROPPED);
	assert_int_equal(d->dropped, 1);
	assert_int_equal(d->n_iv, REASM_MAX_INTERVALS);
	/* Extending an interval adds none: still accepted at the cap. */
	r = add_pat(d, 0, off - 1, 1, &nf);
	assert_int_equal(r, REASM_OUT_OF_ORDER);
	assert_int_equal(d->n_iv, REASM_MAX_INTERVALS);
	/* A retransmit adds none either. */
	assert_int_equal(add_pat(d, 0, 5, 1, &nf), REASM_RETRANSMIT);
	/* Filling a hole merges two: room for one more. */
	assert_int_equal(add_pat(d, 0, 0, 1, &nf), REASM_NEW_DATA);
	assert_int_equal(add_pat(d, 0, 2, 1, &nf), REASM_NEW_DATA);
	assert_int_equal(d->n_iv, REASM_MAX_INTERVALS - 1);
	assert_int_equal(add_pat(d, 0, 3000, 1, &nf), REASM_OUT_OF_ORDER);
	assert_int_equal(d->n_iv, REASM_MAX_INTERVALS);
	assert_int_equal(add_pat(d, 0, 3002, 1, &nf), REASM_DROPPED);
	assert_int_equal(d->dropped, 2);
	assert_iv_sane(d);
	/* One segment covering everything collapses the list. */
	assert_int_equal(add_pat(d, 0, 0, 3001, &nf) & ~REASM_RETRANSMIT,
			 REASM_NEW_DATA);
	assert_int_equal(d->n_iv, 1);
	assert_int_equal(d->contiguous, 3001);
	assert_pat(d, 0, 3001);
}

static void test_old_segments(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t seg[150];
	uint32_t nf = 0xdead;
	unsigned r;

	reasm_set_base(d, 1000);
	memset(seg, 0xEE, sizeof(seg));
	r = reasm_add(d, 900, seg, 50, &nf);
	assert_int_equal(r, REASM_OLD);
	r = reasm_add(d, 900, seg, 100, &nf); /* ends exactly at base */
	assert_int_equal(r, REASM_OLD);
	assert_int_equal(d->n_iv, 0);
	assert_int_equal(d->segments, 2);
	/* Straddles the base: the part before it is trimmed. */
	fill(seg + 100, 0, 50);
	r = reasm_add(d, 900, seg, 150, &nf);
	assert_int_equal(r, REASM_NEW_DATA);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 50);
	assert_pat(d, 0, 50);
}

static void test_zero_length(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t b = 0;
	uint32_t nf = 0xdead;

	assert_int_equal(reasm_add(d, 77, &b, 0, &nf), 0);
	assert_int_equal(reasm_add(d, 77, NULL, 0, &nf), 0);
	/* Hostile caller: a length with no bytes behind it. */
	assert_int_equal(reasm_add(d, 77, NULL, 100, &nf), 0);
	assert_false(d->base_set);
	assert_int_equal(d->segments, 0);
	assert_int_equal(nf, 0xdead);
	assert_null(d->buf);
}

static void test_no_base_first_seq(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf = 0xdead;

	assert_int_equal(add_pat(d, 5000, 0, 10, &nf), REASM_NEW_DATA);
	assert_true(d->base_set);
	assert_int_equal(d->base_seq, 5000);
	assert_int_equal(nf, 0);
	assert_int_equal(d->contiguous, 10);
	/* Earlier bytes seen later are before the stream start. */
	assert_int_equal(add_pat(d, 4990, 0, 10, &nf), REASM_OLD);
	assert_int_equal(add_pat(d, 5000, 10, 5, &nf), REASM_NEW_DATA);
	assert_int_equal(nf, 10);
	assert_pat(d, 0, 15);
}

static void test_set_base_after_data(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 100);
	reasm_set_base(d, 200); /* nothing stored yet: may move */
	assert_int_equal(d->base_seq, 200);
	add_pat(d, 200, 0, 10, &nf);
	reasm_set_base(d, 300); /* a late SYN must not shift stored bytes */
	assert_int_equal(d->base_seq, 200);
	assert_int_equal(add_pat(d, 200, 10, 10, &nf), REASM_NEW_DATA);
	assert_int_equal(d->contiguous, 20);
}

static void test_release(void **state)
{
	struct reasm_dir *d = *state;
	uint32_t nf;

	reasm_set_base(d, 0);
	add_pat(d, 0, 0, 10, &nf);
	add_pat(d, 0, 0, 10, &nf);
	add_pat(d, 0, 20, 10, &nf);
	reasm_release(d);
	assert_null(d->buf);
	assert_null(d->iv);
	assert_int_equal(d->n_iv, 0);
	assert_int_equal(d->segments, 3);
	assert_int_equal(d->retransmits, 1);
	assert_int_equal(d->ooo_segments, 1);
	assert_true(reasm_has_gap(d)); /* verdict can still ask */
	/* Adding after release is ignored rather than restarting the stream. */
	assert_int_equal(add_pat(d, 0, 10, 10, &nf), 0);
	assert_null(d->buf);
	reasm_release(d); /* twice is harmless */
}

static void test_null_new_from(void **state)
{
	struct reasm_dir *d = *state;

	assert_int_equal(add_pat(d, 0, 0, 10, NULL), REASM_NEW_DATA);
	assert_int_equal(add_pat(d, 0, 20, 10, NULL), REASM_OUT_OF_ORDER);
	assert_int_equal(add_pat(d, 0, 10, 10, NULL), REASM_NEW_DATA);
	assert_int_equal(d->contiguous, 30);
}

/* Many small segments in a scrambled order must still come out equal and
 * each byte must be delivered exactly once. */
static void test_scrambled_delivery(void **state)
{
	struct reasm_dir *d = *state;
	uint8_t out[2000];
	uint32_t nf, delivered = 0, x = 12345;
	uint32_t offs[200];

	for (uint32_t k = 0; k < 200; k++)
		offs[k] = k * 10;
	for (uint32_t k = 199; k > 0; k--) { /* fixed LCG shuffle */
		uint32_t t, r;

		x = x * 1103515245u + 12345u;
		r = (x >> 16) % (k + 1);
		t = offs[k];
		offs[k] = offs[r];
		offs[r] = t;
	}
	reasm_set_base(d, 0xFFFFFFFAu);
	for (uint32_t k = 0; k < 200; k++) {
		/* Length 15 overlaps the next segment by 5 equal bytes. */
		uint32_t len = offs[k] == 1990 ? 10 : 15;
		unsigned r = add_pat(d, 0xFFFFFFFAu, offs[k], len, &nf);

		assert_false(r & (REASM_OVERLAP_DIFF | REASM_DROPPED));
		if (r & REASM_NEW_DATA) {
			assert_int_equal(nf, delivered);
			memcpy(out + nf, d->buf + nf, d->contiguous - nf);
			delivered = d->contiguous;
		}
		assert_iv_sane(d);
	}
	assert_int_equal(delivered, 2000);
	for (uint32_t o = 0; o < 2000; o++)
		assert_int_equal(out[o], pat(o));
	assert_int_equal(d->overlap_diffs, 0);
}

#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, dir_setup, dir_teardown)
#define DIR_TEST_LIMIT(f, limit) \
	cmocka_unit_test_prestate_setup_teardown(f, dir_setup, dir_teardown, &(uint32_t){ limit })

int main(void)
{
	const struct CMUnitTest tests[] = {
		DIR_TEST(test_init),
		DIR_TEST(test_in_order),
		DIR_TEST(test_out_of_order),
		DIR_TEST(test_ooo_first_segment_missing),
		DIR_TEST(test_reverse_single_bytes),
		DIR_TEST(test_duplicate),
		DIR_TEST(test_overlap_diff_full),
		DIR_TEST(test_overlap_diff_head),
		DIR_TEST(test_overlap_diff_tail),
		DIR_TEST(test_overlap_spans_intervals),
		DIR_TEST(test_overlap_edges_kept),
		DIR_TEST(test_equal_spans_intervals),
		DIR_TEST(test_wraparound),
		DIR_TEST(test_wraparound_no_base),
		DIR_TEST(test_gap_hole_never_filled),
		DIR_TEST(test_gap_peer_ack_beyond),
		DIR_TEST(test_gap_nothing_captured),
		DIR_TEST(test_fin_tolerance),
		DIR_TEST(test_ack_ignored),
		DIR_TEST_LIMIT(test_ack_beyond_limit_all_held, 200),
		DIR_TEST_LIMIT(test_ack_beyond_limit_part_held, 200),
		DIR_TEST_LIMIT(test_ack_beyond_limit_one_short, 200),
		DIR_TEST_LIMIT(test_limit, 100),
		DIR_TEST_LIMIT(test_limit_huge_offsets, 100),
		DIR_TEST_LIMIT(test_limit_zero, 0),
		DIR_TEST(test_interval_cap),
		DIR_TEST(test_old_segments),
		DIR_TEST(test_zero_length),
		DIR_TEST(test_no_base_first_seq),
		DIR_TEST(test_set_base_after_data),
		DIR_TEST(test_release),
		DIR_TEST(test_null_new_from),
		DIR_TEST(test_scrambled_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
