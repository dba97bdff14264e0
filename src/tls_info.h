/* tls_info.h - what the TLS hellos and Certificate of one connection said.
 *
 * Filled by the hello parsers (tls_hello.c) for both directions, read by
 * the flow logic and the recorder.  Kept apart from the record-layer
 * parser (tls.h) so that the hello parsers depend on nothing above them.
 */
#ifndef TS_TLS_INFO_H
#define TS_TLS_INFO_H

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
	uint16_t sni_len;
	uint16_t alpn_bytes;      /* the sum of alpn_len[] */
	/* One exact-size heap block (NULL until a ClientHello is kept) holds
	 * the SNI, NUL-terminated (raw bytes: may hold non-printable bytes,
	 * escaped on output; "" when sni_present is 0), then the ALPN names
	 * back to back: a tracked flow keeps what its hello named, not the
	 * 384 bytes the longest names would need. */
	char *sni;
	char *alpn_buf;           /* inside sni's block */
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
	struct tls_cert *certs;   /* TLS_MAX_CERTS slots, allocated with the first */

	/* What came before TLS on the same connection (tcphs.c): enum
	 * preamble_kind, 0 none; and the destination a proxy was asked for */
	uint8_t preamble;
	char *proxy_target;       /* heap, NUL-terminated; NULL when none */

	/* Alerts in clear, first one per direction: [0] client, [1] server */
	uint8_t alert_seen[2];
	uint8_t alert_level[2];
	uint8_t alert_desc[2];
};

/* How many ALPN names info kept. */
static inline unsigned tls_alpn_count(const struct tls_info *info)
{
	return info->n_alpn < TLS_MAX_ALPN ? info->n_alpn : TLS_MAX_ALPN;
}

#define TLS_MAX_PROXY_TARGET 95 /* bytes of a proxy destination kept */

/* Free what info holds on the heap: the certificate copies, the names
 * block and the proxy target (info itself stays, emptied of them). */
void tls_info_release(struct tls_info *info);

#endif
