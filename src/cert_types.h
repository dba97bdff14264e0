/* cert_types.h - the certificate stage's constants and the plain structs it fills: per-flow analysis,
 * counters and configuration.
 *
 * Shared by the stage's files (cert.c, cert_trust.c, cert_cache.c, cert_verify.c) and by the outputs that read
 * a struct cert_analysis; the functions are in cert.h.  Depends on nothing above the TLS facts.
 */
#ifndef TS_CERT_TYPES_H
#define TS_CERT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"
#include "tls_info.h"
#include "util.h"

struct hseed;
struct intercept_db;

#define CERT_DEFAULT_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CERT_DEFAULT_DIR "/etc/ssl/certs" /* the same anchors as hash links (update-ca-certificates runs rehash) */

#define CERT_MAX_CHAIN TLS_MAX_CERTS /* chain entries analysed (the TLS parser keeps no more) */
#define CERT_MAX_ERRORS 8            /* distinct verification errors kept per chain */
#define CERT_DEFAULT_MEMORY 4096     /* server names remembered for the forgery hints */
#define CERT_MEM_VARIANTS 4          /* distinct leaf certificates remembered per name */
#define CERT_DEFAULT_CACHE 1024      /* parsed certificates kept (d2i_X509 costs ~1.4 M instructions in OpenSSL 3) */
#define CERT_DEFAULT_VCACHE 1024     /* chain verification results kept */

/* Forgery-hint window: the reference case's interception intermediates were valid for 75 days. */
#define CERT_HINT_75D_MIN (73LL * 86400)
#define CERT_HINT_75D_MAX (77LL * 86400)
#define CERT_HINT_SHIFT_MAX_HOURS 24
#define CERT_HINT_FRESH_S (48LL * 3600) /* whole-hours hint: notBefore this close to the packet time */

enum cert_trust {
	CERT_TRUST_NOT_VISIBLE = 0, /* TLS 1.3 or no Certificate message in clear: never guessed */
	CERT_TRUST_TRUSTED,
	CERT_TRUST_UNTRUSTED,
	CERT_TRUST_UNKNOWN_ANCHOR,  /* anchored at a root that left the store at an unrecorded date, or matched by
				       name only: the anchors of the packet's time are not known.  Never untrusted */
	CERT_TRUST_UNVERIFIABLE,    /* a chain certificate uses an algorithm this OpenSSL cannot check (ML-DSA) */
};

/* Before this time (2001-01-01) a packet's clock was not set (a device without a clock starts at 1970 or
 * 2000): chains are validated without time checks, and the event says so. */
#define CERT_CLOCK_UNSET_BEFORE 978307200LL

enum cert_match {
	CERT_MATCH_NONE = 0,
	CERT_MATCH_FINGERPRINT,     /* a chain certificate's SHA-1/SHA-256/SPKI-SHA-256 is a known interception CA */
	CERT_MATCH_NAME,            /* only a subject/issuer name matched a known interception CA */
	CERT_MATCH_INCONSISTENT,    /* cross-network conclusion at the end of the run (certstats), never per flow */
};

enum cert_name_check {
	CERT_NAME_NOT_CHECKED = 0,  /* certificate not visible, or leaf unparseable */
	CERT_NAME_MATCH,
	CERT_NAME_MISMATCH,
	CERT_NAME_NO_SNI,           /* the ClientHello named no server: the name check was skipped */
};

/* Forgery hints: evidence only, never a verdict by themselves; each with its JSON name. */
#define CERT_HINTS(X) \
	/* leaf valid for 73..77 days */ \
	X(CERT_HINT_LEAF_VALIDITY_75D, "leaf_validity_75d") \
	/* a CA certificate of the chain valid for 73..77 days */ \
	X(CERT_HINT_CA_VALIDITY_75D, "ca_validity_75d") \
	/* a chain certificate's RSA key has public exponent 3 */ \
	X(CERT_HINT_RSA_EXPONENT_3, "rsa_exponent_3") \
	/* leaf lacks subjectAltName, keyUsage or authorityKeyIdentifier */ \
	X(CERT_HINT_EXTENSIONS_STRIPPED, "extensions_stripped") \
	/* leaf validity on exact hours, not midnight, notBefore within 48 h of the packet (forged on the fly) */ \
	X(CERT_HINT_VALIDITY_WHOLE_HOURS, "validity_whole_hours") \
	/* another leaf for the name starts exactly k hours apart (1 <= |k| <= 24) */ \
	X(CERT_HINT_VALIDITY_SHIFTED_HOURS, "validity_shifted_hours") \
	/* another leaf for the name: same subject, different public key */ \
	X(CERT_HINT_SAME_SUBJECT_OTHER_KEY, "same_subject_other_key") \
	/* another leaf for the name: same subject, different issuer */ \
	X(CERT_HINT_SAME_SUBJECT_OTHER_ISSUER, "same_subject_other_issuer") \
	/* this chain fails, the name validated earlier with another issuer */ \
	X(CERT_HINT_OTHER_ISSUER_TRUSTED, "other_issuer_trusted")

enum cert_hint {
	CERT_HINTS(ENUM_ID)
	CERT_HINT__COUNT
};

/* tamperscope's own reasons, beside OpenSSL's X509_V_ERR_* codes (all >= 0). */
enum {
	CERT_ERR_LEAF_UNPARSED = -1, /* the first certificate is not valid DER */
	CERT_ERR_EMPTY_CHAIN = -2,   /* the Certificate message listed no certificate */
	CERT_ERR_VERIFY_FAILED = -3, /* X509_verify_cert could not run (out of memory) */
	CERT_ERR_BAD_SNI = -4,       /* the SNI cannot be a host name (NUL byte): no certificate can match it */
	CERT_ERR_UNSUPPORTED_ALG = -5, /* a chain certificate's key or signature algorithm is unknown to OpenSSL */
};

struct cert_error {
	int code;                   /* X509_V_ERR_*, or CERT_ERR_* */
	int depth;                  /* chain position the error is about */
};

/* Per flow, filled by cert_analyze.  About 22 KB: keep one in the engine context, not on a deep stack.
 * errors[] and chain[] stay the last members: they are valid up to n_errors and n_chain only, and cert_analyze
 * clears only what comes before them. */
struct cert_analysis {
	uint8_t trust;              /* enum cert_trust */
	uint8_t name_check;         /* enum cert_name_check */
	uint8_t match;              /* enum cert_match (never INCONSISTENT here) */
	uint8_t match_cert;         /* chain index of the certificate that matched */
	uint8_t match_prefix;       /* the matching entry knew only a fingerprint prefix */
	uint8_t n_chain;            /* entries in chain[], in the order the server sent them */
	uint8_t n_unparsed;
	uint8_t chain_truncated;    /* the server sent more than CERT_MAX_CHAIN, or the message was cut */
	uint8_t n_errors;
	uint8_t errors_dropped;
	int trust_code;             /* first error's code (X509_V_ERR_* or CERT_ERR_*); 0 when trusted */
	const char *trust_reason;   /* static string: OpenSSL's reason, tamperscope's own, or why not visible */
	const char *interception_ca;/* label from the interception-CA list (lives as long as the list), or NULL */
	const char *match_field;    /* "sha1", "sha256", "spki_sha256", "subject" or "issuer" */
	double match_confidence;
	uint32_t hints;             /* 1 << enum cert_hint */
	uint64_t validated_at_us;   /* packet time the chain was validated at */
	uint8_t time_unchecked;     /* the packet's clock was not set: validated without time checks */
	const char *removed_anchor; /* label of the removed root the chain leads to (cert_history), or NULL */
	const char *removed_date;   /* its removal date "YYYY-MM-DD", "" when not recorded */
	struct cert_error errors[CERT_MAX_ERRORS];
	struct cert_info chain[CERT_MAX_CHAIN];
};

struct cert_stats {
	uint64_t chains;            /* flows analysed with a visible chain */
	uint64_t not_visible;
	uint64_t trusted, untrusted;
	uint64_t certs_parsed, certs_unparsed;
	uint64_t chains_truncated;
	uint64_t names_cut, serials_cut, san_dropped;
	uint64_t errors_dropped;    /* verification errors beyond CERT_MAX_ERRORS */
	uint64_t verify_failed;     /* X509_verify_cert could not run (memory): chain counted untrusted */
	uint64_t unsupported_alg;   /* chains with an algorithm this OpenSSL cannot check: unverifiable */
	uint64_t unknown_anchor;    /* chains whose anchor at the packet's time is not known */
	uint64_t removed_anchor_trusted; /* chains trusted through a root removed after the packet time */
	uint64_t time_unchecked;    /* chains validated without time checks (clock not set) */
	uint64_t match_fingerprint, match_name;
	uint64_t mem_names_dropped; /* a name not remembered: memory full (CERT_DEFAULT_MEMORY), or its index */
	uint64_t mem_variants_dropped; /* a leaf not remembered: CERT_MEM_VARIANTS reached for its name */
	uint64_t cache_hits;        /* chain certificates copied from the parsed-certificate cache */
	uint64_t cache_misses;      /* chain certificates parsed (d2i_X509) */
	uint64_t cache_evicted;     /* cache entries replaced: the cache was full */
	uint64_t vcache_hits;       /* chain verifications replayed from the verification cache */
	uint64_t vcache_misses;     /* chain verifications run (X509_verify_cert) */
	uint64_t vcache_evicted;    /* verification cache entries replaced: the cache was full */
	uint64_t cache_refused;     /* parsed certificates not cached: the index's probe window was full (htab.h) */
	uint64_t vcache_refused;    /* verification results not cached: likewise */
};

struct cert_cfg {
	const char *ca_bundle;      /* PEM bundle of trust anchors, loaded whole; NULL = the system's (see
				       cert_ctx_new) */
	uint32_t memory_names;      /* 0 = CERT_DEFAULT_MEMORY */
	const struct hseed *seed;   /* the run's start-up seed, keying the caches' and the name memory's indexes
				       (results never depend on it); NULL: one drawn for this context */
	const struct intercept_db *icpt; /* known interception CAs; NULL = none.  Borrowed, must outlive the ctx */
	uint32_t cache_certs;       /* parsed certificates kept; 0 = CERT_DEFAULT_CACHE */
	uint32_t cache_chains;      /* verification results kept; 0 = CERT_DEFAULT_VCACHE */
	const char *sys_bundle;     /* the system's bundle and hashed directory; NULL = CERT_DEFAULT_BUNDLE and */
	const char *sys_dir;        /* CERT_DEFAULT_DIR (tests point them elsewhere) */
	const char *removed_roots;  /* data/removed-roots.tsv; NULL: judge against today's anchors only */
	const char *removed_pem;    /* their certificates; NULL or missing: matched by name only */
};

#endif
