/* capture.h - packet sources through libpcap: capture files (pcap, pcapng,
 * stdin) and live interfaces, with an optional BPF filter as in tcpdump.
 *
 * A pure source: it yields frames (capture_next) and knows nothing of what
 * reads them; the run loop (run.h) drives it.
 */
#ifndef TS_CAPTURE_H
#define TS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "counters.h"
#include "savefile.h"

struct capture {
	pcap_t *pcap;
	int dlt;
	int live;                  /* an interface, not a file */
	int fd;                    /* selectable descriptor (live), -1 if none */
	const char *name;          /* file or interface name, for messages */
	unsigned long long frames;
	char *iobuf;               /* stdio buffer of a capture file */
	bool direct;               /* records read by rd, not by libpcap */
	struct savefile rd;
	struct bpf_program prog;   /* direct: the filter, if any */
	bool have_prog;
};

/* Capture files libpcap reads go through a large stdio buffer: libpcap's
 * default reads 4 KiB at a time, a system call every few packets.  A plain
 * classic pcap file is read by savefile.h instead, in blocks of the same
 * size, after libpcap has opened it and judged its header. */
#define CAPTURE_IOBUF (1u << 20)

struct live_opts {
	const char *iface;         /* "any" works on Linux */
	int snaplen;               /* -s, 0 = 262144 */
	int promisc;               /* 1 unless -p */
	int buffer_kib;            /* -B, 0 = libpcap default */
};

/* One captured frame; data is valid until the next capture_next. */
struct frame {
	uint64_t ts_us;
	const uint8_t *data;
	uint32_t caplen, wirelen;
};

/* Open a capture file ("-" = stdin) and apply the filter (may be NULL).
 * 0 on success; -1 with a one-line reason in err. */
int capture_open_file(struct capture *c, const char *path, const char *bpf,
		      char *err, size_t errlen);

/* Open an interface for live capture in immediate mode, non-blocking. */
int capture_open_live(struct capture *c, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen);

enum capture_next {
	CAPTURE_FRAME = 1,         /* *f holds the next frame */
	CAPTURE_NONE = 0,          /* live: nothing waiting now */
	CAPTURE_EOF = -1,          /* a file ended cleanly */
	CAPTURE_ERROR = -2,        /* a file ended mid-packet or could not be read
				      further, or the interface failed (err says
				      which; what was read before stays valid) */
};

/* The next frame. */
enum capture_next capture_next(struct capture *c, struct frame *f, char *err, size_t errlen);

/* Live: wait up to timeout_ms for the descriptor to become readable.
 * 0 (readable or timed out), -1 on error (err set). */
int capture_wait(struct capture *c, int timeout_ms, char *err, size_t errlen);

/* Kernel counters since the capture opened; -1 if unavailable. */
int capture_kstats(struct capture *c, struct capture_kstats *ks);

void capture_close(struct capture *c);

#endif
