/* test_evidbuf.c - the evidence buffer (-w): packets kept in order, the
 * per-flow packet cap keeps the first ones and the newest, the byte and
 * memory caps refuse and count, the oldest packet of the other open flows,
 * closed buffers, and datagrams rebuilt from fragments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "decode.h"
#include "evidbuf.h"
#include "flow.h"

/* A 14-byte Ethernet header, a 20-byte IPv4 header, a 20-byte TCP header
 * and n payload bytes. */
static uint8_t frame[14 + 20 + 20 + 1500];

static struct ts_packet pkt_of(uint32_t payload)
{
	struct ts_packet p;
	memset(&p, 0, sizeof(p));
	frame[12] = 0x08;
	frame[14] = 0x45;
	p.l3 = frame + 14;
	p.l4 = frame + 34;
	p.l3_len = 40 + payload;
	p.ip_version = 4;
	p.proto = 6;
	return p;
}

static struct evidbuf *eb_new(uint32_t pkts, uint64_t flow_bytes, uint64_t max)
{
	struct evidbuf_cfg c = { pkts, flow_bytes, max };
	struct evidbuf *eb = evidbuf_new(&c);
	assert_non_null(eb);
	return eb;
}

static void add(struct evidbuf *eb, struct flow *f, uint64_t seq, uint32_t payload)
{
	struct ts_packet p = pkt_of(payload);
	evidbuf_add(eb, f, seq, DLT_EN10MB, 1000 + seq, frame, 54 + payload, 54 + payload, &p, 0);
}

static void test_order_and_packet_cap(void **state)
{
	(void)state;
	struct evidbuf *eb = eb_new(4, 1 << 20, 1 << 20);
	struct flow f = { 0 };
	for (uint64_t s = 1; s <= 10; s++)
		add(eb, &f, s, 10);
	assert_int_equal(f.evid->n, 4);
	assert_true(f.evid->cut);
	uint64_t want[] = { 1, 2, 3, 10 }; /* the first three, and the newest */
	size_t i = 0;
	for (const struct evid_pkt *p = evid_first(f.evid); p; p = evid_next(f.evid, p))
		assert_int_equal(p->seq, want[i++]);
	assert_int_equal(i, 4);
	const struct evidbuf_stats *st = evidbuf_stats(eb);
	assert_int_equal(st->packets_kept, 10);
	assert_int_equal(st->packets_flow_cap, 6); /* 4..9 gave way */
	assert_int_equal(st->flows_cut, 1);
	evidbuf_drop(eb, &f);
	assert_null(f.evid);
	assert_int_equal(st->bytes, 0);
	evidbuf_free(eb);
}

static void test_byte_and_memory_caps(void **state)
{
	(void)state;
	/* Per flow: two packets of 1500 payload fit in 4000 bytes, a third not. */
	struct evidbuf *eb = eb_new(64, 4000, 1 << 20);
	struct flow f = { 0 };
	for (uint64_t s = 1; s <= 3; s++)
		add(eb, &f, s, 1500);
	assert_int_equal(f.evid->n, 2);
	assert_int_equal(evidbuf_stats(eb)->packets_flow_cap, 1);
	evidbuf_drop(eb, &f);
	evidbuf_free(eb);
	/* All flows: the memory cap refuses, counted, and marks the flow cut. */
	eb = eb_new(64, 1 << 20, 3000);
	struct flow a = { 0 }, b = { 0 };
	add(eb, &a, 1, 1500);
	add(eb, &b, 2, 1500);
	assert_int_equal(a.evid->n, 1);
	assert_int_equal(b.evid->n, 0);
	assert_true(b.evid->cut);
	assert_int_equal(evidbuf_stats(eb)->packets_memory_cap, 1);
	assert_true(evidbuf_stats(eb)->bytes <= 3000);
	evidbuf_drop(eb, &a);
	evidbuf_drop(eb, &b);
	evidbuf_free(eb);
}

static void test_low_seq(void **state)
{
	(void)state;
	struct evidbuf *eb = eb_new(8, 1 << 20, 1 << 20);
	struct flow a = { 0 }, b = { 0 }, c = { 0 };
	assert_int_equal(evidbuf_low_seq(eb, &a, 50), 50); /* nothing open */
	add(eb, &a, 5, 0);
	add(eb, &b, 7, 0);
	add(eb, &c, 9, 0);
	add(eb, &a, 11, 0);
	assert_int_equal(evidbuf_low_seq(eb, &a, 50), 7); /* a's own packets do not count */
	assert_int_equal(evidbuf_low_seq(eb, &b, 50), 5);
	assert_int_equal(evidbuf_low_seq(eb, &c, 6), 5);
	evidbuf_drop(eb, &a);
	assert_int_equal(evidbuf_low_seq(eb, &c, 50), 7);
	evidbuf_drop(eb, &b);
	evidbuf_drop(eb, &c);
	evidbuf_free(eb);
}

static void test_closed(void **state)
{
	(void)state;
	struct evidbuf *eb = eb_new(8, 1 << 20, 1 << 20);
	struct flow f = { 0 };
	add(eb, &f, 1, 0);
	evidbuf_close(eb, &f);
	add(eb, &f, 2, 0);
	assert_int_equal(f.evid->n, 1);
	assert_false(f.evid->cut);
	evidbuf_free(eb); /* frees what flows still hold */
}

/* A datagram rebuilt from fragments lives outside the frame: kept behind a
 * made Ethernet header (IPv4); for a link type without one, counted. */
static void test_rebuilt(void **state)
{
	(void)state;
	static uint8_t datagram[60];
	struct evidbuf *eb = eb_new(8, 1 << 20, 1 << 20);
	struct flow f = { 0 };
	struct ts_packet p;
	memset(&p, 0, sizeof(p));
	datagram[0] = 0x45;
	p.l3 = datagram;
	p.l4 = datagram + 20;
	p.l3_len = sizeof(datagram);
	p.ip_version = 4;
	p.proto = 6;
	memset(frame, 0xaa, 12);
	frame[12] = 0x81; /* a VLAN tag: not kept */
	evidbuf_add(eb, &f, 1, DLT_EN10MB, 1, frame, 80, 80, &p, 0);
	const struct evid_pkt *k = evid_first(f.evid);
	assert_non_null(k);
	assert_true(k->reassembled);
	assert_int_equal(k->caplen, 14 + sizeof(datagram));
	assert_int_equal(k->l3_off, 14);
	assert_int_equal(k->l4_off, 34);
	assert_int_equal(k->data[12], 0x08);
	assert_int_equal(k->data[13], 0x00);
	assert_memory_equal(k->data + 14, datagram, sizeof(datagram));
	evidbuf_add(eb, &f, 2, 147 /* a user link type */, 2, frame, 80, 80, &p, 0);
	assert_int_equal(f.evid->n, 1);
	assert_int_equal(evidbuf_stats(eb)->packets_unplaceable, 1);
	evidbuf_free(eb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_packet_cap),
		cmocka_unit_test(test_byte_and_memory_caps),
		cmocka_unit_test(test_low_seq),
		cmocka_unit_test(test_closed),
		cmocka_unit_test(test_rebuilt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
