/* jsonread.h - a small strict JSON reader (RFC 8259) for untrusted input:
 * the reports that `tamperscope merge` reads back.
 *
 * The whole text is parsed into a tree of nodes held in two arrays (nodes
 * and a string pool), addressed by index.  Strict: exactly RFC 8259
 * grammar (no comments, no trailing commas, no leading zeros, no NaN),
 * strings must be valid UTF-8, escapes are decoded (surrogate pairs joined,
 * lone surrogates and \u0000 rejected), nothing may follow the value.
 * Bounded: input size, nesting depth, node count and string length are
 * capped; recursion depth equals the nesting cap.  Errors give the line
 * and byte offset.  Nothing here prints.
 */
#ifndef TS_JSONREAD_H
#define TS_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JR_MAX_INPUT (256u << 20)   /* bytes of one document */
#define JR_MAX_DEPTH 24             /* nested arrays/objects */
#define JR_MAX_NODES (16u << 20)    /* values in one document */
#define JR_MAX_STRING 65536         /* bytes of one decoded string */

enum jr_type { JR_NULL = 0, JR_FALSE, JR_TRUE, JR_NUMBER, JR_STRING, JR_ARRAY, JR_OBJECT };

typedef uint32_t jr_ref;
#define JR_NONE UINT32_MAX

struct jr_doc;

/* Parse len bytes.  NULL with err set ("line 3, byte 41: ...") when the
 * text is not one valid JSON value or a cap is reached. */
struct jr_doc *jr_parse(const char *text, size_t len, char *err, size_t errlen);
void jr_free(struct jr_doc *d);

jr_ref jr_root(const struct jr_doc *d);
enum jr_type jr_type(const struct jr_doc *d, jr_ref v);
/* Elements of an array / members of an object: first, then next. */
jr_ref jr_first(const struct jr_doc *d, jr_ref v);
jr_ref jr_next(const struct jr_doc *d, jr_ref v);
size_t jr_count(const struct jr_doc *d, jr_ref v);
/* The key of an object member. */
const char *jr_key(const struct jr_doc *d, jr_ref member);
/* Member `key` of an object; JR_NONE when absent or v is not an object.
 * *dup is set when the key appears more than once (a strict reader
 * refuses to guess which one was meant). */
jr_ref jr_get(const struct jr_doc *d, jr_ref obj, const char *key, bool *dup);

/* Typed values: 0, or -1 when the node has another type (or, for
 * jr_u64, is not a non-negative integer that fits 64 bits). */
int jr_str(const struct jr_doc *d, jr_ref v, const char **s, size_t *len);
int jr_u64(const struct jr_doc *d, jr_ref v, uint64_t *out);
int jr_bool(const struct jr_doc *d, jr_ref v, bool *out);

#endif
