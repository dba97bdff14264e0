/* summary.h - per server name verdict counts for the human summary: the
 * smallest output, and the model of a sink.
 *
 * Flows without an SNI are attributed to their server address ("[addr]:port"
 * style key) so IP-level blocking still shows up.  The table is capped;
 * names past the cap are counted under "(other)".
 */
#ifndef TS_SUMMARY_H
#define TS_SUMMARY_H

#include <stdio.h>

#include "sink.h"

#define SUMMARY_MAX_NAMES 100000

struct hseed;

/* The summary sink: counts every record, prints its table on `out` at the
 * end of the run (and on SIGUSR1).  seed: the run's hash seed, copied
 * (NULL: draw one). */
struct sink summary_sink(FILE *out, const struct hseed *seed);

#endif
