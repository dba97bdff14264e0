/* preamble.c - find where TLS begins after a plaintext preamble
 * (STARTTLS, CONNECT, SOCKS, PROXY protocol, PostgreSQL): see preamble.h
 * for the protocols and the RFC sections followed. */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "preamble.h"

static const char *const kind_names[PRE__COUNT] = {
	[PRE_NONE] = "none",
	[PRE_SMTP] = "smtp_starttls",
	[PRE_POP3] = "pop3_stls",
	[PRE_IMAP] = "imap_starttls",
	[PRE_FTP] = "ftp_auth_tls",
	[PRE_LDAP] = "ldap_starttls",
	[PRE_XMPP] = "xmpp_starttls",
	[PRE_POSTGRES] = "postgres_sslrequest",
	[PRE_HTTP_CONNECT] = "http_connect",
	[PRE_SOCKS4] = "socks4",
	[PRE_SOCKS5] = "socks5",
	[PRE_PROXY_V1] = "proxy_v1",
	[PRE_PROXY_V2] = "proxy_v2",
};

const char *preamble_name(enum preamble_kind k)
{
	return (unsigned)k < PRE__COUNT ? kind_names[k] : "none";
}

/* A direction's bytes, cut to the bound. */
struct bytes {
	const uint8_t *p;
	size_t n;
	bool cut;                /* more bytes exist beyond the bound */
};

static struct bytes bytes_of(const uint8_t *p, size_t n)
{
	struct bytes b = { p, n < PREAMBLE_MAX ? n : PREAMBLE_MAX, n > PREAMBLE_MAX };
	if (!p)
		b.n = 0;
	return b;
}

/* Not found yet: wait, unless the bound is reached (then it never will). */
static enum preamble_result more(const struct bytes *b)
{
	return b->cut || b->n >= PREAMBLE_MAX ? PREAMBLE_NO : PREAMBLE_MORE;
}

static bool prefix(const struct bytes *b, const char *s)
{
	size_t n = strlen(s);
	return b->n >= n && memcmp(b->p, s, n) == 0;
}

/* Case-insensitive comparison of n bytes with an ASCII string. */
static bool same_ci(const uint8_t *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t a = p[i], c = (uint8_t)s[i];
		if (a >= 'a' && a <= 'z')
			a = (uint8_t)(a - 32);
		if (c >= 'a' && c <= 'z')
			c = (uint8_t)(c - 32);
		if (a != c)
			return false;
	}
	return true;
}

/* Offset just past the line that starts at `from` (its "\n"), or 0 when
 * the line is not complete within the bytes. */
static size_t line_after(const struct bytes *b, size_t from)
{
	if (from >= b->n)
		return 0;
	const uint8_t *nl = memchr(b->p + from, '\n', b->n - from);
	return nl ? (size_t)(nl - b->p) + 1 : 0;
}

/* Offset just past the first occurrence of s at or after `from`, 0 when
 * absent. */
static size_t after(const struct bytes *b, size_t from, const char *s)
{
	size_t n = strlen(s);
	if (from >= b->n)
		return 0;
	const uint8_t *hit = memmem(b->p + from, b->n - from, s, n);
	return hit ? (size_t)(hit - b->p) + n : 0;
}

/* Where a TLS-speaking server's plaintext ends: the start of the first
 * line that begins like a TLS record, else the end of its last complete
 * line (the client sent its ClientHello after the server's answer, so
 * what the server sent so far was all plaintext). */
static size_t server_plain_end(const struct bytes *s)
{
	size_t at = 0, end = 0;
	while (at < s->n) {
		if (s->n - at >= 2 && s->p[at] == 0x16 && s->p[at + 1] == 0x03)
			return at;
		size_t next = line_after(s, at);
		if (!next)
			break;
		end = at = next;
	}
	return end;
}

static enum preamble_result found(struct preamble *out, enum preamble_kind k, size_t cli_off,
				  size_t srv_off)
{
	out->kind = k;
	out->tls_off[0] = (uint32_t)cli_off;
	out->tls_off[1] = (uint32_t)srv_off;
	return PREAMBLE_FOUND;
}

/* ---- server-first line protocols: SMTP, POP3, IMAP, FTP --------------------------- */

/* The client line that asks for TLS, per protocol. */
static bool is_tls_command(enum preamble_kind k, const uint8_t *line, size_t n)
{
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	switch (k) {
	case PRE_SMTP:
		return n == 8 && same_ci(line, "STARTTLS", 8);
	case PRE_POP3:
		return n == 4 && same_ci(line, "STLS", 4);
	case PRE_FTP:
		return n >= 8 && same_ci(line, "AUTH ", 5) &&
		       (same_ci(line + 5, "TLS", 3) || same_ci(line + 5, "SSL", 3));
	case PRE_IMAP: {
		const uint8_t *sp = memchr(line, ' ', n);
		size_t rest = sp ? n - (size_t)(sp - line) - 1 : 0;
		return sp && rest == 8 && same_ci(sp + 1, "STARTTLS", 8);
	}
	default:
		return false;
	}
}

/* Which line protocol a server greeting and the client's first line say. */
static enum preamble_kind line_protocol(const struct bytes *c, const struct bytes *s)
{
	if (s->n >= 4 && memcmp(s->p, "+OK", 3) == 0)
		return PRE_POP3;
	if (s->n >= 4 && memcmp(s->p, "* OK", 4) == 0)
		return PRE_IMAP;
	if (s->n >= 4 && memcmp(s->p, "220", 3) == 0 && (s->p[3] == ' ' || s->p[3] == '-')) {
		/* SMTP and FTP both greet with 220: the client's words tell */
		if (c->n >= 5 && (same_ci(c->p, "EHLO ", 5) || same_ci(c->p, "HELO ", 5) ||
				  same_ci(c->p, "STARTTLS", c->n < 8 ? c->n : 8)))
			return PRE_SMTP;
		if (c->n >= 5 && (same_ci(c->p, "AUTH ", 5) || same_ci(c->p, "USER ", 5) ||
				  same_ci(c->p, "FEAT", 4)))
			return PRE_FTP;
	}
	return PRE_NONE;
}

static enum preamble_result find_line_protocol(enum preamble_kind k, const struct bytes *c,
					       const struct bytes *s, struct preamble *out)
{
	size_t at = 0;
	for (;;) {
		size_t next = line_after(c, at);
		if (!next)
			return more(c);
		if (is_tls_command(k, c->p + at, next - at)) {
			if (next >= c->n)
				return PREAMBLE_MORE; /* TLS has not begun yet */
			return found(out, k, next, server_plain_end(s));
		}
		at = next;
	}
}

/* ---- XMPP: <starttls/> and <proceed/> ------------------------------------------------ */

static enum preamble_result find_xmpp(const struct bytes *c, const struct bytes *s,
				      struct preamble *out)
{
	size_t st = after(c, 0, "<starttls");
	size_t cend = st ? after(c, st, ">") : 0;
	if (!cend)
		return more(c);
	if (cend >= c->n)
		return PREAMBLE_MORE;
	size_t pr = after(s, 0, "<proceed");
	size_t send = pr ? after(s, pr, ">") : 0;
	if (!send)
		return more(s);
	return found(out, PRE_XMPP, cend, send);
}

/* ---- LDAP: one BER message each way ---------------------------------------------------- */

/* Length of the BER SEQUENCE at the start of b (X.690 section 8.1.3):
 * 0 when incomplete or not a definite-length SEQUENCE. */
static size_t ber_message_len(const struct bytes *b)
{
	struct cursor cur = cur_make(b->p, b->n);
	uint8_t tag, l;
	if (!cur_u8(&cur, &tag) || tag != 0x30 || !cur_u8(&cur, &l))
		return 0;
	size_t hdr = 2, len = l;
	if (l & 0x80) {
		unsigned nb = l & 0x7f;
		if (nb == 0 || nb > 3)
			return 0; /* indefinite or absurd: LDAP uses neither */
		len = 0;
		for (unsigned i = 0; i < nb; i++) {
			uint8_t v;
			if (!cur_u8(&cur, &v))
				return 0;
			len = (len << 8) | v;
		}
		hdr += nb;
	}
	return hdr + len <= b->n ? hdr + len : 0;
}

static enum preamble_result find_ldap(const struct bytes *c, const struct bytes *s,
				      struct preamble *out)
{
	size_t cl = ber_message_len(c);
	if (!cl)
		return more(c);
	struct bytes msg = { c->p, cl, false };
	if (!after(&msg, 0, "1.3.6.1.4.1.1466.20037"))
		return PREAMBLE_NO;
	if (cl >= c->n)
		return PREAMBLE_MORE;
	size_t sl = ber_message_len(s);
	if (!sl)
		return more(s);
	return found(out, PRE_LDAP, cl, sl);
}

/* ---- HTTP CONNECT ------------------------------------------------------------------------ */

static void copy_target(struct preamble *out, const uint8_t *p, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < sizeof(out->target); i++) {
		uint8_t ch = p[i];
		out->target[j++] = (ch > 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	out->target[j] = '\0';
}

static enum preamble_result find_connect(const struct bytes *c, const struct bytes *s,
					 struct preamble *out)
{
	size_t cend = after(c, 0, "\r\n\r\n");
	if (!cend)
		return more(c);
	size_t line = line_after(c, 0);
	const uint8_t *sp = line > 8 ? memchr(c->p + 8, ' ', line - 8) : NULL;
	if (sp)
		copy_target(out, c->p + 8, (size_t)(sp - (c->p + 8)));
	if (s->n < 12 || cend >= c->n) {
		if (s->n >= 12 && !(memcmp(s->p, "HTTP/1.", 7) == 0 && s->p[9] == '2'))
			return PREAMBLE_NO; /* the proxy refused: no TLS follows */
		return more(c);
	}
	if (memcmp(s->p, "HTTP/1.", 7) != 0 || s->p[9] != '2')
		return PREAMBLE_NO;
	size_t send = after(s, 0, "\r\n\r\n");
	if (!send)
		return more(s);
	return found(out, PRE_HTTP_CONNECT, cend, send);
}

/* ---- SOCKS 4/4a and 5 ---------------------------------------------------------------------- */

/* A NUL-terminated string at the cursor; false if not terminated. */
static bool skip_cstring(struct cursor *cur, const uint8_t **s, size_t *n)
{
	*s = cur->p;
	for (size_t i = 0; i < cur_left(cur); i++) {
		if (cur->p[i] == 0) {
			*n = i;
			return cur_skip(cur, i + 1);
		}
	}
	return false;
}

static enum preamble_result find_socks4(const struct bytes *c, const struct bytes *s,
					struct preamble *out)
{
	struct cursor cur = cur_make(c->p, c->n);
	uint8_t ver, cmd, ip[4];
	uint16_t port;
	const uint8_t *user, *host = NULL;
	size_t ulen, hlen = 0;
	if (!cur_u8(&cur, &ver) || !cur_u8(&cur, &cmd) || !cur_be16(&cur, &port) ||
	    !cur_bytes(&cur, ip, 4) || !skip_cstring(&cur, &user, &ulen))
		return more(c);
	/* SOCKS 4a: 0.0.0.x (x != 0) means a host name follows */
	if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0 &&
	    !skip_cstring(&cur, &host, &hlen))
		return more(c);
	char t[300];
	if (host)
		snprintf(t, sizeof(t), "%.*s:%u", (int)(hlen < 255 ? hlen : 255), host, port);
	else
		snprintf(t, sizeof(t), "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3], port);
	copy_target(out, (const uint8_t *)t, strlen(t));
	size_t cend = c->n - cur_left(&cur);
	if (s->n < 8 || cend >= c->n)
		return s->n >= 2 && s->p[1] != 0x5a ? PREAMBLE_NO : more(c);
	if (s->p[0] != 0 || s->p[1] != 0x5a)
		return PREAMBLE_NO; /* request rejected */
	return found(out, PRE_SOCKS4, cend, 8);
}

/* The SOCKS 5 address (RFC 1928 section 5) and port, as text. */
static bool socks5_addr(struct cursor *cur, char *t, size_t tlen)
{
	uint8_t atyp, a[16], n;
	uint16_t port;
	if (!cur_u8(cur, &atyp))
		return false;
	if (atyp == 1) {
		if (!cur_bytes(cur, a, 4) || !cur_be16(cur, &port))
			return false;
		snprintf(t, tlen, "%u.%u.%u.%u:%u", a[0], a[1], a[2], a[3], port);
	} else if (atyp == 3) {
		char name[256];
		if (!cur_u8(cur, &n) || !cur_bytes(cur, name, n) || !cur_be16(cur, &port))
			return false;
		snprintf(t, tlen, "%.*s:%u", (int)n, name, port);
	} else if (atyp == 4) {
		if (!cur_bytes(cur, a, 16) || !cur_be16(cur, &port))
			return false;
		snprintf(t, tlen, "[%02x%02x:%02x%02x:...]:%u", a[0], a[1], a[2], a[3], port);
	} else {
		return false;
	}
	return true;
}

static enum preamble_result find_socks5(const struct bytes *c, const struct bytes *s,
					struct preamble *out)
{
	struct cursor cc = cur_make(c->p, c->n), sc = cur_make(s->p, s->n);
	uint8_t ver, n, method, v, st;
	char t[300];
	if (!cur_u8(&cc, &ver) || !cur_u8(&cc, &n) || !cur_skip(&cc, n))
		return more(c);
	if (!cur_u8(&sc, &ver) || !cur_u8(&sc, &method))
		return more(s);
	if (ver != 5 || method == 0xff)
		return PREAMBLE_NO;
	if (method == 2) { /* RFC 1929 username/password */
		uint8_t ul, pl;
		if (!cur_u8(&cc, &v) || !cur_u8(&cc, &ul) || !cur_skip(&cc, ul) ||
		    !cur_u8(&cc, &pl) || !cur_skip(&cc, pl))
			return more(c);
		if (!cur_u8(&sc, &v) || !cur_u8(&sc, &st))
			return more(s);
		if (st != 0)
			return PREAMBLE_NO;
	} else if (method != 0) {
		return PREAMBLE_NO; /* GSSAPI and private methods wrap the stream */
	}
	if (!cur_u8(&cc, &ver) || !cur_u8(&cc, &v) || !cur_skip(&cc, 1) ||
	    !socks5_addr(&cc, t, sizeof(t)))
		return more(c);
	copy_target(out, (const uint8_t *)t, strlen(t));
	if (!cur_u8(&sc, &ver) || !cur_u8(&sc, &st) || !cur_skip(&sc, 1) ||
	    !socks5_addr(&sc, t, sizeof(t)))
		return more(s);
	if (st != 0)
		return PREAMBLE_NO;
	size_t cend = c->n - cur_left(&cc);
	if (cend >= c->n)
		return PREAMBLE_MORE;
	return found(out, PRE_SOCKS5, cend, s->n - cur_left(&sc));
}

/* ---- client-only headers: PROXY v1/v2, PostgreSQL -------------------------------------------- */

static const uint8_t proxy_v2_sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
					  0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };
static const uint8_t pg_sslrequest[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };

static enum preamble_result find_proxy(const struct bytes *c, struct preamble *out)
{
	if (c->n >= 12 && memcmp(c->p, proxy_v2_sig, 12) == 0) {
		struct cursor cur = cur_make(c->p + 14, c->n - 14);
		uint16_t len;
		if (c->n < 16 || !cur_be16(&cur, &len))
			return PREAMBLE_MORE;
		if ((size_t)16 + len >= c->n)
			return PREAMBLE_MORE;
		return found(out, PRE_PROXY_V2, 16u + len, 0);
	}
	/* v1: one line of at most 107 bytes, then the proxied stream */
	size_t end = line_after(c, 0);
	if (!end)
		return c->n > 107 ? PREAMBLE_NO : PREAMBLE_MORE;
	if (end > 107 || end < 2 || c->p[end - 2] != '\r')
		return PREAMBLE_NO;
	return end >= c->n ? PREAMBLE_MORE : found(out, PRE_PROXY_V1, end, 0);
}

static enum preamble_result find_postgres(const struct bytes *c, const struct bytes *s,
					  struct preamble *out)
{
	if (s->n < 1 || c->n <= 8)
		return PREAMBLE_MORE;
	if (s->p[0] != 'S')
		return PREAMBLE_NO; /* 'N': the server will not speak TLS */
	return found(out, PRE_POSTGRES, 8, 1);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

enum preamble_result preamble_find(const uint8_t *cli, size_t clen, const uint8_t *srv,
				   size_t slen, struct preamble *out)
{
	struct bytes c = bytes_of(cli, clen), s = bytes_of(srv, slen);
	memset(out, 0, sizeof(*out));
	if (c.n == 0)
		return s.n ? (line_protocol(&c, &s) != PRE_NONE || s.n < 4 ? PREAMBLE_MORE : PREAMBLE_NO)
			   : PREAMBLE_MORE;
	if (c.n >= 8 && memcmp(c.p, pg_sslrequest, 8) == 0)
		return find_postgres(&c, &s, out);
	if (prefix(&c, "PROXY ") || (c.n >= 12 && memcmp(c.p, proxy_v2_sig, 12) == 0))
		return find_proxy(&c, out);
	if (c.n >= 8 && same_ci(c.p, "CONNECT ", 8))
		return find_connect(&c, &s, out);
	if (c.p[0] == 0x04 && c.n >= 2 && c.p[1] == 0x01)
		return find_socks4(&c, &s, out);
	if (c.p[0] == 0x05 && c.n >= 2 && c.p[1] >= 1 && c.p[1] <= 9)
		return find_socks5(&c, &s, out);
	if (c.p[0] == 0x30)
		return find_ldap(&c, &s, out);
	if (prefix(&c, "<?xml") || prefix(&c, "<stream:stream"))
		return find_xmpp(&c, &s, out);
	enum preamble_kind k = line_protocol(&c, &s);
	if (k != PRE_NONE)
		return find_line_protocol(k, &c, &s, out);
	/* A server-first protocol whose greeting has not been seen. */
	return s.n == 0 && c.n < 16 ? PREAMBLE_MORE : PREAMBLE_NO;
}
