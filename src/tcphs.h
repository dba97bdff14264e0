/* tcphs.h - the handshake region of a TCP flow: both directions reassembled
 * (reasm.h), the TLS parser of each fed as bytes become contiguous
 * (tls.h), after a plaintext preamble where one is recognised (STARTTLS,
 * CONNECT, SOCKS, PROXY: preamble.h), and the moment nothing more in the
 * region can change the verdict.
 *
 * Only the handshake region is expensive: the engine keeps a struct flow_hs
 * on a flow while its verdict is open and releases it (tcphs_release) as
 * soon as tcphs_finished says so; later packets cost a lookup and counters.
 */
#ifndef TS_TCPHS_H
#define TS_TCPHS_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"

/* A preamble is looked for at most this many times per flow (each time new
 * bytes arrive while it is undecided): otherwise a chatty plaintext flow
 * would rescan its first bytes on every small segment. */
#define TCPHS_PREAMBLE_TRIES 64

struct tcphs_stats {
	uint64_t tls_errors;         /* directions whose TLS parsing stopped on an error */
	uint64_t reasm_overlap_diffs;/* overlapping segments with different bytes */
	uint64_t reasm_dropped;      /* segments the interval cap refused */
	uint64_t preambles;          /* flows whose TLS began after a plaintext preamble */
};

struct flow_hs;

/* NULL when out of memory.  reasm_limit: bytes reassembled per direction. */
struct flow_hs *tcphs_new(uint32_t reasm_limit);

/* One TCP packet of f in direction dir.  *reasm_bits receives what
 * reassembly said of its payload; returns the TLS_EV_* bits the packet
 * completed (the caller times a ClientHello). */
unsigned tcphs_packet(struct flow_hs *hs, struct flow *f, const struct ts_packet *p, int dir,
		      unsigned *reasm_bits, struct tcphs_stats *st);

/* Has the handshake progressed far enough that nothing more in the region
 * can change the verdict? */
bool tcphs_finished(const struct flow_hs *hs, const struct flow *f);

/* Does direction dir have a hole (bytes missing, or acknowledged but never
 * captured)? */
bool tcphs_gap(const struct flow_hs *hs, int dir);

/* Keep what the verdict needs (gaps, overlap differences) in f, count, and
 * free the region. */
void tcphs_release(struct flow_hs *hs, struct flow *f, struct tcphs_stats *st);

#endif
