/* recorder.h - what the verdict stage needs to turn a finished flow into
 * its record (recorder.c): the refinements' state and the enrichment. */
#ifndef TS_RECORDER_H
#define TS_RECORDER_H

#include <stdbool.h>

#include "flow.h"
#include "record.h"
#include "verdict.h"

struct classify;
struct cert_ctx;
struct cert_analysis;
struct residual_table;
struct asn_db;
struct scanners;
struct servers;

struct recorder {
	const struct verdict_cfg *vcfg;
	struct classify *cls;            /* application names */
	struct cert_ctx *certs;          /* NULL: chains are not analysed */
	struct cert_analysis *ca;        /* the flow being recorded (about 22 KB: not on the stack) */
	struct residual_table *residual;
	struct asn_db *asn;              /* NULL: no lookups */
	struct scanners *scanners;       /* who is scanning */
	struct servers *servers;         /* each server's own TTL, across flows */
	bool anonymize_clients;          /* --anonymize-clients */
};

/* The record of flow f, which ended for `why` with the TCP verdict vr
 * (verdict_decide).  out->tls and out->cert point into f and rc: valid
 * until the flow is freed and the next record is built. */
void record_build(struct recorder *rc, const struct flow *f, enum flow_end why,
		  const struct verdict_result *vr, uint64_t now_us, struct flow_record *out);

#endif
