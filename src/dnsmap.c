/* dnsmap.c - the name/address memory of DNS answers (RFC 1035 section
 * 3.4.1 A records, RFC 3596 AAAA); what it is for is in dnsmap.h. */
#include <stdlib.h>
#include <string.h>

#include "dnsmap.h"
#include "htab.h"

/* Kinds of entries, in one table each. */
enum { BY_CLIENT = 0, BY_NAME = 1 };

struct entry {
	struct entry *older, *newer;  /* insertion order, for eviction */
	uint64_t hash;
	struct ts_addr a, b;          /* BY_CLIENT: client, address; BY_NAME: address (b unused) */
	uint64_t ts_us;               /* BY_CLIENT: the answer's time */
	uint64_t nets[DNSMAP_NETS];   /* BY_NAME: networks given the address */
	uint8_t n_nets;
	uint8_t more_nets;
	uint16_t name_len;
	char name[DNS_NAME_TEXT_MAX + 2];
};

struct table {
	struct htab h;
	struct entry *oldest, *newest;
};

struct dnsmap {
	struct hseed seed;
	uint32_t max;
	struct table t[2];
	struct dnsmap_stats st;
};

static const struct ts_addr any_addr; /* the key of a name's "any address" entry */

const char *dns_origin_name(enum dns_origin o)
{
	switch (o) {
	case DNSO_MANIPULATION: return "dns_manipulation";
	case DNSO_INTERCEPTION: return "interception";
	default: return "unknown";
	}
}

struct dnsmap *dnsmap_new(uint32_t max, const struct hseed *seed)
{
	struct dnsmap *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max = max ? max : DNSMAP_DEFAULT_MAX;
	if (seed)
		m->seed = *seed;
	else
		hseed_draw(&m->seed);
	for (int i = 0; i < 2; i++)
		if (htab_init(&m->t[i].h, 64, m->max * 2) < 0) {
			dnsmap_free(m);
			return NULL;
		}
	return m;
}

static void table_clear(struct table *t)
{
	struct entry *e = t->oldest;
	while (e) {
		struct entry *n = e->newer;
		free(e);
		e = n;
	}
	t->oldest = t->newest = NULL;
	htab_clear(&t->h);
}

void dnsmap_clear(struct dnsmap *m)
{
	for (int i = 0; i < 2; i++)
		table_clear(&m->t[i]);
}

void dnsmap_free(struct dnsmap *m)
{
	if (!m)
		return;
	for (int i = 0; i < 2; i++) {
		table_clear(&m->t[i]);
		htab_free(&m->t[i].h);
	}
	free(m);
}

const struct dnsmap_stats *dnsmap_stats(const struct dnsmap *m)
{
	return &m->st;
}

uint64_t dnsmap_net_key(uint32_t asn, const struct ts_addr *cli)
{
	if (asn)
		return asn;
	/* no ASN: the prefix, kept apart from ASNs by the top bit */
	uint64_t k = 0;
	const uint8_t *p = cli->v4 ? cli->a + 12 : cli->a;
	unsigned n = cli->v4 ? 3 : 6;
	for (unsigned i = 0; i < n; i++)
		k = k << 8 | p[i];
	return k | 1ULL << 63;
}

/* ---- entries ------------------------------------------------------------ */

struct key {
	const struct ts_addr *a, *b;  /* b NULL for BY_NAME */
	const char *name;             /* NULL for BY_CLIENT */
	size_t name_len;
};

static uint64_t key_hash(const struct dnsmap *m, const struct key *k)
{
	struct hasher h;
	hasher_init(&h, &m->seed);
	hasher_add(&h, k->a, sizeof(*k->a));
	if (k->b)
		hasher_add(&h, k->b, sizeof(*k->b));
	if (k->name)
		hasher_add(&h, k->name, k->name_len);
	return hasher_end(&h);
}

static bool key_eq_client(const void *entry, const void *key)
{
	const struct entry *e = entry;
	const struct key *k = key;
	return memcmp(&e->a, k->a, sizeof(e->a)) == 0 && memcmp(&e->b, k->b, sizeof(e->b)) == 0;
}

static bool key_eq_name(const void *entry, const void *key)
{
	const struct entry *e = entry;
	const struct key *k = key;
	return e->name_len == k->name_len && memcmp(&e->a, k->a, sizeof(e->a)) == 0 &&
	       memcmp(e->name, k->name, k->name_len) == 0;
}

static void unlink_entry(struct table *t, struct entry *e)
{
	if (e->older)
		e->older->newer = e->newer;
	else
		t->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		t->newest = e->older;
	e->older = e->newer = NULL;
}

static void push_newest(struct table *t, struct entry *e)
{
	e->older = t->newest;
	if (t->newest)
		t->newest->newer = e;
	else
		t->oldest = e;
	t->newest = e;
}

/* Find or make the entry of k in table i (the newest one when made). */
static struct entry *get(struct dnsmap *m, int i, const struct key *k)
{
	struct table *t = &m->t[i];
	uint64_t h = key_hash(m, k);
	struct entry *e = htab_find(&t->h, h, i == BY_CLIENT ? key_eq_client : key_eq_name, k);
	if (e)
		return e;
	if (t->h.used >= m->max && t->oldest) {
		struct entry *old = t->oldest;
		unlink_entry(t, old);
		htab_remove(&t->h, old->hash, old);
		free(old);
		m->st.evicted++;
	}
	if (!(e = calloc(1, sizeof(*e))) || htab_insert(&t->h, h, e) < 0) {
		free(e);
		m->st.alloc_failed++;
		return NULL;
	}
	e->hash = h;
	e->a = *k->a;
	if (k->b)
		e->b = *k->b;
	if (k->name) {
		memcpy(e->name, k->name, k->name_len);
		e->name_len = (uint16_t)k->name_len;
	}
	push_newest(t, e);
	return e;
}

static void add_net(struct entry *e, uint64_t net)
{
	for (unsigned i = 0; i < e->n_nets; i++)
		if (e->nets[i] == net)
			return;
	if (e->n_nets < DNSMAP_NETS)
		e->nets[e->n_nets++] = net;
	else
		e->more_nets = 1;
}

static void note_name(struct dnsmap *m, const char *name, size_t len, const struct ts_addr *a,
		      uint64_t net)
{
	struct key k = { a, NULL, name, len };
	struct entry *e = get(m, BY_NAME, &k);
	if (e)
		add_net(e, net);
}

void dnsmap_note(struct dnsmap *m, const struct ts_addr *cli, uint64_t net, const char *name,
		 const struct ts_addr *addrs, unsigned n, uint64_t ts_us)
{
	size_t len = strnlen(name, DNS_NAME_TEXT_MAX + 1);
	note_name(m, name, len, &any_addr, net);
	for (unsigned i = 0; i < n; i++) {
		struct key k = { cli, &addrs[i], NULL, 0 };
		struct entry *e = get(m, BY_CLIENT, &k);
		if (e && ts_us >= e->ts_us) {
			memcpy(e->name, name, len);
			e->name[len] = '\0';
			e->name_len = (uint16_t)len;
			e->ts_us = ts_us;
			m->st.noted++;
		}
		note_name(m, name, len, &addrs[i], net);
	}
}

const char *dnsmap_name(const struct dnsmap *m, const struct ts_addr *cli,
			const struct ts_addr *addr, uint64_t ts_us)
{
	struct key k = { cli, addr, NULL, 0 };
	const struct entry *e = htab_find(&m->t[BY_CLIENT].h, key_hash(m, &k), key_eq_client, &k);
	if (!e || e->ts_us > ts_us || ts_us - e->ts_us > DNSMAP_MAX_AGE_US)
		return NULL;
	return e->name;
}

static const struct entry *name_entry(const struct dnsmap *m, const char *name,
				      const struct ts_addr *a)
{
	struct key k = { a, NULL, name, strnlen(name, DNS_NAME_TEXT_MAX + 1) };
	return htab_find(&m->t[BY_NAME].h, key_hash(m, &k), key_eq_name, &k);
}

static bool has_net(const struct entry *e, uint64_t net)
{
	for (unsigned i = 0; i < e->n_nets; i++)
		if (e->nets[i] == net)
			return true;
	return false;
}

static bool other_net(const struct entry *e, uint64_t net)
{
	return e && (e->more_nets || e->n_nets > has_net(e, net));
}

enum dns_origin dnsmap_origin(const struct dnsmap *m, const char *name,
			      const struct ts_addr *addr, uint64_t net)
{
	const struct entry *any = name_entry(m, name, &any_addr);
	if (!other_net(any, net))
		return DNSO_UNKNOWN;       /* no other network resolved the name */
	const struct entry *got = name_entry(m, name, addr);
	if (other_net(got, net))
		return DNSO_INTERCEPTION;  /* others are sent to the same address */
	return got && has_net(got, net) ? DNSO_MANIPULATION : DNSO_UNKNOWN;
}
