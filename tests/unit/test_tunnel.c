/* test_tunnel.c - unit tests of tunnel decapsulation (tunnel.c, driven by decode.c): each encapsulation
 * finds the user's packet, truncated headers are truncations, malformed ones are bad, nesting is bounded. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "defrag.h"
#include "htab.h"
#include "pktbuild.h"
#include "tunnel.h"

#define CAP 4096

#define assert_dec(got, want) \
	assert_string_equal(decode_result_name(got), decode_result_name(want))

static const uint8_t hello[] = "GET / HTTP/1.1\r\nHost: kloop.kg\r\n\r\n";
#define HELLO_LEN (sizeof(hello) - 1)

/* ---- building frames ------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* The user's packet every tunnel carries: a request from 10.1.0.1:40000
 * to 10.2.0.2:443 (IPv6: 2001:db8::1 to 2001:db8::2). */
static size_t user_ip(uint8_t *buf, size_t cap, int v6)
{
	struct pb_tcp t = {
		.src = v6 ? "2001:db8::1" : "10.1.0.1",
		.dst = v6 ? "2001:db8::2" : "10.2.0.2",
		.sport = 40000, .dport = 443, .seq = 1000, .ack = 2000,
		.flags = PB_PSH | PB_ACK, .win = 502, .ttl = 57, .ipid = 0x1234,
		.payload = hello, .len = HELLO_LEN,
	};
	size_t n = pb_ip_tcp(buf, cap, &t);

	assert_int_not_equal(n, 0);
	return n;
}

static size_t user_eth(uint8_t *buf, size_t cap, int v6)
{
	size_t n = user_ip(buf + 14, cap - 14, v6);

	return pb_eth_wrap(buf, cap, buf + 14, n);
}

/* A tunnel header followed by an inner frame, as one payload. */
static size_t cat(uint8_t *out, const uint8_t *hdr, size_t hlen,
		  const uint8_t *in, size_t ilen)
{
	assert_true(hlen + ilen <= CAP);
	memcpy(out, hdr, hlen);
	memcpy(out + hlen, in, ilen);
	return hlen + ilen;
}

/* Ethernet, IPv4 198.18.0.1 -> 198.18.0.2, UDP sport -> dport, payload. */
static size_t over_udp(uint8_t *f, uint16_t sport, uint16_t dport,
		       const uint8_t *pl, size_t len)
{
	size_t n = pb_eth_udp(f, CAP, "198.18.0.1", "198.18.0.2", sport, dport,
			      pl, len);

	assert_int_not_equal(n, 0);
	return n;
}

/* Ethernet and an IP datagram of protocol `proto` around the payload. */
static size_t over_ip(uint8_t *f, const char *src, const char *dst,
		      uint8_t proto, const uint8_t *pl, size_t len)
{
	size_t n = pb_ip_proto(f + 14, CAP - 14, src, dst, proto, pl, len);

	assert_int_not_equal(n, 0);
	return pb_eth_wrap(f, CAP, f + 14, n);
}

/* Decode from an exactly sized heap copy (ASan sees reads past the
 * captured bytes), `caplen` of `wirelen` bytes captured.  The copy lives
 * until the next call, so the packet's pointers can be checked. */
static uint8_t *held;

static enum decode_result dec_cut(const uint8_t *f, size_t caplen,
				  size_t wirelen, struct defrag *df,
				  struct ts_packet *p)
{
	free(held);
	held = malloc(caplen ? caplen : 1);
	assert_non_null(held);
	memcpy(held, f, caplen);
	return decode_frame(DLT_EN10MB, held, (uint32_t)caplen,
			    (uint32_t)wirelen, 1000, df, p);
}

static enum decode_result dec(const uint8_t *f, size_t n, struct ts_packet *p)
{
	return dec_cut(f, n, n, NULL, p);
}

static int teardown(void **state)
{
	(void)state;
	free(held);
	held = NULL;
	return 0;
}

/* The decoded packet is the user's request, reached through the given
 * tunnels, outermost first. */
static void assert_user(const struct ts_packet *p, int v6, unsigned n,
			const enum tunnel_kind *kinds)
{
	char a[46], b[46];

	assert_int_equal(p->proto, 6);
	assert_int_equal(p->ip_version, v6 ? 6 : 4);
	assert_string_equal(ts_addr_str(&p->src, a, sizeof(a)),
			    v6 ? "2001:db8::1" : "10.1.0.1");
	assert_string_equal(ts_addr_str(&p->dst, b, sizeof(b)),
			    v6 ? "2001:db8::2" : "10.2.0.2");
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 443);
	assert_int_equal(p->ttl, 57);
	assert_int_equal(p->payload_len, HELLO_LEN);
	assert_int_equal(p->payload_truncated, 0);
	assert_memory_equal(p->payload, hello, HELLO_LEN);
	assert_int_equal(p->l3[0] >> 4, v6 ? 6 : 4);
	assert_int_equal(p->n_tunnels, n);
	for (unsigned i = 0; i < n; i++)
		assert_string_equal(tunnel_kind_name((enum tunnel_kind)p->tunnel[i]),
				    tunnel_kind_name(kinds[i]));
}

static void assert_user1(const struct ts_packet *p, int v6, enum tunnel_kind k)
{
	assert_user(p, v6, 1, &k);
}

/* Every cut of the frame (caplen 0 .. n-1 of n on the wire) is a
 * truncation or a packet with its payload cut: never malformed, never
 * the tunnel's outer UDP/GRE packet. */
static void cut_everywhere(const uint8_t *f, size_t n)
{
	for (size_t cut = 0; cut < n; cut++) {
		struct ts_packet p;
		enum decode_result r = dec_cut(f, cut, n, NULL, &p);

		if (r == DEC_OK) {
			assert_int_equal(p.proto, 6);
			assert_int_equal(p.dport, 443);
			assert_true(p.payload_truncated);
			assert_true(p.n_tunnels > 0);
		} else if (!decode_result_is_truncation(r)) {
			print_error("cut at %zu of %zu: %s\n", cut, n,
				    decode_result_name(r));
			fail();
		}
	}
}

/* ---- VXLAN (RFC 7348) ---------------------------------------------------- */

static size_t vxlan_frame(uint8_t *f, uint8_t flags, uint16_t sport,
			  uint16_t dport, int v6)
{
	uint8_t in[CAP], pl[CAP];
	const uint8_t hdr[8] = { flags, 0, 0, 0, 0x00, 0x12, 0x34, 0 };
	size_t n = user_eth(in, CAP, v6);

	return over_udp(f, sport, dport, pl, cat(pl, hdr, 8, in, n));
}

static void test_vxlan(void **state)
{
	uint8_t f[CAP];
	struct ts_packet p;
	size_t n;

	(void)state;
	n = vxlan_frame(f, 0x08, 51234, 4789, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_VXLAN);
	n = vxlan_frame(f, 0x08 | 0x80 | 0x01, 51234, 4789, 1); /* reserved bits ignored */
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_VXLAN);
	cut_everywhere(f, n);

	/* Without the I flag it is not VXLAN: the datagram stays itself. */
	n = vxlan_frame(f, 0x00, 51234, 4789, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 4789);
	assert_int_equal(p.n_tunnels, 0);
	/* 4789 as the source port only: the VXLAN port is a destination. */
	n = vxlan_frame(f, 0x08, 4789, 53, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.n_tunnels, 0);
}

static void test_vxlan_short(void **state)
{
	uint8_t f[CAP], pl[16] = { 0x08, 0, 0, 0, 0, 0, 1, 0, 0x02, 0, 0 };
	struct ts_packet p;
	size_t n;

	(void)state;
	/* A datagram too short for the VXLAN header is not VXLAN. */
	n = over_udp(f, 1, 4789, pl, 5);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	/* A whole header and an inner frame shorter than its headers, as a
	 * mirror that truncates its copies sends it: a truncation, as if
	 * the capture had cut it. */
	n = over_udp(f, 1, 4789, pl, 11);
	assert_dec(dec(f, n, &p), DEC_TRUNC_LINK);
	{
		uint8_t in[CAP], whole[CAP];
		size_t m = user_eth(in, CAP, 0);

		m = cat(whole, pl, 8, in, m);
		n = over_udp(f, 1, 4789, whole, 8 + 14 + 20 + 8);
		assert_dec(dec(f, n, &p), DEC_TRUNC_TCP);
		n = over_udp(f, 1, 4789, whole, m - 5);
		assert_dec(dec(f, n, &p), DEC_OK);
		assert_int_equal(p.payload_len, HELLO_LEN - 5);
		assert_true(p.payload_truncated);
		/* The same cut by the capture. */
		n = over_udp(f, 1, 4789, whole, m);
		assert_dec(dec_cut(f, n - m + 8 + 14 + 20 + 8, n, NULL, &p),
			   DEC_TRUNC_TCP);
		assert_dec(dec_cut(f, n - m + 5, n, NULL, &p), DEC_TRUNC_TUNNEL);
	}
}

/* ---- GENEVE (RFC 8926) --------------------------------------------------- */

static size_t geneve_frame(uint8_t *f, uint8_t ver, uint16_t type,
			   unsigned opt_words, int v6)
{
	uint8_t in[CAP], pl[CAP], hdr[8 + 4 * 63];
	size_t hlen = 8 + 4 * (size_t)opt_words, n;

	memset(hdr, 0, sizeof(hdr));
	hdr[0] = (uint8_t)(ver << 6 | opt_words);
	hdr[1] = 0x40; /* C: a critical option is present */
	put16(hdr + 2, type);
	put32(hdr + 4, 0x00abcd00);
	for (unsigned i = 0; i + 1 < opt_words; i += 2) { /* 8-byte options */
		put16(hdr + 8 + 4 * i, 0x0102);
		hdr[8 + 4 * i + 2] = 0x80;
		hdr[8 + 4 * i + 3] = 1;
	}
	n = type == 0x6558 ? user_eth(in, CAP, v6) : user_ip(in, CAP, v6);
	return over_udp(f, 40001, 6081, pl, cat(pl, hdr, hlen, in, n));
}

static void test_geneve(void **state)
{
	uint8_t f[CAP];
	struct ts_packet p;
	size_t n;

	(void)state;
	n = geneve_frame(f, 0, 0x6558, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GENEVE);
	n = geneve_frame(f, 0, 0x6558, 4, 1); /* two 8-byte options */
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_GENEVE);
	cut_everywhere(f, n);
	n = geneve_frame(f, 0, 0x0800, 2, 0); /* an IPv4 packet, no Ethernet */
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GENEVE);
	n = geneve_frame(f, 0, 0x86dd, 63, 1); /* the longest options */
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_GENEVE);
	cut_everywhere(f, n);
	/* Another payload type (NSH) is decapsulated, but it is not IP. */
	n = geneve_frame(f, 0, 0x894f, 0, 0);
	assert_dec(dec(f, n, &p), DEC_SKIP_NOT_IP);
	/* Version 1 is not ours to read: the datagram stays itself. */
	n = geneve_frame(f, 1, 0x6558, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 6081);
}

static void test_geneve_options_overrun(void **state)
{
	uint8_t f[CAP], pl[40];
	struct ts_packet p;
	size_t n;

	(void)state;
	memset(pl, 0, sizeof(pl));
	pl[0] = 20; /* 80 bytes of options in a 40-byte datagram */
	put16(pl + 2, 0x6558);
	n = over_udp(f, 1, 6081, pl, sizeof(pl));
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	/* Options the datagram holds but the capture cut. */
	pl[0] = 4;
	n = over_udp(f, 1, 6081, pl, sizeof(pl));
	assert_dec(dec_cut(f, n - 40 + 12, n, NULL, &p), DEC_TRUNC_TUNNEL);
}

/* ---- GRE (RFC 2784, RFC 2890) ---------------------------------------------- */

#define GRE_C 0x8000
#define GRE_K 0x2000
#define GRE_S 0x1000

static size_t gre_hdr(uint8_t *h, uint16_t flags, uint16_t type)
{
	size_t n = 4;

	put16(h, flags);
	put16(h + 2, type);
	if (flags & GRE_C) {
		put32(h + n, 0xbeef0000);
		n += 4;
	}
	if (flags & GRE_K) {
		put32(h + n, 0x0000abcd);
		n += 4;
	}
	if (flags & GRE_S) {
		put32(h + n, 7);
		n += 4;
	}
	return n;
}

/* GRE from 198.18.0.1 to 198.18.0.2 (IPv6 outer: 2001:2::1 to 2001:2::2)
 * around `hdr` and the user's packet, framed as `type` says. */
static size_t gre_frame(uint8_t *f, const uint8_t *hdr, size_t hlen,
			int eth, int v6_inner, int v6_outer)
{
	uint8_t in[CAP], pl[CAP];
	size_t n = eth ? user_eth(in, CAP, v6_inner) : user_ip(in, CAP, v6_inner);

	n = cat(pl, hdr, hlen, in, n);
	return over_ip(f, v6_outer ? "2001:2::1" : "198.18.0.1",
		       v6_outer ? "2001:2::2" : "198.18.0.2", 47, pl, n);
}

static void test_gre(void **state)
{
	uint8_t f[CAP], h[16];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	hl = gre_hdr(h, 0, 0x0800);
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GRE);
	hl = gre_hdr(h, GRE_C | GRE_K | GRE_S, 0x86dd); /* 16-byte header */
	assert_int_equal(hl, 16);
	n = gre_frame(f, h, hl, 0, 1, 1);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_GRE);
	cut_everywhere(f, n);
	hl = gre_hdr(h, GRE_K, 0x6558); /* transparent Ethernet bridging */
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GRE);
	cut_everywhere(f, n);
	hl = gre_hdr(h, GRE_S, 0x0800); /* reserved bits 6-12 are ignored */
	h[1] |= 0x78;
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GRE);
}

static void test_gre_malformed(void **state)
{
	uint8_t f[CAP], h[16];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	/* Version 1 is PPTP's enhanced GRE: recognised, not decoded. */
	hl = gre_hdr(h, GRE_K | 0x0001, 0x880b);
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
	assert_int_equal(p.n_tunnels, 0);
	hl = gre_hdr(h, 0x0002, 0x0800); /* version 2 */
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	hl = gre_hdr(h, 0x4000, 0x0800); /* RFC 1701 routing: discard */
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	hl = gre_hdr(h, 0x0800, 0x0800); /* strict source route */
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	/* A datagram shorter than the header its flags announce. */
	hl = gre_hdr(h, GRE_C | GRE_K | GRE_S, 0x0800);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, h, 10);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, h, 3);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	/* The same header cut by the capture. */
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec_cut(f, 14 + 20 + 10, n, NULL, &p), DEC_TRUNC_TUNNEL);
	/* Not IP inside: decapsulated, then not IP. */
	hl = gre_hdr(h, 0, 0x0806);
	n = gre_frame(f, h, hl, 0, 0, 0);
	assert_dec(dec(f, n, &p), DEC_SKIP_NOT_IP);
	assert_int_equal(p.n_tunnels, 1);
}

/* ---- ERSPAN (draft-foschiano-erspan-03) ---------------------------------- */

static size_t erspan2_hdr(uint8_t *h, unsigned ver, int t_bit)
{
	size_t n = gre_hdr(h, GRE_S, 0x88be);

	put32(h + n, (uint32_t)ver << 28 | 10u << 16 | (t_bit ? 0x400u : 0) | 0x123);
	put32(h + n + 4, 0x00000042);
	return n + 8;
}

static size_t erspan3_hdr(uint8_t *h, unsigned ver, unsigned ft, int o_bit)
{
	size_t n = gre_hdr(h, GRE_S, 0x22eb);

	put32(h + n, (uint32_t)ver << 28 | 0x123);
	put32(h + n + 4, 0xdeadbeef); /* timestamp */
	put32(h + n + 8, 0x00050000u | ft << 10 | 0x8 | (o_bit ? 1u : 0));
	n += 12;
	if (o_bit) {
		put32(h + n, 0x0c000000); /* platform ID 3, then its info */
		put32(h + n + 4, 0x11223344);
		n += 8;
	}
	return n;
}

static void test_erspan(void **state)
{
	uint8_t f[CAP], h[64];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	hl = gre_hdr(h, 0, 0x88be); /* type I: bare GRE */
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_ERSPAN1);
	hl = erspan2_hdr(h, 1, 0);
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_ERSPAN2);
	cut_everywhere(f, n);
	hl = erspan3_hdr(h, 2, 0, 0);
	n = gre_frame(f, h, hl, 1, 1, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_ERSPAN3);
	hl = erspan3_hdr(h, 2, 0, 1); /* with the platform-specific subheader */
	n = gre_frame(f, h, hl, 1, 0, 1);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_ERSPAN3);
	cut_everywhere(f, n);
	hl = erspan3_hdr(h, 2, 2, 0); /* frame type 2: an IP packet */
	n = gre_frame(f, h, hl, 0, 1, 0);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_ERSPAN3);
}

static void test_erspan_malformed(void **state)
{
	uint8_t f[CAP], h[64];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	hl = erspan2_hdr(h, 2, 0); /* a type III version in a type II header */
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	hl = erspan3_hdr(h, 1, 0, 0);
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	hl = erspan3_hdr(h, 2, 3, 0); /* reserved frame type */
	n = gre_frame(f, h, hl, 1, 0, 0);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
	/* The subheader announced by O but not in the datagram. */
	hl = erspan3_hdr(h, 2, 0, 1);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, h, hl - 4);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, h, 8 + 6);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
}

/* A mirror that cut its copy may say so with T, or not: either way the
 * short inner frame is a truncation, as if the capture had cut it. */
static void test_erspan_truncated_copy(void **state)
{
	uint8_t f[CAP], h[64], in[CAP], pl[CAP];
	struct ts_packet p;
	size_t n, hl, m;

	(void)state;
	m = user_eth(in, CAP, 0);
	for (int t_bit = 0; t_bit <= 1; t_bit++) {
		hl = erspan2_hdr(h, 1, t_bit);
		n = cat(pl, h, hl, in, 14 + 20 + 10); /* cut inside TCP */
		n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, pl, n);
		assert_dec(dec(f, n, &p), DEC_TRUNC_TCP);
		n = cat(pl, h, hl, in, m - 5); /* cut inside the request */
		n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, pl, n);
		assert_dec(dec(f, n, &p), DEC_OK);
		assert_true(p.payload_truncated);
		assert_int_equal(p.payload_len, HELLO_LEN - 5);
	}
}

/* ---- IP in IP (RFC 2003, RFC 4213, RFC 2473) ----------------------------- */

static void test_ipip(void **state)
{
	uint8_t f[CAP], in[CAP];
	struct ts_packet p;
	size_t n, m;

	(void)state;
	for (int outer6 = 0; outer6 <= 1; outer6++) {
		for (int inner6 = 0; inner6 <= 1; inner6++) {
			m = user_ip(in, CAP, inner6);
			n = over_ip(f, outer6 ? "2001:2::1" : "198.18.0.1",
				    outer6 ? "2001:2::2" : "198.18.0.2",
				    inner6 ? 41 : 4, in, m);
			assert_dec(dec(f, n, &p), DEC_OK);
			assert_user1(&p, inner6, TUN_IPIP);
			cut_everywhere(f, n);
		}
	}
	/* Protocol 4 announces IPv4. */
	m = user_ip(in, CAP, 1);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 4, in, m);
	assert_dec(dec(f, n, &p), DEC_BAD_IP_VERSION);
	/* Nothing inside at all. */
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 41, in, 0);
	assert_dec(dec(f, n, &p), DEC_TRUNC_IP);
}

/* ---- CAPWAP data channel (RFC 5415, RFC 5416) ---------------------------- */

#define CAPWAP_T 0x100u
#define CAPWAP_F 0x080u
#define CAPWAP_M 0x010u
#define CAPWAP_K 0x008u

/* Preamble and header: HLEN 2 words, or 4 with a radio MAC address. */
static size_t capwap_hdr(uint8_t *h, unsigned wbid, uint32_t bits)
{
	size_t hlen = (bits & CAPWAP_M) ? 16 : 8;

	memset(h, 0, hlen);
	put32(h, (uint32_t)(hlen / 4) << 19 | 1u << 14 | wbid << 9 | bits);
	if (bits & CAPWAP_M) {
		static const uint8_t mac[7] = { 6, 0x02, 0, 0, 0, 0, 0x0a };
		memcpy(h + 8, mac, sizeof(mac));
	}
	return hlen;
}

/* An 802.11 data frame header: QoS with ToDS+FromDS (four addresses),
 * +HTC when `htc`, then LLC/SNAP for IPv4 or IPv6. */
static size_t wifi_hdr(uint8_t *h, uint8_t fc0, uint8_t fc1, int v6)
{
	size_t n = 24;

	memset(h, 0, 48);
	h[0] = fc0;
	h[1] = fc1;
	if ((fc1 & 3) == 3)
		n += 6;
	if (fc0 & 0x80)
		n += (fc1 & 0x80) ? 6 : 2;
	memcpy(h + n, "\xaa\xaa\x03\x00\x00\x00", 6);
	put16(h + n + 6, v6 ? 0x86dd : 0x0800);
	return n + 8;
}

static size_t capwap_frame(uint8_t *f, const uint8_t *hdr, size_t hlen,
			   int eth, int v6, uint16_t sport, uint16_t dport)
{
	uint8_t in[CAP], pl[CAP];
	size_t n = eth ? user_eth(in, CAP, v6) : user_ip(in, CAP, v6);

	return over_udp(f, sport, dport, pl, cat(pl, hdr, hlen, in, n));
}

static void test_capwap(void **state)
{
	uint8_t f[CAP], h[128];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	hl = capwap_hdr(h, 1, 0); /* T clear: an 802.3 frame */
	n = capwap_frame(f, h, hl, 1, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_CAPWAP);
	hl = capwap_hdr(h, 1, CAPWAP_T | CAPWAP_M); /* native 802.11, radio MAC */
	hl += wifi_hdr(h + hl, 0x88, 0x01, 0);     /* QoS data, ToDS */
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_CAPWAP);
	cut_everywhere(f, n);
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x88, 0x83, 1); /* four addresses, +HTC */
	n = capwap_frame(f, h, hl, 0, 1, 5247, 12222); /* from the controller */
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 1, TUN_CAPWAP);
	cut_everywhere(f, n);
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x08, 0x02, 0); /* plain data, FromDS */
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_CAPWAP);
	/* The frame control bytes swapped, as some access points send them. */
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x88, 0x01, 0);
	h[8] = 0x01;
	h[9] = 0x88;
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_CAPWAP);
	cut_everywhere(f, n);
}

static void test_capwap_not_decoded(void **state)
{
	uint8_t f[CAP], h[128];
	struct ts_packet p;
	size_t n, hl;
	static const struct { uint32_t bits; unsigned wbid; uint8_t fc0, fc1; } cases[] = {
		{ CAPWAP_F, 1, 0, 0 },              /* a CAPWAP fragment */
		{ CAPWAP_K, 1, 0, 0 },              /* keep-alive */
		{ CAPWAP_T, 3, 0, 0 },              /* EPCGlobal binding */
		{ CAPWAP_T, 1, 0x88, 0x41 },        /* protected: encrypted */
		{ CAPWAP_T, 1, 0x80, 0x00 },        /* management (beacon) */
		{ CAPWAP_T, 1, 0xc8, 0x01 },        /* QoS null: no body */
		{ CAPWAP_T, 1, 0x08, 0x05 },        /* more 802.11 fragments */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hl = capwap_hdr(h, cases[i].wbid, cases[i].bits);
		if (cases[i].fc0)
			hl += wifi_hdr(h + hl, cases[i].fc0, cases[i].fc1, 0);
		n = capwap_frame(f, h, hl, !(cases[i].bits & CAPWAP_T), 0, 12222, 5247);
		assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
	}
	/* DTLS (preamble type 1): encrypted. */
	h[0] = 0x01;
	memset(h + 1, 0, 3);
	n = capwap_frame(f, h, 4, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
	/* A-MSDU in the QoS control field. */
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x88, 0x01, 0);
	h[8 + 24] = 0x80;
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
	/* LLC without SNAP. */
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x08, 0x01, 0);
	h[8 + 24] = 0x42;
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL);
}

static void test_capwap_malformed(void **state)
{
	uint8_t f[CAP], h[128];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	memset(h, 0, sizeof(h));
	/* Preamble version 1 is not CAPWAP: the datagram stays itself. */
	hl = capwap_hdr(h, 1, 0);
	h[0] = 0x10;
	n = capwap_frame(f, h, hl, 1, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 5247);
	/* HLEN below the 8 bytes of preamble and header. */
	hl = capwap_hdr(h, 1, 0);
	h[1] = 0x08; /* HLEN 1 */
	n = capwap_frame(f, h, hl, 1, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	/* HLEN past the datagram. */
	hl = capwap_hdr(h, 1, 0);
	h[1] = 0xf8; /* HLEN 31: 124 bytes */
	n = over_udp(f, 12222, 5247, h, 60);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
	/* 802.11 protocol version 1. */
	hl = capwap_hdr(h, 1, CAPWAP_T);
	hl += wifi_hdr(h + hl, 0x89, 0x01, 0);
	n = capwap_frame(f, h, hl, 0, 0, 12222, 5247);
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
}

/* ---- GTP-U (3GPP TS 29.281) ---------------------------------------------- */

static void test_gtpu(void **state)
{
	static const uint8_t plain[8] = { 0x30, 0xff, 0, 0, 0, 0, 0, 1 };
	static const uint8_t seq[12] = { 0x32, 0xff, 0, 0, 0, 0, 0, 1, 0, 9, 0, 0 };
	/* E: a PDU session container (one 4-byte unit), then no more */
	static const uint8_t ext[16] = { 0x34, 0xff, 0, 0, 0, 0, 0, 1,
					 0, 0, 0, 0x85, 1, 0x10, 0x09, 0 };
	static const uint8_t zero_ext[16] = { 0x34, 0xff, 0, 0, 0, 0, 0, 1,
					      0, 0, 0, 0x85, 0, 0, 0, 0 };
	static const uint8_t echo[12] = { 0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t f[CAP], in[CAP], pl[CAP];
	struct ts_packet p;
	size_t n, m = user_ip(in, CAP, 0);

	(void)state;
	n = over_udp(f, 2152, 2152, pl, cat(pl, plain, 8, in, m));
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GTPU);
	n = over_udp(f, 2152, 2152, pl, cat(pl, seq, 12, in, m));
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GTPU);
	n = over_udp(f, 30000, 2152, pl, cat(pl, ext, 16, in, m));
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user1(&p, 0, TUN_GTPU);
	cut_everywhere(f, n);
	/* Signalling (echo request) is not user traffic: it stays UDP. */
	n = over_udp(f, 2152, 2152, echo, sizeof(echo));
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.n_tunnels, 0);
	/* An extension header of length zero. */
	n = over_udp(f, 2152, 2152, pl, cat(pl, zero_ext, 16, in, m));
	assert_dec(dec(f, n, &p), DEC_BAD_TUNNEL);
}

/* ---- nesting, fragments, names ----------------------------------------------- */

/* VXLAN inside GRE, both decapsulated, both counted. */
static void test_nested(void **state)
{
	static const enum tunnel_kind kinds[] = { TUN_GRE, TUN_VXLAN };
	uint8_t f[CAP], v[CAP], h[16];
	struct ts_packet p;
	size_t n, hl;

	(void)state;
	n = vxlan_frame(v, 0x08, 50000, 4789, 0);
	hl = gre_hdr(h, GRE_K, 0x6558);
	uint8_t pl[CAP];
	n = cat(pl, h, hl, v, n);
	n = over_ip(f, "198.18.0.1", "198.18.0.2", 47, pl, n);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user(&p, 0, 2, kinds);
	cut_everywhere(f, n);
}

/* IP in IP nested `depth` times around the user's packet. */
static size_t ipip_nest(uint8_t *f, unsigned depth)
{
	uint8_t a[CAP], b[CAP];
	size_t n = user_ip(a, CAP, 0);

	for (unsigned i = 0; i < depth; i++) {
		n = pb_ip_proto(b, CAP, "198.18.1.1", "198.18.1.2", 4, a, n);
		assert_int_not_equal(n, 0);
		memcpy(a, b, n);
	}
	return over_ip(f, "198.18.0.1", "198.18.0.2", 4, a, n);
}

static void test_nesting_bound(void **state)
{
	static const enum tunnel_kind four[] = { TUN_IPIP, TUN_IPIP, TUN_IPIP, TUN_IPIP };
	uint8_t f[CAP];
	struct ts_packet p;
	size_t n;

	(void)state;
	n = ipip_nest(f, TS_MAX_TUNNELS - 1);
	assert_dec(dec(f, n, &p), DEC_OK);
	assert_user(&p, 0, TS_MAX_TUNNELS, four);
	n = ipip_nest(f, TS_MAX_TUNNELS);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL_DEPTH);
	assert_int_equal(p.n_tunnels, TS_MAX_TUNNELS);
	n = ipip_nest(f, 30);
	assert_dec(dec(f, n, &p), DEC_SKIP_TUNNEL_DEPTH);
}

static const struct hseed SEED = { { 0x5eed, 0x7e11 } };

/* An ERSPAN copy of a jumbo frame arrives as IPv4 fragments of GRE: they
 * are reassembled, then decapsulated. */
static void test_gre_fragments(void **state)
{
	uint8_t f[CAP], h[16], in[CAP], pl[CAP], ip[CAP], frag[CAP];
	struct defrag *df = defrag_new(8, 30000000, &SEED);
	struct ts_packet p;
	size_t n, hl, m;

	(void)state;
	assert_non_null(df);
	hl = erspan2_hdr(h, 1, 0);
	m = user_eth(in, CAP, 0);
	n = cat(pl, h, hl, in, m);
	n = pb_ip_proto(ip, CAP, "198.18.0.1", "198.18.0.2", 47, pl, n);
	assert_int_not_equal(n, 0);
	m = pb_ipv4_fragment(frag, CAP, ip, n, 0, 48, 1);
	m = pb_eth_wrap(f, CAP, frag, m);
	assert_dec(dec_cut(f, m, m, df, &p), DEC_FRAG_HELD);
	assert_int_equal(p.n_tunnels, 0);
	m = pb_ipv4_fragment(frag, CAP, ip, n, 48, n - 20 - 48, 0);
	m = pb_eth_wrap(f, CAP, frag, m);
	assert_dec(dec_cut(f, m, m, df, &p), DEC_OK);
	assert_user1(&p, 0, TUN_ERSPAN2);
	defrag_free(df);
}

/* Inner fragments: reassembled when the carrier was not (the rebuilt
 * datagram lives in the defragmenter), skipped when it was. */
static void test_inner_fragments(void **state)
{
	uint8_t f[CAP], in[CAP], frag[CAP], pl[CAP], outer[CAP], ofrag[CAP];
	static const uint8_t vx[8] = { 0x08, 0, 0, 0, 0, 0, 1, 0 };
	struct defrag *df = defrag_new(8, 30000000, &SEED);
	struct ts_packet p;
	size_t n, m, k;

	(void)state;
	assert_non_null(df);
	m = user_ip(in, CAP, 0);
	for (int more = 1; more >= 0; more--) {
		k = more ? pb_ipv4_fragment(frag + 14, CAP - 14, in, m, 0, 24, 1)
			 : pb_ipv4_fragment(frag + 14, CAP - 14, in, m, 24, m - 20 - 24, 0);
		k = pb_eth_wrap(frag, CAP, frag + 14, k);
		n = over_udp(f, 50000, 4789, pl, cat(pl, vx, 8, frag, k));
		assert_dec(dec_cut(f, n, n, df, &p), more ? DEC_FRAG_HELD : DEC_OK);
	}
	assert_user1(&p, 0, TUN_VXLAN);
	assert_int_equal(p.defragmented, 1);

	/* The carrier itself rebuilt from fragments: an inner fragment is
	 * not offered to the defragmenter whose buffer holds the carrier. */
	k = pb_ipv4_fragment(frag + 14, CAP - 14, in, m, 0, 24, 1);
	k = pb_eth_wrap(frag, CAP, frag + 14, k);
	n = cat(pl, vx, 8, frag, k);
	n = pb_ip_udp(outer, CAP, "198.18.0.1", "198.18.0.2", 50000, 4789, pl, n);
	k = pb_ipv4_fragment(ofrag, CAP, outer, n, 0, 32, 1);
	k = pb_eth_wrap(f, CAP, ofrag, k);
	assert_dec(dec_cut(f, k, k, df, &p), DEC_FRAG_HELD);
	k = pb_ipv4_fragment(ofrag, CAP, outer, n, 32, n - 20 - 32, 0);
	k = pb_eth_wrap(f, CAP, ofrag, k);
	assert_dec(dec_cut(f, k, k, df, &p), DEC_SKIP_PROTO);
	assert_int_equal(p.n_tunnels, 1);
	defrag_free(df);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(tunnel_kind_name(TUN_VXLAN), "vxlan");
	assert_string_equal(tunnel_kind_name(TUN_ERSPAN3), "erspan3");
	assert_string_equal(tunnel_kind_name(TUN__COUNT), "unknown");
	for (int i = 0; i < TUN__COUNT; i++) {
		const char *a = tunnel_kind_name((enum tunnel_kind)i);

		assert_string_not_equal(a, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, tunnel_kind_name((enum tunnel_kind)j));
	}
	assert_true(decode_result_is_truncation(DEC_TRUNC_TUNNEL));
	assert_false(decode_result_is_truncation(DEC_BAD_TUNNEL));
	assert_string_equal(decode_result_name(DEC_TRUNC_TUNNEL), "truncated_tunnel");
	assert_string_equal(decode_result_name(DEC_BAD_TUNNEL), "bad_tunnel");
	assert_string_equal(decode_result_name(DEC_SKIP_TUNNEL), "tunnel_not_decoded");
	assert_string_equal(decode_result_name(DEC_SKIP_TUNNEL_DEPTH), "tunnel_too_deep");
}

/* Random bytes behind every tunnel header: whatever the result, it is a
 * known one, and a packet is only ever TCP or UDP. */
static void test_random_inner(void **state)
{
	static const uint16_t ports[] = { 4789, 6081, 2152, 5247 };
	uint8_t f[CAP], pl[256];
	struct ts_packet p;
	uint32_t x = 12345;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t len = 8 + (size_t)(i % 200);
		enum decode_result r;

		for (size_t k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			pl[k] = (uint8_t)(x >> 16);
		}
		if (i % 5 == 4) {
			size_t n = over_ip(f, "198.18.0.1", "198.18.0.2",
					   (i & 8) ? 47 : 4, pl, len);
			r = dec(f, n, &p);
		} else {
			size_t n = over_udp(f, 1000, ports[i % 4], pl, len);
			r = dec(f, n, &p);
		}
		assert_true((unsigned)r < DEC__COUNT);
		if (r == DEC_OK)
			assert_true(p.proto == 6 || p.proto == 17);
		assert_true(p.n_tunnels <= TS_MAX_TUNNELS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vxlan, teardown),
		cmocka_unit_test_teardown(test_vxlan_short, teardown),
		cmocka_unit_test_teardown(test_geneve, teardown),
		cmocka_unit_test_teardown(test_geneve_options_overrun, teardown),
		cmocka_unit_test_teardown(test_gre, teardown),
		cmocka_unit_test_teardown(test_gre_malformed, teardown),
		cmocka_unit_test_teardown(test_erspan, teardown),
		cmocka_unit_test_teardown(test_erspan_malformed, teardown),
		cmocka_unit_test_teardown(test_erspan_truncated_copy, teardown),
		cmocka_unit_test_teardown(test_ipip, teardown),
		cmocka_unit_test_teardown(test_capwap, teardown),
		cmocka_unit_test_teardown(test_capwap_not_decoded, teardown),
		cmocka_unit_test_teardown(test_capwap_malformed, teardown),
		cmocka_unit_test_teardown(test_gtpu, teardown),
		cmocka_unit_test_teardown(test_nested, teardown),
		cmocka_unit_test_teardown(test_nesting_bound, teardown),
		cmocka_unit_test_teardown(test_gre_fragments, teardown),
		cmocka_unit_test_teardown(test_inner_fragments, teardown),
		cmocka_unit_test_teardown(test_names, teardown),
		cmocka_unit_test_teardown(test_random_inner, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
