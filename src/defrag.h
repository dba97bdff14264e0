/* defrag.h - bounded IPv4 fragment reassembly (RFC 791 section 3.2).
 *
 * Holds at most `max_datagrams` partial datagrams of at most 65535 bytes
 * each; a datagram whose fragments do not all arrive within `timeout_us` of
 * packet time is dropped.  Overlapping fragments with different bytes are
 * refused (Teardrop-style ambiguity) and counted.
 */
#ifndef TS_DEFRAG_H
#define TS_DEFRAG_H

#include <stdint.h>

#include "packet.h"

struct defrag_stats {
	uint64_t fragments;      /* fragments seen */
	uint64_t reassembled;    /* datagrams completed */
	uint64_t timed_out;      /* partial datagrams dropped on timeout */
	uint64_t evicted_cap;    /* partial datagrams dropped: table full */
	uint64_t bad;            /* inconsistent fragments refused */
};

struct hseed;

/* seed: the start-up hash seed (copied). */
struct defrag *defrag_new(unsigned max_datagrams, uint64_t timeout_us,
			  const struct hseed *seed);
void defrag_free(struct defrag *df);
const struct defrag_stats *defrag_stats(const struct defrag *df);

/* Offer one IPv4 fragment.  `ip` points at the IPv4 header of `ip_len`
 * bytes (header + fragment payload, already checked against the header's
 * total length).  Returns DEC_FRAG_HELD while incomplete, DEC_OK when the
 * datagram is complete (then *out / *out_len describe a whole IPv4
 * datagram with offset 0 and MF clear, owned by df until the next call),
 * or DEC_BAD_FRAG / DEC_FRAG_CAP. */
enum decode_result defrag_add(struct defrag *df, const uint8_t *ip,
			      uint32_t ip_len, uint64_t ts_us,
			      const uint8_t **out, uint32_t *out_len);

#endif
