/* test_json.c - the JSON writer: nesting, commas, escaping of hostile bytes;
 * and the time and hex formatting (util.c) that events are written with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "util.h"

static void test_nesting_and_commas(void **state)
{
	struct json j;
	json_init(&j);
	json_obj_open(&j, NULL);
	json_str(&j, "a", "x");
	json_int(&j, "b", -3);
	json_arr_open(&j, "c");
	json_uint(&j, NULL, 1);
	json_bool(&j, NULL, true);
	json_null(&j, NULL);
	json_arr_close(&j);
	json_obj_open(&j, "d");
	json_obj_close(&j);
	json_arr_open(&j, "e");
	json_arr_close(&j);
	json_obj_close(&j);
	assert_string_equal(j.buf, "{\"a\":\"x\",\"b\":-3,\"c\":[1,true,null],\"d\":{},\"e\":[]}");
	json_reset(&j);
	json_obj_open(&j, NULL);
	json_str(&j, "k", NULL);
	json_obj_close(&j);
	assert_string_equal(j.buf, "{\"k\":null}");
	json_free(&j);
}

/* Names packed back to back (ALPN lists): a length past the buffer ends the array. */
static void test_packed_strings(void **state)
{
	struct json j;
	const uint8_t lens[] = { 2, 8, 5 };
	json_init(&j);
	json_obj_open(&j, NULL);
	json_packed_strs(&j, "all", "h2http/1.1", 10, lens, 2);
	json_packed_strs(&j, "cut", "h2http/1.1", 10, lens, 3);
	json_packed_strs(&j, "short", "h2http/1.1", 9, lens, 2);
	json_packed_strs(&j, "none", NULL, 0, NULL, 0);
	json_obj_close(&j);
	assert_string_equal(j.buf, "{\"all\":[\"h2\",\"http/1.1\"],\"cut\":[\"h2\",\"http/1.1\"],"
				   "\"short\":[\"h2\"],\"none\":[]}");
	json_free(&j);
}

static void test_escaping(void **state)
{
	struct json j;
	json_init(&j);
	const char raw[] = "q\"b\\n\n\t\x01\x7f";
	json_strn(&j, NULL, raw, sizeof(raw) - 1);
	assert_string_equal(j.buf, "\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\"");
	json_free(&j);
}

static void test_invalid_utf8_bytes_escaped(void **state)
{
	struct json j;
	json_init(&j);
	/* valid 2-byte é, lone continuation byte, truncated 3-byte, overlong '/',
	 * a surrogate, and a NUL inside the string */
	const char raw[] = "\xc3\xa9" "\x80" "\xe2\x82" "\xc0\xaf" "\xed\xa0\x80" "a\0b";
	json_strn(&j, NULL, raw, sizeof(raw) - 1);
	assert_string_equal(j.buf, "\"\xc3\xa9\\u0080\\u00e2\\u0082\\u00c0\\u00af"
				   "\\u00ed\\u00a0\\u0080a\\u0000b\"");
	json_free(&j);
}

static void test_doubles(void **state)
{
	struct json j;
	json_init(&j);
	json_arr_open(&j, NULL);
	json_double(&j, NULL, 0.5, 2);
	json_double(&j, NULL, NAN, 2);
	json_double(&j, NULL, INFINITY, 2);
	json_arr_close(&j);
	assert_string_equal(j.buf, "[0.50,null,null]");
	json_free(&j);
}

static void test_depth_cap(void **state)
{
	struct json j;
	json_init(&j);
	for (int i = 0; i < JSON_MAX_DEPTH + 5; i++)
		json_arr_open(&j, NULL);
	assert_true(j.oom); /* marked unusable rather than overflowing */
	json_free(&j);
}

static void test_large_growth(void **state)
{
	struct json j;
	json_init(&j);
	char big[5000];
	memset(big, 'z', sizeof(big));
	json_arr_open(&j, NULL);
	for (int i = 0; i < 50; i++)
		json_strn(&j, NULL, big, sizeof(big));
	json_arr_close(&j);
	assert_int_equal(j.len, 1 + 50 * (sizeof(big) + 2) + 49 + 1);
	assert_int_equal(j.buf[j.len - 1], ']');
	assert_false(j.oom);
	json_free(&j);
}

/* The definition the word-at-a-time scanner must agree with. */
static bool ref_plain(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
}

static size_t ref_plain_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n && ref_plain(s[i]))
		i++;
	return i;
}

/* Deterministic xorshift: the same "random" strings on every run. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Each string in a heap block of its own exact size, so a sanitizer
 * build catches a scanner reading past the end. */
static void check_scan(const unsigned char *src, size_t n)
{
	char *s = malloc(n ? n : 1);
	assert_non_null(s);
	memcpy(s, src, n);
	size_t want = ref_plain_run((const unsigned char *)s, n);
	assert_int_equal(json_plain_run(s, n), want);
	assert_int_equal(json_needs_escape(s, n), want != n);
	free(s);
}

/* Every byte value at every position of strings up to 40 bytes, among
 * several plain fillers. */
static void test_scanner_every_byte(void **state)
{
	static const unsigned char fill[] = { 'a', ' ', '~', '!', '#', '[', ']', '}' };
	unsigned char s[40];
	for (size_t f = 0; f < sizeof(fill); f++)
		for (size_t n = 0; n <= sizeof(s); n++)
			for (unsigned c = 0; c < 256; c++)
				for (size_t p = 0; p < n; p++) {
					memset(s, fill[f], n);
					s[p] = (unsigned char)c;
					check_scan(s, n);
				}
}

static void test_scanner_random(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned char s[300];
	for (int k = 0; k < 200000; k++) {
		size_t n = rng_next(&x) % sizeof(s);
		/* mostly plain bytes, so the special ones land at every offset */
		unsigned rate = (unsigned)(rng_next(&x) % 64) + 1;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rng_next(&x);
			s[i] = r % rate == 0 ? (unsigned char)(r >> 8) : (unsigned char)(0x20 + (r >> 8) % 95);
		}
		check_scan(s, n);
	}
}

/* RFC 8259 escaping one byte at a time, as the writer did before it
 * scanned words: the writer must produce exactly this. */
static void ref_escape(const unsigned char *s, size_t n, char *out)
{
	char *o = out;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k;
		if (ref_plain(c)) {
			*o++ = (char)c;
			i++;
		} else if (c == '"' || c == '\\') {
			o += sprintf(o, "\\%c", c);
			i++;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			o += sprintf(o, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
			i++;
		} else if (c < 0x80 || (k = utf8_seq_len(s + i, n - i)) == 0) {
			o += sprintf(o, "\\u%04x", c);
			i++;
		} else {
			memcpy(o, s + i, k);
			o += k;
			i += k;
		}
	}
	*o++ = '"';
	*o = '\0';
}

static void test_strings_match_reference(void **state)
{
	uint64_t x = 12345;
	unsigned char s[200];
	char want[200 * 6 + 3];
	struct json j;
	json_init(&j);
	for (int k = 0; k < 50000; k++) {
		size_t n = rng_next(&x) % sizeof(s);
		unsigned rate = (unsigned)(rng_next(&x) % 32) + 1;
		for (size_t i = 0; i < n; i++) {
			uint64_t r = rng_next(&x);
			s[i] = r % rate == 0 ? (unsigned char)(r >> 8) : (unsigned char)(0x20 + (r >> 8) % 95);
		}
		ref_escape(s, n, want);
		json_reset(&j);
		json_strn(&j, NULL, (const char *)s, n);
		assert_string_equal(j.buf, want);
		assert_int_equal(j.len, strlen(want));
	}
	json_free(&j);
}

/* Keys are escaped like values, whether literal or not. */
static void test_keys_escaped(void **state)
{
	struct json j;
	char key[] = "k\"\\\n\xff";
	json_init(&j);
	json_obj_open(&j, NULL);
	json_str(&j, key, "v");
	json_uint(&j, "plain_key_longer_than_sixteen", 7);
	json_obj_open(&j, "o\"");
	json_obj_close(&j);
	json_obj_close(&j);
	assert_string_equal(j.buf, "{\"k\\\"\\\\\\n\\u00ff\":\"v\",\"plain_key_longer_than_sixteen\":7,"
				   "\"o\\\"\":{}}");
	json_free(&j);
}

/* Numbers against printf at every digit-count boundary. */
static void test_numbers_match_printf(void **state)
{
	char want[64];
	struct json j;
	json_init(&j);
	uint64_t u = 1;
	for (int d = 0; d < 20; d++, u *= 10) {
		const uint64_t us[] = { u - 1, u, u + 1, u * 5 };
		for (size_t i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
			json_reset(&j);
			json_uint(&j, NULL, us[i]);
			snprintf(want, sizeof(want), "%" PRIu64, us[i]);
			assert_string_equal(j.buf, want);
			json_reset(&j);
			json_int(&j, NULL, -(int64_t)(us[i] / 2));
			snprintf(want, sizeof(want), "%" PRId64, -(int64_t)(us[i] / 2));
			assert_string_equal(j.buf, want);
		}
	}
	json_reset(&j);
	json_arr_open(&j, NULL);
	json_uint(&j, NULL, UINT64_MAX);
	json_int(&j, NULL, INT64_MIN);
	json_int(&j, NULL, INT64_MAX);
	json_arr_close(&j);
	assert_string_equal(j.buf, "[18446744073709551615,-9223372036854775808,9223372036854775807]");
	json_free(&j);
}

/* JSON_KEY_SPECIALS, which decides at compile time that a literal key
 * needs no escaping, lists exactly the bytes the definition calls
 * special (NUL ends a key, so it is not listed). */
static void test_key_specials_table(void **state)
{
	for (unsigned c = 1; c < 256; c++)
		assert_int_equal(strchr(JSON_KEY_SPECIALS, (int)c) != NULL, !ref_plain((unsigned char)c));
	assert_false(json_key_plain("a\"b"));
	assert_false(json_key_plain("caf\xc3\xa9"));
	assert_false(json_key_plain(NULL));
}

/* Literal keys that do need escapes are escaped, as any key is. */
static void test_literal_keys_with_specials(void **state)
{
	struct json j;
	json_init(&j);
	json_obj_open(&j, NULL);
	json_bool(&j, "q\"", true);
	json_null(&j, "tab\t");
	json_arr_open(&j, "\\");
	json_arr_close(&j);
	json_obj_close(&j);
	assert_string_equal(j.buf, "{\"q\\\"\":true,\"tab\\t\":null,\"\\\\\":[]}");
	json_free(&j);
}

/* ---- the formatting helpers events use (util.c) ---- */

/* What ts_format_time wrote before it was done by hand. */
static void ref_event_time(uint64_t ts_us, char *out, size_t len)
{
	time_t t = (time_t)(ts_us / 1000000u);
	struct tm tm;
	char base[40];
	assert_non_null(gmtime_r(&t, &tm));
	assert_true(strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) > 0);
	snprintf(out, len, "%s.%06u+0000", base, (unsigned)(ts_us % 1000000u));
}

static void test_event_time_matches_strftime(void **state)
{
	uint64_t x = 777;
	char got[40], want[64];
	/* the epoch, leap days, a year's last microsecond, 9999-12-31 */
	const uint64_t fixed[] = { 0, 951782400000000ull, 951868799999999ull, 1715729838029308ull,
				   4102444799999999ull, 253402300799999999ull };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		ref_event_time(fixed[i], want, sizeof(want));
		assert_string_equal(ts_format_time(fixed[i], got, sizeof(got)), want);
	}
	for (int k = 0; k < 200000; k++) {
		uint64_t us = rng_next(&x) % 253402300800000000ull; /* to the end of 9999 */
		ref_event_time(us, want, sizeof(want));
		assert_string_equal(ts_format_time(us, got, sizeof(got)), want);
	}
}

/* The certificate form against gmtime_r + strftime, before the epoch
 * too, and NULL exactly where they fail. */
static void test_cert_time_matches_strftime(void **state)
{
	uint64_t x = 4242;
	char got[40], want[40];
	for (int k = 0; k < 300000; k++) {
		int64_t t;
		switch (k % 4) {
		case 0: /* any time from year 1 to past 9999 */
			t = (int64_t)(rng_next(&x) % 320000000000ull) - 62135596800ll;
			break;
		case 1: /* near the edges of the fast path: 1000 and 10000 */
			t = (k & 8 ? -30610224000ll : 253402300800ll) + (int64_t)(rng_next(&x) % 200000) - 100000;
			break;
		case 2: /* the seconds around the epoch */
			t = (int64_t)(rng_next(&x) % 400000) - 200000;
			break;
		default: /* anything at all, gmtime_r failing included */
			t = (int64_t)rng_next(&x) >> (rng_next(&x) % 64);
			break;
		}
		time_t tt = (time_t)t;
		struct tm tm;
		bool ok = gmtime_r(&tt, &tm) && strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		const char *s = ts_format_utc_seconds(t, got, sizeof(got));
		assert_int_equal(s != NULL, ok);
		if (ok)
			assert_string_equal(s, want);
	}
}

static void test_hex16_matches_printf(void **state)
{
	char got[7], want[16];
	for (unsigned v = 0; v <= 0xffff; v++) {
		snprintf(want, sizeof(want), "0x%04x", v);
		assert_string_equal(ts_hex16((uint16_t)v, got), want);
	}
}

/* slurp_file, the loader of every input file: a file of limit - 1 bytes is
 * read whole and NUL-terminated, one of limit bytes is refused, whatever the
 * buffer's growth steps (the limits sit on both sides of 65536, its first). */
static void test_slurp_file_limit(void **state)
{
	(void)state;
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 200000 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		FILE *f = tmpfile();
		assert_non_null(f);
		for (size_t k = 0; k < n; k++)
			fputc('a' + (int)(k % 26), f);
		for (size_t limit = n; limit <= n + 1; limit++) {
			char *buf = NULL;
			size_t len = 0;
			rewind(f);
			enum slurp_result r = slurp_file(f, limit, &buf, &len);
			if (limit == n) {
				assert_int_equal(r, SLURP_TOO_BIG);
				assert_null(buf);
				continue;
			}
			assert_int_equal(r, SLURP_OK);
			assert_int_equal(len, n);
			assert_int_equal(buf[n], '\0');
			if (n > 0)
				assert_int_equal(buf[n - 1], 'a' + (int)((n - 1) % 26));
			free(buf);
		}
		fclose(f);
	}
}

/* file_buffer: an output written through it reaches the file only when its
 * buffer of `size` bytes fills or is flushed (glibc's setvbuf without a
 * buffer kept 4 KiB whatever the size asked); reopen_append keeps the same
 * buffer for the new file, after the old one was flushed by its close. */
static void test_file_buffer_size(void **state)
{
	(void)state;
	enum { SIZE = 256 << 10, WRITTEN = 200000 };
	char path[] = "/tmp/ts-test-filebuf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	char *buf = NULL, line[100];
	file_buffer(f, &buf, SIZE);
	assert_non_null(buf);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	for (size_t n = 0; n < WRITTEN; n += sizeof(line))
		fwrite(line, 1, sizeof(line), f);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0); /* all of it still in the buffer */
	char *kept = buf;
	f = reopen_append(f, path, &buf, SIZE, "test");
	assert_ptr_equal(buf, kept);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, WRITTEN); /* the old stream flushed at its close */
	fwrite(line, 1, sizeof(line), f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, WRITTEN);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, WRITTEN + sizeof(line));
	free(buf);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_buffer_size),
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_packed_strings),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid_utf8_bytes_escaped),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_large_growth),
		cmocka_unit_test(test_scanner_every_byte),
		cmocka_unit_test(test_scanner_random),
		cmocka_unit_test(test_strings_match_reference),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_numbers_match_printf),
		cmocka_unit_test(test_key_specials_table),
		cmocka_unit_test(test_literal_keys_with_specials),
		cmocka_unit_test(test_event_time_matches_strftime),
		cmocka_unit_test(test_cert_time_matches_strftime),
		cmocka_unit_test(test_hex16_matches_printf),
		cmocka_unit_test(test_slurp_file_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
