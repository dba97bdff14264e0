/* test_summary.c - the per-name summary table: flows counted per name or
 * server address, hostile names made printable, the name cap and its
 * "(other)" row, and a table whose output does not depend on the seed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"
#include "summary.h"
#include "tls.h"

/* One flow to sni (NULL: none, counted under the server address). */
static void add(struct summary *s, const char *sni, enum verdict v)
{
	static struct tls_info ti;
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.srv.v4 = 1;
	f.srv.a[10] = f.srv.a[11] = 0xff;
	f.srv.a[12] = 203;
	f.srv.a[14] = 113;
	f.srv.a[15] = 7;
	f.sport = 443;
	if (sni) {
		memset(&ti, 0, sizeof(ti));
		ti.sni_present = 1;
		ti.sni_len = (uint16_t)strlen(sni);
		memcpy(ti.sni, sni, ti.sni_len);
		f.tls = &ti;
	}
	struct verdict_result vr;
	memset(&vr, 0, sizeof(vr));
	vr.verdict = v;
	summary_add(s, &f, &vr);
}

static char *print(const struct summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	summary_print(s, f);
	fclose(f);
	return buf;
}

static void test_rows_per_name(void **state)
{
	(void)state;
	struct summary *s = summary_new(NULL);
	assert_non_null(s);
	add(s, "kloop.kg", V_TLS_STALL);
	add(s, "kloop.kg", V_TLS_STALL);
	add(s, "vlast.kz", V_OK);
	add(s, "evil\x1b[2J", V_OK);
	add(s, NULL, V_SYN_TIMEOUT);
	char *t = print(s);
	assert_non_null(strstr(t, "kloop.kg"));
	assert_non_null(strstr(t, "203.0.113.7:443"));
	assert_non_null(strstr(t, "evil?[2J"));  /* no escape reaches the terminal */
	assert_null(strchr(t, '\x1b'));
	/* interference first: kloop.kg's row comes before vlast.kz's */
	assert_true(strstr(t, "kloop.kg") < strstr(t, "vlast.kz"));
	assert_int_equal(summary_overflow(s), 0);
	free(t);
	summary_free(s);
}

/* Past SUMMARY_MAX_NAMES names, new names share the "(other)" row and
 * summary_overflow counts their flows; known names still get their own. */
static void test_name_cap_counts_other(void **state)
{
	(void)state;
	struct summary *s = summary_new(NULL);
	char name[32];
	for (int i = 0; i < SUMMARY_MAX_NAMES + 3; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add(s, name, V_OK);
	}
	add(s, "n0.example", V_TLS_RESET);
	assert_int_equal(summary_overflow(s), 3);
	char *t = print(s);
	assert_non_null(strstr(t, "(other)"));
	/* n0.example has the only interference flow: it sorts first */
	assert_true(strstr(t, "n0.example ") < strstr(t, "n1.example "));
	free(t);
	summary_free(s);
}

/* The same flows under two seeds print the same table. */
static void test_seed_does_not_change_output(void **state)
{
	(void)state;
	static const struct hseed s1 = { { 1, 2 } }, s2 = { { 3, 0x9e3779b97f4a7c15ull } };
	char *text[2];
	char name[32];
	for (int k = 0; k < 2; k++) {
		struct summary *s = summary_new(k ? &s2 : &s1);
		for (int i = 0; i < 3000; i++) {
			snprintf(name, sizeof(name), "n%d.example", i * 7919 % 1000);
			add(s, name, i % 5 ? V_OK : V_TLS_STALL);
		}
		text[k] = print(s);
		summary_free(s);
	}
	assert_string_equal(text[0], text[1]);
	free(text[0]);
	free(text[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_per_name),
		cmocka_unit_test(test_name_cap_counts_other),
		cmocka_unit_test(test_seed_does_not_change_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
