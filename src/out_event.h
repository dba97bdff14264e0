/* out_event.h - the events output: one JSON object per flow, per line,
 * with Suricata EVE field names where they exist (see DESIGN.md and
 * tamperscope(1) "EVENTS").  A sink: reads finished-flow records only. */
#ifndef TS_OUT_EVENT_H
#define TS_OUT_EVENT_H

#include <stddef.h>

#include "record.h"
#include "sink.h"

struct json;
struct out_event;

/* path "-" is stdout.  NULL and a message in err on failure. */
struct out_event *out_event_open(const char *path, char *err, size_t errlen);
/* The events sink over an opened writer (the sink owns it from then on):
 * a line per flow, the end-of-run tls_consistency lines, flushes on every
 * service tick and before a report, reopens the file on SIGHUP. */
struct sink out_event_sink(struct out_event *o);

/* Write one finished JSON object as a line (the stats events share the
 * stream). */
void out_event_line(struct out_event *o, const struct json *j);
/* One flow's event line. */
void out_event_record(struct out_event *o, const struct flow_record *r);
unsigned long long out_event_count(const struct out_event *o);

#endif
