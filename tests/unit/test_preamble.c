/* test_preamble.c - where TLS begins after STARTTLS, CONNECT, SOCKS, the
 * PROXY protocol and PostgreSQL's SSLRequest: every transcript found with
 * the right offsets, every prefix of it answered "more" (never a wrong
 * offset), refusals and plain protocols answered "no". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "preamble.h"

/* The first bytes of a TLS 1.2 ClientHello record and of a ServerHello. */
static const uint8_t CH[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03 };
static const uint8_t SH[] = { 0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56, 0x03, 0x03 };

struct transcript {
	const char *name;
	enum preamble_kind kind;
	const uint8_t *cli;        /* preamble only: the ClientHello is appended */
	size_t clen;
	const uint8_t *srv;        /* preamble only: the ServerHello is appended */
	size_t slen;
	const char *target;        /* expected CONNECT/SOCKS target, NULL: none */
};

#define T(s) (const uint8_t *)(s), sizeof(s) - 1

static const uint8_t socks5_cli[] = { 5, 1, 0, 5, 1, 0, 3, 8, 'k', 'l', 'o', 'o', 'p', '.', 'k', 'g', 1, 187 };
static const uint8_t socks5_srv[] = { 5, 0, 5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90 };
static const uint8_t socks5a_cli[] = { 5, 1, 2, 1, 3, 'b', 'o', 'b', 2, 'p', 'w',
				       5, 1, 0, 1, 198, 51, 100, 7, 1, 187 };
static const uint8_t socks5a_srv[] = { 5, 2, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
static const uint8_t socks4_cli[] = { 4, 1, 1, 187, 198, 51, 100, 7, 'u', 0 };
static const uint8_t socks4a_cli[] = { 4, 1, 1, 187, 0, 0, 0, 1, 0, 'k', 'l', 'o', 'o', 'p', '.', 'k', 'g', 0 };
static const uint8_t socks4_srv[] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };
static const uint8_t pg_cli[] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
static const uint8_t proxy2_cli[] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
				      0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c, 198, 18, 1, 10, 198, 19,
				      1, 1, 0xa1, 0x29, 0x01, 0xbb };
/* LDAP StartTLS: ExtendedRequest with the StartTLS OID, and its success. */
static const uint8_t ldap_cli[] = { 0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
				    '1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
				    '1', '4', '6', '6', '.', '2', '0', '0', '3', '7' };
static const uint8_t ldap_srv[] = { 0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00,
				    0x04, 0x00, 0x04, 0x00 };

static const struct transcript transcripts[] = {
	{ "smtp", PRE_SMTP, T("EHLO client.example\r\nSTARTTLS\r\n"),
	  T("220 mx.example ESMTP\r\n250-mx.example\r\n250-STARTTLS\r\n250 8BITMIME\r\n220 2.0.0 Ready to start TLS\r\n"), NULL },
	{ "pop3", PRE_POP3, T("CAPA\r\nSTLS\r\n"),
	  T("+OK POP3 ready\r\n+OK\r\nSTLS\r\n.\r\n+OK Begin TLS negotiation\r\n"), NULL },
	{ "imap", PRE_IMAP, T("a001 CAPABILITY\r\na002 STARTTLS\r\n"),
	  T("* OK IMAP4rev1 ready\r\n* CAPABILITY IMAP4rev1 STARTTLS\r\na001 OK done\r\na002 OK Begin TLS\r\n"), NULL },
	{ "ftp", PRE_FTP, T("AUTH TLS\r\n"), T("220 FTP ready\r\n234 AUTH TLS OK.\r\n"), NULL },
	{ "xmpp", PRE_XMPP,
	  T("<?xml version='1.0'?><stream:stream to='example.net' xmlns='jabber:client' version='1.0'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
	  T("<?xml version='1.0'?><stream:stream from='example.net' version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
	  NULL },
	{ "ldap", PRE_LDAP, ldap_cli, sizeof(ldap_cli), ldap_srv, sizeof(ldap_srv), NULL },
	{ "postgres", PRE_POSTGRES, pg_cli, sizeof(pg_cli), T("S"), NULL },
	{ "connect", PRE_HTTP_CONNECT, T("CONNECT kloop.kg:443 HTTP/1.1\r\nHost: kloop.kg:443\r\n\r\n"),
	  T("HTTP/1.1 200 Connection established\r\n\r\n"), "kloop.kg:443" },
	{ "socks4", PRE_SOCKS4, socks4_cli, sizeof(socks4_cli), socks4_srv, sizeof(socks4_srv),
	  "198.51.100.7:443" },
	{ "socks4a", PRE_SOCKS4, socks4a_cli, sizeof(socks4a_cli), socks4_srv, sizeof(socks4_srv),
	  "kloop.kg:443" },
	{ "socks5", PRE_SOCKS5, socks5_cli, sizeof(socks5_cli), socks5_srv, sizeof(socks5_srv),
	  "kloop.kg:443" },
	{ "socks5_auth", PRE_SOCKS5, socks5a_cli, sizeof(socks5a_cli), socks5a_srv, sizeof(socks5a_srv),
	  "198.51.100.7:443" },
	{ "proxy_v1", PRE_PROXY_V1, T("PROXY TCP4 198.18.1.10 198.19.1.1 41001 443\r\n"), NULL, 0, NULL },
	{ "proxy_v2", PRE_PROXY_V2, proxy2_cli, sizeof(proxy2_cli), NULL, 0, NULL },
};

struct both {
	uint8_t cli[1024], srv[1024];
	size_t clen, slen;
};

static void build(const struct transcript *t, struct both *b)
{
	memcpy(b->cli, t->cli, t->clen);
	memcpy(b->cli + t->clen, CH, sizeof(CH));
	b->clen = t->clen + sizeof(CH);
	if (t->slen)
		memcpy(b->srv, t->srv, t->slen);
	memcpy(b->srv + t->slen, SH, sizeof(SH));
	b->slen = t->slen + sizeof(SH);
}

static void test_transcripts_found(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(transcripts) / sizeof(transcripts[0]); i++) {
		const struct transcript *t = &transcripts[i];
		struct both b;
		struct preamble p;
		build(t, &b);
		print_message("%s\n", t->name);
		assert_int_equal(preamble_find(b.cli, b.clen, b.srv, b.slen, &p), PREAMBLE_FOUND);
		assert_int_equal(p.kind, t->kind);
		assert_int_equal(p.tls_off[0], t->clen);
		assert_int_equal(p.tls_off[1], t->slen);
		assert_memory_equal(b.cli + p.tls_off[0], CH, 2);
		assert_string_equal(p.target, t->target ? t->target : "");
		assert_string_not_equal(preamble_name(p.kind), "none");
	}
}

/* Bytes arrive in any amounts: a prefix of either direction is never
 * answered with an offset other than the true one. */
static void test_every_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(transcripts) / sizeof(transcripts[0]); i++) {
		const struct transcript *t = &transcripts[i];
		struct both b;
		build(t, &b);
		for (size_t c = 1; c <= b.clen; c++) {
			for (size_t s = 0; s <= b.slen; s += (s < t->slen + 2 ? 1 : 7)) {
				struct preamble p;
				enum preamble_result r = preamble_find(b.cli, c, b.srv, s, &p);
				if (r == PREAMBLE_FOUND) {
					assert_int_equal(p.kind, t->kind);
					assert_int_equal(p.tls_off[0], t->clen);
					/* the server's plaintext may be seen only up to
					 * its last complete line so far */
					assert_true(p.tls_off[1] <= t->slen);
				}
			}
		}
	}
}

static void test_refusals_and_plain_protocols(void **state)
{
	(void)state;
	static const struct {
		const char *cli, *srv;
	} no[] = {
		{ "CONNECT kloop.kg:443 HTTP/1.1\r\n\r\n", "HTTP/1.1 403 Forbidden\r\n\r\n" },
		{ "GET / HTTP/1.1\r\nHost: kloop.kg\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n" },
		{ "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_9.2\r\n" },
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		struct preamble p;
		assert_int_equal(preamble_find((const uint8_t *)no[i].cli, strlen(no[i].cli),
					       (const uint8_t *)no[i].srv, strlen(no[i].srv), &p),
				 PREAMBLE_NO);
	}
	/* PostgreSQL server says 'N': no TLS */
	uint8_t pg[9];
	memcpy(pg, pg_cli, 8);
	pg[8] = 'Q';
	struct preamble p;
	assert_int_equal(preamble_find(pg, 9, (const uint8_t *)"N", 1, &p), PREAMBLE_NO);
	/* SOCKS 5 server accepts no method */
	static const uint8_t s5n[] = { 5, 0xff };
	assert_int_equal(preamble_find(socks5_cli, sizeof(socks5_cli), s5n, 2, &p), PREAMBLE_NO);
	/* SOCKS 4 request rejected */
	static const uint8_t s4n[] = { 0, 0x5b, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(preamble_find(socks4_cli, sizeof(socks4_cli), s4n, 8, &p), PREAMBLE_NO);
}

/* SMTP whose STARTTLS was refused: the client goes on in plaintext, and
 * the STARTTLS line's successor is what the caller checks for TLS. */
static void test_starttls_refused_goes_on_plain(void **state)
{
	(void)state;
	const char *cli = "EHLO c\r\nSTARTTLS\r\nMAIL FROM:<a@b>\r\n";
	const char *srv = "220 mx\r\n250 mx\r\n454 TLS not available\r\n";
	struct preamble p;
	assert_int_equal(preamble_find((const uint8_t *)cli, strlen(cli), (const uint8_t *)srv,
				       strlen(srv), &p),
			 PREAMBLE_FOUND);
	assert_memory_equal(cli + p.tls_off[0], "MAIL", 4); /* not a TLS record */
}

/* The bound: a line protocol that never asks for TLS stops being looked
 * at once PREAMBLE_MAX bytes were seen. */
static void test_bound(void **state)
{
	(void)state;
	static uint8_t cli[PREAMBLE_MAX + 100];
	size_t n = 0;
	memcpy(cli, "EHLO x\r\n", 8);
	n = 8;
	while (n + 10 < sizeof(cli)) {
		memcpy(cli + n, "NOOP     \n", 10);
		n += 10;
	}
	const char *srv = "220 mx\r\n";
	struct preamble p;
	assert_int_equal(preamble_find(cli, n, (const uint8_t *)srv, strlen(srv), &p), PREAMBLE_NO);
	assert_int_equal(preamble_find(cli, 200, (const uint8_t *)srv, strlen(srv), &p), PREAMBLE_MORE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transcripts_found),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_refusals_and_plain_protocols),
		cmocka_unit_test(test_starttls_refused_goes_on_plain),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
