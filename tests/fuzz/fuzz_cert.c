/* fuzz_cert.c - libFuzzer harness for the certificate path: DER -> parse -> fingerprints -> validation against a
 * tiny store -> interception-CA match -> hints -> JSON -> cross-network statistics; and the interception-CA
 * file loader and name patterns.
 *
 * Input: byte 0 selects the mode.
 *   bit 7 set: the rest is an interception-CA file, loaded, then matched against a fixed chain.
 *   else:      bit 0 = TLS 1.3 (nothing may be parsed), bits 1-2 = client network; then one length byte and that
 *              many SNI bytes; then certificates as 2-byte big-endian length + DER, leaf first.
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_cert.c src/cert.c src/cert_trust.c
 *        src/cert_cache.c src/htab.c src/intercept.c src/certstats.c src/out_cert.c src/json.c src/util.c src/tls.c
 *        src/verdict.c src/tcpobs.c $(pkg-config --libs libcrypto)
 *        (or ./configure --enable-fuzzing CC=clang && make tests/fuzz/fuzz_cert)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cert.h"
#include "certstats.h"
#include "htab.h"
#include "cursor.h"
#include "htab.h"
#include "intercept.h"
#include "json.h"
#include "out_cert.h"
#include "tls.h"
#include "verdict.h"

#define T0 1715729838LL

static struct cert_ctx *CC;
static struct intercept_db *DB;
static struct certstats *CS;
static struct cert_analysis CA;
static struct cert_info FIXED[2];
static uint64_t FLOW_ID;

static const char db_text[] =
	"kz-isca\tname\t-\t-\t-\tInformation Security Certification Authority\n"
	"kz-sc\tname\t-\t-\t-\tC=KZ,CN=Security Certificate\n"
	"p\tprefix\t00\t-\t-\t-\n"                    /* invalid on purpose: never loaded (too short) */;
static const char db_good[] =
	"pfx\tprefix\t0000000000\t-\t-\t-\n"
	"fp\tfingerprint\t-\t-\t0000000000000000000000000000000000000000000000000000000000000000\t-\n"
	"kz-isca\tname\t-\t-\t-\tInformation Security Certification Authority\n"
	"kz-sc\tname\t-\t-\t-\tC=KZ,CN=Security Certificate\n";

/* A tiny store: one freshly made EC root, so validation can succeed for inputs that embed a matching chain
 * and runs its full path for every other one. */
static void make_anchor(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL;
	int len;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(T0 - 86400 * 1000));
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(T0 + 86400 * 1000));
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Fuzz Root", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	len = i2d_X509(x, &der);
	if (len > 0)
		cert_ctx_add_anchor_der(CC, der, (size_t)len);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct hseed seed = { { 1, 2 } }; /* fixed: a crash must replay the same table layout */
	struct cert_cfg cfg = { .ca_bundle = "", .memory_names = 64, .seed = &seed };
	char err[256];
	DB = intercept_db_new();
	if (!DB || intercept_db_load_mem(DB, db_good, strlen(db_good), "fuzz", err, sizeof(err)) < 0)
		abort();
	if (intercept_db_load_mem(DB, db_text, strlen(db_text), "fuzz", err, sizeof(err)) != -1)
		abort();
	cfg.icpt = DB;
	CC = cert_ctx_new(&cfg, err, sizeof(err));
	CS = certstats_new(64, &(struct hseed){ { 1, 0 } });
	if (!CC || !CS)
		abort();
	make_anchor();
	FIXED[0].parsed = FIXED[1].parsed = 1;
	strcpy(FIXED[0].subject, "CN=victim.example");
	strcpy(FIXED[0].issuer, "CN=Security Certificate,C=KZ");
	strcpy(FIXED[0].sha1, "00000000000000000000000000000000000000aa");
	strcpy(FIXED[1].subject, "CN=Information Security Certification Authority,O=ISCA,C=KZ");
	return 0;
}

static void fuzz_db(const uint8_t *data, size_t size)
{
	struct intercept_db *db = intercept_db_new();
	struct intercept_match m;
	char err[256];
	if (!db)
		return;
	if (intercept_db_load_mem(db, (const char *)data, size, "input", err, sizeof(err)) >= 0) {
		/* each certificate's answer, as the cache keeps it, matches as the chain does */
		struct intercept_cert pre[2];
		struct intercept_match mp;
		intercept_match_cert(db, &FIXED[0], &pre[0]);
		intercept_match_cert(db, &FIXED[1], &pre[1]);
		bool r = intercept_match_chain(db, FIXED, 2, false, &m);
		if (r != intercept_match_pre(db, pre, 2, false, &mp) ||
		    (r && (m.label != mp.label || m.field != mp.field || m.cert != mp.cert)))
			__builtin_trap();
		for (size_t i = 0; i < db->n; i++)
			(void)intercept_name_matches(&db->e[i], FIXED[1].subject);
	}
	intercept_db_free(db);
}

/* The certificates' memo lives across inputs, so entries are hit, replaced
 * and hit again as they would be over a capture. */
static struct out_cert_memo *MEMO;

static void write_members(struct json *j, struct out_cert_memo *memo)
{
	json_init(j);
	json_obj_open(j, NULL);
	out_cert_tls_members(j, &CA, memo);
	json_obj_close(j);
}

/* Written anew and through the memo: the same bytes, or abort. */
static void emit(void)
{
	struct json j, m;
	if (!MEMO)
		MEMO = out_cert_memo_new();
	write_members(&j, NULL);
	write_members(&m, MEMO);
	if (j.oom != m.oom || j.len != m.len || (j.len && memcmp(j.buf, m.buf, j.len) != 0))
		__builtin_trap();
	json_free(&j);
	json_free(&m);
}

static void consistency(void)
{
	struct json j;
	json_init(&j);
	certstats_finalize(CS);
	json_obj_open(&j, NULL);
	out_cert_consistency_array(&j, "c", CS);
	json_obj_close(&j);
	json_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = cur_make(data, size);
	struct tls_info ti;
	struct verdict_result vr;
	uint8_t mode = 0, sni_len = 0;
	uint16_t len;
	struct cursor der;

	if (!cur_u8(&c, &mode))
		return 0;
	if (mode & 0x80) {
		fuzz_db(c.p, cur_left(&c));
		return 0;
	}
	memset(&ti, 0, sizeof(ti));
	ti.sh_seen = 1;
	ti.cert_seen = 1;
	ti.sh_version = (mode & 1) ? 0x0304 : 0x0303;
	/* the SNI in an exact-size heap block, as the hello parser keeps it */
	if (cur_u8(&c, &sni_len) && cur_left(&c) >= sni_len && (ti.sni = malloc((size_t)sni_len + 1))) {
		(void)cur_bytes(&c, ti.sni, sni_len); /* 255 = TLS_MAX_SNI at most */
		ti.sni[sni_len] = '\0';
		ti.sni_len = sni_len;
		ti.sni_present = sni_len > 0;
	}
	if (!(ti.certs = calloc(TLS_MAX_CERTS, sizeof(*ti.certs)))) {
		free(ti.sni);
		return 0;
	}
	while (ti.n_certs < TLS_MAX_CERTS && cur_be16(&c, &len) && cur_sub(&c, len, &der)) {
		/* Exact-size heap copies, as the TLS parser makes: ASan sees any overread. */
		uint8_t *copy = malloc(len ? len : 1);
		if (!copy)
			break;
		if (len)
			memcpy(copy, der.p, len);
		ti.certs[ti.n_certs].der = copy;
		ti.certs[ti.n_certs].len = len;
		ti.n_certs++;
	}
	ti.certs_truncated = cur_left(&c) > 0;
	cert_analyze(CC, &ti, (uint64_t)(T0 + (mode >> 3)) * 1000000u, &CA);
	memset(&vr, 0, sizeof(vr));
	vr.verdict = V_OK;
	verdict_apply_cert(&vr, &CA);
	(void)verdict_ooni_failure(&vr);
	emit();
	certstats_add(CS, &ti, &CA, (mode >> 1) & 3, ++FLOW_ID, vr.verdict);
	if ((FLOW_ID & 63) == 0)
		consistency();
	tls_info_release(&ti);
	return 0;
}
