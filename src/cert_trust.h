/* cert_trust.h - the trust store of the certificate stage: the anchors chains are validated against (RFC 5280
 * section 6.1.1 trust anchor information), from a PEM bundle, or from the system's hashed directory when it holds
 * exactly the system bundle's certificates; anchors added from DER; and the validity bounds of the stored
 * certificates (RFC 5280 section 4.1.2.5), which say when a cached verification may be replayed.
 *
 * The store only grows: a hashed directory adds the anchors a chain names while it is verified, and
 * cert_trust_add adds more.  Nothing here sees a flow.
 */
#ifndef TS_CERT_TRUST_H
#define TS_CERT_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

struct cert_cfg;

#define CERT_PEM_MAX_CERTS 4096     /* a system store larger than this is loaded from the bundle */

struct cert_trust_store {
	X509_STORE *store;
	char *source;               /* the file or directory the anchors come from */
	int64_t *bounds;            /* notBefore/notAfter of the store's certificates, sorted (cert_trust_bounds) */
	uint32_t n_bounds;
	int bounds_objs;            /* store objects when bounds was made; -1: not made */
};

/* Make the store and load the anchors cfg names (see cert_ctx_new in cert.h for the choice between the system's
 * bundle and its hashed directory).  -1 with a message in err; t is then still safe to free. */
int cert_trust_load(struct cert_trust_store *t, const struct cert_cfg *cfg, char *err, size_t errlen);
void cert_trust_free(struct cert_trust_store *t);

/* Add one anchor (the store takes its own reference).  0 or -1. */
int cert_trust_add(struct cert_trust_store *t, X509 *x);

/* The file or directory the anchors come from ("" for an empty store). */
const char *cert_trust_source(const struct cert_trust_store *t);

/* Bring t->bounds up to date with the store (made again only when the store grew).  False when out of memory. */
bool cert_trust_bounds(struct cert_trust_store *t);

/* An RFC 5280 time (UTCTime or GeneralizedTime) as seconds since the epoch, UTC, for any year OpenSSL reads:
 * no time_t range or time zone involved.  False when OpenSSL cannot convert it. */
bool cert_time_epoch(const ASN1_TIME *t, int64_t *out);

#endif
