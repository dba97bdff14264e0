/* icptfind.c - forged chains seen per network, for the HTML page (see
 * icptfind.h). */
#include <stdio.h>
#include <string.h>

#include "cert.h"
#include "icptfind.h"
#include "record.h"
#include "tls.h"

/* Cut to the field, at a UTF-8 character boundary. */
static void copy(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, ICPTFIND_TEXT - 1) : 0;
	if (src && src[n])
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool same_chain(const struct icpt_finding *f, const struct cert_analysis *ca)
{
	unsigned n = ca->n_chain < ICPTFIND_CHAIN ? ca->n_chain : ICPTFIND_CHAIN;
	if (f->n_chain != n)
		return false;
	for (unsigned i = 0; i < n; i++)
		if (strncmp(f->issuer[i], ca->chain[i].issuer, ICPTFIND_TEXT - 1) != 0)
			return false;
	return true;
}

static void add_name(struct icpt_finding *f, const struct flow_record *r)
{
	char name[TLS_MAX_SNI + 64];
	record_server_name(r, name, sizeof(name));
	for (unsigned i = 0; i < f->n_names; i++)
		if (strncmp(f->names[i], name, ICPTFIND_TEXT - 1) == 0)
			return;
	if (f->n_names == ICPTFIND_NAMES) {
		f->names_dropped++;
		return;
	}
	copy(f->names[f->n_names++], name);
}

void icptfind_add(struct icptfind *fs, const struct flow_record *r)
{
	const struct cert_analysis *ca = r->cert;
	if (!ca || !ca->interception_ca ||
	    (ca->match != CERT_MATCH_FINGERPRINT && ca->match != CERT_MATCH_NAME))
		return;
	struct icpt_finding *f = NULL;
	for (size_t i = 0; i < fs->n && !f; i++)
		if (fs->f[i].asn == r->client_as.asn && strcmp(fs->f[i].label, ca->interception_ca) == 0 &&
		    same_chain(&fs->f[i], ca))
			f = &fs->f[i];
	if (!f) {
		if (fs->n == ICPTFIND_MAX) {
			fs->flows_dropped++;
			return;
		}
		f = &fs->f[fs->n++];
		memset(f, 0, sizeof(*f));
		f->asn = r->client_as.asn;
		copy(f->org, r->client_as.org);
		copy(f->label, ca->interception_ca);
		f->match = ca->match == CERT_MATCH_FINGERPRINT ? "fingerprint" : "name";
		f->match_cert = ca->match_cert;
		f->n_chain = ca->n_chain < ICPTFIND_CHAIN ? ca->n_chain : ICPTFIND_CHAIN;
		for (unsigned i = 0; i < f->n_chain; i++) {
			copy(f->subject[i], ca->chain[i].parsed ? ca->chain[i].subject : "(not parsed)");
			copy(f->issuer[i], ca->chain[i].parsed ? ca->chain[i].issuer : "");
		}
	}
	f->flows++;
	add_name(f, r);
}
