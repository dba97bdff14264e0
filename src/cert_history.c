/* cert_history.c - the list of removed root CAs and their certificates (see
 * cert_history.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert_history.h"
#include "util.h"

static bool parse_hex32(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64)
		return false;
	for (int i = 0; i < 32; i++) {
		int a = hex_digit(s[2 * i]), b = hex_digit(s[2 * i + 1]);
		if (a < 0 || b < 0)
			return false;
		out[i] = (uint8_t)(a << 4 | b);
	}
	return true;
}

static bool parse_date(const char *s, int64_t *out)
{
	unsigned y, m, d;
	char tail;
	if (strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) != 3 || y < 1990 ||
	    y > 2100 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	*out = days_from_civil(y, m, d) * 86400;
	return true;
}

/* label, spki, date, source, subject: 0, or -1 with the reason. */
static int parse_line(char *line, struct cert_removed *e, const char **why)
{
	char *f[5];
	int n = 0;
	for (char *p = line; n < 5; n++) {
		f[n] = p;
		char *tab = strchr(p, '\t');
		if (!tab) {
			n++;
			break;
		}
		*tab = '\0';
		p = tab + 1;
	}
	memset(e, 0, sizeof(*e));
	if (n != 5 || !f[0][0] || strlen(f[0]) >= sizeof(e->label) ||
	    strlen(f[4]) >= sizeof(e->subject)) {
		*why = "want 5 tab-separated fields: label, spki_sha256, removed_on, source, subject";
		return -1;
	}
	snprintf(e->label, sizeof(e->label), "%s", f[0]);
	snprintf(e->subject, sizeof(e->subject), "%s", f[4]);
	if (strcmp(f[1], "-") != 0 && !(e->have_spki = parse_hex32(f[1], e->spki))) {
		*why = "spki_sha256 is not 64 hex digits or '-'";
		return -1;
	}
	if (strcmp(f[2], "-") != 0) {
		if (!parse_date(f[2], &e->removed_on)) {
			*why = "removed_on is not a date YYYY-MM-DD or '-'";
			return -1;
		}
		snprintf(e->removed_date, sizeof(e->removed_date), "%s", f[2]);
	}
	return 0;
}

/* Subjects in strcmp order; equal ones in the list's order, so a lookup
 * finds the entry a scan from the top would. */
static int by_subject_cmp(const void *a, const void *b)
{
	const struct cert_removed *x = *(const struct cert_removed *const *)a;
	const struct cert_removed *y = *(const struct cert_removed *const *)b;
	int c = strcmp(x->subject, y->subject);
	return c ? c : (x > y) - (x < y);
}

static int load_list(struct cert_history *h, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	unsigned long lineno = 0;
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	h->e = calloc(CERT_HISTORY_MAX, sizeof(*h->e));
	while (h->e && fgets(line, sizeof(line), fp)) {
		const char *why = NULL;
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (h->n >= CERT_HISTORY_MAX) {
			h->refused++;
			continue;
		}
		if (parse_line(line, &h->e[h->n], &why) < 0) {
			snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
			fclose(fp);
			return -1;
		}
		h->n++;
	}
	fclose(fp);
	if (!h->e || !(h->by_subject = malloc((h->n ? h->n : 1) * sizeof(*h->by_subject)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < h->n; i++)
		h->by_subject[i] = &h->e[i];
	qsort(h->by_subject, h->n, sizeof(*h->by_subject), by_subject_cmp);
	return 0;
}

static void mark_cert(struct cert_history *h, X509 *x)
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32) {
		for (size_t i = 0; i < h->n; i++)
			if (h->e[i].have_spki && memcmp(h->e[i].spki, md, 32) == 0)
				h->e[i].have_cert = true;
	}
	OPENSSL_free(der);
}

/* The PEM file's text; a missing file is not an error (the list alone
 * still names the roots). */
static int read_pem(struct cert_history *h, const char *path)
{
	FILE *fp = path ? fopen(path, "r") : NULL;
	char buf[16384];
	size_t n;
	if (!fp)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		char *p = realloc(h->pem, h->pem_len + n);
		if (!p) {
			fclose(fp);
			return -1;
		}
		memcpy(p + h->pem_len, buf, n);
		h->pem = p;
		h->pem_len += n;
	}
	fclose(fp);
	return 0;
}

/* Every certificate of the PEM text into the store. */
static void load_certs(struct cert_history *h)
{
	BIO *bio = h->pem_len ? BIO_new_mem_buf(h->pem, (int)h->pem_len) : NULL;
	X509 *x;
	if (!bio)
		return;
	h->store = X509_STORE_new();
	while (h->store && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
		if (X509_STORE_add_cert(h->store, x)) {
			h->certs++;
			mark_cert(h, x);
		}
		X509_free(x);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (h->store && h->certs == 0) {
		X509_STORE_free(h->store);
		h->store = NULL;
	}
}

int cert_history_load(struct cert_history *h, const char *tsv, const char *pem, char *err,
		      size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (load_list(h, tsv, err, errlen) < 0)
		return -1;
	if (read_pem(h, pem) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* Worker threads' contexts share one history (cert_ctx_new_worker): the
 * first to need the certificates parses them, the others wait for it. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

X509_STORE *cert_history_store(struct cert_history *h)
{
	if (!__atomic_load_n(&h->loaded, __ATOMIC_ACQUIRE)) {
		pthread_mutex_lock(&load_lock);
		if (!h->loaded) {
			load_certs(h);
			__atomic_store_n(&h->loaded, true, __ATOMIC_RELEASE);
		}
		pthread_mutex_unlock(&load_lock);
	}
	return h->store;
}

void cert_history_free(struct cert_history *h)
{
	X509_STORE_free(h->store);
	free(h->pem);
	free(h->e);
	free(h->by_subject);
	memset(h, 0, sizeof(*h));
}

/* A few hundred entries at most, looked up only for chains that already
 * failed for want of an anchor: a linear scan is the simplest bound. */
const struct cert_removed *cert_history_by_spki(const struct cert_history *h, const uint8_t spki[32])
{
	for (size_t i = 0; i < h->n; i++)
		if (h->e[i].have_spki && memcmp(h->e[i].spki, spki, 32) == 0)
			return &h->e[i];
	return NULL;
}

/* Asked for every certificate of every chain without an anchor (two
 * names each): a binary search for the first equal subject. */
const struct cert_removed *cert_history_by_subject(const struct cert_history *h, const char *subject)
{
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(h->by_subject[mid]->subject, subject) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->n && strcmp(h->by_subject[lo]->subject, subject) == 0)
		return h->by_subject[lo];
	return NULL;
}
