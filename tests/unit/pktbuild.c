/* pktbuild.c - test frame builder and classic pcap writer.
 * Header layouts of RFC 791, RFC 8200, RFC 9293 and RFC 768; checksums per
 * RFC 1071; pcap per the libpcap file format (version 2.4). */

#include <arpa/inet.h>
#include <string.h>

#include "pktbuild.h"

/* pcap link types, numbered as in <pcap/dlt.h> on Linux (kept local so the
 * helper needs nothing but libc). */
#define PB_DLT_NULL 0
#define PB_DLT_EN10MB 1
#define PB_DLT_RAW 12
#define PB_LINKTYPE_RAW 101
#define PB_DLT_LOOP 108
#define PB_DLT_LINUX_SLL 113
#define PB_DLT_IPV4 228
#define PB_DLT_IPV6 229
#define PB_DLT_LINUX_SLL2 276

#define PB_MAX_DGRAM 65535

static const uint8_t mac_dst[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct pb_addrs {
	int v6;
	uint8_t src[16], dst[16];
};

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

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static int parse_addrs(const char *src, const char *dst, struct pb_addrs *a)
{
	memset(a, 0, sizeof(*a));
	if (src == NULL || dst == NULL)
		return -1;
	a->v6 = strchr(src, ':') != NULL;
	if ((strchr(dst, ':') != NULL) != a->v6)
		return -1;
	if (inet_pton(a->v6 ? AF_INET6 : AF_INET, src, a->src) != 1 ||
	    inet_pton(a->v6 ? AF_INET6 : AF_INET, dst, a->dst) != 1)
		return -1;
	return 0;
}

/* RFC 1071 ones' complement sum, continued from `sum`. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void ipv4_fix_checksum(uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;

	ip[10] = ip[11] = 0;
	put16(ip + 10, csum_fold(csum_add(0, ip, hlen)));
}

/* Transport checksum with the pseudo-header of either family. */
static void l4_checksum(const struct pb_addrs *a, uint8_t proto, uint8_t *l4,
			size_t len, size_t csum_off)
{
	size_t alen = a->v6 ? 16 : 4;
	uint32_t sum = 0;
	uint8_t tail[8] = { 0 };

	sum = csum_add(sum, a->src, alen);
	sum = csum_add(sum, a->dst, alen);
	put32(tail, (uint32_t)len);
	tail[7] = proto;
	sum = csum_add(sum, tail, 8);
	put16(l4 + csum_off, 0);
	sum = csum_add(sum, l4, len);
	put16(l4 + csum_off, csum_fold(sum));
}

/* IP header for a transport segment of `l4_len` bytes; returns its size. */
static size_t ip_header(uint8_t *buf, size_t cap, const struct pb_addrs *a,
			uint8_t proto, size_t l4_len, uint8_t ttl,
			uint16_t ipid)
{
	if (ttl == 0)
		ttl = 64;
	if (a->v6) {
		if (cap < 40 || l4_len > 0xffff)
			return 0;
		memset(buf, 0, 40);
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)l4_len);
		buf[6] = proto;
		buf[7] = ttl;
		memcpy(buf + 8, a->src, 16);
		memcpy(buf + 24, a->dst, 16);
		return 40;
	}
	if (cap < 20 || l4_len + 20 > PB_MAX_DGRAM)
		return 0;
	memset(buf, 0, 20);
	buf[0] = 0x45;
	put16(buf + 2, (uint16_t)(20 + l4_len));
	put16(buf + 4, ipid);
	put16(buf + 6, 0x4000); /* DF, as TCP stacks send */
	buf[8] = ttl;
	buf[9] = proto;
	memcpy(buf + 12, a->src, 4);
	memcpy(buf + 16, a->dst, 4);
	ipv4_fix_checksum(buf);
	return 20;
}

size_t pb_ip_tcp(uint8_t *buf, size_t cap, const struct pb_tcp *t)
{
	struct pb_addrs a;
	size_t opts_pad, thlen, hl;
	uint8_t *th;

	if (parse_addrs(t->src, t->dst, &a) < 0 || t->opts_len > 40 ||
	    (t->len && t->payload == NULL))
		return 0;
	opts_pad = (t->opts_len + 3) & ~(size_t)3;
	thlen = 20 + opts_pad;
	hl = ip_header(buf, cap, &a, 6, thlen + t->len, t->ttl, t->ipid);
	if (hl == 0 || cap - hl < thlen + t->len)
		return 0;
	th = buf + hl;
	memset(th, 0, thlen);
	put16(th, t->sport);
	put16(th + 2, t->dport);
	put32(th + 4, t->seq);
	put32(th + 8, t->ack);
	th[12] = (uint8_t)((thlen / 4) << 4);
	th[13] = t->flags;
	put16(th + 14, t->win);
	if (t->opts_len)
		memcpy(th + 20, t->opts, t->opts_len);
	if (t->len)
		memcpy(th + thlen, t->payload, t->len);
	l4_checksum(&a, 6, th, thlen + t->len, 16);
	return hl + thlen + t->len;
}

size_t pb_ip_udp(uint8_t *buf, size_t cap, const char *src, const char *dst,
		 uint16_t sport, uint16_t dport, const uint8_t *payload,
		 size_t len)
{
	struct pb_addrs a;
	size_t hl;
	uint8_t *uh;

	if (parse_addrs(src, dst, &a) < 0 || len > 0xffff - 8 ||
	    (len && payload == NULL))
		return 0;
	hl = ip_header(buf, cap, &a, 17, 8 + len, 64, 0);
	if (hl == 0 || cap - hl < 8 + len)
		return 0;
	uh = buf + hl;
	put16(uh, sport);
	put16(uh + 2, dport);
	put16(uh + 4, (uint16_t)(8 + len));
	put16(uh + 6, 0);
	if (len)
		memcpy(uh + 8, payload, len);
	l4_checksum(&a, 17, uh, 8 + len, 6);
	return hl + 8 + len;
}

size_t pb_ip_proto(uint8_t *buf, size_t cap, const char *src, const char *dst,
		   uint8_t proto, const uint8_t *payload, size_t len)
{
	struct pb_addrs a;
	size_t hl;

	if (parse_addrs(src, dst, &a) < 0 || (len && payload == NULL))
		return 0;
	hl = ip_header(buf, cap, &a, proto, len, 64, 0);
	if (hl == 0 || cap - hl < len)
		return 0;
	if (len)
		memmove(buf + hl, payload, len);
	return hl + len;
}

size_t pb_eth_wrap(uint8_t *buf, size_t cap, const uint8_t *ip, size_t len)
{
	if (cap < 14 || cap - 14 < len || len == 0)
		return 0;
	memmove(buf + 14, ip, len);
	memcpy(buf, mac_dst, 6);
	memcpy(buf + 6, mac_src, 6);
	put16(buf + 12, (buf[14] >> 4) == 6 ? 0x86dd : 0x0800);
	return 14 + len;
}

size_t pb_eth_tcp(uint8_t *buf, size_t cap, const struct pb_tcp *t)
{
	size_t n;

	if (cap < 14)
		return 0;
	n = pb_ip_tcp(buf + 14, cap - 14, t);
	return n ? pb_eth_wrap(buf, cap, buf + 14, n) : 0;
}

size_t pb_eth_udp(uint8_t *buf, size_t cap, const char *src, const char *dst,
		  uint16_t sport, uint16_t dport, const uint8_t *payload,
		  size_t len)
{
	size_t n;

	if (cap < 14)
		return 0;
	n = pb_ip_udp(buf + 14, cap - 14, src, dst, sport, dport, payload, len);
	return n ? pb_eth_wrap(buf, cap, buf + 14, n) : 0;
}

/* The link header of `dlt` for an IP datagram of version `ver` into hdr;
 * returns its length, 0 for an unknown link type. */
static size_t link_header(uint8_t *hdr, int dlt, int ver)
{
	uint16_t etype = ver == 6 ? 0x86dd : 0x0800;
	uint32_t family;

	switch (dlt) {
	case PB_DLT_EN10MB:
		memcpy(hdr, mac_dst, 6);
		memcpy(hdr + 6, mac_src, 6);
		put16(hdr + 12, etype);
		return 14;
	case PB_DLT_LINUX_SLL:
		memset(hdr, 0, 16);
		put16(hdr + 2, 1);       /* ARPHRD_ETHER */
		put16(hdr + 4, 6);
		memcpy(hdr + 6, mac_src, 6);
		put16(hdr + 14, etype);
		return 16;
	case PB_DLT_LINUX_SLL2:
		memset(hdr, 0, 20);
		put16(hdr, etype);
		put32(hdr + 4, 1);       /* interface index */
		put16(hdr + 8, 1);       /* ARPHRD_ETHER */
		hdr[11] = 6;
		memcpy(hdr + 12, mac_src, 6);
		return 20;
	case PB_DLT_NULL:
		family = ver == 6 ? 24 : 2;
		memcpy(hdr, &family, 4); /* host byte order, as BSD writes it */
		return 4;
	case PB_DLT_LOOP:
		put32(hdr, ver == 6 ? 24 : 2);
		return 4;
	case PB_DLT_RAW:
	case PB_LINKTYPE_RAW:
	case PB_DLT_IPV4:
	case PB_DLT_IPV6:
		return 0;
	default:
		return (size_t)-1;
	}
}

size_t pb_link_wrap(uint8_t *buf, size_t cap, int dlt, const uint8_t *ip,
		    size_t len)
{
	uint8_t hdr[20];
	size_t hl;

	if (len == 0)
		return 0;
	hl = link_header(hdr, dlt, ip[0] >> 4);
	if (hl == (size_t)-1 || cap < hl || cap - hl < len)
		return 0;
	memmove(buf + hl, ip, len);
	memcpy(buf, hdr, hl);
	return hl + len;
}

size_t pb_vlan_insert(uint8_t *frame, size_t cap, size_t len, uint16_t tpid,
		      uint16_t vid)
{
	if (len < 14 || cap < len + 4)
		return 0;
	memmove(frame + 16, frame + 12, len - 12);
	put16(frame + 12, tpid);
	put16(frame + 14, vid & 0x0fff);
	return len + 4;
}

size_t pb_ipv4_add_options(uint8_t *ip, size_t cap, size_t len,
			   const uint8_t *opts, size_t opts_len)
{
	size_t hlen, pad = (opts_len + 3) & ~(size_t)3;

	if (len < 20 || (ip[0] >> 4) != 4)
		return 0;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen + pad > 60 || cap < len + pad || len + pad > PB_MAX_DGRAM)
		return 0;
	memmove(ip + hlen + pad, ip + hlen, len - hlen);
	memset(ip + hlen, 0, pad);
	memcpy(ip + hlen, opts, opts_len);
	ip[0] = (uint8_t)(0x40 | ((hlen + pad) / 4));
	put16(ip + 2, (uint16_t)(len + pad));
	ipv4_fix_checksum(ip);
	return len + pad;
}

size_t pb_ipv4_fragment(uint8_t *buf, size_t cap, const uint8_t *ip,
			size_t len, size_t offset_bytes, size_t frag_len,
			int more)
{
	size_t hlen, plen;
	uint16_t frag;

	if (len < 20 || (ip[0] >> 4) != 4 || offset_bytes % 8)
		return 0;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20 || get16(ip + 2) < hlen || get16(ip + 2) > len)
		return 0;
	plen = get16(ip + 2) - hlen;
	if (offset_bytes > plen ||
	    frag_len > plen - offset_bytes || cap < hlen + frag_len ||
	    offset_bytes / 8 > 0x1fff)
		return 0;
	memcpy(buf, ip, hlen);
	memcpy(buf + hlen, ip + hlen + offset_bytes, frag_len);
	put16(buf + 2, (uint16_t)(hlen + frag_len));
	frag = (uint16_t)(offset_bytes / 8) | (more ? 0x2000 : 0);
	put16(buf + 6, frag);
	ipv4_fix_checksum(buf);
	return hlen + frag_len;
}

/* Make room for `size` bytes after the fixed IPv6 header and chain them in:
 * the new header takes over the old next-header value. */
static uint8_t *ipv6_open_ext(uint8_t *ip6, size_t cap, size_t len,
			      uint8_t type, size_t size)
{
	size_t plen;

	if (len < 40 || (ip6[0] >> 4) != 6 || cap < len + size)
		return NULL;
	plen = get16(ip6 + 4);
	if (plen + size > 0xffff)
		return NULL;
	memmove(ip6 + 40 + size, ip6 + 40, len - 40);
	memset(ip6 + 40, 0, size);
	ip6[40] = ip6[6];
	ip6[6] = type;
	put16(ip6 + 4, (uint16_t)(plen + size));
	return ip6 + 40;
}

/* Fill an option area with PadN options (RFC 8200 section 4.2); a PadN
 * holds at most 257 bytes, so long areas take several. */
static void pad_options(uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t take = n > 257 ? 257 : n;

		if (n - take == 1)
			take--;                     /* never leave one byte */
		if (take == 1) {
			p[0] = 0;                   /* Pad1 */
		} else {
			p[0] = 1;
			p[1] = (uint8_t)(take - 2);
		}
		p += take;
		n -= take;
	}
}

size_t pb_ipv6_add_ext(uint8_t *ip6, size_t cap, size_t len, uint8_t type,
		       size_t size)
{
	uint8_t *ext;
	size_t units;

	if (type == 51) {
		if (size < 12 || size % 4 || size / 4 - 2 > 255)
			return 0;
		units = size / 4 - 2;
	} else if (type == 0 || type == 43 || type == 60) {
		if (size < 8 || size % 8 || size / 8 - 1 > 255)
			return 0;
		units = size / 8 - 1;
	} else {
		return 0;
	}
	ext = ipv6_open_ext(ip6, cap, len, type, size);
	if (ext == NULL)
		return 0;
	ext[1] = (uint8_t)units;
	if (type == 0 || type == 60)
		pad_options(ext + 2, size - 2);
	if (type == 43)
		ext[2] = 4;                         /* SRH type: any with 0 left */
	return len + size;
}

size_t pb_ipv6_add_frag(uint8_t *ip6, size_t cap, size_t len,
			uint16_t offset8, int more, uint32_t id)
{
	uint8_t *ext = ipv6_open_ext(ip6, cap, len, 44, 8);

	if (ext == NULL || offset8 > 0x1fff)
		return 0;
	put16(ext + 2, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	put32(ext + 4, id);
	return len + 8;
}

void pb_conn_init(struct pb_conn *c, const char *cli, uint16_t cport,
		  const char *srv, uint16_t sport, uint32_t cisn,
		  uint32_t sisn)
{
	memset(c, 0, sizeof(*c));
	c->cli = cli;
	c->srv = srv;
	c->cport = cport;
	c->sport = sport;
	c->cseq = cisn;
	c->sseq = sisn;
	c->cipid = 1;
	c->sipid = 1;
}

size_t pb_conn_eth(struct pb_conn *c, int from_server, uint8_t flags,
		   const uint8_t *payload, size_t len, uint8_t *buf,
		   size_t cap)
{
	struct pb_tcp t;
	uint32_t *seq = from_server ? &c->sseq : &c->cseq;
	uint16_t *ipid = from_server ? &c->sipid : &c->cipid;
	size_t n;

	memset(&t, 0, sizeof(t));
	t.src = from_server ? c->srv : c->cli;
	t.dst = from_server ? c->cli : c->srv;
	t.sport = from_server ? c->sport : c->cport;
	t.dport = from_server ? c->cport : c->sport;
	t.seq = *seq;
	t.ack = (flags & PB_ACK) ? (from_server ? c->cseq : c->sseq) : 0;
	t.flags = flags;
	t.win = c->win ? c->win : 65535;
	t.ttl = from_server ? c->sttl : c->cttl;
	t.ipid = *ipid;
	t.payload = payload;
	t.len = len;
	n = pb_eth_tcp(buf, cap, &t);
	if (n == 0)
		return 0;
	/* SYN and FIN each take one sequence number. */
	*seq += (uint32_t)len + ((flags & PB_SYN) ? 1 : 0) +
		((flags & PB_FIN) ? 1 : 0);
	(*ipid)++;
	return n;
}

/* ---- pcap ------------------------------------------------------------------ */

FILE *pb_pcap_open(const char *path, int linktype)
{
	FILE *f = fopen(path, "wb");
	uint32_t hdr32[2];
	uint16_t ver[2] = { 2, 4 };
	uint32_t rest[4] = { 0, 0, 262144, (uint32_t)linktype };

	if (f == NULL)
		return NULL;
	hdr32[0] = 0xa1b2c3d4; /* microsecond timestamps, host order */
	if (fwrite(hdr32, 4, 1, f) != 1 || fwrite(ver, 2, 2, f) != 2 ||
	    fwrite(rest, 4, 4, f) != 4) {
		fclose(f);
		return NULL;
	}
	return f;
}

static int record(FILE *f, uint64_t ts_us, const uint8_t *frame,
		  size_t incl, size_t orig, size_t written)
{
	uint32_t rh[4];

	if (incl > 262144 || orig > 0xffffffffu || written > incl)
		return -1;
	rh[0] = (uint32_t)(ts_us / 1000000);
	rh[1] = (uint32_t)(ts_us % 1000000);
	rh[2] = (uint32_t)incl;
	rh[3] = (uint32_t)orig;
	if (fwrite(rh, 4, 4, f) != 4)
		return -1;
	if (written && fwrite(frame, 1, written, f) != written)
		return -1;
	return 0;
}

int pb_pcap_write(FILE *f, uint64_t ts_us, const uint8_t *frame, size_t len)
{
	return record(f, ts_us, frame, len, len, len);
}

int pb_pcap_write_snap(FILE *f, uint64_t ts_us, const uint8_t *frame,
		       size_t caplen, size_t wirelen)
{
	if (wirelen < caplen)
		return -1;
	return record(f, ts_us, frame, caplen, wirelen, caplen);
}

int pb_pcap_write_cut(FILE *f, uint64_t ts_us, const uint8_t *frame,
		      size_t len, size_t written)
{
	return record(f, ts_us, frame, len, len, written);
}

int pb_pcap_close(FILE *f)
{
	return fclose(f) == 0 ? 0 : -1;
}
