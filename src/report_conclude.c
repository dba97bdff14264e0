/* report_conclude.c - the report's results: shares, blocking conclusions
 * (the formula at the top of report.h), sorted lists, category totals and
 * onsets, from the counts report.c stored. */
#include <stdlib.h>
#include <string.h>

#include "report_impl.h"

/* ---- names ------------------------------------------------------------------ */

static const char *const status_names[RS__COUNT] = {
	[RS_NO_DATA] = "no_data",
	[RS_OK] = "ok",
	[RS_INCONCLUSIVE] = "inconclusive",
	[RS_BLOCKED] = "blocked",
};

const char *report_status_name(enum report_status s)
{
	return (unsigned)s < RS__COUNT ? status_names[s] : "unknown";
}

const char *report_cross_name(enum report_cross x)
{
	switch (x) {
	case RX_WORKS_ELSEWHERE:
		return "works_elsewhere";
	case RX_FAILS_ELSEWHERE:
		return "fails_elsewhere";
	default:
		return "only_here";
	}
}

/* ---- conclusions ------------------------------------------------------------ */

const char *report_corroboration_name(unsigned bit)
{
	switch (bit) {
	case RC_REACHABLE: return "reachable";
	case RC_INJECTED: return "injected";
	case RC_TEST_LIST: return "test_list";
	default: return NULL;
	}
}

bool report_method_needs_corroboration(enum verdict v)
{
	return v == V_SYN_TIMEOUT || v == V_SYN_RESET;
}

/* What says a SYN-level failure was interference and not a server that is
 * down or a closed port (see report.h). */
static unsigned corroboration(const struct report_pair *p)
{
	unsigned c = 0;
	if (p->name->reachable)
		c |= RC_REACHABLE;
	if (p->c.injected)
		c |= RC_INJECTED;
	if (p->name->category[0])
		c |= RC_TEST_LIST;
	return c;
}

/* One transport's share of a pair: measured flows, anomalies, the most
 * frequent interference verdict and its flows. */
struct transport_share {
	uint64_t measured, anomalies, best;
	enum verdict method;
};

static bool share_blocked(const struct report *r, const struct transport_share *t)
{
	return t->measured >= r->cfg.min_flows &&
	       t->anomalies * REPORT_ANOMALY_MIN_DEN >= t->measured * REPORT_ANOMALY_MIN_NUM &&
	       t->best * REPORT_CONSISTENCY_MIN_DEN >= t->anomalies * REPORT_CONSISTENCY_MIN_NUM;
}

/* a * c * S of one transport. */
static double share_strength(const struct transport_share *t)
{
	if (!t->measured || !t->anomalies)
		return 0.0;
	return ((double)t->anomalies / (double)t->measured) *
	       ((double)t->best / (double)t->anomalies) *
	       ((double)t->measured / ((double)t->measured + REPORT_SAMPLE_K));
}

/* QUIC next to TLS over TCP (report.h): the pair's counts split by
 * transport.  quic_stall is QUIC's only failure verdict, so QUIC's
 * measured flows are its ok and quic_stall flows. */
static void conclude_transports(const struct report *r, struct report_pair *p)
{
	const struct report_counts *c = &p->c;
	struct report_conclusion *k = &p->concl;
	struct report_share s;
	struct transport_share q = { 0, 0, 0, V_QUIC_STALL }, t = { 0, 0, 0, V__COUNT };
	q.anomalies = q.best = c->n[V_QUIC_STALL];
	q.measured = c->quic_ok + q.anomalies;
	if (!c->quic_flows || !q.anomalies || !share_blocked(r, &q))
		return;
	report_counts_share(c, &s);
	t.measured = s.measured - q.measured;
	t.anomalies = s.anomalies - q.anomalies;
	for (int v = 0; v < V__COUNT; v++)
		if (v != V_QUIC_STALL && verdict_is_interference((enum verdict)v) && c->n[v] > t.best) {
			t.best = c->n[v];
			t.method = (enum verdict)v;
		}
	k->tcp_ok = c->n[V_OK] - c->quic_ok;
	if (t.measured && t.anomalies * REPORT_OK_MAX_DEN <= t.measured * REPORT_OK_MAX_NUM) {
		k->status = RS_BLOCKED;
		k->quic_only = true;
		k->method = V_QUIC_STALL;
		k->anomaly_share = (double)q.anomalies / (double)q.measured;
		k->consistency = 1.0;
		k->sample = (double)q.measured / ((double)q.measured + REPORT_SAMPLE_K);
		k->cross = REPORT_X_WORKS_ELSEWHERE;
		k->confidence = share_strength(&q);
	} else if (share_blocked(r, &t) && !report_method_needs_corroboration(t.method)) {
		double tq = share_strength(&q), tt = share_strength(&t);
		k->status = RS_BLOCKED;
		k->method = t.method;
		k->method2 = V_QUIC_STALL;
		k->consistency = (double)t.best / (double)t.anomalies; /* QUIC's is 1 */
		k->confidence = (tq < tt ? tq : tt) * k->cross;
	}
}

/* DNS errors where the name works on other networks (report.h): with them
 * as anomalies, is the pair blocked? */
static void conclude_dns_errors(const struct report *r, struct report_pair *p, uint64_t m,
				uint64_t a, uint64_t best)
{
	struct report_conclusion *k = &p->concl;
	uint64_t e = p->c.n[V_DNS_ERROR];
	if (!e || k->status == RS_BLOCKED || k->cross_kind != RX_WORKS_ELSEWHERE)
		return;
	a += e;
	/* dns_error must be the method: other verdicts already had their say */
	if (e <= best || m < r->cfg.min_flows || a * REPORT_ANOMALY_MIN_DEN < m * REPORT_ANOMALY_MIN_NUM ||
	    e * REPORT_CONSISTENCY_MIN_DEN < a * REPORT_CONSISTENCY_MIN_NUM)
		return;
	best = e;
	k->method = V_DNS_ERROR;
	k->status = RS_BLOCKED;
	k->dns_cross_network = true;
	k->anomaly_share = (double)a / (double)m;
	k->consistency = (double)best / (double)a;
	k->confidence = k->anomaly_share * k->consistency * k->sample * k->cross;
}

static void conclude(const struct report *r, struct report_pair *p)
{
	struct report_conclusion *k = &p->concl;
	struct report_share s;
	report_counts_share(&p->c, &s);
	memset(k, 0, sizeof(*k));
	k->method = V__COUNT;
	k->method2 = V__COUNT;
	uint64_t best = 0;
	for (int v = 0; v < V__COUNT; v++)
		if (verdict_is_interference((enum verdict)v) && p->c.n[v] > best) {
			best = p->c.n[v];
			k->method = (enum verdict)v;
		}
	uint64_t m = s.measured, a = s.anomalies;
	k->anomaly_share = s.anomaly_share;
	k->consistency = a ? (double)best / (double)a : 0.0;
	k->sample = (double)m / ((double)m + REPORT_SAMPLE_K);

	/* the same name on other networks: the name's totals minus this pair */
	struct report_share ns;
	report_counts_share(&p->name->c, &ns);
	uint64_t ok_elsewhere = p->name->c.n[V_OK] - p->c.n[V_OK];
	uint64_t measured_elsewhere = ns.measured - m;
	if (ok_elsewhere > 0) {
		k->cross_kind = RX_WORKS_ELSEWHERE;
		k->cross = REPORT_X_WORKS_ELSEWHERE;
	} else if (measured_elsewhere > 0) {
		k->cross_kind = RX_FAILS_ELSEWHERE;
		k->cross = REPORT_X_FAILS_ELSEWHERE;
	} else {
		k->cross_kind = RX_ONLY_HERE;
		k->cross = REPORT_X_ONLY_HERE;
	}
	k->confidence = k->anomaly_share * k->consistency * k->sample * k->cross;

	if (m == 0)
		k->status = RS_NO_DATA;
	else if (a * REPORT_OK_MAX_DEN <= m * REPORT_OK_MAX_NUM)
		k->status = RS_OK;
	else if (m >= r->cfg.min_flows &&
		 a * REPORT_ANOMALY_MIN_DEN >= m * REPORT_ANOMALY_MIN_NUM &&
		 best * REPORT_CONSISTENCY_MIN_DEN >= a * REPORT_CONSISTENCY_MIN_NUM)
		k->status = RS_BLOCKED;
	else
		k->status = RS_INCONCLUSIVE;
	if (report_method_needs_corroboration(k->method)) {
		k->corroboration = corroboration(p);
		if (k->status == RS_BLOCKED && !k->corroboration) {
			k->status = RS_INCONCLUSIVE;
			k->uncorroborated = true;
		}
	}
	conclude_transports(r, p);
	conclude_dns_errors(r, p, m, a, best);
}

static int cmp_net(const void *x, const void *y)
{
	const struct report_net *a = *(const struct report_net *const *)x;
	const struct report_net *b = *(const struct report_net *const *)y;
	return a->asn < b->asn ? -1 : a->asn > b->asn;
}

static int cmp_name(const void *x, const void *y)
{
	const struct report_name *a = *(const struct report_name *const *)x;
	const struct report_name *b = *(const struct report_name *const *)y;
	if (a->is_addr != b->is_addr)
		return a->is_addr ? 1 : -1; /* names first, addresses after */
	return strcmp(a->name, b->name);
}

static int cmp_pair(const void *x, const void *y)
{
	const struct report_pair *a = *(const struct report_pair *const *)x;
	const struct report_pair *b = *(const struct report_pair *const *)y;
	if (a->net->asn != b->net->asn)
		return a->net->asn < b->net->asn ? -1 : 1;
	return cmp_name(&a->name, &b->name);
}

/* The entries of a table, sorted, as an array of their pointers (one
 * function per type: no casts between pointer-to-pointer types). */
#define TABLE_LIST(fn, type, cmp)                                            \
	static int fn(const struct htab *t, type ***list, size_t *n)         \
	{                                                                    \
		free(*list);                                                 \
		*n = 0;                                                      \
		*list = malloc(((size_t)t->used + 1) * sizeof(**list));      \
		if (!*list)                                                  \
			return -1;                                           \
		type *e;                                                     \
		for (uint32_t i = 0; (e = htab_next(t, &i));)                \
			(*list)[(*n)++] = e;                                 \
		qsort(*list, *n, sizeof(**list), cmp);                       \
		return 0;                                                    \
	}
TABLE_LIST(list_nets, struct report_net, cmp_net)
TABLE_LIST(list_names, struct report_name, cmp_name)
TABLE_LIST(list_pairs, struct report_pair, cmp_pair)

static void category_totals(struct report *r)
{
	for (size_t i = 0; i < r->n_cats; i++) {
		struct report_category *c = &r->cats[i];
		c->domains_seen = c->domains_blocked = c->pairs_blocked = 0;
		c->flows = c->anomalies = 0;
	}
	for (size_t i = 0; i < r->n_name_list; i++) {
		const struct report_name *n = r->name_list[i];
		struct report_category *c = n->category[0] ? report_cat_find(r, n->category) : NULL;
		if (!c)
			continue;
		struct report_share s;
		report_counts_share(&n->c, &s);
		c->domains_seen++;
		c->domains_blocked += n->blocked_networks > 0;
		c->pairs_blocked += n->blocked_networks;
		c->flows += n->c.flows;
		c->anomalies += s.anomalies;
	}
}

int report_finalize(struct report *r)
{
	if (list_nets(&r->nets, &r->net_list, &r->n_net_list) < 0 ||
	    list_names(&r->names, &r->name_list, &r->n_name_list) < 0 ||
	    list_pairs(&r->pairs, &r->pair_list, &r->n_pair_list) < 0)
		return -1;
	for (size_t i = 0; i < r->n_net_list; i++)
		r->net_list[i]->names = r->net_list[i]->blocked_names = 0;
	for (size_t i = 0; i < r->n_name_list; i++)
		r->name_list[i]->networks = r->name_list[i]->blocked_networks = 0;
	for (size_t i = 0; i < r->n_pair_list; i++) {
		struct report_pair *p = r->pair_list[i];
		conclude(r, p);
		bool blocked = p->concl.status == RS_BLOCKED;
		p->net->names++;
		p->net->blocked_names += blocked;
		p->name->networks++;
		p->name->blocked_networks += blocked;
	}
	category_totals(r);
	return 0;
}

struct report_net *const *report_nets(const struct report *r, size_t *n)
{
	*n = r->n_net_list;
	return r->net_list;
}

struct report_pair *const *report_pairs(const struct report *r, size_t *n)
{
	*n = r->n_pair_list;
	return r->pair_list;
}

struct report_name *const *report_names(const struct report *r, size_t *n)
{
	*n = r->n_name_list;
	return r->name_list;
}

const struct report_category *report_categories(const struct report *r, size_t *n)
{
	*n = r->n_cats;
	return r->cats;
}

bool report_pair_onset(const struct report_pair *p, uint64_t *us)
{
	struct report_share s;
	report_counts_share(&p->c, &s);
	if (!s.anomalies || !p->c.n[V_OK] || p->first_ok_us >= p->first_blocked_us)
		return false;
	*us = p->first_blocked_us;
	return true;
}
