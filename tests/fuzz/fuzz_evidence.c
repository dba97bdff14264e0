/* fuzz_evidence.c - libFuzzer harness for evidence capture (-w): a frame
 * decoded (decode.c, defrag.c), kept by the evidence buffer (evidbuf.c,
 * including datagrams rebuilt from fragments behind a made link header),
 * and written by the evidence sink (out_pcap.c, pcapw.c) with
 * --anonymize-clients, whose address and checksum rewriting works at
 * offsets the decoder found in hostile bytes.
 *
 * Input: as fuzz_decode's (the first byte picks a link type and the
 * direction, the rest is the frame).  The sink writes into a temporary
 * directory and is started afresh every 512 inputs, so the file stays
 * small.
 */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "asn.h"
#include "decode.h"
#include "defrag.h"
#include "evidbuf.h"
#include "flow.h"
#include "htab.h"
#include "out_pcap.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int link_types[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, 101,
	DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP,
};
#define N_LINKS (sizeof(link_types) / sizeof(link_types[0]))

/* Harness state, not program state: libFuzzer calls us with no context. */
static struct defrag *fuzz_df;
static struct evidbuf *fuzz_eb;
static struct sink fuzz_sink;
static char fuzz_path[64];
static uint64_t fuzz_seq, fuzz_inputs;

static void sink_restart(void)
{
	char err[256];
	if (fuzz_sink.ctx) {
		struct run_end end = { 0 };
		end.evidence = evidbuf_stats(fuzz_eb);
		/* The sink's closing lines go nowhere; libFuzzer keeps stderr. */
		fflush(stderr);
		int saved = dup(2), null = open("/dev/null", O_WRONLY);
		if (saved < 0 || null < 0 || dup2(null, 2) < 0)
			abort();
		fuzz_sink.ops->finish(fuzz_sink.ctx, &end);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		close(null);
		fuzz_sink.ops->free(fuzz_sink.ctx);
	}
	struct out_pcap_opts o = { fuzz_path, fuzz_inputs & 512 ? PCAPW_PCAP : PCAPW_PCAPNG, true,
				   1 << 20 };
	struct out_pcap *op = out_pcap_open(&o, err, sizeof(err));
	if (!op)
		abort();
	fuzz_sink = out_pcap_sink(op);
}

/* Leave nothing behind in /tmp. */
static void cleanup(void)
{
	char p[96];
	static const char *const suffix[] = { "", ".sha256", ".comments" };
	if (fuzz_sink.ctx)
		fuzz_sink.ops->free(fuzz_sink.ctx);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", fuzz_path, suffix[i]);
		remove(p);
	}
	*strrchr(fuzz_path, '/') = '\0';
	remove(fuzz_path);
}

static void setup(void)
{
	char dir[] = "/tmp/fuzz_evidence.XXXXXX";
	if (!mkdtemp(dir))
		abort();
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/ev.pcapng", dir);
	fuzz_df = defrag_new(8, 2000000, &(struct hseed){ { 1, 2 } });
	struct evidbuf_cfg c = { 4, 1 << 20, 8 << 20 };
	fuzz_eb = evidbuf_new(&c);
	if (!fuzz_df || !fuzz_eb)
		abort();
	sink_restart();
	atexit(cleanup);
}

/* The packet as the engine hands it over: kept, then written as an
 * interfered flow's (a stall, so with a clock mark), then released. */
static void keep_and_write(int dlt, const uint8_t *frame, uint32_t len, const struct ts_packet *p,
			   int dir)
{
	struct flow f;
	memset(&f, 0, sizeof(f));
	fuzz_seq += 2;
	evidbuf_add(fuzz_eb, &f, fuzz_seq - 1, dlt, fuzz_seq * 1000 - 1000, frame, len, len, p, dir);
	evidbuf_add(fuzz_eb, &f, fuzz_seq, dlt, fuzz_seq * 1000, frame, len, len, p, !dir);
	struct flow_record rec;
	memset(&rec, 0, sizeof(rec));
	rec.flow_id = fuzz_seq;
	rec.cli = dir ? p->dst : p->src;
	rec.srv = dir ? p->src : p->dst;
	anonymize_addr(&rec.cli);
	rec.vr.verdict = V_TLS_STALL;
	rec.vr.pcap_written = true;
	rec.why = FLOW_END_EOF;
	rec.evidence = (struct evid_ref){ f.evid, fuzz_seq + 1, fuzz_seq, fuzz_seq * 1000 + 7 };
	fuzz_sink.ops->flow(fuzz_sink.ctx, &rec);
	evidbuf_drop(fuzz_eb, &f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_packet p;
	if (size < 1)
		return 0;
	if (!fuzz_eb)
		setup();
	if (++fuzz_inputs % 512 == 0)
		sink_restart();
	/* An exactly sized copy, so a read past the frame is caught. */
	uint32_t len = (uint32_t)(size - 1);
	uint8_t *frame = malloc(len ? len : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, len);
	int dlt = link_types[data[0] % N_LINKS];
	if (decode_frame(dlt, frame, len, len, fuzz_seq * 1000, fuzz_df, &p) == DEC_OK)
		keep_and_write(dlt, frame, len, &p, (data[0] >> 7) & 1);
	free(frame);
	return 0;
}
