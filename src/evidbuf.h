/* evidbuf.h - the evidence buffer (-w): each flow's packets of its
 * handshake region, kept as captured, so that the packets of a flow whose
 * verdict says interference can be written out when the verdict is known.
 *
 * The evidence of every verdict lies in the handshake region (the SYNs,
 * the ClientHello and its retransmissions, the RST, the forged chain), so
 * a flow is buffered only while its handshake is open, and only up to a
 * per-flow cap (packets and bytes) and a global memory cap; each cap has a
 * counter, and a flow that lost packets to a cap says so (cut).  When the
 * per-flow packet cap is reached the newest packet still replaces the last
 * one kept: the close (FIN, RST, the last retransmission) is what a
 * timeout verdict is measured to.
 *
 * Every kept packet carries its frame number in the run (seq), which is
 * the capture order: the writer (out_pcap.c) merges flows by it.  The
 * buffers of open flows are listed in the order they began, so the oldest
 * packet any open flow may still hand over is known (evidbuf_low_seq):
 * everything older can be written in capture order now.
 */
#ifndef TS_EVIDBUF_H
#define TS_EVIDBUF_H

#include <stdbool.h>
#include <stdint.h>

struct flow;
struct ts_packet;

/* LINKTYPE_RAW as capture files name it (libpcap's DLT_RAW differs). */
#define EVID_LINKTYPE_RAW 101

struct evid_pkt {
	struct evid_pkt *next;
	uint64_t seq;              /* frame number in the run, from 1 */
	uint64_t ts_us;            /* the capture's own timestamp */
	uint32_t caplen, wirelen;
	uint32_t l3_off, l4_off;   /* the flow's own IP and TCP/UDP headers in data */
	int dlt;                   /* link type of data (libpcap's DLT_) */
	uint8_t dir;               /* DIR_C2S, DIR_S2C */
	uint8_t ip_version;        /* 4 or 6 */
	uint8_t proto;             /* 6 or 17 */
	uint8_t reassembled;       /* rebuilt from IPv4 fragments behind a made link header */
	uint8_t data[];            /* caplen bytes */
};

/* One flow's kept packets: the first ones in order, then the newest. */
struct evid_flow {
	struct evid_pkt *head, *tail;
	struct evid_pkt *latest;   /* past the packet cap: the newest packet, else NULL */
	uint32_t n;                /* packets kept (head list + latest) */
	uint64_t bytes;            /* memory they hold */
	bool cut;                  /* a cap left packets out */
	bool closed;               /* no more packets are added (handshake over) */
	uint64_t first_seq;
	struct evid_flow *prev, *next; /* open buffers, in the order they began */
};

/* What a flow record carries (record.h): its packets and where the run
 * stood when its verdict was decided. */
struct evid_ref {
	const struct evid_flow *flow; /* NULL: no packets kept (or no -w) */
	uint64_t low_seq;          /* no other open flow holds a packet older than this */
	uint64_t decided_seq;      /* the frame at (or after) which the verdict was decided */
	uint64_t decided_ts_us;    /* the capture clock then (what a timeout verdict measured to) */
};

struct evidbuf_cfg {
	uint32_t flow_packets;     /* per-flow packet cap */
	uint64_t flow_bytes;       /* per-flow memory cap */
	uint64_t max_bytes;        /* all flows together */
};

struct evidbuf_stats {
	uint64_t packets_kept;     /* added to a buffer */
	uint64_t packets_flow_cap; /* not kept: the per-flow cap (or replaced as the newest) */
	uint64_t packets_memory_cap; /* not kept: the global memory cap */
	uint64_t packets_oom;      /* not kept: allocation failed */
	uint64_t packets_unplaceable; /* not kept: a rebuilt datagram of a link type
					 without a header to put before it */
	uint64_t flows_cut;        /* flows that lost a packet to any of these */
	uint64_t bytes, max_bytes_seen; /* memory held now, and at most */
};

struct evidbuf;

struct evidbuf *evidbuf_new(const struct evidbuf_cfg *cfg);
/* Frees every buffer still held (flows must not use theirs afterwards). */
void evidbuf_free(struct evidbuf *eb);

/* Keep one packet of flow f (direction dir), decoded as p from frame seq
 * of link type dlt.  Does nothing once f's buffer is closed. */
void evidbuf_add(struct evidbuf *eb, struct flow *f, uint64_t seq, int dlt, uint64_t ts_us,
		 const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		 const struct ts_packet *p, int dir);

/* No more packets for f (its handshake is over); what was kept stays. */
void evidbuf_close(struct evidbuf *eb, struct flow *f);

/* Release f's buffer (the flow ended, or its evidence is not needed). */
void evidbuf_drop(struct evidbuf *eb, struct flow *f);

/* The oldest frame an open buffer other than f's holds, else next_seq. */
uint64_t evidbuf_low_seq(const struct evidbuf *eb, const struct flow *f, uint64_t next_seq);

/* The packets of a buffer in order: first, then next until NULL. */
const struct evid_pkt *evid_first(const struct evid_flow *ef);
const struct evid_pkt *evid_next(const struct evid_flow *ef, const struct evid_pkt *p);

const struct evidbuf_stats *evidbuf_stats(const struct evidbuf *eb);

#endif
