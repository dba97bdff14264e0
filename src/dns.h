/* dns.h - DNS message parsing (RFC 1035 section 4: header, question,
 * resource records, name compression; RFC 3596 AAAA; RFC 6891 EDNS0 OPT;
 * RFC 1035 section 4.2.2 and RFC 7766 section 8 TCP length prefix).
 *
 * One message at a time, from a UDP payload or one length-prefixed TCP
 * message, through the bounds-checked cursor.  A name is followed through
 * at most DNS_MAX_POINTERS compression pointers, each of which must point
 * before itself (so a loop cannot be built), and may not exceed 255 bytes
 * on the wire; records are walked up to DNS_MAX_RRS.  The parser keeps
 * what a verdict needs (the question, the rcode, the addresses and first
 * CNAME target of the answer section, the smallest answer TTL, EDNS0) and
 * says why it stopped: truncated (the bytes ran out) and malformed (the
 * bytes contradict themselves) are different results.
 */
#ifndef TS_DNS_H
#define TS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define DNS_PORT 53
#define DNS_HEADER_LEN 12
#define DNS_NAME_WIRE_MAX 255    /* RFC 1035 section 2.3.4 */
#define DNS_NAME_TEXT_MAX 254    /* its text form without the root dot */
#define DNS_LABEL_MAX 63
/* Compression pointers followed in one name: real names need one or two;
 * the bound keeps a hostile name's cost constant. */
#define DNS_MAX_POINTERS 16
/* Records walked in one message (all sections): beyond it the rest is not
 * looked at (counted, the message still counts as parsed). */
#define DNS_MAX_RRS 64
/* Addresses kept from one answer section. */
#define DNS_MAX_ADDRS 8

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_SRV = 33,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_HTTPS = 65,
};

enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_result {
	DNS_OK = 0,
	DNS_TRUNCATED,           /* the message ended inside a structure */
	DNS_MALFORMED,           /* the bytes contradict themselves: dns_msg.bad says how */
};

/* Why a message is malformed (stable names: dns_malformed_name). */
enum dns_bad {
	DNSB_NONE = 0,
	DNSB_LABEL_TYPE,         /* a label with the reserved 0x40/0x80 type bits */
	DNSB_NAME_TOO_LONG,      /* more than 255 bytes on the wire */
	DNSB_POINTER_LOOP,       /* a compression pointer not pointing before itself */
	DNSB_TOO_MANY_POINTERS,
	DNSB_QDCOUNT,            /* not exactly one question */
	DNSB_RDLENGTH,           /* an A/AAAA/CNAME/OPT record whose rdata does not fit its type */
	DNSB__COUNT
};
const char *dns_bad_name(enum dns_bad b);

struct dns_msg {
	uint16_t id;
	bool qr;                 /* a response */
	uint8_t opcode;
	bool aa, tc, rd, ra;
	uint16_t rcode;          /* with the EDNS0 extended bits (RFC 6891 section 6.1.3) */
	uint16_t qdcount, ancount, nscount, arcount;
	/* the question */
	char qname[DNS_NAME_TEXT_MAX + 2]; /* lower case, "." for the root */
	uint16_t qname_len;
	uint16_t qtype, qclass;
	/* the answer section */
	struct ts_addr addrs[DNS_MAX_ADDRS];
	uint8_t n_addrs;
	uint16_t answers;        /* answer records walked (all types) */
	uint16_t addrs_dropped;  /* A/AAAA beyond DNS_MAX_ADDRS */
	char cname[DNS_NAME_TEXT_MAX + 2]; /* first CNAME target, "" when none */
	bool has_ttl;
	uint32_t min_ttl;        /* smallest TTL of the answer records */
	/* EDNS0 */
	bool edns;
	uint16_t edns_udp_size;
	uint8_t edns_version;
	bool edns_do;
	bool rr_cap;             /* DNS_MAX_RRS reached: later records not read */
	enum dns_bad bad;        /* DNS_MALFORMED: why */
};

/* Parse one message of len bytes.  On DNS_TRUNCATED / DNS_MALFORMED the
 * header (when 12 bytes were there) and whatever came before the problem
 * are filled. */
enum dns_result dns_parse(const uint8_t *msg, size_t len, struct dns_msg *out);

/* Does a UDP/TCP packet belong to the DNS stage?  Either port is 53. */
static inline bool dns_port(uint16_t sport, uint16_t dport)
{
	return sport == DNS_PORT || dport == DNS_PORT;
}

/* Names for output: "A", "AAAA", ..., else "TYPE<n>" (RFC 3597) in buf. */
const char *dns_type_name(uint16_t type, char *buf, size_t len);
/* "NOERROR", "NXDOMAIN", ..., else "RCODE<n>" in buf. */
const char *dns_rcode_name(uint16_t rcode, char *buf, size_t len);

#endif
