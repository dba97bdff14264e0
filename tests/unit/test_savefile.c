/* test_savefile.c - the classic pcap reader (savefile.c) against libpcap on
 * whole files: records that straddle its 1 MiB reads, records longer than
 * the file's snapshot length, both byte orders and both time resolutions,
 * files cut at every kind of place, the bundled captures and the
 * third-party ones (when beside the tree); and capture.c choosing it only
 * for plain files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "savefile.h"

static void put32(FILE *fp, uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	assert_int_equal(fwrite(&v, 4, 1, fp), 1);
}

static void put16(FILE *fp, uint16_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	assert_int_equal(fwrite(&v, 2, 1, fp), 1);
}

/* A capture of n records: sizes cycle through small, MTU, 64 KiB and
 * odd lengths so records fall across every 1 MiB boundary, with times
 * whose fractions need both resolutions; every `over`-th record claims
 * more bytes than the snapshot length. */
static void write_capture(const char *path, bool swap, bool nsec, uint32_t snap, unsigned n, unsigned over)
{
	static const uint32_t sizes[] = { 60, 1514, 65535, 333, 9000, 17, 40000, 1 };
	FILE *fp = fopen(path, "wb");
	uint8_t *data = malloc(70000);
	assert_non_null(fp);
	assert_non_null(data);
	put32(fp, nsec ? SAVEFILE_MAGIC_NS : SAVEFILE_MAGIC_US, swap);
	put16(fp, 2, swap);
	put16(fp, 4, swap);
	put32(fp, 0, swap);
	put32(fp, 0, swap);
	put32(fp, snap, swap);
	put32(fp, 1, swap);
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = sizes[i % 8], cap = len;
		if (cap > snap && !(over && i % over == 0))
			cap = snap;
		for (uint32_t k = 0; k < cap; k++)
			data[k] = (uint8_t)(i * 31 + k);
		put32(fp, 1700000000u + i, swap);
		put32(fp, nsec ? 999999999u - i * 7919u : 999999u - i, swap);
		put32(fp, cap, swap);
		put32(fp, len, swap);
		assert_int_equal(fwrite(data, 1, cap, fp), cap);
	}
	free(data);
	fclose(fp);
}

/* Read path with libpcap and with savefile; every record and the way the
 * file ends must be the same.  The number of records; -1 when savefile
 * does not take the file (not plain). */
static long compare_file(const char *path)
{
	char ebuf[PCAP_ERRBUF_SIZE], hdr[SAVEFILE_HDR_LEN];
	bool swapped, nsec;
	int fd = open(path, O_RDONLY);
	long n = 0;
	assert_true(fd >= 0);
	if (read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || !savefile_plain((uint8_t *)hdr, &swapped, &nsec)) {
		close(fd);
		return -1;
	}
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	assert_non_null(p);
	struct savefile s;
	assert_int_equal(savefile_open(&s, fd, swapped, nsec, (uint32_t)pcap_snapshot(p)), 0);
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct savefile_rec r;
		int a = pcap_next_ex(p, &h, &d), b = savefile_next(&s, &r);
		if (a != 1) {
			assert_int_equal(b, a == PCAP_ERROR_BREAK ? 0 : -1);
			if (a == PCAP_ERROR)
				assert_string_equal(s.err, pcap_geterr(p));
			break;
		}
		assert_int_equal(b, 1);
		assert_int_equal(r.caplen, h->caplen);
		assert_int_equal(r.len, h->len);
		assert_true(r.sec == (int64_t)h->ts.tv_sec && r.usec == (int64_t)h->ts.tv_usec);
		assert_memory_equal(r.data, d, r.caplen);
		n++;
	}
	savefile_close(&s);
	pcap_close(p);
	close(fd);
	return n;
}

static char dir[] = "/tmp/test_savefile.XXXXXX";

static void test_big_files(void **state)
{
	(void)state;
	char path[128];
	snprintf(path, sizeof(path), "%s/big.pcap", dir);
	for (int v = 0; v < 4; v++) {
		bool swap = v & 1, nsec = v & 2;
		write_capture(path, swap, nsec, 65535, 400, 0);  /* ~6 MiB */
		assert_int_equal(compare_file(path), 400);
	}
	/* Records longer than the snapshot: cut to it, the rest skipped. */
	write_capture(path, false, false, 1000, 300, 5);
	assert_int_equal(compare_file(path), 300);
	unlink(path);
}

/* Cut at every byte of the first records and around each 1 MiB boundary:
 * the same records, then the same error in the same words. */
static void test_cut_files(void **state)
{
	(void)state;
	char path[128], cut[140];
	snprintf(path, sizeof(path), "%s/whole.pcap", dir);
	snprintf(cut, sizeof(cut), "%s/cut.pcap", dir);
	write_capture(path, false, false, 262144, 200, 0);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	uint8_t *all = malloc((size_t)size);
	rewind(fp);
	assert_int_equal(fread(all, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	long at[64];
	int n_at = 0;
	for (long k = SAVEFILE_HDR_LEN + 1; k < SAVEFILE_HDR_LEN + 120; k += 7)
		at[n_at++] = k;
	for (long m = 1; m <= 2 && n_at < 60; m++)
		for (long d = -20; d <= 20; d += 4)
			at[n_at++] = SAVEFILE_HDR_LEN + m * SAVEFILE_BUF + d;
	for (int i = 0; i < n_at; i++) {
		if (at[i] >= size)
			continue;
		FILE *w = fopen(cut, "wb");
		assert_non_null(w);
		assert_int_equal(fwrite(all, 1, (size_t)at[i], w), (size_t)at[i]);
		fclose(w);
		assert_true(compare_file(cut) >= 0);
	}
	free(all);
	unlink(cut);
	unlink(path);
}

static void compare_dir(const char *d, int *files)
{
	DIR *dp = opendir(d);
	struct dirent *de;
	char path[4096];
	if (!dp)
		return;
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 5, ".pcap") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", d, de->d_name);
		if (compare_file(path) >= 0)
			(*files)++;
	}
	closedir(dp);
}

/* The bundled captures. */
static void test_bundled_captures(void **state)
{
	(void)state;
	const char *src = getenv("srcdir") ? getenv("srcdir") : ".";
	char path[4096];
	int files = 0;
	snprintf(path, sizeof(path), "%s/pcaps", src);
	compare_dir(path, &files);
	assert_true(files >= 5);
}

/* The third-party captures, from wherever the thirdparty tier takes them;
 * skipped, saying so, when they are not beside the tree. */
static void test_thirdparty_captures(void **state)
{
	(void)state;
	const char *src = getenv("srcdir") ? getenv("srcdir") : ".";
	char path[4096];
	int files = 0;
	if (getenv("TS_SHARED_PCAPS"))
		snprintf(path, sizeof(path), "%s", getenv("TS_SHARED_PCAPS"));
	else
		snprintf(path, sizeof(path), "%s/../shared/pcaps", src);
	DIR *d = opendir(path);
	if (!d) {
		print_message("# skip: %s not found (third-party captures are not shipped with the project)\n", path);
		skip();
	}
	closedir(d);
	compare_dir(path, &files);
	assert_true(files >= 10);
}

/* capture.c reads a plain file itself and leaves the rest to libpcap; the
 * frames are the same either way (the golden tiers compare whole runs). */
static void test_capture_chooses(void **state)
{
	(void)state;
	char path[128], err[256];
	struct capture c;
	struct frame f;
	snprintf(path, sizeof(path), "%s/choose.pcap", dir);
	write_capture(path, true, true, 65535, 50, 0);
	assert_int_equal(capture_open_file(&c, path, NULL, err, sizeof(err)), 0);
	assert_true(c.direct);
	int n = 0;
	while (capture_next(&c, &f, err, sizeof(err)) == CAPTURE_FRAME)
		n++;
	assert_int_equal(n, 50);
	capture_close(&c);
	/* A filter is applied as libpcap applies it: "len > 1000" keeps 4 in 8. */
	assert_int_equal(capture_open_file(&c, path, "len > 1000", err, sizeof(err)), 0);
	n = 0;
	while (capture_next(&c, &f, err, sizeof(err)) == CAPTURE_FRAME) {
		assert_true(f.wirelen > 1000);
		n++;
	}
	assert_int_equal(n, 25);
	capture_close(&c);
	unlink(path);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const left[] = { "big.pcap", "whole.pcap", "cut.pcap", "choose.pcap" };
	char path[128];
	for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) { /* after a failed test */
		snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
		unlink(path);
	}
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_big_files),
		cmocka_unit_test(test_cut_files),
		cmocka_unit_test(test_bundled_captures),
		cmocka_unit_test(test_thirdparty_captures),
		cmocka_unit_test(test_capture_chooses),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
