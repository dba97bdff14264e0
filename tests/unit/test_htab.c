/* test_htab.c - the keyed hash (SipHash-1-3 reference values) and the
 * table: insert, find, remove with backward shift, growth, the probe cap
 * and its counter under forced collisions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "htab.h"

/* SipHash-1-3 with the all-zero key, as CPython computes hash(bytes) with
 * PYTHONHASHSEED=0 (sys.hash_info.algorithm == 'siphash13'). */
static void test_siphash13_reference(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t want;
	} v[] = {
		{ "a", 4644417185603328019LL },
		{ "abc", -4594863902769663758LL },
		{ "abcdefgh", 4574395652268504554LL },
		{ "abcdefghijklmnopq", 7044894726457044172LL },
	};
	struct hseed s = { { 0, 0 } };
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_int_equal((int64_t)hseed_hash(&s, v[i].in, strlen(v[i].in)), v[i].want);
}

/* Feeding a key in pieces of any size gives the one-shot hash. */
static void test_hasher_pieces(void **state)
{
	(void)state;
	struct hseed s;
	hseed_draw(&s);
	uint8_t buf[41];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	for (size_t n = 0; n <= sizeof(buf); n++) {
		uint64_t want = hseed_hash(&s, buf, n);
		for (size_t cut = 0; cut <= n; cut++) {
			struct hasher h;
			hasher_init(&h, &s);
			hasher_add(&h, buf, cut);
			hasher_add(&h, buf + cut, n - cut);
			assert_true(hasher_end(&h) == want);
		}
	}
}

/* The two-word form is SipHash-1-3 of the 13-byte key it lays out: the
 * first word's 8 bytes and the low 5 of the second, little-endian, with
 * the length in the second word's top byte. */
static void test_hash_words_is_siphash(void **state)
{
	(void)state;
	struct hseed s;
	hseed_draw(&s);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 1000; i++) {
		uint64_t m0 = x, m1;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		m1 = x & 0xffffffffffULL;
		uint8_t k[13];
		for (int j = 0; j < 8; j++)
			k[j] = (uint8_t)(m0 >> (8 * j));
		for (int j = 0; j < 5; j++)
			k[8 + j] = (uint8_t)(m1 >> (8 * j));
		assert_true(hseed_hash_words(&s, m0, m1 | 13ULL << 56) == hseed_hash(&s, k, sizeof(k)));
	}
}

/* Another seed, another hash: keys cannot be aimed without it. */
static void test_seed_changes_hash(void **state)
{
	(void)state;
	struct hseed a = { { 1, 2 } }, b = { { 1, 3 } };
	assert_true(hseed_hash(&a, "kloop.kg", 8) != hseed_hash(&b, "kloop.kg", 8));
}

struct ent {
	uint32_t key;
};

static bool ent_eq(const void *e, const void *k)
{
	return ((const struct ent *)e)->key == *(const uint32_t *)k;
}

static uint64_t key_hash(const struct hseed *s, uint32_t k)
{
	return hseed_hash(s, &k, sizeof(k));
}

static void test_insert_find_remove_grow(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct hseed s;
	hseed_draw(&s);
	struct htab t;
	assert_int_equal(htab_init(&t, 16, 0), 0);
	struct ent *e = calloc(N, sizeof(*e));
	assert_non_null(e);
	for (uint32_t i = 0; i < N; i++) {
		e[i].key = i * 2654435761u;
		assert_int_equal(htab_insert(&t, key_hash(&s, e[i].key), &e[i]), 0);
	}
	assert_int_equal(t.used, N);
	assert_true(t.grown > 0);
	assert_true(t.used * 2 <= htab_cap(&t));
	for (uint32_t i = 0; i < N; i++)
		assert_ptr_equal(htab_find(&t, key_hash(&s, e[i].key), ent_eq, &e[i].key), &e[i]);
	/* remove every other entry: the rest must stay reachable */
	for (uint32_t i = 0; i < N; i += 2)
		assert_true(htab_remove(&t, key_hash(&s, e[i].key), &e[i]));
	assert_false(htab_remove(&t, key_hash(&s, e[0].key), &e[0]));
	for (uint32_t i = 0; i < N; i++) {
		void *got = htab_find(&t, key_hash(&s, e[i].key), ent_eq, &e[i].key);
		assert_ptr_equal(got, (i & 1) ? &e[i] : NULL);
	}
	uint32_t pos = 0, seen = 0;
	while (htab_next(&t, &pos))
		seen++;
	assert_int_equal(seen, N / 2);
	htab_free(&t);
	free(e);
}

/* Keys that all hash alike fill one window: the cap holds, the refusal is
 * counted, and removal reopens the window. */
static void test_probe_cap_counts(void **state)
{
	(void)state;
	struct htab t;
	assert_int_equal(htab_init(&t, 64, 64), 0);
	struct ent e[HTAB_PROBES + 5];
	uint32_t ok = 0;
	for (uint32_t i = 0; i < HTAB_PROBES + 5; i++) {
		e[i].key = i;
		if (htab_insert(&t, 7, &e[i]) == 0)
			ok++;
	}
	assert_int_equal(ok, HTAB_PROBES);
	assert_int_equal(t.full, 5);
	for (uint32_t i = 0; i < HTAB_PROBES; i++)
		assert_ptr_equal(htab_find(&t, 7, ent_eq, &e[i].key), &e[i]);
	assert_true(htab_remove(&t, 7, &e[3]));
	assert_int_equal(htab_insert(&t, 7, &e[HTAB_PROBES]), 0);
	assert_ptr_equal(htab_find(&t, 7, ent_eq, &e[HTAB_PROBES].key), &e[HTAB_PROBES]);
	htab_free(&t);
}

/* Backward shift across the end of the slot array. */
static void test_remove_wraps(void **state)
{
	(void)state;
	struct htab t;
	assert_int_equal(htab_init(&t, 16, 16), 0);
	struct ent e[4] = { { 1 }, { 2 }, { 3 }, { 4 } };
	for (int i = 0; i < 4; i++)
		assert_int_equal(htab_insert(&t, 14, &e[i]), 0); /* slots 14, 15, 0, 1 */
	assert_true(htab_remove(&t, 14, &e[0]));
	for (int i = 1; i < 4; i++)
		assert_ptr_equal(htab_find(&t, 14, ent_eq, &e[i].key), &e[i]);
	assert_true(htab_remove(&t, 14, &e[2]));
	assert_ptr_equal(htab_find(&t, 14, ent_eq, &e[3].key), &e[3]);
	assert_int_equal(t.used, 2);
	htab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash13_reference),
		cmocka_unit_test(test_hasher_pieces),
		cmocka_unit_test(test_seed_changes_hash),
		cmocka_unit_test(test_hash_words_is_siphash),
		cmocka_unit_test(test_insert_find_remove_grow),
		cmocka_unit_test(test_probe_cap_counts),
		cmocka_unit_test(test_remove_wraps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
