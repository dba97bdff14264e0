/* test_dns.c - the DNS message parser (RFC 1035 section 4): answers,
 * compression, EDNS0's extended rcode; hostile names (pointer loops,
 * forward pointers, label overflow, reserved label types) malformed and
 * named; a message cut anywhere truncated, never malformed, never read
 * past its end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "verdict_dns.h"

static const uint8_t hdr_resp[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1 };

/* www.example.com A, answers: CNAME to cdn (compressed), A 198.18.0.7; OPT
 * with extended rcode 1 (BADVERS: rcode 16). */
static size_t answer(uint8_t *b)
{
	size_t n = 0;
	memcpy(b, hdr_resp, sizeof(hdr_resp));
	n += sizeof(hdr_resp);
	static const uint8_t q[] = { 3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	memcpy(b + n, q, sizeof(q));
	n += sizeof(q);
	static const uint8_t cname[] = { 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'c', 'd', 'n', 0xc0, 16 };
	memcpy(b + n, cname, sizeof(cname));
	n += sizeof(cname);
	static const uint8_t a[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 198, 18, 0, 7 };
	memcpy(b + n, a, sizeof(a));
	n += sizeof(a);
	static const uint8_t opt[] = { 0, 0, 41, 0x10, 0, 1, 0, 0x80, 0, 0, 0 };
	memcpy(b + n, opt, sizeof(opt));
	return n + sizeof(opt);
}

static void test_answer(void **state)
{
	(void)state;
	uint8_t b[256];
	struct dns_msg m;
	size_t n = answer(b);
	assert_int_equal(dns_parse(b, n, &m), DNS_OK);
	assert_true(m.qr);
	assert_string_equal(m.qname, "www.example.com");
	assert_int_equal(m.qtype, DNS_TYPE_A);
	assert_string_equal(m.cname, "cdn.example.com");
	assert_int_equal(m.n_addrs, 1);
	assert_int_equal(m.addrs[0].a[15], 7);
	assert_int_equal(m.min_ttl, 60);
	assert_true(m.edns);
	assert_int_equal(m.edns_udp_size, 4096);
	assert_true(m.edns_do);
	assert_int_equal(m.rcode, 16);
}

static void test_every_cut_truncated(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = answer(b);
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees any overrun */
		memcpy(copy, b, cut);
		struct dns_msg m;
		assert_int_equal(dns_parse(copy, cut, &m), DNS_TRUNCATED);
		free(copy);
	}
}

static enum dns_result one(const uint8_t *name, size_t len, struct dns_msg *m)
{
	uint8_t b[600];
	memcpy(b, hdr_resp, sizeof(hdr_resp));
	b[7] = 0;
	b[11] = 0;
	memcpy(b + 12, name, len);
	memcpy(b + 12 + len, "\0\1\0\1", 4);
	return dns_parse(b, 12 + len + 4, m);
}

static void test_hostile_names(void **state)
{
	(void)state;
	struct dns_msg m;
	static const uint8_t self[] = { 0xc0, 12 };
	assert_int_equal(one(self, sizeof(self), &m), DNS_MALFORMED);
	assert_int_equal(m.bad, DNSB_POINTER_LOOP);
	static const uint8_t back[] = { 1, 'a', 0xc0, 12 }; /* points to its own first label */
	assert_int_equal(one(back, sizeof(back), &m), DNS_MALFORMED);
	assert_int_equal(m.bad, DNSB_POINTER_LOOP);
	static const uint8_t type40[] = { 0x41, 'a', 0 };
	assert_int_equal(one(type40, sizeof(type40), &m), DNS_MALFORMED);
	assert_int_equal(m.bad, DNSB_LABEL_TYPE);
	uint8_t longname[300];
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		longname[n++] = 63;
		memset(longname + n, 'a', 63);
		n += 63;
	}
	longname[n++] = 0;
	assert_int_equal(one(longname, n, &m), DNS_MALFORMED);
	assert_int_equal(m.bad, DNSB_NAME_TOO_LONG);
	assert_string_equal(dns_bad_name(DNSB_NAME_TOO_LONG), "name_too_long");
}

static void test_qdcount_and_rdlength(void **state)
{
	(void)state;
	uint8_t b[256];
	struct dns_msg m;
	size_t n = answer(b);
	b[5] = 2;
	assert_int_equal(dns_parse(b, n, &m), DNS_MALFORMED);
	assert_int_equal(m.bad, DNSB_QDCOUNT);
	n = answer(b);
	/* the A record's rdlength (offset: header 12 + question 21 + CNAME 18 + 10) */
	b[12 + 21 + 18 + 11] = 5;
	enum dns_result r = dns_parse(b, n, &m);
	assert_true(r == DNS_MALFORMED || r == DNS_TRUNCATED);
}

static void test_bogon_and_public(void **state)
{
	(void)state;
	struct ts_addr a = { .v4 = 1 };
	a.a[10] = a.a[11] = 0xff;
	a.a[12] = 10;
	assert_true(dns_addr_is_bogon(&a));
	a.a[12] = 198;
	a.a[13] = 18;
	assert_false(dns_addr_is_bogon(&a));
	assert_true(dns_name_is_public("kloop.kg"));
	assert_false(dns_name_is_public("news.example"));
	assert_false(dns_name_is_public("printer.local"));
	assert_false(dns_name_is_public("localhost"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer),
		cmocka_unit_test(test_every_cut_truncated),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_qdcount_and_rdlength),
		cmocka_unit_test(test_bogon_and_public),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
