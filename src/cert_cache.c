/* cert_cache.c - the certificate stage's bounded memories on htab: parsed certificates, verification results with
 * the span of packet times they hold for (RFC 5280 sections 4.1.2.5 and 6.1.3), and the leaf certificates seen
 * per server name.  See cert_cache.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "cert_cache.h"
#include "tls_info.h"

/* ---- CLOCK -------------------------------------------------------------------------------------------------- */

static int clock_init(struct cert_clock *c, uint32_t cap)
{
	c->cap = cap;
	c->used = c->hand = 0;
	c->ref = calloc(cap, sizeof(*c->ref));
	return c->ref ? 0 : -1;
}

/* The slot for a new entry: a never used one while there are, else the first the hand finds not hit since its last
 * pass (at most two turns).  *full: the slot holds an entry the caller must take out first. */
static uint32_t clock_take(struct cert_clock *c, bool *full)
{
	uint32_t s;
	*full = c->used >= c->cap;
	if (!*full) {
		s = c->used++;
	} else {
		while (c->ref[c->hand]) {
			c->ref[c->hand] = 0;
			c->hand = (c->hand + 1) % c->cap;
		}
		s = c->hand;
		c->hand = (c->hand + 1) % c->cap;
	}
	c->ref[s] = 0;              /* seen once: the first to go, unless a hit follows */
	return s;
}

/* ---- context ------------------------------------------------------------------------------------------------ */

/* Index slots for n entries: htab keeps a table at most half full, so twice as many (up to htab's own maximum). */
static uint32_t index_slots(uint32_t n)
{
	return n > (1u << 29) ? (1u << 30) : 2 * n;
}

int cert_cache_init(struct cert_cache *cx, const struct cert_cfg *cfg, const EVP_MD *sha256, struct cert_stats *st)
{
	uint32_t names = cfg && cfg->memory_names ? cfg->memory_names : CERT_DEFAULT_MEMORY;
	uint32_t certs = cfg && cfg->cache_certs ? cfg->cache_certs : CERT_DEFAULT_CACHE;
	uint32_t chains = cfg && cfg->cache_chains ? cfg->cache_chains : CERT_DEFAULT_VCACHE;

	hseed_or_draw(&cx->seed, cfg ? cfg->seed : NULL);
	cx->sha256 = sha256;
	cx->st = st;
	cx->names_max = names;
	cx->pc = calloc(certs, sizeof(*cx->pc));
	cx->vc = calloc(chains, sizeof(*cx->vc));
	if (!cx->pc || !cx->vc || clock_init(&cx->pclock, certs) < 0 || clock_init(&cx->vclock, chains) < 0)
		return -1;
	/* The caches fill up in any long run: their indexes start at full size.  The name memory grows as names come. */
	if (htab_init(&cx->pidx, index_slots(certs), index_slots(certs)) < 0 ||
	    htab_init(&cx->vidx, index_slots(chains), index_slots(chains)) < 0 ||
	    htab_init(&cx->nidx, HTAB_MIN_CAP, index_slots(names)) < 0)
		return -1;
	return 0;
}

void cert_cache_free(struct cert_cache *cx)
{
	if (cx->pc)
		for (uint32_t i = 0; i < cx->pclock.used; i++)
			X509_free(cx->pc[i].x);
	free(cx->pc);
	free(cx->pclock.ref);
	htab_free(&cx->pidx);
	free(cx->vc);
	free(cx->vclock.ref);
	htab_free(&cx->vidx);
	htab_free_all(&cx->nidx, free);
}

bool cert_cache_digest(const struct cert_cache *cx, const void *p, size_t n, uint8_t out[32])
{
	unsigned int dl = 0;
	if (EVP_Digest(p, n, out, &dl, cx->sha256, NULL) && dl == 32)
		return true;
	ERR_clear_error();
	return false;
}

/* ---- parsed certificates ------------------------------------------------------------------------------------ */

struct parsed_key {
	const uint8_t *dg;
	size_t len;
};

static bool parsed_eq(const void *entry, const void *key)
{
	const struct cert_parsed *e = entry;
	const struct parsed_key *k = key;
	return e->ci.der_len == k->len && memcmp(e->dg, k->dg, 32) == 0;
}

const struct cert_parsed *cert_cache_parsed(struct cert_cache *cx, const uint8_t dg[32], size_t len, X509 **x)
{
	struct parsed_key k = { dg, len };
	struct cert_parsed *e = htab_find(&cx->pidx, hseed_hash(&cx->seed, dg, 32), parsed_eq, &k);

	if (!e || (e->x && !X509_up_ref(e->x)))
		return NULL;
	cx->pclock.ref[e - cx->pc] = 1;
	*x = e->x;
	return e;
}

void cert_cache_add_parsed(struct cert_cache *cx, const uint8_t dg[32], X509 *x, const struct cert_info *ci,
			   uint64_t san_dropped, const struct intercept_cert *icpt)
{
	struct cert_parsed *e;
	bool full;

	if (x && !X509_up_ref(x))
		return;
	e = &cx->pc[clock_take(&cx->pclock, &full)];
	if (full && e->live) {
		htab_remove(&cx->pidx, e->h, e);
		X509_free(e->x);
		cx->st->cache_evicted++;
	}
	e->h = hseed_hash(&cx->seed, dg, 32);
	memcpy(e->dg, dg, 32);
	e->x = x;
	e->san_dropped = san_dropped > UINT32_MAX ? UINT32_MAX : (uint32_t)san_dropped;
	memcpy(&e->ci, ci, sizeof(e->ci));
	e->icpt = *icpt;
	e->live = htab_insert(&cx->pidx, e->h, e) == 0;
	if (!e->live) {
		X509_free(e->x);
		e->x = NULL;
		cx->st->cache_refused++;
	}
}

/* ---- verification results ----------------------------------------------------------------------------------- */

/* What validate() in cert.c depends on besides the store and the packet time: the certificates handed to OpenSSL,
 * in order (by SHA-256 of their DER; an entry that does not parse is not handed over, only marked) and the host
 * name.  The key is the SHA-256 of all of it. */
bool cert_cache_vkey(const struct cert_cache *cx, const struct tls_info *ti, const struct cert_chain_work *cw,
		     const struct cert_analysis *ca, struct cert_vkey *k)
{
	uint8_t buf[1 + CERT_MAX_CHAIN * 33 + 3 + TLS_MAX_SNI];
	bool sni = ti->sni_present && ti->sni_len > 0;
	size_t n = 0;

	k->t = (int64_t)(ca->validated_at_us / 1000000u);
	if (k->t > CERT_VC_TIME_MAX || ca->n_chain > CERT_MAX_CHAIN || (sni && ti->sni_len > TLS_MAX_SNI))
		return false;
	buf[n++] = ca->n_chain;
	for (unsigned i = 0; i < ca->n_chain; i++) {
		buf[n++] = cw->xs[i] != NULL;
		if (!cw->xs[i])
			continue;
		if (!cw->have_dg[i])
			return false;
		memcpy(buf + n, cw->dg[i], 32);
		n += 32;
	}
	buf[n++] = sni;
	if (sni) {
		buf[n++] = (uint8_t)(ti->sni_len >> 8);
		buf[n++] = (uint8_t)ti->sni_len;
		memcpy(buf + n, ti->sni, ti->sni_len);
		n += ti->sni_len;
	}
	return cert_cache_digest(cx, buf, n, k->key);
}

/* Narrow [lo, hi) around t so that "bound <= t" has one answer in it. */
static void cell_cut(int64_t bound, int64_t t, int64_t *lo, int64_t *hi)
{
	if (bound <= t) {
		if (bound > *lo)
			*lo = bound;
	} else if (bound < *hi) {
		*hi = bound;
	}
}

static void cell_cut_x509(X509 *x, int64_t t, int64_t *lo, int64_t *hi)
{
	int64_t b;
	if (cert_time_epoch(X509_get0_notBefore(x), &b))
		cell_cut(b, t, lo, hi);
	if (cert_time_epoch(X509_get0_notAfter(x), &b))
		cell_cut(b, t, lo, hi);
}

/* The packet seconds [lo, hi) around t for which verification takes exactly the path it took at t.  The packet
 * time enters X509_verify_cert only through X509_cmp_time(certificate time, t), true when the certificate time is
 * <= t (notBefore: valid; notAfter: expired), for the chain's certificates and for the store's (issuer candidates,
 * the anchor).  Within [lo, hi) no such time lies between t and the other second, so every comparison, every
 * candidate chosen and every error is the same.  A certificate time OpenSSL cannot convert compares the same way
 * at any time (an error), so only the ones cert_time_epoch converts bound the cell. */
static bool vc_cell(struct cert_trust_store *tr, const struct cert_chain_work *cw, unsigned n, int64_t t,
		    int64_t *lo, int64_t *hi)
{
	uint32_t a = 0, b;
	*lo = 0;
	*hi = CERT_VC_TIME_MAX + 1;
	for (unsigned i = 0; i < n; i++)
		if (cw->xs[i])
			cell_cut_x509(cw->xs[i], t, lo, hi);
	if (!cert_trust_bounds(tr))
		return false;
	b = tr->n_bounds;
	while (a < b) {                   /* the first bound > t */
		uint32_t mid = a + (b - a) / 2;
		if (tr->bounds[mid] <= t)
			a = mid + 1;
		else
			b = mid;
	}
	if (a > 0)
		cell_cut(tr->bounds[a - 1], t, lo, hi);
	if (a < tr->n_bounds)
		cell_cut(tr->bounds[a], t, lo, hi);
	return true;
}

static bool verified_eq(const void *entry, const void *key)
{
	const struct cert_verified *e = entry;
	const struct cert_vkey *k = key;
	return e->lo <= k->t && k->t < e->hi && memcmp(e->key, k->key, 32) == 0;
}

const struct cert_verified *cert_cache_verified(struct cert_cache *cx, const struct cert_vkey *k)
{
	struct cert_verified *e = htab_find(&cx->vidx, hseed_hash(&cx->seed, k->key, 32), verified_eq, k);
	if (e)
		cx->vclock.ref[e - cx->vc] = 1;
	return e;
}

static struct cert_verified *verified_put(struct cert_cache *cx, const struct cert_vkey *k,
					   const struct cert_analysis *ca, int64_t lo, int64_t hi)
{
	struct cert_verified *e;
	bool full;

	e = &cx->vc[clock_take(&cx->vclock, &full)];
	if (full && e->live) {
		htab_remove(&cx->vidx, e->h, e);
		cx->st->vcache_evicted++;
	}
	e->h = hseed_hash(&cx->seed, k->key, 32);
	memcpy(e->key, k->key, 32);
	e->lo = lo;
	e->hi = hi;
	e->name_check = ca->name_check;
	e->n_errors = ca->n_errors;
	e->errors_dropped = ca->errors_dropped;
	memcpy(e->errors, ca->errors, sizeof(e->errors));
	e->have_anchor = 0;
	e->live = htab_insert(&cx->vidx, e->h, e) == 0;
	if (!e->live)
		cx->st->vcache_refused++;
	return e;
}

void cert_cache_add_verified(struct cert_cache *cx, struct cert_trust_store *tr, const struct cert_vkey *k,
			     const struct cert_chain_work *cw, const struct cert_analysis *ca)
{
	int64_t lo, hi;
	if (vc_cell(tr, cw, ca->n_chain, k->t, &lo, &hi))
		verified_put(cx, k, ca, lo, hi);
}

void cert_cache_history_key(const struct cert_vkey *k, struct cert_vkey *out)
{
	*out = *k;
	out->key[0] ^= 0xa5; /* another store: another key (the key is a SHA-256 digest) */
	out->key[31] ^= 0x5a;
}

void cert_cache_add_history(struct cert_cache *cx, const struct cert_vkey *k, const struct cert_analysis *ca,
			    bool have, const uint8_t anchor[32])
{
	struct cert_verified *e = verified_put(cx, k, ca, k->t, k->t + 1);
	e->have_anchor = have;
	if (have)
		memcpy(e->anchor, anchor, 32);
}

void cert_cache_forget_verified(struct cert_cache *cx)
{
	htab_clear(&cx->vidx);
	for (uint32_t i = 0; i < cx->vclock.used; i++)
		cx->vc[i].live = 0;
	memset(cx->vclock.ref, 0, cx->vclock.cap * sizeof(*cx->vclock.ref));
	cx->vclock.used = cx->vclock.hand = 0;
}

/* ---- leaf certificates per name ----------------------------------------------------------------------------- */

static bool name_eq(const void *entry, const void *key)
{
	const struct cert_name *e = entry;
	return htab_bytes_eq(key, e->sni, e->sni_len);
}

struct cert_name *cert_cache_name(struct cert_cache *cx, const char *sni, size_t len)
{
	struct htab_bytes k = { sni, len };
	uint64_t h = hseed_hash(&cx->seed, sni, len);
	struct cert_name *e = htab_find(&cx->nidx, h, name_eq, &k);

	if (e)
		return e;
	if (cx->nidx.used >= cx->names_max || len > UINT16_MAX || !(e = calloc(1, sizeof(*e) + len))) {
		cx->st->mem_names_dropped++;
		return NULL;
	}
	e->sni_len = (uint16_t)len;
	memcpy(e->sni, sni, len);
	if (htab_insert(&cx->nidx, h, e) < 0) {
		free(e);
		cx->st->mem_names_dropped++;  /* the index refused it: not remembered, like a full memory */
		return NULL;
	}
	return e;
}

uint64_t cert_cache_str_hash(const struct cert_cache *cx, const char *s)
{
	return hseed_hash(&cx->seed, s, strlen(s));
}
