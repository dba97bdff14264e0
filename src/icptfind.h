/* icptfind.h - interception-CA findings for the HTML page: per client
 * network and forged chain (the interception CA's label and the chain's
 * subjects and issuers), how many flows and which names, gathered from the
 * finished-flow records whose chain matched a known interception CA.
 *
 * The report counts tls_mitm flows; this keeps the chain that shows why.
 * Bounded: ICPTFIND_MAX findings, ICPTFIND_NAMES names each, CERT_MAX_CHAIN
 * certificates per chain kept as text; what does not fit is counted.
 */
#ifndef TS_ICPTFIND_H
#define TS_ICPTFIND_H

#include <stddef.h>
#include <stdint.h>

struct flow_record;

#define ICPTFIND_MAX 256
#define ICPTFIND_NAMES 8
#define ICPTFIND_CHAIN 6
#define ICPTFIND_TEXT 160

struct icpt_finding {
	uint32_t asn;
	char org[ICPTFIND_TEXT];
	char label[ICPTFIND_TEXT];       /* the interception CA's label from the list */
	const char *match;               /* "fingerprint" or "name" */
	char subject[ICPTFIND_CHAIN][ICPTFIND_TEXT], issuer[ICPTFIND_CHAIN][ICPTFIND_TEXT];
	unsigned n_chain;
	unsigned match_cert;             /* chain index of the certificate that matched */
	uint64_t flows;
	char names[ICPTFIND_NAMES][ICPTFIND_TEXT];
	unsigned n_names;
	uint64_t names_dropped;
};

struct icptfind {
	struct icpt_finding f[ICPTFIND_MAX];
	size_t n;
	uint64_t flows_dropped;          /* flows of findings past ICPTFIND_MAX */
};

/* Count a record whose chain matched a known interception CA (others are
 * ignored). */
void icptfind_add(struct icptfind *fs, const struct flow_record *r);

#endif
