/* testlist.h - Citizen Lab test lists: the category of each listed domain.
 *
 * Format (the CSV files of github.com/citizenlab/test-lists), RFC 4180:
 *   url,category_code,category_description,date_added,source,notes
 *   https://kloop.kg/,NEWS,News Media,2023-10-05,tamperscope,
 * Quoted fields may hold commas, doubled quotes and line breaks.  A first
 * record whose first field is "url" is the header; lines starting with '#'
 * are comments (tamperscope's own sample list uses one).
 *
 * The domain is the URL's host, lower-cased, without userinfo, port, a
 * trailing dot or a leading "www.".  A server name is matched against the
 * list with its parents: "cdn.www.kloop.kg" finds kloop.kg.
 *
 * Bad records (no category, a URL without a host, a broken quote, bytes
 * that cannot be in a host name, too long) are reported through a callback
 * with their line number and skipped: one bad line does not lose the list.
 * Nothing here prints.
 */
#ifndef TS_TESTLIST_H
#define TS_TESTLIST_H

#include <stddef.h>
#include <stdint.h>

#define TESTLIST_MAX_FILE (64u << 20)    /* bytes read from one file */
#define TESTLIST_MAX_FIELD 4096          /* bytes of one field */
#define TESTLIST_MAX_FIELDS 64           /* fields of one record */
#define TESTLIST_MAX_DOMAINS 1000000
#define TESTLIST_MAX_CATEGORIES 256
#define TESTLIST_CODE_MAX 32             /* category code length */
#define TESTLIST_DESC_MAX 64             /* category description kept */

struct testlist_stats {
	uint64_t records;         /* data records seen (header and comments excluded) */
	uint64_t domains;         /* distinct domains kept */
	uint64_t duplicates;      /* records for a domain already listed */
	uint64_t bad;             /* bad records, reported and skipped */
	uint64_t dropped_cap;     /* good records dropped by a cap */
};

struct testlist;
struct hseed;

/* Called once per bad record: its first line number (1-based) and why. */
typedef void (*testlist_bad_fn)(void *arg, unsigned long line, const char *why);

/* seed: the run's hash seed (engine_cfg.seed), copied; NULL: draw one
 * (merge and tests).  Domains are hashed with it (htab.h): a list is an
 * input file, and a crafted one must not pile its domains on one chain. */
struct testlist *testlist_new(const struct hseed *seed);
void testlist_free(struct testlist *tl);

/* Parse CSV text (any number of calls; later duplicates keep the first
 * category).  Returns 0; -1 only when memory runs out. */
int testlist_load_buffer(struct testlist *tl, const char *buf, size_t len,
			 testlist_bad_fn bad, void *arg);
/* Read a file.  -1 with err set when it cannot be read or is over
 * TESTLIST_MAX_FILE; bad records are not errors. */
int testlist_load_file(struct testlist *tl, const char *path, testlist_bad_fn bad,
		       void *arg, char *err, size_t errlen);

const struct testlist_stats *testlist_stats(const struct testlist *tl);

/* Category code of a server name (or of its nearest listed parent), NULL
 * when not listed.  The pointer lives as long as tl. */
const char *testlist_category(const struct testlist *tl, const char *name);

/* Categories in order of first appearance: code, description, number of
 * distinct listed domains.  Returns the number of categories. */
unsigned testlist_n_categories(const struct testlist *tl);
void testlist_category_at(const struct testlist *tl, unsigned i, const char **code,
			  const char **desc, uint64_t *domains);

/* The domain of a URL as the list keys it (see above), into out (at least
 * 254 bytes).  0 on success, -1 with *why set when there is no usable host. */
int testlist_url_domain(const char *url, char *out, size_t outlen, const char **why);

#endif
