/* quic_keys.c - QUIC Initial protection with libcrypto: per-version salts and labels (RFC 9001 sections 5.1-5.4, RFC 9369 section 3.3, drafts 27-34, Google T050/T051), HKDF, header mask, AES-128-GCM. */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "quic_keys.h"

/* ---- versions ----------------------------------------------------------- */

/* RFC 9001 section 5.2; drafts 33 and 34 already used it. */
static const uint8_t salt_v1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
/* RFC 9369 section 3.3.1. */
static const uint8_t salt_v2[20] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};
/* draft-ietf-quic-tls-29 section 5.2, kept by drafts 30 to 32. */
static const uint8_t salt_d29[20] = {
	0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
};
/* draft-ietf-quic-tls-23 section 5.2, kept by drafts 24 to 28. */
static const uint8_t salt_d23[20] = {
	0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
	0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02,
};
/* Google's TLS-based T050 and T051 (the salts Chromium's quic_versions.cc
 * and Wireshark's QUIC dissector use): IETF packet protection with their
 * own salt, still common in older Chrome captures. */
static const uint8_t salt_t50[20] = {
	0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
	0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10,
};
static const uint8_t salt_t51[20] = {
	0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
	0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d,
};

#define V1_LABELS "quic key", "quic iv", "quic hp"
#define DRAFT(n, salt) { 0xff000000u | (n), "draft-" #n, salt, V1_LABELS, false, false }

static const struct quic_version versions[] = {
	{ QUIC_V1, "v1", salt_v1, V1_LABELS, false, false },
	{ QUIC_V2, "v2", salt_v2, "quicv2 key", "quicv2 iv", "quicv2 hp", true, false },
	DRAFT(27, salt_d23), DRAFT(28, salt_d23),
	DRAFT(29, salt_d29), DRAFT(30, salt_d29), DRAFT(31, salt_d29), DRAFT(32, salt_d29),
	DRAFT(33, salt_v1), DRAFT(34, salt_v1),
	{ 0x54303530u, "T050", salt_t50, V1_LABELS, false, true },
	{ 0x54303531u, "T051", salt_t51, V1_LABELS, false, true },
};

const struct quic_version *quic_version_find(uint32_t v)
{
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i].version == v)
			return &versions[i];
	return NULL;
}

const char *quic_version_name(uint32_t v, char *buf, size_t len)
{
	const struct quic_version *vi = quic_version_find(v);
	if (vi)
		snprintf(buf, len, "%s", vi->name);
	else
		snprintf(buf, len, "0x%08x", v);
	return buf;
}

enum quic_ptype quic_ptype_of(const struct quic_version *vi, uint8_t first_byte)
{
	unsigned bits = (first_byte >> 4) & 3;
	/* RFC 9369 section 3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11,
	 * Retry 0b00 - each v1 type shifted by one. */
	if (vi && vi->v2_types)
		bits = (bits + 3) & 3;
	return (enum quic_ptype)bits;
}

/* ---- libcrypto ------------------------------------------------------------ */

struct quic_crypto {
	EVP_MD *sha256;
	EVP_MD_CTX *inner, *outer;     /* HMAC's two hashes, reused */
	EVP_CIPHER *ecb, *gcm;
	EVP_CIPHER_CTX *cctx;
};

struct quic_crypto *quic_crypto_new(void)
{
	struct quic_crypto *qc = OPENSSL_zalloc(sizeof(*qc));
	if (!qc)
		return NULL;
	qc->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	qc->inner = EVP_MD_CTX_new();
	qc->outer = EVP_MD_CTX_new();
	qc->ecb = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
	qc->gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
	qc->cctx = EVP_CIPHER_CTX_new();
	if (!qc->sha256 || !qc->inner || !qc->outer || !qc->ecb || !qc->gcm || !qc->cctx) {
		quic_crypto_free(qc);
		return NULL;
	}
	return qc;
}

void quic_crypto_free(struct quic_crypto *qc)
{
	if (!qc)
		return;
	EVP_MD_CTX_free(qc->inner);
	EVP_MD_CTX_free(qc->outer);
	EVP_MD_free(qc->sha256);
	EVP_CIPHER_free(qc->ecb);
	EVP_CIPHER_free(qc->gcm);
	EVP_CIPHER_CTX_free(qc->cctx);
	OPENSSL_free(qc);
}

/* HMAC-SHA-256(key, a || b) (RFC 2104) on libcrypto's SHA-256, the digest
 * fetched once: keys here are at most 32 bytes, under the 64-byte block. */
static bool hmac(struct quic_crypto *qc, const uint8_t *key, size_t key_len, const uint8_t *a,
		 size_t al, const uint8_t *b, size_t bl, uint8_t out[32])
{
	uint8_t ipad[64], opad[64], h[32];
	unsigned n = 0, m = 0;
	if (key_len > sizeof(ipad))
		return false;
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (size_t i = 0; i < key_len; i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	return EVP_DigestInit_ex2(qc->inner, qc->sha256, NULL) == 1 &&
	       EVP_DigestUpdate(qc->inner, ipad, sizeof(ipad)) == 1 &&
	       EVP_DigestUpdate(qc->inner, a, al) == 1 &&
	       (bl == 0 || EVP_DigestUpdate(qc->inner, b, bl) == 1) &&
	       EVP_DigestFinal_ex(qc->inner, h, &n) == 1 && n == 32 &&
	       EVP_DigestInit_ex2(qc->outer, qc->sha256, NULL) == 1 &&
	       EVP_DigestUpdate(qc->outer, opad, sizeof(opad)) == 1 &&
	       EVP_DigestUpdate(qc->outer, h, sizeof(h)) == 1 &&
	       EVP_DigestFinal_ex(qc->outer, out, &m) == 1 && m == 32;
}

/* RFC 5869 HKDF with SHA-256 on that HMAC: every output here is at most one
 * hash long, so Expand is a single HMAC(PRK, info || 0x01).  (libcrypto's
 * EVP_KDF "HKDF" gives the same bytes - the unit test holds these to RFC
 * 9001's and RFC 9369's vectors - but spends about 17 000 instructions a
 * call on its parameters, and EVP_MAC's HMAC 6 000 on its set-up: either
 * alone cost more per connection than everything else its Initials need.) */
static bool hkdf_extract(struct quic_crypto *qc, const uint8_t *salt, size_t sl,
			 const uint8_t *ikm, size_t il, uint8_t prk[32])
{
	return hmac(qc, salt, sl, ikm, il, NULL, 0, prk);
}

static bool hkdf_expand(struct quic_crypto *qc, const uint8_t prk[32], const uint8_t *info,
			size_t il, uint8_t *out, size_t out_len)
{
	static const uint8_t one = 1;
	uint8_t t[32];
	if (out_len > sizeof(t) || !hmac(qc, prk, 32, info, il, &one, 1, t))
		return false;
	memcpy(out, t, out_len);
	return true;
}

/* TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 section
 * 7.1): info = length, "tls13 " + label, empty context. */
static bool expand_label(struct quic_crypto *qc, const uint8_t secret[32], const char *label,
			 uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1];
	size_t ll = strlen(label), n = 0;
	if (ll > 32)
		return false;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;
	return hkdf_expand(qc, secret, info, n, out, out_len);
}

static bool keys_from(struct quic_crypto *qc, const struct quic_version *vi,
		      const uint8_t initial[32], const char *side, struct quic_keys *k)
{
	uint8_t secret[32];
	return expand_label(qc, initial, side, secret, sizeof(secret)) &&
	       expand_label(qc, secret, vi->label_key, k->key, sizeof(k->key)) &&
	       expand_label(qc, secret, vi->label_iv, k->iv, sizeof(k->iv)) &&
	       expand_label(qc, secret, vi->label_hp, k->hp, sizeof(k->hp));
}

bool quic_initial_secret(struct quic_crypto *qc, const struct quic_version *vi,
			 const uint8_t *dcid, size_t dcid_len, uint8_t secret[32])
{
	static const uint8_t none[1];
	/* A zero-length connection ID is legal; libcrypto wants a pointer. */
	return hkdf_extract(qc, vi->salt, 20, dcid_len ? dcid : none, dcid_len, secret);
}

bool quic_side_keys(struct quic_crypto *qc, const struct quic_version *vi,
		    const uint8_t secret[32], int side, struct quic_keys *k)
{
	return keys_from(qc, vi, secret, side == 0 ? "client in" : "server in", k);
}

bool quic_initial_keys(struct quic_crypto *qc, const struct quic_version *vi,
		       const uint8_t *dcid, size_t dcid_len,
		       struct quic_keys *client, struct quic_keys *server)
{
	uint8_t initial[32];
	return quic_initial_secret(qc, vi, dcid, dcid_len, initial) &&
	       quic_side_keys(qc, vi, initial, 0, client) && quic_side_keys(qc, vi, initial, 1, server);
}

bool quic_hp_mask(struct quic_crypto *qc, const uint8_t hp[QUIC_KEY_LEN],
		  const uint8_t sample[QUIC_SAMPLE_LEN], uint8_t mask[5])
{
	uint8_t block[QUIC_SAMPLE_LEN + 16];
	int n = 0;
	if (EVP_EncryptInit_ex2(qc->cctx, qc->ecb, hp, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(qc->cctx, 0) != 1 ||
	    EVP_EncryptUpdate(qc->cctx, block, &n, sample, QUIC_SAMPLE_LEN) != 1 || n != 16)
		return false;
	memcpy(mask, block, 5);
	return true;
}

bool quic_aead_open(struct quic_crypto *qc, const struct quic_keys *k, uint64_t pn,
		    const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		    uint8_t *out)
{
	uint8_t nonce[QUIC_IV_LEN];
	int n = 0, fin = 0;
	if (ct_len < QUIC_TAG_LEN || ct_len - QUIC_TAG_LEN > (size_t)INT32_MAX || aad_len > INT32_MAX)
		return false;
	size_t len = ct_len - QUIC_TAG_LEN;
	memcpy(nonce, k->iv, sizeof(nonce));
	for (int i = 0; i < 8; i++)
		nonce[QUIC_IV_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
	if (EVP_DecryptInit_ex2(qc->cctx, qc->gcm, k->key, nonce, NULL) != 1 ||
	    EVP_DecryptUpdate(qc->cctx, NULL, &n, aad, (int)aad_len) != 1 ||
	    EVP_DecryptUpdate(qc->cctx, out, &n, ct, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(qc->cctx, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN,
				(void *)(ct + len)) != 1)
		return false;
	return EVP_DecryptFinal_ex(qc->cctx, out + n, &fin) == 1;
}
