/* test_scanner.c - who is scanning: an nmap-style SYN scan is, a busy
 * browser, a censored user retrying and a client behind a slow network
 * are not; the cap is counted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "scanner.h"

#define T0 1700000000000000ULL
#define MS 1000ULL

static struct ts_addr addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct ts_addr x;
	memset(&x, 0, sizeof(x));
	x.a[10] = x.a[11] = 0xff;
	x.a[12] = a;
	x.a[13] = b;
	x.a[14] = c;
	x.a[15] = d;
	x.v4 = 1;
	return x;
}

static struct scanners *mk(void)
{
	struct hseed seed;
	hseed_draw(&seed);
	struct scanners *s = scanners_new(0, &seed);
	assert_non_null(s);
	return s;
}

/* 2000 SYNs to one host's ports in 23 s, a handful answered. */
static void test_nmap_syn_scan(void **state)
{
	(void)state;
	struct scanners *s = mk();
	struct ts_addr me = addr(198, 18, 9, 9), target = addr(198, 19, 9, 9);
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t t = T0 + i * 23000000ULL / 2000;
		scanners_attempt(s, &me, &target, (uint16_t)(1 + i), t);
		if (i % 200 == 0)
			scanners_answered(s, &me, t + 1 * MS);
	}
	uint64_t end = T0 + 30000 * MS;
	assert_true(scanners_is_scanner(s, &me, T0 + 5000 * MS, end));
	assert_true(scanners_is_scanner(s, &me, T0, end));
	/* a flow of that client long after the scan is not marked */
	assert_false(scanners_is_scanner(s, &me, T0 + 3600000 * MS, T0 + 3700000 * MS));
	assert_int_equal(scanners_stats(s)->scanners, 1);
	scanners_free(s);
}

/* A horizontal scan: one port on 300 addresses, none answered. */
static void test_horizontal_scan(void **state)
{
	(void)state;
	struct scanners *s = mk();
	struct ts_addr me = addr(198, 18, 9, 10);
	for (unsigned i = 0; i < 300; i++) {
		struct ts_addr t = addr(198, 19, (uint8_t)(i / 256), (uint8_t)i);
		scanners_attempt(s, &me, &t, 443, T0 + i * 10 * MS);
	}
	assert_true(scanners_is_scanner(s, &me, T0, T0 + 10000 * MS));
	scanners_free(s);
}

/* A browser opening 150 connections to 150 servers in two seconds: every
 * one answered a round trip later. */
static void test_busy_browser(void **state)
{
	(void)state;
	struct scanners *s = mk();
	struct ts_addr me = addr(198, 18, 1, 10);
	for (unsigned i = 0; i < 150; i++) {
		struct ts_addr t = addr(198, 19, 1, (uint8_t)i);
		scanners_attempt(s, &me, &t, 443, T0 + i * 13 * MS);
	}
	for (unsigned i = 0; i < 150; i++)
		scanners_answered(s, &me, T0 + i * 13 * MS + 80 * MS);
	assert_false(scanners_is_scanner(s, &me, T0, T0 + 6000 * MS));
	assert_int_equal(scanners_stats(s)->scanners, 0);
	scanners_free(s);
}

/* A censored user: 200 attempts, nothing answered, but to three targets. */
static void test_censored_user_retrying(void **state)
{
	(void)state;
	struct scanners *s = mk();
	struct ts_addr me = addr(198, 18, 1, 11);
	struct ts_addr t[3] = { addr(198, 19, 1, 1), addr(198, 19, 1, 2), addr(198, 19, 1, 3) };
	for (unsigned i = 0; i < 200; i++)
		scanners_attempt(s, &me, &t[i % 3], 443, T0 + i * 200 * MS);
	assert_false(scanners_is_scanner(s, &me, T0, T0 + 50000 * MS));
	scanners_free(s);
}

/* Answers come a round trip late: the window is judged only after the
 * grace period, so a burst is not mistaken while its answers are due. */
static void test_answers_arrive_late(void **state)
{
	(void)state;
	struct scanners *s = mk();
	struct ts_addr me = addr(198, 18, 1, 12);
	for (unsigned i = 0; i < 120; i++) {
		struct ts_addr t = addr(198, 19, 2, (uint8_t)i);
		scanners_attempt(s, &me, &t, 443, T0 + i * MS);
	}
	/* asked before the answers: too early to judge */
	assert_false(scanners_is_scanner(s, &me, T0, T0 + 200 * MS));
	for (unsigned i = 0; i < 120; i++)
		scanners_answered(s, &me, T0 + 300 * MS + i * MS);
	assert_false(scanners_is_scanner(s, &me, T0, T0 + 10000 * MS));
	scanners_free(s);
}

static void test_cap_counted(void **state)
{
	(void)state;
	struct hseed seed;
	hseed_draw(&seed);
	struct scanners *s = scanners_new(4, &seed);
	assert_non_null(s);
	struct ts_addr srv = addr(198, 19, 0, 1);
	for (uint8_t i = 0; i < 10; i++) {
		struct ts_addr c = addr(198, 18, 0, i);
		scanners_attempt(s, &c, &srv, 443, T0);
	}
	assert_int_equal(scanners_stats(s)->clients, 4);
	assert_int_equal(scanners_stats(s)->clients_dropped, 6);
	scanners_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nmap_syn_scan),
		cmocka_unit_test(test_horizontal_scan),
		cmocka_unit_test(test_busy_browser),
		cmocka_unit_test(test_censored_user_retrying),
		cmocka_unit_test(test_answers_arrive_late),
		cmocka_unit_test(test_cap_counted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
