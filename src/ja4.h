/* ja4.h - FoxIO's JA4 TLS client fingerprint of a ClientHello
 * (technical_details/JA4.md of FoxIO-LLC/ja4, the BSD-licensed JA4 part of
 * JA4+): "t13d1516h2_8daaf6152771_e5627efa2ab1" - transport, highest
 * version, SNI or not, cipher and extension counts, the first ALPN's ends;
 * then SHA-256 prefixes of the sorted ciphers and of the sorted extensions
 * (without SNI and ALPN) followed by the signature algorithms in order.
 * GREASE (RFC 8701) is left out everywhere.
 */
#ifndef TS_JA4_H
#define TS_JA4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "cursor.h"

#define JA4_LEN 36

/* RFC 8701 GREASE: 0x0a0a, 0x1a1a, ... 0xfafa, values a client sends to keep
 * peers tolerant; every fingerprint here (JA3, JA3S, JA4) leaves them out. */
static inline bool tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* md: a digest context the caller owns, reused for both hashes (the
 * ClientHello parser shares one with JA3), or NULL for one made here.
 * prefix: 't' TLS over TCP, 'q' QUIC.  ciphers: the cipher_suites vector's
 * bytes; exts: the extensions block's bytes (its framing already checked:
 * an extension running past it ends the list, as in the hello parser).
 * out gets JA4_LEN characters, or "" when libcrypto fails. */
void ja4_client(EVP_MD_CTX *md, char prefix, uint16_t legacy_version, struct cursor ciphers,
		struct cursor exts, char out[JA4_LEN + 1]);

/* Sort n values ascending, as the fingerprint's lists are: by insertion
 * up to a few dozen, qsort beyond. */
void ja4_sort_u16(uint16_t *v, size_t n);

#endif
