/* cert_cache.h - the bounded memories of the certificate stage, each indexed by htab.h under the run's start-up
 * seed (the DER, the chains and the server names are all the sender's):
 *
 *   parsed certificates   by SHA-256 of the DER: a certificate seen before is copied, not parsed again
 *                         (d2i_X509 and the RFC 5280 section 4.1 fields cost ~1.4 M instructions);
 *   verification results  by a digest of the chain and the host name, for the span of packet seconds in which no
 *                         validity bound (RFC 5280 section 4.1.2.5) of a certificate OpenSSL may look at lies
 *                         between this second and another, so the path validation (section 6) cannot differ;
 *   leaf certificates     per server name, up to CERT_MEM_VARIANTS each, for the forgery hints.
 *
 * The first two only save work: a hit hands back exactly what the work left, and cert.c moves again the counters
 * the work moved.  All three are bounded by struct cert_cfg.  When the parsed or verification cache is full, CLOCK
 * picks the entry to replace (one hit since the hand last passed it buys it another turn), counted in
 * cache_evicted / vcache_evicted; the name memory keeps the names it met first and counts the others in
 * mem_names_dropped.  An index that refuses an insert (htab's probe window, see htab.h) is counted too.
 */
#ifndef TS_CERT_CACHE_H
#define TS_CERT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "cert_types.h"
#include "cert_trust.h"
#include "htab.h"
#include "intercept.h"

/* Latest packet second a verification result is cached for: up to the end of year 9999 OpenSSL converts the packet
 * time and compares certificate times with it exactly (X509_cmp_time); beyond, the conversion itself fails. */
#define CERT_VC_TIME_MAX 253402300799LL

/* The chain of one flow while it is analysed: the certificates (one reference each; NULL for an entry that does not
 * parse) and the SHA-256 of their DER, where it could be computed. */
struct cert_chain_work {
	X509 *xs[CERT_MAX_CHAIN];
	uint8_t dg[CERT_MAX_CHAIN][32];
	uint8_t have_dg[CERT_MAX_CHAIN];
	struct intercept_cert icpt[CERT_MAX_CHAIN]; /* what each matches of the interception list */
};

/* A parsed certificate: what the parser filled in, and the one counter it moved that cert_info does not show. */
struct cert_parsed {
	uint64_t h;                 /* index hash of dg */
	uint8_t dg[32];             /* SHA-256 of the DER (with ci.der_len, the key) */
	uint8_t live;               /* in the index: 0 for a slot never filled or whose insert was refused */
	uint32_t san_dropped;
	X509 *x;                    /* one reference held; NULL when the DER does not parse */
	struct cert_info ci;
	struct intercept_cert icpt; /* what it matches of the interception list (intercept_match_cert) */
};

/* A verification result: what validation left in the analysis, the same for every packet second in [lo, hi).
 * Several entries may share a key, for packet times in other spans. */
struct cert_verified {
	uint64_t h;
	uint8_t key[32];
	uint8_t live;
	uint8_t name_check, n_errors, errors_dropped;
	uint8_t have_anchor;        /* against the removed roots: the chain reached one (anchor = its SPKI digest) */
	int64_t lo, hi;
	struct cert_error errors[CERT_MAX_ERRORS];
	uint8_t anchor[32];
};

/* What a verification result is looked up and stored under. */
struct cert_vkey {
	uint8_t key[32];
	int64_t t;                  /* the packet second */
};

/* One remembered leaf certificate of a server name (keyed hashes of its strings: a collision only hides a hint). */
struct cert_variant {
	uint64_t subject_h, issuer_h, spki_h;
	int64_t not_before;
	uint8_t times_ok;
	uint8_t trusted;            /* validated in at least one flow */
};

/* The leaf certificates remembered for one server name. */
struct cert_name {
	uint16_t sni_len;
	uint8_t n;
	struct cert_variant v[CERT_MEM_VARIANTS];
	char sni[];                 /* sni_len bytes */
};

/* CLOCK replacement over a fixed array of entries. */
struct cert_clock {
	uint8_t *ref;               /* set by a hit, cleared as the hand passes */
	uint32_t cap, used, hand;
};

struct cert_cache {
	struct hseed seed;
	const EVP_MD *sha256;
	struct cert_stats *st;      /* the owning context's counters */
	struct htab pidx, vidx, nidx;
	struct cert_parsed *pc;
	struct cert_verified *vc;
	struct cert_clock pclock, vclock;
	uint32_t names_max;
};

/* Sizes, seed and caps from cfg (NULL: the defaults and a seed drawn here).  sha256: the digest the keys use; st:
 * where the caches count, borrowed.  -1 when out of memory; cx is then still safe to free. */
int cert_cache_init(struct cert_cache *cx, const struct cert_cfg *cfg, const EVP_MD *sha256, struct cert_stats *st);
void cert_cache_free(struct cert_cache *cx);

/* SHA-256 of n bytes, the parsed-certificate cache's key.  False when libcrypto fails. */
bool cert_cache_digest(const struct cert_cache *cx, const void *p, size_t n, uint8_t out[32]);

/* The entry parsed from len bytes of DER with SHA-256 dg, or NULL.  On a hit *x is a new reference to its
 * certificate (NULL for DER that does not parse). */
const struct cert_parsed *cert_cache_parsed(struct cert_cache *cx, const uint8_t dg[32], size_t len, X509 **x);
/* Remember what parsing the DER with SHA-256 dg gave (x may be NULL); san_dropped: the SAN names it dropped;
 * icpt: what it matches of the interception list. */
void cert_cache_add_parsed(struct cert_cache *cx, const uint8_t dg[32], X509 *x, const struct cert_info *ci,
			   uint64_t san_dropped, const struct intercept_cert *icpt);

/* The key of a chain's verification: what it depends on besides the store and the packet time (the certificates
 * handed to OpenSSL, in order, and the host name) and the packet second.  False when the chain cannot be keyed (a
 * digest is missing, or the time is past CERT_VC_TIME_MAX): it is verified every time. */
bool cert_cache_vkey(const struct cert_cache *cx, const struct tls_info *ti, const struct cert_chain_work *cw,
		     const struct cert_analysis *ca, struct cert_vkey *k);
/* The result cached for k, or NULL. */
const struct cert_verified *cert_cache_verified(struct cert_cache *cx, const struct cert_vkey *k);
/* Remember ca's verification outcome for k, valid over the packet seconds the chain's and the store's validity
 * bounds allow.  Call after the verification: the anchors it looked up are in the store by then. */
void cert_cache_add_verified(struct cert_cache *cx, struct cert_trust_store *tr, const struct cert_vkey *k,
			     const struct cert_chain_work *cw, const struct cert_analysis *ca);
/* The key of the same chain's verification against the roots that left the store (cert_history.h): k retagged. */
void cert_cache_history_key(const struct cert_vkey *k, struct cert_vkey *out);
/* Remember that verification's outcome, for its packet second only (the removed roots' validity bounds are not
 * among those the cells are cut by), with the anchor it reached (have: anchor holds its SPKI digest). */
void cert_cache_add_history(struct cert_cache *cx, const struct cert_vkey *k, const struct cert_analysis *ca,
			    bool have, const uint8_t anchor[32]);
/* Drop every verification result (the store changed). */
void cert_cache_forget_verified(struct cert_cache *cx);

/* The memory of a name; created when there is room, else counted in mem_names_dropped and NULL. */
struct cert_name *cert_cache_name(struct cert_cache *cx, const char *sni, size_t len);
/* The keyed hash a remembered variant keeps of a string. */
uint64_t cert_cache_str_hash(const struct cert_cache *cx, const char *s);

#endif
