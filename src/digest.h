/* digest.h - the message digests the analysis uses, fetched once.
 *
 * OpenSSL 3 looks the implementation up again on every EVP_DigestInit_ex
 * given EVP_sha256() and the like (an implicit fetch: a property query and
 * a lock, more work than hashing a JA3 string).  These are fetched once per
 * process, thread-safely, and never freed; NULL only if libcrypto lacks the
 * algorithm.
 */
#ifndef TS_DIGEST_H
#define TS_DIGEST_H

#include <openssl/evp.h>

const EVP_MD *digest_md5(void);
const EVP_MD *digest_sha1(void);
const EVP_MD *digest_sha256(void);

#endif
