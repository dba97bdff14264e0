/* flow.c - bidirectional flow table with symmetric seeded hashing, idle
 * expiry on packet time and a hard cap with longest-idle eviction. */
#include <stdlib.h>
#include <string.h>

#include "flow.h"

struct flow_list {
	struct flow *head, *tail; /* head = least recently active */
};

struct flow_table {
	struct flow **buckets;
	uint32_t mask;
	uint32_t max_flows;
	uint64_t seed;
	uint64_t idle_us, linger_us;
	uint64_t next_id;
	struct flow_list open, closing;
	flow_end_cb cb;
	void *cb_arg;
	struct flow_table_stats st;
};

const char *flow_end_name(enum flow_end e)
{
	switch (e) {
	case FLOW_END_CLOSED: return "closed";
	case FLOW_END_IDLE: return "timeout";
	case FLOW_END_EVICTED: return "evicted";
	case FLOW_END_REUSED: return "reused";
	case FLOW_END_EOF: return "end_of_input";
	case FLOW_END_SHUTDOWN: return "shutdown";
	case FLOW_END_NONE: return "open";
	}
	return "none";
}

/* ---- hashing ---------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: cheap and well distributed */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint64_t endpoint_hash(const struct ts_addr *a, uint16_t port)
{
	return mix64(load64(a->a) ^ mix64(load64(a->a + 8) ^ port));
}

/* Order the two endpoints so both directions hash alike; the ordered pair
 * keeps (A,B) and (B,A) equal without letting a XOR of identical halves
 * collapse to zero. */
static uint32_t tuple_hash(uint64_t seed, const struct ts_addr *a, uint16_t pa,
			   const struct ts_addr *b, uint16_t pb, uint8_t proto)
{
	uint64_t ha = endpoint_hash(a, pa), hb = endpoint_hash(b, pb);
	uint64_t lo = ha < hb ? ha : hb, hi = ha < hb ? hb : ha;
	uint64_t h = mix64(seed ^ lo) + hi * 0x9e3779b97f4a7c15ULL + proto;
	return (uint32_t)(mix64(h) >> 32);
}

uint32_t flow_hash(const struct flow_table *ft, const struct ts_packet *p)
{
	return tuple_hash(ft->seed, &p->src, p->sport, &p->dst, p->dport, p->proto);
}

/* ---- lists ------------------------------------------------------------ */

static void list_unlink(struct flow_list *l, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		l->head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NULL;
}

static void list_append(struct flow_list *l, struct flow *f)
{
	f->next = NULL;
	f->prev = l->tail;
	if (l->tail)
		l->tail->next = f;
	else
		l->head = f;
	l->tail = f;
}

static struct flow_list *list_of(struct flow_table *ft, struct flow *f)
{
	return f->closing ? &ft->closing : &ft->open;
}

/* ---- table ------------------------------------------------------------ */

struct flow_table *flow_table_new(uint32_t max_flows, uint64_t seed,
				  uint64_t idle_us, uint64_t linger_us,
				  flow_end_cb cb, void *cb_arg)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	if (max_flows < 1)
		max_flows = 1;
	uint32_t nb = 64;
	while (nb < max_flows && nb < (1u << 30))
		nb <<= 1;
	ft->buckets = calloc(nb, sizeof(*ft->buckets));
	if (!ft->buckets) {
		free(ft);
		return NULL;
	}
	ft->mask = nb - 1;
	ft->max_flows = max_flows;
	ft->seed = seed;
	ft->idle_us = idle_us;
	ft->linger_us = linger_us;
	ft->cb = cb;
	ft->cb_arg = cb_arg;
	return ft;
}

void flow_table_free(struct flow_table *ft)
{
	if (!ft)
		return;
	/* Flows left (flush not called) are freed without callbacks. */
	struct flow_list *lists[2] = { &ft->open, &ft->closing };
	for (int i = 0; i < 2; i++) {
		struct flow *f = lists[i]->head;
		while (f) {
			struct flow *n = f->next;
			free(f);
			f = n;
		}
	}
	free(ft->buckets);
	free(ft);
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

static void bucket_remove(struct flow_table *ft, struct flow *f)
{
	struct flow **pp = &ft->buckets[f->hash & ft->mask];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
}

static void flow_end(struct flow_table *ft, struct flow *f, enum flow_end why)
{
	list_unlink(list_of(ft, f), f);
	bucket_remove(ft, f);
	ft->st.ended++;
	ft->st.active--;
	if (why == FLOW_END_EVICTED)
		ft->st.evicted++;
	else if (why == FLOW_END_IDLE)
		ft->st.expired_idle++;
	if (ft->cb)
		ft->cb(ft->cb_arg, f, why);
	free(f);
}

static bool same_endpoint(const struct ts_addr *a, uint16_t pa,
			  const struct ts_addr *b, uint16_t pb)
{
	return pa == pb && memcmp(a->a, b->a, 16) == 0;
}

static bool is_well_known_server_port(uint16_t p)
{
	switch (p) {
	case 443: case 8443: case 853: case 993: case 995: case 465:
	case 636: case 989: case 990: case 992: case 994: case 5061:
	case 5223: case 6697: case 80: case 8080:
		return true;
	}
	return false;
}

/* Mid-stream pickup: which side of the packet is the server? */
static bool dst_is_server_by_port(uint16_t sport, uint16_t dport)
{
	bool s_wk = is_well_known_server_port(sport), d_wk = is_well_known_server_port(dport);
	if (s_wk != d_wk)
		return d_wk;
	bool s_low = sport < 1024, d_low = dport < 1024;
	if (s_low != d_low)
		return d_low;
	return dport <= sport;
}

static struct flow *flow_create(struct flow_table *ft, const struct ts_packet *p,
				uint32_t h, int *dir)
{
	if (ft->st.active >= ft->max_flows) {
		/* Evict the longest-idle flow, open or closing. */
		struct flow *a = ft->open.head, *b = ft->closing.head;
		struct flow *victim = a;
		if (!a || (b && b->last_us < a->last_us))
			victim = b;
		if (victim)
			flow_end(ft, victim, FLOW_END_EVICTED);
	}
	struct flow *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	bool src_is_client;
	if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		src_is_client = true;
		f->role_src = ROLE_SYN;
	} else if (p->proto == 6 && (p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
		src_is_client = false;
		f->role_src = ROLE_SYNACK;
	} else {
		src_is_client = dst_is_server_by_port(p->sport, p->dport);
		f->role_src = ROLE_PORT;
	}
	if (src_is_client) {
		f->cli = p->src;
		f->cport = p->sport;
		f->srv = p->dst;
		f->sport = p->dport;
		*dir = DIR_C2S;
	} else {
		f->cli = p->dst;
		f->cport = p->dport;
		f->srv = p->src;
		f->sport = p->sport;
		*dir = DIR_S2C;
	}
	f->proto = p->proto;
	f->hash = h;
	f->id = ++ft->next_id;
	f->first_us = f->last_us = p->ts_us;
	tcpobs_init(&f->obs);
	f->hnext = ft->buckets[h & ft->mask];
	ft->buckets[h & ft->mask] = f;
	list_append(&ft->open, f);
	ft->st.created++;
	ft->st.active++;
	if (ft->st.active > ft->st.max_active)
		ft->st.max_active = ft->st.active;
	return f;
}

struct flow *flow_lookup(struct flow_table *ft, const struct ts_packet *p,
			 int *dir, bool *created)
{
	uint32_t h = flow_hash(ft, p);
	*created = false;
	for (struct flow *f = ft->buckets[h & ft->mask]; f; f = f->hnext) {
		if (f->hash != h || f->proto != p->proto)
			continue;
		int d;
		if (same_endpoint(&f->cli, f->cport, &p->src, p->sport) &&
		    same_endpoint(&f->srv, f->sport, &p->dst, p->dport))
			d = DIR_C2S;
		else if (same_endpoint(&f->srv, f->sport, &p->src, p->sport) &&
			 same_endpoint(&f->cli, f->cport, &p->dst, p->dport))
			d = DIR_S2C;
		else
			continue;
		/* A fresh SYN on a closed or long-idle tuple is a new
		 * connection (port reuse), not part of the old one. */
		bool pure_syn = p->proto == 6 &&
				(p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
		if (pure_syn && (f->closing || p->ts_us >= f->last_us + ft->idle_us)) {
			flow_end(ft, f, FLOW_END_REUSED);
			break;
		}
		*dir = d;
		return f;
	}
	struct flow *nf = flow_create(ft, p, h, dir);
	if (nf)
		*created = true;
	return nf;
}

void flow_touch(struct flow_table *ft, struct flow *f, uint64_t ts_us)
{
	if (ts_us > f->last_us)
		f->last_us = ts_us;
	struct flow_list *l = list_of(ft, f);
	if (l->tail != f) {
		list_unlink(l, f);
		list_append(l, f);
	}
}

void flow_mark_closing(struct flow_table *ft, struct flow *f)
{
	if (f->closing)
		return;
	list_unlink(&ft->open, f);
	f->closing = 1;
	list_append(&ft->closing, f);
}

void flow_table_expire(struct flow_table *ft, uint64_t now_us)
{
	struct flow *f;
	while ((f = ft->closing.head) && f->last_us + ft->linger_us <= now_us)
		flow_end(ft, f, FLOW_END_CLOSED);
	while ((f = ft->open.head) && f->last_us + ft->idle_us <= now_us)
		flow_end(ft, f, FLOW_END_IDLE);
}

void flow_table_flush(struct flow_table *ft, enum flow_end why)
{
	struct flow *f;
	/* Oldest first, so events come out roughly in start order. */
	while ((f = ft->open.head) || (f = ft->closing.head)) {
		struct flow *g = ft->closing.head;
		if (g && g->last_us < f->last_us)
			f = g;
		flow_end(ft, f, why);
	}
}

void flow_table_foreach(struct flow_table *ft, void (*fn)(void *, struct flow *),
			void *arg)
{
	for (struct flow *f = ft->open.head; f; f = f->next)
		fn(arg, f);
	for (struct flow *f = ft->closing.head; f; f = f->next)
		fn(arg, f);
}
