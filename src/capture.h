/* capture.h - packet sources through libpcap: capture files (pcap, pcapng,
 * stdin), with an optional BPF filter as in tcpdump. */
#ifndef TS_CAPTURE_H
#define TS_CAPTURE_H

#include <signal.h>
#include <stddef.h>

#include <pcap/pcap.h>

struct engine;
struct progress_state;

struct capture {
	pcap_t *pcap;
	int dlt;
	int live;                  /* an interface, not a file */
	int fd;                    /* selectable descriptor (live), -1 if none */
	const char *name;          /* file or interface name, for messages */
	unsigned long long frames;
	char *iobuf;               /* stdio buffer of a capture file */
};

/* Capture files are read through a large stdio buffer: libpcap's default
 * reads 4 KiB at a time, a system call every few packets. */
#define CAPTURE_IOBUF (1u << 20)

struct live_opts {
	const char *iface;         /* "any" works on Linux */
	int snaplen;               /* -s, 0 = 262144 */
	int promisc;               /* 1 unless -p */
	int buffer_kib;            /* -B, 0 = libpcap default */
};

/* Kernel counters of a live capture (pcap_stats). */
struct capture_kstats {
	unsigned long long received;
	unsigned long long dropped;      /* by the kernel: buffer full */
	unsigned long long if_dropped;   /* by the interface/driver */
};

/* Open a capture file ("-" = stdin) and apply the filter (may be NULL).
 * 0 on success; -1 with a one-line reason in err. */
int capture_open_file(struct capture *c, const char *path, const char *bpf,
		      char *err, size_t errlen);

/* Feed every packet to the engine; ps non-NULL: update the progress line
 * now and then.  0 at a clean end of file, 1 when the
 * file ended mid-packet or could not be read further (err says why; what
 * was read before is already in the engine), 2 when *stop was raised. */
int capture_run(struct capture *c, struct engine *e, volatile sig_atomic_t *stop,
		struct progress_state *ps, char *err, size_t errlen);

/* Open an interface for live capture in immediate mode, non-blocking. */
int capture_open_live(struct capture *c, const struct live_opts *o, const char *bpf,
		      char *err, size_t errlen);

/* Wait up to timeout_ms for packets on a live capture and feed what
 * arrived.  Returns the number of packets (0 on a quiet wire), -1 on error. */
int capture_poll(struct capture *c, struct engine *e, int timeout_ms,
		 char *err, size_t errlen);

/* Kernel counters since the capture opened; -1 if unavailable. */
int capture_kstats(struct capture *c, struct capture_kstats *ks);

void capture_close(struct capture *c);

#endif
