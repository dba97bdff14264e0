/* report.h - per-network statistics and blocking conclusions (the report).
 *
 * Flow verdicts are counted, on packet time, per network (the client's
 * ASN), per network x server name and per server name.  A flow without an
 * SNI is attributed to its server address ("198.51.100.7:443",
 * "[2001:db8::1]:443"), and only when its verdict is ok or a failure (a
 * no-SNI incomplete / not_tls / client_abort flow would only add noise:
 * it still counts for its network).  Server names are lower-cased, a
 * trailing dot dropped, bytes outside printable ASCII shown as '?'.
 *
 * Every flow costs three hash lookups (htab.h, keyed with the run's seed)
 * and a bucket increment (amortised O(1)); memory is capped (report_cfg.max_bytes) and every refusal is
 * counted.  Only raw counts, first/last times and bucket counts are
 * stored, so reports of several sensors merge exactly (report_merge.c) and
 * conclusions are recomputed from the sum.
 *
 * ==== Blocking conclusion, per network N x name D (report_finalize) ====
 *
 *   m  measured flows: ok + failures (incomplete, not_tls, client_abort
 *      say nothing about blocking and are left out)
 *   k  anomalies: interference verdicts (tls_stall, tls_reset, syn_timeout,
 *      syn_reset, tls_mitm)
 *   a  anomaly share k / m
 *   method  the interference verdict with most flows (ties: the first in
 *      verdict order); c = its flows / k, the consistency
 *   S  sample factor m / (m + 2): 3 flows 0.6, 10 flows 0.83, 30 flows 0.94
 *   X  cross-network factor: 1.0 when D had ok flows on another network
 *      (the name works elsewhere: the failure is local to N); 0.5 when D
 *      was measured on other networks and never ok there (the server may
 *      just be down); 0.75 when D was seen on N only
 *
 *   confidence = a * c * S * X                       (in [0, 1])
 *
 *   status  no_data       m = 0
 *           ok            a <= 1/10
 *           blocked       m >= min_flows (--min-flows, 3), a >= 3/5, c >= 3/5,
 *                         and, when the method is syn_timeout or syn_reset,
 *                         corroborated (below)
 *           inconclusive  otherwise (too few flows, mixed failures, a
 *                         middling anomaly share, or uncorroborated)
 *   The threshold tests use integer arithmetic (5k >= 3m, ...), so a
 *   share exactly at a threshold passes it.
 *
 *   QUIC next to TLS over TCP.  A pair with quic_stall flows is judged per
 *   transport: QUIC's measured flows are its ok and quic_stall flows, TLS
 *   over TCP's the rest.  When QUIC alone would be blocked (at least
 *   min_flows QUIC flows, quic_stall share >= 3/5) and TLS over TCP to the
 *   same name works on the same network (measured, anomaly share <= 1/10),
 *   the pair is blocked with method quic_stall and the TCP successes as its
 *   evidence (tcp_ok_flows); they also say the server is up, so the cross
 *   factor is 1.0 and the consistency QUIC's own (1.0).  When TLS over TCP
 *   is blocked too by its own rule, the pair is blocked with both methods
 *   (TCP's first) and the lower of the two transports' a * c * S times X.
 *   Otherwise the mixed conclusion above stands.
 *
 *   DNS errors.  dns_error (NXDOMAIN, SERVFAIL, REFUSED) is a failure, not
 *   interference: names that do not exist fail everywhere.  It becomes the
 *   pair's method only across networks: when the pair is not blocked by its
 *   interference verdicts, the name worked on another network (ok flows
 *   there: X = 1.0), and counting its dns_error flows as anomalies (k' = k
 *   + dns_error, method dns_error when it has the most) passes the blocked
 *   thresholds above, the pair is blocked with method dns_error
 *   (dns_cross_network).  A name that fails on every network stays a
 *   failure.
 *
 *   Corroboration.  A SYN that times out or meets a RST is what a departed
 *   peer, a server that is down or a closed port looks like, too.  Such a
 *   method concludes "blocked" only with one of: the server endpoint
 *   answered other flows in the same data (reachable: it is up, its port
 *   open), a flow of the pair whose RST carried another box's TTL
 *   (injected), or the name on the test list.  Flows of scanning clients
 *   (scanner.h) are counted apart (scanner_flows) and in no conclusion.
 *
 * ==== Timeline, per network x name ====
 *
 *   first_ok, last_ok, first_blocked, last_blocked: start times of the
 *   earliest / latest ok and blocked (interference) flows.  onset: the
 *   first blocked flow when an ok flow came before it (the name worked,
 *   then blocking began); none when the name was blocked from the start of
 *   observation.  These are minima and maxima, so they merge exactly and do
 *   not depend on the order flows end in.  Buckets: flows, ok and blocked
 *   per time bucket (--time-bucket, 1 h) aligned to the Unix epoch (UTC).
 */
#ifndef TS_REPORT_H
#define TS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "verdict.h"

struct flow;
struct asn_info;
struct testlist;
struct hseed;

#define REPORT_NAME_MAX 255            /* longer names are cut */
#define REPORT_CAT_MAX 32              /* category code length */
#define REPORT_MAX_CATEGORIES 256
#define REPORT_MAX_BUCKETS 100000      /* per network x name */
#define REPORT_DEFAULT_MAX_BYTES (512ull << 20)
#define REPORT_DEFAULT_MIN_FLOWS 3
#define REPORT_DEFAULT_BUCKET_US 3600000000ull

/* Conclusion thresholds as fractions (see the formula above). */
#define REPORT_ANOMALY_MIN_NUM 3       /* a >= 3/5 */
#define REPORT_ANOMALY_MIN_DEN 5
#define REPORT_CONSISTENCY_MIN_NUM 3   /* c >= 3/5 */
#define REPORT_CONSISTENCY_MIN_DEN 5
#define REPORT_OK_MAX_NUM 1            /* a <= 1/10 */
#define REPORT_OK_MAX_DEN 10
#define REPORT_SAMPLE_K 2.0
#define REPORT_X_WORKS_ELSEWHERE 1.0
#define REPORT_X_ONLY_HERE 0.75
#define REPORT_X_FAILS_ELSEWHERE 0.5

struct json;

struct report_cfg {
	uint32_t min_flows;            /* --min-flows */
	uint64_t bucket_us;            /* --time-bucket, > 0 */
	uint64_t max_bytes;            /* memory cap of the tables */
	const struct testlist *testlist; /* --test-list, NULL: none */
	/* The run's hash seed (engine_cfg.seed), copied by report_new; NULL:
	 * draw one (merge and tests, which have no engine). */
	const struct hseed *seed;
	/* Extra top-level members of the JSON report written by another stage
	 * (the certificate consistency table); NULL: none.  Not read back by
	 * merge. */
	void (*extra_json)(void *arg, struct json *j);
	void *extra_arg;
};
void report_cfg_default(struct report_cfg *cfg);

enum report_status {
	RS_NO_DATA = 0,
	RS_OK,
	RS_INCONCLUSIVE,
	RS_BLOCKED,
	RS__COUNT
};
const char *report_status_name(enum report_status s);

struct report_counts {
	uint64_t flows;
	uint64_t n[V__COUNT];
	uint64_t injected;             /* of the interference flows: with injection evidence */
	/* forged or untrusted certificates whose server address DNS answers
	 * explain (evidence.mitm_cause): a manipulated answer sent the client
	 * there, or the address is genuine and the certificate was forged */
	uint64_t mitm_dns, mitm_interception;
	uint64_t quic_flows;           /* flows over QUIC (the rest: TLS over TCP and others) */
	uint64_t quic_ok;              /* of them, ok */
};

/* Derived from counts. */
struct report_share {
	uint64_t measured;             /* ok + failures */
	uint64_t failures;             /* verdict_is_failure */
	uint64_t anomalies;            /* verdict_is_interference */
	double anomaly_share;          /* anomalies / measured (0 if none) */
	enum verdict dominant;         /* most frequent failure, V__COUNT if none */
	double dominant_share;         /* its flows / failures */
};
void report_counts_share(const struct report_counts *c, struct report_share *s);

struct report_bucket {
	uint64_t start_us;
	uint64_t flows, ok, blocked;
};

enum report_cross { RX_ONLY_HERE = 0, RX_WORKS_ELSEWHERE, RX_FAILS_ELSEWHERE };
const char *report_cross_name(enum report_cross x);

/* What corroborates a conclusion drawn from SYN-level failures (bits of
 * report_conclusion.corroboration), see the top. */
enum {
	RC_REACHABLE = 0x1,            /* the server endpoint answered other flows in the data */
	RC_INJECTED = 0x2,             /* a flow's RST came from another box (TTL unlike the server's) */
	RC_TEST_LIST = 0x4,            /* the name is on the test list */
};
/* "reachable", "injected", "test_list" for one RC_* bit, NULL otherwise. */
const char *report_corroboration_name(unsigned bit);
/* Is v a method that needs corroboration (syn_timeout, syn_reset)? */
bool report_method_needs_corroboration(enum verdict v);

struct report_conclusion {
	enum report_status status;
	unsigned corroboration;        /* RC_*; only for methods that need it */
	bool uncorroborated;           /* would be blocked, but nothing corroborates it */
	enum verdict method;           /* V__COUNT when no anomaly */
	double anomaly_share;          /* a */
	double consistency;            /* c */
	double sample;                 /* S */
	double cross;                  /* X */
	enum report_cross cross_kind;
	double confidence;
	enum verdict method2;          /* both transports blocked: QUIC's; else V__COUNT */
	bool quic_only;                /* QUIC blocked while TLS over TCP works (method quic_stall) */
	uint64_t tcp_ok;               /* with quic_only or method2: TLS-over-TCP ok flows of the pair */
	bool dns_cross_network;        /* blocked by its DNS errors while the name resolves elsewhere */
};

struct report_net {
	uint32_t asn;
	char *org;
	struct report_counts c;
	uint64_t scanner_flows;        /* flows of scanning clients: in no count, no conclusion */
	uint32_t names, blocked_names; /* report_finalize */
};

struct report_name {
	char *name;
	uint32_t id;                   /* creation order, for the pair hash */
	bool is_addr;                  /* a server address, not an SNI */
	char category[REPORT_CAT_MAX + 1]; /* "" when not listed */
	struct report_counts c;
	uint64_t reachable;            /* addresses: flows (any network) the endpoint answered */
	uint32_t networks, blocked_networks; /* report_finalize */
};

struct report_pair {
	struct report_net *net;
	struct report_name *name;
	struct report_counts c;
	uint64_t first_ok_us, last_ok_us;           /* valid when c.n[V_OK] */
	uint64_t first_blocked_us, last_blocked_us; /* valid when anomalies */
	uint64_t first_fail_us, last_fail_us;       /* any failure verdict; only
						       for report_relabel */
	struct report_bucket *b;       /* sorted by start_us */
	uint32_t nb, capb;
	struct report_conclusion concl; /* report_finalize */
};

/* The raw state of one network x name, as stored in a report (merge). */
struct report_pair_raw {
	struct report_counts c;
	uint64_t first_ok_us, last_ok_us, first_blocked_us, last_blocked_us;
	const struct report_bucket *b;
	uint32_t nb;
};

struct report_category {
	char code[REPORT_CAT_MAX + 1];
	char desc[65];
	uint64_t listed;               /* domains in the test list */
	/* report_finalize: */
	uint64_t domains_seen, domains_blocked, pairs_blocked, flows, anomalies;
};

struct report_stats {
	uint64_t flows;                /* flows added */
	uint64_t bytes;                /* memory held by the tables */
	uint64_t nets, names, pairs, buckets;
	uint64_t refused_net;          /* flows whose network could not be stored */
	uint64_t refused_name;         /* ... whose name could not be stored */
	uint64_t refused_pair;
	uint64_t refused_bucket;       /* bucket not stored (cap or memory) */
	uint64_t names_cut;            /* names longer than REPORT_NAME_MAX */
	uint64_t categories_dropped;   /* REPORT_MAX_CATEGORIES reached */
	uint64_t scanner_flows;        /* flows of scanning clients, left out */
	uint64_t reach_refused;        /* answered endpoints not remembered (memory cap) */
};

struct report;

struct report *report_new(const struct report_cfg *cfg);
void report_free(struct report *r);
const struct report_cfg *report_get_cfg(const struct report *r);
const struct report_stats *report_stats(const struct report *r);

/* One finished flow. */
struct report_flow {
	uint64_t ts_us;                /* flow start, packet time */
	enum verdict verdict;
	uint32_t client_asn;
	const char *client_org;        /* NULL: "unknown" */
	const char *sni;               /* raw SNI bytes, NULL when none */
	size_t sni_len;
	const struct ts_addr *server;  /* for flows without SNI */
	uint16_t server_port;
	bool scanner;                  /* the client was scanning: counted apart */
	bool injected;                 /* interference with injection evidence */
	bool reachable;                /* the server answered the SYN */
	uint8_t mitm_cause;            /* enum dns_origin (dnsmap.h): 0 none */
	bool quic;                     /* the flow was QUIC */
};
void report_add(struct report *r, const struct report_flow *rf);

/* The name a flow is counted under (see the top): its normalised SNI, or
 * "addr:port" of its server for a measured flow without one; *cut set when
 * the name was shortened.  false: the flow has no name entry (it counts
 * for its network only).  Other outputs that must key flows exactly as the
 * report does (the ClickHouse rows) call these. */
#define REPORT_KEY_MAX (REPORT_NAME_MAX + 64) /* with "[v6 address]:port" */
bool report_flow_key(const struct report_flow *rf, char *key, size_t keylen, bool *is_addr,
		     bool *cut);
/* "addr:port" ("[v6]:port") of a server, as answered endpoints are keyed;
 * false when it cannot be written. */
bool report_endpoint_key(const struct ts_addr *a, uint16_t port, char *key, size_t keylen);

/* Certificate cross-network consistency, known only at the end of a run,
 * turns n flows of (network, name) from one verdict into another (e.g.
 * tls_untrusted_cert into tls_mitm).  Counts of the pair, the network and
 * the name move; the timeline buckets keep the verdicts flows had when they
 * ended.  Returns the number of flows moved. */
uint64_t report_relabel(struct report *r, uint32_t asn, const char *sni, size_t sni_len,
			enum verdict from, enum verdict to, uint64_t n);

/* ---- merging raw state (report_merge.c) ------------------------------- */

/* Merged totals stay at or below 2^62, so adding one more never wraps. */
#define REPORT_MAX_COUNT (1ull << 62)

/* Each returns 0, -1 when the memory cap refused the entry (counted), or
 * -2 when the counts would pass REPORT_MAX_COUNT (nothing changed). */
int report_merge_net(struct report *r, uint32_t asn, const char *org,
		     const struct report_counts *c, uint64_t scanner_flows);
int report_merge_name(struct report *r, const char *name, bool is_addr,
		      const char *category, const struct report_counts *c, uint64_t reachable);
int report_merge_pair(struct report *r, uint32_t asn, const char *org, const char *name,
		      bool is_addr, const char *category, const struct report_pair_raw *raw);
/* Flows another report could not attribute (its memory cap): kept so
 * the totals still add up. */
int report_merge_refused(struct report *r, uint64_t net, uint64_t name, uint64_t pair,
			 uint64_t bucket);
/* A category and its listed-domain count (max of the inputs). */
int report_merge_category(struct report *r, const char *code, const char *desc,
			  uint64_t listed);

/* ---- results -------------------------------------------------------- */

/* Compute conclusions, per-network and per-name totals and the sorted
 * lists below.  Call after the last flow and before any output; calling
 * again after more flows recomputes everything.  -1 when out of memory. */
int report_finalize(struct report *r);

/* Sorted views, valid until the next report_add / report_finalize:
 * networks by ASN, pairs by ASN then name, names by name, categories in
 * test-list order. */
struct report_net *const *report_nets(const struct report *r, size_t *n);
struct report_pair *const *report_pairs(const struct report *r, size_t *n);
struct report_name *const *report_names(const struct report *r, size_t *n);
const struct report_category *report_categories(const struct report *r, size_t *n);

/* Timeline helpers: false when there is no such time. */
bool report_pair_onset(const struct report_pair *p, uint64_t *us);

/* Normalise a server name as the report keys it (see the top); out holds
 * REPORT_NAME_MAX + 1 bytes.  Returns the length; *cut set if shortened. */
size_t report_norm_name(const char *in, size_t n, char *out, bool *cut);

#endif
