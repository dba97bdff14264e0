/* json.c - append-only JSON writer (RFC 8259). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = 1;
}

void json_reset(struct json *j)
{
	j->len = 0;
	j->depth = 0;
	j->first[0] = 1;
	j->oom = 0;
	if (j->buf)
		j->buf[0] = '\0';
}

void json_free(struct json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

/* Slow path of reserve(): grow the buffer by doubling. */
static int grow(struct json *j, size_t more)
{
	if (j->oom)
		return -1;
	size_t ncap = j->cap ? j->cap : 256;
	while (ncap < j->len + more + 1)
		ncap *= 2;
	char *nb = realloc(j->buf, ncap);
	if (!nb) {
		j->oom = 1;
		return -1;
	}
	j->buf = nb;
	j->cap = ncap;
	return 0;
}

/* Room for `more` bytes and the terminating NUL.  Inline because every
 * value goes through it several times: events are written per flow. */
static inline int reserve(struct json *j, size_t more)
{
	if (!j->oom && j->len + more + 1 <= j->cap)
		return 0;
	return grow(j, more);
}

static inline void put(struct json *j, const char *s, size_t n)
{
	if (reserve(j, n) < 0)
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static inline void putc1(struct json *j, char c)
{
	if (reserve(j, 1) < 0)
		return;
	j->buf[j->len++] = c;
	j->buf[j->len] = '\0';
}

/* Decimal digits of v written backwards so that they end at `end`;
 * returns where they start.  Replaces snprintf("%llu"), which was a
 * visible share of writing an event. */
static char *fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong, surrogate and out-of-range forms are invalid */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

/* Bytes that stand for themselves inside a JSON string: printable ASCII
 * except '"' and '\\'.  Everything else takes the slow path below. */
static const uint8_t plain_byte[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* \u00XX of one byte (lowercase hex, as "\\u%04x" would write it). */
static void put_u00(struct json *j, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };
	put(j, tmp, sizeof(tmp));
}

/* One element of s that is not a plain byte: an escape, a valid UTF-8
 * sequence copied as is, or \u00XX of a byte that is not UTF-8.
 * Returns the bytes consumed (at least 1). */
static size_t put_special(struct json *j, const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	char tmp[2] = { '\\', (char)c };
	switch (c) {
	case '"':
	case '\\':
		put(j, tmp, 2);
		return 1;
	case '\n':
		put(j, "\\n", 2);
		return 1;
	case '\r':
		put(j, "\\r", 2);
		return 1;
	case '\t':
		put(j, "\\t", 2);
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		put_u00(j, c);
		return 1;
	}
	size_t k = utf8_seq(s, n);
	if (k == 0) { /* not UTF-8: keep the byte visible */
		put_u00(j, c);
		return 1;
	}
	put(j, (const char *)s, k);
	return k;
}

/* Length of the leading run of plain bytes.  Keys and values are short
 * (a dozen bytes), where a table lookup per byte beats word-at-a-time
 * tests. */
static size_t plain_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n && plain_byte[s[i]])
		i++;
	return i;
}

/* `lead` (0 for none), then str quoted and escaped, then `trail` (0 for
 * none).  Keys and most values are nothing but plain bytes: they are
 * written with one copy; otherwise runs of plain bytes are copied at once
 * and the rest goes byte by byte. */
static void put_quoted(struct json *j, char lead, const char *str, size_t n, char trail)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = plain_run(s, n);
	if (i == n) {
		if (reserve(j, n + 4) < 0)
			return;
		char *o = j->buf + j->len;
		if (lead)
			*o++ = lead;
		*o++ = '"';
		memcpy(o, str, n);
		o += n;
		*o++ = '"';
		if (trail)
			*o++ = trail;
		*o = '\0';
		j->len = (size_t)(o - j->buf);
		return;
	}
	if (lead)
		putc1(j, lead);
	putc1(j, '"');
	put(j, str, i);
	while (i < n) {
		i += put_special(j, s + i, n - i);
		size_t run = plain_run(s + i, n - i);
		put(j, str + i, run);
		i += run;
	}
	putc1(j, '"');
	if (trail)
		putc1(j, trail);
}

static void put_escaped(struct json *j, const char *str, size_t n)
{
	put_quoted(j, 0, str, n, 0);
}

/* Comma and key before a value. */
static void member(struct json *j, const char *key)
{
	char comma = j->first[j->depth] ? 0 : ',';
	j->first[j->depth] = 0;
	if (key)
		put_quoted(j, comma, key, strlen(key), ':');
	else if (comma)
		putc1(j, comma);
}

static void open_(struct json *j, const char *key, char c)
{
	member(j, key);
	putc1(j, c);
	if (j->depth + 1 < JSON_MAX_DEPTH) {
		j->depth++;
		j->first[j->depth] = 1;
	} else {
		j->oom = 1; /* nesting beyond the cap: mark output unusable */
	}
}

static void close_(struct json *j, char c)
{
	putc1(j, c);
	if (j->depth > 0)
		j->depth--;
}

void json_obj_open(struct json *j, const char *key) { open_(j, key, '{'); }
void json_obj_close(struct json *j) { close_(j, '}'); }
void json_arr_open(struct json *j, const char *key) { open_(j, key, '['); }
void json_arr_close(struct json *j) { close_(j, ']'); }

void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	member(j, key);
	if (!s)
		put(j, "null", 4);
	else
		put_escaped(j, s, n);
}

void json_str(struct json *j, const char *key, const char *s)
{
	json_strn(j, key, s, s ? strlen(s) : 0);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp);
	/* magnitude in unsigned arithmetic: -INT64_MIN does not fit */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	char *p = fmt_u64(end, mag);
	if (v < 0)
		*--p = '-';
	member(j, key);
	put(j, p, (size_t)(end - p));
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	char tmp[24];
	char *end = tmp + sizeof(tmp);
	char *p = fmt_u64(end, v);
	member(j, key);
	put(j, p, (size_t)(end - p));
}

void json_bool(struct json *j, const char *key, bool v)
{
	member(j, key);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j, const char *key)
{
	member(j, key);
	put(j, "null", 4);
}

/* "%.*f" of v without printf when that is provably the same text: the
 * scaled magnitude is small enough that its rounding error stays below
 * 1e-6, and not within 1e-6 of a tie, where printf's exact rounding and
 * ours could differ.  Returns the length, or 0 to leave it to snprintf. */
static size_t fmt_fixed(char *out, double v, int decimals)
{
	static const double scale[10] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	};
	double x = fabs(v) * scale[decimals];
	if (!(x < 4e9))
		return 0;
	double ip = floor(x), frac = x - ip;
	if (fabs(frac - 0.5) < 1e-6)
		return 0;
	uint64_t u = (uint64_t)ip + (frac > 0.5);
	char tmp[40];
	char *end = tmp + sizeof(tmp), *p = end;
	for (int k = 0; k < decimals; k++) {
		*--p = (char)('0' + u % 10);
		u /= 10;
	}
	if (decimals > 0)
		*--p = '.';
	p = fmt_u64(p, u);
	if (signbit(v)) /* printf keeps the sign of -0.0 and of tiny negatives */
		*--p = '-';
	size_t n = (size_t)(end - p);
	memcpy(out, p, n);
	return n;
}

void json_double(struct json *j, const char *key, double v, int decimals)
{
	char tmp[64];
	member(j, key);
	if (!isfinite(v)) { /* JSON has no NaN/Inf */
		put(j, "null", 4);
		return;
	}
	if (decimals < 0 || decimals > 9)
		decimals = 3;
	size_t k = fmt_fixed(tmp, v, decimals);
	if (k > 0) {
		put(j, tmp, k);
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n > 0 && (size_t)n < sizeof(tmp))
		put(j, tmp, (size_t)n);
	else
		put(j, "null", 4);
}

void json_raw(struct json *j, const char *key, const char *text, size_t n)
{
	member(j, key);
	put(j, text, n);
}
