/* test_tls.c - unit tests for the incremental TLS handshake parser
 * (src/tls.c): extraction, JA3/JA3S, every split offset, record and
 * message reassembly, SSLv2, hostile and truncated input, and delivery
 * through TCP reassembly (src/reasm.c) in reverse segment order. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "reasm.h"
#include "tls.h"
#include "tlsbuild.h"
#include "fpmemo.h"
#include "ja4.h"
#include "tls_hello.h"

#define BUF 65536
#define V12 0x0303
#define V10 0x0301

static const uint16_t versions13[] = { 0x0304, 0x0303 };
static const char *const alpn_h2[] = { "h2", "http/1.1" };

struct side {
	struct tls_parser p;
	struct tls_info ti;
};

static struct side *side_new(bool is_server, uint32_t max_msg)
{
	struct side *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	tls_parser_init(&s->p, is_server, max_msg);
	return s;
}

static void side_free(struct side *s)
{
	tls_parser_release(&s->p);
	tls_info_release(&s->ti);
	free(s);
}

/* A tls_info parsed into again: what the last parse kept goes first. */
static void ti_reset(struct tls_info *ti)
{
	tls_info_release(ti);
	memset(ti, 0, sizeof(*ti));
}

static unsigned feed(struct side *s, const uint8_t *d, size_t n)
{
	return tls_feed(&s->p, &s->ti, d, n);
}

static unsigned feed_bytewise(struct side *s, const uint8_t *d, size_t n)
{
	unsigned ev = 0;

	for (size_t i = 0; i < n; i++)
		ev |= tls_feed(&s->p, &s->ti, d + i, 1);
	return ev;
}

static void md5_hex(const char *s, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(s, strlen(s), md, &n, EVP_md5(), NULL), 1);
	assert_int_equal(n, 16);
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[32] = '\0';
}

/* A Chrome-like hello naming kloop.kg, padded to the usual 517 bytes. */
static size_t chrome_hello(uint8_t *buf, size_t cap, const char *sni)
{
	struct tb_ch_opts o = {
		.sni = sni, .alpn = alpn_h2, .n_alpn = 2,
		.versions = versions13, .n_versions = 2, .grease = true,
		.session_id_len = 32, .padding = 216,
	};
	size_t n = tb_client_hello_record(buf, cap, &o);

	assert_true(n > 0);
	return n;
}

/* Server flight of TLS 1.2: ServerHello, Certificate, ServerHelloDone,
 * all in one handshake payload.  Returns payload length. */
static size_t server_flight12(uint8_t *buf, size_t cap, uint8_t certs[][1500],
			      const size_t *lens, size_t n)
{
	struct tb_sh_opts sh = { .alpn = "h2" };
	const uint8_t *der[4];
	size_t len = 0, k;

	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tb_fake_cert(certs[i], 1500, lens[i],
					      (uint8_t)(i + 1)), lens[i]);
		der[i] = certs[i];
	}
	k = tb_server_hello(buf, cap, &sh);
	assert_true(k > 0);
	len += k;
	k = tb_certificate(buf + len, cap - len, der, lens, n);
	assert_true(k > 0);
	len += k;
	k = tb_server_hello_done(buf + len, cap - len);
	assert_int_equal(k, 4);
	return len + k;
}

/* ---- extraction ---------------------------------------------------------- */

static void test_ch_sni_alpn_versions(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "kloop.kg");
	struct side *s = side_new(false, 0);
	unsigned ev = feed(s, buf, n);

	assert_true(ev & TLS_EV_CLIENT_HELLO);
	assert_true(ev & TLS_EV_RECORD);
	assert_false(ev & TLS_EV_ERROR);
	assert_int_equal(n, 517);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.ch_sslv2, 0);
	assert_int_equal(s->ti.sni_present, 1);
	assert_int_equal(s->ti.sni_len, 8);
	assert_string_equal(s->ti.sni, "kloop.kg");
	assert_int_equal(s->ti.n_alpn, 2);
	assert_int_equal(s->ti.alpn_len[0], 2);
	assert_int_equal(s->ti.alpn_len[1], 8);
	assert_memory_equal(s->ti.alpn_buf, "h2http/1.1", 10);
	/* GREASE version 0x4a4a left out, wire order kept */
	assert_int_equal(s->ti.n_versions, 2);
	assert_int_equal(s->ti.versions[0], 0x0304);
	assert_int_equal(s->ti.versions[1], 0x0303);
	assert_int_equal(s->ti.ch_version, V12);
	assert_int_equal(s->ti.ch_record_version, V10);
	assert_int_equal(s->ti.n_ciphers, 16); /* 15 + GREASE */
	assert_int_equal(s->ti.ech, 0);
	assert_int_equal(s->ti.esni, 0);
	assert_int_equal(strlen(s->ti.ja3), 32);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	assert_int_equal(s->p.records, 1);
	assert_int_equal(s->p.handshake_msgs, 1);
	side_free(s);
}

static void test_ch_ech_esni(void **state)
{
	uint8_t buf[4096];
	struct tb_ch_opts o = { .sni = "public.example", .ech = true };
	struct side *s = side_new(false, 0);
	size_t n = tb_client_hello_record(buf, sizeof(buf), &o);

	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.ech, 1);
	assert_int_equal(s->ti.esni, 0);
	assert_string_equal(s->ti.sni, "public.example");
	side_free(s);

	o.ech = false;
	o.esni = true;
	o.sni = NULL;
	s = side_new(false, 0);
	n = tb_client_hello_record(buf, sizeof(buf), &o);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.ech, 0);
	assert_int_equal(s->ti.esni, 1);
	assert_int_equal(s->ti.sni_present, 0);
	assert_int_equal(s->ti.sni_len, 0);
	side_free(s);
}

static void test_ch_long_and_raw_sni(void **state)
{
	char name[301];
	uint8_t buf[4096];
	struct tb_ch_opts o = { .sni = name, .minimal = true };
	struct side *s = side_new(false, 0);
	size_t n;

	memset(name, 'a', 300);
	name[300] = '\0';
	n = tb_client_hello_record(buf, sizeof(buf), &o);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.sni_present, 1);
	assert_int_equal(s->ti.sni_len, TLS_MAX_SNI);
	assert_memory_equal(s->ti.sni, name, TLS_MAX_SNI);
	assert_int_equal(s->ti.sni[TLS_MAX_SNI], '\0');
	side_free(s);

	/* Raw bytes, NUL included, are kept as sent. */
	o.sni = "ab\0cd";
	o.sni_len = 5;
	s = side_new(false, 0);
	n = tb_client_hello_record(buf, sizeof(buf), &o);
	feed(s, buf, n);
	assert_int_equal(s->ti.sni_len, 5);
	assert_memory_equal(s->ti.sni, "ab\0cd", 5);
	side_free(s);
}

static void test_ch_alpn_and_version_caps(void **state)
{
	static const char *const many[] = {
		"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9",
	};
	static const uint16_t vers[] = {
		0x0304, 0x0303, 0x0302, 0x0301, 0x7f1c, 0x7f1b, 0x7f1a, 0x7f19,
		0x7f18, 0x7f17,
	};
	char long_name[61];
	const char *longs[3] = { long_name, long_name, long_name };
	uint8_t buf[4096];
	struct tb_ch_opts o = {
		.alpn = many, .n_alpn = 10, .versions = vers, .n_versions = 10,
		.minimal = true,
	};
	struct side *s = side_new(false, 0);
	size_t n = tb_client_hello_record(buf, sizeof(buf), &o);

	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.n_alpn, TLS_MAX_ALPN);
	assert_memory_equal(s->ti.alpn_buf, "p0p1p2p3p4p5p6p7", 16);
	assert_int_equal(s->ti.n_versions, TLS_MAX_VERSIONS);
	assert_int_equal(s->ti.versions[7], 0x7f19);
	side_free(s);

	/* 3 x 60 bytes do not fit in TLS_ALPN_BUF: two are kept. */
	memset(long_name, 'x', 60);
	long_name[60] = '\0';
	o.alpn = longs;
	o.n_alpn = 3;
	s = side_new(false, 0);
	n = tb_client_hello_record(buf, sizeof(buf), &o);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.n_alpn, 2);
	assert_int_equal(s->ti.alpn_len[0] + s->ti.alpn_len[1], 120);
	side_free(s);
}

/* An empty server_name body (as servers echo it) names nothing; entries
 * of another name type are skipped; the first host_name is taken. */
static void test_ch_sni_odd_forms(void **state)
{
	static const uint8_t tail[] = {
		0x00, 0x02, 0x13, 0x01,             /* one cipher suite */
		0x01, 0x00,                         /* null compression */
		0x00, 0x17,                         /* extensions: 23 bytes */
		0x00, 0x00, 0x00, 0x00,             /* server_name, empty */
		0x00, 0x00, 0x00, 0x0f, 0x00, 0x0d, /* server_name, list 13 */
		0x01, 0x00, 0x03, 'a', 'b', 'c',    /* name type 1: skipped */
		0x00, 0x00, 0x04, 'h', 'o', 's', 't',
	};
	uint8_t body[35 + sizeof(tail)];
	struct tls_info ti = { 0 };

	memset(body, 0, sizeof(body));
	body[0] = 3; /* legacy_version 0x0303; random and session id zero */
	body[1] = 3;
	memcpy(body + 35, tail, sizeof(tail));
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(body, sizeof(body), &ti));
	assert_int_equal(ti.sni_present, 1);
	assert_int_equal(ti.sni_len, 4);
	assert_string_equal(ti.sni, "host");
	/* A name entry running past its list is a malformed extension: the
	 * hello still parses (the framing holds), the SNI is not taken and
	 * the extension is counted. */
	body[35 + 8 + 4 + 4 + 2 + 2] = 0x09;
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(body, sizeof(body), &ti));
	assert_int_equal(ti.sni_present, 0);
	assert_int_equal(ti.ch_ext_malformed, 1);
	tls_info_release(&ti);
}

/* ---- JA3 / JA3S ------------------------------------------------------------ */

static void test_ja3_by_hand(void **state)
{
	static const uint16_t cs[] = { 0x1301, 0xc02f, 0x002f };
	static const char *const h2[] = { "h2" };
	uint8_t buf[4096];
	struct tb_ch_opts o = {
		.ciphers = cs, .n_ciphers = 3, .sni = "a.example",
		.alpn = h2, .n_alpn = 1, .versions = versions13,
		.n_versions = 2, .grease = true,
	};
	/* GREASE cipher 0x0a0a, extensions 0x1a1a/0x2a2a and group 0x3a3a
	 * are on the wire but not in the string. */
	const char *expect = "771,4865-49199-47,"
			     "0-23-65281-10-11-35-16-5-13-18-51-45-43-27,"
			     "29-23-24,0";
	char want[33];
	struct side *s = side_new(false, 0);
	size_t n = tb_client_hello_record(buf, sizeof(buf), &o);

	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.n_ciphers, 4);
	md5_hex(expect, want);
	assert_string_equal(s->ti.ja3, want);
	side_free(s);
}

/* Values of every decimal width (ja3w_num writes the digits without a
 * loop), and lists long enough for the string to pass through the
 * 256-byte buffer several times. */
static void test_ja3_digit_widths_and_long_lists(void **state)
{
	static const uint16_t widths[] = { 0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535 };
	uint16_t cs[300];
	uint8_t buf[8192];
	char expect[4096], want[33];
	for (size_t n = 1; n <= 300; n += 299) {
		size_t len = (size_t)snprintf(expect, sizeof(expect), "771,");
		for (size_t i = 0; i < n; i++) {
			cs[i] = n == 1 ? 0 : widths[i % 10] == 0 ? (uint16_t)i : widths[i % 10];
			len += (size_t)snprintf(expect + len, sizeof(expect) - len, "%s%u", i ? "-" : "", cs[i]);
		}
		snprintf(expect + len, sizeof(expect) - len, ",10-11-43,29-23-24,0");
		static const uint16_t order[] = { 10, 11, 43 };
		struct tb_ch_opts o = {
			.ciphers = cs, .n_ciphers = n, .versions = versions13, .n_versions = 2,
			.ext_order = order, .n_ext_order = 3,
		};
		struct side *s = side_new(false, 0);
		size_t blen = tb_client_hello_record(buf, sizeof(buf), &o);
		feed(s, buf, blen);
		assert_int_equal(s->ti.ch_seen, 1);
		md5_hex(expect, want);
		assert_string_equal(s->ti.ja3, want);
		side_free(s);
	}
}

/* Published vectors: the two examples of the salesforce/ja3 README, and a
 * Chrome 143 hello as reported by a fingerprinting service (its ja3_text
 * and ja3_hash), rebuilt extension by extension. */
static void test_ja3_known_vectors(void **state)
{
	static const uint16_t cs1[] = {
		47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4,
	};
	static const uint16_t g1[] = { 23, 24, 25 };
	static const uint8_t pf[] = { 0 };
	static const uint16_t cs2[] = { 4, 5, 10, 9, 100, 98, 3, 6, 19, 18, 99 };
	static const uint16_t chrome_order[] = {
		0x1a1a, 45, 51, 16, 65037, 23, 17613, 0, 11, 10, 43, 65281, 35,
		18, 5, 13, 27, 0x2a2a,
	};
	static const uint16_t g3[] = { 4588, 29, 23, 24 };
	uint8_t buf[4096];
	struct tb_ch_opts o1 = {
		.legacy_version = 0x0301, .ciphers = cs1, .n_ciphers = 12,
		.sni = "example.com", .groups = g1, .n_groups = 3,
		.point_formats = pf, .n_point_formats = 1, .minimal = true,
	};
	struct tb_ch_opts o2 = {
		.legacy_version = 0x0301, .ciphers = cs2, .n_ciphers = 11,
		.no_extensions = true,
	};
	struct tb_ch_opts o3 = {
		.sni = "tls.browserleaks.com", .alpn = alpn_h2, .n_alpn = 2,
		.versions = versions13, .n_versions = 2, .groups = g3,
		.n_groups = 4, .grease = true, .ext_order = chrome_order,
		.n_ext_order = sizeof(chrome_order) / sizeof(chrome_order[0]),
	};
	struct side *s = side_new(false, 0);
	size_t n = tb_client_hello_record(buf, sizeof(buf), &o1);

	feed(s, buf, n);
	assert_string_equal(s->ti.ja3, "ada70206e40642a3e4461f35503241d5");
	side_free(s);

	s = side_new(false, 0);
	n = tb_client_hello_record(buf, sizeof(buf), &o2);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.sni_present, 0);
	assert_string_equal(s->ti.ja3, "de350869b8c85de67a350c8d186f11e6");
	side_free(s);

	s = side_new(false, 0);
	n = tb_client_hello_record(buf, sizeof(buf), &o3);
	feed(s, buf, n);
	assert_int_equal(s->ti.ech, 1);
	assert_string_equal(s->ti.sni, "tls.browserleaks.com");
	assert_string_equal(s->ti.ja3, "98487aa16281980e7d1120d399efb6a4");
	side_free(s);
}

static void test_ja3s(void **state)
{
	uint8_t msg[512], rec[600];
	struct tb_sh_opts o13 = { .selected_version = 0x0304 };
	struct tb_sh_opts o12 = { .alpn = "h2", .cipher = 0xc030 };
	char want[33];
	struct side *s = side_new(true, 0);
	size_t m = tb_server_hello(msg, sizeof(msg), &o13);
	size_t n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, msg, m, 1);
	unsigned ev = feed(s, rec, n);

	assert_true(ev & TLS_EV_SERVER_HELLO);
	assert_int_equal(s->ti.sh_seen, 1);
	assert_int_equal(s->ti.sh_version, 0x0304);
	assert_int_equal(s->ti.sh_cipher, 0x1301);
	assert_int_equal(s->ti.hello_retry, 0);
	md5_hex("771,4865,43-51", want);
	assert_string_equal(s->ti.ja3s, want);
	side_free(s);

	s = side_new(true, 0);
	m = tb_server_hello(msg, sizeof(msg), &o12);
	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, msg, m, 1);
	feed(s, rec, n);
	assert_int_equal(s->ti.sh_version, V12);
	assert_int_equal(s->ti.sh_cipher, 0xc030);
	md5_hex("771,49200,16-65281", want);
	assert_string_equal(s->ti.ja3s, want);
	side_free(s);
}

/* ---- the fingerprint memo (fpmemo.h) ------------------------------------- */

/* Where extension `type`'s body starts in a ClientHello handshake message
 * as tlsbuild writes it (its length in *len), 0 if it has none. */
static size_t ch_ext_at(const uint8_t *m, size_t n, uint16_t type, size_t *len)
{
	size_t p = 4 + 2 + 32;                          /* header, version, random */
	p += 1 + m[p];                                  /* session id */
	p += 2 + ((size_t)m[p] << 8 | m[p + 1]);        /* ciphers */
	p += 1 + m[p];                                  /* compression methods */
	p += 2;                                         /* the extensions' length */
	while (p + 4 <= n) {
		uint16_t t = (uint16_t)(m[p] << 8 | m[p + 1]);
		size_t l = (size_t)m[p + 2] << 8 | m[p + 3];
		if (t == type) {
			*len = l;
			return p + 4;
		}
		p += 4 + l;
	}
	return 0;
}

/* Every GREASE value tlsbuild wrote (ciphers, extension types, groups,
 * versions) becomes another GREASE value, as a browser's next hello has. */
static void regrease(uint8_t *m, size_t n)
{
	size_t p = 4 + 2 + 32, len;
	p += 1 + m[p];
	size_t cs = (size_t)m[p] << 8 | m[p + 1];
	for (size_t i = p + 2; i < p + 2 + cs; i += 2)
		if (m[i] == 0x0a && m[i + 1] == 0x0a)
			m[i] = m[i + 1] = 0xda;
	for (size_t i = 0; i + 1 < n; i++) /* the extension types */
		if ((m[i] == 0x1a || m[i] == 0x2a) && m[i + 1] == m[i] && ch_ext_at(m, n, (uint16_t)(m[i] << 8 | m[i]), &len) == i + 4)
			m[i] = m[i + 1] = (uint8_t)(m[i] + 0xc0);
	size_t at = ch_ext_at(m, n, 10, &len);
	assert_true(at > 0);
	for (size_t i = at + 2; i + 1 < at + len; i += 2)
		if (m[i] == 0x3a && m[i + 1] == 0x3a)
			m[i] = m[i + 1] = 0x7a;
	at = ch_ext_at(m, n, 43, &len);
	assert_true(at > 0);
	for (size_t i = at + 1; i + 1 < at + len; i += 2)
		if (m[i] == 0x4a && m[i + 1] == 0x4a)
			m[i] = m[i + 1] = 0x9a;
}

/* A hit answers exactly what computing answers: hellos that differ in one
 * thing JA3 or JA4 reads each keep their own fingerprints, computed cold
 * (memo emptied) and warm alike; a hello differing only in its SNI or its
 * GREASE values is answered from the memo with the same ones. */
static void test_fingerprint_memo_exact(void **state)
{
	(void)state;
	static const uint16_t v2[] = { 0x0304, 0x0303 }, v1[] = { 0x0303 };
	static const uint16_t g1[] = { 29, 23 }, g2[] = { 23, 29 };
	static const uint16_t c1[] = { 0x1301, 0x1302, 0xc02b }, c2[] = { 0x1302, 0x1301, 0xc02b };
	static const uint8_t pf1[] = { 0 }, pf2[] = { 0, 1 };
	static const char *const a1[] = { "h3" }, *const a2[] = { "http/1.1" }, *const a3[] = { "h2", "http/1.1" };
	static const uint16_t o1[] = { 0, 10, 11, 13, 16, 43, 51 }, o2[] = { 0, 10, 11, 16, 13, 43, 51 };
	static const uint16_t o3[] = { 10, 11, 13, 16, 43, 51 };
	const struct tb_ch_opts base = { .sni = "a.example", .alpn = a3, .n_alpn = 2, .versions = v2,
					 .n_versions = 2, .groups = g1, .n_groups = 2, .ciphers = c1,
					 .n_ciphers = 3, .point_formats = pf1, .n_point_formats = 1,
					 .ext_order = o1, .n_ext_order = 7 };
	enum { N = 15 };
	struct tb_ch_opts v[N];
	for (int i = 0; i < N; i++)
		v[i] = base;
	v[1].sni = "b.example";                /* same fingerprints: SNI by presence */
	v[2].ext_order = o3, v[2].n_ext_order = 6; /* no SNI */
	v[3].alpn = a1, v[3].n_alpn = 1;
	v[4].alpn = a2, v[4].n_alpn = 1;
	v[5].versions = v1, v[5].n_versions = 1;
	v[6].groups = g2;
	v[7].ciphers = c2;
	v[8].point_formats = pf2, v[8].n_point_formats = 2;
	v[9].ext_order = o2;
	v[10].legacy_version = 0x0301;
	v[11].grease = true, v[11].ext_order = NULL, v[11].n_ext_order = 0;
	v[12] = v[11];                         /* ... its GREASE values changed below */
	v[13].session_id_len = 32;             /* not read by either */
	/* 14: the signature algorithms' last byte changed below */
	uint8_t m[N][2048];
	size_t n[N];
	for (int i = 0; i < N; i++) {
		n[i] = tb_client_hello(m[i], sizeof(m[i]), &v[i]);
		assert_true(n[i] > 4);
	}
	regrease(m[12], n[12]);
	assert_memory_not_equal(m[11], m[12], n[11]);
	size_t len, at = ch_ext_at(m[14], n[14], 13, &len);
	assert_true(at > 0 && len > 2);
	m[14][at + len - 1] ^= 0x01;

	char ja3[N][33], ja4[N][JA4_LEN + 1];
	struct tls_info ti;
	memset(&ti, 0, sizeof(ti));
	for (int i = 0; i < N; i++) { /* cold: computed */
		fpmemo_clear();
		ti_reset(&ti);
		assert_true(tls_parse_client_hello(m[i] + 4, n[i] - 4, &ti));
		assert_int_equal(strlen(ti.ja3), 32);
		assert_int_equal(strlen(ti.ja4), JA4_LEN);
		memcpy(ja3[i], ti.ja3, sizeof(ja3[i]));
		memcpy(ja4[i], ti.ja4, sizeof(ja4[i]));
	}
	/* what differs differs; what does not, does not */
	assert_string_equal(ja3[1], ja3[0]);
	assert_string_equal(ja4[1], ja4[0]);
	assert_string_equal(ja3[13], ja3[0]);
	assert_string_equal(ja4[13], ja4[0]);
	assert_string_equal(ja3[12], ja3[11]);
	assert_string_equal(ja4[12], ja4[11]);
	for (int i = 2; i <= 10; i++)
		if (!(strcmp(ja3[i], ja3[0]) != 0 || strcmp(ja4[i], ja4[0]) != 0))
			fail_msg("hello %d: %s %s", i, ja3[i], ja4[i]);
	assert_string_not_equal(ja4[14], ja4[0]);
	/* warm: every hello after every other, twice */
	fpmemo_clear();
	uint64_t hits0 = fpmemo_hits();
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < N; i++) {
			ti_reset(&ti);
			assert_true(tls_parse_client_hello(m[i] + 4, n[i] - 4, &ti));
			assert_string_equal(ti.ja3, ja3[i]);
			assert_string_equal(ti.ja4, ja4[i]);
		}
	/* 1, 12 and 13 hit in the first pass; the second pass is all hits
	 * but what a direct-mapped collision evicted */
	assert_true(fpmemo_hits() - hits0 >= 3 + N / 2);
	tls_info_release(&ti);
}

/* ---- incremental delivery ------------------------------------------------ */

static void test_every_split_offset(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "kloop.kg");
	char ref_ja3[33];
	struct side *s = side_new(false, 0);

	feed(s, buf, n);
	memcpy(ref_ja3, s->ti.ja3, sizeof(ref_ja3));
	side_free(s);
	for (size_t k = 0; k <= n; k++) {
		unsigned ev;

		s = side_new(false, 0);
		ev = feed(s, buf, k);
		if (k < n)
			assert_int_equal(s->ti.ch_seen, 0);
		ev |= feed(s, buf + k, n - k);
		assert_true(ev & TLS_EV_CLIENT_HELLO);
		assert_int_equal(s->ti.ch_seen, 1);
		assert_string_equal(s->ti.sni, "kloop.kg");
		assert_string_equal(s->ti.ja3, ref_ja3);
		assert_int_equal(s->p.error, TLS_ERR_NONE);
		side_free(s);
	}
}

static void test_one_byte_at_a_time(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "www.rferl.org");
	struct side *s = side_new(false, 0);

	for (size_t i = 0; i < n; i++) {
		unsigned ev = feed(s, buf + i, 1);

		if (i + 1 < n) {
			assert_false(ev & TLS_EV_CLIENT_HELLO);
			assert_int_equal(s->ti.ch_seen, 0);
		} else {
			assert_true(ev & TLS_EV_CLIENT_HELLO);
		}
		if (i == 4)
			assert_true(ev & TLS_EV_RECORD);
	}
	assert_string_equal(s->ti.sni, "www.rferl.org");
	assert_int_equal(s->p.records, 1);
	side_free(s);
}

static void check_flight12(struct side *s, uint8_t certs[][1500],
			   const size_t *lens)
{
	assert_int_equal(s->ti.sh_seen, 1);
	assert_int_equal(s->ti.sh_version, V12);
	assert_int_equal(s->ti.cert_seen, 1);
	assert_int_equal(s->ti.n_certs, 3);
	assert_int_equal(s->ti.certs_truncated, 0);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(s->ti.certs[i].len, lens[i]);
		assert_memory_equal(s->ti.certs[i].der, certs[i], lens[i]);
	}
	assert_int_equal(s->p.handshake_msgs, 3);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
}

static void test_several_messages_one_record(void **state)
{
	static uint8_t certs[3][1500];
	static const size_t lens[3] = { 1200, 900, 700 };
	uint8_t pl[4096], rec[4200];
	size_t m = server_flight12(pl, sizeof(pl), certs, lens, 3);
	size_t n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, pl, m, 1);
	struct side *s = side_new(true, 0);
	unsigned ev = feed(s, rec, n);

	assert_true(ev & TLS_EV_SERVER_HELLO);
	assert_true(ev & TLS_EV_CERTIFICATE);
	assert_int_equal(s->p.records, 1);
	check_flight12(s, certs, lens);
	side_free(s);

	s = side_new(true, 0);
	ev = feed_bytewise(s, rec, n);
	assert_true(ev & TLS_EV_CERTIFICATE);
	check_flight12(s, certs, lens);
	side_free(s);
}

static void test_message_across_three_records(void **state)
{
	uint8_t msg[4096], rec[4200];
	struct tb_ch_opts o = { .sni = "kloop.kg", .versions = versions13,
				.n_versions = 2 };
	size_t m = tb_client_hello(msg, sizeof(msg), &o);
	size_t cut[4] = { 0, 3, m / 2, m }; /* first record splits the header */
	struct side *s = side_new(false, 0);

	assert_true(m > 100);
	for (int i = 0; i < 3; i++) {
		size_t n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V10,
				      msg + cut[i], cut[i + 1] - cut[i], 1);
		unsigned ev = feed(s, rec, n);

		assert_int_equal(s->ti.ch_seen, i == 2 ? 1 : 0);
		assert_int_equal(!!(ev & TLS_EV_CLIENT_HELLO), i == 2);
	}
	assert_int_equal(s->p.records, 3);
	assert_string_equal(s->ti.sni, "kloop.kg");
	side_free(s);

	/* One byte per record: the handshake header spans four records. */
	{
		uint8_t *big = malloc(BUF);

		assert_non_null(big);
		size_t n = tb_records(big, BUF, TB_CT_HANDSHAKE, V10, msg, m,
				      (unsigned)m);
		assert_int_equal(n, 6 * m);
		s = side_new(false, 0);
		feed(s, big, n);
		assert_int_equal(s->p.records, m);
		assert_string_equal(s->ti.sni, "kloop.kg");
		side_free(s);
		free(big);
	}
}

/* ---- SSLv2 --------------------------------------------------------------- */

static void test_sslv2_client_hello(void **state)
{
	uint8_t buf[512], more[64];
	size_t n = tb_sslv2_client_hello(buf, sizeof(buf), 0x0301, 10);
	size_t k;
	struct side *s = side_new(false, 0);
	unsigned ev;

	assert_true(tls_looks_like_tls(buf, n));
	ev = feed_bytewise(s, buf, n);
	assert_true(ev & TLS_EV_CLIENT_HELLO);
	assert_int_equal(s->ti.ch_seen, 1);
	assert_int_equal(s->ti.ch_sslv2, 1);
	assert_int_equal(s->ti.ch_version, 0x0301);
	assert_int_equal(s->ti.n_ciphers, 10);
	assert_int_equal(s->ti.sni_present, 0);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	/* The client goes on in TLS records after a TLS ServerHello. */
	k = tb_ccs_record(more, sizeof(more), 0x0301);
	ev = feed(s, more, k);
	assert_true(ev & TLS_EV_CCS);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	assert_int_equal(s->p.records, 2);
	side_free(s);

	/* Real SSL 2.0 version number. */
	n = tb_sslv2_client_hello(buf, sizeof(buf), 0x0002, 3);
	s = side_new(false, 0);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_sslv2, 1);
	assert_int_equal(s->ti.ch_version, 0x0002);
	assert_int_equal(s->ti.n_ciphers, 3);
	side_free(s);

	/* The server direction ignores a client hello, without error; three
	 * bytes are enough to recognise one. */
	n = tb_sslv2_client_hello(buf, sizeof(buf), 0x0301, 3);
	assert_true(tls_looks_like_tls(buf, 3));
	s = side_new(true, 0);
	ev = feed(s, buf, n);
	assert_false(ev & (TLS_EV_CLIENT_HELLO | TLS_EV_ERROR));
	assert_int_equal(s->ti.ch_seen, 0);
	assert_int_equal(s->p.records, 1);
	side_free(s);

	/* An SSLv2 SERVER-HELLO (type 4) is not a client hello. */
	n = tb_sslv2_client_hello(buf, sizeof(buf), 0x0301, 3);
	buf[2] = 4;
	assert_false(tls_looks_like_tls(buf, n));
	s = side_new(false, 0);
	ev = feed(s, buf, n);
	assert_true(ev & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_NOT_TLS);
	side_free(s);

	/* Cipher spec length not a multiple of 3. */
	n = tb_sslv2_client_hello(buf, sizeof(buf), 0x0301, 3);
	buf[6] = 8;
	s = side_new(false, 0);
	feed(s, buf, n);
	assert_int_equal(s->ti.ch_seen, 0);
	assert_int_equal(s->p.error, TLS_ERR_NOT_TLS);
	side_free(s);
}

/* ---- hostile input ------------------------------------------------------- */

static void test_truncated_every_length(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "kloop.kg");

	for (size_t k = 0; k < n; k++) {
		struct side *s = side_new(false, 0);
		unsigned ev = feed(s, buf, k);

		assert_false(ev & (TLS_EV_CLIENT_HELLO | TLS_EV_ERROR));
		assert_int_equal(s->ti.ch_seen, 0);
		assert_int_equal(s->p.error, TLS_ERR_NONE);
		assert_int_not_equal(s->p.state, TLS_ST_STOPPED);
		side_free(s);
	}
}

static void test_truncated_body_direct(void **state)
{
	static const uint16_t cs[] = { 0x1301, 0xc02f };
	uint8_t msg[1024];
	struct tb_ch_opts o = { .ciphers = cs, .n_ciphers = 2,
				.sni = "kloop.kg" };
	size_t m = tb_client_hello(msg, sizeof(msg), &o);
	/* version, random, sid len, cipher list, compression: a valid hello
	 * without extensions ends exactly here. */
	size_t no_ext = 2 + 32 + 1 + 2 + 4 + 2;

	for (size_t k = 0; k < m - 4; k++) {
		struct tls_info ti = { 0 };

		ti_reset(&ti);
		assert_int_equal(tls_parse_client_hello(msg + 4, k, &ti),
				 k == no_ext);
		assert_int_equal(ti.ch_seen, k == no_ext);
		assert_int_equal(ti.sni_present, 0);
		tls_info_release(&ti);
	}
}

static void test_garbage_not_tls(void **state)
{
#define IN(s) { (const uint8_t *)(s), sizeof(s) - 1 }
	static const struct { const uint8_t *d; size_t n; } inputs[] = {
		IN("GET / HTTP/1.1\r\nHost: kloop.kg\r\n\r\n"),
		IN("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
		IN("\x16\x03\x05\x00\x10"), /* version 3.5 */
		IN("\x16\x02\x00\x00\x10"), /* major 2 */
		IN("\x00\x00\x00\x00\x00\x00"),
		IN("\x80\x02\x01\x03\x01"),  /* SSLv2 hello shorter than 9 */
	};
#undef IN
	uint32_t rng = 12345;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t n = inputs[i].n;
		struct side *s = side_new(false, 0);
		unsigned ev;

		assert_false(tls_looks_like_tls(inputs[i].d, n));
		ev = feed(s, inputs[i].d, n);
		assert_true(ev & TLS_EV_ERROR);
		assert_int_equal(s->p.error, TLS_ERR_NOT_TLS);
		assert_int_equal(s->p.state, TLS_ST_STOPPED);
		/* A stopped parser reports nothing more. */
		assert_int_equal(feed(s, (const uint8_t *)"\x16\x03\x01", 3), 0);
		side_free(s);
	}
	/* Random bytes in random chunks, both directions: no crash, state
	 * stays sane. */
	for (int round = 0; round < 2000; round++) {
		uint8_t junk[300];
		struct side *s = side_new(round & 1, 512);
		size_t off = 0;

		for (size_t j = 0; j < sizeof(junk); j++) {
			rng = rng * 1103515245u + 12345u;
			junk[j] = (uint8_t)(rng >> 16);
		}
		if (round % 3 == 0) { /* start like a record to go deeper */
			junk[0] = 0x16;
			junk[1] = 3;
			junk[2] = 1;
		}
		while (off < sizeof(junk)) {
			size_t k = 1 + junk[off] % 40;

			if (k > sizeof(junk) - off)
				k = sizeof(junk) - off;
			feed(s, junk + off, k);
			off += k;
		}
		assert_true(s->p.state <= TLS_ST_STOPPED);
		assert_true(s->ti.sni_len <= TLS_MAX_SNI);
		assert_true(s->p.msg_cap <= 512 + 4);
		side_free(s);
	}
}

static void test_record_errors(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "kloop.kg");
	static const uint8_t bad_type[] = { 0x63, 0x03, 0x03, 0x00, 0x01, 0 };
	static const uint8_t too_long[] = { 0x17, 0x03, 0x03, 0x48, 0x01 };
	static const uint8_t max_len[] = { 0x17, 0x03, 0x03, 0x48, 0x00 };
	static const uint8_t bad_ver[] = { 0x17, 0x03, 0x05, 0x00, 0x01, 0 };
	struct side *s = side_new(false, 0);
	unsigned ev;

	/* Unknown content type after a good record. */
	feed(s, buf, n);
	ev = feed(s, bad_type, sizeof(bad_type));
	assert_true(ev & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_RECORD_TYPE);
	assert_string_equal(s->ti.sni, "kloop.kg"); /* kept */
	side_free(s);

	/* ... and as the very first record. */
	s = side_new(false, 0);
	feed(s, bad_type, sizeof(bad_type));
	assert_int_equal(s->p.error, TLS_ERR_NOT_TLS);
	side_free(s);

	/* 2^14 + 2048 is the longest record allowed. */
	s = side_new(true, 0);
	ev = feed(s, max_len, sizeof(max_len));
	assert_true(ev & TLS_EV_APPDATA);
	assert_int_equal(s->p.rec_left, 18432);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	side_free(s);
	s = side_new(true, 0);
	ev = feed(s, too_long, sizeof(too_long));
	assert_true(ev & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_RECORD_LEN);
	side_free(s);

	s = side_new(false, 0);
	feed(s, buf, n);
	feed(s, bad_ver, sizeof(bad_ver));
	assert_int_equal(s->p.error, TLS_ERR_NOT_TLS);
	side_free(s);
}

static void test_oversized_message_skipped(void **state)
{
	uint8_t *big = calloc(1, BUF), *rec = malloc(BUF);
	uint8_t hello[4096];
	size_t hn = chrome_hello(hello, sizeof(hello), "kloop.kg");
	size_t m, n;
	struct side *s;
	unsigned ev;

	assert_non_null(big);
	assert_non_null(rec);
	/* Client: a 3000-byte unknown message, then the ClientHello. */
	m = tb_handshake(big, BUF, 99, big + 8192, 3000);
	n = tb_records(rec, BUF, TB_CT_HANDSHAKE, V10, big, m, 2);
	s = side_new(false, 1024);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_MSG_TOO_BIG);
	assert_int_equal(s->p.msgs_too_big, 1);
	ev = feed(s, hello, hn);
	assert_true(ev & TLS_EV_CLIENT_HELLO);
	assert_string_equal(s->ti.sni, "kloop.kg");
	assert_true(s->p.msg_cap <= 1024 + 4);
	assert_int_not_equal(s->p.state, TLS_ST_STOPPED);
	side_free(s);

	/* Server: ServerHello, a Certificate over the cap, ServerHelloDone,
	 * then an alert: the certificate is skipped and marked truncated. */
	{
		static uint8_t certs[2][1500];
		const uint8_t *der[2] = { certs[0], certs[1] };
		static const size_t lens[2] = { 1500, 1500 };
		struct tb_sh_opts sh = { 0 };
		uint8_t alert[16];
		size_t k;

		tb_fake_cert(certs[0], 1500, 1500, 1);
		tb_fake_cert(certs[1], 1500, 1500, 2);
		m = tb_server_hello(big, BUF, &sh);
		m += tb_certificate(big + m, BUF - m, der, lens, 2);
		m += tb_server_hello_done(big + m, BUF - m);
		n = tb_records(rec, BUF, TB_CT_HANDSHAKE, V12, big, m, 3);
		s = side_new(true, 2048);
		ev = feed_bytewise(s, rec, n);
		assert_true(ev & TLS_EV_SERVER_HELLO);
		assert_false(ev & (TLS_EV_CERTIFICATE | TLS_EV_ERROR));
		assert_int_equal(s->ti.cert_seen, 0);
		assert_int_equal(s->ti.n_certs, 0);
		assert_int_equal(s->ti.certs_truncated, 1);
		assert_int_equal(s->p.error, TLS_ERR_MSG_TOO_BIG);
		assert_int_equal(s->p.handshake_msgs, 3);
		k = tb_alert_record(alert, sizeof(alert), V12, 2, 48);
		ev = feed(s, alert, k);
		assert_true(ev & TLS_EV_ALERT);
		assert_int_equal(s->ti.alert_desc[1], 48);
		side_free(s);
	}
	free(big);
	free(rec);
}

/* Offsets into the body of a minimal hello built below. */
#define CH_SID_LEN 34
#define CH_CS_LEN 35
#define CH_COMP_LEN 41
#define CH_EXT_LEN 43
#define CH_SNI_LIST 49
#define CH_SNI_NAME_LEN 52

static void test_malformed_client_hello(void **state)
{
	static const uint16_t cs[] = { 0x1301, 0xc02f };
	static const struct { size_t off; uint8_t val; } cases[] = {
		{ CH_SID_LEN, 33 },       /* session id too long */
		{ CH_CS_LEN + 1, 3 },     /* odd cipher list */
		{ CH_CS_LEN, 1 },         /* cipher list past the end */
		{ CH_CS_LEN + 1, 0 },     /* empty cipher list */
		{ CH_COMP_LEN, 0 },       /* no compression method */
		{ CH_EXT_LEN + 1, 1 },    /* extension block too short */
		{ CH_EXT_LEN + 1, 0xf0 }, /* extension block too long */
	};
	/* Broken inside an extension whose framing holds: the hello parses,
	 * the extension is skipped and counted. */
	static const struct { size_t off; uint8_t val; } inner[] = {
		{ CH_SNI_LIST + 1, 1 },   /* server name list mismatch */
		{ CH_SNI_NAME_LEN + 1, 0x40 }, /* name past its list */
	};
	uint8_t msg[512], rec[600];
	struct tb_ch_opts o = { .ciphers = cs, .n_ciphers = 2, .sni = "a.b",
				.minimal = true };
	size_t m = tb_client_hello(msg, sizeof(msg), &o);
	uint8_t *body = msg + 4;

	/* The offsets above describe this hello. */
	assert_int_equal(body[CH_CS_LEN + 1], 4);
	assert_int_equal(body[CH_COMP_LEN], 1);
	assert_int_equal(body[CH_EXT_LEN + 1], 12);
	assert_int_equal(body[CH_SNI_LIST + 1], 6);
	assert_int_equal(body[CH_SNI_NAME_LEN + 1], 3);
	assert_int_equal(m, 4 + CH_SNI_NAME_LEN + 2 + 3);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t bad[512];
		struct side *s = side_new(false, 0);
		size_t n;
		unsigned ev;

		memcpy(bad, msg, m);
		bad[4 + cases[i].off] = cases[i].val;
		assert_false(tls_parse_client_hello(bad + 4, m - 4, &s->ti));
		assert_int_equal(s->ti.ch_seen, 0);
		n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V10, bad, m, 1);
		ev = feed(s, rec, n);
		assert_true(ev & TLS_EV_ERROR);
		assert_false(ev & TLS_EV_CLIENT_HELLO);
		assert_int_equal(s->p.error, TLS_ERR_HANDSHAKE);
		assert_int_equal(s->ti.ch_seen, 0);
		assert_int_equal(s->ti.sni_present, 0);
		side_free(s);
	}
	for (size_t i = 0; i < sizeof(inner) / sizeof(inner[0]); i++) {
		struct tls_info ti = { 0 };
		uint8_t bad[512];

		ti_reset(&ti);
		memcpy(bad, msg, m);
		bad[4 + inner[i].off] = inner[i].val;
		assert_true(tls_parse_client_hello(bad + 4, m - 4, &ti));
		assert_int_equal(ti.ch_seen, 1);
		assert_int_equal(ti.sni_present, 0);
		assert_int_equal(ti.ch_ext_malformed, 1);
		tls_info_release(&ti);
	}
	/* Trailing bytes after the extensions are inconsistent too. */
	{
		struct tls_info ti = { 0 };
		uint8_t bad[512];

		ti_reset(&ti);
		memcpy(bad, msg, m);
		bad[m] = 0;
		assert_false(tls_parse_client_hello(bad + 4, m - 4 + 1, &ti));
		/* ... and the good one still parses. */
		assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
		assert_string_equal(ti.sni, "a.b");
		tls_info_release(&ti);
	}
}

/* The extension block's length matches the message but an extension
 * inside runs past it (a fuzzed hello in nDPI's tls_invalid_reads.pcap):
 * what came before, the SNI, is kept and the damage counted. */
static void test_extension_framing_broken_after_sni(void **state)
{
	static const uint16_t cs[] = { 0x1301 };
	uint8_t msg[512];
	struct tls_info ti = { 0 };
	struct tb_ch_opts o = { .ciphers = cs, .n_ciphers = 1, .sni = "e.crashlytics.com",
				.minimal = true };
	size_t m = tb_client_hello(msg, sizeof(msg), &o);
	/* append a bogus extension header claiming 0xc694 bytes, and grow
	 * the block and message lengths to cover exactly those 4 bytes */
	size_t ext_len_off = 4 + 2 + 32 + 1 + 2 + 2 + 2; /* minimal layout */
	uint16_t ext_len = (uint16_t)((msg[ext_len_off] << 8) | msg[ext_len_off + 1]);
	memcpy(msg + m, "\xe3\x4f\xc6\x94", 4);
	ext_len += 4;
	msg[ext_len_off] = (uint8_t)(ext_len >> 8);
	msg[ext_len_off + 1] = (uint8_t)ext_len;
	size_t body = m - 4 + 4;
	msg[1] = (uint8_t)(body >> 16);
	msg[2] = (uint8_t)(body >> 8);
	msg[3] = (uint8_t)body;
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, body, &ti));
	assert_int_equal(ti.sni_present, 1);
	assert_string_equal(ti.sni, "e.crashlytics.com");
	assert_int_equal(ti.ch_ext_malformed, 1);
	tls_info_release(&ti);
}

static void test_malformed_extensions(void **state)
{
	static const uint16_t cs[] = { 0x1301 };
	static const char *const one[] = { "h2" };
	static const uint16_t v[] = { 0x0304 };
	static const uint8_t pf[] = { 0, 1 };
	static const uint16_t g[] = { 29 };
	uint8_t msg[512];
	struct tls_info ti = { 0 };
	struct tb_ch_opts o = { .ciphers = cs, .n_ciphers = 1, .alpn = one,
				.n_alpn = 1, .minimal = true };
	size_t m = tb_client_hello(msg, sizeof(msg), &o);
	/* Minimal hello: extension starts at body offset 43 + 2 = 43. */
	size_t ext = 2 + 32 + 1 + 2 + 2 + 2 + 2;

	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	assert_int_equal(ti.n_alpn, 1);
	/* ALPN: name length past the list */
	msg[4 + ext + 4 + 2] = 9;
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	assert_int_equal(ti.n_alpn, 0);
	assert_int_equal(ti.ch_ext_malformed, 1);

	o.alpn = NULL;
	o.versions = v;
	o.n_versions = 1;
	m = tb_client_hello(msg, sizeof(msg), &o);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	msg[4 + ext + 4] = 3; /* odd supported_versions list */
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	assert_int_equal(ti.n_versions, 0);
	assert_int_equal(ti.ch_ext_malformed, 1);

	o.versions = NULL;
	o.point_formats = pf;
	o.n_point_formats = 2;
	m = tb_client_hello(msg, sizeof(msg), &o);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	msg[4 + ext + 4] = 1; /* point format list shorter than its body */
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	assert_int_equal(ti.ch_ext_malformed, 1);

	o.point_formats = NULL;
	o.groups = g;
	o.n_groups = 1;
	m = tb_client_hello(msg, sizeof(msg), &o);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	msg[4 + ext + 5] = 1; /* odd group list */
	ti_reset(&ti);
	assert_true(tls_parse_client_hello(msg + 4, m - 4, &ti));
	assert_int_equal(ti.ch_ext_malformed, 1);
	tls_info_release(&ti);
}

/* ---- alerts, encryption, TLS 1.3 ----------------------------------------- */

static void test_alerts(void **state)
{
	uint8_t rec[64], hello[4096];
	size_t n = tb_alert_record(rec, sizeof(rec), V12, 2, 40);
	struct side *s = side_new(true, 0);
	unsigned ev = feed_bytewise(s, rec, n);

	assert_true(ev & TLS_EV_ALERT);
	assert_int_equal(s->ti.alert_seen[1], 1);
	assert_int_equal(s->ti.alert_level[1], 2);
	assert_int_equal(s->ti.alert_desc[1], 40);
	assert_int_equal(s->ti.alert_seen[0], 0);
	/* Only the first alert of a direction is kept. */
	n = tb_alert_record(rec, sizeof(rec), V12, 1, 0);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_ALERT);
	assert_int_equal(s->ti.alert_desc[1], 40);
	side_free(s);

	/* Client direction fills [0]. */
	s = side_new(false, 0);
	n = chrome_hello(hello, sizeof(hello), "kloop.kg");
	feed(s, hello, n);
	n = tb_alert_record(rec, sizeof(rec), V12, 2, 70);
	feed(s, rec, n);
	assert_int_equal(s->ti.alert_seen[0], 1);
	assert_int_equal(s->ti.alert_desc[0], 70);
	assert_int_equal(s->ti.alert_seen[1], 0);
	side_free(s);

	/* An alert record of 3 bytes is not an alert in clear. */
	s = side_new(true, 0);
	n = tb_records(rec, sizeof(rec), TB_CT_ALERT, V12,
		       (const uint8_t *)"\x02\x28\x00", 3, 1);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_ALERT);
	assert_int_equal(s->ti.alert_seen[1], 0);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	side_free(s);

	/* After a TLS 1.2 CCS, alerts are encrypted and not read. */
	s = side_new(true, 0);
	n = tb_ccs_record(rec, sizeof(rec), V12);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_CCS);
	assert_int_equal(s->p.encrypted, 1);
	n = tb_alert_record(rec, sizeof(rec), V12, 2, 40);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_ALERT);
	n = tb_records(rec, sizeof(rec), TB_CT_ALERT, V12, hello, 26, 1);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_ALERT);
	assert_int_equal(s->ti.alert_seen[1], 0);
	assert_int_equal(s->p.records, 3);
	side_free(s);
}

static void test_tls13_server_stops_after_sh(void **state)
{
	static uint8_t certs[1][1500];
	const uint8_t *der[1] = { certs[0] };
	static const size_t lens[1] = { 800 };
	uint8_t pl[4096], rec[4200];
	struct tb_sh_opts sh = { .selected_version = 0x0304 };
	struct side *s = side_new(true, 0);
	size_t m, n;
	unsigned ev;

	tb_fake_cert(certs[0], 1500, 800, 9);
	/* A (pretend) cleartext Certificate right after the ServerHello in
	 * the same record is not interpreted: in 1.3 it cannot be clear. */
	m = tb_server_hello(pl, sizeof(pl), &sh);
	m += tb_certificate(pl + m, sizeof(pl) - m, der, lens, 1);
	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, pl, m, 1);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_SERVER_HELLO);
	assert_false(ev & TLS_EV_CERTIFICATE);
	assert_int_equal(s->ti.sh_version, 0x0304);
	assert_int_equal(s->p.encrypted, 1);
	assert_null(s->p.msg); /* buffer given back */

	n = tb_ccs_record(rec, sizeof(rec), V12);
	assert_true(feed(s, rec, n) & TLS_EV_CCS);
	m = tb_certificate(pl, sizeof(pl), der, lens, 1);
	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, pl, m, 1);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_CERTIFICATE);
	n = tb_appdata_record(rec, sizeof(rec), V12, 1200);
	ev = feed_bytewise(s, rec, n);
	assert_true(ev & TLS_EV_APPDATA);
	assert_int_equal(s->ti.cert_seen, 0);
	assert_int_equal(s->ti.n_certs, 0);
	/* A cleartext alert is still read. */
	n = tb_alert_record(rec, sizeof(rec), V12, 2, 80);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_ALERT);
	assert_int_equal(s->ti.alert_desc[1], 80);
	assert_int_equal(s->p.records, 5);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	side_free(s);
}

static void test_hello_retry_request(void **state)
{
	uint8_t msg[512], rec[600];
	struct tb_sh_opts hrr = { .selected_version = 0x0304,
				  .hello_retry = true, .cipher = 0x1302 };
	struct tb_sh_opts sh = { .selected_version = 0x0304, .cipher = 0x1302 };
	struct side *s = side_new(true, 0);
	struct tls_info direct;
	size_t m, n;
	unsigned ev;

	m = tb_server_hello(msg, sizeof(msg), &hrr);
	memset(&direct, 0, sizeof(direct));
	assert_true(tls_parse_server_hello(msg + 4, m - 4, &direct));
	assert_int_equal(direct.hello_retry, 1);

	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, msg, m, 1);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_SERVER_HELLO);
	assert_int_equal(s->ti.hello_retry, 1);
	assert_int_equal(s->p.encrypted, 0);
	/* The compatibility CCS after an HRR does not hide the ServerHello
	 * that follows the second ClientHello. */
	n = tb_ccs_record(rec, sizeof(rec), V12);
	assert_true(feed(s, rec, n) & TLS_EV_CCS);
	assert_int_equal(s->p.encrypted, 0);
	m = tb_server_hello(msg, sizeof(msg), &sh);
	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, msg, m, 1);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_SERVER_HELLO);
	assert_int_equal(s->ti.hello_retry, 1);
	assert_int_equal(s->ti.sh_version, 0x0304);
	assert_int_equal(s->ti.sh_cipher, 0x1302);
	assert_int_equal(s->p.encrypted, 1);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	side_free(s);
}

static void test_wrong_direction_ignored(void **state)
{
	static uint8_t certs[3][1500];
	static const size_t lens[3] = { 100, 200, 300 };
	uint8_t hello[4096], pl[4096], rec[4200];
	size_t hn = chrome_hello(hello, sizeof(hello), "kloop.kg");
	size_t m = server_flight12(pl, sizeof(pl), certs, lens, 3);
	size_t n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, pl, m, 1);
	struct side *srv = side_new(true, 0);
	struct side *cli = side_new(false, 0);

	assert_false(feed(srv, hello, hn) & (TLS_EV_CLIENT_HELLO | TLS_EV_ERROR));
	assert_int_equal(srv->ti.ch_seen, 0);
	assert_int_equal(srv->p.error, TLS_ERR_NONE);
	assert_false(feed(cli, rec, n) & (TLS_EV_SERVER_HELLO | TLS_EV_ERROR));
	assert_int_equal(cli->ti.sh_seen, 0);
	assert_int_equal(cli->ti.cert_seen, 0);
	assert_int_equal(cli->p.handshake_msgs, 3);
	assert_int_equal(cli->p.error, TLS_ERR_NONE);
	side_free(srv);
	side_free(cli);
}

static void test_first_client_hello_wins(void **state)
{
	uint8_t a[4096], b[4096];
	size_t an = chrome_hello(a, sizeof(a), "first.example");
	size_t bn = chrome_hello(b, sizeof(b), "second.example");
	struct side *s = side_new(false, 0);

	assert_true(feed(s, a, an) & TLS_EV_CLIENT_HELLO);
	assert_false(feed(s, b, bn) & TLS_EV_CLIENT_HELLO);
	assert_string_equal(s->ti.sni, "first.example");
	assert_int_equal(s->p.handshake_msgs, 2);
	side_free(s);
}

static void test_tls12_client_flight(void **state)
{
	uint8_t hello[4096], rec[256], fin[40];
	uint8_t cke[37];
	size_t n = chrome_hello(hello, sizeof(hello), "kloop.kg");
	struct side *s = side_new(false, 1024);
	unsigned ev;

	memset(cke, 0x20, sizeof(cke));
	feed(s, hello, n);
	n = tb_handshake(rec + 128, 128, 16, cke, 33);
	n = tb_records(rec, 128, TB_CT_HANDSHAKE, V12, rec + 128, n, 1);
	feed(s, rec, n);
	n = tb_ccs_record(rec, sizeof(rec), V12);
	ev = feed(s, rec, n);
	assert_true(ev & TLS_EV_CCS);
	/* Encrypted Finished: its first bytes would declare a huge message. */
	memset(fin, 0xff, sizeof(fin));
	n = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, fin, 40, 1);
	ev = feed(s, rec, n);
	assert_false(ev & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	assert_int_equal(s->p.msgs_too_big, 0);
	assert_int_equal(s->p.records, 4);
	assert_int_equal(s->p.handshake_msgs, 2);
	side_free(s);
}

static void test_appdata_heartbeat_empty_records(void **state)
{
	uint8_t rec[2048];
	static const uint8_t hb[] = { 0x18, 0x03, 0x03, 0x00, 0x03, 1, 0, 0 };
	static const uint8_t empty[] = { 0x17, 0x03, 0x03, 0x00, 0x00 };
	struct side *s = side_new(true, 0);
	size_t n = tb_appdata_record(rec, sizeof(rec), V12, 1000);
	unsigned ev = feed_bytewise(s, rec, n);

	assert_true(ev & TLS_EV_APPDATA);
	assert_true(ev & TLS_EV_RECORD);
	ev = feed(s, hb, sizeof(hb));
	assert_true(ev & TLS_EV_RECORD);
	ev = feed(s, empty, sizeof(empty));
	assert_true(ev & TLS_EV_APPDATA);
	assert_int_equal(s->p.state, TLS_ST_RECORD_HDR);
	assert_int_equal(s->p.records, 3);
	assert_int_equal(s->p.error, TLS_ERR_NONE);
	side_free(s);
}

static void test_certificate_edge_cases(void **state)
{
	static uint8_t certs[20][1500];
	const uint8_t *der[20];
	size_t lens[20];
	uint8_t *pl = malloc(BUF), *rec = malloc(BUF);
	struct tb_sh_opts sh = { 0 };
	struct side *s;
	size_t m, n, c0;

	assert_non_null(pl);
	assert_non_null(rec);
	for (int i = 0; i < 20; i++) {
		lens[i] = 50 + i;
		tb_fake_cert(certs[i], 1500, lens[i], (uint8_t)i);
		der[i] = certs[i];
	}
	/* More than TLS_MAX_CERTS: the first 16 are kept. */
	m = tb_server_hello(pl, BUF, &sh);
	m += tb_certificate(pl + m, BUF - m, der, lens, 20);
	n = tb_records(rec, BUF, TB_CT_HANDSHAKE, V12, pl, m, 1);
	s = side_new(true, 0);
	assert_true(feed(s, rec, n) & TLS_EV_CERTIFICATE);
	assert_int_equal(s->ti.n_certs, TLS_MAX_CERTS);
	assert_int_equal(s->ti.certs_truncated, 1);
	assert_memory_equal(s->ti.certs[15].der, certs[15], lens[15]);
	tls_info_release(&s->ti);
	tls_info_release(&s->ti); /* twice is harmless */
	assert_int_equal(s->ti.n_certs, 0);
	side_free(s);

	/* Second certificate's length runs past the list: the first is kept
	 * as evidence, the direction stops. */
	m = tb_server_hello(pl, BUF, &sh);
	c0 = m;
	m += tb_certificate(pl + m, BUF - m, der, lens, 2);
	pl[c0 + 4 + 3 + 3 + lens[0] + 2] += 10;
	n = tb_records(rec, BUF, TB_CT_HANDSHAKE, V12, pl, m, 1);
	s = side_new(true, 0);
	assert_true(feed(s, rec, n) & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_HANDSHAKE);
	assert_int_equal(s->ti.n_certs, 1);
	assert_int_equal(s->ti.cert_seen, 1);
	assert_int_equal(s->ti.certs_truncated, 1);
	side_free(s);

	/* Empty certificate list: seen, nothing kept. */
	m = tb_server_hello(pl, BUF, &sh);
	m += tb_certificate(pl + m, BUF - m, der, lens, 0);
	n = tb_records(rec, BUF, TB_CT_HANDSHAKE, V12, pl, m, 1);
	s = side_new(true, 0);
	assert_true(feed(s, rec, n) & TLS_EV_CERTIFICATE);
	assert_int_equal(s->ti.cert_seen, 1);
	assert_int_equal(s->ti.n_certs, 0);
	side_free(s);
	free(pl);
	free(rec);
}

static void test_malformed_server_hello(void **state)
{
	uint8_t msg[512], rec[600];
	struct tb_sh_opts sh = { .selected_version = 0x0304 };
	size_t m = tb_server_hello(msg, sizeof(msg), &sh);
	struct tls_info ti = { 0 };
	struct side *s;

	ti_reset(&ti);
	for (size_t k = 0; k < m - 4; k++) {
		/* 2+32+1+2+1 = 38: a valid 1.2 hello without extensions */
		assert_int_equal(tls_parse_server_hello(msg + 4, k, &ti), k == 38);
	}
	/* supported_versions of 3 bytes */
	msg[4 + 38 + 2 + 3] = 3;
	assert_false(tls_parse_server_hello(msg + 4, m - 4, &ti));
	s = side_new(true, 0);
	m = tb_records(rec, sizeof(rec), TB_CT_HANDSHAKE, V12, msg, m, 1);
	assert_true(feed(s, rec, m) & TLS_EV_ERROR);
	assert_int_equal(s->p.error, TLS_ERR_HANDSHAKE);
	side_free(s);
}

/* ---- through TCP reassembly ---------------------------------------------- */

static void test_reverse_segments_through_reasm(void **state)
{
	uint8_t buf[4096];
	size_t n = chrome_hello(buf, sizeof(buf), "kloop.kg");
	const uint32_t isn = 0xfffffe00u; /* the stream wraps 2^32 */
	struct reasm_dir d;
	struct side *s = side_new(false, 0);
	unsigned ev = 0;

	reasm_init(&d, 65536);
	reasm_set_base(&d, isn + 1);
	for (size_t i = n; i-- > 0;) {
		uint32_t from = 0;
		unsigned r = reasm_add(&d, isn + 1 + (uint32_t)i, buf + i, 1,
				       &from);

		if (r & REASM_NEW_DATA)
			ev |= tls_feed(&s->p, &s->ti, d.buf + from,
				       d.contiguous - from);
		if (i > 0)
			assert_int_equal(s->ti.ch_seen, 0);
	}
	assert_int_equal(d.contiguous, n);
	assert_true(ev & TLS_EV_CLIENT_HELLO);
	assert_string_equal(s->ti.sni, "kloop.kg");
	reasm_release(&d);
	side_free(s);
}

/* ---- small API ------------------------------------------------------------- */

static void test_names_and_looks_like(void **state)
{
	char b[16];
	uint8_t hello[4096];
	size_t n = chrome_hello(hello, sizeof(hello), "x.example");

	assert_string_equal(tls_version_name(0x0300, b, sizeof(b)), "SSLv3");
	assert_string_equal(tls_version_name(0x0301, b, sizeof(b)), "TLSv1.0");
	assert_string_equal(tls_version_name(0x0303, b, sizeof(b)), "TLSv1.2");
	assert_string_equal(tls_version_name(0x0304, b, sizeof(b)), "TLSv1.3");
	assert_string_equal(tls_version_name(0x7f1c, b, sizeof(b)), "0x7f1c");
	assert_string_equal(tls_version_name(0x0305, b, 8), "0x0305");
	assert_string_equal(tls_error_name(TLS_ERR_NONE), "none");
	assert_string_equal(tls_error_name(TLS_ERR_NOT_TLS), "not_tls");
	assert_string_equal(tls_error_name(TLS_ERR_MSG_TOO_BIG), "msg_too_big");
	assert_string_equal(tls_error_name(TLS_ERR__COUNT), "unknown");
	for (int e = 0; e < TLS_ERR__COUNT; e++)
		assert_non_null(tls_error_name((enum tls_error)e));

	assert_true(tls_looks_like_tls(hello, 3));
	assert_true(tls_looks_like_tls(hello, n));
	assert_false(tls_looks_like_tls(hello, 2));
	assert_false(tls_looks_like_tls(NULL, 0));
	assert_false(tls_looks_like_tls((const uint8_t *)"\x16\x03\x05", 3));
	assert_true(tls_looks_like_tls((const uint8_t *)"\x15\x03\x03", 3));
}

static void test_max_msg_defaults(void **state)
{
	struct tls_parser p;

	tls_parser_init(&p, false, 0);
	assert_true(p.max_msg > 0);
	tls_parser_release(&p);
	tls_parser_init(&p, true, 0xffffffffu);
	assert_int_equal(p.max_msg, 0xffffff);
	assert_int_equal(p.is_server, 1);
	assert_int_equal(p.state, TLS_ST_RECORD_HDR);
	tls_parser_release(&p);
	tls_parser_release(&p);
	assert_null(p.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ch_sni_alpn_versions),
		cmocka_unit_test(test_ch_ech_esni),
		cmocka_unit_test(test_ch_long_and_raw_sni),
		cmocka_unit_test(test_ch_alpn_and_version_caps),
		cmocka_unit_test(test_ch_sni_odd_forms),
		cmocka_unit_test(test_ja3_by_hand),
		cmocka_unit_test(test_ja3_digit_widths_and_long_lists),
		cmocka_unit_test(test_ja3_known_vectors),
		cmocka_unit_test(test_ja3s),
		cmocka_unit_test(test_fingerprint_memo_exact),
		cmocka_unit_test(test_every_split_offset),
		cmocka_unit_test(test_one_byte_at_a_time),
		cmocka_unit_test(test_several_messages_one_record),
		cmocka_unit_test(test_message_across_three_records),
		cmocka_unit_test(test_sslv2_client_hello),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_truncated_body_direct),
		cmocka_unit_test(test_garbage_not_tls),
		cmocka_unit_test(test_record_errors),
		cmocka_unit_test(test_oversized_message_skipped),
		cmocka_unit_test(test_malformed_client_hello),
		cmocka_unit_test(test_malformed_extensions),
		cmocka_unit_test(test_extension_framing_broken_after_sni),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_tls13_server_stops_after_sh),
		cmocka_unit_test(test_hello_retry_request),
		cmocka_unit_test(test_wrong_direction_ignored),
		cmocka_unit_test(test_first_client_hello_wins),
		cmocka_unit_test(test_tls12_client_flight),
		cmocka_unit_test(test_appdata_heartbeat_empty_records),
		cmocka_unit_test(test_certificate_edge_cases),
		cmocka_unit_test(test_malformed_server_hello),
		cmocka_unit_test(test_reverse_segments_through_reasm),
		cmocka_unit_test(test_names_and_looks_like),
		cmocka_unit_test(test_max_msg_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
