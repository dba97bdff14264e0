/* fpmemo.h - a per-thread memo of TLS fingerprints, keyed by every byte
 * they are computed from.
 *
 * JA3, JA3S and JA4 are digests (MD5, SHA-256 through libcrypto) of
 * strings built from a hello's lists: about a microsecond a ClientHello,
 * a tenth of a short TLS flow's whole cost.  Clients of one make send the
 * same lists again and again, so the strings are kept by their inputs: the
 * key holds every byte the fingerprints read, GREASE values (RFC 8701,
 * which all three leave out) written as one value, so a hit returns
 * exactly what computing would have.  A key longer than FPMEMO_KEY_MAX is
 * not kept (the caller computes).  Each thread has its own table (no
 * locks, nothing to free); a collision only costs a computation.
 *
 *   fpmemo_key_init   start a key; tag tells one fingerprint kind from another
 *   fpmemo_key_add    append bytes (the key is then over-long: not kept)
 *   fpmemo_key_u16    append a 16-bit value, big-endian
 *   fpmemo_key_list16 append 16-bit values read from c, GREASE as 0x0a0a,
 *                     and a last odd byte as it is
 *   fpmemo_get        the two strings kept for key (false: none)
 *   fpmemo_put        keep them (each at most FPMEMO_VAL_MAX - 1 characters)
 *   fpmemo_clear      forget this thread's table (tests: a cold computation)
 *   fpmemo_hits       answers this thread's table has given
 */
#ifndef TS_FPMEMO_H
#define TS_FPMEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

#define FPMEMO_KEY_MAX 320
#define FPMEMO_VAL_MAX 40

struct fpmemo_key {
	size_t n;
	bool over;
	uint8_t b[FPMEMO_KEY_MAX];
};

void fpmemo_key_init(struct fpmemo_key *k, uint8_t tag);
void fpmemo_key_add(struct fpmemo_key *k, const void *p, size_t n);
void fpmemo_key_u16(struct fpmemo_key *k, uint16_t v);
void fpmemo_key_list16(struct fpmemo_key *k, struct cursor c);
bool fpmemo_get(const struct fpmemo_key *k, char *a, size_t alen, char *b, size_t blen);
void fpmemo_put(const struct fpmemo_key *k, const char *a, const char *b);
void fpmemo_clear(void);
uint64_t fpmemo_hits(void);

#endif
