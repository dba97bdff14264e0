/* report.c - the report's storage: networks, names and network x name
 * pairs in memory-capped tables, flows added, timeline buckets,
 * relabelling, and the primitives merge builds on. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn.h"
#include "report_impl.h"
#include "testlist.h"
#include "util.h"

/* Slots of each table at start: small reports never grow them. */
#define REPORT_TABLE_INITIAL 256

void report_cfg_default(struct report_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->min_flows = REPORT_DEFAULT_MIN_FLOWS;
	cfg->bucket_us = REPORT_DEFAULT_BUCKET_US;
	cfg->max_bytes = REPORT_DEFAULT_MAX_BYTES;
}

/* ---- tables under the memory cap ------------------------------------------ */

static bool mem_ok(const struct report *r, size_t more)
{
	return r->st.bytes + more <= r->cfg.max_bytes;
}

static int table_init(struct report *r, struct htab *t)
{
	if (htab_init(t, REPORT_TABLE_INITIAL, 0) < 0)
		return -1;
	r->st.bytes += htab_bytes(t);
	return 0;
}

/* May an entry of `need` bytes go into t?  An insert that doubles the
 * table allocates the new slots while the old ones are still held, so the
 * whole new array must fit too. */
static bool room_for(const struct report *r, const struct htab *t, size_t need)
{
	return mem_ok(r, need) && (!htab_needs_growth(t) || mem_ok(r, 2 * htab_bytes(t)));
}

/* Insert entry e of `need` bytes under hash h and count its memory and any
 * growth of the table.  -1 when the table refused it (the caller frees e
 * and counts the refusal). */
static int table_insert(struct report *r, struct htab *t, uint64_t h, void *e, size_t need)
{
	size_t before = htab_bytes(t);
	int rc = htab_insert(t, h, e);
	r->st.bytes += htab_bytes(t) - before; /* a refused insert may still have grown it */
	if (rc == 0)
		r->st.bytes += need;
	return rc;
}

/* ---- entries -------------------------------------------------------------- */

static uint64_t net_hash(const struct report *r, uint32_t asn)
{
	return hseed_hash(&r->seed, &asn, sizeof(asn));
}

static bool net_eq(const void *entry, const void *key)
{
	return ((const struct report_net *)entry)->asn == *(const uint32_t *)key;
}

static struct report_net *net_find(const struct report *r, uint32_t asn)
{
	return htab_find(&r->nets, net_hash(r, asn), net_eq, &asn);
}

static struct report_net *net_get(struct report *r, uint32_t asn, const char *org)
{
	struct report_net *n = net_find(r, asn);
	if (n)
		return n;
	if (!org || !org[0])
		org = ASN_UNKNOWN_ORG;
	size_t need = sizeof(*n) + strlen(org) + 1;
	if (!room_for(r, &r->nets, need))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->org = strdup(org);
	n->asn = asn;
	if (!n->org || table_insert(r, &r->nets, net_hash(r, asn), n, need) < 0) {
		free(n->org);
		free(n);
		return NULL;
	}
	r->st.nets++;
	return n;
}

struct name_key {
	const char *name;
	bool is_addr;
};

/* A server address and a server name never share an entry, even when the
 * text is the same (name_eq tells them apart; their hashes differ too).
 * The one-piece hash of the text: the incremental one, fed a kind byte
 * first, took every name a byte at a time. */
static uint64_t name_hash(const struct report *r, const struct name_key *k)
{
	uint64_t h = hseed_hash(&r->seed, k->name, strlen(k->name));
	return k->is_addr ? ~h : h;
}

static bool name_eq(const void *entry, const void *key)
{
	const struct report_name *n = entry;
	const struct name_key *k = key;
	return n->is_addr == k->is_addr && strcmp(n->name, k->name) == 0;
}

static struct report_name *name_find(const struct report *r, const char *name, bool is_addr)
{
	struct name_key k = { name, is_addr };
	return htab_find(&r->names, name_hash(r, &k), name_eq, &k);
}

struct report_category *report_cat_find(struct report *r, const char *code)
{
	for (size_t i = 0; i < r->n_cats; i++)
		if (strcmp(r->cats[i].code, code) == 0)
			return &r->cats[i];
	return NULL;
}

static struct report_category *cat_get(struct report *r, const char *code)
{
	struct report_category *c = report_cat_find(r, code);
	if (c || r->n_cats >= REPORT_MAX_CATEGORIES)
		return c;
	c = &r->cats[r->n_cats++];
	memset(c, 0, sizeof(*c));
	snprintf(c->code, sizeof(c->code), "%s", code);
	return c;
}

/* The category of a new name: the loaded test list decides when there is
 * one, else the category a merged report gave. */
static void name_category(struct report *r, struct report_name *n, const char *given)
{
	const char *cat = given;
	if (r->cfg.testlist)
		cat = n->is_addr ? NULL : testlist_category(r->cfg.testlist, n->name);
	if (!cat || !cat[0])
		return;
	struct report_category *c = cat_get(r, cat);
	if (c)
		snprintf(n->category, sizeof(n->category), "%s", c->code);
	else
		r->st.categories_dropped++;
}

/* ---- endpoints that answered ------------------------------------------------ */

/* Flows whose server answered the SYN, per "addr:port", kept until the
 * endpoint becomes a name of its own (a flow without SNI failed there) and
 * then held by the name: corroboration for SYN-level failures.  Under the
 * memory cap; what does not fit is counted. */
struct reach {
	uint64_t flows;
	char key[];
};

static bool reach_eq(const void *entry, const void *key)
{
	return strcmp(((const struct reach *)entry)->key, key) == 0;
}

static uint64_t reach_take(struct report *r, const char *key)
{
	uint64_t h = hseed_hash(&r->seed, key, strlen(key));
	struct reach *e = htab_find(&r->reach, h, reach_eq, key);
	if (!e)
		return 0;
	uint64_t n = e->flows;
	htab_remove(&r->reach, h, e);
	r->st.bytes -= sizeof(*e) + strlen(key) + 1;
	free(e);
	return n;
}

static void reach_note(struct report *r, const char *key)
{
	struct report_name *n = name_find(r, key, true);
	if (n) {
		n->reachable++;
		return;
	}
	uint64_t h = hseed_hash(&r->seed, key, strlen(key));
	struct reach *e = htab_find(&r->reach, h, reach_eq, key);
	if (e) {
		e->flows++;
		return;
	}
	size_t need = sizeof(*e) + strlen(key) + 1;
	if (!room_for(r, &r->reach, need) || !(e = calloc(1, need))) {
		r->st.reach_refused++;
		return;
	}
	memcpy(e->key, key, need - sizeof(*e));
	e->flows = 1;
	if (table_insert(r, &r->reach, h, e, need) < 0) {
		free(e);
		r->st.reach_refused++;
	}
}

static struct report_name *name_get(struct report *r, const char *name, bool is_addr,
				    const char *category)
{
	struct name_key k = { name, is_addr };
	uint64_t h = name_hash(r, &k);
	struct report_name *n = htab_find(&r->names, h, name_eq, &k);
	if (n)
		return n;
	size_t need = sizeof(*n) + strlen(name) + 1;
	if (!room_for(r, &r->names, need))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	n->is_addr = is_addr;
	n->id = (uint32_t)r->st.names;
	if (!n->name || table_insert(r, &r->names, h, n, need) < 0) {
		free(n->name);
		free(n);
		return NULL;
	}
	name_category(r, n, category);
	if (is_addr)
		n->reachable = reach_take(r, name);
	r->st.names++;
	return n;
}

struct pair_key {
	const struct report_net *net;
	const struct report_name *name;
};

/* Keyed by the network's ASN and the name's creation number: both are
 * unique within a report and cheaper to hash than the name again. */
static uint64_t pair_hash(const struct report *r, const struct pair_key *k)
{
	uint64_t id = ((uint64_t)k->net->asn << 32) | k->name->id;
	return hseed_hash(&r->seed, &id, sizeof(id));
}

static bool pair_eq(const void *entry, const void *key)
{
	const struct report_pair *p = entry;
	const struct pair_key *k = key;
	return p->net == k->net && p->name == k->name;
}

static struct report_pair *pair_find(const struct report *r, const struct report_net *net,
				     const struct report_name *nm)
{
	struct pair_key k = { net, nm };
	return htab_find(&r->pairs, pair_hash(r, &k), pair_eq, &k);
}

static struct report_pair *pair_get(struct report *r, struct report_net *net,
				    struct report_name *nm)
{
	struct pair_key k = { net, nm };
	uint64_t h = pair_hash(r, &k);
	struct report_pair *p = htab_find(&r->pairs, h, pair_eq, &k);
	if (p)
		return p;
	if (!room_for(r, &r->pairs, sizeof(*p)))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->net = net;
	p->name = nm;
	if (table_insert(r, &r->pairs, h, p, sizeof(*p)) < 0) {
		free(p);
		return NULL;
	}
	r->st.pairs++;
	return p;
}

/* ---- life cycle ------------------------------------------------------- */

static void add_listed_categories(struct report *r, const struct testlist *tl)
{
	unsigned n = testlist_n_categories(tl);
	for (unsigned i = 0; i < n && r->n_cats < REPORT_MAX_CATEGORIES; i++) {
		const char *code, *desc;
		uint64_t listed;
		testlist_category_at(tl, i, &code, &desc, &listed);
		struct report_category *c = cat_get(r, code);
		if (!c)
			break;
		snprintf(c->desc, sizeof(c->desc), "%s", desc ? desc : "");
		c->listed = listed;
	}
}

struct report *report_new(const struct report_cfg *cfg)
{
	struct report *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (r->cfg.bucket_us == 0)
		r->cfg.bucket_us = REPORT_DEFAULT_BUCKET_US;
	if (r->cfg.max_bytes == 0)
		r->cfg.max_bytes = REPORT_DEFAULT_MAX_BYTES;
	/* The seed only orders hash probes; outputs are sorted, so runs stay
	 * identical whatever it is.  A report made without an engine (merge,
	 * tests) draws its own. */
	if (cfg->seed)
		r->seed = *cfg->seed;
	else
		hseed_draw(&r->seed);
	r->cfg.seed = &r->seed;
	if (table_init(r, &r->nets) < 0 || table_init(r, &r->names) < 0 ||
	    table_init(r, &r->pairs) < 0 || table_init(r, &r->reach) < 0) {
		report_free(r);
		return NULL;
	}
	if (cfg->testlist)
		add_listed_categories(r, cfg->testlist);
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	struct report_pair *p;
	struct report_name *nm;
	struct report_net *net;
	for (uint32_t i = 0; (p = htab_next(&r->pairs, &i));) {
		free(p->b);
		free(p);
	}
	for (uint32_t i = 0; (nm = htab_next(&r->names, &i));) {
		free(nm->name);
		free(nm);
	}
	for (uint32_t i = 0; (net = htab_next(&r->nets, &i));) {
		free(net->org);
		free(net);
	}
	void *e;
	for (uint32_t i = 0; (e = htab_next(&r->reach, &i));)
		free(e);
	htab_free(&r->reach);
	htab_free(&r->pairs);
	htab_free(&r->names);
	htab_free(&r->nets);
	free(r->net_list);
	free(r->name_list);
	free(r->pair_list);
	free(r);
}

const struct report_cfg *report_get_cfg(const struct report *r)
{
	return &r->cfg;
}

const struct report_stats *report_stats(const struct report *r)
{
	return &r->st;
}

/* ---- adding flows ------------------------------------------------------ */

size_t report_norm_name(const char *in, size_t n, char *out, bool *cut)
{
	*cut = false;
	while (n && in[n - 1] == '.')
		n--;
	if (n > REPORT_NAME_MAX) {
		n = REPORT_NAME_MAX;
		*cut = true;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ascii_lower(in[i]);
		/* a hostile SNI must not move a terminal's cursor or split a
		 * CSV row */
		out[i] = (c >= 0x21 && c < 0x7f) ? (char)c : '?';
	}
	out[n] = '\0';
	return n;
}

static struct report_bucket *bucket_get(struct report *r, struct report_pair *p,
					uint64_t start)
{
	if (p->nb && p->b[p->nb - 1].start_us == start)
		return &p->b[p->nb - 1];
	/* binary search: flows end roughly in time order, so this is rare */
	uint32_t lo = 0, hi = p->nb;
	if (p->nb && start < p->b[p->nb - 1].start_us) {
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			if (p->b[mid].start_us < start)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < p->nb && p->b[lo].start_us == start)
			return &p->b[lo];
	} else {
		lo = p->nb;
	}
	if (p->nb >= REPORT_MAX_BUCKETS)
		return NULL;
	if (p->nb == p->capb) {
		uint32_t ncap = p->capb ? p->capb * 2 : 4;
		if (ncap > REPORT_MAX_BUCKETS)
			ncap = REPORT_MAX_BUCKETS;
		size_t more = (size_t)(ncap - p->capb) * sizeof(*p->b);
		if (!mem_ok(r, more))
			return NULL;
		struct report_bucket *nb = realloc(p->b, (size_t)ncap * sizeof(*nb));
		if (!nb)
			return NULL;
		p->b = nb;
		p->capb = ncap;
		r->st.bytes += more;
	}
	memmove(&p->b[lo + 1], &p->b[lo], (size_t)(p->nb - lo) * sizeof(*p->b));
	memset(&p->b[lo], 0, sizeof(*p->b));
	p->b[lo].start_us = start;
	p->nb++;
	r->st.buckets++;
	return &p->b[lo];
}

static void minmax(uint64_t *first, uint64_t *last, bool had, uint64_t t0, uint64_t t1)
{
	if (!had || t0 < *first)
		*first = t0;
	if (!had || t1 > *last)
		*last = t1;
}

static void pair_add(struct report *r, struct report_pair *p, enum verdict v, uint64_t ts)
{
	bool ok = v == V_OK, blocked = verdict_is_interference(v);
	if (verdict_is_failure(v)) {
		struct report_share s;
		report_counts_share(&p->c, &s);
		minmax(&p->first_fail_us, &p->last_fail_us, s.failures > 0, ts, ts);
	}
	if (ok)
		minmax(&p->first_ok_us, &p->last_ok_us, p->c.n[V_OK] > 0, ts, ts);
	if (blocked) {
		struct report_share s;
		report_counts_share(&p->c, &s);
		minmax(&p->first_blocked_us, &p->last_blocked_us, s.anomalies > 0, ts, ts);
	}
	p->c.flows++;
	p->c.n[v]++;
	struct report_bucket *b = bucket_get(r, p, ts - ts % r->cfg.bucket_us);
	if (!b) {
		r->st.refused_bucket++;
		return;
	}
	b->flows++;
	b->ok += ok;
	b->blocked += blocked;
}

bool report_endpoint_key(const struct ts_addr *a, uint16_t port, char *key, size_t keylen)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char t[INET6_ADDRSTRLEN + 8], digits[5];
	struct ts_addr k = *a;
	k.v4 = a->v4 || memcmp(a->a, mapped, 12) == 0;
	/* by hand: every flow's report entry is keyed so (snprintf was a
	 * visible share of a run of short flows) */
	size_t n = k.v4 ? 0 : 1;
	t[0] = '[';
	ts_addr_str(&k, t + n, INET6_ADDRSTRLEN);
	n += strlen(t + n);
	if (n == (k.v4 ? 0u : 1u))
		return false;
	if (!k.v4)
		t[n++] = ']';
	t[n++] = ':';
	unsigned d = 0, v = port;
	do
		digits[d++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (d)
		t[n++] = digits[--d];
	t[n] = '\0';
	if (keylen == 0)
		return false;
	if (n >= keylen)
		n = keylen - 1; /* cut as snprintf cut */
	memcpy(key, t, n);
	key[n] = '\0';
	return true;
}

bool report_flow_key(const struct report_flow *rf, char *key, size_t keylen, bool *is_addr,
		     bool *cut)
{
	*cut = false;
	if (rf->sni && rf->sni_len) {
		report_norm_name(rf->sni, rf->sni_len, key, cut);
		*is_addr = false;
		if (key[0])
			return true;
	}
	if (!rf->server || (rf->verdict != V_OK && !verdict_is_failure(rf->verdict)))
		return false;
	*is_addr = true;
	return report_endpoint_key(rf->server, rf->server_port, key, keylen);
}

static bool flow_key(struct report *r, const struct report_flow *rf, char *key,
		     size_t keylen, bool *is_addr)
{
	bool cut;
	bool named = report_flow_key(rf, key, keylen, is_addr, &cut);
	r->st.names_cut += cut;
	return named;
}

static void counts_add_flow(struct report_counts *c, const struct report_flow *rf)
{
	c->flows++;
	c->n[rf->verdict]++;
	c->injected += rf->injected && verdict_is_interference(rf->verdict);
	c->mitm_dns += rf->mitm_cause == 1;
	c->mitm_interception += rf->mitm_cause == 2;
	c->quic_flows += rf->quic;
	c->quic_ok += rf->quic && rf->verdict == V_OK;
}

void report_add(struct report *r, const struct report_flow *rf)
{
	char key[REPORT_KEY_MAX];
	bool is_addr;
	if ((unsigned)rf->verdict >= V__COUNT)
		return;
	r->st.flows++;
	if (rf->reachable && rf->server &&
	    report_endpoint_key(rf->server, rf->server_port, key, sizeof(key)))
		reach_note(r, key);
	struct report_net *net = net_get(r, rf->client_asn, rf->client_org);
	if (!net) {
		r->st.refused_net++;
		return;
	}
	if (rf->scanner) { /* a scan's flows say nothing about the network */
		net->scanner_flows++;
		r->st.scanner_flows++;
		return;
	}
	counts_add_flow(&net->c, rf);
	if (!flow_key(r, rf, key, sizeof(key), &is_addr))
		return;
	struct report_name *nm = name_get(r, key, is_addr, NULL);
	if (!nm) {
		r->st.refused_name++;
		return;
	}
	counts_add_flow(&nm->c, rf);
	struct report_pair *p = pair_get(r, net, nm);
	if (!p) {
		r->st.refused_pair++;
		return;
	}
	pair_add(r, p, rf->verdict, rf->ts_us);
	p->c.injected += rf->injected && verdict_is_interference(rf->verdict);
	p->c.mitm_dns += rf->mitm_cause == 1;
	p->c.mitm_interception += rf->mitm_cause == 2;
	p->c.quic_flows += rf->quic;
	p->c.quic_ok += rf->quic && rf->verdict == V_OK;
}

static void counts_move(struct report_counts *c, enum verdict from, enum verdict to, uint64_t n)
{
	c->n[from] -= n;
	c->n[to] += n;
}

uint64_t report_relabel(struct report *r, uint32_t asn, const char *sni, size_t sni_len,
			enum verdict from, enum verdict to, uint64_t n)
{
	if ((unsigned)from >= V__COUNT || (unsigned)to >= V__COUNT || !sni || !sni_len)
		return 0;
	char key[REPORT_NAME_MAX + 1];
	bool cut;
	report_norm_name(sni, sni_len, key, &cut);
	if (!key[0])
		return 0;
	struct report_net *net = net_find(r, asn);
	struct report_name *nm = name_find(r, key, false);
	struct report_pair *p = net && nm ? pair_find(r, net, nm) : NULL;
	if (!p)
		return 0;
	if (n > p->c.n[from])
		n = p->c.n[from];
	if (n == 0)
		return 0;
	/* The moved flows' own times are not kept; the pair's failures span
	 * them, so blocked times widen to that span. */
	if (verdict_is_interference(to) && !verdict_is_interference(from)) {
		struct report_share sh;
		report_counts_share(&p->c, &sh);
		minmax(&p->first_blocked_us, &p->last_blocked_us, sh.anomalies > 0,
		       p->first_fail_us, p->last_fail_us);
	}
	counts_move(&p->c, from, to, n);
	counts_move(&net->c, from, to, n < net->c.n[from] ? n : net->c.n[from]);
	counts_move(&nm->c, from, to, n < nm->c.n[from] ? n : nm->c.n[from]);
	return n;
}

/* ---- shares ------------------------------------------------------------ */

void report_counts_share(const struct report_counts *c, struct report_share *s)
{
	memset(s, 0, sizeof(*s));
	s->dominant = V__COUNT;
	uint64_t best = 0;
	for (int v = 0; v < V__COUNT; v++) {
		if (verdict_is_failure((enum verdict)v)) {
			s->failures += c->n[v];
			if (c->n[v] > best) {
				best = c->n[v];
				s->dominant = (enum verdict)v;
			}
		}
		if (verdict_is_interference((enum verdict)v))
			s->anomalies += c->n[v];
	}
	s->measured = c->n[V_OK] + s->failures;
	if (s->measured)
		s->anomaly_share = (double)s->anomalies / (double)s->measured;
	if (s->failures)
		s->dominant_share = (double)best / (double)s->failures;
}

/* ---- merging ------------------------------------------------------------ */

static void counts_add(struct report_counts *dst, const struct report_counts *src)
{
	dst->flows += src->flows;
	for (int v = 0; v < V__COUNT; v++)
		dst->n[v] += src->n[v];
	dst->injected += src->injected;
	dst->mitm_dns += src->mitm_dns;
	dst->mitm_interception += src->mitm_interception;
	dst->quic_flows += src->quic_flows;
	dst->quic_ok += src->quic_ok;
}

/* Merged counts stay far below 2^64, so sums never wrap (a hostile report
 * could otherwise make totals that no longer add up). */
static bool counts_fit(const struct report_counts *dst, const struct report_counts *src)
{
	return src->flows <= REPORT_MAX_COUNT && dst->flows <= REPORT_MAX_COUNT - src->flows;
}

int report_merge_net(struct report *r, uint32_t asn, const char *org,
		     const struct report_counts *c, uint64_t scanner_flows)
{
	if (!counts_fit(&(struct report_counts){ .flows = r->st.flows }, c))
		return -2;
	struct report_net *n = net_get(r, asn, org);
	if (n && !counts_fit(&n->c, c))
		return -2;
	if (scanner_flows > REPORT_MAX_COUNT || (n && n->scanner_flows > REPORT_MAX_COUNT - scanner_flows))
		return -2;
	r->st.flows += c->flows;
	if (!n) {
		r->st.refused_net += c->flows;
		return -1;
	}
	counts_add(&n->c, c);
	n->scanner_flows += scanner_flows;
	r->st.scanner_flows += scanner_flows;
	return 0;
}

int report_merge_name(struct report *r, const char *name, bool is_addr,
		      const char *category, const struct report_counts *c, uint64_t reachable)
{
	struct report_name *n = name_get(r, name, is_addr, category);
	if (n && (!counts_fit(&n->c, c) || reachable > REPORT_MAX_COUNT ||
		  n->reachable > REPORT_MAX_COUNT - reachable))
		return -2;
	if (!n) {
		r->st.refused_name += c->flows;
		return -1;
	}
	counts_add(&n->c, c);
	n->reachable += reachable;
	return 0;
}

int report_merge_pair(struct report *r, uint32_t asn, const char *org, const char *name,
		      bool is_addr, const char *category, const struct report_pair_raw *raw)
{
	struct report_net *net = net_get(r, asn, org);
	struct report_name *nm = net ? name_get(r, name, is_addr, category) : NULL;
	struct report_pair *p = nm ? pair_get(r, net, nm) : NULL;
	if (!p) {
		r->st.refused_pair += raw->c.flows;
		return -1;
	}
	if (!counts_fit(&p->c, &raw->c))
		return -2;
	struct report_share had, add;
	report_counts_share(&p->c, &had);
	report_counts_share(&raw->c, &add);
	if (raw->c.n[V_OK])
		minmax(&p->first_ok_us, &p->last_ok_us, p->c.n[V_OK] > 0, raw->first_ok_us,
		       raw->last_ok_us);
	if (add.anomalies)
		minmax(&p->first_blocked_us, &p->last_blocked_us, had.anomalies > 0,
		       raw->first_blocked_us, raw->last_blocked_us);
	counts_add(&p->c, &raw->c);
	for (uint32_t i = 0; i < raw->nb; i++) {
		struct report_bucket *b = bucket_get(r, p, raw->b[i].start_us);
		if (!b) {
			r->st.refused_bucket++;
			continue;
		}
		b->flows += raw->b[i].flows;
		b->ok += raw->b[i].ok;
		b->blocked += raw->b[i].blocked;
	}
	return 0;
}

int report_merge_refused(struct report *r, uint64_t net, uint64_t name, uint64_t pair,
			 uint64_t bucket)
{
	const struct report_stats *st = &r->st;
	if (net > REPORT_MAX_COUNT || name > REPORT_MAX_COUNT || pair > REPORT_MAX_COUNT ||
	    bucket > REPORT_MAX_COUNT || st->flows > REPORT_MAX_COUNT - net ||
	    st->refused_name > REPORT_MAX_COUNT - name ||
	    st->refused_pair > REPORT_MAX_COUNT - pair ||
	    st->refused_bucket > REPORT_MAX_COUNT - bucket)
		return -2;
	r->st.flows += net;
	r->st.refused_net += net;
	r->st.refused_name += name;
	r->st.refused_pair += pair;
	r->st.refused_bucket += bucket;
	return 0;
}

int report_merge_category(struct report *r, const char *code, const char *desc,
			  uint64_t listed)
{
	if (r->cfg.testlist)
		return 0; /* the loaded list decides the categories */
	struct report_category *c = cat_get(r, code);
	if (!c) {
		r->st.categories_dropped++;
		return -1;
	}
	if (!c->desc[0] && desc)
		snprintf(c->desc, sizeof(c->desc), "%s", desc);
	if (listed > c->listed)
		c->listed = listed;
	return 0;
}
