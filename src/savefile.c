/* savefile.c - classic pcap records read in place, as libpcap 1.10 reads
 * them (savefile.h; pcap-savefile(5)). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "savefile.h"

static uint32_t u32_at(const uint8_t *p, bool swapped)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t u16_at(const uint8_t *p, bool swapped)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return swapped ? __builtin_bswap16(v) : v;
}

bool savefile_plain(const uint8_t *hdr, bool *swapped, bool *nsec)
{
	uint32_t magic;
	memcpy(&magic, hdr, sizeof(magic));
	if (magic == SAVEFILE_MAGIC_US || magic == SAVEFILE_MAGIC_NS)
		*swapped = false;
	else if (magic == __builtin_bswap32(SAVEFILE_MAGIC_US) || magic == __builtin_bswap32(SAVEFILE_MAGIC_NS))
		*swapped = true;
	else
		return false;        /* pcapng, the modified formats: libpcap */
	*nsec = u32_at(hdr, *swapped) == SAVEFILE_MAGIC_NS;
	/* Before 2.4 libpcap swaps or guesses at the two lengths. */
	return u16_at(hdr + 4, *swapped) == 2 && u16_at(hdr + 6, *swapped) >= 4;
}

int savefile_open(struct savefile *s, int fd, bool swapped, bool nsec, uint32_t snapshot)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->off = SAVEFILE_HDR_LEN;
	s->swapped = swapped;
	s->nsec = nsec;
	s->snapshot = snapshot;
	s->buf = malloc(SAVEFILE_BUF);
	return s->buf ? 0 : -1;
}

void savefile_close(struct savefile *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* At least `need` unread bytes, fewer only at the end of the file: how many
 * there are, or -1 on a read error.  need <= SAVEFILE_BUF. */
static ssize_t fill(struct savefile *s, size_t need)
{
	if (s->end - s->pos >= need)
		return (ssize_t)need;
	memmove(s->buf, s->buf + s->pos, s->end - s->pos);
	s->end -= s->pos;
	s->pos = 0;
	while (s->end < need && !s->eof) {
		ssize_t r = pread(s->fd, s->buf + s->end, SAVEFILE_BUF - s->end, (off_t)s->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(s->err, sizeof(s->err), "error reading dump file: %s", strerror(errno));
			return -1;
		}
		if (r == 0)
			s->eof = true;
		s->end += (size_t)r;
		s->off += (uint64_t)r;
	}
	return (ssize_t)(s->end < need ? s->end : need);
}

static int truncated(struct savefile *s, const char *what, uint32_t wanted, size_t got)
{
	snprintf(s->err, sizeof(s->err), "truncated dump file; tried to read %u %s bytes, only got %zu", wanted, what,
		 got);
	return -1;
}

int savefile_next(struct savefile *s, struct savefile_rec *r)
{
	ssize_t got = fill(s, SAVEFILE_REC_LEN);
	if (got < SAVEFILE_REC_LEN) {
		if (got <= 0)
			return (int)got; /* the end, or a read error */
		return truncated(s, "header", SAVEFILE_REC_LEN, (size_t)got);
	}
	const uint8_t *h = s->buf + s->pos;
	/* libpcap 1.10 reads the two time fields as signed 32-bit numbers in a
	 * file of the host's byte order (struct pcap_timeval) and as unsigned
	 * ones in a file of the other (its byte swap is unsigned); so here, or
	 * a time past 2038 would differ between the two readers. */
	uint32_t sec = u32_at(h, s->swapped), frac = u32_at(h + 4, s->swapped);
	r->sec = s->swapped ? (int64_t)sec : (int64_t)(int32_t)sec;
	r->usec = s->swapped ? (int64_t)frac : (int64_t)(int32_t)frac;
	if (s->nsec)
		r->usec /= 1000;
	r->caplen = u32_at(h + 8, s->swapped);
	r->len = u32_at(h + 12, s->swapped);
	if (r->caplen > SAVEFILE_MAX_CAPLEN) {
		if (r->caplen > s->snapshot)
			snprintf(s->err, sizeof(s->err), "invalid packet capture length %u, bigger than snaplen of %u",
				 r->caplen, s->snapshot);
		else
			snprintf(s->err, sizeof(s->err), "invalid packet capture length %u, bigger than maximum of %u",
				 r->caplen, SAVEFILE_MAX_CAPLEN);
		return -1;
	}
	s->pos += SAVEFILE_REC_LEN;
	/* A record longer than the file's snapshot length: its first snapshot
	 * bytes, the rest skipped, as libpcap hands it out. */
	uint32_t keep = r->caplen > s->snapshot ? s->snapshot : r->caplen;
	if ((got = fill(s, r->caplen)) < 0)
		return -1;
	if ((size_t)got < keep)
		return truncated(s, "captured", keep, (size_t)got);
	if ((size_t)got < r->caplen)
		return truncated(s, "captured", r->caplen, (size_t)got);
	r->data = s->buf + s->pos;
	s->pos += r->caplen;
	r->caplen = keep;
	return 1;
}
