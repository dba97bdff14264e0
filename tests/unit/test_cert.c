#define _GNU_SOURCE /* memmem */
/* test_cert.c - certificate chains: parsing, validation at packet time, interception-CA attribution, forgery
 * hints, cross-network consistency and the JSON.  Every certificate is built here at run time with the OpenSSL
 * API (EC P-256 keys, one RSA-2048 key with exponent 3). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "cert_history.h"
#include "certstats.h"
#include "htab.h"
#include "intercept.h"
#include "json.h"
#include "out_cert.h"
#include "tls.h"
#include "verdict.h"

#define DAY 86400LL
#define T0 1715729838LL /* 2024-05-14T23:37:18Z: the reference incident */
#define US(t) ((uint64_t)(t) * 1000000u)

/* ---- building certificates ------------------------------------------------------------------------------------- */

struct keys {
	EVP_PKEY *root, *inter, *leaf, *other, *rsa_e3;
};
static struct keys K;

static EVP_PKEY *ec_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	assert_non_null(k);
	return k;
}

static EVP_PKEY *rsa_e3_key(void)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	BIGNUM *e = BN_new();
	EVP_PKEY *k = NULL;
	assert_non_null(c);
	assert_non_null(e);
	assert_true(BN_set_word(e, 3));
	assert_int_equal(EVP_PKEY_keygen_init(c), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(c, 2048), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(c, e), 1);
	assert_int_equal(EVP_PKEY_keygen(c, &k), 1);
	BN_free(e);
	EVP_PKEY_CTX_free(c);
	return k;
}

struct spec {
	const char *subject;      /* "/C=KZ/O=ISCA/CN=..." */
	EVP_PKEY *key;
	X509 *issuer;             /* NULL: self-signed */
	EVP_PKEY *issuer_key;
	int64_t not_before, not_after;
	int ca;
	const char *san;          /* "DNS:a,DNS:b" or NULL */
	int stripped;             /* no SAN, no keyUsage, no AKI */
	long serial;
};

static X509_NAME *mk_name(const char *s)
{
	X509_NAME *n = X509_NAME_new();
	char buf[512], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		char *eq = strchr(tok, '=');
		assert_non_null(eq);
		*eq = '\0';
		assert_int_equal(X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0), 1);
	}
	return n;
}

static void add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *mk_cert(const struct spec *s)
{
	X509 *x = X509_new();
	X509_NAME *n = mk_name(s->subject);
	X509V3_CTX ctx;
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial ? s->serial : 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->not_after));
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : n);
	X509_NAME_free(n);
	assert_int_equal(X509_set_pubkey(x, s->key), 1);
	X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (!s->stripped) {
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
		add_ext(x, &ctx, NID_key_usage,
			s->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
		if (s->san)
			add_ext(x, &ctx, NID_subject_alt_name, s->san);
	}
	if (!s->ca)
		add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
	assert_true(X509_sign(x, s->issuer_key ? s->issuer_key : s->key, EVP_sha256()) > 0);
	return x;
}

static X509 *mk_root(const char *subject, EVP_PKEY *key, int64_t nb, int64_t na)
{
	struct spec s = { .subject = subject, .key = key, .not_before = nb, .not_after = na, .ca = 1 };
	return mk_cert(&s);
}

static X509 *mk_ca(const char *subject, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int64_t nb, int64_t na)
{
	struct spec s = { .subject = subject, .key = key, .issuer = issuer, .issuer_key = ikey,
			  .not_before = nb, .not_after = na, .ca = 1, .serial = 2 };
	return mk_cert(&s);
}

static X509 *mk_leaf(const char *name, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, int64_t nb, int64_t na)
{
	char subj[300], san[300];
	struct spec s = { .subject = subj, .key = key, .issuer = issuer, .issuer_key = ikey,
			  .not_before = nb, .not_after = na, .san = san, .serial = 0x1234567 };
	snprintf(subj, sizeof(subj), "/CN=%s", name);
	snprintf(san, sizeof(san), "DNS:%s,DNS:www.%s", name, name);
	return mk_cert(&s);
}

/* ---- a tls_info holding a chain, as the TLS parser would leave it ----------------------------------------------- */

static void ti_set(struct tls_info *ti, X509 **xs, int n, const char *sni)
{
	memset(ti, 0, sizeof(*ti));
	ti->sh_seen = 1;
	ti->sh_version = 0x0303;
	ti->cert_seen = 1;
	if (sni) {
		ti->sni_present = 1;
		ti->sni_len = (uint16_t)strlen(sni);
		ti->sni = strdup(sni);
		assert_non_null(ti->sni);
	}
	if (n > 0) { /* the parser's slots come with the first certificate */
		ti->certs = calloc(TLS_MAX_CERTS, sizeof(*ti->certs));
		assert_non_null(ti->certs);
	}
	snprintf(ti->ja3, sizeof(ti->ja3), "%s", "0123456789abcdef0123456789abcdef");
	snprintf(ti->ja3s, sizeof(ti->ja3s), "%s", "fedcba9876543210fedcba9876543210");
	for (int i = 0; i < n && i < TLS_MAX_CERTS; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(xs[i], &der);
		assert_true(len > 0);
		ti->certs[i].der = malloc((size_t)len);
		assert_non_null(ti->certs[i].der);
		memcpy(ti->certs[i].der, der, (size_t)len);
		ti->certs[i].len = (uint32_t)len;
		ti->n_certs++;
		OPENSSL_free(der);
	}
}

static void ti_free(struct tls_info *ti)
{
	tls_info_release(ti);
}

static char *write_pem(X509 **xs, int n)
{
	static char path[64];
	int fd;
	FILE *fp;
	snprintf(path, sizeof(path), "/tmp/test_cert.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	for (int i = 0; i < n; i++)
		assert_int_equal(PEM_write_X509(fp, xs[i]), 1);
	fclose(fp);
	return path;
}

/* A fixed seed keeps the indexes' layout the same run to run; results must not depend on it either way. */
static const struct hseed SEED = { { 42, 43 } };

static struct cert_ctx *ctx_with(X509 **anchors, int n, const struct intercept_db *db)
{
	struct cert_cfg cfg = { .ca_bundle = "", .icpt = db, .seed = &SEED };
	char err[256];
	struct cert_ctx *cc = cert_ctx_new(&cfg, err, sizeof(err));
	assert_non_null(cc);
	for (int i = 0; i < n; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(anchors[i], &der);
		assert_int_equal(cert_ctx_add_anchor_der(cc, der, (size_t)len), 0);
		OPENSSL_free(der);
	}
	return cc;
}

static void x509_sha1_hex(X509 *x, char out[41])
{
	unsigned char md[20];
	unsigned int n = 0;
	assert_int_equal(X509_digest(x, EVP_sha1(), md, &n), 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static bool has_hint(const struct cert_analysis *ca, enum cert_hint h)
{
	return (ca->hints & (1u << h)) != 0;
}

static bool has_code(const struct cert_analysis *ca, int code, int depth)
{
	for (unsigned i = 0; i < ca->n_errors; i++)
		if (ca->errors[i].code == code && ca->errors[i].depth == depth)
			return true;
	return false;
}

/* The OONI failure string of a chain as events carry it: through the verdict stage's one mapping, from a verdict
 * that says nothing went wrong (NULL when the chain changes nothing). */
static const char *ooni_failure(const struct cert_analysis *ca)
{
	struct verdict_result vr;
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, ca);
	return verdict_ooni_failure(&vr);
}

/* A genuine PKI valid around T0: root -> intermediate -> leaf (EC P-256). */
struct pki {
	X509 *root, *inter, *leaf;
};

static void pki_make(struct pki *p, const char *name, int64_t leaf_nb, int64_t leaf_na)
{
	p->root = mk_root("/O=Lab/CN=Lab Root", K.root, T0 - 3000 * DAY, T0 + 3000 * DAY);
	p->inter = mk_ca("/O=Lab/CN=Lab Issuing CA", K.inter, p->root, K.root, T0 - 2000 * DAY, T0 + 2000 * DAY);
	p->leaf = mk_leaf(name, K.leaf, p->inter, K.inter, leaf_nb, leaf_na);
}

static void pki_free(struct pki *p)
{
	X509_free(p->root);
	X509_free(p->inter);
	X509_free(p->leaf);
}

static void analyze(struct cert_ctx *cc, X509 **xs, int n, const char *sni, int64_t t, struct cert_analysis *ca)
{
	struct tls_info ti;
	ti_set(&ti, xs, n, sni);
	cert_analyze(cc, &ti, US(t), ca);
	ti_free(&ti);
}

static struct cert_analysis CA; /* 22 KB: not on the test's stack */

/* ---- validation ------------------------------------------------------------------------------------------------ */

static void test_trusted_chain(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	char sha1[41];

	analyze(cc, chain, 2, "good.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(CA.trust_code, 0);
	assert_string_equal(CA.trust_reason, "ok");
	assert_int_equal(CA.name_check, CERT_NAME_MATCH);
	assert_int_equal(CA.n_chain, 2);
	assert_int_equal(CA.match, CERT_MATCH_NONE);
	assert_string_equal(CA.chain[0].subject, "CN=good.example");
	assert_string_equal(CA.chain[0].issuer, "CN=Lab Issuing CA,O=Lab");
	assert_string_equal(CA.chain[0].key_type, "EC");
	assert_int_equal(CA.chain[0].key_bits, 256);
	assert_int_equal(CA.chain[0].n_san, 2);
	assert_string_equal(CA.chain[0].san_buf + CA.chain[0].san_off[1], "www.good.example");
	assert_string_equal(CA.chain[0].serial, "01234567");
	assert_int_equal(CA.chain[0].not_before, T0 - 30 * DAY);
	assert_true(CA.chain[1].is_ca);
	assert_false(CA.chain[0].is_ca);
	x509_sha1_hex(p.leaf, sha1);
	assert_string_equal(CA.chain[0].sha1, sha1);
	assert_int_equal(strlen(CA.chain[0].spki_sha256), 64);
	assert_null(ooni_failure(&CA));
	assert_int_equal(cert_ctx_stats(cc)->trusted, 1);

	/* No SNI: trusted, and the event says the name was not checked. */
	analyze(cc, chain, 2, NULL, T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(CA.name_check, CERT_NAME_NO_SNI);
	cert_ctx_free(cc);
	pki_free(&p);
}

static void test_packet_time_not_wall_clock(void **state)
{
	int64_t now = (int64_t)time(NULL);
	X509 *root = mk_root("/CN=Now Root", K.root, now - 3000 * DAY, now + 3000 * DAY);
	X509 *leaf_now = mk_leaf("a.example", K.leaf, root, K.root, now - 10 * DAY, now + 10 * DAY);
	X509 *leaf_old = mk_leaf("a.example", K.leaf, root, K.root, now - 100 * DAY, now - 50 * DAY);
	struct cert_ctx *cc = ctx_with(&root, 1, NULL);

	/* Valid today, expired at the packet's time. */
	analyze(cc, &leaf_now, 1, "a.example", now + 30 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.trust_code, X509_V_ERR_CERT_HAS_EXPIRED);
	assert_string_equal(CA.trust_reason, "certificate has expired");
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_certificate");
	/* Expired today, valid at the packet's time. */
	analyze(cc, &leaf_old, 1, "a.example", now - 70 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(CA.validated_at_us, US(now - 70 * DAY));
	/* Not yet valid at the packet's time. */
	analyze(cc, &leaf_now, 1, "a.example", now - 20 * DAY, &CA);
	assert_int_equal(CA.trust_code, X509_V_ERR_CERT_NOT_YET_VALID);
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_certificate");
	cert_ctx_free(cc);
	X509_free(root);
	X509_free(leaf_now);
	X509_free(leaf_old);
}

static void test_wrong_name(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	struct verdict_result vr;

	analyze(cc, chain, 2, "other.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.trust_code, X509_V_ERR_HOSTNAME_MISMATCH);
	assert_string_equal(CA.trust_reason, "hostname mismatch");
	assert_int_equal(CA.name_check, CERT_NAME_MISMATCH);
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_hostname");
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_UNTRUSTED_CERT);
	assert_string_equal(verdict_ooni_failure(&vr), "ssl_invalid_hostname");

	/* Not a name of the certificate. */
	analyze(cc, chain, 2, "wwwx.good.example", T0, &CA);
	assert_int_equal(CA.name_check, CERT_NAME_MISMATCH);
	/* An SNI holding a NUL can name no certificate. */
	{
		struct tls_info ti;
		ti_set(&ti, chain, 2, "good.example");
		ti.sni[4] = '\0';
		cert_analyze(cc, &ti, US(T0), &CA);
		ti_free(&ti);
		assert_true(has_code(&CA, CERT_ERR_BAD_SNI, 0));
		assert_int_equal(CA.name_check, CERT_NAME_MISMATCH);
		assert_string_equal(ooni_failure(&CA), "ssl_invalid_hostname");
	}
	cert_ctx_free(cc);
	pki_free(&p);
}

static void test_untrusted_root(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	X509 *other = mk_root("/CN=Some Other Root", K.other, T0 - 3000 * DAY, T0 + 3000 * DAY);
	struct cert_ctx *cc = ctx_with(&other, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	X509 *chain_root[] = { p.leaf, p.inter, p.root };
	struct verdict_result vr;

	analyze(cc, chain, 2, "good.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.trust_code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	assert_string_equal(CA.trust_reason, "unable to get local issuer certificate");
	assert_string_equal(ooni_failure(&CA), "ssl_unknown_authority");
	assert_int_equal(CA.match, CERT_MATCH_NONE);
	/* The unknown root sent along: a self-signed certificate in the chain. */
	analyze(cc, chain_root, 3, "good.example", T0, &CA);
	assert_int_equal(CA.trust_code, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN);
	assert_string_equal(ooni_failure(&CA), "ssl_unknown_authority");
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_UNTRUSTED_CERT);
	assert_int_equal(vr.cert_fail, VCERT_UNKNOWN_AUTHORITY);
	cert_ctx_free(cc);
	X509_free(other);
	pki_free(&p);
}

/* Expired AND unknown root AND wrong name: every problem is recorded; OONI's class follows Go's order. */
static void test_all_errors_recorded(void **state)
{
	X509 *root = mk_root("/CN=Forger Root", K.other, T0 - 3000 * DAY, T0 + 3000 * DAY);
	X509 *leaf = mk_leaf("forged.example", K.leaf, root, K.other, T0 - 90 * DAY, T0 - 10 * DAY);
	X509 *trusted = mk_root("/CN=Real Root", K.root, T0 - 3000 * DAY, T0 + 3000 * DAY);
	struct cert_ctx *cc = ctx_with(&trusted, 1, NULL);

	analyze(cc, &leaf, 1, "victim.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_true(CA.n_errors >= 3);
	assert_true(has_code(&CA, X509_V_ERR_CERT_HAS_EXPIRED, 0));
	assert_true(has_code(&CA, X509_V_ERR_HOSTNAME_MISMATCH, 0));
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_certificate");
	/* Not expired: the name comes before the path. */
	analyze(cc, &leaf, 1, "victim.example", T0 - 20 * DAY, &CA);
	assert_false(has_code(&CA, X509_V_ERR_CERT_HAS_EXPIRED, 0));
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_hostname");
	cert_ctx_free(cc);
	X509_free(root);
	X509_free(leaf);
	X509_free(trusted);
}

static void test_long_chain(void **state)
{
	X509 *c[8];
	EVP_PKEY *keys[8];
	X509 *sent[8];
	struct cert_ctx *cc;

	keys[0] = K.root;
	c[0] = mk_root("/CN=Deep Root", K.root, T0 - 3000 * DAY, T0 + 3000 * DAY);
	for (int i = 1; i < 7; i++) {
		char subj[64];
		snprintf(subj, sizeof(subj), "/CN=Deep CA %d", i);
		keys[i] = i % 2 ? K.inter : K.other;
		c[i] = mk_ca(subj, keys[i], c[i - 1], keys[i - 1], T0 - 2000 * DAY, T0 + 2000 * DAY);
	}
	c[7] = mk_leaf("deep.example", K.leaf, c[6], keys[6], T0 - DAY, T0 + 80 * DAY);
	cc = ctx_with(&c[0], 1, NULL);
	for (int i = 0; i < 8; i++)
		sent[i] = c[7 - i];                   /* leaf first, root last: 8 certificates */
	analyze(cc, sent, 8, "deep.example", T0, &CA);
	assert_int_equal(CA.n_chain, 8);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_string_equal(CA.chain[7].subject, "CN=Deep Root");
	/* Intermediates out of order still build (clients accept that too). */
	sent[1] = c[2];
	sent[5] = c[6];
	analyze(cc, sent, 8, "deep.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	/* A missing link breaks it. */
	analyze(cc, sent, 4, "deep.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	cert_ctx_free(cc);
	for (int i = 0; i < 8; i++)
		X509_free(c[i]);
}

static void test_chain_truncated(void **state)
{
	struct pki p;
	struct tls_info ti;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	ti_set(&ti, chain, 2, "good.example");
	ti.certs_truncated = 1;
	cert_analyze(cc, &ti, US(T0), &CA);
	ti_free(&ti);
	assert_true(CA.chain_truncated);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(cert_ctx_stats(cc)->chains_truncated, 1);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- hostile DER ------------------------------------------------------------------------------------------------ */

static void test_garbage_der(void **state)
{
	struct pki p;
	struct cert_info ci;
	struct cert_stats st;
	uint8_t junk[300];
	unsigned char *der = NULL;
	int len;
	struct tls_info ti;

	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	memset(&st, 0, sizeof(st));
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	assert_false(cert_parse(junk, sizeof(junk), &ci, &st));
	assert_int_equal(strlen(ci.sha1), 40);      /* fingerprints of the bytes all the same */
	assert_int_equal(ci.spki_sha256[0], '\0');
	assert_false(cert_parse(junk, 0, &ci, &st));
	assert_false(cert_parse(NULL, 5, &ci, NULL));

	/* Every truncation of a real certificate, and one trailing byte too many. */
	len = i2d_X509(p.leaf, &der);
	assert_true(len > 100);
	for (int cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc((size_t)len + 1);
		memcpy(copy, der, (size_t)len);
		assert_false(cert_parse(copy, (size_t)cut, &ci, &st));
		copy[len] = 0;
		if (cut == 0)
			assert_false(cert_parse(copy, (size_t)len + 1, &ci, &st));
		free(copy);
	}
	assert_true(cert_parse(der, (size_t)len, &ci, &st));
	/* Flip every byte in turn: no crash, whatever libcrypto makes of it. */
	for (int i = 0; i < len; i++) {
		der[i] ^= 0x5a;
		(void)cert_parse(der, (size_t)len, &ci, &st);
		der[i] ^= 0x5a;
	}
	OPENSSL_free(der);

	/* A garbage leaf in a chain: untrusted, with tamperscope's own reason. */
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	ti_set(&ti, chain, 2, "good.example");
	memset(ti.certs[0].der, 0x41, ti.certs[0].len);
	cert_analyze(cc, &ti, US(T0), &CA);
	ti_free(&ti);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.trust_code, CERT_ERR_LEAF_UNPARSED);
	assert_false(CA.chain[0].parsed);
	assert_true(CA.chain[1].parsed);
	assert_int_equal(CA.n_unparsed, 1);
	assert_string_equal(ooni_failure(&CA), "ssl_invalid_certificate");
	/* An empty certificate list. */
	ti_set(&ti, chain, 0, "good.example");
	cert_analyze(cc, &ti, US(T0), &CA);
	ti_free(&ti);
	assert_int_equal(CA.trust_code, CERT_ERR_EMPTY_CHAIN);
	cert_ctx_free(cc);
	pki_free(&p);
}

static void test_not_visible(void **state)
{
	struct pki p;
	struct tls_info ti;
	struct verdict_result vr;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };

	ti_set(&ti, chain, 0, "good.example");
	ti.cert_seen = 0;
	ti.sh_version = 0x0304;
	cert_analyze(cc, &ti, US(T0), &CA);
	assert_int_equal(CA.trust, CERT_TRUST_NOT_VISIBLE);
	assert_string_equal(CA.trust_reason, "TLS 1.3: the certificate is encrypted");
	assert_null(ooni_failure(&CA));
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_OK);
	ti_free(&ti);
	/* Even certificates a buggy parser left behind under TLS 1.3 are not used: never guess. */
	ti_set(&ti, chain, 2, "good.example");
	ti.sh_version = 0x7f1c;
	cert_analyze(cc, &ti, US(T0), &CA);
	ti_free(&ti);
	assert_int_equal(CA.trust, CERT_TRUST_NOT_VISIBLE);
	assert_int_equal(CA.n_chain, 0);

	ti_set(&ti, chain, 0, "good.example");
	ti.cert_seen = 0;
	cert_analyze(cc, &ti, US(T0), &CA);
	assert_int_equal(CA.trust, CERT_TRUST_NOT_VISIBLE);
	ti.sh_seen = 0;
	cert_analyze(cc, &ti, US(T0), &CA);
	ti_free(&ti);
	assert_string_equal(CA.trust_reason, "no ServerHello");
	cert_analyze(cc, NULL, US(T0), &CA);
	assert_int_equal(CA.trust, CERT_TRUST_NOT_VISIBLE);
	assert_int_equal(cert_ctx_stats(cc)->not_visible, 5);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- verdict mapping (verdict_apply_cert) ---------------------------------------------------------------------- */

/* A chain as cert_analyze leaves it, reduced to what the mapping reads. */
static void chain_outcome(struct cert_analysis *ca, enum cert_trust trust, enum cert_match match, int code)
{
	memset(ca, 0, offsetof(struct cert_analysis, errors));
	ca->trust = (uint8_t)trust;
	ca->match = (uint8_t)match;
	if (code != 0) {
		ca->errors[0].code = code;
		ca->errors[0].depth = 1;
		ca->n_errors = 1;
	}
}

/* Every verdict verdict_decide can give, against every kind of chain: a forged chain replaces ok, tls_alert,
 * incomplete and client_abort; an untrusted one ok and client_abort; a trusted or invisible one nothing. */
static void test_verdict_mapping(void **state)
{
	static const struct {
		enum cert_trust trust;
		enum cert_match match;
		int code;
		enum verdict from_ok, from_alert, from_incomplete, from_abort;
		enum verdict_cert_fail cf;
	} k[] = {
		{ CERT_TRUST_NOT_VISIBLE, CERT_MATCH_NONE, 0, V_OK, V_TLS_ALERT, V_INCOMPLETE, V_CLIENT_ABORT, VCERT_NONE },
		{ CERT_TRUST_NOT_VISIBLE, CERT_MATCH_NAME, 0, V_OK, V_TLS_ALERT, V_INCOMPLETE, V_CLIENT_ABORT, VCERT_NONE },
		{ CERT_TRUST_TRUSTED, CERT_MATCH_NONE, 0, V_OK, V_TLS_ALERT, V_INCOMPLETE, V_CLIENT_ABORT, VCERT_NONE },
		{ CERT_TRUST_UNTRUSTED, CERT_MATCH_NONE, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		  V_TLS_UNTRUSTED_CERT, V_TLS_ALERT, V_INCOMPLETE, V_TLS_UNTRUSTED_CERT, VCERT_UNKNOWN_AUTHORITY },
		{ CERT_TRUST_UNTRUSTED, CERT_MATCH_FINGERPRINT, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
		  V_TLS_MITM, V_TLS_MITM, V_TLS_MITM, V_TLS_MITM, VCERT_UNKNOWN_AUTHORITY },
		{ CERT_TRUST_TRUSTED, CERT_MATCH_NAME, 0, V_TLS_MITM, V_TLS_MITM, V_TLS_MITM, V_TLS_MITM, VCERT_NONE },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		chain_outcome(&CA, k[i].trust, k[i].match, k[i].code);
		for (int v = 0; v < V__COUNT; v++) {
			struct verdict_result vr;
			enum verdict want = (enum verdict)v;
			memset(&vr, 0, sizeof(vr));
			vr.verdict = (enum verdict)v;
			want = v == V_OK ? k[i].from_ok : v == V_TLS_ALERT ? k[i].from_alert :
			       v == V_INCOMPLETE ? k[i].from_incomplete : v == V_CLIENT_ABORT ? k[i].from_abort : want;
			verdict_apply_cert(&vr, &CA);
			assert_int_equal(vr.verdict, want);
			assert_int_equal(vr.cert_fail, want == (enum verdict)v ? VCERT_NONE : k[i].cf);
		}
	}
	/* A name match on a chain the store trusts has no failure class; the event still names one. */
	chain_outcome(&CA, CERT_TRUST_TRUSTED, CERT_MATCH_NAME, 0);
	assert_string_equal(ooni_failure(&CA), "ssl_unknown_authority");
	chain_outcome(&CA, CERT_TRUST_TRUSTED, CERT_MATCH_NONE, 0);
	assert_null(ooni_failure(&CA));
}

/* OONI's class follows Go's order - leaf validity, host name, path - whatever order the errors came in. */
static void test_ooni_class_order(void **state)
{
	static const struct {
		int code[3], depth[3];
		const char *want;
	} k[] = {
		{ { X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_CERT_HAS_EXPIRED },
		  { 1, 0, 0 }, "ssl_invalid_certificate" },
		{ { X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, X509_V_ERR_CERT_NOT_YET_VALID, 0 }, { 2, 0, 0 },
		  "ssl_invalid_certificate" },
		/* an expired intermediate is not the leaf's own validity */
		{ { X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_HOSTNAME_MISMATCH, 0 }, { 1, 0, 0 }, "ssl_invalid_hostname" },
		{ { X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, CERT_ERR_BAD_SNI, 0 }, { 0, 0, 0 },
		  "ssl_invalid_hostname" },
		{ { X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, 0 }, { 1, 0, 0 },
		  "ssl_unknown_authority" },
		{ { X509_V_ERR_CERT_CHAIN_TOO_LONG, X509_V_ERR_CERT_SIGNATURE_FAILURE, 0 }, { 1, 1, 0 },
		  "ssl_unknown_authority" },
		{ { CERT_ERR_EMPTY_CHAIN, 0, 0 }, { 0, 0, 0 }, "ssl_invalid_certificate" },
		{ { CERT_ERR_LEAF_UNPARSED, 0, 0 }, { 0, 0, 0 }, "ssl_invalid_certificate" },
		{ { CERT_ERR_VERIFY_FAILED, 0, 0 }, { 0, 0, 0 }, "ssl_invalid_certificate" },
		{ { X509_V_ERR_CERT_CHAIN_TOO_LONG, 0, 0 }, { 1, 0, 0 }, "ssl_invalid_certificate" },
	};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		chain_outcome(&CA, CERT_TRUST_UNTRUSTED, CERT_MATCH_NONE, 0);
		for (int e = 0; e < 3 && (e == 0 || k[i].code[e] != 0); e++) {
			CA.errors[e].code = k[i].code[e];
			CA.errors[e].depth = k[i].depth[e];
			CA.n_errors++;
		}
		assert_string_equal(ooni_failure(&CA), k[i].want);
	}
}

/* ---- interception CAs ------------------------------------------------------------------------------------------ */

static struct intercept_db *db_from(const char *text)
{
	struct intercept_db *db = intercept_db_new();
	char err[256];
	assert_non_null(db);
	if (intercept_db_load_mem(db, text, strlen(text), "test", err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return db;
}

/* The forger: an ISCA-named root and 75-day intermediate, a forged leaf for a real name. */
struct forger {
	X509 *root, *inter, *leaf;
};

static void forger_make(struct forger *f, const char *name)
{
	f->root = mk_root("/C=KZ/O=ISCA/CN=Information Security Certification Authority", K.other,
			  T0 - 1500 * DAY, T0 + 5000 * DAY);
	f->inter = mk_ca("/C=KZ/O=ISCA/CN=Information Security Certification Authority", K.inter, f->root,
			 K.other, T0 - 20 * DAY, T0 + 55 * DAY);
	f->leaf = mk_leaf(name, K.leaf, f->inter, K.inter, T0 - 2 * DAY, T0 + 30 * DAY);
}

static void forger_free(struct forger *f)
{
	X509_free(f->root);
	X509_free(f->inter);
	X509_free(f->leaf);
}

static void test_fingerprint_match(void **state)
{
	struct forger f;
	struct pki p;
	char sha1[41], line[512];
	struct verdict_result vr;
	struct intercept_db *db;
	struct cert_ctx *cc;

	forger_make(&f, "news.example");
	pki_make(&p, "news.example", T0 - 30 * DAY, T0 + 60 * DAY);
	x509_sha1_hex(f.inter, sha1);
	snprintf(line, sizeof(line), "# lab\nlab-forger\tfingerprint\t%s\t-\t-\tCN=whatever\n", sha1);
	db = db_from(line);
	cc = ctx_with(&p.root, 1, db);
	X509 *chain[] = { f.leaf, f.inter };

	analyze(cc, chain, 2, "news.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.match, CERT_MATCH_FINGERPRINT);
	assert_string_equal(CA.interception_ca, "lab-forger");
	assert_int_equal(CA.match_cert, 1);
	assert_string_equal(CA.match_field, "sha1");
	assert_true(CA.match_confidence > 0.98);
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_MITM);
	assert_string_equal(verdict_ooni_failure(&vr), "ssl_unknown_authority");
	/* A stall stays a stall; an incomplete flow with a forged chain is MITM. */
	vr.verdict = V_TLS_STALL;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_STALL);
	vr.verdict = V_INCOMPLETE;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_MITM);
	/* The genuine chain for the same name matches nothing. */
	X509 *good[] = { p.leaf, p.inter };
	analyze(cc, good, 2, "news.example", T0, &CA);
	assert_int_equal(CA.match, CERT_MATCH_NONE);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	cert_ctx_free(cc);
	intercept_db_free(db);

	/* By an 8-digit prefix, and by SPKI of the root (absent from the chain it does not match; sent, it does). */
	snprintf(line, sizeof(line), "lab-prefix\tprefix\t%.8s\t-\t-\t-\n", sha1);
	db = db_from(line);
	cc = ctx_with(&p.root, 1, db);
	analyze(cc, chain, 2, "news.example", T0, &CA);
	assert_int_equal(CA.match, CERT_MATCH_FINGERPRINT);
	assert_true(CA.match_prefix);
	assert_true(CA.match_confidence > 0.94 && CA.match_confidence < 0.96);
	cert_ctx_free(cc);
	intercept_db_free(db);
	{
		struct cert_info ri;
		assert_true(cert_parse(NULL, 0, &ri, NULL) == false);
		unsigned char *der = NULL;
		int len = i2d_X509(f.root, &der);
		assert_true(cert_parse(der, (size_t)len, &ri, NULL));
		OPENSSL_free(der);
		snprintf(line, sizeof(line), "lab-spki\tfingerprint\t-\t-\t%s\t-\n", ri.spki_sha256);
		db = db_from(line);
		cc = ctx_with(&p.root, 1, db);
		analyze(cc, chain, 2, "news.example", T0, &CA);
		assert_int_equal(CA.match, CERT_MATCH_NONE);
		X509 *with_root[] = { f.leaf, f.inter, f.root };
		analyze(cc, with_root, 3, "news.example", T0, &CA);
		assert_int_equal(CA.match, CERT_MATCH_FINGERPRINT);
		assert_string_equal(CA.match_field, "spki_sha256");
		assert_int_equal(CA.match_cert, 2);
		cert_ctx_free(cc);
		intercept_db_free(db);
	}
	forger_free(&f);
	pki_free(&p);
}

static const char *name_entries =
	"kz-isca\tname\t-\t-\t-\tInformation Security Certification Authority\n"
	"kz-qaznet\tname\t-\t-\t-\tQaznet Trust Network\n"
	"kz-security-certificate\tname\t-\t-\t-\tC=KZ, CN=Security Certificate\n";

static void test_name_match(void **state)
{
	struct forger f;
	struct pki p;
	struct verdict_result vr;
	struct intercept_db *db = db_from(name_entries);
	struct cert_ctx *cc;

	forger_make(&f, "news.example");
	pki_make(&p, "news.example", T0 - 30 * DAY, T0 + 60 * DAY);
	cc = ctx_with(&p.root, 1, db);
	/* Only the leaf: the interception CA is visible only as its issuer. */
	analyze(cc, &f.leaf, 1, "news.example", T0, &CA);
	assert_int_equal(CA.match, CERT_MATCH_NAME);
	assert_int_equal(CA.match_cert, 0);
	assert_string_equal(CA.match_field, "issuer");
	X509 *chain[] = { f.leaf, f.inter };
	analyze(cc, chain, 2, "news.example", T0, &CA);
	assert_int_equal(CA.match, CERT_MATCH_NAME);
	assert_string_equal(CA.interception_ca, "kz-isca");
	assert_int_equal(CA.match_cert, 0);                 /* leaf first: its issuer names the CA */
	assert_string_equal(CA.match_field, "issuer");
	/* A chain whose only ISCA trace is an intermediate's subject (the leaf's issuer renamed). */
	X509 *other_leaf = mk_leaf("news.example", K.leaf, p.inter, K.inter, T0 - DAY, T0 + DAY);
	X509 *mixed[] = { other_leaf, f.inter };
	analyze(cc, mixed, 2, "news.example", T0, &CA);
	assert_int_equal(CA.match, CERT_MATCH_NAME);
	assert_int_equal(CA.match_cert, 1);
	assert_string_equal(CA.match_field, "subject");
	X509_free(other_leaf);
	assert_true(CA.match_confidence < 0.7 && CA.match_confidence > 0.5);
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_MITM);
	/* Even a chain the analyst's store trusts is flagged by name, with a lower confidence. */
	cert_ctx_free(cc);
	cc = ctx_with(&f.root, 1, db);
	analyze(cc, chain, 2, "news.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(CA.match, CERT_MATCH_NAME);
	assert_true(CA.match_confidence < 0.5);
	cert_ctx_free(cc);
	forger_free(&f);
	pki_free(&p);
	intercept_db_free(db);
}

/* Name patterns on their own. */
static void test_name_patterns(void **state)
{
	struct intercept_db *db = db_from(name_entries);
	struct cert_info ci[2];
	struct intercept_match m;

	assert_int_equal(db->n, 3);
	assert_true(intercept_name_matches(&db->e[0], "CN=Information Security Certification Authority,O=ISCA,C=KZ"));
	assert_true(intercept_name_matches(&db->e[0], "CN=information security certification authority CA"));
	assert_false(intercept_name_matches(&db->e[0], "CN=Information Security,O=Certification Authority"));
	assert_true(intercept_name_matches(&db->e[1], "CN=QAZNET TRUST NETWORK,C=KZ"));
	/* ATTR=value pairs: all present, any order, exact values. */
	assert_true(intercept_name_matches(&db->e[2], "CN=Security Certificate,C=KZ"));
	assert_true(intercept_name_matches(&db->e[2], "C=kz,O=X,CN=security certificate"));
	assert_false(intercept_name_matches(&db->e[2], "CN=Security Certificate Authority,C=KZ"));
	assert_false(intercept_name_matches(&db->e[2], "CN=Security Certificate,C=KG"));
	assert_false(intercept_name_matches(&db->e[2], "CN=Security Certificate\\,C=KZ"));
	assert_true(intercept_name_matches(&db->e[2], "CN=Security\\20Certificate,C=KZ"));
	assert_false(intercept_name_matches(&db->e[2], ""));

	memset(ci, 0, sizeof(ci));
	ci[0].parsed = 1;
	snprintf(ci[0].subject, sizeof(ci[0].subject), "CN=victim.example");
	snprintf(ci[0].issuer, sizeof(ci[0].issuer), "CN=Qaznet Trust Network,C=KZ");
	assert_true(intercept_match_chain(db, ci, 1, false, &m));
	assert_string_equal(m.label, "kz-qaznet");
	assert_string_equal(m.field, "issuer");
	assert_int_equal(m.cert, 0);
	ci[0].parsed = 0;                                  /* unparsed entries match by hash only */
	assert_false(intercept_match_chain(db, ci, 1, false, &m));
	assert_false(intercept_match_chain(NULL, ci, 1, false, &m));
	intercept_db_free(db);
}

/* The chain match as the list describes it, written out plainly: every
 * fingerprint entry on every certificate first, then every name entry on
 * each parsed certificate's subject, then its issuer. */
static bool ref_hash(const char *have, const char *want, uint8_t want_len)
{
	return want_len > 0 && strlen(have) >= want_len && memcmp(have, want, want_len) == 0;
}

static bool ref_match(const struct intercept_db *db, const struct cert_info *chain, size_t n, const char **label,
		      const char **field, size_t *cert)
{
	for (size_t c = 0; c < n; c++)
		for (size_t i = 0; i < db->n; i++) {
			const struct intercept_entry *e = &db->e[i];
			if (e->kind == INTERCEPT_NAME)
				continue;
			*field = ref_hash(chain[c].sha1, e->sha1, e->sha1_len) ? "sha1"
			       : ref_hash(chain[c].sha256, e->sha256, e->sha256_len) ? "sha256"
			       : ref_hash(chain[c].spki_sha256, e->spki_sha256, e->spki_len) ? "spki_sha256" : NULL;
			if (*field) {
				*label = e->label;
				*cert = c;
				return true;
			}
		}
	for (size_t c = 0; c < n; c++)
		for (size_t i = 0; chain[c].parsed && i < db->n; i++) {
			const struct intercept_entry *e = &db->e[i];
			*field = intercept_name_matches(e, chain[c].subject) ? "subject"
			       : intercept_name_matches(e, chain[c].issuer) ? "issuer" : NULL;
			if (*field) {
				*label = e->label;
				*cert = c;
				return true;
			}
		}
	return false;
}

/* The chain's match from each certificate's own answer (what the cache
 * keeps) is the chain's match: every chain of three from a pool of
 * certificates - fingerprint and name matches, by subject and by issuer,
 * unparsed ones - gives the same label, certificate, field and confidence
 * either way, trusted or not. */
static void test_match_pre_equals_chain(void **state)
{
	(void)state;
	static const char *entries =
		"fp-a\tfingerprint\t00000000000000000000000000000000000000aa\t-\t-\tCN=A\n"
		"kz-qaznet\tname\t-\t-\t-\tQaznet Trust Network\n"
		"fp-b\tprefix\t-\tbbbbbbbb\t-\tCN=B\n"
		"kz-security-certificate\tname\t-\t-\t-\tC=KZ, CN=Security Certificate\n";
	struct intercept_db *db = db_from(entries);
	struct cert_info pool[6];
	memset(pool, 0, sizeof(pool));
	for (int i = 0; i < 6; i++) {
		pool[i].parsed = 1;
		snprintf(pool[i].subject, sizeof(pool[i].subject), "CN=plain%d.example", i);
		snprintf(pool[i].issuer, sizeof(pool[i].issuer), "CN=Plain CA %d", i);
	}
	strcpy(pool[1].sha1, "00000000000000000000000000000000000000aa");          /* fp-a */
	strcpy(pool[2].issuer, "CN=Qaznet Trust Network,C=KZ");                      /* by issuer */
	strcpy(pool[3].subject, "CN=Security Certificate,C=KZ");                    /* by subject */
	strcpy(pool[3].issuer, "CN=Qaznet Trust Network");                           /* ... and issuer */
	strcpy(pool[4].sha256, "bbbbbbbbcccc");                                      /* fp-b by prefix */
	pool[4].parsed = 0;
	strcpy(pool[5].subject, "CN=Security Certificate,C=KZ");                    /* unparsed: no name match */
	pool[5].parsed = 0;
	struct intercept_cert pre[6];
	for (int i = 0; i < 6; i++)
		intercept_match_cert(db, &pool[i], &pre[i]);
	unsigned matched = 0;
	for (int a = 0; a < 6; a++)
		for (int b = 0; b < 6; b++)
			for (int c = 0; c < 6; c++)
				for (int trusted = 0; trusted < 2; trusted++) {
					struct cert_info chain[3] = { pool[a], pool[b], pool[c] };
					struct intercept_cert p3[3] = { pre[a], pre[b], pre[c] };
					struct intercept_match m1, m2;
					bool r1 = intercept_match_chain(db, chain, 3, trusted, &m1);
					bool r2 = intercept_match_pre(db, p3, 3, trusted, &m2);
					const char *label, *field;
					size_t cert;
					bool r0 = ref_match(db, chain, 3, &label, &field, &cert);
					assert_int_equal(r1, r0);
					assert_int_equal(r1, r2);
					if (!r1)
						continue;
					matched++;
					assert_string_equal(m2.label, label);
					assert_string_equal(m2.field, field);
					assert_int_equal(m2.cert, cert);
					assert_string_equal(m1.label, m2.label);
					assert_string_equal(m1.field, m2.field);
					assert_int_equal(m1.cert, m2.cert);
					assert_int_equal(m1.kind, m2.kind);
					assert_true(m1.confidence == m2.confidence);
				}
	assert_true(matched > 300);
	/* the order the chain match promises, spot-checked by hand */
	struct cert_info ch[2] = { pool[2], pool[1] };
	struct intercept_match m;
	assert_true(intercept_match_chain(db, ch, 2, false, &m));
	assert_string_equal(m.label, "fp-a"); /* a fingerprint anywhere beats a name on the leaf */
	assert_int_equal(m.cert, 1);
	struct cert_info ch3[1] = { pool[3] };
	assert_true(intercept_match_chain(db, ch3, 1, false, &m));
	assert_string_equal(m.label, "kz-qaznet"); /* the list's first name entry, by the issuer */
	assert_string_equal(m.field, "issuer");
	intercept_db_free(db);
}

static void expect_load_error(const char *text, const char *want)
{
	struct intercept_db *db = db_from("keep\tname\t-\t-\t-\tKeep\n");
	char err[256];
	assert_int_equal(intercept_db_load_mem(db, text, strlen(text), "f.tsv", err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	assert_int_equal(db->n, 1);                        /* nothing of the bad file kept */
	intercept_db_free(db);
}

static void test_db_loader(void **state)
{
	struct intercept_db *db = intercept_db_new();
	char err[256];
	const char *good = "# comment\r\n\n   \n"
			   "a\tfingerprint\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\t-\t-\tCN=A\r\n"
			   "b\tprefix\t-\t0123456789abcdef\t-\t-\n"
			   "c\tname\t-\t-\t-\tC=KZ,O=ISCA";  /* no final newline */
	assert_int_equal(intercept_db_load_mem(db, good, strlen(good), "g", err, sizeof(err)), 3);
	assert_string_equal(db->e[0].sha1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(db->e[1].sha256_len, 16);
	assert_int_equal(db->e[2].n_attrs, 2);
	assert_string_equal(intercept_kind_name(INTERCEPT_PREFIX), "prefix");
	intercept_db_free(db);

	expect_load_error("x\tfingerprint\tabc\t-\t-\t-\n", "f.tsv:1: a fingerprint has the wrong number");
	expect_load_error("# c\nx\tprefix\tabcdef1\t-\t-\t-\n", "f.tsv:2: a fingerprint prefix needs 8");
	expect_load_error("x\tprefix\tabcdefgh\t-\t-\t-\n", "not a hex digit");
	expect_load_error("x\tname\tabcdef12\t-\t-\tCN=X\n", "takes no fingerprints");
	expect_load_error("x\tname\t-\t-\t-\t-\n", "needs a subject pattern");
	expect_load_error("x\tfingerprint\t-\t-\t-\tCN=X\n", "at least one hash");
	expect_load_error("x\tbogus\t-\t-\t-\tCN=X\n", "kind must be");
	expect_load_error("x\tname\t-\t-\tCN=X\n", "expected 6 tab-separated fields");
	expect_load_error("x\tname\t-\t-\t-\tCN=X\textra\n", "expected 6");
	expect_load_error("\tname\t-\t-\t-\tCN=X\n", "empty label");
	expect_load_error("x\tname\t-\t-\t-\tCN=\n", "ATTR=value");
	expect_load_error("x\tname\t-\t-\t-\tA=1,B=2,C=3,D=4,E=5,F=6,G=7,H=8,I=9\n", "too many");
	expect_load_error("x\tname\t-\t-\t-\tOK\x01\n", "control character");
	{
		char big[3000];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		expect_load_error(big, "longer than 2048");
	}
	{
		const char nul[] = "x\tname\t-\t-\t-\tA\0B\n";
		db = intercept_db_new();
		assert_int_equal(intercept_db_load_mem(db, nul, sizeof(nul) - 1, "n", err, sizeof(err)), -1);
		assert_non_null(strstr(err, "NUL"));
		intercept_db_free(db);
	}
	db = intercept_db_new();
	assert_int_equal(intercept_db_load(db, "/nonexistent/tamperscope.tsv", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/tamperscope.tsv"));
	intercept_db_free(db);
}

/* The project's data file loads, and its fingerprints recognise an ISCA-named root by name at least. */
static void test_project_data_file(void **state)
{
	const char *srcdir = getenv("srcdir");
	char path[1024], err[256];
	struct intercept_db *db = intercept_db_new();
	int n;
	snprintf(path, sizeof(path), "%s/data/interception-cas.tsv", srcdir ? srcdir : ".");
	if (access(path, R_OK) != 0) {
		intercept_db_free(db);
		print_message("# skip: %s not readable\n", path);
		skip();
	}
	n = intercept_db_load(db, path, err, sizeof(err));
	if (n < 0)
		fail_msg("%s", err);
	assert_true(n >= 21);
	for (size_t i = 0; i < db->n; i++)
		if (db->e[i].kind == INTERCEPT_PREFIX)
			assert_int_equal(db->e[i].sha1_len, 8);
	intercept_db_free(db);
}

/* ---- trust store ----------------------------------------------------------------------------------------------- */

static void test_bundle_loading(void **state)
{
	struct pki p;
	char err[256];
	struct cert_cfg cfg = { 0 };
	struct cert_ctx *cc;
	char *path;
	FILE *fp;

	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	cfg.ca_bundle = "/nonexistent/bundle.pem";
	assert_null(cert_ctx_new(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/bundle.pem"));

	path = write_pem(&p.root, 1);
	cfg.ca_bundle = path;
	cc = cert_ctx_new(&cfg, err, sizeof(err));
	assert_non_null(cc);
	X509 *chain[] = { p.leaf, p.inter };
	analyze(cc, chain, 2, "good.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	cert_ctx_free(cc);
	/* A file with no certificate in it is an error, not an empty store. */
	fp = fopen(path, "w");
	fputs("not a PEM file\n", fp);
	fclose(fp);
	assert_null(cert_ctx_new(&cfg, err, sizeof(err)));
	unlink(path);
	cc = ctx_with(NULL, 0, NULL);
	assert_int_equal(cert_ctx_add_anchor_der(cc, (const uint8_t *)"x", 1), -1);
	analyze(cc, chain, 2, "good.example", T0, &CA);    /* an empty store trusts nothing */
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- the certificates' memo (out_cert_tls_members) ----------------------------------------------------------- */

static char *render(const struct cert_analysis *ca, struct out_cert_memo *memo)
{
	struct json j;
	json_init(&j);
	json_obj_open(&j, NULL);
	out_cert_tls_members(&j, ca, memo);
	json_obj_close(&j);
	assert_false(j.oom);
	return j.buf; /* the caller frees */
}

/* Through the memo every chain is written with the bytes writing it anew gives: a certificate seen again (as leaf
 * and not), after others took its slot (more certificates than slots), and in chains of one and of two. */
static void test_cert_memo_same_bytes(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "memo.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	struct out_cert_memo *memo = out_cert_memo_new();
	assert_non_null(memo);
	enum { N = 150 };
	X509 *leaves[N];
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "m%d.example", i);
		leaves[i] = mk_leaf(name, K.leaf, p.inter, K.inter, T0 - DAY - i, T0 + 90 * DAY);
	}
	unsigned hits = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			X509 *two[] = { leaves[i], p.inter };
			X509 *swapped[] = { p.inter, leaves[(i * 7) % N] };
			X509 **chains[] = { two, swapped, &p.inter };
			int lens[] = { 2, 2, 1 };
			for (int c = 0; c < 3; c++) {
				analyze(cc, chains[c], lens[c], "m1.example", T0, &CA);
				char *anew = render(&CA, NULL), *memoised = render(&CA, memo);
				assert_string_equal(memoised, anew);
				hits += strstr(anew, "\"sha256\"") != NULL;
				free(anew);
				free(memoised);
			}
		}
	}
	assert_int_equal(hits, 2 * N * 3); /* every chain had certificates to write */
	out_cert_memo_free(memo);
	out_cert_memo_free(NULL);
	for (int i = 0; i < N; i++)
		X509_free(leaves[i]);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- forgery hints --------------------------------------------------------------------------------------------- */

static void test_hints_single_chain(void **state)
{
	X509 *root = mk_root("/CN=H Root", K.root, T0 - 3000 * DAY, T0 + 3000 * DAY);
	/* 75-day intermediate, whole-hour RSA-2048 e=3 leaf without SAN, keyUsage or AKI. */
	int64_t hour = T0 - (T0 % 3600) - 5 * 3600;
	X509 *inter = mk_ca("/CN=H CA", K.inter, root, K.root, T0 - 10 * DAY, T0 + 65 * DAY);
	struct spec s = { .subject = "/CN=h.example", .key = K.rsa_e3, .issuer = inter, .issuer_key = K.inter,
			  .not_before = hour, .not_after = hour + 75 * DAY, .stripped = 1, .serial = 9 };
	X509 *leaf = mk_cert(&s);
	X509 *chain[] = { leaf, inter };
	struct cert_ctx *cc = ctx_with(&root, 1, NULL);
	struct json j;

	analyze(cc, chain, 2, "h.example", T0, &CA);
	assert_string_equal(CA.chain[0].key_type, "RSA");
	assert_int_equal(CA.chain[0].key_bits, 2048);
	assert_int_equal(CA.chain[0].rsa_exponent, 3);
	assert_true(has_hint(&CA, CERT_HINT_RSA_EXPONENT_3));
	assert_true(has_hint(&CA, CERT_HINT_CA_VALIDITY_75D));
	assert_true(has_hint(&CA, CERT_HINT_LEAF_VALIDITY_75D));
	assert_true(has_hint(&CA, CERT_HINT_EXTENSIONS_STRIPPED));
	assert_true(has_hint(&CA, CERT_HINT_VALIDITY_WHOLE_HOURS));
	assert_false(has_hint(&CA, CERT_HINT_SAME_SUBJECT_OTHER_KEY));
	/* The leaf has no SAN, so OpenSSL checks the CN: the name still matches. */
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);

	json_init(&j);
	json_obj_open(&j, NULL);
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_false(j.oom);
	assert_non_null(strstr(j.buf, "\"forgery_hints\":[\"leaf_validity_75d\",\"ca_validity_75d\","
				      "\"rsa_exponent_3\",\"extensions_stripped\",\"validity_whole_hours\"]"));
	assert_non_null(strstr(j.buf, "\"key\":\"RSA-2048\",\"rsa_exponent\":3"));
	assert_non_null(strstr(j.buf, "\"missing_extensions\":[\"subjectAltName\",\"keyUsage\","
				      "\"authorityKeyIdentifier\"]"));
	json_free(&j);

	/* A 90-day leaf starting on a whole minute but not hour: none of those hints. */
	X509 *plain = mk_leaf("h.example", K.leaf, inter, K.inter, hour + 60, hour + 60 + 90 * DAY);
	analyze(cc, &plain, 1, "h.example", T0, &CA);
	assert_false(has_hint(&CA, CERT_HINT_LEAF_VALIDITY_75D));
	assert_false(has_hint(&CA, CERT_HINT_VALIDITY_WHOLE_HOURS));
	assert_false(has_hint(&CA, CERT_HINT_EXTENSIONS_STRIPPED));
	assert_false(has_hint(&CA, CERT_HINT_RSA_EXPONENT_3));
	/* The same pattern on a certificate issued a month before the packet: a CA's local midnight (GoDaddy and
	 * Starfield start at 07:00:00 UTC), not a forgery made on the fly. */
	struct spec old_spec = s;
	old_spec.not_before = hour - 30 * DAY;
	old_spec.not_after = hour + 45 * DAY;
	X509 *old_leaf = mk_cert(&old_spec);
	analyze(cc, &old_leaf, 1, "o.example", T0, &CA);
	assert_false(has_hint(&CA, CERT_HINT_VALIDITY_WHOLE_HOURS));
	assert_true(has_hint(&CA, CERT_HINT_LEAF_VALIDITY_75D));
	X509_free(old_leaf);
	/* Midnight to midnight (whole days, DigiCert style 00:00:00) is not the whole-hours pattern. */
	X509 *midnight = mk_leaf("h.example", K.leaf, inter, K.inter, T0 - (T0 % DAY), T0 - (T0 % DAY) + 90 * DAY);
	analyze(cc, &midnight, 1, "m.example", T0, &CA);
	assert_false(has_hint(&CA, CERT_HINT_VALIDITY_WHOLE_HOURS));
	cert_ctx_free(cc);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(plain);
	X509_free(midnight);
}

/* The genuine leaf is seen first; then a forgery copying its subject, with its dates shifted by six hours. */
static void test_hints_memory(void **state)
{
	struct pki p;
	int64_t nb = T0 - 30 * DAY + 1234;
	pki_make(&p, "bank.example", nb, nb + 90 * DAY);
	X509 *froot = mk_root("/CN=Corp Inspection Root", K.other, T0 - 3000 * DAY, T0 + 3000 * DAY);
	X509 *forged = mk_leaf("bank.example", K.rsa_e3, froot, K.other, nb + 6 * 3600, nb + 6 * 3600 + 90 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *good[] = { p.leaf, p.inter };

	analyze(cc, good, 2, "bank.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_int_equal(CA.hints, 0);
	analyze(cc, &forged, 1, "bank.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_true(has_hint(&CA, CERT_HINT_SAME_SUBJECT_OTHER_KEY));
	assert_true(has_hint(&CA, CERT_HINT_SAME_SUBJECT_OTHER_ISSUER));
	assert_true(has_hint(&CA, CERT_HINT_VALIDITY_SHIFTED_HOURS));
	assert_true(has_hint(&CA, CERT_HINT_OTHER_ISSUER_TRUSTED));
	/* Other names are not compared. */
	analyze(cc, &forged, 1, "other.example", T0, &CA);
	assert_false(has_hint(&CA, CERT_HINT_SAME_SUBJECT_OTHER_KEY));
	/* The same genuine chain again adds nothing. */
	analyze(cc, good, 2, "bank.example", T0, &CA);
	assert_false(has_hint(&CA, CERT_HINT_OTHER_ISSUER_TRUSTED));
	cert_ctx_free(cc);
	X509_free(froot);
	X509_free(forged);
	pki_free(&p);
}

/* The name memory is bounded and counts what it could not keep. */
static void test_memory_bounds(void **state)
{
	struct pki p;
	struct cert_cfg cfg = { .ca_bundle = "", .memory_names = 2 };
	char err[128], name[32];
	struct cert_ctx *cc = cert_ctx_new(&cfg, err, sizeof(err));
	assert_non_null(cc);
	pki_make(&p, "x.example", T0 - DAY, T0 + DAY);
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		analyze(cc, &p.leaf, 1, name, T0, &CA);
	}
	assert_int_equal(cert_ctx_stats(cc)->mem_names_dropped, 3);
	/* Variants per name: 4 distinct leaves kept, the fifth counted. */
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "v%d.example", i);
		X509 *l = mk_leaf(name, i % 2 ? K.leaf : K.other, p.inter, K.inter, T0 - DAY - i, T0 + DAY);
		analyze(cc, &l, 1, "n0.example", T0, &CA);
		X509_free(l);
	}
	assert_true(cert_ctx_stats(cc)->mem_variants_dropped >= 1);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- cross-network consistency --------------------------------------------------------------------------------- */

static void cs_add(struct certstats *cs, struct cert_ctx *cc, X509 **xs, int n, const char *sni, uint32_t asn,
		   uint64_t id, int64_t t)
{
	struct tls_info ti;
	struct verdict_result vr;
	ti_set(&ti, xs, n, sni);
	cert_analyze(cc, &ti, US(t), &CA);
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	certstats_add(cs, &ti, &CA, asn, id, vr.verdict);
	ti_free(&ti);
}

static void test_inconsistent_networks(void **state)
{
	struct pki p;
	struct certstats_finding f;
	X509 *croot = mk_root("/O=Example Corp/CN=Corporate TLS Inspection CA", K.other, T0 - 900 * DAY,
			      T0 + 900 * DAY);
	X509 *forged = mk_leaf("news.example", K.inter, croot, K.other, T0 - DAY, T0 + 30 * DAY);
	struct certstats *cs = certstats_new(0, &(struct hseed){ { 7, 0 } });
	struct cert_ctx *cc;
	uint64_t id = 1;

	pki_make(&p, "news.example", T0 - 30 * DAY, T0 + 60 * DAY);
	cc = ctx_with(&p.root, 1, NULL);
	X509 *good[] = { p.leaf, p.inter };
	cs_add(cs, cc, good, 2, "news.example", 100, id++, T0);   /* AS100: 1 trusted */
	cs_add(cs, cc, good, 2, "news.example", 200, id++, T0);   /* AS200: 1 trusted */
	for (int i = 0; i < 3; i++)                               /* AS300: 3 forged by an unknown CA */
		cs_add(cs, cc, &forged, 1, "news.example", 300, 10 + (uint64_t)i, T0);
	cs_add(cs, cc, good, 2, "news.example", 400, 20, T0 + 200 * DAY); /* AS400: genuine, expired */
	certstats_finalize(cs);

	assert_true(certstats_lookup(cs, "news.example", 12, 300, &f));
	assert_true(f.inconsistent);
	assert_int_equal(f.flows_inconsistent, 3);
	assert_int_equal(f.flows_relabel, 3);
	assert_int_equal(f.flows_trusted_elsewhere, 2);
	assert_int_equal(f.networks_trusted_elsewhere, 2);
	/* (1 - 2^-3) * (1 - 2^-2) */
	assert_true(f.confidence > 0.6562 && f.confidence < 0.6563);
	assert_string_equal(f.issuer_here, "CN=Corporate TLS Inspection CA,O=Example Corp");
	assert_string_equal(f.issuer_elsewhere, "CN=Lab Issuing CA,O=Lab");
	assert_int_equal(f.n_flow_ids, 3);
	assert_int_equal(f.flow_ids[0], 10);
	assert_int_equal(f.flow_ids[2], 12);

	assert_true(certstats_lookup(cs, "news.example", 12, 100, &f));
	assert_false(f.inconsistent);
	assert_int_equal(f.confidence, 0);
	/* An expired copy of the genuine certificate is not interception. */
	assert_true(certstats_lookup(cs, "news.example", 12, 400, &f));
	assert_int_equal(f.flows_untrusted, 1);
	assert_false(f.inconsistent);
	assert_false(certstats_lookup(cs, "news.example", 12, 999, &f));
	assert_false(certstats_lookup(cs, "other.example", 13, 300, &f));

	/* The closing event. */
	{
		struct json j;
		json_init(&j);
		assert_true(certstats_lookup(cs, "news.example", 12, 300, &f));
		out_cert_consistency_event(&j, &f, US(T0));
		assert_false(j.oom);
		assert_non_null(strstr(j.buf, "\"event_type\":\"tls_consistency\""));
		assert_non_null(strstr(j.buf, "\"verdict\":\"tls_mitm\",\"match\":\"inconsistent\",\"confidence\":0.66"));
		assert_non_null(strstr(j.buf, "\"flow_ids\":[10,11,12]"));
		json_reset(&j);
		json_obj_open(&j, NULL);
		out_cert_consistency_array(&j, "cert_consistency", cs);
		json_obj_close(&j);
		assert_non_null(strstr(j.buf, "\"client_asn\":300"));
		assert_null(strstr(j.buf, "\"client_asn\":100"));
		json_free(&j);
	}
	certstats_free(cs);
	cert_ctx_free(cc);
	X509_free(croot);
	X509_free(forged);
	pki_free(&p);
}

/* Confidence grows with the counts on both sides and stops at 0.9. */
static void test_inconsistent_confidence(void **state)
{
	struct pki p;
	X509 *croot = mk_root("/CN=Corp CA", K.other, T0 - 900 * DAY, T0 + 900 * DAY);
	X509 *forged = mk_leaf("c.example", K.inter, croot, K.other, T0 - DAY, T0 + 30 * DAY);
	struct certstats_finding f;
	double last = 0;

	pki_make(&p, "c.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *good[] = { p.leaf, p.inter };
	for (int n = 1; n <= 6; n++) {
		struct certstats *cs = certstats_new(0, &(struct hseed){ { 1, 0 } });
		for (int i = 0; i < n; i++) {
			cs_add(cs, cc, good, 2, "c.example", 1, (uint64_t)i, T0);
			cs_add(cs, cc, &forged, 1, "c.example", 2, 100 + (uint64_t)i, T0);
		}
		certstats_finalize(cs);
		assert_true(certstats_lookup(cs, "c.example", 9, 2, &f));
		assert_true(f.inconsistent);
		assert_true(f.confidence > last || f.confidence == CERTSTATS_CONF_MAX);
		assert_true(f.confidence <= CERTSTATS_CONF_MAX);
		if (n == 1)
			assert_true(f.confidence > 0.2499 && f.confidence < 0.2501);
		last = f.confidence;
		certstats_free(cs);
	}
	assert_true(last == CERTSTATS_CONF_MAX);
	cert_ctx_free(cc);
	X509_free(croot);
	X509_free(forged);
	pki_free(&p);
}

static void test_self_signed_everywhere(void **state)
{
	X509 *self = mk_root("/CN=selfsigned.example", K.other, T0 - 100 * DAY, T0 + 300 * DAY);
	X509 *anchor = mk_root("/CN=Lab Root", K.root, T0 - 3000 * DAY, T0 + 3000 * DAY);
	struct cert_ctx *cc = ctx_with(&anchor, 1, NULL);
	struct certstats *cs = certstats_new(0, &(struct hseed){ { 3, 0 } });
	struct certstats_finding f;
	struct verdict_result vr;

	analyze(cc, &self, 1, "selfsigned.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(CA.trust_code, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	assert_string_equal(ooni_failure(&CA), "ssl_unknown_authority");
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_TLS_UNTRUSTED_CERT);
	for (uint32_t asn = 1; asn <= 4; asn++)
		for (int i = 0; i < 3; i++)
			cs_add(cs, cc, &self, 1, "selfsigned.example", asn, asn * 10 + (uint64_t)i, T0);
	certstats_finalize(cs);
	for (uint32_t asn = 1; asn <= 4; asn++) {
		assert_true(certstats_lookup(cs, "selfsigned.example", 18, asn, &f));
		assert_false(f.inconsistent);
		assert_int_equal(f.flows_untrusted, 3);
		assert_int_equal(f.flows_trusted_elsewhere, 0);
	}
	certstats_free(cs);
	cert_ctx_free(cc);
	X509_free(self);
	X509_free(anchor);
}

static void add_hello(struct certstats *cs, const char *sni, uint32_t asn, const char *ja3s, uint16_t v)
{
	struct tls_info ti;
	ti_set(&ti, NULL, 0, sni);
	ti.cert_seen = 0;
	ti.sh_version = v;
	snprintf(ti.ja3s, sizeof(ti.ja3s), "%s", ja3s);
	certstats_add(cs, &ti, NULL, asn, 1, V_OK);
	ti_free(&ti);
}

static void test_serverhello_hint(void **state)
{
	struct certstats *cs = certstats_new(0, &(struct hseed){ { 5, 0 } });
	struct certstats_finding f;
	add_hello(cs, "t.example", 1, "aaaa", 0x0304);
	add_hello(cs, "t.example", 2, "aaaa", 0x0304);
	add_hello(cs, "t.example", 3, "bbbb", 0x0303);            /* a box answering in TLS 1.2 */
	add_hello(cs, "u.example", 3, "bbbb", 0x0303);            /* seen on one network only */
	certstats_finalize(cs);
	assert_true(certstats_lookup(cs, "t.example", 9, 3, &f));
	assert_true(f.hello_differs);
	assert_false(f.inconsistent);                            /* a hint, never a verdict */
	assert_string_equal(f.ja3s_here, "bbbb");
	assert_string_equal(f.ja3s_elsewhere, "aaaa");
	assert_int_equal(f.flows_not_visible, 1);
	assert_true(certstats_lookup(cs, "t.example", 9, 1, &f));
	assert_false(f.hello_differs);
	assert_true(certstats_lookup(cs, "u.example", 9, 3, &f));
	assert_false(f.hello_differs);
	certstats_free(cs);
}

static void test_certstats_bounds(void **state)
{
	struct certstats *cs = certstats_new(2, &(struct hseed){ { 0, 0 } });
	struct tls_info ti;
	char name[32];
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "p%d.example", i);
		add_hello(cs, name, 1, "aaaa", 0x0304);
	}
	assert_int_equal(certstats_get_stats(cs)->pairs, 2);
	assert_int_equal(certstats_get_stats(cs)->pairs_dropped, 1);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "%04d", i);
		add_hello(cs, "p0.example", 1, name, 0x0303);
	}
	assert_int_equal(certstats_get_stats(cs)->hellos_dropped, 3);
	ti_set(&ti, NULL, 0, NULL);                               /* no SNI: counted, not grouped */
	certstats_add(cs, &ti, NULL, 1, 1, V_OK);
	assert_int_equal(certstats_get_stats(cs)->flows_no_sni, 1);
	ti.sh_seen = 0;                                           /* no ServerHello: ignored */
	certstats_add(cs, &ti, NULL, 1, 1, V_OK);
	ti_free(&ti);
	assert_int_equal(certstats_get_stats(cs)->flows_no_sni, 1);
	certstats_finalize(cs);
	certstats_finalize(cs);                                   /* idempotent */
	certstats_free(cs);
	certstats_free(NULL);
}

/* Flow ids are capped per pair, the cap counted and flagged. */
static void test_flow_ids_cap(void **state)
{
	struct pki p;
	X509 *croot = mk_root("/CN=Corp CA", K.other, T0 - 900 * DAY, T0 + 900 * DAY);
	X509 *forged = mk_leaf("d.example", K.inter, croot, K.other, T0 - DAY, T0 + 30 * DAY);
	struct certstats *cs = certstats_new(0, &(struct hseed){ { 1, 0 } });
	struct certstats_finding f;
	pki_make(&p, "d.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *good[] = { p.leaf, p.inter };
	cs_add(cs, cc, good, 2, "d.example", 1, 1, T0);
	for (int i = 0; i < CERTSTATS_FLOW_IDS + 5; i++)
		cs_add(cs, cc, &forged, 1, "d.example", 2, 100 + (uint64_t)i, T0);
	certstats_finalize(cs);
	assert_true(certstats_lookup(cs, "d.example", 9, 2, &f));
	assert_int_equal(f.n_flow_ids, CERTSTATS_FLOW_IDS);
	assert_true(f.flow_ids_cut);
	assert_int_equal(f.flows_relabel, CERTSTATS_FLOW_IDS + 5);
	assert_int_equal(certstats_get_stats(cs)->flow_ids_dropped, 5);
	certstats_free(cs);
	cert_ctx_free(cc);
	X509_free(croot);
	X509_free(forged);
	pki_free(&p);
}

/* ---- JSON ------------------------------------------------------------------------------------------------------ */

static void test_json(void **state)
{
	struct pki p;
	struct json j;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };

	analyze(cc, chain, 2, "good.example", T0, &CA);
	json_init(&j);
	json_obj_open(&j, "tls");
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_false(j.oom);
	assert_non_null(strstr(j.buf, "\"trust\":\"trusted\",\"trust_reason\":\"ok\",\"trust_code\":0"));
	assert_non_null(strstr(j.buf, "\"not_before\":\"2024-04-14T23:37:18Z\""));
	assert_non_null(strstr(j.buf, "\"san\":[\"good.example\",\"www.good.example\"]"));
	assert_non_null(strstr(j.buf, "\"key\":\"EC-256\""));
	assert_non_null(strstr(j.buf, "\"interception_ca\":null,\"match\":null"));
	assert_non_null(strstr(j.buf, "\"validated_at\":\"2024-05-14T23:37:18.000000+0000\""));
	assert_non_null(strstr(j.buf, "\"name_check\":\"match\""));
	assert_null(strstr(j.buf, "missing_extensions"));

	json_reset(&j);
	json_obj_open(&j, NULL);
	analyze(cc, chain, 2, "bad.example", T0, &CA);
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_non_null(strstr(j.buf, "\"trust_errors\":[{\"code\":62,\"depth\":0,\"reason\":\"hostname mismatch\"}]"));

	json_reset(&j);
	json_obj_open(&j, NULL);
	cert_analyze(cc, NULL, US(T0), &CA);
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_non_null(strstr(j.buf, "\"chain\":[],\"chain_truncated\":false,\"trust\":\"not_visible\""));
	assert_non_null(strstr(j.buf, "\"trust_code\":null"));
	assert_non_null(strstr(j.buf, "\"forgery_hints\":[]"));
	json_free(&j);

	/* Counters print only what moved. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		out_cert_print_stats(fp, cert_ctx_stats(cc), NULL);
		fclose(fp);
		assert_non_null(strstr(buf, "certificates: 2 chains (1 trusted, 1 untrusted), 1 not visible"));
		assert_null(strstr(buf, "do not parse"));
		free(buf);
	}
	assert_string_equal(cert_hint_name(CERT_HINT__COUNT), "unknown");
	assert_null(cert_match_name(CERT_MATCH_NONE));
	assert_string_equal(cert_match_name(CERT_MATCH_INCONSISTENT), "inconsistent");
	assert_string_equal(cert_error_string(-99), "unknown error");
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- caches ---------------------------------------------------------------------------------------------------- */

static struct cert_analysis REF; /* the same analysis from a fresh context */

/* Memory hints depend on the flows seen before; everything else must be the same bytes. */
#define MEMORY_HINTS ((1u << CERT_HINT_VALIDITY_SHIFTED_HOURS) | (1u << CERT_HINT_SAME_SUBJECT_OTHER_KEY) | \
		      (1u << CERT_HINT_SAME_SUBJECT_OTHER_ISSUER) | (1u << CERT_HINT_OTHER_ISSUER_TRUSTED))

static void assert_same_analysis(const struct cert_analysis *a, const struct cert_analysis *b)
{
	struct cert_analysis ha, hb;
	memcpy(&ha, a, offsetof(struct cert_analysis, errors));
	memcpy(&hb, b, offsetof(struct cert_analysis, errors));
	ha.hints &= ~MEMORY_HINTS;
	hb.hints &= ~MEMORY_HINTS;
	assert_memory_equal(&ha, &hb, offsetof(struct cert_analysis, errors));
	if (a->n_errors)
		assert_memory_equal(a->errors, b->errors, a->n_errors * sizeof(a->errors[0]));
	if (a->n_chain)
		assert_memory_equal(a->chain, b->chain, a->n_chain * sizeof(a->chain[0]));
}

/* The counters a cache must replay: everything but the caches' own and the name memory's. */
static void add_stats(struct cert_stats *sum, const struct cert_stats *st)
{
	sum->chains += st->chains;
	sum->not_visible += st->not_visible;
	sum->trusted += st->trusted;
	sum->untrusted += st->untrusted;
	sum->certs_parsed += st->certs_parsed;
	sum->certs_unparsed += st->certs_unparsed;
	sum->chains_truncated += st->chains_truncated;
	sum->names_cut += st->names_cut;
	sum->serials_cut += st->serials_cut;
	sum->san_dropped += st->san_dropped;
	sum->errors_dropped += st->errors_dropped;
	sum->verify_failed += st->verify_failed;
}

static void assert_same_stats(const struct cert_stats *a, const struct cert_stats *b)
{
	struct cert_stats x = { 0 }, y = { 0 };
	add_stats(&x, a);
	add_stats(&y, b);
	assert_memory_equal(&x, &y, sizeof(x));
}

/* Analyse in the long-lived context cc and in a fresh one holding the same anchors; the two must agree.  The
 * fresh context's counters are summed into *ref. */
static void analyze_both(struct cert_ctx *cc, X509 **anchors, int n_anchors, X509 **xs, int n, const char *sni,
			 int64_t t, struct cert_stats *ref)
{
	struct cert_ctx *fresh = ctx_with(anchors, n_anchors, NULL);
	analyze(cc, xs, n, sni, t, &CA);
	analyze(fresh, xs, n, sni, t, &REF);
	assert_same_analysis(&CA, &REF);
	add_stats(ref, cert_ctx_stats(fresh));
	cert_ctx_free(fresh);
}

/* A leaf that moves every per-certificate counter: a name over 255 bytes, a 40-byte serial, 20 DNS names. */
static X509 *mk_odd_leaf(X509 *issuer, EVP_PKEY *ikey)
{
	char subj[400], san[600];
	size_t off = 0;
	struct spec s = { .subject = subj, .key = K.leaf, .issuer = issuer, .issuer_key = ikey,
			  .not_before = T0 - DAY, .not_after = T0 + DAY, .san = san };
	uint8_t big[40];
	BIGNUM *bn;
	X509 *x;

	snprintf(subj, sizeof(subj), "/CN=odd.example/OU=%060d/OU=%060d/OU=%060d/OU=%060d", 1, 2, 3, 4);
	for (int i = 0; i < 20; i++)
		off += (size_t)snprintf(san + off, sizeof(san) - off, "%sDNS:n%d.odd.example", i ? "," : "", i);
	x = mk_cert(&s);
	memset(big, 0x5c, sizeof(big));
	bn = BN_bin2bn(big, sizeof(big), NULL);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

/* A hit gives the analysis a parse gives, and moves the same counters. */
static void test_cache_replay(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *odd = mk_odd_leaf(p.inter, K.inter);
	X509 *chain[] = { p.leaf, p.inter }, *odd_chain[] = { odd, p.inter };
	struct cert_stats ref = { 0 };
	struct tls_info ti;

	for (int round = 0; round < 3; round++) {
		analyze_both(cc, &p.root, 1, chain, 2, "good.example", T0, &ref);
		assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
		analyze_both(cc, &p.root, 1, odd_chain, 2, "odd.example", T0, &ref);
		assert_true(CA.chain[0].name_cut && CA.chain[0].serial_cut);
		assert_int_equal(CA.chain[0].san_total, 20);
	}
	/* 2 + 1 certificates parsed once, every other entry copied; 2 chains verified once, then replayed. */
	assert_int_equal(cert_ctx_stats(cc)->cache_misses, 3);
	assert_int_equal(cert_ctx_stats(cc)->cache_hits, 9);
	assert_int_equal(cert_ctx_stats(cc)->vcache_misses, 2);
	assert_int_equal(cert_ctx_stats(cc)->vcache_hits, 4);
	assert_int_equal(cert_ctx_stats(cc)->cache_evicted, 0);
	assert_int_equal(cert_ctx_stats(cc)->names_cut, 3);
	assert_int_equal(cert_ctx_stats(cc)->serials_cut, 3);
	assert_int_equal(cert_ctx_stats(cc)->san_dropped, 12);
	assert_same_stats(cert_ctx_stats(cc), &ref);

	/* Entries that do not parse are remembered too, and counted again on every hit. */
	for (int round = 0; round < 2; round++) {
		struct cert_ctx *fresh = ctx_with(&p.root, 1, NULL);
		ti_set(&ti, chain, 2, "good.example");
		memset(ti.certs[1].der, 0x42, ti.certs[1].len);
		cert_analyze(cc, &ti, US(T0), &CA);
		cert_analyze(fresh, &ti, US(T0), &REF);
		ti_free(&ti);
		assert_same_analysis(&CA, &REF);
		assert_false(CA.chain[1].parsed);
		assert_int_equal(CA.n_unparsed, 1);
		add_stats(&ref, cert_ctx_stats(fresh));
		cert_ctx_free(fresh);
	}
	assert_int_equal(cert_ctx_stats(cc)->certs_unparsed, 2);
	assert_same_stats(cert_ctx_stats(cc), &ref);

	/* A result replayed with its errors over the cap still marks and counts the drop. */
	{
		X509 *root2 = mk_root("/CN=Forger Root", K.other, T0 - 3000 * DAY, T0 - 2000 * DAY);
		X509 *c[10];
		c[9] = root2;
		for (int i = 8; i >= 0; i--) {
			char subj[32];
			snprintf(subj, sizeof(subj), "/CN=Expired %d", i);
			c[i] = mk_ca(subj, K.other, c[i + 1], K.other, T0 - 3000 * DAY, T0 - 2000 * DAY - i);
		}
		for (int round = 0; round < 2; round++)
			analyze_both(cc, &p.root, 1, c, 10, "x.example", T0, &ref);
		assert_true(CA.errors_dropped);
		assert_int_equal(CA.n_errors, CERT_MAX_ERRORS);
		assert_same_stats(cert_ctx_stats(cc), &ref);
		for (int i = 0; i < 10; i++)
			X509_free(c[i]);
	}
	cert_ctx_free(cc);
	X509_free(odd);
	pki_free(&p);
}

/* A full cache replaces the entry the CLOCK hand finds not hit since its last pass, and counts it. */
static void test_cache_eviction(void **state)
{
	struct pki p;
	struct cert_cfg cfg = { .ca_bundle = "", .cache_certs = 2, .cache_chains = 1 };
	char err[128];
	struct cert_ctx *cc = cert_ctx_new(&cfg, err, sizeof(err));
	const struct cert_stats *st;
	X509 *l[3];
	struct cert_stats ref = { 0 };

	assert_non_null(cc);
	st = cert_ctx_stats(cc);
	pki_make(&p, "x.example", T0 - DAY, T0 + DAY);
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "l%d.example", i);
		l[i] = mk_leaf(name, K.leaf, p.inter, K.inter, T0 - DAY, T0 + DAY);
	}
	analyze_both(cc, NULL, 0, &l[0], 1, "l0.example", T0, &ref);  /* miss: slot 0 */
	analyze_both(cc, NULL, 0, &l[0], 1, "l0.example", T0, &ref);  /* hit: slot 0 referenced */
	analyze_both(cc, NULL, 0, &l[1], 1, "l1.example", T0, &ref);  /* miss: slot 1; the verification of l0 goes */
	assert_int_equal(st->cache_hits, 1);
	assert_int_equal(st->cache_misses, 2);
	assert_int_equal(st->cache_evicted, 0);
	assert_int_equal(st->vcache_evicted, 1);
	analyze_both(cc, NULL, 0, &l[2], 1, "l2.example", T0, &ref);  /* full: l0 had a hit, l1 goes */
	assert_int_equal(st->cache_evicted, 1);
	analyze_both(cc, NULL, 0, &l[0], 1, "l0.example", T0, &ref);  /* still there */
	assert_int_equal(st->cache_hits, 2);
	analyze_both(cc, NULL, 0, &l[1], 1, "l1.example", T0, &ref);  /* gone: parsed again, same result */
	assert_int_equal(st->cache_misses, 4);
	assert_int_equal(st->cache_evicted, 2);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_string_equal(CA.chain[0].subject, "CN=l1.example");
	/* Many more than fit: every one right, the cache never above its size. */
	for (int i = 0; i < 40; i++)
		analyze_both(cc, NULL, 0, &l[i % 3], 1, i % 2 ? "l0.example" : "z.example", T0 + i, &ref);
	assert_true(st->cache_evicted > 2);
	assert_int_equal(st->cache_hits + st->cache_misses, 46);
	assert_same_stats(st, &ref);
	cert_ctx_free(cc);
	for (int i = 0; i < 3; i++)
		X509_free(l[i]);
	pki_free(&p);
}

/* The verification cache at every second around every validity bound of the chain and of the store, in scrambled
 * order: always the answer a fresh verification gives.  The store holds two roots with one subject and key but
 * different validity, so which anchor is chosen depends on the time too. */
static void test_vcache_time_cells(void **state)
{
	X509 *root_old = mk_root("/O=Lab/CN=Lab Root", K.root, T0 - 3000 * DAY, T0 - 2 * DAY);
	X509 *root_new = mk_root("/O=Lab/CN=Lab Root", K.root, T0 - 5 * DAY, T0 + 3000 * DAY);
	X509 *inter = mk_ca("/O=Lab/CN=Lab Issuing CA", K.inter, root_new, K.root, T0 - 100 * DAY, T0 + 7 * DAY);
	X509 *leaf = mk_leaf("good.example", K.leaf, inter, K.inter, T0 - 10 * DAY, T0 + 10 * DAY);
	X509 *anchors[] = { root_old, root_new }, *chain[] = { leaf, inter };
	int64_t bounds[] = { T0 - 3000 * DAY, T0 - 2 * DAY, T0 - 5 * DAY, T0 + 3000 * DAY, T0 - 100 * DAY,
			     T0 + 7 * DAY, T0 - 10 * DAY, T0 + 10 * DAY };
	struct cert_ctx *cc = ctx_with(anchors, 2, NULL);
	struct cert_stats ref = { 0 };
	int64_t times[8 * 5];
	unsigned n = 0, trusted = 0;

	for (unsigned i = 0; i < 8; i++)
		for (int d = -2; d <= 2; d++)
			times[n++] = bounds[i] + d;
	for (unsigned k = 0; k < 3 * n; k++) {
		int64_t t = times[(k * 17 + k / n) % n];     /* each time three times, never in a row */
		analyze_both(cc, anchors, 2, chain, 2, "good.example", t, &ref);
		trusted += CA.trust == CERT_TRUST_TRUSTED;
	}
	assert_true(trusted > 0 && trusted < 3 * n);
	assert_true(cert_ctx_stats(cc)->vcache_hits > 0);
	assert_same_stats(cert_ctx_stats(cc), &ref);
	/* Inside one cell, far from every bound: verified once. */
	{
		uint64_t misses = cert_ctx_stats(cc)->vcache_misses;
		for (int i = 0; i < 5; i++)
			analyze_both(cc, anchors, 2, chain, 2, "good.example", T0 + i * 3600, &ref);
		assert_true(cert_ctx_stats(cc)->vcache_misses <= misses + 1);
		assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	}
	cert_ctx_free(cc);
	X509_free(root_old);
	X509_free(root_new);
	X509_free(inter);
	X509_free(leaf);
}

/* The host name and the chain as sent are part of the key; a new anchor empties the cache. */
static void test_vcache_key(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(NULL, 0, NULL);
	X509 *chain[] = { p.leaf, p.inter }, *swapped[] = { p.inter, p.leaf };
	struct cert_stats ref = { 0 };
	unsigned char *der = NULL;
	int len;

	analyze_both(cc, NULL, 0, chain, 2, "good.example", T0, &ref);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	len = i2d_X509(p.root, &der);
	assert_int_equal(cert_ctx_add_anchor_der(cc, der, (size_t)len), 0);
	OPENSSL_free(der);
	for (int round = 0; round < 2; round++) {
		analyze_both(cc, &p.root, 1, chain, 2, "good.example", T0, &ref);
		assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
		analyze_both(cc, &p.root, 1, chain, 2, "bad.example", T0, &ref);
		assert_int_equal(CA.name_check, CERT_NAME_MISMATCH);
		analyze_both(cc, &p.root, 1, chain, 2, "gold.example", T0, &ref);
		assert_int_equal(CA.name_check, CERT_NAME_MISMATCH);
		analyze_both(cc, &p.root, 1, chain, 2, NULL, T0, &ref);
		assert_int_equal(CA.name_check, CERT_NAME_NO_SNI);
		analyze_both(cc, &p.root, 1, chain, 1, "good.example", T0, &ref);
		assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
		analyze_both(cc, &p.root, 1, swapped, 2, "good.example", T0, &ref);
		assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	}
	assert_int_equal(cert_ctx_stats(cc)->vcache_misses, 7);
	assert_int_equal(cert_ctx_stats(cc)->vcache_hits, 6);
	/* An SNI OpenSSL refuses (embedded NUL) is never cached, and still a mismatch. */
	{
		struct tls_info ti;
		ti_set(&ti, chain, 2, "good.example");
		ti.sni[4] = '\0';
		for (int round = 0; round < 2; round++)
			cert_analyze(cc, &ti, US(T0), &CA);
		ti_free(&ti);
		assert_int_equal(CA.trust_code, CERT_ERR_BAD_SNI);
		assert_int_equal(cert_ctx_stats(cc)->vcache_hits, 6);
	}
	cert_ctx_free(cc);
	pki_free(&p);
}

/* Only the header is cleared between flows: nothing of a previous flow may show through. */
static void test_analysis_reset(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	struct json j;

	analyze(cc, chain, 2, "bad.example", T0 + 100 * DAY, &CA);
	assert_true(CA.n_errors >= 2);
	cert_analyze(cc, NULL, US(T0), &CA);
	assert_int_equal(CA.n_chain, 0);
	assert_int_equal(CA.n_errors, 0);
	assert_int_equal(CA.hints, 0);
	assert_int_equal(CA.name_check, CERT_NAME_NOT_CHECKED);
	json_init(&j);
	json_obj_open(&j, NULL);
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_null(strstr(j.buf, "good.example"));
	json_free(&j);
	analyze(cc, chain, 1, "good.example", T0, &CA);
	assert_int_equal(CA.n_chain, 1);
	{
		struct cert_ctx *fresh = ctx_with(&p.root, 1, NULL);
		analyze(fresh, chain, 1, "good.example", T0, &REF);
		assert_same_analysis(&CA, &REF);          /* no issuer: only what that gives */
		cert_ctx_free(fresh);
	}
	cert_ctx_free(cc);
	pki_free(&p);
}

/* ---- the system store: hashed directory or bundle ----------------------------------------------------------- */

struct sysdir {
	char dir[64], bundle[96], links[4][128];
	int n_links;
};

static void sys_link(struct sysdir *s, X509 *x, int suffix)
{
	int ok = 0;
	unsigned long h = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, &ok);
	char *path = s->links[s->n_links++], dir[sizeof(s->dir)];
	FILE *fp;
	assert_true(ok);
	memcpy(dir, s->dir, sizeof(dir));
	snprintf(path, sizeof(s->links[0]), "%s/%08lx.%d", dir, h, suffix);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
}

static void sys_make(struct sysdir *s, X509 **bundle, int n)
{
	FILE *fp;
	memset(s, 0, sizeof(*s));
	char dir[sizeof(s->dir)] = "/tmp/test_cert_dir.XXXXXX";
	assert_non_null(mkdtemp(dir));
	memcpy(s->dir, dir, sizeof(dir));
	snprintf(s->bundle, sizeof(s->bundle), "%s/bundle.crt", dir);
	fp = fopen(s->bundle, "w");
	assert_non_null(fp);
	for (int i = 0; i < n; i++)
		assert_int_equal(PEM_write_X509(fp, bundle[i]), 1);
	fclose(fp);
}

/* The bundle written again: a comment line before each block, the base64 wrapped at `wrap` columns (PEM_write_X509
 * wraps at 64), lines ended by `eol`; `junk`, if not 0, replaces the first base64 character of the last block. */
static void sys_rewrite(struct sysdir *s, X509 **bundle, int n, int wrap, const char *eol, char junk)
{
	FILE *fp = fopen(s->bundle, "w");
	assert_non_null(fp);
	for (int i = 0; i < n; i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(bundle[i], &der);
		char b64[8192];
		int m;
		assert_true(len > 0 && len < 5000);
		m = EVP_EncodeBlock((unsigned char *)b64, der, len);
		OPENSSL_free(der);
		if (junk && i == n - 1)
			b64[0] = junk;
		fprintf(fp, "# anchor %d%s-----BEGIN CERTIFICATE-----%s", i, eol, eol);
		for (int k = 0; k < m; k += wrap)
			fprintf(fp, "%.*s%s", m - k < wrap ? m - k : wrap, b64 + k, eol);
		fprintf(fp, "-----END CERTIFICATE-----%s", eol);
	}
	fclose(fp);
}

static void sys_free(struct sysdir *s)
{
	for (int i = 0; i < s->n_links; i++)
		unlink(s->links[i]);
	unlink(s->bundle);
	rmdir(s->dir);
}

static struct cert_ctx *sys_ctx(const struct sysdir *s)
{
	struct cert_cfg cfg = { .sys_bundle = s->bundle, .sys_dir = s->dir };
	char err[256];
	return cert_ctx_new(&cfg, err, sizeof(err));
}

static void test_system_store(void **state)
{
	struct pki p;
	pki_make(&p, "good.example", T0 - 30 * DAY, T0 + 60 * DAY);
	X509 *other = mk_root("/CN=Other Root", K.other, T0 - 3000 * DAY, T0 + 3000 * DAY);
	X509 *anchors[] = { p.root, other }, *chain[] = { p.leaf, p.inter };
	X509 *extra = mk_root("/CN=Snakeoil", K.rsa_e3, T0 - DAY, T0 + DAY); /* RSA: sorts after the others */
	struct cert_ctx *cc, *ref;
	struct sysdir s;
	FILE *fp;

	X509 *listed[] = { p.root, other, p.root };

	sys_make(&s, listed, 3);
	sys_link(&s, p.root, 0);
	sys_link(&s, other, 0);
	/* The directory holds exactly the bundle's certificates (the bundle lists one twice, the store keeps it once):
	 * used, and it answers as the bundle does. */
	cc = sys_ctx(&s);
	assert_non_null(cc);
	assert_string_equal(cert_ctx_trust_source(cc), s.dir);
	ref = ctx_with(anchors, 2, NULL);
	analyze(cc, chain, 2, "good.example", T0, &CA);
	analyze(ref, chain, 2, "good.example", T0, &REF);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_same_analysis(&CA, &REF);
	analyze(cc, &p.leaf, 1, "good.example", T0, &CA);   /* an issuer the directory does not have */
	analyze(ref, &p.leaf, 1, "good.example", T0, &REF);
	assert_same_analysis(&CA, &REF);
	cert_ctx_free(cc);
	cert_ctx_free(ref);
	/* The anchors are compared as the text of their blocks: comments between the blocks change nothing, a block
	 * written another way (CRLF line ends, other wrapping) or another byte in one is not the same: the bundle. */
	sys_rewrite(&s, listed, 3, 64, "\n", 0);
	cc = sys_ctx(&s);
	assert_string_equal(cert_ctx_trust_source(cc), s.dir);
	cert_ctx_free(cc);
	sys_rewrite(&s, listed, 3, 64, "\r\n", 0);
	cc = sys_ctx(&s);
	assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	sys_rewrite(&s, listed, 3, 76, "\n", 0);
	cc = sys_ctx(&s);
	assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	sys_rewrite(&s, listed, 3, 64, "\n", '*');
	cc = sys_ctx(&s);
	if (cc)
		assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	/* A NUL byte, and a block after it that the directory does not have: the bundle. */
	sys_rewrite(&s, listed, 3, 64, "\n", 0);
	fp = fopen(s.bundle, "a");
	fputc('\0', fp);
	fputc('\n', fp);
	assert_int_equal(PEM_write_X509(fp, extra), 1);
	fclose(fp);
	cc = sys_ctx(&s);
	if (cc)
		assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	sys_rewrite(&s, listed, 3, 64, "\n", 0);
	/* A certificate the bundle does not have (a local snakeoil): the bundle. */
	sys_link(&s, extra, 0);
	cc = sys_ctx(&s);
	assert_non_null(cc);
	assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	analyze(cc, chain, 2, "good.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	cert_ctx_free(cc);
	unlink(s.links[--s.n_links]);
	/* Two anchors under one hash: OpenSSL would order them by file name, not as the bundle does. */
	sys_link(&s, p.root, 1);
	cc = sys_ctx(&s);
	assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	unlink(s.links[--s.n_links]);
	/* A bundle anchor missing from the directory. */
	unlink(s.links[--s.n_links]);
	cc = sys_ctx(&s);
	assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	sys_link(&s, other, 0);
	/* A block that is not a plain certificate in the bundle: the bundle loader decides. */
	fp = fopen(s.bundle, "a");
	fputs("-----BEGIN X509 CRL-----\nMAA=\n-----END X509 CRL-----\n", fp);
	fclose(fp);
	cc = sys_ctx(&s);
	if (cc)
		assert_string_equal(cert_ctx_trust_source(cc), s.bundle);
	cert_ctx_free(cc);
	/* No bundle: an error, as before, even with a directory. */
	unlink(s.bundle);
	assert_null(sys_ctx(&s));
	sys_free(&s);
	X509_free(other);
	X509_free(extra);
	pki_free(&p);
}

static int group_setup(void **state)
{
	K.root = ec_key();
	K.inter = ec_key();
	K.leaf = ec_key();
	K.other = ec_key();
	K.rsa_e3 = rsa_e3_key();
	return 0;
}

static int group_teardown(void **state)
{
	EVP_PKEY_free(K.root);
	EVP_PKEY_free(K.inter);
	EVP_PKEY_free(K.leaf);
	EVP_PKEY_free(K.other);
	EVP_PKEY_free(K.rsa_e3);
	return 0;
}

/* ---- the anchors of the packet's time ---------------------------------------------------------------------------- */

/* A context whose store lacks the lab root, and whose history lists it as removed on `removed` ("-": date not
 * recorded); pem: its certificate is at hand for checking signatures. */
static struct cert_ctx *ctx_history(X509 *root, const char *removed, bool pem)
{
	struct cert_info ci;
	struct cert_stats st;
	unsigned char *der = NULL;
	int len = i2d_X509(root, &der);
	char tsv[64] = "/tmp/test_hist.XXXXXX", pem_path[64] = "";
	memset(&st, 0, sizeof(st));
	assert_true(cert_parse(der, (size_t)len, &ci, &st));
	OPENSSL_free(der);
	int fd = mkstemp(tsv);
	assert_true(fd >= 0);
	FILE *fp = fdopen(fd, "w");
	assert_non_null(fp);
	fprintf(fp, "# removed roots for the test\nLab Root\t%s\t%s\ttest\t%s\n", ci.spki_sha256, removed, ci.subject);
	fclose(fp);
	if (pem)
		snprintf(pem_path, sizeof(pem_path), "%s", write_pem(&root, 1));
	struct cert_cfg cfg = { .ca_bundle = "", .seed = &SEED, .removed_roots = tsv,
				.removed_pem = pem ? pem_path : NULL };
	char err[256];
	struct cert_ctx *cc = cert_ctx_new(&cfg, err, sizeof(err));
	assert_non_null(cc);
	unlink(tsv);
	if (pem)
		unlink(pem_path);
	return cc;
}

/* Trusted while its root was in the store, untrusted once it had left. */
static void test_removed_root_dated(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "old.example", T0 - 300 * DAY, T0 + 300 * DAY);
	struct cert_ctx *cc = ctx_history(p.root, "2024-05-14", true); /* T0's day */
	X509 *chain[] = { p.leaf, p.inter };
	analyze(cc, chain, 2, "old.example", T0 - 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_string_equal(CA.removed_anchor, "Lab Root");
	assert_string_equal(CA.removed_date, "2024-05-14");
	assert_null(ooni_failure(&CA));
	analyze(cc, chain, 2, "old.example", T0 + 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_true(has_code(&CA, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1));
	assert_int_equal(cert_ctx_stats(cc)->removed_anchor_trusted, 1);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* Removed at an unrecorded date, or known by name only: neither trusted nor untrusted, and the verdict stays. */
static void test_removed_root_unknown(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "old.example", T0 - 300 * DAY, T0 + 300 * DAY);
	X509 *chain[] = { p.leaf, p.inter };
	struct cert_ctx *undated = ctx_history(p.root, "-", true);
	analyze(undated, chain, 2, "old.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNKNOWN_ANCHOR);
	assert_string_equal(cert_trust_name(CERT_TRUST_UNKNOWN_ANCHOR), "unknown_anchor");
	assert_null(ooni_failure(&CA));
	struct verdict_result vr;
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	assert_int_equal(vr.verdict, V_OK);
	cert_ctx_free(undated);
	struct cert_ctx *named = ctx_history(p.root, "2024-05-14", false);
	analyze(named, chain, 2, "old.example", T0 - 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNKNOWN_ANCHOR);
	assert_string_equal(CA.removed_anchor, "Lab Root");
	analyze(named, chain, 2, "old.example", T0 + 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_int_equal(cert_ctx_stats(named)->unknown_anchor, 1);
	cert_ctx_free(named);
	pki_free(&p);
}

/* A forger copying a removed root's name cannot copy its key: with the certificate at hand the name alone
 * proves nothing, and the chain stays untrusted (not "unknown_anchor"). */
static void test_removed_root_forged_name(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "old.example", T0 - 300 * DAY, T0 + 300 * DAY);
	X509 *fake = mk_root("/O=Lab/CN=Lab Root", K.other, T0 - 3000 * DAY, T0 + 3000 * DAY);
	X509 *finter = mk_ca("/O=Lab/CN=Lab Issuing CA", K.inter, fake, K.other, T0 - 2000 * DAY, T0 + 2000 * DAY);
	X509 *fleaf = mk_leaf("old.example", K.leaf, finter, K.inter, T0 - 300 * DAY, T0 + 300 * DAY);
	struct cert_ctx *cc = ctx_history(p.root, "2024-05-14", true);
	X509 *chain[] = { fleaf, finter };
	analyze(cc, chain, 2, "old.example", T0 - 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_true(has_code(&CA, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, 1));
	cert_ctx_free(cc);
	X509_free(fake);
	X509_free(finter);
	X509_free(fleaf);
	pki_free(&p);
}

/* A capture stamped 1970 (a device without a clock): validated without time checks, and saying so. */
static void test_clock_not_set(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "clockless.example", T0 - 30 * DAY, T0 + 60 * DAY);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { p.leaf, p.inter };
	analyze(cc, chain, 2, "clockless.example", 100 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_TRUSTED);
	assert_true(CA.time_unchecked);
	struct json j;
	json_init(&j);
	json_obj_open(&j, NULL);
	out_cert_tls_members(&j, &CA, NULL);
	json_obj_close(&j);
	assert_non_null(strstr(j.buf, "\"time_checked\":false"));
	json_free(&j);
	/* a set clock still checks times: the same chain at T0 + 2 years has expired */
	analyze(cc, chain, 2, "clockless.example", T0 + 730 * DAY, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNTRUSTED);
	assert_false(CA.time_unchecked);
	cert_ctx_free(cc);
	pki_free(&p);
}

/* A key algorithm this OpenSSL does not know (as ML-DSA before OpenSSL 3.5): unverifiable, "unsupported
 * signature algorithm", not a memory failure and not untrusted. */
static void test_unsupported_algorithm(void **state)
{
	(void)state;
	struct pki p;
	pki_make(&p, "pq.example", T0 - 30 * DAY, T0 + 60 * DAY);
	unsigned char *der = NULL;
	int len = i2d_X509(p.leaf, &der);
	/* id-ecPublicKey 1.2.840.10045.2.1 -> 1.2.840.10045.2.9, an OID nobody defined */
	static const uint8_t ecpk[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
	uint8_t *hit = memmem(der, (size_t)len, ecpk, sizeof(ecpk));
	assert_non_null(hit);
	hit[sizeof(ecpk) - 1] = 0x09;
	const unsigned char *q = der;
	X509 *odd = d2i_X509(NULL, &q, len);
	OPENSSL_free(der);
	assert_non_null(odd);
	struct cert_ctx *cc = ctx_with(&p.root, 1, NULL);
	X509 *chain[] = { odd, p.inter };
	analyze(cc, chain, 2, "pq.example", T0, &CA);
	assert_int_equal(CA.trust, CERT_TRUST_UNVERIFIABLE);
	assert_string_equal(CA.trust_reason, "unsupported signature algorithm");
	assert_int_equal(cert_ctx_stats(cc)->unsupported_alg, 1);
	assert_int_equal(cert_ctx_stats(cc)->verify_failed, 0);
	assert_null(ooni_failure(&CA));
	cert_ctx_free(cc);
	X509_free(odd);
	pki_free(&p);
}

/* The project's own list reads, and names the roots the third-party captures chain to. */
static void test_removed_roots_data_file(void **state)
{
	(void)state;
	char path[4096];
	snprintf(path, sizeof(path), "%s/data/removed-roots.tsv", getenv("srcdir") ? getenv("srcdir") : ".");
	struct cert_history h;
	char err[256];
	assert_int_equal(cert_history_load(&h, path, NULL, err, sizeof(err)), 0);
	assert_true(h.n > 100);
	const struct cert_removed *r = cert_history_by_subject(&h, "CN=GeoTrust Global CA,O=GeoTrust Inc.,C=US");
	assert_non_null(r);
	assert_string_equal(r->removed_date, "2020-06-01");
	assert_non_null(cert_history_by_subject(&h, "CN=DST Root CA X3,O=Digital Signature Trust Co."));
	assert_null(cert_history_by_subject(&h, "CN=Not A Removed Root"));
	assert_null(cert_history_by_subject(&h, ""));
	/* the index finds every entry, and of equal subjects the list's first */
	for (size_t i = 0; i < h.n; i++) {
		const struct cert_removed *f = cert_history_by_subject(&h, h.e[i].subject);
		assert_non_null(f);
		assert_string_equal(f->subject, h.e[i].subject);
		for (size_t j = 0; j < (size_t)(f - h.e); j++)
			assert_string_not_equal(h.e[j].subject, h.e[i].subject);
	}
	cert_history_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trusted_chain),
		cmocka_unit_test(test_packet_time_not_wall_clock),
		cmocka_unit_test(test_wrong_name),
		cmocka_unit_test(test_untrusted_root),
		cmocka_unit_test(test_all_errors_recorded),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_chain_truncated),
		cmocka_unit_test(test_garbage_der),
		cmocka_unit_test(test_not_visible),
		cmocka_unit_test(test_verdict_mapping),
		cmocka_unit_test(test_ooni_class_order),
		cmocka_unit_test(test_fingerprint_match),
		cmocka_unit_test(test_name_match),
		cmocka_unit_test(test_name_patterns),
		cmocka_unit_test(test_match_pre_equals_chain),
		cmocka_unit_test(test_db_loader),
		cmocka_unit_test(test_project_data_file),
		cmocka_unit_test(test_bundle_loading),
		cmocka_unit_test(test_hints_single_chain),
		cmocka_unit_test(test_hints_memory),
		cmocka_unit_test(test_memory_bounds),
		cmocka_unit_test(test_inconsistent_networks),
		cmocka_unit_test(test_inconsistent_confidence),
		cmocka_unit_test(test_self_signed_everywhere),
		cmocka_unit_test(test_serverhello_hint),
		cmocka_unit_test(test_certstats_bounds),
		cmocka_unit_test(test_flow_ids_cap),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_cache_replay),
		cmocka_unit_test(test_cache_eviction),
		cmocka_unit_test(test_vcache_time_cells),
		cmocka_unit_test(test_vcache_key),
		cmocka_unit_test(test_analysis_reset),
		cmocka_unit_test(test_system_store),
		cmocka_unit_test(test_removed_root_dated),
		cmocka_unit_test(test_removed_root_unknown),
		cmocka_unit_test(test_removed_root_forged_name),
		cmocka_unit_test(test_clock_not_set),
		cmocka_unit_test(test_unsupported_algorithm),
		cmocka_unit_test(test_removed_roots_data_file),
		cmocka_unit_test(test_cert_memo_same_bytes),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
