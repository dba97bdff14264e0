/* intercept.h - known TLS interception authorities: a TSV list (data/interception-cas.tsv and --interception-cas
 * files) and matching of a parsed certificate chain against it, by fingerprint or by name.
 *
 * File format (also in tamperscope(1), INTERCEPTION-CA FILE): UTF-8 text, one entry per line, six fields
 * separated by single tabs; '#' starts a comment line; blank lines are ignored; "-" is an empty field.
 *
 *   label  kind  sha1  sha256  spki_sha256  subject
 *
 *   label        what events print as "interception_ca" (1..63 printable characters, no tab); several entries
 *                may share one label (a family: the roots and intermediates of one authority)
 *   kind         fingerprint  the given hashes are complete (40 / 64 / 64 hex digits), at least one given
 *                prefix       the given hashes are leading hex digits only (8 at least): published reports
 *                             often print no more; 8 digits are 32 bits, ample to tell a handful of CAs apart
 *                name         no hashes; `subject` is a name pattern (below)
 *   sha1, sha256, spki_sha256  hex of the certificate DER, and of its DER SubjectPublicKeyInfo (case ignored)
 *   subject      fingerprint/prefix entries: the authority's subject, RFC 2253 order, informational
 *                name entries: the pattern, tried against the subject and the issuer of every chain
 *                certificate (so a root absent from the chain still matches through its child's issuer):
 *                  - "ATTR=value,ATTR=value": every listed attribute must be in the same name with exactly
 *                    that value, in any order (e.g. "C=KZ,CN=Security Certificate")
 *                  - text without '=': a substring of the RFC 2253 one-line name
 *                both ignore ASCII case.
 */
#ifndef TS_INTERCEPT_H
#define TS_INTERCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert_info.h"

#define INTERCEPT_LABEL_MAX 64
#define INTERCEPT_PATTERN_MAX 256
#define INTERCEPT_MAX_ATTRS 8
#define INTERCEPT_MIN_PREFIX 8        /* hex digits */
#define INTERCEPT_MAX_LINE 2048       /* longer lines are an error, not silently cut */
#define INTERCEPT_MAX_ENTRIES 65536   /* beyond this, entries are refused (counted) */

/* Confidence of a per-flow interception verdict, by how the chain matched. */
#define INTERCEPT_CONF_FINGERPRINT 0.99
#define INTERCEPT_CONF_PREFIX 0.95
#define INTERCEPT_CONF_NAME 0.6
#define INTERCEPT_CONF_NAME_TRUSTED 0.4  /* name match on a chain the trust store accepts */

enum intercept_kind {
	INTERCEPT_FINGERPRINT = 1,
	INTERCEPT_PREFIX,
	INTERCEPT_NAME,
};

struct intercept_entry {
	char label[INTERCEPT_LABEL_MAX];
	uint8_t kind;                 /* enum intercept_kind */
	uint8_t n_attrs;              /* name patterns of the ATTR=value form; 0 = substring */
	uint8_t sha1_len, sha256_len, spki_len; /* hex digits given (0 = unknown) */
	char sha1[41], sha256[65], spki_sha256[65]; /* lowercase */
	char subject[INTERCEPT_PATTERN_MAX];
	uint16_t attr_off[INTERCEPT_MAX_ATTRS]; /* ATTR=value components inside `subject`, trimmed */
	uint16_t attr_len[INTERCEPT_MAX_ATTRS];
};

struct intercept_db {
	struct intercept_entry *e;
	size_t n, cap;
	uint64_t refused;             /* entries over INTERCEPT_MAX_ENTRIES */
};

struct intercept_match {
	const char *label;            /* points into the db */
	uint8_t kind;                 /* enum intercept_kind of the entry */
	uint8_t cert;                 /* chain index */
	const char *field;            /* "sha1", "sha256", "spki_sha256", "subject", "issuer" */
	double confidence;
};

struct intercept_db *intercept_db_new(void);
void intercept_db_free(struct intercept_db *db);

/* Append the entries of a file / of text in memory (`name` for messages).  Returns the number of entries added,
 * or -1 with "NAME:LINE: reason" in err; on error nothing from this file is kept. */
int intercept_db_load(struct intercept_db *db, const char *path, char *err, size_t errlen);
int intercept_db_load_mem(struct intercept_db *db, const char *text, size_t len, const char *name, char *err,
			  size_t errlen);

/* First match over the chain: every fingerprint entry is tried on every certificate (leaf first) before any
 * name entry, so a fingerprint match always wins over a name match.  chain_trusted lowers the confidence of a
 * name match.  Unparsed certificates match by SHA-1/SHA-256 only. */
bool intercept_match_chain(const struct intercept_db *db, const struct cert_info *chain, size_t n,
			   bool chain_trusted, struct intercept_match *m);

/* What one certificate matches, whatever chain it is in: the first fingerprint entry and which of its
 * fingerprints, the first name entry and whether by the issuer; -1 for none.  It never changes for a
 * certificate, so the certificate cache keeps it (cert_cache.h) and a chain of known certificates is matched
 * without reading the entries again (intercept_match_pre). */
struct intercept_cert {
	int32_t fp, name;             /* entry index, -1: none */
	uint8_t fp_field;             /* 0 sha1, 1 sha256, 2 spki_sha256 */
	uint8_t name_issuer;          /* the name entry matched the issuer (not the subject) */
};
void intercept_match_cert(const struct intercept_db *db, const struct cert_info *ci, struct intercept_cert *out);
/* intercept_match_chain over pre[0..n), each certificate's answer (the chain's certificates in order). */
bool intercept_match_pre(const struct intercept_db *db, const struct intercept_cert *pre, size_t n,
			 bool chain_trusted, struct intercept_match *m);

/* Does a one-line RFC 2253 name match entry e's name pattern?  Exposed for tests. */
bool intercept_name_matches(const struct intercept_entry *e, const char *name);

const char *intercept_kind_name(enum intercept_kind k);

#endif
