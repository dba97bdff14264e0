/* cert_verify.c - path validation of a chain at its packet's time (RFC 5280 section 6, as OpenSSL's
 * X509_verify_cert implements it; RFC 6125 section 6 for the host name), through the verification cache, and
 * again against the anchors of that time when today's store has none for it (cert_history.h). */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "digest.h"
#include "cert_verify.h"

/* ---- validation ---------------------------------------------------------------------------------------------- */

void cert_add_error(struct cert_analysis *ca, struct cert_stats *st, int code, int depth)
{
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (ca->errors[i].code == code && ca->errors[i].depth == depth)
			return;
	if (ca->n_errors >= CERT_MAX_ERRORS) {
		if (!ca->errors_dropped)
			st->errors_dropped++;
		ca->errors_dropped = 1;
		return;
	}
	ca->errors[ca->n_errors].code = code;
	ca->errors[ca->n_errors].depth = depth;
	ca->n_errors++;
}

struct verify_rec {
	struct cert_analysis *ca;
	struct cert_stats *st;
	bool transient;             /* an error that says nothing about the chain (memory, store I/O) */
};

static bool transient_error(int code)
{
	return code == X509_V_ERR_OUT_OF_MEM || code == X509_V_ERR_UNSPECIFIED || code == X509_V_ERR_STORE_LOOKUP;
}

/* Record every problem and let OpenSSL go on: an expired forged leaf under an unknown root is two facts, and
 * the OONI class depends on which ones are there, not only on the first. */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
	struct verify_rec *r = X509_STORE_CTX_get_app_data(sctx);
	if (!ok && r) {
		int code = X509_STORE_CTX_get_error(sctx);
		r->transient |= transient_error(code);
		cert_add_error(r->ca, r->st, code, X509_STORE_CTX_get_error_depth(sctx));
	}
	return 1;
}

/* Host name from the SNI, as a browser would check it; no SNI: no check, and the event says so.  False when
 * OpenSSL refused the name. */
static bool set_host(X509_VERIFY_PARAM *vp, const struct tls_info *ti, struct cert_analysis *ca,
		     struct cert_stats *st)
{
	if (!ti->sni_present || ti->sni_len == 0) {
		ca->name_check = CERT_NAME_NO_SNI;
		return true;
	}
	ca->name_check = CERT_NAME_MATCH;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!X509_VERIFY_PARAM_set1_host(vp, ti->sni, ti->sni_len)) {
		/* Refused (an embedded NUL): no certificate can be for this name. */
		ERR_clear_error();
		cert_add_error(ca, st, CERT_ERR_BAD_SNI, 0);
		ca->name_check = CERT_NAME_MISMATCH;
		return false;
	}
	return true;
}

/* A chain certificate whose key or signature algorithm this OpenSSL does not know (ML-DSA before OpenSSL
 * 3.5): verification cannot run on it, and that is not a memory failure. */
static bool unsupported_alg(X509 **xs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		int mdnid, pknid;
		if (!xs[i])
			continue;
		if (!X509_get0_pubkey(xs[i]) || !X509_get_signature_info(xs[i], &mdnid, &pknid, NULL, NULL)) {
			ERR_clear_error();
			return true;
		}
	}
	return false;
}

/* SHA-256 of the DER SubjectPublicKeyInfo of the chain's top once verified (the anchor). */
static bool anchor_spki(X509_STORE_CTX *sctx, uint8_t out[32])
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(sctx);
	int n = chain ? sk_X509_num(chain) : 0;
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	if (n <= 0)
		return false;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(sk_X509_value(chain, n - 1)), &der);
	bool ok = len > 0 && EVP_Digest(der, (size_t)len, out, &mdlen, digest_sha256(), NULL) && mdlen == 32;
	OPENSSL_free(der);
	return ok;
}

static pthread_mutex_t verify_lock = PTHREAD_MUTEX_INITIALIZER;

/* The chain's other certificates are untrusted intermediates, as a TLS client treats them; trust comes only
 * from the store.  "ssl_server" sets the purpose and trust checks libssl uses on the client side.  Returns whether
 * the result depends on the inputs alone (nothing failed for want of memory, no refused name): only then may it
 * be cached.  spki (may be NULL) receives the anchor's SPKI digest when the chain was built to one (*have). */
static bool validate_in(struct cert_ctx *cc, X509_STORE *store, const struct tls_info *ti, X509 **xs,
			struct cert_analysis *ca, uint8_t *spki, bool *have)
{
	STACK_OF(X509) *inter = sk_X509_new_null();
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	struct verify_rec rec = { ca, &cc->st, false };
	bool ran = false, pure = true;
	unsigned i;

	for (i = 1; inter && i < ca->n_chain; i++)
		if (xs[i] && !sk_X509_push(inter, xs[i]))
			break;
	pure = i >= ca->n_chain;
	if (inter && sctx && X509_STORE_CTX_init(sctx, store, xs[0], inter)) {
		X509_VERIFY_PARAM *vp;
		pure &= X509_STORE_CTX_set_default(sctx, "ssl_server") == 1;
		vp = X509_STORE_CTX_get0_param(sctx);
		/* OpenSSL checks a set time before it looks at NO_CHECK_TIME: one or the other */
		if (ca->time_unchecked)
			X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
		else
			X509_VERIFY_PARAM_set_time(vp, (time_t)(ca->validated_at_us / 1000000u));
		pure &= set_host(vp, ti, ca, &cc->st);
		X509_STORE_CTX_set_verify_cb(sctx, verify_cb);
		X509_STORE_CTX_set_app_data(sctx, &rec);
		/* The store's anchors are shared by every worker thread, and
		 * OpenSSL fills some of a certificate's fields on first use
		 * (a name's canonical encoding) without a lock: one
		 * verification at a time.  Results are cached per thread, so
		 * few verifications run at all. */
		pthread_mutex_lock(&verify_lock);
		ran = X509_verify_cert(sctx) >= 0;
		pthread_mutex_unlock(&verify_lock);
		if (spki)
			*have = ran && anchor_spki(sctx, spki);
	}
	if ((!ran || ca->n_errors) && unsupported_alg(xs, ca->n_chain)) {
		ca->n_errors = 0; /* what OpenSSL said after failing to read a key means nothing */
		cert_add_error(ca, &cc->st, CERT_ERR_UNSUPPORTED_ALG, 0);
	} else if (!ran) {
		cc->st.verify_failed++;
		cert_add_error(ca, &cc->st, CERT_ERR_VERIFY_FAILED, 0);
	}
	for (unsigned k = 0; k < ca->n_errors; k++)
		if (ca->errors[k].code == X509_V_ERR_HOSTNAME_MISMATCH)
			ca->name_check = CERT_NAME_MISMATCH;
	X509_STORE_CTX_free(sctx);
	sk_X509_free(inter);              /* the certificates belong to the caller */
	ERR_clear_error();
	return ran && pure && !rec.transient;
}

/* ---- through the verification cache ------------------------------------------------------------------------ */

/* validate() through the cache.  It always starts from an analysis with no error yet, so a hit leaves exactly what
 * it would have: the host check, the errors in order, the dropped-errors mark and its counter. */
static void validate_cached(struct cert_ctx *cc, const struct tls_info *ti, struct cert_chain_work *cw,
			    struct cert_analysis *ca)
{
	struct cert_vkey k;
	/* without time checks the result belongs to no time cell: not cached */
	bool keyed = !ca->time_unchecked && cert_cache_vkey(&cc->cache, ti, cw, ca, &k);
	const struct cert_verified *e;

	if (keyed && (e = cert_cache_verified(&cc->cache, &k))) {
		ca->name_check = e->name_check;
		ca->n_errors = e->n_errors;
		ca->errors_dropped = e->errors_dropped;
		memcpy(ca->errors, e->errors, sizeof(e->errors[0]) * e->n_errors);
		if (e->errors_dropped)
			cc->st.errors_dropped++;
		cc->st.vcache_hits++;
		return;
	}
	cc->st.vcache_misses++;
	if (validate_in(cc, cc->trust.store, ti, cw->xs, ca, NULL, NULL) && keyed)
		cert_cache_add_verified(&cc->cache, &cc->trust, &k, cw, ca);
}

/* ---- the anchors of the packet's time ------------------------------------------------------------------------ */

/* Errors that only say no anchor was found for the chain. */
static bool anchor_error(int code)
{
	return code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       code == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	       code == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || code == X509_V_ERR_CERT_UNTRUSTED;
}

static bool has_anchor_error(const struct cert_analysis *ca)
{
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (anchor_error(ca->errors[i].code))
			return true;
	return false;
}

struct saved_errors {
	uint8_t n, dropped, name_check;
	struct cert_error e[CERT_MAX_ERRORS];
};

static void errors_save(const struct cert_analysis *ca, struct saved_errors *s)
{
	s->n = ca->n_errors;
	s->dropped = ca->errors_dropped;
	s->name_check = ca->name_check;
	memcpy(s->e, ca->errors, sizeof(s->e[0]) * ca->n_errors);
}

static void errors_restore(struct cert_analysis *ca, const struct saved_errors *s)
{
	ca->n_errors = s->n;
	ca->errors_dropped = s->dropped;
	ca->name_check = s->name_check;
	memcpy(ca->errors, s->e, sizeof(s->e[0]) * s->n);
}

static void mark_removed(struct cert_analysis *ca, const struct cert_removed *r)
{
	ca->removed_anchor = r->label;
	ca->removed_date = r->removed_date;
}

/* No certificate to check the signature with: only the top certificate's
 * issuer (or its own subject, for a root sent along) names the anchor. */
static void judge_by_name(struct cert_ctx *cc, struct cert_analysis *ca, int64_t at)
{
	const struct cert_info *top = &ca->chain[ca->n_chain - 1];
	const struct cert_removed *r;
	if (!top->parsed)
		return;
	if (!(r = cert_history_by_subject(cc->hist, top->issuer)) &&
	    !(r = cert_history_by_subject(cc->hist, top->subject)))
		return;
	mark_removed(ca, r);
	/* With the root's certificate at hand its signature was checked and failed: a chain that copies the
	 * name of a removed root without its key is no older chain, it is untrusted. */
	if (!r->have_cert && (!r->removed_on || at < r->removed_on))
		ca->trust = CERT_TRUST_UNKNOWN_ANCHOR;
}

/* The chain validated against the roots that have left the store, through the verification cache (for its packet
 * second: a hit leaves the errors, the name check and the anchor reached exactly as the work would). */
static void validate_history(struct cert_ctx *cc, const struct tls_info *ti, struct cert_chain_work *cw,
			     struct cert_analysis *ca, uint8_t spki[32], bool *have)
{
	struct cert_vkey k, kh;
	bool keyed = !ca->time_unchecked && cert_cache_vkey(&cc->cache, ti, cw, ca, &k);
	const struct cert_verified *e;

	ca->n_errors = 0;
	ca->errors_dropped = 0;
	if (keyed) {
		cert_cache_history_key(&k, &kh);
		if ((e = cert_cache_verified(&cc->cache, &kh))) {
			ca->name_check = e->name_check;
			ca->n_errors = e->n_errors;
			ca->errors_dropped = e->errors_dropped;
			memcpy(ca->errors, e->errors, sizeof(e->errors[0]) * e->n_errors);
			if (e->errors_dropped)
				cc->st.errors_dropped++;
			*have = e->have_anchor;
			memcpy(spki, e->anchor, 32);
			return;
		}
	}
	if (validate_in(cc, cc->hist->store, ti, cw->xs, ca, spki, have) && keyed)
		cert_cache_add_history(&cc->cache, &kh, ca, *have, spki);
}

/* Path building finds an anchor by the name a certificate names as its
 * issuer (RFC 5280 section 6.1; OpenSSL looks trusted issuers up first):
 * unless some certificate of the chain names a removed root as its issuer,
 * or is one, no removed root can anchor it, and neither can the names
 * alone (judge_by_name). */
static bool names_a_removed_root(const struct cert_ctx *cc, const struct cert_analysis *ca)
{
	for (unsigned i = 0; i < ca->n_chain; i++) {
		const struct cert_info *ci = &ca->chain[i];
		if (ci->parsed && (cert_history_by_subject(cc->hist, ci->issuer) ||
				   cert_history_by_subject(cc->hist, ci->subject)))
			return true;
	}
	return false;
}

/* A chain that fails today for want of an anchor, validated again against
 * the roots that have left the store: anchored at one removed after the
 * packet, what that validation finds (nothing, or an expired leaf) stands;
 * removed before the packet, today's failure stands; removed at a date not
 * recorded, the anchor of that time cannot be known. */
static void judge_history(struct cert_ctx *cc, const struct tls_info *ti, struct cert_chain_work *cw,
			  struct cert_analysis *ca)
{
	struct saved_errors today;
	uint8_t spki[32];
	bool have = false;
	int64_t at = (int64_t)(ca->validated_at_us / 1000000u);
	const struct cert_removed *r = NULL;

	if (cc->hist->n == 0 || !has_anchor_error(ca) || !names_a_removed_root(cc, ca))
		return;
	errors_save(ca, &today);
	if (cert_history_store(cc->hist)) {
		validate_history(cc, ti, cw, ca, spki, &have);
		r = have ? cert_history_by_spki(cc->hist, spki) : NULL;
	}
	if (!r || has_anchor_error(ca)) {
		errors_restore(ca, &today);
		judge_by_name(cc, ca, at);
		return;
	}
	mark_removed(ca, r);
	if (r->removed_on && at >= r->removed_on)
		errors_restore(ca, &today);
	else if (!r->removed_on && ca->n_errors == 0)
		ca->trust = CERT_TRUST_UNKNOWN_ANCHOR;
	else if (ca->n_errors == 0)
		cc->st.removed_anchor_trusted++;
}

void cert_validate(struct cert_ctx *cc, const struct tls_info *ti, struct cert_chain_work *cw,
		   struct cert_analysis *ca)
{
	validate_cached(cc, ti, cw, ca);
	judge_history(cc, ti, cw, ca);
}
