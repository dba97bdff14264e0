/* reasm.h - TCP stream reassembly of the handshake region, one direction
 * (RFC 793 section 3.3 and 3.9 "SEGMENT ARRIVES"; RFC 9293 section 3.10.7).
 *
 * Only the first `limit` bytes of a direction are reassembled: that is
 * where the ClientHello, ServerHello and certificates live, and stopping
 * there keeps per-flow memory bounded.  Bytes are kept in one flat buffer
 * indexed by stream offset (offset 0 = the byte after the SYN, or the first
 * payload byte seen when the capture starts mid-stream); which bytes are
 * present is a sorted list of merged intervals.  Data arriving out of order
 * is stored at its offset and delivered once the hole before it fills.
 *
 * Overlapping data is compared with what is already held: equal bytes are a
 * retransmission, different bytes are recorded as evidence (a classic sign
 * of packet injection).  The first copy is kept.  Holes that never fill and
 * peer ACKs for bytes never seen mark the direction as having a gap, so a
 * verdict can say `incomplete` instead of guessing.
 */
#ifndef TS_REASM_H
#define TS_REASM_H

#include <stdbool.h>
#include <stdint.h>

/* Caps: each one has a counter in struct reasm_dir/reasm_stats that moves
 * when it is hit.  The interval cap bounds the work per segment: otherwise a
 * peer sending alternating one-byte segments would make every insert walk an
 * unbounded list. */
#define REASM_MAX_INTERVALS 512

struct reasm_interval {
	uint32_t start, end; /* [start, end) stream offsets present in buf */
};

/* Result bits of reasm_add. */
enum {
	REASM_NEW_DATA = 0x01,    /* new in-order bytes became available */
	REASM_RETRANSMIT = 0x02,  /* some bytes were already held, and equal */
	REASM_OVERLAP_DIFF = 0x04,/* some bytes were already held, and differ */
	REASM_OUT_OF_ORDER = 0x08,/* stored beyond a hole */
	REASM_BEYOND_LIMIT = 0x10,/* some bytes fell past the region limit */
	REASM_DROPPED = 0x20,     /* interval cap hit: segment not stored */
	REASM_OLD = 0x40,         /* entirely before the stream start */
};

struct reasm_dir {
	uint32_t base_seq;       /* sequence number of stream offset 0 */
	uint32_t limit;          /* region size in bytes */
	uint32_t contiguous;     /* bytes [0, contiguous) present and delivered */
	uint32_t highest_end;    /* highest offset+len ever stored */
	uint32_t peer_acked;     /* highest offset the peer ACKed (0 = none) */
	uint8_t *buf;            /* stream bytes, grows up to limit */
	uint32_t buf_cap;
	struct reasm_interval *iv; /* present intervals, sorted, merged */
	uint16_t n_iv, iv_cap;
	uint8_t base_set;        /* base_seq known */
	uint8_t limit_reached;   /* data beyond the limit was seen */
	uint32_t segments;       /* data segments offered */
	uint32_t retransmits;    /* segments that repeated held bytes */
	uint32_t overlap_diffs;  /* segments whose overlap differed */
	uint32_t first_diff_off; /* stream offset of the first differing byte */
	uint32_t ooo_segments;   /* segments stored beyond a hole */
	uint32_t dropped;        /* segments refused by the interval cap */
};

void reasm_init(struct reasm_dir *d, uint32_t limit);
/* Free buffers; the counters stay readable. */
void reasm_release(struct reasm_dir *d);

/* Stream offset 0 is the sequence number after the SYN: call with isn+1. */
void reasm_set_base(struct reasm_dir *d, uint32_t base_seq);

/* Offer a segment's payload.  If no base is set yet, `seq` becomes the base
 * (capture started mid-stream).  Returns REASM_* bits.  When REASM_NEW_DATA
 * is set, the newly contiguous bytes are d->buf[*new_from .. d->contiguous). */
unsigned reasm_add(struct reasm_dir *d, uint32_t seq, const uint8_t *data,
		   uint32_t len, uint32_t *new_from);

/* The other direction acknowledged `ack`: remember how far the peer
 * received, so bytes acknowledged but never captured show up as a gap. */
void reasm_note_peer_ack(struct reasm_dir *d, uint32_t ack);

/* Did the peer acknowledge everything up to stream offset `off`? */
bool reasm_peer_acked(const struct reasm_dir *d, uint32_t off);

/* True when bytes are missing inside what was seen or acknowledged: a hole
 * below highest_end, or peer_acked beyond the bytes captured (within the
 * region limit). */
bool reasm_has_gap(const struct reasm_dir *d);

/* Stream offset of a sequence number (wrap-safe); false if before base. */
bool reasm_offset(const struct reasm_dir *d, uint32_t seq, uint32_t *off);

#endif
