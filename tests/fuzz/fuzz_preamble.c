/* fuzz_preamble.c - libFuzzer harness for the preamble finder
 * (src/preamble.c: STARTTLS, CONNECT, SOCKS, PROXY, PostgreSQL).  The
 * first two input bytes say where the client's bytes end and the server's
 * begin; every prefix pair of a few cut points is asked too, as the engine
 * asks while bytes arrive.  Invariants the finder promises are checked
 * with a trap. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "preamble.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void ask(const uint8_t *c, size_t cl, const uint8_t *s, size_t sl)
{
	struct preamble p;
	enum preamble_result r = preamble_find(c, cl, s, sl, &p);
	check(r == PREAMBLE_NO || r == PREAMBLE_MORE || r == PREAMBLE_FOUND);
	check(memchr(p.target, '\0', sizeof(p.target)) != NULL);
	if (r != PREAMBLE_FOUND)
		return;
	check(p.kind > PRE_NONE && p.kind < PRE__COUNT);
	check(p.tls_off[0] <= cl && p.tls_off[0] <= PREAMBLE_MAX);
	check(p.tls_off[1] <= sl && p.tls_off[1] <= PREAMBLE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	const uint8_t *c = data + 2, *s = data + 2 + split;
	size_t cl = split, sl = size - 2 - split;
	ask(c, cl, s, sl);
	ask(c, cl / 2, s, sl);
	ask(c, cl, s, sl / 2);
	ask(NULL, 0, s, sl);
	return 0;
}
