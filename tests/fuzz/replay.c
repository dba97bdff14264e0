/* replay.c - run a fuzzing harness over saved inputs without libFuzzer.
 *
 * Linked with one harness (tests/fuzz/fuzz_NAME.c) it is the check program
 * tests/fuzz/replay_NAME: every file named on the command line, and every
 * file in a directory named (sorted by name, since some harnesses keep
 * state from one input to the next), goes once through
 * LLVMFuzzerTestOneInput, after LLVMFuzzerInitialize when the harness has
 * one.  So an input that crashed once stays a test of every build; under
 * --enable-sanitizers it runs under ASan and UBSan.
 *
 * Each input is passed in a heap buffer of exactly its size, as libFuzzer
 * does, so a read past its end is caught.  The harness reports a failure
 * by crashing (trap, abort, sanitizer); this program exits non-zero when an
 * input cannot be read, when a harness returns a value libFuzzer does not
 * allow, and when there was nothing to replay.  It ends by printing
 * "N inputs replayed".
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Defined by the harnesses that need it (weak: absent in the others). */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Read all of a regular file into an exactly sized buffer (1 byte for an
 * empty file, so the pointer is never NULL); NULL and errno on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uintmax_t)st.st_size > SIZE_MAX - 1) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	*len = (size_t)st.st_size;
	buf = malloc(*len ? *len : 1);
	if (buf == NULL || fread(buf, 1, *len, f) != *len || getc(f) != EOF) {
		free(buf);
		fclose(f);
		errno = EIO; /* short read, or the file grew */
		return NULL;
	}
	fclose(f);
	return buf;
}

/* Replay one file; 0 or -1 (reported). */
static int replay_file(const char *path)
{
	size_t len = 0;
	uint8_t *data = read_file(path, &len);
	int rc;

	if (data == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = LLVMFuzzerTestOneInput(data, len);
	free(data);
	/* libFuzzer allows 0 and -1 ("do not add to the corpus"). */
	if (rc != 0 && rc != -1) {
		fprintf(stderr, "replay: %s: harness returned %d\n", path, rc);
		return -1;
	}
	return 0;
}

static int skip_entry(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Replay every regular file of a directory, in name order; subdirectories
 * and hidden files are left out.  Adds to *n; 0 or -1. */
static int replay_dir(const char *dir, unsigned long *n)
{
	struct dirent **names;
	int count = scandir(dir, &names, skip_entry, alphasort);
	int bad = 0;

	if (count < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < count; i++) {
		size_t need = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = malloc(need);
		struct stat st;

		if (path == NULL) {
			bad = -1;
		} else {
			snprintf(path, need, "%s/%s", dir, names[i]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (replay_file(path) < 0)
					bad = -1;
				else
					(*n)++;
			}
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return bad;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int bad = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode)) {
			if (replay_dir(argv[i], &n) < 0)
				bad = 1;
		} else if (replay_file(argv[i]) < 0) {
			bad = 1;
		} else {
			n++;
		}
	}
	printf("%lu inputs replayed\n", n);
	if (n == 0) {
		fprintf(stderr, "replay: no inputs\n");
		return 1;
	}
	return bad;
}
