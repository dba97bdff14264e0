/* evidbuf.c - per-flow bounded buffers of captured packets for -w (see
 * evidbuf.h): kept while the handshake is open, within a per-flow and a
 * global cap, each counted. */
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode.h"
#include "evidbuf.h"
#include "flow.h"

struct evidbuf {
	struct evidbuf_cfg cfg;
	struct evid_flow *oldest, *newest; /* open buffers, in the order they began */
	struct evidbuf_stats st;
};

struct evidbuf *evidbuf_new(const struct evidbuf_cfg *cfg)
{
	struct evidbuf *eb = calloc(1, sizeof(*eb));
	if (eb)
		eb->cfg = *cfg;
	return eb;
}

static void free_packets(struct evid_flow *ef)
{
	struct evid_pkt *p = ef->head;
	while (p) {
		struct evid_pkt *next = p->next;
		free(p);
		p = next;
	}
	free(ef->latest);
}

void evidbuf_free(struct evidbuf *eb)
{
	if (!eb)
		return;
	struct evid_flow *ef = eb->oldest;
	while (ef) {
		struct evid_flow *next = ef->next;
		free_packets(ef);
		free(ef);
		ef = next;
	}
	free(eb);
}

static struct evid_flow *buffer_of(struct evidbuf *eb, struct flow *f, uint64_t seq)
{
	if (f->evid)
		return f->evid;
	struct evid_flow *ef = calloc(1, sizeof(*ef));
	if (!ef)
		return NULL;
	ef->first_seq = seq;
	ef->prev = eb->newest;
	if (eb->newest)
		eb->newest->next = ef;
	else
		eb->oldest = ef;
	eb->newest = ef;
	f->evid = ef;
	return ef;
}

/* A datagram rebuilt from IPv4 fragments is in the defragmenter's buffer,
 * not in any one frame.  It is kept behind a link header of the frame's
 * own type (libpcap reads one link type per file), made from the last
 * fragment's: its addresses, with the protocol field saying IPv4 (VLAN
 * tags and tunnels around it are not kept).  Returns the header's length
 * in hdr, or -1 for a link type without such a header. */
static int rebuilt_link_header(int dlt, const uint8_t *frame, uint32_t caplen, uint8_t hdr[20])
{
	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 12)
			return -1;
		memcpy(hdr, frame, 12);
		hdr[12] = 0x08, hdr[13] = 0x00;
		return 14;
	case DLT_LINUX_SLL:
		if (caplen < 14)
			return -1;
		memcpy(hdr, frame, 14);
		hdr[14] = 0x08, hdr[15] = 0x00;
		return 16;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		memcpy(hdr, frame, 20);
		hdr[0] = 0x08, hdr[1] = 0x00;
		return 20;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			return -1;
		memcpy(hdr, frame, 4);
		return 4;
	case DLT_RAW:
	case EVID_LINKTYPE_RAW:
	case DLT_IPV4:
		return 0;
	default:
		return -1;
	}
}

/* Does the next packet go to the "newest" slot (the list is full)? */
static bool past_packet_cap(const struct evidbuf *eb, const struct evid_flow *ef)
{
	uint32_t in_list = ef->n - (ef->latest != NULL);
	return in_list + 1 >= eb->cfg.flow_packets;
}

/* Memory a packet of len bytes holds; 0 when it may not be kept (counted). */
static uint64_t admit(struct evidbuf *eb, struct evid_flow *ef, uint32_t len)
{
	uint64_t need = sizeof(struct evid_pkt) + len;
	/* Past the packet cap the newest packet replaces the previous one. */
	uint64_t frees = past_packet_cap(eb, ef) && ef->latest
				 ? sizeof(struct evid_pkt) + ef->latest->caplen : 0;
	if (ef->bytes - frees + need > eb->cfg.flow_bytes) {
		eb->st.packets_flow_cap++;
		return 0;
	}
	if (eb->st.bytes - frees + need > eb->cfg.max_bytes) {
		eb->st.packets_memory_cap++;
		return 0;
	}
	return need;
}

static void account(struct evidbuf *eb, struct evid_flow *ef, int64_t delta)
{
	ef->bytes = (uint64_t)((int64_t)ef->bytes + delta);
	eb->st.bytes = (uint64_t)((int64_t)eb->st.bytes + delta);
	if (eb->st.bytes > eb->st.max_bytes_seen)
		eb->st.max_bytes_seen = eb->st.bytes;
}

static void append(struct evidbuf *eb, struct evid_flow *ef, struct evid_pkt *k)
{
	if (!past_packet_cap(eb, ef)) {
		if (ef->tail)
			ef->tail->next = k;
		else
			ef->head = k;
		ef->tail = k;
		ef->n++;
		return;
	}
	/* Past the cap: the previous newest gives way, and is lost. */
	if (ef->latest) {
		account(eb, ef, -(int64_t)(sizeof(*k) + ef->latest->caplen));
		free(ef->latest);
		ef->n--;
		ef->cut = true;
		eb->st.packets_flow_cap++;
	}
	ef->latest = k;
	ef->n++;
}

/* The new packet: the frame, or for a rebuilt datagram a link header and
 * the datagram.  NULL when it may not be kept (counted). */
static struct evid_pkt *make_packet(struct evidbuf *eb, struct evid_flow *ef, int dlt,
				    const uint8_t *frame, uint32_t caplen, const struct ts_packet *p)
{
	uint8_t hdr[20];
	int hl = 0;
	bool rebuilt = !(p->l3 >= frame && p->l3 < frame + caplen);
	if (!p->l4 || p->l4 < p->l3 || (size_t)(p->l4 - p->l3) > p->l3_len ||
	    (rebuilt && (hl = rebuilt_link_header(dlt, frame, caplen, hdr)) < 0)) {
		eb->st.packets_unplaceable++;
		return NULL;
	}
	uint32_t len = rebuilt ? (uint32_t)hl + p->l3_len : caplen;
	uint64_t need = admit(eb, ef, len);
	struct evid_pkt *k = need ? malloc(need) : NULL;
	if (!k) {
		eb->st.packets_oom += need != 0;
		return NULL;
	}
	uint32_t l3_off = rebuilt ? (uint32_t)hl : (uint32_t)(p->l3 - frame);
	*k = (struct evid_pkt){
		.caplen = len, .l3_off = l3_off, .l4_off = l3_off + (uint32_t)(p->l4 - p->l3),
		.dlt = dlt, .ip_version = p->ip_version, .proto = p->proto, .reassembled = rebuilt,
	};
	if (rebuilt) {
		memcpy(k->data, hdr, (size_t)hl);
		memcpy(k->data + hl, p->l3, p->l3_len);
	} else {
		memcpy(k->data, frame, caplen);
	}
	account(eb, ef, (int64_t)need);
	return k;
}

void evidbuf_add(struct evidbuf *eb, struct flow *f, uint64_t seq, int dlt, uint64_t ts_us,
		 const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		 const struct ts_packet *p, int dir)
{
	if (f->evid && f->evid->closed)
		return;
	struct evid_flow *ef = buffer_of(eb, f, seq);
	if (!ef) {
		eb->st.packets_oom++;
		return;
	}
	bool was_cut = ef->cut;
	struct evid_pkt *k = make_packet(eb, ef, dlt, frame, caplen, p);
	if (!k) {
		ef->cut = true;
	} else {
		k->seq = seq;
		k->ts_us = ts_us;
		k->wirelen = k->reassembled ? k->caplen : wirelen;
		k->dir = (uint8_t)dir;
		eb->st.packets_kept++;
		append(eb, ef, k);
	}
	if (ef->cut && !was_cut)
		eb->st.flows_cut++;
}

void evidbuf_close(struct evidbuf *eb, struct flow *f)
{
	(void)eb;
	if (f->evid)
		f->evid->closed = true;
}

void evidbuf_drop(struct evidbuf *eb, struct flow *f)
{
	struct evid_flow *ef = f->evid;
	if (!ef)
		return;
	if (ef->prev)
		ef->prev->next = ef->next;
	else
		eb->oldest = ef->next;
	if (ef->next)
		ef->next->prev = ef->prev;
	else
		eb->newest = ef->prev;
	account(eb, ef, -(int64_t)ef->bytes);
	free_packets(ef);
	free(ef);
	f->evid = NULL;
}

uint64_t evidbuf_low_seq(const struct evidbuf *eb, const struct flow *f, uint64_t next_seq)
{
	const struct evid_flow *ef = eb->oldest;
	if (ef && ef == f->evid)
		ef = ef->next;
	return ef && ef->first_seq < next_seq ? ef->first_seq : next_seq;
}

const struct evid_pkt *evid_first(const struct evid_flow *ef)
{
	return ef->head ? ef->head : ef->latest;
}

const struct evid_pkt *evid_next(const struct evid_flow *ef, const struct evid_pkt *p)
{
	if (p->next)
		return p->next;
	return p == ef->latest ? NULL : ef->latest;
}

const struct evidbuf_stats *evidbuf_stats(const struct evidbuf *eb)
{
	return &eb->st;
}
