/* out_event.h - the events output: one JSON object per flow, per line,
 * with Suricata EVE field names where they exist (see DESIGN.md and
 * tamperscope(1) "EVENTS").  Reads finished flow state only. */
#ifndef TS_OUT_EVENT_H
#define TS_OUT_EVENT_H

#include <stdio.h>

#include "flow.h"
#include "verdict.h"

struct engine;
struct out_event;

/* path "-" is stdout.  NULL and a message in err on failure. */
struct out_event *out_event_open(const char *path, char *err, size_t errlen);
/* Close and open the same path again (log rotation).  0 on success. */
int out_event_reopen(struct out_event *o, char *err, size_t errlen);
void out_event_close(struct out_event *o);
unsigned long long out_event_count(const struct out_event *o);
/* Flush buffered lines (end of run, before a report is written). */
void out_event_flush(struct out_event *o);

struct json;
/* Write one finished JSON object as a line (stats events). */
void out_event_line(struct out_event *o, const struct json *j);

struct asn_info;
struct cert_analysis;
/* ca: the flow's certificate analysis, NULL when none was made. */
void out_event_flow(struct out_event *o, const struct engine *e, const struct flow *f,
		    enum flow_end why, const struct verdict_result *vr,
		    const struct asn_info *cli_as, const struct asn_info *srv_as,
		    const struct cert_analysis *ca);

#endif
