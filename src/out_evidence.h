/* out_evidence.h - JSON of a flow's verdict and its evidence (field names
 * and meanings: the comment block at the top of verdict.h). */
#ifndef TS_OUT_EVIDENCE_H
#define TS_OUT_EVIDENCE_H

#include "json.h"
#include "verdict.h"

/* Top-level members "verdict", "ooni_failure" (null when none),
 * "signature" and "history" of the object being written. */
void out_verdict_json(struct json *j, const struct verdict_result *r);

/* The member "evidence": {...}; opens and closes the object itself. */
void out_evidence_json(struct json *j, const struct verdict_result *r);

#endif
