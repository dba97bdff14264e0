/* json.c - append-only JSON writer (RFC 8259). */
#include <inttypes.h>
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

static int reserve(struct json *j, size_t more)
{
	if (j->oom)
		return -1;
	if (j->len + more + 1 <= j->cap)
		return 0;
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

static void put(struct json *j, const char *s, size_t n)
{
	if (reserve(j, n) < 0)
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putc1(struct json *j, char c) { put(j, &c, 1); }

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

static void put_escaped(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[8];
	putc1(j, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			put(j, tmp, 2);
			i++;
		} else if (c == '\n') {
			put(j, "\\n", 2);
			i++;
		} else if (c == '\r') {
			put(j, "\\r", 2);
			i++;
		} else if (c == '\t') {
			put(j, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			put(j, tmp, 6);
			i++;
		} else {
			size_t k = utf8_seq(s + i, n - i);
			if (k == 0) { /* not UTF-8: keep the byte visible */
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				put(j, tmp, 6);
				i++;
			} else {
				put(j, (const char *)s + i, k);
				i += k;
			}
		}
	}
	putc1(j, '"');
}

/* Comma and key before a value. */
static void member(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		putc1(j, ',');
	j->first[j->depth] = 0;
	if (key) {
		put_escaped(j, key, strlen(key));
		putc1(j, ':');
	}
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
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	member(j, key);
	put(j, tmp, (size_t)n);
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	member(j, key);
	put(j, tmp, (size_t)n);
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
