/* out_cert.h - JSON for the certificate analysis: members of an event's "tls" object, the end-of-run
 * "tls_consistency" events and report entries, and the counters block. */
#ifndef TS_OUT_CERT_H
#define TS_OUT_CERT_H

#include <stdint.h>
#include <stdio.h>

struct cert_analysis;
struct cert_stats;
struct certstats;
struct certstats_finding;
struct certstats_stats;
struct json;
struct out_cert_memo;

/* Members of the event's "tls" object (call between json_obj_open(j, "tls") and its close):
 *   chain[] {parsed, sha1, sha256, spki_sha256, subject, issuer, serial, not_before, not_after, san[],
 *            san_total, key, rsa_exponent, ca, version, missing_extensions[] (leaf)}, chain_truncated,
 *   trust, trust_reason, trust_code, trust_errors[] {code, depth, reason}, name_check, validated_at,
 *   interception_ca, match, match_cert, match_field, match_confidence, forgery_hints[]. */
void out_cert_tls_members(struct json *j, const struct cert_analysis *ca, struct out_cert_memo *memo);

/* The certificates' objects already written, for a writer of many events (out_cert_tls_members: NULL
 * writes each one anew, with the same bytes).  NULL when out of memory. */
struct out_cert_memo *out_cert_memo_new(void);
void out_cert_memo_free(struct out_cert_memo *m);

/* Members describing one (network, name) conclusion: for a report's by_domain_network entry or an event. */
void out_cert_finding_members(struct json *j, const struct certstats_finding *f);

/* One complete top-level object (the caller resets j first and writes the line):
 * {"timestamp", "event_type":"tls_consistency", "sni", "client_asn", "verdict":"tls_mitm"|null,
 *  "match":"inconsistent"|null, "confidence", ..., "flow_ids":[...]}.  ts_us: the packet clock at the end. */
void out_cert_consistency_event(struct json *j, const struct certstats_finding *f, uint64_t ts_us);

/* Array `key` of every notable (network, name) pair, for the JSON report. */
void out_cert_consistency_array(struct json *j, const char *key, const struct certstats *cs);

/* Counter lines for the end-of-run block on stderr ("tamperscope:   ..." lines, only non-zero caps). */
void out_cert_print_stats(FILE *out, const struct cert_stats *st, const struct certstats_stats *cst);

#endif
