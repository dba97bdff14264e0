/* fanout.c - TPACKET_V3 receive rings in a fanout group whose classic BPF
 * program picks the socket (packet(7), Documentation/networking/
 * packet_mmap.rst, Documentation/networking/filter.rst). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "fanout.h"

#define FANOUT_BLOCK (1u << 20)      /* bytes per block */
#define FANOUT_FRAME 2048u           /* tp_frame_size: a hint for V3, a multiple of the alignment */
#define FANOUT_RETIRE_MS 10          /* the kernel hands over a block at least this often */

bool fanout_supported(const char *iface)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	bool ok = false;
	if (fd < 0 || strlen(iface) >= sizeof(ifr.ifr_name)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, iface, strlen(iface));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == 0)
		ok = ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER;
	close(fd);
	return ok;
}

static int fail(char *err, size_t errlen, const char *what, const char *iface)
{
	snprintf(err, errlen, "%s: %s: %s", iface, what, strerror(errno));
	return -1;
}

/* The BPF expression, compiled by libpcap for Ethernet frames. */
static int attach_filter(int fd, const char *bpf, int snaplen, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *dead;
	int rc = 0;
	if (!bpf || !*bpf)
		return 0;
	if (!(dead = pcap_open_dead(DLT_EN10MB, snaplen))) {
		snprintf(err, errlen, "cannot compile the filter: out of memory");
		return -1;
	}
	if (pcap_compile(dead, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", bpf, pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	struct sock_fprog fp = { (unsigned short)prog.bf_len, (struct sock_filter *)prog.bf_insns };
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)) < 0) {
		snprintf(err, errlen, "cannot attach the filter: %s", strerror(errno));
		rc = -1;
	}
	pcap_freecode(&prog);
	pcap_close(dead);
	return rc;
}

/* ---- the program that picks a worker -------------------------------------------------
 *
 * The kernel's own PACKET_FANOUT_HASH reads the outer headers only: a VXLAN
 * encapsulator gives each packet a source port of its own, so the two
 * directions of one inner connection, even its packets one after the
 * other, would reach different workers, and IPv6 fragments (which it does
 * not gather) hash apart from their flow.  This program returns a hash the
 * same both ways of a connection, of:
 *   - IPv4 TCP and UDP: the addresses and the ports (fragments are gathered
 *     first, PACKET_FANOUT_FLAG_DEFRAG);
 *   - IPv6: the addresses (a fragment carries no ports);
 *   - VXLAN (UDP 4789), GENEVE (UDP 6081), GRE carrying IP or Ethernet,
 *     ERSPAN I and II, IP in IPv4 and in IPv6: the inner addresses (one
 *     802.1Q tag on an inner Ethernet frame is stepped over);
 *   - any other IPv4 packet (ERSPAN III, GTP-U, CAPWAP among them): the
 *     outer addresses, so a tunnel's frames stay together in one worker;
 *   - anything else: worker 0.
 * The kernel takes it modulo the number of sockets.  Loads are relative to
 * the start of the data the kernel holds, which is the network header on
 * the way in and the Ethernet header on the way out (PACKET_OUTGOING);
 * a load past the end returns 0 (worker 0) for the frame.  A frame whose
 * VLAN tag the kernel did not take off (one going out without tag
 * offload, the second tag of 802.1ad) is not IP to it: worker 0. */

enum {
	M_BASE, M_HASH, M_PROTO, M_T, M_LEN, M_OFF /* scratch memory words */
};

enum label {
	L_NONE, L_OUT, L_BASE, L_V4, L_V6, L_ZERO, L_UDP, L_PORTS, L_VXLAN, L_GENEVE,
	L_G_ETH, L_G_4, L_G_6, L_GRE, L_GK0, L_GK, L_GS0, L_GS, L_GP, L_ERSPAN, L_E2,
	L_V6_4, L_V6_6, L_ETH, L_ETH1, L_E4, L_E6, L_IN4, L_IN6, L_OUTER, L_MIX, L__COUNT
};

#define PROG_MAX 256

struct prog {
	struct sock_filter ins[PROG_MAX];
	uint8_t jt[PROG_MAX], jf[PROG_MAX], ja[PROG_MAX]; /* labels to resolve */
	int at[L__COUNT];
	unsigned n;
	bool bad;
};

static void op(struct prog *p, uint16_t code, uint32_t k)
{
	if (p->n >= PROG_MAX) {
		p->bad = true;
		return;
	}
	p->ins[p->n] = (struct sock_filter)BPF_STMT(code, k);
	p->jt[p->n] = p->jf[p->n] = p->ja[p->n] = L_NONE;
	p->n++;
}

/* A conditional jump to label t or f (L_NONE: the next instruction). */
static void jmp(struct prog *p, uint16_t code, uint32_t k, enum label t, enum label f)
{
	op(p, BPF_JMP | code | BPF_K, k);
	if (!p->bad) {
		p->jt[p->n - 1] = (uint8_t)t;
		p->jf[p->n - 1] = (uint8_t)f;
	}
}

static void go(struct prog *p, enum label l)
{
	op(p, BPF_JMP | BPF_JA, 0);
	if (!p->bad)
		p->ja[p->n - 1] = (uint8_t)l;
}

static void label(struct prog *p, enum label l)
{
	p->at[l] = (int)p->n;
}

/* Jumps go forward only; conditional ones at most 255 instructions. */
static bool resolve(struct prog *p)
{
	for (unsigned i = 0; i < p->n && !p->bad; i++) {
		int t = p->jt[i] ? p->at[p->jt[i]] - (int)i - 1 : 0;
		int f = p->jf[i] ? p->at[p->jf[i]] - (int)i - 1 : 0;
		int a = p->ja[i] ? p->at[p->ja[i]] - (int)i - 1 : 0;
		if (t < 0 || t > 255 || f < 0 || f > 255 || a < 0)
			p->bad = true;
		p->ins[i].jt = (uint8_t)t;
		p->ins[i].jf = (uint8_t)f;
		if (p->ja[i])
			p->ins[i].k = (uint32_t)a;
	}
	return !p->bad;
}

#define LD_ABS(sz, k) op(p, BPF_LD | (sz) | BPF_ABS, (uint32_t)(k))
#define LD_IND(sz, k) op(p, BPF_LD | (sz) | BPF_IND, (k))
#define LD_MEM(m) op(p, BPF_LD | BPF_MEM, (m))
#define LDX_MEM(m) op(p, BPF_LDX | BPF_MEM, (m))
#define ST(m) op(p, BPF_ST, (m))
#define STX(m) op(p, BPF_STX, (m))
#define ALU(o, k) op(p, BPF_ALU | (o) | BPF_K, (k))
#define XOR_X() op(p, BPF_ALU | BPF_XOR | BPF_X, 0)
#define ADD_X() op(p, BPF_ALU | BPF_ADD | BPF_X, 0)
#define TAX() op(p, BPF_MISC | BPF_TAX, 0)
#define TXA() op(p, BPF_MISC | BPF_TXA, 0)
#define X_PLUS(k) (TXA(), ALU(BPF_ADD, (k)), TAX())

/* The network header, and the outer IPv4 header's fields. */
static void prog_start(struct prog *p)
{
	LD_ABS(BPF_W, SKF_AD_OFF + SKF_AD_PKTTYPE);
	jmp(p, BPF_JEQ, PACKET_OUTGOING, L_OUT, L_NONE);
	op(p, BPF_LDX | BPF_IMM, 0);
	go(p, L_BASE);
	label(p, L_OUT);
	op(p, BPF_LDX | BPF_IMM, 14);
	label(p, L_BASE);
	STX(M_BASE);
	LD_ABS(BPF_W, SKF_AD_OFF + SKF_AD_PROTOCOL);
	jmp(p, BPF_JEQ, 0x0800, L_V4, L_NONE);
	jmp(p, BPF_JEQ, 0x86dd, L_V6, L_ZERO);
	label(p, L_ZERO);
	op(p, BPF_RET | BPF_K, 0);
	label(p, L_V4);
	LD_IND(BPF_B, 9);
	ST(M_PROTO);
	LD_IND(BPF_W, 12);
	ST(M_HASH);
	LD_IND(BPF_W, 16);
	LDX_MEM(M_HASH);
	XOR_X();
	ST(M_HASH);
	LDX_MEM(M_BASE);
	LD_IND(BPF_B, 0);
	ALU(BPF_AND, 0x0f);
	ALU(BPF_LSH, 2);
	ADD_X();
	TAX(); /* X: the IPv4 payload */
	LD_MEM(M_PROTO);
	jmp(p, BPF_JEQ, 6, L_PORTS, L_NONE);
	jmp(p, BPF_JEQ, 17, L_UDP, L_NONE);
	jmp(p, BPF_JEQ, 4, L_IN4, L_NONE);
	jmp(p, BPF_JEQ, 41, L_IN6, L_NONE);
	jmp(p, BPF_JEQ, 47, L_GRE, L_OUTER);
}

/* UDP: a tunnel's port, or the ports into the hash. */
static void prog_udp(struct prog *p)
{
	label(p, L_UDP);
	LD_IND(BPF_H, 2);
	jmp(p, BPF_JEQ, 4789, L_VXLAN, L_NONE);
	jmp(p, BPF_JEQ, 6081, L_GENEVE, L_NONE);
	jmp(p, BPF_JEQ, 2152, L_OUTER, L_NONE);
	jmp(p, BPF_JEQ, 5247, L_OUTER, L_NONE);
	label(p, L_PORTS);
	LD_IND(BPF_H, 0);
	ST(M_T);
	LD_IND(BPF_H, 2);
	LDX_MEM(M_T);
	XOR_X();
	LDX_MEM(M_HASH);
	XOR_X();
	go(p, L_MIX);
	label(p, L_VXLAN); /* 8 bytes of UDP, 8 of VXLAN, then Ethernet */
	X_PLUS(16);
	go(p, L_ETH);
	label(p, L_GENEVE); /* 8 of UDP, 8 of GENEVE, its options, then what its protocol says */
	LD_IND(BPF_B, 8);
	ALU(BPF_AND, 0x3f);
	ALU(BPF_LSH, 2);
	ALU(BPF_ADD, 16);
	ADD_X();
	ST(M_T);
	LD_IND(BPF_H, 10);
	jmp(p, BPF_JEQ, 0x6558, L_G_ETH, L_NONE);
	jmp(p, BPF_JEQ, 0x0800, L_G_4, L_NONE);
	jmp(p, BPF_JEQ, 0x86dd, L_G_6, L_OUTER);
	label(p, L_G_ETH);
	LDX_MEM(M_T);
	go(p, L_ETH);
	label(p, L_G_4);
	LDX_MEM(M_T);
	go(p, L_IN4);
	label(p, L_G_6);
	LDX_MEM(M_T);
	go(p, L_IN6);
}

/* GRE: 4 bytes, 4 more for each of checksum, key and sequence number. */
static void prog_gre(struct prog *p)
{
	label(p, L_GRE);
	LD_IND(BPF_B, 0);
	ST(M_T);
	op(p, BPF_LD | BPF_IMM, 4);
	ST(M_LEN);
	LD_MEM(M_T);
	jmp(p, BPF_JSET, 0x80, L_NONE, L_GK0);
	LD_MEM(M_LEN);
	ALU(BPF_ADD, 4);
	ST(M_LEN);
	label(p, L_GK0);
	LD_MEM(M_T);
	jmp(p, BPF_JSET, 0x20, L_GK, L_GS0);
	label(p, L_GK);
	LD_MEM(M_LEN);
	ALU(BPF_ADD, 4);
	ST(M_LEN);
	label(p, L_GS0);
	LD_MEM(M_T);
	jmp(p, BPF_JSET, 0x10, L_GS, L_GP);
	label(p, L_GS);
	LD_MEM(M_LEN);
	ALU(BPF_ADD, 4);
	ST(M_LEN);
	label(p, L_GP);
	LD_IND(BPF_H, 2);
	ST(M_PROTO);
	TXA();
	LDX_MEM(M_LEN);
	ADD_X();
	TAX(); /* X: after the GRE header */
	LD_MEM(M_PROTO);
	jmp(p, BPF_JEQ, 0x0800, L_IN4, L_NONE);
	jmp(p, BPF_JEQ, 0x86dd, L_IN6, L_NONE);
	jmp(p, BPF_JEQ, 0x6558, L_ETH, L_NONE);
	jmp(p, BPF_JEQ, 0x88be, L_ERSPAN, L_OUTER);
	label(p, L_ERSPAN); /* type II has a sequence number and 8 bytes of header; type I neither */
	LD_MEM(M_T);
	jmp(p, BPF_JSET, 0x10, L_E2, L_ETH);
	label(p, L_E2);
	X_PLUS(8);
	go(p, L_ETH);
}

/* The outer IPv6 header: IP inside it, or its addresses. */
static void prog_v6(struct prog *p)
{
	label(p, L_V6);
	LD_IND(BPF_B, 6);
	jmp(p, BPF_JEQ, 4, L_V6_4, L_NONE);
	jmp(p, BPF_JEQ, 41, L_V6_6, L_IN6);
	label(p, L_V6_4);
	X_PLUS(40);
	go(p, L_IN4);
	label(p, L_V6_6);
	X_PLUS(40);
	go(p, L_IN6);
}

/* An inner Ethernet frame at X, then the inner addresses, then the mix. */
static void prog_inner(struct prog *p)
{
	label(p, L_ETH);
	LD_IND(BPF_H, 12);
	jmp(p, BPF_JEQ, 0x8100, L_NONE, L_ETH1);
	X_PLUS(4);
	LD_IND(BPF_H, 12);
	label(p, L_ETH1);
	jmp(p, BPF_JEQ, 0x0800, L_E4, L_NONE);
	jmp(p, BPF_JEQ, 0x86dd, L_E6, L_OUTER);
	label(p, L_E4);
	X_PLUS(14);
	go(p, L_IN4);
	label(p, L_E6);
	X_PLUS(14);
	go(p, L_IN6);
	label(p, L_IN4);
	LD_IND(BPF_W, 12);
	ST(M_HASH);
	LD_IND(BPF_W, 16);
	LDX_MEM(M_HASH);
	XOR_X();
	go(p, L_MIX);
	label(p, L_IN6); /* eight words of addresses */
	STX(M_OFF);
	op(p, BPF_LD | BPF_IMM, 0);
	ST(M_HASH);
	for (uint32_t off = 8; off < 40; off += 4) {
		LDX_MEM(M_OFF);
		LD_IND(BPF_W, off);
		LDX_MEM(M_HASH);
		XOR_X();
		ST(M_HASH);
	}
	go(p, L_MIX);
	label(p, L_OUTER);
	LD_MEM(M_HASH);
	label(p, L_MIX); /* Fibonacci hashing: the high half spreads any input */
	ALU(BPF_MUL, 0x9e3779b1u);
	ALU(BPF_RSH, 16);
	op(p, BPF_RET | BPF_A, 0);
}

static bool build_prog(struct prog *p)
{
	memset(p, 0, sizeof(*p));
	prog_start(p);
	prog_udp(p);
	prog_gre(p);
	prog_v6(p);
	prog_inner(p);
	return resolve(p);
}

static int setup_ring(struct fanout_sock *s, const struct fanout_opts *o, char *err, size_t errlen)
{
	int v = TPACKET_V3;
	unsigned mib = o->ring_mib ? o->ring_mib : 32;
	struct tpacket_req3 req;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0)
		return fail(err, errlen, "TPACKET_V3", o->iface);
	memset(&req, 0, sizeof(req));
	req.tp_block_size = FANOUT_BLOCK;
	req.tp_block_nr = mib;
	req.tp_frame_size = FANOUT_FRAME;
	req.tp_frame_nr = (FANOUT_BLOCK / FANOUT_FRAME) * mib;
	req.tp_retire_blk_tov = FANOUT_RETIRE_MS;
	if (setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
		return fail(err, errlen, "receive ring", o->iface);
	s->block_size = FANOUT_BLOCK;
	s->nblocks = mib;
	s->ring_len = (size_t)FANOUT_BLOCK * mib;
	s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, s->fd, 0);
	if (s->ring == MAP_FAILED) /* without MAP_LOCKED when RLIMIT_MEMLOCK is low */
		s->ring = mmap(NULL, s->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (s->ring == MAP_FAILED) {
		s->ring = NULL;
		return fail(err, errlen, "mapping the receive ring", o->iface);
	}
	return 0;
}

static int bind_iface(struct fanout_sock *s, const struct fanout_opts *o, unsigned ifindex, char *err,
		      size_t errlen)
{
	struct sockaddr_ll ll;
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = AF_PACKET;
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = (int)ifindex;
	if (bind(s->fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		return fail(err, errlen, "bind", o->iface);
	if (o->promisc) {
		struct packet_mreq mr;
		memset(&mr, 0, sizeof(mr));
		mr.mr_ifindex = (int)ifindex;
		mr.mr_type = PACKET_MR_PROMISC;
		if (setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
			return fail(err, errlen, "promiscuous mode", o->iface);
	}
	return 0;
}

/* Into the group: a new one (o->group < 0: the kernel picks an unused id,
 * and the program is set), or the first socket's.  IPv4 fragments are
 * gathered before the program sees them. */
static int join_group(struct fanout_sock *s, const struct fanout_opts *o, char *err, size_t errlen)
{
	uint32_t flags = PACKET_FANOUT_FLAG_DEFRAG | (o->group < 0 ? PACKET_FANOUT_FLAG_UNIQUEID : 0);
	uint32_t arg = (o->group < 0 ? 0 : (uint32_t)o->group & 0xffff) | (PACKET_FANOUT_CBPF | flags) << 16;
	int fan = (int)arg;	/* the kernel reads the same 32 bits */
	if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &fan, sizeof(fan)) < 0)
		return fail(err, errlen, "joining the fanout group", o->iface);
	socklen_t len = sizeof(fan);
	if (getsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &fan, &len) < 0)
		return fail(err, errlen, "reading the fanout group", o->iface);
	s->group = fan & 0xffff;
	if (o->group >= 0)
		return 0;
	struct prog p;
	if (!build_prog(&p)) {
		snprintf(err, errlen, "%s: the fanout program does not assemble", o->iface);
		return -1;
	}
	struct sock_fprog fp = { (unsigned short)p.n, p.ins };
	if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT_DATA, &fp, sizeof(fp)) < 0)
		return fail(err, errlen, "setting the fanout program", o->iface);
	return 0;
}

int fanout_open(struct fanout_sock *s, const struct fanout_opts *o, const char *bpf, char *err,
		size_t errlen)
{
	memset(s, 0, sizeof(*s));
	unsigned ifindex = if_nametoindex(o->iface);
	if (!ifindex)
		return fail(err, errlen, "no such interface", o->iface);
	if ((s->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL))) < 0)
		return fail(err, errlen, "packet socket", o->iface);
	/* the filter before the ring and the group: nothing unfiltered queues */
	if (attach_filter(s->fd, bpf, o->snaplen ? o->snaplen : 262144, err, errlen) < 0 ||
	    setup_ring(s, o, err, errlen) < 0 || bind_iface(s, o, ifindex, err, errlen) < 0 ||
	    join_group(s, o, err, errlen) < 0) {
		fanout_close(s);
		return -1;
	}
	return 0;
}

void fanout_close(struct fanout_sock *s)
{
	if (s->ring)
		munmap(s->ring, s->ring_len);
	if (s->fd >= 0)
		close(s->fd);
	s->ring = NULL;
	s->fd = -1;
}

static struct tpacket_block_desc *block_at(const struct fanout_sock *s, unsigned i)
{
	return (struct tpacket_block_desc *)(s->ring + (size_t)i * s->block_size);
}

enum capture_next fanout_next(struct fanout_sock *s, struct frame *f)
{
	if (!s->left) {
		struct tpacket_block_desc *b = block_at(s, s->block);
		if (s->next) { /* the last block is read: back to the kernel */
			__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
			s->block = (s->block + 1) % s->nblocks;
			s->next = NULL;
			b = block_at(s, s->block);
		}
		if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			return CAPTURE_NONE;
		s->left = b->hdr.bh1.num_pkts;
		s->next = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
		if (!s->left)
			return CAPTURE_NONE; /* an empty block (retired by the timer): released next call */
	}
	const struct tpacket3_hdr *h = (const struct tpacket3_hdr *)s->next;
	f->ts_us = (uint64_t)h->tp_sec * 1000000u + h->tp_nsec / 1000u;
	f->data = s->next + h->tp_mac;
	f->caplen = h->tp_snaplen;
	f->wirelen = h->tp_len;
	s->left--;
	if (s->left)
		s->next += h->tp_next_offset;
	s->frames++;
	return CAPTURE_FRAME;
}

int fanout_wait(struct fanout_sock *s, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p = { s->fd, POLLIN | POLLERR, 0 };
	int n = poll(&p, 1, timeout_ms);
	if (n < 0 && errno != EINTR) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return -1;
	}
	if (n > 0 && (p.revents & POLLERR)) {
		snprintf(err, errlen, "the packet socket failed");
		return -1;
	}
	return 0;
}

void fanout_kstats(struct fanout_sock *s, unsigned long long *received, unsigned long long *dropped)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);
	if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
		/* tp_packets counts the dropped ones too */
		s->received += st.tp_packets;
		s->dropped += st.tp_drops;
	}
	*received = s->received;
	*dropped = s->dropped;
}
