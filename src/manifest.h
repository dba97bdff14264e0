/* manifest.h - the evidence manifest (-w FILE writes FILE.sha256): what
 * someone needs to show that the evidence was not altered and to redo the
 * analysis.  It is a sha256sum(1) file, so `sha256sum -c` checks it as it
 * is: one "DIGEST  PATH" line for the evidence file, every input capture,
 * the trust store, the ASN database and the interception-CA lists, each
 * after a "# role" comment, and comment lines with the version, the
 * command line and what the evidence holds.
 *
 * Paths: the evidence file (and a classic pcap's comment side file) by
 * its name alone, since they travel with the manifest; everything else by
 * its absolute path on the machine that ran the analysis.  So
 * `cd DIR && sha256sum -c FILE.sha256` checks all of it there, and
 * `sha256sum -c --ignore-missing FILE.sha256` checks the evidence wherever
 * it was sent.
 */
#ifndef TS_MANIFEST_H
#define TS_MANIFEST_H

#include <stddef.h>
#include <stdio.h>

#define MANIFEST_MAX_FILES 1100

struct manifest_file {
	const char *role;          /* "input capture", "trust store", ... */
	char *path;                /* a copy */
};

struct manifest {
	const char *version;       /* tamperscope's */
	int argc;
	char *const *argv;         /* the command line */
	const char *evidence;      /* -w FILE */
	const char *side;          /* the comment side file, NULL: none */
	const char *live;          /* -i IFACE: the input was an interface, NULL otherwise */
	struct manifest_file files[MANIFEST_MAX_FILES];
	int n_files;
};

/* Add a file to digest (path is copied; ignored past MANIFEST_MAX_FILES,
 * for "-" and NULL, and when out of memory). */
void manifest_add(struct manifest *m, const char *role, const char *path);
/* Free the copies. */
void manifest_release(struct manifest *m);

/* The SHA-256 of a file as 64 hex digits.  0, or -1 with errno set. */
int manifest_sha256_file(const char *path, char hex[65]);

/* Write the manifest to out; `holds` says what the evidence holds (one
 * line).  0, or -1 with err set when a write failed.  A file that cannot
 * be read is named in a comment line instead of a digest line. */
int manifest_write(FILE *out, const struct manifest *m, const char *holds, char *err,
		   size_t errlen);

#endif
