/* tls.c - incremental TLS record and handshake-message layer: records
 * (RFC 8446 section 5.1, RFC 5246 section 6.2), the handshake message
 * stream (RFC 8446 section 4, RFC 5246 section 7.4), ChangeCipherSpec
 * (RFC 5246 section 7.1, RFC 8446 appendix D.4), alerts (RFC 8446 section
 * 6) and SSL 2.0 CLIENT-HELLO framing (RFC 6101 appendix E).  Complete
 * hello and Certificate messages go to tls_hello.c.
 *
 * Bytes arrive in chunks of any size.  The record header is buffered in the
 * parser, record bodies are never buffered, and handshake messages are
 * reassembled from the handshake byte stream (which ignores record
 * boundaries) into one buffer capped at max_msg + 4 bytes.  Every loop
 * consumes input or stops the parser, so work is linear in the input.
 */
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "tls.h"
#include "tls_hello.h"
#include "util.h"

#define TLS_REC_HDR_LEN 5
#define TLS_HS_HDR_LEN 4
/* TLSCiphertext may exceed 2^14 by 2048 bytes (RFC 5246 section 6.2.3);
 * anything longer is not a record a real stack would send. */
#define TLS_MAX_RECORD (16384 + 2048)
/* A parser initialised with max_msg 0 still needs a usable cap. */
#define TLS_DEFAULT_MAX_MSG 65536u
/* Handshake lengths are uint24: a larger cap means nothing and would let
 * max_msg + 4 wrap. */
#define TLS_MAX_MSG_LIMIT 0xffffffu
/* Smallest buffer worth allocating for the message in progress. */
#define TLS_MSG_MIN_ALLOC 512u
/* SSLv2 CLIENT-HELLO fixed part: type, version, three uint16 lengths. */
#define SSLV2_CH_FIXED 9
#define SSLV2_RECORD_VERSION 0x0002

enum {
	CT_CCS = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPDATA = 23,
	CT_HEARTBEAT = 24,
};

enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
};

#define TLS13_VERSION 0x0304

const char *tls_error_name(enum tls_error e)
{
	static const char *const names[TLS_ERR__COUNT] = { TLS_ERRORS(ENUM_NAME) };
	return name_of(names, TLS_ERR__COUNT, e, "unknown");
}

/* ---- what a stream's first bytes may be ----------------------------------
 * The parser and tls_looks_like_tls judge a header's content type and
 * version, and an SSLv2 hello's head, by these same rules, so the quick
 * check and the parser cannot drift apart. */

/* SSL 3.0 (0x0300) to TLS 1.3 (0x0304): the versions a record header may
 * carry, and the ones with names. */
static bool version_known(uint16_t v)
{
	return (v >> 8) == 3 && (v & 0xff) <= 4;
}

/* ContentType change_cipher_spec (20) to heartbeat (24, RFC 6520). */
static bool rec_type_known(uint8_t type)
{
	return type >= CT_CCS && type <= CT_HEARTBEAT;
}

/* An SSL 2.0 record opening a stream is read only as a CLIENT-HELLO long
 * enough for its fixed part (RFC 6101 appendix E.2). */
static bool sslv2_head_ok(uint8_t type, uint16_t len)
{
	return type == HS_CLIENT_HELLO && len >= SSLV2_CH_FIXED;
}

/* 0x0002 is SSL 2.0, 0x03xx a TLS client speaking the old format for
 * compatibility. */
static bool sslv2_version_ok(uint16_t v)
{
	return v == SSLV2_RECORD_VERSION || (v >> 8) == 3;
}

/* Copy s into buf as snprintf(buf, len, "%s", s) would: cut to len - 1
 * bytes and always terminated. */
static void copy_cut(char *buf, size_t len, const char *s, size_t n)
{
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

const char *tls_version_name(uint16_t v, char *buf, size_t len)
{
	static const char *const names[] = {
		"SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3",
	};
	static const char hex[] = "0123456789abcdef";

	if (buf == NULL || len == 0)
		return "";
	if (version_known(v)) {
		const char *name = names[v & 0xff];
		copy_cut(buf, len, name, strlen(name));
	} else {
		/* "0x%04x" */
		char tmp[6] = { '0', 'x', hex[v >> 12], hex[(v >> 8) & 15],
				hex[(v >> 4) & 15], hex[v & 15] };
		copy_cut(buf, len, tmp, sizeof(tmp));
	}
	return buf;
}

/* TLS 1.3 or one of its drafts (0x7fxx): everything after the ServerHello
 * is encrypted and the Certificate is not visible. */
static bool is_tls13(uint16_t v)
{
	return v == TLS13_VERSION || (v >> 8) == 0x7f;
}

/* ---- parser state machine ---------------------------------------------- */

void tls_parser_init(struct tls_parser *p, bool is_server, uint32_t max_msg)
{
	memset(p, 0, sizeof(*p));
	p->state = TLS_ST_RECORD_HDR;
	p->is_server = is_server ? 1 : 0;
	if (max_msg == 0)
		max_msg = TLS_DEFAULT_MAX_MSG;
	if (max_msg > TLS_MAX_MSG_LIMIT)
		max_msg = TLS_MAX_MSG_LIMIT;
	p->max_msg = max_msg;
}

/* The message in progress is finished or given up; its buffer stays for
 * the next one. */
static void msg_clear(struct tls_parser *p)
{
	p->msg_have = 0;
	p->msg_need = 0;
}

static void msg_free(struct tls_parser *p)
{
	free(p->msg);
	p->msg = NULL;
	p->msg_cap = 0;
	p->msg_skip = 0;
	msg_clear(p);
}

void tls_parser_release(struct tls_parser *p)
{
	msg_free(p);
}

/* Parsing of this direction ends here; the message buffer is not needed
 * any more, so it goes now rather than when the flow ends. */
static unsigned tls_stop(struct tls_parser *p, enum tls_error err)
{
	p->error = (uint8_t)err;
	p->state = TLS_ST_STOPPED;
	msg_free(p);
	return TLS_EV_ERROR;
}

/* From here on handshake bytes of this direction are ciphertext: drop the
 * message in progress and its buffer. */
static void go_opaque(struct tls_parser *p)
{
	p->encrypted = 1;
	msg_free(p);
}

/* Make room for `need` bytes of message; need <= max_msg + 4 always. */
static bool msg_reserve(struct tls_parser *p, uint32_t need)
{
	uint32_t limit = p->max_msg + TLS_HS_HDR_LEN;

	if (need > limit)
		return false;
	return bytes_reserve(&p->msg, &p->msg_cap, need, TLS_MSG_MIN_ALLOC, limit);
}

/* Copy what c holds of the message in progress, never past msg_need (the
 * size msg_reserve made room for); true once the message is whole. */
static bool msg_fill(struct tls_parser *p, struct cursor *c)
{
	size_t k = p->msg_need - p->msg_have;

	if (k > cur_left(c))
		k = cur_left(c);
	cur_bytes(c, p->msg + p->msg_have, k);
	p->msg_have += (uint32_t)k;
	return p->msg_have == p->msg_need;
}

static unsigned on_client_hello(struct tls_parser *p, struct tls_info *info,
				struct cursor body)
{
	/* Only the first ClientHello counts: a second one (after an HRR)
	 * names the same server, and the first is what a censor reacted to. */
	if (p->is_server || info->ch_seen)
		return 0;
	if (!tls_parse_client_hello(body.p, cur_left(&body), info))
		return tls_stop(p, TLS_ERR_HANDSHAKE);
	info->ch_record_version = p->rec_version;
	return TLS_EV_CLIENT_HELLO;
}

static unsigned on_server_hello(struct tls_parser *p, struct tls_info *info,
				struct cursor body)
{
	bool is_hrr;

	/* After a HelloRetryRequest the real ServerHello follows in clear. */
	if (!p->is_server || (info->sh_seen && !info->hello_retry))
		return 0;
	if (!tls_hello_parse_server_hello(body.p, cur_left(&body), info,
					  &is_hrr))
		return tls_stop(p, TLS_ERR_HANDSHAKE);
	/* TLS 1.3 encrypts everything after the ServerHello, even when the
	 * records still say "handshake" to middleboxes. */
	if (!is_hrr && is_tls13(info->sh_version))
		go_opaque(p);
	return TLS_EV_SERVER_HELLO;
}

static bool cert_wanted(const struct tls_parser *p, const struct tls_info *info)
{
	return p->is_server && !info->cert_seen && !is_tls13(info->sh_version);
}

static unsigned on_certificate(struct tls_parser *p, struct tls_info *info,
			       struct cursor body)
{
	unsigned ev;

	if (!cert_wanted(p, info))
		return 0;
	if (tls_hello_parse_certificate(body.p, cur_left(&body), info)) {
		info->cert_seen = 1;
		return TLS_EV_CERTIFICATE;
	}
	/* Keep what was copied before the message contradicted itself: a
	 * forged leaf is still evidence. */
	info->certs_truncated = 1;
	ev = tls_stop(p, TLS_ERR_HANDSHAKE);
	if (info->n_certs > 0) {
		info->cert_seen = 1;
		ev |= TLS_EV_CERTIFICATE;
	}
	return ev;
}

/* A whole message is in p->msg: dispatch it by type. */
static unsigned msg_done(struct tls_parser *p, struct tls_info *info)
{
	struct cursor m = cur_make(p->msg, p->msg_have);
	uint8_t type = 0;

	msg_clear(p);
	if (!cur_u8(&m, &type) || !cur_skip(&m, 3))
		return tls_stop(p, TLS_ERR_HANDSHAKE);
	switch (type) {
	case HS_CLIENT_HELLO:
		return on_client_hello(p, info, m);
	case HS_SERVER_HELLO:
		return on_server_hello(p, info, m);
	case HS_CERTIFICATE:
		return on_certificate(p, info, m);
	default:
		return 0;
	}
}

/* The 4-byte handshake header is complete: size the message or, when it
 * is over the cap, arrange to skip its body. */
static unsigned msg_header(struct tls_parser *p, struct tls_info *info)
{
	struct cursor h = cur_make(p->msg, TLS_HS_HDR_LEN);
	uint8_t type = 0;
	uint32_t body_len = 0;

	(void)(cur_u8(&h, &type) && cur_be24(&h, &body_len));
	p->handshake_msgs++;
	if (body_len > p->max_msg) {
		p->msgs_too_big++;
		p->error = TLS_ERR_MSG_TOO_BIG;
		p->msg_skip = body_len;
		msg_clear(p);
		if (type == HS_CERTIFICATE && cert_wanted(p, info))
			info->certs_truncated = 1;
		return 0;
	}
	p->msg_need = TLS_HS_HDR_LEN + body_len;
	if (!msg_reserve(p, p->msg_need))
		return tls_stop(p, TLS_ERR_MSG_TOO_BIG);
	if (body_len == 0)
		return msg_done(p, info);
	return 0;
}

/* Handshake bytes of one record body, in clear. */
static unsigned handshake_bytes(struct tls_parser *p, struct tls_info *info,
				struct cursor c)
{
	unsigned ev = 0;

	while (cur_left(&c) > 0 && p->state != TLS_ST_STOPPED &&
	       !p->encrypted) {
		if (p->msg_skip > 0) {
			size_t k = cur_left(&c) < p->msg_skip ? cur_left(&c)
							      : p->msg_skip;

			cur_skip(&c, k);
			p->msg_skip -= (uint32_t)k;
			continue;
		}
		if (p->msg_have < TLS_HS_HDR_LEN) {
			if (!msg_reserve(p, TLS_HS_HDR_LEN))
				return ev | tls_stop(p, TLS_ERR_MSG_TOO_BIG);
			cur_u8(&c, &p->msg[p->msg_have++]);
			if (p->msg_have == TLS_HS_HDR_LEN)
				ev |= msg_header(p, info);
			continue;
		}
		if (msg_fill(p, &c))
			ev |= msg_done(p, info);
	}
	return ev;
}

static uint16_t rec_len(const struct tls_parser *p)
{
	struct cursor h = cur_make(p->hdr, sizeof(p->hdr));
	uint16_t len = 0;

	(void)(cur_skip(&h, 3) && cur_be16(&h, &len));
	return len;
}

/* RFC 8446 section 6: an alert record in clear is exactly level and
 * description.  In TLS 1.3 protected alerts travel as application_data,
 * so a 2-byte alert record is plaintext even after the CCS. */
static unsigned alert_done(struct tls_parser *p, struct tls_info *info)
{
	unsigned dir = p->is_server ? 1 : 0;

	if (rec_len(p) != 2 || p->alert_have != 2)
		return 0;
	if (p->encrypted && !is_tls13(info->sh_version))
		return 0;
	if (!info->alert_seen[dir]) {
		info->alert_seen[dir] = 1;
		info->alert_level[dir] = p->alert_buf[0];
		info->alert_desc[dir] = p->alert_buf[1];
	}
	return TLS_EV_ALERT;
}

static unsigned record_end(struct tls_parser *p, struct tls_info *info)
{
	p->state = TLS_ST_RECORD_HDR;
	if (p->rec_type == CT_ALERT)
		return alert_done(p, info);
	return 0;
}

/* ChangeCipherSpec: this direction encrypts from the next record on.  In
 * a TLS 1.3 server direction it is only the middlebox-compatibility dummy
 * (RFC 8446 appendix D.4); the ServerHello decides there. */
static unsigned on_ccs(struct tls_parser *p, const struct tls_info *info)
{
	if (!(p->is_server && info->sh_seen && is_tls13(info->sh_version)))
		go_opaque(p);
	return TLS_EV_CCS;
}

static unsigned record_header(struct tls_parser *p, struct tls_info *info)
{
	struct cursor h = cur_make(p->hdr, sizeof(p->hdr));
	uint8_t type = 0;
	uint16_t version = 0, len = 0;
	unsigned ev = TLS_EV_RECORD;

	(void)(cur_u8(&h, &type) && cur_be16(&h, &version) &&
	       cur_be16(&h, &len));
	p->hdr_have = 0;
	if (!rec_type_known(type))
		return tls_stop(p, p->records == 0 ? TLS_ERR_NOT_TLS
						  : TLS_ERR_RECORD_TYPE);
	if (!version_known(version))
		return tls_stop(p, TLS_ERR_NOT_TLS);
	if (len > TLS_MAX_RECORD)
		return tls_stop(p, TLS_ERR_RECORD_LEN);
	p->rec_type = type;
	p->rec_version = version;
	p->rec_left = len;
	p->alert_have = 0;
	p->records++;
	p->state = TLS_ST_RECORD_BODY;
	if (type == CT_APPDATA)
		ev |= TLS_EV_APPDATA;
	if (type == CT_CCS)
		ev |= on_ccs(p, info);
	if (len == 0)
		ev |= record_end(p, info);
	return ev;
}

/* SSL 2.0 record header (RFC 6101 appendix E.1): two bytes, high bit set,
 * 15-bit length; meaningful only as the very first bytes of a stream. */
static bool sslv2_candidate(const struct tls_parser *p)
{
	return p->records == 0 && p->hdr_have > 0 && (p->hdr[0] & 0x80);
}

static unsigned sslv2_start(struct tls_parser *p)
{
	struct cursor h = cur_make(p->hdr, 3);
	uint16_t word = 0;
	uint8_t type = 0;
	uint16_t len;

	(void)(cur_be16(&h, &word) && cur_u8(&h, &type));
	p->hdr_have = 0;
	len = word & 0x7fff;
	if (!sslv2_head_ok(type, len))
		return tls_stop(p, TLS_ERR_NOT_TLS);
	if (!msg_reserve(p, len))
		return tls_stop(p, TLS_ERR_MSG_TOO_BIG);
	p->msg[0] = type;
	p->msg_have = 1;
	p->msg_need = len;
	p->state = TLS_ST_SSLV2;
	return 0;
}

/* Read the 5-byte record header (3 bytes decide an SSLv2 hello). */
static unsigned feed_header(struct tls_parser *p, struct tls_info *info,
			    struct cursor *c)
{
	for (;;) {
		uint8_t want = sslv2_candidate(p) ? 3 : TLS_REC_HDR_LEN;

		if (p->hdr_have >= want)
			break;
		if (!cur_u8(c, &p->hdr[p->hdr_have]))
			return 0;
		p->hdr_have++;
	}
	if (sslv2_candidate(p))
		return sslv2_start(p);
	return record_header(p, info);
}

static unsigned feed_body(struct tls_parser *p, struct tls_info *info,
			  struct cursor *c)
{
	struct cursor chunk;
	size_t n = cur_left(c) < p->rec_left ? cur_left(c) : p->rec_left;
	unsigned ev = 0;

	cur_sub(c, n, &chunk);
	p->rec_left -= (uint16_t)n;
	if (p->rec_type == CT_HANDSHAKE && !p->encrypted)
		ev |= handshake_bytes(p, info, chunk);
	else if (p->rec_type == CT_ALERT)
		while (p->alert_have < 2 &&
		       cur_u8(&chunk, &p->alert_buf[p->alert_have]))
			p->alert_have++;
	/* CCS, application data and heartbeat bodies are opaque. */
	if (p->state != TLS_ST_STOPPED && p->rec_left == 0)
		ev |= record_end(p, info);
	return ev;
}

/* SSL 2.0 CLIENT-HELLO (RFC 6101 appendix E.2): msg type, version, cipher
 * spec / session id / challenge lengths, then those three fields; nothing
 * may follow. */
static bool parse_sslv2_hello(struct cursor c, uint16_t *version,
			      uint16_t *n_specs)
{
	uint8_t type;
	uint16_t cs_len, sid_len, chal_len;

	if (!cur_u8(&c, &type) || type != HS_CLIENT_HELLO ||
	    !cur_be16(&c, version) || !cur_be16(&c, &cs_len) ||
	    !cur_be16(&c, &sid_len) || !cur_be16(&c, &chal_len))
		return false;
	if (!sslv2_version_ok(*version))
		return false;
	if (cs_len == 0 || cs_len % 3 != 0 || (sid_len != 0 && sid_len != 16) ||
	    chal_len < 16 || chal_len > 32)
		return false;
	if (!cur_skip(&c, cs_len) || !cur_skip(&c, sid_len) ||
	    !cur_skip(&c, chal_len) || cur_left(&c) != 0)
		return false;
	*n_specs = cs_len / 3;
	return true;
}

static unsigned feed_sslv2(struct tls_parser *p, struct tls_info *info,
			   struct cursor *c)
{
	uint16_t version, n_specs;
	unsigned ev = TLS_EV_RECORD;

	if (!msg_fill(p, c))
		return 0;
	if (!parse_sslv2_hello(cur_make(p->msg, p->msg_have), &version,
			       &n_specs))
		return tls_stop(p, TLS_ERR_NOT_TLS);
	p->records++;
	msg_clear(p);
	/* A TLS server answers with TLS records and the client goes on in
	 * them, so keep reading. */
	p->state = TLS_ST_RECORD_HDR;
	if (p->is_server || info->ch_seen)
		return ev;
	memset(info->ja3, 0, sizeof(info->ja3));
	info->ch_seen = 1;
	info->ch_sslv2 = 1;
	info->ch_version = version;
	info->ch_record_version = SSLV2_RECORD_VERSION;
	info->n_ciphers = n_specs;
	return ev | TLS_EV_CLIENT_HELLO;
}

unsigned tls_feed(struct tls_parser *p, struct tls_info *info,
		  const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	unsigned ev = 0;

	/* Each pass consumes input, completes a header, or stops. */
	while (cur_left(&c) > 0 && p->state != TLS_ST_STOPPED) {
		switch (p->state) {
		case TLS_ST_RECORD_HDR:
			ev |= feed_header(p, info, &c);
			break;
		case TLS_ST_RECORD_BODY:
			ev |= feed_body(p, info, &c);
			break;
		case TLS_ST_SSLV2:
			ev |= feed_sslv2(p, info, &c);
			break;
		default:
			p->state = TLS_ST_STOPPED;
			break;
		}
	}
	return ev;
}

bool tls_looks_like_tls(const uint8_t *data, size_t len)
{
	struct cursor c = cur_make(data, len);
	uint8_t b0 = 0, type;
	uint16_t word, version;

	(void)cur_peek_u8(&c, 0, &b0);
	if (b0 & 0x80) {
		if (!cur_be16(&c, &word) || !cur_u8(&c, &type) ||
		    !sslv2_head_ok(type, word & 0x7fff))
			return false;
		if (!cur_be16(&c, &version))
			return true; /* too short to say more */
		return sslv2_version_ok(version);
	}
	if (!cur_u8(&c, &type) || !cur_be16(&c, &version))
		return false;
	return rec_type_known(type) && version_known(version);
}
