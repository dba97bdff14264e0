/* defrag.c - bounded IPv4 fragment reassembly (RFC 791 section 3.2).
 *
 * Partial datagrams live in a fixed pool of `max_datagrams` entries found
 * through an htab on (source, destination, identification, protocol),
 * keyed with the start-up seed since every part of the key is the
 * sender's, and kept on an age list, oldest first.  Received data is a sorted list of
 * merged byte intervals (RFC 815 keeps holes; intervals are the same
 * information).  Each datagram's data buffer is allocated on first use and
 * grows to at most 65535 bytes.
 *
 * Ambiguity is refused rather than resolved: a fragment that overlaps held
 * bytes with different content (RFC 1858 section 4, RFC 3128; different
 * operating systems would rebuild different datagrams, which is how IDS
 * evasion works), a datagram longer than 65535 bytes (RFC 791 total length
 * limit, "ping of death"), a non-final fragment whose length is not a
 * multiple of 8, or two different final lengths drop the whole datagram.
 *
 * Time is packet time: a datagram still incomplete `timeout_us` after its
 * first fragment is dropped on the next call that notices it.
 */

#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "defrag.h"
#include "dlist.h"
#include "htab.h"
#include "util.h"

#define IP_MAXPACKET_LEN 65535
#define IP4_MIN_HLEN 20
#define IP4_MAX_HLEN 60
#define IP4_DF 0x4000
#define IP4_RF 0x8000
#define IP4_MF 0x2000
#define IP4_OFFMASK 0x1fff

/* Disjoint byte ranges held per datagram.  Fragments arriving in any order
 * merge into few ranges; many ranges mean a sender scattering tiny
 * fragments, and the cap bounds the work each fragment costs. */
#define FRAG_MAX_INTERVALS 32

struct frag_iv {
	uint32_t start, end; /* [start, end) payload offsets held */
};

struct frag_key {
	uint8_t src[4], dst[4];
	uint16_t id;
	uint8_t proto;
};

struct frag_dgram {
	struct frag_key key;
	uint64_t first_ts;        /* packet time of the first fragment seen */
	uint8_t have_first;       /* offset-0 fragment seen: hdr is valid */
	uint8_t have_last;        /* MF-clear fragment seen: total is known */
	uint8_t hdr_len;
	uint8_t hdr[IP4_MAX_HLEN];/* header of the offset-0 fragment */
	uint32_t total;           /* payload length, once have_last */
	uint8_t *buf;             /* payload bytes by offset */
	uint32_t buf_cap;
	struct frag_iv iv[FRAG_MAX_INTERVALS];
	uint16_t n_iv;
	uint64_t h;               /* key_hash(key) */
	struct frag_dgram *next_free;
	struct dlist age;         /* in the age list */
};

struct defrag {
	unsigned max_datagrams, used;
	uint64_t timeout_us;
	struct hseed seed;
	struct frag_dgram *pool;
	struct frag_dgram *free_list;
	struct htab tab;          /* of the pool entries in use */
	struct dlist ages;        /* oldest first */
	uint8_t *out;             /* last completed datagram */
	uint32_t out_cap;
	struct defrag_stats stats;
};

/* One parsed fragment. */
struct frag_in {
	struct frag_key key;
	struct cursor hdr;        /* the IPv4 header, options included */
	struct cursor data;       /* fragment payload */
	uint32_t off;             /* payload offset in bytes */
	uint8_t more;             /* MF set */
};

/* ---- table ---------------------------------------------------------------- */

static uint64_t key_hash(const struct defrag *df, const struct frag_key *k)
{
	uint8_t b[11];

	memcpy(b, k->src, 4);
	memcpy(b + 4, k->dst, 4);
	b[8] = (uint8_t)(k->id >> 8);
	b[9] = (uint8_t)k->id;
	b[10] = k->proto;
	return hseed_hash(&df->seed, b, sizeof(b));
}

static bool dgram_eq(const void *entry, const void *key)
{
	const struct frag_key *a = &((const struct frag_dgram *)entry)->key, *b = key;

	return a->id == b->id && a->proto == b->proto &&
	       memcmp(a->src, b->src, 4) == 0 && memcmp(a->dst, b->dst, 4) == 0;
}

static struct frag_dgram *dgram_find(struct defrag *df, const struct frag_key *k)
{
	return htab_find(&df->tab, key_hash(df, k), dgram_eq, k);
}

/* The datagram whose first fragment came longest ago, or NULL. */
static struct frag_dgram *oldest(const struct defrag *df)
{
	struct dlist *l = dlist_first(&df->ages);
	return l ? dlist_entry(l, struct frag_dgram, age) : NULL;
}

static void dgram_drop(struct defrag *df, struct frag_dgram *d)
{
	htab_remove(&df->tab, d->h, d);
	dlist_unlink(&d->age);
	free(d->buf);
	memset(d, 0, sizeof(*d));
	d->next_free = df->free_list;
	df->free_list = d;
	df->used--;
}

/* A new entry; the oldest partial datagram makes room when the table is
 * full, so a flood of never-completed fragments cannot lock out new ones. */
static struct frag_dgram *dgram_new(struct defrag *df, const struct frag_key *k,
				    uint64_t ts_us)
{
	struct frag_dgram *d;

	if (df->max_datagrams == 0)
		return NULL;
	if (df->used >= df->max_datagrams) {
		dgram_drop(df, oldest(df));
		df->stats.evicted_cap++;
	}
	d = df->free_list;
	df->free_list = d->next_free;
	memset(d, 0, sizeof(*d));
	d->key = *k;
	d->h = key_hash(df, k);
	if (htab_insert(&df->tab, d->h, d) < 0) {
		/* a full probe window: the caller drops the fragment like a
		 * full table */
		d->next_free = df->free_list;
		df->free_list = d;
		return NULL;
	}
	d->first_ts = ts_us;
	dlist_push_tail(&df->ages, &d->age);
	df->used++;
	return d;
}

static bool dgram_expired(const struct defrag *df, const struct frag_dgram *d,
			  uint64_t now)
{
	/* Packet time can step backwards in merged captures: never expire
	 * on a negative age. */
	return now > d->first_ts && now - d->first_ts > df->timeout_us;
}

/* Drop timed-out datagrams from the old end of the age list.  Entries are
 * in arrival order, so the walk stops at the first live one; an entry
 * behind it that is older by timestamp is caught when it is looked up. */
static void expire(struct defrag *df, uint64_t now)
{
	struct frag_dgram *d;

	while ((d = oldest(df)) && dgram_expired(df, d, now)) {
		dgram_drop(df, d);
		df->stats.timed_out++;
	}
}

/* ---- one datagram --------------------------------------------------------- */

/* Do the `n` bytes at offset `off` of cursor `c` equal `mem`? */
static bool cur_equal_at(const struct cursor *c, size_t off, const uint8_t *mem,
			 size_t n)
{
	if (cur_left(c) < off || cur_left(c) - off < n)
		return false;
	return memcmp(c->p + off, mem, n) == 0;
}

/* Any byte of [off, off+len) already held with a different value? */
static bool overlap_differs(const struct frag_dgram *d, uint32_t off,
			    const struct cursor *data)
{
	uint32_t end = off + (uint32_t)cur_left(data);

	for (uint16_t i = 0; i < d->n_iv; i++) {
		uint32_t s = d->iv[i].start > off ? d->iv[i].start : off;
		uint32_t e = d->iv[i].end < end ? d->iv[i].end : end;

		if (s < e && !cur_equal_at(data, s - off, d->buf + s, e - s))
			return true;
	}
	return false;
}

/* Merge [s, e) into the sorted interval list; false if it would need
 * more intervals than the cap. */
static bool iv_add(struct frag_dgram *d, uint32_t s, uint32_t e)
{
	uint16_t i = 0, j;

	while (i < d->n_iv && d->iv[i].end < s)
		i++;
	for (j = i; j < d->n_iv && d->iv[j].start <= e; j++) {
		if (d->iv[j].start < s)
			s = d->iv[j].start;
		if (d->iv[j].end > e)
			e = d->iv[j].end;
	}
	if (i == j) {
		if (d->n_iv >= FRAG_MAX_INTERVALS)
			return false;
		memmove(&d->iv[i + 1], &d->iv[i], (d->n_iv - i) * sizeof(d->iv[0]));
		d->n_iv++;
	} else {
		memmove(&d->iv[i + 1], &d->iv[j], (d->n_iv - j) * sizeof(d->iv[0]));
		d->n_iv -= (uint16_t)(j - i - 1);
	}
	d->iv[i].start = s;
	d->iv[i].end = e;
	return true;
}

/* Room for payload bytes up to `end`: doubling, capped at the largest
 * possible datagram so a single datagram never holds more than 64 KiB. */
static bool buf_reserve(struct frag_dgram *d, uint32_t end)
{
	return bytes_reserve(&d->buf, &d->buf_cap, end, 2048, IP_MAXPACKET_LEN);
}

/* Length checks that need no held data: the datagram may not exceed 65535
 * bytes with even a minimal header, non-final fragments are multiples of
 * 8 bytes, and every fragment agrees on where the datagram ends. */
static bool frag_consistent(const struct frag_dgram *d, const struct frag_in *f)
{
	uint32_t end = f->off + (uint32_t)cur_left(&f->data);
	uint32_t held_end = d->n_iv ? d->iv[d->n_iv - 1].end : 0;

	if (end > IP_MAXPACKET_LEN - IP4_MIN_HLEN)
		return false;
	if (f->more)
		return (cur_left(&f->data) % 8) == 0 &&
		       !(d->have_last && end > d->total);
	if (d->have_last)
		return end == d->total;
	return held_end <= end;
}

/* Store one fragment.  DEC_OK here means stored, not complete. */
static enum decode_result dgram_store(struct frag_dgram *d,
				      const struct frag_in *f)
{
	uint32_t len = (uint32_t)cur_left(&f->data);
	struct cursor data = f->data;

	if (!frag_consistent(d, f) || overlap_differs(d, f->off, &f->data))
		return DEC_BAD_FRAG;
	if (!f->more) {
		d->have_last = 1;
		d->total = f->off + len;
	}
	if (f->off == 0 && !d->have_first) {
		struct cursor h = f->hdr;

		d->hdr_len = (uint8_t)cur_left(&h);
		cur_bytes(&h, d->hdr, d->hdr_len);
		d->have_first = 1;
	}
	if (len == 0)
		return DEC_OK;
	if (!iv_add(d, f->off, f->off + len))
		return DEC_BAD_FRAG;
	if (!buf_reserve(d, f->off + len))
		return DEC_FRAG_CAP;
	cur_bytes(&data, d->buf + f->off, len);
	return DEC_OK;
}

static bool dgram_complete(const struct frag_dgram *d)
{
	if (!d->have_first || !d->have_last)
		return false;
	if (d->total == 0)
		return d->n_iv == 0;
	return d->n_iv == 1 && d->iv[0].start == 0 && d->iv[0].end == d->total;
}

/* RFC 1071 Internet checksum over an IPv4 header. */
static uint16_t ip_checksum(const uint8_t *h, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Write the whole datagram into df->out: the first fragment's header with
 * total length set, MF and offset cleared, checksum recomputed. */
static enum decode_result dgram_build(struct defrag *df,
				      const struct frag_dgram *d,
				      uint32_t *out_len)
{
	uint32_t len = d->hdr_len + d->total;
	uint16_t frag;
	uint16_t sum;

	if (len > IP_MAXPACKET_LEN)
		return DEC_BAD_FRAG;
	if (df->out == NULL) {
		df->out = malloc(IP_MAXPACKET_LEN);
		if (df->out == NULL)
			return DEC_FRAG_CAP;
		df->out_cap = IP_MAXPACKET_LEN;
	}
	memcpy(df->out, d->hdr, d->hdr_len);
	if (d->total)
		memcpy(df->out + d->hdr_len, d->buf, d->total);
	df->out[2] = (uint8_t)(len >> 8);
	df->out[3] = (uint8_t)len;
	frag = (uint16_t)(d->hdr[6] << 8 | d->hdr[7]) & (IP4_DF | IP4_RF);
	df->out[6] = (uint8_t)(frag >> 8);
	df->out[7] = (uint8_t)frag;
	df->out[10] = 0;
	df->out[11] = 0;
	sum = ip_checksum(df->out, d->hdr_len);
	df->out[10] = (uint8_t)(sum >> 8);
	df->out[11] = (uint8_t)sum;
	*out_len = len;
	return DEC_OK;
}

/* ---- input ------------------------------------------------------------------ */

static bool frag_parse(const uint8_t *ip, uint32_t ip_len, struct frag_in *f)
{
	struct cursor c = cur_make(ip, ip_len);
	uint8_t vihl;
	uint16_t tot_len, frag;
	uint32_t hlen;

	if (!cur_peek_u8(&c, 0, &vihl) || (vihl >> 4) != 4)
		return false;
	hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (hlen < IP4_MIN_HLEN || !cur_sub(&c, hlen, &f->hdr))
		return false;
	f->data = c;
	c = f->hdr;
	if (!cur_skip(&c, 2) || !cur_be16(&c, &tot_len) ||
	    !cur_be16(&c, &f->key.id) || !cur_be16(&c, &frag) ||
	    !cur_skip(&c, 1) || !cur_u8(&c, &f->key.proto) ||
	    !cur_skip(&c, 2) || !cur_bytes(&c, f->key.src, 4) ||
	    !cur_bytes(&c, f->key.dst, 4))
		return false;
	/* The caller hands exactly one whole fragment. */
	if (tot_len != ip_len)
		return false;
	f->off = (uint32_t)(frag & IP4_OFFMASK) * 8;
	f->more = (frag & IP4_MF) != 0;
	return true;
}

enum decode_result defrag_add(struct defrag *df, const uint8_t *ip,
			      uint32_t ip_len, uint64_t ts_us,
			      const uint8_t **out, uint32_t *out_len)
{
	struct frag_in f;
	struct frag_dgram *d;
	enum decode_result r;

	memset(&f, 0, sizeof(f));
	df->stats.fragments++;
	expire(df, ts_us);
	if (!frag_parse(ip, ip_len, &f)) {
		df->stats.bad++;
		return DEC_BAD_FRAG;
	}
	if (f.off == 0 && !f.more) {
		/* Not a fragment at all: nothing to hold. */
		*out = ip;
		*out_len = ip_len;
		return DEC_OK;
	}
	d = dgram_find(df, &f.key);
	if (d && dgram_expired(df, d, ts_us)) {
		dgram_drop(df, d);
		df->stats.timed_out++;
		d = NULL;
	}
	if (d == NULL) {
		d = dgram_new(df, &f.key, ts_us);
		if (d == NULL) {
			df->stats.evicted_cap++;
			return DEC_FRAG_CAP;
		}
	}
	r = dgram_store(d, &f);
	if (r == DEC_OK && !dgram_complete(d))
		return DEC_FRAG_HELD;
	if (r == DEC_OK)
		r = dgram_build(df, d, out_len);
	if (r == DEC_OK) {
		*out = df->out;
		df->stats.reassembled++;
	} else if (r == DEC_BAD_FRAG) {
		df->stats.bad++;
	} else {
		df->stats.evicted_cap++; /* out of memory: dropped like a full table */
	}
	dgram_drop(df, d);
	return r;
}

/* ---- life cycle ----------------------------------------------------------- */

struct defrag *defrag_new(unsigned max_datagrams, uint64_t timeout_us,
			  const struct hseed *seed)
{
	struct defrag *df = calloc(1, sizeof(*df));
	uint32_t max_slots;

	if (df == NULL)
		return NULL;
	dlist_init(&df->ages);
	df->max_datagrams = max_datagrams;
	df->timeout_us = timeout_us;
	df->seed = *seed;
	if (max_datagrams)
		df->pool = calloc(max_datagrams, sizeof(*df->pool));
	/* Room for the pool at a quarter load: at half load, under the churn
	 * of fragments, linear probing would refuse an insert now and then. */
	max_slots = max_datagrams < (1u << 28) ? max_datagrams * 4 : 1u << 30;
	if ((max_datagrams && df->pool == NULL) ||
	    htab_init(&df->tab, 16, max_slots) < 0) {
		defrag_free(df);
		return NULL;
	}
	for (unsigned i = max_datagrams; i-- > 0;) {
		df->pool[i].next_free = df->free_list;
		df->free_list = &df->pool[i];
	}
	return df;
}

void defrag_free(struct defrag *df)
{
	struct frag_dgram *d;

	if (df == NULL)
		return;
	while ((d = oldest(df)))
		dgram_drop(df, d);
	free(df->pool);
	htab_free(&df->tab);
	free(df->out);
	free(df);
}

const struct defrag_stats *defrag_stats(const struct defrag *df)
{
	return &df->stats;
}
