/* blockpage.c - known blockpages: the TSV loader and the matchers for DNS
 * answers (RFC 1035 section 3.3.1, RFC 3596) and HTTP responses (RFC 9110
 * sections 10.2.2 and 10.2.4); the format is in blockpage.h. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blockpage.h"
#include "htab.h"

struct blockpages {
	struct hseed seed;
	struct htab addrs;                     /* struct blockpage *, BP_ADDR */
	struct blockpage *pat[BLOCKPAGE_MAX_PATTERNS];
	size_t n_pat, n_addr;
	uint64_t refused;
};

const char *blockpage_kind_name(enum blockpage_kind k)
{
	static const char *const names[] = { "address", "cname", "location", "server", "header",
					     "body" };
	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

struct blockpages *blockpages_new(const struct hseed *seed)
{
	struct blockpages *bp = calloc(1, sizeof(*bp));
	if (!bp)
		return NULL;
	if (seed)
		bp->seed = *seed;
	else
		hseed_draw(&bp->seed);
	if (htab_init(&bp->addrs, 64, BLOCKPAGE_MAX_ADDRS * 2) < 0) {
		free(bp);
		return NULL;
	}
	return bp;
}

void blockpages_free(struct blockpages *bp)
{
	if (!bp)
		return;
	void *e;
	for (uint32_t i = 0; (e = htab_next(&bp->addrs, &i));)
		free(e);
	htab_free(&bp->addrs);
	for (size_t i = 0; i < bp->n_pat; i++)
		free(bp->pat[i]);
	free(bp);
}

uint64_t blockpages_refused(const struct blockpages *bp) { return bp->refused; }
size_t blockpages_count(const struct blockpages *bp) { return bp->n_addr + bp->n_pat; }

static bool addr_eq(const void *entry, const void *key)
{
	return memcmp(&((const struct blockpage *)entry)->addr, key, sizeof(struct ts_addr)) == 0;
}

static bool parse_addr(const char *s, struct ts_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a + 12) == 1) {
		a->a[10] = a->a[11] = 0xff;
		a->v4 = 1;
		return true;
	}
	return inet_pton(AF_INET6, s, a->a) == 1;
}

/* The MATCH column into the entry.  NULL, or why it is not one. */
static const char *parse_match(char *m, struct blockpage *b)
{
	static const struct { const char *prefix; enum blockpage_kind kind; } kinds[] = {
		{ "cname:", BP_CNAME }, { "location:", BP_LOCATION }, { "server:", BP_SERVER },
		{ "header:", BP_HEADER }, { "body:", BP_BODY },
	};
	if (parse_addr(m, &b->addr)) {
		b->kind = BP_ADDR;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i].prefix);
		if (strncmp(m, kinds[i].prefix, n) != 0)
			continue;
		b->kind = kinds[i].kind;
		m += n;
		if (b->kind == BP_HEADER) {
			char *colon = strchr(m, ':');
			if (!colon || colon == m || (size_t)(colon - m) >= sizeof(b->header))
				return "header: wants NAME:PREFIX";
			memcpy(b->header, m, (size_t)(colon - m));
			m = colon + 1;
		}
		size_t len = strlen(m);
		if (len == 0 || len > BLOCKPAGE_PATTERN_MAX)
			return "empty or over-long pattern";
		memcpy(b->pattern, m, len + 1);
		b->pattern_len = (uint16_t)len;
		return NULL;
	}
	return "not an address nor cname:/location:/server:/header:/body:";
}

static void add_entry(struct blockpages *bp, struct blockpage *b)
{
	if (b->kind != BP_ADDR) {
		if (bp->n_pat >= BLOCKPAGE_MAX_PATTERNS) {
			bp->refused++;
			free(b);
			return;
		}
		bp->pat[bp->n_pat++] = b;
		return;
	}
	uint64_t h = hseed_hash(&bp->seed, &b->addr, sizeof(b->addr));
	if (htab_find(&bp->addrs, h, addr_eq, &b->addr)) { /* first entry wins */
		free(b);
		return;
	}
	if (bp->n_addr >= BLOCKPAGE_MAX_ADDRS || htab_insert(&bp->addrs, h, b) < 0) {
		bp->refused++;
		free(b);
		return;
	}
	bp->n_addr++;
}

/* One line (its newline gone).  NULL, or what is wrong with it. */
static const char *parse_line(struct blockpages *bp, char *line)
{
	char *f[3] = { line, NULL, NULL };
	for (int i = 1; i < 3; i++) {
		char *tab = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
		if (!tab)
			return i == 1 ? "wants MATCH<TAB>COUNTRY<TAB>NOTE" : NULL;
		*tab = '\0';
		f[i] = tab + 1;
	}
	struct blockpage *b = calloc(1, sizeof(*b));
	if (!b)
		return "out of memory";
	const char *why = parse_match(f[0], b);
	if (why) {
		free(b);
		return why;
	}
	snprintf(b->country, sizeof(b->country), "%s", f[1]);
	snprintf(b->note, sizeof(b->note), "%s", f[2] ? f[2] : "");
	add_entry(bp, b);
	return NULL;
}

int blockpages_load(struct blockpages *bp, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[1024];
	unsigned long no = 0;
	int rc = 0;
	while (fgets(line, sizeof(line), fp)) {
		no++;
		size_t n = strcspn(line, "\r\n");
		if (line[n] == '\0' && !feof(fp)) {
			snprintf(err, errlen, "%s:%lu: line too long", path, no);
			rc = -1;
			break;
		}
		line[n] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		const char *why = parse_line(bp, line);
		if (why) {
			snprintf(err, errlen, "%s:%lu: %s", path, no, why);
			rc = -1;
			break;
		}
	}
	fclose(fp);
	return rc;
}

const struct blockpage *blockpages_addr(const struct blockpages *bp, const struct ts_addr *a)
{
	if (!bp || !bp->n_addr)
		return NULL;
	return htab_find(&bp->addrs, hseed_hash(&bp->seed, a, sizeof(*a)), addr_eq, a);
}

const struct blockpage *blockpages_cname(const struct blockpages *bp, const char *name)
{
	for (size_t i = 0; bp && i < bp->n_pat; i++)
		if (bp->pat[i]->kind == BP_CNAME && strcasecmp(bp->pat[i]->pattern, name) == 0)
			return bp->pat[i];
	return NULL;
}

static bool has_prefix(const char *v, const struct blockpage *b)
{
	return v && strncmp(v, b->pattern, b->pattern_len) == 0;
}

static bool body_has(const uint8_t *body, size_t n, const struct blockpage *b)
{
	return body && n >= b->pattern_len && memmem(body, n, b->pattern, b->pattern_len);
}

const struct blockpage *blockpages_http(const struct blockpages *bp, blockpage_header_fn find,
					void *arg, const uint8_t *body, size_t body_len)
{
	for (size_t i = 0; bp && i < bp->n_pat; i++) {
		const struct blockpage *b = bp->pat[i];
		bool hit = false;
		switch (b->kind) {
		case BP_LOCATION: hit = has_prefix(find(arg, "location"), b); break;
		case BP_SERVER: hit = has_prefix(find(arg, "server"), b); break;
		case BP_HEADER: hit = has_prefix(find(arg, b->header), b); break;
		case BP_BODY: hit = body_has(body, body_len, b); break;
		default: break;
		}
		if (hit)
			return b;
	}
	return NULL;
}
