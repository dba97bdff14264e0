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

static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static int cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
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
		if (!is_grease(v) && v > x->best_version)
			x->best_version = v;
}

static void read_exts(struct cursor c, struct ja4_ext *x)
{
	uint16_t type, len, n;
	struct cursor body;
	while (cur_be16(&c, &type) && cur_be16(&c, &len) && cur_sub(&c, len, &body)) {
		if (is_grease(type))
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

static void hw_u16(struct hw *w, uint16_t v, char sep)
{
	static const char hex[] = "0123456789abcdef";
	if (sizeof(w->buf) - w->n < 5)
		hw_flush(w);
	if (sep)
		w->buf[w->n++] = sep;
	for (int s = 12; s >= 0; s -= 4)
		w->buf[w->n++] = hex[(v >> s) & 0xf];
}

/* sha256(list [ "_" second ]) cut to 12 hex digits; "000000000000" for an
 * empty list. */
static bool hash12(const struct u16list *l, struct cursor second, char out[12])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned md_len = 0;
	struct hw w = { EVP_MD_CTX_new(), false, 0, { 0 } };
	uint16_t v;
	if (l->n == 0) {
		memset(out, '0', 12);
		EVP_MD_CTX_free(w.ctx);
		return true;
	}
	w.ok = w.ctx && EVP_DigestInit_ex(w.ctx, digest_sha256(), NULL) == 1;
	for (size_t i = 0; i < l->n; i++)
		hw_u16(&w, l->v[i], i ? ',' : 0);
	for (bool first = true; cur_be16(&second, &v);)
		if (!is_grease(v)) {
			hw_u16(&w, v, first ? '_' : ',');
			first = false;
		}
	hw_flush(&w);
	bool ok = w.ok && EVP_DigestFinal_ex(w.ctx, md, &md_len) == 1 && md_len >= 6;
	EVP_MD_CTX_free(w.ctx);
	for (int i = 0; ok && i < 6; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	return ok;
}

static unsigned two_digits(size_t n)
{
	return n > 99 ? 99 : (unsigned)n;
}

void ja4_client(char prefix, uint16_t legacy_version, struct cursor ciphers,
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
		if (!is_grease(v))
			cl.v[cl.n++] = v;
	read_exts(exts, &x);
	qsort(cl.v, cl.n, sizeof(uint16_t), cmp_u16);
	qsort(x.types.v, x.types.n, sizeof(uint16_t), cmp_u16);
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
	if (!hash12(&cl, cur_make(NULL, 0), out + 11) || !hash12(&x.types, x.sigalgs, out + 24))
		out[0] = '\0';
	list_free(&cl);
	list_free(&x.types);
}
