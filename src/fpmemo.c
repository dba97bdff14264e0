/* fpmemo.c - a per-thread memo of TLS fingerprints (fpmemo.h). */
#include <string.h>

#include "fpmemo.h"
#include "ja4.h"

#define FPMEMO_SLOTS 64 /* direct-mapped; 25 KB a thread */

struct slot {
	uint16_t n; /* key length, 0: empty */
	char a[FPMEMO_VAL_MAX], b[FPMEMO_VAL_MAX];
	uint8_t key[FPMEMO_KEY_MAX];
};

static _Thread_local struct slot memo[FPMEMO_SLOTS];
static _Thread_local uint64_t hits;

void fpmemo_key_init(struct fpmemo_key *k, uint8_t tag)
{
	k->n = 0;
	k->over = false;
	fpmemo_key_add(k, &tag, 1);
}

void fpmemo_key_add(struct fpmemo_key *k, const void *p, size_t n)
{
	if (k->over || n > sizeof(k->b) - k->n) {
		k->over = true;
		return;
	}
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

void fpmemo_key_u16(struct fpmemo_key *k, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	fpmemo_key_add(k, be, 2);
}

void fpmemo_key_list16(struct fpmemo_key *k, struct cursor c)
{
	uint16_t v;
	uint8_t odd;
	while (cur_be16(&c, &v))
		fpmemo_key_u16(k, tls_grease(v) ? 0x0a0a : v); /* all alike to the fingerprints */
	if (cur_u8(&c, &odd))
		fpmemo_key_add(k, &odd, 1);
}

/* Not a defence against chosen collisions, and need not be one: a
 * collision evicts, it never answers wrongly (the whole key is compared). */
static unsigned slot_of(const struct fpmemo_key *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ k->n, w;
	size_t i = 0;
	for (; i + 8 <= k->n; i += 8) {
		memcpy(&w, k->b + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, k->b + i, k->n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (unsigned)(h % FPMEMO_SLOTS);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool fpmemo_get(const struct fpmemo_key *k, char *a, size_t alen, char *b, size_t blen)
{
	if (k->over)
		return false;
	const struct slot *s = &memo[slot_of(k)];
	if (s->n != k->n || memcmp(s->key, k->b, k->n) != 0)
		return false;
	hits++;
	if (a)
		copy_str(a, alen, s->a);
	if (b)
		copy_str(b, blen, s->b);
	return true;
}

void fpmemo_put(const struct fpmemo_key *k, const char *a, const char *b)
{
	if (k->over || k->n == 0 || (a && strlen(a) >= FPMEMO_VAL_MAX) ||
	    (b && strlen(b) >= FPMEMO_VAL_MAX))
		return; /* kept only whole */
	struct slot *s = &memo[slot_of(k)];
	s->n = (uint16_t)k->n;
	memcpy(s->key, k->b, k->n);
	copy_str(s->a, sizeof(s->a), a ? a : "");
	copy_str(s->b, sizeof(s->b), b ? b : "");
}

void fpmemo_clear(void)
{
	memset(memo, 0, sizeof(memo));
}

uint64_t fpmemo_hits(void)
{
	return hits;
}
