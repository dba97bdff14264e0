/* pcapw.c - pcapng / pcap writer that never leaves a cut block behind (see
 * pcapw.h; pcapng draft sections 3.5, 4.1-4.3). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/dlt.h>

#include "pcapw.h"

#define BATCH_CAP (1u << 20) /* holds the largest block: 262144 bytes + a comment + headers */

#define SHB_TYPE 0x0A0D0D0Au
#define IDB_TYPE 0x00000001u
#define EPB_TYPE 0x00000006u
#define BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define OPT_END 0
#define OPT_COMMENT 1
#define SHB_USERAPPL 4
#define IF_TSRESOL 9

struct pcapw {
	int fd;
	enum pcapw_format fmt;
	FILE *comments;              /* classic pcap: the side file */
	uint8_t *batch;
	size_t len;                  /* bytes in the batch */
	uint64_t batch_packets;      /* packets in the batch */
	int dlts[PCAPW_MAX_IFACES];  /* pcapng: interface i has link type dlts[i] */
	int n_ifaces;
	int pcap_dlt;                /* classic: the file's link type, -1 before the header */
	uint64_t numbered;           /* packets handed over (their numbers in the file) */
	struct pcapw_stats st;
};

static void put(struct pcapw *w, const void *p, size_t n)
{
	if (n == 0)
		return; /* p may be NULL then (an empty option, a mark) */
	memcpy(w->batch + w->len, p, n);
	w->len += n;
}

static void put32(struct pcapw *w, uint32_t v) { put(w, &v, 4); }
static void put16(struct pcapw *w, uint16_t v) { put(w, &v, 2); }

static void pad4(struct pcapw *w)
{
	static const uint8_t zero[4];
	put(w, zero, (4 - (w->len & 3)) & 3);
}

/* One pcapng option (code, value, padding); long values are cut. */
static void put_opt(struct pcapw *w, uint16_t code, const void *v, size_t n)
{
	if (n > PCAPW_COMMENT_MAX)
		n = PCAPW_COMMENT_MAX;
	put16(w, code);
	put16(w, (uint16_t)n);
	put(w, v, n);
	pad4(w);
}

/* A block's total length goes at both ends: reserve it, then fill it in. */
static size_t block_open(struct pcapw *w, uint32_t type)
{
	size_t at = w->len;
	put32(w, type);
	put32(w, 0);
	return at;
}

static void block_close(struct pcapw *w, size_t at)
{
	uint32_t total = (uint32_t)(w->len - at + 4);
	memcpy(w->batch + at + 4, &total, 4);
	put32(w, total);
}

/* The longest prefix of the first n bytes of the batch made of whole
 * blocks (records), and the packets in it. */
static size_t whole_prefix(const struct pcapw *w, size_t n, uint64_t *packets)
{
	size_t at = 0;
	*packets = 0;
	if (w->fmt == PCAPW_PCAP && w->st.bytes == 0)
		at = n >= 24 ? 24 : 0; /* the file header leads the first batch */
	while (at < w->len) {
		uint32_t type = 0, size = 0;
		if (w->fmt == PCAPW_PCAPNG) {
			memcpy(&type, w->batch + at, 4);
			memcpy(&size, w->batch + at + 4, 4);
		} else {
			memcpy(&size, w->batch + at + 8, 4);
			size += 16;
			type = EPB_TYPE;
		}
		if (at + size > n)
			break;
		at += size;
		*packets += type == EPB_TYPE;
	}
	return at;
}

int pcapw_flush(struct pcapw *w)
{
	if (w->st.failed)
		return -1;
	size_t done = 0;
	while (done < w->len) {
		ssize_t n = write(w->fd, w->batch + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* Keep the whole blocks that reached the disk, cut the
			 * rest: the file stays valid. */
			uint64_t packets;
			size_t keep = whole_prefix(w, done, &packets);
			w->st.failed = true;
			w->st.failed_errno = n < 0 ? errno : ENOSPC;
			w->st.bytes += keep;
			w->st.packets += packets;
			if (ftruncate(w->fd, (off_t)w->st.bytes) < 0)
				(void)0; /* nothing better to do: the message says it */
			w->len = 0;
			return -1;
		}
		done += (size_t)n;
	}
	w->st.bytes += w->len;
	w->st.packets += w->batch_packets;
	w->batch_packets = 0;
	w->len = 0;
	return 0;
}

static void shb(struct pcapw *w, const char *appl)
{
	size_t at = block_open(w, SHB_TYPE);
	put32(w, BYTE_ORDER_MAGIC);
	put16(w, 1);
	put16(w, 0);
	uint64_t unknown_length = UINT64_MAX;
	put(w, &unknown_length, 8);
	put_opt(w, SHB_USERAPPL, appl, strlen(appl));
	put_opt(w, OPT_END, NULL, 0);
	block_close(w, at);
}

struct pcapw *pcapw_open(const char *path, enum pcapw_format fmt, const char *appl,
			 const char *comments_path, char *err, size_t errlen)
{
	struct pcapw *w = calloc(1, sizeof(*w));
	if (w)
		w->fd = -1;
	if (!w || !(w->batch = malloc(BATCH_CAP))) {
		snprintf(err, errlen, "%s: out of memory", path);
		pcapw_free(w);
		return NULL;
	}
	w->fmt = fmt;
	w->pcap_dlt = -1;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		pcapw_free(w);
		return NULL;
	}
	if (fmt == PCAPW_PCAP && comments_path && !(w->comments = fopen(comments_path, "w"))) {
		snprintf(err, errlen, "%s: %s", comments_path, strerror(errno));
		pcapw_free(w);
		return NULL;
	}
	if (fmt == PCAPW_PCAPNG) {
		shb(w, appl);
		if (pcapw_flush(w) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(w->st.failed_errno));
			pcapw_free(w);
			return NULL;
		}
	}
	return w;
}

/* Files name link types by LINKTYPE_ values; libpcap's DLT_ values
 * differ from them only for a few, of which raw IP is the one we meet. */
static uint32_t linktype_of(int dlt)
{
	return dlt == DLT_RAW ? 101u : (uint32_t)dlt;
}

/* The pcapng interface of link type dlt, described on first use; -1 when
 * there are too many. */
static int iface_of(struct pcapw *w, int dlt)
{
	for (int i = 0; i < w->n_ifaces; i++)
		if (w->dlts[i] == dlt)
			return i;
	if (w->n_ifaces == PCAPW_MAX_IFACES)
		return -1;
	size_t at = block_open(w, IDB_TYPE);
	put16(w, (uint16_t)linktype_of(dlt));
	put16(w, 0);
	put32(w, PCAPW_SNAPLEN);
	uint8_t usec = 6;
	put_opt(w, IF_TSRESOL, &usec, 1);
	put_opt(w, OPT_END, NULL, 0);
	block_close(w, at);
	w->dlts[w->n_ifaces] = dlt;
	return w->n_ifaces++;
}

static void pcap_header(struct pcapw *w, int dlt)
{
	put32(w, 0xa1b2c3d4u);
	put16(w, 2);
	put16(w, 4);
	put32(w, 0);
	put32(w, 0);
	put32(w, PCAPW_SNAPLEN);
	put32(w, linktype_of(dlt));
	w->pcap_dlt = dlt;
}

static int epb(struct pcapw *w, int dlt, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
	       uint32_t wirelen, const char *comment)
{
	int iface = iface_of(w, dlt);
	if (iface < 0)
		return 1;
	size_t at = block_open(w, EPB_TYPE);
	put32(w, (uint32_t)iface);
	put32(w, (uint32_t)(ts_us >> 32));
	put32(w, (uint32_t)ts_us);
	put32(w, caplen);
	put32(w, wirelen);
	put(w, data, caplen);
	pad4(w);
	if (comment) {
		put_opt(w, OPT_COMMENT, comment, strlen(comment));
		put_opt(w, OPT_END, NULL, 0);
	}
	block_close(w, at);
	return 0;
}

static int pcap_record(struct pcapw *w, int dlt, uint64_t ts_us, const uint8_t *data,
		       uint32_t caplen, uint32_t wirelen, const char *comment)
{
	if (w->pcap_dlt < 0)
		pcap_header(w, dlt);
	if (dlt != w->pcap_dlt)
		return 1;
	put32(w, (uint32_t)(ts_us / 1000000u));
	put32(w, (uint32_t)(ts_us % 1000000u));
	put32(w, caplen);
	put32(w, wirelen);
	put(w, data, caplen);
	if (w->comments && comment)
		fprintf(w->comments, "%llu\t%s\n", (unsigned long long)w->numbered + 1, comment);
	return 0;
}

int pcapw_packet(struct pcapw *w, int dlt, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
		 uint32_t wirelen, const char *comment)
{
	if (w->st.failed)
		return -1;
	if (caplen > PCAPW_SNAPLEN)
		caplen = PCAPW_SNAPLEN;
	/* Room for the largest block: flush first when it might not fit. */
	if (w->len + caplen + PCAPW_COMMENT_MAX + 256 > BATCH_CAP && pcapw_flush(w) < 0)
		return -1;
	int rc = w->fmt == PCAPW_PCAPNG ? epb(w, dlt, ts_us, data, caplen, wirelen, comment)
					: pcap_record(w, dlt, ts_us, data, caplen, wirelen, comment);
	if (rc) {
		w->st.skipped_linktype++;
		return 1;
	}
	w->numbered++;
	w->batch_packets++;
	return 0;
}

int pcapw_close(struct pcapw *w)
{
	int rc = 0;
	if (w->fd < 0)
		return 0;
	/* A classic file without packets still gets its header (Ethernet). */
	if (w->fmt == PCAPW_PCAP && w->pcap_dlt < 0 && !w->st.failed)
		pcap_header(w, 1);
	if (w->len && pcapw_flush(w) < 0)
		rc = -1;
	if (close(w->fd) < 0 && !w->st.failed) {
		w->st.failed = true;
		w->st.failed_errno = errno;
		rc = -1;
	}
	w->fd = -1;
	if (w->comments && (ferror(w->comments) | fclose(w->comments)))
		rc = -1;
	w->comments = NULL;
	return rc;
}

void pcapw_free(struct pcapw *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->comments)
		fclose(w->comments);
	free(w->batch);
	free(w);
}

const struct pcapw_stats *pcapw_get_stats(const struct pcapw *w)
{
	return &w->st;
}
