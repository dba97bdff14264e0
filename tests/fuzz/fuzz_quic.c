/* fuzz_quic.c - libFuzzer harness for the QUIC stage (src/quic.c,
 * src/quic_keys.c, src/verdict_quic.c, src/out_quic.c).  The input is a
 * sequence of datagrams, each framed as: one byte (bit 0: server to client,
 * bit 1: cut by the capture), two bytes of length (big endian), the bytes.
 * They go through one flow in order, on a clock that advances 400 ms per
 * datagram; then the flow is judged and its quic object written.  Invariants
 * the stage promises are checked with a trap.  Seeds: real datagrams of the
 * QUIC lab (pcaps/lab-quic.pcap) and Initials from the unit tests. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "out_quic.h"
#include "quic.h"
#include "verdict_quic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static struct quic_stage *stage;

static void judge_and_write(const struct quic_flow *qf, uint64_t now)
{
	const struct quic_info *q = quic_flow_info(qf);
	struct verdict_cfg cfg;
	struct flow_record rec;
	struct json j;
	verdict_cfg_default(&cfg);
	struct verdict_quic_input in = { q, FLOW_END_EOF, now, false, { 1, 1 } };
	memset(&rec, 0, sizeof(rec));
	verdict_quic_decide(&cfg, &in, &rec.vr);
	check(rec.vr.verdict == V_OK || rec.vr.verdict == V_QUIC_STALL ||
	      rec.vr.verdict == V_INCOMPLETE || rec.vr.verdict == V_NOT_TLS ||
	      rec.vr.verdict == V_CLIENT_ABORT);
	check(q->n_vn <= QUIC_MAX_VN && q->tls.sni_len <= TLS_MAX_SNI);
	check(q->tls.ja4[0] == '\0' || strlen(q->tls.ja4) == 36);
	rec.quic = q;
	json_init(&j);
	out_quic_json(&j, &rec);
	json_free(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct quic_flow *qf = NULL;
	uint64_t ts = 1700000000000000ULL;
	if (!stage && !(stage = quic_stage_new()))
		return 0;
	while (size >= 3) {
		uint8_t flags = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (qf || quic_candidate(data, len))
			quic_datagram(stage, &qf, data, len, flags & 2, flags & 1, ts);
		data += len;
		size -= len;
		ts += 400000;
	}
	if (qf) {
		judge_and_write(qf, ts);
		quic_flow_free(qf);
	}
	return 0;
}
