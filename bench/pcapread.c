/* pcapread.c - the libpcap read floor: read every packet of a capture and do nothing else. */

/*
 * The benchmark divides tamperscope's time by this program's time on the same
 * trace: no analyser that reads through libpcap can be faster than the
 * pcap_next_ex loop alone.  One byte of every packet is summed so the
 * compiler cannot drop the reads and the data really passes through the
 * cache, as it does for an analyser.
 *
 * Usage: pcapread [--raw] FILE...   prints "FILE: N packets, M bytes (checksum C)".
 * --raw: no libpcap - read(2) through the same 1 MiB buffer and walk the
 * records of a classic pcap file in place (the header's byte order, 16-byte
 * record headers), the same byte of each summed.  That is the cost of
 * getting the bytes into memory at all: tamperscope reads plain pcap files
 * this way (src/savefile.c), so it can come closer to this than to the
 * libpcap floor.
 * Exit status: 0 on success, 1 when a file cannot be opened or read.
 */

#include <pcap/pcap.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct read_totals {
	uint64_t packets;
	uint64_t bytes;		/* captured bytes (caplen) */
	uint64_t wire_bytes;	/* original lengths (len) */
	uint64_t byte_sum;	/* keeps the data reads alive */
};

/* Read one capture to its end; 0 on success, -1 on an error (reported). */
static int read_capture(const char *path, struct read_totals *t)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	pcap_t *p;
	int rc;

	/* The same 1 MiB stdio buffer tamperscope reads through, so the floor
	 * measures libpcap, not a difference in read sizes. */
	static char iobuf[1 << 20];
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		perror(path);
		return -1;
	}
	setvbuf(fp, iobuf, _IOFBF, sizeof(iobuf));
	p = pcap_fopen_offline(fp, errbuf);
	if (p == NULL) {
		fprintf(stderr, "pcapread: %s: %s\n", path, errbuf);
		fclose(fp);
		return -1;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		t->packets++;
		t->bytes += hdr->caplen;
		t->wire_bytes += hdr->len;
		/* The middle byte: for most frames it sits in the IP/TCP
		 * headers or payload, so the packet's first cache line alone
		 * does not satisfy the read. */
		if (hdr->caplen > 0)
			t->byte_sum += data[hdr->caplen / 2];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcapread: %s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

static uint32_t u32(const unsigned char *p, int swap)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* --raw: the records walked where they lie in a 1 MiB read buffer; a record
 * cut by the buffer's end is moved to its start before the next read. */
static int read_raw(const char *path, struct read_totals *t)
{
	static unsigned char buf[1 << 20];
	size_t have = 0, pos = 24;
	ssize_t r;
	int swap, fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	while (have < sizeof(buf) && (r = read(fd, buf + have, sizeof(buf) - have)) > 0)
		have += (size_t)r;
	if (have < 24 || (u32(buf, 0) != 0xa1b2c3d4u && u32(buf, 0) != 0xa1b23c4du &&
			  u32(buf, 1) != 0xa1b2c3d4u && u32(buf, 1) != 0xa1b23c4du)) {
		fprintf(stderr, "pcapread: %s: --raw reads classic pcap files only\n", path);
		close(fd);
		return -1;
	}
	swap = u32(buf, 0) != 0xa1b2c3d4u && u32(buf, 0) != 0xa1b23c4du;
	for (;;) {
		uint32_t cap = 0;
		if (have - pos >= 16)
			cap = u32(buf + pos + 8, swap);
		if (have - pos < 16 || have - pos < 16 + (size_t)cap) {
			memmove(buf, buf + pos, have - pos);
			have -= pos;
			pos = 0;
			if ((r = read(fd, buf + have, sizeof(buf) - have)) <= 0)
				break;
			have += (size_t)r;
			continue;
		}
		t->packets++;
		t->bytes += cap;
		t->wire_bytes += u32(buf + pos + 12, swap);
		if (cap > 0)
			t->byte_sum += buf[pos + 16 + cap / 2];
		pos += 16 + (size_t)cap;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	int status = 0, raw = argc > 1 && strcmp(argv[1], "--raw") == 0;

	if (argc < 2 + raw) {
		fprintf(stderr, "usage: pcapread [--raw] FILE...\n");
		return 1;
	}
	for (int i = 1 + raw; i < argc; i++) {
		struct read_totals t = { 0, 0, 0, 0 };

		if ((raw ? read_raw(argv[i], &t) : read_capture(argv[i], &t)) != 0) {
			status = 1;
			continue;
		}
		printf("%s: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
		    " wire bytes (checksum %" PRIu64 ")\n", argv[i], t.packets,
		    t.bytes, t.wire_bytes, t.byte_sum);
	}
	return status;
}
