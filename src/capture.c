/* capture.c - reading capture files with libpcap (and plain classic pcap
 * files with savefile.h), and live interfaces. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"

static int capture_set_filter(struct capture *c, const char *bpf, char *err, size_t errlen);
static enum capture_next capture_failed(struct capture *c, const char *msg, char *err, size_t errlen);

/* A regular file with a plain classic pcap header (savefile_plain): its
 * records can be read in place.  Pipes and stdin stay with libpcap. */
static bool plain_file(FILE *fp, bool *swapped, bool *nsec)
{
	struct stat st;
	uint8_t hdr[SAVEFILE_HDR_LEN];
	int fd = fileno(fp);
	return fp != stdin && fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	       pread(fd, hdr, sizeof(hdr), 0) == (ssize_t)sizeof(hdr) && savefile_plain(hdr, swapped, nsec);
}

int capture_open_file(struct capture *c, const char *path, const char *bpf,
		      char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->name = path;
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	bool swapped = false, nsec = false, plain = plain_file(fp, &swapped, &nsec);
	/* libpcap reads only the header of a plain file: no large buffer. */
	c->iobuf = plain ? NULL : aligned_alloc(4096, CAPTURE_IOBUF);
	if (c->iobuf)
		setvbuf(fp, c->iobuf, _IOFBF, CAPTURE_IOBUF);
	c->pcap = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (!c->pcap) {
		if (fp != stdin)
			fclose(fp);
		free(c->iobuf);
		c->iobuf = NULL;
		/* libpcap says "unknown file format" for a non-capture file and
		 * passes strerror through for a missing one. */
		if (strstr(ebuf, "unknown file format") || strstr(ebuf, "bad dump file format"))
			snprintf(err, errlen, "%s: not a pcap or pcapng capture file (%s)", path, ebuf);
		else if (strstr(ebuf, "truncated"))
			snprintf(err, errlen, "%s: capture file cut short before its first packet (%s)",
				 path, ebuf);
		else
			snprintf(err, errlen, "%s", ebuf[0] ? ebuf : strerror(errno));
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!decode_linktype_supported(c->dlt)) {
		const char *n = pcap_datalink_val_to_name(c->dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", path, c->dlt,
			 n ? n : "unknown");
		capture_close(c);
		return -1;
	}
	/* Only link types libpcap hands out untouched get here: none of
	 * tamperscope's has a pseudo-header libpcap byte-swaps. */
	if (plain && pcap_snapshot(c->pcap) > 0) {
		if (savefile_open(&c->rd, fileno(fp), swapped, nsec, (uint32_t)pcap_snapshot(c->pcap)) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			capture_close(c);
			return -1;
		}
		c->direct = true;
	}
	return capture_set_filter(c, bpf, err, errlen);
}

static int capture_set_filter(struct capture *c, const char *bpf, char *err, size_t errlen)
{
	if (bpf && *bpf) {
		struct bpf_program prog;
		if (pcap_compile(c->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			snprintf(err, errlen, "bad filter expression '%s': %s", bpf,
				 pcap_geterr(c->pcap));
			capture_close(c);
			return -1;
		}
		if (c->direct) {             /* applied in capture_next, as libpcap applies it */
			c->prog = prog;
			c->have_prog = true;
			return 0;
		}
		int rc = pcap_setfilter(c->pcap, &prog);
		pcap_freecode(&prog);
		if (rc < 0) {
			snprintf(err, errlen, "cannot set filter: %s", pcap_geterr(c->pcap));
			capture_close(c);
			return -1;
		}
	}
	return 0;
}

/* The next record of a plain file that passes the filter: pcap_next_ex's
 * answers (1, PCAP_ERROR_BREAK at the end, PCAP_ERROR with the reason). */
static int direct_next(struct capture *c, struct frame *f, const char **msg)
{
	struct savefile_rec r;
	int rc;
	while ((rc = savefile_next(&c->rd, &r)) == 1) {
		struct pcap_pkthdr h = { .caplen = r.caplen, .len = r.len };
		if (c->have_prog && !pcap_offline_filter(&c->prog, &h, r.data))
			continue;
		f->ts_us = (uint64_t)r.sec * 1000000u + (uint64_t)r.usec;
		f->data = r.data;
		f->caplen = r.caplen;
		f->wirelen = r.len;
		return 1;
	}
	*msg = c->rd.err;
	return rc == 0 ? PCAP_ERROR_BREAK : PCAP_ERROR;
}

enum capture_next capture_next(struct capture *c, struct frame *f, char *err, size_t errlen)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	const char *msg = NULL;
	if (c->direct) {
		int rc = direct_next(c, f, &msg);
		if (rc == 1) {
			c->frames++;
			return CAPTURE_FRAME;
		}
		if (rc == PCAP_ERROR_BREAK)
			return CAPTURE_EOF;
		return capture_failed(c, msg, err, errlen);
	}
	int rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == 1) {
		f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		f->data = data;
		f->caplen = h->caplen;
		f->wirelen = h->len;
		c->frames++;
		return CAPTURE_FRAME;
	}
	if (rc == 0)
		return CAPTURE_NONE; /* live, non-blocking: nothing waiting */
	if (rc == PCAP_ERROR_BREAK)
		return CAPTURE_EOF; /* -2: end of file */
	return capture_failed(c, pcap_geterr(c->pcap), err, errlen);
}

/* The reason a read stopped, with the file's name and how far it got. */
static enum capture_next capture_failed(struct capture *c, const char *msg, char *err, size_t errlen)
{
	if (c->live)
		snprintf(err, errlen, "%s: %s", c->name, msg);
	else if (strstr(msg, "truncated"))
		snprintf(err, errlen, "%s: capture file cut mid-packet after %llu packets (%s)",
			 c->name, c->frames, msg);
	else
		snprintf(err, errlen, "%s: read error after %llu packets: %s", c->name,
			 c->frames, msg);
	return CAPTURE_ERROR;
}

int capture_open_live(struct capture *c, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->live = 1;
	c->name = o->iface;
	c->pcap = pcap_create(o->iface, ebuf);
	if (!c->pcap) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		return -1;
	}
	pcap_set_snaplen(c->pcap, o->snaplen > 0 ? o->snaplen : 262144);
	pcap_set_promisc(c->pcap, o->promisc);
	pcap_set_immediate_mode(c->pcap, 1);
	pcap_set_timeout(c->pcap, 100);
	if (o->buffer_kib > 0)
		pcap_set_buffer_size(c->pcap, o->buffer_kib * 1024);
	pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_MICRO);
	int rc = pcap_activate(c->pcap);
	if (rc < 0) {
		const char *why = pcap_geterr(c->pcap);
		snprintf(err, errlen, "%s: cannot capture: %s%s%s", o->iface,
			 pcap_statustostr(rc), why && *why ? ": " : "", why ? why : "");
		capture_close(c);
		return -1;
	}
	c->dlt = pcap_datalink(c->pcap);
	if (!decode_linktype_supported(c->dlt)) {
		const char *n = pcap_datalink_val_to_name(c->dlt);
		snprintf(err, errlen, "%s: unsupported link type %d (%s)", o->iface, c->dlt,
			 n ? n : "unknown");
		capture_close(c);
		return -1;
	}
	if (pcap_setnonblock(c->pcap, 1, ebuf) < 0) {
		snprintf(err, errlen, "%s: %s", o->iface, ebuf);
		capture_close(c);
		return -1;
	}
	c->fd = pcap_get_selectable_fd(c->pcap);
	return capture_set_filter(c, bpf, err, errlen);
}

int capture_wait(struct capture *c, int timeout_ms, char *err, size_t errlen)
{
	if (c->fd < 0)
		return 0;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR) {
		snprintf(err, errlen, "%s: poll: %s", c->name, strerror(errno));
		return -1;
	}
	return 0;
}

int capture_kstats(struct capture *c, struct capture_kstats *ks)
{
	struct pcap_stat st;
	memset(ks, 0, sizeof(*ks));
	if (!c->live || pcap_stats(c->pcap, &st) < 0)
		return -1;
	ks->received = st.ps_recv;
	ks->dropped = st.ps_drop;
	ks->if_dropped = st.ps_ifdrop;
	return 0;
}

void capture_close(struct capture *c)
{
	if (c->direct)
		savefile_close(&c->rd);
	if (c->have_prog)
		pcap_freecode(&c->prog);
	c->direct = c->have_prog = false;
	if (c->pcap)
		pcap_close(c->pcap); /* closes the file too */
	c->pcap = NULL;
	free(c->iobuf);
	c->iobuf = NULL;
}
