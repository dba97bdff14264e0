/* fuzz_savefile.c - libFuzzer harness for the classic pcap reader
 * (savefile.c), checked against libpcap itself.
 *
 * Input: byte 0 picks the magic (either byte order, micro- or nanosecond
 * times) and the minor version, bytes 1-4 the snapshot length, byte 5 the
 * link type; the rest follows the 24-byte file header as the records.  The
 * file is read by libpcap (pcap_next_ex, through a stdio stream) and by
 * savefile.c (pread on a memory file); every record, the end and every
 * error with its words must be the same, or the harness aborts.
 */
#define _GNU_SOURCE /* memfd_create */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "savefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t magics[4] = {
	SAVEFILE_MAGIC_US, SAVEFILE_MAGIC_NS,
	0xd4c3b2a1u, 0x4d3cb2a1u, /* the same, written by a host of the other byte order */
};
static const uint32_t links[4] = { 1, 101, 0, 113 }; /* Ethernet, raw IP, BSD loopback, Linux cooked */

static void put32(uint8_t *p, uint32_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v, bool swap)
{
	if (swap)
		v = __builtin_bswap16(v);
	memcpy(p, &v, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	size_t len = SAVEFILE_HDR_LEN + size - 6;
	uint8_t *file = malloc(len);
	if (!file)
		return 0;
	bool swap = (data[0] & 2) != 0;
	uint32_t snap;
	memcpy(&snap, data + 1, 4);
	memcpy(file, &magics[data[0] & 3], 4);
	put16(file + 4, 2, swap);
	put16(file + 6, (uint16_t)((data[0] >> 2) & 7), swap); /* 4 and up: plain */
	put32(file + 8, 0, swap);
	put32(file + 12, 0, swap);
	put32(file + 16, snap, swap);
	put32(file + 20, links[data[5] & 3], swap);
	memcpy(file + SAVEFILE_HDR_LEN, data + 6, size - 6);

	char ebuf[PCAP_ERRBUF_SIZE];
	FILE *fp = fmemopen(file, len, "rb");
	pcap_t *p = fp ? pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf) : NULL;
	bool swapped, nsec;
	if (!p) { /* capture.c reads nothing libpcap refused */
		if (fp)
			fclose(fp);
		free(file);
		return 0;
	}
	if (!savefile_plain(file, &swapped, &nsec)) {
		if (((data[0] >> 2) & 7) >= 4)
			abort(); /* a plain header refused */
		pcap_close(p);
		free(file);
		return 0;
	}
	if (swapped != (pcap_is_swapped(p) != 0))
		abort();
	int fd = memfd_create("savefile", 0);
	struct savefile s;
	if (fd < 0 || write(fd, file, len) != (ssize_t)len ||
	    savefile_open(&s, fd, swapped, nsec, (uint32_t)pcap_snapshot(p)) < 0)
		abort();
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *d;
		struct savefile_rec r;
		int a = pcap_next_ex(p, &h, &d), b = savefile_next(&s, &r);
		if (a == 1) {
			if (b != 1 || h->caplen != r.caplen || h->len != r.len || (int64_t)h->ts.tv_sec != r.sec ||
			    (int64_t)h->ts.tv_usec != r.usec || memcmp(d, r.data, r.caplen) != 0)
				abort();
			continue;
		}
		if (a == PCAP_ERROR_BREAK && b != 0)
			abort();
		if (a == PCAP_ERROR && (b != -1 || strcmp(pcap_geterr(p), s.err) != 0))
			abort();
		if (a != PCAP_ERROR_BREAK && a != PCAP_ERROR)
			abort();
		break;
	}
	savefile_close(&s);
	close(fd);
	pcap_close(p);
	free(file);
	return 0;
}
