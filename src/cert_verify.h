/* cert_verify.h - path validation (cert_verify.c) and the certificate
 * stage's context it works in, shared with cert.c.  Not for other stages:
 * they use cert.h. */
#ifndef TS_CERT_VERIFY_H
#define TS_CERT_VERIFY_H

#include <openssl/evp.h>

#include "cert_types.h"
#include "cert_cache.h"
#include "cert_history.h"
#include "cert_trust.h"

struct digests {
	const EVP_MD *sha1, *sha256;
};

struct cert_ctx {
	struct cert_trust_store trust;
	struct cert_history own_hist; /* roots that left the store; n == 0: none listed */
	struct cert_history *hist;  /* own_hist, or a worker's: its base's (loaded once, for all) */
	struct cert_cache cache;    /* parsed certificates, verification results, leaves per name */
	const struct intercept_db *icpt;
	EVP_MD *fetched[2];         /* fetched once: OpenSSL 3 fetches again for every EVP_sha256() digest */
	struct digests md;
	struct cert_stats st;
	struct cert_cfg cfg;        /* what it was made with (a worker's context sizes its caches alike) */
	bool worker;                /* a worker's: store, removed roots and digests are its base's */
};

/* Record a verification error once (code, depth), counting what does not fit. */
void cert_add_error(struct cert_analysis *ca, struct cert_stats *st, int code, int depth);

/* Validate the parsed chain cw at ca->validated_at_us (through the verification cache), then against the
 * anchors of that time when today's store lacks one (cert_history.h).  Fills the name check and errors[], and
 * may set the trust to unknown_anchor and the removed anchor; set_outcome decides the rest. */
void cert_validate(struct cert_ctx *cc, const struct tls_info *ti, struct cert_chain_work *cw,
		   struct cert_analysis *ca);

#endif
