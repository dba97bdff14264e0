/* dnstxn.c - the DNS stage: messages of UDP datagrams and of TCP streams
 * (RFC 1035 section 4.2.2, RFC 7766 section 8: two-byte length prefix)
 * paired into transactions (RFC 1035 section 7.3: id and question). */
#include <stdlib.h>
#include <string.h>

#include "dnstxn.h"
#include "seq.h"

/* One direction of a TCP flow to port 53, read in order: the framing of
 * RFC 1035 section 4.2.2 over the bytes as they arrive.  A hole in the
 * sequence space ends the reading (counted): a message after a lost
 * segment cannot be framed. */
struct dns_tcp_dir {
	uint32_t next_seq;
	uint8_t started;          /* next_seq known (the SYN was seen) */
	uint8_t dead;             /* a gap or a midstream start: no more messages */
	uint8_t hdr_have;         /* length prefix bytes read (0..2) */
	uint8_t hdr[2];
	uint16_t need;            /* message length from the prefix */
	uint32_t have;            /* message bytes read */
	uint8_t *buf;             /* NULL while skipping an oversized message */
};

struct dns_flow {
	uint32_t msgs;            /* DNS messages parsed in this flow */
	struct dns_tcp_dir *tcp[2];
};

struct resolver {
	struct ts_addr addr;
	uint64_t answered;        /* transactions with at least one response */
};

struct dnstxn {
	struct dnstxn_cfg cfg;
	struct hseed seed;
	struct htab txns, resolvers;
	struct dns_txn *oldest, *newest;
	struct dnstxn_stats st;
};

struct dnstxn *dnstxn_new(const struct dnstxn_cfg *cfg)
{
	struct dnstxn *ds = calloc(1, sizeof(*ds));
	if (!ds)
		return NULL;
	ds->cfg = *cfg;
	if (!ds->cfg.max_txns)
		ds->cfg.max_txns = DNSTXN_DEFAULT_MAX;
	if (cfg->seed)
		ds->seed = *cfg->seed;
	else
		hseed_draw(&ds->seed);
	if (htab_init(&ds->txns, 64, ds->cfg.max_txns * 2) < 0 ||
	    htab_init(&ds->resolvers, 16, DNSTXN_MAX_RESOLVERS * 2) < 0) {
		dnstxn_free(ds);
		return NULL;
	}
	return ds;
}

static void resolvers_clear(struct dnstxn *ds)
{
	void *e;
	for (uint32_t i = 0; (e = htab_next(&ds->resolvers, &i));)
		free(e);
	htab_clear(&ds->resolvers);
}

void dnstxn_free(struct dnstxn *ds)
{
	if (!ds)
		return;
	struct dns_txn *t = ds->oldest;
	while (t) {
		struct dns_txn *n = t->newer;
		free(t);
		t = n;
	}
	resolvers_clear(ds);
	htab_free(&ds->txns);
	htab_free(&ds->resolvers);
	free(ds);
}

const struct dnstxn_stats *dnstxn_stats(const struct dnstxn *ds)
{
	return &ds->st;
}

/* ---- resolvers --------------------------------------------------------- */

static bool resolver_eq(const void *entry, const void *key)
{
	return memcmp(&((const struct resolver *)entry)->addr, key, sizeof(struct ts_addr)) == 0;
}

static struct resolver *resolver_get(struct dnstxn *ds, const struct ts_addr *a, bool create)
{
	uint64_t h = hseed_hash(&ds->seed, a, sizeof(*a));
	struct resolver *r = htab_find(&ds->resolvers, h, resolver_eq, a);
	if (r || !create)
		return r;
	if (ds->resolvers.used >= DNSTXN_MAX_RESOLVERS || !(r = calloc(1, sizeof(*r)))) {
		ds->st.resolvers_full++;
		return NULL;
	}
	r->addr = *a;
	if (htab_insert(&ds->resolvers, h, r) < 0) {
		free(r);
		ds->st.resolvers_full++;
		return NULL;
	}
	return r;
}

/* ---- transactions -------------------------------------------------------- */

/* The key of a message: the query's sender is the client. */
struct txn_key {
	const struct ts_addr *cli, *srv;
	uint16_t cport, sport, id, qtype, qclass, qname_len;
	const char *qname;
};

static void key_of(const struct ts_packet *p, const struct dns_msg *m, struct txn_key *k)
{
	bool from_client = !m->qr;
	k->cli = from_client ? &p->src : &p->dst;
	k->srv = from_client ? &p->dst : &p->src;
	k->cport = from_client ? p->sport : p->dport;
	k->sport = from_client ? p->dport : p->sport;
	k->id = m->id;
	k->qtype = m->qtype;
	k->qclass = m->qclass;
	k->qname = m->qname;
	k->qname_len = m->qname_len;
}

static uint64_t key_hash(const struct dnstxn *ds, const struct txn_key *k)
{
	struct hasher h;
	uint16_t w[5] = { k->cport, k->sport, k->id, k->qtype, k->qclass };
	hasher_init(&h, &ds->seed);
	hasher_add(&h, k->cli, sizeof(*k->cli));
	hasher_add(&h, k->srv, sizeof(*k->srv));
	hasher_add(&h, w, sizeof(w));
	hasher_add(&h, k->qname, k->qname_len);
	return hasher_end(&h);
}

static bool txn_eq(const void *entry, const void *key)
{
	const struct dns_txn *t = entry;
	const struct txn_key *k = key;
	return t->id == k->id && t->cport == k->cport && t->sport == k->sport &&
	       t->qtype == k->qtype && t->qclass == k->qclass && t->qname_len == k->qname_len &&
	       memcmp(&t->cli, k->cli, sizeof(t->cli)) == 0 &&
	       memcmp(&t->srv, k->srv, sizeof(t->srv)) == 0 &&
	       memcmp(t->qname, k->qname, k->qname_len) == 0;
}

static void list_unlink(struct dnstxn *ds, struct dns_txn *t)
{
	if (t->older)
		t->older->newer = t->newer;
	else
		ds->oldest = t->newer;
	if (t->newer)
		t->newer->older = t->older;
	else
		ds->newest = t->older;
	t->older = t->newer = NULL;
}

/* Finish one transaction: out of the table, to the engine, freed. */
static void finish(struct dnstxn *ds, struct dns_txn *t, enum dnstxn_end why)
{
	list_unlink(ds, t);
	htab_remove(&ds->txns, t->hash, t);
	struct resolver *r = resolver_get(ds, &t->srv, false);
	t->resolver_answered = r ? r->answered - (t->n_resp > 0) : 0;
	ds->cfg.done(ds->cfg.arg, t, why);
	free(t);
}

static void open_txn(struct dnstxn *ds, struct flow *f, const struct ts_packet *p,
		     const struct dns_msg *m, const struct txn_key *k, uint64_t h)
{
	if (ds->txns.used >= ds->cfg.max_txns && ds->oldest) {
		ds->st.txns_evicted++;
		finish(ds, ds->oldest, DNSTXN_EVICTED);
	}
	struct dns_txn *t = calloc(1, sizeof(*t));
	if (!t || htab_insert(&ds->txns, h, t) < 0) {
		free(t);
		ds->st.txns_refused++;
		return;
	}
	ds->st.txns++;
	t->hash = h;
	t->cli = *k->cli;
	t->srv = *k->srv;
	t->cport = k->cport;
	t->sport = k->sport;
	t->id = m->id;
	t->qtype = m->qtype;
	t->qclass = m->qclass;
	t->qname_len = m->qname_len;
	memcpy(t->qname, m->qname, sizeof(t->qname));
	t->proto = p->proto;
	t->flow_id = f->id;
	t->query_us = t->last_us = p->ts_us;
	t->query_ttl = p->ttl;
	t->rd = m->rd;
	t->edns = m->edns;
	t->edns_do = m->edns_do;
	t->edns_udp_size = m->edns_udp_size;
	t->older = ds->newest;
	if (ds->newest)
		ds->newest->newer = t;
	else
		ds->oldest = t;
	ds->newest = t;
}

static void on_query(struct dnstxn *ds, struct flow *f, const struct ts_packet *p,
		     const struct dns_msg *m, uint32_t len)
{
	struct txn_key k;
	key_of(p, m, &k);
	uint64_t h = key_hash(ds, &k);
	struct dns_txn *t = htab_find(&ds->txns, h, txn_eq, &k);
	if (!t) {
		open_txn(ds, f, p, m, &k, h);
		t = htab_find(&ds->txns, h, txn_eq, &k);
		if (!t)
			return;
	}
	t->queries++;
	t->pkts[DIR_C2S]++;
	t->bytes[DIR_C2S] += len;
	if (p->ts_us > t->last_us)
		t->last_us = p->ts_us;
}

static void fill_response(struct dns_response *r, const struct ts_packet *p,
			  const struct dns_msg *m)
{
	r->ts_us = p->ts_us;
	r->ip_ttl = p->ttl;
	r->ip_id = p->ip_id;
	r->ip_version = p->ip_version;
	r->rcode = m->rcode;
	r->aa = m->aa;
	r->tc = m->tc;
	r->answers = m->answers;
	memcpy(r->addrs, m->addrs, sizeof(r->addrs));
	r->n_addrs = m->n_addrs;
	r->has_ttl = m->has_ttl;
	r->min_ttl = m->min_ttl;
	memcpy(r->cname, m->cname, sizeof(r->cname));
}

static void on_response(struct dnstxn *ds, const struct ts_packet *p, const struct dns_msg *m,
			uint32_t len)
{
	struct txn_key k;
	key_of(p, m, &k);
	struct dns_txn *t = htab_find(&ds->txns, key_hash(ds, &k), txn_eq, &k);
	if (!t) {
		ds->st.unmatched++;
		return;
	}
	if (t->n_resp == 0) {
		struct resolver *r = resolver_get(ds, &t->srv, true);
		if (r)
			r->answered++;
	}
	t->responses++;
	t->pkts[DIR_S2C]++;
	t->bytes[DIR_S2C] += len;
	if (p->ts_us > t->last_us)
		t->last_us = p->ts_us;
	if (t->n_resp >= DNSTXN_MAX_RESPONSES) {
		ds->st.resp_dropped++;
		return;
	}
	struct dns_response *r = &t->resp[t->n_resp++];
	fill_response(r, p, m);
	if (ds->cfg.answer && r->n_addrs)
		ds->cfg.answer(ds->cfg.arg, t, r);
}

/* ---- messages ---------------------------------------------------------- */

static struct dns_flow *flow_state(struct flow *f)
{
	if (!f->dns)
		f->dns = calloc(1, sizeof(*f->dns));
	return f->dns;
}

/* One whole DNS message (a UDP payload or a TCP-framed message).  cut: the
 * capture holds fewer bytes than the sender sent. */
static void on_message(struct dnstxn *ds, struct flow *f, const struct ts_packet *p,
		       const uint8_t *msg, uint32_t len, bool cut)
{
	struct dns_msg m;
	enum dns_result r = dns_parse(msg, len, &m);
	if (r == DNS_TRUNCATED && cut) {
		ds->st.truncated++;
		return;
	}
	if (r != DNS_OK) {
		/* a whole datagram whose records overrun it contradicts itself */
		ds->st.malformed++;
		ds->st.bad[r == DNS_MALFORMED ? m.bad : DNSB_NONE]++;
		return;
	}
	ds->st.messages++;
	ds->st.rr_cap += m.rr_cap;
	struct dns_flow *df = flow_state(f);
	if (df)
		df->msgs++;
	if (m.opcode != 0) {
		ds->st.not_query++;
		return;
	}
	if (m.qr) {
		ds->st.responses++;
		on_response(ds, p, &m, p->l3_len);
	} else {
		ds->st.queries++;
		on_query(ds, f, p, &m, p->l3_len);
	}
}

/* ---- TCP framing ------------------------------------------------------- */

static void tcp_bytes(struct dnstxn *ds, struct flow *f, struct dns_tcp_dir *d,
		      const struct ts_packet *p, const uint8_t *b, uint32_t n)
{
	while (n > 0) {
		if (d->hdr_have < 2) {
			d->hdr[d->hdr_have++] = *b++;
			n--;
			if (d->hdr_have < 2)
				continue;
			d->need = (uint16_t)(d->hdr[0] << 8 | d->hdr[1]);
			d->have = 0;
			free(d->buf);
			d->buf = NULL;
			if (d->need > DNSTXN_TCP_MSG_MAX)
				ds->st.tcp_oversize++;
			else if (d->need && !(d->buf = malloc(d->need)))
				ds->st.tcp_alloc_failed++;
		}
		uint32_t take = d->need - d->have < n ? d->need - d->have : n;
		if (d->buf)
			memcpy(d->buf + d->have, b, take);
		d->have += take;
		b += take;
		n -= take;
		if (d->have == d->need) {
			if (d->buf)
				on_message(ds, f, p, d->buf, d->need, false);
			free(d->buf);
			d->buf = NULL;
			d->hdr_have = 0;
		}
	}
}

static void tcp_packet(struct dnstxn *ds, struct flow *f, const struct ts_packet *p, int dir)
{
	struct dns_flow *df = flow_state(f);
	if (!df)
		return;
	if (!df->tcp[dir] && !(df->tcp[dir] = calloc(1, sizeof(*df->tcp[dir])))) {
		ds->st.tcp_alloc_failed++;
		return;
	}
	struct dns_tcp_dir *d = df->tcp[dir];
	if (p->tcp_flags & TH_SYN) {
		d->next_seq = p->seq + 1;
		d->started = 1;
		return;
	}
	if (d->dead || p->payload_len == 0)
		return;
	if (!d->started) {
		ds->st.tcp_midstream++;
		d->dead = 1;
		return;
	}
	uint32_t seq = p->seq, n = p->payload_len;
	const uint8_t *b = p->payload;
	if (seq_lt(seq, d->next_seq)) { /* a retransmission, perhaps with new bytes */
		uint32_t old = seq_diff(seq, d->next_seq);
		if (old >= n)
			return;
		b += old;
		n -= old;
		seq = d->next_seq;
	}
	if (seq != d->next_seq || p->payload_truncated) {
		ds->st.tcp_gaps++;
		d->dead = 1;
		return;
	}
	d->next_seq += n;
	tcp_bytes(ds, f, d, p, b, n);
}

void dnstxn_packet(struct dnstxn *ds, struct flow *f, const struct ts_packet *p, int dir)
{
	if (p->proto == 6)
		tcp_packet(ds, f, p, dir);
	else if (p->proto == 17 && p->payload_len > 0)
		on_message(ds, f, p, p->payload, p->payload_len,
			   p->payload_truncated || p->payload_len < p->payload_wire_len);
}

/* ---- ends -------------------------------------------------------------- */

void dnstxn_expire(struct dnstxn *ds, uint64_t now_us)
{
	while (ds->oldest && ds->oldest->query_us + ds->cfg.window_us <= now_us)
		finish(ds, ds->oldest, DNSTXN_WINDOW);
}

void dnstxn_flush(struct dnstxn *ds, enum dnstxn_end why)
{
	while (ds->oldest)
		finish(ds, ds->oldest, why);
}

void dnstxn_forget(struct dnstxn *ds)
{
	resolvers_clear(ds);
}

bool dns_flow_represented(const struct flow *f)
{
	return f->dns && f->dns->msgs > 0;
}

void dns_flow_release(struct flow *f)
{
	if (!f->dns)
		return;
	for (int d = 0; d < 2; d++) {
		if (f->dns->tcp[d])
			free(f->dns->tcp[d]->buf);
		free(f->dns->tcp[d]);
	}
	free(f->dns);
	f->dns = NULL;
}

/* ---- answers ----------------------------------------------------------- */

static bool addr_in(const struct ts_addr *a, const struct dns_response *r)
{
	for (unsigned i = 0; i < r->n_addrs; i++)
		if (memcmp(&r->addrs[i], a, sizeof(*a)) == 0)
			return true;
	return false;
}

bool dns_response_same_answer(const struct dns_response *a, const struct dns_response *b)
{
	if (a->rcode != b->rcode || a->n_addrs != b->n_addrs || strcmp(a->cname, b->cname) != 0)
		return false;
	/* the same set in any order: resolvers rotate round-robin answers */
	for (unsigned i = 0; i < a->n_addrs; i++)
		if (!addr_in(&a->addrs[i], b))
			return false;
	return true;
}
