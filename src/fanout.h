/* fanout.h - one Linux packet socket per worker thread, in a fanout group.
 *
 * For live capture with worker threads (--threads with -i): every worker
 * opens its own AF_PACKET socket with a TPACKET_V3 receive ring (blocks of
 * frames the kernel fills and hands over whole, packet(7)) and joins one
 * fanout group on the interface, whose classic BPF program (fanout.c)
 * picks the socket by a hash that is the same both ways of a connection,
 * tunnelled or not - every packet of a connection reaches the same worker,
 * in order, with no reading thread in between.  The BPF expression is
 * compiled by libpcap and attached to each socket (SO_ATTACH_FILTER).
 * Ethernet interfaces only (the frames are what DLT_EN10MB says); others
 * are read through libpcap with one thread.
 */
#ifndef TS_FANOUT_H
#define TS_FANOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "counters.h"

/* The longest a packet waits in a block the kernel has not handed over
 * yet (the block's retire timeout, with room for the scheduler). */
#define FANOUT_BLOCK_WAIT_US 50000

struct fanout_sock {
	int fd;
	uint8_t *ring;               /* the mapped blocks */
	size_t ring_len;
	unsigned block_size, nblocks;
	unsigned block;              /* the block being read */
	unsigned left;               /* its frames not yet returned */
	uint8_t *next;               /* the next of them */
	unsigned long long received, dropped; /* accumulated: reading the socket's resets them */
	unsigned long long frames;
	int group;                   /* the fanout group's id */
};

struct fanout_opts {
	const char *iface;
	int group;                   /* the group to join; -1: a new one (fanout_sock.group says which) */
	int snaplen;                 /* 0: 262144 */
	bool promisc;
	unsigned ring_mib;           /* receive ring per socket; 0: 32 */
};

/* Whether iface can be read this way (an Ethernet interface). */
bool fanout_supported(const char *iface);

/* Open, filter (bpf may be NULL), map the ring, join the group.  0, or -1
 * with a one-line reason in err. */
int fanout_open(struct fanout_sock *s, const struct fanout_opts *o, const char *bpf, char *err,
		size_t errlen);
void fanout_close(struct fanout_sock *s);

/* The next frame (valid until the next call), CAPTURE_NONE when the ring
 * holds none now, CAPTURE_ERROR when the socket failed. */
enum capture_next fanout_next(struct fanout_sock *s, struct frame *f);

/* Wait up to timeout_ms for a block.  0, or -1 with err set. */
int fanout_wait(struct fanout_sock *s, int timeout_ms, char *err, size_t errlen);

/* The kernel's counters for this socket since it opened. */
void fanout_kstats(struct fanout_sock *s, unsigned long long *received, unsigned long long *dropped);

#endif
