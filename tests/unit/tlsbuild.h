/* tlsbuild.h - test helper: builds realistic TLS handshake bytes
 * (ClientHello, ServerHello, Certificate, ServerHelloDone, alerts, CCS,
 * application data, SSLv2 CLIENT-HELLO) as handshake messages and wrapped
 * in records (RFC 8446 sections 4 and 5.1, RFC 5246 section 7.4,
 * RFC 6101 appendix E.2).
 *
 * Every function writes into buf (at most cap bytes) and returns the number
 * of bytes written, or 0 if cap was too small.  Zeroed option structs give
 * a Chrome-like TLS 1.2/1.3 hello; fields override one thing each.
 */
#ifndef TS_TLSBUILD_H
#define TS_TLSBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_CT_CCS 20
#define TB_CT_ALERT 21
#define TB_CT_HANDSHAKE 22
#define TB_CT_APPDATA 23
#define TB_CT_HEARTBEAT 24

#define TB_HS_CLIENT_HELLO 1
#define TB_HS_SERVER_HELLO 2
#define TB_HS_CERTIFICATE 11
#define TB_HS_SERVER_HELLO_DONE 14

struct tb_ch_opts {
	uint16_t record_version;     /* 0: 0x0301, as browsers send */
	uint16_t legacy_version;     /* 0: 0x0303 */
	const uint16_t *ciphers;     /* NULL: a Chrome-like list of 15 */
	size_t n_ciphers;
	uint8_t session_id_len;      /* 0..32 bytes of session id */
	const char *sni;             /* NULL: no server_name extension */
	size_t sni_len;              /* 0: strlen(sni); else raw length */
	const char *const *alpn;     /* NULL: no ALPN extension */
	size_t n_alpn;
	const uint16_t *versions;    /* supported_versions; NULL: none */
	size_t n_versions;
	const uint16_t *groups;      /* NULL: 29,23,24 (unless minimal) */
	size_t n_groups;
	const uint8_t *point_formats;/* NULL: {0} (unless minimal) */
	size_t n_point_formats;
	bool ech;                    /* encrypted_client_hello (0xfe0d) */
	bool esni;                   /* encrypted_server_name (0xffce) */
	bool grease;                 /* GREASE cipher, group, version, and two
					GREASE extensions (first, last) */
	bool minimal;                /* only the extensions asked for above */
	bool no_extensions;          /* no extensions block at all */
	size_t padding;              /* padding extension (21) of this size */
	const uint16_t *ext_order;   /* exact extension types in order (bodies
					generated; the flags above are then
					ignored except for the list values) */
	size_t n_ext_order;
	unsigned n_records;          /* records to split the hello over (0: 1) */
};

struct tb_sh_opts {
	uint16_t record_version;     /* 0: 0x0303 */
	uint16_t legacy_version;     /* 0: 0x0303 */
	uint16_t cipher;             /* 0: 0x1301 with TLS 1.3, else 0xc02f */
	uint16_t selected_version;   /* supported_versions; 0: none */
	bool hello_retry;            /* HelloRetryRequest random */
	const char *alpn;            /* selected protocol; NULL: none */
	bool no_extensions;          /* no extensions block at all */
	uint8_t session_id_len;      /* 0..32 */
};

/* ClientHello handshake message (4-byte header + body). */
size_t tb_client_hello(uint8_t *buf, size_t cap, const struct tb_ch_opts *o);
/* The same wrapped in o->n_records handshake records. */
size_t tb_client_hello_record(uint8_t *buf, size_t cap,
			      const struct tb_ch_opts *o);

/* ServerHello handshake message.  Extensions are written in the order
 * supported_versions (43), key_share (51, with TLS 1.3), ALPN (16),
 * renegotiation_info (65281, without TLS 1.3). */
size_t tb_server_hello(uint8_t *buf, size_t cap, const struct tb_sh_opts *o);

/* Certificate handshake message (TLS 1.2 form) carrying n DER blobs. */
size_t tb_certificate(uint8_t *buf, size_t cap, const uint8_t *const *der,
		      const size_t *der_len, size_t n);
/* A DER-looking blob (SEQUENCE header + patterned bytes) of len >= 4. */
size_t tb_fake_cert(uint8_t *buf, size_t cap, size_t len, uint8_t seed);

size_t tb_server_hello_done(uint8_t *buf, size_t cap);
/* Any handshake message: type, uint24 length, body. */
size_t tb_handshake(uint8_t *buf, size_t cap, uint8_t type,
		    const uint8_t *body, size_t len);

/* Wrap payload in records of content type `type`: split as evenly as
 * possible over n_records (0: 1), more if a piece would exceed 2^14. */
size_t tb_records(uint8_t *buf, size_t cap, uint8_t type, uint16_t version,
		  const uint8_t *payload, size_t len, unsigned n_records);

size_t tb_alert_record(uint8_t *buf, size_t cap, uint16_t version,
		       uint8_t level, uint8_t desc);
size_t tb_ccs_record(uint8_t *buf, size_t cap, uint16_t version);
/* Application data record with len patterned (fake ciphertext) bytes. */
size_t tb_appdata_record(uint8_t *buf, size_t cap, uint16_t version,
			 size_t len);

/* SSLv2-format CLIENT-HELLO (2-byte header) with n_specs cipher specs,
 * no session id and a 16-byte challenge. */
size_t tb_sslv2_client_hello(uint8_t *buf, size_t cap, uint16_t version,
			     size_t n_specs);

#endif
