/* counters.h - a snapshot of the engine's counters, for outputs.
 *
 * Outputs that report on the run as a whole (interval statistics, the
 * Prometheus textfile, the progress line) read this copy, never the engine
 * itself: engine_counters() fills it.
 */
#ifndef TS_COUNTERS_H
#define TS_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "quic.h"
#include "verdict.h"

struct engine_counters {
	uint64_t frames;                 /* frames read */
	uint64_t bytes;                  /* their bytes on the wire */
	uint64_t decoded;                /* frames that gave a TCP/UDP packet */
	uint64_t decode[DEC__COUNT];     /* per decode_result */
	uint64_t tunnels[TUN__COUNT];    /* frames decapsulated, per tunnel kind
					    (a frame counts once per layer) */
	uint64_t tcp_packets, udp_packets;
	uint64_t flows_by_verdict[V__COUNT];
	uint64_t flows_created, flows_active, flows_ended, flows_evicted;
	uint64_t tls_errors;             /* directions whose TLS parsing stopped on an error */
	uint64_t reasm_overlap_diffs;    /* overlapping segments with different bytes */
	uint64_t clock_jumps;            /* capture clock discontinuities within an input */
	uint64_t preambles;              /* flows whose TLS began after a plaintext preamble */
	/* DNS (dnstxn.h) and plain HTTP (http.h): every cap and bad input counted */
	uint64_t dns_messages, dns_truncated, dns_malformed, dns_unmatched;
	uint64_t dns_txns, dns_txns_evicted, dns_txns_refused, dns_resp_dropped;
	uint64_t dns_tcp_lost;           /* TCP streams whose messages could not be framed */
	uint64_t dns_resolvers_full, dnsmap_evicted;
	uint64_t http_flows, http_truncated, http_malformed, http_too_long;
	struct quic_stats quic;          /* the QUIC stage's outcomes and caps */
	uint64_t first_us;               /* first packet time (0: none yet) */
	uint64_t now_us;                 /* the packet clock */
};

/* Where the threads of --threads spent the run: each thread's CPU time
 * (from its start) and the wall time it spent waiting for another thread -
 * the first place to look when more threads do not make a run faster. */
enum thread_role { THREAD_READER, THREAD_WORKER, THREAD_FINISHER };
struct thread_time {
	enum thread_role role;
	uint64_t cpu_us;
	/* reader: room in a worker's input, room in the finishing queue;
	 * worker: packets, room for its finished flows;
	 * finisher: entries to finish, a worker's finished flow */
	uint64_t wait_us[2];
	uint64_t finish_us;              /* reader without a finishing thread (two threads in
					    all): finishing the flows itself (wall time) */
};

/* Flows whose verdict is interference, over all verdicts. */
static inline uint64_t counters_blocked(const struct engine_counters *c)
{
	uint64_t n = 0;
	for (int v = 0; v < V__COUNT; v++)
		if (verdict_is_interference((enum verdict)v))
			n += c->flows_by_verdict[v];
	return n;
}

/* A copy of every count in *c added into *into; the times are the
 * earliest first packet and the latest clock (the workers' engines of a
 * live capture with threads, summed for the outputs). */
static inline void counters_add(struct engine_counters *into, const struct engine_counters *c)
{
	uint64_t first = into->first_us, now = into->now_us;
	uint64_t *d = (uint64_t *)into;
	const uint64_t *s = (const uint64_t *)c;
	/* every member is a uint64_t (quic_stats too): added one by one */
	_Static_assert(sizeof(*into) % sizeof(uint64_t) == 0, "counters are 64-bit words");
	for (size_t i = 0; i < sizeof(*into) / sizeof(uint64_t); i++)
		d[i] += s[i];
	into->first_us = !first || (c->first_us && c->first_us < first) ? c->first_us : first;
	into->now_us = c->now_us > now ? c->now_us : now;
}

/* Socket counters kept per worker (live capture with worker threads). */
#define KSTATS_WORKERS_MAX 64

/* Kernel counters of a live capture (pcap_stats), zero offline. */
struct capture_kstats {
	unsigned long long received;
	unsigned long long dropped;      /* by the kernel: buffer full */
	unsigned long long if_dropped;   /* by the interface/driver */
	unsigned n_workers;              /* worker threads' sockets: each one's below; 0 otherwise */
	struct {
		unsigned long long received, dropped;
	} worker[KSTATS_WORKERS_MAX];
};

#endif
