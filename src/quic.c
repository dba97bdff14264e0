/* quic.c - QUIC long headers, Initial decryption, CRYPTO reassembly and the hellos (RFC 9000 sections 12.2, 14.1, 17.2, 19 and A.3; RFC 9001 section 5; RFC 9369). */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "quic.h"
#include "quic_keys.h"
#include "reasm.h"

/* A UDP payload is at most 65527 bytes: one scratch buffer of this size
 * holds any packet's header copy, another its plaintext. */
#define QUIC_SCRATCH 65536

struct quic_stage {
	struct quic_crypto *qc;
	uint8_t *hdr;                  /* header with protection removed: the AEAD's associated data */
	uint8_t *plain;                /* the opened payload */
	struct quic_stats st;
};

/* The handshake region: what is needed to open and read Initials. */
struct quic_hs {
	struct reasm_dir crypto[2];    /* the Initial CRYPTO stream per direction */
	struct quic_keys keys[2];      /* client, server Initial keys */
	uint8_t secret[32];            /* the initial secret they come from */
	uint8_t have_keys[2];          /* keys[side] made from secret */
	uint32_t key_version;          /* the version secret was made for (0: none yet) */
	uint8_t key_dcid[QUIC_MAX_CID];/* their source: the attempt's first client DCID */
	uint8_t key_dcid_len;
	uint8_t key_src;               /* key_dcid is set */
	uint8_t derives;
	uint8_t hello_done[2];         /* first handshake message parsed (or given up) */
	uint8_t new_attempt;           /* a Retry / VN came: the next client Initial starts over */
	uint8_t last_dcid[QUIC_MAX_CID];
	uint8_t last_dcid_len;
	int64_t largest_pn[2];         /* Initial packet number space, per direction */
	uint16_t opened;
	uint16_t packets;
};

struct quic_flow {
	struct quic_info info;
	struct quic_hs *hs;            /* NULL once the region is over */
	uint8_t finished;
	uint8_t hello_read;            /* a ClientHello parsed, not yet reported (QUIC_EV_HELLO) */
};

/* One long header packet inside a datagram. */
struct pkt {
	const uint8_t *start;
	size_t len;                    /* the whole packet, header included */
	size_t pn_off;                 /* packet number offset from start */
	uint8_t first;
	uint32_t version;
	const struct quic_version *vi;
	enum quic_ptype type;
	struct cursor dcid, scid, rest;/* rest: VN's version list */
};

enum { PK_OK, PK_REST, PK_TRUNC, PK_BAD };

/* What the frames of one opened Initial held. */
struct frames_seen {
	bool crypto, crypto_new, ack, close;
};

/* ---- the stage ----------------------------------------------------------- */

struct quic_stage *quic_stage_new(void)
{
	struct quic_stage *qs = calloc(1, sizeof(*qs));
	if (!qs)
		return NULL;
	qs->qc = quic_crypto_new();
	qs->hdr = malloc(QUIC_SCRATCH);
	qs->plain = malloc(QUIC_SCRATCH);
	if (!qs->qc || !qs->hdr || !qs->plain) {
		quic_stage_free(qs);
		return NULL;
	}
	return qs;
}

void quic_stage_free(struct quic_stage *qs)
{
	if (!qs)
		return;
	quic_crypto_free(qs->qc);
	free(qs->hdr);
	free(qs->plain);
	free(qs);
}

const struct quic_stats *quic_stage_stats(const struct quic_stage *qs)
{
	return &qs->st;
}

/* ---- reading ------------------------------------------------------------- */

/* RFC 9000 section 16: the two high bits give the length (1, 2, 4, 8). */
static bool cur_varint(struct cursor *c, uint64_t *v)
{
	uint8_t b;
	if (!cur_peek_u8(c, 0, &b))
		return false;
	size_t n = (size_t)1 << (b >> 6);
	if (cur_left(c) < n)
		return false;
	uint64_t x = b & 0x3f;
	for (size_t i = 1; i < n; i++)
		x = (x << 8) | c->p[i];
	*v = x;
	return cur_skip(c, n);
}

bool quic_candidate(const uint8_t *p, size_t len)
{
	struct cursor c = cur_make(p, len);
	uint8_t b, dl, sl;
	uint32_t v;
	if (!cur_u8(&c, &b) || (b & 0xc0) != 0xc0 || !cur_be32(&c, &v) || v == 0)
		return false;
	if (!cur_u8(&c, &dl) || dl > QUIC_MAX_CID || !cur_skip(&c, dl) ||
	    !cur_u8(&c, &sl) || sl > QUIC_MAX_CID || !cur_skip(&c, sl))
		return false;
	return quic_version_find(v) != NULL || len >= 1200;
}

/* Header fields common to all long headers (RFC 9000 section 17.2, and
 * RFC 8999's invariants for versions not opened: IDs up to 255 bytes). */
static int parse_invariant(struct cursor *h, struct pkt *pk)
{
	uint8_t dl, sl;
	if (!cur_u8(h, &pk->first) || !cur_be32(h, &pk->version) || !cur_u8(h, &dl) ||
	    !cur_sub(h, dl, &pk->dcid) || !cur_u8(h, &sl) || !cur_sub(h, sl, &pk->scid))
		return PK_TRUNC;
	return PK_OK;
}

/* One long header packet at the start of c; c moves past it.  PK_REST:
 * the packet takes the rest of the datagram (VN, Retry, a version not
 * opened).  PK_TRUNC: a field runs past the bytes present. */
static int parse_long(struct cursor *c, struct pkt *pk)
{
	struct cursor h = *c;
	uint64_t tlen, len;
	memset(pk, 0, sizeof(*pk));
	pk->start = c->p;
	if (parse_invariant(&h, pk) != PK_OK)
		return PK_TRUNC;
	pk->rest = h;
	if (pk->version == 0 || !(pk->vi = quic_version_find(pk->version)))
		return PK_REST;
	if (cur_left(&pk->dcid) > QUIC_MAX_CID || cur_left(&pk->scid) > QUIC_MAX_CID)
		return PK_BAD;
	pk->type = quic_ptype_of(pk->vi, pk->first);
	if (pk->type == QPT_RETRY)
		return PK_REST;
	if (pk->type == QPT_INITIAL &&
	    (!cur_varint(&h, &tlen) || tlen > cur_left(&h) || !cur_skip(&h, (size_t)tlen)))
		return PK_TRUNC;
	if (!cur_varint(&h, &len))
		return PK_TRUNC;
	if (len > cur_left(&h))
		return PK_TRUNC;
	pk->pn_off = (size_t)(h.p - pk->start);
	pk->len = pk->pn_off + (size_t)len;
	return cur_skip(c, pk->len) ? PK_OK : PK_TRUNC;
}

/* RFC 9000 appendix A.3: the full packet number nearest the expected one. */
static uint64_t decode_pn(int64_t largest, uint64_t truncated, unsigned bits)
{
	uint64_t expected = (uint64_t)(largest + 1);
	uint64_t win = 1ull << bits, hwin = win / 2, mask = win - 1;
	uint64_t cand = (expected & ~mask) | truncated;
	if (cand + hwin <= expected && cand < (1ull << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/* ---- keys ------------------------------------------------------------------ */

static bool derive(struct quic_stage *qs, struct quic_hs *hs, const struct quic_version *vi)
{
	if (hs->derives >= QUIC_MAX_DERIVES) {
		qs->st.derive_cap++;
		return false;
	}
	hs->derives++;
	hs->key_version = 0;
	hs->have_keys[0] = hs->have_keys[1] = 0;
	if (!quic_initial_secret(qs->qc, vi, hs->key_dcid, hs->key_dcid_len, hs->secret))
		return false;
	hs->key_version = vi->version;
	return true;
}

static void key_source(struct quic_hs *hs, const struct pkt *pk)
{
	hs->key_dcid_len = (uint8_t)cur_left(&pk->dcid);
	memcpy(hs->key_dcid, pk->dcid.p, hs->key_dcid_len);
	hs->key_src = 1;
	hs->key_version = 0;
}

/* Both sides protect Initials with keys from the DCID of the client's
 * first Initial of the attempt (RFC 9001 section 5.2): later client
 * Initials may carry the server's chosen ID, the keys stay.  A server
 * answering in another version (RFC 9368) uses that version's salt. */
static const struct quic_keys *keys_for(struct quic_stage *qs, struct quic_hs *hs,
					const struct pkt *pk, int dir)
{
	if (!hs->key_src) {
		if (dir != 0)
			return NULL; /* no client Initial seen: no key source */
		key_source(hs, pk);
	}
	if (hs->key_version != pk->version && !derive(qs, hs, pk->vi))
		return NULL;
	if (!hs->have_keys[dir]) {
		if (!quic_side_keys(qs->qc, pk->vi, hs->secret, dir, &hs->keys[dir]))
			return NULL;
		hs->have_keys[dir] = 1;
	}
	return &hs->keys[dir];
}

/* Remove header protection into qs->hdr, then open the payload into
 * qs->plain.  0 opened, 1 tag failed, -1 malformed (too short to sample). */
static int unprotect(struct quic_stage *qs, struct quic_hs *hs, const struct quic_keys *k,
		     const struct pkt *pk, int dir, size_t *plen)
{
	uint8_t mask[5];
	size_t pn_off = pk->pn_off, pn_len;
	uint64_t truncated = 0;
	/* RFC 9001 section 5.4.2: the sample starts 4 bytes after the packet
	 * number field; a packet too short for it is invalid. */
	if (pk->len < pn_off + 4 + QUIC_SAMPLE_LEN || pk->len > QUIC_SCRATCH)
		return -1;
	if (!quic_hp_mask(qs->qc, k->hp, pk->start + pn_off + 4, mask))
		return 1;
	memcpy(qs->hdr, pk->start, pn_off + 4);
	qs->hdr[0] ^= mask[0] & 0x0f;
	pn_len = (size_t)(qs->hdr[0] & 3) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		qs->hdr[pn_off + i] ^= mask[1 + i];
		truncated = (truncated << 8) | qs->hdr[pn_off + i];
	}
	uint64_t pn = decode_pn(hs->largest_pn[dir], truncated, (unsigned)(8 * pn_len));
	size_t hl = pn_off + pn_len;
	if (!quic_aead_open(qs->qc, k, pn, qs->hdr, hl, pk->start + hl, pk->len - hl, qs->plain))
		return 1;
	if ((int64_t)pn > hs->largest_pn[dir])
		hs->largest_pn[dir] = (int64_t)pn;
	*plen = pk->len - hl - QUIC_TAG_LEN;
	return 0;
}

/* ---- CRYPTO streams and the hellos ------------------------------------------ */

/* The first handshake message of a direction, once contiguous: the
 * ClientHello (client) or ServerHello (server) through the TLS parser. */
static void hello_check(struct quic_stage *qs, struct quic_flow *qf, int dir)
{
	struct quic_hs *hs = qf->hs;
	const struct reasm_dir *d = &hs->crypto[dir];
	struct cursor c = cur_make(d->buf, d->contiguous), body;
	uint8_t type;
	uint32_t mlen;
	if (hs->hello_done[dir] || !cur_u8(&c, &type) || !cur_be24(&c, &mlen))
		return;
	if (mlen > QUIC_CRYPTO_LIMIT - 4) {
		qs->st.hello_too_big++;
		hs->hello_done[dir] = 1;
		return;
	}
	if (!cur_sub(&c, mlen, &body))
		return; /* not all here yet */
	hs->hello_done[dir] = 1;
	bool ok = dir == 0 ? type == 1 && tls_parse_client_hello(body.p, mlen, &qf->info.tls)
			   : type == 2 && tls_parse_server_hello(body.p, mlen, &qf->info.tls);
	if (!ok) {
		qf->info.hello_error[dir] = 1;
		qs->st.hello_errors++;
	} else if (dir == 0) {
		qf->hello_read = 1;
		if (qf->info.tls.ja4[0])
			qf->info.tls.ja4[0] = 'q'; /* JA4's transport: QUIC */
	}
}

static void crypto_data(struct quic_stage *qs, struct quic_flow *qf, int dir, uint64_t off,
			struct cursor data, struct frames_seen *fs)
{
	struct reasm_dir *d = &qf->hs->crypto[dir];
	uint32_t from = 0;
	if (off >= QUIC_CRYPTO_LIMIT) {
		qs->st.crypto_beyond_limit++;
		return;
	}
	unsigned r = reasm_add(d, (uint32_t)off, data.p, (uint32_t)cur_left(&data), &from);
	qs->st.crypto_beyond_limit += (r & REASM_BEYOND_LIMIT) != 0;
	qs->st.crypto_dropped += (r & REASM_DROPPED) != 0;
	qs->st.crypto_overlap_diffs += (r & REASM_OVERLAP_DIFF) != 0;
	if (r & (REASM_NEW_DATA | REASM_OUT_OF_ORDER))
		fs->crypto_new = true;
	qf->info.crypto_gap[dir] = d->contiguous < d->highest_end;
	if (r & REASM_NEW_DATA)
		hello_check(qs, qf, dir);
}

static void crypto_reset(struct quic_hs *hs, int dir)
{
	reasm_release(&hs->crypto[dir]);
	reasm_init(&hs->crypto[dir], QUIC_CRYPTO_LIMIT);
	reasm_set_base(&hs->crypto[dir], 0);
	hs->hello_done[dir] = 0;
}

/* ---- frames (RFC 9000 section 19) --------------------------------------------- */

static bool frame_ack(struct cursor *c, bool ecn)
{
	uint64_t largest, delay, count, first, gap, len, e;
	if (!cur_varint(c, &largest) || !cur_varint(c, &delay) || !cur_varint(c, &count) ||
	    !cur_varint(c, &first))
		return false;
	/* Each range takes at least two bytes: the payload bounds the loop. */
	for (uint64_t i = 0; i < count; i++)
		if (!cur_varint(c, &gap) || !cur_varint(c, &len))
			return false;
	return !ecn || (cur_varint(c, &e) && cur_varint(c, &e) && cur_varint(c, &e));
}

static bool frame_close(struct cursor *c, bool app)
{
	uint64_t err, ftype, rlen;
	return cur_varint(c, &err) && (app || cur_varint(c, &ftype)) && cur_varint(c, &rlen) &&
	       rlen <= cur_left(c) && cur_skip(c, (size_t)rlen);
}

static bool frame_crypto(struct quic_stage *qs, struct quic_flow *qf, int dir,
			 struct cursor *c, struct frames_seen *fs)
{
	uint64_t off, len;
	struct cursor data;
	if (!cur_varint(c, &off) || !cur_varint(c, &len) || len > cur_left(c) ||
	    !cur_sub(c, (size_t)len, &data) || off > (1ull << 62) - len)
		return false;
	fs->crypto = true;
	crypto_data(qs, qf, dir, off, data, fs);
	return true;
}

/* Google's ACK (Chromium's quic_framer.cc, versions before IETF frames):
 * type 01nllmm - n: ack blocks follow, ll / mm: widths of the largest
 * acked and of the block lengths (1, 2, 4 or 6 bytes). */
static bool gquic_ack(struct cursor *c, uint8_t type)
{
	static const uint8_t width[4] = { 1, 2, 4, 6 };
	size_t ll = width[(type >> 2) & 3], mm = width[type & 3];
	uint8_t blocks = 0, stamps = 0;
	if (!cur_skip(c, ll + 2) || ((type & 0x20) && !cur_u8(c, &blocks)) || !cur_skip(c, mm))
		return false;
	for (unsigned i = 0; i < blocks; i++)
		if (!cur_skip(c, 1 + mm))
			return false;
	/* timestamps: the first 1 + 4 bytes, each later one 1 + 2 */
	return cur_u8(c, &stamps) && (!stamps || cur_skip(c, 5 + (size_t)(stamps - 1) * 3));
}

static void padding(struct quic_flow *qf, struct cursor *c, int dir)
{
	uint8_t b;
	uint32_t n = 1;
	while (cur_peek_u8(c, 0, &b) && b == 0 && cur_skip(c, 1))
		n++;
	if (dir == 0)
		qf->info.padding += n;
}

/* One frame of Google's encoding (T050, T051): one type byte; PADDING 0,
 * CONNECTION_CLOSE 2, PING 7, CRYPTO 8 (with IETF fields), ACK 0x40-0x7f. */
static bool frame_gquic(struct quic_stage *qs, struct quic_flow *qf, int dir,
			struct cursor *c, struct frames_seen *fs)
{
	uint8_t type;
	uint16_t rlen;
	if (!cur_u8(c, &type))
		return false;
	if (type == 0x00)
		padding(qf, c, dir);
	else if (type == 0x07)
		return true;
	else if (type == 0x08)
		return frame_crypto(qs, qf, dir, c, fs);
	else if (type == 0x02)
		return (fs->close = true) && cur_skip(c, 4) && cur_be16(c, &rlen) && cur_skip(c, rlen);
	else if ((type & 0xc0) == 0x40)
		return (fs->ack = true) && gquic_ack(c, type);
	else
		return false;
	return true;
}

/* One frame an Initial may carry (RFC 9000 section 12.4, table 3).
 * Anything else makes the packet malformed. */
static bool frame_ietf(struct quic_stage *qs, struct quic_flow *qf, int dir,
		       struct cursor *c, struct frames_seen *fs)
{
	uint64_t type;
	if (!cur_varint(c, &type))
		return false;
	switch (type) {
	case 0x00:
		padding(qf, c, dir);
		return true;
	case 0x01: /* PING */
		return true;
	case 0x02: case 0x03:
		fs->ack = true;
		return frame_ack(c, type == 0x03);
	case 0x06:
		return frame_crypto(qs, qf, dir, c, fs);
	case 0x1c: case 0x1d:
		fs->close = true;
		return frame_close(c, type == 0x1d);
	default:
		return false;
	}
}

static bool frames(struct quic_stage *qs, struct quic_flow *qf, int dir, size_t n, bool gquic,
		   struct frames_seen *fs)
{
	struct cursor c = cur_make(qs->plain, n);
	while (cur_left(&c) > 0)
		if (!(gquic ? frame_gquic(qs, qf, dir, &c, fs) : frame_ietf(qs, qf, dir, &c, fs)))
			return false;
	return true;
}

/* ---- packets --------------------------------------------------------------------- */

static void count_dcid(struct quic_info *in, struct quic_hs *hs, const struct pkt *pk)
{
	size_t n = cur_left(&pk->dcid);
	if (in->dcids && n == hs->last_dcid_len && memcmp(hs->last_dcid, pk->dcid.p, n) == 0)
		return;
	if (in->dcids < UINT8_MAX)
		in->dcids++;
	memcpy(hs->last_dcid, pk->dcid.p, n);
	hs->last_dcid_len = (uint8_t)n;
}

/* Open one Initial; a client packet whose own DCID differs from the key
 * source is tried once more with its own (the capture missed the attempt's
 * first Initial, or a new connection reuses the 4-tuple). */
static bool open_initial(struct quic_stage *qs, struct quic_flow *qf, const struct pkt *pk,
			 int dir, size_t *plen)
{
	struct quic_hs *hs = qf->hs;
	const struct quic_keys *k = keys_for(qs, hs, pk, dir);
	int r = k ? unprotect(qs, hs, k, pk, dir, plen) : 1;
	if (r == 1 && k && dir == 0 &&
	    (cur_left(&pk->dcid) != hs->key_dcid_len ||
	     memcmp(pk->dcid.p, hs->key_dcid, hs->key_dcid_len) != 0)) {
		key_source(hs, pk);
		k = keys_for(qs, hs, pk, dir);
		r = k ? unprotect(qs, hs, k, pk, dir, plen) : 1;
	}
	if (r < 0) {
		qf->info.malformed++;
		qs->st.malformed++;
	} else if (r > 0 && k) {
		qf->info.decrypt_failed++;
		qs->st.decrypt_failed++;
	}
	return r == 0;
}

static void on_initial(struct quic_stage *qs, struct quic_flow *qf, const struct pkt *pk,
		       int dir, bool attempt_start)
{
	struct quic_hs *hs = qf->hs;
	struct frames_seen fs = { false, false, false, false };
	size_t plen = 0;
	if (dir == 0)
		count_dcid(&qf->info, hs, pk);
	if (hs->opened >= QUIC_MAX_OPENED) {
		qs->st.opened_cap++;
		return;
	}
	if (!open_initial(qs, qf, pk, dir, &plen))
		return;
	hs->opened++;
	qs->st.initials_opened++;
	if (dir == 0)
		qf->info.opened = 1;
	if (!frames(qs, qf, dir, plen, pk->vi->gquic_frames, &fs)) {
		qf->info.malformed++;
		qs->st.malformed++;
	}
	if (fs.close)
		*(dir == 0 ? &qf->info.client_close : &qf->info.server_close) = 1;
	/* A client that heard nothing sends its CRYPTO bytes again, or a
	 * probe; one that heard the server acknowledges it. */
	if (dir == 0 && !attempt_start && !fs.ack && !fs.close && !fs.crypto_new &&
	    qf->info.retransmits < UINT16_MAX)
		qf->info.retransmits++;
}

static void new_attempt(struct quic_hs *hs)
{
	hs->new_attempt = 1;
	hs->key_src = 0;
	hs->key_version = 0;
	hs->largest_pn[0] = hs->largest_pn[1] = -1;
	crypto_reset(hs, 0);
	crypto_reset(hs, 1);
}

static void on_vn(struct quic_stage *qs, struct quic_flow *qf, struct pkt *pk, int dir,
		  uint64_t ts)
{
	struct quic_info *in = &qf->info;
	uint32_t v;
	if (dir != 1 || cur_left(&pk->rest) % 4 != 0 || cur_left(&pk->rest) == 0) {
		in->malformed++;
		qs->st.malformed++;
		return;
	}
	qs->st.version_negotiations++;
	in->vn = 1;
	if (!in->t_vn)
		in->t_vn = ts;
	in->n_vn = 0;
	while (cur_be32(&pk->rest, &v) && in->n_vn < QUIC_MAX_VN)
		in->vn_versions[in->n_vn++] = v;
	if (qf->hs)
		new_attempt(qf->hs);
}

/* A server packet that is neither Retry nor VN answers the attempt; a
 * client Handshake or 1-RTT packet shows the client heard the server. */
static unsigned timing(struct quic_flow *qf, int dir, int type, uint64_t ts)
{
	struct quic_info *in = &qf->info;
	unsigned ev = 0;
	if (dir == 1 && !in->t_answer && ts >= in->t_anchor) {
		in->t_answer = ts;
		ev |= QUIC_EV_ANSWER;
	}
	if (dir == 0 && type != QPT_INITIAL && type != QPT_0RTT) {
		if (!in->t_client_hs)
			in->t_client_hs = ts;
		if (in->t_answer)
			ev |= QUIC_EV_CONFIRMED;
	}
	return ev;
}

/* A client Initial starting an attempt (the first, or the first after a
 * Retry / VN) sets the anchor the stall timeout runs from. */
static bool attempt(struct quic_flow *qf, uint64_t ts)
{
	struct quic_info *in = &qf->info;
	bool fresh = qf->hs && qf->hs->new_attempt;
	if (in->t_first && !fresh)
		return false;
	if (!in->t_first)
		in->t_first = ts;
	in->t_anchor = ts;
	if (fresh) {
		qf->hs->new_attempt = 0;
		in->t_answer = 0;
	}
	return true;
}

static int typed_packet(struct quic_stage *qs, struct quic_flow *qf, struct pkt *pk, int dir,
			uint64_t ts, unsigned *ev)
{
	struct quic_info *in = &qf->info;
	if (pk->type == QPT_RETRY) {
		if (dir != 1)
			return PK_BAD;
		qs->st.retries++;
		in->retry = 1;
		if (qf->hs)
			new_attempt(qf->hs);
		return PK_REST;
	}
	if (dir == 1 && !in->version_server)
		in->version_server = pk->version;
	bool start = false;
	if (pk->type == QPT_INITIAL) {
		in->initials[dir] += in->initials[dir] < UINT16_MAX;
		if (dir == 0 && (start = attempt(qf, ts)))
			*ev |= QUIC_EV_CLIENT_INITIAL;
		if (qf->hs)
			on_initial(qs, qf, pk, dir, start);
	} else if (pk->type == QPT_HANDSHAKE) {
		in->handshake[dir] += in->handshake[dir] < UINT16_MAX;
	} else if (dir == 0) {
		in->zero_rtt += in->zero_rtt < UINT16_MAX;
	}
	*ev |= timing(qf, dir, pk->type, ts);
	return PK_OK;
}

static int long_packet(struct quic_stage *qs, struct quic_flow *qf, struct cursor *c, bool cut,
		       int dir, uint64_t ts, unsigned *ev)
{
	struct quic_info *in = &qf->info;
	struct pkt pk;
	int r = parse_long(c, &pk);
	if (r == PK_TRUNC && !cut)
		r = PK_BAD; /* the bytes were all there: the lengths lie */
	if (r == PK_TRUNC || r == PK_BAD) {
		*(r == PK_TRUNC ? &in->truncated : &in->malformed) += 1;
		*(r == PK_TRUNC ? &qs->st.truncated : &qs->st.malformed) += 1;
		return r;
	}
	if (dir == 0 && !in->version && pk.version)
		in->version = pk.version;
	if (pk.version == 0) {
		on_vn(qs, qf, &pk, dir, ts);
		return PK_REST;
	}
	if (!pk.vi) {
		in->unknown_version += in->unknown_version < UINT16_MAX;
		qs->st.unknown_version++;
		return PK_REST;
	}
	return typed_packet(qs, qf, &pk, dir, ts, ev); /* PK_REST here: a Retry */
}

/* ---- flows ------------------------------------------------------------------------ */

static struct quic_flow *flow_new(struct quic_stage *qs)
{
	struct quic_flow *qf = calloc(1, sizeof(*qf));
	struct quic_hs *hs = calloc(1, sizeof(*hs));
	if (!qf || !hs) {
		free(qf);
		free(hs);
		qs->st.alloc_failed++;
		return NULL;
	}
	for (int d = 0; d < 2; d++) {
		reasm_init(&hs->crypto[d], QUIC_CRYPTO_LIMIT);
		reasm_set_base(&hs->crypto[d], 0);
		hs->largest_pn[d] = -1;
	}
	qf->hs = hs;
	qs->st.flows++;
	return qf;
}

static void hs_release(struct quic_flow *qf)
{
	if (!qf->hs)
		return;
	for (int d = 0; d < 2; d++) {
		qf->info.crypto_gap[d] = qf->hs->crypto[d].contiguous < qf->hs->crypto[d].highest_end;
		reasm_release(&qf->hs->crypto[d]);
	}
	free(qf->hs);
	qf->hs = NULL;
	qf->finished = 1;
}

/* Zeros after the last packet: some stacks pad the datagram, not the
 * packet (RFC 9000 section 14.1 allows either). */
static void tail(struct quic_flow *qf, struct cursor *c, int dir)
{
	if (dir == 0)
		qf->info.padding += (uint32_t)cur_left(c);
}

static unsigned read_packets(struct quic_stage *qs, struct quic_flow *qf, const uint8_t *p,
			     size_t len, bool cut, int dir, uint64_t ts)
{
	struct cursor c = cur_make(p, len);
	unsigned ev = 0;
	uint8_t b;
	for (int n = 0; cur_peek_u8(&c, 0, &b); n++) {
		if (n == QUIC_MAX_COALESCED) {
			qs->st.coalesced_cap++;
			break;
		}
		if (b == 0) { /* zeros after the packets: the datagram's padding */
			tail(qf, &c, dir);
			return ev;
		}
		if (!(b & 0x80)) { /* short header (fixed bit greased or not, RFC 9287): to the end */
			qf->info.short_hdr[dir] += qf->info.short_hdr[dir] < UINT16_MAX;
			ev |= timing(qf, dir, -1, ts);
			return ev;
		}
		if (long_packet(qs, qf, &c, cut, dir, ts, &ev) != PK_OK)
			return ev;
	}
	return ev;
}

unsigned quic_datagram(struct quic_stage *qs, struct quic_flow **qfp, const uint8_t *p,
		       size_t len, bool cut, int dir, uint64_t ts_us)
{
	if (!*qfp && !(*qfp = flow_new(qs)))
		return 0;
	struct quic_flow *qf = *qfp;
	qs->st.datagrams++;
	if (dir == 0)
		qf->info.t_last_client = ts_us;
	if (qf->finished)
		return 0;
	if (++qf->hs->packets > QUIC_MAX_HS_PACKETS) {
		qs->st.region_cap++;
		hs_release(qf);
		return 0;
	}
	unsigned ev = read_packets(qs, qf, p, len, cut, dir, ts_us);
	if (qf->hello_read) {
		qf->hello_read = 0;
		ev |= QUIC_EV_HELLO;
	}
	if (ev & QUIC_EV_CONFIRMED)
		hs_release(qf);
	return ev;
}

bool quic_finished(const struct quic_flow *qf)
{
	return qf && qf->finished;
}

const struct quic_info *quic_flow_info(const struct quic_flow *qf)
{
	return qf ? &qf->info : NULL;
}

void quic_flow_free(struct quic_flow *qf)
{
	if (!qf)
		return;
	hs_release(qf);
	tls_info_release(&qf->info.tls);
	free(qf);
}
