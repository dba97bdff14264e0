/* pcapread.c - the libpcap read floor: read every packet of a capture and do nothing else. */

/*
 * The benchmark divides tamperscope's time by this program's time on the same
 * trace: no analyser that reads through libpcap can be faster than the
 * pcap_next_ex loop alone.  One byte of every packet is summed so the
 * compiler cannot drop the reads and the data really passes through the
 * cache, as it does for an analyser.
 *
 * Usage: pcapread FILE...   prints "FILE: N packets, M bytes (checksum C)".
 * Exit status: 0 on success, 1 when a file cannot be opened or read.
 */

#include <pcap/pcap.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

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

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: pcapread FILE...\n");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct read_totals t = { 0, 0, 0, 0 };

		if (read_capture(argv[i], &t) != 0) {
			status = 1;
			continue;
		}
		printf("%s: %" PRIu64 " packets, %" PRIu64 " bytes, %" PRIu64
		    " wire bytes (checksum %" PRIu64 ")\n", argv[i], t.packets,
		    t.bytes, t.wire_bytes, t.byte_sum);
	}
	return status;
}
