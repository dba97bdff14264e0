/* summary.h - per server name verdict counts for the human summary.
 *
 * Flows without an SNI are attributed to their server address ("[addr]:port"
 * style key) so IP-level blocking still shows up.  Names are hashed with
 * the run's seed (htab.h): they come from the wire.  The table is capped;
 * names past the cap are counted under "(other)" (summary_overflow).
 */
#ifndef TS_SUMMARY_H
#define TS_SUMMARY_H

#include <stdio.h>

#include "flow.h"
#include "verdict.h"

#define SUMMARY_MAX_NAMES 100000

struct summary;
struct hseed;

/* seed: the run's hash seed (engine_cfg.seed), copied; NULL: draw one. */
struct summary *summary_new(const struct hseed *seed);
void summary_free(struct summary *s);
/* The name a flow is counted under: its SNI (non-printable bytes as '?'),
 * else its server address and port. */
const char *summary_key(const struct flow *f, char *buf, size_t len);
void summary_add(struct summary *s, const struct flow *f, const struct verdict_result *vr);
/* Aligned table on out: one row per name, one column per verdict seen. */
void summary_print(const struct summary *s, FILE *out);
unsigned long long summary_overflow(const struct summary *s);

#endif
