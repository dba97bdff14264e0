/* tls.h - incremental TLS handshake parser over a reassembled TCP stream.
 *
 * Follows RFC 8446 (TLS 1.3) sections 4 and 5.1, RFC 5246 (TLS 1.2)
 * sections 6.2 and 7.4, RFC 6066 section 3 (server_name), RFC 7301 (ALPN),
 * draft-ietf-tls-esni (ECH 0xfe0d, ESNI 0xffce), and the JA3/JA3S
 * definitions of Salesforce's ja3 project, and FoxIO's JA4 (ja4.h).
 *
 * One parser per direction.  Bytes are fed as they become contiguous, in
 * chunks of any size (down to one byte); records may split handshake
 * messages and one record may hold several.  The parser keeps a small state
 * machine (record header, record body) and buffers only the handshake
 * message in progress, capped at `max_msg` bytes.  It never prints and
 * never stops the program: malformed input ends parsing of that direction
 * with a named error; an incomplete message simply waits for more bytes.
 */
#ifndef TS_TLS_H
#define TS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLS_MAX_SNI 255       /* a DNS name is at most 253 octets */
#define TLS_MAX_ALPN 8        /* protocols kept from the ALPN list */
#define TLS_ALPN_BUF 128      /* bytes for their names */
#define TLS_MAX_VERSIONS 8    /* supported_versions entries kept */
#define TLS_MAX_CERTS 16      /* certificates kept from one chain */

struct tls_cert {
	uint8_t *der;
	uint32_t len;
};

/* What the hellos said.  Filled by the parsers of both directions; lives
 * until the flow's event is written, so it stays small. */
struct tls_info {
	/* ClientHello */
	uint8_t ch_seen;          /* a complete ClientHello was parsed */
	uint8_t ch_sslv2;         /* it was an SSLv2-format ClientHello */
	uint8_t sni_present;
	uint8_t ech;              /* encrypted_client_hello (0xfe0d) offered */
	uint8_t esni;             /* encrypted_server_name (0xffce) offered */
	uint8_t ch_ext_malformed; /* extensions whose body did not parse (ignored;
				     the framing around them was sound) */
	uint8_t n_alpn;
	uint8_t n_versions;
	uint8_t alpn_len[TLS_MAX_ALPN];
	uint16_t ch_record_version;
	uint16_t ch_version;      /* legacy_version of the ClientHello */
	uint16_t n_ciphers;
	uint16_t versions[TLS_MAX_VERSIONS]; /* supported_versions, wire order */
	char sni[TLS_MAX_SNI + 1];/* raw bytes, NUL-terminated; may hold
				     non-printable bytes (escaped on output) */
	uint16_t sni_len;
	char alpn_buf[TLS_ALPN_BUF];
	char ja3[33];             /* lowercase hex MD5, "" if no ClientHello */
	char ja4[37];             /* FoxIO JA4 ("t13d1516h2_..."; 'q' for QUIC), "" if none */

	/* ServerHello */
	uint8_t sh_seen;
	uint8_t hello_retry;      /* the ServerHello was a HelloRetryRequest */
	uint16_t sh_version;      /* negotiated: supported_versions or legacy */
	uint16_t sh_cipher;
	char ja3s[33];

	/* Certificate (TLS <= 1.2, in clear) */
	uint8_t cert_seen;
	uint8_t n_certs;
	uint8_t certs_truncated;  /* more than TLS_MAX_CERTS, or message cut */
	struct tls_cert certs[TLS_MAX_CERTS];

	/* What came before TLS on the same connection (tcphs.c): enum
	 * preamble_kind, 0 none; and the destination a proxy was asked for */
	uint8_t preamble;
	char proxy_target[96];

	/* Alerts in clear, first one per direction: [0] client, [1] server */
	uint8_t alert_seen[2];
	uint8_t alert_level[2];
	uint8_t alert_desc[2];
};

/* Things a chunk of bytes produced; the flow logic timestamps them. */
enum {
	TLS_EV_CLIENT_HELLO = 0x01,
	TLS_EV_SERVER_HELLO = 0x02,
	TLS_EV_CERTIFICATE = 0x04,
	TLS_EV_ALERT = 0x08,
	TLS_EV_CCS = 0x10,
	TLS_EV_APPDATA = 0x20,    /* an application_data record header */
	TLS_EV_RECORD = 0x40,     /* at least one complete record header */
	TLS_EV_ERROR = 0x80,      /* parsing of this direction stopped */
};

enum tls_error {
	TLS_ERR_NONE = 0,
	TLS_ERR_NOT_TLS,          /* first bytes are not a TLS record */
	TLS_ERR_RECORD_TYPE,      /* unknown content type */
	TLS_ERR_RECORD_LEN,       /* record longer than 2^14 + 2048 */
	TLS_ERR_HANDSHAKE,        /* a handshake message contradicts itself */
	TLS_ERR_MSG_TOO_BIG,      /* handshake message over max_msg: skipped */
	TLS_ERR__COUNT
};
const char *tls_error_name(enum tls_error e);

enum tls_state {
	TLS_ST_RECORD_HDR = 0,
	TLS_ST_RECORD_BODY,
	TLS_ST_SSLV2,             /* SSLv2-format ClientHello being read */
	TLS_ST_STOPPED,           /* error, or nothing more worth reading */
};

struct tls_parser {
	uint8_t state;            /* enum tls_state */
	uint8_t is_server;        /* direction: 1 = server to client */
	uint8_t error;            /* enum tls_error */
	uint8_t encrypted;        /* after ChangeCipherSpec: records opaque */
	uint8_t hdr[5];
	uint8_t hdr_have;
	uint8_t rec_type;
	uint16_t rec_version;
	uint16_t rec_left;        /* body bytes of the current record still due */
	uint8_t alert_buf[2];
	uint8_t alert_have;
	uint8_t *msg;             /* handshake message in progress (header too) */
	uint32_t msg_have;        /* bytes of it held */
	uint32_t msg_need;        /* 4 + length once the header is known */
	uint32_t msg_cap;
	uint32_t msg_skip;        /* bytes of an oversized message to skip */
	uint32_t max_msg;
	uint32_t records;         /* complete record headers parsed */
	uint32_t handshake_msgs;
	uint32_t msgs_too_big;    /* messages over max_msg, skipped */
};

void tls_parser_init(struct tls_parser *p, bool is_server, uint32_t max_msg);
void tls_parser_release(struct tls_parser *p);

/* Feed the next `len` contiguous stream bytes.  Results go into `info`.
 * Returns TLS_EV_* bits of what these bytes completed. */
unsigned tls_feed(struct tls_parser *p, struct tls_info *info,
		  const uint8_t *data, size_t len);

/* Quick check on the first bytes of a stream: could this be TLS (or an
 * SSLv2 ClientHello)?  Needs at least 3 bytes; false if fewer. */
bool tls_looks_like_tls(const uint8_t *data, size_t len);

/* Free certificate copies held by info. */
void tls_info_release(struct tls_info *info);

/* Parse a complete ClientHello / ServerHello body (after the 4-byte
 * handshake header).  Exposed for unit tests and fuzzing. */
bool tls_parse_client_hello(const uint8_t *body, size_t len, struct tls_info *info);
bool tls_parse_server_hello(const uint8_t *body, size_t len, struct tls_info *info);

/* "TLSv1.2", "TLSv1.3", "SSLv3", or "0x%04x" into buf (>= 8 bytes). */
const char *tls_version_name(uint16_t v, char *buf, size_t len);

#endif
