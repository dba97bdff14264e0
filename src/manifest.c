/* manifest.c - FILE.sha256 beside the evidence: digests sha256sum -c checks,
 * and the version and command line of the analysis (see manifest.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "manifest.h"

void manifest_add(struct manifest *m, const char *role, const char *path)
{
	char *copy;
	if (!path || strcmp(path, "-") == 0 || m->n_files >= MANIFEST_MAX_FILES ||
	    !(copy = strdup(path)))
		return;
	m->files[m->n_files++] = (struct manifest_file){ role, copy };
}

void manifest_release(struct manifest *m)
{
	for (int i = 0; i < m->n_files; i++)
		free(m->files[i].path);
	m->n_files = 0;
}

int manifest_sha256_file(const char *path, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	size_t n;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = EVP_DigestUpdate(ctx, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
	int saved = errno;
	EVP_MD_CTX_free(ctx);
	fclose(f);
	if (!ok) {
		errno = saved ? saved : EIO;
		return -1;
	}
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

/* A digest line for path, named as `name`; a comment when it cannot be read. */
static void digest_line(FILE *out, const char *role, const char *path, const char *name)
{
	char hex[65];
	fprintf(out, "# %s\n", role);
	if (manifest_sha256_file(path, hex) < 0) {
		fprintf(out, "# (not readable: %s: %s)\n", name, strerror(errno));
		return;
	}
	/* sha256sum escapes names holding a newline or backslash; such a
	 * name is rare enough to be left as a comment. */
	if (strpbrk(name, "\n\\")) {
		fprintf(out, "# %s  (a name sha256sum cannot hold)\n", hex);
		return;
	}
	fprintf(out, "%s  %s\n", hex, name);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* The command line as a shell would take it back. */
static void command_line(FILE *out, const struct manifest *m)
{
	fputs("# command:", out);
	for (int i = 0; i < m->argc; i++) {
		const char *a = m->argv[i];
		if (a[0] && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789-_./=:,+@%") == strlen(a)) {
			fprintf(out, " %s", a);
			continue;
		}
		fputs(" '", out);
		for (; *a; a++) {
			if (*a == '\'')
				fputs("'\\''", out);
			else if (*a == '\n')
				fputs("\\n", out); /* a manifest line stays one line */
			else
				fputc(*a, out);
		}
		fputc('\'', out);
	}
	fputc('\n', out);
}

int manifest_write(FILE *out, const struct manifest *m, const char *holds, char *err,
		   size_t errlen)
{
	fprintf(out, "# tamperscope evidence manifest: check with `sha256sum -c %s.sha256` in this "
		"directory\n", base_name(m->evidence));
	fputs("# (the evidence by its name beside this file; captures, trust store and databases by "
	      "their paths where the analysis ran)\n", out);
	fprintf(out, "# tamperscope %s\n", m->version);
	command_line(out, m);
	fprintf(out, "# holds: %s\n", holds);
	if (m->live)
		fprintf(out, "# input: live capture on interface %s (no file to digest)\n", m->live);
	digest_line(out, "evidence (packets of the interfered flows)", m->evidence,
		    base_name(m->evidence));
	if (m->side)
		digest_line(out, "the evidence's packet comments (pcap has none of its own)", m->side,
			    base_name(m->side));
	for (int i = 0; i < m->n_files; i++) {
		char abs[PATH_MAX];
		const char *p = m->files[i].path;
		digest_line(out, m->files[i].role, p, realpath(p, abs) ? abs : p);
	}
	if (ferror(out) || fflush(out) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	return 0;
}
