/* dns.c - DNS message parsing: RFC 1035 sections 4.1.1-4.1.4 (header,
 * question, resource records, compression), RFC 3596 section 2 (AAAA),
 * RFC 6891 section 6 (EDNS0 OPT), RFC 2181 section 8 (TTLs). */
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "dns.h"
#include "util.h"

const char *dns_bad_name(enum dns_bad b)
{
	static const char *const names[DNSB__COUNT] = {
		[DNSB_NONE] = "none",
		[DNSB_LABEL_TYPE] = "label_type",
		[DNSB_NAME_TOO_LONG] = "name_too_long",
		[DNSB_POINTER_LOOP] = "pointer_loop",
		[DNSB_TOO_MANY_POINTERS] = "too_many_pointers",
		[DNSB_QDCOUNT] = "qdcount",
		[DNSB_RDLENGTH] = "rdlength",
	};
	return (unsigned)b < DNSB__COUNT ? names[b] : "unknown";
}

/* Where a name is written into, NULL to only validate and skip it. */
struct name_out {
	char *text;
	size_t cap;              /* bytes at text, the NUL included */
	uint16_t len;
};

/* One label's bytes into the text form: lower case; a byte that would make
 * the text ambiguous or unprintable (a dot inside a label, a control
 * byte, a space) becomes '?'. */
static void label_text(struct name_out *o, const uint8_t *lab, uint8_t n)
{
	if (!o)
		return;
	if (o->len && (size_t)o->len + 1 < o->cap)
		o->text[o->len++] = '.';
	for (uint8_t i = 0; i < n && (size_t)o->len + 1 < o->cap; i++) {
		uint8_t c = (uint8_t)ascii_lower((char)lab[i]);
		if (c < 0x21 || c > 0x7e || c == '.')
			c = '?';
		o->text[o->len++] = (char)c;
	}
}

static enum dns_result name_bad(enum dns_bad *bad, enum dns_bad why)
{
	*bad = why;
	return DNS_MALFORMED;
}

/* The name at offset `at` of the message.  *next receives the offset just
 * after the name as written at `at` (after its first pointer).  Every
 * pointer must point below the start of the stretch of labels it ends (a
 * stretch begins at `at` or at the previous pointer's target), so each
 * jump goes strictly further back and no loop can be built; the pointer
 * count and the 255-byte wire bound cap the work besides. */
static enum dns_result read_name(const uint8_t *msg, size_t len, size_t at, size_t *next,
				 struct name_out *o, enum dns_bad *bad)
{
	size_t pos = at, floor = at, wire = 0;
	unsigned hops = 0;
	bool jumped = false;
	if (o)
		o->len = 0;
	for (;;) {
		struct cursor c = cur_make(msg + pos, len - pos);
		uint8_t l, lo, lab[DNS_LABEL_MAX];
		if (!cur_u8(&c, &l))
			return DNS_TRUNCATED;
		if ((l & 0xc0) == 0xc0) {
			if (!cur_u8(&c, &lo))
				return DNS_TRUNCATED;
			size_t target = ((size_t)(l & 0x3f) << 8) | lo;
			if (!jumped)
				*next = pos + 2;
			if (target >= floor)
				return name_bad(bad, DNSB_POINTER_LOOP);
			if (++hops > DNS_MAX_POINTERS)
				return name_bad(bad, DNSB_TOO_MANY_POINTERS);
			jumped = true;
			pos = floor = target;
			continue;
		}
		if (l & 0xc0)
			return name_bad(bad, DNSB_LABEL_TYPE);
		wire += 1u + l;
		if (wire > DNS_NAME_WIRE_MAX)
			return name_bad(bad, DNSB_NAME_TOO_LONG);
		if (l == 0)
			break;
		if (!cur_bytes(&c, lab, l))
			return DNS_TRUNCATED;
		label_text(o, lab, l);
		pos += 1u + l;
	}
	if (!jumped)
		*next = pos + 1;
	if (o) {
		if (o->len == 0 && o->cap > 1)
			o->text[o->len++] = '.';
		o->text[o->len] = '\0';
	}
	return DNS_OK;
}

static bool read_header(struct cursor *c, struct dns_msg *m)
{
	uint16_t flags;
	if (!cur_be16(c, &m->id) || !cur_be16(c, &flags) || !cur_be16(c, &m->qdcount) ||
	    !cur_be16(c, &m->ancount) || !cur_be16(c, &m->nscount) || !cur_be16(c, &m->arcount))
		return false;
	m->qr = (flags & 0x8000) != 0;
	m->opcode = (uint8_t)((flags >> 11) & 0xf);
	m->aa = (flags & 0x0400) != 0;
	m->tc = (flags & 0x0200) != 0;
	m->rd = (flags & 0x0100) != 0;
	m->ra = (flags & 0x0080) != 0;
	m->rcode = flags & 0xf;
	return true;
}

/* The fixed part of a resource record after its owner name. */
struct rr {
	uint16_t type, class, rdlength;
	uint32_t ttl;
	size_t rdata;            /* offset of the rdata in the message */
};

static void note_addr(struct dns_msg *m, const uint8_t *b, bool v4)
{
	if (m->n_addrs >= DNS_MAX_ADDRS) {
		m->addrs_dropped++;
		return;
	}
	struct ts_addr *a = &m->addrs[m->n_addrs++];
	memset(a, 0, sizeof(*a));
	if (v4) {
		a->a[10] = a->a[11] = 0xff;
		memcpy(a->a + 12, b, 4);
		a->v4 = 1;
	} else {
		memcpy(a->a, b, 16);
	}
}

/* An answer-section record: addresses, the first CNAME target, the TTL. */
static enum dns_result answer_rr(const uint8_t *msg, size_t len, const struct rr *r,
				 struct dns_msg *m)
{
	struct cursor c = cur_make(msg + r->rdata, r->rdlength);
	uint8_t b[16];
	m->answers++;
	/* RFC 2181 section 8: a TTL with the top bit set is read as zero. */
	uint32_t ttl = r->ttl > 0x7fffffffu ? 0 : r->ttl;
	if (!m->has_ttl || ttl < m->min_ttl)
		m->min_ttl = ttl;
	m->has_ttl = true;
	if (r->class != 1)
		return DNS_OK;
	switch (r->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t n = r->type == DNS_TYPE_A ? 4 : 16;
		if (r->rdlength != n || !cur_bytes(&c, b, n)) {
			m->bad = DNSB_RDLENGTH;
			return DNS_MALFORMED;
		}
		note_addr(m, b, n == 4);
		return DNS_OK;
	}
	case DNS_TYPE_CNAME: {
		size_t next = 0;
		char tmp[DNS_NAME_TEXT_MAX + 2];
		struct name_out o = { m->cname[0] ? tmp : m->cname, sizeof(tmp), 0 };
		/* the target may use compression, so it is read in the whole
		 * message, then checked to end where the rdata does */
		enum dns_result res = read_name(msg, r->rdata + r->rdlength, r->rdata, &next, &o,
						&m->bad);
		if (res == DNS_TRUNCATED || (res == DNS_OK && next != r->rdata + r->rdlength)) {
			m->cname[0] = '\0';
			m->bad = DNSB_RDLENGTH;
			return DNS_MALFORMED;
		}
		(void)len;
		return res;
	}
	default:
		return DNS_OK;
	}
}

/* RFC 6891 section 6.1: the OPT pseudo-record, owner the root. */
static enum dns_result opt_rr(const struct rr *r, bool root, struct dns_msg *m)
{
	if (!root || m->edns) {
		m->bad = DNSB_RDLENGTH;
		return DNS_MALFORMED;
	}
	m->edns = true;
	m->edns_udp_size = r->class;
	m->edns_version = (uint8_t)((r->ttl >> 16) & 0xff);
	m->edns_do = (r->ttl & 0x8000) != 0;
	m->rcode = (uint16_t)(m->rcode | (((r->ttl >> 24) & 0xff) << 4));
	return DNS_OK;
}

enum section { SEC_ANSWER, SEC_AUTHORITY, SEC_ADDITIONAL };

static enum dns_result read_rr(const uint8_t *msg, size_t len, size_t *pos, enum section s,
			       struct dns_msg *m)
{
	size_t next = 0;
	struct rr r;
	enum dns_result res = read_name(msg, len, *pos, &next, NULL, &m->bad);
	if (res != DNS_OK)
		return res;
	bool root = next == *pos + 1;
	struct cursor c = cur_make(msg + next, len - next);
	if (!cur_be16(&c, &r.type) || !cur_be16(&c, &r.class) || !cur_be32(&c, &r.ttl) ||
	    !cur_be16(&c, &r.rdlength))
		return DNS_TRUNCATED;
	r.rdata = next + 10;
	if (!cur_skip(&c, r.rdlength))
		return DNS_TRUNCATED;
	*pos = r.rdata + r.rdlength;
	if (s == SEC_ANSWER)
		return answer_rr(msg, len, &r, m);
	if (s == SEC_ADDITIONAL && r.type == DNS_TYPE_OPT)
		return opt_rr(&r, root, m);
	return DNS_OK;
}

static enum dns_result read_question(const uint8_t *msg, size_t len, size_t *pos,
				     struct dns_msg *m)
{
	size_t next = 0;
	struct name_out o = { m->qname, sizeof(m->qname), 0 };
	enum dns_result res = read_name(msg, len, *pos, &next, &o, &m->bad);
	if (res != DNS_OK) {
		m->qname[0] = '\0';
		return res;
	}
	m->qname_len = o.len;
	struct cursor c = cur_make(msg + next, len - next);
	if (!cur_be16(&c, &m->qtype) || !cur_be16(&c, &m->qclass))
		return DNS_TRUNCATED;
	*pos = next + 4;
	return DNS_OK;
}

enum dns_result dns_parse(const uint8_t *msg, size_t len, struct dns_msg *m)
{
	memset(m, 0, sizeof(*m));
	struct cursor c = cur_make(msg, len);
	if (!read_header(&c, m))
		return DNS_TRUNCATED;
	/* Every query and response in use carries exactly one question
	 * (RFC 9619); without it nothing can be paired. */
	if (m->qdcount != 1) {
		m->bad = DNSB_QDCOUNT;
		return DNS_MALFORMED;
	}
	size_t pos = DNS_HEADER_LEN;
	enum dns_result res = read_question(msg, len, &pos, m);
	if (res != DNS_OK)
		return res;
	const uint16_t counts[3] = { m->ancount, m->nscount, m->arcount };
	unsigned walked = 0;
	for (int s = SEC_ANSWER; s <= SEC_ADDITIONAL; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			if (++walked > DNS_MAX_RRS) {
				m->rr_cap = true;
				return DNS_OK;
			}
			res = read_rr(msg, len, &pos, (enum section)s, m);
			if (res != DNS_OK)
				return res;
		}
	}
	return DNS_OK;
}

const char *dns_type_name(uint16_t type, char *buf, size_t len)
{
	switch (type) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_NS: return "NS";
	case DNS_TYPE_CNAME: return "CNAME";
	case DNS_TYPE_SOA: return "SOA";
	case DNS_TYPE_PTR: return "PTR";
	case DNS_TYPE_MX: return "MX";
	case DNS_TYPE_TXT: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	case DNS_TYPE_SRV: return "SRV";
	case DNS_TYPE_OPT: return "OPT";
	case DNS_TYPE_HTTPS: return "HTTPS";
	default:
		snprintf(buf, len, "TYPE%u", type);
		return buf;
	}
}

const char *dns_rcode_name(uint16_t rcode, char *buf, size_t len)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
					     "NOTIMP", "REFUSED" };
	if (rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}
