/* http.h - plain HTTP/1.x heads (RFC 9112 section 2 message format,
 * section 3 request line, section 4 status line, section 5 fields; RFC 9110
 * section 7.2 Host, 10.2.2 Location, 10.2.4 Server, 8.6 Content-Length).
 *
 * The handshake region (tcphs.c) hands a client stream that starts like
 * an HTTP request here: the request's method, target and Host, and the
 * response's status, Location, Server, Content-Length, its head (for the
 * blockpage patterns of other headers) and the first bytes of its body.
 * Every part is bounded: a head longer than HTTP_HEAD_MAX is not parsed
 * (too_long), fields are cut to their buffers, and a direction is parsed
 * again at most HTTP_PARSE_TRIES times as its bytes arrive.  A head that
 * ends before it is whole is truncated, one that breaks the syntax is
 * malformed: different outcomes, counted apart.
 */
#ifndef TS_HTTP_H
#define TS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 4096           /* request or response head parsed */
#define HTTP_BODY_KEEP 512           /* body bytes kept for blockpage patterns */
#define HTTP_PARSE_TRIES 32          /* parses per direction as bytes arrive */
#define HTTP_FIELD_MAX 255

enum http_state {
	HTTP_MORE = 0,                   /* the head is not whole yet */
	HTTP_DONE,                       /* parsed */
	HTTP_TRUNCATED,                  /* the stream ended (or tries ran out) inside the head */
	HTTP_MALFORMED,                  /* the syntax broke */
	HTTP_TOO_LONG,                   /* no end within HTTP_HEAD_MAX */
};
const char *http_state_name(enum http_state s);

struct http_info {
	/* the request */
	uint8_t req_state;               /* enum http_state */
	uint8_t req_tries;
	char method[16];
	char host[HTTP_FIELD_MAX + 1];
	char target[HTTP_FIELD_MAX + 1];
	bool target_cut;
	uint8_t version;                 /* 10, 11 */
	uint64_t req_us;                 /* when the head was whole */
	/* the response */
	uint8_t resp_state;
	uint8_t resp_tries;
	uint16_t status;
	char location[HTTP_FIELD_MAX + 1];
	char server[128];
	int64_t content_length;          /* -1: none */
	uint16_t head_len;               /* bytes of head[] */
	char head[HTTP_HEAD_MAX + 1];    /* the response head, NUL-terminated */
	uint16_t body_len;
	uint8_t body[HTTP_BODY_KEEP];
	/* who sent the response (tcphs.c) */
	uint64_t resp_us;                /* its first byte */
	uint8_t resp_ttl;
	uint16_t resp_ipid;
	uint8_t resp_ip_version;
	bool other_sender;               /* later server payload with another TTL, or
					    overlapping bytes that differ: a second response */
	uint8_t synack_ttl;              /* the server's SYN-ACK, when seen */
	uint16_t synack_ipid;
	bool synack_seen;
};

/* Does a client stream start like an HTTP/1.x request (a known method and a
 * space; CONNECT is the preamble finder's)?  1 yes, 0 no, -1 too few bytes. */
int http_request_start(const uint8_t *b, size_t n);

/* Parse the client stream's first n bytes (the whole stream so far) into
 * h; returns the new req_state.  ended: no more bytes will come. */
enum http_state http_parse_request(struct http_info *h, const uint8_t *b, size_t n, bool ended);
/* Likewise for the server stream: the status line, fields and first body
 * bytes. */
enum http_state http_parse_response(struct http_info *h, const uint8_t *b, size_t n,
				    bool ended);

/* The value of response header `name` (case-insensitive), first of them,
 * NUL-terminated in buf (cut to len); NULL when absent. */
const char *http_header(const struct http_info *h, const char *name, char *buf, size_t len);

/* ---- the TCP hook (tcphs.c) -------------------------------------------- */

struct flow;
struct ts_packet;

/* The client's stream so far (n bytes, not TLS): an HTTP request?  1: yes,
 * f->http made (with the server's SYN-ACK TTL and IP ID from the flow's
 * observations); 0: no (or no memory); -1: too few bytes to tell. */
int http_flow_start(struct flow *f, const uint8_t *client, size_t n);
/* New contiguous bytes of direction dir (the whole stream so far). */
void http_flow_bytes(struct http_info *h, const struct ts_packet *p, int dir,
		     const uint8_t *stream, size_t n);
/* Every payload packet (reasm_bits: what reassembly said of it): server
 * bytes after the response began, from another TTL or unlike those held,
 * are a second sender's answer. */
void http_flow_packet(struct http_info *h, const struct ts_packet *p, int dir,
		      unsigned reasm_bits);
/* Is nothing more needed: the heads and the body bytes kept are in, and
 * the response's first packet carried the server's own TTL?  (Another TTL
 * may be an injected response racing the server's: the region stays open
 * to see a second response follow, within its limit: limits_reached.) */
bool http_flow_done(const struct http_info *h, bool limits_reached);

/* Outcomes of the heads of finished flows. */
struct http_stats {
	uint64_t flows, truncated, malformed, too_long;
};
void http_count(const struct http_info *h, struct http_stats *st);

#endif
