/* test_testlist.c - Citizen Lab test lists: quoted fields, bad lines reported
 * with their line numbers and skipped, URL to domain, parent-domain lookup,
 * caps and their counters, seeded lookup, hostile and truncated input, the
 * shipped sample list. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "htab.h"
#include "testlist.h"

struct bad_log {
	unsigned long line[32];
	char why[32][80];
	int n;
};

static void on_bad(void *arg, unsigned long line, const char *why)
{
	struct bad_log *b = arg;
	if (b->n < 32) {
		b->line[b->n] = line;
		snprintf(b->why[b->n], sizeof(b->why[0]), "%s", why);
		b->n++;
	}
}

static struct testlist *load(const char *text, struct bad_log *bad)
{
	struct testlist *tl = testlist_new(NULL);
	assert_non_null(tl);
	memset(bad, 0, sizeof(*bad));
	assert_int_equal(testlist_load_buffer(tl, text, strlen(text), on_bad, bad), 0);
	return tl;
}

static void test_quoted_fields(void **state)
{
	const char *csv =
		"\xef\xbb\xbfurl,category_code,category_description,date_added,source,notes\r\n"
		"https://kloop.kg/,NEWS,\"News Media, regional\",2023-10-05,x,\r\n"
		"\"https://www.vlast.kz/\",NEWS,News Media,2023-10-05,x,\"said \"\"blocked\"\"\"\n"
		"https://protonvpn.com/,ANON,\"Anonymization and\ncircumvention tools\",2024-01-01,x,\"multi\nline\nnote\"\n"
		"https://www.hrw.org/,humr,Human Rights Issues,2024-01-01,x,\n"
		"# a comment line\n"
		"\n"
		"https://nordvpn.com/,ANON,,,,\n";
	struct bad_log bad;
	struct testlist *tl = load(csv, &bad);
	assert_int_equal(bad.n, 0);
	const struct testlist_stats *st = testlist_stats(tl);
	assert_int_equal(st->records, 5);
	assert_int_equal(st->domains, 5);
	assert_string_equal(testlist_category(tl, "kloop.kg"), "NEWS");
	assert_string_equal(testlist_category(tl, "vlast.kz"), "NEWS");
	assert_string_equal(testlist_category(tl, "www.vlast.kz"), "NEWS");
	assert_string_equal(testlist_category(tl, "protonvpn.com"), "ANON");
	assert_string_equal(testlist_category(tl, "hrw.org"), "HUMR"); /* upper-cased */
	assert_string_equal(testlist_category(tl, "nordvpn.com"), "ANON");

	assert_int_equal(testlist_n_categories(tl), 3);
	const char *code, *desc;
	uint64_t n;
	testlist_category_at(tl, 0, &code, &desc, &n);
	assert_string_equal(code, "NEWS");
	assert_string_equal(desc, "News Media, regional");
	assert_int_equal(n, 2);
	testlist_category_at(tl, 1, &code, &desc, &n);
	assert_string_equal(code, "ANON");
	assert_string_equal(desc, "Anonymization and?circumvention tools"); /* printable only */
	assert_int_equal(n, 2);
	testlist_category_at(tl, 2, &code, &desc, &n);
	assert_string_equal(code, "HUMR");
	assert_int_equal(n, 1);
	testlist_category_at(tl, 3, &code, &desc, &n);
	assert_null(code);
	testlist_free(tl);
}

/* Bad records are reported with the line they start on and skipped; the
 * good ones around them are kept. */
static void test_bad_lines_reported_not_fatal(void **state)
{
	const char *csv =
		"url,category_code,category_description,date_added,source,notes\n" /* 1 */
		"https://good1.kz/,NEWS,x,,,\n"                                    /* 2 */
		"https://nocategory.kz/\n"                                         /* 3 */
		"https:///path-only,NEWS,x,,,\n"                                   /* 4 */
		"https://good2.kz/,NE WS,x,,,\n"                                   /* 5 */
		"\"https://tail.kz/\"x,NEWS,,,,\n"                                 /* 6 */
		"https://bad\"quote.kz/,NEWS,,,,\n"                                /* 7 */
		"https://ex ample.kz/,NEWS,,,,\n"                                  /* 8 */
		"https://under_score.kz/,POLR,,,,\n"                               /* 9 */
		"https://good3.kz/,HUMR,\"unterminated,,,\n"                       /* 10 */
		"https://good4.kz/,ANON,,,,\n"                                     /* 11 */
		"https://a..b.kz/,NEWS,,,,\n"                                      /* 12 */
		"https://good5.kz:99x/,NEWS,,,,\n";                                /* 13 */
	struct bad_log bad;
	struct testlist *tl = load(csv, &bad);
	unsigned long want_lines[] = { 3, 4, 5, 6, 7, 8, 10, 12, 13 };
	assert_int_equal(bad.n, 9);
	for (int i = 0; i < 9; i++)
		assert_int_equal(bad.line[i], want_lines[i]);
	assert_non_null(strstr(bad.why[0], "fewer than 2 fields"));
	assert_non_null(strstr(bad.why[1], "without a host"));
	assert_non_null(strstr(bad.why[2], "category_code"));
	assert_non_null(strstr(bad.why[3], "after a closing quote"));
	assert_non_null(strstr(bad.why[4], "quote inside"));
	assert_non_null(strstr(bad.why[5], "not allowed"));
	assert_non_null(strstr(bad.why[6], "unterminated"));
	assert_non_null(strstr(bad.why[7], "empty label"));
	assert_non_null(strstr(bad.why[8], "port"));
	assert_int_equal(testlist_stats(tl)->bad, 9);
	/* the unterminated quote did not swallow the next line */
	assert_string_equal(testlist_category(tl, "good1.kz"), "NEWS");
	assert_string_equal(testlist_category(tl, "good4.kz"), "ANON");
	assert_string_equal(testlist_category(tl, "under_score.kz"), "POLR");
	assert_null(testlist_category(tl, "good3.kz"));
	assert_null(testlist_category(tl, "good2.kz"));
	testlist_free(tl);
}

static void expect_domain(const char *url, const char *want)
{
	char out[256];
	const char *why = NULL;
	if (want) {
		assert_int_equal(testlist_url_domain(url, out, sizeof(out), &why), 0);
		assert_string_equal(out, want);
	} else {
		assert_int_equal(testlist_url_domain(url, out, sizeof(out), &why), -1);
		assert_non_null(why);
	}
}

static void test_url_domain(void **state)
{
	expect_domain("https://www.Kloop.KG/news?id=1#top", "kloop.kg");
	expect_domain("http://user:pw@vlast.kz:8080/a@b", "vlast.kz");
	expect_domain("protonvpn.com", "protonvpn.com");
	expect_domain("  https://rus.azattyq.org/", "rus.azattyq.org");
	expect_domain("https://example.org./", "example.org");
	expect_domain("https://www.com/", "www.com");
	expect_domain("http://[2001:DB8::1]:443/", "2001:db8::1");
	expect_domain("http://192.0.2.1/", "192.0.2.1");
	expect_domain("https://xn--80ak6aa92e.com/", "xn--80ak6aa92e.com");
	expect_domain("https:///x", NULL);
	expect_domain("", NULL);
	expect_domain("https://a..b/", NULL);
	expect_domain("https://.a.b/", NULL);
	expect_domain("ht tp://x.y/", NULL);
	expect_domain("https://[2001:db8::1/", NULL);
	expect_domain("https://\xd0\xbf\xd1\x80.kz/", NULL);
	char longhost[400];
	memset(longhost, 'a', sizeof(longhost) - 1);
	longhost[sizeof(longhost) - 1] = '\0';
	expect_domain(longhost, NULL);
	char out[8];
	const char *why;
	assert_int_equal(testlist_url_domain("https://toolong.example/", out, sizeof(out), &why),
			 -1);
	/* each malformed authority says why */
	static const struct {
		const char *url, *why;
	} bad[] = {
		{ "https://[2001:db8::1/", "unterminated IPv6 literal" },
		{ "https://[2001:db8::g]/", "bad IPv6 literal" },
		{ "https://a.kz:44x/", "bad port" },
		{ "https://a!.kz/", "host has bytes not allowed in a domain name" },
		{ "https://:443/", "URL without a host" },
	};
	char dom[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(testlist_url_domain(bad[i].url, dom, sizeof(dom), &why), -1);
		assert_string_equal(why, bad[i].why);
	}
}

static void test_parent_lookup_and_duplicates(void **state)
{
	const char *csv =
		"https://kloop.kg/,NEWS,,,,\n"
		"https://kloop.kg/ru/,POLR,,,,\n"  /* duplicate: the first category stays */
		"https://WWW.KLOOP.KG/,HUMR,,,,\n" /* the same after normalisation */
		"https://vpn.example/,ANON,,,,\n";
	struct bad_log bad;
	struct testlist *tl = load(csv, &bad);
	assert_int_equal(bad.n, 0);
	assert_int_equal(testlist_stats(tl)->duplicates, 2);
	assert_int_equal(testlist_stats(tl)->domains, 2);
	assert_string_equal(testlist_category(tl, "cdn.www.kloop.kg"), "NEWS");
	assert_string_equal(testlist_category(tl, "KLOOP.KG."), "NEWS");
	assert_null(testlist_category(tl, "notkloop.kg"));  /* no match inside a label */
	assert_null(testlist_category(tl, "kg"));
	assert_null(testlist_category(tl, ""));
	assert_null(testlist_category(tl, "."));
	assert_string_equal(testlist_category(tl, "a.b.c.d.e.f.vpn.example"), "ANON");
	/* duplicate rows add no category */
	assert_int_equal(testlist_n_categories(tl), 2);
	testlist_free(tl);
}

/* Every prefix of a valid list, and random bytes: no crash, no overread
 * (ASan), counts stay consistent. */
static void test_truncated_and_hostile_input(void **state)
{
	const char *csv =
		"url,category_code,category_description,date_added,source,notes\n"
		"\"https://a.kz/\",NEWS,\"x, \"\"y\"\"\",2024-01-01,s,\"n\nm\"\n"
		"https://b.kz/,ANON,,,,\r\n";
	size_t len = strlen(csv);
	for (size_t cut = 0; cut <= len; cut++) {
		struct testlist *tl = testlist_new(NULL);
		char *copy = malloc(cut + 1);
		memcpy(copy, csv, cut);
		assert_int_equal(testlist_load_buffer(tl, copy, cut, NULL, NULL), 0);
		const struct testlist_stats *st = testlist_stats(tl);
		assert_true(st->domains + st->duplicates + st->dropped_cap <= st->records);
		assert_true(st->domains <= 2);
		free(copy);
		testlist_free(tl);
	}
	uint64_t seed = 42;
	char buf[512];
	for (int iter = 0; iter < 2000; iter++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			static const char alphabet[] = "\",\n\r#abc.:/@[]\0 NEWS";
			buf[i] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
		}
		struct testlist *tl = testlist_new(NULL);
		struct bad_log bad;
		memset(&bad, 0, sizeof(bad));
		assert_int_equal(testlist_load_buffer(tl, buf, sizeof(buf), on_bad, &bad), 0);
		testlist_free(tl);
	}
	/* a NUL byte inside a field is a bad line, not a silently cut field */
	const char nul[] = "https://a.kz/,NE\0WS,,,,\nhttps://b.kz/,NEWS,,,,\n";
	struct testlist *tl = testlist_new(NULL);
	struct bad_log bad;
	memset(&bad, 0, sizeof(bad));
	testlist_load_buffer(tl, nul, sizeof(nul) - 1, on_bad, &bad);
	assert_int_equal(bad.n, 1);
	assert_string_equal(bad.why[0], "NUL byte");
	assert_string_equal(testlist_category(tl, "b.kz"), "NEWS");
	testlist_free(tl);
}

static void test_field_caps(void **state)
{
	size_t big = TESTLIST_MAX_FIELD + 100;
	char *csv = malloc(big + 64);
	strcpy(csv, "https://a.kz/,NEWS,");
	size_t l = strlen(csv);
	memset(csv + l, 'x', big);
	strcpy(csv + l + big, "\nhttps://b.kz/,ANON,,,,\n");
	struct bad_log bad;
	struct testlist *tl = load(csv, &bad);
	assert_int_equal(bad.n, 1);
	assert_string_equal(bad.why[0], "field too long");
	assert_int_equal(bad.line[0], 1);
	assert_string_equal(testlist_category(tl, "b.kz"), "ANON");
	testlist_free(tl);

	/* too many fields */
	char many[512] = "https://c.kz/,NEWS";
	for (int i = 0; i < TESTLIST_MAX_FIELDS + 2; i++)
		strcat(many, ",");
	strcat(many, "\n");
	tl = load(many, &bad);
	assert_int_equal(bad.n, 1);
	assert_string_equal(bad.why[0], "too many fields");
	testlist_free(tl);
	free(csv);
}

/* TESTLIST_MAX_CATEGORIES and TESTLIST_MAX_DOMAINS: records past either cap
 * are dropped and counted, the rest still load. */
static void test_table_caps(void **state)
{
	size_t cap = (size_t)(TESTLIST_MAX_DOMAINS + 300) * 32;
	char *csv = malloc(cap);
	size_t len = 0;
	for (int i = 0; i < TESTLIST_MAX_CATEGORIES + 2; i++)
		len += (size_t)snprintf(csv + len, cap - len, "https://c%d.kz/,C%d\n", i, i);
	for (int i = 0; len < cap - 64 && i < TESTLIST_MAX_DOMAINS; i++)
		len += (size_t)snprintf(csv + len, cap - len, "https://d%d.kz/,C0\n", i);
	struct testlist *tl = testlist_new(NULL);
	assert_int_equal(testlist_load_buffer(tl, csv, len, NULL, NULL), 0);
	const struct testlist_stats *st = testlist_stats(tl);
	assert_int_equal(testlist_n_categories(tl), TESTLIST_MAX_CATEGORIES);
	assert_int_equal(st->domains, TESTLIST_MAX_DOMAINS);
	/* two categories, and the domains past the cap */
	assert_int_equal(st->dropped_cap, st->records - TESTLIST_MAX_DOMAINS);
	assert_true(st->dropped_cap > 2);
	assert_string_equal(testlist_category(tl, "www.d0.kz"), "C0");
	assert_null(testlist_category(tl, "c257.kz"));
	testlist_free(tl);
	free(csv);
}

/* Lookups do not depend on the hash seed. */
static void test_seeded_lookup(void **state)
{
	static const struct hseed seeds[2] = { { { 1, 2 } }, { { 0x9e3779b97f4a7c15ull, 7 } } };
	const char *csv = "https://kloop.kg/,NEWS,,,,\nhttps://vpn.example/,ANON,,,,\n";
	for (int k = 0; k < 2; k++) {
		struct testlist *tl = testlist_new(&seeds[k]);
		assert_int_equal(testlist_load_buffer(tl, csv, strlen(csv), NULL, NULL), 0);
		assert_string_equal(testlist_category(tl, "a.kloop.kg"), "NEWS");
		assert_string_equal(testlist_category(tl, "vpn.example"), "ANON");
		assert_null(testlist_category(tl, "example"));
		testlist_free(tl);
	}
}

static void test_load_file(void **state)
{
	struct testlist *tl = testlist_new(NULL);
	char err[256] = "";
	assert_int_equal(testlist_load_file(tl, "/nonexistent/list.csv", NULL, NULL, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/list.csv"));
	testlist_free(tl);

	/* the sample list shipped in data/: 17 NEWS, 4 HUMR, 73 ANON, no bad line */
	const char *srcdir = getenv("srcdir");
	char path[512];
	snprintf(path, sizeof(path), "%s/data/testlist-kz.csv", srcdir ? srcdir : ".");
	if (access(path, R_OK) != 0) {
		print_message("# skip: %s not readable\n", path);
		skip();
	}
	tl = testlist_new(NULL);
	struct bad_log bad;
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(testlist_load_file(tl, path, on_bad, &bad, err, sizeof(err)), 0);
	assert_int_equal(bad.n, 0);
	assert_int_equal(testlist_stats(tl)->duplicates, 0);
	assert_int_equal(testlist_stats(tl)->domains, 94);
	uint64_t news = 0, humr = 0, anon = 0;
	for (unsigned i = 0; i < testlist_n_categories(tl); i++) {
		const char *code, *desc;
		uint64_t n;
		testlist_category_at(tl, i, &code, &desc, &n);
		if (strcmp(code, "NEWS") == 0)
			news = n;
		else if (strcmp(code, "HUMR") == 0)
			humr = n;
		else if (strcmp(code, "ANON") == 0)
			anon = n;
	}
	assert_int_equal(news, 17);
	assert_int_equal(humr, 4);
	assert_int_equal(anon, 73);
	assert_string_equal(testlist_category(tl, "kloop.kg"), "NEWS");
	assert_string_equal(testlist_category(tl, "protonvpn.com"), "ANON");
	testlist_free(tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_bad_lines_reported_not_fatal),
		cmocka_unit_test(test_url_domain),
		cmocka_unit_test(test_parent_lookup_and_duplicates),
		cmocka_unit_test(test_truncated_and_hostile_input),
		cmocka_unit_test(test_field_caps),
		cmocka_unit_test(test_table_caps),
		cmocka_unit_test(test_seeded_lookup),
		cmocka_unit_test(test_load_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
