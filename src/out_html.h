/* out_html.h - the report as one self-contained HTML page (--html FILE,
 * also `tamperscope merge --html FILE`): the networks table, the blocked
 * domains per network with method, confidence and a "how we know" line of
 * the evidence counts behind each conclusion, a domain x network timeline
 * in the manner of OONI Explorer's MAT chart, a stacked bar chart of the
 * verdict mix per network and the interception-CA findings with their
 * chains.
 *
 * No scripts, fonts, images or links to anything outside the file: charts
 * are inline SVG drawn here, so the page opens offline, from an email
 * attachment, years later.  Every number comes from the same finalised
 * struct report that --report-json writes; table rows carry them as
 * data-* attributes too, so a test can hold the page to the JSON.
 */
#ifndef TS_OUT_HTML_H
#define TS_OUT_HTML_H

#include <stddef.h>

#include "report.h"

struct certstats;
struct icptfind;

struct out_html_extra {
	const struct icptfind *icpt;     /* forged chains seen, NULL: none known (merge) */
	const struct certstats *cs;      /* cross-network certificate conclusions, NULL: none */
	const char *source;              /* what was analysed, for the header ("3 capture files") */
};

/* Write the page for a finalised report.  0, or -1 with err set. */
int out_html_write(const struct report *r, const struct out_html_extra *x, const char *path,
		   char *err, size_t errlen);

#endif
