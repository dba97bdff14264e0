/* cursor.h - bounds-checked reader for every wire format tamperscope parses.
 *
 * A cursor is a pointer plus the number of bytes that remain.  Every read
 * checks the remaining length first and reports failure instead of reading
 * past the end, so a parser written only with these helpers cannot overrun
 * its input.  Length arithmetic never adds to a pointer before the check.
 */
#ifndef TS_CURSOR_H
#define TS_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t len; /* bytes remaining from p */
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
	struct cursor c = { p, p ? len : 0 };
	return c;
}

static inline size_t cur_left(const struct cursor *c) { return c->len; }

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (c->len < n)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* The fixed-width readers, one line each: name, type, bytes, and the value
 * from the bytes p[0..n-1].  Like every reader here, one that fails leaves
 * the cursor and *v as they were. */
#define CUR_READER(name, type, n, value)                          \
	static inline bool name(struct cursor *c, type *v)        \
	{                                                         \
		const uint8_t *p = c->p;                          \
		if (c->len < n)                                   \
			return false;                             \
		*v = (type)(value);                               \
		return cur_skip(c, n);                            \
	}
CUR_READER(cur_u8, uint8_t, 1, p[0])
CUR_READER(cur_be16, uint16_t, 2, p[0] << 8 | p[1])
CUR_READER(cur_le16, uint16_t, 2, p[1] << 8 | p[0])
CUR_READER(cur_be24, uint32_t, 3, (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2])
CUR_READER(cur_be32, uint32_t, 4,
	   (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3])
CUR_READER(cur_le32, uint32_t, 4,
	   (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0])
#undef CUR_READER

/* Copy n bytes out. */
static inline bool cur_bytes(struct cursor *c, void *out, size_t n)
{
	if (c->len < n)
		return false;
	memcpy(out, c->p, n);
	return cur_skip(c, n);
}

/* Split off the next n bytes as their own cursor (a length-prefixed
 * vector, an extension body), advancing the parent past them. */
static inline bool cur_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	if (c->len < n)
		return false;
	sub->p = c->p;
	sub->len = n;
	return cur_skip(c, n);
}

/* Peek without consuming. */
static inline bool cur_peek_u8(const struct cursor *c, size_t off, uint8_t *v)
{
	if (c->len <= off)
		return false;
	*v = c->p[off];
	return true;
}

#endif
