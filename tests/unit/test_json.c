/* test_json.c - the JSON writer: nesting, commas, escaping of hostile bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "json.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid_utf8_bytes_escaped),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_large_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
