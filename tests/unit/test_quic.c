/* test_quic.c - the QUIC stage: Initial keys against RFC 9001 appendix A and
 * RFC 9369 appendix A, header protection samples, protected Initials built
 * here and read back (one packet, a ClientHello split at every offset,
 * CRYPTO out of order and overlapping, coalesced packets, VN, Retry, v2's
 * packet types), hostile input (truncated vs malformed, unknown versions,
 * a broken tag), the QUIC verdicts, and JA4 against FoxIO's example. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ja4.h"
#include "quic.h"
#include "quic_keys.h"
#include "tlsbuild.h"
#include "verdict_quic.h"

#define T0 1700000000000000ULL
#define MS 1000ULL

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_hex(const uint8_t *got, const char *want, size_t n)
{
	uint8_t w[64];
	hex(want, w, n);
	assert_memory_equal(got, w, n);
}

/* ---- keys ------------------------------------------------------------------- */

static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static void test_keys_v1(void **state)
{
	(void)state;
	struct quic_crypto *qc = quic_crypto_new();
	struct quic_keys c, s;
	uint8_t sample[16], mask[5];
	assert_non_null(qc);
	assert_true(quic_initial_keys(qc, quic_version_find(QUIC_V1), rfc_dcid, 8, &c, &s));
	/* RFC 9001 appendix A.1 */
	assert_hex(c.key, "1f369613dd76d5467730efcbe3b1a22d", 16);
	assert_hex(c.iv, "fa044b2f42a3fd3b46fb255c", 12);
	assert_hex(c.hp, "9f50449e04a0e810283a1e9933adedd2", 16);
	assert_hex(s.key, "cf3a5331653c364c88f0f379b6067e37", 16);
	assert_hex(s.iv, "0ac1493ca1905853b0bba03e", 12);
	assert_hex(s.hp, "c206b8d9b9f0f37644430b490eeaa314", 16);
	/* appendix A.2 and A.3: the header protection masks */
	hex("d1b1c98dd7689fb8ec11d242b123dc9b", sample, 16);
	assert_true(quic_hp_mask(qc, c.hp, sample, mask));
	assert_hex(mask, "437b9aec36", 5);
	hex("2cd0991cd25b0aac406a5816b6394100", sample, 16);
	assert_true(quic_hp_mask(qc, s.hp, sample, mask));
	assert_hex(mask, "2ec0d8356a", 5);
	quic_crypto_free(qc);
}

static void test_keys_v2(void **state)
{
	(void)state;
	struct quic_crypto *qc = quic_crypto_new();
	struct quic_keys c, s;
	assert_true(quic_initial_keys(qc, quic_version_find(QUIC_V2), rfc_dcid, 8, &c, &s));
	/* RFC 9369 appendix A.1 */
	assert_hex(c.key, "8b1a0bc121284290a29e0971b5cd045d", 16);
	assert_hex(c.iv, "91f73e2351d8fa91660e909f", 12);
	assert_hex(c.hp, "45b95e15235d6f45a6b19cbcb0294ba9", 16);
	assert_hex(s.key, "82db637861d55e1d011f19ea71d5d2a7", 16);
	assert_hex(s.iv, "dd13c276499c0249d3310652", 12);
	assert_hex(s.hp, "edf6d05c83121201b436e16877593c3a", 16);
	quic_crypto_free(qc);
}

static void test_versions(void **state)
{
	(void)state;
	char b[16];
	assert_string_equal(quic_version_name(QUIC_V1, b, sizeof(b)), "v1");
	assert_string_equal(quic_version_name(0xff00001d, b, sizeof(b)), "draft-29");
	assert_string_equal(quic_version_name(0x54303531, b, sizeof(b)), "T051");
	assert_string_equal(quic_version_name(0x1a2a3a4a, b, sizeof(b)), "0x1a2a3a4a");
	assert_null(quic_version_find(0x51303530)); /* Q050: Google's own crypto */
	/* RFC 9369 section 3.2: v2's Initial is 0b01, its Retry 0b00 */
	assert_int_equal(quic_ptype_of(quic_version_find(QUIC_V2), 0xd0), QPT_INITIAL);
	assert_int_equal(quic_ptype_of(quic_version_find(QUIC_V2), 0xc0), QPT_RETRY);
	assert_int_equal(quic_ptype_of(quic_version_find(QUIC_V1), 0xe0), QPT_HANDSHAKE);
}

/* ---- building protected Initials ------------------------------------------------ */

static const uint8_t cdcid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t cscid[4] = { 9, 9, 9, 9 };

static size_t varint(uint8_t *p, uint64_t v)
{
	if (v < 64) {
		p[0] = (uint8_t)v;
		return 1;
	}
	p[0] = (uint8_t)(0x40 | (v >> 8));
	p[1] = (uint8_t)v;
	return 2;
}

static size_t crypto_frame(uint8_t *p, uint64_t off, const uint8_t *data, size_t n)
{
	size_t k = 0;
	p[k++] = 0x06;
	k += varint(p + k, off);
	k += varint(p + k, n);
	memcpy(p + k, data, n);
	return k + n;
}

/* A long header packet of type `bits` (the version's own encoding) with
 * frames padded to `pad` bytes, protected with the Initial keys of
 * key_dcid for direction dir.  Returns its length. */
static size_t protect(uint8_t *out, uint32_t version, uint8_t bits, int dir, const uint8_t *dcid,
		      size_t dl, const uint8_t *frames, size_t fl, size_t pad, uint16_t pn,
		      const uint8_t *key_dcid)
{
	struct quic_crypto *qc = quic_crypto_new();
	struct quic_keys k[2];
	uint8_t payload[2048] = { 0 };
	size_t n = 0, plen = fl > pad ? fl : pad;
	memcpy(payload, frames, fl);
	assert_true(quic_initial_keys(qc, quic_version_find(version), key_dcid, 8, &k[0], &k[1]));
	out[n++] = (uint8_t)(0xc0 | (bits << 4) | 0x01); /* 2-byte packet number */
	out[n++] = (uint8_t)(version >> 24);
	out[n++] = (uint8_t)(version >> 16);
	out[n++] = (uint8_t)(version >> 8);
	out[n++] = (uint8_t)version;
	out[n++] = (uint8_t)dl;
	memcpy(out + n, dcid, dl);
	n += dl;
	out[n++] = dir == 0 ? 4 : 0;
	if (dir == 0) {
		memcpy(out + n, cscid, 4);
		n += 4;
	}
	if (quic_ptype_of(quic_version_find(version), out[0]) == QPT_INITIAL)
		out[n++] = 0; /* token */
	size_t len = 2 + plen + 16;
	out[n++] = (uint8_t)(0x40 | (len >> 8));
	out[n++] = (uint8_t)len;
	size_t pn_off = n;
	out[n++] = (uint8_t)(pn >> 8);
	out[n++] = (uint8_t)pn;
	uint8_t nonce[12];
	memcpy(nonce, k[dir].iv, 12);
	nonce[10] ^= (uint8_t)(pn >> 8);
	nonce[11] ^= (uint8_t)pn;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0;
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k[dir].key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &outl, out, (int)n), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out + n, &outl, payload, (int)plen), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n + outl, &outl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n + plen), 1);
	EVP_CIPHER_CTX_free(c);
	n += plen + 16;
	uint8_t mask[5];
	assert_true(quic_hp_mask(qc, k[dir].hp, out + pn_off + 4, mask));
	out[0] ^= mask[0] & 0x0f;
	out[pn_off] ^= mask[1];
	out[pn_off + 1] ^= mask[2];
	quic_crypto_free(qc);
	return n;
}

static size_t client_initial(uint8_t *out, const uint8_t *frames, size_t fl, uint16_t pn)
{
	return protect(out, QUIC_V1, 0, 0, cdcid, 8, frames, fl, 1162, pn, cdcid);
}

static size_t server_initial(uint8_t *out, const uint8_t *frames, size_t fl, uint16_t pn)
{
	return protect(out, QUIC_V1, 0, 1, cscid, 4, frames, fl, 100, pn, cdcid);
}

/* A ClientHello with SNI "blocked.example" and ALPN h3. */
static size_t hello(uint8_t *buf, size_t cap)
{
	static const char *const alpn[] = { "h3" };
	static const uint16_t v13[] = { 0x0304 };
	struct tb_ch_opts o;
	memset(&o, 0, sizeof(o));
	o.sni = "blocked.example";
	o.alpn = alpn;
	o.n_alpn = 1;
	o.versions = v13;
	o.n_versions = 1;
	return tb_client_hello(buf, cap, &o);
}

struct fx {
	struct quic_stage *qs;
	struct quic_flow *qf;
	uint8_t ch[1024];
	size_t chl;
};

static int setup(void **state)
{
	static struct fx f;
	memset(&f, 0, sizeof(f));
	f.qs = quic_stage_new();
	f.chl = hello(f.ch, sizeof(f.ch));
	*state = &f;
	return f.qs && f.chl ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	quic_flow_free(f->qf);
	quic_stage_free(f->qs);
	return 0;
}

static const struct quic_info *feed(struct fx *f, const uint8_t *p, size_t n, int dir, uint64_t ts)
{
	quic_datagram(f->qs, &f->qf, p, n, false, dir, ts);
	assert_non_null(f->qf);
	return quic_flow_info(f->qf);
}

static enum verdict judge(const struct quic_info *q, uint64_t now, const char **reason)
{
	struct verdict_cfg cfg;
	struct verdict_result r;
	verdict_cfg_default(&cfg);
	struct verdict_quic_input in = { q, FLOW_END_EOF, now, false, { 1, 0 } };
	verdict_quic_decide(&cfg, &in, &r);
	*reason = r.reason;
	return r.verdict;
}

/* ---- reading ----------------------------------------------------------------------- */

static void test_one_initial(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	assert_true(quic_candidate(pkt, n));
	const struct quic_info *q = feed(f, pkt, n, 0, T0);
	assert_true(q->opened);
	assert_int_equal(q->version, QUIC_V1);
	assert_true(q->tls.ch_seen && q->tls.sni_present);
	assert_string_equal(q->tls.sni, "blocked.example");
	assert_int_equal(q->tls.ja4[0], 'q');
	assert_memory_equal(q->tls.ja4 + 1, "13d", 3);
	assert_true(q->padding > 0);
	assert_int_equal(quic_stage_stats(f->qs)->initials_opened, 1);
}

/* The ClientHello cut into two CRYPTO frames at every offset, carried by
 * two Initials that arrive second first. */
static void test_split_every_offset(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt1[1500], pkt2[1500];
	for (size_t cut = 1; cut < f->chl; cut++) {
		struct quic_flow *qf = NULL;
		size_t n1 = client_initial(pkt1, fr, crypto_frame(fr, 0, f->ch, cut), 0);
		size_t n2 = client_initial(pkt2, fr, crypto_frame(fr, cut, f->ch + cut, f->chl - cut), 1);
		quic_datagram(f->qs, &qf, pkt2, n2, false, 0, T0);
		assert_false(quic_flow_info(qf)->tls.ch_seen);
		quic_datagram(f->qs, &qf, pkt1, n1, false, 0, T0 + 1);
		assert_true(quic_flow_info(qf)->tls.sni_present);
		assert_int_equal(quic_flow_info(qf)->retransmits, 0);
		quic_flow_free(qf);
	}
}

/* Overlapping CRYPTO with the same bytes is a retransmission; with other
 * bytes it is counted; the first copy stays. */
static void test_overlap_and_retransmit(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500], other[1024];
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	feed(f, pkt, n, 0, T0);
	n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 1);
	const struct quic_info *q = feed(f, pkt, n, 0, T0 + 1000 * MS);
	assert_int_equal(q->retransmits, 1);
	memcpy(other, f->ch, f->chl);
	other[f->chl - 1] ^= 0xff;
	n = client_initial(pkt, fr, crypto_frame(fr, 0, other, f->chl), 2);
	feed(f, pkt, n, 0, T0 + 2000 * MS);
	assert_int_equal(quic_stage_stats(f->qs)->crypto_overlap_diffs, 1);
	assert_string_equal(q->tls.sni, "blocked.example");
}

static void test_truncated_vs_malformed(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	struct quic_flow *a = NULL, *b = NULL;
	/* the capture cut the datagram: the length runs past it */
	quic_datagram(f->qs, &a, pkt, n - 100, true, 0, T0);
	assert_int_equal(quic_flow_info(a)->truncated, 1);
	assert_int_equal(quic_flow_info(a)->malformed, 0);
	/* every byte was there: the length lies */
	quic_datagram(f->qs, &b, pkt, n - 100, false, 0, T0);
	assert_int_equal(quic_flow_info(b)->malformed, 1);
	assert_int_equal(quic_flow_info(b)->truncated, 0);
	quic_flow_free(a);
	quic_flow_free(b);
	/* too short to hold a header protection sample */
	uint8_t tiny[] = { 0xc0, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 4, 0, 0, 0, 0 };
	const struct quic_info *q = feed(f, tiny, sizeof(tiny), 0, T0);
	assert_int_equal(q->malformed, 1);
	assert_false(q->opened);
}

static void test_unknown_version_and_bad_tag(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	const char *reason;
	struct quic_flow *u = NULL;
	uint8_t grease[1500];
	memcpy(grease, pkt, n);
	grease[1] = 0x1a; grease[2] = 0x2a; grease[3] = 0x3a; grease[4] = 0x4a;
	assert_true(quic_candidate(grease, n)); /* 1200 bytes: QUIC by its invariants */
	quic_datagram(f->qs, &u, grease, n, false, 0, T0);
	assert_int_equal(quic_flow_info(u)->unknown_version, 1);
	assert_int_equal(judge(quic_flow_info(u), T0 + 10000 * MS, &reason), V_NOT_TLS);
	assert_string_equal(reason, "quic_version_unknown");
	quic_flow_free(u);
	pkt[n - 1] ^= 1; /* the tag */
	const struct quic_info *q = feed(f, pkt, n, 0, T0);
	assert_int_equal(q->decrypt_failed, 1);
	assert_false(q->tls.sni_present);
	assert_int_equal(judge(q, T0 + 10000 * MS, &reason), V_NOT_TLS);
	assert_string_equal(reason, "quic_undecryptable");
}

static void test_not_candidates(void **state)
{
	(void)state;
	uint8_t dns[40] = { 0x12, 0x34, 0x01, 0x00 };
	uint8_t small[100] = { 0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8 };
	assert_false(quic_candidate(dns, sizeof(dns)));
	assert_false(quic_candidate(small, sizeof(small))); /* unknown version, not 1200 bytes */
	assert_false(quic_candidate(NULL, 0));
}

/* Server: Version Negotiation, then an answer in a coalesced datagram. */
static void test_vn_and_coalesced_answer(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500], sh[512], dg[3000];
	const char *reason;
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	feed(f, pkt, n, 0, T0);
	uint8_t vn[] = { 0x80, 0, 0, 0, 0, 4, 9, 9, 9, 9, 8, 1, 2, 3, 4, 5, 6, 7, 8,
			 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1 };
	const struct quic_info *q = feed(f, vn, sizeof(vn), 1, T0 + 1 * MS);
	assert_true(q->vn);
	assert_int_equal(q->n_vn, 2);
	assert_int_equal(q->vn_versions[0], QUIC_V2);
	assert_int_equal(judge(q, T0 + 10000 * MS, &reason), V_INCOMPLETE);
	assert_string_equal(reason, "version_negotiation");
	/* the client tries again (a new attempt), the server answers: its
	 * Initial with the ServerHello coalesced with a Handshake packet */
	feed(f, pkt, n, 0, T0 + 2 * MS);
	struct tb_sh_opts so;
	memset(&so, 0, sizeof(so));
	so.selected_version = 0x0304;
	size_t shl = tb_server_hello(sh, sizeof(sh), &so);
	size_t d = server_initial(dg, fr, crypto_frame(fr, 0, sh, shl), 0);
	d += protect(dg + d, QUIC_V1, 2, 1, cscid, 4, fr, 10, 60, 0, cdcid);
	q = feed(f, dg, d, 1, T0 + 3 * MS);
	assert_true(q->tls.sh_seen);
	assert_int_equal(q->tls.sh_version, 0x0304);
	assert_int_equal(q->handshake[1], 1);
	assert_int_equal(q->version_server, QUIC_V1);
	assert_int_equal(judge(q, T0 + 10000 * MS, &reason), V_INCOMPLETE);
	assert_string_equal(reason, "handshake_not_confirmed");
	/* the client goes on with a Handshake packet: confirmed, region over */
	n = protect(pkt, QUIC_V1, 2, 0, cscid, 4, fr, 10, 60, 0, cdcid);
	feed(f, pkt, n, 0, T0 + 4 * MS);
	assert_true(quic_finished(f->qf));
	assert_int_equal(judge(q, T0 + 10000 * MS, &reason), V_OK);
}

static void test_v2_initial(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	size_t n = protect(pkt, QUIC_V2, 1, 0, cdcid, 8, fr, crypto_frame(fr, 0, f->ch, f->chl),
			   1162, 0, cdcid);
	const struct quic_info *q = feed(f, pkt, n, 0, T0);
	assert_int_equal(q->initials[0], 1);
	assert_true(q->tls.sni_present);
}

/* ---- verdicts ------------------------------------------------------------------ */

static void test_verdicts(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	const char *reason;
	size_t n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 0);
	const struct quic_info *q = feed(f, pkt, n, 0, T0);
	assert_int_equal(judge(q, T0 + 1000 * MS, &reason), V_INCOMPLETE);
	assert_string_equal(reason, "capture_ended");
	assert_int_equal(judge(q, T0 + 5000 * MS, &reason), V_INCOMPLETE);
	assert_string_equal(reason, "no_retransmission");
	n = client_initial(pkt, fr, crypto_frame(fr, 0, f->ch, f->chl), 1);
	q = feed(f, pkt, n, 0, T0 + 1000 * MS);
	assert_int_equal(judge(q, T0 + 2500 * MS, &reason), V_INCOMPLETE);
	assert_int_equal(judge(q, T0 + 3000 * MS, &reason), V_QUIC_STALL);
	/* a client Handshake packet without any server packet captured */
	n = protect(pkt, QUIC_V1, 2, 0, cscid, 4, fr, 10, 60, 0, cdcid);
	q = feed(f, pkt, n, 0, T0 + 1100 * MS);
	assert_int_equal(judge(q, T0 + 9000 * MS, &reason), V_INCOMPLETE);
	assert_string_equal(reason, "one_direction");
}

static void test_client_abort(void **state)
{
	struct fx *f = *state;
	uint8_t fr[1200], pkt[1500];
	const char *reason;
	size_t k = crypto_frame(fr, 0, f->ch, f->chl);
	feed(f, pkt, client_initial(pkt, fr, k, 0), 0, T0);
	uint8_t close[] = { 0x1c, 0x00, 0x00, 0x00 };
	const struct quic_info *q = feed(f, pkt, client_initial(pkt, close, sizeof(close), 1), 0,
					 T0 + 200 * MS);
	assert_true(q->client_close);
	assert_int_equal(judge(q, T0 + 9000 * MS, &reason), V_CLIENT_ABORT);
}

/* ---- JA4 --------------------------------------------------------------------------- */

static size_t put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/* FoxIO's JA4.md example: t13d1516h2_8daaf6152771_e5627efa2ab1. */
static void test_ja4_example(void **state)
{
	(void)state;
	static const uint16_t ciphers[] = { 0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
					    0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d,
					    0x002f, 0x0035 };
	static const uint16_t types[] = { 0x2a2a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017,
					  0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01,
					  0x000b, 0x000a, 0x0015 };
	static const uint16_t sigs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
					 0x0601 };
	uint8_t cb[64], eb[512];
	size_t cl = 0, el = 0;
	char out[JA4_LEN + 1];
	for (size_t i = 0; i < sizeof(ciphers) / 2; i++)
		cl += put16(cb + cl, ciphers[i]);
	for (size_t i = 0; i < sizeof(types) / 2; i++) {
		el += put16(eb + el, types[i]);
		if (types[i] == 0x0010) { /* ALPN h2, http/1.1 */
			static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
			el += put16(eb + el, sizeof(alpn));
			memcpy(eb + el, alpn, sizeof(alpn));
			el += sizeof(alpn);
		} else if (types[i] == 0x000d) {
			el += put16(eb + el, 2 + sizeof(sigs));
			el += put16(eb + el, sizeof(sigs));
			for (size_t k = 0; k < sizeof(sigs) / 2; k++)
				el += put16(eb + el, sigs[k]);
		} else if (types[i] == 0x002b) {
			static const uint8_t v[] = { 4, 0x3a, 0x3a, 0x03, 0x04 };
			el += put16(eb + el, sizeof(v));
			memcpy(eb + el, v, sizeof(v));
			el += sizeof(v);
		} else {
			el += put16(eb + el, 0);
		}
	}
	ja4_client(NULL, 't', 0x0303, cur_make(cb, cl), cur_make(eb, el), out);
	assert_string_equal(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	/* no signature algorithms: the extension list alone (spec: 6d807ffa2a79) */
	ja4_client(NULL, 'q', 0x0303, cur_make(cb, cl), cur_make(NULL, 0), out);
	assert_string_equal(out, "q12i150000_8daaf6152771_000000000000");
}

static int cmp_u16_ref(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
	return (x > y) - (x < y);
}

/* The lists' sort against qsort: every length to past the insertion
 * limit, few or many distinct values, sorted and reversed input. */
static void test_ja4_sort_matches_qsort(void **state)
{
	(void)state;
	uint16_t a[300], b[300];
	uint32_t x = 2463534242u;
	for (int round = 0; round < 40; round++)
		for (size_t n = 0; n <= sizeof(a) / sizeof(a[0]); n += 1 + (n > 80) * 7) {
			for (size_t i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				a[i] = round % 4 == 0 ? (uint16_t)(x % 4) : round % 4 == 1 ? (uint16_t)i
				       : round % 4 == 2 ? (uint16_t)(n - i) : (uint16_t)x;
			}
			memcpy(b, a, n * sizeof(a[0]));
			qsort(b, n, sizeof(b[0]), cmp_u16_ref);
			ja4_sort_u16(a, n);
			assert_memory_equal(a, b, n * sizeof(a[0]));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_v1),
		cmocka_unit_test(test_keys_v2),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_not_candidates),
		cmocka_unit_test_setup_teardown(test_one_initial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_and_retransmit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_vs_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_version_and_bad_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vn_and_coalesced_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v2_initial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_abort, setup, teardown),
		cmocka_unit_test(test_ja4_example),
		cmocka_unit_test(test_ja4_sort_matches_qsort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
