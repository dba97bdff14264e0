/* blockpage.h - known blockpages and censor answers (the --blockpages TSV
 * and the shipped data/blockpages.tsv), matched against DNS answers (RFC
 * 1035 section 3.4.1 A, RFC 3596 AAAA, section 3.3.1 CNAME) and HTTP
 * responses (RFC 9110 section 10.2.2 Location, 10.2.4 Server).
 *
 * File format: one entry a line, tab-separated, '#' starts a comment line:
 *
 *   MATCH<TAB>COUNTRY<TAB>NOTE
 *
 * MATCH is one of
 *   198.51.100.7 / 2001:db8::7   an address a censor answers with or serves
 *                                 its block page from (DNS answers, HTTP
 *                                 servers)
 *   cname:NAME                    a CNAME target of a DNS answer (exact,
 *                                 case-insensitive)
 *   location:PREFIX               an HTTP Location header starting so
 *   server:PREFIX                 an HTTP Server header starting so
 *   header:NAME:PREFIX            any other HTTP response header
 *   body:TEXT                     text within the first bytes of the body
 * COUNTRY is an ISO 3166 code or "-"; NOTE says where the entry comes
 * from (its public source).  Addresses live in an htab keyed with the
 * start-up seed; patterns are few and scanned in order.  Both are capped.
 */
#ifndef TS_BLOCKPAGE_H
#define TS_BLOCKPAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define BLOCKPAGE_MAX_ADDRS 65536
#define BLOCKPAGE_MAX_PATTERNS 1024
#define BLOCKPAGE_PATTERN_MAX 255
#define BLOCKPAGE_NOTE_MAX 191

enum blockpage_kind {
	BP_ADDR = 0,
	BP_CNAME,
	BP_LOCATION,
	BP_SERVER,
	BP_HEADER,
	BP_BODY,
};
/* "address", "cname", "location", "server", "header", "body" */
const char *blockpage_kind_name(enum blockpage_kind k);

struct blockpage {
	enum blockpage_kind kind;
	struct ts_addr addr;                  /* BP_ADDR */
	char header[64];                      /* BP_HEADER: the header's name */
	char pattern[BLOCKPAGE_PATTERN_MAX + 1];
	uint16_t pattern_len;
	char country[8];
	char note[BLOCKPAGE_NOTE_MAX + 1];
};

struct hseed;
struct blockpages;

struct blockpages *blockpages_new(const struct hseed *seed);
void blockpages_free(struct blockpages *bp);
/* Add a file's entries.  0, or -1 with a message naming the file and line. */
int blockpages_load(struct blockpages *bp, const char *path, char *err, size_t errlen);
/* Entries refused by the caps. */
uint64_t blockpages_refused(const struct blockpages *bp);
size_t blockpages_count(const struct blockpages *bp);

/* The entry for an address, or NULL.  bp may be NULL. */
const struct blockpage *blockpages_addr(const struct blockpages *bp, const struct ts_addr *a);
/* The entry for a CNAME target (text form), or NULL. */
const struct blockpage *blockpages_cname(const struct blockpages *bp, const char *name);

/* The first HTTP pattern matching a response: find(arg, name) gives the
 * value of response header `name` (NUL-terminated) or NULL; body/body_len
 * the first bytes of the body. */
typedef const char *(*blockpage_header_fn)(void *arg, const char *name);
const struct blockpage *blockpages_http(const struct blockpages *bp, blockpage_header_fn find,
					void *arg, const uint8_t *body, size_t body_len);

#endif
