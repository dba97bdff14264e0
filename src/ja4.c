/* ja4.c - JA4 client fingerprints (FoxIO JA4 technical details; RFC 8446 sections 4.1.2 and 4.2, RFC 8701 GREASE, RFC 7301 ALPN). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "ja4.h"

enum {
	EXT_SNI = 0x0000,
	EXT_SIG_ALGS = 0x000d,
	EXT_ALPN = 0x0010,
	EXT_VERSIONS = 0x002b,
};

/* Lists this long stay on the stack; longer ones (a hostile hello may list
 * 32767 ciphers) are allocated, bounded by the hello itself, which the
 * reassembly caps. */
#define JA4_STACK_LIST 128

struct u16list {
	uint16_t *v;
	size_t n;
	uint16_t local[JA4_STACK_LIST];
};

static bool list_init(struct u16list *l, size_t cap)
{
	l->n = 0;
	l->v = cap <= JA4_STACK_LIST ? l->local : malloc(cap * sizeof(uint16_t));
	return l->v != NULL;
}

static void list_free(struct u16list *l)
{
	if (l->v != l->local)
		free(l->v);
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* Lists up to this long are sorted by insertion: a ClientHello lists a
 * few dozen ciphers and extensions, where qsort (a merge sort calling
 * cmp_u16 per comparison) cost more than both hashes.  Longer lists (a
 * hostile hello may list 32767 ciphers) go to qsort, so the work stays
 * O(n log n) in the list's length. */
#define JA4_INSERTION_MAX 64

void ja4_sort_u16(uint16_t *v, size_t n)
{
	if (n > JA4_INSERTION_MAX) {
		qsort(v, n, sizeof(*v), cmp_u16);
		return;
	}
	if (n < 2)
		return;
	/* the smallest first: it stops every shift loop below, which then
	 * needs no bound check (equal values are indistinguishable, so moving
	 * it out of order changes nothing) */
	size_t m = 0;
	for (size_t i = 1; i < n; i++)
		if (v[i] < v[m])
			m = i;
	uint16_t least = v[m];
	v[m] = v[0];
	v[0] = least;
	for (size_t i = 2; i < n; i++) {
		uint16_t x = v[i];
		size_t k = i;
		while (v[k - 1] > x) {
			v[k] = v[k - 1];
			k--;
		}
		v[k] = x;
	}
}

/* What the extensions say beyond their types. */
struct ja4_ext {
	struct u16list types;          /* without GREASE, SNI, ALPN */
	struct cursor sigalgs;         /* signature_algorithms list, in order */
	struct cursor alpn;            /* the first ALPN protocol name */
	unsigned count;                /* every non-GREASE extension */
	uint16_t best_version;         /* highest supported_versions entry, 0 none */
	bool sni;
};

static void ext_alpn(struct cursor body, struct ja4_ext *x)
{
	uint16_t list_len;
	uint8_t n;
	if (x->alpn.p == NULL && cur_be16(&body, &list_len) && cur_u8(&body, &n))
		(void)cur_sub(&body, n, &x->alpn);
}

static void ext_versions(struct cursor body, struct ja4_ext *x)
{
	uint8_t list_len;
	uint16_t v;
	if (!cur_u8(&body, &list_len))
		return;
	while (cur_be16(&body, &v))
		if (!tls_grease(v) && v > x->best_version)
			x->best_version = v;
}

static void read_exts(struct cursor c, struct ja4_ext *x)
{
	uint16_t type, len, n;
	struct cursor body;
	while (cur_be16(&c, &type) && cur_be16(&c, &len) && cur_sub(&c, len, &body)) {
		if (tls_grease(type))
			continue;
		x->count++;
		if (type == EXT_SNI)
			x->sni = true;
		else if (type == EXT_ALPN)
			ext_alpn(body, x);
		else
			x->types.v[x->types.n++] = type;
		if (type == EXT_VERSIONS)
			ext_versions(body, x);
		if (type == EXT_SIG_ALGS && x->sigalgs.p == NULL && cur_be16(&body, &n))
			(void)cur_sub(&body, n <= cur_left(&body) ? n : cur_left(&body), &x->sigalgs);
	}
}

static const char *version_code(uint16_t v)
{
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default: return "00";
	}
}

static bool alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The first and last characters of the first ALPN value; of its hex form
 * when either end is not alphanumeric; "00" when there is none. */
static void alpn_code(struct cursor a, char out[2])
{
	static const char hex[] = "0123456789abcdef";
	size_t n = cur_left(&a);
	if (n == 0) {
		out[0] = out[1] = '0';
		return;
	}
	uint8_t f = a.p[0], l = a.p[n - 1];
	if (alnum(f) && alnum(l)) {
		out[0] = (char)f;
		out[1] = (char)l;
	} else {
		out[0] = hex[f >> 4];
		out[1] = hex[l & 0x0f];
	}
}

/* ---- the hashes: the comma lists streamed through SHA-256 ------------------ */

struct hw {
	EVP_MD_CTX *ctx;
	bool ok;
	size_t n;
	char buf[256];
};

static void hw_flush(struct hw *w)
{
	if (w->ok && w->n && EVP_DigestUpdate(w->ctx, w->buf, w->n) != 1)
		w->ok = false;
	w->n = 0;
}

/* The lowercase hex of every byte value, two characters each. */
static const char hex_pairs[513] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* sep (0 for none), then v as four hex digits. */
static inline void hw_u16(struct hw *w, uint16_t v, char sep)
{
	if (sizeof(w->buf) - w->n < 5)
		hw_flush(w);
	if (sep)
		w->buf[w->n++] = sep;
	memcpy(w->buf + w->n, hex_pairs + 2 * (v >> 8), 2);
	memcpy(w->buf + w->n + 2, hex_pairs + 2 * (v & 0xff), 2);
	w->n += 4;
}

/* sha256(list [ "_" second ]) cut to 12 hex digits; "000000000000" for an
 * empty list.  ctx is the caller's, initialised here. */
static bool hash12(EVP_MD_CTX *ctx, const struct u16list *l, struct cursor second, char out[12])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	struct hw w;
	uint16_t v;
	if (l->n == 0) {
		memset(out, '0', 12);
		return true;
	}
	w.ctx = ctx;
	w.n = 0;
	w.ok = EVP_DigestInit_ex(ctx, digest_sha256(), NULL) == 1;
	for (size_t i = 0; i < l->n; i++)
		hw_u16(&w, l->v[i], i ? ',' : 0);
	for (bool first = true; cur_be16(&second, &v);)
		if (!tls_grease(v)) {
			hw_u16(&w, v, first ? '_' : ',');
			first = false;
		}
	hw_flush(&w);
	bool ok = w.ok && EVP_DigestFinal_ex(ctx, md, &md_len) == 1 && md_len >= 6;
	for (int i = 0; ok && i < 6; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * md[i], 2);
	return ok;
}

static unsigned two_digits(size_t n)
{
	return n > 99 ? 99 : (unsigned)n;
}

/* Both hashes, through md or a context of their own when md is NULL. */
static bool hashes(EVP_MD_CTX *md, const struct u16list *ciphers, const struct ja4_ext *x,
		   char out[JA4_LEN + 1])
{
	EVP_MD_CTX *own = md ? NULL : EVP_MD_CTX_new();
	EVP_MD_CTX *ctx = md ? md : own;
	bool ok = ctx && hash12(ctx, ciphers, cur_make(NULL, 0), out + 11) &&
		  hash12(ctx, &x->types, x->sigalgs, out + 24);
	EVP_MD_CTX_free(own);
	return ok;
}

void ja4_client(EVP_MD_CTX *md, char prefix, uint16_t legacy_version, struct cursor ciphers,
		struct cursor exts, char out[JA4_LEN + 1])
{
	struct u16list cl;
	struct ja4_ext x;
	uint16_t v;
	out[0] = '\0';
	memset(&x, 0, sizeof(x));
	if (!list_init(&cl, cur_left(&ciphers) / 2))
		return;
	if (!list_init(&x.types, cur_left(&exts) / 4)) {
		list_free(&cl);
		return;
	}
	while (cur_be16(&ciphers, &v))
		if (!tls_grease(v))
			cl.v[cl.n++] = v;
	read_exts(exts, &x);
	ja4_sort_u16(cl.v, cl.n);
	ja4_sort_u16(x.types.v, x.types.n);
	const char *vc = version_code(x.best_version ? x.best_version : legacy_version);
	char alpn[2];
	alpn_code(x.alpn, alpn);
	char a[11];
	a[0] = prefix;
	a[1] = vc[0];
	a[2] = vc[1];
	a[3] = x.sni ? 'd' : 'i';
	a[4] = (char)('0' + two_digits(cl.n) / 10);
	a[5] = (char)('0' + two_digits(cl.n) % 10);
	a[6] = (char)('0' + two_digits(x.count) / 10);
	a[7] = (char)('0' + two_digits(x.count) % 10);
	a[8] = alpn[0];
	a[9] = alpn[1];
	a[10] = '_';
	memcpy(out, a, sizeof(a));
	out[23] = '_';
	out[JA4_LEN] = '\0';
	if (!hashes(md, &cl, &x, out))
		out[0] = '\0';
	list_free(&cl);
	list_free(&x.types);
}
