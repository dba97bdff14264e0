/* quic_keys.h - QUIC Initial packet protection: which versions can be
 * opened, their Initial secrets (RFC 9001 section 5.2, RFC 9369 section
 * 3.3), the packet protection keys (RFC 9001 section 5.1), header
 * protection (section 5.4) and the AEAD (section 5.3, AES-128-GCM).
 *
 * Initial packets are protected with keys anyone can derive from the
 * client's Destination Connection ID and a per-version salt: that is what
 * lets an observer (and a censor) read the ClientHello.  Handshake and
 * 1-RTT packets use keys from the TLS exchange and stay opaque here.
 *
 * All of libcrypto is fetched once (struct quic_crypto, owned by the QUIC
 * stage): per packet there is one AES-ECB block for the header mask and one
 * AES-GCM open, per connection one HKDF-Extract and four HKDF-Expands per
 * side that sent an Initial (HKDF on HMAC-SHA-256, see quic_keys.c).
 */
#ifndef TS_QUIC_KEYS_H
#define TS_QUIC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUIC_V1 0x00000001u
#define QUIC_V2 0x6b3343cfu

/* Long header packet types in RFC 9000's numbering; a version's own
 * encoding of the two type bits is mapped onto these (RFC 9369 section 3.2
 * swaps them around for v2). */
enum quic_ptype { QPT_INITIAL = 0, QPT_0RTT, QPT_HANDSHAKE, QPT_RETRY };

struct quic_version {
	uint32_t version;
	const char *name;             /* "v1", "v2", "draft-29", "T051" */
	const uint8_t *salt;          /* 20 bytes, the Initial salt */
	const char *label_key, *label_iv, *label_hp; /* HKDF labels without "tls13 " */
	bool v2_types;                /* long header types as in RFC 9369 section 3.2 */
	bool gquic_frames;            /* Google's frame encoding inside (T050, T051) */
};

/* The version's protection, or NULL when tamperscope cannot open it
 * (unknown, reserved, grease, or Google's Q0xx with its own crypto). */
const struct quic_version *quic_version_find(uint32_t v);
/* "v1", "v2", "draft-29", "T051", else "0x%08x" into buf (>= 11 bytes). */
const char *quic_version_name(uint32_t v, char *buf, size_t len);
/* RFC 9000's packet type of a long header's first byte in version vi. */
enum quic_ptype quic_ptype_of(const struct quic_version *vi, uint8_t first_byte);

#define QUIC_KEY_LEN 16
#define QUIC_IV_LEN 12
#define QUIC_TAG_LEN 16
#define QUIC_SAMPLE_LEN 16
#define QUIC_MAX_CID 20               /* RFC 9000 section 17.2, v1 and v2 */

struct quic_keys {
	uint8_t key[QUIC_KEY_LEN];
	uint8_t iv[QUIC_IV_LEN];
	uint8_t hp[QUIC_KEY_LEN];
};

struct quic_crypto;

/* NULL when libcrypto lacks HKDF, AES-128-ECB or AES-128-GCM. */
struct quic_crypto *quic_crypto_new(void);
void quic_crypto_free(struct quic_crypto *qc);

/* Both directions' Initial keys from the Destination Connection ID of the
 * client's first Initial (RFC 9001 section 5.2).  False on a libcrypto
 * failure. */
bool quic_initial_keys(struct quic_crypto *qc, const struct quic_version *vi,
		       const uint8_t *dcid, size_t dcid_len,
		       struct quic_keys *client, struct quic_keys *server);

/* The same in two steps, so a side's keys are made only when a packet of
 * that side comes (a stalled client's server never answers): the initial
 * secret (HKDF-Extract), then one side's keys (0 client, 1 server). */
bool quic_initial_secret(struct quic_crypto *qc, const struct quic_version *vi,
			 const uint8_t *dcid, size_t dcid_len, uint8_t secret[32]);
bool quic_side_keys(struct quic_crypto *qc, const struct quic_version *vi,
		    const uint8_t secret[32], int side, struct quic_keys *k);

/* The first 5 bytes of AES-ECB(hp, sample): the header protection mask
 * (RFC 9001 section 5.4.3). */
bool quic_hp_mask(struct quic_crypto *qc, const uint8_t hp[QUIC_KEY_LEN],
		  const uint8_t sample[QUIC_SAMPLE_LEN], uint8_t mask[5]);

/* Open a payload protected with AES-128-GCM (RFC 9001 section 5.3): the
 * nonce is iv XOR the packet number, the header is the associated data.
 * ct_len includes the 16-byte tag; out receives ct_len - 16 bytes.  False
 * when the tag does not verify (or ct_len < 16). */
bool quic_aead_open(struct quic_crypto *qc, const struct quic_keys *k, uint64_t pn,
		    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		    uint8_t *out);

#endif
