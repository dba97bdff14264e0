/* testlist.c - Citizen Lab test-list CSV (RFC 4180) to a domain -> category map. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "htab.h"
#include "testlist.h"
#include "util.h"

#define HOST_MAX 253
#define REC_MAX (TESTLIST_MAX_FIELD * 4) /* bytes of one record kept */
#define DOM_TABLE_INITIAL 256

struct tl_cat {
	char code[TESTLIST_CODE_MAX + 1];
	char desc[TESTLIST_DESC_MAX + 1];
	uint64_t domains;
};

struct tl_dom {
	uint16_t cat;
	uint16_t len;             /* at most HOST_MAX */
	char name[];              /* len bytes and a NUL */
};

struct testlist {
	struct hseed seed;
	struct htab dom;          /* struct tl_dom, keyed by domain */
	struct tl_cat cat[TESTLIST_MAX_CATEGORIES];
	unsigned n_cat;
	struct testlist_stats st;
};

/* One parsed record: fields as NUL-terminated strings in buf. */
struct csv_rec {
	char buf[REC_MAX];
	size_t len;
	size_t fstart;            /* offset of the field being read */
	const char *field[TESTLIST_MAX_FIELDS];
	unsigned n;
	unsigned long line;       /* first line of the record */
	const char *why;          /* NULL: well-formed */
};

struct testlist *testlist_new(const struct hseed *seed)
{
	struct testlist *tl = calloc(1, sizeof(*tl));
	/* twice the domain cap: the table is never more than half full */
	if (!tl || htab_init(&tl->dom, DOM_TABLE_INITIAL, 2 * TESTLIST_MAX_DOMAINS) < 0) {
		free(tl);
		return NULL;
	}
	hseed_or_draw(&tl->seed, seed);
	return tl;
}

void testlist_free(struct testlist *tl)
{
	if (!tl)
		return;
	htab_free_all(&tl->dom, free);
	free(tl);
}

const struct testlist_stats *testlist_stats(const struct testlist *tl)
{
	return &tl->st;
}

/* ---- domain table ------------------------------------------------------- */

/* A domain is looked up as a struct htab_bytes: not necessarily
 * NUL-terminated. */
static bool dom_eq(const void *entry, const void *key)
{
	const struct tl_dom *d = entry;
	return htab_bytes_eq(key, d->name, d->len);
}

static const struct tl_dom *dom_find(const struct testlist *tl, const char *name, size_t n)
{
	struct htab_bytes k = { name, n };
	return htab_find(&tl->dom, hseed_hash(&tl->seed, name, n), dom_eq, &k);
}

/* 1 added, 0 already there, -1 out of memory, -2 over a cap. */
static int dom_add(struct testlist *tl, const char *name, uint16_t cat)
{
	size_t n = strlen(name);
	if (dom_find(tl, name, n))
		return 0;
	if (tl->dom.used >= TESTLIST_MAX_DOMAINS || n > HOST_MAX)
		return -2;
	struct tl_dom *d = malloc(sizeof(*d) + n + 1);
	if (!d)
		return -1;
	d->cat = cat;
	d->len = (uint16_t)n;
	memcpy(d->name, name, n + 1);
	/* Refused only when the table is at its size cap with this key's probe
	 * window full: a cap like the domain count, not a failed load. */
	if (htab_insert(&tl->dom, hseed_hash(&tl->seed, name, n), d) < 0) {
		free(d);
		return -2;
	}
	return 1;
}

/* ---- categories --------------------------------------------------------- */

/* Index of the category code (upper-cased), added if new; -1 when the
 * table is full. */
static int cat_index(struct testlist *tl, const char *code, const char *desc)
{
	for (unsigned i = 0; i < tl->n_cat; i++)
		if (strcmp(tl->cat[i].code, code) == 0)
			return (int)i;
	if (tl->n_cat >= TESTLIST_MAX_CATEGORIES)
		return -1;
	struct tl_cat *c = &tl->cat[tl->n_cat];
	snprintf(c->code, sizeof(c->code), "%s", code);
	/* printable ASCII only: descriptions reach terminals and reports */
	size_t j = 0;
	for (size_t i = 0; desc && desc[i] && j < TESTLIST_DESC_MAX; i++) {
		unsigned char ch = (unsigned char)desc[i];
		c->desc[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	c->desc[j] = '\0';
	c->domains = 0;
	return (int)tl->n_cat++;
}

unsigned testlist_n_categories(const struct testlist *tl)
{
	return tl->n_cat;
}

void testlist_category_at(const struct testlist *tl, unsigned i, const char **code,
			  const char **desc, uint64_t *domains)
{
	if (i >= tl->n_cat) {
		*code = *desc = NULL;
		*domains = 0;
		return;
	}
	*code = tl->cat[i].code;
	*desc = tl->cat[i].desc;
	*domains = tl->cat[i].domains;
}

/* A category code as used by Citizen Lab (NEWS, HUMR, ANON, ...):
 * [A-Za-z0-9_-]{1,32}, upper-cased into out. */
static int clean_code(const char *in, char *out)
{
	while (*in == ' ')
		in++;
	size_t n = strlen(in);
	while (n && in[n - 1] == ' ')
		n--;
	if (n == 0 || n > TESTLIST_CODE_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (!isalnum(c) && c != '_' && c != '-')
			return -1;
		out[i] = (char)toupper(c);
	}
	out[n] = '\0';
	return 0;
}

/* ---- URL to domain ------------------------------------------------------ */

static bool host_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* The host of an authority whose userinfo is gone: an IPv6 literal without
 * its brackets, or a name without its port, checked byte by byte.  0, or
 * -1 with *why set. */
static int authority_host(const char **host, size_t *hlen, const char **why)
{
	const char *h = *host;
	size_t n = *hlen;
	if (n && h[0] == '[') { /* IPv6 literal */
		const char *close = memchr(h, ']', n);
		if (!close) {
			*why = "unterminated IPv6 literal";
			return -1;
		}
		h++;
		n = (size_t)(close - h);
		for (size_t i = 0; i < n; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.') {
				*why = "bad IPv6 literal";
				return -1;
			}
	} else {
		const char *colon = memchr(h, ':', n);
		if (colon) {
			for (const char *s = colon + 1; s < h + n; s++)
				if (!isdigit((unsigned char)*s)) {
					*why = "bad port";
					return -1;
				}
			n = (size_t)(colon - h);
		}
		for (size_t i = 0; i < n; i++)
			if (!host_char((unsigned char)h[i])) {
				*why = "host has bytes not allowed in a domain name";
				return -1;
			}
	}
	*host = h;
	*hlen = n;
	return 0;
}

int testlist_url_domain(const char *url, char *out, size_t outlen, const char **why)
{
	*why = NULL;
	while (*url == ' ' || *url == '\t')
		url++;
	const char *p = strstr(url, "://");
	if (p) {
		for (const char *s = url; s < p; s++)
			if (!isalnum((unsigned char)*s) && *s != '+' && *s != '-' && *s != '.') {
				*why = "bad URL scheme";
				return -1;
			}
		p += 3;
	} else {
		p = url; /* a bare host, as some lists have */
	}
	size_t end = strlen(p);
	while (end && (p[end - 1] == ' ' || p[end - 1] == '\t'))
		end--;
	size_t alen = strcspn(p, "/?#");
	if (alen > end)
		alen = end;
	const char *at = memchr(p, '@', alen);
	while (at) { /* userinfo ends at the last '@' */
		alen -= (size_t)(at + 1 - p);
		p = at + 1;
		at = memchr(p, '@', alen);
	}
	const char *host = p;
	size_t hlen = alen;
	if (authority_host(&host, &hlen, why) < 0)
		return -1;
	while (hlen && host[hlen - 1] == '.')
		hlen--;
	if (hlen == 0) {
		*why = "URL without a host";
		return -1;
	}
	if (hlen > HOST_MAX || hlen + 1 > outlen) {
		*why = "host too long";
		return -1;
	}
	ascii_lower_n(out, host, hlen);
	out[hlen] = '\0';
	if (host[0] != '[' && (out[0] == '.' || strstr(out, ".."))) {
		*why = "empty label in host";
		return -1;
	}
	/* "www.example.org" is listed as example.org; "www.com" stays */
	if (strncmp(out, "www.", 4) == 0 && strchr(out + 4, '.'))
		memmove(out, out + 4, strlen(out + 4) + 1);
	return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

static void rec_put(struct csv_rec *r, char c, size_t *flen)
{
	if (r->why)
		return;
	if (c == '\0') {
		r->why = "NUL byte";
		return;
	}
	if (*flen >= TESTLIST_MAX_FIELD || r->len + 1 >= REC_MAX) {
		r->why = "field too long";
		return;
	}
	r->buf[r->len++] = c;
	(*flen)++;
}

static void rec_end_field(struct csv_rec *r)
{
	if (r->why)
		return;
	if (r->n >= TESTLIST_MAX_FIELDS) {
		r->why = "too many fields";
		return;
	}
	r->buf[r->len++] = '\0';
	r->field[r->n++] = r->buf + r->fstart;
	r->fstart = r->len;
}

static void skip_line(struct cursor *c, unsigned long *line)
{
	uint8_t ch;
	while (cur_u8(c, &ch))
		if (ch == '\n') {
			(*line)++;
			return;
		}
}

/* A quoted field, the opening quote consumed.  0 ok, -1 unterminated. */
static int read_quoted(struct cursor *c, unsigned long *line, struct csv_rec *r, size_t *flen)
{
	uint8_t ch, next;
	while (cur_u8(c, &ch)) {
		if (ch == '"') {
			if (cur_peek_u8(c, 0, &next) && next == '"') {
				cur_skip(c, 1);
				rec_put(r, '"', flen);
				continue;
			}
			return 0;
		}
		if (ch == '\n')
			(*line)++;
		rec_put(r, (char)ch, flen);
	}
	return -1;
}

/* Read one record.  Returns false at the end of input.  A malformed record
 * has r->why set and has been skipped up to its end. */
static bool read_record(struct cursor *c, unsigned long *line, struct csv_rec *r)
{
	if (cur_left(c) == 0)
		return false;
	r->len = 0;
	r->fstart = 0;
	r->n = 0;
	r->why = NULL;
	r->line = *line;
	struct cursor start = *c;
	unsigned long start_line = *line;
	size_t flen = 0;
	uint8_t ch;
	bool at_field_start = true;

	for (;;) {
		if (at_field_start && cur_peek_u8(c, 0, &ch) && ch == '"') {
			cur_skip(c, 1);
			if (read_quoted(c, line, r, &flen) < 0) {
				/* resynchronise on the next line instead of losing the
				 * rest of the file to one stray quote */
				*c = start;
				*line = start_line;
				skip_line(c, line);
				r->why = "unterminated quoted field";
				return true;
			}
			at_field_start = false;
			if (cur_peek_u8(c, 0, &ch) && ch != ',' && ch != '\n' && ch != '\r') {
				r->why = "text after a closing quote";
				skip_line(c, line);
				return true;
			}
			continue;
		}
		if (!cur_u8(c, &ch)) {
			rec_end_field(r);
			return true;
		}
		at_field_start = false;
		if (ch == ',') {
			rec_end_field(r);
			flen = 0;
			at_field_start = true;
		} else if (ch == '\n') {
			(*line)++;
			rec_end_field(r);
			return true;
		} else if (ch == '\r') {
			if (!(cur_peek_u8(c, 0, &ch) && ch == '\n'))
				rec_put(r, '\r', &flen);
		} else if (ch == '"') {
			r->why = "quote inside an unquoted field";
			skip_line(c, line);
			return true;
		} else {
			rec_put(r, (char)ch, &flen);
		}
	}
}

static void report_bad(struct testlist *tl, testlist_bad_fn bad, void *arg,
		       unsigned long line, const char *why)
{
	tl->st.bad++;
	if (bad)
		bad(arg, line, why);
}

/* 0 or -1 when memory ran out. */
static int take_record(struct testlist *tl, const struct csv_rec *r, testlist_bad_fn bad,
		       void *arg)
{
	char code[TESTLIST_CODE_MAX + 1], dom[HOST_MAX + 1];
	const char *why = NULL;
	if (r->n < 2) {
		report_bad(tl, bad, arg, r->line, "fewer than 2 fields (url,category_code)");
		return 0;
	}
	if (clean_code(r->field[1], code) < 0) {
		report_bad(tl, bad, arg, r->line, "bad category_code");
		return 0;
	}
	if (testlist_url_domain(r->field[0], dom, sizeof(dom), &why) < 0) {
		report_bad(tl, bad, arg, r->line, why);
		return 0;
	}
	if (dom_find(tl, dom, strlen(dom))) {
		tl->st.duplicates++; /* the first category stays */
		return 0;
	}
	int ci = cat_index(tl, code, r->n > 2 ? r->field[2] : "");
	if (ci < 0) {
		tl->st.dropped_cap++;
		return 0;
	}
	int rc = dom_add(tl, dom, (uint16_t)ci);
	if (rc == -1)
		return -1;
	if (rc == -2) {
		tl->st.dropped_cap++;
	} else {
		tl->st.domains++;
		tl->cat[ci].domains++;
	}
	return 0;
}

static bool is_blank(const struct csv_rec *r)
{
	return r->n == 1 && r->field[0][0] == '\0';
}

int testlist_load_buffer(struct testlist *tl, const char *buf, size_t len,
			 testlist_bad_fn bad, void *arg)
{
	struct csv_rec *r = malloc(sizeof(*r));
	if (!r)
		return -1;
	struct cursor c = cur_make((const uint8_t *)buf, len);
	unsigned long line = 1;
	uint8_t b0, b1, b2;
	if (cur_peek_u8(&c, 0, &b0) && cur_peek_u8(&c, 1, &b1) && cur_peek_u8(&c, 2, &b2) &&
	    b0 == 0xef && b1 == 0xbb && b2 == 0xbf)
		cur_skip(&c, 3); /* UTF-8 byte order mark */
	bool first = true;
	int rc = 0;
	for (;;) {
		uint8_t ch;
		if (cur_peek_u8(&c, 0, &ch) && ch == '#') {
			skip_line(&c, &line);
			continue;
		}
		if (!read_record(&c, &line, r))
			break;
		if (r->why) {
			report_bad(tl, bad, arg, r->line, r->why);
			first = false;
			continue;
		}
		if (is_blank(r))
			continue;
		if (first && strcasecmp(r->field[0], "url") == 0) {
			first = false; /* header */
			continue;
		}
		first = false;
		tl->st.records++;
		if (take_record(tl, r, bad, arg) < 0) {
			rc = -1;
			break;
		}
	}
	free(r);
	return rc;
}

int testlist_load_file(struct testlist *tl, const char *path, testlist_bad_fn bad,
		       void *arg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;
	switch (slurp_file(f, TESTLIST_MAX_FILE, &buf, &len)) {
	case SLURP_OK:
		rc = testlist_load_buffer(tl, buf, len, bad, arg);
		if (rc < 0)
			snprintf(err, errlen, "%s: out of memory", path);
		free(buf);
		break;
	case SLURP_TOO_BIG:
		snprintf(err, errlen, "%s: larger than %u MiB", path, TESTLIST_MAX_FILE >> 20);
		break;
	case SLURP_NO_MEMORY:
		snprintf(err, errlen, "%s: out of memory", path);
		break;
	case SLURP_READ_ERROR:
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		break;
	}
	fclose(f);
	return rc;
}

/* ---- lookup ------------------------------------------------------------- */

const char *testlist_category(const struct testlist *tl, const char *name)
{
	char low[HOST_MAX + 2];
	size_t n = strnlen(name, HOST_MAX + 1);
	while (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > HOST_MAX || tl->dom.used == 0)
		return NULL;
	ascii_lower_n(low, name, n);
	low[n] = '\0';
	/* the name, then each parent: a.b.example.org, b.example.org, ... */
	const char *p = low;
	for (;;) {
		const struct tl_dom *d = dom_find(tl, p, strlen(p));
		if (d)
			return tl->cat[d->cat].code;
		p = strchr(p, '.');
		if (!p || !p[1])
			return NULL;
		p++;
	}
}
