/* certmatch.c - test helper: run certificates (PEM or DER files) through tamperscope's own parser and
 * interception-CA matcher, one line per file:
 *     FILE <TAB> sha1 <TAB> sha256 <TAB> spki_sha256 <TAB> label|- <TAB> kind|none <TAB> field|-
 * Usage: certmatch LIST.tsv CERT...   (exit 0; 2 on usage or list errors, 1 when a file does not parse)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cert.h"
#include "intercept.h"

/* The certificate's DER, from PEM or DER input; NULL when neither. */
static unsigned char *load_der(const char *path, int *len)
{
	FILE *fp = fopen(path, "rb");
	X509 *x;
	unsigned char *der = NULL;
	*len = 0;
	if (!fp)
		return NULL;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	if (!x) {
		rewind(fp);
		x = d2i_X509_fp(fp, NULL);
	}
	fclose(fp);
	if (x)
		*len = i2d_X509(x, &der);
	X509_free(x);
	return *len > 0 ? der : NULL;
}

int main(int argc, char **argv)
{
	struct intercept_db *db;
	char err[512];
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: certmatch LIST.tsv CERT...\n");
		return 2;
	}
	db = intercept_db_new();
	if (!db || intercept_db_load(db, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "certmatch: %s\n", db ? err : "out of memory");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		struct cert_info ci;
		struct intercept_match m;
		int len;
		unsigned char *der = load_der(argv[i], &len);
		if (!der || !cert_parse(der, (size_t)len, &ci, NULL)) {
			printf("%s\tunparsed\n", argv[i]);
			rc = 1;
			OPENSSL_free(der);
			continue;
		}
		if (intercept_match_chain(db, &ci, 1, false, &m))
			printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", argv[i], ci.sha1, ci.sha256, ci.spki_sha256, m.label,
			       intercept_kind_name((enum intercept_kind)m.kind), m.field);
		else
			printf("%s\t%s\t%s\t%s\t-\tnone\t-\n", argv[i], ci.sha1, ci.sha256, ci.spki_sha256);
		OPENSSL_free(der);
	}
	intercept_db_free(db);
	return rc;
}
