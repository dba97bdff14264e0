/* test_tls_hdr.c - the quick first-bytes check (tls_looks_like_tls) and the
 * parser (tls_feed) share their header rules; these tests hold them to the
 * same answer on every content type, record version, SSLv2 head and SSLv2
 * hello version, so a change to one side alone fails here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "tls.h"

/* Version majors worth sweeping every minor of: SSL 2/3, the TLS 1.3
 * drafts (0x7f), and values either side of them. */
static const uint8_t majors[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0xfe, 0xff };

/* Did the first record header stop the parser as not TLS? */
static bool parser_takes(bool is_server, const uint8_t *d, size_t n)
{
	struct tls_parser p;
	struct tls_info ti;
	bool ok;

	memset(&ti, 0, sizeof(ti));
	tls_parser_init(&p, is_server, 0);
	tls_feed(&p, &ti, d, n);
	ok = p.error == TLS_ERR_NONE;
	tls_parser_release(&p);
	tls_info_release(&ti);
	return ok;
}

/* Every content type below the SSLv2 bit with every swept version; a
 * one-byte record so the length never decides. */
static void test_record_header_agrees(void **state)
{
	(void)state;
	unsigned yes = 0;

	for (unsigned type = 0; type < 0x80; type++)
		for (size_t i = 0; i < sizeof(majors); i++)
			for (unsigned minor = 0; minor < 256; minor++) {
				uint8_t h[5] = { (uint8_t)type, majors[i],
						 (uint8_t)minor, 0, 1 };
				bool quick = tls_looks_like_tls(h, sizeof(h));

				assert_int_equal(quick, parser_takes(false, h, sizeof(h)));
				yes += quick;
			}
	/* Five content types times SSL 3.0 .. TLS 1.3. */
	assert_int_equal(yes, 5 * 5);
}

/* SSLv2 heads: every 15-bit length with CLIENT-HELLO and other types. */
static void test_sslv2_head_agrees(void **state)
{
	(void)state;
	static const uint8_t types[] = { 0, 1, 2, 4, 0x16, 0xff };
	unsigned yes = 0;

	for (unsigned len = 0; len < 0x8000; len++)
		for (size_t i = 0; i < sizeof(types); i++) {
			uint8_t h[3] = { (uint8_t)(0x80 | (len >> 8)),
					 (uint8_t)len, types[i] };
			bool quick = tls_looks_like_tls(h, sizeof(h));

			assert_int_equal(quick, parser_takes(false, h, sizeof(h)));
			yes += quick;
		}
	/* CLIENT-HELLO with any length from its 9-byte fixed part up. */
	assert_int_equal(yes, 0x8000 - 9);
}

/* A well-formed SSLv2 CLIENT-HELLO with the given version: 3-byte cipher
 * spec, no session id, 16-byte challenge. */
static size_t sslv2_hello(uint8_t *b, uint16_t version)
{
	static const uint8_t fixed[] = { 0x00, 0x03, 0x00, 0x00, 0x00, 0x10 };
	size_t n = 0;

	b[n++] = 0x80;
	b[n++] = 9 + 3 + 16;
	b[n++] = 1;
	b[n++] = (uint8_t)(version >> 8);
	b[n++] = (uint8_t)version;
	memcpy(b + n, fixed, sizeof(fixed));
	n += sizeof(fixed);
	memset(b + n, 0x2f, 3 + 16);
	return n + 3 + 16;
}

static void test_sslv2_version_agrees(void **state)
{
	(void)state;
	unsigned yes = 0;

	for (size_t i = 0; i < sizeof(majors); i++)
		for (unsigned minor = 0; minor < 256; minor++) {
			uint8_t b[64];
			size_t n = sslv2_hello(b, (uint16_t)(majors[i] << 8 | minor));
			bool quick = tls_looks_like_tls(b, n);
			struct tls_parser p;
			struct tls_info ti;
			unsigned ev;

			memset(&ti, 0, sizeof(ti));
			tls_parser_init(&p, false, 0);
			ev = tls_feed(&p, &ti, b, n);
			assert_int_equal(quick, (ev & TLS_EV_CLIENT_HELLO) != 0);
			tls_parser_release(&p);
			yes += quick;
		}
	/* 0x0002 and all of 0x03xx. */
	assert_int_equal(yes, 1 + 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_header_agrees),
		cmocka_unit_test(test_sslv2_head_agrees),
		cmocka_unit_test(test_sslv2_version_agrees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
