/* cert_trust.c - the trust store: anchors from a PEM bundle or from the system's hashed directory (RFC 5280 section
 * 6.1.1 trust anchors), the check that the directory and the bundle hold the same anchors, and the stored
 * certificates' validity bounds (RFC 5280 section 4.1.2.5).  See cert_trust.h. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cert_types.h"
#include "cert_trust.h"
#include "util.h"

/* ---- times ---------------------------------------------------------------------------------------------------- */

bool cert_time_epoch(const ASN1_TIME *t, int64_t *out)
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

/* ---- the system store: hashed directory or bundle ------------------------------------------------------------- */

/* The anchors of a PEM file as the text of their blocks (between the BEGIN and END lines, as written): equal texts
 * are the same bytes for OpenSSL's decoder whichever loader reads them, so the directory and the bundle are
 * compared without decoding either (decoding both cost ~27 M instructions a run).  Debian's bundle is the
 * directory's files laid end to end; a bundle written another way (other line ends or wrapping) compares unequal
 * and the run loads the bundle, the slower of two correct answers. */
struct pem_set {
	struct pem_body {
		char *text;
		size_t len;
	} *v;
	size_t n, cap;
};

static void pem_set_free(struct pem_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].text);
	free(s->v);
}

static bool pem_set_add(struct pem_set *s, char *text, size_t len)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct pem_body *v;
		if (cap > CERT_PEM_MAX_CERTS || !(v = realloc(s->v, cap * sizeof(*v))))
			return false;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].text = text;
	s->v[s->n].len = len;
	s->n++;
	return true;
}

static int body_cmp(const void *a, const void *b)
{
	const struct pem_body *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->text, y->text, x->len);
}

#define PEM_FILE_MAX (64u << 20) /* a bigger "bundle" is not one: loaded the slow way, which says what is wrong */

/* The whole file, NUL-terminated; NULL when it cannot be read or is too big. */
static char *file_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;

	if (f) {
		if (slurp_file(f, PEM_FILE_MAX, &buf, len) != SLURP_OK)
			buf = NULL;
		fclose(f);
	}
	return buf;
}

/* One block's text, p up to the END line, copied.  NULL when it holds headers (RFC 1421 "Proc-Type:" lines), which
 * the two loaders need not treat alike. */
static char *pem_body(const char *p, const char *end, size_t *len)
{
	size_t n = (size_t)(end - p);
	char *out;

	if (n == 0 || memchr(p, ':', n) || !(out = malloc(n)))
		return NULL;
	memcpy(out, p, n);
	*len = n;
	return out;
}

#define PEM_BEGIN_CERT "-----BEGIN CERTIFICATE-----"
#define PEM_END_CERT "-----END CERTIFICATE-----"

/* The PEM blocks of a file into s; *count of them.  False when a block is not a plain CERTIFICATE (the two loaders
 * would treat it differently) or does not end.  Text outside the blocks is skipped, as OpenSSL's reader skips it. */
static bool pem_read_all(const char *path, struct pem_set *s, size_t *count)
{
	size_t before = s->n, len = 0, blen;
	char *text = file_text(path, &len), *body;
	const char *p = text, *e;
	/* A NUL would hide what follows it from the search below, not from OpenSSL. */
	bool ok = text != NULL && memchr(text, '\0', len) == NULL;

	while (ok && (p = strstr(p, "-----BEGIN ")) != NULL) {
		ok = (p == text || p[-1] == '\n') && strncmp(p, PEM_BEGIN_CERT, strlen(PEM_BEGIN_CERT)) == 0;
		if (!ok)
			break;
		p += strlen(PEM_BEGIN_CERT);
		e = strstr(p, "-----END ");
		ok = e && e[-1] == '\n' && strncmp(e, PEM_END_CERT, strlen(PEM_END_CERT)) == 0 &&
		     (body = pem_body(p, e, &blen)) != NULL;
		if (ok && !(ok = pem_set_add(s, body, blen)))
			free(body);
		if (ok)
			p = e + strlen(PEM_END_CERT);
	}
	free(text);
	*count = s->n - before;
	return ok;
}

/* 0: not a name OpenSSL's hashed-directory lookup builds ("%08lx.%d", lowercase); 1: HHHHHHHH.0; 2: HHHHHHHH.N,
 * N > 0.  CRL links (HHHHHHHH.rN) are never looked up here: 0. */
static int hash_link_kind(const char *nm)
{
	size_t i;
	for (i = 0; i < 8; i++)
		if (!((nm[i] >= '0' && nm[i] <= '9') || (nm[i] >= 'a' && nm[i] <= 'f')))
			return 0;
	if (nm[8] != '.' || nm[9] < '0' || nm[9] > '9')
		return 0;
	if (nm[9] == '0')
		return nm[10] == '\0' ? 1 : 0;
	for (i = 10; nm[i]; i++)
		if (nm[i] < '0' || nm[i] > '9')
			return 0;
	return 2;
}

/* The certificates a hashed-directory lookup can reach: one per HHHHHHHH.0 file.  A HHHHHHHH.1 means two anchors
 * share a subject hash; OpenSSL would then try them in directory order instead of bundle order: refused. */
static bool dir_read_all(const char *dir, struct pem_set *s)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	size_t count;
	bool ok = d != NULL;

	while (ok && (de = readdir(d)) != NULL) {
		int kind = hash_link_kind(de->d_name);
		if (kind == 0)
			continue;
		ok = kind == 1 && (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < sizeof(path) &&
		     pem_read_all(path, s, &count) && count == 1;
	}
	if (d)
		closedir(d);
	return ok;
}

/* Does the hashed directory hold exactly the bundle's certificates, at most one per subject hash?  Then for every
 * name a chain asks for, X509_STORE_load_path finds the one anchor X509_STORE_load_file would have loaded, but
 * parses only the anchors asked for.  Link names are trusted to be the subject hashes (update-ca-certificates
 * runs openssl rehash): checking them would mean parsing every anchor, the cost this avoids.  A bundle entry
 * whose DER does not parse makes X509_STORE_load_file fail as a whole, while the directory skips it: the only
 * case where the two differ, and the directory's answer is the useful one. */
static bool dir_same_as_bundle(const char *dir, const char *bundle)
{
	struct pem_set a = { 0 }, b = { 0 };
	size_t count, k = 0;
	bool same = pem_read_all(bundle, &a, &count) && count > 0 && dir_read_all(dir, &b) && b.n > 0;

	if (same) {
		qsort(a.v, a.n, sizeof(*a.v), body_cmp);
		qsort(b.v, b.n, sizeof(*b.v), body_cmp);
		for (size_t i = 0; i < a.n; i++) { /* the bundle may repeat a certificate: the store keeps one */
			if (k > 0 && body_cmp(&a.v[i], &a.v[k - 1]) == 0)
				free(a.v[i].text);
			else
				a.v[k++] = a.v[i];
		}
		a.n = k;
		same = a.n == b.n;
		for (size_t i = 0; same && i < a.n; i++)
			same = body_cmp(&a.v[i], &b.v[i]) == 0;
	}
	pem_set_free(&a);
	pem_set_free(&b);
	return same;
}

/* ---- loading ------------------------------------------------------------------------------------------------ */

static int load_bundle(struct cert_trust_store *t, const char *bundle, char *err, size_t errlen)
{
	if (!X509_STORE_load_file(t->store, bundle)) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: cannot load CA certificates (PEM bundle expected; see --ca-bundle)", bundle);
		return -1;
	}
	if (sk_X509_OBJECT_num(X509_STORE_get0_objects(t->store)) == 0) {
		snprintf(err, errlen, "%s: no CA certificate in the file", bundle);
		return -1;
	}
	return 0;
}

/* Parsing the whole system bundle costs ~190 M instructions (tens of milliseconds) for every run; the hashed
 * directory loads the few anchors the capture's chains name, when it gives the same answers (dir_same_as_bundle). */
int cert_trust_load(struct cert_trust_store *t, const struct cert_cfg *cfg, char *err, size_t errlen)
{
	const char *bundle = cfg && cfg->sys_bundle ? cfg->sys_bundle : CERT_DEFAULT_BUNDLE;
	const char *dir = cfg && cfg->sys_dir ? cfg->sys_dir : CERT_DEFAULT_DIR;
	const char *src = bundle;

	t->bounds_objs = -1;
	if (!(t->store = X509_STORE_new())) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cfg && cfg->ca_bundle) {
		src = cfg->ca_bundle;
		if (src[0] != '\0' && load_bundle(t, src, err, errlen) < 0)
			return -1;                /* "": an empty store (tests, fuzzing) */
	} else if (dir_same_as_bundle(dir, bundle) && X509_STORE_load_path(t->store, dir)) {
		src = dir;
	} else {
		ERR_clear_error();
		if (load_bundle(t, bundle, err, errlen) < 0)
			return -1;
	}
	if (!(t->source = strdup(src))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

void cert_trust_free(struct cert_trust_store *t)
{
	X509_STORE_free(t->store);
	free(t->bounds);
	free(t->source);
	t->store = NULL;
	t->bounds = NULL;
	t->source = NULL;
}

int cert_trust_add(struct cert_trust_store *t, X509 *x)
{
	int ok = x && X509_STORE_add_cert(t->store, x);
	ERR_clear_error();
	return ok ? 0 : -1;
}

const char *cert_trust_source(const struct cert_trust_store *t)
{
	return t->source ? t->source : "";
}

/* ---- validity bounds ------------------------------------------------------------------------------------------ */

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Made again when the store grew: a hashed directory adds anchors as chains name them, and anchors are never
 * removed. */
bool cert_trust_bounds(struct cert_trust_store *t)
{
	STACK_OF(X509_OBJECT) *objs;
	int n;
	uint32_t k = 0;
	int64_t *b;

	/* Other threads' verifications may add anchors (a hashed directory)
	 * while this one reads the store's objects. */
	X509_STORE_lock(t->store);
	objs = X509_STORE_get0_objects(t->store);
	n = objs ? sk_X509_OBJECT_num(objs) : 0;
	if (n == t->bounds_objs) {
		X509_STORE_unlock(t->store);
		return true;
	}
	if (n < 0 || !(b = malloc((2 * (size_t)n + 1) * sizeof(*b)))) {
		X509_STORE_unlock(t->store);
		return false;
	}
	for (int i = 0; i < n; i++) {
		X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));   /* NULL for a CRL */
		if (x && cert_time_epoch(X509_get0_notBefore(x), &b[k]))
			k++;
		if (x && cert_time_epoch(X509_get0_notAfter(x), &b[k]))
			k++;
	}
	X509_STORE_unlock(t->store);
	qsort(b, k, sizeof(*b), i64_cmp);
	free(t->bounds);
	t->bounds = b;
	t->n_bounds = k;
	t->bounds_objs = n;
	return true;
}
