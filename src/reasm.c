/* reasm.c - TCP stream reassembly of the handshake region, one direction
 * (RFC 793 section 3.3 and 3.9 "SEGMENT ARRIVES"; RFC 9293 section 3.10.7.4).
 *
 * Segment payloads are trimmed to the window [base, base + limit), stored in
 * a flat buffer at their stream offset, and recorded in a sorted list of
 * merged [start, end) intervals.  Where a segment overlaps bytes already
 * held, the held bytes win (first copy kept) and the overlap is compared so
 * that injected data with different content becomes evidence.  All offset
 * arithmetic that adds a length is done in 64 bits so it cannot wrap.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "reasm.h"
#include "seq.h"
#include "util.h"

/* Buffer growth starts here and doubles: most handshake regions are a few
 * KB, so small flows stay small and large ones need only a few reallocs. */
#define REASM_BUF_MIN 1024u
#define REASM_IV_MIN 8u

/* ACKs further than this beyond the base are not believed: a real peer
 * cannot have received a gigabyte of a region we cap at a few KB, so such an
 * ACK is noise (or belongs to another connection) and would fake a gap. */
#define REASM_ACK_SANE (1u << 30)

void reasm_init(struct reasm_dir *d, uint32_t limit)
{
	memset(d, 0, sizeof(*d));
	d->limit = limit;
}

void reasm_release(struct reasm_dir *d)
{
	free(d->buf);
	free(d->iv);
	d->buf = NULL;
	d->iv = NULL;
	d->buf_cap = 0;
	d->n_iv = 0;
	d->iv_cap = 0;
}

/* A released direction that once held data must not start over: its
 * contiguous/highest_end no longer match an (empty) interval list. */
static bool reasm_is_released(const struct reasm_dir *d)
{
	return d->iv == NULL && d->highest_end > 0;
}

void reasm_set_base(struct reasm_dir *d, uint32_t base_seq)
{
	/* Once bytes are stored at offsets from the old base, moving the base
	 * would silently shift them; a late or repeated SYN must not do that. */
	if (d->base_set && (d->highest_end > 0 || d->n_iv > 0))
		return;
	if (d->base_set && d->base_seq != base_seq)
		d->peer_acked = 0; /* ACK offsets were relative to the old base */
	d->base_seq = base_seq;
	d->base_set = 1;
}

bool reasm_offset(const struct reasm_dir *d, uint32_t seq, uint32_t *off)
{
	if (!d->base_set || seq_lt(seq, d->base_seq))
		return false;
	*off = seq_diff(d->base_seq, seq);
	return true;
}

/* Make room for stream offsets [0, end); end <= limit. */
static bool reasm_grow_buf(struct reasm_dir *d, uint32_t end)
{
	return bytes_reserve(&d->buf, &d->buf_cap, end, REASM_BUF_MIN, d->limit);
}

static bool reasm_grow_iv(struct reasm_dir *d, unsigned need)
{
	unsigned cap = d->iv_cap ? d->iv_cap : REASM_IV_MIN;
	struct reasm_interval *ni;

	if (need <= d->iv_cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > REASM_MAX_INTERVALS)
		cap = REASM_MAX_INTERVALS;
	ni = realloc(d->iv, cap * sizeof(*ni));
	if (ni == NULL)
		return false;
	d->iv = ni;
	d->iv_cap = (uint16_t)cap;
	return true;
}

/* Bytes [off, off+n) of the segment, relative to its first byte `s`.
 * Goes through the cursor so a miscomputed range fails instead of
 * reading past the payload. */
static const uint8_t *seg_bytes(struct cursor seg, uint32_t rel, uint32_t n)
{
	struct cursor sub;

	if (!cur_skip(&seg, rel) || !cur_sub(&seg, n, &sub))
		return NULL;
	return sub.p;
}

/* Compare the segment [s, e) with the held intervals iv[i..j).  Returns
 * REASM_RETRANSMIT when held bytes were repeated exactly, REASM_OVERLAP_DIFF
 * when any differ (with *diff_off the lowest differing offset), 0 when the
 * segment overlaps nothing. */
static unsigned reasm_compare(const struct reasm_dir *d, struct cursor seg,
			      uint32_t s, uint32_t e, unsigned i, unsigned j,
			      uint32_t *diff_off)
{
	unsigned res = 0;

	for (unsigned k = i; k < j; k++) {
		uint32_t os = d->iv[k].start > s ? d->iv[k].start : s;
		uint32_t oe = d->iv[k].end < e ? d->iv[k].end : e;
		const uint8_t *p;

		if (os >= oe)
			continue; /* merely adjacent */
		p = seg_bytes(seg, os - s, oe - os);
		if (p == NULL)
			continue;
		if (memcmp(p, d->buf + os, oe - os) == 0) {
			res |= REASM_RETRANSMIT;
			continue;
		}
		for (uint32_t o = os; o < oe; o++) {
			if (p[o - os] != d->buf[o]) {
				*diff_off = o;
				return REASM_OVERLAP_DIFF;
			}
		}
	}
	return res;
}

/* Copy segment bytes into the holes of [s, e) between iv[i..j); held
 * bytes are left alone.  Returns the number of new bytes written. */
static uint32_t reasm_fill(struct reasm_dir *d, struct cursor seg, uint32_t s,
			   uint32_t e, unsigned i, unsigned j)
{
	uint32_t cur = s, added = 0;

	for (unsigned k = i; k <= j; k++) {
		uint32_t stop = k < j && d->iv[k].start < e ? d->iv[k].start : e;
		const uint8_t *p;

		if (stop > cur) {
			p = seg_bytes(seg, cur - s, stop - cur);
			if (p != NULL) {
				memcpy(d->buf + cur, p, stop - cur);
				added += stop - cur;
			}
		}
		if (k < j && d->iv[k].end > cur)
			cur = d->iv[k].end;
		if (cur >= e)
			break;
	}
	return added;
}

/* Replace iv[i..j) by one interval covering them and [s, e). */
static void reasm_merge(struct reasm_dir *d, uint32_t s, uint32_t e,
			unsigned i, unsigned j)
{
	struct reasm_interval m = { s, e };

	if (j > i) {
		if (d->iv[i].start < m.start)
			m.start = d->iv[i].start;
		if (d->iv[j - 1].end > m.end)
			m.end = d->iv[j - 1].end;
	}
	/* Shift the tail so exactly one slot stands where i..j was. */
	memmove(&d->iv[i + 1], &d->iv[j], (d->n_iv - j) * sizeof(d->iv[0]));
	d->iv[i] = m;
	d->n_iv = (uint16_t)(d->n_iv - (j - i) + 1);
}

/* Store the clipped segment [s, e), s < e <= limit. */
static unsigned reasm_store(struct reasm_dir *d, struct cursor seg, uint32_t s,
			    uint32_t e, uint32_t *new_from)
{
	unsigned i = 0, j, res;
	uint32_t diff_off = 0, added, old_contig = d->contiguous;

	/* iv[i..j) touch [s, e): they overlap it or are adjacent to it. */
	while (i < d->n_iv && d->iv[i].end < s)
		i++;
	j = i;
	while (j < d->n_iv && d->iv[j].start <= e)
		j++;
	if ((unsigned)d->n_iv - (j - i) + 1 > REASM_MAX_INTERVALS ||
	    !reasm_grow_iv(d, d->n_iv - (j - i) + 1) || !reasm_grow_buf(d, e)) {
		d->dropped++;
		return REASM_DROPPED;
	}
	res = reasm_compare(d, seg, s, e, i, j, &diff_off);
	if (res & REASM_OVERLAP_DIFF) {
		if (d->overlap_diffs++ == 0)
			d->first_diff_off = diff_off;
		res = REASM_OVERLAP_DIFF; /* differing content is not a retransmit */
	} else if (res & REASM_RETRANSMIT) {
		d->retransmits++;
	}
	added = reasm_fill(d, seg, s, e, i, j);
	reasm_merge(d, s, e, i, j);
	if (e > d->highest_end)
		d->highest_end = e;
	if (d->iv[0].start == 0 && d->iv[0].end > d->contiguous) {
		d->contiguous = d->iv[0].end;
		if (new_from != NULL)
			*new_from = old_contig;
		res |= REASM_NEW_DATA;
	}
	if (added > 0 && d->contiguous < e) {
		d->ooo_segments++;
		res |= REASM_OUT_OF_ORDER;
	}
	return res;
}

unsigned reasm_add(struct reasm_dir *d, uint32_t seq, const uint8_t *data,
		   uint32_t len, uint32_t *new_from)
{
	struct cursor seg = cur_make(data, len), clip;
	uint32_t off, lead;
	uint64_t end;
	unsigned res = 0;

	if (cur_left(&seg) == 0 || reasm_is_released(d))
		return 0;
	if (!d->base_set)
		reasm_set_base(d, seq);
	d->segments++;
	if (seq_lt(seq, d->base_seq)) {
		/* Bytes before the stream start belong to no offset: trim them. */
		lead = seq_diff(seq, d->base_seq);
		if (!cur_skip(&seg, lead) || cur_left(&seg) == 0)
			return REASM_OLD;
		off = 0;
	} else {
		off = seq_diff(d->base_seq, seq);
	}
	end = (uint64_t)off + cur_left(&seg);
	if (end > d->limit) {
		d->limit_reached = 1;
		res |= REASM_BEYOND_LIMIT;
		if (off >= d->limit)
			return res;
		end = d->limit;
		if (!cur_sub(&seg, (size_t)(end - off), &clip))
			return res;
		seg = clip;
	}
	return res | reasm_store(d, seg, off, (uint32_t)end, new_from);
}

void reasm_note_peer_ack(struct reasm_dir *d, uint32_t ack)
{
	uint32_t off;

	if (!reasm_offset(d, ack, &off) || off > REASM_ACK_SANE)
		return;
	if (off > d->peer_acked)
		d->peer_acked = off;
}

bool reasm_peer_acked(const struct reasm_dir *d, uint32_t off)
{
	return d->peer_acked >= off;
}

bool reasm_has_gap(const struct reasm_dir *d)
{
	if (d->contiguous < d->highest_end)
		return true; /* a hole below data we hold */
	if (d->contiguous >= d->limit)
		return false; /* everything in the region is here */
	/* The peer ACKed bytes we never saw.  One sequence slot beyond the
	 * data is tolerated: a FIN consumes one and carries no byte. */
	return (uint64_t)d->peer_acked > (uint64_t)d->contiguous + 1;
}
