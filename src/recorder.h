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
struct dnsmap;
struct blockpages;
struct dns_txn;
struct dns_response;

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
	struct dnsmap *dnsmap;           /* names and addresses of DNS answers, NULL: none */
	const struct blockpages *bp;     /* known blockpages (--blockpages), NULL: none */
	char dns_name[256];              /* the record's name_from_dns */
};

/* The record of flow f, which ended for `why` with the verdict vr, in two
 * steps.  record_local: what f alone says - its fields, names, the chain
 * (validated at the ServerHello's packet time) and the HTTP refinement;
 * out->tls and out->cert point into f and rc, valid until the flow is freed
 * and the next record is built.  It uses rc's vcfg, cls, certs, ca and bp
 * only.  record_shared, in the order flows end: what spans flows - the
 * certificate name memory (ca: the chain's analysis, its hints completed;
 * NULL if none), each server's TTL, residual blocking, scanners, networks,
 * DNS names - and the client address cut last. */
void record_local(struct recorder *rc, const struct flow *f, enum flow_end why,
		  const struct verdict_result *vr, uint64_t now_us, struct flow_record *out);
void record_shared(struct recorder *rc, const struct flow *f, struct cert_analysis *ca,
		   uint64_t now_us, struct flow_record *out);

/* ---- DNS and plain HTTP (recorder.c) ------------------------------- */

/* The record of a finished DNS transaction, decided as vr (verdict_dns.h).
 * out->dns points to t: valid during the transaction's callback. */
void record_build_dns(struct recorder *rc, const struct dns_txn *t, int why,
		      const struct verdict_result *vr, struct flow_record *out);
/* A response with addresses: into the name map. */
void record_dns_answer(struct recorder *rc, const struct dns_txn *t,
		       const struct dns_response *r);
/* A plain HTTP flow's verdict (verdict_http.h) over its TCP one. */
void record_http_refine(struct recorder *rc, const struct flow *f, uint64_t now_us,
			struct flow_record *out);
/* What the name map says of a TCP flow: name_from_dns, and for a forged or
 * untrusted certificate whether DNS sent the client there (after the
 * networks are looked up). */
void record_dns_link(struct recorder *rc, const struct flow *f, struct flow_record *out);
/* The name a record is counted under: its SNI, else the HTTP Host, else
 * the DNS question, else name_from_dns; NULL when none. */
const char *record_name(const struct flow_record *r, size_t *len);

#endif
