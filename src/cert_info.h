/* cert_info.h - what tamperscope keeps of one X.509 certificate (RFC 5280 section 4.1 fields, 4.2.1.6 DNS names,
 * RFC 7469 section 2.4 SPKI fingerprint): the record the certificate parser fills and the interception-CA
 * matcher and the outputs read, without the rest of the certificate stage.
 */
#ifndef TS_CERT_INFO_H
#define TS_CERT_INFO_H

#include <stdint.h>

#define CERT_NAME_LEN 256            /* one-line subject/issuer kept; longer ones are cut (counted) */
#define CERT_MAX_SAN 16              /* DNS names kept per certificate (all are counted) */
#define CERT_SAN_BUF 512             /* bytes for them */
#define CERT_SERIAL_BYTES 32         /* RFC 5280 allows 20 octets; longer serials are cut (counted) */

/* What one chain certificate says.  Strings are NUL-terminated and may hold any bytes but NUL (names are
 * UTF-8 from the certificate, not validated: the JSON writer escapes). */
struct cert_info {
	uint8_t parsed;             /* d2i_X509 accepted the DER, with no trailing bytes */
	uint8_t version;            /* 1..3 */
	uint8_t times_ok;           /* not_before/not_after could be converted */
	uint8_t is_ca;              /* basicConstraints CA:TRUE (or a v1 self-signed root) */
	uint8_t has_san, has_key_usage, has_aki;
	uint8_t name_cut;           /* subject or issuer longer than CERT_NAME_LEN - 1 */
	uint8_t serial_cut;
	uint8_t n_san;              /* DNS names kept in san_buf */
	uint16_t san_total;         /* DNS names in the extension */
	uint16_t san_off[CERT_MAX_SAN], san_len[CERT_MAX_SAN];
	int32_t key_bits;           /* 0 when the key could not be decoded */
	uint64_t rsa_exponent;      /* 0 when not RSA or wider than 64 bits */
	int64_t not_before, not_after; /* seconds since the epoch, UTC */
	uint32_t der_len;
	char key_type[12];          /* "RSA", "EC", "ED25519", "DSA", "RSA-PSS", ... or "unknown" */
	char serial[2 * CERT_SERIAL_BYTES + 2]; /* lowercase hex, "-" prefix when negative */
	char sha1[41], sha256[65];  /* of the DER as sent, also for entries that do not parse */
	char spki_sha256[65];       /* of the DER SubjectPublicKeyInfo; "" when not parsed */
	char subject[CERT_NAME_LEN], issuer[CERT_NAME_LEN]; /* RFC 2253 order, UTF-8 */
	char san_buf[CERT_SAN_BUF];
};

#endif
