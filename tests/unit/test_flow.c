/* test_flow.c - flow table: symmetric hashing, roles, expiry, cap, reuse. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "decode.h"
#include "flow.h"
#include "htab.h"
#include "pktbuild.h"

/* A fixed seed per test keeps runs alike. */
#define SEED(n) (&(struct hseed){ { (n), 0 } })

struct ended {
	int n;
	uint64_t ids[64];
	enum flow_end why[64];
};

static void on_end(void *arg, struct flow *f, enum flow_end why)
{
	struct ended *e = arg;
	if (e->n < 64) {
		e->ids[e->n] = f->id;
		e->why[e->n] = why;
	}
	e->n++;
}

static void set_addr(struct ts_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	if (strchr(s, ':')) {
		inet_pton(AF_INET6, s, a->a);
	} else {
		a->a[10] = a->a[11] = 0xff;
		inet_pton(AF_INET, s, a->a + 12);
		a->v4 = 1;
	}
}

static struct ts_packet pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			    uint8_t flags, uint64_t ts)
{
	struct ts_packet p;
	memset(&p, 0, sizeof(p));
	set_addr(&p.src, src);
	set_addr(&p.dst, dst);
	p.sport = sport;
	p.dport = dport;
	p.proto = 6;
	p.tcp_flags = flags;
	p.ts_us = ts;
	return p;
}

static void test_symmetric_hash_meets(void **state)
{
	struct ended e = { 0 };
	struct flow_table *ft = flow_table_new(100, SEED(12345), 60000000, 1000000, on_end, &e);
	struct ts_packet a = pkt("198.18.1.10", 40000, "198.19.1.1", 443, TH_SYN, 1);
	struct ts_packet b = pkt("198.19.1.1", 443, "198.18.1.10", 40000, TH_SYN | TH_ACK, 2);
	assert_int_equal(flow_hash(ft, &a), flow_hash(ft, &b));
	int d1, d2;
	bool c1, c2;
	struct flow *f1 = flow_lookup(ft, &a, &d1, &c1);
	struct flow *f2 = flow_lookup(ft, &b, &d2, &c2);
	assert_non_null(f1);
	assert_ptr_equal(f1, f2);
	assert_true(c1);
	assert_false(c2);
	assert_int_equal(d1, DIR_C2S);
	assert_int_equal(d2, DIR_S2C);
	/* IPv6 too */
	struct ts_packet c = pkt("2001:db8::1", 5555, "2001:db8::2", 443, TH_SYN, 3);
	struct ts_packet d = pkt("2001:db8::2", 443, "2001:db8::1", 5555, TH_ACK, 4);
	assert_int_equal(flow_hash(ft, &c), flow_hash(ft, &d));
	/* different ports hash differently (overwhelmingly likely) */
	struct ts_packet x = pkt("198.18.1.10", 40001, "198.19.1.1", 443, TH_SYN, 1);
	assert_int_not_equal(flow_hash(ft, &a), flow_hash(ft, &x));
	flow_table_flush(ft, FLOW_END_EOF);
	assert_int_equal(e.n, 1);
	flow_table_free(ft);
}

/* Another seed, another hash for the same tuple, both directions still
 * meeting: which tuples collide is not something a sender can know. */
static void test_seed_changes_hash(void **state)
{
	struct flow_table *t1 = flow_table_new(10, SEED(1), 1, 1, NULL, NULL);
	struct flow_table *t2 = flow_table_new(10, SEED(2), 1, 1, NULL, NULL);
	struct ts_packet a = pkt("198.18.1.10", 40000, "198.19.1.1", 443, TH_SYN, 1);
	struct ts_packet b = pkt("198.19.1.1", 443, "198.18.1.10", 40000, TH_ACK, 2);
	assert_int_not_equal(flow_hash(t1, &a), flow_hash(t2, &a));
	assert_int_equal(flow_hash(t1, &a), flow_hash(t1, &b));
	assert_int_equal(flow_hash(t2, &a), flow_hash(t2, &b));
	flow_table_free(t1);
	flow_table_free(t2);
}

/* Symmetry comes from ordering the endpoints, not from folding them
 * together: tuples that share the same endpoint parts in other places
 * (ports swapped between the sides, same address on both) stay apart. */
static void test_symmetry_does_not_collapse(void **state)
{
	struct flow_table *ft = flow_table_new(10, SEED(7), 1, 1, NULL, NULL);
	struct ts_packet a = pkt("198.18.1.10", 40000, "198.19.1.1", 443, TH_SYN, 1);
	struct ts_packet swapped = pkt("198.18.1.10", 443, "198.19.1.1", 40000, TH_SYN, 1);
	struct ts_packet self1 = pkt("198.18.1.10", 1000, "198.18.1.10", 1000, TH_SYN, 1);
	struct ts_packet self2 = pkt("198.18.1.11", 1000, "198.18.1.11", 1000, TH_SYN, 1);
	struct ts_packet udp = a;
	udp.proto = 17;
	assert_int_not_equal(flow_hash(ft, &a), flow_hash(ft, &swapped));
	assert_int_not_equal(flow_hash(ft, &self1), flow_hash(ft, &self2));
	assert_int_not_equal(flow_hash(ft, &a), flow_hash(ft, &udp));
	flow_table_free(ft);
}

static void test_roles(void **state)
{
	struct flow_table *ft = flow_table_new(100, SEED(7), 60000000, 1000000, NULL, NULL);
	int d;
	bool c;
	/* first packet seen is the SYN-ACK: its receiver is the client */
	struct ts_packet sa = pkt("198.19.1.1", 443, "198.18.1.10", 41000, TH_SYN | TH_ACK, 1);
	struct flow *f = flow_lookup(ft, &sa, &d, &c);
	assert_int_equal(d, DIR_S2C);
	assert_int_equal(f->cport, 41000);
	assert_int_equal(f->role_src, ROLE_SYNACK);
	/* mid-stream data: the well-known port is the server */
	struct ts_packet m = pkt("198.19.1.2", 443, "198.18.1.10", 41001, TH_ACK, 2);
	f = flow_lookup(ft, &m, &d, &c);
	assert_int_equal(d, DIR_S2C);
	assert_int_equal(f->sport, 443);
	assert_int_equal(f->role_src, ROLE_PORT);
	/* two ephemeral ports: the lower one is the server */
	struct ts_packet h = pkt("198.18.1.10", 50000, "198.19.1.3", 8444, TH_ACK, 3);
	f = flow_lookup(ft, &h, &d, &c);
	assert_int_equal(f->sport, 8444);
	assert_int_equal(d, DIR_C2S);
	/* a SYN from the high port side decides regardless of ports */
	struct ts_packet s = pkt("198.19.1.4", 443, "198.18.1.10", 40000, TH_SYN, 4);
	f = flow_lookup(ft, &s, &d, &c);
	assert_int_equal(d, DIR_C2S);
	assert_int_equal(f->cport, 443);
	flow_table_flush(ft, FLOW_END_EOF);
	flow_table_free(ft);
}

static void test_idle_expiry_on_packet_time(void **state)
{
	struct ended e = { 0 };
	struct flow_table *ft = flow_table_new(100, SEED(7), 10000000, 1000000, on_end, &e);
	int d;
	bool c;
	struct ts_packet a = pkt("198.18.1.10", 40000, "198.19.1.1", 443, TH_SYN, 1000000);
	struct flow *f = flow_lookup(ft, &a, &d, &c);
	flow_touch(ft, f, a.ts_us);
	uint64_t fid = f->id;
	struct ts_packet b = pkt("198.18.1.11", 40000, "198.19.1.1", 443, TH_SYN, 5000000);
	struct flow *g = flow_lookup(ft, &b, &d, &c);
	flow_touch(ft, g, b.ts_us);
	flow_table_expire(ft, 10999999);
	assert_int_equal(e.n, 0);
	flow_table_expire(ft, 11000000);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_IDLE);
	assert_int_equal(e.ids[0], fid);
	/* closing flows end after the linger, not the idle timeout */
	flow_mark_closing(ft, g);
	flow_table_expire(ft, 5999999);
	assert_int_equal(e.n, 1);
	flow_table_expire(ft, 6000000);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.why[1], FLOW_END_CLOSED);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	flow_table_free(ft);
}

static void test_cap_evicts_longest_idle(void **state)
{
	struct ended e = { 0 };
	struct flow_table *ft = flow_table_new(3, SEED(7), 1000000000, 1000000, on_end, &e);
	int d;
	bool c;
	struct flow *fl[3];
	for (int i = 0; i < 3; i++) {
		struct ts_packet p = pkt("198.18.1.10", (uint16_t)(40000 + i), "198.19.1.1", 443,
					 TH_SYN, (uint64_t)(i + 1) * 1000);
		fl[i] = flow_lookup(ft, &p, &d, &c);
		flow_touch(ft, fl[i], p.ts_us);
	}
	/* flow 0 becomes active again: flow 1 is now the longest idle */
	struct ts_packet again = pkt("198.19.1.1", 443, "198.18.1.10", 40000, TH_ACK, 5000);
	assert_ptr_equal(flow_lookup(ft, &again, &d, &c), fl[0]);
	flow_touch(ft, fl[0], again.ts_us);
	uint64_t id1 = fl[1]->id;
	struct ts_packet n = pkt("198.18.1.10", 40009, "198.19.1.1", 443, TH_SYN, 6000);
	assert_non_null(flow_lookup(ft, &n, &d, &c));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_EVICTED);
	assert_int_equal(e.ids[0], id1);
	assert_int_equal(flow_table_stats(ft)->evicted, 1);
	assert_int_equal(flow_table_stats(ft)->active, 3);
	flow_table_flush(ft, FLOW_END_EOF);
	assert_int_equal(e.n, 4);
	flow_table_free(ft);
}

static void test_syn_on_closed_tuple_is_new_flow(void **state)
{
	struct ended e = { 0 };
	struct flow_table *ft = flow_table_new(10, SEED(7), 60000000, 5000000, on_end, &e);
	int d;
	bool c;
	struct ts_packet s = pkt("198.18.1.10", 40000, "198.19.1.1", 443, TH_SYN, 1);
	struct flow *f = flow_lookup(ft, &s, &d, &c);
	uint64_t first = f->id;
	/* a retransmitted SYN on an open flow stays in it */
	assert_ptr_equal(flow_lookup(ft, &s, &d, &c), f);
	assert_false(c);
	flow_mark_closing(ft, f);
	struct flow *g = flow_lookup(ft, &s, &d, &c);
	assert_true(c);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.why[0], FLOW_END_REUSED);
	assert_int_equal(e.ids[0], first);
	assert_int_not_equal(g->id, first);
	flow_table_flush(ft, FLOW_END_EOF);
	flow_table_free(ft);
}

static void test_many_flows_all_finalised(void **state)
{
	struct ended e = { 0 };
	struct flow_table *ft = flow_table_new(100000, SEED(99), 60000000, 1000000, on_end, &e);
	int d;
	bool c;
	for (int i = 0; i < 20000; i++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "198.18.%d.%d", (i >> 8) & 255, i & 255);
		struct ts_packet p = pkt(ip, (uint16_t)(1024 + i % 60000), "198.19.1.1", 443, TH_SYN, (uint64_t)i);
		assert_non_null(flow_lookup(ft, &p, &d, &c));
		assert_true(c);
	}
	assert_int_equal(flow_table_stats(ft)->active, 20000);
	flow_table_flush(ft, FLOW_END_EOF);
	assert_int_equal(e.n, 20000);
	assert_int_equal(flow_table_stats(ft)->active, 0);
	flow_table_free(ft);
}

/* ---- classify_tls through its memo ------------------------------------------------------------ */

/* A TLS flow from the lab's client to srv: its SYN through nDPI, then the
 * ClientHello's name; the protocols it ends with. */
static void classify_one(struct classify *c, const char *srv, const char *sni, uint16_t out[2])
{
	uint8_t frame[256];
	struct pb_tcp t = { .src = "198.18.0.1", .dst = srv, .sport = 40000, .dport = 443,
			    .seq = 1, .flags = PB_SYN, .win = 65535, .ttl = 64 };
	size_t n = pb_eth_tcp(frame, sizeof(frame), &t);
	struct ts_packet p;
	assert_int_equal(decode_frame(1 /* Ethernet */, frame, (uint32_t)n, (uint32_t)n, 1000000, NULL, &p),
			 DEC_OK);
	struct flow f;
	memset(&f, 0, sizeof(f));
	f.pkts[0] = 1;
	assert_false(classify_packet(c, &f, &p)); /* a SYN names nothing */
	assert_true(classify_tls(c, &f, sni, strlen(sni)));
	out[0] = f.app_proto;
	out[1] = f.app_master;
	classify_finish(c, &f);
}

/* A name asked again gets from the memo what a classifier asking it for the
 * first time gets from nDPI: names in nDPI's host list and not, towards an
 * address nDPI knows (Google's) and one it does not, each several times and
 * in an order where the same name comes with both addresses. */
static void test_classify_tls_memo(void **state)
{
	(void)state;
	const char *names[] = { "www.google.com", "lab-site.example", "github.com", "WWW.GOOGLE.COM",
				"a-name-longer-than-the-memo-keeps.sixty-four-bytes-and-more.example" };
	const char *srvs[] = { "142.250.74.78", "198.18.1.1" };
	enum { NN = sizeof(names) / sizeof(names[0]), NS = sizeof(srvs) / sizeof(srvs[0]) };
	uint16_t cold[NS][NN][2];
	for (int s = 0; s < NS; s++) {
		for (int k = 0; k < NN; k++) {
			struct classify *c = classify_new();
			assert_non_null(c);
			classify_one(c, srvs[s], names[k], cold[s][k]);
			classify_free(c);
		}
	}
	struct classify *warm = classify_new();
	assert_non_null(warm);
	for (int round = 0; round < 3; round++) {
		for (int k = 0; k < NN; k++) {
			for (int s = 0; s < NS; s++) {
				uint16_t w[2];
				classify_one(warm, srvs[s], names[k], w);
				assert_int_equal(w[0], cold[s][k][0]);
				assert_int_equal(w[1], cold[s][k][1]);
			}
		}
	}
	/* More names than the memo has slots, so they share slots: each still
	 * gets its own answer (every google.com name Google's, as the first
	 * one's cold answer; every other one the lab name's). */
	for (int i = 0; i < 1500; i++) {
		char name[64];
		uint16_t w[2];
		bool g = i % 2 == 0;
		snprintf(name, sizeof(name), g ? "h%04d.google.com" : "h%04d.example.eu", i); /* one length */
		classify_one(warm, srvs[1], name, w);
		assert_int_equal(w[0], cold[1][g ? 0 : 1][0]);
		assert_int_equal(w[1], cold[1][g ? 0 : 1][1]);
	}
	classify_free(warm);
	/* the cases differ, so one remembered answer could not pass for all */
	assert_true(cold[0][0][0] != cold[1][1][0] || cold[0][0][1] != cold[1][1][1]);
	assert_true(cold[0][1][0] != cold[1][1][0] || cold[0][1][1] != cold[1][1][1]); /* the address's guess */
	assert_true(cold[1][0][0] != cold[1][2][0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symmetric_hash_meets),
		cmocka_unit_test(test_seed_changes_hash),
		cmocka_unit_test(test_symmetry_does_not_collapse),
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_idle_expiry_on_packet_time),
		cmocka_unit_test(test_cap_evicts_longest_idle),
		cmocka_unit_test(test_syn_on_closed_tuple_is_new_flow),
		cmocka_unit_test(test_many_flows_all_finalised),
		cmocka_unit_test(test_classify_tls_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
