/* cert_history.h - the trust anchors of earlier times: root CAs that have
 * left the Mozilla/Debian store (data/removed-roots.tsv: label, SPKI
 * SHA-256, removal date, subject) and, when built, their certificates
 * (removed-roots.pem), so a chain is judged against the anchors of its
 * packet's time and not against today's (RFC 5280 section 6.1.1: the trust
 * anchor is an input of path validation, and it changes over time).
 *
 * A chain that fails today only for want of an anchor is validated again
 * against the removed roots: anchored at one removed after the packet time,
 * it was trusted then; at one removed at an unrecorded date, or matched by
 * name only (no certificate to check the signature), its anchor cannot be
 * known (trust "unknown_anchor": neither trusted nor untrusted).
 */
#ifndef TS_CERT_HISTORY_H
#define TS_CERT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "cert_info.h"

#define CERT_HISTORY_MAX 4096      /* entries kept from the list (more are refused, counted) */

struct cert_removed {
	char label[96];
	uint8_t spki[32];
	bool have_spki;
	bool have_cert;             /* its certificate is in the store: its signatures can be checked */
	int64_t removed_on;         /* seconds since the epoch, UTC; 0: not recorded */
	char removed_date[11];      /* "YYYY-MM-DD" or "" */
	char subject[CERT_NAME_LEN];
};

struct cert_history {
	struct cert_removed *e;
	size_t n;
	const struct cert_removed **by_subject; /* e sorted by subject, then file order */
	uint64_t refused;           /* list entries over CERT_HISTORY_MAX */
	char *pem;                  /* the certificates' PEM text, read at load, parsed on first need */
	size_t pem_len;
	bool loaded;                /* ... and whether that happened (cert_history_store) */
	X509_STORE *store;          /* the removed roots whose certificates are at hand; NULL: none */
	size_t certs;               /* certificates in the store */
};

/* Read the list (required) and the certificates' file (pem may be NULL or
 * missing: then matches are by name only).  The certificates are parsed
 * only when a chain first needs them - d2i_X509 costs 1.5 M instructions a
 * root in OpenSSL 3, and most runs never meet a chain that could anchor at
 * a removed root; the file is read now, while it is surely readable.  -1 with
 * "PATH:LINE: reason" in err; h is then safe to free. */
int cert_history_load(struct cert_history *h, const char *tsv, const char *pem, char *err,
		      size_t errlen);
void cert_history_free(struct cert_history *h);

/* The store of the removed roots' certificates, read now if not yet; NULL
 * when there are none. */
X509_STORE *cert_history_store(struct cert_history *h);

/* The entry of a root by the SHA-256 of its DER SubjectPublicKeyInfo, or by
 * its one-line subject; NULL when not listed. */
const struct cert_removed *cert_history_by_spki(const struct cert_history *h, const uint8_t spki[32]);
const struct cert_removed *cert_history_by_subject(const struct cert_history *h, const char *subject);

#endif
