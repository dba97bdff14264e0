/* record.h - the finished-flow record: the verdict stage's one product.
 *
 * When a flow ends (or, live, when its stall deadline passes) the verdict
 * stage decides once, applies every refinement (the certificate chain, the
 * residual window), looks both ends up (ASN) and, with
 * --anonymize-clients, cuts the client address to its network.  The result
 * is this record: immutable, complete, and the only thing any output reads
 * (see sink.h).  Outputs never see struct flow, the engine or the parsers'
 * state, so a new output is a new file pair that reads records.
 */
#ifndef TS_RECORD_H
#define TS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "asn.h"
#include "decode.h"
#include "evidbuf.h"
#include "flow.h"
#include "verdict.h"

struct tls_info;
struct quic_info;
struct cert_analysis;
struct dns_txn;
struct http_info;

#define RECORD_APP_DETAIL 64

struct flow_record {
	/* the flow */
	uint64_t flow_id;
	uint64_t first_us, last_us;      /* packet time (on the analysis clock, see clock_shift_us) */
	int64_t clock_shift_us;          /* added to this flow's capture timestamps after a
					    discontinuity of the capture clock; 0 normally */
	struct ts_addr cli, srv;         /* cli cut to /24 or /48 with --anonymize-clients */
	uint16_t cport, sport;
	uint8_t proto;                   /* 6 TCP, 17 UDP */
	uint8_t client_by;               /* enum flow_role_src: how the client was told */
	enum flow_end why;               /* FLOW_END_NONE: reported at its deadline, still open */
	uint32_t pkts[2];                /* [DIR_C2S], [DIR_S2C] */
	uint64_t bytes[2];               /* IP bytes */
	/* classification (nDPI) */
	const char *app_proto;           /* "TLS", "QUIC", "unknown": static */
	char app_detail[RECORD_APP_DETAIL]; /* nDPI's full name, e.g. "TLS.Google" */
	/* the transport's own part; NULL when the flow had none */
	const struct tls_info *tls;
	const struct quic_info *quic;    /* QUIC flows: what the Initials showed (quic.h) */
	const struct cert_analysis *cert; /* the chain's analysis, NULL when not analysed */
	const struct dns_txn *dns;       /* a DNS transaction (app_proto "DNS"), dnstxn.h */
	const struct http_info *http;    /* plain HTTP request and response, http.h */
	bool reachable;                  /* the server answered the SYN (SYN-ACK seen) */
	/* the verdict with its evidence, final */
	struct verdict_result vr;
	/* enrichment: looked up before any anonymisation */
	struct asn_info client_as, server_as;
	/* -w: the packets kept of this flow (evidbuf.h); flow NULL without -w */
	struct evid_ref evidence;
};

/* The name a flow is counted under in summaries: its SNI (bytes outside
 * printable ASCII as '?', so a hostile name cannot move a cursor), else its
 * server address and port ("198.51.100.7:443", "[2001:db8::1]:443"). */
const char *record_server_name(const struct flow_record *r, char *buf, size_t len);

/* The server name the client asked for, raw bytes (*len set), whichever
 * transport carried it (TLS over TCP, QUIC); NULL when none. */
const char *record_sni(const struct flow_record *r, size_t *len);

#endif
