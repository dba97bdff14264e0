/* http.c - HTTP/1.x request and response heads: RFC 9112 sections 2.2
 * (lines; a bare LF accepted as a recipient may), 3 (request line), 4
 * (status line), 5 (fields); RFC 9110 sections 5.6.2 (tokens), 7.2 (Host),
 * 8.6 (Content-Length), 10.2.2 (Location), 10.2.4 (Server). */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <stdlib.h>

#include "cursor.h"
#include "flow.h"
#include "http.h"
#include "reasm.h"

const char *http_state_name(enum http_state s)
{
	static const char *const names[] = { "more", "done", "truncated", "malformed", "too_long" };
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *const methods[] = { "GET ", "POST ", "HEAD ", "PUT ", "DELETE ",
				       "OPTIONS ", "PATCH ", "TRACE " };

int http_request_start(const uint8_t *b, size_t n)
{
	bool could = false;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t m = strlen(methods[i]);
		size_t k = n < m ? n : m;
		if (memcmp(b, methods[i], k) != 0)
			continue;
		if (n >= m)
			return 1;
		could = true;
	}
	return could ? -1 : 0;
}

/* RFC 9110 section 5.6.2 tchar. */
static bool tchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line of the head (without its CR LF or LF); false at the end. */
static bool next_line(struct cursor *c, struct cursor *line)
{
	if (cur_left(c) == 0)
		return false;
	const uint8_t *nl = memchr(c->p, '\n', c->len);
	size_t n = nl ? (size_t)(nl - c->p) : c->len;
	cur_sub(c, n, line);
	cur_skip(c, nl ? 1 : 0);
	if (line->len && line->p[line->len - 1] == '\r')
		line->len--;
	return true;
}

/* Copy a cursor's bytes as text (cut to cap; control bytes as '?'). */
static size_t copy_text(char *out, size_t cap, const struct cursor *c)
{
	size_t n = c->len < cap - 1 ? c->len : cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (c->p[i] < 0x20 || c->p[i] == 0x7f) ? '?' : (char)c->p[i];
	out[n] = '\0';
	return n;
}

/* The head's length (through its empty line) within b, 0 when not whole. */
static size_t head_end(const uint8_t *b, size_t n)
{
	size_t lim = n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX;
	for (size_t i = 0; i + 1 < lim; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (b[i + 1] == '\r' && i + 2 < lim && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* A field line: name and value (optional whitespace trimmed).  false when
 * it is not "token: value". */
static bool field(struct cursor line, struct cursor *name, struct cursor *value)
{
	size_t i = 0;
	while (i < line.len && tchar(line.p[i]))
		i++;
	if (i == 0 || i >= line.len || line.p[i] != ':')
		return false;
	cur_sub(&line, i, name);
	cur_skip(&line, 1);
	while (line.len && (line.p[0] == ' ' || line.p[0] == '\t'))
		cur_skip(&line, 1);
	while (line.len && (line.p[line.len - 1] == ' ' || line.p[line.len - 1] == '\t'))
		line.len--;
	*value = line;
	return true;
}

static bool name_is(const struct cursor *name, const char *want)
{
	return name->len == strlen(want) && strncasecmp((const char *)name->p, want, name->len) == 0;
}

/* "HTTP/1.0" or "HTTP/1.1" at the cursor: 10, 11, or 0. */
static uint8_t version(struct cursor *c)
{
	uint8_t v[8];
	if (!cur_bytes(c, v, 8) || memcmp(v, "HTTP/1.", 7) != 0 || (v[7] != '0' && v[7] != '1'))
		return 0;
	return (uint8_t)(10 + (v[7] - '0'));
}

/* The state when the head is not whole: more, or why it never will be. */
static enum http_state not_whole(size_t n, bool ended, uint8_t *tries)
{
	if (n >= HTTP_HEAD_MAX)
		return HTTP_TOO_LONG;
	if (ended || ++*tries >= HTTP_PARSE_TRIES)
		return HTTP_TRUNCATED;
	return HTTP_MORE;
}

static bool request_line(struct http_info *h, struct cursor line)
{
	size_t i = 0;
	while (i < line.len && line.p[i] >= 'A' && line.p[i] <= 'Z')
		i++;
	if (i == 0 || i >= sizeof(h->method) || i >= line.len || line.p[i] != ' ')
		return false;
	struct cursor m = { 0 }, t = { 0 };
	cur_sub(&line, i, &m);
	copy_text(h->method, sizeof(h->method), &m);
	cur_skip(&line, 1);
	const uint8_t *sp = memchr(line.p, ' ', line.len);
	if (!sp || sp == line.p)
		return false;
	cur_sub(&line, (size_t)(sp - line.p), &t);
	h->target_cut = copy_text(h->target, sizeof(h->target), &t) < t.len;
	cur_skip(&line, 1);
	return (h->version = version(&line)) != 0 && line.len == 0;
}

enum http_state http_parse_request(struct http_info *h, const uint8_t *b, size_t n, bool ended)
{
	if (h->req_state != HTTP_MORE)
		return h->req_state;
	size_t end = head_end(b, n);
	if (!end)
		return h->req_state = (uint8_t)not_whole(n, ended, &h->req_tries);
	struct cursor c = cur_make(b, end), line, name, value;
	if (!next_line(&c, &line) || !request_line(h, line))
		return h->req_state = HTTP_MALFORMED;
	while (next_line(&c, &line) && line.len) {
		if (line.p[0] == ' ' || line.p[0] == '\t')
			continue; /* obsolete line folding: a continuation, ignored */
		if (!field(line, &name, &value))
			return h->req_state = HTTP_MALFORMED;
		if (name_is(&name, "host") && !h->host[0])
			copy_text(h->host, sizeof(h->host), &value);
	}
	return h->req_state = HTTP_DONE;
}

static bool status_line(struct http_info *h, struct cursor line)
{
	uint8_t d[3], sp;
	if (!version(&line) || !cur_u8(&line, &sp) || sp != ' ' || !cur_bytes(&line, d, 3))
		return false;
	for (int i = 0; i < 3; i++)
		if (d[i] < '0' || d[i] > '9')
			return false;
	h->status = (uint16_t)((d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0'));
	return line.len == 0 || line.p[0] == ' ';
}

static void response_field(struct http_info *h, const struct cursor *name,
			   const struct cursor *value)
{
	if (name_is(name, "location") && !h->location[0]) {
		copy_text(h->location, sizeof(h->location), value);
	} else if (name_is(name, "server") && !h->server[0]) {
		copy_text(h->server, sizeof(h->server), value);
	} else if (name_is(name, "content-length") && h->content_length < 0) {
		int64_t v = 0;
		for (size_t i = 0; i < value->len && i < 18; i++) {
			if (value->p[i] < '0' || value->p[i] > '9')
				return;
			v = v * 10 + (value->p[i] - '0');
		}
		h->content_length = value->len ? v : -1;
	}
}

static void keep_body(struct http_info *h, const uint8_t *b, size_t n)
{
	if (n <= h->head_len)
		return;
	size_t have = n - h->head_len;
	size_t keep = have < HTTP_BODY_KEEP ? have : HTTP_BODY_KEEP;
	memcpy(h->body, b + h->head_len, keep);
	h->body_len = (uint16_t)keep;
}

enum http_state http_parse_response(struct http_info *h, const uint8_t *b, size_t n, bool ended)
{
	if (h->resp_state == HTTP_DONE)
		keep_body(h, b, n);
	if (h->resp_state != HTTP_MORE)
		return h->resp_state;
	size_t end = head_end(b, n);
	if (!end)
		return h->resp_state = (uint8_t)not_whole(n, ended, &h->resp_tries);
	struct cursor c = cur_make(b, end), line, name, value;
	h->content_length = -1;
	if (!next_line(&c, &line) || !status_line(h, line))
		return h->resp_state = HTTP_MALFORMED;
	while (next_line(&c, &line) && line.len) {
		if (line.p[0] == ' ' || line.p[0] == '\t')
			continue;
		if (!field(line, &name, &value))
			return h->resp_state = HTTP_MALFORMED;
		response_field(h, &name, &value);
	}
	h->head_len = (uint16_t)end;
	memcpy(h->head, b, end);
	h->head[end] = '\0';
	keep_body(h, b, n);
	return h->resp_state = HTTP_DONE;
}

const char *http_header(const struct http_info *h, const char *want, char *buf, size_t len)
{
	struct cursor c = cur_make((const uint8_t *)h->head, h->head_len), line, name, value;
	if (!next_line(&c, &line))
		return NULL;
	while (next_line(&c, &line) && line.len) {
		if (field(line, &name, &value) && name_is(&name, want)) {
			copy_text(buf, len, &value);
			return buf;
		}
	}
	return NULL;
}

/* ---- the TCP hook ---------------------------------------------------------- */

int http_flow_start(struct flow *f, const uint8_t *client, size_t n)
{
	int r = http_request_start(client, n);
	if (r <= 0)
		return r;
	if (!f->http && !(f->http = calloc(1, sizeof(*f->http))))
		return 0;
	/* the client's first data comes after the handshake: the server's
	 * last packet so far is its SYN-ACK */
	const struct tcp_obs *o = &f->obs;
	f->http->synack_seen = tcpobs_has(o, OBS_SYNACK) && o->ref_from_synack;
	f->http->synack_ttl = o->srv_ref_ttl;
	f->http->synack_ipid = tcpobs_has(o, OBS_SRV_IPID) ? o->srv_last_ipid : 0;
	f->http->content_length = -1;
	return 1;
}

void http_flow_bytes(struct http_info *h, const struct ts_packet *p, int dir,
		     const uint8_t *stream, size_t n)
{
	if (dir == DIR_C2S) {
		if (http_parse_request(h, stream, n, false) == HTTP_DONE && !h->req_us)
			h->req_us = p->ts_us;
		return;
	}
	if (!h->resp_us) {
		h->resp_us = p->ts_us;
		h->resp_ttl = p->ttl;
		h->resp_ipid = p->ip_id;
		h->resp_ip_version = p->ip_version;
	}
	http_parse_response(h, stream, n, false);
}

void http_flow_packet(struct http_info *h, const struct ts_packet *p, int dir,
		      unsigned reasm_bits)
{
	if (dir == DIR_S2C && h->resp_us &&
	    (p->ttl != h->resp_ttl || (reasm_bits & REASM_OVERLAP_DIFF)))
		h->other_sender = true;
}

bool http_flow_done(const struct http_info *h, bool limits_reached)
{
	if (limits_reached)
		return true;
	if (!h || h->resp_state == HTTP_MORE || h->req_state == HTTP_MORE)
		return false;
	if (h->resp_state == HTTP_DONE && h->body_len < HTTP_BODY_KEEP &&
	    (h->content_length < 0 || h->body_len < h->content_length))
		return false;
	return h->synack_seen && h->resp_ttl == h->synack_ttl;
}

void http_count(const struct http_info *h, struct http_stats *st)
{
	if (!h)
		return;
	st->flows++;
	for (int i = 0; i < 2; i++) {
		enum http_state s = (enum http_state)(i ? h->resp_state : h->req_state);
		st->truncated += s == HTTP_TRUNCATED;
		st->malformed += s == HTTP_MALFORMED;
		st->too_long += s == HTTP_TOO_LONG;
	}
}
