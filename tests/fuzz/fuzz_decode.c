/* fuzz_decode.c - libFuzzer harness for the frame decoder, the tunnel parsers and the IPv4 defragmenter
 * (decode.c, tunnel.c, defrag.c).
 *
 * Input: the first byte picks a link type, the rest is the frame.  One
 * defragmenter lives across inputs so fragment state (partial datagrams,
 * eviction, timeouts) is exercised by sequences of inputs; packet time
 * advances by a step also taken from the first byte.
 */

#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "defrag.h"
#include "htab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
};
#define N_LINKS (sizeof(link_types) / sizeof(link_types[0]))

/* Harness state, not program state: libFuzzer calls us with no context. */
static struct defrag *fuzz_df;
static uint64_t fuzz_now;

static void check_packet(const struct ts_packet *p)
{
	char a[46], b[46];
	volatile uint8_t sink = 0;

	ts_addr_str(&p->src, a, sizeof(a));
	ts_addr_str(&p->dst, b, sizeof(b));
	if (strlen(a) >= sizeof(a) || strlen(b) >= sizeof(b))
		abort();
	if (p->ip_version != 4 && p->ip_version != 6)
		abort();
	/* A tunnel's own IP protocol (GRE, IP in IP) never leaves decode. */
	if (p->proto != 6 && p->proto != 17)
		abort();
	if (p->payload_len > p->payload_wire_len)
		abort();
	if (p->payload_truncated != (p->payload_len < p->payload_wire_len))
		abort();
	/* Touch every byte the packet claims, so ASan checks the spans. */
	for (uint32_t i = 0; i < p->l3_len; i++)
		sink ^= p->l3[i];
	for (uint32_t i = 0; i < p->payload_len; i++)
		sink ^= p->payload[i];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_packet p;
	enum decode_result r;
	uint8_t *frame;
	size_t len;

	if (size < 1)
		return 0;
	if (fuzz_df == NULL) {
		fuzz_df = defrag_new(8, 2000000, &(struct hseed){ { 1, 2 } });
		if (fuzz_df == NULL)
			abort();
	}
	fuzz_now += (uint64_t)(data[0] >> 4) * 250000;
	/* An exactly sized copy, so a read past the frame is caught. */
	len = size - 1;
	frame = malloc(len ? len : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, len);
	r = decode_frame(link_types[data[0] % N_LINKS], frame, (uint32_t)len,
			 (uint32_t)len + (data[0] & 0x08 ? 100 : 0), fuzz_now,
			 fuzz_df, &p);
	if ((unsigned)r >= DEC__COUNT)
		abort();
	/* The layers passed are recorded whatever the result, within the
	 * nesting bound, each a known kind (the engine indexes by them). */
	if (p.n_tunnels > TS_MAX_TUNNELS)
		abort();
	for (unsigned i = 0; i < p.n_tunnels; i++)
		if (p.tunnel[i] >= TUN__COUNT)
			abort();
	if (strcmp(decode_result_name(r), "unknown") == 0)
		abort();
	if (r == DEC_OK)
		check_packet(&p);
	free(frame);
	return 0;
}
