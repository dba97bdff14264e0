/* out_report.h - the report outputs: human text summary, JSON and CSV.
 *
 * All three read a finalised struct report (report_finalize) and never
 * hold client addresses.  The JSON is the exchange format that `merge`
 * reads back: it stores the raw counts, first/last times and bucket counts
 * next to every derived value, so merged reports recompute conclusions
 * exactly (format "tamperscope-report", format_version 1; see
 * tamperscope(1) REPORT FORMATS).  Output is deterministic: entries are
 * sorted and nothing depends on the wall clock.
 */
#ifndef TS_OUT_REPORT_H
#define TS_OUT_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "report.h"
#include "sink.h"

#define REPORT_FORMAT_NAME "tamperscope-report"
#define REPORT_FORMAT_VERSION 1

/* Aligned tables: networks, blocked domains per network with method and
 * confidence, categories when a test list was loaded. */
void out_report_text(const struct report *r, FILE *out);

/* The report as one JSON document (appended to j). */
void out_report_json(const struct report *r, struct json *j);

/* One row per network x domain, with a header row (RFC 4180). */
void out_report_csv(const struct report *r, FILE *out);

/* Write to a file ("-": stdout).  0, or -1 with err set. */
int out_report_write_json(const struct report *r, const char *path, char *err,
			  size_t errlen);
int out_report_write_csv(const struct report *r, const char *path, char *err,
			 size_t errlen);

/* The report sink: every record is counted into a report made from cfg;
 * at the end of the run the cross-network certificate consistency moves
 * the flows it concludes intercepted from tls_untrusted_cert to tls_mitm
 * (a second pass over the report's own counts), then the conclusions are
 * drawn and written; SIGUSR1 writes them as they stand. */
struct out_report_opts {
	const char *json_path;         /* --report-json, NULL: none ("-": stdout) */
	const char *csv_path;          /* --report-csv, NULL: none */
	FILE *text;                    /* the aligned tables, NULL: none */
	bool certs;                    /* chains are analysed: the JSON lists cert_consistency */
	const char *html_path;         /* --html: the page (out_html.h), NULL: none */
};
/* What the report counts of one record (also for outputs that must key
 * flows as the report does).  rf points into rec. */
void out_report_flow_of(const struct flow_record *rec, struct report_flow *rf);

struct sink out_report_sink(const struct report_cfg *cfg, const struct out_report_opts *o);

#endif
