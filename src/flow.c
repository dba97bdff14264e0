/* flow.c - bidirectional flow table with symmetric seeded hashing, idle
 * expiry on packet time and a hard cap with longest-idle eviction. */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "htab.h"

struct flow_list {
	struct flow *head, *tail; /* head = least recently active */
};

struct flow_table {
	struct htab tab;
	struct hseed seed;
	uint32_t max_flows;
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

/* One hash per packet, the same both ways: the two endpoints (address,
 * port) go in memcmp order, then the protocol, and the key goes through
 * SipHash under the start-up seed.  Ordering the endpoints, rather than
 * folding two endpoint hashes together with a symmetric operation, keeps
 * (A,B) and (B,A) equal without making other endpoint pairs collide.
 *
 * When both addresses are IPv4 (in the IPv4-mapped form every packet
 * carries) only their last 4 bytes go in: each endpoint is a 48-bit number,
 * and the pair with the protocol fills two words (hseed_hash_words), two
 * SipHash blocks instead of the five of the 37-byte key.  The hash is still
 * a function of the 16-byte addresses flow_eq compares, and the two kinds
 * of key never meet: their last blocks carry different lengths. */

#define EP6_LEN 18 /* IPv6 address, port */
#define TUPLE4_LEN 13 /* two 6-byte endpoints and the protocol */

/* Bytes 0..11 of an address are those of an IPv4-mapped one (::ffff:0:0/96). */
static bool v4_mapped(const struct ts_addr *a)
{
	uint64_t hi;
	uint32_t mid;
	memcpy(&hi, a->a, 8);
	memcpy(&mid, a->a + 8, 4);
	return hi == 0 && mid == htobe32(0xffff);
}

/* An IPv4 endpoint as a 48-bit number: comparing two is comparing their
 * bytes (address, then port, big-endian) in memcmp order. */
static uint64_t endpoint4(const struct ts_addr *a, uint16_t port)
{
	uint32_t v;
	memcpy(&v, a->a + 12, 4);
	return (uint64_t)be32toh(v) << 16 | port;
}

static uint64_t tuple_hash4(const struct hseed *seed, const struct ts_addr *a, uint16_t pa,
			    const struct ts_addr *b, uint16_t pb, uint8_t proto)
{
	uint64_t x = endpoint4(a, pa), y = endpoint4(b, pb);
	uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
	return hseed_hash_words(seed, lo | (uint64_t)proto << 48,
				hi | (uint64_t)TUPLE4_LEN << 56);
}

static void put_endpoint6(uint8_t *k, const struct ts_addr *a, uint16_t port)
{
	memcpy(k, a->a, 16);
	k[16] = (uint8_t)(port >> 8);
	k[17] = (uint8_t)port;
}

static uint64_t tuple_hash6(const struct hseed *seed, const struct ts_addr *a, uint16_t pa,
			    const struct ts_addr *b, uint16_t pb, uint8_t proto)
{
	uint8_t k[2 * EP6_LEN + 1];
	put_endpoint6(k, a, pa);
	put_endpoint6(k + EP6_LEN, b, pb);
	if (memcmp(k, k + EP6_LEN, EP6_LEN) > 0) {
		put_endpoint6(k, b, pb);
		put_endpoint6(k + EP6_LEN, a, pa);
	}
	k[2 * EP6_LEN] = proto;
	return hseed_hash(seed, k, sizeof(k));
}

uint64_t flow_hash(const struct flow_table *ft, const struct ts_packet *p)
{
	if (v4_mapped(&p->src) && v4_mapped(&p->dst))
		return tuple_hash4(&ft->seed, &p->src, p->sport, &p->dst, p->dport, p->proto);
	return tuple_hash6(&ft->seed, &p->src, p->sport, &p->dst, p->dport, p->proto);
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

struct flow_table *flow_table_new(uint32_t max_flows, const struct hseed *seed,
				  uint64_t idle_us, uint64_t linger_us,
				  flow_end_cb cb, void *cb_arg)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft)
		return NULL;
	if (max_flows < 1)
		max_flows = 1;
	/* Room for max_flows at a quarter load: under the churn of flows a
	 * half-full table would refuse an insert now and then. */
	uint32_t max_slots = max_flows < (1u << 28) ? max_flows * 4 : 1u << 30;
	if (htab_init(&ft->tab, 1024, max_slots) < 0) {
		free(ft);
		return NULL;
	}
	ft->max_flows = max_flows;
	ft->seed = *seed;
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
	htab_free(&ft->tab);
	free(ft);
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *ft)
{
	return &ft->st;
}

static void flow_end(struct flow_table *ft, struct flow *f, enum flow_end why)
{
	list_unlink(list_of(ft, f), f);
	htab_remove(&ft->tab, f->hash, f);
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
				uint64_t h, int *dir)
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
	if (htab_insert(&ft->tab, h, f) < 0) {
		free(f);
		return NULL;
	}
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
	list_append(&ft->open, f);
	ft->st.created++;
	ft->st.active++;
	if (ft->st.active > ft->st.max_active)
		ft->st.max_active = ft->st.active;
	return f;
}

/* Is p a packet of f, in one direction or the other? */
static bool flow_eq(const void *entry, const void *key)
{
	const struct flow *f = entry;
	const struct ts_packet *p = key;
	if (f->proto != p->proto)
		return false;
	return (same_endpoint(&f->cli, f->cport, &p->src, p->sport) &&
		same_endpoint(&f->srv, f->sport, &p->dst, p->dport)) ||
	       (same_endpoint(&f->srv, f->sport, &p->src, p->sport) &&
		same_endpoint(&f->cli, f->cport, &p->dst, p->dport));
}

/* The client sends its SYN again with the same initial sequence number
 * after a RST answered it (Windows retries twice): the same connection
 * attempt, not a new one - three flows would look like three refusals. */
static bool syn_retry(const struct flow *f, const struct ts_packet *p, bool c2s)
{
	return c2s && tcpobs_has(&f->obs, OBS_SYN) && !tcpobs_has(&f->obs, OBS_SYNACK) &&
	       p->seq == f->obs.cli_isn;
}

struct flow *flow_lookup(struct flow_table *ft, const struct ts_packet *p,
			 int *dir, bool *created)
{
	uint64_t h = flow_hash(ft, p);
	struct flow *f = htab_find(&ft->tab, h, flow_eq, p);
	*created = false;
	if (f) {
		/* A fresh SYN on a closed or long-idle tuple is a new
		 * connection (port reuse), not part of the old one. */
		bool pure_syn = p->proto == 6 &&
				(p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
		bool c2s = same_endpoint(&f->cli, f->cport, &p->src, p->sport);
		bool idle = p->ts_us >= f->last_us + ft->idle_us;
		if (pure_syn && f->closing && !idle && syn_retry(f, p, c2s)) {
			list_unlink(&ft->closing, f);
			f->closing = 0;
			list_append(&ft->open, f);
		}
		if (!pure_syn || !(f->closing || idle)) {
			*dir = c2s ? DIR_C2S : DIR_S2C;
			return f;
		}
		flow_end(ft, f, FLOW_END_REUSED);
	}
	f = flow_create(ft, p, h, dir);
	if (f)
		*created = true;
	return f;
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
