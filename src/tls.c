/* tls.c - incremental TLS handshake parser: records (RFC 8446 section 5.1,
 * RFC 5246 section 6.2), handshake messages (RFC 8446 sections 4.1.2-4.1.4
 * and 4.4.2, RFC 5246 sections 7.4.1-7.4.2), alerts (RFC 8446 section 6),
 * SSL 2.0 CLIENT-HELLO (RFC 6101 appendix E.2), server_name (RFC 6066
 * section 3), ALPN (RFC 7301 section 3.1), supported_versions (RFC 8446
 * section 4.2.1), GREASE (RFC 8701) and salesforce/ja3 JA3/JA3S.
 *
 * Bytes arrive in chunks of any size.  The record header is buffered in the
 * parser, record bodies are never buffered, and handshake messages are
 * reassembled from the handshake byte stream (which ignores record
 * boundaries) into one buffer capped at max_msg + 4 bytes.  Every loop
 * consumes input or stops the parser, so work is linear in the input.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cursor.h"
#include "tls.h"

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

enum {
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_ALPN = 16,
	EXT_SUPPORTED_VERSIONS = 43,
	EXT_ECH = 0xfe0d,
	EXT_ESNI = 0xffce,
};

#define SNI_HOST_NAME 0
#define TLS13_VERSION 0x0304

/* SHA-256("HelloRetryRequest"): the ServerHello.random of an HRR
 * (RFC 8446 section 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const char *const tls_error_names[TLS_ERR__COUNT] = {
	[TLS_ERR_NONE] = "none",
	[TLS_ERR_NOT_TLS] = "not_tls",
	[TLS_ERR_RECORD_TYPE] = "record_type",
	[TLS_ERR_RECORD_LEN] = "record_len",
	[TLS_ERR_HANDSHAKE] = "handshake",
	[TLS_ERR_MSG_TOO_BIG] = "msg_too_big",
};

const char *tls_error_name(enum tls_error e)
{
	if ((unsigned)e >= TLS_ERR__COUNT)
		return "unknown";
	return tls_error_names[e];
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
	if ((v >> 8) == 3 && (v & 0xff) <= 4) {
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

/* RFC 8701: 0x0a0a, 0x1a1a, ... 0xfafa. */
static bool is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* TLS 1.3 or one of its drafts (0x7fxx): everything after the ServerHello
 * is encrypted and the Certificate is not visible. */
static bool is_tls13(uint16_t v)
{
	return v == TLS13_VERSION || (v >> 8) == 0x7f;
}

/* ---- JA3 / JA3S ---------------------------------------------------------
 * The fingerprint strings can be long (a ClientHello may list 32767
 * ciphers), so they are streamed into the digest through a small buffer
 * instead of being built in memory sized by the peer. */

struct ja3w {
	EVP_MD_CTX *ctx;
	bool ok;
	size_t n;
	char buf[256];
};

static bool ja3w_begin(struct ja3w *w)
{
	w->n = 0;
	w->ctx = EVP_MD_CTX_new();
	w->ok = w->ctx != NULL &&
		EVP_DigestInit_ex(w->ctx, EVP_md5(), NULL) == 1;
	return w->ok;
}

static void ja3w_flush(struct ja3w *w)
{
	if (w->ok && w->n > 0 && EVP_DigestUpdate(w->ctx, w->buf, w->n) != 1)
		w->ok = false;
	w->n = 0;
}

static void ja3w_put(struct ja3w *w, const char *s, size_t n)
{
	if (n > sizeof(w->buf) - w->n)
		ja3w_flush(w);
	memcpy(w->buf + w->n, s, n);
	w->n += n;
}

static void ja3w_char(struct ja3w *w, char ch)
{
	ja3w_put(w, &ch, 1);
}

/* One decimal value, preceded by '-' unless it opens its field.  Written
 * by hand: snprintf here was most of the cost of a ClientHello. */
static void ja3w_num(struct ja3w *w, unsigned v, bool *first)
{
	char tmp[16];
	char *end = tmp + sizeof(tmp), *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (!*first)
		*--p = '-';
	*first = false;
	ja3w_put(w, p, (size_t)(end - p));
}

static void ja3w_list16(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint16_t v;

	while (cur_be16(&c, &v))
		if (!is_grease(v))
			ja3w_num(w, v, &first);
}

static void ja3w_list8(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint8_t v;

	while (cur_u8(&c, &v))
		ja3w_num(w, v, &first);
}

/* Extension types of an already validated extensions block. */
static void ja3w_ext_types(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint16_t type, len;

	while (cur_be16(&c, &type) && cur_be16(&c, &len) && cur_skip(&c, len))
		if (!is_grease(type))
			ja3w_num(w, type, &first);
}

/* Finish into 32 lowercase hex digits, or "" if libcrypto failed. */
static void ja3w_end(struct ja3w *w, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	ja3w_flush(w);
	out[0] = '\0';
	if (w->ok && EVP_DigestFinal_ex(w->ctx, md, &md_len) == 1 &&
	    md_len == 16) {
		for (unsigned i = 0; i < 16; i++) {
			out[2 * i] = hex[md[i] >> 4];
			out[2 * i + 1] = hex[md[i] & 0x0f];
		}
		out[32] = '\0';
	}
	EVP_MD_CTX_free(w->ctx);
	w->ctx = NULL;
}

/* ---- ClientHello (RFC 8446 section 4.1.2) ------------------------------ */

/* Validated pieces of a ClientHello that JA3 hashes, plus which
 * extensions were already taken (the first occurrence wins). */
struct ch_lists {
	struct cursor ciphers;
	struct cursor exts;
	struct cursor groups;
	struct cursor formats;
	bool seen_alpn;
	bool seen_versions;
	bool seen_groups;
	bool seen_formats;
};

/* RFC 6066 section 3: ServerNameList of (type, opaque name<1..2^16-1>). */
static bool ch_ext_sni(struct cursor c, struct tls_info *ti)
{
	uint16_t list_len;

	/* An empty body names nothing; servers echo it that way. */
	if (cur_left(&c) == 0)
		return true;
	if (!cur_be16(&c, &list_len) || list_len != cur_left(&c))
		return false;
	while (cur_left(&c) > 0) {
		uint8_t type;
		uint16_t n;
		struct cursor name;
		size_t keep;

		if (!cur_u8(&c, &type) || !cur_be16(&c, &n) ||
		    !cur_sub(&c, n, &name))
			return false;
		if (type != SNI_HOST_NAME || ti->sni_present || n == 0)
			continue;
		/* A longer name is kept truncated: still evidence of what
		 * the client asked for. */
		keep = n < TLS_MAX_SNI ? n : TLS_MAX_SNI;
		if (!cur_bytes(&name, ti->sni, keep))
			return false;
		ti->sni[keep] = '\0';
		ti->sni_len = (uint16_t)keep;
		ti->sni_present = 1;
	}
	return true;
}

/* RFC 7301 section 3.1: ProtocolNameList of opaque name<1..2^8-1>.  Names
 * are kept in order while they fit; the first that does not ends keeping. */
static bool ch_ext_alpn(struct cursor c, struct tls_info *ti, bool keep)
{
	uint16_t list_len;
	size_t used = 0;
	bool full = !keep;

	if (!cur_be16(&c, &list_len) || list_len != cur_left(&c))
		return false;
	while (cur_left(&c) > 0) {
		uint8_t n;
		struct cursor name;

		if (!cur_u8(&c, &n) || !cur_sub(&c, n, &name))
			return false;
		if (full || n == 0)
			continue;
		if (ti->n_alpn >= TLS_MAX_ALPN || n > TLS_ALPN_BUF - used) {
			full = true;
			continue;
		}
		if (!cur_bytes(&name, ti->alpn_buf + used, n))
			return false;
		ti->alpn_len[ti->n_alpn++] = n;
		used += n;
	}
	return true;
}

/* RFC 8446 section 4.2.1, ClientHello form: ProtocolVersion
 * versions<2..254>.  GREASE entries are not versions and are left out. */
static bool ch_ext_versions(struct cursor c, struct tls_info *ti, bool keep)
{
	uint8_t list_len;
	uint16_t v;

	if (!cur_u8(&c, &list_len) || list_len != cur_left(&c) ||
	    list_len % 2 != 0)
		return false;
	while (cur_be16(&c, &v)) {
		if (!keep || is_grease(v) || ti->n_versions >= TLS_MAX_VERSIONS)
			continue;
		ti->versions[ti->n_versions++] = v;
	}
	return true;
}

/* RFC 8422 section 5.1.1: NamedGroup named_group_list<2..2^16-1>. */
static bool ch_ext_groups(struct cursor c, struct ch_lists *l)
{
	uint16_t list_len;

	if (!cur_be16(&c, &list_len) || list_len != cur_left(&c) ||
	    list_len % 2 != 0)
		return false;
	if (!l->seen_groups)
		l->groups = c;
	l->seen_groups = true;
	return true;
}

/* RFC 8422 section 5.1.2: ECPointFormat ec_point_format_list<1..2^8-1>. */
static bool ch_ext_formats(struct cursor c, struct ch_lists *l)
{
	uint8_t list_len;

	if (!cur_u8(&c, &list_len) || list_len != cur_left(&c))
		return false;
	if (!l->seen_formats)
		l->formats = c;
	l->seen_formats = true;
	return true;
}

static bool ch_extension(uint16_t type, struct cursor body,
			 struct tls_info *ti, struct ch_lists *l)
{
	bool first;

	switch (type) {
	case EXT_SERVER_NAME:
		return ch_ext_sni(body, ti);
	case EXT_ALPN:
		first = !l->seen_alpn;
		l->seen_alpn = true;
		return ch_ext_alpn(body, ti, first);
	case EXT_SUPPORTED_VERSIONS:
		first = !l->seen_versions;
		l->seen_versions = true;
		return ch_ext_versions(body, ti, first);
	case EXT_SUPPORTED_GROUPS:
		return ch_ext_groups(body, l);
	case EXT_EC_POINT_FORMATS:
		return ch_ext_formats(body, l);
	case EXT_ECH:
		ti->ech = 1;
		return true;
	case EXT_ESNI:
		ti->esni = 1;
		return true;
	default:
		return true;
	}
}

static bool ch_extensions(struct cursor c, struct tls_info *ti,
			  struct ch_lists *l)
{
	while (cur_left(&c) > 0) {
		uint16_t type, len;
		struct cursor body;

		if (!cur_be16(&c, &type) || !cur_be16(&c, &len) ||
		    !cur_sub(&c, len, &body)) {
			/* The block's own length matched the message, but an
			 * extension inside runs past it: keep what came before
			 * (the SNI usually does), as tshark and a DPI box do,
			 * and count the damage. */
			if (ti->ch_ext_malformed < 255)
				ti->ch_ext_malformed++;
			return true;
		}
		/* The framing holds, so later extensions are still found: a
		 * body that does not parse is counted and skipped, as a DPI
		 * box and tshark would still read the SNI around it. */
		if (!ch_extension(type, body, ti, l) && ti->ch_ext_malformed < 255)
			ti->ch_ext_malformed++;
	}
	return true;
}

/* "SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats" */
static void ja3_client(const struct ch_lists *l, uint16_t version,
		       char out[33])
{
	struct ja3w w;
	bool first = true;

	out[0] = '\0';
	if (!ja3w_begin(&w)) {
		EVP_MD_CTX_free(w.ctx);
		return;
	}
	ja3w_num(&w, version, &first);
	ja3w_char(&w, ',');
	ja3w_list16(&w, l->ciphers);
	ja3w_char(&w, ',');
	ja3w_ext_types(&w, l->exts);
	ja3w_char(&w, ',');
	ja3w_list16(&w, l->groups);
	ja3w_char(&w, ',');
	ja3w_list8(&w, l->formats);
	ja3w_end(&w, out);
}

/* Copy the ClientHello fields of a parsed hello into info; the record
 * version and the ServerHello/Certificate/alert fields stay as they are. */
static void ch_commit(struct tls_info *info, const struct tls_info *ch)
{
	info->ch_seen = ch->ch_seen;
	info->ch_sslv2 = ch->ch_sslv2;
	info->sni_present = ch->sni_present;
	info->ech = ch->ech;
	info->esni = ch->esni;
	info->ch_ext_malformed = ch->ch_ext_malformed;
	info->n_alpn = ch->n_alpn;
	info->n_versions = ch->n_versions;
	memcpy(info->alpn_len, ch->alpn_len, sizeof(info->alpn_len));
	info->ch_version = ch->ch_version;
	info->n_ciphers = ch->n_ciphers;
	memcpy(info->versions, ch->versions, sizeof(info->versions));
	memcpy(info->sni, ch->sni, sizeof(info->sni));
	info->sni_len = ch->sni_len;
	memcpy(info->alpn_buf, ch->alpn_buf, sizeof(info->alpn_buf));
	memcpy(info->ja3, ch->ja3, sizeof(info->ja3));
}

/* Parsed into a scratch copy so a malformed hello leaves info untouched. */
bool tls_parse_client_hello(const uint8_t *body, size_t len,
			    struct tls_info *info)
{
	struct tls_info ch;
	struct ch_lists l;
	struct cursor c = cur_make(body, len);
	uint16_t version, cs_len, ext_len;
	uint8_t sid_len, comp_len;

	memset(&ch, 0, sizeof(ch));
	memset(&l, 0, sizeof(l));
	if (!cur_be16(&c, &version) || !cur_skip(&c, 32) ||
	    !cur_u8(&c, &sid_len) || sid_len > 32 || !cur_skip(&c, sid_len))
		return false;
	/* CipherSuite cipher_suites<2..2^16-2> */
	if (!cur_be16(&c, &cs_len) || cs_len == 0 || cs_len % 2 != 0 ||
	    !cur_sub(&c, cs_len, &l.ciphers))
		return false;
	/* opaque legacy_compression_methods<1..2^8-1> */
	if (!cur_u8(&c, &comp_len) || comp_len == 0 || !cur_skip(&c, comp_len))
		return false;
	/* Extensions are optional before TLS 1.3; when present the block
	 * must end exactly where the message ends. */
	if (cur_left(&c) > 0) {
		if (!cur_be16(&c, &ext_len) || ext_len != cur_left(&c))
			return false;
		l.exts = c;
		if (!ch_extensions(c, &ch, &l))
			return false;
	}
	ch.ch_seen = 1;
	ch.ch_version = version;
	ch.n_ciphers = cs_len / 2;
	ja3_client(&l, version, ch.ja3);
	ch_commit(info, &ch);
	return true;
}

/* ---- ServerHello (RFC 8446 section 4.1.3, RFC 5246 section 7.4.1.3) --- */

/* Only supported_versions matters here; it must be exactly one version. */
static bool sh_extensions(struct cursor c, uint16_t *selected)
{
	while (cur_left(&c) > 0) {
		uint16_t type, len;
		struct cursor body;

		if (!cur_be16(&c, &type) || !cur_be16(&c, &len) ||
		    !cur_sub(&c, len, &body))
			return false;
		if (type != EXT_SUPPORTED_VERSIONS)
			continue;
		if (len != 2 || !cur_be16(&body, selected))
			return false;
	}
	return true;
}

/* "SSLVersion,Cipher,Extensions" */
static void ja3_server(uint16_t version, uint16_t cipher, struct cursor exts,
		       char out[33])
{
	struct ja3w w;
	bool first = true;

	out[0] = '\0';
	if (!ja3w_begin(&w)) {
		EVP_MD_CTX_free(w.ctx);
		return;
	}
	ja3w_num(&w, version, &first);
	ja3w_char(&w, ',');
	first = true;
	ja3w_num(&w, cipher, &first);
	ja3w_char(&w, ',');
	ja3w_ext_types(&w, exts);
	ja3w_end(&w, out);
}

static bool parse_server_hello(const uint8_t *body, size_t len,
			       struct tls_info *info, bool *is_hrr)
{
	struct cursor c = cur_make(body, len);
	struct cursor exts = cur_make(NULL, 0);
	uint8_t random[32], sid_len, comp;
	uint16_t version, cipher, ext_len, selected = 0;

	if (!cur_be16(&c, &version) || !cur_bytes(&c, random, sizeof(random)) ||
	    !cur_u8(&c, &sid_len) || sid_len > 32 || !cur_skip(&c, sid_len) ||
	    !cur_be16(&c, &cipher) || !cur_u8(&c, &comp))
		return false;
	if (cur_left(&c) > 0) {
		if (!cur_be16(&c, &ext_len) || ext_len != cur_left(&c))
			return false;
		exts = c;
		if (!sh_extensions(c, &selected))
			return false;
	}
	*is_hrr = memcmp(random, hrr_random, sizeof(random)) == 0;
	info->sh_seen = 1;
	if (*is_hrr)
		info->hello_retry = 1;
	info->sh_version = selected != 0 ? selected : version;
	info->sh_cipher = cipher;
	ja3_server(version, cipher, exts, info->ja3s);
	return true;
}

bool tls_parse_server_hello(const uint8_t *body, size_t len,
			    struct tls_info *info)
{
	bool is_hrr;

	return parse_server_hello(body, len, info, &is_hrr);
}

/* ---- Certificate (RFC 5246 section 7.4.2) ------------------------------ */

static bool cert_keep(struct tls_info *info, struct cursor der)
{
	size_t n = cur_left(&der);
	uint8_t *copy = malloc(n);

	if (copy == NULL)
		return false;
	if (!cur_bytes(&der, copy, n)) {
		free(copy);
		return false;
	}
	info->certs[info->n_certs].der = copy;
	info->certs[info->n_certs].len = (uint32_t)n;
	info->n_certs++;
	return true;
}

/* ASN.1Cert certificate_list<0..2^24-1>, each opaque ASN.1Cert<1..2^24-1>.
 * Copies are bounded by the message, which is bounded by max_msg. */
static bool parse_certificate(const uint8_t *body, size_t len,
			      struct tls_info *info)
{
	struct cursor c = cur_make(body, len);
	uint32_t list_len;

	if (!cur_be24(&c, &list_len) || list_len != cur_left(&c))
		return false;
	while (cur_left(&c) > 0) {
		uint32_t n;
		struct cursor der;

		if (!cur_be24(&c, &n) || n == 0 || !cur_sub(&c, n, &der))
			return false;
		if (info->n_certs >= TLS_MAX_CERTS || !cert_keep(info, der))
			info->certs_truncated = 1;
	}
	return true;
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

static void msg_free(struct tls_parser *p)
{
	free(p->msg);
	p->msg = NULL;
	p->msg_cap = 0;
	p->msg_have = 0;
	p->msg_need = 0;
	p->msg_skip = 0;
}

void tls_parser_release(struct tls_parser *p)
{
	msg_free(p);
}

void tls_info_release(struct tls_info *info)
{
	for (unsigned i = 0; i < info->n_certs && i < TLS_MAX_CERTS; i++) {
		free(info->certs[i].der);
		info->certs[i].der = NULL;
		info->certs[i].len = 0;
	}
	info->n_certs = 0;
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
	uint32_t cap;
	uint8_t *n;

	if (need > limit)
		return false;
	if (p->msg_cap >= need)
		return true;
	cap = p->msg_cap > limit / 2 ? limit : p->msg_cap * 2;
	if (cap < TLS_MSG_MIN_ALLOC)
		cap = TLS_MSG_MIN_ALLOC < limit ? TLS_MSG_MIN_ALLOC : limit;
	if (cap < need)
		cap = need;
	n = realloc(p->msg, cap);
	if (n == NULL)
		return false;
	p->msg = n;
	p->msg_cap = cap;
	return true;
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
	if (!parse_server_hello(body.p, cur_left(&body), info, &is_hrr))
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
	if (parse_certificate(body.p, cur_left(&body), info)) {
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

	p->msg_have = 0;
	p->msg_need = 0;
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
		p->msg_have = 0;
		p->msg_need = 0;
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
		size_t k;

		if (p->msg_skip > 0) {
			k = cur_left(&c) < p->msg_skip ? cur_left(&c) : p->msg_skip;
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
		k = p->msg_need - p->msg_have;
		if (k > cur_left(&c))
			k = cur_left(&c);
		cur_bytes(&c, p->msg + p->msg_have, k);
		p->msg_have += (uint32_t)k;
		if (p->msg_have == p->msg_need)
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
	if (type < CT_CCS || type > CT_HEARTBEAT)
		return tls_stop(p, p->records == 0 ? TLS_ERR_NOT_TLS
						  : TLS_ERR_RECORD_TYPE);
	if ((version >> 8) != 3 || (version & 0xff) > 4)
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
	if (type != HS_CLIENT_HELLO || len < SSLV2_CH_FIXED)
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
 * may follow.  Version 0x0002 is SSL 2.0, 0x03xx a TLS client speaking the
 * old format for compatibility. */
static bool parse_sslv2_hello(struct cursor c, uint16_t *version,
			      uint16_t *n_specs)
{
	uint8_t type;
	uint16_t cs_len, sid_len, chal_len;

	if (!cur_u8(&c, &type) || type != HS_CLIENT_HELLO ||
	    !cur_be16(&c, version) || !cur_be16(&c, &cs_len) ||
	    !cur_be16(&c, &sid_len) || !cur_be16(&c, &chal_len))
		return false;
	if (*version != SSLV2_RECORD_VERSION && (*version >> 8) != 3)
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
	size_t k = p->msg_need - p->msg_have;
	uint16_t version, n_specs;
	unsigned ev = TLS_EV_RECORD;

	if (k > cur_left(c))
		k = cur_left(c);
	cur_bytes(c, p->msg + p->msg_have, k);
	p->msg_have += (uint32_t)k;
	if (p->msg_have < p->msg_need)
		return 0;
	if (!parse_sslv2_hello(cur_make(p->msg, p->msg_have), &version,
			       &n_specs))
		return tls_stop(p, TLS_ERR_NOT_TLS);
	p->records++;
	p->msg_have = 0;
	p->msg_need = 0;
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
	uint8_t b0, b1, b2, v_major, v_minor;

	if (!cur_u8(&c, &b0) || !cur_u8(&c, &b1) || !cur_u8(&c, &b2))
		return false;
	if (b0 & 0x80) {
		uint16_t v2_len = (uint16_t)(((b0 & 0x7f) << 8) | b1);

		if (b2 != HS_CLIENT_HELLO || v2_len < SSLV2_CH_FIXED)
			return false;
		if (!cur_u8(&c, &v_major) || !cur_u8(&c, &v_minor))
			return true; /* too short to say more */
		return (v_major == 0 && v_minor == 2) || v_major == 3;
	}
	return b0 >= CT_CCS && b0 <= CT_HEARTBEAT && b1 == 3 && b2 <= 4;
}
