/* out_report.c - report outputs: aligned text tables, JSON (merge format), CSV. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certstats.h"
#include "icptfind.h"
#include "out_html.h"
#include "out_cert.h"
#include "out_report.h"
#include "recorder.h"
#include "tls.h"
#include "util.h"

/* ---- shared ------------------------------------------------------------ */

static bool pair_first_last(const struct report_pair *p, bool blocked, uint64_t *first,
			    uint64_t *last)
{
	struct report_share s;
	report_counts_share(&p->c, &s);
	if (blocked ? !s.anomalies : !p->c.n[V_OK])
		return false;
	*first = blocked ? p->first_blocked_us : p->first_ok_us;
	*last = blocked ? p->last_blocked_us : p->last_ok_us;
	return true;
}

/* ---- text ----------------------------------------------------------------- */

/* Display width of UTF-8 text: code points (the org names are the only
 * non-ASCII text, and wide CJK glyphs are rare enough to ignore). */
static size_t text_width(const char *s, size_t *bytes_for, size_t max)
{
	size_t w = 0, i = 0;
	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (w == max)
			break;
		w++;
	}
	if (bytes_for)
		*bytes_for = i;
	return w;
}

/* One cell: cut to width (at a code point boundary), padded. */
static void cell(FILE *out, const char *s, size_t width, bool right)
{
	size_t bytes;
	size_t w = text_width(s, &bytes, width);
	if (right)
		fprintf(out, "%*s", (int)(width - w), "");
	fwrite(s, 1, bytes, out);
	if (!right)
		fprintf(out, "%*s", (int)(width - w), "");
}

static void cell_u64(FILE *out, uint64_t v, size_t width)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	cell(out, b, width, true);
}

static void short_time(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

#define ORG_WIDTH_MAX 32
#define NAME_WIDTH_MAX 48

static void text_networks(const struct report *r, FILE *out)
{
	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	size_t ow = strlen("organisation");
	for (size_t i = 0; i < n; i++)
		ow = max_sz(ow, text_width(nets[i]->org, NULL, ORG_WIDTH_MAX));

	fputs("Networks\n", out);
	cell(out, "network", 10, false);
	fputc(' ', out);
	cell(out, "organisation", ow, false);
	fputs("    flows       ok anomalies  share  dominant failure            domains  blocked\n",
	      out);
	for (size_t i = 0; i < n; i++) {
		const struct report_net *net = nets[i];
		struct report_share s;
		report_counts_share(&net->c, &s);
		char asn[16], dom[48];
		snprintf(asn, sizeof(asn), "AS%" PRIu32, net->asn);
		cell(out, asn, 10, false);
		fputc(' ', out);
		cell(out, net->org, ow, false);
		fputc(' ', out);
		cell_u64(out, net->c.flows, 8);
		fputc(' ', out);
		cell_u64(out, net->c.n[V_OK], 8);
		fputc(' ', out);
		cell_u64(out, s.anomalies, 9);
		fprintf(out, " %5.1f%%  ", 100.0 * s.anomaly_share);
		if (s.dominant < V__COUNT)
			snprintf(dom, sizeof(dom), "%s (%.0f%%)", verdict_name(s.dominant),
				 100.0 * s.dominant_share);
		else
			snprintf(dom, sizeof(dom), "-");
		cell(out, dom, 27, false);
		fputc(' ', out);
		cell_u64(out, net->names, 7);
		fputc(' ', out);
		cell_u64(out, net->blocked_names, 8);
		fputc('\n', out);
	}
	if (n == 0)
		fputs("  (no flows)\n", out);
}

static void text_blocked_row(FILE *out, const struct report_pair *p, size_t nw, size_t cw)
{
	uint64_t first, last, onset;
	char t0[32] = "-", t1[32] = "-", t2[32] = "-";
	if (pair_first_last(p, true, &first, &last)) {
		short_time(first, t0, sizeof(t0));
		short_time(last, t1, sizeof(t1));
	}
	if (report_pair_onset(p, &onset))
		short_time(onset, t2, sizeof(t2));
	struct report_share s;
	report_counts_share(&p->c, &s);
	fputs("  ", out);
	cell(out, p->name->name, nw, false);
	fputc(' ', out);
	cell(out, p->name->category[0] ? p->name->category : "-", cw, false);
	fputc(' ', out);
	cell_u64(out, p->c.flows, 6);
	fputc(' ', out);
	cell_u64(out, s.anomalies, 9);
	fputc(' ', out);
	cell(out, verdict_name(p->concl.method), 12, false);
	fprintf(out, " %10.2f  ", p->concl.confidence);
	cell(out, t0, 19, false);
	fputs("  ", out);
	cell(out, t1, 19, false);
	fputs("  ", out);
	fputs(t2, out);
	fputc('\n', out);
	if (p->c.mitm_dns || p->c.mitm_interception)
		fprintf(out, "    forged or untrusted certificates: %" PRIu64 " by DNS manipulation (the address "
			"came from an answer other networks are not given), %" PRIu64 " by interception "
			"(the genuine address)\n", p->c.mitm_dns, p->c.mitm_interception);
	if (p->concl.quic_only)
		fprintf(out, "    QUIC blocked; TLS over TCP to the same name works here (%" PRIu64
			" ok flows)\n", p->concl.tcp_ok);
	else if (p->concl.method2 < V__COUNT)
		fprintf(out, "    blocked over TLS/TCP (%s) and QUIC (%s)\n", verdict_name(p->concl.method),
			verdict_name(p->concl.method2));
	if (p->concl.dns_cross_network)
		fprintf(out, "    DNS errors here while the name resolves on other networks\n");
}

static int cmp_conf(const void *x, const void *y)
{
	const struct report_pair *a = *(const struct report_pair *const *)x;
	const struct report_pair *b = *(const struct report_pair *const *)y;
	if (a->concl.confidence != b->concl.confidence)
		return a->concl.confidence > b->concl.confidence ? -1 : 1;
	return strcmp(a->name->name, b->name->name);
}

/* The blocked pairs of the network starting at pairs[i] (sorted by ASN),
 * by confidence.  Returns the index after the network's pairs. */
static size_t text_one_network(FILE *out, struct report_pair *const *pairs, size_t n,
			       size_t i, const struct report_pair **tmp)
{
	const struct report_net *net = pairs[i]->net;
	size_t nb = 0, inconclusive = 0, nw = strlen("domain"), cw = strlen("category");
	for (; i < n && pairs[i]->net == net; i++) {
		if (pairs[i]->concl.status == RS_INCONCLUSIVE)
			inconclusive++;
		if (pairs[i]->concl.status != RS_BLOCKED)
			continue;
		tmp[nb++] = pairs[i];
		nw = max_sz(nw, text_width(pairs[i]->name->name, NULL, NAME_WIDTH_MAX));
		cw = max_sz(cw, strlen(pairs[i]->name->category));
	}
	if (nb == 0 && inconclusive == 0)
		return i;
	fprintf(out, "\nAS%" PRIu32 " %s: %zu blocked", net->asn, net->org, nb);
	if (inconclusive)
		fprintf(out, ", %zu inconclusive", inconclusive);
	fputc('\n', out);
	if (nb == 0)
		return i;
	qsort(tmp, nb, sizeof(*tmp), cmp_conf);
	fputs("  ", out);
	cell(out, "domain", nw, false);
	fputc(' ', out);
	cell(out, "category", cw, false);
	fputs("  flows anomalies method       confidence  first blocked        "
	      "last blocked         onset\n", out);
	for (size_t k = 0; k < nb; k++)
		text_blocked_row(out, tmp[k], nw, cw);
	return i;
}

static void text_blocked(const struct report *r, FILE *out)
{
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	fprintf(out, "\nBlocked domains per network (at least %" PRIu32 " flows; "
		"confidence = anomaly share x consistency x n/(n+2) x cross-network)\n",
		report_get_cfg(r)->min_flows);
	const struct report_pair **tmp = malloc((n + 1) * sizeof(*tmp));
	if (!tmp)
		return;
	size_t shown = 0;
	for (size_t i = 0; i < n;) {
		size_t next = text_one_network(out, pairs, n, i, tmp);
		for (size_t k = i; k < next; k++)
			shown += pairs[k]->concl.status == RS_BLOCKED;
		i = next;
	}
	if (shown == 0)
		fputs("  (no domain is blocked on any network)\n", out);
	free(tmp);
}

static void text_categories(const struct report *r, FILE *out)
{
	size_t n;
	const struct report_category *c = report_categories(r, &n);
	if (n == 0)
		return;
	fputs("\nCategories (test list)\n", out);
	fputs("category  listed    seen  blocked  blocked pairs     flows  anomalies  description\n",
	      out);
	/* the number columns' widths, as the header above spaces them */
	enum { NUM_COLS = 6 };
	static const size_t width[NUM_COLS] = { 7, 7, 8, 14, 9, 10 };
	for (size_t i = 0; i < n; i++) {
		const uint64_t v[NUM_COLS] = { c[i].listed, c[i].domains_seen, c[i].domains_blocked,
					       c[i].pairs_blocked, c[i].flows, c[i].anomalies };
		cell(out, c[i].code, 8, false);
		for (size_t k = 0; k < NUM_COLS; k++) {
			fputc(' ', out);
			cell_u64(out, v[k], width[k]);
		}
		fprintf(out, "  %s\n", c[i].desc);
	}
}

void out_report_text(const struct report *r, FILE *out)
{
	text_networks(r, out);
	text_blocked(r, out);
	text_categories(r, out);
	const struct report_stats *st = report_stats(r);
	uint64_t refused = st->refused_net + st->refused_name + st->refused_pair;
	if (refused || st->refused_bucket)
		fprintf(out, "\nreport memory cap: %" PRIu64 " flows not attributed, %" PRIu64
			" bucket updates dropped\n", refused, st->refused_bucket);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_time(struct json *j, const char *key, const char *key_us, bool have,
		      uint64_t us)
{
	char buf[40];
	if (!have) {
		json_null(j, key);
		json_null(j, key_us);
		return;
	}
	json_str(j, key, ts_format_time(us, buf, sizeof(buf)));
	json_uint(j, key_us, us);
}

static void json_counts(struct json *j, const struct report_counts *c)
{
	struct report_share s;
	report_counts_share(c, &s);
	json_uint(j, "flows", c->flows);
	json_obj_open(j, "verdicts");
	for (int v = 0; v < V__COUNT; v++)
		if (c->n[v])
			json_uint(j, verdict_name((enum verdict)v), c->n[v]);
	json_obj_close(j);
	json_uint(j, "measured", s.measured);
	json_uint(j, "anomalies", s.anomalies);
	json_double(j, "anomaly_share", s.anomaly_share, 4);
	if (s.dominant < V__COUNT) {
		json_str(j, "dominant_failure", verdict_name(s.dominant));
		json_double(j, "dominant_failure_share", s.dominant_share, 4);
	} else {
		json_null(j, "dominant_failure");
		json_null(j, "dominant_failure_share");
	}
	if (c->injected)
		json_uint(j, "injected_flows", c->injected);
	if (c->mitm_dns)
		json_uint(j, "mitm_dns_manipulation", c->mitm_dns);
	if (c->mitm_interception)
		json_uint(j, "mitm_interception", c->mitm_interception);
	if (c->quic_flows) {
		json_uint(j, "quic_flows", c->quic_flows);
		json_uint(j, "quic_ok_flows", c->quic_ok);
	}
}

static void json_category(struct json *j, const char *cat)
{
	if (cat[0])
		json_str(j, "category", cat);
	else
		json_null(j, "category");
}

static void json_networks(const struct report *r, struct json *j)
{
	size_t n;
	struct report_net *const *nets = report_nets(r, &n);
	json_arr_open(j, "by_network");
	for (size_t i = 0; i < n; i++) {
		json_obj_open(j, NULL);
		json_uint(j, "asn", nets[i]->asn);
		json_str(j, "as_org", nets[i]->org);
		json_counts(j, &nets[i]->c);
		if (nets[i]->scanner_flows)
			json_uint(j, "scanner_flows", nets[i]->scanner_flows);
		json_uint(j, "domains", nets[i]->names);
		json_uint(j, "blocked_domains", nets[i]->blocked_names);
		json_obj_close(j);
	}
	json_arr_close(j);
}

static void json_conclusion(struct json *j, const struct report_conclusion *k)
{
	json_obj_open(j, "conclusion");
	json_str(j, "status", report_status_name(k->status));
	json_bool(j, "blocked", k->status == RS_BLOCKED);
	if (k->method < V__COUNT)
		json_str(j, "method", verdict_name(k->method));
	else
		json_null(j, "method");
	json_double(j, "confidence", k->confidence, 4);
	json_double(j, "consistency", k->consistency, 4);
	json_double(j, "sample_factor", k->sample, 4);
	json_str(j, "cross_network", report_cross_name(k->cross_kind));
	json_double(j, "cross_factor", k->cross, 4);
	if (k->quic_only || k->method2 < V__COUNT) {
		json_arr_open(j, "methods");
		json_str(j, NULL, verdict_name(k->method));
		if (k->method2 < V__COUNT)
			json_str(j, NULL, verdict_name(k->method2));
		json_arr_close(j);
		json_uint(j, "tcp_ok_flows", k->tcp_ok);
	}
	if (k->method < V__COUNT && report_method_needs_corroboration(k->method)) {
		json_arr_open(j, "corroboration");
		for (unsigned bit = RC_REACHABLE; bit <= RC_TEST_LIST; bit <<= 1)
			if (k->corroboration & bit)
				json_str(j, NULL, report_corroboration_name(bit));
		json_arr_close(j);
		if (k->uncorroborated)
			json_bool(j, "uncorroborated", true);
	}
	if (k->dns_cross_network)
		json_bool(j, "dns_cross_network", true);
	json_obj_close(j);
}

static void json_timeline(struct json *j, const struct report_pair *p)
{
	uint64_t first = 0, last = 0, onset = 0;
	bool have;
	json_obj_open(j, "timeline");
	have = pair_first_last(p, false, &first, &last);
	json_time(j, "first_ok", "first_ok_us", have, first);
	json_time(j, "last_ok", "last_ok_us", have, last);
	have = pair_first_last(p, true, &first, &last);
	json_time(j, "first_blocked", "first_blocked_us", have, first);
	json_time(j, "last_blocked", "last_blocked_us", have, last);
	have = report_pair_onset(p, &onset);
	json_time(j, "onset", "onset_us", have, onset);
	json_arr_open(j, "buckets");
	for (uint32_t i = 0; i < p->nb; i++) {
		char buf[40];
		json_obj_open(j, NULL);
		json_str(j, "start", ts_format_time(p->b[i].start_us, buf, sizeof(buf)));
		json_uint(j, "start_us", p->b[i].start_us);
		json_uint(j, "flows", p->b[i].flows);
		json_uint(j, "ok", p->b[i].ok);
		json_uint(j, "blocked", p->b[i].blocked);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static void json_pairs(const struct report *r, struct json *j)
{
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	json_arr_open(j, "by_domain_network");
	for (size_t i = 0; i < n; i++) {
		const struct report_pair *p = pairs[i];
		json_obj_open(j, NULL);
		json_uint(j, "asn", p->net->asn);
		json_str(j, "as_org", p->net->org);
		json_str(j, "domain", p->name->name);
		json_bool(j, "domain_is_address", p->name->is_addr);
		json_category(j, p->name->category);
		json_counts(j, &p->c);
		json_conclusion(j, &p->concl);
		json_timeline(j, p);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* The order of report_names: names first, then addresses, each by text. */
static int name_order(const struct report_name *a, const struct report_name *b)
{
	if (a == b)
		return 0;
	if (a->is_addr != b->is_addr)
		return a->is_addr ? 1 : -1;
	return strcmp(a->name, b->name);
}

static int cmp_name_asn(const void *x, const void *y)
{
	const struct report_pair *a = *(const struct report_pair *const *)x;
	const struct report_pair *b = *(const struct report_pair *const *)y;
	int c = name_order(a->name, b->name);
	if (c)
		return c;
	return a->net->asn < b->net->asn ? -1 : a->net->asn > b->net->asn;
}

/* by_domain, with each name's blocked networks: the pairs re-sorted by
 * name (in the name list's order) then ASN are walked alongside. */
static void json_names(const struct report *r, struct json *j)
{
	size_t n, np;
	struct report_name *const *names = report_names(r, &n);
	struct report_pair *const *pairs = report_pairs(r, &np);
	const struct report_pair **by_name = malloc((np + 1) * sizeof(*by_name));
	if (!by_name) {
		j->oom = 1;
		return;
	}
	memcpy(by_name, pairs, np * sizeof(*by_name));
	qsort(by_name, np, sizeof(*by_name), cmp_name_asn);
	json_arr_open(j, "by_domain");
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct report_name *nm = names[i];
		json_obj_open(j, NULL);
		json_str(j, "domain", nm->name);
		json_bool(j, "domain_is_address", nm->is_addr);
		json_category(j, nm->category);
		json_counts(j, &nm->c);
		if (nm->reachable)
			json_uint(j, "reachable_flows", nm->reachable);
		json_uint(j, "networks", nm->networks);
		json_arr_open(j, "blocked_networks");
		while (k < np && name_order(by_name[k]->name, nm) < 0)
			k++;
		for (; k < np && by_name[k]->name == nm; k++)
			if (by_name[k]->concl.status == RS_BLOCKED)
				json_uint(j, NULL, by_name[k]->net->asn);
		json_arr_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
	free(by_name);
}

static void json_categories(const struct report *r, struct json *j)
{
	size_t n;
	const struct report_category *c = report_categories(r, &n);
	json_arr_open(j, "by_category");
	for (size_t i = 0; i < n; i++) {
		json_obj_open(j, NULL);
		json_str(j, "category", c[i].code);
		json_str(j, "description", c[i].desc);
		json_uint(j, "listed", c[i].listed);
		json_uint(j, "domains_seen", c[i].domains_seen);
		json_uint(j, "domains_blocked", c[i].domains_blocked);
		json_uint(j, "blocked_pairs", c[i].pairs_blocked);
		json_uint(j, "flows", c[i].flows);
		json_uint(j, "anomalies", c[i].anomalies);
		json_obj_close(j);
	}
	json_arr_close(j);
}

void out_report_json(const struct report *r, struct json *j)
{
	const struct report_cfg *cfg = report_get_cfg(r);
	const struct report_stats *st = report_stats(r);
	json_obj_open(j, NULL);
	json_str(j, "format", REPORT_FORMAT_NAME);
	json_int(j, "format_version", REPORT_FORMAT_VERSION);
	json_uint(j, "time_bucket_us", cfg->bucket_us);
	json_uint(j, "min_flows", cfg->min_flows);
	json_uint(j, "flows", st->flows);
	json_obj_open(j, "not_attributed");
	json_uint(j, "network", st->refused_net);
	json_uint(j, "domain", st->refused_name);
	json_uint(j, "domain_network", st->refused_pair);
	json_uint(j, "bucket", st->refused_bucket);
	json_obj_close(j);
	json_networks(r, j);
	json_pairs(r, j);
	json_names(r, j);
	json_categories(r, j);
	if (cfg->extra_json)
		cfg->extra_json(cfg->extra_arg, j);
	json_obj_close(j);
}

/* ---- CSV ------------------------------------------------------------------ */

/* RFC 4180 field.  A leading = + @ or control character is prefixed with
 * an apostrophe so a spreadsheet does not evaluate a hostile name. */
static void csv_field(FILE *out, const char *s, bool last)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	bool guard = s[0] == '=' || s[0] == '+' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
	if (quote)
		fputc('"', out);
	if (guard)
		fputc('\'', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	if (quote)
		fputc('"', out);
	fputc(last ? '\n' : ',', out);
}

static void csv_u64(FILE *out, uint64_t v)
{
	fprintf(out, "%" PRIu64 ",", v);
}

static void csv_time(FILE *out, bool have, uint64_t us, bool last)
{
	char buf[40] = "";
	if (have)
		ts_format_time(us, buf, sizeof(buf));
	csv_field(out, buf, last);
}

void out_report_csv(const struct report *r, FILE *out)
{
	/* The verdicts of other transports come last, after the columns the
	 * first format had, so scripts reading columns by place keep working. */
	fputs("asn,as_org,domain,domain_is_address,category,flows,", out);
	for (int v = 0; v <= V_NOT_TLS; v++)
		fprintf(out, "%s,", verdict_name((enum verdict)v));
	fputs("measured,anomalies,anomaly_share,dominant_failure,dominant_failure_share,"
	      "status,blocked,method,confidence,cross_network,first_ok,last_ok,"
	      "first_blocked,last_blocked,onset", out);
	for (int v = V_NOT_TLS + 1; v < V__COUNT; v++)
		fprintf(out, ",%s", verdict_name((enum verdict)v));
	fputc('\n', out);
	size_t n;
	struct report_pair *const *pairs = report_pairs(r, &n);
	for (size_t i = 0; i < n; i++) {
		const struct report_pair *p = pairs[i];
		struct report_share s;
		report_counts_share(&p->c, &s);
		fprintf(out, "%" PRIu32 ",", p->net->asn);
		csv_field(out, p->net->org, false);
		csv_field(out, p->name->name, false);
		fputs(p->name->is_addr ? "true," : "false,", out);
		csv_field(out, p->name->category, false);
		csv_u64(out, p->c.flows);
		for (int v = 0; v <= V_NOT_TLS; v++)
			csv_u64(out, p->c.n[v]);
		csv_u64(out, s.measured);
		csv_u64(out, s.anomalies);
		fprintf(out, "%.4f,%s,", s.anomaly_share,
			s.dominant < V__COUNT ? verdict_name(s.dominant) : "");
		if (s.dominant < V__COUNT)
			fprintf(out, "%.4f,", s.dominant_share);
		else
			fputc(',', out);
		fprintf(out, "%s,%s,%s,%.4f,%s,", report_status_name(p->concl.status),
			p->concl.status == RS_BLOCKED ? "true" : "false",
			p->concl.method < V__COUNT ? verdict_name(p->concl.method) : "",
			p->concl.confidence, report_cross_name(p->concl.cross_kind));
		uint64_t first = 0, last = 0, onset = 0;
		bool have = pair_first_last(p, false, &first, &last);
		csv_time(out, have, first, false);
		csv_time(out, have, last, false);
		have = pair_first_last(p, true, &first, &last);
		csv_time(out, have, first, false);
		csv_time(out, have, last, false);
		have = report_pair_onset(p, &onset);
		csv_time(out, have, onset, V_NOT_TLS + 1 == V__COUNT);
		for (int v = V_NOT_TLS + 1; v < V__COUNT; v++)
			fprintf(out, "%" PRIu64 "%s", p->c.n[v], v + 1 < V__COUNT ? "," : "\n");
	}
}

/* ---- files -------------------------------------------------------------- */

static FILE *open_out(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *path, char *err, size_t errlen)
{
	int bad = ferror(f);
	if (f == stdout)
		bad |= fflush(f) != 0;
	else
		bad |= fclose(f) != 0;
	if (bad) {
		snprintf(err, errlen, "%s: write error: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int out_report_write_json(const struct report *r, const char *path, char *err,
			  size_t errlen)
{
	struct json j;
	json_init(&j);
	out_report_json(r, &j);
	if (j.oom) {
		json_free(&j);
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	FILE *f = open_out(path, err, errlen);
	if (!f) {
		json_free(&j);
		return -1;
	}
	fwrite(j.buf, 1, j.len, f);
	fputc('\n', f);
	json_free(&j);
	return close_out(f, path, err, errlen);
}

int out_report_write_csv(const struct report *r, const char *path, char *err,
			 size_t errlen)
{
	FILE *f = open_out(path, err, errlen);
	if (!f)
		return -1;
	out_report_csv(r, f);
	return close_out(f, path, err, errlen);
}

/* ---- the sink -------------------------------------------------------------- */

struct report_sink {
	struct report *r;
	struct out_report_opts o;
	const struct certstats *cs;    /* the run's conclusions, from finish on */
	struct icptfind *icpt;         /* --html: the forged chains seen */
};

void out_report_flow_of(const struct flow_record *rec, struct report_flow *out)
{
	struct report_flow rf = {
		.ts_us = rec->first_us,
		.verdict = rec->vr.verdict,
		.client_asn = rec->client_as.asn,
		.client_org = rec->client_as.org,
		.server = &rec->srv,
		.server_port = rec->sport,
		.scanner = rec->vr.scanner,
		.injected = rec->vr.injected,
		.reachable = rec->reachable,
		.mitm_cause = rec->vr.dns_origin,
		.quic = rec->quic != NULL,
	};
	/* the SNI (TLS or QUIC), else the HTTP Host, the DNS question, the name resolved */
	rf.sni = record_name(rec, &rf.sni_len);
	*out = rf;
}

static void on_flow(void *ctx, const struct flow_record *rec)
{
	struct report_sink *rs = ctx;
	struct report_flow rf;
	out_report_flow_of(rec, &rf);
	report_add(rs->r, &rf);
	if (rs->icpt)
		icptfind_add(rs->icpt, rec);
}

/* The JSON report's cert_consistency member: the concluded pairs; empty
 * before the end of the run. */
static void cert_json(void *arg, struct json *j)
{
	const struct report_sink *rs = arg;
	if (!rs->o.certs)
		return;
	if (rs->cs) {
		out_cert_consistency_array(j, "cert_consistency", rs->cs);
	} else {
		json_arr_open(j, "cert_consistency");
		json_arr_close(j);
	}
}

static int write_all(struct report_sink *rs)
{
	char err[512];
	int rc = 0;
	if (report_finalize(rs->r) < 0)
		fprintf(stderr, "tamperscope: report: out of memory while concluding\n");
	if (rs->o.text)
		out_report_text(rs->r, rs->o.text);
	if (rs->o.json_path && out_report_write_json(rs->r, rs->o.json_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		rc = -1;
	}
	if (rs->o.csv_path && out_report_write_csv(rs->r, rs->o.csv_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		rc = -1;
	}
	struct out_html_extra hx = { rs->icpt, rs->cs, NULL };
	if (rs->o.html_path && out_html_write(rs->r, &hx, rs->o.html_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		rc = -1;
	}
	return rc;
}

static void on_report(void *ctx)
{
	(void)write_all(ctx);
}

static void relabel(void *arg, const struct certstats_finding *fd)
{
	struct report *r = arg;
	if (fd->inconsistent && fd->flows_relabel)
		report_relabel(r, fd->asn, fd->sni, fd->sni_len, V_TLS_UNTRUSTED_CERT, V_TLS_MITM,
			       fd->flows_relabel);
}

static int on_finish(void *ctx, const struct run_end *end)
{
	struct report_sink *rs = ctx;
	rs->cs = end->certstats;
	if (rs->cs)
		certstats_foreach(rs->cs, true, relabel, rs->r);
	return write_all(rs);
}

static void on_free(void *ctx)
{
	struct report_sink *rs = ctx;
	report_free(rs->r);
	free(rs->icpt);
	free(rs);
}

static const struct sink_ops report_ops = {
	.name = "report",
	.flow = on_flow,
	.report = on_report,
	.finish = on_finish,
	.free = on_free,
};

struct sink out_report_sink(const struct report_cfg *cfg, const struct out_report_opts *o)
{
	struct report_sink *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return (struct sink){ &report_ops, NULL };
	struct report_cfg rc = *cfg;
	rc.extra_json = cert_json;
	rc.extra_arg = rs;
	rs->o = *o;
	rs->r = report_new(&rc);
	if (o->html_path)
		rs->icpt = calloc(1, sizeof(*rs->icpt));
	if (!rs->r || (o->html_path && !rs->icpt)) {
		report_free(rs->r);
		free(rs->icpt);
		free(rs);
		rs = NULL;
	}
	return (struct sink){ &report_ops, rs };
}
