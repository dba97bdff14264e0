/* certstats.c - per (server name, client network) certificate and ServerHello variants, and the end-of-run
 * cross-network consistency conclusion (rule and confidence in certstats.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "certstats.h"
#include "htab.h"
#include "tls.h"
#include "verdict.h"

struct cs_variant {
	uint64_t issuer_h, spki_h;
	char *issuer;
	uint32_t flows_trusted, flows_untrusted, flows_icpt, flows_relabel;
};

struct cs_hello {
	uint64_t ja3_h;
	uint16_t version;
	char ja3s[33];
};

/* Results of certstats_finalize for one pair. */
struct cs_result {
	uint8_t inconsistent, hello_differs;
	double confidence;
	uint32_t flows_inconsistent, flows_icpt, flows_relabel;
	uint32_t trusted_elsewhere, networks_elsewhere;
	const char *issuer_here, *issuer_elsewhere;
	const struct cs_hello *hello_here, *hello_elsewhere;
	uint32_t n_ids;
	uint64_t ids[CERTSTATS_FLOW_IDS];
};

struct cs_pair {
	char *sni;
	uint16_t sni_len;
	uint32_t asn;
	uint32_t flows, flows_trusted, flows_untrusted, flows_not_visible;
	uint8_t n_var, n_hello;
	uint8_t ids_cut;
	uint32_t n_ids;
	struct cs_variant var[CERTSTATS_VARIANTS];
	struct cs_hello hello[CERTSTATS_HELLOS];
	uint64_t ids[CERTSTATS_FLOW_IDS];     /* flows whose event said tls_untrusted_cert */
	uint8_t id_var[CERTSTATS_FLOW_IDS];   /* their variant */
	struct cs_result res;
};

struct certstats {
	struct htab pairs;          /* of struct cs_pair, keyed by (name, network) */
	uint32_t max;
	struct hseed seed;          /* names come from ClientHellos: keyed so they cannot be aimed at one probe window */
	struct cs_pair **sorted;    /* by finalize: every pair, by name then ASN */
	uint32_t n_sorted;
	struct certstats_stats st;
};

/* Issuer, key and JA3 strings are compared by their hashes: keyed like the table, so a sender cannot make two
 * different strings count as one. */
static uint64_t str_hash(const struct certstats *cs, const char *s)
{
	return hseed_hash(&cs->seed, s, strlen(s));
}

struct certstats *certstats_new(uint32_t max_pairs, const struct hseed *seed)
{
	struct certstats *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->max = max_pairs ? max_pairs : CERTSTATS_DEFAULT_MAX;
	cs->seed = *seed;
	/* Room for max pairs at a quarter load, where a full probe window (a refused insert) is vanishingly rare. */
	uint32_t max_cap = cs->max < (1u << 28) ? cs->max * 4 : 1u << 30;
	if (htab_init(&cs->pairs, 64, max_cap) < 0) {
		free(cs);
		return NULL;
	}
	return cs;
}

static void pair_free(void *entry)
{
	struct cs_pair *p = entry;
	if (!p)
		return;
	for (unsigned i = 0; i < p->n_var; i++)
		free(p->var[i].issuer);
	free(p->sni);
	free(p);
}

void certstats_free(struct certstats *cs)
{
	if (!cs)
		return;
	htab_free_all(&cs->pairs, pair_free);
	free(cs->sorted);
	free(cs);
}

const struct certstats_stats *certstats_get_stats(const struct certstats *cs)
{
	return &cs->st;
}

/* ---- the table ------------------------------------------------------------------------------------------------- */

struct pair_key {
	const char *sni;
	size_t len;
	uint32_t asn;
};

static uint64_t pair_hash(const struct certstats *cs, const struct pair_key *k)
{
	struct hasher h;
	hasher_init(&h, &cs->seed);
	hasher_add(&h, k->sni, k->len);
	hasher_add(&h, &k->asn, sizeof(k->asn));
	return hasher_end(&h);
}

static bool pair_eq(const void *entry, const void *key)
{
	const struct cs_pair *p = entry;
	const struct pair_key *k = key;
	return p->asn == k->asn && p->sni_len == k->len && memcmp(p->sni, k->sni, k->len) == 0;
}

static struct cs_pair *pair_find(const struct certstats *cs, const struct pair_key *k, uint64_t h)
{
	return htab_find(&cs->pairs, h, pair_eq, k);
}

static struct cs_pair *pair_create(const struct pair_key *k)
{
	struct cs_pair *p = calloc(1, sizeof(*p));
	if (!p || !(p->sni = malloc(k->len + 1))) {
		free(p);
		return NULL;
	}
	memcpy(p->sni, k->sni, k->len);
	p->sni[k->len] = '\0';
	p->sni_len = (uint16_t)k->len;
	p->asn = k->asn;
	return p;
}

/* The pair, created when new; NULL (counted) past the cap, when the table refuses it or memory is out. */
static struct cs_pair *pair_get(struct certstats *cs, const char *sni, size_t len, uint32_t asn)
{
	struct pair_key k = { sni, len, asn };
	uint64_t h = pair_hash(cs, &k);
	struct cs_pair *p = pair_find(cs, &k, h);
	if (p)
		return p;
	if (cs->st.pairs >= cs->max || !(p = pair_create(&k)) || htab_insert(&cs->pairs, h, p) < 0) {
		pair_free(p);
		cs->st.pairs_dropped++;
		return NULL;
	}
	cs->st.pairs++;
	return p;
}

/* ---- adding a flow --------------------------------------------------------------------------------------------- */

static struct cs_variant *variant_get(struct certstats *cs, struct cs_pair *p, const struct cert_info *leaf)
{
	uint64_t ih = str_hash(cs, leaf->issuer), kh = str_hash(cs, leaf->spki_sha256);
	struct cs_variant *v;
	for (unsigned i = 0; i < p->n_var; i++)
		if (p->var[i].issuer_h == ih && p->var[i].spki_h == kh)
			return &p->var[i];
	if (p->n_var >= CERTSTATS_VARIANTS || !(p->var[p->n_var].issuer = strdup(leaf->issuer))) {
		cs->st.variants_dropped++;
		return NULL;
	}
	v = &p->var[p->n_var++];
	v->issuer_h = ih;
	v->spki_h = kh;
	return v;
}

static void add_hello(struct certstats *cs, struct cs_pair *p, const struct tls_info *ti)
{
	uint64_t jh = str_hash(cs, ti->ja3);
	for (unsigned i = 0; i < p->n_hello; i++)
		if (p->hello[i].ja3_h == jh && p->hello[i].version == ti->sh_version &&
		    strcmp(p->hello[i].ja3s, ti->ja3s) == 0)
			return;
	if (p->n_hello >= CERTSTATS_HELLOS) {
		cs->st.hellos_dropped++;
		return;
	}
	p->hello[p->n_hello].ja3_h = jh;
	p->hello[p->n_hello].version = ti->sh_version;
	memcpy(p->hello[p->n_hello].ja3s, ti->ja3s, sizeof(p->hello[0].ja3s));
	p->hello[p->n_hello].ja3s[32] = '\0';
	p->n_hello++;
}

static void add_chain(struct certstats *cs, struct cs_pair *p, const struct cert_analysis *ca, uint64_t flow_id,
		      int final_verdict)
{
	bool trusted = ca->trust == CERT_TRUST_TRUSTED;
	struct cs_variant *v;

	if (trusted)
		p->flows_trusted++;
	else
		p->flows_untrusted++;
	if (ca->n_chain == 0 || !ca->chain[0].parsed || !(v = variant_get(cs, p, &ca->chain[0])))
		return;
	if (trusted) {
		v->flows_trusted++;
		return;
	}
	v->flows_untrusted++;
	if (ca->match == CERT_MATCH_FINGERPRINT || ca->match == CERT_MATCH_NAME)
		v->flows_icpt++;
	if (final_verdict != V_TLS_UNTRUSTED_CERT)
		return;
	v->flows_relabel++;
	if (p->n_ids >= CERTSTATS_FLOW_IDS) {
		p->ids_cut = 1;
		cs->st.flow_ids_dropped++;
		return;
	}
	p->ids[p->n_ids] = flow_id;
	p->id_var[p->n_ids] = (uint8_t)(v - p->var);
	p->n_ids++;
}

void certstats_add(struct certstats *cs, const struct tls_info *ti, const struct cert_analysis *ca,
		   uint32_t client_asn, uint64_t flow_id, int final_verdict)
{
	struct cs_pair *p;
	if (!ti || !ti->sh_seen)
		return;
	if (!ti->sni_present || ti->sni_len == 0) {
		cs->st.flows_no_sni++;
		return;
	}
	if (!(p = pair_get(cs, ti->sni, ti->sni_len, client_asn)))
		return;
	cs->st.flows++;
	p->flows++;
	add_hello(cs, p, ti);
	if (!ca || ca->trust == CERT_TRUST_NOT_VISIBLE)
		p->flows_not_visible++;
	else
		add_chain(cs, p, ca, flow_id, final_verdict);
}

/* ---- the conclusion -------------------------------------------------------------------------------------------- */

static int pair_cmp(const void *a, const void *b)
{
	const struct cs_pair *x = *(const struct cs_pair *const *)a, *y = *(const struct cs_pair *const *)b;
	size_t n = x->sni_len < y->sni_len ? x->sni_len : y->sni_len;
	int c = memcmp(x->sni, y->sni, n);
	if (c)
		return c;
	if (x->sni_len != y->sni_len)
		return x->sni_len < y->sni_len ? -1 : 1;
	return x->asn < y->asn ? -1 : x->asn > y->asn;
}

static bool same_name(const struct cs_pair *x, const struct cs_pair *y)
{
	return x->sni_len == y->sni_len && memcmp(x->sni, y->sni, x->sni_len) == 0;
}

/* Did the name validate under this leaf issuer on any network? */
static bool issuer_validates(struct cs_pair **g, uint32_t n, uint64_t issuer_h)
{
	for (uint32_t i = 0; i < n; i++)
		for (unsigned k = 0; k < g[i]->n_var; k++)
			if (g[i]->var[k].issuer_h == issuer_h && g[i]->var[k].flows_trusted > 0)
				return true;
	return false;
}

static void trusted_elsewhere(struct cs_pair **g, uint32_t n, const struct cs_pair *p, struct cs_result *r)
{
	uint32_t best = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (g[i] == p || g[i]->flows_trusted == 0)
			continue;
		r->trusted_elsewhere += g[i]->flows_trusted;
		r->networks_elsewhere++;
		for (unsigned k = 0; k < g[i]->n_var; k++) {
			if (g[i]->var[k].flows_trusted > best) {
				best = g[i]->var[k].flows_trusted;
				r->issuer_elsewhere = g[i]->var[k].issuer;
			}
		}
	}
}

static void conclude_chains(struct cs_pair **g, uint32_t n, struct cs_pair *p)
{
	struct cs_result *r = &p->res;
	bool foreign[CERTSTATS_VARIANTS] = { false };
	uint32_t best = 0;

	trusted_elsewhere(g, n, p, r);
	for (unsigned k = 0; k < p->n_var; k++) {
		const struct cs_variant *v = &p->var[k];
		if (v->flows_untrusted == 0 || issuer_validates(g, n, v->issuer_h))
			continue;
		foreign[k] = true;
		r->flows_inconsistent += v->flows_untrusted;
		r->flows_icpt += v->flows_icpt;
		r->flows_relabel += v->flows_relabel;
		if (v->flows_untrusted > best) {
			best = v->flows_untrusted;
			r->issuer_here = v->issuer;
		}
	}
	if (r->trusted_elsewhere == 0 || r->flows_inconsistent == 0)
		return;
	r->inconsistent = 1;
	r->confidence = (1.0 - ldexp(1.0, -(int)(r->flows_inconsistent > 60 ? 60 : r->flows_inconsistent))) *
			(1.0 - ldexp(1.0, -(int)(r->trusted_elsewhere > 60 ? 60 : r->trusted_elsewhere)));
	if (r->confidence > CERTSTATS_CONF_MAX)
		r->confidence = CERTSTATS_CONF_MAX;
	for (uint32_t i = 0; i < p->n_ids; i++)
		if (foreign[p->id_var[i]])
			r->ids[r->n_ids++] = p->ids[i];
}

static bool hello_seen_elsewhere(struct cs_pair **g, uint32_t n, const struct cs_pair *p, const struct cs_hello *h,
				 const struct cs_hello **other)
{
	bool same = false;
	for (uint32_t i = 0; i < n; i++) {
		if (g[i] == p)
			continue;
		for (unsigned k = 0; k < g[i]->n_hello; k++) {
			const struct cs_hello *o = &g[i]->hello[k];
			if (o->ja3_h != h->ja3_h)
				continue;
			if (o->version == h->version && strcmp(o->ja3s, h->ja3s) == 0)
				same = true;
			else if (!*other)
				*other = o;
		}
	}
	return same;
}

/* The weak hint: for one client fingerprint, this network's ServerHello was never seen on another network that
 * saw the same client fingerprint. */
static void conclude_hellos(struct cs_pair **g, uint32_t n, struct cs_pair *p)
{
	for (unsigned k = 0; k < p->n_hello; k++) {
		const struct cs_hello *other = NULL;
		if (hello_seen_elsewhere(g, n, p, &p->hello[k], &other) || !other)
			continue;
		p->res.hello_differs = 1;
		p->res.hello_here = &p->hello[k];
		p->res.hello_elsewhere = other;
		return;
	}
}

void certstats_finalize(struct certstats *cs)
{
	uint32_t n = 0;
	struct cs_pair **sorted = realloc(cs->sorted, (cs->st.pairs ? cs->st.pairs : 1) * sizeof(*sorted));
	if (!sorted)
		return;
	cs->sorted = sorted;
	struct cs_pair *p;
	for (uint32_t i = 0; (p = htab_next(&cs->pairs, &i));)
		sorted[n++] = p;
	qsort(sorted, n, sizeof(*sorted), pair_cmp);
	cs->n_sorted = n;
	for (uint32_t a = 0, b; a < n; a = b) {
		for (b = a + 1; b < n && same_name(sorted[a], sorted[b]); b++)
			;
		for (uint32_t i = a; i < b; i++) {
			memset(&sorted[i]->res, 0, sizeof(sorted[i]->res));
			conclude_chains(sorted + a, b - a, sorted[i]);
			conclude_hellos(sorted + a, b - a, sorted[i]);
		}
	}
}

static void fill_finding(const struct cs_pair *p, struct certstats_finding *f)
{
	const struct cs_result *r = &p->res;
	memset(f, 0, sizeof(*f));
	f->sni = p->sni;
	f->sni_len = p->sni_len;
	f->asn = p->asn;
	f->inconsistent = r->inconsistent;
	f->confidence = r->confidence;
	f->flows = p->flows;
	f->flows_trusted = p->flows_trusted;
	f->flows_untrusted = p->flows_untrusted;
	f->flows_not_visible = p->flows_not_visible;
	f->flows_inconsistent = r->flows_inconsistent;
	f->flows_interception_ca = r->flows_icpt;
	f->flows_relabel = r->flows_relabel;
	f->flows_trusted_elsewhere = r->trusted_elsewhere;
	f->networks_trusted_elsewhere = r->networks_elsewhere;
	f->issuer_here = r->issuer_here;
	f->issuer_elsewhere = r->issuer_elsewhere;
	f->hello_differs = r->hello_differs;
	if (r->hello_differs) {
		f->ja3s_here = r->hello_here->ja3s;
		f->ja3s_elsewhere = r->hello_elsewhere->ja3s;
		f->version_here = r->hello_here->version;
		f->version_elsewhere = r->hello_elsewhere->version;
	}
	f->flow_ids = r->ids;
	f->n_flow_ids = r->n_ids;
	f->flow_ids_cut = p->ids_cut;
}

bool certstats_lookup(const struct certstats *cs, const char *sni, size_t sni_len, uint32_t asn,
		      struct certstats_finding *out)
{
	struct pair_key k = { sni, sni_len, asn };
	const struct cs_pair *p = pair_find(cs, &k, pair_hash(cs, &k));
	if (!p)
		return false;
	fill_finding(p, out);
	return true;
}

void certstats_foreach(const struct certstats *cs, bool notable_only, certstats_fn fn, void *arg)
{
	struct certstats_finding f;
	for (uint32_t i = 0; i < cs->n_sorted; i++) {
		const struct cs_pair *p = cs->sorted[i];
		if (notable_only && !p->res.inconsistent && !p->res.hello_differs)
			continue;
		fill_finding(p, &f);
		fn(arg, &f);
	}
}
