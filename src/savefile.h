/* savefile.h - the records of a classic pcap capture file, read straight from
 * the file (pcap-savefile(5); draft-ietf-opsawg-pcap sections 4-5).
 *
 * libpcap copies every record twice on its way out: stdio copies the file
 * into its buffer, then libpcap copies each record into its own.  On a
 * bulk capture those copies and their calls cost more than the rest of the
 * analysis of a quiet flow's packet.  This reader reads the file in 1 MiB
 * blocks, as the stdio buffer did, and hands out each record where it lies.
 *
 * It takes over only after libpcap has opened the file and judged its
 * header (capture.c), and only for the plain case: the standard magic in
 * either byte order with microsecond or nanosecond times, version 2.4 or
 * later (lengths not swapped), and a link type whose records libpcap
 * passes through untouched.  Everything else stays with libpcap.  Within
 * that case it answers exactly as libpcap 1.10 does - the same frames, the
 * same times, the same errors in the same words - which fuzz_savefile
 * checks against libpcap on every input.
 */
#ifndef TS_SAVEFILE_H
#define TS_SAVEFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAVEFILE_HDR_LEN 24         /* the file header */
#define SAVEFILE_REC_LEN 16         /* each record's header */
#define SAVEFILE_MAX_CAPLEN 262144  /* libpcap's MAXIMUM_SNAPLEN: its limit for every link type read here */
#define SAVEFILE_BUF (1u << 20)     /* one read; holds the largest record */

/* The file header's first word, as read in the host's byte order. */
#define SAVEFILE_MAGIC_US 0xa1b2c3d4u
#define SAVEFILE_MAGIC_NS 0xa1b23c4du

struct savefile_rec {
	int64_t sec;                /* as libpcap hands them out (savefile_next) */
	int64_t usec;               /* microseconds (a nanosecond file's divided by 1000) */
	uint32_t caplen, len;
	const uint8_t *data;        /* valid until the next savefile_next */
};

struct savefile {
	int fd;                     /* read with pread: not owned, not moved */
	uint8_t *buf;
	size_t pos, end;            /* unread bytes: buf[pos..end) */
	uint64_t off;               /* file offset of buf[end] */
	bool eof;
	bool swapped, nsec;
	uint32_t snapshot;          /* libpcap's snapshot length for the file */
	char err[256];              /* the reason of the last -1, as libpcap words it */
};

/* Is a file whose header is hdr (SAVEFILE_HDR_LEN bytes) one this reader
 * takes?  *swapped and *nsec say how to read it. */
bool savefile_plain(const uint8_t *hdr, bool *swapped, bool *nsec);

/* Read fd's records from just after the file header.  snapshot is
 * pcap_snapshot() of libpcap's handle on the same file.  -1 when out of
 * memory. */
int savefile_open(struct savefile *s, int fd, bool swapped, bool nsec, uint32_t snapshot);

/* The next record: 1, with *r set; 0 at the end of the file; -1 on a cut
 * or impossible record or a read error (s->err says which). */
int savefile_next(struct savefile *s, struct savefile_rec *r);

void savefile_close(struct savefile *s);

#endif
