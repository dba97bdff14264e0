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

static inline bool cur_u8(struct cursor *c, uint8_t *v)
{
	if (c->len < 1)
		return false;
	*v = c->p[0];
	c->p += 1;
	c->len -= 1;
	return true;
}

static inline bool cur_be16(struct cursor *c, uint16_t *v)
{
	if (c->len < 2)
		return false;
	*v = (uint16_t)((c->p[0] << 8) | c->p[1]);
	c->p += 2;
	c->len -= 2;
	return true;
}

static inline bool cur_le16(struct cursor *c, uint16_t *v)
{
	if (c->len < 2)
		return false;
	*v = (uint16_t)((c->p[1] << 8) | c->p[0]);
	c->p += 2;
	c->len -= 2;
	return true;
}

static inline bool cur_be24(struct cursor *c, uint32_t *v)
{
	if (c->len < 3)
		return false;
	*v = ((uint32_t)c->p[0] << 16) | ((uint32_t)c->p[1] << 8) | c->p[2];
	c->p += 3;
	c->len -= 3;
	return true;
}

static inline bool cur_be32(struct cursor *c, uint32_t *v)
{
	if (c->len < 4)
		return false;
	*v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) |
	     ((uint32_t)c->p[2] << 8) | c->p[3];
	c->p += 4;
	c->len -= 4;
	return true;
}

static inline bool cur_le32(struct cursor *c, uint32_t *v)
{
	if (c->len < 4)
		return false;
	*v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) |
	     ((uint32_t)c->p[1] << 8) | c->p[0];
	c->p += 4;
	c->len -= 4;
	return true;
}

/* Copy n bytes out. */
static inline bool cur_bytes(struct cursor *c, void *out, size_t n)
{
	if (c->len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)out)[i] = c->p[i];
	c->p += n;
	c->len -= n;
	return true;
}

/* Split off the next n bytes as their own cursor (a length-prefixed
 * vector, an extension body), advancing the parent past them. */
static inline bool cur_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	if (c->len < n)
		return false;
	sub->p = c->p;
	sub->len = n;
	c->p += n;
	c->len -= n;
	return true;
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
