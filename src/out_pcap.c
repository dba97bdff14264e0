/* out_pcap.c - the evidence sink (-w): interfered flows' packets in capture
 * order, anonymised when asked, with the manifest (see out_pcap.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "evidbuf.h"
#include "flow.h"
#include "out_pcap.h"
#include "record.h"
#include "tls.h"

/* One packet waiting for its turn; key: 2 x frame number, + 1 for a mark
 * (a mark comes after the frame it was decided at). */
struct qpkt {
	struct qpkt *next;
	uint64_t key;
	uint64_t ts_us;
	uint32_t caplen, wirelen;
	int dlt;
	bool rebuilt;                /* an IPv4 datagram rebuilt from its fragments */
	uint8_t data[];
};

struct qflow {
	struct qpkt *head, *tail;
	char comment[400];           /* flow_id, verdict, name */
	char mark_comment[400];
};

struct out_pcap {
	struct out_pcap_opts o;
	struct pcapw *w;
	FILE *man_fp;
	char *man_path, *side_path;
	struct manifest man;
	struct qflow **heap;         /* by the key of each flow's next packet */
	size_t nheap, capheap;
	uint64_t queued_bytes;
	uint64_t last_key, last_ts;  /* of the last packet written */
	bool wrote_any;
	/* what was written, and what was not */
	uint64_t flows, flows_empty, flows_cut, marks;
	uint64_t by_verdict[V__COUNT];
	uint64_t written_early;      /* queue cap: written before capture order was certain */
	uint64_t queue_oom;          /* packets not queued: out of memory */
	bool interrupted;            /* flows ended at a stop signal */
};

/* ---- the queue: a binary heap of flows -------------------------------------- */

static uint64_t key_of(const struct qflow *q) { return q->head->key; }

static void sift_down(struct out_pcap *op, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < op->nheap && key_of(op->heap[l]) < key_of(op->heap[m]))
			m = l;
		if (r < op->nheap && key_of(op->heap[r]) < key_of(op->heap[m]))
			m = r;
		if (m == i)
			return;
		struct qflow *t = op->heap[i];
		op->heap[i] = op->heap[m];
		op->heap[m] = t;
		i = m;
	}
}

static int heap_push(struct out_pcap *op, struct qflow *q)
{
	if (op->nheap == op->capheap) {
		size_t cap = op->capheap ? 2 * op->capheap : 64;
		struct qflow **h = realloc(op->heap, cap * sizeof(*h));
		if (!h)
			return -1;
		op->heap = h;
		op->capheap = cap;
	}
	size_t i = op->nheap++;
	op->heap[i] = q;
	while (i > 0 && key_of(op->heap[(i - 1) / 2]) > key_of(op->heap[i])) {
		struct qflow *t = op->heap[i];
		op->heap[i] = op->heap[(i - 1) / 2];
		op->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
	return 0;
}

/* A mark adds nothing after a packet of the same frame at least as late. */
static bool mark_redundant(const struct out_pcap *op, const struct qpkt *k)
{
	return (k->key & 1) && op->wrote_any && op->last_key >> 1 == k->key >> 1 &&
	       op->last_ts >= k->ts_us;
}

/* Write the oldest queued packet. */
static void write_next(struct out_pcap *op)
{
	struct qflow *q = op->heap[0];
	struct qpkt *k = q->head;
	if (!mark_redundant(op, k)) {
		char rebuilt[sizeof(q->comment) + 64];
		const char *c = (k->key & 1) ? q->mark_comment : q->comment;
		if (k->rebuilt) {
			snprintf(rebuilt, sizeof(rebuilt), "%s; an IPv4 datagram rebuilt from its "
				 "fragments", q->comment);
			c = rebuilt;
		}
		if (pcapw_packet(op->w, k->dlt, k->ts_us, k->data, k->caplen, k->wirelen, c) == 0) {
			op->marks += k->key & 1;
			op->last_key = k->key;
			op->last_ts = k->ts_us;
			op->wrote_any = true;
		}
	}
	q->head = k->next;
	op->queued_bytes -= sizeof(*k) + k->caplen;
	free(k);
	if (!q->head) {
		free(q);
		op->heap[0] = op->heap[--op->nheap];
	}
	if (op->nheap)
		sift_down(op, 0);
}

/* Everything older than frame low is final: no open flow can add to it.
 * Past the queue cap the oldest go now as well. */
static void drain(struct out_pcap *op, uint64_t low)
{
	while (op->nheap && key_of(op->heap[0]) < 2 * low)
		write_next(op);
	while (op->nheap && op->queued_bytes > op->o.max_queue_bytes) {
		write_next(op);
		op->written_early++;
	}
}

/* ---- --anonymize-clients on the packets ---------------------------------------- */

/* RFC 1624 section 3, eqn. 3: the checksum after old bytes became new. */
static uint16_t csum_adjust(uint16_t hc, const uint8_t *old, const uint8_t *new, size_t n)
{
	uint32_t s = (uint16_t)~hc;
	for (size_t i = 0; i + 1 < n; i += 2) {
		s += (uint16_t)~(((unsigned)old[i] << 8) | old[i + 1]);
		s += ((unsigned)new[i] << 8) | new[i + 1];
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static void set16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Adjust the 16-bit checksum at off (when captured) for the address change;
 * a UDP checksum of 0 over IPv4 means none and stays 0. */
static void fix_csum(struct qpkt *k, uint32_t off, bool udp, const uint8_t *old,
		     const uint8_t *new, size_t n)
{
	if (off + 2 > k->caplen)
		return;
	uint16_t c = get16(k->data + off);
	if (udp && c == 0 && n == 4)
		return;
	c = csum_adjust(c, old, new, n);
	set16(k->data + off, udp && c == 0 ? 0xffff : c);
}

/* Link-layer addresses name the volunteer's machine as surely as its IP
 * address: Ethernet MACs become fixed local ones, the sender address of
 * Linux cooked captures is cleared. */
static void anonymize_link(struct qpkt *k, bool from_client)
{
	static const uint8_t mac_cli[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t mac_srv[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	if (k->dlt == 1 && k->caplen >= 12) {              /* Ethernet */
		memcpy(k->data, from_client ? mac_srv : mac_cli, 6);
		memcpy(k->data + 6, from_client ? mac_cli : mac_srv, 6);
	} else if (k->dlt == 113 && k->caplen >= 14) {     /* Linux cooked (SLL) */
		memset(k->data + 6, 0, 8);
	} else if (k->dlt == 276 && k->caplen >= 20) {     /* Linux cooked v2 */
		memset(k->data + 12, 0, 8);
	}
}

static void anonymize_packet(struct qpkt *k, const struct evid_pkt *p, const struct ts_addr *cli)
{
	bool v4 = p->ip_version == 4;
	size_t alen = v4 ? 4 : 16;
	uint32_t at = p->l3_off + (v4 ? (p->dir == DIR_C2S ? 12 : 16) : (p->dir == DIR_C2S ? 8 : 24));
	const uint8_t *cut = v4 ? cli->a + 12 : cli->a;
	if (at + alen > k->caplen)
		return;
	uint8_t old[16];
	memcpy(old, k->data + at, alen);
	memcpy(k->data + at, cut, alen);
	if (v4)
		fix_csum(k, p->l3_off + 10, false, old, cut, alen);
	/* The transport checksum covers the addresses too (pseudo-header). */
	fix_csum(k, p->l4_off + (p->proto == 6 ? 16 : 6), p->proto == 17, old, cut, alen);
	anonymize_link(k, p->dir == DIR_C2S);
}

/* ---- records ------------------------------------------------------------------ */

static struct qpkt *qpkt_new(struct out_pcap *op, uint64_t key, uint64_t ts, int dlt,
			     const uint8_t *data, uint32_t caplen, uint32_t wirelen)
{
	struct qpkt *k = malloc(sizeof(*k) + caplen);
	if (!k) {
		op->queue_oom++;
		return NULL;
	}
	*k = (struct qpkt){ .key = key, .ts_us = ts, .caplen = caplen, .wirelen = wirelen, .dlt = dlt };
	if (caplen)
		memcpy(k->data, data, caplen);
	op->queued_bytes += sizeof(*k) + caplen;
	return k;
}

static void qflow_append(struct qflow *q, struct qpkt *k)
{
	if (q->tail)
		q->tail->next = k;
	else
		q->head = k;
	q->tail = k;
}

/* A timeout verdict was measured to the capture's clock, not to a packet
 * of its own: the mark carries that time. */
static bool timed_verdict(enum verdict v)
{
	return v == V_TLS_STALL || v == V_SYN_TIMEOUT;
}

static void comments(struct qflow *q, const struct flow_record *r)
{
	char name[TLS_MAX_SNI + 64];
	record_server_name(r, name, sizeof(name));
	snprintf(q->comment, sizeof(q->comment), "tamperscope flow_id %" PRIu64 ": %s, %s", r->flow_id,
		 verdict_name(r->vr.verdict), name);
	snprintf(q->mark_comment, sizeof(q->mark_comment),
		 "tamperscope flow_id %" PRIu64 ": the capture's clock when its verdict (%s) was "
		 "decided; a frame of other traffic, its bytes not kept", r->flow_id,
		 verdict_name(r->vr.verdict));
}

static void queue_flow(struct out_pcap *op, const struct flow_record *r)
{
	const struct evid_ref *ev = &r->evidence;
	struct qflow *q = calloc(1, sizeof(*q));
	if (!q) {
		op->queue_oom++;
		return;
	}
	comments(q, r);
	int dlt = 1;
	for (const struct evid_pkt *p = evid_first(ev->flow); p; p = evid_next(ev->flow, p)) {
		struct qpkt *k = qpkt_new(op, 2 * p->seq, p->ts_us, p->dlt, p->data, p->caplen,
					  p->wirelen);
		if (!k)
			continue;
		k->rebuilt = p->reassembled;
		if (op->o.anonymize)
			anonymize_packet(k, p, &r->cli);
		qflow_append(q, k);
		dlt = p->dlt;
	}
	struct qpkt *mark = q->head && timed_verdict(r->vr.verdict)
				    ? qpkt_new(op, 2 * ev->decided_seq + 1, ev->decided_ts_us, dlt,
					       NULL, 0, 0)
				    : NULL;
	if (mark)
		qflow_append(q, mark);
	if (!q->head || heap_push(op, q) < 0) {
		for (struct qpkt *k = q->head, *n; k; k = n) {
			n = k->next;
			op->queued_bytes -= sizeof(*k) + k->caplen;
			free(k);
		}
		free(q);
	}
}

static void on_flow(void *ctx, const struct flow_record *r)
{
	struct out_pcap *op = ctx;
	if (r->why == FLOW_END_SHUTDOWN)
		op->interrupted = true;
	if (r->vr.pcap_written) {
		op->flows++;
		op->by_verdict[r->vr.verdict]++;
		op->flows_cut += r->vr.pcap_truncated;
		if (r->evidence.flow && evid_first(r->evidence.flow))
			queue_flow(op, r);
		else
			op->flows_empty++;
	}
	drain(op, r->evidence.low_seq);
}

/* ---- the end ------------------------------------------------------------------ */

/* "12 flows (tls_stall 6, syn_timeout 3, ...), 87 packets" */
static void holds(const struct out_pcap *op, char *buf, size_t len)
{
	const struct pcapw_stats *st = pcapw_get_stats(op->w);
	size_t n = (size_t)snprintf(buf, len, "%" PRIu64 " flow%s whose verdict is interference",
				    op->flows, op->flows == 1 ? "" : "s");
	const char *sep = " (";
	for (int v = 0; v < V__COUNT && n < len; v++) {
		if (!op->by_verdict[v])
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s %" PRIu64, sep,
				      verdict_name((enum verdict)v), op->by_verdict[v]);
		sep = ", ";
	}
	if (n < len)
		snprintf(buf + n, len - n, "%s, %" PRIu64 " packets (%" PRIu64 " of them clock marks "
			 "without bytes)", op->flows ? ")" : "", st->packets, op->marks);
}

/* What the caps left out, one line each, only when something was. */
static void print_caps(const struct out_pcap *op, const struct evidbuf_stats *eb)
{
	if (eb && (eb->packets_flow_cap || eb->packets_memory_cap || eb->packets_oom ||
		   eb->packets_unplaceable))
		fprintf(stderr, "tamperscope:   evidence: packets not kept: %" PRIu64 " over the "
			"per-flow cap (--pcap-flow-packets), %" PRIu64 " over the memory cap "
			"(--pcap-memory), %" PRIu64 " out of memory, %" PRIu64 " rebuilt datagrams "
			"without a link header; %" PRIu64 " flows cut\n", eb->packets_flow_cap,
			eb->packets_memory_cap, eb->packets_oom, eb->packets_unplaceable, eb->flows_cut);
	if (op->flows_cut || op->flows_empty)
		fprintf(stderr, "tamperscope:   evidence: %" PRIu64 " interfered flows with packets "
			"left out (pcap_truncated), %" PRIu64 " with none kept\n", op->flows_cut,
			op->flows_empty);
	if (op->written_early || op->queue_oom)
		fprintf(stderr, "tamperscope:   evidence: %" PRIu64 " packets written ahead of older "
			"ones (queue cap), %" PRIu64 " not queued (out of memory)\n",
			op->written_early, op->queue_oom);
	if (pcapw_get_stats(op->w)->skipped_linktype)
		fprintf(stderr, "tamperscope:   evidence: %" PRIu64 " packets of another link type "
			"not written (pcap holds one; pcapng does not have this limit)\n",
			pcapw_get_stats(op->w)->skipped_linktype);
}

static int write_manifest(struct out_pcap *op, const char *what)
{
	char err[256];
	int rc = manifest_write(op->man_fp, &op->man, what, err, sizeof(err));
	if (fclose(op->man_fp) != 0 && rc == 0) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		rc = -1;
	}
	op->man_fp = NULL;
	if (rc < 0)
		fprintf(stderr, "tamperscope: %s: %s\n", op->man_path, err);
	return rc;
}

static int on_finish(void *ctx, const struct run_end *end)
{
	struct out_pcap *op = ctx;
	char what[512];
	drain(op, UINT64_MAX);
	int rc = pcapw_close(op->w);
	const struct pcapw_stats *st = pcapw_get_stats(op->w);
	holds(op, what, sizeof(what));
	if (st->failed) {
		fprintf(stderr, "tamperscope: -w %s: %s: the evidence was cut after %" PRIu64
			" packets (the file stays a valid, shorter capture)\n", op->o.path,
			strerror(st->failed_errno), st->packets);
		rc = -1;
	}
	if (write_manifest(op, what) < 0)
		rc = -1;
	fprintf(stderr, "tamperscope: evidence: %s -> %s (manifest %s)\n", what, op->o.path,
		op->man_path);
	if (op->interrupted || end->stopped)
		fprintf(stderr, "tamperscope: evidence: the run was stopped: flows still open were "
			"decided at the stop, and the file holds what was decided by then\n");
	print_caps(op, end->evidence);
	return rc;
}

static void on_flush(void *ctx)
{
	struct out_pcap *op = ctx;
	(void)pcapw_flush(op->w);
}

static void on_free(void *ctx)
{
	struct out_pcap *op = ctx;
	if (!op)
		return;
	while (op->nheap) {
		struct qflow *q = op->heap[--op->nheap];
		for (struct qpkt *k = q->head, *n; k; k = n) {
			n = k->next;
			free(k);
		}
		free(q);
	}
	free(op->heap);
	pcapw_free(op->w);
	if (op->man_fp)
		fclose(op->man_fp);
	manifest_release(&op->man);
	free(op->man_path);
	free(op->side_path);
	free(op);
}

static const struct sink_ops pcap_ops = {
	.name = "evidence",
	.flow = on_flow,
	.flush = on_flush,
	.report = on_flush,
	.finish = on_finish,
	.free = on_free,
};

static char *with_suffix(const char *path, const char *suffix)
{
	size_t n = strlen(path) + strlen(suffix) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s", path, suffix);
	return s;
}

struct out_pcap *out_pcap_open(const struct out_pcap_opts *o, char *err, size_t errlen)
{
	struct out_pcap *op = calloc(1, sizeof(*op));
	if (!op || !(op->man_path = with_suffix(o->path, ".sha256")) ||
	    (o->format == PCAPW_PCAP && !(op->side_path = with_suffix(o->path, ".comments")))) {
		snprintf(err, errlen, "out of memory");
		on_free(op);
		return NULL;
	}
	op->o = *o;
	op->man.version = PACKAGE_VERSION;
	op->man.evidence = o->path;
	op->man.side = op->side_path;
	if (!(op->w = pcapw_open(o->path, o->format, "tamperscope " PACKAGE_VERSION, op->side_path,
				 err, errlen))) {
		on_free(op);
		return NULL;
	}
	if (!(op->man_fp = fopen(op->man_path, "w"))) {
		snprintf(err, errlen, "%s: %s", op->man_path, strerror(errno));
		on_free(op);
		return NULL;
	}
	return op;
}

struct manifest *out_pcap_manifest(struct out_pcap *op)
{
	return &op->man;
}

struct sink out_pcap_sink(struct out_pcap *op)
{
	return (struct sink){ &pcap_ops, op };
}
