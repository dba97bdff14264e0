/* intercept.c - known interception CAs: the TSV list loader and chain matching (file format in intercept.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert_info.h"
#include "intercept.h"
#include "util.h"

#define MAX_FILE_BYTES (64u << 20) /* far above INTERCEPT_MAX_ENTRIES full lines */

struct field {
	const char *p;
	size_t len;
};

static bool is_hex(char c)
{
	return hex_digit((unsigned char)c) >= 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static struct field trim(struct field f)
{
	while (f.len > 0 && is_space(f.p[0])) {
		f.p++;
		f.len--;
	}
	while (f.len > 0 && is_space(f.p[f.len - 1]))
		f.len--;
	return f;
}

static bool field_is(struct field f, const char *s)
{
	return f.len == strlen(s) && memcmp(f.p, s, f.len) == 0;
}

const char *intercept_kind_name(enum intercept_kind k)
{
	switch (k) {
	case INTERCEPT_FINGERPRINT: return "fingerprint";
	case INTERCEPT_PREFIX: return "prefix";
	case INTERCEPT_NAME: return "name";
	default: return "unknown";
	}
}

struct intercept_db *intercept_db_new(void)
{
	return calloc(1, sizeof(struct intercept_db));
}

void intercept_db_free(struct intercept_db *db)
{
	if (!db)
		return;
	free(db->e);
	free(db);
}

/* ---- one line -------------------------------------------------------------------------------------------------- */

/* Split on single tabs; returns the field count, max + 1 when there are too many. */
static int split_tabs(const char *p, size_t len, struct field *f, int max)
{
	int n = 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '\t')
			continue;
		if (n == max)
			return max + 1;
		f[n].p = p + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static const char *set_hash(struct field f, size_t full, bool prefix, char *dst, uint8_t *dst_len)
{
	f = trim(f);
	*dst_len = 0;
	dst[0] = '\0';
	if (field_is(f, "-") || f.len == 0)
		return NULL;
	if (prefix ? f.len < INTERCEPT_MIN_PREFIX || f.len > full : f.len != full)
		return prefix ? "a fingerprint prefix needs 8 hex digits at least (and no more than the full hash)"
			      : "a fingerprint has the wrong number of hex digits (SHA-1: 40, SHA-256: 64)";
	for (size_t i = 0; i < f.len; i++) {
		if (!is_hex(f.p[i]))
			return "a fingerprint holds a character that is not a hex digit";
		dst[i] = ascii_lower(f.p[i]);
	}
	dst[f.len] = '\0';
	*dst_len = (uint8_t)f.len;
	return NULL;
}

/* "ATTR=value,ATTR=value" patterns are kept as trimmed components inside e->subject. */
static const char *split_pattern(struct intercept_entry *e)
{
	const char *s = e->subject;
	size_t len = strlen(s), start = 0;
	if (!memchr(s, '=', len))
		return NULL;                  /* a plain substring */
	for (size_t i = 0; i <= len; i++) {
		struct field c;
		const char *eq;
		if (i < len && s[i] != ',')
			continue;
		c = trim((struct field){ s + start, i - start });
		start = i + 1;
		eq = c.len ? memchr(c.p, '=', c.len) : NULL;
		if (!eq || eq == c.p || eq == c.p + c.len - 1)
			return "a name pattern with '=' must be ATTR=value pairs separated by commas";
		if (e->n_attrs >= INTERCEPT_MAX_ATTRS)
			return "too many ATTR=value pairs in a name pattern (8 at most)";
		e->attr_off[e->n_attrs] = (uint16_t)(c.p - s);
		e->attr_len[e->n_attrs] = (uint16_t)c.len;
		e->n_attrs++;
	}
	return NULL;
}

static const char *parse_kind(struct field f, struct intercept_entry *e)
{
	f = trim(f);
	if (field_is(f, "fingerprint"))
		e->kind = INTERCEPT_FINGERPRINT;
	else if (field_is(f, "prefix"))
		e->kind = INTERCEPT_PREFIX;
	else if (field_is(f, "name"))
		e->kind = INTERCEPT_NAME;
	else
		return "kind must be fingerprint, prefix or name";
	return NULL;
}

static const char *copy_text(struct field f, char *dst, size_t cap, const char *what_long)
{
	f = trim(f);
	if (field_is(f, "-"))
		f.len = 0;
	if (f.len >= cap)
		return what_long;
	for (size_t i = 0; i < f.len; i++)
		if ((unsigned char)f.p[i] < 0x20 || f.p[i] == 0x7f)
			return "control character in a text field";
	memcpy(dst, f.p, f.len);
	dst[f.len] = '\0';
	return NULL;
}

static const char *parse_line(const char *p, size_t len, struct intercept_entry *e)
{
	struct field f[6];
	bool prefix;
	const char *why;

	memset(e, 0, sizeof(*e));
	if (split_tabs(p, len, f, 6) != 6)
		return "expected 6 tab-separated fields: label kind sha1 sha256 spki_sha256 subject";
	if ((why = copy_text(f[0], e->label, sizeof(e->label), "label longer than 63 bytes")))
		return why;
	if (e->label[0] == '\0')
		return "empty label";
	if ((why = parse_kind(f[1], e)))
		return why;
	prefix = e->kind == INTERCEPT_PREFIX;
	for (int i = 2; i <= 4 && e->kind == INTERCEPT_NAME; i++) {
		struct field h = trim(f[i]);
		if (h.len > 0 && !field_is(h, "-"))
			return "a name entry takes no fingerprints (use - )";
	}
	if ((why = set_hash(f[2], 40, prefix, e->sha1, &e->sha1_len)) ||
	    (why = set_hash(f[3], 64, prefix, e->sha256, &e->sha256_len)) ||
	    (why = set_hash(f[4], 64, prefix, e->spki_sha256, &e->spki_len)))
		return why;
	if ((why = copy_text(f[5], e->subject, sizeof(e->subject), "subject longer than 255 bytes")))
		return why;
	if (e->kind == INTERCEPT_NAME) {
		if (e->subject[0] == '\0')
			return "a name entry needs a subject pattern";
		return split_pattern(e);
	}
	if (!e->sha1_len && !e->sha256_len && !e->spki_len)
		return "a fingerprint or prefix entry needs at least one hash";
	return NULL;
}

/* ---- loading --------------------------------------------------------------------------------------------------- */

static bool push(struct intercept_db *db, const struct intercept_entry *e)
{
	if (db->n >= INTERCEPT_MAX_ENTRIES) {
		db->refused++;
		return true;
	}
	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 32;
		struct intercept_entry *ne = realloc(db->e, cap * sizeof(*ne));
		if (!ne)
			return false;
		db->e = ne;
		db->cap = cap;
	}
	db->e[db->n++] = *e;
	return true;
}

static bool skip_line(const char *p, size_t len)
{
	struct field f = trim((struct field){ p, len });
	return f.len == 0 || f.p[0] == '#';
}

int intercept_db_load_mem(struct intercept_db *db, const char *text, size_t len, const char *name, char *err,
			  size_t errlen)
{
	size_t n0 = db->n, off = 0;
	unsigned lineno = 0;
	struct intercept_entry e;
	const char *why = NULL;

	while (off < len && !why) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
		const char *line = text + off;
		off += ll + (nl ? 1 : 0);
		lineno++;
		if (ll > 0 && line[ll - 1] == '\r')
			ll--;
		if (memchr(line, '\0', ll))
			why = "NUL byte in the file";
		else if (ll > INTERCEPT_MAX_LINE)
			why = "line longer than 2048 bytes";
		else if (skip_line(line, ll))
			continue;
		else if (!(why = parse_line(line, ll, &e)) && !push(db, &e))
			why = "out of memory";
	}
	if (why) {
		db->n = n0;
		snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
		return -1;
	}
	return (int)(db->n - n0);
}

int intercept_db_load(struct intercept_db *db, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	switch (slurp_file(fp, MAX_FILE_BYTES, &buf, &len)) {
	case SLURP_OK:
		rc = intercept_db_load_mem(db, buf, len, path, err, errlen);
		free(buf);
		break;
	case SLURP_TOO_BIG:
		snprintf(err, errlen, "%s: file larger than 64 MB", path);
		break;
	case SLURP_NO_MEMORY:
		snprintf(err, errlen, "%s: out of memory", path);
		break;
	case SLURP_READ_ERROR:
		snprintf(err, errlen, "%s: read error", path);
		break;
	}
	fclose(fp);
	return rc;
}

/* ---- name patterns --------------------------------------------------------------------------------------------- */

static bool contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return false;
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] && ascii_lower(hay[i]) == ascii_lower(needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* Next character of an RFC 2253 value with its escapes undone ("\," -> ",", "\4B" -> "K"). */
static char unescape_next(const char **p, const char *end)
{
	const char *s = *p;
	if (s[0] == '\\' && end - s >= 3 && is_hex(s[1]) && is_hex(s[2])) {
		*p = s + 3;
		return (char)(hex_digit((unsigned char)s[1]) * 16 + hex_digit((unsigned char)s[2]));
	}
	if (s[0] == '\\' && end - s >= 2) {
		*p = s + 2;
		return s[1];
	}
	*p = s + 1;
	return s[0];
}

/* One name component "ATTR=value" (escaped) against one pattern pair (plain), ASCII case ignored; spaces
 * around '=' in the pattern do not count. */
static bool component_equals(struct field comp, struct field pat)
{
	const char *peq = memchr(pat.p, '=', pat.len);
	const char *ceq = memchr(comp.p, '=', comp.len);
	struct field pa, pv, ca;
	const char *c, *cend;
	size_t i = 0;

	if (!peq || !ceq)
		return false;
	pa = trim((struct field){ pat.p, (size_t)(peq - pat.p) });
	pv = trim((struct field){ peq + 1, (size_t)(pat.p + pat.len - peq - 1) });
	ca = trim((struct field){ comp.p, (size_t)(ceq - comp.p) });
	if (pa.len != ca.len)
		return false;
	for (size_t k = 0; k < pa.len; k++)
		if (ascii_lower(pa.p[k]) != ascii_lower(ca.p[k]))
			return false;
	c = ceq + 1;
	cend = comp.p + comp.len;
	while (c < cend) {
		char ch = unescape_next(&c, cend);
		if (i >= pv.len || ascii_lower(ch) != ascii_lower(pv.p[i]))
			return false;
		i++;
	}
	return i == pv.len;
}

/* Is pattern pair `pat` one of the components of `name`?  Components end at an unescaped ',' or '+'. */
static bool name_has(const char *name, struct field pat)
{
	const char *p = name, *start = name;
	for (;;) {
		if (*p == '\\' && p[1]) {
			p += 2;
			continue;
		}
		if (*p == ',' || *p == '+' || *p == '\0') {
			struct field comp = { start, (size_t)(p - start) };
			if (component_equals(comp, pat))
				return true;
			if (*p == '\0')
				return false;
			start = p + 1;
		}
		p++;
	}
}

bool intercept_name_matches(const struct intercept_entry *e, const char *name)
{
	if (e->kind != INTERCEPT_NAME || !name || !name[0])
		return false;
	if (e->n_attrs == 0)
		return contains_nocase(name, e->subject);
	for (unsigned i = 0; i < e->n_attrs; i++) {
		struct field pat = { e->subject + e->attr_off[i], e->attr_len[i] };
		if (!name_has(name, pat))
			return false;
	}
	return true;
}

/* ---- matching -------------------------------------------------------------------------------------------------- */

static bool hash_matches(const char *have, const char *want, uint8_t want_len)
{
	return want_len > 0 && strlen(have) >= want_len && memcmp(have, want, want_len) == 0;
}

static const char *const fp_fields[] = { "sha1", "sha256", "spki_sha256" };

/* Which fingerprint of e matches ci: an index into fp_fields, or -1. */
static int fingerprint_field(const struct intercept_entry *e, const struct cert_info *ci)
{
	if (hash_matches(ci->sha1, e->sha1, e->sha1_len))
		return 0;
	if (hash_matches(ci->sha256, e->sha256, e->sha256_len))
		return 1;
	if (hash_matches(ci->spki_sha256, e->spki_sha256, e->spki_len))
		return 2;
	return -1;
}

static void set_match(struct intercept_match *m, const struct intercept_entry *e, size_t cert, const char *field,
		      bool chain_trusted)
{
	m->label = e->label;
	m->kind = e->kind;
	m->cert = (uint8_t)cert;
	m->field = field;
	if (e->kind == INTERCEPT_FINGERPRINT)
		m->confidence = INTERCEPT_CONF_FINGERPRINT;
	else if (e->kind == INTERCEPT_PREFIX)
		m->confidence = INTERCEPT_CONF_PREFIX;
	else
		m->confidence = chain_trusted ? INTERCEPT_CONF_NAME_TRUSTED : INTERCEPT_CONF_NAME;
}

void intercept_match_cert(const struct intercept_db *db, const struct cert_info *ci, struct intercept_cert *out)
{
	*out = (struct intercept_cert){ .fp = -1, .name = -1 };
	for (size_t i = 0; db && i < db->n && out->fp < 0; i++) {
		int field;
		if (db->e[i].kind != INTERCEPT_NAME && (field = fingerprint_field(&db->e[i], ci)) >= 0) {
			out->fp = (int32_t)i;
			out->fp_field = (uint8_t)field;
		}
	}
	if (!ci->parsed)
		return;
	for (size_t i = 0; db && i < db->n; i++) {
		const struct intercept_entry *e = &db->e[i];
		if (e->kind != INTERCEPT_NAME)
			continue;
		bool subject = intercept_name_matches(e, ci->subject);
		if (subject || intercept_name_matches(e, ci->issuer)) {
			out->name = (int32_t)i;
			out->name_issuer = !subject;
			return;
		}
	}
}

/* One pass of the chain's match over certificate c's answer: fingerprints
 * (pass 0) or names (pass 1). */
static bool match_pass(const struct intercept_db *db, const struct intercept_cert *pre, size_t c, int pass,
		       bool chain_trusted, struct intercept_match *m)
{
	if (pass == 0 && pre->fp >= 0) {
		set_match(m, &db->e[pre->fp], c, fp_fields[pre->fp_field], chain_trusted);
		return true;
	}
	if (pass == 1 && pre->name >= 0) {
		set_match(m, &db->e[pre->name], c, pre->name_issuer ? "issuer" : "subject", chain_trusted);
		return true;
	}
	return false;
}

/* The chain's rule fed one certificate's answer at a time, leaf first: a
 * fingerprint match decides at once (true); the first name match is kept
 * in *name (at *name_at) for when no certificate matched by fingerprint. */
static bool chain_step(const struct intercept_db *db, const struct intercept_cert *pre, size_t c,
		       bool chain_trusted, struct intercept_match *m, struct intercept_cert *name, size_t *name_at)
{
	if (match_pass(db, pre, c, 0, chain_trusted, m))
		return true;
	if (pre->name >= 0 && name->name < 0) {
		*name = *pre;
		*name_at = c;
	}
	return false;
}

bool intercept_match_pre(const struct intercept_db *db, const struct intercept_cert *pre, size_t n,
			 bool chain_trusted, struct intercept_match *m)
{
	struct intercept_cert name = { .fp = -1, .name = -1 };
	size_t name_at = 0;
	memset(m, 0, sizeof(*m));
	for (size_t c = 0; db && c < n; c++)
		if (chain_step(db, &pre[c], c, chain_trusted, m, &name, &name_at))
			return true;
	return db && match_pass(db, &name, name_at, 1, chain_trusted, m);
}

bool intercept_match_chain(const struct intercept_db *db, const struct cert_info *chain, size_t n,
			   bool chain_trusted, struct intercept_match *m)
{
	struct intercept_cert pre, name = { .fp = -1, .name = -1 };
	size_t name_at = 0;
	memset(m, 0, sizeof(*m));
	for (size_t c = 0; db && c < n; c++) {
		intercept_match_cert(db, &chain[c], &pre); /* once per certificate */
		if (chain_step(db, &pre, c, chain_trusted, m, &name, &name_at))
			return true;
	}
	return db && match_pass(db, &name, name_at, 1, chain_trusted, m);
}
