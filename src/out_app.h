/* out_app.h - the application-layer objects of flow events: "dns" (a DNS
 * transaction) and "http" (a plain HTTP exchange). */
#ifndef TS_OUT_APP_H
#define TS_OUT_APP_H

#include "json.h"
#include "record.h"

/* The record's dns / http members, when it has them. */
void out_app_json(struct json *j, const struct flow_record *r);

/* Evidence members of DNS and HTTP verdicts and of DNS answers
 * (name_from_dns, mitm_cause, blockpage, http_*): inside "evidence". */
void out_app_evidence(struct json *j, const struct verdict_result *vr);

#endif
