/* preamble.h - plaintext that precedes a TLS handshake on the same TCP
 * connection, and where TLS begins after it.
 *
 * Follows: SMTP STARTTLS (RFC 3207 section 4), POP3 STLS (RFC 2595
 * section 4), IMAP STARTTLS (RFC 9051 section 6.2.1), FTP AUTH TLS
 * (RFC 4217 section 4), LDAP StartTLS (RFC 4511 section 4.14, the extended
 * operation 1.3.6.1.4.1.1466.20037, BER per X.690 section 8.1), XMPP
 * STARTTLS (RFC 6120 section 5.4), PostgreSQL SSLRequest (the frontend/
 * backend protocol, "SSL Session Encryption"), HTTP CONNECT (RFC 9110
 * section 9.3.6), SOCKS 4/4a (the NEC protocol notes) and 5 (RFC 1928,
 * RFC 1929 for username/password), and the PROXY protocol v1 and v2
 * (HAProxy's proxy-protocol.txt).  Proxies and SOCKS are how circumvention
 * tools look on the wire, so their ClientHellos matter most.
 *
 * preamble_find() looks at the first bytes of both directions of a
 * stream (reassembled, from offset 0) and answers: not a known preamble,
 * need more bytes, or the stream offsets where TLS starts in each
 * direction.  It reads at most PREAMBLE_MAX bytes of each direction (a
 * preamble longer than that is not followed: otherwise a chatty plaintext
 * protocol would make every packet rescan an ever longer buffer) and
 * allocates nothing; every read goes through a bounds-checked cursor.
 */
#ifndef TS_PREAMBLE_H
#define TS_PREAMBLE_H

#include <stddef.h>
#include <stdint.h>

#define PREAMBLE_MAX 8192

enum preamble_kind {
	PRE_NONE = 0,
	PRE_SMTP,          /* STARTTLS */
	PRE_POP3,          /* STLS */
	PRE_IMAP,          /* tag STARTTLS */
	PRE_FTP,           /* AUTH TLS / AUTH SSL */
	PRE_LDAP,          /* StartTLS extended operation */
	PRE_XMPP,          /* <starttls/> ... <proceed/> */
	PRE_POSTGRES,      /* SSLRequest ... 'S' */
	PRE_HTTP_CONNECT,  /* CONNECT host:port ... 200 */
	PRE_SOCKS4,
	PRE_SOCKS5,
	PRE_PROXY_V1,      /* "PROXY TCP4 ..." line */
	PRE_PROXY_V2,      /* binary header */
	PRE__COUNT
};

/* "smtp_starttls", "http_connect", ...; "none". */
const char *preamble_name(enum preamble_kind k);

enum preamble_result {
	PREAMBLE_NO = 0,   /* not a preamble tamperscope knows: the stream is not TLS */
	PREAMBLE_MORE,     /* could be one: wait for more bytes of either direction */
	PREAMBLE_FOUND,    /* TLS begins at tls_off[] */
};

struct preamble {
	enum preamble_kind kind;
	uint32_t tls_off[2];   /* [0] client, [1] server: stream offset of the first TLS byte */
	char target[256];      /* CONNECT / SOCKS destination ("host:port"), "" if none */
};

/* cli / srv: the first bytes of each direction (srv may be empty).  On
 * PREAMBLE_FOUND, *out says where TLS begins; the client's offset is
 * where its first byte after the preamble is, which the caller still
 * checks for a TLS record. */
enum preamble_result preamble_find(const uint8_t *cli, size_t clen, const uint8_t *srv,
				   size_t slen, struct preamble *out);

#endif
