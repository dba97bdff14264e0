/* cert.c - X.509 chains of TLS <= 1.2 handshakes (RFC 5280 sections 4.1, 4.2.1 and 6; RFC 6125 section 6):
 * parse with libcrypto, fingerprint, validate at packet time, attribute to known interception CAs, and collect
 * forgery hints.  See cert.h for the contract. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "digest.h"
#include "cert.h"
#include "cert_cache.h"
#include "cert_verify.h"
#include "cert_trust.h"
#include "intercept.h"
#include "util.h"

const char *cert_hint_name(enum cert_hint h)
{
	static const char *const names[CERT_HINT__COUNT] = { CERT_HINTS(ENUM_NAME) };
	return name_of(names, CERT_HINT__COUNT, h, "unknown");
}

const char *cert_trust_name(enum cert_trust t)
{
	switch (t) {
	case CERT_TRUST_TRUSTED: return "trusted";
	case CERT_TRUST_UNTRUSTED: return "untrusted";
	case CERT_TRUST_UNKNOWN_ANCHOR: return "unknown_anchor";
	case CERT_TRUST_UNVERIFIABLE: return "unverifiable";
	default: return "not_visible";
	}
}

const char *cert_match_name(enum cert_match m)
{
	switch (m) {
	case CERT_MATCH_FINGERPRINT: return "fingerprint";
	case CERT_MATCH_NAME: return "name";
	case CERT_MATCH_INCONSISTENT: return "inconsistent";
	default: return NULL;
	}
}

const char *cert_name_check_name(enum cert_name_check n)
{
	switch (n) {
	case CERT_NAME_MATCH: return "match";
	case CERT_NAME_MISMATCH: return "mismatch";
	case CERT_NAME_NO_SNI: return "no_sni";
	default: return "not_checked";
	}
}

const char *cert_error_string(int code)
{
	switch (code) {
	case CERT_ERR_LEAF_UNPARSED: return "leaf certificate is not valid DER";
	case CERT_ERR_EMPTY_CHAIN: return "empty certificate list";
	case CERT_ERR_VERIFY_FAILED: return "verification could not run";
	case CERT_ERR_BAD_SNI: return "SNI is not a valid host name";
	case CERT_ERR_UNSUPPORTED_ALG: return "unsupported signature algorithm";
	default: return code >= 0 ? X509_verify_cert_error_string(code) : "unknown error";
	}
}

/* ---- parsing ------------------------------------------------------------------------------------------------ */

static void digest_hex(const EVP_MD *md, const uint8_t *p, size_t n, char *out)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	if (!EVP_Digest(p, n, d, &dl, md, NULL)) {
		out[0] = '\0';
		ERR_clear_error();
		return;
	}
	hex_encode(d, dl, out);
}

/* d2i_X509 stops after one object; a certificate with trailing bytes is refused, as TLS clients do
 * (OpenSSL's SSL_R_CERT_LENGTH_MISMATCH). */
static X509 *der_to_x509(const uint8_t *der, size_t len)
{
	const unsigned char *p = der;
	X509 *x;
	if (!der || len == 0 || len > LONG_MAX)
		return NULL;
	x = d2i_X509(NULL, &p, (long)len);
	if (x && (size_t)(p - der) != len) {
		X509_free(x);
		x = NULL;
	}
	if (!x)
		ERR_clear_error();
	return x;
}

/* RFC 2253 order and escaping, but UTF-8 kept as is (ESC_MSB off) so names read as written. */
static void name_oneline(const X509_NAME *nm, char *out, size_t outlen, uint8_t *cut)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL;
	long n;
	out[0] = '\0';
	if (!b)
		return;
	if (X509_NAME_print_ex(b, nm, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && data) {
		size_t k = (size_t)n < outlen - 1 ? (size_t)n : outlen - 1;
		memcpy(out, data, k);
		out[k] = '\0';
		for (size_t i = 0; i < k; i++)
			if (out[i] == '\0')
				out[i] = '?';
		if ((size_t)n > outlen - 1)
			*cut = 1;
	}
	BIO_free(b);
	ERR_clear_error();
}

static void fill_serial(X509 *x, struct cert_info *ci)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *d = sn ? ASN1_STRING_get0_data(sn) : NULL;
	int n = sn ? ASN1_STRING_length(sn) : 0;
	size_t off = 0;
	if (!d || n <= 0) {
		strcpy(ci->serial, "00");
		return;
	}
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
		ci->serial[off++] = '-';
	if (n > CERT_SERIAL_BYTES) {
		n = CERT_SERIAL_BYTES;
		ci->serial_cut = 1;
	}
	hex_encode(d, (size_t)n, ci->serial + off);
}

static const char *key_type_name(int id)
{
	switch (id) {
	case EVP_PKEY_RSA: return "RSA";
	case EVP_PKEY_RSA_PSS: return "RSA-PSS";
	case EVP_PKEY_EC: return "EC";
	case EVP_PKEY_DSA: return "DSA";
	case EVP_PKEY_ED25519: return "ED25519";
	case EVP_PKEY_ED448: return "ED448";
	default: return "unknown";
	}
}

static void fill_key(X509 *x, struct cert_info *ci)
{
	EVP_PKEY *pk = X509_get0_pubkey(x);   /* NULL for an unknown algorithm or a malformed key */
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
	unsigned char *spki = NULL;
	int n;

	if (xpk && (n = i2d_X509_PUBKEY(xpk, &spki)) > 0)
		digest_hex(digest_sha256(), spki, (size_t)n, ci->spki_sha256);
	OPENSSL_free(spki);
	if (pk) {
		int id = EVP_PKEY_get_base_id(pk);
		BIGNUM *e = NULL;
		snprintf(ci->key_type, sizeof(ci->key_type), "%s", key_type_name(id));
		ci->key_bits = EVP_PKEY_get_bits(pk);
		if ((id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) &&
		    EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &e) && BN_num_bits(e) <= 64)
			ci->rsa_exponent = BN_get_word(e);
		BN_free(e);
	}
	ERR_clear_error();
}

/* DNS names of subjectAltName: all counted, the first CERT_MAX_SAN that fit kept.  The loop is bounded by the
 * extension, itself bounded by the DER the TLS parser capped. */
static void fill_san(X509 *x, struct cert_info *ci, struct cert_stats *st)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	size_t used = 0;
	int n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int len;
		if (!g || g->type != GEN_DNS || !g->d.dNSName)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (ci->san_total < UINT16_MAX)
			ci->san_total++;
		if (!d || len < 0 || ci->n_san >= CERT_MAX_SAN || used + (size_t)len + 1 > CERT_SAN_BUF) {
			st->san_dropped++;
			continue;
		}
		memcpy(ci->san_buf + used, d, (size_t)len);
		ci->san_buf[used + (size_t)len] = '\0';
		ci->san_off[ci->n_san] = (uint16_t)used;
		ci->san_len[ci->n_san] = (uint16_t)len;
		ci->n_san++;
		used += (size_t)len + 1;
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
}

static void fill_info(X509 *x, struct cert_info *ci, struct cert_stats *st)
{
	ci->parsed = 1;
	ci->version = (uint8_t)(X509_get_version(x) + 1);
	name_oneline(X509_get_subject_name(x), ci->subject, sizeof(ci->subject), &ci->name_cut);
	name_oneline(X509_get_issuer_name(x), ci->issuer, sizeof(ci->issuer), &ci->name_cut);
	fill_serial(x, ci);
	ci->times_ok = cert_time_epoch(X509_get0_notBefore(x), &ci->not_before) &&
		       cert_time_epoch(X509_get0_notAfter(x), &ci->not_after);
	fill_key(x, ci);
	fill_san(x, ci, st);
	ci->has_san = X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0;
	ci->has_key_usage = X509_get_ext_by_NID(x, NID_key_usage, -1) >= 0;
	ci->has_aki = X509_get_ext_by_NID(x, NID_authority_key_identifier, -1) >= 0;
	ci->is_ca = X509_check_ca(x) != 0;
	if (ci->name_cut)
		st->names_cut++;
	if (ci->serial_cut)
		st->serials_cut++;
	ERR_clear_error();
}

/* Fingerprints first: they are facts about the bytes even when the bytes are not a certificate.  dg: the SHA-256
 * of the DER when the caller has it already, else NULL. */
static X509 *parse_one(const struct digests *md, const uint8_t *der, size_t len, const uint8_t *dg,
		       struct cert_info *ci, struct cert_stats *st)
{
	X509 *x;
	memset(ci, 0, sizeof(*ci));
	ci->der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	snprintf(ci->key_type, sizeof(ci->key_type), "unknown");
	if (der && len > 0) {
		digest_hex(md->sha1, der, len, ci->sha1);
		if (dg)
			hex_encode(dg, 32, ci->sha256);
		else
			digest_hex(md->sha256, der, len, ci->sha256);
	}
	x = der_to_x509(der, len);
	if (!x) {
		st->certs_unparsed++;
		return NULL;
	}
	st->certs_parsed++;
	fill_info(x, ci, st);
	return x;
}

bool cert_parse(const uint8_t *der, size_t len, struct cert_info *ci, struct cert_stats *st)
{
	struct cert_stats scratch;
	struct digests md = { digest_sha1(), digest_sha256() };
	X509 *x;
	if (!st) {
		memset(&scratch, 0, sizeof(scratch));
		st = &scratch;
	}
	x = parse_one(&md, der, len, NULL, ci, st);
	X509_free(x);
	return x != NULL;
}

/* ---- through the parsed-certificate cache ------------------------------------------------------------------- */

/* The counters parse_one moved for this certificate, moved again. */
static void pc_replay(struct cert_stats *st, const struct cert_parsed *e)
{
	if (e->x)
		st->certs_parsed++;
	else
		st->certs_unparsed++;
	if (e->ci.name_cut)
		st->names_cut++;
	if (e->ci.serial_cut)
		st->serials_cut++;
	st->san_dropped += e->san_dropped;
}

/* One chain entry through the parsed-certificate cache.  What parse_one finds depends on the DER alone, so a hit
 * copies what the first parse filled in and moves the counters it moved: events and statistics read as if the
 * bytes had been parsed again.  dg receives the SHA-256 of the DER; *have_dg says whether there is one; icpt what
 * the certificate matches of the interception list, also worked out once and then kept with the parse. */
static X509 *parse_cached(struct cert_ctx *cc, const uint8_t *der, size_t len, struct cert_info *ci, uint8_t *dg,
			  uint8_t *have_dg, struct intercept_cert *icpt)
{
	uint64_t san_before = cc->st.san_dropped;
	const struct cert_parsed *e;
	X509 *x;

	*have_dg = der && len > 0 && len <= UINT32_MAX && cert_cache_digest(&cc->cache, der, len, dg);
	if (*have_dg && (e = cert_cache_parsed(&cc->cache, dg, len, &x))) {
		memcpy(ci, &e->ci, sizeof(*ci));
		*icpt = e->icpt;
		pc_replay(&cc->st, e);
		cc->st.cache_hits++;
		return x;
	}
	if (der && len > 0)
		cc->st.cache_misses++;
	x = parse_one(&cc->md, der, len, *have_dg ? dg : NULL, ci, &cc->st);
	intercept_match_cert(cc->icpt, ci, icpt);
	if (*have_dg)
		cert_cache_add_parsed(&cc->cache, dg, x, ci, cc->st.san_dropped - san_before, icpt);
	return x;
}

/* ---- context: trust store, caches ----------------------------------------------------------------------------- */

static int ctx_alloc(struct cert_ctx *cc, const struct cert_cfg *cfg)
{
	if (cfg)
		cc->cfg = *cfg;
	cc->icpt = cfg ? cfg->icpt : NULL;
	cc->fetched[0] = EVP_MD_fetch(NULL, "SHA1", NULL);
	cc->fetched[1] = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
	cc->md.sha1 = cc->fetched[0] ? cc->fetched[0] : EVP_sha1();
	cc->md.sha256 = cc->fetched[1] ? cc->fetched[1] : EVP_sha256();
	return cert_cache_init(&cc->cache, cfg, cc->md.sha256, &cc->st);
}

/* The trust store, and the removed roots when cfg names them: 0, or -1 with the reason in err. */
static int ctx_load(struct cert_ctx *cc, const struct cert_cfg *cfg, char *err, size_t errlen)
{
	if (cert_trust_load(&cc->trust, cfg, err, errlen) < 0)
		return -1;
	if (!cfg || !cfg->removed_roots)
		return 0;
	return cert_history_load(cc->hist, cfg->removed_roots, cfg->removed_pem, err, errlen);
}

struct cert_ctx *cert_ctx_new(const struct cert_cfg *cfg, char *err, size_t errlen)
{
	struct cert_ctx *cc = calloc(1, sizeof(*cc));

	if (cc)
		cc->hist = &cc->own_hist;
	if (!cc || ctx_alloc(cc, cfg) < 0)
		snprintf(err, errlen, "out of memory");
	else if (ctx_load(cc, cfg, err, errlen) == 0)
		return cc;
	cert_ctx_free(cc);
	return NULL;
}

struct cert_ctx *cert_ctx_new_worker(struct cert_ctx *base)
{
	struct cert_ctx *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->worker = true;
	w->cfg = base->cfg;
	w->icpt = base->icpt;
	w->md = base->md;
	w->hist = base->hist; /* its certificates parsed on the first need of any copy */
	w->trust.store = base->trust.store;
	w->trust.bounds_objs = -1;
	if (!w->trust.store || !X509_STORE_up_ref(w->trust.store)) {
		w->trust.store = NULL; /* no reference of its own to drop */
		cert_ctx_free(w);
		return NULL;
	}
	if (cert_cache_init(&w->cache, &w->cfg, w->md.sha256, &w->st) < 0) {
		cert_ctx_free(w);
		return NULL;
	}
	return w;
}

void cert_ctx_merge_stats(struct cert_ctx *base, const struct cert_ctx *w)
{
	uint64_t *d = (uint64_t *)&base->st;
	const uint64_t *s = (const uint64_t *)&w->st;
	_Static_assert(sizeof(struct cert_stats) % sizeof(uint64_t) == 0, "cert_stats holds counters only");
	for (size_t i = 0; i < sizeof(struct cert_stats) / sizeof(uint64_t); i++)
		d[i] += s[i];
}

void cert_ctx_free(struct cert_ctx *cc)
{
	if (!cc)
		return;
	if (cc->worker) {
		X509_STORE_free(cc->trust.store); /* its reference */
		free(cc->trust.bounds);
		cert_cache_free(&cc->cache);
		free(cc);
		return;
	}
	cert_trust_free(&cc->trust);
	cert_history_free(cc->hist);
	cert_cache_free(&cc->cache);
	EVP_MD_free(cc->fetched[0]);
	EVP_MD_free(cc->fetched[1]);
	free(cc);
}

/* A new anchor can change any verification result: the cached ones go. */
int cert_ctx_add_anchor_der(struct cert_ctx *cc, const uint8_t *der, size_t len)
{
	X509 *x = der_to_x509(der, len);
	int rc = cert_trust_add(&cc->trust, x);
	X509_free(x);
	cert_cache_forget_verified(&cc->cache);
	return rc;
}

const struct cert_stats *cert_ctx_stats(const struct cert_ctx *cc)
{
	return &cc->st;
}

const char *cert_ctx_trust_source(const struct cert_ctx *cc)
{
	return cert_trust_source(&cc->trust);
}

/* ---- visibility, chain, attribution -------------------------------------------------------------------------- */

static bool is_tls13(uint16_t v)
{
	return v == 0x0304 || (v >> 8) == 0x7f;
}

/* Never guess: without the Certificate message in clear there is no trust verdict at all. */
static bool chain_visible(const struct tls_info *ti, struct cert_analysis *ca)
{
	const char *why = NULL;
	if (!ti || !ti->sh_seen)
		why = "no ServerHello";
	else if (is_tls13(ti->sh_version))
		why = "TLS 1.3: the certificate is encrypted";
	else if (!ti->cert_seen && ti->certs_truncated)
		why = "Certificate message not fully captured";
	else if (!ti->cert_seen)
		why = "no Certificate message in clear (resumed session, or not captured)";
	if (!why)
		return true;
	ca->trust = CERT_TRUST_NOT_VISIBLE;
	ca->trust_reason = why;
	return false;
}

static void parse_chain(struct cert_ctx *cc, const struct tls_info *ti, struct cert_analysis *ca,
			struct cert_chain_work *cw)
{
	unsigned n = ti->n_certs < CERT_MAX_CHAIN ? ti->n_certs : CERT_MAX_CHAIN;
	for (unsigned i = 0; i < n; i++) {
		cw->xs[i] = parse_cached(cc, ti->certs[i].der, ti->certs[i].len, &ca->chain[i], cw->dg[i],
					 &cw->have_dg[i], &cw->icpt[i]);
		if (!cw->xs[i])
			ca->n_unparsed++;
	}
	ca->n_chain = (uint8_t)n;
	ca->chain_truncated = ti->certs_truncated || ti->n_certs > CERT_MAX_CHAIN;
	if (ca->chain_truncated)
		cc->st.chains_truncated++;
}

static void attribute(struct cert_ctx *cc, const struct cert_chain_work *cw, struct cert_analysis *ca)
{
	struct intercept_match m;
	if (!cc->icpt || !intercept_match_pre(cc->icpt, cw->icpt, ca->n_chain,
					      ca->trust == CERT_TRUST_TRUSTED, &m))
		return;
	ca->match = m.kind == INTERCEPT_NAME ? CERT_MATCH_NAME : CERT_MATCH_FINGERPRINT;
	ca->match_prefix = m.kind == INTERCEPT_PREFIX;
	ca->match_cert = m.cert;
	ca->match_field = m.field;
	ca->match_confidence = m.confidence;
	ca->interception_ca = m.label;
	if (ca->match == CERT_MATCH_NAME)
		cc->st.match_name++;
	else
		cc->st.match_fingerprint++;
}

/* ---- forgery hints ------------------------------------------------------------------------------------------- */

static bool span_75d(const struct cert_info *ci)
{
	int64_t span = ci->not_after - ci->not_before;
	return ci->times_ok && span >= CERT_HINT_75D_MIN && span <= CERT_HINT_75D_MAX;
}

static int64_t mod_pos(int64_t a, int64_t m)
{
	int64_t r = a % m;
	return r < 0 ? r + m : r;
}

/* Both ends on an exact hour, the start not at midnight UTC, and the start within CERT_HINT_FRESH_S of the
 * packet: a generator that rounds the moment of forging down to the hour, forging on the fly.  Public CAs keep
 * the seconds of issuance (Let's Encrypt, Google), use whole days (00:00:00 to 23:59:59: DigiCert, Sectigo) or
 * a local midnight (07:00:00 UTC: GoDaddy, Starfield) - and their certificates are rarely seen within two days
 * of issuance. */
static bool whole_hours(const struct cert_info *ci, int64_t at)
{
	int64_t age = at - ci->not_before;
	return ci->times_ok && mod_pos(ci->not_before, 3600) == 0 && mod_pos(ci->not_after, 3600) == 0 &&
	       mod_pos(ci->not_before, 86400) != 0 && age <= CERT_HINT_FRESH_S && age >= -CERT_HINT_FRESH_S;
}

static uint32_t chain_hints(const struct cert_analysis *ca)
{
	const struct cert_info *leaf = &ca->chain[0];
	uint32_t h = 0;
	for (unsigned i = 0; i < ca->n_chain; i++) {
		const struct cert_info *ci = &ca->chain[i];
		if (!ci->parsed)
			continue;
		if (ci->rsa_exponent == 3)
			h |= 1u << CERT_HINT_RSA_EXPONENT_3;
		if (i > 0 && span_75d(ci))
			h |= 1u << CERT_HINT_CA_VALIDITY_75D;
	}
	if (ca->n_chain == 0 || !leaf->parsed)
		return h;
	if (span_75d(leaf))
		h |= 1u << CERT_HINT_LEAF_VALIDITY_75D;
	if (!leaf->has_san || !leaf->has_key_usage || !leaf->has_aki)
		h |= 1u << CERT_HINT_EXTENSIONS_STRIPPED;
	if (whole_hours(leaf, (int64_t)(ca->validated_at_us / 1000000u)))
		h |= 1u << CERT_HINT_VALIDITY_WHOLE_HOURS;
	return h;
}

/* Compare with what the memory holds for the name: another leaf that copies this one's subject or whose
 * validity is this one's shifted by whole hours (a forger copying the genuine dates in the wrong time zone). */
static uint32_t compare_variant(const struct cert_variant *w, const struct cert_variant *v)
{
	uint32_t h = 0;
	bool other = w->spki_h != v->spki_h || w->issuer_h != v->issuer_h;
	if (w->subject_h == v->subject_h && w->spki_h != v->spki_h)
		h |= 1u << CERT_HINT_SAME_SUBJECT_OTHER_KEY;
	if (w->subject_h == v->subject_h && w->issuer_h != v->issuer_h)
		h |= 1u << CERT_HINT_SAME_SUBJECT_OTHER_ISSUER;
	if (other && w->times_ok && v->times_ok) {
		int64_t d = w->not_before - v->not_before;
		if (d < 0)
			d = -d;
		if (d != 0 && d % 3600 == 0 && d / 3600 <= CERT_HINT_SHIFT_MAX_HOURS)
			h |= 1u << CERT_HINT_VALIDITY_SHIFTED_HOURS;
	}
	if (!v->trusted && w->trusted && w->issuer_h != v->issuer_h)
		h |= 1u << CERT_HINT_OTHER_ISSUER_TRUSTED;
	return h;
}

static uint32_t memory_hints(struct cert_ctx *cc, const struct tls_info *ti, const struct cert_analysis *ca)
{
	const struct cert_info *leaf = &ca->chain[0];
	struct cert_variant v;
	struct cert_name *e;
	uint32_t h = 0;
	bool known = false;

	if (!ti->sni_present || ti->sni_len == 0 || ca->n_chain == 0 || !leaf->parsed)
		return 0;
	if (!(e = cert_cache_name(&cc->cache, ti->sni, ti->sni_len)))
		return 0;
	v.subject_h = cert_cache_str_hash(&cc->cache, leaf->subject);
	v.issuer_h = cert_cache_str_hash(&cc->cache, leaf->issuer);
	v.spki_h = cert_cache_str_hash(&cc->cache, leaf->spki_sha256);
	v.not_before = leaf->not_before;
	v.times_ok = leaf->times_ok;
	v.trusted = ca->trust == CERT_TRUST_TRUSTED;
	for (unsigned i = 0; i < e->n; i++) {
		struct cert_variant *w = &e->v[i];
		if (w->subject_h == v.subject_h && w->issuer_h == v.issuer_h && w->spki_h == v.spki_h) {
			w->trusted |= v.trusted;
			known = true;
			continue;
		}
		h |= compare_variant(w, &v);
	}
	if (!known && e->n < CERT_MEM_VARIANTS)
		e->v[e->n++] = v;
	else if (!known)
		cc->st.mem_variants_dropped++;
	return h;
}

/* ---- the per-flow analysis ----------------------------------------------------------------------------------- */

static void set_outcome(struct cert_ctx *cc, struct cert_analysis *ca)
{
	if (ca->trust == CERT_TRUST_UNKNOWN_ANCHOR) {
		ca->trust_code = 0;
		ca->trust_reason = ca->removed_date && ca->removed_date[0]
					   ? "anchor not known at the packet's time: a root since removed"
					   : "anchor not known at the packet's time: a root removed at an unrecorded date";
		cc->st.unknown_anchor++;
		return;
	}
	if (ca->n_errors == 1 && ca->errors[0].code == CERT_ERR_UNSUPPORTED_ALG) {
		ca->trust = CERT_TRUST_UNVERIFIABLE;
		ca->trust_code = CERT_ERR_UNSUPPORTED_ALG;
		ca->trust_reason = cert_error_string(CERT_ERR_UNSUPPORTED_ALG);
		cc->st.unsupported_alg++;
		return;
	}
	if (ca->n_errors == 0) {
		ca->trust = CERT_TRUST_TRUSTED;
		ca->trust_code = 0;
		ca->trust_reason = ca->removed_anchor ? "trusted at the packet's time: its root has left the store since"
						      : cert_error_string(0);
		cc->st.trusted++;
		return;
	}
	ca->trust = CERT_TRUST_UNTRUSTED;
	ca->trust_code = ca->errors[0].code;
	ca->trust_reason = cert_error_string(ca->errors[0].code);
	cc->st.untrusted++;
}

/* Everything before errors[] is read whatever the flow; errors[] and chain[] only up to n_errors and n_chain, and
 * what is read is written first.  Clearing the whole 22 KB for every flow cost more than a cached analysis. */
_Static_assert(offsetof(struct cert_analysis, chain) ==
		       offsetof(struct cert_analysis, errors) + sizeof(((struct cert_analysis *)0)->errors) &&
	       sizeof(struct cert_analysis) ==
		       offsetof(struct cert_analysis, chain) + sizeof(((struct cert_analysis *)0)->chain),
	       "errors[] and chain[] must be the last members of struct cert_analysis");

void cert_analyze_chain(struct cert_ctx *cc, const struct tls_info *ti, uint64_t ts_us, struct cert_analysis *ca)
{
	struct cert_chain_work cw;

	memset(ca, 0, offsetof(struct cert_analysis, errors));
	ca->validated_at_us = ts_us;
	ca->time_unchecked = ts_us / 1000000u < (uint64_t)CERT_CLOCK_UNSET_BEFORE;
	if (!chain_visible(ti, ca)) {
		cc->st.not_visible++;
		return;
	}
	cc->st.chains++;
	memset(cw.xs, 0, sizeof(cw.xs));
	parse_chain(cc, ti, ca, &cw);
	if (ca->n_chain == 0)
		cert_add_error(ca, &cc->st, CERT_ERR_EMPTY_CHAIN, 0);
	else if (!cw.xs[0])
		cert_add_error(ca, &cc->st, CERT_ERR_LEAF_UNPARSED, 0);
	else
		cert_validate(cc, ti, &cw, ca);
	if (ca->time_unchecked)
		cc->st.time_unchecked++;
	set_outcome(cc, ca);
	attribute(cc, &cw, ca);
	ca->hints = chain_hints(ca);
	for (unsigned i = 0; i < CERT_MAX_CHAIN; i++)
		X509_free(cw.xs[i]);
}

void cert_memory_hints(struct cert_ctx *cc, const struct tls_info *ti, struct cert_analysis *ca)
{
	if (ca->trust != CERT_TRUST_NOT_VISIBLE)
		ca->hints |= memory_hints(cc, ti, ca);
}

void cert_analyze(struct cert_ctx *cc, const struct tls_info *ti, uint64_t ts_us, struct cert_analysis *ca)
{
	cert_analyze_chain(cc, ti, ts_us, ca);
	cert_memory_hints(cc, ti, ca);
}
