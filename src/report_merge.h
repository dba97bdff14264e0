/* report_merge.h - `tamperscope merge`: combine JSON reports of several
 * sensors or files into one and recompute the conclusions.
 *
 * Each input must be a report tamperscope wrote (--report-json, format
 * "tamperscope-report" version 1) with the same time bucket.  The raw
 * counts, first/last times and bucket counts are summed (min/max for the
 * times), never the derived shares, so merge(A, B) equals one run over the
 * inputs of A and B together.  Inputs are untrusted: read with the strict
 * bounded reader (jsonread.h) and checked for consistency (verdict counts
 * add up to flows, times ordered, buckets aligned and sorted); a bad input
 * stops the merge with the reason, nothing is half-merged silently.
 */
#ifndef TS_REPORT_MERGE_H
#define TS_REPORT_MERGE_H

#include <stddef.h>

#include "report.h"

/* Merge one JSON report text into *r.  When *r is NULL it is created from
 * cfg with the input's time bucket.  0, or -1 with err set; then *r may
 * hold part of the input and must be discarded (report_free). */
int report_merge_text(struct report **r, const struct report_cfg *cfg, const char *text,
		      size_t len, char *err, size_t errlen);

/* The same for a file ("-": standard input). */
int report_merge_file(struct report **r, const struct report_cfg *cfg, const char *path,
		      char *err, size_t errlen);

/* `tamperscope merge A.json B.json ... [--report-json OUT] [--report-csv OUT]
 * [--min-flows N] [--test-list FILE] [-q]`; argv[0] is "merge".  Returns
 * the exit status: 0, 1 on a bad input or write error, 2 on bad usage. */
int report_merge_main(int argc, char **argv);

#endif
