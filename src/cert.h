/* cert.h - certificate chains of TLS <= 1.2 handshakes: X.509 parsing, fingerprints, validation at packet time,
 * interception-CA attribution and forgery hints.
 *
 * Follows RFC 5280 sections 4.1 (certificate fields), 4.2.1.1 (authorityKeyIdentifier), 4.2.1.3 (keyUsage),
 * 4.2.1.6 (subjectAltName) and 6 (path validation, as OpenSSL's X509_verify_cert implements it), RFC 6125
 * section 6 (server name check against the SNI), RFC 4514 (one-line names, RFC 2253 order) and RFC 7469
 * section 2.4 (SPKI fingerprints).  All DER goes through libcrypto's d2i_X509; nothing here reads wire bytes
 * itself.
 *
 * One struct cert_ctx per run (main.c owns it through the engine): the trust store, loaded once, a small
 * bounded memory of the leaf certificates seen per server name, for the "same subject, other key" hints, and two
 * bounded caches that only save work - a certificate already parsed (same SHA-256 of the DER) is copied, not parsed
 * again, and a chain already verified with the same host name at a packet time no certificate's validity bound
 * separates from this one is not verified again; every output and counter reads as if the work had been redone.
 * cert_analyze() runs once per flow at flow end and fills a struct cert_analysis that the outputs read, and
 * verdict_apply_cert() (verdict.h) turns it into a verdict.
 *
 * The stage in files: cert_info.h (what is kept of one certificate), cert_types.h (constants and structs),
 * cert_trust.c (the store), cert_cache.c (the bounded memories, on htab.h), cert_history.c (roots that left the
 * store), cert_verify.c (path validation), cert.c (parse, analyse: the API below).
 */
#ifndef TS_CERT_H
#define TS_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"
#include "cert_types.h"
#include "tls_info.h"
#include "util.h"

struct cert_ctx;

/* Load the trust store once.  NULL with a message in err when the bundle cannot be read or holds no
 * certificate.  Without ca_bundle: the system's hashed directory, whose anchors OpenSSL reads only when a chain
 * names them, when its hash links hold exactly the certificates of the system's bundle, one per link and one link
 * per subject hash (so both stores give the same results); otherwise the bundle itself. */
struct cert_ctx *cert_ctx_new(const struct cert_cfg *cfg, char *err, size_t errlen);
void cert_ctx_free(struct cert_ctx *cc);
/* A context for a worker thread: the base's trust store, removed roots and interception list (shared: OpenSSL
 * verifies against one store from many threads), caches and counters of its own.  Make every worker's before any
 * thread starts.  NULL when out of memory. */
struct cert_ctx *cert_ctx_new_worker(struct cert_ctx *base);
/* Add a worker's counters to the base's (after the worker's last flow). */
void cert_ctx_merge_stats(struct cert_ctx *base, const struct cert_ctx *w);
/* Add one more trust anchor from DER (tests and fuzzing use a tiny store without files).  0 or -1. */
int cert_ctx_add_anchor_der(struct cert_ctx *cc, const uint8_t *der, size_t len);
const struct cert_stats *cert_ctx_stats(const struct cert_ctx *cc);
/* The file or directory the trust anchors come from ("" for an empty store). */
const char *cert_ctx_trust_source(const struct cert_ctx *cc);

/* Parse one DER certificate into ci (fingerprints are filled even when it does not parse).  Returns
 * ci->parsed. */
bool cert_parse(const uint8_t *der, size_t len, struct cert_info *ci, struct cert_stats *st);

/* The whole per-flow analysis: visibility, parse every chain certificate, validate at ts_us (packet time,
 * microseconds) against the store with the SNI as host name, match the interception-CA list, forgery hints
 * (which also updates the per-name memory). */
/* cert_analyze in two steps, for a context per thread: the chain (parse, validate, attribute, the chain's own
 * hints), then, in the order flows end, the hints that compare the leaf with those remembered for the name (the
 * name memory spans flows).  The first may run in any thread with its own context (cert_ctx_new_worker); the
 * second in one. */
void cert_analyze_chain(struct cert_ctx *cc, const struct tls_info *ti, uint64_t ts_us, struct cert_analysis *ca);
void cert_memory_hints(struct cert_ctx *cc, const struct tls_info *ti, struct cert_analysis *ca);
void cert_analyze(struct cert_ctx *cc, const struct tls_info *ti, uint64_t ts_us, struct cert_analysis *ca);

/* Human text of a verification error code (OpenSSL's string; tamperscope's own for CERT_ERR_*). */
const char *cert_error_string(int code);

const char *cert_hint_name(enum cert_hint h);
const char *cert_trust_name(enum cert_trust t);
const char *cert_match_name(enum cert_match m);       /* NULL for CERT_MATCH_NONE */
const char *cert_name_check_name(enum cert_name_check n);

#endif
