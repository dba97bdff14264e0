/* jsonread.c - strict, bounded JSON reader (RFC 8259 sections 2-8) into an index-linked tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "jsonread.h"
#include "util.h"

struct jr_node {
	uint8_t type;             /* enum jr_type */
	uint32_t key;             /* pool offset of the member key, JR_NONE */
	uint32_t text;            /* pool offset of a string / number text */
	uint32_t len;             /* its length; element count for containers */
	jr_ref first, next;
};

struct jr_doc {
	struct jr_node *node;
	uint32_t n_node, cap_node;
	char *pool;               /* NUL-terminated strings */
	size_t pool_len, pool_cap;
};

struct parser {
	struct jr_doc *d;
	struct cursor c;
	const uint8_t *base;
	const char *why;          /* first error */
	size_t why_at;
};

static bool fail(struct parser *p, const char *why)
{
	if (!p->why) {
		p->why = why;
		p->why_at = (size_t)(p->c.p - p->base);
	}
	return false;
}

/* ---- storage ------------------------------------------------------------ */

static jr_ref node_new(struct parser *p, enum jr_type t)
{
	struct jr_doc *d = p->d;
	if (d->n_node >= JR_MAX_NODES) {
		fail(p, "too many values");
		return JR_NONE;
	}
	if (d->n_node == d->cap_node) {
		uint32_t ncap = d->cap_node ? d->cap_node * 2 : 64;
		struct jr_node *nn = realloc(d->node, (size_t)ncap * sizeof(*nn));
		if (!nn) {
			fail(p, "out of memory");
			return JR_NONE;
		}
		d->node = nn;
		d->cap_node = ncap;
	}
	struct jr_node *n = &d->node[d->n_node];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)t;
	n->key = n->text = JR_NONE;
	n->first = n->next = JR_NONE;
	return d->n_node++;
}

static bool pool_reserve(struct parser *p, size_t more)
{
	struct jr_doc *d = p->d;
	if (d->pool_len + more <= d->pool_cap)
		return true;
	size_t ncap = d->pool_cap ? d->pool_cap : 1024;
	while (ncap < d->pool_len + more)
		ncap *= 2;
	/* the pool never outgrows the input by much: offsets stay 32-bit */
	if (ncap > (size_t)JR_MAX_INPUT * 2)
		return fail(p, "string pool too large");
	char *np = realloc(d->pool, ncap);
	if (!np)
		return fail(p, "out of memory");
	d->pool = np;
	d->pool_cap = ncap;
	return true;
}

static bool pool_put(struct parser *p, const void *b, size_t n)
{
	if (!pool_reserve(p, n))
		return false;
	memcpy(p->d->pool + p->d->pool_len, b, n);
	p->d->pool_len += n;
	return true;
}

/* ---- lexing -------------------------------------------------------------- */

static void skip_ws(struct parser *p)
{
	uint8_t ch;
	while (cur_peek_u8(&p->c, 0, &ch) && (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'))
		cur_skip(&p->c, 1);
}

static bool expect_word(struct parser *p, const char *w)
{
	for (; *w; w++) {
		uint8_t ch;
		if (!cur_u8(&p->c, &ch) || ch != (uint8_t)*w)
			return fail(p, "invalid literal");
	}
	return true;
}

static bool read_hex4(struct parser *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t ch;
		if (!cur_u8(&p->c, &ch) || hex_digit(ch) < 0)
			return fail(p, "bad \\u escape");
		*v = (*v << 4) | (uint32_t)hex_digit(ch);
	}
	return true;
}

static size_t utf8_encode(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | (cp >> 18));
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX, the "\u" consumed; a high surrogate must be followed by a low one. */
static bool read_u_escape(struct parser *p, uint8_t out[4], size_t *n)
{
	uint32_t cp, lo;
	uint8_t a, b;
	if (!read_hex4(p, &cp))
		return false;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (!cur_u8(&p->c, &a) || !cur_u8(&p->c, &b) || a != '\\' || b != 'u' ||
		    !read_hex4(p, &lo) || lo < 0xdc00 || lo > 0xdfff)
			return fail(p, "lone high surrogate");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return fail(p, "\\u0000 in a string");
	*n = utf8_encode(cp, out);
	return true;
}

static bool escape_char(uint8_t ch, uint8_t *out)
{
	switch (ch) {
	case '"': *out = '"'; return true;
	case '\\': *out = '\\'; return true;
	case '/': *out = '/'; return true;
	case 'b': *out = '\b'; return true;
	case 'f': *out = '\f'; return true;
	case 'n': *out = '\n'; return true;
	case 'r': *out = '\r'; return true;
	case 't': *out = '\t'; return true;
	default: return false;
	}
}

/* A string, the opening quote consumed; decoded into the pool.  *off and
 * *len locate it there. */
static bool read_string(struct parser *p, uint32_t *off, uint32_t *len)
{
	size_t start = p->d->pool_len;
	for (;;) {
		uint8_t ch, buf[4];
		size_t n = 0;
		if (!cur_peek_u8(&p->c, 0, &ch))
			return fail(p, "unterminated string");
		if (ch == '"') {
			cur_skip(&p->c, 1);
			break;
		}
		if (ch < 0x20)
			return fail(p, "control character in a string");
		if (ch == '\\') {
			cur_skip(&p->c, 1);
			if (!cur_u8(&p->c, &ch))
				return fail(p, "unterminated string");
			if (ch == 'u') {
				if (!read_u_escape(p, buf, &n))
					return false;
			} else if (escape_char(ch, buf)) {
				n = 1;
			} else {
				return fail(p, "bad escape");
			}
		} else {
			n = utf8_seq_len(p->c.p, cur_left(&p->c));
			if (n == 0)
				return fail(p, "invalid UTF-8 in a string");
			cur_bytes(&p->c, buf, n);
		}
		if (p->d->pool_len - start + n > JR_MAX_STRING)
			return fail(p, "string too long");
		if (!pool_put(p, buf, n))
			return false;
	}
	*len = (uint32_t)(p->d->pool_len - start);
	*off = (uint32_t)start;
	return pool_put(p, "", 1);
}

static bool digits(struct parser *p, size_t *count)
{
	uint8_t ch;
	*count = 0;
	while (cur_peek_u8(&p->c, 0, &ch) && ch >= '0' && ch <= '9') {
		cur_skip(&p->c, 1);
		(*count)++;
	}
	return *count > 0;
}

/* RFC 8259 section 6: -? int frac? exp?; the text is kept verbatim. */
static bool read_number(struct parser *p, jr_ref v)
{
	const uint8_t *s = p->c.p;
	uint8_t ch;
	size_t n;
	if (cur_peek_u8(&p->c, 0, &ch) && ch == '-')
		cur_skip(&p->c, 1);
	if (cur_peek_u8(&p->c, 0, &ch) && ch == '0')
		cur_skip(&p->c, 1);
	else if (!digits(p, &n))
		return fail(p, "bad number");
	if (cur_peek_u8(&p->c, 0, &ch) && ch == '.') {
		cur_skip(&p->c, 1);
		if (!digits(p, &n))
			return fail(p, "bad fraction");
	}
	if (cur_peek_u8(&p->c, 0, &ch) && (ch == 'e' || ch == 'E')) {
		cur_skip(&p->c, 1);
		if (cur_peek_u8(&p->c, 0, &ch) && (ch == '+' || ch == '-'))
			cur_skip(&p->c, 1);
		if (!digits(p, &n))
			return fail(p, "bad exponent");
	}
	size_t len = (size_t)(p->c.p - s);
	if (len > 64)
		return fail(p, "number too long");
	uint32_t off = (uint32_t)p->d->pool_len;
	if (!pool_put(p, s, len) || !pool_put(p, "", 1))
		return false;
	p->d->node[v].text = off;
	p->d->node[v].len = (uint32_t)len;
	return true;
}

/* ---- grammar ------------------------------------------------------------- */

static bool parse_value(struct parser *p, jr_ref *out, unsigned depth);

/* Link child after *last (or as first) of container v. */
static void link_child(struct jr_doc *d, jr_ref v, jr_ref *last, jr_ref child)
{
	if (*last == JR_NONE)
		d->node[v].first = child;
	else
		d->node[*last].next = child;
	*last = child;
	d->node[v].len++;
}

/* An object member's name and the ':' after it; *koff: the name's pool
 * offset. */
static bool parse_member_name(struct parser *p, uint32_t *koff)
{
	uint32_t klen;
	uint8_t ch;
	skip_ws(p);
	if (!cur_u8(&p->c, &ch) || ch != '"')
		return fail(p, "expected a member name");
	if (!read_string(p, koff, &klen))
		return false;
	skip_ws(p);
	if (!cur_u8(&p->c, &ch) || ch != ':')
		return fail(p, "expected :");
	return true;
}

/* The values of an array (close ']') or the members of an object (close
 * '}'), the opening bracket read, up to and including the closing one. */
static bool parse_items(struct parser *p, jr_ref v, unsigned depth, uint8_t close)
{
	bool object = close == '}';
	jr_ref last = JR_NONE, child;
	uint32_t koff = JR_NONE;
	uint8_t ch;
	skip_ws(p);
	if (cur_peek_u8(&p->c, 0, &ch) && ch == close) {
		cur_skip(&p->c, 1);
		return true;
	}
	for (;;) {
		if (object && !parse_member_name(p, &koff))
			return false;
		if (!parse_value(p, &child, depth + 1))
			return false;
		p->d->node[child].key = koff;
		link_child(p->d, v, &last, child);
		skip_ws(p);
		if (!cur_u8(&p->c, &ch))
			return fail(p, object ? "unterminated object" : "unterminated array");
		if (ch == close)
			return true;
		if (ch != ',')
			return fail(p, object ? "expected , or }" : "expected , or ]");
	}
}

static bool parse_value(struct parser *p, jr_ref *out, unsigned depth)
{
	uint8_t ch;
	jr_ref v;
	if (depth > JR_MAX_DEPTH)
		return fail(p, "nested too deeply");
	skip_ws(p);
	if (!cur_peek_u8(&p->c, 0, &ch))
		return fail(p, "unexpected end of input");
	switch (ch) {
	case '{':
	case '[':
		cur_skip(&p->c, 1);
		v = node_new(p, ch == '{' ? JR_OBJECT : JR_ARRAY);
		if (v == JR_NONE)
			return false;
		*out = v;
		return parse_items(p, v, depth, ch == '{' ? '}' : ']');
	case '"': {
		uint32_t off, len;
		cur_skip(&p->c, 1);
		v = node_new(p, JR_STRING);
		if (v == JR_NONE || !read_string(p, &off, &len))
			return false;
		p->d->node[v].text = off;
		p->d->node[v].len = len;
		*out = v;
		return true;
	}
	case 't':
	case 'f':
	case 'n':
		v = node_new(p, ch == 't' ? JR_TRUE : ch == 'f' ? JR_FALSE : JR_NULL);
		*out = v;
		return v != JR_NONE &&
		       expect_word(p, ch == 't' ? "true" : ch == 'f' ? "false" : "null");
	default:
		if (ch != '-' && (ch < '0' || ch > '9'))
			return fail(p, "unexpected character");
		v = node_new(p, JR_NUMBER);
		*out = v;
		return v != JR_NONE && read_number(p, v);
	}
}

/* The whole text is one JSON value, with nothing but white space after it. */
static bool parse_document(struct parser *p)
{
	jr_ref root;
	if (!parse_value(p, &root, 0))
		return false;
	skip_ws(p);
	return cur_left(&p->c) == 0 || fail(p, "text after the JSON value");
}

/* "line L, byte B: why" of the first failure. */
static void describe_failure(const struct parser *p, char *err, size_t errlen)
{
	unsigned long line = 1;
	for (size_t i = 0; i < p->why_at; i++)
		line += p->base[i] == '\n';
	snprintf(err, errlen, "line %lu, byte %zu: %s", line, p->why_at,
		 p->why ? p->why : "parse error");
}

struct jr_doc *jr_parse(const char *text, size_t len, char *err, size_t errlen)
{
	if (len > JR_MAX_INPUT) {
		snprintf(err, errlen, "larger than %u MiB", JR_MAX_INPUT >> 20);
		return NULL;
	}
	struct jr_doc *d = calloc(1, sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	struct parser p = { .d = d, .c = cur_make((const uint8_t *)text, len),
			    .base = (const uint8_t *)text };
	if (parse_document(&p))
		return d;
	describe_failure(&p, err, errlen);
	jr_free(d);
	return NULL;
}

void jr_free(struct jr_doc *d)
{
	if (!d)
		return;
	free(d->node);
	free(d->pool);
	free(d);
}

/* ---- access ------------------------------------------------------------ */

static const struct jr_node *node_at(const struct jr_doc *d, jr_ref v)
{
	return v < d->n_node ? &d->node[v] : NULL;
}

jr_ref jr_root(const struct jr_doc *d)
{
	return d->n_node ? 0 : JR_NONE;
}

enum jr_type jr_type(const struct jr_doc *d, jr_ref v)
{
	const struct jr_node *n = node_at(d, v);
	return n ? (enum jr_type)n->type : JR_NULL;
}

jr_ref jr_first(const struct jr_doc *d, jr_ref v)
{
	const struct jr_node *n = node_at(d, v);
	return n && (n->type == JR_ARRAY || n->type == JR_OBJECT) ? n->first : JR_NONE;
}

jr_ref jr_next(const struct jr_doc *d, jr_ref v)
{
	const struct jr_node *n = node_at(d, v);
	return n ? n->next : JR_NONE;
}

size_t jr_count(const struct jr_doc *d, jr_ref v)
{
	const struct jr_node *n = node_at(d, v);
	return n && (n->type == JR_ARRAY || n->type == JR_OBJECT) ? n->len : 0;
}

const char *jr_key(const struct jr_doc *d, jr_ref member)
{
	const struct jr_node *n = node_at(d, member);
	return n && n->key != JR_NONE ? d->pool + n->key : NULL;
}

jr_ref jr_get(const struct jr_doc *d, jr_ref obj, const char *key, bool *dup)
{
	jr_ref found = JR_NONE;
	*dup = false;
	if (jr_type(d, obj) != JR_OBJECT)
		return JR_NONE;
	for (jr_ref m = jr_first(d, obj); m != JR_NONE; m = jr_next(d, m)) {
		const char *k = jr_key(d, m);
		if (!k || strcmp(k, key) != 0)
			continue;
		if (found != JR_NONE) {
			*dup = true;
			return JR_NONE;
		}
		found = m;
	}
	return found;
}

int jr_str(const struct jr_doc *d, jr_ref v, const char **s, size_t *len)
{
	const struct jr_node *n = node_at(d, v);
	if (!n || n->type != JR_STRING)
		return -1;
	*s = d->pool + n->text;
	if (len)
		*len = n->len;
	return 0;
}

int jr_u64(const struct jr_doc *d, jr_ref v, uint64_t *out)
{
	const struct jr_node *n = node_at(d, v);
	if (!n || n->type != JR_NUMBER)
		return -1;
	const char *s = d->pool + n->text;
	uint64_t x = 0;
	if (n->len == 0)
		return -1;
	for (uint32_t i = 0; i < n->len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1; /* sign, fraction or exponent: not a count */
		unsigned dgt = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - dgt) / 10)
			return -1;
		x = x * 10 + dgt;
	}
	*out = x;
	return 0;
}

int jr_bool(const struct jr_doc *d, jr_ref v, bool *out)
{
	enum jr_type t = jr_type(d, v);
	if (node_at(d, v) == NULL || (t != JR_TRUE && t != JR_FALSE))
		return -1;
	*out = t == JR_TRUE;
	return 0;
}
