/* residual.c - residual blocking: recent blocks by (client, server, port), capped, on htab. */
#include <stdlib.h>
#include <string.h>

#include "dlist.h"
#include "htab.h"
#include "residual.h"

struct residual_key {
	uint8_t cli[16], srv[16];
	uint16_t port;           /* the server's */
	uint8_t proto;           /* a QUIC block says nothing of TCP to the same port */
};

/* Entries live in one array of `cap`, handed out in order until it is
 * full, then reused from the head of the recency list. */
struct residual_entry {
	struct residual_key key;
	uint8_t used;            /* in the table (a refused insert leaves it unused) */
	uint64_t h;
	uint64_t blocked_us;
	struct dlist link;       /* in the recency list */
};

struct residual_table {
	struct htab tab;
	struct hseed seed;
	struct residual_entry *pool;
	uint32_t cap, n_pool;    /* pool entries handed out so far */
	struct dlist recency;    /* head: recorded longest ago */
	struct residual_stats st;
};

struct residual_table *residual_new(unsigned cap, const struct hseed *seed)
{
	struct residual_table *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	dlist_init(&rt->recency);
	rt->cap = cap < 1 ? 1 : cap > (1u << 28) ? 1u << 28 : cap;
	rt->seed = *seed;
	/* calloc: pages of the pool that are never used are never touched */
	rt->pool = calloc(rt->cap, sizeof(*rt->pool));
	/* Room for cap entries at a quarter load: at half load linear probing
	 * refuses about one insert in 20000 under churn (measured). */
	if (!rt->pool || htab_init(&rt->tab, 64, rt->cap * 4) < 0) {
		residual_free(rt);
		return NULL;
	}
	return rt;
}

void residual_free(struct residual_table *rt)
{
	if (!rt)
		return;
	htab_free(&rt->tab);
	free(rt->pool);
	free(rt);
}

const struct residual_stats *residual_stats(const struct residual_table *rt)
{
	return &rt->st;
}

/* ---- the table --------------------------------------------------------- */

static void key_of(const struct flow *f, struct residual_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->cli, f->cli.a, sizeof(k->cli));
	memcpy(k->srv, f->srv.a, sizeof(k->srv));
	k->port = f->sport;
	k->proto = f->proto;
}

static bool entry_eq(const void *entry, const void *key)
{
	const struct residual_entry *e = entry;
	return memcmp(&e->key, key, sizeof(e->key)) == 0;
}

/* The head of the recency list, or NULL. */
static struct residual_entry *oldest(const struct residual_table *rt)
{
	struct dlist *l = dlist_first(&rt->recency);
	return l ? dlist_entry(l, struct residual_entry, link) : NULL;
}

/* An entry to hold a new block at time now_us: an unused one while the pool
 * lasts, else the head of the list, forgotten.  A block older than the
 * residual window is dead anyway: dropping it is not counted. */
static struct residual_entry *entry_take(struct residual_table *rt, uint64_t now_us,
					 uint64_t keep_us)
{
	struct residual_entry *e = oldest(rt);
	if (rt->n_pool < rt->cap && (!e || e->used))
		return &rt->pool[rt->n_pool++];
	dlist_unlink(&e->link);
	if (e->used) {
		htab_remove(&rt->tab, e->h, e);
		e->used = 0;
		if (e->blocked_us + keep_us >= now_us)
			rt->st.evicted++;
	}
	return e;
}

/* Remember a new block; NULL (counted) when the table refuses it. */
static struct residual_entry *entry_add(struct residual_table *rt, const struct residual_key *k,
					uint64_t h, uint64_t now_us, uint64_t keep_us)
{
	struct residual_entry *e = entry_take(rt, now_us, keep_us);
	e->key = *k;
	e->h = h;
	if (htab_insert(&rt->tab, h, e) < 0) {
		dlist_push_head(&rt->recency, &e->link); /* unused: the first to be taken again */
		rt->st.evicted++;
		return NULL;
	}
	e->used = 1;
	dlist_push_tail(&rt->recency, &e->link);
	return e;
}

void residual_apply(struct residual_table *rt, const struct verdict_cfg *cfg,
		    const struct flow *f, struct verdict_result *vr)
{
	if (!rt || !f || !vr)
		return;
	struct residual_key k;
	key_of(f, &k);
	uint64_t h = hseed_hash(&rt->seed, &k, sizeof(k));
	struct residual_entry *e = htab_find(&rt->tab, h, entry_eq, &k);
	if (e && verdict_is_failure(vr->verdict) && e->blocked_us <= f->first_us &&
	    f->first_us - e->blocked_us <= cfg->residual_us) {
		vr->residual = true;
		rt->st.residual++;
	}
	if (!verdict_is_interference(vr->verdict))
		return;
	uint64_t when = vr->blocked_at_us ? vr->blocked_at_us : f->first_us;
	if (!e) {
		if (!(e = entry_add(rt, &k, h, when, cfg->residual_us)))
			return;
	} else if (e->blocked_us > when) {
		return; /* keep the later block */
	} else {
		dlist_unlink(&e->link); /* renewed: the last to be forgotten */
		dlist_push_tail(&rt->recency, &e->link);
	}
	e->blocked_us = when;
	rt->st.recorded++;
}
