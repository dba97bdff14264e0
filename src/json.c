/* json.c - append-only JSON writer (RFC 8259).
 *
 * Every flow event is some seventy members, so the cost per member is what
 * matters: a member is written with one capacity check, its key and value
 * copied straight into the buffer, and strings are tested for bytes that
 * need escaping sixteen at a time.  Only strings holding such bytes
 * (control characters, '"', '\\', anything outside ASCII) are escaped
 * element by element. */
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

/* Slow path of reserve(): grow the buffer by doubling.  A request that
 * could not be met without the sizes wrapping marks the output unusable. */
static int grow(struct json *j, size_t more)
{
	if (j->oom)
		return -1;
	if (more > (SIZE_MAX - j->len) / 4) {
		j->oom = 1;
		return -1;
	}
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

/* Room for `more` bytes and the terminating NUL.  len < cap whenever a
 * buffer exists (and both are 0 before), so the subtraction cannot wrap
 * and a huge `more` cannot pass as small. */
static inline int reserve(struct json *j, size_t more)
{
	if (!j->oom && more < j->cap - j->len)
		return 0;
	return grow(j, more);
}

/* Where the next byte goes; valid after a successful reserve(). */
static inline char *tail(struct json *j)
{
	return j->buf + j->len;
}

/* The bytes up to o were written: account for them and terminate. */
static inline void commit(struct json *j, char *o)
{
	*o = '\0';
	j->len = (size_t)(o - j->buf);
}

static inline void putc1(struct json *j, char c)
{
	if (reserve(j, 1) < 0)
		return;
	char *o = tail(j);
	*o++ = c;
	commit(j, o);
}

/* memcpy without the library call, which costs more than copying the
 * dozen bytes of a key or value: fixed-size moves, the last one
 * overlapping the one before when n is not a multiple.  Not calling
 * anything also spares the writers saving registers. */
static inline void copy_bytes(char *d, const char *s, size_t n)
{
	if (n >= 16) {
		for (size_t i = 0; n - i > 16; i += 16)
			memcpy(d + i, s + i, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n > 0) { /* first, middle and last byte cover 1 to 3 */
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	}
}

/* ---- numbers ------------------------------------------------------------ */

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v written backwards so that they end at `end`;
 * returns where they start.  Two digits per division: counters and
 * ports are written for every member of every event. */
static inline char *fmt_u64(char *end, uint64_t v)
{
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		end -= 2;
		memcpy(end, digit_pairs + 2 * r, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, digit_pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* How many decimal digits v has. */
static inline size_t dec_len(uint64_t v)
{
	size_t n = 1;
	for (uint64_t p = 10; v >= p && n < 20; p *= 10)
		n++;
	return n;
}

/* ---- strings ------------------------------------------------------------ */

/* Bytes that stand for themselves inside a JSON string: printable ASCII
 * except '"' and '\\'.  Everything else takes the slow path below. */
static const uint8_t plain_byte[256] = {
	[0x20] = 1, [0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

/* Sixteen bytes at a time, through GCC's vector extensions (which clang
 * shares): SSE2 on x86-64, NEON on arm64, plain code elsewhere, from
 * this one source. */
typedef signed char s8x16 __attribute__((vector_size(16)));
typedef uint64_t u64x2 __attribute__((vector_size(16)));

/* Whether any byte of v is special.  Read as signed bytes, the plain
 * ones are 0x20..0x7e but '"' and '\\' (0x80..0xff are negative), and
 * each comparison is exact byte by byte. */
static inline bool special16(s8x16 v)
{
	s8x16 bad = (v < 0x20) | (v == 0x7f) | (v == '"') | (v == '\\');
	u64x2 w = (u64x2)bad;
	return (w[0] | w[1]) != 0;
}

static inline s8x16 load16(const unsigned char *s)
{
	s8x16 v;
	memcpy(&v, s, 16);
	return v;
}

static inline s8x16 pair8(uint64_t a, uint64_t b)
{
	u64x2 w = { a, b };
	return (s8x16)w;
}

static inline uint64_t load8(const unsigned char *s)
{
	uint64_t w;
	memcpy(&w, s, 8);
	return w;
}

static inline uint64_t load4(const unsigned char *s)
{
	uint32_t w;
	memcpy(&w, s, 4);
	return w;
}

static inline uint64_t load2(const unsigned char *s)
{
	uint16_t w;
	memcpy(&w, s, 2);
	return w;
}

/* Plain bytes filling the lanes a short string leaves empty. */
#define PLAIN8 0x6161616161616161ull

static inline __attribute__((always_inline)) bool needs_escape(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	if (n >= 16) {
		size_t i = 0;
		for (; n - i > 16; i += 16)
			if (special16(load16(s + i)))
				return true;
		return special16(load16(s + n - 16));
	}
	/* Shorter strings are read as two overlapping pieces: which lane holds
	 * which byte, or a byte twice, does not change whether any is special. */
	if (n >= 8)
		return special16(pair8(load8(s), load8(s + n - 8)));
	if (n >= 4)
		return special16(pair8(load4(s) | load4(s + n - 4) << 32, PLAIN8));
	if (n >= 2)
		return special16(pair8(load2(s) | load2(s + n - 2) << 16 | PLAIN8 << 32, PLAIN8));
	return n == 1 && !plain_byte[s[0]];
}

bool json_needs_escape(const char *s, size_t n)
{
	return needs_escape(s, n);
}

size_t json_plain_run(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (n - i >= 16 && !special16(load16(s + i)))
		i += 16;
	/* the block with the special byte, or the last few bytes */
	while (i < n && plain_byte[s[i]])
		i++;
	return i;
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

/* \u00XX of one byte at o (lowercase hex, as "\\u%04x" would write it);
 * returns the end. */
static char *u00(char *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0x0f] };
	memcpy(o, tmp, sizeof(tmp));
	return o + sizeof(tmp);
}

/* One element of s that is not a plain byte, written at *o: an escape, a
 * valid UTF-8 sequence copied as is, or \u00XX of a byte that is not
 * UTF-8.  At most 6 bytes per byte consumed.  Returns the bytes consumed
 * (at least 1). */
static size_t escape_one(char **o, const unsigned char *s, size_t n)
{
	static const char short_esc[] = { ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't' };
	unsigned char c = s[0];
	if (c < sizeof(short_esc) && short_esc[c]) {
		(*o)[0] = '\\';
		(*o)[1] = short_esc[c];
		*o += 2;
		return 1;
	}
	size_t k = c < 0x20 || c == 0x7f ? 0 : utf8_seq(s, n);
	if (k == 0) { /* a control byte, or not UTF-8: keep the byte visible */
		*o = u00(*o, c);
		return 1;
	}
	memcpy(*o, s, k);
	*o += k;
	return k;
}

/* str quoted and escaped, for strings with bytes that need it: runs of
 * plain bytes are copied at once and the rest goes element by element,
 * all into room reserved once for the worst case. */
static void put_escaped(struct json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	if (n > (SIZE_MAX - 2) / 6) {
		j->oom = 1;
		return;
	}
	if (reserve(j, 6 * n + 2) < 0)
		return;
	char *o = tail(j);
	*o++ = '"';
	while (i < n) {
		size_t run = json_plain_run(str + i, n - i);
		memcpy(o, str + i, run);
		o += run;
		i += run;
		if (i < n)
			i += escape_one(&o, s + i, n - i);
	}
	*o++ = '"';
	commit(j, o);
}

/* ---- members ------------------------------------------------------------ */

/* A comma and an escaped key: member()'s path for keys that need it. */
static void escaped_key(struct json *j, bool comma, const char *key, size_t klen)
{
	if (comma)
		putc1(j, ',');
	put_escaped(j, key, klen);
	putc1(j, ':');
}

/* The comma and "key": before a value, with room reserved for `more`
 * bytes of value after them.  Returns where the value goes, NULL when out
 * of memory.  The general path; member_fast() below is the usual one. */
static char *member(struct json *j, const char *key, size_t klen, bool kplain, size_t more)
{
	bool comma = !j->first[j->depth];
	j->first[j->depth] = 0;
	if (key && !kplain && json_needs_escape(key, klen)) {
		escaped_key(j, comma, key, klen);
		key = NULL;
		comma = false;
	}
	if (!key)
		klen = 0;
	/* klen is a string's length and more is at most a value's length
	 * plus a few bytes: the sum cannot wrap */
	if (reserve(j, klen + 4 + more) < 0)
		return NULL;
	char *o = tail(j);
	if (comma)
		*o++ = ',';
	if (key) {
		*o++ = '"';
		copy_bytes(o, key, klen);
		o += klen;
		*o++ = '"';
		*o++ = ':';
	}
	return o;
}

/* member() for the usual case, inlined into every writer: a key known
 * plain (or none) and room already there.  NULL, having changed nothing,
 * when that is not the case, and the writer then calls its general path.
 * It calls nothing, so a writer's usual path calls nothing either: saving
 * and restoring registers around calls cost more than writing the bytes. */
static inline __attribute__((always_inline)) char *
member_fast(struct json *j, const char *key, size_t klen, bool kplain, size_t more)
{
	/* the sum cannot wrap, as in member() */
	if ((key && !kplain) || j->oom || klen + 4 + more >= j->cap - j->len)
		return NULL;
	char *o = tail(j);
	if (!j->first[j->depth])
		*o++ = ',';
	j->first[j->depth] = 0;
	if (key) {
		*o++ = '"';
		copy_bytes(o, key, klen);
		o += klen;
		*o++ = '"';
		*o++ = ':';
	}
	return o;
}

/* A value of n bytes that needs no escaping or quoting: the general path. */
static void raw_member(struct json *j, const char *key, size_t klen, bool kplain, const char *v, size_t n)
{
	char *o = member(j, key, klen, kplain, n);
	if (!o)
		return;
	memcpy(o, v, n);
	commit(j, o + n);
}

static inline __attribute__((always_inline)) void
member_raw(struct json *j, const char *key, size_t klen, bool kplain, const char *v, size_t n)
{
	char *o = member_fast(j, key, klen, kplain, n);
	if (!o) {
		raw_member(j, key, klen, kplain, v, n);
		return;
	}
	copy_bytes(o, v, n);
	commit(j, o + n);
}

static void open_(struct json *j, const char *key, size_t klen, bool kplain, char c)
{
	member_raw(j, key, klen, kplain, &c, 1);
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

void json_obj_open_k(struct json *j, const char *key, size_t klen, bool kplain)
{
	open_(j, key, klen, kplain, '{');
}

void json_packed_strs(struct json *j, const char *key, const char *buf, size_t buf_len,
		      const uint8_t *lens, unsigned n)
{
	size_t off = 0;
	json_arr_open(j, key);
	for (unsigned i = 0; i < n && off + lens[i] <= buf_len; off += lens[i++])
		json_strn(j, NULL, buf + off, lens[i]);
	json_arr_close(j);
}

void json_arr_open_k(struct json *j, const char *key, size_t klen, bool kplain)
{
	open_(j, key, klen, kplain, '[');
}

void json_obj_close(struct json *j)
{
	close_(j, '}');
}

void json_arr_close(struct json *j)
{
	close_(j, ']');
}

/* A string member, the general path: escapes, a key to test, growth. */
static void string_slow(struct json *j, const char *key, size_t klen, bool kplain,
			const char *s, size_t n)
{
	bool esc = needs_escape(s, n);
	/* n is the length of a string in memory: n + 2 cannot wrap */
	char *o = member(j, key, klen, kplain, esc ? 0 : n + 2);
	if (!o)
		return;
	if (esc) {
		commit(j, o);
		put_escaped(j, s, n);
		return;
	}
	*o++ = '"';
	memcpy(o, s, n);
	o += n;
	*o++ = '"';
	commit(j, o);
}

void json_strn_k(struct json *j, const char *key, size_t klen, bool kplain, const char *s, size_t n)
{
	if (!s) {
		member_raw(j, key, klen, kplain, "null", 4);
		return;
	}
	char *o = needs_escape(s, n) ? NULL : member_fast(j, key, klen, kplain, n + 2);
	if (!o) {
		string_slow(j, key, klen, kplain, s, n);
		return;
	}
	*o++ = '"';
	copy_bytes(o, s, n);
	o += n;
	*o++ = '"';
	commit(j, o);
}

/* A number member, its digits written in place. */
static inline __attribute__((always_inline)) void
number_member(struct json *j, const char *key, size_t klen, bool kplain, bool neg, uint64_t mag)
{
	size_t n = dec_len(mag) + neg;
	char *o = member_fast(j, key, klen, kplain, n);
	if (!o) {
		char tmp[24];
		char *p = fmt_u64(tmp + sizeof(tmp), mag);
		if (neg)
			*--p = '-';
		raw_member(j, key, klen, kplain, p, (size_t)(tmp + sizeof(tmp) - p));
		return;
	}
	if (neg)
		*o = '-';
	fmt_u64(o + n, mag);
	commit(j, o + n);
}

void json_int_k(struct json *j, const char *key, size_t klen, bool kplain, int64_t v)
{
	/* magnitude in unsigned arithmetic: -INT64_MIN does not fit */
	uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	number_member(j, key, klen, kplain, v < 0, mag);
}

void json_uint_k(struct json *j, const char *key, size_t klen, bool kplain, uint64_t v)
{
	number_member(j, key, klen, kplain, false, v);
}

void json_bool_k(struct json *j, const char *key, size_t klen, bool kplain, bool v)
{
	member_raw(j, key, klen, kplain, v ? "true" : "false", v ? 4 : 5);
}

void json_null_k(struct json *j, const char *key, size_t klen, bool kplain)
{
	member_raw(j, key, klen, kplain, "null", 4);
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

void json_double_k(struct json *j, const char *key, size_t klen, bool kplain, double v, int decimals)
{
	char tmp[64];
	if (!isfinite(v)) { /* JSON has no NaN/Inf */
		member_raw(j, key, klen, kplain, "null", 4);
		return;
	}
	if (decimals < 0 || decimals > 9)
		decimals = 3;
	size_t k = fmt_fixed(tmp, v, decimals);
	if (k > 0) {
		member_raw(j, key, klen, kplain, tmp, k);
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n > 0 && (size_t)n < sizeof(tmp))
		member_raw(j, key, klen, kplain, tmp, (size_t)n);
	else
		member_raw(j, key, klen, kplain, "null", 4);
}

void json_raw_k(struct json *j, const char *key, size_t klen, bool kplain, const char *text, size_t n)
{
	member_raw(j, key, klen, kplain, text, n);
}
