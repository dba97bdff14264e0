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
#include "record.h"
#include "summary.h"
#include "tls.h"

/* The summary is driven as the run drives it: through its sink, with
 * records, its table printed at finish into a memory stream. */
struct summary {
	struct sink sk;
	FILE *out;
	char *buf;
	size_t len;
};

static struct summary *summary_new(const struct hseed *seed)
{
	struct summary *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->out = open_memstream(&s->buf, &s->len);
	assert_non_null(s->out);
	s->sk = summary_sink(s->out, seed);
	assert_non_null(s->sk.ctx);
	return s;
}

static void summary_free(struct summary *s)
{
	s->sk.ops->free(s->sk.ctx);
	fclose(s->out);
	free(s->buf);
	free(s);
}

/* One flow to sni (NULL: none, counted under the server address). */
static void add(struct summary *s, const char *sni, enum verdict v)
{
	static struct tls_info ti;
	struct flow_record r;
	memset(&r, 0, sizeof(r));
	r.srv.v4 = 1;
	r.srv.a[10] = r.srv.a[11] = 0xff;
	r.srv.a[12] = 203;
	r.srv.a[14] = 113;
	r.srv.a[15] = 7;
	r.sport = 443;
	if (sni) {
		memset(&ti, 0, sizeof(ti));
		ti.sni_present = 1;
		ti.sni_len = (uint16_t)strlen(sni);
		ti.sni = (char *)sni;
		r.tls = &ti;
	}
	r.vr.verdict = v;
	s->sk.ops->flow(s->sk.ctx, &r);
}

/* The table the sink prints at the end of the run. */
static char *print(struct summary *s)
{
	struct run_end end;
	struct sinks one = { .s = { s->sk }, .n = 1 };
	memset(&end, 0, sizeof(end));
	fflush(s->out);
	size_t from = s->len;
	assert_int_equal(sinks_finish(&one, &end), 0);
	fflush(s->out);
	return strndup(s->buf + from, s->len - from);
}

/* Flows counted under the "(other)" row of a printed table. */
static unsigned long long other_flows(const char *t)
{
	const char *o = strstr(t, "(other)");
	return o ? strtoull(o + strlen("(other)"), NULL, 10) : 0;
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
	assert_int_equal(other_flows(t), 0);
	free(t);
	summary_free(s);
}

/* Past SUMMARY_MAX_NAMES names, new names share the "(other)" row, which
 * counts their flows; known names still get their own. */
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
	char *t = print(s);
	assert_int_equal(other_flows(t), 3);
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
