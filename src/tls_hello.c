/* tls_hello.c - TLS hello and Certificate message parsing: ClientHello
 * (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2), ServerHello (RFC 8446
 * section 4.1.3, RFC 5246 section 7.4.1.3), Certificate (RFC 5246 section
 * 7.4.2), the extensions server_name (RFC 6066 section 3), ALPN (RFC 7301
 * section 3.1), supported_versions (RFC 8446 section 4.2.1),
 * supported_groups and ec_point_formats (RFC 8422 section 5.1), ECH and
 * ESNI (draft-ietf-tls-esni), GREASE (RFC 8701), salesforce/ja3
 * JA3/JA3S, and FoxIO's JA4 (ja4.c).
 *
 * Every function here reads one complete message body that tls.c has
 * reassembled (so bounded by max_msg) and writes what it found into
 * struct tls_info.  Nothing here keeps state between messages.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"
#include "cursor.h"
#include "fpmemo.h"
#include "ja4.h"
#include "tls_hello.h"
#include "tls_info.h"
#include "util.h"

/* The ExtensionType values read here (IANA TLS ExtensionType Values). */
enum {
	EXT_SERVER_NAME = 0,          /* RFC 6066 section 3 */
	EXT_SUPPORTED_GROUPS = 10,    /* RFC 8422 section 5.1.1 */
	EXT_EC_POINT_FORMATS = 11,    /* RFC 8422 section 5.1.2 */
	EXT_SIGNATURE_ALGORITHMS = 13, /* RFC 8446 section 4.2.3 (JA4 reads it) */
	EXT_ALPN = 16,                /* RFC 7301 section 3.1 */
	EXT_SUPPORTED_VERSIONS = 43,  /* RFC 8446 section 4.2.1 */
	EXT_ECH = 0xfe0d,             /* ECH, draft-ietf-tls-esni-13 and later */
	EXT_ESNI = 0xffce,            /* ESNI, the drafts before ECH */
};

#define SNI_HOST_NAME 0

/* SHA-256("HelloRetryRequest"): the ServerHello.random of an HRR
 * (RFC 8446 section 4.1.3). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
	0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ---- Pieces common to both hellos -------------------------------------- */

/* One Extension: uint16 extension_type, opaque extension_data<0..2^16-1>
 * (RFC 8446 section 4.2).  False when its framing runs past c. */
static bool ext_next(struct cursor *c, uint16_t *type, struct cursor *body)
{
	uint16_t len;

	return cur_be16(c, type) && cur_be16(c, &len) && cur_sub(c, len, body);
}

/* legacy_version, random and legacy_session_id<0..32>, which open both
 * hellos (RFC 8446 sections 4.1.2 and 4.1.3). */
static bool hello_head(struct cursor *c, uint16_t *version,
		       uint8_t random[32])
{
	uint8_t sid_len;

	return cur_be16(c, version) && cur_bytes(c, random, 32) &&
	       cur_u8(c, &sid_len) && sid_len <= 32 && cur_skip(c, sid_len);
}

/* Extensions are optional before TLS 1.3; when present the block must end
 * exactly where the message ends.  *exts is the block, empty if absent. */
static bool hello_exts(struct cursor *c, struct cursor *exts)
{
	uint16_t len;

	*exts = cur_make(NULL, 0);
	if (cur_left(c) == 0)
		return true;
	return cur_be16(c, &len) && len == cur_left(c) && cur_sub(c, len, exts);
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

static void ja3w_flush(struct ja3w *w)
{
	if (w->ok && w->n > 0 && EVP_DigestUpdate(w->ctx, w->buf, w->n) != 1)
		w->ok = false;
	w->n = 0;
}

static void ja3w_char(struct ja3w *w, char ch)
{
	if (w->n == sizeof(w->buf))
		ja3w_flush(w);
	w->buf[w->n++] = ch;
}

/* One decimal value below 65536, preceded by '-' unless it opens its
 * field, written straight into the buffer: a ClientHello has dozens of
 * them, and a call per value with a copy was most of JA3's own cost. */
static inline void ja3w_num(struct ja3w *w, unsigned v, bool *first)
{
	char *p;
	if (sizeof(w->buf) - w->n < 6) /* '-' and five digits */
		ja3w_flush(w);
	p = w->buf + w->n;
	if (!*first)
		*p++ = '-';
	*first = false;
	/* the digits, most significant first, without leading zeros */
	if (v >= 10000)
		*p++ = (char)('0' + v / 10000);
	if (v >= 1000)
		*p++ = (char)('0' + v / 1000 % 10);
	if (v >= 100)
		*p++ = (char)('0' + v / 100 % 10);
	if (v >= 10)
		*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	w->n = (size_t)(p - w->buf);
}

static void ja3w_list16(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint16_t v;

	while (cur_be16(&c, &v))
		if (!tls_grease(v))
			ja3w_num(w, v, &first);
}

static void ja3w_list8(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint8_t v;

	while (cur_u8(&c, &v))
		ja3w_num(w, v, &first);
}

/* Both fingerprints open with "SSLVersion,": start the digest in ctx (the
 * caller's) and write it.  out is "" from here until ja3w_end fills it,
 * so a libcrypto failure leaves no fingerprint rather than a wrong one. */
static bool ja3w_start(struct ja3w *w, EVP_MD_CTX *ctx, uint16_t version, char out[33])
{
	bool first = true;

	out[0] = '\0';
	w->n = 0;
	w->ctx = ctx;
	w->ok = ctx != NULL && EVP_DigestInit_ex(ctx, digest_md5(), NULL) == 1;
	if (!w->ok)
		return false;
	ja3w_num(w, version, &first);
	ja3w_char(w, ',');
	return true;
}

/* Extension types of an already validated extensions block. */
static void ja3w_ext_types(struct ja3w *w, struct cursor c)
{
	bool first = true;
	uint16_t type;
	struct cursor body;

	while (ext_next(&c, &type, &body))
		if (!tls_grease(type))
			ja3w_num(w, type, &first);
}

/* Finish into 32 lowercase hex digits, or "" if libcrypto failed. */
static void ja3w_end(struct ja3w *w, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	ja3w_flush(w);
	out[0] = '\0';
	if (w->ok && EVP_DigestFinal_ex(w->ctx, md, &md_len) == 1 && md_len == 16)
		hex_encode(md, 16, out);
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
	ti->alpn_bytes = (uint16_t)used;
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
		if (!keep || tls_grease(v) || ti->n_versions >= TLS_MAX_VERSIONS)
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
		uint16_t type;
		struct cursor body;

		if (!ext_next(&c, &type, &body)) {
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
static void ja3_client(EVP_MD_CTX *ctx, const struct ch_lists *l, uint16_t version,
		       char out[33])
{
	struct ja3w w;

	if (!ja3w_start(&w, ctx, version, out))
		return;
	ja3w_list16(&w, l->ciphers);
	ja3w_char(&w, ',');
	ja3w_ext_types(&w, l->exts);
	ja3w_char(&w, ',');
	ja3w_list16(&w, l->groups);
	ja3w_char(&w, ',');
	ja3w_list8(&w, l->formats);
	ja3w_end(&w, out);
}

/* What JA3 and JA4 read of a ClientHello, as a memo key (fpmemo.h): the
 * legacy version, the ciphers, and the extensions as far as their framing
 * holds (where both fingerprints stop) - every type but GREASE, which
 * both leave out, and the bodies they read: groups and point formats
 * (JA3), ALPN, supported_versions and signature_algorithms (JA4).  The
 * lists' GREASE values become one value; SNI counts by presence only. */
static void ch_fp_key(uint16_t version, const struct ch_lists *l, struct fpmemo_key *k)
{
	struct cursor c = l->exts, body;
	uint16_t type;
	fpmemo_key_init(k, 'C');
	fpmemo_key_u16(k, version);
	fpmemo_key_u16(k, (uint16_t)cur_left(&l->ciphers));
	fpmemo_key_list16(k, l->ciphers);
	while (!k->over && ext_next(&c, &type, &body)) {
		if (tls_grease(type))
			continue;
		fpmemo_key_u16(k, type);
		switch (type) {
		case EXT_SUPPORTED_GROUPS: /* u16 length, then the list */
		case EXT_SUPPORTED_VERSIONS: /* u8 length, then the list */ {
			size_t head = type == EXT_SUPPORTED_GROUPS ? 2 : 1;
			if (cur_left(&body) < head)
				head = cur_left(&body);
			fpmemo_key_u16(k, (uint16_t)cur_left(&body));
			fpmemo_key_add(k, body.p, head);
			(void)cur_skip(&body, head);
			fpmemo_key_list16(k, body);
			break;
		}
		case EXT_EC_POINT_FORMATS:
		case EXT_ALPN:
		case EXT_SIGNATURE_ALGORITHMS:
			fpmemo_key_u16(k, (uint16_t)cur_left(&body));
			fpmemo_key_add(k, body.p, cur_left(&body));
			break;
		default:
			break;
		}
	}
}

/* Copy the ClientHello fields of a parsed hello into info; the record
 * version and the ServerHello/Certificate/alert fields stay as they are.
 * The names move into one block of their exact size (false: no memory). */
static bool ch_commit(struct tls_info *info, const struct tls_info *ch)
{
	size_t sni_len = ch->sni_present ? ch->sni_len : 0;
	char *block = malloc(sni_len + 1 + ch->alpn_bytes);

	if (!block)
		return false;
	memcpy(block, ch->sni, sni_len);
	block[sni_len] = '\0';
	memcpy(block + sni_len + 1, ch->alpn_buf, ch->alpn_bytes);
	free(info->sni);
	info->sni = block;
	info->sni_len = (uint16_t)sni_len;
	info->alpn_buf = block + sni_len + 1;
	info->alpn_bytes = ch->alpn_bytes;
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
	memcpy(info->ja3, ch->ja3, sizeof(info->ja3));
	memcpy(info->ja4, ch->ja4, sizeof(info->ja4));
	return true;
}

/* Parsed into a scratch copy so a malformed hello leaves info untouched. */
bool tls_parse_client_hello(const uint8_t *body, size_t len,
			    struct tls_info *info)
{
	struct tls_info ch;
	struct ch_lists l;
	struct cursor c = cur_make(body, len);
	uint8_t random[32], comp_len;
	uint16_t version, cs_len;
	char sni[TLS_MAX_SNI + 1], alpn[TLS_ALPN_BUF];

	memset(&ch, 0, sizeof(ch));
	memset(&l, 0, sizeof(l));
	ch.sni = sni;
	ch.alpn_buf = alpn;
	if (!hello_head(&c, &version, random))
		return false;
	/* CipherSuite cipher_suites<2..2^16-2> */
	if (!cur_be16(&c, &cs_len) || cs_len == 0 || cs_len % 2 != 0 ||
	    !cur_sub(&c, cs_len, &l.ciphers))
		return false;
	/* opaque legacy_compression_methods<1..2^8-1> */
	if (!cur_u8(&c, &comp_len) || comp_len == 0 || !cur_skip(&c, comp_len))
		return false;
	if (!hello_exts(&c, &l.exts) || !ch_extensions(l.exts, &ch, &l))
		return false;
	ch.ch_seen = 1;
	ch.ch_version = version;
	ch.n_ciphers = cs_len / 2;
	struct fpmemo_key key;
	ch_fp_key(version, &l, &key);
	if (!fpmemo_get(&key, ch.ja3, sizeof(ch.ja3), ch.ja4, sizeof(ch.ja4))) {
		/* one digest context for JA3 and both JA4 hashes: making and
		 * freeing one per hash cost more than hashing these strings */
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ja3_client(md, &l, version, ch.ja3);
		ja4_client(md, 't', version, l.ciphers, l.exts, ch.ja4);
		EVP_MD_CTX_free(md);
		if (ch.ja3[0] && ch.ja4[0]) /* a libcrypto failure is not kept */
			fpmemo_put(&key, ch.ja3, ch.ja4);
	}
	return ch_commit(info, &ch);
}

/* ---- ServerHello (RFC 8446 section 4.1.3, RFC 5246 section 7.4.1.3) --- */

/* Only supported_versions matters here; it must be exactly one version. */
static bool sh_extensions(struct cursor c, uint16_t *selected)
{
	while (cur_left(&c) > 0) {
		uint16_t type;
		struct cursor body;

		if (!ext_next(&c, &type, &body))
			return false;
		if (type != EXT_SUPPORTED_VERSIONS)
			continue;
		if (cur_left(&body) != 2 || !cur_be16(&body, selected))
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
	struct fpmemo_key key;
	struct cursor c = exts, body;
	uint16_t type;

	/* memo key: what the string is made of */
	fpmemo_key_init(&key, 'S');
	fpmemo_key_u16(&key, version);
	fpmemo_key_u16(&key, cipher);
	while (!key.over && ext_next(&c, &type, &body))
		if (!tls_grease(type))
			fpmemo_key_u16(&key, type);
	if (fpmemo_get(&key, out, 33, NULL, 0))
		return;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (ja3w_start(&w, md, version, out)) {
		ja3w_num(&w, cipher, &first);
		ja3w_char(&w, ',');
		ja3w_ext_types(&w, exts);
		ja3w_end(&w, out);
	}
	EVP_MD_CTX_free(md);
	if (out[0])
		fpmemo_put(&key, out, NULL);
}

bool tls_hello_parse_server_hello(const uint8_t *body, size_t len,
				  struct tls_info *info, bool *is_hrr)
{
	struct cursor c = cur_make(body, len);
	struct cursor exts;
	uint8_t random[32], comp;
	uint16_t version, cipher, selected = 0;

	if (!hello_head(&c, &version, random) || !cur_be16(&c, &cipher) ||
	    !cur_u8(&c, &comp))
		return false;
	if (!hello_exts(&c, &exts) || !sh_extensions(exts, &selected))
		return false;
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

	return tls_hello_parse_server_hello(body, len, info, &is_hrr);
}

/* ---- Certificate (RFC 5246 section 7.4.2) ------------------------------ */

static bool cert_keep(struct tls_info *info, struct cursor der)
{
	size_t n = cur_left(&der);
	uint8_t *copy = malloc(n);

	if (copy == NULL)
		return false;
	if (!info->certs && !(info->certs = calloc(TLS_MAX_CERTS, sizeof(*info->certs)))) {
		free(copy);
		return false;
	}
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
bool tls_hello_parse_certificate(const uint8_t *body, size_t len,
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

/* The copies are made by cert_keep above, so they are freed here. */
void tls_info_release(struct tls_info *info)
{
	for (unsigned i = 0; info->certs && i < info->n_certs && i < TLS_MAX_CERTS; i++)
		free(info->certs[i].der);
	free(info->certs);
	info->certs = NULL;
	info->n_certs = 0;
	free(info->sni);
	info->sni = info->alpn_buf = NULL;
	info->sni_len = info->alpn_bytes = 0;
	info->sni_present = 0;
	info->n_alpn = 0;
	free(info->proxy_target);
	info->proxy_target = NULL;
}
