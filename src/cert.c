/* cert.c - X.509 chains of TLS <= 1.2 handshakes (RFC 5280 sections 4.1, 4.2.1 and 6; RFC 6125 section 6):
 * parse with libcrypto, fingerprint, validate at packet time, attribute to known interception CAs, and collect
 * forgery hints.  See cert.h for the contract. */
#include <limits.h>
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

#include "cert.h"
#include "intercept.h"
#include "util.h"
#include "verdict.h"

/* One remembered leaf certificate of a server name (hashes of its strings: a collision only hides a hint). */
struct mem_variant {
	uint64_t subject_h, issuer_h, spki_h;
	int64_t not_before;
	uint8_t times_ok;
	uint8_t trusted;            /* validated in at least one flow */
};

struct mem_entry {
	char *sni;                  /* NULL: free slot */
	uint16_t sni_len;
	uint8_t n;
	struct mem_variant v[CERT_MEM_VARIANTS];
};

struct cert_ctx {
	X509_STORE *store;
	const struct intercept_db *icpt;
	struct mem_entry *mem;      /* open addressing, mem_slots a power of two >= 2 * mem_max */
	uint32_t mem_slots, mem_max, mem_used;
	uint64_t seed;
	struct cert_stats st;
};

static const char *const hint_names[CERT_HINT__COUNT] = {
	[CERT_HINT_LEAF_VALIDITY_75D] = "leaf_validity_75d",
	[CERT_HINT_CA_VALIDITY_75D] = "ca_validity_75d",
	[CERT_HINT_RSA_EXPONENT_3] = "rsa_exponent_3",
	[CERT_HINT_EXTENSIONS_STRIPPED] = "extensions_stripped",
	[CERT_HINT_VALIDITY_WHOLE_HOURS] = "validity_whole_hours",
	[CERT_HINT_VALIDITY_SHIFTED_HOURS] = "validity_shifted_hours",
	[CERT_HINT_SAME_SUBJECT_OTHER_KEY] = "same_subject_other_key",
	[CERT_HINT_SAME_SUBJECT_OTHER_ISSUER] = "same_subject_other_issuer",
	[CERT_HINT_OTHER_ISSUER_TRUSTED] = "other_issuer_trusted",
};

const char *cert_hint_name(enum cert_hint h)
{
	return (unsigned)h < CERT_HINT__COUNT ? hint_names[h] : "unknown";
}

const char *cert_trust_name(enum cert_trust t)
{
	switch (t) {
	case CERT_TRUST_TRUSTED: return "trusted";
	case CERT_TRUST_UNTRUSTED: return "untrusted";
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
	default: return code >= 0 ? X509_verify_cert_error_string(code) : "unknown error";
	}
}

/* ---- small helpers ------------------------------------------------------------------------------------------ */

/* FNV-1a; seeded where an attacker picks the keys (table slots), unseeded for fingerprints of strings. */
static uint64_t fnv1a(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t str_hash(const char *s)
{
	return fnv1a(s, strlen(s), 0);
}

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

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil): no time_t range or
 * time zone involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return false;
	}
	*out = days_from_civil((int64_t)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) * 86400 +
	       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

/* ---- parsing ------------------------------------------------------------------------------------------------ */

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
		digest_hex(EVP_sha256(), spki, (size_t)n, ci->spki_sha256);
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
	ci->times_ok = asn1_time_epoch(X509_get0_notBefore(x), &ci->not_before) &&
		       asn1_time_epoch(X509_get0_notAfter(x), &ci->not_after);
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

/* Fingerprints first: they are facts about the bytes even when the bytes are not a certificate. */
static X509 *parse_one(const uint8_t *der, size_t len, struct cert_info *ci, struct cert_stats *st)
{
	X509 *x;
	memset(ci, 0, sizeof(*ci));
	ci->der_len = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	snprintf(ci->key_type, sizeof(ci->key_type), "unknown");
	if (der && len > 0) {
		digest_hex(EVP_sha1(), der, len, ci->sha1);
		digest_hex(EVP_sha256(), der, len, ci->sha256);
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
	X509 *x;
	if (!st) {
		memset(&scratch, 0, sizeof(scratch));
		st = &scratch;
	}
	x = parse_one(der, len, ci, st);
	X509_free(x);
	return x != NULL;
}

/* ---- context: trust store and name memory -------------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

struct cert_ctx *cert_ctx_new(const struct cert_cfg *cfg, char *err, size_t errlen)
{
	struct cert_ctx *cc = calloc(1, sizeof(*cc));
	const char *bundle = cfg && cfg->ca_bundle ? cfg->ca_bundle : CERT_DEFAULT_BUNDLE;
	uint32_t names = cfg && cfg->memory_names ? cfg->memory_names : CERT_DEFAULT_MEMORY;

	if (!cc || !(cc->store = X509_STORE_new())) {
		snprintf(err, errlen, "out of memory");
		cert_ctx_free(cc);
		return NULL;
	}
	cc->icpt = cfg ? cfg->icpt : NULL;
	cc->seed = cfg ? cfg->seed : 0;
	cc->mem_max = names;
	cc->mem_slots = pow2_at_least(names * 2);
	cc->mem = calloc(cc->mem_slots, sizeof(*cc->mem));
	if (!cc->mem) {
		snprintf(err, errlen, "out of memory");
		cert_ctx_free(cc);
		return NULL;
	}
	if (bundle[0] == '\0')
		return cc;                    /* "": an empty store (tests, fuzzing) */
	if (!X509_STORE_load_file(cc->store, bundle)) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: cannot load CA certificates (PEM bundle expected; see --ca-bundle)", bundle);
		cert_ctx_free(cc);
		return NULL;
	}
	if (sk_X509_OBJECT_num(X509_STORE_get0_objects(cc->store)) == 0) {
		snprintf(err, errlen, "%s: no CA certificate in the file", bundle);
		cert_ctx_free(cc);
		return NULL;
	}
	return cc;
}

void cert_ctx_free(struct cert_ctx *cc)
{
	if (!cc)
		return;
	X509_STORE_free(cc->store);
	if (cc->mem)
		for (uint32_t i = 0; i < cc->mem_slots; i++)
			free(cc->mem[i].sni);
	free(cc->mem);
	free(cc);
}

int cert_ctx_add_anchor_der(struct cert_ctx *cc, const uint8_t *der, size_t len)
{
	X509 *x = der_to_x509(der, len);
	int ok = x && X509_STORE_add_cert(cc->store, x);
	X509_free(x);
	ERR_clear_error();
	return ok ? 0 : -1;
}

const struct cert_stats *cert_ctx_stats(const struct cert_ctx *cc)
{
	return &cc->st;
}

/* The memory entry of a name; created when there is room (else counted and NULL). */
static struct mem_entry *mem_get(struct cert_ctx *cc, const char *sni, size_t len)
{
	uint32_t mask = cc->mem_slots - 1;
	uint32_t i = (uint32_t)fnv1a(sni, len, cc->seed) & mask;
	for (uint32_t probes = 0; probes < cc->mem_slots; probes++, i = (i + 1) & mask) {
		struct mem_entry *e = &cc->mem[i];
		if (e->sni && e->sni_len == len && memcmp(e->sni, sni, len) == 0)
			return e;
		if (e->sni)
			continue;
		if (cc->mem_used >= cc->mem_max || !(e->sni = malloc(len + 1))) {
			cc->st.mem_names_dropped++;
			return NULL;
		}
		memcpy(e->sni, sni, len);
		e->sni[len] = '\0';
		e->sni_len = (uint16_t)len;
		cc->mem_used++;
		return e;
	}
	cc->st.mem_names_dropped++;
	return NULL;
}

/* ---- validation ---------------------------------------------------------------------------------------------- */

static void add_error(struct cert_analysis *ca, struct cert_stats *st, int code, int depth)
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
};

/* Record every problem and let OpenSSL go on: an expired forged leaf under an unknown root is two facts, and
 * the OONI class depends on which ones are there, not only on the first. */
static int verify_cb(int ok, X509_STORE_CTX *sctx)
{
	struct verify_rec *r = X509_STORE_CTX_get_app_data(sctx);
	if (!ok && r)
		add_error(r->ca, r->st, X509_STORE_CTX_get_error(sctx), X509_STORE_CTX_get_error_depth(sctx));
	return 1;
}

/* Host name from the SNI, as a browser would check it; no SNI: no check, and the event says so. */
static void set_host(X509_VERIFY_PARAM *vp, const struct tls_info *ti, struct cert_analysis *ca,
		     struct cert_stats *st)
{
	if (!ti->sni_present || ti->sni_len == 0) {
		ca->name_check = CERT_NAME_NO_SNI;
		return;
	}
	ca->name_check = CERT_NAME_MATCH;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (!X509_VERIFY_PARAM_set1_host(vp, ti->sni, ti->sni_len)) {
		/* Refused (an embedded NUL): no certificate can be for this name. */
		ERR_clear_error();
		add_error(ca, st, CERT_ERR_BAD_SNI, 0);
		ca->name_check = CERT_NAME_MISMATCH;
	}
}

/* The chain's other certificates are untrusted intermediates, as a TLS client treats them; trust comes only
 * from the store.  "ssl_server" sets the purpose and trust checks libssl uses on the client side. */
static void validate(struct cert_ctx *cc, const struct tls_info *ti, X509 **xs, struct cert_analysis *ca)
{
	STACK_OF(X509) *inter = sk_X509_new_null();
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	struct verify_rec rec = { ca, &cc->st };
	bool ran = false;

	for (unsigned i = 1; inter && i < ca->n_chain; i++)
		if (xs[i] && !sk_X509_push(inter, xs[i]))
			break;
	if (inter && sctx && X509_STORE_CTX_init(sctx, cc->store, xs[0], inter)) {
		X509_VERIFY_PARAM *vp;
		X509_STORE_CTX_set_default(sctx, "ssl_server");
		vp = X509_STORE_CTX_get0_param(sctx);
		X509_VERIFY_PARAM_set_time(vp, (time_t)(ca->validated_at_us / 1000000u));
		set_host(vp, ti, ca, &cc->st);
		X509_STORE_CTX_set_verify_cb(sctx, verify_cb);
		X509_STORE_CTX_set_app_data(sctx, &rec);
		ran = X509_verify_cert(sctx) >= 0;
	}
	if (!ran) {
		cc->st.verify_failed++;
		add_error(ca, &cc->st, CERT_ERR_VERIFY_FAILED, 0);
	}
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (ca->errors[i].code == X509_V_ERR_HOSTNAME_MISMATCH)
			ca->name_check = CERT_NAME_MISMATCH;
	X509_STORE_CTX_free(sctx);
	sk_X509_free(inter);              /* the certificates belong to the caller */
	ERR_clear_error();
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

static void parse_chain(struct cert_ctx *cc, const struct tls_info *ti, struct cert_analysis *ca, X509 **xs)
{
	unsigned n = ti->n_certs < CERT_MAX_CHAIN ? ti->n_certs : CERT_MAX_CHAIN;
	for (unsigned i = 0; i < n; i++) {
		xs[i] = parse_one(ti->certs[i].der, ti->certs[i].len, &ca->chain[i], &cc->st);
		if (!xs[i])
			ca->n_unparsed++;
	}
	ca->n_chain = (uint8_t)n;
	ca->chain_truncated = ti->certs_truncated || ti->n_certs > CERT_MAX_CHAIN;
	if (ca->chain_truncated)
		cc->st.chains_truncated++;
}

static void attribute(struct cert_ctx *cc, struct cert_analysis *ca)
{
	struct intercept_match m;
	if (!cc->icpt || !intercept_match_chain(cc->icpt, ca->chain, ca->n_chain,
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
static uint32_t compare_variant(const struct mem_variant *w, const struct mem_variant *v)
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
	struct mem_variant v;
	struct mem_entry *e;
	uint32_t h = 0;
	bool known = false;

	if (!ti->sni_present || ti->sni_len == 0 || ca->n_chain == 0 || !leaf->parsed)
		return 0;
	if (!(e = mem_get(cc, ti->sni, ti->sni_len)))
		return 0;
	v.subject_h = str_hash(leaf->subject);
	v.issuer_h = str_hash(leaf->issuer);
	v.spki_h = str_hash(leaf->spki_sha256);
	v.not_before = leaf->not_before;
	v.times_ok = leaf->times_ok;
	v.trusted = ca->trust == CERT_TRUST_TRUSTED;
	for (unsigned i = 0; i < e->n; i++) {
		struct mem_variant *w = &e->v[i];
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
	if (ca->n_errors == 0) {
		ca->trust = CERT_TRUST_TRUSTED;
		ca->trust_code = 0;
		ca->trust_reason = cert_error_string(0);
		cc->st.trusted++;
		return;
	}
	ca->trust = CERT_TRUST_UNTRUSTED;
	ca->trust_code = ca->errors[0].code;
	ca->trust_reason = cert_error_string(ca->errors[0].code);
	cc->st.untrusted++;
}

void cert_analyze(struct cert_ctx *cc, const struct tls_info *ti, uint64_t ts_us, struct cert_analysis *ca)
{
	X509 *xs[CERT_MAX_CHAIN] = { 0 };

	memset(ca, 0, sizeof(*ca));
	ca->validated_at_us = ts_us;
	if (!chain_visible(ti, ca)) {
		cc->st.not_visible++;
		return;
	}
	cc->st.chains++;
	parse_chain(cc, ti, ca, xs);
	if (ca->n_chain == 0)
		add_error(ca, &cc->st, CERT_ERR_EMPTY_CHAIN, 0);
	else if (!xs[0])
		add_error(ca, &cc->st, CERT_ERR_LEAF_UNPARSED, 0);
	else
		validate(cc, ti, xs, ca);
	set_outcome(cc, ca);
	attribute(cc, ca);
	ca->hints = chain_hints(ca) | memory_hints(cc, ti, ca);
	for (unsigned i = 0; i < CERT_MAX_CHAIN; i++)
		X509_free(xs[i]);
}

/* ---- verdict mapping ----------------------------------------------------------------------------------------- */

static bool has_error(const struct cert_analysis *ca, int code, int depth)
{
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (ca->errors[i].code == code && (depth < 0 || ca->errors[i].depth == depth))
			return true;
	return false;
}

static bool is_authority_error(int code)
{
	switch (code) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_REJECTED:
		return true;
	default:
		return false;
	}
}

/* Go's crypto/x509 Verify order, which OONI's failure strings come from: the leaf's own validity, then the
 * host name, then building a path to a root. */
int cert_fail_class(const struct cert_analysis *ca)
{
	if (ca->trust != CERT_TRUST_UNTRUSTED)
		return VCERT_NONE;
	if (has_error(ca, X509_V_ERR_CERT_HAS_EXPIRED, 0) || has_error(ca, X509_V_ERR_CERT_NOT_YET_VALID, 0) ||
	    has_error(ca, CERT_ERR_LEAF_UNPARSED, -1) || has_error(ca, CERT_ERR_EMPTY_CHAIN, -1))
		return VCERT_INVALID_CERTIFICATE;
	if (has_error(ca, X509_V_ERR_HOSTNAME_MISMATCH, -1) || has_error(ca, CERT_ERR_BAD_SNI, -1))
		return VCERT_INVALID_HOSTNAME;
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (is_authority_error(ca->errors[i].code))
			return VCERT_UNKNOWN_AUTHORITY;
	return VCERT_INVALID_CERTIFICATE;
}

const char *cert_ooni_failure(const struct cert_analysis *ca)
{
	switch (cert_fail_class(ca)) {
	case VCERT_UNKNOWN_AUTHORITY: return "ssl_unknown_authority";
	case VCERT_INVALID_HOSTNAME: return "ssl_invalid_hostname";
	case VCERT_INVALID_CERTIFICATE: return "ssl_invalid_certificate";
	default: return NULL;
	}
}

void cert_apply_verdict(const struct cert_analysis *ca, struct verdict_result *vr)
{
	enum verdict v = vr->verdict;
	if (ca->trust == CERT_TRUST_NOT_VISIBLE)
		return;
	if (ca->match == CERT_MATCH_FINGERPRINT || ca->match == CERT_MATCH_NAME) {
		if (v == V_OK || v == V_TLS_ALERT || v == V_INCOMPLETE || v == V_CLIENT_ABORT)
			verdict_set_cert(vr, V_TLS_MITM, (enum verdict_cert_fail)cert_fail_class(ca));
		return;
	}
	if (ca->trust == CERT_TRUST_UNTRUSTED && (v == V_OK || v == V_CLIENT_ABORT))
		verdict_set_cert(vr, V_TLS_UNTRUSTED_CERT, (enum verdict_cert_fail)cert_fail_class(ca));
}
