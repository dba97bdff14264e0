/* residual.h - residual blocking: remember where interference was seen, so
 * a failure soon after a block of the same client, server address, port and
 * transport (TCP or UDP: a QUIC block says nothing of TCP) is marked residual (verdict.h, evidence field "residual").
 *
 * Censors often keep blocking a (client, server, port) triple for a while
 * after the trigger (minutes on some networks), so a later flow can fail
 * without carrying the trigger itself.  At most `cap` blocks are
 * remembered; when full, the block recorded or renewed longest ago is
 * forgotten to make room.  Triples come from the wire, so the table is an
 * htab keyed with the start-up seed.
 */
#ifndef TS_RESIDUAL_H
#define TS_RESIDUAL_H

#include <stdint.h>

#include "verdict.h"

struct hseed;
struct residual_table;

struct residual_stats {
	uint64_t recorded;       /* blocked flows remembered */
	uint64_t evicted;        /* remembered blocks still inside the window,
				  * dropped by the cap (or a full probe window) */
	uint64_t residual;       /* flows marked residual */
};

/* At most cap blocks (at least 1); seed: the start-up hash seed (copied). */
struct residual_table *residual_new(unsigned cap, const struct hseed *seed);
void residual_free(struct residual_table *rt);

/* At flow end: mark vr->residual when this failed flow started within
 * cfg->residual_us after a blocked flow of the same client, server and
 * port; remember this flow if it was blocked. */
void residual_apply(struct residual_table *rt, const struct verdict_cfg *cfg,
		    const struct flow *f, struct verdict_result *vr);
const struct residual_stats *residual_stats(const struct residual_table *rt);

#endif
