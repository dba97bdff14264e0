/* evidbuf.c - per-flow bounded buffers of captured packets for -w (see
 * evidbuf.h): kept while the handshake is open, within a per-flow and a
 * global cap, each counted. */
#include <stdlib.h>
#include <string.h>

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

/* Where the flow's IP header is: inside the frame, or (a datagram rebuilt
 * from fragments) in the defragmenter's buffer, which is then what is
 * kept, as a bare IP datagram. */
static bool locate(const uint8_t *frame, uint32_t caplen, const struct ts_packet *p,
		   const uint8_t **bytes, uint32_t *len, uint32_t *l3_off, bool *raw)
{
	if (!p->l3 || !p->l4 || p->l4 < p->l3 || (size_t)(p->l4 - p->l3) > p->l3_len)
		return false;
	*raw = !(p->l3 >= frame && p->l3 < frame + caplen);
	if (*raw) {
		*bytes = p->l3;
		*len = p->l3_len;
		*l3_off = 0;
	} else {
		*bytes = frame;
		*len = caplen;
		*l3_off = (uint32_t)(p->l3 - frame);
	}
	return true;
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

void evidbuf_add(struct evidbuf *eb, struct flow *f, uint64_t seq, int dlt, uint64_t ts_us,
		 const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
		 const struct ts_packet *p, int dir)
{
	const uint8_t *bytes;
	uint32_t len, l3_off;
	bool raw, was_cut;
	if (f->evid && f->evid->closed)
		return;
	struct evid_flow *ef = buffer_of(eb, f, seq);
	if (!ef || !locate(frame, caplen, p, &bytes, &len, &l3_off, &raw)) {
		eb->st.packets_oom += ef == NULL;
		return;
	}
	was_cut = ef->cut;
	uint64_t need = admit(eb, ef, len);
	struct evid_pkt *k = need ? malloc(need) : NULL;
	if (!k) {
		eb->st.packets_oom += need != 0;
		ef->cut = true;
	} else {
		*k = (struct evid_pkt){
			.seq = seq, .ts_us = ts_us, .caplen = len, .wirelen = raw ? len : wirelen,
			.l3_off = l3_off, .l4_off = l3_off + (uint32_t)(p->l4 - p->l3),
			.dlt = raw ? EVID_DLT_RAW : dlt, .dir = (uint8_t)dir,
			.ip_version = p->ip_version, .proto = p->proto, .reassembled = raw,
		};
		memcpy(k->data, bytes, len);
		account(eb, ef, (int64_t)need);
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
