/* tlsbuild.c - test helper: realistic TLS handshake bytes (RFC 8446
 * sections 4.1.2, 4.1.3, 4.2 and 5.1; RFC 5246 section 7.4; RFC 6066
 * section 3; RFC 7301; RFC 8701 GREASE; RFC 6101 appendix E.2 SSLv2). */
#include <stdlib.h>
#include <string.h>

#include "tlsbuild.h"

#define TB_MAX_FRAGMENT 16384
#define TB_MAX_EXTS 64

/* A bounded writer: once it runs out of room every later write is a
 * no-op and the result is 0. */
struct tbw {
	uint8_t *p;
	size_t cap, len;
	bool bad;
};

static struct tbw tbw_make(uint8_t *buf, size_t cap)
{
	struct tbw w = { buf, buf ? cap : 0, 0, false };
	return w;
}

static void w8(struct tbw *w, unsigned v)
{
	if (w->bad || w->len >= w->cap) {
		w->bad = true;
		return;
	}
	w->p[w->len++] = (uint8_t)v;
}

static void w16(struct tbw *w, unsigned v)
{
	w8(w, v >> 8);
	w8(w, v);
}

static void w24(struct tbw *w, unsigned long v)
{
	w8(w, (unsigned)(v >> 16));
	w8(w, (unsigned)(v >> 8));
	w8(w, (unsigned)v);
}

static void wbytes(struct tbw *w, const void *src, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return;
	}
	if (n > 0)
		memcpy(w->p + w->len, src, n);
	w->len += n;
}

/* Deterministic filler for randoms, keys and ciphertext. */
static void wpattern(struct tbw *w, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n && !w->bad; i++)
		w8(w, (unsigned)(seed + i * 37u + (i >> 3)));
}

/* Open a length prefix of `width` bytes; close it once the content is
 * written. */
static size_t wopen(struct tbw *w, unsigned width)
{
	size_t pos = w->len;

	for (unsigned i = 0; i < width; i++)
		w8(w, 0);
	return pos;
}

static void wclose(struct tbw *w, size_t pos, unsigned width)
{
	size_t n;

	if (w->bad)
		return;
	n = w->len - pos - width;
	if (width < sizeof(size_t) && n >> (8 * width) != 0) {
		w->bad = true;
		return;
	}
	for (unsigned i = 0; i < width; i++)
		w->p[pos + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

static size_t wdone(const struct tbw *w)
{
	return w->bad ? 0 : w->len;
}

static bool tb_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- ClientHello --------------------------------------------------------- */

static const uint16_t chrome_ciphers[] = {
	0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
	0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
};
static const uint16_t default_groups[] = { 0x001d, 0x0017, 0x0018 };
static const uint8_t default_formats[] = { 0 };
static const uint16_t default_versions[] = { 0x0304, 0x0303 };
static const char *const default_alpn[] = { "h2", "http/1.1" };
static const uint16_t sig_algs[] = {
	0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
};

#define GREASE_CIPHER 0x0a0a
#define GREASE_EXT_FIRST 0x1a1a
#define GREASE_EXT_LAST 0x2a2a
#define GREASE_GROUP 0x3a3a
#define GREASE_VERSION 0x4a4a

static bool offers_tls13(const struct tb_ch_opts *o)
{
	for (size_t i = 0; i < o->n_versions && o->versions; i++)
		if (o->versions[i] == 0x0304)
			return true;
	return false;
}

static void ext_sni(struct tbw *w, const struct tb_ch_opts *o)
{
	const char *name = o->sni ? o->sni : "example.com";
	size_t n = o->sni && o->sni_len ? o->sni_len : strlen(name);
	size_t list = wopen(w, 2);

	w8(w, 0); /* host_name */
	w16(w, (unsigned)n);
	wbytes(w, name, n);
	wclose(w, list, 2);
}

static void ext_groups(struct tbw *w, const struct tb_ch_opts *o)
{
	const uint16_t *g = o->groups ? o->groups : default_groups;
	size_t n = o->groups ? o->n_groups : 3;
	size_t list = wopen(w, 2);

	if (o->grease)
		w16(w, GREASE_GROUP);
	for (size_t i = 0; i < n; i++)
		w16(w, g[i]);
	wclose(w, list, 2);
}

static void ext_formats(struct tbw *w, const struct tb_ch_opts *o)
{
	const uint8_t *f = o->point_formats ? o->point_formats : default_formats;
	size_t n = o->point_formats ? o->n_point_formats : 1;
	size_t list = wopen(w, 1);

	wbytes(w, f, n);
	wclose(w, list, 1);
}

static void ext_alpn(struct tbw *w, const struct tb_ch_opts *o)
{
	const char *const *names = o->alpn ? o->alpn : default_alpn;
	size_t n = o->alpn ? o->n_alpn : 2;
	size_t list = wopen(w, 2);

	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(names[i]);

		w8(w, (unsigned)k);
		wbytes(w, names[i], k);
	}
	wclose(w, list, 2);
}

static void ext_versions(struct tbw *w, const struct tb_ch_opts *o)
{
	const uint16_t *v = o->versions ? o->versions : default_versions;
	size_t n = o->versions ? o->n_versions : 2;
	size_t list = wopen(w, 1);

	if (o->grease)
		w16(w, GREASE_VERSION);
	for (size_t i = 0; i < n; i++)
		w16(w, v[i]);
	wclose(w, list, 1);
}

static void ext_key_share(struct tbw *w, const struct tb_ch_opts *o)
{
	size_t list = wopen(w, 2);

	if (o->grease) {
		w16(w, GREASE_GROUP);
		w16(w, 1);
		w8(w, 0);
	}
	w16(w, 0x001d); /* x25519 */
	w16(w, 32);
	wpattern(w, 32, 0x51);
	wclose(w, list, 2);
}

static void ext_sig_algs(struct tbw *w)
{
	size_t list = wopen(w, 2);

	for (size_t i = 0; i < sizeof(sig_algs) / sizeof(sig_algs[0]); i++)
		w16(w, sig_algs[i]);
	wclose(w, list, 2);
}

/* draft-ietf-tls-esni: an outer ECH (type 0, HKDF-SHA256, AES-128-GCM). */
static void ext_ech(struct tbw *w)
{
	w8(w, 0);
	w16(w, 0x0001);
	w16(w, 0x0001);
	w8(w, 0x2c);
	w16(w, 32);
	wpattern(w, 32, 0xe1);
	w16(w, 144);
	wpattern(w, 144, 0xe2);
}

/* draft-ietf-tls-esni-03 encrypted_server_name. */
static void ext_esni(struct tbw *w)
{
	w16(w, 0x1301);
	w16(w, 0x001d);
	w16(w, 32);
	wpattern(w, 32, 0xa1);
	w16(w, 32);
	wpattern(w, 32, 0xa2);
	w16(w, 100);
	wpattern(w, 100, 0xa3);
}

static void ch_ext_body(struct tbw *w, uint16_t type, const struct tb_ch_opts *o)
{
	switch (type) {
	case 0: ext_sni(w, o); break;
	case 5: w8(w, 1); w16(w, 0); w16(w, 0); break;
	case 10: ext_groups(w, o); break;
	case 11: ext_formats(w, o); break;
	case 13: ext_sig_algs(w); break;
	case 16: ext_alpn(w, o); break;
	case 21: for (size_t i = 0; i < o->padding; i++) w8(w, 0); break;
	case 27: w8(w, 2); w16(w, 2); break; /* brotli */
	case 43: ext_versions(w, o); break;
	case 45: w8(w, 1); w8(w, 1); break;  /* psk_dhe_ke */
	case 51: ext_key_share(w, o); break;
	case 0x44cd: w16(w, 3); w8(w, 2); wbytes(w, "h2", 2); break;
	case 0xff01: w8(w, 0); break;
	case 0xfe0d: ext_ech(w); break;
	case 0xffce: ext_esni(w); break;
	case GREASE_EXT_LAST: w8(w, 0); break; /* Chrome's last GREASE */
	default: break; /* empty: EMS (23), session_ticket (35), SCT (18) */
	}
}

static void push(uint16_t *t, size_t *n, uint16_t type)
{
	if (*n < TB_MAX_EXTS)
		t[(*n)++] = type;
}

/* Default extension order, modelled on Chrome before it shuffled them. */
static size_t default_order(const struct tb_ch_opts *o, uint16_t *t)
{
	bool full = !o->minimal;
	bool tls13 = offers_tls13(o);
	size_t n = 0;

	if (o->grease)
		push(t, &n, GREASE_EXT_FIRST);
	if (o->sni)
		push(t, &n, 0);
	if (full) {
		push(t, &n, 23);
		push(t, &n, 0xff01);
	}
	if (full || o->groups)
		push(t, &n, 10);
	if (full || o->point_formats)
		push(t, &n, 11);
	if (full)
		push(t, &n, 35);
	if (o->alpn)
		push(t, &n, 16);
	if (full) {
		push(t, &n, 5);
		push(t, &n, 13);
		push(t, &n, 18);
	}
	if (full && tls13) {
		push(t, &n, 51);
		push(t, &n, 45);
	}
	if (o->versions)
		push(t, &n, 43);
	if (full)
		push(t, &n, 27);
	if (o->ech)
		push(t, &n, 0xfe0d);
	if (o->esni)
		push(t, &n, 0xffce);
	if (o->grease)
		push(t, &n, GREASE_EXT_LAST);
	if (o->padding)
		push(t, &n, 21);
	return n;
}

static void ch_extensions(struct tbw *w, const struct tb_ch_opts *o)
{
	uint16_t order[TB_MAX_EXTS];
	const uint16_t *t = order;
	size_t n;
	size_t block;

	if (o->ext_order) {
		t = o->ext_order;
		n = o->n_ext_order;
	} else {
		n = default_order(o, order);
	}
	block = wopen(w, 2);
	for (size_t i = 0; i < n; i++) {
		size_t body;

		w16(w, t[i]);
		body = wopen(w, 2);
		if (!tb_is_grease(t[i]) || t[i] == GREASE_EXT_LAST)
			ch_ext_body(w, t[i], o);
		wclose(w, body, 2);
	}
	wclose(w, block, 2);
}

size_t tb_client_hello(uint8_t *buf, size_t cap, const struct tb_ch_opts *o)
{
	struct tbw w = tbw_make(buf, cap);
	const uint16_t *cs = o->ciphers ? o->ciphers : chrome_ciphers;
	size_t n_cs = o->ciphers ? o->n_ciphers
				 : sizeof(chrome_ciphers) / sizeof(chrome_ciphers[0]);
	size_t msg, list;

	w8(&w, TB_HS_CLIENT_HELLO);
	msg = wopen(&w, 3);
	w16(&w, o->legacy_version ? o->legacy_version : 0x0303);
	wpattern(&w, 32, 0x11);
	w8(&w, o->session_id_len);
	wpattern(&w, o->session_id_len, 0x22);
	list = wopen(&w, 2);
	if (o->grease)
		w16(&w, GREASE_CIPHER);
	for (size_t i = 0; i < n_cs; i++)
		w16(&w, cs[i]);
	wclose(&w, list, 2);
	w8(&w, 1); /* one compression method: null */
	w8(&w, 0);
	if (!o->no_extensions)
		ch_extensions(&w, o);
	wclose(&w, msg, 3);
	return wdone(&w);
}

size_t tb_client_hello_record(uint8_t *buf, size_t cap,
			      const struct tb_ch_opts *o)
{
	uint8_t *tmp = malloc(cap ? cap : 1);
	size_t n, out = 0;

	if (tmp == NULL)
		return 0;
	n = tb_client_hello(tmp, cap, o);
	if (n > 0)
		out = tb_records(buf, cap, TB_CT_HANDSHAKE,
				 o->record_version ? o->record_version : 0x0301,
				 tmp, n, o->n_records);
	free(tmp);
	return out;
}

/* ---- ServerHello, Certificate, ServerHelloDone --------------------------- */

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void sh_extensions(struct tbw *w, const struct tb_sh_opts *o)
{
	bool tls13 = o->selected_version == 0x0304;
	size_t block = wopen(w, 2), body;

	if (o->selected_version) {
		w16(w, 43);
		w16(w, 2);
		w16(w, o->selected_version);
	}
	if (tls13) {
		w16(w, 51);
		body = wopen(w, 2);
		w16(w, 0x001d);
		if (!o->hello_retry) {  /* an HRR names only the group */
			w16(w, 32);
			wpattern(w, 32, 0x5e);
		}
		wclose(w, body, 2);
	}
	if (o->alpn) {
		size_t k = strlen(o->alpn), list;

		w16(w, 16);
		body = wopen(w, 2);
		list = wopen(w, 2);
		w8(w, (unsigned)k);
		wbytes(w, o->alpn, k);
		wclose(w, list, 2);
		wclose(w, body, 2);
	}
	if (!tls13) {
		w16(w, 0xff01);
		w16(w, 1);
		w8(w, 0);
	}
	wclose(w, block, 2);
}

size_t tb_server_hello(uint8_t *buf, size_t cap, const struct tb_sh_opts *o)
{
	struct tbw w = tbw_make(buf, cap);
	uint16_t cipher = o->cipher;
	size_t msg;

	if (cipher == 0)
		cipher = o->selected_version == 0x0304 ? 0x1301 : 0xc02f;
	w8(&w, TB_HS_SERVER_HELLO);
	msg = wopen(&w, 3);
	w16(&w, o->legacy_version ? o->legacy_version : 0x0303);
	if (o->hello_retry)
		wbytes(&w, hrr_random, sizeof(hrr_random));
	else
		wpattern(&w, 32, 0x33);
	w8(&w, o->session_id_len);
	wpattern(&w, o->session_id_len, 0x22);
	w16(&w, cipher);
	w8(&w, 0);
	if (!o->no_extensions)
		sh_extensions(&w, o);
	wclose(&w, msg, 3);
	return wdone(&w);
}

size_t tb_certificate(uint8_t *buf, size_t cap, const uint8_t *const *der,
		      const size_t *der_len, size_t n)
{
	struct tbw w = tbw_make(buf, cap);
	size_t msg, list;

	w8(&w, TB_HS_CERTIFICATE);
	msg = wopen(&w, 3);
	list = wopen(&w, 3);
	for (size_t i = 0; i < n; i++) {
		w24(&w, der_len[i]);
		wbytes(&w, der[i], der_len[i]);
	}
	wclose(&w, list, 3);
	wclose(&w, msg, 3);
	return wdone(&w);
}

size_t tb_fake_cert(uint8_t *buf, size_t cap, size_t len, uint8_t seed)
{
	struct tbw w = tbw_make(buf, cap);

	if (len < 4)
		return 0;
	w8(&w, 0x30); /* SEQUENCE */
	if (len - 4 <= 0xffff) {
		w8(&w, 0x82);
		w16(&w, (unsigned)(len - 4));
		wpattern(&w, len - 4, seed);
	} else {
		w8(&w, 0x83);
		w24(&w, len - 5);
		wpattern(&w, len - 5, seed);
	}
	return wdone(&w);
}

size_t tb_server_hello_done(uint8_t *buf, size_t cap)
{
	return tb_handshake(buf, cap, TB_HS_SERVER_HELLO_DONE, NULL, 0);
}

size_t tb_handshake(uint8_t *buf, size_t cap, uint8_t type,
		    const uint8_t *body, size_t len)
{
	struct tbw w = tbw_make(buf, cap);

	w8(&w, type);
	w24(&w, len);
	wbytes(&w, body, len);
	return wdone(&w);
}

/* ---- records ------------------------------------------------------------- */

size_t tb_records(uint8_t *buf, size_t cap, uint8_t type, uint16_t version,
		  const uint8_t *payload, size_t len, unsigned n_records)
{
	struct tbw w = tbw_make(buf, cap);
	size_t n = n_records ? n_records : 1;
	size_t min_n = (len + TB_MAX_FRAGMENT - 1) / TB_MAX_FRAGMENT;
	size_t base, extra, off = 0;

	if (n < min_n)
		n = min_n;
	if (len > 0 && n > len)
		n = len; /* no empty records in the middle of a message */
	base = len / n;
	extra = len % n;
	for (size_t i = 0; i < n; i++) {
		size_t piece = base + (i < extra ? 1 : 0);

		w8(&w, type);
		w16(&w, version);
		w16(&w, (unsigned)piece);
		wbytes(&w, payload + off, piece);
		off += piece;
	}
	return wdone(&w);
}

size_t tb_alert_record(uint8_t *buf, size_t cap, uint16_t version,
		       uint8_t level, uint8_t desc)
{
	const uint8_t body[2] = { level, desc };

	return tb_records(buf, cap, TB_CT_ALERT, version, body, 2, 1);
}

size_t tb_ccs_record(uint8_t *buf, size_t cap, uint16_t version)
{
	const uint8_t body[1] = { 1 };

	return tb_records(buf, cap, TB_CT_CCS, version, body, 1, 1);
}

size_t tb_appdata_record(uint8_t *buf, size_t cap, uint16_t version,
			 size_t len)
{
	struct tbw w = tbw_make(buf, cap);

	if (len > TB_MAX_FRAGMENT + 256)
		return 0;
	w8(&w, TB_CT_APPDATA);
	w16(&w, version);
	w16(&w, (unsigned)len);
	wpattern(&w, len, 0x77);
	return wdone(&w);
}

/* ---- SSLv2 --------------------------------------------------------------- */

static const uint32_t v2_specs[] = {
	0x010080, 0x030080, 0x060040, 0x0700c0, 0x000035, 0x00002f,
	0x00000a, 0x000005, 0x000004, 0x0000ff,
};

size_t tb_sslv2_client_hello(uint8_t *buf, size_t cap, uint16_t version,
			     size_t n_specs)
{
	struct tbw w = tbw_make(buf, cap);
	size_t body_len = 9 + 3 * n_specs + 16;

	if (body_len > 0x7fff)
		return 0;
	w16(&w, 0x8000 | (unsigned)body_len);
	w8(&w, 1); /* CLIENT-HELLO */
	w16(&w, version);
	w16(&w, (unsigned)(3 * n_specs));
	w16(&w, 0);  /* session id */
	w16(&w, 16); /* challenge */
	for (size_t i = 0; i < n_specs; i++)
		w24(&w, v2_specs[i % (sizeof(v2_specs) / sizeof(v2_specs[0]))]);
	wpattern(&w, 16, 0xc4);
	return wdone(&w);
}
