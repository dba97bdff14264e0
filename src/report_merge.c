/* report_merge.c - `tamperscope merge`: read JSON reports back, sum their raw state, recompute. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asn.h"
#include "jsonread.h"
#include "out_html.h"
#include "out_report.h"
#include "report_merge.h"
#include "testlist.h"
#include "util.h"

/* One input being read: the document and where errors are reported. */
struct mctx {
	const struct jr_doc *d;
	struct report *r;
	char *err;
	size_t errlen;
	bool failed;
};

static int bad(struct mctx *m, const char *what, const char *detail)
{
	if (!m->failed)
		snprintf(m->err, m->errlen, "%s%s%s", what, detail ? ": " : "",
			 detail ? detail : "");
	m->failed = true;
	return -1;
}

/* ---- typed members ---------------------------------------------------- */

static jr_ref member(struct mctx *m, jr_ref obj, const char *key)
{
	bool dup;
	jr_ref v = jr_get(m->d, obj, key, &dup);
	if (dup)
		bad(m, "duplicate member", key);
	return v;
}

static int get_u64(struct mctx *m, jr_ref obj, const char *key, uint64_t *out)
{
	jr_ref v = member(m, obj, key);
	if (v == JR_NONE || jr_u64(m->d, v, out) < 0)
		return bad(m, "missing or not a non-negative integer", key);
	return 0;
}

/* A time that may be null: *have says which. */
static int get_opt_u64(struct mctx *m, jr_ref obj, const char *key, bool *have,
		       uint64_t *out)
{
	jr_ref v = member(m, obj, key);
	*have = false;
	*out = 0;
	if (v == JR_NONE || jr_type(m->d, v) == JR_NULL)
		return m->failed ? -1 : 0;
	if (jr_u64(m->d, v, out) < 0)
		return bad(m, "not a non-negative integer", key);
	*have = true;
	return 0;
}

static int get_bool(struct mctx *m, jr_ref obj, const char *key, bool *out)
{
	jr_ref v = member(m, obj, key);
	if (v == JR_NONE || jr_bool(m->d, v, out) < 0)
		return bad(m, "missing or not a boolean", key);
	return 0;
}

/* Text that reaches terminals and CSV: no control characters. */
static bool printable_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int get_text(struct mctx *m, jr_ref obj, const char *key, size_t max,
		    const char **out)
{
	size_t len;
	jr_ref v = member(m, obj, key);
	if (v == JR_NONE || jr_str(m->d, v, out, &len) < 0)
		return bad(m, "missing or not a string", key);
	if (len > max || !printable_text(*out))
		return bad(m, "too long or has control characters", key);
	return 0;
}

/* A category code as report.c keeps them, or null ("" in *out). */
static int get_category(struct mctx *m, jr_ref obj, const char **out)
{
	jr_ref v = member(m, obj, "category");
	*out = "";
	if (v == JR_NONE || jr_type(m->d, v) == JR_NULL)
		return m->failed ? -1 : 0;
	size_t len;
	if (jr_str(m->d, v, out, &len) < 0 || len == 0 || len > REPORT_CAT_MAX)
		return bad(m, "bad category", NULL);
	for (size_t i = 0; i < len; i++) {
		char c = (*out)[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return bad(m, "bad category", *out);
	}
	return 0;
}

/* The verdict counts; flows must be their sum. */
static int get_counts(struct mctx *m, jr_ref obj, struct report_counts *c)
{
	memset(c, 0, sizeof(*c));
	if (get_u64(m, obj, "flows", &c->flows) < 0)
		return -1;
	jr_ref vs = member(m, obj, "verdicts");
	if (jr_type(m->d, vs) != JR_OBJECT)
		return bad(m, "missing or not an object", "verdicts");
	uint64_t sum = 0;
	for (jr_ref e = jr_first(m->d, vs); e != JR_NONE; e = jr_next(m->d, e)) {
		enum verdict v;
		uint64_t n;
		if (verdict_from_name(jr_key(m->d, e), &v) < 0)
			return bad(m, "unknown verdict", jr_key(m->d, e));
		if (jr_u64(m->d, e, &n) < 0 || c->n[v])
			return bad(m, "bad or repeated verdict count", jr_key(m->d, e));
		if (n > UINT64_MAX - sum)
			return bad(m, "verdict counts overflow", NULL);
		c->n[v] = n;
		sum += n;
	}
	if (sum != c->flows)
		return bad(m, "verdict counts do not add up to flows", NULL);
	bool have;
	if (get_opt_u64(m, obj, "injected_flows", &have, &c->injected) < 0 ||
	    get_opt_u64(m, obj, "mitm_dns_manipulation", &have, &c->mitm_dns) < 0 ||
	    get_opt_u64(m, obj, "mitm_interception", &have, &c->mitm_interception) < 0)
		return -1;
	if (c->mitm_dns > c->flows || c->mitm_interception > c->flows - c->mitm_dns)
		return bad(m, "more certificate causes than flows", NULL);
	struct report_share s;
	report_counts_share(c, &s);
	if (c->injected > s.anomalies)
		return bad(m, "more injected flows than anomalies", NULL);
	if (get_opt_u64(m, obj, "quic_flows", &have, &c->quic_flows) < 0 ||
	    get_opt_u64(m, obj, "quic_ok_flows", &have, &c->quic_ok) < 0)
		return -1;
	if (c->quic_flows > c->flows || c->quic_ok > c->quic_flows || c->quic_ok > c->n[V_OK])
		return bad(m, "QUIC counts do not fit the flows", NULL);
	return 0;
}

/* A domain as report.c keys it: already normalised, else the merged
 * report could not equal a single run. */
static int get_domain(struct mctx *m, jr_ref obj, const char **name, bool *is_addr)
{
	size_t len;
	jr_ref v = member(m, obj, "domain");
	if (v == JR_NONE || jr_str(m->d, v, name, &len) < 0 || len == 0 ||
	    len > REPORT_NAME_MAX)
		return bad(m, "missing or bad", "domain");
	char norm[REPORT_NAME_MAX + 1];
	bool cut;
	if (report_norm_name(*name, len, norm, &cut) != len || strcmp(norm, *name) != 0)
		return bad(m, "domain not in normalised form", NULL);
	return get_bool(m, obj, "domain_is_address", is_addr);
}

static int get_asn(struct mctx *m, jr_ref obj, uint32_t *asn, const char **org)
{
	uint64_t a;
	if (get_u64(m, obj, "asn", &a) < 0)
		return -1;
	if (a > UINT32_MAX)
		return bad(m, "asn out of range", NULL);
	*asn = (uint32_t)a;
	return get_text(m, obj, "as_org", ASN_ORG_MAX, org);
}

static jr_ref get_array(struct mctx *m, jr_ref obj, const char *key)
{
	jr_ref v = member(m, obj, key);
	if (jr_type(m->d, v) != JR_ARRAY || v == JR_NONE) {
		bad(m, "missing or not an array", key);
		return JR_NONE;
	}
	return v;
}

/* ---- sections --------------------------------------------------------------- */

static int merge_networks(struct mctx *m, jr_ref root, uint64_t *flows)
{
	jr_ref arr = get_array(m, root, "by_network");
	if (arr == JR_NONE)
		return -1;
	for (jr_ref e = jr_first(m->d, arr); e != JR_NONE; e = jr_next(m->d, e)) {
		uint32_t asn;
		const char *org;
		struct report_counts c;
		if (jr_type(m->d, e) != JR_OBJECT)
			return bad(m, "by_network: not an object", NULL);
		uint64_t scanner;
		bool have;
		if (get_asn(m, e, &asn, &org) < 0 || get_counts(m, e, &c) < 0 ||
		    get_opt_u64(m, e, "scanner_flows", &have, &scanner) < 0)
			return -1;
		if (c.flows > UINT64_MAX - *flows)
			return bad(m, "flow counts overflow", NULL);
		*flows += c.flows;
		if (report_merge_net(m->r, asn, org, &c, scanner) == -2)
			return bad(m, "counts too large", NULL);
	}
	return 0;
}

static int merge_names(struct mctx *m, jr_ref root)
{
	jr_ref arr = get_array(m, root, "by_domain");
	if (arr == JR_NONE)
		return -1;
	for (jr_ref e = jr_first(m->d, arr); e != JR_NONE; e = jr_next(m->d, e)) {
		const char *name, *cat;
		bool is_addr;
		struct report_counts c;
		if (jr_type(m->d, e) != JR_OBJECT)
			return bad(m, "by_domain: not an object", NULL);
		uint64_t reachable;
		bool have;
		if (get_domain(m, e, &name, &is_addr) < 0 || get_category(m, e, &cat) < 0 ||
		    get_counts(m, e, &c) < 0 ||
		    get_opt_u64(m, e, "reachable_flows", &have, &reachable) < 0)
			return -1;
		if (report_merge_name(m->r, name, is_addr, cat, &c, reachable) == -2)
			return bad(m, "counts too large", NULL);
	}
	return 0;
}

/* One first/last pair of times: both or neither, present exactly when
 * there were such flows, first <= last. */
static int get_span(struct mctx *m, jr_ref tl, const char *kfirst, const char *klast,
		    bool expected, uint64_t *first, uint64_t *last)
{
	bool h1, h2;
	if (get_opt_u64(m, tl, kfirst, &h1, first) < 0 ||
	    get_opt_u64(m, tl, klast, &h2, last) < 0)
		return -1;
	if (h1 != expected || h2 != expected || *first > *last)
		return bad(m, "timeline does not match the counts", kfirst);
	return 0;
}

static int get_buckets(struct mctx *m, jr_ref tl, const struct report_pair_raw *raw,
		       struct report_bucket **out, uint32_t *nb)
{
	jr_ref arr = get_array(m, tl, "buckets");
	if (arr == JR_NONE)
		return -1;
	size_t n = jr_count(m->d, arr);
	if (n > REPORT_MAX_BUCKETS)
		return bad(m, "too many buckets", NULL);
	*out = calloc(n + 1, sizeof(**out));
	if (!*out)
		return bad(m, "out of memory", NULL);
	uint64_t bucket_us = report_get_cfg(m->r)->bucket_us, sum = 0;
	*nb = 0;
	for (jr_ref e = jr_first(m->d, arr); e != JR_NONE; e = jr_next(m->d, e)) {
		struct report_bucket *b = &(*out)[*nb];
		if (jr_type(m->d, e) != JR_OBJECT || get_u64(m, e, "start_us", &b->start_us) < 0 ||
		    get_u64(m, e, "flows", &b->flows) < 0 || get_u64(m, e, "ok", &b->ok) < 0 ||
		    get_u64(m, e, "blocked", &b->blocked) < 0)
			return bad(m, "bad bucket", NULL);
		if (b->start_us % bucket_us || (*nb && b->start_us <= (*out)[*nb - 1].start_us))
			return bad(m, "buckets not aligned or not in order", NULL);
		if (b->ok > b->flows || b->blocked > b->flows - b->ok || b->flows > raw->c.flows - sum)
			return bad(m, "bucket counts do not match the flows", NULL);
		sum += b->flows;
		(*nb)++;
	}
	return 0;
}

static int merge_one_pair(struct mctx *m, jr_ref e)
{
	uint32_t asn;
	const char *org, *name, *cat;
	bool is_addr;
	struct report_pair_raw raw;
	memset(&raw, 0, sizeof(raw));
	if (jr_type(m->d, e) != JR_OBJECT)
		return bad(m, "by_domain_network: not an object", NULL);
	if (get_asn(m, e, &asn, &org) < 0 || get_domain(m, e, &name, &is_addr) < 0 ||
	    get_category(m, e, &cat) < 0 || get_counts(m, e, &raw.c) < 0)
		return -1;
	jr_ref tl = member(m, e, "timeline");
	if (jr_type(m->d, tl) != JR_OBJECT || tl == JR_NONE)
		return bad(m, "missing or not an object", "timeline");
	struct report_share s;
	report_counts_share(&raw.c, &s);
	if (get_span(m, tl, "first_ok_us", "last_ok_us", raw.c.n[V_OK] > 0, &raw.first_ok_us,
		     &raw.last_ok_us) < 0 ||
	    get_span(m, tl, "first_blocked_us", "last_blocked_us", s.anomalies > 0,
		     &raw.first_blocked_us, &raw.last_blocked_us) < 0)
		return -1;
	struct report_bucket *b = NULL;
	int rc = get_buckets(m, tl, &raw, &b, &raw.nb);
	if (rc == 0) {
		raw.b = b;
		if (report_merge_pair(m->r, asn, org, name, is_addr, cat, &raw) == -2)
			rc = bad(m, "counts too large", NULL);
	}
	free(b);
	return rc;
}

static int merge_pairs(struct mctx *m, jr_ref root)
{
	jr_ref arr = get_array(m, root, "by_domain_network");
	if (arr == JR_NONE)
		return -1;
	for (jr_ref e = jr_first(m->d, arr); e != JR_NONE; e = jr_next(m->d, e))
		if (merge_one_pair(m, e) < 0)
			return -1;
	return 0;
}

static int merge_categories(struct mctx *m, jr_ref root)
{
	jr_ref arr = member(m, root, "by_category");
	if (arr == JR_NONE)
		return m->failed ? -1 : 0; /* optional */
	if (jr_type(m->d, arr) != JR_ARRAY)
		return bad(m, "not an array", "by_category");
	for (jr_ref e = jr_first(m->d, arr); e != JR_NONE; e = jr_next(m->d, e)) {
		const char *code, *desc;
		uint64_t listed;
		if (jr_type(m->d, e) != JR_OBJECT || get_category(m, e, &code) < 0 ||
		    get_text(m, e, "description", 64, &desc) < 0 ||
		    get_u64(m, e, "listed", &listed) < 0)
			return bad(m, "bad by_category entry", NULL);
		if (!code[0])
			return bad(m, "by_category entry without a category", NULL);
		report_merge_category(m->r, code, desc, listed);
	}
	return 0;
}

static int merge_refused(struct mctx *m, jr_ref root, uint64_t flows_listed)
{
	jr_ref na = member(m, root, "not_attributed");
	uint64_t net, name, pair, bucket, flows;
	if (jr_type(m->d, na) != JR_OBJECT || na == JR_NONE)
		return bad(m, "missing or not an object", "not_attributed");
	if (get_u64(m, na, "network", &net) < 0 || get_u64(m, na, "domain", &name) < 0 ||
	    get_u64(m, na, "domain_network", &pair) < 0 || get_u64(m, na, "bucket", &bucket) < 0 ||
	    get_u64(m, root, "flows", &flows) < 0)
		return -1;
	if (net > UINT64_MAX - flows_listed || flows != flows_listed + net)
		return bad(m, "flows do not add up over by_network", NULL);
	if (report_merge_refused(m->r, net, name, pair, bucket) < 0)
		return bad(m, "counts too large", NULL);
	return 0;
}

/* The header: format, version and time bucket (the report is created
 * here when it does not exist yet). */
static int check_header(struct mctx *m, jr_ref root, struct report **r,
			const struct report_cfg *cfg)
{
	const char *fmt;
	uint64_t ver, bucket_us;
	if (jr_type(m->d, root) != JR_OBJECT)
		return bad(m, "not a JSON object", NULL);
	if (get_text(m, root, "format", 64, &fmt) < 0)
		return -1;
	if (strcmp(fmt, REPORT_FORMAT_NAME) != 0)
		return bad(m, "not a tamperscope report", fmt);
	if (get_u64(m, root, "format_version", &ver) < 0)
		return -1;
	if (ver != REPORT_FORMAT_VERSION)
		return bad(m, "unsupported format_version", NULL);
	if (get_u64(m, root, "time_bucket_us", &bucket_us) < 0)
		return -1;
	if (bucket_us == 0)
		return bad(m, "time_bucket_us is 0", NULL);
	if (!*r) {
		struct report_cfg c = *cfg;
		c.bucket_us = bucket_us;
		*r = report_new(&c);
		if (!*r)
			return bad(m, "out of memory", NULL);
	} else if (report_get_cfg(*r)->bucket_us != bucket_us) {
		return bad(m, "time buckets differ between inputs", NULL);
	}
	m->r = *r;
	return 0;
}

int report_merge_text(struct report **r, const struct report_cfg *cfg, const char *text,
		      size_t len, char *err, size_t errlen)
{
	struct jr_doc *d = jr_parse(text, len, err, errlen);
	if (!d)
		return -1;
	struct mctx m = { .d = d, .err = err, .errlen = errlen };
	jr_ref root = jr_root(d);
	uint64_t flows = 0;
	int rc = -1;
	/* categories first: the names' categories refer to them */
	if (check_header(&m, root, r, cfg) == 0 && merge_categories(&m, root) == 0 &&
	    merge_networks(&m, root, &flows) == 0 && merge_refused(&m, root, flows) == 0 &&
	    merge_names(&m, root) == 0 && merge_pairs(&m, root) == 0)
		rc = 0;
	jr_free(d);
	return rc;
}

/* ---- files ---------------------------------------------------------------- */

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	if (!f) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	/* jr_parse refuses more than JR_MAX_INPUT bytes: no use reading them */
	switch (slurp_file(f, (size_t)JR_MAX_INPUT + 1, &buf, len)) {
	case SLURP_OK:
		break;
	case SLURP_TOO_BIG:
		snprintf(err, errlen, "larger than %u MiB", JR_MAX_INPUT >> 20);
		break;
	case SLURP_NO_MEMORY:
		snprintf(err, errlen, "out of memory");
		break;
	case SLURP_READ_ERROR:
		snprintf(err, errlen, "%s", strerror(errno));
		break;
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

int report_merge_file(struct report **r, const struct report_cfg *cfg, const char *path,
		      char *err, size_t errlen)
{
	size_t len;
	char why[256] = "";
	char *text = read_all(path, &len, why, sizeof(why));
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	int rc = report_merge_text(r, cfg, text, len, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void merge_usage(FILE *out)
{
	fprintf(out,
		"Usage: tamperscope merge REPORT.json... [options]\n"
		"Combine JSON reports (--report-json) of several sensors or files into one;\n"
		"conclusions are recomputed from the summed counts.\n"
		"\n"
		"      --report-json FILE  write the merged JSON report (\"-\" = stdout)\n"
		"      --report-csv FILE   write the merged CSV report (\"-\" = stdout)\n"
		"      --html FILE         write the merged report as one HTML page\n"
		"      --min-flows N       flows needed before a name is called blocked (3)\n"
		"      --test-list FILE    Citizen Lab CSV: categories (else the inputs')\n"
		"  -q, --quiet             no text summary on stdout\n"
		"  -h, --help              this help\n");
}

static void tl_bad(void *arg, unsigned long line, const char *why)
{
	fprintf(stderr, "tamperscope merge: %s:%lu: %s (line skipped)\n", (const char *)arg,
		line, why);
}

struct merge_opts {
	const char *json, *csv, *testlist, *html;
	int quiet;
	struct report_cfg cfg;
};

static int parse_merge_opts(int argc, char **argv, struct merge_opts *o)
{
	static const struct option longopts[] = {
		{ "report-json", required_argument, NULL, 'j' },
		{ "report-csv", required_argument, NULL, 'c' },
		{ "html", required_argument, NULL, 'H' },
		{ "min-flows", required_argument, NULL, 'm' },
		{ "test-list", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	optind = 0; /* glibc: restart scanning from argv[1] */
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;
		switch (c) {
		case 'j': o->json = optarg; break;
		case 'c': o->csv = optarg; break;
		case 'H': o->html = optarg; break;
		case 't': o->testlist = optarg; break;
		case 'q': o->quiet = 1; break;
		case 'm':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || optarg[0] == '-' || v < 1 ||
			    v > 1000000) {
				fprintf(stderr, "tamperscope merge: --min-flows: a number "
					"from 1 to 1000000\n");
				return 2;
			}
			o->cfg.min_flows = (uint32_t)v;
			break;
		case 'h':
			merge_usage(stdout);
			return -1;
		default:
			merge_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tamperscope merge: no report to merge\n");
		merge_usage(stderr);
		return 2;
	}
	return 0;
}

static int write_outputs(struct report *r, const struct merge_opts *o)
{
	char err[512];
	if (o->json && out_report_write_json(r, o->json, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope merge: %s\n", err);
		return 1;
	}
	if (o->csv && out_report_write_csv(r, o->csv, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope merge: %s\n", err);
		return 1;
	}
	struct out_html_extra hx = { NULL, NULL, "merged reports" };
	if (o->html && out_html_write(r, &hx, o->html, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope merge: %s\n", err);
		return 1;
	}
	bool json_on_stdout = o->json && strcmp(o->json, "-") == 0;
	bool csv_on_stdout = o->csv && strcmp(o->csv, "-") == 0;
	if (!o->quiet && !json_on_stdout && !csv_on_stdout)
		out_report_text(r, stdout);
	return 0;
}

int report_merge_main(int argc, char **argv)
{
	struct merge_opts o;
	memset(&o, 0, sizeof(o));
	report_cfg_default(&o.cfg);
	int rc = parse_merge_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;

	char err[768];
	struct testlist *tl = NULL;
	if (o.testlist) {
		tl = testlist_new(NULL);
		if (!tl || testlist_load_file(tl, o.testlist, tl_bad, (void *)o.testlist, err,
					      sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope merge: %s\n", tl ? err : "out of memory");
			testlist_free(tl);
			return 1;
		}
		o.cfg.testlist = tl;
	}
	struct report *r = NULL;
	rc = 0;
	for (int i = optind; i < argc && rc == 0; i++) {
		if (report_merge_file(&r, &o.cfg, argv[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope merge: %s\n", err);
			rc = 1;
		}
	}
	if (rc == 0 && report_finalize(r) < 0) {
		fprintf(stderr, "tamperscope merge: out of memory\n");
		rc = 1;
	}
	if (rc == 0)
		rc = write_outputs(r, &o);
	report_free(r);
	testlist_free(tl);
	return rc;
}
