/* fuzz_http.c - libFuzzer harness for the HTTP/1.x head parser
 * (src/http.c: RFC 9112 request and status lines, fields) and the
 * blockpage patterns' header lookup.  The first two input bytes say where
 * the request ends and the response begins; each side is fed in growing
 * prefixes, as the handshake region feeds it while bytes arrive. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void invariants(const struct http_info *h)
{
	check(memchr(h->method, '\0', sizeof(h->method)) != NULL);
	check(memchr(h->host, '\0', sizeof(h->host)) != NULL);
	check(memchr(h->target, '\0', sizeof(h->target)) != NULL);
	check(memchr(h->location, '\0', sizeof(h->location)) != NULL);
	check(memchr(h->server, '\0', sizeof(h->server)) != NULL);
	check(h->head_len <= HTTP_HEAD_MAX && h->body_len <= HTTP_BODY_KEEP);
	check(h->req_state <= HTTP_TOO_LONG && h->resp_state <= HTTP_TOO_LONG);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = ((size_t)data[0] << 8 | data[1]) % (size - 1);
	const uint8_t *c = data + 2, *s = data + 2 + split;
	size_t cl = split, sl = size - 2 - split;
	struct http_info h;
	memset(&h, 0, sizeof(h));
	h.content_length = -1;
	(void)http_request_start(c, cl);
	for (size_t step = cl / 3 + 1, n = step; ; n += step) {
		http_parse_request(&h, c, n < cl ? n : cl, n >= cl);
		if (n >= cl)
			break;
	}
	for (size_t step = sl / 3 + 1, n = step; ; n += step) {
		http_parse_response(&h, s, n < sl ? n : sl, n >= sl);
		if (n >= sl)
			break;
	}
	invariants(&h);
	char buf[64];
	const char *v = http_header(&h, "location", buf, sizeof(buf));
	check(!v || memchr(buf, '\0', sizeof(buf)) != NULL);
	(void)http_header(&h, "x-a", buf, 1);
	return 0;
}
