/* test_decode.c - unit tests of the frame decoder (decode.c) and the IPv4 defragmenter (defrag.c). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "decode.h"
#include "defrag.h"
#include "htab.h"
#include "pktbuild.h"

#define BUFSZ 70000

/* Compare results by name so a failure says which outcome it got. */
#define assert_dec(got, want) \
	assert_string_equal(decode_result_name(got), decode_result_name(want))

static const uint8_t hello[] = "GET / HTTP/1.1\r\nHost: kloop.kg\r\n\r\n";
#define HELLO_LEN (sizeof(hello) - 1)

static uint8_t *bigbuf(void)
{
	uint8_t *b = calloc(1, BUFSZ);

	assert_non_null(b);
	return b;
}

static struct pb_tcp tcp_default(const char *src, const char *dst)
{
	struct pb_tcp t = {
		.src = src, .dst = dst, .sport = 40000, .dport = 443,
		.seq = 0xfffffff0u, .ack = 2000, .flags = TH_PUSH | TH_ACK,
		.win = 502, .ttl = 57, .ipid = 0x1234,
		.payload = hello, .len = HELLO_LEN,
	};
	return t;
}

/* Decode from an exactly sized heap copy, so ASan sees any read past the
 * captured bytes. */
static enum decode_result dec_exact(int dlt, const uint8_t *f, size_t caplen,
				    size_t wirelen, struct defrag *df,
				    uint64_t ts, struct ts_packet *p)
{
	uint8_t *copy = malloc(caplen ? caplen : 1);
	enum decode_result r;

	assert_non_null(copy);
	memcpy(copy, f, caplen);
	r = decode_frame(dlt, copy, (uint32_t)caplen, (uint32_t)wirelen, ts, df,
			 p);
	/* The packet may point into the copy; callers only look at fields
	 * that are copied out, or use dec() below. */
	free(copy);
	return r;
}

static enum decode_result dec(int dlt, const uint8_t *f, size_t n,
			      struct ts_packet *p)
{
	return decode_frame(dlt, f, (uint32_t)n, (uint32_t)n, 1000, NULL, p);
}

static const char *addr(const struct ts_addr *a, char *buf)
{
	return ts_addr_str(a, buf, 46);
}

/* ---- whole frames ------------------------------------------------------- */

static void test_eth_tcp4_fields(void **state)
{
	uint8_t f[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	char a[46];
	size_t n = pb_eth_tcp(f, sizeof(f), &t);

	(void)state;
	assert_int_equal(n, 14 + 20 + 20 + HELLO_LEN);
	assert_dec(decode_frame(DLT_EN10MB, f, (uint32_t)n, (uint32_t)n,
				1234567, NULL, &p), DEC_OK);
	assert_int_equal(p.ts_us, 1234567);
	assert_int_equal(p.caplen, n);
	assert_int_equal(p.wirelen, n);
	assert_ptr_equal(p.l3, f + 14);
	assert_int_equal(p.l3_len, n - 14);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.ttl, 57);
	assert_int_equal(p.ip_id, 0x1234);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.tcp_flags, TH_PUSH | TH_ACK);
	assert_int_equal(p.defragmented, 0);
	assert_int_equal(p.payload_truncated, 0);
	assert_int_equal(p.src.v4, 1);
	assert_int_equal(p.dst.v4, 1);
	assert_string_equal(addr(&p.src, a), "198.18.0.1");
	assert_string_equal(addr(&p.dst, a), "198.18.0.2");
	assert_int_equal(p.src.a[10], 0xff);
	assert_int_equal(p.src.a[11], 0xff);
	assert_int_equal(p.src.a[0], 0);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.seq, 0xfffffff0u);
	assert_int_equal(p.ack, 2000);
	assert_int_equal(p.window, 502);
	assert_int_equal(p.tcp_opt_wscale, 0xff);
	assert_int_equal(p.payload_len, HELLO_LEN);
	assert_int_equal(p.payload_wire_len, HELLO_LEN);
	assert_ptr_equal(p.payload, f + 54);
	assert_memory_equal(p.payload, hello, HELLO_LEN);
}

static void test_eth_tcp6_fields(void **state)
{
	uint8_t f[256];
	struct pb_tcp t = tcp_default("2001:db8::1", "2001:db8:0:1::443");
	struct ts_packet p;
	char a[46];
	size_t n;

	(void)state;
	t.flags = TH_SYN;
	t.len = 0;
	t.ttl = 0; /* means 64 */
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_int_equal(n, 14 + 40 + 20);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.ip_id, 0);
	assert_int_equal(p.src.v4, 0);
	assert_string_equal(addr(&p.src, a), "2001:db8::1");
	assert_string_equal(addr(&p.dst, a), "2001:db8:0:1::443");
	assert_int_equal(p.tcp_flags, TH_SYN);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_wire_len, 0);
	assert_int_equal(p.l3_len, 60);
}

static void test_eth_udp(void **state)
{
	uint8_t f[256];
	struct ts_packet p;
	size_t n;

	(void)state;
	n = pb_eth_udp(f, sizeof(f), "198.18.0.1", "198.18.0.2", 5353, 53,
		       hello, 10);
	assert_int_equal(n, 14 + 20 + 8 + 10);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 10);
	assert_memory_equal(p.payload, hello, 10);
	assert_int_equal(p.tcp_opt_wscale, 0xff);

	n = pb_eth_udp(f, sizeof(f), "fe80::1", "ff02::fb", 5353, 5353, hello,
		       HELLO_LEN);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.payload_len, HELLO_LEN);
}

static void test_tcp_options(void **state)
{
	static const uint8_t good[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2 };
	static const uint8_t zero_len[] = { 1, 1, 5, 0, 3, 3, 9 };
	static const uint8_t overlong[] = { 3, 3, 6, 8, 30, 0, 0, 0 };
	static const uint8_t eol_first[] = { 0, 3, 3, 5 };
	uint8_t f[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n;

	(void)state;
	t.flags = TH_SYN;
	t.opts = good;
	t.opts_len = sizeof(good);
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.tcp_opt_wscale, 7);
	assert_int_equal(p.payload_len, HELLO_LEN);
	assert_memory_equal(p.payload, hello, HELLO_LEN);

	/* Broken option lists stop the walk but keep the segment; the
	 * window scale after a zero-length option is not believed. */
	t.opts = zero_len;
	t.opts_len = sizeof(zero_len);
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.tcp_opt_wscale, 0xff);
	assert_memory_equal(p.payload, hello, HELLO_LEN);

	t.opts = overlong;
	t.opts_len = sizeof(overlong);
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.tcp_opt_wscale, 6); /* seen before the bad one */
	assert_int_equal(p.payload_len, HELLO_LEN);

	t.opts = eol_first;
	t.opts_len = sizeof(eol_first);
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.tcp_opt_wscale, 0xff);
}

/* ---- link types ------------------------------------------------------- */

static void check_link(int dlt, const uint8_t *ip, size_t ip_len,
		       size_t want_hl)
{
	uint8_t f[512];
	struct ts_packet p;
	size_t n = pb_link_wrap(f, sizeof(f), dlt, ip, ip_len);

	assert_int_equal(n, ip_len + want_hl);
	assert_true(decode_linktype_supported(dlt));
	assert_dec(dec(dlt, f, n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + want_hl);
	assert_int_equal(p.l3_len, ip_len);
	assert_int_equal(p.ip_version, ip[0] >> 4);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.payload_len, HELLO_LEN);
	/* One byte short of the link header is truncation, not an error. */
	if (want_hl)
		assert_dec(dec(dlt, f, want_hl - 1, &p), DEC_TRUNC_LINK);
	else
		assert_dec(dec(dlt, f, 0, &p), DEC_TRUNC_IP);
}

static void test_link_types(void **state)
{
	static const struct { int dlt; size_t hl; } links[] = {
		{ DLT_EN10MB, 14 }, { DLT_LINUX_SLL, 16 },
		{ DLT_LINUX_SLL2, 20 }, { DLT_RAW, 0 }, { 101, 0 },
		{ DLT_IPV4, 0 }, { DLT_IPV6, 0 }, { DLT_NULL, 4 },
		{ DLT_LOOP, 4 },
	};
	uint8_t ip4[256], ip6[256];
	struct pb_tcp t4 = tcp_default("198.18.0.1", "198.18.0.2");
	struct pb_tcp t6 = tcp_default("2001:db8::1", "2001:db8::2");
	size_t n4 = pb_ip_tcp(ip4, sizeof(ip4), &t4);
	size_t n6 = pb_ip_tcp(ip6, sizeof(ip6), &t6);

	(void)state;
	assert_int_equal(n4, 20 + 20 + HELLO_LEN);
	assert_int_equal(n6, 40 + 20 + HELLO_LEN);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		check_link(links[i].dlt, ip4, n4, links[i].hl);
		check_link(links[i].dlt, ip6, n6, links[i].hl);
	}
}

static void test_bad_linktype(void **state)
{
	uint8_t f[128];
	struct ts_packet p;
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	size_t n = pb_eth_tcp(f, sizeof(f), &t);

	(void)state;
	assert_false(decode_linktype_supported(DLT_USER0));
	assert_false(decode_linktype_supported(DLT_IEEE802_11));
	assert_false(decode_linktype_supported(-1));
	assert_dec(dec(DLT_USER0, f, n, &p), DEC_BAD_LINKTYPE);
	assert_dec(dec(DLT_IEEE802_11_RADIO, f, n, &p), DEC_BAD_LINKTYPE);
	assert_dec(dec(-5, f, n, &p), DEC_BAD_LINKTYPE);
}

/* BSD loopback: DLT_NULL in either byte order, DLT_LOOP big-endian. */
static void test_loopback_families(void **state)
{
	static const uint32_t v6fam[] = { 24, 28, 30 };
	uint8_t ip4[128], ip6[128], f[256];
	struct pb_tcp t4 = tcp_default("127.0.0.1", "127.0.0.1");
	struct pb_tcp t6 = tcp_default("::1", "::1");
	size_t n4 = pb_ip_tcp(ip4, sizeof(ip4), &t4);
	size_t n6 = pb_ip_tcp(ip6, sizeof(ip6), &t6);
	struct ts_packet p;

	(void)state;
	memcpy(f + 4, ip4, n4);
	memcpy(f, "\x02\x00\x00\x00", 4);  /* little-endian writer */
	assert_dec(dec(DLT_NULL, f, n4 + 4, &p), DEC_OK);
	assert_int_equal(p.ip_version, 4);
	memcpy(f, "\x00\x00\x00\x02", 4);  /* big-endian writer */
	assert_dec(dec(DLT_NULL, f, n4 + 4, &p), DEC_OK);
	assert_dec(dec(DLT_LOOP, f, n4 + 4, &p), DEC_OK);
	memcpy(f, "\x02\x00\x00\x00", 4);
	assert_dec(dec(DLT_LOOP, f, n4 + 4, &p), DEC_SKIP_NOT_IP);
	memcpy(f, "\x07\x00\x00\x00", 4);  /* AF_IMPLINK */
	assert_dec(dec(DLT_NULL, f, n4 + 4, &p), DEC_SKIP_NOT_IP);

	memcpy(f + 4, ip6, n6);
	for (size_t i = 0; i < 3; i++) {
		uint8_t le[4] = { (uint8_t)v6fam[i], 0, 0, 0 };
		uint8_t be[4] = { 0, 0, 0, (uint8_t)v6fam[i] };

		memcpy(f, le, 4);
		assert_dec(dec(DLT_NULL, f, n6 + 4, &p), DEC_OK);
		assert_int_equal(p.ip_version, 6);
		memcpy(f, be, 4);
		assert_dec(dec(DLT_NULL, f, n6 + 4, &p), DEC_OK);
		assert_dec(dec(DLT_LOOP, f, n6 + 4, &p), DEC_OK);
		assert_int_equal(p.ip_version, 6);
	}
	/* A family that says IPv4 in front of an IPv6 packet. */
	memcpy(f, "\x02\x00\x00\x00", 4);
	assert_dec(dec(DLT_NULL, f, n6 + 4, &p), DEC_BAD_IP_VERSION);
}

static void test_ip_version_mismatch(void **state)
{
	uint8_t f[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_eth_tcp(f, sizeof(f), &t);

	(void)state;
	f[12] = 0x86; /* EtherType IPv6, IPv4 packet */
	f[13] = 0xdd;
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP_VERSION);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x55; /* version 5 */
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_BAD_IP_VERSION);
	assert_dec(dec(DLT_RAW, f + 14, n - 14, &p), DEC_BAD_IP_VERSION);
	f[14] = 0x05; /* version 0 */
	assert_dec(dec(DLT_IPV4, f + 14, n - 14, &p), DEC_BAD_IP_VERSION);
}

static void test_not_ip(void **state)
{
	uint8_t f[64];
	struct ts_packet p;

	(void)state;
	memset(f, 0, sizeof(f));
	f[12] = 0x08; /* ARP */
	f[13] = 0x06;
	assert_dec(dec(DLT_EN10MB, f, 60, &p), DEC_SKIP_NOT_IP);
	f[12] = 0x00; /* 802.3 length field */
	f[13] = 0x2e;
	assert_dec(dec(DLT_EN10MB, f, 60, &p), DEC_SKIP_NOT_IP);
	f[12] = 0x88; /* LLDP */
	f[13] = 0xcc;
	assert_dec(dec(DLT_EN10MB, f, 60, &p), DEC_SKIP_NOT_IP);
	/* Linux cooked with ARP protocol. */
	f[14] = 0x08;
	f[15] = 0x06;
	assert_dec(dec(DLT_LINUX_SLL, f, 60, &p), DEC_SKIP_NOT_IP);
}

/* ---- VLAN, PPPoE, MPLS -------------------------------------------------- */

static void test_vlan_qinq(void **state)
{
	uint8_t f[512];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_eth_tcp(f, sizeof(f), &t);

	(void)state;
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_8021Q, 100);
	assert_int_equal(n, 18 + 40 + HELLO_LEN);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + 18);
	assert_memory_equal(p.payload, hello, HELLO_LEN);

	/* QinQ: 802.1ad outer, 802.1Q inner. */
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_8021AD, 200);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + 22);
	assert_int_equal(p.dport, 443);

	/* Old-style 0x9100 outer tag, four tags in all: still decoded. */
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_QINQ_OLD, 300);
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_QINQ_OLD, 301);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + 30);

	/* A fifth tag is beyond the bound. */
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_8021Q, 5);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_SKIP_NOT_IP);

	/* Cut inside the tags: truncated VLAN. */
	assert_dec(dec(DLT_EN10MB, f, 15, &p), DEC_TRUNC_VLAN);
	assert_dec(dec(DLT_EN10MB, f, 17, &p), DEC_TRUNC_VLAN);
	assert_dec(dec(DLT_EN10MB, f, 27, &p), DEC_TRUNC_VLAN);

	/* A VLAN tag inside Linux cooked capture. */
	n = pb_eth_tcp(f, sizeof(f), &t);
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_8021Q, 7);
	{
		uint8_t g[512];

		memset(g, 0, 14);
		memcpy(g + 14, f + 12, n - 12);
		assert_dec(dec(DLT_LINUX_SLL, g, n + 2, &p), DEC_OK);
		assert_ptr_equal(p.l3, g + 20);
	}
}

static void test_pppoe_mpls(void **state)
{
	uint8_t ip[256], f[512];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct pb_tcp t6 = tcp_default("2001:db8::1", "2001:db8::2");
	struct ts_packet p;
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t);

	(void)state;
	/* PPPoE session: 0x8864, ver/type, code, session, length, PPP proto */
	memset(f, 0, 12);
	memcpy(f + 12, "\x88\x64\x11\x00\x00\x01\x00\x00\x00\x21", 10);
	memcpy(f + 22, ip, n);
	assert_dec(dec(DLT_EN10MB, f, 22 + n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + 22);
	assert_dec(dec(DLT_EN10MB, f, 21, &p), DEC_TRUNC_LINK);
	f[21] = 0x57; /* PPP says IPv6, packet is IPv4 */
	assert_dec(dec(DLT_EN10MB, f, 22 + n, &p), DEC_BAD_IP_VERSION);
	f[20] = 0xc0; /* LCP */
	f[21] = 0x21;
	assert_dec(dec(DLT_EN10MB, f, 22 + n, &p), DEC_SKIP_NOT_IP);

	/* MPLS: two labels, bottom of stack on the second. */
	memcpy(f + 12, "\x88\x47\x00\x01\x00\x40\x00\x02\x01\x40", 10);
	memcpy(f + 22, ip, n);
	assert_dec(dec(DLT_EN10MB, f, 22 + n, &p), DEC_OK);
	assert_ptr_equal(p.l3, f + 22);
	assert_dec(dec(DLT_EN10MB, f, 20, &p), DEC_TRUNC_LINK);
	n = pb_ip_tcp(ip, sizeof(ip), &t6);
	memcpy(f + 22, ip, n);
	assert_dec(dec(DLT_EN10MB, f, 22 + n, &p), DEC_OK);
	assert_int_equal(p.ip_version, 6);
	/* Labels without a bottom of stack run into the bound. */
	for (size_t i = 0; i < 9; i++)
		memcpy(f + 14 + 4 * i, "\x00\x01\x00\x40", 4);
	assert_dec(dec(DLT_EN10MB, f, 14 + 36 + 20, &p), DEC_SKIP_NOT_IP);
}

/* ---- IPv4 header checks ------------------------------------------------- */

static void test_ipv4_options(void **state)
{
	static const uint8_t rr[] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t ip[256], opt40[40], f[512];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t), m;

	(void)state;
	m = pb_ipv4_add_options(ip, sizeof(ip), n, rr, sizeof(rr));
	assert_int_equal(m, n + 12);
	n = pb_eth_wrap(f, sizeof(f), ip, m);
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.l3_len, m);
	assert_int_equal(p.sport, 40000);
	assert_memory_equal(p.payload, hello, HELLO_LEN);

	/* The largest header: 40 option bytes. */
	n = pb_ip_tcp(ip, sizeof(ip), &t);
	memset(opt40, 1, sizeof(opt40)); /* NOPs */
	m = pb_ipv4_add_options(ip, sizeof(ip), n, opt40, sizeof(opt40));
	assert_int_equal(ip[0], 0x4f);
	assert_dec(dec(DLT_RAW, ip, m, &p), DEC_OK);
	assert_memory_equal(p.payload, hello, HELLO_LEN);
	/* Cut inside the options: truncated IP. */
	assert_dec(dec(DLT_RAW, ip, 59, &p), DEC_TRUNC_IP);
}

static void test_ipv4_malformed(void **state)
{
	uint8_t ip[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t);

	(void)state;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		ip[0] = (uint8_t)(0x40 | ihl);
		assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_IP_HLEN);
	}
	ip[0] = 0x45;
	/* Total length below the header length. */
	ip[2] = 0;
	ip[3] = 10;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_IP_LEN);
	ip[3] = 19;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_IP_LEN);
	ip[3] = 0;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_IP_LEN);
	/* IHL 6 with total length 20. */
	ip[0] = 0x46;
	ip[3] = 20;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_IP_LEN);
	/* Total length that leaves no room for a TCP header. */
	ip[0] = 0x45;
	ip[3] = 30;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_TCP_HLEN);
	/* Other protocols are skipped, not errors. */
	ip[3] = (uint8_t)n;
	ip[9] = 1; /* ICMP */
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_SKIP_PROTO);
	ip[9] = 50; /* ESP */
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_SKIP_PROTO);
}

/* A header claiming more than was captured: decoded as far as it goes. */
static void test_ipv4_claims_more(void **state)
{
	uint8_t ip[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t);

	(void)state;
	ip[3] = (uint8_t)(n + 100);
	assert_dec(dec_exact(DLT_RAW, ip, n, n + 100, NULL, 0, &p), DEC_OK);
	assert_int_equal(p.payload_truncated, 1);
	assert_int_equal(p.payload_len, HELLO_LEN);
	assert_int_equal(p.payload_wire_len, HELLO_LEN + 100);
	assert_int_equal(p.l3_len, n);
}

static void test_ethernet_padding(void **state)
{
	uint8_t f[128];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n;

	(void)state;
	t.flags = TH_ACK;
	t.len = 0;
	n = pb_eth_tcp(f, sizeof(f), &t);
	assert_int_equal(n, 54);
	memset(f + n, 0xa5, 6); /* padding to the 60-byte minimum */
	assert_dec(dec_exact(DLT_EN10MB, f, 60, 60, NULL, 0, &p), DEC_OK);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_wire_len, 0);
	assert_int_equal(p.payload_truncated, 0);
	assert_int_equal(p.l3_len, 40);

	n = pb_eth_udp(f, sizeof(f), "198.18.0.1", "198.18.0.2", 1, 2, hello,
		       4);
	memset(f + n, 0xa5, 60 - n);
	assert_dec(dec(DLT_EN10MB, f, 60, &p), DEC_OK);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.l3_len, 32);

	/* IPv6 too: payload length bounds the datagram. */
	{
		struct pb_tcp t6 = tcp_default("2001:db8::1", "2001:db8::2");
		uint8_t g[128];

		t6.len = 2;
		n = pb_eth_tcp(g, sizeof(g), &t6);
		memset(g + n, 0xee, 8);
		assert_dec(dec(DLT_EN10MB, g, n + 8, &p), DEC_OK);
		assert_int_equal(p.payload_len, 2);
		assert_int_equal(p.l3_len, 62);
	}
}

/* ---- transport checks --------------------------------------------------- */

static void test_tcp_bad_offset(void **state)
{
	uint8_t ip[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	struct ts_packet p;
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t);

	(void)state;
	for (uint8_t off = 0; off < 5; off++) {
		ip[32] = (uint8_t)(off << 4);
		assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_TCP_HLEN);
	}
	/* Data offset beyond the segment the IP header carries. */
	t.len = 0;
	n = pb_ip_tcp(ip, sizeof(ip), &t);
	ip[32] = 0xf0;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_TCP_HLEN);
	/* ... but within it and beyond the capture: truncated. */
	t.len = 60;
	t.payload = (const uint8_t *)
		"0123456789012345678901234567890123456789012345678901234567890";
	n = pb_ip_tcp(ip, sizeof(ip), &t);
	ip[32] = 0xf0;
	assert_dec(dec_exact(DLT_RAW, ip, 50, n, NULL, 0, &p), DEC_TRUNC_TCP);
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_OK);
	assert_int_equal(p.payload_len, 20);
}

static void test_udp_lengths(void **state)
{
	uint8_t ip[256];
	struct ts_packet p;
	size_t n = pb_ip_udp(ip, sizeof(ip), "198.18.0.1", "198.18.0.2", 7, 9,
			     hello, 16);

	(void)state;
	assert_int_equal(n, 44);
	ip[25] = 7; /* UDP length below its own header */
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_UDP_LEN);
	ip[25] = 0;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_UDP_LEN);
	ip[25] = 25; /* beyond what IP carries */
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_UDP_LEN);
	ip[25] = 12; /* shorter than IP carries: UDP length wins */
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_OK);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.payload_wire_len, 4);
	assert_int_equal(p.payload_truncated, 0);
	ip[25] = 24;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_OK);
	assert_int_equal(p.payload_len, 16);
	/* IP carrying fewer bytes than a UDP header. */
	ip[3] = 26;
	assert_dec(dec(DLT_RAW, ip, n, &p), DEC_BAD_UDP_LEN);
	/* Captured fewer than the header, IP says enough: truncated. */
	ip[3] = 44;
	assert_dec(dec_exact(DLT_RAW, ip, 25, n, NULL, 0, &p), DEC_TRUNC_UDP);
	assert_dec(dec_exact(DLT_RAW, ip, 30, n, NULL, 0, &p), DEC_OK);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(p.payload_wire_len, 16);
	assert_int_equal(p.payload_truncated, 1);
}

/* ---- truncation at every offset ------------------------------------------ */

/* Cut a valid frame at every length: the result is always a truncation
 * code, or OK with payload_truncated once all headers are present.
 * bounds[] gives the first length at which each stage's result applies. */
struct cut_stage {
	size_t from;
	enum decode_result want;
};

static void cut_everywhere(int dlt, const uint8_t *f, size_t n,
			   const struct cut_stage *st, size_t nst,
			   size_t hdr_end)
{
	struct ts_packet p;

	for (size_t cut = 0; cut < n; cut++) {
		enum decode_result r, want = DEC_OK;

		for (size_t i = 0; i < nst; i++)
			if (cut >= st[i].from)
				want = st[i].want;
		r = dec_exact(dlt, f, cut, n, NULL, 0, &p);
		assert_dec(r, want);
		if (r == DEC_OK) {
			assert_true(cut >= hdr_end);
			assert_int_equal(p.payload_truncated, 1);
			assert_int_equal(p.payload_len, cut - hdr_end);
			assert_int_equal(p.payload_wire_len, n - hdr_end);
		} else {
			assert_true(decode_result_is_truncation(r));
		}
	}
	assert_dec(dec(dlt, f, n, &p), DEC_OK);
	assert_int_equal(p.payload_truncated, 0);
}

static void test_truncate_tcp4_every_offset(void **state)
{
	static const struct cut_stage st[] = {
		{ 0, DEC_TRUNC_LINK }, { 14, DEC_TRUNC_IP },
		{ 34, DEC_TRUNC_TCP }, { 58, DEC_OK },
	};
	static const uint8_t ws[] = { 1, 3, 3, 8 };
	uint8_t f[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	size_t n;

	(void)state;
	t.opts = ws;
	t.opts_len = sizeof(ws);
	n = pb_eth_tcp(f, sizeof(f), &t);
	cut_everywhere(DLT_EN10MB, f, n, st, 4, 58);
}

static void test_truncate_tcp6_ext_vlan_every_offset(void **state)
{
	static const struct cut_stage st[] = {
		{ 0, DEC_TRUNC_LINK }, { 14, DEC_TRUNC_VLAN },
		{ 18, DEC_TRUNC_IP }, { 58, DEC_TRUNC_IPV6_EXT },
		{ 82, DEC_TRUNC_TCP }, { 102, DEC_OK },
	};
	uint8_t ip[256], f[256];
	struct pb_tcp t = tcp_default("2001:db8::1", "2001:db8::2");
	size_t n = pb_ip_tcp(ip, sizeof(ip), &t);

	(void)state;
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 16);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 0, 8);
	n = pb_eth_wrap(f, sizeof(f), ip, n);
	n = pb_vlan_insert(f, sizeof(f), n, PB_TPID_8021Q, 42);
	assert_int_equal(n, 102 + HELLO_LEN);
	cut_everywhere(DLT_EN10MB, f, n, st, 6, 102);
}

static void test_truncate_udp_sll2_every_offset(void **state)
{
	static const struct cut_stage st[] = {
		{ 0, DEC_TRUNC_LINK }, { 20, DEC_TRUNC_IP },
		{ 40, DEC_TRUNC_UDP }, { 48, DEC_OK },
	};
	uint8_t ip[128], f[256];
	size_t n = pb_ip_udp(ip, sizeof(ip), "198.18.0.1", "198.18.0.2", 1, 2,
			     hello, 12);

	(void)state;
	n = pb_link_wrap(f, sizeof(f), DLT_LINUX_SLL2, ip, n);
	cut_everywhere(DLT_LINUX_SLL2, f, n, st, 4, 48);
}

/* ---- IPv6 extension headers -------------------------------------------- */

static size_t ip6_tcp(uint8_t *ip, size_t cap)
{
	struct pb_tcp t = tcp_default("2001:db8::1", "2001:db8::2");

	return pb_ip_tcp(ip, cap, &t);
}

static void test_ipv6_ext_chain(void **state)
{
	uint8_t ip[1024];
	struct ts_packet p;
	size_t n = ip6_tcp(ip, sizeof(ip));

	(void)state;
	/* Inserted innermost first: HBH, routing, dest opts, AH, atomic
	 * fragment, dest opts, TCP. */
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 24);
	n = pb_ipv6_add_frag(ip, sizeof(ip), n, 0, 0, 0xabcdef);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 51, 24);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 8);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 43, 16);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 0, 8);
	assert_int_equal(n, 40 + 24 + 8 + 24 + 8 + 16 + 8 + 20 + HELLO_LEN);
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_OK);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.l3_len, n);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.payload_len, HELLO_LEN);
	assert_memory_equal(p.payload, hello, HELLO_LEN);
}

static void test_ipv6_ext_limit(void **state)
{
	uint8_t ip[1024];
	struct ts_packet p;
	size_t n = ip6_tcp(ip, sizeof(ip));

	(void)state;
	for (int i = 0; i < 8; i++)
		n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 8);
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_OK);
	assert_memory_equal(p.payload, hello, HELLO_LEN);
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 8);
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_IPV6_EXT);
	/* Many more, up to a whole jumbo-sized chain: still bounded. */
	for (int i = 0; i < 50; i++)
		n = pb_ipv6_add_ext(ip, sizeof(ip), n, 0, 8);
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_IPV6_EXT);
}

static void test_ipv6_ext_malformed(void **state)
{
	uint8_t ip[512];
	struct ts_packet p;
	size_t n = ip6_tcp(ip, sizeof(ip)), base;

	(void)state;
	base = n;
	n = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 16);
	/* Extension header longer than the payload length says. */
	ip[41] = 200;
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_IPV6_EXT);
	/* Longer than captured, payload length agrees: truncated. */
	ip[41] = 1;
	assert_dec(dec_exact(DLT_IPV6, ip, 50, n, NULL, 0, &p),
		   DEC_TRUNC_IPV6_EXT);
	assert_dec(dec_exact(DLT_IPV6, ip, 41, n, NULL, 0, &p),
		   DEC_TRUNC_IPV6_EXT);
	/* Payload length too short to hold even the ext header. */
	ip[4] = 0;
	ip[5] = 1;
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_IPV6_EXT);
	ip[5] = 0;
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_IPV6_EXT);
	/* Payload length 0 straight to TCP: no room for the header. */
	n = ip6_tcp(ip, sizeof(ip));
	ip[5] = 0;
	assert_dec(dec(DLT_IPV6, ip, n, &p), DEC_BAD_TCP_HLEN);
	assert_int_equal(base, n);
	/* Header itself cut. */
	assert_dec(dec(DLT_IPV6, ip, 39, &p), DEC_TRUNC_IP);
}

static void test_ipv6_skips(void **state)
{
	uint8_t ip[512];
	struct ts_packet p;
	size_t n = ip6_tcp(ip, sizeof(ip)), m;

	(void)state;
	/* No next header. */
	m = pb_ipv6_add_ext(ip, sizeof(ip), n, 60, 8);
	ip[40] = 59;
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	ip[6] = 59;
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	/* ICMPv6, ESP. */
	ip[6] = 58;
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	ip[6] = 50;
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	/* Real IPv6 fragments are not reassembled. */
	n = ip6_tcp(ip, sizeof(ip));
	m = pb_ipv6_add_frag(ip, sizeof(ip), n, 0, 1, 7);
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	n = ip6_tcp(ip, sizeof(ip));
	m = pb_ipv6_add_frag(ip, sizeof(ip), n, 100, 0, 7);
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_SKIP_PROTO);
	/* Atomic fragment: decoded. */
	n = ip6_tcp(ip, sizeof(ip));
	m = pb_ipv6_add_frag(ip, sizeof(ip), n, 0, 0, 7);
	assert_dec(dec(DLT_IPV6, ip, m, &p), DEC_OK);
	assert_int_equal(p.payload_len, HELLO_LEN);
}

static void test_ipv6_claims_more(void **state)
{
	uint8_t ip[256];
	struct ts_packet p;
	size_t n = ip6_tcp(ip, sizeof(ip));

	(void)state;
	ip[5] = (uint8_t)(ip[5] + 100);
	assert_dec(dec_exact(DLT_IPV6, ip, n, n + 100, NULL, 0, &p), DEC_OK);
	assert_int_equal(p.payload_truncated, 1);
	assert_int_equal(p.payload_wire_len, HELLO_LEN + 100);
	assert_int_equal(p.payload_len, HELLO_LEN);
}

/* ---- names and addresses ------------------------------------------------ */

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(decode_result_name(DEC_OK), "ok");
	assert_string_equal(decode_result_name(DEC_TRUNC_IP), "truncated_ip");
	assert_string_equal(decode_result_name(DEC_BAD_TCP_HLEN),
			    "bad_tcp_hlen");
	assert_string_equal(decode_result_name(DEC__COUNT), "unknown");
	assert_string_equal(decode_result_name((enum decode_result)-1),
			    "unknown");
	for (int i = 0; i < DEC__COUNT; i++) {
		const char *a = decode_result_name((enum decode_result)i);

		assert_string_not_equal(a, "unknown");
		for (const char *c = a; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') ||
				    (*c >= '0' && *c <= '9') || *c == '_');
		for (int j = 0; j < i; j++)
			assert_string_not_equal(
				a, decode_result_name((enum decode_result)j));
		assert_int_equal(decode_result_is_truncation((enum decode_result)i),
				 strncmp(a, "truncated_", 10) == 0);
	}
	assert_false(decode_result_is_truncation(DEC_BAD_IP_LEN));
	assert_true(decode_result_is_truncation(DEC_TRUNC_IPV6_EXT));
}

static void test_addr_str(void **state)
{
	struct ts_addr a;
	char buf[46], small[4];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.a[10] = a.a[11] = 0xff;
	a.a[12] = 10;
	a.a[15] = 1;
	a.v4 = 1;
	assert_string_equal(ts_addr_str(&a, buf, sizeof(buf)), "10.0.0.1");
	a.v4 = 0;
	assert_string_equal(ts_addr_str(&a, buf, sizeof(buf)), "::ffff:10.0.0.1");
	memset(&a, 0xff, sizeof(a.a));
	assert_string_equal(ts_addr_str(&a, buf, sizeof(buf)),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(strlen(buf), 39);
	assert_string_equal(ts_addr_str(&a, small, sizeof(small)), "");
	assert_string_equal(ts_addr_str(&a, small, 0), "");
}

/* ---- defragmentation ---------------------------------------------------- */

/* Results never depend on the hash seed; a fixed one keeps runs alike. */
static const struct hseed SEED = { { 0x5eed, 0xf4a9 } };

/* A TCP/IPv4 datagram with `plen` payload bytes of a known pattern. */
static size_t big_tcp4(uint8_t *ip, size_t cap, size_t plen, uint16_t ipid)
{
	uint8_t *pl = malloc(plen ? plen : 1);
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	size_t n;

	assert_non_null(pl);
	for (size_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)(i * 7 + 3);
	t.payload = pl;
	t.len = plen;
	t.ipid = ipid;
	n = pb_ip_tcp(ip, cap, &t);
	free(pl);
	assert_int_not_equal(n, 0);
	return n;
}

/* Ethernet frame of one fragment of `ip`. */
static size_t frag_frame(uint8_t *f, size_t cap, const uint8_t *ip,
			 size_t len, size_t off, size_t flen, int more)
{
	size_t n = pb_ipv4_fragment(f + 14, cap - 14, ip, len, off, flen, more);

	assert_int_not_equal(n, 0);
	return pb_eth_wrap(f, cap, f + 14, n);
}

static enum decode_result feed(struct defrag *df, const uint8_t *ip,
			       size_t len, size_t off, size_t flen, int more,
			       uint64_t ts, struct ts_packet *p)
{
	uint8_t f[2048];
	size_t n = frag_frame(f, sizeof(f), ip, len, off, flen, more);

	return dec_exact(DLT_EN10MB, f, n, n, df, ts, p);
}

static uint16_t hdr_sum(const uint8_t *h, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The decoded packet is the whole original datagram. */
static void check_whole(const struct ts_packet *p, const uint8_t *ip,
			size_t len)
{
	size_t hl = (size_t)(ip[0] & 0x0f) * 4;

	assert_int_equal(p->defragmented, 1);
	assert_int_equal(p->ip_version, 4);
	assert_int_equal(p->l3_len, len);
	assert_int_equal(p->l3[2] << 8 | p->l3[3], len);
	assert_int_equal(p->l3[6] & 0x3f, 0); /* MF and offset clear */
	assert_int_equal(p->l3[7], 0);
	assert_int_equal(hdr_sum(p->l3, hl), 0xffff);
	assert_memory_equal(p->l3 + hl, ip + hl, len - hl);
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->payload_len, len - hl - 20);
	assert_int_equal(p->payload_truncated, 0);
	assert_memory_equal(p->payload, ip + hl + 20, len - hl - 20);
}

static void test_defrag_in_order(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(16, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 3000, 77);
	const struct defrag_stats *st;

	(void)state;
	assert_non_null(df);
	assert_dec(feed(df, ip, n, 0, 1480, 1, 10, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 1480, 1480, 1, 11, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 2960, n - 20 - 2960, 0, 12, &p), DEC_OK);
	check_whole(&p, ip, n);
	assert_int_equal(p.ip_id, 77);
	assert_int_equal(p.ts_us, 12);
	st = defrag_stats(df);
	assert_int_equal(st->fragments, 3);
	assert_int_equal(st->reassembled, 1);
	assert_int_equal(st->bad, 0);
	/* A leftover duplicate after completion starts a new partial one. */
	assert_dec(feed(df, ip, n, 0, 1480, 1, 13, &p), DEC_FRAG_HELD);
	defrag_free(df);
	free(ip);
}

static void test_defrag_out_of_order_dup(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(16, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 4000, 78);

	(void)state;
	/* Last, then a middle piece twice, then overlapping equal bytes,
	 * then the first. */
	assert_dec(feed(df, ip, n, 3200, n - 20 - 3200, 0, 1, &p),
		   DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 1600, 800, 1, 2, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 1600, 800, 1, 3, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 800, 1600, 1, 4, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 2400, 800, 1, 5, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 0, 1600, 1, 6, &p), DEC_OK);
	check_whole(&p, ip, n);
	assert_int_equal(defrag_stats(df)->bad, 0);
	assert_int_equal(defrag_stats(df)->reassembled, 1);
	defrag_free(df);
	free(ip);
}

static void test_defrag_udp_and_options(void **state)
{
	uint8_t ip[2048], pl[1000];
	static const uint8_t opt[] = { 0x94, 4, 0, 0 }; /* router alert */
	struct defrag *df = defrag_new(4, 1000000, &SEED);
	struct ts_packet p;
	size_t n;

	(void)state;
	memset(pl, 0x5a, sizeof(pl));
	n = pb_ip_udp(ip, sizeof(ip), "198.18.0.9", "198.18.0.10", 4500,
		      4500, pl, sizeof(pl));
	n = pb_ipv4_add_options(ip, sizeof(ip), n, opt, sizeof(opt));
	assert_int_equal(n, 24 + 8 + 1000);
	assert_dec(feed(df, ip, n, 512, n - 24 - 512, 0, 1, &p),
		   DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 0, 512, 1, 2, &p), DEC_OK);
	assert_int_equal(p.defragmented, 1);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.l3[0], 0x46); /* header of the first fragment */
	assert_int_equal(p.payload_len, 1000);
	assert_memory_equal(p.payload, pl, 1000);
	defrag_free(df);
}

static void test_defrag_overlap_differs(void **state)
{
	uint8_t *ip = bigbuf();
	uint8_t f[2048];
	struct defrag *df = defrag_new(16, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 2000, 79), m;

	(void)state;
	assert_dec(feed(df, ip, n, 0, 1000, 1, 1, &p), DEC_FRAG_HELD);
	/* Overlaps [800, 1000) with one byte changed. */
	m = frag_frame(f, sizeof(f), ip, n, 800, 400, 1);
	f[14 + 20 + 150] ^= 0x01;
	assert_dec(dec_exact(DLT_EN10MB, f, m, m, df, 2, &p), DEC_BAD_FRAG);
	assert_int_equal(defrag_stats(df)->bad, 1);
	/* The datagram is gone: the rest does not complete it. */
	assert_dec(feed(df, ip, n, 1000, n - 20 - 1000, 0, 3, &p),
		   DEC_FRAG_HELD);
	assert_int_equal(defrag_stats(df)->reassembled, 0);

	/* A changed byte outside the overlap is not an overlap conflict. */
	m = frag_frame(f, sizeof(f), ip, n, 800, 400, 1);
	f[14 + 20 + 100] ^= 0x01;
	assert_dec(dec_exact(DLT_EN10MB, f, m, m, df, 4, &p), DEC_FRAG_HELD);
	assert_int_equal(defrag_stats(df)->bad, 1);
	defrag_free(df);
	free(ip);
}

static void test_defrag_inconsistent(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(16, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 2000, 80);

	(void)state;
	/* Non-final fragment whose length is not a multiple of 8. */
	assert_dec(feed(df, ip, n, 0, 1001, 1, 1, &p), DEC_BAD_FRAG);
	/* Two different final lengths. */
	assert_dec(feed(df, ip, n, 1600, 400, 0, 2, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 1600, 408, 0, 3, &p), DEC_BAD_FRAG);
	/* Data held beyond a later final fragment's end. */
	assert_dec(feed(df, ip, n, 1600, 400, 1, 4, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 800, 400, 0, 5, &p), DEC_BAD_FRAG);
	/* Data beyond a known end. */
	assert_dec(feed(df, ip, n, 800, 400, 0, 6, &p), DEC_FRAG_HELD);
	assert_dec(feed(df, ip, n, 1600, 400, 1, 7, &p), DEC_BAD_FRAG);
	assert_int_equal(defrag_stats(df)->bad, 4);
	/* Garbage handed straight to the defragmenter. */
	{
		const uint8_t *out = NULL;
		uint32_t out_len = 0;
		uint8_t junk[40] = { 0x45, 0, 0, 41 };

		assert_dec(defrag_add(df, junk, 40, 8, &out, &out_len),
			   DEC_BAD_FRAG);
		junk[0] = 0x44;
		junk[3] = 40;
		assert_dec(defrag_add(df, junk, 40, 8, &out, &out_len),
			   DEC_BAD_FRAG);
		assert_dec(defrag_add(df, junk, 3, 8, &out, &out_len),
			   DEC_BAD_FRAG);
		assert_int_equal(defrag_stats(df)->bad, 7);
	}
	defrag_free(df);
	free(ip);
}

/* Ping of death: a fragment ending past 65535 bytes. */
static void test_defrag_oversized(void **state)
{
	uint8_t *ip = bigbuf();
	uint8_t f[256];
	struct defrag *df = defrag_new(16, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 200, 81), m;

	(void)state;
	m = frag_frame(f, sizeof(f), ip, n, 0, 48, 1);
	f[14 + 6] = 0x20 | 0x1f; /* offset 8189 * 8 = 65512 */
	f[14 + 7] = 0xfd;
	assert_dec(dec_exact(DLT_EN10MB, f, m, m, df, 1, &p), DEC_BAD_FRAG);
	f[14 + 6] = 0x1f;        /* same, as the final fragment */
	assert_dec(dec_exact(DLT_EN10MB, f, m, m, df, 1, &p), DEC_BAD_FRAG);
	assert_int_equal(defrag_stats(df)->bad, 2);

	/* The largest legal datagram still reassembles. */
	n = big_tcp4(ip, BUFSZ, 65535 - 40, 82);
	for (size_t off = 0; off < n - 20; off += 1480) {
		size_t len = n - 20 - off > 1480 ? 1480 : n - 20 - off;
		enum decode_result r = feed(df, ip, n, off, len,
					    off + len < n - 20, 2, &p);

		assert_dec(r, off + len < n - 20 ? DEC_FRAG_HELD : DEC_OK);
	}
	check_whole(&p, ip, n);

	/* The same payload behind a first fragment with 40 option bytes
	 * would rebuild to 65575 bytes: refused when it completes. */
	for (size_t off = 0; off < n - 20; off += 1480) {
		size_t len = n - 20 - off > 1480 ? 1480 : n - 20 - off;
		int more = off + len < n - 20;
		uint8_t opt40[40], g[2048];
		size_t glen;
		enum decode_result r;

		if (off != 0) {
			r = feed(df, ip, n, off, len, more, 3, &p);
			assert_dec(r, more ? DEC_FRAG_HELD : DEC_BAD_FRAG);
			continue;
		}
		memset(opt40, 1, sizeof(opt40));
		glen = pb_ipv4_fragment(g + 14, sizeof(g) - 14, ip, n, 0, len, 1);
		glen = pb_ipv4_add_options(g + 14, sizeof(g) - 14, glen, opt40,
					   40);
		glen = pb_eth_wrap(g, sizeof(g), g + 14, glen);
		assert_dec(dec_exact(DLT_EN10MB, g, glen, glen, df, 3, &p),
			   DEC_FRAG_HELD);
	}
	assert_int_equal(defrag_stats(df)->bad, 3);
	defrag_free(df);
	free(ip);
}

static void test_defrag_timeout(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(16, 1000000, &SEED); /* 1 s */
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 2000, 83);

	(void)state;
	assert_dec(feed(df, ip, n, 0, 1000, 1, 5000000, &p), DEC_FRAG_HELD);
	/* Exactly at the timeout: still alive. */
	assert_dec(feed(df, ip, n, 1000, 504, 1, 6000000, &p), DEC_FRAG_HELD);
	assert_int_equal(defrag_stats(df)->timed_out, 0);
	/* Past it: the old part is gone, this one starts over. */
	assert_dec(feed(df, ip, n, 1504, n - 20 - 1504, 0, 6000001, &p),
		   DEC_FRAG_HELD);
	assert_int_equal(defrag_stats(df)->timed_out, 1);
	/* Unrelated datagrams expire lazily on any later call. */
	{
		uint8_t *ip2 = bigbuf();
		size_t n2 = big_tcp4(ip2, BUFSZ, 100, 84);

		assert_dec(feed(df, ip2, n2, 0, 64, 1, 9000000, &p),
			   DEC_FRAG_HELD);
		assert_int_equal(defrag_stats(df)->timed_out, 2);
		free(ip2);
	}
	/* Time going backwards expires nothing. */
	assert_dec(feed(df, ip, n, 0, 1000, 1, 1, &p), DEC_FRAG_HELD);
	assert_int_equal(defrag_stats(df)->timed_out, 2);
	defrag_free(df);
	free(ip);
}

static void test_defrag_cap(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(2, 30000000, &SEED);
	struct ts_packet p;
	size_t n;

	(void)state;
	/* Three datagrams in a table of two: the oldest goes. */
	for (uint16_t id = 1; id <= 3; id++) {
		n = big_tcp4(ip, BUFSZ, 1000, id);
		assert_dec(feed(df, ip, n, 0, 504, 1, id, &p), DEC_FRAG_HELD);
	}
	assert_int_equal(defrag_stats(df)->evicted_cap, 1);
	n = big_tcp4(ip, BUFSZ, 1000, 1);
	assert_dec(feed(df, ip, n, 504, n - 20 - 504, 0, 4, &p),
		   DEC_FRAG_HELD);     /* id 1 was evicted, and now id 2 */
	assert_int_equal(defrag_stats(df)->evicted_cap, 2);
	n = big_tcp4(ip, BUFSZ, 1000, 3);
	assert_dec(feed(df, ip, n, 504, n - 20 - 504, 0, 5, &p), DEC_OK);
	check_whole(&p, ip, n);
	/* A flood of distinct ids never grows the table. */
	for (uint16_t id = 100; id < 400; id++) {
		n = big_tcp4(ip, BUFSZ, 100, id);
		assert_dec(feed(df, ip, n, 0, 64, 1, 6, &p), DEC_FRAG_HELD);
	}
	assert_int_equal(defrag_stats(df)->evicted_cap, 2 + 299);
	defrag_free(df);

	/* A table of zero holds nothing. */
	df = defrag_new(0, 1, &SEED);
	assert_non_null(df);
	n = big_tcp4(ip, BUFSZ, 100, 1);
	assert_dec(feed(df, ip, n, 0, 64, 1, 1, &p), DEC_FRAG_CAP);
	assert_int_equal(defrag_stats(df)->evicted_cap, 1);
	defrag_free(df);
	free(ip);
}

/* A full pool of interleaved datagrams, round after round: every one is
 * found again among the others and completes; none is lost to the table. */
static void test_defrag_full_pool_interleaved(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(256, 30000000, &SEED);
	struct ts_packet p;
	size_t n;

	(void)state;
	for (uint16_t round = 0; round < 8; round++) {
		for (uint16_t i = 0; i < 256; i++) {
			n = big_tcp4(ip, BUFSZ, 100, (uint16_t)(round * 256 + i));
			assert_dec(feed(df, ip, n, 0, 64, 1, 1, &p), DEC_FRAG_HELD);
		}
		for (uint16_t i = 256; i-- > 0;) {
			n = big_tcp4(ip, BUFSZ, 100, (uint16_t)(round * 256 + i));
			assert_dec(feed(df, ip, n, 64, n - 20 - 64, 0, 2, &p), DEC_OK);
			check_whole(&p, ip, n);
		}
	}
	assert_int_equal(defrag_stats(df)->reassembled, 8 * 256);
	assert_int_equal(defrag_stats(df)->evicted_cap, 0);
	defrag_free(df);
	free(ip);
}

/* Scattered one-unit fragments hit the interval cap and are refused. */
static void test_defrag_scatter(void **state)
{
	uint8_t *ip = bigbuf();
	struct defrag *df = defrag_new(4, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 8000, 90);
	int bad = 0;

	(void)state;
	for (size_t off = 0; off < 8000; off += 16) {
		enum decode_result r = feed(df, ip, n, off, 8, 1, 1, &p);

		if (r == DEC_BAD_FRAG) {
			bad = 1;
			break;
		}
		assert_dec(r, DEC_FRAG_HELD);
	}
	assert_true(bad);
	assert_int_equal(defrag_stats(df)->bad, 1);
	defrag_free(df);
	free(ip);
}

static void test_defrag_not_offered(void **state)
{
	uint8_t *ip = bigbuf();
	uint8_t f[2048];
	struct defrag *df = defrag_new(4, 30000000, &SEED);
	struct ts_packet p;
	size_t n = big_tcp4(ip, BUFSZ, 1000, 91), m;

	(void)state;
	/* Without a defragmenter every fragment is skipped. */
	m = frag_frame(f, sizeof(f), ip, n, 0, 504, 1);
	assert_dec(dec(DLT_EN10MB, f, m, &p), DEC_SKIP_PROTO);
	m = frag_frame(f, sizeof(f), ip, n, 504, 504, 0);
	assert_dec(dec(DLT_EN10MB, f, m, &p), DEC_SKIP_PROTO);
	/* A fragment cut by the capture cannot be reassembled. */
	m = frag_frame(f, sizeof(f), ip, n, 0, 504, 1);
	assert_dec(dec_exact(DLT_EN10MB, f, m - 10, m, df, 1, &p),
		   DEC_TRUNC_IP);
	/* Fragments of other protocols are not held. */
	m = frag_frame(f, sizeof(f), ip, n, 0, 504, 1);
	f[14 + 9] = 1;
	assert_dec(dec_exact(DLT_EN10MB, f, m, m, df, 1, &p), DEC_SKIP_PROTO);
	assert_int_equal(defrag_stats(df)->fragments, 0);
	/* An unfragmented datagram given to defrag_add comes back as is. */
	{
		const uint8_t *out = NULL;
		uint32_t out_len = 0;

		assert_dec(defrag_add(df, ip, (uint32_t)n, 1, &out, &out_len),
			   DEC_OK);
		assert_ptr_equal(out, ip);
		assert_int_equal(out_len, n);
	}
	defrag_free(df);
	defrag_free(NULL);
	free(ip);
}

/* ---- builder self-checks ------------------------------------------------ */

static void test_pktbuild_conn_and_pcap(void **state)
{
	uint8_t f[256];
	struct pb_conn c;
	struct ts_packet p;
	char path[] = "/tmp/test_decode_XXXXXX";
	int fd = mkstemp(path);
	FILE *pc;
	size_t n;
	long size;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	pc = pb_pcap_open(path, DLT_EN10MB);
	assert_non_null(pc);
	pb_conn_init(&c, "198.18.0.1", 50000, "198.18.0.2", 443, 100, 9000);
	n = pb_conn_eth(&c, 0, PB_SYN, NULL, 0, f, sizeof(f));
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.seq, 100);
	assert_int_equal(pb_pcap_write(pc, 1000000, f, n), 0);
	n = pb_conn_eth(&c, 1, PB_SYN | PB_ACK, NULL, 0, f, sizeof(f));
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.seq, 9000);
	assert_int_equal(p.ack, 101);
	assert_int_equal(p.sport, 443);
	assert_int_equal(pb_pcap_write(pc, 1000100, f, n), 0);
	n = pb_conn_eth(&c, 0, PB_PSH | PB_ACK, hello, HELLO_LEN, f, sizeof(f));
	assert_dec(dec(DLT_EN10MB, f, n, &p), DEC_OK);
	assert_int_equal(p.seq, 101);
	assert_int_equal(p.ack, 9001);
	assert_int_equal(p.ip_id, 2);
	assert_int_equal(c.cseq, 101 + HELLO_LEN);
	assert_int_equal(pb_pcap_write_snap(pc, 1000200, f, 60, n), 0);
	assert_int_equal(pb_pcap_write_cut(pc, 1000300, f, n, 10), 0);
	assert_int_equal(pb_pcap_close(pc), 0);

	pc = fopen(path, "rb");
	assert_non_null(pc);
	fseek(pc, 0, SEEK_END);
	size = ftell(pc);
	fclose(pc);
	unlink(path);
	assert_int_equal(size, 24 + 16 + 54 + 16 + 54 + 16 + 60 + 16 + 10);

	/* Builders refuse what does not fit. */
	assert_int_equal(pb_eth_tcp(f, 50, &(struct pb_tcp){
		.src = "1.2.3.4", .dst = "5.6.7.8" }), 0);
	assert_int_equal(pb_ip_tcp(f, sizeof(f), &(struct pb_tcp){
		.src = "1.2.3.4", .dst = "::1" }), 0);
	assert_int_equal(pb_ip_tcp(f, sizeof(f), &(struct pb_tcp){
		.src = "1.2.3.400", .dst = "1.2.3.4" }), 0);
}

/* Random frames on every link type with a live defragmenter: decoding
 * must stay in bounds (run under ASan) and return a known result. */
static void test_random_frames(void **state)
{
	static const int dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
				    DLT_RAW, DLT_NULL, DLT_LOOP, DLT_IPV4 };
	struct defrag *df = defrag_new(8, 1000, &SEED);
	uint32_t x = 0x12345678;
	uint8_t tmpl[256];
	struct pb_tcp t = tcp_default("198.18.0.1", "198.18.0.2");
	size_t tn = pb_eth_tcp(tmpl, sizeof(tmpl), &t);
	int ok = 0;

	(void)state;
	for (int i = 0; i < 40000; i++) {
		uint8_t f[256];
		struct ts_packet p;
		size_t n;
		enum decode_result r;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = x % sizeof(f);
		memcpy(f, tmpl, sizeof(f));
		/* Mutate a valid frame a little so deep paths are reached. */
		for (int k = 0; k < 3; k++)
			f[(x >> (8 * k)) % tn] ^= (uint8_t)(x >> 3);
		if (i % 4 == 0)
			f[14 + 6] |= 0x20; /* make it a fragment */
		r = dec_exact(i % 2 ? DLT_EN10MB : dlts[(x >> 20) % 7], f, n,
			      n, df, (uint64_t)i, &p);
		assert_true(r < DEC__COUNT);
		if (r == DEC_OK)
			ok++;
	}
	assert_true(ok > 0);
	defrag_free(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eth_tcp4_fields),
		cmocka_unit_test(test_eth_tcp6_fields),
		cmocka_unit_test(test_eth_udp),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_link_types),
		cmocka_unit_test(test_bad_linktype),
		cmocka_unit_test(test_loopback_families),
		cmocka_unit_test(test_ip_version_mismatch),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_pppoe_mpls),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_malformed),
		cmocka_unit_test(test_ipv4_claims_more),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_tcp_bad_offset),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_truncate_tcp4_every_offset),
		cmocka_unit_test(test_truncate_tcp6_ext_vlan_every_offset),
		cmocka_unit_test(test_truncate_udp_sll2_every_offset),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_ext_limit),
		cmocka_unit_test(test_ipv6_ext_malformed),
		cmocka_unit_test(test_ipv6_skips),
		cmocka_unit_test(test_ipv6_claims_more),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_addr_str),
		cmocka_unit_test(test_defrag_in_order),
		cmocka_unit_test(test_defrag_out_of_order_dup),
		cmocka_unit_test(test_defrag_udp_and_options),
		cmocka_unit_test(test_defrag_overlap_differs),
		cmocka_unit_test(test_defrag_inconsistent),
		cmocka_unit_test(test_defrag_oversized),
		cmocka_unit_test(test_defrag_timeout),
		cmocka_unit_test(test_defrag_cap),
		cmocka_unit_test(test_defrag_full_pool_interleaved),
		cmocka_unit_test(test_defrag_scatter),
		cmocka_unit_test(test_defrag_not_offered),
		cmocka_unit_test(test_pktbuild_conn_and_pcap),
		cmocka_unit_test(test_random_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
