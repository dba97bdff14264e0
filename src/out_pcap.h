/* out_pcap.h - the evidence output (-w FILE): the packets of every flow
 * whose verdict is interference, in capture order with their original
 * timestamps and link types, as pcapng (a comment on each packet names its
 * flow_id and verdict) or classic pcap (comments in FILE.comments), and
 * the manifest FILE.sha256 (manifest.h).
 *
 * A sink: it reads each record's kept packets (evidbuf.h) and copies those
 * of interfered flows, with --anonymize-clients rewriting the client's
 * address (checksums adjusted) and the link-layer addresses, into a queue
 * merged by frame number, written as soon as no open flow can still hand
 * over an older packet.  A flow whose verdict was decided by the clock
 * (a stall, a SYN timeout) also gets a mark: a packet without bytes at the
 * capture time of the decision, so that reading the file back measures
 * the same silence.  The queue has a memory cap; past it the oldest are
 * written at once (counted: they may precede older packets of flows still
 * open).
 */
#ifndef TS_OUT_PCAP_H
#define TS_OUT_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "pcapw.h"
#include "sink.h"

struct out_pcap_opts {
	const char *path;          /* -w FILE */
	enum pcapw_format format;  /* --pcap-format */
	bool anonymize;            /* --anonymize-clients */
	uint64_t max_queue_bytes;  /* the queue's cap */
};

struct out_pcap;

/* Create FILE and FILE.sha256 (and FILE.comments for pcap) now, before any
 * packet is read.  NULL with a one-line reason in err. */
struct out_pcap *out_pcap_open(const struct out_pcap_opts *o, char *err, size_t errlen);

/* The manifest's contents besides the evidence (filled by the caller
 * before the run ends: command line, inputs, trust store, databases). */
struct manifest *out_pcap_manifest(struct out_pcap *op);

/* The sink; it owns op from here. */
struct sink out_pcap_sink(struct out_pcap *op);

#endif
