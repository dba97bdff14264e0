/* fuzz_dns.c - libFuzzer harness for the DNS message parser (src/dns.c:
 * RFC 1035 section 4 with compression, RFC 6891 EDNS0).  Every prefix of a
 * few cut points is parsed too (a message cut by the capture); the
 * parser's promises are checked with a trap. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static void parse(const uint8_t *b, size_t n)
{
	struct dns_msg m;
	enum dns_result r = dns_parse(b, n, &m);
	check(r == DNS_OK || r == DNS_TRUNCATED || r == DNS_MALFORMED);
	check(memchr(m.qname, '\0', sizeof(m.qname)) != NULL);
	check(memchr(m.cname, '\0', sizeof(m.cname)) != NULL);
	check(m.n_addrs <= DNS_MAX_ADDRS);
	check(m.qname_len <= DNS_NAME_TEXT_MAX + 1);
	check(r != DNS_MALFORMED || (m.bad > DNSB_NONE && m.bad < DNSB__COUNT));
	check(m.answers <= DNS_MAX_RRS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse(data, size);
	parse(data, size / 2);
	if (size > 12)
		parse(data, 12 + (size - 12) / 3);
	return 0;
}
