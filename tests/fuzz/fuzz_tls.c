/* fuzz_tls.c - libFuzzer harness for the incremental TLS handshake parser
 * (src/tls.c).  The first input byte seeds the chunk sizes; the rest is a
 * TCP stream fed, chunk by chunk, to a client-direction and a
 * server-direction parser sharing one tls_info (as the engine does), with
 * a small message cap.  The raw input is also given to the hello parsers
 * directly, twice: with the fingerprint memo as earlier inputs left it and
 * emptied, which must give the same fingerprints (a memo key that left out
 * something JA3, JA3S or JA4 reads would answer for a near neighbour).
 * Invariants that the parser promises are checked with a trap.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fpmemo.h"
#include "tls.h"
#include "tls_hello.h"

#define FUZZ_MAX_MSG 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_info(const struct tls_info *ti)
{
	check(ti->sni_len <= TLS_MAX_SNI);
	check(ti->n_alpn <= TLS_MAX_ALPN);
	check(ti->n_versions <= TLS_MAX_VERSIONS);
	check(ti->n_certs <= TLS_MAX_CERTS);
	check(ti->ja3[32] == '\0' && ti->ja3s[32] == '\0');
	for (unsigned i = 0; i < ti->n_certs; i++)
		check(ti->certs[i].der != NULL && ti->certs[i].len > 0 &&
		      ti->certs[i].len <= FUZZ_MAX_MSG);
}

/* Chunk sizes from a tiny LCG: 0 feeds everything at once, otherwise
 * chunks of 1..seed bytes. */
static void feed_chunks(struct tls_parser *p, struct tls_info *ti,
			const uint8_t *d, size_t n, uint8_t seed)
{
	uint32_t rng = seed;
	size_t off = 0;

	if (seed == 0) {
		tls_feed(p, ti, d, n);
		return;
	}
	while (off < n) {
		size_t k;

		rng = rng * 1103515245u + 12345u;
		k = 1 + (rng >> 16) % seed;
		if (k > n - off)
			k = n - off;
		tls_feed(p, ti, d + off, k);
		off += k;
		check(p->msg_cap <= p->max_msg + 4);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_parser cli, srv;
	struct tls_info ti, direct;
	uint8_t seed;

	if (size < 1)
		return 0;
	seed = data[0];
	data++;
	size--;

	memset(&ti, 0, sizeof(ti));
	tls_parser_init(&cli, false, FUZZ_MAX_MSG);
	tls_parser_init(&srv, true, FUZZ_MAX_MSG);
	feed_chunks(&cli, &ti, data, size, seed);
	feed_chunks(&srv, &ti, data, size, (uint8_t)(seed * 31u));
	check(cli.state <= TLS_ST_STOPPED && srv.state <= TLS_ST_STOPPED);
	check(cli.error < TLS_ERR__COUNT && srv.error < TLS_ERR__COUNT);
	check_info(&ti);
	tls_parser_release(&cli);
	tls_parser_release(&srv);
	tls_info_release(&ti);

	memset(&direct, 0, sizeof(direct));
	bool ch = tls_parse_client_hello(data, size, &direct);
	bool sh = tls_parse_server_hello(data, size, &direct);
	(void)tls_looks_like_tls(data, size);
	check_info(&direct);
	struct tls_info cold;
	memset(&cold, 0, sizeof(cold));
	fpmemo_clear();
	check(tls_parse_client_hello(data, size, &cold) == ch);
	check(tls_parse_server_hello(data, size, &cold) == sh);
	check(strcmp(cold.ja3, direct.ja3) == 0 && strcmp(cold.ja4, direct.ja4) == 0 &&
	      strcmp(cold.ja3s, direct.ja3s) == 0);
	tls_info_release(&cold);
	tls_info_release(&direct);
	return 0;
}
