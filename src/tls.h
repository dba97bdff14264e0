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

#include "tls_hello.h"
#include "tls_info.h"
#include "util.h"

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

/* Why parsing of a direction stopped, with its name in the outputs. */
#define TLS_ERRORS(X) \
	X(TLS_ERR_NONE, "none") \
	X(TLS_ERR_NOT_TLS, "not_tls")         /* first bytes are not a TLS record */ \
	X(TLS_ERR_RECORD_TYPE, "record_type") /* unknown content type */ \
	X(TLS_ERR_RECORD_LEN, "record_len")   /* record longer than 2^14 + 2048 */ \
	X(TLS_ERR_HANDSHAKE, "handshake")     /* a handshake message contradicts itself */ \
	X(TLS_ERR_MSG_TOO_BIG, "msg_too_big") /* handshake message over max_msg: skipped */

enum tls_error {
	TLS_ERRORS(ENUM_ID)
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

/* "TLSv1.2", "TLSv1.3", "SSLv3", or "0x%04x" into buf (>= 8 bytes). */
const char *tls_version_name(uint16_t v, char *buf, size_t len);

#endif
