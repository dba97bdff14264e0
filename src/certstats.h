/* certstats.h - cross-network certificate consistency: per server name x client network, which leaf issuers and
 * keys were seen, which validated, and which ServerHello fingerprints answered; at the end of the run, which
 * (network, name) pairs are tls_mitm with match "inconsistent".
 *
 * Events are written when a flow ends, before the whole capture is known, so a flow's event can only carry
 * per-flow evidence (the chain, its trust, an interception-CA match, forgery hints).  The cross-network
 * conclusion needs every network's flows and exists only at the end of the run: in the report and in one
 * closing event per concluded pair (event_type "tls_consistency") that lists the flow ids it re-labels.
 *
 * The rule, for a name N and a client network A:
 *   t = flows of N whose chain validated on networks other than A
 *   u = flows of N on A whose chain failed validation with a leaf issuer under which N validated nowhere
 *   A's flows for N are tls_mitm, match "inconsistent", when t >= 1 and u >= 1, with confidence
 *       min(0.9, (1 - 2^-u) * (1 - 2^-t))
 *   (1 flow each side: 0.25; 2/2: 0.56; 3/3: 0.77; 5/5: 0.90).  It stays below a fingerprint match (0.99): a
 *   server can present different chains to different networks by itself (CDN edges, geo-split deployments).
 * A name that fails everywhere (self-signed, expired, wrong name on every network) has t = 0: its flows stay
 * tls_untrusted_cert, never MITM.  A failure under the issuer that validates elsewhere (an expired copy of the
 * genuine certificate) does not count in u.
 *
 * Weak hint (never a verdict): for the same ClientHello fingerprint (JA3), the ServerHello (JA3S and version)
 * on A is one never seen for N on any other network - what an interception box answering in the server's place
 * looks like, and the only sign left when TLS 1.3 hides the certificate.
 */
#ifndef TS_CERTSTATS_H
#define TS_CERTSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cert_analysis;
struct hseed;
struct tls_info;

#define CERTSTATS_DEFAULT_MAX 16384 /* (name, network) pairs; more are not tracked (counted) */
#define CERTSTATS_VARIANTS 4        /* distinct (leaf issuer, leaf key) per pair */
#define CERTSTATS_HELLOS 4          /* distinct (JA3, JA3S, version) per pair */
#define CERTSTATS_FLOW_IDS 16       /* flow ids kept per pair, of flows the conclusion re-labels */
#define CERTSTATS_CONF_MAX 0.9

struct certstats_stats {
	uint64_t flows;             /* flows added */
	uint64_t flows_no_sni;      /* not added: no SNI to group by */
	uint64_t pairs;
	uint64_t pairs_dropped;     /* flows of a new pair beyond the cap */
	uint64_t variants_dropped;  /* flows whose (issuer, key) did not fit CERTSTATS_VARIANTS */
	uint64_t hellos_dropped;
	uint64_t flow_ids_dropped;
};

struct certstats_finding {
	const char *sni;            /* raw SNI bytes (not NUL-safe: use sni_len) */
	size_t sni_len;
	uint32_t asn;
	bool inconsistent;          /* tls_mitm, match "inconsistent" */
	double confidence;          /* of the inconsistency; 0 when not inconsistent */
	uint32_t flows;             /* flows of the name on this network */
	uint32_t flows_trusted, flows_untrusted, flows_not_visible;
	uint32_t flows_inconsistent;        /* u above */
	uint32_t flows_interception_ca;     /* of those, already attributed by fingerprint or name */
	uint32_t flows_relabel;             /* of those, whose event said tls_untrusted_cert: now tls_mitm */
	uint32_t flows_trusted_elsewhere;   /* t above */
	uint32_t networks_trusted_elsewhere;
	const char *issuer_here;    /* leaf issuer of the most frequent inconsistent chain, or NULL */
	const char *issuer_elsewhere; /* leaf issuer that validated elsewhere with the most flows, or NULL */
	bool hello_differs;         /* the weak ServerHello hint */
	const char *ja3s_here, *ja3s_elsewhere; /* one example each when hello_differs */
	uint16_t version_here, version_elsewhere;
	const uint64_t *flow_ids;   /* the re-labelled flows (first CERTSTATS_FLOW_IDS) */
	uint32_t n_flow_ids;
	bool flow_ids_cut;
};

struct certstats;

/* max_pairs 0: CERTSTATS_DEFAULT_MAX.  seed: the start-up hash seed (copied). */
struct certstats *certstats_new(uint32_t max_pairs, const struct hseed *seed);
void certstats_free(struct certstats *cs);

/* At flow end, after the verdict is final (cert_apply_verdict done), for every flow whose ServerHello was seen.
 * ca may be NULL (no certificate analysis).  final_verdict is the flow's enum verdict.  Flows without SNI are
 * counted and skipped. */
void certstats_add(struct certstats *cs, const struct tls_info *ti, const struct cert_analysis *ca,
		   uint32_t client_asn, uint64_t flow_id, int final_verdict);

/* Compute the conclusions (end of run; again for an interim report: it recomputes from the counts). */
void certstats_finalize(struct certstats *cs);

/* The conclusion for one pair (after certstats_finalize); false when the pair was never seen. */
bool certstats_lookup(const struct certstats *cs, const char *sni, size_t sni_len, uint32_t asn,
		      struct certstats_finding *out);

/* Every pair (notable_only: only inconsistent or hello_differs), sorted by name bytes then ASN. */
typedef void (*certstats_fn)(void *arg, const struct certstats_finding *f);
void certstats_foreach(const struct certstats *cs, bool notable_only, certstats_fn fn, void *arg);

const struct certstats_stats *certstats_get_stats(const struct certstats *cs);

#endif
