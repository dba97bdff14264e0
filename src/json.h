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

/* `key` is NULL for array elements and the top-level value. */
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *s); /* NULL -> null */
void json_strn(struct json *j, const char *key, const char *s, size_t n);
void json_int(struct json *j, const char *key, int64_t v);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
void json_double(struct json *j, const char *key, double v, int decimals);
/* Append already-valid JSON text as a value (for merging reports). */
void json_raw(struct json *j, const char *key, const char *text, size_t n);

#endif
