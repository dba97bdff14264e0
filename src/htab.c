/* htab.c - keyed hashing (SipHash-1-3) and the open-addressing table of
 * htab.h. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "htab.h"

/* ---- the seed -------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void hseed_draw(struct hseed *s)
{
	if (getrandom(s->k, sizeof(s->k), GRND_NONBLOCK) == (ssize_t)sizeof(s->k))
		return;
	/* Early boot without entropy: weaker, but still not a constant. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)s;
	s->k[0] = splitmix(&x);
	s->k[1] = splitmix(&x);
}

void hseed_or_draw(struct hseed *dst, const struct hseed *src)
{
	if (src)
		*dst = *src;
	else
		hseed_draw(dst);
}

/* ---- SipHash-1-3 -------------------------------------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

static inline void compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	v[0] ^= m;
}

/* One load, not eight: the flow table hashes every packet's tuple. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t m;
	memcpy(&m, p, sizeof(m));
	return le64toh(m);
}

static inline void sip_init(uint64_t v[4], const struct hseed *s)
{
	v[0] = 0x736f6d6570736575ULL ^ s->k[0];
	v[1] = 0x646f72616e646f6dULL ^ s->k[1];
	v[2] = 0x6c7967656e657261ULL ^ s->k[0];
	v[3] = 0x7465646279746573ULL ^ s->k[1];
}

/* Compress the last block (the tail bytes and the length), finalise. */
static inline uint64_t sip_end(uint64_t v[4], uint64_t last)
{
	compress(v, last);
	v[2] ^= 0xff;
	sipround(v);
	sipround(v);
	sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void hasher_init(struct hasher *h, const struct hseed *s)
{
	sip_init(h->v, s);
	h->tail = 0;
	h->total = 0;
}

void hasher_add(struct hasher *h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i = 0;
	/* finish a partial word first */
	while ((h->total & 7) && i < n) {
		h->tail |= (uint64_t)b[i++] << (8 * (h->total & 7));
		if ((++h->total & 7) == 0) {
			compress(h->v, h->tail);
			h->tail = 0;
		}
	}
	for (; i + 8 <= n; i += 8, h->total += 8)
		compress(h->v, load_le64(b + i));
	for (; i < n; i++, h->total++)
		h->tail |= (uint64_t)b[i] << (8 * (h->total & 7));
}

uint64_t hasher_end(struct hasher *h)
{
	return sip_end(h->v, h->tail | (h->total << 56));
}

/* The one-piece hash, without the incremental state: whole words, then
 * the up to 7 tail bytes in one word. */
uint64_t hseed_hash(const struct hseed *s, const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t v[4], last = (uint64_t)n << 56;
	size_t i = 0;
	sip_init(v, s);
	for (; i + 8 <= n; i += 8)
		compress(v, load_le64(b + i));
	switch (n & 7) { /* as the reference code: no loop for the tail */
	case 7: last |= (uint64_t)b[i + 6] << 48; /* fall through */
	case 6: last |= (uint64_t)b[i + 5] << 40; /* fall through */
	case 5: last |= (uint64_t)b[i + 4] << 32; /* fall through */
	case 4: last |= (uint64_t)b[i + 3] << 24; /* fall through */
	case 3: last |= (uint64_t)b[i + 2] << 16; /* fall through */
	case 2: last |= (uint64_t)b[i + 1] << 8;  /* fall through */
	case 1: last |= (uint64_t)b[i];
	}
	return sip_end(v, last);
}

uint64_t hseed_hash_words(const struct hseed *s, uint64_t m0, uint64_t m1)
{
	uint64_t v[4];
	sip_init(v, s);
	compress(v, m0);
	return sip_end(v, m1);
}

/* ---- the table ------------------------------------------------------------- */

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t c = HTAB_MIN_CAP;
	while (c < n && c < (1u << 30))
		c <<= 1;
	return c;
}

int htab_init(struct htab *t, uint32_t initial, uint32_t max_cap)
{
	memset(t, 0, sizeof(*t));
	t->max_cap = pow2_at_least(max_cap ? max_cap : (1u << 30));
	uint32_t cap = pow2_at_least(initial);
	if (cap > t->max_cap)
		cap = t->max_cap;
	t->s = calloc(cap, sizeof(*t->s));
	if (!t->s)
		return -1;
	t->mask = cap - 1;
	return 0;
}

void htab_free(struct htab *t)
{
	free(t->s);
	t->s = NULL;
	t->used = 0;
}

void htab_free_all(struct htab *t, void (*free_entry)(void *))
{
	void *e;
	for (uint32_t i = 0; (e = htab_next(t, &i));)
		free_entry(e);
	htab_free(t);
}

void htab_clear(struct htab *t)
{
	if (t->s)
		memset(t->s, 0, htab_bytes(t));
	t->used = 0;
}

void *htab_find(const struct htab *t, uint64_t h, htab_eq_fn eq, const void *key)
{
	uint32_t i = (uint32_t)h;
	for (uint32_t n = 0; n < HTAB_PROBES; n++, i++) {
		const struct htab_slot *s = &t->s[i & t->mask];
		if (!s->p)
			return NULL;
		if (s->h == h && eq(s->p, key))
			return s->p;
	}
	return NULL;
}

/* A free slot within the probe window of h, or NULL. */
static struct htab_slot *free_slot(struct htab_slot *slots, uint32_t mask, uint64_t h)
{
	uint32_t i = (uint32_t)h;
	for (uint32_t n = 0; n < HTAB_PROBES; n++, i++) {
		if (!slots[i & mask].p)
			return &slots[i & mask];
	}
	return NULL;
}

/* Double the table.  Every entry finds room in the larger table: a window
 * that held it before holds fewer keys after the split. */
static int grow(struct htab *t)
{
	uint32_t cap = htab_cap(t);
	if (cap >= t->max_cap)
		return -1;
	uint32_t ncap = cap * 2, nmask = ncap - 1;
	struct htab_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (uint32_t i = 0; i < cap; i++) {
		if (!t->s[i].p)
			continue;
		struct htab_slot *d = free_slot(ns, nmask, t->s[i].h);
		if (!d) { /* cannot happen with a sound hash; refuse rather than lose entries */
			free(ns);
			return -1;
		}
		*d = t->s[i];
	}
	free(t->s);
	t->s = ns;
	t->mask = nmask;
	t->grown++;
	return 0;
}

bool htab_needs_growth(const struct htab *t)
{
	return (t->used + 1) * 2 > htab_cap(t) && htab_cap(t) < t->max_cap;
}

int htab_insert(struct htab *t, uint64_t h, void *p)
{
	if ((t->used + 1) * 2 > htab_cap(t))
		(void)grow(t); /* past half full: grow if allowed, else go on fuller */
	struct htab_slot *s = free_slot(t->s, t->mask, h);
	while (!s) {
		if (grow(t) < 0) {
			t->full++;
			return -1;
		}
		s = free_slot(t->s, t->mask, h);
	}
	s->h = h;
	s->p = p;
	t->used++;
	return 0;
}

bool htab_remove(struct htab *t, uint64_t h, const void *p)
{
	uint32_t i = (uint32_t)h, n;
	for (n = 0; n < HTAB_PROBES; n++, i++) {
		if (!t->s[i & t->mask].p)
			return false;
		if (t->s[i & t->mask].p == p)
			break;
	}
	if (n == HTAB_PROBES)
		return false;
	/* Shift back every later entry of the cluster that may move closer to
	 * its home slot, so lookups never meet a hole before their key. */
	uint32_t hole = i & t->mask;
	for (uint32_t j = (hole + 1) & t->mask; t->s[j].p; j = (j + 1) & t->mask) {
		uint32_t home = (uint32_t)t->s[j].h & t->mask;
		/* movable when the hole lies cyclically in [home, j) */
		if (((j - home) & t->mask) >= ((j - hole) & t->mask)) {
			t->s[hole] = t->s[j];
			hole = j;
		}
	}
	t->s[hole].p = NULL;
	t->s[hole].h = 0;
	t->used--;
	return true;
}

void *htab_next(const struct htab *t, uint32_t *pos)
{
	if (!t->s)
		return NULL;
	while (*pos <= t->mask) {
		void *p = t->s[(*pos)++].p;
		if (p)
			return p;
	}
	return NULL;
}
