/* out_quic.h - a QUIC flow's "quic" event object and the QUIC stage's
 * end-of-run counters.  Reads records and counters only. */
#ifndef TS_OUT_QUIC_H
#define TS_OUT_QUIC_H

#include <stdio.h>

#include "json.h"
#include "quic.h"
#include "record.h"

/* The "quic" member of r's event (r->quic set). */
void out_quic_json(struct json *j, const struct flow_record *r);

/* One line of what the QUIC stage opened, failed and capped. */
void out_quic_print_stats(FILE *out, const struct quic_stats *st);

#endif
