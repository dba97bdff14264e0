/* htab.h - the one hash table of tamperscope, and its keyed hash.
 *
 * Every key tamperscope hashes can come from the wire or from an input file
 * (addresses, ports, server names, certificate digests), so every table
 * hashes with SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012; the 1-3 round variant is what Python and Rust
 * use for their own tables) keyed with one seed drawn at start-up
 * (hseed_draw) and handed to every table: a sender who does not know the
 * seed cannot aim keys at one probe chain.  Outputs never depend on the
 * seed (they are sorted or in creation order), so runs stay identical.
 *
 * The table is open addressing with linear probing over slots that hold
 * the full 64-bit hash and an entry pointer; the caller owns the entries.
 * An entry sits at most HTAB_PROBES slots from its home slot, so a lookup
 * or an insert touches at most that many slots whatever the keys; the
 * table is kept at most half full and doubles up to its maximum size.  An
 * insert that finds no free slot in its window at the maximum size, or
 * cannot allocate, is refused and counted in `full`.  Removal shifts the
 * following entries back (Knuth's algorithm R), so no tombstones
 * accumulate.
 */
#ifndef TS_HTAB_H
#define TS_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The start-up seed: a SipHash key. */
struct hseed {
	uint64_t k[2];
};

/* Fill s from getrandom(2); falls back to the clock and the address space
 * layout when the kernel has no entropy to give yet. */
void hseed_draw(struct hseed *s);

/* *dst = *src, or a seed drawn now when src is NULL: a table built on its
 * own (a test, a tool) still gets a key nobody knows. */
void hseed_or_draw(struct hseed *dst, const struct hseed *src);

/* SipHash-1-3 of n bytes under the seed. */
uint64_t hseed_hash(const struct hseed *s, const void *p, size_t n);

/* SipHash-1-3 of a key already laid out as two words, m1's top byte
 * carrying the key's length as SipHash's last block does (so the 96 bits
 * below it are the key): the flow table's IPv4 tuple, hashed for every
 * packet, without packing it into bytes and unpacking it again. */
uint64_t hseed_hash_words(const struct hseed *s, uint64_t m0, uint64_t m1);

/* Incremental SipHash-1-3 for keys made of several parts: feed the parts
 * in order, then finish.  The result equals hseed_hash of the parts laid
 * end to end. */
struct hasher {
	uint64_t v[4];
	uint64_t tail;            /* bytes not yet forming a word */
	uint64_t total;           /* bytes fed */
};
void hasher_init(struct hasher *h, const struct hseed *s);
void hasher_add(struct hasher *h, const void *p, size_t n);
uint64_t hasher_end(struct hasher *h);

#define HTAB_PROBES 32            /* slots a key may sit from its home slot */
#define HTAB_MIN_CAP 16

struct htab_slot {
	uint64_t h;
	void *p;                      /* NULL: empty */
};

struct htab {
	struct htab_slot *s;
	uint32_t mask;                /* capacity - 1 */
	uint32_t used;
	uint32_t max_cap;             /* growth stops here (a power of two) */
	uint64_t full;                /* inserts refused: window full at max size, or no memory */
	uint64_t grown;               /* times the table doubled */
};

/* An empty table of at least `initial` slots that may grow to `max_cap`
 * (both rounded up to powers of two, at least HTAB_MIN_CAP; max_cap 0:
 * 2^30).  -1 when out of memory. */
int htab_init(struct htab *t, uint32_t initial, uint32_t max_cap);
/* Free the slots (not the entries). */
void htab_free(struct htab *t);
/* For tables that own their entries: free_entry each entry, then free the
 * slots. */
void htab_free_all(struct htab *t, void (*free_entry)(void *));
/* Remove every entry (not freed), keep the memory. */
void htab_clear(struct htab *t);

static inline uint32_t htab_cap(const struct htab *t)
{
	return t->mask + 1;
}
/* Bytes the slots take. */
static inline size_t htab_bytes(const struct htab *t)
{
	return t->s ? (size_t)htab_cap(t) * sizeof(struct htab_slot) : 0;
}

/* Does `entry` hold `key`? */
typedef bool (*htab_eq_fn)(const void *entry, const void *key);

/* The entry with hash h for which eq(entry, key) holds, or NULL. */
void *htab_find(const struct htab *t, uint64_t h, htab_eq_fn eq, const void *key);

/* A key that is a byte string (a server name, a domain), for tables whose
 * entries hold one: the bytes need not be NUL-terminated. */
struct htab_bytes {
	const void *p;
	size_t len;
};

/* Is the string of len bytes at p the key k? */
static inline bool htab_bytes_eq(const struct htab_bytes *k, const void *p, size_t len)
{
	return len == k->len && memcmp(p, k->p, len) == 0;
}

/* Insert entry p (not already present) under hash h.  0, or -1 when
 * refused (counted in t->full). */
int htab_insert(struct htab *t, uint64_t h, void *p);

/* Would an insert now need to grow the table?  Lets a caller with a memory
 * budget account for the growth before it happens. */
bool htab_needs_growth(const struct htab *t);

/* Remove entry p stored under hash h.  true when it was there. */
bool htab_remove(struct htab *t, uint64_t h, const void *p);

/* Iterate: for (uint32_t i = 0; (e = htab_next(t, &i)); ) ...  Entries
 * come in slot order (which depends on the seed: sort before output). */
void *htab_next(const struct htab *t, uint32_t *pos);

#endif
