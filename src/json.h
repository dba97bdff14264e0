/* json.h - a small append-only JSON writer for events and reports.
 *
 * Values are appended to a growable buffer; commas and nesting are tracked
 * so callers only name keys and values.  Strings are escaped per RFC 8259
 * section 7; bytes that are not valid UTF-8 (an SNI can hold anything) are
 * written as \u00XX of the byte, so the output is always valid JSON.
 */
#ifndef TS_JSON_H
#define TS_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JSON_MAX_DEPTH 32

struct json {
	char *buf;
	size_t len, cap;
	int depth;
	uint8_t first[JSON_MAX_DEPTH]; /* no member written yet at this depth */
	uint8_t oom;                   /* an allocation failed: output unusable */
};

void json_init(struct json *j);
void json_reset(struct json *j);   /* empty the buffer, keep the memory */
void json_free(struct json *j);

/* The writers take a key with its length and whether it is known to need
 * no escaping.  Call them through the inline forms further down, which
 * work both out from the key: for a literal key (nearly every key) the
 * compiler does, so neither strlen nor the escaping test runs.  Any other
 * key is measured and tested as it comes; keys holding '"', '\\' or bytes
 * outside printable ASCII are escaped like any string. */
void json_obj_open_k(struct json *j, const char *key, size_t klen, bool kplain);
void json_arr_open_k(struct json *j, const char *key, size_t klen, bool kplain);
void json_strn_k(struct json *j, const char *key, size_t klen, bool kplain, const char *s, size_t n);
void json_int_k(struct json *j, const char *key, size_t klen, bool kplain, int64_t v);
void json_uint_k(struct json *j, const char *key, size_t klen, bool kplain, uint64_t v);
void json_bool_k(struct json *j, const char *key, size_t klen, bool kplain, bool v);
void json_null_k(struct json *j, const char *key, size_t klen, bool kplain);
void json_double_k(struct json *j, const char *key, size_t klen, bool kplain, double v, int decimals);
void json_raw_k(struct json *j, const char *key, size_t klen, bool kplain, const char *text, size_t n);

/* Every byte that needs escaping in a JSON string but NUL. */
#define JSON_KEY_SPECIALS \
	"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10" \
	"\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x22" \
	"\x5c\x7f\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89\x8a\x8b\x8c\x8d" \
	"\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98\x99\x9a\x9b\x9c\x9d" \
	"\x9e\x9f\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad" \
	"\xae\xaf\xb0\xb1\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xbb\xbc\xbd" \
	"\xbe\xbf\xc0\xc1\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xcb\xcc\xcd" \
	"\xce\xcf\xd0\xd1\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xdb\xdc\xdd" \
	"\xde\xdf\xe0\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xeb\xec\xed" \
	"\xee\xef\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd" \
	"\xfe\xff"

static inline size_t json_keylen(const char *key)
{
	return key ? strlen(key) : 0;
}

/* True only when the compiler can see the key and that it holds nothing
 * to escape: GCC folds strcspn and strlen of a literal.  Anything else
 * (a variable, -O0, another compiler) is false, and the key is tested at
 * run time; the output is the same either way. */
static inline bool json_key_plain(const char *key)
{
	return key && __builtin_constant_p(strcspn(key, JSON_KEY_SPECIALS) == strlen(key)) &&
	       strcspn(key, JSON_KEY_SPECIALS) == strlen(key);
}

#define JSON_KEY(key) (key), json_keylen(key), json_key_plain(key)

/* `key` is NULL for array elements and the top-level value. */
static inline void json_obj_open(struct json *j, const char *key)
{
	json_obj_open_k(j, JSON_KEY(key));
}
void json_obj_close(struct json *j);
static inline void json_arr_open(struct json *j, const char *key)
{
	json_arr_open_k(j, JSON_KEY(key));
}
void json_arr_close(struct json *j);
/* NULL -> null.  The string is measured here, where the compiler can see
 * a literal's length. */
static inline void json_str(struct json *j, const char *key, const char *s)
{
	json_strn_k(j, JSON_KEY(key), s, s ? strlen(s) : 0);
}
static inline void json_strn(struct json *j, const char *key, const char *s, size_t n)
{
	json_strn_k(j, JSON_KEY(key), s, n);
}
static inline void json_int(struct json *j, const char *key, int64_t v)
{
	json_int_k(j, JSON_KEY(key), v);
}
static inline void json_uint(struct json *j, const char *key, uint64_t v)
{
	json_uint_k(j, JSON_KEY(key), v);
}
static inline void json_bool(struct json *j, const char *key, bool v)
{
	json_bool_k(j, JSON_KEY(key), v);
}
static inline void json_null(struct json *j, const char *key)
{
	json_null_k(j, JSON_KEY(key));
}
static inline void json_double(struct json *j, const char *key, double v, int decimals)
{
	json_double_k(j, JSON_KEY(key), v, decimals);
}
/* An array of the n strings packed back to back in buf (buf_len bytes),
 * the i-th lens[i] bytes long; one that would run past buf ends it. */
void json_packed_strs(struct json *j, const char *key, const char *buf, size_t buf_len,
		      const uint8_t *lens, unsigned n);
/* Append already-valid JSON text as a value (for merging reports). */
static inline void json_raw(struct json *j, const char *key, const char *text, size_t n)
{
	json_raw_k(j, JSON_KEY(key), text, n);
}

/* Whether any of the n bytes of s needs escaping inside a JSON string
 * (anything but printable ASCII other than '"' and '\\'); and the length
 * of the leading run of bytes that do not.  Exposed for the unit tests,
 * which hold them to the byte-by-byte definition. */
bool json_needs_escape(const char *s, size_t n);
size_t json_plain_run(const char *s, size_t n);

#endif
